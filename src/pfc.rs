//! libseccomp's pseudo filter code (PFC): a readable rendering of the rule database.

use crate::action::{
    RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS, RET_KILL_THREAD, RET_LOG, RET_TRACE, RET_TRAP,
};
use crate::db::tree::{Cmp, Id, Tree};
use crate::db::{ArchFilter, Collection, SysEntry};
use crate::syscall::resolve_num;
use std::fmt::Write;

fn action(out: &mut String, indent: usize, act: u32) {
    let text = match act & 0xffff_0000 {
        RET_KILL_PROCESS => "KILL_PROCESS".to_string(),
        RET_KILL_THREAD => "KILL".to_string(),
        RET_TRAP => format!("TRAP({})", act & 0xffff),
        RET_ERRNO => format!("ERRNO({})", act & 0xffff),
        RET_TRACE => format!("TRACE({})", act & 0xffff),
        RET_LOG => "LOG".to_string(),
        RET_ALLOW => "ALLOW".to_string(),
        _ => format!("{act:#x}"),
    };
    let _ = writeln!(out, "{:indent$}action {text};", "");
}

fn level(out: &mut String, tree: &Tree, start: Id, indent: usize, arg64: bool) {
    let mut c = Some(tree.level_start(start));
    while let Some(i) = c {
        let n = &tree.nodes[i];
        let arg = if arg64 {
            format!("$a{}.{}", n.arg, if n.hi { "hi32" } else { "lo32" })
        } else {
            format!("$a{}", n.arg)
        };
        let op = match n.op {
            Cmp::Eq => "==".to_string(),
            Cmp::Gt => ">".to_string(),
            Cmp::Ge => ">=".to_string(),
            Cmp::MaskedEq => format!("& {:#010x} ==", n.mask),
        };
        let _ = writeln!(out, "{:indent$}if ({arg} {op} {})", "", n.datum);
        match (n.nxt_t, n.act_t) {
            (Some(t), _) => level(out, tree, t, indent + 2, arg64),
            (None, Some(a)) => action(out, indent + 2, a),
            _ => {}
        }
        if n.nxt_f.is_some() || n.act_f.is_some() {
            let _ = writeln!(out, "{:indent$}else", "");
            match (n.nxt_f, n.act_f) {
                (Some(f), _) => level(out, tree, f, indent + 2, arg64),
                (None, Some(a)) => action(out, indent + 2, a),
                _ => {}
            }
        }
        c = n.lvl_nxt;
    }
}

fn syscall(out: &mut String, f: &ArchFilter, e: &SysEntry) {
    let name = resolve_num(f.arch, e.num).unwrap_or("UNKNOWN");
    let num = e.num as u32;
    let _ = writeln!(
        out,
        "  # filter for syscall \"{name}\" ({num}) [priority: {}]",
        e.priority
    );
    let _ = writeln!(out, "  if ($syscall == {num})");
    match e.chains {
        None => action(out, 4, e.action),
        Some(c) => level(out, &e.tree, c, 4, f.info().arg64),
    }
}

/// Renders the collection as PFC text.
pub(crate) fn render(col: &Collection) -> String {
    let mut out = String::from("#\n# pseudo filter code start\n#\n");
    for f in &col.filters {
        let info = f.info();
        let _ = writeln!(out, "# filter for arch {} ({})", info.name, info.audit);
        let _ = writeln!(out, "if ($arch == {})", info.audit);
        let mut entries: Vec<&SysEntry> = f.syscalls.values().filter(|e| e.valid).collect();
        // Higher priority first; ties in descending number order, as libseccomp prints them.
        entries.sort_by(|a, b| b.priority.cmp(&a.priority).then(b.num.cmp(&a.num)));
        for e in entries {
            syscall(&mut out, f, e);
        }
        out.push_str("  # default action\n");
        action(&mut out, 2, col.attrs.act_default);
    }
    out.push_str("# invalid architecture action\n");
    action(&mut out, 0, col.attrs.act_badarch);
    out.push_str("#\n# pseudo filter code end\n#\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_filter_layout() {
        let mut col = Collection::new(RET_ALLOW);
        col.filters.clear();
        let s = render(&col);
        assert!(s.starts_with("#\n# pseudo filter code start\n#\n"));
        assert!(s.contains("# invalid architecture action\naction KILL;\n"));
    }
}
