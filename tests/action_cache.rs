//! The kernel's seccomp action cache (Linux 5.11+) on the filters the public API generates:
//! every syscall allowed without conditions must be one the kernel's load-time emulation
//! marks as always allowed (so its calls skip the filter), on every architecture, at both
//! optimize levels and with either default action; syscalls allowed only under argument
//! conditions, and everything denied, must not be.
//!
//! The check is `bpf::cacheable`, which follows the kernel's emulation rules; see its
//! documentation. (The kernel only caches its own native and compat architectures and never
//! x32; the check is made on every architecture because any of them may be the native one
//! of some kernel, and for x32 it still shows that the decision depends on the number alone.)

use pure_seccomp::bpf::{self, Instruction};
use pure_seccomp::ScmpSyscall;
use pure_seccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext};
use std::collections::BTreeSet;

mod common;
use common::audit_of;

/// Candidates for unconditional allow rules; each architecture gets the first
/// [`UNCONDITIONAL`] of them that it has.
const ALLOWED: &[&str] = &[
    "read",
    "write",
    "close",
    "exit_group",
    "exit",
    "getpid",
    "gettid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "brk",
    "munmap",
    "madvise",
    "dup",
    "dup3",
    "pipe2",
    "nanosleep",
    "clock_gettime",
    "clock_nanosleep",
    "sched_yield",
    "futex",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sigaltstack",
    "set_tid_address",
    "set_robust_list",
    "getrandom",
    "openat",
    "lseek",
    "readv",
    "writev",
    "getcwd",
    "uname",
    "tgkill",
    "wait4",
];

const UNCONDITIONAL: usize = 30;

/// `(name, condition)`: syscalls allowed only when an argument matches.
fn conditional() -> Vec<(&'static str, ScmpArgCompare)> {
    vec![
        (
            "ioctl",
            ScmpArgCompare::new(1, ScmpCompareOp::Equal, 0x5401),
        ),
        ("fcntl", ScmpArgCompare::new(1, ScmpCompareOp::Equal, 1)),
        ("prctl", ScmpArgCompare::new(0, ScmpCompareOp::Equal, 38)),
        (
            "mprotect",
            ScmpArgCompare::new(2, ScmpCompareOp::MaskedEqual(4), 0),
        ),
        ("kill", ScmpArgCompare::new(0, ScmpCompareOp::Greater, 1)),
    ]
}

/// The number of `name` on `arch`, if the architecture has the syscall.
fn nr_of(name: &str, arch: ScmpArch) -> Option<u32> {
    let nr = ScmpSyscall::from_name_by_arch(name, arch)
        .ok()?
        .as_raw_syscall();
    u32::try_from(nr).ok()
}

/// What a filter was built with, per architecture.
struct Rules {
    unconditional: BTreeSet<u32>,
    conditional: BTreeSet<u32>,
}

fn rules_for(arch: ScmpArch) -> Rules {
    let unconditional: BTreeSet<u32> = ALLOWED
        .iter()
        .filter_map(|n| nr_of(n, arch))
        .take(UNCONDITIONAL)
        .collect();
    assert_eq!(unconditional.len(), UNCONDITIONAL, "{arch:?}");
    let conditional: BTreeSet<u32> = conditional()
        .iter()
        .filter_map(|(n, _)| nr_of(n, arch))
        .collect();
    assert!(conditional.len() >= 4, "{arch:?}");
    assert!(unconditional.is_disjoint(&conditional));
    Rules {
        unconditional,
        conditional,
    }
}

/// A filter for exactly `arches`, with the rules of [`ALLOWED`] and [`conditional`].
fn build(arches: &[ScmpArch], default: ScmpAction, optimize: u32) -> ScmpFilterContext {
    let mut ctx = ScmpFilterContext::new(default).unwrap();
    if !arches.contains(&ScmpArch::native()) {
        ctx.remove_arch(ScmpArch::native()).unwrap();
    }
    for &a in arches {
        if a != ScmpArch::native() {
            ctx.add_arch(a).unwrap();
        }
    }
    ctx.set_ctl_optimize(optimize).unwrap();
    // Each architecture gets its own first `UNCONDITIONAL` names.
    let mut names = BTreeSet::new();
    for &a in arches {
        names.extend(
            ALLOWED
                .iter()
                .filter(|n| nr_of(n, a).is_some())
                .take(UNCONDITIONAL),
        );
    }
    // A native number stands for its name on every architecture of the filter (libseccomp's
    // translation), and a name an architecture lacks is dropped there.
    for name in names {
        ctx.add_rule(ScmpAction::Allow, ScmpSyscall::from_name(name).unwrap())
            .unwrap();
    }
    for (name, cmp) in conditional() {
        let sys = ScmpSyscall::from_name(name).unwrap();
        ctx.add_rule_conditional(ScmpAction::Allow, sys, &[cmp])
            .unwrap();
    }
    ctx
}

fn program(ctx: &ScmpFilterContext) -> Vec<Instruction> {
    let prog = bpf::decode(&ctx.export_bpf_mem().unwrap(), ctx.byte_order()).unwrap();
    bpf::validate(&prog).unwrap();
    prog
}

/// Checks one filter on one of its architectures; returns the failures.
fn check(prog: &[Instruction], arch: ScmpArch, rules: &Rules, what: &str) -> Vec<String> {
    let audit = audit_of(arch);
    let mut errs = Vec::new();
    for &nr in &rules.unconditional {
        if !bpf::cacheable(prog, audit, nr) {
            errs.push(format!(
                "{what}: {arch:?} nr {nr} allowed but not cacheable"
            ));
        }
    }
    for &nr in &rules.conditional {
        if bpf::cacheable(prog, audit, nr) {
            errs.push(format!(
                "{what}: {arch:?} nr {nr} allowed on a condition but cacheable"
            ));
        }
    }
    // Nothing else of the table is: the denied numbers are not cached.
    let all: BTreeSet<u32> = bpf::cacheable_set(prog, audit, bpf::syscall_range(arch))
        .into_iter()
        .collect();
    let extra: Vec<_> = all.difference(&rules.unconditional).collect();
    if !extra.is_empty() {
        errs.push(format!("{what}: {arch:?} also cacheable: {extra:?}"));
    }
    errs
}

fn report(errs: Vec<String>) {
    if !errs.is_empty() {
        let n = errs.len();
        let shown: Vec<_> = errs.into_iter().take(40).collect();
        panic!("{n} failures:\n{}", shown.join("\n"));
    }
}

#[test]
fn every_architecture_alone() {
    let mut errs = Vec::new();
    let mut count = 0;
    for arch in ScmpArch::all() {
        let rules = rules_for(arch);
        for default in [ScmpAction::Errno(1), ScmpAction::KillProcess] {
            for optimize in [1, 2] {
                let ctx = build(&[arch], default, optimize);
                let prog = program(&ctx);
                let what = format!("{default:?} optimize {optimize}");
                errs.extend(check(&prog, arch, &rules, &what));
                // Another architecture's calls are denied, so never cached.
                let other = if arch == ScmpArch::Aarch64 {
                    ScmpArch::Arm
                } else {
                    ScmpArch::Aarch64
                };
                if !bpf::cacheable_set(&prog, audit_of(other), 0..1024).is_empty() {
                    errs.push(format!("{what}: {arch:?} filter caches {other:?} calls"));
                }
                count += 1;
            }
        }
    }
    assert_eq!(count, 4 * ScmpArch::all().count());
    report(errs);
}

#[test]
fn multi_architecture_filters() {
    let mut errs = Vec::new();
    for set in common::arch_sets().into_iter().filter(|s| s.len() > 1) {
        for optimize in [1, 2] {
            let ctx = build(&set, ScmpAction::Errno(1), optimize);
            let prog = program(&ctx);
            for &arch in &set {
                // The numbers of this architecture's own names.
                let rules = Rules {
                    unconditional: ALLOWED
                        .iter()
                        .filter_map(|n| nr_of(n, arch))
                        .take(UNCONDITIONAL)
                        .collect(),
                    conditional: rules_for(arch).conditional,
                };
                let what = format!("{set:?} optimize {optimize}");
                // Names other architectures of the set brought in may be allowed here too,
                // so only the two lists are checked, not the whole table.
                let audit = audit_of(arch);
                for &nr in &rules.unconditional {
                    if !bpf::cacheable(&prog, audit, nr) {
                        errs.push(format!(
                            "{what}: {arch:?} nr {nr} allowed but not cacheable"
                        ));
                    }
                }
                for &nr in &rules.conditional {
                    if bpf::cacheable(&prog, audit, nr) {
                        errs.push(format!(
                            "{what}: {arch:?} nr {nr} conditional but cacheable"
                        ));
                    }
                }
            }
        }
    }
    report(errs);
}
