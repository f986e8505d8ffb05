//! Raw system calls and ioctls: the only `unsafe` code of the crate.
//!
//! Every function here is safe to call: each wrapper owns the memory it hands to the kernel
//! and sizes it from what the kernel itself reported. Syscall numbers and constants come
//! from `libc` (`libc::SYS_seccomp`), so static musl builds and cross targets use the
//! target's numbers; only functions that every Linux libc provides are called
//! (`syscall`, `prctl`, `ioctl`, `close`).

use crate::bpf::Instruction;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};

// seccomp(2) operations (include/uapi/linux/seccomp.h).
const SECCOMP_SET_MODE_STRICT: libc::c_ulong = 0;
const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;
const SECCOMP_GET_ACTION_AVAIL: libc::c_ulong = 2;
const SECCOMP_GET_NOTIF_SIZES: libc::c_ulong = 3;

// prctl(2) options.
const PR_SET_SECCOMP: libc::c_int = 22;
const PR_SET_NO_NEW_PRIVS: libc::c_int = 38;
const SECCOMP_MODE_FILTER: libc::c_ulong = 2;

/// `SECCOMP_FILTER_FLAG_*` values, as the kernel defines them.
pub(crate) mod flag {
    pub(crate) const TSYNC: u32 = 1 << 0;
    pub(crate) const LOG: u32 = 1 << 1;
    pub(crate) const SPEC_ALLOW: u32 = 1 << 2;
    pub(crate) const NEW_LISTENER: u32 = 1 << 3;
    pub(crate) const TSYNC_ESRCH: u32 = 1 << 4;
    pub(crate) const WAIT_KILLABLE_RECV: u32 = 1 << 5;
}

/// The kernel's limit on the length of a classic BPF program.
pub(crate) use crate::bpf::BPF_MAXINSNS;

/// `struct sock_fprog`.
#[repr(C)]
struct SockFprog {
    len: libc::c_ushort,
    filter: *const Instruction,
}

// `Instruction` must be laid out exactly like `struct sock_filter` for the kernel to read it.
const _: () = {
    assert!(std::mem::size_of::<Instruction>() == 8);
    assert!(std::mem::align_of::<Instruction>() == 4);
};

fn cvt(rc: libc::c_long) -> io::Result<libc::c_long> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn cvt_int(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Whether `seccomp(2)` exists: `seccomp(SECCOMP_SET_MODE_STRICT, 1, NULL)` is invalid (flags
/// must be 0) and fails with `EINVAL` where the syscall exists, `ENOSYS` where it does not.
pub(crate) fn probe_seccomp_syscall() -> bool {
    // SAFETY: the call passes no pointer the kernel could dereference (NULL) and cannot
    // change the process state: a non-zero flags word makes SET_MODE_STRICT fail.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_STRICT,
            1 as libc::c_ulong,
            std::ptr::null::<libc::c_void>(),
        )
    };
    matches!(cvt(rc), Err(e) if e.raw_os_error() == Some(libc::EINVAL))
}

/// Whether `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL)` gets as far as reading the
/// (NULL) program: `EFAULT` where filters can be loaded through `prctl(2)`, `EINVAL` where the
/// kernel has no seccomp filter mode or an emulator refuses it (qemu-user does).
pub(crate) fn probe_prctl_filter() -> bool {
    // SAFETY: the program pointer is NULL, so the kernel fails to read it (EFAULT) before it
    // could install anything; no memory of ours is touched.
    let rc = unsafe {
        libc::prctl(
            PR_SET_SECCOMP,
            SECCOMP_MODE_FILTER,
            std::ptr::null::<libc::c_void>(),
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    matches!(cvt_int(rc), Err(e) if e.raw_os_error() == Some(libc::EFAULT))
}

/// Whether the kernel accepts the filter flags `flags`: `seccomp(SECCOMP_SET_MODE_FILTER,
/// flags, NULL)` fails with `EFAULT` (reading the NULL program) only once the flags passed
/// validation, and with `EINVAL` for an unknown flag.
pub(crate) fn probe_filter_flags(flags: u32) -> bool {
    // SAFETY: the program pointer is NULL, so the kernel fails to read it (EFAULT) before it
    // could install anything; no memory of ours is touched.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            libc::c_ulong::from(flags),
            std::ptr::null::<libc::c_void>(),
        )
    };
    matches!(cvt(rc), Err(e) if e.raw_os_error() == Some(libc::EFAULT))
}

/// Whether the kernel knows the filter return action `action` (`SECCOMP_GET_ACTION_AVAIL`).
pub(crate) fn action_available(action: u32) -> bool {
    let action: u32 = action;
    // SAFETY: the kernel reads one u32 from the pointer, which points to a live local.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_GET_ACTION_AVAIL,
            0 as libc::c_ulong,
            &action as *const u32,
        )
    };
    cvt(rc).is_ok()
}

/// The sizes of the user-notification structures of the running kernel
/// (`struct seccomp_notif_sizes`). Only [`notif_sizes`] makes one, so its values are always
/// the kernel's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotifSizes {
    notif: u16,
    resp: u16,
}

#[repr(C)]
#[derive(Default)]
struct RawNotifSizes {
    seccomp_notif: u16,
    seccomp_notif_resp: u16,
    // Written by the kernel; only the two sizes above are needed.
    #[allow(dead_code)]
    seccomp_data: u16,
}

/// Cache of `SECCOMP_GET_NOTIF_SIZES` (the sizes never change while a process runs; asking
/// once also keeps `receive`/`respond` working in a supervisor whose own filter later
/// forbids `seccomp(2)`). 0 = not asked yet; else `resp << 16 | notif` (both non-zero). A
/// u32, as 32-bit targets such as mips and powerpc have no 64-bit atomics.
static NOTIF_SIZES: AtomicU32 = AtomicU32::new(0);

/// The user-notification structure sizes of the running kernel (`SECCOMP_GET_NOTIF_SIZES`),
/// asked once and cached.
pub(crate) fn notif_sizes() -> io::Result<NotifSizes> {
    let packed = NOTIF_SIZES.load(Ordering::Acquire);
    if packed != 0 {
        return Ok(NotifSizes {
            notif: packed as u16,
            resp: (packed >> 16) as u16,
        });
    }
    let mut raw = RawNotifSizes::default();
    // SAFETY: the kernel writes a `struct seccomp_notif_sizes` (three u16) to the pointer,
    // which points to a live, writable local of that layout.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_GET_NOTIF_SIZES,
            0 as libc::c_ulong,
            &mut raw as *mut RawNotifSizes,
        )
    };
    cvt(rc)?;
    if raw.seccomp_notif == 0 || raw.seccomp_notif_resp == 0 {
        return Err(io::Error::from_raw_os_error(libc::EFAULT));
    }
    let packed = u32::from(raw.seccomp_notif_resp) << 16 | u32::from(raw.seccomp_notif);
    NOTIF_SIZES.store(packed, Ordering::Release);
    Ok(NotifSizes {
        notif: raw.seccomp_notif,
        resp: raw.seccomp_notif_resp,
    })
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)`.
pub(crate) fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: only integers are passed.
    let rc = unsafe {
        libc::prctl(
            PR_SET_NO_NEW_PRIVS,
            1 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    cvt_int(rc).map(drop)
}

fn fprog(prog: &[Instruction]) -> io::Result<SockFprog> {
    let len = libc::c_ushort::try_from(prog.len())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok(SockFprog {
        len,
        filter: prog.as_ptr(),
    })
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, prog)`: the kernel's return value (0, a listener
/// fd with `NEW_LISTENER`, or the id of a thread that could not be synchronised with plain
/// `TSYNC`).
pub(crate) fn set_mode_filter(flags: u32, prog: &[Instruction]) -> io::Result<libc::c_long> {
    let fprog = fprog(prog)?;
    // SAFETY: `fprog` points to `prog`, which outlives the call; `Instruction` has the layout
    // of `struct sock_filter` (checked above). The kernel copies the program and does not
    // keep the pointer.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            libc::c_ulong::from(flags),
            &fprog as *const SockFprog,
        )
    };
    cvt(rc)
}

/// `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog)`, for kernels without `seccomp(2)`.
pub(crate) fn prctl_set_filter(prog: &[Instruction]) -> io::Result<()> {
    let fprog = fprog(prog)?;
    // SAFETY: as in `set_mode_filter`.
    let rc = unsafe {
        libc::prctl(
            PR_SET_SECCOMP,
            SECCOMP_MODE_FILTER,
            &fprog as *const SockFprog,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    cvt_int(rc).map(drop)
}

/// Takes ownership of a file descriptor the kernel has just returned to us.
pub(crate) fn own_new_fd(fd: RawFd) -> OwnedFd {
    assert!(fd >= 0, "not a file descriptor: {fd}");
    // SAFETY: `fd` was just returned by the kernel as a new descriptor of this process (a
    // seccomp listener) and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Closes a descriptor that this crate owns through a raw number (the process-global
/// listener of `ScmpFilterContext::load`).
pub(crate) fn close_fd(fd: RawFd) {
    // SAFETY: only called for the listener this crate stored and just removed from its
    // process-global slot; nothing can use that number through the crate any more.
    unsafe { libc::close(fd) };
}

// --- ioctl numbers -------------------------------------------------------------------------

// Most architectures: 2 direction bits at 30, 14 size bits at 16, WRITE = 1, READ = 2.
// powerpc, mips and sparc: 3 direction bits at 29, 13 size bits, READ = 2, WRITE = 4.
mod ioc {
    const ALT: bool = cfg!(any(
        target_arch = "powerpc",
        target_arch = "powerpc64",
        target_arch = "mips",
        target_arch = "mips64",
        target_arch = "mips32r6",
        target_arch = "mips64r6",
        target_arch = "sparc",
        target_arch = "sparc64"
    ));
    pub(super) const WRITE: u32 = if ALT { 4 } else { 1 };
    pub(super) const READ: u32 = 2;
    pub(super) const SIZEBITS: u32 = if ALT { 13 } else { 14 };
}

/// `_IOC(dir, type, nr, size)` for the target.
const fn ioc(dir: u32, ty: u8, nr: u8, size: usize) -> u32 {
    (dir << (16 + ioc::SIZEBITS)) | ((size as u32) << 16) | ((ty as u32) << 8) | nr as u32
}

const SECCOMP_IOC_MAGIC: u8 = b'!';
/// `sizeof(struct seccomp_notif)` as the uapi header defines it (the ioctl number encodes it).
pub(crate) const NOTIF_LEN: usize = 80;
/// `sizeof(struct seccomp_notif_resp)`.
pub(crate) const NOTIF_RESP_LEN: usize = 24;
/// `sizeof(struct seccomp_notif_addfd)`.
const NOTIF_ADDFD_LEN: usize = 24;

/// `_IOWR('!', 0, struct seccomp_notif)`.
pub(crate) const IOCTL_NOTIF_RECV: u32 =
    ioc(ioc::READ | ioc::WRITE, SECCOMP_IOC_MAGIC, 0, NOTIF_LEN);
/// `_IOWR('!', 1, struct seccomp_notif_resp)`.
pub(crate) const IOCTL_NOTIF_SEND: u32 =
    ioc(ioc::READ | ioc::WRITE, SECCOMP_IOC_MAGIC, 1, NOTIF_RESP_LEN);
/// `_IOW('!', 2, __u64)`.
pub(crate) const IOCTL_NOTIF_ID_VALID: u32 = ioc(ioc::WRITE, SECCOMP_IOC_MAGIC, 2, 8);
/// `_IOR('!', 2, __u64)`: the number kernels before 5.8 used (wrong direction).
pub(crate) const IOCTL_NOTIF_ID_VALID_WRONG_DIR: u32 = ioc(ioc::READ, SECCOMP_IOC_MAGIC, 2, 8);
/// `_IOW('!', 3, struct seccomp_notif_addfd)`.
pub(crate) const IOCTL_NOTIF_ADDFD: u32 = ioc(ioc::WRITE, SECCOMP_IOC_MAGIC, 3, NOTIF_ADDFD_LEN);

/// A notification as `SECCOMP_IOCTL_NOTIF_RECV` returns it (`struct seccomp_notif`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawNotif {
    pub id: u64,
    pub pid: u32,
    pub flags: u32,
    pub nr: i32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// `ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf)` with a zeroed buffer of the kernel's size.
/// Blocks until a notification is pending. `EINTR` is returned, not retried.
pub(crate) fn notif_recv(fd: RawFd, sizes: &NotifSizes) -> io::Result<RawNotif> {
    // The kernel refuses a buffer that is not zeroed (EINVAL) and writes its own
    // `sizeof(struct seccomp_notif)`, which `sizes` holds.
    let mut buf = vec![0u8; usize::from(sizes.notif).max(NOTIF_LEN)];
    // SAFETY: `buf` is writable and at least as long as the structure the kernel writes.
    let rc = unsafe { libc::ioctl(fd, IOCTL_NOTIF_RECV as _, buf.as_mut_ptr()) };
    cvt_int(rc)?;
    let mut args = [0u64; 6];
    for (i, a) in args.iter_mut().enumerate() {
        *a = u64_at(&buf, 32 + 8 * i);
    }
    Ok(RawNotif {
        id: u64_at(&buf, 0),
        pid: u32_at(&buf, 8),
        flags: u32_at(&buf, 12),
        nr: u32_at(&buf, 16) as i32,
        arch: u32_at(&buf, 20),
        instruction_pointer: u64_at(&buf, 24),
        args,
    })
}

/// `ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp)` with a zeroed buffer of the kernel's size.
pub(crate) fn notif_send(
    fd: RawFd,
    sizes: &NotifSizes,
    id: u64,
    val: i64,
    error: i32,
    flags: u32,
) -> io::Result<()> {
    let mut buf = vec![0u8; usize::from(sizes.resp).max(NOTIF_RESP_LEN)];
    buf[0..8].copy_from_slice(&id.to_ne_bytes());
    buf[8..16].copy_from_slice(&val.to_ne_bytes());
    buf[16..20].copy_from_slice(&error.to_ne_bytes());
    buf[20..24].copy_from_slice(&flags.to_ne_bytes());
    // SAFETY: `buf` is at least as long as the structure the kernel reads and writes.
    let rc = unsafe { libc::ioctl(fd, IOCTL_NOTIF_SEND as _, buf.as_mut_ptr()) };
    cvt_int(rc).map(drop)
}

/// `ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id)`, retried with the pre-5.8 number on
/// `EINVAL`.
pub(crate) fn notif_id_valid(fd: RawFd, id: u64) -> io::Result<()> {
    let mut id = id;
    // SAFETY: the kernel reads one u64 from a live local.
    let rc = unsafe { libc::ioctl(fd, IOCTL_NOTIF_ID_VALID as _, &mut id as *mut u64) };
    match cvt_int(rc) {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            // SAFETY: as above.
            let rc = unsafe {
                libc::ioctl(fd, IOCTL_NOTIF_ID_VALID_WRONG_DIR as _, &mut id as *mut u64)
            };
            cvt_int(rc).map(drop)
        }
        r => r.map(drop),
    }
}

/// `struct seccomp_notif_addfd`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RawNotifAddfd {
    pub id: u64,
    pub flags: u32,
    pub srcfd: u32,
    pub newfd: u32,
    pub newfd_flags: u32,
}

const _: () = assert!(std::mem::size_of::<RawNotifAddfd>() == NOTIF_ADDFD_LEN);

/// `ioctl(fd, SECCOMP_IOCTL_NOTIF_ADDFD, addfd)`: the descriptor number in the target.
pub(crate) fn notif_addfd(fd: RawFd, addfd: &RawNotifAddfd) -> io::Result<RawFd> {
    let mut a = *addfd;
    // SAFETY: the kernel reads a `struct seccomp_notif_addfd` from a live local of that
    // layout.
    let rc = unsafe { libc::ioctl(fd, IOCTL_NOTIF_ADDFD as _, &mut a as *mut RawNotifAddfd) };
    cvt_int(rc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64",
        target_arch = "s390x",
        target_arch = "loongarch64"
    ))]
    fn ioctl_numbers_generic() {
        // The values <linux/seccomp.h> gives on these architectures.
        assert_eq!(IOCTL_NOTIF_RECV, 0xc050_2100);
        assert_eq!(IOCTL_NOTIF_SEND, 0xc018_2101);
        assert_eq!(IOCTL_NOTIF_ID_VALID, 0x4008_2102);
        assert_eq!(IOCTL_NOTIF_ID_VALID_WRONG_DIR, 0x8008_2102);
        assert_eq!(IOCTL_NOTIF_ADDFD, 0x4018_2103);
    }

    #[test]
    #[cfg(any(target_arch = "powerpc", target_arch = "powerpc64"))]
    fn ioctl_numbers_powerpc() {
        assert_eq!(IOCTL_NOTIF_RECV, 0xc050_2100);
        assert_eq!(IOCTL_NOTIF_ID_VALID, 0x8008_2102);
        assert_eq!(IOCTL_NOTIF_ADDFD, 0x8018_2103);
    }

    #[test]
    fn probes_do_not_load_anything() {
        fn filters() -> Option<String> {
            std::fs::read_to_string("/proc/self/status")
                .ok()?
                .lines()
                .find(|l| l.starts_with("Seccomp_filters:"))
                .map(str::to_string)
        }
        // These only ask; the number of filters on this thread stays what it was.
        let before = filters();
        let _ = probe_seccomp_syscall();
        let _ = probe_prctl_filter();
        for f in [
            flag::TSYNC,
            flag::LOG,
            flag::NEW_LISTENER | flag::WAIT_KILLABLE_RECV,
        ] {
            let _ = probe_filter_flags(f);
        }
        let _ = action_available(0x7fff_0000);
        assert_eq!(filters(), before);
    }
}
