//! End-to-end tests of the commands that load a filter (`run`, `learn`): the ones that need
//! a kernel with seccomp, so that tests/vm/run.sh also runs them on the arm64, s390x and
//! riscv64 kernels (qemu-user has no seccomp). They only ever load a filter into a child process of
//! the command, never into the test process.

mod common;
use common::*;
use std::os::unix::process::CommandExt as _;

/// Whether this kernel lets an unprivileged process load seccomp filters (it always should
/// on Linux; a container runtime may forbid seccomp(2) itself, and qemu-user has no
/// seccomp). Where the kernel must (`PURE_SECCOMP_REQUIRE_KERNEL=1`: CI's native step, the
/// VMs), a failure fails the test instead of skipping it.
fn seccomp_usable() -> bool {
    let ok = pure_seccomp()
        .args(["run", "--", "/bin/true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let msg = "this environment does not let a child load a seccomp filter \
                   (`pure-seccomp run -- /bin/true` failed)";
        if std::env::var("PURE_SECCOMP_REQUIRE_KERNEL").as_deref() == Ok("1") {
            panic!("{msg} (PURE_SECCOMP_REQUIRE_KERNEL=1)");
        }
        eprintln!("SKIPPED: {msg}");
    }
    ok
}

#[test]
fn run_denies_a_forbidden_syscall() {
    if !seccomp_usable() {
        return;
    }
    let dir = scratch("run");
    let policy = dir.join("nomkdir.json");
    std::fs::write(
        &policy,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}"#,
    )
    .unwrap();
    let target = dir.join("made");
    let script = format!("mkdir {}", s(&target));
    let o = cmd(&["run", s(&policy), "--", "/bin/sh", "-c", &script]);
    assert_ne!(o.status.code(), Some(0), "mkdir succeeded under the policy");
    assert!(!target.exists());
    assert!(
        stderr(&o).contains("Operation not permitted"),
        "{}",
        stderr(&o)
    );
    // The policy from standard input (`-`): the command finds it drained.
    let o = piped(
        &[
            "run",
            "-",
            "--",
            "/bin/sh",
            "-c",
            &format!("{script}; echo $?; cat"),
        ],
        &std::fs::read(&policy).unwrap(),
    );
    assert_eq!(stdout(&o), "1\n", "{}", stderr(&o));
    assert!(!target.exists());
    // The same command under a policy that allows it (none given: the embedded default).
    let o = cmd(&["run", "--", "/bin/sh", "-c", &script]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(target.is_dir());
    // The command's exit status comes back; a KILL action shows as 128 + SIGSYS.
    let o = cmd(&["run", "--", "/bin/sh", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(7));
    let kill = dir.join("kill.json");
    std::fs::write(
        &kill,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_KILL_PROCESS"}]}"#,
    )
    .unwrap();
    let o = cmd(&["run", s(&kill), "--", "uname"]);
    assert_eq!(o.status.code(), Some(128 + 31), "{}", stderr(&o));
    assert!(stderr(&o).contains("SIGSYS"), "{}", stderr(&o));
    // A missing command: 127.
    let o = cmd(&["run", "--", "/no/such/command"]);
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn learn_writes_a_profile_the_program_then_runs_under() {
    if !seccomp_usable() {
        return;
    }
    let dir = scratch("learn");
    let profile = dir.join("true.json");
    let o = cmd(&["learn", "-o", s(&profile), "--", "/bin/true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("distinct syscalls seen"),
        "{}",
        stderr(&o)
    );
    let json = read_profile(&profile);
    assert_eq!(json["defaultAction"], "SCMP_ACT_ERRNO");
    let names: Vec<&str> = json["syscalls"][0]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"execve") && names.contains(&"exit_group"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"mkdir") && !names.contains(&"ptrace"),
        "{names:?}"
    );
    // The program runs under its learned profile ...
    let o = cmd(&["run", s(&profile), "--", "/bin/true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // ... the profile is a policy like any other ...
    expect(&["audit", s(&profile)], 0);
    // ... and it does not allow what the program did not do (`mkdirat`: every ABI has it,
    // where arm64 has no `mkdir`).
    expect(&["sim", s(&profile), "--syscall", "mkdirat"], 1);

    // Argument values of chosen syscalls: the shell's exit code reaches exit_group.
    let profile = dir.join("sh.json");
    let o = cmd(&[
        "learn",
        "--args",
        "exit_group:0",
        "-o",
        s(&profile),
        "--",
        "/bin/sh",
        "-c",
        "exit 3",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let json = read_profile(&profile);
    let rules = json["syscalls"].as_array().unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["names"][0] == "exit_group" && r["args"][0]["value"] == 3),
        "{json}"
    );

    // `-o -` is stdout, as no -o is.
    let o = cmd(&["learn", "-o", "-", "--", "/bin/true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a profile on stdout");
    assert_eq!(json["defaultAction"], "SCMP_ACT_ERRNO");
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the command leaves running is learned too: a background child that makes its
/// syscall after the command has exited (and been reaped) is still supervised, and `learn`
/// returns once it has ended, with the command's status.
#[test]
fn learn_follows_what_the_command_leaves_running() {
    if !seccomp_usable() {
        return;
    }
    let dir = scratch("learn-orphan");
    let profile = dir.join("p.json");
    let made = dir.join("made-later");
    let script = format!("(sleep 1; mkdir {}) & exit 6", s(&made));
    let o = cmd(&["learn", "-o", s(&profile), "--", "/bin/sh", "-c", &script]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(
        made.is_dir(),
        "learn returned before the background child ended"
    );
    let json = read_profile(&profile);
    let names = json["syscalls"][0]["names"].as_array().unwrap();
    assert!(
        names.iter().any(|n| n == "mkdir" || n == "mkdirat"),
        "{names:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The LOG fallback (forced): it warns, runs the command, returns its status and writes a
/// valid profile (what the kernel log yields is not deterministic: records are rate-limited).
#[test]
fn learn_falls_back_to_log_with_a_warning() {
    if !seccomp_usable() {
        return;
    }
    let dir = scratch("learn-log");
    let profile = dir.join("p.json");
    let o = pure_seccomp()
        .env("PURE_SECCOMP_LEARN_MODE", "log")
        .args(["learn", "-o", s(&profile), "--", "/bin/sh", "-c", "exit 4"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("falling back to the LOG action"),
        "{}",
        stderr(&o)
    );
    let json = read_profile(&profile);
    assert_eq!(json["defaultAction"], "SCMP_ACT_ERRNO");
    assert!(json["syscalls"][0]["names"].is_array(), "{json}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A command that cannot start is named, with why, and 127 or 126, before any filter is
/// loaded: also where the filter would not let the child say so (a profile that allows only
/// the exec and the exit; the child's report used to be refused and its `abort` ended it with
/// SIGSEGV), and `learn` writes no profile for it. (No kernel needed: nothing is loaded.)
#[test]
fn a_command_that_cannot_start_is_reported() {
    let dir = scratch("cannot-start");
    let strict = dir.join("strict.json");
    std::fs::write(&strict, STRICT).unwrap();
    let data = dir.join("data");
    std::fs::write(&data, "not a program\n").unwrap();
    let profile = dir.join("p.json");
    let cases = [
        ("/no/such/command", 127, "no such file"),
        ("no-such-command-for-pure-seccomp", 127, "not found in PATH"),
        (s(&dir), 126, "it is a directory"),
        (s(&data), 126, "not executable"),
    ];
    for (command, code, why) in cases {
        for args in [
            vec!["run", s(&strict), "--", command],
            vec!["learn", "-o", s(&profile), "--", command],
        ] {
            let o = cmd(&args);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
            assert!(
                err.contains(&format!("cannot run {command:?}")) && err.contains(why),
                "{args:?}: {err}"
            );
            assert!(!profile.exists(), "{args:?} wrote a profile");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Allows the exec and the exit alone: a profile learned from a command that did nothing.
const STRICT: &str = r#"{"defaultAction": "SCMP_ACT_ERRNO",
    "syscalls": [{"names": ["execve", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}"#;

/// An exec that fails in the child although the file is there and executable (a script whose
/// `#!` interpreter is missing) is reported, and `learn` then writes no profile; also under a
/// filter that refuses every call but `execve` and `exit_group`, so that the child cannot
/// `write` (it used to end with 127 and no word of why), and one that refuses `execve` too.
#[test]
fn an_exec_that_fails_under_the_filter_is_reported() {
    if !seccomp_usable() {
        return;
    }
    let dir = scratch("exec-fails");
    let script = dir.join("script");
    std::fs::write(&script, "#!/no/such/interpreter\nexit 0\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let profile = dir.join("p.json");
    for args in [
        vec!["run", "--", s(&script)],
        vec!["learn", "-o", s(&profile), "--", s(&script)],
    ] {
        let o = cmd(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(127), "{args:?}: {err}");
        assert!(
            err.contains(&format!("cannot run {:?}", s(&script))) && err.contains("interpreter"),
            "{args:?}: {err}"
        );
    }
    assert!(!profile.exists(), "learn wrote a profile");
    let strict = dir.join("strict.json");
    std::fs::write(&strict, STRICT).unwrap();
    let o = cmd(&["run", s(&strict), "--", s(&script)]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(127), "{err}");
    assert!(err.contains("interpreter"), "{err}");
    let no_exec = dir.join("no-exec.json");
    std::fs::write(&no_exec, STRICT.replace("\"execve\", ", "")).unwrap();
    let o = cmd(&["run", s(&no_exec), "--", "true"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(126), "{err}");
    assert!(
        err.contains("cannot run \"true\"") && err.contains("not permitted"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Signals reach the command, not only `run` and `learn`, which then return its status: a
/// SIGTERM sent to them alone ends the command (`run` used to die and leave it running),
/// and so does a SIGINT to the process group (Ctrl-C), after which `learn` still writes its
/// profile (it used to die without one). Once the command has ended, a signal stops
/// `learn`'s supervision of what the command left running, and the profile is written.
#[test]
fn signals_are_passed_on_to_the_command() {
    if !seccomp_usable() {
        return;
    }
    let dir = scratch("signals");
    let profile = dir.join("p.json");
    let run = |command: &[&'static str]| [&["run", "--"], command].concat();
    let learn = |command: &[&'static str]| [&["learn", "-o", s(&profile), "--"], command].concat();
    let sleep = &["sleep", "30"];
    let (term, int) = (libc::SIGTERM, libc::SIGINT);
    // (The command line, whether to signal the process group, the signal, the status.)
    let cases = [
        (run(sleep), false, term, 128 + term),
        (run(sleep), true, int, 128 + int),
        (learn(sleep), false, term, 128 + term),
        (learn(sleep), true, int, 128 + int),
        // The shell ends at once; its background `sleep` is what learn then supervises.
        (learn(&["sh", "-c", "sleep 30 & exit 5"]), false, term, 5),
    ];
    for (args, group, sig, code) in cases {
        let _ = std::fs::remove_file(&profile);
        let mut command = pure_seccomp();
        command
            .args(&args)
            .process_group(0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // An ignored signal stays ignored across exec, and `run` leaves it so for the command,
        // as a shell does: a test run started with SIGINT ignored (a background job of a
        // non-interactive shell) would see `sleep` outlive it. This test is about passing
        // signals on, so it starts `run` with the default action.
        // SAFETY: signal() only sets this (forked, not yet exec'd) process's disposition.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                Ok(())
            });
        }
        let mut child = command.spawn().unwrap();
        let pid = child.id() as i32;
        // Once `sleep` runs (exec'd, under the filter) and the shell, if any, has ended (so
        // that the signal meets only `sleep`).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !runs_in_group(pid, "sleep") || runs_in_group(pid, "sh") {
            assert!(
                std::time::Instant::now() < deadline,
                "{args:?}: sleep never ran"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // SAFETY: kill sends a signal to the child started above, or to its process group.
        unsafe { libc::kill(if group { -pid } else { pid }, sig) };
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                // SAFETY: as above; the group's `sleep` too.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
                panic!("{args:?}: still running 20 s after signal {sig}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        // SAFETY: as above (what the last case leaves running; nothing, elsewhere).
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        assert_eq!(status.code(), Some(code), "{args:?}: {status}");
        if args[0] == "learn" {
            let names = read_profile(&profile)["syscalls"][0]["names"].to_string();
            assert!(names.contains("\"execve\""), "{args:?}: {names}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether a live (not zombie) process named `comm` is in the process group `pgid`.
fn runs_in_group(pgid: i32, comm: &str) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten().any(|e| {
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // pid (comm) state ppid pgrp ...
        let Some((name, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(") "))
        else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        name == comm && fields.first() != Some(&"Z") && fields.get(2) == Some(&&*pgid.to_string())
    })
}

/// Where this process may not load a filter (here: under one that refuses `seccomp` and
/// `prctl`), `run` says so with the library's reason and 125 (it said only "cannot run");
/// where it may load one only through `prctl` (API level 1: `seccomp` refused), `learn`
/// falls back to the LOG action instead of failing in the child.
#[test]
fn a_filter_that_cannot_load_is_reported() {
    if !seccomp_usable() {
        return;
    }
    let dir = scratch("cannot-load");
    let refuse = |name: &str, calls: &str| {
        let p = dir.join(name);
        std::fs::write(
            &p,
            format!(
                r#"{{"defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [{{"names": [{calls}], "action": "SCMP_ACT_ERRNO"}}]}}"#
            ),
        )
        .unwrap();
        p
    };
    let no_loading = refuse("no-loading.json", r#""seccomp", "prctl""#);
    let o = cmd(&["run", s(&no_loading), "--", &bin(), "run", "--", "true"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot load the filter") && stderr(&o).contains("not permitted"),
        "{}",
        stderr(&o)
    );
    let prctl_only = refuse("prctl-only.json", r#""seccomp""#);
    let profile = dir.join("p.json");
    let o = cmd(&[
        "run",
        s(&prctl_only),
        "--",
        &bin(),
        "learn",
        "-o",
        s(&profile),
        "--",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("API level 1") && stderr(&o).contains("falling back to the LOG action"),
        "{}",
        stderr(&o)
    );
    assert!(read_profile(&profile)["syscalls"][0]["names"].is_array());
    let _ = std::fs::remove_dir_all(&dir);
}
