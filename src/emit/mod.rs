//! From the decision graph to a classic BPF program.
//!
//! The program is built from its end: every node is placed after (in the program: before)
//! the nodes it jumps to, in a depth-first walk that places the smaller successor right after
//! its test, so the other jump skips as little as possible. Three steps shape the code, each
//! of which can be switched off ([`Passes`]):
//! * loads ([`Passes::LOADS`], [`loads`]): a test loads its word unless every path into it
//!   comes from a test of the same word, and a predecessor that holds the word enters past
//!   the load;
//! * returns ([`Passes::SHARED_RETS`]): a jump to a return reuses a `ret` already placed
//!   within its reach, else a new copy is placed next to it;
//! * far jumps: a conditional jump reaches at most 255 instructions; beyond that a `ja`
//!   trampoline is placed next to it (always on: the kernel requires it).
//!
//! [`Passes::CLEANUP`] then tidies the bytecode (`crate::opt::cleanup`).

mod loads;

use crate::bpf::{self, Instruction};
use crate::error::{Result, SeccompErrno, SeccompError};
use crate::ir::hash::FxMap;
use crate::ir::{Dn, DnId, Op, Program};
use crate::opt::Passes;

/// The longest conditional jump.
const JMP_MAX: usize = 255;

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
    /// Placed tests: (entry with the load, entry for an accumulator that holds the word).
    /// Where each placed test starts: (with its load, after it), by node.
    placed: Vec<(usize, usize)>,
    rets: FxMap<u32, usize>,
    needs_load: Vec<bool>,
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
            Target::At(q) => {
                if dist(self.rev.len(), q) <= JMP_MAX {
                    q
                } else {
                    let here = self.rev.len();
                    let off = (here - q - 1) as u32;
                    self.push(Instruction::stmt(bpf::BPF_JMP | bpf::BPF_JA, off))
                }
            }
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
                let (full, fast) = self.placed[d];
                Target::At(if (off, mask) == acc { fast } else { full })
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
        let fast = self.jump(code, k, tt, ft);
        if !self.needs_load[d] {
            self.placed[d] = (fast, fast);
            return;
        }
        if acc.1 != u32::MAX {
            self.push(Instruction::stmt(
                bpf::BPF_ALU | bpf::BPF_AND | bpf::BPF_K,
                mask,
            ));
        }
        let full = self.push(Instruction::stmt(
            bpf::BPF_LD | bpf::BPF_W | bpf::BPF_ABS,
            off,
        ));
        self.placed[d] = (full, fast);
    }
}

/// Lays out a program (instruction values in host terms). The length is not checked here:
/// see [`check_len`].
pub(crate) fn emit(p: &Program, passes: Passes) -> Vec<Instruction> {
    let order = p.ir.postorder(p.root);
    // A rough size of each sub-graph, to place the smaller successor next to its test.
    let mut size = vec![0usize; p.ir.len()];
    for &d in &order {
        size[d] = match p.ir.succ(d) {
            None => 1,
            Some((t, f)) => (2 + size[t] + size[f]).min(1 << 20),
        };
    }
    let mut b = Builder {
        p,
        rev: Vec::new(),
        placed: vec![(0, 0); p.ir.len()],
        rets: FxMap::default(),
        needs_load: loads::needing_load(p, &order, passes.contains(Passes::LOADS)),
        shared_rets: passes.contains(Passes::SHARED_RETS),
    };
    // Depth-first, successors before their test; the bigger successor first (farther away).
    let mut stack = vec![(p.root, false)];
    let mut seen = vec![false; p.ir.len()];
    while let Some((d, expanded)) = stack.pop() {
        if expanded {
            b.place(d);
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
    match p.ir.node(p.root) {
        Dn::Ret(k) => {
            b.push(Instruction::stmt(bpf::BPF_RET | bpf::BPF_K, k));
        }
        Dn::Test { .. } => {
            // The root's entry must be the first instruction.
            let (full, _) = b.placed[p.root];
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
