//! What the command's tests share: running the binary, scratch directories, the shared
//! material. (Each test binary uses part of it.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The command cargo built for these tests; `PURE_SECCOMP_E2E_BIN` names another copy (the
/// VMs of tests/vm/ run a test binary where cargo's path does not exist).
pub fn bin() -> String {
    std::env::var("PURE_SECCOMP_E2E_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_pure-seccomp").to_string())
}

/// The command, ready for arguments. With `PURE_SECCOMP_E2E_RUNNER` set (an emulator and its
/// options, such as `qemu-s390x-static -L /usr/s390x-linux-gnu`), it runs under that: how CI
/// runs these tests for another architecture's binary, as cargo's `runner` runs the test
/// binary itself (cargo does not hand its runner to the processes a test starts).
pub fn pure_seccomp() -> Command {
    let runner = std::env::var("PURE_SECCOMP_E2E_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(emulator) => {
            let mut c = Command::new(emulator);
            c.args(words).arg(bin());
            c
        }
        None => Command::new(bin()),
    }
}

pub fn cmd(args: &[&str]) -> Output {
    pure_seccomp()
        .args(args)
        .output()
        .expect("the pure-seccomp binary runs")
}

/// [`cmd`] with `input` on its standard input.
pub fn piped(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = pure_seccomp()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the pure-seccomp binary runs");
    // A command that fails before reading closes the pipe: not this helper's error.
    let _ = child.stdin.take().unwrap().write_all(input);
    child.wait_with_output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs and expects exit code `code`; returns stdout.
pub fn expect(args: &[&str], code: i32) -> String {
    let o = cmd(args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "pure-seccomp {args:?}\nstdout:\n{}\nstderr:\n{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pure-seccomp-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A profile the command wrote, as JSON (panics naming the file if it is missing or invalid).
pub fn read_profile(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{text}", path.display()))
}

/// This machine's architecture, in the command's spelling.
pub fn native() -> &'static str {
    if cfg!(target_arch = "x86_64") {
        "x86_64"
    } else if cfg!(target_arch = "aarch64") {
        "aarch64"
    } else if cfg!(target_arch = "riscv64") {
        "riscv64"
    } else if cfg!(target_arch = "s390x") {
        "s390x"
    } else if cfg!(target_arch = "arm") {
        "arm"
    } else if cfg!(target_arch = "x86") {
        "x86"
    } else {
        "native"
    }
}

/// The shared material (`$PURE_SECCOMP_SHARED`, else `shared/` beside the repository or one
/// level further up), or `None` with the reason printed. With `PURE_SECCOMP_REQUIRE_SHARED=1`
/// its absence fails the test instead.
pub fn shared_dir(sub: &str) -> Option<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let candidates: Vec<PathBuf> = match std::env::var_os("PURE_SECCOMP_SHARED") {
        Some(d) => vec![PathBuf::from(d).join(sub)],
        None => repo
            .ancestors()
            .skip(1)
            .take(2)
            .map(|a| a.join("shared").join(sub))
            .collect(),
    };
    if let Some(found) = candidates.iter().find(|p| p.is_dir()) {
        return Some(found.clone());
    }
    let msg = format!(
        "shared material not found (looked at {}); set PURE_SECCOMP_SHARED",
        candidates
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if std::env::var("PURE_SECCOMP_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{msg} (PURE_SECCOMP_REQUIRE_SHARED=1)");
    }
    eprintln!("SKIPPED: {msg}");
    None
}
