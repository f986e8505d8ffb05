//! `ScmpFilterContext::export_pfc`: libseccomp's pseudo filter code, for small filters whose
//! expected text is written out by hand from the format's rules (and was checked against
//! libseccomp 2.5.4 when it was written). The conformance replay compares whole texts with
//! libseccomp's on the cases `bench-c`'s `record` makes (`tests/conformance/pfc.rs`).
//!
//! Format reminders: the architecture blocks come in the order the architectures were added,
//! headed with the `seccomp_data.arch` value; entries are listed by descending priority
//! (0xffff minus the node count, plus the user priority shifted by 16), ties by descending
//! unsigned number; at optimize level 2 by descending number only, inside a binary search of
//! `if ($syscall > N)` / `else # ($syscall <= N)` blocks. Arguments are `$aN` on 32-bit ABIs
//! and `$aN.hi32`/`$aN.lo32` on 64-bit ones; only `==`, `>`, `>=` and masked `==` exist, so
//! `!=`, `<` and `<=` show as an empty true branch followed by `else`.
//!
//! The syscalls are given by name and the native architecture is removed where it is not
//! wanted, so the texts do not depend on the host.

use pure_seccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare as Cmp, ScmpCompareOp as Op, ScmpFilterContext,
    ScmpSyscall,
};

mod common;
use common::pfc_text;

const HEAD: &str = "#\n# pseudo filter code start\n#\n";
const TAIL: &str = "#\n# pseudo filter code end\n#\n";

fn supported() -> bool {
    ScmpArch::native() != ScmpArch::Native
}

fn sys(name: &str) -> ScmpSyscall {
    ScmpSyscall::from_name(name).unwrap()
}

fn pfc(ctx: &ScmpFilterContext) -> String {
    pfc_text(ctx).unwrap()
}

/// A context with exactly these architectures.
fn ctx_with(default: ScmpAction, arches: &[ScmpArch]) -> ScmpFilterContext {
    let mut ctx = ScmpFilterContext::new(default).unwrap();
    ctx.remove_arch(ScmpArch::native()).unwrap();
    for a in arches {
        ctx.add_arch(*a).unwrap();
    }
    ctx
}

fn cond(ctx: &mut ScmpFilterContext, act: ScmpAction, name: &str, cmps: &[Cmp]) {
    ctx.add_rule_conditional(act, sys(name), cmps).unwrap();
}

#[track_caller]
fn check(ctx: &ScmpFilterContext, body: &str) {
    let want = format!("{HEAD}{body}{TAIL}");
    let got = pfc(ctx);
    assert!(
        got == want,
        "PFC differs\n--- expected\n{want}--- got\n{got}"
    );
}

#[test]
fn no_rules() {
    if !supported() {
        return;
    }
    let ctx = ctx_with(ScmpAction::Allow, &[ScmpArch::X8664]);
    check(
        &ctx,
        "\
# filter for arch x86_64 (3221225534)
if ($arch == 3221225534)
  # default action
  action ALLOW;
# invalid architecture action
action KILL;
",
    );
}

#[test]
fn arguments_64_bit() {
    if !supported() {
        return;
    }
    let mut ctx = ctx_with(ScmpAction::KillThread, &[ScmpArch::X8664]);
    ctx.set_act_badarch(ScmpAction::Trap).unwrap();
    ctx.add_rule(ScmpAction::Allow, sys("exit_group")).unwrap();
    cond(
        &mut ctx,
        ScmpAction::Errno(13),
        "openat",
        &[Cmp::new(2, Op::MaskedEqual(3), 0)],
    );
    cond(
        &mut ctx,
        ScmpAction::Trap,
        "ptrace",
        &[Cmp::new(0, Op::NotEqual, 5)],
    );
    cond(
        &mut ctx,
        ScmpAction::Log,
        "read",
        &[Cmp::new(1, Op::Less, 0x1_0000_0005)],
    );
    cond(
        &mut ctx,
        ScmpAction::Trace(7),
        "write",
        &[Cmp::new(0, Op::Greater, 7)],
    );
    cond(
        &mut ctx,
        ScmpAction::KillProcess,
        "close",
        &[Cmp::new(0, Op::GreaterEqual, 1 << 63)],
    );
    cond(
        &mut ctx,
        ScmpAction::Errno(1),
        "lseek",
        &[Cmp::new(2, Op::LessOrEqual, 2)],
    );
    check(
        &ctx,
        "\
# filter for arch x86_64 (3221225534)
if ($arch == 3221225534)
  # filter for syscall \"exit_group\" (231) [priority: 65535]
  if ($syscall == 231)
    action ALLOW;
  # filter for syscall \"openat\" (257) [priority: 65533]
  if ($syscall == 257)
    if ($a2.hi32 & 0x00000000 == 0)
      if ($a2.lo32 & 0x00000003 == 0)
        action ERRNO(13);
  # filter for syscall \"ptrace\" (101) [priority: 65533]
  if ($syscall == 101)
    if ($a0.hi32 == 0)
      if ($a0.lo32 == 5)
      else
        action TRAP;
    else
      action TRAP;
  # filter for syscall \"lseek\" (8) [priority: 65532]
  if ($syscall == 8)
    if ($a2.hi32 > 0)
    else
      if ($a2.hi32 == 0)
        if ($a2.lo32 > 2)
        else
          action ERRNO(1);
      else
        action ERRNO(1);
  # filter for syscall \"close\" (3) [priority: 65532]
  if ($syscall == 3)
    if ($a0.hi32 > 2147483648)
      action KILL_PROCESS;
    else
      if ($a0.hi32 == 2147483648)
        if ($a0.lo32 >= 0)
          action KILL_PROCESS;
  # filter for syscall \"write\" (1) [priority: 65532]
  if ($syscall == 1)
    if ($a0.hi32 > 0)
      action TRACE(7);
    else
      if ($a0.hi32 == 0)
        if ($a0.lo32 > 7)
          action TRACE(7);
  # filter for syscall \"read\" (0) [priority: 65532]
  if ($syscall == 0)
    if ($a1.hi32 > 1)
    else
      if ($a1.hi32 == 1)
        if ($a1.lo32 >= 5)
        else
          action LOG;
      else
        action LOG;
  # default action
  action KILL;
# invalid architecture action
action TRAP;
",
    );
}

#[test]
fn arguments_32_bit() {
    if !supported() {
        return;
    }
    let mut ctx = ctx_with(ScmpAction::Allow, &[ScmpArch::X86]);
    // The high half of a datum is dropped on a 32-bit ABI.
    cond(
        &mut ctx,
        ScmpAction::Errno(1),
        "read",
        &[Cmp::new(0, Op::Equal, 0x1_0000_0005)],
    );
    cond(
        &mut ctx,
        ScmpAction::KillThread,
        "write",
        &[Cmp::new(0, Op::Equal, 1), Cmp::new(1, Op::NotEqual, 2)],
    );
    cond(
        &mut ctx,
        ScmpAction::Trap,
        "close",
        &[Cmp::new(0, Op::Less, 10)],
    );
    cond(
        &mut ctx,
        ScmpAction::Log,
        "lseek",
        &[Cmp::new(2, Op::LessOrEqual, 2)],
    );
    cond(
        &mut ctx,
        ScmpAction::Trace(3),
        "open",
        &[Cmp::new(1, Op::Greater, 64)],
    );
    cond(
        &mut ctx,
        ScmpAction::Trace(4),
        "dup",
        &[Cmp::new(0, Op::GreaterEqual, 3)],
    );
    cond(
        &mut ctx,
        ScmpAction::KillProcess,
        "ioctl",
        &[Cmp::new(1, Op::MaskedEqual(0xff), 0x54)],
    );
    // x86 multiplexes socket(2) through socketcall(2): two entries.
    ctx.add_rule(ScmpAction::Errno(2), sys("socket")).unwrap();
    check(
        &ctx,
        "\
# filter for arch x86 (1073741827)
if ($arch == 1073741827)
  # filter for syscall \"socket\" (359) [priority: 65535]
  if ($syscall == 359)
    action ERRNO(2);
  # filter for syscall \"socketcall\" (102) [priority: 65534]
  if ($syscall == 102)
    if ($a0 == 1)
      action ERRNO(2);
  # filter for syscall \"ioctl\" (54) [priority: 65534]
  if ($syscall == 54)
    if ($a1 & 0x000000ff == 84)
      action KILL_PROCESS;
  # filter for syscall \"dup\" (41) [priority: 65534]
  if ($syscall == 41)
    if ($a0 >= 3)
      action TRACE(4);
  # filter for syscall \"lseek\" (19) [priority: 65534]
  if ($syscall == 19)
    if ($a2 > 2)
    else
      action LOG;
  # filter for syscall \"close\" (6) [priority: 65534]
  if ($syscall == 6)
    if ($a0 >= 10)
    else
      action TRAP;
  # filter for syscall \"open\" (5) [priority: 65534]
  if ($syscall == 5)
    if ($a1 > 64)
      action TRACE(3);
  # filter for syscall \"read\" (3) [priority: 65534]
  if ($syscall == 3)
    if ($a0 == 5)
      action ERRNO(1);
  # filter for syscall \"write\" (4) [priority: 65533]
  if ($syscall == 4)
    if ($a0 == 1)
      if ($a1 == 2)
      else
        action KILL;
  # default action
  action ALLOW;
# invalid architecture action
action KILL;
",
    );
}

#[test]
fn two_arches_siblings_and_pseudo_syscall() {
    if !supported() {
        return;
    }
    let mut ctx = ctx_with(ScmpAction::Errno(38), &[ScmpArch::X8664, ScmpArch::Aarch64]);
    ctx.set_act_badarch(ScmpAction::Log).unwrap();
    // Two rules on one argument word: siblings on one level, the greater datum first; the
    // shared high-word node is kept once.
    cond(
        &mut ctx,
        ScmpAction::Allow,
        "read",
        &[Cmp::new(0, Op::Equal, 1)],
    );
    cond(
        &mut ctx,
        ScmpAction::Log,
        "read",
        &[Cmp::new(0, Op::Equal, 2)],
    );
    // aarch64 has no open(2): its entry keeps libseccomp's pseudo number -10166, printed
    // unsigned.
    ctx.add_rule(ScmpAction::Allow, sys("open")).unwrap();
    check(
        &ctx,
        "\
# filter for arch x86_64 (3221225534)
if ($arch == 3221225534)
  # filter for syscall \"open\" (2) [priority: 65535]
  if ($syscall == 2)
    action ALLOW;
  # filter for syscall \"read\" (0) [priority: 65532]
  if ($syscall == 0)
    if ($a0.hi32 == 0)
      if ($a0.lo32 == 2)
        action LOG;
      if ($a0.lo32 == 1)
        action ALLOW;
  # default action
  action ERRNO(38);
# filter for arch aarch64 (3221225655)
if ($arch == 3221225655)
  # filter for syscall \"open\" (4294957130) [priority: 65535]
  if ($syscall == 4294957130)
    action ALLOW;
  # filter for syscall \"read\" (63) [priority: 65532]
  if ($syscall == 63)
    if ($a0.hi32 == 0)
      if ($a0.lo32 == 2)
        action LOG;
      if ($a0.lo32 == 1)
        action ALLOW;
  # default action
  action ERRNO(38);
# invalid architecture action
action LOG;
",
    );
}

#[test]
fn x86_64_and_x32() {
    if !supported() {
        return;
    }
    let mut ctx = ctx_with(ScmpAction::KillThread, &[ScmpArch::X8664, ScmpArch::X32]);
    ctx.add_rule(ScmpAction::Allow, sys("read")).unwrap();
    cond(
        &mut ctx,
        ScmpAction::Errno(1),
        "write",
        &[Cmp::new(0, Op::Equal, 1)],
    );
    // x32 is a 32-bit ABI under x86_64's token; its numbers carry bit 30.
    check(
        &ctx,
        "\
# filter for arch x86_64 (3221225534)
if ($arch == 3221225534)
  # filter for syscall \"read\" (0) [priority: 65535]
  if ($syscall == 0)
    action ALLOW;
  # filter for syscall \"write\" (1) [priority: 65533]
  if ($syscall == 1)
    if ($a0.hi32 == 0)
      if ($a0.lo32 == 1)
        action ERRNO(1);
  # default action
  action KILL;
# filter for arch x32 (3221225534)
if ($arch == 3221225534)
  # filter for syscall \"read\" (1073741824) [priority: 65535]
  if ($syscall == 1073741824)
    action ALLOW;
  # filter for syscall \"write\" (1073741825) [priority: 65534]
  if ($syscall == 1073741825)
    if ($a0 == 1)
      action ERRNO(1);
  # default action
  action KILL;
# invalid architecture action
action KILL;
",
    );
}

#[test]
fn actions() {
    if !supported() {
        return;
    }
    let mut ctx = ctx_with(ScmpAction::Allow, &[ScmpArch::X8664]);
    ctx.set_act_badarch(ScmpAction::KillProcess).unwrap();
    for (act, name) in [
        (ScmpAction::KillProcess, "getpid"),
        (ScmpAction::KillThread, "getppid"),
        (ScmpAction::Trap, "ptrace"),
        (ScmpAction::Errno(4094), "open"),
        (ScmpAction::Trace(65535), "close"),
        (ScmpAction::Log, "uname"),
    ] {
        ctx.add_rule(act, sys(name)).unwrap();
    }
    check(
        &ctx,
        "\
# filter for arch x86_64 (3221225534)
if ($arch == 3221225534)
  # filter for syscall \"getppid\" (110) [priority: 65535]
  if ($syscall == 110)
    action KILL;
  # filter for syscall \"ptrace\" (101) [priority: 65535]
  if ($syscall == 101)
    action TRAP;
  # filter for syscall \"uname\" (63) [priority: 65535]
  if ($syscall == 63)
    action LOG;
  # filter for syscall \"getpid\" (39) [priority: 65535]
  if ($syscall == 39)
    action KILL_PROCESS;
  # filter for syscall \"close\" (3) [priority: 65535]
  if ($syscall == 3)
    action TRACE(65535);
  # filter for syscall \"open\" (2) [priority: 65535]
  if ($syscall == 2)
    action ERRNO(4094);
  # default action
  action ALLOW;
# invalid architecture action
action KILL_PROCESS;
",
    );
}

/// NOTIFY has no name in PFC: the raw value in hex. Needs a kernel with user notification.
#[test]
fn notify_action() {
    if !supported() {
        return;
    }
    let mut ctx = ctx_with(ScmpAction::Allow, &[ScmpArch::X8664]);
    if ctx.add_rule(ScmpAction::Notify, sys("mkdir")).is_err() {
        println!("skipped: the kernel has no SECCOMP_RET_USER_NOTIF");
        return;
    }
    check(
        &ctx,
        "\
# filter for arch x86_64 (3221225534)
if ($arch == 3221225534)
  # filter for syscall \"mkdir\" (83) [priority: 65535]
  if ($syscall == 83)
    action 0x7fc00000;
  # default action
  action ALLOW;
# invalid architecture action
action KILL;
",
    );
}

#[test]
fn level_2_binary_tree() {
    if !supported() {
        return;
    }
    let mut ctx = ctx_with(ScmpAction::KillProcess, &[ScmpArch::X8664]);
    ctx.set_ctl_optimize(2).unwrap();
    for name in [
        "read", "write", "open", "close", "stat", "fstat", "lstat", "poll", "lseek", "mmap",
    ] {
        ctx.add_rule(ScmpAction::Allow, sys(name)).unwrap();
    }
    // Printed, but the order at level 2 is by number only.
    ctx.set_syscall_priority(sys("mmap"), 10).unwrap();
    // Ten syscalls: three levels. The 16-block opens with the number 8 entries down, the
    // 8-block with the one 4 down; the second 8-block has too few entries to open.
    check(
        &ctx,
        "\
# filter for arch x86_64 (3221225534)
if ($arch == 3221225534)
  if ($syscall > 1)
    if ($syscall > 5)
      # filter for syscall \"mmap\" (9) [priority: 720895]
      if ($syscall == 9)
        action ALLOW;
      # filter for syscall \"lseek\" (8) [priority: 65535]
      if ($syscall == 8)
        action ALLOW;
      # filter for syscall \"poll\" (7) [priority: 65535]
      if ($syscall == 7)
        action ALLOW;
      # filter for syscall \"lstat\" (6) [priority: 65535]
      if ($syscall == 6)
        action ALLOW;
    else # ($syscall <= 5)
      # filter for syscall \"fstat\" (5) [priority: 65535]
      if ($syscall == 5)
        action ALLOW;
      # filter for syscall \"stat\" (4) [priority: 65535]
      if ($syscall == 4)
        action ALLOW;
      # filter for syscall \"close\" (3) [priority: 65535]
      if ($syscall == 3)
        action ALLOW;
      # filter for syscall \"open\" (2) [priority: 65535]
      if ($syscall == 2)
        action ALLOW;
  else # ($syscall <= 1)
    # filter for syscall \"write\" (1) [priority: 65535]
    if ($syscall == 1)
      action ALLOW;
    # filter for syscall \"read\" (0) [priority: 65535]
    if ($syscall == 0)
      action ALLOW;
  # default action
  action KILL_PROCESS;
# invalid architecture action
action KILL;
",
    );
}

#[test]
fn level_2_placeholder_counts_in_look_ahead() {
    if !supported() {
        return;
    }
    let mut ctx = ctx_with(ScmpAction::KillProcess, &[ScmpArch::X8664]);
    ctx.set_ctl_optimize(2).unwrap();
    for name in ["read", "write", "close", "stat", "fstat"] {
        ctx.add_rule(ScmpAction::Allow, sys(name)).unwrap();
    }
    // A priority without a rule: not printed, but it takes a place in the list the binary
    // tree looks ahead in, so the first block opens at write (1), not read (0).
    ctx.set_syscall_priority(sys("open"), 200).unwrap();
    check(
        &ctx,
        "\
# filter for arch x86_64 (3221225534)
if ($arch == 3221225534)
  if ($syscall > 1)
    # filter for syscall \"fstat\" (5) [priority: 65535]
    if ($syscall == 5)
      action ALLOW;
    # filter for syscall \"stat\" (4) [priority: 65535]
    if ($syscall == 4)
      action ALLOW;
    # filter for syscall \"close\" (3) [priority: 65535]
    if ($syscall == 3)
      action ALLOW;
    # filter for syscall \"write\" (1) [priority: 65535]
    if ($syscall == 1)
      action ALLOW;
  else # ($syscall <= 0)
    # filter for syscall \"read\" (0) [priority: 65535]
    if ($syscall == 0)
      action ALLOW;
  # default action
  action KILL_PROCESS;
# invalid architecture action
action KILL;
",
    );
}

#[test]
fn level_1_priority_placeholder_not_printed() {
    if !supported() {
        return;
    }
    let mut ctx = ctx_with(ScmpAction::Allow, &[ScmpArch::X8664]);
    ctx.set_syscall_priority(sys("open"), 200).unwrap();
    ctx.set_syscall_priority(sys("read"), 3).unwrap();
    ctx.add_rule(ScmpAction::Errno(1), sys("read")).unwrap();
    ctx.add_rule(ScmpAction::Errno(2), sys("write")).unwrap();
    check(
        &ctx,
        "\
# filter for arch x86_64 (3221225534)
if ($arch == 3221225534)
  # filter for syscall \"read\" (0) [priority: 262143]
  if ($syscall == 0)
    action ERRNO(1);
  # filter for syscall \"write\" (1) [priority: 65535]
  if ($syscall == 1)
    action ERRNO(2);
  # default action
  action ALLOW;
# invalid architecture action
action KILL;
",
    );
}
