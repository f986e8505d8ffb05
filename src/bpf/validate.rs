//! The checks the kernel makes when a seccomp filter is attached.

use super::consts::{BPF_MAXINSNS, BPF_MEMWORDS, SECCOMP_DATA_SIZE, SKF_AD_MAX, SKF_AD_OFF};
use super::opcodes::*;
use super::{BpfError, Instruction};

/// Checks a program the way the kernel does when it is attached as a seccomp filter:
/// first the classic BPF checks ([`check_classic`]), then seccomp's own: only the opcodes
/// seccomp supports (no packet loads, no `mod`), and 32-bit absolute loads 4-byte aligned
/// and inside the 64 bytes of `seccomp_data`.
///
/// The first problem found is reported, in the order the kernel looks for them.
///
/// ```
/// use pure_seccomp::bpf::*;
/// let ok = [
///     Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
///     Instruction::jump(BPF_JMP | BPF_JEQ | BPF_K, 59, 0, 1),
///     Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
///     Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
/// ];
/// assert_eq!(validate(&ok), Ok(()));
///
/// let byte_load = [Instruction::stmt(BPF_LD | BPF_B | BPF_ABS, 0), ok[3]];
/// assert_eq!(
///     validate(&byte_load),
///     Err(BpfError::NotAllowedInSeccomp { index: 0, code: 0x30 })
/// );
/// ```
pub fn validate(prog: &[Instruction]) -> Result<(), BpfError> {
    check_classic(prog)?;
    check_seccomp(prog)
}

/// The classic BPF checks alone (the kernel's `bpf_check_classic`, as for a socket filter):
/// 1 to [`BPF_MAXINSNS`](super::BPF_MAXINSNS) instructions, only known opcodes, no division
/// or modulo by constant 0, constant shifts below 32, scratch memory indexes below 16, every
/// jump target inside the program, no unknown ancillary load, a return as the last
/// instruction, and no scratch memory word read on a path that has not stored it.
///
/// ```
/// use pure_seccomp::bpf::*;
/// // `ldh [0]` is fine for a socket filter but not for seccomp.
/// let prog = [
///     Instruction::stmt(BPF_LD | BPF_H | BPF_ABS, 0),
///     Instruction::stmt(BPF_RET | BPF_A, 0),
/// ];
/// assert_eq!(check_classic(&prog), Ok(()));
/// assert!(validate(&prog).is_err());
///
/// let uninit = [
///     Instruction::stmt(BPF_LD | BPF_MEM, 3),
///     Instruction::stmt(BPF_RET | BPF_A, 0),
/// ];
/// assert_eq!(check_classic(&uninit), Err(BpfError::UninitializedScratch { index: 0, k: 3 }));
/// ```
pub fn check_classic(prog: &[Instruction]) -> Result<(), BpfError> {
    let len = prog.len();
    if len == 0 {
        return Err(BpfError::Empty);
    }
    if len > BPF_MAXINSNS {
        return Err(BpfError::TooLong { len });
    }
    let last = len - 1;
    for (index, ins) in prog.iter().enumerate() {
        let (code, k) = (ins.code, ins.k);
        if !is_classic(code) {
            return Err(BpfError::UnknownOpcode { index, code });
        }
        let jump_check = |target: u64| {
            if target > last as u64 {
                Err(BpfError::JumpOutOfRange {
                    index,
                    target,
                    last,
                })
            } else {
                Ok(())
            }
        };
        match code {
            DIV_K | MOD_K if k == 0 => return Err(BpfError::DivisionByZero { index }),
            LSH_K | RSH_K if k >= 32 => return Err(BpfError::ShiftOutOfRange { index, k }),
            LD_MEM | LDX_MEM | ST | STX if k as usize >= BPF_MEMWORDS => {
                return Err(BpfError::ScratchOutOfRange { index, k })
            }
            JA => jump_check(index as u64 + 1 + u64::from(k))?,
            c if is_cond_jump(c) => {
                jump_check(index as u64 + 1 + u64::from(ins.jt))?;
                jump_check(index as u64 + 1 + u64::from(ins.jf))?;
            }
            LD_W_ABS | LD_H_ABS | LD_B_ABS if k >= SKF_AD_OFF && !is_known_ancillary(k) => {
                return Err(BpfError::UnknownAncillary { index, k })
            }
            _ => {}
        }
    }
    let end = prog[last];
    if !matches!(end.code, RET_K | RET_A) {
        return Err(BpfError::NoFinalReturn {
            index: last,
            code: end.code,
        });
    }
    check_scratch_init(prog)
}

/// Whether `k` is one of the ancillary offsets (`SKF_AD_OFF + SKF_AD_*`) the kernel knows.
fn is_known_ancillary(k: u32) -> bool {
    let rel = k.wrapping_sub(SKF_AD_OFF);
    k >= SKF_AD_OFF && rel < SKF_AD_MAX && rel % 4 == 0
}

/// The scratch memory dataflow check (the kernel's `check_load_and_stores`), on a program
/// whose jumps and memory indexes were already checked.
///
/// Walking forward, `valid` holds one bit per scratch word stored on the path that falls
/// through to the instruction; `at[pc]` is the intersection of what the jumps to `pc`
/// bring. A jump ends fall-through, so after one everything is "valid" until intersected
/// with the next instruction's incoming jumps. Like the kernel, a return does not reset
/// the state, which can only make the check stricter.
fn check_scratch_init(prog: &[Instruction]) -> Result<(), BpfError> {
    let mut at = vec![u16::MAX; prog.len()];
    let mut valid: u16 = 0;
    for (pc, ins) in prog.iter().enumerate() {
        valid &= at[pc];
        let bit = 1u16.checked_shl(ins.k).unwrap_or(0);
        match ins.code {
            ST | STX => valid |= bit,
            LD_MEM | LDX_MEM if valid & bit == 0 => {
                return Err(BpfError::UninitializedScratch {
                    index: pc,
                    k: ins.k,
                });
            }
            JA => {
                meet(&mut at, pc as u64 + 1 + u64::from(ins.k), valid);
                valid = u16::MAX;
            }
            c if is_cond_jump(c) => {
                meet(&mut at, pc as u64 + 1 + u64::from(ins.jt), valid);
                meet(&mut at, pc as u64 + 1 + u64::from(ins.jf), valid);
                valid = u16::MAX;
            }
            _ => {}
        }
    }
    Ok(())
}

fn meet(at: &mut [u16], target: u64, valid: u16) {
    if let Some(slot) = usize::try_from(target).ok().and_then(|t| at.get_mut(t)) {
        *slot &= valid;
    }
}

/// The seccomp-specific checks (the kernel's `seccomp_check_filter`).
fn check_seccomp(prog: &[Instruction]) -> Result<(), BpfError> {
    for (index, ins) in prog.iter().enumerate() {
        let (code, k) = (ins.code, ins.k);
        if code == LD_W_ABS {
            if k as usize >= SECCOMP_DATA_SIZE || k % 4 != 0 {
                return Err(BpfError::MisalignedLoad { index, k });
            }
        } else if !is_seccomp(code) {
            return Err(BpfError::NotAllowedInSeccomp { index, code });
        }
    }
    Ok(())
}
