//! Compilation speed and program quality.
//!
//! `cargo bench --bench compile` measures:
//! * `scaling/N`: compiling a filter of N conditional rules (N = 100, 400, 1600) on x86_64;
//!   compare the times across N: libseccomp's generator is super-linear (seconds for large
//!   filters), ours should grow linearly, so `scaling/1600 ≈ 16 × scaling/100`. From 400
//!   rules the program exceeds the kernel's 4096 instructions: the export generates it, then
//!   returns the size error, and that is what is timed;
//! * `docker`: a Docker-like allow-list (the 300-odd syscalls of `../shared/policies/
//!   docker-default.json` when present, else the x86_64 table's first 300 names) for
//!   x86_64+x86+x32 at optimize levels 1 and 2, against the `rules_only` baseline (the same
//!   API calls without compiling), so the ratio is the cost of code generation;
//! * `simulate`: running the compiled docker-like program for one syscall.
//!
//! It also prints the program sizes, so size changes show up next to the timings.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use pure_seccomp::bpf::{self, SeccompData};
use pure_seccomp::*;

fn allow_list() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/policies/docker-default.json"
    );
    if let Ok(text) = std::fs::read_to_string(path) {
        let v: serde_json::Value = serde_json::from_str(&text).expect("docker-default.json parses");
        let mut names = Vec::new();
        for block in v["syscalls"].as_array().into_iter().flatten() {
            if block["action"] == "SCMP_ACT_ALLOW"
                && block["args"].as_array().map_or(true, |a| a.is_empty())
            {
                for n in block["names"].as_array().into_iter().flatten() {
                    names.push(n.as_str().unwrap_or_default().to_string());
                }
            }
        }
        return names;
    }
    (0..300)
        .filter_map(|nr| ScmpSyscall::from(nr).get_name().ok())
        .collect()
}

fn docker_like(names: &[String], level: u32) -> ScmpFilterContext {
    let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(1)).unwrap();
    ctx.add_arch(ScmpArch::X86).unwrap();
    ctx.add_arch(ScmpArch::X32).unwrap();
    ctx.set_ctl_optimize(level).unwrap();
    for n in names {
        if let Ok(s) = ScmpSyscall::from_name(n) {
            let _ = ctx.add_rule(ScmpAction::Allow, s);
        }
    }
    let personality = ScmpSyscall::from_name("personality").unwrap();
    for v in [0u64, 8, 0x20000, 0x20008, 0xffff_ffff] {
        let _ = ctx.add_rule_conditional(ScmpAction::Allow, personality, &[scmp_cmp!($arg0 == v)]);
    }
    ctx
}

fn synthetic(n: usize) -> ScmpFilterContext {
    let mut ctx = ScmpFilterContext::new(ScmpAction::KillProcess).unwrap();
    let syscalls: Vec<ScmpSyscall> = (0..330)
        .filter_map(|nr| {
            ScmpSyscall::from(nr)
                .get_name()
                .ok()
                .map(|_| ScmpSyscall::from(nr))
        })
        .collect();
    for i in 0..n {
        let s = syscalls[i % syscalls.len()];
        let v = i as u64;
        let _ = ctx.add_rule_conditional(
            ScmpAction::Allow,
            s,
            &[scmp_cmp!($arg0 == v), scmp_cmp!($arg1 <= 0x1_0000 + v)],
        );
    }
    ctx
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("scaling");
    for n in [100usize, 400, 1600] {
        let ctx = synthetic(n);
        eprintln!(
            "scaling/{n}: {} instructions",
            ctx.export_bpf_mem().map(|b| b.len() / 8).unwrap_or(0)
        );
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| black_box(synthetic(n).export_bpf_mem()))
        });
    }
    g.finish();

    let names = allow_list();
    let mut g = c.benchmark_group("docker");
    g.bench_function("rules_only", |b| {
        b.iter(|| black_box(docker_like(&names, 1)))
    });
    for level in [1, 2] {
        let ctx = docker_like(&names, level);
        eprintln!(
            "docker/opt{level}: {} instructions",
            ctx.export_bpf_mem().unwrap().len() / 8
        );
        g.bench_function(format!("opt{level}"), |b| {
            b.iter(|| black_box(docker_like(&names, level).export_bpf_mem().unwrap()))
        });
    }
    g.finish();

    let ctx = docker_like(&names, 1);
    let prog = bpf::decode(&ctx.export_bpf_mem().unwrap(), ctx.byte_order()).unwrap();
    let data = SeccompData {
        nr: 231,
        arch: 0xc000_003e,
        ..Default::default()
    };
    c.bench_function("simulate/docker-exit_group", |b| {
        b.iter(|| black_box(bpf::simulate(&prog, &data, ctx.byte_order())))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
