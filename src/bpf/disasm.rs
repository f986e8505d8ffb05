//! A readable listing of classic BPF programs.

use super::consts::*;
use super::opcodes::*;
use super::Instruction;
use crate::arch::Endian;
use std::fmt::Write as _;

/// Lists a program one instruction a line, naming `seccomp_data` words as on a little-endian
/// ABI (`args[0] lo` at offset 16). Same as [`disassemble_for`] with [`Endian::Little`].
///
/// ```
/// use pure_seccomp::bpf::*;
/// let prog = [
///     Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
///     Instruction::jump(BPF_JMP | BPF_JEQ | BPF_K, 59, 0, 1),
///     Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
///     Instruction::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
/// ];
/// let text = disassemble(&prog);
/// let lines: Vec<&str> = text.lines().collect();
/// assert_eq!(lines.len(), 4);
/// assert_eq!(lines[0], "0000: 0x20 0x00 0x00 0x00000000  ld    [0]  ; nr");
/// assert_eq!(lines[1], "0001: 0x15 0x00 0x01 0x0000003b  jeq   #0x3b  true:0002 false:0003");
/// assert_eq!(lines[2], "0002: 0x06 0x00 0x00 0x00050001  ret   ERRNO(1)");
/// assert_eq!(lines[3], "0003: 0x06 0x00 0x00 0x7fff0000  ret   ALLOW");
/// ```
pub fn disassemble(prog: &[Instruction]) -> String {
    disassemble_for(prog, Endian::Little)
}

/// Lists a program one instruction a line, naming the `seccomp_data` words that `ld [k]`
/// reads as on an ABI of the given byte order.
///
/// Each line has the index, the raw fields (code, jt, jf, k) in hex, the mnemonic and its
/// operand: `#k` for constants (in hex), `[k]` for data offsets, `M[k]` for scratch memory,
/// `x` for the index register, absolute target indexes for jumps (`ja 0005`,
/// `true:0002 false:0003`) and the action for `ret` (see [`action_name`]). Unknown opcodes
/// are listed as `unknown`. Never fails, whatever the program.
///
/// ```
/// use pure_seccomp::{bpf::*, Endian};
/// let prog = [Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 16)];
/// assert!(disassemble_for(&prog, Endian::Little).ends_with("ld    [16]  ; args[0] lo\n"));
/// assert!(disassemble_for(&prog, Endian::Big).ends_with("ld    [16]  ; args[0] hi\n"));
/// ```
pub fn disassemble_for(prog: &[Instruction], endian: Endian) -> String {
    let mut out = String::new();
    for (index, ins) in prog.iter().enumerate() {
        let (mnemonic, operand, comment) = describe(index, ins, endian);
        let mut line = format!(
            "{:04}: 0x{:02x} 0x{:02x} 0x{:02x} 0x{:08x}  {:<5} {}",
            index, ins.code, ins.jt, ins.jf, ins.k, mnemonic, operand
        );
        if let Some(c) = comment {
            let _ = write!(line, "  ; {c}");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Mnemonic, operand and optional comment of one instruction.
fn describe(
    index: usize,
    ins: &Instruction,
    endian: Endian,
) -> (&'static str, String, Option<String>) {
    let k = ins.k;
    let target = |by: u64| format!("{:04}", index as u64 + 1 + by);
    let cond = |src: String| {
        format!(
            "{src}  true:{} false:{}",
            target(u64::from(ins.jt)),
            target(u64::from(ins.jf))
        )
    };
    let imm = || format!("#{k:#x}");
    let x = || "x".to_string();
    let mem = || format!("M[{k}]");
    let none = String::new;
    match ins.code {
        LD_W_ABS => ("ld", format!("[{k}]"), field_name(k, endian)),
        LD_H_ABS => ("ldh", format!("[{k}]"), None),
        LD_B_ABS => ("ldb", format!("[{k}]"), None),
        LD_W_IND => ("ld", format!("[x + {k}]"), None),
        LD_H_IND => ("ldh", format!("[x + {k}]"), None),
        LD_B_IND => ("ldb", format!("[x + {k}]"), None),
        LD_W_LEN => ("ld", "#len".into(), Some(format!("{SECCOMP_DATA_SIZE}"))),
        LDX_W_LEN => ("ldx", "#len".into(), Some(format!("{SECCOMP_DATA_SIZE}"))),
        LD_IMM => ("ld", imm(), None),
        LDX_IMM => ("ldx", imm(), None),
        LD_MEM => ("ld", mem(), None),
        LDX_MEM => ("ldx", mem(), None),
        LDX_B_MSH => ("ldxb", format!("4*([{k}]&0xf)"), None),
        ST => ("st", mem(), None),
        STX => ("stx", mem(), None),
        TAX => ("tax", none(), None),
        TXA => ("txa", none(), None),
        ADD_K => ("add", imm(), None),
        ADD_X => ("add", x(), None),
        SUB_K => ("sub", imm(), None),
        SUB_X => ("sub", x(), None),
        MUL_K => ("mul", imm(), None),
        MUL_X => ("mul", x(), None),
        DIV_K => ("div", imm(), None),
        DIV_X => ("div", x(), None),
        MOD_K => ("mod", imm(), None),
        MOD_X => ("mod", x(), None),
        AND_K => ("and", imm(), None),
        AND_X => ("and", x(), None),
        OR_K => ("or", imm(), None),
        OR_X => ("or", x(), None),
        XOR_K => ("xor", imm(), None),
        XOR_X => ("xor", x(), None),
        LSH_K => ("lsh", imm(), None),
        LSH_X => ("lsh", x(), None),
        RSH_K => ("rsh", imm(), None),
        RSH_X => ("rsh", x(), None),
        NEG => ("neg", none(), None),
        JA => ("ja", target(u64::from(k)), None),
        JEQ_K => ("jeq", cond(imm()), None),
        JEQ_X => ("jeq", cond(x()), None),
        JGT_K => ("jgt", cond(imm()), None),
        JGT_X => ("jgt", cond(x()), None),
        JGE_K => ("jge", cond(imm()), None),
        JGE_X => ("jge", cond(x()), None),
        JSET_K => ("jset", cond(imm()), None),
        JSET_X => ("jset", cond(x()), None),
        RET_K => ("ret", action_name(k), None),
        RET_A => ("ret", "a".into(), None),
        _ => ("unknown", none(), None),
    }
}

/// Name of the `seccomp_data` word a 32-bit load at byte `offset` reads on an ABI of the
/// given byte order: `nr`, `arch`, `instruction_pointer lo`/`hi`, `args[i] lo`/`hi`; `None`
/// if the offset is not 4-byte aligned or not below 64.
///
/// ```
/// use pure_seccomp::{bpf::field_name, Endian};
/// assert_eq!(field_name(0, Endian::Big).as_deref(), Some("nr"));
/// assert_eq!(field_name(4, Endian::Little).as_deref(), Some("arch"));
/// assert_eq!(field_name(60, Endian::Little).as_deref(), Some("args[5] hi"));
/// assert_eq!(field_name(60, Endian::Big).as_deref(), Some("args[5] lo"));
/// assert_eq!(field_name(6, Endian::Little), None);
/// assert_eq!(field_name(64, Endian::Little), None);
/// ```
pub fn field_name(offset: u32, endian: Endian) -> Option<String> {
    if offset % 4 != 0 || offset as usize >= SECCOMP_DATA_SIZE {
        return None;
    }
    let half = |second_word: bool| {
        let high = second_word == (endian == Endian::Little);
        if high {
            "hi"
        } else {
            "lo"
        }
    };
    Some(match offset {
        SECCOMP_DATA_NR_OFFSET => "nr".to_string(),
        SECCOMP_DATA_ARCH_OFFSET => "arch".to_string(),
        8 | 12 => format!("instruction_pointer {}", half(offset == 12)),
        _ => {
            let word = (offset - SECCOMP_DATA_ARGS_OFFSET) / 4;
            format!("args[{}] {}", word / 2, half(word % 2 == 1))
        }
    })
}

/// A short name for a seccomp return value: `KILL_PROCESS`, `KILL_THREAD`, `TRAP(n)`,
/// `ERRNO(n)`, `NOTIFY`, `TRACE(n)`, `LOG`, `ALLOW`, with the 16-bit data in decimal (shown
/// for the actions that take no data only when it is not 0), or `UNKNOWN(0x...)` for an
/// action the kernel does not know (it treats those as `KILL_PROCESS`).
///
/// ```
/// use pure_seccomp::bpf::*;
/// assert_eq!(action_name(SECCOMP_RET_ALLOW), "ALLOW");
/// assert_eq!(action_name(SECCOMP_RET_ERRNO | 1), "ERRNO(1)");
/// assert_eq!(action_name(SECCOMP_RET_KILL_PROCESS), "KILL_PROCESS");
/// assert_eq!(action_name(SECCOMP_RET_KILL_THREAD), "KILL_THREAD");
/// assert_eq!(action_name(SECCOMP_RET_TRAP), "TRAP(0)");
/// assert_eq!(action_name(SECCOMP_RET_TRACE | 7), "TRACE(7)");
/// assert_eq!(action_name(SECCOMP_RET_USER_NOTIF), "NOTIFY");
/// assert_eq!(action_name(SECCOMP_RET_LOG), "LOG");
/// assert_eq!(action_name(0x1234_0000), "UNKNOWN(0x12340000)");
/// ```
pub fn action_name(ret: u32) -> String {
    let data = ret & SECCOMP_RET_DATA;
    let plain = |name: &str| {
        if data == 0 {
            name.to_string()
        } else {
            format!("{name}({data})")
        }
    };
    match ret & SECCOMP_RET_ACTION_FULL {
        SECCOMP_RET_KILL_PROCESS => plain("KILL_PROCESS"),
        SECCOMP_RET_KILL_THREAD => plain("KILL_THREAD"),
        SECCOMP_RET_TRAP => format!("TRAP({data})"),
        SECCOMP_RET_ERRNO => format!("ERRNO({data})"),
        SECCOMP_RET_USER_NOTIF => plain("NOTIFY"),
        SECCOMP_RET_TRACE => format!("TRACE({data})"),
        SECCOMP_RET_LOG => plain("LOG"),
        SECCOMP_RET_ALLOW => plain("ALLOW"),
        _ => format!("UNKNOWN({ret:#010x})"),
    }
}
