//! What the commands read: a policy file (OCI / Docker / Podman, Firecracker, minijail,
//! allow-list), the embedded default policy, or an already compiled program (raw bytes, or
//! the `hex` format), and the programs they give.

use crate::arches;
use crate::Fail;
use pure_seccomp::bpf::{self, Instruction, SeccompData, SECCOMP_RET_ACTION_FULL};
use pure_seccomp::policy::{Format, Policy, Recipe, Target};
use pure_seccomp::{Endian, ScmpArch};
use std::io::{IsTerminal, Read};
use std::path::Path;

/// The embedded default policy (`cli/default-policy.json`).
pub const DEFAULT_POLICY: &str = include_str!("../default-policy.json");

/// What a command was given.
pub enum Source {
    /// A policy, with a label for messages (the path, or "the embedded default policy").
    Policy { label: String, policy: Policy },
    /// A compiled program for one ABI (its bytes cannot say which).
    Program {
        label: String,
        prog: Vec<Instruction>,
        arch: ScmpArch,
    },
}

impl Source {
    /// How messages name it.
    pub fn label(&self) -> &str {
        match self {
            Source::Policy { label, .. } | Source::Program { label, .. } => label,
        }
    }
}

/// How to build a policy's filters.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// Target architectures; empty: the default (a Firecracker file's or a minijail
    /// policy's own, else this machine's).
    pub arches: Vec<ScmpArch>,
    /// Only the filter of this name (Firecracker's `vmm`, a systemd `@group`).
    pub filter: Option<String>,
    /// Optimize level, 1 or 2.
    pub optimize: u32,
    /// Capabilities for OCI `includes`/`excludes`.
    pub caps: Vec<String>,
    /// Kernel version for OCI `minKernel`.
    pub kernel: Option<(u32, u32)>,
    /// The optimizer passes switched on (`--no-pass` takes them off).
    pub passes: pure_seccomp::opt::Passes,
}

/// One compiled filter, for one target.
pub struct Compiled {
    /// The filter's name (`""` for an OCI profile's single filter).
    pub name: String,
    /// The primary architecture it was built for.
    pub target: ScmpArch,
    /// Every ABI it covers, the primary first.
    pub abis: Vec<ScmpArch>,
    /// The program.
    pub prog: Vec<Instruction>,
    /// Its byte order.
    pub endian: Endian,
    /// The recipe, when it came from a policy.
    pub recipe: Option<Recipe>,
    /// The filter context, when it came from a policy (for `pfc`).
    pub ctx: Option<pure_seccomp::ScmpFilterContext>,
}

impl Compiled {
    /// `x86_64 (+x86, x32)`.
    pub fn abis_label(&self) -> String {
        let mut s = arches::short(self.target).to_string();
        let others: Vec<&str> = self
            .abis
            .iter()
            .filter(|&&a| a != self.target)
            .map(|&a| arches::short(a))
            .collect();
        if !others.is_empty() {
            s.push_str(&format!(" (+{})", others.join(", ")));
        }
        s
    }

    /// `vmm x86_64` / `x86_64`: how messages name it.
    pub fn title(&self) -> String {
        if self.name.is_empty() {
            self.abis_label()
        } else {
            format!("{} {}", self.name, self.abis_label())
        }
    }

    /// The program's verdict (return value) for a call.
    pub fn verdict(&self, abi: ScmpArch, nr: u32, args: [u64; 6]) -> u32 {
        self.run(abi, nr, args).ret
    }

    /// Simulates a call of `abi`.
    pub fn run(&self, abi: ScmpArch, nr: u32, args: [u64; 6]) -> bpf::Outcome {
        let data = data(abi, nr, args);
        // A program the simulator cannot run is one the kernel would not have loaded;
        // treat it as killing.
        bpf::simulate(&self.prog, &data, self.endian).unwrap_or(bpf::Outcome {
            ret: bpf::SECCOMP_RET_KILL_PROCESS,
            executed: 0,
        })
    }
}

/// The `seccomp_data` of a call.
pub fn data(abi: ScmpArch, nr: u32, args: [u64; 6]) -> SeccompData {
    SeccompData {
        nr: nr as i32,
        arch: arches::audit(abi),
        instruction_pointer: 0,
        args,
    }
}

/// Whether a verdict lets the call run (ALLOW, LOG).
pub fn allows(ret: u32) -> bool {
    matches!(
        ret & SECCOMP_RET_ACTION_FULL,
        bpf::SECCOMP_RET_ALLOW | bpf::SECCOMP_RET_LOG
    )
}

/// Opens what a command was given: `None` is the embedded default policy, `-` standard
/// input. A file holding a NUL byte, or only pairs of hex digits (the `hex` format), is a
/// compiled program, which needs `arch`; anything else is a policy.
pub fn open(path: Option<&Path>, arch: Option<ScmpArch>) -> Result<Source, Fail> {
    open_with(path, arch, true)
}

/// [`open`], where a program the kernel would refuse is an error (`strict`) or a warning.
fn open_with(path: Option<&Path>, arch: Option<ScmpArch>, strict: bool) -> Result<Source, Fail> {
    let Some(path) = path else {
        let policy = Policy::parse(DEFAULT_POLICY)
            .map_err(|e| Fail::input(format!("the embedded default policy: {e}")))?;
        return Ok(Source::Policy {
            label: "the embedded default policy".into(),
            policy,
        });
    };
    let (label, bytes) = read(path)?;
    let program = if bytes.contains(&0) {
        Some(bytes.clone())
    } else {
        std::str::from_utf8(&bytes).ok().and_then(parse_hex)
    };
    if let Some(raw) = program {
        let arch = arch.ok_or_else(|| {
            Fail::input(format!(
                "{label} is a compiled program: say which architecture it is for with --arch \
                 (its bytes do not say)"
            ))
        })?;
        let prog = bpf::decode(&raw, arches::endian(arch))
            .map_err(|e| Fail::input(format!("{label}: not a BPF program: {e}")))?;
        if prog.is_empty() {
            return Err(Fail::input(format!("{label}: empty program")));
        }
        // What the kernel would refuse to load has no verdicts to simulate or audit; `disasm`
        // shows it anyway, with a warning (see `open_for_listing`).
        if let Err(e) = bpf::validate(&prog) {
            let msg = format!("{label}: not a program the kernel would load: {e}");
            if strict {
                return Err(Fail::input(msg));
            }
            eprintln!("warning: {msg}");
        }
        return Ok(Source::Program { label, prog, arch });
    }
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Err(Fail::input(format!(
            "{label}: neither a policy (it is not UTF-8 text) nor a compiled program (every \
             BPF instruction holds a 0 byte, as its code's high byte; this file has none)"
        )));
    };
    // (From the bytes read above: a pipe or /dev/stdin cannot be read a second time.)
    let policy = Policy::parse_at(text, path).map_err(|e| Fail::input(format!("{label}: {e}")))?;
    Ok(Source::Policy { label, policy })
}

/// The bytes of `path`, with how messages name it; `-` is standard input (a minijail
/// policy read from it takes its includes and constants from the current directory).
fn read(path: &Path) -> Result<(String, Vec<u8>), Fail> {
    if path.as_os_str() != "-" {
        let label = path.display().to_string();
        let bytes =
            std::fs::read(path).map_err(|e| Fail::input(format!("cannot read {label}: {e}")))?;
        return Ok((label, bytes));
    }
    let label = "standard input".to_string();
    let mut stdin = std::io::stdin().lock();
    // Waiting for a policy typed at the terminal is never what was meant.
    if stdin.is_terminal() {
        return Err(Fail::input(
            "`-` reads the policy or program from standard input, which is a terminal here: \
             pipe it in, or name a file (with no FILE, the embedded default policy is used)",
        ));
    }
    let mut bytes = Vec::new();
    stdin
        .read_to_end(&mut bytes)
        .map_err(|e| Fail::input(format!("cannot read {label}: {e}")))?;
    Ok((label, bytes))
}

/// [`open`] for `disasm`: a program the kernel would refuse is still listed, after a warning
/// on stderr that says why.
pub fn open_for_listing(path: &Path, arch: Option<ScmpArch>) -> Result<Source, Fail> {
    open_with(Some(path), arch, false)
}

/// The bytes of the `hex` format: whitespace-separated pairs of hex digits, `#` comments.
/// `None` when the text is anything else (or empty).
fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        for tok in line.split_whitespace() {
            if tok.len() != 2 {
                return None;
            }
            out.push(u8::from_str_radix(tok, 16).ok()?);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The targets to build a policy for: `opts.arches`, `all` expanded, or the default (with a
/// note, unless `quiet`, where a file made for one architecture does not say which).
fn targets(
    label: &str,
    policy: &Policy,
    opts: &BuildOptions,
    all: bool,
    quiet: bool,
) -> Result<Vec<ScmpArch>, Fail> {
    if all {
        let t = policy.targets();
        return Ok(if t.is_empty() {
            ScmpArch::all().collect()
        } else {
            t
        });
    }
    if !opts.arches.is_empty() {
        return Ok(opts.arches.clone());
    }
    // Files made for one architecture: Firecracker's (their name), minijail's (their
    // constants.json). Where neither says, the choice made for it is worth a line.
    let one_arch = matches!(policy.format(), Format::Firecracker | Format::Minijail);
    if one_arch {
        if let Some(&a) = policy.targets().first() {
            return Ok(vec![a]);
        }
    }
    match ScmpArch::native() {
        ScmpArch::Native => Err(Fail::input(
            "this machine's architecture is not one seccomp filters are built for; pass --arch",
        )),
        a => {
            if one_arch && !quiet {
                eprintln!(
                    "note: {label} does not say which architecture it is for (a Firecracker \
                     file's name does, as seccompiler's `aarch64-unknown-linux-musl.json`; a \
                     minijail policy's constants.json does): built for this machine's, {}; \
                     --arch chooses",
                    arches::short(a)
                );
            }
            Ok(vec![a])
        }
    }
}

/// Compiles every filter of a policy for every target (`all_arches`: each one it names).
/// Notes on skipped syscall names go to stderr unless `quiet`.
pub fn compile(
    label: &str,
    policy: &Policy,
    opts: &BuildOptions,
    all_arches: bool,
    quiet: bool,
) -> Result<Vec<Compiled>, Fail> {
    let mut out = Vec::new();
    for arch in targets(label, policy, opts, all_arches, quiet)? {
        let mut target = Target::new(arch).caps(opts.caps.iter().cloned());
        target.kernel = opts.kernel;
        let mut recipes = policy
            .filters(&target)
            .map_err(|e| Fail::input(format!("{label}: {e}")))?;
        if let Some(name) = &opts.filter {
            let names: Vec<String> = recipes.iter().map(|r| r.name.clone()).collect();
            recipes.retain(|r| &r.name == name);
            if recipes.is_empty() {
                return Err(Fail::input(format!(
                    "{label} has no filter {name:?} (it has: {})",
                    names.join(", ")
                )));
            }
        }
        for mut recipe in recipes {
            recipe.optimize = Some(opts.optimize);
            if !quiet && !recipe.skipped.is_empty() {
                eprintln!(
                    "note: {label}: {} syscall name(s) unknown to pure-seccomp skipped: {}",
                    recipe.skipped.len(),
                    recipe.skipped.join(", ")
                );
            }
            let what = if recipe.name.is_empty() {
                arches::short(arch).to_string()
            } else {
                format!("filter {:?} for {}", recipe.name, arches::short(arch))
            };
            let mut ctx = recipe
                .build()
                .map_err(|e| Fail::input(format!("{label}: {what}: {e}")))?;
            ctx.set_opt_passes(opts.passes);
            let endian = ctx.byte_order();
            let bytes = ctx
                .export_bpf_mem()
                .map_err(|e| Fail::input(format!("{label}: {what}: {e}")))?;
            let prog = bpf::decode(&bytes, endian)
                .map_err(|e| Fail::input(format!("{label}: {what}: exported program: {e}")))?;
            out.push(Compiled {
                name: recipe.name.clone(),
                target: arch,
                abis: recipe.arches.clone(),
                prog,
                endian,
                recipe: Some(recipe),
                ctx: Some(ctx),
            });
        }
    }
    Ok(out)
}

/// Every constant the programs compare with (`jeq`, `jgt`, `jge`, `jset` with `K`), sorted.
pub fn constants(progs: &[&[Instruction]]) -> Vec<u32> {
    let mut k: Vec<u32> = progs
        .iter()
        .flat_map(|p| p.iter())
        .filter(|ins| ins.code & 0x07 == bpf::BPF_JMP && ins.code & 0x08 == bpf::BPF_K)
        .map(|ins| ins.k)
        .collect();
    k.sort_unstable();
    k.dedup();
    k
}

/// The syscall numbers to try on `abi`: its table's range (its first 4,096 numbers, where the
/// range is longer: arm's private calls are at 0xf0000), the number past it, and each of
/// `constants` (the programs' own, see [`constants`]) with its neighbours. (Between two constants it
/// compares the number with, by `jeq`, `jgt` or `jge`, a filter cannot tell numbers apart, so
/// the rest of a long range adds nothing.)
pub fn numbers(abi: ScmpArch, constants: &[u32]) -> Vec<u32> {
    let range = bpf::syscall_range(abi);
    let mut nrs: Vec<u32> = range.clone().take(4096).collect();
    for &k in constants {
        nrs.extend([k.wrapping_sub(1), k, k.wrapping_add(1)]);
    }
    nrs.extend([range.end, u32::MAX]);
    nrs.sort_unstable();
    nrs.dedup();
    nrs
}

/// The programs a command works on: a policy's filters compiled, or the one program given.
/// For a program, the ABIs it covers are found by running it: `arch`, then every ABI of the
/// same byte order that it allows some call of (of [`numbers`]).
pub fn programs(source: &Source, opts: &BuildOptions, quiet: bool) -> Result<Vec<Compiled>, Fail> {
    match source {
        Source::Policy { label, policy } => compile(label, policy, opts, false, quiet),
        Source::Program { prog, arch, .. } => {
            let mut c = Compiled {
                name: String::new(),
                target: *arch,
                abis: vec![*arch],
                prog: prog.clone(),
                endian: arches::endian(*arch),
                recipe: None,
                ctx: None,
            };
            let constants = constants(&[prog]);
            let others: Vec<ScmpArch> = ScmpArch::all()
                .filter(|&a| a != *arch && arches::endian(a) == c.endian)
                .filter(|&a| {
                    numbers(a, &constants)
                        .into_iter()
                        .any(|nr| allows(c.verdict(a, nr, [0; 6])))
                })
                .collect();
            c.abis.extend(others);
            Ok(vec![c])
        }
    }
}
