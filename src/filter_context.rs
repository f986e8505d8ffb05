//! The filter context: libseccomp 0.4.0's `ScmpFilterContext`, built on the rule database.

use crate::action::{
    ScmpAction, MAX_ERRNO, RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS, RET_KILL_THREAD, RET_LOG,
    RET_NOTIFY, RET_TRACE, RET_TRAP,
};
use crate::api;
use crate::arch::{Endian, ScmpArch};
use crate::bpf::{self, Instruction};
use crate::db::tree::OrigOp;
use crate::db::{ApiArg, Collection, Rule};
use crate::error::{Result, SeccompErrno, SeccompError};
use crate::kernel::LoadOptions;
use crate::opt::Passes;
use crate::{ScmpArgCompare, ScmpCompareOp, ScmpFilterAttr, ScmpSyscall};
use std::cell::RefCell;
use std::io::Write;
use std::os::fd::AsFd;

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

fn orig_op(op: ScmpCompareOp) -> (OrigOp, Option<u64>) {
    match op {
        ScmpCompareOp::NotEqual => (OrigOp::Ne, None),
        ScmpCompareOp::Less => (OrigOp::Lt, None),
        ScmpCompareOp::LessOrEqual => (OrigOp::Le, None),
        ScmpCompareOp::Equal => (OrigOp::Eq, None),
        ScmpCompareOp::GreaterEqual => (OrigOp::Ge, None),
        ScmpCompareOp::Greater => (OrigOp::Gt, None),
        ScmpCompareOp::MaskedEqual(m) => (OrigOp::MaskedEq, Some(m)),
    }
}

impl ScmpFilterContext {
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

    /// Moves the architectures and rules of `src` into this filter.
    ///
    /// # Errors
    ///
    /// `EINVAL` when the default actions, `ctl_nnp` or `ctl_tsync` differ; `EDOM` when the
    /// byte orders differ; `EEXIST` when both cover an architecture.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut a = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// let mut b = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// b.remove_arch(ScmpArch::native())?;
    /// b.add_arch(ScmpArch::X86)?;
    /// a.remove_arch(ScmpArch::X86)?;
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
        self.col.filters.extend(src.col.filters);
        self.col.notify_used |= src.col.notify_used;
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
    /// ctx.add_arch(ScmpArch::X86)?;
    /// assert!(ctx.is_arch_present(ScmpArch::X86)?);
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

    fn rule_add(
        &mut self,
        strict: bool,
        action: ScmpAction,
        syscall: ScmpSyscall,
        comparators: &[ScmpArgCompare],
    ) -> Result<()> {
        let nr = syscall.as_raw_syscall();
        let act = action.to_sys();
        if comparators.len() > 6 {
            return Err(einval(format!(
                "{} argument conditions given; a syscall has at most 6 arguments",
                comparators.len()
            )));
        }
        if self.col.filters.is_empty() {
            return Err(einval("the filter covers no architecture"));
        }
        if !(self.col.attrs.tskip && nr == -1) && (-99..=-1).contains(&nr) {
            return Err(einval(format!(
                "syscall number {nr} is reserved (rules on -1 need api_tskip)"
            )));
        }
        action_valid(act)?;
        if act == RET_NOTIFY && self.col.attrs.tsync && !api::tsync_notify_supported() {
            return Err(einval(
                "the kernel cannot combine TSYNC with a NOTIFY action",
            ));
        }
        if act == self.col.attrs.act_default {
            return Err(SeccompError::with_errno(
                SeccompErrno::EACCES,
                "the rule's action is the filter's default action",
            ));
        }
        if strict && self.col.filters.len() > 1 {
            return Err(SeccompError::with_errno(
                SeccompErrno::EOPNOTSUPP,
                "exact rules need a filter with a single architecture",
            ));
        }
        let mut args: [Option<ApiArg>; 6] = [None; 6];
        for c in comparators {
            let i = c.arg() as usize;
            if i >= 6 {
                return Err(einval(format!(
                    "argument index {i} is out of range (0..=5)"
                )));
            }
            if args[i].is_some() {
                return Err(einval(format!(
                    "argument {i} is compared twice in one rule"
                )));
            }
            let (op, mask) = orig_op(c.op());
            args[i] = Some(ApiArg {
                op,
                mask: mask.unwrap_or(u64::MAX),
                datum: c.datum(),
            });
        }
        self.col.rule_add(&Rule {
            strict,
            action: act,
            syscall: nr,
            args,
        })?;
        self.changed();
        Ok(())
    }

    /// Adds a rule: `action` for `syscall`, whatever its arguments.
    ///
    /// The syscall number is interpreted on the native architecture and translated by name
    /// for the filter's other architectures; where an architecture lacks the syscall the rule
    /// is skipped there.
    ///
    /// # Errors
    ///
    /// `EACCES` when `action` is the default action; `EINVAL` for an invalid action or a
    /// reserved number; `EFAULT` for a number that is no native syscall; `EEXIST` when it
    /// conflicts with an existing rule.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.add_rule(ScmpAction::Errno(libc::EPERM), ScmpSyscall::from_name("dup3")?)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_rule<S: Into<ScmpSyscall>>(
        &mut self,
        action: ScmpAction,
        syscall: S,
    ) -> Result<&mut Self> {
        self.rule_add(false, action, syscall.into(), &[])?;
        Ok(self)
    }

    /// Adds a rule that applies when every comparison in `comparators` holds (at most one
    /// per argument).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.add_rule_conditional(
    ///     ScmpAction::Errno(libc::EPERM),
    ///     ScmpSyscall::from_name("open")?,
    ///     &[scmp_cmp!($arg1 & (libc::O_TRUNC as u64) == libc::O_TRUNC as u64)],
    /// )?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_rule_conditional<S: Into<ScmpSyscall>>(
        &mut self,
        action: ScmpAction,
        syscall: S,
        comparators: &[ScmpArgCompare],
    ) -> Result<&mut Self> {
        self.rule_add(false, action, syscall.into(), comparators)?;
        Ok(self)
    }

    /// Like [`add_rule`](Self::add_rule), but the rule must apply exactly as given.
    ///
    /// # Errors
    ///
    /// Besides those of `add_rule`: `EOPNOTSUPP` when the filter has more than one
    /// architecture, `EDOM` when the architecture lacks the syscall.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.add_rule_exact(ScmpAction::Errno(libc::EPERM), ScmpSyscall::from_name("dup3")?)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_rule_exact<S: Into<ScmpSyscall>>(
        &mut self,
        action: ScmpAction,
        syscall: S,
    ) -> Result<&mut Self> {
        self.rule_add(true, action, syscall.into(), &[])?;
        Ok(self)
    }

    /// Like [`add_rule_conditional`](Self::add_rule_conditional), but exact; on
    /// architectures that multiplex the syscall through socketcall/ipc, conditions are
    /// refused (`EINVAL`).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.add_rule_conditional_exact(
    ///     ScmpAction::Errno(libc::EPERM),
    ///     ScmpSyscall::from_name("dup3")?,
    ///     &[scmp_cmp!($arg0 == 1)],
    /// )?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_rule_conditional_exact<S: Into<ScmpSyscall>>(
        &mut self,
        action: ScmpAction,
        syscall: S,
        comparators: &[ScmpArgCompare],
    ) -> Result<&mut Self> {
        self.rule_add(true, action, syscall.into(), comparators)?;
        Ok(self)
    }

    /// Hints that `syscall` is frequent: at optimize level 1 it is tested earlier (higher
    /// `priority` first).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::KillThread)?;
    /// ctx.add_rule(ScmpAction::Allow, ScmpSyscall::from_name("read")?)?;
    /// ctx.set_syscall_priority(ScmpSyscall::from_name("read")?, 100)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_syscall_priority<S: Into<ScmpSyscall>>(
        &mut self,
        syscall: S,
        priority: u8,
    ) -> Result<&mut Self> {
        let nr = syscall.into().as_raw_syscall();
        if self.col.filters.is_empty() {
            return Err(einval("the filter covers no architecture"));
        }
        if !(self.col.attrs.tskip && nr == -1) && (-99..=-1).contains(&nr) {
            return Err(einval(format!("syscall number {nr} is reserved")));
        }
        self.col.syscall_priority(nr, priority)?;
        self.changed();
        Ok(self)
    }

    /// Reads an attribute as libseccomp's raw `u32`.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// assert_eq!(ctx.get_filter_attr(ScmpFilterAttr::CtlOptimize)?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_filter_attr(&self, attr: ScmpFilterAttr) -> Result<u32> {
        let a = &self.col.attrs;
        Ok(match attr {
            ScmpFilterAttr::ActDefault => a.act_default,
            ScmpFilterAttr::ActBadArch => a.act_badarch,
            ScmpFilterAttr::CtlNnp => a.nnp.into(),
            ScmpFilterAttr::CtlTsync => a.tsync.into(),
            ScmpFilterAttr::ApiTskip => a.tskip.into(),
            ScmpFilterAttr::CtlLog => a.log.into(),
            ScmpFilterAttr::CtlSsb => a.ssb.into(),
            ScmpFilterAttr::CtlOptimize => a.optimize,
            ScmpFilterAttr::ApiSysRawRc => a.sysrawrc.into(),
            ScmpFilterAttr::CtlWaitkill => a.waitkill.into(),
        })
    }

    /// Sets an attribute from libseccomp's raw `u32`.
    ///
    /// # Errors
    ///
    /// `EACCES` for `ActDefault` (read-only); `EINVAL` for an invalid bad-arch action;
    /// `EOPNOTSUPP` for a flag above the API level forced with [`set_api`](crate::set_api),
    /// or an optimize level other than 1 or 2. Without a forced level, flags the running
    /// kernel lacks are accepted here and refused by [`load`](Self::load).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.set_filter_attr(ScmpFilterAttr::CtlOptimize, 2)?;
    /// assert!(ctx.set_filter_attr(ScmpFilterAttr::CtlOptimize, 3).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_filter_attr(&mut self, attr: ScmpFilterAttr, value: u32) -> Result<&mut Self> {
        let need = |supported: bool, what: &str| -> Result<()> {
            if supported {
                Ok(())
            } else {
                Err(SeccompError::with_errno(
                    SeccompErrno::EOPNOTSUPP,
                    format!(
                        "API level {} (forced with set_api) does not support {what}",
                        api::get_api()
                    ),
                ))
            }
        };
        let on = value != 0;
        let a = &mut self.col.attrs;
        match attr {
            ScmpFilterAttr::ActDefault => {
                return Err(SeccompError::with_errno(
                    SeccompErrno::EACCES,
                    "the default action is read-only",
                ));
            }
            ScmpFilterAttr::ActBadArch => {
                action_valid(value)?;
                a.act_badarch = value;
            }
            ScmpFilterAttr::CtlNnp => a.nnp = on,
            ScmpFilterAttr::CtlTsync => {
                need(api::tsync_supported(), "TSYNC")?;
                if on && self.col.notify_used && !api::tsync_notify_supported() {
                    return Err(einval(
                        "the kernel cannot combine TSYNC with a NOTIFY action",
                    ));
                }
                self.col.attrs.tsync = on;
            }
            ScmpFilterAttr::ApiTskip => a.tskip = on,
            ScmpFilterAttr::CtlLog => {
                need(api::log_supported(), "the LOG flag")?;
                self.col.attrs.log = on;
            }
            ScmpFilterAttr::CtlSsb => {
                need(api::ssb_supported(), "the SPEC_ALLOW flag")?;
                self.col.attrs.ssb = on;
            }
            ScmpFilterAttr::CtlOptimize => match value {
                1 | 2 => a.optimize = value,
                _ => {
                    return Err(SeccompError::with_errno(
                        SeccompErrno::EOPNOTSUPP,
                        format!("optimize level {value} is not supported (1 or 2)"),
                    ));
                }
            },
            ScmpFilterAttr::ApiSysRawRc => a.sysrawrc = on,
            // libseccomp 2.6's seccomp_attr_set takes this one unchecked (a kernel without
            // the flag refuses the load); the API-level check is set_ctl_waitkill's, as in
            // the libseccomp crate.
            ScmpFilterAttr::CtlWaitkill => a.waitkill = on,
        }
        self.changed();
        Ok(self)
    }

    /// The default action.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let ctx = ScmpFilterContext::new(ScmpAction::Errno(1))?;
    /// assert_eq!(ctx.get_act_default()?, ScmpAction::Errno(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_act_default(&self) -> Result<ScmpAction> {
        ScmpAction::from_sys(self.get_filter_attr(ScmpFilterAttr::ActDefault)?)
    }

    /// The action for syscalls of architectures the filter does not cover.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// assert_eq!(ctx.get_act_badarch()?, ScmpAction::KillThread);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_act_badarch(&self) -> Result<ScmpAction> {
        ScmpAction::from_sys(self.get_filter_attr(ScmpFilterAttr::ActBadArch)?)
    }

    /// Sets the action for syscalls of architectures the filter does not cover.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.set_act_badarch(ScmpAction::KillProcess)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_act_badarch(&mut self, action: ScmpAction) -> Result<&mut Self> {
        self.set_filter_attr(ScmpFilterAttr::ActBadArch, action.to_sys())
    }
}

macro_rules! bool_attr {
    ($get:ident, $set:ident, $attr:ident, $what:literal) => {
        impl ScmpFilterContext {
            #[doc = concat!("Whether ", $what, ".")]
            ///
            /// ```
            /// use pure_seccomp::*;
            /// let ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
            #[doc = concat!("let _on: bool = ctx.", stringify!($get), "()?;")]
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub fn $get(&self) -> Result<bool> {
                Ok(self.get_filter_attr(ScmpFilterAttr::$attr)? != 0)
            }

            #[doc = concat!("Sets whether ", $what, ".")]
            ///
            /// ```
            /// use pure_seccomp::*;
            /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
            #[doc = concat!("ctx.", stringify!($set), "(false)?;")]
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub fn $set(&mut self, state: bool) -> Result<&mut Self> {
                self.set_filter_attr(ScmpFilterAttr::$attr, state.into())
            }
        }
    };
}

bool_attr!(
    get_ctl_nnp,
    set_ctl_nnp,
    CtlNnp,
    "loading sets `NO_NEW_PRIVS` (default true)"
);
bool_attr!(
    get_ctl_tsync,
    set_ctl_tsync,
    CtlTsync,
    "loading synchronises the filter onto all threads"
);
bool_attr!(
    get_ctl_log,
    set_ctl_log,
    CtlLog,
    "the kernel logs all actions but ALLOW"
);
bool_attr!(
    get_ctl_ssb,
    set_ctl_ssb,
    CtlSsb,
    "speculative store bypass mitigation is disabled"
);
bool_attr!(
    get_api_sysrawrc,
    set_api_sysrawrc,
    ApiSysRawRc,
    "load failures report the kernel's raw errno"
);

/// The libseccomp crate's check on `ctl_waitkill` (API level 7, libseccomp 2.6).
fn waitkill_api() -> Result<()> {
    if api::waitkill_supported() {
        Ok(())
    } else {
        Err(SeccompError::with_errno(
            SeccompErrno::EOPNOTSUPP,
            format!(
                "ctl_waitkill needs API level 7 (WAIT_KILLABLE_RECV); the level is {}",
                api::get_api()
            ),
        ))
    }
}

impl ScmpFilterContext {
    /// Whether a notifying syscall waits killably for the response.
    ///
    /// # Errors
    ///
    /// Below API level 7 (no `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`), as in the libseccomp
    /// crate.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// if check_api(7, ScmpVersion::from((2, 6, 0)))? {
    ///     assert!(!ctx.get_ctl_waitkill()?);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_ctl_waitkill(&self) -> Result<bool> {
        waitkill_api()?;
        Ok(self.get_filter_attr(ScmpFilterAttr::CtlWaitkill)? != 0)
    }

    /// Sets whether a notifying syscall waits killably for the response.
    ///
    /// # Errors
    ///
    /// Below API level 7, as in the libseccomp crate. (`set_filter_attr` with
    /// [`ScmpFilterAttr::CtlWaitkill`] does not check, as libseccomp's `seccomp_attr_set`.)
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// if check_api(7, ScmpVersion::from((2, 6, 0)))? {
    ///     ctx.set_ctl_waitkill(true)?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_ctl_waitkill(&mut self, state: bool) -> Result<&mut Self> {
        waitkill_api()?;
        self.set_filter_attr(ScmpFilterAttr::CtlWaitkill, state.into())
    }
}

bool_attr!(
    get_api_tskip,
    set_api_tskip,
    ApiTskip,
    "rules on syscall -1 are allowed (for tracers)"
);

impl ScmpFilterContext {
    /// Deprecated alias of [`get_ctl_nnp`](Self::get_ctl_nnp).
    ///
    /// ```
    /// # #![allow(deprecated)]
    /// use pure_seccomp::*;
    /// assert!(ScmpFilterContext::new(ScmpAction::Allow).unwrap().get_no_new_privs_bit().unwrap());
    /// ```
    #[deprecated(since = "0.2.3", note = "Use ScmpFilterContext::get_ctl_nnp().")]
    pub fn get_no_new_privs_bit(&self) -> Result<bool> {
        self.get_ctl_nnp()
    }

    /// Deprecated alias of [`set_ctl_nnp`](Self::set_ctl_nnp).
    ///
    /// ```
    /// # #![allow(deprecated)]
    /// use pure_seccomp::*;
    /// ScmpFilterContext::new(ScmpAction::Allow).unwrap().set_no_new_privs_bit(false).unwrap();
    /// ```
    #[deprecated(since = "0.2.3", note = "Use ScmpFilterContext::set_ctl_nnp().")]
    pub fn set_no_new_privs_bit(&mut self, state: bool) -> Result<&mut Self> {
        self.set_ctl_nnp(state)
    }

    /// The optimize level: 1 (priority-ordered if-chains, default) or 2 (binary tree).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// assert_eq!(ScmpFilterContext::new(ScmpAction::Allow)?.get_ctl_optimize()?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_ctl_optimize(&self) -> Result<u32> {
        self.get_filter_attr(ScmpFilterAttr::CtlOptimize)
    }

    /// Sets the optimize level (1 or 2; others give `EOPNOTSUPP`).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// ScmpFilterContext::new(ScmpAction::Allow)?.set_ctl_optimize(2)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_ctl_optimize(&mut self, level: u32) -> Result<&mut Self> {
        self.set_filter_attr(ScmpFilterAttr::CtlOptimize, level)
    }

    /// Chooses the optimizer's passes (all by default). Switching passes off never changes
    /// what the filter returns, only the program's size and speed: this is for measuring
    /// what a pass buys and for testing. It is a setting of this context, not a filter
    /// attribute, so [`merge`](Self::merge) and [`reset`](Self::reset) keep it.
    ///
    /// ```
    /// use pure_seccomp::{opt::Passes, *};
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.set_opt_passes(Passes::all() - Passes::ARG_TREES);
    /// assert_eq!(ctx.get_opt_passes(), Passes::all() - Passes::ARG_TREES);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_opt_passes(&mut self, passes: Passes) -> &mut Self {
        self.passes = passes;
        self.changed();
        self
    }

    /// The optimizer's passes in use (see [`set_opt_passes`](Self::set_opt_passes)).
    pub fn get_opt_passes(&self) -> Passes {
        self.passes
    }

    /// The compiled program (instruction values in host terms), from the precompute cache
    /// when there is one.
    pub(crate) fn program(&self) -> Result<Vec<Instruction>> {
        if let Some(p) = self.cache.borrow().as_ref() {
            return Ok(p.clone());
        }
        self.generate()
    }

    fn generate(&self) -> Result<Vec<Instruction>> {
        self.require_arch()?;
        let passes = self.passes;
        let crate::opt::Optimized { trees, lists } =
            crate::opt::optimize(crate::ir::lower::lower(&self.col, passes), passes);
        let Some(lists) = lists else {
            // Without argument trees, the one program.
            let program = trees.expect("the program without argument trees");
            return crate::emit::check_len(crate::emit::emit(&program, passes));
        };
        // Search trees over argument values are faster than libseccomp's `jeq` lists but
        // about a fifth longer: where that is too long for the kernel, the lists it is (the
        // same program as with the pass off). A program whose lower bound on its length
        // (`Program::min_len`: a jump a test, a load before a test reached from another
        // word, a `ret` a return) is over the kernel's limit is too long before it is
        // emitted.
        if let Some(trees) = trees.filter(|t| t.may_fit(bpf::BPF_MAXINSNS)) {
            let prog = crate::emit::emit(&trees, passes);
            if prog.len() <= bpf::BPF_MAXINSNS {
                return Ok(prog);
            }
        }
        crate::emit::check_len(crate::emit::emit(
            &lists,
            passes - crate::opt::Passes::ARG_TREES,
        ))
    }

    /// libseccomp refuses to export or load a filter with no architecture.
    fn require_arch(&self) -> Result<()> {
        if self.col.filters.is_empty() {
            return Err(einval("the filter covers no architecture"));
        }
        Ok(())
    }

    /// What the kernel loader needs besides the program.
    pub(crate) fn load_options(&self) -> LoadOptions {
        let a = &self.col.attrs;
        LoadOptions {
            nnp: a.nnp,
            tsync: a.tsync,
            log: a.log,
            ssb: a.ssb,
            waitkill: a.waitkill,
            notify_used: self.col.notify_used,
            sysrawrc: a.sysrawrc,
        }
    }

    /// The byte order of the filter's architectures (the host's when it has none).
    fn endian(&self) -> Endian {
        self.col.endian.unwrap_or(if cfg!(target_endian = "big") {
            Endian::Big
        } else {
            Endian::Little
        })
    }

    /// Writes the filter as libseccomp's human-readable pseudo filter code (PFC).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.add_rule(ScmpAction::KillThread, ScmpSyscall::from_name("ptrace")?)?;
    /// ctx.export_pfc(std::io::stdout())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_pfc<T: AsFd>(&self, fd: T) -> Result<()> {
        self.require_arch()?;
        write_fd(fd, crate::pfc::render(&self.col).as_bytes())
    }

    /// Writes the compiled BPF program (in the filter's byte order) to `fd`.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// let file = std::fs::File::create(std::env::temp_dir().join("pure-seccomp-doc.bpf"))?;
    /// ctx.export_bpf(&file)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_bpf<T: AsFd>(&self, fd: T) -> Result<()> {
        write_fd(fd, &self.export_bpf_mem()?)
    }

    /// The compiled BPF program as bytes (8 per instruction, in the filter's byte order).
    ///
    /// # Errors
    ///
    /// When the program would exceed the kernel's 4096-instruction limit.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// assert_eq!(ctx.export_bpf_mem()?.len() % 8, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_bpf_mem(&self) -> Result<Vec<u8>> {
        Ok(bpf::encode(&self.program()?, self.endian()))
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
        self.col = Collection::new(act);
        self.snapshots.get_mut().clear();
        self.changed();
        Ok(())
    }

    /// Starts a transaction: changes until [`commit_transaction`](Self::commit_transaction)
    /// can be undone with [`reject_transaction`](Self::reject_transaction). Transactions nest.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.start_transaction()?;
    /// ctx.add_rule(ScmpAction::KillThread, ScmpSyscall::from_name("ptrace")?)?;
    /// ctx.reject_transaction();
    /// ctx.start_transaction()?;
    /// ctx.add_rule(ScmpAction::KillThread, ScmpSyscall::from_name("ptrace")?)?;
    /// ctx.commit_transaction()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start_transaction(&self) -> Result<()> {
        self.snapshots.borrow_mut().push(self.col.clone());
        Ok(())
    }

    /// Undoes everything since the matching [`start_transaction`](Self::start_transaction)
    /// (nothing happens when no transaction is open).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.start_transaction()?;
    /// ctx.add_arch(ScmpArch::X86)?;
    /// ctx.reject_transaction();
    /// assert!(!ctx.is_arch_present(ScmpArch::X86)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reject_transaction(&mut self) {
        if let Some(s) = self.snapshots.get_mut().pop() {
            self.col = s;
            self.changed();
        }
    }

    /// Keeps everything since the matching [`start_transaction`](Self::start_transaction).
    ///
    /// # Errors
    ///
    /// `EINVAL` when no transaction is open.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// assert!(ctx.commit_transaction().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn commit_transaction(&mut self) -> Result<()> {
        match self.snapshots.get_mut().pop() {
            Some(_) => Ok(()),
            None => Err(einval("no transaction is open")),
        }
    }

    /// Compiles the filter now, so that a later [`load`](Self::load) or export does no
    /// work (useful before `fork`). Any change drops the compiled program.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.precompute()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn precompute(&self) -> Result<()> {
        let p = self.generate()?;
        *self.cache.borrow_mut() = Some(p);
        Ok(())
    }

    /// Evaluates the filter's rules directly (no BPF) on one `seccomp_data`: the value the
    /// compiled filter returns for it. Useful to test a policy without loading it.
    ///
    /// ```
    /// use pure_seccomp::{bpf::SeccompData, *};
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.add_arch(ScmpArch::X8664)?;
    /// ctx.add_rule(ScmpAction::Errno(1), ScmpSyscall::from_name_by_arch("ptrace", ScmpArch::X8664)?)?;
    /// let data = SeccompData { nr: 101, arch: 0xc000_003e, ..Default::default() };
    /// # if ScmpArch::native() == ScmpArch::X8664 {
    /// assert_eq!(ctx.evaluate(&data), 0x0005_0001);
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn evaluate(&self, data: &bpf::SeccompData) -> u32 {
        self.col.evaluate(data)
    }

    /// Makes this filter reproduce libseccomp 2.5.4's known bugs, for differential testing
    /// against recordings of that library (see the README's list of deliberate
    /// differences). Never use it for a filter you load.
    #[cfg(feature = "__internal-test")]
    #[doc(hidden)]
    pub fn __emulate_libseccomp_2_5_4(&mut self, on: bool) {
        self.col.compat = on;
        self.changed();
    }

    /// Whether, in compat mode, libseccomp 2.5.4's program never loads the syscall number in
    /// the section that judges `data` (its priority-placeholder bug).
    #[cfg(feature = "__internal-test")]
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_ignores_nr(&self, data: &bpf::SeccompData) -> bool {
        self.col.ignores_nr(data)
    }

    /// Whether libseccomp 2.5.4's stale-accumulator miscompilation (a rule comparing the
    /// argument word a nested comparison loaded instead of its own) can make its program
    /// return `ret` for `data`. For classifying differences against recordings of that
    /// library.
    #[cfg(feature = "__internal-test")]
    #[doc(hidden)]
    pub fn __libseccomp_2_5_4_stale_acc_explains(&self, data: &bpf::SeccompData, ret: u32) -> bool {
        self.col.stale_acc_explains(data, ret)
    }

    /// The byte order of the filter's programs (the host's when it covers no architecture).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.remove_arch(ScmpArch::native())?;
    /// ctx.add_arch(ScmpArch::S390X)?;
    /// assert_eq!(ctx.byte_order(), Endian::Big);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn byte_order(&self) -> Endian {
        self.endian()
    }
}

#[cfg(feature = "as-ptr")]
impl ScmpFilterContext {
    /// The address of this filter as libseccomp's `scmp_filter_ctx` (`void *`), for the C-ABI
    /// shell `compat/libseccomp-sys` (feature `as-ptr`, which the compatibility crate
    /// `compat/libseccomp` enables so that `ctx.as_ptr()` works as in the libseccomp crate).
    ///
    /// Creating the pointer is safe; using it is up to the shell's `unsafe` functions. The
    /// pointer is valid while `self` is neither moved nor dropped, and only for reading:
    /// the shell's functions that change or release a filter refuse a pointer that did not
    /// come from its own `seccomp_init`.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// assert!(!ctx.as_ptr().is_null());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn as_ptr(&self) -> *mut std::ffi::c_void {
        (self as *const Self).cast_mut().cast()
    }
}

fn write_fd<T: AsFd>(fd: T, bytes: &[u8]) -> Result<()> {
    let owned = fd.as_fd().try_clone_to_owned()?;
    let mut f = std::fs::File::from(owned);
    f.write_all(bytes)?;
    f.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScmpAction;

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

    /// `opt::arg_trees` says when pruning its result again cannot pay (no chain it rewrote has
    /// its word tested again on a path through it), and then `opt` does not prune again: so
    /// pruning again must then remove nothing.
    #[test]
    fn pruning_a_rewrite_said_to_leave_nothing_removes_nothing() {
        let mut r = Rng(0x0a26_7ee5);
        let (mut idle, mut rewritten) = (0, 0);
        for round in 0..400 {
            let mut ctx = random_filter(&mut r, 1 + round % 60);
            for level in [1, 2] {
                ctx.set_ctl_optimize(level).unwrap();
                let passes = Passes::all();
                let lowered = crate::ir::lower::lower(&ctx.col, passes);
                let lists = crate::opt::prune::run(&crate::opt::jset::run(lowered));
                let (p, leads_on) = crate::opt::arg_trees::run(&lists, None).unwrap();
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
        assert!(rewritten > 40);
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
                    let crate::opt::Optimized { trees, lists } =
                        crate::opt::optimize(crate::ir::lower::lower(&ctx.col, passes), passes);
                    let forms = [(trees, passes), (lists, passes - Passes::ARG_TREES)];
                    for (p, passes) in forms {
                        let Some(p) = p else { continue };
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
}
