//! OCI runtime-spec profiles: see the `policy` module documentation ("OCI profiles").

use super::json::{item, kind, Obj};
use super::{go_arch, known, PolicyError, Recipe, RecipeRule, Target};
use crate::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterAttr};
use serde_json::Value;
use std::str::FromStr;

/// `EPERM`, the errno runc uses when a profile gives none.
const EPERM: u64 = 1;

const TOP: &[&str] = &[
    "defaultAction",
    "defaultErrnoRet",
    "defaultErrno",
    "architectures",
    "archMap",
    "flags",
    "listenerPath",
    "listenerMetadata",
    "syscalls",
];
const BLOCK: &[&str] = &[
    "names", "name", "action", "errnoRet", "errno", "args", "comment", "includes", "excludes",
];
const ARG: &[&str] = &["index", "value", "valueTwo", "op"];
const FILTER: &[&str] = &["caps", "arches", "minKernel"];
const ARCH_MAP: &[&str] = &["architecture", "subArchitectures"];

/// A checked profile.
#[derive(Debug, Clone)]
pub(super) struct Profile {
    default_action: ScmpAction,
    /// The legacy `architectures` list.
    architectures: Vec<ScmpArch>,
    /// `archMap`: each primary architecture and its sub-architectures.
    arch_map: Vec<(ScmpArch, Vec<ScmpArch>)>,
    attributes: Vec<(ScmpFilterAttr, u32)>,
    pub(super) listener_path: Option<String>,
    blocks: Vec<Block>,
}

/// One `syscalls[]` entry.
#[derive(Debug, Clone)]
struct Block {
    names: Vec<String>,
    action: ScmpAction,
    conditions: Vec<ScmpArgCompare>,
    /// Some argument index is compared more than once: runc then adds one rule per condition.
    repeated_index: bool,
    includes: Selector,
    excludes: Selector,
}

/// An `includes` or `excludes` object.
#[derive(Debug, Clone, Default)]
struct Selector {
    caps: Vec<String>,
    arches: Vec<String>,
    min_kernel: Option<(u32, u32)>,
}

impl Profile {
    pub(super) fn parse(v: &Value) -> Result<Self, PolicyError> {
        let top = Obj::new(v, "")?;
        top.only(TOP)?;

        let default_errno = errno_ret(&top, "defaultErrnoRet", "defaultErrno")?;
        let default_action = action(&top, "defaultAction", default_errno)?;

        let mut architectures = Vec::new();
        for (i, a) in top.array("architectures")?.iter().enumerate() {
            architectures.push(arch(a, &item("architectures", i))?);
        }
        let mut arch_map = Vec::new();
        for (i, entry) in top.array("archMap")?.iter().enumerate() {
            let path = item("archMap", i);
            let e = Obj::new(entry, &path)?;
            e.only(ARCH_MAP)?;
            let primary = match e.get("architecture") {
                Some(a) => arch(a, &e.at("architecture"))?,
                None => return Err(PolicyError::new(e.at("architecture"), "missing")),
            };
            let mut subs = Vec::new();
            let sub_path = e.at("subArchitectures");
            for (j, a) in e.array("subArchitectures")?.iter().enumerate() {
                subs.push(arch(a, &item(&sub_path, j))?);
            }
            arch_map.push((primary, subs));
        }
        if !architectures.is_empty() && !arch_map.is_empty() {
            return Err(PolicyError::new(
                "archMap",
                "`architectures` and `archMap` are both given; use one of them (as moby requires)",
            ));
        }

        let mut attributes = Vec::new();
        for (i, f) in top.strings("flags")?.iter().enumerate() {
            // runc's reading: TSYNC is implied (runc loads from a single thread), the others
            // are filter attributes.
            let attr = match f.as_str() {
                "SECCOMP_FILTER_FLAG_TSYNC" => continue,
                "SECCOMP_FILTER_FLAG_LOG" => ScmpFilterAttr::CtlLog,
                "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => ScmpFilterAttr::CtlSsb,
                "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" => ScmpFilterAttr::CtlWaitkill,
                other => {
                    return Err(PolicyError::new(
                        item("flags", i),
                        format!("unknown flag {other:?}"),
                    ))
                }
            };
            if !attributes.contains(&(attr, 1)) {
                attributes.push((attr, 1));
            }
        }
        let listener_path = top.str("listenerPath")?.map(str::to_string);
        top.str("listenerMetadata")?;

        let mut blocks = Vec::new();
        for (i, b) in top.array("syscalls")?.iter().enumerate() {
            blocks.push(Block::parse(b, &item("syscalls", i))?);
        }
        Ok(Profile {
            default_action,
            architectures,
            arch_map,
            attributes,
            listener_path,
            blocks,
        })
    }

    pub(super) fn arches(&self) -> Vec<ScmpArch> {
        let mut out = Vec::new();
        let all = self.architectures.iter().chain(
            self.arch_map
                .iter()
                .flat_map(|(p, s)| std::iter::once(p).chain(s)),
        );
        for &a in all {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }

    pub(super) fn targets(&self) -> Vec<ScmpArch> {
        let mut out = Vec::new();
        let all = self
            .architectures
            .iter()
            .chain(self.arch_map.iter().map(|(p, _)| p));
        for &a in all {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }

    /// The filter for `target`, built as runc builds it from what moby hands it.
    pub(super) fn recipe(&self, target: &Target) -> Recipe {
        // runc keeps the native architecture (the target) and adds the profile's: the legacy
        // list as it is, or (moby) the archMap entry of the runtime's architecture, its
        // primary and sub-architectures. One of another byte order than the target's fails
        // the build, as runc fails to start the container.
        let mut arches = vec![target.arch];
        arches.extend(self.architectures.iter().copied());
        for (primary, subs) in &self.arch_map {
            if *primary == target.arch {
                arches.push(*primary);
                arches.extend(subs.iter().copied());
            }
        }
        let mut unique = Vec::new();
        for a in arches {
            if !unique.contains(&a) {
                unique.push(a);
            }
        }

        let go = go_arch(target.arch);
        let mut rules = Vec::new();
        let mut skipped = Vec::new();
        for block in &self.blocks {
            if !block.applies(go, target) || block.action == self.default_action {
                // runc drops a rule whose action is the default one (libseccomp would refuse
                // it).
                continue;
            }
            for name in &block.names {
                if !known(name, &mut skipped) {
                    continue;
                }
                if block.repeated_index {
                    for c in &block.conditions {
                        rules.push(RecipeRule {
                            action: block.action,
                            syscall: name.clone(),
                            conditions: vec![*c],
                        });
                    }
                } else {
                    rules.push(RecipeRule {
                        action: block.action,
                        syscall: name.clone(),
                        conditions: block.conditions.clone(),
                    });
                }
            }
        }
        Recipe {
            name: String::new(),
            default_action: self.default_action,
            arches: unique,
            attributes: self.attributes.clone(),
            optimize: None,
            rules,
            skipped,
        }
    }
}

impl Block {
    fn parse(v: &Value, path: &str) -> Result<Self, PolicyError> {
        let b = Obj::new(v, path)?;
        b.only(BLOCK)?;
        let mut names = b.strings("names")?;
        if let Some(name) = b.str("name")? {
            if !names.is_empty() {
                return Err(PolicyError::new(
                    b.at("name"),
                    "both `name` and `names` are given; use one of them",
                ));
            }
            names.push(name.to_string());
        }
        let errno = errno_ret(&b, "errnoRet", "errno")?;
        let action = action(&b, "action", errno)?;

        let mut conditions = Vec::new();
        let mut seen = [false; 6];
        let mut repeated_index = false;
        let args_path = b.at("args");
        for (i, a) in b.array("args")?.iter().enumerate() {
            let path = item(&args_path, i);
            let a = Obj::new(a, &path)?;
            a.only(ARG)?;
            let index = a.req_uint("index", 5)? as u32;
            let value = a.req_uint("value", u64::MAX)?;
            let value_two = a.uint("valueTwo", u64::MAX)?.unwrap_or(0);
            let op_name = a.req_str("op")?;
            let op = ScmpCompareOp::from_str(op_name).map_err(|_| {
                PolicyError::new(
                    a.at("op"),
                    format!(
                        "unknown operator {op_name:?} (expected SCMP_CMP_NE, SCMP_CMP_LT, \
                         SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT or SCMP_CMP_MASKED_EQ)"
                    ),
                )
            })?;
            // libseccomp's MASKED_EQ: `value` is the mask, `valueTwo` the datum.
            let cond = match op {
                ScmpCompareOp::MaskedEqual(_) => {
                    ScmpArgCompare::new(index, ScmpCompareOp::MaskedEqual(value), value_two)
                }
                op => ScmpArgCompare::new(index, op, value),
            };
            repeated_index |= std::mem::replace(&mut seen[index as usize], true);
            conditions.push(cond);
        }
        Ok(Block {
            names,
            action,
            conditions,
            repeated_index,
            includes: Selector::parse(&b, "includes")?,
            excludes: Selector::parse(&b, "excludes")?,
        })
    }

    /// moby's test of `includes` and `excludes` for a runtime on `go_arch`.
    fn applies(&self, go_arch: &str, target: &Target) -> bool {
        let has_cap = |c: &String| target.caps.iter().any(|t| t == c);
        let kernel_at_least = |min: (u32, u32)| target.kernel.map_or(true, |k| k >= min);
        let (inc, exc) = (&self.includes, &self.excludes);
        if exc.arches.iter().any(|a| a == go_arch) {
            return false;
        }
        if exc.caps.iter().any(has_cap) {
            return false;
        }
        if exc.min_kernel.is_some_and(kernel_at_least) {
            return false;
        }
        if !inc.arches.is_empty() && !inc.arches.iter().any(|a| a == go_arch) {
            return false;
        }
        if !inc.caps.iter().all(has_cap) {
            return false;
        }
        if inc.min_kernel.is_some_and(|m| !kernel_at_least(m)) {
            return false;
        }
        true
    }
}

impl Selector {
    fn parse(block: &Obj<'_>, key: &str) -> Result<Self, PolicyError> {
        let Some(v) = block.get(key) else {
            return Ok(Selector::default());
        };
        let path = block.at(key);
        let s = Obj::new(v, &path)?;
        s.only(FILTER)?;
        let min_kernel = match s.str("minKernel")? {
            None => None,
            Some(k) => Some(parse_kernel(k).ok_or_else(|| {
                PolicyError::new(
                    s.at("minKernel"),
                    format!("{k:?} is not a kernel version (expected \"MAJOR.MINOR\")"),
                )
            })?),
        };
        Ok(Selector {
            caps: s.strings("caps")?,
            arches: s.strings("arches")?,
            min_kernel,
        })
    }
}

/// moby's `minKernel`: `"MAJOR.MINOR"` (a patch level or suffix after a third part is not
/// accepted by moby either).
fn parse_kernel(s: &str) -> Option<(u32, u32)> {
    let (major, minor) = s.split_once('.')?;
    let num = |p: &str| {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            p.parse::<u32>().ok()
        }
    };
    Some((num(major)?, num(minor)?))
}

/// The errno of an ERRNO or TRACE action: the numeric field, else containers/common's
/// symbolic one, else none.
fn errno_ret(o: &Obj<'_>, numeric: &str, symbolic: &str) -> Result<Option<u64>, PolicyError> {
    let number = o.uint(numeric, u64::from(u16::MAX))?;
    let name = o.str(symbolic)?;
    match (number, name) {
        (Some(n), Some(name)) => match errno_by_name(name) {
            Some(m) if m != n => Err(PolicyError::new(
                o.at(symbolic),
                format!("{name} is {m}, but `{numeric}` is {n}"),
            )),
            _ => Ok(Some(n)),
        },
        (Some(n), None) => Ok(Some(n)),
        (None, Some(name)) => errno_by_name(name).map(Some).ok_or_else(|| {
            PolicyError::new(
                o.at(symbolic),
                format!("unknown errno name {name:?}; give the number in `{numeric}`"),
            )
        }),
        (None, None) => Ok(None),
    }
}

/// runc's reading of an action: ERRNO and TRACE take the errno given, else EPERM.
fn action(o: &Obj<'_>, key: &str, errno: Option<u64>) -> Result<ScmpAction, PolicyError> {
    let name = o.req_str(key)?;
    let errno = errno.unwrap_or(EPERM);
    match name {
        // Both at most u16::MAX (checked by `errno_ret`).
        "SCMP_ACT_ERRNO" => Ok(ScmpAction::Errno(errno as i32)),
        "SCMP_ACT_TRACE" => Ok(ScmpAction::Trace(errno as u16)),
        _ => ScmpAction::from_str(name, None).map_err(|_| {
            PolicyError::new(
                o.at(key),
                format!(
                    "unknown action {name:?} (expected SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, \
                     SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, \
                     SCMP_ACT_ALLOW, SCMP_ACT_LOG or SCMP_ACT_NOTIFY)"
                ),
            )
        }),
    }
}

/// An `SCMP_ARCH_*` name.
fn arch(v: &Value, path: &str) -> Result<ScmpArch, PolicyError> {
    let Value::String(s) = v else {
        return Err(PolicyError::new(
            path,
            format!("expected an SCMP_ARCH_* string, found {}", kind(v)),
        ));
    };
    match ScmpArch::from_str(s) {
        Ok(ScmpArch::Native) => match ScmpArch::native() {
            ScmpArch::Native => Err(PolicyError::new(
                path,
                "SCMP_ARCH_NATIVE: this machine's architecture is not supported",
            )),
            a => Ok(a),
        },
        Ok(a) => Ok(a),
        Err(_) => Err(PolicyError::new(
            path,
            format!("unknown architecture {s:?}"),
        )),
    }
}

/// The generic Linux errno numbers (x86, arm, arm64, riscv, s390, powerpc, loongarch) of the
/// names containers/common writes next to `errnoRet`.
fn errno_by_name(name: &str) -> Option<u64> {
    const NAMES: [&str; 40] = [
        "EPERM",
        "ENOENT",
        "ESRCH",
        "EINTR",
        "EIO",
        "ENXIO",
        "E2BIG",
        "ENOEXEC",
        "EBADF",
        "ECHILD",
        "EAGAIN",
        "ENOMEM",
        "EACCES",
        "EFAULT",
        "ENOTBLK",
        "EBUSY",
        "EEXIST",
        "EXDEV",
        "ENODEV",
        "ENOTDIR",
        "EISDIR",
        "EINVAL",
        "ENFILE",
        "EMFILE",
        "ENOTTY",
        "ETXTBSY",
        "EFBIG",
        "ENOSPC",
        "ESPIPE",
        "EROFS",
        "EMLINK",
        "EPIPE",
        "EDOM",
        "ERANGE",
        "EDEADLK",
        "ENAMETOOLONG",
        "ENOLCK",
        "ENOSYS",
        "ENOTEMPTY",
        "ELOOP",
    ];
    match name {
        "EWOULDBLOCK" => Some(11),
        "EOPNOTSUPP" | "ENOTSUP" => Some(95),
        "EAFNOSUPPORT" => Some(97),
        "EPROTONOSUPPORT" => Some(93),
        _ => NAMES.iter().position(|&n| n == name).map(|i| i as u64 + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names() {
        assert_eq!(errno_by_name("EPERM"), Some(1));
        assert_eq!(errno_by_name("ENOSYS"), Some(38));
        assert_eq!(errno_by_name("EINVAL"), Some(22));
        assert_eq!(errno_by_name("ELOOP"), Some(40));
        assert_eq!(errno_by_name("EXYZ"), None);
    }

    #[test]
    fn kernel_versions() {
        assert_eq!(parse_kernel("4.8"), Some((4, 8)));
        assert_eq!(parse_kernel("5.10"), Some((5, 10)));
        assert_eq!(parse_kernel("5"), None);
        assert_eq!(parse_kernel("5.x"), None);
        assert_eq!(parse_kernel("5.1.2"), None);
        assert_eq!(parse_kernel("+5.1"), None);
    }
}
