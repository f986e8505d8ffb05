//! Search trees over the values of one word.
//!
//! A decision that depends on one word only (the syscall number, or one argument word) is a
//! map from value ranges to decisions. [`tree`] builds the test tree that finds a value's
//! range with the least expected work: each range has a weight (how often it is expected),
//! and a value pays one test for each level of the tree above its range.
//!
//! Two shapes compete for every run of ranges:
//! * a split: `word >= b` for a boundary `b`, both halves built the same way;
//! * an exception list: where one decision covers the run but for a few single values, a
//!   `jeq` for each exception (heaviest first), then that decision.
//!
//! Runs of up to [`EXACT`] ranges get the cheapest tree of those shapes (dynamic
//! programming); longer runs are split where the weight is balanced, which is within a
//! couple of tests of the best for any weights.

use crate::ir::{DnId, Ir, Op};

/// One range of values `[lo, hi]` and where it leads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Interval {
    pub lo: u32,
    pub hi: u32,
    pub to: DnId,
    /// How often values of this range are expected (relative).
    pub w: f64,
}

/// Sorts `v` by value and merges adjacent ranges that lead to the same decision. The ranges
/// must not overlap.
pub(crate) fn merge(mut v: Vec<Interval>) -> Vec<Interval> {
    v.sort_by_key(|i| i.lo);
    let mut out: Vec<Interval> = Vec::with_capacity(v.len());
    for i in v {
        match out.last_mut() {
            Some(l) if l.to == i.to && l.hi.checked_add(1) == Some(i.lo) => {
                l.hi = i.hi;
                l.w += i.w;
            }
            _ => out.push(i),
        }
    }
    out
}

/// Runs of at most this many ranges get an exactly cheapest tree.
const EXACT: usize = 40;
/// The longest exception list considered.
const MAX_EXCEPTIONS: usize = 6;

/// The test tree on word `off` (compared whole) that maps each value to its range's
/// decision. `ivs` must be sorted, non-empty and cover every value the word can have on the
/// paths that reach the tree.
pub(crate) fn tree(ir: &mut Ir, off: u32, ivs: &[Interval]) -> DnId {
    let mut b = Builder {
        ir,
        off,
        ivs,
        prefix: prefix_sums(ivs),
    };
    b.build(0, ivs.len())
}

fn prefix_sums(ivs: &[Interval]) -> Vec<f64> {
    let mut p = Vec::with_capacity(ivs.len() + 1);
    let mut s = 0.0;
    p.push(0.0);
    for i in ivs {
        s += i.w;
        p.push(s);
    }
    p
}

/// How a run of ranges is decided.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Leaf,
    /// Split before range `at`.
    Split(usize),
    /// Exception list with this common decision.
    Except(DnId),
}

struct Builder<'a> {
    ir: &'a mut Ir,
    off: u32,
    ivs: &'a [Interval],
    prefix: Vec<f64>,
}

impl Builder<'_> {
    fn weight(&self, a: usize, b: usize) -> f64 {
        self.prefix[b] - self.prefix[a]
    }

    /// The exception list for `ivs[a..b]`, if one decision covers all but at most
    /// [`MAX_EXCEPTIONS`] single values: (common decision, cost).
    fn exceptions(&self, a: usize, b: usize) -> Option<(DnId, f64)> {
        let run = &self.ivs[a..b];
        // The common decision is the one of every range wider than one value; if all are
        // single values, the heaviest one's.
        let mut common: Option<DnId> = None;
        for i in run {
            if i.lo != i.hi {
                match common {
                    Some(c) if c != i.to => return None,
                    _ => common = Some(i.to),
                }
            }
        }
        let common = match common {
            Some(c) => c,
            None if run.len() > 2 * MAX_EXCEPTIONS => return None,
            None => {
                let mut best: Option<(DnId, f64)> = None;
                for i in run {
                    let w: f64 = run.iter().filter(|j| j.to == i.to).map(|j| j.w).sum();
                    if best.map_or(true, |(_, bw)| w > bw) {
                        best = Some((i.to, w));
                    }
                }
                best?.0
            }
        };
        let mut ex: Vec<f64> = run.iter().filter(|i| i.to != common).map(|i| i.w).collect();
        if ex.len() > MAX_EXCEPTIONS {
            return None;
        }
        ex.sort_by(|x, y| y.total_cmp(x));
        let common_w: f64 = run.iter().filter(|i| i.to == common).map(|i| i.w).sum();
        let cost = ex
            .iter()
            .enumerate()
            .map(|(n, w)| w * (n + 1) as f64)
            .sum::<f64>()
            + common_w * ex.len() as f64;
        Some((common, cost))
    }

    /// The split of `ivs[a..b]` (`b - a >= 2`) that balances the weight.
    fn balanced_split(&self, a: usize, b: usize) -> usize {
        let half = (self.prefix[a] + self.prefix[b]) / 2.0;
        // First boundary whose prefix reaches half the weight.
        let mut lo = a + 1;
        let mut hi = b - 1;
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.prefix[mid] < half {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        // It or the one before it, whichever balances better.
        if lo > a + 1 && (half - self.prefix[lo - 1]).abs() < (self.prefix[lo] - half).abs() {
            lo - 1
        } else {
            lo
        }
    }

    fn build(&mut self, a: usize, b: usize) -> DnId {
        if b - a <= EXACT {
            return self.build_exact(a, b);
        }
        let (common_cost, shape) = match self.exceptions(a, b) {
            Some((c, cost)) => (Some(cost), Shape::Except(c)),
            None => (None, Shape::Leaf),
        };
        // Long runs: an exception list is taken only when it is clearly cheap (a few
        // exceptions in one wide range); otherwise split where the weight balances.
        if let (Some(cost), Shape::Except(c)) = (common_cost, shape) {
            let w = self.weight(a, b);
            if cost <= w * ((b - a) as f64).log2() {
                return self.emit_exceptions(a, b, c);
            }
        }
        let s = self.balanced_split(a, b);
        let right = self.build(s, b);
        let left = self.build(a, s);
        self.split_node(s, right, left)
    }

    fn split_node(&mut self, s: usize, right: DnId, left: DnId) -> DnId {
        self.ir
            .test(self.off, u32::MAX, Op::Ge, self.ivs[s].lo, right, left)
    }

    fn emit_exceptions(&mut self, a: usize, b: usize, common: DnId) -> DnId {
        let mut ex: Vec<Interval> = self.ivs[a..b]
            .iter()
            .filter(|i| i.to != common)
            .copied()
            .collect();
        ex.sort_by(|x, y| y.w.total_cmp(&x.w).then(x.lo.cmp(&y.lo)));
        let mut node = common;
        for e in ex.iter().rev() {
            node = self.ir.test(self.off, u32::MAX, Op::Eq, e.lo, e.to, node);
        }
        node
    }

    /// The cheapest tree for `ivs[a..b]` by dynamic programming over sub-runs.
    fn build_exact(&mut self, a: usize, b: usize) -> DnId {
        let n = b - a;
        // cost[i][j], shape[i][j] for the run a+i .. a+j (exclusive end), j > i.
        let idx = |i: usize, j: usize| i * (n + 1) + j;
        let mut cost = vec![0.0f64; (n + 1) * (n + 1)];
        let mut shape = vec![Shape::Leaf; (n + 1) * (n + 1)];
        for len in 2..=n {
            for i in 0..=n - len {
                let j = i + len;
                let w = self.weight(a + i, a + j);
                let mut best = f64::INFINITY;
                let mut best_shape = Shape::Leaf;
                for s in i + 1..j {
                    let c = w + cost[idx(i, s)] + cost[idx(s, j)];
                    if c < best {
                        best = c;
                        best_shape = Shape::Split(a + s);
                    }
                }
                if let Some((common, c)) = self.exceptions(a + i, a + j) {
                    if c <= best {
                        best = c;
                        best_shape = Shape::Except(common);
                    }
                }
                cost[idx(i, j)] = best;
                shape[idx(i, j)] = best_shape;
            }
        }
        self.emit_exact(a, b, a, &shape, n)
    }

    fn emit_exact(&mut self, a: usize, b: usize, base: usize, shape: &[Shape], n: usize) -> DnId {
        if b - a == 1 {
            return self.ivs[a].to;
        }
        match shape[(a - base) * (n + 1) + (b - base)] {
            Shape::Leaf => self.ivs[a].to,
            Shape::Except(c) => self.emit_exceptions(a, b, c),
            Shape::Split(s) => {
                let right = self.emit_exact(s, b, base, shape, n);
                let left = self.emit_exact(a, s, base, shape, n);
                self.split_node(s, right, left)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Dn;

    /// Evaluates the tree at `root` for value `v` of word `off`: (decision, tests run).
    fn walk(ir: &Ir, mut d: DnId, v: u32) -> (DnId, usize) {
        let mut n = 0;
        while let Dn::Test {
            mask, op, k, t, f, ..
        } = ir.node(d)
        {
            n += 1;
            d = if op.holds(v & mask, k) { t } else { f };
        }
        (d, n)
    }

    fn iv(lo: u32, hi: u32, to: DnId, w: f64) -> Interval {
        Interval { lo, hi, to, w }
    }

    #[test]
    fn every_value_finds_its_range() {
        let mut ir = Ir::default();
        let a = ir.ret(1);
        let b = ir.ret(2);
        let c = ir.ret(3);
        for n in [1usize, 2, 3, 7, 39, 40, 41, 200] {
            let ivs: Vec<Interval> = (0..n)
                .map(|i| {
                    let lo = (i * 10) as u32;
                    let hi = if i + 1 == n {
                        u32::MAX
                    } else {
                        lo + (i % 3) as u32 * 4 + 9
                    };
                    let to = [a, b, c][(i * 7 + i / 3) % 3];
                    iv(
                        lo,
                        hi.min(if i + 1 == n { u32::MAX } else { lo + 9 }),
                        to,
                        1.0 + (i % 5) as f64,
                    )
                })
                .collect();
            let merged = merge(ivs.clone());
            let root = tree(&mut ir, 0, &merged);
            for i in &ivs {
                for v in [i.lo, i.hi, i.lo / 2 + i.hi / 2] {
                    assert_eq!(walk(&ir, root, v).0, i.to, "n {n} v {v}");
                }
            }
        }
    }

    #[test]
    fn exceptions_become_a_jeq_list() {
        let mut ir = Ir::default();
        let allow = ir.ret(1);
        let deny = ir.ret(2);
        // 0..=100 allowed but 17 and 60; everything above denied.
        let ivs = merge(vec![
            iv(0, 16, allow, 17.0),
            iv(17, 17, deny, 0.1),
            iv(18, 59, allow, 42.0),
            iv(60, 60, deny, 0.1),
            iv(61, 100, allow, 40.0),
            iv(101, u32::MAX, deny, 0.1),
        ]);
        let root = tree(&mut ir, 0, &ivs);
        // An allowed value needs the range check and the two exceptions at most.
        assert!(walk(&ir, root, 30).1 <= 3);
        assert_eq!(walk(&ir, root, 17).0, deny);
        assert_eq!(walk(&ir, root, 101).0, deny);
        assert_eq!(walk(&ir, root, 100).0, allow);
    }

    #[test]
    fn heavy_ranges_sit_higher() {
        let mut ir = Ir::default();
        let r: Vec<DnId> = (0..16).map(|k| ir.ret(k)).collect();
        let mut ivs: Vec<Interval> = (0..16u32).map(|i| iv(i, i, r[i as usize], 1.0)).collect();
        ivs[15].hi = u32::MAX;
        ivs[9].w = 1000.0;
        let root = tree(&mut ir, 0, &ivs);
        assert!(walk(&ir, root, 9).1 <= 2);
    }
}
