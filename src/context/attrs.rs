//! The filter attributes (`ScmpFilterAttr`) and their typed getters and setters.

use super::{action_valid, einval, ScmpFilterContext};
use crate::action::ScmpAction;
use crate::api;
use crate::error::{Result, SeccompErrno, SeccompError};
use crate::opt::Passes;
use crate::ScmpFilterAttr;

impl ScmpFilterContext {
    /// Reads an attribute as libseccomp's raw `u32`.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// assert_eq!(ctx.get_filter_attr(ScmpFilterAttr::CtlOptimize)?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_filter_attr(&self, attr: ScmpFilterAttr) -> Result<u32> {
        self.require_arch()?;
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
    /// `EINVAL` on a filter with no architecture (as libseccomp, which takes no call on one
    /// but adding an architecture) or for an invalid bad-arch action; `EACCES` for
    /// `ActDefault` (read-only); `EOPNOTSUPP` for a flag above the API level forced with
    /// [`set_api`](crate::set_api), or an optimize level other than 1 or 2. Without a forced
    /// level, flags the running kernel lacks are accepted here and refused by
    /// [`load`](Self::load).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.set_filter_attr(ScmpFilterAttr::CtlOptimize, 2)?;
    /// assert!(ctx.set_filter_attr(ScmpFilterAttr::CtlOptimize, 3).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_filter_attr(&mut self, attr: ScmpFilterAttr, value: u32) -> Result<&mut Self> {
        self.require_arch()?;
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
    /// Both levels return the same verdicts; they differ in how the program finds a
    /// syscall. Level 1, the default (as libseccomp's), keeps libseccomp's priority order:
    /// syscalls of a higher priority ([`set_syscall_priority`], then fewer argument checks)
    /// are decided before those of a lower, each group of equal priority by a search tree.
    /// Level 2 finds every syscall with one search tree, weighted towards frequent syscalls
    /// and those the kernel's action cache cannot skip. [`set_opt_passes`] switches the
    /// optimizer's passes off (with [`Passes::RANGES`] off, libseccomp's own layouts: a
    /// `jeq` chain at level 1, a binary search at level 2).
    ///
    /// [`set_syscall_priority`]: ScmpFilterContext::set_syscall_priority
    /// [`set_opt_passes`]: ScmpFilterContext::set_opt_passes
    /// [`Passes::RANGES`]: crate::opt::Passes::RANGES
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
}
