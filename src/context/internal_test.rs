//! Hooks of this crate's own tests (feature `__internal-test`): reproducing libseccomp
//! 2.5.4's bugs, to compare with recordings of that library. No part of the API.

use super::ScmpFilterContext;
use crate::bpf;
use crate::db::SysEntry;

impl ScmpFilterContext {
    /// Makes this filter reproduce libseccomp 2.5.4's known bugs, for differential testing
    /// against recordings of that library (see the README's list of deliberate
    /// differences). Never use it for a filter you load.
    #[doc(hidden)]
    pub fn __emulate_libseccomp_2_5_4(&mut self, on: bool) {
        self.col.compat = on;
        self.changed();
    }

    /// Whether, in compat mode, libseccomp 2.5.4's program never loads the syscall number in
    /// the section that judges `data` (its priority-placeholder bug).
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_ignores_nr(&self, data: &bpf::SeccompData) -> bool {
        self.col.ignores_nr(data, &|_, nr| nr)
    }

    /// [`Self::__libseccomp_2_5_4_ignores_nr`] with the syscalls of the rules numbered by
    /// `number` (architecture, this crate's number): libseccomp 2.5.4's numbers, where its
    /// older tables differ. Its x32 table numbers `map_shadow_stack` as a pseudo syscall,
    /// which can make the section's first block one that loads nothing.
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_ignores_nr_numbered(
        &self,
        data: &bpf::SeccompData,
        number: &dyn Fn(crate::ScmpArch, i32) -> i32,
    ) -> bool {
        self.col.ignores_nr(data, number)
    }

    /// Whether libseccomp 2.5.4's stale-accumulator miscompilation (a rule comparing the
    /// argument word a nested comparison loaded instead of its own) can make its program
    /// return `ret` for `data`. For classifying differences against recordings of that
    /// library.
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_stale_acc_explains(&self, data: &bpf::SeccompData, ret: u32) -> bool {
        self.col.stale_acc_explains(data, ret)
    }

    /// Whether, in compat mode, libseccomp 2.5.4's merge of the rules on the syscall that
    /// judges `data` went wrong where a range comparison forks a rule (README, deliberate
    /// differences, 9): the normal mode's tree for it differs.
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_merge_differs(&self, data: &bpf::SeccompData) -> bool {
        self.col.merge_quirk(data, crate::db::QUIRK_MERGE)
    }

    /// Whether, in compat mode, libseccomp 2.5.4's merge of the rules on `syscall` went wrong
    /// on some architecture where a range comparison forks a rule (README, deliberate
    /// differences, 9): the normal mode's tree for it differs, and so may what a later rule on
    /// it conflicts with.
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_merged_wrongly(&self, syscall: crate::ScmpSyscall) -> bool {
        self.col
            .merge_quirk_on(syscall.as_raw_syscall(), crate::db::QUIRK_MERGE)
    }

    /// Whether, in compat mode, libseccomp 2.5.4's merge of the rules of `arch`'s entry for
    /// the syscall it numbers `nr` (that architecture's own number) went wrong: a range
    /// comparison forked a rule (README, deliberate differences, 5 and 9) or linked a node
    /// into two levels (4). The normal mode's tree for it differs, and so does its pseudo
    /// filter code.
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_entry_merged_wrongly(&self, arch: crate::ScmpArch, nr: i32) -> bool {
        self.entry_is(arch, nr, |e| e.tree.quirk != 0)
    }

    /// Makes the rules added from now on note what
    /// [`Self::__pruned_past_libseccomp_stop`] reports: a copy of the syscall's entry and a
    /// second merge for each rule, so it is off by default (the examples and benchmarks are
    /// built with these hooks, and time the rule adds users get).
    #[doc(hidden)]
    pub fn __track_libseccomp_stops(&mut self, on: bool) {
        self.col.track_stops = on;
    }

    /// Whether, in the normal mode, a rule on `arch`'s entry for the syscall it numbers `nr`
    /// dropped a branch it covers below a level where libseccomp 2.5.4's prune walk stops
    /// (a sibling that sorts before the rule's comparison, below an existing prefix), which
    /// libseccomp keeps (README, deliberate differences, 12): the entry's node count, and with
    /// it its priority and pseudo filter code, differs from libseccomp's; its verdicts do not.
    /// Noted only for rules added with [`Self::__track_libseccomp_stops`] on (false
    /// otherwise).
    #[doc(hidden)]
    pub fn __pruned_past_libseccomp_stop(&self, arch: crate::ScmpArch, nr: i32) -> bool {
        self.entry_is(arch, nr, |e| e.tree.pruned_past_stop)
    }

    /// Whether, in compat mode, a refused rule made libseccomp 2.5.4 restore the filter of its
    /// last rule added from before an architecture was added, removed or merged in (README,
    /// deliberate differences, 2): the architectures, and the rules of one removed and added
    /// again, are as they were then, so the normal mode's filter may differ in any call or
    /// query since.
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_restored_other_arches(&self) -> bool {
        self.col.restored_stale
    }

    /// Whether a rule on `arch`'s entry for the syscall it numbers `nr` forked (a 64-bit range
    /// or `!=` comparison leads on from both edges of a node): the normal mode gives each
    /// edge its own copy of the rest of the rule where libseccomp 2.5.4 shares one node
    /// (README, deliberate differences, 9), so the entry's node count, and with it its
    /// priority (the order of a level-1 program, what `export_pfc` shows), may differ.
    #[doc(hidden)]
    pub fn __forked_rule_on(&self, arch: crate::ScmpArch, nr: i32) -> bool {
        self.entry_is(arch, nr, |e| e.tree.forked)
    }

    /// Whether `arch`'s entry for the syscall it numbers `nr` was made by a rule, not by
    /// `set_syscall_priority` (a placeholder, even one a rule filled later): libseccomp counts
    /// only those, and the count sizes the binary search in the pseudo filter code (level 2).
    /// A rule on a multiplexed socket/ipc call may make the multiplexer's entry in one mode
    /// and not in the other (README, deliberate differences, 6), so a placeholder set on it
    /// later may be counted in one mode alone.
    #[doc(hidden)]
    pub fn __entry_made_by_rule(&self, arch: crate::ScmpArch, nr: i32) -> bool {
        self.entry_is(arch, nr, |e| e.counted)
    }

    /// Whether `arch`'s entry for the syscall it numbers `nr` is as `what` says.
    fn entry_is(&self, arch: crate::ScmpArch, nr: i32, what: impl Fn(&SysEntry) -> bool) -> bool {
        self.col
            .filters
            .iter()
            .filter(|f| f.arch == arch)
            .filter_map(|f| f.syscalls.get(&nr))
            .any(what)
    }

    /// Whether, in compat mode, a refused rule made libseccomp 2.5.4 restore its filters
    /// rebuilt from their rules (README, deliberate differences, 2), losing every priority
    /// set before it: the normal mode keeps them, so its entries' priorities, and the order
    /// of its level-1 program and pseudo filter code, may differ.
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_restored_rules_only(&self) -> bool {
        self.col.restored_rules
    }

    /// Whether, in compat mode, such a restore (above) lost the priority of `arch`'s entry for
    /// the syscall it numbers `nr`: one given by `set_syscall_priority` before it, on a rule's
    /// entry or a placeholder (README, deliberate differences, 2). The normal mode keeps it,
    /// so the entry's priority may differ in the pseudo filter code.
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_priority_lost(&self, arch: crate::ScmpArch, nr: i32) -> bool {
        self.col.priorities_lost.contains(&(arch, nr))
    }

    /// Whether, in compat mode, a refused rule made libseccomp 2.5.4 restore a shadow that no
    /// longer mirrored the filters: after an architecture was removed from the middle of the
    /// list (or removed and added again) and a rule was then added, libseccomp brings its
    /// shadow up to date by position, giving one architecture's rules to another. Compat mode
    /// does not reproduce that filter: from here on it is not libseccomp's.
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_restore_not_emulated(&self) -> bool {
        self.col.restore_not_emulated
    }

    /// Whether, in compat mode at level 1, libseccomp 2.5.4 judges `data` by another entry
    /// than the normal mode: the x86_64 and x32 filters both have one for its number (an
    /// x86_64 rule given an x32 number), and the later one's priority is higher (README,
    /// deliberate differences, 11).
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_judged_by_priority(&self, data: &bpf::SeccompData) -> bool {
        self.col.judged_by_priority(data)
    }

    /// Whether, in compat mode, libseccomp 2.5.4's merge kept the first rule's action on the
    /// false edge of a 64-bit high word's node, where the normal mode gives the smaller value's
    /// rule (README, deliberate differences, 5).
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_range_merge_differs(&self, data: &bpf::SeccompData) -> bool {
        self.col.merge_quirk(data, crate::db::QUIRK_RANGE)
    }

    /// Whether, in compat mode, libseccomp 2.5.4 links a node of a rule on the syscall that
    /// judges `data` into a second level, which compat mode does not reproduce (README,
    /// deliberate differences, 4: where it does not hang, the two levels run into each other).
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_links_levels(&self, data: &bpf::SeccompData) -> bool {
        self.col.merge_quirk(data, crate::db::QUIRK_LINK)
    }
}
