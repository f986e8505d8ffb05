//! Whether the existing argument tree of a syscall already gives a new rule's action wherever
//! the rule holds: the check that lets the normal mode drop a forked rule as redundant.
//!
//! libseccomp's prune walk finds a new rule covered when it reaches one of the new rule's
//! leaves through an existing, shorter rule of the same action. Where a range or `!=`
//! comparison forks the new rule (both edges of a node lead on), one way's cover says nothing
//! of the other's (README, deliberate differences, 9), so on a forked rule the normal mode
//! takes the walk's word only when this check agrees ([`super::tree::PruneState::forked`]).
//! It decides from what the rules mean: for every way through the new rule to its action, it
//! evaluates the existing tree on the set of argument vectors that way admits, and the rule is
//! covered only if every evaluation ends in the rule's action.
//!
//! The evaluation is abstract, a [`Region`] for a set of vectors (each argument word an
//! interval and a set of known bits, and the latest comparisons known to hold or fail), and
//! errs only one way: where a test's outcome is not implied, both edges are followed; what
//! falls through a level without a decision goes on to the next sibling as the join of what
//! is known on each edge that fell through (a superset); another action, or an unprovable
//! cover, is no cover. A budget of visited nodes bounds the work; over it, the rule is kept.
//! The merge asks only where the walk found the rule covered, so a rule costs at most one
//! check.

use super::tree::{Cmp, Id, Tree};

/// The most nodes one check visits (over all of the new rule's ways) before it gives up.
const BUDGET: usize = 256;

/// The 32-bit words of the arguments in `seccomp_data` (from byte 16 on).
const WORDS: usize = 12;

/// The index among [`WORDS`] of the word at byte `offset` of `seccomp_data`.
fn word_index(offset: u32) -> usize {
    (offset as usize / 4).wrapping_sub(4)
}

/// Bounds and known bits of one 32-bit word of `seccomp_data`.
#[derive(Debug, Clone, Copy)]
struct Word {
    /// Bounds on the word's value.
    lo: u32,
    hi: u32,
    /// Bits known, and their values (under `known`).
    known: u32,
    bits: u32,
}

impl Word {
    const ANY: Word = Word {
        lo: 0,
        hi: u32::MAX,
        known: 0,
        bits: 0,
    };

    /// Bounds on `word & mask`: from the known bits, and for the whole word from `lo..=hi`.
    fn bounds(&self, mask: u32) -> (u32, u32) {
        let lo = self.bits & self.known & mask;
        let hi = (self.bits | !self.known) & mask;
        if mask == u32::MAX {
            (lo.max(self.lo), hi.min(self.hi))
        } else {
            (lo, hi)
        }
    }
}

/// One comparison of a word: `(word & mask) op datum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Test {
    offset: u32,
    mask: u32,
    op: Cmp,
    datum: u32,
}

impl Test {
    fn of(n: &super::tree::Node) -> Self {
        Test {
            offset: n.offset,
            mask: n.mask,
            op: n.op,
            datum: n.datum,
        }
    }
}

/// How many comparisons known to hold or fail a [`Region`] keeps (the oldest are forgotten,
/// which only makes the region larger).
const FACTS: usize = 8;

/// A set of argument vectors (a superset of those that reach a point of the evaluation):
/// what is known of each word compared so far.
#[derive(Debug, Clone, Copy)]
struct Region {
    words: [Word; WORDS],
    /// Tests known to hold (`true`) or fail, the latest `FACTS` of them (a ring).
    facts: [Option<(Test, bool)>; FACTS],
    next_fact: usize,
    /// No vector is in it.
    empty: bool,
}

impl Region {
    fn new() -> Self {
        Region {
            words: [Word::ANY; WORDS],
            facts: [None; FACTS],
            next_fact: 0,
            empty: false,
        }
    }

    /// The outcome of `t` for every vector of the region, if implied.
    fn decide(&self, t: Test) -> Option<bool> {
        if let Some((_, held)) = self.facts.iter().flatten().find(|&&(f, _)| f == t) {
            return Some(*held);
        }
        let w = self.words.get(word_index(t.offset))?;
        let (mask, datum) = (t.mask, t.datum);
        let (lo, hi) = w.bounds(mask);
        if lo == hi {
            return Some(match t.op {
                Cmp::Eq | Cmp::MaskedEq => lo == datum,
                Cmp::Gt => lo > datum,
                Cmp::Ge => lo >= datum,
            });
        }
        match t.op {
            Cmp::Eq | Cmp::MaskedEq => {
                if datum & !mask != 0
                    || w.known & mask & (w.bits ^ datum) != 0
                    || datum < lo
                    || datum > hi
                {
                    Some(false)
                } else if mask & !w.known == 0 {
                    Some(true)
                } else {
                    None
                }
            }
            Cmp::Gt if lo > datum => Some(true),
            Cmp::Gt if hi <= datum => Some(false),
            Cmp::Ge if lo >= datum => Some(true),
            Cmp::Ge if hi < datum => Some(false),
            Cmp::Gt | Cmp::Ge => None,
        }
    }

    /// Narrows the region to the vectors for which `t` is `held`; `false` where none is left
    /// (as far as is known).
    fn learn(&mut self, t: Test, held: bool) -> bool {
        self.facts[self.next_fact] = Some((t, held));
        self.next_fact = (self.next_fact + 1) % FACTS;
        let Some(w) = self.words.get_mut(word_index(t.offset)) else {
            return !self.empty;
        };
        let (mask, datum) = (t.mask, t.datum);
        let mut empty = false;
        match (t.op, held) {
            (Cmp::Eq | Cmp::MaskedEq, true) => {
                empty = datum & !mask != 0 || w.known & mask & (w.bits ^ datum) != 0;
                w.known |= mask;
                w.bits = (w.bits & !mask) | (datum & mask);
            }
            (Cmp::Eq | Cmp::MaskedEq, false) => {
                let (lo, hi) = w.bounds(mask);
                empty = lo == hi && lo == datum;
                // A whole word unequal to a bound: the bound moves in.
                if mask == u32::MAX && !empty {
                    if datum == w.lo {
                        w.lo += 1;
                    } else if datum == w.hi {
                        w.hi -= 1;
                    }
                }
            }
            _ if mask != u32::MAX => {}
            (Cmp::Gt, true) => match datum.checked_add(1) {
                Some(d) => w.lo = w.lo.max(d),
                None => empty = true,
            },
            (Cmp::Gt, false) => w.hi = w.hi.min(datum),
            (Cmp::Ge, true) => w.lo = w.lo.max(datum),
            (Cmp::Ge, false) => match datum.checked_sub(1) {
                Some(d) => w.hi = w.hi.min(d),
                None => empty = true,
            },
        }
        let (lo, hi) = w.bounds(u32::MAX);
        self.empty |= empty || lo > hi;
        !self.empty
    }

    /// A region holding both (what both know).
    fn join(&self, other: &Region) -> Region {
        if self.empty {
            return *other;
        }
        if other.empty {
            return *self;
        }
        let mut r = Region::new();
        for (w, (a, b)) in r.words.iter_mut().zip(self.words.iter().zip(&other.words)) {
            w.lo = a.lo.min(b.lo);
            w.hi = a.hi.max(b.hi);
            w.known = a.known & b.known & !(a.bits ^ b.bits);
            w.bits = a.bits & w.known;
        }
        for f in self.facts.iter().flatten() {
            if other.facts.contains(&Some(*f)) {
                r.facts[r.next_fact] = Some(*f);
                r.next_fact += 1;
            }
        }
        r.next_fact %= FACTS;
        r
    }
}

/// What evaluating a level on a region came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Every vector of the region gets the action.
    Action,
    /// Some vectors may leave the level without a decision (and none gets another action).
    Through,
    /// Some vector may get another action, or the budget ran out.
    Unknown,
}

struct Check<'t> {
    tree: &'t Tree,
    /// The existing tree's top level.
    chains: Id,
    action: u32,
    visits: usize,
}

impl Check<'_> {
    /// Evaluates the level at `start` on `region`. Where some vectors may leave the level
    /// without a decision (`Through`), `region` is narrowed to (a superset of) them.
    fn level(&mut self, start: Id, region: &mut Region) -> Outcome {
        let mut at = Some(self.tree.level_start(start));
        while let Some(i) = at {
            self.visits += 1;
            if self.visits > BUDGET {
                return Outcome::Unknown;
            }
            let n = &self.tree.nodes[i];
            let test = Test::of(n);
            let decided = region.decide(test);
            if let Some(t) = decided {
                // One edge, on the whole region.
                match self.edge(n.edge(t), region) {
                    Outcome::Action => return Outcome::Action,
                    Outcome::Through => {}
                    Outcome::Unknown => return Outcome::Unknown,
                }
                at = n.lvl_nxt.get();
                continue;
            }
            // The vectors that go on to the next sibling, from either edge.
            let mut through: Option<Region> = None;
            for t in [true, false] {
                let mut r = *region;
                if !r.learn(test, t) {
                    continue;
                }
                match self.edge(n.edge(t), &mut r) {
                    Outcome::Action => {}
                    Outcome::Through => through = Some(through.map_or(r, |o| o.join(&r))),
                    Outcome::Unknown => return Outcome::Unknown,
                }
            }
            match through {
                None => return Outcome::Action,
                Some(r) => *region = r,
            }
            at = n.lvl_nxt.get();
        }
        Outcome::Through
    }

    /// Evaluates an edge (its successor level and action) on `region`, narrowed as
    /// [`Check::level`] does.
    fn edge(&mut self, edge: (Option<Id>, Option<u32>), region: &mut Region) -> Outcome {
        match edge {
            (Some(child), _) => self.level(child, region),
            (None, Some(a)) if a == self.action => Outcome::Action,
            (None, Some(_)) => Outcome::Unknown,
            (None, None) => Outcome::Through,
        }
    }
}

impl Tree {
    /// Whether the tree at `chains` gives `action` to every argument vector for which the
    /// new rule's graph at `new` (this tree's nodes, not linked into it) leads to `action`.
    /// `false` where that is not proved.
    pub(crate) fn covers(&self, chains: Id, new: Id, action: u32) -> bool {
        let mut check = Check {
            tree: self,
            chains,
            action,
            visits: 0,
        };
        self.ways(new, Region::new(), &mut check)
    }

    /// [`Tree::covers`] for the ways through the new rule's node `n`, reached on `region`.
    fn ways(&self, n: Id, region: Region, check: &mut Check<'_>) -> bool {
        let node = &self.nodes[n];
        let test = Test::of(node);
        [true, false].into_iter().all(|t| {
            let (next, act) = node.edge(t);
            let mut r = region;
            if (next.is_none() && act != Some(check.action)) || !r.learn(test, t) {
                return true;
            }
            match next {
                Some(child) => self.ways(child, r, check),
                None => check.level(check.chains, &mut r) == Outcome::Action,
            }
        })
    }
}
