//! Tests of the public `bpf` module: the kernel's load-time rules, the interpreter in both
//! byte orders, the codec and the disassembler, plus randomized robustness checks.

use pure_seccomp::bpf::*;
use pure_seccomp::Endian;

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const BOTH: [Endian; 2] = [Endian::Little, Endian::Big];

fn stmt(code: u16, k: u32) -> Instruction {
    Instruction::stmt(code, k)
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Instruction {
    Instruction::jump(code, k, jt, jf)
}

fn ret(k: u32) -> Instruction {
    stmt(BPF_RET | BPF_K, k)
}

fn ret_a() -> Instruction {
    stmt(BPF_RET | BPF_A, 0)
}

fn ld_abs(k: u32) -> Instruction {
    stmt(BPF_LD | BPF_W | BPF_ABS, k)
}

/// `ld [4]; jeq AUDIT_ARCH_X86_64; ld [0]; jeq 59 -> ret ERRNO(1); ret ALLOW`
fn execve_filter() -> Vec<Instruction> {
    vec![
        ld_abs(4),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
        ld_abs(0),
        jump(BPF_JMP | BPF_JEQ | BPF_K, 59, 0, 1),
        ret(SECCOMP_RET_ERRNO | 1),
        ret(SECCOMP_RET_ALLOW),
    ]
}

fn data(nr: i32, arch: u32, args: [u64; 6]) -> SeccompData {
    SeccompData {
        nr,
        arch,
        instruction_pointer: 0x7fff_1234_5678,
        args,
    }
}

/// `simulate`, checked against `simulate_path`: the same result, and a path that starts at 0,
/// only goes forward, has `executed` entries and ends on a return (or on a division by an X
/// of 0, which ends the filter with 0).
fn run(prog: &[Instruction], d: &SeccompData, endian: Endian) -> Result<Outcome, BpfError> {
    let out = simulate(prog, d, endian);
    match (&out, simulate_path(prog, d, endian)) {
        (Ok(o), Ok((o2, path))) => {
            assert_eq!(*o, o2);
            assert_eq!(path.len(), o.executed);
            assert_eq!(path.first(), Some(&0));
            assert!(path.windows(2).all(|w| w[0] < w[1]), "{path:?}");
            let last = prog[*path.last().unwrap()].code;
            let div_x = [BPF_DIV, BPF_MOD].map(|op| BPF_ALU | op | BPF_X);
            assert!(last & 0x07 == BPF_RET || div_x.contains(&last), "{last:#x}");
        }
        (Err(e), Err(e2)) => assert_eq!(*e, e2),
        (a, b) => panic!("simulate gave {a:?}, simulate_path {b:?}"),
    }
    out
}

/// Runs a program that is expected to return, returning A's value (the program must end
/// with `ret a`).
fn eval(prog: &[Instruction]) -> u32 {
    let out = run(prog, &SeccompData::default(), Endian::Little).expect("program runs");
    out.ret
}

// ---------------------------------------------------------------------------------------
// constants
// ---------------------------------------------------------------------------------------

#[test]
fn constants_have_the_kernel_values() {
    assert_eq!(
        [BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP, BPF_RET, BPF_MISC],
        [0, 1, 2, 3, 4, 5, 6, 7]
    );
    assert_eq!([BPF_W, BPF_H, BPF_B], [0x00, 0x08, 0x10]);
    assert_eq!(
        [BPF_IMM, BPF_ABS, BPF_IND, BPF_MEM, BPF_LEN, BPF_MSH],
        [0x00, 0x20, 0x40, 0x60, 0x80, 0xa0]
    );
    assert_eq!(
        [
            BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG,
            BPF_MOD, BPF_XOR
        ],
        [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0]
    );
    assert_eq!(
        [BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET],
        [0x00, 0x10, 0x20, 0x30, 0x40]
    );
    assert_eq!(
        [BPF_K, BPF_X, BPF_A, BPF_TAX, BPF_TXA],
        [0, 8, 0x10, 0, 0x80]
    );
    assert_eq!(
        (BPF_MAXINSNS, BPF_MEMWORDS, SECCOMP_DATA_SIZE),
        (4096, 16, 64)
    );
    assert_eq!(SECCOMP_RET_KILL_PROCESS, 0x8000_0000);
    assert_eq!(SECCOMP_RET_KILL_THREAD, 0);
    assert_eq!(SECCOMP_RET_KILL, SECCOMP_RET_KILL_THREAD);
    assert_eq!(SECCOMP_RET_TRAP, 0x0003_0000);
    assert_eq!(SECCOMP_RET_ERRNO, 0x0005_0000);
    assert_eq!(SECCOMP_RET_USER_NOTIF, 0x7fc0_0000);
    assert_eq!(SECCOMP_RET_TRACE, 0x7ff0_0000);
    assert_eq!(SECCOMP_RET_LOG, 0x7ffc_0000);
    assert_eq!(SECCOMP_RET_ALLOW, 0x7fff_0000);
    assert_eq!(SECCOMP_RET_ACTION_FULL, 0xffff_0000);
    assert_eq!(SECCOMP_RET_ACTION, 0x7fff_0000);
    assert_eq!(SECCOMP_RET_DATA, 0xffff);
    assert_eq!(std::mem::size_of::<Instruction>(), 8);
    assert_eq!(std::mem::align_of::<Instruction>(), 4);
}

// ---------------------------------------------------------------------------------------
// validate: accepted programs
// ---------------------------------------------------------------------------------------

#[test]
fn accepts_a_typical_filter() {
    assert_eq!(validate(&execve_filter()), Ok(()));
}

#[test]
fn accepts_every_seccomp_instruction() {
    let prog = [
        stmt(BPF_LD | BPF_W | BPF_LEN, 0),
        stmt(BPF_LDX | BPF_W | BPF_LEN, 0),
        stmt(BPF_LD | BPF_IMM, 7),
        stmt(BPF_LDX | BPF_IMM, 3),
        ld_abs(60),
        stmt(BPF_ST, 0),
        stmt(BPF_STX, 15),
        stmt(BPF_LD | BPF_MEM, 0),
        stmt(BPF_LDX | BPF_MEM, 15),
        stmt(BPF_MISC | BPF_TAX, 0),
        stmt(BPF_MISC | BPF_TXA, 0),
        stmt(BPF_ALU | BPF_ADD | BPF_K, 1),
        stmt(BPF_ALU | BPF_ADD | BPF_X, 0),
        stmt(BPF_ALU | BPF_SUB | BPF_K, 1),
        stmt(BPF_ALU | BPF_SUB | BPF_X, 0),
        stmt(BPF_ALU | BPF_MUL | BPF_K, 3),
        stmt(BPF_ALU | BPF_MUL | BPF_X, 0),
        stmt(BPF_ALU | BPF_DIV | BPF_K, 3),
        stmt(BPF_ALU | BPF_DIV | BPF_X, 0),
        stmt(BPF_ALU | BPF_AND | BPF_K, 0xff),
        stmt(BPF_ALU | BPF_AND | BPF_X, 0),
        stmt(BPF_ALU | BPF_OR | BPF_K, 1),
        stmt(BPF_ALU | BPF_OR | BPF_X, 0),
        stmt(BPF_ALU | BPF_XOR | BPF_K, 1),
        stmt(BPF_ALU | BPF_XOR | BPF_X, 0),
        stmt(BPF_ALU | BPF_LSH | BPF_K, 31),
        stmt(BPF_ALU | BPF_LSH | BPF_X, 0),
        stmt(BPF_ALU | BPF_RSH | BPF_K, 0),
        stmt(BPF_ALU | BPF_RSH | BPF_X, 0),
        stmt(BPF_ALU | BPF_NEG, 0),
        stmt(BPF_JMP | BPF_JA, 0),
        jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0),
        jump(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 0),
        jump(BPF_JMP | BPF_JGT | BPF_K, 1, 0, 0),
        jump(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 0),
        jump(BPF_JMP | BPF_JGE | BPF_K, 1, 0, 0),
        jump(BPF_JMP | BPF_JGE | BPF_X, 0, 0, 0),
        jump(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1),
        jump(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 0),
        ret_a(),
        ret(SECCOMP_RET_ALLOW),
    ];
    assert_eq!(validate(&prog), Ok(()));
}

#[test]
fn accepts_the_maximum_length() {
    let mut prog = vec![stmt(BPF_LD | BPF_IMM, 0); BPF_MAXINSNS - 1];
    prog.push(ret_a());
    assert_eq!(validate(&prog), Ok(()));
}

#[test]
fn accepts_a_single_return() {
    assert_eq!(validate(&[ret(SECCOMP_RET_KILL_PROCESS)]), Ok(()));
    assert_eq!(validate(&[ret_a()]), Ok(()));
}

#[test]
fn accepts_every_aligned_data_load() {
    for k in (0..64).step_by(4) {
        assert_eq!(validate(&[ld_abs(k), ret_a()]), Ok(()), "ld [{k}]");
    }
}

#[test]
fn accepts_jumps_to_the_last_instruction() {
    let prog = [
        jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 1),
        stmt(BPF_JMP | BPF_JA, 1),
        ret(0),
        ret(SECCOMP_RET_ALLOW),
    ];
    assert_eq!(validate(&prog), Ok(()));
}

// ---------------------------------------------------------------------------------------
// validate: each rule
// ---------------------------------------------------------------------------------------

#[test]
fn rejects_empty_and_too_long_programs() {
    assert_eq!(validate(&[]), Err(BpfError::Empty));
    let mut prog = vec![stmt(BPF_LD | BPF_IMM, 0); BPF_MAXINSNS];
    prog.push(ret_a());
    assert_eq!(prog.len(), 4097);
    assert_eq!(validate(&prog), Err(BpfError::TooLong { len: 4097 }));
}

#[test]
fn rejects_unknown_opcodes() {
    for code in [
        BPF_RET | BPF_X,           // 0x0e
        BPF_LD | BPF_H | BPF_IMM,  // size on an immediate
        BPF_ST | BPF_H,            // size on a store
        BPF_ALU | BPF_NEG | BPF_X, // neg has no source
        BPF_JMP | BPF_JA | BPF_X,  // ja has no source
        BPF_ALU | 0xb0,            // eBPF mov
        BPF_JMP | 0x50,            // eBPF jne
        BPF_MISC | 0x08,           // neither tax nor txa
        BPF_LD | BPF_W | BPF_ABS | 0x100,
        0xffff,
    ] {
        assert_eq!(
            validate(&[stmt(code, 0), ret_a()]),
            Err(BpfError::UnknownOpcode { index: 0, code }),
            "{code:#x}"
        );
    }
}

#[test]
fn rejects_opcodes_seccomp_does_not_allow() {
    for code in [
        BPF_LD | BPF_B | BPF_ABS,
        BPF_LD | BPF_H | BPF_ABS,
        BPF_LD | BPF_W | BPF_IND,
        BPF_LD | BPF_H | BPF_IND,
        BPF_LD | BPF_B | BPF_IND,
        BPF_LDX | BPF_B | BPF_MSH,
        BPF_ALU | BPF_MOD | BPF_K,
        BPF_ALU | BPF_MOD | BPF_X,
    ] {
        let prog = [stmt(BPF_LD | BPF_IMM, 0), stmt(code, 4), ret_a()];
        assert_eq!(check_classic(&prog), Ok(()), "{code:#x} is classic BPF");
        assert_eq!(
            validate(&prog),
            Err(BpfError::NotAllowedInSeccomp { index: 1, code }),
            "{code:#x}"
        );
    }
}

#[test]
fn rejects_misaligned_and_oversized_loads() {
    for k in [1, 2, 3, 5, 62, 63, 64, 65, 68, 0x1000, 0xffff_effc] {
        assert_eq!(
            validate(&[ld_abs(k), ret_a()]),
            Err(BpfError::MisalignedLoad { index: 0, k }),
            "ld [{k}]"
        );
    }
}

#[test]
fn ancillary_loads_pass_classic_checks_but_not_seccomp() {
    let skf_ad_off = 0xffff_f000u32;
    // SKF_AD_PROTOCOL: known to bpf_check_classic, but not a seccomp_data offset.
    let prog = [ld_abs(skf_ad_off), ret_a()];
    assert_eq!(check_classic(&prog), Ok(()));
    assert_eq!(
        validate(&prog),
        Err(BpfError::MisalignedLoad {
            index: 0,
            k: skf_ad_off
        })
    );
    // An offset in the ancillary area the kernel does not know.
    let prog = [ld_abs(skf_ad_off + 0x100), ret_a()];
    assert_eq!(
        validate(&prog),
        Err(BpfError::UnknownAncillary {
            index: 0,
            k: skf_ad_off + 0x100
        })
    );
}

#[test]
fn rejects_jumps_past_the_end() {
    // Conditional, true branch one past the end.
    let prog = [jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), ret(0)];
    assert_eq!(
        validate(&prog),
        Err(BpfError::JumpOutOfRange {
            index: 0,
            target: 2,
            last: 1
        })
    );
    // Conditional, false branch.
    let prog = [jump(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 200), ret(0)];
    assert_eq!(
        validate(&prog),
        Err(BpfError::JumpOutOfRange {
            index: 0,
            target: 201,
            last: 1
        })
    );
    // `ja` uses the whole 32-bit k, with no overflow.
    for k in [1, 0xffff, u32::MAX] {
        let prog = [stmt(BPF_JMP | BPF_JA, k), ret(0)];
        assert_eq!(
            validate(&prog),
            Err(BpfError::JumpOutOfRange {
                index: 0,
                target: 1 + u64::from(k),
                last: 1
            })
        );
    }
    // A jump as the last instruction always leaves the program.
    let prog = [ret(0), stmt(BPF_JMP | BPF_JA, 0)];
    assert!(matches!(
        validate(&prog),
        Err(BpfError::JumpOutOfRange { index: 1, .. })
    ));
}

#[test]
fn rejects_a_missing_final_return() {
    assert_eq!(
        validate(&[ld_abs(0)]),
        Err(BpfError::NoFinalReturn {
            index: 0,
            code: 0x20
        })
    );
    let prog = [ret(0), stmt(BPF_ALU | BPF_ADD | BPF_K, 1)];
    assert_eq!(
        validate(&prog),
        Err(BpfError::NoFinalReturn {
            index: 1,
            code: 0x04
        })
    );
}

#[test]
fn rejects_division_by_constant_zero() {
    for code in [BPF_ALU | BPF_DIV | BPF_K, BPF_ALU | BPF_MOD | BPF_K] {
        assert_eq!(
            validate(&[stmt(code, 0), ret_a()]),
            Err(BpfError::DivisionByZero { index: 0 })
        );
    }
    // By X it is a run-time matter.
    assert_eq!(
        validate(&[stmt(BPF_ALU | BPF_DIV | BPF_X, 0), ret_a()]),
        Ok(())
    );
}

#[test]
fn rejects_constant_shifts_of_32_or_more() {
    for code in [BPF_ALU | BPF_LSH | BPF_K, BPF_ALU | BPF_RSH | BPF_K] {
        for k in [32, 33, u32::MAX] {
            assert_eq!(
                validate(&[stmt(code, k), ret_a()]),
                Err(BpfError::ShiftOutOfRange { index: 0, k })
            );
        }
    }
}

#[test]
fn rejects_scratch_indexes_of_16_or_more() {
    for code in [BPF_ST, BPF_STX, BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM] {
        assert_eq!(
            validate(&[stmt(code, 16), ret_a()]),
            Err(BpfError::ScratchOutOfRange { index: 0, k: 16 })
        );
    }
}

#[test]
fn rejects_uninitialised_scratch_loads() {
    // Straight line: nothing stored.
    let prog = [stmt(BPF_LD | BPF_MEM, 0), ret_a()];
    assert_eq!(
        validate(&prog),
        Err(BpfError::UninitializedScratch { index: 0, k: 0 })
    );
    // Stored in another word.
    let prog = [stmt(BPF_ST, 1), stmt(BPF_LDX | BPF_MEM, 2), ret_a()];
    assert_eq!(
        validate(&prog),
        Err(BpfError::UninitializedScratch { index: 1, k: 2 })
    );
    // Stored on one branch only, then the branches meet.
    let prog = [
        jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
        stmt(BPF_ST, 3),
        stmt(BPF_LD | BPF_MEM, 3),
        ret_a(),
    ];
    assert_eq!(
        validate(&prog),
        Err(BpfError::UninitializedScratch { index: 2, k: 3 })
    );
    // Jumped over with `ja`.
    let prog = [
        stmt(BPF_JMP | BPF_JA, 1),
        stmt(BPF_ST, 0),
        stmt(BPF_LD | BPF_MEM, 0),
        ret_a(),
    ];
    assert_eq!(
        validate(&prog),
        Err(BpfError::UninitializedScratch { index: 2, k: 0 })
    );
}

#[test]
fn accepts_scratch_loads_stored_on_every_path() {
    let prog = [
        stmt(BPF_ST, 3),
        jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
        stmt(BPF_STX, 4),
        stmt(BPF_LD | BPF_MEM, 3),
        ret_a(),
    ];
    assert_eq!(validate(&prog), Ok(()));
    // Both branches store, then meet.
    let prog = [
        jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2),
        stmt(BPF_ST, 5),
        stmt(BPF_JMP | BPF_JA, 1),
        stmt(BPF_STX, 5),
        stmt(BPF_LDX | BPF_MEM, 5),
        ret_a(),
    ];
    assert_eq!(validate(&prog), Ok(()));
}

#[test]
fn reports_errors_in_the_kernels_order() {
    // The classic checks run over the whole program before the seccomp ones.
    let prog = [
        stmt(BPF_LD | BPF_B | BPF_ABS, 0),
        stmt(BPF_ALU | BPF_DIV | BPF_K, 0),
        ret_a(),
    ];
    assert_eq!(validate(&prog), Err(BpfError::DivisionByZero { index: 1 }));
    // The final-return check comes after the per-instruction ones.
    let prog = [stmt(0xffff, 0), ld_abs(0)];
    assert_eq!(
        validate(&prog),
        Err(BpfError::UnknownOpcode {
            index: 0,
            code: 0xffff
        })
    );
    // The scratch check comes after the final-return check.
    let prog = [stmt(BPF_LD | BPF_MEM, 0), ld_abs(0)];
    assert!(matches!(
        validate(&prog),
        Err(BpfError::NoFinalReturn { .. })
    ));
}

#[test]
fn error_messages_name_the_instruction() {
    let cases: Vec<(Vec<Instruction>, &str)> = vec![
        (vec![ld_abs(2), ret_a()], "instruction 0:"),
        (vec![ret(0), ld_abs(3), ret_a()], "instruction 1:"),
        (
            vec![ret(0), stmt(BPF_JMP | BPF_JA, 9), ret(0)],
            "instruction 1: jump to 11",
        ),
        (
            vec![ret(0), ret(0), ld_abs(0)],
            "instruction 2: the last instruction must be a return",
        ),
        (vec![stmt(BPF_LD | BPF_MEM, 7), ret_a()], "M[7]"),
        (
            vec![stmt(BPF_LD | BPF_B | BPF_ABS, 0), ret_a()],
            "not allowed in a seccomp filter",
        ),
    ];
    for (prog, needle) in cases {
        let msg = validate(&prog).unwrap_err().to_string();
        assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
    }
    assert!(BpfError::TooLong { len: 5000 }.to_string().contains("5000"));
}

// ---------------------------------------------------------------------------------------
// simulate
// ---------------------------------------------------------------------------------------

#[test]
fn simulates_the_execve_filter_in_both_byte_orders() {
    let prog = execve_filter();
    for endian in BOTH {
        let errno = run(&prog, &data(59, AUDIT_ARCH_X86_64, [0; 6]), endian).unwrap();
        assert_eq!(
            errno,
            Outcome {
                ret: SECCOMP_RET_ERRNO | 1,
                executed: 5
            }
        );
        let allow = run(&prog, &data(0, AUDIT_ARCH_X86_64, [0; 6]), endian).unwrap();
        assert_eq!(
            allow,
            Outcome {
                ret: SECCOMP_RET_ALLOW,
                executed: 5
            }
        );
        let other_arch = run(&prog, &data(59, 0x4000_0003, [0; 6]), endian).unwrap();
        assert_eq!(
            other_arch,
            Outcome {
                ret: SECCOMP_RET_ALLOW,
                executed: 3
            }
        );
        // A negative syscall number is a 32-bit pattern like any other.
        let neg = run(&prog, &data(-1, AUDIT_ARCH_X86_64, [0; 6]), endian).unwrap();
        assert_eq!(neg.ret, SECCOMP_RET_ALLOW);
    }
}

#[test]
fn word_loads_follow_the_byte_order() {
    let d = data(
        1,
        2,
        [
            0x1111_1111_2222_2222,
            0x3333_3333_4444_4444,
            0,
            0,
            0,
            0xdead_beef_0bad_f00d,
        ],
    );
    let load = |k: u32, endian| run(&[ld_abs(k), ret_a()], &d, endian).unwrap().ret;
    assert_eq!(load(16, Endian::Little), 0x2222_2222);
    assert_eq!(load(20, Endian::Little), 0x1111_1111);
    assert_eq!(load(16, Endian::Big), 0x1111_1111);
    assert_eq!(load(20, Endian::Big), 0x2222_2222);
    assert_eq!(load(24, Endian::Big), 0x3333_3333);
    assert_eq!(load(60, Endian::Little), 0xdead_beef);
    assert_eq!(load(60, Endian::Big), 0x0bad_f00d);
    assert_eq!(load(8, Endian::Little), 0x1234_5678);
    assert_eq!(load(8, Endian::Big), 0x7fff);
    for endian in BOTH {
        assert_eq!(load(0, endian), 1);
        assert_eq!(load(4, endian), 2);
        for high in [false, true] {
            let k = arg_word_offset(5, high, endian);
            let want = if high { 0xdead_beef } else { 0x0bad_f00d };
            assert_eq!(load(k, endian), want);
        }
    }
}

#[test]
fn seccomp_data_bytes_round_trip() {
    let d = data(-2, 0xc000_003e, [1, u64::MAX, 3, 1 << 63, 5, 6]);
    for endian in BOTH {
        let bytes = d.to_bytes(endian);
        assert_eq!(SeccompData::from_bytes(&bytes, endian), d);
    }
    let be = d.to_bytes(Endian::Big);
    assert_eq!(&be[0..8], &[0xff, 0xff, 0xff, 0xfe, 0xc0, 0, 0, 0x3e]);
    assert_eq!(&be[16..24], &[0, 0, 0, 0, 0, 0, 0, 1]);
    let le = d.to_bytes(Endian::Little);
    assert_eq!(&le[0..8], &[0xfe, 0xff, 0xff, 0xff, 0x3e, 0, 0, 0xc0]);
    assert_eq!(&le[16..24], &[1, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn alu_is_32_bit_and_wrapping() {
    let imm = |v| stmt(BPF_LD | BPF_IMM, v);
    let ldx = |v| stmt(BPF_LDX | BPF_IMM, v);
    let alu = |op: u16, k| stmt(BPF_ALU | op | BPF_K, k);
    let alux = |op: u16| stmt(BPF_ALU | op | BPF_X, 0);
    assert_eq!(eval(&[imm(u32::MAX), alu(BPF_ADD, 2), ret_a()]), 1);
    assert_eq!(eval(&[imm(1), alu(BPF_SUB, 2), ret_a()]), u32::MAX);
    assert_eq!(eval(&[imm(0x8000_0001), alu(BPF_MUL, 4), ret_a()]), 4);
    assert_eq!(eval(&[imm(100), alu(BPF_DIV, 7), ret_a()]), 14);
    assert_eq!(eval(&[imm(100), alu(BPF_MOD, 7), ret_a()]), 2);
    assert_eq!(eval(&[imm(0xf0), alu(BPF_AND, 0x3c), ret_a()]), 0x30);
    assert_eq!(eval(&[imm(0xf0), alu(BPF_OR, 0x0f), ret_a()]), 0xff);
    assert_eq!(eval(&[imm(0xff), alu(BPF_XOR, 0x0f), ret_a()]), 0xf0);
    assert_eq!(eval(&[imm(3), alu(BPF_LSH, 31), ret_a()]), 0x8000_0000);
    assert_eq!(eval(&[imm(0x8000_0000), alu(BPF_RSH, 31), ret_a()]), 1);
    assert_eq!(
        eval(&[imm(5), stmt(BPF_ALU | BPF_NEG, 0), ret_a()]),
        5u32.wrapping_neg()
    );
    assert_eq!(eval(&[imm(100), ldx(7), alux(BPF_DIV), ret_a()]), 14);
    assert_eq!(eval(&[imm(100), ldx(7), alux(BPF_MOD), ret_a()]), 2);
    assert_eq!(
        eval(&[imm(1), ldx(3), alux(BPF_SUB), ret_a()]),
        u32::MAX - 1
    );
    // Shifts by X use its low 5 bits.
    assert_eq!(eval(&[imm(1), ldx(33), alux(BPF_LSH), ret_a()]), 2);
    assert_eq!(eval(&[imm(8), ldx(34), alux(BPF_RSH), ret_a()]), 2);
}

#[test]
fn division_by_x_zero_returns_zero_from_the_filter() {
    for op in [BPF_DIV, BPF_MOD] {
        let prog = [
            stmt(BPF_LD | BPF_IMM, 10),
            stmt(BPF_ALU | op | BPF_X, 0),
            ret(SECCOMP_RET_ALLOW),
        ];
        let out = run(&prog, &SeccompData::default(), Endian::Little).unwrap();
        assert_eq!(
            out,
            Outcome {
                ret: 0,
                executed: 2
            }
        );
    }
}

#[test]
fn registers_scratch_memory_and_length() {
    let prog = [
        stmt(BPF_LD | BPF_W | BPF_LEN, 0),
        stmt(BPF_ST, 15),
        stmt(BPF_LDX | BPF_W | BPF_LEN, 0),
        stmt(BPF_ALU | BPF_ADD | BPF_X, 0), // A = 128
        stmt(BPF_MISC | BPF_TAX, 0),        // X = 128
        stmt(BPF_LD | BPF_MEM, 15),         // A = 64
        stmt(BPF_ALU | BPF_ADD | BPF_X, 0), // A = 192
        stmt(BPF_STX, 0),                   // M[0] = 128
        stmt(BPF_LDX | BPF_MEM, 0),
        stmt(BPF_MISC | BPF_TXA, 0), // A = 128
        ret_a(),
    ];
    assert_eq!(validate(&prog), Ok(()));
    assert_eq!(eval(&prog), 128);
}

#[test]
fn jumps_compare_unsigned_and_count_from_the_next_instruction() {
    let cond = |op: u16, a: u32, k: u32| {
        let prog = [
            stmt(BPF_LD | BPF_IMM, a),
            jump(BPF_JMP | op | BPF_K, k, 1, 0),
            ret(0),
            ret(1),
        ];
        let out = run(&prog, &SeccompData::default(), Endian::Big).unwrap();
        assert_eq!(out.executed, 3);
        out.ret == 1
    };
    assert!(cond(BPF_JEQ, 5, 5));
    assert!(!cond(BPF_JEQ, 5, 6));
    assert!(cond(BPF_JGT, u32::MAX, 1));
    assert!(!cond(BPF_JGT, 1, 1));
    assert!(cond(BPF_JGE, 1, 1));
    assert!(!cond(BPF_JGE, 0, 0x8000_0000));
    assert!(cond(BPF_JSET, 0b1010, 0b0010));
    assert!(!cond(BPF_JSET, 0b1010, 0b0101));

    let condx = |op: u16, a: u32, x: u32| {
        let prog = [
            stmt(BPF_LD | BPF_IMM, a),
            stmt(BPF_LDX | BPF_IMM, x),
            jump(BPF_JMP | op | BPF_X, 0, 0, 1),
            ret(1),
            ret(0),
        ];
        eval(&prog) == 1
    };
    assert!(condx(BPF_JEQ, 7, 7));
    assert!(condx(BPF_JGT, 0x8000_0000, 0x7fff_ffff));
    assert!(!condx(BPF_JGE, 2, 3));
    assert!(condx(BPF_JSET, 3, 2));

    let prog = [stmt(BPF_JMP | BPF_JA, 2), ret(1), ret(2), ret(3)];
    assert_eq!(
        run(&prog, &SeccompData::default(), Endian::Little),
        Ok(Outcome {
            ret: 3,
            executed: 2
        })
    );
}

#[test]
fn simulation_errors_instead_of_panics() {
    let d = SeccompData::default();
    let le = Endian::Little;
    assert_eq!(run(&[], &d, le), Err(BpfError::FellOffEnd { len: 0 }));
    assert_eq!(
        run(&[ld_abs(0)], &d, le),
        Err(BpfError::FellOffEnd { len: 1 })
    );
    assert_eq!(
        run(&[stmt(BPF_JMP | BPF_JA, u32::MAX), ret(0)], &d, le),
        Err(BpfError::JumpOutOfRange {
            index: 0,
            target: 1 << 32,
            last: 1
        })
    );
    assert_eq!(
        run(&[jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), ret(0)], &d, le),
        Err(BpfError::JumpOutOfRange {
            index: 0,
            target: 2,
            last: 1
        })
    );
    for k in [61, 62, 63, 64, u32::MAX] {
        assert_eq!(
            run(&[ld_abs(k), ret_a()], &d, le),
            Err(BpfError::LoadOutOfRange { index: 0, k })
        );
    }
    assert_eq!(
        run(&[stmt(BPF_LD | BPF_MEM, 2), ret_a()], &d, le),
        Err(BpfError::UninitializedScratch { index: 0, k: 2 })
    );
    assert_eq!(
        run(&[stmt(BPF_ST, 16), ret_a()], &d, le),
        Err(BpfError::ScratchOutOfRange { index: 0, k: 16 })
    );
    assert_eq!(
        run(&[stmt(BPF_ALU | BPF_DIV | BPF_K, 0), ret_a()], &d, le),
        Err(BpfError::DivisionByZero { index: 0 })
    );
    assert_eq!(
        run(&[stmt(BPF_ALU | BPF_LSH | BPF_K, 40), ret_a()], &d, le),
        Err(BpfError::ShiftOutOfRange { index: 0, k: 40 })
    );
    assert_eq!(
        run(&[stmt(BPF_LD | BPF_B | BPF_ABS, 0), ret_a()], &d, le),
        Err(BpfError::Unsupported {
            index: 0,
            code: 0x30
        })
    );
    assert_eq!(
        run(&[stmt(0x0e, 0)], &d, le),
        Err(BpfError::UnknownOpcode {
            index: 0,
            code: 0x0e
        })
    );
    // An unaligned load inside the data is given its obvious meaning.
    let d = data(0x0403_0201, 0x0807_0605, [0; 6]);
    assert_eq!(run(&[ld_abs(1), ret_a()], &d, le).unwrap().ret, 0x0504_0302);
}

#[test]
fn a_full_length_chain_of_jumps_runs_every_instruction() {
    let mut prog = vec![stmt(BPF_JMP | BPF_JA, 0); BPF_MAXINSNS - 1];
    prog.push(ret(SECCOMP_RET_ALLOW));
    assert_eq!(validate(&prog), Ok(()));
    let out = run(&prog, &SeccompData::default(), Endian::Little).unwrap();
    assert_eq!(out.executed, BPF_MAXINSNS);
}

// ---------------------------------------------------------------------------------------
// encode / decode
// ---------------------------------------------------------------------------------------

#[test]
fn encodes_in_the_kernel_layout() {
    let prog = [jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_003e, 1, 2)];
    assert_eq!(
        encode(&prog, Endian::Little),
        [0x15, 0x00, 0x01, 0x02, 0x3e, 0x00, 0x00, 0xc0]
    );
    assert_eq!(
        encode(&prog, Endian::Big),
        [0x00, 0x15, 0x01, 0x02, 0xc0, 0x00, 0x00, 0x3e]
    );
    assert!(encode(&[], Endian::Big).is_empty());
}

#[test]
fn decode_rejects_partial_instructions() {
    for len in [1, 7, 9, 15, 17] {
        assert_eq!(
            decode(&vec![0; len], Endian::Little),
            Err(BpfError::BadLength { len })
        );
    }
    assert_eq!(decode(&[], Endian::Big), Ok(vec![]));
}

#[test]
fn encode_decode_round_trip() {
    let prog = execve_filter();
    for endian in BOTH {
        assert_eq!(decode(&encode(&prog, endian), endian).unwrap(), prog);
    }
}

// ---------------------------------------------------------------------------------------
// disassemble
// ---------------------------------------------------------------------------------------

#[test]
fn disassembles_the_execve_filter() {
    let text = disassemble(&execve_filter());
    let expected = "\
0000: 0x20 0x00 0x00 0x00000004  ld    [4]  ; arch
0001: 0x15 0x00 0x03 0xc000003e  jeq   #0xc000003e  true:0002 false:0005
0002: 0x20 0x00 0x00 0x00000000  ld    [0]  ; nr
0003: 0x15 0x00 0x01 0x0000003b  jeq   #0x3b  true:0004 false:0005
0004: 0x06 0x00 0x00 0x00050001  ret   ERRNO(1)
0005: 0x06 0x00 0x00 0x7fff0000  ret   ALLOW
";
    assert_eq!(text, expected);
}

#[test]
fn disassembles_every_instruction_kind() {
    let prog = [
        stmt(BPF_LD | BPF_W | BPF_LEN, 0),
        stmt(BPF_LDX | BPF_IMM, 5),
        stmt(BPF_ST, 1),
        stmt(BPF_LDX | BPF_MEM, 1),
        stmt(BPF_MISC | BPF_TAX, 0),
        stmt(BPF_ALU | BPF_AND | BPF_X, 0),
        stmt(BPF_ALU | BPF_NEG, 0),
        jump(BPF_JMP | BPF_JSET | BPF_K, 0x10, 0, 1),
        jump(BPF_JMP | BPF_JGE | BPF_X, 0, 1, 0),
        stmt(BPF_JMP | BPF_JA, 1),
        ld_abs(28),
        ret_a(),
        stmt(BPF_LD | BPF_B | BPF_IND, 2),
        stmt(0xffff, 0),
        ret(SECCOMP_RET_KILL_PROCESS),
    ];
    let le = disassemble_for(&prog, Endian::Little);
    let lines: Vec<&str> = le.lines().collect();
    assert_eq!(lines.len(), prog.len());
    let tails = [
        "ld    #len  ; 64",
        "ldx   #0x5",
        "st    M[1]",
        "ldx   M[1]",
        "tax",
        "and   x",
        "neg",
        "jset  #0x10  true:0008 false:0009",
        "jge   x  true:0010 false:0009",
        "ja    0011",
        "ld    [28]  ; args[1] hi",
        "ret   a",
        "ldb   [x + 2]",
        "unknown",
        "ret   KILL_PROCESS",
    ];
    for (line, tail) in lines.iter().zip(tails) {
        assert!(line.ends_with(tail), "{line:?} does not end with {tail:?}");
    }
    let be = disassemble_for(&prog, Endian::Big);
    assert!(be.contains("ld    [28]  ; args[1] lo"));
    assert!(disassemble(&[]).is_empty());
}

// ---------------------------------------------------------------------------------------
// randomized robustness
// ---------------------------------------------------------------------------------------

/// SplitMix64: small, deterministic, good enough to generate test programs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Every opcode the kernel's classic checker knows.
const CLASSIC_OPCODES: [u16; 49] = [
    0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x94, 0x9c, 0x54, 0x5c, 0x44, 0x4c, 0xa4, 0xac,
    0x64, 0x6c, 0x74, 0x7c, 0x84, // ALU
    0x20, 0x28, 0x30, 0x80, 0x40, 0x48, 0x50, 0x00, 0x60, 0x81, 0xb1, 0x01, 0x61, // loads
    0x02, 0x03, 0x07, 0x87, 0x06, 0x16, // st, stx, tax, txa, ret k, ret a
    0x05, 0x15, 0x1d, 0x35, 0x3d, 0x25, 0x2d, 0x45, 0x4d, // jumps
];

fn random_k(rng: &mut Rng) -> u32 {
    match rng.below(6) {
        0 => rng.below(20) as u32,
        1 => (rng.below(16) * 4) as u32,
        2 => rng.below(70) as u32,
        3 => rng.pick(&[
            SECCOMP_RET_ALLOW,
            SECCOMP_RET_ERRNO | 1,
            0xffff_f000,
            u32::MAX,
        ]),
        _ => rng.next() as u32,
    }
}

/// A program anything could be wrong with.
fn random_program(rng: &mut Rng) -> Vec<Instruction> {
    let len = rng.below(24) as usize;
    (0..len)
        .map(|_| {
            let code = if rng.below(10) == 0 {
                rng.next() as u16
            } else {
                rng.pick(&CLASSIC_OPCODES)
            };
            let (jt, jf) = if rng.below(4) == 0 {
                (rng.next() as u8, rng.next() as u8)
            } else {
                (rng.below(6) as u8, rng.below(6) as u8)
            };
            Instruction::jump(code, random_k(rng), jt, jf)
        })
        .collect()
}

/// A program built to pass `validate` most of the time (scratch loads may still be
/// uninitialised on some path, and then it must be rejected).
fn plausible_program(rng: &mut Rng) -> Vec<Instruction> {
    let len = 1 + rng.below(30) as usize;
    let mut prog = Vec::with_capacity(len);
    for pc in 0..len {
        let room = (len - pc - 1) as u64; // instructions after this one
        if pc == len - 1 {
            prog.push(if rng.below(3) == 0 {
                ret_a()
            } else {
                ret(random_k(rng))
            });
            continue;
        }
        let ins = match rng.below(10) {
            0 | 1 => ld_abs((rng.below(16) * 4) as u32),
            2 => stmt(rng.pick(&[BPF_ST, BPF_STX]), rng.below(16) as u32),
            3 => stmt(
                rng.pick(&[BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM]),
                rng.below(16) as u32,
            ),
            4 => {
                let op = rng.pick(&[
                    BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH,
                ]);
                let src = rng.pick(&[BPF_K, BPF_X]);
                let k = match op {
                    BPF_DIV => 1 + rng.below(9) as u32,
                    BPF_LSH | BPF_RSH => rng.below(32) as u32,
                    _ => rng.next() as u32,
                };
                stmt(BPF_ALU | op | src, k)
            }
            5 => stmt(
                rng.pick(&[
                    BPF_LD | BPF_IMM,
                    BPF_LDX | BPF_IMM,
                    BPF_LD | BPF_W | BPF_LEN,
                    BPF_LDX | BPF_W | BPF_LEN,
                    BPF_MISC | BPF_TAX,
                    BPF_MISC | BPF_TXA,
                    BPF_ALU | BPF_NEG,
                ]),
                rng.below(100) as u32,
            ),
            6 => stmt(BPF_JMP | BPF_JA, rng.below(room) as u32),
            7 if rng.below(4) == 0 => ret(random_k(rng)),
            _ => {
                let op = rng.pick(&[BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET]);
                let src = rng.pick(&[BPF_K, BPF_X]);
                let span = room.min(256);
                jump(
                    BPF_JMP | op | src,
                    random_k(rng),
                    rng.below(span) as u8,
                    rng.below(span) as u8,
                )
            }
        };
        prog.push(ins);
    }
    prog
}

fn random_data(rng: &mut Rng) -> SeccompData {
    let mut args = [0u64; 6];
    for a in &mut args {
        *a = match rng.below(3) {
            0 => rng.below(8),
            _ => rng.next(),
        };
    }
    SeccompData {
        nr: rng.below(64) as i32,
        arch: rng.next() as u32,
        instruction_pointer: rng.next(),
        args,
    }
}

#[test]
fn random_programs_never_panic_or_loop() {
    let mut rng = Rng(0x5eed_0000_0000_0001);
    let mut valid = 0usize;
    let mut ran = 0usize;
    for round in 0..6000 {
        let prog = if round % 2 == 0 {
            random_program(&mut rng)
        } else {
            plausible_program(&mut rng)
        };
        let verdict = validate(&prog);
        let _ = check_classic(&prog);
        assert_eq!(disassemble(&prog).lines().count(), prog.len());
        let _ = disassemble_for(&prog, Endian::Big);
        for endian in BOTH {
            let d = random_data(&mut rng);
            match run(&prog, &d, endian) {
                Ok(out) => {
                    ran += 1;
                    assert!(out.executed >= 1 && out.executed <= prog.len());
                }
                Err(e) => {
                    // A program the kernel accepts always runs to a return.
                    assert!(verdict.is_err(), "valid program failed with {e}: {prog:?}");
                    assert!(!e.to_string().is_empty());
                }
            }
        }
        if verdict.is_ok() {
            valid += 1;
            assert_eq!(check_classic(&prog), Ok(()));
        }
    }
    // The generators must exercise both sides.
    assert!(valid > 1000, "only {valid} valid programs");
    assert!(ran > 2000, "only {ran} successful runs");
}

#[test]
fn random_programs_round_trip_through_bytes() {
    let mut rng = Rng(42);
    for _ in 0..2000 {
        let prog = random_program(&mut rng);
        for endian in BOTH {
            let bytes = encode(&prog, endian);
            assert_eq!(bytes.len(), prog.len() * 8);
            assert_eq!(decode(&bytes, endian).unwrap(), prog);
        }
        // Random bytes of any length decode or fail cleanly.
        let len = rng.below(40) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        for endian in BOTH {
            match decode(&bytes, endian) {
                Ok(p) => assert_eq!(encode(&p, endian), bytes),
                Err(e) => assert_eq!(e, BpfError::BadLength { len }),
            }
        }
    }
}
