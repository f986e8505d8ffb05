//! Reading `serde_json` values with the JSON path of every value, so that each error names
//! the field it is about (`syscalls[12].args[0].op`).

use super::PolicyError;
use serde_json::{Map, Value};

/// `parent.key`, or `key` at the top; `parent["key"]` (the key as a JSON string) when the
/// key is empty or holds characters that would make the path ambiguous, so that every path
/// names its field (a key `""` at the top is `[""]`, not an empty path).
pub(super) fn field(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key.chars().all(|c| {
            !matches!(c, '.' | '[' | ']' | '"' | '\\') && !c.is_whitespace() && !c.is_control()
        });
    if !plain {
        let quoted = serde_json::to_string(key).unwrap_or_else(|_| format!("{key:?}"));
        return format!("{parent}[{quoted}]");
    }
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[i]`.
pub(super) fn item(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// A human name of the JSON type of `v`, for error messages.
pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_u64() => "an integer",
        Value::Number(n) if n.is_i64() => "a negative integer",
        Value::Number(_) => "a fractional number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An object with its path; absent and `null` fields read as absent (as Go's `encoding/json`
/// and serde's `Option` read them).
#[derive(Clone, Copy)]
pub(super) struct Obj<'a> {
    pub(super) map: &'a Map<String, Value>,
    pub(super) path: &'a str,
}

impl<'a> Obj<'a> {
    /// `v` as an object, or an error naming `path`.
    pub(super) fn new(v: &'a Value, path: &'a str) -> Result<Self, PolicyError> {
        match v {
            Value::Object(map) => Ok(Obj { map, path }),
            other => Err(PolicyError::new(
                path,
                format!("expected an object, found {}", kind(other)),
            )),
        }
    }

    /// Fails on the first key (in sorted order) that is not in `known`.
    pub(super) fn only(&self, known: &[&str]) -> Result<(), PolicyError> {
        let mut keys: Vec<&String> = self.map.keys().collect();
        keys.sort();
        for k in keys {
            if !known.contains(&k.as_str()) {
                return Err(PolicyError::new(
                    field(self.path, k),
                    format!("unknown field (expected one of: {})", known.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// The value of `key`, `None` when absent or `null`.
    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// The path of `key`.
    pub(super) fn at(&self, key: &str) -> String {
        field(self.path, key)
    }

    /// A string field.
    pub(super) fn str(&self, key: &str) -> Result<Option<&'a str>, PolicyError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(PolicyError::new(
                self.at(key),
                format!("expected a string, found {}", kind(other)),
            )),
        }
    }

    /// A string field that must be there.
    pub(super) fn req_str(&self, key: &str) -> Result<&'a str, PolicyError> {
        self.str(key)?
            .ok_or_else(|| PolicyError::new(self.at(key), "missing"))
    }

    /// A non-negative integer field up to `max`.
    pub(super) fn uint(&self, key: &str, max: u64) -> Result<Option<u64>, PolicyError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => uint(v, &self.at(key), max).map(Some),
        }
    }

    /// A non-negative integer field up to `max` that must be there.
    pub(super) fn req_uint(&self, key: &str, max: u64) -> Result<u64, PolicyError> {
        self.uint(key, max)?
            .ok_or_else(|| PolicyError::new(self.at(key), "missing"))
    }

    /// An array field (empty when absent).
    pub(super) fn array(&self, key: &str) -> Result<&'a [Value], PolicyError> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => Err(PolicyError::new(
                self.at(key),
                format!("expected an array, found {}", kind(other)),
            )),
        }
    }

    /// An array of strings (empty when absent).
    pub(super) fn strings(&self, key: &str) -> Result<Vec<String>, PolicyError> {
        let path = self.at(key);
        self.array(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(PolicyError::new(
                    item(&path, i),
                    format!("expected a string, found {}", kind(other)),
                )),
            })
            .collect()
    }
}

/// `v` as a non-negative integer up to `max`.
pub(super) fn uint(v: &Value, path: &str, max: u64) -> Result<u64, PolicyError> {
    match v.as_u64() {
        Some(n) if n <= max => Ok(n),
        Some(n) => Err(PolicyError::new(
            path,
            format!("{n} is out of range (at most {max})"),
        )),
        None => Err(PolicyError::new(
            path,
            format!("expected a non-negative integer, found {}", kind(v)),
        )),
    }
}
