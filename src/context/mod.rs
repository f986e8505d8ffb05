//! The filter context: libseccomp 0.4.0's `ScmpFilterContext`, built on the rule database.
//!
//! One concern a file: the type, its creation and architectures here; rules
//! ([`rules`](self::rules)), attributes ([`attrs`](self::attrs)), transactions
//! ([`transactions`](self::transactions)), and compiling, exporting and the precompute cache
//! ([`export`](self::export)). Loading is the kernel layer's (`crate::kernel`), user
//! notification `crate::notify`'s.

mod attrs;
mod export;
#[cfg(feature = "__internal-test")]
mod internal_test;
mod rules;
mod transactions;

use crate::action::{
    ScmpAction, MAX_ERRNO, RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS, RET_KILL_THREAD, RET_LOG,
    RET_NOTIFY, RET_TRACE, RET_TRAP,
};
use crate::api;
use crate::arch::ScmpArch;
use crate::bpf::Instruction;
use crate::db::Collection;
use crate::error::{Result, SeccompErrno, SeccompError};
use crate::opt::Passes;
use std::cell::RefCell;

/// A seccomp filter under construction: its architectures, rules and attributes.
///
/// This is libseccomp 0.4.0's type with the same methods and semantics, implemented in Rust:
/// no C library is involved. It is `Send` (build a filter, move it to another thread or
/// into a `pre_exec` closure, load it there) but not `Sync`.
///
/// ```
/// use pure_seccomp::*;
/// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
/// ctx.add_rule(ScmpAction::Errno(libc::EPERM), ScmpSyscall::from_name("ptrace")?)?;
/// ctx.add_rule_conditional(
///     ScmpAction::KillProcess,
///     ScmpSyscall::from_name("personality")?,
///     &[scmp_cmp!($arg0 != 0)],
/// )?;
/// assert!(!ctx.export_bpf_mem()?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ScmpFilterContext {
    col: Collection,
    /// User transactions (`start_transaction`): the state to return to on reject.
    snapshots: RefCell<Vec<Collection>>,
    /// The program cached by `precompute`, dropped by every change.
    cache: RefCell<Option<Vec<Instruction>>>,
    /// The optimizer passes in use.
    passes: Passes,
}

const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<ScmpFilterContext>();
};

fn einval<M: Into<std::borrow::Cow<'static, str>>>(msg: M) -> SeccompError {
    SeccompError::with_errno(SeccompErrno::EINVAL, msg)
}

/// libseccomp's `db_col_action_valid` without the collection-specific check.
fn action_valid(action: u32) -> Result<()> {
    // ERRNO and TRACE carry data; every other action must be exactly its value.
    let ok = match action {
        a if a & 0xffff_0000 == RET_ERRNO => a & 0xffff < MAX_ERRNO,
        a if a & 0xffff_0000 == RET_TRACE => true,
        RET_KILL_THREAD | RET_TRAP | RET_ALLOW => true,
        RET_LOG => api::action_supported(ScmpAction::Log),
        RET_KILL_PROCESS => api::action_supported(ScmpAction::KillProcess),
        RET_NOTIFY => api::action_supported(ScmpAction::Notify),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(einval(format!(
            "action {action:#010x} is not valid here (ERRNO values must be below {MAX_ERRNO}; LOG and KILL_PROCESS need API level 3, NOTIFY level 5, when a level is forced with set_api)"
        )))
    }
}

impl ScmpFilterContext {
    /// libseccomp's `_ctx_valid`: a filter with no architecture takes no call but adding an
    /// architecture, removing one, asking for one, and resetting (`EINVAL`: rules,
    /// priorities, attributes, export, load, merge, the notification fd).
    pub(crate) fn require_arch(&self) -> Result<()> {
        if self.col.filters.is_empty() {
            return Err(einval("the filter covers no architecture"));
        }
        Ok(())
    }

    /// Creates a filter whose default action is `default_action`, covering the native
    /// architecture.
    ///
    /// # Errors
    ///
    /// An invalid default action (e.g. `Errno(n)` with `n >= 4095`, or an action above the
    /// API level forced with [`set_api`](crate::set_api)). The running kernel's support is
    /// not checked here but by [`load`](Self::load): see [`get_api`](crate::get_api).
    ///
    /// ```
    /// use pure_seccomp::{ScmpAction, ScmpFilterContext};
    /// assert!(ScmpFilterContext::new(ScmpAction::Errno(1)).is_ok());
    /// assert!(ScmpFilterContext::new(ScmpAction::Errno(4095)).is_err());
    /// ```
    pub fn new(default_action: ScmpAction) -> Result<Self> {
        let act = default_action.to_sys();
        action_valid(act)
            .map_err(|e| SeccompError::with_msg(format!("Could not create new filter: {e}")))?;
        Ok(Self {
            col: Collection::new(act),
            snapshots: RefCell::new(Vec::new()),
            cache: RefCell::new(None),
            passes: Passes::default(),
        })
    }

    /// Deprecated alias of [`ScmpFilterContext::new`].
    ///
    /// ```
    /// # #![allow(deprecated)]
    /// use pure_seccomp::{ScmpAction, ScmpFilterContext};
    /// let _ctx = ScmpFilterContext::new_filter(ScmpAction::Allow).unwrap();
    /// ```
    #[deprecated(since = "0.4.0", note = "Use ScmpFilterContext::new instead.")]
    pub fn new_filter(default_action: ScmpAction) -> Result<Self> {
        Self::new(default_action)
    }

    fn changed(&mut self) {
        *self.cache.get_mut() = None;
    }

    /// Moves the architectures and rules of `src` into this filter (with their syscall
    /// priorities). This filter's attributes stay as they are; if `src` has a `Notify` rule,
    /// this filter loads with a listener as if it had added that rule itself (libseccomp does
    /// not: README, deliberate differences, 10).
    ///
    /// # Errors
    ///
    /// `EINVAL` when either filter has no architecture, or the default actions, `ctl_nnp` or
    /// `ctl_tsync` differ; `EDOM` when the byte orders differ; `EEXIST` when both cover an
    /// architecture. `src` is dropped either way.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// // An x86_64 filter and an x86 one (whatever the host) become one for both.
    /// let mut a = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// a.remove_arch(ScmpArch::native())?;
    /// a.add_arch(ScmpArch::X8664)?;
    /// let mut b = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// b.remove_arch(ScmpArch::native())?;
    /// b.add_arch(ScmpArch::X86)?;
    /// a.merge(b)?;
    /// assert!(a.is_arch_present(ScmpArch::X86)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn merge(&mut self, src: Self) -> Result<&mut Self> {
        if self.col.filters.is_empty() || src.col.filters.is_empty() {
            return Err(einval(
                "both filters need at least one architecture to merge",
            ));
        }
        let (a, b) = (&self.col.attrs, &src.col.attrs);
        if a.act_default != b.act_default || a.nnp != b.nnp || a.tsync != b.tsync {
            return Err(einval(
                "filters to merge must have the same default action, ctl_nnp and ctl_tsync",
            ));
        }
        if self.col.endian != src.col.endian {
            return Err(SeccompError::with_errno(
                SeccompErrno::EDOM,
                "filters to merge must have the same byte order",
            ));
        }
        if let Some(f) = src.col.filters.iter().find(|f| self.col.has_arch(f.arch)) {
            return Err(SeccompError::with_errno(
                SeccompErrno::EEXIST,
                format!("both filters cover {}", f.arch),
            ));
        }
        self.col.adopt(src.col);
        self.changed();
        Ok(self)
    }

    /// Whether the filter covers `arch`.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// assert!(ctx.is_arch_present(ScmpArch::native())?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_arch_present(&self, arch: ScmpArch) -> Result<bool> {
        let a = arch
            .resolve()
            .ok_or_else(|| einval("the native architecture is not supported"))?;
        Ok(self.col.has_arch(a))
    }

    /// Adds an architecture (nothing happens when it is already present). Rules added
    /// before are not copied to it, as in libseccomp.
    ///
    /// # Errors
    ///
    /// `EDOM` for an architecture of the other byte order.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// // An x86_64 filter with its x86 ABI, on any host (s390x, of the other byte order,
    /// // could not join it).
    /// ctx.remove_arch(ScmpArch::native())?;
    /// ctx.add_arch(ScmpArch::X8664)?;
    /// ctx.add_arch(ScmpArch::X86)?;
    /// assert!(ctx.is_arch_present(ScmpArch::X86)?);
    /// assert!(ctx.add_arch(ScmpArch::S390X).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_arch(&mut self, arch: ScmpArch) -> Result<&mut Self> {
        let a = arch
            .resolve()
            .ok_or_else(|| einval("the native architecture is not supported"))?;
        self.col.add_arch(a)?;
        self.changed();
        Ok(self)
    }

    /// Removes an architecture (nothing happens when it is absent).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.remove_arch(ScmpArch::native())?;
    /// assert!(!ctx.is_arch_present(ScmpArch::native())?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_arch(&mut self, arch: ScmpArch) -> Result<&mut Self> {
        let a = arch
            .resolve()
            .ok_or_else(|| einval("the native architecture is not supported"))?;
        self.col.remove_arch(a);
        self.changed();
        Ok(self)
    }

    /// Resets the filter to a new one with `action` as default (native architecture only,
    /// default attributes, no transactions).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.reset(ScmpAction::KillThread)?;
    /// assert_eq!(ctx.get_act_default()?, ScmpAction::KillThread);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reset(&mut self, action: ScmpAction) -> Result<()> {
        let act = action.to_sys();
        action_valid(act)?;
        // (A fresh collection; the test modes stay as they were.)
        self.col = self.col.renewed(act);
        self.snapshots.get_mut().clear();
        self.changed();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ScmpAction, ScmpArgCompare, ScmpCompareOp, ScmpSyscall};

    /// xorshift64*
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
        }

        fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
            xs[self.below(xs.len() as u64) as usize]
        }
    }

    /// A filter of random rules on a few syscalls, on one of several sets of architectures.
    fn random_filter(r: &mut Rng, rules: usize) -> ScmpFilterContext {
        let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(1)).unwrap();
        let arches: &[ScmpArch] = r.pick(&[
            &[ScmpArch::X8664, ScmpArch::X86, ScmpArch::X32][..],
            &[ScmpArch::Aarch64, ScmpArch::Arm][..],
            &[ScmpArch::S390X, ScmpArch::S390][..],
            &[ScmpArch::Riscv64][..],
        ]);
        ctx.remove_arch(ScmpArch::native()).unwrap();
        for &a in arches {
            ctx.add_arch(a).unwrap();
        }
        let names = [
            "ioctl", "fcntl", "socket", "read", "write", "mmap", "openat", "kill",
        ];
        for _ in 0..rules {
            let action = r.pick(&[
                ScmpAction::Allow,
                ScmpAction::Allow,
                ScmpAction::Errno(2),
                ScmpAction::Trap,
                ScmpAction::Log,
            ]);
            let n = r.below(4);
            let mut cmps = Vec::new();
            for _ in 0..n {
                let mask = r.pick(&[0xff, 0xf000, u64::MAX, 0xffff_0000_0000]);
                let op = r.pick(&[
                    ScmpCompareOp::Equal,
                    ScmpCompareOp::Equal,
                    ScmpCompareOp::NotEqual,
                    ScmpCompareOp::Less,
                    ScmpCompareOp::LessOrEqual,
                    ScmpCompareOp::Greater,
                    ScmpCompareOp::GreaterEqual,
                    ScmpCompareOp::MaskedEqual(mask),
                ]);
                let datum = match r.below(8) {
                    0 => 0x1_0000_0000 + r.below(4),
                    1 => u64::MAX - r.below(3),
                    _ => r.below(300),
                };
                cmps.push(ScmpArgCompare::new(r.below(3) as u32, op, datum));
            }
            let sys = ScmpSyscall::from_name(r.pick(&names)).unwrap();
            ctx.add_rule_conditional(action, sys, &cmps).ok();
        }
        ctx
    }

    /// A reset starts a fresh filter but keeps the test modes: a replay that turned on compat
    /// mode or the note of what libseccomp's prune walk keeps goes on with them after it.
    #[test]
    fn a_reset_keeps_the_test_modes() {
        for (compat, track) in [(false, true), (true, false), (true, true), (false, false)] {
            let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
            ctx.col.compat = compat;
            ctx.col.track_stops = track;
            ctx.reset(ScmpAction::KillThread).unwrap();
            assert_eq!((ctx.col.compat, ctx.col.track_stops), (compat, track));
            assert_eq!(ctx.get_act_default().unwrap(), ScmpAction::KillThread);
        }
    }

    /// `opt::arg_trees` says when pruning its result again cannot pay (no chain it rewrote has
    /// its word tested again on a path through it), and then `opt` does not prune again: so
    /// pruning again must then remove nothing.
    #[test]
    fn pruning_a_rewrite_said_to_leave_nothing_removes_nothing() {
        let mut r = Rng(0x0a26_7ee5);
        let (mut idle, mut rewritten) = (0, 0);
        for round in 0..500 {
            let mut ctx = random_filter(&mut r, 1 + round % 60);
            for level in [1, 2] {
                ctx.set_ctl_optimize(level).unwrap();
                let passes = Passes::all();
                let lowered = crate::ir::lower::lower(&ctx.col, passes);
                let lists = crate::opt::prune::run(&crate::opt::jset::run(lowered));
                let (p, leads_on) = crate::opt::arg_trees::run(&lists, None, passes).unwrap();
                if leads_on {
                    continue;
                }
                idle += 1;
                if p.size() != lists.size() {
                    rewritten += 1;
                }
                let again = crate::opt::prune::run(&p);
                assert_eq!(again.size(), p.size(), "round {round}, level {level}");
            }
        }
        eprintln!("{idle} idle rewrites, {rewritten} of them changed the graph");
        assert!(rewritten > 30);
    }

    /// `Program::min_len` lets `generate` skip emitting a form it proves too long, so it must
    /// never exceed what `emit` makes, whatever the filter and the passes.
    #[test]
    fn the_length_bound_is_never_over_the_emitted_length() {
        let mut r = Rng(0x5eed_1e57);
        let mut checked = 0;
        for round in 0..300 {
            let mut ctx = random_filter(&mut r, 1 + round % 60);
            for level in [1, 2] {
                ctx.set_ctl_optimize(level).unwrap();
                let all = Passes::all();
                let mut sets = vec![all];
                sets.extend(all.iter().map(|p| all - p));
                for passes in sets {
                    let mut optimized = crate::opt::optimize(
                        crate::ir::lower::lower(&ctx.col, passes),
                        passes,
                        ctx.col.endian.unwrap_or(crate::arch::Endian::Little),
                    );
                    let (trees, lists) = (optimized.trees.take(), optimized.lists.take());
                    let forms = [(trees, passes), (lists, passes - Passes::ARG_TREES)];
                    let programs = forms.into_iter().flat_map(|(p, passes)| {
                        p.into_iter()
                            .flat_map(|p| [optimized.sunk(&p), Some(p)])
                            .flatten()
                            .map(move |p| (p, passes))
                    });
                    for (p, passes) in programs {
                        let len = crate::emit::emit(&p, passes).len();
                        assert!(p.min_len() <= p.min_len_ceiling());
                        assert!(
                            p.min_len() <= len,
                            "round {round}, level {level}, {passes:?}: bound {} over {len}",
                            p.min_len()
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 1000);
    }

    /// The 53 syscalls that the weights tests allow unconditionally. (One string: rustfmt
    /// would give each name a line of its own.)
    const ALLOWED: &str = "chdir fchdir mkdirat unlinkat renameat linkat symlinkat readlinkat \
        fchmod fchmodat fchown fchownat umask getuid getgid geteuid getegid \
        setuid setgid getppid setsid setpgid getgroups setgroups getresuid \
        getresgid sethostname uname setrlimit getrusage sysinfo times \
        umount2 mount sync fsync fdatasync truncate ftruncate flock dup \
        dup3 pipe2 connect bind listen tkill tgkill exit exit_group capget \
        capset chroot";

    /// A level-2 filter for `arch` alone, default KILL_PROCESS, with [`ALLOWED`] given
    /// `others`.
    fn weights_filter(arch: ScmpArch, others: ScmpAction) -> ScmpFilterContext {
        let mut ctx = ScmpFilterContext::new(ScmpAction::KillProcess).unwrap();
        ctx.set_ctl_optimize(2).unwrap();
        ctx.remove_arch(ScmpArch::native()).unwrap();
        ctx.add_arch(arch).unwrap();
        for name in ALLOWED.split_whitespace() {
            ctx.add_rule(others, ScmpSyscall::from_name(name).unwrap())
                .unwrap();
        }
        ctx
    }

    /// The tests that `prog` runs for `name` on `arch` with `args[0] == arg0` before that
    /// syscall's own instructions (an argument load or a return).
    fn dispatch_tests(prog: &[Instruction], arch: ScmpArch, name: &str, arg0: u64) -> usize {
        use crate::bpf::{simulate_path, SeccompData, BPF_ABS, BPF_LD, BPF_RET, BPF_W};
        let info = arch.info().unwrap();
        let nr = ScmpSyscall::from_name_by_arch(name, arch).unwrap();
        let data = SeccompData {
            nr: nr.as_raw_syscall(),
            arch: info.audit,
            args: [arg0, 0, 0, 0, 0, 0],
            ..Default::default()
        };
        let (_, path) = simulate_path(prog, &data, info.endian).unwrap();
        let arg_load = |i: &Instruction| i.code == BPF_LD | BPF_W | BPF_ABS && i.k >= 16;
        (path.iter())
            .take_while(|&&i| !arg_load(&prog[i]) && prog[i].code != BPF_RET)
            .count()
    }

    /// Argument-checked syscalls are found with fewer tests than the same syscalls with an
    /// unconditional action among the same rules: where the kernel's action cache skips the
    /// filter for the calls it always allows (x86_64: `weights::UNCACHED_FACTOR`), on MIPS,
    /// whose kernels have no cache, and where no syscall is allowed unconditionally
    /// (`weights::CHECKED_FACTOR`).
    #[test]
    fn argument_checked_syscalls_are_shallower() {
        const CHECKED: &[&str] = &["personality", "socket", "kill", "prctl", "getcwd", "wait4"];
        let cases = [
            (ScmpArch::X8664, ScmpAction::Allow),
            (ScmpArch::Mips64, ScmpAction::Allow),
            (ScmpArch::X8664, ScmpAction::Errno(7)),
        ];
        for (arch, others) in cases {
            // Tests run before each CHECKED syscall's own, summed.
            let depth = |conditional: bool| {
                let mut ctx = weights_filter(arch, others);
                for name in CHECKED {
                    let s = ScmpSyscall::from_name(name).unwrap();
                    if conditional {
                        let eq = ScmpArgCompare::new(0, ScmpCompareOp::Equal, 8);
                        ctx.add_rule_conditional(ScmpAction::Allow, s, &[eq])
                            .unwrap();
                    } else {
                        // Not ALLOW, so that each is a range of its own either way.
                        ctx.add_rule(ScmpAction::Errno(5), s).unwrap();
                    }
                }
                let prog = ctx.generate().unwrap();
                (CHECKED.iter())
                    .map(|name| dispatch_tests(&prog, arch, name, 8))
                    .sum::<usize>()
            };
            let (checked, unconditional) = (depth(true), depth(false));
            assert!(
                checked < unconditional,
                "{arch}, {others:?}: {checked} against {unconditional}"
            );
        }
    }

    /// Of two argument-checked syscalls among the same rules, the one with more rules (a
    /// larger argument graph: `weights::graph_factor`) is found with fewer tests: summed over
    /// both ways round, so that where each number sits in the tree counts for both.
    #[test]
    fn syscalls_with_more_rules_are_shallower() {
        const PAIRS: &[(&str, &str)] = &[("personality", "prctl"), ("socket", "getcwd")];
        for arch in [ScmpArch::X8664, ScmpArch::Aarch64, ScmpArch::Mips64] {
            let (mut many_rules, mut one_rule) = (0, 0);
            for &(a, b) in PAIRS {
                for (many, one) in [(a, b), (b, a)] {
                    let mut ctx = weights_filter(arch, ScmpAction::Allow);
                    for (name, values) in [(many, 1..=8u64), (one, 1..=1)] {
                        let s = ScmpSyscall::from_name(name).unwrap();
                        for v in values {
                            let eq = ScmpArgCompare::new(0, ScmpCompareOp::Equal, v);
                            ctx.add_rule_conditional(ScmpAction::Allow, s, &[eq])
                                .unwrap();
                        }
                    }
                    let prog = ctx.generate().unwrap();
                    many_rules += dispatch_tests(&prog, arch, many, 1);
                    one_rule += dispatch_tests(&prog, arch, one, 1);
                }
            }
            assert!(
                many_rules < one_rule,
                "{arch}: {many_rules} against {one_rule}"
            );
        }
    }

    /// Level 1 keeps libseccomp's priority order with [`Passes::RANGES`]: a syscall given a
    /// higher priority is found with fewer tests than one given a lower, and both before the
    /// syscalls left at the default, which one search tree finds where libseccomp's chain
    /// tests them one by one (the chain is what level 1 builds without the pass).
    #[test]
    fn level_one_keeps_the_priority_order_with_a_tree_for_each_priority() {
        for arch in [
            ScmpArch::X8664,
            ScmpArch::Aarch64,
            ScmpArch::S390X,
            ScmpArch::Mips64,
        ] {
            let build = |passes: Passes| {
                let mut ctx = weights_filter(arch, ScmpAction::Allow);
                ctx.set_ctl_optimize(1).unwrap();
                ctx.set_opt_passes(passes);
                for (name, pri) in [("uname", 200), ("sync", 100)] {
                    let s = ScmpSyscall::from_name(name).unwrap();
                    ctx.set_syscall_priority(s, pri).unwrap();
                }
                ctx.generate().unwrap()
            };
            let tree = build(Passes::all());
            let (first, second) = (
                dispatch_tests(&tree, arch, "uname", 0),
                dispatch_tests(&tree, arch, "sync", 0),
            );
            let others: Vec<usize> = (ALLOWED.split_whitespace())
                .filter(|n| !["uname", "sync"].contains(n))
                .map(|n| dispatch_tests(&tree, arch, n, 0))
                .collect();
            let (least, most) = (others.iter().min().unwrap(), others.iter().max().unwrap());
            assert!(
                first < second && second < *least,
                "{arch}: {first}, {second}, then {least} to {most}"
            );
            // The architecture's load and test, the number's load, the two prioritised
            // syscalls' tests, and a tree over (at most) 51 ranges.
            assert!(*most <= 3 + 2 + 8, "{arch}: {most}");
            let chain = build(Passes::all() - Passes::RANGES);
            let longest = (ALLOWED.split_whitespace())
                .map(|n| dispatch_tests(&chain, arch, n, 0))
                .max()
                .unwrap();
            assert!(
                longest >= 3 + ALLOWED.split_whitespace().count() - 1,
                "{arch}: {longest}"
            );
        }
    }

    /// Level 1's largest group's tree decides the numbers without a rule that lie between
    /// its own syscalls: a denied call runs the trees up to that one, not the later groups'
    /// trees after it (here three argument-checked syscalls, each a group of its own, of
    /// fewer rules first), so no more tests than the largest group's calls. With a priority
    /// on one of its syscalls, it is the second group; the first tells that syscall from
    /// every other number, all of which go on. (Numbers next to a later group's share its
    /// range, which leads on.)
    #[test]
    fn level_one_denies_in_its_largest_groups_tree() {
        use crate::bpf::{simulate_path, SeccompData};
        const CHECKED: &[(&str, u64)] = &[("personality", 1), ("prctl", 2), ("socket", 3)];
        // (Not s390x, whose socket calls have rules on `socketcall` too.)
        let arches = [ScmpArch::X8664, ScmpArch::Aarch64, ScmpArch::Mips64];
        for (arch, priority) in arches.into_iter().flat_map(|a| [(a, false), (a, true)]) {
            let mut ctx = weights_filter(arch, ScmpAction::Allow);
            ctx.set_ctl_optimize(1).unwrap();
            if priority {
                let uname = ScmpSyscall::from_name("uname").unwrap();
                ctx.set_syscall_priority(uname, 200).unwrap();
            }
            // Every number with a rule, and whether it is in a later group.
            let mut ruled = Vec::new();
            for name in ALLOWED.split_whitespace() {
                let s = ScmpSyscall::from_name_by_arch(name, arch).unwrap();
                ruled.push((s.as_raw_syscall(), false));
            }
            for &(name, rules) in CHECKED {
                let s = ScmpSyscall::from_name(name).unwrap();
                for v in 0..rules {
                    let eq = ScmpArgCompare::new(0, ScmpCompareOp::Equal, v);
                    ctx.add_rule_conditional(ScmpAction::Allow, s, &[eq])
                        .unwrap();
                }
                let s = ScmpSyscall::from_name_by_arch(name, arch).unwrap();
                ruled.push((s.as_raw_syscall(), true));
            }
            ruled.sort_unstable();
            let prog = ctx.generate().unwrap();
            let info = arch.info().unwrap();
            let steps = |nr: i32| {
                let data = SeccompData {
                    nr,
                    arch: info.audit,
                    ..Default::default()
                };
                simulate_path(&prog, &data, info.endian).unwrap().1.len()
            };
            let allowed = (ALLOWED.split_whitespace())
                .map(|n| {
                    steps(
                        ScmpSyscall::from_name_by_arch(n, arch)
                            .unwrap()
                            .as_raw_syscall(),
                    )
                })
                .max()
                .unwrap();
            // The numbers without a rule whose nearest ruled numbers are the first group's.
            let between_first = |&nr: &i32| {
                let at = ruled.partition_point(|&(n, _)| n < nr);
                let below = at.checked_sub(1).map(|k| ruled[k]);
                ruled.get(at).map_or(true, |&(n, later)| n != nr && !later)
                    && below.map_or(true, |(_, later)| !later)
            };
            let gaps: Vec<i32> = (0..600).filter(between_first).collect();
            assert!(gaps.len() > 100, "{arch}: {}", gaps.len());
            let denied = gaps.into_iter().map(steps).max().unwrap();
            // (With the later groups' numbers told from the others, the tree may be a test
            // deeper than over its own syscalls.)
            assert!(
                denied <= allowed + 1,
                "{arch}, priority {priority}: {denied} against {allowed}"
            );
        }
    }

    /// At level 1, a number of the other ABI in an x86_64-only section (a raw x32 number's
    /// rule) gets the bad-arch action, even in a later group's tree and where the default
    /// action is the same: the first tree never lets it on (found by the conformance test:
    /// the two actions' ranges had merged, and the rule decided).
    #[test]
    #[cfg_attr(
        not(all(target_arch = "x86_64", target_pointer_width = "64")),
        ignore = "a rule's number is the native architecture's: 0x40000001 (x32's write) is one only on x86_64"
    )]
    fn level_one_never_lets_the_other_abi_on() {
        use crate::bpf::{simulate, SeccompData};
        let mut ctx = ScmpFilterContext::new(ScmpAction::KillThread).unwrap();
        ctx.remove_arch(ScmpArch::native()).unwrap();
        ctx.add_arch(ScmpArch::X8664).unwrap();
        let msgsnd = ScmpSyscall::from_name("msgsnd").unwrap();
        ctx.set_syscall_priority(msgsnd, 155).unwrap();
        ctx.add_rule(ScmpAction::Allow, msgsnd).unwrap();
        ctx.add_rule(ScmpAction::Log, ScmpSyscall::from(0x4000_0001))
            .unwrap();
        let prog = ctx.generate().unwrap();
        let info = ScmpArch::X8664.info().unwrap();
        for nr in [0x4000_0001, 1, 0x4000_0000 + 69] {
            let data = SeccompData {
                nr,
                arch: info.audit,
                ..Default::default()
            };
            let ret = simulate(&prog, &data, info.endian).unwrap().ret;
            assert_eq!(ret, ctx.evaluate(&data), "{nr:#x}");
            assert_eq!(ret, ScmpAction::KillThread.to_sys(), "{nr:#x}");
        }
    }

    /// A program that high words tested last make longer than the limit is compiled again
    /// without them, where that is shorter (the kernel's limit is too far to reach with a
    /// small filter: a small one stands in for it).
    #[test]
    fn a_program_sink_makes_too_long_is_compiled_without_it() {
        let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(1)).unwrap();
        ctx.remove_arch(ScmpArch::native()).unwrap();
        for a in [ScmpArch::X8664, ScmpArch::X86] {
            ctx.add_arch(a).unwrap();
        }
        // x86's low-word test is shared: x86_64's high word fails to ALLOW, so it is copied.
        let ne = ScmpArgCompare::new(0, ScmpCompareOp::NotEqual, 40);
        let connect = ScmpSyscall::from_name("connect").unwrap();
        ctx.add_rule_conditional(ScmpAction::Allow, connect, &[ne])
            .unwrap();
        let with = ctx.generate_within(crate::bpf::BPF_MAXINSNS).unwrap().len();
        ctx.set_opt_passes(Passes::all() - Passes::SINK);
        let without = ctx.generate().unwrap().len();
        assert!(with > without, "{with} with the pass, {without} without");
        ctx.set_opt_passes(Passes::all());
        assert_eq!(ctx.generate_within(with - 1).unwrap().len(), without);
        assert_eq!(ctx.generate_within(with).unwrap().len(), with);
    }

    /// Rules of three actions on socketcall's arguments (a filter `bench-c`'s recorder made,
    /// seed 130, filter 1347): the ALLOW and LOG rules follow the KILL_PROCESS rule on every
    /// path that leaves it, and the paths know different things of `arg5`. Dropping the
    /// tests each path decides by a copy of the rest for each made the program 51
    /// instructions long, libseccomp's 36 and ours without the pass 39; the rest is now
    /// rebuilt once.
    #[test]
    fn dropping_decided_tests_does_not_copy_what_paths_share() {
        let mut ctx = ScmpFilterContext::new(ScmpAction::KillThread).unwrap();
        ctx.remove_arch(ScmpArch::native()).unwrap();
        ctx.add_arch(ScmpArch::Ppc64Le).unwrap();
        ctx.set_ctl_optimize(2).unwrap();
        let sc = ScmpSyscall::from_name("socketcall").unwrap();
        let cmp = ScmpArgCompare::new;
        let rules = [
            (
                ScmpAction::KillProcess,
                vec![
                    cmp(4, ScmpCompareOp::Equal, 0x7fff_ffff),
                    cmp(5, ScmpCompareOp::LessOrEqual, 0),
                    cmp(3, ScmpCompareOp::LessOrEqual, 0x8000_0000),
                ],
            ),
            (
                ScmpAction::Log,
                vec![
                    cmp(1, ScmpCompareOp::Equal, 0xffff_ffff_0000_0064),
                    cmp(5, ScmpCompareOp::GreaterEqual, 0x7fff_ffff),
                ],
            ),
            (
                ScmpAction::Allow,
                vec![cmp(2, ScmpCompareOp::Greater, 0x7fff_ffff_0000_0001)],
            ),
        ];
        for (action, cmps) in rules {
            ctx.add_rule_conditional(action, sc, &cmps).unwrap();
        }
        let with = ctx.generate().unwrap().len();
        ctx.set_opt_passes(Passes::all() - Passes::PRUNE);
        let without = ctx.generate().unwrap().len();
        assert!(
            with <= without && with <= 36,
            "{with} with the pass, {without} without"
        );
    }

    /// Level 1's trees, where they make a program longer than the limit, give way to
    /// libseccomp's chain where that is shorter (the kernel's limit is too far to reach with
    /// a small filter: a small one stands in for it, whose few syscalls and x32 check take a
    /// test or two more as a tree than as the chain).
    #[test]
    fn level_one_trees_too_long_give_way_to_the_chain() {
        let mut ctx = ScmpFilterContext::new(ScmpAction::KillProcess).unwrap();
        ctx.remove_arch(ScmpArch::native()).unwrap();
        ctx.add_arch(ScmpArch::X8664).unwrap();
        for (name, action) in [
            ("connect", ScmpAction::Allow),
            ("bind", ScmpAction::Allow),
            ("open", ScmpAction::Errno(2)),
            ("openat", ScmpAction::Errno(2)),
        ] {
            ctx.add_rule(action, ScmpSyscall::from_name(name).unwrap())
                .unwrap();
        }
        let prctl = ScmpSyscall::from_name("prctl").unwrap();
        for option in [15, 1] {
            let eq = ScmpArgCompare::new(0, ScmpCompareOp::Equal, option);
            ctx.add_rule_conditional(ScmpAction::Allow, prctl, &[eq])
                .unwrap();
        }
        let trees = ctx.generate_within(crate::bpf::BPF_MAXINSNS).unwrap();
        ctx.set_opt_passes(Passes::all() - Passes::RANGES);
        let chain = ctx.generate().unwrap();
        assert!(
            trees.len() > chain.len(),
            "{} against {}",
            trees.len(),
            chain.len()
        );
        ctx.set_opt_passes(Passes::all());
        assert_eq!(ctx.generate_within(trees.len() - 1).unwrap(), chain);
        assert_eq!(ctx.generate_within(trees.len()).unwrap(), trees);
    }
}
