//! Compares every row of libseccomp 2.5.4's recorded name resolution
//! (`shared/conformance/syscalls-libseccomp-2.5.4.tsv`: 19 arches x 502 names,
//! `from_name_by_arch` and `from_name_by_arch_rewrite`) with ours.
//!
//! Our tables come from a newer kernel than 2.5.4's, so some rows differ on purpose. Every
//! difference must be explained by one of the rules below; the test fails on any other.

use pure_seccomp::{ScmpArch, ScmpSyscall};
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

const TSV: &str = "conformance/syscalls-libseccomp-2.5.4.tsv";

mod common;

/// Rows 2.5.4 resolves differently, one by one: (arch, name, reason).
const ALLOWED_ROWS: &[(&str, &str, &str)] = &[(
    "SCMP_ARCH_X32",
    "map_shadow_stack",
    "added to the kernel in 6.6 as a `common` syscall (x86_64 and x32); Debian's 2.5.4 \
     tables give it to x86_64 only, so 2.5.4 answers the pseudo number -10245 on x32",
)];

/// Why a row differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reason {
    /// 2.5.4 does not know the name on any arch (every cell of the name is empty), because
    /// the syscall was added to the kernel after 2.5.4's tables (mseal, listmount, ...) or
    /// exists only on arches 2.5.4 does not support (m68k's atomic_barrier, ...); we know it
    /// from the kernel tables, so we give its number, or a pseudo number where the arch
    /// lacks it.
    NameUnknownTo254,
    /// Listed in `ALLOWED_ROWS`.
    Listed,
}

struct Row {
    arch: ScmpArch,
    name: String,
    number: Option<i32>,
    rewrite: Option<i32>,
}

/// The TSV's rows, or `None` (printed why) when the shared material is absent.
fn read_rows(test: &str) -> Option<Vec<Row>> {
    let path = common::shared(TSV, test)?;
    let text = std::fs::read_to_string(path).expect("readable TSV");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("arch\tname\tnumber\tnumber_rewrite"),
        "TSV header"
    );
    let cell = |s: &str| -> Option<i32> {
        (!s.is_empty()).then(|| s.parse().unwrap_or_else(|e| panic!("bad cell {s:?}: {e}")))
    };
    lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 4, "bad TSV line {l:?}");
            Row {
                arch: ScmpArch::from_str(f[0]).unwrap_or_else(|_| panic!("arch {:?}", f[0])),
                name: f[1].to_string(),
                number: cell(f[2]),
                rewrite: cell(f[3]),
            }
        })
        .collect::<Vec<_>>()
        .into()
}

#[test]
fn libseccomp_254_resolution_table() {
    let Some(rows) = read_rows("libseccomp_254_resolution_table") else {
        return;
    };
    assert_eq!(rows.len(), 19 * 502, "rows in the TSV");

    // Names 2.5.4 knows on no arch at all.
    let mut known_somewhere: BTreeSet<&str> = BTreeSet::new();
    let mut all_names: BTreeSet<&str> = BTreeSet::new();
    for r in &rows {
        all_names.insert(&r.name);
        if r.number.is_some() || r.rewrite.is_some() {
            known_somewhere.insert(&r.name);
        }
    }
    let unknown_to_254: BTreeSet<&str> = all_names.difference(&known_somewhere).copied().collect();

    let mut matched = 0usize;
    let mut explained: BTreeMap<Reason, usize> = BTreeMap::new();
    let mut unexplained = Vec::new();
    let mut listed_used = BTreeSet::new();
    for r in &rows {
        let ours = ScmpSyscall::from_name_by_arch(&r.name, r.arch)
            .ok()
            .map(i32::from);
        let ours_rw = ScmpSyscall::from_name_by_arch_rewrite(&r.name, r.arch)
            .ok()
            .map(i32::from);
        if (ours, ours_rw) == (r.number, r.rewrite) {
            matched += 1;
            continue;
        }
        let arch = r.arch.to_string();
        let reason = if unknown_to_254.contains(r.name.as_str()) {
            // The rule holds only if we do resolve the name (we know it from the kernel).
            (ours.is_some() && ours_rw.is_some()).then_some(Reason::NameUnknownTo254)
        } else if let Some(i) = ALLOWED_ROWS
            .iter()
            .position(|&(a, n, _)| a == arch && n == r.name)
        {
            listed_used.insert(i);
            Some(Reason::Listed)
        } else {
            None
        };
        match reason {
            Some(reason) => *explained.entry(reason).or_default() += 1,
            None => unexplained.push(format!(
                "{arch} {}: libseccomp 2.5.4 {:?}/{:?}, ours {ours:?}/{ours_rw:?}",
                r.name, r.number, r.rewrite
            )),
        }
    }

    println!(
        "{} rows: {matched} equal, {} explained differences, {} unexplained",
        rows.len(),
        explained.values().sum::<usize>(),
        unexplained.len()
    );
    for (reason, n) in &explained {
        println!("  {reason:?}: {n} rows");
    }
    println!(
        "  names unknown to 2.5.4 ({}): {}",
        unknown_to_254.len(),
        unknown_to_254
            .iter()
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (i, (arch, name, why)) in ALLOWED_ROWS.iter().enumerate() {
        println!("  listed: {arch} {name}: {why}");
        assert!(
            listed_used.contains(&i),
            "ALLOWED_ROWS entry {arch} {name} is not needed any more"
        );
    }
    assert!(
        unexplained.is_empty(),
        "{} unexplained differences:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
}

/// The munging rules, checked against the TSV's own rows for all multiplexed calls: the
/// pseudo number on the multiplexing arches, socketcall's/ipc's number when rewritten.
#[test]
fn multiplexed_calls_follow_the_recorded_rules() {
    let Some(rows) = read_rows("multiplexed_calls_follow_the_recorded_rules") else {
        return;
    };
    let mux: &[(&str, i32, i32)] = &[
        ("SCMP_ARCH_X86", 102, 117),
        ("SCMP_ARCH_MIPS", 4102, 4117),
        ("SCMP_ARCH_MIPSEL", 4102, 4117),
        ("SCMP_ARCH_PPC", 102, 117),
        ("SCMP_ARCH_PPC64", 102, 117),
        ("SCMP_ARCH_PPC64LE", 102, 117),
        ("SCMP_ARCH_S390", 102, 117),
        ("SCMP_ARCH_S390X", 102, 117),
    ];
    let mut checked = 0;
    for r in &rows {
        let arch = r.arch.to_string();
        let Some(&(_, socketcall, ipc)) = mux.iter().find(|m| m.0 == arch) else {
            continue;
        };
        let Some(nr) = r.number else { continue };
        if (-120..=-101).contains(&nr) {
            assert_eq!(r.rewrite, Some(socketcall), "{arch} {}", r.name);
        } else if (-224..=-201).contains(&nr) {
            assert_eq!(r.rewrite, Some(ipc), "{arch} {}", r.name);
        } else {
            continue;
        }
        let ours = ScmpSyscall::from_name_by_arch(&r.name, r.arch).unwrap();
        assert_eq!(ours, nr, "{arch} {}", r.name);
        assert_eq!(
            ours.get_name_by_arch(r.arch).unwrap(),
            r.name,
            "{arch} {nr}"
        );
        checked += 1;
    }
    println!("{checked} multiplexed rows checked");
    assert_eq!(
        checked,
        8 * 32,
        "every socket and ipc call on every multiplexing arch"
    );
}
