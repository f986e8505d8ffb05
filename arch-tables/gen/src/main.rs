//! arch-tables-gen: writes pure-seccomp's per-ABI syscall tables from a Linux source tree.
//!
//! ```text
//! cargo run -p arch-tables-gen -- <kernel-src-dir> <out-dir> [--s390-src <old-kernel-src-dir>] [--data <dir>]
//! ```
//!
//! It reads the kernel's `syscall*.tbl` files (and the headers and makefiles that say which of
//! their ABI columns an architecture uses), applies libseccomp's rules for each of the 18
//! syscall ABIs behind libseccomp's 23 architectures, and writes `<abi>.rs` (the table sorted
//! by name and by number), `pnr.rs` (libseccomp's pseudo numbers for names an ABI lacks) and
//! `MANIFEST.md` (versions, rules and the sha256 of every input) into `<out-dir>`.
//!
//! `--data` names the directory holding the committed inputs `pnr.tsv`, `compat.tsv` and
//! `sources.tsv` (default: `arch-tables/`, the parent of this crate). `--s390-src` is needed
//! when the main tree no longer has the 31-bit s390 ABI (Linux 6.19 and later).
//!
//! The output depends only on the contents of the inputs, never on paths or time, so running
//! it again on the same sources gives the same bytes.

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

type Error = String;
type Result<T> = std::result::Result<T, Error>;

/// Which kernel tree a file is read from.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Tree {
    Main,
    S390,
}

/// Where an ABI's table comes from.
enum Source {
    /// An architecture's own `.tbl` file and the ABI column values that count.
    Tbl {
        tree: Tree,
        path: &'static str,
        abis: &'static [&'static str],
    },
    /// The generic table (`scripts/syscall.tbl` or what the arch's `Makefile.syscalls` names),
    /// with `common`, `64` and the ABIs the arch's `Makefile.syscalls` adds.
    Generic { makefile: &'static str },
}

struct AbiSpec {
    /// File stem of the output and the ABI's name in the manifest.
    name: &'static str,
    /// libseccomp architectures (`SCMP_ARCH_*` without the prefix) that use this table.
    arches: &'static [&'static str],
    source: Source,
    /// Added to every kernel number (x32 bit, MIPS ABI bases).
    offset: i32,
    how_offset: &'static str,
    /// Whether the ARM private syscalls of `arch/arm/include/uapi/asm/unistd.h` are added.
    arm_private: bool,
}

const X32_BIT: i32 = 0x4000_0000;

const ABIS: &[AbiSpec] = &[
    AbiSpec {
        name: "x86",
        arches: &["X86"],
        source: Source::Tbl {
            tree: Tree::Main,
            path: "arch/x86/entry/syscalls/syscall_32.tbl",
            abis: &["i386"],
        },
        offset: 0,
        how_offset: "",
        arm_private: false,
    },
    AbiSpec {
        name: "x86_64",
        arches: &["X86_64"],
        source: Source::Tbl {
            tree: Tree::Main,
            path: "arch/x86/entry/syscalls/syscall_64.tbl",
            abis: &["common", "64"],
        },
        offset: 0,
        how_offset: "",
        arm_private: false,
    },
    AbiSpec {
        name: "x32",
        arches: &["X32"],
        source: Source::Tbl {
            tree: Tree::Main,
            path: "arch/x86/entry/syscalls/syscall_64.tbl",
            abis: &["common", "x32"],
        },
        offset: X32_BIT,
        how_offset: "with bit 30 set (0x40000000, __X32_SYSCALL_BIT)",
        arm_private: false,
    },
    AbiSpec {
        name: "arm",
        arches: &["ARM"],
        source: Source::Tbl {
            tree: Tree::Main,
            path: "arch/arm/tools/syscall.tbl",
            abis: &["common", "eabi"],
        },
        offset: 0,
        how_offset: "",
        arm_private: true,
    },
    AbiSpec {
        name: "aarch64",
        arches: &["AARCH64"],
        source: Source::Generic {
            makefile: "arch/arm64/kernel/Makefile.syscalls",
        },
        offset: 0,
        how_offset: "",
        arm_private: false,
    },
    AbiSpec {
        name: "loongarch64",
        arches: &["LOONGARCH64"],
        source: Source::Generic {
            makefile: "arch/loongarch/kernel/Makefile.syscalls",
        },
        offset: 0,
        how_offset: "",
        arm_private: false,
    },
    AbiSpec {
        name: "m68k",
        arches: &["M68K"],
        source: Source::Tbl {
            tree: Tree::Main,
            path: "arch/m68k/kernel/syscalls/syscall.tbl",
            abis: &["common"],
        },
        offset: 0,
        how_offset: "",
        arm_private: false,
    },
    AbiSpec {
        name: "mips",
        arches: &["MIPS", "MIPSEL"],
        source: Source::Tbl {
            tree: Tree::Main,
            path: "arch/mips/kernel/syscalls/syscall_o32.tbl",
            abis: &["o32"],
        },
        offset: 4000,
        how_offset: "+ 4000 (o32)",
        arm_private: false,
    },
    AbiSpec {
        name: "mips64",
        arches: &["MIPS64", "MIPSEL64"],
        source: Source::Tbl {
            tree: Tree::Main,
            path: "arch/mips/kernel/syscalls/syscall_n64.tbl",
            abis: &["common", "n64"],
        },
        offset: 5000,
        how_offset: "+ 5000 (n64)",
        arm_private: false,
    },
    AbiSpec {
        name: "mips64n32",
        arches: &["MIPS64N32", "MIPSEL64N32"],
        source: Source::Tbl {
            tree: Tree::Main,
            path: "arch/mips/kernel/syscalls/syscall_n32.tbl",
            abis: &["n32"],
        },
        offset: 6000,
        how_offset: "+ 6000 (n32)",
        arm_private: false,
    },
    AbiSpec {
        name: "parisc",
        arches: &["PARISC"],
        source: Source::Tbl {
            tree: Tree::Main,
            path: "arch/parisc/kernel/syscalls/syscall.tbl",
            abis: &["common", "32"],
        },
        offset: 0,
        how_offset: "",
        arm_private: false,
    },
    AbiSpec {
        name: "parisc64",
        arches: &["PARISC64"],
        source: Source::Tbl {
            tree: Tree::Main,
            path: "arch/parisc/kernel/syscalls/syscall.tbl",
            abis: &["common", "64"],
        },
        offset: 0,
        how_offset: "",
        arm_private: false,
    },
    AbiSpec {
        name: "ppc",
        arches: &["PPC"],
        source: Source::Tbl {
            tree: Tree::Main,
            path: "arch/powerpc/kernel/syscalls/syscall.tbl",
            abis: &["common", "32", "nospu"],
        },
        offset: 0,
        how_offset: "",
        arm_private: false,
    },
    AbiSpec {
        name: "ppc64",
        arches: &["PPC64", "PPC64LE"],
        source: Source::Tbl {
            tree: Tree::Main,
            path: "arch/powerpc/kernel/syscalls/syscall.tbl",
            abis: &["common", "64", "nospu"],
        },
        offset: 0,
        how_offset: "",
        arm_private: false,
    },
    AbiSpec {
        name: "riscv64",
        arches: &["RISCV64"],
        source: Source::Generic {
            makefile: "arch/riscv/kernel/Makefile.syscalls",
        },
        offset: 0,
        how_offset: "",
        arm_private: false,
    },
    AbiSpec {
        name: "s390",
        arches: &["S390"],
        source: Source::Tbl {
            tree: Tree::S390,
            path: S390_TBL,
            abis: &["common", "32"],
        },
        offset: 0,
        how_offset: "",
        arm_private: false,
    },
    AbiSpec {
        name: "s390x",
        arches: &["S390X"],
        source: Source::Tbl {
            tree: Tree::Main,
            path: S390_TBL,
            abis: &["common", "64"],
        },
        offset: 0,
        how_offset: "",
        arm_private: false,
    },
    AbiSpec {
        name: "sh",
        arches: &["SH", "SHEB"],
        source: Source::Tbl {
            tree: Tree::Main,
            path: "arch/sh/kernel/syscalls/syscall.tbl",
            abis: &["common"],
        },
        offset: 0,
        how_offset: "",
        arm_private: false,
    },
];

const S390_TBL: &str = "arch/s390/kernel/syscalls/syscall.tbl";
const GENERIC_TBL: &str = "scripts/syscall.tbl";
const ARM_UNISTD: &str = "arch/arm/include/uapi/asm/unistd.h";
/// First number given to a name that an ABI lacks and libseccomp has no `__PNR_*` for.
const ASSIGNED_PNR_START: i32 = -11000;

/// Reads input files, remembering each one's sha256 for the manifest.
struct Inputs {
    main: PathBuf,
    s390: PathBuf,
    data: PathBuf,
    /// Whether the s390 tree is another tree than the main one.
    split: bool,
    /// (label, sha256) by label.
    seen: BTreeMap<String, String>,
}

impl Inputs {
    fn root(&self, tree: Tree) -> &Path {
        match tree {
            Tree::Main => &self.main,
            Tree::S390 => &self.s390,
        }
    }

    fn label(&self, tree: Tree, rel: &str) -> String {
        match tree {
            Tree::S390 if self.split => format!("[s390 tree] {rel}"),
            _ => rel.to_string(),
        }
    }

    fn kernel(&mut self, tree: Tree, rel: &str) -> Result<String> {
        let path = self.root(tree).join(rel);
        let label = self.label(tree, rel);
        self.read(&path, label)
    }

    fn data(&mut self, name: &str) -> Result<String> {
        let path = self.data.join(name);
        self.read(&path, format!("arch-tables/{name}"))
    }

    fn read(&mut self, path: &Path, label: String) -> Result<String> {
        let bytes = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let digest = Sha256::digest(&bytes);
        let hex = digest.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        self.seen.insert(label, hex);
        String::from_utf8(bytes).map_err(|e| format!("{} is not UTF-8: {e}", path.display()))
    }
}

/// One row of a `.tbl` file.
struct TblRow {
    nr: i32,
    abi: String,
    name: String,
}

fn parse_tbl(text: &str, what: &str) -> Result<Vec<TblRow>> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        let mut f = line.split_whitespace();
        let (Some(nr), Some(abi), Some(name)) = (f.next(), f.next(), f.next()) else {
            if !line.trim().is_empty() {
                return Err(format!("{what}:{}: malformed line", i + 1));
            }
            continue;
        };
        let nr = nr
            .parse::<i32>()
            .map_err(|e| format!("{what}:{}: bad number {nr:?}: {e}", i + 1))?;
        rows.push(TblRow {
            nr,
            abi: abi.to_string(),
            name: name.to_string(),
        });
    }
    Ok(rows)
}

/// Kernel placeholders that name no syscall (`unused18`, `reserved221`); libseccomp leaves
/// them out of its tables.
fn is_placeholder(name: &str) -> bool {
    ["unused", "reserved"].iter().any(|p| {
        name.strip_prefix(p)
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// `VERSION.PATCHLEVEL.SUBLEVEL[EXTRAVERSION]` from a tree's top Makefile.
fn kernel_version(inputs: &mut Inputs, tree: Tree) -> Result<String> {
    let text = inputs.kernel(tree, "Makefile")?;
    let var = |key: &str| -> Result<String> {
        text.lines()
            .find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == key).then(|| v.trim().to_string())
            })
            .ok_or_else(|| format!("no {key} in the Makefile of the {tree:?} tree"))
    };
    Ok(format!(
        "{}.{}.{}{}",
        var("VERSION")?,
        var("PATCHLEVEL")?,
        var("SUBLEVEL")?,
        var("EXTRAVERSION")?
    ))
}

/// The `syscalltbl` and `syscall_abis_64` settings of an arch's `Makefile.syscalls`.
fn generic_settings(inputs: &mut Inputs, makefile: &str) -> Result<(String, Vec<String>)> {
    let text = inputs.kernel(Tree::Main, makefile)?;
    let mut tbl = GENERIC_TBL.to_string();
    let mut abis = vec!["common".to_string(), "64".to_string()];
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        if let Some((k, v)) = line.split_once("+=") {
            if k.trim() == "syscall_abis_64" {
                abis.extend(v.split_whitespace().map(str::to_string));
            }
        } else if let Some((k, v)) = line.split_once('=') {
            let k = k.trim().trim_end_matches(':');
            if k == "syscalltbl" {
                tbl = v.trim().replace('%', "64");
            } else if k == "syscall_abis_64" {
                return Err(format!("{makefile}: plain assignment to syscall_abis_64"));
            }
        }
    }
    Ok((tbl, abis))
}

/// The ARM private syscalls: `#define __ARM_NR_<name> (__ARM_NR_BASE+<n>)` with
/// `__ARM_NR_BASE` = `__NR_SYSCALL_BASE + <base>` and an EABI `__NR_SYSCALL_BASE` of 0.
fn arm_private(inputs: &mut Inputs) -> Result<Vec<(String, i32)>> {
    let text = inputs.kernel(Tree::Main, ARM_UNISTD)?;
    let parse_int = |s: &str| -> Option<i32> {
        let s = s.trim();
        match s.strip_prefix("0x") {
            Some(h) => i32::from_str_radix(h, 16).ok(),
            None => s.parse().ok(),
        }
    };
    let mut base = None;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        if f.next() != Some("#define") {
            continue;
        }
        let (Some(sym), Some(val)) = (f.next(), f.next()) else {
            continue;
        };
        let val = val.trim_start_matches('(').trim_end_matches(')');
        if sym == "__ARM_NR_BASE" {
            let off = val
                .strip_prefix("__NR_SYSCALL_BASE+")
                .and_then(parse_int)
                .ok_or_else(|| format!("{ARM_UNISTD}: unexpected __ARM_NR_BASE {val:?}"))?;
            base = Some(off);
        } else if let Some(name) = sym.strip_prefix("__ARM_NR_") {
            let n = val
                .strip_prefix("__ARM_NR_BASE+")
                .and_then(parse_int)
                .ok_or_else(|| format!("{ARM_UNISTD}: unexpected {sym} {val:?}"))?;
            let base = base.ok_or_else(|| format!("{ARM_UNISTD}: {sym} before __ARM_NR_BASE"))?;
            out.push((name.to_string(), base + n));
        }
    }
    if out.is_empty() {
        return Err(format!("{ARM_UNISTD}: no __ARM_NR_* syscalls found"));
    }
    Ok(out)
}

/// Tab-separated data rows of a committed input (comments and blank lines skipped).
fn tsv_rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').collect())
}

struct SourceRow {
    role: String,
    kernel: String,
    package: String,
    version: String,
    suite: String,
    deb_sha256: String,
}

/// One generated ABI table and how it was made.
struct Table {
    spec: &'static AbiSpec,
    /// name -> number (offset applied).
    entries: BTreeMap<String, i32>,
    from: String,
    abis: Vec<String>,
    dropped: Vec<String>,
}

fn build_table(
    inputs: &mut Inputs,
    spec: &'static AbiSpec,
    compat: &[Vec<String>],
) -> Result<Table> {
    let (tree, path, abis): (Tree, String, Vec<String>) = match &spec.source {
        Source::Tbl { tree, path, abis } => (
            *tree,
            path.to_string(),
            abis.iter().map(|s| s.to_string()).collect(),
        ),
        Source::Generic { makefile } => {
            let (tbl, abis) = generic_settings(inputs, makefile)?;
            (Tree::Main, tbl, abis)
        }
    };
    let text = inputs.kernel(tree, &path)?;
    let rows = parse_tbl(&text, &path)?;
    let mut entries = BTreeMap::new();
    let mut dropped = Vec::new();
    for r in rows.iter().filter(|r| abis.contains(&r.abi)) {
        if is_placeholder(&r.name) {
            dropped.push(r.name.clone());
            continue;
        }
        let nr = r.nr + spec.offset;
        if let Some(old) = entries.insert(r.name.clone(), nr) {
            return Err(format!(
                "{path}: {} appears twice for {} ({old} and {nr})",
                r.name, spec.name
            ));
        }
    }
    if spec.arm_private {
        for (name, nr) in arm_private(inputs)? {
            if entries.insert(name.clone(), nr).is_some() {
                return Err(format!("arm private syscall {name} is also in the table"));
            }
        }
    }
    for row in compat.iter().filter(|r| r[0] == spec.name) {
        let nr: i32 = row[2]
            .parse()
            .map_err(|e| format!("compat.tsv: bad number {:?}: {e}", row[2]))?;
        entries.insert(row[1].clone(), nr + spec.offset);
    }
    let label = inputs.label(tree, &path);
    Ok(Table {
        spec,
        entries,
        from: label,
        abis,
        dropped,
    })
}

fn rust_str(s: &str) -> String {
    // Syscall names are plain identifiers; refuse anything that would need escaping.
    assert!(
        s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "unexpected syscall name {s:?}"
    );
    format!("\"{s}\"")
}

fn write_pairs(out: &mut String, by_name: &[(String, i32)], what: &str) {
    let _ = writeln!(
        out,
        "/// {what}, sorted by name (byte order): (name, number).\n\
         pub(super) const BY_NAME: &[(&str, i32)] = &["
    );
    for (name, nr) in by_name {
        let _ = writeln!(out, "    ({}, {nr}),", rust_str(name));
    }
    let _ = writeln!(out, "];\n");
    let mut by_num: Vec<(i32, &str)> = by_name.iter().map(|(n, v)| (*v, n.as_str())).collect();
    by_num.sort();
    let _ = writeln!(
        out,
        "/// The same, sorted by number, then name: (number, name).\n\
         pub(super) const BY_NUM: &[(i32, &str)] = &["
    );
    for (nr, name) in by_num {
        let _ = writeln!(out, "    ({nr}, {}),", rust_str(name));
    }
    let _ = writeln!(out, "];");
}

fn table_rs(t: &Table, kernel: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// @generated by arch-tables-gen from Linux {kernel}; do not edit (see MANIFEST.md).\n\
         // ABI {} (libseccomp arches: {}): {}, ABI columns {}{}.\n",
        t.spec.name,
        t.spec.arches.join(", "),
        t.from,
        t.abis.join(","),
        if t.spec.how_offset.is_empty() {
            String::new()
        } else {
            format!(", numbers {}", t.spec.how_offset)
        }
    );
    let by_name: Vec<(String, i32)> = t.entries.iter().map(|(k, v)| (k.clone(), *v)).collect();
    write_pairs(
        &mut out,
        &by_name,
        &format!("The {} syscalls of the {} ABI", by_name.len(), t.spec.name),
    );
    out
}

fn run(args: Vec<String>) -> Result<()> {
    let usage =
        "usage: arch-tables-gen <kernel-src-dir> <out-dir> [--s390-src <dir>] [--data <dir>]";
    let mut pos = Vec::new();
    let mut s390_src = None;
    let mut data = None;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--s390-src" => s390_src = Some(PathBuf::from(it.next().ok_or(usage)?)),
            "--data" => data = Some(PathBuf::from(it.next().ok_or(usage)?)),
            "-h" | "--help" => {
                println!("{usage}");
                return Ok(());
            }
            _ if a.starts_with("--") => return Err(format!("unknown option {a}\n{usage}")),
            _ => pos.push(PathBuf::from(a)),
        }
    }
    let [main, out_dir] = <[PathBuf; 2]>::try_from(pos).map_err(|_| usage.to_string())?;
    let data = data.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));

    let mut inputs = Inputs {
        main: main.clone(),
        s390: main.clone(),
        data,
        split: false,
        seen: BTreeMap::new(),
    };

    // Does the main tree still have the 31-bit s390 ABI?
    let s390_main = fs::read_to_string(main.join(S390_TBL))
        .map_err(|e| format!("cannot read {}: {e}", main.join(S390_TBL).display()))?;
    let main_has_s390 = parse_tbl(&s390_main, S390_TBL)?
        .iter()
        .any(|r| r.abi == "32");
    let split_s390 = match (main_has_s390, s390_src) {
        (true, _) => false,
        (false, Some(dir)) => {
            inputs.s390 = dir;
            inputs.split = true;
            true
        }
        (false, None) => {
            return Err(format!(
                "{S390_TBL} of {} has no `32` ABI column (s390 was removed in Linux 6.19): \
                 pass --s390-src <dir> with an older tree",
                main.display()
            ))
        }
    };

    // Provenance, checked against the trees.
    let sources_text = inputs.data("sources.tsv")?;
    let sources: Vec<SourceRow> = tsv_rows(&sources_text)
        .map(|r| {
            if r.len() != 6 {
                return Err(format!("sources.tsv: expected 6 columns, got {r:?}"));
            }
            Ok(SourceRow {
                role: r[0].into(),
                kernel: r[1].into(),
                package: r[2].into(),
                version: r[3].into(),
                suite: r[4].into(),
                deb_sha256: r[5].into(),
            })
        })
        .collect::<Result<_>>()?;
    let main_version = kernel_version(&mut inputs, Tree::Main)?;
    let s390_version = if split_s390 {
        Some(kernel_version(&mut inputs, Tree::S390)?)
    } else {
        None
    };
    let source_for = |role: &str, version: &str| -> Result<&SourceRow> {
        let row = sources
            .iter()
            .find(|s| s.role == role)
            .ok_or_else(|| format!("sources.tsv has no `{role}` row"))?;
        if row.kernel != version {
            return Err(format!(
                "sources.tsv says the {role} tree is Linux {}, but its Makefile says {version}",
                row.kernel
            ));
        }
        Ok(row)
    };
    let main_src = source_for("main", &main_version)?;
    let s390_src = match &s390_version {
        Some(v) => Some(source_for("s390", v)?),
        None => None,
    };

    let pnr_text = inputs.data("pnr.tsv")?;
    let mut pnr: BTreeMap<String, i32> = BTreeMap::new();
    for r in tsv_rows(&pnr_text) {
        let [name, nr] = <[&str; 2]>::try_from(r.clone())
            .map_err(|_| format!("pnr.tsv: expected 2 columns, got {r:?}"))?;
        let nr: i32 = nr
            .parse()
            .map_err(|e| format!("pnr.tsv: bad number for {name}: {e}"))?;
        if nr > -100 || nr <= ASSIGNED_PNR_START {
            return Err(format!(
                "pnr.tsv: {name} {nr} is outside libseccomp's ranges"
            ));
        }
        if pnr.insert(name.to_string(), nr).is_some() {
            return Err(format!("pnr.tsv: {name} twice"));
        }
    }
    let compat_text = inputs.data("compat.tsv")?;
    let compat: Vec<Vec<String>> = tsv_rows(&compat_text)
        .map(|r| {
            if r.len() != 4 || !ABIS.iter().any(|a| a.name == r[0]) {
                return Err(format!("compat.tsv: bad row {r:?}"));
            }
            Ok(r.iter().map(|s| s.to_string()).collect())
        })
        .collect::<Result<_>>()?;

    let mut tables = Vec::new();
    for spec in ABIS {
        let t = build_table(&mut inputs, spec, &compat)?;
        if t.entries.len() < 100 {
            return Err(format!(
                "{}: only {} syscalls read",
                spec.name,
                t.entries.len()
            ));
        }
        tables.push(t);
    }

    // Pseudo numbers: every name some ABI lacks gets libseccomp's __PNR_ number, or one from
    // the range below ASSIGNED_PNR_START (in name order) when libseccomp has none.
    let all: BTreeSet<&str> = tables
        .iter()
        .flat_map(|t| t.entries.keys().map(String::as_str))
        .collect();
    let mut pseudo: Vec<(String, i32)> = Vec::new();
    let mut assigned: Vec<(String, i32, Vec<&str>)> = Vec::new();
    let mut next = ASSIGNED_PNR_START;
    for name in &all {
        let missing: Vec<&str> = tables
            .iter()
            .filter(|t| !t.entries.contains_key(*name))
            .map(|t| t.spec.name)
            .collect();
        if missing.is_empty() {
            continue;
        }
        let nr = match pnr.get(*name) {
            Some(nr) => *nr,
            None => {
                let nr = next;
                next -= 1;
                let have: Vec<&str> = tables
                    .iter()
                    .filter(|t| t.entries.contains_key(*name))
                    .map(|t| t.spec.name)
                    .collect();
                assigned.push((name.to_string(), nr, have));
                nr
            }
        };
        pseudo.push((name.to_string(), nr));
    }
    let unused_pnr: Vec<(&String, &i32)> = pnr
        .iter()
        .filter(|(n, _)| !pseudo.iter().any(|(p, _)| p == *n))
        .collect();

    fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let write = |name: &str, text: &str| -> Result<()> {
        let p = out_dir.join(name);
        fs::write(&p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))
    };
    for t in &tables {
        write(&format!("{}.rs", t.spec.name), &table_rs(t, &main_version))?;
    }
    let mut pnr_rs = String::new();
    let _ = writeln!(
        pnr_rs,
        "// @generated by arch-tables-gen from arch-tables/pnr.tsv and Linux {main_version}; do not\n\
         // edit (see MANIFEST.md). The pseudo number of every syscall name that at least one ABI\n\
         // lacks: libseccomp's __PNR_<name>, or one from -11000 down where libseccomp has none.\n"
    );
    write_pairs(
        &mut pnr_rs,
        &pseudo,
        &format!(
            "The {} names some ABI lacks, with their pseudo numbers",
            pseudo.len()
        ),
    );
    write("pnr.rs", &pnr_rs)?;

    // The manifest.
    let mut m = String::new();
    let _ = writeln!(
        m,
        "# arch-tables: provenance of the generated syscall tables\n"
    );
    let _ = writeln!(
        m,
        "Generated by `arch-tables-gen` (`arch-tables/gen/`); do not edit the `*.rs` files or this\n\
         manifest by hand. To regenerate, unpack the kernel trees below and run\n\n\
         ```sh\n\
         cargo run -p arch-tables-gen -- /usr/src/{} arch-tables{}\n\
         ```\n\n\
         `tests/arch_tables_regen.rs` does this into a temporary directory when the trees are\n\
         present (`PURE_SECCOMP_KERNEL_SRC`, `PURE_SECCOMP_KERNEL_SRC_S390`, default\n\
         `/usr/src/<Debian package>`) and checks that the output equals the committed files.\n",
        main_src.package,
        match s390_src {
            Some(s) => format!(" --s390-src /usr/src/{}", s.package),
            None => String::new(),
        }
    );
    let _ = writeln!(m, "## Kernel sources\n");
    let _ = writeln!(
        m,
        "| tree | Linux | Debian package | version | suite | sha256 of the .deb |\n|---|---|---|---|---|---|"
    );
    for s in std::iter::once(main_src).chain(s390_src) {
        let _ = writeln!(
            m,
            "| {} | {} | `{}` | `{}` | {} | `{}` |",
            s.role, s.kernel, s.package, s.version, s.suite, s.deb_sha256
        );
    }
    let _ = writeln!(
        m,
        "\nEach package holds `/usr/src/<package>.tar.xz`, the tree's root inside it is `<package>/`;\n\
         only the files listed under *Inputs* are needed from it. Every ABI comes from the\n\
         `main` tree{}\n",
        if split_s390 {
            ", except 31-bit `s390`: Linux 6.19 removed that ABI (the `32` column of\n\
             `arch/s390/kernel/syscalls/syscall.tbl`), so its table comes from the newest tree\n\
             at hand that still has it, the `s390` tree. Syscalls added after that kernel are\n\
             therefore \"not on this arch\" for s390."
        } else {
            "."
        }
    );
    let _ = writeln!(m, "## Tables\n");
    let _ = writeln!(
        m,
        "Numbers are stored with the ABI's offset applied (what the kernel sees in\n\
         `seccomp_data.nr`). Endianness variants share one table.\n"
    );
    let _ = writeln!(
        m,
        "| file | libseccomp arches | source | ABI columns | numbers | syscalls |\n|---|---|---|---|---|---|"
    );
    for t in &tables {
        let mut src = format!("`{}`", t.from);
        if t.spec.arm_private {
            src.push_str(&format!(" + `{ARM_UNISTD}` (`__ARM_NR_*`)"));
        }
        let _ = writeln!(
            m,
            "| `{}.rs` | {} | {} | {} | {} | {} |",
            t.spec.name,
            t.spec.arches.join(", "),
            src,
            t.abis.join(", "),
            if t.spec.how_offset.is_empty() {
                "as is"
            } else {
                t.spec.how_offset
            },
            t.entries.len()
        );
    }
    let _ = writeln!(m, "\n## Rules\n");
    let _ = writeln!(
        m,
        "* A row of a `.tbl` file counts for an ABI when its ABI column is one of those listed\n\
         \x20 above. The generic table's users (aarch64, loongarch64, riscv64) take `common`, `64`\n\
         \x20 and the `syscall_abis_64` of their `Makefile.syscalls`, from the file its `syscalltbl`\n\
         \x20 names (default `{GENERIC_TBL}`), as the kernel's build does.\n\
         * PowerPC: the `nospu` rows, not the `spu` ones (libseccomp describes the non-SPU ABI).\n\
         * ARM: EABI only (`common` + `eabi`); the ARM private syscalls `__ARM_NR_*` are added at\n\
         \x20 `0x0f0000 + n` (EABI `__NR_SYSCALL_BASE` is 0).\n\
         * Placeholders named `unused<N>` / `reserved<N>` are left out, as libseccomp does:"
    );
    for t in tables.iter().filter(|t| !t.dropped.is_empty()) {
        let _ = writeln!(m, "  {}: {}.", t.spec.name, t.dropped.join(", "));
    }
    let _ = writeln!(
        m,
        "* Deliberate departures from the kernel, from `arch-tables/compat.tsv`, so that name\n\
         \x20 resolution matches libseccomp's:"
    );
    for row in &compat {
        let _ = writeln!(m, "  {} `{}` = {}: {}.", row[0], row[1], row[2], row[3]);
    }
    let _ = writeln!(m, "\n## Pseudo syscall numbers (`pnr.rs`)\n");
    let _ = writeln!(
        m,
        "On an ABI that lacks a syscall, libseccomp resolves its name to a negative pseudo number,\n\
         `__PNR_<name>`. `arch-tables/pnr.tsv` holds those values as defined in libseccomp's\n\
         `include/seccomp-syscalls.h` (repository seccomp/libseccomp, up to `__PNR_open_tree_attr`\n\
         = -10255; -101..-120 and -201..-224 are the socketcall/ipc calls; note that\n\
         `sys_debug_setcontext` and `switch_endian` share -10191 there). They were cross-checked\n\
         against every negative number in the libseccomp crate 0.4.0's `src/syscall/*.rs` and in\n\
         `shared/conformance/syscalls-libseccomp-2.5.4.tsv`: no disagreement.\n\n\
         `pnr.rs` lists the {} names that at least one ABI lacks. {} names of `pnr.tsv` are not\n\
         listed because every ABI here has them or no kernel table names them.",
        pseudo.len(),
        unused_pnr.len()
    );
    if assigned.is_empty() {
        let _ = writeln!(
            m,
            "Every name some ABI lacks has a libseccomp number; none was assigned."
        );
    } else {
        let _ = writeln!(
            m,
            "Names some ABI lacks that libseccomp has no number for get one from\n\
             {ASSIGNED_PNR_START} down, in name order (a range libseccomp does not use); these can change\n\
             when the tables are regenerated from another kernel:\n\n\
             | name | number | ABIs that have it |\n|---|---|---|"
        );
        for (name, nr, have) in &assigned {
            let _ = writeln!(m, "| `{name}` | {nr} | {} |", have.join(", "));
        }
    }
    let _ = writeln!(m, "\n## Inputs\n");
    let _ = writeln!(
        m,
        "Paths are relative to the tree's root (`[s390 tree]`: the s390 tree) or to the repository.\n\n\
         | file | sha256 |\n|---|---|"
    );
    for (label, sha) in &inputs.seen {
        let _ = writeln!(m, "| `{label}` | `{sha}` |");
    }
    write("MANIFEST.md", &m)?;
    eprintln!(
        "arch-tables-gen: wrote {} tables, pnr.rs ({} names, {} assigned) and MANIFEST.md to {}",
        tables.len(),
        pseudo.len(),
        assigned.len(),
        out_dir.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arch-tables-gen: {e}");
            ExitCode::FAILURE
        }
    }
}
