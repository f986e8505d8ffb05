//! The policy module (feature `policy`): every policy of `../shared/policies` parses and
//! builds for every architecture it names, at both optimize levels; the recipe for Docker's
//! profile makes the API calls recorded in `../shared/conformance/policy-docker-default.jsonl`;
//! the OCI, Firecracker, allow-list and minijail (crosvm) readings; errors name the field they
//! are about; no input makes the reader panic.
//!
//! The tests that need the shared material print why they are skipped when it is absent
//! (`PURE_SECCOMP_SHARED`, else `shared/` beside the crate root or one level further up).
#![cfg(feature = "policy")]

use pure_seccomp::bpf::{self, SeccompData};
use pure_seccomp::policy::{Call, Format, Policy, PolicyError, Recipe, Target};
use pure_seccomp::{
    Endian, ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterAttr, ScmpSyscall,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::str::FromStr;

mod common;

/// The shared policies, or `None` (printed why) when the shared material is absent.
fn policies_dir(test: &str) -> Option<PathBuf> {
    common::shared("policies", test)
}

/// The shared directory itself, when it has the policies and the corpus.
fn shared_dir(test: &str) -> Option<PathBuf> {
    common::shared("conformance/policy-docker-default.jsonl", test)?;
    Some(
        common::shared("policies/docker-default.json", test)?
            .parent()?
            .parent()?
            .to_path_buf(),
    )
}

const POLICIES: &[&str] = &[
    "docker-default.json",
    "podman-containers-common-seccomp.json",
    "firecracker-x86_64-unknown-linux-musl.json",
    "firecracker-aarch64-unknown-linux-musl.json",
    "systemd-252-system-service.txt",
    "systemd-252-syscall-filter-groups.txt",
];

const X86_64_HOST: bool = cfg!(all(target_arch = "x86_64", target_pointer_width = "64"));

fn byte_order(arch: ScmpArch) -> Endian {
    let mut ctx = pure_seccomp::ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    if arch != ScmpArch::native() {
        ctx.remove_arch(ScmpArch::Native).unwrap();
        ctx.add_arch(arch).unwrap();
    }
    ctx.byte_order()
}

/// The targets a test builds for: what the file names, or x86_64 and aarch64 for a file that
/// fits any architecture.
fn test_targets(policy: &Policy) -> Vec<ScmpArch> {
    let mut arches = policy.arches();
    if arches.is_empty() {
        arches = vec![ScmpArch::X8664, ScmpArch::Aarch64];
    }
    arches
}

#[test]
fn every_shared_policy_builds_for_every_arch_it_names() {
    let Some(dir) = policies_dir("every_shared_policy_builds_for_every_arch_it_names") else {
        return;
    };
    for file in POLICIES {
        let path = dir.join(file);
        if !path.is_file() {
            println!("note: {} is absent", path.display());
            continue;
        }
        let policy = Policy::from_file(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let targets = test_targets(&policy);
        let mut built = 0;
        for &arch in &targets {
            let recipes = policy
                .filters(&Target::new(arch))
                .unwrap_or_else(|e| panic!("{file} for {arch}: {e}"));
            assert!(!recipes.is_empty(), "{file} for {arch}: no filter");
            for mut recipe in recipes {
                assert_eq!(recipe.arches[0], arch, "{file}: the target comes first");
                assert!(!recipe.rules.is_empty(), "{file} {}: no rule", recipe.name);
                for level in [1, 2] {
                    recipe.optimize = Some(level);
                    let ctx = recipe.build().unwrap_or_else(|e| {
                        panic!("{file} {} for {arch} at level {level}: {e}", recipe.name)
                    });
                    let bytes = ctx.export_bpf_mem().unwrap_or_else(|e| {
                        panic!(
                            "{file} {} for {arch} at level {level}: export: {e}",
                            recipe.name
                        )
                    });
                    let prog = bpf::decode(&bytes, ctx.byte_order()).unwrap();
                    bpf::validate(&prog).unwrap_or_else(|e| {
                        panic!("{file} {} for {arch} at level {level}: {e}", recipe.name)
                    });
                    built += 1;
                }
            }
        }
        println!(
            "{file}: {} format, {} target(s), {built} programs built",
            policy.format(),
            targets.len()
        );
    }
}

#[test]
fn formats_and_arches_of_the_shared_policies() {
    let Some(dir) = policies_dir("formats_and_arches_of_the_shared_policies") else {
        return;
    };
    let docker = Policy::from_file(dir.join("docker-default.json")).unwrap();
    assert_eq!(docker.format(), Format::Oci);
    assert_eq!(
        docker.targets(),
        [
            ScmpArch::X8664,
            ScmpArch::Aarch64,
            ScmpArch::Mips64,
            ScmpArch::Mips64N32,
            ScmpArch::Mipsel64,
            ScmpArch::Mipsel64N32,
            ScmpArch::S390X,
            ScmpArch::Riscv64,
            ScmpArch::Loongarch64
        ]
    );
    assert!(docker.arches().contains(&ScmpArch::X32));
    assert!(docker.arches().contains(&ScmpArch::S390));

    let podman = Policy::from_file(dir.join("podman-containers-common-seccomp.json")).unwrap();
    let r = &podman.filters(&Target::new(ScmpArch::X8664)).unwrap()[0];
    assert_eq!(r.default_action, ScmpAction::Errno(38));
    assert_eq!(r.arches, [ScmpArch::X8664, ScmpArch::X86, ScmpArch::X32]);

    let fc = Policy::from_file(dir.join("firecracker-x86_64-unknown-linux-musl.json")).unwrap();
    assert_eq!(fc.format(), Format::Firecracker);
    assert_eq!(fc.arches(), [ScmpArch::X8664]);
    let recipes = fc.filters(&Target::new(ScmpArch::X8664)).unwrap();
    let names: Vec<&str> = recipes.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["api", "vcpu", "vmm"]);
    assert!(recipes.iter().all(|r| r.default_action == ScmpAction::Trap));
    // A file made for x86_64 is not built for another architecture.
    let err = fc.filters(&Target::new(ScmpArch::Aarch64)).unwrap_err();
    assert!(err.to_string().contains("SCMP_ARCH_X86_64"), "{err}");

    let systemd = Policy::from_file(dir.join("systemd-252-system-service.txt")).unwrap();
    assert_eq!(systemd.format(), Format::AllowList);
    assert!(systemd.arches().is_empty());
    let r = &systemd.filters(&Target::new(ScmpArch::X8664)).unwrap()[0];
    assert_eq!(r.name, "allow-list");
    assert_eq!(r.default_action, ScmpAction::Errno(libc::EPERM));
    assert_eq!(r.rules.len() + r.skipped.len(), 376);

    let groups = Policy::from_file(dir.join("systemd-252-syscall-filter-groups.txt")).unwrap();
    let recipes = groups.filters(&Target::new(ScmpArch::X8664)).unwrap();
    let service = recipes
        .iter()
        .find(|r| r.name == "@system-service")
        .unwrap();
    // The expanded file is the expansion of this group.
    let mut a: Vec<&str> = service.rules.iter().map(|r| r.syscall.as_str()).collect();
    let mut b: Vec<&str> = r.rules.iter().map(|r| r.syscall.as_str()).collect();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
}

// ---------------------------------------------------------------------------------------------
// The recorded calls of Docker's profile

/// One call in a comparable form: the op, its arguments, and for rules the syscall name.
fn recorded_call(c: &Value) -> String {
    let op = c["op"].as_str().unwrap();
    match op {
        "new" | "set_act_badarch" => format!("{op} {}", c["action"]),
        "add_arch" | "remove_arch" => format!("{op} {}", c["arch"].as_str().unwrap()),
        "set_ctl_optimize" => format!("{op} {}", c["level"]),
        "add_rule" | "add_rule_conditional" => format!(
            "{op} {} {} {}",
            c["action"],
            c["syscall"]["name"].as_str().unwrap(),
            c.get("comparators")
                .map(|v| v.to_string())
                .unwrap_or_default()
        ),
        other => panic!("unexpected recorded call {other}"),
    }
}

fn action_json(a: ScmpAction) -> Value {
    match a {
        ScmpAction::Errno(n) => serde_json::json!({ "Errno": n }),
        ScmpAction::Trace(n) => serde_json::json!({ "Trace": n }),
        other => serde_json::json!(format!("{other:?}")),
    }
}

fn cond_json(c: &ScmpArgCompare) -> Value {
    let op = match c.op() {
        ScmpCompareOp::Equal => "Eq",
        ScmpCompareOp::NotEqual => "Ne",
        ScmpCompareOp::Less => "Lt",
        ScmpCompareOp::LessOrEqual => "Le",
        ScmpCompareOp::Greater => "Gt",
        ScmpCompareOp::GreaterEqual => "Ge",
        ScmpCompareOp::MaskedEqual(mask) => {
            return serde_json::json!({"arg": c.arg(), "op": "MaskedEqual",
                                      "mask": mask.to_string(), "datum": c.datum().to_string()})
        }
        _ => unreachable!(),
    };
    serde_json::json!({"arg": c.arg(), "op": op, "datum": c.datum().to_string()})
}

fn recipe_call(c: &Call) -> String {
    match c {
        Call::New(a) => format!("new {}", action_json(*a)),
        Call::AddArch(a) => format!("add_arch {a}"),
        Call::RemoveArch(a) => format!("remove_arch {a}"),
        Call::SetCtlOptimize(l) => format!("set_ctl_optimize {l}"),
        Call::SetFilterAttr(a, v) => format!("set_filter_attr {a:?} {v}"),
        Call::AddRule(r) if r.conditions.is_empty() => {
            format!("add_rule {} {} ", action_json(r.action), r.syscall)
        }
        Call::AddRule(r) => format!(
            "add_rule_conditional {} {} {}",
            action_json(r.action),
            r.syscall,
            Value::Array(r.conditions.iter().map(cond_json).collect())
        ),
        other => panic!("unexpected call {other:?}"),
    }
}

#[test]
fn docker_recipe_makes_the_recorded_calls() {
    let Some(shared) = shared_dir("docker_recipe_makes_the_recorded_calls") else {
        return;
    };
    let corpus = shared.join("conformance/policy-docker-default.jsonl");
    let profile = shared.join("policies/docker-default.json");
    if !corpus.is_file() || !profile.is_file() {
        println!(
            "skipped: {} or {} is absent",
            corpus.display(),
            profile.display()
        );
        return;
    }
    if !X86_64_HOST {
        println!("skipped: the corpus was recorded on x86_64 (native arch, remove_arch calls)");
        return;
    }
    let policy = Policy::from_file(&profile).unwrap();
    let text = std::fs::read_to_string(&corpus).unwrap();
    let mut cases = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let id = case["id"].as_str().unwrap();
        let calls = case["calls"].as_array().unwrap();
        let primary = calls
            .iter()
            .find(|c| c["op"] == "add_arch")
            .map(|c| ScmpArch::from_str(c["arch"].as_str().unwrap()).unwrap())
            .unwrap();
        let level = calls
            .iter()
            .find(|c| c["op"] == "set_ctl_optimize")
            .and_then(|c| c["level"].as_u64())
            .unwrap() as u32;
        let mut recipe = policy.filters(&Target::new(primary)).unwrap().remove(0);
        recipe.optimize = Some(level);

        // Names libseccomp 2.5.4 did not know (recorded with a null number: the call was not
        // made) are rules here when this crate knows them; names this crate does not know are
        // in `skipped` and were calls there. Everything else is the same, call for call.
        let unknown_there: Vec<&str> = calls
            .iter()
            .filter(|c| c.get("syscall").is_some_and(|s| s["nr"].is_null()))
            .map(|c| c["syscall"]["name"].as_str().unwrap())
            .collect();
        let theirs: Vec<String> = calls
            .iter()
            .filter(|c| {
                c.get("syscall").map_or(true, |s| {
                    !recipe.skipped.iter().any(|n| s["name"] == n.as_str())
                })
            })
            .map(recorded_call)
            .collect();
        let ours: Vec<String> = recipe.calls().iter().map(recipe_call).collect();
        if theirs != ours {
            let at = theirs
                .iter()
                .zip(&ours)
                .position(|(a, b)| a != b)
                .unwrap_or(theirs.len().min(ours.len()));
            panic!(
                "{id}: call {at} differs: recorded {:?}, recipe {:?} ({} recorded, {} in the recipe)",
                theirs.get(at),
                ours.get(at),
                theirs.len(),
                ours.len()
            );
        }
        // Where both tables know a name, they give it the same x86_64 number.
        for c in calls.iter().filter(|c| c.get("syscall").is_some()) {
            let s = &c["syscall"];
            if let (Some(name), Some(nr)) = (s["name"].as_str(), s["nr"].as_i64()) {
                if let Ok(ours) = ScmpSyscall::from_name(name) {
                    assert_eq!(i64::from(ours.as_raw_syscall()), nr, "{id}: {name}");
                }
            }
        }
        // And the recipe's calls all succeed.
        recipe.build().unwrap_or_else(|e| panic!("{id}: {e}"));
        println!(
            "{id}: {} calls equal ({} names unknown to libseccomp 2.5.4 are rules here, {} skipped)",
            ours.len(),
            unknown_there.len(),
            recipe.skipped.len()
        );
        cases += 1;
    }
    assert!(cases > 0, "no case in {}", corpus.display());
}

/// `compile_policy --calls` prints the recorded calls too (the example is built by `cargo test`
/// with the feature on; skipped when its binary is not beside this test's).
#[test]
fn compile_policy_example_prints_the_recorded_calls() {
    let Some(shared) = shared_dir("compile_policy_example_prints_the_recorded_calls") else {
        return;
    };
    let corpus = shared.join("conformance/policy-docker-default.jsonl");
    let profile = shared.join("policies/docker-default.json");
    if !corpus.is_file() || !profile.is_file() || !X86_64_HOST {
        println!("skipped: needs the corpus, Docker's profile and an x86_64 host");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let Some(example) = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("examples/compile_policy"))
        .filter(|p| p.is_file())
    else {
        println!(
            "skipped: the compile_policy example is not built beside {}",
            exe.display()
        );
        return;
    };
    let policy = Policy::from_file(&profile).unwrap();
    let text = std::fs::read_to_string(&corpus).unwrap();
    for (arch, level) in [("x86_64", 1), ("s390x", 2)] {
        let out = std::process::Command::new(&example)
            .arg(&profile)
            .args(["--arch", arch, "--opt", &level.to_string(), "--calls"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(printed.iter().all(|c| c["ok"] == true));
        let ours: Vec<String> = printed.iter().map(recorded_call).collect();
        let target = pure_seccomp::policy::parse_arch(arch).unwrap();
        let skipped = policy.filters(&Target::new(target)).unwrap()[0]
            .skipped
            .clone();
        let case = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|c| {
                let id = c["id"].as_str().unwrap();
                id.starts_with(&format!("docker-default/{arch}"))
                    && id.ends_with(&format!("opt{level}"))
            })
            .unwrap();
        let theirs: Vec<String> = case["calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c.get("syscall")
                    .map_or(true, |s| !skipped.iter().any(|n| s["name"] == n.as_str()))
            })
            .map(recorded_call)
            .collect();
        assert_eq!(ours, theirs, "{arch} level {level}");
    }
}

// ---------------------------------------------------------------------------------------------
// OCI semantics

fn rules_of<'a>(r: &'a Recipe, name: &str) -> Vec<&'a pure_seccomp::policy::RecipeRule> {
    r.rules.iter().filter(|x| x.syscall == name).collect()
}

#[test]
fn oci_includes_and_excludes() {
    let profile = r#"{
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
            {"names": ["kcmp"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.0"}},
            {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
            {"names": ["sync_file_range2"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
            {"names": ["bpf"], "action": "SCMP_ACT_ALLOW",
             "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_BPF"]}},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
             "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["write"], "action": "SCMP_ACT_ERRNO"}
        ]
    }"#;
    let p = Policy::parse(profile).unwrap();
    let names = |t: &Target| -> Vec<String> {
        let r = p.filters(t).unwrap().remove(0);
        r.rules.iter().map(|x| x.syscall.clone()).collect()
    };
    let x86 = Target::new(ScmpArch::X8664);
    // No capabilities, newest kernel; `write` has the default action and is dropped.
    assert_eq!(names(&x86), ["read", "ptrace", "arch_prctl", "clone3"]);
    assert_eq!(
        names(&x86.clone().kernel(4, 7)),
        ["read", "kcmp", "arch_prctl", "clone3"]
    );
    assert_eq!(
        names(&x86.clone().kernel(4, 19)),
        ["read", "ptrace", "kcmp", "arch_prctl", "clone3"]
    );
    assert_eq!(
        names(&x86.clone().caps(["CAP_SYS_ADMIN"])),
        ["read", "ptrace", "arch_prctl"]
    );
    assert_eq!(
        names(&x86.clone().caps(["CAP_SYS_ADMIN", "CAP_BPF"])),
        ["read", "ptrace", "arch_prctl", "bpf"]
    );
    let arm = Target::new(ScmpArch::Aarch64);
    assert_eq!(
        names(&arm),
        ["read", "ptrace", "sync_file_range2", "clone3"]
    );
    let r = p.filters(&arm).unwrap().remove(0);
    assert_eq!(r.arches, [ScmpArch::Aarch64, ScmpArch::Arm]);
    assert_eq!(rules_of(&r, "clone3")[0].action, ScmpAction::Errno(38));
    // An architecture without an archMap entry: itself alone.
    let r = p.filters(&Target::new(ScmpArch::S390X)).unwrap().remove(0);
    assert_eq!(r.arches, [ScmpArch::S390X]);
}

#[test]
fn oci_argument_rules_follow_runc() {
    let p = Policy::parse(
        r#"{"defaultAction": "SCMP_ACT_KILL_PROCESS", "architectures": ["SCMP_ARCH_X86_64"],
            "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC"],
            "syscalls": [
              {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
               "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
                        {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
                        {"index": 1, "value": 3, "op": "SCMP_CMP_LE"}]},
              {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
               "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"},
                        {"index": 2, "value": 9, "op": "SCMP_CMP_NE"}]},
              {"name": "clone", "action": "SCMP_ACT_TRACE", "errnoRet": 7,
               "args": [{"index": 0, "value": 2114060288, "valueTwo": 0,
                         "op": "SCMP_CMP_MASKED_EQ"}]},
              {"names": ["no_such_syscall_xyz", "read"], "action": "SCMP_ACT_LOG"}
            ]}"#,
    )
    .unwrap();
    let r = p.filters(&Target::new(ScmpArch::X8664)).unwrap().remove(0);
    assert_eq!(r.default_action, ScmpAction::KillProcess);
    assert_eq!(r.attributes, [(ScmpFilterAttr::CtlLog, 1)]);
    // A repeated index: one rule per condition (ORed).
    let pers = rules_of(&r, "personality");
    assert_eq!(pers.len(), 3);
    assert_eq!(
        pers[2].conditions,
        [ScmpArgCompare::new(1, ScmpCompareOp::LessOrEqual, 3)]
    );
    // Distinct indexes: one rule, ANDed.
    let sock = rules_of(&r, "socket");
    assert_eq!(sock.len(), 1);
    assert_eq!(sock[0].conditions.len(), 2);
    // MASKED_EQ: value is the mask, valueTwo the datum.
    let clone = rules_of(&r, "clone");
    assert_eq!(clone[0].action, ScmpAction::Trace(7));
    assert_eq!(
        clone[0].conditions,
        [ScmpArgCompare::new(
            0,
            ScmpCompareOp::MaskedEqual(2114060288),
            0
        )]
    );
    assert_eq!(r.skipped, ["no_such_syscall_xyz"]);
    assert_eq!(rules_of(&r, "read")[0].action, ScmpAction::Log);
    r.build().unwrap().export_bpf_mem().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Firecracker semantics

#[test]
fn firecracker_dword_compares_the_low_half() {
    let p = Policy::parse(
        r#"{"vcpu": {"default_action": {"errno": 13}, "filter_action": "allow", "filter": [
              {"syscall": "ioctl", "args": [{"index": 1, "type": "dword", "op": "eq", "val": 21505}]},
              {"syscall": "ioctl", "args": [{"index": 1, "type": "dword", "op": "lt", "val": 16},
                                            {"index": 0, "type": "qword", "op": "eq", "val": 7}]},
              {"syscall": "mmap", "args": [{"index": 2, "type": "dword", "op": {"masked_eq": 4}, "val": 0}]},
              {"syscall": "read"}
           ]},
           "other": {"default_action": "allow", "filter_action": "allow", "filter": [{"syscall": "read"}]}}"#,
    )
    .unwrap()
    .with_arch(ScmpArch::X8664);
    assert_eq!(p.arches(), [ScmpArch::X8664]);
    let recipes = p.filters(&Target::new(ScmpArch::X8664)).unwrap();
    assert_eq!(recipes[0].name, "other");
    assert!(
        recipes[0].rules.is_empty(),
        "rules with the default action are dropped"
    );
    let r = &recipes[1];
    assert_eq!(r.default_action, ScmpAction::Errno(13));
    // lt 16 = 0b10000: one masked comparison.
    assert_eq!(rules_of(r, "ioctl").len(), 2);

    let ctx = r.build().unwrap();
    let prog = bpf::decode(&ctx.export_bpf_mem().unwrap(), Endian::Little).unwrap();
    let nr = |n: &str| {
        ScmpSyscall::from_name_by_arch(n, ScmpArch::X8664)
            .unwrap()
            .as_raw_syscall()
    };
    let run = |name: &str, args: [u64; 6]| {
        let d = SeccompData {
            nr: nr(name),
            arch: 0xc000_003e,
            instruction_pointer: 0,
            args,
        };
        bpf::simulate(&prog, &d, Endian::Little).unwrap().ret
    };
    const ALLOW: u32 = 0x7fff_0000;
    const EACCES: u32 = 0x0005_000d;
    assert_eq!(run("ioctl", [3, 21505, 0, 0, 0, 0]), ALLOW);
    assert_eq!(run("ioctl", [3, 0xdead_beef_0000_5401, 0, 0, 0, 0]), ALLOW);
    assert_eq!(run("ioctl", [3, 21506, 0, 0, 0, 0]), EACCES);
    assert_eq!(run("ioctl", [7, 0xffff_ffff_0000_000f, 0, 0, 0, 0]), ALLOW);
    assert_eq!(run("ioctl", [7, 16, 0, 0, 0, 0]), EACCES);
    assert_eq!(run("ioctl", [8, 15, 0, 0, 0, 0]), EACCES);
    assert_eq!(run("mmap", [0, 0, 0x1_0000_0003, 0, 0, 0]), ALLOW);
    assert_eq!(run("mmap", [0, 0, 7, 0, 0, 0]), EACCES);
    assert_eq!(run("read", [0; 6]), ALLOW);
}

// ---------------------------------------------------------------------------------------------
// Errors

fn err(text: &str) -> PolicyError {
    match Policy::parse(text) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e,
    }
}

const OCI_HEAD: &str = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": ["#;

fn oci_with(blocks: &str) -> String {
    format!("{OCI_HEAD}{blocks}]}}")
}

#[test]
fn oci_errors_name_the_field() {
    let ok = r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW"}"#;
    let bad_op = r#"{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW",
                     "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_EQ"},
                              {"index": 2, "value": 1, "op": "SCMP_CMP_EQUALS"}]}"#;
    let text = oci_with(&[ok; 12].join(","));
    assert!(Policy::parse(&text).is_ok());
    let text = oci_with(&format!("{},{bad_op}", [ok; 12].join(",")));
    let e = err(&text);
    assert_eq!(e.path(), "syscalls[12].args[1].op");
    assert!(e.message().contains("SCMP_CMP_EQUALS"), "{e}");

    let cases: &[(&str, &str)] = &[
        (
            r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "arg": []}"#,
            "syscalls[0].arg",
        ),
        (
            r#"{"names": ["read"], "action": "SCMP_ACT_ALLOWED"}"#,
            "syscalls[0].action",
        ),
        (r#"{"names": ["read"]}"#, "syscalls[0].action"),
        (
            r#"{"names": "read", "action": "SCMP_ACT_ALLOW"}"#,
            "syscalls[0].names",
        ),
        (
            r#"{"names": ["read", 5], "action": "SCMP_ACT_ALLOW"}"#,
            "syscalls[0].names[1]",
        ),
        (
            r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}"#,
            "syscalls[0].args[0].index",
        ),
        (
            r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}"#,
            "syscalls[0].args[0].value",
        ),
        (
            r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1.5, "op": "SCMP_CMP_EQ"}]}"#,
            "syscalls[0].args[0].value",
        ),
        (
            r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "op": "SCMP_CMP_EQ"}]}"#,
            "syscalls[0].args[0].value",
        ),
        (
            r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "valueTwo": "x", "op": "SCMP_CMP_EQ"}]}"#,
            "syscalls[0].args[0].valueTwo",
        ),
        (
            r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ", "extra": 1}]}"#,
            "syscalls[0].args[0].extra",
        ),
        (
            r#"{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 70000}"#,
            "syscalls[0].errnoRet",
        ),
        (
            r#"{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errno": "EBOGUS"}"#,
            "syscalls[0].errno",
        ),
        (
            r#"{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "errno": "ENOSYS"}"#,
            "syscalls[0].errno",
        ),
        (
            r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "four"}}"#,
            "syscalls[0].includes.minKernel",
        ),
        (
            r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "excludes": {"cap": ["CAP_X"]}}"#,
            "syscalls[0].excludes.cap",
        ),
        (
            r#"{"names": ["read"], "name": "write", "action": "SCMP_ACT_ALLOW"}"#,
            "syscalls[0].name",
        ),
        ("5", "syscalls[0]"),
    ];
    for (block, path) in cases {
        let e = err(&oci_with(&format!("{ok},{block}")));
        let want = path.replace("syscalls[0]", "syscalls[1]");
        assert_eq!(e.path(), want, "{block}: {e}");
    }

    let top: &[(&str, &str)] = &[
        (r#"{"defaultAction": "SCMP_ACT_NOPE"}"#, "defaultAction"),
        (r#"{"defaultAction": 5}"#, "defaultAction"),
        (
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1}"#,
            "defaultErrnoRet",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_VAX"]}"#,
            "architectures[0]",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["x86"]}]}"#,
            "archMap[0].subArchitectures[0]",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"subArchitectures": []}]}"#,
            "archMap[0].architecture",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}"#,
            "archMap",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_NOPE"]}"#,
            "flags[0]",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "sycalls": []}"#,
            "sycalls",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}}"#,
            "syscalls",
        ),
    ];
    for (text, path) in top {
        assert_eq!(err(text).path(), *path, "{text}");
    }
    assert_eq!(err("{\"defaultAction\": ").path(), "");
    assert!(err("{\"defaultAction\": ")
        .message()
        .starts_with("not valid JSON"));
    assert!(err("{}").message().contains("unknown JSON policy"));
}

#[test]
fn firecracker_errors_name_the_field() {
    let with = |rule: &str| {
        format!(
            r#"{{"vmm": {{"default_action": "trap", "filter_action": "allow",
                 "filter": [{{"syscall": "read"}}, {rule}]}}}}"#
        )
    };
    let cases: &[(&str, &str)] = &[
        (
            r#"{"syscall": "ioctl", "args": [{"index": 1, "type": "dword", "op": "equal", "val": 1}]}"#,
            "vmm.filter[1].args[0].op",
        ),
        (
            r#"{"syscall": "ioctl", "args": [{"index": 1, "type": "dword", "op": {"masked": 1}, "val": 1}]}"#,
            "vmm.filter[1].args[0].op",
        ),
        (
            r#"{"syscall": "ioctl", "args": [{"index": 1, "type": "dword", "op": {"masked_eq": -1}, "val": 1}]}"#,
            "vmm.filter[1].args[0].op.masked_eq",
        ),
        (
            r#"{"syscall": "ioctl", "args": [{"index": 1, "type": "word", "op": "eq", "val": 1}]}"#,
            "vmm.filter[1].args[0].type",
        ),
        (
            r#"{"syscall": "ioctl", "args": [{"index": 1, "type": "dword", "op": "eq", "val": 4294967296}]}"#,
            "vmm.filter[1].args[0].val",
        ),
        (
            r#"{"syscall": "ioctl", "args": [{"index": 1, "type": "dword", "op": "eq", "val": 1},
                                              {"index": 1, "type": "dword", "op": "eq", "val": 2}]}"#,
            "vmm.filter[1].args[1].index",
        ),
        (
            r#"{"syscall": "ioctl", "args": [{"arg_index": 1, "type": "dword", "op": "eq", "val": 1}]}"#,
            "vmm.filter[1].args[0].arg_index",
        ),
        (
            r#"{"syscall": "ioctl", "action": "allow"}"#,
            "vmm.filter[1].action",
        ),
        (r#"{"args": []}"#, "vmm.filter[1].syscall"),
    ];
    for (rule, path) in cases {
        assert_eq!(err(&with(rule)).path(), *path, "{rule}");
    }
    let e = err(r#"{"vmm": {"default_action": "kill", "filter_action": "allow", "filter": []}}"#);
    assert_eq!(e.path(), "vmm.default_action");
    let e = err(
        r#"{"vmm": {"default_action": {"errno": 70000}, "filter_action": "allow", "filter": []}}"#,
    );
    assert_eq!(e.path(), "vmm.default_action.errno");
    let e = err(r#"{"vmm": {"default_action": "trap", "filter_action": "allow"}}"#);
    assert_eq!(e.path(), "vmm.filter");
}

#[test]
fn allow_list_errors_name_the_line() {
    assert_eq!(err("read\nwrite\n@default\n").path(), "line 3");
    assert_eq!(err("read\n\nopen at\n").path(), "line 3");
    assert_eq!(err("read\n~write\n").path(), "line 2");
    let p = Policy::parse("read\nno_such_syscall_xyz # not known\nwrite\n").unwrap();
    let r = p.filters(&Target::new(ScmpArch::X8664)).unwrap().remove(0);
    assert_eq!(r.skipped, ["no_such_syscall_xyz"]);
    assert_eq!(r.rules.len(), 2);
}

/// Truncated and corrupted versions of the shared policies (and some odd inputs) give errors
/// or policies, never a panic.
#[test]
fn no_input_panics() {
    let mut inputs: Vec<String> = vec![
        String::new(),
        "{".into(),
        "[]".into(),
        "{\"a\": 1}".into(),
        "{\"vmm\": {\"filter\": 5}}".into(),
        "\u{feff}read".into(),
        "#".into(),
        "@".into(),
        "@a\n\t@a".into(),
        "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [null, {}]}".into(),
        format!("{}{}", "[".repeat(200), "]".repeat(200)),
        format!(
            "{{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"x\": {}}}",
            "[".repeat(300)
        ),
        // minijail
        "read: arg0 == (((1".into(),
        format!(
            "read: arg0 == {}1{}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        ),
        format!("read: arg0 == {}1", "~(".repeat(10_000)),
        "read: arg99999999999999999999 == 1".into(),
        "read: return -1\nwrite: return 0x\n".into(),
        "read: arg0 & 0xffffffffffffffff && arg1 & 0xffffffffffffffff".into(),
        "{}: 1\n{read}: {}\n{,}: 1".into(),
        "read: \\\n\\".into(),
        "@default\n@default kill kill\n@include".into(),
        "é: 1\nread: arg0 == é".into(),
    ];
    if let Some(dir) = policies_dir("corrupted policy files (the cut shared policies)") {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let minijail = [
            "common_device.policy",
            "gpu_common.policy",
            "wl_device.policy",
        ]
        .map(|f| format!("crosvm-minijail-x86_64/{f}"));
        for file in POLICIES
            .iter()
            .copied()
            .chain(minijail.iter().map(String::as_str))
        {
            let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
                continue;
            };
            for _ in 0..40 {
                let cut = (next() % text.len() as u64) as usize;
                inputs.push(text.chars().take(cut).collect());
                let mut bytes = text.clone().into_bytes();
                for _ in 0..4 {
                    let at = (next() % bytes.len() as u64) as usize;
                    const SET: &[u8] = b"{}[]\",:0123456789-.aZ_@# \n";
                    bytes[at] = SET[(next() % SET.len() as u64) as usize];
                }
                inputs.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    let mut parsed = 0;
    for input in &inputs {
        if let Ok(p) = Policy::parse(input) {
            parsed += 1;
            for arch in test_targets(&p) {
                if let Ok(recipes) = p.filters(&Target::new(arch)) {
                    for r in recipes {
                        let _ = r.build().and_then(|c| c.export_bpf_mem());
                    }
                }
            }
        }
    }
    println!("{} inputs, {parsed} parsed", inputs.len());
}

#[test]
fn byte_orders_of_named_arches() {
    // The recipes of big-endian targets build programs of their byte order.
    let p = Policy::parse(
        r#"{"defaultAction": "SCMP_ACT_ERRNO",
            "archMap": [{"architecture": "SCMP_ARCH_S390X", "subArchitectures": ["SCMP_ARCH_S390"]}],
            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
    )
    .unwrap();
    let r = p.filters(&Target::new(ScmpArch::S390X)).unwrap().remove(0);
    assert_eq!(r.build().unwrap().byte_order(), Endian::Big);
    assert_eq!(byte_order(ScmpArch::S390X), Endian::Big);
}

/// runc keeps the machine's architecture and adds a profile's legacy `architectures` list:
/// the target comes first, with the list after it; an architecture of the other byte order
/// cannot join it (runc fails to start the container), which is an error naming the field,
/// not a filter of the listed ABI built for a target it cannot run on.
#[test]
fn oci_legacy_architectures_join_the_target() {
    let p = Policy::parse(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
    )
    .unwrap();
    let arches = |arch| {
        p.filters(&Target::new(arch))
            .map(|mut r| r.remove(0).arches)
    };
    assert_eq!(
        arches(ScmpArch::X8664).unwrap(),
        [ScmpArch::X8664, ScmpArch::X86]
    );
    assert_eq!(
        arches(ScmpArch::Aarch64).unwrap(),
        [ScmpArch::Aarch64, ScmpArch::X8664, ScmpArch::X86]
    );
    let ctx = p.filters(&Target::new(ScmpArch::Aarch64)).unwrap()[0]
        .build()
        .unwrap();
    assert!(ctx.is_arch_present(ScmpArch::Aarch64).unwrap());
    let e = arches(ScmpArch::S390X).unwrap_err();
    assert_eq!(e.path(), "architectures");
    assert!(
        e.message()
            .contains("SCMP_ARCH_X86_64 is of another byte order"),
        "{e}"
    );
}

/// Docker's x86_64 allow-list at level 2, as the benchmark measures it (`bench-c`, row
/// `[x86_64 only]`): each syscall with an unconditional ALLOW rule, queried once on the
/// x86_64 ABI with all arguments 0 (x32 check included). The optimizer issue's target is a
/// mean of at most 10 and a maximum of 11; the benchmark meets it (9.2 / 11, libseccomp
/// 14.8 / 17) on the rules both libraries know, and so does the whole profile here, with the
/// syscalls libseccomp 2.5.4 does not know (mseal, listmount, ...: 9 more rules): 9.25 / 11.
#[test]
fn docker_x86_64_allow_list_runs_few_instructions() {
    let Some(dir) = policies_dir("docker_x86_64_allow_list_runs_few_instructions") else {
        return;
    };
    let arch = ScmpArch::X8664;
    let policy = Policy::from_file(dir.join("docker-default.json"))
        .unwrap()
        .with_arch(arch);
    let mut recipe = policy.filters(&Target::new(arch)).unwrap().remove(0);
    recipe.optimize = Some(2);
    let prog = recipe.build().unwrap().export_bpf_mem().unwrap();
    let prog = bpf::decode(&prog, Endian::Little).unwrap();
    let mut runs = Vec::new();
    for rule in &recipe.rules {
        if rule.action != ScmpAction::Allow || !rule.conditions.is_empty() {
            continue;
        }
        let Ok(nr) = ScmpSyscall::from_name_by_arch(&rule.syscall, arch) else {
            continue;
        };
        let nr = i32::from(nr);
        if nr < 0 {
            continue;
        }
        let data = SeccompData {
            nr,
            arch: bpf::audit_arch(arch).unwrap(),
            ..Default::default()
        };
        let out = bpf::simulate(&prog, &data, Endian::Little).unwrap();
        assert_eq!(out.ret, bpf::SECCOMP_RET_ALLOW, "{}", rule.syscall);
        runs.push(out.executed);
    }
    assert!(runs.len() > 250, "{} allowed syscalls", runs.len());
    let max = runs.iter().max().copied().unwrap();
    let mean = runs.iter().sum::<usize>() as f64 / runs.len() as f64;
    eprintln!("{} allowed syscalls: mean {mean:.2}, max {max}", runs.len());
    assert!(max <= 11, "max {max}");
    assert!(mean <= 10.0, "mean {mean:.2}");
}

// ---------------------------------------------------------------------------------------------
// crosvm's minijail policies

/// The verdict of the program exported from `recipe` at `level`, for x86_64's `name` with
/// these arguments.
fn minijail_verdict(recipe: &Recipe, level: u32, name: &str, args: [u64; 6]) -> u32 {
    let mut r = recipe.clone();
    r.optimize = Some(level);
    let ctx = r.build().unwrap();
    let prog = bpf::decode(&ctx.export_bpf_mem().unwrap(), ctx.byte_order()).unwrap();
    let nr = ScmpSyscall::from_name_by_arch(name, ScmpArch::X8664).unwrap();
    let data = SeccompData {
        nr: i32::from(nr),
        arch: 0xc000_003e,
        args,
        ..Default::default()
    };
    let ret = bpf::simulate(&prog, &data, Endian::Little).unwrap().ret;
    // The rules' own verdict agrees.
    assert_eq!(ctx.evaluate(&data), ret, "{name} {args:?} at level {level}");
    ret
}

#[test]
fn crosvm_minijail_policies_build_and_decide_as_written() {
    let Some(dir) = policies_dir("crosvm_minijail_policies_build_and_decide_as_written") else {
        return;
    };
    let dir = dir.join("crosvm-minijail-x86_64");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "policy"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "{} policies", files.len());
    for path in &files {
        let policy = Policy::from_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(policy.format(), Format::Minijail);
        assert_eq!(policy.arches(), [ScmpArch::X8664], "{}", path.display());
        let recipe = &policy.filters(&Target::new(ScmpArch::X8664)).unwrap()[0];
        assert_eq!(recipe.default_action, ScmpAction::KillProcess);
        assert!(!recipe.rules.is_empty(), "{}", path.display());
        for level in [1, 2] {
            let mut r = recipe.clone();
            r.optimize = Some(level);
            let ctx = r
                .build()
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let prog = bpf::decode(&ctx.export_bpf_mem().unwrap(), ctx.byte_order()).unwrap();
            bpf::validate(&prog).unwrap();
        }
        // Made for x86_64 (constants.json), refused for another architecture.
        assert!(policy.filters(&Target::new(ScmpArch::Aarch64)).is_err());
    }

    const ALLOW: u32 = 0x7fff_0000;
    const KILL: u32 = 0x8000_0000;
    let recipe = |file: &str| {
        Policy::from_file(dir.join(file))
            .unwrap()
            .filters(&Target::new(ScmpArch::X8664))
            .unwrap()
            .remove(0)
    };
    let common = recipe("common_device.policy");
    let block = recipe("block_device.policy");
    let gpu = recipe("gpu_device.policy");
    for level in [1, 2] {
        let v = |r: &Recipe, name: &str, args: [u64; 6]| minijail_verdict(r, level, name, args);
        // `clone: arg0 & CLONE_THREAD`
        assert_eq!(v(&common, "clone", [0x10000 | 0x100, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(v(&common, "clone", [0x100, 0, 0, 0, 0, 0]), KILL);
        // `mmap: arg2 in ~PROT_EXEC`
        assert_eq!(v(&common, "mmap", [0, 4096, 3, 0, 0, 0]), ALLOW);
        assert_eq!(v(&common, "mmap", [0, 4096, 7, 0, 0, 0]), KILL);
        // `madvise: arg2 == MADV_DONTNEED || ...`
        assert_eq!(v(&common, "madvise", [0, 0, 4, 0, 0, 0]), ALLOW);
        assert_eq!(v(&common, "madvise", [0, 0, 0, 0, 0, 0]), KILL);
        // `tgkill: arg2 == SIGABRT`, a 64-bit comparison.
        assert_eq!(v(&common, "tgkill", [1, 1, 6, 0, 0, 0]), ALLOW);
        assert_eq!(v(&common, "tgkill", [1, 1, 6 | 1 << 32, 0, 0, 0]), KILL);
        assert_eq!(v(&common, "getpid", [0; 6]), ALLOW);
        assert_eq!(v(&common, "ptrace", [0; 6]), KILL);
        // block_device: `open: return ENOENT`; `prctl` from common_device.policy and from
        // block.policy, ORed.
        assert_eq!(v(&block, "open", [0; 6]), 0x0005_0002);
        assert_eq!(v(&block, "prctl", [0x5356_4d41, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(v(&block, "prctl", [15, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(v(&block, "prctl", [22, 0, 0, 0, 0, 0]), KILL);
        // gpu_device: `socket: arg0 == AF_UNIX && arg1 in SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK
        // && arg2 == 0`
        assert_eq!(v(&gpu, "socket", [1, 1 | 0x80000, 0, 0, 0, 0]), ALLOW);
        assert_eq!(v(&gpu, "socket", [1, 2, 0, 0, 0, 0]), KILL);
        assert_eq!(v(&gpu, "socket", [2, 1, 0, 0, 0, 0]), KILL);
    }
}

/// libseccomp gives PowerPC's `sys_debug_setcontext` (256) and `switch_endian` (363) one
/// pseudo number, -10191, which a filter built on another architecture translates to
/// `switch_endian`: a deny rule on `sys_debug_setcontext` made through the API there denies
/// `switch_endian` and leaves `sys_debug_setcontext` open, as libseccomp's does. The policy
/// readers have the name, and a PowerPC filter gets the rule on it.
#[test]
fn a_rule_on_sys_debug_setcontext_lands_on_it_in_a_powerpc_filter() {
    let profile = r#"{"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["sys_debug_setcontext"], "action": "SCMP_ACT_ERRNO"}]}"#;
    let policy = Policy::parse(profile).unwrap();
    let (allow, eperm) = (0x7fff_0000, 0x0005_0001);
    for arch in [ScmpArch::Ppc64Le, ScmpArch::Ppc64, ScmpArch::Ppc] {
        let ret = |ctx: &pure_seccomp::ScmpFilterContext, nr| {
            let arch = common::audit_of(arch);
            ctx.evaluate(&SeccompData {
                nr,
                arch,
                instruction_pointer: 0,
                args: [0; 6],
            })
        };
        let ctx = policy.filters(&Target::new(arch)).unwrap()[0]
            .build()
            .unwrap();
        assert_eq!((ret(&ctx, 256), ret(&ctx, 363)), (eperm, allow), "{arch:?}");
        // The same rule through the API, on a host that has neither syscall.
        let sys = ScmpSyscall::from_name("sys_debug_setcontext").unwrap();
        if sys == -10191 {
            let mut api = pure_seccomp::ScmpFilterContext::new(ScmpAction::Allow).unwrap();
            api.remove_arch(ScmpArch::native()).unwrap();
            api.add_arch(arch).unwrap();
            api.add_rule(ScmpAction::Errno(1), sys).unwrap();
            assert_eq!((ret(&api, 256), ret(&api, 363)), (allow, eperm), "{arch:?}");
        }
    }
}
