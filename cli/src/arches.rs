//! Architectures as the command line names them, and the facts about each ABI that reading a
//! compiled program needs: the `AUDIT_ARCH_*` value in `seccomp_data.arch`, the byte order,
//! syscall names and numbers.

use pure_seccomp::policy::parse_arch;
use pure_seccomp::{bpf, Endian, ScmpArch, ScmpSyscall};

/// Bit 30, set in every x32 syscall number.
pub const X32_BIT: u32 = 0x4000_0000;

/// Parses an `--arch` value: libseccomp's name without the prefix (`x86_64`, `aarch64`,
/// `s390x`), the `SCMP_ARCH_*` name, or Go's (`amd64`, `arm64`, `mips64le`); `native` is
/// this machine's.
pub fn parse(s: &str) -> Result<ScmpArch, String> {
    parse_arch(s).ok_or_else(|| {
        format!(
            "unknown architecture {s:?}; known: {} (also SCMP_ARCH_* and Go names such as \
             amd64, arm64, 386)",
            ScmpArch::all().map(short).collect::<Vec<_>>().join(", ")
        )
    })
}

/// libseccomp's short name (`x86_64`, `mipsel64n32`).
pub fn short(arch: ScmpArch) -> &'static str {
    match arch {
        ScmpArch::X86 => "x86",
        ScmpArch::X8664 => "x86_64",
        ScmpArch::X32 => "x32",
        ScmpArch::Arm => "arm",
        ScmpArch::Aarch64 => "aarch64",
        ScmpArch::Loongarch64 => "loongarch64",
        ScmpArch::M68k => "m68k",
        ScmpArch::Mips => "mips",
        ScmpArch::Mips64 => "mips64",
        ScmpArch::Mips64N32 => "mips64n32",
        ScmpArch::Mipsel => "mipsel",
        ScmpArch::Mipsel64 => "mipsel64",
        ScmpArch::Mipsel64N32 => "mipsel64n32",
        ScmpArch::Ppc => "ppc",
        ScmpArch::Ppc64 => "ppc64",
        ScmpArch::Ppc64Le => "ppc64le",
        ScmpArch::S390 => "s390",
        ScmpArch::S390X => "s390x",
        ScmpArch::Parisc => "parisc",
        ScmpArch::Parisc64 => "parisc64",
        ScmpArch::Riscv64 => "riscv64",
        ScmpArch::Sheb => "sheb",
        ScmpArch::Sh => "sh",
        ScmpArch::Native => "native",
        _ => "unknown",
    }
}

/// The `AUDIT_ARCH_*` value the kernel puts in `seccomp_data.arch` for a call of this ABI
/// (x32 calls carry x86_64's value, with bit 30 set in the number).
pub fn audit(arch: ScmpArch) -> u32 {
    // (0 where no `AUDIT_ARCH_*` value is known: `Native` on an unsupported target.)
    bpf::audit_arch(arch).unwrap_or(0)
}

/// The byte order of the ABI's `seccomp_data` (and of its programs).
pub fn endian(arch: ScmpArch) -> Endian {
    if audit(arch) & 0x4000_0000 != 0 {
        Endian::Little
    } else {
        Endian::Big
    }
}

/// Names for an `AUDIT_ARCH_*` value: every ABI that carries it (x86_64 and x32 share one).
pub fn names_of_audit(token: u32) -> Vec<ScmpArch> {
    ScmpArch::all().filter(|&a| audit(a) == token).collect()
}

/// The ABI a call with this `seccomp_data` (arch value, number) belongs to.
pub fn abi_of_call(token: u32, nr: u32) -> Option<ScmpArch> {
    let arches = names_of_audit(token);
    if arches.contains(&ScmpArch::X8664) {
        return Some(if nr & X32_BIT != 0 {
            ScmpArch::X32
        } else {
            ScmpArch::X8664
        });
    }
    arches.first().copied()
}

/// The syscall's name on `arch`, if the number has one.
pub fn syscall_name(arch: ScmpArch, nr: u32) -> Option<String> {
    let nr = i32::try_from(nr).ok()?;
    ScmpSyscall::from(nr).get_name_by_arch(arch).ok()
}

/// A syscall given as a name or a number (decimal or `0x` hex), as its number on `arch`.
pub fn syscall_number(arch: ScmpArch, s: &str) -> Result<u32, String> {
    if let Some(n) = parse_u64(s) {
        return u32::try_from(n).map_err(|_| format!("syscall number {s:?} is out of range"));
    }
    let sys = ScmpSyscall::from_name_by_arch(s, arch)
        .map_err(|_| format!("unknown syscall {s:?} on {}", short(arch)))?;
    let nr = sys.as_raw_syscall();
    u32::try_from(nr).map_err(|_| {
        format!(
            "syscall {s:?} does not exist on {} (libseccomp's pseudo number {nr})",
            short(arch)
        )
    })
}

/// A number in decimal, `0x` hex or `0o` octal (also negative decimals, as two's complement).
pub fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok();
    }
    if let Some(o) = s.strip_prefix("0o") {
        return u64::from_str_radix(o, 8).ok();
    }
    if let Some(neg) = s.strip_prefix('-') {
        return neg.parse::<u64>().ok().map(|v| v.wrapping_neg());
    }
    s.parse().ok()
}

/// The ABIs that usually come with a primary one in a container filter (what the kernel of
/// that machine can also run).
pub fn companions(arch: ScmpArch) -> Vec<ScmpArch> {
    match arch {
        ScmpArch::X8664 => vec![ScmpArch::X86, ScmpArch::X32],
        ScmpArch::Aarch64 => vec![ScmpArch::Arm],
        ScmpArch::Mips64 => vec![ScmpArch::Mips, ScmpArch::Mips64N32],
        ScmpArch::Mipsel64 => vec![ScmpArch::Mipsel, ScmpArch::Mipsel64N32],
        ScmpArch::S390X => vec![ScmpArch::S390],
        ScmpArch::Ppc64 => vec![ScmpArch::Ppc],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pure_seccomp::bpf::{self, BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_W};
    use pure_seccomp::{ScmpAction, ScmpFilterContext};

    /// The table agrees with the library: each ABI's filter compares `seccomp_data.arch`
    /// with our `audit` value, in our byte order.
    #[test]
    fn audit_values_match_the_library() {
        for arch in ScmpArch::all() {
            let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
            ctx.remove_arch(ScmpArch::native()).unwrap();
            ctx.add_arch(arch).unwrap();
            ctx.add_rule(
                ScmpAction::KillThread,
                ScmpSyscall::from_name("close").unwrap(),
            )
            .unwrap();
            assert_eq!(ctx.byte_order(), endian(arch), "{arch}");
            let prog = bpf::decode(&ctx.export_bpf_mem().unwrap(), endian(arch)).unwrap();
            assert_eq!(prog[0], bpf::Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 4));
            assert!(
                prog.iter()
                    .any(|i| i.code == BPF_JMP | BPF_JEQ | BPF_K && i.k == audit(arch)),
                "{arch}"
            );
            assert_eq!(parse(short(arch)).unwrap(), arch);
        }
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(syscall_number(ScmpArch::X8664, "read").unwrap(), 0);
        assert_eq!(syscall_number(ScmpArch::X8664, "0x3b").unwrap(), 59);
        assert_eq!(syscall_name(ScmpArch::X8664, 59).as_deref(), Some("execve"));
        let x32_read = syscall_number(ScmpArch::X32, "read").unwrap();
        assert_eq!(x32_read, X32_BIT);
        assert_eq!(
            syscall_name(ScmpArch::X32, x32_read).as_deref(),
            Some("read")
        );
        assert!(syscall_number(ScmpArch::X8664, "socketcall").is_err());
        assert!(syscall_number(ScmpArch::X8664, "nosuchcall").is_err());
        assert_eq!(parse("amd64").unwrap(), ScmpArch::X8664);
        assert!(parse("vax").unwrap_err().contains("\"vax\""));
        assert_eq!(
            abi_of_call(audit(ScmpArch::X8664), X32_BIT | 1),
            Some(ScmpArch::X32)
        );
        assert_eq!(parse_u64("-1"), Some(u64::MAX));
    }
}
