//! Classic BPF as the kernel's seccomp sees it: the instruction type, the kernel's
//! load-time checks ([`validate`]), an interpreter ([`simulate`]), a disassembler
//! ([`disassemble`]), the byte encoding of programs ([`encode`], [`decode`]) and which
//! syscalls the kernel's action cache lets through without running the filter
//! ([`cacheable`]).
//!
//! Everything here is pure computation: nothing is loaded into the kernel, no function panics
//! on any input, and the simulator terminates on every program (classic BPF only jumps
//! forward).
//!
//! ```
//! use pure_seccomp::bpf::*;
//! use pure_seccomp::Endian;
//!
//! // Allow everything but execve (59) on x86-64, which fails with EPERM.
//! let prog = [
//!     Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
//!     Instruction::jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_003e, 0, 3),
//!     Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
//!     Instruction::jump(BPF_JMP | BPF_JEQ | BPF_K, 59, 0, 1),
//!     Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
//!     Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
//! ];
//! validate(&prog)?;
//! let data = SeccompData { nr: 59, arch: 0xc000_003e, ..Default::default() };
//! let out = simulate(&prog, &data, Endian::Little)?;
//! assert_eq!(action_name(out.ret), "ERRNO(1)");
//! assert_eq!(decode(&encode(&prog, Endian::Big), Endian::Big)?, prog);
//! # Ok::<(), BpfError>(())
//! ```

mod cache;
mod consts;
mod disasm;
mod simulate;
mod validate;

pub use cache::{cacheable, cacheable_set, kernel_caches, syscall_range};
pub use consts::*;
pub use disasm::{action_name, disassemble, disassemble_for, field_name};
pub use simulate::{simulate, simulate_path};
pub use validate::{check_classic, validate};

use crate::arch::Endian;
use crate::ScmpArch;

/// The `AUDIT_ARCH_*` value the kernel puts in `seccomp_data.arch` for a call of `arch`'s
/// ABI (x32 calls carry x86_64's, with bit 30 set in the number), as [`cacheable`] and
/// [`SeccompData::arch`] take it; `None` for an architecture this machine cannot name
/// ([`ScmpArch::Native`] on a target libseccomp does not support).
///
/// ```
/// use pure_seccomp::{bpf::audit_arch, ScmpArch};
/// assert_eq!(audit_arch(ScmpArch::X8664), Some(0xc000_003e));
/// assert_eq!(audit_arch(ScmpArch::X32), Some(0xc000_003e));
/// assert_eq!(audit_arch(ScmpArch::S390X), Some(0x8000_0016));
/// ```
pub fn audit_arch(arch: ScmpArch) -> Option<u32> {
    let arch = if arch == ScmpArch::Native {
        ScmpArch::native()
    } else {
        arch
    };
    arch.info().map(|i| i.audit)
}

/// One classic BPF instruction, laid out like the kernel's `struct sock_filter`.
///
/// ```
/// use pure_seccomp::bpf::{Instruction, BPF_RET, BPF_K, SECCOMP_RET_ALLOW};
/// let ret = Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
/// assert_eq!((ret.code, ret.jt, ret.jf, ret.k), (0x06, 0, 0, 0x7fff_0000));
/// assert_eq!(std::mem::size_of::<Instruction>(), 8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Instruction {
    /// Opcode: class, size/mode or operation, and source, OR-ed together.
    pub code: u16,
    /// For a conditional jump, how many instructions to skip when the condition holds.
    pub jt: u8,
    /// For a conditional jump, how many instructions to skip when it does not.
    pub jf: u8,
    /// The constant operand (offset, immediate value, jump distance for `ja`, return value).
    pub k: u32,
}

impl Instruction {
    /// A non-jump instruction (`BPF_STMT`): `jt` and `jf` are zero.
    ///
    /// ```
    /// use pure_seccomp::bpf::{Instruction, BPF_LD, BPF_W, BPF_ABS};
    /// let ld_nr = Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 0);
    /// assert_eq!(ld_nr, Instruction { code: 0x20, jt: 0, jf: 0, k: 0 });
    /// ```
    pub const fn stmt(code: u16, k: u32) -> Self {
        Instruction {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    /// A jump instruction (`BPF_JUMP`): `jt`/`jf` count instructions after the next one.
    ///
    /// ```
    /// use pure_seccomp::bpf::{Instruction, BPF_JMP, BPF_JEQ, BPF_K};
    /// let j = Instruction::jump(BPF_JMP | BPF_JEQ | BPF_K, 59, 0, 1);
    /// assert_eq!((j.code, j.k, j.jt, j.jf), (0x15, 59, 0, 1));
    /// ```
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Self {
        Instruction { code, jt, jf, k }
    }
}

/// The kernel's `struct seccomp_data`: what a seccomp filter reads.
///
/// ```
/// use pure_seccomp::bpf::SeccompData;
/// let d = SeccompData { nr: 1, arch: 0xc000_003e, args: [1, 2, 3, 0, 0, 0], ..Default::default() };
/// assert_eq!(d.instruction_pointer, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeccompData {
    /// The syscall number (as the ABI numbers it, e.g. with bit 30 set on x32).
    pub nr: i32,
    /// The `AUDIT_ARCH_*` value of the ABI of the call.
    pub arch: u32,
    /// Address of the syscall instruction.
    pub instruction_pointer: u64,
    /// The six syscall arguments, each widened to 64 bits.
    pub args: [u64; 6],
}

impl SeccompData {
    /// The 64 bytes the kernel hands the filter: `nr` at 0, `arch` at 4,
    /// `instruction_pointer` at 8 and `args[i]` at `16 + 8 * i`, every field in `endian`
    /// byte order (so on a big-endian ABI the high word of `args[0]` is at offset 16).
    ///
    /// ```
    /// use pure_seccomp::{bpf::SeccompData, Endian};
    /// let d = SeccompData { nr: 59, args: [0x1_0000_0002, 0, 0, 0, 0, 0], ..Default::default() };
    /// let le = d.to_bytes(Endian::Little);
    /// assert_eq!(&le[0..4], &[59, 0, 0, 0]);
    /// assert_eq!(&le[16..24], &[2, 0, 0, 0, 1, 0, 0, 0]);
    /// let be = d.to_bytes(Endian::Big);
    /// assert_eq!(&be[16..24], &[0, 0, 0, 1, 0, 0, 0, 2]);
    /// ```
    pub fn to_bytes(&self, endian: Endian) -> [u8; SECCOMP_DATA_SIZE] {
        let mut out = [0u8; SECCOMP_DATA_SIZE];
        let mut put = |at: usize, bytes: &[u8]| out[at..at + bytes.len()].copy_from_slice(bytes);
        match endian {
            Endian::Little => {
                put(0, &self.nr.to_le_bytes());
                put(4, &self.arch.to_le_bytes());
                put(8, &self.instruction_pointer.to_le_bytes());
                for (i, a) in self.args.iter().enumerate() {
                    put(16 + 8 * i, &a.to_le_bytes());
                }
            }
            Endian::Big => {
                put(0, &self.nr.to_be_bytes());
                put(4, &self.arch.to_be_bytes());
                put(8, &self.instruction_pointer.to_be_bytes());
                for (i, a) in self.args.iter().enumerate() {
                    put(16 + 8 * i, &a.to_be_bytes());
                }
            }
        }
        out
    }

    /// The inverse of [`to_bytes`](Self::to_bytes).
    ///
    /// ```
    /// use pure_seccomp::{bpf::SeccompData, Endian};
    /// let d = SeccompData { nr: -1, arch: 8, instruction_pointer: 0x1234, args: [1, 2, 3, 4, 5, u64::MAX] };
    /// assert_eq!(SeccompData::from_bytes(&d.to_bytes(Endian::Big), Endian::Big), d);
    /// ```
    pub fn from_bytes(bytes: &[u8; SECCOMP_DATA_SIZE], endian: Endian) -> Self {
        let mut w4 = [0u8; 4];
        let mut w8 = [0u8; 8];
        let mut u32_at = |at: usize| {
            w4.copy_from_slice(&bytes[at..at + 4]);
            match endian {
                Endian::Little => u32::from_le_bytes(w4),
                Endian::Big => u32::from_be_bytes(w4),
            }
        };
        let nr = u32_at(0) as i32;
        let arch = u32_at(4);
        let mut u64_at = |at: usize| {
            w8.copy_from_slice(&bytes[at..at + 8]);
            match endian {
                Endian::Little => u64::from_le_bytes(w8),
                Endian::Big => u64::from_be_bytes(w8),
            }
        };
        let instruction_pointer = u64_at(8);
        let mut args = [0u64; 6];
        for (i, a) in args.iter_mut().enumerate() {
            *a = u64_at(16 + 8 * i);
        }
        SeccompData {
            nr,
            arch,
            instruction_pointer,
            args,
        }
    }
}

/// Offset in `struct seccomp_data` of the low (`high == false`) or high 32-bit word of
/// `args[arg]` on an ABI of the given byte order.
///
/// ```
/// use pure_seccomp::{bpf::arg_word_offset, Endian};
/// assert_eq!(arg_word_offset(0, false, Endian::Little), 16);
/// assert_eq!(arg_word_offset(0, true, Endian::Little), 20);
/// assert_eq!(arg_word_offset(1, false, Endian::Big), 28);
/// assert_eq!(arg_word_offset(1, true, Endian::Big), 24);
/// ```
pub const fn arg_word_offset(arg: u32, high: bool, endian: Endian) -> u32 {
    let base = SECCOMP_DATA_ARGS_OFFSET + 8 * arg;
    let second = match endian {
        Endian::Little => high,
        Endian::Big => !high,
    };
    if second {
        base + 4
    } else {
        base
    }
}

/// What a [`simulate`] run produced.
///
/// ```
/// use pure_seccomp::{bpf::*, Endian};
/// let prog = [Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)];
/// let out = simulate(&prog, &SeccompData::default(), Endian::Little)?;
/// assert_eq!(out, Outcome { ret: SECCOMP_RET_ALLOW, executed: 1 });
/// # Ok::<(), BpfError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The filter's return value (action and data).
    pub ret: u32,
    /// How many instructions ran, the final return included.
    pub executed: usize,
}

/// Why a program is rejected (by [`validate`]), cannot run (in [`simulate`]) or cannot be
/// read (by [`decode`]).
///
/// ```
/// use pure_seccomp::bpf::*;
/// let err = validate(&[Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 2),
///                      Instruction::stmt(BPF_RET | BPF_A, 0)]).unwrap_err();
/// assert_eq!(err, BpfError::MisalignedLoad { index: 0, k: 2 });
/// assert!(err.to_string().starts_with("instruction 0:"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BpfError {
    /// The program has no instructions.
    #[error("empty program: a filter needs at least one instruction")]
    Empty,
    /// The program has more than [`BPF_MAXINSNS`] instructions.
    #[error("program has {len} instructions, more than the maximum of 4096")]
    TooLong {
        /// Number of instructions.
        len: usize,
    },
    /// The opcode is not a classic BPF instruction the kernel knows.
    #[error("instruction {index}: unknown opcode {code:#06x}")]
    UnknownOpcode {
        /// Index of the instruction.
        index: usize,
        /// Its opcode.
        code: u16,
    },
    /// Division or modulo by the constant 0.
    #[error("instruction {index}: division or modulo by constant zero")]
    DivisionByZero {
        /// Index of the instruction.
        index: usize,
    },
    /// Shift by a constant of 32 or more.
    #[error("instruction {index}: shift by constant {k}, must be below 32")]
    ShiftOutOfRange {
        /// Index of the instruction.
        index: usize,
        /// The shift amount.
        k: u32,
    },
    /// Scratch memory index of 16 or more.
    #[error("instruction {index}: scratch memory index {k} out of range (M[0] to M[15])")]
    ScratchOutOfRange {
        /// Index of the instruction.
        index: usize,
        /// The memory index.
        k: u32,
    },
    /// A jump whose target is at or past the end of the program.
    #[error("instruction {index}: jump to {target} is past the last instruction {last}")]
    JumpOutOfRange {
        /// Index of the jump.
        index: usize,
        /// Absolute index the jump goes to.
        target: u64,
        /// Index of the last instruction of the program.
        last: usize,
    },
    /// An absolute load from the kernel's ancillary area (`SKF_AD_OFF` and up) it does not know.
    #[error("instruction {index}: load from unknown ancillary offset {k:#010x}")]
    UnknownAncillary {
        /// Index of the instruction.
        index: usize,
        /// The offset.
        k: u32,
    },
    /// The last instruction is not a return.
    #[error(
        "instruction {index}: the last instruction must be a return, found opcode {code:#06x}"
    )]
    NoFinalReturn {
        /// Index of the last instruction.
        index: usize,
        /// Its opcode.
        code: u16,
    },
    /// A scratch memory word may be read before anything was stored in it.
    #[error("instruction {index}: reads M[{k}], which is not stored on every path to it")]
    UninitializedScratch {
        /// Index of the instruction.
        index: usize,
        /// The memory index.
        k: u32,
    },
    /// A classic BPF opcode seccomp does not accept (packet loads, `ldxb msh`, `mod`).
    #[error("instruction {index}: opcode {code:#06x} is not allowed in a seccomp filter")]
    NotAllowedInSeccomp {
        /// Index of the instruction.
        index: usize,
        /// Its opcode.
        code: u16,
    },
    /// A 32-bit load from `seccomp_data` at an offset not 4-byte aligned or not below 64.
    #[error(
        "instruction {index}: load from offset {k:#x}: seccomp loads must be 4-byte aligned and below 64"
    )]
    MisalignedLoad {
        /// Index of the instruction.
        index: usize,
        /// The offset.
        k: u32,
    },
    /// During simulation: a load reads bytes outside the 64 bytes of `seccomp_data`.
    #[error("instruction {index}: load from offset {k:#x} reads outside the 64-byte seccomp_data")]
    LoadOutOfRange {
        /// Index of the instruction.
        index: usize,
        /// The offset.
        k: u32,
    },
    /// During simulation: a known classic BPF opcode the simulator does not run because it
    /// needs socket-filter (packet) semantics.
    #[error("instruction {index}: opcode {code:#06x} (packet access) cannot be simulated on seccomp data")]
    Unsupported {
        /// Index of the instruction.
        index: usize,
        /// Its opcode.
        code: u16,
    },
    /// During simulation: execution went past the last instruction without returning.
    #[error("execution ran past the last instruction of the {len}-instruction program")]
    FellOffEnd {
        /// Number of instructions.
        len: usize,
    },
    /// [`decode`] was given a byte count that is not a multiple of 8.
    #[error("{len} bytes is not a whole number of 8-byte instructions")]
    BadLength {
        /// Number of bytes.
        len: usize,
    },
}

/// The bytes of a program as the kernel reads them: 8 bytes per instruction, `code` (u16),
/// `jt`, `jf`, `k` (u32), the integers in `endian` byte order.
///
/// ```
/// use pure_seccomp::{bpf::*, Endian};
/// let prog = [Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)];
/// assert_eq!(encode(&prog, Endian::Little), [0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]);
/// assert_eq!(encode(&prog, Endian::Big), [0, 0x06, 0, 0, 0x7f, 0xff, 0, 0]);
/// ```
pub fn encode(prog: &[Instruction], endian: Endian) -> Vec<u8> {
    let mut v = Vec::with_capacity(prog.len() * 8);
    for i in prog {
        let (code, k) = match endian {
            Endian::Little => (i.code.to_le_bytes(), i.k.to_le_bytes()),
            Endian::Big => (i.code.to_be_bytes(), i.k.to_be_bytes()),
        };
        v.extend_from_slice(&code);
        v.push(i.jt);
        v.push(i.jf);
        v.extend_from_slice(&k);
    }
    v
}

/// Reads a program written by [`encode`] (or by libseccomp's `seccomp_export_bpf`); fails
/// with [`BpfError::BadLength`] if the length is not a multiple of 8. An empty slice gives
/// an empty program.
///
/// ```
/// use pure_seccomp::{bpf::*, Endian};
/// let prog = decode(&[0x06, 0, 0, 0, 0, 0, 0xff, 0x7f], Endian::Little)?;
/// assert_eq!(prog, [Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)]);
/// assert_eq!(decode(&[0; 7], Endian::Little), Err(BpfError::BadLength { len: 7 }));
/// # Ok::<(), BpfError>(())
/// ```
pub fn decode(bytes: &[u8], endian: Endian) -> Result<Vec<Instruction>, BpfError> {
    if bytes.len() % 8 != 0 {
        return Err(BpfError::BadLength { len: bytes.len() });
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| {
            let code = [c[0], c[1]];
            let k = [c[4], c[5], c[6], c[7]];
            let (code, k) = match endian {
                Endian::Little => (u16::from_le_bytes(code), u32::from_le_bytes(k)),
                Endian::Big => (u16::from_be_bytes(code), u32::from_be_bytes(k)),
            };
            Instruction {
                code,
                jt: c[2],
                jf: c[3],
                k,
            }
        })
        .collect())
}

/// Full opcodes of every classic BPF instruction the kernel knows, and which of them seccomp
/// accepts; shared by the validator, the simulator and the disassembler.
pub(crate) mod opcodes {
    use super::consts::*;

    pub(crate) const ADD_K: u16 = BPF_ALU | BPF_ADD | BPF_K;
    pub(crate) const ADD_X: u16 = BPF_ALU | BPF_ADD | BPF_X;
    pub(crate) const SUB_K: u16 = BPF_ALU | BPF_SUB | BPF_K;
    pub(crate) const SUB_X: u16 = BPF_ALU | BPF_SUB | BPF_X;
    pub(crate) const MUL_K: u16 = BPF_ALU | BPF_MUL | BPF_K;
    pub(crate) const MUL_X: u16 = BPF_ALU | BPF_MUL | BPF_X;
    pub(crate) const DIV_K: u16 = BPF_ALU | BPF_DIV | BPF_K;
    pub(crate) const DIV_X: u16 = BPF_ALU | BPF_DIV | BPF_X;
    pub(crate) const MOD_K: u16 = BPF_ALU | BPF_MOD | BPF_K;
    pub(crate) const MOD_X: u16 = BPF_ALU | BPF_MOD | BPF_X;
    pub(crate) const AND_K: u16 = BPF_ALU | BPF_AND | BPF_K;
    pub(crate) const AND_X: u16 = BPF_ALU | BPF_AND | BPF_X;
    pub(crate) const OR_K: u16 = BPF_ALU | BPF_OR | BPF_K;
    pub(crate) const OR_X: u16 = BPF_ALU | BPF_OR | BPF_X;
    pub(crate) const XOR_K: u16 = BPF_ALU | BPF_XOR | BPF_K;
    pub(crate) const XOR_X: u16 = BPF_ALU | BPF_XOR | BPF_X;
    pub(crate) const LSH_K: u16 = BPF_ALU | BPF_LSH | BPF_K;
    pub(crate) const LSH_X: u16 = BPF_ALU | BPF_LSH | BPF_X;
    pub(crate) const RSH_K: u16 = BPF_ALU | BPF_RSH | BPF_K;
    pub(crate) const RSH_X: u16 = BPF_ALU | BPF_RSH | BPF_X;
    pub(crate) const NEG: u16 = BPF_ALU | BPF_NEG;

    pub(crate) const LD_W_ABS: u16 = BPF_LD | BPF_W | BPF_ABS;
    pub(crate) const LD_H_ABS: u16 = BPF_LD | BPF_H | BPF_ABS;
    pub(crate) const LD_B_ABS: u16 = BPF_LD | BPF_B | BPF_ABS;
    pub(crate) const LD_W_IND: u16 = BPF_LD | BPF_W | BPF_IND;
    pub(crate) const LD_H_IND: u16 = BPF_LD | BPF_H | BPF_IND;
    pub(crate) const LD_B_IND: u16 = BPF_LD | BPF_B | BPF_IND;
    pub(crate) const LD_W_LEN: u16 = BPF_LD | BPF_W | BPF_LEN;
    pub(crate) const LD_IMM: u16 = BPF_LD | BPF_IMM;
    pub(crate) const LD_MEM: u16 = BPF_LD | BPF_MEM;
    pub(crate) const LDX_W_LEN: u16 = BPF_LDX | BPF_W | BPF_LEN;
    pub(crate) const LDX_B_MSH: u16 = BPF_LDX | BPF_B | BPF_MSH;
    pub(crate) const LDX_IMM: u16 = BPF_LDX | BPF_IMM;
    pub(crate) const LDX_MEM: u16 = BPF_LDX | BPF_MEM;
    pub(crate) const ST: u16 = BPF_ST;
    pub(crate) const STX: u16 = BPF_STX;
    pub(crate) const TAX: u16 = BPF_MISC | BPF_TAX;
    pub(crate) const TXA: u16 = BPF_MISC | BPF_TXA;
    pub(crate) const RET_K: u16 = BPF_RET | BPF_K;
    pub(crate) const RET_A: u16 = BPF_RET | BPF_A;

    pub(crate) const JA: u16 = BPF_JMP | BPF_JA;
    pub(crate) const JEQ_K: u16 = BPF_JMP | BPF_JEQ | BPF_K;
    pub(crate) const JEQ_X: u16 = BPF_JMP | BPF_JEQ | BPF_X;
    pub(crate) const JGT_K: u16 = BPF_JMP | BPF_JGT | BPF_K;
    pub(crate) const JGT_X: u16 = BPF_JMP | BPF_JGT | BPF_X;
    pub(crate) const JGE_K: u16 = BPF_JMP | BPF_JGE | BPF_K;
    pub(crate) const JGE_X: u16 = BPF_JMP | BPF_JGE | BPF_X;
    pub(crate) const JSET_K: u16 = BPF_JMP | BPF_JSET | BPF_K;
    pub(crate) const JSET_X: u16 = BPF_JMP | BPF_JSET | BPF_X;

    /// Whether seccomp accepts the opcode (the list of `seccomp_check_filter`).
    pub(crate) fn is_seccomp(code: u16) -> bool {
        matches!(
            code,
            ADD_K
                | ADD_X
                | SUB_K
                | SUB_X
                | MUL_K
                | MUL_X
                | DIV_K
                | DIV_X
                | AND_K
                | AND_X
                | OR_K
                | OR_X
                | XOR_K
                | XOR_X
                | LSH_K
                | LSH_X
                | RSH_K
                | RSH_X
                | NEG
                | LD_W_ABS
                | LD_W_LEN
                | LD_IMM
                | LD_MEM
                | LDX_W_LEN
                | LDX_IMM
                | LDX_MEM
                | ST
                | STX
                | TAX
                | TXA
                | RET_K
                | RET_A
                | JA
                | JEQ_K
                | JEQ_X
                | JGT_K
                | JGT_X
                | JGE_K
                | JGE_X
                | JSET_K
                | JSET_X
        )
    }

    /// Whether the kernel's classic BPF checker knows the opcode (`chk_code_allowed`): the
    /// seccomp ones plus `mod` and the socket-filter packet loads.
    pub(crate) fn is_classic(code: u16) -> bool {
        is_seccomp(code)
            || matches!(
                code,
                MOD_K | MOD_X | LD_H_ABS | LD_B_ABS | LD_W_IND | LD_H_IND | LD_B_IND | LDX_B_MSH
            )
    }

    /// Whether the opcode is one of the eight conditional jumps.
    pub(crate) fn is_cond_jump(code: u16) -> bool {
        matches!(
            code,
            JEQ_K | JEQ_X | JGT_K | JGT_X | JGE_K | JGE_X | JSET_K | JSET_X
        )
    }
}

#[cfg(test)]
mod tests;
