//! Where pure-seccomp deliberately differs from libseccomp 2.5.4: each case where libseccomp
//! builds a weaker filter than its rules say, hangs, or silently loses part of a filter.
//! The README lists them ("Deliberate differences from libseccomp"); each has a test here.
//!
//! The conformance replay (`tests/conformance.rs`) runs libseccomp's recorded cases in a
//! hidden compat mode that reproduces these bugs, to show that everything else matches; the
//! tests below show what the normal mode does instead (and, where the bug is reproducible,
//! what compat mode does).

use pure_seccomp::bpf::{self, SeccompData};
use pure_seccomp::*;
use std::sync::mpsc;
use std::time::Duration;

mod common;
use common::pfc_text;

const AUDIT_X86: u32 = 0x4000_0003;
const AUDIT_X86_64: u32 = 0xc000_003e;
const AUDIT_PARISC64: u32 = 0x8000_000f;

fn ret(ctx: &ScmpFilterContext, data: &SeccompData) -> u32 {
    let prog = bpf::decode(&ctx.export_bpf_mem().unwrap(), ctx.byte_order()).unwrap();
    bpf::validate(&prog).unwrap();
    let got = bpf::simulate(&prog, data, ctx.byte_order()).unwrap().ret;
    assert_eq!(
        got,
        ctx.evaluate(data),
        "program and rules disagree on {data:?}"
    );
    got
}

/// A filter of the given architectures only, whatever the host (the native one removed), in
/// libseccomp 2.5.4's compat mode or not.
fn only(default: ScmpAction, compat: bool, arches: &[ScmpArch]) -> ScmpFilterContext {
    let mut ctx = ScmpFilterContext::new(default).unwrap();
    ctx.__emulate_libseccomp_2_5_4(compat);
    ctx.remove_arch(ScmpArch::native()).unwrap();
    for &arch in arches {
        ctx.add_arch(arch).unwrap();
    }
    ctx
}

fn x86_only(default: ScmpAction) -> ScmpFilterContext {
    only(default, false, &[ScmpArch::X86])
}

fn data(arch: u32, nr: i32, args: [u64; 6]) -> SeccompData {
    SeccompData {
        nr,
        arch,
        instruction_pointer: 0,
        args,
    }
}

/// libseccomp 2.5.4 loads the syscall number in the block of the first syscall in priority
/// order. When that entry is a placeholder made by `set_syscall_priority` (or a pseudo
/// syscall such as `__PNR_recv`), it emits no block for it and nothing loads the number:
/// every syscall of the architecture is compared with the architecture token and gets the
/// default action, whatever the rules say.
#[test]
fn priority_placeholder_does_not_disable_the_rules() {
    let ptrace = ScmpSyscall::from_name("ptrace").unwrap();
    let getpid = ScmpSyscall::from_name("getpid").unwrap();
    for compat in [false, true] {
        let mut ctx = x86_only(ScmpAction::Allow);
        ctx.__emulate_libseccomp_2_5_4(compat);
        ctx.set_syscall_priority(getpid, 200).unwrap();
        ctx.add_rule(ScmpAction::KillProcess, ptrace).unwrap();
        let nr = ScmpSyscall::from_name_by_arch("ptrace", ScmpArch::X86)
            .unwrap()
            .as_raw_syscall();
        let got = ret(&ctx, &data(AUDIT_X86, nr, [0; 6]));
        let want = if compat { 0x7fff_0000 } else { 0x8000_0000 };
        assert_eq!(got, want, "compat {compat}");
    }
}

/// The same bug through a pseudo syscall: an unconditional rule on a name x86_64 lacks
/// (`_llseek`) sorts first, and the x86_64+x32 section never loads the syscall number.
#[test]
fn pseudo_syscall_rule_does_not_disable_the_rules() {
    let read = ScmpSyscall::from_name("read").unwrap();
    for compat in [false, true] {
        // x86_64 with x32, whatever the host.
        let mut ctx = only(ScmpAction::Allow, compat, &[ScmpArch::X8664, ScmpArch::X32]);
        ctx.add_rule_conditional(ScmpAction::Errno(1), read, &[scmp_cmp!($arg0 == 3)])
            .unwrap();
        ctx.add_rule(
            ScmpAction::KillThread,
            ScmpSyscall::from_name("_llseek").unwrap(),
        )
        .unwrap();
        let got = ret(&ctx, &data(AUDIT_X86_64, 0, [3, 0, 0, 0, 0, 0]));
        let want = if compat { 0x7fff_0000 } else { 0x0005_0001 };
        assert_eq!(got, want, "compat {compat}");
    }
}

/// libseccomp 2.5.4 undoes a failed rule by restoring a "shadow" copy of the filter taken at
/// the last successful rule and rebuilt from the rules alone: an architecture added since
/// then disappears, and so do all syscall priorities.
#[test]
fn failed_rule_keeps_architectures() {
    let read = ScmpSyscall::from_name("read").unwrap();
    for compat in [false, true] {
        // An x86_64 filter whatever the host, to which x86 joins.
        let mut ctx = only(ScmpAction::Errno(1), compat, &[ScmpArch::X8664]);
        ctx.add_rule(ScmpAction::Allow, read).unwrap();
        ctx.add_arch(ScmpArch::X86).unwrap();
        // 100000 is no syscall: EFAULT.
        let err = ctx
            .add_rule(ScmpAction::Allow, ScmpSyscall::from(100_000))
            .unwrap_err();
        assert_eq!(err.errno(), Some(error::SeccompErrno::EFAULT));
        assert_eq!(
            ctx.is_arch_present(ScmpArch::X86).unwrap(),
            !compat,
            "compat {compat}"
        );
    }
}

/// The same restore loses every priority set before it (the copy is rebuilt from the rules),
/// and the placeholders `set_syscall_priority` made (C program against the installed
/// library: `read`'s priority 200 set, a rule refused with `EEXIST`, and its pseudo filter
/// code shows 65535, the node count's part alone). Compat mode notes whose, so that the
/// replays explain a priority that differs from the normal mode's on those entries alone. The
/// normal mode keeps them.
#[test]
fn failed_rule_keeps_priorities() {
    let [read, write, getpid] =
        ["read", "write", "getpid"].map(|n| ScmpSyscall::from_name(n).unwrap());
    let native = ScmpArch::native();
    for compat in [false, true] {
        let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(1)).unwrap();
        ctx.__emulate_libseccomp_2_5_4(compat);
        ctx.add_rule(ScmpAction::Allow, read).unwrap();
        ctx.set_syscall_priority(read, 200).unwrap();
        ctx.set_syscall_priority(getpid, 100).unwrap();
        // The same comparison as `write`'s rule with another action: EEXIST.
        ctx.add_rule_conditional(ScmpAction::Allow, write, &[scmp_cmp!($arg0 == 1)])
            .unwrap();
        let err = ctx
            .add_rule_conditional(ScmpAction::KillThread, write, &[scmp_cmp!($arg0 == 1)])
            .unwrap_err();
        assert_eq!(err.errno(), Some(error::SeccompErrno::EEXIST));
        let text = pfc_text(&ctx).unwrap();
        let line = text.lines().find(|l| l.contains("\"read\"")).unwrap();
        // (The user priority is the high half.)
        let kept = line.contains(&format!("[priority: {}]", 200 << 16 | 65535));
        assert_eq!(kept, !compat, "compat {compat}: {line}");
        let lost =
            |s: ScmpSyscall| ctx.__libseccomp_2_5_4_priority_lost(native, s.as_raw_syscall());
        assert_eq!(
            [lost(read), lost(getpid), lost(write)],
            [compat, compat, false]
        );
        // A priority set again after the restore is the same in both modes.
        ctx.set_syscall_priority(read, 200).unwrap();
        let text = pfc_text(&ctx).unwrap();
        assert!(
            text.contains(&format!("[priority: {}]", 200 << 16 | 65535)),
            "{text}"
        );
    }
}

/// The same copy is kept in step with the filters by position: after an architecture is
/// removed from the front of the list and a rule added, libseccomp's copy holds the removed
/// architecture with the rules of the one after it. A failed rule then leaves libseccomp
/// 2.5.4 with that architecture alone (checked with a C program against the installed
/// library: ppc64 with ppc's three rules; ppc and mips64n32 gone). The normal mode restores
/// the filter as it was before the call; compat mode does not reproduce libseccomp's, and
/// says so (the replay stops comparing such a case there).
#[test]
fn failed_rule_after_an_architecture_removal_keeps_the_filter() {
    let (ioctl, read, write) = (
        ScmpSyscall::from_name("ioctl").unwrap(),
        ScmpSyscall::from_name("read").unwrap(),
        ScmpSyscall::from_name("write").unwrap(),
    );
    let nr = |name: &str| {
        ScmpSyscall::from_name_by_arch(name, ScmpArch::Ppc)
            .unwrap()
            .as_raw_syscall()
    };
    for compat in [false, true] {
        let mut ctx = only(
            ScmpAction::KillThread,
            compat,
            &[ScmpArch::Ppc64, ScmpArch::Ppc],
        );
        ctx.add_rule(ScmpAction::Errno(1), ioctl).unwrap();
        ctx.add_rule_conditional(ScmpAction::Errno(1), write, &[scmp_cmp!($arg0 == 1)])
            .unwrap();
        ctx.remove_arch(ScmpArch::Ppc64).unwrap();
        ctx.add_rule(ScmpAction::Errno(2), read).unwrap();
        ctx.add_arch(ScmpArch::Mips64N32).unwrap();
        assert!(!ctx.__libseccomp_2_5_4_restore_not_emulated());
        let err = ctx
            .add_rule_conditional(ScmpAction::Errno(3), write, &[scmp_cmp!($arg0 == 1)])
            .unwrap_err();
        assert_eq!(err.errno(), Some(error::SeccompErrno::EEXIST));
        assert_eq!(ctx.__libseccomp_2_5_4_restore_not_emulated(), compat);
        if !compat {
            let present = |a| ctx.is_arch_present(a).unwrap();
            assert!(present(ScmpArch::Ppc) && present(ScmpArch::Mips64N32));
            assert!(!present(ScmpArch::Ppc64));
            const AUDIT_PPC: u32 = 0x14;
            assert_eq!(ret(&ctx, &data(AUDIT_PPC, nr("read"), [0; 6])), 0x0005_0002);
            assert_eq!(
                ret(&ctx, &data(AUDIT_PPC, nr("ioctl"), [0; 6])),
                0x0005_0001
            );
            let write1 = data(AUDIT_PPC, nr("write"), [1, 0, 0, 0, 0, 0]);
            assert_eq!(ret(&ctx, &write1), 0x0005_0001);
        }
    }
}

/// libseccomp 2.5.4 decides per level of the argument tree whether a comparison must reload
/// the accumulator, so a comparison reached after a nested comparison fails can test the
/// argument word that comparison loaded instead of its own. Recorded in the conformance
/// corpus as case s8-f6 (query 141): libseccomp's program returns ALLOW although neither rule
/// matches.
#[test]
fn comparisons_test_their_own_argument() {
    let mut ctx = only(ScmpAction::Errno(1), false, &[ScmpArch::Parisc64]);
    ctx.set_ctl_optimize(2).unwrap();
    let memfd = ScmpSyscall::from_name("memfd_create").unwrap();
    ctx.add_rule_conditional(
        ScmpAction::Errno(193),
        memfd,
        &[
            scmp_cmp!($arg2 == 0xffff_ffff_0000_0000),
            scmp_cmp!($arg1 < 8_102_415_512_866_331_333),
            scmp_cmp!($arg5 >= 0xffff_ffff_0000_0000),
        ],
    )
    .unwrap();
    ctx.add_rule_conditional(
        ScmpAction::Allow,
        memfd,
        &[
            scmp_cmp!($arg1 > 0x2_0000_000a),
            scmp_cmp!($arg4 != 0x1_0000_0001),
            scmp_cmp!($arg5 > 0x8000_0000),
        ],
    )
    .unwrap();
    let nr = ScmpSyscall::from_name_by_arch("memfd_create", ScmpArch::Parisc64)
        .unwrap()
        .as_raw_syscall();
    let q = data(
        AUDIT_PARISC64,
        nr,
        [0, 0, u64::MAX, 0, 0, 0xffff_ffff_0000_0000],
    );
    // Neither rule matches (arg2 is not 0xffffffff00000000, arg1 is not above 0x20000000a).
    assert_eq!(ret(&ctx, &q), 0x0005_0001);
    // libseccomp's answer, ALLOW, is what a stale accumulator gives.
    assert!(ctx.__libseccomp_2_5_4_stale_acc_explains(&q, 0x7fff_0000));
}

/// libseccomp 2.5.4 never returns from the second `add_rule` here: both rules reach the
/// comparison after `arg0 != 7` from two places, and merging them links one node into two
/// sibling lists, which then form a cycle. pure-seccomp links a copy.
#[test]
fn rules_that_hang_libseccomp_terminate() {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
        let sys = ScmpSyscall::from_name("fcntl").unwrap();
        ctx.add_rule_conditional(
            ScmpAction::Errno(1),
            sys,
            &[scmp_cmp!($arg1 == 5), scmp_cmp!($arg0 != 7)],
        )
        .unwrap();
        let second = ctx
            .add_rule_conditional(
                ScmpAction::Errno(2),
                sys,
                &[scmp_cmp!($arg0 != 7), scmp_cmp!($arg2 == 1)],
            )
            .is_ok();
        let nr = sys.as_raw_syscall();
        let mut answers = Vec::new();
        for args in [
            [1, 5, 0, 0, 0, 0],
            [1, 0, 1, 0, 0, 0],
            [7, 5, 1, 0, 0, 0],
            [0, 0, 0, 0, 0, 0],
        ] {
            answers.push(ret(&ctx, &data(AUDIT_X86_64, nr, args)));
        }
        tx.send((second, answers)).unwrap();
    });
    let (ok, answers) = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("adding the rules must terminate");
    assert!(ok);
    if cfg!(target_arch = "x86_64") {
        assert_eq!(
            answers,
            vec![0x0005_0001, 0x0005_0002, 0x7fff_0000, 0x7fff_0000]
        );
    }
}

/// libseccomp before 2.6.1 (GHSA-4q85-33p6-j5g6) merged two `<` (or `<=`) rules on one
/// 64-bit argument with the same high word wrongly: the more specific rule's action was
/// written to the wrong edge, so the less specific rule's action applied where the more
/// specific one should (below the high word, here). pure-seccomp implements the fixed merge;
/// compat mode keeps the first rule's action there, as libseccomp 2.5.4 does.
#[test]
fn range_rules_on_64_bit_arguments_merge_correctly() {
    for compat in [false, true] {
        let mut ctx = only(ScmpAction::KillThread, compat, &[ScmpArch::Aarch64]);
        let sys = ScmpSyscall::from_name("ioctl").unwrap();
        ctx.add_rule_conditional(ScmpAction::Allow, sys, &[scmp_cmp!($arg0 < 0x1_0000_0009)])
            .unwrap();
        ctx.add_rule_conditional(
            ScmpAction::Errno(1),
            sys,
            &[scmp_cmp!($arg0 < 0x1_0000_0005)],
        )
        .unwrap();
        let nr = ScmpSyscall::from_name_by_arch("ioctl", ScmpArch::Aarch64)
            .unwrap()
            .as_raw_syscall();
        let aarch64 = 0xc000_00b7;
        let q = |a0| data(aarch64, nr, [a0, 0, 0, 0, 0, 0]);
        // Below both bounds: the more specific (smaller) bound's rule; libseccomp 2.5.4's
        // merge leaves the first rule's where the high word is below theirs.
        let below = if compat { 0x7fff_0000 } else { 0x0005_0001 };
        assert_eq!(ret(&ctx, &q(0)), below, "compat {compat}");
        assert_eq!(ret(&ctx, &q(0x1_0000_0004)), 0x0005_0001);
        // Between the bounds: only the first rule.
        assert_eq!(ret(&ctx, &q(0x1_0000_0006)), 0x7fff_0000);
        // Above both: the default.
        assert_eq!(ret(&ctx, &q(0x1_0000_0009)), 0);
    }
}

/// On architectures that route socket calls through `socketcall(2)` (x86, s390, ppc, mips
/// o32, ...), libseccomp turns a rule such as "allow socket(AF_UNIX)" into "allow
/// socketcall(SYS_SOCKET, anything)": the family is in user memory and cannot be checked,
/// so the condition is dropped (and conditions on other arguments are applied to the
/// multiplexer's own registers). That allows every family through socketcall, the AF_ALG
/// bypass containers hit. pure-seccomp gives the multiplexed call the more restrictive of
/// the rule's action and the default action instead.
#[test]
fn conditions_on_multiplexed_socket_calls_fail_closed() {
    let socket = ScmpSyscall::from_name("socket").unwrap();
    for compat in [false, true] {
        let mut ctx = x86_only(ScmpAction::Errno(1));
        ctx.__emulate_libseccomp_2_5_4(compat);
        ctx.add_rule_conditional(
            ScmpAction::Allow,
            socket,
            &[scmp_cmp!($arg0 == libc::AF_UNIX as u64)],
        )
        .unwrap();
        // socketcall(SYS_SOCKET, args) with a pointer to (AF_ALG, ...) in args[1].
        let via_socketcall = ret(&ctx, &data(AUDIT_X86, 102, [1, 0x1000, 0, 0, 0, 0]));
        let want = if compat { 0x7fff_0000 } else { 0x0005_0001 };
        assert_eq!(via_socketcall, want, "compat {compat}");
        // The direct socket(2) syscall keeps its condition either way.
        let direct = ScmpSyscall::from_name_by_arch_rewrite("socket", ScmpArch::X86).unwrap();
        assert_eq!(direct.as_raw_syscall(), 102);
        let nr = 359; // socket(2) on i386
        assert_eq!(
            ret(
                &ctx,
                &data(AUDIT_X86, nr, [libc::AF_UNIX as u64, 0, 0, 0, 0, 0])
            ),
            0x7fff_0000
        );
        assert_eq!(
            ret(&ctx, &data(AUDIT_X86, nr, [38, 0, 0, 0, 0, 0])),
            0x0005_0001
        );
    }
    // A deny rule with a condition denies the multiplexed call outright (fail closed).
    let mut ctx = x86_only(ScmpAction::Allow);
    ctx.add_rule_conditional(ScmpAction::Errno(13), socket, &[scmp_cmp!($arg0 == 38)])
        .unwrap();
    assert_eq!(
        ret(&ctx, &data(AUDIT_X86, 102, [1, 0x1000, 0, 0, 0, 0])),
        0x0005_000d
    );
    // Two deny rules with different errnos: both are kept for socket(2), and socketcall keeps
    // the first deny (the kernel ranks all ERRNO values alike) instead of failing with EEXIST.
    let mut ctx = x86_only(ScmpAction::Allow);
    ctx.add_rule_conditional(ScmpAction::Errno(13), socket, &[scmp_cmp!($arg0 == 38)])
        .unwrap();
    ctx.add_rule_conditional(ScmpAction::Errno(1), socket, &[scmp_cmp!($arg0 == 40)])
        .unwrap();
    assert_eq!(
        ret(&ctx, &data(AUDIT_X86, 102, [1, 0x1000, 0, 0, 0, 0])),
        0x0005_000d
    );
    assert_eq!(
        ret(&ctx, &data(AUDIT_X86, 359, [40, 0, 0, 0, 0, 0])),
        0x0005_0001
    );
    assert_eq!(
        ret(&ctx, &data(AUDIT_X86, 359, [38, 0, 0, 0, 0, 0])),
        0x0005_000d
    );
    assert_eq!(
        ret(&ctx, &data(AUDIT_X86, 359, [2, 0, 0, 0, 0, 0])),
        0x7fff_0000
    );
}

/// Three of libseccomp 2.5.4's merges that go wrong where a 64-bit range (or `!=`) comparison
/// forks a rule, each of which the conformance corpus' random filters and the recorded cases
/// (`bench-c`'s `record`) meet. Compat mode reproduces them; the normal mode builds what the
/// rules say, which `tests/rule_semantics.rs` checks on random rules.
#[test]
fn rules_forked_by_a_range_merge_as_they_say() {
    let (allow, errno, kill) = (0x7fff_0000, 0x0005_0001, 0);
    let x86_64 = |compat: bool| only(ScmpAction::Errno(1), compat, &[ScmpArch::X8664]);
    let nr_x86_64 = |name: &str| {
        ScmpSyscall::from_name_by_arch(name, ScmpArch::X8664)
            .unwrap()
            .as_raw_syscall()
    };
    for compat in [false, true] {
        // A rule's values leak under another rule's range: both lead on from the high word's
        // `>` node to one list of `$arg5` values, which libseccomp then shares between the
        // two rules' low-word nodes.
        let mprotect = ScmpSyscall::from_name("mprotect").unwrap();
        let mut ctx = x86_64(compat);
        ctx.add_rule_conditional(
            ScmpAction::Allow,
            mprotect,
            &[scmp_cmp!($arg0 >= 0x8000_0000), scmp_cmp!($arg5 == 10)],
        )
        .unwrap();
        ctx.add_rule_conditional(
            ScmpAction::Allow,
            mprotect,
            &[scmp_cmp!($arg0 > 1), scmp_cmp!($arg5 == 20)],
        )
        .unwrap();
        let nr = nr_x86_64("mprotect");
        let q = |a0, a5| data(AUDIT_X86_64, nr, [a0, 0, 0, 0, 0, a5]);
        assert_eq!(ret(&ctx, &q(2, 10)), if compat { allow } else { errno });
        assert_eq!(ret(&ctx, &q(2, 20)), allow);
        assert_eq!(ret(&ctx, &q(0x8000_0000, 10)), allow);

        // A longer rule dropped after a range: merging `$arg0 >= 0` into `$arg0 > 0`, the high
        // word's `>` edge ends in the first rule's action, and libseccomp stops there, before
        // the `==` edge that leads on to the low word.
        let ioctl = ScmpSyscall::from_name("ioctl").unwrap();
        let mut ctx = x86_64(compat);
        ctx.add_rule_conditional(ScmpAction::KillThread, ioctl, &[scmp_cmp!($arg0 > 0)])
            .unwrap();
        ctx.add_rule_conditional(
            ScmpAction::KillThread,
            ioctl,
            &[
                scmp_cmp!($arg5 != 1),
                scmp_cmp!($arg0 >= 0),
                scmp_cmp!($arg1 > 2),
            ],
        )
        .unwrap();
        let q = data(AUDIT_X86_64, nr_x86_64("ioctl"), [0, 3, 0, 0, 0, 0]);
        assert_eq!(ret(&ctx, &q), if compat { errno } else { kill });

        // A longer rule taken for covered by a shorter one (a 32-bit ABI): the existing
        // `$arg5 >= 7` node decides only its false edge, the new one only its true edge, and
        // libseccomp's prune walk still reports a match.
        let fcntl = ScmpSyscall::from_name("fcntl").unwrap();
        let mut ctx = x86_only(ScmpAction::Errno(1));
        ctx.__emulate_libseccomp_2_5_4(compat);
        ctx.add_rule_conditional(ScmpAction::KillThread, fcntl, &[scmp_cmp!($arg5 < 7)])
            .unwrap();
        ctx.add_rule_conditional(
            ScmpAction::KillThread,
            fcntl,
            &[scmp_cmp!($arg1 >= 3), scmp_cmp!($arg5 >= 7)],
        )
        .unwrap();
        let nr = ScmpSyscall::from_name_by_arch("fcntl", ScmpArch::X86)
            .unwrap()
            .as_raw_syscall();
        assert_eq!(
            ret(&ctx, &data(AUDIT_X86, nr, [0, 3, 0, 0, 0, 7])),
            if compat { errno } else { kill }
        );
        assert_eq!(ret(&ctx, &data(AUDIT_X86, nr, [0, 0, 0, 0, 0, 6])), kill);
        assert_eq!(ret(&ctx, &data(AUDIT_X86, nr, [0, 0, 0, 0, 0, 7])), errno);
    }
}

/// The second case above has a consequence for later rules: the part of a rule libseccomp
/// dropped is in the normal mode's tree, and a later rule can conflict with it. A rule with
/// other comparisons after the same ones and another action is refused with `EEXIST`, as
/// libseccomp refuses it wherever it merged the first rule whole; libseccomp takes it here,
/// because the rule it conflicts with is the part it lost. The normal mode leaves the filter
/// as it was (difference 2).
#[test]
fn a_rule_conflicting_with_what_libseccomp_dropped_is_refused() {
    let (errno, trap, kill) = (0x0005_0026, 0x0003_0000, 0x8000_0000);
    let statfs = ScmpSyscall::from_name("statfs").unwrap();
    let nr = ScmpSyscall::from_name_by_arch("statfs", ScmpArch::X8664)
        .unwrap()
        .as_raw_syscall();
    let q = |a0, a2| data(AUDIT_X86_64, nr, [a0, 0, a2, 0, 0, 0]);
    for compat in [false, true] {
        let mut ctx = only(ScmpAction::KillProcess, compat, &[ScmpArch::X8664]);
        let (first, second) = (
            [scmp_cmp!($arg0 > 100)],
            [scmp_cmp!($arg2 <= 5), scmp_cmp!($arg0 > 0)],
        );
        ctx.add_rule_conditional(ScmpAction::Errno(38), statfs, &first)
            .unwrap();
        ctx.add_rule_conditional(ScmpAction::Errno(38), statfs, &second)
            .unwrap();
        // What the two rules say (libseccomp lost the second one's low-word way, which the
        // conformance replay's classifier sees).
        assert_eq!(ret(&ctx, &q(1, 5)), if compat { kill } else { errno });
        assert_eq!(ctx.__libseccomp_2_5_4_merged_wrongly(statfs), compat);
        let before = ctx.export_bpf_mem().unwrap();
        let third = ctx.add_rule_conditional(ScmpAction::Trap, statfs, &[scmp_cmp!($arg0 > 0)]);
        if compat {
            third.unwrap();
            assert_eq!(ret(&ctx, &q(1, 5)), trap);
        } else {
            assert_eq!(
                third.unwrap_err().errno(),
                Some(error::SeccompErrno::EEXIST)
            );
            assert_eq!(ctx.export_bpf_mem().unwrap(), before);
            assert_eq!(ret(&ctx, &q(1, 5)), errno);
            assert_eq!(ret(&ctx, &q(1, 6)), kill);
        }
        assert_eq!(ret(&ctx, &q(101, 6)), errno);
        // Without the first rule libseccomp merges the second one whole, and refuses the
        // third as the normal mode does.
        let mut ctx = ScmpFilterContext::new(ScmpAction::KillProcess).unwrap();
        ctx.__emulate_libseccomp_2_5_4(compat);
        ctx.add_rule_conditional(ScmpAction::Errno(38), statfs, &second)
            .unwrap();
        assert!(!ctx.__libseccomp_2_5_4_merged_wrongly(statfs));
        let third = ctx.add_rule_conditional(ScmpAction::Trap, statfs, &[scmp_cmp!($arg0 > 0)]);
        assert_eq!(
            third.unwrap_err().errno(),
            Some(error::SeccompErrno::EEXIST)
        );
    }
}

/// A later rule that prunes what a forked rule led on to: libseccomp 2.5.4 shares the rest of
/// the forked rule between the two edges, so pruning it under one edge frees nothing, and the
/// syscall's node count (its priority: the order of a level-1 program, and what `export_pfc`
/// shows) keeps the shared nodes; the normal mode gives each edge its own copy and frees the
/// pruned one. The trees decide alike; the count differs. Recorded (`record --seed 90`,
/// filter 57, on `unlink`): libseccomp's pseudo filter code shows priority 65528 (7 nodes),
/// compat mode's too.
#[test]
fn a_forked_rule_pruned_under_one_edge_is_counted_apart() {
    let priority = |compat: bool| {
        let mut ctx = only(ScmpAction::KillThread, compat, &[ScmpArch::X8664]);
        // (Named through the native architecture, as the API takes it; queried by x86_64's
        // number.)
        let mprotect = ScmpSyscall::from_name("mprotect").unwrap();
        // `$arg0 >= 0xffff_ffff` forks: its high word's `>` and its low word's `>=` nodes
        // both lead on to `$arg1 < 0x1_0000_0001` (three nodes).
        let a1 = scmp_cmp!($arg1 < 0x1_0000_0001);
        let rule = [scmp_cmp!($arg0 >= 0xffff_ffff), a1];
        ctx.add_rule_conditional(ScmpAction::Allow, mprotect, &rule)
            .unwrap();
        // Allows every high word above 0 outright: the `$arg1` test under that edge goes.
        let wider = [scmp_cmp!($arg0 > 0x8592_4a58)];
        ctx.add_rule_conditional(ScmpAction::Allow, mprotect, &wider)
            .unwrap();
        let nr = ScmpSyscall::from_name_by_arch("mprotect", ScmpArch::X8664)
            .unwrap()
            .as_raw_syscall();
        let q = |a0: u64, a1: u64| data(AUDIT_X86_64, nr, [a0, a1, 0, 0, 0, 0]);
        assert_eq!(ret(&ctx, &q(1 << 32, 1 << 40)), 0x7fff_0000);
        assert_eq!(ret(&ctx, &q(0xffff_ffff, 1 << 40)), 0x7fff_0000);
        assert_eq!(ret(&ctx, &q(0x8592_4a58, 0)), 0);
        let text = pfc_text(&ctx).unwrap();
        let line = text.lines().find(|l| l.contains("\"mprotect\"")).unwrap();
        line.trim().to_string()
    };
    assert_eq!(
        priority(true),
        "# filter for syscall \"mprotect\" (10) [priority: 65528]"
    );
    assert_eq!(
        priority(false),
        "# filter for syscall \"mprotect\" (10) [priority: 65531]"
    );
}

/// The third case above has a consequence too: libseccomp's prune walk stops at the match it
/// reports, so a branch that the new rule covers further on stays in its tree, and a later
/// rule can conflict with that branch. On a 32-bit ABI, `{$arg1 != 0}` (TRAP) covers the
/// branch of `{$arg0 == 0, $arg1 != 0}` (TRAP), and drops it; but where
/// `{$arg0 == 2, $arg1 == 0}` (ERRNO) came between, libseccomp's walk first meets that rule's
/// `$arg1 == 0` node, which decides the edge the new one leaves open, reports a match and
/// stops. `{$arg0 == 0}` with another action then conflicts with the kept branch, and
/// libseccomp 2.5.4 refuses it with `EEXIST` (checked against the installed library), as it
/// refuses it after the first rule alone; the normal mode dropped the branch, and takes it.
#[test]
fn a_rule_conflicting_with_a_branch_libseccomp_kept_is_taken() {
    let (errno, trap, trace, allow) = (0x0005_007b, 0x0003_0000, 0x7ff0_0001, 0x7fff_0000);
    let preadv = ScmpSyscall::from_name("preadv").unwrap();
    let nr = ScmpSyscall::from_name_by_arch("preadv", ScmpArch::X86)
        .unwrap()
        .as_raw_syscall();
    let q = |a0, a1| data(AUDIT_X86, nr, [a0, a1, 0, 0, 0, 0]);
    let last = [scmp_cmp!($arg0 == 0)];
    for compat in [false, true] {
        // The first rule alone; without the second; with it.
        for (third, between) in [(false, false), (true, false), (true, true)] {
            let mut ctx = x86_only(ScmpAction::Allow);
            ctx.__emulate_libseccomp_2_5_4(compat);
            ctx.add_rule_conditional(
                ScmpAction::Trap,
                preadv,
                &[scmp_cmp!($arg0 == 0), scmp_cmp!($arg1 != 0)],
            )
            .unwrap();
            if between {
                ctx.add_rule_conditional(
                    ScmpAction::Errno(123),
                    preadv,
                    &[scmp_cmp!($arg0 == 2), scmp_cmp!($arg1 == 0)],
                )
                .unwrap();
            }
            if third {
                ctx.add_rule_conditional(ScmpAction::Trap, preadv, &[scmp_cmp!($arg1 != 0)])
                    .unwrap();
            }
            assert_eq!(
                ctx.__libseccomp_2_5_4_merged_wrongly(preadv),
                compat && between
            );
            let before = ctx.export_bpf_mem().unwrap();
            let added = ctx.add_rule_conditional(ScmpAction::Trace(1), preadv, &last);
            if !third || (compat && between) {
                // The first rule's branch is there: a conflict.
                assert_eq!(
                    added.unwrap_err().errno(),
                    Some(error::SeccompErrno::EEXIST)
                );
                assert_eq!(ctx.export_bpf_mem().unwrap(), before);
                assert_eq!(ret(&ctx, &q(0, 0)), allow);
            } else {
                added.unwrap();
                assert_eq!(ret(&ctx, &q(0, 0)), trace);
            }
            assert_eq!(ret(&ctx, &q(0, 1)), trap);
            assert_eq!(ret(&ctx, &q(2, 0)), if between { errno } else { allow });
            assert_eq!(ret(&ctx, &q(5, 1)), if third { trap } else { allow });
        }
    }
}

/// x86_64 and x32 share an audit token, so an x86_64 rule given an x32 number (bit 30 set:
/// only a raw number gives one) judges the same calls as x32's rules for that number.
/// libseccomp 2.5.4 lets one entry decide, but which one depends on the optimize level: at
/// level 2 the one of the architecture added first, at level 1 the one of higher priority
/// (here x32's unconditional rule over x86_64's conditional one; a C program with these
/// calls against the installed library: ALLOW at level 1, KILL_THREAD at level 2; found by
/// the recorder, seed 4105). pure-seccomp decides as at level 2 at both levels; compat mode
/// reproduces level 1's choice.
#[test]
fn an_x32_number_in_two_architectures_rules_is_judged_alike_at_both_levels() {
    if !cfg!(target_arch = "x86_64") {
        // (Raw numbers are the native ABI's.)
        return;
    }
    let x32_socket = ScmpSyscall::from_name_by_arch("socket", ScmpArch::X32).unwrap();
    let call = data(AUDIT_X86_64, x32_socket.as_raw_syscall(), [0; 6]);
    for compat in [false, true] {
        for level in [1, 2] {
            let mut ctx = ScmpFilterContext::new(ScmpAction::KillThread).unwrap();
            ctx.__emulate_libseccomp_2_5_4(compat);
            ctx.set_ctl_optimize(level).unwrap();
            ctx.add_rule_conditional(ScmpAction::Allow, x32_socket, &[scmp_cmp!($arg2 > 0)])
                .unwrap();
            ctx.add_arch(ScmpArch::X32).unwrap();
            ctx.add_rule(ScmpAction::Allow, ScmpSyscall::from_name("socket").unwrap())
                .unwrap();
            let want = if compat && level == 1 { 0x7fff_0000 } else { 0 };
            assert_eq!(ret(&ctx, &call), want, "compat {compat}, level {level}");
            assert_eq!(
                ctx.__libseccomp_2_5_4_judged_by_priority(&call),
                compat && level == 1,
                "compat {compat}, level {level}"
            );
        }
    }
}

/// The same for syscall -1 (a tracer's skipped call, taken with `api_tskip`), which x86_64 and
/// x32 share: rules on it before x32 is added stay x86_64's alone, so its entry there holds
/// more than x32's and sorts after it at level 1 (C program against the installed library:
/// `-1(5, 0, 0)` KILL_THREAD at level 1, ALLOW at level 2).
#[test]
fn syscall_minus_1_in_two_architectures_rules_is_judged_alike_at_both_levels() {
    let skip = ScmpSyscall::from(-1);
    let call = data(AUDIT_X86_64, -1, [5, 0, 0, 0, 0, 0]);
    for compat in [false, true] {
        for level in [1, 2] {
            let mut ctx = only(ScmpAction::KillThread, compat, &[ScmpArch::X8664]);
            ctx.set_ctl_optimize(level).unwrap();
            ctx.set_api_tskip(true).unwrap();
            ctx.add_rule_conditional(ScmpAction::Allow, skip, &[scmp_cmp!($arg0 == 5)])
                .unwrap();
            ctx.add_rule_conditional(ScmpAction::Trap, skip, &[scmp_cmp!($arg1 == 7)])
                .unwrap();
            ctx.add_arch(ScmpArch::X32).unwrap();
            ctx.add_rule_conditional(ScmpAction::Errno(1), skip, &[scmp_cmp!($arg2 == 9)])
                .unwrap();
            let want = if compat && level == 1 { 0 } else { 0x7fff_0000 };
            assert_eq!(ret(&ctx, &call), want, "compat {compat}, level {level}");
        }
    }
}

/// A shorter rule drops every branch it covers, whatever order the rules came in. Looking for
/// the new rule's node below an existing rule's prefix, libseccomp 2.5.4's prune walk stops at
/// the level's first greater sibling (the level is in descending order), so the covered
/// branch goes only where the new node is the greatest: `{$arg2 == Z}` (KILL) covers the
/// branch of `{$arg1 == H, $arg2 == Z}`, and drops it where that is alone below
/// `$arg1 == H`, but not beside `{$arg1 == H, $arg5 == Y}`, whose `$arg5` node sorts first
/// there (C program against the installed library: priority 65527, 7 nodes, with the
/// branch; 65529, 5 nodes, with the single rule first, which makes the longer one
/// redundant). The normal mode passes over the greater sibling and drops the
/// branch either way. The verdicts are the same; the node count, the syscall's priority (the
/// order of a level-1 program) and `export_pfc`'s text are not. Compat mode keeps the branch
/// as libseccomp does; the normal mode notes where it dropped one that libseccomp keeps.
#[test]
fn a_shorter_rule_drops_every_branch_it_covers() {
    let mprotect = ScmpSyscall::from_name("mprotect").unwrap();
    let (h, y, z) = (1 << 63, 0x1234_5678_0000_0009, 0x5_0000_0007);
    let pairs = [
        [scmp_cmp!($arg1 == h), scmp_cmp!($arg5 == y)].to_vec(),
        [scmp_cmp!($arg1 == h), scmp_cmp!($arg2 == z)].to_vec(),
    ];
    let single = [scmp_cmp!($arg2 == z)].to_vec();
    // (x86_64 whatever the host: a 32-bit ABI would compare the values' low words alone.)
    let audit = common::audit_of(ScmpArch::X8664);
    let nr = ScmpSyscall::from_name_by_arch("mprotect", ScmpArch::X8664)
        .unwrap()
        .as_raw_syscall();
    for compat in [false, true] {
        for single_first in [false, true] {
            let mut ctx = only(ScmpAction::Allow, compat, &[ScmpArch::X8664]);
            ctx.__track_libseccomp_stops(true);
            let rules = match single_first {
                false => [&pairs[0], &pairs[1], &single],
                true => [&single, &pairs[0], &pairs[1]],
            };
            for rule in rules {
                ctx.add_rule_conditional(ScmpAction::KillThread, mprotect, rule)
                    .unwrap();
            }
            let kept = compat && !single_first;
            let text = pfc_text(&ctx).unwrap();
            let line = text.lines().find(|l| l.contains("\"mprotect\"")).unwrap();
            let priority = if kept { 65527 } else { 65529 };
            assert!(
                line.ends_with(&format!("[priority: {priority}]")),
                "compat {compat}, single first {single_first}: {line}"
            );
            // The branch's `$a2` test under `$a1 == H`: after the top-level one, only if kept.
            let a2_tests = text.matches("if ($a2.hi32 == 5)").count();
            assert_eq!(a2_tests, if kept { 2 } else { 1 }, "{text}");
            // (The normal mode notes where it dropped what libseccomp keeps.)
            assert_eq!(
                ctx.__pruned_past_libseccomp_stop(ScmpArch::X8664, nr),
                !compat && !single_first,
                "compat {compat}, single first {single_first}"
            );
            for (a1, a2, a5) in [
                (h, z, 0),
                (h, z, y),
                (h, 0, y),
                (h, 0, 0),
                (0, z, 0),
                (0, 0, y),
            ] {
                let want = if a2 == z || (a1 == h && a5 == y) {
                    0
                } else {
                    0x7fff_0000
                };
                let q = data(audit, nr, [0, a1, a2, 0, 0, a5]);
                assert_eq!(
                    ret(&ctx, &q),
                    want,
                    "compat {compat}, single first {single_first}, {q:?}"
                );
            }
        }
    }
}

/// Difference 12 is only the branches below the stop: past it the normal mode's walk drops
/// what the rule covers, then returns what libseccomp 2.5.4's walk returned at the stop, so
/// the walks above go where libseccomp's go. Two rule sets on x86 (32-bit arguments) where
/// the walk past the stop would find a match on a branch of another action:
///
/// * `{$arg0 > 0, $arg1 == 0, $arg2 & 7 == 0}` (KILL_PROCESS), `{$arg0 == 5, $arg2 & 7 == 0,
///   $arg5 > 9}` (TRAP), `{$arg0 == 5, $arg2 == 0}` (LOG), then `{$arg2 & 7 == 0}`
///   (KILL_PROCESS): below `$arg0 == 5` libseccomp's walk finds the TRAP branch's node, stops
///   at `$arg2 == 0` (the same key, another comparison) and returns that match, which stops
///   the walk above: the first rule's branch stays (C program against the installed library:
///   priority 65527);
/// * `{$arg1 == 0, $arg5 == 0}` (LOG), `{$arg0 == 0, $arg2 == 0}` (TRAP), `{$arg1 == 0,
///   $arg2 == 0}` (LOG), then `{$arg2 == 0}` (TRAP): below `$arg1 == 0` libseccomp's walk
///   stops at `$arg5 == 0` without a match and goes on to `$arg0 == 0`, whose branch it drops
///   (65531). Returning the match it finds past the stop, the normal mode's walk kept that
///   branch (65529) until its walk returned libseccomp's answer.
///
/// Both modes build libseccomp's trees here; the verdicts are alike.
#[test]
fn walking_past_the_stop_returns_what_libseccomp_found() {
    let cases = [
        (
            "mprotect",
            vec![
                (
                    ScmpAction::KillProcess,
                    vec![
                        scmp_cmp!($arg0 > 0),
                        scmp_cmp!($arg1 == 0),
                        scmp_cmp!($arg2 & 7 == 0),
                    ],
                ),
                (
                    ScmpAction::Trap,
                    vec![
                        scmp_cmp!($arg0 == 5),
                        scmp_cmp!($arg2 & 7 == 0),
                        scmp_cmp!($arg5 > 9),
                    ],
                ),
                (
                    ScmpAction::Log,
                    vec![scmp_cmp!($arg0 == 5), scmp_cmp!($arg2 == 0)],
                ),
                (ScmpAction::KillProcess, vec![scmp_cmp!($arg2 & 7 == 0)]),
            ],
            65527,
            // `$arg2 & 7 == 0` sorts first at the top: it decides before the other rules.
            (|a: [u64; 6]| {
                if a[2] & 7 == 0 {
                    0x8000_0000
                } else {
                    0x7fff_0000
                }
            }) as fn([u64; 6]) -> u32,
        ),
        (
            "fcntl",
            vec![
                (
                    ScmpAction::Log,
                    vec![scmp_cmp!($arg1 == 0), scmp_cmp!($arg5 == 0)],
                ),
                (
                    ScmpAction::Trap,
                    vec![scmp_cmp!($arg0 == 0), scmp_cmp!($arg2 == 0)],
                ),
                (
                    ScmpAction::Log,
                    vec![scmp_cmp!($arg1 == 0), scmp_cmp!($arg2 == 0)],
                ),
                (ScmpAction::Trap, vec![scmp_cmp!($arg2 == 0)]),
            ],
            65531,
            // `$arg2 == 0` sorts first at the top, then `$arg1 == 0`'s LOG branches.
            |a: [u64; 6]| match a {
                [_, _, 0, ..] => 0x0003_0000,
                [_, 0, _, _, _, 0] => 0x7ffc_0000,
                _ => 0x7fff_0000,
            },
        ),
    ];
    let audit = common::audit_of(ScmpArch::X86);
    for (name, rules, priority, verdict) in cases {
        let sys = ScmpSyscall::from_name(name).unwrap();
        let nr = ScmpSyscall::from_name_by_arch(name, ScmpArch::X86)
            .unwrap()
            .as_raw_syscall();
        let mut texts = Vec::new();
        for compat in [false, true] {
            let mut ctx = only(ScmpAction::Allow, compat, &[ScmpArch::X86]);
            ctx.__track_libseccomp_stops(true);
            for (action, cmps) in &rules {
                ctx.add_rule_conditional(*action, sys, cmps).unwrap();
            }
            let text = pfc_text(&ctx).unwrap();
            let line = text.lines().find(|l| l.contains(name)).unwrap();
            assert!(
                line.ends_with(&format!("[priority: {priority}]")),
                "{name}, compat {compat}: {line}"
            );
            assert!(!ctx.__pruned_past_libseccomp_stop(ScmpArch::X86, nr));
            for args in [
                [5, 0, 0, 0, 0, 10],
                [5, 0, 1, 0, 0, 10],
                [1, 0, 8, 0, 0, 0],
                [1, 0, 9, 0, 0, 0],
                [0, 1, 0, 0, 0, 0],
                [0, 0, 1, 0, 0, 0],
                [0, 0, 1, 0, 0, 1],
            ] {
                let q = data(audit, nr, args);
                assert_eq!(
                    ret(&ctx, &q),
                    verdict(args),
                    "{name}, compat {compat}, {q:?}"
                );
            }
            texts.push(text);
        }
        assert_eq!(texts[0], texts[1], "{name}");
    }
}
