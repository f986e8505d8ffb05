//! The kernel's seccomp action cache: which syscall numbers a filter lets through without
//! the kernel running it ([`cacheable`]).

use super::consts::SECCOMP_RET_ALLOW;
use super::opcodes::{AND_K, JA, JEQ_K, JGE_K, JGT_K, JSET_K, LD_W_ABS, RET_K};
use super::Instruction;
use crate::arch::ScmpArch;
use std::ops::Range;

/// Whether the kernel's seccomp action cache marks syscall number `nr` of the architecture
/// whose `AUDIT_ARCH_*` value is `arch_token` as always allowed by `prog`, so that its calls
/// skip the filter.
///
/// Since Linux 5.11, when a filter is attached the kernel emulates it once for every
/// syscall number `0..NR_syscalls` of the kernel's native architecture (and of its compat
/// architecture, e.g. i386 on x86-64), knowing only `seccomp_data.nr` and
/// `seccomp_data.arch`, and starting with `A == 0`. A number whose run reaches a `ret` of
/// exactly `SECCOMP_RET_ALLOW` through nothing but
///
/// * `ld [0]` (the number) and `ld [4]` (the architecture),
/// * `ja`, and `jeq`/`jge`/`jgt`/`jset` against a constant,
/// * `and` with a constant,
///
/// is marked as always allowed. Anything else on the path (a load of an argument or of the
/// instruction pointer, any other ALU or `X` register operation, `ld #k`, scratch memory,
/// `ret A`, a return of any other value, even `ALLOW` with data bits) makes the number
/// uncacheable: its calls run the filter every time. This function applies the same rules.
///
/// Only the kernel's own architectures are cached: on an x86-64 kernel x86-64 and i386 are,
/// but x32 calls never are (their numbers, with bit 30 set, are past x86-64's
/// `NR_syscalls`); MIPS kernels do not implement the cache. With several filters attached a
/// number stays cached only while every filter allows it so. Recent kernels also let
/// x86-64's `uretprobe` (and later `uprobe`) syscall through whatever the filter says; that
/// exception is not part of the filter and is not modelled here.
///
/// The program is not checked (the kernel only emulates programs it accepted, see
/// [`validate`](super::validate)); on a malformed one this gives the answer of the kernel's
/// emulation rules, without panicking: an empty program, or a run that jumps or falls past
/// the last instruction, is not cacheable. Jump targets are computed without wrapping
/// around, so the run always ends (every step moves forward).
///
/// ```
/// use pure_seccomp::bpf::*;
///
/// const X86_64: u32 = 0xc000_003e;
/// // Allow read (0) and write (1); getpid (39) only with a zero first argument.
/// let prog = [
///     Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
///     Instruction::jump(BPF_JMP | BPF_JEQ | BPF_K, X86_64, 0, 6),
///     Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
///     Instruction::jump(BPF_JMP | BPF_JGT | BPF_K, 1, 0, 3),
///     Instruction::jump(BPF_JMP | BPF_JEQ | BPF_K, 39, 0, 3),
///     Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
///     Instruction::jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
///     Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
///     Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
/// ];
/// validate(&prog)?;
/// assert!(cacheable(&prog, X86_64, 0));
/// assert!(!cacheable(&prog, X86_64, 39)); // depends on an argument
/// assert!(!cacheable(&prog, X86_64, 2)); // always denied: nothing to cache
/// assert!(!cacheable(&prog, 0x4000_0003, 0)); // i386 calls are denied
/// assert_eq!(cacheable_set(&prog, X86_64, 0..400), [0, 1]);
///
/// let log_all = [Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_LOG)];
/// assert!(!cacheable(&log_all, X86_64, 0));
/// assert!(!cacheable(&[], X86_64, 0));
/// # Ok::<(), BpfError>(())
/// ```
pub fn cacheable(prog: &[Instruction], arch_token: u32, nr: u32) -> bool {
    let mut a: u32 = 0;
    let mut pc: usize = 0;
    while let Some(insn) = prog.get(pc) {
        let k = insn.k;
        match insn.code {
            LD_W_ABS => {
                a = match k {
                    0 => nr,
                    4 => arch_token,
                    // Any other field is not known at load time.
                    _ => return false,
                }
            }
            RET_K => return k == SECCOMP_RET_ALLOW,
            JA => pc = pc.saturating_add(usize::try_from(k).unwrap_or(usize::MAX)),
            JEQ_K | JGE_K | JGT_K | JSET_K => {
                let taken = match insn.code {
                    JEQ_K => a == k,
                    JGE_K => a >= k,
                    JGT_K => a > k,
                    _ => a & k != 0,
                };
                pc += usize::from(if taken { insn.jt } else { insn.jf });
            }
            AND_K => a &= k,
            _ => return false,
        }
        pc = pc.saturating_add(1);
    }
    // Ran past the end (only a malformed program can).
    false
}

/// The numbers in `nrs` that are [`cacheable`] for `arch_token`, in increasing order.
///
/// [`syscall_range`] gives the numbers of an architecture's syscall table.
///
/// ```
/// use pure_seccomp::bpf::*;
/// // Allow the numbers with bit 1 clear, below 8; deny everything else.
/// let prog = [
///     Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
///     Instruction::jump(BPF_JMP | BPF_JGE | BPF_K, 8, 2, 0),
///     Instruction::jump(BPF_JMP | BPF_JSET | BPF_K, 2, 1, 0),
///     Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
///     Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
/// ];
/// assert_eq!(cacheable_set(&prog, 0xc000_003e, 0..100), [0, 1, 4, 5]);
/// ```
pub fn cacheable_set(prog: &[Instruction], arch_token: u32, nrs: Range<u32>) -> Vec<u32> {
    nrs.filter(|&nr| cacheable(prog, arch_token, nr)).collect()
}

/// The syscall numbers of an architecture's table: `0` to the highest number it knows,
/// with the ABI's offset (MIPS o32 numbers start at 4000, so its range is `0..4000 + n`, as
/// the kernel's `NR_syscalls` is there). For x32 the range starts at the x32 bit
/// (`0x4000_0000`), since its numbers all carry it; the kernel never caches x32 calls.
/// Empty for [`ScmpArch::Native`] on a target this crate does not support.
///
/// The kernel's cache covers `0..NR_syscalls` of the running kernel, which may be larger
/// (newer syscalls) than these tables.
///
/// ```
/// use pure_seccomp::{bpf::syscall_range, ScmpArch};
/// let r = syscall_range(ScmpArch::X8664);
/// assert_eq!(r.start, 0);
/// assert!(r.contains(&59) && r.end < 1000);
/// assert!(syscall_range(ScmpArch::X32).contains(&(0x4000_0000 | 59)));
/// ```
pub fn syscall_range(arch: ScmpArch) -> Range<u32> {
    let Some(highest) = crate::syscall::highest_num(arch) else {
        return 0..0;
    };
    let Ok(highest) = u32::try_from(highest) else {
        return 0..0;
    };
    let start = match arch.resolve() {
        Some(ScmpArch::X32) => X32_SYSCALL_BIT,
        _ => 0,
    };
    start..highest.saturating_add(1)
}

/// Whether the kernel's action cache can let calls of `arch` through without running the
/// filter at all: true for every ABI but x32 (its numbers, with bit 30 set, are past
/// x86-64's `NR_syscalls`) and MIPS (whose kernels do not implement the cache).
///
/// ```
/// use pure_seccomp::{bpf::kernel_caches, ScmpArch};
/// assert!(kernel_caches(ScmpArch::X8664) && kernel_caches(ScmpArch::X86));
/// assert!(!kernel_caches(ScmpArch::X32) && !kernel_caches(ScmpArch::Mips64));
/// ```
pub fn kernel_caches(arch: ScmpArch) -> bool {
    !matches!(
        arch.resolve(),
        Some(
            ScmpArch::X32
                | ScmpArch::Mips
                | ScmpArch::Mipsel
                | ScmpArch::Mips64
                | ScmpArch::Mipsel64
                | ScmpArch::Mips64N32
                | ScmpArch::Mipsel64N32
        )
    )
}

/// Bit 30, set in every x32 syscall number.
const X32_SYSCALL_BIT: u32 = crate::syscall::X32_SYSCALL_BIT as u32;

#[cfg(test)]
mod tests {
    use super::super::consts::*;
    use super::*;

    const X86_64: u32 = 0xc000_003e;

    fn stmt(code: u16, k: u32) -> Instruction {
        Instruction::stmt(code, k)
    }
    fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Instruction {
        Instruction::jump(code, k, jt, jf)
    }
    fn ld(k: u32) -> Instruction {
        stmt(BPF_LD | BPF_W | BPF_ABS, k)
    }
    fn ret(k: u32) -> Instruction {
        stmt(BPF_RET | BPF_K, k)
    }
    fn jeq(k: u32, jt: u8, jf: u8) -> Instruction {
        jump(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf)
    }

    /// `ld [4]; jeq X86_64; ld [0]; jeq 0, 1 or 60 -> ALLOW; ERRNO(1)`
    fn allow_list() -> Vec<Instruction> {
        vec![
            ld(4),
            jeq(X86_64, 0, 4),
            ld(0),
            jeq(0, 3, 0),
            jeq(1, 2, 0),
            jeq(60, 1, 0),
            ret(SECCOMP_RET_ERRNO | 1),
            ret(SECCOMP_RET_ALLOW),
        ]
    }

    #[test]
    fn allowed_numbers_are_cacheable() {
        let p = allow_list();
        assert!(super::super::validate(&p).is_ok());
        assert_eq!(cacheable_set(&p, X86_64, 0..1000), [0, 1, 60]);
        // Another architecture is denied.
        assert!(cacheable_set(&p, 0x4000_0003, 0..1000).is_empty());
    }

    #[test]
    fn denied_and_other_returns_are_not() {
        for k in [
            SECCOMP_RET_KILL_PROCESS,
            SECCOMP_RET_KILL_THREAD,
            SECCOMP_RET_TRAP,
            SECCOMP_RET_ERRNO | 1,
            SECCOMP_RET_USER_NOTIF,
            SECCOMP_RET_TRACE,
            SECCOMP_RET_LOG,
            SECCOMP_RET_ALLOW | 1,
            SECCOMP_RET_ALLOW | 0xffff,
        ] {
            assert!(!cacheable(&[ret(k)], X86_64, 0), "{k:#x}");
        }
        assert!(cacheable(&[ret(SECCOMP_RET_ALLOW)], X86_64, 0));
        assert!(!cacheable(&allow_list(), X86_64, 59));
    }

    #[test]
    fn argument_or_ip_load_on_the_path_is_not() {
        // getpid (39) allowed when args[0] == 0: the load of offset 16 stops the emulation,
        // even for the number whose argument would allow it.
        let p = vec![
            ld(0),
            jeq(39, 0, 3),
            ld(16),
            jeq(0, 0, 1),
            ret(SECCOMP_RET_ALLOW),
            ret(SECCOMP_RET_ERRNO | 1),
        ];
        assert!(!cacheable(&p, X86_64, 39));
        // ld [16] reached, then a constant ALLOW whatever it loaded.
        let p = vec![ld(0), jeq(39, 0, 2), ld(16), ret(SECCOMP_RET_ALLOW), ret(0)];
        assert!(!cacheable(&p, X86_64, 39));
        // The instruction pointer and every other offset are unknown too.
        for off in [8, 12, 20, 60, 64, 2, 0xffff_fffc] {
            let p = vec![ld(off), ret(SECCOMP_RET_ALLOW)];
            assert!(!cacheable(&p, X86_64, 0), "{off}");
        }
        // A load off the taken path does not matter.
        let p = vec![ld(0), jeq(39, 0, 1), ld(16), ret(SECCOMP_RET_ALLOW)];
        assert!(cacheable(&p, X86_64, 40));
        assert!(!cacheable(&p, X86_64, 39));
    }

    #[test]
    fn and_and_jset_are_followed() {
        // Allow the even numbers below 16 (and with a mask, then jeq).
        let p = vec![
            ld(0),
            jump(BPF_JMP | BPF_JGE | BPF_K, 16, 3, 0),
            stmt(BPF_ALU | BPF_AND | BPF_K, 1),
            jeq(0, 0, 1),
            ret(SECCOMP_RET_ALLOW),
            ret(SECCOMP_RET_KILL_PROCESS),
        ];
        assert_eq!(
            cacheable_set(&p, X86_64, 0..100),
            [0, 2, 4, 6, 8, 10, 12, 14]
        );
        // jset: allow when bit 2 is set, below 8.
        let p = vec![
            ld(0),
            jump(BPF_JMP | BPF_JGT | BPF_K, 7, 2, 0),
            jump(BPF_JMP | BPF_JSET | BPF_K, 4, 0, 1),
            ret(SECCOMP_RET_ALLOW),
            ret(SECCOMP_RET_KILL_PROCESS),
        ];
        assert_eq!(cacheable_set(&p, X86_64, 0..100), [4, 5, 6, 7]);
        // ja skips.
        let p = vec![
            stmt(BPF_JMP | BPF_JA, 1),
            ret(SECCOMP_RET_KILL_PROCESS),
            ret(SECCOMP_RET_ALLOW),
        ];
        assert!(cacheable(&p, X86_64, 3));
        // A starts at 0.
        let p = vec![jeq(0, 0, 1), ret(SECCOMP_RET_ALLOW), ret(0)];
        assert!(cacheable(&p, X86_64, 3));
    }

    #[test]
    fn other_instructions_on_the_path_are_not() {
        let others = [
            stmt(BPF_LD | BPF_IMM, 0),
            stmt(BPF_LD | BPF_MEM, 0),
            stmt(BPF_LD | BPF_W | BPF_LEN, 0),
            stmt(BPF_LD | BPF_H | BPF_ABS, 0),
            stmt(BPF_LD | BPF_B | BPF_ABS, 0),
            stmt(BPF_LD | BPF_W | BPF_IND, 0),
            stmt(BPF_LDX | BPF_IMM, 0),
            stmt(BPF_ST, 0),
            stmt(BPF_ALU | BPF_OR | BPF_K, 0),
            stmt(BPF_ALU | BPF_ADD | BPF_K, 0),
            stmt(BPF_ALU | BPF_AND | BPF_X, 0),
            stmt(BPF_ALU | BPF_RSH | BPF_K, 1),
            stmt(BPF_ALU | BPF_NEG, 0),
            stmt(BPF_MISC | BPF_TAX, 0),
            stmt(BPF_MISC | BPF_TXA, 0),
            jump(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 0),
            jump(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 0),
            stmt(BPF_RET | BPF_A, 0),
            stmt(0xffff, 0),
        ];
        for i in others {
            let p = vec![i, ret(SECCOMP_RET_ALLOW)];
            assert!(!cacheable(&p, X86_64, 0), "{i:?}");
        }
        // ret A, even when A holds ALLOW.
        let p = vec![
            ld(0),
            stmt(BPF_ALU | BPF_AND | BPF_K, 0),
            stmt(BPF_RET | BPF_A, 0),
        ];
        assert!(!cacheable(&p, X86_64, 0));
    }

    #[test]
    fn malformed_programs_do_not_panic() {
        assert!(!cacheable(&[], X86_64, 0));
        assert!(cacheable_set(&[], X86_64, 0..10).is_empty());
        // Falls off the end.
        assert!(!cacheable(&[ld(0)], X86_64, 0));
        // Jumps past the end, including the largest distances.
        for p in [
            vec![stmt(BPF_JMP | BPF_JA, 5), ret(SECCOMP_RET_ALLOW)],
            vec![stmt(BPF_JMP | BPF_JA, u32::MAX), ret(SECCOMP_RET_ALLOW)],
            vec![stmt(BPF_JMP | BPF_JA, u32::MAX - 1), ret(SECCOMP_RET_ALLOW)],
            vec![jeq(0, 255, 255), ret(SECCOMP_RET_ALLOW)],
        ] {
            assert!(!cacheable(&p, X86_64, 0), "{p:?}");
            assert!(!cacheable(&p, X86_64, u32::MAX), "{p:?}");
        }
        // A jump over garbage to ALLOW is followed (the kernel would not load it, though).
        let p = vec![jeq(0, 1, 0), stmt(0xffff, 0), ret(SECCOMP_RET_ALLOW)];
        assert!(cacheable(&p, X86_64, 0));
        // Every opcode, with extreme operands, at the start and after a load.
        for code in 0..=u16::MAX {
            for k in [0, 4, 16, u32::MAX] {
                for (jt, jf) in [(0, 0), (255, 0), (0, 255)] {
                    let i = Instruction { code, jt, jf, k };
                    let _ = cacheable(&[i], X86_64, 1);
                    let _ = cacheable(&[ld(0), i, ret(SECCOMP_RET_ALLOW)], X86_64, 1);
                }
            }
        }
    }

    #[test]
    fn ranges() {
        for arch in ScmpArch::all() {
            let r = syscall_range(arch);
            assert!(r.end > r.start + 100, "{arch:?}: {r:?}");
            let close = crate::syscall::resolve_name(arch, "close").unwrap();
            assert!(r.contains(&(close as u32)), "{arch:?}");
        }
        assert_eq!(syscall_range(ScmpArch::X32).start, X32_SYSCALL_BIT);
        assert_eq!(syscall_range(ScmpArch::Mips).start, 0);
        assert!(syscall_range(ScmpArch::Mips).end > 4000);
        assert_eq!(
            syscall_range(ScmpArch::Native),
            syscall_range(ScmpArch::native())
        );
    }
}
