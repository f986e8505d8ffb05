//! The `extern "C"` definitions: each converts its C arguments, calls pure-seccomp's safe API
//! and converts the result back to libseccomp's conventions.

use crate::{
    const_scmp_filter_ctx, scmp_filter_ctx, scmp_version, seccomp_notif, seccomp_notif_resp,
    seccomp_notif_sizes, __NR_SCMP_ERROR, SCMP_ACT_ALLOW, SCMP_ACT_ERRNO_MASK,
    SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_LOG, SCMP_ACT_NOTIFY,
    SCMP_ACT_TRACE_MASK, SCMP_ACT_TRAP, SECCOMP_GET_NOTIF_SIZES,
};
use pure_seccomp::error::SeccompError;
use pure_seccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterAttr, ScmpFilterContext,
    ScmpNotifReq, ScmpNotifResp, ScmpSyscall, ScmpVersion,
};
use std::collections::BTreeSet;
use std::ffi::CStr;
use std::os::fd::BorrowedFd;
use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard, OnceLock};

const EINVAL: c_int = -libc::EINVAL;
const EFAULT: c_int = -libc::EFAULT;
const EEXIST: c_int = -libc::EEXIST;
const ECANCELED: c_int = -libc::ECANCELED;

/// The contexts made by `seccomp_init` and not yet released or merged away, by address. Only
/// these may be changed or released: any other pointer (one from `as_ptr()`) is a borrowed
/// Rust value.
static OWNED: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

fn owned() -> MutexGuard<'static, BTreeSet<usize>> {
    // The set stays consistent even if a holder panicked: every update is one insert/remove.
    OWNED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f`, turning a panic into `on_panic` so that no unwind crosses the C boundary.
fn guard<R>(on_panic: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(on_panic)
}

/// The C return code of an error: its errno kind or raw code, `-ECANCELED` for a failed
/// system call (the raw `-errno` when the filter's `api_sysrawrc` is set), else `-EFAULT`.
fn rc_of(e: &SeccompError, sysrawrc: bool) -> c_int {
    if let Some(rc) = e.sysrawrc() {
        return rc;
    }
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return match io.raw_os_error() {
                Some(errno) if sysrawrc => -errno,
                _ => ECANCELED,
            };
        }
        src = s.source();
    }
    EFAULT
}

fn cvt<T>(r: Result<T, SeccompError>) -> c_int {
    match r {
        Ok(_) => 0,
        Err(e) => rc_of(&e, false),
    }
}

/// # Safety
///
/// `ctx` is NULL or points to a live `ScmpFilterContext`.
unsafe fn ctx_ref<'a>(ctx: const_scmp_filter_ctx) -> Option<&'a ScmpFilterContext> {
    // SAFETY: the caller's contract.
    unsafe { ctx.cast::<ScmpFilterContext>().as_ref() }
}

/// The context behind `ctx` for a change: only one made by `seccomp_init` (owned here).
///
/// # Safety
///
/// No other reference to that context is in use during `'a`.
unsafe fn ctx_mut<'a>(ctx: scmp_filter_ctx) -> Option<&'a mut ScmpFilterContext> {
    if ctx.is_null() || !owned().contains(&(ctx as usize)) {
        return None;
    }
    // SAFETY: the address came from Box::into_raw in seccomp_init and was not released;
    // exclusivity is the caller's contract.
    Some(unsafe { &mut *ctx.cast::<ScmpFilterContext>() })
}

fn sysrawrc_of(ctx: &ScmpFilterContext) -> bool {
    matches!(ctx.get_filter_attr(ScmpFilterAttr::ApiSysRawRc), Ok(v) if v != 0)
}

/// An action value as libseccomp accepts it: ERRNO and TRACE carry 16 bits of data, the
/// others are exact.
fn action_of(raw: u32) -> Option<ScmpAction> {
    Some(match raw & 0xffff_0000 {
        SCMP_ACT_ERRNO_MASK => ScmpAction::Errno(i32::from(raw as u16)),
        SCMP_ACT_TRACE_MASK => ScmpAction::Trace(raw as u16),
        _ => match raw {
            SCMP_ACT_KILL_PROCESS => ScmpAction::KillProcess,
            SCMP_ACT_KILL_THREAD => ScmpAction::KillThread,
            SCMP_ACT_TRAP => ScmpAction::Trap,
            SCMP_ACT_NOTIFY => ScmpAction::Notify,
            SCMP_ACT_LOG => ScmpAction::Log,
            SCMP_ACT_ALLOW => ScmpAction::Allow,
            _ => return None,
        },
    })
}

/// `(token, pure-seccomp's SCMP_ARCH_* name, libseccomp's short name)`.
const ARCHES: [(u32, &str, &str); 23] = [
    (crate::SCMP_ARCH_X86, "SCMP_ARCH_X86", "x86"),
    (crate::SCMP_ARCH_X86_64, "SCMP_ARCH_X86_64", "x86_64"),
    (crate::SCMP_ARCH_X32, "SCMP_ARCH_X32", "x32"),
    (crate::SCMP_ARCH_ARM, "SCMP_ARCH_ARM", "arm"),
    (crate::SCMP_ARCH_AARCH64, "SCMP_ARCH_AARCH64", "aarch64"),
    (
        crate::SCMP_ARCH_LOONGARCH64,
        "SCMP_ARCH_LOONGARCH64",
        "loongarch64",
    ),
    (crate::SCMP_ARCH_M68K, "SCMP_ARCH_M68K", "m68k"),
    (crate::SCMP_ARCH_MIPS, "SCMP_ARCH_MIPS", "mips"),
    (crate::SCMP_ARCH_MIPS64, "SCMP_ARCH_MIPS64", "mips64"),
    (
        crate::SCMP_ARCH_MIPS64N32,
        "SCMP_ARCH_MIPS64N32",
        "mips64n32",
    ),
    (crate::SCMP_ARCH_MIPSEL, "SCMP_ARCH_MIPSEL", "mipsel"),
    (crate::SCMP_ARCH_MIPSEL64, "SCMP_ARCH_MIPSEL64", "mipsel64"),
    (
        crate::SCMP_ARCH_MIPSEL64N32,
        "SCMP_ARCH_MIPSEL64N32",
        "mipsel64n32",
    ),
    (crate::SCMP_ARCH_PPC, "SCMP_ARCH_PPC", "ppc"),
    (crate::SCMP_ARCH_PPC64, "SCMP_ARCH_PPC64", "ppc64"),
    (crate::SCMP_ARCH_PPC64LE, "SCMP_ARCH_PPC64LE", "ppc64le"),
    (crate::SCMP_ARCH_S390, "SCMP_ARCH_S390", "s390"),
    (crate::SCMP_ARCH_S390X, "SCMP_ARCH_S390X", "s390x"),
    (crate::SCMP_ARCH_PARISC, "SCMP_ARCH_PARISC", "parisc"),
    (crate::SCMP_ARCH_PARISC64, "SCMP_ARCH_PARISC64", "parisc64"),
    (crate::SCMP_ARCH_RISCV64, "SCMP_ARCH_RISCV64", "riscv64"),
    (crate::SCMP_ARCH_SHEB, "SCMP_ARCH_SHEB", "sheb"),
    (crate::SCMP_ARCH_SH, "SCMP_ARCH_SH", "sh"),
];

fn arch_of(token: u32) -> Option<ScmpArch> {
    if token == crate::SCMP_ARCH_NATIVE {
        return Some(ScmpArch::Native);
    }
    let (_, name, _) = ARCHES.iter().find(|a| a.0 == token)?;
    name.parse().ok()
}

fn token_of(arch: ScmpArch) -> u32 {
    let arch = if arch == ScmpArch::Native {
        ScmpArch::native()
    } else {
        arch
    };
    let name = arch.to_string();
    ARCHES
        .iter()
        .find(|a| a.1 == name)
        .map_or(crate::SCMP_ARCH_NATIVE, |a| a.0)
}

fn attr_of(raw: c_uint) -> Option<ScmpFilterAttr> {
    Some(match raw {
        1 => ScmpFilterAttr::ActDefault,
        2 => ScmpFilterAttr::ActBadArch,
        3 => ScmpFilterAttr::CtlNnp,
        4 => ScmpFilterAttr::CtlTsync,
        5 => ScmpFilterAttr::ApiTskip,
        6 => ScmpFilterAttr::CtlLog,
        7 => ScmpFilterAttr::CtlSsb,
        8 => ScmpFilterAttr::CtlOptimize,
        9 => ScmpFilterAttr::ApiSysRawRc,
        10 => ScmpFilterAttr::CtlWaitkill,
        _ => return None,
    })
}

/// `struct scmp_arg_cmp` with the operator as a plain integer: a C caller may put anything
/// there, which would be undefined behaviour in the `scmp_compare` enum.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RawArgCmp {
    arg: c_uint,
    op: c_uint,
    datum_a: u64,
    datum_b: u64,
}

const _: () =
    assert!(std::mem::size_of::<RawArgCmp>() == std::mem::size_of::<crate::scmp_arg_cmp>());

fn arg_cmp(r: &RawArgCmp) -> Option<ScmpArgCompare> {
    let (op, datum) = match r.op {
        1 => (ScmpCompareOp::NotEqual, r.datum_a),
        2 => (ScmpCompareOp::Less, r.datum_a),
        3 => (ScmpCompareOp::LessOrEqual, r.datum_a),
        4 => (ScmpCompareOp::Equal, r.datum_a),
        5 => (ScmpCompareOp::GreaterEqual, r.datum_a),
        6 => (ScmpCompareOp::Greater, r.datum_a),
        7 => (ScmpCompareOp::MaskedEqual(r.datum_a), r.datum_b),
        _ => return None,
    };
    Some(ScmpArgCompare::new(r.arg, op, datum))
}

/// Largest argument count libseccomp accepts (`ARG_COUNT_MAX`).
const ARG_COUNT_MAX: usize = 6;

/// # Safety
///
/// As `ctx_mut`.
unsafe fn rule_add(
    ctx: scmp_filter_ctx,
    action: u32,
    syscall: c_int,
    args: &[RawArgCmp],
    exact: bool,
) -> c_int {
    // SAFETY: the caller's contract.
    let Some(ctx) = (unsafe { ctx_mut(ctx) }) else {
        return EINVAL;
    };
    let Some(action) = action_of(action) else {
        return EINVAL;
    };
    let Some(cmps) = args.iter().map(arg_cmp).collect::<Option<Vec<_>>>() else {
        return EINVAL;
    };
    let syscall = ScmpSyscall::from_raw_syscall(syscall);
    cvt(if exact {
        ctx.add_rule_conditional_exact(action, syscall, &cmps)
    } else {
        ctx.add_rule_conditional(action, syscall, &cmps)
    })
}

/// # Safety
///
/// `arg_array` points to `arg_cnt` readable structs when `arg_cnt` is in 1..=6.
unsafe fn rule_add_array(
    ctx: scmp_filter_ctx,
    action: u32,
    syscall: c_int,
    arg_cnt: c_uint,
    arg_array: *const crate::scmp_arg_cmp,
    exact: bool,
) -> c_int {
    let n = arg_cnt as usize;
    if n > ARG_COUNT_MAX || (n > 0 && arg_array.is_null()) {
        return EINVAL;
    }
    let args: &[RawArgCmp] = if n == 0 {
        &[]
    } else {
        // SAFETY: `n` structs are readable (the caller's contract); RawArgCmp has the same
        // layout as scmp_arg_cmp with no invalid bit patterns.
        unsafe { std::slice::from_raw_parts(arg_array.cast::<RawArgCmp>(), n) }
    };
    // SAFETY: the caller's contract.
    guard(EFAULT, || unsafe {
        rule_add(ctx, action, syscall, args, exact)
    })
}

/// Returns the library version (that of libseccomp whose behaviour is implemented, 2.6.0).
/// The structure is static: do not free it.
///
/// # Safety
///
/// None: this function is always safe to call (it is `unsafe` for libseccomp-sys's API).
#[no_mangle]
pub unsafe extern "C" fn seccomp_version() -> *const scmp_version {
    static VERSION: OnceLock<scmp_version> = OnceLock::new();
    VERSION.get_or_init(|| {
        let v = ScmpVersion::current().unwrap_or(ScmpVersion::from((2, 6, 0)));
        scmp_version {
            major: v.major,
            minor: v.minor,
            micro: v.micro,
        }
    })
}

/// Returns the API level supported by the running kernel (probed once, see
/// `pure_seccomp::get_api`).
///
/// # Safety
///
/// None: always safe to call.
#[no_mangle]
pub unsafe extern "C" fn seccomp_api_get() -> c_uint {
    guard(0, pure_seccomp::get_api)
}

/// Forces the API level. Returns 0, or `-EINVAL` for an unknown level.
///
/// # Safety
///
/// None: always safe to call.
#[no_mangle]
pub unsafe extern "C" fn seccomp_api_set(level: c_uint) -> c_int {
    guard(EFAULT, || cvt(pure_seccomp::set_api(level)))
}

/// Creates a filter with default action `def_action` for the native architecture. Returns
/// NULL for an invalid action. Release it with [`seccomp_release`].
///
/// # Safety
///
/// None: always safe to call.
#[no_mangle]
pub unsafe extern "C" fn seccomp_init(def_action: u32) -> scmp_filter_ctx {
    guard(std::ptr::null_mut(), || {
        let Some(action) = action_of(def_action) else {
            return std::ptr::null_mut();
        };
        match ScmpFilterContext::new(action) {
            Ok(ctx) => {
                let p = Box::into_raw(Box::new(ctx));
                owned().insert(p as usize);
                p.cast()
            }
            Err(_) => std::ptr::null_mut(),
        }
    })
}

/// Resets `ctx` to an empty filter with default action `def_action`; with a NULL `ctx`,
/// resets the library's global state (API level, notification fd). Returns 0, or a negative
/// errno.
///
/// # Safety
///
/// `ctx` is NULL or a context from [`seccomp_init`] not in use elsewhere.
#[no_mangle]
pub unsafe extern "C" fn seccomp_reset(ctx: scmp_filter_ctx, def_action: u32) -> c_int {
    guard(EFAULT, || {
        if ctx.is_null() {
            return cvt(pure_seccomp::reset_global_state());
        }
        // SAFETY: the caller's contract.
        let Some(ctx) = (unsafe { ctx_mut(ctx) }) else {
            return EINVAL;
        };
        let Some(action) = action_of(def_action) else {
            return EINVAL;
        };
        cvt(ctx.reset(action))
    })
}

/// Releases a context from [`seccomp_init`]. NULL and pointers this library did not make
/// (such as `as_ptr()`'s) are ignored.
///
/// # Safety
///
/// `ctx` is not used after this call.
#[no_mangle]
pub unsafe extern "C" fn seccomp_release(ctx: scmp_filter_ctx) {
    guard((), || {
        if !ctx.is_null() && owned().remove(&(ctx as usize)) {
            // SAFETY: the address came from Box::into_raw in seccomp_init and was removed
            // from the set, so it is released once.
            drop(unsafe { Box::from_raw(ctx.cast::<ScmpFilterContext>()) });
        }
    });
}

fn archs_of(ctx: &ScmpFilterContext) -> Vec<ScmpArch> {
    ScmpArch::all()
        .filter(|&a| ctx.is_arch_present(a).unwrap_or(false))
        .collect()
}

/// Moves the architectures and rules of `ctx_src` into `ctx_dst` and releases `ctx_src`.
/// On failure both are left as they were. Returns 0, `-EINVAL` (attributes differ, or a
/// filter has no architecture), `-EDOM` (byte orders differ) or `-EEXIST` (a shared
/// architecture).
///
/// # Safety
///
/// Both are distinct contexts from [`seccomp_init`], not in use elsewhere.
#[no_mangle]
pub unsafe extern "C" fn seccomp_merge(
    ctx_dst: scmp_filter_ctx,
    ctx_src: scmp_filter_ctx,
) -> c_int {
    guard(EFAULT, || {
        if ctx_dst == ctx_src {
            return EINVAL;
        }
        // SAFETY: the caller's contract; the two are distinct.
        let (Some(dst), Some(src)) = (unsafe { ctx_mut(ctx_dst) }, unsafe { ctx_mut(ctx_src) })
        else {
            return EINVAL;
        };
        // The checks of pure-seccomp's merge, made first so that a failure leaves `src`
        // alive (the caller still owns it then).
        let (da, sa) = (archs_of(dst), archs_of(src));
        if da.is_empty() || sa.is_empty() {
            return EINVAL;
        }
        for attr in [
            ScmpFilterAttr::ActDefault,
            ScmpFilterAttr::CtlNnp,
            ScmpFilterAttr::CtlTsync,
        ] {
            if dst.get_filter_attr(attr).ok() != src.get_filter_attr(attr).ok() {
                return EINVAL;
            }
        }
        if dst.byte_order() != src.byte_order() {
            return -libc::EDOM;
        }
        if sa.iter().any(|a| da.contains(a)) {
            return EEXIST;
        }
        owned().remove(&(ctx_src as usize));
        // SAFETY: from Box::into_raw in seccomp_init, now removed from the set: moved once.
        let src = unsafe { Box::from_raw(ctx_src.cast::<ScmpFilterContext>()) };
        cvt(dst.merge(*src))
    })
}

/// The token of architecture `arch_name` (libseccomp's names: `"x86_64"`, `"aarch64"`, ...),
/// 0 if there is none.
///
/// # Safety
///
/// `arch_name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn seccomp_arch_resolve_name(arch_name: *const c_char) -> u32 {
    if arch_name.is_null() {
        return 0;
    }
    // SAFETY: the caller's contract.
    let name = unsafe { CStr::from_ptr(arch_name) };
    ARCHES
        .iter()
        .find(|a| a.2.as_bytes() == name.to_bytes())
        .map_or(0, |a| a.0)
}

/// The native architecture's token.
///
/// # Safety
///
/// None: always safe to call.
#[no_mangle]
pub unsafe extern "C" fn seccomp_arch_native() -> u32 {
    guard(0, || token_of(ScmpArch::native()))
}

/// 0 if `ctx` covers `arch_token`, `-EEXIST` if not, `-EINVAL` for an invalid token.
///
/// # Safety
///
/// `ctx` is NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn seccomp_arch_exist(ctx: const_scmp_filter_ctx, arch_token: u32) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let (Some(ctx), Some(arch)) = (unsafe { ctx_ref(ctx) }, arch_of(arch_token)) else {
            return EINVAL;
        };
        match ctx.is_arch_present(arch) {
            Ok(true) => 0,
            Ok(false) => EEXIST,
            Err(e) => rc_of(&e, false),
        }
    })
}

/// Adds an architecture. Returns 0, `-EEXIST` if it is present, `-EDOM` for the other byte
/// order, `-EINVAL` for an invalid token.
///
/// # Safety
///
/// `ctx` is NULL or a context from [`seccomp_init`] not in use elsewhere.
#[no_mangle]
pub unsafe extern "C" fn seccomp_arch_add(ctx: scmp_filter_ctx, arch_token: u32) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let (Some(ctx), Some(arch)) = (unsafe { ctx_mut(ctx) }, arch_of(arch_token)) else {
            return EINVAL;
        };
        match ctx.is_arch_present(arch) {
            Ok(true) => EEXIST,
            Ok(false) => cvt(ctx.add_arch(arch)),
            Err(e) => rc_of(&e, false),
        }
    })
}

/// Removes an architecture. Returns 0, `-EEXIST` if it is absent, `-EINVAL` for an invalid
/// token.
///
/// # Safety
///
/// `ctx` is NULL or a context from [`seccomp_init`] not in use elsewhere.
#[no_mangle]
pub unsafe extern "C" fn seccomp_arch_remove(ctx: scmp_filter_ctx, arch_token: u32) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let (Some(ctx), Some(arch)) = (unsafe { ctx_mut(ctx) }, arch_of(arch_token)) else {
            return EINVAL;
        };
        match ctx.is_arch_present(arch) {
            Ok(false) => EEXIST,
            Ok(true) => cvt(ctx.remove_arch(arch)),
            Err(e) => rc_of(&e, false),
        }
    })
}

/// Compiles the filter and loads it into the kernel for the calling thread (or all threads,
/// with `SCMP_FLTATR_CTL_TSYNC`). Returns 0, or a negative errno (`-ECANCELED` for a kernel
/// refusal unless `SCMP_FLTATR_API_SYSRAWRC` is set).
///
/// # Safety
///
/// `ctx` is NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn seccomp_load(ctx: const_scmp_filter_ctx) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let Some(ctx) = (unsafe { ctx_ref(ctx) }) else {
            return EINVAL;
        };
        match ctx.load() {
            Ok(()) => 0,
            Err(e) => rc_of(&e, sysrawrc_of(ctx)),
        }
    })
}

/// The `seccomp_attr_get` symbol (declared with `scmp_filter_attr` in the crate root).
///
/// # Safety
///
/// `ctx` is NULL or a live context; `value` is NULL or valid for a write.
#[export_name = "seccomp_attr_get"]
pub(crate) unsafe extern "C" fn attr_get(
    ctx: const_scmp_filter_ctx,
    attr: c_uint,
    value: *mut u32,
) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let (Some(ctx), Some(attr)) = (unsafe { ctx_ref(ctx) }, attr_of(attr)) else {
            return EINVAL;
        };
        if value.is_null() {
            return EINVAL;
        }
        match ctx.get_filter_attr(attr) {
            Ok(v) => {
                // SAFETY: non-null and writable (the caller's contract).
                unsafe { value.write(v) };
                0
            }
            Err(e) => rc_of(&e, false),
        }
    })
}

/// The `seccomp_attr_set` symbol (declared with `scmp_filter_attr` in the crate root).
///
/// # Safety
///
/// `ctx` is NULL or a context from [`seccomp_init`] not in use elsewhere.
#[export_name = "seccomp_attr_set"]
pub(crate) unsafe extern "C" fn attr_set(ctx: scmp_filter_ctx, attr: c_uint, value: u32) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let (Some(ctx), Some(attr)) = (unsafe { ctx_mut(ctx) }, attr_of(attr)) else {
            return EINVAL;
        };
        cvt(ctx.set_filter_attr(attr, value))
    })
}

/// A `malloc`ed copy of `s`, NUL-terminated (NULL if it has a NUL byte or memory runs out).
fn c_strdup(s: &str) -> *const c_char {
    if s.as_bytes().contains(&0) {
        return std::ptr::null();
    }
    // SAFETY: `malloc` returns NULL or `s.len() + 1` writable bytes, which receive the string
    // and its NUL.
    unsafe {
        let p = libc::malloc(s.len() + 1).cast::<u8>();
        if !p.is_null() {
            std::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
            p.add(s.len()).write(0);
        }
        p.cast()
    }
}

/// The name of syscall `num` on architecture `arch_token`, in memory the caller frees with
/// `free()`; NULL if there is none.
///
/// # Safety
///
/// None: always safe to call.
#[no_mangle]
pub unsafe extern "C" fn seccomp_syscall_resolve_num_arch(
    arch_token: u32,
    num: c_int,
) -> *const c_char {
    guard(std::ptr::null(), || {
        let Some(arch) = arch_of(arch_token) else {
            return std::ptr::null();
        };
        match ScmpSyscall::from_raw_syscall(num).get_name_by_arch(arch) {
            Ok(name) => c_strdup(&name),
            Err(_) => std::ptr::null(),
        }
    })
}

/// # Safety
///
/// `name` is NULL or a NUL-terminated string.
unsafe fn resolve_name_with(
    arch_token: u32,
    name: *const c_char,
    f: fn(&str, ScmpArch) -> pure_seccomp::error::Result<ScmpSyscall>,
) -> c_int {
    if name.is_null() {
        return __NR_SCMP_ERROR;
    }
    // SAFETY: the caller's contract.
    let name = unsafe { CStr::from_ptr(name) };
    guard(__NR_SCMP_ERROR, || {
        let (Some(arch), Ok(name)) = (arch_of(arch_token), name.to_str()) else {
            return __NR_SCMP_ERROR;
        };
        f(name, arch).map_or(__NR_SCMP_ERROR, ScmpSyscall::as_raw_syscall)
    })
}

/// The number of syscall `name` on architecture `arch_token` (a negative pseudo number where
/// it lacks the syscall), or `__NR_SCMP_ERROR`.
///
/// # Safety
///
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn seccomp_syscall_resolve_name_arch(
    arch_token: u32,
    name: *const c_char,
) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { resolve_name_with(arch_token, name, ScmpSyscall::from_name_by_arch) }
}

/// Like [`seccomp_syscall_resolve_name_arch`], with multiplexed socket/ipc calls rewritten to
/// the multiplexer's number.
///
/// # Safety
///
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn seccomp_syscall_resolve_name_rewrite(
    arch_token: u32,
    name: *const c_char,
) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { resolve_name_with(arch_token, name, ScmpSyscall::from_name_by_arch_rewrite) }
}

/// The native number of syscall `name`, or `__NR_SCMP_ERROR`.
///
/// # Safety
///
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn seccomp_syscall_resolve_name(name: *const c_char) -> c_int {
    // SAFETY: the caller's contract.
    unsafe {
        resolve_name_with(
            crate::SCMP_ARCH_NATIVE,
            name,
            ScmpSyscall::from_name_by_arch,
        )
    }
}

/// Sets the priority of `syscall` (higher: fewer instructions to reach it). Returns 0, or a
/// negative errno.
///
/// # Safety
///
/// `ctx` is NULL or a context from [`seccomp_init`] not in use elsewhere.
#[no_mangle]
pub unsafe extern "C" fn seccomp_syscall_priority(
    ctx: scmp_filter_ctx,
    syscall: c_int,
    priority: u8,
) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let Some(ctx) = (unsafe { ctx_mut(ctx) }) else {
            return EINVAL;
        };
        cvt(ctx.set_syscall_priority(ScmpSyscall::from_raw_syscall(syscall), priority))
    })
}

/// The `seccomp_rule_add` symbol: the C variadic `(ctx, action, syscall, arg_cnt, ...)`
/// received as six `struct scmp_arg_cmp` parameters, of which the first `arg_cnt` are read.
///
/// On these targets a struct of 24 bytes is passed the same way as a named and as a variadic
/// argument (on the stack on x86 and x86_64, by reference on aarch64 and riscv64), so the
/// parameters line up with what the caller passed; the others are never touched.
///
/// # Safety
///
/// As for the variadic declaration: `arg_cnt` (at most 6) structs were passed.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
#[export_name = "seccomp_rule_add"]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn rule_add_variadic(
    ctx: scmp_filter_ctx,
    action: u32,
    syscall: c_int,
    arg_cnt: c_uint,
    a0: RawArgCmp,
    a1: RawArgCmp,
    a2: RawArgCmp,
    a3: RawArgCmp,
    a4: RawArgCmp,
    a5: RawArgCmp,
) -> c_int {
    let Some(args) = collect_args(arg_cnt, a0, a1, a2, a3, a4, a5) else {
        return EINVAL;
    };
    // SAFETY: the caller's contract.
    guard(EFAULT, || unsafe {
        rule_add(ctx, action, syscall, &args, false)
    })
}

/// The `seccomp_rule_add_exact` symbol, received as [`rule_add_variadic`] receives its
/// arguments.
///
/// # Safety
///
/// As for the variadic declaration: `arg_cnt` (at most 6) structs were passed.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
#[export_name = "seccomp_rule_add_exact"]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn rule_add_exact_variadic(
    ctx: scmp_filter_ctx,
    action: u32,
    syscall: c_int,
    arg_cnt: c_uint,
    a0: RawArgCmp,
    a1: RawArgCmp,
    a2: RawArgCmp,
    a3: RawArgCmp,
    a4: RawArgCmp,
    a5: RawArgCmp,
) -> c_int {
    let Some(args) = collect_args(arg_cnt, a0, a1, a2, a3, a4, a5) else {
        return EINVAL;
    };
    // SAFETY: the caller's contract.
    guard(EFAULT, || unsafe {
        rule_add(ctx, action, syscall, &args, true)
    })
}

/// The first `arg_cnt` of the six, touching no other (on aarch64 an absent one is a stray
/// register taken for a pointer). `None` for more than six.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
#[inline(always)]
fn collect_args(
    arg_cnt: c_uint,
    a0: RawArgCmp,
    a1: RawArgCmp,
    a2: RawArgCmp,
    a3: RawArgCmp,
    a4: RawArgCmp,
    a5: RawArgCmp,
) -> Option<Vec<RawArgCmp>> {
    let n = arg_cnt as usize;
    if n > ARG_COUNT_MAX {
        return None;
    }
    let mut v = Vec::with_capacity(n);
    if n > 0 {
        v.push(a0);
    }
    if n > 1 {
        v.push(a1);
    }
    if n > 2 {
        v.push(a2);
    }
    if n > 3 {
        v.push(a3);
    }
    if n > 4 {
        v.push(a4);
    }
    if n > 5 {
        v.push(a5);
    }
    Some(v)
}

/// Adds a rule with the `arg_cnt` conditions of `arg_array`. Returns 0, or a negative errno
/// (`-EACCES` when `action` is the default action, `-EINVAL` for invalid input, ...).
///
/// # Safety
///
/// `ctx` is NULL or a context from [`seccomp_init`] not in use elsewhere; `arg_array` points
/// to `arg_cnt` structs when `arg_cnt` is in 1..=6.
#[no_mangle]
pub unsafe extern "C" fn seccomp_rule_add_array(
    ctx: scmp_filter_ctx,
    action: u32,
    syscall: c_int,
    arg_cnt: c_uint,
    arg_array: *const crate::scmp_arg_cmp,
) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { rule_add_array(ctx, action, syscall, arg_cnt, arg_array, false) }
}

/// Like [`seccomp_rule_add_array`], but fails where a rule cannot be applied as given.
///
/// # Safety
///
/// As [`seccomp_rule_add_array`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_rule_add_exact_array(
    ctx: scmp_filter_ctx,
    action: u32,
    syscall: c_int,
    arg_cnt: c_uint,
    arg_array: *const crate::scmp_arg_cmp,
) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { rule_add_array(ctx, action, syscall, arg_cnt, arg_array, true) }
}

/// The kernel's notification structure sizes, asked once.
fn notif_sizes() -> Option<seccomp_notif_sizes> {
    static SIZES: OnceLock<Option<seccomp_notif_sizes>> = OnceLock::new();
    *SIZES.get_or_init(|| {
        let mut s = seccomp_notif_sizes {
            seccomp_notif: 0,
            seccomp_notif_resp: 0,
            seccomp_data: 0,
        };
        // SAFETY: SECCOMP_GET_NOTIF_SIZES writes one seccomp_notif_sizes to the pointer.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                SECCOMP_GET_NOTIF_SIZES,
                0,
                &mut s as *mut seccomp_notif_sizes,
            )
        };
        (rc == 0).then_some(s)
    })
}

/// Allocates a request and a response buffer of the sizes the running kernel uses (at least
/// the sizes of the structures); free them with [`seccomp_notify_free`]. Either pointer may
/// be NULL. Returns 0, `-EOPNOTSUPP` below API level 5, `-ECANCELED` or `-ENOMEM`.
///
/// # Safety
///
/// `req` and `resp` are NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn seccomp_notify_alloc(
    req: *mut *mut seccomp_notif,
    resp: *mut *mut seccomp_notif_resp,
) -> c_int {
    guard(EFAULT, || {
        if pure_seccomp::get_api() < 5 {
            return -libc::EOPNOTSUPP;
        }
        let Some(sizes) = notif_sizes() else {
            return ECANCELED;
        };
        let req_size = usize::from(sizes.seccomp_notif).max(std::mem::size_of::<seccomp_notif>());
        let resp_size =
            usize::from(sizes.seccomp_notif_resp).max(std::mem::size_of::<seccomp_notif_resp>());
        if !req.is_null() {
            // SAFETY: calloc of a non-zero size; the result is checked.
            let p = unsafe { libc::calloc(1, req_size) };
            if p.is_null() {
                return -libc::ENOMEM;
            }
            // SAFETY: writable (the caller's contract).
            unsafe { req.write(p.cast()) };
        }
        if !resp.is_null() {
            // SAFETY: as above.
            let p = unsafe { libc::calloc(1, resp_size) };
            if p.is_null() {
                if !req.is_null() {
                    // SAFETY: allocated just above.
                    unsafe {
                        libc::free((*req).cast());
                        req.write(std::ptr::null_mut());
                    }
                }
                return -libc::ENOMEM;
            }
            // SAFETY: writable (the caller's contract).
            unsafe { resp.write(p.cast()) };
        }
        0
    })
}

/// Frees the buffers of [`seccomp_notify_alloc`] (NULL ones are ignored). Returns 0 (the C
/// function returns nothing).
///
/// # Safety
///
/// Each pointer is NULL or from [`seccomp_notify_alloc`], freed once.
#[no_mangle]
pub unsafe extern "C" fn seccomp_notify_free(
    req: *mut seccomp_notif,
    resp: *mut seccomp_notif_resp,
) -> c_int {
    // SAFETY: the caller's contract (free(NULL) does nothing).
    unsafe {
        libc::free(req.cast());
        libc::free(resp.cast());
    }
    0
}

/// Waits for a notification on listener `fd` and writes it to `req`. Returns 0, or a negative
/// errno (`-ECANCELED` when the kernel fails the call).
///
/// # Safety
///
/// `req` is NULL or valid for a write of a `seccomp_notif`.
#[no_mangle]
pub unsafe extern "C" fn seccomp_notify_receive(fd: c_int, req: *mut seccomp_notif) -> c_int {
    guard(EFAULT, || {
        if req.is_null() {
            return EINVAL;
        }
        match ScmpNotifReq::receive(fd) {
            Ok(r) => {
                let n = seccomp_notif {
                    id: r.id,
                    pid: r.pid,
                    flags: r.flags,
                    data: crate::seccomp_data {
                        nr: r.data.syscall.as_raw_syscall(),
                        arch: token_of(r.data.arch),
                        instruction_pointer: r.data.instr_pointer,
                        args: r.data.args,
                    },
                };
                // SAFETY: writable (the caller's contract).
                unsafe { req.write(n) };
                0
            }
            Err(e) => rc_of(&e, false),
        }
    })
}

/// Sends the response `resp` on listener `fd`. Returns 0, or a negative errno.
///
/// # Safety
///
/// `resp` is NULL or points to a readable `seccomp_notif_resp`.
#[no_mangle]
pub unsafe extern "C" fn seccomp_notify_respond(fd: c_int, resp: *mut seccomp_notif_resp) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let Some(r) = (unsafe { resp.as_ref() }) else {
            return EINVAL;
        };
        cvt(ScmpNotifResp::new(r.id, r.val, r.error, r.flags).respond(fd))
    })
}

/// 0 if notification `id` is still pending on listener `fd`, `-ENOENT` if not.
///
/// # Safety
///
/// None: always safe to call.
#[no_mangle]
pub unsafe extern "C" fn seccomp_notify_id_valid(fd: c_int, id: u64) -> c_int {
    guard(EFAULT, || cvt(pure_seccomp::notify_id_valid(fd, id)))
}

/// The user-notification listener obtained by a load of a filter with a notify action, or a
/// negative errno.
///
/// # Safety
///
/// `ctx` is NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn seccomp_notify_fd(ctx: const_scmp_filter_ctx) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let Some(ctx) = (unsafe { ctx_ref(ctx) }) else {
            return EINVAL;
        };
        match ctx.get_notify_fd() {
            Ok(fd) => fd,
            Err(e) => rc_of(&e, false),
        }
    })
}

/// Writes the filter as pseudo filter code (PFC) to `fd`. Returns 0, or a negative errno.
///
/// # Safety
///
/// `ctx` is NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn seccomp_export_pfc(ctx: const_scmp_filter_ctx, fd: c_int) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let Some(ctx) = (unsafe { ctx_ref(ctx) }) else {
            return EINVAL;
        };
        let raw = sysrawrc_of(ctx);
        if fd < 0 {
            return if raw { -libc::EBADF } else { ECANCELED };
        }
        // SAFETY: not -1; the descriptor is only borrowed for this call, and an fd that is
        // not open makes the write fail with EBADF.
        let bfd = unsafe { BorrowedFd::borrow_raw(fd) };
        match ctx.export_pfc(bfd) {
            Ok(()) => 0,
            Err(e) => rc_of(&e, raw),
        }
    })
}

/// Writes the compiled BPF program to `fd`. Returns 0, or a negative errno.
///
/// # Safety
///
/// `ctx` is NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn seccomp_export_bpf(ctx: const_scmp_filter_ctx, fd: c_int) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let Some(ctx) = (unsafe { ctx_ref(ctx) }) else {
            return EINVAL;
        };
        let raw = sysrawrc_of(ctx);
        let prog = match ctx.export_bpf_mem() {
            Ok(p) => p,
            Err(e) => return rc_of(&e, raw),
        };
        let mut rest = &prog[..];
        while !rest.is_empty() {
            // SAFETY: `rest` is readable for its length.
            let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
            if n < 0 {
                let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
                if errno == libc::EINTR {
                    continue;
                }
                return if raw { -errno } else { ECANCELED };
            }
            rest = &rest[n as usize..];
        }
        0
    })
}

/// Copies the compiled BPF program to `buf` (when not NULL) and its size in bytes to `*len`.
/// Returns 0, `-ERANGE` if `*len` (on input) is smaller than the program, or a negative errno.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `len` is NULL or valid for reads and writes; `buf` is
/// NULL or writable for `*len` bytes.
#[no_mangle]
pub unsafe extern "C" fn seccomp_export_bpf_mem(
    ctx: const_scmp_filter_ctx,
    buf: *mut c_void,
    len: *mut usize,
) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let Some(ctx) = (unsafe { ctx_ref(ctx) }) else {
            return EINVAL;
        };
        if len.is_null() {
            return EINVAL;
        }
        let prog = match ctx.export_bpf_mem() {
            Ok(p) => p,
            Err(e) => return rc_of(&e, false),
        };
        let mut rc = 0;
        if !buf.is_null() {
            // SAFETY: `len` is readable (the caller's contract).
            if prog.len() > unsafe { len.read() } {
                rc = -libc::ERANGE;
            } else {
                // SAFETY: `buf` is writable for `*len >= prog.len()` bytes; Vec memory does
                // not overlap it.
                unsafe {
                    std::ptr::copy_nonoverlapping(prog.as_ptr(), buf.cast::<u8>(), prog.len())
                };
            }
        }
        // SAFETY: `len` is writable (the caller's contract).
        unsafe { len.write(prog.len()) };
        rc
    })
}

/// Starts a transaction (they nest). Returns 0, or a negative errno.
///
/// # Safety
///
/// `ctx` is NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn seccomp_transaction_start(ctx: const_scmp_filter_ctx) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let Some(ctx) = (unsafe { ctx_ref(ctx) }) else {
            return EINVAL;
        };
        cvt(ctx.start_transaction())
    })
}

/// Undoes the changes since the innermost [`seccomp_transaction_start`].
///
/// # Safety
///
/// `ctx` is NULL or a context from [`seccomp_init`] not in use elsewhere.
#[no_mangle]
pub unsafe extern "C" fn seccomp_transaction_reject(ctx: scmp_filter_ctx) {
    guard((), || {
        // SAFETY: the caller's contract.
        if let Some(ctx) = unsafe { ctx_mut(ctx) } {
            ctx.reject_transaction();
        }
    });
}

/// Keeps the changes of the innermost transaction. Returns 0, or a negative errno.
///
/// # Safety
///
/// `ctx` is NULL or a context from [`seccomp_init`] not in use elsewhere.
#[no_mangle]
pub unsafe extern "C" fn seccomp_transaction_commit(ctx: scmp_filter_ctx) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let Some(ctx) = (unsafe { ctx_mut(ctx) }) else {
            return EINVAL;
        };
        cvt(ctx.commit_transaction())
    })
}

/// Compiles the filter now, for a faster [`seccomp_load`] later. Returns 0, or a negative
/// errno.
///
/// # Safety
///
/// `ctx` is NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn seccomp_precompute(ctx: const_scmp_filter_ctx) -> c_int {
    guard(EFAULT, || {
        // SAFETY: the caller's contract.
        let Some(ctx) = (unsafe { ctx_ref(ctx) }) else {
            return EINVAL;
        };
        cvt(ctx.precompute())
    })
}

#[cfg(test)]
pub(crate) fn arch_table() -> &'static [(u32, &'static str, &'static str)] {
    &ARCHES
}
