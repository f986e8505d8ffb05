//! Loading hand-written BPF programs through `load_bpf`/`load_bpf_bytes` on the running
//! kernel. Every load happens in a forked child (see `kernel_util`).

mod kernel_util;

use kernel_util::*;
use pure_seccomp::error::SeccompErrno;
use pure_seccomp::*;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::mpsc;

const GETPPID: libc::c_long = libc::SYS_getppid;

fn load(rules: &[(libc::c_long, u32)], default: u32, flags: LoadFlags) -> Result<(), String> {
    load_bpf(&filter(rules, default), flags)
        .map(drop)
        .map_err(|e| format!("load_bpf: {e}"))
}

#[test]
fn errno_action_returns_minus_errno() {
    require_kernel!();
    run_ok(|| {
        load(&[(GETPPID, RET_ERRNO | 77)], RET_ALLOW, LoadFlags::new())?;
        // The raw return value is -77, which libc turns into -1 and errno 77.
        let rc = unsafe { libc::syscall(GETPPID) };
        let errno = std::io::Error::last_os_error().raw_os_error();
        ensure!(
            rc == -1 && errno == Some(77),
            "getppid: {rc}, errno {errno:?}"
        );
        // Other syscalls are allowed.
        ensure!(
            syscall0(libc::SYS_getpid) == Ok(std::process::id() as _),
            "getpid"
        );
        Ok(())
    });
}

#[test]
fn allow_action_allows() {
    require_kernel!();
    run_ok(|| {
        load(&[(GETPPID, RET_ALLOW)], RET_ALLOW, LoadFlags::new())?;
        ensure!(syscall0(GETPPID) == Ok(real_ppid()), "getppid");
        Ok(())
    });
}

#[test]
fn log_action_allows() {
    require_kernel!();
    run_ok(|| {
        load(&[(GETPPID, RET_LOG)], RET_ALLOW, LoadFlags::new())?;
        ensure!(syscall0(GETPPID) == Ok(real_ppid()), "getppid");
        Ok(())
    });
}

#[test]
fn kill_thread_kills_a_single_threaded_process_with_sigsys() {
    require_kernel!();
    let child = in_child(|| {
        load(&[(GETPPID, RET_KILL_THREAD)], RET_ALLOW, LoadFlags::new())?;
        let _ = syscall0(GETPPID);
        Err("survived KILL_THREAD".into())
    });
    assert_eq!(child.exit, Exit::Signal(libc::SIGSYS), "{}", child.message);
}

#[test]
fn kill_thread_kills_only_the_calling_thread() {
    require_kernel!();
    run_ok(|| {
        load(&[(GETPPID, RET_KILL_THREAD)], RET_ALLOW, LoadFlags::new())?;
        static AFTER: AtomicBool = AtomicBool::new(false);
        let before = thread_count();
        std::thread::spawn(|| {
            let _ = syscall0(GETPPID);
            AFTER.store(true, Ordering::SeqCst);
        });
        // The thread appears and is gone again; the process lives on.
        ensure!(
            wait_until(|| thread_count() == before),
            "the thread did not die"
        );
        ensure!(!AFTER.load(Ordering::SeqCst), "the thread survived getppid");
        Ok(())
    });
}

#[test]
fn kill_process_kills_every_thread_with_sigsys() {
    require_kernel!();
    let child = in_child(|| {
        load(&[(GETPPID, RET_KILL_PROCESS)], RET_ALLOW, LoadFlags::new())?;
        std::thread::spawn(|| {
            let _ = syscall0(GETPPID);
        });
        std::thread::sleep(std::time::Duration::from_secs(10));
        Err("survived KILL_PROCESS".into())
    });
    assert_eq!(child.exit, Exit::Signal(libc::SIGSYS), "{}", child.message);
}

/// The start of `siginfo_t` for SIGSYS (`_sigsys` member of the union).
#[repr(C)]
struct SigsysInfo {
    signo: libc::c_int,
    errno: libc::c_int,
    code: libc::c_int,
    call_addr: *mut libc::c_void,
    syscall: libc::c_int,
    arch: libc::c_uint,
}

static TRAP_NR: AtomicI32 = AtomicI32::new(-1);
static TRAP_CODE: AtomicI32 = AtomicI32::new(-1);
static TRAP_ARCH: AtomicU32 = AtomicU32::new(0);

type SigsysHandler = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void);

extern "C" fn on_sigsys(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let info = info as *const SigsysInfo;
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    unsafe {
        TRAP_NR.store((*info).syscall, Ordering::SeqCst);
        TRAP_CODE.store((*info).code, Ordering::SeqCst);
        TRAP_ARCH.store((*info).arch, Ordering::SeqCst);
    }
}

#[test]
fn trap_delivers_sigsys_with_the_syscall_number() {
    require_kernel!();
    run_ok(|| {
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_sigsys as SigsysHandler as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            ensure!(
                libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut()) == 0,
                "sigaction"
            );
        }
        load(&[(GETPPID, RET_TRAP | 5)], RET_ALLOW, LoadFlags::new())?;
        let _ = syscall0(GETPPID);
        let nr = TRAP_NR.load(Ordering::SeqCst);
        let want = ScmpSyscall::from_name("getppid").unwrap().as_raw_syscall();
        ensure!(nr == want, "si_syscall {nr}, want {want}");
        if !cfg!(any(target_arch = "mips", target_arch = "mips64")) {
            // SYS_SECCOMP
            let code = TRAP_CODE.load(Ordering::SeqCst);
            ensure!(code == 1, "si_code {code}");
        }
        if let Some(arch) = AUDIT_ARCH {
            let got = TRAP_ARCH.load(Ordering::SeqCst);
            ensure!(got == arch, "si_arch {got:#x}");
        }
        Ok(())
    });
}

#[test]
fn tsync_applies_to_all_threads() {
    require_kernel!();
    fn other_thread_sees(flags: LoadFlags) -> Result<Result<libc::c_long, i32>, String> {
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (res_tx, res_rx) = mpsc::channel();
        let t = std::thread::spawn(move || {
            go_rx.recv().unwrap();
            res_tx.send(syscall0(GETPPID)).unwrap();
        });
        load(&[(GETPPID, RET_ERRNO | 66)], RET_ALLOW, flags)?;
        ensure!(syscall0(GETPPID) == Err(66), "loading thread not filtered");
        go_tx.send(()).unwrap();
        let r = res_rx.recv().unwrap();
        t.join().unwrap();
        Ok(r)
    }
    run_ok(|| {
        let r = other_thread_sees(LoadFlags::new().tsync(true))?;
        ensure!(r == Err(66), "with TSYNC the other thread got {r:?}");
        Ok(())
    });
    run_ok(|| {
        let r = other_thread_sees(LoadFlags::new())?;
        ensure!(
            r == Ok(real_ppid()),
            "without TSYNC the other thread got {r:?}"
        );
        Ok(())
    });
}

#[test]
fn tsync_failure_is_esrch_and_loads_nothing() {
    require_kernel!();
    run_ok(|| {
        // A thread with a filter of its own cannot be synchronised to the main thread's.
        let (loaded_tx, loaded_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            loaded_tx
                .send(load(
                    &[(libc::SYS_getuid, RET_ERRNO | 1)],
                    RET_ALLOW,
                    LoadFlags::new(),
                ))
                .unwrap();
            done_rx.recv().unwrap();
        });
        loaded_rx.recv().unwrap()?;
        let e = load_bpf(
            &filter(&[(GETPPID, RET_ERRNO | 66)], RET_ALLOW),
            LoadFlags::new().tsync(true),
        )
        .unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::ESRCH), "{e:?}");
        ensure!(syscall0(GETPPID) == Ok(real_ppid()), "a filter was loaded");
        done_tx.send(()).unwrap();
        t.join().unwrap();
        Ok(())
    });
}

#[test]
fn every_flag_is_accepted() {
    require_kernel!();
    let mut cases = vec![
        ("log", LoadFlags::new().log(true)),
        ("spec_allow", LoadFlags::new().spec_allow(true)),
        ("tsync", LoadFlags::new().tsync(true)),
        ("new_listener", LoadFlags::new().new_listener(true)),
        (
            "wait_killable_recv",
            LoadFlags::new().new_listener(true).wait_killable_recv(true),
        ),
        (
            "all",
            LoadFlags::new()
                .tsync(true)
                .log(true)
                .spec_allow(true)
                .new_listener(true)
                .wait_killable_recv(true),
        ),
    ];
    cases.retain(|(name, _)| get_api() >= 7 || *name == "log" || *name == "tsync");
    for (name, flags) in cases {
        let child = in_child(|| {
            let listener = load_bpf(&filter(&[(GETPPID, RET_ERRNO | 9)], RET_ALLOW), flags)
                .map_err(|e| format!("{name}: {e}"))?;
            ensure!(
                listener.is_some() == flags.new_listener,
                "{name}: listener {listener:?}"
            );
            ensure!(syscall0(GETPPID) == Err(9), "{name}: not filtered");
            Ok(())
        });
        child.assert_ok();
    }
}

#[test]
fn load_bpf_bytes_loads_native_bytes() {
    require_kernel!();
    run_ok(|| {
        let endian = if cfg!(target_endian = "little") {
            Endian::Little
        } else {
            Endian::Big
        };
        let bytes = bpf::encode(&filter(&[(GETPPID, RET_ERRNO | 3)], RET_ALLOW), endian);
        let e = load_bpf_bytes(&bytes[..bytes.len() - 1], LoadFlags::new()).unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::EINVAL), "{e:?}");
        ensure!(
            syscall0(GETPPID) == Ok(real_ppid()),
            "loaded a truncated program"
        );
        load_bpf_bytes(&bytes, LoadFlags::new()).map_err(|e| e.to_string())?;
        ensure!(syscall0(GETPPID) == Err(3), "not filtered");
        Ok(())
    });
}

#[test]
fn rejected_programs_report_ecanceled_or_the_raw_errno() {
    require_kernel!();
    run_ok(|| {
        // Jumps past the end: the kernel refuses it with EINVAL.
        let bad = [pure_seccomp::bpf::Instruction {
            code: 0x15,
            jt: 5,
            jf: 5,
            k: 0,
        }];
        let e = load_bpf(&bad, LoadFlags::new()).unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::ECANCELED), "{e:?}");
        ensure!(e.to_string().contains("os error 22"), "{e}");
        let e = load_bpf(&bad, LoadFlags::new().sysrawrc(true)).unwrap_err();
        ensure!(e.sysrawrc() == Some(-libc::EINVAL), "{e:?}");
        ensure!(e.errno() == Some(SeccompErrno::EINVAL), "{e:?}");
        let e = load_bpf(&[], LoadFlags::new()).unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::EINVAL), "{e:?}");
        let e = load_bpf(
            &filter(&[], RET_ALLOW),
            LoadFlags::new().wait_killable_recv(true),
        )
        .unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::EINVAL), "{e:?}");
        Ok(())
    });
}

#[test]
fn no_new_privs_is_needed_without_cap_sys_admin() {
    require_kernel!();
    run_ok(|| {
        if unsafe { libc::geteuid() } == 0 {
            // Drop every capability.
            ensure!(unsafe { libc::setgid(65534) } == 0, "setgid");
            ensure!(unsafe { libc::setuid(65534) } == 0, "setuid");
        }
        let prog = filter(&[(GETPPID, RET_ERRNO | 4)], RET_ALLOW);
        let e = load_bpf(&prog, LoadFlags::new().no_new_privs(false).sysrawrc(true)).unwrap_err();
        ensure!(e.sysrawrc() == Some(-libc::EACCES), "{e:?}");
        let e = load_bpf(&prog, LoadFlags::new().no_new_privs(false)).unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::ECANCELED), "{e:?}");
        load_bpf(&prog, LoadFlags::new()).map_err(|e| e.to_string())?;
        ensure!(syscall0(GETPPID) == Err(4), "not filtered");
        Ok(())
    });
}

#[test]
fn api_level_of_this_kernel() {
    require_kernel!();
    let level = get_api();
    assert!((1..=7).contains(&level));
    // Linux 5.19 has everything libseccomp 2.6 probes for.
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut it = release.trim().split(|c: char| !c.is_ascii_digit());
    let major: u32 = it.next().unwrap().parse().unwrap();
    let minor: u32 = it.next().unwrap().parse().unwrap();
    if (major, minor) >= (5, 19) {
        assert_eq!(level, 7, "kernel {release}");
    }
    assert!(check_api(level, ScmpVersion::from((2, 6, 0))).unwrap());
    assert!(!check_api(level + 1, ScmpVersion::from((2, 6, 0))).unwrap());
}

#[test]
fn set_api_forces_the_level_and_reset_forgets_it() {
    require_kernel!();
    let probed = get_api();
    // Process-global: change it in a child only.
    run_ok(move || {
        for level in 1..=7 {
            set_api(level).map_err(|e| e.to_string())?;
            ensure!(get_api() == level, "set_api({level})");
        }
        ensure!(set_api(8).is_err() && get_api() == 7, "set_api(8)");
        reset_global_state().map_err(|e| e.to_string())?;
        ensure!(get_api() == probed, "after reset: {}", get_api());
        Ok(())
    });
}

#[test]
fn level_1_loads_with_prctl_and_refuses_flags() {
    require_kernel!();
    run_ok(|| {
        set_api(1).map_err(|e| e.to_string())?;
        let prog = filter(&[(GETPPID, RET_ERRNO | 8)], RET_ALLOW);
        let e = load_bpf(&prog, LoadFlags::new().tsync(true)).unwrap_err();
        ensure!(e.errno() == Some(SeccompErrno::EOPNOTSUPP), "{e:?}");
        load_bpf(&prog, LoadFlags::new()).map_err(|e| e.to_string())?;
        ensure!(syscall0(GETPPID) == Err(8), "not filtered");
        Ok(())
    });
}

#[test]
fn filters_stack() {
    require_kernel!();
    run_ok(|| {
        load(&[(GETPPID, RET_ERRNO | 10)], RET_ALLOW, LoadFlags::new())?;
        load(&[(GETPPID, RET_ERRNO | 20)], RET_ALLOW, LoadFlags::new())?;
        // Equal precedence: the most recent filter's data wins.
        ensure!(syscall0(GETPPID) == Err(20), "{:?}", syscall0(GETPPID));
        Ok(())
    });
}
