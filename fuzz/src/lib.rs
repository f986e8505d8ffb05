//! Fuzz targets of pure-seccomp (cargo-fuzz layout): `filters`, `bpf_bytes`, `policy`,
//! `rules` and `c_api`.
//!
//! [`checks`] (targets `filters` and `bpf_bytes`), [`policy_check`] (target `policy`) and
//! [`rules_check`] (target `rules`) hold what each target checks; they depend on
//! pure-seccomp alone and are shared with the stable regression tests,
//! `tests/fuzz_regressions.rs`. [`input`] is the structured input of `filters`, derived with
//! `arbitrary`. [`c_api_check`] (target `c_api`) drives the C-ABI shell, `compat/libseccomp-sys`,
//! beside the Rust API; the shell's own tests replay its corpus.

#![warn(missing_docs)]

/// The C-ABI shell, as `c_api_check` names it (`super::sys`).
use libseccomp_sys as sys;

pub mod c_api_check;
pub mod checks;
pub mod input;
pub mod policy_check;
pub mod rules_check;
