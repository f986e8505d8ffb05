//! The filter against the rules themselves, with no rule database in between: when every
//! rule has one action, a call gets that action exactly when all the comparisons of some rule
//! hold, and the default action otherwise. `tests/property.rs` compares the program with the
//! database's own evaluator, which cannot see a database that merged two rules wrongly; this
//! test can: it found libseccomp 2.5.4's merges that let one rule's values through under
//! another rule's range and that drop rules (README, deliberate differences, 9; their smallest
//! cases are in `tests/libseccomp_differences.rs`).

use pure_seccomp::bpf::{self, SeccompData};
use pure_seccomp::*;

mod common;
use common::*;

// The `rules` fuzz target's check, whose semantics of a comparison (`holds`), architectures,
// syscalls and actions this test shares.
#[path = "../fuzz/src/checks.rs"]
#[allow(dead_code)]
mod checks;
#[path = "../fuzz/src/rules_check.rs"]
#[allow(dead_code)]
mod rules_check;
use rules_check::{holds, wide, ACTIONS, ARCHES, DEFAULT_RET, SYSCALLS};

/// One case: random rules of one action on a few syscalls of one architecture, at one
/// optimize level; the number of queries checked.
fn run_case(seed: u64, arch: ScmpArch, level: u32) -> usize {
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let trace = std::env::var_os("RULES_TRACE").is_some();
    let default = ScmpAction::Errno(1);
    let (action, action_ret) = *r.pick(ACTIONS);
    let mut ctx = ScmpFilterContext::new(default).unwrap();
    ctx.remove_arch(ScmpArch::native()).unwrap();
    ctx.add_arch(arch).unwrap();
    ctx.set_ctl_optimize(level).unwrap();
    let wide = wide(arch);
    let pool: Vec<u64> = (0..3).map(|_| rand_datum(&mut r)).collect();
    let mut rules: Vec<(ScmpSyscall, Vec<ScmpArgCompare>)> = Vec::new();
    let names: Vec<&'static str> = (0..1 + r.below(2)).map(|_| *r.pick(SYSCALLS)).collect();
    for _ in 0..2 + r.below(
        std::env::var("RULES_MAX")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10),
    ) {
        let name: &str = names[r.below(names.len() as u64) as usize];
        let sys = ScmpSyscall::from_name(name).unwrap();
        let mut cmps = Vec::new();
        let mut args = Vec::new();
        for _ in 0..1 + r.below(3) {
            // Few arguments, so that rules meet on them.
            let arg = *r.pick(&[0u32, 1, 5]);
            if args.contains(&arg) {
                continue;
            }
            args.push(arg);
            let d = pool_datum(&mut r, &pool);
            let k = r.below(8);
            if k == 7 {
                let m = pool_datum(&mut r, &pool) | 1;
                cmps.push(ScmpArgCompare::new(arg, op_of(k, m), d & m));
                continue;
            }
            cmps.push(ScmpArgCompare::new(arg, op_of(k, 0), d));
        }
        if trace {
            eprintln!("  rule {sys:?} {cmps:?}");
        }
        if ctx.add_rule_conditional(action, sys, &cmps).is_ok() {
            rules.push((sys, cmps));
        }
    }
    let prog = bpf::decode(&ctx.export_bpf_mem().unwrap(), ctx.byte_order()).unwrap();
    let want_ret = |sys: ScmpSyscall, args: &[u64; 6]| {
        let hit = rules.iter().any(|(s, cmps)| {
            *s == sys && cmps.iter().all(|c| holds(c, args[c.arg() as usize], wide))
        });
        if hit {
            action_ret
        } else {
            DEFAULT_RET
        }
    };
    // The values each argument is probed with: every constant and its neighbours.
    let mut values: Vec<Vec<u64>> = vec![vec![0, u64::MAX, 0x8000_0000]; 6];
    for (_, cmps) in &rules {
        for c in cmps {
            let d = c.datum();
            values[c.arg() as usize].extend([d, d.wrapping_add(1), d.wrapping_sub(1)]);
        }
    }
    let mut n = 0;
    for name in &names {
        let sys = ScmpSyscall::from_name(name).unwrap();
        let nr = ScmpSyscall::from_name_by_arch(name, arch)
            .unwrap()
            .as_raw_syscall();
        for _ in 0..300 {
            // Each argument from any rule's constants: one rule's value beside another's range.
            let mut args = [0u64; 6];
            for (a, v) in args.iter_mut().enumerate() {
                *v = *r.pick(&values[a]);
                if !wide {
                    *v &= 0xffff_ffff;
                }
            }
            let data = SeccompData {
                nr,
                arch: audit_of(arch),
                instruction_pointer: 0,
                args,
            };
            let got = bpf::simulate(&prog, &data, ctx.byte_order()).unwrap().ret;
            let want = want_ret(sys, &args);
            assert_eq!(
                got, want,
                "seed {seed}, {arch:?}, level {level}: {name}{args:x?} got {got:#x}, the rules \
                 say {want:#x} (rules: {rules:?}); RULES_TRACE=1 prints them as made"
            );
            n += 1;
        }
    }
    n
}

/// `RULES_SEEDS` (default 3,000) cases, each of 2 to `RULES_MAX` + 1 rules (default 10).
#[test]
fn one_action_rules_mean_what_they_say() {
    let seeds: u64 = std::env::var("RULES_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    assert!(
        ScmpArch::all().all(|a| ARCHES.contains(&a)),
        "an architecture left out"
    );
    let mut n = 0;
    for seed in 0..seeds {
        // Every architecture, each in one seed of four.
        for (i, &arch) in ARCHES.iter().enumerate() {
            if (seed as usize + i) % 4 == 0 {
                for level in [1, 2] {
                    n += run_case(seed, arch, level);
                }
            }
        }
    }
    println!("{n} queries");
    assert!(n > 0);
}
