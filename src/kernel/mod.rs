//! Kernel interface. (SKELETON: replaced by the kernel interface work.)
use crate::bpf::Instruction;
use crate::error::{Result, SeccompError};

/// What `load` needs besides the program.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LoadOptions {
    pub nnp: bool,
    pub tsync: bool,
    pub log: bool,
    pub ssb: bool,
    pub waitkill: bool,
    /// The filter uses `ScmpAction::Notify` (as a rule or default action).
    pub notify_used: bool,
    pub sysrawrc: bool,
}

impl crate::ScmpFilterContext {
    /// Loads the filter.
    pub fn load(&self) -> Result<()> {
        let _p: Vec<Instruction> = self.program()?;
        let _o = self.load_options();
        Err(SeccompError::with_msg("skeleton"))
    }
}
