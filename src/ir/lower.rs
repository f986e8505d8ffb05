//! From the rule database to one decision graph, dispatch included.
//!
//! Per architecture section (one `seccomp_data.arch` value; x86_64 and x32 share one), each
//! syscall's rules become a decision ([`entry_decision`]: the database's levels and siblings
//! resolved into tests), and the section's dispatch on the syscall number leads to them:
//! * level 2 with [`Passes::RANGES`]: a weighted search tree over ranges of numbers with one
//!   decision (`crate::opt::intervals`), over the whole 32-bit number space, so the x32 bit
//!   check and the bad-arch path are ranges like any other;
//! * optimize level 1 with it: libseccomp's priority order between syscalls of different
//!   priorities, each group of equal priority such a tree, whose other numbers go on to the
//!   next group's; the largest group's tree gives the default action to the numbers without
//!   a rule that no later group's number shares a range with ([`priority_groups`]);
//! * without it: libseccomp's dispatch, at level 1 a `jeq` chain in priority order, at level
//!   2 a binary search over single numbers, with `jeq` chains of up to four at the leaves,
//!   and a separate x32 check.
//!
//! The sections are then chained on the architecture token, ending in the bad-arch action.

use super::hash::FxMap;
use super::{DnId, Ir, Op, Program};
use crate::arch::ScmpArch;
use crate::bpf::{kernel_caches, SECCOMP_RET_ALLOW};
use crate::db::by_number::ByNumber;
use crate::db::tree::{Cmp, Id, Tree};
use crate::db::{Collection, SysEntry};
use crate::opt::intervals::{self, Interval};
use crate::opt::{broad_first, weights, Passes};

/// Offset of the syscall number in `seccomp_data`.
const NR: u32 = crate::bpf::SECCOMP_DATA_NR_OFFSET;
/// Offset of the architecture token.
const ARCH: u32 = crate::bpf::SECCOMP_DATA_ARCH_OFFSET;
/// Bit 30 of the syscall number marks x32 calls.
const X32_BIT: u32 = crate::syscall::X32_SYSCALL_BIT as u32;

/// How a section treats bit 30 of the syscall number (x86_64 and x32 share an audit token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum X32Mode {
    /// Not an x86_64/x32 section.
    None,
    /// x86_64 alone: numbers with bit 30 (but -1) go to the bad-arch action.
    X8664Only,
    /// x32 alone: numbers without bit 30 go to the bad-arch action.
    X32Only,
    /// Both in one section.
    Both,
}

/// One syscall of a section.
#[derive(Debug, Clone, Copy)]
struct SysDecision {
    nr: u32,
    priority: u32,
    root: DnId,
}

/// Converts a database level (and what follows it) into a decision.
fn conv_level(
    ir: &mut Ir,
    tree: &Tree,
    start: Id,
    cont: DnId,
    memo: &mut FxMap<(Id, DnId), DnId>,
    broad_first: bool,
) -> DnId {
    let start = tree.level_start(start);
    if let Some(&d) = memo.get(&(start, cont)) {
        return d;
    }
    let mut siblings = Vec::new();
    let mut c = Some(start);
    while let Some(i) = c {
        siblings.push(i);
        c = tree.nodes[i].lvl_nxt.get();
    }
    if broad_first {
        broad_first::order(tree, &mut siblings);
    }
    let mut next = cont;
    for &i in siblings.iter().rev() {
        let n = &tree.nodes[i];
        let mut edge = |child: Option<Id>, act: Option<u32>| match (child, act) {
            (Some(child), _) => conv_level(ir, tree, child, next, memo, broad_first),
            (None, Some(a)) => ir.ret(a),
            (None, None) => next,
        };
        let t = edge(n.nxt_t.get(), n.act_t);
        let f = edge(n.nxt_f.get(), n.act_f);
        let op = match n.op {
            Cmp::Eq | Cmp::MaskedEq => Op::Eq,
            Cmp::Gt => Op::Gt,
            Cmp::Ge => Op::Ge,
        };
        next = ir.test(n.offset, n.mask, op, n.datum, t, f);
    }
    memo.insert((start, cont), next);
    next
}

/// The decision of one syscall's rules (`broad_first`: its levels in
/// [`broad_first::order`]).
fn entry_decision(ir: &mut Ir, e: &SysEntry, default: DnId, broad_first: bool) -> DnId {
    match e.chains {
        None => ir.ret(e.action),
        Some(c) => conv_level(ir, &e.tree, c, default, &mut FxMap::default(), broad_first),
    }
}

/// The syscalls whose decisions [`Passes::BROAD_FIRST`] reorders: those where
/// [`broad_first::applies`] holds and the reordered decision, built alone, is shorter.
fn broad_first_entries(col: &Collection, passes: Passes) -> Vec<&SysEntry> {
    if !passes.contains(Passes::BROAD_FIRST) {
        return Vec::new();
    }
    (col.filters.iter())
        .flat_map(|f| f.syscalls.values_unordered())
        .filter(|e| {
            e.chains.is_some_and(|c| {
                broad_first::applies(&e.tree)
                    && broad_first::pays(passes, |reordered| {
                        let mut alone = Ir::with_capacity(e.tree.nodes.len() + 2);
                        let default = alone.ret(col.attrs.act_default);
                        let root = conv_level(
                            &mut alone,
                            &e.tree,
                            c,
                            default,
                            &mut FxMap::default(),
                            reordered,
                        );
                        Program { ir: alone, root }
                    })
            })
        })
        .collect()
}

/// Builds the whole filter as one graph.
pub(crate) fn lower(col: &Collection, passes: Passes) -> Program {
    // (Tried before the graph is made, so that the trials' small graphs come and go before
    // its buffers.)
    let broad_first = broad_first_entries(col, passes);
    // Sized for half the nodes the rules will make (about the database's nodes: 2000 values
    // on one argument are 2001 database nodes and 2009 graph nodes), so that its index is
    // rebuilt once, not doubling by doubling. Room for all of them took fewer instructions
    // but more time in a loop of builds of those values (1.2 ms -> 1.7 ms a build): glibc
    // then gave the heap back to the system after every build (twelve times the page faults).
    // Decisions shared by many syscalls (an unconditional ALLOW) are one node, so no room
    // is made for those.
    let nodes: usize = (col.filters.iter())
        .flat_map(|f| f.syscalls.values_unordered())
        .map(|e| e.tree.nodes.len())
        .sum();
    let mut ir = Ir::with_capacity(nodes / 2 + 16);
    let default = ir.ret(col.attrs.act_default);
    let badarch = ir.ret(col.attrs.act_badarch);
    let has_64 = col.has_arch(ScmpArch::X8664);
    let has_x32 = col.has_arch(ScmpArch::X32);
    let ranges = col.attrs.optimize == 2 && passes.contains(Passes::RANGES);
    // Level 1's range trees, one for each group of syscalls of equal priority.
    let grouped = col.attrs.optimize != 2 && passes.contains(Passes::RANGES);
    // Weights only shape range trees.
    let weighted = (ranges || grouped) && passes.contains(Passes::WEIGHTS);
    let mut sections: Vec<(u32, DnId)> = Vec::new();
    let mut x86_done = false;
    for f in &col.filters {
        let (mode, members): (X32Mode, Vec<_>) = match f.arch {
            ScmpArch::X8664 | ScmpArch::X32 if has_64 && has_x32 => {
                if x86_done {
                    continue;
                }
                x86_done = true;
                (
                    X32Mode::Both,
                    col.filters
                        .iter()
                        .filter(|g| matches!(g.arch, ScmpArch::X8664 | ScmpArch::X32))
                        .collect(),
                )
            }
            ScmpArch::X8664 => (X32Mode::X8664Only, vec![f]),
            ScmpArch::X32 => (X32Mode::X32Only, vec![f]),
            _ => (X32Mode::None, vec![f]),
        };
        // The syscalls with rules; of two entries for one number (-1 in both x86_64 and
        // x32, or an x86_64 rule given an x32 number), the first member's judges, as in the
        // evaluator and libseccomp's level 2 (libseccomp's level 1, emulated in compat mode
        // only, takes the one of higher priority: README, deliberate differences, 11).
        // (Sized for every entry, so that the tables are not grown step by step.)
        let entries: usize = members.iter().map(|g| g.syscalls.len()).sum();
        let mut syscalls: Vec<SysDecision> = Vec::with_capacity(entries);
        // Where each number's decision is in `syscalls` (`usize::MAX`: none yet).
        let mut seen = ByNumber::new(usize::MAX);
        let by_priority = col.by_priority();
        // Weights of numbers (rules, hot syscalls, priorities, the action cache), for the
        // range trees (NaN: none yet).
        let mut weight = ByNumber::new(f64::NAN);
        // Where the kernel can skip the filter for some of the section's syscalls (its
        // action cache: those allowed without argument checks), the calls of those with
        // argument checks, and x32's, weigh more; elsewhere, those with argument checks. A
        // syscall with a large argument graph (a list of values) weighs more again.
        let cached = weighted
            && members.iter().any(|g| {
                kernel_caches(g.arch)
                    && (g.syscalls.values())
                        .any(|e| e.valid && e.chains.is_none() && e.action == SECCOMP_RET_ALLOW)
            });
        for g in &members {
            let x32 = mode == X32Mode::Both && g.arch == ScmpArch::X32;
            let arch_factor = if x32 { weights::X32_FACTOR } else { 1.0 };
            let abi_cached = kernel_caches(g.arch);
            for e in g.syscalls.values() {
                if weighted && (e.num >= 0 || e.num == -1) {
                    let pri = weights::priority_factor(e.user_priority());
                    let uncached = cached && !(abi_cached && e.chains.is_none());
                    let calls = weights::calls_factor(uncached, e.chains.map(|_| e.node_cnt));
                    let w = weight.slot(e.num as u32);
                    *w = if w.is_nan() { 0.0 } else { *w } + pri * arch_factor * calls;
                }
                if !e.valid || (e.num < 0 && !(e.num == -1 && col.attrs.tskip)) {
                    continue;
                }
                let at = seen.slot(e.num as u32);
                let taken = match *at {
                    usize::MAX => None,
                    k if by_priority && e.priority > syscalls[k].priority => Some(k),
                    _ => continue,
                };
                let reorder = broad_first.iter().any(|&b| std::ptr::eq(b, e));
                let root = entry_decision(&mut ir, e, default, reorder);
                let d = SysDecision {
                    nr: e.num as u32,
                    priority: e.priority,
                    root,
                };
                match taken {
                    Some(k) => syscalls[k] = d,
                    None => {
                        *at = syscalls.len();
                        syscalls.push(d);
                    }
                }
            }
            if weighted {
                for &nr in weights::hot_numbers(g.arch) {
                    let w = weight.slot(nr);
                    *w = if w.is_nan() { arch_factor } else { *w } * weights::HOT_FACTOR;
                }
            }
        }
        // libseccomp 2.5.4 bug, emulated in compat mode only: the section compares the
        // architecture token where it should compare the syscall number.
        let nr_word = if col.section_skips_nr_load(&members) {
            ARCH
        } else {
            NR
        };
        // The first architecture (the filter's native one) keeps its worst case near a
        // balanced tree's; the others get the cheapest mean.
        let primary = sections.is_empty();
        let weight = if weighted { Some(&weight) } else { None };
        let sec = Section {
            badarch,
            weight,
            primary,
        };
        let root = if ranges {
            range_dispatch(&mut ir, sec, mode, &syscalls, default)
        } else if col.attrs.optimize == 2 {
            syscalls.sort_by_key(|d| d.nr);
            let dispatch = bsearch(&mut ir, nr_word, &syscalls, default);
            x32_guard(&mut ir, nr_word, mode, dispatch, badarch)
        } else {
            // Higher priority first; ties in ascending number order (as libseccomp).
            syscalls.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.nr.cmp(&b.nr)));
            if grouped && nr_word == NR {
                priority_groups(&mut ir, sec, mode, &syscalls, default)
            } else {
                let dispatch = chain(&mut ir, nr_word, &syscalls, default);
                x32_guard(&mut ir, nr_word, mode, dispatch, badarch)
            }
        };
        sections.push((f.info().audit, root));
    }
    let mut root = badarch;
    for &(audit, s) in sections.iter().rev() {
        root = ir.test(ARCH, u32::MAX, Op::Eq, audit, s, root);
    }
    Program { ir, root }
}

/// Level 1's dispatch with [`Passes::RANGES`]: libseccomp's priority order kept between
/// syscalls of different priorities, each group of equal priority (`sorted`: highest first)
/// a range tree as level 2's, whose numbers outside the group go on to the next group's tree
/// (the last one's to `default`). Where libseccomp's chain tests a group's syscalls one by
/// one in ascending order, the tree finds any of them in about the logarithm of the group's
/// ranges, and every call that the group does not decide leaves it as soon.
///
/// The largest group's tree (on most filters the first: the syscalls allowed without
/// argument checks, whose priority is the highest) decides every number but the later
/// groups' ([`deciding_groups`]), so that a denied call stops there, not after every tree;
/// the groups before it (a priority given to a few syscalls) each tell their own syscalls
/// from every other number, all of which go on. The first group's tree also weighs the
/// later groups' syscalls, each where its number leads on: with weights, the
/// argument-checked syscalls, whose calls the kernel's action cache cannot skip, leave it
/// sooner. Every group of the filter's native section keeps its syscalls near a balanced
/// tree's depth, as level 2's tree does (`primary`): a priority given to one syscall puts
/// the others in a later group.
fn priority_groups(
    ir: &mut Ir,
    sec: Section<'_>,
    mode: X32Mode,
    sorted: &[SysDecision],
    default: DnId,
) -> DnId {
    let groups: Vec<&[SysDecision]> = sorted.chunk_by(|a, b| a.priority == b.priority).collect();
    // The group whose tree decides the numbers without a rule: the largest (the first of
    // those), whose tree tells the most ranges apart anyway.
    let Some(k) = (0..groups.len()).max_by_key(|&i| (groups[i].len(), std::cmp::Reverse(i))) else {
        return range_dispatch(ir, sec, mode, &[], default);
    };
    // Only the first group's tree sends the other ABI's numbers to the bad-arch action (the
    // x32 check); the later groups see only numbers of the section's own ABIs.
    let own_abis = match mode {
        X32Mode::X8664Only | X32Mode::X32Only => X32Mode::None,
        m => m,
    };
    let (head, after) = (&groups[..k], &groups[k + 1..]);
    let decider_mode = if k == 0 { mode } else { own_abis };
    let mut next = deciding_groups(ir, sec, decider_mode, groups[k], after, default);
    // The groups before it: each tree tells its own syscalls from every other number, all of
    // which go on.
    let Some((&first, between)) = head.split_first() else {
        return next;
    };
    for group in between.iter().rev() {
        next = range_dispatch(ir, sec, own_abis, group, next);
    }
    let lower = groups[1..].iter().flat_map(|g| g.iter());
    let with_exits: Vec<SysDecision> = (first.iter().copied())
        .chain(lower.map(|s| SysDecision { root: next, ..*s }))
        .collect();
    range_dispatch(ir, sec, mode, &with_exits, next)
}

/// [`priority_groups`] from the group that decides the numbers without a rule (`first`; the
/// groups after it, `later`). Its tree decides every number but the later groups': those
/// lead on to the later trees, each weighed at its own weight, and so do the rule-less
/// numbers that share a range with one of them (`on`), which costs the tree no test; every
/// other number without a rule gets `default` there. A later group's tree sees only its own
/// syscalls and the numbers that lead on past it: every other number is decided before it,
/// so the ranges it draws may take them in wherever that saves a test ([`member_dispatch`]).
fn deciding_groups(
    ir: &mut Ir,
    sec: Section<'_>,
    mode: X32Mode,
    first: &[SysDecision],
    later: &[&[SysDecision]],
    default: DnId,
) -> DnId {
    // The deciding tree's ranges, with the later groups' numbers given `default` for now: the
    // ranges of `default` that hold one of them are those that lead on.
    let as_default = later.iter().flat_map(|g| g.iter()).map(|s| SysDecision {
        root: default,
        ..*s
    });
    let marked: Vec<SysDecision> = first.iter().copied().chain(as_default).collect();
    // (The other ABI's numbers are told apart from `default`'s even where the two actions
    // are the same: they never lead on, whatever rules they have.)
    let held = Section {
        badarch: OTHER_ABI,
        ..sec
    };
    let mut deciding_ivs = section_intervals(held, mode, &marked, default);
    let mut lower: Vec<u32> = later.iter().flat_map(|g| g.iter().map(|s| s.nr)).collect();
    lower.sort_unstable();
    let mut on = Vec::new();
    for i in &mut deciding_ivs {
        let at = lower.partition_point(|&n| n < i.lo);
        if i.to == default && lower.get(at).is_some_and(|&n| n <= i.hi) {
            on.push((i.lo, i.hi));
            i.to = PENDING;
        }
    }
    let mut onward = Onward::new(on, lower, sec.weight.is_some());
    let mut next = default;
    for group in later.iter().rev() {
        next = member_dispatch(ir, sec, mode, group, &onward, next);
        for s in group.iter() {
            onward.pass(s.nr, syscall_weight(sec.weight, s.nr));
        }
    }
    for i in &mut deciding_ivs {
        if i.to == PENDING {
            i.to = next;
        } else if i.to == OTHER_ABI {
            i.to = sec.badarch;
        }
    }
    dispatch_tree(ir, mode, intervals::merge(deciding_ivs), sec.primary)
}

/// What every dispatch of one section shares: the bad-arch action, the weights (with
/// [`Passes::WEIGHTS`]) and whether it is the filter's native section, whose syscalls are
/// key ranges (`primary`).
#[derive(Clone, Copy)]
struct Section<'a> {
    badarch: DnId,
    weight: Option<&'a ByNumber<f64>>,
    primary: bool,
}

/// Where the deciding tree's ranges lead on to the later groups' trees, until those are
/// built.
const PENDING: DnId = DnId::MAX;
/// The bad-arch action in the deciding tree's ranges, until they are final.
const OTHER_ABI: DnId = DnId::MAX - 1;

/// What a range of numbers without a rule weighs in a section's dispatch.
fn gap_weight(weighted: bool) -> f64 {
    if weighted {
        weights::UNRULED
    } else {
        1.0
    }
}

/// Whether `nr`'s syscall is a key range of its dispatch (see [`intervals::tree`]): in the
/// `primary` section, but for x32's calls beside x86_64's, which are rare: no need to keep
/// them shallow.
fn is_key(mode: X32Mode, primary: bool, nr: u32) -> bool {
    primary && !(mode == X32Mode::Both && nr & X32_BIT != 0 && nr != u32::MAX)
}

/// A syscall's weight in a section's dispatch (1 without weights).
fn syscall_weight(weight: Option<&ByNumber<f64>>, nr: u32) -> f64 {
    weight.map_or(1.0, |m| match m.get(nr) {
        w if w.is_nan() => weights::UNRULED,
        w => w,
    })
}

/// What reaches level 1's later groups' trees ([`priority_groups`]): the numbers of the
/// deciding tree's ranges that lead on (`on`), which are the later groups' syscalls and some
/// numbers without a rule; and, as the trees are built from the last group up, the weights
/// of the syscalls of the groups after the one being built (a Fenwick tree over `lower`, so
/// that each question takes a logarithm's time, however many groups).
struct Onward {
    /// The ranges that lead on, ascending, and how many numbers they hold below each.
    on: Vec<(u32, u32)>,
    on_before: Vec<u64>,
    /// The later groups' numbers that lead on, ascending.
    lower: Vec<u32>,
    /// Over `lower`: the weights and counts of the syscalls already passed.
    passed_w: Vec<f64>,
    passed_n: Vec<u32>,
    /// What a range of numbers without a rule weighs.
    gap_w: f64,
}

impl Onward {
    fn new(on: Vec<(u32, u32)>, mut lower: Vec<u32>, weighted: bool) -> Onward {
        // (A later syscall outside `on`, of the other ABI, never reaches the later trees.)
        lower.retain(|&n| {
            let k = on.partition_point(|&(lo, _)| lo <= n);
            k > 0 && n <= on[k - 1].1
        });
        let mut on_before = Vec::with_capacity(on.len() + 1);
        let mut total = 0;
        on_before.push(total);
        for &(lo, hi) in &on {
            total += u64::from(hi - lo) + 1;
            on_before.push(total);
        }
        let n = lower.len();
        Onward {
            on,
            on_before,
            lower,
            passed_w: vec![0.0; n + 1],
            passed_n: vec![0; n + 1],
            gap_w: gap_weight(weighted),
        }
    }

    /// How many numbers of `on` lie below `x`.
    fn on_below(&self, x: u64) -> u64 {
        let k = self.on.partition_point(|&(lo, _)| u64::from(lo) < x);
        let mut n = self.on_before[k];
        if let Some(&(lo, hi)) = k.checked_sub(1).map(|k| &self.on[k]) {
            let end = u64::from(hi) + 1;
            if end > x {
                n -= end - x.max(u64::from(lo));
            }
        }
        n
    }

    /// The number of `lower` below `x`.
    fn lower_below(&self, x: u64) -> usize {
        self.lower.partition_point(|&n| u64::from(n) < x)
    }

    /// The weight and count of the passed syscalls among the first `k` of `lower`.
    fn passed_below(&self, mut k: usize) -> (f64, u32) {
        let (mut w, mut n) = (0.0, 0);
        while k > 0 {
            w += self.passed_w[k];
            n += self.passed_n[k];
            k &= k - 1;
        }
        (w, n)
    }

    /// Marks `nr`'s syscall as one that leads on past the trees still to be built.
    fn pass(&mut self, nr: u32, w: f64) {
        let Ok(at) = self.lower.binary_search(&nr) else {
            return;
        };
        let mut k = at + 1;
        while k < self.passed_w.len() {
            self.passed_w[k] += w;
            self.passed_n[k] += 1;
            k += k & k.wrapping_neg();
        }
    }

    /// Whether a number in `lo..=hi` leads on past the tree being built, and if so what they
    /// weigh: the passed syscalls among them, and the numbers without a rule (those of `on`
    /// that are no later group's).
    fn must_pass(&self, lo: u64, hi: u64) -> Option<f64> {
        let (below, upto) = (self.lower_below(lo), self.lower_below(hi + 1));
        let (w0, n0) = self.passed_below(below);
        let (w1, n1) = self.passed_below(upto);
        let ruleless = self.on_below(hi + 1) - self.on_below(lo) > (upto - below) as u64;
        match (n1 > n0, ruleless) {
            (false, false) => None,
            (_, r) => Some(w1 - w0 + if r { self.gap_w } else { 0.0 }),
        }
    }
}

/// A later priority group's tree at level 1 ([`priority_groups`]): only its `members` and
/// the numbers that lead on past it (`onward`, to `next`) reach it, so each member's range
/// reaches down to the one below it where no such number lies between, and a group with no
/// onward number among its own needs a test only between members of different decisions
/// (the last group: at most one range per decision).
fn member_dispatch(
    ir: &mut Ir,
    sec: Section<'_>,
    mode: X32Mode,
    members: &[SysDecision],
    onward: &Onward,
    next: DnId,
) -> DnId {
    let mut points: Vec<&SysDecision> = members.iter().collect();
    points.sort_by_key(|s| s.nr);
    let mut out: Vec<Interval> = Vec::with_capacity(2 * points.len() + 1);
    let mut lo: u64 = 0;
    for s in points {
        let nr = u64::from(s.nr);
        let mut start = lo;
        if nr > lo {
            if let Some(w) = onward.must_pass(lo, nr - 1) {
                out.push(Interval {
                    lo: lo as u32,
                    hi: s.nr - 1,
                    to: next,
                    w,
                    key: false,
                });
                start = nr;
            }
        }
        out.push(Interval {
            lo: start as u32,
            hi: s.nr,
            to: s.root,
            w: syscall_weight(sec.weight, s.nr),
            key: is_key(mode, sec.primary, s.nr),
        });
        lo = nr + 1;
    }
    if lo <= u64::from(u32::MAX) {
        match onward.must_pass(lo, u64::from(u32::MAX)) {
            Some(w) => out.push(Interval {
                lo: lo as u32,
                hi: u32::MAX,
                to: next,
                w,
                key: false,
            }),
            None => {
                if let Some(last) = out.last_mut() {
                    last.hi = u32::MAX;
                }
            }
        }
    }
    dispatch_tree(ir, mode, intervals::merge(out), sec.primary)
}

/// A `jeq` chain over `list` (first element tested first), ending in `default`.
fn chain(ir: &mut Ir, word: u32, list: &[SysDecision], default: DnId) -> DnId {
    let mut next = default;
    for s in list.iter().rev() {
        next = ir.test(word, u32::MAX, Op::Eq, s.nr, s.root, next);
    }
    next
}

/// libseccomp's level-2 dispatch: a binary search over `sorted` (ascending numbers) with
/// `jeq` chains of at most four, highest number first.
fn bsearch(ir: &mut Ir, word: u32, sorted: &[SysDecision], default: DnId) -> DnId {
    if sorted.len() <= 4 {
        let desc: Vec<SysDecision> = sorted.iter().rev().copied().collect();
        return chain(ir, word, &desc, default);
    }
    let mid = sorted.len() / 2;
    let upper = bsearch(ir, word, &sorted[mid..], default);
    let lower = bsearch(ir, word, &sorted[..mid], default);
    ir.test(word, u32::MAX, Op::Gt, sorted[mid - 1].nr, upper, lower)
}

/// The x32 bit check around a section's dispatch (libseccomp's: without [`Passes::RANGES`],
/// or in compat mode's level 1 where a section skips the number's load).
fn x32_guard(ir: &mut Ir, word: u32, mode: X32Mode, dispatch: DnId, badarch: DnId) -> DnId {
    match mode {
        X32Mode::None | X32Mode::Both => dispatch,
        X32Mode::X8664Only => {
            let minus1 = ir.test(word, u32::MAX, Op::Eq, u32::MAX, dispatch, badarch);
            ir.test(word, u32::MAX, Op::Ge, X32_BIT, minus1, dispatch)
        }
        X32Mode::X32Only => ir.test(word, u32::MAX, Op::Ge, X32_BIT, dispatch, badarch),
    }
}

/// In a section of x86_64 and x32 together, a dispatch over at most this many ranges is one
/// tree over both ABIs' numbers; over more (a whole section at level 2, the large groups of
/// level 1), x32's numbers get a tree of their own, which the main tree reaches as one range:
/// a search of two shorter runs, but a test more for the calls that pass a small dispatch,
/// such as level 1's groups of argument-checked syscalls of a container profile, grouped by
/// their rule counts (those of Docker's x86_64 filter, its three ABIs, run 17.7 instructions
/// on average at level 1, 18.6 with x32's tree apart in each group).
const SHARED_X32_TREE: usize = 32;

/// The level-2 dispatch as a search tree over ranges of syscall numbers: every 32-bit
/// number falls in exactly one range, whose decision is its syscall's rules, the default
/// action, or the bad-arch action (the other ABI's numbers in an x86_64-only or x32-only
/// section). With `weight` (the [`Passes::WEIGHTS`] pass), the tree is weighted; in the
/// `primary` section, rules are key ranges (see [`intervals::tree`]).
fn range_dispatch(
    ir: &mut Ir,
    sec: Section<'_>,
    mode: X32Mode,
    syscalls: &[SysDecision],
    default: DnId,
) -> DnId {
    let ivs = section_intervals(sec, mode, syscalls, default);
    dispatch_tree(ir, mode, ivs, sec.primary)
}

/// The ranges of [`range_dispatch`], merged.
fn section_intervals(
    sec: Section<'_>,
    mode: X32Mode,
    syscalls: &[SysDecision],
    default: DnId,
) -> Vec<Interval> {
    let Section {
        badarch,
        weight,
        primary,
    } = sec;
    let w = |nr: u32| syscall_weight(weight, nr);
    let gap_w = gap_weight(weight.is_some());
    // The background: what a number without a rule gets, and whether the number belongs to
    // the other ABI (the bad-arch action, whatever the rules say).
    let bg: &[(u32, u32, bool)] = match mode {
        X32Mode::None | X32Mode::Both => &[(0, u32::MAX, false)],
        X32Mode::X8664Only => &[
            (0, X32_BIT - 1, false),
            (X32_BIT, u32::MAX - 1, true),
            (u32::MAX, u32::MAX, false),
        ],
        X32Mode::X32Only => &[(0, X32_BIT - 1, true), (X32_BIT, u32::MAX, false)],
    };
    let mut points: Vec<&SysDecision> = syscalls.iter().collect();
    points.sort_by_key(|s| s.nr);
    // Cut the background around every number with a rule.
    let mut out: Vec<Interval> = Vec::with_capacity(2 * points.len() + 3);
    let mut p = points.iter().peekable();
    for &(glo, ghi, other_abi) in bg {
        let to = if other_abi { badarch } else { default };
        let mut lo = u64::from(glo);
        while let Some(&&s) = p.peek() {
            if s.nr > ghi {
                break;
            }
            p.next();
            if other_abi {
                continue;
            }
            if u64::from(s.nr) > lo {
                out.push(Interval {
                    lo: lo as u32,
                    hi: s.nr - 1,
                    to,
                    w: gap_w,
                    key: false,
                });
            }
            out.push(Interval {
                lo: s.nr,
                hi: s.nr,
                to: s.root,
                w: w(s.nr),
                key: is_key(mode, primary, s.nr),
            });
            lo = u64::from(s.nr) + 1;
        }
        if lo <= u64::from(ghi) {
            out.push(Interval {
                lo: lo as u32,
                hi: ghi,
                to,
                w: gap_w,
                key: false,
            });
        }
    }
    intervals::merge(out)
}

/// The search tree over a section's ranges (`ivs`, merged).
fn dispatch_tree(ir: &mut Ir, mode: X32Mode, ivs: Vec<Interval>, primary: bool) -> DnId {
    let merged = apart_x32(ir, mode, ivs);
    let cost = if primary {
        weights::COST
    } else {
        weights::SECONDARY_COST
    };
    intervals::tree(ir, NR, &merged, cost)
}

/// In a section of x86_64 and x32 together, a dispatch over more than [`SHARED_X32_TREE`]
/// ranges gets a tree of its own for x32's numbers, which the main tree reaches as one range.
fn apart_x32(ir: &mut Ir, mode: X32Mode, mut merged: Vec<Interval>) -> Vec<Interval> {
    if mode == X32Mode::Both && merged.len() > SHARED_X32_TREE {
        // The x32 numbers (all light: see `weights::X32_FACTOR`) get a tree of their own,
        // which the main tree reaches as one range: the same tree as one built over all the
        // ranges would be wherever x32 calls are rare, for a fraction of the work.
        let at = merged.partition_point(|i| i.hi < X32_BIT);
        if let Some(first) = merged.get_mut(at) {
            if first.lo < X32_BIT {
                // A rule-less range across the bit: cut it.
                let mut low = *first;
                low.hi = X32_BIT - 1;
                first.lo = X32_BIT;
                merged.insert(at, low);
            }
        }
        let at = merged.partition_point(|i| i.hi < X32_BIT);
        let x32 = merged.split_off(at);
        if !x32.is_empty() {
            let w = x32.iter().map(|i| i.w).sum();
            let to = intervals::tree(ir, NR, &x32, weights::SECONDARY_COST);
            merged.push(Interval {
                lo: X32_BIT,
                hi: u32::MAX,
                to,
                w,
                key: false,
            });
        }
    }
    merged
}
