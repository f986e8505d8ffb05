//! A "firmware" whose seccomp filter was compiled at build time (see `build.rs`): at run time
//! it only loads the embedded bytes with [`pure_seccomp::load_bpf_bytes`], with no policy
//! parser or compiler in the binary.
//!
//! `firmware-example` loads the filter and carries on under it; `firmware-example --check`
//! loads it in a forked child and shows that a syscall outside the allow-list (`getppid`)
//! fails with EPERM while an allowed one (`getpid`) works. Exit code 0 when it behaves so.

use pure_seccomp::{load_bpf_bytes, LoadFlags};

/// The program compiled by build.rs for this target.
static FILTER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/filter.bpf"));
/// The architecture it was compiled for (`SCMP_ARCH_X86_64`).
static ARCH: &str = include_str!(concat!(env!("OUT_DIR"), "/filter_arch.txt"));

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--check") {
        std::process::exit(check());
    }
    if let Err(e) = load_bpf_bytes(FILTER, LoadFlags::new()) {
        eprintln!("firmware-example: cannot load the seccomp filter: {e}");
        std::process::exit(1);
    }
    println!(
        "firmware-example: running under the build-time filter ({} instructions, {ARCH})",
        FILTER.len() / 8
    );
}

/// Loads the filter in a child; exit code 0 if it denies getppid and allows getpid.
fn check() -> i32 {
    // SAFETY: this process has one thread; the child only makes system calls and exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        eprintln!("fork: {}", std::io::Error::last_os_error());
        return 2;
    }
    if pid == 0 {
        let code = match load_bpf_bytes(FILTER, LoadFlags::new()) {
            Err(_) => 3,
            Ok(_) => {
                // SAFETY: raw syscalls without arguments.
                let denied = unsafe { libc::syscall(libc::SYS_getppid) };
                let errno = std::io::Error::last_os_error().raw_os_error();
                // SAFETY: as above.
                let allowed = unsafe { libc::syscall(libc::SYS_getpid) };
                match (denied, errno, allowed > 0) {
                    (-1, Some(libc::EPERM), true) => 0,
                    (-1, Some(libc::EPERM), false) => 4,
                    _ => 5,
                }
            }
        };
        // SAFETY: ends the child at once (exit_group is allowed).
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let what = match code {
        0 => "getppid failed with EPERM, getpid worked: the filter is in force",
        3 => "the kernel refused the filter",
        4 => "getppid was denied, but so was getpid",
        5 => "getppid was NOT denied",
        _ => "the child died",
    };
    println!(
        "firmware-example --check: {} instructions for {ARCH}, loaded in a child: {what}",
        FILTER.len() / 8
    );
    i32::from(code != 0)
}
