//! Architectures (ABIs) and what the compiler needs to know about each.

use crate::error::{ErrorKind, Result, SeccompError};
use std::fmt;
use std::str::FromStr;

/// An architecture (more exactly, a syscall ABI) a filter can cover.
///
/// The variants are those of the `libseccomp` crate 0.4.0. [`ScmpArch::Native`] stands for
/// the architecture this crate was compiled for (see [`ScmpArch::native`]).
///
/// ```
/// use pure_seccomp::ScmpArch;
/// use std::str::FromStr;
/// assert_eq!(ScmpArch::from_str("SCMP_ARCH_AARCH64").unwrap(), ScmpArch::Aarch64);
/// assert!(ScmpArch::from_str("aarch64").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ScmpArch {
    /// The native architecture of the compiled code.
    Native,
    /// 32-bit x86 (i386).
    X86,
    /// 64-bit x86-64.
    X8664,
    /// The x32 ABI of x86-64 (32-bit pointers, syscall numbers with bit 30 set). A 32-bit ABI
    /// to rules, as in libseccomp: argument comparisons read the low 32 bits, although the
    /// kernel hands the filter an x32 call's 64-bit registers whole.
    X32,
    /// 32-bit ARM (EABI).
    Arm,
    /// 64-bit ARM.
    Aarch64,
    /// 64-bit LoongArch.
    Loongarch64,
    /// Motorola 68000.
    M68k,
    /// 32-bit MIPS, big-endian (o32 ABI).
    Mips,
    /// 64-bit MIPS, big-endian (n64 ABI).
    Mips64,
    /// 64-bit MIPS with 32-bit pointers, big-endian (n32 ABI).
    Mips64N32,
    /// 32-bit MIPS, little-endian (o32 ABI).
    Mipsel,
    /// 64-bit MIPS, little-endian (n64 ABI).
    Mipsel64,
    /// 64-bit MIPS with 32-bit pointers, little-endian (n32 ABI).
    Mipsel64N32,
    /// 32-bit PowerPC.
    Ppc,
    /// 64-bit PowerPC, big-endian.
    Ppc64,
    /// 64-bit PowerPC, little-endian.
    Ppc64Le,
    /// 31-bit s390.
    S390,
    /// 64-bit s390x.
    S390X,
    /// 32-bit PA-RISC.
    Parisc,
    /// 64-bit PA-RISC.
    Parisc64,
    /// 64-bit RISC-V.
    Riscv64,
    /// SuperH, big-endian.
    Sheb,
    /// SuperH, little-endian.
    Sh,
}

/// Byte order of an architecture (and of the BPF program written for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

/// Syscall numbers of the multiplexers on an architecture that routes socket and IPC calls
/// through `socketcall(2)` and `ipc(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mux {
    pub socketcall: i32,
    pub ipc: i32,
}

/// What the rule database and the code generator need to know about one ABI.
#[derive(Debug)]
pub(crate) struct ArchInfo {
    /// The concrete architecture (never `Native`).
    pub arch: ScmpArch,
    /// libseccomp's name for it, as printed in PFC output ("x86_64").
    pub name: &'static str,
    /// libseccomp's `SCMP_ARCH_*` token (x32: `0x4000003e`).
    pub token: u32,
    /// The `AUDIT_ARCH_*` value the kernel puts in `seccomp_data.arch` (x32: x86_64's).
    pub audit: u32,
    /// Whether syscall arguments are compared as 64-bit values (high and low word).
    pub arg64: bool,
    pub endian: Endian,
    /// `socketcall`/`ipc` numbers where the ABI multiplexes them.
    pub mux: Option<Mux>,
}

const AUDIT_64: u32 = 0x8000_0000;
const AUDIT_LE: u32 = 0x4000_0000;
const MIPS_N32: u32 = 0x2000_0000;

macro_rules! info {
    ($arch:ident, $name:expr, $token:expr, $audit:expr, $arg64:expr, $endian:ident, $mux:expr) => {
        ArchInfo {
            arch: ScmpArch::$arch,
            name: $name,
            token: $token,
            audit: $audit,
            arg64: $arg64,
            endian: Endian::$endian,
            mux: $mux,
        }
    };
}

const MUX_STD: Option<Mux> = Some(Mux {
    socketcall: 102,
    ipc: 117,
});
const MUX_O32: Option<Mux> = Some(Mux {
    socketcall: 4102,
    ipc: 4117,
});

/// The descriptors, as a constant so that const code (`ScmpSyscall::new`) can read them.
pub(crate) const ARCH_TABLE: [ArchInfo; 23] = [
    info!(
        X86,
        "x86",
        3 | AUDIT_LE,
        3 | AUDIT_LE,
        false,
        Little,
        MUX_STD
    ),
    info!(
        X8664,
        "x86_64",
        62 | AUDIT_64 | AUDIT_LE,
        62 | AUDIT_64 | AUDIT_LE,
        true,
        Little,
        None
    ),
    info!(
        X32,
        "x32",
        62 | AUDIT_LE,
        62 | AUDIT_64 | AUDIT_LE,
        false,
        Little,
        None
    ),
    info!(
        Arm,
        "arm",
        40 | AUDIT_LE,
        40 | AUDIT_LE,
        false,
        Little,
        None
    ),
    info!(
        Aarch64,
        "aarch64",
        183 | AUDIT_64 | AUDIT_LE,
        183 | AUDIT_64 | AUDIT_LE,
        true,
        Little,
        None
    ),
    info!(
        Loongarch64,
        "loongarch64",
        258 | AUDIT_64 | AUDIT_LE,
        258 | AUDIT_64 | AUDIT_LE,
        true,
        Little,
        None
    ),
    info!(M68k, "m68k", 4, 4, false, Big, MUX_STD),
    info!(Mips, "mips", 8, 8, false, Big, MUX_O32),
    info!(
        Mips64,
        "mips64",
        8 | AUDIT_64,
        8 | AUDIT_64,
        true,
        Big,
        None
    ),
    info!(
        Mips64N32,
        "mips64n32",
        8 | AUDIT_64 | MIPS_N32,
        8 | AUDIT_64 | MIPS_N32,
        false,
        Big,
        None
    ),
    info!(
        Mipsel,
        "mipsel",
        8 | AUDIT_LE,
        8 | AUDIT_LE,
        false,
        Little,
        MUX_O32
    ),
    info!(
        Mipsel64,
        "mipsel64",
        8 | AUDIT_64 | AUDIT_LE,
        8 | AUDIT_64 | AUDIT_LE,
        true,
        Little,
        None
    ),
    info!(
        Mipsel64N32,
        "mipsel64n32",
        8 | AUDIT_64 | AUDIT_LE | MIPS_N32,
        8 | AUDIT_64 | AUDIT_LE | MIPS_N32,
        false,
        Little,
        None
    ),
    info!(Ppc, "ppc", 20, 20, false, Big, MUX_STD),
    info!(
        Ppc64,
        "ppc64",
        21 | AUDIT_64,
        21 | AUDIT_64,
        true,
        Big,
        MUX_STD
    ),
    info!(
        Ppc64Le,
        "ppc64le",
        21 | AUDIT_64 | AUDIT_LE,
        21 | AUDIT_64 | AUDIT_LE,
        true,
        Little,
        MUX_STD
    ),
    info!(S390, "s390", 22, 22, false, Big, MUX_STD),
    info!(
        S390X,
        "s390x",
        22 | AUDIT_64,
        22 | AUDIT_64,
        true,
        Big,
        MUX_STD
    ),
    info!(Parisc, "parisc", 15, 15, false, Big, None),
    info!(
        Parisc64,
        "parisc64",
        15 | AUDIT_64,
        15 | AUDIT_64,
        true,
        Big,
        None
    ),
    info!(
        Riscv64,
        "riscv64",
        243 | AUDIT_64 | AUDIT_LE,
        243 | AUDIT_64 | AUDIT_LE,
        true,
        Little,
        None
    ),
    info!(Sheb, "sheb", 42, 42, false, Big, MUX_STD),
    info!(
        Sh,
        "sh",
        42 | AUDIT_LE,
        42 | AUDIT_LE,
        false,
        Little,
        MUX_STD
    ),
];

/// Every concrete architecture, in `ScmpArch` declaration order.
pub(crate) static ARCHES: [ArchInfo; 23] = ARCH_TABLE;

/// The multiplexer numbers of an architecture (`None` for `Native` and for architectures
/// without socketcall/ipc), usable in const code.
pub(crate) const fn mux_of(arch: ScmpArch) -> Option<Mux> {
    match arch.index() {
        Some(i) => ARCH_TABLE[i].mux,
        None => None,
    }
}

/// The architecture this crate was compiled for, if libseccomp supports it.
pub(crate) const NATIVE: Option<ScmpArch> = native_arch();

#[allow(unreachable_code)]
const fn native_arch() -> Option<ScmpArch> {
    #[cfg(all(target_arch = "x86_64", target_pointer_width = "64"))]
    return Some(ScmpArch::X8664);
    #[cfg(all(target_arch = "x86_64", target_pointer_width = "32"))]
    return Some(ScmpArch::X32);
    #[cfg(target_arch = "x86")]
    return Some(ScmpArch::X86);
    #[cfg(target_arch = "arm")]
    return Some(ScmpArch::Arm);
    #[cfg(target_arch = "aarch64")]
    return Some(ScmpArch::Aarch64);
    #[cfg(target_arch = "loongarch64")]
    return Some(ScmpArch::Loongarch64);
    #[cfg(target_arch = "m68k")]
    return Some(ScmpArch::M68k);
    #[cfg(all(target_arch = "mips", target_endian = "big"))]
    return Some(ScmpArch::Mips);
    #[cfg(all(target_arch = "mips", target_endian = "little"))]
    return Some(ScmpArch::Mipsel);
    #[cfg(all(
        target_arch = "mips64",
        target_pointer_width = "64",
        target_endian = "big"
    ))]
    return Some(ScmpArch::Mips64);
    #[cfg(all(
        target_arch = "mips64",
        target_pointer_width = "64",
        target_endian = "little"
    ))]
    return Some(ScmpArch::Mipsel64);
    #[cfg(all(
        target_arch = "mips64",
        target_pointer_width = "32",
        target_endian = "big"
    ))]
    return Some(ScmpArch::Mips64N32);
    #[cfg(all(
        target_arch = "mips64",
        target_pointer_width = "32",
        target_endian = "little"
    ))]
    return Some(ScmpArch::Mipsel64N32);
    #[cfg(target_arch = "powerpc")]
    return Some(ScmpArch::Ppc);
    #[cfg(all(target_arch = "powerpc64", target_endian = "big"))]
    return Some(ScmpArch::Ppc64);
    #[cfg(all(target_arch = "powerpc64", target_endian = "little"))]
    return Some(ScmpArch::Ppc64Le);
    #[cfg(target_arch = "s390x")]
    return Some(ScmpArch::S390X);
    #[cfg(target_arch = "riscv64")]
    return Some(ScmpArch::Riscv64);
    None
}

impl ScmpArch {
    /// The architecture this crate was compiled for, decided at compile time from the target
    /// (`x86_64` with 32-bit pointers is x32, `mips64` with 32-bit pointers is n32).
    ///
    /// On a target libseccomp does not support this returns [`ScmpArch::Native`], and filters
    /// created there start with no architecture.
    ///
    /// ```
    /// use pure_seccomp::ScmpArch;
    /// #[cfg(target_arch = "x86_64")]
    /// assert_eq!(ScmpArch::native(), ScmpArch::X8664);
    /// ```
    pub fn native() -> Self {
        NATIVE.unwrap_or(ScmpArch::Native)
    }

    /// This architecture's position in [`ARCH_TABLE`] / [`ARCHES`] and in the other tables
    /// by architecture: declaration order, after `Native` (`None`).
    pub(crate) const fn index(self) -> Option<usize> {
        match self {
            ScmpArch::Native => None,
            a => Some(a as usize - 1),
        }
    }

    /// The concrete architecture: `Native` resolved to the compiled-for one.
    pub(crate) fn resolve(self) -> Option<ScmpArch> {
        match self {
            ScmpArch::Native => NATIVE,
            a => Some(a),
        }
    }

    /// The descriptor of this architecture (`Native` resolved), if it has one.
    pub(crate) fn info(self) -> Option<&'static ArchInfo> {
        Some(&ARCHES[self.resolve()?.index()?])
    }

    /// The architecture with the given `SCMP_ARCH_*` token.
    pub(crate) fn from_token(token: u32) -> Result<Self> {
        if token == 0 {
            return Ok(ScmpArch::Native);
        }
        ARCHES
            .iter()
            .find(|i| i.token == token)
            .map(|i| i.arch)
            .ok_or_else(|| SeccompError::new(ErrorKind::InvalidArch(token)))
    }

    /// The libseccomp `SCMP_ARCH_*` name of this architecture.
    pub(crate) fn scmp_name(self) -> &'static str {
        match self {
            ScmpArch::Native => "SCMP_ARCH_NATIVE",
            ScmpArch::X86 => "SCMP_ARCH_X86",
            ScmpArch::X8664 => "SCMP_ARCH_X86_64",
            ScmpArch::X32 => "SCMP_ARCH_X32",
            ScmpArch::Arm => "SCMP_ARCH_ARM",
            ScmpArch::Aarch64 => "SCMP_ARCH_AARCH64",
            ScmpArch::Loongarch64 => "SCMP_ARCH_LOONGARCH64",
            ScmpArch::M68k => "SCMP_ARCH_M68K",
            ScmpArch::Mips => "SCMP_ARCH_MIPS",
            ScmpArch::Mips64 => "SCMP_ARCH_MIPS64",
            ScmpArch::Mips64N32 => "SCMP_ARCH_MIPS64N32",
            ScmpArch::Mipsel => "SCMP_ARCH_MIPSEL",
            ScmpArch::Mipsel64 => "SCMP_ARCH_MIPSEL64",
            ScmpArch::Mipsel64N32 => "SCMP_ARCH_MIPSEL64N32",
            ScmpArch::Ppc => "SCMP_ARCH_PPC",
            ScmpArch::Ppc64 => "SCMP_ARCH_PPC64",
            ScmpArch::Ppc64Le => "SCMP_ARCH_PPC64LE",
            ScmpArch::S390 => "SCMP_ARCH_S390",
            ScmpArch::S390X => "SCMP_ARCH_S390X",
            ScmpArch::Parisc => "SCMP_ARCH_PARISC",
            ScmpArch::Parisc64 => "SCMP_ARCH_PARISC64",
            ScmpArch::Riscv64 => "SCMP_ARCH_RISCV64",
            ScmpArch::Sheb => "SCMP_ARCH_SHEB",
            ScmpArch::Sh => "SCMP_ARCH_SH",
        }
    }

    /// Every concrete architecture (all variants but `Native`).
    ///
    /// ```
    /// use pure_seccomp::ScmpArch;
    /// assert_eq!(ScmpArch::all().count(), 23);
    /// ```
    pub fn all() -> impl Iterator<Item = ScmpArch> {
        ARCHES.iter().map(|i| i.arch)
    }
}

impl FromStr for ScmpArch {
    type Err = SeccompError;

    /// Parses libseccomp's `SCMP_ARCH_*` names.
    fn from_str(s: &str) -> Result<Self> {
        std::iter::once(ScmpArch::Native)
            .chain(ScmpArch::all())
            .find(|a| a.scmp_name() == s)
            .ok_or_else(|| SeccompError::new(ErrorKind::FromStr(s.to_string())))
    }
}

impl fmt::Display for ScmpArch {
    /// Prints the `SCMP_ARCH_*` name, which [`FromStr`] parses back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scmp_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_order_matches_variants() {
        for (i, info) in ARCHES.iter().enumerate() {
            assert_eq!(info.arch as usize, i + 1, "{:?}", info.arch);
            assert_eq!(info.arch.info().unwrap().token, info.token);
            assert_eq!(ScmpArch::from_token(info.token).unwrap(), info.arch);
            assert_eq!(
                info.arch.to_string().parse::<ScmpArch>().unwrap(),
                info.arch
            );
        }
    }

    #[test]
    fn tokens() {
        assert_eq!(ScmpArch::X32.info().unwrap().token, 0x4000_003e);
        assert_eq!(ScmpArch::X32.info().unwrap().audit, 0xc000_003e);
        assert_eq!(ScmpArch::Mipsel64N32.info().unwrap().token, 0xe000_0008);
        assert_eq!(ScmpArch::Loongarch64.info().unwrap().token, 0xc000_0102);
        assert_eq!(ScmpArch::Sheb.info().unwrap().token, 0x2a);
        assert!(ScmpArch::from_token(0x1234).is_err());
    }
}
