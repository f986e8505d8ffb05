//! Syscalls by name and number. (SKELETON: replaced by the foundation work.)

use crate::arch::ScmpArch;
use crate::error::{Result, SeccompError};

/// A raw syscall number.
pub type RawSyscall = libc::c_int;

/// A syscall number as libseccomp's API takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScmpSyscall {
    nr: i32,
}

impl ScmpSyscall {
    /// Resolves a name on the native architecture.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::from_name_by_arch(name, ScmpArch::Native)
    }
    /// Resolves a name on `arch`.
    pub fn from_name_by_arch(name: &str, arch: ScmpArch) -> Result<Self> {
        let a = arch
            .resolve()
            .ok_or_else(|| SeccompError::with_msg("no arch"))?;
        resolve_name(a, name)
            .map(|nr| Self { nr })
            .ok_or_else(|| SeccompError::with_msg(format!("Could not resolve syscall name {name}")))
    }
    /// The raw number.
    pub fn as_raw_syscall(self) -> RawSyscall {
        self.nr
    }
    /// From a raw number.
    pub fn from_raw_syscall(raw: RawSyscall) -> Self {
        Self { nr: raw }
    }
}

impl From<RawSyscall> for ScmpSyscall {
    fn from(nr: RawSyscall) -> Self {
        Self { nr }
    }
}

/// `from_name_by_arch` semantics on a concrete arch (munged pseudo numbers, `__PNR_*`).
pub(crate) fn resolve_name(_arch: ScmpArch, _name: &str) -> Option<i32> {
    None
}
/// `from_name_by_arch_rewrite` semantics.
pub(crate) fn resolve_name_rewrite(_arch: ScmpArch, _name: &str) -> Option<i32> {
    None
}
/// `get_name_by_arch` semantics (pseudo numbers resolve too).
pub(crate) fn resolve_num(_arch: ScmpArch, _nr: i32) -> Option<&'static str> {
    None
}
/// The kernel's own number for `name` on `arch`, ignoring socketcall/ipc munging.
pub(crate) fn direct_num(_arch: ScmpArch, _name: &str) -> Option<i32> {
    None
}
