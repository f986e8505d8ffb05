//! Prints a hash of every program the shared policies and the benchmark's scaling cases
//! compile to, one line each, so that a change meant to leave the generated programs alone
//! (a faster search, a refactor) can show that it did: run it before and after, and `diff`.
//!
//! ```text
//! cargo run --release --features policy --example program_hashes > before.txt
//! # ... change the code ...
//! cargo run --release --features policy --example program_hashes > after.txt
//! diff before.txt after.txt
//! ```
//!
//! Each line: the case, the optimize level, the program's length in instructions and a hash
//! of its bytes (or the error). The cases: every filter of every policy of
//! `../shared/policies` (`$PURE_SECCOMP_SHARED`, else `shared/` beside the crate root or one
//! level further up) for every architecture it names (x86_64 and aarch64 for an
//! allow-list), crosvm's minijail policies, and the scaling cases of `bench-c` (conditional rules spread over many
//! syscalls, values piled on one argument, distinct values on ten syscalls).
//!
//! `program_hashes --repeat CASE N [LEVEL]` builds and exports the first case whose name
//! contains `CASE` N times (level 2 unless given) and prints nothing: a workload for a
//! profiler (`valgrind --tool=callgrind`, `perf record`) or `time`.

use pure_seccomp::policy::{Policy, Recipe, RecipeRule, Target};
use pure_seccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpSyscall};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("program_hashes: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut cases = policy_cases()?;
    cases.extend(scaling_cases());
    match args.as_slice() {
        [] => {
            for (name, recipe) in &cases {
                for level in [1, 2] {
                    println!("{name} L{level}: {}", describe(recipe, level));
                }
            }
            Ok(())
        }
        [flag, case, n, rest @ ..] if flag == "--repeat" && rest.len() <= 1 => {
            let n: usize = n.parse().map_err(|_| format!("not a count: {n:?}"))?;
            let level: u32 = match rest.first() {
                Some(l) => l.parse().map_err(|_| format!("not a level: {l:?}"))?,
                None => 2,
            };
            let (_, recipe) = cases
                .iter()
                .find(|(name, _)| name.contains(case.as_str()))
                .ok_or_else(|| format!("no case matches {case:?}"))?;
            let mut recipe = recipe.clone();
            recipe.optimize = Some(level);
            for _ in 0..n {
                let ctx = recipe.build().map_err(|e| e.to_string())?;
                std::hint::black_box(ctx.export_bpf_mem().ok());
            }
            Ok(())
        }
        _ => Err("usage: program_hashes [--repeat CASE N [LEVEL]]".to_string()),
    }
}

/// `len hash` of the recipe's program at `level`, or the error.
fn describe(recipe: &Recipe, level: u32) -> String {
    let mut recipe = recipe.clone();
    recipe.optimize = Some(level);
    match recipe.build().and_then(|ctx| ctx.export_bpf_mem()) {
        Ok(bytes) => {
            let mut h = DefaultHasher::new();
            bytes.hash(&mut h);
            format!("{} {:016x}", bytes.len() / 8, h.finish())
        }
        Err(e) => format!("error: {e}"),
    }
}

/// The shared policies directory: `$PURE_SECCOMP_SHARED/policies`, else `shared/policies`
/// beside the crate root or one level further up.
fn policies_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("PURE_SECCOMP_SHARED") {
        return Ok(PathBuf::from(dir).join("policies"));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    root.ancestors()
        .skip(1)
        .take(2)
        .map(|a| a.join("shared").join("policies"))
        .find(|p| p.is_dir())
        .ok_or_else(|| "no shared/policies found; set PURE_SECCOMP_SHARED".to_string())
}

/// Every filter of every shared policy file, for every architecture it names.
fn policy_cases() -> Result<Vec<(String, Recipe)>, String> {
    let dir = policies_dir()?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "txt"))
        })
        .collect();
    files.sort();
    // crosvm's minijail policies (after the others, so that their lines stay in place).
    let crosvm = dir.join("crosvm-minijail-x86_64");
    if let Ok(entries) = std::fs::read_dir(&crosvm) {
        let mut more: Vec<PathBuf> = entries
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "policy"))
            .collect();
        more.sort();
        files.extend(more);
    }
    let mut cases = Vec::new();
    for file in files {
        let policy = Policy::from_file(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut arches = policy.targets();
        if arches.is_empty() {
            arches = vec![ScmpArch::X8664, ScmpArch::Aarch64];
        }
        let file_name = file.file_name().unwrap_or_default().to_string_lossy();
        for arch in arches {
            let recipes = policy
                .clone()
                .with_arch(arch)
                .filters(&Target::new(arch))
                .map_err(|e| format!("{}: {e}", file.display()))?;
            for r in recipes {
                cases.push((format!("{file_name} {arch:?} {}", r.name), r));
            }
        }
    }
    Ok(cases)
}

fn allow(name: &str, conditions: Vec<ScmpArgCompare>) -> RecipeRule {
    RecipeRule {
        action: ScmpAction::Allow,
        syscall: name.to_string(),
        conditions,
    }
}

fn eq(arg: u32, v: u64) -> ScmpArgCompare {
    ScmpArgCompare::new(arg, ScmpCompareOp::Equal, v)
}

fn synthetic(name: String, rules: Vec<RecipeRule>) -> (String, Recipe) {
    let recipe = Recipe {
        name: name.clone(),
        default_action: ScmpAction::Errno(1),
        arches: vec![ScmpArch::X8664],
        attributes: Vec::new(),
        optimize: None,
        rules,
        skipped: Vec::new(),
    };
    (name, recipe)
}

/// The shapes of `bench-c`'s scaling section (x86_64 syscalls in number order).
fn scaling_cases() -> Vec<(String, Recipe)> {
    let names: Vec<String> = (0..450)
        .filter_map(|nr| ScmpSyscall::from(nr).get_name_by_arch(ScmpArch::X8664).ok())
        .collect();
    let mut cases = Vec::new();
    for n in [100usize, 300, 1000, 6000] {
        let rules = (0..n)
            .map(|i| {
                let v = i as u64;
                let mixed = v.wrapping_mul(0x9e37_79b9) & 0xffff_ffff_ffff;
                allow(&names[i % names.len()], vec![eq(0, v), eq(1, mixed)])
            })
            .collect();
        cases.push(synthetic(format!("spread{n}"), rules));
    }
    for n in [100u64, 1000, 2000] {
        let rules = (0..n)
            .map(|i| allow("ioctl", vec![eq(1, 0x4000_0000 + i * 3)]))
            .collect();
        cases.push(synthetic(format!("piled{n}"), rules));
    }
    for per in [200u64, 400] {
        let rules = names
            .iter()
            .take(10)
            .enumerate()
            .flat_map(|(i, s)| {
                (0..per)
                    .map(move |v| allow(s, vec![eq(0, v * 0x1_0001 + 7 + i as u64 * 0x100_0000)]))
            })
            .collect();
        cases.push(synthetic(format!("ten{per}"), rules));
    }
    cases
}
