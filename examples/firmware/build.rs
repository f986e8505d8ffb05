//! Compiles `policy.txt` for the *target* architecture (not the machine running the build)
//! and writes the program to `$OUT_DIR/filter.bpf`, in the target's byte order, for
//! `include_bytes!`.

use pure_seccomp::policy::{Policy, Target};
use pure_seccomp::ScmpArch;
use std::env;
use std::path::PathBuf;

/// The seccomp architecture of the target being built for.
fn target_arch() -> Result<ScmpArch, String> {
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let big = env::var("CARGO_CFG_TARGET_ENDIAN").unwrap_or_default() == "big";
    let width = env::var("CARGO_CFG_TARGET_POINTER_WIDTH").unwrap_or_default();
    Ok(match (arch.as_str(), big, width.as_str()) {
        ("x86_64", _, "32") => ScmpArch::X32,
        ("x86_64", _, _) => ScmpArch::X8664,
        ("x86", _, _) => ScmpArch::X86,
        ("aarch64", _, _) => ScmpArch::Aarch64,
        ("arm", _, _) => ScmpArch::Arm,
        ("riscv64", _, _) => ScmpArch::Riscv64,
        ("s390x", _, _) => ScmpArch::S390X,
        ("loongarch64", _, _) => ScmpArch::Loongarch64,
        ("powerpc64", false, _) => ScmpArch::Ppc64Le,
        ("powerpc64", true, _) => ScmpArch::Ppc64,
        ("powerpc", _, _) => ScmpArch::Ppc,
        ("mips64", true, "32") => ScmpArch::Mips64N32,
        ("mips64", false, "32") => ScmpArch::Mipsel64N32,
        ("mips64", true, _) => ScmpArch::Mips64,
        ("mips64", false, _) => ScmpArch::Mipsel64,
        ("mips", true, _) => ScmpArch::Mips,
        ("mips", false, _) => ScmpArch::Mipsel,
        ("m68k", _, _) => ScmpArch::M68k,
        (other, _, _) => return Err(format!("seccomp has no architecture for target {other:?}")),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=policy.txt");
    println!("cargo:rerun-if-changed=build.rs");
    let arch = target_arch()?;
    let policy = Policy::from_file("policy.txt")?;
    let mut recipe = policy.filters(&Target::new(arch))?.remove(0);
    for name in &recipe.skipped {
        println!("cargo:warning=policy.txt: syscall {name:?} unknown, skipped");
    }
    recipe.optimize = Some(2);
    // The filter's byte order is the target's, as the target's kernel reads it.
    let program = recipe.build()?.export_bpf_mem()?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(out.join("filter.bpf"), &program)?;
    std::fs::write(out.join("filter_arch.txt"), arch.to_string())?;
    Ok(())
}
