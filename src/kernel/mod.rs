//! Kernel interface: loading filters (`seccomp(2)`, `prctl(2)`), probing what the kernel
//! supports, and the user-notification ioctls. All raw system calls live in [`sys`], the
//! only module of the crate with `unsafe` code; the process-global state is in [`state`].

pub(crate) mod state;
// The crate's only `unsafe` code: the syscalls themselves (the crate denies it elsewhere).
#[allow(unsafe_code)]
pub(crate) mod sys;

use crate::bpf::Instruction;
use crate::error::{Result, SeccompErrno, SeccompError};
use state::{
    ACT_KILL_PROCESS, ACT_LOG, ACT_NOTIFY, FILTERS, FLAG_LOG, FLAG_NEW_LISTENER, FLAG_SPEC_ALLOW,
    FLAG_TSYNC, FLAG_TSYNC_ESRCH, FLAG_WAIT_KILLABLE_RECV, SYSCALL,
};
use std::io;
use std::os::fd::{IntoRawFd, OwnedFd, RawFd};
use sys::flag;

/// What `load` needs besides the program.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LoadOptions {
    pub nnp: bool,
    pub tsync: bool,
    pub log: bool,
    pub ssb: bool,
    pub waitkill: bool,
    /// The filter uses `ScmpAction::Notify` (as a rule or default action).
    pub notify_used: bool,
    pub sysrawrc: bool,
}

/// How to load a precompiled filter with [`load_bpf`] or [`load_bpf_bytes`].
///
/// Each field is one request to the kernel; a request the running kernel cannot honour makes
/// the load fail with [`SeccompErrno::EOPNOTSUPP`] before anything is changed, rather than be
/// dropped silently. [`LoadFlags::new`] (also the `Default`) matches a new
/// [`ScmpFilterContext`](crate::ScmpFilterContext): `no_new_privs` on, everything else off.
///
/// ```
/// use pure_seccomp::LoadFlags;
/// let flags = LoadFlags::new().tsync(true).log(true);
/// assert!(flags.no_new_privs && flags.tsync && flags.log && !flags.new_listener);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct LoadFlags {
    /// Set the thread's `no_new_privs` bit first (`prctl(PR_SET_NO_NEW_PRIVS)`). Without it
    /// the kernel only accepts a filter from a thread with `CAP_SYS_ADMIN`.
    pub no_new_privs: bool,
    /// Install the filter on every thread of the process (`SECCOMP_FILTER_FLAG_TSYNC`, with
    /// `TSYNC_ESRCH` where the kernel has it). If a thread cannot take the filter, nothing is
    /// loaded and the error is [`SeccompErrno::ESRCH`].
    pub tsync: bool,
    /// Log every action but `Allow` (`SECCOMP_FILTER_FLAG_LOG`).
    pub log: bool,
    /// Turn off the speculative store bypass mitigation (`SECCOMP_FILTER_FLAG_SPEC_ALLOW`).
    pub spec_allow: bool,
    /// Create a user-notification listener for this filter and return it
    /// (`SECCOMP_FILTER_FLAG_NEW_LISTENER`). The kernel allows one listener per filter chain.
    pub new_listener: bool,
    /// Make a notified syscall wait killably for the supervisor's answer once the
    /// notification was received (`SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`, Linux 5.19).
    /// Needs `new_listener`.
    pub wait_killable_recv: bool,
    /// Report a failed system call with the kernel's errno (as
    /// [`SeccompError::sysrawrc`]) instead of [`SeccompErrno::ECANCELED`], like libseccomp's
    /// `SCMP_FLTATR_API_SYSRAWRC`.
    pub sysrawrc: bool,
}

impl Default for LoadFlags {
    fn default() -> Self {
        Self::new()
    }
}

impl LoadFlags {
    /// `no_new_privs` on, everything else off.
    ///
    /// ```
    /// use pure_seccomp::LoadFlags;
    /// assert_eq!(LoadFlags::new(), LoadFlags::default());
    /// assert!(LoadFlags::new().no_new_privs);
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Self {
            no_new_privs: true,
            tsync: false,
            log: false,
            spec_allow: false,
            new_listener: false,
            wait_killable_recv: false,
            sysrawrc: false,
        }
    }

    /// Sets [`no_new_privs`](LoadFlags::no_new_privs).
    #[must_use]
    pub const fn no_new_privs(mut self, on: bool) -> Self {
        self.no_new_privs = on;
        self
    }

    /// Sets [`tsync`](LoadFlags::tsync).
    #[must_use]
    pub const fn tsync(mut self, on: bool) -> Self {
        self.tsync = on;
        self
    }

    /// Sets [`log`](LoadFlags::log).
    #[must_use]
    pub const fn log(mut self, on: bool) -> Self {
        self.log = on;
        self
    }

    /// Sets [`spec_allow`](LoadFlags::spec_allow).
    #[must_use]
    pub const fn spec_allow(mut self, on: bool) -> Self {
        self.spec_allow = on;
        self
    }

    /// Sets [`new_listener`](LoadFlags::new_listener).
    #[must_use]
    pub const fn new_listener(mut self, on: bool) -> Self {
        self.new_listener = on;
        self
    }

    /// Sets [`wait_killable_recv`](LoadFlags::wait_killable_recv).
    #[must_use]
    pub const fn wait_killable_recv(mut self, on: bool) -> Self {
        self.wait_killable_recv = on;
        self
    }

    /// Sets [`sysrawrc`](LoadFlags::sysrawrc).
    #[must_use]
    pub const fn sysrawrc(mut self, on: bool) -> Self {
        self.sysrawrc = on;
        self
    }

    /// The `SECCOMP_FILTER_FLAG_*` word for these flags on a kernel with support `sup`.
    fn kernel_flags(&self, sup: u32) -> Result<u32> {
        if self.wait_killable_recv && !self.new_listener {
            return Err(SeccompError::with_errno(
                SeccompErrno::EINVAL,
                "wait_killable_recv needs new_listener",
            ));
        }
        let wanted = [
            (self.tsync, FLAG_TSYNC, "tsync (SECCOMP_FILTER_FLAG_TSYNC)"),
            (self.log, FLAG_LOG, "log (SECCOMP_FILTER_FLAG_LOG)"),
            (
                self.spec_allow,
                FLAG_SPEC_ALLOW,
                "spec_allow (SECCOMP_FILTER_FLAG_SPEC_ALLOW)",
            ),
            (
                self.new_listener,
                FLAG_NEW_LISTENER | ACT_NOTIFY,
                "new_listener (SECCOMP_FILTER_FLAG_NEW_LISTENER)",
            ),
            (
                self.wait_killable_recv,
                FLAG_WAIT_KILLABLE_RECV,
                "wait_killable_recv (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)",
            ),
            (
                self.tsync && self.new_listener,
                FLAG_TSYNC_ESRCH,
                "tsync together with new_listener (needs SECCOMP_FILTER_FLAG_TSYNC_ESRCH)",
            ),
        ];
        for (on, bits, what) in wanted {
            if on && sup & bits != bits {
                let why = if sup & SYSCALL == 0 {
                    "seccomp(2) is not available"
                } else {
                    "the running kernel does not support it"
                };
                return Err(SeccompError::with_errno(
                    SeccompErrno::EOPNOTSUPP,
                    format!("{what}: {why} (API level {})", state::level_of(sup)),
                ));
            }
        }
        let mut flags = 0;
        if self.tsync {
            flags |= flag::TSYNC;
            if sup & FLAG_TSYNC_ESRCH != 0 {
                flags |= flag::TSYNC_ESRCH;
            }
        }
        if self.log {
            flags |= flag::LOG;
        }
        if self.spec_allow {
            flags |= flag::SPEC_ALLOW;
        }
        if self.new_listener {
            flags |= flag::NEW_LISTENER;
        }
        if self.wait_killable_recv {
            flags |= flag::WAIT_KILLABLE_RECV;
        }
        Ok(flags)
    }
}

/// An error for a failed system call: [`SeccompErrno::ECANCELED`] with what failed and why,
/// or with `rawrc` the kernel's errno, as libseccomp reports load failures. For a refused
/// program (`EINVAL`), the message also says what is wrong with it where the crate's
/// validator can tell.
pub(crate) fn sys_error(
    what: &str,
    e: &io::Error,
    rawrc: bool,
    prog: Option<&[Instruction]>,
) -> SeccompError {
    let errno = e.raw_os_error().unwrap_or(libc::ECANCELED);
    let mut msg = format!("{what} failed: {e}");
    if rawrc {
        return SeccompError::from_errno_with_msg(-errno, msg);
    }
    if errno == libc::EINVAL {
        if let Some(Err(why)) = prog.map(crate::bpf::validate) {
            msg.push_str(&format!(" ({why})"));
        }
    }
    SeccompError::with_errno(SeccompErrno::ECANCELED, msg)
}

fn check_len(prog: &[Instruction]) -> Result<()> {
    if prog.is_empty() || prog.len() > sys::BPF_MAXINSNS {
        return Err(SeccompError::with_errno(
            SeccompErrno::EINVAL,
            format!(
                "a seccomp program has 1 to {} instructions, this one has {}",
                sys::BPF_MAXINSNS,
                prog.len()
            ),
        ));
    }
    Ok(())
}

/// Installs `prog` with the `SECCOMP_FILTER_FLAG_*` word `flags`: sets `no_new_privs` first
/// if asked, uses `prctl(PR_SET_SECCOMP)` (and no flags) where `seccomp(2)` is unavailable.
/// Returns the listener when `flags` asked for one.
fn install(prog: &[Instruction], nnp: bool, flags: u32, rawrc: bool) -> Result<Option<OwnedFd>> {
    if nnp {
        sys::set_no_new_privs()
            .map_err(|e| sys_error("prctl(PR_SET_NO_NEW_PRIVS)", &e, rawrc, None))?;
    }
    if !state::supports(SYSCALL) {
        if !state::supports(FILTERS) {
            return Err(SeccompError::with_errno(
                SeccompErrno::EOPNOTSUPP,
                "seccomp filters cannot be loaded here: seccomp(2) is missing and \
                 prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) is refused (a kernel without \
                 CONFIG_SECCOMP_FILTER, or an emulator such as qemu-user); nothing was loaded",
            ));
        }
        sys::prctl_set_filter(prog)
            .map_err(|e| sys_error("prctl(PR_SET_SECCOMP)", &e, rawrc, Some(prog)))?;
        return Ok(None);
    }
    match sys::set_mode_filter(flags, prog) {
        Ok(0) => Ok(None),
        Ok(rc) if flags & flag::NEW_LISTENER != 0 => Ok(Some(sys::own_new_fd(rc as RawFd))),
        Ok(rc) if flags & flag::TSYNC != 0 => Err(SeccompError::with_errno(
            SeccompErrno::ESRCH,
            format!("thread {rc} could not be synchronised to the filter; nothing was loaded"),
        )),
        Ok(_) => Ok(None),
        Err(e) if flags & flag::TSYNC != 0 && e.raw_os_error() == Some(libc::ESRCH) => {
            Err(SeccompError::with_errno(
                SeccompErrno::ESRCH,
                "a thread could not be synchronised to the filter; nothing was loaded",
            ))
        }
        Err(e) => Err(sys_error(
            "seccomp(SECCOMP_SET_MODE_FILTER)",
            &e,
            rawrc,
            Some(prog),
        )),
    }
}

/// libseccomp's `sys_filter_load` flag choice for a filter context. `listener_free` says
/// whether a listener may be requested (no process-global one yet, or the caller wants its
/// own).
fn ctx_flags(o: &LoadOptions, sup: u32, listener_free: bool) -> Result<u32> {
    let tsync_esrch = sup & FLAG_TSYNC_ESRCH != 0 && listener_free;
    let listener = o.notify_used
        && listener_free
        && sup & (ACT_NOTIFY | FLAG_NEW_LISTENER) == (ACT_NOTIFY | FLAG_NEW_LISTENER);
    let mut flags = 0;
    if tsync_esrch {
        if o.tsync {
            flags |= flag::TSYNC | flag::TSYNC_ESRCH;
        }
        if listener {
            flags |= flag::NEW_LISTENER;
        }
    } else if o.tsync {
        if listener {
            // The rule database refuses Notify with TSYNC on such kernels; reaching this is
            // a bug, reported as libseccomp does.
            return Err(if o.sysrawrc {
                SeccompError::from_errno(-libc::EFAULT)
            } else {
                SeccompError::with_errno(
                    SeccompErrno::ECANCELED,
                    "TSYNC and a notification listener need SECCOMP_FILTER_FLAG_TSYNC_ESRCH",
                )
            });
        }
        flags |= flag::TSYNC;
    } else if listener {
        flags |= flag::NEW_LISTENER;
    }
    if flags & flag::NEW_LISTENER != 0 && o.waitkill {
        flags |= flag::WAIT_KILLABLE_RECV;
    }
    if o.log {
        flags |= flag::LOG;
    }
    if o.ssb {
        flags |= flag::SPEC_ALLOW;
    }
    Ok(flags)
}

/// The load-time half of the rule that building never depends on the running kernel: a
/// filter built without a forced API level may use actions and flags this kernel lacks, and
/// is refused here, before anything is changed, rather than loaded with a different meaning
/// (the kernel treats an unknown return action as KILL_PROCESS, and would drop flags).
/// With a level forced by `set_api`, building already refused what that level lacks.
fn check_ctx_support(
    prog: &[Instruction],
    o: &LoadOptions,
    sup: u32,
    listener_free: bool,
) -> Result<()> {
    if state::forced() || sup & (SYSCALL | FILTERS) == 0 {
        // Forced: checked while building. No filters at all: `install` says so.
        return Ok(());
    }
    let returns = |action: u32| {
        prog.iter()
            .any(|i| i.code == 0x06 && i.k & 0xffff_0000 == action)
    };
    let wanted = [
        (
            returns(crate::action::RET_KILL_PROCESS),
            ACT_KILL_PROCESS,
            "the KILL_PROCESS action",
        ),
        (returns(crate::action::RET_LOG), ACT_LOG, "the LOG action"),
        (
            returns(crate::action::RET_NOTIFY),
            ACT_NOTIFY,
            "the NOTIFY action",
        ),
        (o.tsync, SYSCALL | FLAG_TSYNC, "TSYNC"),
        (o.log, SYSCALL | FLAG_LOG, "the LOG flag"),
        (o.ssb, SYSCALL | FLAG_SPEC_ALLOW, "the SPEC_ALLOW flag"),
        (
            o.waitkill,
            SYSCALL | FLAG_WAIT_KILLABLE_RECV,
            "WAIT_KILLABLE_RECV",
        ),
        (
            o.tsync && o.notify_used && listener_free,
            FLAG_TSYNC_ESRCH,
            "TSYNC together with a NOTIFY listener (SECCOMP_FILTER_FLAG_TSYNC_ESRCH)",
        ),
    ];
    for (on, bits, what) in wanted {
        if on && sup & bits != bits {
            return Err(SeccompError::with_errno(
                SeccompErrno::EOPNOTSUPP,
                format!(
                    "the filter uses {what}, which the running kernel does not support \
                     (API level {}); nothing was loaded",
                    state::level_of(sup)
                ),
            ));
        }
    }
    Ok(())
}

fn load_ctx_program(
    prog: &[Instruction],
    o: &LoadOptions,
    listener_free: bool,
) -> Result<Option<OwnedFd>> {
    let sup = state::support();
    check_ctx_support(prog, o, sup, listener_free)?;
    let flags = if sup & SYSCALL != 0 {
        ctx_flags(o, sup, listener_free)?
    } else {
        0
    };
    install(prog, o.nnp, flags, o.sysrawrc)
}

impl crate::ScmpFilterContext {
    /// Compiles the filter and loads it into the kernel for the calling thread (for every
    /// thread with [`CtlTsync`](crate::ScmpFilterAttr::CtlTsync)). From then on the kernel
    /// runs the filter on each system call the thread (and its future children) makes; it
    /// cannot be removed.
    ///
    /// This is libseccomp's `seccomp_load`: `PR_SET_NO_NEW_PRIVS` first when
    /// [`CtlNnp`](crate::ScmpFilterAttr::CtlNnp) is set (the default), then
    /// `seccomp(SECCOMP_SET_MODE_FILTER)` with the `TSYNC`/`TSYNC_ESRCH`, `LOG`,
    /// `SPEC_ALLOW` and `WAIT_KILLABLE_RECV` flags the attributes ask for, or
    /// `prctl(PR_SET_SECCOMP)` (without flags) where `seccomp(2)` is missing or API level 1
    /// was forced with [`set_api`](crate::set_api).
    ///
    /// If the filter uses [`ScmpAction::Notify`](crate::ScmpAction::Notify), the kernel
    /// supports it and this process has no listener yet, a listener is created and kept
    /// process-wide for [`get_notify_fd`](Self::get_notify_fd) (one per process, as in
    /// libseccomp). Use [`load_with_listener`](Self::load_with_listener) to get the
    /// listener of this filter instead.
    ///
    /// # Errors
    ///
    /// * [`SeccompErrno::ECANCELED`] if the kernel refused the filter or `no_new_privs`
    ///   (the message says which call failed and why); with
    ///   [`ApiSysRawRc`](crate::ScmpFilterAttr::ApiSysRawRc) set, the kernel's errno instead
    ///   (see [`SeccompError::sysrawrc`]).
    /// * [`SeccompErrno::EOPNOTSUPP`] if the filter uses an action (`KillProcess`, `Log`,
    ///   `Notify`) or a flag attribute the running kernel does not support, or the kernel
    ///   cannot load seccomp filters at all (qemu-user): building accepted them, since it
    ///   never depends on the running kernel (see [`get_api`](crate::get_api)); nothing is
    ///   loaded.
    /// * [`SeccompErrno::ESRCH`] if a thread could not be synchronised with `CtlTsync`
    ///   (libseccomp reports `ECANCELED` when the kernel says so through `TSYNC_ESRCH`; we
    ///   report `ESRCH` either way, the kind `seccomp_load(3)` documents for it).
    /// * The errors of compiling the filter.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.add_rule(ScmpAction::Errno(libc::EPERM), ScmpSyscall::from_name("ptrace")?)?;
    /// ctx.load()?; // this process can no longer ptrace
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(&self) -> Result<()> {
        let prog = self.program()?;
        let o = self.load_options();
        let listener_free = state::notify_fd() < 0;
        if let Some(fd) = load_ctx_program(&prog, &o, listener_free)? {
            let raw = fd.into_raw_fd();
            if !state::set_notify_fd(raw) {
                // Another thread stored a listener while this one loaded. Closing ours makes
                // this filter's Notify actions fail with ENOSYS, as without any listener,
                // instead of blocking on a listener nobody can reach.
                sys::close_fd(raw);
            }
        }
        Ok(())
    }

    /// Like [`load`](Self::load), but returns the user-notification listener of this very
    /// filter instead of storing it process-wide: `Some(fd)` when the filter uses
    /// [`ScmpAction::Notify`](crate::ScmpAction::Notify) and the kernel supports listeners,
    /// `None` otherwise. No process-global state is read or changed (apart from the cached
    /// kernel support probes), so a runtime can load filters for several sandboxes, e.g.
    /// between `fork` and `exec`, and pass each listener to its supervisor.
    ///
    /// The kernel allows one listener per filter chain: loading a second filter with a
    /// listener on a thread whose filters already have one fails (`EBUSY`).
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.add_rule(ScmpAction::Notify, ScmpSyscall::from_name("mount")?)?;
    /// let listener = ctx.load_with_listener()?.expect("the kernel supports listeners");
    /// // hand `listener` to the supervisor, e.g. over a unix socket
    /// # drop(listener);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_with_listener(&self) -> Result<Option<OwnedFd>> {
        let prog = self.program()?;
        let o = self.load_options();
        load_ctx_program(&prog, &o, true)
    }
}

/// Loads a precompiled seccomp program (for example one built at compile time with
/// [`export_bpf_mem`](crate::ScmpFilterContext::export_bpf_mem) and embedded in the binary)
/// into the kernel for the calling thread, or every thread with
/// [`LoadFlags::tsync`].
///
/// The instructions are in host byte order, as the kernel reads them. The program must
/// have 1 to 4096 instructions; the kernel checks everything else (valid opcodes, jumps in
/// range, ends in a return, reads of `struct seccomp_data` only). The process-global state
/// of [`ScmpFilterContext::load`](crate::ScmpFilterContext::load) (the stored listener) is
/// neither read nor changed.
///
/// Returns the filter's user-notification listener if [`LoadFlags::new_listener`] was set.
///
/// # Errors
///
/// * [`SeccompErrno::EINVAL`]: empty or too long program, or
///   `wait_killable_recv` without `new_listener`.
/// * [`SeccompErrno::EOPNOTSUPP`]: a flag the running kernel (or the API level forced with
///   [`set_api`](crate::set_api)) does not support; nothing was changed.
/// * [`SeccompErrno::ESRCH`]: `tsync` failed for some thread; nothing was loaded.
/// * [`SeccompErrno::ECANCELED`]: the kernel refused the program or `no_new_privs` (the
///   message says why), or its errno with [`LoadFlags::sysrawrc`].
///
/// # Examples
///
/// ```no_run
/// use pure_seccomp::bpf::Instruction;
/// use pure_seccomp::{load_bpf, LoadFlags};
///
/// // Fail getppid(2) with EPERM, allow everything else (x86_64).
/// let prog = [
///     Instruction { code: 0x20, jt: 0, jf: 0, k: 4 },           // A = arch
///     Instruction { code: 0x15, jt: 1, jf: 0, k: 0xc000_003e }, // x86_64?
///     Instruction { code: 0x06, jt: 0, jf: 0, k: 0x8000_0000 }, // kill process
///     Instruction { code: 0x20, jt: 0, jf: 0, k: 0 },           // A = nr
///     Instruction { code: 0x15, jt: 0, jf: 1, k: libc::SYS_getppid as u32 },
///     Instruction { code: 0x06, jt: 0, jf: 0, k: 0x0005_0000 | libc::EPERM as u32 },
///     Instruction { code: 0x06, jt: 0, jf: 0, k: 0x7fff_0000 }, // allow
/// ];
/// let listener = load_bpf(&prog, LoadFlags::new())?;
/// assert!(listener.is_none());
/// # Ok::<(), pure_seccomp::error::SeccompError>(())
/// ```
pub fn load_bpf(program: &[Instruction], flags: LoadFlags) -> Result<Option<OwnedFd>> {
    check_len(program)?;
    let sup = state::support();
    let kflags = flags.kernel_flags(sup)?;
    install(program, flags.no_new_privs, kflags, flags.sysrawrc)
}

/// Like [`load_bpf`], for a program as bytes: 8 bytes per instruction (`code` u16, `jt`
/// u8, `jf` u8, `k` u32) in the host's byte order, as
/// [`export_bpf_mem`](crate::ScmpFilterContext::export_bpf_mem) and `export_bpf` write them
/// for the native architecture.
///
/// # Errors
///
/// [`SeccompErrno::EINVAL`] if the length is not a multiple of 8; otherwise as
/// [`load_bpf`].
///
/// # Examples
///
/// ```no_run
/// use pure_seccomp::*;
/// // At build time (e.g. in build.rs): compile the filter and save the bytes, to embed them
/// // with include_bytes!.
/// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
/// ctx.add_rule(ScmpAction::Errno(libc::EPERM), ScmpSyscall::from_name("ptrace")?)?;
/// let bytes: Vec<u8> = ctx.export_bpf_mem()?;
///
/// // At run time: no compiler involved.
/// load_bpf_bytes(&bytes, LoadFlags::new().tsync(true))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_bpf_bytes(bytes: &[u8], flags: LoadFlags) -> Result<Option<OwnedFd>> {
    let program = decode_native(bytes)?;
    load_bpf(&program, flags)
}

/// Instructions from host-byte-order bytes.
fn decode_native(bytes: &[u8]) -> Result<Vec<Instruction>> {
    if bytes.len() % 8 != 0 {
        return Err(SeccompError::with_errno(
            SeccompErrno::EINVAL,
            format!(
                "a BPF program has 8 bytes per instruction; {} bytes is not a multiple of 8",
                bytes.len()
            ),
        ));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| Instruction {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use state::support_of_level;

    const RET_TRACE_ANY: u32 = 0x7ff0_ffff;

    #[test]
    fn decode_round_trips_encode() {
        let prog = vec![
            Instruction {
                code: 0x20,
                jt: 1,
                jf: 2,
                k: 4,
            },
            Instruction {
                code: 0x06,
                jt: 0,
                jf: 0,
                k: 0x7fff_0000,
            },
        ];
        let endian = if cfg!(target_endian = "little") {
            crate::Endian::Little
        } else {
            crate::Endian::Big
        };
        let bytes = crate::bpf::encode(&prog, endian);
        assert_eq!(decode_native(&bytes).unwrap(), prog);
        let e = decode_native(&bytes[..9]).unwrap_err();
        assert_eq!(e.errno(), Some(SeccompErrno::EINVAL));
    }

    #[test]
    fn length_limits() {
        let ret = Instruction {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: 0x7fff_0000,
        };
        assert!(check_len(&[]).is_err());
        assert!(check_len(&[ret]).is_ok());
        assert!(check_len(&vec![ret; 4096]).is_ok());
        assert_eq!(
            check_len(&vec![ret; 4097]).unwrap_err().errno(),
            Some(SeccompErrno::EINVAL)
        );
    }

    #[test]
    fn load_checks_what_building_accepted() {
        // Lib unit tests never force a level, so the check applies (see `state::buildable`).
        assert!(!state::forced());
        let ret = |k| Instruction {
            code: 0x06,
            jt: 0,
            jf: 0,
            k,
        };
        let plain = LoadOptions::default();
        for (k, level) in [
            (crate::action::RET_KILL_PROCESS, 3),
            (crate::action::RET_LOG, 3),
            (crate::action::RET_NOTIFY, 5),
        ] {
            let prog = [ret(crate::action::RET_ALLOW), ret(k)];
            let e =
                check_ctx_support(&prog, &plain, support_of_level(level - 1), true).unwrap_err();
            assert_eq!(e.errno(), Some(SeccompErrno::EOPNOTSUPP), "{e}");
            assert!(e.to_string().contains("nothing was loaded"), "{e}");
            check_ctx_support(&prog, &plain, support_of_level(level), true).unwrap();
        }
        // ERRNO and TRACE data never look like another action.
        let prog = [ret(crate::action::RET_ERRNO | 0xffff), ret(RET_TRACE_ANY)];
        check_ctx_support(&prog, &plain, support_of_level(1), true).unwrap();
        for (o, level) in [
            (
                LoadOptions {
                    tsync: true,
                    ..plain
                },
                2,
            ),
            (LoadOptions { log: true, ..plain }, 3),
            (LoadOptions { ssb: true, ..plain }, 4),
            (
                LoadOptions {
                    waitkill: true,
                    ..plain
                },
                7,
            ),
        ] {
            let prog = [ret(crate::action::RET_ALLOW)];
            let e = check_ctx_support(&prog, &o, support_of_level(level - 1), true).unwrap_err();
            assert_eq!(e.errno(), Some(SeccompErrno::EOPNOTSUPP), "{o:?}: {e}");
            check_ctx_support(&prog, &o, support_of_level(level), true).unwrap();
        }
        // TSYNC with a listener needs TSYNC_ESRCH; without a listener to create, it does not.
        let notify = [ret(crate::action::RET_NOTIFY)];
        let o = LoadOptions {
            tsync: true,
            notify_used: true,
            ..plain
        };
        assert!(check_ctx_support(&notify, &o, support_of_level(5), true).is_err());
        check_ctx_support(&notify, &o, support_of_level(5), false).unwrap();
        check_ctx_support(&notify, &o, support_of_level(6), true).unwrap();
        // No seccomp at all (qemu-user): left to `install`, which refuses everything.
        check_ctx_support(&notify, &o, 0, true).unwrap();
    }

    #[test]
    fn ctx_flags_follow_libseccomp() {
        let all = support_of_level(7);
        let o = LoadOptions {
            nnp: true,
            tsync: true,
            log: true,
            ssb: true,
            waitkill: true,
            notify_used: true,
            sysrawrc: false,
        };
        // The measured libseccomp 2.6 call: every flag at once.
        assert_eq!(ctx_flags(&o, all, true).unwrap(), 0x3f);
        // A listener already exists: no new one, and plain TSYNC.
        assert_eq!(
            ctx_flags(&o, all, false).unwrap(),
            flag::TSYNC | flag::LOG | flag::SPEC_ALLOW
        );
        // No Notify action: no listener, no WAIT_KILLABLE_RECV.
        let plain = LoadOptions {
            notify_used: false,
            ..o
        };
        assert_eq!(
            ctx_flags(&plain, all, true).unwrap(),
            flag::TSYNC | flag::TSYNC_ESRCH | flag::LOG | flag::SPEC_ALLOW
        );
        // Level 5 kernel: TSYNC with a listener is impossible.
        let e = ctx_flags(&o, support_of_level(5), true).unwrap_err();
        assert_eq!(e.errno(), Some(SeccompErrno::ECANCELED));
        let raw = LoadOptions {
            sysrawrc: true,
            ..o
        };
        let e = ctx_flags(&raw, support_of_level(5), true).unwrap_err();
        assert_eq!(e.sysrawrc(), Some(-libc::EFAULT));
        // Level 4: Notify cannot get a listener.
        let no_tsync = LoadOptions { tsync: false, ..o };
        assert_eq!(
            ctx_flags(&no_tsync, support_of_level(4), true).unwrap(),
            flag::LOG | flag::SPEC_ALLOW
        );
        assert_eq!(
            ctx_flags(&no_tsync, support_of_level(5), true).unwrap(),
            flag::NEW_LISTENER | flag::WAIT_KILLABLE_RECV | flag::LOG | flag::SPEC_ALLOW
        );
    }

    #[test]
    fn load_flags_are_checked_against_support() {
        let all = support_of_level(7);
        let f = LoadFlags::new()
            .tsync(true)
            .new_listener(true)
            .wait_killable_recv(true)
            .log(true)
            .spec_allow(true);
        assert_eq!(f.kernel_flags(all).unwrap(), 0x3f);
        assert_eq!(
            LoadFlags::new()
                .tsync(true)
                .kernel_flags(support_of_level(2))
                .unwrap(),
            flag::TSYNC
        );
        let e = f.kernel_flags(support_of_level(6)).unwrap_err();
        assert_eq!(e.errno(), Some(SeccompErrno::EOPNOTSUPP));
        assert!(e.to_string().contains("wait_killable_recv"), "{e}");
        let e = LoadFlags::new()
            .tsync(true)
            .new_listener(true)
            .kernel_flags(support_of_level(5))
            .unwrap_err();
        assert!(e.to_string().contains("TSYNC_ESRCH"), "{e}");
        let e = LoadFlags::new()
            .log(true)
            .kernel_flags(support_of_level(1))
            .unwrap_err();
        assert!(e.to_string().contains("seccomp(2)"), "{e}");
        let e = LoadFlags::new()
            .wait_killable_recv(true)
            .kernel_flags(all)
            .unwrap_err();
        assert_eq!(e.errno(), Some(SeccompErrno::EINVAL));
        assert_eq!(
            LoadFlags::new().kernel_flags(support_of_level(1)).unwrap(),
            0
        );
    }
}
