//! The structured input of the `filters` target: a default action and a sequence of calls
//! on a [`ScmpFilterContext`], derived from the fuzzer's bytes with `arbitrary`.

use crate::checks::{EDGE, NAMES};
use arbitrary::Arbitrary;
use pure_seccomp::opt::Passes;
use pure_seccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterAttr, ScmpFilterContext,
    ScmpSyscall,
};

/// An action; errno and trace data are kept small but may be out of range.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Act {
    /// `Allow`.
    Allow,
    /// `Errno(n % 4200)`: values of 4095 and up are invalid.
    Errno(u16),
    /// `KillThread`.
    KillThread,
    /// `KillProcess`.
    KillProcess,
    /// `Trap`.
    Trap,
    /// `Log`.
    Log,
    /// `Trace(n)`.
    Trace(u16),
    /// `Notify`.
    Notify,
}

impl Act {
    fn get(self) -> ScmpAction {
        match self {
            Act::Allow => ScmpAction::Allow,
            Act::Errno(e) => ScmpAction::Errno(i32::from(e % 4200)),
            Act::KillThread => ScmpAction::KillThread,
            Act::KillProcess => ScmpAction::KillProcess,
            Act::Trap => ScmpAction::Trap,
            Act::Log => ScmpAction::Log,
            Act::Trace(t) => ScmpAction::Trace(t),
            Act::Notify => ScmpAction::Notify,
        }
    }
}

/// A syscall: by name (resolved on the native architecture, or on a given one), or a raw
/// number (reserved, pseudo, huge and negative ones included).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Sys {
    /// A name of [`NAMES`], resolved on the native architecture.
    Name(u8),
    /// A name of [`NAMES`], resolved on an architecture (a pseudo number where it lacks it).
    NameByArch(u8, u8),
    /// Any number.
    Raw(i32),
    /// A number from -5 to 594.
    Small(u16),
}

impl Sys {
    fn get(self) -> Option<ScmpSyscall> {
        match self {
            Sys::Name(i) => ScmpSyscall::from_name(NAMES[usize::from(i) % NAMES.len()]).ok(),
            Sys::NameByArch(i, a) => {
                ScmpSyscall::from_name_by_arch(NAMES[usize::from(i) % NAMES.len()], arch(a)).ok()
            }
            Sys::Raw(n) => Some(ScmpSyscall::from(n)),
            Sys::Small(n) => Some(ScmpSyscall::from(i32::from(n % 600) - 5)),
        }
    }
}

/// A datum: an edge value, a small number, or anything.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Datum {
    /// A value of [`EDGE`].
    Edge(u8),
    /// 0 to 15.
    Small(u8),
    /// Any value.
    Any(u64),
}

impl Datum {
    fn get(self) -> u64 {
        match self {
            Datum::Edge(i) => EDGE[usize::from(i) % EDGE.len()],
            Datum::Small(v) => u64::from(v % 16),
            Datum::Any(v) => v,
        }
    }
}

/// One argument comparison; the index may be 6 (invalid).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Cmp {
    /// The argument index, modulo 7 (6 is invalid).
    pub arg: u8,
    /// The operator, modulo 7.
    pub op: u8,
    /// The datum.
    pub datum: Datum,
    /// The mask of a masked comparison.
    pub mask: Datum,
}

impl Cmp {
    fn get(self) -> ScmpArgCompare {
        let op = match self.op % 7 {
            0 => ScmpCompareOp::Equal,
            1 => ScmpCompareOp::NotEqual,
            2 => ScmpCompareOp::Less,
            3 => ScmpCompareOp::LessOrEqual,
            4 => ScmpCompareOp::Greater,
            5 => ScmpCompareOp::GreaterEqual,
            _ => ScmpCompareOp::MaskedEqual(self.mask.get()),
        };
        ScmpArgCompare::new(u32::from(self.arg % 7), op, self.datum.get())
    }
}

/// One call on the filter context.
#[derive(Arbitrary, Debug, Clone)]
pub enum Op {
    /// `add_arch`.
    AddArch(u8),
    /// `remove_arch`.
    RemoveArch(u8),
    /// `add_rule*`: conditional when `cmps` is not empty, exact when `exact`.
    Rule {
        /// The action.
        act: Act,
        /// The syscall.
        sys: Sys,
        /// Up to 7 comparisons.
        cmps: Vec<Cmp>,
        /// `add_rule_exact` / `add_rule_conditional_exact`.
        exact: bool,
    },
    /// Many values on one argument of one syscall (the shape the argument-tree pass
    /// rewrites): `count` rules `arg == base + step * i`.
    ValueList {
        /// The action of every rule.
        act: Act,
        /// The syscall.
        sys: Sys,
        /// The argument (modulo 6).
        arg: u8,
        /// The first value.
        base: Datum,
        /// The distance between values.
        step: u8,
        /// How many values (modulo 64).
        count: u8,
    },
    /// `set_syscall_priority`.
    Priority(Sys, u8),
    /// `set_filter_attr` on any attribute with any value.
    Attr(u8, u32),
    /// `set_act_badarch`.
    BadArch(Act),
    /// `set_api_tskip`.
    Tskip(bool),
    /// `set_ctl_optimize(2)` when true, else 1.
    Optimize(bool),
    /// `start_transaction`.
    StartTransaction,
    /// `reject_transaction`.
    RejectTransaction,
    /// `commit_transaction`.
    CommitTransaction,
    /// `merge` of a filter with this filter's default action (or `act`), the native
    /// architecture kept or not, `arches` added and `rules` (the first 8) added.
    Merge {
        /// The source's default action where `Some` (refused where it differs).
        act: Option<Act>,
        /// Keep the source's native architecture.
        keep_native: bool,
        /// Architectures added to the source (the first 4).
        arches: Vec<u8>,
        /// The source's rules.
        rules: Vec<(Act, Sys, Vec<Cmp>)>,
    },
}

/// A whole case: the filter's default action, its calls, the optimizer passes, and extra
/// syscall numbers to query.
#[derive(Arbitrary, Debug, Clone)]
pub struct Case {
    /// The default action.
    pub default: Act,
    /// Keep the native architecture (else it is removed first).
    pub keep_native: bool,
    /// The calls (the first 48).
    pub ops: Vec<Op>,
    /// The optimizer passes (`Passes` bits).
    pub passes: u16,
    /// More syscall numbers to query (the first 8).
    pub extra_nrs: Vec<i32>,
}

fn arch(i: u8) -> ScmpArch {
    let all: Vec<ScmpArch> = ScmpArch::all().collect();
    all[usize::from(i) % all.len()]
}

const ATTRS: &[ScmpFilterAttr] = &[
    ScmpFilterAttr::ActDefault,
    ScmpFilterAttr::ActBadArch,
    ScmpFilterAttr::CtlNnp,
    ScmpFilterAttr::CtlTsync,
    ScmpFilterAttr::ApiTskip,
    ScmpFilterAttr::CtlLog,
    ScmpFilterAttr::CtlSsb,
    ScmpFilterAttr::CtlOptimize,
    ScmpFilterAttr::ApiSysRawRc,
    ScmpFilterAttr::CtlWaitkill,
];

impl Case {
    /// Makes the calls (their errors are part of the test: the context must stay usable),
    /// and returns the context, the passes, the data used in comparisons and the numbers to
    /// query. `None` when the default action is refused.
    pub fn build(&self) -> Option<(ScmpFilterContext, Passes, Vec<u64>, Vec<i32>)> {
        let mut ctx = ScmpFilterContext::new(self.default.get()).ok()?;
        if !self.keep_native {
            ctx.remove_arch(ScmpArch::native()).ok()?;
        }
        let mut values = Vec::new();
        let mut nrs: Vec<i32> = self.extra_nrs.iter().take(8).copied().collect();
        for op in self.ops.iter().take(48) {
            match op {
                Op::AddArch(a) => {
                    let _ = ctx.add_arch(arch(*a));
                }
                Op::RemoveArch(a) => {
                    let _ = ctx.remove_arch(arch(*a));
                }
                Op::Rule {
                    act,
                    sys,
                    cmps,
                    exact,
                } => {
                    let Some(s) = sys.get() else { continue };
                    nrs.push(s.as_raw_syscall());
                    let cmps: Vec<ScmpArgCompare> = cmps.iter().take(7).map(|c| c.get()).collect();
                    for c in &cmps {
                        values.extend([c.datum(), c.datum_a(), c.datum_b()]);
                    }
                    let _ = match (exact, cmps.is_empty()) {
                        (false, true) => ctx.add_rule(act.get(), s),
                        (false, false) => ctx.add_rule_conditional(act.get(), s, &cmps),
                        (true, true) => ctx.add_rule_exact(act.get(), s),
                        (true, false) => ctx.add_rule_conditional_exact(act.get(), s, &cmps),
                    };
                }
                Op::ValueList {
                    act,
                    sys,
                    arg,
                    base,
                    step,
                    count,
                } => {
                    let Some(s) = sys.get() else { continue };
                    let base = base.get();
                    values.push(base);
                    for i in 0..u64::from(*count % 64) {
                        let v = base.wrapping_add(u64::from(*step).wrapping_mul(i));
                        let c = ScmpArgCompare::new(u32::from(arg % 6), ScmpCompareOp::Equal, v);
                        let _ = ctx.add_rule_conditional(act.get(), s, &[c]);
                    }
                }
                Op::Priority(s, p) => {
                    if let Some(s) = s.get() {
                        let _ = ctx.set_syscall_priority(s, *p);
                    }
                }
                Op::Attr(a, v) => {
                    let _ = ctx.set_filter_attr(ATTRS[usize::from(*a) % ATTRS.len()], *v);
                }
                Op::BadArch(a) => {
                    let _ = ctx.set_act_badarch(a.get());
                }
                Op::Tskip(on) => {
                    let _ = ctx.set_api_tskip(*on);
                }
                Op::Optimize(two) => {
                    let _ = ctx.set_ctl_optimize(if *two { 2 } else { 1 });
                }
                Op::StartTransaction => {
                    let _ = ctx.start_transaction();
                }
                Op::RejectTransaction => ctx.reject_transaction(),
                Op::CommitTransaction => {
                    let _ = ctx.commit_transaction();
                }
                Op::Merge {
                    act,
                    keep_native,
                    arches,
                    rules,
                } => {
                    let default = match act {
                        Some(a) => a.get(),
                        None => match ctx.get_act_default() {
                            Ok(a) => a,
                            Err(_) => continue,
                        },
                    };
                    let Ok(mut src) = ScmpFilterContext::new(default) else {
                        continue;
                    };
                    if !keep_native {
                        let _ = src.remove_arch(ScmpArch::native());
                    }
                    for a in arches.iter().take(4) {
                        let _ = src.add_arch(arch(*a));
                    }
                    for (act, sys, cmps) in rules.iter().take(8) {
                        let Some(s) = sys.get() else { continue };
                        nrs.push(s.as_raw_syscall());
                        let cmps: Vec<ScmpArgCompare> =
                            cmps.iter().take(7).map(|c| c.get()).collect();
                        for c in &cmps {
                            values.extend([c.datum(), c.datum_a(), c.datum_b()]);
                        }
                        let _ = src.add_rule_conditional(act.get(), s, &cmps);
                    }
                    let _ = ctx.merge(src);
                }
            }
        }
        let passes = Passes::from_bits_truncate(u32::from(self.passes));
        ctx.set_opt_passes(passes);
        Some((ctx, passes, values, nrs))
    }
}
