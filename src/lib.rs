//! # pure-seccomp
//!
//! A pure-Rust seccomp-BPF compiler and loader with no C dependency, and a drop-in
//! replacement for the [`libseccomp`](https://docs.rs/libseccomp/0.4.0) crate 0.4.0: the
//! public API is that crate's, item for item, and the filters it builds return what the C
//! libseccomp's filters return for every architecture, syscall and argument vector.
//!
//! ```
//! use pure_seccomp::*;
//!
//! let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(libc::EPERM))?;
//! // A new filter has this machine's ABI. This one is for x86_64 and its 32-bit x86 ABI,
//! // whatever machine builds it.
//! ctx.remove_arch(ScmpArch::native())?;
//! ctx.add_arch(ScmpArch::X8664)?;
//! ctx.add_arch(ScmpArch::X86)?;
//! ctx.add_rule(ScmpAction::Allow, ScmpSyscall::from_name("read")?)?;
//! ctx.add_rule_conditional(
//!     ScmpAction::Allow,
//!     ScmpSyscall::from_name("write")?,
//!     &[scmp_cmp!($arg0 <= 2)],
//! )?;
//! let bytes = ctx.export_bpf_mem()?;
//! assert_eq!(bytes.len() % 8, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(rust_2018_idioms)]
#![deny(missing_debug_implementations)]
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod error;

mod action;
mod api;
mod arch;
mod arg_compare;
pub mod bpf;
mod compare_op;
mod context;
mod db;
mod emit;
mod filter_attr;
mod functions;
mod ir;
mod kernel;
mod notify;
pub mod opt;
mod pfc;
#[cfg(feature = "policy")]
#[cfg_attr(docsrs, doc(cfg(feature = "policy")))]
pub mod policy;
mod syscall;
mod version;

pub use action::ScmpAction;
pub use api::{check_api, get_api, set_api};
pub use arch::{Endian, ScmpArch};
pub use arg_compare::ScmpArgCompare;
pub use compare_op::ScmpCompareOp;
pub use context::ScmpFilterContext;
pub use filter_attr::ScmpFilterAttr;
pub use functions::*;
pub use notify::*;
pub use syscall::{RawSyscall, ScmpSyscall};
pub use version::{check_version, ScmpVersion};
