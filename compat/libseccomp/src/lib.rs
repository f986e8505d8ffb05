//! The `libseccomp` crate 0.4.0, as pure-seccomp: the same API with no C library.
//!
//! Everything public in [`pure_seccomp`] is re-exported here under the crate name
//! `libseccomp`, so that one line in a workspace's `Cargo.toml` replaces the C-backed crate
//! everywhere in the dependency graph, including in dependencies such as `libcontainer`:
//!
//! ```toml
//! [patch.crates-io]
//! libseccomp = { path = "/path/to/pure-seccomp/compat/libseccomp" }
//! libseccomp-sys = { path = "/path/to/pure-seccomp/compat/libseccomp-sys" }
//! ```
//!
//! `ScmpFilterContext::as_ptr()` is there too: it returns a `scmp_filter_ctx` that the
//! functions of the `libseccomp-sys` compatibility crate (`compat/libseccomp-sys`) accept,
//! for reading (load, export, attribute reads); the functions that change or release a
//! filter refuse it with `-EINVAL`.
//!
//! ```
//! use libseccomp::*;
//!
//! let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(1))?;
//! ctx.add_rule(ScmpAction::Allow, ScmpSyscall::from_name("read")?)?;
//! ctx.add_rule_conditional(
//!     ScmpAction::Allow,
//!     ScmpSyscall::from_name("write")?,
//!     &[scmp_cmp!($arg0 <= 2)],
//! )?;
//! let mut len = 0usize;
//! // SAFETY: `ctx` outlives the call; a NULL buffer asks for the size.
//! let rc = unsafe { libseccomp_sys::seccomp_export_bpf_mem(ctx.as_ptr(), std::ptr::null_mut(), &mut len) };
//! assert_eq!(rc, 0);
//! assert_eq!(len, ctx.export_bpf_mem()?.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! pure-seccomp's test-only hooks (`ScmpFilterContext::__emulate_*` and
//! `__libseccomp_2_5_4_*`) exist only with its `__internal-test` feature, which its own
//! tests turn on and this crate does not: they are no part of this crate's API.
#![deny(missing_docs)]

pub use pure_seccomp::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_macros_and_modules_come_along() {
        let c = scmp_cmp!($arg1 & 0x3 == 1);
        assert_eq!(c, ScmpArgCompare::new(1, ScmpCompareOp::MaskedEqual(3), 1));
        let e: error::Result<()> =
            Err(ScmpFilterContext::new(ScmpAction::Errno(5000)).unwrap_err());
        assert!(e.is_err());
    }

    #[test]
    fn as_ptr_is_accepted_by_the_shell() {
        let ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
        let mut v = 0u32;
        // SAFETY: `ctx` outlives the call.
        let rc = unsafe {
            libseccomp_sys::seccomp_attr_get(
                ctx.as_ptr(),
                libseccomp_sys::scmp_filter_attr::SCMP_FLTATR_CTL_OPTIMIZE,
                &mut v,
            )
        };
        assert_eq!((rc, v), (0, 1));
    }
}
