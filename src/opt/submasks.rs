//! Every submask of one mask, named by a chain of values: one `jset`.
//!
//! Docker's and Podman's profiles allow `personality` with `args[0]` one of 0, 8 (`PER_LINUX32`),
//! 0x20000 (`UNAME26`), 0x20008 and 0xffffffff (a query). The first four are every value
//! whose set bits lie within 0x20008, so `jset #~0x20008` decides them at once: when no bit
//! outside the mask is set, the value is one of them; otherwise the rest of the values are
//! searched as before, and the four are no longer among them (five tests become two, and the
//! four values run one test instead of one to four).
//!
//! [`find`] looks for such a *cube* in the value map of an argument chain
//! (`opt/arg_trees.rs`): the single values that lead where 0 leads, closed under taking
//! subsets of bits. Only a cube that contains 0 is one test (`!(w & ~mask)`); a cube around
//! another base would need an `and` and a `jeq`, which reload the word, so it is left to the
//! search tree. A cube of adjacent values (0, 1, 2, 3) is a range, which the search tree
//! finds as cheaply, so cube members are single values: that also bounds the search, since a
//! cube of `2^b` members needs `2^b` named values.

use super::intervals::Interval;
use crate::ir::DnId;

/// A cube found by [`find`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cube {
    /// The values whose bits lie within `mask` all lead to `to`.
    pub mask: u32,
    pub to: DnId,
    /// The value map for the values outside the cube, which is what a search below
    /// `jset #~mask` needs: the cube's values lead where a neighbour leads (they cannot reach
    /// it), so that they merge into ranges.
    pub rest: Vec<Interval>,
}

/// The smallest cube worth a `jset`: four values (one bit is two values, where two `jeq`s
/// cost as much).
const MIN_BITS: u32 = 2;

/// The interval of `ivs` (sorted, disjoint) that holds `v`.
fn at(ivs: &[Interval], v: u32) -> Option<&Interval> {
    let i = ivs.partition_point(|r| r.lo <= v).checked_sub(1)?;
    Some(&ivs[i]).filter(|r| r.hi >= v)
}

/// Whether `v` is a single value of `ivs` that leads to `to`.
fn member(ivs: &[Interval], v: u32, to: DnId) -> bool {
    at(ivs, v).is_some_and(|r| r.lo == r.hi && r.to == to)
}

/// The largest cube (bits taken lowest first) of single values in `ivs` (a chain's value map,
/// sorted and merged as [`super::intervals::merge`] leaves it) that lead where 0 leads, when
/// 0 is a named value (not `end`, where the chain's unnamed values go) and a `jset` in front of
/// the search pays: the cube's `2^b` values skip the search (about `log2(n)` tests for `n`
/// named values and ranges) and every other value pays one test more, so it is taken when
/// `2^b * log2(n) >= n - 2^b`.
pub(crate) fn find(ivs: &[Interval], end: DnId) -> Option<Cube> {
    let to = at(ivs, 0).filter(|r| r.lo == r.hi && r.to != end)?.to;
    let mut mask = 0u32;
    for bit in (0..32).map(|i| 1u32 << i) {
        if !member(ivs, bit, to) {
            continue;
        }
        // Every submask of `mask` with `bit` added (from `mask` itself down to 0).
        let mut sub = mask;
        let closed = loop {
            if !member(ivs, sub | bit, to) {
                break false;
            }
            if sub == 0 {
                break true;
            }
            sub = (sub - 1) & mask;
        };
        if closed {
            mask |= bit;
        }
    }
    let bits = mask.count_ones();
    if bits < MIN_BITS {
        return None;
    }
    let cube = 1usize << bits;
    let named = ivs.iter().filter(|r| r.to != end).count();
    let depth = (usize::BITS - named.leading_zeros()) as usize;
    if cube * depth < named - cube {
        return None;
    }
    let mut rest = ivs.to_vec();
    for i in 0..rest.len() {
        let r = rest[i];
        // (Each member is a single value between two ranges that lead elsewhere: `merge`
        // joined adjacent ranges that lead to the same place.)
        if r.lo != r.hi || r.to != to || r.lo & !mask != 0 {
            continue;
        }
        let left = i.checked_sub(1).map(|j| rest[j].to);
        let right = rest.get(i + 1).map(|n| n.to);
        rest[i].to = match (left, right) {
            (Some(l), _) => l,
            (None, Some(r)) => r,
            // A map of one value only (never: a chain covers every value).
            (None, None) => return None,
        };
        rest[i].w = 0.0;
    }
    Some(Cube {
        mask,
        to,
        rest: super::intervals::merge(rest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const END: DnId = 0;
    const ALLOW: DnId = 1;
    const OTHER: DnId = 2;

    /// The value map of a chain naming `named` (value, successor); every other value goes to
    /// `END`.
    fn map(named: &[(u32, DnId)]) -> Vec<Interval> {
        let mut v = named.to_vec();
        v.sort();
        let mut ivs = Vec::new();
        let mut from = 0u64;
        for (x, to) in v {
            if u64::from(x) > from {
                ivs.push(Interval {
                    lo: from as u32,
                    hi: x - 1,
                    to: END,
                    w: 0.25,
                    key: false,
                });
            }
            ivs.push(Interval {
                lo: x,
                hi: x,
                to,
                w: 1.0,
                key: false,
            });
            from = u64::from(x) + 1;
        }
        if from <= u64::from(u32::MAX) {
            ivs.push(Interval {
                lo: from as u32,
                hi: u32::MAX,
                to: END,
                w: 0.25,
                key: false,
            });
        }
        super::super::intervals::merge(ivs)
    }

    /// Where `v` leads: through the cube's `jset`, then the rest.
    fn decide(c: &Cube, v: u32) -> DnId {
        if v & !c.mask == 0 {
            c.to
        } else {
            at(&c.rest, v).expect("the rest covers every value").to
        }
    }

    #[test]
    fn dockers_personality_values_are_one_jset_and_one_jeq() {
        let values = [0, 8, 0x20000, 0x20008, 0xffff_ffff];
        let ivs = map(&values.map(|v| (v, ALLOW)));
        let c = find(&ivs, END).expect("a cube");
        assert_eq!((c.mask, c.to), (0x20008, ALLOW));
        // What is left: 0xffffffff alone.
        assert_eq!(c.rest.len(), 2, "{:?}", c.rest);
        assert_eq!((c.rest[1].lo, c.rest[1].to), (0xffff_ffff, ALLOW));
        for v in [
            0,
            1,
            7,
            8,
            9,
            0x20000,
            0x20008,
            0x20010,
            0x28,
            0xffff_fffe,
            u32::MAX,
        ] {
            let want = at(&ivs, v).unwrap().to;
            assert_eq!(decide(&c, v), want, "value {v:#x}");
        }
    }

    #[test]
    fn an_incomplete_cube_or_one_without_zero_is_none() {
        // 0x20008 is missing: 0, 8, 0x20000 are no cube of more than one bit.
        assert_eq!(
            find(&map(&[(0, ALLOW), (8, ALLOW), (0x20000, ALLOW)]), END),
            None
        );
        // No 0: 1, 3, 5, 7 is 1 | submasks of 6, not a jset.
        assert_eq!(find(&map(&[1, 3, 5, 7].map(|v| (v, ALLOW))), END), None);
        // 0 unnamed (it goes where every unnamed value goes).
        let ivs = map(&[(8, ALLOW), (16, ALLOW), (24, ALLOW)]);
        assert_eq!(find(&ivs, END), None);
        // One member leads elsewhere.
        let ivs = map(&[(0, ALLOW), (8, ALLOW), (16, OTHER), (24, ALLOW)]);
        assert_eq!(find(&ivs, END), None);
    }

    #[test]
    fn adjacent_values_are_a_range_not_a_cube() {
        // 0..=3 merge into one range (the search tree's), 0x100 | 0..=3 likewise: no single
        // values to make a cube of.
        let named: Vec<(u32, DnId)> = [0, 1, 2, 3, 0x100, 0x101, 0x102, 0x103]
            .map(|v| (v, ALLOW))
            .to_vec();
        assert_eq!(find(&map(&named), END), None);
    }

    #[test]
    fn a_small_cube_in_a_long_list_is_left_to_the_tree() {
        // 0, 0x10, 0x20, 0x30 and 60 more values: one jset would cost 60 values a test
        // each to save four values about six.
        let mut named: Vec<(u32, DnId)> = [0, 0x10, 0x20, 0x30].map(|v| (v, ALLOW)).to_vec();
        named.extend((0..60).map(|i| (0x5400 + 2 * i, ALLOW)));
        assert_eq!(find(&map(&named), END), None);
        // A cube of sixteen among 30 more values pays.
        let mut named: Vec<(u32, DnId)> = (0..16u32)
            .map(|s| {
                (
                    ((s & 1) << 2) | ((s & 2) << 4) | ((s & 4) << 6) | ((s & 8) << 8),
                    ALLOW,
                )
            })
            .collect();
        named.extend((0..30).map(|i| (0x5400 + 2 * i, OTHER)));
        let ivs = map(&named);
        let c = find(&ivs, END).expect("a cube of 16");
        assert_eq!(c.mask, 0x4 | 0x20 | 0x100 | 0x800);
        for v in (0..0x1000).chain(0x53f0..0x5500) {
            assert_eq!(decide(&c, v), at(&ivs, v).unwrap().to, "value {v:#x}");
        }
    }

    #[test]
    fn every_value_keeps_its_decision_on_random_maps() {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let mut found = 0;
        for _ in 0..500 {
            // Submasks of a random mask of two to five bits (most of them), a few others.
            let mask = (0..2 + next() % 4).fold(0u32, |m, _| m | 1 << (next() % 32));
            let mut named = Vec::new();
            for _ in 0..next() % 40 {
                let v = if next() % 4 == 0 {
                    next() as u32
                } else {
                    next() as u32 & mask
                };
                let to = if next() % 8 == 0 { OTHER } else { ALLOW };
                if !named.iter().any(|&(x, _)| x == v) {
                    named.push((v, to));
                }
            }
            let ivs = map(&named);
            let Some(c) = find(&ivs, END) else {
                continue;
            };
            found += 1;
            assert!(c.mask.count_ones() >= MIN_BITS);
            let probes = named
                .iter()
                .flat_map(|&(v, _)| [v, v.wrapping_sub(1), v.wrapping_add(1), v ^ c.mask])
                .chain([0, u32::MAX, c.mask, !c.mask]);
            for v in probes.chain((0..64).map(|_| next() as u32)) {
                assert_eq!(decide(&c, v), at(&ivs, v).unwrap().to, "value {v:#x}");
            }
        }
        assert!(found > 50, "only {found} maps had a cube");
    }
}
