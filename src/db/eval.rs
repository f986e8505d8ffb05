//! The reference evaluator: what the rule database decides for one `seccomp_data`, computed
//! from the rules themselves, without BPF.
//!
//! Apart from the compat-mode check that lowering uses too (`section_skips_nr_load`), it
//! shares no code with the generator (`crate::ir`, `crate::opt`, `crate::emit`): the
//! property and conformance tests compare the generated programs, simulated, with it, and
//! [`ScmpFilterContext::evaluate`](crate::ScmpFilterContext::evaluate) exposes it, so that
//! fuzz targets and users have an oracle.

use super::{ArchFilter, Collection, SysEntry};
use crate::arch::{Endian, ScmpArch};

impl Collection {
    /// The 32-bit word at byte offset `off` of `data` laid out in the filter's byte order.
    pub(super) fn word_reader(&self, data: &crate::bpf::SeccompData) -> impl Fn(u32) -> u32 {
        let endian = self.endian.unwrap_or(Endian::Little);
        let bytes = data.to_bytes(endian);
        move |off: u32| {
            let o = off as usize;
            let b = [bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]];
            match endian {
                Endian::Little => u32::from_le_bytes(b),
                Endian::Big => u32::from_be_bytes(b),
            }
        }
    }

    /// The filters of the section that judges `data`, or `None` for the bad-arch action (no
    /// architecture with that token, or x86_64/x32 alone and the other one's numbers).
    pub(super) fn section_for(&self, data: &crate::bpf::SeccompData) -> Option<Vec<&ArchFilter>> {
        let both = self.has_arch(ScmpArch::X8664) && self.has_arch(ScmpArch::X32);
        let nr = data.nr as u32;
        let f = self.filters.iter().find(|f| f.info().audit == data.arch)?;
        // x86_64 and x32 share an audit token: bit 30 of the number tells them apart; alone,
        // x86_64 still takes -1 (tracers skipping a syscall).
        match f.arch {
            ScmpArch::X8664 | ScmpArch::X32 if both => Some(
                self.filters
                    .iter()
                    .filter(|g| matches!(g.arch, ScmpArch::X8664 | ScmpArch::X32))
                    .collect(),
            ),
            ScmpArch::X8664 if nr >= 0x4000_0000 && nr != u32::MAX => None,
            ScmpArch::X32 if nr < 0x4000_0000 => None,
            _ => Some(vec![f]),
        }
    }

    /// The entry that judges syscall `nr` in a section, if any: of two (x86_64's and x32's,
    /// for -1 or an x86_64 rule given an x32 number), the first member's, as libseccomp
    /// 2.5.4's level 2 has it; its level 1 (compat mode only) takes the one of higher
    /// priority, the first of equals (README, deliberate differences, 11).
    pub(super) fn entry<'a>(&self, members: &[&'a ArchFilter], nr: i32) -> Option<&'a SysEntry> {
        let mut found = members.iter().filter_map(|g| {
            g.syscalls
                .get(&nr)
                .filter(|e| e.valid && (nr >= 0 || (nr == -1 && self.attrs.tskip)))
        });
        let first = found.next()?;
        if !self.by_priority() {
            return Some(first);
        }
        Some(found.fold(first, |a, e| if e.priority > a.priority { e } else { a }))
    }

    /// Evaluates the collection on `data` without BPF: the independent reference for the
    /// generated programs.
    pub(crate) fn evaluate(&self, data: &crate::bpf::SeccompData) -> u32 {
        let word = self.word_reader(data);
        let Some(members) = self.section_for(data) else {
            return self.attrs.act_badarch;
        };
        let nr = if self.section_skips_nr_load(&members) {
            data.arch as i32
        } else {
            data.nr
        };
        match self.entry(&members, nr) {
            None => self.attrs.act_default,
            Some(e) => match e.chains {
                None => e.action,
                Some(c) => e.tree.eval(c, &word).unwrap_or(self.attrs.act_default),
            },
        }
    }
}
