//! `pure-seccomp audit`: weaknesses of a compiled filter, found by running it.
//!
//! Everything is decided on the program (simulated), not on the policy's text, so a policy
//! and the raw program it compiles to get the same findings. A call whose run reads no
//! argument is allowed or denied whatever its arguments. Otherwise it is tried with every
//! argument set to each of a set of probe values (small numbers, 32- and 64-bit extremes,
//! and every constant the program compares with): allowed for some is "allowed with
//! argument checks". (A rule that needs two arguments to hold different values at once can
//! be missed: the probes set all arguments alike.)

use crate::arches;
use crate::compile::table;
use crate::input::{self, allows, Compiled};
use crate::{Fail, PolicyOpts};
use pure_seccomp::bpf;
use pure_seccomp::{ScmpAction, ScmpArch};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    fn lower(self) -> Self {
        match self {
            Severity::High => Severity::Medium,
            Severity::Medium => Severity::Low,
            _ => Severity::Info,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
            Severity::Info => "INFO",
        })
    }
}

/// One finding.
#[derive(Debug)]
pub struct Finding {
    pub severity: Severity,
    pub title: String,
    pub details: Vec<String>,
}

/// What a filter does with a syscall over the probe vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Allowed,
    Conditional,
    Denied,
}

/// The probe values: each argument set to one of these, or to a constant the program
/// compares with.
const PROBES: [u64; 10] = [
    0,
    1,
    2,
    3,
    8,
    16,
    0x7fff_ffff,
    0xffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX,
];

/// The values to try as arguments: [`PROBES`] and every constant the program compares with.
fn probe_values(c: &Compiled) -> Vec<u64> {
    let mut v: Vec<u64> = PROBES.to_vec();
    v.extend(input::constants(&[&c.prog]).into_iter().map(u64::from));
    v.sort_unstable();
    v.dedup();
    v
}

/// Whether a run reads an argument (or the instruction pointer).
pub fn reads_args(c: &Compiled, path: &[usize]) -> bool {
    path.iter().any(|&i| {
        let ins = c.prog[i];
        ins.code == bpf::BPF_LD | bpf::BPF_W | bpf::BPF_ABS && ins.k >= 8
    })
}

/// What the filter does with a call: decided by one run when the verdict does not read the
/// arguments, else by trying every probe value (in every argument at once; `fixed_arg0`
/// stays in the first).
fn status(c: &Compiled, abi: ScmpArch, nr: u32, fixed_arg0: Option<u64>, probes: &[u64]) -> Status {
    let args = |p: u64| {
        let mut a = [p; 6];
        if let Some(a0) = fixed_arg0 {
            a[0] = a0;
        }
        a
    };
    let data = input::data(abi, nr, args(0));
    let Ok((out, path)) = bpf::simulate_path(&c.prog, &data, c.endian) else {
        return Status::Denied;
    };
    if !reads_args(c, &path) {
        return if allows(out.ret) {
            Status::Allowed
        } else {
            Status::Denied
        };
    }
    let yes = probes
        .iter()
        .filter(|&&p| allows(c.verdict(abi, nr, args(p))))
        .count();
    if yes == 0 {
        Status::Denied
    } else {
        Status::Conditional
    }
}

/// Dangerous syscalls: name, severity when allowed, why.
const DANGEROUS: &[(&str, Severity, &str)] = &[
    (
        "ptrace",
        Severity::High,
        "inspects and changes other processes",
    ),
    (
        "process_vm_writev",
        Severity::High,
        "writes other processes' memory",
    ),
    (
        "process_vm_readv",
        Severity::Medium,
        "reads other processes' memory",
    ),
    ("bpf", Severity::High, "loads eBPF programs into the kernel"),
    ("kexec_load", Severity::High, "replaces the running kernel"),
    (
        "kexec_file_load",
        Severity::High,
        "replaces the running kernel",
    ),
    ("init_module", Severity::High, "loads kernel modules"),
    ("finit_module", Severity::High, "loads kernel modules"),
    ("delete_module", Severity::High, "unloads kernel modules"),
    ("mount", Severity::High, "changes the mount table"),
    ("umount", Severity::High, "changes the mount table"),
    ("umount2", Severity::High, "changes the mount table"),
    ("pivot_root", Severity::High, "changes the root file system"),
    ("move_mount", Severity::High, "changes the mount table"),
    ("fsopen", Severity::High, "creates mounts"),
    ("fsmount", Severity::High, "creates mounts"),
    ("fsconfig", Severity::High, "configures mounts"),
    ("open_tree", Severity::High, "clones mounts"),
    ("mount_setattr", Severity::High, "changes mount attributes"),
    (
        "open_by_handle_at",
        Severity::High,
        "opens files by handle, around mount namespaces (the \"shocker\" escape)",
    ),
    (
        "reboot",
        Severity::High,
        "reboots the machine or loads a kexec kernel",
    ),
    ("swapon", Severity::High, "changes the system's swap"),
    ("swapoff", Severity::High, "changes the system's swap"),
    ("iopl", Severity::High, "gives raw I/O port access"),
    ("ioperm", Severity::High, "gives raw I/O port access"),
    (
        "userfaultfd",
        Severity::Medium,
        "stalls kernel code on page faults, a staple of race exploits",
    ),
    (
        "io_uring_setup",
        Severity::Medium,
        "a second system call interface that seccomp does not filter",
    ),
    (
        "io_uring_enter",
        Severity::Medium,
        "a second system call interface that seccomp does not filter",
    ),
    (
        "io_uring_register",
        Severity::Medium,
        "a second system call interface that seccomp does not filter",
    ),
    (
        "perf_event_open",
        Severity::Medium,
        "a large kernel attack surface; leaks kernel addresses",
    ),
    (
        "keyctl",
        Severity::Medium,
        "the kernel keyring is not namespaced",
    ),
    (
        "add_key",
        Severity::Medium,
        "the kernel keyring is not namespaced",
    ),
    (
        "request_key",
        Severity::Medium,
        "the kernel keyring is not namespaced",
    ),
    (
        "unshare",
        Severity::Medium,
        "new namespaces; user namespaces open much kernel attack surface",
    ),
    ("setns", Severity::Medium, "joins other namespaces"),
    (
        "pidfd_getfd",
        Severity::Medium,
        "takes file descriptors from other processes",
    ),
    ("settimeofday", Severity::Medium, "sets the system clock"),
    ("clock_settime", Severity::Medium, "sets the system clock"),
    ("clock_settime64", Severity::Medium, "sets the system clock"),
    (
        "clock_adjtime",
        Severity::Medium,
        "adjusts the system clock",
    ),
    (
        "clock_adjtime64",
        Severity::Medium,
        "adjusts the system clock",
    ),
    ("adjtimex", Severity::Medium, "adjusts the system clock"),
    ("stime", Severity::Medium, "sets the system clock"),
    (
        "syslog",
        Severity::Medium,
        "reads the kernel log (kernel addresses)",
    ),
    ("quotactl", Severity::Medium, "changes disk quotas"),
    ("quotactl_fd", Severity::Medium, "changes disk quotas"),
    ("lookup_dcookie", Severity::Medium, "exposes kernel paths"),
    (
        "nfsservctl",
        Severity::Medium,
        "controls the kernel NFS server",
    ),
    ("acct", Severity::Low, "switches process accounting"),
    ("vhangup", Severity::Low, "hangs up the terminal"),
    (
        "uselib",
        Severity::Low,
        "obsolete loader interface, a past exploit vector",
    ),
    (
        "kcmp",
        Severity::Low,
        "compares kernel objects of other processes",
    ),
    (
        "name_to_handle_at",
        Severity::Low,
        "leaks file handles (used with open_by_handle_at)",
    ),
    (
        "modify_ldt",
        Severity::Low,
        "changes the LDT, a past exploit vector",
    ),
    (
        "vm86",
        Severity::Low,
        "virtual 8086 mode, a past exploit vector",
    ),
    (
        "vm86old",
        Severity::Low,
        "virtual 8086 mode, a past exploit vector",
    ),
    (
        "personality",
        Severity::Low,
        "can turn off address space randomisation",
    ),
    ("chroot", Severity::Low, "changes the root directory"),
    (
        "fanotify_init",
        Severity::Low,
        "watches the whole file system",
    ),
];

/// socketcall(2)'s call numbers (`SYS_SOCKET` ...) and the direct syscalls they stand for.
const SOCKETCALLS: &[(u64, &str)] = &[
    (1, "socket"),
    (2, "bind"),
    (3, "connect"),
    (4, "listen"),
    (5, "accept"),
    (6, "getsockname"),
    (7, "getpeername"),
    (8, "socketpair"),
    (9, "send"),
    (10, "recv"),
    (11, "sendto"),
    (12, "recvfrom"),
    (13, "shutdown"),
    (14, "setsockopt"),
    (15, "getsockopt"),
    (16, "sendmsg"),
    (17, "recvmsg"),
    (18, "accept4"),
    (19, "recvmmsg"),
    (20, "sendmmsg"),
];

/// ipc(2)'s call numbers (`SEMOP` ...) and the direct syscalls.
const IPCCALLS: &[(u64, &str)] = &[
    (1, "semop"),
    (2, "semget"),
    (3, "semctl"),
    (4, "semtimedop"),
    (11, "msgsnd"),
    (12, "msgrcv"),
    (13, "msgget"),
    (14, "msgctl"),
    (21, "shmat"),
    (22, "shmdt"),
    (23, "shmget"),
    (24, "shmctl"),
];

/// An ABI the program was given for or covers; plus every other ABI of the same byte order
/// whose calls it allows.
pub fn audit(c: &Compiled) -> Vec<Finding> {
    let mut f = Vec::new();
    let ld_arch = c
        .prog
        .iter()
        .any(|i| i.code == bpf::BPF_LD | bpf::BPF_W | bpf::BPF_ABS && i.k == 4);
    if !ld_arch {
        f.push(Finding {
            severity: Severity::High,
            title: "no architecture check: the filter never reads seccomp_data.arch".into(),
            details: vec![
                "a call made through another ABI (x86's int 0x80 on x86_64, arm's on aarch64) \
                 is judged with this ABI's numbers, which mean other syscalls there"
                    .into(),
            ],
        });
    }
    // Calls of an ABI no filter covers (an AUDIT_ARCH value that does not exist).
    let bogus = 0x4000_00ff_u32;
    let bogus_allowed = (0..1024u32).any(|nr| {
        let data = bpf::SeccompData {
            nr: nr as i32,
            arch: bogus,
            instruction_pointer: 0,
            args: [0; 6],
        };
        bpf::simulate(&c.prog, &data, c.endian).is_ok_and(|o| allows(o.ret))
    });
    if ld_arch && bogus_allowed {
        f.push(Finding {
            severity: Severity::High,
            title: "calls of unknown architectures are allowed (the arch check lets them through)"
                .into(),
            details: Vec::new(),
        });
    }
    // ABIs allowed beyond those the policy names.
    if c.recipe.is_some() {
        let extra: Vec<&str> = ScmpArch::all()
            .filter(|a| !c.abis.contains(a) && arches::endian(*a) == c.endian)
            .filter(|&a| {
                table(a)
                    .into_iter()
                    .any(|nr| allows(c.verdict(a, nr, [0; 6])))
            })
            .map(arches::short)
            .collect();
        if !extra.is_empty() {
            f.push(Finding {
                severity: Severity::High,
                title: format!(
                    "calls of ABIs the policy does not name are allowed: {}",
                    extra.join(", ")
                ),
                details: Vec::new(),
            });
        }
    }
    if c.abis.contains(&ScmpArch::X8664) {
        x32_bypass(c, &mut f);
    }
    let probes = probe_values(c);
    for &abi in &c.abis {
        multiplexers(c, abi, &probes, &mut f);
    }
    dangerous(c, &probes, &mut f);
    cache(c, &probes, &mut f);
    f.sort_by_key(|x| x.severity);
    f
}

fn x32_bypass(c: &Compiled, f: &mut Vec<Finding>) {
    let mut found = Vec::new();
    for nr in table(ScmpArch::X8664) {
        if allows(c.verdict(ScmpArch::X8664, nr, [0; 6])) {
            continue;
        }
        let x = nr | arches::X32_BIT;
        if allows(c.verdict(ScmpArch::X32, x, [0; 6])) {
            let name = arches::syscall_name(ScmpArch::X8664, nr).unwrap_or_default();
            let x32 = arches::syscall_name(ScmpArch::X32, x)
                .map(|n| format!("x32 {n}"))
                .unwrap_or_else(|| "no x32 syscall".into());
            found.push(format!("{name} ({nr}) denied, {x:#x} ({x32}) allowed"));
        }
    }
    if !found.is_empty() {
        f.push(Finding {
            severity: Severity::High,
            title: format!(
                "x32 bypass: {} syscall number(s) denied on x86_64 are allowed with the x32 bit \
                 (0x40000000) set, on a kernel with x32 support",
                found.len()
            ),
            details: found,
        });
    }
}

fn multiplexers(c: &Compiled, abi: ScmpArch, probes: &[u64], f: &mut Vec<Finding>) {
    for (mux, calls) in [("socketcall", SOCKETCALLS), ("ipc", IPCCALLS)] {
        let Ok(mux_nr) = arches::syscall_number(abi, mux) else {
            continue;
        };
        let mut around_checks = Vec::new();
        let mut around_denial = Vec::new();
        for &(call, name) in calls {
            let via_mux = status(c, abi, mux_nr, Some(call), probes);
            if via_mux == Status::Denied {
                continue;
            }
            // Where the library's table has no direct syscall for the ABI (libseccomp's
            // x86 `socket` is a pseudo number), the policy's rules for the name say what
            // the direct call would get.
            let direct = match arches::syscall_number(abi, name) {
                Ok(nr) => status(c, abi, nr, None, probes),
                Err(_) => match rule_status(c, name) {
                    Some(s) => s,
                    None => continue,
                },
            };
            match direct {
                Status::Conditional if via_mux == Status::Allowed => {
                    around_checks.push(name.to_string())
                }
                Status::Denied => around_denial.push(name.to_string()),
                _ => {}
            }
        }
        let a = arches::short(abi);
        if !around_denial.is_empty() {
            f.push(Finding {
                severity: Severity::High,
                title: format!(
                    "{a}: {mux}(2) lets through calls denied as direct syscalls: {}",
                    around_denial.join(", ")
                ),
                details: vec![format!(
                    "deny {mux} (or its call numbers) too, or the direct denial is moot"
                )],
            });
        }
        if !around_checks.is_empty() {
            f.push(Finding {
                severity: Severity::High,
                title: format!(
                    "{a}: {mux}(2) skips the argument checks of: {}",
                    around_checks.join(", ")
                ),
                details: vec![format!(
                    "{mux}'s arguments are in user memory, which a filter cannot read: the \
                     direct syscalls' argument checks do not apply to it"
                )],
            });
        }
    }
}

/// What a policy's rules give a syscall name: `None` for a compiled program.
fn rule_status(c: &Compiled, name: &str) -> Option<Status> {
    let recipe = c.recipe.as_ref()?;
    let lets_run = |a: ScmpAction| matches!(a, ScmpAction::Allow | ScmpAction::Log);
    let rules: Vec<_> = recipe.rules.iter().filter(|r| r.syscall == name).collect();
    // A rule with conditions makes the verdict depend on the arguments, whichever way.
    Some(if rules.iter().any(|r| !r.conditions.is_empty()) {
        Status::Conditional
    } else if rules.iter().any(|r| lets_run(r.action))
        || (rules.is_empty() && lets_run(recipe.default_action))
    {
        Status::Allowed
    } else {
        Status::Denied
    })
}

fn dangerous(c: &Compiled, probes: &[u64], f: &mut Vec<Finding>) {
    // name -> (status per ABI)
    let mut seen: BTreeMap<&str, Vec<(ScmpArch, Status)>> = BTreeMap::new();
    for &abi in &c.abis {
        for &(name, _, _) in DANGEROUS {
            let Ok(nr) = arches::syscall_number(abi, name) else {
                continue;
            };
            let st = status(c, abi, nr, None, probes);
            if st != Status::Denied {
                seen.entry(name).or_default().push((abi, st));
            }
        }
    }
    for &(name, sev, why) in DANGEROUS {
        let Some(list) = seen.get(name) else { continue };
        let unconditional = list.iter().any(|(_, s)| *s == Status::Allowed);
        let abis: Vec<&str> = list.iter().map(|(a, _)| arches::short(*a)).collect();
        f.push(Finding {
            severity: if unconditional { sev } else { sev.lower() },
            title: format!(
                "{name} allowed{} ({}): {why}",
                if unconditional {
                    ""
                } else {
                    " with argument checks"
                },
                abis.join(", ")
            ),
            details: Vec::new(),
        });
    }
}

fn cache(c: &Compiled, probes: &[u64], f: &mut Vec<Finding>) {
    for &abi in &c.abis {
        if !bpf::kernel_caches(abi) {
            continue;
        }
        let token = arches::audit(abi);
        let mut allowed = 0;
        let mut slow = Vec::new();
        for nr in table(abi) {
            if status(c, abi, nr, None, probes) != Status::Allowed {
                continue;
            }
            allowed += 1;
            if !bpf::cacheable(&c.prog, token, nr) {
                slow.push(arches::syscall_name(abi, nr).unwrap_or_else(|| nr.to_string()));
            }
        }
        let a = arches::short(abi);
        if slow.is_empty() {
            f.push(Finding {
                severity: Severity::Info,
                title: format!(
                    "{a}: all {allowed} allowed syscalls are cacheable by the kernel's action cache"
                ),
                details: Vec::new(),
            });
        } else {
            f.push(Finding {
                severity: Severity::Low,
                title: format!(
                    "{a}: {} of {allowed} syscalls allowed whatever their arguments are not \
                     cacheable: the kernel runs the filter on every call of them",
                    slow.len()
                ),
                details: slow,
            });
        }
    }
}

/// `audit`.
pub fn run(
    file: Option<&Path>,
    arch: Option<ScmpArch>,
    verbose: bool,
    opts: &PolicyOpts,
) -> Result<u8, Fail> {
    crate::offline();
    let source = input::open(file, arch)?;
    let label = source.label().to_string();
    let programs = input::programs(&source, &opts.build(arch.into_iter().collect()), true)?;
    let mut high = 0;
    let mut counts = BTreeMap::new();
    for (i, c) in programs.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!(
            "audit of {label}: {}, {} instructions",
            c.title(),
            c.prog.len()
        );
        for finding in audit(c) {
            *counts.entry(finding.severity).or_insert(0) += 1;
            if finding.severity == Severity::High {
                high += 1;
            }
            println!("  {:<6}  {}", finding.severity.to_string(), finding.title);
            let limit = if verbose || finding.severity <= Severity::Medium {
                usize::MAX
            } else {
                8
            };
            for d in finding.details.iter().take(limit) {
                println!("          {d}");
            }
            if finding.details.len() > limit {
                println!(
                    "          ... and {} more (--verbose)",
                    finding.details.len() - limit
                );
            }
        }
    }
    let count = |s| counts.get(&s).copied().unwrap_or(0);
    println!(
        "\n{} high, {} medium, {} low, {} info",
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low),
        count(Severity::Info)
    );
    Ok(if high > 0 { 1 } else { 0 })
}
