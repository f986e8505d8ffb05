//! Filter actions.

use crate::error::{ErrorKind, Result, SeccompError};

/// What a filter does with a syscall: the value a rule (or the default) returns.
///
/// ```
/// use pure_seccomp::ScmpAction;
/// assert_eq!(ScmpAction::from_str("SCMP_ACT_ERRNO", Some(1)).unwrap(), ScmpAction::Errno(1));
/// assert_eq!(ScmpAction::from_str("SCMP_ACT_KILL", None).unwrap(), ScmpAction::KillThread);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScmpAction {
    /// Kill the whole process.
    KillProcess,
    /// Kill the thread that made the syscall.
    KillThread,
    /// Send `SIGSYS` to the thread.
    Trap,
    /// Notify a user-space supervisor through the filter's listener.
    Notify,
    /// Fail the syscall with this errno (the value is truncated to 16 bits, as libseccomp does).
    Errno(i32),
    /// Notify a ptrace tracer with this message value.
    Trace(u16),
    /// Allow the syscall and log it.
    Log,
    /// Allow the syscall.
    Allow,
}

// The filter return values, from the one list of them (`bpf`), by shorter names.
pub(crate) use crate::bpf::{
    SECCOMP_RET_ALLOW as RET_ALLOW, SECCOMP_RET_ERRNO as RET_ERRNO,
    SECCOMP_RET_KILL_PROCESS as RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD as RET_KILL_THREAD,
    SECCOMP_RET_LOG as RET_LOG, SECCOMP_RET_TRACE as RET_TRACE, SECCOMP_RET_TRAP as RET_TRAP,
    SECCOMP_RET_USER_NOTIF as RET_NOTIFY,
};

/// libseccomp's limit on ERRNO data (`MAX_ERRNO`): `Errno(n)` needs `n as u16 < 4095`.
pub(crate) const MAX_ERRNO: u32 = 4095;

impl ScmpAction {
    /// The 32-bit value a seccomp filter returns for this action.
    pub(crate) fn to_sys(self) -> u32 {
        match self {
            Self::KillProcess => RET_KILL_PROCESS,
            Self::KillThread => RET_KILL_THREAD,
            Self::Trap => RET_TRAP,
            Self::Notify => RET_NOTIFY,
            Self::Errno(x) => RET_ERRNO | u32::from(x as u16),
            Self::Trace(x) => RET_TRACE | u32::from(x),
            Self::Log => RET_LOG,
            Self::Allow => RET_ALLOW,
        }
    }

    /// The action for a filter return value.
    pub(crate) fn from_sys(val: u32) -> Result<Self> {
        match val & 0xffff_0000 {
            RET_KILL_PROCESS => Ok(Self::KillProcess),
            RET_KILL_THREAD => Ok(Self::KillThread),
            RET_TRAP => Ok(Self::Trap),
            RET_NOTIFY => Ok(Self::Notify),
            RET_ERRNO => Ok(Self::Errno(i32::from(val as u16))),
            RET_TRACE => Ok(Self::Trace(val as u16)),
            RET_LOG => Ok(Self::Log),
            RET_ALLOW => Ok(Self::Allow),
            inv => Err(SeccompError::new(ErrorKind::InvalidAction(inv))),
        }
    }

    /// Parses libseccomp's `SCMP_ACT_*` names; `SCMP_ACT_ERRNO` and `SCMP_ACT_TRACE` take
    /// their value from `val`.
    ///
    /// # Errors
    ///
    /// An unknown name, a missing value, or a `SCMP_ACT_TRACE` value outside `u16`.
    ///
    /// ```
    /// use pure_seccomp::ScmpAction;
    /// assert_eq!(ScmpAction::from_str("SCMP_ACT_TRACE", Some(7)).unwrap(), ScmpAction::Trace(7));
    /// assert!(ScmpAction::from_str("SCMP_ACT_ERRNO", None).is_err());
    /// assert!(ScmpAction::from_str("SCMP_ACT_TRACE", Some(70000)).is_err());
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(action: &str, val: Option<i32>) -> Result<Self> {
        match action {
            "SCMP_ACT_KILL_PROCESS" => Ok(Self::KillProcess),
            "SCMP_ACT_KILL_THREAD" | "SCMP_ACT_KILL" => Ok(Self::KillThread),
            "SCMP_ACT_TRAP" => Ok(Self::Trap),
            "SCMP_ACT_NOTIFY" => Ok(Self::Notify),
            "SCMP_ACT_ERRNO" => match val {
                Some(v) => Ok(Self::Errno(v)),
                None => Err(SeccompError::with_msg(
                    "Missing an errno value of SCMP_ACT_ERRNO in ScmpAction::from_str",
                )),
            },
            "SCMP_ACT_TRACE" => match val {
                Some(v) => Ok(Self::Trace(v.try_into()?)),
                None => Err(SeccompError::with_msg(
                    "Missing a message value of SCMP_ACT_TRACE in ScmpAction::from_str",
                )),
            },
            "SCMP_ACT_LOG" => Ok(Self::Log),
            "SCMP_ACT_ALLOW" => Ok(Self::Allow),
            _ => Err(SeccompError::new(ErrorKind::FromStr(action.to_string()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for a in [
            ScmpAction::KillProcess,
            ScmpAction::KillThread,
            ScmpAction::Trap,
            ScmpAction::Notify,
            ScmpAction::Errno(13),
            ScmpAction::Trace(65535),
            ScmpAction::Log,
            ScmpAction::Allow,
        ] {
            assert_eq!(ScmpAction::from_sys(a.to_sys()).unwrap(), a);
        }
        assert_eq!(ScmpAction::Errno(65537).to_sys(), 0x0005_0001);
        assert!(ScmpAction::from_sys(0x1234_0000).is_err());
    }
}
