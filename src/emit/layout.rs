//! The order of the program's tests: a decision of its own.
//!
//! The emitter builds the program from its end, so it can place a test only once the tests
//! it jumps to are placed; any order with every test after its successors (and the root
//! last) gives a correct program. The order decides the length (how many `ret` copies and
//! `ja` trampolines the jumps' 255-instruction reach needs) and which successor falls
//! through. [`order`] is the one the emitter uses; [`check`] states what every order must be.

use crate::ir::{DnId, Program};

/// The tests of `p`, each once, in the order the emitter places them (the program's last
/// test first, the root last): a depth-first walk that places each test right before its
/// smaller successor (so that the jump past it skips as little as possible) and the bigger
/// one farther away.
pub(super) fn order(p: &Program) -> Vec<DnId> {
    // A rough size of each sub-graph, to place the smaller successor next to its test.
    let mut size = vec![0usize; p.ir.len()];
    for &d in &p.ir.postorder(p.root) {
        size[d] = match p.ir.succ(d) {
            None => 1,
            Some((t, f)) => (2 + size[t] + size[f]).min(1 << 20),
        };
    }
    let mut out = Vec::new();
    let mut stack = vec![(p.root, false)];
    let mut seen = vec![false; p.ir.len()];
    while let Some((d, expanded)) = stack.pop() {
        if expanded {
            out.push(d);
            continue;
        }
        let Some((t, f)) = p.ir.succ(d) else { continue };
        if std::mem::replace(&mut seen[d], true) {
            continue;
        }
        stack.push((d, true));
        let (near, far) = if size[t] <= size[f] { (t, f) } else { (f, t) };
        stack.push((near, false));
        stack.push((far, false));
    }
    out
}

/// Whether `order` is a layout of `p`'s tests: each reachable test once, after its
/// successors, the root last (none at all when the root is a return).
pub(super) fn check(p: &Program, order: &[DnId]) -> bool {
    let mut at = vec![usize::MAX; p.ir.len()];
    for (k, &d) in order.iter().enumerate() {
        if d >= at.len() || at[d] != usize::MAX || p.ir.succ(d).is_none() {
            return false;
        }
        at[d] = k;
    }
    let tests =
        p.ir.postorder(p.root)
            .into_iter()
            .filter(|&d| p.ir.succ(d).is_some())
            .count();
    let root_last = match p.ir.succ(p.root) {
        None => order.is_empty(),
        Some(_) => order.last() == Some(&p.root),
    };
    tests == order.len()
        && root_last
        && order.iter().enumerate().all(|(k, &d)| {
            let (t, f) = p.ir.succ(d).expect("a test");
            [t, f].iter().all(|&c| p.ir.succ(c).is_none() || at[c] < k)
        })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::ir::{Ir, Op};

    /// A diamond with a shared test and a chain: `root ? (a ? x : s) : (b ? s : y)`, where
    /// `s` is a test shared by both sides.
    pub(in crate::emit) fn diamond() -> Program {
        let mut ir = Ir::default();
        let allow = ir.ret(0x7fff_0000);
        let kill = ir.ret(0);
        let errno = ir.ret(0x0005_0001);
        let s = ir.test(32, u32::MAX, Op::Eq, 5, allow, kill);
        let a = ir.test(24, u32::MAX, Op::Eq, 1, errno, s);
        let b = ir.test(24, u32::MAX, Op::Ge, 9, s, kill);
        let root = ir.test(16, u32::MAX, Op::Eq, 3, a, b);
        Program { ir, root }
    }

    #[test]
    fn the_emitters_order_places_every_test_once_after_its_successors() {
        let p = diamond();
        let o = order(&p);
        assert_eq!(o.len(), 4);
        assert!(check(&p, &o), "{o:?}");
    }

    #[test]
    fn an_order_that_breaks_the_rules_is_refused() {
        let p = diamond();
        let o = order(&p);
        // The root first: its successors are not placed yet.
        let mut early = o.clone();
        early.rotate_right(1);
        assert!(!check(&p, &early));
        // A test twice, or one left out.
        let mut twice = o.clone();
        twice.insert(0, o[0]);
        assert!(!check(&p, &twice));
        assert!(!check(&p, &o[1..]));
        // A return is not a test.
        let ret = (0..p.ir.len()).find(|&d| p.ir.succ(d).is_none());
        let mut with_ret = o.clone();
        with_ret.insert(0, ret.expect("a return"));
        assert!(!check(&p, &with_ret));
    }

    #[test]
    fn a_program_that_is_a_return_has_no_tests_to_lay_out() {
        let mut ir = Ir::default();
        let root = ir.ret(0);
        let p = Program { ir, root };
        assert!(order(&p).is_empty());
        assert!(check(&p, &[]));
    }
}
