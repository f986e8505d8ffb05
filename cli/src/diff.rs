//! `pure-seccomp diff`: where two filters' verdicts differ, found by running both.
//!
//! Every ABI of the target's byte order is tried (and an architecture no filter knows), with
//! every syscall number of the ABI's range (its first 4,096) and every number either program
//! compares with (and its neighbours): see [`input::numbers`]. A call whose runs read no argument is decided by one run. Otherwise the
//! arguments are explored: each comparison of an argument word (`jeq`, `jgt`, `jge`, `jset`
//! with a constant, after an optional `and`) on the path of either program is taken the other
//! way, by setting that word, and the new input is run in turn, up to [`BUDGET`] inputs a
//! call. So the calls that reach a rule of several conditions are found too; what is not
//! found is a difference behind a comparison neither program's paths reach, or behind
//! arithmetic on an argument (neither library emits any).

use crate::arches;
use crate::audit::reads_args;
use crate::input::{self, Compiled};
use crate::{Fail, PolicyOpts};
use pure_seccomp::bpf::{self, Instruction, SeccompData, SECCOMP_DATA_SIZE};
use pure_seccomp::{Endian, ScmpArch};
use std::collections::HashSet;
use std::path::Path;

/// The inputs explored for one call, at most.
pub const BUDGET: usize = 4096;

/// One call on which the two filters differ.
pub struct Difference {
    pub abi: Option<ScmpArch>,
    pub nr: u32,
    pub args: Option<[u64; 6]>,
    pub a: u32,
    pub b: u32,
}

/// What comparing two programs found.
pub struct Comparison {
    /// The calls compared (syscall numbers on each ABI).
    pub calls: usize,
    /// The inputs run on each program.
    pub inputs: usize,
    /// The calls whose explored inputs reached the budget.
    pub cut: usize,
    /// The ABIs tried (every one of the programs' byte order).
    pub abis: usize,
    pub differences: Vec<Difference>,
}

/// A 32-bit word of `seccomp_data` as a filter loads it.
fn word(bytes: &[u8; SECCOMP_DATA_SIZE], off: usize, endian: Endian) -> u32 {
    let w = [bytes[off], bytes[off + 1], bytes[off + 2], bytes[off + 3]];
    match endian {
        Endian::Little => u32::from_le_bytes(w),
        Endian::Big => u32::from_be_bytes(w),
    }
}

fn set_word(bytes: &mut [u8; SECCOMP_DATA_SIZE], off: usize, endian: Endian, v: u32) {
    let w = match endian {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    };
    bytes[off..off + 4].copy_from_slice(&w);
}

/// The values of an argument (or instruction pointer) word that take each comparison on
/// `path` the other way, or to its edge: `(offset, value)`.
fn branch_values(
    prog: &[Instruction],
    path: &[usize],
    bytes: &[u8; SECCOMP_DATA_SIZE],
    endian: Endian,
    out: &mut Vec<(usize, u32)>,
) {
    use bpf::*;
    // The word the accumulator holds, under a mask.
    let mut acc: Option<(usize, u32)> = None;
    for &i in path {
        let ins = prog[i];
        match ins.code & 0x07 {
            BPF_LD => {
                let k = ins.k as usize;
                acc = (ins.code == BPF_LD | BPF_W | BPF_ABS
                    && k % 4 == 0
                    && k + 4 <= SECCOMP_DATA_SIZE)
                    .then_some((k, u32::MAX));
            }
            BPF_ALU => {
                acc = match acc {
                    Some((off, mask)) if ins.code == BPF_ALU | BPF_AND | BPF_K => {
                        Some((off, mask & ins.k))
                    }
                    _ => None,
                }
            }
            BPF_MISC if ins.code & 0xf8 == BPF_TXA => acc = None,
            BPF_JMP if ins.code & 0x08 == BPF_K && ins.code & 0xf0 != BPF_JA => {
                // The number and the architecture are the call; only the rest is explored.
                let Some((off, mask)) = acc.filter(|&(off, _)| off >= 8) else {
                    continue;
                };
                let cur = word(bytes, off, endian);
                let (k, keep) = (ins.k & mask, cur & !mask);
                let mut push = |v: u32| out.push((off, keep | (v & mask)));
                match ins.code & 0xf0 {
                    BPF_JEQ => {
                        push(k);
                        push(k ^ 1);
                    }
                    BPF_JGT | BPF_JGE => {
                        push(k);
                        push(k.wrapping_add(1));
                        push(k.wrapping_sub(1));
                    }
                    BPF_JSET => {
                        push(cur | k);
                        push(cur & !k);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

/// The verdict and path of one input; a program the simulator cannot run is one the kernel
/// would not have loaded: treated as killing.
fn run(c: &Compiled, bytes: &[u8; SECCOMP_DATA_SIZE]) -> (u32, Vec<usize>) {
    let data = SeccompData::from_bytes(bytes, c.endian);
    bpf::simulate_path(&c.prog, &data, c.endian)
        .map(|(out, path)| (out.ret, path))
        .unwrap_or((bpf::SECCOMP_RET_KILL_PROCESS, Vec::new()))
}

/// Explores one call (`data`'s number and architecture) on both programs: the first input on
/// which they differ, and how many inputs ran.
fn explore(a: &Compiled, b: &Compiled, data: &SeccompData) -> (Option<SeccompData>, usize) {
    let endian = a.endian;
    let start = data.to_bytes(endian);
    let mut seen = HashSet::from([start]);
    let mut todo = vec![start];
    let mut ran = 0;
    let mut branches = Vec::new();
    while let Some(bytes) = todo.pop() {
        ran += 1;
        let (ra, pa) = run(a, &bytes);
        let (rb, pb) = run(b, &bytes);
        if ra != rb {
            return (Some(SeccompData::from_bytes(&bytes, endian)), ran);
        }
        branches.clear();
        branch_values(&a.prog, &pa, &bytes, endian, &mut branches);
        branch_values(&b.prog, &pb, &bytes, endian, &mut branches);
        for &(off, v) in &branches {
            let mut next = bytes;
            set_word(&mut next, off, endian, v);
            if seen.len() < BUDGET && seen.insert(next) {
                todo.push(next);
            }
        }
    }
    (None, ran)
}

/// Compares two programs of one byte order on every ABI of it.
pub fn compare(a: &Compiled, b: &Compiled) -> Comparison {
    let constants = input::constants(&[&a.prog, &b.prog]);
    let mut cmp = Comparison {
        calls: 0,
        inputs: 0,
        cut: 0,
        abis: 0,
        differences: Vec::new(),
    };
    // The ABIs the filters cover first, then the others of their byte order.
    let mut abis: Vec<ScmpArch> = a.abis.clone();
    abis.extend(b.abis.iter().filter(|x| !a.abis.contains(x)));
    let others: Vec<ScmpArch> = ScmpArch::all()
        .filter(|x| arches::endian(*x) == a.endian && !abis.contains(x))
        .collect();
    abis.extend(others);
    cmp.abis = abis.len();
    // An architecture token no ABI has: what a filter does with a foreign one.
    let unknown = (0..)
        .find(|t| arches::names_of_audit(*t).is_empty())
        .unwrap_or(0);
    // Each call once, under the ABI the kernel takes it for (x86_64 and x32 share a token).
    let mut seen = HashSet::new();
    let mut calls: Vec<(Option<ScmpArch>, u32, u32)> = abis
        .iter()
        .flat_map(|&abi| {
            let token = arches::audit(abi);
            input::numbers(abi, &constants)
                .into_iter()
                .map(move |nr| (arches::abi_of_call(token, nr).or(Some(abi)), token, nr))
        })
        .filter(|&(_, token, nr)| seen.insert((token, nr)))
        .chain([(None, unknown, 0)])
        .collect();
    // Grouped by ABI, in the order above; the unknown architecture last.
    calls.sort_by_key(|&(abi, _, nr)| {
        let order = abi.and_then(|x| abis.iter().position(|&y| y == x));
        (order.unwrap_or(usize::MAX), nr)
    });
    for (abi, token, nr) in calls {
        let data = SeccompData {
            nr: nr as i32,
            arch: token,
            instruction_pointer: 0,
            args: [0; 6],
        };
        let (found, ran) = explore(a, b, &data);
        cmp.calls += 1;
        cmp.inputs += ran;
        if ran >= BUDGET {
            cmp.cut += 1;
        }
        if let Some(d) = found {
            let bytes = d.to_bytes(a.endian);
            let (ra, pa) = run(a, &bytes);
            let (rb, pb) = run(b, &bytes);
            cmp.differences.push(Difference {
                abi,
                nr,
                args: (reads_args(a, &pa) || reads_args(b, &pb)).then_some(d.args),
                a: ra,
                b: rb,
            });
        }
    }
    cmp
}

/// `ptrace (101)`, `unknown (0x40000400)`; for an unknown architecture, the number alone.
fn call_label(d: &Difference) -> String {
    let Some(abi) = d.abi else {
        return format!("syscall {}", d.nr);
    };
    let name = arches::syscall_name(abi, d.nr);
    let nr = if d.nr >= 0x1000 {
        format!("{:#x}", d.nr)
    } else {
        d.nr.to_string()
    };
    format!("{} ({nr})", name.as_deref().unwrap_or("unknown"))
}

/// `diff`.
pub fn run_diff(
    files: [&Path; 2],
    arch: Option<ScmpArch>,
    verbose: bool,
    opts: &PolicyOpts,
) -> Result<u8, Fail> {
    crate::offline();
    let mut sides = Vec::new();
    for file in files {
        let source = input::open(Some(file), arch)?;
        let label = source.label().to_string();
        let programs = input::programs(&source, &opts.build(arch.into_iter().collect()), true)?;
        sides.push((label, programs));
    }
    let (b_label, b_programs) = sides.pop().expect("two sides");
    let (a_label, a_programs) = sides.pop().expect("two sides");
    // One program each, or the same filters by name.
    let pairs: Vec<(&Compiled, &Compiled)> = match (a_programs.as_slice(), b_programs.as_slice()) {
        ([a], [b]) => vec![(a, b)],
        (many_a, many_b) => {
            let titles = |p: &[Compiled]| p.iter().map(Compiled::title).collect::<Vec<_>>();
            let (ta, tb) = (titles(many_a), titles(many_b));
            if ta.len() != tb.len() || ta.iter().any(|t| !tb.contains(t)) {
                return Err(Fail::input(format!(
                    "{a_label} gives {} and {b_label} gives {}: pick one with --filter (and \
                     --arch)",
                    ta.join(", "),
                    tb.join(", ")
                )));
            }
            many_a
                .iter()
                .map(|a| (a, many_b.iter().find(|b| b.title() == a.title()).unwrap()))
                .collect()
        }
    };
    let mut differ = false;
    for (i, (a, b)) in pairs.into_iter().enumerate() {
        if i > 0 {
            println!();
        }
        if a.endian != b.endian {
            return Err(Fail::input(format!(
                "{a_label} is for {} and {b_label} for {}: their byte orders differ, so no \
                 call reaches both",
                a.title(),
                b.title()
            )));
        }
        println!("A: {a_label}: {}, {} instructions", a.title(), a.prog.len());
        println!("B: {b_label}: {}, {} instructions", b.title(), b.prog.len());
        let cmp = compare(a, b);
        let what = format!(
            "{} calls of {} ABIs and a foreign one, {} inputs{}",
            cmp.calls,
            cmp.abis,
            cmp.inputs,
            if cmp.cut > 0 {
                format!(" ({} calls cut at {BUDGET} inputs each)", cmp.cut)
            } else {
                String::new()
            }
        );
        if cmp.differences.is_empty() {
            println!("same verdicts on every call tried: {what}");
            continue;
        }
        differ = true;
        // By ABI, in the order compared.
        let limit = if verbose { usize::MAX } else { 10 };
        let mut rest = cmp.differences.as_slice();
        while let Some(first) = rest.first() {
            let n = rest.iter().take_while(|d| d.abi == first.abi).count();
            let (these, after) = rest.split_at(n);
            rest = after;
            let abi = first.abi.map_or("unknown architecture", arches::short);
            println!("  {abi}: {n} call(s)");
            for d in these.iter().take(limit) {
                let args = d.args.map_or_else(String::new, |args| {
                    let hex: Vec<String> = args.iter().map(|v| format!("{v:#x}")).collect();
                    format!(" args [{}]", hex.join(", "))
                });
                println!(
                    "    {}{args}: A {}, B {}",
                    call_label(d),
                    bpf::action_name(d.a),
                    bpf::action_name(d.b)
                );
            }
            if n > limit {
                println!("    ... and {} more (--verbose)", n - limit);
            }
        }
        println!(
            "{} call(s) with different verdicts: {what}",
            cmp.differences.len()
        );
    }
    Ok(if differ { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf::*;

    /// A one-ABI program: the architecture check, syscall 1 alone, then `body` (ending in a
    /// test that jumps 0 to ALLOW when it holds, 1 to the ERRNO return otherwise), then the
    /// two returns.
    fn program(arch: ScmpArch, body: &[Instruction]) -> Compiled {
        let to_errno = u8::try_from(body.len() + 1).unwrap();
        let mut prog = vec![
            Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            Instruction::jump(
                BPF_JMP | BPF_JEQ | BPF_K,
                arches::audit(arch),
                0,
                to_errno + 2,
            ),
            Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Instruction::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, to_errno),
        ];
        prog.extend_from_slice(body);
        prog.push(Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
        prog.push(Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1));
        Compiled {
            name: String::new(),
            target: arch,
            abis: vec![arch],
            prog,
            endian: arches::endian(arch),
            recipe: None,
            ctx: None,
        }
    }

    /// `arg`'s low (or high) word, masked, `op` with `k`: ALLOW when it holds.
    fn test(arch: ScmpArch, arg: u32, high: bool, mask: u32, op: u16, k: u32) -> Compiled {
        let off = arg_word_offset(arg, high, arches::endian(arch));
        program(
            arch,
            &[
                Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, off),
                Instruction::stmt(BPF_ALU | BPF_AND | BPF_K, mask),
                Instruction::jump(BPF_JMP | op | BPF_K, k, 0, 1),
            ],
        )
    }

    /// The one difference found, as (arguments, A's verdict).
    fn only(a: &Compiled, b: &Compiled) -> ([u64; 6], u32) {
        let cmp = compare(a, b);
        let [d] = cmp.differences.as_slice() else {
            panic!("{} differences", cmp.differences.len());
        };
        (d.args.expect("arguments matter"), d.a)
    }

    #[test]
    fn differences_behind_argument_comparisons_are_found() {
        for arch in [ScmpArch::X8664, ScmpArch::S390X] {
            let t = |arg, high, mask, op, k| test(arch, arg, high, mask, op, k);
            // Equal values, under a mask, in either word, of either byte order.
            let (args, a) = only(
                &t(2, false, !0, BPF_JEQ, 0x30),
                &t(2, false, !0, BPF_JEQ, 0x31),
            );
            assert!(args[2] == 0x30 || args[2] == 0x31, "{arch:?} {args:x?}");
            assert_eq!(a == SECCOMP_RET_ALLOW, args[2] == 0x30);
            let (args, _) = only(
                &t(1, false, 0xf0, BPF_JEQ, 0x30),
                &t(1, false, 0xf0, BPF_JEQ, 0x20),
            );
            assert!(matches!(args[1] & 0xf0, 0x30 | 0x20), "{arch:?} {args:x?}");
            let (args, _) = only(&t(0, true, !0, BPF_JEQ, 1), &t(0, true, !0, BPF_JEQ, 2));
            assert!(matches!(args[0] >> 32, 1 | 2), "{arch:?} {args:x?}");
            // Bounds, and bits.
            let (args, _) = only(
                &t(5, false, !0, BPF_JGT, 100),
                &t(5, false, !0, BPF_JGE, 100),
            );
            assert_eq!(args[5], 100, "{arch:?}");
            let (args, _) = only(&t(3, false, !0, BPF_JSET, 4), &t(3, false, !0, BPF_JSET, 8));
            assert!(args[3] & 0xc != 0, "{arch:?} {args:x?}");
            // The same test: no difference.
            assert!(compare(
                &t(4, false, 0xff, BPF_JEQ, 7),
                &t(4, false, 0xff, BPF_JEQ, 7)
            )
            .differences
            .is_empty());
        }
    }
}
