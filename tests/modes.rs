//! The normal mode against compat mode (libseccomp 2.5.4's bugs reproduced, the mode
//! `tests/conformance.rs` checks against that library's recordings) on random rules of
//! several actions: each call must have the same outcome, each query the same answer and
//! `export_pfc` the same text in both, but where one of the README's deliberate differences
//! explains it, as the replay classifies them (the texts with `conformance/pfc.rs`, as the
//! replay compares its normal mode's with libseccomp's; this comparison found difference
//! 12). So the normal mode is held to libseccomp's behaviour on far more rule sets than are
//! recorded, without the C library or the recordings. A fresh recorded seed
//! found the first outcome difference this accepts (difference 9: a rule that conflicts with
//! the part of an earlier rule libseccomp dropped; `tests/libseccomp_differences.rs`), and
//! this test the second (a rule that conflicts with a branch libseccomp kept where the normal
//! mode dropped it as covered).
//! Rules on socket/ipc calls, on ABIs that multiplex them through `socketcall`/`ipc` too,
//! may have different outcomes (difference 6): from the first such call on, those syscalls
//! and the multiplexers are left out of the comparison, as the replay does. Architectures are
//! added and removed between rules too, filters of such rules on other architectures are
//! merged in, and now and then everything is reset; where compat mode then undoes a refused rule by restoring the filter of its
//! last rule added (difference 2: architectures and their rules as they were), the case ends.
//!
//! `MODES_SEEDS` (default 20,000) cases, from seed `MODES_FIRST` (default 0).

use pure_seccomp::bpf::{self, SeccompData};
use pure_seccomp::*;

mod common;
use common::*;

#[path = "../fuzz/src/checks.rs"]
#[allow(dead_code)]
mod checks;
#[path = "conformance/pfc.rs"]
mod pfc;
#[path = "../fuzz/src/rules_check.rs"]
#[allow(dead_code)]
mod rules_check;
use rules_check::{ARCHES, SYSCALLS};

/// The architecture sets: each of `ARCHES` alone, and sets with more ABIs, x32's among them.
fn arch_set(r: &mut Rng) -> Vec<ScmpArch> {
    use ScmpArch::*;
    const SETS: &[&[ScmpArch]] = &[
        &[X8664, X86],
        &[Aarch64, Arm],
        &[S390X, S390],
        &[X32],
        &[X8664, X32],
        &[X8664, X86, X32],
        &[Ppc64, Ppc],
        &[Mips64, Mips],
    ];
    match r.below((ARCHES.len() + SETS.len()) as u64) as usize {
        i if i < ARCHES.len() => vec![ARCHES[i]],
        i => SETS[i - ARCHES.len()].to_vec(),
    }
}

/// Syscalls beside `SYSCALLS`: multiplexed through `socketcall` or `ipc` on x86, s390,
/// PowerPC and 32-bit MIPS (a rule goes on both numbers there), one that some ABIs lack,
/// and one x32 numbers in its own range.
const MORE_SYSCALLS: &[&str] = &["socket", "connect", "semop", "shmat", "recvmmsg", "preadv"];

/// A rule's comparisons: on few arguments, from a small pool of data, so that rules meet.
fn comparisons(r: &mut Rng, pool: &[u64]) -> Vec<ScmpArgCompare> {
    let mut cmps = Vec::new();
    let mut args = Vec::new();
    for _ in 0..r.below(4) {
        let arg = *r.pick(&[0u32, 1, 2, 2, 5]);
        if args.contains(&arg) {
            continue;
        }
        args.push(arg);
        let (d, k) = (pool_datum(r, pool), pool_datum(r, pool));
        cmps.push(ScmpArgCompare::new(arg, op_of(k % 8, k | 1), d));
    }
    cmps
}

/// A context with `default`, in compat mode or not, on `arches` alone (the normal mode's
/// noting where its prune walk drops a branch libseccomp's keeps: difference 12).
fn context(default: ScmpAction, compat: bool, arches: &[ScmpArch]) -> ScmpFilterContext {
    let mut ctx = ScmpFilterContext::new(default).unwrap();
    ctx.__emulate_libseccomp_2_5_4(compat);
    ctx.__track_libseccomp_stops(!compat);
    ctx.remove_arch(ScmpArch::native()).unwrap();
    for &a in arches {
        ctx.add_arch(a).unwrap();
    }
    ctx
}

/// One of `names`, now and then by the number another ABI gives it, as a program that has
/// numbers makes its rules: on the native ABI that number may be another syscall's (whose
/// name joins `numbered`, to be queried), a pseudo one (socket and ipc calls where
/// multiplexed, `socketcall` and `ipc` where not), or none.
fn pick_syscall(r: &mut Rng, names: &[&str], numbered: &mut Vec<String>) -> ScmpSyscall {
    let name = names[r.below(names.len() as u64) as usize];
    if r.below(8) == 0 {
        let abi = *r.pick(&[
            ScmpArch::X86,
            ScmpArch::S390X,
            ScmpArch::Mips,
            ScmpArch::X32,
        ]);
        if let Ok(s) = ScmpSyscall::from_name_by_arch(name, abi) {
            let s = ScmpSyscall::from(s.as_raw_syscall());
            if let Ok(native) = s.get_name() {
                if !names.contains(&native.as_str()) && !numbered.contains(&native) {
                    numbered.push(native);
                }
            }
            return s;
        }
    }
    ScmpSyscall::from_name(name).unwrap()
}

/// One case: the same random calls on a context in each mode; the queries compared.
fn run_case(seed: u64) -> usize {
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let arches = arch_set(&mut r);
    let mut default = *r.pick(&[
        ScmpAction::KillProcess,
        ScmpAction::Allow,
        ScmpAction::Errno(1),
    ]);
    let level = 1 + r.below(2) as u32;
    let mode = |compat: bool| {
        let mut ctx = context(default, compat, &arches);
        ctx.set_ctl_optimize(level).unwrap();
        ctx
    };
    let (mut compat, mut normal) = (mode(true), mode(false));
    let names: Vec<&str> = (0..1 + r.below(2))
        .map(|_| match r.below(3) {
            0 => *r.pick(MORE_SYSCALLS),
            _ => *r.pick(SYSCALLS),
        })
        .collect();
    let pool: Vec<u64> = (0..4).map(|_| rand_datum(&mut r)).collect();
    let mut calls = Vec::new();
    // The native names of syscalls ruled by another ABI's number (see `pick_syscall`).
    let mut numbered: Vec<String> = Vec::new();
    let mut values: Vec<u64> = vec![0, 1, u64::MAX, 0x8000_0000];
    // Whether a call on a socket/ipc syscall had different outcomes: from then on, those
    // syscalls' rules differ between the modes, and only the others are compared.
    let mut split = false;
    for _ in 0..1 + r.below(16) {
        let sys = pick_syscall(&mut r, &names, &mut numbered);
        if r.below(16) == 0 {
            // An architecture added (later rules only: rules are not replayed onto it) or
            // removed; each call the same outcome in both modes.
            let a = *r.pick(ARCHES);
            let remove = normal.is_arch_present(a).unwrap_or(false);
            let change = |ctx: &mut ScmpFilterContext| match remove {
                true => ctx.remove_arch(a).map(drop).map_err(|e| e.errno()),
                false => ctx.add_arch(a).map(drop).map_err(|e| e.errno()),
            };
            let (c, n) = (change(&mut compat), change(&mut normal));
            calls.push(format!(
                "{} {a:?}: compat {c:?}, normal {n:?}",
                if remove { "remove_arch" } else { "add_arch" }
            ));
            assert_eq!(c, n, "seed {seed}: {calls:#?}");
            continue;
        }
        if r.below(40) == 0 {
            // Everything undone: a new default action, the native architecture alone.
            let act = rand_action(&mut r);
            let (c, n) = (
                compat.reset(act).map_err(|e| e.errno()),
                normal.reset(act).map_err(|e| e.errno()),
            );
            calls.push(format!("reset({act:?}): compat {c:?}, normal {n:?}"));
            assert_eq!(c, n, "seed {seed}: {calls:#?}");
            if c.is_ok() {
                default = act;
            }
            continue;
        }
        if r.below(20) == 0 {
            // A filter of a few such rules merged in: on another architecture set, with the
            // same default action (refused where the sets overlap or their byte orders
            // differ). The source's calls are made in the mode of the context it goes into.
            let src_arches = arch_set(&mut r);
            let mut rules = Vec::new();
            for _ in 0..1 + r.below(4) {
                let sys =
                    ScmpSyscall::from_name(names[r.below(names.len() as u64) as usize]).unwrap();
                let cmps = comparisons(&mut r, &pool);
                for c in &cmps {
                    let d = c.datum();
                    values.extend([d, d.wrapping_add(1), d.wrapping_sub(1), d ^ 1 << 32]);
                }
                rules.push((rand_action(&mut r), sys, cmps));
            }
            let merge = |ctx: &mut ScmpFilterContext, compat: bool| {
                let mut src = context(default, compat, &src_arches);
                let outcomes: Vec<bool> = (rules.iter())
                    .map(|(a, s, c)| src.add_rule_conditional(*a, *s, c).is_ok())
                    .collect();
                let merged = ctx.merge(src).map(drop).map_err(|e| e.errno());
                (outcomes, merged)
            };
            let (c, n) = (merge(&mut compat, true), merge(&mut normal, false));
            calls.push(format!(
                "merge of {src_arches:?} with {rules:?}: compat {c:?}, normal {n:?}"
            ));
            // (The source's rules may be taken in one mode only as they may in the
            // context itself: a socket/ipc rule, or a rule libseccomp merged wrongly; the
            // case ends there.)
            if c.0 != n.0 {
                return 0;
            }
            assert_eq!(
                c.1, n.1,
                "seed {seed}: the merge's outcomes differ: {calls:#?}"
            );
            continue;
        }
        if r.below(10) == 0 {
            // A priority, which level 1 orders the syscalls by (difference 1 on other ABIs).
            let p = r.below(256) as u8;
            let (c, n) = (
                compat.set_syscall_priority(sys, p).is_ok(),
                normal.set_syscall_priority(sys, p).is_ok(),
            );
            calls.push(format!(
                "set_syscall_priority({sys:?}, {p}): compat {c:?}, normal {n:?}"
            ));
            assert_eq!(c, n, "seed {seed}: set_syscall_priority: {calls:#?}");
            continue;
        }
        let action = rand_action(&mut r);
        let cmps = comparisons(&mut r, &pool);
        for c in &cmps {
            let d = c.datum();
            values.extend([d, d.wrapping_add(1), d.wrapping_sub(1), d ^ 1 << 32]);
        }
        // Now and then the exact form, which refuses what it cannot add as given.
        let exact = r.below(8) == 0;
        let add = |ctx: &mut ScmpFilterContext| {
            if exact {
                ctx.add_rule_conditional_exact(action, sys, &cmps).map(drop)
            } else {
                ctx.add_rule_conditional(action, sys, &cmps).map(drop)
            }
        };
        let (c, n) = (add(&mut compat), add(&mut normal));
        calls.push(format!(
            "{action:?} {sys:?} {cmps:?}{}: compat {c:?}, normal {n:?}",
            if exact { " (exact)" } else { "" }
        ));
        let multiplexed = MULTIPLEXED.contains(&sys.get_name().unwrap_or_default().as_str());
        // An architecture added or removed since compat mode's last rule added, and then a
        // rule refused: libseccomp restores the filter as it was at that rule (difference
        // 2), so the modes may differ on which architectures the filter has and on their
        // rules (a removed one back with the rules it had): the case ends there.
        if compat.__libseccomp_2_5_4_restored_other_arches() {
            return 0;
        }
        let present = |ctx: &ScmpFilterContext| -> Vec<bool> {
            ARCHES
                .iter()
                .map(|&a| ctx.is_arch_present(a).unwrap_or(false))
                .collect()
        };
        assert_eq!(
            present(&compat),
            present(&normal),
            "seed {seed}: the modes' architectures differ: {calls:#?}"
        );
        match (c, n) {
            (Ok(()), Ok(())) => {}
            (Err(c), Err(n)) if c.errno() == n.errno() => {}
            _ if multiplexed => {
                // After a conditional socket/ipc rule the multiplexer's rules differ (difference
                // 6), so a later rule on one may conflict in one mode only.
                split = true;
            }
            (c, n) => {
                // libseccomp merged an earlier rule wrongly (difference 9): it lost part of
                // it, which the normal mode keeps, or kept a branch the normal mode dropped as
                // covered, and this rule conflicts with that part in one mode only.
                let eexist = |r: &Result<(), error::SeccompError>| {
                    r.as_ref()
                        .is_err_and(|e| e.errno() == Some(error::SeccompErrno::EEXIST))
                };
                assert!(
                    compat.__libseccomp_2_5_4_merged_wrongly(sys)
                        && ((c.is_ok() && eexist(&n)) || (eexist(&c) && n.is_ok())),
                    "seed {seed}, {arches:?}: the modes differ on a call and no documented \
                     difference explains it: {calls:#?}"
                );
                return 0;
            }
        }
    }
    if !split {
        // (After the modes split on a socket/ipc call, the multiplexers' code differs.)
        compare_pfc(seed, &compat, &normal, &calls);
    }
    let endian = normal.byte_order();
    let (pc, pn) = match (compat.export_bpf_mem(), normal.export_bpf_mem()) {
        (Ok(c), Ok(n)) => (
            bpf::decode(&c, endian).unwrap(),
            bpf::decode(&n, endian).unwrap(),
        ),
        // Every architecture removed: no program in either mode.
        (Err(c), Err(n)) if c.errno() == n.errno() => return 0,
        (c, n) => panic!("seed {seed}: export: compat {c:?}, normal {n:?}: {calls:#?}"),
    };
    let mut n = 0;
    // The multiplexers too, where an architecture of the set has them; none of them after the
    // modes split on one.
    let queried: Vec<&str> = names
        .iter()
        .copied()
        .chain(numbered.iter().map(String::as_str))
        .chain(
            names
                .iter()
                .any(|n| MULTIPLEXED.contains(n))
                .then_some(["socketcall", "ipc"])
                .into_iter()
                .flatten(),
        )
        .filter(|n| !(split && MULTIPLEXED.contains(n)))
        .collect();
    // Every architecture the filter had or has (those it no longer has: the bad-arch action).
    let had: Vec<ScmpArch> = ARCHES
        .iter()
        .copied()
        .filter(|&a| arches.contains(&a) || normal.is_arch_present(a).unwrap_or(false))
        .collect();
    for &arch in &had {
        for name in &queried {
            let Ok(sys) = ScmpSyscall::from_name_by_arch(name, arch) else {
                continue;
            };
            for _ in 0..100 {
                let mut args = [0u64; 6];
                // (Whole 64-bit values on every ABI: a 32-bit ABI's programs read the low
                // words only, in both modes.)
                for v in args.iter_mut() {
                    *v = *r.pick(&values);
                }
                let data = SeccompData {
                    nr: sys.as_raw_syscall(),
                    arch: audit_of(arch),
                    instruction_pointer: 0,
                    args,
                };
                let c = bpf::simulate(&pc, &data, endian).unwrap().ret;
                let got = bpf::simulate(&pn, &data, endian).unwrap().ret;
                n += 1;
                if c == got {
                    continue;
                }
                let documented = compat.__libseccomp_2_5_4_ignores_nr(&data)
                    || (is_multiplexer(&normal, &data) && got == normal.evaluate(&data))
                    || compat.__libseccomp_2_5_4_range_merge_differs(&data)
                    || compat.__libseccomp_2_5_4_links_levels(&data)
                    || (compat.__libseccomp_2_5_4_judged_by_priority(&data)
                        && got == normal.evaluate(&data))
                    || (compat.__libseccomp_2_5_4_merge_differs(&data)
                        && got == normal.evaluate(&data));
                assert!(
                    documented,
                    "seed {seed}, level {level}, {arch:?}: {name}{args:x?}: compat mode \
                     {c:#x}, normal mode {got:#x}, not a documented difference: {calls:#?}"
                );
            }
        }
    }
    n
}

/// `export_pfc`'s text, which the conformance replay holds to libseccomp's in compat mode:
/// the normal mode's may differ only in the code or priority of a syscall that a documented
/// difference changes, as the replay classifies them.
fn compare_pfc(
    seed: u64,
    compat: &ScmpFilterContext,
    normal: &ScmpFilterContext,
    calls: &[String],
) {
    let (tc, tn) = match (pfc_text(compat), pfc_text(normal)) {
        (Ok(c), Ok(n)) => (c, n),
        // Every architecture removed: no text in either mode.
        (Err(_), Err(_)) => return,
        (c, n) => panic!("seed {seed}: export_pfc: compat {c:?}, normal {n:?}: {calls:#?}"),
    };
    let explain = |t: Option<&pfc::Block>, o: Option<&pfc::Block>| {
        pfc::either_mode_reason(compat, t.or(o)?)
            .or_else(|| pfc::normal_mode_reason(compat, normal, t, o))
    };
    let reorder =
        pfc::priorities_lost(compat).or_else(|| pfc::multiplexer_counted_apart(compat, normal));
    let why = match pfc::compare(&tc, &tn, explain, reorder) {
        pfc::Compared::Same => "the same",
        pfc::Compared::Explained(why) => why,
        pfc::Compared::Differs(what) => panic!(
            "seed {seed}: export_pfc: the normal mode's text differs from compat mode's \
             (\"libseccomp\" below) where no documented difference explains it: {what}: \
             {calls:#?}"
        ),
    };
    *PFC.lock().unwrap().entry(why).or_default() += 1;
}

/// How many filters' texts were the same in both modes, and how many differed for each
/// reason.
static PFC: std::sync::Mutex<std::collections::BTreeMap<&str, usize>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

#[test]
fn the_modes_differ_only_as_documented() {
    let var = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let (first, seeds) = (var("MODES_FIRST", 0), var("MODES_SEEDS", 20_000));
    let n: usize = (first..first + seeds).map(run_case).sum();
    println!("{n} queries; export_pfc's texts: {:?}", PFC.lock().unwrap());
    assert!(n > 0);
}

/// Seeds past the default range that once failed (each the case of a fix or of a difference
/// newly classified), run every time: 20,401,385, a multiplexer's entry made by a rule in
/// compat mode alone (`pfc::multiplexer_counted_apart`).
const ONCE_FAILED: &[u64] = &[20_401_385];

#[test]
fn seeds_that_once_failed() {
    let n: usize = ONCE_FAILED.iter().map(|&seed| run_case(seed)).sum();
    assert!(n > 0);
}
