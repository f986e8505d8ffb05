//! Values by syscall number, in arrays where the ABIs' numbers are dense.

use crate::ir::hash::FxMap;

/// Bit 30 of the syscall number marks x32 calls.
const X32_BIT: u32 = crate::syscall::X32_SYSCALL_BIT as u32;

/// Values by syscall number: the numbers of the ABIs' tables (below [`ByNumber::DENSE`], or
/// x32's just above bit 30) in arrays, any other (-1, pseudo numbers, numbers given raw) in a
/// map. (Hash maps for all of them took a third of the time to lower Docker's profile and a
/// fifth of adding its rules: every insertion probed a table just allocated.)
#[derive(Clone)]
pub(crate) struct ByNumber<T> {
    low: Vec<T>,
    x32: Vec<T>,
    rest: FxMap<u32, T>,
    none: T,
}

impl<T: Copy> ByNumber<T> {
    /// Numbers the arrays cover from 0 and from the x32 bit: every table number of the ABIs
    /// whose numbers start at 0 (x86_64's and aarch64's end below 470), but x32's own calls
    /// (512 to 547 above the bit); MIPS's (from 4000, 5000 and 6000) go to the map.
    pub(crate) const DENSE: u32 = 512;

    /// A table where every number has `none`.
    pub(crate) fn new(none: T) -> Self {
        ByNumber {
            low: Vec::new(),
            x32: Vec::new(),
            rest: FxMap::default(),
            none,
        }
    }

    /// Number `nr`'s value, to change.
    #[inline]
    pub(crate) fn slot(&mut self, nr: u32) -> &mut T {
        let (v, k) = match nr {
            n if n < Self::DENSE => (&mut self.low, n),
            n if n.wrapping_sub(X32_BIT) < Self::DENSE => (&mut self.x32, n - X32_BIT),
            n => return self.rest_slot(n),
        };
        if v.is_empty() {
            Self::fill(v, self.none);
        }
        &mut v[k as usize]
    }

    /// [`ByNumber::slot`] of a number outside the arrays (out of line: `slot` is inlined
    /// into the hot loops, which mostly see the arrays' numbers).
    #[inline(never)]
    fn rest_slot(&mut self, nr: u32) -> &mut T {
        self.rest.entry(nr).or_insert(self.none)
    }

    /// An array's first use.
    #[cold]
    #[inline(never)]
    fn fill(v: &mut Vec<T>, none: T) {
        v.resize(Self::DENSE as usize, none);
    }

    /// Number `nr`'s value.
    #[inline]
    pub(crate) fn get(&self, nr: u32) -> T {
        let (v, k) = match nr {
            n if n < Self::DENSE => (&self.low, n),
            n if n.wrapping_sub(X32_BIT) < Self::DENSE => (&self.x32, n - X32_BIT),
            n => return self.rest.get(&n).copied().unwrap_or(self.none),
        };
        v.get(k as usize).copied().unwrap_or(self.none)
    }

    /// Every number's value in ascending signed order (-1 and pseudo numbers first, then
    /// the low array, the map's numbers up to the x32 bit, the x32 array, the map's numbers
    /// after it), the arrays' cells included whatever their value. Only the map's numbers are
    /// sorted: the arrays are in order already.
    pub(crate) fn in_order(&self, mut f: impl FnMut(u32, T)) {
        let mut rest: Vec<(i32, T)> = self.rest.iter().map(|(&n, &v)| (n as i32, v)).collect();
        rest.sort_unstable_by_key(|&(n, _)| n);
        // The map's numbers below 0, below the x32 bit, and the others.
        let neg = rest.partition_point(|&(n, _)| n < 0);
        let mid = rest.partition_point(|&(n, _)| n < X32_BIT as i32);
        for &(n, v) in &rest[..neg] {
            f(n as u32, v);
        }
        for (k, &v) in self.low.iter().enumerate() {
            f(k as u32, v);
        }
        for &(n, v) in &rest[neg..mid] {
            f(n as u32, v);
        }
        for (k, &v) in self.x32.iter().enumerate() {
            f(X32_BIT + k as u32, v);
        }
        for &(n, v) in &rest[mid..] {
            f(n as u32, v);
        }
    }

    /// How many numbers the map holds (set or not).
    pub(crate) fn map_len(&self) -> usize {
        self.rest.len()
    }

    /// Every number back to `none` (the arrays kept).
    pub(crate) fn clear(&mut self) {
        let none = self.none;
        self.low.iter_mut().for_each(|v| *v = none);
        self.x32.iter_mut().for_each(|v| *v = none);
        self.rest.clear();
    }
}

/// The numbers that have a value, as a map (not the arrays' 512 cells each).
impl<T: Copy + PartialEq + std::fmt::Debug> std::fmt::Debug for ByNumber<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let none = self.none;
        // (`none` may be NaN, which equals nothing: a value counts as none if it is NaN too.)
        #[allow(clippy::eq_op)]
        let set = move |v: &T| !(*v == none || (*v != *v && none != none));
        let mut all = Vec::new();
        self.in_order(|k, v| {
            if set(&v) {
                all.push((k, v));
            }
        });
        // (Unsigned order: -1 and the pseudo numbers last.)
        all.sort_unstable_by_key(|&(k, _)| k);
        f.debug_map().entries(all).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every number keeps its own value, in the arrays (both ends of each) and in the map,
    /// and a number never set reads as `none`.
    #[test]
    fn numbers_keep_their_values_in_arrays_and_map() {
        let dense = ByNumber::<f64>::DENSE;
        let nrs = [
            0,
            1,
            dense - 1,
            dense,
            4000,
            6500,
            X32_BIT - 1,
            X32_BIT,
            X32_BIT + dense - 1,
            X32_BIT + dense,
            u32::MAX,
            u32::MAX - 1,
        ];
        let mut t = ByNumber::new(f64::NAN);
        assert!(t.get(5).is_nan() && t.get(X32_BIT + 5).is_nan() && t.get(u32::MAX).is_nan());
        for (k, &nr) in nrs.iter().enumerate() {
            *t.slot(nr) = k as f64;
        }
        for (k, &nr) in nrs.iter().enumerate() {
            assert_eq!(t.get(nr), k as f64, "{nr:#x}");
        }
        assert!(t.get(2).is_nan() && t.get(X32_BIT + 2).is_nan() && t.get(7000).is_nan());
        assert_eq!(t.rest.len(), 7, "the numbers outside the arrays");
        let mut seen = ByNumber::new(false);
        assert!(!std::mem::replace(seen.slot(X32_BIT + 3), true));
        assert!(std::mem::replace(seen.slot(X32_BIT + 3), true));
        assert!(!seen.get(3));
        // Debug shows the numbers set, not the arrays.
        *seen.slot(7) = true;
        *seen.slot(9000) = true;
        assert_eq!(
            format!("{seen:?}"),
            "{7: true, 9000: true, 1073741827: true}"
        );
        let mut w = ByNumber::new(f64::NAN);
        *w.slot(2) = 0.5;
        assert_eq!(format!("{w:?}"), "{2: 0.5}");
        t.clear();
        assert!(t.get(0).is_nan() && t.get(u32::MAX).is_nan());
        assert_eq!(format!("{t:?}"), "{}");
    }
}
