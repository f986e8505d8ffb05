//! Bad input, catalogued: a table of wrong calls across the public API. Each row names the
//! call, the error kind it must give (as the libseccomp crate 0.4.0 reports it: the
//! `SeccompErrno` of the C library's return code, or no kind where the crate builds its own
//! error), and checks that the filter is exactly as it was before: the same program bytes
//! (or the same export error), the same PFC text, attributes, architectures and optimizer
//! passes. Nothing may be half-added, and nothing may panic.
//!
//! A few rows are inputs that look wrong but that libseccomp accepts (removing an absent
//! architecture, a mask of zero): they state what happens instead.

use pure_seccomp::bpf::{self, BpfError, Instruction};
use pure_seccomp::error::{SeccompErrno, SeccompError};
use pure_seccomp::opt::Passes;
use pure_seccomp::*;
use std::str::FromStr;

mod common;
use common::pfc_text;

/// What a bad call must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// An error of this documented kind.
    Errno(SeccompErrno),
    /// An error that carries no errno kind (the libseccomp crate's own errors: a NULL from
    /// `seccomp_init`, a name that does not resolve, a string that does not parse).
    NoKind,
    /// Accepted, as libseccomp accepts it, without changing the filter.
    Unchanged,
}

/// Everything observable about a filter.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    bpf: Result<Vec<u8>, String>,
    pfc: Result<String, String>,
    attrs: Vec<Result<u32, String>>,
    arches: Vec<ScmpArch>,
    passes: Passes,
}

const ATTRS: &[ScmpFilterAttr] = &[
    ScmpFilterAttr::ActDefault,
    ScmpFilterAttr::ActBadArch,
    ScmpFilterAttr::CtlNnp,
    ScmpFilterAttr::CtlTsync,
    ScmpFilterAttr::ApiTskip,
    ScmpFilterAttr::CtlLog,
    ScmpFilterAttr::CtlSsb,
    ScmpFilterAttr::CtlOptimize,
    ScmpFilterAttr::ApiSysRawRc,
    ScmpFilterAttr::CtlWaitkill,
];

fn snapshot(ctx: &ScmpFilterContext) -> Snapshot {
    Snapshot {
        bpf: ctx.export_bpf_mem().map_err(|e| e.to_string()),
        pfc: pfc_text(ctx),
        attrs: ATTRS
            .iter()
            .map(|&a| ctx.get_filter_attr(a).map_err(|e| e.to_string()))
            .collect(),
        arches: ScmpArch::all()
            .filter(|&a| ctx.is_arch_present(a).unwrap())
            .collect(),
        passes: ctx.get_opt_passes(),
    }
}

fn sys(name: &str) -> ScmpSyscall {
    ScmpSyscall::from_name(name).unwrap()
}

/// An architecture other than the native one.
fn foreign() -> ScmpArch {
    if ScmpArch::native() == ScmpArch::Aarch64 {
        ScmpArch::X8664
    } else {
        ScmpArch::Aarch64
    }
}

fn only(arch: ScmpArch, default: ScmpAction) -> ScmpFilterContext {
    let mut ctx = ScmpFilterContext::new(default).unwrap();
    ctx.remove_arch(ScmpArch::native()).unwrap();
    ctx.add_arch(arch).unwrap();
    ctx
}

/// The usual starting point: an allow-list on x86_64 + x86 + x32 with a few rules,
/// argument conditions and a priority, at level 2.
fn base() -> ScmpFilterContext {
    let mut ctx = only(ScmpArch::X8664, ScmpAction::Errno(libc::EPERM));
    ctx.add_arch(ScmpArch::X86).unwrap();
    ctx.add_arch(ScmpArch::X32).unwrap();
    ctx.set_ctl_optimize(2).unwrap();
    for n in ["read", "write", "close", "exit_group"] {
        ctx.add_rule(ScmpAction::Allow, sys(n)).unwrap();
    }
    ctx.add_rule_conditional(
        ScmpAction::Allow,
        sys("ioctl"),
        &[scmp_cmp!($arg1 == 0x5401)],
    )
    .unwrap();
    ctx.add_rule_conditional(
        ScmpAction::KillProcess,
        sys("personality"),
        &[scmp_cmp!($arg0 != 0)],
    )
    .unwrap();
    ctx.set_syscall_priority(sys("read"), 200).unwrap();
    ctx
}

/// The same on x86_64 alone (for exact rules, which need a single architecture).
fn single() -> ScmpFilterContext {
    let mut ctx = only(ScmpArch::X8664, ScmpAction::Errno(libc::EPERM));
    ctx.add_rule(ScmpAction::Allow, sys("read")).unwrap();
    ctx.add_rule_conditional(ScmpAction::Allow, sys("write"), &[scmp_cmp!($arg0 <= 2)])
        .unwrap();
    ctx
}

/// x86 alone: socket calls are multiplexed through socketcall.
fn x86() -> ScmpFilterContext {
    let mut ctx = only(ScmpArch::X86, ScmpAction::Errno(libc::EPERM));
    ctx.add_rule(ScmpAction::Allow, sys("read")).unwrap();
    ctx
}

fn no_arch() -> ScmpFilterContext {
    let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    ctx.remove_arch(ScmpArch::native()).unwrap();
    ctx
}

/// 5000 conditional rules (5000 distinct values of `arg0` over 20 syscalls): more than the
/// 4096 instructions a program may have, at either level.
fn huge() -> ScmpFilterContext {
    let mut ctx = only(ScmpArch::X8664, ScmpAction::Allow);
    // Names every architecture has; numbers are given in native terms, as always.
    let names = [
        "read", "write", "close", "fstat", "lseek", "mmap", "mprotect", "munmap", "brk", "ioctl",
        "pread64", "pwrite64", "readv", "writev", "fcntl", "dup", "dup3", "getpid", "kill",
        "prctl",
    ];
    for i in 0..5000u64 {
        let s = sys(names[(i % 20) as usize]);
        ctx.add_rule_conditional(
            ScmpAction::Errno(1),
            s,
            &[scmp_cmp!($arg0 == i * 7919 % 100_003)],
        )
        .unwrap();
    }
    ctx
}

type Setup = fn() -> ScmpFilterContext;
type Bad = fn(&mut ScmpFilterContext) -> Result<(), SeccompError>;

/// One row: name, the filter it starts from, the bad call, what it must give.
struct Case(&'static str, Setup, Bad, Want);

fn cmp(arg: u32, op: ScmpCompareOp, datum: u64) -> ScmpArgCompare {
    ScmpArgCompare::new(arg, op, datum)
}

fn cases() -> Vec<Case> {
    use ScmpCompareOp::*;
    use SeccompErrno::*;
    use Want::*;
    vec![
        // --- syscall names and numbers -------------------------------------------------
        Case(
            "unknown syscall name",
            base,
            |c| {
                let s = ScmpSyscall::from_name("no_such_syscall")?;
                c.add_rule(ScmpAction::Allow, s).map(drop)
            },
            NoKind,
        ),
        Case(
            "empty syscall name",
            base,
            |c| {
                let s = ScmpSyscall::from_name("")?;
                c.add_rule(ScmpAction::Allow, s).map(drop)
            },
            NoKind,
        ),
        Case(
            "unknown syscall name on a given architecture",
            base,
            |c| {
                let s = ScmpSyscall::from_name_by_arch("no_such_syscall", ScmpArch::Aarch64)?;
                c.add_rule(ScmpAction::Allow, s).map(drop)
            },
            NoKind,
        ),
        Case(
            "syscall number out of range (1000000)",
            base,
            |c| c.add_rule(ScmpAction::Allow, 1_000_000).map(drop),
            Errno(EFAULT),
        ),
        Case(
            "syscall number 0x7fffffff",
            base,
            |c| c.add_rule(ScmpAction::Allow, i32::MAX).map(drop),
            Errno(EFAULT),
        ),
        Case(
            "reserved syscall number -5",
            base,
            |c| c.add_rule(ScmpAction::Allow, -5).map(drop),
            Errno(EINVAL),
        ),
        Case(
            "syscall -1 without api_tskip",
            base,
            |c| c.add_rule(ScmpAction::Allow, -1).map(drop),
            Errno(EINVAL),
        ),
        Case(
            "priority on a reserved syscall number",
            base,
            |c| c.set_syscall_priority(-7, 10).map(drop),
            Errno(EINVAL),
        ),
        Case(
            "priority on a number no architecture knows",
            base,
            |c| c.set_syscall_priority(1_000_000, 10).map(drop),
            Errno(EFAULT),
        ),
        // --- argument comparisons --------------------------------------------------------
        Case(
            "argument index 6",
            base,
            |c| {
                c.add_rule_conditional(ScmpAction::Allow, sys("openat"), &[cmp(6, Equal, 0)])
                    .map(drop)
            },
            Errno(EINVAL),
        ),
        Case(
            "argument index u32::MAX",
            base,
            |c| {
                c.add_rule_conditional(
                    ScmpAction::Allow,
                    sys("openat"),
                    &[cmp(u32::MAX, Equal, 0)],
                )
                .map(drop)
            },
            Errno(EINVAL),
        ),
        Case(
            "argument index 6 after a valid comparison",
            base,
            |c| {
                c.add_rule_conditional(
                    ScmpAction::Allow,
                    sys("openat"),
                    &[cmp(0, Equal, 1), cmp(6, Equal, 0)],
                )
                .map(drop)
            },
            Errno(EINVAL),
        ),
        Case(
            "two comparators on one argument",
            base,
            |c| {
                c.add_rule_conditional(
                    ScmpAction::Allow,
                    sys("mmap"),
                    &[cmp(2, GreaterEqual, 1), cmp(2, LessOrEqual, 7)],
                )
                .map(drop)
            },
            Errno(EINVAL),
        ),
        Case(
            "seven comparators",
            base,
            |c| {
                let cs: Vec<_> = (0..7).map(|i| cmp(i % 6, Equal, 0)).collect();
                c.add_rule_conditional(ScmpAction::Allow, sys("mmap"), &cs)
                    .map(drop)
            },
            Errno(EINVAL),
        ),
        Case(
            "two comparators on one argument, exact",
            single,
            |c| {
                c.add_rule_conditional_exact(
                    ScmpAction::Allow,
                    sys("mmap"),
                    &[cmp(1, Equal, 1), cmp(1, Equal, 2)],
                )
                .map(drop)
            },
            Errno(EINVAL),
        ),
        // --- actions ---------------------------------------------------------------------
        Case(
            "rule action equal to the default",
            base,
            |c| c.add_rule(ScmpAction::Errno(libc::EPERM), sys("mount")).map(drop),
            Errno(EACCES),
        ),
        Case(
            "conditional rule action equal to the default",
            base,
            |c| {
                c.add_rule_conditional(
                    ScmpAction::Errno(libc::EPERM),
                    sys("mount"),
                    &[cmp(0, Equal, 0)],
                )
                .map(drop)
            },
            Errno(EACCES),
        ),
        Case(
            "ERRNO 4095 (past MAX_ERRNO)",
            base,
            |c| c.add_rule(ScmpAction::Errno(4095), sys("mount")).map(drop),
            Errno(EINVAL),
        ),
        Case(
            "ERRNO -1 (0xffff as data)",
            base,
            |c| c.add_rule(ScmpAction::Errno(-1), sys("mount")).map(drop),
            Errno(EINVAL),
        ),
        Case(
            "a second unconditional rule with another action (libseccomp keeps the first, returns 0)",
            base,
            |c| c.add_rule(ScmpAction::KillThread, sys("read")).map(drop),
            Unchanged,
        ),
        Case(
            "a conflicting action for the same conditional rule",
            base,
            |c| {
                c.add_rule_conditional(
                    ScmpAction::Trap,
                    sys("ioctl"),
                    &[scmp_cmp!($arg1 == 0x5401)],
                )
                .map(drop)
            },
            Errno(EEXIST),
        ),
        Case(
            "bad-arch action ERRNO 5000",
            base,
            |c| c.set_act_badarch(ScmpAction::Errno(5000)).map(drop),
            Errno(EINVAL),
        ),
        Case(
            "bad-arch action from a bogus raw value",
            base,
            |c| {
                c.set_filter_attr(ScmpFilterAttr::ActBadArch, 0x1234_5678)
                    .map(drop)
            },
            Errno(EINVAL),
        ),
        Case(
            "reset to an invalid default action",
            base,
            |c| c.reset(ScmpAction::Errno(4096)),
            Errno(EINVAL),
        ),
        // --- attributes ------------------------------------------------------------------
        Case(
            "setting the read-only default action",
            base,
            |c| {
                c.set_filter_attr(ScmpFilterAttr::ActDefault, 0x7fff_0000)
                    .map(drop)
            },
            Errno(EACCES),
        ),
        Case(
            "optimize level 3",
            base,
            |c| c.set_ctl_optimize(3).map(drop),
            Errno(EOPNOTSUPP),
        ),
        Case(
            "optimize level 0",
            base,
            |c| c.set_ctl_optimize(0).map(drop),
            Errno(EOPNOTSUPP),
        ),
        // --- architectures ---------------------------------------------------------------
        Case(
            "a wrong-endian arch added (s390x to x86_64)",
            base,
            |c| c.add_arch(ScmpArch::S390X).map(drop),
            Errno(EDOM),
        ),
        Case(
            "a wrong-endian arch added (x86_64 to s390x)",
            || only(ScmpArch::S390X, ScmpAction::Allow),
            |c| c.add_arch(ScmpArch::X8664).map(drop),
            Errno(EDOM),
        ),
        Case(
            "an arch removed twice (libseccomp's EEXIST is swallowed by the crate)",
            base,
            |c| {
                c.remove_arch(ScmpArch::Aarch64)?;
                c.remove_arch(ScmpArch::Aarch64).map(drop)
            },
            Unchanged,
        ),
        Case(
            "an arch added twice",
            base,
            |c| c.add_arch(ScmpArch::X86).map(drop),
            Unchanged,
        ),
        Case(
            "a rule on a filter with no architecture",
            no_arch,
            |c| c.add_rule(ScmpAction::KillThread, sys("read")).map(drop),
            Errno(EINVAL),
        ),
        Case(
            "a priority on a filter with no architecture",
            no_arch,
            |c| c.set_syscall_priority(sys("read"), 1).map(drop),
            Errno(EINVAL),
        ),
        Case(
            "export of a filter with no architecture",
            no_arch,
            |c| c.export_bpf_mem().map(drop),
            Errno(EINVAL),
        ),
        Case(
            "precompute of a filter with no architecture",
            no_arch,
            |c| c.precompute(),
            Errno(EINVAL),
        ),
        // libseccomp takes no call but on architectures from a filter with none.
        Case(
            "an attribute of a filter with no architecture",
            no_arch,
            |c| c.get_act_default().map(drop),
            Errno(EINVAL),
        ),
        Case(
            "a raw attribute of a filter with no architecture",
            no_arch,
            |c| c.get_filter_attr(ScmpFilterAttr::CtlOptimize).map(drop),
            Errno(EINVAL),
        ),
        Case(
            "an optimize level on a filter with no architecture",
            no_arch,
            |c| c.set_ctl_optimize(2).map(drop),
            Errno(EINVAL),
        ),
        Case(
            "a bad-arch action on a filter with no architecture",
            no_arch,
            |c| c.set_act_badarch(ScmpAction::KillProcess).map(drop),
            Errno(EINVAL),
        ),
        Case(
            "the read-only default action on a filter with no architecture",
            no_arch,
            |c| {
                c.set_filter_attr(ScmpFilterAttr::ActDefault, 0x7fff_0000)
                    .map(drop)
            },
            Errno(EINVAL),
        ),
        Case(
            "the notification fd of a filter with no architecture",
            no_arch,
            |c| c.get_notify_fd().map(drop),
            Errno(EINVAL),
        ),
        // --- exact rules -----------------------------------------------------------------
        Case(
            "an exact rule on a three-arch filter",
            base,
            |c| c.add_rule_exact(ScmpAction::KillThread, sys("mount")).map(drop),
            Errno(EOPNOTSUPP),
        ),
        Case(
            // The number is the native arch's: it is translated through its name into the
            // filter's arch (on a filter of the native arch it is taken as it is).
            "an exact rule for a number that is no native syscall, on a foreign arch",
            || only(foreign(), ScmpAction::Allow),
            |c| c.add_rule_exact(ScmpAction::KillThread, 5000).map(drop),
            Errno(EFAULT),
        ),
        Case(
            "an exact rule for a syscall the arch lacks",
            || only(ScmpArch::X86, ScmpAction::Allow),
            |c| {
                // A native syscall that i386 does not have (which one depends on the host).
                let name = [
                    "arch_prctl",
                    "kexec_file_load",
                    "open_tree_attr",
                    "memfd_secret",
                    "riscv_flush_icache",
                ]
                .into_iter()
                .find(|n| {
                    ScmpSyscall::from_name(n).is_ok()
                        && ScmpSyscall::from_name_by_arch(n, ScmpArch::X86)
                            .map_or(true, |s| s.as_raw_syscall() < 0)
                })
                .expect("a native syscall i386 lacks");
                c.add_rule_exact(ScmpAction::KillThread, sys(name)).map(drop)
            },
            Errno(EDOM),
        ),
        Case(
            "an exact conditional rule on a multiplexed socket call (x86)",
            x86,
            |c| {
                c.add_rule_conditional_exact(
                    ScmpAction::Allow,
                    sys("socket"),
                    &[cmp(0, Equal, libc::AF_UNIX as u64)],
                )
                .map(drop)
            },
            Errno(EINVAL),
        ),
        // --- merge -----------------------------------------------------------------------
        Case(
            "merge with overlapping arches",
            base,
            |c| {
                let o = only(ScmpArch::X86, ScmpAction::Errno(libc::EPERM));
                c.merge(o).map(drop)
            },
            Errno(EEXIST),
        ),
        Case(
            "merge with a different default action",
            base,
            |c| {
                let o = only(ScmpArch::Aarch64, ScmpAction::Allow);
                c.merge(o).map(drop)
            },
            Errno(EINVAL),
        ),
        Case(
            "merge with a different ctl_nnp",
            base,
            |c| {
                let mut o = only(ScmpArch::Arm, ScmpAction::Errno(libc::EPERM));
                o.set_ctl_nnp(false)?;
                c.merge(o).map(drop)
            },
            Errno(EINVAL),
        ),
        Case(
            "merge with the other byte order",
            base,
            |c| {
                let o = only(ScmpArch::S390X, ScmpAction::Errno(libc::EPERM));
                c.merge(o).map(drop)
            },
            Errno(EDOM),
        ),
        Case(
            "merge with a filter that has no architecture",
            base,
            |c| {
                let mut o = ScmpFilterContext::new(ScmpAction::Errno(libc::EPERM))?;
                o.remove_arch(ScmpArch::native())?;
                c.merge(o).map(drop)
            },
            Errno(EINVAL),
        ),
        // --- size ------------------------------------------------------------------------
        Case(
            "a 5000-rule filter exported (more than 4096 instructions)",
            huge,
            |c| c.export_bpf_mem().map(drop),
            Errno(EFAULT),
        ),
        Case(
            "a 5000-rule filter at level 2",
            huge,
            |c| {
                c.set_ctl_optimize(2)?;
                let r = c.export_bpf_mem().map(drop);
                c.set_ctl_optimize(1)?;
                r
            },
            Errno(EFAULT),
        ),
        Case(
            "a 5000-rule filter precomputed",
            huge,
            |c| c.precompute(),
            Errno(EFAULT),
        ),
        // --- transactions ----------------------------------------------------------------
        Case(
            "a transaction committed twice",
            base,
            |c| {
                c.start_transaction()?;
                c.commit_transaction()?;
                c.commit_transaction()
            },
            Errno(EINVAL),
        ),
        Case(
            "a commit with no transaction",
            base,
            |c| c.commit_transaction(),
            Errno(EINVAL),
        ),
        Case(
            "a failed rule inside a transaction, then reject",
            base,
            |c| {
                c.start_transaction()?;
                c.add_rule(ScmpAction::Allow, sys("mount"))?;
                let r = c
                    .add_rule_conditional(ScmpAction::Allow, sys("openat"), &[cmp(6, Equal, 0)])
                    .map(drop);
                c.reject_transaction();
                r
            },
            Errno(EINVAL),
        ),
    ]
}

#[test]
fn bad_calls_give_their_error_and_change_nothing() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for Case(name, setup, bad, want) in cases {
        let mut ctx = setup();
        let before = snapshot(&ctx);
        let got = bad(&mut ctx);
        let kind = match &got {
            Ok(()) => Want::Unchanged,
            Err(e) => match e.errno() {
                Some(k) => Want::Errno(k),
                None => Want::NoKind,
            },
        };
        if kind != want {
            failures.push(format!("{name}: want {want:?}, got {got:?}"));
        }
        if let Err(e) = &got {
            if e.to_string().is_empty() {
                failures.push(format!("{name}: an error without a message"));
            }
        }
        let after = snapshot(&ctx);
        if after != before {
            failures.push(format!(
                "{name}: the filter changed: {before:?}\n->\n{after:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Rows that are not calls on a filter: constructors, parsers, syscall lookups, notify and
/// the precompiled-program loaders (which must refuse before any system call).
#[test]
fn bad_free_calls_give_their_error() {
    use SeccompErrno::*;
    let kind = |r: Result<(), SeccompError>| r.map_err(|e| e.errno());
    // An invalid default action: seccomp_init returns NULL, the crate's error has no kind.
    assert_eq!(
        kind(ScmpFilterContext::new(ScmpAction::Errno(4095)).map(drop)),
        Err(None)
    );
    assert_eq!(
        kind(ScmpFilterContext::new(ScmpAction::Errno(-2)).map(drop)),
        Err(None)
    );
    assert_eq!(kind(ScmpArch::from_str("vax").map(drop)), Err(None));
    assert_eq!(
        kind(ScmpCompareOp::from_str("SCMP_CMP_ABOUT").map(drop)),
        Err(None)
    );
    assert_eq!(
        kind(ScmpFilterAttr::from_str("SCMP_FLTATR_NOPE").map(drop)),
        Err(None)
    );
    assert_eq!(
        kind(ScmpAction::from_str("SCMP_ACT_NOPE", None).map(drop)),
        Err(None)
    );
    assert_eq!(
        kind(ScmpAction::from_str("SCMP_ACT_ERRNO", None).map(drop)),
        Err(None)
    );
    assert_eq!(
        kind(ScmpAction::from_str("SCMP_ACT_TRACE", Some(70_000)).map(drop)),
        Err(None)
    );
    assert_eq!(
        kind(
            ScmpSyscall::from(100_000)
                .get_name_by_arch(ScmpArch::X8664)
                .map(drop)
        ),
        Err(None)
    );
    #[allow(deprecated)]
    {
        assert_eq!(
            kind(get_syscall_from_name("no_such_syscall", None).map(drop)),
            Err(None)
        );
        assert_eq!(
            kind(get_syscall_name_from_arch(ScmpArch::Aarch64, -1000).map(drop)),
            Err(None)
        );
    }
    assert_eq!(kind(set_api(0)), Err(Some(EINVAL)));

    // A notification fd requested before any filter with a listener was loaded: EFAULT
    // (libseccomp's -1 filtered through _rc_filter). Below API level 6 (no notification, or
    // no seccomp at all as under qemu-user) the libseccomp crate's API-level check refuses
    // first, with an error that has no errno.
    let ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    let want = if get_api() >= 6 { Some(EFAULT) } else { None };
    assert_eq!(kind(ctx.get_notify_fd().map(drop)), Err(want));

    // Truncated or empty programs are refused before any system call.
    for len in [1, 7, 9, 4095] {
        let bytes = vec![0u8; len];
        assert_eq!(
            kind(load_bpf_bytes(&bytes, LoadFlags::new()).map(drop)),
            Err(Some(EINVAL)),
            "{len} bytes"
        );
        assert_eq!(
            bpf::decode(&bytes, Endian::Little),
            Err(BpfError::BadLength { len })
        );
    }
    assert_eq!(
        kind(load_bpf_bytes(&[], LoadFlags::new()).map(drop)),
        Err(Some(EINVAL))
    );
    assert_eq!(
        kind(load_bpf(&[], LoadFlags::new()).map(drop)),
        Err(Some(EINVAL))
    );
    let allow = Instruction::stmt(bpf::BPF_RET | bpf::BPF_K, bpf::SECCOMP_RET_ALLOW);
    assert_eq!(
        kind(load_bpf(&vec![allow; 4097], LoadFlags::new()).map(drop)),
        Err(Some(EINVAL))
    );
    assert_eq!(bpf::validate(&[]), Err(BpfError::Empty));
    assert_eq!(
        bpf::validate(&vec![allow; 4097]),
        Err(BpfError::TooLong { len: 4097 })
    );
    // A program cut in the middle of a jump (its target is gone) is refused by the validator.
    let cut = [
        Instruction::stmt(bpf::BPF_LD | bpf::BPF_W | bpf::BPF_ABS, 0),
        Instruction::jump(bpf::BPF_JMP | bpf::BPF_JEQ | bpf::BPF_K, 59, 0, 1),
    ];
    assert!(matches!(
        bpf::validate(&cut),
        Err(BpfError::JumpOutOfRange { .. })
    ));
}

/// libseccomp drops a masked comparison whose mask is zero (`_db_rule_gen_64` skips words
/// with a zero mask): the rule then applies whatever the argument, even when the datum has
/// bits outside the mask and the comparison could never hold. pure-seccomp does the same
/// (the conformance corpus checks it against libseccomp); this states it.
#[test]
fn masked_equal_with_a_zero_mask_matches_every_value() {
    let mut ctx = only(ScmpArch::X8664, ScmpAction::Allow);
    ctx.add_rule_conditional(
        ScmpAction::Errno(1),
        sys("mount"),
        &[cmp(0, ScmpCompareOp::MaskedEqual(0), 5)],
    )
    .unwrap();
    let mut plain = only(ScmpArch::X8664, ScmpAction::Allow);
    plain.add_rule(ScmpAction::Errno(1), sys("mount")).unwrap();
    assert_eq!(
        ctx.export_bpf_mem().unwrap(),
        plain.export_bpf_mem().unwrap()
    );
}
