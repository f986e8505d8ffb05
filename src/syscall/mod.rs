//! Syscalls by name and number, on every architecture, as libseccomp resolves them.
//!
//! The numbers come from tables generated from the Linux kernel's own syscall tables (see
//! `arch-tables/MANIFEST.md`). Resolution follows libseccomp:
//!
//! * a name resolves to the architecture's number, with the ABI's offset (x32 numbers have
//!   bit 30 set, MIPS o32/n64/n32 numbers start at 4000/5000/6000);
//! * on an architecture that lacks the syscall, to libseccomp's negative pseudo number for
//!   it (`__PNR_<name>`, e.g. `socketcall` is -10060 on x86_64), so that a rule on it can be
//!   accepted and dropped for that architecture;
//! * on the architectures that multiplex socket and IPC calls through `socketcall(2)` and
//!   `ipc(2)` (x86, m68k, mips/mipsel, ppc, ppc64/ppc64le, s390, s390x, sh/sheb), the names of
//!   those calls resolve to the pseudo numbers -101 (`socket`) .. -120 (`sendmmsg`) and
//!   -201 (`semop`) .. -224 (`shmctl`), even where the kernel also has a direct syscall;
//!   [`ScmpSyscall::from_name_by_arch_rewrite`] gives `socketcall`'s or `ipc`'s number
//!   instead.

mod tables;

/// Tables by architecture the compiler builds (the optimizer's hot syscalls), and the x32 bit.
pub(crate) use tables::{resolve_on_every_arch, ARCH_ROWS, X32_SYSCALL_BIT};

use crate::arch::ScmpArch;
use crate::error::{Result, SeccompError};
use std::fmt;

/// A raw syscall number as the kernel and libseccomp's C API use it.
///
/// ```
/// use pure_seccomp::{RawSyscall, ScmpSyscall};
/// let raw: RawSyscall = ScmpSyscall::from(59).into();
/// assert_eq!(raw, 59);
/// ```
pub type RawSyscall = libc::c_int;

/// libseccomp's `__NR_SCMP_ERROR`: the number of a name that could not be resolved.
const NR_SCMP_ERROR: i32 = -1;
/// libseccomp's `__NR_SCMP_UNDEF`: an undefined syscall.
const NR_SCMP_UNDEF: i32 = -2;

/// A syscall number, as the rule functions of [`ScmpFilterContext`](crate::ScmpFilterContext)
/// take it.
///
/// # Resolution
///
/// The numbers come from tables generated from the Linux kernel's own syscall tables (see
/// `arch-tables/MANIFEST.md`). Resolution follows libseccomp:
///
/// * a name resolves to the architecture's number, with the ABI's offset (x32 numbers have
///   bit 30 set, MIPS o32/n64/n32 numbers start at 4000/5000/6000);
/// * on an architecture that lacks the syscall, to libseccomp's negative pseudo number for
///   it (`__PNR_<name>`, e.g. `socketcall` is -10060 on x86_64), so that a rule on it can be
///   accepted and dropped for that architecture;
/// * on the architectures that multiplex socket and IPC calls through `socketcall(2)` and
///   `ipc(2)` (x86, m68k, mips/mipsel, ppc, ppc64/ppc64le, s390, s390x, sh/sheb), the names of
///   those calls resolve to the pseudo numbers -101 (`socket`) .. -120 (`sendmmsg`) and
///   -201 (`semop`) .. -224 (`shmctl`), even where the kernel also has a direct syscall;
///   [`ScmpSyscall::from_name_by_arch_rewrite`] gives `socketcall`'s or `ipc`'s number
///   instead.
///
/// A rule's pseudo number is translated for each architecture of the filter through the
/// syscall's name. libseccomp gives two names one pseudo number, -10191:
/// `sys_debug_setcontext` and `switch_endian`, both PowerPC-only. A rule made with either
/// name on an architecture that has neither lands on `switch_endian` in a PowerPC filter, as
/// in libseccomp 2.5.4 (2.6.0 picks `sys_debug_setcontext`). The rule functions take native
/// numbers (`add_rule_exact` too), so through them only a PowerPC machine, where the name
/// resolves to 256, puts a rule on `sys_debug_setcontext`; the policy readers
/// (`pure_seccomp::policy`, `Recipe::build`) have the name and put it there anywhere:
///
/// ```
/// use pure_seccomp::bpf::{audit_arch, SeccompData};
/// use pure_seccomp::{ScmpAction, ScmpArch, ScmpFilterContext, ScmpSyscall};
/// let pseudo = ScmpSyscall::from_name_by_arch("sys_debug_setcontext", ScmpArch::X8664)?;
/// assert_eq!(pseudo, ScmpSyscall::from_name_by_arch("switch_endian", ScmpArch::X8664)?);
/// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
/// ctx.remove_arch(ScmpArch::native())?;
/// ctx.add_arch(ScmpArch::Ppc64Le)?;
/// ctx.add_rule(ScmpAction::KillProcess, pseudo)?;
/// let verdict = |ctx: &ScmpFilterContext, nr| {
///     let arch = audit_arch(ScmpArch::Ppc64Le).unwrap();
///     ctx.evaluate(&SeccompData { nr, arch, instruction_pointer: 0, args: [0; 6] })
/// };
/// let (kill, allow) = (0x8000_0000, 0x7fff_0000);
/// if ScmpSyscall::from_name("sys_debug_setcontext")? == pseudo {
///     // Built on a machine that has neither: the rule is on switch_endian (363).
///     assert_eq!((verdict(&ctx, 363), verdict(&ctx, 256)), (kill, allow));
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Build one from a name with [`from_name`](Self::from_name) (native architecture) or
/// [`from_name_by_arch`](Self::from_name_by_arch), or from a raw number with `From<i32>`.
/// The value is just the number: a number resolved for one architecture means another
/// syscall, or nothing, on others.
///
/// ```
/// use pure_seccomp::{ScmpArch, ScmpSyscall};
/// let openat = ScmpSyscall::from_name_by_arch("openat", ScmpArch::Aarch64)?;
/// assert_eq!(openat, 56);
/// assert_eq!(openat.get_name_by_arch(ScmpArch::Aarch64)?, "openat");
/// # Ok::<(), pure_seccomp::error::SeccompError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScmpSyscall {
    nr: i32,
}

impl ScmpSyscall {
    // to_sys/from_sys/direct_num are the entry points of the filter code (src/db, src/api).
    #[allow(dead_code)]
    pub(crate) fn to_sys(self) -> i32 {
        self.nr
    }

    #[allow(dead_code)]
    pub(crate) fn from_sys(nr: i32) -> Self {
        Self { nr }
    }

    /// Resolves a syscall name on the native architecture at compile time.
    ///
    /// Gives the same number as [`from_name`](Self::from_name), or `__NR_SCMP_ERROR` (-1,
    /// see [`is_error`](Self::is_error)) when the name is unknown or the target is not an
    /// architecture libseccomp supports. Needs the crate feature `const-syscall`.
    ///
    /// ```
    /// # #[cfg(feature = "const-syscall")] {
    /// use pure_seccomp::ScmpSyscall;
    /// const CHROOT: ScmpSyscall = ScmpSyscall::new("chroot");
    /// assert_eq!(CHROOT, ScmpSyscall::from_name("chroot").unwrap());
    /// assert!(ScmpSyscall::new("no_such_syscall").is_error());
    /// # }
    /// ```
    #[cfg(feature = "const-syscall")]
    #[cfg_attr(docsrs, doc(cfg(feature = "const-syscall")))]
    pub const fn new(name: &str) -> Self {
        let nr = match crate::arch::NATIVE {
            Some(arch) => match tables::resolve_name(arch, name) {
                Some(nr) => nr,
                None => NR_SCMP_ERROR,
            },
            None => NR_SCMP_ERROR,
        };
        Self { nr }
    }

    /// Resolves a syscall name on the native architecture.
    ///
    /// Same as [`from_name_by_arch`](Self::from_name_by_arch) with [`ScmpArch::Native`]
    /// (libseccomp's `seccomp_syscall_resolve_name()`).
    ///
    /// # Errors
    ///
    /// When no architecture knows the name, or this build's target is not an architecture
    /// libseccomp supports.
    ///
    /// ```
    /// use pure_seccomp::ScmpSyscall;
    /// let chroot = ScmpSyscall::from_name("chroot")?;
    /// #[cfg(target_arch = "x86_64")]
    /// assert_eq!(chroot, 161);
    /// assert!(ScmpSyscall::from_name("no_such_syscall").is_err());
    /// # Ok::<(), pure_seccomp::error::SeccompError>(())
    /// ```
    pub fn from_name(name: &str) -> Result<Self> {
        Self::from_name_by_arch(name, ScmpArch::Native)
    }

    /// Resolves a syscall name on `arch` (libseccomp's `seccomp_syscall_resolve_name_arch()`).
    ///
    /// Gives the number the kernel of that architecture uses, or a negative pseudo number
    /// when the architecture lacks the syscall or multiplexes it (see
    /// [`ScmpSyscall`]'s resolution rules). Only meaningful for rules on a filter of that
    /// architecture.
    ///
    /// # Errors
    ///
    /// When no architecture knows the name, or `arch` is [`ScmpArch::Native`] on a target
    /// libseccomp does not support.
    ///
    /// ```
    /// use pure_seccomp::{ScmpArch, ScmpSyscall};
    /// assert_eq!(ScmpSyscall::from_name_by_arch("read", ScmpArch::X32)?, 0x4000_0000);
    /// assert_eq!(ScmpSyscall::from_name_by_arch("read", ScmpArch::Mips)?, 4003);
    /// // x86 multiplexes socket calls: the pseudo number of socket(2).
    /// assert_eq!(ScmpSyscall::from_name_by_arch("socket", ScmpArch::X86)?, -101);
    /// // x86_64 has no socketcall(2): libseccomp's pseudo number for it.
    /// assert_eq!(ScmpSyscall::from_name_by_arch("socketcall", ScmpArch::X8664)?, -10060);
    /// # Ok::<(), pure_seccomp::error::SeccompError>(())
    /// ```
    pub fn from_name_by_arch(name: &str, arch: ScmpArch) -> Result<Self> {
        Self::resolve_with(name, arch, resolve_name)
    }

    /// Resolves a syscall name on `arch`, with multiplexed calls rewritten to their
    /// multiplexer (libseccomp's `seccomp_syscall_resolve_name_rewrite()`).
    ///
    /// Like [`from_name_by_arch`](Self::from_name_by_arch), except that on architectures
    /// that multiplex socket and IPC calls, their names give the number of `socketcall(2)`
    /// or `ipc(2)` instead of a pseudo number.
    ///
    /// # Errors
    ///
    /// As [`from_name_by_arch`](Self::from_name_by_arch).
    ///
    /// ```
    /// use pure_seccomp::{ScmpArch, ScmpSyscall};
    /// assert_eq!(ScmpSyscall::from_name_by_arch_rewrite("socket", ScmpArch::X86)?, 102);
    /// assert_eq!(ScmpSyscall::from_name_by_arch_rewrite("shmat", ScmpArch::Mips)?, 4117);
    /// assert_eq!(ScmpSyscall::from_name_by_arch_rewrite("socket", ScmpArch::X8664)?, 41);
    /// # Ok::<(), pure_seccomp::error::SeccompError>(())
    /// ```
    pub fn from_name_by_arch_rewrite(name: &str, arch: ScmpArch) -> Result<Self> {
        Self::resolve_with(name, arch, resolve_name_rewrite)
    }

    fn resolve_with(
        name: &str,
        arch: ScmpArch,
        resolve: fn(ScmpArch, &str) -> Option<i32>,
    ) -> Result<Self> {
        let concrete = concrete(arch)?;
        if name.contains('\0') {
            return Err(SeccompError::with_msg(format!(
                "Bad syscall name {name:?}: contains a NUL byte"
            )));
        }
        match resolve(concrete, name) {
            Some(nr) => Ok(Self { nr }),
            None => Err(SeccompError::with_msg(format!(
                "Could not resolve syscall name {name:?} on {}: no architecture has a syscall of that name",
                arch_label(arch, concrete)
            ))),
        }
    }

    /// The name of this syscall on the native architecture.
    ///
    /// Same as [`get_name_by_arch`](Self::get_name_by_arch) with [`ScmpArch::Native`].
    ///
    /// # Errors
    ///
    /// When the number names no syscall on the native architecture, or this build's
    /// target is not an architecture libseccomp supports.
    ///
    /// ```
    /// use pure_seccomp::ScmpSyscall;
    /// assert_eq!(ScmpSyscall::from_name("mount")?.get_name()?, "mount");
    /// # Ok::<(), pure_seccomp::error::SeccompError>(())
    /// ```
    pub fn get_name(self) -> Result<String> {
        self.get_name_by_arch(ScmpArch::Native)
    }

    /// The name of this syscall on `arch` (libseccomp's `seccomp_syscall_resolve_num_arch()`).
    ///
    /// Pseudo numbers resolve too: -101 is `socket` on the architectures that multiplex
    /// socket calls, and a `__PNR_*` number names the syscall the architecture lacks. Like
    /// libseccomp, x32 also accepts numbers without the x32 bit, and the MIPS ABIs numbers
    /// without their 4000/5000/6000 base.
    ///
    /// # Errors
    ///
    /// When the number names no syscall on `arch`, or `arch` is [`ScmpArch::Native`] on a
    /// target libseccomp does not support.
    ///
    /// ```
    /// use pure_seccomp::{ScmpArch, ScmpSyscall};
    /// assert_eq!(ScmpSyscall::from(102).get_name_by_arch(ScmpArch::X86)?, "socketcall");
    /// assert_eq!(ScmpSyscall::from(-101).get_name_by_arch(ScmpArch::X86)?, "socket");
    /// assert_eq!(ScmpSyscall::from(-10060).get_name_by_arch(ScmpArch::X8664)?, "socketcall");
    /// assert!(ScmpSyscall::from(4242).get_name_by_arch(ScmpArch::X8664).is_err());
    /// # Ok::<(), pure_seccomp::error::SeccompError>(())
    /// ```
    pub fn get_name_by_arch(self, arch: ScmpArch) -> Result<String> {
        let concrete = concrete(arch)?;
        resolve_num(concrete, self.nr)
            .map(str::to_string)
            .ok_or_else(|| {
                SeccompError::with_msg(format!(
                    "Could not resolve syscall number {} on {}",
                    self.nr,
                    arch_label(arch, concrete)
                ))
            })
    }

    /// Whether this is `__NR_SCMP_ERROR` (-1), what libseccomp returns for an unknown name.
    ///
    /// ```
    /// use pure_seccomp::ScmpSyscall;
    /// assert!(ScmpSyscall::from(-1).is_error());
    /// assert!(!ScmpSyscall::from(0).is_error());
    /// ```
    pub fn is_error(&self) -> bool {
        self.nr == NR_SCMP_ERROR
    }

    /// Whether this is `__NR_SCMP_UNDEF` (-2), libseccomp's undefined syscall.
    ///
    /// ```
    /// use pure_seccomp::ScmpSyscall;
    /// assert!(ScmpSyscall::from(-2).is_undef());
    /// assert!(!ScmpSyscall::from(-1).is_undef());
    /// ```
    pub fn is_undef(&self) -> bool {
        self.nr == NR_SCMP_UNDEF
    }

    /// A syscall from its raw number (same as `From<RawSyscall>`).
    ///
    /// ```
    /// use pure_seccomp::ScmpSyscall;
    /// assert_eq!(ScmpSyscall::from_raw_syscall(1), ScmpSyscall::from(1));
    /// ```
    pub fn from_raw_syscall(raw_syscall: RawSyscall) -> Self {
        Self { nr: raw_syscall }
    }

    /// The raw number.
    ///
    /// ```
    /// use pure_seccomp::ScmpSyscall;
    /// assert_eq!(ScmpSyscall::from(231).as_raw_syscall(), 231);
    /// ```
    pub fn as_raw_syscall(self) -> RawSyscall {
        self.nr
    }
}

/// The concrete architecture for `arch`, or the error for a native target libseccomp lacks.
fn concrete(arch: ScmpArch) -> Result<ScmpArch> {
    arch.resolve().ok_or_else(|| {
        SeccompError::with_msg(
            "SCMP_ARCH_NATIVE: this build's target is not an architecture libseccomp supports",
        )
    })
}

/// How an architecture is named in messages: `SCMP_ARCH_NATIVE (SCMP_ARCH_X86_64)`.
fn arch_label(arch: ScmpArch, concrete: ScmpArch) -> String {
    if arch == concrete {
        concrete.to_string()
    } else {
        format!("{arch} ({concrete})")
    }
}

impl From<RawSyscall> for ScmpSyscall {
    /// A syscall from its raw number.
    ///
    /// ```
    /// use pure_seccomp::ScmpSyscall;
    /// assert_eq!(ScmpSyscall::from(0), 0);
    /// ```
    fn from(nr: RawSyscall) -> Self {
        Self { nr }
    }
}

impl From<ScmpSyscall> for RawSyscall {
    /// The raw number of a syscall.
    ///
    /// ```
    /// use pure_seccomp::{RawSyscall, ScmpSyscall};
    /// assert_eq!(RawSyscall::from(ScmpSyscall::from(7)), 7);
    /// ```
    fn from(syscall: ScmpSyscall) -> RawSyscall {
        syscall.nr
    }
}

impl PartialEq<RawSyscall> for ScmpSyscall {
    /// Compares the number.
    ///
    /// ```
    /// use pure_seccomp::ScmpSyscall;
    /// assert!(ScmpSyscall::from(3) == 3);
    /// ```
    fn eq(&self, other: &RawSyscall) -> bool {
        self.nr == *other
    }
}

impl PartialEq<ScmpSyscall> for RawSyscall {
    /// Compares the number.
    ///
    /// ```
    /// use pure_seccomp::ScmpSyscall;
    /// assert!(3 == ScmpSyscall::from(3));
    /// ```
    fn eq(&self, other: &ScmpSyscall) -> bool {
        *self == other.nr
    }
}

impl fmt::Display for ScmpSyscall {
    /// Prints the number, in decimal.
    ///
    /// ```
    /// use pure_seccomp::ScmpSyscall;
    /// assert_eq!(ScmpSyscall::from(-10060).to_string(), "-10060");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.nr)
    }
}

/// from_name_by_arch semantics on a concrete arch: the arch's number (with ABI offsets),
/// or for socket/ipc-family calls on multiplexing arches the pseudo number -101..-120 / -201..-224,
/// or the __PNR number when the arch lacks the name; None when no arch knows the name.
pub(crate) fn resolve_name(arch: ScmpArch, name: &str) -> Option<i32> {
    tables::resolve_name(arch, name)
}

/// `resolve_num(NATIVE, nr)`, from an index by number where the native table covers `nr`.
pub(crate) fn native_name(nr: i32) -> Option<&'static str> {
    tables::native_name(nr)
}

/// `name` as the tables spell it, where its native number `nr` is a pseudo number that
/// names another syscall first: libseccomp gives `sys_debug_setcontext` and `switch_endian`
/// one, -10191, and a rule's number is translated for each architecture through the first
/// name of it (`resolve_num`). `None` for every other name.
#[cfg(any(test, feature = "policy"))]
pub(crate) fn shared_pseudo_name(nr: i32, name: &str) -> Option<&'static str> {
    if nr >= 0 || native_name(nr) == Some(name) {
        return None;
    }
    tables::PNR_BY_NAME
        .iter()
        .find(|&&(n, p)| p == nr && n == name)
        .map(|&(n, _)| n)
}

/// `resolve_name_at(arch, native_name(nr))` from a table built by the compiler, where it
/// covers `nr` and the name resolves on `arch` (`None`: resolve by name).
pub(crate) fn native_to(arch: ScmpArch, nr: i32) -> Option<i32> {
    tables::native_to(arch, nr)
}

/// A name's slot in the name indexes, for [`resolve_name_at`].
pub(crate) fn name_slot(name: &str) -> usize {
    tables::name_slot(name)
}

/// [`resolve_name`] with the name's [`name_slot`] already computed: one name resolved on
/// several architectures is hashed once.
pub(crate) fn resolve_name_at(arch: ScmpArch, name: &str, slot: usize) -> Option<i32> {
    tables::resolve_name_at(arch, name, slot)
}

/// from_name_by_arch_rewrite: like resolve_name, but socket-family / ipc-family pseudo numbers become the arch's socketcall / ipc number.
pub(crate) fn resolve_name_rewrite(arch: ScmpArch, name: &str) -> Option<i32> {
    tables::resolve_name_rewrite(arch, name)
}

/// get_name_by_arch: number -> name on arch, also for the pseudo numbers (-101 -> "socket", -201.. ipc family, __PNR numbers -> their name)
pub(crate) fn resolve_num(arch: ScmpArch, nr: i32) -> Option<&'static str> {
    tables::resolve_num(arch, nr)
}

/// The kernel's own number for name on arch (with offsets), ignoring socketcall/ipc munging (socket on x86 -> 359); None when the ABI lacks it.
#[allow(dead_code)]
pub(crate) fn direct_num(arch: ScmpArch, name: &str) -> Option<i32> {
    tables::direct_num(arch, name)
}

/// The highest syscall number (with the ABI's offset) the tables know on a concrete arch;
/// None for `Native` when the target is not supported.
pub(crate) fn highest_num(arch: ScmpArch) -> Option<i32> {
    let abi = tables::abi(arch.resolve()?)?;
    abi.by_num.last().map(|&(nr, _)| nr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ScmpArch::*;

    #[test]
    fn munged_names_on_multiplexing_arches() {
        for arch in [X86, M68k, Ppc, Ppc64, Ppc64Le, S390, S390X, Sh, Sheb] {
            assert_eq!(resolve_name(arch, "socket"), Some(-101), "{arch}");
            assert_eq!(resolve_name_rewrite(arch, "socket"), Some(102), "{arch}");
            assert_eq!(resolve_name(arch, "shmctl"), Some(-224), "{arch}");
            assert_eq!(resolve_name_rewrite(arch, "shmctl"), Some(117), "{arch}");
            assert_eq!(resolve_num(arch, -101), Some("socket"), "{arch}");
            assert_eq!(resolve_num(arch, -224), Some("shmctl"), "{arch}");
            // The multiplexers themselves are ordinary syscalls there.
            assert_eq!(resolve_name(arch, "socketcall"), Some(102), "{arch}");
            assert_eq!(resolve_name(arch, "ipc"), Some(117), "{arch}");
        }
        for arch in [Mips, Mipsel] {
            assert_eq!(resolve_name(arch, "socket"), Some(-101));
            assert_eq!(resolve_name_rewrite(arch, "socket"), Some(4102));
            assert_eq!(resolve_name_rewrite(arch, "semop"), Some(4117));
        }
        // The direct syscall is still known, and its number names it.
        assert_eq!(direct_num(X86, "socket"), Some(359));
        assert_eq!(resolve_num(X86, 359), Some("socket"));
        assert_eq!(direct_num(X86, "recv"), None);
        assert_eq!(resolve_num(X86, -110), Some("recv"));
        // Gaps in the ipc numbering are not calls.
        assert_eq!(resolve_num(X86, -205), None);
        assert_eq!(resolve_num(X86, -100), None);
    }

    #[test]
    fn family_names_elsewhere() {
        assert_eq!(resolve_name(X8664, "socket"), Some(41));
        assert_eq!(resolve_name_rewrite(X8664, "socket"), Some(41));
        // x86_64 has no recv(2): its pseudo number, not rewritten.
        assert_eq!(resolve_name(X8664, "recv"), Some(-110));
        assert_eq!(resolve_name_rewrite(X8664, "recv"), Some(-110));
        assert_eq!(resolve_num(X8664, -110), Some("recv"));
        // socket(2) exists there, so -101 names nothing.
        assert_eq!(resolve_num(X8664, -101), None);
        assert_eq!(resolve_name(Aarch64, "ipc"), Some(-10024));
    }

    #[test]
    fn x32_bit() {
        assert_eq!(resolve_name(X32, "read"), Some(X32_BIT));
        assert_eq!(resolve_name(X32, "rt_sigaction"), Some(X32_BIT | 512));
        assert_eq!(direct_num(X32, "execve"), Some(X32_BIT | 520));
        assert_eq!(resolve_num(X32, X32_BIT | 520), Some("execve"));
        // libseccomp strips the bit before looking a number up.
        assert_eq!(resolve_num(X32, 0), Some("read"));
        // Pseudo numbers carry no bit.
        assert_eq!(resolve_name(X32, "socketcall"), Some(-10060));
        assert_eq!(resolve_num(X32, -10060), Some("socketcall"));
    }
    const X32_BIT: i32 = tables::X32_SYSCALL_BIT;

    #[test]
    fn mips_offsets() {
        for (arch, read) in [
            (Mips, 4003),
            (Mipsel, 4003),
            (Mips64, 5000),
            (Mipsel64, 5000),
            (Mips64N32, 6000),
            (Mipsel64N32, 6000),
        ] {
            assert_eq!(resolve_name(arch, "read"), Some(read), "{arch}");
            assert_eq!(resolve_num(arch, read), Some("read"), "{arch}");
        }
        // Like libseccomp, a number below the ABI base is taken relative to it.
        assert_eq!(resolve_num(Mips, 3), Some("read"));
        assert_eq!(resolve_num(Mips64, 0), Some("read"));
        assert_eq!(resolve_name(Mips, "cachectl"), Some(4148));
        assert_eq!(resolve_name(Mips64N32, "_llseek"), Some(-10026));
    }

    #[test]
    fn arm_private_calls() {
        let private = [
            ("breakpoint", 0xf0001),
            ("cacheflush", 0xf0002),
            ("usr26", 0xf0003),
            ("usr32", 0xf0004),
            ("set_tls", 0xf0005),
            ("get_tls", 0xf0006),
        ];
        for (name, nr) in private {
            assert_eq!(resolve_name(Arm, name), Some(nr), "{name}");
            assert_eq!(resolve_num(Arm, nr), Some(name), "{name}");
            assert!(direct_num(Aarch64, name).is_none());
        }
        assert_eq!(resolve_name(Aarch64, "breakpoint"), Some(-10182));
        assert_eq!(resolve_name(X8664, "set_tls"), Some(-10183));
        assert_eq!(resolve_name(Arm, "arm_fadvise64_64"), Some(270));
        // The EABI table, not the OABI one: no socketcall(2) on arm.
        assert_eq!(resolve_name(Arm, "socketcall"), Some(-10060));
    }

    #[test]
    fn pseudo_numbers() {
        assert_eq!(resolve_name(X8664, "_llseek"), Some(-10026));
        assert_eq!(resolve_name(X8664, "arch_prctl"), Some(158));
        assert_eq!(resolve_name(Aarch64, "arch_prctl"), Some(-10001));
        assert_eq!(resolve_num(Aarch64, -10001), Some("arch_prctl"));
        assert_eq!(resolve_num(X8664, -10001), None);
        assert_eq!(resolve_name(Riscv64, "riscv_flush_icache"), Some(259));
        assert_eq!(resolve_name(X86, "riscv_flush_icache"), Some(-10243));
        // Two libseccomp names share -10191: the first the arch lacks, in name order.
        assert_eq!(resolve_num(X8664, -10191), Some("switch_endian"));
        assert_eq!(resolve_num(Ppc64, -10191), None);
        // The policy readers' rules carry the other name (natively, where neither exists).
        if native_name(-10191) == Some("switch_endian") {
            let shared = |name| shared_pseudo_name(-10191, name);
            assert_eq!(shared("sys_debug_setcontext"), Some("sys_debug_setcontext"));
            assert_eq!(shared("switch_endian"), None);
        }
        assert_eq!(shared_pseudo_name(0, "read"), None);
        // Not a pseudo number of anything.
        assert_eq!(resolve_num(X8664, -10085), None);
        assert_eq!(resolve_num(X8664, -1), None);
        assert_eq!(resolve_num(X8664, i32::MIN), None);
        assert_eq!(resolve_num(X8664, i32::MAX), None);
    }

    #[test]
    fn assigned_pseudo_numbers_resolve_both_ways() {
        // s390 (31-bit) comes from Linux 6.12, before file_getattr(2) (6.17), for which
        // libseccomp has no __PNR_: it gets one from -11000 down.
        let nr = resolve_name(S390, "file_getattr").unwrap();
        assert!((-11999..=-11000).contains(&nr), "{nr}");
        assert_eq!(resolve_num(S390, nr), Some("file_getattr"));
        assert_eq!(resolve_num(X8664, nr), None);
        assert_eq!(resolve_name(S390X, "file_getattr"), Some(468));
    }

    #[test]
    fn libseccomp_compat_overrides() {
        // libseccomp lists _llseek on parisc64 although the kernel has it for parisc only.
        assert_eq!(resolve_name(Parisc64, "_llseek"), Some(140));
        assert_eq!(resolve_name(Parisc, "_llseek"), Some(140));
    }

    #[test]
    fn unknown_names() {
        for arch in ScmpArch::all() {
            for name in ["", "no_such_syscall", "READ", "read ", "read\0", "\u{fffd}"] {
                assert_eq!(resolve_name(arch, name), None, "{arch} {name:?}");
                assert_eq!(resolve_name_rewrite(arch, name), None, "{arch} {name:?}");
                assert_eq!(direct_num(arch, name), None, "{arch} {name:?}");
            }
        }
        assert_eq!(resolve_name(Native, "read"), None);
        assert_eq!(resolve_num(Native, 0), None);
    }

    #[test]
    fn every_name_round_trips() {
        for arch in ScmpArch::all() {
            let abi = tables::abi(arch).unwrap();
            for &(name, nr) in abi.by_name {
                assert_eq!(direct_num(arch, name), Some(nr));
                let resolved = resolve_name(arch, name).unwrap();
                assert_eq!(resolve_num(arch, resolved), Some(name), "{arch} {name}");
                if abi.mux.is_none() || tables::find_name(tables::MUX_FAMILY, name).is_none() {
                    assert_eq!(resolved, nr, "{arch} {name}");
                }
            }
            for &(name, pnr) in tables::PNR_BY_NAME {
                if direct_num(arch, name).is_none() {
                    let expect = if abi.mux.is_some() {
                        tables::find_name(tables::MUX_FAMILY, name).unwrap_or(pnr)
                    } else {
                        pnr
                    };
                    assert_eq!(resolve_name(arch, name), Some(expect), "{arch} {name}");
                    if name != "sys_debug_setcontext" {
                        assert_eq!(resolve_num(arch, expect), Some(name), "{arch} {name}");
                    }
                }
            }
        }
    }

    #[test]
    fn public_api() {
        let s = ScmpSyscall::from_name_by_arch("read", X8664).unwrap();
        assert_eq!(s, 0);
        assert_eq!(0, s);
        assert_eq!(s.to_string(), "0");
        assert_eq!(ScmpSyscall::from_sys(5).to_sys(), 5);
        assert_eq!(RawSyscall::from(ScmpSyscall::from_raw_syscall(-3)), -3);
        let e = ScmpSyscall::from_name_by_arch("no_such_syscall", Arm).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("no_such_syscall") && msg.contains("SCMP_ARCH_ARM"),
            "{msg}"
        );
        let e = ScmpSyscall::from(4242).get_name_by_arch(Sheb).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("4242") && msg.contains("SCMP_ARCH_SHEB"),
            "{msg}"
        );
        assert!(ScmpSyscall::from_name("read\0").is_err());
        assert!(ScmpSyscall::from_name(&"x".repeat(10_000)).is_err());
        assert_eq!(
            ScmpSyscall::from_name_by_arch_rewrite("accept4", Ppc64Le).unwrap(),
            102
        );
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(ScmpSyscall::from_name("read").unwrap(), 0);
            assert_eq!(ScmpSyscall::from(59).get_name().unwrap(), "execve");
            let e = ScmpSyscall::from_name("nope").unwrap_err().to_string();
            assert!(e.contains("SCMP_ARCH_NATIVE (SCMP_ARCH_X86_64)"), "{e}");
        }
    }

    #[cfg(feature = "const-syscall")]
    #[test]
    fn const_new_matches_from_name() {
        const READ: ScmpSyscall = ScmpSyscall::new("read");
        const SOCKETCALL: ScmpSyscall = ScmpSyscall::new("socketcall");
        const NONE: ScmpSyscall = ScmpSyscall::new("no_such_syscall");
        assert!(NONE.is_error());
        match crate::arch::NATIVE {
            Some(_) => {
                assert_eq!(READ, ScmpSyscall::from_name("read").unwrap());
                assert_eq!(SOCKETCALL, ScmpSyscall::from_name("socketcall").unwrap());
                for &(name, _) in tables::PNR_BY_NAME {
                    assert_eq!(
                        ScmpSyscall::new(name),
                        ScmpSyscall::from_name(name).unwrap()
                    );
                }
            }
            None => assert!(READ.is_error()),
        }
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(READ, 0);
            assert_eq!(SOCKETCALL, -10060);
        }
    }
}
