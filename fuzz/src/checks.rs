//! The properties the `filters` and `bpf_bytes` fuzz targets check (`policy_check.rs` has
//! the `policy` target's).
//!
//! This file depends on `pure_seccomp` and `std` alone: the fuzz targets call it from
//! `fuzz_targets/*.rs`, and `tests/fuzz_regressions.rs` includes it by path to replay the
//! seed corpus and every minimised finding on the stable toolchain, without libFuzzer. A
//! property that does not hold panics with a message saying which one.

use pure_seccomp::bpf::{self, BpfError, Instruction, SeccompData};
use pure_seccomp::error::SeccompErrno;
use pure_seccomp::opt::Passes;
use pure_seccomp::{Endian, ScmpAction, ScmpArch, ScmpFilterContext, ScmpSyscall};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Syscall names the structured targets pick from: ordinary calls, the socket and ipc calls
/// that some architectures multiplex, and pseudo-syscall-prone names.
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
    "bind",
    "recvmmsg",
    "mprotect",
    "getpid",
    "exit_group",
    "_llseek",
    "mmap2",
];

/// Values around the edges of 32- and 64-bit comparisons.
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
    0x8000_0000_0000_0000,
    u64::MAX,
];

/// The `seccomp_data.arch` value (`AUDIT_ARCH_*`) of every architecture, read from the
/// program of a one-architecture filter (the first `jeq` compares it).
pub fn audit_token(arch: ScmpArch) -> Option<u32> {
    static TOKENS: OnceLock<HashMap<ScmpArch, u32>> = OnceLock::new();
    let tokens = TOKENS.get_or_init(|| {
        let mut m = HashMap::new();
        for a in ScmpArch::all() {
            let Ok(mut ctx) = ScmpFilterContext::new(ScmpAction::Allow) else {
                continue;
            };
            if ctx.remove_arch(ScmpArch::native()).is_err() || ctx.add_arch(a).is_err() {
                continue;
            }
            let Ok(bytes) = ctx.export_bpf_mem() else {
                continue;
            };
            let Ok(prog) = bpf::decode(&bytes, ctx.byte_order()) else {
                continue;
            };
            if let Some(i) = prog
                .iter()
                .find(|i| i.code == bpf::BPF_JMP | bpf::BPF_JEQ | bpf::BPF_K)
            {
                m.insert(a, i.k);
            }
        }
        m
    });
    tokens.get(&arch).copied()
}

/// A tiny deterministic generator, so that a finding replays exactly.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let x = self.0;
        (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (x >> 32)
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[(self.next() % v.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------------------
// (a) filters: structured filters through the public API
// ---------------------------------------------------------------------------------------

/// Exports `ctx` at both optimize levels, with `passes` and with every pass on and off:
/// every program passes the validator, and its simulation returns what
/// [`ScmpFilterContext::evaluate`] returns for the syscalls of [`NAMES`] and `extra_nrs`
/// (each also with the x32 bit set) on every architecture of the filter and one it lacks,
/// with arguments drawn from `values` (and their neighbours) and [`EDGE`].
///
/// An export may fail only because the program is too long (`EFAULT`); a filter with no
/// architecture refuses the export, and its attributes, with `EINVAL`. Returns the number of
/// queries compared.
pub fn check_filter(
    ctx: &mut ScmpFilterContext,
    passes: Passes,
    values: &[u64],
    extra_nrs: &[i32],
    seed: u64,
) -> usize {
    let present: Vec<ScmpArch> = ScmpArch::all()
        .filter(|&a| ctx.is_arch_present(a).unwrap_or(false))
        .collect();
    if present.is_empty() {
        // libseccomp takes no call but on architectures from a filter with none.
        let einval = |r: Result<(), pure_seccomp::error::SeccompError>| {
            r.is_err_and(|e| e.errno() == Some(SeccompErrno::EINVAL))
        };
        assert!(
            einval(ctx.get_ctl_optimize().map(drop)),
            "a level without architectures"
        );
        assert!(
            einval(ctx.set_ctl_optimize(2).map(drop)),
            "a level set without architectures"
        );
        assert!(
            einval(ctx.export_bpf_mem().map(drop)),
            "an export without architectures"
        );
        return 0;
    }
    let level = ctx
        .get_ctl_optimize()
        .expect("the optimize level reads back");
    let absent = ScmpArch::all().find(|a| !present.contains(a));
    let mut vals: Vec<u64> = EDGE.to_vec();
    for &v in values.iter().take(16) {
        vals.extend([v, v.wrapping_add(1), v.wrapping_sub(1), v ^ 0x1_0000_0000]);
    }
    let mut data = Vec::new();
    let mut mix = Mix(seed);
    for &a in present.iter().chain(absent.iter()) {
        let Some(token) = audit_token(a) else {
            continue;
        };
        let mut nrs: Vec<i32> = NAMES
            .iter()
            .filter_map(|n| ScmpSyscall::from_name_by_arch_rewrite(n, a).ok())
            .map(|s| s.as_raw_syscall())
            .chain(extra_nrs.iter().copied().take(8))
            .chain([-1, 0x4000_0000 - 1])
            .collect();
        // The x32 bit on every number: a deny-list on x86_64 must not be bypassed with it.
        let with_bit: Vec<i32> = nrs.iter().map(|&n| n | 0x4000_0000).collect();
        nrs.extend(with_bit);
        for nr in nrs {
            for k in 0..3 {
                let mut args = [0u64; 6];
                if k > 0 {
                    for x in args.iter_mut() {
                        *x = mix.pick(&vals);
                    }
                }
                data.push(SeccompData {
                    nr,
                    arch: token,
                    instruction_pointer: mix.next(),
                    args,
                });
            }
        }
    }
    let want: Vec<u32> = data.iter().map(|d| ctx.evaluate(d)).collect();
    let mut checked = 0;
    let mut setups = vec![passes, Passes::all(), Passes::empty()];
    setups.dedup();
    for lvl in [1, 2] {
        ctx.set_ctl_optimize(lvl).expect("levels 1 and 2 are valid");
        for &p in &setups {
            ctx.set_opt_passes(p);
            let bytes = match ctx.export_bpf_mem() {
                Ok(b) => b,
                Err(e) => {
                    let ok = match e.errno() {
                        Some(SeccompErrno::EFAULT) => e.to_string().contains("instructions"),
                        _ => false,
                    };
                    assert!(ok, "export failed unexpectedly (level {lvl}, {p:?}): {e}");
                    continue;
                }
            };
            let endian = ctx.byte_order();
            let prog = bpf::decode(&bytes, endian).expect("an exported program decodes");
            if let Err(e) = bpf::validate(&prog) {
                panic!(
                    "level {lvl}, {p:?}: the exported program is invalid: {e}\n{}",
                    bpf::disassemble(&prog)
                );
            }
            ctx.precompute()
                .expect("precompute succeeds where export did");
            assert_eq!(
                ctx.export_bpf_mem().expect("export after precompute"),
                bytes,
                "the precomputed program differs from the exported one"
            );
            for (d, &w) in data.iter().zip(&want) {
                let got = bpf::simulate(&prog, d, endian)
                    .unwrap_or_else(|e| panic!("a validated program failed to run: {e}"))
                    .ret;
                assert_eq!(
                    got,
                    w,
                    "level {lvl}, {p:?}: program returns {got:#x}, rules say {w:#x} for {d:?}\n{}",
                    bpf::disassemble(&prog)
                );
                checked += 1;
            }
        }
    }
    // PFC rendering must not fail where export worked.
    if !present.is_empty() {
        if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
            ctx.export_pfc(&null).expect("PFC export");
        }
    }
    ctx.set_ctl_optimize(level).expect("restore the level");
    ctx.set_opt_passes(passes);
    checked
}

// ---------------------------------------------------------------------------------------
// (b) bpf_bytes: arbitrary bytes through the decoder and every analysis
// ---------------------------------------------------------------------------------------

/// Feeds arbitrary bytes to the decoder, the disassembler, the validators, the simulator
/// and the action-cache checker. The first byte picks the byte order (bit 0) and the
/// architecture (the rest); the others are the program.
///
/// Besides not panicking: decoding is the inverse of encoding; a program the validator
/// accepts runs on every input without error, within its length in steps; every syscall
/// [`bpf::cacheable`] reports is allowed by the program whatever the arguments, and
/// [`bpf::cacheable_set`] lists exactly the cacheable numbers.
pub fn check_bpf_bytes(bytes: &[u8]) {
    let Some((&head, body)) = bytes.split_first() else {
        assert_eq!(bpf::decode(&[], Endian::Little), Ok(vec![]));
        return;
    };
    let endian = if head & 1 == 0 {
        Endian::Little
    } else {
        Endian::Big
    };
    let arches: Vec<ScmpArch> = ScmpArch::all().collect();
    let arch = arches[usize::from(head >> 1) % arches.len()];
    let whole = body.len() / 8 * 8;
    if whole != body.len() {
        assert_eq!(
            bpf::decode(body, endian),
            Err(BpfError::BadLength { len: body.len() })
        );
    }
    let prog = bpf::decode(&body[..whole], endian).expect("whole instructions decode");
    assert_eq!(prog.len(), whole / 8);
    assert_eq!(
        bpf::encode(&prog, endian),
        &body[..whole],
        "encode(decode(b)) != b"
    );

    let _ = bpf::disassemble(&prog);
    let _ = bpf::disassemble_for(&prog, endian);
    for i in prog.iter().take(64) {
        let _ = bpf::action_name(i.k);
        let _ = bpf::field_name(i.k, endian);
    }
    let valid = bpf::validate(&prog);
    let classic = bpf::check_classic(&prog);
    if valid.is_ok() {
        assert_eq!(
            classic,
            Ok(()),
            "validate accepts what check_classic refuses"
        );
    }
    for e in [&valid, &classic]
        .into_iter()
        .filter_map(|r| r.as_ref().err())
    {
        assert!(!e.to_string().is_empty());
    }

    // Inputs built from the program's own constants, so that its tests go both ways.
    let token = audit_token(arch).unwrap_or(0);
    let ks: Vec<u32> = prog.iter().map(|i| i.k).take(32).collect();
    let mut mix = Mix(u64::from(head) ^ (whole as u64) << 8);
    let mut inputs = vec![SeccompData::default()];
    for &k in ks.iter().take(12) {
        for arch_word in [token, k] {
            let mut args = [0u64; 6];
            for a in args.iter_mut() {
                let lo = u64::from(mix.pick(&ks));
                let hi = u64::from(mix.pick(&ks));
                *a = match mix.next() % 3 {
                    0 => lo,
                    1 => hi << 32 | lo,
                    _ => mix.pick(EDGE),
                };
            }
            inputs.push(SeccompData {
                nr: k as i32,
                arch: arch_word,
                instruction_pointer: u64::from(mix.pick(&ks)),
                args,
            });
        }
    }
    for d in &inputs {
        let out = bpf::simulate(&prog, d, endian);
        if valid.is_ok() {
            let out = out.unwrap_or_else(|e| panic!("validated program failed on {d:?}: {e}"));
            assert!(out.executed >= 1 && out.executed <= prog.len());
        }
    }

    // The action cache: the kernel emulates every number of the arch's table once.
    let range = bpf::syscall_range(arch);
    let probe = range.start..range.end.min(range.start.saturating_add(96));
    let set = bpf::cacheable_set(&prog, token, probe.clone());
    assert!(
        set.windows(2).all(|w| w[0] < w[1]),
        "cacheable_set unsorted"
    );
    assert!(set.iter().all(|nr| probe.contains(nr)));
    let mut extra: Vec<u32> = ks.iter().take(8).copied().collect();
    extra.extend(probe.clone().step_by(7));
    for nr in extra {
        let c = bpf::cacheable(&prog, token, nr);
        if probe.contains(&nr) {
            assert_eq!(c, set.contains(&nr), "cacheable_set disagrees on {nr}");
        }
        if c && valid.is_ok() {
            for d in inputs.iter().take(6) {
                let d = SeccompData {
                    nr: nr as i32,
                    arch: token,
                    ..*d
                };
                let ret = bpf::simulate(&prog, &d, endian).map(|o| o.ret);
                assert_eq!(
                    ret,
                    Ok(bpf::SECCOMP_RET_ALLOW),
                    "{nr} is cacheable but the program does not allow {d:?}\n{}",
                    bpf::disassemble(&prog)
                );
            }
        }
    }
    // Programs longer than the kernel's limit are refused by both checkers.
    if prog.len() > bpf::BPF_MAXINSNS {
        assert_eq!(valid, Err(BpfError::TooLong { len: prog.len() }));
    }
    let _: &[Instruction] = &prog;
}
