//! Compiles a seccomp policy file (an OCI / Docker / Podman profile, a Firecracker filter
//! file or an allow-list) into seccomp-BPF with [`pure_seccomp::policy`], and prints a
//! summary and each program's disassembly.
//!
//! ```text
//! cargo run --release --features policy --example compile_policy -- [POLICY] [--arch ARCH]
//!     [--opt 1|2] [--filter NAME] [--cap CAP]... [--kernel X.Y] [--out FILE] [--calls]
//! ```
//!
//! * `POLICY`: default `../shared/policies/docker-default.json` beside the clone (or under
//!   `$PURE_SECCOMP_SHARED`).
//! * `--arch ARCH`: the architecture to build for, as `SCMP_ARCH_*` (`SCMP_ARCH_S390X`),
//!   libseccomp's name (`s390x`, `aarch64`) or Go's (`arm64`, `mips64le`); default: a
//!   Firecracker file's or a minijail policy's own architecture, else this machine's. An OCI filter covers the
//!   profile's `archMap` entry for it (or its `architectures`).
//! * `--opt 1|2`: libseccomp's optimize level (1: sorted per arch, 2: binary tree); default 1.
//! * `--filter NAME`: only this filter of a file that has several (Firecracker's `vmm`,
//!   `api`, `vcpu`; a systemd group listing's `@group`s).
//! * `--cap CAP` (repeatable), `--kernel X.Y`: the container's capabilities and kernel
//!   version, for an OCI profile's `includes`/`excludes` (default: none, newest kernel).
//! * `--out FILE`: also write the raw program, as the kernel takes it, to `FILE`.
//! * `--calls`: print the API calls made, one JSON object a line in the schema of
//!   `../shared/conformance/` (with their outcome), instead of the disassembly. For Docker's
//!   profile they are the calls of the corpus' `policy-docker-default` cases (`tests/policy.rs`
//!   checks that), but for the names only one of the two syscall tables knows.
//!
//! How each format is read is documented in [`pure_seccomp::policy`].

use pure_seccomp::policy::{parse_arch, Call, Policy, Recipe, Target};
use pure_seccomp::{
    bpf, Endian, ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext,
    ScmpSyscall,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: compile_policy [POLICY] [--arch ARCH] [--opt 1|2] [--filter NAME] \
                     [--cap CAP]... [--kernel X.Y] [--out FILE] [--calls]";

struct Args {
    policy: PathBuf,
    arch: Option<ScmpArch>,
    opt: u32,
    filter: Option<String>,
    caps: Vec<String>,
    kernel: Option<(u32, u32)>,
    out: Option<PathBuf>,
    calls: bool,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("compile_policy: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let policy =
        Policy::from_file(&args.policy).map_err(|e| format!("{}: {e}", args.policy.display()))?;
    let arch = match args.arch {
        Some(a) => a,
        None => match policy.format() {
            pure_seccomp::policy::Format::Firecracker | pure_seccomp::policy::Format::Minijail
                if !policy.targets().is_empty() =>
            {
                policy.targets()[0]
            }
            _ => ScmpArch::native(),
        },
    };
    if arch == ScmpArch::Native {
        return Err("this machine's architecture is not supported; pass --arch".into());
    }
    let mut target = Target::new(arch).caps(args.caps.iter().cloned());
    target.kernel = args.kernel;
    let mut recipes = policy
        .filters(&target)
        .map_err(|e| format!("{}: {e}", args.policy.display()))?;
    if let Some(name) = &args.filter {
        let names: Vec<String> = recipes.iter().map(|r| r.name.clone()).collect();
        recipes.retain(|r| &r.name == name);
        if recipes.is_empty() {
            return Err(format!(
                "no filter {name:?} in {} (it has: {})",
                args.policy.display(),
                names.join(", ")
            ));
        }
    }
    if recipes.len() > 1 && (args.calls || args.out.is_some()) {
        return Err(format!(
            "{} has {} filters ({}): pick one with --filter",
            args.policy.display(),
            recipes.len(),
            recipes
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for r in &mut recipes {
        r.optimize = Some(args.opt);
        for name in &r.skipped {
            eprintln!("note: skipping syscall {name:?}: unknown name");
        }
    }

    if !args.calls {
        println!(
            "policy:   {} ({} format)",
            args.policy.display(),
            policy.format()
        );
        println!("target:   {arch}");
        println!("optimize: {}", args.opt);
    }
    for recipe in &recipes {
        let ctx = replay(recipe, args.calls)?;
        let bytes = ctx
            .export_bpf_mem()
            .map_err(|e| format!("export_bpf_mem: {e}"))?;
        if let Some(out) = &args.out {
            std::fs::write(out, &bytes)
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        }
        if args.calls {
            continue;
        }
        let endian = ctx.byte_order();
        let prog = bpf::decode(&bytes, endian).map_err(|e| format!("exported program: {e}"))?;
        let conditional = recipe
            .rules
            .iter()
            .filter(|r| !r.conditions.is_empty())
            .count();
        println!();
        if !recipe.name.is_empty() {
            println!("filter:   {}", recipe.name);
        }
        println!("arches:   {}", names(&recipe.arches));
        println!("default:  {:?}", recipe.default_action);
        println!(
            "rules:    {} ({} unconditional, {conditional} conditional); {} unknown syscall names skipped",
            recipe.rules.len(),
            recipe.rules.len() - conditional,
            recipe.skipped.len()
        );
        println!(
            "program:  {} instructions ({} bytes, {}-endian){}",
            prog.len(),
            bytes.len(),
            if endian == Endian::Big {
                "big"
            } else {
                "little"
            },
            args.out
                .as_ref()
                .map(|p| format!(", written to {}", p.display()))
                .unwrap_or_default()
        );
        println!();
        print!("{}", bpf::disassemble(&prog));
    }
    Ok(())
}

/// Makes the recipe's calls, printing each with its outcome when `log` is set.
fn replay(recipe: &Recipe, log: bool) -> Result<ScmpFilterContext, String> {
    let print = |mut call: Value, ok: bool| {
        if log {
            call["ok"] = json!(ok);
            println!("{call}");
        }
    };
    let mut ctx = None::<ScmpFilterContext>;
    for call in recipe.calls() {
        if let Call::New(action) = call {
            let c = ScmpFilterContext::new(action).map_err(|e| format!("new({action:?}): {e}"))?;
            print(json!({"op": "new", "action": action_json(action)}), true);
            ctx = Some(c);
            continue;
        }
        let ctx = ctx.as_mut().ok_or("the recipe does not start with `new`")?;
        let (json, res) = match &call {
            Call::RemoveArch(a) => (
                json!({"op": "remove_arch", "arch": a.to_string()}),
                ctx.remove_arch(*a).map(|_| ()),
            ),
            Call::AddArch(a) => (
                json!({"op": "add_arch", "arch": a.to_string()}),
                ctx.add_arch(*a).map(|_| ()),
            ),
            Call::SetFilterAttr(attr, v) => (
                json!({"op": "set_filter_attr", "attr": format!("{attr:?}"), "value": v}),
                ctx.set_filter_attr(*attr, *v).map(|_| ()),
            ),
            Call::SetCtlOptimize(level) => (
                json!({"op": "set_ctl_optimize", "level": level}),
                ctx.set_ctl_optimize(*level).map(|_| ()),
            ),
            Call::AddRule(rule) => {
                let sys = ScmpSyscall::from_name(&rule.syscall)
                    .map_err(|e| format!("{}: {e}", rule.syscall))?;
                let op = if rule.conditions.is_empty() {
                    "add_rule"
                } else {
                    "add_rule_conditional"
                };
                let mut json = json!({
                    "op": op,
                    "action": action_json(rule.action),
                    "syscall": {"by": "name", "name": rule.syscall, "nr": sys.as_raw_syscall()},
                });
                let res = if rule.conditions.is_empty() {
                    ctx.add_rule(rule.action, sys).map(|_| ())
                } else {
                    json["comparators"] = rule.conditions.iter().map(cond_json).collect();
                    ctx.add_rule_conditional(rule.action, sys, &rule.conditions)
                        .map(|_| ())
                };
                (json, res)
            }
            other => return Err(format!("unexpected call {other:?}")),
        };
        if let Err(e) = res {
            return Err(format!("{json}: {e}"));
        }
        print(json, true);
    }
    ctx.ok_or_else(|| "the recipe has no `new`".to_string())
}

fn names(arches: &[ScmpArch]) -> String {
    arches
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// An action in the conformance corpus' notation.
fn action_json(a: ScmpAction) -> Value {
    match a {
        ScmpAction::Errno(n) => json!({ "Errno": n }),
        ScmpAction::Trace(n) => json!({ "Trace": n }),
        other => json!(format!("{other:?}")),
    }
}

/// A condition in the conformance corpus' notation.
fn cond_json(c: &ScmpArgCompare) -> Value {
    let op = match c.op() {
        ScmpCompareOp::Equal => "Eq",
        ScmpCompareOp::NotEqual => "Ne",
        ScmpCompareOp::Less => "Lt",
        ScmpCompareOp::LessOrEqual => "Le",
        ScmpCompareOp::Greater => "Gt",
        ScmpCompareOp::GreaterEqual => "Ge",
        ScmpCompareOp::MaskedEqual(mask) => {
            return json!({
                "arg": c.arg(),
                "op": "MaskedEqual",
                "mask": mask.to_string(),
                "datum": c.datum().to_string(),
            });
        }
        #[allow(unreachable_patterns)]
        _ => "?",
    };
    json!({"arg": c.arg(), "op": op, "datum": c.datum().to_string()})
}

// ---------------------------------------------------------------------------------------------
// Command line

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        policy: PathBuf::new(),
        arch: None,
        opt: 1,
        filter: None,
        caps: Vec::new(),
        kernel: None,
        out: None,
        calls: false,
    };
    let mut policy = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--arch" => {
                let v = value("--arch")?;
                args.arch = Some(parse_arch(&v).ok_or(format!("unknown architecture {v:?}"))?);
            }
            "--opt" => {
                args.opt = match value("--opt")?.as_str() {
                    "1" => 1,
                    "2" => 2,
                    o => return Err(format!("--opt takes 1 or 2, not {o:?}")),
                }
            }
            "--filter" => args.filter = Some(value("--filter")?),
            "--cap" => args.caps.push(value("--cap")?),
            "--kernel" => {
                let v = value("--kernel")?;
                let parsed = v
                    .split_once('.')
                    .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
                args.kernel = Some(parsed.ok_or(format!("--kernel takes X.Y, not {v:?}"))?);
            }
            "--out" => args.out = Some(PathBuf::from(value("--out")?)),
            "--calls" => args.calls = true,
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
            s if policy.is_none() => policy = Some(PathBuf::from(s)),
            s => return Err(format!("unexpected argument {s:?}\n{USAGE}")),
        }
    }
    args.policy = match policy {
        Some(p) => p,
        None => default_policy()?,
    };
    Ok(args)
}

/// `docker-default.json` in the shared material: `$PURE_SECCOMP_SHARED`, else `shared/` beside
/// the crate root (or one level further up).
fn default_policy() -> Result<PathBuf, String> {
    let rel = Path::new("policies").join("docker-default.json");
    if let Some(dir) = std::env::var_os("PURE_SECCOMP_SHARED") {
        return Ok(PathBuf::from(dir).join(rel));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tried: Vec<PathBuf> = root
        .ancestors()
        .skip(1)
        .take(2)
        .map(|a| a.join("shared").join(&rel))
        .collect();
    tried.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        format!(
            "no policy given and none found at {}; pass a path, or set PURE_SECCOMP_SHARED",
            tried
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        )
    })
}
