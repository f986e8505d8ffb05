//! Fuzz targets of pure-seccomp (cargo-fuzz layout): `filters`, `bpf_bytes`, `policy` and
//! `rules`.
//!
//! [`checks`] (targets `filters` and `bpf_bytes`), [`policy_check`] (target `policy`) and
//! [`rules_check`] (target `rules`) hold what each target checks; they depend on
//! pure-seccomp alone and are shared with the stable regression tests,
//! `tests/fuzz_regressions.rs`. [`input`] is the structured input of `filters`, derived with
//! `arbitrary`.

#![warn(missing_docs)]

pub mod checks;
pub mod input;
pub mod policy_check;
pub mod rules_check;
