//! The filter context. (SKELETON: replaced by the compiler core work.)
use crate::bpf::Instruction;
use crate::error::{Result, SeccompError};
use crate::kernel::LoadOptions;
use crate::{ScmpAction, ScmpArch, ScmpSyscall};

/// A seccomp filter under construction.
#[derive(Debug)]
pub struct ScmpFilterContext {
    default: ScmpAction,
}

impl ScmpFilterContext {
    /// Creates a filter.
    pub fn new(default_action: ScmpAction) -> Result<Self> {
        Ok(Self {
            default: default_action,
        })
    }
    /// Adds an arch.
    pub fn add_arch(&mut self, _arch: ScmpArch) -> Result<&mut Self> {
        Err(SeccompError::with_msg("skeleton"))
    }
    /// Adds a rule.
    pub fn add_rule<S: Into<ScmpSyscall>>(
        &mut self,
        _action: ScmpAction,
        _syscall: S,
    ) -> Result<&mut Self> {
        Err(SeccompError::with_msg("skeleton"))
    }
    /// Adds a conditional rule.
    pub fn add_rule_conditional<S: Into<ScmpSyscall>>(
        &mut self,
        _action: ScmpAction,
        _syscall: S,
        _c: &[crate::ScmpArgCompare],
    ) -> Result<&mut Self> {
        Err(SeccompError::with_msg("skeleton"))
    }
    /// Exports.
    pub fn export_bpf_mem(&self) -> Result<Vec<u8>> {
        Err(SeccompError::with_msg("skeleton"))
    }
    /// The compiled program (host byte order values).
    pub(crate) fn program(&self) -> Result<Vec<Instruction>> {
        Err(SeccompError::with_msg("skeleton"))
    }
    /// Options for the kernel loader.
    pub(crate) fn load_options(&self) -> LoadOptions {
        let _ = self.default;
        LoadOptions::default()
    }
}
