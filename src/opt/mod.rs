//! The optimizer: named passes over the decision IR and the emitted bytecode.
//!
//! Each pass is a function of its own, in a file of its own, that keeps every verdict of the
//! filter: it only changes how the program reaches them. [`Passes`] switches each one on or
//! off (all are on by default), so that tests can show a pass is not needed for correctness
//! and benchmarks can show what it buys.
//!
//! The order (level 1 keeps libseccomp's priority order: [`Passes::RANGES`] and
//! [`Passes::WEIGHTS`] shape a tree for each group of syscalls of equal priority, the groups
//! tried in priority order, where level 2 has one tree; the other passes are the same):
//!
//! 1. lowering (`crate::ir::lower`) builds dispatch on the architecture and the syscall
//!    number into the graph: with [`Passes::RANGES`], adjacent numbers with one decision are
//!    merged into ranges and found by a search tree (`opt/intervals.rs`) that the x32 check and the
//!    bad-arch path join; with [`Passes::WEIGHTS`], hot syscalls, prioritised ones and argument-checked
//!    ones (whose calls run their checks, and which the kernel's action cache cannot skip) get shallower paths (`opt/weights.rs`);
//!    with [`Passes::BROAD_FIRST`], a syscall whose rules have one action tries each word's
//!    masks and ranges before its values where that makes its decision shorter
//!    (`opt/broad_first.rs`);
//! 2. `jset`: masked comparisons that a `jset` decides lose their `and`;
//! 3. `prune` and `arg_trees` (again while a rewrite leaves something to prune): tests that the path already
//!    decides go, and a chain of comparisons of one argument word becomes a search tree;
//! 4. `sink`: a 64-bit comparison tests the high word after the low word, where the calls
//!    that the low word decides gain;
//! 5. emission (`crate::emit`), with [`Passes::LOADS`] (no reload of the word the accumulator
//!    holds) and [`Passes::SHARED_RETS`] (one `ret`, or far-jump `ja`, serves every jump in
//!    reach);
//! 6. [`Passes::CLEANUP`] on the bytecode: jumps threaded through `ja`, dead code removed.

pub(crate) mod arg_trees;
pub(crate) mod broad_first;
pub(crate) mod cleanup;
pub(crate) mod intervals;
pub(crate) mod jset;
pub(crate) mod prune;
pub(crate) mod sink;
pub(crate) mod submasks;
pub(crate) mod weights;

use crate::arch::Endian;
use crate::ir::Program;

bitflags::bitflags! {
    /// The optimizer's passes, each of which can be switched off with
    /// [`ScmpFilterContext::set_opt_passes`](crate::ScmpFilterContext::set_opt_passes).
    ///
    /// Switching a pass off never changes what the filter returns, only its size and speed.
    ///
    /// ```
    /// use pure_seccomp::{opt::Passes, *};
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(1))?;
    /// ctx.set_ctl_optimize(2)?;
    /// for name in ["read", "write", "close", "openat"] {
    ///     ctx.add_rule(ScmpAction::Allow, ScmpSyscall::from_name(name)?)?;
    /// }
    /// let all = ctx.export_bpf_mem()?.len();
    /// ctx.set_opt_passes(Passes::empty());
    /// let none = ctx.export_bpf_mem()?.len();
    /// assert!(all <= none);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Passes: u32 {
        /// Dispatch on syscall-number ranges with a search tree that includes the x32 check;
        /// at level 1 one tree for each group of syscalls of equal priority, the groups tried
        /// in priority order (off: libseccomp's dispatch, at level 2 a binary search over
        /// single numbers ending in `jeq` chains of up to four, at level 1 a `jeq` chain in
        /// priority order, and a separate x32 check).
        const RANGES = 1 << 0;
        /// Weight the dispatch trees by a built-in table of hot syscalls, by
        /// `set_syscall_priority`, by argument checks and by whether the kernel's action
        /// cache can skip the filter for a syscall (off: balance it by count).
        const WEIGHTS = 1 << 1;
        /// Masked equality tests decided by one `jset` (`(a & m) == 0`, one-bit masks).
        const JSET = 1 << 2;
        /// Chains of comparisons of one argument word become search trees over its values.
        const ARG_TREES = 1 << 3;
        /// Tests whose outcome the path to them already decides are dropped (a node that
        /// paths reach knowing different things is copied for each, unless one copy with
        /// what all of them know makes the program smaller).
        const PRUNE = 1 << 4;
        /// No load of a word the accumulator already holds (with more bits than a test's
        /// mask keeps: the test's `and` alone).
        const LOADS = 1 << 5;
        /// One `ret` instruction serves every jump that can reach it, and one `ja` every
        /// jump too far from its target that can reach the `ja`.
        const SHARED_RETS = 1 << 6;
        /// Bytecode clean-ups after layout: jumps threaded through `ja`, dead code removed.
        const CLEANUP = 1 << 7;
        /// With [`Passes::ARG_TREES`]: the values of a chain that are every submask of one
        /// mask (Docker's `personality` values 0, 8, 0x20000, 0x20008) are decided by one
        /// `jset` in front of the search tree.
        const SUBMASKS = 1 << 8;
        /// A 64-bit comparison tests the high word after the low word, where calls whose low
        /// word decides then skip it (`socket(domain != AF_VSOCK)`: one test for most domains).
        const SINK = 1 << 9;
        /// In a syscall whose rules all have one action, each level of its argument tree
        /// tries a word's masked and range comparisons before its single values, where
        /// [`Passes::PRUNE`] then drops values they already take and the syscall's decision
        /// is shorter (crosvm's `ioctl` values beside `arg1 & 0x6400`).
        const BROAD_FIRST = 1 << 10;
    }
}

impl Default for Passes {
    fn default() -> Self {
        Passes::all()
    }
}

/// The IR passes that `passes` enables, run until they find nothing more to do: a program
/// with argument trees where [`Passes::ARG_TREES`] is on, and the same program before them
/// (comparisons left as `jeq` lists), which is shorter where trees are long.
pub(crate) struct Optimized {
    /// Every enabled pass but [`Passes::SINK`]; `None` when the trees alone make the program
    /// longer than the kernel takes (more tests than [`crate::bpf::BPF_MAXINSNS`]), so the
    /// lists it is.
    pub trees: Option<Program>,
    /// Every enabled pass but [`Passes::ARG_TREES`] and [`Passes::SINK`] (`None` when trees
    /// are off: `trees` is that program).
    pub lists: Option<Program>,
    /// The byte order, where [`Passes::SINK`] is on.
    sink: Option<Endian>,
}

impl Optimized {
    /// `p` (`trees` or `lists`) after [`Passes::SINK`]: `None` where the pass is off or moves
    /// nothing. Left to the caller: a program too long for the kernel need not be sunk, and
    /// one the pass makes too long is emitted as it was.
    pub(crate) fn sunk(&self, p: &Program) -> Option<Program> {
        self.sink.and_then(|endian| sink::run(p, endian))
    }
}

/// Runs the IR passes that `passes` enables until they find nothing more to do, but for
/// [`Passes::SINK`] ([`Optimized::sunk`]); see [`Optimized`]. `endian` is the filter's byte
/// order (which word of an argument is high).
pub(crate) fn optimize(p: Program, passes: Passes, endian: Endian) -> Optimized {
    let (trees, lists) = optimize_words(p, passes);
    Optimized {
        trees,
        lists,
        sink: passes.contains(Passes::SINK).then_some(endian),
    }
}

/// [`optimize`]: (trees, lists).
fn optimize_words(mut p: Program, passes: Passes) -> (Option<Program>, Option<Program>) {
    if passes.contains(Passes::JSET) {
        p = jset::run(p);
    }
    if passes.contains(Passes::PRUNE) {
        p = prune::run(&p);
    }
    if !passes.contains(Passes::ARG_TREES) {
        return (Some(p), None);
    }
    let lists = p;
    (with_trees(&lists, passes), Some(lists))
}

/// [`arg_trees`] on `lists`, and [`prune`] again where a rewritten chain leads to more tests
/// that the new tree's bounds may decide (its word tested again on a path through it: the
/// high word of 64-bit values, compared once per value); when that removed something, chains are looked for once more (only then: a
/// tree's own `jeq` lists read as chains, and rebuilding them changes nothing). `None` when
/// the trees alone are too long for the kernel.
fn with_trees(lists: &Program, passes: Passes) -> Option<Program> {
    let max = Some(crate::bpf::BPF_MAXINSNS);
    let (mut p, mut leads_on) = arg_trees::run(lists, max, passes)?;
    for round in 0..2 {
        if !leads_on || !passes.contains(Passes::PRUNE) {
            break;
        }
        let before = p.size();
        p = prune::run(&p);
        if p.size() >= before || round == 1 {
            break;
        }
        (p, leads_on) = arg_trees::run(&p, max, passes)?;
    }
    Some(p)
}
