//! The argument-comparison graph of one syscall, with libseccomp's merge semantics.
//!
//! A syscall's conditions form "levels": a level is an ordered list of sibling nodes that are
//! alternatives; each node compares one 32-bit word of one argument. Its true and false edges
//! lead either to another level (the next argument of the same rule), to an action, or to
//! nothing, in which case evaluation continues with the next sibling; falling off the end of a
//! level continues after the node that led to it, and at the top with the default action.
//!
//! Rules are merged into the graph the way libseccomp 2.5 merges them (sorted siblings, shared
//! nodes with reference counts, pruning of sub-trees made redundant by a shorter rule, `EEXIST`
//! for conflicting leaves), because the verdicts of its filters depend on those details. The
//! graph lives in an arena; node ids are indexes into it.
//!
//! Four accelerations leave every result exactly as the plain algorithm's:
//!
//! * a long level gets a [`LevelIndex`], its nodes sorted by the sibling order, so that
//!   inserting a node and the prune walk find the siblings that matter without visiting the
//!   others (those the walk would pass over without effect);
//! * the prune walk goes over a level once for all its siblings greater than the new node
//!   (in the sibling order), where libseccomp goes over it again for each of them: the same
//!   walk, with the same effect while nothing changed, but exponential in the new rule's
//!   depth (2 s in libseccomp for 435 masked-bit rules on one syscall);
//! * a branch that a shorter rule makes redundant is removed by a search of the levels from
//!   which it can be reached, where libseccomp searches the whole tree for it
//!   ([`Tree::tree_remove`]: 6,000 removals from a tree of 14,000 nodes in a fuzzed minijail
//!   policy);
//! * while a rule is added, the tree logs what it changes ([`Tree::begin`]) so that a failed
//!   add is undone in time proportional to its changes ([`Tree::rollback`]), not to the tree.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Bound::{Excluded, Included, Unbounded};
use std::ops::RangeBounds;

/// Index of a node in its [`Tree`] arena.
pub(crate) type Id = usize;

/// A link to a node ([`Node`]'s successor levels and level neighbours): an `Option<Id>` in
/// four bytes (a node is 80 bytes instead of 128; a tree of a few thousand rules' nodes is
/// allocated, grown and logged for undo in every build).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Link(Option<std::num::NonZeroU32>);

impl Link {
    pub(crate) const NONE: Link = Link(None);

    /// The node linked to.
    #[inline]
    pub(crate) fn get(self) -> Option<Id> {
        self.0.map(|n| n.get() as usize - 1)
    }
}

impl From<Option<Id>> for Link {
    #[inline]
    fn from(id: Option<Id>) -> Self {
        // Ids count nodes in memory: far fewer than 2^32 - 1 of 80 bytes each.
        Link(id.map(|i| {
            u32::try_from(i + 1)
                .ok()
                .and_then(std::num::NonZeroU32::new)
                .expect("a tree of fewer than 2^32 - 1 nodes")
        }))
    }
}

/// `Node::slot` of a node whose level has no index.
const NO_SLOT: u32 = u32::MAX;

/// A level walk this long gets the level an index.
const INDEX_AFTER: usize = 16;

#[cfg(test)]
thread_local! {
    /// Tests compare the accelerated trees with the plain algorithm's (no level index, every
    /// walk of the prune repeated as libseccomp repeats it).
    pub(crate) static PLAIN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Counts the prune walk's calls (one per level walked).
    pub(crate) static WALKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Counts the removals of [`Tree::tree_remove`] outside the plain algorithm: all in the
    /// low 32 bits, those whose search kept to the region in the high ones.
    pub(crate) static REMOVALS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Tests make `sig` collide, to check that its users verify it.
    pub(crate) static COARSE_SIG: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether to run the plain algorithm (tests compare it with the accelerated one).
#[inline]
fn plain() -> bool {
    #[cfg(test)]
    return PLAIN.with(|c| c.get());
    #[cfg(not(test))]
    false
}

/// The comparison a node performs on `(word & mask)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Cmp {
    Eq,
    MaskedEq,
    Gt,
    Ge,
}

/// The operator of the API comparison a node was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum OrigOp {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    MaskedEq,
}

impl OrigOp {
    /// Sibling ordering class: equality-like before LT/LE before GT/GE.
    fn class(self) -> u8 {
        match self {
            OrigOp::MaskedEq | OrigOp::Eq | OrigOp::Ne => 3,
            OrigOp::Le | OrigOp::Lt => 2,
            OrigOp::Ge | OrigOp::Gt => 1,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub arg: u8,
    /// Compares the high word of a 64-bit argument.
    pub hi: bool,
    /// Byte offset of the compared word in `seccomp_data`.
    pub offset: u32,
    pub op: Cmp,
    pub op_orig: OrigOp,
    pub mask: u32,
    pub datum: u32,
    pub datum_full: u64,
    pub act_t: Option<u32>,
    pub act_f: Option<u32>,
    pub nxt_t: Link,
    pub nxt_f: Link,
    pub lvl_prv: Link,
    pub lvl_nxt: Link,
    refcnt: u32,
    /// How many edges lead to this node, from any node of the arena, even freed (kept by
    /// [`Tree::set_next`]).
    parents: u32,
    /// The index of this node's level among the tree's level indexes (`NO_SLOT`: none). A
    /// node that left its level may keep a stale slot; `in_idx` tells.
    slot: u32,
    /// Insertion order among the nodes of equal key in an indexed level.
    seq: u32,
    /// In the index `slot` (kept in step with the level's list).
    in_idx: bool,
    /// The [`Tree::begin`] epoch in which the node was last logged.
    logged: u32,
    /// A copy [`Tree::clone_subtree`] made, which libseccomp's node count leaves out (it
    /// shares the node instead): freeing it counts nothing.
    copy: bool,
}

impl Node {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        arg: u8,
        hi: bool,
        offset: u32,
        op: Cmp,
        op_orig: OrigOp,
        mask: u32,
        datum: u32,
        datum_full: u64,
    ) -> Self {
        Node {
            arg,
            hi,
            offset,
            op,
            op_orig,
            mask,
            datum: datum & mask,
            datum_full,
            act_t: None,
            act_f: None,
            nxt_t: Link::NONE,
            nxt_f: Link::NONE,
            lvl_prv: Link::NONE,
            lvl_nxt: Link::NONE,
            refcnt: 0,
            parents: 0,
            slot: NO_SLOT,
            seq: 0,
            in_idx: false,
            logged: 0,
            copy: false,
        }
    }

    /// The successor level and the action on the true (`t`) or false edge.
    pub(super) fn edge(&self, t: bool) -> (Option<Id>, Option<u32>) {
        if t {
            (self.nxt_t.get(), self.act_t)
        } else {
            (self.nxt_f.get(), self.act_f)
        }
    }

    fn arg_priority(&self) -> u32 {
        (u32::from(self.arg) << 1) | u32::from(self.hi)
    }

    fn is_leaf(&self) -> bool {
        self.nxt_t.get().is_none() && self.nxt_f.get().is_none()
    }

    fn has_children(&self) -> bool {
        !self.is_leaf()
    }

    fn is_zombie(&self) -> bool {
        self.is_leaf() && self.act_t.is_none() && self.act_f.is_none()
    }

    /// The nodes its true and false edges lead to.
    fn successors(&self) -> impl Iterator<Item = Id> {
        [self.nxt_t.get(), self.nxt_f.get()].into_iter().flatten()
    }

    /// Whether it has a sibling in a level.
    fn linked(&self) -> bool {
        self.lvl_prv.get().is_some() || self.lvl_nxt.get().is_some()
    }

    /// Whether a search of the tree can reach it (through an edge or a sibling).
    fn reachable(&self) -> bool {
        self.parents > 0 || self.linked()
    }

    /// Whether the word `w` satisfies this node's comparison.
    pub(crate) fn test(&self, w: u32) -> bool {
        let v = w & self.mask;
        match self.op {
            Cmp::Eq | Cmp::MaskedEq => v == self.datum,
            Cmp::Gt => v > self.datum,
            Cmp::Ge => v >= self.datum,
        }
    }
}

/// Same argument word, operator, datum and mask (the original operator is not compared).
fn chain_eq(a: &Node, b: &Node) -> bool {
    a.arg_priority() == b.arg_priority() && a.op == b.op && a.datum == b.datum && a.mask == b.mask
}

/// The sibling order: a level is kept in descending order of this relation.
fn chain_lt(a: &Node, b: &Node) -> bool {
    let (pa, pb) = (a.arg_priority(), b.arg_priority());
    if pa != pb {
        return pa < pb;
    }
    let (ca, cb) = (a.op_orig.class(), b.op_orig.class());
    if ca != cb {
        return ca < cb;
    }
    match a.op_orig {
        // Smaller values first for LT/LE.
        OrigOp::Le | OrigOp::Lt => a.datum > b.datum,
        _ => a.datum < b.datum,
    }
}

/// The sibling order as a number: `chain_lt(a, b)` exactly when `key(a) < key(b)` (argument
/// word, then operator class, then datum, descending for LT/LE).
fn key(n: &Node) -> u64 {
    let d = match n.op_orig {
        OrigOp::Le | OrigOp::Lt => !n.datum,
        _ => n.datum,
    };
    (u64::from(n.arg_priority()) << 34) | (u64::from(n.op_orig.class()) << 32) | u64::from(d)
}

/// Keys take 38 bits (argument word 4, class 2, datum 32); positions add a sequence number.
const KEY_MAX: u64 = (1 << 38) - 1;
const SEQ_BITS: u32 = 26;
const SEQ_END: u32 = 1 << SEQ_BITS;

/// Where a node sits in an indexed level: the level is in descending key order, nodes of
/// equal key in the order they joined it.
fn pos(n: &Node) -> u64 {
    ((KEY_MAX - key(n)) << SEQ_BITS) | u64::from(n.seq)
}

/// The first position of a key below `k` (positions from here on hold the nodes `chain_lt`
/// than a node of key `k`).
fn pos_below(k: u64) -> u64 {
    (KEY_MAX - k + 1) << SEQ_BITS
}

/// A digest of what `chain_eq` compares: nodes `chain_eq` to each other have the same one
/// (the converse is checked: masks are folded).
fn sig(n: &Node) -> u64 {
    #[cfg(test)]
    if COARSE_SIG.with(|c| c.get()) {
        return u64::from(n.arg_priority());
    }
    let m = u64::from(n.mask.wrapping_mul(0x9e37_79b9) >> 8);
    (m << 40)
        | (u64::from(n.arg_priority()) << 34)
        | (u64::from(n.op as u8) << 32)
        | u64::from(n.datum)
}

/// A multiplicative hash of the `u64` signatures (the default hasher is much slower).
#[derive(Debug, Clone, Copy, Default)]
struct SigHasher(u64);

impl Hasher for SigHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }

    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
}

/// A map keyed by node (made without the default hasher's random seed: a tree is made for
/// every syscall with a rule).
type IdMap<V> = HashMap<Id, V, BuildHasherDefault<SigHasher>>;

/// The nodes of one signature in a level: (position, id), sorted by position.
#[derive(Debug, Clone)]
enum Cands {
    One(u64, Id),
    Many(Vec<(u64, Id)>),
}

/// The nodes of a level by `sig`.
#[derive(Debug, Clone, Default)]
struct SigIndex(HashMap<u64, Cands, BuildHasherDefault<SigHasher>>);

impl SigIndex {
    fn insert(&mut self, g: u64, p: u64, id: Id) {
        use std::collections::hash_map::Entry;
        match self.0.entry(g) {
            Entry::Vacant(v) => {
                v.insert(Cands::One(p, id));
            }
            Entry::Occupied(mut o) => {
                let c = o.get_mut();
                match c {
                    &mut Cands::One(p0, i0) => {
                        let mut v = vec![(p0, i0), (p, id)];
                        v.sort_unstable();
                        *c = Cands::Many(v);
                    }
                    Cands::Many(v) => {
                        let k = v.partition_point(|&(q, _)| q < p);
                        v.insert(k, (p, id));
                    }
                }
            }
        }
    }

    fn remove(&mut self, g: u64, p: u64) {
        let Some(c) = self.0.get_mut(&g) else { return };
        let empty = match c {
            Cands::One(p0, _) => *p0 == p,
            Cands::Many(v) => {
                if let Ok(k) = v.binary_search_by_key(&p, |&(q, _)| q) {
                    v.remove(k);
                }
                v.is_empty()
            }
        };
        if empty {
            self.0.remove(&g);
        }
    }

    /// The first node (by position) of signature `g` in `range` that `ok` accepts.
    fn first(
        &self,
        g: u64,
        range: impl RangeBounds<u64>,
        ok: impl Fn(Id) -> bool,
    ) -> Option<(u64, Id)> {
        match self.0.get(&g)? {
            &Cands::One(p, i) => (range.contains(&p) && ok(i)).then_some((p, i)),
            Cands::Many(v) => {
                let start = match range.start_bound() {
                    Included(&a) => v.partition_point(|&(q, _)| q < a),
                    Excluded(&a) => v.partition_point(|&(q, _)| q <= a),
                    Unbounded => 0,
                };
                v[start..]
                    .iter()
                    .take_while(|(q, _)| range.contains(q))
                    .find(|&&(_, i)| ok(i))
                    .copied()
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0
            .values()
            .map(|c| match c {
                Cands::One(..) => 1,
                Cands::Many(v) => v.len(),
            })
            .sum()
    }

    #[cfg(test)]
    fn contains(&self, g: u64, p: u64, id: Id) -> bool {
        self.first(g, p..=p, |i| i == id).is_some()
    }
}

/// The nodes of one level, sorted by the sibling order (only while the level's list is).
#[derive(Debug, Clone, Default)]
struct LevelIndex {
    /// The level's list was found or made unsorted: the maps are no longer maintained.
    linear: bool,
    next_seq: u32,
    /// Every node of the level by position: list order.
    by_pos: BTreeMap<u64, Id>,
    /// `by_pos`'s first entry: the level's first node, which every prune walk and every
    /// rule's level clean-up start from (piled values join at the front, too).
    first: Option<(u64, Id)>,
    /// Every node by `sig`.
    by_sig: SigIndex,
    /// The nodes that are not plain leaves (a plain leaf has no successor level and some
    /// action): those with a successor level, and the rare ones with neither, by position.
    inner: BTreeMap<u64, Id>,
    /// How many edges of the level's nodes have each action.
    acts: HashMap<u32, u32, BuildHasherDefault<SigHasher>>,
}

/// What a level index holds about a node besides its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Summary {
    sig: u64,
    inner: bool,
    acts: [Option<u32>; 2],
}

impl Summary {
    fn of(n: &Node) -> Self {
        Summary {
            sig: sig(n),
            inner: n.has_children() || (n.act_t.is_none() && n.act_f.is_none()),
            acts: [n.act_t, n.act_f],
        }
    }
}

impl LevelIndex {
    fn add(&mut self, p: u64, id: Id, m: Summary) {
        self.by_pos.insert(p, id);
        if self.first.map_or(true, |(q, _)| p < q) {
            self.first = Some((p, id));
        }
        self.by_sig.insert(m.sig, p, id);
        self.add_parts(p, id, m);
    }

    fn remove(&mut self, p: u64, m: Summary) {
        self.by_pos.remove(&p);
        if self.first.is_some_and(|(q, _)| q == p) {
            self.first = self.by_pos.iter().next().map(|(&q, &i)| (q, i));
        }
        self.by_sig.remove(m.sig, p);
        self.remove_parts(p, m);
    }

    /// `id`'s successors or actions changed.
    fn update(&mut self, p: u64, id: Id, old: Summary, new: Summary) {
        self.remove_parts(p, old);
        self.add_parts(p, id, new);
    }

    fn add_parts(&mut self, p: u64, id: Id, m: Summary) {
        if m.inner {
            self.inner.insert(p, id);
        }
        for a in m.acts.into_iter().flatten() {
            *self.acts.entry(a).or_default() += 1;
        }
    }

    fn remove_parts(&mut self, p: u64, m: Summary) {
        if m.inner {
            self.inner.remove(&p);
        }
        for a in m.acts.into_iter().flatten() {
            let c = self.acts.get_mut(&a).expect("counted");
            *c -= 1;
            if *c == 0 {
                self.acts.remove(&a);
            }
        }
    }
}

/// One change to undo on a failed rule add.
#[derive(Debug, Clone)]
enum Undo {
    /// A node as it was before its first change.
    Node(Id, Node),
    /// A level index was created (the last one).
    Built,
    /// A level index was marked linear.
    Linear(u32),
    /// A node joined an index: slot, position, summary.
    Joined(u32, u64, Summary),
    /// A node left an index.
    Left(u32, u64, Id, Summary),
    /// A node's summary changed from the first to the second.
    Changed(u32, u64, Id, Summary, Summary),
}

#[derive(Debug, Clone, Default)]
struct Aux {
    levels: Vec<LevelIndex>,
    logging: bool,
    /// Counts [`Tree::begin`]s: a node is logged once per epoch.
    epoch: u32,
    /// Nodes from here on were created since `begin`.
    base: usize,
    log: Vec<Undo>,
    /// The `sig` of every node below `noted` (and of some nodes gone since): a node whose
    /// signature is not here has no `chain_eq` node among them.
    seen: SigFilter,
    noted: usize,
    /// Every zombie node (no successor level, no action) in use, with a parent or in a level,
    /// and others: a node joins when a change leaves it without successor or action, when
    /// an edge comes to lead to it as one, when it is freed as one with a parent, when it
    /// is copied as one and when [`Tree::rollback`] restores it as one. (A rule's new nodes
    /// are zombies only until the rule's graph is made.) [`Tree::zombie_free`] drops those
    /// that no longer are.
    suspects: Vec<Id>,
    /// The edges the prune walk went down from the syscall's root level to the level it is
    /// at: (node, true edge).
    walk: Vec<(Id, bool)>,
    /// The nodes [`Tree::tree_remove`]'s search keeps to, each with its level's first node
    /// (empty between removals).
    region: IdMap<Id>,
}

/// A set of signatures that may answer "maybe" for one it does not hold (never "no" for one
/// it holds): a bit per hashed signature, at most one bit in [`SigFilter::SPARSE`] set, so
/// about that share of absent signatures read as present. [`Tree::sig_may_exist`] only
/// speeds the prune walk up (a "maybe" walks siblings it could have skipped, to no effect):
/// a bit costs an `or` where a hash set of the signatures took a probe and, growing with the
/// tree, rehashes.
#[derive(Debug, Clone, Default)]
struct SigFilter {
    bits: Vec<u64>,
    /// How many signatures were added since the bits were last cleared.
    count: usize,
}

impl SigFilter {
    /// Bits per signature held.
    const SPARSE: usize = 16;

    /// Whether `n` signatures fit without making "maybe" likelier than `1 / SPARSE`.
    fn fits(&self, n: usize) -> bool {
        n.saturating_mul(Self::SPARSE) <= self.bits.len() * 64
    }

    /// Clears the set, with room for `n` signatures.
    fn reset(&mut self, n: usize) {
        let words = (n.saturating_mul(Self::SPARSE) / 64)
            .next_power_of_two()
            .max(8);
        self.bits.clear();
        self.bits.resize(words, 0);
        self.count = 0;
    }

    /// The word and bit of `g` (the bits' length is a power of two of at least 8 words).
    fn bit(&self, g: u64) -> (usize, u64) {
        let h = g.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let b = (h >> (64 - (self.bits.len() * 64).trailing_zeros())) as usize;
        (b / 64, 1 << (b % 64))
    }

    fn insert(&mut self, g: u64) {
        let (w, m) = self.bit(g);
        self.bits[w] |= m;
        self.count += 1;
    }

    fn may_contain(&self, g: u64) -> bool {
        if self.bits.is_empty() {
            return false;
        }
        let (w, m) = self.bit(g);
        self.bits[w] & m != 0
    }
}

/// Where the new node goes in a level.
enum Spot {
    Merge(Id),
    Before(Id),
    After(Id),
}

/// Which siblings the prune walk at one level acts on (it passes over the others without
/// effect): always those `chain_eq` to the new node `n`; the "less" ones (`chain_lt`) all,
/// only those with a successor level, or none; the others ("greater") all or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LtActive {
    All,
    Inner,
    None,
}

struct Active {
    n: Id,
    key: u64,
    sig: u64,
    /// The greater siblings are acted on: `Some` when decided, `None` when that depends on
    /// the level (a greater sibling's walk looks for `n`'s successors in this same level).
    gt_all: std::cell::Cell<Option<bool>>,
    lt: LtActive,
}

/// Flags of the prune walk (which tree finished, which one is a prefix of the other).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PruneState {
    flags: u32,
    action: u32,
    /// Reproduce libseccomp 2.5.4's walk exactly, bugs included (compat mode).
    pub(crate) libseccomp: bool,
    /// The new rule forks (a node of it leads on from both edges) and the walk is the normal
    /// mode's: a finished match drops an existing branch only at a leaf of the new rule.
    pub(crate) forked: bool,
    /// The normal mode's walk, but stopping where libseccomp's stops (test builds compare
    /// the two: README, deliberate differences, 12).
    pub(crate) stops: bool,
    /// In a level's own state, once the normal mode's walk has gone past where libseccomp's
    /// stops (see [`Tree::libseccomp_stop`]): the flags libseccomp's returns with there, which
    /// the normal mode's returns too.
    lib_stop: Option<u32>,
}

const IST_MATCH: u32 = 0x1;
const IST_MATCH_ONCE: u32 = 0x2;
const IST_X_FINISHED: u32 = 0x10;
const IST_N_FINISHED: u32 = 0x20;
const IST_X_PREFIX: u32 = 0x100;
const IST_N_PREFIX: u32 = 0x200;
const IST_MATCHSET: u32 = IST_MATCH | IST_MATCH_ONCE;
const IST_REDUNDANT: u32 = IST_MATCH | IST_X_FINISHED | IST_N_PREFIX;

impl PruneState {
    pub(crate) fn new(action: u32) -> Self {
        let mut s = PruneState::default();
        s.set_action(action);
        s
    }

    pub(crate) fn set_action(&mut self, action: u32) {
        self.action = action;
    }

    /// The new rule is already covered by a shorter existing one.
    pub(crate) fn redundant(&self) -> bool {
        self.flags & IST_REDUNDANT == IST_REDUNDANT
    }
}

/// A conflict between two rules: the same condition with different actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Conflict;

/// Where [`Tree::tree_remove`]'s search keeps to a region ([`Tree::passes`]).
struct Keep<'r> {
    /// Its nodes, each with its level's first node.
    region: &'r IdMap<Id>,
    /// How many of [`Aux::suspects`] were looked at.
    seen: usize,
}

/// An arena of nodes. Nodes are never moved; freed nodes stay in place, unreferenced.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
    /// Level indexes and the undo log; `None` until a level is indexed or a change logged.
    aux: Option<Box<Aux>>,
    /// Counts the structural changes the prune walk can make (a node unlinked from its level
    /// or freed): a walk repeated with no change between does exactly what it did before.
    changes: u64,
    /// In compat mode, where a merge here took one of libseccomp 2.5.4's wrong turns:
    /// [`QUIRK_MERGE`] (the normal mode builds a different tree: README, deliberate
    /// differences, 9), [`QUIRK_LINK`] (libseccomp links a node into a second level, which
    /// compat mode does not reproduce: difference 4), [`QUIRK_RANGE`] (libseccomp keeps the
    /// first rule's action on a high word's false edge: difference 5). For classifying
    /// differences from recordings of that library.
    pub(crate) quirk: u8,
    /// A rule that forks ([`Tree::forks`]: a 64-bit range or `!=` comparison leads on from
    /// two of its nodes) was made here, added or not. The normal mode gives each edge its own copy of the
    /// rest of the rule where libseccomp 2.5.4 shares one node, so the node count, and with
    /// it the entry's priority, may differ from libseccomp's (README, deliberate differences,
    /// 9). For classifying differences from recordings of that library.
    pub(crate) forked: bool,
    /// The normal mode's prune walk met a level where libseccomp 2.5.4's stops (below an
    /// existing prefix, a sibling that sorts before the new rule's node, or beside it after
    /// nodes like it), since the last [`Tree::met_libseccomp_stop`] (test builds only).
    #[cfg(any(test, feature = "__internal-test"))]
    met_stop: bool,
    /// A rule here dropped a branch below a level where libseccomp 2.5.4's prune walk stops
    /// and the normal mode's passes over it: merged by a walk that stops there, the entry
    /// came out otherwise, so its node count, and with it its priority and pseudo filter
    /// code, differs from libseccomp's (README, deliberate differences, 12). For classifying
    /// differences from recordings of that library (test builds only).
    #[cfg(any(test, feature = "__internal-test"))]
    pub(crate) pruned_past_stop: bool,
    /// Every action a node of the arena has been given (each once; never shrinks): where it
    /// holds only the one [`Tree::act_check`] asks about, no walk is needed.
    actions: Vec<u32>,
}

/// See [`Tree::quirk`].
pub(crate) const QUIRK_MERGE: u8 = 1;
/// See [`Tree::quirk`].
pub(crate) const QUIRK_LINK: u8 = 2;
/// See [`Tree::quirk`].
pub(crate) const QUIRK_RANGE: u8 = 4;

impl Tree {
    /// Notes that `i` may be a zombie (see [`Aux::suspects`]).
    fn suspect(&mut self, i: Id) {
        self.aux
            .get_or_insert_with(Default::default)
            .suspects
            .push(i);
    }

    /// Adds a node. (A new node is a zombie until its first edge or action; a rule's graph
    /// gives every node one before it is merged.)
    pub(crate) fn push(&mut self, mut n: Node) -> Id {
        for a in [n.act_t, n.act_f].into_iter().flatten() {
            self.note_action(a);
        }
        let edges = [n.nxt_t.get(), n.nxt_f.get()];
        n.parents = 0;
        self.nodes.push(n);
        for c in edges.into_iter().flatten() {
            self.nm(c).parents += 1;
        }
        self.nodes.len() - 1
    }

    /// Takes back the nodes made from `from` on that were freed, from the last one made
    /// down to the first one still in use (a rule's top nodes merge with the ones the rules
    /// before it share, and `rule_gen` makes them last): otherwise the arena keeps every
    /// node of every rule, in use or not.
    pub(crate) fn pop_freed(&mut self, from: usize) {
        while self.nodes.len() > from && self.nodes.last().is_some_and(|n| n.refcnt == 0) {
            let n = self.nodes.pop().expect("checked");
            debug_assert!(!n.in_idx && n.is_leaf() && n.lvl_prv.get().is_none());
        }
    }

    /// The node `i`, to change: logged first (once) while a change is being recorded.
    #[inline]
    fn nm(&mut self, i: Id) -> &mut Node {
        if let Some(a) = self.aux.as_deref() {
            if a.logging && i < a.base && self.nodes[i].logged != a.epoch {
                self.log_node(i);
            }
        }
        &mut self.nodes[i]
    }

    #[inline(never)]
    fn log_node(&mut self, i: Id) {
        let a = self.aux.as_deref_mut().expect("logging");
        a.log.push(Undo::Node(i, self.nodes[i].clone()));
        self.nodes[i].logged = a.epoch;
    }

    fn log(&mut self, u: Undo) {
        if let Some(a) = self.aux.as_deref_mut() {
            if a.logging {
                a.log.push(u);
            }
        }
    }

    /// Starts recording changes, to undo them with [`Tree::rollback`] or keep them with
    /// [`Tree::commit`].
    pub(crate) fn begin(&mut self) {
        let base = self.nodes.len();
        let a = self.aux.get_or_insert_with(Default::default);
        a.logging = true;
        a.base = base;
        a.log.clear();
        a.epoch = a.epoch.wrapping_add(1);
        if a.epoch == 0 {
            a.epoch = 1;
            for n in &mut self.nodes {
                n.logged = 0;
            }
        }
    }

    /// Keeps the changes recorded since [`Tree::begin`].
    pub(crate) fn commit(&mut self) {
        if let Some(a) = self.aux.as_deref_mut() {
            a.logging = false;
            a.log.clear();
            if a.log.capacity() > 1024 {
                a.log.shrink_to(64);
            }
        }
    }

    /// Records the signatures of the nodes created since the last call. Call it right before
    /// generating a rule's graph: the prune walk of that rule then knows which signatures the
    /// nodes before the graph may have.
    pub(crate) fn note_nodes(&mut self) {
        let len = self.nodes.len();
        if len == 0 {
            return;
        }
        let a = self.aux.get_or_insert_with(Default::default);
        let mut from = a.noted.min(len);
        if !a.seen.fits(a.seen.count + len - from) {
            // Twice the room needed now, filled again from every node.
            a.seen.reset(2 * len);
            from = 0;
        }
        for n in &self.nodes[from..] {
            a.seen.insert(sig(n));
        }
        a.noted = len;
    }

    /// Whether a node created before the rule being added (whose graph starts at `new`) may
    /// be `chain_eq` to a node with signature `g`.
    fn sig_may_exist(&self, g: u64, new: Id) -> bool {
        match self.aux.as_deref() {
            Some(a) if new >= a.noted => a.seen.may_contain(g),
            _ => true,
        }
    }

    /// Whether the level of index `l` holds a node with the signature of a successor (at any
    /// depth) of the new node `n` (of a rule's single-path graph).
    fn successor_sig_in(&self, n: Id, l: &LevelIndex) -> bool {
        let mut todo: Vec<Id> = Vec::new();
        let mut done: Vec<Id> = Vec::new();
        let push = |todo: &mut Vec<Id>, x: Id| todo.extend(self.nodes[x].successors());
        push(&mut todo, n);
        while let Some(d) = todo.pop() {
            if done.contains(&d) {
                continue;
            }
            done.push(d);
            if l.by_sig.0.contains_key(&sig(&self.nodes[d])) {
                return true;
            }
            push(&mut todo, d);
        }
        false
    }

    /// Undoes the changes recorded since [`Tree::begin`].
    pub(crate) fn rollback(&mut self) {
        let Some(a) = self.aux.as_deref_mut() else {
            return;
        };
        if !a.logging {
            return;
        }
        a.logging = false;
        let base = a.base;
        a.noted = a.noted.min(base);
        let log = std::mem::take(&mut a.log);
        for u in log.into_iter().rev() {
            let a = self.aux.as_deref_mut().expect("present");
            match u {
                Undo::Node(i, n) => {
                    if n.is_zombie() {
                        a.suspects.push(i);
                    }
                    self.nodes[i] = n;
                }
                Undo::Built => {
                    a.levels.pop();
                }
                Undo::Linear(s) => a.levels[s as usize].linear = false,
                Undo::Joined(s, p, m) => a.levels[s as usize].remove(p, m),
                Undo::Left(s, p, id, m) => a.levels[s as usize].add(p, id, m),
                Undo::Changed(s, p, id, old, new) => a.levels[s as usize].update(p, id, new, old),
            }
        }
        self.nodes.truncate(base);
    }

    pub(crate) fn get(&mut self, id: Option<Id>) -> Option<Id> {
        if let Some(i) = id {
            self.nm(i).refcnt += 1;
        }
        id
    }

    /// Sets the successor level on the true (`t`) or false edge of `id`.
    pub(crate) fn set_next(&mut self, id: Id, t: bool, next: Option<Id>) {
        let old = self.nodes[id].edge(t).0;
        if old == next {
            return;
        }
        if let Some(o) = old {
            self.nm(o).parents -= 1;
        }
        if let Some(x) = next {
            self.nm(x).parents += 1;
            // A node of the rule being made is a zombie only until it is made; any other
            // one (even one freed: libseccomp leaves edges to freed nodes) is noted.
            let made = self
                .aux
                .as_deref()
                .map_or(true, |a| !a.logging || x >= a.base);
            if !made && self.nodes[x].is_zombie() {
                self.suspect(x);
            }
        }
        self.edit(id, |n| {
            *if t { &mut n.nxt_t } else { &mut n.nxt_f } = Link::from(next)
        });
        if next.is_none() && self.nodes[id].is_zombie() {
            self.suspect(id);
        }
    }

    /// Whether no node of the arena has ever had an action but one (or none).
    pub(crate) fn one_action(&self) -> bool {
        self.actions.len() <= 1
    }

    /// Notes that a node has action `a` (see [`Tree::actions`]).
    fn note_action(&mut self, a: u32) {
        if !self.actions.contains(&a) {
            self.actions.push(a);
        }
    }

    /// Sets the action on the true (`t`) or false edge of `id`.
    pub(crate) fn set_act(&mut self, id: Id, t: bool, act: Option<u32>) {
        if let Some(a) = act {
            self.note_action(a);
        }
        self.edit(id, |n| *if t { &mut n.act_t } else { &mut n.act_f } = act);
        if act.is_none() && self.nodes[id].is_zombie() {
            self.suspect(id);
        }
    }

    /// Changes node `id` and keeps its level's index in step with its summary.
    fn edit(&mut self, id: Id, f: impl FnOnce(&mut Node)) {
        if !self.nodes[id].in_idx {
            // No index to keep in step (a node joins one only through `joined`).
            f(self.nm(id));
            return;
        }
        let before = Summary::of(&self.nodes[id]);
        f(self.nm(id));
        self.summary_changed(id, before);
    }

    fn summary_changed(&mut self, id: Id, before: Summary) {
        let after = Summary::of(&self.nodes[id]);
        if after == before {
            return;
        }
        if let Some(s) = self.indexed(id) {
            let p = pos(&self.nodes[id]);
            let l = &mut self.aux.as_deref_mut().expect("indexed").levels[s as usize];
            l.update(p, id, before, after);
            self.log(Undo::Changed(s, p, id, before, after));
        }
    }

    /// The slot of the index that holds `id`, if its level has a (maintained) index.
    fn indexed(&self, id: Id) -> Option<u32> {
        let n = &self.nodes[id];
        if !n.in_idx {
            return None;
        }
        (!self.level(n.slot).linear).then_some(n.slot)
    }

    fn level(&self, s: u32) -> &LevelIndex {
        &self.aux.as_deref().expect("indexed").levels[s as usize]
    }

    /// Indexes the level `id` is on (unless it was found unsorted before).
    fn build(&mut self, id: Id) {
        if plain() {
            return;
        }
        let s0 = self.nodes[id].slot;
        if s0 != NO_SLOT && self.level(s0).linear {
            return;
        }
        let mut start = id;
        while let Some(p) = self.nodes[start].lvl_prv.get() {
            start = p;
        }
        let mut sorted = true;
        let mut prev = u64::MAX;
        let mut len = 0;
        let mut c = Some(start);
        while let Some(i) = c {
            let k = key(&self.nodes[i]);
            sorted &= k <= prev;
            prev = k;
            len += 1;
            c = self.nodes[i].lvl_nxt.get();
        }
        if len < INDEX_AFTER || len >= SEQ_END as usize {
            return;
        }
        let a = self.aux.get_or_insert_with(Default::default);
        let slot = a.levels.len() as u32;
        a.levels.push(LevelIndex {
            linear: !sorted,
            ..LevelIndex::default()
        });
        self.log(Undo::Built);
        let mut l = LevelIndex::default();
        let mut c = Some(start);
        while let Some(i) = c {
            let seq = l.next_seq;
            let n = self.nm(i);
            n.slot = slot;
            if sorted {
                n.seq = seq;
                n.in_idx = true;
                l.next_seq += 1;
                l.add(pos(n), i, Summary::of(n));
            }
            c = n.lvl_nxt.get();
        }
        if sorted {
            let a = self.aux.as_deref_mut().expect("created");
            a.levels[slot as usize] = l;
        }
    }

    /// `n` was just linked into the level of its neighbour `x`.
    fn joined(&mut self, n: Id, x: Id) {
        let Some(s) = self.indexed(x) else {
            // A level found unsorted stays unindexed.
            let sx = self.nodes[x].slot;
            let linear = sx != NO_SLOT && self.level(sx).linear;
            self.nm(n).slot = if linear { sx } else { NO_SLOT };
            return;
        };
        let kn = key(&self.nodes[n]);
        let (p, q) = (self.nodes[n].lvl_prv.get(), self.nodes[n].lvl_nxt.get());
        let sorted = p.map_or(true, |p| key(&self.nodes[p]) >= kn)
            && q.map_or(true, |q| key(&self.nodes[q]) < kn);
        let seq = self.level(s).next_seq;
        if !sorted || seq == SEQ_END {
            self.nm(n).slot = s;
            self.aux.as_deref_mut().expect("indexed").levels[s as usize].linear = true;
            self.log(Undo::Linear(s));
            return;
        }
        let node = self.nm(n);
        node.slot = s;
        node.seq = seq;
        node.in_idx = true;
        let (p, m) = (pos(node), Summary::of(node));
        let l = &mut self.aux.as_deref_mut().expect("indexed").levels[s as usize];
        l.next_seq += 1;
        l.add(p, n, m);
        self.log(Undo::Joined(s, p, m));
    }

    /// `id` is leaving its level.
    fn left(&mut self, id: Id) {
        let Some(s) = self.indexed(id) else { return };
        let n = self.nm(id);
        n.in_idx = false;
        let (p, m) = (pos(n), Summary::of(n));
        self.aux.as_deref_mut().expect("indexed").levels[s as usize].remove(p, m);
        self.log(Undo::Left(s, p, id, m));
    }

    /// The first node of the level `id` is on.
    pub(crate) fn level_start(&self, mut id: Id) -> Id {
        if let Some(s) = self.indexed(id) {
            return self.level(s).first.expect("holds id").1;
        }
        while let Some(p) = self.nodes[id].lvl_prv.get() {
            id = p;
        }
        id
    }

    /// The first node from `y` on (in list order) that the prune walk acts on.
    fn next_active(&self, s: u32, y: Id, act: &Active) -> Option<Id> {
        let l = self.level(s);
        let ny = &self.nodes[y];
        let gt_all = match act.gt_all.get() {
            Some(b) => b,
            None => {
                let b = self.successor_sig_in(act.n, l);
                act.gt_all.set(Some(b));
                b
            }
        };
        if gt_all && key(ny) >= act.key {
            return Some(y);
        }
        let py = pos(ny);
        let nn = &self.nodes[act.n];
        let eq = l
            .by_sig
            .first(act.sig, py.., |i| chain_eq(&self.nodes[i], nn));
        let from = py.max(pos_below(act.key));
        let lt = match act.lt {
            LtActive::All => l.by_pos.range(from..).next(),
            LtActive::Inner => l.inner.range(from..).next(),
            LtActive::None => None,
        }
        .map(|(&p, &i)| (p, i));
        match (eq, lt) {
            (Some(a), Some(b)) => Some(a.min(b).1),
            (a, b) => a.or(b).map(|x| x.1),
        }
    }

    /// Where the linear walk of [`Tree::add`] from `s` puts the new node `n`: merged with the
    /// first node `chain_eq` to it, or linked before the first one `chain_lt` than it, or
    /// after the last.
    fn locate(&mut self, s: Id, n: Id) -> Spot {
        let nn = &self.nodes[n];
        if chain_eq(&self.nodes[s], nn) {
            return Spot::Merge(s);
        }
        if chain_lt(&self.nodes[s], nn) {
            return Spot::Before(s);
        }
        if let Some(slot) = self.indexed(s) {
            // From `s` on the nodes are in descending key order: those before the first
            // one of smaller key are not `chain_lt` than `n`, only `chain_eq` ones stop there.
            let l = self.level(slot);
            let kn = key(nn);
            let g = sig(nn);
            let b = l
                .by_pos
                .range(pos_below(kn)..)
                .next()
                .map(|(&p, &i)| (p, i));
            let upto = match b {
                Some((p, _)) => Excluded(p),
                None => Unbounded,
            };
            let ps = pos(&self.nodes[s]);
            if let Some((_, e)) = l
                .by_sig
                .first(g, (Excluded(ps), upto), |i| chain_eq(&self.nodes[i], nn))
            {
                return Spot::Merge(e);
            }
            return match b {
                Some((_, b)) if chain_eq(&self.nodes[b], nn) => Spot::Merge(b),
                Some((_, b)) => Spot::Before(b),
                None => Spot::After(*l.by_pos.values().next_back().expect("holds s")),
            };
        }
        let mut x = s;
        let mut steps = 0;
        let spot = loop {
            let Some(nx) = self.nodes[x].lvl_nxt.get() else {
                break Spot::After(x);
            };
            x = nx;
            steps += 1;
            if chain_eq(&self.nodes[x], &self.nodes[n]) {
                break Spot::Merge(x);
            }
            if chain_lt(&self.nodes[x], &self.nodes[n]) {
                break Spot::Before(x);
            }
        };
        if steps >= INDEX_AFTER {
            self.build(s);
        }
        spot
    }

    /// Drops one reference to `*node`; when it was the last, unlinks the node from its level,
    /// releases its sub-trees and points `*node` at a surviving sibling. Returns the number of
    /// nodes freed.
    fn node_put(&mut self, node: &mut Option<Id>) -> u32 {
        let Some(n) = *node else { return 0 };
        let mut cnt = 0;
        let r = self.nodes[n].refcnt.saturating_sub(1);
        self.nm(n).refcnt = r;
        if r == 0 {
            self.changes += 1;
            self.left(n);
            let mut lvl_p = self.nodes[n].lvl_prv.get();
            let mut lvl_n = self.nodes[n].lvl_nxt.get();
            let mut nxt_t = self.nodes[n].nxt_t.get();
            let mut nxt_f = self.nodes[n].nxt_f.get();
            if let Some(p) = lvl_p {
                self.nm(p).lvl_nxt = Link::NONE;
            }
            if let Some(x) = lvl_n {
                self.nm(x).lvl_prv = Link::NONE;
            }
            cnt += self.node_put(&mut lvl_p);
            cnt += self.node_put(&mut lvl_n);
            if let Some(p) = lvl_p {
                let g = self.get(lvl_n);
                self.nm(p).lvl_nxt = Link::from(g);
            }
            if let Some(x) = lvl_n {
                let g = self.get(lvl_p);
                self.nm(x).lvl_prv = Link::from(g);
            }
            *node = lvl_p.or(lvl_n);
            cnt += self.tree_put(&mut nxt_t);
            cnt += self.tree_put(&mut nxt_f);
            for c in [self.nodes[n].nxt_t.get(), self.nodes[n].nxt_f.get()]
                .into_iter()
                .flatten()
            {
                self.nm(c).parents -= 1;
            }
            let dead = self.nm(n);
            dead.nxt_t = Link::NONE;
            dead.nxt_f = Link::NONE;
            dead.lvl_prv = Link::NONE;
            dead.lvl_nxt = Link::NONE;
            if dead.is_zombie() && dead.parents > 0 {
                // Freed, but still a parent's successor (see [`Tree::zombie_free`]).
                self.suspect(n);
            }
            cnt += u32::from(!self.nodes[n].copy);
        }
        cnt
    }

    /// Frees a whole level when nothing outside the level refers to it.
    fn level_clean(&mut self, node: Id) -> u32 {
        let start = self.level_start(node);
        let mut n = Some(start);
        while let Some(i) = n {
            let links = u32::from(self.nodes[i].lvl_prv.get().is_some())
                + u32::from(self.nodes[i].lvl_nxt.get().is_some());
            if self.nodes[i].refcnt > links {
                return 0;
            }
            n = self.nodes[i].lvl_nxt.get();
        }
        let mut cnt = 0;
        let mut n = Some(start);
        // Each put drops one reference; a node goes once its last one is dropped.
        let mut guard = 0usize;
        while n.is_some() && guard < 1 << 20 {
            cnt += self.node_put(&mut n);
            guard += 1;
        }
        cnt
    }

    /// Drops a reference to a tree (sub-level) and frees its level if it became unreferenced.
    pub(crate) fn tree_put(&mut self, tree: &mut Option<Id>) -> u32 {
        let mut cnt = self.node_put(tree);
        if let Some(t) = *tree {
            cnt += self.level_clean(t);
        }
        cnt
    }

    /// Removes `node`, the last node of the prune walk's way down ([`Aux::walk`]), from
    /// the syscall's tree (`*chains`), as libseccomp's search of the whole tree does.
    ///
    /// The search goes through the tree depth first, removes the first zombie node or
    /// occurrence of `node` it meets (a node reached from two parents is met once per
    /// parent), then the nodes on its way there that this leaves zombies, and stops. Where
    /// it can meet no zombie, it acts only on the levels from which `node` can be reached:
    /// when [`Tree::region`] finds them all, the search keeps to them while that holds
    /// ([`Tree::passes`]). A fuzzed minijail policy's 6,000 removals from a tree of 14,000
    /// nodes went over 84 million nodes, most of its build's 0.96 s (0.2 s kept to regions).
    fn tree_remove(&mut self, chains: &mut Option<Id>, node: Id) -> u32 {
        let a = self.aux.get_or_insert_with(Default::default);
        let (walk, mut region) = (std::mem::take(&mut a.walk), std::mem::take(&mut a.region));
        let keep_to =
            !plain() && self.zombie_free(*chains) && self.region(&walk, *chains, node, &mut region);
        #[cfg(test)]
        if !plain() {
            REMOVALS.with(|c| c.set(c.get() + 1 + if keep_to { 1 << 32 } else { 0 }));
        }
        let mut keep = keep_to.then(|| Keep {
            region: &region,
            seen: self.aux.as_deref().map_or(0, |a| a.suspects.len()),
        });
        let cnt = self.search_remove(chains, node, &mut keep);
        region.clear();
        let a = self.aux.get_or_insert_with(Default::default);
        (a.walk, a.region) = (walk, region);
        cnt
    }

    /// Whether the search kept to `keep`'s region passes over the level at `e` (outside it),
    /// which the whole search would go through without effect. Where the search's own
    /// changes left a zombie outside the region that the whole search could meet (a node
    /// freed, or one whose successor went), it no longer keeps to the region.
    fn passes(&self, e: Option<Id>, keep: &mut Option<Keep<'_>>) -> bool {
        let (Some(e), Some(k)) = (e, keep.as_mut()) else {
            return false;
        };
        if k.region.contains_key(&e) {
            return false;
        }
        let suspects = self.aux.as_deref().map_or(&[][..], |a| &a.suspects[..]);
        while let Some(&i) = suspects.get(k.seen) {
            k.seen += 1;
            let n = &self.nodes[i];
            if n.is_zombie() && n.reachable() && !k.region.contains_key(&i) {
                *keep = None;
                return false;
            }
        }
        true
    }

    /// Whether [`Tree::tree_remove`]'s search of the tree at `root` can meet no zombie: none
    /// has a parent, a level or is the root. A freed node can have a parent: libseccomp's
    /// search leaves the edges to a node it frees from other parents than the one it came
    /// from, and meets it again, a zombie. (Drops the suspects that no longer matter.)
    fn zombie_free(&mut self, root: Option<Id>) -> bool {
        let Some(a) = self.aux.as_deref_mut() else {
            return true;
        };
        let nodes = &self.nodes;
        a.suspects.retain(|&i| {
            nodes
                .get(i)
                .is_some_and(|n| n.is_zombie() && (n.refcnt > 0 || n.reachable()))
        });
        a.suspects
            .iter()
            .all(|&i| !nodes[i].reachable() && Some(i) != root)
    }

    /// Fills `region` with the nodes of a set of levels that holds every level from which
    /// `node` can be reached, each with its level's first node, and says whether it could:
    /// the levels of the prune walk's way down from the root level to `node`'s (`walk`,
    /// [`Aux::walk`]) and those one or two edges aside from the way (a rule's `!=` or range
    /// comparison reaches the next argument's level from two nodes), if every edge into
    /// them comes from one of them. (A way into `node`'s level from elsewhere would end in
    /// an edge from outside.)
    fn region(
        &self,
        walk: &[(Id, bool)],
        root: Option<Id>,
        node: Id,
        region: &mut IdMap<Id>,
    ) -> bool {
        let Some(r) = root else { return false };
        let mut levels: Vec<Id> = vec![self.level_start(r)];
        for &(p, t) in walk {
            let (Some(c), Some(&at)) = (self.nodes[p].edge(t).0, levels.last()) else {
                return false;
            };
            if self.level_start(p) != at {
                return false;
            }
            levels.push(self.level_start(c));
        }
        if levels.last() != Some(&self.level_start(node)) {
            return false;
        }
        let mut ok = true;
        for &l in &levels {
            ok = ok && self.take_level(l, region, &mut Vec::new());
        }
        // Then the levels one edge from the way's nodes, and one edge from theirs.
        let mut aside: Vec<Id> = walk.iter().map(|&(p, _)| p).collect();
        for _ in 0..2 {
            let mut next = Vec::new();
            for &p in &aside {
                for e in self.nodes[p].successors() {
                    ok = ok && self.take_level(self.level_start(e), region, &mut next);
                }
            }
            aside = next;
        }
        if ok {
            // Every edge into a level of the region comes from the region.
            let mut inside: IdMap<u32> = IdMap::default();
            for &i in region.keys() {
                for e in self.nodes[i].successors() {
                    if let Some(&l) = region.get(&e) {
                        *inside.entry(l).or_default() += 1;
                    }
                }
            }
            let mut into: IdMap<u32> = IdMap::default();
            for (&i, &l) in region.iter() {
                *into.entry(l).or_default() += self.nodes[i].parents;
            }
            ok = into
                .iter()
                .all(|(l, &n)| inside.get(l).copied().unwrap_or(0) == n);
        }
        if !ok {
            region.clear();
        }
        ok
    }

    /// Adds the nodes of the level that starts at `l` to `region` (unless they are in it)
    /// and to `added`; false once the region is too large to save the search much.
    fn take_level(&self, l: Id, region: &mut IdMap<Id>, added: &mut Vec<Id>) -> bool {
        /// Nodes in a region, at most.
        const BUDGET: usize = 4096;
        if !region.contains_key(&l) {
            let mut c = Some(l);
            while let Some(i) = c {
                region.insert(i, l);
                added.push(i);
                c = self.nodes[i].lvl_nxt.get();
            }
        }
        region.len() <= BUDGET
    }

    /// Takes `ci` out of its level (pointing `*tree` at a neighbour if it pointed at `ci`)
    /// and drops the level's reference to it.
    fn unlink_put(&mut self, tree: &mut Option<Id>, ci: Id) -> u32 {
        self.changes += 1;
        self.left(ci);
        if Some(ci) == *tree {
            *tree = self.nodes[ci]
                .lvl_prv
                .get()
                .or(self.nodes[ci].lvl_nxt.get());
        }
        let (p, x) = (self.nodes[ci].lvl_prv.get(), self.nodes[ci].lvl_nxt.get());
        if let Some(p) = p {
            self.nm(p).lvl_nxt = Link::from(x);
        }
        if let Some(x) = x {
            self.nm(x).lvl_prv = Link::from(p);
        }
        let c = self.nm(ci);
        c.lvl_prv = Link::NONE;
        c.lvl_nxt = Link::NONE;
        let mut cc = Some(ci);
        self.node_put(&mut cc)
    }

    /// libseccomp's search for [`Tree::tree_remove`] (kept to a region while `keep` says so).
    fn search_remove(
        &mut self,
        tree: &mut Option<Id>,
        node: Id,
        keep: &mut Option<Keep<'_>>,
    ) -> u32 {
        let Some(t) = *tree else { return 0 };
        let mut cnt = 0;
        let mut c = Some(self.level_start(t));
        while let Some(mut ci) = c {
            if let Some(s) = self.indexed(ci) {
                // A plain leaf other than `node` is passed over without effect: go to the
                // next other sibling.
                let l = self.level(s);
                let pc = pos(&self.nodes[ci]);
                let busy = l.inner.range(pc..).next().map(|(&p, &i)| (p, i));
                let target = (self.indexed(node) == Some(s))
                    .then(|| (pos(&self.nodes[node]), node))
                    .filter(|&(p, _)| p >= pc);
                match (busy, target) {
                    (Some(a), Some(b)) => ci = a.min(b).1,
                    (Some((_, i)), None) | (None, Some((_, i))) => ci = i,
                    (None, None) => break,
                }
            }
            let remove = if ci == node {
                true
            } else {
                let mut nt = self.nodes[ci].nxt_t.get();
                if !self.passes(nt, keep) {
                    cnt += self.search_remove(&mut nt, node, keep);
                }
                if nt != self.nodes[ci].nxt_t.get() {
                    self.set_next(ci, true, nt);
                }
                let mut nf = self.nodes[ci].nxt_f.get();
                if !self.passes(nf, keep) {
                    cnt += self.search_remove(&mut nf, node, keep);
                }
                if nf != self.nodes[ci].nxt_f.get() {
                    self.set_next(ci, false, nf);
                }
                self.nodes[ci].is_zombie()
            };
            if remove {
                return cnt + self.unlink_put(tree, ci);
            }
            c = self.nodes[ci].lvl_nxt.get();
            if cnt != 0 {
                break;
            }
        }
        cnt
    }

    /// Whether every action in the tree at `id` (all levels below) equals `action`.
    fn act_check(&self, id: Option<Id>, action: u32) -> bool {
        let Some(t) = id else { return true };
        if self.actions.iter().all(|&a| a == action) && !plain() {
            // No node of the arena has another action.
            return true;
        }
        let start = self.level_start(t);
        if let Some(s) = self.indexed(start) {
            // (A pure check: the order of the tests does not matter.)
            let l = self.level(s);
            return l.acts.keys().all(|&a| a == action)
                && l.inner.values().all(|&i| {
                    let n = &self.nodes[i];
                    self.act_check(n.nxt_t.get(), action) && self.act_check(n.nxt_f.get(), action)
                });
        }
        let mut c = Some(start);
        while let Some(ci) = c {
            let n = &self.nodes[ci];
            if n.act_t.is_some_and(|a| a != action) || n.act_f.is_some_and(|a| a != action) {
                return false;
            }
            if !self.act_check(n.nxt_t.get(), action) || !self.act_check(n.nxt_f.get(), action) {
                return false;
            }
            c = n.lvl_nxt.get();
        }
        true
    }

    /// Removes parts of the existing tree made redundant by the new (single-path) tree `new`,
    /// or flags the new tree as redundant. `chains` is the syscall's root pointer. Returns the
    /// number of nodes removed.
    pub(crate) fn prune(
        &mut self,
        chains: &mut Option<Id>,
        existing: Option<Id>,
        new: Option<Id>,
        state: &mut PruneState,
    ) -> u32 {
        #[cfg(test)]
        WALKS.with(|c| c.set(c.get() + 1));
        let mut cnt = 0;
        let mut state_new = *state;
        let (Some(x0), Some(n_iter)) = (existing, new) else {
            return self.prune_return(state, state_new, cnt);
        };
        if state.flags & IST_MATCHSET == IST_MATCH_ONCE {
            return self.prune_return(state, state_new, cnt);
        }
        // The siblings this walk acts on; it passes over the others without effect, so
        // where the level is indexed, it skips them.
        let once = state.flags & IST_MATCH_ONCE != 0;
        //
        // A less sibling's walk looks for `n` among that sibling's successors; a greater
        // sibling's walk looks for `n`'s successors in this level; neither acts on anything
        // without a node `chain_eq` to what it looks for. Once something matched
        // (IST_MATCH_ONCE), neither walks at all.
        let n_sig = sig(&self.nodes[n_iter]);
        let act = Active {
            n: n_iter,
            key: key(&self.nodes[n_iter]),
            sig: n_sig,
            // (Below an existing prefix, a greater sibling ends libseccomp's walk and is
            // passed over by the normal mode's.)
            gt_all: std::cell::Cell::new(if state.flags & IST_X_PREFIX != 0 {
                Some(state.libseccomp || state.stops)
            } else if once || !self.nodes[n_iter].has_children() {
                Some(false)
            } else {
                None
            }),
            lt: if state.flags & IST_N_PREFIX != 0 {
                LtActive::All
            } else if once || !self.sig_may_exist(n_sig, n_iter) {
                LtActive::None
            } else {
                LtActive::Inner
            },
        };
        let mut steps = 0;
        // `changes` after a greater sibling's walks that matched nothing and changed nothing.
        let mut greater_clean = None;
        let first = self.level_start(x0);
        let mut x_iter = Some(first);
        // Below an existing prefix libseccomp's walk stops at a sibling that sorts before
        // `n` (or beside it, after nodes like it), returning what it found up to there. The
        // normal mode's walks on past it, to drop the branches `n` covers there too, and then
        // returns what libseccomp's does: what it found past the stop never stops the walks
        // above, nor lets them go on where libseccomp's stop (README, deliberate
        // differences, 12). `stop`: the nodes before it.
        let stop = if !state.libseccomp && !state.stops && state.flags & IST_X_PREFIX != 0 {
            self.libseccomp_stop(first, n_iter)
        } else {
            None
        };
        #[cfg(any(test, feature = "__internal-test"))]
        {
            self.met_stop |= stop.is_some();
        }
        'level: while let Some(mut xi) = x_iter {
            if let Some(s) = self.indexed(xi) {
                match self.next_active(s, xi, &act) {
                    Some(y) => xi = y,
                    None => break,
                }
            } else {
                steps += 1;
                if steps == INDEX_AFTER {
                    self.build(xi);
                }
            }
            if let Some(before) = &stop {
                if state_new.lib_stop.is_none() && !before.contains(&xi) {
                    state_new.lib_stop = Some(state_new.flags);
                }
            }
            let x_next = self.nodes[xi].lvl_nxt.get();
            let mut xcur = Some(xi);
            if chain_eq(&self.nodes[xi], &self.nodes[n_iter]) {
                state_new.flags |= IST_MATCHSET;
                if self.nodes[n_iter].is_leaf() {
                    state_new.flags |= IST_N_FINISHED;
                }
                if self.nodes[xi].is_leaf() {
                    state_new.flags |= IST_X_FINISHED;
                }
                let (x, n) = (&self.nodes[xi], &self.nodes[n_iter]);
                let decides = |n: &Node, t: bool| {
                    let (nxt, act) = n.edge(t);
                    nxt.is_some() || act.is_some()
                };
                if (decides(x, true) && !decides(n, true))
                    || (decides(x, false) && !decides(n, false))
                {
                    // The existing node decides an edge the new one leaves open: the two
                    // trees differ here, and nothing may be removed. libseccomp still returns
                    // a match, from which its callers conclude that one rule covers the other:
                    // that the new rule is redundant (a longer rule whose other edge the
                    // existing node does not decide, `{a5 < 7}` then `{a1 >= 3, a5 >= 7}` on
                    // a 32-bit ABI, is dropped) or that the existing branch is (README,
                    // deliberate differences, 9). The normal mode returns no match.
                    if state.libseccomp {
                        self.quirk |= QUIRK_MERGE;
                    } else {
                        state_new.flags &= !IST_MATCH;
                    }
                    return self.prune_return(state, state_new, cnt);
                }
                if state_new.flags & IST_N_FINISHED != 0
                    && state_new.flags & IST_X_FINISHED != 0
                    && (n.act_t != x.act_t || n.act_f != x.act_f)
                {
                    return self.prune_return(state, state_new, cnt);
                }
                for branch_t in [true, false] {
                    let n_child = self.nodes[n_iter].edge(branch_t).0;
                    let Some(n_child) = n_child else { continue };
                    let Some(xc) = xcur else { break };
                    self.get(Some(xc));
                    let mut state_nxt = *state;
                    state_nxt.flags |= IST_MATCHSET;
                    let x_child = self.nodes[xc].edge(branch_t).0;
                    self.aux
                        .get_or_insert_with(Default::default)
                        .walk
                        .push((xc, branch_t));
                    cnt += self.prune(chains, x_child, Some(n_child), &mut state_nxt);
                    self.aux.as_deref_mut().map(|a| a.walk.pop());
                    cnt += self.node_put(&mut xcur);
                    if state_nxt.flags & IST_MATCH != 0 {
                        state_new.flags |= state_nxt.flags;
                    }
                    if xcur.is_none() {
                        x_iter = x_next;
                        continue 'level;
                    }
                }
                let Some(xc) = xcur else {
                    x_iter = x_next;
                    continue;
                };
                // (On a forked rule, a parent's flags join what its two ways found: one way's
                // leaf does not make the parent's branch covered.)
                let shorter = state_new.flags & IST_MATCH != 0
                    && state_new.flags & IST_N_FINISHED != 0
                    && state_new.flags & IST_X_PREFIX != 0
                    && !(state.forked && self.nodes[n_iter].has_children());
                let longer = state_new.flags & IST_MATCH != 0
                    && state_new.flags & IST_X_FINISHED != 0
                    && state_new.flags & IST_N_PREFIX != 0;
                // Checks the node's whole level, as libseccomp does (only when it matters:
                // it has no effect).
                let act_ok = (shorter || longer) && self.act_check(Some(xc), state_new.action);
                if act_ok && shorter {
                    // The new tree is shorter: drop the existing branch.
                    cnt += self.tree_remove(chains, xc);
                    if chains.is_none() {
                        return self.prune_return(state, state_new, cnt);
                    }
                } else if act_ok && longer {
                    // The new tree is longer.
                    return self.prune_return(state, state_new, cnt);
                }
            } else if chain_lt(&self.nodes[xi], &self.nodes[n_iter]) {
                if state.flags & IST_N_PREFIX != 0 {
                    return self.prune_return(state, state_new, cnt);
                }
                for branch_t in [true, false] {
                    let Some(xc) = xcur else { break };
                    let x_child = self.nodes[xc].edge(branch_t).0;
                    if x_child.is_none() {
                        continue;
                    }
                    self.get(Some(xc));
                    let mut state_nxt = *state;
                    state_nxt.flags &= !IST_MATCH;
                    state_nxt.flags |= IST_X_PREFIX;
                    self.aux
                        .get_or_insert_with(Default::default)
                        .walk
                        .push((xc, branch_t));
                    cnt += self.prune(chains, x_child, Some(n_iter), &mut state_nxt);
                    self.aux.as_deref_mut().map(|a| a.walk.pop());
                    cnt += self.node_put(&mut xcur);
                    if state_nxt.flags & IST_MATCH != 0 {
                        state_new.flags |= state_nxt.flags;
                        return self.prune_return(state, state_new, cnt);
                    }
                    if xcur.is_none() {
                        break;
                    }
                }
            } else {
                if state.flags & IST_X_PREFIX != 0 {
                    // libseccomp's stop (`stop` above); the level is in descending order,
                    // so it finds `n` (and drops the branch it covers) only where `n` is the
                    // greatest. The normal mode passes over it: which branches a shorter rule
                    // drops does not depend on which siblings sort first (the one-bit masks
                    // with the pairs first: 403 instructions, 243 either way now).
                    if state.libseccomp || state.stops {
                        return self.prune_return(state, state_new, cnt);
                    }
                    x_iter = x_next;
                    continue;
                }
                // A greater sibling's walks go over this whole level again, one level down
                // the new tree: the same walks for every greater sibling (libseccomp repeats
                // them: for a level of k greater siblings, k^depth walks down a long new
                // rule). They change nothing themselves (the new tree's prefix stops a less
                // sibling's walk below, and only that one finds an existing branch to drop),
                // but a sibling between two greater ones may: `changes` tells.
                if greater_clean == Some(self.changes) && !plain() {
                    x_iter = x_next;
                    continue;
                }
                let before = self.changes;
                for branch_t in [true, false] {
                    let n_child = self.nodes[n_iter].edge(branch_t).0;
                    let Some(n_child) = n_child else { continue };
                    let Some(xc) = xcur else { break };
                    self.get(Some(xc));
                    let mut state_nxt = *state;
                    state_nxt.flags &= !IST_MATCH;
                    state_nxt.flags |= IST_N_PREFIX;
                    // The existing level is compared again, one level down the new tree.
                    let mut xref = Some(xc);
                    cnt += self.prune(chains, xref, Some(n_child), &mut state_nxt);
                    cnt += self.node_put(&mut xref);
                    xcur = xref;
                    if state_nxt.flags & IST_MATCH != 0 {
                        state_new.flags |= state_nxt.flags;
                        return self.prune_return(state, state_new, cnt);
                    }
                    if xcur.is_none() {
                        break;
                    }
                }
                if self.changes == before {
                    greater_clean = Some(before);
                }
            }
            x_iter = x_next;
        }
        if stop.is_some() && state_new.lib_stop.is_none() {
            // Nothing after the stop was looked at: libseccomp's returns what was found.
            state_new.lib_stop = Some(state_new.flags);
        }
        state_new.flags &= !IST_MATCH;
        self.prune_return(state, state_new, cnt)
    }

    /// Where libseccomp 2.5.4's prune walk, looking for `n` below an existing prefix, stops in
    /// the level from `first`: at its first node neither `chain_eq` to `n` nor `chain_lt` than
    /// it. The level is in descending order, so that is its first node or one of `n`'s key
    /// after nodes `chain_eq` to `n`: those are returned (the nodes before the stop), `None`
    /// where the walk does not stop. A short scan.
    fn libseccomp_stop(&self, first: Id, n: Id) -> Option<Vec<Id>> {
        let nn = &self.nodes[n];
        let mut before = Vec::new();
        let mut y = Some(first);
        while let Some(i) = y {
            let ni = &self.nodes[i];
            if chain_lt(ni, nn) {
                return None;
            }
            if !chain_eq(ni, nn) {
                return Some(before);
            }
            before.push(i);
            y = ni.lvl_nxt.get();
        }
        None
    }

    /// Whether the normal mode's prune walk met a level where libseccomp 2.5.4's stops since
    /// the last call (test builds only).
    #[cfg(any(test, feature = "__internal-test"))]
    pub(crate) fn met_libseccomp_stop(&mut self) -> bool {
        std::mem::take(&mut self.met_stop)
    }

    /// Whether the tree from `root` here and the one from `other_root` in `other` are the
    /// same: the same comparisons and actions in the same places (test builds only).
    #[cfg(any(test, feature = "__internal-test"))]
    pub(crate) fn same_shape(
        &self,
        root: Option<Id>,
        other: &Tree,
        other_root: Option<Id>,
    ) -> bool {
        let mut todo = vec![(root, other_root)];
        let mut seen = std::collections::HashSet::new();
        while let Some(pair) = todo.pop() {
            let (a, b) = match pair {
                (None, None) => continue,
                (Some(a), Some(b)) => (a, b),
                _ => return false,
            };
            if !seen.insert((a, b)) {
                continue;
            }
            let (x, y) = (&self.nodes[a], &other.nodes[b]);
            if !chain_eq(x, y) || x.hi != y.hi || x.act_t != y.act_t || x.act_f != y.act_f {
                return false;
            }
            todo.push((x.nxt_t.get(), y.nxt_t.get()));
            todo.push((x.nxt_f.get(), y.nxt_f.get()));
            todo.push((x.lvl_nxt.get(), y.lvl_nxt.get()));
        }
        true
    }

    fn prune_return(&self, state: &mut PruneState, state_new: PruneState, cnt: u32) -> u32 {
        // Past libseccomp's stop, what libseccomp's walk returned there.
        let flags = state_new.lib_stop.unwrap_or(state_new.flags);
        if flags & IST_MATCH != 0 {
            state.flags |= flags;
        } else {
            state.flags &= !IST_MATCH;
        }
        cnt
    }

    /// A copy of the sub-tree at `id` (the node, its true/false successors, recursively; not
    /// its siblings), keeping the sharing inside it.
    pub(crate) fn clone_subtree(
        &mut self,
        id: Id,
        memo: &mut std::collections::HashMap<Id, Id>,
    ) -> Id {
        if let Some(&c) = memo.get(&id) {
            return c;
        }
        let mut n = self.nodes[id].clone();
        n.lvl_prv = Link::NONE;
        n.lvl_nxt = Link::NONE;
        n.refcnt = 0;
        n.slot = NO_SLOT;
        n.in_idx = false;
        n.copy = true;
        let c = self.push(n);
        if self.nodes[c].is_zombie() {
            self.suspect(c);
        }
        memo.insert(id, c);
        for t in [true, false] {
            let child = if t {
                self.nodes[c].nxt_t.get()
            } else {
                self.nodes[c].nxt_f.get()
            };
            if let Some(ch) = child {
                let cc = self.clone_subtree(ch, memo);
                let g = self.get(Some(cc));
                self.set_next(c, t, g);
            }
        }
        c
    }

    /// Whether more than one edge leads into the level of `x` (compat mode's graphs only: the
    /// normal mode's are trees).
    fn level_shared(&self, x: Id) -> bool {
        let mut into = 0;
        let mut c = Some(self.level_start(x));
        while let Some(i) = c {
            into += self.nodes[i].parents;
            c = self.nodes[i].lvl_nxt.get();
        }
        into > 1
    }

    /// Whether the rule graph at `n` forks: a node of it leads on from both edges.
    pub(crate) fn forks(&self, n: Id) -> bool {
        let mut stack = vec![n];
        while let Some(i) = stack.pop() {
            let node = &self.nodes[i];
            if node.nxt_t.get().is_some() && node.nxt_f.get().is_some() {
                return true;
            }
            stack.extend(node.successors());
        }
        false
    }

    /// In compat mode, before the new rule's sub-tree at `n` is attached whole: notes
    /// (`quirk`) when one of its nodes is already linked into an existing level, which the
    /// merge did through the rule's other way to it; that level's other nodes then follow it
    /// here too (README, deliberate differences, 9). The normal mode's rule graphs are trees
    /// ([`super::rule_gen`]): no node of them has two ways to it.
    fn note_linked_tail(&mut self, n: Id) {
        let mut stack = vec![n];
        let mut seen: Vec<Id> = Vec::new();
        let mut linked = false;
        while let Some(i) = stack.pop() {
            if seen.contains(&i) {
                continue;
            }
            seen.push(i);
            let node = &self.nodes[i];
            if node.linked() {
                linked = true;
                break;
            }
            stack.extend(node.successors());
        }
        if linked {
            self.quirk |= QUIRK_MERGE;
        }
    }

    /// Merges the new rule's tree `new` into the level at `*existing`.
    ///
    /// In compat mode a rule's graph can reach one node from two parents (the next argument
    /// after a range or `!=` comparison; the normal mode's are trees, [`super::rule_gen`]).
    /// libseccomp links such a node into a second level when both parents merge into
    /// different existing levels, which corrupts the first level (it then loops forever, or
    /// runs on into the other). Compat mode links a copy instead, so each level stays a
    /// proper list.
    ///
    /// `libseccomp` (compat mode): libseccomp 2.5.4's merge, where it differs (the merge of a
    /// range's true edge ends the node's merge; [`Tree::quirk`] notes where it matters).
    pub(crate) fn add(
        &mut self,
        existing: &mut Option<Id>,
        new: Id,
        removed: &mut u32,
        libseccomp: bool,
    ) -> Result<(), Conflict> {
        let Some(x) = *existing else {
            if libseccomp {
                self.note_linked_tail(new);
            }
            *existing = self.get(Some(new));
            return Ok(());
        };
        let mut n = new;
        if self.nodes[n].linked() {
            // libseccomp links it into this level too (difference 4): the two levels then
            // run into each other, or in a cycle. (Compat mode only: see above.)
            debug_assert!(libseccomp, "the normal mode's rule graphs are trees");
            if libseccomp {
                self.quirk |= QUIRK_LINK;
            }
            n = self.clone_subtree(n, &mut std::collections::HashMap::new());
        }
        match self.locate(x, n) {
            Spot::Merge(x) => {
                for t in [true, false] {
                    let (x_next, x_act) = self.nodes[x].edge(t);
                    let Some(na) = self.nodes[n].edge(t).1 else {
                        continue;
                    };
                    match x_act {
                        None => {
                            if !self.act_check(x_next, na) {
                                return Err(Conflict);
                            }
                            let mut sub = x_next;
                            *removed += self.node_put(&mut sub);
                            self.set_next(x, t, None);
                            self.set_act(x, t, Some(na));
                        }
                        Some(xa) if xa != na => {
                            // The 64-bit range merge: on a shared high-word node the rule with
                            // the larger full value decides the true edge, the smaller one the
                            // false edge. (libseccomp before 2.6.1 wrote the true edge in both
                            // cases, weakening filters: GHSA-4q85-33p6-j5g6; we implement the
                            // fixed behaviour. The high-word nodes whose false edge ends in an
                            // action, `==` ones, have none on their true edge, so libseccomp
                            // 2.5.4's write changes nothing: compat mode keeps the existing
                            // false-edge action, README difference 5.)
                            let (nd, xd) = (self.nodes[n].datum_full, self.nodes[x].datum_full);
                            if self.nodes[n].hi && if t { nd > xd } else { nd < xd } {
                                if t || !libseccomp {
                                    self.set_act(x, t, Some(na));
                                } else {
                                    self.quirk |= QUIRK_RANGE;
                                }
                            }
                            if self.nodes[x].is_leaf() || self.nodes[n].is_leaf() {
                                return Err(Conflict);
                            }
                        }
                        Some(_) => {}
                    }
                }
                for t in [true, false] {
                    let Some(nc) = self.nodes[n].edge(t).0 else {
                        continue;
                    };
                    match self.nodes[x].edge(t) {
                        (Some(xc), _) => {
                            if libseccomp && self.level_shared(xc) {
                                // What merges into it reaches the other parent's path too.
                                self.quirk |= QUIRK_MERGE;
                            }
                            let mut xc = Some(xc);
                            self.add(&mut xc, nc, removed, libseccomp)?;
                            self.set_next(x, t, xc);
                        }
                        (None, None) => {
                            if libseccomp {
                                self.note_linked_tail(nc);
                            }
                            let g = self.get(Some(nc));
                            self.set_next(x, t, g);
                        }
                        // The existing tree is shorter: its action covers this edge. libseccomp
                        // stops there, the false edge unmerged when this was the true one (a
                        // range comparison leads on from both: README, deliberate differences,
                        // 9); the normal mode goes on to it.
                        (None, Some(_)) => {
                            if libseccomp {
                                if t && self.nodes[n].nxt_f.get().is_some() {
                                    self.quirk |= QUIRK_MERGE;
                                }
                                return Ok(());
                            }
                        }
                    }
                }
            }
            Spot::After(x) => {
                if libseccomp {
                    self.note_linked_tail(n);
                }
                let g = self.get(Some(x));
                self.nm(n).lvl_prv = Link::from(g);
                let g = self.get(Some(n));
                self.nm(x).lvl_nxt = Link::from(g);
                self.joined(n, x);
            }
            Spot::Before(x) => {
                if libseccomp {
                    self.note_linked_tail(n);
                }
                if let Some(p) = self.nodes[x].lvl_prv.get() {
                    let g = self.get(Some(n));
                    self.nm(p).lvl_nxt = Link::from(g);
                    self.nm(n).lvl_prv = Link::from(Some(p));
                    let g = self.get(Some(n));
                    self.nm(x).lvl_prv = Link::from(g);
                    self.nm(n).lvl_nxt = Link::from(Some(x));
                } else {
                    let g = self.get(Some(n));
                    self.nm(x).lvl_prv = Link::from(g);
                    let g = self.get(Some(x));
                    self.nm(n).lvl_nxt = Link::from(g);
                }
                self.joined(n, x);
                if *existing == Some(x) {
                    *existing = self.get(Some(n));
                    let mut xx = Some(x);
                    self.node_put(&mut xx);
                }
            }
        }
        Ok(())
    }

    /// Evaluates the level starting at `id` for the given argument words; `None` when
    /// evaluation falls off the end of the level.
    pub(crate) fn eval(&self, id: Id, word: &dyn Fn(u32) -> u32) -> Option<u32> {
        let mut c = Some(self.level_start(id));
        while let Some(ci) = c {
            let n = &self.nodes[ci];
            let taken = n.test(word(n.offset));
            let (nxt, act) = if taken {
                (n.nxt_t.get(), n.act_t)
            } else {
                (n.nxt_f.get(), n.act_f)
            };
            if let Some(child) = nxt {
                if let Some(a) = self.eval(child, word) {
                    return Some(a);
                }
            } else if let Some(a) = act {
                return Some(a);
            }
            c = n.lvl_nxt.get();
        }
        None
    }
}

#[cfg(test)]
pub(crate) type Shape = (
    (u8, bool, u32, Cmp, OrigOp, u32, u32, u64),
    (Option<u32>, Option<u32>, Option<Id>, Option<Id>),
    (Option<Id>, Option<Id>, u32),
);

#[cfg(test)]
impl Tree {
    /// The graph without the index bookkeeping, to compare trees.
    pub(crate) fn shape(&self) -> Vec<Shape> {
        self.nodes
            .iter()
            .map(|n| {
                (
                    (
                        n.arg,
                        n.hi,
                        n.offset,
                        n.op,
                        n.op_orig,
                        n.mask,
                        n.datum,
                        n.datum_full,
                    ),
                    (n.act_t, n.act_f, n.nxt_t.get(), n.nxt_f.get()),
                    (n.lvl_prv.get(), n.lvl_nxt.get(), n.refcnt),
                )
            })
            .collect()
    }

    /// Checks every maintained level index against its level's list; returns how many there
    /// are.
    pub(crate) fn check_indexes(&self) -> usize {
        let mut parents = vec![0u32; self.nodes.len()];
        for n in &self.nodes {
            for e in n.successors() {
                parents[e] += 1;
            }
        }
        for (i, n) in self.nodes.iter().enumerate() {
            assert_eq!(n.parents, parents[i], "node {i}: edges in");
            if n.is_zombie() && (n.refcnt > 0 || n.reachable()) {
                assert!(
                    self.aux.as_ref().is_some_and(|a| a.suspects.contains(&i)),
                    "zombie {i} not a suspect"
                );
            }
        }
        let Some(a) = self.aux.as_deref() else {
            return 0;
        };
        assert!(!a.logging, "a rule add left its log running");
        let mut live = 0;
        for (s, l) in a.levels.iter().enumerate() {
            if l.linear {
                continue;
            }
            live += 1;
            assert_eq!(l.first, l.by_pos.iter().next().map(|(&p, &i)| (p, i)));
            let Some(&first) = l.by_pos.values().next() else {
                continue;
            };
            assert_eq!(
                self.nodes[first].lvl_prv.get(),
                None,
                "index {s}: not the list head"
            );
            let mut list = Vec::new();
            let mut c = Some(first);
            while let Some(i) = c {
                list.push(i);
                c = self.nodes[i].lvl_nxt.get();
            }
            let ids: Vec<Id> = l.by_pos.values().copied().collect();
            assert_eq!(ids, list, "index {s}: not the list");
            for (&p, &i) in &l.by_pos {
                let n = &self.nodes[i];
                assert!(n.in_idx);
                assert_eq!(n.slot as usize, s);
                assert_eq!(pos(n), p);
                assert!(l.by_sig.contains(sig(n), p, i));
                let m = Summary::of(n);
                assert_eq!(l.inner.get(&p) == Some(&i), m.inner);
            }
            assert_eq!(l.by_sig.len(), l.by_pos.len());
            assert!(l.inner.len() <= l.by_pos.len());
            let mut acts: HashMap<u32, u32> = HashMap::new();
            for &i in l.by_pos.values() {
                for a in [self.nodes[i].act_t, self.nodes[i].act_f]
                    .into_iter()
                    .flatten()
                {
                    *acts.entry(a).or_default() += 1;
                }
            }
            let have: HashMap<u32, u32> = l.acts.iter().map(|(&a, &c)| (a, c)).collect();
            assert_eq!(have, acts, "index {s}: action counts");
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.in_idx && !a.levels[n.slot as usize].linear {
                let l = &a.levels[n.slot as usize];
                assert_eq!(l.by_pos.get(&pos(n)), Some(&i), "node {i} not in its index");
            }
        }
        live
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_an_optional_id_in_four_bytes() {
        for id in [
            None,
            Some(0),
            Some(1),
            Some(4095),
            Some(u32::MAX as usize - 1),
        ] {
            assert_eq!(Link::from(id).get(), id);
        }
        assert_eq!(Link::NONE.get(), None);
        assert_eq!(std::mem::size_of::<Link>(), 4);
        // Every rule's nodes are allocated, grown and logged for undo: keep them small.
        assert!(
            std::mem::size_of::<Node>() <= 80,
            "{}",
            std::mem::size_of::<Node>()
        );
    }

    #[test]
    fn key_and_sig_are_the_sibling_relations() {
        let ops = [
            (Cmp::Eq, OrigOp::Eq),
            (Cmp::Eq, OrigOp::Ne),
            (Cmp::MaskedEq, OrigOp::MaskedEq),
            (Cmp::Gt, OrigOp::Gt),
            (Cmp::Ge, OrigOp::Ge),
            (Cmp::Ge, OrigOp::Lt),
            (Cmp::Gt, OrigOp::Le),
            (Cmp::Eq, OrigOp::Gt),
            (Cmp::Eq, OrigOp::Lt),
        ];
        let mut nodes = Vec::new();
        for arg in [0u8, 1, 5] {
            for hi in [false, true] {
                for &(op, orig) in &ops {
                    for mask in [u32::MAX, 0xf0] {
                        for datum in [0u32, 1, 0x10, 0x11, u32::MAX] {
                            nodes.push(Node::new(arg, hi, 0, op, orig, mask, datum, 0));
                        }
                    }
                }
            }
        }
        for a in &nodes {
            for b in &nodes {
                assert_eq!(chain_lt(a, b), key(a) < key(b), "{a:?} {b:?}");
                assert!(!chain_eq(a, b) || sig(a) == sig(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn the_signature_filter_holds_every_noted_node() {
        let mut t = Tree::default();
        let mut noted = 0;
        // Grown several times; each round notes the nodes made since the last.
        for round in 0..12u32 {
            for v in 0..(1u32 << round) {
                t.push(Node::new(
                    1,
                    false,
                    24,
                    Cmp::Eq,
                    OrigOp::Eq,
                    u32::MAX,
                    v * 7 + round,
                    0,
                ));
            }
            t.note_nodes();
            noted = t.nodes.len();
            let a = t.aux.as_deref().expect("noted");
            assert!(a.seen.fits(a.seen.count), "round {round}");
            for n in &t.nodes {
                assert!(t.sig_may_exist(sig(n), noted), "round {round}: {n:?}");
            }
        }
        // "Maybe" for an absent signature is rare (a bit in 16 set at most).
        let absent = (0..10_000u32)
            .map(|v| sig(&Node::new(2, true, 28, Cmp::Gt, OrigOp::Gt, 0xff, v, 0)))
            .filter(|&g| t.sig_may_exist(g, noted))
            .count();
        assert!(absent < 1_000, "{absent}");
        // Nodes made since the last note are not in it: no answer for them.
        assert!(t.sig_may_exist(0, 0));
    }
}
