//! The rule database: per-architecture syscall entries with their argument graphs, built with
//! libseccomp's semantics (see `tree` for how rules on one syscall combine).
//!
//! A rule is given with a syscall number of the *native* architecture; for every other
//! architecture of the filter it is translated by name. Names an architecture lacks are
//! skipped for ordinary rules and refused (`EDOM`) for exact ones. On architectures that
//! multiplex socket and IPC calls through `socketcall(2)`/`ipc(2)` a rule on such a call is
//! added twice: to the direct syscall (where the architecture has one) and to the multiplexer
//! with `args[0]` equal to the call number.

pub(crate) mod by_number;
mod compat;
mod cover;
mod entries;
mod eval;
pub(crate) mod tree;

use crate::arch::{ArchInfo, Endian, ScmpArch, NATIVE};
use crate::error::{Result, SeccompErrno, SeccompError};
use crate::syscall::{
    direct_num, name_slot, native_name, native_to, resolve_name, resolve_name_at, resolve_num,
};
use compat::rules_only;
use entries::Entries;
use tree::{Cmp, Id, OrigOp, PruneState, Tree};
#[cfg(any(test, feature = "__internal-test"))]
pub(crate) use tree::{QUIRK_LINK, QUIRK_MERGE, QUIRK_RANGE};

/// Test builds: the largest arena whose entry, where the normal mode's prune walk passed over
/// a level where libseccomp's stops, is checked against a copy merged by a walk that stops
/// there (larger ones are marked as if that changed the entry).
#[cfg(any(test, feature = "__internal-test"))]
const LIBSECCOMP_WALK_NODES: usize = 512;

/// Priority bits: user hint in bits 16..24, `0xffff - node count` below.
const PRI_MASK_CHAIN: u32 = 0xffff;
const PRI_MASK_USER: u32 = 0x00ff_0000;

/// One argument comparison of an API rule, normalised (`mask` is all ones unless masked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ApiArg {
    pub op: OrigOp,
    pub mask: u64,
    pub datum: u64,
}

/// A rule as the API received it (syscall number still in native terms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub strict: bool,
    pub action: u32,
    pub syscall: i32,
    pub args: [Option<ApiArg>; 6],
    /// The syscall's name where `syscall` alone names another one (the pseudo number
    /// libseccomp gives two names, `crate::syscall::shared_pseudo_name`): each architecture
    /// gets the rule on this name. Set only by the policy readers, which have the name.
    pub name: Option<&'static str>,
}

/// All rules on one syscall of one architecture.
#[derive(Debug, Clone)]
pub(crate) struct SysEntry {
    pub num: i32,
    pub priority: u32,
    /// The top level of the argument graph; `None` for an unconditional entry.
    pub chains: Option<Id>,
    pub node_cnt: u32,
    /// The action of an unconditional entry.
    pub action: u32,
    /// False for a placeholder created by `set_syscall_priority` before any rule.
    pub valid: bool,
    /// Created by a rule (not a placeholder, even one a rule filled later): libseccomp's
    /// syscall count, which sizes the PFC binary tree.
    pub counted: bool,
    pub tree: Tree,
}

impl SysEntry {
    /// The priority given with `set_syscall_priority` (0 to 255).
    pub(crate) fn user_priority(&self) -> u32 {
        (self.priority & PRI_MASK_USER) >> 16
    }
}

/// The rules of one architecture.
#[derive(Debug, Clone)]
pub(crate) struct ArchFilter {
    pub arch: ScmpArch,
    /// Which of the collection's added architectures this is (compat mode: libseccomp 2.5.4
    /// keeps its shadow in step with the filters by position, see `Collection::shadow_ids`).
    pub(crate) id: u64,
    pub syscalls: Entries,
    /// On an architecture that multiplexes socket/ipc calls: every number the tables give a
    /// name of those calls (from the first rule that needs them).
    mux_numbers: Option<Vec<i32>>,
}

impl ArchFilter {
    pub(crate) fn new(arch: ScmpArch) -> Self {
        ArchFilter {
            arch,
            id: 0,
            syscalls: Entries::default(),
            mux_numbers: None,
        }
    }

    /// Whether the tables give number `nr` to a multiplexed socket/ipc call's name (or
    /// possibly so: a superset), for `nr` taken from the tables.
    fn may_be_mux_call(&mut self, nr: i32) -> bool {
        let arch = self.arch;
        self.mux_numbers
            .get_or_insert_with(|| {
                (-224..=-100)
                    .filter(|&p| mux_call(p).is_some())
                    .filter_map(|p| resolve_num(arch, p))
                    .filter_map(|name| direct_num(arch, name))
                    .collect()
            })
            .contains(&nr)
    }

    pub(crate) fn info(&self) -> &'static ArchInfo {
        self.arch
            .info()
            .expect("filters hold concrete architectures")
    }
}

/// Byte offsets of the low and high words of argument `arg` in `seccomp_data`.
pub(crate) fn arg_offsets(info: &ArchInfo, arg: u8) -> (u32, u32) {
    let base = crate::bpf::SECCOMP_DATA_ARGS_OFFSET + 8 * u32::from(arg);
    match info.endian {
        Endian::Little => (base, base + 4),
        Endian::Big => (base + 4, base),
    }
}

fn lo(x: u64) -> u32 {
    x as u32
}

fn hi(x: u64) -> u32 {
    (x >> 32) as u32
}

/// The nodes a syscall's rule tree has room for at its first rule with arguments: three rules
/// comparing two 64-bit arguments each (12 nodes of 80 bytes: a small allocation).
const FIRST_NODES: usize = 12;

/// The graph of a single rule, generated into `tree`: (top node, node count).
///
/// A 64-bit range or `!=` comparison leads on to the next comparison from two of its nodes.
/// libseccomp (and compat mode, `libseccomp`) makes both edges one: the rule's graph then
/// reaches one node from two parents, and a later rule merged through one of them reaches
/// the other's too (README, deliberate differences, 9). Otherwise each edge leads to its own
/// copy of the rest of the rule, and every syscall's graph stays a tree. The node count is
/// libseccomp's either way (it orders the syscalls of a level-1 program).
///
/// The comparisons are made from the last argument's to the first's, and each one's nodes
/// from its last to its first, so that the nodes a merge leaves unused (the top ones, which
/// the rules before it share) are the last ones made: [`Tree::pop_freed`] takes them back.
fn rule_gen(tree: &mut Tree, info: &ArchInfo, rule: &Rule, libseccomp: bool) -> (Option<Id>, u32) {
    use tree::Node;
    if rule.args.iter().all(Option::is_none) {
        return (None, 0);
    }
    if tree.nodes.capacity() == 0 {
        // Room for a few rules' nodes at once, not grown (and copied) rule by rule.
        tree.nodes.reserve(FIRST_NODES);
    }
    // The first node of the comparison made last (the one after in the chain), or the
    // rule's action where there is none yet.
    let mut next: Option<Id> = None;
    let mut cnt = 0u32;
    // The comparison's nodes whose `tf` edge leads on: to `next` or to the action.
    let lead_on = |tree: &mut Tree, next: Option<Id>, ends: &[Id], tf: bool| {
        tree.forked |= ends.len() > 1 && next.is_some();
        for (k, &p) in ends.iter().enumerate() {
            match next {
                Some(mut to) => {
                    if k > 0 && !libseccomp {
                        to = tree.clone_subtree(to, &mut Default::default());
                    }
                    let g = tree.get(Some(to));
                    tree.set_next(p, tf, g);
                }
                None => tree.set_act(p, tf, Some(rule.action)),
            }
        }
    };
    for (i, a) in rule.args.iter().enumerate().rev() {
        let Some(a) = a else { continue };
        let arg = i as u8;
        let (off_lo, off_hi) = arg_offsets(info, arg);
        if info.arg64 {
            if a.op == OrigOp::MaskedEq && hi(a.mask) == 0 && lo(a.mask) == 0 {
                continue;
            }
            // One node compares one word: the high or the low half of the argument.
            let word = |tree: &mut Tree, high: bool, op: Cmp| {
                let (off, mask, datum) = if high {
                    (off_hi, hi(a.mask), hi(a.datum))
                } else {
                    (off_lo, lo(a.mask), lo(a.datum))
                };
                tree.push(Node::new(arg, high, off, op, a.op, mask, datum, a.datum))
            };
            // The nodes of this comparison: the first one, and those whose `tf` edge leads on.
            let first = match a.op {
                OrigOp::Gt | OrigOp::Ge | OrigOp::Lt | OrigOp::Le => {
                    // hi > Rh, else hi == Rh then lo (> or >=) Rl.
                    let lo_op = if matches!(a.op, OrigOp::Gt | OrigOp::Le) {
                        Cmp::Gt
                    } else {
                        Cmp::Ge
                    };
                    let c2 = word(tree, false, lo_op);
                    let c1 = word(tree, true, Cmp::Eq);
                    let c0 = word(tree, true, Cmp::Gt);
                    let g = tree.get(Some(c1));
                    tree.set_next(c0, false, g);
                    let g = tree.get(Some(c2));
                    tree.set_next(c1, true, g);
                    cnt += 3;
                    if matches!(a.op, OrigOp::Gt | OrigOp::Ge) {
                        lead_on(tree, next, &[c0, c2], true);
                    } else {
                        lead_on(tree, next, &[c1, c2], false);
                    }
                    c0
                }
                OrigOp::Eq | OrigOp::MaskedEq | OrigOp::Ne => {
                    // hi == Rh then lo == Rl.
                    let op = if a.op == OrigOp::MaskedEq {
                        Cmp::MaskedEq
                    } else {
                        Cmp::Eq
                    };
                    let c1 = word(tree, false, op);
                    let c0 = word(tree, true, op);
                    let g = tree.get(Some(c1));
                    tree.set_next(c0, true, g);
                    cnt += 2;
                    if a.op == OrigOp::Ne {
                        lead_on(tree, next, &[c0, c1], false);
                    } else {
                        lead_on(tree, next, &[c1], true);
                    }
                    c0
                }
            };
            next = Some(first);
        } else {
            if a.op == OrigOp::MaskedEq && lo(a.mask) == 0 {
                continue;
            }
            let (op, t) = match a.op {
                OrigOp::Ne => (Cmp::Eq, false),
                OrigOp::Lt => (Cmp::Ge, false),
                OrigOp::Le => (Cmp::Gt, false),
                OrigOp::Eq => (Cmp::Eq, true),
                OrigOp::MaskedEq => (Cmp::MaskedEq, true),
                OrigOp::Ge => (Cmp::Ge, true),
                OrigOp::Gt => (Cmp::Gt, true),
            };
            let c = tree.push(Node::new(
                arg,
                false,
                off_lo,
                op,
                a.op,
                lo(a.mask),
                lo(a.datum),
                a.datum,
            ));
            lead_on(tree, next, &[c], t);
            next = Some(c);
            cnt += 1;
        }
    }
    (tree.get(next), cnt)
}

fn chain_priority(node_cnt: u32) -> u32 {
    PRI_MASK_CHAIN.wrapping_sub(node_cnt) & PRI_MASK_CHAIN
}

/// What a rule add changed, for undoing a failed add: the entries it touched, as (filter
/// index, syscall, header as it was or `None` for a new entry); each touched entry's tree logs
/// its own changes meanwhile ([`Tree::begin`]). One is kept for reuse.
#[derive(Debug, Clone, Default)]
struct Journal {
    /// The index of the filter being changed.
    filter: usize,
    /// The add reproduces libseccomp 2.5.4's merge, bugs included (compat mode).
    libseccomp: bool,
    /// The normal mode's add notes where it dropped what libseccomp's keeps
    /// ([`Collection::track_stops`]).
    #[cfg(any(test, feature = "__internal-test"))]
    track_stops: bool,
    recs: Vec<(usize, i32, Option<EntryHead>)>,
}

impl Journal {
    /// The record of syscall `num` in the current filter.
    fn find(&self, num: i32) -> Option<usize> {
        self.recs
            .iter()
            .position(|&(f, n, _)| f == self.filter && n == num)
    }
}

/// The fields of a [`SysEntry`] besides its tree.
#[derive(Debug, Clone, Copy)]
struct EntryHead {
    priority: u32,
    chains: Option<Id>,
    node_cnt: u32,
    action: u32,
    valid: bool,
    counted: bool,
}

impl EntryHead {
    fn of(e: &SysEntry) -> Self {
        EntryHead {
            priority: e.priority,
            chains: e.chains,
            node_cnt: e.node_cnt,
            action: e.action,
            valid: e.valid,
            counted: e.counted,
        }
    }

    fn restore(self, e: &mut SysEntry) {
        e.priority = self.priority;
        e.chains = self.chains;
        e.node_cnt = self.node_cnt;
        e.action = self.action;
        e.valid = self.valid;
        e.counted = self.counted;
    }
}

/// Undoes the changes journaled for syscall `num`.
fn journal_undo(filter: &mut ArchFilter, num: i32, head: Option<EntryHead>) {
    match head {
        None => {
            filter.syscalls.remove(&num);
        }
        Some(h) => {
            let e = filter
                .syscalls
                .get_mut(&num)
                .expect("a journaled entry stays");
            h.restore(e);
            e.tree.rollback();
        }
    }
}

/// Adds `rule` to the filter as a rule on `sys` (in this architecture's numbering; the
/// rule's own number is ignored).
fn db_rule_add(
    filter: &mut ArchFilter,
    sys: i32,
    rule: &Rule,
    journal: &mut Journal,
) -> Result<()> {
    let info = filter.info();
    let journaled = journal.find(sys).is_some();
    let Some(entry) = filter.syscalls.get_mut(&sys) else {
        if !journaled {
            journal.recs.push((journal.filter, sys, None));
        }
        let mut tree = Tree::default();
        let (chains, node_cnt) = rule_gen(&mut tree, info, rule, journal.libseccomp);
        filter.syscalls.insert(
            sys,
            SysEntry {
                num: sys,
                priority: chain_priority(node_cnt),
                chains,
                node_cnt,
                action: rule.action,
                valid: true,
                counted: true,
                tree,
            },
        );
        return Ok(());
    };
    if !journaled {
        entry.tree.begin();
        journal
            .recs
            .push((journal.filter, sys, Some(EntryHead::of(entry))));
    }
    entry.tree.note_nodes();
    let made = entry.tree.nodes.len();
    let (new_chains, new_cnt) = rule_gen(&mut entry.tree, info, rule, journal.libseccomp);
    let new = NewRule {
        rule,
        chains: new_chains,
        cnt: new_cnt,
        made,
    };
    #[cfg(any(test, feature = "__internal-test"))]
    let tracked = journal.track_stops && !journal.libseccomp;
    #[cfg(any(test, feature = "__internal-test"))]
    let before =
        (tracked && entry.tree.nodes.len() <= LIBSECCOMP_WALK_NODES).then(|| entry.clone());
    let res = merge_rule(entry, &new, journal.libseccomp, false);
    #[cfg(any(test, feature = "__internal-test"))]
    if tracked {
        mark_pruned_past_stop(entry, before, &new, res.is_ok());
    }
    res?;
    entry.priority = (entry.priority & !PRI_MASK_CHAIN) | chain_priority(entry.node_cnt);
    Ok(())
}

/// Test builds, with [`Collection::track_stops`]: where the normal mode's prune walk just
/// passed over a level where libseccomp's stops, merges the same rule into `before` (the
/// entry as it was, `None` where its arena is too large) with a walk that stops there, and
/// marks the entry where that changed it (README, deliberate differences, 12); an unconditional rule, which leaves no
/// tree to differ, clears the mark.
#[cfg(any(test, feature = "__internal-test"))]
fn mark_pruned_past_stop(
    entry: &mut SysEntry,
    before: Option<SysEntry>,
    new: &NewRule<'_>,
    ok: bool,
) {
    if entry.tree.met_libseccomp_stop() {
        entry.tree.pruned_past_stop |= before.map_or(true, |mut e| {
            #[cfg(test)]
            let walks = tree::WALKS.with(|w| w.get());
            let stopped = merge_rule(&mut e, new, false, true);
            #[cfg(test)]
            tree::WALKS.with(|w| w.set(walks));
            stopped.is_ok() != ok
                || e.node_cnt != entry.node_cnt
                || !entry.tree.same_shape(entry.chains, &e.tree, e.chains)
        });
    }
    if entry.chains.is_none() {
        entry.tree.pruned_past_stop = false;
    }
}

/// A rule's graph, made in the arena of the entry it joins.
struct NewRule<'r> {
    rule: &'r Rule,
    chains: Option<Id>,
    /// Its node count.
    cnt: u32,
    /// The arena's length before it was made.
    made: usize,
}

/// Merges the new rule's graph into `entry`'s tree: the prune walk, then the add (libseccomp
/// 2.5.4's where `libseccomp`: compat mode). `stops`: the normal mode's walk, stopping where
/// libseccomp's does (test builds compare the two).
fn merge_rule(
    entry: &mut SysEntry,
    new: &NewRule<'_>,
    libseccomp: bool,
    stops: bool,
) -> Result<()> {
    let NewRule {
        rule,
        cnt: new_cnt,
        made,
        ..
    } = *new;
    let mut new_chains = new.chains;
    let mut rm_flag = false;
    loop {
        if entry.chains.is_none() {
            if rm_flag || !entry.valid {
                entry.chains = new_chains;
                entry.action = rule.action;
                entry.node_cnt = new_cnt;
                if entry.valid {
                    entry.priority = chain_priority(new_cnt);
                }
                entry.valid = true;
            }
            // Otherwise the unconditional entry already covers every argument vector.
            break;
        }
        if new_chains.is_none() {
            // An unconditional rule replaces all conditions.
            let mut c = entry.chains.take();
            entry.tree.tree_put(&mut c);
            entry.node_cnt = 0;
            entry.action = rule.action;
            break;
        }
        let new_top = new_chains.expect("checked above");
        // libseccomp's prune walk (removing the branches a shorter rule covers, or finding the
        // new rule covered) follows one way down the new rule: where a range comparison forks
        // it (both edges of a node lead on), it joins what it found on either way, and takes
        // one way's cover for the whole rule's (`{a0 > 0}` then `{a0 >= 0, a1 > 2, a5 != 1}`
        // drops the second rule: README, deliberate differences, 9). On a forked rule the
        // normal mode's walk drops only the existing branches one of the rule's leaves covers;
        // where it finds the rule covered, the rule is dropped only if the tree gives its
        // action on every way through it (`cover`).
        let forked = entry.tree.forks(new_top);
        let mut state = PruneState::new(rule.action);
        state.libseccomp = libseccomp;
        state.stops = stops;
        state.forked = forked && !libseccomp;
        let mut chains = entry.chains;
        let start = chains;
        let rc = entry.tree.prune(&mut chains, start, new_chains, &mut state);
        entry.chains = chains;
        if libseccomp && forked && (rc > 0 || state.redundant()) {
            entry.tree.quirk |= tree::QUIRK_MERGE;
        }
        if rc > 0 {
            rm_flag = true;
            entry.node_cnt = entry.node_cnt.wrapping_sub(rc);
            if entry.chains.is_none() {
                continue;
            }
        } else if state.redundant()
            && (!state.forked
                || entry
                    .chains
                    .is_some_and(|c| entry.tree.covers(c, new_top, rule.action)))
        {
            // Covered: on a forked rule, only once every way of it is (`cover`).
            break;
        }
        let mut removed = 0;
        let mut chains = entry.chains;
        let res = entry
            .tree
            .add(&mut chains, new_top, &mut removed, libseccomp);
        entry.chains = chains;
        entry.node_cnt = entry.node_cnt.wrapping_sub(removed);
        if res.is_err() {
            return Err(SeccompError::with_errno(
                SeccompErrno::EEXIST,
                "a rule on the same syscall and argument values with a different action already exists",
            ));
        }
        entry.node_cnt = entry.node_cnt.wrapping_add(new_cnt);
        let freed = entry.tree.tree_put(&mut new_chains);
        entry.node_cnt = entry.node_cnt.wrapping_sub(freed);
        entry.tree.pop_freed(made);
        break;
    }
    Ok(())
}

/// The native syscall number `nr` in `arch`'s numbering.
fn translate(arch: ScmpArch, nr: i32) -> Result<i32> {
    Translation::new(nr).to(arch)
}

/// A native syscall number, translated by name for each architecture (the name looked up and
/// hashed once).
struct Translation {
    nr: i32,
    /// The native name and its slot in the name indexes, once looked up.
    native_name: Option<Option<(&'static str, usize)>>,
    /// The name was given with the number ([`Translation::named`]): no shortcut by number.
    named: bool,
}

impl Translation {
    fn new(nr: i32) -> Self {
        Translation {
            nr,
            native_name: None,
            named: false,
        }
    }

    /// `nr`, translated through `name` instead of the name the tables give `nr`.
    fn named(nr: i32, name: &'static str) -> Self {
        Translation {
            nr,
            native_name: Some(Some((name, name_slot(name)))),
            named: true,
        }
    }

    /// Whether `to(arch)` returns the number as given (else a number from the tables).
    fn as_given(&self, arch: ScmpArch) -> bool {
        self.nr == -1 || Some(arch) == NATIVE
    }

    /// The number in `arch`'s numbering.
    fn to(&mut self, arch: ScmpArch) -> Result<i32> {
        let nr = self.nr;
        if self.as_given(arch) {
            return Ok(nr);
        }
        if let Some(to) = native_to(arch, nr).filter(|_| !self.named) {
            return Ok(to);
        }
        let efault = || {
            SeccompError::with_errno(
                SeccompErrno::EFAULT,
                format!("syscall number {nr} is not a syscall of the native architecture"),
            )
        };
        // (No native architecture: no native name either, the same error.)
        let found = *self
            .native_name
            .get_or_insert_with(|| native_name(nr).map(|n| (n, name_slot(n))));
        let (name, slot) = found.ok_or_else(efault)?;
        resolve_name_at(arch, name, slot).ok_or_else(|| {
            SeccompError::with_errno(
                SeccompErrno::EFAULT,
                format!("syscall {name:?} cannot be resolved on {arch}"),
            )
        })
    }
}

/// The call number inside socketcall(2) (1..=20) / ipc(2) (1..=24) of a multiplexed name.
fn mux_call(nr: i32) -> Option<(bool, u64)> {
    match nr {
        -120..=-100 => Some((true, (-nr % 100) as u64)),
        -224..=-200 => Some((false, (-nr % 200) as u64)),
        _ => None,
    }
}

/// How a conditional rule on a multiplexed socket/ipc call reaches the multiplexer.
#[derive(Debug, Clone, Copy)]
enum MuxArgs {
    /// libseccomp 2.5.4: `args[0]` becomes the call number, the other conditions stay and
    /// test the multiplexer's own registers (compat mode only).
    Libseccomp,
    /// pure-seccomp: the conditions cannot be checked through the multiplexer (they are in
    /// user memory), so the multiplexed call gets the more restrictive of the rule's action
    /// and this default action, on the call number alone.
    FailClosed(u32),
}

/// The more restrictive of two actions, by the kernel's precedence of action types (lower
/// signed value wins: KILL_PROCESS, KILL_THREAD, TRAP, ERRNO, USER_NOTIF, TRACE, LOG, ALLOW);
/// `a` on a tie (two ERRNO values, say).
pub(crate) fn stricter(a: u32, b: u32) -> u32 {
    if ((a & 0xffff_0000) as i32) <= ((b & 0xffff_0000) as i32) {
        a
    } else {
        b
    }
}

/// Adds a rule to one architecture's filter, translating and rewriting as libseccomp does.
fn arch_rule_add(
    filter: &mut ArchFilter,
    rule: &Rule,
    tr: &mut Translation,
    mux_args: MuxArgs,
    journal: &mut Journal,
) -> Result<()> {
    let arch = filter.arch;
    let sys = tr.to(arch)?;
    let r = rule;
    let info = filter.info();
    let Some(mux) = info.mux.filter(|_| sys != -1) else {
        if sys < -1 && r.strict {
            return Err(edom_missing(arch, rule.syscall));
        }
        return db_rule_add(filter, sys, r, journal);
    };
    // Is it a socket or ipc call, given as pseudo number or as direct number?
    let pseudo = if mux_call(sys).is_some() {
        Some(sys)
    } else if sys > 0 && !tr.as_given(arch) && !filter.may_be_mux_call(sys) {
        // (A number from the tables is its own table key.)
        None
    } else if sys > 0 {
        resolve_num(arch, sys)
            .and_then(|name| resolve_name(arch, name))
            .filter(|p| mux_call(*p).is_some())
    } else {
        None
    };
    let Some(pseudo) = pseudo else {
        if sys >= 0 {
            return db_rule_add(filter, sys, r, journal);
        }
        if r.strict {
            return Err(edom_missing(arch, rule.syscall));
        }
        return Ok(());
    };
    if r.strict && r.args.iter().any(Option::is_some) {
        return Err(SeccompError::with_errno(
            SeccompErrno::EINVAL,
            format!("{arch} multiplexes this syscall through socketcall/ipc, so an exact rule cannot keep its argument conditions"),
        ));
    }
    let (socket, call) = mux_call(pseudo).expect("pseudo is a multiplexed call");
    let direct = if sys > 0 {
        sys
    } else {
        resolve_num(arch, pseudo)
            .and_then(|name| direct_num(arch, name))
            .unwrap_or(pseudo)
    };
    let mut ra = r.clone();
    ra.syscall = if socket { mux.socketcall } else { mux.ipc };
    let call_arg = Some(ApiArg {
        op: OrigOp::Eq,
        mask: u64::MAX,
        datum: call,
    });
    match mux_args {
        MuxArgs::Libseccomp => {
            ra.args[0] = call_arg;
            db_rule_add(filter, ra.syscall, &ra, journal)?;
        }
        MuxArgs::FailClosed(default) => {
            let conditional = ra.args.iter().any(Option::is_some);
            ra.args = [call_arg, None, None, None, None, None];
            if conditional {
                ra.action = stricter(ra.action, default);
            }
            if ra.action != default {
                // The multiplexer's entry is the first this rule touches here.
                debug_assert!(journal.find(ra.syscall).is_none());
                if let Err(e) = db_rule_add(filter, ra.syscall, &ra, journal) {
                    // Back to the entry as it was before this add.
                    let k = journal
                        .find(ra.syscall)
                        .expect("db_rule_add journals its entry");
                    let (_, num, head) = journal.recs.remove(k);
                    journal_undo(filter, num, head);
                    // Another rule already gives this call an action. Keep it when it is at
                    // least as restrictive (the rules agree to deny); otherwise this rule
                    // conflicts, as in libseccomp.
                    let existing = filter
                        .syscalls
                        .get(&ra.syscall)
                        .and_then(|e| mux_call_action(filter.info(), e, call));
                    if !(conditional && existing.is_some_and(|x| stricter(x, ra.action) == x)) {
                        return Err(e);
                    }
                }
            }
        }
    }
    db_rule_add(filter, direct, r, journal)
}

/// The action an entry of a multiplexer gives call number `call` (other arguments zero).
fn mux_call_action(info: &ArchInfo, e: &SysEntry, call: u64) -> Option<u32> {
    let (lo0, _) = arg_offsets(info, 0);
    match e.chains {
        None => Some(e.action),
        Some(c) => e
            .tree
            .eval(c, &|off| if off == lo0 { call as u32 } else { 0 }),
    }
}

fn edom_missing(arch: ScmpArch, nr: i32) -> SeccompError {
    SeccompError::with_errno(
        SeccompErrno::EDOM,
        format!("syscall {nr} does not exist on {arch}"),
    )
}

/// The filter attributes (libseccomp's `struct db_filter_attr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attrs {
    pub act_default: u32,
    pub act_badarch: u32,
    pub nnp: bool,
    pub tsync: bool,
    pub tskip: bool,
    pub log: bool,
    pub ssb: bool,
    pub optimize: u32,
    pub sysrawrc: bool,
    pub waitkill: bool,
}

impl Attrs {
    pub(crate) fn new(act_default: u32) -> Self {
        Attrs {
            act_default,
            act_badarch: crate::action::RET_KILL_THREAD,
            nnp: true,
            tsync: false,
            tskip: false,
            log: false,
            ssb: false,
            optimize: 1,
            sysrawrc: false,
            waitkill: false,
        }
    }
}

/// A filter collection: attributes and one filter per architecture, in the order added.
#[derive(Debug, Clone)]
pub(crate) struct Collection {
    pub attrs: Attrs,
    pub filters: Vec<ArchFilter>,
    pub endian: Option<Endian>,
    pub notify_used: bool,
    /// Emulate libseccomp 2.5.4's known bugs (see [`crate::ScmpFilterContext`]'s
    /// `__emulate_libseccomp_2_5_4`); only for differential testing.
    pub compat: bool,
    /// Compat mode only: libseccomp 2.5.4's "shadow" transaction, the filters as of the last
    /// successful rule add, rebuilt from the rules alone.
    shadow: Option<Vec<ArchFilter>>,
    /// Compat mode only: the filters (`ArchFilter::id`) libseccomp's shadow holds the rules
    /// of, by position. libseccomp brings its shadow up to date after each rule by position:
    /// it drops or adds filters at the end to match the count, then gives each filter of the
    /// shadow the rules the filter at its position has beyond its own count. Where an
    /// architecture was removed from the middle (or removed and added again), the shadow's
    /// filter at a position is then another architecture's, or holds its old rules.
    shadow_ids: Vec<u64>,
    /// Compat mode only: the shadow no longer mirrors the filters (above), which compat mode
    /// does not reproduce.
    shadow_scrambled: bool,
    /// Compat mode only: a refused rule restored such a shadow: libseccomp's filter is then
    /// not the one compat mode has.
    pub(crate) restore_not_emulated: bool,
    /// The next `ArchFilter::id`.
    next_id: u64,
    /// Compat mode only: a failed rule restored a shadow taken before an architecture was
    /// added or removed (README, deliberate differences, 2): the architectures, and the
    /// rules of one removed and added again, are as they were then.
    pub(crate) restored_stale: bool,
    /// Compat mode only: a failed rule restored the filters rebuilt from their rules (README,
    /// deliberate differences, 2): every priority set before it is lost.
    pub(crate) restored_rules: bool,
    /// Compat mode only: the entries (architecture, number) whose priority such a restore
    /// lost: those with a `set_syscall_priority` priority, and the placeholders it made.
    pub(crate) priorities_lost: Vec<(ScmpArch, i32)>,
    /// Test builds, normal mode: each rule add notes where it dropped a branch that
    /// libseccomp 2.5.4's prune walk keeps (`Tree::pruned_past_stop`), which takes a copy of
    /// the entry and a second merge. Off unless a test asks (`__track_libseccomp_stops`), so
    /// that the examples and benchmarks, which are built with the test hooks, time the adds
    /// users get (2000 values on one argument: 2.5 times the instructions with it on).
    #[cfg(any(test, feature = "__internal-test"))]
    pub(crate) track_stops: bool,
    /// Kept empty between rule adds (for reuse).
    journal: Journal,
}

impl Collection {
    /// A collection with the native architecture only.
    pub(crate) fn new(act_default: u32) -> Self {
        let mut c = Collection {
            attrs: Attrs::new(act_default),
            filters: Vec::new(),
            endian: None,
            notify_used: act_default == crate::action::RET_NOTIFY,
            compat: false,
            shadow: None,
            shadow_ids: Vec::new(),
            shadow_scrambled: false,
            restore_not_emulated: false,
            next_id: 0,
            restored_stale: false,
            restored_rules: false,
            priorities_lost: Vec::new(),
            #[cfg(any(test, feature = "__internal-test"))]
            track_stops: false,
            journal: Journal::default(),
        };
        if let Some(n) = NATIVE {
            c.add_arch(n)
                .expect("a fresh collection accepts its native architecture");
        }
        c
    }

    /// A fresh collection (as [`Collection::new`]) in this one's test modes: compat mode,
    /// and the note of what libseccomp's prune walk keeps ([`Collection::track_stops`]).
    pub(crate) fn renewed(&self, act_default: u32) -> Self {
        let mut c = Collection::new(act_default);
        c.compat = self.compat;
        #[cfg(any(test, feature = "__internal-test"))]
        {
            c.track_stops = self.track_stops;
        }
        c
    }

    pub(crate) fn has_arch(&self, arch: ScmpArch) -> bool {
        self.filters.iter().any(|f| f.arch == arch)
    }

    /// Adds an architecture (no-op when present); `EDOM` for the other byte order.
    pub(crate) fn add_arch(&mut self, arch: ScmpArch) -> Result<()> {
        if self.has_arch(arch) {
            return Ok(());
        }
        let info = arch.info().ok_or_else(|| {
            SeccompError::with_errno(SeccompErrno::EINVAL, "unknown architecture")
        })?;
        if let Some(e) = self.endian {
            if e != info.endian {
                return Err(SeccompError::with_errno(
                    SeccompErrno::EDOM,
                    format!(
                        "{arch} is {:?}-endian but the filter's architectures are {e:?}-endian",
                        info.endian
                    ),
                ));
            }
        }
        let mut f = ArchFilter::new(arch);
        (f.id, self.next_id) = (self.next_id, self.next_id + 1);
        self.filters.push(f);
        self.endian = Some(info.endian);
        Ok(())
    }

    /// Takes in the filters of another collection (`merge`), each as a newly added
    /// architecture, and whether it has used `Notify`. (libseccomp 2.5.4 keeps its own flag:
    /// README, deliberate differences, 10.) In compat mode, what the other collection's
    /// restores left it holding that libseccomp's would not hold comes along with its filters.
    pub(crate) fn adopt(&mut self, src: Collection) {
        for mut f in src.filters {
            (f.id, self.next_id) = (self.next_id, self.next_id + 1);
            self.filters.push(f);
        }
        self.notify_used |= src.notify_used;
        self.restored_stale |= src.restored_stale;
        self.restored_rules |= src.restored_rules;
        self.priorities_lost.extend(src.priorities_lost);
        self.restore_not_emulated |= src.restore_not_emulated;
    }

    pub(crate) fn remove_arch(&mut self, arch: ScmpArch) {
        self.filters.retain(|f| f.arch != arch);
        self.priorities_lost.retain(|&(a, _)| a != arch);
        if self.filters.is_empty() {
            self.endian = None;
        }
    }

    /// Adds a rule to every architecture, all or nothing.
    pub(crate) fn rule_add(&mut self, rule: &Rule) -> Result<()> {
        let mut journal = std::mem::take(&mut self.journal);
        let res = self.rule_add_journaled(rule, &mut journal);
        journal.recs.clear();
        self.journal = journal;
        res
    }

    fn rule_add_journaled(&mut self, rule: &Rule, journal: &mut Journal) -> Result<()> {
        // libseccomp 2.5.4 (compat mode) restores a copy rebuilt from the rules.
        let backup: Option<Vec<ArchFilter>> =
            (self.compat && self.shadow.is_none()).then(|| self.filters.clone());
        let mux_args = if self.compat {
            MuxArgs::Libseccomp
        } else {
            MuxArgs::FailClosed(self.attrs.act_default)
        };
        journal.recs.clear();
        journal.libseccomp = self.compat;
        #[cfg(any(test, feature = "__internal-test"))]
        {
            journal.track_stops = self.track_stops;
        }
        let mut tr = match rule.name {
            Some(name) => Translation::named(rule.syscall, name),
            None => Translation::new(rule.syscall),
        };
        for i in 0..self.filters.len() {
            journal.filter = i;
            if let Err(e) = arch_rule_add(&mut self.filters[i], rule, &mut tr, mux_args, journal) {
                if self.compat {
                    // libseccomp 2.5.4 restores its shadow (stale when an architecture was
                    // added since the last rule) or a snapshot rebuilt from the rules alone,
                    // losing priorities and placeholders.
                    // (The shadow was taken before the architectures last changed where it
                    // holds other filters than the collection has.)
                    let ids = self.filters.iter().map(|f| f.id);
                    self.restored_stale |=
                        self.shadow.is_some() && !ids.eq(self.shadow_ids.iter().copied());
                    self.restore_not_emulated |= self.shadow.is_some() && self.shadow_scrambled;
                    self.restored_rules = true;
                    for f in &self.filters {
                        let lost = f.syscalls.values_unordered();
                        let lost = lost.filter(|e| e.user_priority() != 0 || !e.valid);
                        self.priorities_lost.extend(lost.map(|e| (f.arch, e.num)));
                    }
                    let restored = self.shadow.take().or(backup).expect("compat keeps a copy");
                    self.filters = rules_only(restored);
                    self.shadow_scrambled = false;
                } else {
                    // Undo exactly what this rule changed, nothing else.
                    for (f, num, head) in journal.recs.drain(..).rev() {
                        journal_undo(&mut self.filters[f], num, head);
                    }
                }
                return Err(e);
            }
        }
        // Keep the changes: stop the trees' logs.
        for &(f, num, head) in &journal.recs {
            if head.is_some() {
                if let Some(e) = self.filters[f].syscalls.get_mut(&num) {
                    e.tree.commit();
                }
            }
        }
        if self.compat {
            // libseccomp's shadow: the one it had (or a copy taken when this rule began),
            // brought up to date by position.
            if self.shadow.is_some() {
                self.shadow_scrambled |= (self.shadow_ids.iter())
                    .zip(&self.filters)
                    .any(|(&id, f)| id != f.id);
            }
            self.shadow_ids = self.filters.iter().map(|f| f.id).collect();
            self.shadow = Some(rules_only(self.filters.clone()));
        }
        if rule.action == crate::action::RET_NOTIFY {
            self.notify_used = true;
        }
        Ok(())
    }

    /// Raises the user priority of a syscall on every architecture (creating placeholders).
    pub(crate) fn syscall_priority(&mut self, syscall: i32, priority: u8) -> Result<()> {
        let mut rc = Ok(());
        for f in &mut self.filters {
            let r = (|| {
                let mut sc = translate(f.arch, syscall)?;
                if sc < -1 {
                    match rewrite(f.info(), sc) {
                        Ok(n) => sc = n,
                        Err(RewriteErr::Domain) => return Ok(()),
                        Err(RewriteErr::Reserved) => {
                            return Err(SeccompError::with_errno(
                                SeccompErrno::EINVAL,
                                format!("{sc} is a reserved syscall number"),
                            ))
                        }
                    }
                }
                let pri = (u32::from(priority) << 16) & PRI_MASK_USER;
                match f.syscalls.get_mut(&sc) {
                    Some(e) => {
                        if pri > e.priority & PRI_MASK_USER {
                            e.priority = (e.priority & !PRI_MASK_USER) | pri;
                        }
                    }
                    None => {
                        f.syscalls.insert(
                            sc,
                            SysEntry {
                                num: sc,
                                priority: pri,
                                chains: None,
                                node_cnt: 0,
                                action: 0,
                                valid: false,
                                counted: false,
                                tree: Tree::default(),
                            },
                        );
                    }
                }
                Ok(())
            })();
            if rc.is_ok() {
                rc = r;
            }
        }
        rc
    }
}

enum RewriteErr {
    Reserved,
    Domain,
}

/// libseccomp's `arch_syscall_rewrite`: pseudo numbers of multiplexed calls become the
/// multiplexer's number; other negative numbers do not exist on the architecture.
fn rewrite(info: &ArchInfo, sc: i32) -> std::result::Result<i32, RewriteErr> {
    if sc >= -1 {
        return Ok(sc);
    }
    if sc > -100 {
        return Err(RewriteErr::Reserved);
    }
    let mut out = sc;
    if sc > -10000 {
        if let Some(m) = info.mux {
            match sc {
                -120..=-100 => out = m.socketcall,
                -224..=-200 => out = m.ipc,
                _ => {}
            }
        }
    }
    if out < 0 {
        Err(RewriteErr::Domain)
    } else {
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS, RET_LOG, RET_TRAP};

    /// xorshift64*
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
            xs[self.below(xs.len() as u64) as usize]
        }
    }

    /// Every comparison operator.
    const OPS: [OrigOp; 7] = [
        OrigOp::Ne,
        OrigOp::Lt,
        OrigOp::Le,
        OrigOp::Eq,
        OrigOp::Ge,
        OrigOp::Gt,
        OrigOp::MaskedEq,
    ];

    /// A rule for the native numbering of x86_64 (ioctl, fcntl, socket, read).
    fn random_rule(r: &mut Rng, wide: bool) -> Rule {
        let syscall = r.pick(&[16, 16, 72, 41, 0]);
        let action = r.pick(&[
            RET_ALLOW,
            RET_ALLOW,
            RET_ALLOW,
            RET_ERRNO | 1,
            RET_ERRNO | 2,
            RET_TRAP,
            RET_LOG,
        ]);
        let mut args = [None; 6];
        let n = if wide {
            r.pick(&[1, 1, 1, 2])
        } else {
            r.below(4)
        };
        for _ in 0..n {
            let i = if wide {
                r.pick(&[1, 1, 2])
            } else {
                r.below(3) as usize
            };
            let op = if wide && r.below(4) != 0 {
                OrigOp::Eq
            } else {
                r.pick(&OPS)
            };
            let datum = match r.below(10) {
                0 => 0x1_0000_0000 + r.below(4),
                1 => u64::MAX - r.below(3),
                _ if wide => r.below(60),
                _ => r.below(12),
            };
            let mask = if op == OrigOp::MaskedEq {
                r.pick(&[0xff, 0xf0, u64::MAX, 0xffff_0000_0000, 0])
            } else {
                u64::MAX
            };
            args[i] = Some(ApiArg { op, mask, datum });
        }
        Rule {
            strict: false,
            action,
            syscall,
            args,
            name: None,
        }
    }

    type Head = (i32, u32, Option<Id>, u32, u32, bool, bool);
    type Snapshot = Vec<(ScmpArch, Vec<Head>, Vec<Vec<tree::Shape>>)>;

    fn snapshot(c: &Collection) -> Snapshot {
        c.filters
            .iter()
            .map(|f| {
                let heads = f
                    .syscalls
                    .values()
                    .map(|e| {
                        (
                            e.num, e.priority, e.chains, e.node_cnt, e.action, e.valid, e.counted,
                        )
                    })
                    .collect();
                let trees = f.syscalls.values().map(|e| e.tree.shape()).collect();
                (f.arch, heads, trees)
            })
            .collect()
    }

    fn plain<T>(f: impl FnOnce() -> T) -> T {
        tree::PLAIN.with(|c| c.set(true));
        let r = f();
        tree::PLAIN.with(|c| c.set(false));
        r
    }

    fn arg(i: usize, op: OrigOp, datum: u64) -> [Option<ApiArg>; 6] {
        let mut args = [None; 6];
        args[i] = Some(ApiArg {
            op,
            mask: u64::MAX,
            datum,
        });
        args
    }

    fn rule(action: u32, args: [Option<ApiArg>; 6]) -> Rule {
        Rule {
            strict: false,
            action,
            syscall: 16,
            args,
            name: None,
        }
    }

    fn with(
        mut args: [Option<ApiArg>; 6],
        i: usize,
        op: OrigOp,
        datum: u64,
    ) -> [Option<ApiArg>; 6] {
        args[i] = arg(i, op, datum)[i];
        args
    }

    /// Adds `rules` to `a` and to a copy without indexes, comparing outcomes and graphs after
    /// each add; returns (indexes seen, failed adds).
    fn differential(mut a: Collection, rules: &[Rule], what: &str) -> (usize, usize) {
        let mut b = a.clone();
        let (mut indexed, mut failures) = (0, 0);
        for (step, rule) in rules.iter().enumerate() {
            if rule.strict {
                // Stands for a priority change: (syscall, priority in the action).
                let (sc, pri) = (rule.syscall, rule.action as u8);
                let ra = a.syscall_priority(sc, pri).map_err(|e| e.errno());
                let rb = b.syscall_priority(sc, pri).map_err(|e| e.errno());
                assert_eq!(ra, rb);
                continue;
            }
            let before = snapshot(&a);
            let ra = a.rule_add(rule).map_err(|e| e.errno());
            let rb = plain(|| b.rule_add(rule)).map_err(|e| e.errno());
            assert_eq!(ra, rb, "{what} step {step}: {rule:?}");
            let now = snapshot(&a);
            assert!(now == snapshot(&b), "{what} step {step}: {rule:?}");
            if ra.is_err() {
                failures += 1;
                assert!(now == before, "{what} step {step}: not undone");
            }
            for f in &a.filters {
                for e in f.syscalls.values() {
                    indexed += e.tree.check_indexes();
                }
            }
        }
        (indexed, failures)
    }

    fn two_arches() -> Collection {
        let mut c = Collection::new(RET_KILL_PROCESS);
        c.add_arch(ScmpArch::X86).unwrap();
        c
    }

    /// A rule with `!=` and a second argument reaches the second argument's level from two
    /// parents, and the adds through the second parent start in the middle of the level,
    /// which can leave it unsorted.
    #[test]
    fn shared_levels() {
        if NATIVE != Some(ScmpArch::X8664) {
            return;
        }
        let mut r = Rng(7);
        for order in 0..4 {
            let mut vs: Vec<u64> = (0..60).collect();
            match order {
                1 => vs.reverse(),
                // Indexed while sorted, then unsorted.
                3 => vs = (0..40).rev().chain(40..60).collect(),
                2 => {
                    for i in (1..vs.len()).rev() {
                        vs.swap(i, r.below(i as u64 + 1) as usize);
                    }
                }
                _ => {}
            }
            let mut rules = Vec::new();
            // The level shared is that of the second argument's high word.
            for &v in &vs {
                let base = arg(1, OrigOp::Ne, 5);
                let w = (v << 32) | (v % 3);
                rules.push(rule(RET_ALLOW, with(base, 2, OrigOp::Eq, w)));
                if v % 7 == 0 {
                    rules.push(rule(RET_ERRNO | 1, with(base, 2, OrigOp::Eq, w)));
                    rules.push(rule(
                        RET_ALLOW,
                        with(arg(1, OrigOp::Lt, 9), 2, OrigOp::Eq, w),
                    ));
                    rules.push(rule(RET_ALLOW, with(base, 2, OrigOp::Gt, w)));
                    rules.push(rule(RET_ALLOW, arg(2, OrigOp::Eq, w / 2)));
                }
            }
            for c in [Collection::new(RET_KILL_PROCESS), two_arches()] {
                differential(c, &rules, "shared");
            }
        }
    }

    /// A greater sibling's prune walk looks for the new rule's successors, at any depth, in
    /// its own level: on x86 an `arg2` leaf makes a longer rule ending in the same `arg2`
    /// test redundant through two such steps.
    #[test]
    fn deep_successors() {
        if NATIVE != Some(ScmpArch::X8664) {
            return;
        }
        let mut x86 = Collection::new(RET_KILL_PROCESS);
        x86.add_arch(ScmpArch::X86).unwrap();
        x86.remove_arch(ScmpArch::X8664);
        let mut rules = Vec::new();
        for k in 0..24 {
            rules.push(rule(RET_ALLOW, arg(2, OrigOp::Eq, k)));
        }
        for v in 0..24 {
            let a = with(
                with(arg(0, OrigOp::Eq, v), 1, OrigOp::Eq, v + 1),
                2,
                OrigOp::Eq,
                v,
            );
            rules.push(rule(RET_ALLOW, a));
            rules.push(rule(RET_TRAP, with(a, 2, OrigOp::Eq, v + 100)));
            rules.push(rule(RET_ERRNO | 1, with(a, 2, OrigOp::Eq, v + 1)));
        }
        let (indexed, _) = differential(x86, &rules, "deep");
        assert!(indexed > 0);
    }

    /// Rules testing one bit each of two arguments, after `!=` on a third (what minijail's
    /// `arg & mask` becomes): the prune walk goes over a level once for all the siblings
    /// greater than the new node, with the same trees as walking it for each one as
    /// libseccomp does, and at a cost that does not grow with the level's length to the power
    /// of the new rule's depth.
    #[test]
    fn masked_bits_on_one_syscall() {
        /// The nodes a syscall's tree reaches.
        fn live(e: &SysEntry) -> usize {
            let mut seen = std::collections::HashSet::new();
            let mut todo: Vec<_> = e.chains.into_iter().collect();
            while let Some(i) = todo.pop() {
                if seen.insert(i) {
                    let n = &e.tree.nodes[i];
                    todo.extend(
                        n.nxt_t
                            .get()
                            .into_iter()
                            .chain(n.nxt_f.get())
                            .chain(n.lvl_nxt.get()),
                    );
                }
            }
            seen.len()
        }
        if NATIVE != Some(ScmpArch::X8664) {
            return;
        }
        let bits = |mask: u64| (0..64).map(|i| 1u64 << i).filter(move |b| mask & b != 0);
        let masked = |b: u64| ApiArg {
            op: OrigOp::MaskedEq,
            mask: b,
            datum: b,
        };
        let rules_for = |m1: u64, m2: u64, m3: u64| {
            let mut rules = Vec::new();
            for b in bits(m1) {
                let mut a = [None; 6];
                a[5] = Some(masked(b));
                rules.push(rule(RET_ALLOW, a));
            }
            for b2 in bits(m2) {
                for b5 in bits(m3) {
                    let mut a = arg(1, OrigOp::Ne, 7);
                    a[2] = Some(masked(b2));
                    a[5] = Some(masked(b5));
                    rules.push(rule(RET_ALLOW, a));
                }
            }
            rules
        };
        // Small enough for the plain walk.
        let rules = rules_for(0x3_0000_173f, 0x1b10, 0x4_0000_1700);
        differential(Collection::new(RET_KILL_PROCESS), &rules, "masked bits");
        // The other way round, the single bits drop the pairs' branches, under both edges of
        // their `!=` forks: removing a copy counts no node (libseccomp's count, which orders
        // a level-1 program, has none), so the count stays in range (it wrapped below 0).
        let mut c = Collection::new(RET_KILL_PROCESS);
        for r in rules.iter().rev() {
            c.rule_add(r).unwrap();
        }
        let e = c.filters[0].syscalls.get(&16).expect("ioctl");
        let mut f = Collection::new(RET_KILL_PROCESS);
        for r in &rules {
            f.rule_add(r).unwrap();
        }
        let fe = f.filters[0].syscalls.get(&16).expect("ioctl");
        // And the single bits drop the pairs' branches under every sibling before them,
        // in whichever order the rules come (libseccomp's walk stops at the level's first
        // greater sibling: 99 nodes this way round).
        assert_eq!(live(e), live(fe));
        assert!(e.node_cnt < 200, "node count {}", e.node_cnt);
        // A fuzzed minijail policy's (435 rules; libseccomp's walk: 433,174 calls for one
        // add, 2 s for all).
        let rules = rules_for(0xB_BB0B_BB71_73FF, 0xBEB_BB10, 0xBEBB_B0B7_1700);
        let mut c = Collection::new(RET_KILL_PROCESS);
        let mut most = 0;
        for r in &rules {
            let before = tree::WALKS.with(|c| c.get());
            c.rule_add(r).unwrap();
            most = most.max(tree::WALKS.with(|c| c.get()) - before);
        }
        let mut most_r = 0;
        let mut cr = Collection::new(RET_KILL_PROCESS);
        for r in rules.iter().rev() {
            let before = tree::WALKS.with(|c| c.get());
            cr.rule_add(r).unwrap();
            most_r = most_r.max(tree::WALKS.with(|c| c.get()) - before);
        }
        assert!(
            most_r <= 500,
            "{most_r} walks for one rule, the other way round"
        );
        // (1,044 nodes the other way round before the walk went past greater siblings.)
        assert_eq!(
            live(cr.filters[0].syscalls.get(&16).expect("ioctl")),
            live(c.filters[0].syscalls.get(&16).expect("ioctl"))
        );
        assert!(most <= 100, "{most} walks for one rule");
    }

    /// A forked rule (here by `!=` and by a 64-bit range) is dropped where an existing rule of
    /// its action covers every way through it, and kept where one way is left (`cover`; the
    /// third case is one where libseccomp's walk finds the rule covered, from `rule_semantics`
    /// with the check made to always say yes).
    #[test]
    fn forked_rules_are_dropped_only_where_every_way_is_covered() {
        if NATIVE != Some(ScmpArch::X8664) {
            return;
        }
        let masked = |b: u64| ApiArg {
            op: OrigOp::MaskedEq,
            mask: b,
            datum: b,
        };
        let data = |a0: u64, a1: u64, a5: u64| crate::bpf::SeccompData {
            nr: 16,
            arch: ScmpArch::X8664.info().expect("x86_64").audit,
            instruction_pointer: 0,
            args: [a0, a1, 0, 0, 0, a5],
        };
        let nodes = |c: &Collection| c.filters[0].syscalls.get(&16).expect("ioctl").node_cnt;
        // `{a5 & 4}` covers `{a1 != 7, a5 & 4}` both ways (a1's high word 0 or not).
        let mut c = Collection::new(RET_KILL_PROCESS);
        let mut a = [None; 6];
        a[5] = Some(masked(4));
        c.rule_add(&rule(RET_ALLOW, a)).unwrap();
        let before = nodes(&c);
        let mut b = arg(1, OrigOp::Ne, 7);
        b[5] = Some(masked(4));
        c.rule_add(&rule(RET_ALLOW, b)).unwrap();
        assert_eq!(nodes(&c), before, "the covered rule is dropped");
        assert_eq!(c.evaluate(&data(0, 8, 4)), RET_ALLOW);
        assert_eq!(c.evaluate(&data(0, 8, 3)), RET_KILL_PROCESS);
        // A second bit is not covered: the rule stays, both ways.
        let mut b = arg(1, OrigOp::Ne, 7);
        b[5] = Some(masked(8));
        c.rule_add(&rule(RET_ALLOW, b)).unwrap();
        assert!(nodes(&c) > before);
        assert_eq!(c.evaluate(&data(0, 8, 8)), RET_ALLOW);
        assert_eq!(c.evaluate(&data(0, 1 << 32, 8)), RET_ALLOW);
        assert_eq!(c.evaluate(&data(0, 7, 8)), RET_KILL_PROCESS);
        // The walk finds `{a0 != 0x7fff_ffff, a5 < 2, a1 >= 3}` covered by `{a1 > 6, a5 < 2}`
        // (libseccomp 2.5.4 drops it); the way through a0's high word 0 is not.
        let mut c = Collection::new(RET_KILL_PROCESS);
        let a = with(arg(1, OrigOp::Gt, 6), 5, OrigOp::Lt, 2);
        c.rule_add(&rule(RET_ALLOW, a)).unwrap();
        let before = nodes(&c);
        let b = with(
            with(arg(0, OrigOp::Ne, 0x7fff_ffff), 5, OrigOp::Lt, 2),
            1,
            OrigOp::Ge,
            3,
        );
        c.rule_add(&rule(RET_ALLOW, b)).unwrap();
        assert!(nodes(&c) > before, "not covered: a1 in 3..=6");
        assert_eq!(c.evaluate(&data(0x7fff_fffe, 5, 1)), RET_ALLOW);
        assert_eq!(c.evaluate(&data(0x7fff_ffff, 5, 1)), RET_KILL_PROCESS);
        // `{a0 > 0x1_ffff_ffff}` covers the way of `{a0 >= 0x1_0000_0005, a1 == 1}` through
        // a0's high word above 1, not the one through a high word of 1.
        let mut c = Collection::new(RET_KILL_PROCESS);
        c.rule_add(&rule(RET_ALLOW, arg(0, OrigOp::Gt, 0x1_ffff_ffff)))
            .unwrap();
        let b = with(arg(0, OrigOp::Ge, 0x1_0000_0005), 1, OrigOp::Eq, 1);
        c.rule_add(&rule(RET_ALLOW, b)).unwrap();
        assert_eq!(c.evaluate(&data(0x1_0000_0006, 1, 0)), RET_ALLOW);
        assert_eq!(c.evaluate(&data(0x1_0000_0004, 1, 0)), RET_KILL_PROCESS);
        assert_eq!(c.evaluate(&data(0x2_0000_0000, 2, 0)), RET_ALLOW);
        // Another action on part of a way (before the cover in the level: a greater high
        // word): no cover.
        let mut c = Collection::new(RET_KILL_PROCESS);
        let mut a = [None; 6];
        a[5] = Some(masked(4));
        c.rule_add(&rule(RET_ALLOW, a)).unwrap();
        let mut e = [None; 6];
        e[5] = Some(masked(0x1_0000_0004));
        c.rule_add(&rule(RET_ERRNO | 1, e)).unwrap();
        let before = nodes(&c);
        let mut b = arg(1, OrigOp::Ne, 7);
        b[5] = Some(masked(4));
        c.rule_add(&rule(RET_ALLOW, b)).unwrap();
        assert!(
            nodes(&c) > before,
            "not covered where another action decides"
        );
        assert_eq!(c.evaluate(&data(0, 8, 4)), RET_ALLOW);
        assert_eq!(c.evaluate(&data(0, 8, 0x1_0000_0004)), RET_ERRNO | 1);
    }

    /// `Tree::covers` against the trees' own evaluation: random trees of two actions on
    /// x86_64 and random forked rules; where the check finds a rule covered, every probed
    /// argument vector for which the rule's graph gives its action gets that action from the
    /// tree. (The merge calls the check only where libseccomp's walk finds the rule covered,
    /// which is then mostly right: this test calls it on every forked rule.)
    #[test]
    fn covers_holds_on_every_probed_vector() {
        let info = ScmpArch::X8664.info().expect("x86_64");
        let mut r = Rng(0x5eed_c0de_1234_5678);
        let (mut covered, mut not) = (0, 0);
        for case in 0..3000 {
            let pool: Vec<u64> = (0..4)
                .map(|_| match r.below(4) {
                    0 => r.below(8),
                    1 => r.below(4) << 32 | r.below(8),
                    2 => u64::MAX - r.below(3),
                    _ => r.next(),
                })
                .collect();
            let random = |r: &mut Rng, action: u32| {
                let mut args = [None; 6];
                for _ in 0..1 + r.below(3) {
                    let op = r.pick(&OPS);
                    let datum = r.pick(&pool);
                    let mask = if op == OrigOp::MaskedEq {
                        r.pick(&pool) | 1
                    } else {
                        u64::MAX
                    };
                    let datum = datum & mask;
                    args[r.pick(&[0usize, 1, 5])] = Some(ApiArg { op, mask, datum });
                }
                Rule {
                    strict: false,
                    action,
                    syscall: 16,
                    args,
                    name: None,
                }
            };
            let mut c = Collection::new(RET_KILL_PROCESS);
            for _ in 0..1 + r.below(12) {
                let action = if r.below(4) == 0 {
                    RET_ERRNO | 1
                } else {
                    RET_ALLOW
                };
                let _ = c.rule_add(&random(&mut r, action));
            }
            let Some(e) = c.filters[0].syscalls.get(&16) else {
                continue;
            };
            let Some(chains) = e.chains else { continue };
            let mut tree = e.tree.clone();
            let rule = random(&mut r, RET_ALLOW);
            let (Some(new), _) = rule_gen(&mut tree, info, &rule, false) else {
                continue;
            };
            if !tree.forks(new) {
                continue;
            }
            if !tree.covers(chains, new, RET_ALLOW) {
                not += 1;
                continue;
            }
            covered += 1;
            // Every argument from the pool's values, their neighbours and their halves.
            let mut values: Vec<u64> = vec![0, u64::MAX, 0x8000_0000];
            for &v in &pool {
                values.extend([v, v.wrapping_add(1), v.wrapping_sub(1), v >> 32, v << 32]);
            }
            for _ in 0..400 {
                let args: [u64; 6] = std::array::from_fn(|_| r.pick(&values));
                let word = c.word_reader(&crate::bpf::SeccompData {
                    nr: 16,
                    arch: info.audit,
                    instruction_pointer: 0,
                    args,
                });
                if tree.eval(new, &word) == Some(RET_ALLOW) {
                    assert_eq!(
                        tree.eval(chains, &word),
                        Some(RET_ALLOW),
                        "case {case}: {args:x?}, covered by the tree: {rule:?}"
                    );
                }
            }
        }
        println!("{covered} covered, {not} not");
        assert!(covered > 300 && not > 300, "{covered} covered, {not} not");
    }

    /// A shorter rule drops the branches it makes redundant: libseccomp searches the whole tree
    /// for each one, depth first, and also removes the zombie nodes it meets. Where there is
    /// none, the search keeps to the levels on the way to the branch: random rules of one
    /// action, whose `!=` and range comparisons reach a level from two parents, give the
    /// same trees both ways, most removals kept to the region.
    #[test]
    fn removals_keep_to_the_way() {
        if NATIVE != Some(ScmpArch::X8664) {
            return;
        }
        tree::REMOVALS.with(|c| c.set(0));
        // Shrunk from the one random sequence in 1,500 that has it: a node freed through one
        // parent, left as the successor of another, met again there (a zombie).
        let cmp = |op, datum: u64| {
            let mask = if op == OrigOp::MaskedEq {
                datum
            } else {
                u64::MAX
            };
            Some(ApiArg { op, mask, datum })
        };
        let (ne, le, eq, gt) = (OrigOp::Ne, OrigOp::Le, OrigOp::Eq, OrigOp::Gt);
        let hi = 0x1_0000_0000;
        let freed: Vec<Rule> = [
            [None, cmp(ne, 2), None, cmp(eq, 4), None, None],
            [None, cmp(ne, 1), None, cmp(le, 4), None, cmp(eq, 4)],
            [None, cmp(ne, 1), cmp(ne, 4), cmp(ne, 2), None, None],
            [None, cmp(ne, 2), None, None, None, None],
            [None, None, None, None, None, cmp(ne, 4)],
            [
                cmp(ne, hi),
                cmp(le, hi),
                None,
                cmp(OrigOp::MaskedEq, hi),
                None,
                None,
            ],
            [None, cmp(ne, 1), cmp(gt, hi), None, None, None],
            [None, None, None, cmp(OrigOp::MaskedEq, hi), None, None],
        ]
        .into_iter()
        .map(|a| rule(RET_ALLOW, a))
        .collect();
        // Nodes reached from two parents are libseccomp's graphs' (compat mode); the normal
        // mode's are trees, whose removals always keep to the way.
        let mut compat = Collection::new(RET_KILL_PROCESS);
        compat.compat = true;
        differential(compat, &freed, "freed successor");
        for seed in 1..=60u64 {
            let mut r = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
            let mut c = Collection::new(RET_KILL_PROCESS);
            c.compat = seed % 2 == 1;
            if seed % 3 == 0 {
                c.add_arch(ScmpArch::X86).unwrap();
            }
            let mut rules = Vec::new();
            for _ in 0..300 {
                let mut a = [None; 6];
                // Longer rules first, shorter ones later: the later ones drop branches.
                let most = 1 + (4 * (300 - rules.len()) / 300).max(r.below(3) as usize);
                for _ in 0..1 + r.below(most as u64) {
                    let i = r.pick(&[0, 1, 1, 2, 3, 5]);
                    let op = r.pick(&[
                        OrigOp::Ne,
                        OrigOp::Ne,
                        OrigOp::Eq,
                        OrigOp::Eq,
                        OrigOp::Gt,
                        OrigOp::Le,
                        OrigOp::MaskedEq,
                    ]);
                    let datum = r.pick(&[1, 2, 4, 0x1_0000_0000]);
                    let mask = if op == OrigOp::MaskedEq {
                        datum
                    } else {
                        u64::MAX
                    };
                    a[i] = Some(ApiArg { op, mask, datum });
                }
                let action = if r.below(20) == 0 {
                    RET_ERRNO | 1
                } else {
                    RET_ALLOW
                };
                rules.push(rule(action, a));
            }
            differential(c, &rules, &format!("removals, seed {seed}"));
        }
        let n = tree::REMOVALS.with(|c| c.get());
        let (kept, all) = (n >> 32, n & 0xffff_ffff);
        assert!(
            kept >= 200 && all >= kept + 20,
            "{kept} of {all} removals kept to the way"
        );
    }

    /// A shorter rule replaces a sub-tree only when every action in it is the rule's: the check
    /// covers the sub-trees of an indexed level's nodes, not only their own actions.
    #[test]
    fn action_checks_reach_sub_trees() {
        if NATIVE != Some(ScmpArch::X8664) {
            return;
        }
        for deep_action in [RET_ALLOW, RET_ERRNO | 1] {
            let mut x86 = Collection::new(RET_KILL_PROCESS);
            x86.add_arch(ScmpArch::X86).unwrap();
            x86.remove_arch(ScmpArch::X8664);
            let mut rules = Vec::new();
            for k in 0..24 {
                rules.push(rule(
                    RET_ALLOW,
                    with(arg(0, OrigOp::Eq, 1), 1, OrigOp::Eq, k),
                ));
            }
            let deep = with(
                with(arg(0, OrigOp::Eq, 1), 1, OrigOp::Eq, 50),
                2,
                OrigOp::Eq,
                3,
            );
            rules.push(rule(deep_action, deep));
            rules.push(rule(RET_ALLOW, arg(0, OrigOp::Eq, 1)));
            let (indexed, failures) = differential(x86, &rules, "sub-trees");
            assert!(indexed > 0);
            assert_eq!(failures, usize::from(deep_action != RET_ALLOW));
        }
    }

    /// On x86 a 64-bit datum loses its high word, so a rule can be merged (and prune nodes)
    /// on x86_64 and then conflict on x86: the whole add is undone, removals included.
    #[test]
    fn undo_across_arches() {
        if NATIVE != Some(ScmpArch::X8664) {
            return;
        }
        let mut rules = Vec::new();
        for v in (0..40).step_by(3) {
            rules.push(rule(RET_ERRNO | 1, arg(1, OrigOp::Eq, 0x1_0000_0000 + v)));
        }
        for v in 0..40 {
            rules.push(rule(
                RET_ALLOW,
                with(arg(1, OrigOp::Eq, v), 2, OrigOp::Eq, 1),
            ));
            rules.push(rule(
                RET_ALLOW,
                with(arg(1, OrigOp::Eq, v), 2, OrigOp::Eq, 2),
            ));
        }
        for v in (0..40).rev() {
            // Shorter than the rules on v: prunes them on x86_64; conflicts on x86 when
            // v % 3 == 0.
            rules.push(rule(RET_ALLOW, arg(1, OrigOp::Eq, v)));
            rules.push(rule(
                RET_TRAP,
                with(arg(1, OrigOp::Eq, v), 2, OrigOp::Eq, 3),
            ));
        }
        let (indexed, failures) = differential(two_arches(), &rules, "undo");
        assert!(indexed > 0);
        assert!(failures >= 14, "{failures}");

        // An indexed level (arg2's, under arg1 == 7) freed with its parent's sub-tree.
        let mut rules = vec![rule(RET_ERRNO | 1, arg(1, OrigOp::Eq, 0x1_0000_0007))];
        for w in 0..40 {
            let a = with(arg(1, OrigOp::Eq, 7), 2, OrigOp::Eq, w);
            rules.push(rule(RET_ALLOW, a));
            // Nodes with a successor level in that level too.
            rules.push(rule(RET_ALLOW, with(a, 3, OrigOp::Eq, w)));
            rules.push(rule(
                RET_ALLOW,
                with(with(a, 2, OrigOp::Eq, w + 99), 3, OrigOp::Eq, w),
            ));
        }
        rules.push(rule(RET_ALLOW, arg(1, OrigOp::Eq, 7)));
        let (_, failures) = differential(two_arches(), &rules, "undo freed level");
        assert_eq!(failures, 1);

        // Nodes pruned from an indexed level (arg1's, under arg0 == 1) by shorter rules.
        let mut rules = Vec::new();
        for w in (0..40).step_by(3) {
            rules.push(rule(RET_ERRNO | 1, arg(1, OrigOp::Eq, 0x1_0000_0000 + w)));
        }
        for w in 0..40 {
            rules.push(rule(
                RET_ALLOW,
                with(arg(0, OrigOp::Eq, 1), 1, OrigOp::Eq, w),
            ));
        }
        for w in 0..40 {
            rules.push(rule(RET_ALLOW, arg(1, OrigOp::Eq, w)));
        }
        let (_, failures) = differential(two_arches(), &rules, "undo pruned");
        assert!(failures >= 14, "{failures}");

        // Nodes of an indexed level (arg1's) gaining a successor level (on the false edge).
        let mut rules = Vec::new();
        for v in 0..40 {
            rules.push(rule(RET_ALLOW, arg(1, OrigOp::Eq, v)));
        }
        for v in (0..40).step_by(3) {
            let a = arg(1, OrigOp::Ne, 0x1_0000_0000 + v);
            rules.push(rule(RET_ERRNO | 1, with(a, 2, OrigOp::Eq, 1)));
        }
        for v in 0..40 {
            rules.push(rule(
                RET_TRAP,
                with(arg(1, OrigOp::Ne, v), 2, OrigOp::Eq, 1),
            ));
        }
        let (_, failures) = differential(two_arches(), &rules, "undo grown");
        assert!(failures >= 14, "{failures}");
    }

    /// The level indexes and the undo log change no outcome and no node: the same rules give
    /// the same results and the same graph with and without them, and a failed add leaves
    /// everything as it was.
    #[test]
    fn indexes_and_undo_log_change_nothing() {
        random_sequences(1..=48);
    }

    /// The same with a `sig` that collides all the time.
    #[test]
    fn colliding_signatures() {
        tree::COARSE_SIG.with(|c| c.set(true));
        random_sequences(100..=112);
        tree::COARSE_SIG.with(|c| c.set(false));
    }

    fn random_sequences(seeds: std::ops::RangeInclusive<u64>) {
        if NATIVE != Some(ScmpArch::X8664) {
            return;
        }
        let mut indexed = 0;
        let mut failures = 0;
        let n = seeds.clone().count();
        for seed in seeds {
            let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut a = Collection::new(RET_KILL_PROCESS);
            match seed % 4 {
                1 => a.add_arch(ScmpArch::X86).unwrap(),
                2 => {
                    a.add_arch(ScmpArch::X86).unwrap();
                    a.add_arch(ScmpArch::X32).unwrap();
                }
                3 => {
                    a.add_arch(ScmpArch::X86).unwrap();
                    a.remove_arch(ScmpArch::X8664);
                }
                _ => {}
            }
            let wide = seed % 3 != 0;
            let mut rules = Vec::new();
            for _ in 0..400 {
                rules.push(if r.below(50) == 0 {
                    Rule {
                        strict: true,
                        action: r.below(256) as u32,
                        syscall: r.pick(&[16, 72, 41, 1]),
                        args: [None; 6],
                        name: None,
                    }
                } else {
                    random_rule(&mut r, wide)
                });
            }
            let (i, f) = differential(a, &rules, &format!("seed {seed}"));
            indexed += i;
            failures += f;
        }
        assert!(indexed > 20 * n, "the indexes were hardly used: {indexed}");
        assert!(failures > 2 * n, "too few failed adds: {failures}");
    }
}
