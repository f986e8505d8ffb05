//! Regenerates the syscall tables from the kernel sources recorded in
//! `arch-tables/MANIFEST.md` and checks the output equals the committed files byte for byte.
//!
//! The kernel trees are looked for in `$PURE_SECCOMP_KERNEL_SRC` and
//! `$PURE_SECCOMP_KERNEL_SRC_S390`, else in `/usr/src/<Debian package>` (as
//! `arch-tables/sources.tsv` names it). Without them, or with trees whose files do not have
//! the recorded sha256, the test says why and skips: it never needs the network.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `(label, sha256)` rows of the manifest's *Inputs* table.
fn manifest_inputs(manifest: &str) -> Vec<(String, String)> {
    let section = manifest
        .split("## Inputs")
        .nth(1)
        .expect("MANIFEST.md has an Inputs section");
    section
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", label, sha, ""] if label.starts_with('`') && sha.starts_with('`') => Some((
                    label.trim_matches('`').to_string(),
                    sha.trim_matches('`').to_string(),
                )),
                _ => None,
            }
        })
        .collect()
}

/// The Debian package of a tree (`main`, `s390`) from `arch-tables/sources.tsv`.
fn package_of(role: &str) -> Option<String> {
    let text = std::fs::read_to_string(root().join("arch-tables/sources.tsv")).ok()?;
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&role))
        .and_then(|f| f.get(2).map(|s| s.to_string()))
}

fn tree(var: &str, role: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .or_else(|| package_of(role).map(|p| Path::new("/usr/src").join(p)))
}

fn skip(why: &str) {
    println!("SKIPPED arch_tables_regen: {why}");
}

#[test]
fn committed_tables_match_the_generator() {
    let manifest = std::fs::read_to_string(root().join("arch-tables/MANIFEST.md"))
        .expect("arch-tables/MANIFEST.md");
    let inputs = manifest_inputs(&manifest);
    assert!(inputs.len() > 10, "MANIFEST.md lists its inputs");

    // The committed inputs must be the ones the tables were made from.
    for (label, sha) in inputs.iter().filter(|(l, _)| l.starts_with("arch-tables/")) {
        let bytes = std::fs::read(root().join(label)).expect(label);
        assert_eq!(
            &sha256_hex(&bytes),
            sha,
            "{label} changed since the tables were generated: rerun arch-tables-gen"
        );
    }

    let Some(main) = tree("PURE_SECCOMP_KERNEL_SRC", "main") else {
        return skip("arch-tables/sources.tsv names no main tree");
    };
    let s390 = tree("PURE_SECCOMP_KERNEL_SRC_S390", "s390");
    let split = inputs.iter().any(|(l, _)| l.starts_with("[s390 tree] "));
    for (label, sha) in inputs
        .iter()
        .filter(|(l, _)| !l.starts_with("arch-tables/"))
    {
        let path = match label.strip_prefix("[s390 tree] ") {
            Some(rel) => match &s390 {
                Some(dir) => dir.join(rel),
                None => return skip("no s390 tree is named"),
            },
            None => main.join(label),
        };
        let Ok(bytes) = std::fs::read(&path) else {
            return skip(&format!(
                "kernel sources not present ({} missing; set PURE_SECCOMP_KERNEL_SRC and \
                 PURE_SECCOMP_KERNEL_SRC_S390, see arch-tables/MANIFEST.md)",
                path.display()
            ));
        };
        if &sha256_hex(&bytes) != sha {
            return skip(&format!(
                "{} is not the file the tables were made from (sha256 differs)",
                path.display()
            ));
        }
    }

    let out = std::env::temp_dir().join(format!("pure-seccomp-regen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(root())
        .args(["run", "--offline", "-q", "-p", "arch-tables-gen", "--"])
        .arg(&main)
        .arg(&out);
    if split {
        cmd.arg("--s390-src").arg(s390.as_ref().expect("s390 tree"));
    }
    // A target directory of its own: the outer `cargo test` holds the lock of the default one.
    cmd.env("CARGO_TARGET_DIR", root().join("target/arch-tables-regen"));
    let status = cmd.status().expect("cargo runs");
    assert!(status.success(), "arch-tables-gen failed: {status}");

    let listing = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".rs") || n == "MANIFEST.md")
            .collect();
        names.sort();
        names
    };
    let committed = listing(&root().join("arch-tables"));
    let generated = listing(&out);
    assert_eq!(committed, generated, "the generated files");
    for name in &generated {
        let a = std::fs::read(root().join("arch-tables").join(name)).unwrap();
        let b = std::fs::read(out.join(name)).unwrap();
        assert!(
            a == b,
            "arch-tables/{name} differs from the generator's output in {}",
            out.display()
        );
    }
    println!(
        "arch-tables: {} files regenerated byte for byte from {}",
        generated.len(),
        main.display()
    );
    let _ = std::fs::remove_dir_all(&out);
}
