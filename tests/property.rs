//! Property test: for random rule sets on every architecture and both optimize levels, the
//! compiled BPF program (run by our simulator) returns exactly what the independent
//! evaluator of the rule database returns, on random and boundary inputs. Every program
//! must also pass the kernel-equivalent validator.
//!
//! `PROP_SEEDS` (default 150) sets the seeds of each architecture set and level; the other two
//! tests take cases in proportion (25 with each pass off, 5,000 API sequences at the default).
//! CI's emulated hosts take the first quarter.

use pure_seccomp::bpf::{self, SeccompData};
use pure_seccomp::opt::Passes;
use pure_seccomp::*;

mod common;
use common::*;

/// Boundary values around every constant the rules used.
fn probes(consts: &[u64], r: &mut Rng) -> Vec<u64> {
    let mut v: Vec<u64> = EDGE.to_vec();
    for &c in consts {
        for x in [
            c,
            c.wrapping_add(1),
            c.wrapping_sub(1),
            c.rotate_left(32),
            c & 0xffff_ffff,
            c & !0xffff_ffff,
            c ^ 0x8000_0000,
            c ^ 0x1_0000_0000,
        ] {
            v.push(x);
        }
    }
    for _ in 0..4 {
        v.push(r.next());
    }
    v
}

fn run_case(seed: u64, arches: &[ScmpArch], level: u32, passes: Passes) -> usize {
    let mut r = Rng(seed | 1);
    let def = rand_action(&mut r);
    if std::env::var_os("PROP_TRACE").is_some() {
        eprintln!("  default {def:?}");
    }
    let mut ctx = ScmpFilterContext::new(def).unwrap();
    ctx.remove_arch(ScmpArch::native()).unwrap();
    for &a in arches {
        ctx.add_arch(a).unwrap();
    }
    ctx.set_ctl_optimize(level).unwrap();
    // One case in four has the default action for the bad-arch action too (the two
    // actions' ranges of a dispatch are then alike, but not interchangeable).
    let badarch = if r.below(4) == 0 {
        def
    } else {
        ScmpAction::Trap
    };
    ctx.set_act_badarch(badarch).unwrap();
    ctx.set_opt_passes(passes);
    let mut consts = Vec::new();
    let mut used = Vec::new();
    let mut raw = Vec::new();
    // One case in three also piles a list of values on one argument of one syscall (an
    // `ioctl` allow-list): the shape the argument-tree pass rewrites.
    if r.below(3) == 0 {
        let name = *r.pick(NAMES);
        if let Ok(sys) = ScmpSyscall::from_name(name) {
            used.push(name);
            let arg = r.below(6) as u32;
            let base = rand_datum(&mut r);
            // One pile in three is mostly submasks of a mask of two to four bits (the
            // shape one `jset` decides, as Docker's `personality` values).
            let cube = (r.below(3) == 0)
                .then(|| (0..2 + r.below(3)).fold(0u64, |m, _| m | 1 << r.below(32)));
            let act = rand_action(&mut r);
            for _ in 0..r.below(40) + 3 {
                // Values near one base (one high word, as ioctl request numbers), a few
                // bit tests. (Values with many high words piled on one argument make the
                // database's prune walk, libseccomp's algorithm, exponential.)
                let v = match cube {
                    Some(mask) if r.below(4) != 0 => r.next() & mask,
                    _ => base.wrapping_add(r.below(256)),
                };
                let (op, v) = match r.below(8) {
                    0 => (ScmpCompareOp::MaskedEqual(1 << r.below(32)), v),
                    1 => (ScmpCompareOp::Greater, v),
                    _ => (ScmpCompareOp::Equal, v),
                };
                let c = ScmpArgCompare::new(arg, op, v);
                consts.push(v);
                let a = if r.below(4) == 0 {
                    rand_action(&mut r)
                } else {
                    act
                };
                let _ = ctx.add_rule_conditional(a, sys, &[c]);
            }
        }
    }
    for _ in 0..r.below(24) + 1 {
        let name = if !used.is_empty() && r.below(3) == 0 {
            *r.pick(&used)
        } else {
            *r.pick(NAMES)
        };
        // Now and then a raw number with the x32 bit (an x32 call's in an x32 section, the
        // other ABI's in an x86_64-only one).
        let sys = if r.below(16) == 0 {
            raw.push(0x4000_0000 | r.below(600) as i32);
            Ok(ScmpSyscall::from(raw[raw.len() - 1]))
        } else {
            used.push(name);
            ScmpSyscall::from_name(name)
        };
        let Ok(sys) = sys else {
            continue;
        };
        let n = r.below(4);
        let mut cmps = Vec::new();
        let mut args: Vec<u32> = (0..6).collect();
        for _ in 0..n {
            let i = r.below(args.len() as u64) as usize;
            let c = rand_cmp(&mut r, args.remove(i));
            consts.push(c.datum());
            consts.push(c.datum_a());
            cmps.push(c);
        }
        let act = rand_action(&mut r);
        if std::env::var_os("PROP_TRACE").is_some() {
            eprintln!("  rule {act:?} {name} {cmps:?}");
        }
        // Errors (EEXIST, EACCES) are fine; the filter must stay consistent either way.
        let _ = ctx.add_rule_conditional(act, sys, &cmps);
    }
    // One case in three gives some of its syscalls a priority: at level 1, groups of equal
    // priority are tried in priority order.
    if r.below(3) == 0 && !used.is_empty() {
        for _ in 0..r.below(4) + 1 {
            let name = *r.pick(&used);
            let pri = r.below(256) as u8;
            if let Ok(sys) = ScmpSyscall::from_name(name) {
                let _ = ctx.set_syscall_priority(sys, pri);
            }
        }
    }
    if std::env::var_os("PROP_TRACE").is_some() {
        eprintln!("  exporting");
    }
    let bytes = ctx.export_bpf_mem().unwrap();
    if std::env::var_os("PROP_TRACE").is_some() {
        eprintln!("  exported {} bytes", bytes.len());
    }
    let endian = ctx.byte_order();
    let prog = bpf::decode(&bytes, endian).unwrap();
    bpf::validate(&prog).unwrap_or_else(|e| {
        panic!(
            "seed {seed}: invalid program: {e}\n{}",
            bpf::disassemble(&prog)
        )
    });
    let mut checked = 0;
    let vals = probes(&consts, &mut r);
    for &a in arches {
        let named = NAMES.iter().filter_map(|name| {
            let nr = ScmpSyscall::from_name_by_arch_rewrite(name, a).ok()?;
            Some((nr.as_raw_syscall(), 12))
        });
        // And, with fewer argument sets, the raw numbers with rules and their neighbours.
        let near = raw.iter().flat_map(|&n| [(n - 1, 3), (n, 3), (n + 1, 3)]);
        for (nr, sets) in named.chain(near) {
            for k in 0..sets {
                let mut args = [0u64; 6];
                for x in args.iter_mut() {
                    *x = if k == 0 { 0 } else { *r.pick(&vals) };
                }
                let audit = audit_of(a);
                let data = SeccompData {
                    nr,
                    arch: audit,
                    instruction_pointer: 0,
                    args,
                };
                let want = ctx.evaluate(&data);
                let got = bpf::simulate(&prog, &data, endian).unwrap().ret;
                assert_eq!(
                    got,
                    want,
                    "seed {seed} arches {arches:?} level {level}: {data:?}\n{}",
                    bpf::disassemble(&prog)
                );
                checked += 1;
            }
        }
    }
    checked
}

/// `n` cases at the default `PROP_SEEDS` (150), in proportion otherwise (at least one).
fn scaled(n: u64) -> u64 {
    let seeds: u64 = std::env::var("PROP_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    (n * seeds / 150).max(1)
}

/// Runs `seeds` cases per architecture set and level with the optimizer's `passes`.
fn run_all(seeds: u64, passes: Passes) -> usize {
    let mut total = 0;
    let sets = arch_sets();
    for (i, set) in sets.iter().enumerate() {
        for level in [1, 2] {
            for s in 0..seeds {
                if std::env::var_os("PROP_TRACE").is_some() {
                    eprintln!("set {i} level {level} seed {s} passes {passes:?}");
                }
                total += run_case(
                    0x9e37_79b9_7f4a_7c15 ^ ((i as u64) << 32) ^ (s << 8) ^ u64::from(level),
                    set,
                    level,
                    passes,
                );
            }
        }
    }
    total
}

#[test]
fn simulate_equals_evaluate() {
    let total = run_all(scaled(150), Passes::all());
    println!("property: {total} queries agreed");
    assert!(total > 10_000);
}

/// No pass is needed for a correct program: with each one switched off in turn, and with
/// all of them off, the programs still agree with the evaluator.
#[test]
fn simulate_equals_evaluate_with_each_pass_off() {
    let mut total = 0;
    for pass in Passes::all().iter() {
        total += run_all(scaled(25), Passes::all() - pass);
    }
    total += run_all(scaled(25), Passes::empty());
    println!("property, passes off: {total} queries agreed");
    assert!(total > 10_000);
}

/// Random sequences of every mutating call, including ones libseccomp mishandles (removing an
/// architecture after rules, syscall -1 with `api_tskip`, raw and bogus numbers, priorities,
/// merges, resets):
/// nothing panics, every program passes the validator and agrees with the evaluator.
#[test]
fn random_api_sequences_never_panic() {
    let all: Vec<ScmpArch> = ScmpArch::all().collect();
    let mut checked = 0;
    for seed in 0..scaled(5000) {
        let mut r = Rng(0x5eed_0000 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let Ok(mut ctx) = ScmpFilterContext::new(rand_action(&mut r)) else {
            continue;
        };
        // The numbers rules were given (the queries ask about them too).
        let mut ruled = vec![0];
        for _ in 0..r.below(40) {
            let arch = *r.pick(&all);
            let sys = match r.below(4) {
                0 => ScmpSyscall::from(r.below(600) as i32 - 5),
                1 => ScmpSyscall::from(*r.pick(&[
                    -1,
                    -101,
                    -201,
                    -10060,
                    0x4000_0001,
                    5000,
                    1_000_000,
                ])),
                _ => ScmpSyscall::from_name(NAMES[r.below(NAMES.len() as u64) as usize])
                    .unwrap_or(ScmpSyscall::from(0)),
            };
            ruled.push(sys.as_raw_syscall());
            let mut cmps = Vec::new();
            for _ in 0..r.below(4) {
                let arg = r.below(7) as u32;
                cmps.push(rand_cmp(&mut r, arg));
            }
            let _ = match r.below(14) {
                0 => ctx.add_arch(arch).map(|_| ()),
                1 => ctx.remove_arch(arch).map(|_| ()),
                2 => ctx
                    .set_syscall_priority(sys, r.below(256) as u8)
                    .map(|_| ()),
                3 => ctx.set_api_tskip(r.below(2) == 0).map(|_| ()),
                4 => ctx.set_ctl_optimize(1 + r.below(2) as u32).map(|_| ()),
                5 => ctx.add_rule_exact(rand_action(&mut r), sys).map(|_| ()),
                6 => ctx
                    .add_rule_conditional_exact(rand_action(&mut r), sys, &cmps)
                    .map(|_| ()),
                7 => ctx.set_act_badarch(rand_action(&mut r)).map(|_| ()),
                8 => ctx.start_transaction(),
                9 => {
                    ctx.reject_transaction();
                    Ok(())
                }
                10 => ctx.reset(rand_action(&mut r)),
                11 => {
                    // A filter on another architecture (or the same: refused) with a rule or
                    // two, merged in, mostly with this filter's default action.
                    let default = match (r.below(4), ctx.get_act_default()) {
                        (0, _) | (_, Err(_)) => rand_action(&mut r),
                        (_, Ok(a)) => a,
                    };
                    match ScmpFilterContext::new(default) {
                        Ok(mut src) => {
                            let _ = src.remove_arch(ScmpArch::native());
                            let _ = src.add_arch(arch);
                            for _ in 0..1 + r.below(2) {
                                let _ = src.add_rule_conditional(rand_action(&mut r), sys, &cmps);
                            }
                            ctx.merge(src).map(|_| ())
                        }
                        Err(_) => Ok(()),
                    }
                }
                _ => ctx
                    .add_rule_conditional(rand_action(&mut r), sys, &cmps)
                    .map(|_| ()),
            };
        }
        let Ok(bytes) = ctx.export_bpf_mem() else {
            continue;
        };
        let endian = ctx.byte_order();
        let prog = bpf::decode(&bytes, endian).unwrap();
        bpf::validate(&prog).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let _ = ctx.export_pfc(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/null")
                .unwrap(),
        );
        for _ in 0..60 {
            let a = *r.pick(&all);
            let nr = match r.below(4) {
                0 => r.below(600) as i32,
                3 => *r.pick(&ruled),
                1 => ScmpSyscall::from_name_by_arch_rewrite(
                    NAMES[r.below(NAMES.len() as u64) as usize],
                    a,
                )
                .map_or(0, |s| s.as_raw_syscall()),
                _ => (r.below(600) as i32) | 0x4000_0000,
            };
            let mut args = [0u64; 6];
            for x in args.iter_mut() {
                *x = rand_datum(&mut r);
            }
            let data = SeccompData {
                nr,
                arch: audit_of(a),
                instruction_pointer: 0,
                args,
            };
            let got = bpf::simulate(&prog, &data, endian).unwrap().ret;
            assert_eq!(got, ctx.evaluate(&data), "seed {seed}: {data:?}");
            checked += 1;
        }
    }
    println!("random API sequences: {checked} queries agreed");
}
