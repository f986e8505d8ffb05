//! Firecracker's seccompiler JSON: see the `policy` module documentation ("Firecracker filter files").

use super::json::{field, item, kind, Obj};
use super::{known, made_for, PolicyError, Recipe, RecipeRule, Target};
use crate::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp};
use serde_json::Value;

const FILTER: &[&str] = &["default_action", "filter_action", "filter"];
const RULE: &[&str] = &["syscall", "args", "comment"];
const COND: &[&str] = &["index", "type", "op", "val", "comment"];

/// The most rules one `filter` entry may expand to through dword rewrites.
const MAX_ALTERNATIVES: usize = 4096;

const LOW: u64 = 0xffff_ffff;

/// A checked file.
#[derive(Debug, Clone)]
pub(super) struct File {
    /// The architecture the file is for, when known.
    pub(super) arch: Option<ScmpArch>,
    /// The filters, sorted by name.
    filters: Vec<Filter>,
}

#[derive(Debug, Clone)]
struct Filter {
    name: String,
    default_action: ScmpAction,
    filter_action: ScmpAction,
    /// Each entry: the syscall and the alternatives (each a list of ANDed conditions) its
    /// conditions expand to. No alternative: the entry can never match.
    rules: Vec<(String, Vec<Vec<ScmpArgCompare>>)>,
}

/// seccompiler's targets, from a file name like `x86_64-unknown-linux-musl.json` (possibly
/// prefixed, `firecracker-aarch64-...`).
pub(super) fn arch_from_file_name(name: &str) -> Option<ScmpArch> {
    let name = name.to_ascii_lowercase();
    [
        ("x86_64", ScmpArch::X8664),
        ("aarch64", ScmpArch::Aarch64),
        ("riscv64", ScmpArch::Riscv64),
    ]
    .into_iter()
    .find(|(n, _)| {
        name.starts_with(&format!("{n}-"))
            || name.contains(&format!("-{n}-"))
            || name.starts_with(&format!("{n}."))
    })
    .map(|(_, a)| a)
}

impl File {
    pub(super) fn parse(v: &Value) -> Result<Self, PolicyError> {
        let top = Obj::new(v, "")?;
        let mut names: Vec<&String> = top.map.keys().collect();
        names.sort();
        let mut filters = Vec::new();
        for name in names {
            let path = field("", name);
            let f = Obj::new(&top.map[name], &path)?;
            f.only(FILTER)?;
            let default_action = action(f.get("default_action"), &f.at("default_action"))?;
            let filter_action = action(f.get("filter_action"), &f.at("filter_action"))?;
            let rules_path = f.at("filter");
            if f.get("filter").is_none() {
                return Err(PolicyError::new(rules_path, "missing"));
            }
            let mut rules = Vec::new();
            for (i, r) in f.array("filter")?.iter().enumerate() {
                rules.push(rule(r, &item(&rules_path, i))?);
            }
            filters.push(Filter {
                name: name.clone(),
                default_action,
                filter_action,
                rules,
            });
        }
        Ok(File {
            arch: None,
            filters,
        })
    }

    pub(super) fn recipes(&self, target: &Target) -> Result<Vec<Recipe>, PolicyError> {
        made_for(self.arch, target, "this Firecracker filter file")?;
        Ok(self
            .filters
            .iter()
            .map(|f| {
                let mut rules = Vec::new();
                let mut skipped = Vec::new();
                if f.filter_action != f.default_action {
                    for (name, alternatives) in &f.rules {
                        if !known(name, &mut skipped) {
                            continue;
                        }
                        for conditions in alternatives {
                            rules.push(RecipeRule {
                                action: f.filter_action,
                                syscall: name.clone(),
                                conditions: conditions.clone(),
                            });
                        }
                    }
                }
                Recipe {
                    name: f.name.clone(),
                    default_action: f.default_action,
                    arches: vec![target.arch],
                    attributes: Vec::new(),
                    optimize: None,
                    rules,
                    skipped,
                }
            })
            .collect())
    }
}

/// One `filter[]` entry: the syscall and its alternatives.
fn rule(v: &Value, path: &str) -> Result<(String, Vec<Vec<ScmpArgCompare>>), PolicyError> {
    let r = Obj::new(v, path)?;
    r.only(RULE)?;
    let syscall = r.req_str("syscall")?.to_string();
    // The product of each condition's alternatives.
    let mut alternatives: Vec<Vec<ScmpArgCompare>> = vec![Vec::new()];
    let mut seen = [false; 6];
    let args_path = r.at("args");
    for (i, c) in r.array("args")?.iter().enumerate() {
        let cpath = item(&args_path, i);
        let (index, options) = condition(c, &cpath)?;
        if std::mem::replace(&mut seen[index as usize], true) {
            return Err(PolicyError::new(
                field(&cpath, "index"),
                format!(
                    "argument {index} is already compared in this entry: libseccomp cannot AND \
                     two comparisons of one argument (write two entries to OR them)"
                ),
            ));
        }
        let mut next = Vec::new();
        for alt in &alternatives {
            for opt in &options {
                let mut a = alt.clone();
                a.extend(opt);
                next.push(a);
            }
        }
        if next.len() > MAX_ALTERNATIVES {
            return Err(PolicyError::new(
                args_path,
                format!(
                    "the dword comparisons of this entry expand to more than {MAX_ALTERNATIVES} \
                     rules"
                ),
            ));
        }
        alternatives = next;
    }
    Ok((syscall, alternatives))
}

/// One condition: its argument index and the ORed alternatives it means (`None` in an
/// alternative: always true; no alternative: never true).
fn condition(v: &Value, path: &str) -> Result<(u32, Vec<Option<ScmpArgCompare>>), PolicyError> {
    let c = Obj::new(v, path)?;
    c.only(COND)?;
    let index = c.req_uint("index", 5)? as u32;
    let dword = match c.req_str("type")? {
        "dword" => true,
        "qword" => false,
        other => {
            return Err(PolicyError::new(
                c.at("type"),
                format!("unknown type {other:?} (expected \"dword\" or \"qword\")"),
            ))
        }
    };
    let val = c.req_uint("val", if dword { LOW } else { u64::MAX })?;
    let op_path = c.at("op");
    let op = match c.get("op") {
        None => return Err(PolicyError::new(op_path, "missing")),
        Some(Value::String(s)) => match s.as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "lt" => Op::Lt,
            "le" => Op::Le,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            other => return Err(bad_op(&op_path, &format!("{other:?}"))),
        },
        Some(Value::Object(m)) if m.len() == 1 && m.contains_key("masked_eq") => {
            let mask = super::json::uint(&m["masked_eq"], &field(&op_path, "masked_eq"), u64::MAX)?;
            Op::MaskedEq(mask)
        }
        Some(other) => return Err(bad_op(&op_path, &other.to_string())),
    };
    let cmp = |op, datum| Some(ScmpArgCompare::new(index, op, datum));
    let options = if dword {
        dword_alternatives(index, op, val)
    } else {
        vec![match op {
            Op::Eq => cmp(ScmpCompareOp::Equal, val),
            Op::Ne => cmp(ScmpCompareOp::NotEqual, val),
            Op::Lt => cmp(ScmpCompareOp::Less, val),
            Op::Le => cmp(ScmpCompareOp::LessOrEqual, val),
            Op::Gt => cmp(ScmpCompareOp::Greater, val),
            Op::Ge => cmp(ScmpCompareOp::GreaterEqual, val),
            Op::MaskedEq(mask) => cmp(ScmpCompareOp::MaskedEqual(mask), val),
        }]
    };
    Ok((index, options))
}

fn bad_op(path: &str, found: &str) -> PolicyError {
    PolicyError::new(
        path,
        format!(
            "unknown operator {found} (expected \"eq\", \"ne\", \"lt\", \"le\", \"gt\", \"ge\" or \
             {{\"masked_eq\": MASK}})"
        ),
    )
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    MaskedEq(u64),
}

/// `low32(arg) op val` as ORed `MASKED_EQ` comparisons (`val` fits in 32 bits).
fn dword_alternatives(index: u32, op: Op, val: u64) -> Vec<Option<ScmpArgCompare>> {
    let masked = |mask: u64, datum: u64| {
        Some(ScmpArgCompare::new(
            index,
            ScmpCompareOp::MaskedEqual(mask),
            datum,
        ))
    };
    // Bits b..31 of the low half.
    let from = |b: u32| (LOW << b) & LOW;
    // low < v: agree with v above some bit b that is set in v, and have 0 at b.
    let less = |v: u64| -> Vec<Option<ScmpArgCompare>> {
        (0..32)
            .rev()
            .filter(|&b| v >> b & 1 == 1)
            .map(|b| masked(from(b), v & from(b + 1)))
            .collect()
    };
    // low >= v: equal to v, or agree above some bit b that is clear in v and have 1 at b.
    let greater_equal = |v: u64| -> Vec<Option<ScmpArgCompare>> {
        if v == 0 {
            return vec![None];
        }
        let mut out: Vec<_> = (0..32)
            .rev()
            .filter(|&b| v >> b & 1 == 0)
            .map(|b| masked(from(b), (v & from(b + 1)) | 1 << b))
            .collect();
        out.push(masked(LOW, v));
        out
    };
    match op {
        Op::Eq => vec![masked(LOW, val)],
        Op::MaskedEq(mask) => vec![masked(mask & LOW, val)],
        // Some bit of the low half differs from val's.
        Op::Ne => (0..32)
            .rev()
            .map(|b| masked(1 << b, !val & 1 << b))
            .collect(),
        Op::Lt => less(val),
        Op::Le if val == LOW => vec![None],
        Op::Le => less(val + 1),
        Op::Ge => greater_equal(val),
        Op::Gt if val == LOW => Vec::new(),
        Op::Gt => greater_equal(val + 1),
    }
}

/// seccompiler's action: a name, or `{"errno": N}` / `{"trace": N}`.
fn action(v: Option<&Value>, path: &str) -> Result<ScmpAction, PolicyError> {
    const EXPECTED: &str = "(expected \"allow\", \"trap\", \"log\", \"kill_thread\", \
                            \"kill_process\", {\"errno\": N} or {\"trace\": N})";
    match v {
        None => Err(PolicyError::new(path, "missing")),
        Some(Value::String(s)) => match s.as_str() {
            "allow" => Ok(ScmpAction::Allow),
            "trap" => Ok(ScmpAction::Trap),
            "log" => Ok(ScmpAction::Log),
            "kill_thread" => Ok(ScmpAction::KillThread),
            "kill_process" => Ok(ScmpAction::KillProcess),
            other => Err(PolicyError::new(
                path,
                format!("unknown action {other:?} {EXPECTED}"),
            )),
        },
        Some(Value::Object(m)) if m.len() == 1 => {
            let (k, n) = m.iter().next().expect("one entry");
            let n = super::json::uint(n, &field(path, k), u64::from(u16::MAX))?;
            match k.as_str() {
                "errno" => Ok(ScmpAction::Errno(n as i32)),
                "trace" => Ok(ScmpAction::Trace(n as u16)),
                other => Err(PolicyError::new(
                    path,
                    format!("unknown action {other:?} {EXPECTED}"),
                )),
            }
        }
        Some(other) => Err(PolicyError::new(
            path,
            format!("expected an action, found {} {EXPECTED}", kind(other)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates ORed alternatives on a value.
    fn holds(alts: &[Option<ScmpArgCompare>], x: u64) -> bool {
        alts.iter().any(|a| match a {
            None => true,
            Some(c) => match c.op() {
                ScmpCompareOp::MaskedEqual(m) => x & m == c.datum(),
                _ => unreachable!(),
            },
        })
    }

    #[test]
    fn dword_rewrites_compare_the_low_half_exactly() {
        let vals = [
            0u64,
            1,
            2,
            3,
            5,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_fffe,
            LOW,
            0x5421,
        ];
        let mut xs: Vec<u64> = Vec::new();
        for &v in &vals {
            for d in [0u64, 1, 2] {
                xs.push(v.wrapping_add(d) & LOW);
                xs.push(v.wrapping_sub(d) & LOW);
            }
        }
        for hi in [0u64, 0xdead_beef_0000_0000, 0xffff_ffff_0000_0000] {
            for &v in &vals {
                for &x in &xs {
                    let arg = hi | x;
                    let low = arg & LOW;
                    let cases = [
                        (Op::Eq, low == v),
                        (Op::Ne, low != v),
                        (Op::Lt, low < v),
                        (Op::Le, low <= v),
                        (Op::Gt, low > v),
                        (Op::Ge, low >= v),
                        (Op::MaskedEq(0xff_0000_00ff), low & 0xff == v),
                    ];
                    for (op, want) in cases {
                        let alts = dword_alternatives(0, op, v);
                        assert_eq!(holds(&alts, arg), want, "{op:?} {v:#x} on {arg:#x}");
                    }
                }
            }
        }
    }

    #[test]
    fn file_names() {
        assert_eq!(
            arch_from_file_name("x86_64-unknown-linux-musl.json"),
            Some(ScmpArch::X8664)
        );
        assert_eq!(
            arch_from_file_name("firecracker-aarch64-unknown-linux-musl.json"),
            Some(ScmpArch::Aarch64)
        );
        assert_eq!(arch_from_file_name("filters.json"), None);
    }
}
