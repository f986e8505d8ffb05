//! Which tests load their word.
//!
//! After a test, the accumulator holds the word it tested (masked, if the test masked it;
//! whole for a `jset`, whose mask is all ones): the pair `(off, mask)` names it. A test needs its own load unless every test that jumps to it leaves
//! its word, with its mask, in the accumulator: the high-word `>` and `==` pair of a 64-bit
//! comparison, a chain or tree of values of one argument, the syscall-number dispatch tree.

use crate::ir::{Dn, DnId, Program};

/// The tests that need a load. With `skip` off (the [`crate::opt::Passes::LOADS`] pass
/// switched off), every test loads.
pub(super) fn needing_load(p: &Program, order: &[DnId], skip: bool) -> Vec<bool> {
    let mut need = vec![false; p.ir.len()];
    for &d in order {
        let Dn::Test {
            off, mask, t, f, ..
        } = p.ir.node(d)
        else {
            continue;
        };
        if !skip || d == p.root {
            need[d] = true;
        }
        for c in [t, f] {
            if let Dn::Test {
                off: co, mask: cm, ..
            } = p.ir.node(c)
            {
                if (co, cm) != (off, mask) {
                    need[c] = true;
                }
            }
        }
    }
    need
}
