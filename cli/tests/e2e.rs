//! End-to-end tests of the `pure-seccomp` binary: each test runs the real command.
//!
//! The commands that load a filter (`run`, `learn`) are tested in run_learn.rs.

use std::path::PathBuf;

mod common;
use common::*;

#[test]
fn compile_without_arguments_summarises_the_default_policy() {
    let out = expect(&["compile"], 0);
    assert!(
        out.contains("the embedded default policy (OCI format)"),
        "{out}"
    );
    assert!(out.contains("instructions"), "{out}");
    assert!(out.contains("executed mean/max"), "{out}");
    assert!(out.contains("cacheable"), "{out}");
    if native() == "x86_64" {
        // The usual companions of x86_64 come from the policy's archMap.
        assert!(out.contains("x86_64 (+x86, x32)"), "{out}");
        let line = out.lines().find(|l| l.starts_with("  x86_64 ")).unwrap();
        let cols: Vec<&str> = line.split_whitespace().collect();
        let allowed: usize = cols[1].parse().unwrap();
        assert!(allowed > 250, "{line}");
    }
}

#[test]
fn passes_switched_off_change_the_length_not_the_verdicts() {
    let arch = native();
    let length = |out: &str| -> usize {
        let line = out
            .lines()
            .find(|l| l.contains(" instructions ("))
            .unwrap_or_else(|| panic!("{out}"));
        line.split(": ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let all_on = expect(&["compile", "--arch", arch], 0);
    assert!(!all_on.contains("passes off"), "{all_on}");
    let tree_off = expect(
        &[
            "compile",
            "--arch",
            arch,
            "--no-pass",
            "ranges",
            "--no-pass",
            "arg-trees",
        ],
        0,
    );
    assert!(
        tree_off.contains("optimize level 2, passes off: ranges, arg-trees"),
        "{tree_off}"
    );
    let all_off = expect(&["compile", "--arch", arch, "--no-pass", "all"], 0);
    assert!(
        all_off.contains(
            "passes off: ranges, weights, jset, arg-trees, submasks, prune, broad-first, sink, \
             loads, shared-rets, cleanup"
        ),
        "{all_off}"
    );
    assert!(length(&all_on) < length(&all_off), "{all_on}\n{all_off}");
    // The same verdicts, whatever the passes.
    let mut checked = 0;
    for syscall in [
        "read",
        "openat",
        "ptrace",
        "kexec_load",
        "clone",
        "personality",
        "socket",
    ] {
        let verdict = |extra: &[&str]| {
            let mut args = vec!["sim", "--arch", arch, "--syscall", syscall];
            args.extend_from_slice(extra);
            let o = cmd(&args);
            let out = stdout(&o);
            let line = out
                .lines()
                .find(|l| l.starts_with("verdict:"))
                .map(str::to_string);
            (o.status.code(), line, stderr(&o))
        };
        let want = verdict(&[]);
        // (On s390x, libseccomp 2.5.4, and so this crate, reaches `socket` only through
        // socketcall(2): pseudo number -101.)
        if want.0 == Some(2) && want.2.contains("does not exist on") {
            eprintln!("{syscall}: {}", want.2.trim());
            continue;
        }
        checked += 1;
        assert!(want.1.is_some(), "{syscall}: {want:?}");
        assert_eq!(verdict(&["--no-pass", "all"]), want, "{syscall}");
        assert_eq!(verdict(&["--no-pass", "prune"]), want, "{syscall}");
        assert_eq!(verdict(&["--no-pass", "submasks"]), want, "{syscall}");
        assert_eq!(verdict(&["--no-pass", "sink"]), want, "{syscall}");
        assert_eq!(verdict(&["--no-pass", "broad-first"]), want, "{syscall}");
    }
    assert!(checked >= 6, "{checked} of the 7 syscalls exist on {arch}");
    // A pass that does not exist is refused, with the names that do.
    let o = cmd(&["compile", "--no-pass", "inline"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("arg-trees"), "{}", stderr(&o));
}

#[test]
fn compile_disasm_sim_round_trip() {
    let dir = scratch("roundtrip");
    let arch = native();
    for (target, format, file, allowed, denied) in [
        (arch, "bpf", "native.bpf", "read", "ptrace"),
        (arch, "hex", "native.hex", "openat", "kexec_load"),
        ("aarch64", "bpf", "arm64.bpf", "openat", "bpf"),
        ("s390x", "bpf", "s390x.bpf", "openat", "init_module"),
        ("riscv64", "hex", "riscv64.hex", "write", "mount"),
    ] {
        let path = dir.join(file);
        expect(
            &[
                "compile",
                "--arch",
                target,
                "--format",
                format,
                "-o",
                s(&path),
                "-q",
            ],
            0,
        );
        let listing = expect(&["disasm", s(&path), "--arch", target], 0);
        assert!(listing.contains("ld    [4]  ; arch"), "{listing}");
        // The architecture check and syscall numbers are named.
        assert!(
            listing.contains(&format!("  ; {target}")),
            "{target}: {listing}"
        );
        assert!(
            listing
                .lines()
                .filter(|l| l.contains("jeq") && l.contains("  ; "))
                .count()
                > 5,
            "{target}: {listing}"
        );
        // The program and the policy it came from give the same verdict by the same path.
        for (syscall, code) in [(allowed, 0), (denied, 1)] {
            let from_prog = expect(
                &["sim", s(&path), "--arch", target, "--syscall", syscall],
                code,
            );
            let from_policy = expect(&["sim", "--arch", target, "--syscall", syscall], code);
            let verdict = |t: &str| {
                t.lines()
                    .filter(|l| l.starts_with("verdict:") || l.starts_with("path:"))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                verdict(&from_prog),
                verdict(&from_policy),
                "{target} {syscall}"
            );
            let expected = if code == 0 { "ALLOW" } else { "ERRNO(1)" };
            assert!(
                from_prog.contains(&format!("verdict:  {expected}")),
                "{from_prog}"
            );
        }
    }
    // The same program as bytes and as hex disassembles alike.
    expect(
        &[
            "compile",
            "--arch",
            arch,
            "--format",
            "bpf",
            "-o",
            s(&dir.join("a.bpf")),
            "-q",
        ],
        0,
    );
    expect(
        &[
            "compile",
            "--arch",
            arch,
            "--format",
            "hex",
            "-o",
            s(&dir.join("a.hex")),
            "-q",
        ],
        0,
    );
    assert_eq!(
        expect(&["disasm", s(&dir.join("a.bpf")), "--arch", arch], 0),
        expect(&["disasm", s(&dir.join("a.hex")), "--arch", arch], 0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sim_takes_arguments_and_the_abi_of_the_call() {
    // personality is allowed only for the usual execution domains.
    let out = expect(
        &[
            "sim",
            "--arch",
            "x86_64",
            "--syscall",
            "personality",
            "--args",
            "8",
        ],
        0,
    );
    assert!(out.contains("verdict:  ALLOW"), "{out}");
    let out = expect(
        &[
            "sim",
            "--arch",
            "x86_64",
            "--syscall",
            "personality",
            "--args",
            "0x0040000",
        ],
        1,
    );
    assert!(out.contains("ERRNO(1)"), "{out}");
    // An x86 call through the x86_64 filter: x86's own numbering.
    let out = expect(
        &[
            "sim",
            "--arch",
            "x86_64",
            "--arch-of-call",
            "x86",
            "--syscall",
            "socketcall",
        ],
        0,
    );
    assert!(out.contains("socketcall (102) on x86"), "{out}");
    // A number with x32's bit is an x32 call, as the kernel takes it (it was shown as an
    // unknown x86_64 number, with x32's verdict).
    let out = expect(&["sim", "--arch", "x86_64", "--syscall", "0x40000000"], 0);
    assert!(
        out.contains("read (1073741824 = 0x40000000) on x32"),
        "{out}"
    );
    // clone with a namespace flag (CLONE_NEWUSER) is refused, without is allowed.
    expect(
        &[
            "sim",
            "--arch",
            "x86_64",
            "--syscall",
            "clone",
            "--args",
            "0x10000000",
        ],
        1,
    );
    expect(
        &[
            "sim",
            "--arch",
            "x86_64",
            "--syscall",
            "clone",
            "--args",
            "0x11",
        ],
        0,
    );
    // On s390x the flags are the second argument.
    expect(
        &[
            "sim",
            "--arch",
            "s390x",
            "--syscall",
            "clone",
            "--args",
            "0,0x10000000",
        ],
        1,
    );
    expect(
        &[
            "sim",
            "--arch",
            "s390x",
            "--syscall",
            "clone",
            "--args",
            "0x10000000,0",
        ],
        0,
    );
}

/// `dir/fc.json`: a Firecracker file of one filter a name, each allowing one syscall
/// (`read`, `write`, `close`, ... in turn), for no particular architecture.
fn firecracker_file(dir: &std::path::Path, names: &[&str]) -> PathBuf {
    let filters: Vec<String> = names
        .iter()
        .zip(["read", "write", "close", "openat"])
        .map(|(name, call)| {
            format!(
                r#""{name}": {{"default_action": "trap", "filter_action": "allow",
                    "filter": [{{"syscall": "{call}"}}]}}"#
            )
        })
        .collect();
    let path = dir.join("fc.json");
    std::fs::write(&path, format!("{{{}}}", filters.join(",\n"))).unwrap();
    path
}

/// The C and Rust sources compile, as one file for several programs too: with `cc` (C89 and
/// C99, pedantic, warnings as errors; included twice), `c++` (C++11) and `rustc` (against a
/// stand-in for `pure_seccomp::bpf::Instruction`, the same fields). Skips a compiler that is
/// not installed, saying so.
#[test]
fn c_and_rust_sources_compile() {
    let dir = scratch("sources");
    let have = |tool: &str| {
        let found = std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            eprintln!("SKIPPED: no `{tool}` to compile the generated source with");
        }
        found
    };
    let compiles = |tool: &str, args: &[&str]| {
        let o = std::process::Command::new(tool)
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{tool} {args:?}: {}", stderr(&o));
    };
    // Several architectures, and a file of several named filters.
    let fc = firecracker_file(&dir, &["vmm", "api-v2"]);
    for (format, ext) in [("c", "h"), ("rust", "rs")] {
        let all = expect(&["compile", "--arch", "all", "--format", format, "-q"], 0);
        let named = expect(
            &[
                "compile",
                s(&fc),
                "--arch",
                "aarch64",
                "--format",
                format,
                "-q",
            ],
            0,
        );
        std::fs::write(dir.join(format!("all.{ext}")), all).unwrap();
        std::fs::write(dir.join(format!("named.{ext}")), named).unwrap();
    }
    std::fs::write(
        dir.join("main.c"),
        "#include \"all.h\"\n#include \"all.h\"\n#include \"named.h\"\n\
         int main(void) { return seccomp_x86_64_prog.len + seccomp_api_v2_aarch64_prog.len \
         > 0 ? 0 : 1; }\n",
    )
    .unwrap();
    if have("cc") {
        for std in ["-std=c89", "-std=c99"] {
            compiles(
                "cc",
                &[
                    std,
                    "-pedantic",
                    "-Wall",
                    "-Wextra",
                    "-Werror",
                    "-fsyntax-only",
                    "main.c",
                ],
            );
        }
    }
    if have("c++") {
        compiles(
            "c++",
            &[
                "-std=c++11",
                "-pedantic",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-fsyntax-only",
                "-x",
                "c++",
                "main.c",
            ],
        );
    }
    std::fs::write(
        dir.join("lib.rs"),
        "#![deny(warnings)]\n\
         pub mod pure_seccomp {\n\
             pub mod bpf {\n\
                 pub struct Instruction { pub code: u16, pub jt: u8, pub jf: u8, pub k: u32 }\n\
             }\n\
         }\n\
         include!(\"all.rs\");\ninclude!(\"named.rs\");\n\
         pub fn lens() -> [usize; 2] { [SECCOMP_X86_64.len(), SECCOMP_API_V2_AARCH64.len()] }\n",
    )
    .unwrap();
    if have("rustc") {
        compiles(
            "rustc",
            &[
                "--edition",
                "2021",
                "--crate-type",
                "lib",
                "--emit",
                "metadata",
                "-o",
                "lib.rmeta",
                "lib.rs",
            ],
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `diff`: a policy and its compiled program agree; rules that differ only where two
/// conditions hold at once, in a 64-bit argument's high word or under a mask are found, with
/// the arguments that show it; a filter with no architecture check differs on a foreign
/// architecture; several filters pair by name.
#[test]
fn diff_finds_where_two_filters_differ() {
    let dir = scratch("diff");
    let policy = |name: &str, mmap_arg3: u64, ioctl_arg1: u64, openat_mask: u64| {
        let p = dir.join(name);
        std::fs::write(
            &p,
            format!(
                r#"{{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                    "syscalls": [
                    {{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}},
                    {{"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [
                        {{"index": 2, "value": 7, "op": "SCMP_CMP_EQ"}},
                        {{"index": 3, "value": {mmap_arg3}, "op": "SCMP_CMP_EQ"}}]}},
                    {{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [
                        {{"index": 1, "value": {ioctl_arg1}, "op": "SCMP_CMP_EQ"}}]}},
                    {{"names": ["openat"], "action": "SCMP_ACT_ALLOW", "args": [
                        {{"index": 2, "value": {openat_mask}, "valueTwo": 0,
                          "op": "SCMP_CMP_MASKED_EQ"}}]}}]}}"#
            ),
        )
        .unwrap();
        p.to_string_lossy().into_owned()
    };
    let a = policy("a.json", 0x22, 0x1_0000_0000, 3);
    // Its compiled program, and the same policy at level 1: the same verdicts.
    let prog = dir.join("a.bpf");
    expect(
        &["compile", &a, "--arch", "x86_64", "-o", s(&prog), "-q"],
        0,
    );
    let out = expect(&["diff", &a, s(&prog), "--arch", "x86_64"], 0);
    assert!(out.contains("same verdicts on every call tried"), "{out}");
    let b = policy("b.json", 0x21, 0x1_0000_0000, 3);
    let out = expect(&["diff", &a, &b, "--arch", "x86_64"], 1);
    assert!(
        out.contains("mmap (9) args [0x0, 0x0, 0x7, 0x21, 0x0, 0x0]: A ERRNO(1), B ALLOW"),
        "{out}"
    );
    assert!(out.contains("1 call(s) with different verdicts"), "{out}");
    let c = policy("c.json", 0x22, 0, 3);
    let out = expect(&["diff", &a, &c, "--arch", "x86_64"], 1);
    assert!(out.contains("ioctl (16) args [0x0, 0x0"), "{out}");
    let d = policy("d.json", 0x22, 0x1_0000_0000, 1);
    let out = expect(&["diff", &a, &d, "--arch", "x86_64"], 1);
    assert!(
        out.contains("openat (257) args [0x0, 0x0, 0x2, 0x0, 0x0, 0x0]: A ERRNO(1), B ALLOW"),
        "{out}"
    );
    // `ret ALLOW` alone: every call of another ABI, and of a foreign architecture, differs.
    let allow = dir.join("allow.hex");
    std::fs::write(&allow, "06 00 00 00 00 00 ff 7f\n").unwrap();
    let out = expect(&["diff", s(&allow), &a, "--arch", "x86_64"], 1);
    assert!(out.contains("  x86: "), "{out}");
    assert!(
        out.contains("  unknown architecture: 1 call(s)\n    syscall 0: A ALLOW, B KILL_THREAD"),
        "{out}"
    );
    // Several filters pair by name; against one, --filter picks.
    let fc = firecracker_file(&dir, &["vmm", "api"]);
    let out = expect(&["diff", s(&fc), s(&fc), "--arch", "x86_64"], 0);
    assert_eq!(out.matches("same verdicts").count(), 2, "{out}");
    let o = cmd(&["diff", s(&fc), &a, "--arch", "x86_64"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("pick one with --filter"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compile_formats() {
    let dir = scratch("formats");
    let rust = expect(
        &["compile", "--arch", "aarch64", "--format", "rust", "-q"],
        0,
    );
    assert!(
        rust.contains("pub const SECCOMP_AARCH64: [pure_seccomp::bpf::Instruction;"),
        "{rust}"
    );
    assert!(rust.contains("// 0000: ld    [4]  ; arch"), "{rust}");
    let c = expect(&["compile", "--arch", "x86_64", "--format", "c", "-q"], 0);
    assert!(
        c.contains("static struct sock_filter seccomp_x86_64["),
        "{c}"
    );
    assert!(c.contains("struct sock_fprog seccomp_x86_64_prog"), "{c}");
    let pfc = expect(&["compile", "--arch", "x86_64", "--format", "pfc", "-q"], 0);
    assert!(pfc.contains("# filter for arch x86_64"), "{pfc}");
    // Several programs to one -o: one file each, the architecture in the name.
    let out = dir.join("multi.bpf");
    expect(
        &[
            "compile",
            "--arch",
            "x86_64",
            "--arch",
            "riscv64",
            "-o",
            s(&out),
            "-q",
        ],
        0,
    );
    for f in ["multi-x86_64.bpf", "multi-riscv64.bpf"] {
        let len = std::fs::metadata(dir.join(f)).unwrap().len();
        assert!(len > 0 && len % 8 == 0, "{f}");
    }
    // ... but not as raw bytes on stdout.
    let o = cmd(&[
        "compile", "--arch", "x86_64", "--arch", "riscv64", "--format", "bpf",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("pass -o FILE"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_quote_the_input_and_exit_2() {
    let dir = scratch("errors");
    let o = cmd(&["compile", "--arch", "vax"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("\"vax\""), "{}", stderr(&o));
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_SOMETIMES"}]}]}"#,
    )
    .unwrap();
    let o = cmd(&["compile", s(&bad)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("syscalls[0].args[0].op"),
        "{}",
        stderr(&o)
    );
    let prog = dir.join("p.bpf");
    expect(&["compile", "-o", s(&prog), "-q"], 0);
    let o = cmd(&["sim", s(&prog), "--syscall", "read"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--arch"), "{}", stderr(&o));
    let o = cmd(&["sim", "--syscall", "no_such_call"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("\"no_such_call\""), "{}", stderr(&o));
    let o = cmd(&["disasm", s(&dir.join("missing.bpf")), "--arch", "x86_64"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.bpf"), "{}", stderr(&o));
    // Usage errors (clap) exit 2 as well.
    assert_eq!(cmd(&["compile", "--optimize", "3"]).status.code(), Some(2));
    let help = expect(&["--help"], 0);
    assert!(
        help.contains("Examples:") && help.contains("Exit codes"),
        "{help}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A policy read from a pipe (`/dev/stdin`, a shell's `<(...)`) is read once: it used to be
/// read a second time, found empty and taken for an empty allow-list (a filter denying
/// everything, with no error).
#[test]
fn a_policy_from_a_pipe_is_read_once() {
    let profile = br#"{"defaultAction": "SCMP_ACT_ERRNO",
                       "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#;
    for file in ["/dev/stdin", "-"] {
        for command in ["compile", "audit"] {
            let o = piped(&[command, file, "--arch", "x86_64"], profile);
            let out = stdout(&o);
            assert!(
                out.contains("(OCI format)") || out.contains("all 1 allowed syscalls"),
                "{command} {file}: {out}{}",
                stderr(&o)
            );
        }
    }
}

/// `-` is standard input for every command that reads a file: a policy, or a compiled
/// program from another command's output; and stdout for `-o`.
#[test]
fn a_dash_reads_standard_input() {
    let bpf = piped(
        &["compile", "-", "--arch", "x86_64", "--format", "bpf"],
        b"read\nwrite\nexit_group\n",
    );
    assert_eq!(bpf.status.code(), Some(0), "{}", stderr(&bpf));
    assert!(!bpf.stdout.is_empty() && bpf.stdout.len() % 8 == 0);
    let listing = piped(&["disasm", "-", "--arch", "x86_64"], &bpf.stdout);
    assert!(
        stdout(&listing).contains("ret   ALLOW"),
        "{}",
        stderr(&listing)
    );
    for (call, code) in [("write", 0), ("openat", 1)] {
        let o = piped(
            &["sim", "-", "--arch", "x86_64", "--syscall", call],
            &bpf.stdout,
        );
        assert_eq!(o.status.code(), Some(code), "{call}: {}", stdout(&o));
    }
    // `-o -` is stdout: the same bytes; several programs there are refused as without -o.
    let o = piped(
        &["compile", "-", "--arch", "x86_64", "-o", "-"],
        b"read\nwrite\nexit_group\n",
    );
    assert_eq!(o.stdout, bpf.stdout, "{}", stderr(&o));
    let o = cmd(&[
        "compile", "--arch", "x86_64", "--arch", "riscv64", "-o", "-",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("cannot go to stdout"), "{}", stderr(&o));
    // Messages name it.
    let o = piped(&["sim", "-", "--syscall", "read"], &bpf.stdout);
    assert!(
        stderr(&o).contains("standard input is a compiled program"),
        "{}",
        stderr(&o)
    );
}

/// A Firecracker file whose name does not give its architecture is built for this machine's,
/// with a note that says so; with --arch, or a name that gives it, there is no note.
#[test]
fn a_file_that_does_not_name_its_architecture_gets_a_note() {
    let dir = scratch("no-arch");
    let text = r#"{"vmm": {"default_action": "trap", "filter_action": "allow",
                            "filter": [{"syscall": "read"}]}}"#;
    let anonymous = dir.join("filters.json");
    let named = dir.join("aarch64-unknown-linux-musl.json");
    std::fs::write(&anonymous, text).unwrap();
    std::fs::write(&named, text).unwrap();
    let note = "does not say which architecture";
    let o = cmd(&["compile", s(&anonymous)]);
    assert!(stderr(&o).contains(note), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("vmm {}", native())),
        "{}",
        stdout(&o)
    );
    for args in [
        vec!["compile", s(&anonymous), "--arch", "riscv64"],
        vec!["compile", s(&named)],
    ] {
        let o = cmd(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains(note), "{args:?}: {}", stderr(&o));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn resolve_names_and_numbers_on_any_arch() {
    assert_eq!(
        expect(&["resolve", "openat", "--arch", "aarch64"], 0).trim(),
        "56"
    );
    assert_eq!(
        expect(&["resolve", "56", "--arch", "arm64"], 0).trim(),
        "openat"
    );
    assert_eq!(
        expect(&["resolve", "execve", "--arch", "s390x"], 0).trim(),
        "11"
    );
    assert_eq!(
        expect(&["resolve", "read", "--arch", "x32"], 0).trim(),
        "1073741824"
    );
    let all = expect(&["resolve", "openat", "--all"], 0);
    assert!(all
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["x86_64", "257"]));
    let o = cmd(&["resolve", "not_a_syscall", "--arch", "x86_64"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("\"not_a_syscall\""));
}

/// A policy with every weakness `audit` looks for that a policy can have.
const WEAK: &str = r#"{
    "defaultAction": "SCMP_ACT_ERRNO",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
    "syscalls": [
        {"names": ["read", "write", "exit_group", "socketcall", "ptrace", "bpf", "kexec_load",
                   "init_module", "userfaultfd", "io_uring_setup"],
         "action": "SCMP_ACT_ALLOW"},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}
    ]
}"#;

#[test]
fn audit_flags_a_weak_policy_and_passes_a_strong_one() {
    let dir = scratch("audit");
    let weak = dir.join("weak.json");
    std::fs::write(&weak, WEAK).unwrap();
    let out = expect(&["audit", s(&weak), "--arch", "x86_64"], 1);
    for needle in [
        "HIGH    ptrace allowed",
        "HIGH    bpf allowed",
        "HIGH    kexec_load allowed",
        "HIGH    init_module allowed",
        "MEDIUM  userfaultfd allowed",
        "MEDIUM  io_uring_setup allowed",
        "x86: socketcall(2) skips the argument checks of: socket",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    assert!(!out.contains("mount allowed ("), "{out}");

    // The embedded default policy has no high or medium finding, on any architecture it
    // names.
    for arch in [
        "x86_64",
        "aarch64",
        "mips64",
        "mipsel64",
        "ppc64le",
        "s390x",
        "riscv64",
        "loongarch64",
    ] {
        let out = expect(&["audit", "--arch", arch], 0);
        assert!(out.contains("\n0 high, 0 medium, 0 low"), "{arch}: {out}");
        if arch != "mips64" && arch != "mipsel64" {
            assert!(
                out.contains("allowed syscalls are cacheable"),
                "{arch}: {out}"
            );
        }
    }

    // A hand-written x86_64 filter that denies ptrace by number and allows the rest: x32
    // numbers get through.
    let hex = "\
        20 00 00 00 04 00 00 00\n\
        15 00 00 04 3e 00 00 c0\n\
        20 00 00 00 00 00 00 00\n\
        15 00 00 01 65 00 00 00\n\
        06 00 00 00 01 00 05 00\n\
        06 00 00 00 00 00 ff 7f\n\
        06 00 00 00 00 00 00 80\n";
    let prog = dir.join("denylist.hex");
    std::fs::write(&prog, hex).unwrap();
    let out = expect(&["audit", s(&prog), "--arch", "x86_64"], 1);
    assert!(out.contains("x32 bypass: 1 syscall number(s)"), "{out}");
    assert!(out.contains("ptrace (101) denied, 0x40000065"), "{out}");
    assert!(!out.contains("unknown architectures"), "{out}");

    // No architecture check at all.
    let prog = dir.join("noarch.hex");
    std::fs::write(
        &prog,
        "20 00 00 00 00 00 00 00\n15 00 00 01 65 00 00 00\n06 00 00 00 01 00 05 00\n06 00 00 00 00 00 ff 7f\n",
    )
    .unwrap();
    let out = expect(&["audit", s(&prog), "--arch", "x86_64"], 1);
    assert!(out.contains("no architecture check"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_shared_policy_compiles_for_every_arch_it_names() {
    let Some(dir) = shared_dir("policies") else {
        return;
    };
    let out_dir = scratch("shared");
    let mut compiled = 0;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // crosvm's minijail policies: a few of them (all are built in tests/policy.rs).
    for f in ["common_device", "block_device", "gpu_device", "wl_device"] {
        paths.push(dir.join(format!("crosvm-minijail-x86_64/{f}.policy")));
    }
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Licences, notes, crosvm's directory (its constants and frequencies) are not
        // policies.
        if !(name.ends_with(".json") || name.ends_with(".txt") || name.ends_with(".policy")) {
            continue;
        }
        let out = out_dir.join(format!("{name}.bpf"));
        let o = cmd(&["compile", s(&path), "--arch", "all", "-o", s(&out)]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let written = stderr(&o)
            .lines()
            .filter(|l| l.starts_with("wrote "))
            .count();
        assert!(written >= 1, "{name}: {}", stderr(&o));
        // Every program written is whole instructions.
        for line in stderr(&o).lines().filter(|l| l.starts_with("wrote ")) {
            let file = line["wrote ".len()..].split(" (").next().unwrap();
            let len = std::fs::metadata(file).unwrap().len();
            assert!(len > 0 && len % 8 == 0, "{file}");
        }
        compiled += written;
        // With every optimizer pass off, at level 1, the same verdicts (`diff` explores both).
        // (Quiet: the summary simulates every ABI's table; the files are named as above.)
        let plain = out_dir.join(format!("{name}.plain.bpf"));
        let p = cmd(&[
            "compile",
            s(&path),
            "--arch",
            "all",
            "-O",
            "1",
            "--no-pass",
            "all",
            "-q",
            "-o",
            s(&plain),
        ]);
        assert_eq!(p.status.code(), Some(0), "{name}: {}", stderr(&p));
        let log = stderr(&o);
        let written: Vec<(&str, &str)> = log
            .lines()
            .filter_map(|l| l.strip_prefix("wrote "))
            .map(|l| l.split_once(" (").unwrap())
            .collect();
        // (Every program, but one in n of systemd's 667 groups x architectures; under an
        // emulator, the first of each file.)
        let emulated = std::env::var_os("PURE_SECCOMP_E2E_RUNNER").is_some();
        let step = if emulated {
            written.len()
        } else {
            written.len().div_ceil(40)
        };
        for (file, title) in written.into_iter().step_by(step) {
            let plain_file = file.replacen(&name, &format!("{name}.plain"), 1);
            // `vmm x86_64)`, `x86_64 (+x86, x32))`: the primary architecture.
            let arch = title.split(" (+").next().unwrap().trim_end_matches(')');
            let arch = arch.rsplit(' ').next().unwrap();
            let d = cmd(&["diff", file, &plain_file, "--arch", arch]);
            assert_eq!(
                d.status.code(),
                Some(0),
                "{name} {title}: {}{}",
                stdout(&d),
                stderr(&d)
            );
        }
        // The audit of the policy runs (findings or not).
        let o = cmd(&["audit", s(&path)]);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{name}: {}",
            stderr(&o)
        );
    }
    assert!(compiled >= 14, "only {compiled} programs compiled");
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// The ABI of a recorded query, for the architectures of Docker's profile.
fn abi_of(token: u32, nr: i32) -> Option<pure_seccomp::ScmpArch> {
    use pure_seccomp::ScmpArch::*;
    Some(match token {
        0xc000_003e if nr as u32 & 0x4000_0000 != 0 => X32,
        0xc000_003e => X8664,
        0x4000_0003 => X86,
        0xc000_00b7 => Aarch64,
        0x4000_0028 => Arm,
        0x8000_0016 => S390X,
        0x16 => S390,
        0xc000_00f3 => Riscv64,
        0xc000_0008 => Mipsel64,
        0x4000_0008 => Mipsel,
        0xe000_0008 => Mipsel64N32,
        0x8000_0008 => Mips64,
        0x8 => Mips,
        0xa000_0008 => Mips64N32,
        _ => return None,
    })
}

/// The programs `compile` writes for Docker's profile return what libseccomp 2.5.4's
/// returned on every recorded query of `policy-docker-default.jsonl`, but for syscalls
/// only our newer tables know (libseccomp skipped their names: they are not in the
/// recorded calls, or failed there), such as x86_64's `uretprobe`, and x32's
/// `map_shadow_stack`, which 2.5.4 numbers as x86_64's.
#[test]
fn compiled_docker_profile_matches_the_recorded_verdicts() {
    use pure_seccomp::bpf::{self, SeccompData};
    use pure_seccomp::Endian;
    let (Some(policies), Some(conformance)) = (shared_dir("policies"), shared_dir("conformance"))
    else {
        return;
    };
    let recorded =
        std::fs::read_to_string(conformance.join("policy-docker-default.jsonl")).unwrap();
    let dir = scratch("docker-verdicts");
    let (mut queries, mut exempt) = (0, 0);
    for line in recorded.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = case["id"].as_str().unwrap();
        // "docker-default/x86_64+x86+x32/opt1"
        let mut parts = id.split('/').skip(1);
        let primary = parts.next().unwrap().split('+').next().unwrap();
        let level = parts.next().unwrap().trim_start_matches("opt");
        let endian = if case["endian"] == "big" {
            Endian::Big
        } else {
            Endian::Little
        };
        let out = dir.join(format!("{primary}-{level}.bpf"));
        expect(
            &[
                "compile",
                s(&policies.join("docker-default.json")),
                "--arch",
                primary,
                "--optimize",
                level,
                "-o",
                s(&out),
                "-q",
            ],
            0,
        );
        let prog = bpf::decode(&std::fs::read(&out).unwrap(), endian).unwrap();
        let recorded_names: std::collections::HashSet<&str> = case["calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["ok"] == true && !c["syscall"]["nr"].is_null())
            .filter_map(|c| c["syscall"]["name"].as_str())
            .collect();
        for q in case["queries"].as_array().unwrap() {
            let num = |v: &serde_json::Value| -> u64 {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    .unwrap()
            };
            let mut args = [0u64; 6];
            for (a, v) in args.iter_mut().zip(q["args"].as_array().unwrap()) {
                *a = num(v);
            }
            let data = SeccompData {
                nr: q["nr"].as_i64().unwrap() as i32,
                arch: q["arch"].as_u64().unwrap() as u32,
                instruction_pointer: num(&q["ip"]),
                args,
            };
            let want = q["ret"].as_u64().unwrap() as u32;
            let got = bpf::simulate(&prog, &data, endian).unwrap().ret;
            queries += 1;
            if got != want {
                let name = abi_of(data.arch, data.nr).and_then(|abi| {
                    pure_seccomp::ScmpSyscall::from(data.nr)
                        .get_name_by_arch(abi)
                        .ok()
                });
                // x32's map_shadow_stack: 2.5.4 numbers it as x86_64's (README).
                let newer = name.as_deref().is_some_and(|n| {
                    !recorded_names.contains(n)
                        || (n == "map_shadow_stack" && data.nr as u32 & 0x4000_0000 != 0)
                });
                assert!(
                    newer,
                    "{id}: {data:?} ({name:?}): ours {got:#x}, libseccomp {want:#x}"
                );
                exempt += 1;
            }
        }
    }
    eprintln!("{queries} recorded queries, {exempt} on syscalls libseccomp 2.5.4 did not know");
    assert!(queries > 10_000, "{queries}");
    assert!(exempt * 100 < queries, "{exempt} of {queries}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bad input to the command, catalogued: each row is a command line, the exit code it must
/// give (2: bad usage or input) and a piece of the message, which quotes what was wrong. No
/// row may panic (101) or print a program.
#[test]
fn bad_input_is_refused_with_a_clear_error() {
    let dir = scratch("bad-input");
    let prog = dir.join("p.bpf");
    expect(&["compile", "--arch", "x86_64", "-o", s(&prog), "-q"], 0);
    let bytes = std::fs::read(&prog).unwrap();
    let write = |name: &str, data: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, data).unwrap();
        s(&p).to_string()
    };
    let truncated = write("truncated.bpf", &bytes[..12]);
    // `ret ALLOW`, then a jump past the end: the kernel refuses it.
    let bad_jump = write(
        "bad-jump.bpf",
        &[0x06, 0, 0, 0, 0, 0, 0xff, 0x7f, 0x15, 0, 9, 0, 0, 0, 0, 0],
    );
    let byte_load = write(
        "byte-load.bpf",
        &[0x30, 0, 0, 0, 0, 0, 0, 0, 0x06, 0, 0, 0, 0, 0, 0, 0],
    );
    let bad_json = write("bad.json", b"{");
    let empty = write("empty.txt", b"# nothing allowed\n");
    // A one-word text file (a host name) is no allow-list.
    let one_word = write("hostname", b"vm\n");
    // Neither text nor a program (no 0 byte: every instruction has one).
    let binary = write(
        "binary",
        &[0xff, 0xfe, 0x80, 0x81, 0x90, 0xa0, 0xb0, 0xc0, 0xd0],
    );
    let bad_op = write(
        "bad-op.json",
        br#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 7, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
    );
    let bad_action = write(
        "bad-action.json",
        br#"{"defaultAction": "SCMP_ACT_SOMETIMES", "syscalls": []}"#,
    );
    // A legacy architectures list of little-endian ABIs, compiled for a big-endian target.
    let x86_only = write(
        "x86-only.json",
        br#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": []}"#,
    );
    let missing = s(&dir.join("missing.json")).to_string();
    let p = s(&prog).to_string();
    let rows: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["frobnicate"], 2, "frobnicate"),
        (vec!["compile", "--format", "elf"], 2, "elf"),
        (vec!["compile", "--optimize", "3"], 2, "3"),
        (vec!["compile", "--arch", "vax"], 2, "vax"),
        (vec!["compile", &missing], 2, "missing.json"),
        (vec!["compile", &bad_json], 2, "not valid JSON"),
        (vec!["compile", &empty], 2, "empty allow-list"),
        (
            vec!["compile", &one_word],
            2,
            "no name in this allow-list is a syscall (vm)",
        ),
        (vec!["compile", &bad_op], 2, "syscalls[0].args[0].index"),
        (vec!["compile", &bad_action], 2, "SCMP_ACT_SOMETIMES"),
        (
            vec!["compile", &x86_only, "--arch", "s390x"],
            2,
            "SCMP_ARCH_X86_64 is of another byte order than the target SCMP_ARCH_S390X",
        ),
        (vec!["compile", "--filter", "nosuch"], 2, "nosuch"),
        (vec!["disasm", &p], 2, "--arch"),
        (
            vec!["disasm", &binary, "--arch", "x86_64"],
            2,
            "neither a policy",
        ),
        (vec!["disasm", &truncated, "--arch", "x86_64"], 2, "8-byte"),
        (
            vec!["sim", &truncated, "--arch", "x86_64", "--syscall", "read"],
            2,
            "8-byte",
        ),
        (
            vec!["sim", &bad_jump, "--arch", "x86_64", "--syscall", "read"],
            2,
            "kernel would load",
        ),
        (
            vec!["sim", &byte_load, "--arch", "x86_64", "--syscall", "read"],
            2,
            "kernel would load",
        ),
        (
            vec!["audit", &bad_jump, "--arch", "x86_64"],
            2,
            "kernel would load",
        ),
        (vec!["sim", "--syscall", "no_such_call"], 2, "no_such_call"),
        (vec!["sim", "--syscall", "read", "--args", "1,zz"], 2, "zz"),
        (
            vec!["sim", "--syscall", "read", "--args", "1,2,3,4,5,6,7"],
            2,
            "at most 6",
        ),
        (
            vec!["resolve", "nosuchcall", "--arch", "x86_64"],
            2,
            "nosuchcall",
        ),
        (vec!["resolve", "99999", "--arch", "x86_64"], 2, "99999"),
        (vec!["resolve", "read", "--arch", "vax"], 2, "vax"),
        (vec!["run", &missing, "--", "/bin/true"], 2, "missing.json"),
    ];
    for (args, code, quote) in &rows {
        let o = cmd(args);
        assert_eq!(
            o.status.code(),
            Some(*code),
            "pure-seccomp {args:?}\nstderr:\n{}",
            stderr(&o)
        );
        assert!(
            stderr(&o).contains(quote),
            "pure-seccomp {args:?}: the message does not quote {quote:?}:\n{}",
            stderr(&o)
        );
        assert!(
            stdout(&o).is_empty(),
            "pure-seccomp {args:?} printed:\n{}",
            stdout(&o)
        );
    }
    // `disasm` still lists a program the kernel would refuse, after saying why.
    let o = cmd(&["disasm", &bad_jump, "--arch", "x86_64"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning") && stderr(&o).contains("kernel would load"));
    assert!(stdout(&o).contains("ret"), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
