//! Every submask of one mask, named by a chain of values: one `jset`.
//!
//! Docker's and Podman's profiles allow `personality` with `args[0]` one of 0, 8
//! (`PER_LINUX32`), 0x20000 (`UNAME26`), 0x20008 and 0xffffffff (which asks for the current
//! persona). The first four are every value whose set bits lie within 0x20008, so
//! `jset #~0x20008` decides them at once: when no bit outside the mask is set, the value is
//! one of them; otherwise the rest of the values are searched as before, and the four are no
//! longer among them (five tests become two, and the four values run one test instead of one
//! to four).
//!
//! [`find`] looks for such a *cube* in the value map of an argument chain
//! (`opt/arg_trees.rs`): values that lead where 0 leads, closed under taking subsets of
//! bits. Only a cube that contains 0 is one test (`!(w & ~mask)`); a cube around another base
//! would need an `and` and a `jeq`, which reload the word, so it is left to the search tree.
//! Cubes may hold ranges: `futex` operations 0, 1, 0x80 and 0x81 (`FUTEX_WAIT`, `FUTEX_WAKE`
//! and their `_PRIVATE` forms, Firecracker's rules) are the ranges 0-1 and 0x80-0x81, every
//! submask of 0x81.

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

/// Whether every value of `[lo, hi]` is a submask of `mask`.
fn inside(lo: u32, hi: u32, mask: u32) -> bool {
    // The submasks of `mask` come in runs: the bits below its lowest clear bit count through
    // every value, so the run that holds `lo` (if `lo` is a submask) ends at `lo | low`.
    let low = (!mask & (!mask).wrapping_neg()).wrapping_sub(1);
    lo & !mask == 0 && hi <= lo | low
}

/// A cube in `ivs` (a chain's value map, sorted and merged as [`super::intervals::merge`]
/// leaves it; bits are added lowest first, each where the cube stays closed, so it is maximal
/// but not always the largest) whose values all lead where 0 leads, when 0 is a
/// named value (not `end`, where the chain's unnamed values go, if any) and a `jset` in front of the
/// search pays: the `c` ranges wholly inside the cube skip the search (about `log2(n)` tests
/// for `n` named ranges) and every other value pays one test more, so it is taken when the
/// cube holds two ranges or more and `c * log2(n) >= n - c`. (A cube that is one range, such
/// as 0 to 3, is what the search finds in one test too.)
///
/// The search for the cube reads the map at most `32 + 8 * ivs.len()` times: when a nearly
/// closed cube of many bits would cost more, the cube found so far is taken.
pub(crate) fn find(ivs: &[Interval], end: Option<DnId>) -> Option<Cube> {
    let named = |r: &Interval| Some(r.to) != end;
    let to = at(ivs, 0).filter(|r| named(r))?.to;
    let mut budget = 32 + 8 * ivs.len();
    let mut member = |v: u32| {
        budget = budget.checked_sub(1)?;
        Some(at(ivs, v).is_some_and(|r| r.to == to))
    };
    let mut mask = 0u32;
    'bits: for bit in (0..32).map(|i| 1u32 << i) {
        // Every submask of `mask` with `bit` added (from `mask` itself down to 0).
        let mut sub = mask;
        loop {
            match member(sub | bit) {
                None => break 'bits,
                Some(false) => continue 'bits,
                Some(true) if sub == 0 => break,
                Some(true) => sub = (sub - 1) & mask,
            }
        }
        mask |= bit;
    }
    if mask.count_ones() < MIN_BITS {
        return None;
    }
    let n = ivs.iter().filter(|r| named(r)).count();
    let within = |r: &Interval| r.to == to && inside(r.lo, r.hi, mask);
    let c = ivs.iter().filter(|r| within(r)).count();
    let depth = (usize::BITS - n.leading_zeros()) as usize;
    if c < 2 || c * depth < n - c {
        return None;
    }
    let mut rest = ivs.to_vec();
    for i in 0..rest.len() {
        if !within(&rest[i]) {
            continue;
        }
        // (The ranges beside it lead elsewhere, so they are not in the cube: `merge` joined
        // adjacent ranges that lead to the same place.)
        let left = i.checked_sub(1).map(|j| rest[j].to);
        let right = rest.get(i + 1).map(|n| n.to);
        rest[i].to = match (left, right) {
            (Some(l), _) => l,
            (None, Some(r)) => r,
            // A map of one range only (never: 0 and the cube's other values lead to `to`,
            // so a single range would be every value, and `c` one).
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
        let c = find(&ivs, Some(END)).expect("a cube");
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
            find(&map(&[(0, ALLOW), (8, ALLOW), (0x20000, ALLOW)]), Some(END)),
            None
        );
        // No 0: 1, 3, 5, 7 is 1 | submasks of 6, not a jset.
        assert_eq!(
            find(&map(&[1, 3, 5, 7].map(|v| (v, ALLOW))), Some(END)),
            None
        );
        // 0 unnamed (it goes where every unnamed value goes).
        let ivs = map(&[(8, ALLOW), (16, ALLOW), (24, ALLOW)]);
        assert_eq!(find(&ivs, Some(END)), None);
        // One member leads elsewhere.
        let ivs = map(&[(0, ALLOW), (8, ALLOW), (16, OTHER), (24, ALLOW)]);
        assert_eq!(find(&ivs, Some(END)), None);
    }

    #[test]
    fn a_cube_may_hold_ranges_but_one_range_is_no_cube() {
        // 0..=3 merge into one range, which the search tree finds in one test as well.
        assert_eq!(
            find(&map(&[0, 1, 2, 3].map(|v| (v, ALLOW))), Some(END)),
            None
        );
        // 0..=3 and 0x100..=0x103: two ranges, every submask of 0x103.
        let named = [0, 1, 2, 3, 0x100, 0x101, 0x102, 0x103].map(|v| (v, ALLOW));
        let ivs = map(&named);
        let c = find(&ivs, Some(END)).expect("a cube of two ranges");
        assert_eq!(c.mask, 0x103);
        assert_eq!(c.rest.len(), 1, "nothing left to search: {:?}", c.rest);
        for v in (0..0x200).chain([u32::MAX]) {
            assert_eq!(decide(&c, v), at(&ivs, v).unwrap().to, "value {v:#x}");
        }
    }

    #[test]
    fn firecrackers_futex_operations_are_a_cube_of_two_ranges() {
        // FUTEX_WAIT, FUTEX_WAKE, their _PRIVATE forms, and FUTEX_WAIT_BITSET_PRIVATE.
        let ivs = map(&[0, 1, 0x80, 0x81, 0x89].map(|v| (v, ALLOW)));
        let c = find(&ivs, Some(END)).expect("a cube");
        assert_eq!(c.mask, 0x81);
        assert_eq!(c.rest.len(), 3, "0x89 alone: {:?}", c.rest);
        for v in (0..0x100).chain([u32::MAX, 0x8000_0081]) {
            assert_eq!(decide(&c, v), at(&ivs, v).unwrap().to, "value {v:#x}");
        }
    }

    #[test]
    fn inside_is_every_value_a_submask() {
        for mask in [
            0u32,
            1,
            2,
            3,
            0x81,
            0x103,
            0x20008,
            0xf0,
            0x7fff_fff0,
            0xffff_fffe,
        ] {
            for lo in (0..0x210u32).chain([0x20000, 0x20008, 0x7fff_fff0, 0xffff_fff0]) {
                for hi in lo..lo.saturating_add(20) {
                    let want = (lo..=hi).all(|v| v & !mask == 0);
                    assert_eq!(inside(lo, hi, mask), want, "{lo:#x}..={hi:#x} in {mask:#x}");
                }
            }
        }
    }

    #[test]
    fn a_small_cube_in_a_long_list_is_left_to_the_tree() {
        // 0, 0x10, 0x20, 0x30 and 60 more values: one jset would cost 60 values a test
        // each to save four values about six.
        let mut named: Vec<(u32, DnId)> = [0, 0x10, 0x20, 0x30].map(|v| (v, ALLOW)).to_vec();
        named.extend((0..60).map(|i| (0x5400 + 2 * i, ALLOW)));
        assert_eq!(find(&map(&named), Some(END)), None);
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
        let c = find(&ivs, Some(END)).expect("a cube of 16");
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
            let Some(c) = find(&ivs, Some(END)) else {
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
