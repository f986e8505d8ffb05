//! The syscall entries of one architecture, found by number in one read.
//!
//! Every rule add looks its syscall's entry up, and most add one. A `BTreeMap` did both with
//! a linear scan of each node on the way down (branches the processor cannot predict) and
//! moved the 72-byte entries within its nodes on every insertion: about a seventh of the
//! time to build Docker's profile. Here the entries sit in a vector in insertion order,
//! indexed by number ([`ByNumber`]: arrays where the ABIs' numbers are dense, a hash map for
//! the others); the few readers that need number order sort references.

use super::by_number::ByNumber;
use super::SysEntry;

/// The room the first entry makes for more.
const FIRST_ROOM: usize = 64;
/// The room made when the first room is full: about every syscall of an ABI (Docker's profile
/// has rules for about 370 an ABI), in one step instead of three doublings, each of which
/// copied the 72-byte entries (and rehashed the index, when it was a hash map: 4 % of the time
/// to build Docker's profile).
const FULL_ROOM: usize = 512;

/// From this many entries on, [`Entries::values`] reads them in the index's order: below,
/// sorting them costs less than scanning the index's arrays (512 numbers each).
const ORDERED_FROM: usize = 64;

/// [`Entries::index`] where a number has no entry.
const NO_ENTRY: u32 = u32::MAX;

/// Syscall entries by number (the API of the `BTreeMap` it replaces, as far as used).
#[derive(Debug, Clone)]
pub(crate) struct Entries {
    entries: Vec<SysEntry>,
    /// The position in `entries` of each number's entry ([`NO_ENTRY`]: none).
    index: ByNumber<u32>,
}

impl Default for Entries {
    fn default() -> Self {
        Entries {
            entries: Vec::new(),
            index: ByNumber::new(NO_ENTRY),
        }
    }
}

impl Entries {
    /// Where the entry of syscall `num` is.
    #[inline]
    fn position(&self, num: i32) -> Option<usize> {
        match self.index.get(num as u32) {
            NO_ENTRY => None,
            i => Some(i as usize),
        }
    }

    /// The entry of syscall `num`.
    #[inline]
    pub(crate) fn get(&self, num: &i32) -> Option<&SysEntry> {
        self.position(*num).map(|i| &self.entries[i])
    }

    /// The entry of syscall `num`, to change.
    #[inline]
    pub(crate) fn get_mut(&mut self, num: &i32) -> Option<&mut SysEntry> {
        self.position(*num).map(|i| &mut self.entries[i])
    }

    /// Adds `e` as the entry of syscall `num` (replacing one there was).
    pub(crate) fn insert(&mut self, num: i32, e: SysEntry) {
        let next = self.entries.len();
        if next == self.entries.capacity() {
            // Room for a typical filter's syscalls at once, then for a large one's: not grown
            // (and rehashed) from one.
            let room = match next {
                0 => FIRST_ROOM,
                n if n < FULL_ROOM => FULL_ROOM,
                n => 2 * n,
            };
            self.entries.reserve_exact(room - next);
        }
        match self.index.slot(num as u32) {
            slot if *slot == NO_ENTRY => {
                // (Positions fit: 2^32 - 1 entries of 72 bytes would take 300 GiB.)
                *slot = next as u32;
                self.entries.push(e);
            }
            slot => self.entries[*slot as usize] = e,
        }
    }

    /// Removes the entry of syscall `num`.
    pub(crate) fn remove(&mut self, num: &i32) -> Option<SysEntry> {
        let i = std::mem::replace(self.index.slot(*num as u32), NO_ENTRY);
        if i == NO_ENTRY {
            return None;
        }
        let e = self.entries.swap_remove(i as usize);
        if let Some(moved) = self.entries.get(i as usize) {
            *self.index.slot(moved.num as u32) = i;
        }
        Some(e)
    }

    /// Keeps the entries `keep` accepts.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&i32, &mut SysEntry) -> bool) {
        self.entries.retain_mut(|e| {
            let num = e.num;
            keep(&num, e)
        });
        self.reindex();
    }

    fn reindex(&mut self) {
        self.index.clear();
        for (i, e) in self.entries.iter().enumerate() {
            *self.index.slot(e.num as u32) = i as u32;
        }
    }

    /// Every entry, in ascending (signed) number order. Where the index's arrays hold most
    /// of many entries (every ABI but MIPS's, whose numbers start at 4000 to 6000; at least
    /// [`ORDERED_FROM`]), that is the index's order, with only the map's few numbers sorted
    /// (sorting the entries was 3 % of the instructions to build Docker's profile);
    /// otherwise the entries are sorted.
    pub(crate) fn values(&self) -> impl Iterator<Item = &SysEntry> {
        let mut v: Vec<&SysEntry> = Vec::with_capacity(self.entries.len());
        let n = self.entries.len();
        if n >= ORDERED_FROM && 2 * self.index.map_len() < n {
            self.index.in_order(|_, i| {
                if i != NO_ENTRY {
                    v.push(&self.entries[i as usize]);
                }
            });
        } else {
            v.extend(self.entries.iter());
            v.sort_unstable_by_key(|e| e.num);
        }
        v.into_iter()
    }

    /// Every entry, in no particular order.
    pub(crate) fn values_unordered(&self) -> impl Iterator<Item = &SysEntry> {
        self.entries.iter()
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Every entry, to change, in no particular order.
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut SysEntry> {
        self.entries.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::tree::Tree;

    fn entry(num: i32) -> SysEntry {
        SysEntry {
            num,
            priority: 0,
            chains: None,
            node_cnt: 0,
            action: num as u32,
            valid: num % 3 != 0,
            counted: true,
            tree: Tree::default(),
        }
    }

    fn nums(e: &Entries) -> Vec<i32> {
        e.values().map(|e| e.num).collect()
    }

    /// Past the first room and the full room (grown in steps, not doubled from one): every
    /// entry is still found, once, in number order.
    #[test]
    fn grows_past_both_rooms() {
        let mut e = Entries::default();
        let keys: Vec<i32> = (0..3 * FULL_ROOM as i32)
            .map(|i| (i * 7919) % 4099 - 60)
            .collect();
        for (k, &n) in keys.iter().enumerate() {
            e.insert(n, entry(n));
            assert_eq!(e.len(), k + 1);
            if k + 1 == FIRST_ROOM + 1 {
                assert!(e.entries.capacity() >= FULL_ROOM);
            }
        }
        for &n in &keys {
            assert_eq!(e.get(&n).map(|s| s.num), Some(n));
        }
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(nums(&e), sorted);
    }

    /// Against a `BTreeMap` doing the same inserts, removals and retains.
    #[test]
    fn behaves_as_an_ordered_map() {
        let mut e = Entries::default();
        let mut m = std::collections::BTreeMap::new();
        let mut x: u64 = 7;
        for step in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let num = (x >> 33) as i32 % 97 - 20;
            match step % 7 {
                0..=3 => {
                    e.insert(num, entry(num));
                    m.insert(num, num);
                }
                4 | 5 => {
                    assert_eq!(e.remove(&num).map(|e| e.num), m.remove(&num));
                }
                _ if step % 100 == 6 => {
                    e.retain(|_, s| s.valid);
                    m.retain(|&n, _| n % 3 != 0);
                }
                _ => {
                    if let Some(s) = e.get_mut(&num) {
                        s.priority += 1;
                    }
                }
            }
            assert_eq!(nums(&e), m.keys().copied().collect::<Vec<_>>());
            for n in -21..80 {
                assert_eq!(e.get(&n).map(|s| s.num), m.get(&n).copied(), "{n}");
            }
        }
    }

    /// Mostly numbers in the index's arrays (as on every ABI but MIPS's): read in the index's
    /// order, with the map's numbers (negative, between the arrays, after them) in place.
    #[test]
    fn dense_numbers_come_in_order_with_the_others() {
        let x32 = crate::syscall::X32_SYSCALL_BIT;
        let mut keys: Vec<i32> = vec![-1, -101, -10_050, 600, 4_000, x32 + 600, i32::MAX];
        keys.extend((0..400).step_by(3));
        keys.extend((x32..x32 + 40).step_by(2));
        let mut e = Entries::default();
        // Inserted out of order: alternately from both ends.
        let (mut lo, mut hi) = (0, keys.len());
        while lo < hi {
            hi -= 1;
            e.insert(keys[hi], entry(keys[hi]));
            if lo < hi {
                e.insert(keys[lo], entry(keys[lo]));
                lo += 1;
            }
        }
        assert!(e.len() >= ORDERED_FROM && 2 * e.index.map_len() < e.len());
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(nums(&e), sorted);
    }
}
