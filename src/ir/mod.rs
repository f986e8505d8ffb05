//! The decision IR: the whole filter as one hash-consed decision graph.
//!
//! A node either returns a value or tests one 32-bit word of `seccomp_data` (after an optional
//! mask) and continues with a true or a false successor. Everything the program decides is a
//! node here, the architecture checks and the syscall-number dispatch included ([`lower`]
//! builds them from the rule database), so that the optimizer's passes (`crate::opt`) are
//! plain graph rewrites and the emitter (`crate::emit`) only has to lay a graph out as BPF.
//!
//! Nodes are hash-consed: building a node that already exists returns the existing one, so
//! identical sub-decisions are shared by construction. That makes in-place edits unsound, so
//! passes never edit: each one builds a new [`Program`] from the old one, and only what the
//! new root reaches is in it.

pub(crate) mod hash;
pub(crate) mod lower;

#[cfg(test)]
use hash::FxMap;

/// Index of a node in its [`Ir`].
pub(crate) type DnId = usize;

/// The comparison of a test on `(word & mask)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    /// `== k`
    Eq,
    /// `> k` (unsigned)
    Gt,
    /// `>= k` (unsigned)
    Ge,
    /// `& k != 0` (the mask of a `Set` test is always all ones)
    Set,
}

/// A decision: return a value, or test one word and continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Dn {
    Ret(u32),
    Test {
        /// Byte offset of the word in `seccomp_data`.
        off: u32,
        mask: u32,
        op: Op,
        k: u32,
        t: DnId,
        f: DnId,
    },
}

impl Dn {
    /// The same node with its successors renamed by `f` (for copying into another graph).
    pub(crate) fn map_succ(self, mut f: impl FnMut(DnId) -> DnId) -> Dn {
        match self {
            Dn::Test {
                off,
                mask,
                op,
                k,
                t,
                f: fl,
            } => Dn::Test {
                off,
                mask,
                op,
                k,
                t: f(t),
                f: f(fl),
            },
            r => r,
        }
    }
}

impl Op {
    /// Whether `(w & mask) op k` holds.
    pub(crate) fn holds(self, v: u32, k: u32) -> bool {
        match self {
            Op::Eq => v == k,
            Op::Gt => v > k,
            Op::Ge => v >= k,
            Op::Set => v & k != 0,
        }
    }
}

/// A node as the graph stores it: successors as 32-bit indexes, 24 bytes where a [`Dn`] is
/// 40, so that the graph and its hash-consing table take about half the memory (the tables
/// of a large filter outgrow the caches) and a key hashes as three words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed {
    off: u32,
    mask: u32,
    k: u32,
    t: u32,
    f: u32,
    /// The [`Op`] of a test, or [`RET`] (the value in `k`, every other field zero).
    op: u8,
}

/// [`Packed::op`] of a return.
const RET: u8 = 4;

impl std::hash::Hash for Packed {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(u64::from(self.off) | u64::from(self.mask) << 32);
        h.write_u64(u64::from(self.k) | u64::from(self.t) << 32);
        h.write_u64(u64::from(self.f) | u64::from(self.op) << 32);
    }
}

/// A node index as [`Packed`] holds it. A graph has fewer than 2^32 nodes: each is 24 bytes
/// and reachable from a filter the kernel takes (at most 4096 instructions) or from a rule
/// database that holds more than that many bytes itself.
fn pack_id(d: DnId) -> u32 {
    u32::try_from(d).expect("fewer than 2^32 nodes in a graph")
}

impl Packed {
    fn of(d: Dn) -> Self {
        match d {
            Dn::Ret(k) => Packed {
                off: 0,
                mask: 0,
                k,
                t: 0,
                f: 0,
                op: RET,
            },
            Dn::Test {
                off,
                mask,
                op,
                k,
                t,
                f,
            } => Packed {
                off,
                mask,
                k,
                t: pack_id(t),
                f: pack_id(f),
                op: match op {
                    Op::Eq => 0,
                    Op::Gt => 1,
                    Op::Ge => 2,
                    Op::Set => 3,
                },
            },
        }
    }

    fn dn(self) -> Dn {
        let op = match self.op {
            0 => Op::Eq,
            1 => Op::Gt,
            2 => Op::Ge,
            3 => Op::Set,
            _ => return Dn::Ret(self.k),
        };
        Dn::Test {
            off: self.off,
            mask: self.mask,
            op,
            k: self.k,
            t: self.t as DnId,
            f: self.f as DnId,
        }
    }
}

/// A hash-consed decision graph.
#[derive(Debug, Default)]
pub(crate) struct Ir {
    nodes: Vec<Packed>,
    /// The hash-consing table: open addressing with linear probing over the nodes' hashes,
    /// each slot a node's index plus one (0: empty), at most half full, its length a power
    /// of two. A lookup compares against `nodes`, so a slot is 4 bytes where a map from
    /// nodes to indexes took about 30 (every pass builds a graph, and the graphs of large
    /// filters outgrow the caches).
    table: Vec<u32>,
    /// How many of the nodes are tests.
    tests: usize,
    /// The return built last, (value, node): a long level of a rule tree returns the same
    /// value from each of its nodes, and a hit in the table costs a hash and a probe.
    last_ret: Option<(u32, DnId)>,
}

/// [`Ir::table`]'s slot of a node, from its hash's top bits (`bits`: the table's log2).
fn slot_of(p: &Packed, bits: u32) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = hash::FxHasher::default();
    p.hash(&mut h);
    (h.finish() >> (64 - bits)) as usize
}

impl Ir {
    /// An empty graph with room for `n` nodes.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Ir {
            nodes: Vec::with_capacity(n),
            table: vec![0; (2 * n).next_power_of_two().max(16)],
            tests: 0,
            last_ret: None,
        }
    }

    fn intern(&mut self, d: Dn) -> DnId {
        let p = Packed::of(d);
        if 2 * (self.nodes.len() + 1) > self.table.len() {
            self.grow();
        }
        let bits = self.table.len().trailing_zeros();
        let mask = self.table.len() - 1;
        let mut i = slot_of(&p, bits);
        loop {
            match self.table[i] {
                0 => break,
                e if self.nodes[e as usize - 1] == p => return e as usize - 1,
                _ => i = (i + 1) & mask,
            }
        }
        let id = self.nodes.len();
        self.tests += usize::from(p.op != RET);
        self.nodes.push(p);
        self.table[i] = pack_id(id + 1);
        id
    }

    /// Doubles [`Ir::table`] (at least 16 slots) and puts every node in again.
    fn grow(&mut self) {
        let len = (2 * self.table.len()).max(16);
        let (bits, mask) = (len.trailing_zeros(), len - 1);
        self.table.clear();
        self.table.resize(len, 0);
        for (id, p) in self.nodes.iter().enumerate() {
            let mut i = slot_of(p, bits);
            while self.table[i] != 0 {
                i = (i + 1) & mask;
            }
            self.table[i] = pack_id(id + 1);
        }
    }

    /// The number of nodes (every [`DnId`] of the graph is below it).
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The number of test nodes (reachable from some root or not).
    pub(crate) fn test_count(&self) -> usize {
        self.tests
    }

    /// Every node of the graph, reachable from a given root or not.
    pub(crate) fn nodes(&self) -> impl Iterator<Item = Dn> + '_ {
        self.nodes.iter().map(|p| p.dn())
    }

    /// The node `d`.
    pub(crate) fn node(&self, d: DnId) -> Dn {
        self.nodes[d].dn()
    }

    pub(crate) fn ret(&mut self, k: u32) -> DnId {
        match self.last_ret {
            Some((v, d)) if v == k => d,
            _ => {
                let d = self.intern(Dn::Ret(k));
                self.last_ret = Some((k, d));
                d
            }
        }
    }

    /// A test, simplified when both successors agree or the outcome does not depend on the
    /// word (a zero mask, `> u32::MAX`, `>= 0`, `& 0`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn test(&mut self, off: u32, mask: u32, op: Op, k: u32, t: DnId, f: DnId) -> DnId {
        if t == f {
            return t;
        }
        let (mask, k) = match op {
            Op::Eq => (mask, k & mask),
            Op::Set => (u32::MAX, k & mask),
            Op::Gt | Op::Ge => (mask, k),
        };
        let constant = match op {
            _ if mask == 0 => Some(op.holds(0, k)),
            Op::Gt if k >= mask => Some(false),
            Op::Ge if k == 0 => Some(true),
            Op::Ge if k > mask => Some(false),
            Op::Set if k == 0 => Some(false),
            _ => None,
        };
        match constant {
            Some(true) => t,
            Some(false) => f,
            None => self.intern(Dn::Test {
                off,
                mask,
                op,
                k,
                t,
                f,
            }),
        }
    }

    /// Adds node `d` (its successors already in this graph), simplified as [`Ir::test`] does.
    pub(crate) fn add(&mut self, d: Dn) -> DnId {
        match d {
            Dn::Ret(k) => self.ret(k),
            Dn::Test {
                off,
                mask,
                op,
                k,
                t,
                f,
            } => self.test(off, mask, op, k, t, f),
        }
    }

    /// The successors of `d` (none for a return).
    pub(crate) fn succ(&self, d: DnId) -> Option<(DnId, DnId)> {
        let p = self.nodes[d];
        (p.op != RET).then_some((p.t as DnId, p.f as DnId))
    }

    /// The nodes reachable from `root`, each after all its successors (iterative, so a long
    /// chain cannot overflow the stack).
    pub(crate) fn postorder(&self, root: DnId) -> Vec<DnId> {
        // (Room for every node at once: the order is built for most of a graph's nodes,
        // and growing it by doubling cost more than the walk.)
        let mut out = Vec::with_capacity(self.nodes.len());
        let mut seen = vec![false; self.nodes.len()];
        let mut stack = Vec::with_capacity(64);
        stack.push((root, false));
        while let Some((d, expanded)) = stack.pop() {
            if expanded {
                out.push(d);
                continue;
            }
            if seen[d] {
                continue;
            }
            seen[d] = true;
            stack.push((d, true));
            if let Some((t, f)) = self.succ(d) {
                stack.push((f, false));
                stack.push((t, false));
            }
        }
        out
    }
}

/// A whole filter: a graph and its entry.
#[derive(Debug)]
pub(crate) struct Program {
    pub ir: Ir,
    pub root: DnId,
}

impl Program {
    /// Rebuilds the program bottom-up: `f` gets each reachable node with its successors
    /// already mapped into the new graph and returns the node's replacement.
    pub(crate) fn map(&self, mut f: impl FnMut(&mut Ir, Dn) -> DnId) -> Program {
        let order = self.ir.postorder(self.root);
        let mut ir = Ir::with_capacity(order.len());
        let mut new = vec![0; self.ir.len()];
        for d in order {
            let n = self.ir.node(d).map_succ(|x| new[x]);
            new[d] = f(&mut ir, n);
        }
        let root = new[self.root];
        Program { ir, root }
    }

    /// The number of reachable nodes.
    pub(crate) fn size(&self) -> usize {
        self.ir.postorder(self.root).len()
    }

    /// A lower bound on the length of the emitted program: every reachable test is a jump of
    /// its own; a test that the entry or some test of another word leads to needs a load of
    /// its word right before it (one load serves one test: it falls through into it); every
    /// reachable return is at least one `ret`. (Tight in practice: 6461 for a program that
    /// emits as 6527 instructions, exact on Docker's and Firecracker's profiles.)
    pub(crate) fn min_len(&self) -> usize {
        self.length_bound(self.ir.postorder(self.root))
    }

    /// [`Program::min_len`] counted over every node of the graph, reachable or not: at least
    /// `min_len`, without walking the graph.
    pub(crate) fn min_len_ceiling(&self) -> usize {
        self.length_bound(0..self.ir.len())
    }

    /// Whether the emitted program may be at most `limit` instructions long: false only when
    /// [`Program::min_len`] is over it. The bound is at most two instructions a node, and the
    /// graph is walked only where the same count over every node, reachable or not, is over
    /// `limit`.
    pub(crate) fn may_fit(&self, limit: usize) -> bool {
        2 * self.ir.len() <= limit || self.min_len_ceiling() <= limit || self.min_len() <= limit
    }

    /// The bound of [`Program::min_len`] over `nodes` (each at most once).
    fn length_bound(&self, nodes: impl IntoIterator<Item = DnId>) -> usize {
        let mut loads = vec![false; self.ir.len()];
        loads[self.root] = self.ir.succ(self.root).is_some();
        let mut len = 0;
        for d in nodes {
            len += 1;
            if let Dn::Test { off, t, f, .. } = self.ir.node(d) {
                for c in [t, f] {
                    if matches!(self.ir.node(c), Dn::Test { off: o, .. } if o != off) {
                        loads[c] = true;
                    }
                }
            }
        }
        len + loads.iter().filter(|&&l| l).count()
    }

    /// A readable dump, one node a line (for golden tests and debugging).
    #[cfg(test)]
    pub(crate) fn dump(&self) -> String {
        use std::fmt::Write;
        let order = self.ir.postorder(self.root);
        let name: FxMap<DnId, usize> = order
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &d)| (d, i))
            .collect();
        let mut s = String::new();
        for &d in order.iter().rev() {
            let _ = match self.ir.node(d) {
                Dn::Ret(k) => writeln!(s, "n{}: ret {k:#x}", name[&d]),
                Dn::Test {
                    off,
                    mask,
                    op,
                    k,
                    t,
                    f,
                } => {
                    let m = if mask == u32::MAX {
                        String::new()
                    } else {
                        format!(" & {mask:#x}")
                    };
                    writeln!(
                        s,
                        "n{}: [{off}]{m} {op:?} {k:#x} ? n{} : n{}",
                        name[&d], name[&t], name[&f]
                    )
                }
            };
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_nodes_are_one_node_as_the_table_grows() {
        let mut ir = Ir::default();
        let (allow, deny) = (ir.ret(1), ir.ret(2));
        let mut ids = Vec::new();
        for k in 0..5000u32 {
            ids.push(ir.test(16 + 4 * (k % 3), u32::MAX, Op::Eq, k, allow, deny));
        }
        assert_eq!(ir.len(), 5002);
        assert_eq!(ir.test_count(), 5000);
        // Interned again, every node is found, whatever the table's size when it was added.
        for k in 0..5000u32 {
            let id = ir.test(16 + 4 * (k % 3), u32::MAX, Op::Eq, k, allow, deny);
            assert_eq!(id, ids[k as usize]);
            assert_eq!(
                ir.node(id),
                Dn::Test {
                    off: 16 + 4 * (k % 3),
                    mask: u32::MAX,
                    op: Op::Eq,
                    k,
                    t: allow,
                    f: deny
                }
            );
        }
        assert_eq!((ir.ret(1), ir.ret(2), ir.len()), (allow, deny, 5002));
        // A node that differs in one field only is another node.
        let other = ir.test(16, u32::MAX, Op::Ge, 0x10, allow, deny);
        assert_eq!(other, 5002);
        let presized = Ir::with_capacity(3);
        assert!(presized.table.len() >= 6);
    }
}
