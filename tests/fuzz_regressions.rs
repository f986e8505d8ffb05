//! The fuzz targets' properties on the stable toolchain, without libFuzzer: the committed
//! seed corpus of `bpf_bytes`, `policy` and `rules` (`fuzz/corpus/`) and every minimised
//! finding (`fuzz/regressions/<target>/`) replayed through the same checks the targets run
//! (`fuzz/src/checks.rs`, `fuzz/src/policy_check.rs` and `fuzz/src/rules_check.rs`, included
//! by path), and the `filters` target's check on hand-built filters of the shapes it found
//! hardest.
//!
//! The `filters` corpus is in `arbitrary`'s encoding, which this crate does not depend on:
//! its findings are rewritten as code below instead.

#[path = "../fuzz/src/checks.rs"]
#[allow(dead_code)]
mod checks;

#[cfg(feature = "policy")]
#[path = "../fuzz/src/policy_check.rs"]
mod policy_check;

#[path = "../fuzz/src/rules_check.rs"]
mod rules_check;

use pure_seccomp::opt::Passes;
use pure_seccomp::*;
use std::path::PathBuf;

/// The files of `fuzz/corpus/<target>` and `fuzz/regressions/<target>`.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                out.push((path, bytes));
            }
        }
    }
    out.sort();
    out
}

/// Runs `check` on every input, reporting which file failed.
fn replay(target: &str, min: usize, check: fn(&[u8])) {
    let files = inputs(target);
    assert!(
        files.len() >= min,
        "fuzz/corpus/{target} holds {} files, expected at least {min}",
        files.len()
    );
    for (path, bytes) in &files {
        let r = std::panic::catch_unwind(|| check(bytes));
        assert!(r.is_ok(), "{} fails the {target} check", path.display());
    }
    println!("{target}: {} inputs replayed", files.len());
}

#[test]
fn bpf_bytes_corpus_and_findings() {
    replay("bpf_bytes", 20, checks::check_bpf_bytes);
}

#[test]
fn rules_corpus_and_findings() {
    replay("rules", 16, rules_check::check_rules);
}

#[cfg(feature = "policy")]
#[test]
fn policy_corpus_and_findings() {
    replay("policy", 5, policy_check::check_policy);
}

/// Found by the `policy` target (debug-assertion run, 5 min): a JSON key `""` made an
/// error whose path was empty (`field("", "")`), so it named no field. Keys that are empty
/// or would make a path ambiguous are now quoted: `[""]`, `syscalls[0]["a.b"]`.
#[cfg(feature = "policy")]
#[test]
fn policy_errors_name_empty_and_odd_keys() {
    use pure_seccomp::policy::Policy;
    let cases = [
        (
            r#"{"defaultAction": "SCMP_ACT_KILL_PROCESS", "": 1}"#,
            r#"[""]"#,
        ),
        (
            r#"{"": {"default_action": "trap", "filter_action": "allow",
                     "filter": [{"syscall": "read", "args": 5}]}}"#,
            r#"[""].filter[0].args"#,
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "a.b": 1}]}"#,
            r#"syscalls[0]["a.b"]"#,
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "op": 1}]}"#,
            "syscalls[0].op",
        ),
    ];
    for (text, path) in cases {
        let e = Policy::parse(text).unwrap_err();
        assert_eq!(e.path(), path, "{text}: {e}");
    }
}

fn sys(name: &str) -> ScmpSyscall {
    ScmpSyscall::from_name(name).unwrap()
}

/// The `filters` target's check on the shapes that exercise the most: the three x86 ABIs
/// with priorities, a value list, masked and 64-bit range comparisons, multiplexed calls,
/// values that are every submask of one mask, high words that fail to ALLOW, and partial
/// pass sets.
#[test]
fn filters_check_on_hand_built_filters() {
    let mut total = 0;
    for (i, passes) in [
        Passes::all(),
        Passes::empty(),
        Passes::RANGES | Passes::LOADS,
        Passes::ARG_TREES | Passes::PRUNE | Passes::CLEANUP,
        Passes::ARG_TREES | Passes::SUBMASKS,
        Passes::SINK,
        Passes::SINK | Passes::ARG_TREES | Passes::PRUNE,
    ]
    .into_iter()
    .enumerate()
    {
        let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(1)).unwrap();
        ctx.remove_arch(ScmpArch::native()).unwrap();
        for a in [ScmpArch::X8664, ScmpArch::X86, ScmpArch::X32] {
            ctx.add_arch(a).unwrap();
        }
        ctx.add_rule(ScmpAction::Allow, sys("read")).unwrap();
        ctx.set_syscall_priority(sys("futex"), 250).unwrap();
        for v in 0..40u64 {
            ctx.add_rule_conditional(
                ScmpAction::Allow,
                sys("ioctl"),
                &[scmp_cmp!($arg1 == 0x5400 + v * 3)],
            )
            .unwrap();
        }
        ctx.add_rule_conditional(
            ScmpAction::KillProcess,
            sys("clone"),
            &[scmp_cmp!($arg0 & 0x7e02_0000 == 0x1000)],
        )
        .unwrap();
        ctx.add_rule_conditional(
            ScmpAction::Trap,
            sys("mmap"),
            &[scmp_cmp!($arg2 > 0x1_0000_0000), scmp_cmp!($arg3 <= 7)],
        )
        .unwrap();
        ctx.add_rule_conditional(ScmpAction::Allow, sys("socket"), &[scmp_cmp!($arg0 == 1)])
            .unwrap();
        // Docker's `socket` shape: a high word that fails to ALLOW (`opt::sink`).
        ctx.add_rule_conditional(ScmpAction::Allow, sys("connect"), &[scmp_cmp!($arg0 != 40)])
            .unwrap();
        // Docker's personality values: every submask of 0x20008, and 0xffffffff.
        for v in [0u64, 8, 0x20000, 0x20008, 0xffff_ffff] {
            ctx.add_rule_conditional(
                ScmpAction::Allow,
                sys("personality"),
                &[scmp_cmp!($arg0 == v)],
            )
            .unwrap();
        }
        ctx.set_act_badarch(ScmpAction::KillThread).unwrap();
        let values = [
            0x5400,
            0x7e02_0000,
            0x1000,
            0x1_0000_0000,
            7,
            1,
            0x20008,
            0xffff_ffff,
            40,
            0x1_0000_0028,
        ];
        total += checks::check_filter(
            &mut ctx,
            passes,
            &values,
            &[102, 117, 0x4000_0000],
            i as u64,
        );
        // The values the moved high word decides, every time (the check above draws its
        // arguments at random).
        let nr = ScmpSyscall::from_name_by_arch("connect", ScmpArch::X8664).unwrap();
        for lvl in [1, 2] {
            ctx.set_ctl_optimize(lvl).unwrap();
            ctx.set_opt_passes(passes);
            let prog = bpf::decode(&ctx.export_bpf_mem().unwrap(), Endian::Little).unwrap();
            for a0 in [40, 0x1_0000_0028, 41, 0x1_0000_0000] {
                let d = bpf::SeccompData {
                    nr: nr.as_raw_syscall(),
                    arch: 0xc000_003e,
                    instruction_pointer: 0,
                    args: [a0, 0, 0, 0, 0, 0],
                };
                let got = bpf::simulate(&prog, &d, Endian::Little).unwrap().ret;
                assert_eq!(
                    got,
                    ctx.evaluate(&d),
                    "level {lvl}, {passes:?}, arg0 {a0:#x}"
                );
            }
        }
    }
    assert!(total > 1000, "{total} queries");
}

/// The `filters` target's check on a filter whose every architecture was removed (found by
/// the fuzzer once such a filter refused its attributes, as libseccomp's does): it refuses
/// the level, and the export, with `EINVAL`, and nothing is compared.
#[test]
fn filters_check_on_a_filter_without_architectures() {
    let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(1)).unwrap();
    ctx.remove_arch(ScmpArch::native()).unwrap();
    assert_eq!(
        checks::check_filter(&mut ctx, Passes::all(), &[1], &[], 0),
        0
    );
}
