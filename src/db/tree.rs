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

/// Index of a node in its [`Tree`] arena.
pub(crate) type Id = usize;

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
    pub nxt_t: Option<Id>,
    pub nxt_f: Option<Id>,
    pub lvl_prv: Option<Id>,
    pub lvl_nxt: Option<Id>,
    refcnt: u32,
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
            nxt_t: None,
            nxt_f: None,
            lvl_prv: None,
            lvl_nxt: None,
            refcnt: 0,
        }
    }

    /// The successor level and the action on the true (`t`) or false edge.
    fn edge(&self, t: bool) -> (Option<Id>, Option<u32>) {
        if t {
            (self.nxt_t, self.act_t)
        } else {
            (self.nxt_f, self.act_f)
        }
    }

    fn set_next(&mut self, t: bool, next: Option<Id>) {
        if t {
            self.nxt_t = next;
        } else {
            self.nxt_f = next;
        }
    }

    fn set_act(&mut self, t: bool, act: Option<u32>) {
        if t {
            self.act_t = act;
        } else {
            self.act_f = act;
        }
    }

    fn arg_priority(&self) -> u32 {
        (u32::from(self.arg) << 1) | u32::from(self.hi)
    }

    fn is_leaf(&self) -> bool {
        self.nxt_t.is_none() && self.nxt_f.is_none()
    }

    fn is_zombie(&self) -> bool {
        self.is_leaf() && self.act_t.is_none() && self.act_f.is_none()
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

/// Flags of the prune walk (which tree finished, which one is a prefix of the other).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PruneState {
    flags: u32,
    action: u32,
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

/// An arena of nodes. Nodes are never moved; freed nodes stay in place, unreferenced.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    pub(crate) fn push(&mut self, n: Node) -> Id {
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    pub(crate) fn get(&mut self, id: Option<Id>) -> Option<Id> {
        if let Some(i) = id {
            self.nodes[i].refcnt += 1;
        }
        id
    }

    /// The first node of the level `id` is on.
    pub(crate) fn level_start(&self, mut id: Id) -> Id {
        while let Some(p) = self.nodes[id].lvl_prv {
            id = p;
        }
        id
    }

    /// Drops one reference to `*node`; when it was the last, unlinks the node from its level,
    /// releases its sub-trees and points `*node` at a surviving sibling. Returns the number of
    /// nodes freed.
    fn node_put(&mut self, node: &mut Option<Id>) -> u32 {
        let Some(n) = *node else { return 0 };
        let mut cnt = 0;
        self.nodes[n].refcnt = self.nodes[n].refcnt.saturating_sub(1);
        if self.nodes[n].refcnt == 0 {
            let mut lvl_p = self.nodes[n].lvl_prv;
            let mut lvl_n = self.nodes[n].lvl_nxt;
            let mut nxt_t = self.nodes[n].nxt_t;
            let mut nxt_f = self.nodes[n].nxt_f;
            if let Some(p) = lvl_p {
                self.nodes[p].lvl_nxt = None;
            }
            if let Some(x) = lvl_n {
                self.nodes[x].lvl_prv = None;
            }
            cnt += self.node_put(&mut lvl_p);
            cnt += self.node_put(&mut lvl_n);
            if let Some(p) = lvl_p {
                self.nodes[p].lvl_nxt = self.get(lvl_n);
            }
            if let Some(x) = lvl_n {
                self.nodes[x].lvl_prv = self.get(lvl_p);
            }
            *node = lvl_p.or(lvl_n);
            cnt += self.tree_put(&mut nxt_t);
            cnt += self.tree_put(&mut nxt_f);
            let dead = &mut self.nodes[n];
            dead.nxt_t = None;
            dead.nxt_f = None;
            dead.lvl_prv = None;
            dead.lvl_nxt = None;
            cnt += 1;
        }
        cnt
    }

    /// Frees a whole level when nothing outside the level refers to it.
    fn level_clean(&mut self, node: Id) -> u32 {
        let start = self.level_start(node);
        let mut n = Some(start);
        while let Some(i) = n {
            let links = u32::from(self.nodes[i].lvl_prv.is_some())
                + u32::from(self.nodes[i].lvl_nxt.is_some());
            if self.nodes[i].refcnt > links {
                return 0;
            }
            n = self.nodes[i].lvl_nxt;
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

    /// Removes `node` (and zombie nodes met on the way) from the tree rooted at `*tree`.
    fn tree_remove(&mut self, tree: &mut Option<Id>, node: Id) -> u32 {
        let Some(t) = *tree else { return 0 };
        let mut cnt = 0;
        let mut c = Some(self.level_start(t));
        while let Some(ci) = c {
            let remove = if ci == node {
                true
            } else {
                let mut nt = self.nodes[ci].nxt_t;
                cnt += self.tree_remove(&mut nt, node);
                self.nodes[ci].nxt_t = nt;
                let mut nf = self.nodes[ci].nxt_f;
                cnt += self.tree_remove(&mut nf, node);
                self.nodes[ci].nxt_f = nf;
                self.nodes[ci].is_zombie()
            };
            if remove {
                if Some(ci) == *tree {
                    *tree = self.nodes[ci].lvl_prv.or(self.nodes[ci].lvl_nxt);
                }
                let (p, x) = (self.nodes[ci].lvl_prv, self.nodes[ci].lvl_nxt);
                if let Some(p) = p {
                    self.nodes[p].lvl_nxt = x;
                }
                if let Some(x) = x {
                    self.nodes[x].lvl_prv = p;
                }
                self.nodes[ci].lvl_prv = None;
                self.nodes[ci].lvl_nxt = None;
                let mut cc = Some(ci);
                cnt += self.node_put(&mut cc);
                return cnt;
            }
            c = self.nodes[ci].lvl_nxt;
            if cnt != 0 {
                break;
            }
        }
        cnt
    }

    /// Whether every action in the tree at `id` (all levels below) equals `action`.
    fn act_check(&self, id: Option<Id>, action: u32) -> bool {
        let Some(t) = id else { return true };
        let mut c = Some(self.level_start(t));
        while let Some(ci) = c {
            let n = &self.nodes[ci];
            if n.act_t.is_some_and(|a| a != action) || n.act_f.is_some_and(|a| a != action) {
                return false;
            }
            if !self.act_check(n.nxt_t, action) || !self.act_check(n.nxt_f, action) {
                return false;
            }
            c = n.lvl_nxt;
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
        let mut cnt = 0;
        let mut state_new = *state;
        let (Some(x0), Some(n_iter)) = (existing, new) else {
            return self.prune_return(state, state_new, cnt);
        };
        if state.flags & IST_MATCHSET == IST_MATCH_ONCE {
            return self.prune_return(state, state_new, cnt);
        }
        let mut x_iter = Some(self.level_start(x0));
        'level: while let Some(xi) = x_iter {
            let x_next = self.nodes[xi].lvl_nxt;
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
                if (x.act_t.is_some() || x.nxt_t.is_some())
                    && !(n.act_t.is_some() || n.nxt_t.is_some())
                {
                    return self.prune_return(state, state_new, cnt);
                }
                if (x.act_f.is_some() || x.nxt_f.is_some())
                    && !(n.act_f.is_some() || n.nxt_f.is_some())
                {
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
                    cnt += self.prune(chains, x_child, Some(n_child), &mut state_nxt);
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
                // Checks the node's whole level, as libseccomp does.
                let act_ok = self.act_check(Some(xc), state_new.action);
                if act_ok
                    && state_new.flags & IST_MATCH != 0
                    && state_new.flags & IST_N_FINISHED != 0
                    && state_new.flags & IST_X_PREFIX != 0
                {
                    // The new tree is shorter: drop the existing branch.
                    cnt += self.tree_remove(chains, xc);
                    if chains.is_none() {
                        return self.prune_return(state, state_new, cnt);
                    }
                } else if act_ok
                    && state_new.flags & IST_MATCH != 0
                    && state_new.flags & IST_X_FINISHED != 0
                    && state_new.flags & IST_N_PREFIX != 0
                {
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
                    cnt += self.prune(chains, x_child, Some(n_iter), &mut state_nxt);
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
                    return self.prune_return(state, state_new, cnt);
                }
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
            }
            x_iter = x_next;
        }
        state_new.flags &= !IST_MATCH;
        self.prune_return(state, state_new, cnt)
    }

    fn prune_return(&self, state: &mut PruneState, state_new: PruneState, cnt: u32) -> u32 {
        if state_new.flags & IST_MATCH != 0 {
            state.flags |= state_new.flags;
        } else {
            state.flags &= !IST_MATCH;
        }
        cnt
    }

    /// A copy of the sub-tree at `id` (the node, its true/false successors, recursively; not
    /// its siblings), keeping the sharing inside it.
    fn clone_subtree(&mut self, id: Id, memo: &mut std::collections::HashMap<Id, Id>) -> Id {
        if let Some(&c) = memo.get(&id) {
            return c;
        }
        let mut n = self.nodes[id].clone();
        n.lvl_prv = None;
        n.lvl_nxt = None;
        n.refcnt = 0;
        let c = self.push(n);
        memo.insert(id, c);
        for t in [true, false] {
            let child = if t {
                self.nodes[c].nxt_t
            } else {
                self.nodes[c].nxt_f
            };
            if let Some(ch) = child {
                let cc = self.clone_subtree(ch, memo);
                let g = self.get(Some(cc));
                if t {
                    self.nodes[c].nxt_t = g;
                } else {
                    self.nodes[c].nxt_f = g;
                }
            }
        }
        c
    }

    /// Merges the new single-path tree `new` into the level at `*existing`.
    ///
    /// A rule's graph can reach one node from two parents (the next argument after a range
    /// or `!=` comparison). libseccomp links such a node into a second level when both
    /// parents merge into different existing levels, which corrupts the first level (it
    /// then loops forever). We link a copy instead, so each level stays a proper list.
    pub(crate) fn add(
        &mut self,
        existing: &mut Option<Id>,
        new: Id,
        removed: &mut u32,
    ) -> Result<(), Conflict> {
        let Some(mut x) = *existing else {
            *existing = self.get(Some(new));
            return Ok(());
        };
        let mut n = new;
        if self.nodes[n].lvl_prv.is_some() || self.nodes[n].lvl_nxt.is_some() {
            n = self.clone_subtree(n, &mut std::collections::HashMap::new());
        }
        loop {
            if chain_eq(&self.nodes[x], &self.nodes[n]) {
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
                            self.nodes[x].set_next(t, None);
                            self.nodes[x].set_act(t, Some(na));
                        }
                        Some(xa) if xa != na => {
                            // The 64-bit range merge: on a shared high-word node the rule with
                            // the larger full value decides the true edge, the smaller one the
                            // false edge. (libseccomp before 2.6.1 wrote the true edge in both
                            // cases, weakening filters: GHSA-4q85-33p6-j5g6; we implement the
                            // fixed behaviour.)
                            let (nd, xd) = (self.nodes[n].datum_full, self.nodes[x].datum_full);
                            if self.nodes[n].hi && if t { nd > xd } else { nd < xd } {
                                self.nodes[x].set_act(t, Some(na));
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
                            let mut xc = Some(xc);
                            self.add(&mut xc, nc, removed)?;
                            self.nodes[x].set_next(t, xc);
                        }
                        (None, None) => {
                            let g = self.get(Some(nc));
                            self.nodes[x].set_next(t, g);
                        }
                        // The existing tree is shorter.
                        (None, Some(_)) => return Ok(()),
                    }
                }
                return Ok(());
            } else if !chain_lt(&self.nodes[x], &self.nodes[n]) {
                match self.nodes[x].lvl_nxt {
                    None => {
                        self.nodes[n].lvl_prv = self.get(Some(x));
                        self.nodes[x].lvl_nxt = self.get(Some(n));
                        return Ok(());
                    }
                    Some(nx) => x = nx,
                }
            } else {
                if let Some(p) = self.nodes[x].lvl_prv {
                    self.nodes[p].lvl_nxt = self.get(Some(n));
                    self.nodes[n].lvl_prv = Some(p);
                    self.nodes[x].lvl_prv = self.get(Some(n));
                    self.nodes[n].lvl_nxt = Some(x);
                } else {
                    self.nodes[x].lvl_prv = self.get(Some(n));
                    self.nodes[n].lvl_nxt = self.get(Some(x));
                }
                if *existing == Some(x) {
                    *existing = self.get(Some(n));
                    let mut xx = Some(x);
                    self.node_put(&mut xx);
                }
                return Ok(());
            }
        }
    }

    /// Evaluates the level starting at `id` for the given argument words; `None` when
    /// evaluation falls off the end of the level.
    pub(crate) fn eval(&self, id: Id, word: &dyn Fn(u32) -> u32) -> Option<u32> {
        let mut c = Some(self.level_start(id));
        while let Some(ci) = c {
            let n = &self.nodes[ci];
            let taken = n.test(word(n.offset));
            let (nxt, act) = if taken {
                (n.nxt_t, n.act_t)
            } else {
                (n.nxt_f, n.act_f)
            };
            if let Some(child) = nxt {
                if let Some(a) = self.eval(child, word) {
                    return Some(a);
                }
            } else if let Some(a) = act {
                return Some(a);
            }
            c = n.lvl_nxt;
        }
        None
    }

    /// Every outcome evaluation of the level at `start` can have in programs built by
    /// libseccomp 2.5.4, whose generator decides per level, not per path, whether a node must
    /// reload the accumulator: a node whose word the previous sibling already loaded skips
    /// the load, even when it is reached by falling off a nested level that loaded another
    /// word, and then compares that stale word. Each such node may therefore see either its
    /// own word or the stale one. `gen` is the generator's accumulator state on entry, `rt`
    /// the (offset, mask) of what the accumulator really holds.
    pub(crate) fn eval_stale(
        &self,
        start: Id,
        gen: (u32, u32),
        rt: (u32, u32),
        word: &dyn Fn(u32) -> u32,
    ) -> Vec<Stale> {
        self.stale_from(Some(self.level_start(start)), gen, rt, word)
    }

    fn stale_from(
        &self,
        pos: Option<Id>,
        gen: (u32, u32),
        rt: (u32, u32),
        word: &dyn Fn(u32) -> u32,
    ) -> Vec<Stale> {
        let Some(i) = pos else {
            return vec![Stale::Fell(rt)];
        };
        let n = &self.nodes[i];
        let reload = n.offset != gen.0 || (n.mask & gen.1) != n.mask;
        let mut after = if reload { (n.offset, u32::MAX) } else { gen };
        if n.mask != after.1 {
            after.1 = n.mask;
        }
        let mut choices = vec![(n.offset, n.mask)];
        if !reload {
            let stale = (rt.0, rt.1 & n.mask);
            if stale != choices[0] {
                choices.push(stale);
            }
        }
        let child_gen = if reload { (u32::MAX, u32::MAX) } else { gen };
        let mut out = Vec::new();
        for (off, mask) in choices {
            let v = word(off) & mask;
            let taken = match n.op {
                Cmp::Eq | Cmp::MaskedEq => v == n.datum,
                Cmp::Gt => v > n.datum,
                Cmp::Ge => v >= n.datum,
            };
            let (nxt, act) = if taken {
                (n.nxt_t, n.act_t)
            } else {
                (n.nxt_f, n.act_f)
            };
            match (nxt, act) {
                (Some(c), _) => {
                    for o in self.eval_stale(c, child_gen, (off, mask), word) {
                        match o {
                            Stale::Ret(a) => out.push(Stale::Ret(a)),
                            Stale::Fell(rt2) => {
                                out.extend(self.stale_from(n.lvl_nxt, after, rt2, word))
                            }
                        }
                    }
                }
                (None, Some(a)) => out.push(Stale::Ret(a)),
                (None, None) => out.extend(self.stale_from(n.lvl_nxt, after, (off, mask), word)),
            }
        }
        out.dedup();
        out
    }
}

/// An outcome of [`Tree::eval_stale`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stale {
    Ret(u32),
    /// Fell off the level with the accumulator holding this (offset, mask).
    Fell((u32, u32)),
}
