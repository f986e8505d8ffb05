//! The running kernel accepts every program the generator makes: for a representative set of
//! filters built through the public API (every architecture alone and the usual multi-arch
//! sets, both optimize levels, random conditional rule sets, a Docker-like profile, a filter
//! long enough to need `ja` trampolines), the exported program passes
//! `pure_seccomp::bpf::validate` and `seccomp(SECCOMP_SET_MODE_FILTER)` takes it.
//!
//! Each program is loaded in a forked child. The child may be killed by its own filter right
//! after the load (the filter can kill `exit_group`), so it reports through a shared memory
//! page rather than a syscall: it stores the outcome of the load there with plain memory
//! writes, and the parent, which polls the page, kills the child as soon as the outcome is
//! there. Programs of the other byte order are decoded with the filter's byte order and
//! loaded as host values: the kernel checks only their structure, and the architecture
//! tokens are just constants to it.

use pure_seccomp::bpf::{self, Instruction};
use pure_seccomp::*;

mod common;
use common::*;
#[allow(unused_macros)]
mod kernel_util;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const HOST: Endian = if cfg!(target_endian = "big") {
    Endian::Big
} else {
    Endian::Little
};

// --- loading in a child -------------------------------------------------------------------

/// Outcome word in the shared page: the child has not reported yet.
const PENDING: u32 = 0;
const LOADED: u32 = 1;
const REFUSED: u32 = 2;
const PAGE: usize = 4096;

/// Loads `bytes` (a program in byte order `endian`) in a forked child: `Ok` if the kernel
/// took it, `Err` with why not.
fn kernel_accepts(bytes: &[u8], endian: Endian) -> Result<(), String> {
    // Everything the child needs is prepared here, so that after the load it makes no
    // syscall before its report: the program is decoded here (for a program in host order,
    // `load_bpf_bytes` would decode in the child, and the `free` of that copy after the load
    // may trim the heap with `brk`, which the filter may kill).
    let prog = bpf::decode(bytes, endian).map_err(|e| format!("decode: {e}"))?;
    let flags = LoadFlags::new();
    // SAFETY: a fresh anonymous shared mapping, unmapped below; the child only writes to it
    // through the atomic word and the message area behind it.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            PAGE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(page, libc::MAP_FAILED, "mmap failed");
    let state = unsafe { &*(page as *const AtomicU32) };
    let msg_len = unsafe { &*(page as *const AtomicU32).add(1) };
    let msg_area = unsafe { (page as *mut u8).add(8) };

    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        unsafe {
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        }
        match load_bpf(&prog, flags) {
            Ok(_) => {
                // The filter is in place: no syscall may be made before the report.
                state.store(LOADED, Ordering::Release);
            }
            Err(e) => {
                let m = e.to_string();
                let n = m.len().min(PAGE - 8);
                unsafe { std::ptr::copy_nonoverlapping(m.as_ptr(), msg_area, n) };
                msg_len.store(n as u32, Ordering::Relaxed);
                state.store(REFUSED, Ordering::Release);
            }
        }
        // May be killed by the filter (SIGSYS), or loop in `_exit` if the filter makes
        // exit_group fail: the parent kills the child once it has seen the report.
        unsafe { libc::_exit(0) };
    }

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut status = 0;
    let mut reaped = false;
    let outcome = loop {
        let s = state.load(Ordering::Acquire);
        if s != PENDING {
            break s;
        }
        if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
            reaped = true;
            break state.load(Ordering::Acquire);
        }
        if Instant::now() > deadline {
            break PENDING;
        }
        std::thread::sleep(Duration::from_micros(100));
    };
    if !reaped {
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, &mut status, 0);
        }
    }
    let message = {
        let n = msg_len.load(Ordering::Relaxed) as usize;
        let m = unsafe { std::slice::from_raw_parts(msg_area, n) };
        String::from_utf8_lossy(m).into_owned()
    };
    unsafe { libc::munmap(page, PAGE) };
    match outcome {
        LOADED => Ok(()),
        REFUSED => Err(format!("the kernel refused the program: {message}")),
        _ if reaped && libc::WIFSIGNALED(status) => Err(format!(
            "the child died by signal {} before the load returned",
            libc::WTERMSIG(status)
        )),
        _ if reaped => Err(format!(
            "the child exited with {} before the load returned",
            libc::WEXITSTATUS(status)
        )),
        _ => Err("the child did not report within 20 s".into()),
    }
}

/// Compiles `ctx`, validates the program and has the kernel load it. Returns the program
/// length.
fn check(ctx: &ScmpFilterContext, what: &str) -> usize {
    let bytes = ctx
        .export_bpf_mem()
        .unwrap_or_else(|e| panic!("{what}: export_bpf_mem: {e}"));
    let endian = ctx.byte_order();
    let prog = bpf::decode(&bytes, endian).unwrap_or_else(|e| panic!("{what}: decode: {e}"));
    if let Err(e) = bpf::validate(&prog) {
        panic!("{what}: invalid program: {e}\n{}", bpf::disassemble(&prog));
    }
    // Without seccomp (qemu-user) the programs are still built and validated.
    if no_kernel() {
        return prog.len();
    }
    if let Err(e) = kernel_accepts(&bytes, endian) {
        panic!(
            "{what} ({} instructions, {endian:?}): {e}\n{}",
            prog.len(),
            bpf::disassemble(&prog)
        );
    }
    prog.len()
}

/// Whether this process cannot load filters (qemu-user): then programs are built and
/// validated but not loaded, which is said once.
fn no_kernel() -> bool {
    static NO_KERNEL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *NO_KERNEL.get_or_init(|| {
        kernel_util::skip(
            "tests/kernel_accepts_generated.rs: loading (programs are still built and validated)",
            kernel_util::no_seccomp(),
        )
    })
}

/// Makes sure the kernel probes ran in this process before any fork.
fn init() {
    let _ = get_api();
}

// --- filters -------------------------------------------------------------------------------

fn new_ctx(default: ScmpAction, arches: &[ScmpArch], level: u32) -> ScmpFilterContext {
    let mut ctx = ScmpFilterContext::new(default).unwrap();
    ctx.remove_arch(ScmpArch::native()).unwrap();
    for &a in arches {
        ctx.add_arch(a).unwrap();
    }
    ctx.set_ctl_optimize(level).unwrap();
    ctx
}

/// A name the syscall tables know, for `add_rule` on any architecture set: unknown ones on
/// an architecture are skipped by the rule database as libseccomp does.
fn sys(name: &str) -> Option<ScmpSyscall> {
    ScmpSyscall::from_name(name).ok()
}

fn random_filter(seed: u64, arches: &[ScmpArch], level: u32) -> ScmpFilterContext {
    let mut r = Rng(seed | 1);
    let mut ctx = new_ctx(rand_action(&mut r), arches, level);
    ctx.set_act_badarch(*r.pick(&[
        ScmpAction::KillProcess,
        ScmpAction::Trap,
        ScmpAction::Errno(1),
    ]))
    .unwrap();
    for _ in 0..r.below(40) + 1 {
        let name = *r.pick::<&str>(NAMES);
        let Some(s) = sys(name) else {
            continue;
        };
        let mut args: Vec<u32> = (0..6).collect();
        let cmps: Vec<ScmpArgCompare> = (0..r.below(4))
            .map(|_| {
                let i = r.below(args.len() as u64) as usize;
                rand_cmp(&mut r, args.remove(i))
            })
            .collect();
        // Refusals (a rule with the default action, a conflicting one) are fine.
        let _ = ctx.add_rule_conditional(rand_action(&mut r), s, &cmps);
    }
    ctx
}

// --- tests -------------------------------------------------------------------------------

#[test]
fn every_arch_set_both_levels() {
    init();
    let mut n = 0;
    for arches in arch_sets() {
        for level in [1, 2] {
            let what = format!("{arches:?} level {level}");
            // Only the default action.
            check(&new_ctx(ScmpAction::Allow, &arches, level), &what);
            // A small allow-list with a couple of conditions.
            let mut ctx = new_ctx(ScmpAction::KillProcess, &arches, level);
            for name in ["read", "write", "close", "exit_group", "futex", "mmap"] {
                if let Some(s) = sys(name) {
                    let _ = ctx.add_rule(ScmpAction::Allow, s);
                }
            }
            if let Some(s) = sys("socket") {
                let _ = ctx.add_rule_conditional(
                    ScmpAction::Errno(libc::EAFNOSUPPORT),
                    s,
                    &[ScmpArgCompare::new(0, ScmpCompareOp::NotEqual, 1)],
                );
            }
            if let Some(s) = sys("ioctl") {
                let _ = ctx.add_rule_conditional(
                    ScmpAction::Allow,
                    s,
                    &[ScmpArgCompare::new(
                        1,
                        ScmpCompareOp::MaskedEqual(0xffff_ffff),
                        0x5401,
                    )],
                );
            }
            check(&ctx, &format!("allow-list {what}"));
            n += 2;
        }
    }
    eprintln!("{n} programs accepted");
}

#[test]
fn mixed_byte_orders_refused() {
    let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    ctx.remove_arch(ScmpArch::native()).unwrap();
    ctx.add_arch(ScmpArch::Ppc64Le).unwrap();
    assert!(ctx.add_arch(ScmpArch::Ppc64).is_err());
}

/// The protocol itself: a program the kernel refuses is reported as refused, and programs
/// that kill the child or make its `exit_group` fail right after the load count as loaded.
#[test]
fn loader_tells_refused_from_killed() {
    use bpf::{BPF_JEQ, BPF_JMP, BPF_K, BPF_RET};
    require_kernel!();
    init();
    let ret = |k| Instruction::stmt(BPF_RET | BPF_K, k);
    let out_of_range = [
        Instruction::jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0),
        ret(0),
    ];
    let e = kernel_accepts(&bpf::encode(&out_of_range, HOST), HOST).unwrap_err();
    assert!(e.contains("refused"), "{e}");
    for k in [
        bpf::SECCOMP_RET_KILL_PROCESS,
        bpf::SECCOMP_RET_KILL_THREAD,
        bpf::SECCOMP_RET_TRAP,
        bpf::SECCOMP_RET_ERRNO | 1,
        bpf::SECCOMP_RET_TRACE,
    ] {
        kernel_accepts(&bpf::encode(&[ret(k)], HOST), HOST)
            .unwrap_or_else(|e| panic!("ret {k:#x}: {e}"));
    }
}

#[test]
fn random_rule_sets() {
    init();
    let (mut n, mut longest) = (0, 0);
    for (i, arches) in arch_sets().iter().enumerate() {
        for level in [1, 2] {
            for s in 0..3u64 {
                let seed = 0x5eed_0000_0000 ^ ((i as u64) << 16) ^ (s << 4) ^ u64::from(level);
                let ctx = random_filter(seed, arches, level);
                let len = check(&ctx, &format!("seed {seed:#x} {arches:?} level {level}"));
                longest = longest.max(len);
                n += 1;
            }
        }
    }
    eprintln!("{n} random programs accepted, the longest {longest} instructions");
}

/// The Docker architecture names of a filter's architectures.
fn docker_names(a: ScmpArch) -> &'static [&'static str] {
    match a {
        ScmpArch::X8664 => &["amd64"],
        ScmpArch::X86 => &["x86"],
        ScmpArch::X32 => &["x32"],
        ScmpArch::Aarch64 => &["arm64"],
        ScmpArch::Arm => &["arm"],
        ScmpArch::S390X => &["s390x"],
        ScmpArch::S390 => &["s390"],
        ScmpArch::Ppc64Le => &["ppc64le"],
        ScmpArch::Riscv64 => &["riscv64"],
        ScmpArch::Mips64 => &["mips64"],
        ScmpArch::Mips64N32 => &["mips64n32"],
        ScmpArch::Mips => &["mips"],
        ScmpArch::Mipsel64 => &["mipsel64"],
        ScmpArch::Mipsel64N32 => &["mipsel64n32"],
        ScmpArch::Mipsel => &["mipsel"],
        ScmpArch::Loongarch64 => &["loong64"],
        _ => &[],
    }
}

fn docker_profile() -> Option<serde_json::Value> {
    let path = common::shared("policies/docker-default.json", "docker_like_profile")?;
    let text = std::fs::read_to_string(&path).ok()?;
    Some(serde_json::from_str(&text).expect("docker-default.json is not JSON"))
}

/// Docker's default profile for a container without capabilities: its allow-list and
/// conditional rules for the entries that apply to `arches`.
fn docker_filter(
    p: &serde_json::Value,
    arches: &[ScmpArch],
    level: u32,
) -> (ScmpFilterContext, usize) {
    let errno = p["defaultErrnoRet"].as_i64().unwrap_or(1) as i32;
    let mut ctx = new_ctx(ScmpAction::Errno(errno), arches, level);
    let ours: Vec<&str> = arches
        .iter()
        .flat_map(|&a| docker_names(a).iter().copied())
        .collect();
    let any_of = |v: &serde_json::Value| {
        v.as_array()
            .is_some_and(|l| l.iter().any(|a| ours.contains(&a.as_str().unwrap_or(""))))
    };
    let mut rules = 0;
    for e in p["syscalls"].as_array().expect("syscalls") {
        let inc = &e["includes"];
        if inc["caps"].is_array() || (inc["arches"].is_array() && !any_of(&inc["arches"])) {
            continue;
        }
        if any_of(&e["excludes"]["arches"]) {
            continue;
        }
        let action = match e["action"].as_str() {
            Some("SCMP_ACT_ALLOW") => ScmpAction::Allow,
            Some("SCMP_ACT_ERRNO") => {
                ScmpAction::Errno(e["errnoRet"].as_i64().map_or(errno, |v| v as i32))
            }
            other => panic!("unexpected action {other:?}"),
        };
        let cmps: Vec<ScmpArgCompare> = e["args"]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|c| {
                let idx = c["index"].as_u64().unwrap() as u32;
                let value = c["value"].as_u64().unwrap();
                let two = c["valueTwo"].as_u64().unwrap_or(0);
                let (op, datum) = match c["op"].as_str().unwrap() {
                    "SCMP_CMP_EQ" => (ScmpCompareOp::Equal, value),
                    "SCMP_CMP_NE" => (ScmpCompareOp::NotEqual, value),
                    "SCMP_CMP_LT" => (ScmpCompareOp::Less, value),
                    "SCMP_CMP_LE" => (ScmpCompareOp::LessOrEqual, value),
                    "SCMP_CMP_GT" => (ScmpCompareOp::Greater, value),
                    "SCMP_CMP_GE" => (ScmpCompareOp::GreaterEqual, value),
                    "SCMP_CMP_MASKED_EQ" => (ScmpCompareOp::MaskedEqual(value), two),
                    op => panic!("unexpected op {op}"),
                };
                ScmpArgCompare::new(idx, op, datum)
            })
            .collect();
        for name in e["names"].as_array().expect("names") {
            // Names unknown to the tables are skipped, as runc does.
            let Some(s) = sys(name.as_str().unwrap()) else {
                continue;
            };
            if ctx.add_rule_conditional(action, s, &cmps).is_ok() {
                rules += 1;
            }
        }
    }
    (ctx, rules)
}

#[test]
fn docker_like_profile() {
    let Some(p) = docker_profile() else {
        return;
    };
    init();
    let sets = [
        vec![ScmpArch::X8664, ScmpArch::X86, ScmpArch::X32],
        vec![ScmpArch::Aarch64, ScmpArch::Arm],
        vec![ScmpArch::S390X, ScmpArch::S390],
        vec![ScmpArch::Mips64, ScmpArch::Mips, ScmpArch::Mips64N32],
        vec![ScmpArch::Mipsel64, ScmpArch::Mipsel, ScmpArch::Mipsel64N32],
        vec![ScmpArch::Ppc64Le],
        vec![ScmpArch::Riscv64],
        vec![ScmpArch::Loongarch64],
        vec![ScmpArch::native()],
    ];
    for arches in &sets {
        for level in [1, 2] {
            let (ctx, rules) = docker_filter(&p, arches, level);
            assert!(rules > 300, "{arches:?}: only {rules} rules");
            let len = check(&ctx, &format!("docker {arches:?} level {level}"));
            eprintln!("docker {arches:?} level {level}: {rules} rules, {len} instructions");
        }
    }
}

/// Up to `count` syscall names of `arch`, from number 0 up (so that every one resolves there,
/// whatever the host).
fn many_names(arch: ScmpArch, count: usize) -> Vec<String> {
    (0..1000)
        .filter_map(|nr| ScmpSyscall::from(nr).get_name_by_arch(arch).ok())
        .take(count)
        .collect()
}

/// `per` rules on each of `count` syscalls of the first of `arches`, each with a 64-bit
/// comparison of its own argument (`per` at most 6). The low words differ from syscall to
/// syscall too: a 32-bit ABI compares only those, and equal decisions would be one.
fn big_filter(arches: &[ScmpArch], level: u32, count: usize, per: u32) -> ScmpFilterContext {
    let mut ctx = new_ctx(ScmpAction::Allow, arches, level);
    for (i, name) in many_names(arches[0], count).iter().enumerate() {
        let Some(s) = sys(name) else { continue };
        for j in 0..per {
            let v = (i as u64 + 1) << 32 | (i as u64) << 3 | u64::from(j);
            ctx.add_rule_conditional(
                ScmpAction::Errno(1 + j as i32),
                s,
                &[ScmpArgCompare::new(j, ScmpCompareOp::Equal, v)],
            )
            .unwrap();
        }
    }
    ctx
}

/// Whether the program has a jump further than a conditional jump can reach.
fn has_long_jump(ctx: &ScmpFilterContext) -> bool {
    let prog = bpf::decode(&ctx.export_bpf_mem().unwrap(), ctx.byte_order()).unwrap();
    prog.iter()
        .any(|i| i.code == bpf::BPF_JMP | bpf::BPF_JA && i.k > 255)
}

#[test]
fn long_jumps() {
    init();
    let names = many_names(ScmpArch::native(), 300);
    assert_eq!(names.len(), 300);
    for arches in [
        vec![ScmpArch::native()],
        vec![ScmpArch::X8664, ScmpArch::X86, ScmpArch::X32],
        vec![ScmpArch::S390X, ScmpArch::S390],
    ] {
        for level in [1, 2] {
            let ctx = big_filter(&arches, level, 300, 1);
            assert!(
                has_long_jump(&ctx),
                "{arches:?} level {level}: no jump over 255 instructions"
            );
            let len = check(&ctx, &format!("300 syscalls {arches:?} level {level}"));
            assert!(len > 600, "{len}");
            eprintln!("300 conditional syscalls {arches:?} level {level}: {len} instructions");
        }
    }
}

#[test]
fn export_refuses_more_than_4096_instructions() {
    init();
    for level in [1, 2] {
        // About 4 instructions a rule: 300 x 4 rules on two architectures are far too many.
        let ctx = big_filter(&[ScmpArch::X8664, ScmpArch::X86], level, 300, 4);
        match ctx.export_bpf_mem() {
            Ok(b) => panic!(
                "level {level}: a program of {} instructions was exported",
                b.len() / 8
            ),
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("4096") && msg.contains("instructions"),
                    "level {level}: {msg}"
                );
            }
        }
        // Just under the limit, the kernel takes it (a 64-bit ABI's program: two words a
        // comparison, whatever the host's).
        let ctx = big_filter(&[ScmpArch::X8664], level, 300, 3);
        let len = check(&ctx, &format!("300 syscalls x 3 rules level {level}"));
        eprintln!("300 syscalls x 3 rules level {level}: {len} instructions");
        assert!(len > 3000, "{len}");
    }
}
