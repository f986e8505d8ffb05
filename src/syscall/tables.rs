//! The generated per-ABI syscall tables (`arch-tables/*.rs`, see `arch-tables/MANIFEST.md`) and
//! libseccomp's name/number resolution over them.
//!
//! Everything that resolves a name is a `const fn`, so that `ScmpSyscall::new` (feature
//! `const-syscall`) resolves at compile time with the very code the runtime uses. Name lookups
//! hash the name into indexes the compiler builds ([`NameIndex`]); native numbers are
//! translated to other architectures by a table the compiler builds ([`native_to`]).

use crate::arch::{Mux, ScmpArch};

macro_rules! abi_tables {
    ($($module:ident => $file:literal,)*) => {
        $(
            mod $module {
                include!(concat!("../../arch-tables/", $file));
                /// [`BY_NAME`] hashed (built at compile time).
                pub(super) const NAME_INDEX: super::NameIndex = super::NameIndex::of(BY_NAME);
            }
        )*
    };
}

abi_tables! {
    x86 => "x86.rs",
    x86_64 => "x86_64.rs",
    x32 => "x32.rs",
    arm => "arm.rs",
    aarch64 => "aarch64.rs",
    loongarch64 => "loongarch64.rs",
    m68k => "m68k.rs",
    mips => "mips.rs",
    mips64 => "mips64.rs",
    mips64n32 => "mips64n32.rs",
    parisc => "parisc.rs",
    parisc64 => "parisc64.rs",
    ppc => "ppc.rs",
    ppc64 => "ppc64.rs",
    riscv64 => "riscv64.rs",
    s390 => "s390.rs",
    s390x => "s390x.rs",
    sh => "sh.rs",
    pnr => "pnr.rs",
}

/// The x32 ABI's syscall number bit (`__X32_SYSCALL_BIT`).
pub(crate) const X32_SYSCALL_BIT: i32 = 0x4000_0000;

/// How libseccomp turns a number given to `get_name_by_arch` into a table number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumMunge {
    /// Used as is.
    None,
    /// x32: a non-negative number gets the x32 bit (so `0` and `0x40000000` both name `read`).
    X32,
    /// MIPS: numbers below the ABI base (but not negative) are taken relative to it
    /// (so on o32 `3` and `4003` both name `read`).
    Base(i32),
}

/// One syscall ABI: its tables and libseccomp's resolution rules for it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Abi {
    /// Name of the generated table (`arch-tables/<table>.rs`).
    #[allow(dead_code)] // for tests and debugging
    pub table: &'static str,
    /// `(name, number)` sorted by name; numbers carry the ABI's offset.
    pub by_name: &'static [(&'static str, i32)],
    /// `by_name` hashed.
    pub name_index: &'static NameIndex,
    /// `(number, name)` sorted by number, then name.
    pub by_num: &'static [(i32, &'static str)],
    /// `socketcall(2)` / `ipc(2)` numbers where socket and IPC calls are multiplexed, so that
    /// libseccomp resolves their names to the pseudo numbers -101.. / -201.. (from the
    /// architecture descriptors).
    pub mux: Option<Mux>,
    pub num_munge: NumMunge,
}

macro_rules! abi {
    ($arch:expr, $module:ident, $munge:expr) => {
        Abi {
            table: stringify!($module),
            by_name: $module::BY_NAME,
            name_index: &$module::NAME_INDEX,
            by_num: $module::BY_NUM,
            mux: crate::arch::mux_of($arch),
            num_munge: $munge,
        }
    };
}

/// The ABI of a concrete architecture (`None` for `Native`).
pub(crate) const fn abi(arch: ScmpArch) -> Option<Abi> {
    use NumMunge as M;
    Some(match arch {
        ScmpArch::Native => return None,
        ScmpArch::X86 => abi!(arch, x86, M::None),
        ScmpArch::X8664 => abi!(arch, x86_64, M::None),
        ScmpArch::X32 => abi!(arch, x32, M::X32),
        ScmpArch::Arm => abi!(arch, arm, M::None),
        ScmpArch::Aarch64 => abi!(arch, aarch64, M::None),
        ScmpArch::Loongarch64 => abi!(arch, loongarch64, M::None),
        ScmpArch::M68k => abi!(arch, m68k, M::None),
        ScmpArch::Mips | ScmpArch::Mipsel => abi!(arch, mips, M::Base(4000)),
        ScmpArch::Mips64 | ScmpArch::Mipsel64 => abi!(arch, mips64, M::Base(5000)),
        ScmpArch::Mips64N32 | ScmpArch::Mipsel64N32 => abi!(arch, mips64n32, M::Base(6000)),
        ScmpArch::Parisc => abi!(arch, parisc, M::None),
        ScmpArch::Parisc64 => abi!(arch, parisc64, M::None),
        ScmpArch::Ppc => abi!(arch, ppc, M::None),
        ScmpArch::Ppc64 | ScmpArch::Ppc64Le => abi!(arch, ppc64, M::None),
        ScmpArch::Riscv64 => abi!(arch, riscv64, M::None),
        ScmpArch::S390 => abi!(arch, s390, M::None),
        ScmpArch::S390X => abi!(arch, s390x, M::None),
        ScmpArch::Sh | ScmpArch::Sheb => abi!(arch, sh, M::None),
    })
}

/// Pseudo numbers of the names that at least one ABI lacks, sorted by name.
pub(crate) const PNR_BY_NAME: &[(&str, i32)] = pnr::BY_NAME;
const PNR_INDEX: &NameIndex = &pnr::NAME_INDEX;
/// The same sorted by number, then name.
pub(crate) const PNR_BY_NUM: &[(i32, &str)] = pnr::BY_NUM;

/// The calls multiplexed by `socketcall(2)` (pseudo number `-100 - call`) and `ipc(2)`
/// (`-200 - call`), libseccomp's `__PNR_socket` ... `__PNR_shmctl`, sorted by name.
pub(crate) const MUX_FAMILY: &[(&str, i32)] = &[
    ("accept", -105),
    ("accept4", -118),
    ("bind", -102),
    ("connect", -103),
    ("getpeername", -107),
    ("getsockname", -106),
    ("getsockopt", -115),
    ("listen", -104),
    ("msgctl", -214),
    ("msgget", -213),
    ("msgrcv", -212),
    ("msgsnd", -211),
    ("recv", -110),
    ("recvfrom", -112),
    ("recvmmsg", -119),
    ("recvmsg", -117),
    ("semctl", -203),
    ("semget", -202),
    ("semop", -201),
    ("semtimedop", -204),
    ("send", -109),
    ("sendmmsg", -120),
    ("sendmsg", -116),
    ("sendto", -111),
    ("setsockopt", -114),
    ("shmat", -221),
    ("shmctl", -224),
    ("shmdt", -222),
    ("shmget", -223),
    ("shutdown", -113),
    ("socket", -101),
    ("socketpair", -108),
];
/// [`MUX_FAMILY`] hashed.
const MUX_INDEX: &NameIndex = &NameIndex::of(MUX_FAMILY);

/// Whether `nr` is in the socketcall pseudo range (-101..=-120).
pub(crate) const fn is_socket_pseudo(nr: i32) -> bool {
    -120 <= nr && nr <= -101
}

/// Whether `nr` is in the ipc pseudo range (-201..=-224).
pub(crate) const fn is_ipc_pseudo(nr: i32) -> bool {
    -224 <= nr && nr <= -201
}

/// Byte-wise comparison of two strings (`str`'s `Ord`), usable in const context.
#[cfg(test)]
const fn cmp_str(a: &str, b: &str) -> core::cmp::Ordering {
    use core::cmp::Ordering;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return if a[i] < b[i] {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        i += 1;
    }
    if a.len() < b.len() {
        Ordering::Less
    } else if a.len() > b.len() {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// Slots of a [`NameIndex`]: a power of two over twice the longest table (462 names).
const INDEX_SLOTS: usize = 1024;
/// An empty slot.
const NO_ENTRY: u16 = u16::MAX;

/// A name table hashed, open addressing with linear probing: a slot holds the position of
/// a name in the table or [`NO_ENTRY`]. Built by the compiler (const evaluation), so a
/// lookup hashes the name once and compares it with one or two names, where a binary
/// search takes nine probes whose direction the processor cannot predict.
pub(crate) struct NameIndex {
    slots: [u16; INDEX_SLOTS],
}

impl core::fmt::Debug for NameIndex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let used = self.slots.iter().filter(|&&e| e != NO_ENTRY).count();
        write!(f, "NameIndex({used} of {INDEX_SLOTS} slots)")
    }
}

/// FNV-1a over the name's bytes, folded to a slot.
pub(crate) const fn name_slot(name: &str) -> usize {
    let b = name.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < b.len() {
        h ^= b[i] as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    ((h ^ (h >> 32)) as usize) & (INDEX_SLOTS - 1)
}

/// Whether two strings are equal, usable in const context.
const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl NameIndex {
    /// The index of `table`, whose names are distinct.
    pub(crate) const fn of(table: &[(&str, i32)]) -> NameIndex {
        assert!(
            table.len() < INDEX_SLOTS / 2,
            "name table too long for its index"
        );
        let mut slots = [NO_ENTRY; INDEX_SLOTS];
        let mut i = 0;
        while i < table.len() {
            let mut s = name_slot(table[i].0);
            while slots[s] != NO_ENTRY {
                s = (s + 1) & (INDEX_SLOTS - 1);
            }
            slots[s] = i as u16;
            i += 1;
        }
        NameIndex { slots }
    }

    /// `name`'s number in `table` (the table this index was built of).
    pub(crate) const fn find(&self, table: &[(&str, i32)], name: &str) -> Option<i32> {
        self.find_at(table, name, name_slot(name))
    }

    /// [`NameIndex::find`] with `name`'s [`name_slot`] already computed.
    const fn find_at(&self, table: &[(&str, i32)], name: &str, slot: usize) -> Option<i32> {
        let mut s = slot;
        loop {
            let e = self.slots[s];
            if e == NO_ENTRY {
                return None;
            }
            let (n, nr) = table[e as usize];
            if str_eq(n, name) {
                return Some(nr);
            }
            s = (s + 1) & (INDEX_SLOTS - 1);
        }
    }
}

/// Binary search of a table sorted by name (the tests' reference for the hash indexes).
#[cfg(test)]
pub(crate) const fn find_name(table: &[(&str, i32)], name: &str) -> Option<i32> {
    use core::cmp::Ordering;
    let (mut lo, mut hi) = (0, table.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match cmp_str(table[mid].0, name) {
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
            Ordering::Equal => return Some(table[mid].1),
        }
    }
    None
}

/// Index of the first entry with number `nr` or above in a table sorted by number.
fn lower_bound(table: &[(i32, &'static str)], nr: i32) -> usize {
    table.partition_point(|&(n, _)| n < nr)
}

/// The names a table gives number `nr`, in name order.
fn names_of(table: &'static [(i32, &'static str)], nr: i32) -> impl Iterator<Item = &'static str> {
    table[lower_bound(table, nr)..]
        .iter()
        .take_while(move |&&(n, _)| n == nr)
        .map(|&(_, name)| name)
}

/// `seccomp_syscall_resolve_name_arch()`: see `super::resolve_name`.
pub(crate) const fn resolve_name(arch: ScmpArch, name: &str) -> Option<i32> {
    resolve_name_at(arch, name, name_slot(name))
}

/// [`resolve_name`] with `name`'s [`name_slot`] already computed (every index hashes a name
/// alike, so one name resolved on several architectures is hashed once).
pub(crate) const fn resolve_name_at(arch: ScmpArch, name: &str, slot: usize) -> Option<i32> {
    let Some(abi) = abi(arch) else {
        return None;
    };
    if abi.mux.is_some() {
        if let Some(pseudo) = MUX_INDEX.find_at(MUX_FAMILY, name, slot) {
            return Some(pseudo);
        }
    }
    if let Some(nr) = abi.name_index.find_at(abi.by_name, name, slot) {
        return Some(nr);
    }
    // Every name of the tables that some ABI lacks is in the pseudo table; a name not there
    // either is known to no ABI.
    PNR_INDEX.find_at(PNR_BY_NAME, name, slot)
}

/// `seccomp_syscall_resolve_name_rewrite()`: see `super::resolve_name_rewrite`.
pub(crate) const fn resolve_name_rewrite(arch: ScmpArch, name: &str) -> Option<i32> {
    let Some(nr) = resolve_name(arch, name) else {
        return None;
    };
    let Some(abi) = abi(arch) else {
        return None;
    };
    Some(match abi.mux {
        Some(m) if is_socket_pseudo(nr) => m.socketcall,
        Some(m) if is_ipc_pseudo(nr) => m.ipc,
        _ => nr,
    })
}

/// `seccomp_syscall_resolve_num_arch()`: see `super::resolve_num`.
pub(crate) fn resolve_num(arch: ScmpArch, nr: i32) -> Option<&'static str> {
    let abi = abi(arch)?;
    if abi.mux.is_some() && (is_socket_pseudo(nr) || is_ipc_pseudo(nr)) {
        if let Some(&(name, _)) = MUX_FAMILY.iter().find(|&&(_, p)| p == nr) {
            return Some(name);
        }
    }
    let key = match abi.num_munge {
        NumMunge::X32 if nr >= 0 => nr | X32_SYSCALL_BIT,
        NumMunge::Base(base) if (0..base).contains(&nr) => nr + base,
        _ => nr,
    };
    if let Some(name) = names_of(abi.by_num, key).next() {
        return Some(name);
    }
    if key >= 0 {
        return None;
    }
    // A pseudo number names the first syscall (in name order) with that number that this
    // ABI lacks; libseccomp gives two names -10191.
    names_of(PNR_BY_NUM, key).find(|name| abi.name_index.find(abi.by_name, name).is_none())
}

/// The native ABI's `BY_NUM` table (empty where the crate's target is not an architecture
/// libseccomp knows).
const NATIVE_BY_NUM: &[(i32, &str)] = match crate::arch::NATIVE {
    Some(native) => match abi(native) {
        Some(abi) => abi.by_num,
        None => &[],
    },
    None => &[],
};

/// The native numbers [`NATIVE_POSITIONS`] and [`NATIVE_TO`] cover ([`covered_range`] of
/// the native table); numbers past it are looked up in the tables.
const NATIVE_RANGE: (i32, usize) = covered_range(NATIVE_BY_NUM);

/// The numbers of a table sorted by number that tables by number cover: from its lowest
/// non-negative number to its highest less than [`NATIVE_SPAN`] above that, as (first, how
/// many).
const fn covered_range(t: &[(i32, &str)]) -> (i32, usize) {
    let mut i = 0;
    while i < t.len() && t[i].0 < 0 {
        i += 1;
    }
    if i == t.len() {
        return (0, 0);
    }
    let first = t[i].0;
    let mut last = first;
    while i < t.len() && t[i].0 - first < NATIVE_SPAN {
        last = t[i].0;
        i += 1;
    }
    (first, (last - first + 1) as usize)
}

/// How far past the native table's first number the covered range may reach: every ABI's
/// numbers lie within 600 of its first, but for ARM's private calls (`cacheflush` is
/// 0xf0002), which would stretch the tables to 983,047 numbers (2 MB of positions, 45 MB of
/// translations on 32-bit ARM).
const NATIVE_SPAN: i32 = 1024;

/// Where each native number of [`NATIVE_RANGE`] is in [`NATIVE_BY_NUM`] (`u16::MAX`: a
/// number without a syscall), built by the compiler: every rule added to a filter of several
/// architectures looks its native name up, and this is one read where a binary search took
/// nine unpredictable steps.
static NATIVE_POSITIONS: [u16; NATIVE_RANGE.1] = native_positions();

/// [`NATIVE_POSITIONS`]' contents (a function: a static's initializer cannot read another
/// static).
const fn native_positions() -> [u16; NATIVE_RANGE.1] {
    let mut out = [u16::MAX; NATIVE_RANGE.1];
    let t = NATIVE_BY_NUM;
    let mut i = t.len();
    // Backwards, so that of two names of one number the first (in name order) stays.
    while i > 0 {
        i -= 1;
        let k = t[i].0 - NATIVE_RANGE.0;
        if k >= 0 && (k as usize) < NATIVE_RANGE.1 {
            assert!(
                i < u16::MAX as usize,
                "native table too long for its positions"
            );
            out[k as usize] = i as u16;
        }
    }
    out
}

/// How many concrete architectures there are (rows of tables by architecture).
pub(crate) const ARCH_ROWS: usize = crate::arch::ARCH_TABLE.len();

/// The architecture of row `r` of tables by architecture ([`ScmpArch::index`]).
const fn row_arch(r: usize) -> ScmpArch {
    crate::arch::ARCH_TABLE[r].arch
}

/// Every architecture's `resolve_name_at` of `name` (row [`ScmpArch::index`]), for tables
/// the compiler builds.
const fn resolve_everywhere(name: &str) -> [Option<i32>; ARCH_ROWS] {
    let slot = name_slot(name);
    let mut out = [None; ARCH_ROWS];
    let mut r = 0;
    while r < ARCH_ROWS {
        out[r] = resolve_name_at(row_arch(r), name, slot);
        r += 1;
    }
    out
}

/// `resolve_name` of each of `names` on every architecture (row [`ScmpArch::index`]; `None`
/// where no ABI has the name), for tables the compiler builds. `N` is `names.len()`.
pub(crate) const fn resolve_on_every_arch<const N: usize>(
    names: &[&str],
) -> [[Option<i32>; N]; ARCH_ROWS] {
    assert!(names.len() == N, "N is the number of names");
    let mut out = [[None; N]; ARCH_ROWS];
    let mut k = 0;
    while k < N {
        let resolved = resolve_everywhere(names[k]);
        let mut r = 0;
        while r < ARCH_ROWS {
            out[r][k] = resolved[r];
            r += 1;
        }
        k += 1;
    }
    out
}

/// A [`NATIVE_TO`] cell without a number.
const NO_NR: i16 = i16::MIN;

/// `nr` as a [`NATIVE_TO`] cell of `arch` (x32 numbers without their bit; tables reach
/// 6,5xx (MIPS n32), pseudo numbers -10,3xx), or `None` where it does not fit (ARM's private
/// calls, 0xf0001..): those are translated by name.
const fn nr_cell(arch: ScmpArch, nr: i32) -> Option<i16> {
    let v = match arch {
        ScmpArch::X32 if nr >= 0 => nr & !X32_SYSCALL_BIT,
        _ => nr,
    };
    if v > NO_NR as i32 && v <= i16::MAX as i32 {
        Some(v as i16)
    } else {
        None
    }
}

/// The number a [`NATIVE_TO`] cell of `arch` holds.
const fn cell_nr(arch: ScmpArch, cell: i16) -> Option<i32> {
    match (arch, cell) {
        (_, NO_NR) => None,
        (ScmpArch::X32, c) if c >= 0 => Some(c as i32 | X32_SYSCALL_BIT),
        (_, c) => Some(c as i32),
    }
}

/// Each native number's syscall resolved by name on every architecture (`resolve_name_at`
/// of its [`native_name`]), built by the compiler: row [`ScmpArch::index`], column
/// `nr - NATIVE_RANGE.0`. A rule added to a filter of several architectures is translated to
/// each by one read here; by name it took hashing the name and three dependent reads (hash
/// slot, table entry, name bytes) an architecture, a twelfth of the time to build Docker's
/// profile for x86_64, x86 and x32. (23 x 2 bytes a native number: 21 KiB on x86_64.)
#[allow(long_running_const_eval)]
static NATIVE_TO: [[i16; NATIVE_RANGE.1]; ARCH_ROWS] = {
    let positions = native_positions();
    let mut out = [[NO_NR; NATIVE_RANGE.1]; ARCH_ROWS];
    let mut k = 0;
    while k < NATIVE_RANGE.1 {
        if positions[k] != u16::MAX {
            let resolved = resolve_everywhere(NATIVE_BY_NUM[positions[k] as usize].1);
            let mut r = 0;
            while r < ARCH_ROWS {
                let arch = row_arch(r);
                if let Some(nr) = resolved[r] {
                    if let Some(cell) = nr_cell(arch, nr) {
                        assert!(
                            matches!(cell_nr(arch, cell), Some(back) if back == nr),
                            "a translation cell does not give its number back"
                        );
                        out[r][k] = cell;
                    }
                }
                r += 1;
            }
        }
        k += 1;
    }
    out
};

/// The number of native syscall `nr`'s name on `arch`, where [`NATIVE_TO`] covers `nr` and the
/// name resolves there (`None`: resolve by name, for the number or the error).
pub(crate) fn native_to(arch: ScmpArch, nr: i32) -> Option<i32> {
    let k = usize::try_from(nr.checked_sub(NATIVE_RANGE.0)?).ok()?;
    let cell = *NATIVE_TO.get(arch.index()?)?.get(k)?;
    cell_nr(arch, cell)
}

/// `resolve_num(NATIVE, nr)`, by [`NATIVE_POSITIONS`] where it covers `nr`.
pub(crate) fn native_name(nr: i32) -> Option<&'static str> {
    let native = crate::arch::NATIVE?;
    let covered = nr
        .checked_sub(NATIVE_RANGE.0)
        .and_then(|k| usize::try_from(k).ok())
        .and_then(|k| NATIVE_POSITIONS.get(k));
    match covered {
        Some(&u16::MAX) => None,
        Some(&at) => Some(NATIVE_BY_NUM[usize::from(at)].1),
        None => resolve_num(native, nr),
    }
}

/// The kernel's number for `name` on `arch`, with the ABI's offset: see `super::direct_num`.
#[allow(dead_code)] // the rule database's (src/db) entry point
pub(crate) const fn direct_num(arch: ScmpArch, name: &str) -> Option<i32> {
    match abi(arch) {
        Some(abi) => abi.name_index.find(abi.by_name, name),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_abis() -> impl Iterator<Item = (ScmpArch, Abi)> {
        ScmpArch::all().map(|a| (a, abi(a).unwrap()))
    }

    type Tables = (&'static str, ByName, ByNum);
    type ByName = &'static [(&'static str, i32)];
    type ByNum = &'static [(i32, &'static str)];

    /// The native number index agrees with resolving numbers the general way, in its range
    /// and around it.
    #[test]
    fn native_names_are_the_resolved_ones() {
        let Some(native) = crate::arch::NATIVE else {
            return;
        };
        let (first, count) = NATIVE_RANGE;
        assert!(count > 300, "{count} native numbers covered");
        // Every ABI's range is its own numbers, ARM's without its private calls (0xf0001..).
        for (arch, t) in all_abis() {
            let (first, n) = covered_range(t.by_num);
            assert!((300..600).contains(&n), "{arch}: {n} numbers from {first}");
        }
        assert_eq!(
            abi(ScmpArch::Arm).map(|t| covered_range(t.by_num).0),
            Some(0)
        );
        let mut named = 0;
        for nr in (first - 300..first + count as i32 + 3).chain([-1, -101, -10001, i32::MIN]) {
            assert_eq!(native_name(nr), resolve_num(native, nr), "{nr}");
            named += usize::from(native_name(nr).is_some());
        }
        assert!(named > 300, "{named} names");
    }

    /// The translation table gives what resolving the native name gives, on every
    /// architecture, for every native number it covers (x32's bit, MIPS bases and pseudo
    /// numbers included), and leaves the rest to the name.
    #[test]
    fn native_translations_are_the_resolved_ones() {
        if crate::arch::NATIVE.is_none() {
            return;
        }
        let (first, count) = NATIVE_RANGE;
        for arch in ScmpArch::all() {
            assert_eq!(arch.index().map(row_arch), Some(arch), "{arch}'s row");
        }
        let (mut translated, mut pseudo) = (0, 0);
        for arch in ScmpArch::all() {
            for nr in (first - 300..first + count as i32 + 3).chain([-1, -101, -10001, i32::MIN]) {
                let by_name = native_name(nr).and_then(|n| resolve_name(arch, n));
                let covered = nr >= first && nr < first + count as i32;
                // (Numbers that do not fit a cell are left to the name.)
                let fits = by_name.is_some_and(|n| nr_cell(arch, n).is_some());
                let want = if covered && fits { by_name } else { None };
                assert_eq!(native_to(arch, nr), want, "{arch} {nr}");
                translated += usize::from(want.is_some());
                pseudo += usize::from(matches!(want, Some(n) if n <= -10000));
            }
        }
        assert!(translated > 20 * 300, "{translated} translations");
        // (67 from aarch64, whose table is the smallest, 1000-odd from x86_64.)
        assert!(pseudo > 50, "{pseudo} names some architecture lacks");
        assert_eq!(native_to(ScmpArch::Native, first), None);
        // The cells that hold a number apart: x32's bit, a MIPS base.
        let read = resolve_name(crate::arch::NATIVE.unwrap(), "read").unwrap();
        assert_eq!(native_to(ScmpArch::X32, read), Some(X32_SYSCALL_BIT));
        assert_eq!(native_to(ScmpArch::Mips64N32, read), Some(6000));
    }

    #[test]
    fn tables_are_sorted_and_consistent() {
        let mut tables: Vec<Tables> = all_abis()
            .map(|(_, t)| (t.table, t.by_name, t.by_num))
            .collect();
        tables.push(("pnr", PNR_BY_NAME, PNR_BY_NUM));
        tables.push(("family", MUX_FAMILY, &[]));
        for (table, by_name, by_num) in tables {
            assert!(
                by_name.windows(2).all(|w| w[0].0 < w[1].0),
                "{table}: BY_NAME not strictly sorted"
            );
            assert!(by_num.windows(2).all(|w| w[0] < w[1]), "{table}: BY_NUM");
            if table != "family" {
                let mut a: Vec<(i32, &str)> = by_name.iter().map(|&(n, v)| (v, n)).collect();
                a.sort();
                assert_eq!(a, by_num, "{table}: BY_NUM is not BY_NAME re-sorted");
            }
        }
    }

    #[test]
    fn no_number_is_shared_within_an_abi() {
        for (arch, t) in all_abis() {
            for w in t.by_num.windows(2) {
                assert_ne!(w[0].0, w[1].0, "{arch}: {:?} and {:?}", w[0], w[1]);
            }
        }
    }

    #[test]
    fn pnr_covers_exactly_the_names_some_abi_lacks() {
        let names: std::collections::BTreeSet<&str> = all_abis()
            .flat_map(|(_, t)| t.by_name.iter().map(|e| e.0))
            .collect();
        for name in &names {
            let lacking = all_abis().any(|(_, t)| find_name(t.by_name, name).is_none());
            assert_eq!(
                find_name(PNR_BY_NAME, name).is_some(),
                lacking,
                "{name}: pseudo number present iff some ABI lacks it"
            );
        }
        for &(name, nr) in PNR_BY_NAME {
            assert!(names.contains(name), "{name} is in no table");
            assert!(
                is_socket_pseudo(nr) || is_ipc_pseudo(nr) || nr <= -10001,
                "{name} {nr}"
            );
        }
        for &(name, nr) in MUX_FAMILY {
            if let Some(p) = find_name(PNR_BY_NAME, name) {
                assert_eq!(p, nr, "{name}: family pseudo number and __PNR_ agree");
            }
        }
    }

    #[test]
    fn mux_flags_match_arch_descriptors() {
        for (arch, t) in all_abis() {
            // The descriptors' multiplexer numbers are the kernel tables' own.
            if let Some(m) = t.mux {
                assert_eq!(
                    find_name(t.by_name, "socketcall"),
                    Some(m.socketcall),
                    "{arch}"
                );
                assert_eq!(find_name(t.by_name, "ipc"), Some(m.ipc), "{arch}");
            }
        }
    }

    #[test]
    fn offsets_are_applied() {
        for (arch, t) in all_abis() {
            let (lo, hi) = match t.table {
                "x32" => (X32_SYSCALL_BIT, X32_SYSCALL_BIT + 1024),
                "mips" => (4000, 5000),
                "mips64" => (5000, 6000),
                "mips64n32" => (6000, 7000),
                "arm" => (0, 0x0f_0007),
                _ => (0, 1024),
            };
            for &(name, nr) in t.by_name {
                assert!((lo..hi).contains(&nr), "{arch}: {name} = {nr}");
            }
        }
    }

    #[test]
    fn cmp_str_is_str_ord() {
        let words = [
            "", "a", "ab", "b", "_llseek", "accept", "accept4", "z", "\u{e9}",
        ];
        for a in words {
            for b in words {
                assert_eq!(cmp_str(a, b), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn name_indexes_find_every_name_and_no_other() {
        let mut tables: Vec<(&[(&str, i32)], &NameIndex)> =
            vec![(PNR_BY_NAME, PNR_INDEX), (MUX_FAMILY, MUX_INDEX)];
        tables.extend(all_abis().map(|(_, t)| (t.by_name, t.name_index)));
        for (table, index) in tables {
            for &(name, nr) in table {
                assert_eq!(index.find(table, name), Some(nr), "{name}");
                assert_eq!(index.find(table, &format!("{name}_")), None, "{name}_");
            }
            assert_eq!(index.find(table, ""), None);
        }
    }
}
