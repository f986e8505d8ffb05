//! Free functions of the `libseccomp` crate's API.

use crate::error::{Result, SeccompError};
use crate::kernel::state;
use crate::{ScmpArch, ScmpSyscall, ScmpVersion};

// Loading precompiled programs (not in the libseccomp crate). They live with the rest of the
// kernel interface and are re-exported here, so that the crate root's `pub use
// functions::*` makes them `pure_seccomp::load_bpf` etc.
pub use crate::kernel::{load_bpf, load_bpf_bytes, LoadFlags};

/// Resets the crate's process-global state: forgets the cached kernel support probes (the
/// next use probes again, and a level forced with [`set_api`](crate::set_api) is dropped),
/// and closes the user-notification listener stored by
/// [`ScmpFilterContext::load`](crate::ScmpFilterContext::load) (so
/// [`get_notify_fd`](crate::ScmpFilterContext::get_notify_fd) fails until a filter with a
/// Notify action is loaded again).
///
/// After `fork()` the child shares nothing with the parent but the inherited descriptors,
/// so calling this is rarely needed; it exists for libseccomp compatibility
/// (`seccomp_reset(NULL, 0)`).
///
/// # Errors
///
/// None; the `Result` is kept for compatibility.
///
/// # Examples
///
/// ```
/// # use pure_seccomp::*;
/// reset_global_state()?;
/// assert!((1..=7).contains(&get_api()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn reset_global_state() -> Result<()> {
    state::reset();
    Ok(())
}

/// The name of syscall number `syscall` on `arch`.
///
/// # Errors
///
/// If `syscall` names no syscall on `arch`.
///
/// # Examples
///
/// ```
/// # use pure_seccomp::*;
/// # #[allow(deprecated)]
/// assert!(get_syscall_name_from_arch(ScmpArch::Aarch64, -1000).is_err());
/// ```
#[deprecated(since = "0.2.3", note = "Use ScmpSyscall::get_name_by_arch instead.")]
pub fn get_syscall_name_from_arch(arch: ScmpArch, syscall: i32) -> Result<String> {
    // Same lookup as `ScmpSyscall::from(syscall).get_name_by_arch(arch)`.
    arch.resolve()
        .and_then(|a| crate::syscall::resolve_num(a, syscall))
        .map(str::to_string)
        .ok_or_else(|| {
            SeccompError::with_msg(format!(
                "Could not resolve syscall number {syscall} on {arch}"
            ))
        })
}

/// The number of syscall `name` on `arch` (`None`: the native architecture).
///
/// # Errors
///
/// If `name` names no syscall on that architecture.
///
/// # Examples
///
/// ```
/// # use pure_seccomp::*;
/// # #[allow(deprecated)]
/// assert!(get_syscall_from_name("no_such_syscall", None).is_err());
/// ```
#[deprecated(since = "0.2.3", note = "Use ScmpSyscall::from_name* instead.")]
pub fn get_syscall_from_name(name: &str, arch: Option<ScmpArch>) -> Result<i32> {
    ScmpSyscall::from_name_by_arch(name, arch.unwrap_or(ScmpArch::Native))
        .map(ScmpSyscall::as_raw_syscall)
}

/// Deprecated alias of [`ScmpVersion::current`].
///
/// # Errors
///
/// None; the `Result` is kept for compatibility.
///
/// # Examples
///
/// ```
/// # use pure_seccomp::*;
/// # #[allow(deprecated)]
/// assert_eq!(get_library_version()?, ScmpVersion::current()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[deprecated(since = "0.2.0", note = "Use ScmpVersion::current().")]
pub fn get_library_version() -> Result<ScmpVersion> {
    ScmpVersion::current()
}
