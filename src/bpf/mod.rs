//! Classic BPF for seccomp. (SKELETON: replaced by the bpf work.)

use crate::arch::Endian;

/// One BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Instruction {
    /// Opcode.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Constant.
    pub k: u32,
}

/// `struct seccomp_data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeccompData {
    /// Syscall number.
    pub nr: i32,
    /// `AUDIT_ARCH_*`.
    pub arch: u32,
    /// Instruction pointer.
    pub instruction_pointer: u64,
    /// Arguments.
    pub args: [u64; 6],
}

/// Result of a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Return value.
    pub ret: u32,
    /// Instructions executed.
    pub executed: usize,
}

/// BPF errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BpfError {
    /// Invalid program.
    #[error("invalid program: {0}")]
    Invalid(String),
}

/// Validates like the kernel.
pub fn validate(_prog: &[Instruction]) -> Result<(), BpfError> {
    Ok(())
}

/// Runs the program.
pub fn simulate(
    _prog: &[Instruction],
    _data: &SeccompData,
    _endian: Endian,
) -> Result<Outcome, BpfError> {
    Err(BpfError::Invalid("skeleton".into()))
}

/// Bytes in the given byte order.
pub fn encode(prog: &[Instruction], endian: Endian) -> Vec<u8> {
    let mut v = Vec::with_capacity(prog.len() * 8);
    for i in prog {
        match endian {
            Endian::Little => {
                v.extend_from_slice(&i.code.to_le_bytes());
                v.push(i.jt);
                v.push(i.jf);
                v.extend_from_slice(&i.k.to_le_bytes());
            }
            Endian::Big => {
                v.extend_from_slice(&i.code.to_be_bytes());
                v.push(i.jt);
                v.push(i.jf);
                v.extend_from_slice(&i.k.to_be_bytes());
            }
        }
    }
    v
}
