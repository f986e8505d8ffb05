//! The checks of `kernel_load.rs` and `notify.rs`, with filters built and loaded through
//! `ScmpFilterContext` (compiler + loader end to end). Every load happens in a forked child.

mod kernel_util;

use kernel_util::*;
use pure_seccomp::error::SeccompErrno;
use pure_seccomp::*;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

const GETPPID: libc::c_long = libc::SYS_getppid;

fn getppid() -> ScmpSyscall {
    ScmpSyscall::from_name("getppid").unwrap()
}

/// Loads a filter: `default` for everything, `action` for getppid.
fn load_rule(default: ScmpAction, action: ScmpAction) -> Result<ScmpFilterContext, String> {
    let mut ctx = ScmpFilterContext::new(default).map_err(|e| format!("new: {e}"))?;
    ctx.add_rule(action, getppid())
        .map_err(|e| format!("add_rule: {e}"))?;
    ctx.load().map_err(|e| format!("load: {e}"))?;
    Ok(ctx)
}

#[test]
fn ctx_errno_returns_minus_errno() {
    require_kernel!();
    run_ok(|| {
        load_rule(ScmpAction::Allow, ScmpAction::Errno(77))?;
        ensure!(syscall0(GETPPID) == Err(77), "{:?}", syscall0(GETPPID));
        ensure!(syscall0(libc::SYS_getpid).is_ok(), "getpid");
        Ok(())
    });
}

#[test]
fn ctx_conditional_errno() {
    require_kernel!();
    run_ok(|| {
        let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).map_err(|e| e.to_string())?;
        ctx.add_rule_conditional(ScmpAction::Errno(5), getppid(), &[scmp_cmp!($arg0 == 7)])
            .map_err(|e| e.to_string())?;
        ctx.load().map_err(|e| e.to_string())?;
        let with = |a: libc::c_long| unsafe { libc::syscall(GETPPID, a) };
        ensure!(with(7) == -1, "arg0 == 7 not filtered");
        ensure!(with(8) == real_ppid(), "arg0 == 8 filtered");
        Ok(())
    });
}

#[test]
fn ctx_allow_and_log_allow() {
    require_kernel!();
    run_ok(|| {
        // getppid takes the default action, Allow.
        let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).map_err(|e| e.to_string())?;
        ctx.add_rule(
            ScmpAction::Errno(1),
            ScmpSyscall::from_name("getpgid").unwrap(),
        )
        .map_err(|e| e.to_string())?;
        ctx.load().map_err(|e| e.to_string())?;
        ensure!(syscall0(GETPPID) == Ok(real_ppid()), "allow");
        Ok(())
    });
    run_ok(|| {
        load_rule(ScmpAction::Allow, ScmpAction::Log)?;
        ensure!(syscall0(GETPPID) == Ok(real_ppid()), "log");
        Ok(())
    });
}

#[test]
fn ctx_kill_thread_and_kill_process_kill_with_sigsys() {
    require_kernel!();
    let child = in_child(|| {
        load_rule(ScmpAction::Allow, ScmpAction::KillThread)?;
        let _ = syscall0(GETPPID);
        Err("survived KillThread".into())
    });
    assert_eq!(child.exit, Exit::Signal(libc::SIGSYS), "{}", child.message);

    run_ok(|| {
        load_rule(ScmpAction::Allow, ScmpAction::KillThread)?;
        static AFTER: AtomicBool = AtomicBool::new(false);
        let before = thread_count();
        std::thread::spawn(|| {
            let _ = syscall0(GETPPID);
            AFTER.store(true, Ordering::SeqCst);
        });
        ensure!(wait_until(|| thread_count() == before), "thread not killed");
        ensure!(!AFTER.load(Ordering::SeqCst), "thread survived");
        Ok(())
    });

    let child = in_child(|| {
        load_rule(ScmpAction::Allow, ScmpAction::KillProcess)?;
        std::thread::spawn(|| {
            let _ = syscall0(GETPPID);
        });
        std::thread::sleep(std::time::Duration::from_secs(10));
        Err("survived KillProcess".into())
    });
    assert_eq!(child.exit, Exit::Signal(libc::SIGSYS), "{}", child.message);
}

static TRAP_NR: AtomicI32 = AtomicI32::new(-1);

#[repr(C)]
struct SigsysInfo {
    signo: libc::c_int,
    errno: libc::c_int,
    code: libc::c_int,
    call_addr: *mut libc::c_void,
    syscall: libc::c_int,
    arch: libc::c_uint,
}

type SigsysHandler = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void);

extern "C" fn on_sigsys(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    unsafe { TRAP_NR.store((*(info as *const SigsysInfo)).syscall, Ordering::SeqCst) };
}

#[test]
fn ctx_trap_delivers_sigsys_with_the_syscall_number() {
    require_kernel!();
    run_ok(|| {
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_sigsys as SigsysHandler as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut());
        }
        load_rule(ScmpAction::Allow, ScmpAction::Trap)?;
        let _ = syscall0(GETPPID);
        let nr = TRAP_NR.load(Ordering::SeqCst);
        ensure!(nr == getppid().as_raw_syscall(), "si_syscall {nr}");
        Ok(())
    });
}

#[test]
fn ctx_export_bpf_mem_loads_with_load_bpf_bytes() {
    require_kernel!();
    run_ok(|| {
        let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).map_err(|e| e.to_string())?;
        ctx.add_rule(ScmpAction::Errno(12), getppid())
            .map_err(|e| e.to_string())?;
        let bytes = ctx.export_bpf_mem().map_err(|e| e.to_string())?;
        load_bpf_bytes(&bytes, LoadFlags::new()).map_err(|e| e.to_string())?;
        ensure!(syscall0(GETPPID) == Err(12), "not filtered");
        Ok(())
    });
}

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

fn wait_code(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    }
}

fn serve(
    fd: RawFd,
    target: libc::pid_t,
    resp: impl Fn(u64) -> ScmpNotifResp,
) -> Result<(), String> {
    let req = ScmpNotifReq::receive(fd).map_err(|e| format!("receive: {e}"))?;
    ensure!(req.pid == target as u32, "pid {}", req.pid);
    ensure!(req.data.syscall == getppid(), "{req:?}");
    ensure!(req.data.arch == ScmpArch::native(), "{req:?}");
    notify_id_valid(fd, req.id).map_err(|e| e.to_string())?;
    resp(req.id)
        .respond(fd)
        .map_err(|e| format!("respond: {e}"))
}

#[test]
fn ctx_notify_round_trip_with_the_process_listener() {
    require_kernel!();
    run_ok(|| {
        let ctx = load_rule(ScmpAction::Allow, ScmpAction::Notify)?;
        let fd = ctx
            .get_notify_fd()
            .map_err(|e| format!("get_notify_fd: {e}"))?;
        let me = std::process::id() as libc::c_long;
        let target = spawn_target(fd, move || {
            if syscall0(GETPPID) != Ok(4242) {
                return 1;
            }
            if syscall0(GETPPID) != Err(libc::EPERM) {
                return 2;
            }
            if syscall0(GETPPID) != Ok(me) {
                return 3;
            }
            0
        });
        let empty = ScmpNotifRespFlags::empty();
        serve(fd, target, |id| ScmpNotifResp::new_val(id, 4242, empty))?;
        serve(fd, target, |id| {
            ScmpNotifResp::new_error(id, -libc::EPERM, empty)
        })?;
        serve(fd, target, |id| ScmpNotifResp::new_continue(id, empty))?;
        let code = wait_code(target);
        ensure!(code == 0, "target exit {code}");

        // One listener per process: a second Notify filter loads without a new one.
        let ctx2 = load_rule(ScmpAction::Allow, ScmpAction::Notify)?;
        ensure!(ctx2.get_notify_fd().ok() == Some(fd), "listener changed");
        reset_global_state().map_err(|e| e.to_string())?;
        let e = ctx2.get_notify_fd().unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::EFAULT), "{e:?}");
        Ok(())
    });
}

/// README, deliberate differences, 10: a filter merged in brings its `Notify` rules' need of
/// a listener along (libseccomp 2.5.4 keeps the destination's: its filter then loads without
/// one, the notified call fails with `ENOSYS` and `seccomp_notify_fd` has no descriptor).
#[test]
fn ctx_merged_notify_rule_gets_a_listener() {
    require_kernel!();
    run_ok(|| {
        // The destination covers another architecture (of the native byte order: filters of
        // two byte orders do not merge); the source, the native one with the `Notify` rule.
        let other = match ScmpArch::native() {
            ScmpArch::X8664 => ScmpArch::X86,
            ScmpArch::Aarch64 => ScmpArch::Arm,
            ScmpArch::S390X => ScmpArch::S390,
            _ if cfg!(target_endian = "big") => ScmpArch::S390X,
            _ => ScmpArch::X8664,
        };
        let mut dst = ScmpFilterContext::new(ScmpAction::Allow).map_err(|e| e.to_string())?;
        dst.remove_arch(ScmpArch::native())
            .map_err(|e| e.to_string())?;
        dst.add_arch(other).map_err(|e| e.to_string())?;
        let mut src = ScmpFilterContext::new(ScmpAction::Allow).map_err(|e| e.to_string())?;
        src.add_rule(ScmpAction::Notify, getppid())
            .map_err(|e| e.to_string())?;
        dst.merge(src).map_err(|e| format!("merge: {e}"))?;
        dst.load().map_err(|e| format!("load: {e}"))?;
        let fd = dst
            .get_notify_fd()
            .map_err(|e| format!("get_notify_fd: {e}"))?;
        let target = spawn_target(fd, || (syscall0(GETPPID) != Ok(77)) as i32);
        serve(fd, target, |id| {
            ScmpNotifResp::new_val(id, 77, ScmpNotifRespFlags::empty())
        })?;
        let code = wait_code(target);
        ensure!(code == 0, "target exit {code}");
        Ok(())
    });
}

#[test]
fn ctx_load_with_listener_returns_this_filters_listener() {
    require_kernel!();
    run_ok(|| {
        let mut plain = ScmpFilterContext::new(ScmpAction::Allow).map_err(|e| e.to_string())?;
        plain
            .add_rule(
                ScmpAction::Errno(3),
                ScmpSyscall::from_name("getpgid").unwrap(),
            )
            .map_err(|e| e.to_string())?;
        let none = plain.load_with_listener().map_err(|e| e.to_string())?;
        ensure!(none.is_none(), "listener for a filter without Notify");

        let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).map_err(|e| e.to_string())?;
        ctx.add_rule(ScmpAction::Notify, getppid())
            .map_err(|e| e.to_string())?;
        let listener = ctx
            .load_with_listener()
            .map_err(|e| e.to_string())?
            .ok_or("no listener")?;
        // Not stored process-wide.
        ensure!(ctx.get_notify_fd().is_err(), "listener stored globally");
        let fd = listener.as_raw_fd();
        let target = spawn_target(fd, || (syscall0(GETPPID) != Ok(31)) as i32);
        serve(fd, target, |id| {
            ScmpNotifResp::new_val(id, 31, ScmpNotifRespFlags::empty())
        })?;
        let code = wait_code(target);
        ensure!(code == 0, "target exit {code}");
        Ok(())
    });
}
