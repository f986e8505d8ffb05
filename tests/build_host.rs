//! The build-host rule: building and exporting a filter never depends on what the running
//! kernel supports; only loading does. A level forced with `set_api` restricts building, as
//! in libseccomp. Holds on any host: natively, and under qemu-user, which has no seccomp.

mod kernel_util;

use kernel_util::*;
use pure_seccomp::error::{SeccompErrno, SeccompError};
use pure_seccomp::*;

/// A filter with everything a newer kernel may lack: KILL_PROCESS default, LOG and NOTIFY
/// rules, every flag attribute but TSYNC (which cannot go with NOTIFY below level 6).
fn everything() -> Result<ScmpFilterContext, SeccompError> {
    let mut ctx = ScmpFilterContext::new(ScmpAction::KillProcess)?;
    ctx.add_rule(ScmpAction::Log, ScmpSyscall::from_name("getppid")?)?;
    ctx.add_rule(ScmpAction::Notify, ScmpSyscall::from_name("mount")?)?;
    ctx.add_rule(ScmpAction::Allow, ScmpSyscall::from_name("exit_group")?)?;
    ctx.set_act_badarch(ScmpAction::KillProcess)?;
    ctx.set_ctl_log(true)?;
    ctx.set_ctl_ssb(true)?;
    ctx.set_ctl_waitkill(true)?;
    Ok(ctx)
}

#[test]
fn building_does_not_depend_on_the_kernel() {
    // Whatever get_api() says about this host (1 under qemu-user), the filter builds, with
    // TSYNC too when it has no NOTIFY rule, and exports for the native and a foreign
    // architecture of the other byte order.
    let level = get_api();
    let ctx = everything().unwrap_or_else(|e| panic!("API level {level}: {e}"));
    let native = ctx.export_bpf_mem().unwrap();
    assert!(!native.is_empty());
    let mut tsync = ScmpFilterContext::new(ScmpAction::KillProcess).unwrap();
    tsync.set_ctl_tsync(true).unwrap();
    assert!(!tsync.export_bpf_mem().unwrap().is_empty());
    let mut foreign = ScmpFilterContext::new(ScmpAction::KillProcess).unwrap();
    foreign.remove_arch(ScmpArch::native()).unwrap();
    let other = if cfg!(target_endian = "big") {
        ScmpArch::Aarch64
    } else {
        ScmpArch::S390X
    };
    foreign.add_arch(other).unwrap();
    foreign
        .add_rule(ScmpAction::Log, ScmpSyscall::from_name("getppid").unwrap())
        .unwrap();
    foreign.set_ctl_tsync(true).unwrap();
    assert!(!foreign.export_bpf_mem().unwrap().is_empty());
}

#[test]
fn a_forced_level_restricts_building_as_libseccomp_does() {
    // set_api is process-global: in a child.
    let child = in_child(|| {
        set_api(2).map_err(|e| e.to_string())?;
        let e = ScmpFilterContext::new(ScmpAction::KillProcess).unwrap_err();
        ensure!(e.to_string().contains("set_api"), "{e}");
        let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).map_err(|e| e.to_string())?;
        let getppid = ScmpSyscall::from_name("getppid").map_err(|e| e.to_string())?;
        let e = ctx.add_rule(ScmpAction::Log, getppid).unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::EINVAL), "{e:?}");
        let e = ctx.add_rule(ScmpAction::Notify, getppid).unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::EINVAL), "{e:?}");
        let e = ctx.set_ctl_log(true).unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::EOPNOTSUPP), "{e:?}");
        ctx.set_ctl_tsync(true).map_err(|e| e.to_string())?;
        set_api(1).map_err(|e| e.to_string())?;
        let e = ctx.set_ctl_tsync(true).unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::EOPNOTSUPP), "{e:?}");
        // Back to probing: building is free again.
        reset_global_state().map_err(|e| e.to_string())?;
        everything().map_err(|e| format!("after reset: {e}"))?;
        Ok(())
    });
    child.assert_ok();
}

#[test]
fn loading_checks_the_kernel() {
    match no_seccomp() {
        // qemu-user, or a kernel without seccomp filters: building worked (above); loading
        // fails, clearly, and changes nothing.
        Some(why) => {
            eprintln!("no seccomp here ({why}): checking that loads fail clearly");
            let child = in_child(|| {
                let ctx = everything().map_err(|e| e.to_string())?;
                let e = ctx.load().unwrap_err();
                ensure!(e.errno() == Some(SeccompErrno::EOPNOTSUPP), "{e:?}");
                ensure!(e.to_string().contains("cannot be loaded here"), "{e}");
                let prog = ctx.export_bpf_mem().map_err(|e| e.to_string())?;
                let e = load_bpf_bytes(&prog, LoadFlags::new()).unwrap_err();
                ensure!(e.errno() == Some(SeccompErrno::EOPNOTSUPP), "{e:?}");
                Ok(())
            });
            child.assert_ok();
        }
        // A kernel with seccomp: a filter using only what it supports loads; the check of the
        // rest against a smaller support word is the library's unit test
        // `load_checks_what_building_accepted`.
        None => {
            let level = get_api();
            let child = in_child(move || {
                let mut ctx =
                    ScmpFilterContext::new(ScmpAction::Allow).map_err(|e| e.to_string())?;
                let getppid = ScmpSyscall::from_name("getppid").map_err(|e| e.to_string())?;
                let action = if level >= 3 {
                    ScmpAction::Log
                } else {
                    ScmpAction::Errno(7)
                };
                ctx.add_rule(action, getppid).map_err(|e| e.to_string())?;
                ctx.load()
                    .map_err(|e| format!("load at level {level}: {e}"))?;
                Ok(())
            });
            child.assert_ok();
        }
    }
}
