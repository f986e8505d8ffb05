//! From the rule database to BPF, in two steps:
//!
//! 1. [`plan`] turns the database into a *decision IR*: per architecture section, the list of
//!    syscalls with a decision DAG each (`Ret` or a 32-bit `Test` of one word of
//!    `seccomp_data` with a true and a false successor). The level/sibling semantics of the
//!    database are resolved here, and identical decisions are shared (hash-consed), so later
//!    optimisation passes work on a plain decision graph.
//! 2. [`emit`] lays the plan out as a classic BPF program: the architecture checks, the x32
//!    bit checks, syscall dispatch (a priority-ordered `jeq` chain at optimize level 1, a
//!    binary search at level 2), the decision blocks, and `ret` blocks. It builds the program
//!    back to front so every jump target is placed before its source is written; a
//!    conditional jump that would exceed 255 instructions gets a nearby copy of its `ret`
//!    target or a `ja` trampoline.

use crate::arch::ScmpArch;
use crate::bpf::{self, Instruction};
use crate::db::tree::{Cmp, Id, Tree};
use crate::db::{Collection, SysEntry};
use crate::error::{Result, SeccompErrno, SeccompError};
use std::collections::HashMap;

/// Index of a decision in the [`Ir`].
pub(crate) type DnId = usize;

/// The comparison of a decision test on `(word & mask)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    Eq,
    Gt,
    Ge,
}

/// A decision: return a value, or test one word and continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Dn {
    Ret(u32),
    Test {
        off: u32,
        mask: u32,
        op: Op,
        k: u32,
        t: DnId,
        f: DnId,
    },
}

/// A hash-consed decision DAG.
#[derive(Debug, Default)]
pub(crate) struct Ir {
    pub nodes: Vec<Dn>,
    memo: HashMap<Dn, DnId>,
}

impl Ir {
    fn intern(&mut self, d: Dn) -> DnId {
        if let Some(&i) = self.memo.get(&d) {
            return i;
        }
        self.nodes.push(d);
        self.memo.insert(d, self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    pub(crate) fn ret(&mut self, k: u32) -> DnId {
        self.intern(Dn::Ret(k))
    }

    /// A test, simplified when both successors agree or the masked word is constant.
    pub(crate) fn test(&mut self, off: u32, mask: u32, op: Op, k: u32, t: DnId, f: DnId) -> DnId {
        if t == f {
            return t;
        }
        if mask == 0 {
            let holds = match op {
                Op::Eq => k == 0,
                Op::Gt => false,
                Op::Ge => k == 0,
            };
            return if holds { t } else { f };
        }
        self.intern(Dn::Test {
            off,
            mask,
            op,
            k: k & if op == Op::Eq { mask } else { u32::MAX },
            t,
            f,
        })
    }
}

/// How a section treats bit 30 of the syscall number (x86_64 and x32 share an audit token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum X32Mode {
    /// Not an x86_64/x32 section.
    None,
    /// x86_64 alone: numbers with bit 30 (but -1) go to the bad-arch action.
    X8664Only,
    /// x32 alone: numbers without bit 30 go to the bad-arch action.
    X32Only,
    /// Both in one section.
    Both,
}

/// One syscall of a section.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SysDecision {
    pub nr: u32,
    pub priority: u32,
    pub root: DnId,
}

/// One `seccomp_data.arch` value and its syscalls.
#[derive(Debug)]
pub(crate) struct Section {
    pub audit: u32,
    pub mode: X32Mode,
    pub syscalls: Vec<SysDecision>,
    pub default: DnId,
    /// Compat mode only: the section never loads the syscall number (libseccomp 2.5.4 bug).
    pub skip_nr_load: bool,
}

/// The whole filter as decisions.
#[derive(Debug)]
pub(crate) struct Plan {
    pub ir: Ir,
    pub sections: Vec<Section>,
    /// The bad-arch action's return value.
    pub badarch: u32,
    pub optimize: u32,
}

/// Converts a database level (and what follows it) into a decision.
fn conv_level(
    ir: &mut Ir,
    tree: &Tree,
    start: Id,
    cont: DnId,
    memo: &mut HashMap<(Id, DnId), DnId>,
) -> DnId {
    let start = tree.level_start(start);
    if let Some(&d) = memo.get(&(start, cont)) {
        return d;
    }
    let mut siblings = Vec::new();
    let mut c = Some(start);
    while let Some(i) = c {
        siblings.push(i);
        c = tree.nodes[i].lvl_nxt;
    }
    let mut next = cont;
    for &i in siblings.iter().rev() {
        let n = &tree.nodes[i];
        let t = match (n.nxt_t, n.act_t) {
            (Some(child), _) => conv_level(ir, tree, child, next, memo),
            (None, Some(a)) => ir.ret(a),
            (None, None) => next,
        };
        let f = match (n.nxt_f, n.act_f) {
            (Some(child), _) => conv_level(ir, tree, child, next, memo),
            (None, Some(a)) => ir.ret(a),
            (None, None) => next,
        };
        let op = match n.op {
            Cmp::Eq | Cmp::MaskedEq => Op::Eq,
            Cmp::Gt => Op::Gt,
            Cmp::Ge => Op::Ge,
        };
        next = ir.test(n.offset, n.mask, op, n.datum, t, f);
    }
    memo.insert((start, cont), next);
    next
}

fn entry_decision(ir: &mut Ir, e: &SysEntry, default: DnId) -> DnId {
    match e.chains {
        None => ir.ret(e.action),
        Some(c) => conv_level(ir, &e.tree, c, default, &mut HashMap::new()),
    }
}

/// Builds the decision plan of a collection.
pub(crate) fn plan(col: &Collection) -> Plan {
    let mut ir = Ir::default();
    let default = ir.ret(col.attrs.act_default);
    let has_64 = col.has_arch(ScmpArch::X8664);
    let has_x32 = col.has_arch(ScmpArch::X32);
    let mut sections = Vec::new();
    let mut x86_done = false;
    for f in &col.filters {
        let info = f.info();
        let (mode, members): (X32Mode, Vec<_>) = match f.arch {
            ScmpArch::X8664 | ScmpArch::X32 if has_64 && has_x32 => {
                if x86_done {
                    continue;
                }
                x86_done = true;
                (
                    X32Mode::Both,
                    col.filters
                        .iter()
                        .filter(|g| matches!(g.arch, ScmpArch::X8664 | ScmpArch::X32))
                        .collect(),
                )
            }
            ScmpArch::X8664 => (X32Mode::X8664Only, vec![f]),
            ScmpArch::X32 => (X32Mode::X32Only, vec![f]),
            _ => (X32Mode::None, vec![f]),
        };
        let mut syscalls = Vec::new();
        for g in &members {
            for e in g.syscalls.values() {
                if !e.valid || (e.num < 0 && !(e.num == -1 && col.attrs.tskip)) {
                    continue;
                }
                let root = entry_decision(&mut ir, e, default);
                syscalls.push(SysDecision {
                    nr: e.num as u32,
                    priority: e.priority,
                    root,
                });
            }
        }
        let skip_nr_load = col.section_skips_nr_load(&members);
        sections.push(Section {
            audit: info.audit,
            mode,
            syscalls,
            default,
            skip_nr_load,
        });
    }
    Plan {
        ir,
        sections,
        badarch: col.attrs.act_badarch,
        optimize: col.attrs.optimize,
    }
}

/// Where a jump goes: a placed instruction, or a `ret` to be placed (or reused) nearby.
#[derive(Debug, Clone, Copy)]
enum Target {
    At(usize),
    Ret(u32),
}

/// Builds a program from its end: `rev[0]` is the last instruction.
struct Builder<'a> {
    ir: &'a Ir,
    rev: Vec<Instruction>,
    /// Placed tests: (entry with the load, entry after the load for an accumulator that
    /// already holds the masked word).
    placed: HashMap<DnId, (usize, usize)>,
    rets: HashMap<u32, usize>,
    /// Tests that some predecessor reaches without their word in the accumulator.
    needs_load: std::collections::HashSet<DnId>,
}

/// The tests that need their own load: reached from syscall dispatch, or from a test of
/// another word. A test reached only from tests of the same word (the high-word `>` and `==`
/// pair, a chain of values of one argument) needs none.
fn tests_needing_load(plan: &Plan) -> std::collections::HashSet<DnId> {
    let ir = &plan.ir;
    let mut need = std::collections::HashSet::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<DnId> = Vec::new();
    for s in &plan.sections {
        for d in s.syscalls.iter().map(|x| x.root).chain([s.default]) {
            if matches!(ir.nodes[d], Dn::Test { .. }) {
                need.insert(d);
            }
            stack.push(d);
        }
    }
    while let Some(d) = stack.pop() {
        if !seen.insert(d) {
            continue;
        }
        if let Dn::Test {
            off, mask, t, f, ..
        } = ir.nodes[d]
        {
            for c in [t, f] {
                if let Dn::Test {
                    off: co, mask: cm, ..
                } = ir.nodes[c]
                {
                    if (co, cm) != (off, mask) {
                        need.insert(c);
                    }
                }
                stack.push(c);
            }
        }
    }
    need
}

const JMP_MAX: usize = 255;

impl<'a> Builder<'a> {
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
                Some(&q) if dist(self.rev.len(), q) <= JMP_MAX => q,
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

    fn decision(&mut self, d: DnId) -> Target {
        self.decision_from(d, None)
    }

    /// The entry of decision `d` for a predecessor whose accumulator holds `acc`
    /// (`(offset, mask)` of the word it loaded), skipping a redundant load.
    fn decision_from(&mut self, d: DnId, acc: Option<(u32, u32)>) -> Target {
        match self.ir.nodes[d] {
            Dn::Ret(k) => Target::Ret(k),
            Dn::Test {
                off,
                mask,
                op,
                k,
                t,
                f,
            } => {
                let (full, fast) = match self.placed.get(&d) {
                    Some(&p) => p,
                    None => {
                        let tt = self.decision_from(t, Some((off, mask)));
                        let ft = self.decision_from(f, Some((off, mask)));
                        let code = match op {
                            Op::Eq => bpf::BPF_JEQ,
                            Op::Gt => bpf::BPF_JGT,
                            Op::Ge => bpf::BPF_JGE,
                        };
                        let fast = self.jump(code, k, tt, ft);
                        if !self.needs_load.contains(&d) {
                            self.placed.insert(d, (fast, fast));
                            return Target::At(fast);
                        }
                        if mask != u32::MAX {
                            self.push(Instruction::stmt(
                                bpf::BPF_ALU | bpf::BPF_AND | bpf::BPF_K,
                                mask,
                            ));
                        }
                        let full = self.push(Instruction::stmt(
                            bpf::BPF_LD | bpf::BPF_W | bpf::BPF_ABS,
                            off,
                        ));
                        self.placed.insert(d, (full, fast));
                        (full, fast)
                    }
                };
                Target::At(if acc == Some((off, mask)) { fast } else { full })
            }
        }
    }

    /// A `jeq` chain over `list` (first element tested first), falling through to `default`.
    fn chain(&mut self, list: &[SysDecision], default: Target) -> Target {
        let mut next = default;
        for s in list.iter().rev() {
            let dt = self.decision(s.root);
            next = Target::At(self.jump(bpf::BPF_JEQ, s.nr, dt, next));
        }
        next
    }

    /// A binary search over `sorted` (ascending numbers) with `jeq` chains of at most four.
    fn bsearch(&mut self, sorted: &[SysDecision], default: Target) -> Target {
        if sorted.len() <= 4 {
            let desc: Vec<SysDecision> = sorted.iter().rev().copied().collect();
            return self.chain(&desc, default);
        }
        let mid = sorted.len() / 2;
        let upper = self.bsearch(&sorted[mid..], default);
        let lower = self.bsearch(&sorted[..mid], default);
        Target::At(self.jump(bpf::BPF_JGT, sorted[mid - 1].nr, upper, lower))
    }

    fn section(&mut self, s: &Section, optimize: u32, badarch: Target) -> Target {
        let default = self.decision(s.default);
        let dispatch = if optimize == 2 {
            let mut sorted = s.syscalls.clone();
            sorted.sort_by_key(|d| d.nr);
            self.bsearch(&sorted, default)
        } else {
            let mut ordered = s.syscalls.clone();
            // Higher priority first; ties in ascending number order (as libseccomp).
            ordered.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.nr.cmp(&b.nr)));
            self.chain(&ordered, default)
        };
        let body = match s.mode {
            X32Mode::None | X32Mode::Both => dispatch,
            X32Mode::X8664Only => {
                let minus1 = self.jump(bpf::BPF_JEQ, u32::MAX, dispatch, badarch);
                Target::At(self.jump(bpf::BPF_JGE, 0x4000_0000, Target::At(minus1), dispatch))
            }
            X32Mode::X32Only => Target::At(self.jump(bpf::BPF_JGE, 0x4000_0000, dispatch, badarch)),
        };
        // The body must start right after the `ld [0]`.
        match body {
            Target::At(p) if p + 1 == self.rev.len() => {}
            Target::At(p) => {
                let off = (self.rev.len() - p - 1) as u32;
                self.push(Instruction::stmt(bpf::BPF_JMP | bpf::BPF_JA, off));
            }
            Target::Ret(k) => {
                self.push(Instruction::stmt(bpf::BPF_RET | bpf::BPF_K, k));
            }
        }
        if s.skip_nr_load {
            return Target::At(self.rev.len() - 1);
        }
        Target::At(self.push(Instruction::stmt(
            bpf::BPF_LD | bpf::BPF_W | bpf::BPF_ABS,
            0,
        )))
    }
}

/// Lays out a plan as a BPF program (instruction values in host terms).
pub(crate) fn emit(plan: &Plan) -> Result<Vec<Instruction>> {
    let mut b = Builder {
        ir: &plan.ir,
        rev: Vec::new(),
        placed: HashMap::new(),
        rets: HashMap::new(),
        needs_load: tests_needing_load(plan),
    };
    let badarch = Target::Ret(plan.badarch);
    let mut next = badarch;
    for s in plan.sections.iter().rev() {
        let entry = b.section(s, plan.optimize, badarch);
        next = Target::At(b.jump(bpf::BPF_JEQ, s.audit, entry, next));
    }
    match next {
        Target::At(_) => {
            b.push(Instruction::stmt(
                bpf::BPF_LD | bpf::BPF_W | bpf::BPF_ABS,
                4,
            ));
        }
        Target::Ret(k) => {
            b.push(Instruction::stmt(bpf::BPF_RET | bpf::BPF_K, k));
        }
    }
    let mut prog = b.rev;
    prog.reverse();
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

/// Compiles a collection.
pub(crate) fn generate(col: &Collection) -> Result<Vec<Instruction>> {
    emit(&plan(col))
}
