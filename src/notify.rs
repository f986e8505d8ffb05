//! User-space notification (`SCMP_ACT_NOTIFY`): a supervisor receives the syscalls a filter
//! sends to it and answers each one.
//!
//! A filter whose action is [`ScmpAction::Notify`](crate::ScmpAction::Notify) suspends the
//! calling thread and queues a notification on the filter's *listener*, a file descriptor.
//! The supervisor reads it with [`ScmpNotifReq::receive`], may check that the target is
//! still waiting with [`notify_id_valid`], may put a descriptor into the target with
//! [`ScmpNotifAddfd`], and answers with [`ScmpNotifResp::respond`]. The listener is polled
//! for `POLLIN` like any descriptor.
//!
//! The listener comes from [`ScmpFilterContext::get_notify_fd`] (the process-wide one that
//! [`load`](ScmpFilterContext::load) keeps, as libseccomp does),
//! [`ScmpFilterContext::load_with_listener`], or [`load_bpf`](crate::load_bpf) with
//! [`LoadFlags::new_listener`](crate::LoadFlags::new_listener).
//!
//! A supervisor must not itself run under the filter it serves for the syscalls it needs:
//! it would wait for itself.

use crate::api::ensure_supported_api;
use crate::error::{Result, SeccompErrno, SeccompError};
use crate::kernel::{state, sys};
use crate::{ScmpArch, ScmpFilterContext, ScmpSyscall, ScmpVersion};
use bitflags::bitflags;
use std::io;
use std::os::fd::RawFd;

/// A file descriptor used for user-space notification (a seccomp listener).
pub type ScmpFd = RawFd;

/// Fails unless user notification can be used: API level 6 and version 2.5.0, the check
/// the `libseccomp` crate makes.
fn notify_supported() -> Result<()> {
    ensure_supported_api("seccomp notification", 6, ScmpVersion::from((2, 5, 0)))
}

fn notif_sizes() -> Result<sys::NotifSizes> {
    sys::notif_sizes().map_err(|e| {
        SeccompError::with_errno(
            SeccompErrno::ECANCELED,
            format!("seccomp(SECCOMP_GET_NOTIF_SIZES) failed: {e}"),
        )
    })
}

/// Runs `f` again while it fails with `EINTR`.
fn retry_eintr<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

bitflags! {
    /// Flags of a notification response.
    ///
    /// ```
    /// use pure_seccomp::ScmpNotifRespFlags;
    /// assert_eq!(ScmpNotifRespFlags::CONTINUE.bits(), 1);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct ScmpNotifRespFlags: u32 {
        /// Let the kernel run the notified syscall as if the filter had allowed it
        /// (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`). The response's value and error must be 0.
        ///
        /// The target can change the syscall's arguments in memory after the supervisor
        /// looked at them: never use this to allow a syscall because of what a pointer
        /// argument pointed to.
        const CONTINUE = 1;
    }
}

/// The `CONTINUE` response flag as a plain value.
#[deprecated(
    since = "0.3.0",
    note = "Use ScmpNotifRespFlags::CONTINUE or ScmpNotifRespFlags::CONTINUE.bits()"
)]
pub const NOTIF_FLAG_CONTINUE: u32 = ScmpNotifRespFlags::CONTINUE.bits();

impl ScmpFilterContext {
    /// The process-wide user-notification listener that [`load`](Self::load) obtained for
    /// the first filter with a [`Notify`](crate::ScmpAction::Notify) action loaded by this
    /// process (libseccomp keeps one listener per process; so does this crate).
    ///
    /// The descriptor stays owned by the crate: do not close it.
    /// [`reset_global_state`](crate::reset_global_state) closes it. It does not depend on
    /// `self`; it is a method for compatibility. To get the listener of one particular
    /// filter, use [`load_with_listener`](Self::load_with_listener).
    ///
    /// This function corresponds to libseccomp's `seccomp_notify_fd`.
    ///
    /// # Errors
    ///
    /// If user notification is not supported (API level below 6), or
    /// [`SeccompErrno::EFAULT`] if no listener was obtained yet.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.add_rule(ScmpAction::Notify, ScmpSyscall::from_name("getppid")?)?;
    /// ctx.load()?;
    /// let fd = ctx.get_notify_fd()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_notify_fd(&self) -> Result<ScmpFd> {
        self.require_arch()?;
        notify_supported()?;
        match state::notify_fd() {
            fd if fd >= 0 => Ok(fd),
            _ => Err(SeccompError::with_errno(
                SeccompErrno::EFAULT,
                "no notification listener: no filter with a Notify action has been loaded \
                 by this process",
            )),
        }
    }
}

/// The syscall that triggered a notification (`struct seccomp_data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ScmpNotifData {
    /// The syscall number (in the numbering of `arch`).
    pub syscall: ScmpSyscall,
    /// The architecture (ABI) of the syscall.
    pub arch: ScmpArch,
    /// The address of the instruction that made the syscall.
    pub instr_pointer: u64,
    /// The six syscall arguments (unused ones hold whatever the registers held).
    pub args: [u64; 6],
}

/// A notification: a syscall waiting for the supervisor's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ScmpNotifReq {
    /// The notification id; answers and [`notify_id_valid`] name it.
    pub id: u64,
    /// The thread id of the caller, in the listener's PID namespace (0 if it is not visible
    /// there).
    pub pid: u32,
    /// Flags of the notification (none are defined; 0).
    pub flags: u32,
    /// The syscall.
    pub data: ScmpNotifData,
}

impl ScmpNotifReq {
    /// Waits for the next notification on listener `fd` and returns it
    /// (`SECCOMP_IOCTL_NOTIF_RECV`).
    ///
    /// The buffer handed to the kernel has the size the running kernel reports
    /// (`SECCOMP_GET_NOTIF_SIZES`, asked once) and is zeroed, as the kernel requires.
    /// Several threads may wait on one listener; each notification goes to one of them.
    ///
    /// **Signals:** an interrupted wait (`EINTR`) is retried, as the `libseccomp` crate
    /// does, so a signal handler cannot end the wait. To stop a supervisor, poll `fd` for
    /// `POLLIN` (with a timeout or a second descriptor) before calling this; `POLLHUP` means
    /// that no task uses the filter any more.
    ///
    /// This function corresponds to libseccomp's `seccomp_notify_receive`.
    ///
    /// # Errors
    ///
    /// If user notification is not supported (API level below 6), or
    /// [`SeccompErrno::ECANCELED`] if the kernel failed the call (the message gives its
    /// errno: `EBADF`/`ENOTTY` for a descriptor that is not a listener, `ENOENT` if the
    /// caller went away between `poll` and this call).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use pure_seccomp::*;
    /// # let fd: ScmpFd = 3;
    /// let req = ScmpNotifReq::receive(fd)?;
    /// println!("pid {} called {:?}", req.pid, req.data.syscall);
    /// ScmpNotifResp::new_error(req.id, -libc::EPERM, ScmpNotifRespFlags::empty()).respond(fd)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn receive(fd: ScmpFd) -> Result<Self> {
        notify_supported()?;
        let sizes = notif_sizes()?;
        let raw = retry_eintr(|| sys::notif_recv(fd, &sizes)).map_err(|e| {
            SeccompError::with_errno(
                SeccompErrno::ECANCELED,
                format!("ioctl(SECCOMP_IOCTL_NOTIF_RECV) on fd {fd} failed: {e}"),
            )
        })?;
        Ok(Self {
            id: raw.id,
            pid: raw.pid,
            flags: raw.flags,
            data: ScmpNotifData {
                syscall: ScmpSyscall::from(raw.nr),
                arch: ScmpArch::from_token(raw.arch)?,
                instr_pointer: raw.instruction_pointer,
                args: raw.args,
            },
        })
    }
}

/// The supervisor's answer to a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ScmpNotifResp {
    /// The id of the notification answered ([`ScmpNotifReq::id`]).
    pub id: u64,
    /// The syscall's return value, when `error` is 0.
    pub val: i64,
    /// 0, or a *negative* errno the syscall fails with (`-libc::EPERM`).
    pub error: i32,
    /// [`ScmpNotifRespFlags`] bits.
    pub flags: u32,
}

impl ScmpNotifResp {
    /// An answer from its raw parts. [`new_val`](Self::new_val),
    /// [`new_error`](Self::new_error) and [`new_continue`](Self::new_continue) are clearer.
    ///
    /// ```
    /// use pure_seccomp::ScmpNotifResp;
    /// let r = ScmpNotifResp::new(7, 0, -1, 0);
    /// assert_eq!((r.id, r.val, r.error, r.flags), (7, 0, -1, 0));
    /// ```
    #[must_use]
    pub fn new(id: u64, val: i64, error: i32, flags: u32) -> Self {
        Self {
            id,
            val,
            error,
            flags,
        }
    }

    /// The syscall returns `val`.
    ///
    /// ```
    /// use pure_seccomp::{ScmpNotifResp, ScmpNotifRespFlags};
    /// let r = ScmpNotifResp::new_val(7, 42, ScmpNotifRespFlags::empty());
    /// assert_eq!(r, ScmpNotifResp::new(7, 42, 0, 0));
    /// ```
    #[must_use]
    pub fn new_val(id: u64, val: i64, flags: ScmpNotifRespFlags) -> Self {
        Self::new(id, val, 0, flags.bits())
    }

    /// The syscall fails with `error`, a *negative* errno (`-libc::EPERM`).
    ///
    /// ```
    /// use pure_seccomp::{ScmpNotifResp, ScmpNotifRespFlags};
    /// let r = ScmpNotifResp::new_error(7, -libc::EPERM, ScmpNotifRespFlags::empty());
    /// assert_eq!(r, ScmpNotifResp::new(7, 0, -libc::EPERM, 0));
    /// ```
    #[must_use]
    pub fn new_error(id: u64, error: i32, flags: ScmpNotifRespFlags) -> Self {
        debug_assert!(
            error.is_negative(),
            "the error of a response is a negative errno"
        );
        Self::new(id, 0, error, flags.bits())
    }

    /// The kernel runs the syscall as if the filter had allowed it
    /// ([`ScmpNotifRespFlags::CONTINUE`] is added to `flags`).
    ///
    /// ```
    /// use pure_seccomp::{ScmpNotifResp, ScmpNotifRespFlags};
    /// let r = ScmpNotifResp::new_continue(7, ScmpNotifRespFlags::empty());
    /// assert_eq!(r, ScmpNotifResp::new(7, 0, 0, ScmpNotifRespFlags::CONTINUE.bits()));
    /// ```
    #[must_use]
    pub fn new_continue(id: u64, flags: ScmpNotifRespFlags) -> Self {
        Self::new(id, 0, 0, (ScmpNotifRespFlags::CONTINUE | flags).bits())
    }

    /// Sends this answer on listener `fd` (`SECCOMP_IOCTL_NOTIF_SEND`); the notified
    /// syscall then returns. `EINTR` is retried.
    ///
    /// This function corresponds to libseccomp's `seccomp_notify_respond`.
    ///
    /// # Errors
    ///
    /// If user notification is not supported (API level below 6), or
    /// [`SeccompErrno::ECANCELED`] if the kernel failed the call; the message gives its
    /// errno: `ENOENT` if the notification no longer exists (the caller was killed, or it was
    /// answered already), `EINVAL` for an invalid answer (`CONTINUE` with a value or error).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use pure_seccomp::*;
    /// # let fd: ScmpFd = 3;
    /// let req = ScmpNotifReq::receive(fd)?;
    /// ScmpNotifResp::new_val(req.id, 0, ScmpNotifRespFlags::empty()).respond(fd)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn respond(&self, fd: ScmpFd) -> Result<()> {
        notify_supported()?;
        let sizes = notif_sizes()?;
        retry_eintr(|| sys::notif_send(fd, &sizes, self.id, self.val, self.error, self.flags))
            .map_err(|e| {
                SeccompError::with_errno(
                    SeccompErrno::ECANCELED,
                    format!(
                        "ioctl(SECCOMP_IOCTL_NOTIF_SEND) for notification {} on fd {fd} \
                         failed: {e}",
                        self.id
                    ),
                )
            })
    }
}

/// Checks that notification `id` on listener `fd` is still pending, i.e. its caller still
/// waits (`SECCOMP_IOCTL_NOTIF_ID_VALID`, with the pre-5.8 ioctl number as fallback).
///
/// A supervisor that reads the caller's memory (`/proc/<pid>/mem`) or opens files by its
/// pid checks this *after* doing so: if the caller died meanwhile, its pid may name another
/// process. `EINTR` is retried.
///
/// This function corresponds to libseccomp's `seccomp_notify_id_valid`.
///
/// # Errors
///
/// If user notification is not supported (API level below 6), or
/// [`SeccompErrno::ENOENT`] if the notification is not pending (or `fd` is not a listener).
///
/// # Examples
///
/// ```no_run
/// # use pure_seccomp::*;
/// # let fd: ScmpFd = 3;
/// let req = ScmpNotifReq::receive(fd)?;
/// let path = std::fs::read_link(format!("/proc/{}/cwd", req.pid))?;
/// notify_id_valid(fd, req.id)?; // `path` belongs to the caller
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn notify_id_valid(fd: ScmpFd, id: u64) -> Result<()> {
    notify_supported()?;
    retry_eintr(|| sys::notif_id_valid(fd, id)).map_err(|e| {
        SeccompError::with_errno(
            SeccompErrno::ENOENT,
            format!("notification {id} on fd {fd} is not pending: {e}"),
        )
    })
}

bitflags! {
    /// Flags of [`ScmpNotifAddfd`] (`SECCOMP_ADDFD_FLAG_*`).
    ///
    /// ```
    /// use pure_seccomp::ScmpNotifAddfdFlags;
    /// assert_eq!(ScmpNotifAddfdFlags::SETFD.bits(), 1);
    /// assert_eq!(ScmpNotifAddfdFlags::SEND.bits(), 2);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct ScmpNotifAddfdFlags: u32 {
        /// Put the descriptor at number [`ScmpNotifAddfd::newfd`] in the target, replacing
        /// what is there (like `dup2`), instead of the lowest free number.
        const SETFD = 1;
        /// Also answer the notification: the notified syscall returns the new descriptor's
        /// number (atomically, so the target cannot see the descriptor without the answer).
        const SEND = 2;
    }
}

/// Puts a copy of one of the supervisor's descriptors into the descriptor table of a
/// notified caller (`SECCOMP_IOCTL_NOTIF_ADDFD`, Linux 5.9; `SEND` needs 5.14). This is
/// how a supervisor emulates `open`, `socket`, `accept` and the like. It is not in the
/// `libseccomp` crate.
///
/// Build it with [`new`](Self::new) and the builder methods, then call
/// [`add`](Self::add). The fields mirror `struct seccomp_notif_addfd`.
///
/// ```no_run
/// # use pure_seccomp::*;
/// # use std::os::fd::AsRawFd;
/// # let listener: ScmpFd = 3;
/// // The caller asked to open a file: open it here and hand it over as the syscall's result.
/// let req = ScmpNotifReq::receive(listener)?;
/// let file = std::fs::File::open("/etc/hostname")?;
/// let remote = ScmpNotifAddfd::new(req.id, file.as_raw_fd())
///     .cloexec(true)
///     .send(true)
///     .add(listener)?;
/// println!("the caller got descriptor {remote}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ScmpNotifAddfd {
    /// The id of the notification whose caller gets the descriptor.
    pub id: u64,
    /// [`SETFD`](ScmpNotifAddfdFlags::SETFD) and/or [`SEND`](ScmpNotifAddfdFlags::SEND).
    pub flags: ScmpNotifAddfdFlags,
    /// The supervisor's descriptor to copy.
    pub srcfd: RawFd,
    /// The number the descriptor gets in the target, with
    /// [`SETFD`](ScmpNotifAddfdFlags::SETFD); must be 0 otherwise.
    pub newfd: u32,
    /// Flags of the new descriptor: 0 or `O_CLOEXEC`.
    pub newfd_flags: u32,
}

impl ScmpNotifAddfd {
    /// Copies `srcfd` into the caller of notification `id`, at the lowest free number,
    /// without `O_CLOEXEC`, without answering.
    ///
    /// ```
    /// use pure_seccomp::{ScmpNotifAddfd, ScmpNotifAddfdFlags};
    /// let a = ScmpNotifAddfd::new(7, 4).newfd(100).cloexec(true).send(true);
    /// assert_eq!((a.id, a.srcfd, a.newfd), (7, 4, 100));
    /// assert_eq!(a.flags, ScmpNotifAddfdFlags::SETFD | ScmpNotifAddfdFlags::SEND);
    /// assert_eq!(a.newfd_flags, libc::O_CLOEXEC as u32);
    /// ```
    #[must_use]
    pub fn new(id: u64, srcfd: RawFd) -> Self {
        Self {
            id,
            flags: ScmpNotifAddfdFlags::empty(),
            srcfd,
            newfd: 0,
            newfd_flags: 0,
        }
    }

    /// Puts the descriptor at number `newfd` in the target (sets
    /// [`SETFD`](ScmpNotifAddfdFlags::SETFD)).
    #[must_use]
    pub fn newfd(mut self, newfd: u32) -> Self {
        self.newfd = newfd;
        self.flags |= ScmpNotifAddfdFlags::SETFD;
        self
    }

    /// Sets or clears `O_CLOEXEC` on the new descriptor.
    #[must_use]
    pub fn cloexec(mut self, on: bool) -> Self {
        if on {
            self.newfd_flags |= libc::O_CLOEXEC as u32;
        } else {
            self.newfd_flags &= !(libc::O_CLOEXEC as u32);
        }
        self
    }

    /// Sets or clears [`SEND`](ScmpNotifAddfdFlags::SEND): answer the notification with the
    /// new descriptor's number.
    #[must_use]
    pub fn send(mut self, on: bool) -> Self {
        self.flags.set(ScmpNotifAddfdFlags::SEND, on);
        self
    }

    /// Performs the copy through listener `fd` and returns the descriptor's number in the
    /// target. Without [`SEND`](ScmpNotifAddfdFlags::SEND), the notification still waits
    /// for [`ScmpNotifResp::respond`]. `EINTR` is retried.
    ///
    /// # Errors
    ///
    /// If user notification is not supported (API level below 6); otherwise the kernel's
    /// errno, in [`SeccompError::errno`] where it is one of the [`SeccompErrno`] kinds and
    /// always in [`SeccompError::sysrawrc`] (negative): `ENOENT` (no such pending
    /// notification), `EINPROGRESS` (not received yet), `EBADF` (bad `srcfd`), `EMFILE`
    /// (the target's table is full), `EINVAL` (bad flags), `EBUSY` (with `SEND`: already
    /// answered), `ENOTTY`/`EOPNOTSUPP` (kernel without `ADDFD`).
    pub fn add(&self, fd: ScmpFd) -> Result<RawFd> {
        notify_supported()?;
        let raw = sys::RawNotifAddfd {
            id: self.id,
            flags: self.flags.bits(),
            srcfd: self.srcfd as u32,
            newfd: self.newfd,
            newfd_flags: self.newfd_flags,
        };
        retry_eintr(|| sys::notif_addfd(fd, &raw)).map_err(|e| {
            SeccompError::from_errno_with_msg(
                -e.raw_os_error().unwrap_or(libc::ECANCELED),
                format!("SECCOMP_IOCTL_NOTIF_ADDFD failed: {e}"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addfd_builder() {
        let a = ScmpNotifAddfd::new(1, 5);
        assert_eq!(a.flags, ScmpNotifAddfdFlags::empty());
        assert_eq!((a.newfd, a.newfd_flags), (0, 0));
        let b = a.cloexec(true).cloexec(false).send(true).send(false);
        assert_eq!(a, b);
    }

    #[test]
    #[allow(deprecated)]
    fn continue_flag() {
        assert_eq!(NOTIF_FLAG_CONTINUE, 1);
        let r = ScmpNotifResp::new_continue(1, ScmpNotifRespFlags::CONTINUE);
        assert_eq!(r.flags, 1);
    }
}
