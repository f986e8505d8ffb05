//! minijail's seccomp policy files (crosvm, ChromeOS): see the `policy` module documentation
//! ("minijail policy files").

use super::{known, made_for, PolicyError, Recipe, RecipeRule, Target};
use crate::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How deep `@include`s may nest (as minijail's `compile_seccomp_policy.py`).
const MAX_INCLUDE_DEPTH: usize = 10;

/// The most rules one statement may expand to (an `&` of a many-bit mask is one rule a bit).
const MAX_ALTERNATIVES: usize = 4096;

/// The largest errno a `return` may give (libseccomp's `MAX_ERRNO` bound).
const MAX_ERRNO: u64 = 4094;

/// The named constants and the architecture of a `constants.json` (minijail's
/// `tools/generate_constants_json.py`).
#[derive(Debug, Clone, Default)]
pub(super) struct Constants {
    values: HashMap<String, u64>,
    /// The word size the values are truncated to (64 unless the file says 32).
    bits: u32,
    /// The architecture the file describes, when we know its name.
    arch: Option<ScmpArch>,
}

impl Constants {
    /// Reads a `constants.json`: `constants` (name to value), `bits`, `arch_name`.
    pub(super) fn parse(text: &str, label: &str) -> Result<Self, PolicyError> {
        let bad = |what: String| PolicyError::new("", format!("{label}: {what}"));
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let top = v
            .as_object()
            .ok_or_else(|| bad("expected a JSON object".into()))?;
        let bits = match top.get("bits").and_then(|b| b.as_u64()) {
            None | Some(64) => 64,
            Some(32) => 32,
            Some(other) => return Err(bad(format!("`bits` is {other}, expected 32 or 64"))),
        };
        let arch = match top.get("arch_name").and_then(|a| a.as_str()) {
            None => None,
            Some(name) => Some(
                super::parse_arch(name)
                    .ok_or_else(|| bad(format!("unknown architecture {name:?} in `arch_name`")))?,
            ),
        };
        let mut values = HashMap::new();
        if let Some(map) = top.get("constants").and_then(|c| c.as_object()) {
            for (name, value) in map {
                // (Values are integers; a negative one is the word's two's complement.)
                let n = match (value.as_u64(), value.as_i64()) {
                    (Some(n), _) => n,
                    (None, Some(n)) => n as u64,
                    _ => return Err(bad(format!("constant {name:?} is not an integer"))),
                };
                values.insert(name.clone(), n);
            }
        }
        Ok(Constants { values, bits, arch })
    }

    fn max(&self) -> u64 {
        if self.bits == 32 {
            u64::from(u32::MAX)
        } else {
            u64::MAX
        }
    }
}

/// An action of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Allow,
    /// `kill`: the default kill action ([`KILL`]).
    Kill,
    Other(ScmpAction),
}

/// What `kill` and the default action are: minijail's `compile_seccomp_policy.py
/// --use-kill-process`.
const KILL: ScmpAction = ScmpAction::KillProcess;

impl Act {
    fn action(self) -> ScmpAction {
        match self {
            Act::Allow => ScmpAction::Allow,
            Act::Kill => KILL,
            Act::Other(a) => a,
        }
    }
}

/// Lists of ANDed comparisons, ORed.
type Rules = Vec<Vec<ScmpArgCompare>>;

/// One filter of a syscall: when `clauses` (ORed, each a list of ANDed comparisons) hold,
/// or always (`None`), the syscall gets `action`.
#[derive(Debug, Clone)]
struct Filter {
    clauses: Option<Rules>,
    action: Act,
    /// Where it was written, for errors.
    at: String,
}

/// A checked policy, its includes read.
#[derive(Debug, Clone)]
pub(super) struct File {
    /// The architecture (from `constants.json`), when known.
    pub(super) arch: Option<ScmpArch>,
    /// The default action: `@default`, else `kill`.
    default: ScmpAction,
    /// Each syscall once, in the order it first appears, with its rules (none when it gets
    /// the default action). Only which names resolve depends on the target.
    rules: Vec<(String, Vec<RecipeRule>)>,
}

/// Whether `text` reads as a minijail policy rather than an allow-list: a statement line
/// (`name: ...`) or a minijail directive.
pub(super) fn looks_like(text: &str) -> bool {
    text.lines().any(|line| {
        let content = line.split('#').next().unwrap_or_default().trim();
        let mut words = content.split_whitespace();
        match words.next() {
            Some("@include" | "@frequency" | "@denylist") => true,
            // (systemd's group listing has a group `@default` alone on its line.)
            Some("@default") => words.next().is_some(),
            Some(_) => content.contains(':'),
            None => false,
        }
    })
}

/// Where a line is: `line 7`, or `gpu_common.policy line 7` in an included file.
fn at(file: Option<&str>, line: usize) -> String {
    match file {
        Some(f) => format!("{f} line {line}"),
        None => format!("line {line}"),
    }
}

/// The logical lines of a file (comments cut, `\` continuations joined), with the number of
/// the line each starts on.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut buf = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        let content = raw.split('#').next().unwrap_or_default();
        if buf.is_empty() {
            start = i + 1;
        }
        let trimmed = content.trim_end();
        if let Some(head) = trimmed.strip_suffix('\\') {
            buf.push_str(head);
            buf.push(' ');
            continue;
        }
        buf.push_str(content);
        if !buf.trim().is_empty() {
            out.push((start, buf.trim().to_string()));
        }
        buf.clear();
    }
    if !buf.trim().is_empty() {
        out.push((start, buf.trim().to_string()));
    }
    out
}

/// A token of a statement's right-hand side.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Arg(u32),
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`, `&`, `in`.
    Op(&'static str),
    And,
    Or,
    BitOr,
    Not,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    Semicolon,
    Number(String),
    Word(String),
}

fn tokens(s: &str) -> Result<Vec<Tok>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        // (Bytes, not a `str` slice: the next byte may start a multi-byte character.)
        let two = &b[i..(i + 2).min(b.len())];
        let (tok, len) = match c {
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            _ if two == b"&&" => (Tok::And, 2),
            _ if two == b"||" => (Tok::Or, 2),
            _ if two == b"==" => (Tok::Op("=="), 2),
            _ if two == b"!=" => (Tok::Op("!="), 2),
            _ if two == b"<=" => (Tok::Op("<="), 2),
            _ if two == b">=" => (Tok::Op(">="), 2),
            b'<' => (Tok::Op("<"), 1),
            b'>' => (Tok::Op(">"), 1),
            b'&' => (Tok::Op("&"), 1),
            b'|' => (Tok::BitOr, 1),
            b'~' => (Tok::Not, 1),
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'{' => (Tok::LBrace, 1),
            b'}' => (Tok::RBrace, 1),
            b',' => (Tok::Comma, 1),
            b';' => (Tok::Semicolon, 1),
            b'-' | b'0'..=b'9' => {
                let len = 1 + b[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .count();
                (Tok::Number(s[i..i + len].to_string()), len)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let len = b[i..]
                    .iter()
                    .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'@'))
                    .count();
                let word = &s[i..i + len];
                let tok = match word {
                    "in" => Tok::Op("in"),
                    w if w.len() > 3
                        && w.starts_with("arg")
                        && w[3..].bytes().all(|d| d.is_ascii_digit()) =>
                    {
                        Tok::Arg(w[3..].parse().map_err(|_| format!("bad argument {w:?}"))?)
                    }
                    w => Tok::Word(w.to_string()),
                };
                (tok, len)
            }
            _ => {
                let ch = s[i..].chars().next().unwrap_or('?');
                return Err(format!("unexpected character {ch:?}"));
            }
        };
        out.push(tok);
        i += len;
    }
    Ok(out)
}

/// How deep parentheses may nest in a value (the parser recurses on them).
const MAX_PARENS: usize = 64;

/// A parser over one statement's tokens.
struct Expr<'a> {
    toks: Vec<Tok>,
    at: usize,
    /// Parentheses open around the value being read.
    depth: usize,
    constants: Option<&'a Constants>,
    max: u64,
}

impl Expr<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// `number` or a named constant, in the word's range.
    fn single(&mut self) -> Result<u64, String> {
        match self.next() {
            Some(Tok::Number(n)) => number(&n, self.max),
            Some(Tok::Word(w)) => match self.constants {
                Some(c) => c
                    .values
                    .get(&w)
                    .map(|&v| v & self.max)
                    .ok_or_else(|| format!("unknown constant {w:?} (not in constants.json)")),
                None => Err(format!(
                    "named constant {w:?} without a constants.json (minijail's constants for \
                     the architecture, read from the policy's directory by Policy::from_file)"
                )),
            },
            other => Err(format!(
                "expected a constant, found {}",
                show(other.as_ref())
            )),
        }
    }

    /// `[~] ( value )` or `[~] single`.
    fn constant(&mut self) -> Result<u64, String> {
        let not = self.eat(&Tok::Not);
        if not && self.peek() == Some(&Tok::Not) {
            return Err("a double complement `~~`".into());
        }
        let v = if self.eat(&Tok::LParen) {
            self.depth += 1;
            if self.depth > MAX_PARENS {
                return Err(format!("parentheses nested more than {MAX_PARENS} deep"));
            }
            let v = self.value()?;
            if !self.eat(&Tok::RParen) {
                return Err("unclosed parenthesis".into());
            }
            self.depth -= 1;
            v
        } else {
            self.single()?
        };
        Ok(if not { !v & self.max } else { v })
    }

    /// `constant { | constant }`.
    fn value(&mut self) -> Result<u64, String> {
        let mut v = self.constant()?;
        while self.eat(&Tok::BitOr) {
            v |= self.constant()?;
        }
        Ok(v)
    }

    /// `argN op value`: the comparisons it means, ORed (`None`: always true; none: never).
    fn atom(&mut self) -> Result<(u32, Vec<Option<ScmpArgCompare>>), String> {
        let arg = match self.next() {
            Some(Tok::Arg(n)) if n < 6 => n,
            Some(Tok::Arg(n)) => {
                return Err(format!("argument arg{n} (a syscall has arg0 to arg5)"))
            }
            other => {
                return Err(format!(
                    "expected an argument argN, found {}",
                    show(other.as_ref())
                ))
            }
        };
        let op = match self.next() {
            Some(Tok::Op(op)) => op,
            other => {
                return Err(format!(
                    "expected an operator after arg{arg}, found {}",
                    show(other.as_ref())
                ))
            }
        };
        let v = self.value()?;
        let cmp = |op, datum| Some(ScmpArgCompare::new(arg, op, datum));
        let alternatives = match op {
            "==" => vec![cmp(ScmpCompareOp::Equal, v)],
            "!=" => vec![cmp(ScmpCompareOp::NotEqual, v)],
            "<" => vec![cmp(ScmpCompareOp::Less, v)],
            "<=" => vec![cmp(ScmpCompareOp::LessOrEqual, v)],
            ">" => vec![cmp(ScmpCompareOp::Greater, v)],
            ">=" => vec![cmp(ScmpCompareOp::GreaterEqual, v)],
            // Any of the bits set: one masked comparison a bit.
            "&" => (0..64)
                .map(|b| 1u64 << b)
                .filter(|bit| v & bit != 0)
                .map(|bit| cmp(ScmpCompareOp::MaskedEqual(bit), bit))
                .collect(),
            // No bit outside the set.
            _ => match !v & self.max {
                0 => vec![None],
                outside => vec![cmp(ScmpCompareOp::MaskedEqual(outside), 0)],
            },
        };
        Ok((arg, alternatives))
    }

    /// `atom { && atom }`: the rules (lists of ANDed comparisons) it means, ORed.
    fn clause(&mut self) -> Result<Rules, String> {
        let mut rules: Rules = vec![Vec::new()];
        let mut seen = [false; 6];
        loop {
            let (arg, alternatives) = self.atom()?;
            let always = alternatives.iter().any(Option::is_none);
            if !always {
                if std::mem::replace(&mut seen[arg as usize], true) {
                    return Err(format!(
                        "arg{arg} is compared twice in one `&&` clause: libseccomp's rules \
                         compare each argument once"
                    ));
                }
                let mut next = Vec::new();
                for r in &rules {
                    for a in alternatives.iter().flatten() {
                        let mut r = r.clone();
                        r.push(*a);
                        next.push(r);
                    }
                }
                if next.len() > MAX_ALTERNATIVES {
                    return Err(format!(
                        "the clause expands to more than {MAX_ALTERNATIVES} rules"
                    ));
                }
                rules = next;
            }
            if !self.eat(&Tok::And) {
                return Ok(rules);
            }
        }
    }

    /// `clause { || clause }`.
    fn expression(&mut self) -> Result<Rules, String> {
        let mut rules = self.clause()?;
        while self.eat(&Tok::Or) {
            rules.extend(self.clause()?);
            if rules.len() > MAX_ALTERNATIVES {
                return Err(format!(
                    "the expression expands to more than {MAX_ALTERNATIVES} rules"
                ));
            }
        }
        Ok(rules)
    }

    /// An action: `1`, `allow`, `kill`, `kill-process`, `kill-thread`, `trap`, `trace`,
    /// `log`, `user-notify` or `return N`.
    fn action(&mut self) -> Result<Act, String> {
        let act = match self.next() {
            Some(Tok::Number(n)) if number(&n, u64::MAX) == Ok(1) => Act::Allow,
            Some(Tok::Word(w)) => match w.as_str() {
                "allow" => Act::Allow,
                "kill" => Act::Kill,
                "kill-process" => Act::Other(ScmpAction::KillProcess),
                "kill-thread" => Act::Other(ScmpAction::KillThread),
                "trap" => Act::Other(ScmpAction::Trap),
                "trace" => Act::Other(ScmpAction::Trace(0)),
                "log" => Act::Other(ScmpAction::Log),
                "user-notify" => Act::Other(ScmpAction::Notify),
                "return" => {
                    let e = self.single()?;
                    if e > MAX_ERRNO {
                        return Err(format!("errno {e} is out of range (at most {MAX_ERRNO})"));
                    }
                    Act::Other(ScmpAction::Errno(e as i32))
                }
                other => return Err(format!("unknown action {other:?}")),
            },
            other => {
                return Err(format!(
                    "expected an action, found {}",
                    show(other.as_ref())
                ))
            }
        };
        Ok(act)
    }

    /// `action`, or an argument expression (which allows when it holds).
    fn single_filter(&mut self) -> Result<(Option<Rules>, Act), String> {
        if !matches!(self.peek(), Some(Tok::Arg(_))) {
            return Ok((None, self.action()?));
        }
        let rules = self.expression()?;
        if self.peek() == Some(&Tok::Semicolon) {
            // minijail's two compilers disagree on `expr; return E`: the C parser allows the
            // call when `expr` holds and returns E otherwise, compile_seccomp_policy.py returns
            // E when `expr` holds. Refused rather than guessed.
            return Err(
                "`expression; action` is read differently by minijail's C parser \
                        (allow when the expression holds, else the action) and by \
                        compile_seccomp_policy.py (the action when it holds): write the \
                        action as a statement of its own"
                    .into(),
            );
        }
        Ok((Some(rules), Act::Allow))
    }
}

/// A number as C's `strtol(_, _, 0)` reads it (hex, octal, decimal, with a `-`), as an
/// unsigned word.
fn number(s: &str, max: u64) -> Result<u64, String> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let parsed = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(h, 16)
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8)
    } else {
        digits.parse::<u64>()
    };
    let v = parsed.map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => {
            format!("{s} does not fit in a {}-bit word", max.count_ones())
        }
        _ => format!("{s:?} is not a number"),
    })?;
    if neg {
        // At least the word's most negative value.
        let min = max / 2 + 1;
        if v > min {
            return Err(format!("{s} is below the smallest signed word"));
        }
        Ok(v.wrapping_neg() & max)
    } else if v > max {
        Err(format!(
            "{s} does not fit in a {}-bit word",
            max.count_ones()
        ))
    } else {
        Ok(v)
    }
}

fn show(t: Option<&Tok>) -> String {
    match t {
        None => "the end of the line".into(),
        Some(Tok::Arg(n)) => format!("arg{n}"),
        Some(Tok::Op(o)) => format!("`{o}`"),
        Some(Tok::And) => "`&&`".into(),
        Some(Tok::Or) => "`||`".into(),
        Some(Tok::BitOr) => "`|`".into(),
        Some(Tok::Not) => "`~`".into(),
        Some(Tok::LParen) => "`(`".into(),
        Some(Tok::RParen) => "`)`".into(),
        Some(Tok::LBrace) => "`{`".into(),
        Some(Tok::RBrace) => "`}`".into(),
        Some(Tok::Comma) => "`,`".into(),
        Some(Tok::Semicolon) => "`;`".into(),
        Some(Tok::Number(n)) => format!("{n:?}"),
        Some(Tok::Word(w)) => format!("{w:?}"),
    }
}

/// Reads policies: where the top file is (for `@include`s) and its constants.
struct Reader<'a> {
    constants: Option<&'a Constants>,
    default: Option<Act>,
    syscalls: Vec<(String, Vec<Filter>)>,
    index: HashMap<String, usize>,
}

impl Reader<'_> {
    /// Reads one file's statements; `path` is where it is (`None`: text without a file, which
    /// cannot include others), `label` how errors name it (`None` for the top file).
    fn read(
        &mut self,
        text: &str,
        path: Option<&Path>,
        label: Option<&str>,
        depth: usize,
    ) -> Result<(), PolicyError> {
        let max = self.constants.map_or(u64::MAX, Constants::max);
        for (line, content) in logical_lines(text) {
            let here = at(label, line);
            let err = |m: String| PolicyError::new(here.clone(), m);
            let mut words = content.split_whitespace();
            match words.next().unwrap_or_default() {
                "@include" => {
                    let target = words
                        .next()
                        .ok_or_else(|| err("@include without a path".into()))?;
                    if let Some(extra) = words.next() {
                        return Err(err(format!("unexpected {extra:?} after the @include path")));
                    }
                    if depth + 1 >= MAX_INCLUDE_DEPTH {
                        return Err(err(format!(
                            "@include nested more than {MAX_INCLUDE_DEPTH} deep"
                        )));
                    }
                    let from = path.ok_or_else(|| {
                        err(
                            "@include in a policy read without its file: use Policy::from_file"
                                .into(),
                        )
                    })?;
                    let file = include_path(from, target)
                        .ok_or_else(|| err(format!("cannot @include {target}: no such file")))?;
                    let text = std::fs::read_to_string(&file)
                        .map_err(|e| err(format!("cannot @include {}: {e}", file.display())))?;
                    let name = file
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| target.to_string());
                    self.read(&text, Some(&file), Some(&name), depth + 1)?;
                }
                // Frequency hints order minijail's own search tree; this crate weighs its
                // tree by its table of hot syscalls instead.
                "@frequency" => {
                    words
                        .next()
                        .ok_or_else(|| err("@frequency without a path".into()))?;
                }
                "@denylist" => {
                    return Err(err(
                        "@denylist policies (compile_seccomp_policy.py --denylist) are not \
                         supported"
                            .into(),
                    ))
                }
                "@default" => {
                    let rest = content["@default".len()..].trim();
                    let mut e = Expr {
                        toks: tokens(rest).map_err(err)?,
                        at: 0,
                        depth: 0,
                        constants: self.constants,
                        max,
                    };
                    let act = e.action().map_err(err)?;
                    if act == Act::Allow
                        || matches!(
                            act,
                            Act::Other(
                                ScmpAction::Errno(_) | ScmpAction::Log | ScmpAction::Trace(_)
                            )
                        )
                    {
                        return Err(err(
                            "@default takes kill, kill-process, kill-thread, trap or user-notify"
                                .into(),
                        ));
                    }
                    if let Some(t) = e.next() {
                        return Err(err(format!(
                            "unexpected {} after the action",
                            show(Some(&t))
                        )));
                    }
                    self.default = Some(act);
                }
                _ => self.statement(&content, max, &here).map_err(err)?,
            }
        }
        Ok(())
    }

    /// `syscalls : filters`.
    fn statement(&mut self, content: &str, max: u64, here: &str) -> Result<(), String> {
        let (left, right) = content
            .split_once(':')
            .ok_or("expected `syscall: filter` (a colon after the syscall)")?;
        let names = syscall_names(left.trim())?;
        let mut e = Expr {
            toks: tokens(right)?,
            at: 0,
            depth: 0,
            constants: self.constants,
            max,
        };
        let mut filters = Vec::new();
        if e.eat(&Tok::LBrace) {
            loop {
                filters.push(e.single_filter()?);
                if !e.eat(&Tok::Comma) {
                    break;
                }
            }
            if !e.eat(&Tok::RBrace) {
                return Err("unclosed `{`".into());
            }
        } else {
            filters.push(e.single_filter()?);
        }
        if let Some(t) = e.next() {
            return Err(format!("unexpected {} after the filter", show(Some(&t))));
        }
        for name in names {
            let k = *self.index.entry(name.clone()).or_insert_with(|| {
                self.syscalls.push((name.clone(), Vec::new()));
                self.syscalls.len() - 1
            });
            for (clauses, action) in &filters {
                self.syscalls[k].1.push(Filter {
                    clauses: clauses.clone(),
                    action: *action,
                    at: here.to_string(),
                });
            }
        }
        Ok(())
    }
}

/// The syscall names of a statement's left-hand side: `name` or `{name, name, ...}`, each
/// maybe with `[arch=...]` metadata (names for other architectures are dropped).
fn syscall_names(left: &str) -> Result<Vec<String>, String> {
    let inner = match left.strip_prefix('{') {
        Some(rest) => rest
            .strip_suffix('}')
            .ok_or("unclosed `{` in the syscall list")?,
        None => left,
    };
    let mut out = Vec::new();
    for item in inner.split(',') {
        let item = item.trim();
        let name = item.split('[').next().unwrap_or_default().trim();
        if item.contains('[') {
            return Err(format!(
                "{item:?}: per-architecture metadata (`[arch=...]`) is not supported"
            ));
        }
        if name.contains('@') {
            return Err(format!("{name:?}: syscall groups are not supported"));
        }
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("{item:?} is not a syscall name"));
        }
        out.push(name.to_string());
    }
    Ok(out)
}

/// Where `@include target` in the file `from` is: `target` relative to `from`'s directory
/// (an absolute `target` as it is), else, when no file is there, the file of the same name
/// in `from`'s directory (crosvm's policies include each other by their install path,
/// `/usr/share/policy/crosvm/...`).
fn include_path(from: &Path, target: &str) -> Option<PathBuf> {
    let dir = from.parent().unwrap_or_else(|| Path::new("."));
    let direct = dir.join(target);
    if direct.is_file() {
        return Some(direct);
    }
    let beside = dir.join(Path::new(target).file_name()?);
    beside.is_file().then_some(beside)
}

impl File {
    /// Parses a policy. `path` is the file's (for its `@include`s), `constants` the
    /// architecture's named constants.
    pub(super) fn parse(
        text: &str,
        path: Option<&Path>,
        constants: Option<&Constants>,
    ) -> Result<Self, PolicyError> {
        let mut r = Reader {
            constants,
            default: None,
            syscalls: Vec::new(),
            index: HashMap::new(),
        };
        r.read(text, path, None, 0)?;
        let default = r.default.unwrap_or(Act::Kill).action();
        let rules = r
            .syscalls
            .iter()
            .map(|(name, filters)| Ok((name.clone(), rules_of(name, filters, default)?)))
            .collect::<Result<_, PolicyError>>()?;
        Ok(File {
            arch: constants.and_then(|c| c.arch),
            default,
            rules,
        })
    }

    /// The default action.
    #[cfg(test)]
    fn default_action(&self) -> ScmpAction {
        self.default
    }

    pub(super) fn recipes(&self, target: &Target) -> Result<Vec<Recipe>, PolicyError> {
        made_for(
            self.arch,
            target,
            "this minijail policy (its constants.json)",
        )?;
        let mut rules = Vec::new();
        let mut skipped = Vec::new();
        for (name, these) in &self.rules {
            if !these.is_empty() && known(name, &mut skipped) {
                rules.extend(these.iter().cloned());
            }
        }
        Ok(vec![Recipe {
            name: String::new(),
            default_action: self.default,
            arches: vec![target.arch],
            attributes: Vec::new(),
            optimize: None,
            rules,
            skipped,
        }])
    }
}

/// The rules for one syscall (minijail tries its filters in order; the first that holds
/// decides, and the default action when none does).
fn rules_of(
    name: &str,
    filters: &[Filter],
    default: ScmpAction,
) -> Result<Vec<RecipeRule>, PolicyError> {
    let rule = |action, conditions| RecipeRule {
        action,
        syscall: name.to_string(),
        conditions,
    };
    // The conditional filters up to the first unconditional one, which must be the last.
    let mut conditional = Vec::new();
    let mut fallback = None;
    for (k, f) in filters.iter().enumerate() {
        match &f.clauses {
            Some(rules) if rules.iter().any(Vec::is_empty) => {
                // Always holds (`argN in ~0`): unconditional from here on.
                fallback = Some((k, f.action));
                break;
            }
            Some(rules) => conditional.extend(rules.iter().cloned()),
            None => {
                fallback = Some((k, f.action));
                break;
            }
        }
    }
    if let Some((k, _)) = fallback {
        if filters[k].clauses.is_none() && k + 1 < filters.len() {
            return Err(PolicyError::new(
                filters[k + 1].at.clone(),
                format!(
                    "syscall {name} already had an unconditional action (as \
                     compile_seccomp_policy.py, which refuses it)"
                ),
            ));
        }
    }
    let fallback = fallback.map_or(default, |(_, a)| a.action());
    Ok(if fallback == ScmpAction::Allow {
        // (compile_seccomp_policy.py allows such a syscall whatever its filters say.)
        vec![rule(ScmpAction::Allow, Vec::new())]
    } else if conditional.is_empty() {
        if fallback == default {
            Vec::new()
        } else {
            vec![rule(fallback, Vec::new())]
        }
    } else if fallback == default {
        conditional
            .into_iter()
            .map(|c| rule(ScmpAction::Allow, c))
            .collect()
    } else {
        return Err(PolicyError::new(
            filters[0].at.clone(),
            format!(
                "syscall {name} is allowed when its arguments match and gets {fallback:?} \
                 otherwise, not the default action: libseccomp's rules cannot give one \
                 syscall an action of its own for the calls its conditions leave out"
            ),
        ));
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScmpCompareOp::*;

    fn cmp(arg: u32, op: ScmpCompareOp, datum: u64) -> ScmpArgCompare {
        ScmpArgCompare::new(arg, op, datum)
    }

    fn constants(pairs: &[(&str, u64)]) -> Constants {
        Constants {
            values: pairs.iter().map(|&(n, v)| (n.to_string(), v)).collect(),
            bits: 64,
            arch: Some(ScmpArch::X8664),
        }
    }

    /// The recipe's rules of `text` for x86_64: (action, syscall, conditions).
    fn rules(text: &str, c: Option<&Constants>) -> Vec<(ScmpAction, String, Vec<ScmpArgCompare>)> {
        let f = File::parse(text, None, c).unwrap_or_else(|e| panic!("{e}"));
        f.recipes(&Target::new(ScmpArch::X8664)).unwrap()[0]
            .rules
            .iter()
            .map(|r| (r.action, r.syscall.clone(), r.conditions.clone()))
            .collect()
    }

    fn error(text: &str) -> PolicyError {
        File::parse(text, None, None).expect_err(text)
    }

    #[test]
    fn statements_become_rules() {
        let c = constants(&[
            ("MADV_DONTNEED", 4),
            ("PROT_EXEC", 4),
            ("CLONE_THREAD", 0x10000),
            ("ENOENT", 2),
        ]);
        let got = rules(
            "# comment\n\
             read: 1\n\
             open: return ENOENT\n\
             madvise: arg2 == MADV_DONTNEED || \\\n    arg2 == 8\n\
             mmap: arg2 in ~PROT_EXEC\n\
             clone: arg0 & CLONE_THREAD\n\
             socket: arg0 == 1 && arg1 != 2 && arg2 <= 0x10\n\
             {dup, dup2}: allow\n\
             kill: 1\n",
            Some(&c),
        );
        let allow = ScmpAction::Allow;
        assert_eq!(
            got,
            vec![
                (allow, "read".into(), vec![]),
                (ScmpAction::Errno(2), "open".into(), vec![]),
                (allow, "madvise".into(), vec![cmp(2, Equal, 4)]),
                (allow, "madvise".into(), vec![cmp(2, Equal, 8)]),
                (allow, "mmap".into(), vec![cmp(2, MaskedEqual(4), 0)]),
                (
                    allow,
                    "clone".into(),
                    vec![cmp(0, MaskedEqual(0x10000), 0x10000)]
                ),
                (
                    allow,
                    "socket".into(),
                    vec![
                        cmp(0, Equal, 1),
                        cmp(1, NotEqual, 2),
                        cmp(2, LessOrEqual, 0x10)
                    ]
                ),
                (allow, "dup".into(), vec![]),
                (allow, "dup2".into(), vec![]),
                (allow, "kill".into(), vec![]),
            ]
        );
    }

    #[test]
    fn values_and_operators() {
        let one = |expr: &str| rules(&format!("ioctl: {expr}\n"), None);
        assert_eq!(one("arg1 < 010")[0].2, vec![cmp(1, Less, 8)]);
        assert_eq!(one("arg1 > -1")[0].2, vec![cmp(1, Greater, u64::MAX)]);
        assert_eq!(one("arg1 >= (1|2)|4")[0].2, vec![cmp(1, GreaterEqual, 7)]);
        assert_eq!(one("arg1 == ~0xff")[0].2, vec![cmp(1, Equal, !0xff)]);
        // `&` of several bits: any of them, a rule each.
        assert_eq!(
            one("arg1 & 0x5"),
            vec![
                (
                    ScmpAction::Allow,
                    "ioctl".into(),
                    vec![cmp(1, MaskedEqual(1), 1)]
                ),
                (
                    ScmpAction::Allow,
                    "ioctl".into(),
                    vec![cmp(1, MaskedEqual(4), 4)]
                ),
            ]
        );
        // `&` of no bit never holds; `in` every bit always does.
        assert!(one("arg1 & 0").is_empty());
        assert_eq!(
            one("arg1 in 0xffffffffffffffff"),
            vec![(ScmpAction::Allow, "ioctl".into(), vec![])]
        );
        // A clause with a never-true atom goes; the rest stays.
        assert_eq!(
            one("arg0 & 0 && arg1 == 1 || arg2 == 3")[0].2,
            vec![cmp(2, Equal, 3)]
        );
    }

    #[test]
    fn a_syscalls_statements_are_tried_in_order() {
        // Conditions from two statements (an include and the file): ORed.
        assert_eq!(rules("prctl: arg0 == 1\nprctl: arg0 == 2\n", None).len(), 2);
        // Conditions, then an unconditional allow: allowed.
        assert_eq!(
            rules("tgkill: arg2 == 6\ntgkill: 1\n", None),
            vec![(ScmpAction::Allow, "tgkill".into(), vec![])]
        );
        // Conditions, then the default action: the conditions alone.
        assert_eq!(
            rules("@default trap\ntgkill: arg2 == 6\ntgkill: trap\n", None),
            vec![(ScmpAction::Allow, "tgkill".into(), vec![cmp(2, Equal, 6)])]
        );
        // A list of filters in braces is tried in order as well.
        assert_eq!(
            rules("@default trap\nread: {arg0 == 1, trap}\n", None),
            vec![(ScmpAction::Allow, "read".into(), vec![cmp(0, Equal, 1)])]
        );
        // The default action written out needs no rule.
        assert!(rules("getpid: kill\n", None).is_empty());
        // Conditions, then another action than the default: not a libseccomp rule set.
        let e = error("open: arg1 == 0\nopen: return 2\n");
        assert_eq!(e.path(), "line 1");
        assert!(e.message().contains("libseccomp"), "{e}");
        // Anything after an unconditional filter: refused, as minijail does.
        let e = error("kill: 1\nkill: arg1 == 2\n");
        assert_eq!(e.path(), "line 2");
        assert!(
            e.message().contains("already had an unconditional action"),
            "{e}"
        );
    }

    #[test]
    fn default_actions() {
        let f = File::parse("read: 1\n", None, None).unwrap();
        assert_eq!(f.default_action(), ScmpAction::KillProcess);
        let f = File::parse("@default trap\nread: 1\n", None, None).unwrap();
        assert_eq!(f.default_action(), ScmpAction::Trap);
        let f = File::parse("@default kill-thread\nread: kill\n", None, None).unwrap();
        assert_eq!(f.default_action(), ScmpAction::KillThread);
        assert_eq!(
            f.recipes(&Target::new(ScmpArch::X8664)).unwrap()[0].rules[0].action,
            ScmpAction::KillProcess
        );
        assert!(error("@default allow\n")
            .message()
            .contains("@default takes"));
        assert!(error("@default return 1\n")
            .message()
            .contains("@default takes"));
    }

    #[test]
    fn errors_name_the_line_and_say_what_is_wrong() {
        for (text, line, says) in [
            ("read: 1\nwrite 1\n", "line 2", "colon"),
            ("read: arg6 == 1\n", "line 1", "arg0 to arg5"),
            ("read: arg0 === 1\n", "line 1", "unexpected character"),
            ("read: arg0 == FOO\n", "line 1", "constants.json"),
            (
                "read: arg0 == 0x1ffffffffffffffff\n",
                "line 1",
                "does not fit",
            ),
            (
                "read: arg0 == 1; return 1\n",
                "line 1",
                "compile_seccomp_policy.py",
            ),
            ("read: arg0 == 1 && arg0 == 2\n", "line 1", "compared twice"),
            ("read: return 5000\n", "line 1", "out of range"),
            ("read: maybe\n", "line 1", "unknown action"),
            ("read: 1 2\n", "line 1", "unexpected"),
            ("\n\nread: (1\n", "line 3", "expected an action"),
            ("read: arg0 == (1\n", "line 1", "unclosed parenthesis"),
            ("read: arg0 == ~~1\n", "line 1", "double complement"),
            ("r$ad: 1\n", "line 1", "not a syscall name"),
            ("read@group: 1\n", "line 1", "syscall groups"),
            ("read[arch=x86_64]: 1\n", "line 1", "metadata"),
            ("@denylist\n", "line 1", "@denylist"),
            ("@include ./other.policy\n", "line 1", "Policy::from_file"),
            ("read: {arg0 == 1, allow\n", "line 1", "unclosed"),
            // An operator's first byte before a multi-byte character (a fuzzer's find).
            ("read: arg0 =\u{e9}\n", "line 1", "unexpected character"),
            (
                &format!("read: arg0 == {}1\n", "(".repeat(100_000)),
                "line 1",
                "nested",
            ),
        ] {
            let e = error(text);
            assert_eq!(e.path(), line, "{text:?}: {e}");
            assert!(e.message().contains(says), "{text:?}: {e}");
        }
    }

    #[test]
    fn the_format_is_told_from_allow_lists() {
        assert!(looks_like("read: 1\n"));
        assert!(looks_like("# policy\n@include /x.policy\n"));
        assert!(looks_like("@default kill\n"));
        assert!(!looks_like("read\nwrite # a: comment\n"));
        // systemd's group listing has a group called @default.
        assert!(!looks_like("@default\n    read\n"));
    }

    #[test]
    fn includes_are_read_beside_the_policy() {
        let dir =
            std::env::temp_dir().join(format!("pure-seccomp-minijail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("common.policy"), "read: 1\nprctl: arg0 == 1\n").unwrap();
        std::fs::write(dir.join("more.policy"), "prctl: arg0 == 3\n").unwrap();
        std::fs::write(dir.join("loop.policy"), "@include ./loop.policy\n").unwrap();
        let top = dir.join("device.policy");
        // By the install path (which is not there), then relative to the file.
        let text = "@include /usr/share/policy/crosvm/common.policy\n@include ./more.policy\nprctl: arg0 == 2\n";
        let f = File::parse(text, Some(&top), None).unwrap();
        let r = &f.recipes(&Target::new(ScmpArch::Aarch64)).unwrap()[0];
        let prctl: Vec<_> = r.rules.iter().filter(|r| r.syscall == "prctl").collect();
        // Both includes' `prctl` conditions and the file's, in order.
        let values: Vec<u64> = prctl.iter().map(|r| r.conditions[0].datum()).collect();
        assert_eq!(values, [1, 3, 2]);
        // A file included twice defines its unconditional syscalls twice: refused.
        let twice = "@include ./common.policy\n@include ./common.policy\n";
        let e = File::parse(twice, Some(&top), None).unwrap_err();
        assert!(e.message().contains("already had"), "{e}");
        let e = File::parse("@include ./loop.policy\n", Some(&top), None).unwrap_err();
        assert!(e.message().contains("nested"), "{e}");
        assert!(e.path().starts_with("loop.policy line 1"), "{e}");
        let e = File::parse("@include ./absent.policy\n", Some(&top), None).unwrap_err();
        assert!(e.message().contains("no such file"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn constants_json() {
        let c = Constants::parse(
            r#"{"constants": {"A": 1, "NEG": -1}, "bits": 64, "arch_name": "aarch64", "arch_nr": 3221225655}"#,
            "constants.json",
        )
        .unwrap();
        assert_eq!(c.arch, Some(ScmpArch::Aarch64));
        assert_eq!(c.values["NEG"], u64::MAX);
        let f = File::parse("read: arg0 == A\n", None, Some(&c)).unwrap();
        assert!(f.recipes(&Target::new(ScmpArch::X8664)).is_err());
        assert_eq!(
            f.recipes(&Target::new(ScmpArch::Aarch64)).unwrap()[0]
                .rules
                .len(),
            1
        );
        assert!(Constants::parse("[]", "c.json").is_err());
        assert!(Constants::parse(r#"{"bits": 16}"#, "c.json").is_err());
        assert!(Constants::parse(r#"{"arch_name": "vax"}"#, "c.json").is_err());
        // 32-bit words: values and complements are truncated.
        let c32 = Constants {
            bits: 32,
            ..constants(&[])
        };
        assert_eq!(
            rules("read: arg0 == ~0\n", Some(&c32))[0].2,
            vec![cmp(0, Equal, 0xffff_ffff)]
        );
        assert!(File::parse("read: arg0 == 0x100000000\n", None, Some(&c32)).is_err());
    }
}
