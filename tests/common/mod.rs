//! Shared helpers of the integration tests: a deterministic random generator and random
//! rule material, the usual architecture sets, audit tokens.
#![allow(dead_code)]

use pure_seccomp::bpf;
use pure_seccomp::*;

/// xorshift64*: deterministic, dependency-free.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

pub const EDGE: &[u64] = &[
    0,
    1,
    2,
    5,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x1_0000_0001,
    0xffff_ffff_0000_0000,
    u64::MAX,
    0x8000_0000_0000_0000,
];

pub const NAMES: &[&str] = &[
    "read",
    "write",
    "open",
    "close",
    "openat",
    "mmap",
    "ioctl",
    "socket",
    "connect",
    "accept4",
    "sendmsg",
    "shmat",
    "semop",
    "msgget",
    "ipc",
    "socketcall",
    "clone",
    "futex",
    "prctl",
    "kill",
    "fcntl",
    "personality",
    "setsockopt",
    "getsockopt",
    "bind",
    "recvmmsg",
    "mprotect",
    "getpid",
    "exit_group",
];

pub fn rand_datum(r: &mut Rng) -> u64 {
    match r.below(3) {
        0 => *r.pick(EDGE),
        1 => r.below(8),
        _ => r.next(),
    }
}

/// A datum from a small pool, so that rules share comparisons, or, one time in three,
/// [`rand_datum`]'s.
pub fn pool_datum(r: &mut Rng, pool: &[u64]) -> u64 {
    if r.below(3) == 0 {
        rand_datum(r)
    } else {
        *r.pick(pool)
    }
}

/// The comparison `k` (below 8) picks, `==` twice as often as each other one; `mask` is a
/// masked one's mask.
pub fn op_of(k: u64, mask: u64) -> ScmpCompareOp {
    match k {
        0 | 1 => ScmpCompareOp::Equal,
        2 => ScmpCompareOp::NotEqual,
        3 => ScmpCompareOp::Less,
        4 => ScmpCompareOp::LessOrEqual,
        5 => ScmpCompareOp::Greater,
        6 => ScmpCompareOp::GreaterEqual,
        _ => ScmpCompareOp::MaskedEqual(mask),
    }
}

pub fn rand_action(r: &mut Rng) -> ScmpAction {
    match r.below(7) {
        0 => ScmpAction::Allow,
        1 => ScmpAction::Errno(r.below(200) as i32),
        2 => ScmpAction::KillThread,
        3 => ScmpAction::KillProcess,
        4 => ScmpAction::Trap,
        5 => ScmpAction::Log,
        _ => ScmpAction::Trace(r.below(3) as u16),
    }
}

pub fn rand_cmp(r: &mut Rng, arg: u32) -> ScmpArgCompare {
    let d = rand_datum(r);
    let op = match r.below(7) {
        0 => ScmpCompareOp::Equal,
        1 => ScmpCompareOp::NotEqual,
        2 => ScmpCompareOp::Less,
        3 => ScmpCompareOp::LessOrEqual,
        4 => ScmpCompareOp::Greater,
        5 => ScmpCompareOp::GreaterEqual,
        _ => ScmpCompareOp::MaskedEqual(rand_datum(r)),
    };
    ScmpArgCompare::new(arg, op, d)
}

/// Every architecture alone, then the usual multi-architecture sets (one byte order each).
pub fn arch_sets() -> Vec<Vec<ScmpArch>> {
    let mut sets: Vec<Vec<ScmpArch>> = ScmpArch::all().map(|a| vec![a]).collect();
    sets.push(vec![ScmpArch::X8664, ScmpArch::X86, ScmpArch::X32]);
    sets.push(vec![ScmpArch::Aarch64, ScmpArch::Arm]);
    sets.push(vec![ScmpArch::S390X, ScmpArch::S390]);
    sets.push(vec![ScmpArch::Mips64, ScmpArch::Mips, ScmpArch::Mips64N32]);
    sets.push(vec![
        ScmpArch::Mipsel64,
        ScmpArch::Mipsel,
        ScmpArch::Mipsel64N32,
    ]);
    sets.push(vec![ScmpArch::Ppc64, ScmpArch::Ppc]);
    sets.push(vec![ScmpArch::Ppc64Le, ScmpArch::Mipsel]);
    sets
}

/// The `seccomp_data.arch` value of an architecture, read from a one-architecture filter
/// (computed once for all architectures).
pub fn audit_of(a: ScmpArch) -> u32 {
    static T: std::sync::OnceLock<std::collections::HashMap<ScmpArch, u32>> =
        std::sync::OnceLock::new();
    let tokens = T.get_or_init(|| {
        ScmpArch::all()
            .map(|a| {
                let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
                ctx.remove_arch(ScmpArch::native()).unwrap();
                ctx.add_arch(a).unwrap();
                let prog = bpf::decode(&ctx.export_bpf_mem().unwrap(), ctx.byte_order()).unwrap();
                let k = prog
                    .iter()
                    .find(|i| i.code == bpf::BPF_JMP | bpf::BPF_JEQ | bpf::BPF_K)
                    .unwrap()
                    .k;
                (a, k)
            })
            .collect()
    });
    tokens[&a]
}

/// The environment variable that turns a skip for want of the shared material into a failure
/// (`.ci/run` sets it: CI always has `../shared`).
pub const REQUIRE_SHARED: &str = "PURE_SECCOMP_REQUIRE_SHARED";

/// `sub` (e.g. `"conformance"`, `"policies/docker-default.json"`) inside the shared material:
/// `$PURE_SECCOMP_SHARED`, else `shared/` beside the crate root (CI lays it beside the clone),
/// else one level further up (a worktree inside a folder of clones).
///
/// When it is absent, prints why `test` is skipped and returns `None`, so that `cargo test`
/// passes on a clone of the repository alone; with `PURE_SECCOMP_REQUIRE_SHARED=1` it panics
/// instead.
pub fn shared(sub: &str, test: &str) -> Option<std::path::PathBuf> {
    use std::path::{Path, PathBuf};
    let mut tried: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("PURE_SECCOMP_SHARED") {
        tried.push(PathBuf::from(dir));
    } else {
        tried.extend(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .skip(1)
                .take(2)
                .map(|a| a.join("shared")),
        );
    }
    if let Some(found) = tried.iter().map(|d| d.join(sub)).find(|p| p.exists()) {
        return Some(found);
    }
    let looked = tried
        .iter()
        .map(|p| p.join(sub).display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let why = format!(
        "{test}: skipped: the shared material is absent (looked for {looked}); put it beside \
         the clone as `../shared` or set PURE_SECCOMP_SHARED"
    );
    if std::env::var_os(REQUIRE_SHARED).is_some_and(|v| v != "0" && !v.is_empty()) {
        panic!("{why}, and {REQUIRE_SHARED} is set: this skip is a failure");
    }
    // Straight to the process's stderr, not `eprintln!`, which the test harness captures:
    // a skip shows in a plain `cargo test` run.
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{why}");
    None
}

/// The value a filter returns for an action (the kernel's `SECCOMP_RET_*` with its data).
pub fn ret_value(a: ScmpAction) -> u32 {
    match a {
        ScmpAction::KillProcess => 0x8000_0000,
        ScmpAction::KillThread => 0,
        ScmpAction::Trap => 0x0003_0000,
        ScmpAction::Errno(n) => 0x0005_0000 | (n as u32 & 0xffff),
        ScmpAction::Trace(n) => 0x7ff0_0000 | u32::from(n),
        ScmpAction::Log => 0x7ffc_0000,
        ScmpAction::Notify => 0x7fc0_0000,
        ScmpAction::Allow => 0x7fff_0000,
        other => unreachable!("an action this crate does not have: {other:?}"),
    }
}

/// The numbers of `arch`'s socket/ipc multiplexers (socketcall(2), ipc(2)): none where it
/// calls those syscalls directly.
pub fn multiplexers(arch: ScmpArch) -> impl Iterator<Item = i32> {
    ["socketcall", "ipc"].into_iter().filter_map(move |n| {
        ScmpSyscall::from_name_by_arch(n, arch)
            .ok()
            .map(|s| s.as_raw_syscall())
            .filter(|&nr| nr > 0)
    })
}

/// The query's syscall is a socket/ipc multiplexer of an architecture of the filter.
pub fn is_multiplexer(ctx: &ScmpFilterContext, d: &bpf::SeccompData) -> bool {
    ScmpArch::all().any(|a| {
        ctx.is_arch_present(a).unwrap_or(false)
            && audit_of(a) == d.arch
            && multiplexers(a).any(|nr| nr == d.nr)
    })
}

/// `ctx`'s pseudo filter code (`export_pfc`), through an unnamed temporary file.
pub fn pfc_text(ctx: &ScmpFilterContext) -> Result<String, String> {
    use std::io::{Read, Seek};
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "pure-seccomp-pfc-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // (Removed at once: the file lives as long as `f`.)
    let _ = std::fs::remove_file(&path);
    ctx.export_pfc(&f).map_err(|e| e.to_string())?;
    let mut s = String::new();
    f.rewind()
        .and_then(|_| f.read_to_string(&mut s))
        .map_err(|e| format!("reading the PFC text back: {e}"))?;
    Ok(s)
}

/// The socket and ipc calls that some architectures multiplex through socketcall(2)/ipc(2).
pub const MULTIPLEXED: &[&str] = &[
    "socket",
    "bind",
    "connect",
    "listen",
    "accept",
    "getsockname",
    "getpeername",
    "socketpair",
    "send",
    "recv",
    "sendto",
    "recvfrom",
    "shutdown",
    "setsockopt",
    "getsockopt",
    "sendmsg",
    "recvmsg",
    "accept4",
    "recvmmsg",
    "sendmmsg",
    "semop",
    "semget",
    "semctl",
    "semtimedop",
    "msgsnd",
    "msgrcv",
    "msgget",
    "msgctl",
    "shmat",
    "shmdt",
    "shmget",
    "shmctl",
    "socketcall",
    "ipc",
];
