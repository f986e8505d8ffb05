//! The property the `policy` fuzz target checks. Depends on `pure_seccomp` with its
//! `policy` feature, and is included by path from `tests/fuzz_regressions.rs` as
//! `checks.rs` is.

use pure_seccomp::bpf;
use pure_seccomp::policy::{Policy, Target};
use pure_seccomp::ScmpArch;

/// The messages of the errors that concern a whole file, and so name no path.
const WHOLE_FILE: &[&str] = &[
    "not valid JSON",
    "expected a JSON object at the top of the file",
    "unknown JSON policy",
    "an empty allow-list",
    "this Firecracker filter file is for",
    "this minijail policy (its constants.json) is for",
];

/// Parses arbitrary bytes (as UTF-8, invalid sequences replaced) as a policy: no panic, and
/// every error names where it is, unless it is one of the few that concern the whole file.
/// A policy that parses is turned into recipes for its own architectures and x86_64, and
/// each recipe is built and exported; an exported program passes the validator.
pub fn check_policy(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let policy = match Policy::parse(&text) {
        Ok(p) => p,
        Err(e) => {
            assert!(!e.message().is_empty(), "an error with no message");
            assert!(
                !e.path().is_empty() || WHOLE_FILE.iter().any(|m| e.message().starts_with(m)),
                "an error that names no path: {e}"
            );
            let _ = e.to_string();
            return;
        }
    };
    let _ = policy.format();
    let _ = policy.listener_path();
    let mut targets: Vec<ScmpArch> = policy.targets();
    targets.extend(policy.arches());
    targets.push(ScmpArch::X8664);
    targets.sort_by_key(|a| a.to_string());
    targets.dedup();
    for (i, arch) in targets.into_iter().take(3).enumerate() {
        let target = match i {
            0 => Target::new(arch),
            1 => Target::new(arch).caps(["CAP_SYS_ADMIN"]).kernel(4, 14),
            _ => Target::new(arch).kernel(6, 1),
        };
        let recipes = match policy.filters(&target) {
            Ok(r) => r,
            Err(e) => {
                assert!(
                    !e.path().is_empty() || WHOLE_FILE.iter().any(|m| e.message().starts_with(m)),
                    "an error that names no path: {e}"
                );
                continue;
            }
        };
        for r in recipes.iter().take(4) {
            let _ = r.calls();
            let Ok(ctx) = r.build() else {
                continue;
            };
            if let Ok(bytes) = ctx.export_bpf_mem() {
                let prog = bpf::decode(&bytes, ctx.byte_order()).expect("exported bytes decode");
                if let Err(e) = bpf::validate(&prog) {
                    panic!("a policy's program is invalid: {e}");
                }
            }
        }
    }
}
