//! Constants of classic BPF (`linux/bpf_common.h`, `linux/filter.h`) and of seccomp
//! (`linux/seccomp.h`), with the kernel's names and values.
//!
//! Opcode parts are `u16` (the type of [`Instruction::code`](super::Instruction::code)), and
//! are OR-ed together to form an opcode; return values are `u32` like the filter's result.

// ---- instruction classes ------------------------------------------------------------------

/// Class: load into the accumulator A.
pub const BPF_LD: u16 = 0x00;
/// Class: load into the index register X.
pub const BPF_LDX: u16 = 0x01;
/// Class: store A into scratch memory.
pub const BPF_ST: u16 = 0x02;
/// Class: store X into scratch memory.
pub const BPF_STX: u16 = 0x03;
/// Class: arithmetic and logic on A.
pub const BPF_ALU: u16 = 0x04;
/// Class: jumps.
pub const BPF_JMP: u16 = 0x05;
/// Class: return from the filter.
pub const BPF_RET: u16 = 0x06;
/// Class: register transfers (`tax`, `txa`).
pub const BPF_MISC: u16 = 0x07;

// ---- load sizes -------------------------------------------------------------------------

/// Load size: 32-bit word.
pub const BPF_W: u16 = 0x00;
/// Load size: 16-bit half word.
pub const BPF_H: u16 = 0x08;
/// Load size: byte.
pub const BPF_B: u16 = 0x10;

// ---- load modes -------------------------------------------------------------------------

/// Load mode: the constant `k`.
pub const BPF_IMM: u16 = 0x00;
/// Load mode: data at absolute offset `k`.
pub const BPF_ABS: u16 = 0x20;
/// Load mode: data at offset `X + k`.
pub const BPF_IND: u16 = 0x40;
/// Load mode: scratch memory word `M[k]`.
pub const BPF_MEM: u16 = 0x60;
/// Load mode: length of the data (64 for seccomp).
pub const BPF_LEN: u16 = 0x80;
/// Load mode: `4 * (byte[k] & 0xf)` (IP header length; socket filters only).
pub const BPF_MSH: u16 = 0xa0;

// ---- ALU operations ---------------------------------------------------------------------

/// ALU: `A += src`.
pub const BPF_ADD: u16 = 0x00;
/// ALU: `A -= src`.
pub const BPF_SUB: u16 = 0x10;
/// ALU: `A *= src`.
pub const BPF_MUL: u16 = 0x20;
/// ALU: `A /= src` (unsigned).
pub const BPF_DIV: u16 = 0x30;
/// ALU: `A |= src`.
pub const BPF_OR: u16 = 0x40;
/// ALU: `A &= src`.
pub const BPF_AND: u16 = 0x50;
/// ALU: `A <<= src`.
pub const BPF_LSH: u16 = 0x60;
/// ALU: `A >>= src` (logical).
pub const BPF_RSH: u16 = 0x70;
/// ALU: `A = -A`.
pub const BPF_NEG: u16 = 0x80;
/// ALU: `A %= src` (not allowed in seccomp filters).
pub const BPF_MOD: u16 = 0x90;
/// ALU: `A ^= src`.
pub const BPF_XOR: u16 = 0xa0;

// ---- jumps ------------------------------------------------------------------------------

/// Jump: always, by `k`.
pub const BPF_JA: u16 = 0x00;
/// Jump: `A == src`.
pub const BPF_JEQ: u16 = 0x10;
/// Jump: `A > src` (unsigned).
pub const BPF_JGT: u16 = 0x20;
/// Jump: `A >= src` (unsigned).
pub const BPF_JGE: u16 = 0x30;
/// Jump: `A & src != 0`.
pub const BPF_JSET: u16 = 0x40;

// ---- operand sources --------------------------------------------------------------------

/// Source: the constant `k`.
pub const BPF_K: u16 = 0x00;
/// Source: the index register X.
pub const BPF_X: u16 = 0x08;
/// Return value source: the accumulator A (`ret a`).
pub const BPF_A: u16 = 0x10;

// ---- misc -------------------------------------------------------------------------------

/// Misc: `X = A`.
pub const BPF_TAX: u16 = 0x00;
/// Misc: `A = X`.
pub const BPF_TXA: u16 = 0x80;

// ---- limits -----------------------------------------------------------------------------

/// Maximum number of instructions in one program.
pub const BPF_MAXINSNS: usize = 4096;
/// Number of 32-bit scratch memory words (`M[0]` to `M[15]`).
pub const BPF_MEMWORDS: usize = 16;

// ---- seccomp return values --------------------------------------------------------------

/// Kill the whole process.
pub const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
/// Kill the calling thread.
pub const SECCOMP_RET_KILL_THREAD: u32 = 0x0000_0000;
/// Old name of [`SECCOMP_RET_KILL_THREAD`].
pub const SECCOMP_RET_KILL: u32 = SECCOMP_RET_KILL_THREAD;
/// Send `SIGSYS` (the data goes to `si_errno`).
pub const SECCOMP_RET_TRAP: u32 = 0x0003_0000;
/// Fail the call with the errno in the data.
pub const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
/// Hand the call to a user-space supervisor.
pub const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;
/// Hand the call to a ptrace tracer (the data is the event message).
pub const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
/// Allow the call after logging it.
pub const SECCOMP_RET_LOG: u32 = 0x7ffc_0000;
/// Allow the call.
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
/// Mask of the action part of a return value, sign bit included.
pub const SECCOMP_RET_ACTION_FULL: u32 = 0xffff_0000;
/// Mask of the action part of a return value, without the sign bit.
pub const SECCOMP_RET_ACTION: u32 = 0x7fff_0000;
/// Mask of the data part of a return value.
pub const SECCOMP_RET_DATA: u32 = 0x0000_ffff;

// ---- struct seccomp_data ----------------------------------------------------------------

/// Size in bytes of `struct seccomp_data`, the value `BPF_LEN` loads.
pub const SECCOMP_DATA_SIZE: usize = 64;
/// Offset of `nr` in `struct seccomp_data`.
pub const SECCOMP_DATA_NR_OFFSET: u32 = 0;
/// Offset of `arch` in `struct seccomp_data`.
pub const SECCOMP_DATA_ARCH_OFFSET: u32 = 4;
/// Offset of `instruction_pointer` in `struct seccomp_data`.
pub const SECCOMP_DATA_IP_OFFSET: u32 = 8;
/// Offset of `args[0]` in `struct seccomp_data` (`args[i]` is at `16 + 8 * i`).
pub const SECCOMP_DATA_ARGS_OFFSET: u32 = 16;

/// First offset of the kernel's "ancillary data" loads for socket filters (`SKF_AD_OFF`).
pub(crate) const SKF_AD_OFF: u32 = 0xffff_f000;
/// Number of bytes of ancillary offsets the kernel knows (`SKF_AD_MAX`).
pub(crate) const SKF_AD_MAX: u32 = 64;
