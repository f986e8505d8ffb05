//! Chains of comparisons of one argument word become search trees over its values.
//!
//! A rule set like Firecracker's or crosvm's `ioctl` list (`args[1] == V` for hundreds of
//! values) arrives as a chain: `w == V1 ? A : w == V2 ? A : ...`, one test per value, so a
//! value near the end pays for all of them. Read along the chain, the comparisons (`==`, `>`,
//! `>=` on the whole word, the first that holds wins) map every value of the word to a
//! successor; [`intervals::tree`] then finds a value's range in a logarithmic number of tests
//! and merges adjacent values with one successor into ranges. Short chains stay lists
//! where that is cheaper (the tree builder decides).
//!
//! Only argument (and instruction-pointer) words are rewritten: the dispatch on the syscall
//! number is lowering's (`crate::ir::lower`), which at optimize level 1 keeps libseccomp's
//! priority order.

use super::intervals::{self, Interval};
use super::{submasks, Passes};
use crate::ir::{Dn, DnId, Op, Program};

/// Chains shorter than this stay as they are.
const MIN_CHAIN: usize = 3;
/// Total chain steps read before the rest of the graph is kept as it is.
const BUDGET: usize = 2_000_000;
/// The weight of the values no comparison of the chain names (each named value or range
/// weighs 1): rules name the values programs use.
const GAP_WEIGHT: f64 = 0.25;
/// What one more test in the program costs, against one more test run for a named value:
/// long value lists are mostly sparse, and a tree that isolates every value from its
/// neighbours would be twice the size of the list.
/// Weights are uniform, so a balanced split is near the best above a few dozen ranges.
const COST: intervals::Cost = intervals::Cost {
    size: 3.0,
    exact: 32,
};
/// Past this many ranges, runs of [`LONG_EXACT`] ranges get the exact search: the search
/// costs time in proportion to the run length, and on long uniform lists the balanced split
/// above it is as good (the trees of the shared policies, all shorter, are unchanged).
const LONG: usize = 256;
const LONG_EXACT: usize = 12;
/// [`run`]'s chain index of a node no chain starts at.
const NO_CHAIN: u32 = u32::MAX;
/// The first offset rewritten (offsets 0 and 4 are the syscall number and the arch).
const FIRST_OFF: u32 = 8;

/// A chain read from one node: its value map and the nodes it leads to.
struct Chain {
    off: u32,
    ivs: Vec<Interval>,
    /// Where the values no comparison names go (`None`: every value is named).
    end: Option<DnId>,
}

/// Whether `d` can be part of a chain on word `off`.
fn link(p: &Program, d: DnId, off: u32) -> bool {
    matches!(p.ir.node(d), Dn::Test { off: o, mask: u32::MAX, op, .. }
        if o == off && op != Op::Set)
}

/// Reads the chain that starts at `head`, if it is long enough.
fn read_chain(p: &Program, head: DnId, budget: &mut usize) -> Option<Chain> {
    let Dn::Test { off, .. } = p.ir.node(head) else {
        return None;
    };
    if off < FIRST_OFF || !link(p, head, off) {
        return None;
    }
    // The values still undecided are [lo, hi] minus the points already taken.
    let (mut lo, mut hi) = (0u64, u64::from(u32::MAX));
    // (Value, successor) in chain order: the first test of a value decides it.
    let mut points: Vec<(u32, DnId)> = Vec::new();
    let mut ranges: Vec<(u32, u32, DnId)> = Vec::new();
    let mut d = head;
    let mut len = 0;
    let end = loop {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        let Dn::Test {
            mask: u32::MAX,
            op,
            k,
            t,
            f,
            ..
        } = p.ir.node(d)
        else {
            break d;
        };
        if !link(p, d, off) || lo > hi {
            break d;
        }
        len += 1;
        let k64 = u64::from(k);
        match op {
            Op::Eq => {
                if (lo..=hi).contains(&k64) {
                    points.push((k, t));
                }
                d = f;
            }
            Op::Gt | Op::Ge => {
                // The values for which the test holds: [first, u32::MAX].
                let first = if op == Op::Gt { k64 + 1 } else { k64 };
                if link(p, f, off) || !link(p, t, off) {
                    // Holds: t; the chain goes on below `first`.
                    if first <= hi {
                        ranges.push((first.max(lo) as u32, hi as u32, t));
                    }
                    hi = hi.min(first.saturating_sub(1));
                    if first == 0 {
                        lo = 1;
                        hi = 0;
                    }
                    d = f;
                } else {
                    // Fails: f; the chain goes on from `first`.
                    if first > lo {
                        ranges.push((lo as u32, (first - 1).min(hi) as u32, f));
                    }
                    lo = lo.max(first);
                    d = t;
                }
            }
            // `link` keeps `jset` tests out of chains.
            Op::Set => break d,
        }
    };
    if len < MIN_CHAIN {
        return None;
    }
    let mut base: Vec<(u32, u32, DnId, f64)> =
        ranges.iter().map(|&(a, b, to)| (a, b, to, 1.0)).collect();
    if lo <= hi {
        base.push((lo as u32, hi as u32, end, GAP_WEIGHT));
    }
    base.sort_by_key(|r| r.0);
    // Sorted by value, the first of equal values kept (the sort is stable).
    let mut pts = points;
    pts.sort_by_key(|x| x.0);
    pts.dedup_by_key(|x| x.0);
    // Punch the points into the ranges they lie in.
    let mut ivs = Vec::with_capacity(base.len() + 2 * pts.len());
    let mut pi = 0;
    for (a, b, to, w) in base {
        let mut from = u64::from(a);
        while pi < pts.len() && u64::from(pts[pi].0) <= u64::from(b) {
            let (v, pt) = pts[pi];
            pi += 1;
            if u64::from(v) < from {
                continue;
            }
            if u64::from(v) > from {
                ivs.push(Interval {
                    lo: from as u32,
                    hi: v - 1,
                    to,
                    w,
                    key: false,
                });
            }
            ivs.push(Interval {
                lo: v,
                hi: v,
                to: pt,
                w: 1.0,
                key: false,
            });
            from = u64::from(v) + 1;
        }
        if from <= u64::from(b) {
            ivs.push(Interval {
                lo: from as u32,
                hi: b,
                to,
                w,
                key: false,
            });
        }
    }
    Some(Chain {
        off,
        ivs: intervals::merge(ivs),
        end: (lo <= hi).then_some(end),
    })
}

/// Rewrites every chain of comparisons on one argument word as a search tree; says whether
/// pruning again can pay: whether a rewritten chain leads to more tests and its word is
/// tested again below it or above it (see [`leads_on`]).
///
/// With `max_tests`, gives up (`None`) as soon as the new graph has that many tests where
/// no later pruning could remove any (pruning again cannot pay, as above): every node
/// the rewrite builds is reachable, so the program would have at least that many jumps.
///
/// With [`Passes::SUBMASKS`] in `passes`, a chain whose values include every submask of one
/// mask is decided by a `jset` in front of its tree (`opt/submasks.rs`).
pub(crate) fn run(
    p: &Program,
    max_tests: Option<usize>,
    passes: Passes,
) -> Option<(Program, bool)> {
    let mut budget = BUDGET;
    // Phase 1: from the root, the nodes the new graph needs; a chain head needs only the
    // nodes its chain leads to, not the chain's own links.
    // The chains read, and which one starts at each node (NO_CHAIN: none).
    let mut chains: Vec<Chain> = Vec::new();
    let mut chain_of = vec![NO_CHAIN; p.ir.len()];
    let mut order: Vec<DnId> = Vec::new();
    let mut seen = vec![false; p.ir.len()];
    let mut stack = vec![(p.root, false)];
    while let Some((d, expanded)) = stack.pop() {
        if expanded {
            order.push(d);
            continue;
        }
        if std::mem::replace(&mut seen[d], true) {
            continue;
        }
        stack.push((d, true));
        if let Some(c) = read_chain(p, d, &mut budget) {
            for i in c.ivs.iter().rev() {
                stack.push((i.to, false));
            }
            chain_of[d] = chains.len() as u32;
            chains.push(c);
        } else if let Some((t, f)) = p.ir.succ(d) {
            stack.push((f, false));
            stack.push((t, false));
        }
    }
    let chain_at = |d: DnId| chains.get(chain_of[d] as usize);
    let leads_on = leads_on(p, &order, &chain_at);
    let max_tests = max_tests.filter(|_| !leads_on);
    // Phase 2: build bottom-up.
    // The nodes kept, and a tree's tests for each chain (fewer than its ranges): the chains'
    // own nodes are not in `order`, so a graph sized by it alone grew eight times over a
    // chain of 2000 values.
    let tree_nodes: usize = chains.iter().map(|c| c.ivs.len()).sum();
    let mut ir = crate::ir::Ir::with_capacity(order.len() + tree_nodes);
    let mut new = vec![0; p.ir.len()];
    let mut planner = intervals::Planner::default();
    for d in order {
        let n = if let Some(c) = chain_at(d) {
            let ivs: Vec<Interval> = c
                .ivs
                .iter()
                .map(|i| Interval {
                    to: new[i.to],
                    ..*i
                })
                .collect();
            let ivs = intervals::merge(ivs);
            let cost = if ivs.len() > LONG {
                intervals::Cost {
                    exact: LONG_EXACT,
                    ..COST
                }
            } else {
                COST
            };
            let cube = match passes.contains(Passes::SUBMASKS) {
                true => submasks::find(&ivs, c.end.map(|e| new[e])),
                false => None,
            };
            match cube {
                // `jset #~mask`: some bit outside the mask is set, so not one of the cube's
                // values: search the rest.
                Some(cube) => {
                    let rest = planner.tree(&mut ir, c.off, &cube.rest, cost);
                    ir.test(c.off, u32::MAX, Op::Set, !cube.mask, rest, cube.to)
                }
                None => planner.tree(&mut ir, c.off, &ivs, cost),
            }
        } else {
            ir.add(p.ir.node(d).map_succ(|x| new[x]))
        };
        new[d] = n;
        if max_tests.is_some_and(|m| ir.test_count() >= m) {
            return None;
        }
    }
    Some((
        Program {
            root: new[p.root],
            ir,
        },
        leads_on,
    ))
}

/// Whether pruning the rewritten graph again can remove something that pruning the graph
/// before did not (`order`: the graph's nodes as the rewrite visits them, each after what it
/// leads to; a chain head leads to its chain's successors).
///
/// A tree tells the paths through it nothing the chain did not, but about its own word: the
/// bounds of its ranges (a value that fell through a chain is only known to differ from the
/// chain's values). So a test that pruning can newly decide is one of a chain's word, below
/// the chain or, inside the new tree, below a test of that word above the chain. Where no
/// chain leads to more tests, or none has its word tested again on a path through it, there
/// is none (a chain of a few values whose successors test other words, as when a syscall has
/// two or three rules on two arguments: pruning again walked the whole graph for nothing,
/// a fifth of the build of 1000 such rules).
fn leads_on<'c>(
    p: &Program,
    order: &[DnId],
    chain_at: &impl Fn(DnId) -> Option<&'c Chain>,
) -> bool {
    let test = |d: DnId| matches!(p.ir.node(d), Dn::Test { .. });
    let heads = || order.iter().filter_map(|&d| Some((d, chain_at(d)?)));
    if !heads().any(|(_, c)| c.ivs.iter().any(|i| test(i.to))) {
        return false;
    }
    let bit = |off: u32| 1u16 << (off / 4);
    // The words tested at or below each node, and on some path from the root to it.
    let mut below = vec![0u16; p.ir.len()];
    for &d in order {
        if let Dn::Test { off, t, f, .. } = p.ir.node(d) {
            below[d] = bit(off)
                | match chain_at(d) {
                    Some(c) => c.ivs.iter().fold(0, |w, i| w | below[i.to]),
                    None => below[t] | below[f],
                };
        }
    }
    let mut above = vec![0u16; p.ir.len()];
    for &d in order.iter().rev() {
        if let Dn::Test { off, t, f, .. } = p.ir.node(d) {
            let on = above[d] | bit(off);
            match chain_at(d) {
                Some(c) => c.ivs.iter().for_each(|i| above[i.to] |= on),
                None => [t, f].into_iter().for_each(|c| above[c] |= on),
            }
        }
    }
    heads().any(|(head, c)| {
        let after = c.ivs.iter().fold(0, |w, i| w | below[i.to]);
        after != 0 && (after | above[head]) & bit(c.off) != 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Ir;

    /// The chain `w16 == 10 ? x : w16 == 20 ? x : w16 == 30 ? x : deny`.
    fn chain(ir: &mut Ir, x: DnId, deny: DnId) -> DnId {
        let mut d = deny;
        for v in [30, 20, 10] {
            d = ir.test(16, u32::MAX, Op::Eq, v, x, d);
        }
        d
    }

    #[test]
    fn pruning_again_pays_only_where_the_chain_word_is_tested_again() {
        let leads = |build: &dyn Fn(&mut Ir, DnId, DnId) -> DnId| {
            let mut ir = Ir::default();
            let allow = ir.ret(1);
            let deny = ir.ret(2);
            let root = build(&mut ir, allow, deny);
            run(&Program { ir, root }, None, Passes::all())
                .expect("no limit")
                .1
        };
        // Verdicts only below: nothing to prune.
        assert!(!leads(&|ir, allow, deny| chain(ir, allow, deny)));
        // Tests of another word below (a second argument compared): nothing the tree's
        // bounds can decide.
        assert!(!leads(&|ir, allow, deny| {
            let x = ir.test(24, u32::MAX, Op::Eq, 7, allow, deny);
            chain(ir, x, deny)
        }));
        // The chain's word again below: the tree's ranges may decide it.
        assert!(leads(&|ir, allow, deny| {
            let x = ir.test(16, u32::MAX, Op::Gt, 15, allow, deny);
            chain(ir, x, deny)
        }));
        // The chain's word tested above it (by a test the chain does not take in, a masked
        // one): facts that may decide the tree's own tests.
        assert!(leads(&|ir, allow, deny| {
            let x = ir.test(24, u32::MAX, Op::Eq, 7, allow, deny);
            let c = chain(ir, x, deny);
            ir.test(16, 0xff00, Op::Eq, 0, c, deny)
        }));
    }

    #[test]
    fn a_long_value_list_becomes_a_tree() {
        let mut ir = Ir::default();
        let allow = ir.ret(1);
        let deny = ir.ret(2);
        let mut root = deny;
        for v in (0..200u32).rev() {
            root = ir.test(24, u32::MAX, Op::Eq, 0x5400 + 2 * v, allow, root);
        }
        let before = Program { ir, root };
        let (after, leads_on) = run(&before, None, Passes::all()).expect("no limit");
        assert!(!leads_on, "the chain leads to verdicts only");
        // Every value needs at most ~log2(400) tests.
        let walk = |p: &Program, v: u32| {
            let (mut d, mut n) = (p.root, 0);
            while let Dn::Test { op, k, t, f, .. } = p.ir.node(d) {
                n += 1;
                d = if op.holds(v, k) { t } else { f };
            }
            (p.ir.node(d), n)
        };
        for v in 0x5300..0x5600 {
            let (a, _) = walk(&before, v);
            let (b, n) = walk(&after, v);
            assert_eq!(a, b, "value {v:#x}");
            assert!(n <= 10, "value {v:#x}: {n} tests");
        }
    }
}
