//! `run` and `learn`: commands under a filter.
//!
//! `run` builds the filter before forking and loads it in the child between fork and exec,
//! with `no_new_privs`. Both commands look the command up before forking, as `execvp` will,
//! so that one that cannot start is said before any filter is loaded. The child reports a
//! failure to load through a close-on-exec pipe (before the filter) and a failed exec in a
//! page it shares with the parent (a store: the filter may refuse every call but `execve`).
//! While the command runs, the signals that would end this process are blocked and passed
//! on to it ([`Signals`]).
//!
//! `learn` needs a supervisor that answers the child's notifications, and the child cannot
//! hand its listener over by itself: once the filter is loaded, every syscall it makes
//! (`sendmsg` of the descriptor too) waits for a supervisor that does not have the listener
//! yet. So the parent takes it: the child loads the filter (default action: notify) and
//! goes on to exec, whose notification waits; the parent finds the listener among the
//! child's descriptors (`/proc/PID/fd`, `anon_inode:seccomp notify`), copies it with
//! `pidfd_getfd(2)` (Linux 5.6; the parent may ptrace its own child), then answers every
//! notification with CONTINUE and records it. The parent forks while it has no other
//! thread, and the child only loads the prepared program and execs.

use crate::arches;
use crate::input::{self, Source};
use crate::{Fail, PolicyOpts};
use pure_seccomp::bpf::Instruction;
use pure_seccomp::{
    LoadFlags, ScmpAction, ScmpArch, ScmpFilterContext, ScmpNotifReq, ScmpNotifResp,
    ScmpNotifRespFlags,
};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{CString, OsString};
use std::io::Write as _;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Exit code when the command could not be started.
const CANNOT_START: u8 = 125;

/// The exit code that reports a child's end: its code, or 128 + the signal.
fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return code as u8;
    }
    let sig = status.signal().unwrap_or(0);
    if sig == libc::SIGSYS {
        eprintln!(
            "pure-seccomp: the command was killed by SIGSYS: it made a syscall the policy \
             kills (see `pure-seccomp audit` / `sim`)"
        );
    }
    128u8.wrapping_add(sig as u8)
}

/// `run [POLICY] -- COMMAND...`.
pub fn run(policy: Option<&Path>, command: &[OsString], opts: &PolicyOpts) -> Result<u8, Fail> {
    let native = ScmpArch::native();
    let source = input::open(policy, Some(native))?;
    let programs = input::programs(&source, &opts.build(Vec::new()), false)?;
    let program = match programs.as_slice() {
        [one] => one,
        [] => return Err(Fail::input("the policy defines no filter")),
        many => {
            return Err(Fail::input(format!(
                "the policy has {} filters ({}): pick one with --filter",
                many.len(),
                many.iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    };
    if let Source::Policy { .. } = source {
        if !program.abis.contains(&native) {
            return Err(Fail::input(format!(
                "the filter does not cover this machine's architecture ({})",
                arches::short(native)
            )));
        }
    }
    let argv = argv_of(command)?;
    find_command(&command[0])?;
    let child = spawn(&program.prog, &argv, false)?;
    let status = child.wait()?;
    child.failure(&command[0])?;
    Ok(exit_code(status))
}

/// The signals that would end this process while the command runs. They are blocked here
/// and passed on to the command instead, as `sudo` and `timeout` do, so that `run` and
/// `learn` end when it ends, with its status, and `learn` writes its profile after a Ctrl-C
/// or a SIGTERM. One that the terminal sent (to the whole foreground process group, so the
/// command got it too) is not sent again.
const PASSED_ON: [libc::c_int; 6] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// The name of one of [`PASSED_ON`].
fn signal_name(sig: libc::c_int) -> String {
    match sig {
        libc::SIGHUP => "SIGHUP".into(),
        libc::SIGINT => "SIGINT".into(),
        libc::SIGQUIT => "SIGQUIT".into(),
        libc::SIGTERM => "SIGTERM".into(),
        libc::SIGUSR1 => "SIGUSR1".into(),
        libc::SIGUSR2 => "SIGUSR2".into(),
        _ => format!("signal {sig}"),
    }
}

/// `si_code` of a signal the kernel sent (the terminal's, for one); not in the libc crate.
const SI_KERNEL: i32 = 0x80;

/// [`PASSED_ON`] and SIGCHLD (to wake the waits), blocked, and read from a signalfd.
struct Signals {
    fd: OwnedFd,
    /// The mask before: the child's, restored in it before it loads the filter.
    before: libc::sigset_t,
}

impl Signals {
    fn block() -> Result<Self, Fail> {
        let fail = |what: &str, e: std::io::Error| Fail {
            code: CANNOT_START,
            msg: format!("{what}: {e}"),
        };
        // SAFETY: the sigset functions write the sets given; pthread_sigmask changes this
        // (only) thread's mask; signalfd returns a new descriptor or -1.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in PASSED_ON.iter().chain(&[libc::SIGCHLD]) {
                libc::sigaddset(&mut set, *sig);
            }
            let mut before: libc::sigset_t = std::mem::zeroed();
            let e = libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut before);
            if e != 0 {
                return Err(fail(
                    "pthread_sigmask",
                    std::io::Error::from_raw_os_error(e),
                ));
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
            if fd < 0 {
                let e = std::io::Error::last_os_error();
                libc::pthread_sigmask(libc::SIG_SETMASK, &before, std::ptr::null_mut());
                return Err(fail("signalfd", e));
            }
            Ok(Signals {
                fd: OwnedFd::from_raw_fd(fd),
                before,
            })
        }
    }

    /// Reads the signals that arrived and passes each one of [`PASSED_ON`] that the
    /// terminal did not send to `command`, if given; returns the first of them, whoever sent
    /// it (None: SIGCHLD only, or nothing).
    fn pass_on(&self, command: Option<libc::pid_t>) -> Option<libc::c_int> {
        let mut first = None;
        loop {
            // SAFETY: an all-zero signalfd_siginfo is valid; read writes at most its size.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: as above.
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    (&mut info as *mut libc::signalfd_siginfo).cast(),
                    size,
                )
            };
            if n != size as isize {
                return first;
            }
            let sig = info.ssi_signo as libc::c_int;
            if sig == libc::SIGCHLD {
                continue;
            }
            first.get_or_insert(sig);
            if let Some(pid) = command.filter(|_| info.ssi_code != SI_KERNEL) {
                // SAFETY: kill sends a signal to our own child, not yet reaped.
                unsafe { libc::kill(pid, sig) };
            }
        }
    }

    /// Waits (up to `timeout_ms`, -1: no limit) for a signal, or for `also` to be readable;
    /// returns poll's `revents` for `also` (0 after a signal or the timeout).
    fn wait(&self, also: Option<RawFd>, timeout_ms: libc::c_int) -> std::io::Result<libc::c_short> {
        let mut fds = [
            libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: also.unwrap_or(-1),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll reads and writes the pollfds given (a negative fd is skipped).
        if unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout_ms) } < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
            return Ok(0);
        }
        Ok(fds[1].revents)
    }
}

/// The command line as C strings for exec.
fn argv_of(command: &[OsString]) -> Result<Vec<CString>, Fail> {
    command
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Fail::input("the command or an argument holds a NUL byte"))
}

/// Finds the command as `execvp` will (through `PATH` when its name has no `/`), so that a
/// command that cannot start is reported before any filter is loaded and any child forked.
/// Exit code 127 when it is not found, 126 when it is not executable.
/// (A file `execvp` would still fail to run, a script whose `#!` interpreter is missing, is
/// reported by the child, [`Spawned::failure`].)
fn find_command(name: &OsString) -> Result<(), Fail> {
    let not_executable = |path: &Path, why: &str| Fail {
        code: 126,
        msg: format!("cannot run {:?}: {why}", path.to_string_lossy()),
    };
    let usable = |path: &Path| -> Option<Result<(), Fail>> {
        let meta = std::fs::metadata(path).ok()?;
        Some(if meta.is_dir() {
            Err(not_executable(path, "it is a directory"))
        } else if !executable(path) {
            Err(not_executable(path, "permission denied (not executable)"))
        } else {
            Ok(())
        })
    };
    let path = Path::new(name);
    if name.as_bytes().contains(&b'/') {
        return usable(path).unwrap_or_else(|| {
            Err(Fail {
                code: 127,
                msg: format!("cannot run {:?}: no such file", name.to_string_lossy()),
            })
        });
    }
    // execvp's search: the first executable file wins; if none, a file found but not
    // executable makes the error "permission denied" (126), else "not found" (127).
    let search = std::env::var_os("PATH").unwrap_or_else(|| "/bin:/usr/bin".into());
    let mut first_refusal = None;
    for dir in std::env::split_paths(&search) {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".").to_path_buf()
        } else {
            dir
        };
        match usable(&dir.join(path)) {
            Some(Ok(())) => return Ok(()),
            Some(Err(e)) => {
                first_refusal.get_or_insert(e);
            }
            None => {}
        }
    }
    Err(first_refusal.unwrap_or_else(|| Fail {
        code: 127,
        msg: format!(
            "cannot run {:?}: not found in PATH ({})",
            name.to_string_lossy(),
            search.to_string_lossy()
        ),
    }))
}

/// access(X_OK): whether this process may execute `path`.
fn executable(path: &Path) -> bool {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: access reads the NUL-terminated path given.
    unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
}

/// An `--args SYSCALL:INDEX` request.
struct ArgWatch {
    name: String,
    index: usize,
}

fn parse_watch(s: &str) -> Result<ArgWatch, Fail> {
    let (name, index) = s.split_once(':').unwrap_or((s, "0"));
    let index: usize = index
        .parse()
        .ok()
        .filter(|i| *i < 6)
        .ok_or_else(|| Fail::input(format!("--args {s:?}: the index must be 0 to 5")))?;
    if pure_seccomp::ScmpSyscall::from_name(name).is_err() {
        return Err(Fail::input(format!(
            "--args {s:?}: unknown syscall {name:?}"
        )));
    }
    Ok(ArgWatch {
        name: name.to_string(),
        index,
    })
}

/// What `learn` saw.
#[derive(Default)]
struct Seen {
    /// (ABI, number) -> calls.
    calls: BTreeMap<(ScmpArch, u32), u64>,
    /// (syscall name, argument index) -> values.
    values: BTreeMap<(String, usize), BTreeSet<u64>>,
    total: u64,
}

impl Seen {
    fn record(&mut self, abi: ScmpArch, nr: u32, args: [u64; 6], watches: &[ArgWatch]) {
        self.total += 1;
        *self.calls.entry((abi, nr)).or_default() += 1;
        if watches.is_empty() {
            return;
        }
        if let Some(name) = arches::syscall_name(abi, nr) {
            for w in watches.iter().filter(|w| w.name == name) {
                self.values
                    .entry((name.clone(), w.index))
                    .or_default()
                    .insert(args[w.index]);
            }
        }
    }
}

/// The filter `learn` runs the command under: `action` for every syscall of this machine's
/// ABIs.
fn learning_program(action: ScmpAction) -> Result<Vec<Instruction>, String> {
    let native = ScmpArch::native();
    if native == ScmpArch::Native {
        return Err("this machine's architecture is unknown to pure-seccomp".into());
    }
    let mut ctx = ScmpFilterContext::new(action).map_err(|e| e.to_string())?;
    for a in arches::companions(native) {
        ctx.add_arch(a).map_err(|e| e.to_string())?;
    }
    ctx.set_ctl_optimize(2).map_err(|e| e.to_string())?;
    let bytes = ctx.export_bpf_mem().map_err(|e| e.to_string())?;
    pure_seccomp::bpf::decode(&bytes, ctx.byte_order()).map_err(|e| e.to_string())
}

fn pidfd_open(pid: libc::pid_t) -> std::io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn pidfd_getfd(pidfd: &OwnedFd, target: RawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: pidfd_getfd takes a pidfd, a descriptor number in that process and flags; it
    // returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), target, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Whether this process may take descriptors from its children: pidfd_getfd on itself.
fn can_take_fds() -> bool {
    // SAFETY: getpid cannot fail.
    let me = unsafe { libc::getpid() };
    let Ok(pidfd) = pidfd_open(me) else {
        return false;
    };
    pidfd_getfd(&pidfd, pidfd.as_raw_fd()).is_ok()
}

/// The child's listener descriptor number, once it shows in /proc.
fn find_listener(pid: libc::pid_t) -> Option<RawFd> {
    let dir = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    for entry in dir.flatten() {
        if let Ok(target) = std::fs::read_link(entry.path()) {
            if target.as_os_str().as_bytes() == b"anon_inode:seccomp notify" {
                return entry.file_name().to_str()?.parse().ok();
            }
        }
    }
    None
}

/// A forked child that loads a filter and execs the command, with the read end of the
/// close-on-exec pipe it reports through if the filter does not load (EOF once the exec
/// succeeded or the child ended), and the page where it notes a failed exec.
struct Spawned {
    pid: libc::pid_t,
    report: OwnedFd,
    exec_errno: SharedWord,
    /// Blocked here since before the fork, passed on to the command.
    signals: Signals,
}

/// The report's first byte: the filter did not load (then its message).
const LOAD_FAILED: u8 = b'L';

/// A page shared with the forked child (anonymous, `MAP_SHARED`), holding one word: where
/// the child notes its exec's errno. A store needs no system call, so the note gets through
/// a filter that refuses `write` (a profile learned from `true`), where the report pipe
/// would stay silent. The exec unmaps the page from the command.
struct SharedWord(std::ptr::NonNull<AtomicU64>);

/// [`SharedWord`]'s value for "an exec failed with this errno".
const EXEC_FAILED: u64 = 1 << 32;

impl SharedWord {
    fn new() -> Result<Self, Fail> {
        let len = std::mem::size_of::<AtomicU64>();
        // SAFETY: a new anonymous mapping (zeroed, page-aligned), owned by the value
        // returned, unmapped once by its Drop.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        let fail = |why: String| Fail {
            code: CANNOT_START,
            msg: format!("mmap: {why}"),
        };
        if ptr == libc::MAP_FAILED {
            return Err(fail(std::io::Error::last_os_error().to_string()));
        }
        let ptr = std::ptr::NonNull::new(ptr.cast()).ok_or_else(|| fail("null mapping".into()))?;
        Ok(Self(ptr))
    }

    fn get(&self) -> &AtomicU64 {
        // SAFETY: the mapping is live while self is, zeroed (a valid AtomicU64) and aligned.
        unsafe { self.0.as_ref() }
    }
}

impl Drop for SharedWord {
    fn drop(&mut self) {
        // SAFETY: unmaps the mapping new() made; no reference to it outlives self.
        unsafe { libc::munmap(self.0.as_ptr().cast(), std::mem::size_of::<AtomicU64>()) };
    }
}

impl Spawned {
    /// Waits for the command to end, passing signals on to it.
    fn wait(&self) -> Result<std::process::ExitStatus, Fail> {
        loop {
            let mut status = 0;
            // SAFETY: non-blocking waitpid on our own child.
            let r = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
            if r == self.pid {
                return Ok(std::process::ExitStatus::from_raw(status));
            }
            if r < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(Fail {
                        code: CANNOT_START,
                        msg: format!("waitpid: {e}"),
                    });
                }
            }
            // (SIGCHLD is blocked since before the fork, so its end cannot slip past this.)
            self.signals.wait(None, -1).map_err(|e| Fail {
                code: CANNOT_START,
                msg: format!("poll: {e}"),
            })?;
            self.signals.pass_on(Some(self.pid));
        }
    }

    /// What the child reported, as the error to return: 125 if the filter did not load,
    /// 127 or 126 if the exec failed. Call once the child has exec'd or ended (the read
    /// waits for either): after waiting for it, or once it was supervised.
    fn failure(self, name: &OsString) -> Result<(), Fail> {
        use std::io::Read as _;
        let mut report = Vec::new();
        let _ = std::fs::File::from(self.report).read_to_end(&mut report);
        // (EOF: the child exec'd, the page then unmapped from it, or ended, after any note.)
        let note = self.exec_errno.get().load(Ordering::Acquire);
        match report.split_first() {
            Some((&LOAD_FAILED, msg)) => Err(Fail {
                code: CANNOT_START,
                msg: format!(
                    "cannot load the filter in the child: {}",
                    String::from_utf8_lossy(msg)
                ),
            }),
            _ if note & EXEC_FAILED != 0 => {
                let errno = note as u32 as i32;
                let e = std::io::Error::from_raw_os_error(errno);
                let mut msg = format!("cannot run {:?}: {e}", name.to_string_lossy());
                if errno == libc::ENOENT
                    && name.as_bytes().contains(&b'/')
                    && Path::new(name).exists()
                {
                    msg.push_str(
                        " (the file exists: is the interpreter its `#!` line names missing?)",
                    );
                }
                Err(Fail {
                    code: if errno == libc::ENOENT { 127 } else { 126 },
                    msg,
                })
            }
            _ => Ok(()),
        }
    }
}

/// Forks; the child loads `prog` (with a listener when `listener`) and execs `argv`. The
/// child never returns: if the filter does not load it writes why to the report pipe and
/// exits with 125; if the exec fails it notes the errno in the shared page and exits with
/// 127 or 126. The signals passed on to the command are blocked here first.
fn spawn(prog: &[Instruction], argv: &[CString], listener: bool) -> Result<Spawned, Fail> {
    let signals = Signals::block()?;
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let flags = LoadFlags::new().new_listener(listener);
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into the array given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(Fail {
            code: CANNOT_START,
            msg: format!("pipe2: {}", std::io::Error::last_os_error()),
        });
    }
    // SAFETY: both descriptors are new and owned here alone.
    let (report, tell) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let exec_errno = SharedWord::new()?;
    // Probe the kernel before forking.
    let _ = pure_seccomp::get_api();
    // SAFETY: fork in a process with one thread; the child only loads a prepared program
    // (the loader makes system calls) and execs with pointers prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Fail {
            code: CANNOT_START,
            msg: format!("fork: {}", std::io::Error::last_os_error()),
        });
    }
    if pid == 0 {
        // The command gets the signal mask this process had (before the filter, which would
        // notify or refuse the call).
        // SAFETY: sigprocmask reads the set given; this process has one thread.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &signals.before, std::ptr::null_mut()) };
        match pure_seccomp::load_bpf(prog, flags) {
            // Keep the listener open for the parent to copy; it is close-on-exec.
            Ok(fd) => std::mem::forget(fd),
            Err(e) => {
                let msg = [&[LOAD_FAILED][..], e.to_string().as_bytes()].concat();
                // SAFETY: write reads the bytes given (no filter is loaded); _exit ends the
                // child at once.
                unsafe {
                    libc::write(tell.as_raw_fd(), msg.as_ptr().cast(), msg.len());
                    libc::_exit(CANNOT_START as i32)
                }
            }
        }
        // SAFETY: argv and its pointers were prepared before the fork and are still valid.
        unsafe {
            libc::execvp(ptrs[0], ptrs.as_ptr());
            let e = *libc::__errno_location();
            exec_errno
                .get()
                .store(EXEC_FAILED | u64::from(e as u32), Ordering::Release);
            libc::_exit(if e == libc::ENOENT { 127 } else { 126 });
        }
    }
    drop(tell);
    Ok(Spawned {
        pid,
        report,
        exec_errno,
        signals,
    })
}

fn wait_child(pid: libc::pid_t) -> Result<std::process::ExitStatus, Fail> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes the status of our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Ok(std::process::ExitStatus::from_raw(status));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(Fail {
                code: CANNOT_START,
                msg: format!("waitpid: {e}"),
            });
        }
    }
}

/// Prints the progress line (on a terminal, rewritten in place).
struct Progress {
    tty: bool,
    last: Instant,
    shown: (usize, u64),
}

impl Progress {
    fn new() -> Self {
        // SAFETY: isatty only inspects the descriptor.
        let tty = unsafe { libc::isatty(2) } == 1;
        Progress {
            tty,
            last: Instant::now(),
            shown: (0, 0),
        }
    }

    fn tick(&mut self, seen: &Seen, force: bool) {
        let now = (seen.calls.len(), seen.total);
        let every = if self.tty {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(2)
        };
        if now == self.shown || (!force && self.last.elapsed() < every) {
            return;
        }
        self.last = Instant::now();
        self.shown = now;
        let line = format!("learn: {} distinct syscalls seen, {} calls", now.0, now.1);
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r{line}");
            if force {
                let _ = writeln!(err);
            }
        } else {
            let _ = writeln!(err, "{line}");
        }
    }
}

/// Supervises the child `pid` through its listener until no task uses the filter any more,
/// and returns the child's exit status if it was reaped meanwhile.
///
/// The command, and every descendant orphaned to this process (its subreaper,
/// [`become_subreaper`]), is reaped here as soon as it ends: some kernels (Debian 12's 6.1,
/// for one; not 6.18) release a task's filter, and so hang up the listener, only when the
/// task is reaped, so a zombie would keep the listener open for ever (tests/vm/ found
/// `learn` hanging there), whatever reaps orphans on this system. The command's
/// descendants may go on using the filter after it ends; they are supervised until they end
/// too.
fn supervise(
    pid: libc::pid_t,
    listener: &OwnedFd,
    signals: &Signals,
    watches: &[ArgWatch],
    seen: &mut Seen,
) -> Option<std::process::ExitStatus> {
    let fd = listener.as_raw_fd();
    let mut progress = Progress::new();
    let mut reaped = None;
    loop {
        loop {
            let mut status = 0;
            // SAFETY: non-blocking waitpid on any of our children (the command, and its
            // descendants orphaned to us); none is waited for elsewhere meanwhile.
            match unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) } {
                r if r == pid => reaped = Some(std::process::ExitStatus::from_raw(status)),
                r if r > 0 => {}
                _ => break,
            }
        }
        let Ok(revents) = signals.wait(Some(fd), 200) else {
            break;
        };
        // A signal goes to the command while it runs; once it has ended, it stops the
        // supervision of what it left running, which goes on without a supervisor.
        if let Some(sig) = signals.pass_on(reaped.is_none().then_some(pid)) {
            if reaped.is_some() {
                progress.tick(seen, true);
                eprintln!(
                    "learn: stopped by {}; what the command left running goes on \
                     unsupervised (its syscalls now fail with ENOSYS)",
                    signal_name(sig)
                );
                break;
            }
        }
        if revents & libc::POLLIN != 0 {
            match ScmpNotifReq::receive(fd) {
                Ok(req) => {
                    let nr = req.data.syscall.as_raw_syscall() as u32;
                    let abi = arches::abi_of_call(arches::audit(req.data.arch), nr)
                        .unwrap_or(req.data.arch);
                    seen.record(abi, nr, req.data.args, watches);
                    // ENOENT: the caller went away meanwhile; nothing to answer.
                    let _ = ScmpNotifResp::new_continue(req.id, ScmpNotifRespFlags::CONTINUE)
                        .respond(fd);
                }
                Err(_) => continue,
            }
        } else if revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
            break;
        }
        progress.tick(seen, false);
    }
    progress.tick(seen, true);
    reaped
}

/// The LOG fallback: the child runs with every call logged; the kernel's audit records
/// (`type=1326`) of the child are read back from /dev/kmsg.
fn learn_with_log(
    name: &OsString,
    argv: &[CString],
    watches: &[ArgWatch],
    seen: &mut Seen,
) -> Result<u8, Fail> {
    let prog = learning_program(ScmpAction::Log).map_err(|e| Fail {
        code: CANNOT_START,
        msg: format!("cannot build the LOG filter either: {e}"),
    })?;
    if !watches.is_empty() {
        eprintln!("warning: argument values are not logged by the kernel; --args is ignored");
    }
    let kmsg = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags_nonblock()
        .open("/dev/kmsg");
    let mut kmsg = match kmsg {
        Ok(mut f) => {
            use std::io::Seek;
            let _ = f.seek(std::io::SeekFrom::End(0));
            Some(f)
        }
        Err(e) => {
            eprintln!(
                "warning: cannot read the kernel log (/dev/kmsg: {e}); the profile will be empty"
            );
            None
        }
    };
    let child = spawn(&prog, argv, false)?;
    let pid = child.pid;
    let status = child.wait()?;
    child.failure(name)?;
    if let Some(f) = kmsg.as_mut() {
        use std::io::Read;
        let mut buf = vec![0u8; 8192];
        // /dev/kmsg returns one record per read; EAGAIN at the end.
        while let Ok(n) = f.read(&mut buf) {
            if n == 0 {
                break;
            }
            let line = String::from_utf8_lossy(&buf[..n]);
            if let Some((abi, nr)) = parse_audit_record(&line, pid) {
                seen.record(abi, nr, [0; 6], &[]);
            }
        }
    }
    eprintln!(
        "learn: {} distinct syscalls seen in the kernel log. The profile is likely \
         INCOMPLETE: without auditd the kernel rate-limits these records, and only the \
         command's own process is attributed; learn where user notification works",
        seen.calls.len()
    );
    Ok(exit_code(status))
}

/// `(ABI, number)` of a seccomp audit record (`type=1326 ... pid=N ... arch=c000003e
/// syscall=59`) of process `pid`.
fn parse_audit_record(line: &str, pid: libc::pid_t) -> Option<(ScmpArch, u32)> {
    if !line.contains("type=1326") {
        return None;
    }
    let field = |key: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .map(str::to_string)
    };
    if field("pid=")?.parse::<libc::pid_t>().ok()? != pid {
        return None;
    }
    let token = u32::from_str_radix(&field("arch=")?, 16).ok()?;
    let nr: u32 = field("syscall=")?.parse().ok()?;
    Some((arches::abi_of_call(token, nr)?, nr))
}

/// Opening /dev/kmsg without blocking reads.
trait NonBlock {
    fn custom_flags_nonblock(&mut self) -> &mut Self;
}

impl NonBlock for std::fs::OpenOptions {
    fn custom_flags_nonblock(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_NONBLOCK)
    }
}

/// `learn [-o PROFILE] [--args SYSCALL:INDEX]... -- COMMAND...`.
pub fn learn(output: Option<&Path>, args: &[String], command: &[OsString]) -> Result<u8, Fail> {
    let watches = args
        .iter()
        .map(|a| parse_watch(a))
        .collect::<Result<Vec<_>, _>>()?;
    let argv = argv_of(command)?;
    find_command(&command[0])?;
    let mut seen = Seen::default();
    // PURE_SECCOMP_LEARN_MODE=log forces the fallback, to test it where notification works.
    // (API level 5: the kernel has user notification and lets this process use seccomp(2);
    // building the filter does not ask the kernel, loading it would fail in the child.)
    let api = pure_seccomp::get_api();
    let notify = if std::env::var("PURE_SECCOMP_LEARN_MODE").as_deref() == Ok("log") {
        Err("PURE_SECCOMP_LEARN_MODE=log".to_string())
    } else if api < 5 {
        Err(format!(
            "API level {api}: a kernel older than 5.0, or seccomp(2) refused to this process"
        ))
    } else {
        learning_program(ScmpAction::Notify)
    };
    let code = match notify {
        Ok(prog) if can_take_fds() => {
            learn_with_notify(&prog, &command[0], &argv, &watches, &mut seen)?
        }
        other => {
            let why = match other {
                Err(e) => format!("user notification is unavailable ({e})"),
                Ok(_) => "this process may not take descriptors from its children \
                          (pidfd_getfd)"
                    .to_string(),
            };
            eprintln!("warning: {why}; falling back to the LOG action and the kernel log");
            learn_with_log(&command[0], &argv, &watches, &mut seen)?
        }
    };
    // Per ABI: the profile's names are their union (an OCI profile cannot restrict a name to
    // one sub-architecture), so say here what each ABI used.
    let mut per_abi: BTreeMap<&str, usize> = BTreeMap::new();
    for (abi, _) in seen.calls.keys() {
        *per_abi.entry(arches::short(*abi)).or_default() += 1;
    }
    if !per_abi.is_empty() {
        eprintln!(
            "learn: syscalls per ABI: {}",
            per_abi
                .iter()
                .map(|(a, n)| format!("{a} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let profile = profile(&seen, &watches);
    let text = serde_json::to_string_pretty(&profile).unwrap_or_default() + "\n";
    match output.filter(|p| p.as_os_str() != "-") {
        Some(p) => {
            std::fs::write(p, text)
                .map_err(|e| Fail::input(format!("cannot write {}: {e}", p.display())))?;
            eprintln!(
                "learn: wrote {} ({} syscalls on {})",
                p.display(),
                profile["syscalls"][0]["names"]
                    .as_array()
                    .map_or(0, |a| a.len()),
                profile["architectures"]
                    .as_array()
                    .map(|a| a
                        .iter()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default()
            );
        }
        None => print!("{text}"),
    }
    if code != 0 {
        eprintln!("learn: the command exited with status {code}");
    }
    Ok(code)
}

/// Makes this process the subreaper of the command's descendants: those orphaned while the
/// filter is supervised become its children, which [`supervise`] reaps (where nothing else
/// would, as a container's init that reaps nothing, a 6.1 kernel would never hang up).
fn become_subreaper() -> Result<(), Fail> {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes a flag and changes only this process.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return Err(Fail {
            code: CANNOT_START,
            msg: format!(
                "prctl(PR_SET_CHILD_SUBREAPER): {}",
                std::io::Error::last_os_error()
            ),
        });
    }
    Ok(())
}

fn learn_with_notify(
    prog: &[Instruction],
    name: &OsString,
    argv: &[CString],
    watches: &[ArgWatch],
    seen: &mut Seen,
) -> Result<u8, Fail> {
    become_subreaper()?;
    let child = spawn(prog, argv, true)?;
    let pid = child.pid;
    let pidfd = pidfd_open(pid).map_err(|e| Fail {
        code: CANNOT_START,
        msg: format!("pidfd_open: {e}"),
    })?;
    // The child's next syscall after loading waits for us: its listener stays put until we
    // have copied it. Stop looking if the child ends first (the load failed).
    let start = Instant::now();
    let listener = loop {
        if let Some(n) = find_listener(pid) {
            match pidfd_getfd(&pidfd, n) {
                Ok(fd) => break fd,
                Err(e) => {
                    // SAFETY: kill and waitpid on our own child.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    let _ = wait_child(pid);
                    return Err(Fail {
                        code: CANNOT_START,
                        msg: format!("pidfd_getfd of the child's listener: {e}"),
                    });
                }
            }
        }
        let mut status = 0;
        // SAFETY: non-blocking waitpid on our own child.
        if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
            child.failure(name)?;
            let st = std::process::ExitStatus::from_raw(status);
            return Err(Fail {
                code: CANNOT_START,
                msg: format!("the child ended before its filter was in place ({st})"),
            });
        }
        if start.elapsed() > Duration::from_secs(10) {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = wait_child(pid);
            return Err(Fail {
                code: CANNOT_START,
                msg: "the child's listener did not show up in /proc within 10 s".into(),
            });
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let status = match supervise(pid, &listener, &child.signals, watches, seen) {
        Some(status) => status,
        None => child.wait()?,
    };
    // (A failed exec: no profile, which would hold only the exec and the exit.)
    child.failure(name)?;
    Ok(exit_code(status))
}

/// The minimal OCI profile allowing what was seen.
fn profile(seen: &Seen, watches: &[ArgWatch]) -> serde_json::Value {
    let native = ScmpArch::native();
    let mut abis: Vec<ScmpArch> = seen.calls.keys().map(|(a, _)| *a).collect();
    abis.sort_by_key(|&a| (a != native, a.to_string()));
    abis.dedup();
    let mut names = BTreeSet::new();
    for &(abi, nr) in seen.calls.keys() {
        if let Some(n) = arches::syscall_name(abi, nr) {
            names.insert(n);
        }
    }
    let mut syscalls = Vec::new();
    let watched: BTreeSet<&str> = watches.iter().map(|w| w.name.as_str()).collect();
    let plain: Vec<&String> = names
        .iter()
        .filter(|n| !watched.contains(n.as_str()))
        .collect();
    syscalls.push(json!({"names": plain, "action": "SCMP_ACT_ALLOW"}));
    for ((name, index), values) in &seen.values {
        for v in values {
            syscalls.push(json!({
                "names": [name],
                "action": "SCMP_ACT_ALLOW",
                "args": [{"index": index, "value": v, "op": "SCMP_CMP_EQ"}],
            }));
        }
    }
    json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": abis.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        "syscalls": syscalls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_records() {
        let line = "6,1234,5678,-;audit: type=1326 audit(1.2:3): auid=0 uid=0 gid=0 ses=1 \
                    pid=42 comm=\"true\" exe=\"/bin/true\" sig=0 arch=c000003e syscall=59 \
                    compat=0 ip=0x7f code=0x7ffc0000";
        assert_eq!(
            parse_audit_record(line, 42),
            Some((ScmpArch::X8664, 59)).filter(|_| true)
        );
        assert_eq!(parse_audit_record(line, 43), None);
        assert_eq!(parse_audit_record("type=1300 pid=42", 42), None);
    }

    #[test]
    fn profile_shape() {
        let mut seen = Seen::default();
        let w = vec![parse_watch("socket:0").unwrap()];
        let sock = arches::syscall_number(ScmpArch::X8664, "socket").unwrap();
        seen.record(ScmpArch::X8664, 59, [0; 6], &w);
        seen.record(ScmpArch::X8664, sock, [1, 0, 0, 0, 0, 0], &w);
        seen.record(ScmpArch::X8664, sock, [2, 0, 0, 0, 0, 0], &w);
        let p = profile(&seen, &w);
        assert_eq!(p["syscalls"][0]["names"], json!(["execve"]));
        assert_eq!(p["syscalls"].as_array().unwrap().len(), 3);
        assert_eq!(p["syscalls"][2]["args"][0]["value"], json!(2));
        assert!(parse_watch("socket:9").is_err());
        assert!(parse_watch("nosuch:0").is_err());
    }
}
