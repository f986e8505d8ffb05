//! Filter attributes.

use crate::error::{ErrorKind, Result, SeccompError};
use std::str::FromStr;

/// An attribute of a filter, read and written with
/// [`get_filter_attr`](crate::ScmpFilterContext::get_filter_attr) and
/// [`set_filter_attr`](crate::ScmpFilterContext::set_filter_attr).
///
/// ```
/// use pure_seccomp::ScmpFilterAttr;
/// use std::str::FromStr;
/// assert_eq!(ScmpFilterAttr::from_str("SCMP_FLTATR_CTL_TSYNC").unwrap(), ScmpFilterAttr::CtlTsync);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScmpFilterAttr {
    /// The default action (read-only after creation).
    ActDefault,
    /// The action for a syscall of an architecture the filter does not cover.
    ActBadArch,
    /// Set `NO_NEW_PRIVS` when loading (default on).
    CtlNnp,
    /// Synchronise the filter onto all threads when loading.
    CtlTsync,
    /// Allow rules on syscall -1 (for tracers).
    ApiTskip,
    /// Log all actions but `Allow` (`SECCOMP_FILTER_FLAG_LOG`).
    CtlLog,
    /// Disable speculative store bypass mitigation (`SECCOMP_FILTER_FLAG_SPEC_ALLOW`).
    CtlSsb,
    /// Optimisation level: 1 priority-ordered if-chains, 2 binary tree.
    CtlOptimize,
    /// Return the kernel's raw errno instead of `ECANCELED` on load failures.
    ApiSysRawRc,
    /// Wait killably for a notification response (`SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`).
    CtlWaitkill,
}

impl FromStr for ScmpFilterAttr {
    type Err = SeccompError;

    /// Parses libseccomp's `SCMP_FLTATR_*` names.
    fn from_str(attr: &str) -> Result<Self> {
        match attr {
            "SCMP_FLTATR_ACT_DEFAULT" => Ok(Self::ActDefault),
            "SCMP_FLTATR_ACT_BADARCH" => Ok(Self::ActBadArch),
            "SCMP_FLTATR_CTL_NNP" => Ok(Self::CtlNnp),
            "SCMP_FLTATR_CTL_TSYNC" => Ok(Self::CtlTsync),
            "SCMP_FLTATR_API_TSKIP" => Ok(Self::ApiTskip),
            "SCMP_FLTATR_CTL_LOG" => Ok(Self::CtlLog),
            "SCMP_FLTATR_CTL_SSB" => Ok(Self::CtlSsb),
            "SCMP_FLTATR_CTL_OPTIMIZE" => Ok(Self::CtlOptimize),
            "SCMP_FLTATR_API_SYSRAWRC" => Ok(Self::ApiSysRawRc),
            "SCMP_FLTATR_CTL_WAITKILL" => Ok(Self::CtlWaitkill),
            _ => Err(SeccompError::new(ErrorKind::FromStr(attr.to_string()))),
        }
    }
}
