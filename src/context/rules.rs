//! Adding rules: the checks libseccomp makes on a rule, and the rule database's add.

use super::{action_valid, einval, ScmpFilterContext};
use crate::action::{ScmpAction, RET_NOTIFY};
use crate::api;
use crate::db::tree::OrigOp;
use crate::db::{ApiArg, Rule};
use crate::error::{Result, SeccompErrno, SeccompError};
use crate::{ScmpArgCompare, ScmpCompareOp, ScmpSyscall};

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
    fn rule_add(
        &mut self,
        strict: bool,
        action: ScmpAction,
        syscall: ScmpSyscall,
        comparators: &[ScmpArgCompare],
        name: Option<&'static str>,
    ) -> Result<()> {
        let nr = syscall.as_raw_syscall();
        let act = action.to_sys();
        if comparators.len() > 6 {
            return Err(einval(format!(
                "{} argument conditions given; a syscall has at most 6 arguments",
                comparators.len()
            )));
        }
        self.require_arch()?;
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
            name,
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
        self.rule_add(false, action, syscall.into(), &[], None)?;
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
        self.rule_add(false, action, syscall.into(), comparators, None)?;
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
        self.rule_add(true, action, syscall.into(), &[], None)?;
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
        self.rule_add(true, action, syscall.into(), comparators, None)?;
        Ok(self)
    }

    /// The policy readers' rule on the syscall `name`: `add_rule_conditional(action,
    /// ScmpSyscall::from_name(name)?, comparators)`, except where that number names another
    /// syscall, libseccomp's pseudo number -10191 for both `sys_debug_setcontext` and
    /// `switch_endian`: a filter of an architecture that has the syscall gets the rule on
    /// `name` itself, not on the other.
    #[cfg(feature = "policy")]
    pub(crate) fn add_rule_by_name(
        &mut self,
        action: ScmpAction,
        name: &str,
        comparators: &[ScmpArgCompare],
    ) -> Result<()> {
        let syscall = ScmpSyscall::from_name(name)?;
        let shared = crate::syscall::shared_pseudo_name(syscall.as_raw_syscall(), name);
        self.rule_add(false, action, syscall, comparators, shared)
    }

    /// Hints that `syscall` is frequent: at optimize level 1 it is decided before the syscalls
    /// of a lower priority (higher `priority` first); at level 2 it weighs more in the search
    /// tree (up to 9 times for 255), so it sits nearer the top.
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
        self.require_arch()?;
        if !(self.col.attrs.tskip && nr == -1) && (-99..=-1).contains(&nr) {
            return Err(einval(format!("syscall number {nr} is reserved")));
        }
        self.col.syscall_priority(nr, priority)?;
        self.changed();
        Ok(self)
    }
}
