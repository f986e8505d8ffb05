//! Dropping tests that the path to them already decides.
//!
//! Walking the graph from the root, each path collects what its tests proved about each word
//! of `seccomp_data` ([`Fact`]: a range of values, bits known to be set or clear, a few
//! values it is not). A test whose outcome those facts fix is replaced by the successor it
//! would take. Examples: the syscall number inside a dispatch range that a later `jeq` would
//! only confirm; the high word of a 64-bit argument compared again by the next rule after a
//! first comparison decided it; a value compared twice.
//!
//! A node reached with different facts may become different nodes, so the graph is rebuilt
//! per (node, facts that concern the words the node's sub-graph tests); hash-consing merges
//! the copies that turn out the same. The work is bounded: past a budget, or deep in a long
//! chain, the rest is copied as it is, which is always sound. Where the copies make the
//! graph larger than rebuilding each node once with the facts all its paths share (a
//! data-flow pass, which never grows the graph), that rebuild is taken instead, for the
//! whole graph or for each syscall's argument sub-graph ([`run`]).

use crate::ir::hash::FxMap;
use crate::ir::{Dn, DnId, Ir, Op, Program};

/// What a path proved about one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Fact {
    lo: u32,
    hi: u32,
    /// Bits known to be set.
    ones: u32,
    /// Bits known to be clear.
    zeros: u32,
    /// A few values the word is known not to have (sorted, `ne_len` of them).
    ne: [u32; MAX_NE],
    ne_len: u32,
}

const MAX_NE: usize = 8;

impl Default for Fact {
    fn default() -> Self {
        Fact {
            lo: 0,
            hi: u32::MAX,
            ones: 0,
            zeros: 0,
            ne: [0; MAX_NE],
            ne_len: 0,
        }
    }
}

impl Fact {
    fn ne(&self) -> &[u32] {
        &self.ne[..self.ne_len as usize]
    }

    /// Keeps the known-not values in `(lo, hi)`. (The unused slots are zero, for `Eq` and
    /// `Hash`; the list is built whole and stored at once: zeroing the tail in place became a
    /// `memset` call whose stores the next loads of the fact waited on.)
    fn retain_ne(&mut self) {
        let (lo, hi) = (self.lo, self.hi);
        let mut ne = [0; MAX_NE];
        let mut n = 0;
        // (`Fact::ne`: on `&mut self`, `self.ne()` would find `PartialEq::ne`.)
        for &v in Fact::ne(self) {
            if v > lo && v < hi {
                ne[n] = v;
                n += 1;
            }
        }
        self.ne = ne;
        self.ne_len = n as u32;
    }

    /// The outcome of `(w & mask) op k`, if the facts fix it.
    pub(crate) fn decide(&self, mask: u32, op: Op, k: u32) -> Option<bool> {
        if self.lo == self.hi {
            return Some(op.holds(self.lo & mask, k));
        }
        let known = self.ones | self.zeros;
        if mask & !known == 0 {
            return Some(op.holds(self.ones & mask, k));
        }
        if mask != u32::MAX {
            if op == Op::Eq && (self.ones & mask & !k != 0 || self.zeros & mask & k != 0) {
                return Some(false);
            }
            return None;
        }
        match op {
            Op::Eq => {
                if k < self.lo
                    || k > self.hi
                    || self.ne().binary_search(&k).is_ok()
                    || k & self.zeros != 0
                    || self.ones & !k != 0
                {
                    Some(false)
                } else {
                    None
                }
            }
            Op::Gt if self.lo > k => Some(true),
            Op::Gt if self.hi <= k => Some(false),
            Op::Ge if self.lo >= k => Some(true),
            Op::Ge if self.hi < k => Some(false),
            Op::Set if self.ones & k != 0 => Some(true),
            Op::Set if self.zeros & k == k => Some(false),
            _ => None,
        }
    }

    /// The facts after `(w & mask) op k` came out `holds`. Where that would contradict what
    /// is known (an unreachable path), what is known stays as it was.
    pub(crate) fn assume(&self, mask: u32, op: Op, k: u32, holds: bool) -> Fact {
        let mut n = *self;
        match (op, holds) {
            (Op::Eq, true) if mask == u32::MAX => {
                if k < n.lo || k > n.hi || k & n.zeros != 0 || n.ones & !k != 0 {
                    return n;
                }
                n.lo = k;
                n.hi = k;
                n.ones = k;
                n.zeros = !k;
                n.ne = [0; MAX_NE];
                n.ne_len = 0;
            }
            (Op::Eq, false) if mask == u32::MAX => {
                if k == n.lo {
                    n.lo = n.lo.wrapping_add(1);
                } else if k == n.hi {
                    n.hi = n.hi.wrapping_sub(1);
                } else if let Err(at) = n.ne().binary_search(&k) {
                    let len = n.ne_len as usize;
                    if len < MAX_NE {
                        n.ne.copy_within(at..len, at + 1);
                        n.ne[at] = k;
                        n.ne_len += 1;
                    }
                }
            }
            (Op::Eq, true) => {
                n.ones |= k & mask;
                n.zeros |= mask & !k;
            }
            (Op::Eq, false) if mask.is_power_of_two() => {
                if k == mask {
                    n.zeros |= mask;
                } else {
                    n.ones |= mask;
                }
            }
            (Op::Gt, true) if mask == u32::MAX => n.lo = n.lo.max(k.saturating_add(1)),
            (Op::Gt, false) if mask == u32::MAX => n.hi = n.hi.min(k),
            (Op::Ge, true) if mask == u32::MAX => n.lo = n.lo.max(k),
            (Op::Ge, false) if mask == u32::MAX => n.hi = n.hi.min(k.saturating_sub(1)),
            (Op::Set, true) if k.is_power_of_two() => n.ones |= k,
            (Op::Set, false) => n.zeros |= k,
            _ => {}
        }
        n.lo = n.lo.max(n.ones);
        n.hi = n.hi.min(!n.zeros);
        // Known-not values at the ends of the range move the ends.
        while n.lo < n.hi && n.ne().binary_search(&n.lo).is_ok() {
            n.lo += 1;
        }
        while n.lo < n.hi && n.ne().binary_search(&n.hi).is_ok() {
            n.hi -= 1;
        }
        n.retain_ne();
        let consistent = n.lo <= n.hi
            && n.ones & n.zeros == 0
            && (n.lo != n.hi || (n.lo & n.zeros == 0 && n.lo & n.ones == n.ones));
        if !consistent {
            return *self;
        }
        if n.lo == n.hi {
            n.ones = n.lo;
            n.zeros = !n.lo;
        }
        n
    }
}

/// The first offset whose facts are tracked: the syscall number and architecture tests are
/// the dispatch, which lowering builds exact, so facts about them would only cost time.
const FIRST_TRACKED: u32 = 8;

/// The bit of word `off` in a node's set of tested words, if facts on it are tracked.
fn tracked(off: u32) -> u16 {
    if off >= FIRST_TRACKED {
        1 << (off / 4)
    } else {
        0
    }
}

/// A fact on one word: (word index = offset / 4, fact). A call's facts are a run of these
/// sorted by word.
type WordFact = (u8, Fact);

/// Steps allowed beyond the graph's own size before the rest is copied.
const BUDGET: usize = 200_000;
/// Paths deeper than this are copied as they are.
const MAX_DEPTH: usize = 300;

struct Pruner<'a> {
    old: &'a Ir,
    new: Ir,
    /// The words each node's sub-graph tests (bit `off / 4`).
    words: Vec<u16>,
    /// Every set of facts a node has been rebuilt with, numbered ([`NO_FACTS`] is the
    /// empty one): the memo names a set by its number, so a lookup hashes two integers, and
    /// each set is stored once however many nodes it reaches.
    sets: FxMap<Vec<WordFact>, u32>,
    /// Each memoized node's first rebuild: its facts (in `arena`) and the result. Most
    /// memoized nodes are rebuilt once (a test that several others lead to is passed
    /// through from most of them), so their facts are only copied, never hashed.
    first: Vec<First>,
    arena: Vec<WordFact>,
    /// The later rebuilds, by node and number of the set of facts.
    memo: FxMap<(DnId, u32), DnId>,
    /// How many times the walk can reach each node (1, or 2 for more; see [`reaches`]): a
    /// node reached once at most is rebuilt once at most, so it is neither looked up in the
    /// memo nor kept there (nor its facts numbered).
    reaches: Vec<u8>,
    /// The facts of the calls in progress, each call's on top of its caller's: the
    /// successors' facts are built here, so a call allocates nothing.
    stack: Vec<WordFact>,
    /// How many different facts each node has been rebuilt with.
    variants: Vec<u32>,
    /// Each node's copy (as it is) in the new graph, or [`NOT_COPIED`].
    copied: Vec<DnId>,
    budget: usize,
    /// Whether some node was rebuilt with a second set of facts (a copy of it may differ).
    forked: bool,
    /// The graph rebuilt once with shared facts ([`run_joined`]), where each argument
    /// sub-graph is to be taken from it when that is smaller ([`Pruner::argument_root`]).
    joined: Option<&'a Joined>,
    /// Each node of `joined`'s graph copied into the new one, or [`NOT_COPIED`] (as
    /// `copied` for the graph being rebuilt).
    imported: Vec<DnId>,
    /// The sub-graph taken for each argument root, by node.
    roots: FxMap<DnId, DnId>,
}

/// A node's first rebuild: the facts `arena[at..at + len]` gave `out` ([`NOT_COPIED`]: not
/// rebuilt yet, or being rebuilt).
#[derive(Clone, Copy)]
struct First {
    at: u32,
    len: u32,
    out: DnId,
}

/// The number of the empty set of facts in [`Pruner::sets`].
const NO_FACTS: u32 = 0;

/// A node rebuilt with this many different facts is rebuilt with no facts from then on: a
/// chain of rules on the same words reaches each test with facts from every way the tests
/// before it can fail, which would make the work grow with the chain's length times the
/// number of ways, and the rebuilt copies rarely differ.
const MAX_VARIANTS: u32 = 8;

/// [`Pruner::copied`] of a node not copied yet.
const NOT_COPIED: DnId = DnId::MAX;

/// Rebuilds the program without the tests its paths decide: each node for each set of facts
/// it is reached with ([`specialize`]); where that copied a node, also each node once with
/// the facts all its paths share ([`run_joined`]), and once more with copies but each
/// syscall's argument sub-graph taken from the second rebuild where that one is smaller.
/// The smallest of the three graphs is kept (on a tie, the one with more copies: each path
/// keeps what its copy dropped), and rebuilt so again while that shrinks it (a sub-graph
/// taken whole from the second rebuild can leave tests that copies then drop).
///
/// A copy that drops one test deep in a sub-graph that two paths share copies the rest of
/// it too: on random rules of several actions over several arguments (`bench-c`'s `record`,
/// seed 130, shape `ranges`), the copies made 119 of 434 level-2 programs longer than
/// libseccomp's, by up to 1.6 times (1 with this choice). Where the copies collapse (a chain
/// of rules on one word, each copy the tail its path leaves: the shared policies' programs),
/// they are kept.
pub(crate) fn run(p: &Program) -> Program {
    let (mut best, mut size) = once(p);
    for _ in 0..MAX_ROUNDS {
        // (Nothing copied: another round rebuilds it as it is.)
        let Some(s) = size else { break };
        let (next, next_size) = once(&best);
        if next_size.unwrap_or_else(|| next.size()) >= s {
            break;
        }
        (best, size) = (next, next_size);
    }
    best
}

/// How many more rounds [`run`] makes at most. On the recorder's seed 130 (3,896 programs), a
/// second round took 369 instructions off them, two more 165, further ones nothing.
const MAX_ROUNDS: usize = 3;

/// One round of [`run`]: the program, and its size where a node was copied (so that another
/// round may shrink it).
fn once(p: &Program) -> (Program, Option<usize>) {
    let (copies, forked) = specialize(p, None);
    if !forked {
        // (Each node rebuilt once, with its one path's facts: at least what the shared
        // facts drop.)
        return (copies, None);
    }
    let joined = run_joined(p);
    let (mixed, _) = specialize(p, Some(&joined));
    // (The first of the smallest: the copies on a tie.)
    let (best, size) = [copies, mixed, joined.program]
        .into_iter()
        .map(|q| {
            let size = q.size();
            (q, size)
        })
        .min_by_key(|&(_, size)| size)
        .expect("three graphs");
    (best, Some(size))
}

/// [`run`] with a copy of a node for each set of facts it is reached with (up to
/// [`MAX_VARIANTS`]): (program, whether some node was reached with a second set). With
/// `joined`, each argument root's sub-graph is the smaller of its rebuild and `joined`'s.
fn specialize(p: &Program, joined: Option<&Joined>) -> (Program, bool) {
    let order = p.ir.postorder(p.root);
    let mut words = vec![0u16; p.ir.len()];
    for &d in &order {
        words[d] = match p.ir.node(d) {
            Dn::Ret(_) => 0,
            Dn::Test { off, t, f, .. } => tracked(off) | words[t] | words[f],
        };
    }
    let reaches = reaches(&p.ir, p.root, &order);
    let mut sets = FxMap::default();
    sets.insert(Vec::new(), NO_FACTS);
    let mut pr = Pruner {
        old: &p.ir,
        new: Ir::with_capacity(order.len()),
        words,
        sets,
        first: vec![
            First {
                at: 0,
                len: 0,
                out: NOT_COPIED,
            };
            p.ir.len()
        ],
        arena: Vec::new(),
        memo: FxMap::default(),
        reaches,
        stack: Vec::new(),
        variants: vec![0; p.ir.len()],
        copied: vec![NOT_COPIED; p.ir.len()],
        budget: BUDGET + 8 * order.len(),
        forked: false,
        joined,
        imported: vec![NOT_COPIED; joined.map_or(0, |j| j.program.ir.len())],
        roots: FxMap::default(),
    };
    let root = pr.go(p.root, 0, 0);
    (Program { ir: pr.new, root }, pr.forked)
}

/// How many times [`Pruner::go`] can reach each node of the graph whose postorder from
/// `root` is `order` (1, or 2 for more).
///
/// A node is reached once for each time one of its parents is *left* towards it. A parent
/// is left as often as paths from the root reach it, but at most once when every such path
/// tests only words whose facts are not tracked (the dispatch on the architecture and the
/// number): it is then always reached with no facts, so it is rebuilt once and every later
/// reach finds it in the memo. Counting root paths alone would make every node below a
/// join of the dispatch (the x32 check, which both halves of the number's first test reach)
/// a node of many paths, memoized for nothing.
fn reaches(ir: &Ir, root: DnId, order: &[DnId]) -> Vec<u8> {
    // Per node: the count (1, or 2 for more) and whether some path from the root to it tests
    // a tracked word (its own test aside), in one byte.
    const COUNT: u8 = 3;
    const TRACKED: u8 = 4;
    let mut reaches = vec![0u8; ir.len()];
    reaches[root] = 1;
    // (Parents before children.)
    for &d in order.iter().rev() {
        if let Dn::Test {
            off,
            mask,
            op,
            k,
            t,
            f,
        } = ir.node(d)
        {
            // (No facts decide only a test that does not depend on its word, and `Ir::test`
            // folds those: a clean test, reached with no facts, is walked, never passed
            // through.)
            debug_assert!(Fact::default().decide(mask, op, k).is_none());
            let r = reaches[d];
            let (left, below) = match r & TRACKED {
                0 if tracked(off) == 0 => (1, 0),
                0 => (1, TRACKED),
                _ => (r & COUNT, TRACKED),
            };
            for c in [t, f] {
                let n = reaches[c];
                reaches[c] = ((n & COUNT) + left).min(2) | (n & TRACKED) | below;
            }
        }
    }
    for r in &mut reaches {
        *r &= COUNT;
    }
    reaches
}

impl Pruner<'_> {
    /// [`Pruner::rebuild`], or, for an argument root where there is a joined rebuild to
    /// choose from, [`Pruner::argument_root`]. `depth`: the tests of tracked words above.
    fn go(&mut self, d: DnId, start: usize, depth: usize) -> DnId {
        // (No test of a tracked word above: only the dispatch, which leaves no facts.)
        if depth == 0 && self.joined.is_some() {
            if let Dn::Test { off, .. } = self.old.node(d) {
                if off >= FIRST_TRACKED {
                    return self.argument_root(d, start);
                }
            }
        }
        self.rebuild(d, start, depth)
    }

    /// An argument root `d` (a test of an argument word that the dispatch leads to): the
    /// smaller of its rebuild with copies and its sub-graph in the joined rebuild, which
    /// holds wherever `d` is reached (its facts hold on every path to each of its nodes).
    fn argument_root(&mut self, d: DnId, start: usize) -> DnId {
        if let Some(&n) = self.roots.get(&d) {
            self.stack.truncate(start);
            return n;
        }
        let copies = self.rebuild(d, start, 0);
        let joined = self.joined.expect("a joined rebuild");
        let shared = copy_into(
            &joined.program.ir,
            joined.map[d],
            &mut self.imported,
            &mut self.new,
        );
        let size = |root| self.new.postorder(root).len();
        let pick = if size(shared) < size(copies) {
            shared
        } else {
            copies
        };
        self.roots.insert(d, pick);
        pick
    }

    /// Rebuilds `d` with the facts `self.stack[start..]`, and leaves the stack at `start`.
    fn rebuild(&mut self, mut d: DnId, start: usize, depth: usize) -> DnId {
        // The memo keys this call fills in: the node with its facts, and, past
        // MAX_VARIANTS, with none (two at most).
        let mut keys = [(0, NO_FACTS); 2];
        let mut n_keys = 0;
        // The node whose first rebuild this is, if it is memoized.
        let mut first = None;
        let out = loop {
            let Dn::Test {
                off,
                mask,
                op,
                k,
                t,
                f,
            } = self.old.node(d)
            else {
                break self.copy(d);
            };
            // A test the facts decide is passed through at once: a long chain on one word
            // is walked this way from every path that pinned the word.
            if off >= FIRST_TRACKED {
                let w = (off / 4) as u8;
                let facts = &self.stack[start..];
                let fact = match facts.binary_search_by_key(&w, |(x, _)| *x) {
                    Ok(i) => facts[i].1,
                    Err(_) => Fact::default(),
                };
                if let Some(b) = fact.decide(mask, op, k) {
                    d = if b { t } else { f };
                    continue;
                }
            }
            // Only the facts on words the sub-graph tests.
            let rel = self.words[d];
            let mut kept = start;
            for i in start..self.stack.len() {
                if rel & (1 << self.stack[i].0) != 0 {
                    self.stack[kept] = self.stack[i];
                    kept += 1;
                }
            }
            self.stack.truncate(kept);
            if self.reaches[d] > 1 {
                let seen = self.first[d];
                if seen.out == NOT_COPIED {
                    // Nothing is kept for `d` yet: its facts go beside its first result.
                    if start < self.stack.len() {
                        self.variants[d] += 1;
                    }
                    let at = self.arena.len();
                    self.arena.extend_from_slice(&self.stack[start..]);
                    self.first[d].at = at as u32;
                    self.first[d].len = (self.arena.len() - at) as u32;
                    first = Some(d);
                } else if self.arena[seen.at as usize..][..seen.len as usize] == self.stack[start..]
                {
                    break seen.out;
                } else if let Some(n) = self.later(d, start, &mut keys, &mut n_keys) {
                    break n;
                }
            }
            if self.budget == 0 || depth > MAX_DEPTH {
                break self.copy(d);
            }
            self.budget -= 1;
            // Each successor's facts: a copy of these on top of the stack (with the tested
            // word's fact updated, or inserted where no test on it was known).
            let top = self.stack.len();
            if off < FIRST_TRACKED {
                self.stack.extend_from_within(start..top);
                let nt = self.go(t, top, depth);
                self.stack.extend_from_within(start..top);
                let nf = self.go(f, top, depth);
                break self.new.test(off, mask, op, k, nt, nf);
            }
            let w = (off / 4) as u8;
            let at = self.stack[start..top].binary_search_by_key(&w, |(x, _)| *x);
            let fact = match at {
                Ok(i) => self.stack[start + i].1,
                Err(_) => Fact::default(),
            };
            // (Undecided: see the pass-through above.)
            let mut next = [NOT_COPIED; 2];
            for (holds, to) in [(true, t), (false, f)] {
                self.stack.extend_from_within(start..top);
                let nf = fact.assume(mask, op, k, holds);
                match at {
                    Ok(i) => self.stack[top + i].1 = nf,
                    Err(i) => self.stack.insert(top + i, (w, nf)),
                }
                next[usize::from(!holds)] = self.go(to, top, depth + 1);
            }
            break self.new.test(off, mask, op, k, next[0], next[1]);
        };
        if let Some(x) = first {
            self.first[x].out = out;
        }
        for &key in &keys[..n_keys] {
            self.memo.insert(key, out);
        }
        self.stack.truncate(start);
        out
    }

    /// A later rebuild of the memoized node `d` (its first is done) with the facts
    /// `self.stack[start..]`: what the memo holds for them, if anything. The keys to fill in
    /// with the result go to `keys`; past [`MAX_VARIANTS`], the facts are dropped from the
    /// stack and `d` is rebuilt with none.
    fn later(
        &mut self,
        d: DnId,
        start: usize,
        keys: &mut [(DnId, u32); 2],
        n_keys: &mut usize,
    ) -> Option<DnId> {
        let set = self.set_number(start);
        let mut key = (d, set);
        if let Some(&n) = self.memo.get(&key) {
            return Some(n);
        }
        if set != NO_FACTS {
            self.variants[d] += 1;
            if self.variants[d] > MAX_VARIANTS {
                // Rebuilt with no facts (once, then memoized).
                keys[*n_keys] = key;
                *n_keys += 1;
                key = (d, NO_FACTS);
                self.stack.truncate(start);
                let seen = self.first[d];
                if seen.len == 0 {
                    return Some(seen.out);
                }
                if let Some(&n) = self.memo.get(&key) {
                    return Some(n);
                }
            }
        }
        keys[*n_keys] = key;
        *n_keys += 1;
        self.forked = true;
        None
    }

    /// The number of the set of facts `self.stack[start..]`, numbering it if it is new.
    fn set_number(&mut self, start: usize) -> u32 {
        let facts = &self.stack[start..];
        if let Some(&n) = self.sets.get(facts) {
            return n;
        }
        let n = self.sets.len() as u32;
        self.sets.insert(facts.to_vec(), n);
        n
    }

    /// `d`'s sub-graph copied as it is.
    fn copy(&mut self, d: DnId) -> DnId {
        copy_into(self.old, d, &mut self.copied, &mut self.new)
    }
}

/// Node `d` of `from` and its sub-graph, copied into `to` as they are; `copied` holds each
/// node's copy ([`NOT_COPIED`] before it is made).
fn copy_into(from: &Ir, d: DnId, copied: &mut [DnId], to: &mut Ir) -> DnId {
    let mut stack = vec![(d, false)];
    while let Some((x, expanded)) = stack.pop() {
        if copied[x] != NOT_COPIED {
            continue;
        }
        match (from.succ(x), expanded) {
            (Some((t, f)), false) => {
                stack.push((x, true));
                stack.push((f, false));
                stack.push((t, false));
            }
            _ => copied[x] = to.add(from.node(x).map_succ(|c| copied[c])),
        }
    }
    copied[d]
}

/// The facts that hold on both of two paths: per word known on both, the hull of the two
/// ranges, the bits known alike, the known-not values both have.
fn join_fact(a: &Fact, b: &Fact) -> Fact {
    let mut n = Fact {
        lo: a.lo.min(b.lo),
        hi: a.hi.max(b.hi),
        ones: a.ones & b.ones,
        zeros: a.zeros & b.zeros,
        ..Fact::default()
    };
    let mut len = 0;
    for &v in a.ne() {
        if v > n.lo && v < n.hi && b.ne().binary_search(&v).is_ok() {
            n.ne[len] = v;
            len += 1;
        }
    }
    n.ne_len = len as u32;
    n
}

/// `into` (the facts of every path to a node seen so far; words sorted) joined with `from`.
fn join_facts(into: &mut Vec<WordFact>, from: &[WordFact]) {
    into.retain_mut(|(w, f)| match from.binary_search_by_key(w, |(x, _)| *x) {
        Ok(i) => {
            *f = join_fact(f, &from[i].1);
            *f != Fact::default()
        }
        Err(_) => false,
    });
}

/// [`run`] without copies: each node is rebuilt once, with the facts that hold on every path
/// to it (a data-flow pass: parents before children, each path's facts joined where paths
/// meet), so the program never grows; a test decided on only some paths stays.
fn run_joined(p: &Program) -> Joined {
    let order = p.ir.postorder(p.root);
    let mut facts: Vec<Option<Vec<WordFact>>> = vec![None; p.ir.len()];
    facts[p.root] = Some(Vec::new());
    // Whether each node is reached, and each reached test decided by its facts: Some(outcome).
    let mut reached = vec![false; p.ir.len()];
    let mut decided: Vec<Option<bool>> = vec![None; p.ir.len()];
    let reach = |facts: &mut Vec<Option<Vec<WordFact>>>, c: DnId, from: Vec<WordFact>| {
        match &mut facts[c] {
            Some(into) => join_facts(into, &from),
            slot @ None => *slot = Some(from),
        }
    };
    // (Parents before children.)
    for &d in order.iter().rev() {
        // (Its facts are final: every parent came first.)
        let Some(here) = facts[d].take() else {
            continue;
        };
        reached[d] = true;
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
        if off < FIRST_TRACKED {
            reach(&mut facts, t, here.clone());
            reach(&mut facts, f, here);
            continue;
        }
        let w = (off / 4) as u8;
        let at = here.binary_search_by_key(&w, |(x, _)| *x);
        let fact = at.map_or(Fact::default(), |i| here[i].1);
        if let Some(b) = fact.decide(mask, op, k) {
            decided[d] = Some(b);
            reach(&mut facts, if b { t } else { f }, here);
            continue;
        }
        for (holds, to) in [(true, t), (false, f)] {
            let nf = fact.assume(mask, op, k, holds);
            let mut next = here.clone();
            match at {
                Ok(i) => next[i].1 = nf,
                Err(i) => next.insert(i, (w, nf)),
            }
            reach(&mut facts, to, next);
        }
    }
    let mut new = Ir::with_capacity(order.len());
    let mut map = vec![NOT_COPIED; p.ir.len()];
    for &d in &order {
        if !reached[d] {
            continue;
        }
        map[d] = match p.ir.node(d) {
            Dn::Ret(k) => new.ret(k),
            Dn::Test {
                off,
                mask,
                op,
                k,
                t,
                f,
            } => match decided[d] {
                Some(true) => map[t],
                Some(false) => map[f],
                None => new.test(off, mask, op, k, map[t], map[f]),
            },
        };
    }
    Joined {
        program: Program {
            ir: new,
            root: map[p.root],
        },
        map,
    }
}

/// [`run_joined`]'s graph, and where each node of the graph it rebuilt went in it (for each
/// node reached; [`NOT_COPIED`] for the others).
struct Joined {
    program: Program,
    map: Vec<DnId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_decide_what_they_can() {
        let f = Fact::default();
        let a = f.assume(u32::MAX, Op::Ge, 10, true);
        assert_eq!(a.decide(u32::MAX, Op::Gt, 9), Some(true));
        assert_eq!(a.decide(u32::MAX, Op::Eq, 3), Some(false));
        assert_eq!(a.decide(u32::MAX, Op::Eq, 30), None);
        let b = a.assume(u32::MAX, Op::Gt, 10, false);
        assert_eq!(b.decide(u32::MAX, Op::Eq, 10), Some(true));
        let c = f.assume(0xff, Op::Eq, 0x12, true);
        assert_eq!(c.decide(0xf0, Op::Eq, 0x10), Some(true));
        assert_eq!(c.decide(0x0f, Op::Eq, 0x3), Some(false));
        let d = f.assume(u32::MAX, Op::Set, 0x8, false);
        assert_eq!(d.decide(0x8, Op::Eq, 0), Some(true));
        let e = f.assume(u32::MAX, Op::Eq, 5, false);
        assert_eq!(e.decide(u32::MAX, Op::Eq, 5), Some(false));
        // A contradiction keeps what was known.
        assert_eq!(b.assume(u32::MAX, Op::Eq, 11, true), b);
    }

    #[test]
    fn a_repeated_comparison_goes() {
        let mut ir = Ir::default();
        let a = ir.ret(1);
        let b = ir.ret(2);
        // hi == 0 ? (lo == 7 ? a : (hi == 0 ? (lo == 9 ? a : b) : b)) : b
        let inner = ir.test(20, u32::MAX, Op::Eq, 9, a, b);
        let hi2 = ir.test(24, u32::MAX, Op::Eq, 0, inner, b);
        let lo1 = ir.test(20, u32::MAX, Op::Eq, 7, a, hi2);
        let root = ir.test(24, u32::MAX, Op::Eq, 0, lo1, b);
        let p = run(&Program { ir, root });
        assert_eq!(p.size(), 5);
    }

    #[test]
    fn a_join_of_the_dispatch_is_left_once() {
        let mut ir = Ir::default();
        let allow = ir.ret(1);
        let deny = ir.ret(2);
        // Below the join `nr == 3` (both `nr >= 8` and `nr == 1` lead to it): an argument
        // chain whose last test two others lead to.
        let last = ir.test(20, u32::MAX, Op::Eq, 9, allow, deny);
        let other = ir.test(24, u32::MAX, Op::Eq, 0, last, deny);
        let first = ir.test(16, u32::MAX, Op::Eq, 7, last, other);
        let join = ir.test(0, u32::MAX, Op::Eq, 3, first, deny);
        let mid = ir.test(0, u32::MAX, Op::Eq, 1, deny, join);
        let root = ir.test(0, u32::MAX, Op::Ge, 8, join, mid);
        let r = reaches(&ir, root, &ir.postorder(root));
        assert_eq!((r[root], r[mid], r[join]), (1, 1, 2));
        // The join is rebuilt once (then found in the memo), so the chain's first test is
        // reached once, as is `other`; the last test, twice.
        assert_eq!((r[first], r[other], r[last]), (1, 1, 2));
    }

    /// The decision the program takes for words 16 and 20 = `v16`, `v20`.
    fn eval(p: &Program, v16: u32, v20: u32) -> DnId {
        let mut d = p.root;
        loop {
            match p.ir.node(d) {
                Dn::Ret(k) => return k as DnId,
                Dn::Test {
                    off,
                    mask,
                    op,
                    k,
                    t,
                    f,
                } => {
                    let w = if off == 16 { v16 } else { v20 };
                    d = if op.holds(w & mask, k) { t } else { f };
                }
            }
        }
    }

    #[test]
    fn a_node_reached_with_many_fact_sets_keeps_every_verdict() {
        // Level i: `w16 > 40 + i` leads to `w20 == i ? X : level i + 1`, so X (`w16 == 60`)
        // is reached with 12 different lower bounds on w16: more than MAX_VARIANTS.
        let mut ir = Ir::default();
        let allow = ir.ret(1);
        let deny = ir.ret(2);
        let x = ir.test(16, u32::MAX, Op::Eq, 60, allow, deny);
        let mut next = deny;
        for i in (0..12).rev() {
            let mid = ir.test(20, u32::MAX, Op::Eq, i, x, next);
            next = ir.test(16, u32::MAX, Op::Gt, 40 + i, mid, deny);
        }
        // Reached first with no facts on w16 (w20 == 99 leads there first), then from each
        // level.
        let first = ir.test(20, u32::MAX, Op::Eq, 99, x, next);
        let mut p = Program { ir, root: next };
        keeps_every_verdict(&p);
        p.root = first;
        keeps_every_verdict(&p);
    }

    #[test]
    fn a_join_keeps_what_both_paths_know() {
        let f = Fact::default();
        let a = f
            .assume(u32::MAX, Op::Ge, 10, true)
            .assume(u32::MAX, Op::Gt, 20, false)
            .assume(u32::MAX, Op::Eq, 15, false);
        let b = f
            .assume(u32::MAX, Op::Ge, 12, true)
            .assume(u32::MAX, Op::Gt, 30, false)
            .assume(u32::MAX, Op::Eq, 15, false)
            .assume(u32::MAX, Op::Eq, 16, false);
        let j = join_fact(&a, &b);
        assert_eq!((j.lo, j.hi, j.ne()), (10, 30, &[15][..]));
        assert_eq!(j.decide(u32::MAX, Op::Ge, 10), Some(true));
        assert_eq!(j.decide(u32::MAX, Op::Eq, 15), Some(false));
        assert_eq!(j.decide(u32::MAX, Op::Eq, 16), None);
        // Bits: only those known alike.
        let x = f.assume(0xf0, Op::Eq, 0x30, true);
        let y = f.assume(0xf0, Op::Eq, 0x10, true);
        let j = join_fact(&x, &y);
        assert_eq!(j.decide(0x10, Op::Eq, 0x10), Some(true));
        assert_eq!(j.decide(0x20, Op::Eq, 0x20), None);
        // A word one path knows nothing of is unknown after the join.
        let mut into = vec![(4, a)];
        join_facts(&mut into, &[(5, b)]);
        assert!(into.is_empty());
    }

    /// Two paths reach a chain of tests on w16 that ends with a test on w20, which each path
    /// decides the other way: a copy for each would copy the chain to drop one test.
    fn shared_chain(links: u32) -> Program {
        let mut ir = Ir::default();
        let (a, b, c) = (ir.ret(1), ir.ret(2), ir.ret(3));
        let mut rest = ir.test(20, u32::MAX, Op::Gt, 5, b, c);
        for v in 0..links {
            rest = ir.test(16, u32::MAX, Op::Eq, 100 + v, a, rest);
        }
        let other = ir.test(16, u32::MAX, Op::Eq, 1, a, rest);
        let root = ir.test(20, u32::MAX, Op::Gt, 5, rest, other);
        Program { ir, root }
    }

    #[test]
    fn a_shared_sub_graph_is_not_copied_to_drop_one_test() {
        let p = shared_chain(5);
        // chain + its last test + two more tests + three returns.
        assert_eq!(p.size(), 5 + 1 + 2 + 3);
        let (copies, forked) = specialize(&p, None);
        assert!(forked);
        assert_eq!(copies.size(), 2 * 5 + 2 + 3);
        assert_eq!(run(&p).size(), p.size());
        keeps_every_verdict(&p);
        // One link: the copies take no more nodes than the chain and its last test, and
        // each path runs a test fewer: they stay.
        let p = shared_chain(1);
        let (copies, _) = specialize(&p, None);
        assert_eq!(copies.size(), p.size());
        assert_eq!(run(&p).ir.len(), copies.ir.len());
        keeps_every_verdict(&p);
    }

    /// Two syscalls under the dispatch: in the first, `w16 == 5` is reached knowing
    /// `w16 <= 3` or `7 <= w16 <= 9`, each of which decides it (copies drop it; what both
    /// paths know, `w16 <= 9`, does not); the second is [`shared_chain`], whose copies grow.
    /// Each takes its smaller rebuild.
    #[test]
    fn each_argument_sub_graph_takes_the_smaller_rebuild() {
        let mut ir = Ir::default();
        let (a, b, c, d) = (ir.ret(1), ir.ret(2), ir.ret(3), ir.ret(4));
        let x = ir.test(16, u32::MAX, Op::Eq, 5, a, b);
        let le9 = ir.test(16, u32::MAX, Op::Gt, 9, c, x);
        let gt6 = ir.test(16, u32::MAX, Op::Gt, 6, le9, d);
        let first = ir.test(16, u32::MAX, Op::Gt, 3, gt6, x);
        let mut rest = ir.test(20, u32::MAX, Op::Gt, 5, b, c);
        for v in 0..5 {
            rest = ir.test(16, u32::MAX, Op::Eq, 100 + v, a, rest);
        }
        let other = ir.test(16, u32::MAX, Op::Eq, 1, a, rest);
        let second = ir.test(20, u32::MAX, Op::Gt, 5, rest, other);
        let root = ir.test(0, u32::MAX, Op::Eq, 1, first, second);
        let p = Program { ir, root };
        let (copies, forked) = specialize(&p, None);
        let joined = run_joined(&p).program;
        assert!(forked);
        // Tests: the dispatch, then 3 + 12 with copies, 4 + 8 joined, 3 + 8 each the smaller.
        let tests = |q: &Program| q.size() - 4;
        assert_eq!((tests(&copies), tests(&joined)), (1 + 3 + 12, 1 + 4 + 8));
        assert_eq!(tests(&run(&p)), 1 + 3 + 8);
        // (w0 reads as w20 in `eval`, alike before and after.)
        keeps_every_verdict(&p);
    }

    /// The joined rebuild keeps every verdict and never grows, on random graphs over two
    /// words (tests of every kind, constants from a small pool so that paths decide some).
    #[test]
    fn the_joined_rebuild_keeps_every_verdict() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let pool = [0, 1, 5, 11, 12, 13, 60, 99];
        for _ in 0..300 {
            let mut ir = Ir::default();
            let mut nodes = vec![ir.ret(1), ir.ret(2), ir.ret(3)];
            for _ in 0..(4 + next(20)) {
                let off = if next(2) == 0 { 16 } else { 20 };
                let (mask, op) = match next(4) {
                    0 => (u32::MAX, Op::Eq),
                    1 => (u32::MAX, Op::Gt),
                    2 => (u32::MAX, Op::Ge),
                    _ => (1 << next(4), Op::Set),
                };
                let k = pool[next(pool.len() as u64) as usize];
                let t = nodes[next(nodes.len() as u64) as usize];
                let f = nodes[next(nodes.len() as u64) as usize];
                nodes.push(ir.test(off, mask, op, k, t, f));
            }
            let root = *nodes.last().unwrap();
            let before = Program { ir, root };
            let joined = run_joined(&before).program;
            for v16 in 0..80 {
                for v20 in [0, 1, 5, 11, 12, 13, 99] {
                    assert_eq!(eval(&before, v16, v20), eval(&joined, v16, v20));
                }
            }
            assert!(joined.size() <= before.size());
            keeps_every_verdict(&before);
        }
    }

    fn keeps_every_verdict(before: &Program) {
        let after = run(before);
        for v16 in 0..80 {
            for v20 in [0, 1, 5, 11, 12, 13, 99] {
                assert_eq!(
                    eval(before, v16, v20),
                    eval(&after, v16, v20),
                    "w16 {v16} w20 {v20}"
                );
            }
        }
        assert!(after.size() <= before.size());
    }
}
