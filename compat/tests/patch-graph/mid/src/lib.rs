//! A library written against the libseccomp crate 0.4 (and libseccomp-sys 0.3, as syd uses
//! it), unaware of what implements them.

use libseccomp::{ScmpAction, ScmpArch, ScmpFilterContext, ScmpSyscall};

/// A filter that denies `getppid` with `EPERM`, for the native architecture and x86.
pub fn deny_getppid() -> Result<ScmpFilterContext, libseccomp::error::SeccompError> {
    let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    ctx.add_arch(ScmpArch::X86)?;
    ctx.add_rule(
        ScmpAction::Errno(libc_eperm()),
        ScmpSyscall::from_name("getppid")?,
    )?;
    Ok(ctx)
}

fn libc_eperm() -> i32 {
    1
}

/// The program's size in bytes through the raw API on `as_ptr()`, as syd reads it.
pub fn program_len(ctx: &ScmpFilterContext) -> Option<usize> {
    let mut len = 0usize;
    // SAFETY: `ctx` outlives the call; a NULL buffer asks for the size only.
    let rc = unsafe {
        libseccomp_sys::seccomp_export_bpf_mem(ctx.as_ptr(), std::ptr::null_mut(), &mut len)
    };
    (rc == 0).then_some(len)
}
