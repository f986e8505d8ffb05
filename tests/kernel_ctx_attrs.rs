//! Load flags through `ScmpFilterContext` attributes (TSYNC, LOG, SSB, WAITKILL, NNP,
//! SYSRAWRC) on the running kernel. Every load happens in a forked child.
//!
//! PENDING: needs the attribute setters of `ScmpFilterContext` (`set_ctl_tsync`, ...);
//! move this file to `tests/` once they exist.

mod kernel_util;

use kernel_util::*;
use pure_seccomp::error::SeccompErrno;
use pure_seccomp::*;
use std::sync::mpsc;

const GETPPID: libc::c_long = libc::SYS_getppid;

fn ctx(action: ScmpAction) -> Result<ScmpFilterContext, String> {
    let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).map_err(|e| format!("new: {e}"))?;
    ctx.add_rule(action, ScmpSyscall::from_name("getppid").unwrap())
        .map_err(|e| format!("add_rule: {e}"))?;
    Ok(ctx)
}

#[test]
fn ctx_tsync_applies_to_all_threads() {
    require_kernel!();
    run_ok(|| {
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (res_tx, res_rx) = mpsc::channel();
        let t = std::thread::spawn(move || {
            go_rx.recv().unwrap();
            res_tx.send(syscall0(GETPPID)).unwrap();
        });
        let mut c = ctx(ScmpAction::Errno(66))?;
        c.set_ctl_tsync(true).map_err(|e| e.to_string())?;
        c.load().map_err(|e| format!("load: {e}"))?;
        go_tx.send(()).unwrap();
        let r = res_rx.recv().unwrap();
        t.join().unwrap();
        ensure!(r == Err(66), "other thread got {r:?}");
        Ok(())
    });
}

#[test]
fn ctx_tsync_failure_is_esrch() {
    require_kernel!();
    run_ok(|| {
        let (loaded_tx, loaded_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            let r = ctx(ScmpAction::Errno(1)).and_then(|c| c.load().map_err(|e| e.to_string()));
            loaded_tx.send(r).unwrap();
            done_rx.recv().unwrap();
        });
        loaded_rx.recv().unwrap()?;
        let mut c = ctx(ScmpAction::Errno(66))?;
        c.set_ctl_tsync(true).map_err(|e| e.to_string())?;
        let e = c.load().unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::ESRCH), "{e:?}");
        ensure!(syscall0(GETPPID) == Ok(real_ppid()), "loaded anyway");
        done_tx.send(()).unwrap();
        t.join().unwrap();
        Ok(())
    });
}

#[test]
fn ctx_log_ssb_and_waitkill_flags_are_accepted() {
    require_kernel!();
    run_ok(|| {
        let mut c = ctx(ScmpAction::Errno(9))?;
        c.set_ctl_log(true).map_err(|e| e.to_string())?;
        c.set_ctl_ssb(true).map_err(|e| e.to_string())?;
        c.load().map_err(|e| format!("load: {e}"))?;
        ensure!(syscall0(GETPPID) == Err(9), "not filtered");
        Ok(())
    });
    if get_api() < 7 {
        return;
    }
    run_ok(|| {
        let mut c = ctx(ScmpAction::Notify)?;
        c.set_ctl_waitkill(true).map_err(|e| e.to_string())?;
        c.set_ctl_tsync(true).map_err(|e| e.to_string())?;
        let listener = c
            .load_with_listener()
            .map_err(|e| format!("load: {e}"))?
            .ok_or("no listener")?;
        drop(listener);
        // Without a listener, notified syscalls fail with ENOSYS.
        ensure!(
            syscall0(GETPPID) == Err(libc::ENOSYS),
            "{:?}",
            syscall0(GETPPID)
        );
        Ok(())
    });
}

#[test]
fn ctx_nnp_and_sysrawrc() {
    require_kernel!();
    run_ok(|| {
        if unsafe { libc::geteuid() } == 0 {
            ensure!(unsafe { libc::setgid(65534) } == 0, "setgid");
            ensure!(unsafe { libc::setuid(65534) } == 0, "setuid");
        }
        let mut c = ctx(ScmpAction::Errno(4))?;
        c.set_ctl_nnp(false).map_err(|e| e.to_string())?;
        let e = c.load().unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::ECANCELED), "{e:?}");
        c.set_api_sysrawrc(true).map_err(|e| e.to_string())?;
        let e = c.load().unwrap_err();
        ensure!(e.sysrawrc() == Some(-libc::EACCES), "{e:?}");
        c.set_ctl_nnp(true).map_err(|e| e.to_string())?;
        c.load().map_err(|e| format!("load: {e}"))?;
        ensure!(syscall0(GETPPID) == Err(4), "not filtered");
        Ok(())
    });
}

#[test]
fn ctx_api_level_1_loads_with_prctl() {
    require_kernel!();
    run_ok(|| {
        set_api(1).map_err(|e| e.to_string())?;
        let c = ctx(ScmpAction::Errno(8))?;
        c.load().map_err(|e| format!("load: {e}"))?;
        ensure!(syscall0(GETPPID) == Err(8), "not filtered");
        Ok(())
    });
}
