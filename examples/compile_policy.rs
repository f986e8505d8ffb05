//! Compiles an OCI / Docker seccomp profile (JSON) into a seccomp-BPF program, interpreting it
//! the way moby and runc do for one native architecture, and prints a summary and the
//! program's disassembly.
//!
//! ```text
//! cargo run --release --example compile_policy -- [PROFILE.json] [--arch ARCH] [--opt 1|2]
//!                                                  [--out FILE] [--calls]
//! ```
//!
//! * `PROFILE.json`: default `../shared/policies/docker-default.json` beside the clone (or
//!   under `$PURE_SECCOMP_SHARED`).
//! * `--arch ARCH`: the native architecture to build for, as `SCMP_ARCH_*` (`SCMP_ARCH_S390X`),
//!   libseccomp's name (`s390x`, `aarch64`) or Go's (`arm64`, `mips64le`); default: this
//!   machine's. The filter covers the profile's `archMap` entry for it (or its `architectures`).
//! * `--opt 1|2`: libseccomp's optimize level (1: sorted per arch, 2: binary tree); default 1.
//! * `--out FILE`: also write the raw program, as the kernel takes it, to `FILE`.
//! * `--calls`: print the API calls made, one JSON object a line in the schema of
//!   `../shared/conformance/` (with their outcome), instead of the disassembly.
//!
//! How the profile is read (moby's `profiles/seccomp` then runc's `libcontainer/seccomp`), for
//! a container with no capabilities on a kernel newer than any `minKernel`:
//!
//! * arches: the `archMap` entry whose `architecture` is the target, then its
//!   `subArchitectures` (or the legacy `architectures` list; or the target alone);
//! * a syscall block is skipped when `excludes.arches` has the target's Go arch name, when
//!   `includes.arches` is set and lacks it, when `includes.caps` is set (no capabilities), or
//!   when `excludes.minKernel` is set; `excludes.caps` and `includes.minKernel` never skip;
//! * action `SCMP_ACT_ERRNO` / `SCMP_ACT_TRACE` take `errnoRet` (`defaultErrnoRet` for the
//!   default action), else EPERM; a rule whose action equals the default action is dropped;
//! * `SCMP_CMP_MASKED_EQ` takes `value` as the mask and `valueTwo` as the datum; when a block
//!   compares one argument index more than once, each condition becomes a rule of its own;
//! * syscall names this crate does not know are skipped with a note on stderr.

use pure_seccomp::{
    bpf, Endian, ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext,
    ScmpSyscall,
};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

const USAGE: &str =
    "usage: compile_policy [PROFILE.json] [--arch ARCH] [--opt 1|2] [--out FILE] [--calls]";

/// `EPERM`, the errno runc uses when a profile gives none.
const EPERM: i32 = 1;

struct Args {
    profile: PathBuf,
    arch: ScmpArch,
    opt: u32,
    out: Option<PathBuf>,
    calls: bool,
}

/// One rule to add: a syscall name, an action and its conditions (empty: unconditional).
struct Rule {
    name: String,
    action: ScmpAction,
    conds: Vec<Cond>,
}

/// One argument condition, kept apart from `ScmpArgCompare` to print it.
#[derive(Clone, Copy)]
struct Cond {
    arg: u32,
    op: ScmpCompareOp,
    datum: u64,
}

impl Cond {
    fn cmp(self) -> ScmpArgCompare {
        ScmpArgCompare::new(self.arg, self.op, self.datum)
    }
}

/// How the profile's syscall blocks were used.
#[derive(Default)]
struct Stats {
    blocks_used: usize,
    skipped_arch: usize,
    skipped_caps: usize,
    skipped_kernel: usize,
    dropped_default: usize,
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
    let text = std::fs::read_to_string(&args.profile)
        .map_err(|e| format!("cannot read {}: {e}", args.profile.display()))?;
    let profile: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON: {e}", args.profile.display()))?;

    let default = action(
        profile["defaultAction"]
            .as_str()
            .ok_or("the profile has no defaultAction")?,
        errno_ret(&profile["defaultErrnoRet"])?,
    )?;
    let arches = arches(&profile, args.arch)?;
    let go_arch = go_arch(args.arch);
    let mut stats = Stats::default();
    let rules = rules(&profile, go_arch, default, &mut stats)?;

    // Build the filter, as the corpus' Docker cases do.
    let mut log = CallLog { on: args.calls };
    let mut ctx = ScmpFilterContext::new(default).map_err(|e| format!("new({default:?}): {e}"))?;
    log.call(json!({"op": "new", "action": action_json(default)}), true);
    if !arches.contains(&ScmpArch::native()) {
        ctx.remove_arch(ScmpArch::Native)
            .map_err(|e| format!("remove_arch(native): {e}"))?;
        log.call(
            json!({"op": "remove_arch", "arch": "SCMP_ARCH_NATIVE"}),
            true,
        );
    }
    for &a in &arches {
        ctx.add_arch(a)
            .map_err(|e| format!("add_arch({}): {e}", arch_token(a)))?;
        log.call(json!({"op": "add_arch", "arch": arch_token(a)}), true);
    }
    ctx.set_ctl_optimize(args.opt)
        .map_err(|e| format!("set_ctl_optimize({}): {e}", args.opt))?;
    log.call(json!({"op": "set_ctl_optimize", "level": args.opt}), true);

    let mut unknown = BTreeSet::new();
    let (mut plain, mut conditional) = (0, 0);
    for rule in &rules {
        let op = if rule.conds.is_empty() {
            "add_rule"
        } else {
            "add_rule_conditional"
        };
        let mut call = json!({"op": op, "action": action_json(rule.action)});
        if !rule.conds.is_empty() {
            call["comparators"] = rule.conds.iter().map(cond_json).collect();
        }
        let sys = match ScmpSyscall::from_name(&rule.name) {
            Ok(sys) => sys,
            Err(_) => {
                if unknown.insert(rule.name.clone()) {
                    eprintln!("note: skipping syscall {:?}: unknown name", rule.name);
                }
                call["syscall"] = json!({"by": "name", "name": rule.name, "nr": null});
                log.call(call, false);
                continue;
            }
        };
        call["syscall"] = json!({"by": "name", "name": rule.name, "nr": sys.as_raw_syscall()});
        let res = if rule.conds.is_empty() {
            plain += 1;
            ctx.add_rule(rule.action, sys).map(|_| ())
        } else {
            conditional += 1;
            let cmps: Vec<ScmpArgCompare> = rule.conds.iter().map(|c| c.cmp()).collect();
            ctx.add_rule_conditional(rule.action, sys, &cmps)
                .map(|_| ())
        };
        if let Err(e) = res {
            return Err(format!(
                "{op}({:?}, {}, {}): {e}",
                rule.action,
                rule.name,
                describe_conds(&rule.conds)
            ));
        }
        log.call(call, true);
    }

    let bytes = ctx
        .export_bpf_mem()
        .map_err(|e| format!("export_bpf_mem: {e}"))?;
    if let Some(out) = &args.out {
        std::fs::write(out, &bytes).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    }
    let endian = arch_endian(arches[0]);
    let prog = bpf::decode(&bytes, endian).map_err(|e| format!("exported program: {e:?}"))?;
    if args.calls {
        return Ok(());
    }

    let names = |v: &[ScmpArch]| {
        v.iter()
            .map(|&a| arch_token(a))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("profile:  {}", args.profile.display());
    println!("target:   {} (Go arch {go_arch})", arch_token(args.arch));
    println!("arches:   {}", names(&arches));
    println!("optimize: {}", args.opt);
    println!("default:  {default:?}");
    println!(
        "blocks:   {} used; skipped: {} for other arches, {} needing capabilities, {} excluded by kernel version",
        stats.blocks_used, stats.skipped_arch, stats.skipped_caps, stats.skipped_kernel
    );
    println!(
        "rules:    {} added ({plain} unconditional, {conditional} conditional); {} dropped (same action as the default); {} unknown syscall names skipped",
        plain + conditional,
        stats.dropped_default,
        unknown.len()
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
    Ok(())
}

/// Prints the API calls in the conformance corpus' schema when `--calls` is given.
struct CallLog {
    on: bool,
}

impl CallLog {
    fn call(&mut self, mut call: Value, ok: bool) {
        if self.on {
            call["ok"] = json!(ok);
            println!("{call}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Command line

fn parse_args() -> Result<Args, String> {
    let mut profile = None;
    let mut arch = ScmpArch::native();
    let mut opt = 1;
    let mut out = None;
    let mut calls = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--arch" => arch = parse_arch(&value("--arch")?)?,
            "--opt" => {
                opt = match value("--opt")?.as_str() {
                    "1" => 1,
                    "2" => 2,
                    o => return Err(format!("--opt takes 1 or 2, not {o:?}")),
                }
            }
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--calls" => calls = true,
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
            s if profile.is_none() => profile = Some(PathBuf::from(s)),
            s => return Err(format!("unexpected argument {s:?}\n{USAGE}")),
        }
    }
    if arch == ScmpArch::Native {
        return Err("this machine's architecture is not supported; pass --arch".into());
    }
    let profile = match profile {
        Some(p) => p,
        None => default_profile()?,
    };
    Ok(Args {
        profile,
        arch,
        opt,
        out,
        calls,
    })
}

/// `docker-default.json` in the shared material: `$PURE_SECCOMP_SHARED`, else `shared/` beside
/// the crate root (or one level further up).
fn default_profile() -> Result<PathBuf, String> {
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
            "no profile given and none found at {}; pass a path, or set PURE_SECCOMP_SHARED",
            tried
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        )
    })
}

/// `SCMP_ARCH_*`, libseccomp's lower-case name, Go's name, or `native`.
fn parse_arch(s: &str) -> Result<ScmpArch, String> {
    if s == "native" {
        return Ok(ScmpArch::native());
    }
    let lower = s.to_ascii_lowercase();
    let name = match lower.as_str() {
        "amd64" => "x86_64",
        "386" | "i386" | "i686" => "x86",
        "arm64" => "aarch64",
        "loong64" => "loongarch64",
        "mipsle" => "mipsel",
        "mips64le" => "mipsel64",
        "mips64p32" => "mips64n32",
        "mips64p32le" => "mipsel64n32",
        other => other,
    };
    let token = if s.starts_with("SCMP_ARCH_") {
        s.to_string()
    } else {
        format!("SCMP_ARCH_{}", name.to_ascii_uppercase())
    };
    match ScmpArch::from_str(&token) {
        Ok(ScmpArch::Native) => Ok(ScmpArch::native()),
        Ok(a) => Ok(a),
        Err(_) => Err(format!("unknown architecture {s:?}")),
    }
}

// ---------------------------------------------------------------------------------------------
// The profile

/// The filter's arches for `target`: its `archMap` entry (`architecture`, then
/// `subArchitectures`), or the legacy `architectures` list, or `target` alone.
fn arches(profile: &Value, target: ScmpArch) -> Result<Vec<ScmpArch>, String> {
    let parse = |v: &Value| -> Result<ScmpArch, String> {
        let s = v.as_str().ok_or_else(|| format!("bad architecture {v}"))?;
        ScmpArch::from_str(s).map_err(|_| format!("unknown architecture {s:?} in the profile"))
    };
    let legacy = profile["architectures"]
        .as_array()
        .filter(|a| !a.is_empty());
    let map = profile["archMap"].as_array().filter(|a| !a.is_empty());
    let mut out = Vec::new();
    match (legacy, map) {
        (Some(_), Some(_)) => {
            return Err("the profile has both `architectures` and `archMap`".into());
        }
        (Some(list), None) => {
            for v in list {
                out.push(parse(v)?);
            }
        }
        (None, Some(map)) => {
            for entry in map {
                if parse(&entry["architecture"])? != target {
                    continue;
                }
                out.push(target);
                for v in entry["subArchitectures"].as_array().into_iter().flatten() {
                    out.push(parse(v)?);
                }
            }
        }
        (None, None) => {}
    }
    if out.is_empty() {
        out.push(target);
    }
    let mut unique: Vec<ScmpArch> = Vec::new();
    for a in out {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    Ok(unique)
}

/// The rules of the profile's syscall blocks that apply to `go_arch`, in profile order.
fn rules(
    profile: &Value,
    go_arch: &str,
    default: ScmpAction,
    stats: &mut Stats,
) -> Result<Vec<Rule>, String> {
    let has = |v: &Value, what: &str| -> bool {
        v[what]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x.as_str() == Some(go_arch)))
    };
    let non_empty = |v: &Value| v.as_array().is_some_and(|l| !l.is_empty());
    let mut rules = Vec::new();
    for (b, block) in profile["syscalls"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let (inc, exc) = (&block["includes"], &block["excludes"]);
        if has(exc, "arches") || (non_empty(&inc["arches"]) && !has(inc, "arches")) {
            stats.skipped_arch += 1;
            continue;
        }
        if non_empty(&inc["caps"]) {
            stats.skipped_caps += 1;
            continue;
        }
        if exc["minKernel"].as_str().is_some_and(|s| !s.is_empty()) {
            stats.skipped_kernel += 1;
            continue;
        }
        stats.blocks_used += 1;

        let act = action(
            block["action"]
                .as_str()
                .ok_or_else(|| format!("syscall block {b} has no action"))?,
            errno_ret(&block["errnoRet"])?,
        )?;
        let mut names: Vec<&str> = block["names"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if let Some(n) = block["name"].as_str() {
            names.push(n);
        }
        if act == default {
            stats.dropped_default += names.len();
            continue;
        }

        let mut conds = Vec::new();
        let mut indexes = BTreeSet::new();
        let mut repeated = false;
        for arg in block["args"].as_array().into_iter().flatten() {
            let (cond, index) = condition(arg).map_err(|e| format!("syscall block {b}: {e}"))?;
            repeated |= !indexes.insert(index);
            conds.push(cond);
        }
        for name in names {
            if repeated {
                for c in &conds {
                    rules.push(Rule {
                        name: name.to_string(),
                        action: act,
                        conds: vec![*c],
                    });
                }
            } else {
                rules.push(Rule {
                    name: name.to_string(),
                    action: act,
                    conds: conds.clone(),
                });
            }
        }
    }
    Ok(rules)
}

/// One `{"index", "value", "valueTwo", "op"}` condition, and its argument index.
fn condition(arg: &Value) -> Result<(Cond, u32), String> {
    let index = arg["index"]
        .as_u64()
        .filter(|&i| i < 6)
        .ok_or_else(|| format!("bad argument index in {arg}"))? as u32;
    let value = arg["value"]
        .as_u64()
        .ok_or_else(|| format!("bad value in {arg}"))?;
    let value_two = match &arg["valueTwo"] {
        Value::Null => 0,
        v => v.as_u64().ok_or_else(|| format!("bad valueTwo in {arg}"))?,
    };
    let op_name = arg["op"]
        .as_str()
        .ok_or_else(|| format!("no op in {arg}"))?;
    let op = ScmpCompareOp::from_str(op_name).map_err(|_| format!("unknown op {op_name:?}"))?;
    let cond = match op {
        ScmpCompareOp::MaskedEqual(_) => Cond {
            arg: index,
            op: ScmpCompareOp::MaskedEqual(value),
            datum: value_two,
        },
        op => Cond {
            arg: index,
            op,
            datum: value,
        },
    };
    Ok((cond, index))
}

fn errno_ret(v: &Value) -> Result<Option<i32>, String> {
    match v {
        Value::Null => Ok(None),
        v => v
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| format!("bad errnoRet {v}")),
    }
}

/// runc's reading of an action: ERRNO and TRACE take `errnoRet`, else EPERM.
fn action(name: &str, errno_ret: Option<i32>) -> Result<ScmpAction, String> {
    let errno = errno_ret.unwrap_or(EPERM);
    match name {
        "SCMP_ACT_ERRNO" => Ok(ScmpAction::Errno(errno)),
        "SCMP_ACT_TRACE" => u16::try_from(errno)
            .map(ScmpAction::Trace)
            .map_err(|_| format!("bad SCMP_ACT_TRACE value {errno}")),
        _ => ScmpAction::from_str(name, None).map_err(|_| format!("unknown action {name:?}")),
    }
}

/// The `GOARCH` moby compares `includes.arches` / `excludes.arches` with.
fn go_arch(arch: ScmpArch) -> &'static str {
    match arch {
        ScmpArch::X8664 => "amd64",
        ScmpArch::X86 => "386",
        ScmpArch::X32 => "x32",
        ScmpArch::Arm => "arm",
        ScmpArch::Aarch64 => "arm64",
        ScmpArch::Loongarch64 => "loong64",
        ScmpArch::M68k => "m68k",
        ScmpArch::Mips => "mips",
        ScmpArch::Mipsel => "mipsle",
        ScmpArch::Mips64 => "mips64",
        ScmpArch::Mipsel64 => "mips64le",
        ScmpArch::Mips64N32 => "mips64p32",
        ScmpArch::Mipsel64N32 => "mips64p32le",
        ScmpArch::Ppc => "ppc",
        ScmpArch::Ppc64 => "ppc64",
        ScmpArch::Ppc64Le => "ppc64le",
        ScmpArch::S390 => "s390",
        ScmpArch::S390X => "s390x",
        ScmpArch::Parisc => "parisc",
        ScmpArch::Parisc64 => "parisc64",
        ScmpArch::Riscv64 => "riscv64",
        ScmpArch::Sh => "sh",
        ScmpArch::Sheb => "sheb",
        _ => "unknown",
    }
}

/// The byte order of the programs written for `arch`.
fn arch_endian(arch: ScmpArch) -> Endian {
    match arch {
        ScmpArch::M68k
        | ScmpArch::Mips
        | ScmpArch::Mips64
        | ScmpArch::Mips64N32
        | ScmpArch::Ppc
        | ScmpArch::Ppc64
        | ScmpArch::S390
        | ScmpArch::S390X
        | ScmpArch::Parisc
        | ScmpArch::Parisc64
        | ScmpArch::Sheb => Endian::Big,
        _ => Endian::Little,
    }
}

// ---------------------------------------------------------------------------------------------
// Printing

fn describe_conds(conds: &[Cond]) -> String {
    let parts: Vec<String> = conds
        .iter()
        .map(|c| match c.op {
            ScmpCompareOp::MaskedEqual(mask) => {
                format!("arg{} & {mask:#x} == {:#x}", c.arg, c.datum)
            }
            op => format!("arg{} {op:?} {:#x}", c.arg, c.datum),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// An action in the conformance corpus' notation.
fn action_json(a: ScmpAction) -> Value {
    match a {
        ScmpAction::KillProcess => json!("KillProcess"),
        ScmpAction::KillThread => json!("KillThread"),
        ScmpAction::Trap => json!("Trap"),
        ScmpAction::Notify => json!("Notify"),
        ScmpAction::Errno(n) => json!({ "Errno": n }),
        ScmpAction::Trace(n) => json!({ "Trace": n }),
        ScmpAction::Log => json!("Log"),
        ScmpAction::Allow => json!("Allow"),
        #[allow(unreachable_patterns)]
        other => json!(format!("{other:?}")),
    }
}

/// A condition in the conformance corpus' notation.
fn cond_json(c: &Cond) -> Value {
    let op = match c.op {
        ScmpCompareOp::Equal => "Eq",
        ScmpCompareOp::NotEqual => "Ne",
        ScmpCompareOp::Less => "Lt",
        ScmpCompareOp::LessOrEqual => "Le",
        ScmpCompareOp::Greater => "Gt",
        ScmpCompareOp::GreaterEqual => "Ge",
        ScmpCompareOp::MaskedEqual(mask) => {
            return json!({
                "arg": c.arg,
                "op": "MaskedEqual",
                "mask": mask.to_string(),
                "datum": c.datum.to_string(),
            });
        }
        #[allow(unreachable_patterns)]
        _ => "?",
    };
    json!({"arg": c.arg, "op": op, "datum": c.datum.to_string()})
}

/// libseccomp's `SCMP_ARCH_*` name of an architecture.
fn arch_token(arch: ScmpArch) -> &'static str {
    match arch {
        ScmpArch::Native => "SCMP_ARCH_NATIVE",
        ScmpArch::X86 => "SCMP_ARCH_X86",
        ScmpArch::X8664 => "SCMP_ARCH_X86_64",
        ScmpArch::X32 => "SCMP_ARCH_X32",
        ScmpArch::Arm => "SCMP_ARCH_ARM",
        ScmpArch::Aarch64 => "SCMP_ARCH_AARCH64",
        ScmpArch::Loongarch64 => "SCMP_ARCH_LOONGARCH64",
        ScmpArch::M68k => "SCMP_ARCH_M68K",
        ScmpArch::Mips => "SCMP_ARCH_MIPS",
        ScmpArch::Mips64 => "SCMP_ARCH_MIPS64",
        ScmpArch::Mips64N32 => "SCMP_ARCH_MIPS64N32",
        ScmpArch::Mipsel => "SCMP_ARCH_MIPSEL",
        ScmpArch::Mipsel64 => "SCMP_ARCH_MIPSEL64",
        ScmpArch::Mipsel64N32 => "SCMP_ARCH_MIPSEL64N32",
        ScmpArch::Ppc => "SCMP_ARCH_PPC",
        ScmpArch::Ppc64 => "SCMP_ARCH_PPC64",
        ScmpArch::Ppc64Le => "SCMP_ARCH_PPC64LE",
        ScmpArch::S390 => "SCMP_ARCH_S390",
        ScmpArch::S390X => "SCMP_ARCH_S390X",
        ScmpArch::Parisc => "SCMP_ARCH_PARISC",
        ScmpArch::Parisc64 => "SCMP_ARCH_PARISC64",
        ScmpArch::Riscv64 => "SCMP_ARCH_RISCV64",
        ScmpArch::Sh => "SCMP_ARCH_SH",
        ScmpArch::Sheb => "SCMP_ARCH_SHEB",
        #[allow(unreachable_patterns)]
        _ => "SCMP_ARCH_?",
    }
}
