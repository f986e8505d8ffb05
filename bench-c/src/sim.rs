//! Instructions executed: both programs simulated on the same `seccomp_data` queries, with a
//! cross-check of their verdicts.

use pure_seccomp::bpf::{self, Instruction, SeccompData};
use pure_seccomp::policy::Recipe;
use pure_seccomp::{Endian, ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpSyscall};

/// `AUDIT_ARCH_*` of an architecture (`seccomp_data.arch`).
pub fn audit(arch: ScmpArch) -> u32 {
    const LE: u32 = 0x4000_0000;
    const B64: u32 = 0x8000_0000;
    match arch {
        ScmpArch::X8664 | ScmpArch::X32 => B64 | LE | 62,
        ScmpArch::X86 => LE | 3,
        ScmpArch::Arm => LE | 40,
        ScmpArch::Aarch64 => B64 | LE | 183,
        ScmpArch::Loongarch64 => B64 | LE | 258,
        ScmpArch::M68k => 4,
        ScmpArch::Mips => 8,
        ScmpArch::Mipsel => LE | 8,
        ScmpArch::Mips64 => B64 | 8,
        ScmpArch::Mips64N32 => B64 | 0x2000_0000 | 8,
        ScmpArch::Mipsel64 => B64 | LE | 8,
        ScmpArch::Mipsel64N32 => B64 | LE | 0x2000_0000 | 8,
        ScmpArch::Ppc => 20,
        ScmpArch::Ppc64 => B64 | 21,
        ScmpArch::Ppc64Le => B64 | LE | 21,
        ScmpArch::S390 => 22,
        ScmpArch::S390X => B64 | 22,
        ScmpArch::Parisc => 15,
        ScmpArch::Parisc64 => B64 | 15,
        ScmpArch::Riscv64 => B64 | LE | 243,
        ScmpArch::Sh => LE | 42,
        ScmpArch::Sheb => 42,
        _ => 0xdead_beef,
    }
}

/// Whether the ABI passes 64-bit arguments (else they arrive zero-extended from 32 bits).
pub fn arg64(arch: ScmpArch) -> bool {
    audit(arch) & 0x8000_0000 != 0
        && arch != ScmpArch::X32
        && arch != ScmpArch::Mips64N32
        && arch != ScmpArch::Mipsel64N32
}

/// The first syscall number of an ABI.
pub fn base(arch: ScmpArch) -> i32 {
    match arch {
        ScmpArch::X32 => 0x4000_0000,
        ScmpArch::Mips | ScmpArch::Mipsel => 4000,
        ScmpArch::Mips64 | ScmpArch::Mipsel64 => 5000,
        ScmpArch::Mips64N32 | ScmpArch::Mipsel64N32 => 6000,
        _ => 0,
    }
}

/// Every syscall of an ABI: name and number.
pub fn syscalls(arch: ScmpArch) -> Vec<(String, i32)> {
    let b = base(arch);
    (b..b + 1100)
        .filter_map(|nr| {
            ScmpSyscall::from(nr)
                .get_name_by_arch(arch)
                .ok()
                .map(|n| (n, nr))
        })
        .collect()
}

/// The number of `name` on `arch`, if the ABI has it.
pub fn nr(name: &str, arch: ScmpArch) -> Option<i32> {
    ScmpSyscall::from_name_by_arch(name, arch)
        .ok()
        .map(|s| s.as_raw_syscall())
        .filter(|&n| n >= 0)
}

/// The hot mix: frequent syscalls of a busy server or VMM, with typical arguments.
pub const HOT: &[(&str, [u64; 6])] = &[
    ("read", [3, 0x1000, 4096, 0, 0, 0]),
    ("write", [1, 0x1000, 64, 0, 0, 0]),
    ("futex", [0x1000, 129, 1, 0, 0, 0]),
    ("futex", [0x1000, 128, 0, 0, 0, 0]),
    ("epoll_wait", [4, 0x1000, 64, 0, 0, 0]),
    ("epoll_pwait", [4, 0x1000, 64, u64::MAX, 0, 8]),
    ("recvfrom", [5, 0x1000, 4096, 0x40, 0, 0]),
    ("sendto", [5, 0x1000, 100, 0x4000, 0, 0]),
    ("mmap", [0, 4096, 3, 0x22, u64::MAX, 0]),
    ("munmap", [0x1000, 4096, 0, 0, 0, 0]),
    ("close", [5, 0, 0, 0, 0, 0]),
    ("openat", [0xffff_ff9c, 0x1000, 0x80000, 0, 0, 0]),
    ("fstat", [3, 0x1000, 0, 0, 0, 0]),
    ("newfstatat", [3, 0x1000, 0x1000, 0x1000, 0, 0]),
    ("ppoll", [0x1000, 2, 0x1000, 0, 8, 0]),
    ("clock_gettime", [1, 0x1000, 0, 0, 0, 0]),
    ("rt_sigprocmask", [0, 0x1000, 0x1000, 8, 0, 0]),
    ("writev", [5, 0x1000, 2, 0, 0, 0]),
    ("lseek", [3, 0, 1, 0, 0, 0]),
    ("madvise", [0x1000, 4096, 4, 0, 0, 0]),
    ("getpid", [0; 6]),
    ("sched_yield", [0; 6]),
    ("nanosleep", [0x1000, 0, 0, 0, 0, 0]),
    ("ioctl", [3, 0x5421, 0x1000, 0, 0, 0]),
];

/// A set of queries (on every ABI of a filter).
#[derive(Default)]
pub struct Queries {
    pub allowed: Vec<SeccompData>,
    pub arg_checked: Vec<SeccompData>,
    pub denied: Vec<SeccompData>,
    pub hot: Vec<SeccompData>,
}

impl Queries {
    /// The query groups, named.
    pub fn groups(&self) -> [(&'static str, &[SeccompData]); 4] {
        [
            ("allowed", &self.allowed),
            ("arg-checked", &self.arg_checked),
            ("denied", &self.denied),
            ("hot mix", &self.hot),
        ]
    }

    /// Only the queries of one `seccomp_data.arch` value and syscall number range (x86_64
    /// without x32).
    pub fn only(&self, arch: ScmpArch) -> Queries {
        let keep = |v: &[SeccompData]| -> Vec<SeccompData> {
            v.iter()
                .filter(|d| d.arch == audit(arch) && d.nr < 0x4000_0000)
                .copied()
                .collect()
        };
        Queries {
            allowed: keep(&self.allowed),
            arg_checked: keep(&self.arg_checked),
            denied: keep(&self.denied),
            hot: keep(&self.hot),
        }
    }
}

/// Arguments that satisfy all `conditions`, if there are such (within 32 bits on a 32-bit
/// ABI).
pub fn satisfying(conditions: &[ScmpArgCompare], wide: bool) -> Option<[u64; 6]> {
    let mut args = [0u64; 6];
    for c in conditions {
        let d = c.datum();
        let v = match c.op() {
            ScmpCompareOp::Equal | ScmpCompareOp::LessOrEqual | ScmpCompareOp::GreaterEqual => d,
            ScmpCompareOp::NotEqual => d.wrapping_add(1),
            ScmpCompareOp::Less => d.checked_sub(1)?,
            ScmpCompareOp::Greater => d.checked_add(1)?,
            ScmpCompareOp::MaskedEqual(m) => {
                if d & !m != 0 {
                    return None;
                }
                d
            }
            _ => return None,
        };
        if !wide && v > u64::from(u32::MAX) {
            return None;
        }
        *args.get_mut(c.arg() as usize)? = v;
    }
    Some(args)
}

/// The queries of a recipe's filter.
pub fn queries(recipe: &Recipe) -> Queries {
    let mut q = Queries::default();
    for &arch in &recipe.arches {
        let wide = arg64(arch);
        let data = |nr: i32, args: [u64; 6]| SeccompData {
            nr,
            arch: audit(arch),
            instruction_pointer: 0x7f00_1234_5678,
            args: if wide {
                args
            } else {
                args.map(|a| a & 0xffff_ffff)
            },
        };
        let mut ruled = Vec::new();
        for rule in &recipe.rules {
            let Some(n) = nr(&rule.syscall, arch) else {
                continue;
            };
            ruled.push(n);
            if rule.action != ScmpAction::Allow {
                continue;
            }
            if rule.conditions.is_empty() {
                q.allowed.push(data(n, [0; 6]));
            } else if let Some(args) = satisfying(&rule.conditions, wide) {
                q.arg_checked.push(data(n, args));
            }
        }
        for (_, n) in syscalls(arch) {
            if !ruled.contains(&n) {
                q.denied.push(data(n, [0; 6]));
            }
        }
        for (name, args) in HOT {
            if let Some(n) = nr(name, arch) {
                q.hot.push(data(n, *args));
            }
        }
    }
    q
}

/// Instructions executed: mean and max.
#[derive(Clone, Copy, Debug)]
pub struct Stat {
    pub mean: f64,
    pub max: usize,
}

/// A verdict the two programs disagree on.
pub struct Disagreement {
    pub data: SeccompData,
    pub ours: u32,
    pub theirs: u32,
}

impl Disagreement {
    /// libseccomp 2.5.4's RET copies in big-endian programs made on a little-endian host have
    /// their value byte-swapped (see the conformance corpus' README).
    pub fn is_cross_endian_copy(&self) -> bool {
        self.theirs == self.ours.swap_bytes()
    }
}

/// Runs both programs on `queries`: (ours, theirs) stats, the disagreements, and, with `each`,
/// each query's instructions executed by both (appended to it).
pub fn run(
    ours: &[Instruction],
    theirs: &[Instruction],
    endian: Endian,
    queries: &[SeccompData],
    disagreements: &mut Vec<Disagreement>,
    mut each: Option<&mut Vec<(SeccompData, usize, usize)>>,
) -> Option<(Stat, Stat)> {
    if queries.is_empty() {
        return None;
    }
    let (mut so, mut st) = ((0usize, 0usize), (0usize, 0usize));
    for d in queries {
        let (Ok(a), Ok(b)) = (
            bpf::simulate(ours, d, endian),
            bpf::simulate(theirs, d, endian),
        ) else {
            continue;
        };
        if let Some(each) = each.as_deref_mut() {
            each.push((*d, a.executed, b.executed));
        }
        so = (so.0 + a.executed, so.1.max(a.executed));
        st = (st.0 + b.executed, st.1.max(b.executed));
        if a.ret != b.ret {
            disagreements.push(Disagreement {
                data: *d,
                ours: a.ret,
                theirs: b.ret,
            });
        }
    }
    let n = queries.len() as f64;
    Some((
        Stat {
            mean: so.0 as f64 / n,
            max: so.1,
        },
        Stat {
            mean: st.0 as f64 / n,
            max: st.1,
        },
    ))
}
