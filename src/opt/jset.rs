//! Masked equality tests as `jset`.
//!
//! `(w & m) == 0` is `!(w & m)`, and `(w & b) == b` for a one-bit `b` is `w & b`: a `jset`
//! decides both on the whole word, so the `and` goes, and the accumulator keeps the whole
//! word for the next test of it (no reload). Docker's `clone` flag check is one of these.

use crate::ir::{Dn, Op, Program};

/// Whether `(w & mask) op k` is a test one `jset` decides.
fn fits(mask: u32, op: Op, k: u32) -> bool {
    op == Op::Eq && mask != u32::MAX && (k == 0 || (mask.is_power_of_two() && k == mask))
}

/// Rewrites every masked equality test a `jset` decides (`p` itself when there is none).
pub(crate) fn run(p: Program) -> Program {
    // (Every node, not only the reachable ones: no walk, and the rewrite below keeps only
    // what the root reaches anyway.)
    let any =
        p.ir.nodes()
            .any(|d| matches!(d, Dn::Test { mask, op, k, .. } if fits(mask, op, k)));
    if !any {
        return p;
    }
    p.map(|ir, n| match n {
        Dn::Test {
            off,
            mask,
            op: Op::Eq,
            k,
            t,
            f,
        } if fits(mask, Op::Eq, k) => {
            // `(a & m) == 0` holds when `a & m` is clear; `(a & b) == b` when it is set.
            let (t, f) = if k == 0 { (f, t) } else { (t, f) };
            ir.test(off, u32::MAX, Op::Set, mask, t, f)
        }
        other => ir.add(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Ir;

    #[test]
    fn masked_tests_become_jset() {
        let mut ir = Ir::default();
        let a = ir.ret(1);
        let b = ir.ret(2);
        let zero = ir.test(16, 0x7e02_0000, Op::Eq, 0, a, b);
        let bit = ir.test(24, 0x8, Op::Eq, 0x8, zero, b);
        let two_bits = ir.test(32, 0x3, Op::Eq, 0x1, bit, a);
        let p = run(Program { ir, root: two_bits });
        assert_eq!(
            p.dump(),
            "n0: [32] & 0x3 Eq 0x1 ? n1 : n3\n\
             n1: [24] Set 0x8 ? n2 : n4\n\
             n2: [16] Set 0x7e020000 ? n4 : n3\n\
             n3: ret 0x1\n\
             n4: ret 0x2\n"
        );
    }
}
