//! An interpreter for classic BPF seccomp filters.

use super::consts::{BPF_MEMWORDS, SECCOMP_DATA_SIZE};
use super::opcodes::*;
use super::{BpfError, Instruction, Outcome, SeccompData};
use crate::arch::Endian;

/// Runs a filter on one `seccomp_data`, with the kernel's classic BPF semantics.
///
/// The data is laid out as [`SeccompData::to_bytes`] does for `endian`, the byte order of
/// the ABI the filter is written for; `ld [k]` reads the 32-bit word at offset `k` in that
/// order and `ld #len`/`ldx #len` load 64. A and X start at 0 and are 32 bits wide; the ALU
/// wraps; a shift by X uses the low 5 bits of X; a division or modulo by an X of 0 ends the
/// filter with return value 0, as the kernel does. Jumps are relative to the next
/// instruction. `mod`, which only socket filters may use, is run too.
///
/// The program need not have passed [`validate`](super::validate): anything the kernel
/// would have refused at load time and that cannot be given a meaning is an error instead
/// of a result ([`BpfError::JumpOutOfRange`], [`BpfError::LoadOutOfRange`],
/// [`BpfError::ScratchOutOfRange`], [`BpfError::UninitializedScratch`],
/// [`BpfError::DivisionByZero`] and [`BpfError::ShiftOutOfRange`] for constants,
/// [`BpfError::UnknownOpcode`], [`BpfError::Unsupported`] for packet loads,
/// [`BpfError::FellOffEnd`]). Unaligned `ld [k]` inside the data reads the 4 bytes at `k`.
/// Every jump goes forward, so a run takes at most `prog.len()` steps.
///
/// ```
/// use pure_seccomp::{bpf::*, Endian};
/// // Kill unless args[0] (its low word) is at most 2.
/// let prog = [
///     Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, arg_word_offset(0, false, Endian::Big)),
///     Instruction::jump(BPF_JMP | BPF_JGT | BPF_K, 2, 1, 0),
///     Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
///     Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
/// ];
/// let mut data = SeccompData { args: [2, 0, 0, 0, 0, 0], ..Default::default() };
/// assert_eq!(simulate(&prog, &data, Endian::Big)?, Outcome { ret: SECCOMP_RET_ALLOW, executed: 3 });
/// data.args[0] = 3;
/// assert_eq!(simulate(&prog, &data, Endian::Big)?.ret, SECCOMP_RET_KILL_PROCESS);
/// # Ok::<(), BpfError>(())
/// ```
pub fn simulate(
    prog: &[Instruction],
    data: &SeccompData,
    endian: Endian,
) -> Result<Outcome, BpfError> {
    run(prog, data, endian, None)
}

/// Like [`simulate`], and also gives the path taken: the index of every instruction that
/// ran, in order (the final return included, so its length is [`Outcome::executed`]).
/// On an error, the path up to the failing instruction is lost with the result.
///
/// ```
/// use pure_seccomp::{bpf::*, Endian};
/// let prog = [
///     Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
///     Instruction::jump(BPF_JMP | BPF_JEQ | BPF_K, 59, 0, 1),
///     Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
///     Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
/// ];
/// let data = SeccompData { nr: 1, ..Default::default() };
/// let (out, path) = simulate_path(&prog, &data, Endian::Little)?;
/// assert_eq!(out.ret, SECCOMP_RET_ALLOW);
/// assert_eq!(path, [0, 1, 3]);
/// # Ok::<(), BpfError>(())
/// ```
pub fn simulate_path(
    prog: &[Instruction],
    data: &SeccompData,
    endian: Endian,
) -> Result<(Outcome, Vec<usize>), BpfError> {
    let mut path = Vec::new();
    let out = run(prog, data, endian, Some(&mut path))?;
    Ok((out, path))
}

/// The interpreter behind [`simulate`] and [`simulate_path`]; records each index run in
/// `path` when given.
fn run(
    prog: &[Instruction],
    data: &SeccompData,
    endian: Endian,
    mut path: Option<&mut Vec<usize>>,
) -> Result<Outcome, BpfError> {
    let bytes = data.to_bytes(endian);
    let len = prog.len();
    let mut m = Machine {
        a: 0,
        x: 0,
        mem: [0; BPF_MEMWORDS],
        stored: 0,
    };
    let mut pc = 0usize;
    let mut executed = 0usize;
    while let Some(&ins) = prog.get(pc) {
        executed += 1;
        let index = pc;
        if let Some(path) = path.as_deref_mut() {
            path.push(index);
        }
        let k = ins.k;
        let jump = |by: u64| -> Result<usize, BpfError> {
            let target = index as u64 + 1 + by;
            match usize::try_from(target) {
                Ok(t) if t < len => Ok(t),
                _ => Err(BpfError::JumpOutOfRange {
                    index,
                    target,
                    last: len - 1,
                }),
            }
        };
        let cond = |taken: bool| jump(u64::from(if taken { ins.jt } else { ins.jf }));
        pc += 1;
        match ins.code {
            LD_W_ABS => {
                m.a = load_word(&bytes, k, endian).ok_or(BpfError::LoadOutOfRange { index, k })?
            }
            LD_W_LEN => m.a = SECCOMP_DATA_SIZE as u32,
            LDX_W_LEN => m.x = SECCOMP_DATA_SIZE as u32,
            LD_IMM => m.a = k,
            LDX_IMM => m.x = k,
            LD_MEM => m.a = m.load(index, k)?,
            LDX_MEM => m.x = m.load(index, k)?,
            ST => m.store(index, k, m.a)?,
            STX => m.store(index, k, m.x)?,
            TAX => m.x = m.a,
            TXA => m.a = m.x,
            NEG => m.a = m.a.wrapping_neg(),
            ADD_K => m.a = m.a.wrapping_add(k),
            ADD_X => m.a = m.a.wrapping_add(m.x),
            SUB_K => m.a = m.a.wrapping_sub(k),
            SUB_X => m.a = m.a.wrapping_sub(m.x),
            MUL_K => m.a = m.a.wrapping_mul(k),
            MUL_X => m.a = m.a.wrapping_mul(m.x),
            AND_K => m.a &= k,
            AND_X => m.a &= m.x,
            OR_K => m.a |= k,
            OR_X => m.a |= m.x,
            XOR_K => m.a ^= k,
            XOR_X => m.a ^= m.x,
            DIV_K | MOD_K if k == 0 => return Err(BpfError::DivisionByZero { index }),
            DIV_K => m.a /= k,
            MOD_K => m.a %= k,
            DIV_X | MOD_X if m.x == 0 => return Ok(Outcome { ret: 0, executed }),
            DIV_X => m.a /= m.x,
            MOD_X => m.a %= m.x,
            LSH_K | RSH_K if k >= 32 => return Err(BpfError::ShiftOutOfRange { index, k }),
            LSH_K => m.a <<= k,
            RSH_K => m.a >>= k,
            LSH_X => m.a = m.a.wrapping_shl(m.x),
            RSH_X => m.a = m.a.wrapping_shr(m.x),
            RET_K => return Ok(Outcome { ret: k, executed }),
            RET_A => return Ok(Outcome { ret: m.a, executed }),
            JA => pc = jump(u64::from(k))?,
            JEQ_K => pc = cond(m.a == k)?,
            JEQ_X => pc = cond(m.a == m.x)?,
            JGT_K => pc = cond(m.a > k)?,
            JGT_X => pc = cond(m.a > m.x)?,
            JGE_K => pc = cond(m.a >= k)?,
            JGE_X => pc = cond(m.a >= m.x)?,
            JSET_K => pc = cond(m.a & k != 0)?,
            JSET_X => pc = cond(m.a & m.x != 0)?,
            code if is_classic(code) => return Err(BpfError::Unsupported { index, code }),
            code => return Err(BpfError::UnknownOpcode { index, code }),
        }
    }
    Err(BpfError::FellOffEnd { len })
}

/// Registers and scratch memory.
struct Machine {
    a: u32,
    x: u32,
    mem: [u32; BPF_MEMWORDS],
    /// One bit per scratch word written so far.
    stored: u16,
}

impl Machine {
    fn load(&self, index: usize, k: u32) -> Result<u32, BpfError> {
        let slot = *self
            .mem
            .get(k as usize)
            .ok_or(BpfError::ScratchOutOfRange { index, k })?;
        if self.stored & (1 << k) == 0 {
            return Err(BpfError::UninitializedScratch { index, k });
        }
        Ok(slot)
    }

    fn store(&mut self, index: usize, k: u32, value: u32) -> Result<(), BpfError> {
        let slot = self
            .mem
            .get_mut(k as usize)
            .ok_or(BpfError::ScratchOutOfRange { index, k })?;
        *slot = value;
        self.stored |= 1 << k;
        Ok(())
    }
}

/// The 32-bit word at byte offset `k` of the data, if all four bytes are inside it.
fn load_word(bytes: &[u8; SECCOMP_DATA_SIZE], k: u32, endian: Endian) -> Option<u32> {
    let start = usize::try_from(k).ok()?;
    let word: [u8; 4] = bytes.get(start..start.checked_add(4)?)?.try_into().ok()?;
    Some(match endian {
        Endian::Little => u32::from_le_bytes(word),
        Endian::Big => u32::from_be_bytes(word),
    })
}
