//! Security regressions, as tests: the known ways seccomp filters (and libseccomp's in
//! particular) have been weaker than their rules.
//!
//! * the x32 bypass: a deny-list on x86_64 must not let `nr | 0x40000000` through;
//! * multiplexed socket/ipc calls on x86 and s390/s390x: exactly what is enforced;
//! * 64-bit argument comparisons (libseccomp issue #139, CVE-2019-9893) and the merge of
//!   two range rules on one argument (GHSA-4q85-33p6-j5g6, fixed in libseccomp 2.6.1);
//! * oversized filters (GHSA-46fr-jh49-xvhx and GHSA-2hqh-5c36-grrm, fixed in 2.6.1: a
//!   double free and a heap corruption when libseccomp generated a too-large filter);
//! * the kernel's 4096-instruction limit: 4096 loads, 4097 is an error before `load`.
//!
//! Every verdict is the program's (run by the simulator) at both optimize levels and with
//! the optimizer's passes in many combinations, and it must also equal the independent
//! evaluator's (`ScmpFilterContext::evaluate`).

mod kernel_util;

use pure_seccomp::bpf::{self, Instruction, SeccompData};
use pure_seccomp::error::SeccompErrno;
use pure_seccomp::opt::Passes;
use pure_seccomp::*;

const X86_64: u32 = 0xc000_003e;
const X86: u32 = 0x4000_0003;
const S390: u32 = 0x0000_0016;
const S390X: u32 = 0x8000_0016;
const AARCH64: u32 = 0xc000_00b7;
const PPC64: u32 = 0x8000_0015;
const X32_BIT: i32 = 0x4000_0000;

const ALLOW: u32 = 0x7fff_0000;
const KILL_THREAD: u32 = 0;
const KILL_PROCESS: u32 = 0x8000_0000;
const fn errno(e: u32) -> u32 {
    0x0005_0000 | e
}

/// Every subset of the optimizer's passes when `all` is set, else the usual few (all,
/// none, each one off).
fn pass_sets(all: bool) -> Vec<Passes> {
    if all {
        let bits = Passes::all().bits();
        (0..=bits)
            .filter(|b| b & !bits == 0)
            .map(Passes::from_bits_truncate)
            .collect()
    } else {
        let mut v = vec![Passes::all(), Passes::empty()];
        v.extend(Passes::all().iter().map(|p| Passes::all() - p));
        v
    }
}

/// The programs of `ctx` at both levels with every pass set of `passes`: each validated.
fn programs(ctx: &mut ScmpFilterContext, passes: &[Passes]) -> Vec<(String, Vec<Instruction>)> {
    let mut out = Vec::new();
    let (level, keep) = (ctx.get_ctl_optimize().unwrap(), ctx.get_opt_passes());
    for lvl in [1, 2] {
        ctx.set_ctl_optimize(lvl).unwrap();
        for &p in passes {
            ctx.set_opt_passes(p);
            let prog = bpf::decode(&ctx.export_bpf_mem().unwrap(), ctx.byte_order()).unwrap();
            bpf::validate(&prog).unwrap_or_else(|e| panic!("level {lvl} {p:?}: {e}"));
            out.push((format!("level {lvl} {p:?}"), prog));
        }
    }
    ctx.set_ctl_optimize(level).unwrap();
    ctx.set_opt_passes(keep);
    out
}

/// Runs every program on `d`: all must return `want`, as must the evaluator.
fn check(
    ctx: &ScmpFilterContext,
    progs: &[(String, Vec<Instruction>)],
    d: &SeccompData,
    want: u32,
) {
    assert_eq!(ctx.evaluate(d), want, "evaluator on {d:?}");
    for (name, prog) in progs {
        let got = bpf::simulate(prog, d, ctx.byte_order()).unwrap().ret;
        assert_eq!(
            got,
            want,
            "{name}: {d:?} returns {got:#x}, want {want:#x}\n{}",
            bpf::disassemble(prog)
        );
    }
}

fn data(arch: u32, nr: i32, args: [u64; 6]) -> SeccompData {
    SeccompData {
        nr,
        arch,
        instruction_pointer: 0x7fff_0000_1234,
        args,
    }
}

fn only(arch: ScmpArch, default: ScmpAction) -> ScmpFilterContext {
    let mut ctx = ScmpFilterContext::new(default).unwrap();
    ctx.remove_arch(ScmpArch::native()).unwrap();
    ctx.add_arch(arch).unwrap();
    ctx
}

/// A syscall by name, as rules take it: in native numbering (translated by name for the
/// filter's architectures).
fn native(name: &str) -> ScmpSyscall {
    ScmpSyscall::from_name(name).unwrap()
}

/// The direct (not multiplexed) number of `name` on `arch`, from the number-to-name table.
fn direct(name: &str, arch: ScmpArch) -> Option<i32> {
    (0..1000).find(|&n| {
        ScmpSyscall::from(n)
            .get_name_by_arch(arch)
            .is_ok_and(|s| s == name)
    })
}

/// The number of `name` on `arch` (for queries).
fn nr(name: &str, arch: ScmpArch) -> i32 {
    ScmpSyscall::from_name_by_arch(name, arch)
        .unwrap()
        .as_raw_syscall()
}

// --- the x32 bypass ------------------------------------------------------------------------

/// The x86_64 kernel accepts x32 calls (number with bit 30 set) under the same
/// `AUDIT_ARCH_X86_64` token, and its x32 table reaches the same kernel functions: a
/// deny-list that checked only the number would be bypassed by `execve | 0x40000000`
/// (x32's execve is 520, but every x32 number runs with the bit). A filter on x86_64 without
/// the x32 ABI must give every number with the bit the bad-architecture action, at both
/// levels and with every combination of optimizer passes.
#[test]
fn x32_numbers_do_not_bypass_an_x86_64_deny_list() {
    let denied = [
        "execve",
        "execveat",
        "ptrace",
        "mount",
        "kexec_load",
        "bpf",
        "open_by_handle_at",
        "init_module",
        "keyctl",
        "unshare",
        "setns",
        "personality",
    ];
    for badarch in [ScmpAction::KillProcess, ScmpAction::Errno(38)] {
        let mut ctx = only(ScmpArch::X8664, ScmpAction::Allow);
        ctx.set_act_badarch(badarch).unwrap();
        for n in denied {
            ctx.add_rule(ScmpAction::Errno(1), native(n)).unwrap();
        }
        ctx.add_rule_conditional(
            ScmpAction::KillProcess,
            native("socket"),
            &[scmp_cmp!($arg0 == 38)],
        )
        .unwrap();
        let bad = match badarch {
            ScmpAction::KillProcess => KILL_PROCESS,
            _ => errno(38),
        };
        let progs = programs(&mut ctx, &pass_sets(true));
        for n in denied {
            let nr = nr(n, ScmpArch::X8664);
            check(&ctx, &progs, &data(X86_64, nr, [0; 6]), errno(1));
            check(&ctx, &progs, &data(X86_64, nr | X32_BIT, [0; 6]), bad);
        }
        // x32's own execve and every number with the bit, low and high.
        let socket = nr("socket", ScmpArch::X8664);
        check(
            &ctx,
            &progs,
            &data(X86_64, socket, [38, 0, 0, 0, 0, 0]),
            KILL_PROCESS,
        );
        check(
            &ctx,
            &progs,
            &data(X86_64, socket | X32_BIT, [38, 0, 0, 0, 0, 0]),
            bad,
        );
        for x in [0, 1, 59, 520, 545, 0x1fff, 0x3fff_ffff] {
            check(&ctx, &progs, &data(X86_64, X32_BIT | x, [0; 6]), bad);
        }
        // Numbers past the bit (negative ones included) are not x32 calls: the default.
        // The kernel fails them with ENOSYS after the filter allows them.
        check(&ctx, &progs, &data(X86_64, 0, [0; 6]), ALLOW);
        check(&ctx, &progs, &data(X86_64, X32_BIT - 1, [0; 6]), ALLOW);
    }
}

/// With the x32 ABI in the filter, x32 calls are judged by x32 rules: a rule made by name
/// covers x32's own number for the call, and the x86_64 number with the bit is not taken
/// for the x86_64 call.
#[test]
fn x32_rules_cover_x32_numbers() {
    let mut ctx = only(ScmpArch::X8664, ScmpAction::Allow);
    ctx.add_arch(ScmpArch::X32).unwrap();
    for n in ["execve", "ptrace", "mount"] {
        ctx.add_rule(ScmpAction::Errno(1), native(n)).unwrap();
    }
    let progs = programs(&mut ctx, &pass_sets(false));
    for n in ["execve", "ptrace", "mount"] {
        let x32 = ScmpSyscall::from_name_by_arch(n, ScmpArch::X32)
            .unwrap()
            .as_raw_syscall();
        assert_ne!(x32 & X32_BIT, 0, "{n} on x32 carries the bit");
        check(&ctx, &progs, &data(X86_64, x32, [0; 6]), errno(1));
        check(
            &ctx,
            &progs,
            &data(X86_64, nr(n, ScmpArch::X8664), [0; 6]),
            errno(1),
        );
    }
    // x32's execve is 520 | bit; the 64-bit execve's number (59) with the bit is another
    // x32 entry, judged as x32 (no rule: the default).
    let want = ctx.evaluate(&data(X86_64, 59 | X32_BIT, [0; 6]));
    check(&ctx, &progs, &data(X86_64, 59 | X32_BIT, [0; 6]), want);
}

// --- socketcall and ipc --------------------------------------------------------------------

/// What is enforced on architectures that multiplex socket calls through `socketcall(2)`
/// and SysV IPC through `ipc(2)` (x86, s390, s390x here), for a rule on a call such as
/// `socket` or `shmat` (README, deliberate difference 6):
///
/// 1. the direct syscall (`socket` = 359 on x86, 359 on s390/s390x) gets the rule, its
///    conditions checked as written;
/// 2. the multiplexer with that call's number in `args[0]` (`SYS_SOCKET` = 1, `SHMAT` = 21)
///    gets, for an unconditional rule, the rule's action (as libseccomp does); for a rule
///    with conditions, the more restrictive of the rule's action and the default action,
///    whatever the other arguments (they point to user memory that a filter cannot read);
/// 3. the multiplexer with any other call number gets the default action (or its own rule).
///
/// So an allow-list cannot be widened through the multiplexer, and a deny-list with a
/// condition denies the multiplexed call outright (fail closed).
#[test]
fn multiplexed_socket_and_ipc_calls() {
    struct Mux {
        arch: ScmpArch,
        token: u32,
    }
    let arches = [
        Mux {
            arch: ScmpArch::X86,
            token: X86,
        },
        Mux {
            arch: ScmpArch::S390,
            token: S390,
        },
        Mux {
            arch: ScmpArch::S390X,
            token: S390X,
        },
    ];
    // Arguments the multiplexer may carry: a pointer, zero, the family as if unpacked.
    let tails: [[u64; 5]; 3] = [[0x7ffd_1000, 0, 0, 0, 0], [0; 5], [1, 1, 1, 1, 1]];
    let with_call = |call: u64, t: &[u64; 5]| [call, t[0], t[1], t[2], t[3], t[4]];
    for m in &arches {
        let socketcall = nr("socketcall", m.arch);
        let ipc = nr("ipc", m.arch);
        // The direct syscalls (Linux 4.3+ on x86, 4.3/5.1+ on s390 for socket/ipc calls).
        let socket = direct("socket", m.arch);
        let shmat = direct("shmat", m.arch);
        let connect = direct("connect", m.arch);
        assert!(
            socket.is_some(),
            "{:?}: no direct socket(2) in the tables",
            m.arch
        );
        println!(
            "{:?}: socketcall {socketcall}, ipc {ipc}; direct socket {socket:?}, shmat {shmat:?}, connect {connect:?}",
            m.arch
        );
        const SYS_SOCKET: u64 = 1;
        const SYS_CONNECT: u64 = 3;
        const SHMAT: u64 = 21;
        const SHMDT: u64 = 22;

        // An allow-list: socket only for AF_UNIX, shmat only read-only, connect always.
        let mut ctx = only(m.arch, ScmpAction::Errno(1));
        let sys = native;
        ctx.add_rule_conditional(ScmpAction::Allow, sys("socket"), &[scmp_cmp!($arg0 == 1)])
            .unwrap();
        ctx.add_rule_conditional(
            ScmpAction::Allow,
            sys("shmat"),
            &[scmp_cmp!($arg2 & 0o10000 == 0o10000)],
        )
        .unwrap();
        ctx.add_rule(ScmpAction::Allow, sys("connect")).unwrap();
        let progs = programs(&mut ctx, &pass_sets(false));
        // 1. direct calls keep their conditions.
        let at = |n: Option<i32>, args| n.map(|n| data(m.token, n, args));
        for (d, want) in [
            (at(socket, [1, 1, 0, 0, 0, 0]), ALLOW),
            (at(socket, [38, 5, 0, 0, 0, 0]), errno(1)),
            (at(shmat, [3, 0, 0o10000, 0, 0, 0]), ALLOW),
            (at(shmat, [3, 0, 0, 0, 0, 0]), errno(1)),
            (at(connect, [3, 0, 0, 0, 0, 0]), ALLOW),
        ] {
            if let Some(d) = d {
                check(&ctx, &progs, &d, want);
            }
        }
        for t in &tails {
            // 2. conditional allow: min(ALLOW, ERRNO) = ERRNO through the multiplexer.
            check(
                &ctx,
                &progs,
                &data(m.token, socketcall, with_call(SYS_SOCKET, t)),
                errno(1),
            );
            check(
                &ctx,
                &progs,
                &data(m.token, ipc, with_call(SHMAT, t)),
                errno(1),
            );
            // 2. unconditional allow: allowed through the multiplexer, as in libseccomp.
            check(
                &ctx,
                &progs,
                &data(m.token, socketcall, with_call(SYS_CONNECT, t)),
                ALLOW,
            );
            // 3. other call numbers: the default.
            check(
                &ctx,
                &progs,
                &data(m.token, ipc, with_call(SHMDT, t)),
                errno(1),
            );
            check(
                &ctx,
                &progs,
                &data(m.token, socketcall, with_call(2, t)),
                errno(1),
            );
        }

        // A deny-list: socket(AF_NETLINK) is killed, shmat with SHM_EXEC fails.
        let mut ctx = only(m.arch, ScmpAction::Allow);
        ctx.add_rule_conditional(
            ScmpAction::KillProcess,
            sys("socket"),
            &[scmp_cmp!($arg0 == 16)],
        )
        .unwrap();
        ctx.add_rule_conditional(
            ScmpAction::Errno(13),
            sys("shmat"),
            &[scmp_cmp!($arg2 & 0o100000 == 0o100000)],
        )
        .unwrap();
        let progs = programs(&mut ctx, &pass_sets(false));
        for (d, want) in [
            (at(socket, [16, 3, 0, 0, 0, 0]), KILL_PROCESS),
            (at(socket, [1, 1, 0, 0, 0, 0]), ALLOW),
            (at(shmat, [3, 0, 0o100000, 0, 0, 0]), errno(13)),
            (at(shmat, [3, 0, 0, 0, 0, 0]), ALLOW),
        ] {
            if let Some(d) = d {
                check(&ctx, &progs, &d, want);
            }
        }
        for t in &tails {
            // Fail closed: the multiplexed call is denied whatever it carries.
            check(
                &ctx,
                &progs,
                &data(m.token, socketcall, with_call(SYS_SOCKET, t)),
                KILL_PROCESS,
            );
            check(
                &ctx,
                &progs,
                &data(m.token, ipc, with_call(SHMAT, t)),
                errno(13),
            );
            check(
                &ctx,
                &progs,
                &data(m.token, socketcall, with_call(SYS_CONNECT, t)),
                ALLOW,
            );
            check(
                &ctx,
                &progs,
                &data(m.token, ipc, with_call(SHMDT, t)),
                ALLOW,
            );
        }
    }
}

// --- 64-bit comparisons --------------------------------------------------------------------

/// Values on both sides of `d` in each 32-bit word: the cases libseccomp before 2.4 got
/// wrong (issue #139: it compared the high and low words independently, so `arg > d` held
/// when only the low word was greater).
fn around(d: u64) -> Vec<u64> {
    let (h, l) = (d >> 32, d & 0xffff_ffff);
    let mut v = Vec::new();
    for dh in [0u64, 1, u64::MAX] {
        for dl in [0u64, 1, u64::MAX] {
            let hi = h.wrapping_add(dh) & 0xffff_ffff;
            let lo = l.wrapping_add(dl) & 0xffff_ffff;
            v.push(hi << 32 | lo);
        }
    }
    v.extend([
        0,
        u64::MAX,
        0x8000_0000_0000_0000,
        0xffff_ffff,
        0x1_0000_0000,
    ]);
    v
}

const DATUMS: &[u64] = &[
    0,
    1,
    5,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x1_0000_0005,
    0x5_ffff_fff0,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    0xffff_ffff_0000_0000,
    0xffff_fffe_ffff_ffff,
    u64::MAX - 1,
    u64::MAX,
];

fn holds(op: ScmpCompareOp, a: u64, d: u64) -> bool {
    match op {
        ScmpCompareOp::NotEqual => a != d,
        ScmpCompareOp::Less => a < d,
        ScmpCompareOp::LessOrEqual => a <= d,
        ScmpCompareOp::Equal => a == d,
        ScmpCompareOp::GreaterEqual => a >= d,
        ScmpCompareOp::Greater => a > d,
        ScmpCompareOp::MaskedEqual(m) => a & m == d,
        other => panic!("no test semantics for {other:?}"),
    }
}

/// Every operator against every boundary datum, on 64-bit ABIs of both byte orders: the
/// program allows exactly the arguments for which the comparison holds on the full 64-bit
/// values (not the evaluator's opinion: the arithmetic itself).
#[test]
fn comparisons_are_exact_on_64_bit_arguments() {
    let ops = |d: u64| {
        [
            ScmpCompareOp::Less,
            ScmpCompareOp::LessOrEqual,
            ScmpCompareOp::Greater,
            ScmpCompareOp::GreaterEqual,
            ScmpCompareOp::Equal,
            ScmpCompareOp::NotEqual,
            ScmpCompareOp::MaskedEqual(0xffff_0000_ffff_0000 | d),
        ]
    };
    let arches = [
        (ScmpArch::X8664, X86_64),
        (ScmpArch::Aarch64, AARCH64),
        (ScmpArch::S390X, S390X),
        (ScmpArch::Ppc64, PPC64),
    ];
    let mut checked = 0;
    for (arch, token) in arches {
        for &d in DATUMS {
            let mut ctx = only(arch, ScmpAction::Errno(1));
            let mut rules = Vec::new();
            // One syscall per operator, the argument index varying too.
            for (i, op) in ops(d).into_iter().enumerate() {
                let name = ["read", "write", "close", "dup", "fcntl", "lseek", "ioctl"][i];
                let arg = (i % 6) as u32;
                ctx.add_rule_conditional(
                    ScmpAction::Allow,
                    native(name),
                    &[ScmpArgCompare::new(arg, op, d)],
                )
                .unwrap();
                rules.push((nr(name, arch), arg as usize, op));
            }
            let progs = programs(&mut ctx, &pass_sets(false));
            for &(n, arg, op) in &rules {
                let d_masked = match op {
                    ScmpCompareOp::MaskedEqual(m) => d & m,
                    _ => d,
                };
                for a in around(d) {
                    let mut args = [0u64; 6];
                    args[arg] = a;
                    let want = if holds(op, a, d_masked) {
                        ALLOW
                    } else {
                        errno(1)
                    };
                    check(&ctx, &progs, &data(token, n, args), want);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 1000);
}

/// GHSA-4q85-33p6-j5g6 (libseccomp < 2.6.1): two range rules on one 64-bit argument with
/// the same high word and different actions were merged so that the less specific rule's
/// action applied inside the more specific range. For `<`, `<=`, `>`, `>=` pairs, added in
/// both orders: inside the narrower range its rule's action applies, between the bounds the
/// wider rule's, outside both the default.
#[test]
fn range_rules_on_one_argument_keep_the_narrower_action() {
    use ScmpCompareOp::*;
    let high = 0x1_0000_0000u64;
    let pairs = [
        (Less, high + 9, Less, high + 5),
        (LessOrEqual, high + 9, LessOrEqual, high + 5),
        (Less, high + 9, LessOrEqual, high + 5),
        (Greater, high + 5, Greater, high + 9),
        (GreaterEqual, high + 5, GreaterEqual, high + 9),
        (Greater, high + 5, GreaterEqual, high + 9),
    ];
    let (wide_act, narrow_act) = (ScmpAction::Allow, ScmpAction::Errno(1));
    for arch in [ScmpArch::X8664, ScmpArch::Aarch64, ScmpArch::S390X] {
        let token = match arch {
            ScmpArch::X8664 => X86_64,
            ScmpArch::Aarch64 => AARCH64,
            _ => S390X,
        };
        let n = nr("ioctl", arch);
        for (wop, wd, nop, nd) in pairs {
            for narrow_first in [false, true] {
                let mut ctx = only(arch, ScmpAction::KillThread);
                let sys = native("ioctl");
                let wide = [ScmpArgCompare::new(0, wop, wd)];
                let narrow = [ScmpArgCompare::new(0, nop, nd)];
                if narrow_first {
                    ctx.add_rule_conditional(narrow_act, sys, &narrow).unwrap();
                    ctx.add_rule_conditional(wide_act, sys, &wide).unwrap();
                } else {
                    ctx.add_rule_conditional(wide_act, sys, &wide).unwrap();
                    ctx.add_rule_conditional(narrow_act, sys, &narrow).unwrap();
                }
                let progs = programs(&mut ctx, &pass_sets(false));
                let mut values = around(wd);
                values.extend(around(nd));
                values.extend([high, high - 1, high + 7, 0, u64::MAX]);
                for a in values {
                    let want = if holds(nop, a, nd) {
                        errno(1)
                    } else if holds(wop, a, wd) {
                        ALLOW
                    } else {
                        KILL_THREAD
                    };
                    check(&ctx, &progs, &data(token, n, [a, 0, 0, 0, 0, 0]), want);
                }
            }
        }
    }
}

// --- oversized filters ---------------------------------------------------------------------

/// Adds `count` conditional rules (distinct values of `arg1` over eight syscalls).
fn add_values(ctx: &mut ScmpFilterContext, from: u64, count: u64) {
    let names = [
        "ioctl",
        "fcntl",
        "prctl",
        "setsockopt",
        "getsockopt",
        "madvise",
        "mmap",
        "futex",
    ];
    for i in from..from + count {
        let s = native(names[(i % 8) as usize]);
        ctx.add_rule_conditional(
            ScmpAction::Errno(1),
            s,
            &[scmp_cmp!($arg1 == 0x4000_0000 + i * 3)],
        )
        .unwrap();
    }
}

/// libseccomp 2.6.0 and older could double-free (GHSA-46fr-jh49-xvhx) or corrupt its heap
/// (GHSA-2hqh-5c36-grrm) when it generated a filter too large for the kernel. Here a filter
/// that outgrows the limit is an error (`EFAULT`, saying how long the program would be) from
/// every entry point that compiles it, as often as it is asked, and the filter stays
/// usable: rolling back the rules that made it too large gives a valid program again, and
/// the programs just below the limit (long jumps through `ja` trampolines) are right.
#[test]
fn oversized_filters_are_a_clean_error() {
    for level in [1, 2] {
        let mut ctx = only(ScmpArch::X8664, ScmpAction::Allow);
        ctx.set_ctl_optimize(level).unwrap();
        // Grow in steps until the program no longer fits.
        let mut added = 0;
        let mut last_ok = None;
        loop {
            ctx.start_transaction().unwrap();
            add_values(&mut ctx, added, 250);
            match ctx.export_bpf_mem() {
                Ok(bytes) => {
                    ctx.commit_transaction().unwrap();
                    added += 250;
                    last_ok = Some(bytes);
                }
                Err(e) => {
                    assert_eq!(e.errno(), Some(SeccompErrno::EFAULT), "{e}");
                    assert!(e.to_string().contains("4096"), "{e}");
                    // Every entry point refuses it, repeatedly, without loading anything.
                    for _ in 0..3 {
                        assert_eq!(
                            ctx.precompute().unwrap_err().errno(),
                            Some(SeccompErrno::EFAULT)
                        );
                        assert_eq!(
                            ctx.export_bpf_mem().unwrap_err().errno(),
                            Some(SeccompErrno::EFAULT)
                        );
                        let null = std::fs::OpenOptions::new()
                            .write(true)
                            .open("/dev/null")
                            .unwrap();
                        assert_eq!(
                            ctx.export_bpf(&null).unwrap_err().errno(),
                            Some(SeccompErrno::EFAULT)
                        );
                    }
                    ctx.reject_transaction();
                    break;
                }
            }
            assert!(
                added < 20_000,
                "level {level}: the filter never outgrew the limit"
            );
        }
        let bytes = ctx.export_bpf_mem().unwrap();
        assert_eq!(Some(&bytes), last_ok.as_ref(), "level {level}: rollback");
        let prog = bpf::decode(&bytes, ctx.byte_order()).unwrap();
        bpf::validate(&prog).unwrap();
        assert!(prog.len() > 1000 && prog.len() <= 4096, "{}", prog.len());
        // The near-limit program is right: every value and its neighbours, on a sample.
        let names = [
            "ioctl",
            "fcntl",
            "prctl",
            "setsockopt",
            "getsockopt",
            "madvise",
            "mmap",
            "futex",
        ];
        for i in (0..added).step_by(7) {
            let n = nr(names[(i % 8) as usize], ScmpArch::X8664);
            for v in [0x4000_0000 + i * 3, 0x4000_0000 + i * 3 + 1] {
                let d = data(X86_64, n, [0, v, 0, 0, 0, 0]);
                let got = bpf::simulate(&prog, &d, ctx.byte_order()).unwrap().ret;
                assert_eq!(got, ctx.evaluate(&d), "level {level}: {d:?}");
            }
        }
        // And once more past the limit: still an error, the filter still intact.
        ctx.start_transaction().unwrap();
        add_values(&mut ctx, added, 2000);
        assert_eq!(
            ctx.export_bpf_mem().unwrap_err().errno(),
            Some(SeccompErrno::EFAULT)
        );
        ctx.reject_transaction();
        assert_eq!(ctx.export_bpf_mem().unwrap(), bytes);
    }
}

// --- the 4096-instruction boundary ---------------------------------------------------------

/// A program of exactly `len` instructions that allows everything: `len - 1` forward
/// jumps that all fall through, then the return.
fn allow_program(len: usize) -> Vec<Instruction> {
    let mut p = vec![
        Instruction::jump(bpf::BPF_JMP | bpf::BPF_JEQ | bpf::BPF_K, 0xffff_ffff, 0, 0);
        len - 1
    ];
    p.push(Instruction::stmt(bpf::BPF_RET | bpf::BPF_K, ALLOW));
    p
}

/// 4096 instructions is the kernel's limit: such a program validates and loads; one of
/// 4097 is refused by the validator and by `load_bpf` before any system call (`EINVAL`),
/// and a filter context whose program would be that long refuses `load` (`EFAULT`) without
/// loading anything.
#[test]
fn the_4096_instruction_boundary() {
    let max = allow_program(4096);
    let over = allow_program(4097);
    assert_eq!(bpf::validate(&max), Ok(()));
    assert_eq!(
        bpf::validate(&over),
        Err(bpf::BpfError::TooLong { len: 4097 })
    );
    // Refused before the kernel is asked (no child needed: nothing can be loaded).
    let e = load_bpf(&over, LoadFlags::new()).unwrap_err();
    assert_eq!(e.errno(), Some(SeccompErrno::EINVAL), "{e}");
    let bytes = bpf::encode(
        &over,
        if cfg!(target_endian = "big") {
            Endian::Big
        } else {
            Endian::Little
        },
    );
    assert_eq!(
        load_bpf_bytes(&bytes, LoadFlags::new())
            .unwrap_err()
            .errno(),
        Some(SeccompErrno::EINVAL)
    );

    // (Asked without a fork: under qemu-user, which has no seccomp, a fork beside the test
    // runner's other threads can hang the emulated child.)
    require_kernel!();
    // The kernel takes 4096 instructions, and the filter runs (getpid is allowed).
    kernel_util::run_ok(|| {
        load_bpf(&max, LoadFlags::new()).map_err(|e| e.to_string())?;
        if unsafe { libc::getpid() } <= 0 {
            return Err("getpid failed under the filter".into());
        }
        Ok(())
    });
    // A context whose program is too long: load fails before the kernel, and the child can
    // still make any syscall afterwards (nothing was loaded).
    let mut ctx = only(ScmpArch::native(), ScmpAction::Allow);
    add_values_native(&mut ctx, 6000);
    kernel_util::run_ok(|| {
        let e = ctx.load().map(drop).unwrap_err();
        if e.errno() != Some(SeccompErrno::EFAULT) {
            return Err(format!("load: want EFAULT, got {e}"));
        }
        let mut mode = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) };
        if mode != 0 {
            mode = -mode;
            return Err(format!("a filter was loaded after all (mode {mode})"));
        }
        Ok(())
    });
}

/// `count` conditional rules on native syscalls (for loading on this machine).
fn add_values_native(ctx: &mut ScmpFilterContext, count: u64) {
    let names = ["ioctl", "fcntl", "prctl", "madvise"];
    for i in 0..count {
        let s = ScmpSyscall::from_name(names[(i % 4) as usize]).unwrap();
        ctx.add_rule_conditional(ScmpAction::Errno(1), s, &[scmp_cmp!($arg1 == i * 3)])
            .unwrap();
    }
}
