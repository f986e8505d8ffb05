//! Uses the compatibility crates the way syd does: a `libseccomp` filter context whose
//! `as_ptr()` goes to `libseccomp_sys::seccomp_load`, `seccomp_export_bpf_mem` and
//! `seccomp_syscall_resolve_num_arch`. Exits non-zero when something differs.

use libseccomp::{ScmpAction, ScmpArch, ScmpFilterContext, ScmpSyscall};
use libseccomp_sys::{
    seccomp_export_bpf_mem, seccomp_load, seccomp_syscall_resolve_num_arch, SCMP_ARCH_X86_64,
};
use std::ffi::CStr;

fn export(ctx: &ScmpFilterContext) -> Vec<u8> {
    let mut len = 0usize;
    // SAFETY: `ctx` outlives the calls; the buffer has the size asked for.
    unsafe {
        let rc = seccomp_export_bpf_mem(ctx.as_ptr(), std::ptr::null_mut(), &mut len);
        assert_eq!(rc, 0, "seccomp_export_bpf_mem (size)");
        let mut buf = vec![0u8; len];
        let rc = seccomp_export_bpf_mem(ctx.as_ptr(), buf.as_mut_ptr().cast(), &mut len);
        assert_eq!(rc, 0, "seccomp_export_bpf_mem");
        buf.truncate(len);
        buf
    }
}

fn name_of(arch: u32, nr: i32) -> Option<String> {
    // SAFETY: the result is NULL or a malloc'ed string that we free.
    unsafe {
        let p = seccomp_syscall_resolve_num_arch(arch, nr);
        if p.is_null() {
            return None;
        }
        let s = CStr::from_ptr(p).to_string_lossy().into_owned();
        libc::free(p as *mut libc::c_void);
        Some(s)
    }
}

fn main() {
    let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).expect("new");
    ctx.add_arch(ScmpArch::X86).expect("add_arch");
    let getppid = ScmpSyscall::from_name("getppid").expect("getppid");
    ctx.add_rule(ScmpAction::Errno(libc::EPERM), getppid)
        .expect("add_rule");

    let bytes = export(&ctx);
    assert_eq!(bytes, ctx.export_bpf_mem().expect("export_bpf_mem"));
    println!(
        "seccomp_export_bpf_mem: {} instructions, as export_bpf_mem",
        bytes.len() / 8
    );

    assert_eq!(name_of(SCMP_ARCH_X86_64, 0).as_deref(), Some("read"));
    assert_eq!(name_of(SCMP_ARCH_X86_64, 257).as_deref(), Some("openat"));
    assert_eq!(name_of(SCMP_ARCH_X86_64, 100_000), None);
    println!("seccomp_syscall_resolve_num_arch: read, openat, and NULL for an unknown number");

    // Load in a child: getppid must fail with EPERM there, and the parent stays unfiltered.
    // SAFETY: the child only makes async-signal-safe calls (seccomp, syscall, _exit).
    // (glibc's getppid() does not set errno: the raw syscall does.)
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        // SAFETY: `ctx` is alive in the child; after the load only raw syscalls follow.
        let code = unsafe {
            if seccomp_load(ctx.as_ptr()) != 0 {
                10
            } else if libc::syscall(libc::SYS_getppid) == -1
                && *libc::__errno_location() == libc::EPERM
            {
                0
            } else {
                11
            }
        };
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child: status {status:#x} (10: seccomp_load failed, 11: getppid not denied)"
    );
    // SAFETY: plain syscall.
    assert!(unsafe { libc::getppid() } > 0);
    println!("seccomp_load(ctx.as_ptr()): getppid denied with EPERM in the child");
    println!("syd-like: ok");
}
