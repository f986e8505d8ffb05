//! libseccomp's pseudo filter code (PFC): a readable rendering of the rule database.
//!
//! The text is a view of the *database*, not of the BPF program: one block per architecture
//! (in the order the architectures were added), and inside it one `if ($syscall == N)` per
//! syscall entry with its argument graph printed level by level. The layout follows
//! libseccomp 2.5's `seccomp_export_pfc` byte for byte:
//!
//! * Numbers are printed unsigned: pseudo syscalls (negative numbers kept in the database for
//!   names an architecture lacks) appear as e.g. `4294957292`, and they sort as those large
//!   unsigned values.
//! * The architecture block is headed with the `seccomp_data.arch` value the kernel reports,
//!   so x32's block reads `x32 (3221225534)`, x86_64's token.
//! * At optimize levels other than 2 the entries are listed by descending priority, ties by
//!   descending (unsigned) number. At level 2 they are listed by descending number only and
//!   wrapped in the `if ($syscall > N)` / `else # ($syscall <= N)` blocks of a binary search,
//!   four syscalls to a leaf (see [`BinTree`]).
//! * Placeholders left by `set_syscall_priority` without any rule are not printed.
//! * Actions: `KILL_PROCESS`, `KILL`, `TRAP` (its data is not printed), `ERRNO(n)`,
//!   `TRACE(n)`, `LOG`, `ALLOW`; anything else (NOTIFY) as the raw value in hex.

use crate::action::{
    RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS, RET_KILL_THREAD, RET_LOG, RET_TRACE, RET_TRAP,
};
use crate::db::tree::{Cmp, Id, Tree};
use crate::db::{ArchFilter, Collection, SysEntry};
use crate::syscall::resolve_num;
use std::fmt::Write;

/// Syscalls in one leaf of the optimize-level-2 binary tree.
const LEAF: usize = 4;

/// Appends `lvl` levels of two-space indentation.
fn indent(out: &mut String, lvl: usize) {
    for _ in 0..lvl {
        out.push_str("  ");
    }
}

/// The `action ...;` line of a filter return value.
fn action(out: &mut String, lvl: usize, act: u32) {
    indent(out, lvl);
    let data = act & 0xffff;
    let _ = match act & 0xffff_0000 {
        RET_KILL_PROCESS => writeln!(out, "action KILL_PROCESS;"),
        RET_KILL_THREAD => writeln!(out, "action KILL;"),
        RET_TRAP => writeln!(out, "action TRAP;"),
        RET_ERRNO => writeln!(out, "action ERRNO({data});"),
        RET_TRACE => writeln!(out, "action TRACE({data});"),
        RET_LOG => writeln!(out, "action LOG;"),
        RET_ALLOW => writeln!(out, "action ALLOW;"),
        _ => writeln!(out, "action {act:#x};"),
    };
}

/// One level of an argument graph (the level `start` is on, from its first node), each node
/// followed by its true branch and, when it has one, its `else` branch.
fn level(out: &mut String, tree: &Tree, start: Id, lvl: usize, arg64: bool) {
    let mut cur = Some(tree.level_start(start));
    while let Some(id) = cur {
        let n = &tree.nodes[id];
        indent(out, lvl);
        out.push_str("if ($a");
        let _ = write!(out, "{}", n.arg);
        if arg64 {
            out.push_str(if n.hi { ".hi32" } else { ".lo32" });
        }
        let _ = match n.op {
            Cmp::Eq => write!(out, " == "),
            Cmp::Gt => write!(out, " > "),
            Cmp::Ge => write!(out, " >= "),
            Cmp::MaskedEq => write!(out, " & 0x{:08x} == ", n.mask),
        };
        let _ = writeln!(out, "{})", n.datum);
        // An action ends a branch; a next level is only followed when there is no action.
        if let Some(a) = n.act_t {
            action(out, lvl + 1, a);
        } else if let Some(t) = n.nxt_t.get() {
            level(out, tree, t, lvl + 1, arg64);
        }
        if let Some(a) = n.act_f {
            indent(out, lvl);
            out.push_str("else\n");
            action(out, lvl + 1, a);
        } else if let Some(f) = n.nxt_f.get() {
            indent(out, lvl);
            out.push_str("else\n");
            level(out, tree, f, lvl + 1, arg64);
        }
        cur = n.lvl_nxt.get();
    }
}

/// One syscall entry at indentation `lvl`.
fn syscall(out: &mut String, f: &ArchFilter, e: &SysEntry, lvl: usize) {
    let num = e.num as u32;
    let name = resolve_num(f.arch, e.num).unwrap_or("UNKNOWN");
    indent(out, lvl);
    let _ = writeln!(
        out,
        "# filter for syscall \"{name}\" ({num}) [priority: {}]",
        e.priority
    );
    indent(out, lvl);
    let _ = writeln!(out, "if ($syscall == {num})");
    match e.chains {
        None => action(out, lvl + 1, e.action),
        Some(c) => level(out, &e.tree, c, lvl + 1, f.info().arg64),
    }
}

/// The optimize-level-2 wrapping: a binary search over the entries sorted by descending
/// number, `LEAF` entries to a leaf.
///
/// With `depth` levels (the smallest with `LEAF << (depth - 1)` at least the filter's syscall
/// count), before the `k`-th printed entry (counting from 0) each level `i` in
/// `depth - 1 ..= 1` (block size `LEAF << i`) either opens a block, when `k` is a multiple of
/// the block size, with `if ($syscall > N)` where N is the number of the entry half a block
/// further down the list (not opened when the list ends before that), or switches to the
/// block's second half, when `k` is a multiple of half the block, with
/// `else # ($syscall <= N)` for the entry about to be printed. After the `k`-th entry,
/// every level `i` in `0 .. depth` whose size `2 * LEAF << i` divides `k + 1` closes one
/// indentation level. The look-ahead counts placeholders too, as libseccomp's list does.
struct BinTree {
    depth: usize,
    /// Current indentation; signed because a close may come without its open (look-ahead
    /// past the end), as in libseccomp.
    indent: isize,
    printed: usize,
}

impl BinTree {
    fn new(optimize: u32, count: usize) -> Self {
        let mut depth = 0;
        if optimize == 2 && count > 0 {
            depth = 1;
            while LEAF << (depth - 1) < count {
                depth += 1;
            }
        }
        BinTree {
            depth,
            indent: 1,
            printed: 0,
        }
    }

    fn lvl(&self) -> usize {
        self.indent.max(0) as usize
    }

    /// Prints entry `pos` of `list` (which must be valid) with the wrapping around it.
    fn entry(&mut self, out: &mut String, f: &ArchFilter, list: &[&SysEntry], pos: usize) {
        let k = self.printed;
        for i in (1..self.depth).rev() {
            let block = LEAF << i;
            if k % block == 0 {
                let Some(ahead) = list.get(pos + block / 2) else {
                    continue;
                };
                indent(out, self.lvl());
                let _ = writeln!(out, "if ($syscall > {})", ahead.num as u32);
                self.indent += 1;
            } else if k % (block / 2) == 0 {
                indent(out, (self.indent - 1).max(0) as usize);
                let _ = writeln!(out, "else # ($syscall <= {})", list[pos].num as u32);
            }
        }
        syscall(out, f, list[pos], self.lvl());
        self.printed += 1;
        for i in 0..self.depth {
            if self.printed % ((2 * LEAF) << i) == 0 {
                self.indent -= 1;
            }
        }
    }
}

/// The filter's syscall count, which sizes the binary tree: libseccomp counts the entries a
/// rule created, not `set_syscall_priority` placeholders, even once a rule fills them.
fn syscall_count(f: &ArchFilter) -> usize {
    f.syscalls.values().filter(|e| e.counted).count()
}

/// One architecture's block.
fn arch(out: &mut String, col: &Collection, f: &ArchFilter) {
    let info = f.info();
    let optimize = col.attrs.optimize;
    // libseccomp keeps a filter's entries in ascending unsigned number order and inserts
    // each one before the first of lower or equal rank: ties come out in reverse.
    let mut list: Vec<&SysEntry> = f.syscalls.values().collect();
    list.sort_by_key(|e| std::cmp::Reverse(e.num as u32));
    if optimize != 2 {
        list.sort_by_key(|e| std::cmp::Reverse(e.priority));
    }
    let _ = writeln!(out, "# filter for arch {} ({})", info.name, info.audit);
    let _ = writeln!(out, "if ($arch == {})", info.audit);
    let mut bt = BinTree::new(optimize, syscall_count(f));
    for (pos, e) in list.iter().enumerate() {
        if e.valid {
            bt.entry(out, f, &list, pos);
        }
    }
    indent(out, 1);
    out.push_str("# default action\n");
    action(out, 1, col.attrs.act_default);
}

/// Renders the collection as PFC text.
pub(crate) fn render(col: &Collection) -> String {
    let mut out = String::from("#\n# pseudo filter code start\n#\n");
    for f in &col.filters {
        arch(&mut out, col, f);
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
    fn empty_collection() {
        let mut col = Collection::new(RET_ALLOW);
        col.filters.clear();
        assert_eq!(
            render(&col),
            "#\n# pseudo filter code start\n#\n# invalid architecture action\naction KILL;\n\
             #\n# pseudo filter code end\n#\n"
        );
    }

    #[test]
    fn bintree_depth() {
        let d = |n| BinTree::new(2, n).depth;
        assert_eq!(
            [d(0), d(1), d(4), d(5), d(8), d(9), d(16), d(17)],
            [0, 1, 1, 2, 2, 3, 3, 4]
        );
        assert_eq!(BinTree::new(1, 100).depth, 0);
    }
}
