//! libseccomp's C API, as the `libseccomp-sys` crate 0.3.0 declares it, implemented in Rust
//! over pure-seccomp: no C library is linked.
//!
//! Every type, constant and function of `libseccomp-sys` 0.3.0 is here with the same name and
//! type, and the functions follow libseccomp's conventions: a negative errno on failure,
//! `NULL` where a pointer is returned. A [`scmp_filter_ctx`] is the address of a
//! [`pure_seccomp::ScmpFilterContext`]: [`seccomp_init`] boxes one, and the compatibility crate
//! `libseccomp`'s `ScmpFilterContext::as_ptr()` lends one (read-only, see below).
//!
//! The functions are `#[no_mangle] extern "C"`, so that the same code is the C library
//! `libseccomp.so.2` (crate `compat/libseccomp-c`).
//!
//! # Differences from the C library
//!
//! * A pointer from `as_ptr()` may be passed to the functions that take a
//!   [`const_scmp_filter_ctx`] (load, export, attribute reads, ...). The functions that change
//!   or release a filter ([`seccomp_rule_add`], [`seccomp_release`], ...) accept only contexts
//!   made by [`seccomp_init`] and return `-EINVAL` (or do nothing, for the `void` ones) for
//!   any other pointer: a borrowed Rust value cannot be changed behind its owner's back.
//! * [`seccomp_rule_add`] and [`seccomp_rule_add_exact`] are C variadic functions, which stable
//!   Rust can declare but not define. They are defined as functions of six
//!   [`scmp_arg_cmp`]-sized parameters after `arg_cnt`, of which only the first `arg_cnt`
//!   are read; on the targets where that is available (x86_64, x86, aarch64, riscv64) this
//!   is the same calling convention as the variadic call. Elsewhere use the `_array` forms.
//!
//! # Panics
//!
//! No function unwinds into its caller: a panic inside is caught at the boundary and
//! reported as `-EFAULT` (`NULL`, `0` or nothing for the functions without an `int` result).
#![allow(non_camel_case_types)]
#![allow(non_snake_case)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

use std::os::raw::{c_int, c_uint, c_void};

mod imp;

pub use imp::*;

/// `seccomp(2)` is not in use.
pub const SECCOMP_MODE_DISABLED: u64 = 0;
/// Strict mode (`read`, `write`, `_exit`, `sigreturn` only).
pub const SECCOMP_MODE_STRICT: u64 = 1;
/// Filter mode.
pub const SECCOMP_MODE_FILTER: u64 = 2;

/// `seccomp(2)` operation: strict mode.
pub const SECCOMP_SET_MODE_STRICT: u32 = 0;
/// `seccomp(2)` operation: install a filter.
pub const SECCOMP_SET_MODE_FILTER: u32 = 1;
/// `seccomp(2)` operation: is an action available.
pub const SECCOMP_GET_ACTION_AVAIL: u32 = 2;
/// `seccomp(2)` operation: sizes of the notification structures.
pub const SECCOMP_GET_NOTIF_SIZES: u32 = 3;

/// Filter flag: synchronise all threads.
pub const SECCOMP_FILTER_FLAG_TSYNC: u32 = 1;
/// Filter flag: log all actions but allow.
pub const SECCOMP_FILTER_FLAG_LOG: u32 = 2;
/// Filter flag: disable speculative store bypass mitigation.
pub const SECCOMP_FILTER_FLAG_SPEC_ALLOW: u32 = 4;
/// Filter flag: return a user-notification listener.
pub const SECCOMP_FILTER_FLAG_NEW_LISTENER: u32 = 8;
/// Filter flag: report TSYNC failures as `ESRCH`.
pub const SECCOMP_FILTER_FLAG_TSYNC_ESRCH: u32 = 16;

/// The filter return values and masks (`SECCOMP_RET_*`), the core's own.
pub use pure_seccomp::bpf::{
    SECCOMP_RET_ACTION, SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW, SECCOMP_RET_DATA,
    SECCOMP_RET_ERRNO, SECCOMP_RET_KILL, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD,
    SECCOMP_RET_LOG, SECCOMP_RET_TRACE, SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF,
};

/// The syscall a filter sees (`struct seccomp_data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct seccomp_data {
    /// Syscall number.
    pub nr: c_int,
    /// `AUDIT_ARCH_*` of the calling ABI.
    pub arch: u32,
    /// Address of the syscall instruction.
    pub instruction_pointer: u64,
    /// The six arguments.
    pub args: [u64; 6],
}

/// Sizes of the notification structures the kernel uses (`SECCOMP_GET_NOTIF_SIZES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct seccomp_notif_sizes {
    /// Size of `struct seccomp_notif`.
    pub seccomp_notif: u16,
    /// Size of `struct seccomp_notif_resp`.
    pub seccomp_notif_resp: u16,
    /// Size of `struct seccomp_data`.
    pub seccomp_data: u16,
}

/// A user notification (`struct seccomp_notif`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct seccomp_notif {
    /// Notification id.
    pub id: u64,
    /// Thread id of the caller.
    pub pid: u32,
    /// Flags (none defined).
    pub flags: u32,
    /// The syscall.
    pub data: seccomp_data,
}

/// Response flag: let the kernel run the syscall (mind the TOCTOU caveat in
/// `linux/seccomp.h`: a notifier cannot implement a security policy).
pub const SECCOMP_USER_NOTIF_FLAG_CONTINUE: u32 = 1;

/// A response to a user notification (`struct seccomp_notif_resp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct seccomp_notif_resp {
    /// Notification id.
    pub id: u64,
    /// Return value.
    pub val: i64,
    /// Negative errno, or 0.
    pub error: i32,
    /// `SECCOMP_USER_NOTIF_FLAG_*`.
    pub flags: u32,
}

/// `SECCOMP_IOCTL_NOTIF_ADDFD` flag: install at `newfd`.
pub const SECCOMP_ADDFD_FLAG_SETFD: u32 = 1;
/// `SECCOMP_IOCTL_NOTIF_ADDFD` flag: install and answer with the new fd.
pub const SECCOMP_ADDFD_FLAG_SEND: u32 = 2;

/// Argument of `SECCOMP_IOCTL_NOTIF_ADDFD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct seccomp_notif_addfd {
    /// Notification id.
    pub id: u64,
    /// `SECCOMP_ADDFD_FLAG_*`.
    pub flags: u32,
    /// The supervisor's fd to copy.
    pub srcfd: u32,
    /// The fd number in the target (with `SETFD`).
    pub newfd: u32,
    /// `O_CLOEXEC` or 0.
    pub newfd_flags: u32,
}

/// Library version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct scmp_version {
    /// Major version.
    pub major: c_uint,
    /// Minor version.
    pub minor: c_uint,
    /// Micro version.
    pub micro: c_uint,
}

/// A filter context (the address of a `pure_seccomp::ScmpFilterContext`).
pub type scmp_filter_ctx = *mut c_void;
/// A filter context, read-only.
pub type const_scmp_filter_ctx = *const c_void;

/// Filter attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub enum scmp_filter_attr {
    /// Sentinel.
    _SCMP_FLTATR_MIN = 0,
    /// Default action.
    SCMP_FLTATR_ACT_DEFAULT = 1,
    /// Action for a foreign architecture.
    SCMP_FLTATR_ACT_BADARCH = 2,
    /// Set `NO_NEW_PRIVS` when loading.
    SCMP_FLTATR_CTL_NNP = 3,
    /// Synchronise threads when loading.
    SCMP_FLTATR_CTL_TSYNC = 4,
    /// Allow rules on syscall -1.
    SCMP_FLTATR_API_TSKIP = 5,
    /// Log all actions but allow.
    SCMP_FLTATR_CTL_LOG = 6,
    /// Disable the SSB mitigation.
    SCMP_FLTATR_CTL_SSB = 7,
    /// Optimization level (1: priority-ordered, 2: binary tree).
    SCMP_FLTATR_CTL_OPTIMIZE = 8,
    /// Return the system's errno instead of `-ECANCELED`.
    SCMP_FLTATR_API_SYSRAWRC = 9,
    /// Wait killably for notification answers.
    SCMP_FLTATR_CTL_WAITKILL = 10,
    /// Sentinel.
    _SCMP_FLTATR_MAX,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub enum scmp_compare {
    /// Sentinel.
    _SCMP_CMP_MIN = 0,
    /// `!=`
    SCMP_CMP_NE = 1,
    /// `<`
    SCMP_CMP_LT = 2,
    /// `<=`
    SCMP_CMP_LE = 3,
    /// `==`
    SCMP_CMP_EQ = 4,
    /// `>=`
    SCMP_CMP_GE = 5,
    /// `>`
    SCMP_CMP_GT = 6,
    /// `(arg & datum_a) == datum_b`
    SCMP_CMP_MASKED_EQ = 7,
    /// Sentinel.
    _SCMP_CMP_MAX,
}

/// An argument value.
pub type scmp_datum_t = u64;

/// One condition on a syscall argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct scmp_arg_cmp {
    /// Argument index, 0 to 5.
    pub arg: c_uint,
    /// The operator.
    pub op: scmp_compare,
    /// The value compared with (the mask for `SCMP_CMP_MASKED_EQ`).
    pub datum_a: scmp_datum_t,
    /// The value for `SCMP_CMP_MASKED_EQ`.
    pub datum_b: scmp_datum_t,
}

/// The native architecture.
pub const SCMP_ARCH_NATIVE: u32 = 0x0;
/// x86 (32-bit).
pub const SCMP_ARCH_X86: u32 = 0x4000_0003;
/// x86_64.
pub const SCMP_ARCH_X86_64: u32 = 0xc000_003e;
/// x32 (libseccomp's token, not the kernel's `AUDIT_ARCH`, which x32 shares with x86_64).
pub const SCMP_ARCH_X32: u32 = 0x4000_003e;
/// 32-bit ARM.
pub const SCMP_ARCH_ARM: u32 = 0x4000_0028;
/// AArch64.
pub const SCMP_ARCH_AARCH64: u32 = 0xc000_00b7;
/// LoongArch64.
pub const SCMP_ARCH_LOONGARCH64: u32 = 0xc000_0102;
/// m68k.
pub const SCMP_ARCH_M68K: u32 = 0x4;
/// MIPS o32, big endian.
pub const SCMP_ARCH_MIPS: u32 = 0x8;
/// MIPS n64, big endian.
pub const SCMP_ARCH_MIPS64: u32 = 0x8000_0008;
/// MIPS n32, big endian.
pub const SCMP_ARCH_MIPS64N32: u32 = 0xa000_0008;
/// MIPS o32, little endian.
pub const SCMP_ARCH_MIPSEL: u32 = 0x4000_0008;
/// MIPS n64, little endian.
pub const SCMP_ARCH_MIPSEL64: u32 = 0xc000_0008;
/// MIPS n32, little endian.
pub const SCMP_ARCH_MIPSEL64N32: u32 = 0xe000_0008;
/// PowerPC.
pub const SCMP_ARCH_PPC: u32 = 0x14;
/// PowerPC64, big endian.
pub const SCMP_ARCH_PPC64: u32 = 0x8000_0015;
/// PowerPC64, little endian.
pub const SCMP_ARCH_PPC64LE: u32 = 0xc000_0015;
/// s390.
pub const SCMP_ARCH_S390: u32 = 0x16;
/// s390x.
pub const SCMP_ARCH_S390X: u32 = 0x8000_0016;
/// PA-RISC.
pub const SCMP_ARCH_PARISC: u32 = 0xf;
/// PA-RISC 64.
pub const SCMP_ARCH_PARISC64: u32 = 0x8000_000f;
/// RISC-V 64.
pub const SCMP_ARCH_RISCV64: u32 = 0xc000_00f3;
/// SuperH, big endian.
pub const SCMP_ARCH_SHEB: u32 = 0x2a;
/// SuperH, little endian.
pub const SCMP_ARCH_SH: u32 = 0x4000_002a;

/// Mask of an action's action bits.
pub const SCMP_ACT_MASK: u32 = SECCOMP_RET_ACTION_FULL;
/// Kill the process.
pub const SCMP_ACT_KILL_PROCESS: u32 = 0x8000_0000;
/// Kill the thread.
pub const SCMP_ACT_KILL_THREAD: u32 = 0x0000_0000;
/// Kill the thread (old name).
pub const SCMP_ACT_KILL: u32 = SCMP_ACT_KILL_THREAD;
/// Raise `SIGSYS`.
pub const SCMP_ACT_TRAP: u32 = 0x0003_0000;
/// Ask the user-notification listener.
pub const SCMP_ACT_NOTIFY: u32 = 0x7fc0_0000;
/// Action bits of [`SCMP_ACT_ERRNO`].
pub const SCMP_ACT_ERRNO_MASK: u32 = 0x0005_0000;
/// Fail the syscall with errno `x`.
#[must_use]
pub const fn SCMP_ACT_ERRNO(x: u16) -> u32 {
    SCMP_ACT_ERRNO_MASK | x as u32
}
/// Action bits of [`SCMP_ACT_TRACE`].
pub const SCMP_ACT_TRACE_MASK: u32 = 0x7ff0_0000;
/// Notify the tracer with message `x`.
#[must_use]
pub const fn SCMP_ACT_TRACE(x: u16) -> u32 {
    SCMP_ACT_TRACE_MASK | x as u32
}
/// Allow and log.
pub const SCMP_ACT_LOG: u32 = 0x7ffc_0000;
/// Allow.
pub const SCMP_ACT_ALLOW: u32 = 0x7fff_0000;

/// The syscall number of a failed resolution.
pub const __NR_SCMP_ERROR: c_int = -1;
/// An undefined syscall number.
pub const __NR_SCMP_UNDEF: c_int = -2;

// The four functions whose libseccomp-sys signature cannot be a sound Rust definition for C
// callers: two are C variadics, two take a C enum that a C caller may fill with any int.
// They are declared here with libseccomp-sys's signatures (what Rust callers see) and defined
// in `imp` under their symbol names with C-safe parameter types.
extern "C" {
    /// Adds a rule for `syscall` with `arg_cnt` [`scmp_arg_cmp`] conditions passed after
    /// `arg_cnt`; syscall numbers are translated for the filter's other architectures.
    /// Returns 0, or a negative errno.
    ///
    /// # Safety
    ///
    /// `ctx` comes from [`seccomp_init`]; exactly `arg_cnt` (at most 6) [`scmp_arg_cmp`]
    /// values follow `arg_cnt`.
    pub fn seccomp_rule_add(
        ctx: scmp_filter_ctx,
        action: u32,
        syscall: c_int,
        arg_cnt: c_uint,
        ...
    ) -> c_int;

    /// Like [`seccomp_rule_add`], but fails where the rule cannot be applied as given on an
    /// architecture (no translation of multiplexed calls).
    ///
    /// # Safety
    ///
    /// As [`seccomp_rule_add`].
    pub fn seccomp_rule_add_exact(
        ctx: scmp_filter_ctx,
        action: u32,
        syscall: c_int,
        arg_cnt: c_uint,
        ...
    ) -> c_int;

    /// Reads attribute `attr` into `*value`. Returns 0, or a negative errno.
    ///
    /// # Safety
    ///
    /// `ctx` is a valid context (or NULL); `value` is valid for a write (or NULL).
    pub fn seccomp_attr_get(
        ctx: const_scmp_filter_ctx,
        attr: scmp_filter_attr,
        value: *mut u32,
    ) -> c_int;

    /// Sets attribute `attr`. Returns 0, or a negative errno.
    ///
    /// # Safety
    ///
    /// `ctx` comes from [`seccomp_init`] (or is NULL).
    pub fn seccomp_attr_set(ctx: scmp_filter_ctx, attr: scmp_filter_attr, value: u32) -> c_int;
}

#[cfg(test)]
mod tests;
