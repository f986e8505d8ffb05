//! Comparing `export_pfc`'s text with libseccomp 2.5.4's, which `record` keeps as a case's
//! `pfc` (the shared corpus has none).
//!
//! The texts are compared whole; where they differ, each is cut into the code of each syscall
//! (a block: its `# filter for syscall` comment, its `if ($syscall == N)` and what is nested
//! under it), keyed by architecture section and number, and every block that differs, or
//! that one text has and the other lacks, must be explained by a documented difference or a
//! syscall table difference. A difference in the order of the blocks, in the binary search
//! around them (level 2) or in the architecture sections alone needs a reason of its own
//! (`reorder`): otherwise only a block that changed can move the others (its node count sets
//! its priority, its number its place).

use crate::common::{multiplexers, MULTIPLEXED};
use pure_seccomp::{ScmpArch, ScmpFilterContext};
use std::collections::BTreeMap;
use std::str::FromStr;

/// One syscall's code in a section.
#[derive(Debug)]
pub struct Block {
    /// The section's architecture, as libseccomp names it (`x86_64`, `mipsel64n32`, ...).
    pub arch: String,
    /// The syscall's name in the text (`UNKNOWN` where the writer's table has none).
    pub name: String,
    /// The number the text filters (a pseudo syscall's as an unsigned 32-bit value).
    pub nr: u32,
    /// The block's lines, without the indentation of its first line.
    text: String,
}

/// The blocks of a text, by (section, number).
fn blocks(text: &str) -> BTreeMap<(String, u32), Block> {
    let mut out = BTreeMap::new();
    let mut arch = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let body = line.trim_start();
        let indent = line.len() - body.len();
        if let Some(rest) = body.strip_prefix("# filter for arch ") {
            arch = rest.split(" (").next().unwrap_or(rest).to_string();
            continue;
        }
        let Some(rest) = body.strip_prefix("# filter for syscall \"") else {
            continue;
        };
        let (name, rest) = rest.split_once('"').unwrap_or((rest, ""));
        let nr = rest
            .trim_start()
            .strip_prefix('(')
            .and_then(|r| r.split(')').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(u32::MAX);
        let mut block = String::from(body);
        // The `if ($syscall == N)` line, at the comment's indentation, then what is nested.
        let mut first = true;
        while let Some(next) = lines.peek() {
            let next_body = next.trim_start();
            let next_indent = next.len() - next_body.len();
            if !(first && next_body.starts_with("if ($syscall ==") || next_indent > indent) {
                break;
            }
            first = false;
            block.push('\n');
            block.push_str(&next[indent.min(next_indent)..]);
            lines.next();
        }
        out.insert(
            (arch.clone(), nr),
            Block {
                arch: arch.clone(),
                name: name.to_string(),
                nr,
                text: block,
            },
        );
    }
    out
}

/// What comparing two texts found.
pub enum Compared {
    Same,
    /// They differ, each differing block for a reason `explain` gave (the first such).
    Explained(&'static str),
    /// They differ, and this is what nothing explains.
    Differs(String),
}

/// Compares libseccomp's text `theirs` with `ours`; `explain` says why a block may differ
/// (given libseccomp's and ours, at least one of them), or `None`; `reorder`, why the texts
/// may differ where every block is the same.
pub fn compare(
    theirs: &str,
    ours: &str,
    explain: impl Fn(Option<&Block>, Option<&Block>) -> Option<&'static str>,
    reorder: Option<&'static str>,
) -> Compared {
    if theirs == ours {
        return Compared::Same;
    }
    let (t, o) = (blocks(theirs), blocks(ours));
    let mut why = None;
    let keys = t.keys().chain(o.keys().filter(|k| !t.contains_key(*k)));
    for key in keys {
        let (tb, ob) = (t.get(key), o.get(key));
        if tb.map(|b| &b.text) == ob.map(|b| &b.text) {
            continue;
        }
        let block = tb.or(ob).expect("a key of either text");
        match explain(tb, ob) {
            Some(reason) => {
                why.get_or_insert(reason);
            }
            None => {
                return Compared::Differs(format!(
                    "syscall {:?} ({}) on {}: {}",
                    block.name,
                    block.nr,
                    block.arch,
                    first_difference(
                        tb.map_or("(none)", |b| &b.text),
                        ob.map_or("(none)", |b| &b.text)
                    )
                ))
            }
        }
    }
    match why.or(reorder) {
        Some(reason) => Compared::Explained(reason),
        None => Compared::Differs(format!(
            "every syscall's code is the same, their order, the search around them or the \
             architectures are not: {}",
            first_difference(theirs, ours)
        )),
    }
}

impl Block {
    /// The block without the priority its comment line shows.
    fn without_priority(&self) -> &str {
        match self.text.split_once('\n') {
            Some((_, rest)) => rest,
            None => "",
        }
    }
}

/// Whether two blocks differ in the priority their comment shows alone.
pub fn only_priority_differs(theirs: Option<&Block>, ours: Option<&Block>) -> bool {
    match (theirs, ours) {
        (Some(t), Some(o)) => t.name == o.name && t.without_priority() == o.without_priority(),
        _ => false,
    }
}

/// The first line where two texts differ, and both versions of it.
fn first_difference(theirs: &str, ours: &str) -> String {
    let (mut t, mut o) = (theirs.lines(), ours.lines());
    for n in 1.. {
        match (t.next(), o.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => break,
            (a, b) => {
                return format!(
                    "line {n}: libseccomp {:?}, pure-seccomp {:?}",
                    a.unwrap_or("(end)"),
                    b.unwrap_or("(end)")
                )
            }
        }
    }
    "no line differs".into()
}

/// The architecture of a block's section.
pub fn block_arch(b: &Block) -> Option<ScmpArch> {
    ScmpArch::from_str(&format!("SCMP_ARCH_{}", b.arch.to_uppercase())).ok()
}

/// Why a syscall's code may differ from libseccomp 2.5.4's in either mode (`compat`: the
/// filter in compat mode), or `None`.
pub fn either_mode_reason(compat: &ScmpFilterContext, b: &Block) -> Option<&'static str> {
    let (arch, nr) = (block_arch(b)?, b.nr as i32);
    // (The multiplexers, and the pseudo numbers of the calls they multiplex; a call's own
    // number, where the ABI has one, takes its rules as any syscall does.)
    if multiplexers(arch).any(|m| m == nr) || (MULTIPLEXED.contains(&b.name.as_str()) && nr < 0) {
        Some("6: socket/ipc calls with a conditional rule")
    } else if compat.__libseccomp_2_5_4_entry_merged_wrongly(arch, nr) {
        Some("4, 5, 9: rules libseccomp merges wrongly")
    } else {
        None
    }
}

/// Why a syscall's code in the normal mode's text (`normal`'s) may differ from compat mode's
/// (`compat`'s, libseccomp 2.5.4's) beside [`either_mode_reason`]: a branch dropped below
/// where libseccomp's walk stops (12), a forked rule's node count (9) or the entry's
/// priority lost in compat mode (2; the last two change the priority alone). `t` and `o` are
/// the block in the two texts (at least one of them).
pub fn normal_mode_reason(
    compat: &ScmpFilterContext,
    normal: &ScmpFilterContext,
    t: Option<&Block>,
    o: Option<&Block>,
) -> Option<&'static str> {
    let b = t.or(o)?;
    let (arch, nr) = (block_arch(b)?, b.nr as i32);
    if normal.__pruned_past_libseccomp_stop(arch, nr) {
        Some("12: a branch dropped below where libseccomp's walk stops")
    } else if !only_priority_differs(t, o) {
        None
    } else if normal.__forked_rule_on(arch, nr) {
        Some("9: a forked rule's node count (each edge its own copy)")
    } else if compat.__libseccomp_2_5_4_priority_lost(arch, nr) {
        priorities_lost(compat)
    } else {
        None
    }
}

/// Why the normal mode's text may differ from compat mode's (libseccomp 2.5.4's) in any
/// priority, and so in the order of its blocks: compat mode restored a filter rebuilt from
/// its rules, without the priorities and placeholders the normal mode keeps (2).
pub fn priorities_lost(compat: &ScmpFilterContext) -> Option<&'static str> {
    compat
        .__libseccomp_2_5_4_restored_rules_only()
        .then_some("2: priorities and placeholders libseccomp loses after a failed rule")
}

/// Why the normal mode's level-2 text may search its blocks otherwise than compat mode's
/// (libseccomp 2.5.4's) where every block is the same: a socket/ipc multiplexer's entry was
/// made by a rule in one mode and by `set_syscall_priority` in the other (6: the normal mode
/// makes no multiplexer entry for a conditional rule that libseccomp applies to the
/// multiplexer's registers, so a priority given next makes a placeholder there), and
/// libseccomp counts the entries rules made to size its binary search.
pub fn multiplexer_counted_apart(
    compat: &ScmpFilterContext,
    normal: &ScmpFilterContext,
) -> Option<&'static str> {
    ScmpArch::all()
        .any(|a| {
            multiplexers(a)
                .any(|nr| compat.__entry_made_by_rule(a, nr) != normal.__entry_made_by_rule(a, nr))
        })
        .then_some("6: a socket/ipc multiplexer's entry made by a rule in one mode only")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVEL_2: &str = "\
#
# pseudo filter code start
#
# filter for arch x86_64 (3221225534)
if ($arch == 3221225534)
  if ($syscall > 1)
    # filter for syscall \"open\" (2) [priority: 65535]
    if ($syscall == 2)
      action ALLOW;
  else # ($syscall <= 1)
    # filter for syscall \"write\" (1) [priority: 65533]
    if ($syscall == 1)
      if ($a0.hi32 == 0)
        if ($a0.lo32 == 1)
          action ALLOW;
    # filter for syscall \"read\" (0) [priority: 65535]
    if ($syscall == 0)
      action ALLOW;
  # default action
  action KILL;
# invalid architecture action
action KILL;
#
# pseudo filter code end
#
";

    #[test]
    fn blocks_are_cut_at_their_syscall() {
        let b = blocks(LEVEL_2);
        let keys: Vec<_> = b.keys().map(|(a, n)| format!("{a}/{n}")).collect();
        assert_eq!(keys, ["x86_64/0", "x86_64/1", "x86_64/2"]);
        let write = &b[&("x86_64".to_string(), 1)];
        assert_eq!(write.name, "write");
        assert_eq!(
            write.text,
            "# filter for syscall \"write\" (1) [priority: 65533]\nif ($syscall == 1)\n  \
             if ($a0.hi32 == 0)\n    if ($a0.lo32 == 1)\n      action ALLOW;"
        );
        assert_eq!(b[&("x86_64".to_string(), 2)].text.lines().count(), 3);
    }

    #[test]
    fn a_changed_block_needs_a_reason() {
        let ours = LEVEL_2.replace("$a0.lo32 == 1", "$a0.lo32 == 2");
        assert!(matches!(
            compare(LEVEL_2, LEVEL_2, |_, _| None, None),
            Compared::Same
        ));
        match compare(LEVEL_2, &ours, |_, _| None, None) {
            Compared::Differs(m) => {
                assert!(m.starts_with("syscall \"write\" (1) on x86_64"), "{m}")
            }
            _ => panic!("a changed block passed without a reason"),
        }
        let why = |t: Option<&Block>, _: Option<&Block>| {
            (t.unwrap().name == "write").then_some("write's")
        };
        assert!(matches!(
            compare(LEVEL_2, &ours, why, None),
            Compared::Explained("write's")
        ));
        // A block one text lacks is a changed block too.
        let without = LEVEL_2.replace(
            "    # filter for syscall \"read\" (0) [priority: 65535]\n    if ($syscall == 0)\n      action ALLOW;\n",
            "",
        );
        assert!(matches!(
            compare(LEVEL_2, &without, |_, _| None, None),
            Compared::Differs(_)
        ));
    }

    #[test]
    fn a_priority_alone_is_told_apart() {
        let ours = LEVEL_2.replace("[priority: 65533]", "[priority: 5767165]");
        let (t, o) = (blocks(LEVEL_2), blocks(&ours));
        let key = ("x86_64".to_string(), 1);
        assert!(only_priority_differs(t.get(&key), o.get(&key)));
        let changed = ours.replace("$a0.lo32 == 1", "$a0.lo32 == 2");
        let c = blocks(&changed);
        assert!(!only_priority_differs(t.get(&key), c.get(&key)));
        assert!(!only_priority_differs(t.get(&key), None));
    }

    #[test]
    fn the_same_blocks_in_another_order_are_never_explained() {
        let swapped = LEVEL_2.replace("if ($syscall > 1)", "if ($syscall > 0)");
        match compare(LEVEL_2, &swapped, |_, _| Some("any"), None) {
            Compared::Differs(m) => assert!(m.contains("the search around them"), "{m}"),
            _ => panic!("a changed search passed"),
        }
        let why = Some("reordered");
        assert!(matches!(
            compare(LEVEL_2, &swapped, |_, _| None, why),
            Compared::Explained("reordered")
        ));
    }
}
