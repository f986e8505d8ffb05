//! `disasm`, `sim` and `resolve`.

use crate::arches;
use crate::disasm;
use crate::input::{self, allows, Source};
use crate::{Fail, PolicyOpts};
use pure_seccomp::bpf;
use pure_seccomp::ScmpArch;
use std::path::Path;

/// `disasm FILE [--arch ARCH]`.
pub fn disasm(file: &Path, arch: Option<ScmpArch>, opts: &PolicyOpts) -> Result<u8, Fail> {
    crate::offline();
    let source = input::open_for_listing(file, arch)?;
    let programs = input::programs(&source, &opts.build(arch.into_iter().collect()), false)?;
    for (i, c) in programs.iter().enumerate() {
        if programs.len() > 1 || matches!(source, Source::Policy { .. }) {
            if i > 0 {
                println!();
            }
            println!("# {}: {} instructions", c.title(), c.prog.len());
        }
        for line in disasm::listing(&c.prog, c.endian, c.target) {
            println!("{line}");
        }
    }
    Ok(0)
}

/// `sim`.
pub fn sim(
    file: Option<&Path>,
    arch: Option<ScmpArch>,
    syscall: &str,
    args: &[String],
    arch_of_call: Option<ScmpArch>,
    opts: &PolicyOpts,
) -> Result<u8, Fail> {
    crate::offline();
    if args.len() > 6 {
        return Err(Fail::input(format!(
            "--args takes at most 6 values, not {}",
            args.len()
        )));
    }
    let mut argv = [0u64; 6];
    for (slot, a) in argv.iter_mut().zip(args) {
        *slot = arches::parse_u64(a)
            .ok_or_else(|| Fail::input(format!("--args: {a:?} is not a number")))?;
    }
    let source = input::open(file, arch)?;
    let programs = input::programs(&source, &opts.build(arch.into_iter().collect()), true)?;
    let mut all_allowed = true;
    for (i, c) in programs.iter().enumerate() {
        let asked = arch_of_call.unwrap_or(c.target);
        let nr = arches::syscall_number(asked, syscall).map_err(Fail::input)?;
        // The kernel tells x32 calls from x86_64 ones by the number's bit 30 alone.
        let abi = arches::abi_of_call(arches::audit(asked), nr).unwrap_or(asked);
        let name = arches::syscall_name(abi, nr).unwrap_or_else(|| "unknown".into());
        let data = input::data(abi, nr, argv);
        let (out, path) = bpf::simulate_path(&c.prog, &data, c.endian)
            .map_err(|e| Fail::input(format!("the program cannot run: {e}")))?;
        if i > 0 {
            println!();
        }
        if programs.len() > 1 {
            println!("filter:   {}", c.title());
        }
        println!(
            "syscall:  {name} ({nr}{}) on {}, args [{}]",
            if nr >= 0x1000 {
                format!(" = {nr:#x}")
            } else {
                String::new()
            },
            arches::short(abi),
            argv.iter()
                .map(|a| format!("{a:#x}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !c.abis.contains(&abi) {
            println!("note:     the filter does not cover {}", arches::short(abi));
        }
        println!("verdict:  {}", bpf::action_name(out.ret));
        println!(
            "path:     {} instructions: {}",
            out.executed,
            path.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let listing = disasm::listing(&c.prog, c.endian, c.target);
        for &p in &path {
            if let Some(line) = listing.get(p) {
                println!("  {line}");
            }
        }
        all_allowed &= allows(out.ret);
    }
    Ok(if all_allowed { 0 } else { 1 })
}

/// `resolve NAME|NR [--arch ARCH | --all]`.
pub fn resolve(syscall: &str, arch: Option<ScmpArch>, all: bool) -> Result<u8, Fail> {
    let one = |abi: ScmpArch| -> Result<String, String> {
        if let Some(n) = arches::parse_u64(syscall) {
            let nr = u32::try_from(n)
                .map_err(|_| format!("syscall number {syscall:?} is out of range"))?;
            arches::syscall_name(abi, nr)
                .ok_or_else(|| format!("no syscall {nr} on {}", arches::short(abi)))
        } else {
            arches::syscall_number(abi, syscall).map(|n| n.to_string())
        }
    };
    if all {
        let mut found = false;
        for abi in ScmpArch::all() {
            let r = one(abi);
            found |= r.is_ok();
            println!(
                "{:<12} {}",
                arches::short(abi),
                r.unwrap_or_else(|_| "-".into())
            );
        }
        return if found {
            Ok(0)
        } else {
            Err(Fail::input(format!(
                "{syscall:?} is not a syscall on any architecture"
            )))
        };
    }
    let abi = match arch.unwrap_or(ScmpArch::native()) {
        ScmpArch::Native => {
            return Err(Fail::input(
                "this machine's architecture is unknown to pure-seccomp; pass --arch",
            ))
        }
        a => a,
    };
    println!("{}", one(abi).map_err(Fail::input)?);
    Ok(0)
}
