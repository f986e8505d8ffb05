//! libseccomp 2.5.4's known bugs, reproduced for differential testing against recordings of
//! that library and never otherwise (see the README's list of deliberate differences): the
//! database's compat mode (`Collection::compat`) and the classifiers that tell whether one
//! of those bugs explains an answer of libseccomp's. The classifiers, and the switch that
//! turns compat mode on, exist only for this crate's tests (feature `__internal-test`).

#[cfg(any(test, feature = "__internal-test"))]
use super::tree::{Cmp, Id, Tree};
use super::{ArchFilter, Collection, SysEntry, PRI_MASK_CHAIN};
use crate::arch::ScmpArch;

impl Collection {
    /// Whether, of two entries for one number in a section (x86_64's and x32's), the one of
    /// higher priority judges, as in libseccomp 2.5.4's level 1 (compat mode only: README,
    /// deliberate differences, 11); else the first member's, as in its level 2.
    pub(crate) fn by_priority(&self) -> bool {
        self.compat && self.attrs.optimize != 2
    }

    /// Whether libseccomp 2.5.4 (compat mode, level 1) judges `data` by another entry than
    /// the normal mode (the first member's): x86_64's and x32's filters both have one for
    /// its number, and the later one's priority is higher.
    #[cfg(any(test, feature = "__internal-test"))]
    pub(crate) fn judged_by_priority(&self, data: &crate::bpf::SeccompData) -> bool {
        if !self.by_priority() {
            return false;
        }
        let Some(members) = self.section_for(data) else {
            return false;
        };
        let found: Vec<&SysEntry> = (members.iter())
            .filter_map(|g| self.entry(&[*g], data.nr))
            .collect();
        match found[..] {
            [first, .., last] => last.priority > first.priority,
            _ => false,
        }
    }

    /// libseccomp 2.5.4 bug (emulated only in compat mode): at optimize level 1 the syscall
    /// number is loaded by the first syscall block in priority order; when that entry is a
    /// placeholder from `set_syscall_priority` or a pseudo syscall, no block loads it and the
    /// section compares the architecture token instead of the syscall number.
    pub(crate) fn section_skips_nr_load(&self, members: &[&ArchFilter]) -> bool {
        self.section_skips_nr_load_as(members, &|_, nr| nr)
    }

    /// [`Collection::section_skips_nr_load`] with each syscall numbered by `number`
    /// (architecture, this crate's number), for the tests: libseccomp 2.5.4's number, where
    /// its older tables differ.
    pub(crate) fn section_skips_nr_load_as(
        &self,
        members: &[&ArchFilter],
        number: &dyn Fn(ScmpArch, i32) -> i32,
    ) -> bool {
        if !self.compat || self.attrs.optimize != 1 {
            return false;
        }
        if let [only] = members {
            if matches!(only.arch, ScmpArch::X8664 | ScmpArch::X32) {
                return false;
            }
        }
        // libseccomp keeps syscall numbers unsigned: pseudo (negative) numbers sort last,
        // and a stable sort by priority picks the first block.
        let mut all: Vec<(i32, &SysEntry)> = Vec::new();
        for f in members {
            let mut v: Vec<(i32, &SysEntry)> = f
                .syscalls
                .values()
                .map(|e| (number(f.arch, e.num), e))
                .collect();
            v.sort_by_key(|&(nr, _)| nr as u32);
            all.extend(v);
        }
        all.sort_by_key(|(_, e)| std::cmp::Reverse(e.priority));
        let tskip = self.attrs.tskip;
        all.first()
            .is_some_and(|&(nr, h)| !h.valid || (nr < 0 && !(nr == -1 && tskip)))
    }

    /// Whether, in compat mode, the section that judges `data` never loads the syscall
    /// number (see [`Collection::section_skips_nr_load_as`]).
    #[cfg(any(test, feature = "__internal-test"))]
    pub(crate) fn ignores_nr(
        &self,
        data: &crate::bpf::SeccompData,
        number: &dyn Fn(ScmpArch, i32) -> i32,
    ) -> bool {
        self.section_for(data)
            .is_some_and(|m| self.section_skips_nr_load_as(&m, number))
    }

    /// Whether a program built by libseccomp 2.5.4 can return `ret` for `data` because of its
    /// stale-accumulator bug (see [`Tree::eval_stale`]).
    #[cfg(any(test, feature = "__internal-test"))]
    pub(crate) fn stale_acc_explains(&self, data: &crate::bpf::SeccompData, ret: u32) -> bool {
        let word = self.word_reader(data);
        let Some(members) = self.section_for(data) else {
            return false;
        };
        let Some(e) = self.entry(&members, data.nr) else {
            return false;
        };
        let Some(c) = e.chains else { return false };
        e.tree
            .eval_stale(c, (u32::MAX, u32::MAX), (0, u32::MAX), &word)
            .iter()
            .any(|o| match o {
                Stale::Ret(a) => *a == ret,
                Stale::Fell(_) => self.attrs.act_default == ret,
            })
    }
}

#[cfg(any(test, feature = "__internal-test"))]
impl Collection {
    /// Whether, in compat mode, a merge of rules on the syscall that judges `data` took one of
    /// libseccomp 2.5.4's wrong turns of kind `quirk` ([`Tree::quirk`]).
    pub(crate) fn merge_quirk(&self, data: &crate::bpf::SeccompData, quirk: u8) -> bool {
        self.section_for(data)
            .and_then(|m| self.entry(&m, data.nr).map(|e| e.tree.quirk & quirk != 0))
            .unwrap_or(false)
    }

    /// Whether, in compat mode, a merge of rules on syscall `nr` (as a rule names it) took
    /// one of libseccomp 2.5.4's wrong turns of kind `quirk` on some architecture.
    pub(crate) fn merge_quirk_on(&self, nr: i32, quirk: u8) -> bool {
        self.filters.iter().any(|f| {
            super::translate(f.arch, nr)
                .ok()
                .and_then(|n| f.syscalls.get(&n))
                .is_some_and(|e| e.tree.quirk & quirk != 0)
        })
    }
}

/// The filters as rebuilt from their rules: no priority placeholders, no user priorities.
pub(super) fn rules_only(mut filters: Vec<ArchFilter>) -> Vec<ArchFilter> {
    for f in &mut filters {
        f.syscalls.retain(|_, e| e.valid);
        for e in f.syscalls.values_mut() {
            e.priority &= PRI_MASK_CHAIN;
            e.counted = true;
        }
    }
    filters
}

#[cfg(any(test, feature = "__internal-test"))]
impl Tree {
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
                (n.nxt_t.get(), n.act_t)
            } else {
                (n.nxt_f.get(), n.act_f)
            };
            match (nxt, act) {
                (Some(c), _) => {
                    for o in self.eval_stale(c, child_gen, (off, mask), word) {
                        match o {
                            Stale::Ret(a) => out.push(Stale::Ret(a)),
                            Stale::Fell(rt2) => {
                                out.extend(self.stale_from(n.lvl_nxt.get(), after, rt2, word))
                            }
                        }
                    }
                }
                (None, Some(a)) => out.push(Stale::Ret(a)),
                (None, None) => {
                    out.extend(self.stale_from(n.lvl_nxt.get(), after, (off, mask), word))
                }
            }
        }
        out.dedup();
        out
    }
}

/// An outcome of [`Tree::eval_stale`].
#[cfg(any(test, feature = "__internal-test"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stale {
    Ret(u32),
    /// Fell off the level with the accumulator holding this (offset, mask).
    Fell((u32, u32)),
}
