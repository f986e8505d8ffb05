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
//! Runs of up to [`Cost::exact`] ranges get a cheapest tree of those shapes by dynamic
//! programming: runs of up to [`FULL_SEARCH`] ranges try every split, longer ones only those
//! Knuth's bound leaves (quadratic; with exception lists among the shapes the bound can miss
//! the cheapest split by a test or so). Longer runs are first split where the weight is
//! balanced.

use crate::ir::hash::FxMap;
use crate::ir::{DnId, Ir, Op};

/// One range of values `[lo, hi]` and where it leads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Interval {
    pub lo: u32,
    pub hi: u32,
    pub to: DnId,
    /// How often values of this range are expected (relative).
    pub w: f64,
    /// A key range: kept near balanced depth whatever its weight (see [`tree`]).
    pub key: bool,
}

/// Sorts `v` by value and merges adjacent ranges that lead to the same decision. The ranges
/// must not overlap (so their starts are distinct, and an unstable sort, which needs no
/// scratch buffer, orders them as a stable one would). Merged in place: the lists of long
/// value chains are tens of thousands of bytes, and this runs on every chain.
pub(crate) fn merge(mut v: Vec<Interval>) -> Vec<Interval> {
    v.sort_unstable_by_key(|i| i.lo);
    // (`i` follows the kept range `l`; merged into it, it goes.)
    v.dedup_by(|i, l| {
        let adjacent = l.to == i.to && l.hi.checked_add(1) == Some(i.lo);
        if adjacent {
            l.hi = i.hi;
            l.w += i.w;
            l.key |= i.key;
        }
        adjacent
    });
    v
}

/// How [`tree`] prices a tree.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cost {
    /// What one test in the program costs, in the units of the weights: the price of a
    /// longer program.
    pub size: f64,
    /// Runs of at most this many ranges get an exactly cheapest tree; longer ones are split
    /// where the weight balances first (the search is quadratic in the run's length).
    pub exact: usize,
}
/// Runs of at most this many ranges are searched without Knuth's bound (every split of every
/// sub-run, cubic but a few thousand steps): with exception lists among the shapes the bound
/// is not exact, and on small sections a test more is a sizeable part of the program
/// (crosvm's `vhost_user`: 25 instructions with the bound, 24 without). Above 16, the
/// search costs Docker's build 6 % more and the programs are no shorter.
const FULL_SEARCH: usize = 16;
/// The longest exception list considered.
const MAX_EXCEPTIONS: usize = 6;
/// The longest run an exception list can decide (a list between wide ranges).
const MAX_RUN: usize = 2 * MAX_EXCEPTIONS + 1;

/// Adds an exception's weight to the first `*m` of `ex`, kept heaviest first (as
/// [`Builder::exceptions`] orders them); false when there are too many.
fn push_exception(ex: &mut [f64; MAX_EXCEPTIONS], m: &mut usize, w: f64) -> bool {
    if *m == MAX_EXCEPTIONS {
        return false;
    }
    let mut at = *m;
    while at > 0 && ex[at - 1] < w {
        ex[at] = ex[at - 1];
        at -= 1;
    }
    ex[at] = w;
    *m += 1;
    true
}

/// The test tree on word `off` (compared whole) that maps each value to its range's
/// decision. `ivs` must be sorted, non-empty and cover every value the word can have on the
/// paths that reach the tree.
///
/// Within each run built exactly, the tree keeps *key* ranges at most one level deeper than a
/// balanced tree over the key ranges would, even where lighter-but-numerous neighbours pull
/// the cheapest tree deeper (the weights of key ranges that sink too deep are raised and the
/// tree rebuilt, a few times at most).
///
/// Each test also costs `cost.size`, which keeps sparse value lists from becoming trees twice
/// their size.
pub(crate) fn tree(ir: &mut Ir, off: u32, ivs: &[Interval], cost: Cost) -> DnId {
    Planner::default().tree(ir, off, ivs, cost)
}

/// [`tree`] for many lists, keeping from one to the next the exact search's tables and the
/// trees already planned: the value lists of a filter's argument chains are mostly alike
/// (Docker's or a generated policy's rules compare a few values each), and a plan depends
/// only on what [`Builder::signature`] holds.
#[derive(Default)]
pub(crate) struct Planner {
    /// The exact search's tables, reused from run to run.
    dp: Dp,
    /// [`Builder::exception_table`]'s table, reused from run to run.
    lists: Vec<List>,
    /// The trees already planned for runs without key ranges: their index in `planned`, by
    /// [`Builder::signature`].
    plans: FxMap<Vec<u64>, usize>,
    planned: Vec<Vec<Step>>,
    /// [`Builder::signature`]'s buffer (a key is allocated only for a new plan).
    sig: Vec<u64>,
}

impl Planner {
    /// [`tree`], with what this planner kept from the lists before.
    pub(crate) fn tree(&mut self, ir: &mut Ir, off: u32, ivs: &[Interval], cost: Cost) -> DnId {
        let mut b = Builder::new(ir, off, ivs, cost);
        b.planner = std::mem::take(self);
        let root = b.build(0, ivs.len());
        *self = std::mem::take(&mut b.planner);
        root
    }
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
    /// Split before range `at`.
    Split(usize),
    /// Exception list with this common decision.
    Except(DnId),
}

struct Builder<'a> {
    size_cost: f64,
    exact: usize,
    ir: &'a mut Ir,
    off: u32,
    ivs: Vec<Interval>,
    prefix: Vec<f64>,
    /// Tables and plans, kept from run to run (the runs of a long value list are mostly
    /// alike: a value, a gap, a value, ...) and, through [`Planner::tree`], from list to list.
    planner: Planner,
}

/// One node of a planned tree, in the order [`Builder::emit_plan`] builds them (a split's
/// upper half first): positions and decisions are relative to the run's start.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Split before the run's range `at`.
    Split(u32),
    /// Exception list whose common decision is that of the run's range `at` (the first
    /// range with it).
    Except(u32),
}

/// The tables of [`Builder::plan_exact`] for a run of `n` ranges, triangular: row `i` holds
/// the sub-runs `i..j` for `j` in `i + 1..=n`, at [`Dp::at`]`(i, j)`. (Knuth's bound leaves
/// a few candidate splits a sub-run, so reading the upper halves' costs down a column is
/// cheap; a transposed copy of the costs, or a square table, would only cost memory, and
/// memory the allocator returns to the system between builds costs page faults. Measured on
/// Docker's build: the costs kept by column instead, with the row being planned in a
/// buffer, ran 3 % fewer instructions but no faster; planning two rows interleaved, so that
/// the processor overlaps their chains of dependent searches, no faster either.)
#[derive(Default)]
struct Dp {
    n: usize,
    cost: Vec<f64>,
    /// The best split (a split before range `root`, counted from the run's start; runs
    /// searched exactly are far shorter than 65536 ranges).
    root: Vec<u16>,
    /// The exception list's common decision where it is cheaper than the best split, else
    /// [`NO_LIST`]: only runs of at most [`MAX_RUN`] ranges have a list, so the sub-run
    /// `i..j` is at `i * (MAX_RUN + 1) + j - i` (as in [`Builder::exception_table`]).
    except: Vec<DnId>,
    /// Where each row starts ([`row_start`]).
    rows: Vec<usize>,
}

/// Where row `i` of a triangular table over `n` ranges starts (see [`Dp`]).
fn row_start(n: usize, i: usize) -> usize {
    i * n - i * i.saturating_sub(1) / 2
}

/// An exception list's common decision and cost ([`NO_LIST`]: none).
type List = (DnId, f64);

/// [`Dp::except`] where the run is split.
const NO_LIST: DnId = DnId::MAX;

impl Dp {
    /// Where row `i` starts.
    fn row(&self, i: usize) -> usize {
        row_start(self.n, i)
    }

    /// Where the sub-run `i..j` is.
    fn at(&self, i: usize, j: usize) -> usize {
        self.row(i) + j - i - 1
    }

    /// Sets the tables up for a run of `n` ranges. Only the single-range cells are set:
    /// [`Builder::plan_exact`] writes every longer sub-run's cells before it reads them,
    /// so the tables are reused between runs without clearing them.
    fn prepare(&mut self, n: usize) {
        self.n = n;
        let cells = n * (n + 1) / 2;
        if self.cost.len() < cells {
            self.cost.resize(cells, 0.0);
            self.root.resize(cells, 0);
        }
        if self.except.len() < n * (MAX_RUN + 1) {
            self.except.resize(n * (MAX_RUN + 1), NO_LIST);
        }
        self.rows.clear();
        self.rows.extend((0..=n).map(|i| row_start(n, i)));
        for i in 0..n {
            let at = self.row(i);
            self.cost[at] = 0.0;
            self.root[at] = i as u16;
        }
    }

    /// The shape of the sub-run `i..j` (relative to the run's start `a`) of at least two
    /// ranges.
    fn shape(&self, a: usize, i: usize, j: usize) -> Shape {
        let list = match j - i {
            len if len <= MAX_RUN => self.except[i * (MAX_RUN + 1) + len],
            _ => NO_LIST,
        };
        match list {
            NO_LIST => Shape::Split(a + self.root[self.at(i, j)] as usize),
            c => Shape::Except(c),
        }
    }
}

/// Rounds of raising the weights of key ranges that sit too deep.
const DEPTH_ROUNDS: usize = 3;

impl<'a> Builder<'a> {
    fn new(ir: &'a mut Ir, off: u32, ivs: &[Interval], cost: Cost) -> Self {
        Builder {
            ir,
            off,
            prefix: prefix_sums(ivs),
            ivs: ivs.to_vec(),
            size_cost: cost.size,
            // (Splits are stored as u16: see `Dp::root`.)
            exact: cost.exact.min(usize::from(u16::MAX)),
            planner: Planner::default(),
        }
    }
}

/// Adds a single value's decision and weight to a run's `tally` (each decision once, in the
/// order they first appear: decision, weight, how many values), of which `*kinds` are used.
fn tally_add(tally: &mut [(DnId, f64, usize)], kinds: &mut usize, to: DnId, w: f64) {
    match tally[..*kinds].iter_mut().find(|(d, ..)| *d == to) {
        Some(t) => (t.1, t.2) = (t.1 + w, t.2 + 1),
        None => {
            tally[*kinds] = (to, w, 1);
            *kinds += 1;
        }
    }
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
        // single values, the one whose list costs least.
        let common = match run.iter().position(|i| i.lo != i.hi) {
            Some(p) => {
                // (Stops at the first wide range with another decision or the first
                // exception too many: a long run is rarely a list.)
                let c = run[p].to;
                let mut others = 0;
                for i in run.iter().filter(|i| i.to != c) {
                    others += 1;
                    if i.lo != i.hi || others > MAX_EXCEPTIONS {
                        return None;
                    }
                }
                c
            }
            None if run.len() > 2 * MAX_EXCEPTIONS => return None,
            None => {
                let mut tally = [(NO_LIST, 0.0f64, 0usize); 2 * MAX_EXCEPTIONS];
                let mut kinds = 0;
                for i in run {
                    tally_add(&mut tally, &mut kinds, i.to, i.w);
                }
                let (c, cost) = self.singles_list(run, &tally[..kinds]);
                return (c != NO_LIST).then_some((c, cost));
            }
        };
        // The exceptions' weights, heaviest first (at most MAX_EXCEPTIONS of them).
        let mut ex = [0.0f64; MAX_EXCEPTIONS];
        let mut n = 0;
        let mut common_w = 0.0;
        for i in run {
            if i.to == common {
                common_w += i.w;
            } else if !push_exception(&mut ex, &mut n, i.w) {
                return None;
            }
        }
        Some((common, self.list_cost(&ex[..n], common_w)))
    }

    /// What an exception list costs: each exception (weights heaviest first) pays the tests
    /// up to its own, the common decision pays them all, and each test its size.
    fn list_cost(&self, ex: &[f64], common_w: f64) -> f64 {
        let m = ex.len() as f64;
        ex.iter()
            .enumerate()
            .map(|(k, w)| w * (k + 1) as f64)
            .sum::<f64>()
            + common_w * m
            + self.size_cost * m
    }

    /// [`Builder::exceptions`] for every sub-run of `ivs[a..b]` of at most [`MAX_RUN`]
    /// ranges, at `start * (MAX_RUN + 1) + len` ([`NO_LIST`] where there is none): one pass
    /// from each start, extending the run by one range at a time. With `changed` (as in
    /// [`Builder::plan_exact`]), only the runs that can hold a changed range are priced again.
    fn exception_table(&self, a: usize, b: usize, table: &mut Vec<List>, changed: &[usize]) {
        let n = b - a;
        if changed.is_empty() {
            table.clear();
            table.resize(n * (MAX_RUN + 1), (NO_LIST, 0.0));
        }
        for i in 0..n {
            if !changed.is_empty() && !changed.iter().any(|&k| (i..i + MAX_RUN).contains(&k)) {
                continue;
            }
            let row = &mut table[i * (MAX_RUN + 1)..(i + 1) * (MAX_RUN + 1)];
            row.fill((NO_LIST, 0.0));
            // The run's common decision, once a wide range has fixed it.
            let mut common: Option<DnId> = None;
            let mut ex = [0.0f64; MAX_EXCEPTIONS];
            let mut m = 0;
            let mut common_w = 0.0;
            // While every range is a single value: each decision's weight, in the order the
            // decisions first appear (see `singles_list` for the common one).
            let mut tally = [(NO_LIST, 0.0f64, 0usize); MAX_RUN];
            let mut kinds = 0;
            let lens = row
                .iter_mut()
                .enumerate()
                .take(MAX_RUN.min(n - i) + 1)
                .skip(1);
            for (len, slot) in lens {
                let iv = &self.ivs[a + i + len - 1];
                if common.is_none() && iv.lo != iv.hi {
                    // The first wide range: the sums restart over the whole run in order,
                    // as `exceptions` adds them.
                    common = Some(iv.to);
                    (m, common_w) = (0, 0.0);
                    let mut fits = true;
                    for r in &self.ivs[a + i..a + i + len] {
                        if r.to == iv.to {
                            common_w += r.w;
                        } else if !push_exception(&mut ex, &mut m, r.w) {
                            fits = false;
                            break;
                        }
                    }
                    if !fits {
                        break;
                    }
                } else if let Some(c) = common {
                    if iv.to == c {
                        common_w += iv.w;
                    } else if iv.lo != iv.hi || !push_exception(&mut ex, &mut m, iv.w) {
                        // A second wide decision, or too many exceptions: no longer run
                        // has a list either.
                        break;
                    }
                } else {
                    tally_add(&mut tally, &mut kinds, iv.to, iv.w);
                }
                if len < 2 {
                    continue;
                }
                *slot = match common {
                    Some(c) => (c, self.list_cost(&ex[..m], common_w)),
                    None => self.singles_list(&self.ivs[a + i..a + i + len], &tally[..kinds]),
                };
            }
        }
    }

    /// [`Builder::exceptions`] for a run of single values whose decisions weigh `tally` (in
    /// the order they first appear: decision, weight, how many values): the common decision
    /// is the one whose list costs least (the first of equals). Not simply the heaviest: a
    /// rare value on each side of a ruled syscall is one test for the syscall with the rare
    /// ones common, where the syscall common would pay a test for each rare one.
    ///
    /// Each decision is priced as [`Builder::list_cost`] prices its list (same terms, same
    /// order), from one ordering of the whole run: the exceptions of any common decision are
    /// the others in that order.
    fn singles_list(&self, run: &[Interval], tally: &[(DnId, f64, usize)]) -> List {
        if run.len() > 2 * MAX_EXCEPTIONS || tally.iter().all(|t| run.len() - t.2 > MAX_EXCEPTIONS)
        {
            return (NO_LIST, 0.0);
        }
        // The run heaviest first, equal weights in run order (as `push_exception` orders).
        let mut order = [(0.0f64, NO_LIST); 2 * MAX_EXCEPTIONS];
        for (n, r) in run.iter().enumerate() {
            let mut at = n;
            while at > 0 && order[at - 1].0 < r.w {
                order[at] = order[at - 1];
                at -= 1;
            }
            order[at] = (r.w, r.to);
        }
        let order = &order[..run.len()];
        let mut best = (NO_LIST, 0.0);
        for &(c, common_w, count) in tally {
            let m = run.len() - count;
            if m > MAX_EXCEPTIONS {
                continue;
            }
            let mut listed = 0.0;
            let mut k = 0;
            for &(w, d) in order {
                if d != c {
                    k += 1;
                    listed += w * k as f64;
                }
            }
            let cost = listed + common_w * m as f64 + self.size_cost * m as f64;
            if best.0 == NO_LIST || cost < best.1 {
                best = (c, cost);
            }
        }
        best
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
        if b - a <= self.exact {
            return self.build_exact(a, b);
        }
        // Long runs: an exception list is taken only when it is clearly cheap (a few
        // exceptions in one wide range); otherwise split where the weight balances.
        if let Some((c, cost)) = self.exceptions(a, b) {
            if cost <= self.weight(a, b) * ((b - a) as f64).log2() {
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
        // Lists are priced by `exceptions` or `exception_table` first, so there are at
        // most MAX_EXCEPTIONS exceptions: on the stack (a longer list would go to the heap).
        let mut stack = [(0.0f64, 0u32, common); MAX_EXCEPTIONS];
        let mut heap = Vec::new();
        let mut m = 0;
        for i in self.ivs[a..b].iter().filter(|i| i.to != common) {
            let e = (i.w, i.lo, i.to);
            match stack.get_mut(m) {
                Some(slot) => *slot = e,
                None if heap.is_empty() => heap.extend_from_slice(&stack),
                None => {}
            }
            if m >= MAX_EXCEPTIONS {
                heap.push(e);
            }
            m += 1;
        }
        let ex = if heap.is_empty() {
            &mut stack[..m]
        } else {
            &mut heap[..]
        };
        ex.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        let mut node = common;
        for &(_, lo, to) in ex.iter().rev() {
            node = self.ir.test(self.off, u32::MAX, Op::Eq, lo, to, node);
        }
        node
    }

    /// The cheapest tree for `ivs[a..b]` by dynamic programming over sub-runs, with Knuth's
    /// bound on where the best split of a run lies (between the best splits of the run
    /// without its last and without its first range), so the work is quadratic; runs of at
    /// most [`FULL_SEARCH`] ranges try every split. A round that
    /// raises key ranges' weights plans again only the sub-runs holding one of them (the
    /// others' costs are the same: the weights' sums are exact, see `weights::UNRULED`).
    fn build_exact(&mut self, a: usize, b: usize) -> DnId {
        let n = b - a;
        let keys = (a..b).filter(|&i| self.ivs[i].key).count();
        // Key ranges change weights as the search goes: those runs are planned every time.
        if keys == 0 {
            let mut sig = std::mem::take(&mut self.planner.sig);
            self.signature(a, b, &mut sig);
            let known = self.planner.plans.get(sig.as_slice()).copied();
            self.planner.sig = sig;
            if let Some(k) = known {
                let plan = std::mem::take(&mut self.planner.planned[k]);
                let root = self.emit_plan(a, b, a, &plan, &mut 0);
                self.planner.planned[k] = plan;
                return root;
            }
        }
        let limit = (usize::BITS - keys.leading_zeros()) as usize + 1;
        let mut dp = std::mem::take(&mut self.planner.dp);
        let mut lists = std::mem::take(&mut self.planner.lists);
        dp.prepare(n);
        self.plan_exact(a, b, &mut dp, &mut lists, &[]);
        for _ in 0..DEPTH_ROUNDS {
            if keys == 0 {
                break;
            }
            let mut depth = vec![0usize; n];
            self.depths(a, b, a, &dp, 0, &mut depth);
            let deep: Vec<usize> = (0..n)
                .filter(|&i| self.ivs[a + i].key && depth[i] > limit)
                .collect();
            if deep.is_empty() {
                break;
            }
            // A range of weight W / 2^d sits at depth d or about in the cheapest tree.
            let floor = self.weight(a, b) / (1u64 << (limit - 1).min(60)) as f64;
            for &i in &deep {
                let w = &mut self.ivs[a + i].w;
                *w = (*w * 2.0).max(floor);
            }
            self.prefix = prefix_sums(&self.ivs);
            self.plan_exact(a, b, &mut dp, &mut lists, &deep);
        }
        let mut plan = Vec::with_capacity(n);
        self.extract_plan(a, b, a, &dp, &mut plan);
        (self.planner.dp, self.planner.lists) = (dp, lists);
        let root = self.emit_plan(a, b, a, &plan, &mut 0);
        if keys == 0 {
            // (`sig` still holds this run's signature: planning did not touch it. It becomes
            // the key; the next signature gets a new buffer.)
            let k = self.planner.planned.len();
            let sig = std::mem::take(&mut self.planner.sig);
            self.planner.plans.insert(sig, k);
            self.planner.planned.push(plan);
        }
        root
    }

    /// What the cheapest tree of `ivs[a..b]` depends on: the price of a test, each range's
    /// weight, whether it is a single value, and which range of the run first has its
    /// decision.
    fn signature(&self, a: usize, b: usize, sig: &mut Vec<u64>) {
        let run = &self.ivs[a..b];
        sig.clear();
        sig.reserve(2 * run.len() + 2);
        sig.push(self.size_cost.to_bits());
        // The run's weight as the search computes it (from the prefix sums).
        sig.push(self.weight(a, b).to_bits());
        for (k, i) in run.iter().enumerate() {
            let first = run[..k].iter().position(|j| j.to == i.to).unwrap_or(k);
            sig.push(i.w.to_bits());
            sig.push((first as u64) << 1 | u64::from(i.lo == i.hi));
        }
    }

    /// The tree the tables describe for `ivs[a..b]`, as [`Step`]s.
    fn extract_plan(&self, a: usize, b: usize, base: usize, dp: &Dp, out: &mut Vec<Step>) {
        if b - a == 1 {
            return;
        }
        match dp.shape(base, a - base, b - base) {
            Shape::Except(c) => {
                let first = (base..b).find(|&i| self.ivs[i].to == c).unwrap_or(a);
                out.push(Step::Except((first - base) as u32));
            }
            Shape::Split(s) => {
                out.push(Step::Split((s - base) as u32));
                self.extract_plan(s, b, base, dp, out);
                self.extract_plan(a, s, base, dp, out);
            }
        }
    }

    /// Builds the tree `plan` describes for `ivs[a..b]` (a sub-run of the run at `base`).
    fn emit_plan(
        &mut self,
        a: usize,
        b: usize,
        base: usize,
        plan: &[Step],
        at: &mut usize,
    ) -> DnId {
        if b - a == 1 {
            return self.ivs[a].to;
        }
        let step = plan[*at];
        *at += 1;
        match step {
            Step::Except(c) => {
                let common = self.ivs[base + c as usize].to;
                self.emit_exceptions(a, b, common)
            }
            Step::Split(s) => {
                let s = base + s as usize;
                let right = self.emit_plan(s, b, base, plan, at);
                let left = self.emit_plan(a, s, base, plan, at);
                self.split_node(s, right, left)
            }
        }
    }

    /// The number of tests above each range of `ivs[a..b]` in the tree `shape` describes.
    fn depths(&self, a: usize, b: usize, base: usize, dp: &Dp, d: usize, out: &mut [usize]) {
        if b - a == 1 {
            out[a - base] = d;
            return;
        }
        match dp.shape(base, a - base, b - base) {
            Shape::Except(c) => {
                let mut ex: Vec<usize> = (a..b).filter(|&i| self.ivs[i].to != c).collect();
                ex.sort_by(|&x, &y| self.ivs[y].w.total_cmp(&self.ivs[x].w).then(x.cmp(&y)));
                for i in a..b {
                    out[i - base] = d + ex.len();
                }
                for (k, &i) in ex.iter().enumerate() {
                    out[i - base] = d + k + 1;
                }
            }
            Shape::Split(s) => {
                self.depths(a, s, base, dp, d + 1, out);
                self.depths(s, b, base, dp, d + 1, out);
            }
        }
    }

    /// Fills the tables for `ivs[a..b]`. With `changed` (ascending positions in the run),
    /// the tables hold the plan of the same run before the weights of those ranges changed:
    /// only the sub-runs that hold one of them are planned again.
    fn plan_exact(
        &self,
        a: usize,
        b: usize,
        dp: &mut Dp,
        lists: &mut Vec<List>,
        changed: &[usize],
    ) {
        let n = b - a;
        self.exception_table(a, b, lists, changed);
        let prefix = &self.prefix[a..=b];
        let Dp {
            cost,
            root,
            except,
            rows,
            ..
        } = dp;
        // Row by row from the last, each row from its shortest sub-run: the best splits of
        // `i..j - 1` (this row) and `i + 1..j` (the row below) are known when `i..j` is
        // planned, and so are the costs of both halves of every split.
        for i in (0..n.saturating_sub(1)).rev() {
            let from = prefix[i];
            // Row i is `i..i + 1`, ..., `i..n`; the rows below it follow.
            let (row_i, below) = (rows[i], rows[i + 1]);
            let (cost_i, cost_below) = cost.split_at_mut(below);
            let cost_i = &mut cost_i[row_i..];
            let (root_i, root_below) = root.split_at_mut(below);
            let root_i = &mut root_i[row_i..];
            let lists_i = &lists[i * (MAX_RUN + 1)..(i + 1) * (MAX_RUN + 1)];
            let except_i = &mut except[i * (MAX_RUN + 1)..(i + 1) * (MAX_RUN + 1)];
            // The first sub-run of the row to plan: all of them, or those that hold the first
            // changed range at or after i.
            let first = if changed.is_empty() {
                i + 2
            } else {
                match changed.iter().find(|&&k| k >= i) {
                    Some(&k) => (k + 1).max(i + 2),
                    None => continue,
                }
            };
            // The best split of `i..j - 1` (of a single range, `i`: the first split then is
            // at `i + 1`).
            let mut prev = (root_i[first - i - 2] as usize).max(i + 1);
            // Sub-runs that may be exception lists (at most MAX_RUN ranges), then the others.
            let listed = first..=n.min(i + MAX_RUN);
            for j in listed.clone() {
                let w = prefix[j] - from + self.size_cost;
                let (mut best, s) = best_split(
                    i, j, n, below, prev, w, cost_i, cost_below, root_below, rows,
                );
                prev = s;
                root_i[j - i - 1] = s as u16;
                let (common, c) = lists_i[j - i];
                let mut list = NO_LIST;
                if common != NO_LIST && c <= best {
                    best = c;
                    list = common;
                }
                except_i[j - i] = list;
                cost_i[j - i - 1] = best;
            }
            for j in (*listed.end() + 1).max(first)..=n {
                let w = prefix[j] - from + self.size_cost;
                let (best, s) = best_split(
                    i, j, n, below, prev, w, cost_i, cost_below, root_below, rows,
                );
                prev = s;
                root_i[j - i - 1] = s as u16;
                cost_i[j - i - 1] = best;
            }
        }
    }
}

/// [`Builder::plan_exact`]'s search for the best split of the sub-run `i..j` between `prev`
/// (the best split of `i..j - 1`, at least `i + 1`) and the best split of `i + 1..j` (in a
/// run of `n` ranges, at most [`FULL_SEARCH`]: among all splits), each split costing `w` more
/// than its halves: (cost, split). `cost_i` is row `i`, `cost_below` the rows after it (from
/// row `i + 1`, at `below`), `root_below` their best splits, `rows` where rows start.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn best_split(
    i: usize,
    j: usize,
    n: usize,
    below: usize,
    prev: usize,
    w: f64,
    cost_i: &[f64],
    cost_below: &[f64],
    root_below: &[u16],
    rows: &[usize],
) -> (f64, usize) {
    // (A sub-run's best split is inside it: `i + 1..j`'s is at most `j - 1`.)
    let (lo, hi) = if n <= FULL_SEARCH {
        (i + 1, j - 1)
    } else {
        (prev, (root_below[j - i - 2] as usize).max(prev))
    };
    debug_assert!(hi < j);
    // cost(i..s) + cost(s..j) for s in lo..=hi: along row i, and down column j (row s + 1
    // starts n - s cells after row s, one sub-run shorter).
    let left = &cost_i[lo - i - 1..hi - i];
    let mut right = rows[lo] + j - lo - 1 - below;
    let mut best = w + left[0] + cost_below[right];
    let mut best_s = lo;
    for (s, &l) in (lo + 1..).zip(&left[1..]) {
        right += n - s;
        let c = w + l + cost_below[right];
        if c < best {
            best = c;
            best_s = s;
        }
    }
    (best, best_s)
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

    const TEST_COST: Cost = Cost {
        size: 0.0,
        exact: 40,
    };

    fn iv(lo: u32, hi: u32, to: DnId, w: f64) -> Interval {
        Interval {
            lo,
            hi,
            to,
            w,
            key: true,
        }
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
            let root = tree(&mut ir, 0, &merged, TEST_COST);
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
        let root = tree(&mut ir, 0, &ivs, TEST_COST);
        // An allowed value needs the range check and the two exceptions at most.
        assert!(walk(&ir, root, 30).1 <= 3);
        assert_eq!(walk(&ir, root, 17).0, deny);
        assert_eq!(walk(&ir, root, 101).0, deny);
        assert_eq!(walk(&ir, root, 100).0, allow);
    }

    /// A seeded linear congruential generator: `next(m)` is below `m`.
    fn lcg(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |m| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        }
    }

    #[test]
    fn a_planner_kept_from_list_to_list_plans_as_a_fresh_one() {
        // Value lists like an argument chain's (values, gaps between them, a few decisions),
        // many alike, at two prices of a test: the planner's cached plans must be the trees a
        // fresh search finds (hash-consing makes equal trees the same node).
        let mut next = lcg(7);
        let mut ir = Ir::default();
        let outs: Vec<DnId> = (0..4).map(|k| ir.ret(k)).collect();
        let mut planner = Planner::default();
        for round in 0..300 {
            // Mostly short lists with gaps of a few values (many alike), now and then a long
            // one with single-value gaps too.
            let long = round % 10 == 0;
            let n = 1 + next(if long { 40 } else { 4 }) as u32;
            let mut ivs = Vec::new();
            let mut at = next(3) as u32;
            if at > 0 {
                ivs.push(Interval {
                    key: false,
                    ..iv(0, at - 1, outs[0], 0.25)
                });
            }
            for _ in 0..n {
                let to = outs[1 + next(if long { 3 } else { 2 }) as usize];
                ivs.push(Interval {
                    key: false,
                    ..iv(at, at, to, 1.0)
                });
                let gap = if long {
                    next(3) as u32
                } else {
                    2 + next(2) as u32
                };
                if gap > 0 {
                    ivs.push(Interval {
                        key: false,
                        ..iv(at + 1, at + gap, outs[0], 0.25)
                    });
                }
                at += gap + 1;
            }
            ivs.push(Interval {
                key: false,
                ..iv(at, u32::MAX, outs[0], 0.25)
            });
            let ivs = merge(ivs);
            let cost = Cost {
                size: [0.0, 50.0][round % 2],
                exact: 32,
            };
            let kept = planner.tree(&mut ir, 16, &ivs, cost);
            assert_eq!(kept, tree(&mut ir, 16, &ivs, cost), "list {round}: {ivs:?}");
        }
        assert!(!planner.plans.is_empty());
    }

    #[test]
    fn a_hot_value_between_rare_ones_is_the_exception() {
        let mut ir = Ir::default();
        let (other, deny, hot) = (ir.ret(1), ir.ret(2), ir.ret(3));
        let rare = 1.0 / 32.0;
        // Only 135 has rules; 134 and 136 are rare and denied, the wide ranges around them
        // decided otherwise.
        let ivs = vec![
            iv(0, 133, other, 0.5),
            iv(134, 134, deny, rare),
            iv(135, 135, hot, 1.0),
            iv(136, 136, deny, rare),
            iv(137, u32::MAX, other, 0.5),
        ];
        // One test for the hot value (the rare ones common), not one for each rare value.
        let b = Builder::new(&mut ir, 0, &ivs, TEST_COST);
        assert_eq!(b.exceptions(1, 4), Some((deny, 1.0 + 2.0 * rare)));
        let root = tree(&mut ir, 0, &ivs, TEST_COST);
        for i in &ivs {
            assert_eq!(walk(&ir, root, i.lo).0, i.to);
        }
        let mut alone = Ir::default();
        let (d, h) = (alone.ret(2), alone.ret(3));
        let run = [
            iv(0, 134, d, rare),
            iv(135, 135, h, 1.0),
            iv(136, u32::MAX, d, rare),
        ];
        let root = tree(&mut alone, 0, &run, TEST_COST);
        assert_eq!(walk(&alone, root, 135), (h, 1));
    }

    /// [`Builder::singles_list`] the plain way: every decision of the run as the common one,
    /// its exceptions listed by [`push_exception`] and priced by [`Builder::list_cost`].
    fn singles_by_lists(b: &Builder<'_>, run: &[Interval]) -> List {
        if run.len() > 2 * MAX_EXCEPTIONS {
            return (NO_LIST, 0.0);
        }
        let mut best = (NO_LIST, 0.0);
        let mut tried = Vec::new();
        for r in run {
            if tried.contains(&r.to) {
                continue;
            }
            tried.push(r.to);
            let common_w: f64 = run.iter().filter(|x| x.to == r.to).map(|x| x.w).sum();
            let mut ex = [0.0f64; MAX_EXCEPTIONS];
            let mut m = 0;
            if !run
                .iter()
                .filter(|x| x.to != r.to)
                .all(|x| push_exception(&mut ex, &mut m, x.w))
            {
                continue;
            }
            let cost = b.list_cost(&ex[..m], common_w);
            if best.0 == NO_LIST || cost < best.1 {
                best = (r.to, cost);
            }
        }
        best
    }

    /// The table the exact search reads holds, for every short sub-run, what
    /// [`Builder::exceptions`] finds for it alone.
    #[test]
    fn the_exception_table_agrees_with_exceptions() {
        let mut ir = Ir::default();
        let r: Vec<DnId> = (0..4).map(|k| ir.ret(k)).collect();
        let mut next = lcg(11);
        for _ in 0..200 {
            let n = 2 + next(30) as usize;
            let mut ivs = Vec::new();
            let mut lo = 0u32;
            for k in 0..n {
                let wide = next(3) == 0;
                let hi = if k + 1 == n {
                    u32::MAX
                } else if wide {
                    lo + 1 + next(5) as u32
                } else {
                    lo
                };
                let w = [1.0 / 32.0, 0.5, 1.0, 3.0][next(4) as usize];
                ivs.push(iv(lo, hi, r[next(4) as usize], w));
                lo = hi.wrapping_add(1);
            }
            let b = Builder::new(&mut ir, 0, &ivs, TEST_COST);
            let mut table = Vec::new();
            b.exception_table(0, n, &mut table, &[]);
            for i in 0..n {
                for len in 2..=MAX_RUN.min(n - i) {
                    let got = table[i * (MAX_RUN + 1) + len];
                    let want = b.exceptions(i, i + len).unwrap_or((NO_LIST, 0.0));
                    assert_eq!(got, want, "{ivs:?} {i} {len}");
                    let run = &ivs[i..i + len];
                    if run.iter().all(|r| r.lo == r.hi) {
                        assert_eq!(want, singles_by_lists(&b, run), "{run:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_list_longer_than_priced_still_holds_every_exception() {
        let mut ir = Ir::default();
        let allow = ir.ret(1);
        let r: Vec<DnId> = (0..9).map(|k| ir.ret(10 + k)).collect();
        // 0..=100 allowed but nine single values.
        let mut ivs = vec![iv(0, 9, allow, 1.0)];
        for (k, &to) in r.iter().enumerate() {
            let v = 10 + 2 * k as u32;
            ivs.push(iv(v, v, to, 1.0 + k as f64));
            ivs.push(iv(v + 1, v + 1, allow, 1.0));
        }
        ivs.push(iv(28, u32::MAX, allow, 1.0));
        let n = ivs.len();
        let mut b = Builder::new(&mut ir, 0, &ivs, TEST_COST);
        let root = b.emit_exceptions(0, n, allow);
        for i in &ivs {
            assert_eq!(walk(&ir, root, i.lo).0, i.to, "{}", i.lo);
        }
        // Heaviest first.
        assert_eq!(walk(&ir, root, 26).1, 1);
        assert_eq!(walk(&ir, root, 10).1, 9);
    }

    #[test]
    fn planning_again_after_a_raise_matches_planning_afresh() {
        let mut ir = Ir::default();
        let r: Vec<DnId> = (0..5).map(|k| ir.ret(k)).collect();
        let mut next = lcg(7);
        for n in [2usize, 3, 9, 30, 61] {
            let ivs: Vec<Interval> = (0..n)
                .map(|i| {
                    let lo = 4 * i as u32;
                    let hi = if i + 1 == n {
                        u32::MAX
                    } else {
                        lo + (i % 2) as u32 * 3
                    };
                    let w = [1.0, 0.03125, 4.0, 1.25, 0.25][next(5) as usize];
                    iv(lo, hi, r[next(5) as usize], w)
                })
                .collect();
            let cost = Cost {
                size: 0.1,
                exact: 320,
            };
            let mut b = Builder::new(&mut ir, 0, &ivs, cost);
            let (mut again, mut lists) = (Dp::default(), Vec::new());
            again.prepare(n);
            b.plan_exact(0, n, &mut again, &mut lists, &[]);
            for _ in 0..3 {
                let mut changed: Vec<usize> =
                    (0..1 + next(4)).map(|_| next(n as u64) as usize).collect();
                changed.sort_unstable();
                changed.dedup();
                for &k in &changed {
                    b.ivs[k].w *= 2.0;
                }
                b.prefix = prefix_sums(&b.ivs);
                b.plan_exact(0, n, &mut again, &mut lists, &changed);
                let mut fresh = Dp::default();
                fresh.prepare(n);
                b.plan_exact(0, n, &mut fresh, &mut lists, &[]);
                let cells = n * (n + 1) / 2;
                assert_eq!(
                    again.cost[..cells],
                    fresh.cost[..cells],
                    "n {n} {changed:?}"
                );
                assert_eq!(
                    again.root[..cells],
                    fresh.root[..cells],
                    "n {n} {changed:?}"
                );
                let band = n * (MAX_RUN + 1);
                assert_eq!(
                    again.except[..band],
                    fresh.except[..band],
                    "n {n} {changed:?}"
                );
            }
        }
    }

    /// The cheapest tree's cost for `ivs[a..b]` by trying every split of every sub-run and
    /// every exception list: what [`Builder::plan_exact`] must find on short runs.
    fn cheapest(b: &Builder<'_>, a: usize, e: usize, memo: &mut FxMap<(usize, usize), f64>) -> f64 {
        if e - a == 1 {
            return 0.0;
        }
        if let Some(&c) = memo.get(&(a, e)) {
            return c;
        }
        let w = b.weight(a, e) + b.size_cost;
        let mut best = f64::INFINITY;
        for s in a + 1..e {
            best = best.min(w + cheapest(b, a, s, memo) + cheapest(b, s, e, memo));
        }
        if let Some((_, c)) = b.exceptions(a, e) {
            best = best.min(c);
        }
        memo.insert((a, e), best);
        best
    }

    #[test]
    fn short_runs_get_the_cheapest_tree() {
        // Runs like a small section's dispatch: single rules between wide gaps, a few
        // decisions, weights far apart. With exception lists among the shapes, Knuth's bound
        // can skip the best split (crosvm's `vhost_user`, 11 ranges: 25 instructions where 24
        // do); short runs are searched in full.
        let mut ir = Ir::default();
        let r: Vec<DnId> = (0..4).map(|k| ir.ret(k)).collect();
        let mut next = lcg(11);
        for round in 0..400 {
            let n = 2 + next(15) as usize;
            let mut at = 0u32;
            let ivs: Vec<Interval> = (0..n)
                .map(|i| {
                    let wide = i % 2 == 0 || next(4) == 0;
                    let lo = at;
                    let hi = if i + 1 == n {
                        u32::MAX
                    } else if wide {
                        at + 1 + next(50) as u32
                    } else {
                        at
                    };
                    at = hi.wrapping_add(1);
                    let to = if wide {
                        r[next(2) as usize]
                    } else {
                        r[next(4) as usize]
                    };
                    let w = [1.0, 0.03125, 4.0, 0.25, 16.0][next(5) as usize];
                    Interval {
                        key: false,
                        ..iv(lo, hi, to, w)
                    }
                })
                .collect();
            let ivs = merge(ivs);
            let n = ivs.len();
            if n < 2 {
                continue;
            }
            let cost = Cost {
                size: [0.1, 3.0][round % 2],
                exact: 320,
            };
            let b = Builder::new(&mut ir, 0, &ivs, cost);
            let (mut dp, mut lists) = (Dp::default(), Vec::new());
            dp.prepare(n);
            b.plan_exact(0, n, &mut dp, &mut lists, &[]);
            let want = cheapest(&b, 0, n, &mut FxMap::default());
            let got = dp.cost[dp.at(0, n)];
            assert!(
                (got - want).abs() <= 1e-9 * want,
                "round {round}: {got} against {want}: {ivs:?}"
            );
        }
    }

    #[test]
    fn heavy_ranges_sit_higher() {
        let mut ir = Ir::default();
        let r: Vec<DnId> = (0..16).map(|k| ir.ret(k)).collect();
        let mut ivs: Vec<Interval> = (0..16u32).map(|i| iv(i, i, r[i as usize], 1.0)).collect();
        ivs[15].hi = u32::MAX;
        ivs[9].w = 1000.0;
        let root = tree(&mut ir, 0, &ivs, TEST_COST);
        assert!(walk(&ir, root, 9).1 <= 2);
    }
}
