//! Plain allow-lists and systemd's group listing: see the `policy` module documentation ("Allow-lists").

use super::{known, PolicyError, Recipe, RecipeRule, Target};
use crate::ScmpAction;

/// `EPERM`.
const EPERM: i32 = 1;

/// A checked list: one group (`allow-list`) for a plain list, or systemd's groups.
#[derive(Debug, Clone)]
pub(super) struct List {
    groups: Vec<(String, Vec<String>)>,
}

/// One meaningful line.
struct Line<'a> {
    number: usize,
    indented: bool,
    token: &'a str,
}

fn at(line: usize) -> String {
    format!("line {line}")
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_group(s: &str) -> bool {
    s.strip_prefix('@').is_some_and(|g| {
        !g.is_empty()
            && g.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

impl List {
    pub(super) fn parse(text: &str) -> Result<Self, PolicyError> {
        let mut lines = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let number = i + 1;
            let content = raw.split('#').next().unwrap_or_default();
            let token = content.trim();
            if token.is_empty() {
                continue;
            }
            if token.contains(char::is_whitespace) {
                return Err(PolicyError::new(
                    at(number),
                    format!("expected one syscall name, found {token:?}"),
                ));
            }
            if !is_name(token) && !is_group(token) {
                return Err(PolicyError::new(
                    at(number),
                    format!("{token:?} is not a syscall name"),
                ));
            }
            lines.push(Line {
                number,
                indented: content.starts_with(char::is_whitespace),
                token,
            });
        }

        if lines.is_empty() {
            // (Most often a mistake: an empty file, or one read twice from a pipe.)
            return Err(PolicyError::new(
                "",
                "an empty allow-list: it names no syscall, so its filter would refuse every \
                 one, exit included (for that on purpose, an OCI profile with \
                 `\"syscalls\": []`)",
            ));
        }
        if !lines.iter().any(|l| l.indented) {
            // A plain list.
            let mut names: Vec<String> = Vec::new();
            for l in &lines {
                if is_group(l.token) {
                    return Err(PolicyError::new(
                        at(l.number),
                        format!(
                            "{} is a systemd group, and this file does not define it: expand it \
                             first (`systemd-analyze syscall-filter {}`)",
                            l.token, l.token
                        ),
                    ));
                }
                if !names.iter().any(|n| n == l.token) {
                    names.push(l.token.to_string());
                }
            }
            // As an empty list: most often not a list at all (a one-word text file).
            let mut unknown = Vec::new();
            if !names.iter().any(|n| known(n, &mut unknown)) {
                return Err(PolicyError::new(
                    at(lines[0].number),
                    format!(
                        "no name in this allow-list is a syscall ({}): its filter would refuse \
                         every one, exit included",
                        unknown.join(", ")
                    ),
                ));
            }
            return Ok(List {
                groups: vec![("allow-list".to_string(), names)],
            });
        }

        // systemd's group listing: headers at the start of a line, members indented.
        let mut defs: Vec<(&str, usize, Vec<&Line<'_>>)> = Vec::new();
        for l in &lines {
            if l.indented {
                match defs.last_mut() {
                    Some((_, _, members)) => members.push(l),
                    None => {
                        return Err(PolicyError::new(
                            at(l.number),
                            format!(
                                "{:?} is indented but no @group line comes before it",
                                l.token
                            ),
                        ))
                    }
                }
            } else if is_group(l.token) {
                if defs.iter().any(|(g, _, _)| *g == l.token) {
                    return Err(PolicyError::new(
                        at(l.number),
                        format!("group {} is defined twice", l.token),
                    ));
                }
                defs.push((l.token, l.number, Vec::new()));
            } else {
                return Err(PolicyError::new(
                    at(l.number),
                    format!(
                        "{:?} is not indented: in a group listing every name belongs to the \
                         @group line above it",
                        l.token
                    ),
                ));
            }
        }
        let mut groups = Vec::new();
        for (g, _, _) in &defs {
            let mut names = Vec::new();
            expand(&defs, g, &mut Vec::new(), &mut names)?;
            groups.push((g.to_string(), names));
        }
        Ok(List { groups })
    }

    pub(super) fn recipes(&self, target: &Target) -> Vec<Recipe> {
        self.groups
            .iter()
            .map(|(group, names)| {
                let mut skipped = Vec::new();
                let rules = names
                    .iter()
                    .filter(|n| known(n, &mut skipped))
                    .map(|n| RecipeRule {
                        action: ScmpAction::Allow,
                        syscall: n.clone(),
                        conditions: Vec::new(),
                    })
                    .collect();
                Recipe {
                    name: group.clone(),
                    default_action: ScmpAction::Errno(EPERM),
                    arches: vec![target.arch],
                    attributes: Vec::new(),
                    optimize: None,
                    rules,
                    skipped,
                }
            })
            .collect()
    }
}

/// Appends the members of `group` to `out` (each name once), expanding nested groups.
fn expand(
    defs: &[(&str, usize, Vec<&Line<'_>>)],
    group: &str,
    stack: &mut Vec<String>,
    out: &mut Vec<String>,
) -> Result<(), PolicyError> {
    let Some((_, _, members)) = defs.iter().find(|(g, _, _)| *g == group) else {
        return Ok(());
    };
    stack.push(group.to_string());
    for m in members {
        if is_group(m.token) {
            if stack.iter().any(|s| s == m.token) {
                return Err(PolicyError::new(
                    at(m.number),
                    format!(
                        "{} includes itself (through {})",
                        m.token,
                        stack.join(" -> ")
                    ),
                ));
            }
            if !defs.iter().any(|(g, _, _)| *g == m.token) {
                return Err(PolicyError::new(
                    at(m.number),
                    format!("group {} is not defined in this file", m.token),
                ));
            }
            expand(defs, m.token, stack, out)?;
        } else if !out.iter().any(|n| n == m.token) {
            out.push(m.token.to_string());
        }
    }
    stack.pop();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_grouped() {
        let l = List::parse("# c\nread\n\nwrite # trailing\nread\n").unwrap();
        assert_eq!(l.groups.len(), 1);
        assert_eq!(l.groups[0].1, vec!["read", "write"]);

        let g = List::parse("@a\n    read\n    @b\n@b\n    # comment\n    write\n").unwrap();
        assert_eq!(
            g.groups[0],
            ("@a".into(), vec!["read".into(), "write".into()])
        );
        assert_eq!(g.groups[1], ("@b".into(), vec!["write".into()]));
    }

    #[test]
    fn errors() {
        assert_eq!(
            List::parse("read\n@default\n").unwrap_err().path(),
            "line 2"
        );
        assert_eq!(List::parse("read write\n").unwrap_err().path(), "line 1");
        assert_eq!(List::parse("read\nwr!te\n").unwrap_err().path(), "line 2");
        assert_eq!(List::parse("    read\n@a\n").unwrap_err().path(), "line 1");
        assert_eq!(List::parse("@a\n    @b\n").unwrap_err().path(), "line 2");
        assert_eq!(List::parse("@a\n    @a\n").unwrap_err().path(), "line 2");
        assert_eq!(List::parse("@a\n  x\nread\n").unwrap_err().path(), "line 3");
        let e = List::parse("# hostname\nvm\nvm\n").unwrap_err();
        assert_eq!(e.path(), "line 2");
        assert!(
            e.message()
                .contains("no name in this allow-list is a syscall (vm)"),
            "{e}"
        );
        assert!(List::parse("vm\nread\n").is_ok());
        for empty in ["", "\n\n", "# only a comment\n"] {
            let e = List::parse(empty).unwrap_err();
            assert!(e.message().contains("empty allow-list"), "{empty:?}: {e}");
        }
    }
}
