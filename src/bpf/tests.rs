//! Unit tests of the internals (the public behaviour is tested in `tests/bpf.rs`).

use super::consts::*;
use super::opcodes::*;
use super::*;

#[test]
fn seccomp_opcodes_are_classic() {
    for code in 0..=u16::MAX {
        if is_seccomp(code) {
            assert!(is_classic(code), "{code:#x}");
        }
    }
}

#[test]
fn opcode_counts_match_the_kernel_tables() {
    // chk_code_allowed lists 49 opcodes; seccomp_check_filter drops mod (2), the packet
    // loads ldh/ldb [k] (2), the three indirect loads and ldxb msh: 41 remain.
    assert_eq!((0..=u16::MAX).filter(|&c| is_classic(c)).count(), 49);
    assert_eq!((0..=u16::MAX).filter(|&c| is_seccomp(c)).count(), 41);
    assert_eq!((0..=u16::MAX).filter(|&c| is_cond_jump(c)).count(), 8);
}

#[test]
fn opcode_values() {
    assert_eq!(LD_W_ABS, 0x20);
    assert_eq!(JEQ_K, 0x15);
    assert_eq!(RET_K, 0x06);
    assert_eq!(RET_A, 0x16);
    assert_eq!(TXA, 0x87);
    assert_eq!(LDX_B_MSH, 0xb1);
    assert_eq!(NEG, 0x84);
    assert_eq!(LD_W_LEN, 0x80);
}

#[test]
fn known_ancillary_offsets() {
    use super::validate::check_classic;
    let prog = |k| [Instruction::stmt(LD_B_ABS, k), Instruction::stmt(RET_A, 0)];
    for rel in (0..64).step_by(4) {
        assert_eq!(check_classic(&prog(SKF_AD_OFF + rel)), Ok(()));
    }
    for k in [SKF_AD_OFF + 1, SKF_AD_OFF + 64, u32::MAX] {
        assert_eq!(
            check_classic(&prog(k)),
            Err(BpfError::UnknownAncillary { index: 0, k })
        );
    }
    // Below the ancillary area, a packet offset is fine for bpf_check_classic.
    assert_eq!(check_classic(&prog(SKF_AD_OFF - 1)), Ok(()));
}

#[test]
fn action_names_with_unexpected_data() {
    assert_eq!(action_name(SECCOMP_RET_ALLOW | 5), "ALLOW(5)");
    assert_eq!(action_name(SECCOMP_RET_KILL_PROCESS | 1), "KILL_PROCESS(1)");
    assert_eq!(action_name(0x8001_0000), "UNKNOWN(0x80010000)");
}
