//! `pure-seccomp compile`: programs in five formats, and the summary per ABI.

use crate::arches;
use crate::disasm;
use crate::input::{self, allows, Compiled, Source};
use crate::{Fail, PassName, PolicyOpts};
use clap::ValueEnum;
use pure_seccomp::bpf::{self, Instruction};
use pure_seccomp::opt::Passes;
use pure_seccomp::{Endian, ScmpArch};
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

/// An output format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutFormat {
    /// The raw program, as the kernel takes it (the ABI's byte order).
    Bpf,
    /// libseccomp's pseudo filter code.
    Pfc,
    /// Rust source: a `const` array of `pure_seccomp::bpf::Instruction`.
    Rust,
    /// C source: a `struct sock_filter` array and its `struct sock_fprog`.
    C,
    /// The raw bytes in hex, one instruction (8 bytes) a line.
    Hex,
}

/// What `compile` was asked.
pub struct Request {
    pub policy: Option<PathBuf>,
    pub arch: Vec<String>,
    pub format: Option<OutFormat>,
    pub output: Option<PathBuf>,
    pub quiet: bool,
    pub opts: PolicyOpts,
}

pub fn run(req: Request) -> Result<u8, Fail> {
    crate::offline();
    let all = req.arch.iter().any(|a| a == "all");
    let arch_list = req
        .arch
        .iter()
        .filter(|a| *a != "all")
        .map(|a| arches::parse(a).map_err(Fail::input))
        .collect::<Result<Vec<ScmpArch>, Fail>>()?;
    let source = input::open(req.policy.as_deref(), None)?;
    let Source::Policy { label, policy } = &source else {
        return Err(Fail::input(
            "compile takes a policy; this file is already a compiled program (see disasm)",
        ));
    };
    let opts = req.opts.build(arch_list);
    let programs = input::compile(label, policy, &opts, all, req.quiet)?;
    if programs.is_empty() {
        return Err(Fail::input(format!("{label} defines no filter")));
    }
    let format = match (req.format, &req.output) {
        (Some(f), _) => Some(f),
        (None, Some(_)) => Some(OutFormat::Bpf),
        (None, None) => None,
    };
    // The summary goes to stdout when it is all there is to print, else to stderr.
    let summary_to_stdout = format.is_none();
    if !req.quiet || summary_to_stdout {
        let text = summary(label, policy.format(), &opts, &programs);
        if summary_to_stdout {
            print!("{text}");
        } else {
            eprint!("{text}");
        }
    }
    let Some(format) = format else {
        return Ok(0);
    };
    let names = output_names(req.output.as_deref(), &programs);
    if names[0].is_none() && format == OutFormat::Bpf && programs.len() > 1 {
        return Err(Fail::input(format!(
            "{} programs cannot go to stdout as raw bytes: pass -o FILE (one file each), \
             --filter or one --arch",
            programs.len()
        )));
    }
    for (c, path) in programs.iter().zip(names) {
        match &path {
            Some(p) => {
                let file = std::fs::File::create(p)
                    .map_err(|e| Fail::input(format!("cannot write {}: {e}", p.display())))?;
                emit(c, format, label, file)
                    .map_err(|e| Fail::input(format!("cannot write {}: {e}", p.display())))?;
                if !req.quiet {
                    eprintln!("wrote {} ({})", p.display(), c.title());
                }
            }
            None => {
                let stdout = std::io::stdout();
                // (C and Rust sources name each program in their first comment, and a `#`
                // line would not compile.)
                if programs.len() > 1 && matches!(format, OutFormat::Hex | OutFormat::Pfc) {
                    let mut lock = stdout.lock();
                    let _ = writeln!(lock, "# {}", c.title());
                    let _ = lock.flush();
                }
                emit(c, format, label, stdout.as_fd())
                    .map_err(|e| Fail::input(format!("cannot write to stdout: {e}")))?;
            }
        }
    }
    Ok(0)
}

/// The file of each program: `None` for stdout (no `-o`, or `-o -`). With several programs,
/// `-FILTER` and/or `-ARCH` (only the parts that differ between them) go before the
/// extension.
fn output_names(output: Option<&Path>, programs: &[Compiled]) -> Vec<Option<PathBuf>> {
    let Some(out) = output.filter(|o| o.as_os_str() != "-") else {
        return vec![None; programs.len()];
    };
    if programs.len() == 1 {
        return vec![Some(out.to_path_buf())];
    }
    let by_filter = programs.iter().any(|c| c.name != programs[0].name);
    let by_arch = programs.iter().any(|c| c.target != programs[0].target);
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = out
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    programs
        .iter()
        .map(|c| {
            let mut name = stem.clone();
            if by_filter {
                name.push('-');
                name.push_str(&sanitize(&c.name, false));
            }
            if by_arch {
                name.push('-');
                name.push_str(arches::short(c.target));
            }
            name.push_str(&ext);
            Some(out.with_file_name(name))
        })
        .collect()
}

/// Letters, digits and `_` (or `-`) only.
fn sanitize(s: &str, ident: bool) -> String {
    s.chars()
        .filter_map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                Some(c)
            } else if c == '@' {
                None
            } else {
                Some(if ident { '_' } else { '-' })
            }
        })
        .collect()
}

/// Writes one program in one format.
fn emit(c: &Compiled, format: OutFormat, label: &str, fd: impl AsFd) -> std::io::Result<()> {
    let owned = fd.as_fd().try_clone_to_owned()?;
    let mut f = std::fs::File::from(owned);
    // (In a comment of the C or Rust source: a path's `*/` or line break would end it.)
    let label = label.replace("*/", "* /").replace(['\n', '\r'], " ");
    let what = format!(
        "{label}{}, for {}, optimize level {}{}",
        if c.name.is_empty() {
            String::new()
        } else {
            format!(", filter {}", c.name)
        },
        c.abis_label(),
        c.recipe.as_ref().and_then(|r| r.optimize).unwrap_or(1),
        c.ctx
            .as_ref()
            .map_or_else(String::new, |ctx| passes_off(ctx.get_opt_passes())),
    );
    match format {
        OutFormat::Bpf => f.write_all(&bpf::encode(&c.prog, c.endian))?,
        OutFormat::Hex => f.write_all(hex(&c.prog, c.endian).as_bytes())?,
        OutFormat::Pfc => {
            let ctx = c.ctx.as_ref().ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "no rules to print")
            })?;
            f.flush()?;
            ctx.export_pfc(f.as_fd())
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        OutFormat::Rust => f.write_all(rust_source(c, &what).as_bytes())?,
        OutFormat::C => f.write_all(c_source(c, &what).as_bytes())?,
    }
    f.flush()
}

/// The `hex` format.
pub fn hex(prog: &[Instruction], endian: Endian) -> String {
    let bytes = bpf::encode(prog, endian);
    let mut s = String::new();
    for chunk in bytes.chunks(8) {
        let line: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        s.push_str(&line.join(" "));
        s.push('\n');
    }
    s
}

/// `SECCOMP_VMM_X86_64`.
fn const_name(c: &Compiled) -> String {
    let mut n = String::from("SECCOMP");
    if !c.name.is_empty() {
        n.push('_');
        n.push_str(&sanitize(&c.name, true));
    }
    n.push('_');
    n.push_str(arches::short(c.target));
    n.to_ascii_uppercase()
}

fn rust_source(c: &Compiled, what: &str) -> String {
    let name = const_name(c);
    let lines = disasm::listing(&c.prog, c.endian, c.target);
    let mut s = String::new();
    let _ = writeln!(s, "// Generated by pure-seccomp from {what}.");
    let _ = writeln!(
        s,
        "// Load with `pure_seccomp::load_bpf(&{name}, pure_seccomp::LoadFlags::new())`; the \
         layout is the kernel's `struct sock_filter` (`libc::sock_filter`)."
    );
    let _ = writeln!(
        s,
        "pub const {name}: [pure_seccomp::bpf::Instruction; {}] = [",
        c.prog.len()
    );
    for (ins, line) in c.prog.iter().zip(&lines) {
        let _ = writeln!(
            s,
            "    pure_seccomp::bpf::Instruction {{ code: 0x{:02x}, jt: {}, jf: {}, k: 0x{:08x} }}, // {}",
            ins.code,
            ins.jt,
            ins.jf,
            ins.k,
            text_of(line)
        );
    }
    s.push_str("];\n");
    s
}

fn c_source(c: &Compiled, what: &str) -> String {
    let guard = format!("{}_H", const_name(c));
    let name = const_name(c).to_ascii_lowercase();
    let lines = disasm::listing(&c.prog, c.endian, c.target);
    let mut s = String::new();
    let _ = writeln!(s, "/* Generated by pure-seccomp from {what}. */");
    let _ = writeln!(s, "#ifndef {guard}\n#define {guard}\n");
    s.push_str("#include <linux/filter.h>\n\n");
    let _ = writeln!(s, "static struct sock_filter {name}[{}] = {{", c.prog.len());
    for (ins, line) in c.prog.iter().zip(&lines) {
        let _ = writeln!(
            s,
            "\t{{ 0x{:02x}, {}, {}, 0x{:08x} }}, /* {} */",
            ins.code,
            ins.jt,
            ins.jf,
            ins.k,
            text_of(line).replace("*/", "* /")
        );
    }
    s.push_str("};\n\n");
    // (Positional: designated initializers are neither C89 nor C++ before C++20.)
    let _ = writeln!(
        s,
        "static const struct sock_fprog {name}_prog = {{\n\t/* .len */ sizeof({name}) / sizeof({name}[0]),\n\t/* .filter */ {name},\n}};\n\n#endif /* {guard} */"
    );
    s
}

/// A listing line without the raw fields: `0003: jeq #0x3b ... ; execve`.
fn text_of(line: &str) -> String {
    // "0003: 0x15 0x00 0x01 0x0000003b  jeq ..." -> index + the part after the raw fields.
    let (index, rest) = line.split_once(": ").unwrap_or(("", line));
    let rest = rest.splitn(5, ' ').nth(4).unwrap_or(rest).trim_start();
    format!("{index}: {rest}")
}

/// An action as the disassembly names return values (`ERRNO(1)`, `KILL_PROCESS`).
pub fn action_label(a: pure_seccomp::ScmpAction) -> String {
    use pure_seccomp::ScmpAction::*;
    match a {
        KillProcess => "KILL_PROCESS".into(),
        KillThread => "KILL_THREAD".into(),
        Trap => "TRAP".into(),
        Notify => "NOTIFY".into(),
        Errno(n) => format!("ERRNO({n})"),
        Trace(n) => format!("TRACE({n})"),
        Log => "LOG".into(),
        Allow => "ALLOW".into(),
        other => format!("{other:?}"),
    }
}

/// Figures for one ABI of one program.
pub struct AbiStats {
    /// Syscalls of the ABI's table the program allows with all arguments 0.
    pub allowed: Vec<u32>,
    /// Of those, the number of instructions executed: mean and max.
    pub mean: f64,
    pub max: usize,
    /// How many the kernel's action cache lets through; `None` where the kernel never
    /// caches (x32, MIPS).
    pub cacheable: Option<usize>,
}

/// The syscall numbers of an ABI's table that have a name.
pub fn table(abi: ScmpArch) -> Vec<u32> {
    thread_local! {
        static TABLES: std::cell::RefCell<std::collections::HashMap<ScmpArch, Vec<u32>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    TABLES.with(|t| {
        t.borrow_mut()
            .entry(abi)
            .or_insert_with(|| {
                bpf::syscall_range(abi)
                    .filter(|&nr| arches::syscall_name(abi, nr).is_some())
                    .collect()
            })
            .clone()
    })
}

pub fn stats(c: &Compiled, abi: ScmpArch) -> AbiStats {
    let mut allowed = Vec::new();
    let mut total = 0usize;
    let mut max = 0usize;
    for nr in table(abi) {
        let out = c.run(abi, nr, [0; 6]);
        if allows(out.ret) {
            allowed.push(nr);
            total += out.executed;
            max = max.max(out.executed);
        }
    }
    let cacheable = bpf::kernel_caches(abi).then(|| {
        allowed
            .iter()
            .filter(|&&nr| bpf::cacheable(&c.prog, arches::audit(abi), nr))
            .count()
    });
    AbiStats {
        mean: if allowed.is_empty() {
            0.0
        } else {
            total as f64 / allowed.len() as f64
        },
        max,
        allowed,
        cacheable,
    }
}

/// `, passes off: arg-trees, prune` for the passes `--no-pass` switched off (nothing when
/// all are on).
fn passes_off(on: Passes) -> String {
    if on == Passes::all() {
        return String::new();
    }
    let off: Vec<String> = PassName::value_variants()
        .iter()
        .filter(|&&n| n != PassName::All && !on.contains(n.passes()))
        .filter_map(|n| n.to_possible_value().map(|v| v.get_name().to_string()))
        .collect();
    format!(", passes off: {}", off.join(", "))
}

/// The summary: one block per program, one line per ABI.
pub fn summary(
    label: &str,
    format: pure_seccomp::policy::Format,
    opts: &input::BuildOptions,
    programs: &[Compiled],
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{label} ({format} format), optimize level {}{}",
        opts.optimize,
        passes_off(opts.passes)
    );
    for c in programs {
        let _ = writeln!(s);
        let (rules, cond, default) = match &c.recipe {
            Some(r) => (
                r.rules.len(),
                r.rules.iter().filter(|r| !r.conditions.is_empty()).count(),
                action_label(r.default_action),
            ),
            None => (0, 0, String::from("?")),
        };
        let _ = writeln!(
            s,
            "{}: {} instructions ({} bytes); default action {default}; {rules} rules ({cond} with argument checks)",
            c.title(),
            c.prog.len(),
            c.prog.len() * 8,
        );
        let _ = writeln!(
            s,
            "  {:<12} {:>8}  {:>17}  {:>9}",
            "ABI", "allowed", "executed mean/max", "cacheable"
        );
        for &abi in &c.abis {
            let st = stats(c, abi);
            let cache = match st.cacheable {
                Some(n) => n.to_string(),
                None => "-".into(),
            };
            let _ = writeln!(
                s,
                "  {:<12} {:>8}  {:>17}  {:>9}",
                arches::short(abi),
                st.allowed.len(),
                format!("{:.1} / {}", st.mean, st.max),
                cache
            );
        }
    }
    let _ = writeln!(
        s,
        "\nallowed: syscalls of the ABI's table allowed with all arguments 0; executed: \
         instructions the filter runs for them (simulated); cacheable: how many the kernel's \
         action cache (Linux 5.11+) lets through without running the filter (-: the kernel \
         never caches this ABI)."
    );
    s
}
