//! Records new conformance cases from the C libseccomp: random filters in the shapes the
//! optimizer rewrites, built by libseccomp 2.5.4 through the libseccomp crate 0.4.0, with the
//! outcome of every call and the verdict of its program on a battery of queries, one JSON
//! object a line in the schema of the shared conformance corpus
//! (`../shared/conformance/README.md`). `tests/conformance.rs` replays such a file through
//! pure-seccomp (`CONFORMANCE_EXTRA=FILE`), with the corpus' own checks and classifications.
//!
//! ```text
//! cargo run --release -p bench-c --bin record -- [--seed N] [--cases N] [--out FILE]
//!     [--only I] [--shape S] [--all-queries] [--alarm SECS]
//! ```
//!
//! `--cases N` random filters from `--seed` (each a case at levels 1 and 2; default 100 from
//! seed 1), written to `--out` (default: standard output). For looking into one case:
//! `--only I` records filter `I` alone, `--shape S` only the filters of one shape among the
//! `--cases` (`pile`, `dispatch`, `ranges`, `mixed`, `meet`: below), `--all-queries` keeps
//! every query of the battery (not at most 1,000), and `RECORD_PROGRAMS=DIR` also writes each
//! of libseccomp's programs there (`pure-seccomp disasm DIR/ID.bpf --arch ARCH` shows one).
//!
//! The shared corpus' random filters have 1 to 40 rules with edge constants; these cases pile
//! up to 300 values on one argument (runs of adjacent values, 64-bit values, every submask of
//! a mask, masked comparisons), spread up to 300 syscalls over several actions and
//! priorities, mix 64-bit range comparisons on several arguments, and make rules meet (few
//! values, several actions, socket/ipc calls, architecture changes, resets and merges,
//! `tests/modes.rs`'s shape): the shapes of the
//! argument trees, `submasks`, `jset`, `sink`, `prune` and the dispatch trees, at both
//! optimize levels (each filter is a case at level 1 and one at level 2), on little- and
//! big-endian architecture sets. libseccomp 2.5.4 byte-swaps the far `RET` copies of a
//! big-endian program made on a little-endian host (the corpus README's quirks): as the
//! shared corpus does, the recorder restores them and notes how many (`restored_rets`).
//!
//! Each case is built in a forked child with a 5-second alarm (`--alarm`): libseccomp never
//! returns from some rule sequences (README, difference 4) and crashes on others (difference
//! 2); such a case is left out, and pure-seccomp builds the same calls, also in a child with
//! the alarm: the recorder fails if it does not finish, and if a recording fails otherwise
//! (its own bug, not libseccomp's).

use bench_c::{replay, sim};
use libseccomp as c;
use pure_seccomp::bpf::{self, SeccompData};
use pure_seccomp::{
    Endian, ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterAttr, ScmpFilterContext,
    ScmpSyscall,
};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str =
    "usage: record [--seed N] [--cases N] [--out FILE] [--only I] [--shape S] [--all-queries]\n\
    [--alarm SECS]\n\
    Records random filters built by the C libseccomp (calls, outcomes, verdicts) as\n\
    conformance cases; replay them with\n\
    CONFORMANCE_EXTRA=FILE cargo test --release --test conformance recorded_cases\n\
    example: record --seed 1 --cases 200 --out target/recorded/seed1.jsonl";

/// The most queries a case keeps.
const MAX_QUERIES: usize = 1000;
/// The kernel's limit: a longer libseccomp program is left out (ours refuses to export it).
const MAX_PROGRAM: usize = 4096;
/// The longest pseudo filter code text a case keeps (the longest of a thousand filters of
/// every shape was about 130 KB).
const MAX_PFC: usize = 256 * 1024;
/// Seconds a case may take in its child.
const ALARM_SECS: u32 = 5;

fn main() -> ExitCode {
    let (mut seed, mut cases, mut out) = (1u64, 100usize, None::<String>);
    let (mut only, mut all, mut alarm) = (None::<usize>, false, ALARM_SECS);
    let mut shape = None::<String>;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let r: Result<(), String> = match a.as_str() {
            "--seed" => val("--seed").and_then(|v| {
                v.parse()
                    .map(|v| seed = v)
                    .map_err(|e| format!("--seed: {e}"))
            }),
            "--cases" => val("--cases").and_then(|v| {
                v.parse()
                    .map(|v| cases = v)
                    .map_err(|e| format!("--cases: {e}"))
            }),
            "--out" => val("--out").map(|v| out = Some(v)),
            "--only" => val("--only").and_then(|v| {
                v.parse()
                    .map(|v| only = Some(v))
                    .map_err(|e| format!("--only: {e}"))
            }),
            "--alarm" => val("--alarm").and_then(|v| {
                v.parse()
                    .map(|v| alarm = v)
                    .map_err(|e| format!("--alarm: {e}"))
            }),
            "--shape" => val("--shape").and_then(|v| match SHAPES.contains(&v.as_str()) {
                true => {
                    shape = Some(v);
                    Ok(())
                }
                false => Err(format!("--shape: one of {}", SHAPES.join(", "))),
            }),
            "--all-queries" => {
                all = true;
                Ok(())
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => Err(format!("unknown argument {other:?}")),
        };
        if let Err(e) = r {
            eprintln!("record: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let mut sink: Box<dyn Write> = match &out {
        Some(path) => {
            if let Some(dir) = std::path::Path::new(path).parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            match File::create(path) {
                Ok(f) => Box::new(std::io::BufWriter::new(f)),
                Err(e) => {
                    eprintln!("record: cannot create {path}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let pools = Pools::new();
    let (start, mut last) = (Instant::now(), Instant::now());
    let (mut written, mut left_out, mut queries) = (0usize, Vec::<String>::new(), 0usize);
    let mut failed = false;
    for i in 0..cases {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        let mut rng = Rng::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (i as u64 + 1));
        let filter = generate(&mut rng, &pools);
        if shape.as_ref().is_some_and(|s| s != filter.shape) {
            continue;
        }
        for level in [1u32, 2] {
            let id = format!("r{seed}-f{i}/{}/opt{level}", filter.shape);
            match in_child(alarm, || {
                record(
                    &id,
                    &filter,
                    level,
                    if all { usize::MAX } else { MAX_QUERIES },
                )
            }) {
                Ok(line) if line.starts_with(LEFT_OUT) => {
                    left_out.push(format!("{id}: {}", &line[LEFT_OUT.len()..]))
                }
                Ok(line) => {
                    queries += line.matches("\"ret\"").count();
                    if let Err(e) = writeln!(sink, "{line}") {
                        eprintln!("record: writing: {e}");
                        return ExitCode::FAILURE;
                    }
                    written += 1;
                }
                Err(why) => {
                    if !why.in_library() {
                        // Not libseccomp hanging or crashing: the recorder failed.
                        eprintln!("\nrecord: {id}: recording {why}");
                        failed = true;
                    }
                    // Where libseccomp hangs or crashes, pure-seccomp must still build it.
                    let ours = match in_child(alarm, || ours(&filter, level)) {
                        Ok(line) => line,
                        Err(e) => {
                            eprintln!("\nrecord: {id}: pure-seccomp {e}");
                            failed = true;
                            format!("pure-seccomp {e}")
                        }
                    };
                    left_out.push(format!("{id}: libseccomp {why}; {ours}"));
                }
            }
        }
        if out.is_some() && (last.elapsed().as_secs() >= 1 || i + 1 == cases) {
            last = Instant::now();
            eprint!(
                "\rrecord: {}/{cases} filters, {written} cases, {queries} queries, {} left out, {:.0}s ",
                i + 1,
                left_out.len(),
                start.elapsed().as_secs_f64()
            );
        }
    }
    if let Err(e) = sink.flush() {
        eprintln!("record: writing: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "\rrecord: seed {seed}: {written} cases ({cases} filters at levels 1 and 2), {queries} queries, {} left out, {:.1}s",
        left_out.len(),
        start.elapsed().as_secs_f64()
    );
    for l in &left_out {
        eprintln!("  left out: {l}");
    }
    if failed {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

// ---------------------------------------------------------------------------------------------
// Random numbers (SplitMix64: reproducible from the seed, no dependency)

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// In `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, s: &'a [T]) -> &'a T {
        &s[self.next() as usize % s.len()]
    }
    /// An edge-heavy 64-bit constant: each half one of the words comparisons turn on.
    fn datum(&mut self) -> u64 {
        let word = |r: &mut Rng| match r.range(0, 9) {
            0 | 1 => 0,
            2 => 1,
            3 => 0x7fff_ffff,
            4 => 0x8000_0000,
            5 => 0xffff_ffff,
            6 => r.range(2, 100),
            _ => r.next() & 0xffff_ffff,
        };
        let hi = if self.chance(55) { 0 } else { word(self) };
        (hi << 32) | word(self)
    }
}

// ---------------------------------------------------------------------------------------------
// Filters

/// A random action (`Errno(4095)` is refused by `new` and `add_rule`, as it should be).
fn random_action(r: &mut Rng) -> ScmpAction {
    match r.range(0, 9) {
        0 => ScmpAction::KillProcess,
        1 => ScmpAction::KillThread,
        2 => ScmpAction::Trap,
        3 => ScmpAction::Log,
        4..=6 => ScmpAction::Allow,
        7 => ScmpAction::Errno(*r.pick(&[1, 13, 38, 4095])),
        8 => ScmpAction::Errno(r.range(1, 200) as i32),
        _ => ScmpAction::Trace(*r.pick(&[0, 7, 65535])),
    }
}

/// An action in the corpus' JSON.
fn action_json(a: c::ScmpAction) -> Value {
    match a {
        c::ScmpAction::KillProcess => json!("KillProcess"),
        c::ScmpAction::KillThread => json!("KillThread"),
        c::ScmpAction::Trap => json!("Trap"),
        c::ScmpAction::Log => json!("Log"),
        c::ScmpAction::Allow => json!("Allow"),
        c::ScmpAction::Notify => json!("Notify"),
        c::ScmpAction::Errno(n) => json!({ "Errno": n }),
        c::ScmpAction::Trace(n) => json!({ "Trace": n }),
        other => json!(format!("{other:?}")),
    }
}

/// libseccomp's form of one of the actions made here.
fn c_action(a: ScmpAction) -> c::ScmpAction {
    replay::action(a).expect("an action libseccomp has")
}

/// A comparison in the corpus' JSON.
fn cmp_json(c: &ScmpArgCompare) -> Value {
    let (op, mask) = match c.op() {
        ScmpCompareOp::Equal => ("Eq", None),
        ScmpCompareOp::NotEqual => ("Ne", None),
        ScmpCompareOp::Less => ("Lt", None),
        ScmpCompareOp::LessOrEqual => ("Le", None),
        ScmpCompareOp::Greater => ("Gt", None),
        ScmpCompareOp::GreaterEqual => ("Ge", None),
        ScmpCompareOp::MaskedEqual(m) => ("MaskedEqual", Some(m)),
        other => unreachable!("no such comparison is made here: {other:?}"),
    };
    let mut v = json!({ "arg": c.arg(), "op": op });
    if let Some(m) = mask {
        v["mask"] = json!(m.to_string());
    }
    v["datum"] = json!(c.datum().to_string());
    v
}

/// Values of the argument around a comparison's edges, the first satisfying it.
fn probes(c: &ScmpArgCompare) -> Vec<u64> {
    let d = c.datum();
    let first = match c.op() {
        ScmpCompareOp::NotEqual | ScmpCompareOp::Greater => d.wrapping_add(1),
        ScmpCompareOp::Less => d.wrapping_sub(1),
        ScmpCompareOp::MaskedEqual(m) => d & m,
        _ => d,
    };
    let mut v = vec![
        first,
        d,
        d.wrapping_sub(1),
        d.wrapping_add(1),
        d ^ (1 << 32),
        d ^ (1 << 31),
        d & 0xffff_ffff,
        d & !0xffff_ffff,
        d.rotate_right(32),
        !d,
    ];
    if let ScmpCompareOp::MaskedEqual(m) = c.op() {
        let mut bits = m;
        for _ in 0..8 {
            if bits == 0 {
                break;
            }
            let b = bits & bits.wrapping_neg();
            v.push((d & m) ^ b);
            bits &= !b;
        }
        v.push((d & m) | !m);
    }
    v
}

#[derive(Clone, Debug)]
enum Sys {
    Name(String),
    Number(i32),
}

#[derive(Clone, Debug)]
enum Call {
    AddArch(ScmpArch),
    RemoveArch(ScmpArch),
    /// `reset` with a new default action (the native architecture only again).
    Reset(ScmpAction),
    BadArch(ScmpAction),
    Priority(Sys, u8),
    Rule {
        act: ScmpAction,
        sys: Sys,
        cmps: Vec<ScmpArgCompare>,
        exact: bool,
    },
    /// `set_api_tskip`: whether rules on syscall -1 (a tracer's skipped call) are taken.
    Tskip(bool),
    /// `set_filter_attr` with a raw value (the attribute's index in [`ATTRS`]).
    Attr(usize, u32),
    /// `merge` of a filter made with this default action and these calls.
    Merge {
        default: ScmpAction,
        calls: Vec<Call>,
    },
}

impl Call {
    /// This call and, for a merge, the source filter's calls, in the order they are made.
    fn each<'a>(&'a self, out: &mut Vec<&'a Call>) {
        out.push(self);
        if let Call::Merge { calls, .. } = self {
            for c in calls {
                c.each(out);
            }
        }
    }
}

impl Filter {
    /// Every call, a merged filter's too.
    fn all_calls(&self) -> Vec<&Call> {
        let mut out = Vec::new();
        for c in &self.calls {
            c.each(&mut out);
        }
        out
    }

    /// The ABIs the battery queries: the filter's first set and every one a call adds (a
    /// merged filter's too, and the native one a reset brings back).
    fn queried_arches(&self) -> Vec<ScmpArch> {
        let mut v = self.arches.to_vec();
        for c in self.all_calls() {
            let a = match c {
                Call::AddArch(a) => *a,
                // (The native architecture again, or a merged filter's.)
                Call::Reset(_) | Call::Merge { .. } => ScmpArch::X8664,
                _ => continue,
            };
            if !v.contains(&a) {
                v.push(a);
            }
        }
        v
    }
}

struct Filter {
    shape: &'static str,
    default: ScmpAction,
    arches: &'static [ScmpArch],
    calls: Vec<Call>,
    ip: u64,
}

/// Whether a query's arguments keep their high words: every 64-bit ABI's, x32's too (its
/// calls arrive with x86_64's token and full registers).
fn wide(a: ScmpArch) -> bool {
    sim::arg64(a) || a == ScmpArch::X32
}

/// Whether the ABI multiplexes socket and ipc calls (of the ones used here).
fn multiplexes(a: ScmpArch) -> bool {
    matches!(
        a,
        ScmpArch::X86
            | ScmpArch::Mipsel
            | ScmpArch::Mips
            | ScmpArch::Ppc64Le
            | ScmpArch::Ppc64
            | ScmpArch::Ppc
            | ScmpArch::S390
            | ScmpArch::S390X
    )
}

/// The architecture sets, little- and big-endian; the first of each is the one the pools'
/// names come from.
const ARCH_SETS: &[&[ScmpArch]] = &[
    &[ScmpArch::X8664],
    &[ScmpArch::X8664, ScmpArch::X86, ScmpArch::X32],
    &[ScmpArch::X8664, ScmpArch::X32],
    &[ScmpArch::X8664, ScmpArch::X86],
    &[ScmpArch::Aarch64, ScmpArch::Arm],
    &[ScmpArch::Aarch64],
    &[ScmpArch::Riscv64],
    &[ScmpArch::Mipsel64, ScmpArch::Mipsel, ScmpArch::Mipsel64N32],
    &[ScmpArch::Ppc64Le],
    &[ScmpArch::X86],
    &[ScmpArch::Arm],
    &[ScmpArch::S390X, ScmpArch::S390],
    &[ScmpArch::S390X],
    &[ScmpArch::Ppc64, ScmpArch::Ppc],
    &[ScmpArch::Mips64, ScmpArch::Mips, ScmpArch::Mips64N32],
    &[ScmpArch::Mips],
];

/// Audit values of ABIs no set above holds with them (two little-endian, two big-endian),
/// and a bogus one.
const FOREIGN: &[u32] = &[
    0xc000_00b7,
    0x4000_0003,
    0x8000_0016,
    0x0000_0014,
    0xdead_beef,
];

/// Whether an ABI is big-endian (`__AUDIT_ARCH_LE` clear).
fn big_endian(a: ScmpArch) -> bool {
    sim::audit(a) & 0x4000_0000 == 0
}

/// The value a filter returns for an action.
fn ret_value(a: ScmpAction) -> u32 {
    match a {
        ScmpAction::KillProcess => 0x8000_0000,
        ScmpAction::KillThread => 0,
        ScmpAction::Trap => 0x0003_0000,
        ScmpAction::Errno(n) => 0x0005_0000 | (n as u32 & 0xffff),
        ScmpAction::Trace(n) => 0x7ff0_0000 | (n as u32 & 0xffff),
        ScmpAction::Log => 0x7ffc_0000,
        ScmpAction::Notify => 0x7fc0_0000,
        ScmpAction::Allow => 0x7fff_0000,
        other => unreachable!("the recorder makes no {other:?}"),
    }
}

/// libseccomp 2.5.4 converts the immediate of a far `RET` copy to the filter's byte order a
/// second time, so that on this little-endian host a big-endian program's copies return the
/// byte-swapped action (the shared corpus' README, quirks). Swaps back each `RET` whose value
/// is none of the filter's actions and whose swapped value is one; returns how many.
fn restore_rets(prog: &mut [bpf::Instruction], f: &Filter) -> usize {
    // The default action, libseccomp's default bad-arch action, and every one set.
    let mut actions = vec![ret_value(f.default), ret_value(ScmpAction::KillThread)];
    for c in f.all_calls() {
        match c {
            Call::BadArch(a)
            | Call::Reset(a)
            | Call::Rule { act: a, .. }
            | Call::Merge { default: a, .. } => actions.push(ret_value(*a)),
            _ => {}
        }
    }
    let mut n = 0;
    for i in prog.iter_mut().filter(|i| i.code == 0x06) {
        if !actions.contains(&i.k) && actions.contains(&i.k.swap_bytes()) {
            i.k = i.k.swap_bytes();
            n += 1;
        }
    }
    n
}

/// libseccomp's form of an architecture.
fn c_arch(a: ScmpArch) -> c::ScmpArch {
    replay::arch(a).expect("an arch libseccomp has")
}

/// Syscall names libseccomp 2.5.4 knows on each set's first architecture, in number order.
struct Pools {
    names: Vec<(ScmpArch, Vec<String>)>,
}

impl Pools {
    fn new() -> Self {
        let mut names = Vec::new();
        for set in ARCH_SETS {
            let a = set[0];
            if names.iter().any(|(n, _)| *n == a) {
                continue;
            }
            let base = sim::base(a);
            let list = (base..base + 1100)
                .filter_map(|nr| {
                    c::ScmpSyscall::from_raw_syscall(nr)
                        .get_name_by_arch(c_arch(a))
                        .ok()
                })
                .collect();
            names.push((a, list));
        }
        Pools { names }
    }
    fn of(&self, a: ScmpArch) -> &[String] {
        &self
            .names
            .iter()
            .find(|(n, _)| *n == a)
            .expect("a pool for every set")
            .1
    }
}

/// Syscalls whose arguments policies check in long lists.
const PILED: &[&str] = &[
    "ioctl",
    "fcntl",
    "prctl",
    "socket",
    "mmap",
    "clone",
    "personality",
    "madvise",
    "futex",
    "setsockopt",
    "kill",
    "mprotect",
    "openat",
];

fn generate(r: &mut Rng, pools: &Pools) -> Filter {
    let arches = *r.pick(ARCH_SETS);
    let mut default = random_action(r);
    if r.chance(50) {
        default = *r.pick(&[
            ScmpAction::KillProcess,
            ScmpAction::Errno(1),
            ScmpAction::KillThread,
        ]);
    }
    let mut f = Filter {
        shape: "",
        default,
        arches,
        calls: Vec::new(),
        ip: r.next(),
    };
    if arches[0] != ScmpArch::X8664 {
        f.calls.push(Call::RemoveArch(ScmpArch::X8664));
    }
    for &a in arches.iter().filter(|&&a| a != ScmpArch::X8664) {
        f.calls.push(Call::AddArch(a));
    }
    if r.chance(30) {
        f.calls.push(Call::BadArch(random_action(r)));
    }
    let pool = pools.of(arches[0]);
    let (shape, parts): (&str, &[u8]) = match r.range(0, 9) {
        0..=3 => ("pile", &[0]),
        4 | 5 => ("dispatch", &[1]),
        6 | 7 => ("ranges", &[2]),
        8 => ("mixed", &[1, 0, 2]),
        _ => ("meet", &[3]),
    };
    f.shape = shape;
    for p in parts {
        match p {
            0 => pile(r, &mut f),
            1 => dispatch(r, &mut f, pool),
            2 => ranges(r, &mut f, pool),
            _ => meet(r, &mut f),
        }
    }
    f
}

/// The shapes [`generate`] makes, for `--shape`.
const SHAPES: &[&str] = &["pile", "dispatch", "ranges", "mixed", "meet"];

/// Syscalls for [`meet`]: some every ABI has, some that x86, s390, PowerPC and MIPS o32
/// multiplex through `socketcall`/`ipc`, one some ABIs lack, and one x32 numbers apart.
const MET: &[&str] = &[
    "mprotect", "fcntl", "ioctl", "prctl", "kill", "read", "socket", "connect", "semop", "shmat",
    "recvmmsg", "preadv",
];

/// Rules that meet: one or two syscalls, up to sixteen rules of any action whose comparisons
/// (on four arguments) take their values from a pool of four, and now and then a priority, an
/// architecture added or removed, a reset, or a filter of such rules on other architectures
/// merged in:
/// the merges, prunes and conflicts of `tests/modes.rs`, which holds the normal mode to compat
/// mode on such rules, here against the C library itself.
fn meet(r: &mut Rng, f: &mut Filter) {
    let single = f.arches.len() == 1;
    let names: Vec<&str> = (0..r.range(1, 2)).map(|_| *r.pick(MET)).collect();
    let pool: Vec<u64> = (0..4).map(|_| r.datum()).collect();
    let mut present: Vec<ScmpArch> = f.arches.to_vec();
    let mut default = f.default;
    for _ in 0..r.range(1, 16) {
        let sys = *r.pick(&names);
        if r.chance(2) {
            // Everything undone: a new default action, the native architecture alone (but
            // for `Errno(4095)`, which is refused).
            let act = random_action(r);
            if act != ScmpAction::Errno(4095) {
                default = act;
            }
            f.calls.push(Call::Reset(act));
            present = vec![ScmpArch::X8664];
            continue;
        }
        if r.chance(6) {
            // An architecture added or removed between rules (one of another byte order is
            // refused).
            let set = *r.pick(ARCH_SETS);
            let a = *r.pick(set);
            match present.iter().position(|&p| p == a) {
                Some(i) => {
                    present.remove(i);
                    f.calls.push(Call::RemoveArch(a));
                }
                None => {
                    present.push(a);
                    f.calls.push(Call::AddArch(a));
                }
            }
            continue;
        }
        if r.chance(4) {
            f.calls
                .push(merged(r, default, &mut present, &names, &pool));
            continue;
        }
        if r.chance(2) {
            // Rules on syscall -1 taken from here on (or no longer).
            f.calls.push(Call::Tskip(r.chance(80)));
            continue;
        }
        if r.chance(3) {
            f.calls.push(attr_call(r));
            continue;
        }
        if r.chance(10) {
            let sys = now_and_then_numbered(r, &Sys::Name(sys.to_string()), 15);
            f.calls.push(Call::Priority(sys, r.range(0, 255) as u8));
            continue;
        }
        f.calls.push(meet_rule(r, sys, &pool, single));
    }
}

/// One of [`meet`]'s rules on `sys`: up to three comparisons on four arguments, their values
/// from `pool`.
fn meet_rule(r: &mut Rng, sys: &str, pool: &[u64], single_arch: bool) -> Call {
    let mut args: Vec<u32> = Vec::new();
    let mut cmps = Vec::new();
    for _ in 0..r.range(0, 3) {
        let a = *r.pick(&[0u32, 1, 2, 2, 5]);
        if args.contains(&a) {
            continue;
        }
        args.push(a);
        let d = *r.pick(pool);
        let k = r.range(0, 7);
        let op = operator(k, || *r.pick(pool) | 1);
        cmps.push(ScmpArgCompare::new(a, op, d));
    }
    // (`Notify` too, which the other shapes do not make.)
    let act = if r.chance(5) {
        ScmpAction::Notify
    } else {
        random_action(r)
    };
    let call = rule(r, act, sys, cmps, single_arch);
    numbered(r, call, 15)
}

/// A rule's `call`, its syscall by number one time in `100 / percent`
/// ([`now_and_then_numbered`]).
fn numbered(r: &mut Rng, mut call: Call, percent: u64) -> Call {
    if let Call::Rule { sys, .. } = &mut call {
        *sys = now_and_then_numbered(r, sys, percent);
    }
    call
}

/// `sys` (by name), or now and then (`percent`) by number, as a program that has numbers makes its rules:
/// the native one, or the number another ABI gives the name, which on x86_64 may be another
/// syscall's or a pseudo one (socket and ipc calls where multiplexed, `socketcall` and `ipc`
/// themselves where not).
fn now_and_then_numbered(r: &mut Rng, sys: &Sys, percent: u64) -> Sys {
    let Sys::Name(name) = sys else {
        return sys.clone();
    };
    if !r.chance(percent) {
        return sys.clone();
    }
    if r.chance(10) {
        // A tracer's skipped call (taken with `api_tskip` only).
        return Sys::Number(-1);
    }
    let abi = *r.pick(&[
        ScmpArch::X8664,
        ScmpArch::X86,
        ScmpArch::S390X,
        ScmpArch::Mips,
        ScmpArch::X32,
    ]);
    match ScmpSyscall::from_name_by_arch(name, abi) {
        Ok(s) => Sys::Number(s.as_raw_syscall()),
        Err(_) => sys.clone(),
    }
}

/// A `merge` for [`meet`]: a filter of a few of its rules on another architecture set, with
/// the filter's default action (now and then another, which `merge` refuses), its native
/// architecture kept now and then (refused where the filter has it too) and now and then no
/// architecture at all (refused). Where the merge should be taken, its architectures join
/// `present`.
fn merged(
    r: &mut Rng,
    dst_default: ScmpAction,
    present: &mut Vec<ScmpArch>,
    names: &[&str],
    pool: &[u64],
) -> Call {
    let default = if r.chance(90) {
        dst_default
    } else {
        *r.pick(&[
            ScmpAction::Allow,
            ScmpAction::KillProcess,
            ScmpAction::Errno(1),
            ScmpAction::Trap,
        ])
    };
    let set = *r.pick(ARCH_SETS);
    let mut calls = Vec::new();
    let mut arches = vec![ScmpArch::X8664];
    if !set.contains(&ScmpArch::X8664) && r.chance(90) {
        calls.push(Call::RemoveArch(ScmpArch::X8664));
        arches.clear();
    }
    if !r.chance(3) {
        for &a in set.iter().filter(|&&a| a != ScmpArch::X8664) {
            calls.push(Call::AddArch(a));
            arches.push(a);
        }
    }
    if r.chance(10) {
        calls.push(Call::BadArch(random_action(r)));
    }
    if r.chance(10) {
        // (A merge needs the same NNP and TSYNC flags too.)
        calls.push(attr_call(r));
    }
    let single = arches.len() == 1;
    for _ in 0..r.range(1, 6) {
        let sys = *r.pick(names);
        if r.chance(10) {
            let sys = now_and_then_numbered(r, &Sys::Name(sys.to_string()), 15);
            calls.push(Call::Priority(sys, r.range(0, 255) as u8));
        } else {
            calls.push(meet_rule(r, sys, pool, single));
        }
    }
    let same_order = arches.iter().all(|&a| {
        present
            .first()
            .is_none_or(|&p| big_endian(p) == big_endian(a))
    });
    if default == dst_default
        && !arches.is_empty()
        && same_order
        && !arches.iter().any(|a| present.contains(a))
    {
        present.extend(arches);
    }
    Call::Merge { default, calls }
}

/// The filter attributes both libraries have (not `CtlWaitkill`, which libseccomp 2.5.4
/// lacks), by the name each parses. Flags the running kernel lacks are refused by libseccomp
/// (README, deliberate differences, 8): recorded where the kernel has them all.
const ATTRS: &[&str] = &[
    "SCMP_FLTATR_ACT_DEFAULT",
    "SCMP_FLTATR_ACT_BADARCH",
    "SCMP_FLTATR_CTL_NNP",
    "SCMP_FLTATR_CTL_TSYNC",
    "SCMP_FLTATR_API_TSKIP",
    "SCMP_FLTATR_CTL_LOG",
    "SCMP_FLTATR_CTL_SSB",
    "SCMP_FLTATR_CTL_OPTIMIZE",
    "SCMP_FLTATR_API_SYSRAWRC",
];

/// An attribute of [`ATTRS`] as pure-seccomp's and libseccomp's crates name it.
fn attr(name: &str) -> (ScmpFilterAttr, c::ScmpFilterAttr) {
    let what = "an attribute both crates parse";
    (name.parse().expect(what), name.parse().expect(what))
}

/// A `set_filter_attr` call: a flag on or off (now and then another non-zero value), an
/// optimize level from 0 to 3, a bad-arch action (now and then no action at all), or the
/// read-only default action.
fn attr_call(r: &mut Rng) -> Call {
    let k = r.range(0, ATTRS.len() as u64 - 1) as usize;
    let value = match attr(ATTRS[k]).0 {
        ScmpFilterAttr::ActDefault | ScmpFilterAttr::ActBadArch if r.chance(20) => 0x0012_3456,
        ScmpFilterAttr::ActDefault | ScmpFilterAttr::ActBadArch => ret_value(random_action(r)),
        ScmpFilterAttr::CtlOptimize => r.range(0, 3) as u32,
        _ if r.chance(10) => r.range(2, 7) as u32,
        _ => r.range(0, 1) as u32,
    };
    Call::Attr(k, value)
}

/// A comparison of argument `arg`.
fn comparison(r: &mut Rng, arg: u32) -> ScmpArgCompare {
    let k = r.range(0, 8);
    let op = operator(k, || r.datum() | 1 << r.range(0, 40));
    ScmpArgCompare::new(arg, op, r.datum())
}

/// Operator `k` (0 and 1 equality, 2 to 6 the others, above a masked equality with the mask
/// `mask` draws).
fn operator(k: u64, mask: impl FnOnce() -> u64) -> ScmpCompareOp {
    match k {
        0 | 1 => ScmpCompareOp::Equal,
        2 => ScmpCompareOp::NotEqual,
        3 => ScmpCompareOp::Less,
        4 => ScmpCompareOp::LessOrEqual,
        5 => ScmpCompareOp::Greater,
        6 => ScmpCompareOp::GreaterEqual,
        _ => ScmpCompareOp::MaskedEqual(mask()),
    }
}

fn rule(
    r: &mut Rng,
    act: ScmpAction,
    sys: &str,
    cmps: Vec<ScmpArgCompare>,
    single_arch: bool,
) -> Call {
    Call::Rule {
        act,
        sys: Sys::Name(sys.to_string()),
        cmps,
        exact: single_arch && r.chance(10),
    }
}

/// Up to 300 values of one argument of one syscall, one rule each.
fn pile(r: &mut Rng, f: &mut Filter) {
    let sys = *r.pick(PILED);
    let arg = r.range(0, 5) as u32;
    let n = match r.range(0, 9) {
        0..=3 => r.range(2, 8),
        4..=7 => r.range(8, 40),
        _ => r.range(40, 300),
    } as usize;
    let mut values: Vec<(ScmpCompareOp, u64)> = Vec::new();
    match r.range(0, 5) {
        // Runs of adjacent values.
        0 | 1 => {
            let base = if r.chance(50) {
                r.range(0, 300)
            } else {
                r.next() & 0xffff_ffff
            };
            while values.len() < n {
                let start = base.wrapping_add(r.range(0, 4 * n as u64 + 10));
                for v in start..start + r.range(1, 16) {
                    values.push((ScmpCompareOp::Equal, v));
                }
            }
        }
        // 64-bit values over a few high words.
        2 => {
            let his = [0, 1, r.next() & 0xffff_ffff, 0xffff_ffff];
            for _ in 0..n {
                let hi = *r.pick(&his);
                values.push((ScmpCompareOp::Equal, hi << 32 | (r.next() & 0xffff_ffff)));
            }
        }
        // Submasks of a mask (most or all of them), as values or masked comparisons.
        3 | 4 => {
            let mut mask = 0u64;
            for _ in 0..r.range(2, 7) {
                mask |= 1 << r.range(0, 40);
            }
            let wider = mask | if r.chance(50) { 0 } else { r.datum() };
            let masked = r.chance(30);
            let mut sub = mask;
            loop {
                if r.chance(85) {
                    values.push((
                        if masked {
                            ScmpCompareOp::MaskedEqual(wider)
                        } else {
                            ScmpCompareOp::Equal
                        },
                        sub,
                    ));
                }
                if sub == 0 {
                    break;
                }
                sub = (sub - 1) & mask;
            }
        }
        // Random values, some masked.
        _ => {
            for _ in 0..n {
                if r.chance(20) {
                    let m = r.datum() | 1;
                    values.push((ScmpCompareOp::MaskedEqual(m), r.datum() & m));
                } else {
                    values.push((ScmpCompareOp::Equal, r.datum()));
                }
            }
        }
    }
    values.truncate(300);
    let act = if f.default == ScmpAction::Allow {
        ScmpAction::Errno(1)
    } else {
        ScmpAction::Allow
    };
    let alt = random_action(r);
    // The same further condition on every rule, two alternating, or none.
    let extra: Vec<ScmpArgCompare> = match r.range(0, 3) {
        0 => vec![comparison(r, (arg + 1) % 6)],
        1 => vec![comparison(r, (arg + 1) % 6), comparison(r, (arg + 1) % 6)],
        _ => Vec::new(),
    };
    let single = f.arches.len() == 1;
    if r.chance(20) {
        let (act, cmp) = (random_action(r), comparison(r, arg));
        f.calls.push(rule(r, act, sys, vec![cmp], single));
    }
    for (i, (op, v)) in values.into_iter().enumerate() {
        let mut cmps = vec![ScmpArgCompare::new(arg, op, v)];
        if !extra.is_empty() {
            cmps.push(extra[i % extra.len()]);
            if r.chance(50) {
                cmps.reverse();
            }
        }
        let a = if r.chance(12) { alt } else { act };
        f.calls.push(rule(r, a, sys, cmps, single));
    }
    if r.chance(20) {
        let act = random_action(r);
        f.calls.push(rule(r, act, sys, Vec::new(), single));
    }
}

/// Up to 300 syscalls over a few actions, some argument-checked, some with a priority.
fn dispatch(r: &mut Rng, f: &mut Filter, pool: &[String]) {
    let n = match r.range(0, 3) {
        0 => r.range(5, 30),
        1 => r.range(30, 120),
        _ => r.range(120, 300),
    } as usize;
    let palette: Vec<ScmpAction> = (0..r.range(1, 4)).map(|_| random_action(r)).collect();
    // A dense stretch of the table (as allow-lists are) or a scattered choice.
    let dense = r.chance(60);
    let start = r.range(0, pool.len().saturating_sub(n) as u64) as usize;
    let single = f.arches.len() == 1;
    for i in 0..n {
        let sys = if dense {
            &pool[(start + i) % pool.len()]
        } else {
            r.pick(pool)
        };
        if dense && r.chance(15) {
            continue;
        }
        let act = *r.pick(&palette);
        if r.chance(85) {
            let call = rule(r, act, sys, Vec::new(), single);
            f.calls.push(numbered(r, call, 5));
        } else {
            for _ in 0..r.range(1, 3) {
                let k = r.range(1, 2);
                let mut args: Vec<u32> = Vec::new();
                while args.len() < k as usize {
                    let a = r.range(0, 5) as u32;
                    if !args.contains(&a) {
                        args.push(a);
                    }
                }
                let cmps = args.into_iter().map(|a| comparison(r, a)).collect();
                let act = *r.pick(&palette);
                let call = rule(r, act, sys, cmps, single);
                f.calls.push(numbered(r, call, 5));
            }
        }
        if r.chance(4) {
            f.calls.push(Call::Priority(
                Sys::Name(sys.clone()),
                r.range(0, 255) as u8,
            ));
        }
    }
    if r.chance(10) {
        f.calls.push(Call::Priority(
            Sys::Number(r.range(0, 500) as i32),
            r.range(0, 255) as u8,
        ));
    }
}

/// A few syscalls with several rules of range, inequality and masked comparisons on up to
/// three arguments.
fn ranges(r: &mut Rng, f: &mut Filter, pool: &[String]) {
    let single = f.arches.len() == 1;
    for _ in 0..r.range(1, 6) {
        let sys = r.pick(pool).clone();
        for _ in 0..r.range(1, 6) {
            let mut args: Vec<u32> = Vec::new();
            let k = r.range(1, 3);
            while args.len() < k as usize {
                let a = r.range(0, 5) as u32;
                if !args.contains(&a) {
                    args.push(a);
                }
            }
            let cmps = args.into_iter().map(|a| comparison(r, a)).collect();
            let act = random_action(r);
            f.calls.push(rule(r, act, &sys, cmps, single));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Recording

/// The same calls on pure-seccomp and the export: how long they took, or what failed.
fn ours(f: &Filter, level: u32) -> String {
    let start = Instant::now();
    let Ok(mut ctx) = ScmpFilterContext::new(f.default) else {
        return "pure-seccomp: `new` fails".into();
    };
    let _ = ctx.set_ctl_optimize(level);
    for call in &f.calls {
        ours_call(&mut ctx, call);
    }
    let exported = ctx.export_bpf_mem();
    format!(
        "pure-seccomp built it in {:.1} ms{}",
        start.elapsed().as_secs_f64() * 1e3,
        match exported {
            Ok(b) => format!(" ({} instructions)", b.len() / 8),
            Err(e) => format!(" (export: {e})"),
        }
    )
}

/// Makes `call` on pure-seccomp's `ctx`, whatever its outcome.
fn ours_call(ctx: &mut ScmpFilterContext, call: &Call) {
    let sys = |s: &Sys| match s {
        Sys::Name(n) => ScmpSyscall::from_name(n).ok(),
        Sys::Number(nr) => Some(ScmpSyscall::from(*nr)),
    };
    let _ = match call {
        Call::AddArch(a) => ctx.add_arch(*a).map(drop),
        Call::RemoveArch(a) => ctx.remove_arch(*a).map(drop),
        Call::BadArch(a) => ctx.set_act_badarch(*a).map(drop),
        Call::Reset(a) => ctx.reset(*a),
        Call::Tskip(on) => ctx.set_api_tskip(*on).map(drop),
        Call::Attr(k, value) => ctx.set_filter_attr(attr(ATTRS[*k]).0, *value).map(drop),
        Call::Priority(s, p) => match sys(s) {
            Some(s) => ctx.set_syscall_priority(s, *p).map(drop),
            None => Ok(()),
        },
        Call::Rule {
            act,
            sys: s,
            cmps,
            exact,
        } => match sys(s) {
            Some(s) => match (cmps.is_empty(), exact) {
                (true, false) => ctx.add_rule(*act, s),
                (true, true) => ctx.add_rule_exact(*act, s),
                (false, false) => ctx.add_rule_conditional(*act, s, cmps),
                (false, true) => ctx.add_rule_conditional_exact(*act, s, cmps),
            }
            .map(drop),
            None => Ok(()),
        },
        Call::Merge { default, calls } => match ScmpFilterContext::new(*default) {
            Ok(mut src) => {
                for c in calls {
                    ours_call(&mut src, c);
                }
                ctx.merge(src).map(drop)
            }
            Err(_) => Ok(()),
        },
    };
}

/// Why [`in_child`] has no line.
enum Failure {
    /// The alarm went off after this many seconds.
    Hung(u32),
    /// Another signal ended the child: the library it ran crashed.
    Signal(i32),
    /// The child exited with this status: it panicked (the recorder's own failure, its
    /// message printed), or could not write its line.
    Status(i32),
    /// Reading the child's line failed.
    Read(std::io::Error),
    /// `pipe` or `fork` failed.
    Setup(String),
}

impl Failure {
    /// Whether the library hung or crashed (rather than the recorder failing).
    fn in_library(&self) -> bool {
        matches!(self, Failure::Hung(_) | Failure::Signal(_))
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Hung(secs) => write!(f, "did not finish in {secs} s"),
            Failure::Signal(sig) => write!(f, "crashed (signal {sig})"),
            Failure::Status(st) => write!(f, "failed: the child's exit status is {st:#x}"),
            Failure::Read(e) => write!(f, "failed: reading the child's line: {e}"),
            Failure::Setup(e) => write!(f, "failed: {e}"),
        }
    }
}

/// Runs `f` in a forked child with an alarm; its output line (or why there is none).
fn in_child(alarm: u32, f: impl FnOnce() -> String) -> Result<String, Failure> {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(Failure::Setup(format!(
            "pipe: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: this program is single-threaded; the child only computes and writes.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Failure::Setup(format!(
            "fork: {}",
            std::io::Error::last_os_error()
        )));
    }
    if pid == 0 {
        // SAFETY: in the child: the alarm's default action ends it if libseccomp hangs.
        unsafe {
            libc::close(fds[0]);
            libc::alarm(alarm);
        }
        // SAFETY: the write end is the child's own.
        let mut w = unsafe { File::from_raw_fd(fds[1]) };
        let line = f();
        let ok = w.write_all(line.as_bytes()).is_ok();
        // SAFETY: leaving the child without running the parent's exit handlers.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    // SAFETY: the read end is the parent's own from here.
    unsafe { libc::close(fds[1]) };
    // SAFETY: as above.
    let mut rd = unsafe { File::from_raw_fd(fds[0]) };
    let mut out = String::new();
    let read = rd.read_to_string(&mut out);
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        return Err(if sig == libc::SIGALRM {
            Failure::Hung(alarm)
        } else {
            Failure::Signal(sig)
        });
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(Failure::Status(status));
    }
    read.map_err(Failure::Read)?;
    Ok(out)
}

fn errno_name(e: &c::error::SeccompError) -> Option<String> {
    e.errno().map(|n| format!("{n:?}"))
}

fn outcome(v: &mut Value, r: Result<Option<Value>, c::error::SeccompError>) {
    match r {
        Ok(val) => {
            v["ok"] = json!(true);
            if let Some(val) = val {
                v["value"] = val;
            }
        }
        Err(e) => {
            v["ok"] = json!(false);
            if let Some(n) = errno_name(&e) {
                v["errno"] = json!(n);
            }
        }
    }
}

fn sys_json(s: &Sys) -> (Value, Option<c::ScmpSyscall>) {
    match s {
        Sys::Name(n) => match c::ScmpSyscall::from_name(n) {
            Ok(sc) => (
                json!({"by": "name", "name": n, "nr": sc.as_raw_syscall()}),
                Some(sc),
            ),
            Err(_) => (json!({"by": "name", "name": n, "nr": null}), None),
        },
        Sys::Number(nr) => {
            let sc = c::ScmpSyscall::from_raw_syscall(*nr);
            (
                json!({"by": "number", "name": sc.get_name().ok(), "nr": nr}),
                Some(sc),
            )
        }
    }
}

/// Makes `call` on libseccomp's `ctx`: the call in the corpus' JSON with its outcome. A rule
/// taken joins `rules` (a merged filter's, where the merge is taken).
fn c_call(ctx: &mut c::ScmpFilterContext, call: &Call, rules: &mut Vec<Call>) -> Value {
    match call {
        Call::AddArch(a) => {
            let mut v = json!({"op": "add_arch", "arch": a.to_string()});
            outcome(&mut v, ctx.add_arch(c_arch(*a)).map(|_| None));
            v
        }
        Call::RemoveArch(a) => {
            let mut v = json!({"op": "remove_arch", "arch": a.to_string()});
            outcome(&mut v, ctx.remove_arch(c_arch(*a)).map(|_| None));
            v
        }
        Call::BadArch(act) => {
            let mut v = json!({"op": "set_act_badarch", "action": action_json(c_action(*act))});
            outcome(&mut v, ctx.set_act_badarch(c_action(*act)).map(|_| None));
            v
        }
        Call::Tskip(on) => {
            let mut v = json!({"op": "set_api_tskip", "state": on});
            outcome(&mut v, ctx.set_api_tskip(*on).map(|_| None));
            v
        }
        Call::Attr(k, value) => {
            let name = ATTRS[*k];
            let mut v = json!({"op": "set_filter_attr", "attr": name, "value": value});
            outcome(
                &mut v,
                ctx.set_filter_attr(attr(name).1, *value).map(|_| None),
            );
            v
        }
        Call::Reset(act) => {
            let mut v = json!({"op": "reset", "action": action_json(c_action(*act))});
            outcome(&mut v, ctx.reset(c_action(*act)).map(|_| None));
            v
        }
        Call::Priority(s, p) => {
            let (sj, sc) = sys_json(s);
            let mut v = json!({"op": "set_syscall_priority", "syscall": sj, "priority": p});
            match sc {
                Some(sc) => outcome(&mut v, ctx.set_syscall_priority(sc, *p).map(|_| None)),
                None => v["ok"] = json!(false),
            }
            v
        }
        Call::Rule {
            act,
            sys,
            cmps,
            exact,
        } => {
            let (sj, sc) = sys_json(sys);
            let op = match (cmps.is_empty(), exact) {
                (true, false) => "add_rule",
                (true, true) => "add_rule_exact",
                (false, false) => "add_rule_conditional",
                (false, true) => "add_rule_conditional_exact",
            };
            let act = c_action(*act);
            let mut v = json!({"op": op, "action": action_json(act), "syscall": sj});
            if !cmps.is_empty() {
                v["comparators"] = Value::Array(cmps.iter().map(cmp_json).collect());
            }
            match sc {
                Some(sc) => {
                    let cc: Vec<c::ScmpArgCompare> = cmps
                        .iter()
                        .map(|c| replay::cmp(c).expect("a comparison libseccomp has"))
                        .collect();
                    let res = match (cmps.is_empty(), exact) {
                        (true, false) => ctx.add_rule(act, sc),
                        (true, true) => ctx.add_rule_exact(act, sc),
                        (false, false) => ctx.add_rule_conditional(act, sc, &cc),
                        (false, true) => ctx.add_rule_conditional_exact(act, sc, &cc),
                    };
                    if res.is_ok() {
                        rules.push(call.clone());
                    }
                    outcome(&mut v, res.map(|_| None));
                }
                None => v["ok"] = json!(false),
            }
            v
        }
        Call::Merge { default, calls } => {
            let mut v = json!({"op": "merge", "default": action_json(c_action(*default))});
            let mut src =
                c::ScmpFilterContext::new(c_action(*default)).expect("a default `new` takes");
            let mut src_rules = Vec::new();
            let made: Vec<Value> = calls
                .iter()
                .map(|c| c_call(&mut src, c, &mut src_rules))
                .collect();
            v["calls"] = Value::Array(made);
            let res = ctx.merge(src);
            if res.is_ok() {
                rules.extend(src_rules);
            }
            outcome(&mut v, res.map(|_| None));
            v
        }
    }
}

/// How [`record`]'s line starts where the case is left out, followed by why.
const LEFT_OUT: &str = "left out: ";

/// The case as a JSON line, or [`LEFT_OUT`] and why (libseccomp's program is over the
/// kernel's limit, or does not run).
fn record(id: &str, f: &Filter, level: u32, max_queries: usize) -> String {
    let mut calls = Vec::new();
    let mut new = json!({"op": "new", "action": action_json(c_action(f.default))});
    let ctx = c::ScmpFilterContext::new(c_action(f.default));
    // (`new`'s error carries no errno; the corpus records none.)
    new["ok"] = json!(ctx.is_ok());
    calls.push(new);
    let Ok(mut ctx) = ctx else {
        return line(id, &calls, Program::Missing, &[]);
    };
    // The level right after the arches (the corpus' order).
    let at = f
        .calls
        .iter()
        .take_while(|c| matches!(c, Call::AddArch(_) | Call::RemoveArch(_)))
        .count();
    let mut level_call = json!({"op": "set_ctl_optimize", "level": level});
    let mut rules = Vec::new();
    for (i, call) in f.calls.iter().enumerate() {
        if i == at {
            outcome(&mut level_call, ctx.set_ctl_optimize(level).map(|_| None));
            calls.push(level_call.take());
        }
        calls.push(c_call(&mut ctx, call, &mut rules));
    }
    if !level_call.is_null() {
        outcome(&mut level_call, ctx.set_ctl_optimize(level).map(|_| None));
        calls.push(level_call);
    }
    for a in [f.arches[0], ScmpArch::Arm] {
        let mut v = json!({"op": "is_arch_present", "arch": a.to_string()});
        outcome(
            &mut v,
            ctx.is_arch_present(c_arch(a)).map(|b| Some(json!(b))),
        );
        calls.push(v);
    }
    let mut v = json!({"op": "get_act_default"});
    outcome(&mut v, ctx.get_act_default().map(|a| Some(action_json(a))));
    calls.push(v);
    let mut v = json!({"op": "get_act_badarch"});
    outcome(&mut v, ctx.get_act_badarch().map(|a| Some(action_json(a))));
    calls.push(v);
    let mut v = json!({"op": "get_ctl_optimize"});
    outcome(&mut v, ctx.get_ctl_optimize().map(|l| Some(json!(l))));
    calls.push(v);
    for &name in ATTRS {
        let mut v = json!({"op": "get_filter_attr", "attr": name});
        outcome(
            &mut v,
            ctx.get_filter_attr(attr(name).1).map(|x| Some(json!(x))),
        );
        calls.push(v);
    }

    // The program's byte order is that of the architectures the filter has now (a reset, or
    // every architecture removed and one of the other order added, changes it), or rather
    // the filter's: where a refused rule restored a copy out of step (difference 2),
    // libseccomp's filter may have an architecture of the other order. Its programs start
    // with `ld [4]`, which says which.
    let queried = f.queried_arches();
    let now = queried
        .iter()
        .find(|&&a| ctx.is_arch_present(c_arch(a)).unwrap_or(false));
    let mut endian = if now.is_some_and(|&a| big_endian(a)) {
        Endian::Big
    } else {
        Endian::Little
    };
    let bytes = match replay::export_bpf(&ctx) {
        Ok(b) => {
            match b.get(..2) {
                Some([0x20, 0x00]) => endian = Endian::Little,
                Some([0x00, 0x20]) => endian = Endian::Big,
                _ => {}
            }
            b
        }
        Err(replay::ExportError::Seccomp(e)) => {
            let errno = errno_name(&e).unwrap_or_else(|| format!("{e}"));
            return line(id, &calls, Program::Failed { endian, errno }, &[]);
        }
        Err(replay::ExportError::Io(e)) => panic!("{e}"),
    };
    if let Some(dir) = std::env::var_os("RECORD_PROGRAMS") {
        let _ = std::fs::write(
            std::path::Path::new(&dir).join(format!("{}.bpf", id.replace('/', "_"))),
            &bytes,
        );
    }
    // (Where a refused rule restored a copy out of step, difference 2, libseccomp can write
    // the filter's sections in one byte order and its start in the other.)
    let unreadable = |e: &dyn std::fmt::Debug| {
        format!(
            "{LEFT_OUT}libseccomp's program does not run, read in its first instruction's \
             byte order ({endian:?}-endian): {e:?}"
        )
    };
    let mut prog = match bpf::decode(&bytes, endian) {
        Ok(p) => p,
        Err(e) => return unreadable(&e),
    };
    if prog.len() > MAX_PROGRAM {
        return format!("{LEFT_OUT}program over {MAX_PROGRAM}");
    }
    if let Err(e) = bpf::validate(&prog) {
        return unreadable(&e);
    }
    let restored = if endian == Endian::Big {
        restore_rets(&mut prog, f)
    } else {
        0
    };
    let default_ret = prog.last().map(|i| i.k);
    let mut kept: Vec<(SeccompData, u32)> = Vec::new();
    let (mut foreign, mut decided, mut other) = (Vec::new(), Vec::new(), Vec::new());
    for d in queries(f, &queried, &rules) {
        let ret = match bpf::simulate(&prog, &d, endian) {
            Ok(out) => out.ret,
            Err(e) => return unreadable(&e),
        };
        if !queried.iter().any(|&a| sim::audit(a) == d.arch) {
            foreign.push((d, ret));
        } else if Some(ret) != default_ret {
            decided.push((d, ret));
        } else {
            other.push((d, ret));
        }
    }
    kept.extend(foreign);
    let room = max_queries.saturating_sub(kept.len());
    let n_other = other.len().min(room / 4);
    kept.extend(spread(decided, room - n_other));
    let room = max_queries.saturating_sub(kept.len());
    kept.extend(spread(other, room));
    let qs: Vec<Value> = kept
        .iter()
        .map(|(d, ret)| {
            json!({"arch": d.arch, "nr": d.nr, "ip": d.instruction_pointer.to_string(),
                   "args": d.args.iter().map(|a| a.to_string()).collect::<Vec<_>>(), "ret": ret})
        })
        .collect();
    // libseccomp's pseudo filter code, for the replay to compare `export_pfc` with.
    let pfc = match replay::export_pfc(&ctx) {
        Ok(text) if text.len() <= MAX_PFC => Some(text),
        _ => None,
    };
    let program = Program::Exported {
        endian,
        len: prog.len(),
        restored,
        pfc,
    };
    line(id, &calls, program, &qs)
}

/// What a case's line says of libseccomp's program.
enum Program {
    /// `new` failed: no program.
    Missing,
    /// Exported: its byte order, length, how many `RET` copies were restored, and the
    /// filter's pseudo filter code (`export_pfc`; none where it failed or is too long).
    Exported {
        endian: Endian,
        len: usize,
        restored: usize,
        pfc: Option<String>,
    },
    /// The export failed with this errno.
    Failed { endian: Endian, errno: String },
}

/// A case's line, its keys in the corpus' order (`serde_json` sorts an object's keys).
fn line(id: &str, calls: &[Value], program: Program, queries: &[Value]) -> String {
    let name = |e: Endian| match e {
        Endian::Little => json!("little"),
        Endian::Big => json!("big"),
    };
    let (endian, len, extra) = match program {
        Program::Missing => (json!(null), json!(null), String::new()),
        Program::Exported {
            endian,
            len,
            restored,
            pfc,
        } => {
            let mut extra = String::new();
            if restored > 0 {
                extra += &format!(",\"restored_rets\":{restored}");
            }
            if let Some(text) = pfc {
                extra += &format!(",\"pfc\":{}", json!(text));
            }
            (name(endian), json!(len), extra)
        }
        Program::Failed { endian, errno } => (
            name(endian),
            json!(null),
            format!(",\"export_errno\":{}", json!(errno)),
        ),
    };
    format!(
        "{{\"id\":{},\"calls\":{},\"endian\":{endian},\"program_len\":{len}{extra},\"queries\":{}}}",
        json!(id),
        Value::Array(calls.to_vec()),
        Value::Array(queries.to_vec())
    )
}

/// At most `n` of `v`, evenly spread.
fn spread<T>(v: Vec<T>, n: usize) -> Vec<T> {
    if v.len() <= n {
        return v;
    }
    let len = v.len();
    v.into_iter()
        .enumerate()
        .filter(|(i, _)| (i + 1) * n / len != i * n / len)
        .map(|(_, x)| x)
        .collect()
}

/// [`rule_name`]'s name for syscall -1 (which has none), queried as -1 on every ABI.
const SKIPPED: &str = "-1";

/// The name libseccomp gives a rule's syscall on the native ABI (a pseudo number's too).
fn rule_name(sys: &Sys) -> Option<String> {
    match sys {
        Sys::Name(n) => Some(n.clone()),
        Sys::Number(-1) => Some(SKIPPED.to_string()),
        Sys::Number(nr) => c::ScmpSyscall::from_raw_syscall(*nr).get_name().ok(),
    }
}

/// The battery: every ruled syscall on every ABI of `arches` with argument vectors around
/// each comparison (one comparison's probes, the rule's others satisfied), its neighbours,
/// the whole table of each ABI where the filter has many syscalls, socketcall and ipc's
/// calls where multiplexed, foreign architectures.
fn queries(f: &Filter, arches: &[ScmpArch], rules: &[Call]) -> Vec<SeccompData> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    // A query on ABI token `audit`, its arguments as the ABI delivers them (`wide`).
    let mut push = |audit: u32, wide: bool, nr: i32, mut args: [u64; 6], out: &mut Vec<_>| {
        if !wide {
            for x in &mut args {
                *x &= 0xffff_ffff;
            }
        }
        if seen.insert((audit, nr, args)) {
            out.push(SeccompData {
                nr,
                arch: audit,
                instruction_pointer: f.ip,
                args,
            });
        }
    };
    let names: BTreeSet<String> = rules
        .iter()
        .filter_map(|c| match c {
            Call::Rule { sys, .. } => rule_name(sys),
            _ => None,
        })
        .collect();
    for &a in arches {
        let (ca, base) = (c_arch(a), sim::base(a));
        let mut push = |nr, args, out: &mut Vec<_>| push(sim::audit(a), wide(a), nr, args, out);
        let nrs: Vec<(&str, i32)> = names
            .iter()
            .filter_map(|n| {
                if n == SKIPPED {
                    return Some((n.as_str(), -1));
                }
                let nr = c::ScmpSyscall::from_name_by_arch(n, ca)
                    .ok()?
                    .as_raw_syscall();
                (nr >= 0).then_some((n.as_str(), nr))
            })
            .collect();
        if names.len() > 20 {
            let hi = nrs.iter().map(|x| x.1).max().unwrap_or(base);
            for nr in base.saturating_sub(2)..=hi + 3 {
                push(nr, [0; 6], &mut out);
            }
        }
        for &(name, nr) in &nrs {
            for d in [nr - 1, nr, nr + 1] {
                push(d, [0; 6], &mut out);
                push(d, [u64::MAX; 6], &mut out);
            }
            for call in rules {
                let Call::Rule { sys, cmps, .. } = call else {
                    continue;
                };
                if rule_name(sys).as_deref() != Some(name) || cmps.is_empty() {
                    continue;
                }
                let mut sat = [0u64; 6];
                for c in cmps {
                    sat[c.arg() as usize] = probes(c)[0];
                }
                push(nr, sat, &mut out);
                for c in cmps {
                    for p in probes(c) {
                        let mut v = sat;
                        v[c.arg() as usize] = p;
                        push(nr, v, &mut out);
                    }
                }
            }
        }
        if multiplexes(a) {
            for (name, calls) in [("socketcall", 0..=20u64), ("ipc", 0..=24)] {
                if let Ok(s) = c::ScmpSyscall::from_name_by_arch(name, ca) {
                    for k in calls {
                        push(s.as_raw_syscall(), [k, 0, 0, 0, 0, 0], &mut out);
                    }
                }
            }
        }
        push(-1, [0; 6], &mut out);
        push(base + 1099, [0; 6], &mut out);
    }
    for &audit in FOREIGN {
        if !arches.iter().any(|&a| sim::audit(a) == audit) {
            push(audit, true, 0, [0; 6], &mut out);
            push(audit, true, 1, [0; 6], &mut out);
        }
    }
    out
}
