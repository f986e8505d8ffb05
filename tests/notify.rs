//! User notification on the running kernel, with listeners from `load_bpf`. Each test runs
//! a supervisor in a forked child, and the notified syscalls in a grandchild.

mod kernel_util;

use kernel_util::*;
use pure_seccomp::error::SeccompErrno;
use pure_seccomp::*;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};

const GETPPID: libc::c_long = libc::SYS_getppid;

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

fn write_all(fd: RawFd, data: &[u8]) {
    assert_eq!(
        unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) },
        data.len() as isize
    );
}

fn read2(fd: RawFd) -> Option<[u8; 2]> {
    let mut b = [0u8; 2];
    (unsafe { libc::read(fd, b.as_mut_ptr().cast(), 2) } == 2).then_some(b)
}

/// A listener for a filter that notifies on getppid.
fn notify_getppid(flags: LoadFlags) -> Result<OwnedFd, String> {
    load_bpf(&filter(&[(GETPPID, RET_USER_NOTIF)], RET_ALLOW), flags)
        .map_err(|e| format!("load_bpf: {e}"))?
        .ok_or_else(|| "no listener".to_string())
}

/// Forks a target that closes `listener` and runs `f`, exiting with its result.
fn spawn_target(listener: RawFd, f: impl FnOnce() -> i32) -> libc::pid_t {
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        unsafe { libc::close(listener) };
        let code = f();
        unsafe { libc::_exit(code) };
    }
    pid
}

fn wait_exit(pid: libc::pid_t) -> Exit {
    let mut status = 0;
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    if libc::WIFEXITED(status) {
        Exit::Code(libc::WEXITSTATUS(status))
    } else {
        Exit::Signal(libc::WTERMSIG(status))
    }
}

fn receive(fd: RawFd, target: libc::pid_t) -> Result<ScmpNotifReq, String> {
    let req = ScmpNotifReq::receive(fd).map_err(|e| format!("receive: {e}"))?;
    ensure!(
        req.data.syscall == ScmpSyscall::from_name("getppid").unwrap(),
        "{req:?}"
    );
    ensure!(req.data.arch == ScmpArch::native(), "{req:?}");
    ensure!(req.pid == target as u32, "pid {} want {target}", req.pid);
    notify_id_valid(fd, req.id).map_err(|e| format!("id_valid: {e}"))?;
    Ok(req)
}

#[test]
fn round_trip_value_error_continue_and_addfd() {
    require_kernel!(5);
    run_ok(|| {
        let listener = notify_getppid(LoadFlags::new().new_listener(true))?;
        let lfd = listener.as_raw_fd();
        let (r, w) = pipe();
        write_all(w.as_raw_fd(), b"hi");
        let me = std::process::id() as libc::c_long;
        let target = spawn_target(lfd, move || {
            // 1: a value; the arguments travel in seccomp_data.
            let a: [libc::c_long; 6] = [11, 22, 33, 44, 55, 66];
            if unsafe { libc::syscall(GETPPID, a[0], a[1], a[2], a[3], a[4], a[5]) } != 4242 {
                return 11;
            }
            // 2: an error
            if syscall0(GETPPID) != Err(libc::EPERM) {
                return 12;
            }
            // 3: CONTINUE runs the real syscall
            if syscall0(GETPPID) != Ok(me) {
                return 13;
            }
            // 4: ADDFD with SEND: the result is the new descriptor, close-on-exec.
            let Ok(n) = syscall0(GETPPID) else { return 14 };
            let n = n as RawFd;
            if unsafe { libc::fcntl(n, libc::F_GETFD) } & libc::FD_CLOEXEC == 0 {
                return 15;
            }
            if read2(n) != Some(*b"hi") {
                return 16;
            }
            // 5: ADDFD at a chosen number, answered separately.
            if syscall0(GETPPID) != Ok(77) {
                return 17;
            }
            if unsafe { libc::fcntl(77, libc::F_GETFD) } != 0 || read2(77) != Some(*b"yo") {
                return 18;
            }
            0
        });

        let req = receive(lfd, target)?;
        ensure!(
            req.data.args == [11, 22, 33, 44, 55, 66],
            "args {:?}",
            req.data.args
        );
        ensure!(req.flags == 0, "flags {}", req.flags);
        ScmpNotifResp::new_val(req.id, 4242, ScmpNotifRespFlags::empty())
            .respond(lfd)
            .map_err(|e| e.to_string())?;

        let req = receive(lfd, target)?;
        ScmpNotifResp::new_error(req.id, -libc::EPERM, ScmpNotifRespFlags::empty())
            .respond(lfd)
            .map_err(|e| e.to_string())?;

        let req = receive(lfd, target)?;
        ScmpNotifResp::new_continue(req.id, ScmpNotifRespFlags::empty())
            .respond(lfd)
            .map_err(|e| e.to_string())?;

        let req = receive(lfd, target)?;
        let n = ScmpNotifAddfd::new(req.id, r.as_raw_fd())
            .cloexec(true)
            .send(true)
            .add(lfd)
            .map_err(|e| format!("addfd send: {e}"))?;
        ensure!(n >= 0, "remote fd {n}");
        // SEND answered it already.
        let e = ScmpNotifResp::new_val(req.id, 0, ScmpNotifRespFlags::empty())
            .respond(lfd)
            .unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::ECANCELED), "{e:?}");

        let req = receive(lfd, target)?;
        write_all(w.as_raw_fd(), b"yo");
        let n = ScmpNotifAddfd::new(req.id, r.as_raw_fd())
            .newfd(77)
            .add(lfd)
            .map_err(|e| format!("addfd setfd: {e}"))?;
        ensure!(n == 77, "remote fd {n}");
        ScmpNotifResp::new_val(req.id, n.into(), ScmpNotifRespFlags::empty())
            .respond(lfd)
            .map_err(|e| e.to_string())?;

        let exit = wait_exit(target);
        ensure!(exit == Exit::Code(0), "target: {exit:?}");
        let e = notify_id_valid(lfd, req.id).unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::ENOENT), "{e:?}");
        Ok(())
    });
}

#[test]
fn wait_killable_recv_and_tsync_with_a_listener() {
    require_kernel!(7);
    run_ok(|| {
        let listener = notify_getppid(
            LoadFlags::new()
                .tsync(true)
                .new_listener(true)
                .wait_killable_recv(true),
        )?;
        let lfd = listener.as_raw_fd();
        let target = spawn_target(lfd, || (syscall0(GETPPID) != Ok(5)) as i32);
        let req = receive(lfd, target)?;
        ScmpNotifResp::new_val(req.id, 5, ScmpNotifRespFlags::empty())
            .respond(lfd)
            .map_err(|e| e.to_string())?;
        let exit = wait_exit(target);
        ensure!(exit == Exit::Code(0), "target: {exit:?}");
        Ok(())
    });
}

static SIGNALS: AtomicUsize = AtomicUsize::new(0);
extern "C" fn count_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn receive_retries_after_a_signal() {
    require_kernel!(5);
    run_ok(|| {
        // A handler without SA_RESTART: the blocked ioctl fails with EINTR.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = count_signal as extern "C" fn(libc::c_int) as usize;
            ensure!(
                libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()) == 0,
                "sigaction"
            );
        }
        let listener = notify_getppid(LoadFlags::new().new_listener(true))?;
        let lfd = listener.as_raw_fd();
        let supervisor = std::process::id() as libc::pid_t;
        let target = spawn_target(lfd, move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            unsafe { libc::kill(supervisor, libc::SIGUSR1) };
            std::thread::sleep(std::time::Duration::from_millis(100));
            (syscall0(GETPPID) != Ok(6)) as i32
        });
        let req = receive(lfd, target)?;
        ensure!(SIGNALS.load(Ordering::SeqCst) == 1, "no signal arrived");
        ScmpNotifResp::new_val(req.id, 6, ScmpNotifRespFlags::empty())
            .respond(lfd)
            .map_err(|e| e.to_string())?;
        let exit = wait_exit(target);
        ensure!(exit == Exit::Code(0), "target: {exit:?}");
        Ok(())
    });
}

#[test]
fn answering_a_dead_caller_fails() {
    require_kernel!(5);
    run_ok(|| {
        let listener = notify_getppid(LoadFlags::new().new_listener(true))?;
        let lfd = listener.as_raw_fd();
        let target = spawn_target(lfd, || syscall0(GETPPID).is_ok() as i32);
        let req = receive(lfd, target)?;
        unsafe { libc::kill(target, libc::SIGKILL) };
        let exit = wait_exit(target);
        ensure!(exit == Exit::Signal(libc::SIGKILL), "{exit:?}");
        let e = notify_id_valid(lfd, req.id).unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::ENOENT), "{e:?}");
        let e = ScmpNotifResp::new_val(req.id, 1, ScmpNotifRespFlags::empty())
            .respond(lfd)
            .unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::ECANCELED), "{e:?}");
        ensure!(e.to_string().contains("os error 2"), "{e}");
        let (r, _w) = pipe();
        let e = ScmpNotifAddfd::new(req.id, r.as_raw_fd())
            .add(lfd)
            .unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::ENOENT), "{e:?}");
        Ok(())
    });
}

#[test]
fn no_listener_without_a_loaded_notify_filter() {
    require_kernel!(5);
    run_ok(|| {
        let ctx = ScmpFilterContext::new(ScmpAction::Allow).map_err(|e| e.to_string())?;
        let e = ctx.get_notify_fd().unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::EFAULT), "{e:?}");
        Ok(())
    });
}

#[test]
fn calls_on_a_descriptor_that_is_not_a_listener_fail() {
    require_kernel!(5);
    // Nothing is loaded here: safe in the test process.
    let null = std::fs::File::open("/dev/null").unwrap();
    let fd = null.as_raw_fd();
    let e = ScmpNotifReq::receive(fd).unwrap_err();
    assert_eq!(e.errno(), Some(SeccompErrno::ECANCELED), "{e:?}");
    assert!(e.to_string().contains("NOTIF_RECV"), "{e}");
    let e = ScmpNotifResp::new(0, 0, 0, 0).respond(fd).unwrap_err();
    assert_eq!(e.errno(), Some(SeccompErrno::ECANCELED), "{e:?}");
    let e = notify_id_valid(fd, 0).unwrap_err();
    assert_eq!(e.errno(), Some(SeccompErrno::ENOENT), "{e:?}");
    let e = ScmpNotifAddfd::new(0, fd).add(fd).unwrap_err();
    assert_eq!(e.sysrawrc(), Some(-libc::ENOTTY), "{e:?}");
    assert!(ScmpNotifReq::receive(-1).is_err());
}

#[test]
fn response_constructors() {
    assert_eq!(
        ScmpNotifResp::new_val(1234, 1, ScmpNotifRespFlags::empty()),
        ScmpNotifResp::new(1234, 1, 0, 0),
    );
    assert_eq!(
        ScmpNotifResp::new_error(1234, -2, ScmpNotifRespFlags::empty()),
        ScmpNotifResp::new(1234, 0, -2, 0),
    );
    assert_eq!(
        ScmpNotifResp::new_continue(1234, ScmpNotifRespFlags::empty()),
        ScmpNotifResp::new(1234, 0, 0, ScmpNotifRespFlags::CONTINUE.bits()),
    );
}
