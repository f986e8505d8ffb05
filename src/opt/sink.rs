//! High words tested last: a 64-bit comparison asks its low word first.
//!
//! libseccomp compares a 64-bit argument word by word, the high word first: an ALLOW rule
//! `socket(domain != AF_VSOCK)` on x86_64 is `hi == 0 ? (lo == 40 ? ERRNO : ALLOW) : ALLOW`,
//! so every call pays for the high word, although only the values whose low word is 40 need
//! it. Here such a test moves below the tests of the low word that follow it: `lo == 40 ?
//! (hi == 0 ? ERRNO : ALLOW) : ALLOW`. A call whose low word already leads where a failed
//! high-word test leads (every domain but 40) skips the high word; every other call with a
//! high word of 0 runs as many instructions as before (the high word's load and test move,
//! none is added). A call whose high word is not 0, which the test was there to catch, runs
//! the low word's tests before it: rare values (flags, numbers and file descriptors fit in
//! 32 bits), and the verdict is the same.
//!
//! The rewrite: a test `h` of an argument's high word whose successor for a high word of 0
//! (the body `b`) tests another word `w` (not a high word), the other successor `d`. The
//! tests of `w` reachable from `b` through tests of `w` alone are the region; where the
//! region leaves (its exits: returns, tests of other words), an exit `e` other than `d`
//! becomes `h ? e : d`, and the region takes `h`'s place. Sound for any region: with `h`
//! true, each path ends where it did; with `h` false, every path ends in `d`, as `h` did.
//!
//! Taken where some exit is `d` (else no call gains), at most one exit is not (each such
//! exit gets a copy of `h`), the region is at most [`MAX_REGION`] tests, and either no node
//! of the region is reached from outside it
//! (the move is free), or the region is at most [`MAX_COPY`] tests and `d` is ALLOW (the
//! region is copied, for the calls the rules let through: Docker's `socket` on x86_64, whose
//! low-word tests the x86 and x32 sections share). The copies of `h` are one node wherever
//! their exits agree (`hi == 0 ? ALLOW : KILL` after every rule of a filter), which often
//! makes the program shorter (crosvm's, by 2 to 8 instructions); far jumps to it share
//! `ja` trampolines (`crate::emit`), and a program the pass makes too long for the kernel is
//! emitted as it was before the pass. The pass runs until it finds nothing more, so the high words of a
//! rule on two arguments go below both low words. Only high words move, and only below
//! other words, so it ends; and only argument words move, so the dispatch on the number and
//! the action cache's view of it are untouched.

use crate::arch::Endian;
use crate::ir::hash::FxMap;
use crate::ir::{Dn, DnId, Ir, Program};

/// Whether byte offset `off` of `seccomp_data` is the high word of an argument.
fn high_word(off: u32, endian: Endian) -> bool {
    let args = crate::bpf::SECCOMP_DATA_ARGS_OFFSET;
    let hi = match endian {
        Endian::Little => 4,
        Endian::Big => 0,
    };
    (args..args + 6 * 8).contains(&off) && (off - args) % 8 == hi
}

/// Region nodes visited in one round at most (a region shared by many high-word tests is
/// visited from each): past it, the rest stays as it is.
const BUDGET: usize = 1 << 20;

/// The largest region that moves: a value tree of hundreds of values gains only for the
/// values it does not name (denials, in an allow-list), and rebuilding the graph around it
/// costs a tenth of a long filter's build.
const MAX_REGION: usize = 64;

/// [`round`]'s mark of a node not copied.
const NONE: DnId = DnId::MAX;

/// The largest region copied where another path shares it (see [`region`]).
const MAX_COPY: usize = 4;

/// The rounds at most: the first moves each high word below its own low word, each other
/// one below the next argument's (four cover a rule on four 64-bit arguments; no rule of the
/// shared policies gains from a second round).
const ROUNDS: usize = 4;

/// Moves high-word tests below the low-word tests that follow them, where that costs
/// nothing (see the module's documentation), until nothing moves: `None` when nothing does.
pub(crate) fn run(p: &Program, endian: Endian) -> Option<Program> {
    let (mut p, mut more) = round(p, endian)?;
    for _ in 1..ROUNDS {
        if !more {
            break;
        }
        let Some(next) = round(&p, endian) else {
            break;
        };
        (p, more) = next;
    }
    Some(p)
}

/// How a high-word test `h` moves: its body region and which successor the body is.
struct Move {
    /// The region: the body's tests of its word, in postorder (successors first).
    region: Vec<DnId>,
    /// Where `h` fails.
    d: DnId,
    /// Whether the body is `h`'s true successor.
    body_is_t: bool,
    /// Whether only `h` leads into the region (its nodes are not needed once it moved).
    private: bool,
}

/// One round: every high-word test that can move, moved (`None`: none can), and whether one
/// of them now leads to a low word it may move below in another round.
fn round(p: &Program, endian: Endian) -> Option<(Program, bool)> {
    let order = p.ir.postorder(p.root);
    // Each reachable node's parents (edges from reachable tests).
    let mut parents = vec![0u32; p.ir.len()];
    for &d in &order {
        if let Some((t, f)) = p.ir.succ(d) {
            parents[t] += 1;
            parents[f] += 1;
        }
    }
    let mut moves: FxMap<DnId, Move> = FxMap::default();
    // Scratch for `region`: how many of a node's parents are in the region.
    let mut inside = vec![0u32; p.ir.len()];
    let mut budget = BUDGET;
    // The nodes of the private regions that move.
    let mut dead = vec![false; p.ir.len()];
    for &d in &order {
        let Dn::Test {
            off,
            mask,
            op,
            k,
            t,
            f,
        } = p.ir.node(d)
        else {
            continue;
        };
        if !high_word(off, endian) {
            continue;
        }
        // The body is where a high word of 0 goes.
        let body_is_t = op.holds(0, k & mask);
        let (body, fail) = if body_is_t { (t, f) } else { (f, t) };
        let found = region(
            p,
            body,
            fail,
            off,
            endian,
            &parents,
            &mut inside,
            &mut budget,
        );
        if let Some((region, private)) = found {
            if private {
                for &r in &region {
                    dead[r] = true;
                }
            }
            moves.insert(
                d,
                Move {
                    region,
                    d: fail,
                    body_is_t,
                    private,
                },
            );
        }
    }
    if moves.is_empty() {
        return None;
    }
    let mut ir = Ir::with_capacity(order.len());
    let mut new = vec![0; p.ir.len()];
    // Each region node's copy (`NONE` outside the region being copied).
    let mut copy = vec![NONE; p.ir.len()];
    let mut more = false;
    for &d in &order {
        if dead[d] {
            // In a private region that moves: only its copy is reached.
            continue;
        }
        let n = p.ir.node(d);
        new[d] = match (moves.get(&d), n) {
            (
                Some(m),
                Dn::Test {
                    off, mask, op, k, ..
                },
            ) => {
                // The region again, its exits through `h`: successors first, so each copy's
                // successors are copied before it.
                let fail = new[m.d];
                for &r in &m.region {
                    let Dn::Test {
                        off: w,
                        mask: rm,
                        op: rop,
                        k: rk,
                        t,
                        f,
                    } = p.ir.node(r)
                    else {
                        unreachable!("a region holds tests");
                    };
                    // An exit (the region's own nodes are copied already: successors first)
                    // that now tests a low word: `h` may move below it next round.
                    for x in [t, f] {
                        if x != m.d && copy[x] == NONE {
                            more |= matches!(ir.node(new[x]), Dn::Test { off, .. }
                                if off >= crate::bpf::SECCOMP_DATA_ARGS_OFFSET
                                    && !high_word(off, endian));
                        }
                    }
                    let mut exit = |x: DnId| match copy[x] {
                        NONE if x == m.d => fail,
                        NONE if m.body_is_t => ir.test(off, mask, op, k, new[x], fail),
                        NONE => ir.test(off, mask, op, k, fail, new[x]),
                        c => c,
                    };
                    let (t, f) = (exit(t), exit(f));
                    copy[r] = ir.test(w, rm, rop, rk, t, f);
                }
                let body = copy[*m.region.last().expect("a region holds its body")];
                for &r in &m.region {
                    copy[r] = NONE;
                }
                debug_assert!(m.private || m.region.iter().all(|&r| !dead[r]));
                body
            }
            _ => ir.add(n.map_succ(|x| new[x])),
        };
    }
    let root = new[p.root];
    Some((Program { ir, root }, more))
}

/// The region of `body` if high-word test `h` (of word `h_off`, failing to `fail`) can move
/// below it: `body` tests another word that is not a high word, the region's exits include
/// `fail` and at most one other node, and nothing outside the region and `h` leads into it
/// (or the region is small and `fail` allows). `inside` is scratch, all zero on entry and on
/// return; each region node visited takes one from `budget`, and no region is looked for once
/// it is spent.
#[allow(clippy::too_many_arguments)]
fn region(
    p: &Program,
    body: DnId,
    fail: DnId,
    h_off: u32,
    endian: Endian,
    parents: &[u32],
    inside: &mut [u32],
    budget: &mut usize,
) -> Option<(Vec<DnId>, bool)> {
    let Dn::Test { off: w, .. } = p.ir.node(body) else {
        return None;
    };
    if *budget == 0
        || w == h_off
        || high_word(w, endian)
        || w < crate::bpf::SECCOMP_DATA_ARGS_OFFSET
    {
        return None;
    }
    // The region in postorder (an explicit stack: a region can be a long chain), and every
    // node whose `inside` count this sets, to clear them.
    let mut region = Vec::new();
    let mut seen = vec![body];
    // The nodes expanded (at most `MAX_REGION` + 1): a node is expanded once, after which
    // only its first entry on the stack is; one reached again through a second parent before
    // it was expanded is pushed again, so that it comes out before that parent too.
    let mut expanded_nodes: Vec<DnId> = Vec::new();
    let (mut fails, mut other) = (false, None);
    let mut ok = true;
    let mut stack = vec![(body, false)];
    inside[body] = 1;
    while let Some((r, expanded)) = stack.pop() {
        if expanded {
            region.push(r);
            continue;
        }
        if expanded_nodes.contains(&r) {
            continue;
        }
        expanded_nodes.push(r);
        *budget = budget.saturating_sub(1);
        stack.push((r, true));
        let (t, f) = p.ir.succ(r).expect("a region holds tests");
        for x in [f, t] {
            let of_w = x != fail && matches!(p.ir.node(x), Dn::Test { off, .. } if off == w);
            if of_w {
                inside[x] += 1;
                if inside[x] == 1 {
                    seen.push(x);
                }
                if !expanded_nodes.contains(&x) {
                    stack.push((x, false));
                }
            } else if x == fail {
                fails = true;
            } else if other.is_some_and(|o| o != x) {
                ok = false;
            } else {
                other = Some(x);
            }
        }
        if !ok || seen.len() > MAX_REGION {
            ok = false;
            break;
        }
    }
    // Private (every parent of a region node is `h` or in the region), so the move is free;
    // or small and failing to ALLOW, so the calls that gain are the common ones (those the
    // rules let through), and the copy is worth its few instructions.
    let private = ok && region.iter().all(|&r| inside[r] == parents[r]);
    let allows = p.ir.node(fail) == Dn::Ret(crate::bpf::SECCOMP_RET_ALLOW);
    ok &= fails && (private || allows && region.len() <= MAX_COPY);
    for &r in &seen {
        inside[r] = 0;
    }
    ok.then_some((region, private))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Op;

    /// `p` after the pass.
    fn sunk(p: Program, endian: Endian) -> Program {
        run(&p, endian).unwrap_or(p)
    }

    /// Evaluates the program for argument words `words` (offset -> value; others 0): the
    /// return value and the tests run.
    fn eval(p: &Program, words: &[(u32, u32)]) -> (u32, usize) {
        let mut d = p.root;
        let mut n = 0;
        loop {
            match p.ir.node(d) {
                Dn::Ret(k) => return (k, n),
                Dn::Test {
                    off,
                    mask,
                    op,
                    k,
                    t,
                    f,
                } => {
                    n += 1;
                    let v = words.iter().find(|w| w.0 == off).map_or(0, |w| w.1);
                    d = if op.holds(v & mask, k) { t } else { f };
                }
            }
        }
    }

    // x86_64: args[0] is at 16 (low) and 20 (high), args[1] at 24 and 28.
    const LO0: u32 = 16;
    const HI0: u32 = 20;
    const LO1: u32 = 24;
    const HI1: u32 = 28;

    #[test]
    fn the_high_word_goes_below_the_low_word() {
        // socket(domain != 40): hi == 0 ? (lo == 40 ? ERRNO : ALLOW) : ALLOW.
        let mut ir = Ir::default();
        let (allow, errno) = (ir.ret(0x7fff_0000), ir.ret(0x5_0001));
        let lo = ir.test(LO0, u32::MAX, Op::Eq, 40, errno, allow);
        let root = ir.test(HI0, u32::MAX, Op::Eq, 0, lo, allow);
        let p = sunk(Program { ir, root }, Endian::Little);
        assert_eq!(
            p.dump(),
            "n0: [16] Eq 0x28 ? n1 : n2\n\
             n1: [20] Eq 0x0 ? n3 : n2\n\
             n2: ret 0x7fff0000\n\
             n3: ret 0x50001\n"
        );
        assert_eq!(eval(&p, &[(LO0, 2)]), (0x7fff_0000, 1));
        assert_eq!(eval(&p, &[(LO0, 40)]), (0x5_0001, 2));
        assert_eq!(eval(&p, &[(LO0, 40), (HI0, 1)]), (0x7fff_0000, 2));
    }

    /// A region whose tests of the low word reach one test from two of them (a diamond): it
    /// must be copied successors first. Found by the `rules` fuzz target (aarch64, ALLOW
    /// rules on `kill`): the region came out with a node before its successor, whose copy
    /// was not made yet, and the program allowed `a0 = 0x7fffffff, a4 = 0x80000000`, which
    /// no rule allows.
    #[test]
    fn a_region_reaching_a_test_twice_is_copied_successors_first() {
        const LO4: u32 = 48;
        const HI4: u32 = 52;
        // a4 > 0x80000000, or a0 > 0x80000000, or a0 == 0xffffffff (its bit 1 set), as
        // pruned: the high word of a4 first, then its low word, then a0's.
        let mut ir = Ir::default();
        let (allow, errno) = (ir.ret(0x7fff_0000), ir.ret(0x5_0001));
        let gt = ir.test(LO0, u32::MAX, Op::Gt, 0x8000_0000, allow, errno);
        let all_ones = ir.test(LO0, u32::MAX, Op::Eq, u32::MAX, allow, gt);
        let hi0_set = ir.test(HI0, u32::MAX, Op::Eq, 0, all_ones, allow);
        let hi0_clear = ir.test(HI0, u32::MAX, Op::Eq, 0, gt, allow);
        let bit1 = ir.test(LO0, u32::MAX, Op::Set, 2, hi0_set, hi0_clear);
        let lo4 = ir.test(LO4, u32::MAX, Op::Gt, 0x8000_0000, allow, bit1);
        let root = ir.test(HI4, u32::MAX, Op::Gt, 0, allow, lo4);
        let before = Program { ir, root };
        let words = |a0: u64, a4: u64| {
            [
                (LO0, a0 as u32),
                (HI0, (a0 >> 32) as u32),
                (LO4, a4 as u32),
                (HI4, (a4 >> 32) as u32),
            ]
        };
        let cases = [
            (0x7fff_ffff, 0x8000_0000, errno),
            (0xffff_ffff, 0, allow),
            (0x8000_0001, 0, allow),
            (0x1_0000_0002, 0, allow),
            (2, 0x1_0000_0000, allow),
            (2, 0x8000_0001, allow),
            (2, 0, errno),
        ];
        let mut want = Vec::new();
        for &(a0, a4, ret) in &cases {
            let k = match before.ir.node(ret) {
                Dn::Ret(k) => k,
                _ => unreachable!(),
            };
            assert_eq!(
                eval(&before, &words(a0, a4)).0,
                k,
                "before: a0 {a0:#x}, a4 {a4:#x}"
            );
            want.push(k);
        }
        let p = sunk(before, Endian::Little);
        for (&(a0, a4, _), k) in cases.iter().zip(want) {
            assert_eq!(
                eval(&p, &words(a0, a4)).0,
                k,
                "after: a0 {a0:#x}, a4 {a4:#x}"
            );
        }
    }

    #[test]
    fn big_endian_high_words_come_first() {
        assert!(high_word(16, Endian::Big) && high_word(20, Endian::Little));
        assert!(!high_word(20, Endian::Big) && !high_word(16, Endian::Little));
        assert!(high_word(56, Endian::Big) && high_word(60, Endian::Little));
        assert!(!high_word(8, Endian::Big) && !high_word(12, Endian::Little));
        assert!(!high_word(0, Endian::Big) && !high_word(4, Endian::Little));
    }

    #[test]
    fn two_arguments_check_both_low_words_first() {
        // args[0] == 1 && args[1] == 2, as lowered: hi0, lo0, hi1, lo1.
        let mut ir = Ir::default();
        let (allow, deny) = (ir.ret(1), ir.ret(2));
        let lo1 = ir.test(LO1, u32::MAX, Op::Eq, 2, allow, deny);
        let hi1 = ir.test(HI1, u32::MAX, Op::Eq, 0, lo1, deny);
        let lo0 = ir.test(LO0, u32::MAX, Op::Eq, 1, hi1, deny);
        let root = ir.test(HI0, u32::MAX, Op::Eq, 0, lo0, deny);
        let p = sunk(Program { ir, root }, Endian::Little);
        let offs: Vec<u32> =
            p.ir.postorder(p.root)
                .iter()
                .rev()
                .filter_map(|&d| match p.ir.node(d) {
                    Dn::Test { off, .. } => Some(off),
                    Dn::Ret(_) => None,
                })
                .collect();
        assert_eq!(offs, [LO0, LO1, HI0, HI1]);
        assert_eq!(eval(&p, &[(LO0, 1), (LO1, 2)]), (1, 4));
        assert_eq!(eval(&p, &[(LO0, 3), (LO1, 2)]), (2, 1));
        assert_eq!(eval(&p, &[(LO0, 1), (LO1, 3)]), (2, 2));
        assert_eq!(eval(&p, &[(LO0, 1), (LO1, 2), (HI1, 1)]), (2, 4));
    }

    #[test]
    fn nothing_moves_where_it_would_cost() {
        let mut ir = Ir::default();
        let (a, b, c) = (ir.ret(1), ir.ret(2), ir.ret(3));
        // No exit of the low word's tests is where the high word fails: no call gains.
        let lo = ir.test(LO0, u32::MAX, Op::Eq, 5, a, b);
        let no_gain = ir.test(HI0, u32::MAX, Op::Eq, 0, lo, c);
        // Two exits but the failure: each would need its own copy of the high-word test.
        let lo_b = ir.test(LO0, u32::MAX, Op::Eq, 6, b, c);
        let lo_ab = ir.test(LO0, u32::MAX, Op::Eq, 5, a, lo_b);
        let two_exits = ir.test(HI0, u32::MAX, Op::Eq, 0, lo_ab, c);
        // A low-word test below something else as well as below the high word.
        let shared = ir.test(LO0, u32::MAX, Op::Eq, 7, a, c);
        let guarded = ir.test(HI0, u32::MAX, Op::Eq, 0, shared, c);
        let other = ir.test(LO1, u32::MAX, Op::Eq, 1, shared, guarded);
        // Not a high word (args[0]'s low word above its high word).
        let hi = ir.test(HI0, u32::MAX, Op::Eq, 0, a, c);
        let low_first = ir.test(LO0, u32::MAX, Op::Eq, 1, hi, c);
        for root in [no_gain, two_exits, other, low_first] {
            let mut copy = Ir::default();
            let p = Program {
                root: copy_into(&ir, &mut copy, root),
                ir: copy,
            };
            let want = p.dump();
            assert_eq!(sunk(p, Endian::Little).dump(), want);
        }
    }

    /// The graph below `root` copied into `to`.
    fn copy_into(from: &Ir, to: &mut Ir, root: DnId) -> DnId {
        let mut new = vec![0; from.len()];
        for d in from.postorder(root) {
            new[d] = to.add(from.node(d).map_succ(|x| new[x]));
        }
        new[root]
    }

    #[test]
    fn a_small_shared_region_is_copied_where_the_failure_allows() {
        // x86_64's `socket` rule guards low-word tests that x86's rule (no high words) also
        // reaches: copied, as the high word fails to ALLOW; with another failure, not.
        for (fail_k, moves) in [(crate::bpf::SECCOMP_RET_ALLOW, true), (0x5_0001, false)] {
            let mut ir = Ir::default();
            let (fail, errno) = (ir.ret(fail_k), ir.ret(7));
            let lo_b = ir.test(LO0, u32::MAX, Op::Eq, 40, errno, fail);
            let lo = ir.test(LO0, u32::MAX, Op::Eq, 38, errno, lo_b);
            let hi = ir.test(HI0, u32::MAX, Op::Eq, 0, lo, fail);
            // The sections: the arch word picks one.
            let root = ir.test(4, u32::MAX, Op::Eq, 1, hi, lo);
            let p = sunk(Program { ir, root }, Endian::Little);
            let Dn::Test { t: x86_64, .. } = p.ir.node(p.root) else {
                panic!("a test at the root");
            };
            let first = match p.ir.node(x86_64) {
                Dn::Test { off, .. } => off,
                Dn::Ret(_) => panic!("a test for x86_64"),
            };
            assert_eq!(first, if moves { LO0 } else { HI0 }, "fail {fail_k:#x}");
            for (arch, lo, hi, want) in [
                (1, 38, 0, 7),
                (1, 38, 1, fail_k),
                (1, 2, 0, fail_k),
                (1, 2, 1, fail_k),
                (2, 40, 1, 7),
                (2, 2, 0, fail_k),
            ] {
                let words = [(4, arch), (LO0, lo), (HI0, hi)];
                assert_eq!(eval(&p, &words).0, want, "{words:?}");
            }
            // The x86_64 call with domain 2 skips the high word when the region moved.
            let n = eval(&p, &[(4, 1), (LO0, 2)]).1;
            assert_eq!(n, if moves { 3 } else { 4 });
        }
    }

    #[test]
    fn every_value_keeps_its_verdict() {
        // Random graphs over two arguments' words, in both byte orders: the rewritten program
        // returns what the original returns, for every combination of a few values of each
        // word, and never runs more tests where the high words are 0.
        let mut seed = 7u64;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        let offs = [LO0, HI0, LO1, HI1];
        let mut moved = 0;
        for round in 0..800 {
            let endian = [Endian::Little, Endian::Big][round % 2];
            let mut ir = Ir::default();
            let mut nodes: Vec<DnId> = (0..3).map(|k| ir.ret(k)).collect();
            nodes.push(ir.ret(crate::bpf::SECCOMP_RET_ALLOW));
            for _ in 0..2 + next(10) {
                let off = offs[next(4) as usize];
                let k = next(3) as u32;
                let op = [Op::Eq, Op::Ge, Op::Gt][next(3) as usize];
                let t = nodes[next(nodes.len() as u64) as usize];
                let f = nodes[next(nodes.len() as u64) as usize];
                let node = if high_word(off, endian) && next(2) == 0 {
                    // As rules lower: `hi == 0` guarding the node before, failing to a return.
                    let last = *nodes.last().expect("nodes");
                    ir.test(off, u32::MAX, Op::Eq, 0, last, nodes[next(4) as usize])
                } else {
                    ir.test(off, u32::MAX, op, k, t, f)
                };
                nodes.push(node);
            }
            let root = *nodes.last().expect("nodes");
            let before = Program { ir, root };
            let mut copy = Ir::default();
            let after = Program {
                root: copy_into(&before.ir, &mut copy, root),
                ir: copy,
            };
            let after = sunk(after, endian);
            moved += usize::from(after.dump() != before.dump());
            for v in 0..81u32 {
                let words: Vec<(u32, u32)> = (0..4)
                    .map(|i| (offs[i], v / 3u32.pow(i as u32) % 3))
                    .collect();
                let (want, n0) = eval(&before, &words);
                let (got, n1) = eval(&after, &words);
                assert_eq!(got, want, "round {round}, words {words:?}");
                // (Where a high word is not 0, a call may run more tests: they are rare.)
                if words.iter().all(|&(o, w)| w == 0 || !high_word(o, endian)) {
                    assert!(n1 <= n0, "round {round}, words {words:?}: {n1} > {n0}");
                }
            }
        }
        assert!(moved > 50, "{moved} graphs changed");
    }
}
