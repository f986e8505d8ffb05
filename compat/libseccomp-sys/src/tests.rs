//! The shell called as a Rust user of `libseccomp-sys` calls it (including the variadic
//! declarations), checked against pure-seccomp's own API.

use crate::*;
use pure_seccomp::{scmp_cmp, ScmpAction, ScmpArch, ScmpFilterContext, ScmpSyscall};
use std::ffi::{CStr, CString};
use std::ptr;

/// The `c_api` fuzz target's check, which names this crate `super::sys`.
#[path = "../../../fuzz/src/c_api_check.rs"]
mod c_api_check;
use crate as sys;

/// `seccomp_rule_add` called as C calls it, variadic; under Miri, the array form, since Miri
/// refuses a variadic call to the symbol's non-variadic definition (which the crate's docs
/// explain) however the two line up in the targets' calling conventions.
macro_rules! rule_add {
    ($ctx:expr, $action:expr, $nr:expr, $cnt:expr $(, $arg:expr)*) => {{
        #[cfg(not(miri))]
        let rc = seccomp_rule_add($ctx, $action, $nr, $cnt $(, $arg)*);
        #[cfg(miri)]
        let rc = {
            let args: &[scmp_arg_cmp] = &[$($arg),*];
            seccomp_rule_add_array($ctx, $action, $nr, $cnt, args.as_ptr())
        };
        rc
    }};
}

/// `seccomp_attr_get` and `seccomp_attr_set` as declared (the attribute a `scmp_filter_attr`);
/// under Miri, their definitions, which take it as C passes any `enum`, an integer.
macro_rules! attr_get {
    ($ctx:expr, $attr:expr, $value:expr) => {{
        #[cfg(not(miri))]
        let rc = seccomp_attr_get($ctx, $attr, $value);
        #[cfg(miri)]
        let rc = imp::attr_get($ctx, $attr as std::os::raw::c_uint, $value);
        rc
    }};
}
macro_rules! attr_set {
    ($ctx:expr, $attr:expr, $value:expr) => {{
        #[cfg(not(miri))]
        let rc = seccomp_attr_set($ctx, $attr, $value);
        #[cfg(miri)]
        let rc = imp::attr_set($ctx, $attr as std::os::raw::c_uint, $value);
        rc
    }};
}

fn nr(name: &str) -> i32 {
    ScmpSyscall::from_name(name).unwrap().as_raw_syscall()
}

fn program(ctx: const_scmp_filter_ctx) -> Vec<u8> {
    let mut len = 0usize;
    // SAFETY: a live context; NULL buffer asks for the size.
    assert_eq!(
        unsafe { seccomp_export_bpf_mem(ctx, ptr::null_mut(), &mut len) },
        0
    );
    let mut buf = vec![0u8; len];
    if len > 0 {
        let mut small = len - 1;
        // SAFETY: as above, a buffer one byte short.
        let rc = unsafe { seccomp_export_bpf_mem(ctx, buf.as_mut_ptr().cast(), &mut small) };
        assert_eq!(rc, -libc::ERANGE);
        assert_eq!(small, len);
    }
    // SAFETY: as above, a buffer of `len` bytes.
    assert_eq!(
        unsafe { seccomp_export_bpf_mem(ctx, buf.as_mut_ptr().cast(), &mut len) },
        0
    );
    buf
}

#[test]
fn arch_table_matches_pure_seccomp() {
    let table = imp::arch_table();
    assert_eq!(table.len(), ScmpArch::all().count());
    for &(token, _, short) in table {
        let c = CString::new(short).unwrap();
        // SAFETY: a NUL-terminated string.
        assert_eq!(
            unsafe { seccomp_arch_resolve_name(c.as_ptr()) },
            token,
            "{short}"
        );
    }
    // SAFETY: no arguments.
    let native = unsafe { seccomp_arch_native() };
    assert_ne!(native, SCMP_ARCH_NATIVE);
    // SAFETY: a NUL-terminated string.
    assert_eq!(
        unsafe { seccomp_arch_resolve_name(c"no-such-arch".as_ptr()) },
        0
    );
}

#[test]
fn rules_through_the_c_api_compile_as_through_rust() {
    let (read, write, ioctl) = (nr("read"), nr("write"), nr("ioctl"));
    // SAFETY: every call gets a live context from seccomp_init and the documented
    // arguments; the variadic calls pass exactly arg_cnt structs.
    unsafe {
        let ctx = seccomp_init(SCMP_ACT_ERRNO(1));
        assert!(!ctx.is_null());
        assert_eq!(rule_add!(ctx, SCMP_ACT_ALLOW, read, 0), 0);
        let a0 = scmp_arg_cmp {
            arg: 0,
            op: scmp_compare::SCMP_CMP_LE,
            datum_a: 2,
            datum_b: 0,
        };
        let a1 = scmp_arg_cmp {
            arg: 1,
            op: scmp_compare::SCMP_CMP_MASKED_EQ,
            datum_a: 0xff,
            datum_b: 0x54,
        };
        assert_eq!(rule_add!(ctx, SCMP_ACT_ALLOW, write, 1, a0), 0);
        assert_eq!(rule_add!(ctx, SCMP_ACT_TRAP, ioctl, 2, a0, a1), 0);
        let arr = [a0, a1];
        assert_eq!(
            seccomp_rule_add_array(ctx, SCMP_ACT_KILL_PROCESS, nr("openat"), 2, arr.as_ptr()),
            0
        );

        let mut rust = ScmpFilterContext::new(ScmpAction::Errno(1)).unwrap();
        rust.add_rule(ScmpAction::Allow, read).unwrap();
        rust.add_rule_conditional(ScmpAction::Allow, write, &[scmp_cmp!($arg0 <= 2)])
            .unwrap();
        rust.add_rule_conditional(
            ScmpAction::Trap,
            ioctl,
            &[scmp_cmp!($arg0 <= 2), scmp_cmp!($arg1 & 0xff == 0x54)],
        )
        .unwrap();
        rust.add_rule_conditional(
            ScmpAction::KillProcess,
            nr("openat"),
            &[scmp_cmp!($arg0 <= 2), scmp_cmp!($arg1 & 0xff == 0x54)],
        )
        .unwrap();
        assert_eq!(program(ctx), rust.export_bpf_mem().unwrap());
        // The same through as_ptr(): a read-only view.
        assert_eq!(program(rust.as_ptr()), rust.export_bpf_mem().unwrap());
        seccomp_release(ctx);
    }
}

#[test]
fn errors_follow_libseccomp() {
    // SAFETY: live contexts from seccomp_init, NULL where the function allows it.
    unsafe {
        assert!(seccomp_init(0x1234_5678).is_null());
        assert!(seccomp_init(SCMP_ACT_ERRNO(4095)).is_null());
        let ctx = seccomp_init(SCMP_ACT_ALLOW);
        assert_eq!(rule_add!(ctx, SCMP_ACT_ALLOW, nr("read"), 0), -libc::EACCES);
        let bad_op = scmp_arg_cmp {
            arg: 9,
            op: scmp_compare::SCMP_CMP_EQ,
            datum_a: 0,
            datum_b: 0,
        };
        assert_eq!(
            rule_add!(ctx, SCMP_ACT_TRAP, nr("read"), 1, bad_op),
            -libc::EINVAL
        );
        assert_eq!(
            seccomp_rule_add_array(ctx, SCMP_ACT_TRAP, nr("read"), 7, ptr::null()),
            -libc::EINVAL
        );
        assert_eq!(
            rule_add!(ptr::null_mut(), SCMP_ACT_TRAP, 0, 0),
            -libc::EINVAL
        );
        let mut v = 0u32;
        assert_eq!(
            attr_get!(ctx, scmp_filter_attr::_SCMP_FLTATR_MIN, &mut v),
            -libc::EINVAL
        );
        assert_eq!(
            attr_get!(ctx, scmp_filter_attr::SCMP_FLTATR_CTL_OPTIMIZE, &mut v),
            0
        );
        assert_eq!(v, 1);
        assert_eq!(
            attr_set!(ctx, scmp_filter_attr::SCMP_FLTATR_CTL_OPTIMIZE, 2),
            0
        );
        assert_eq!(
            attr_get!(ctx, scmp_filter_attr::SCMP_FLTATR_CTL_OPTIMIZE, &mut v),
            0
        );
        assert_eq!(v, 2);
        assert_eq!(
            attr_set!(ctx, scmp_filter_attr::SCMP_FLTATR_ACT_DEFAULT, 0),
            -libc::EACCES
        );
        let native = seccomp_arch_native();
        assert_eq!(seccomp_arch_exist(ctx, native), 0);
        assert_eq!(seccomp_arch_add(ctx, native), -libc::EEXIST);
        assert_eq!(seccomp_arch_exist(ctx, 0xdead), -libc::EINVAL);
        assert_eq!(seccomp_arch_remove(ctx, native), 0);
        assert_eq!(seccomp_arch_remove(ctx, native), -libc::EEXIST);
        assert_eq!(seccomp_arch_exist(ctx, native), -libc::EEXIST);
        // No architecture: nothing to export.
        let mut len = 0usize;
        assert_eq!(
            seccomp_export_bpf_mem(ctx, ptr::null_mut(), &mut len),
            -libc::EINVAL
        );
        assert_eq!(
            seccomp_export_bpf_mem(ctx, ptr::null_mut(), ptr::null_mut()),
            -libc::EINVAL
        );
        seccomp_release(ctx);
        seccomp_release(ptr::null_mut());
    }
}

#[test]
fn borrowed_contexts_are_read_only() {
    let mut rust = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    rust.add_rule(ScmpAction::KillThread, nr("ptrace")).unwrap();
    let p = rust.as_ptr();
    // SAFETY: `rust` outlives `p` and is not used meanwhile.
    unsafe {
        assert_eq!(rule_add!(p, SCMP_ACT_TRAP, nr("read"), 0), -libc::EINVAL);
        assert_eq!(
            attr_set!(p, scmp_filter_attr::SCMP_FLTATR_CTL_OPTIMIZE, 2),
            -libc::EINVAL
        );
        let mut v = 0;
        assert_eq!(
            attr_get!(p, scmp_filter_attr::SCMP_FLTATR_CTL_NNP, &mut v),
            0
        );
        assert_eq!(v, 1);
        assert_eq!(seccomp_precompute(p), 0);
        seccomp_release(p); // ignored: not made by seccomp_init
    }
    assert!(!rust.export_bpf_mem().unwrap().is_empty());
}

#[test]
fn merge_keeps_the_source_on_failure() {
    // SAFETY: live contexts from seccomp_init.
    unsafe {
        let a = seccomp_init(SCMP_ACT_ALLOW);
        let b = seccomp_init(SCMP_ACT_ALLOW);
        assert_eq!(seccomp_merge(a, b), -libc::EEXIST);
        // b is still valid after the failure.
        assert_eq!(seccomp_arch_remove(b, seccomp_arch_native()), 0);
        assert_eq!(seccomp_arch_add(b, SCMP_ARCH_X86), 0);
        assert_eq!(seccomp_arch_remove(a, SCMP_ARCH_X86), -libc::EEXIST);
        assert_eq!(seccomp_merge(a, b), 0);
        assert_eq!(seccomp_arch_exist(a, SCMP_ARCH_X86), 0);
        let c = seccomp_init(SCMP_ACT_TRAP);
        assert_eq!(seccomp_merge(a, c), -libc::EINVAL);
        seccomp_release(c);
        seccomp_release(a);
    }
}

#[test]
fn syscall_resolution() {
    // SAFETY: NUL-terminated strings; the returned name is freed with free().
    unsafe {
        assert_eq!(seccomp_syscall_resolve_name(c"read".as_ptr()), nr("read"));
        assert_eq!(
            seccomp_syscall_resolve_name(c"no_such_call".as_ptr()),
            __NR_SCMP_ERROR
        );
        assert_eq!(seccomp_syscall_resolve_name(ptr::null()), __NR_SCMP_ERROR);
        assert_eq!(
            seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, c"socket".as_ptr()),
            -101
        );
        assert_eq!(
            seccomp_syscall_resolve_name_rewrite(SCMP_ARCH_X86, c"socket".as_ptr()),
            102
        );
        assert_eq!(
            seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, c"openat".as_ptr()),
            257
        );
        let name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, 257);
        assert_eq!(CStr::from_ptr(name).to_str().unwrap(), "openat");
        libc::free(name as *mut libc::c_void);
        assert!(seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, 99_999).is_null());
        assert!(seccomp_syscall_resolve_num_arch(0xdead, 0).is_null());
    }
}

#[test]
fn version_and_api() {
    // SAFETY: the version structure is static.
    unsafe {
        let v = &*seccomp_version();
        assert_eq!((v.major, v.minor), (2, 6));
        // (Under Miri, which cannot make the probing seccomp(2) call, the level is not read.)
        if !cfg!(miri) {
            assert!(seccomp_api_get() >= 1);
        }
        assert_eq!(seccomp_api_set(1000), -libc::EINVAL);
    }
}

#[test]
fn transactions_and_pfc() {
    // SAFETY: a live context from seccomp_init; fds from pipe(2).
    unsafe {
        let ctx = seccomp_init(SCMP_ACT_ALLOW);
        let before = program(ctx);
        assert_eq!(seccomp_transaction_start(ctx), 0);
        assert_eq!(rule_add!(ctx, SCMP_ACT_TRAP, nr("read"), 0), 0);
        seccomp_transaction_reject(ctx);
        assert_eq!(program(ctx), before);
        let mut fds = [0; 2];
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        assert_eq!(seccomp_export_pfc(ctx, fds[1]), 0);
        assert_eq!(seccomp_export_bpf(ctx, fds[1]), 0);
        libc::close(fds[1]);
        let mut out = vec![0u8; 65536];
        let n = libc::read(fds[0], out.as_mut_ptr().cast(), out.len());
        libc::close(fds[0]);
        let text = String::from_utf8_lossy(&out[..n as usize]);
        assert!(text.contains("pseudo filter code"), "{text}");
        assert_eq!(seccomp_export_pfc(ctx, -1), -libc::ECANCELED);
        assert_eq!(seccomp_export_bpf(ctx, 1_000_000), -libc::ECANCELED);
        seccomp_release(ctx);
    }
}

/// The `c_api` fuzz target's corpus (`fuzz/corpus/c_api`), replayed on stable: each input's C
/// calls through this shell and the same calls through the Rust API give the same answers,
/// programs and attributes. (Not under Miri: minutes of compiling filters.)
#[test]
#[cfg_attr(miri, ignore)]
fn c_api_fuzz_corpus_agrees_with_the_rust_api() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/c_api");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| c_api_check::check(&bytes));
        assert!(result.is_ok(), "{}", path.display());
        replayed += 1;
    }
    assert!(replayed > 100, "{replayed} inputs in {}", dir.display());
}
