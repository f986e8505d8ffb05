//! Which tests load their word.
//!
//! After a test, the accumulator holds the word it tested (masked, if the test masked it;
//! whole for a `jset`, whose mask is all ones): the pair `(off, mask)` names it. A test is
//! entered past its load where the predecessor leaves its word in the accumulator: with its
//! mask, past the `and` too (the high-word `>` and `==` pair of a 64-bit comparison, a chain
//! or tree of values of one argument, the syscall-number dispatch tree); with more bits than
//! its mask keeps (the whole word, or a wider mask), at its `and`, which masks what the
//! accumulator holds as it would the word. A test needs its own load only where some
//! predecessor enters it with another word, or another mask that lacks some of its bits.

use crate::ir::{Dn, DnId, Program};

/// Where a predecessor enters a test: what the test must do before its jump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Entry {
    /// The accumulator holds the test's word with its mask: the jump alone.
    Jump,
    /// It holds the word with every bit of the test's mask: the `and`, then the jump.
    And,
    /// The load (and the `and` of a masked test), then the jump.
    Load,
}

/// How a predecessor whose accumulator holds `acc` (`(off, mask)`) enters a test of word
/// `off` masked with `mask`.
pub(super) fn entry(acc: (u32, u32), off: u32, mask: u32) -> Entry {
    if acc == (off, mask) {
        Entry::Jump
    } else if acc.0 == off && mask != u32::MAX && mask & !acc.1 == 0 {
        Entry::And
    } else {
        Entry::Load
    }
}

/// The entries each test needs: the widest that any of its predecessors enters it by
/// ([`Entry::Load`] for the root). With `skip` off (the [`crate::opt::Passes::LOADS`] pass
/// switched off), every test loads.
pub(super) fn needed(p: &Program, order: &[DnId], skip: bool) -> Vec<Entry> {
    let mut need = vec![Entry::Jump; p.ir.len()];
    for &d in order {
        let Dn::Test {
            off, mask, t, f, ..
        } = p.ir.node(d)
        else {
            continue;
        };
        if !skip || d == p.root {
            need[d] = Entry::Load;
        }
        for c in [t, f] {
            if let Dn::Test {
                off: co, mask: cm, ..
            } = p.ir.node(c)
            {
                need[c] = need[c].max(entry((off, mask), co, cm));
            }
        }
    }
    need
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wider_mask_enters_at_the_and() {
        let whole = u32::MAX;
        assert_eq!(entry((16, whole), 16, whole), Entry::Jump);
        assert_eq!(entry((16, 0xff), 16, 0xff), Entry::Jump);
        // The whole word, or a wider mask: the `and` alone.
        assert_eq!(entry((16, whole), 16, 0xf0), Entry::And);
        assert_eq!(entry((16, 0xff), 16, 0xf0), Entry::And);
        // A mask without some of the test's bits, the whole word after a mask, another word.
        assert_eq!(entry((16, 0x0f), 16, 0xf0), Entry::Load);
        assert_eq!(entry((16, 0xff), 16, whole), Entry::Load);
        assert_eq!(entry((20, whole), 16, 0xf0), Entry::Load);
    }
}
