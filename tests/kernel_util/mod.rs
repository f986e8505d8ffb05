//! Helpers for tests that load filters: everything that loads runs in a forked child, so no
//! filter ever lands on the test runner.
#![allow(dead_code)]

use pure_seccomp::bpf::Instruction;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const RET_KILL_THREAD: u32 = 0x0000_0000;
pub const RET_TRAP: u32 = 0x0003_0000;
pub const RET_ERRNO: u32 = 0x0005_0000;
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;
pub const RET_LOG: u32 = 0x7ffc_0000;
pub const RET_ALLOW: u32 = 0x7fff_0000;

/// `AUDIT_ARCH_*` of the test binary, where known.
pub const AUDIT_ARCH: Option<u32> =
    if cfg!(all(target_arch = "x86_64", target_pointer_width = "64")) {
        Some(0xc000_003e)
    } else if cfg!(target_arch = "aarch64") {
        Some(0xc000_00b7)
    } else if cfg!(target_arch = "x86") {
        Some(0x4000_0003)
    } else if cfg!(target_arch = "riscv64") {
        Some(0xc000_00f3)
    } else if cfg!(target_arch = "s390x") {
        Some(0x8000_0016)
    } else {
        None
    };

fn stmt(code: u16, k: u32) -> Instruction {
    Instruction {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jeq(k: u32, jt: u8, jf: u8) -> Instruction {
    Instruction {
        code: 0x15,
        jt,
        jf,
        k,
    }
}

/// A hand-written filter: kill the process for a foreign architecture, return `ret` for each
/// `(syscall number, ret)` pair, `default` otherwise.
pub fn filter(rules: &[(libc::c_long, u32)], default: u32) -> Vec<Instruction> {
    let mut p = Vec::new();
    if let Some(arch) = AUDIT_ARCH {
        p.push(stmt(0x20, 4)); // ld [4]: arch
        p.push(jeq(arch, 1, 0));
        p.push(stmt(0x06, RET_KILL_PROCESS));
    }
    p.push(stmt(0x20, 0)); // ld [0]: nr
    for &(nr, ret) in rules {
        p.push(jeq(nr as u32, 0, 1));
        p.push(stmt(0x06, ret));
    }
    p.push(stmt(0x06, default));
    p
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

/// The result of a child: how it ended and what it reported.
#[derive(Debug)]
pub struct Child {
    pub exit: Exit,
    pub message: String,
}

impl Child {
    /// Panics with the child's message unless it exited with 0.
    pub fn assert_ok(&self) {
        assert_eq!(
            self.exit,
            Exit::Code(0),
            "child failed: {}",
            if self.message.is_empty() {
                "(no message)"
            } else {
                &self.message
            }
        );
    }
}

/// Runs `f` in a forked child and waits for it (at most 30 s, then it is killed). The child
/// exits 0 if `f` returns `Ok`, 1 with the message if it returns `Err`, 2 if it panics.
/// Core dumps are disabled in the child (SIGSYS kills dump core by default).
pub fn in_child<F: FnOnce() -> Result<(), String>>(f: F) -> Child {
    let mut fds = [0; 2];
    // SAFETY: plain syscalls on owned memory.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        unsafe {
            libc::close(fds[0]);
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        }
        let (code, msg) = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(Ok(())) => (0, String::new()),
            Ok(Err(m)) => (1, m),
            Err(p) => (
                2,
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".into()),
            ),
        };
        unsafe {
            libc::write(fds[1], msg.as_ptr().cast(), msg.len());
            libc::_exit(code);
        }
    }
    // SAFETY: fds[0] is ours; fds[1] is closed here so EOF comes when the child is gone.
    let mut reader = unsafe {
        libc::close(fds[1]);
        libc::fcntl(fds[0], libc::F_SETFL, libc::O_NONBLOCK);
        std::fs::File::from(OwnedFd::from_raw_fd(fds[0]))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut message = Vec::new();
    let mut status = 0;
    loop {
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = reader.read(&mut chunk) {
            message.extend_from_slice(&chunk[..n]);
        }
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break;
        }
        if Instant::now() > deadline {
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            panic!(
                "child {pid} timed out; it said: {}",
                String::from_utf8_lossy(&message)
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut chunk = [0u8; 4096];
    while let Ok(n @ 1..) = reader.read(&mut chunk) {
        message.extend_from_slice(&chunk[..n]);
    }
    let exit = if libc::WIFEXITED(status) {
        Exit::Code(libc::WEXITSTATUS(status))
    } else {
        Exit::Signal(libc::WTERMSIG(status))
    };
    Child {
        exit,
        message: String::from_utf8_lossy(&message).into_owned(),
    }
}

/// Like [`in_child`], and asserts the child succeeded.
pub fn run_ok<F: FnOnce() -> Result<(), String>>(f: F) {
    in_child(f).assert_ok();
}

/// Why this process cannot load seccomp filters, or `None` when it can. Asks the kernel
/// with `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL)`, which fails with `EFAULT`
/// (reading the NULL program, nothing loaded) where filters work, and with `EINVAL` on a
/// kernel without them or under an emulator (qemu-user refuses seccomp for itself).
pub fn no_seccomp() -> Option<String> {
    // SAFETY: the program pointer is NULL, so nothing can be installed.
    let rc = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            std::ptr::null::<libc::c_void>(),
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    let err = std::io::Error::last_os_error();
    if rc < 0 && err.raw_os_error() == Some(libc::EFAULT) {
        None
    } else {
        Some(format!(
            "this process cannot load seccomp filters (prctl(PR_SET_SECCOMP, \
             SECCOMP_MODE_FILTER, NULL) gave {}; an emulator such as qemu-user, or a kernel \
             without CONFIG_SECCOMP_FILTER)",
            if rc < 0 {
                err.to_string()
            } else {
                format!("{rc}")
            }
        ))
    }
}

/// Prints `skipped: <where>: <why>` and returns true when `why` is `Some`; with
/// `PURE_SECCOMP_REQUIRE_KERNEL=1` (native CI) a skip is a failure instead. The line goes
/// to stderr directly, past the test harness's capture, so that it shows in every run.
pub fn skip(place: &str, why: Option<String>) -> bool {
    let Some(why) = why else { return false };
    if std::env::var_os("PURE_SECCOMP_REQUIRE_KERNEL").is_some_and(|v| v == "1") {
        panic!("{place}: {why}, and PURE_SECCOMP_REQUIRE_KERNEL=1 forbids skipping");
    }
    let line = format!("skipped: {place}: {why}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    true
}

/// Why the running kernel's API level is below `level` (e.g. 5 for user notification), or
/// `None`. Probes in this process, which never loads a filter itself.
pub fn below_api(level: u32) -> Option<String> {
    no_seccomp().or_else(|| {
        let have = pure_seccomp::get_api();
        (have < level).then(|| format!("needs API level {level}, the kernel has {have}"))
    })
}

/// Returns from the test, with a printed reason, when this process cannot load filters
/// (`require_kernel!()`) or the kernel's API level is below `n` (`require_kernel!(n)`).
#[macro_export]
macro_rules! require_kernel {
    () => {
        if $crate::kernel_util::skip(
            concat!(file!(), ":", line!()),
            $crate::kernel_util::no_seccomp(),
        ) {
            return;
        }
    };
    ($level:expr) => {
        if $crate::kernel_util::skip(
            concat!(file!(), ":", line!()),
            $crate::kernel_util::below_api($level),
        ) {
            return;
        }
    };
}

/// `Err(message)` unless `cond`.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!("{}:{}: {}", file!(), line!(), format!($($msg)+)));
        }
    };
}

/// Makes a raw syscall with no arguments: `Ok(return value)` or `Err(errno)`.
pub fn syscall0(nr: libc::c_long) -> Result<libc::c_long, i32> {
    let rc = unsafe { libc::syscall(nr) };
    if rc < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        Ok(rc)
    }
}

/// The real parent pid, as `/proc/self/stat` says (does not make the `getppid` syscall).
pub fn real_ppid() -> libc::c_long {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    after.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The number of threads of this process.
pub fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// Polls `cond` for up to 10 s.
pub fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    cond()
}
