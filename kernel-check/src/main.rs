//! `kernel-check`: pure-seccomp's filters against a real kernel.
//!
//! Built as a static binary and booted as `/init` of a small VM (`tests/vm/`), it:
//!
//! 1. builds a set of filters for the architecture it runs on (the native one, plus its
//!    compat ABI in a second filter set), exports them, and for every test vector
//!    (a syscall number and six arguments) compares what the real kernel does with the
//!    filter loaded (in a forked child) against what pure-seccomp's simulator says the
//!    exported program returns: the errno, SIGSYS, or the syscall's own result;
//! 2. does the same for every program found in `/cases` (`NAME.bpf` + `NAME.vec`), written
//!    on another host by `kernel-check export ARCH DIR`: there the expected verdicts were
//!    computed on the exporting host, so a wrong byte order in the export shows;
//! 3. runs the crate's kernel test binaries found in `/tests` (`/compat/tests` for the
//!    compat run), as a native CI host runs them: loading with every flag, user
//!    notification, attributes, API levels, on this kernel; and the command's `run_learn`
//!    test, with the command and a static busybox in `/bin`;
//! 4. prints one `PASS` or `FAIL` line and, as PID 1, powers the machine off.
//!
//! `kernel-check run` does 1 and 2 on any host (it needs seccomp; on x86_64, 1 also with x32
//! calls, [`x32_cases`]); `kernel-check export ARCH DIR` writes the programs and vectors of 2
//! for `ARCH` (e.g. `s390x`).

use pure_seccomp::bpf::{self, Instruction, SeccompData};
use pure_seccomp::*;
use std::fmt;
use std::path::Path;

/// What a syscall does when the filter lets it run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Returned a non-negative value.
    Ok,
    /// Failed with this errno.
    Errno(i32),
    /// The process was killed by SIGSYS (KILL_PROCESS, KILL_THREAD, TRAP without handler).
    Sigsys,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Ok => write!(f, "ok"),
            Verdict::Errno(e) => write!(f, "errno:{e}"),
            Verdict::Sigsys => write!(f, "sigsys"),
        }
    }
}

impl Verdict {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "ok" => Some(Verdict::Ok),
            "sigsys" => Some(Verdict::Sigsys),
            _ => s.strip_prefix("errno:")?.parse().ok().map(Verdict::Errno),
        }
    }
}

/// One syscall to make: its number on the filter's ABI, its arguments, and what it does
/// when allowed (chosen so that an allowed call is harmless and its result known).
#[derive(Debug, Clone, Copy)]
struct Vector {
    nr: i32,
    args: [u64; 6],
    natural: Verdict,
}

/// A filter and the syscalls to try with it.
struct Case {
    name: String,
    ctx: ScmpFilterContext,
    vectors: Vec<Vector>,
    /// The program must contain a jump over more than 255 instructions.
    long_jump: bool,
}

/// `AUDIT_ARCH_*` of the architectures kernel-check runs on (the VMs', their compat ABIs,
/// the host's), written out from the kernel's `include/uapi/linux/audit.h` on purpose rather
/// than taken from `pure_seccomp::bpf::audit_arch`: the vectors it predicts must not share a
/// mistake with the library they check.
fn audit_arch(arch: ScmpArch) -> Option<u32> {
    match arch {
        ScmpArch::Aarch64 => Some(0xc000_00b7),
        ScmpArch::Arm => Some(0x4000_0028),
        ScmpArch::S390X => Some(0x8000_0016),
        ScmpArch::S390 => Some(0x0000_0016),
        ScmpArch::X8664 => Some(0xc000_003e),
        ScmpArch::X86 => Some(0x4000_0003),
        ScmpArch::Riscv64 => Some(0xc000_00f3),
        _ => None,
    }
}

fn parse_arch(s: &str) -> Option<ScmpArch> {
    match s {
        "aarch64" | "arm64" => Some(ScmpArch::Aarch64),
        "s390x" => Some(ScmpArch::S390X),
        "arm" | "armv7" => Some(ScmpArch::Arm),
        "x86_64" | "amd64" => Some(ScmpArch::X8664),
        "x86" | "i686" | "i386" => Some(ScmpArch::X86),
        "riscv64" => Some(ScmpArch::Riscv64),
        _ => None,
    }
}

/// The compat ABI the VM's kernel also runs, for multi-architecture filters.
fn compat(arch: ScmpArch) -> Option<ScmpArch> {
    match arch {
        ScmpArch::Aarch64 => Some(ScmpArch::Arm),
        ScmpArch::S390X => Some(ScmpArch::S390),
        ScmpArch::X8664 => Some(ScmpArch::X86),
        _ => None,
    }
}

type Res<T> = std::result::Result<T, String>;

fn nr(name: &str, arch: ScmpArch) -> Res<i32> {
    ScmpSyscall::from_name_by_arch(name, arch)
        .map(i32::from)
        .map_err(|e| format!("{name} on {arch:?}: {e}"))
}

/// `name` for a rule: rules take the exporting host's numbering (as in libseccomp), which
/// the rule database maps to each architecture of the filter by name.
fn sc(name: &str) -> Res<ScmpSyscall> {
    ScmpSyscall::from_name(name).map_err(|e| format!("{name}: {e}"))
}

fn err<E: fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// A file descriptor no test process has open: `close` on it fails with EBADF.
const BAD_FD: u64 = 977;

fn new_ctx(default: ScmpAction, arches: &[ScmpArch], level: u32) -> Res<ScmpFilterContext> {
    let mut ctx = ScmpFilterContext::new(default).map_err(err("new"))?;
    ctx.remove_arch(ScmpArch::native())
        .map_err(err("remove_arch"))?;
    for &a in arches {
        ctx.add_arch(a).map_err(err("add_arch"))?;
    }
    ctx.set_ctl_optimize(level).map_err(err("optimize"))?;
    // The child must be able to exit after its test syscall.
    if default != ScmpAction::Allow {
        for name in ["exit_group", "exit"] {
            let s = ScmpSyscall::from_name(name).map_err(err(name))?;
            ctx.add_rule(ScmpAction::Allow, s)
                .map_err(err("add_rule exit"))?;
        }
    }
    Ok(ctx)
}

fn v(nr: i32, args: [u64; 6], natural: Verdict) -> Vector {
    Vector { nr, args, natural }
}

/// Syscalls never used in long-jump vectors: if a wrong verdict let them run, they would
/// disturb the test (new processes, exits, signals, waits).
const UNSAFE: &[&str] = &[
    "exit",
    "exit_group",
    "clone",
    "clone3",
    "fork",
    "vfork",
    "execve",
    "execveat",
    "rt_sigreturn",
    "sigreturn",
    "pause",
    "wait4",
    "waitid",
    "kill",
    "tkill",
    "tgkill",
    "reboot",
    "rt_sigsuspend",
    "ppoll",
    "pselect6",
    "nanosleep",
    "clock_nanosleep",
    "epoll_pwait",
    "epoll_pwait2",
    "futex",
    "io_getevents",
    "read",
    "readv",
    "pread64",
    "preadv",
    "preadv2",
    "recvfrom",
    "recvmsg",
    "accept",
    "accept4",
    "msgrcv",
    "semop",
    "semtimedop",
    "ptrace",
    "seccomp",
    "munmap",
    "mremap",
    "mmap",
    "brk",
    "mprotect",
    "personality",
    "setsid",
    "vhangup",
    "swapoff",
    "umount2",
    "syslog",
];

/// The filters and vectors for `arch` (with its compat ABI in some filters).
fn cases(arch: ScmpArch) -> Res<Vec<Case>> {
    let close = nr("close", arch)?;
    let getppid = nr("getppid", arch)?;
    let getpid = nr("getpid", arch)?;
    let getuid = nr("getuid", arch)?;
    let gettid = nr("gettid", arch)?;
    let sched_yield = nr("sched_yield", arch)?;
    let arches: Vec<ScmpArch> = std::iter::once(arch).chain(compat(arch)).collect();
    // On a 32-bit ABI the kernel hands the filter 32-bit arguments, zero-extended.
    let wide = !matches!(arch, ScmpArch::Arm | ScmpArch::X86 | ScmpArch::S390);
    let narrow = |mut vectors: Vec<Vector>| {
        if !wide {
            for v in &mut vectors {
                for a in &mut v.args {
                    *a &= 0xffff_ffff;
                }
            }
        }
        vectors
    };
    let mut out = Vec::new();
    for level in [1, 2] {
        // Argument comparisons, 32- and 64-bit, on close(2) (allowed: EBADF).
        let mut ctx = new_ctx(ScmpAction::Allow, &arches, level)?;
        let c = sc("close")?;
        let rule = |ctx: &mut ScmpFilterContext, e: i32, cmps: &[ScmpArgCompare]| {
            ctx.add_rule_conditional(ScmpAction::Errno(e), c, cmps)
                .map(drop)
                .map_err(err("add_rule_conditional"))
        };
        rule(&mut ctx, 101, &[scmp_cmp!($arg0 == 7)])?;
        rule(
            &mut ctx,
            102,
            &[scmp_cmp!($arg0 >= 0x1_0000_0000), scmp_cmp!($arg1 < 5)],
        )?;
        rule(&mut ctx, 103, &[scmp_cmp!($arg2 & 0xff00 == 0x1200)])?;
        rule(&mut ctx, 104, &[scmp_cmp!($arg3 == 0xdead_beef_0000_0001)])?;
        rule(&mut ctx, 105, &[scmp_cmp!($arg4 > 0x8000_0000_0000_0000)])?;
        rule(&mut ctx, 106, &[scmp_cmp!($arg5 != 0)])?;
        ctx.add_rule(ScmpAction::Errno(107), sc("getpid")?)
            .map_err(err("add_rule"))?;
        let ebadf = Verdict::Errno(libc::EBADF);
        let mut vectors = vec![
            v(close, [7, 0, 0, 0, 0, 0], ebadf),
            v(close, [BAD_FD, 0, 0, 0, 0, 0], ebadf),
            v(close, [0x1_0000_0000 | BAD_FD, 4, 0, 0, 0, 0], ebadf),
            v(close, [0x1_0000_0000 | BAD_FD, 5, 0, 0, 0, 0], ebadf),
            v(close, [0xffff_ffff, 4, 0, 0, 0, 0], ebadf),
            v(close, [BAD_FD, 0, 0x3412, 0, 0, 0], ebadf),
            v(close, [BAD_FD, 0, 0x3512, 0, 0, 0], ebadf),
            v(close, [BAD_FD, 0, 0xffff_0000_0000_1200, 0, 0, 0], ebadf),
            v(close, [BAD_FD, 0, 0, 0xdead_beef_0000_0001, 0, 0], ebadf),
            v(close, [BAD_FD, 0, 0, 0x0000_0001_dead_beef, 0, 0], ebadf),
            v(close, [BAD_FD, 0, 0, 0xdead_beef_0000_0000, 0, 0], ebadf),
            v(close, [BAD_FD, 0, 0, 0, 0x8000_0000_0000_0001, 0], ebadf),
            v(close, [BAD_FD, 0, 0, 0, 0x8000_0000_0000_0000, 0], ebadf),
            v(close, [BAD_FD, 0, 0, 0, 0x0000_0000_8000_0001, 0], ebadf),
            v(close, [BAD_FD, 0, 0, 0, 0, 0x1_0000_0000], ebadf),
            v(close, [BAD_FD, 0, 0, 0, 0, 1], ebadf),
            v(getpid, [0; 6], Verdict::Ok),
            v(getppid, [0; 6], Verdict::Ok),
        ];
        // A number no table has: the kernel answers ENOSYS when allowed.
        vectors.push(v(4000, [0; 6], Verdict::Errno(libc::ENOSYS)));
        out.push(Case {
            name: format!("args-l{level}"),
            ctx,
            vectors: narrow(vectors),
            long_jump: false,
        });

        // Every action, under a KILL_PROCESS default.
        let mut ctx = new_ctx(ScmpAction::KillProcess, &arches, level)?;
        for (action, s) in [
            (ScmpAction::Allow, "close"),
            (ScmpAction::Allow, "getppid"),
            (ScmpAction::Errno(108), "getpid"),
            (ScmpAction::Trap, "getuid"),
            (ScmpAction::Log, "gettid"),
            (ScmpAction::KillThread, "sched_yield"),
        ] {
            ctx.add_rule(action, sc(s)?).map_err(err("add_rule"))?;
        }
        let vectors = vec![
            v(close, [BAD_FD, 0, 0, 0, 0, 0], Verdict::Errno(libc::EBADF)),
            v(getppid, [0; 6], Verdict::Ok),
            v(getpid, [0; 6], Verdict::Ok),
            v(getuid, [0; 6], Verdict::Ok),
            v(gettid, [0; 6], Verdict::Ok),
            v(sched_yield, [0; 6], Verdict::Ok),
            v(4000, [0; 6], Verdict::Errno(libc::ENOSYS)),
        ];
        out.push(Case {
            name: format!("actions-l{level}"),
            ctx,
            vectors,
            long_jump: false,
        });

        // Hundreds of conditional rules: jumps over more than 255 instructions (one ABI, to
        // stay under 4096 instructions).
        let mut ctx = new_ctx(ScmpAction::Allow, &[arch], level)?;
        let mut names = Vec::new();
        // This architecture's syscalls that the host's table also knows by name.
        for n in 1..1000 {
            if let Ok(name) = ScmpSyscall::from(n).get_name_by_arch(arch) {
                if name != "exit_group" && name != "exit" && names.len() < 300 {
                    if let Ok(s) = ScmpSyscall::from_name(&name) {
                        names.push((n, s, name));
                    }
                }
            }
        }
        let mut vectors = Vec::new();
        for (i, (n, s, name)) in names.iter().enumerate() {
            // Few distinct actions, so that one RET serves rules far apart; 64-bit data.
            let e = 110 + (i % 3) as i32;
            let datum = if wide {
                ((i as u64 + 1) << 32) | 5000
            } else {
                5000 + i as u64
            };
            let cmp = [ScmpArgCompare::new(0, ScmpCompareOp::Equal, datum)];
            if ctx
                .add_rule_conditional_exact(ScmpAction::Errno(e), *s, &cmp)
                .is_err()
            {
                // Multiplexed on this ABI (socketcall/ipc): kept as a rule, not tried.
                let _ = ctx.add_rule_conditional(ScmpAction::Errno(e), *s, &cmp);
                continue;
            }
            if (i % 7 == 0 || i + 1 == names.len()) && !UNSAFE.contains(&name.as_str()) {
                // Matching: the rule's errno; the syscall does not run. One off in the
                // high word: allowed, so only where that is harmless (close below).
                vectors.push(v(*n, [datum, 0, 0, 0, 0, 0], Verdict::Ok));
            }
        }
        vectors.push(v(
            close,
            [BAD_FD, 0, 0, 0, 0, 0],
            Verdict::Errno(libc::EBADF),
        ));
        vectors.push(v(getppid, [0; 6], Verdict::Ok));
        out.push(Case {
            name: format!("long-jumps-l{level}"),
            ctx,
            vectors,
            // Checked on 64-bit ABIs; 32-bit comparisons are too short at level 1 to need them.
            long_jump: wide,
        });
    }
    Ok(out)
}

/// The x32 bit: an x86_64 kernel takes a number with it as an x32 call, under x86_64's
/// `AUDIT_ARCH` token, whatever process makes it; the filter sees it before the kernel
/// checks that x32 is enabled (`syscall.x32=y`; off in Debian's kernels, absent in many).
const X32_BIT: i32 = 0x4000_0000;

/// Whether this kernel runs x32 calls: x32's getpid, made from this (x86_64) process.
fn x32_runs() -> bool {
    // SAFETY: getpid has no arguments and no effect.
    unsafe { libc::syscall(libc::c_long::from(X32_BIT | 39)) > 0 }
}

/// x32 calls against x86_64 filters, from this x86_64 process (x86_64 hosts only; their
/// natural verdicts depend on the running kernel, so they are checked natively, not
/// exported). With the x32 ABI in the filter its rules judge them; without it, every number
/// with the bit gets the bad-architecture action (the x32 bypass of a deny-list, on the real
/// kernel: KILL_THREAD here, SIGSYS). `runs`: whether this kernel runs x32 calls
/// ([`x32_runs`]).
fn x32_cases(runs: bool) -> Res<Vec<Case>> {
    // What an allowed x32 call does: runs, or ENOSYS where the kernel has x32 off.
    let natural = |v: Verdict| {
        if runs {
            v
        } else {
            Verdict::Errno(libc::ENOSYS)
        }
    };
    let x32 = |name: &str| nr(name, ScmpArch::X32);
    let (close, getpid, getppid) = (x32("close")?, x32("getpid")?, x32("getppid")?);
    let ebadf = natural(Verdict::Errno(libc::EBADF));
    let mut out = Vec::new();
    for level in [1, 2] {
        let mut ctx = new_ctx(ScmpAction::Allow, &[ScmpArch::X8664, ScmpArch::X32], level)?;
        ctx.add_rule_conditional(
            ScmpAction::Errno(101),
            sc("close")?,
            &[scmp_cmp!($arg0 == 7)],
        )
        .map_err(err("add_rule_conditional"))?;
        ctx.add_rule(ScmpAction::Errno(107), sc("getpid")?)
            .map_err(err("add_rule"))?;
        out.push(Case {
            name: format!("x32-rules-l{level}"),
            ctx,
            vectors: vec![
                v(close, [7, 0, 0, 0, 0, 0], ebadf),
                v(close, [BAD_FD, 0, 0, 0, 0, 0], ebadf),
                // (The kernel hands the filter x32's 64-bit registers whole, but x32 is a
                // 32-bit ABI to libseccomp, and here: its comparisons read the low word.)
                v(close, [0x1_0000_0007, 0, 0, 0, 0, 0], ebadf),
                v(getpid, [0; 6], natural(Verdict::Ok)),
                v(getppid, [0; 6], natural(Verdict::Ok)),
                v(nr("getpid", ScmpArch::X8664)?, [0; 6], Verdict::Ok),
            ],
            long_jump: false,
        });
        // A deny-list for x86_64 alone.
        let mut ctx = new_ctx(ScmpAction::Allow, &[ScmpArch::X8664], level)?;
        ctx.add_rule(ScmpAction::Errno(108), sc("getpid")?)
            .map_err(err("add_rule"))?;
        out.push(Case {
            name: format!("x32-bypass-l{level}"),
            ctx,
            vectors: vec![
                v(getpid, [0; 6], natural(Verdict::Ok)),
                v(getppid, [0; 6], natural(Verdict::Ok)),
                v(X32_BIT | 4000, [0; 6], Verdict::Errno(libc::ENOSYS)),
                v(nr("getpid", ScmpArch::X8664)?, [0; 6], Verdict::Ok),
            ],
            long_jump: false,
        });
    }
    Ok(out)
}

/// What the kernel does with `v` when `prog` (instructions in this host's order) is loaded:
/// in a forked child, which loads, makes the one syscall and exits with a code that encodes
/// the result (so it makes no other syscall under the filter but `exit_group`).
fn kernel_verdict(prog: &[Instruction], v: &Vector) -> Res<Verdict> {
    // SAFETY: the child only makes raw syscalls and exits; nothing is allocated after fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        let code = match load_bpf(prog, LoadFlags::new()) {
            Err(_) => 251,
            Ok(_) => {
                let a = v.args;
                // SAFETY: the vectors pass only harmless arguments (bad fds, numbers).
                let rc = unsafe {
                    libc::syscall(
                        libc::c_long::from(v.nr),
                        a[0] as libc::c_long,
                        a[1] as libc::c_long,
                        a[2] as libc::c_long,
                        a[3] as libc::c_long,
                        a[4] as libc::c_long,
                        a[5] as libc::c_long,
                    )
                };
                if rc >= 0 {
                    250
                } else {
                    // SAFETY: reading errno.
                    let e = unsafe { *libc::__errno_location() };
                    if (1..250).contains(&e) {
                        e
                    } else {
                        252
                    }
                }
            }
        };
        // SAFETY: leaves the child at once.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    if unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
        return Err(format!("waitpid: {}", std::io::Error::last_os_error()));
    }
    if libc::WIFSIGNALED(status) {
        return match libc::WTERMSIG(status) {
            libc::SIGSYS => Ok(Verdict::Sigsys),
            s => Err(format!("child killed by signal {s}")),
        };
    }
    match libc::WEXITSTATUS(status) {
        250 => Ok(Verdict::Ok),
        251 => Err("the kernel refused the filter".into()),
        252 => Err("errno out of range".into()),
        e => Ok(Verdict::Errno(e)),
    }
}

/// The verdict the simulator predicts for `v` from the program's return value.
fn expected(prog: &[Instruction], endian: Endian, arch: u32, v: &Vector) -> Res<Verdict> {
    let data = SeccompData {
        nr: v.nr,
        arch,
        instruction_pointer: 0,
        args: v.args,
    };
    let ret = bpf::simulate(prog, &data, endian)
        .map_err(err("simulate"))?
        .ret;
    Ok(match ret & 0xffff_0000 {
        0x7fff_0000 | 0x7ffc_0000 => v.natural, // ALLOW, LOG
        0x0005_0000 => Verdict::Errno((ret & 0xffff) as i32),
        0x8000_0000 | 0x0000_0000 | 0x0003_0000 => Verdict::Sigsys, // KILL_*, TRAP
        // TRACE without a tracer, NOTIFY without a listener.
        0x7ff0_0000 | 0x7fc0_0000 => Verdict::Errno(libc::ENOSYS),
        _ => return Err(format!("unexpected return value {ret:#x}")),
    })
}

fn host_endian() -> Endian {
    if cfg!(target_endian = "big") {
        Endian::Big
    } else {
        Endian::Little
    }
}

/// Counts of a run.
#[derive(Default)]
struct Tally {
    programs: usize,
    vectors: usize,
    failures: Vec<String>,
}

/// Builds every case for the native architecture and checks it against the kernel.
fn check_native(t: &mut Tally) -> Res<()> {
    let arch = ScmpArch::native();
    let token = audit_arch(arch).ok_or_else(|| format!("no AUDIT_ARCH for {arch:?}"))?;
    let mut all = cases(arch)?;
    if arch == ScmpArch::X8664 {
        let runs = x32_runs();
        println!(
            "x32 calls: this kernel {} them",
            if runs {
                "runs"
            } else {
                "has x32 off: the filter sees them, then ENOSYS for"
            }
        );
        all.extend(x32_cases(runs)?);
    }
    for case in all {
        let bytes = case.ctx.export_bpf_mem().map_err(err("export"))?;
        let prog = bpf::decode(&bytes, case.ctx.byte_order()).map_err(err("decode"))?;
        check_program(
            t,
            &format!("native/{}", case.name),
            &prog,
            case.long_jump,
            |v| {
                // The independent evaluator of the rules must agree with the simulator too.
                let data = SeccompData {
                    nr: v.nr,
                    arch: token,
                    instruction_pointer: 0,
                    args: v.args,
                };
                let sim = bpf::simulate(&prog, &data, host_endian())
                    .map_err(err("simulate"))?
                    .ret;
                let eval = case.ctx.evaluate(&data);
                if sim != eval {
                    return Err(format!("simulator {sim:#x} != evaluator {eval:#x}"));
                }
                expected(&prog, host_endian(), token, v)
            },
            &case.vectors,
        )?;
    }
    Ok(())
}

fn check_program(
    t: &mut Tally,
    name: &str,
    prog: &[Instruction],
    long_jump: bool,
    mut expect: impl FnMut(&Vector) -> Res<Verdict>,
    vectors: &[Vector],
) -> Res<()> {
    bpf::validate(prog).map_err(err(name))?;
    if long_jump
        && !prog
            .iter()
            .any(|i| i.code == bpf::BPF_JMP | bpf::BPF_JA && i.k > 255)
    {
        t.failures
            .push(format!("{name}: no jump over 255 instructions"));
    }
    t.programs += 1;
    for v in vectors {
        t.vectors += 1;
        let want = match expect(v) {
            Ok(w) => w,
            Err(e) => {
                t.failures
                    .push(format!("{name} nr {} {:x?}: {e}", v.nr, v.args));
                continue;
            }
        };
        match kernel_verdict(prog, v) {
            Ok(got) if got == want => {}
            Ok(got) => t.failures.push(format!(
                "{name} nr {} args {:x?}: kernel {got}, simulator {want}",
                v.nr, v.args
            )),
            Err(e) => t
                .failures
                .push(format!("{name} nr {} args {:x?}: {e}", v.nr, v.args)),
        }
    }
    Ok(())
}

/// Checks the programs exported on another host: `DIR/NAME.bpf` (in this host's byte
/// order, as the exporting host wrote them for this architecture) and `DIR/NAME.vec` (one
/// `nr a0 .. a5 verdict` line per vector, the verdict as that host's simulator predicted).
fn check_exported(t: &mut Tally, dir: &Path) -> Res<usize> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(err("read_dir"))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".bpf").map(str::to_string))
        .collect();
    names.sort();
    for name in &names {
        let bytes = std::fs::read(dir.join(format!("{name}.bpf"))).map_err(err(name))?;
        let prog = bpf::decode(&bytes, host_endian()).map_err(err(name))?;
        let text = std::fs::read_to_string(dir.join(format!("{name}.vec"))).map_err(err(name))?;
        let mut vectors = Vec::new();
        let mut wants = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let f: Vec<&str> = line.split_whitespace().collect();
            let bad = || format!("{name}.vec line {}: {line:?}", i + 1);
            if f.len() != 8 {
                return Err(bad());
            }
            let nr = f[0].parse().map_err(|_| bad())?;
            let mut args = [0u64; 6];
            for (a, s) in args.iter_mut().zip(&f[1..7]) {
                *a = u64::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|_| bad())?;
            }
            vectors.push(v(nr, args, Verdict::Ok));
            wants.push(Verdict::parse(f[7]).ok_or_else(bad)?);
        }
        let long = name.starts_with("long-jumps") && !dir.starts_with("/compat");
        let mut it = wants.clone().into_iter();
        check_program(
            t,
            &format!("exported/{name}"),
            &prog,
            long,
            |_| it.next().ok_or_else(|| "vector count".to_string()),
            &vectors,
        )?;
        if long {
            sensitivity(t, name, &prog, &vectors, &wants);
        }
    }
    Ok(names.len())
}

/// The check must see the fault libseccomp has when it exports for the other byte order:
/// return values in the wrong byte order. With every `ret` value of `prog` byte-swapped, the
/// kernel must give another verdict than the exporting host predicted for some vector.
fn sensitivity(
    t: &mut Tally,
    name: &str,
    prog: &[Instruction],
    vectors: &[Vector],
    wants: &[Verdict],
) {
    let swapped: Vec<Instruction> = prog
        .iter()
        .map(|i| {
            let mut i = *i;
            if i.code == bpf::BPF_RET | bpf::BPF_K {
                i.k = i.k.swap_bytes();
            }
            i
        })
        .collect();
    let differ = vectors
        .iter()
        .zip(wants)
        .filter(|(v, w)| !matches!(kernel_verdict(&swapped, v), Ok(got) if got == **w))
        .count();
    println!(
        "exported/{name} with byte-swapped RET values: {differ} of {} vectors differ",
        vectors.len()
    );
    if differ == 0 {
        t.failures.push(format!(
            "exported/{name}: byte-swapped RET values went unnoticed; the check is blind to them"
        ));
    }
}

/// `export ARCH DIR`: writes the cases for `ARCH` with the verdicts this host's simulator
/// predicts, in `ARCH`'s byte order.
fn export(arch: ScmpArch, dir: &Path) -> Res<()> {
    let token = audit_arch(arch).ok_or_else(|| format!("no AUDIT_ARCH for {arch:?}"))?;
    std::fs::create_dir_all(dir).map_err(err("mkdir"))?;
    for case in cases(arch)? {
        let bytes = case.ctx.export_bpf_mem().map_err(err("export"))?;
        let endian = case.ctx.byte_order();
        let prog = bpf::decode(&bytes, endian).map_err(err("decode"))?;
        let mut vec = String::new();
        for v in &case.vectors {
            let want = expected(&prog, endian, token, v)?;
            let a = v.args;
            vec += &format!(
                "{} {:x} {:x} {:x} {:x} {:x} {:x} {want}\n",
                v.nr, a[0], a[1], a[2], a[3], a[4], a[5]
            );
        }
        std::fs::write(dir.join(format!("{}.bpf", case.name)), &bytes).map_err(err("write"))?;
        std::fs::write(dir.join(format!("{}.vec", case.name)), vec).map_err(err("write"))?;
        println!(
            "{}: {} instructions ({endian:?}), {} vectors",
            case.name,
            prog.len(),
            case.vectors.len()
        );
    }
    Ok(())
}

/// The compat-ABI checker the aarch64 VM also runs: a 32-bit `kernel-check` (arm), whose
/// syscalls go through the kernel's compat entry, with its own cases (and its own exported
/// ones in `/compat/cases`).
const COMPAT_CHECK: &str = "/compat/kernel-check";

/// The crate's kernel test binaries (`tests/kernel_*.rs`, `notify.rs`, ...), built for the
/// VM's target by `tests/vm/run.sh`: each runs as on a native CI host, where a test that
/// needs a kernel feature must not skip (`PURE_SECCOMP_REQUIRE_KERNEL=1`).
const KERNEL_TESTS: &str = "/tests";
/// Their 32-bit builds, which the compat run (`COMPAT_CHECK`) runs.
const COMPAT_KERNEL_TESTS: &str = "/compat/tests";

/// The `pure-seccomp` command, which the command's `run_learn` test (in `/tests`) starts;
/// `/bin` also holds a static busybox as `sh`, `true`, `mkdir`, `uname` and `sleep`, which
/// that test runs.
const COMMAND: &str = "/bin/pure-seccomp";

/// The shared material `tests/vm/run.sh` copies into the initramfs (the one policy a kernel
/// test compiles); a test that finds nothing there skips with a printed reason.
const SHARED: &str = "/shared";

/// Runs every test binary in `dir` (sorted by name; their output goes to the console) and
/// returns how many passed, of how many.
fn run_kernel_tests(prefix: &str, dir: &Path) -> Res<(usize, usize)> {
    let mut bins: Vec<_> = std::fs::read_dir(dir)
        .map_err(err("reading the test binaries"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    bins.sort();
    let mut passed = 0;
    for bin in &bins {
        let name = bin.file_name().unwrap_or_default().to_string_lossy();
        let status = std::process::Command::new(bin)
            .env("PURE_SECCOMP_REQUIRE_KERNEL", "1")
            .env("PURE_SECCOMP_SHARED", SHARED)
            .env("PURE_SECCOMP_E2E_BIN", COMMAND)
            .env("PATH", "/bin")
            .env("RUST_BACKTRACE", "0")
            .status();
        let ok = matches!(&status, Ok(s) if s.success());
        passed += usize::from(ok);
        println!(
            "{prefix}kernel tests: {name}: {}",
            match status {
                Ok(s) if s.success() => "ok".to_string(),
                Ok(s) => format!("FAILED ({s})"),
                Err(e) => format!("FAILED (cannot run: {e})"),
            }
        );
    }
    Ok((passed, bins.len()))
}

/// As PID 1: the system the checks and the test binaries expect: `/proc`, `/dev` (they open
/// `/dev/null`) and a `/tmp`.
fn set_up_system() {
    for (fs, dir, mode) in [(c"proc", c"/proc", 0o555), (c"devtmpfs", c"/dev", 0o755)] {
        // SAFETY: creating a directory and mounting a kernel file system on it, in our own
        // initramfs.
        unsafe {
            libc::mkdir(dir.as_ptr(), mode);
            libc::mount(fs.as_ptr(), dir.as_ptr(), fs.as_ptr(), 0, std::ptr::null());
        }
    }
    // SAFETY: creating a directory in our own initramfs.
    unsafe { libc::mkdir(c"/tmp".as_ptr(), 0o1777) };
}

/// Runs the checks; `prefix` starts every line (the compat run's lines must not look like
/// the main PASS line).
fn run(prefix: &str, cases_dir: &Path) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_else(|_| "unknown (no /proc)".into());
    println!(
        "{prefix}kernel-check: {:?} ({}), kernel {}, API level {}",
        ScmpArch::native(),
        std::env::consts::ARCH,
        release.trim(),
        get_api()
    );
    let mut t = Tally::default();
    let mut fatal = None;
    if let Err(e) = check_native(&mut t) {
        fatal = Some(e);
    }
    let mut exported = 0;
    if fatal.is_none() && cases_dir.is_dir() {
        match check_exported(&mut t, cases_dir) {
            Ok(n) => exported = n,
            Err(e) => fatal = Some(e),
        }
    }
    for f in t.failures.iter().take(40) {
        println!("{prefix}mismatch: {f}");
    }
    let mut ok = fatal.is_none() && t.failures.is_empty() && t.programs > 0;
    let mut tests = String::new();
    let tests_dir = Path::new(if prefix.is_empty() {
        KERNEL_TESTS
    } else {
        COMPAT_KERNEL_TESTS
    });
    if tests_dir.is_dir() {
        match run_kernel_tests(prefix, tests_dir) {
            Ok((passed, total)) => {
                tests = format!("; kernel tests: {passed} of {total} binaries passed");
                ok &= passed == total && total > 0;
            }
            Err(e) => {
                tests = format!("; kernel tests: {e}");
                ok = false;
            }
        }
    }
    let mut compat = String::new();
    if prefix.is_empty() && Path::new(COMPAT_CHECK).exists() {
        let passed = std::process::Command::new(COMPAT_CHECK)
            .args(["compat", "/compat/cases"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        compat = format!(
            "; compat ABI check {}",
            if passed { "passed" } else { "FAILED" }
        );
        ok &= passed;
    }
    println!(
        "{prefix}{} kernel-check: {} programs ({} exported elsewhere), {} vectors, {} mismatches{}{tests}{compat}",
        if ok { "PASS" } else { "FAIL" },
        t.programs,
        exported,
        t.vectors,
        t.failures.len(),
        fatal.map(|e| format!(", error: {e}")).unwrap_or_default()
    );
    ok
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pid1 = std::process::id() == 1;
    if pid1 {
        set_up_system();
    }
    let code = match args.get(1).map(String::as_str) {
        Some("export") => match (args.get(2).and_then(|a| parse_arch(a)), args.get(3)) {
            (Some(arch), Some(dir)) => match export(arch, Path::new(dir)) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("kernel-check export: {e}");
                    1
                }
            },
            _ => {
                eprintln!("usage: kernel-check export aarch64|arm|s390x|x86_64|x86|riscv64 DIR");
                2
            }
        },
        None | Some("run") => i32::from(!run("", Path::new("/cases"))),
        Some("compat") => {
            let dir = args.get(2).map_or("/compat/cases", String::as_str);
            i32::from(!run("compat: ", Path::new(dir)))
        }
        Some(other) => {
            eprintln!("usage: kernel-check [run] | compat [DIR] | export ARCH DIR (not {other:?})");
            2
        }
    };
    if pid1 {
        // SAFETY: flushing and powering off the VM; PID 1 must not exit.
        unsafe {
            libc::sync();
            libc::reboot(libc::RB_POWER_OFF);
        }
    }
    std::process::exit(code);
}
