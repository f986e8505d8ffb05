//! API levels: what the running kernel supports, in libseccomp's terms (see [`get_api`]).
//! The kernel is probed once, on first need, and the result is cached process-wide.

use crate::error::{Result, SeccompErrno, SeccompError};
use crate::kernel::state;
use crate::version::ensure_supported_version;
use crate::{check_version, ScmpAction, ScmpVersion};

/// Forces the API level, as if the kernel supported exactly what `level` stands for.
///
/// Filters loaded afterwards use only what that level allows: level 1 loads with
/// `prctl(PR_SET_SECCOMP)` and no flags, and actions or attributes above the level are
/// refused when the filter is built ([`ScmpFilterContext::new`](crate::ScmpFilterContext::new),
/// `add_rule*`, `set_filter_attr`), as libseccomp refuses them. Without a forced level,
/// building never depends on the running kernel: see [`get_api`]. This is meant for testing code against older kernels; forcing a level above
/// what the kernel supports makes loads fail. The level is process-global, like the probed
/// one; [`reset_global_state`](crate::reset_global_state) goes back to probing.
///
/// This function corresponds to libseccomp's `seccomp_api_set`.
///
/// # Errors
///
/// [`SeccompErrno::EINVAL`] if `level` is not 1 to 7.
///
/// # Examples
///
/// ```
/// # use pure_seccomp::*;
/// assert!(set_api(0).is_err());
/// assert!(set_api(8).is_err());
/// // set_api(1) would change the whole process: see get_api.
/// ```
pub fn set_api(level: u32) -> Result<()> {
    if !(1..=state::MAX_LEVEL).contains(&level) {
        return Err(SeccompError::with_errno(
            SeccompErrno::EINVAL,
            format!(
                "API level {level} does not exist; levels are 1 to {}",
                state::MAX_LEVEL
            ),
        ));
    }
    state::force_level(level);
    Ok(())
}

/// The API level of the running kernel, or the level forced with [`set_api`].
///
/// | level | the kernel has |
/// |---|---|
/// | 1 | filters through `prctl(2)` only |
/// | 2 | `seccomp(2)` and `SECCOMP_FILTER_FLAG_TSYNC` |
/// | 3 | `SECCOMP_FILTER_FLAG_LOG`, actions `Log` and `KillProcess` |
/// | 4 | `SECCOMP_FILTER_FLAG_SPEC_ALLOW` |
/// | 5 | `SECCOMP_FILTER_FLAG_NEW_LISTENER`, action `Notify` |
/// | 6 | `SECCOMP_FILTER_FLAG_TSYNC_ESRCH` (TSYNC and Notify in one filter) |
/// | 7 | `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` |
///
/// The first call (or the first call after
/// [`reset_global_state`](crate::reset_global_state)) probes the kernel with a few
/// `seccomp(2)` calls that are invalid on purpose and so change nothing, the way
/// libseccomp probes; the result is cached in a process-global atomic and shared by all
/// threads.
///
/// # Building does not depend on this level
///
/// The probed level says what *this* kernel can load; it does not restrict what a filter may
/// contain. Unless a level was forced with [`set_api`], [`ScmpFilterContext`](crate::ScmpFilterContext)
/// accepts every action and attribute while the filter is built and exported, so filters can
/// be compiled for another machine on a build host, in a container or under an emulator
/// (qemu-user has no seccomp at all). Loading checks the running kernel: a filter that uses an
/// action or flag it lacks fails to load with [`SeccompErrno::EOPNOTSUPP`], before anything
/// is changed. (libseccomp refuses such actions and attributes at build time already.)
///
/// This function corresponds to libseccomp's `seccomp_api_get`.
///
/// # Examples
///
/// ```
/// # use pure_seccomp::*;
/// let level = get_api();
/// assert!((1..=7).contains(&level));
/// ```
pub fn get_api() -> u32 {
    state::level_of(state::support())
}

/// Whether the API level is at least `min_level` and [`ScmpVersion::current`] at least
/// `expected`.
///
/// # Errors
///
/// None in this implementation (the version is known at compile time); the `Result` is
/// kept for compatibility.
///
/// # Examples
///
/// ```
/// # use pure_seccomp::*;
/// assert!(!check_api(100, ScmpVersion::from((2, 4, 0)))?);
/// if check_api(5, ScmpVersion::from((2, 5, 0)))? {
///     // user notification is available
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_api(min_level: u32, expected: ScmpVersion) -> Result<bool> {
    Ok(get_api() >= min_level && check_version(expected)?)
}

/// Fails with a message naming `msg` unless the API level is at least `min_level` and the
/// version at least `expected`.
pub(crate) fn ensure_supported_api(msg: &str, min_level: u32, expected: ScmpVersion) -> Result<()> {
    let level = get_api();
    if level >= min_level {
        ensure_supported_version(msg, expected)
    } else {
        let current = ScmpVersion::current()?;
        Err(SeccompError::with_msg(format!(
            "{msg} requires libseccomp >= {expected} and API level >= {min_level} \
             (current version: {current}, API level: {level})"
        )))
    }
}

/// Whether a filter being built may use `action`: always, unless a level was forced with
/// [`set_api`], which then decides as libseccomp's `sys_chk_seccomp_action` does: `Log` and
/// `KillProcess` need API level 3, `Notify` level 5, every other action is always allowed.
/// The running kernel is checked when the filter is loaded.
pub(crate) fn action_supported(action: ScmpAction) -> bool {
    match action {
        ScmpAction::Log => state::buildable(state::ACT_LOG),
        ScmpAction::KillProcess => state::buildable(state::ACT_KILL_PROCESS),
        ScmpAction::Notify => state::buildable(state::ACT_NOTIFY),
        _ => true,
    }
}

/// Whether TSYNC and a Notify action can be used in one filter being built
/// (`SECCOMP_FILTER_FLAG_TSYNC_ESRCH`, API level 6, when forced).
pub(crate) fn tsync_notify_supported() -> bool {
    state::buildable(state::FLAG_TSYNC_ESRCH)
}

/// Whether `SCMP_FLTATR_CTL_TSYNC` can be set (`SECCOMP_FILTER_FLAG_TSYNC`, when forced).
pub(crate) fn tsync_supported() -> bool {
    state::buildable(state::SYSCALL | state::FLAG_TSYNC)
}

/// Whether `SCMP_FLTATR_CTL_LOG` can be set (`SECCOMP_FILTER_FLAG_LOG`, when forced).
pub(crate) fn log_supported() -> bool {
    state::buildable(state::SYSCALL | state::FLAG_LOG)
}

/// Whether `SCMP_FLTATR_CTL_SSB` can be set (`SECCOMP_FILTER_FLAG_SPEC_ALLOW`, when forced).
pub(crate) fn ssb_supported() -> bool {
    state::buildable(state::SYSCALL | state::FLAG_SPEC_ALLOW)
}

/// Whether `SCMP_FLTATR_CTL_WAITKILL` can be set
/// (`SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`, when forced).
pub(crate) fn waitkill_supported() -> bool {
    state::buildable(state::SYSCALL | state::FLAG_WAIT_KILLABLE_RECV)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_supported_api_messages() {
        assert!(ensure_supported_api("test", 1, ScmpVersion::from((2, 4, 0))).is_ok());
        let e = ensure_supported_api("test", 100, ScmpVersion::from((2, 4, 0))).unwrap_err();
        assert!(e.to_string().contains("API level >= 100"), "{e}");
        let e = ensure_supported_api("test", 1, ScmpVersion::from((3, 0, 0))).unwrap_err();
        assert!(e.to_string().contains("libseccomp >= 3.0.0"), "{e}");
    }

    #[test]
    fn set_api_range() {
        for bad in [0, 8, 1000] {
            assert_eq!(
                set_api(bad).unwrap_err().errno(),
                Some(SeccompErrno::EINVAL)
            );
        }
    }

    #[test]
    fn always_supported_actions() {
        for a in [
            ScmpAction::Allow,
            ScmpAction::KillThread,
            ScmpAction::Trap,
            ScmpAction::Errno(1),
            ScmpAction::Trace(1),
        ] {
            assert!(action_supported(a));
        }
    }
}
