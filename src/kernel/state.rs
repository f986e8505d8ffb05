//! The crate's process-global state, the two pieces libseccomp also keeps per process:
//!
//! * **What the kernel supports** ([`support`]): probed once, on first need, with harmless
//!   invalid calls (see [`probe`]), and cached. [`crate::get_api`] derives the API level from
//!   it; [`crate::set_api`] overwrites it; [`crate::reset_global_state`] forgets it.
//! * **The user-notification listener** ([`notify_fd`]) that
//!   [`ScmpFilterContext::load`](crate::ScmpFilterContext::load) obtained for the first filter
//!   that used [`ScmpAction::Notify`](crate::ScmpAction::Notify); libseccomp asks for one
//!   listener per process, and so do we. [`crate::reset_global_state`] closes it.
//!
//! Both are atomics: every function of the crate may be called from any thread.
//!
//! **Building is independent of the build host's kernel.** What the kernel supports is
//! checked when a filter is loaded, not when it is built ([`buildable`]): creating a filter,
//! adding rules, setting attributes and exporting the program accept every action and flag
//! this crate knows, whatever the kernel (an emulator, a container, an old build host) can do.
//! Only a level forced with [`crate::set_api`] restricts building, as in libseccomp, since
//! it states the kernel the filter is meant for.

use super::sys::{self, flag};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

/// `seccomp(2)` exists (else filters load with `prctl(PR_SET_SECCOMP)`).
pub(crate) const SYSCALL: u32 = 1 << 0;
/// `SECCOMP_FILTER_FLAG_TSYNC`.
pub(crate) const FLAG_TSYNC: u32 = 1 << 1;
/// `SECCOMP_FILTER_FLAG_LOG`.
pub(crate) const FLAG_LOG: u32 = 1 << 2;
/// `SECCOMP_RET_LOG`.
pub(crate) const ACT_LOG: u32 = 1 << 3;
/// `SECCOMP_RET_KILL_PROCESS`.
pub(crate) const ACT_KILL_PROCESS: u32 = 1 << 4;
/// `SECCOMP_FILTER_FLAG_SPEC_ALLOW`.
pub(crate) const FLAG_SPEC_ALLOW: u32 = 1 << 5;
/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`.
pub(crate) const FLAG_NEW_LISTENER: u32 = 1 << 6;
/// `SECCOMP_RET_USER_NOTIF` (`SECCOMP_GET_NOTIF_SIZES` works).
pub(crate) const ACT_NOTIFY: u32 = 1 << 7;
/// `SECCOMP_FILTER_FLAG_TSYNC_ESRCH` (TSYNC and a listener together).
pub(crate) const FLAG_TSYNC_ESRCH: u32 = 1 << 8;
/// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`.
pub(crate) const FLAG_WAIT_KILLABLE_RECV: u32 = 1 << 9;

/// Filters can be loaded at all: `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)` works (implied
/// by `seccomp(2)`). Missing under qemu-user and on kernels without `CONFIG_SECCOMP_FILTER`.
pub(crate) const FILTERS: u32 = 1 << 10;

/// The word was forced by `set_api` rather than probed.
const FORCED: u32 = 1 << 30;
/// Set once the word holds probe results (or forced ones).
const KNOWN: u32 = 1 << 31;

/// What each API level requires, cumulatively (libseccomp's `seccomp_api_get(3)` levels).
const LEVELS: [u32; 7] = [
    FILTERS,
    SYSCALL | FLAG_TSYNC,
    FLAG_LOG | ACT_LOG | ACT_KILL_PROCESS,
    FLAG_SPEC_ALLOW,
    FLAG_NEW_LISTENER | ACT_NOTIFY,
    FLAG_TSYNC_ESRCH,
    FLAG_WAIT_KILLABLE_RECV,
];

/// The highest API level this crate knows.
pub(crate) const MAX_LEVEL: u32 = LEVELS.len() as u32;

static SUPPORT: AtomicU32 = AtomicU32::new(0);
static NOTIFY_FD: AtomicI32 = AtomicI32::new(-1);

/// Asks the kernel what it supports (a few invalid `seccomp(2)` calls that fail without
/// side effects), in the order libseccomp probes.
pub(crate) fn probe() -> u32 {
    if !sys::probe_seccomp_syscall() {
        return if sys::probe_prctl_filter() {
            FILTERS
        } else {
            0
        };
    }
    let mut s = SYSCALL | FILTERS;
    let mut add = |bit: u32, ok: bool| {
        if ok {
            s |= bit;
        }
    };
    add(FLAG_TSYNC, sys::probe_filter_flags(flag::TSYNC));
    add(FLAG_LOG, sys::probe_filter_flags(flag::LOG));
    add(ACT_LOG, sys::action_available(crate::action::RET_LOG));
    add(
        ACT_KILL_PROCESS,
        sys::action_available(crate::action::RET_KILL_PROCESS),
    );
    add(FLAG_SPEC_ALLOW, sys::probe_filter_flags(flag::SPEC_ALLOW));
    add(
        FLAG_NEW_LISTENER,
        sys::probe_filter_flags(flag::NEW_LISTENER),
    );
    add(ACT_NOTIFY, sys::notif_sizes().is_ok());
    add(FLAG_TSYNC_ESRCH, sys::probe_filter_flags(flag::TSYNC_ESRCH));
    // WAIT_KILLABLE_RECV is only valid together with NEW_LISTENER.
    add(
        FLAG_WAIT_KILLABLE_RECV,
        sys::probe_filter_flags(flag::NEW_LISTENER | flag::WAIT_KILLABLE_RECV),
    );
    s
}

/// The cached support bits, probing the kernel on first use.
pub(crate) fn support() -> u32 {
    let s = SUPPORT.load(Ordering::Acquire);
    if s & KNOWN != 0 {
        return s;
    }
    let probed = probe() | KNOWN;
    // Two threads may probe at once; both find the same answer, and a value forced by
    // `set_api` meanwhile wins.
    match SUPPORT.compare_exchange(s, probed, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => probed,
        Err(current) if current & KNOWN != 0 => current,
        Err(_) => probed,
    }
}

/// Whether every bit of `bits` is supported.
pub(crate) fn supports(bits: u32) -> bool {
    support() & bits == bits
}

/// Whether a filter being built may use `bits` (actions, flags): always, unless a level was
/// forced with `set_api`, in which case that level decides, as in libseccomp. The running
/// kernel's support is checked at load time instead (see the module documentation). Never
/// probes the kernel.
pub(crate) fn buildable(bits: u32) -> bool {
    let s = SUPPORT.load(Ordering::Acquire);
    s & FORCED == 0 || s & bits == bits
}

/// Whether the support word was forced with `set_api` (else it is probed, or not yet known).
pub(crate) fn forced() -> bool {
    SUPPORT.load(Ordering::Acquire) & FORCED != 0
}

/// The API level of a support word: the highest level whose requirements, and those of all
/// levels below it, are met.
pub(crate) fn level_of(support: u32) -> u32 {
    let mut need = 0;
    let mut level = 1;
    for (i, bits) in LEVELS.iter().enumerate().skip(1) {
        need |= bits;
        if support & need != need {
            break;
        }
        level = i as u32 + 1;
    }
    level
}

/// The support word that API level `level` (1..=MAX_LEVEL) stands for.
pub(crate) fn support_of_level(level: u32) -> u32 {
    LEVELS
        .iter()
        .take(level as usize)
        .fold(KNOWN, |acc, bits| acc | bits)
}

/// Forces the support word to what `level` stands for (`set_api`).
pub(crate) fn force_level(level: u32) {
    SUPPORT.store(support_of_level(level) | FORCED, Ordering::Release);
}

/// The listener fd stored by `ScmpFilterContext::load`, or -1.
pub(crate) fn notify_fd() -> RawFd {
    NOTIFY_FD.load(Ordering::Acquire)
}

/// Stores the process's listener unless another thread stored one first; returns whether
/// `fd` was stored.
pub(crate) fn set_notify_fd(fd: RawFd) -> bool {
    NOTIFY_FD
        .compare_exchange(-1, fd, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
}

/// Forgets the support probes and closes the stored listener (`reset_global_state`).
pub(crate) fn reset() {
    SUPPORT.store(0, Ordering::Release);
    let fd = NOTIFY_FD.swap(-1, Ordering::AcqRel);
    if fd >= 0 {
        sys::close_fd(fd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_round_trip() {
        for level in 1..=MAX_LEVEL {
            assert_eq!(level_of(support_of_level(level)), level);
        }
        assert_eq!(level_of(0), 1);
        assert_eq!(level_of(KNOWN | SYSCALL), 1);
        // A gap stops the level even when later features exist.
        let all = support_of_level(MAX_LEVEL);
        assert_eq!(level_of(all & !FLAG_SPEC_ALLOW), 3);
        assert_eq!(level_of(all & !ACT_NOTIFY), 4);
        // Without seccomp filters at all the level is still 1, as libseccomp reports it.
        assert_eq!(level_of(KNOWN), 1);
        assert_eq!(support_of_level(1) & FILTERS, FILTERS);
    }
}
