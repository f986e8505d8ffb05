//! The `rules` target's property: rules of one action on one architecture mean what they
//! say. A call gets that action exactly when all the comparisons of some rule hold, and the
//! default action otherwise, whatever the rule database made of them (the `filters` target
//! compares the program with the database's own evaluator, which a wrong merge fools too).
//!
//! The input is raw bytes, read as: the architecture, the level, the action and the passes;
//! then rules, each a syscall and one to four comparisons (argument, operator, datum and
//! mask, each datum an edge value, a small number or eight bytes). This file depends on
//! `pure_seccomp`, `std` and `checks.rs` alone, so that `tests/fuzz_regressions.rs` replays
//! the corpus on the stable toolchain; `tests/rule_semantics.rs` checks its own random rules
//! with [`holds`].

use crate::checks::audit_token;
use pure_seccomp::bpf::{self, SeccompData};
use pure_seccomp::opt::Passes;
use pure_seccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};

/// Single architectures: every one (`ScmpArch::all`), the eight the target began with first.
pub const ARCHES: &[ScmpArch] = &[
    ScmpArch::X8664,
    ScmpArch::Aarch64,
    ScmpArch::X86,
    ScmpArch::Arm,
    ScmpArch::S390X,
    ScmpArch::Riscv64,
    ScmpArch::Mipsel64,
    ScmpArch::Ppc,
    ScmpArch::X32,
    ScmpArch::Loongarch64,
    ScmpArch::M68k,
    ScmpArch::Mips,
    ScmpArch::Mips64,
    ScmpArch::Mips64N32,
    ScmpArch::Mipsel,
    ScmpArch::Mipsel64N32,
    ScmpArch::Parisc,
    ScmpArch::Parisc64,
    ScmpArch::Ppc64,
    ScmpArch::Ppc64Le,
    ScmpArch::S390,
    ScmpArch::Sh,
    ScmpArch::Sheb,
];

/// Syscalls every architecture above has, none multiplexed through `socketcall`/`ipc`.
pub const SYSCALLS: &[&str] = &["mprotect", "fcntl", "ioctl", "prctl", "kill", "read"];

/// The actions the rules take (the default is `Errno(1)`), with their return values.
pub const ACTIONS: &[(ScmpAction, u32)] = &[
    (ScmpAction::Allow, 0x7fff_0000),
    (ScmpAction::Log, 0x7ffc_0000),
    (ScmpAction::KillThread, 0),
    (ScmpAction::Errno(2), 0x0005_0002),
];

/// What the default action, `Errno(1)`, returns.
pub const DEFAULT_RET: u32 = 0x0005_0001;

/// The edge values a datum's byte picks from: part of the input's format (the committed
/// inputs decode with this table), so not `checks::EDGE`.
const EDGE: &[u64] = &[
    0,
    1,
    2,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x1_0000_0001,
    0xffff_ffff_0000_0000,
    u64::MAX,
];

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }
    fn datum(&mut self) -> u64 {
        match self.u8() % 4 {
            0 => EDGE[usize::from(self.u8()) % EDGE.len()],
            1 | 2 => u64::from(self.u8() % 16),
            _ => (0..8).fold(0, |v, _| v << 8 | u64::from(self.u8())),
        }
    }
}

/// Whether filters compare whole 64-bit arguments on the ABI: libseccomp compares the low
/// words only on the others, x32 and the MIPS n32 ABIs among them (whose registers are 64-bit).
pub fn wide(arch: ScmpArch) -> bool {
    matches!(
        arch,
        ScmpArch::X8664
            | ScmpArch::Aarch64
            | ScmpArch::Loongarch64
            | ScmpArch::Mips64
            | ScmpArch::Mipsel64
            | ScmpArch::Parisc64
            | ScmpArch::Ppc64
            | ScmpArch::Ppc64Le
            | ScmpArch::Riscv64
            | ScmpArch::S390X
    )
}

/// Whether `c` holds for the argument value `v` (a 32-bit ABI compares the low words only).
pub fn holds(c: &ScmpArgCompare, v: u64, wide: bool) -> bool {
    let w = |x: u64| if wide { x } else { x & 0xffff_ffff };
    let (v, d) = (w(v), w(c.datum()));
    match c.op() {
        ScmpCompareOp::Equal => v == d,
        ScmpCompareOp::NotEqual => v != d,
        ScmpCompareOp::Less => v < d,
        ScmpCompareOp::LessOrEqual => v <= d,
        ScmpCompareOp::Greater => v > d,
        ScmpCompareOp::GreaterEqual => v >= d,
        ScmpCompareOp::MaskedEqual(m) => v & w(m) == d,
        other => panic!("unexpected operator {other:?}"),
    }
}

/// Builds the input's rules and checks the program against them.
pub fn check_rules(data: &[u8]) {
    let mut b = Bytes(data);
    let arch = ARCHES[usize::from(b.u8()) % ARCHES.len()];
    let level = 1 + u32::from(b.u8() % 2);
    let (action, action_ret) = ACTIONS[usize::from(b.u8()) % ACTIONS.len()];
    let passes_byte = b.u8();
    // Mostly every pass; else a set of them.
    let passes = if passes_byte < 192 {
        Passes::all()
    } else {
        Passes::from_bits_truncate(u32::from(passes_byte) << 4 | u32::from(passes_byte))
    };
    let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(1)).expect("a valid default");
    ctx.remove_arch(ScmpArch::native())
        .expect("the native arch is there");
    ctx.add_arch(arch).expect("a supported arch");
    ctx.set_ctl_optimize(level).expect("level 1 or 2");
    ctx.set_opt_passes(passes);
    let wide = wide(arch);
    let mut rules: Vec<(&str, Vec<ScmpArgCompare>)> = Vec::new();
    let mut values: Vec<Vec<u64>> = vec![vec![0, u64::MAX, 0x8000_0000]; 6];
    while !b.0.is_empty() && rules.len() < 48 {
        let name = SYSCALLS[usize::from(b.u8()) % SYSCALLS.len()];
        let mut cmps: Vec<ScmpArgCompare> = Vec::new();
        for _ in 0..1 + b.u8() % 4 {
            let arg = u32::from(b.u8() % 6);
            let op = b.u8() % 7;
            let (datum, mask) = (b.datum(), b.datum());
            if cmps.iter().any(|c| c.arg() == arg) {
                continue;
            }
            let c = match op {
                0 => ScmpArgCompare::new(arg, ScmpCompareOp::Equal, datum),
                1 => ScmpArgCompare::new(arg, ScmpCompareOp::NotEqual, datum),
                2 => ScmpArgCompare::new(arg, ScmpCompareOp::Less, datum),
                3 => ScmpArgCompare::new(arg, ScmpCompareOp::LessOrEqual, datum),
                4 => ScmpArgCompare::new(arg, ScmpCompareOp::Greater, datum),
                5 => ScmpArgCompare::new(arg, ScmpCompareOp::GreaterEqual, datum),
                _ => ScmpArgCompare::new(arg, ScmpCompareOp::MaskedEqual(mask), datum & mask),
            };
            let d = c.datum();
            values[arg as usize].extend([d, d.wrapping_add(1), d.wrapping_sub(1)]);
            cmps.push(c);
        }
        let sys = ScmpSyscall::from_name(name).expect("a known name");
        if ctx.add_rule_conditional(action, sys, &cmps).is_ok() {
            rules.push((name, cmps));
        }
    }
    let Ok(bytes) = ctx.export_bpf_mem() else {
        return; // too long for the kernel: refused, as it should be
    };
    let prog = bpf::decode(&bytes, ctx.byte_order()).expect("our program decodes");
    let audit = audit_token(arch).expect("a token for every architecture");
    let mut seed = data.iter().fold(0x9e37_79b9_7f4a_7c15u64, |s, &x| {
        (s ^ u64::from(x)).wrapping_mul(0x1000_0000_01b3)
    });
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for name in SYSCALLS {
        if !rules.iter().any(|(n, _)| n == name) {
            continue;
        }
        let nr = ScmpSyscall::from_name_by_arch(name, arch)
            .expect("every architecture has it")
            .as_raw_syscall();
        for _ in 0..200 {
            let mut args = [0u64; 6];
            for (a, v) in args.iter_mut().enumerate() {
                let pool = &values[a];
                *v = pool[(next() % pool.len() as u64) as usize];
                if !wide {
                    *v &= 0xffff_ffff;
                }
            }
            let q = SeccompData {
                nr,
                arch: audit,
                instruction_pointer: 0,
                args,
            };
            let got = bpf::simulate(&prog, &q, ctx.byte_order())
                .expect("our program runs")
                .ret;
            let hit = rules.iter().any(|(n, cmps)| {
                n == name && cmps.iter().all(|c| holds(c, args[c.arg() as usize], wide))
            });
            let want = if hit { action_ret } else { DEFAULT_RET };
            assert_eq!(
                got, want,
                "{arch:?}, level {level}, passes {passes:?}: {name}{args:x?} returns {got:#x}, \
                 the rules say {want:#x}; rules: {rules:?}"
            );
        }
    }
}
