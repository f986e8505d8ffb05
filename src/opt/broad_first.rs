//! Broad alternatives first: in a syscall whose rules all have one action, each level of its
//! argument tree tries masked and range comparisons before single values.
//!
//! A level of the rule database is a list of alternatives (siblings), each a comparison with
//! the rest of its rules below it; a call that no alternative's rules take goes on to the next
//! sibling. Where every action below is one action `A`, the level answers `A` exactly when
//! some sibling's rules take the call, whatever the order: the order is free. A failed mask
//! or range test tells [`prune`](super::prune) which values the word cannot hold, so single
//! values after it that it would have taken are dropped; a failed `==` tells almost nothing.
//! crosvm's `ioctl: arg1 == FIONBIO || ... || arg1 & 0x6400` is three `jset`s, where
//! libseccomp's order (the values first) keeps every value.
//!
//! Only syscalls with a level where a mask follows a value of its word are tried (those where
//! only ranges do, Docker's `socket`, gave a sixth of what the trials saved on the recorded
//! random filters, and trying them cost a build of Docker's profile 5 to 15 %), and the
//! reordered decision is kept only where, built alone, `prune` makes it shorter than the
//! database's order ([`pays`]). The database keeps libseccomp's order (its compat mode needs
//! it); this only changes the order in which lowering ([`crate::ir::lower`]) turns a level
//! into tests.

use super::Passes;
use crate::db::tree::{Cmp, Id, Node, Tree};
use crate::ir::Program;

/// Whether the order of every level of `tree` is free (no node has an action but one) and
/// some `==` is followed in its level by a mask of its word (read off the whole arena, freed
/// nodes included, which costs a needless [`pays`] at worst; a walk of the levels from the
/// root, with a set of those seen, made building 1000 rules of `==` on 50 syscalls 8 %
/// slower).
pub(crate) fn applies(tree: &Tree) -> bool {
    tree.one_action()
        && tree.nodes.iter().any(|a| {
            a.lvl_nxt.get().is_some_and(|b| {
                let b = &tree.nodes[b];
                b.op == Cmp::MaskedEq && after_value(a, b)
            })
        })
}

/// Whether `b`, the sibling after `a`, compares `a`'s word otherwise than `a`'s `==`.
fn after_value(a: &Node, b: &Node) -> bool {
    a.op == Cmp::Eq && b.op != Cmp::Eq && a.offset == b.offset
}

/// Whether the decision `build(true)` (the levels in [`order`]) is shorter than
/// `build(false)` (the database's order) after `jset` and `prune` (those of `passes`), by
/// [`Program::min_len`]. The reordered one is shorter where a failed mask decides values
/// after it (crosvm's `ioctl` lines: 10 instructions); but the values tried last are reached
/// from every way the tests before them fail, and where `prune` tells those ways apart it
/// may copy what follows them (eight one-bit masks, each with one of two values of another
/// argument, then a value: a bound of 62 instructions against 59). (Judged after
/// every IR pass, emitted as the compilation emits, no program of the grown fuzz corpus came
/// out otherwise, and both passes and emission cost three times as much.)
pub(crate) fn pays(passes: Passes, build: impl Fn(bool) -> Program) -> bool {
    if !passes.contains(Passes::PRUNE) {
        // What the order gives is what `prune` then drops.
        return false;
    }
    let len = |reordered: bool| {
        let mut p = build(reordered);
        if passes.contains(Passes::JSET) {
            p = super::jset::run(p);
        }
        super::prune::run(&p).min_len()
    };
    len(true) < len(false)
}

/// Whether [`order`] changes the order of `siblings`: some `==` comes right before another
/// comparison of its word (the database keeps each word's comparisons together).
fn reorders(tree: &Tree, siblings: &[Id]) -> bool {
    (siblings.windows(2)).any(|w| after_value(&tree.nodes[w[0]], &tree.nodes[w[1]]))
}

/// Reorders one level's `siblings` (of a tree [`applies`] holds for): within each run of
/// comparisons of one argument word (the database keeps a word's comparisons together, so
/// that its word is loaded once on the way through them), every one but `==` first, each group
/// in the database's order.
pub(crate) fn order(tree: &Tree, siblings: &mut [Id]) {
    if !reorders(tree, siblings) {
        return;
    }
    let nodes = &tree.nodes;
    for word in siblings.chunk_by_mut(|&a, &b| nodes[a].offset == nodes[b].offset) {
        // (A stable sort: each group keeps its order.)
        word.sort_by_key(|&i| nodes[i].op == Cmp::Eq);
    }
}

#[cfg(test)]
mod tests {
    use crate::bpf::{self, Instruction, SeccompData};
    use crate::opt::Passes;
    use crate::*;

    /// x86_64's `ioctl`.
    const IOCTL: i32 = 16;

    fn eq(v: u64) -> ScmpArgCompare {
        ScmpArgCompare::new(1, ScmpCompareOp::Equal, v)
    }

    fn bit(b: u64) -> ScmpArgCompare {
        ScmpArgCompare::new(1, ScmpCompareOp::MaskedEqual(b), b)
    }

    /// A level-2 x86_64 program of `ioctl` rules of one comparison, added in the order given.
    fn build(rules: &[(ScmpAction, ScmpArgCompare)], passes: Passes) -> Vec<Instruction> {
        let rules: Vec<_> = rules.iter().map(|&(a, c)| (a, vec![c])).collect();
        build_with(&rules, passes)
    }

    /// A level-2 x86_64 program of `ioctl` rules, added in the order given.
    fn build_with(rules: &[(ScmpAction, Vec<ScmpArgCompare>)], passes: Passes) -> Vec<Instruction> {
        let mut ctx = ScmpFilterContext::new(ScmpAction::KillProcess).unwrap();
        if ScmpArch::native() != ScmpArch::X8664 {
            ctx.remove_arch(ScmpArch::Native).unwrap();
            ctx.add_arch(ScmpArch::X8664).unwrap();
        }
        ctx.set_ctl_optimize(2).unwrap();
        ctx.set_opt_passes(passes);
        let ioctl = ScmpSyscall::from_name("ioctl").unwrap();
        for (action, c) in rules {
            ctx.add_rule_conditional(*action, ioctl, c).unwrap();
        }
        ctx.program().unwrap()
    }

    fn ret(prog: &[Instruction], arg1: u64) -> u32 {
        let data = SeccompData {
            nr: IOCTL,
            arch: bpf::audit_arch(ScmpArch::X8664).unwrap(),
            args: [0, arg1, 0, 0, 0, 0],
            ..Default::default()
        };
        bpf::simulate(prog, &data, Endian::Little).unwrap().ret
    }

    /// crosvm's `gpu_common` `ioctl` line: every value has a bit of `0x6400`, so the three
    /// `jset`s decide every call, in whichever order the rules come (libseccomp's order
    /// tests the values first when they come first).
    #[test]
    fn values_a_mask_takes_go_whichever_order_the_rules_come_in() {
        let allow = ScmpAction::Allow;
        let values = [
            0x5421,
            0x5451,
            0x4008_6200,
            0x4008_7543,
            0xc018_aa3f,
            0xaa00,
        ];
        let masks = [0x400, 0x2000, 0x4000];
        let rules_in = |values_first: bool| {
            let v = values.iter().map(|&v| (allow, eq(v)));
            let m = masks.iter().map(|&b| (allow, bit(b)));
            if values_first {
                v.chain(m).collect::<Vec<_>>()
            } else {
                m.chain(v).collect()
            }
        };
        let all = Passes::all();
        let (a, b) = (build(&rules_in(true), all), build(&rules_in(false), all));
        assert_eq!(a.len(), b.len());
        let off = build(&rules_in(true), all - Passes::BROAD_FIRST);
        assert_eq!((a.len(), off.len()), (13, 23));
        assert_eq!(build(&rules_in(false), all - Passes::BROAD_FIRST).len(), 13);
        for v in values
            .iter()
            .chain(&masks)
            .copied()
            .chain([0, 0x3bff, 1 << 32])
        {
            let want = ret(&off, v);
            assert_eq!(ret(&a, v), want, "{v:#x}");
            assert_eq!(ret(&b, v), want, "{v:#x}");
        }
    }

    /// Where the reordered decision is longer, the database's order stays: `a0 == 4` after
    /// the masks is reached from every way their rules fail, which `prune` tells apart (a
    /// bound of 62 instructions, where the database's order gives 59; with four masks, whose
    /// copies `prune` now gives up, both orders give 16).
    #[test]
    fn a_reorder_that_costs_is_left_out() {
        let mut rules = vec![(ScmpAction::Allow, vec![arg0(ScmpCompareOp::Equal, 4)])];
        for a1 in [2, 0] {
            for b in (4..12).map(|i| 1 << i) {
                rules.push((
                    ScmpAction::Allow,
                    vec![
                        arg0(ScmpCompareOp::MaskedEqual(b), b),
                        ScmpArgCompare::new(1, ScmpCompareOp::Equal, a1),
                    ],
                ));
            }
        }
        let on = build_with(&rules, Passes::all());
        let off = build_with(&rules, Passes::all() - Passes::BROAD_FIRST);
        assert_eq!((on.len(), off.len()), (66, 66));
    }

    fn arg0(op: ScmpCompareOp, v: u64) -> ScmpArgCompare {
        ScmpArgCompare::new(0, op, v)
    }

    /// Where the rules have two actions, the order is the database's: a value that a mask
    /// also takes gets the action of the rule tried first.
    #[test]
    fn two_actions_keep_the_order() {
        let rules = [
            (ScmpAction::Errno(1), eq(0x4000)),
            (ScmpAction::Allow, bit(0x4000)),
        ];
        for passes in [Passes::all(), Passes::all() - Passes::BROAD_FIRST] {
            let p = build(&rules, passes);
            assert_eq!(ret(&p, 0x4000), bpf::SECCOMP_RET_ERRNO | 1);
            assert_eq!(ret(&p, 0x4001), bpf::SECCOMP_RET_ALLOW);
        }
    }
}
