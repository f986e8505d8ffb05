//! From the decision graph to a classic BPF program.
//!
//! The program is built from its end: every test is placed after (in the program: before)
//! the tests it jumps to, in the order [`layout`] decides (a depth-first walk that places the
//! smaller successor right after its test, so the other jump skips as little as possible);
//! jumps are resolved as each test is placed. Three steps shape the code, each of which can
//! be switched off ([`Passes`]):
//! * loads ([`Passes::LOADS`], [`loads`]): a test loads its word unless every path into it
//!   comes from a test of the same word, and a predecessor that holds the word enters past
//!   the load (at the `and` of a masked test, where it holds more bits than the mask keeps);
//! * returns ([`Passes::SHARED_RETS`]): a jump to a return reuses a `ret` already placed
//!   within its reach, else a new copy is placed next to it;
//! * far jumps: a conditional jump reaches at most 255 instructions; beyond that a `ja`
//!   trampoline is placed next to it (always on: the kernel requires it), or, with
//!   [`Passes::SHARED_RETS`], one already placed to the same instruction within reach
//!   serves it.
//!
//! [`Passes::CLEANUP`] then tidies the bytecode (`crate::opt::cleanup`).

mod layout;
mod loads;

use crate::bpf::{self, Instruction};
use crate::error::{Result, SeccompErrno, SeccompError};
use crate::ir::hash::FxMap;
use crate::ir::{Dn, DnId, Op, Program};
use crate::opt::Passes;

/// The longest conditional jump.
const JMP_MAX: usize = 255;

/// [`Builder::placed`] of a test not placed yet.
const UNPLACED: Placed = Placed {
    full: usize::MAX,
    and: usize::MAX,
    jump: usize::MAX,
};

/// Where a placed test starts, for each [`loads::Entry`]: with its load, at its `and` (its
/// jump, for a test without a mask), at its jump. An entry no predecessor uses is the next
/// one that is placed.
#[derive(Debug, Clone, Copy)]
struct Placed {
    full: usize,
    and: usize,
    jump: usize,
}

/// Where a jump goes: a placed instruction, or a `ret` to be placed (or reused) nearby.
#[derive(Debug, Clone, Copy)]
enum Target {
    At(usize),
    Ret(u32),
}

/// Builds a program from its end: `rev[0]` is the last instruction.
struct Builder<'a> {
    p: &'a Program,
    rev: Vec<Instruction>,
    /// Where each placed test starts, by node; [`UNPLACED`] before it is placed.
    placed: Vec<Placed>,
    rets: FxMap<u32, usize>,
    /// The last `ja` placed to each far instruction (by index), shared as `rets` are.
    trampolines: FxMap<usize, usize>,
    /// The entries each test needs (see [`loads::needed`]).
    needs: Vec<loads::Entry>,
    shared_rets: bool,
}

impl Builder<'_> {
    fn push(&mut self, i: Instruction) -> usize {
        self.rev.push(i);
        self.rev.len() - 1
    }

    /// An instruction index the next conditional jump can reach, given that `slack` more
    /// instructions may be placed before that jump.
    fn reach(&mut self, t: Target, slack: usize) -> usize {
        let dist = |rev_len: usize, q: usize| rev_len + slack - q - 1;
        match t {
            Target::Ret(k) => match self.rets.get(&k) {
                Some(&q) if self.shared_rets && dist(self.rev.len(), q) <= JMP_MAX => q,
                _ => {
                    let q = self.push(Instruction::stmt(bpf::BPF_RET | bpf::BPF_K, k));
                    self.rets.insert(k, q);
                    q
                }
            },
            Target::At(q) if dist(self.rev.len(), q) <= JMP_MAX => q,
            Target::At(q) => match self.trampolines.get(&q) {
                Some(&j) if self.shared_rets && dist(self.rev.len(), j) <= JMP_MAX => j,
                _ => {
                    let here = self.rev.len();
                    let off = (here - q - 1) as u32;
                    let j = self.push(Instruction::stmt(bpf::BPF_JMP | bpf::BPF_JA, off));
                    self.trampolines.insert(q, j);
                    j
                }
            },
        }
    }

    /// Places a conditional jump to `t`/`f`; returns its index.
    fn jump(&mut self, code: u16, k: u32, t: Target, f: Target) -> usize {
        let jt = self.reach(t, 1);
        let jf = self.reach(f, 0);
        let here = self.rev.len();
        self.push(Instruction::jump(
            bpf::BPF_JMP | code | bpf::BPF_K,
            k,
            (here - jt - 1) as u8,
            (here - jf - 1) as u8,
        ))
    }

    /// Where a predecessor whose accumulator holds `acc` enters node `d` (placed already).
    fn target(&self, d: DnId, acc: (u32, u32)) -> Target {
        match self.p.ir.node(d) {
            Dn::Ret(k) => Target::Ret(k),
            Dn::Test { off, mask, .. } => {
                let at = self.placed[d];
                // (A layout places every test after its successors: see `layout::check`.)
                assert!(
                    at.full != usize::MAX,
                    "a jump to test {d}, which is not placed yet: the layout put a test before \
                     one of its successors"
                );
                Target::At(match loads::entry(acc, off, mask) {
                    loads::Entry::Jump => at.jump,
                    loads::Entry::And => at.and,
                    loads::Entry::Load => at.full,
                })
            }
        }
    }

    /// Places test `d`, whose successors are placed.
    fn place(&mut self, d: DnId) {
        let Dn::Test {
            off,
            mask,
            op,
            k,
            t,
            f,
        } = self.p.ir.node(d)
        else {
            return;
        };
        let acc = (off, mask);
        let (tt, ft) = (self.target(t, acc), self.target(f, acc));
        let code = match op {
            Op::Eq => bpf::BPF_JEQ,
            Op::Gt => bpf::BPF_JGT,
            Op::Ge => bpf::BPF_JGE,
            Op::Set => bpf::BPF_JSET,
        };
        let jump = self.jump(code, k, tt, ft);
        let need = self.needs[d];
        let and = if need >= loads::Entry::And && mask != u32::MAX {
            self.push(Instruction::stmt(
                bpf::BPF_ALU | bpf::BPF_AND | bpf::BPF_K,
                mask,
            ))
        } else {
            jump
        };
        let full = if need == loads::Entry::Load {
            self.push(Instruction::stmt(
                bpf::BPF_LD | bpf::BPF_W | bpf::BPF_ABS,
                off,
            ))
        } else {
            and
        };
        self.placed[d] = Placed { full, and, jump };
    }
}

/// Lays out a program (instruction values in host terms). The length is not checked here:
/// see [`check_len`].
pub(crate) fn emit(p: &Program, passes: Passes) -> Vec<Instruction> {
    emit_in(p, passes, &layout::order(p))
}

/// [`emit`], placing the tests in `order` (a layout: see [`layout::check`]).
fn emit_in(p: &Program, passes: Passes, order: &[DnId]) -> Vec<Instruction> {
    debug_assert!(layout::check(p, order));
    let mut b = Builder {
        p,
        rev: Vec::new(),
        placed: vec![UNPLACED; p.ir.len()],
        rets: FxMap::default(),
        trampolines: FxMap::default(),
        needs: loads::needed(p, order, passes.contains(Passes::LOADS)),
        shared_rets: passes.contains(Passes::SHARED_RETS),
    };
    for &d in order {
        b.place(d);
    }
    match p.ir.node(p.root) {
        Dn::Ret(k) => {
            b.push(Instruction::stmt(bpf::BPF_RET | bpf::BPF_K, k));
        }
        Dn::Test { .. } => {
            // The root's entry must be the first instruction.
            let full = b.placed[p.root].full;
            if full + 1 != b.rev.len() {
                let off = (b.rev.len() - full - 1) as u32;
                b.push(Instruction::stmt(bpf::BPF_JMP | bpf::BPF_JA, off));
            }
        }
    }
    let mut prog = b.rev;
    prog.reverse();
    if passes.contains(Passes::CLEANUP) {
        prog = crate::opt::cleanup::run(prog);
    }
    prog
}

/// Refuses a program longer than the kernel accepts (libseccomp fails the export with
/// `EFAULT` there too).
pub(crate) fn check_len(prog: Vec<Instruction>) -> Result<Vec<Instruction>> {
    if prog.len() > bpf::BPF_MAXINSNS {
        return Err(SeccompError::with_errno(
            SeccompErrno::EFAULT,
            format!(
                "the filter compiles to {} instructions; the kernel accepts at most {}",
                prog.len(),
                bpf::BPF_MAXINSNS
            ),
        ));
    }
    Ok(prog)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::{disassemble, simulate, SeccompData};
    use crate::ir::Ir;

    /// The listing without the raw fields: `index: mnemonic operands`.
    fn listing(prog: &[Instruction]) -> Vec<String> {
        disassemble(prog)
            .lines()
            .map(|l| {
                let (at, rest) = l.split_once(": ").expect("an index");
                let text = rest.splitn(5, ' ').nth(4).expect("raw fields").trim();
                format!("{at}: {}", text.split("  ;").next().expect("text").trim())
            })
            .collect()
    }

    /// `args[0] lo == 1 ? ALLOW : (args[0] lo == 2 ? ERRNO(1) : (args[1] lo == 3 ? ALLOW :
    /// KILL))`: a chain on one word, then a test of another word.
    fn two_words() -> Program {
        let mut ir = Ir::default();
        let allow = ir.ret(0x7fff_0000);
        let errno = ir.ret(0x0005_0001);
        let kill = ir.ret(0);
        let other = ir.test(24, u32::MAX, Op::Eq, 3, allow, kill);
        let second = ir.test(16, u32::MAX, Op::Eq, 2, errno, other);
        let root = ir.test(16, u32::MAX, Op::Eq, 1, allow, second);
        Program { ir, root }
    }

    /// Every pass but `off`, and no clean-up (to see the emitter's own output).
    fn without(off: Passes) -> Passes {
        Passes::all() - off - Passes::CLEANUP
    }

    #[test]
    fn a_test_of_the_word_the_accumulator_holds_loads_nothing() {
        let p = two_words();
        assert_eq!(
            listing(&emit(&p, without(Passes::empty()))),
            [
                "0000: ld    [16]",
                "0001: jeq   #0x1  true:0007 false:0002",
                "0002: jeq   #0x2  true:0003 false:0004",
                "0003: ret   ERRNO(1)",
                "0004: ld    [24]",
                "0005: jeq   #0x3  true:0007 false:0006",
                "0006: ret   KILL_THREAD",
                "0007: ret   ALLOW",
            ]
        );
        // Without the step, the second test of args[0] loads it again.
        let loads = |prog: &[Instruction]| {
            prog.iter()
                .filter(|i| i.code == bpf::BPF_LD | bpf::BPF_W | bpf::BPF_ABS)
                .count()
        };
        assert_eq!(loads(&emit(&p, without(Passes::empty()))), 2);
        assert_eq!(loads(&emit(&p, without(Passes::LOADS))), 3);
    }

    /// `args[0] lo == 1 ? ALLOW : ((args[0] lo & 0xf0) == 0x20 ? ERRNO(1) : ((args[0] lo &
    /// 0x30) == 0x10 ? ALLOW : ((args[0] lo & 0xc) == 4 ? ERRNO(1) : KILL)))`: the word whole,
    /// then masked, then with fewer bits, then with others.
    #[test]
    fn a_test_of_fewer_bits_than_the_accumulator_holds_masks_it_again_without_a_load() {
        let mut ir = Ir::default();
        let allow = ir.ret(0x7fff_0000);
        let errno = ir.ret(0x0005_0001);
        let kill = ir.ret(0);
        let other_bits = ir.test(16, 0xc, Op::Eq, 4, errno, kill);
        let fewer = ir.test(16, 0x30, Op::Eq, 0x10, allow, other_bits);
        let masked = ir.test(16, 0xf0, Op::Eq, 0x20, errno, fewer);
        let root = ir.test(16, u32::MAX, Op::Eq, 1, allow, masked);
        let p = Program { ir, root };
        assert_eq!(
            listing(&emit(&p, without(Passes::empty()))),
            [
                "0000: ld    [16]",
                "0001: jeq   #0x1  true:0006 false:0002",
                "0002: and   #0xf0",
                "0003: jeq   #0x20  true:0011 false:0004",
                "0004: and   #0x30",
                "0005: jeq   #0x10  true:0006 false:0007",
                "0006: ret   ALLOW",
                "0007: ld    [16]",
                "0008: and   #0xc",
                "0009: jeq   #0x4  true:0011 false:0010",
                "0010: ret   KILL_THREAD",
                "0011: ret   ERRNO(1)",
            ]
        );
        assert_eq!(emit(&p, without(Passes::LOADS)).len(), 14);
    }

    #[test]
    fn jumps_to_one_return_share_it_when_in_reach() {
        let p = two_words();
        let rets = |prog: &[Instruction]| {
            prog.iter()
                .filter(|i| i.code == bpf::BPF_RET | bpf::BPF_K && i.k == 0x7fff_0000)
                .count()
        };
        assert_eq!(rets(&emit(&p, without(Passes::empty()))), 1);
        assert_eq!(rets(&emit(&p, without(Passes::SHARED_RETS))), 2);
    }

    /// The tests of `p` in the graph's post-order (successors first, the true side before the
    /// false side): a layout other than the emitter's.
    fn postorder_layout(p: &Program) -> Vec<DnId> {
        let order: Vec<DnId> =
            p.ir.postorder(p.root)
                .into_iter()
                .filter(|&d| p.ir.succ(d).is_some())
                .collect();
        assert!(layout::check(p, &order));
        order
    }

    #[test]
    fn another_layout_gives_another_program_with_the_same_verdicts() {
        // `args[0] == 3 ? (args[1] == 1 ? ERRNO(1) : s) : (args[1] >= 9 ? s : KILL)`, where
        // `s` is `args[2] == 5 ? ALLOW : KILL`: tests that either order may place first.
        let p = layout::tests::diamond();
        let ours = emit(&p, Passes::all());
        let other = emit_in(&p, Passes::all(), &postorder_layout(&p));
        assert_ne!(ours, other, "the post-order lays the tests out differently");
        for (a0, a1, a2, want) in [
            (3, 1, 0, 0x0005_0001),
            (3, 2, 5, 0x7fff_0000),
            (3, 2, 4, 0),
            (4, 9, 5, 0x7fff_0000),
            (4, 9, 6, 0),
            (4, 8, 5, 0),
        ] {
            let d = SeccompData {
                args: [a0, a1, a2, 0, 0, 0],
                ..Default::default()
            };
            for prog in [&ours, &other] {
                let got = simulate(prog, &d, crate::Endian::Little).expect("runs");
                assert_eq!(got.ret, want, "args {a0} {a1} {a2}");
            }
        }
    }

    /// The graph's own verdict for `d` (little-endian words).
    fn eval(p: &Program, d: &SeccompData) -> u32 {
        let bytes = d.to_bytes(crate::Endian::Little);
        let mut n = p.root;
        loop {
            match p.ir.node(n) {
                Dn::Ret(k) => return k,
                Dn::Test {
                    off,
                    mask,
                    op,
                    k,
                    t,
                    f,
                } => {
                    let at = off as usize;
                    let word = u32::from_le_bytes(bytes[at..at + 4].try_into().expect("a word"));
                    n = if op.holds(word & mask, k) { t } else { f };
                }
            }
        }
    }

    #[test]
    fn random_graphs_keep_their_verdicts_in_every_layout_and_pass_set() {
        // Seeded LCG.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        const KS: [u32; 6] = [0, 1, 2, 7, 0x8000_0000, u32::MAX];
        const OFFS: [u32; 6] = [0, 4, 16, 20, 24, 36];
        let (mut far, mut longest) = (0, 0);
        for round in 0..24 {
            let mut ir = Ir::default();
            let mut nodes: Vec<DnId> = [0x7fff_0000, 0x0005_0001, 0x0003_0000, 0]
                .iter()
                .map(|&r| ir.ret(r))
                .collect();
            // Bottom-up: each test jumps to nodes built before it, one of them among the last
            // few (so that the root reaches most of the graph), the other anywhere (far back,
            // often: jumps beyond the 255-instruction reach).
            let size = [8, 40, 300, 700][round % 4];
            for _ in 0..size {
                let pick = |r: u64, within: usize| {
                    nodes[nodes.len() - 1 - (r as usize % nodes.len().min(within))]
                };
                let near = pick(next(1 << 20), 3);
                let other = pick(next(1 << 20), usize::MAX);
                let (t, f) = if next(2) == 0 {
                    (near, other)
                } else {
                    (other, near)
                };
                let off = OFFS[next(6) as usize];
                let op = [Op::Eq, Op::Gt, Op::Ge, Op::Set][next(4) as usize];
                // (Masks within masks, and beside them: the `and` entries and loads.)
                let mask = match next(8) {
                    0 => 0xff,
                    1 => 0x0f,
                    2 => 0xf0,
                    _ => u32::MAX,
                };
                let k = KS[next(6) as usize];
                let d = ir.test(off, mask, op, k, t, f);
                nodes.push(d);
            }
            let root = *nodes.last().expect("a node");
            let p = Program { ir, root };
            let layouts = [layout::order(&p), postorder_layout(&p)];
            for passes in [Passes::all(), without(Passes::empty()), Passes::empty()] {
                for order in &layouts {
                    let prog = emit_in(&p, passes, order);
                    crate::bpf::validate(&prog).expect("a valid program");
                    longest = longest.max(prog.len());
                    far += prog
                        .iter()
                        .filter(|i| i.code == bpf::BPF_JMP | bpf::BPF_JA)
                        .count();
                    for _ in 0..64 {
                        let w = |r: u64| u64::from(KS[r as usize % 6]) ^ (r >> 3 & 1);
                        let d = SeccompData {
                            nr: w(next(16)) as i32,
                            arch: w(next(16)) as u32,
                            args: [
                                w(next(16)) | w(next(16)) << 32,
                                w(next(16)) | w(next(16)) << 32,
                                w(next(16)),
                                0,
                                0,
                                0,
                            ],
                            ..Default::default()
                        };
                        let got = simulate(&prog, &d, crate::Endian::Little).expect("runs");
                        assert_eq!(got.ret, eval(&p, &d), "round {round} {passes:?} {d:?}");
                    }
                }
            }
        }
        // Programs long enough for far jumps were among them.
        assert!(longest > 300 && far > 0, "longest {longest}, {far} ja");
    }

    #[test]
    fn a_jump_beyond_reach_goes_through_a_ja() {
        // 300 values of args[0], each of which goes on to one shared test of args[2]: the
        // first values' jumps to it are more than 255 instructions long.
        let mut ir = Ir::default();
        let allow = ir.ret(0x7fff_0000);
        let errno = ir.ret(0x0005_0001);
        let shared = ir.test(32, u32::MAX, Op::Eq, 5, allow, errno);
        let mut root = ir.ret(0);
        for v in (1..=300u32).rev() {
            let own = ir.ret(0x0005_0000 | v);
            let on = ir.test(24, u32::MAX, Op::Eq, v, shared, own);
            root = ir.test(16, u32::MAX, Op::Eq, v, on, root);
        }
        let p = Program { ir, root };
        let layouts = [layout::order(&p), postorder_layout(&p)];
        for (passes, order) in [Passes::all(), without(Passes::empty())]
            .into_iter()
            .flat_map(|passes| layouts.iter().map(move |o| (passes, o)))
        {
            let prog = emit_in(&p, passes, order);
            crate::bpf::validate(&prog).expect("a valid program");
            assert!(prog.iter().any(|i| i.code == bpf::BPF_JMP | bpf::BPF_JA));
            for (a0, a1, a2, want) in [
                (1, 1, 5, 0x7fff_0000),
                (1, 1, 4, 0x0005_0001),
                (2, 3, 5, 0x0005_0002),
                (299, 299, 5, 0x7fff_0000),
                (300, 1, 5, 0x0005_0000 | 300),
                (301, 301, 5, 0),
            ] {
                let d = SeccompData {
                    args: [a0, a1, a2, 0, 0, 0],
                    ..Default::default()
                };
                let got = simulate(&prog, &d, crate::Endian::Little).expect("runs");
                assert_eq!(got.ret, want, "args {a0} {a1} {a2}");
            }
        }
        // The far jumps share their `ja`s: one serves every jump within its reach.
        let jas = |passes: Passes| {
            let prog = emit_in(&p, passes, &layouts[0]);
            (prog.iter())
                .filter(|i| i.code == bpf::BPF_JMP | bpf::BPF_JA)
                .count()
        };
        let (shared, own) = (
            jas(without(Passes::empty())),
            jas(without(Passes::SHARED_RETS)),
        );
        assert!(shared < 10 && own > 100, "{shared} shared, {own} own");
    }
}
