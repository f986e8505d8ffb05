//! How often each syscall number is expected, for weighting the dispatch trees (both levels).
//!
//! Four things raise a number's weight: a built-in table of syscalls that busy programs make
//! most (I/O, polling, futexes, memory mapping, time), the priority given with
//! `set_syscall_priority`, being a syscall of the filter's native ABI rather than x32, and
//! having argument checks (the more rules, the more): calls that the kernel's action cache
//! cannot skip, and that run the checks after the dispatch.
//! Numbers without a rule weigh little: a syscall that a filter denies by default is one a
//! well-behaved program rarely makes.

use crate::arch::ScmpArch;
use crate::syscall::{resolve_on_every_arch, ARCH_ROWS};

/// Syscalls that dominate the syscall mix of servers, runtimes and interactive programs.
pub(crate) const HOT: &[&str] = &[
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "recvfrom",
    "sendto",
    "recvmsg",
    "sendmsg",
    "futex",
    "epoll_wait",
    "epoll_pwait",
    "epoll_ctl",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "mmap",
    "mmap2",
    "munmap",
    "mprotect",
    "madvise",
    "brk",
    "close",
    "openat",
    "fstat",
    "newfstatat",
    "statx",
    "lseek",
    "clock_gettime",
    "clock_gettime64",
    "gettimeofday",
    "nanosleep",
    "clock_nanosleep",
    "getpid",
    "gettid",
    "sched_yield",
    "rt_sigprocmask",
    "rt_sigreturn",
    "ioctl",
    "fcntl",
    "accept4",
    "getrandom",
];

/// Extra factor for a hot syscall.
pub(crate) const HOT_FACTOR: f64 = 4.0;
/// Factor for an x32 number in a section shared with x86_64: x32 programs are rare (most
/// distributions' kernels do not even enable the ABI), but not so rare that they should pay
/// for it with deep paths: on Docker's profile, 0.25 rather than 0.05 took the mean over all
/// three ABIs' allowed calls from 11.7 to 10.8 instructions, and x86_64's alone from 8.9 to
/// 9.2 (at most 11 either way).
pub(crate) const X32_FACTOR: f64 = 0.25;
/// Factor for a syscall whose calls the kernel's action cache cannot skip, in a section whose
/// other syscalls it can: since Linux 5.11 the kernel runs the filter once per syscall
/// number when it is attached and then lets every number the filter always allows through
/// without running it (see [`bpf::cacheable`](crate::bpf::cacheable)), so what the filter
/// costs a program on such a kernel is its argument-checked calls, every time, and its
/// unconditionally allowed ones not at all. The factor is that of a kernel without the cache
/// (older than 5.11) one time in four. On Docker's x86_64 profile it took the mean over the
/// argument-checked calls of its three ABIs from 0.705x libseccomp's to 0.697x, and over all
/// the container, Firecracker and crosvm filters 7 % off the argument-checked means for
/// 2.5 % on the allowed ones (which count every call as running the filter).
pub(crate) const UNCACHED_FACTOR: f64 = 4.0;
/// Factor for an argument-checked syscall in a section where [`UNCACHED_FACTOR`] does not
/// apply: the kernel never skips the filter there (MIPS kernels have no action cache; or no
/// syscall of the section is allowed unconditionally), so every call runs it, and the
/// argument-checked calls, which go on to their checks after the dispatch, are the longest.
/// Found sooner, they even out the paths. Measured on the shared policies when it came
/// (before [`graph_factor`]): on Docker's and Podman's MIPS filters the mean over their
/// argument-checked calls went from 0.72x and 0.77x libseccomp's to 0.63x and 0.67x and the
/// longest from 19 and 18 instructions to 16 or fewer, for +0.01 to +0.03 on the mean over
/// all allowed calls (its maximum unchanged); 4 left Podman's at 0.71x, 32 took Docker's
/// allowed mean over 0.7x; and 16 in the sections that the cache weights already favour
/// (their argument-checked syscalls at 16 instead of 4) raised that mean by up to 8 % on
/// Firecracker's filters, half of whose syscalls are argument-checked.
pub(crate) const CHECKED_FACTOR: f64 = 16.0;

/// The factor for an argument-checked syscall whose argument graph has `nodes` nodes: 1 below
/// 8 (a flag test, a few comparisons: one way of making the call), then the node count
/// rounded up to a power of two, over 4 (2 for 8 nodes, 4 for 9 to 16, 8 for 17 to 32). A
/// large graph is a list of values (Firecracker's and crosvm's `ioctl` commands, `KVM_RUN`
/// among them, `prctl` options), each a way a program makes the call that the kernel cannot
/// cache, and the argument-checked mean counts each rule's calls once. Measured on the shared
/// policies (`bench-c --only executed --quick`): argument-checked rows at 0.7x 39 to 50 of 69
/// (11 more crosvm policies, none fewer), those means summed 2.6 % lower; the allowed means
/// 0.8 % higher (Firecracker's aarch64 `vmm` 0.93x to 1.00x, no row newly over 0.7x), hot
/// mixes 0.3 %, 33 instructions over all programs; the container and systemd programs,
/// whose graphs are smaller, unchanged. From 5 nodes up it met 48 rows, but took Docker's
/// x86_64 maximum over its allowed calls from 11 to 12 (the depth rounds of `intervals` no
/// longer settle in three; a fourth costs its build 4 %); from 9 nodes up, 46; over 8 instead
/// of 4, 41; over 2, the allowed rows at 0.7x went from 16 to 10.
pub(crate) fn graph_factor(nodes: u32) -> f64 {
    if nodes < 8 {
        return 1.0;
    }
    // (In 64 bits: the database keeps libseccomp's node count, which wraps to near 2^32
    // when a rule frees more nodes than were counted, and then has no power of two in 32.)
    u64::from(nodes).next_power_of_two() as f64 / 4.0
}

/// The factor for a syscall's calls: [`UNCACHED_FACTOR`] where the section's cache weights
/// apply and the kernel cannot skip them (`uncached`), else [`CHECKED_FACTOR`] for an
/// argument-checked syscall (`graph`: its argument graph's node count), else 1; an
/// argument-checked syscall's times its [`graph_factor`].
pub(crate) fn calls_factor(uncached: bool, graph: Option<u32>) -> f64 {
    let calls = match (uncached, graph) {
        (true, _) => UNCACHED_FACTOR,
        (false, Some(_)) => CHECKED_FACTOR,
        (false, None) => 1.0,
    };
    calls * graph.map_or(1.0, graph_factor)
}

/// Weight of a range of numbers without a rule (the default action): 1/32.
///
/// Every weight is a sum of products of these factors, all with short binary fractions, so
/// sums of weights are exact: the dispatch search (`intervals`) gets the same costs whatever
/// order it adds them in, and when it raises a few ranges' weights it plans again only the
/// sub-runs that hold them. (0.05, before, made the sums round differently after a raise,
/// and broke ties between equally cheap trees by rounding noise.)
pub(crate) const UNRULED: f64 = 0.03125;

/// The numbers of the hot syscalls on `arch` (only those the ABI has its own number for),
/// ascending, each once.
pub(crate) fn hot_numbers(arch: ScmpArch) -> &'static [u32] {
    let Some(row) = arch.index() else {
        return &[];
    };
    let (nrs, len) = &HOT_NUMBERS[row];
    &nrs[..*len]
}

/// [`hot_numbers`] of every architecture (row [`ScmpArch::index`]), built by the compiler:
/// each section of a level-2 build resolved the names, sorted and deduplicated them (2 % of
/// the time to build Docker's profile).
static HOT_NUMBERS: [([u32; HOT.len()], usize); ARCH_ROWS] = {
    let resolved = resolve_on_every_arch::<{ HOT.len() }>(HOT);
    let mut out = [([u32::MAX; HOT.len()], 0); ARCH_ROWS];
    let mut r = 0;
    while r < ARCH_ROWS {
        // (Indexed, not borrowed: no mutable references in statics before Rust 1.83.)
        let mut k = 0;
        while k < HOT.len() {
            if let Some(nr) = resolved[r][k] {
                if nr >= 0 {
                    // Insertion into the ascending prefix, unless there already.
                    let (nr, len) = (nr as u32, out[r].1);
                    let mut at = len;
                    while at > 0 && out[r].0[at - 1] > nr {
                        at -= 1;
                    }
                    if at == 0 || out[r].0[at - 1] != nr {
                        let mut j = len;
                        while j > at {
                            out[r].0[j] = out[r].0[j - 1];
                            j -= 1;
                        }
                        out[r].0[at] = nr;
                        out[r].1 = len + 1;
                    }
                }
            }
            k += 1;
        }
        r += 1;
    }
    out
};

/// The factor for a user priority (0 to 255): up to 9x for the highest.
pub(crate) fn priority_factor(user_priority: u32) -> f64 {
    1.0 + f64::from(user_priority.min(255)) / 32.0
}

/// How the dispatch tree is priced: one more test in the program costs little (the tree is
/// small), and a whole section (a few hundred ranges) is searched exactly.
pub(crate) const COST: crate::opt::intervals::Cost = crate::opt::intervals::Cost {
    size: 0.1,
    exact: 320,
};

/// How the trees of the other ABIs' sections (x32 within x86_64's, x86 beside x86_64, arm
/// beside aarch64, ...) are priced: their calls are rare, so runs longer than 32 ranges are
/// split where the weight balances first. On the container profiles this moves the mean
/// over all ABIs' allowed calls by 0.1 instruction at most, their argument-checked calls
/// by -0.1 to -1.0, and takes a fifth of the work off Docker's build (the exact search is
/// quadratic: 121 and 97 ranges for its x32 and x86 sections).
pub(crate) const SECONDARY_COST: crate::opt::intervals::Cost = crate::opt::intervals::Cost {
    size: 0.1,
    exact: 32,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscall::resolve_name;

    /// The compiler's table gives, on every architecture, the hot names resolved, the
    /// negative (pseudo) numbers left out, ascending and each once.
    #[test]
    fn hot_numbers_are_the_resolved_names() {
        for arch in ScmpArch::all() {
            let mut want: Vec<u32> = HOT
                .iter()
                .filter_map(|n| resolve_name(arch, n))
                .filter(|&nr| nr >= 0)
                .map(|nr| nr as u32)
                .collect();
            want.sort_unstable();
            want.dedup();
            assert_eq!(hot_numbers(arch), want, "{arch}");
            assert!(want.len() > 20, "{arch}: {} hot numbers", want.len());
        }
        assert!(hot_numbers(ScmpArch::Native).is_empty());
    }

    /// The graph factor: 1 for small graphs, then a quarter of the node count rounded up to
    /// a power of two (powers of two, so that sums of weights stay exact), for any count.
    #[test]
    fn graph_factor_grows_with_the_graph() {
        for (nodes, f) in [
            (0, 1.0),
            (1, 1.0),
            (7, 1.0),
            (8, 2.0),
            (9, 4.0),
            (16, 4.0),
            (22, 8.0),
            (33, 16.0),
            // A wrapped count (the policy fuzz target's `clone` rules that panicked here).
            ((1 << 31) + 1, f64::from(1u32 << 30)),
            (u32::MAX, f64::from(1u32 << 30)),
        ] {
            assert_eq!(graph_factor(nodes), f, "{nodes} nodes");
        }
    }

    /// The kernels whose action cache covers calls of an ABI: all but x32 and MIPS.
    #[test]
    fn kernel_caches_all_but_x32_and_mips() {
        use crate::bpf::kernel_caches;
        for arch in ScmpArch::all() {
            let mips = format!("{arch:?}").starts_with("Mips");
            assert_eq!(
                kernel_caches(arch),
                !mips && arch != ScmpArch::X32,
                "{arch:?}"
            );
        }
        assert!(kernel_caches(ScmpArch::X86) && kernel_caches(ScmpArch::Aarch64));
    }
}
