//! pure-seccomp against the C libseccomp (through the libseccomp crate 0.4.0), in one run and
//! one table:
//!
//! * build + export time of every policy of `../shared/policies` (crosvm's minijail policies
//!   each a case) on every architecture it names, both optimize levels, replaying the same
//!   API calls on both libraries (the policy module's recipes);
//! * scaling: 100 to 6000 conditional rules spread over many syscalls or piled on one argument;
//! * program length and instructions executed (simulated) over allowed, argument-checked,
//!   denied and frequent syscalls, with a cross-check of every verdict;
//! * the kernel's cost per syscall of each x86_64 filter, loaded in a forked child.
//!
//! ```text
//! cargo run --release -p bench-c -- [--quick] [--only SECTIONS] [--out FILE] [--shared DIR]
//!     [--queries FILE]
//! ```
//!
//! `--queries FILE` also writes every query of the executed section, one a line: the case,
//! the level, the view, the group, `seccomp_data` (arch, nr, args) and the instructions each
//! program ran (what the means and maxima of the table are made of).

use bench_c::{kernel, replay, sim};

use pure_seccomp::bpf;
use pure_seccomp::policy::{Call, Policy, Recipe, RecipeRule, Target};
use pure_seccomp::{Endian, ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

mod summary;

const USAGE: &str = "usage: bench-c [--quick] [--only build,scaling,executed,kernel] [--out FILE] \
                     [--shared DIR] [--queries FILE]";

const SECTIONS: &[&str] = &["build", "scaling", "executed", "kernel"];

const POLICIES: &[&str] = &[
    "docker-default.json",
    "podman-containers-common-seccomp.json",
    "firecracker-x86_64-unknown-linux-musl.json",
    "firecracker-aarch64-unknown-linux-musl.json",
    "systemd-252-system-service.txt",
];

/// The directory of crosvm's minijail policies, each a case of its own.
const CROSVM: &str = "crosvm-minijail-x86_64";

/// The crosvm policies the kernel section loads: the common part most devices include, and
/// the largest device policy.
const CROSVM_KERNEL: &[&str] = &["common_device.policy", "gpu_device.policy"];

struct Opts {
    /// Sections to run (empty: all).
    only: Vec<String>,
    quick: bool,
    out: Option<PathBuf>,
    shared: Option<PathBuf>,
    /// Where to write each query of the executed section.
    queries: Option<PathBuf>,
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench-c: {e}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let mut report = Report::default();
    let run = |s: &str| opts.only.is_empty() || opts.only.iter().any(|o| o == s);
    let mut cases = Vec::new();
    if run("build") || run("executed") || run("kernel") {
        cases = policy_cases(&opts, &mut report);
        // The programs of the other sections come from this one (its rows are shown only
        // when asked for).
        build_section(&opts, &mut cases, &mut report);
        if !run("build") {
            report.rows.clear();
        }
    }
    if run("scaling") {
        scaling_section(&opts, &mut report);
    }
    if run("executed") {
        let mut each = opts
            .queries
            .as_ref()
            .map(|_| String::from("case\tlevel\tview\tgroup\tarch\tnr\targs\tours\tlibseccomp\n"));
        executed_section(&cases, &mut report, each.as_mut());
        if let (Some(path), Some(text)) = (&opts.queries, each) {
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("bench-c: cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    if run("kernel") {
        kernel_section(&opts, &cases, &mut report);
    }

    let text = report.render(&opts, start.elapsed());
    print!("{text}");
    if let Some(path) = &opts.out {
        if let Err(e) = std::fs::write(path, &text) {
            eprintln!("bench-c: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("written to {}", path.display());
    }
    if report.disagreements > report.explained_disagreements {
        eprintln!(
            "bench-c: {} verdicts differ between the two programs (see above)",
            report.disagreements - report.explained_disagreements
        );
    }
    ExitCode::SUCCESS
}

fn parse_args() -> Result<Opts, String> {
    let mut opts = Opts {
        only: Vec::new(),
        quick: false,
        out: None,
        shared: None,
        queries: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => opts.quick = true,
            "--only" => {
                opts.only = it
                    .next()
                    .ok_or("--only needs sections")?
                    .split(',')
                    .map(str::to_string)
                    .collect();
                for s in &opts.only {
                    if !SECTIONS.contains(&s.as_str()) {
                        return Err(format!(
                            "unknown section {s:?} (sections: {})",
                            SECTIONS.join(",")
                        ));
                    }
                }
            }
            "--out" => opts.out = Some(it.next().ok_or("--out needs a file")?.into()),
            "--shared" => opts.shared = Some(it.next().ok_or("--shared needs a directory")?.into()),
            "--queries" => opts.queries = Some(it.next().ok_or("--queries needs a file")?.into()),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(opts)
}

/// `--shared`, `$PURE_SECCOMP_SHARED`, or `shared/` beside the repository (or one level up).
fn shared_dir(opts: &Opts) -> Option<PathBuf> {
    if let Some(d) = &opts.shared {
        return Some(d.clone());
    }
    if let Some(d) = std::env::var_os("PURE_SECCOMP_SHARED") {
        return Some(d.into());
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .skip(2)
        .take(2)
        .map(|a| a.join("shared"))
        .find(|d| d.join("policies").is_dir())
}

// ---------------------------------------------------------------------------------------------
// The report: one table, a row per (section, case, metric), levels 1 and 2 side by side.

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    notes: Vec<String>,
    /// Notes that several cases share: the note, and the cases.
    shared_notes: Vec<(String, Vec<String>)>,
    disagreements: usize,
    explained_disagreements: usize,
}

struct Row {
    section: &'static str,
    case: String,
    metric: String,
    /// Per level (1, 2): ours, libseccomp's, libseccomp / ours.
    cells: [Option<(String, String, String)>; 2],
    /// Per level, for the executed rows: the means (ours, libseccomp's) unrounded, for the
    /// summary's 0.7x counts.
    means: [Option<(f64, f64)>; 2],
}

impl Report {
    fn set(
        &mut self,
        section: &'static str,
        case: &str,
        metric: &str,
        level: u32,
        cell: (String, String, String),
    ) -> usize {
        let i = match self
            .rows
            .iter()
            .position(|r| r.section == section && r.case == case && r.metric == metric)
        {
            Some(i) => i,
            None => {
                self.rows.push(Row {
                    section,
                    case: case.to_string(),
                    metric: metric.to_string(),
                    cells: [None, None],
                    means: [None, None],
                });
                self.rows.len() - 1
            }
        };
        self.rows[i].cells[(level as usize).clamp(1, 2) - 1] = Some(cell);
        i
    }

    fn note(&mut self, s: String) {
        eprintln!("note: {s}");
        self.notes.push(s);
    }

    /// A note about `case` that other cases may share (shown once, for all of them).
    fn note_for(&mut self, case: &str, s: String) {
        eprintln!("note: {case}: {s}");
        match self.shared_notes.iter_mut().find(|(n, _)| *n == s) {
            Some((_, cases)) => cases.push(case.to_string()),
            None => self.shared_notes.push((s, vec![case.to_string()])),
        }
    }

    fn render(&self, opts: &Opts, elapsed: Duration) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "\n## pure-seccomp vs libseccomp {} (through the libseccomp crate 0.4.0){}\n",
            c_version(),
            if opts.quick { ", --quick" } else { "" }
        );
        let head = [
            "section",
            "case",
            "metric",
            "L1 ours",
            "L1 libseccomp",
            "L1 ratio",
            "L2 ours",
            "L2 libseccomp",
            "L2 ratio",
        ];
        let mut lines: Vec<Vec<String>> = vec![head.iter().map(|h| h.to_string()).collect()];
        for r in &self.rows {
            let mut l = vec![r.section.to_string(), r.case.clone(), r.metric.clone()];
            for c in &r.cells {
                match c {
                    Some((o, t, ratio)) => {
                        l.push(o.clone());
                        l.push(t.clone());
                        l.push(ratio.clone());
                    }
                    None => l.extend([String::new(), String::new(), String::new()]),
                }
            }
            lines.push(l);
        }
        let widths: Vec<usize> = (0..head.len())
            .map(|i| {
                lines
                    .iter()
                    .map(|l| l[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for (n, l) in lines.iter().enumerate() {
            s.push('|');
            for (i, cell) in l.iter().enumerate() {
                let pad = widths[i] - cell.chars().count();
                if i >= 3 {
                    let _ = write!(s, " {}{cell} |", " ".repeat(pad));
                } else {
                    let _ = write!(s, " {cell}{} |", " ".repeat(pad));
                }
            }
            s.push('\n');
            if n == 0 {
                s.push('|');
                for (i, w) in widths.iter().enumerate() {
                    let dashes = "-".repeat(*w);
                    if i >= 3 {
                        let _ = write!(s, " {dashes}:|");
                    } else {
                        let _ = write!(s, " {dashes} |");
                    }
                }
                s.push('\n');
            }
        }
        s.push_str(
            "\nratio = libseccomp / ours (above 1: ours is faster, smaller or runs fewer \
             instructions). Times are medians of repeated runs, in CPU time; `a / b` is mean / \
             max instructions executed; kernel ns are per syscall with the filter loaded, minus \
             the same syscall in the same child before loading it (median of the rounds; \
             noisy, +-20%).\n",
        );
        if !self.notes.is_empty() || !self.shared_notes.is_empty() {
            s.push_str("\nNotes:\n");
            for (n, cases) in &self.shared_notes {
                let _ = writeln!(s, "* {}: {n}", cases.join("; "));
            }
            for n in &self.notes {
                let _ = writeln!(s, "* {n}");
            }
        }
        let _ = writeln!(s, "\n(run took {:.1} s)", elapsed.as_secs_f64());
        s.push_str(&summary::render(&self.rows));
        s
    }
}

/// The C library's version, as its crate reports it.
fn c_version() -> String {
    libseccomp::ScmpVersion::current()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
        .unwrap_or_else(|_| "?".into())
}

fn fmt_time(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1e6 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// The thread's CPU time since `t` (from [`kernel::thread_cpu_ns`]): on a shared machine, time
/// spent descheduled does not count.
fn cpu_since(t: u128) -> Duration {
    Duration::from_nanos((kernel::thread_cpu_ns() - t) as u64)
}

/// Runs `f` once, then again until the time budget (or the repetition bounds) is used up;
/// gives the median CPU time and the first result.
fn timed<T>(quick: bool, mut f: impl FnMut() -> T) -> (Duration, T) {
    let t = kernel::thread_cpu_ns();
    let first = f();
    let t0 = cpu_since(t);
    let mut times = vec![t0];
    sample(&mut times, repetitions(quick, t0), &mut f);
    (median(times), first)
}

/// Repetitions (rounds, for two functions) after a first run that took `slow` (of the slower
/// of two): a budget of about 0.4 s (0.05 s quick), at least 2 and at most 200; none after a
/// run over 2 s (300 ms quick), 2 after one over 500 ms.
fn repetitions(quick: bool, slow: Duration) -> usize {
    let budget = if quick { 0.05 } else { 0.4 };
    if slow > Duration::from_secs(2) || (quick && slow > Duration::from_millis(300)) {
        0
    } else if slow > Duration::from_millis(500) {
        2
    } else {
        ((budget / slow.as_secs_f64().max(1e-7)) as usize).clamp(2, 200)
    }
}

/// How many runs of a function taking `t` a run fill one run of one taking `slow` (1 to 200).
fn reps_per_round(slow: Duration, t: Duration) -> usize {
    ((slow.as_secs_f64() / t.as_secs_f64().max(1e-7)).round() as usize).clamp(1, 200)
}

/// Runs `f` `n` times, adding each run's CPU time to `times`.
fn sample<T>(times: &mut Vec<Duration>, n: usize, f: &mut impl FnMut() -> T) {
    for _ in 0..n {
        let t = kernel::thread_cpu_ns();
        std::hint::black_box(f());
        times.push(cpu_since(t));
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// [`timed`] for two functions at once, in alternation: each round runs the slower one once
/// and the faster one as many times as take as long, so that both medians come from the same
/// stretch of time. On a shared machine the speed changes in phases of tens of
/// milliseconds (the same build took 230 µs in one phase and 470 µs in the next); measured
/// one after the other, a fast function's 80 ms of runs fall in one phase and a slow one's
/// 400 ms average over several (Docker's x86_64 speed-up read 28x to 68x over thirteen runs).
fn timed_pair<A, B>(
    quick: bool,
    mut a: impl FnMut() -> A,
    mut b: impl FnMut() -> B,
) -> ((Duration, A), (Duration, B)) {
    let t = kernel::thread_cpu_ns();
    let first_a = a();
    let ta = cpu_since(t);
    let t = kernel::thread_cpu_ns();
    let first_b = b();
    let tb = cpu_since(t);
    let slow = ta.max(tb);
    let (ka, kb) = (reps_per_round(slow, ta), reps_per_round(slow, tb));
    // (The budget is each function's, as in `timed`: a round spends about `slow` on each.)
    let rounds = repetitions(quick, slow);
    let (mut times_a, mut times_b) = (vec![ta], vec![tb]);
    for _ in 0..rounds {
        sample(&mut times_b, kb, &mut b);
        sample(&mut times_a, ka, &mut a);
    }
    if rounds == 0 {
        // The slower one runs too long to repeat (seconds): the faster still gets its runs.
        if ta < tb {
            sample(&mut times_a, ka, &mut a);
        } else {
            sample(&mut times_b, kb, &mut b);
        }
    }
    ((median(times_a), first_a), (median(times_b), first_b))
}

// ---------------------------------------------------------------------------------------------
// The policies

/// One filter of one policy for one target, at both levels, with both libraries' programs.
struct Case {
    label: String,
    /// The recipe (rules common to both libraries), optimize level unset.
    recipe: Recipe,
    endian: Endian,
    /// Per level: (ours, theirs).
    programs: [(replay::Built, replay::Built); 2],
    /// Whether the kernel section loads it (x86_64 filters; of crosvm's, which are much
    /// alike, only [`CROSVM_KERNEL`]'s).
    kernel: bool,
}

fn policy_cases(opts: &Opts, report: &mut Report) -> Vec<Case> {
    let Some(dir) = shared_dir(opts).map(|d| d.join("policies")) else {
        report.note(
            "no shared/policies directory found (set PURE_SECCOMP_SHARED or --shared): the \
             policy rows are left out"
                .into(),
        );
        return Vec::new();
    };
    let mut files: Vec<(PathBuf, String, bool)> = POLICIES
        .iter()
        .map(|file| {
            let short = file
                .trim_end_matches(".json")
                .trim_end_matches(".txt")
                .replace("-unknown-linux-musl", "")
                .replace("-containers-common-seccomp", "")
                .replace("-system-service", "");
            (dir.join(file), short, true)
        })
        .collect();
    // crosvm's minijail policies, one a device (or shared part), in name order.
    let crosvm = dir.join(CROSVM);
    match std::fs::read_dir(&crosvm) {
        Ok(entries) => {
            let mut policies: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "policy"))
                .collect();
            policies.sort();
            for p in policies {
                let stem = p.file_stem().unwrap_or_default().to_string_lossy();
                let short = format!("crosvm {stem}");
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                let kernel = CROSVM_KERNEL.contains(&name.as_ref());
                files.push((p, short, kernel));
            }
        }
        Err(e) => report.note(format!("{}: {e}", crosvm.display())),
    }
    let mut cases = Vec::new();
    for (path, short, kernel) in files {
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let policy = match Policy::from_file(&path) {
            Ok(p) => p,
            Err(e) => {
                report.note(format!("{}: {e}", path.display()));
                continue;
            }
        };
        let mut targets = policy.targets();
        if targets.is_empty() {
            targets = vec![ScmpArch::X8664, ScmpArch::Aarch64];
        }
        for arch in targets {
            let recipes = match policy.filters(&Target::new(arch)) {
                Ok(r) => r,
                Err(e) => {
                    report.note(format!("{file} for {arch}: {e}"));
                    continue;
                }
            };
            for recipe in recipes {
                let (common, unknown) = replay::common(&recipe);
                let arch_name = arch_label(&common.arches);
                let label = if recipe.name.is_empty() || recipe.name == "allow-list" {
                    format!("{short} {arch_name}")
                } else {
                    format!("{short} {} {arch_name}", recipe.name)
                };
                if !unknown.is_empty() {
                    report.note_for(
                        &label,
                        format!(
                            "rules left out on both sides because libseccomp {} does not know \
                             their syscall: {}",
                            c_version(),
                            unknown.join(", ")
                        ),
                    );
                }
                if !recipe.skipped.is_empty() {
                    report.note_for(
                        &label,
                        format!(
                            "names pure-seccomp does not know, skipped: {}",
                            recipe.skipped.join(", ")
                        ),
                    );
                }
                let endian = replay::ours_ctx(&common.calls())
                    .map(|c| c.byte_order())
                    .unwrap_or(Endian::Little);
                cases.push(Case {
                    label,
                    recipe: common,
                    endian,
                    programs: [
                        (Err(String::new()), Err(String::new())),
                        (Err(String::new()), Err(String::new())),
                    ],
                    kernel,
                });
            }
        }
    }
    cases
}

/// `x86_64 (+x86,x32)`.
fn arch_label(arches: &[ScmpArch]) -> String {
    let short = |a: &ScmpArch| {
        a.to_string()
            .trim_start_matches("SCMP_ARCH_")
            .to_ascii_lowercase()
    };
    match arches {
        [] => String::new(),
        [one] => short(one),
        [first, rest @ ..] => format!(
            "{} (+{})",
            short(first),
            rest.iter().map(short).collect::<Vec<_>>().join(",")
        ),
    }
}

fn with_level(recipe: &Recipe, level: u32) -> Vec<Call> {
    let mut r = recipe.clone();
    r.optimize = Some(level);
    r.calls()
}

fn ratio(ours: f64, theirs: f64) -> Option<f64> {
    (ours > 0.0 && theirs.is_finite()).then(|| theirs / ours)
}

/// A ratio cell.
fn rs(r: Option<f64>) -> String {
    r.map(|x| format!("{x:.2}x")).unwrap_or_default()
}

/// A result cell: the value, or "error" (the notes say which).
fn show<T>(r: &Result<T, String>, f: impl Fn(&T) -> String) -> String {
    match r {
        Ok(v) => f(v),
        Err(_) => "error".to_string(),
    }
}

fn shorten(e: &str) -> String {
    let e = e.replace('|', "/");
    if e.chars().count() > 60 {
        format!("{}...", e.chars().take(57).collect::<String>())
    } else {
        e
    }
}

// ---------------------------------------------------------------------------------------------
// (a) build + export

fn build_section(opts: &Opts, cases: &mut [Case], report: &mut Report) {
    for case in cases.iter_mut() {
        eprintln!("build: {}", case.label);
        for level in [1u32, 2] {
            let calls = with_level(&case.recipe, level);
            let ((t_ours, ours), (t_theirs, theirs)) = timed_pair(
                opts.quick,
                || replay::ours(&calls),
                || replay::theirs(&calls),
            );
            for (who, r) in [("pure-seccomp", &ours), ("libseccomp", &theirs)] {
                if let Err(e) = r {
                    let note = format!("{}: {who} fails: {e}", case.label);
                    if !report.notes.contains(&note) {
                        report.note(note);
                    }
                }
            }
            let fail = |r: &replay::Built, t: Duration| match r {
                Ok(_) => fmt_time(t),
                Err(_) => "error".to_string(),
            };
            report.set(
                "build+export",
                &case.label,
                &format!("time ({} calls)", calls.len()),
                level,
                (
                    fail(&ours, t_ours),
                    fail(&theirs, t_theirs),
                    rs((ours.is_ok() && theirs.is_ok())
                        .then(|| ratio(t_ours.as_secs_f64(), t_theirs.as_secs_f64()))
                        .flatten()),
                ),
            );
            let len = |r: &replay::Built| -> Result<usize, String> {
                r.as_ref().map(|b| b.len() / 8).map_err(|e| e.clone())
            };
            let (lo, lt) = (len(&ours), len(&theirs));
            report.set(
                "program",
                &case.label,
                "instructions",
                level,
                (
                    show(&lo, |n| n.to_string()),
                    show(&lt, |n| n.to_string()),
                    rs(match (&lo, &lt) {
                        (Ok(a), Ok(b)) => ratio(*a as f64, *b as f64),
                        _ => None,
                    }),
                ),
            );
            case.programs[level as usize - 1] = (ours, theirs);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (b) scaling

fn synthetic(name: &str, rules: Vec<RecipeRule>) -> Recipe {
    Recipe {
        name: name.to_string(),
        default_action: ScmpAction::Errno(1),
        arches: vec![ScmpArch::X8664],
        attributes: Vec::new(),
        optimize: None,
        rules,
        skipped: Vec::new(),
    }
}

fn eq(arg: u32, v: u64) -> ScmpArgCompare {
    ScmpArgCompare::new(arg, ScmpCompareOp::Equal, v)
}

fn allow(name: &str, conditions: Vec<ScmpArgCompare>) -> RecipeRule {
    RecipeRule {
        action: ScmpAction::Allow,
        syscall: name.to_string(),
        conditions,
    }
}

fn scaling_section(opts: &Opts, report: &mut Report) {
    // x86_64 syscalls that both libraries know.
    let names: Vec<String> = sim::syscalls(ScmpArch::X8664)
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| libseccomp::ScmpSyscall::from_name(n).is_ok())
        .collect();
    let spread = |n: usize| {
        let rules = (0..n)
            .map(|i| {
                let v = i as u64;
                allow(
                    &names[i % names.len()],
                    vec![
                        eq(0, v),
                        eq(1, v.wrapping_mul(0x9e37_79b9) & 0xffff_ffff_ffff),
                    ],
                )
            })
            .collect();
        synthetic(
            &format!(
                "{n} rules over {} syscalls, 2 conditions each",
                n.min(names.len())
            ),
            rules,
        )
    };
    let piled = |n: usize| {
        let rules = (0..n)
            .map(|i| allow("ioctl", vec![eq(1, 0x4000_0000 + i as u64 * 3)]))
            .collect();
        synthetic(&format!("{n} values of ioctl $arg1"), rules)
    };
    let mut cases = Vec::new();
    for n in [100, 1000, 6000] {
        cases.push(spread(n));
    }
    for n in [100, 1000, 2000, 6000] {
        cases.push(piled(n));
    }
    // Distinct values on each syscall (the same list on each would be one shared subtree).
    let ten: Vec<RecipeRule> = names
        .iter()
        .take(10)
        .enumerate()
        .flat_map(|(i, s)| {
            (0..400u64)
                .map(move |v| allow(s, vec![eq(0, v * 0x1_0001 + 7 + i as u64 * 0x100_0000)]))
        })
        .collect();
    cases.push(synthetic("10 syscalls x 400 values of $arg0", ten));
    // minijail's `arg & MASK` (any bit of MASK set) is one rule per bit, and a line with two
    // such tests one rule per pair of bits: a fuzzed crosvm-style policy's two `clone` lines.
    let bits = |mask: u64| (0..64).map(|i| 1u64 << i).filter(move |b| mask & b != 0);
    let bit = |arg: u32, b: u64| ScmpArgCompare::new(arg, ScmpCompareOp::MaskedEqual(b), b);
    let mut masked: Vec<RecipeRule> = bits(0xB_BB0B_BB71_73FF)
        .map(|b| allow("clone", vec![bit(5, b)]))
        .collect();
    for b2 in bits(0xBEB_BB10) {
        for b5 in bits(0xBEBB_B0B7_1700) {
            let ne = ScmpArgCompare::new(1, ScmpCompareOp::NotEqual, 7);
            masked.push(allow("clone", vec![ne, bit(2, b2), bit(5, b5)]));
        }
    }
    cases.push(synthetic(
        &format!(
            "{} one-bit masks on clone (minijail `arg & MASK`)",
            masked.len()
        ),
        masked,
    ));

    // libseccomp's times, by case and level, for the growth rows.
    let mut theirs_times: Vec<(String, u32, Duration)> = Vec::new();
    for case in &cases {
        eprintln!("scaling: {}", case.name);
        for level in [1u32, 2] {
            let calls = with_level(case, level);
            // libseccomp's generator is super-linear: in a child, stopped after a limit, with
            // ours timed beside it there; alone here when it is stopped.
            let limit = Duration::from_secs(if opts.quick { 4 } else { 60 });
            let quick = opts.quick;
            let child = kernel::in_child(limit, || {
                let ((t_ours, _), (t, r)) =
                    timed_pair(quick, || replay::ours(&calls), || replay::theirs(&calls));
                let mut out = (t_ours.as_nanos() as u64).to_le_bytes().to_vec();
                out.extend(encode(t, &r));
                out
            });
            let paired = child.as_deref().and_then(|b| {
                let t_ours = Duration::from_nanos(u64::from_le_bytes(b.get(..8)?.try_into().ok()?));
                Some((t_ours, decode(&b[8..])?))
            });
            // (The child sends its times only: our program is built here once more.)
            let (t_ours, ours, (t_theirs, theirs)) = match paired {
                Some((t_ours, theirs)) => (t_ours, replay::ours(&calls), theirs),
                None => {
                    let (t_ours, ours) = timed(opts.quick, || replay::ours(&calls));
                    let stopped = Err(format!("stopped after {}", fmt_time(limit)));
                    (t_ours, ours, (limit, stopped))
                }
            };
            eprintln!(
                "  level {level}: ours {}, libseccomp {}",
                fmt_time(t_ours),
                fmt_time(t_theirs)
            );
            let cell = |r: &replay::Built, t: Duration| match r {
                Err(e) if e.starts_with("stopped") => format!("> {}", fmt_time(t)),
                Ok(b) => format!("{} ({} ins)", fmt_time(t), b.len() / 8),
                Err(e) if e.contains("4096") || e.contains("large") || e.contains("ERANGE") => {
                    format!("{} (too large)", fmt_time(t))
                }
                Err(e) => format!("{} (error: {})", fmt_time(t), shorten(e)),
            };
            report.set(
                "scaling",
                &case.name,
                "build+export time (program)",
                level,
                (
                    cell(&ours, t_ours),
                    cell(&theirs, t_theirs),
                    match &theirs {
                        Err(e) if e.starts_with("stopped") => {
                            format!(
                                ">{}",
                                rs(ratio(t_ours.as_secs_f64(), t_theirs.as_secs_f64()))
                            )
                        }
                        _ => rs(ratio(t_ours.as_secs_f64(), t_theirs.as_secs_f64())),
                    },
                ),
            );
            if theirs.is_ok() {
                theirs_times.push((case.name.clone(), level, t_theirs));
            }
            if let Err(e) = &theirs {
                if e.starts_with("stopped") {
                    report.note(format!(
                        "scaling, {} level {level}: libseccomp was stopped after {}",
                        case.name,
                        fmt_time(limit)
                    ));
                }
            }
            if let Err(e) = &ours {
                if !report
                    .notes
                    .iter()
                    .any(|n| n.starts_with("pure-seccomp refuses"))
                {
                    report.note(format!(
                        "pure-seccomp refuses to export a program over the kernel's 4096 \
                         instructions (`too large`: the time shown is the time to the error): {e}"
                    ));
                }
            }
            if let Ok(b) = &theirs {
                if b.len() / 8 > 4096
                    && !report
                        .notes
                        .iter()
                        .any(|n| n.starts_with("libseccomp exports"))
                {
                    report.note(format!(
                        "libseccomp exports programs over 4096 instructions (e.g. {} for {}, \
                         level {level}); the kernel refuses them at load time",
                        b.len() / 8,
                        case.name
                    ));
                }
            }
        }
    }
    growth_rows(opts, &cases, &theirs_times, report);
}

/// Growth with 10x the rules, spread and piled: our two builds timed in alternation (the rows
/// above time each case apart, and 10x the rules costs at most 12x the time is a target);
/// libseccomp's from its rows.
fn growth_rows(
    opts: &Opts,
    cases: &[Recipe],
    theirs_times: &[(String, u32, Duration)],
    report: &mut Report,
) {
    let find = |prefix: &str, what: &str| {
        cases
            .iter()
            .find(|c| c.name.starts_with(prefix) && c.name.contains(what))
    };
    for (what, label) in [
        ("rules over", "100 -> 1000 rules over many syscalls"),
        ("values of", "100 -> 1000 values of ioctl $arg1"),
    ] {
        let (Some(small), Some(large)) = (find("100 ", what), find("1000 ", what)) else {
            continue;
        };
        eprintln!("scaling: growth, {label}");
        for level in [1u32, 2] {
            let (cs, cl) = (with_level(small, level), with_level(large, level));
            let ((ts, _), (tl, _)) =
                timed_pair(opts.quick, || replay::ours(&cs), || replay::ours(&cl));
            let theirs_t = |name: &str| {
                theirs_times
                    .iter()
                    .find(|(n, l, _)| n == name && *l == level)
                    .map(|x| x.2)
            };
            let growth =
                |s: Duration, l: Duration| format!("{:.1}x", l.as_secs_f64() / s.as_secs_f64());
            let theirs = match (theirs_t(&small.name), theirs_t(&large.name)) {
                (Some(s), Some(l)) => growth(s, l),
                _ => String::new(),
            };
            report.set(
                "scaling",
                &format!("growth, {label}"),
                "time x (10x the rules)",
                level,
                (growth(ts, tl), theirs, String::new()),
            );
        }
    }
}

/// A timing and a build result as bytes (from a child).
fn encode(t: Duration, r: &replay::Built) -> Vec<u8> {
    let mut out = (t.as_nanos() as u64).to_le_bytes().to_vec();
    match r {
        Ok(b) => {
            out.push(1);
            out.extend_from_slice(b);
        }
        Err(e) => {
            out.push(0);
            out.extend_from_slice(e.as_bytes());
        }
    }
    out
}

fn decode(b: &[u8]) -> Option<(Duration, replay::Built)> {
    let t = Duration::from_nanos(u64::from_le_bytes(b.get(..8)?.try_into().ok()?));
    let rest = b.get(9..)?.to_vec();
    Some(match b.get(8)? {
        1 => (t, Ok(rest)),
        _ => (t, Err(String::from_utf8_lossy(&rest).into_owned())),
    })
}

// ---------------------------------------------------------------------------------------------
// (c) instructions executed

/// The executed section; with `each`, every query as a line of text (see `--queries`).
fn executed_section(cases: &[Case], report: &mut Report, mut each: Option<&mut String>) {
    let mut shown = 0;
    for case in cases {
        let queries = sim::queries(&case.recipe);
        let mut views = vec![("", queries)];
        if case.recipe.arches[0] == ScmpArch::X8664 && case.recipe.arches.len() > 1 {
            let only = views[0].1.only(ScmpArch::X8664);
            views.push((" [x86_64 only]", only));
        }
        // Disagreements by explanation: cross-endian RET copies, renumbered syscalls, none.
        let (mut swapped, mut renumbered, mut unexplained) = (0, Vec::new(), 0);
        let mut queried = 0;
        for level in [1u32, 2] {
            let (ours, theirs) = &case.programs[level as usize - 1];
            let (Ok(ours), Ok(theirs)) = (ours, theirs) else {
                continue;
            };
            let (Ok(po), Ok(pt)) = (
                bpf::decode(ours, case.endian),
                bpf::decode(theirs, case.endian),
            ) else {
                report.note(format!("{}: a program does not decode", case.label));
                continue;
            };
            for (suffix, q) in &views {
                for (group, data) in q.groups() {
                    let mut dis = Vec::new();
                    let mut counts = Vec::new();
                    let Some((so, st)) = sim::run(
                        &po,
                        &pt,
                        case.endian,
                        data,
                        &mut dis,
                        each.is_some().then_some(&mut counts),
                    ) else {
                        continue;
                    };
                    if let Some(out) = each.as_deref_mut() {
                        let view = if suffix.is_empty() {
                            "all"
                        } else {
                            suffix.trim()
                        };
                        for (d, o, t) in counts {
                            let _ = writeln!(
                                out,
                                "{}\tL{level}\t{view}\t{group}\t{:#x}\t{}\t{:x?}\t{o}\t{t}",
                                case.label, d.arch, d.nr, d.args
                            );
                        }
                    }
                    let f = |s: sim::Stat| format!("{:.1} / {}", s.mean, s.max);
                    let row = report.set(
                        "executed",
                        &format!("{}{suffix}", case.label),
                        &format!("{group} ({} queries)", data.len()),
                        level,
                        (f(so), f(st), rs(ratio(so.mean, st.mean))),
                    );
                    report.rows[row].means[level as usize - 1] = Some((so.mean, st.mean));
                    // On one ABI (a filter of one, or x86_64's own calls), the least mean any
                    // search tree of comparisons can run over the allowed calls.
                    let one_abi = case.recipe.arches.len() == 1 || !suffix.is_empty();
                    if group == "allowed" && level == 2 && one_abi {
                        if let Some(floor) = comparison_floor(data) {
                            report.set(
                                "executed",
                                &format!("{}{suffix}", case.label),
                                "allowed: floor of any comparison tree (mean)",
                                level,
                                (
                                    format!("{floor:.2}"),
                                    format!("{:.1}", st.mean),
                                    rs(ratio(floor, st.mean)),
                                ),
                            );
                        }
                    }
                    if !suffix.is_empty() {
                        continue; // the same queries were checked in the full view
                    }
                    queried += data.len();
                    for d in &dis {
                        report.disagreements += 1;
                        if d.is_cross_endian_copy() {
                            swapped += 1;
                            report.explained_disagreements += 1;
                        } else if let Some(name) = renamed(&case.recipe.arches, d) {
                            renumbered.push(name);
                            report.explained_disagreements += 1;
                        } else {
                            unexplained += 1;
                            if shown < 20 {
                                shown += 1;
                                eprintln!(
                                    "!!! DISAGREEMENT {} level {level} {group}: arch {:#x} nr {} \
                                     args {:x?}: ours {:#010x}, libseccomp {:#010x}",
                                    case.label,
                                    d.data.arch,
                                    d.data.nr,
                                    d.data.args,
                                    d.ours,
                                    d.theirs
                                );
                            }
                        }
                    }
                }
            }
        }
        if unexplained > 0 {
            report.note(format!(
                "!!! {}: {unexplained} of {queried} verdicts DIFFER between the two programs \
                 (the first are printed on stderr)",
                case.label
            ));
        }
        if swapped > 0 {
            report.note(format!(
                "{}: {swapped} of {queried} verdicts differ because libseccomp's program has \
                 byte-swapped RET copies (its cross-endian bug on a little-endian host, see the \
                 conformance corpus' README)",
                case.label
            ));
        }
        if !renumbered.is_empty() {
            renumbered.sort();
            renumbered.dedup();
            report.note(format!(
                "{}: verdicts differ on {} because libseccomp {}'s tables number it otherwise",
                case.label,
                renumbered.join(", "),
                c_version()
            ));
        }
    }
    if report.disagreements == 0 {
        report.note("every verdict of the two programs agrees on every query".into());
    }
}

/// The least mean number of instructions that any filter deciding the syscall number with a
/// search tree of comparisons (`jeq`, `jgt`, `jge`: what the kernel's action cache reads) runs
/// over these calls, all of one ABI and each equally likely: 4 (load and check the
/// architecture, load the number, return) plus the entropy of which maximal run of
/// consecutive allowed numbers a call falls in (at least one test). (A leaf of such a tree holds an interval of
/// numbers less some single values, each of which costs its path a `jeq`; giving each run a
/// leaf of its own at that depth keeps Kraft's inequality, so the tests a call makes average
/// at least the entropy.)
fn comparison_floor(allowed: &[bpf::SeccompData]) -> Option<f64> {
    let mut nrs: Vec<u32> = allowed.iter().map(|d| d.nr as u32).collect();
    nrs.sort_unstable();
    nrs.dedup();
    if nrs.is_empty() {
        return None;
    }
    let n = nrs.len() as f64;
    let term = |run: usize| {
        let p = run as f64 / n;
        -p * p.log2()
    };
    let (mut h, mut run) = (0.0, 1);
    for w in nrs.windows(2) {
        if w[1] == w[0] + 1 {
            run += 1;
        } else {
            h += term(run);
            run = 1;
        }
    }
    h += term(run);
    // (At least one test of the number, unless every number is allowed.)
    Some(4.0 + h.max(1.0))
}

/// The syscall of a disagreement, when libseccomp numbers it otherwise on its ABI.
fn renamed(arches: &[ScmpArch], d: &sim::Disagreement) -> Option<String> {
    let arch = arches.iter().copied().find(|&a| {
        sim::audit(a) == d.data.arch && ((a == ScmpArch::X32) == (d.data.nr >= 0x4000_0000))
    })?;
    let name = pure_seccomp::ScmpSyscall::from(d.data.nr)
        .get_name_by_arch(arch)
        .ok()?;
    let theirs = libseccomp::ScmpSyscall::from_name_by_arch(&name, replay::arch(arch).ok()?)
        .map(i32::from)
        .ok();
    (theirs != Some(d.data.nr)).then(|| format!("{} {name}", arch_label(&[arch])))
}

// ---------------------------------------------------------------------------------------------
// (d) the kernel's cost

static FUTEX_WORD: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The three probes of a filter: an argument-checked allowed syscall, an unconditionally
/// allowed one, a denied one that returns an errno. Chosen by simulating our program among
/// harmless candidates.
fn probes(case: &Case, prog: &[bpf::Instruction]) -> [Option<(String, kernel::Probe)>; 3] {
    let futex = FUTEX_WORD.as_ptr() as u64;
    let arg_checked: &[(&str, [u64; 6])] = &[
        ("personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
        ("futex", [futex, 129, 0, 0, 0, 0]),
        ("futex", [futex, 1, 0, 0, 0, 0]),
        ("fcntl", [0, 1, 0, 0, 0, 0]),
    ];
    let plain: &[(&str, [u64; 6])] = &[
        ("getppid", [0; 6]),
        ("gettid", [0; 6]),
        ("getpid", [0; 6]),
        ("getuid", [0; 6]),
    ];
    let denied: &[(&str, [u64; 6])] = &[
        ("syslog", [10, 0, 0, 0, 0, 0]),
        ("get_mempolicy", [0; 6]),
        ("kcmp", [0; 6]),
        ("getppid", [0; 6]),
        ("getpgrp", [0; 6]),
    ];
    let rules = &case.recipe.rules;
    let verdict = |name: &str, args: [u64; 6]| -> Option<(i32, u32)> {
        let nr = sim::nr(name, ScmpArch::X8664)?;
        let d = bpf::SeccompData {
            nr,
            arch: sim::audit(ScmpArch::X8664),
            instruction_pointer: 0,
            args,
        };
        bpf::simulate(prog, &d, Endian::Little)
            .ok()
            .map(|o| (nr, o.ret))
    };
    const ALLOW: u32 = 0x7fff_0000;
    let pick = |cands: &[(&str, [u64; 6])], ok: &dyn Fn(&str, u32) -> bool| {
        cands.iter().find_map(|(name, args)| {
            let (nr, ret) = verdict(name, *args)?;
            ok(name, ret).then(|| {
                (
                    name.to_string(),
                    kernel::Probe {
                        nr: i64::from(nr),
                        args: *args,
                    },
                )
            })
        })
    };
    [
        pick(arg_checked, &|n, ret| {
            ret == ALLOW
                && rules
                    .iter()
                    .any(|r| r.syscall == n && !r.conditions.is_empty())
                && !rules
                    .iter()
                    .any(|r| r.syscall == n && r.conditions.is_empty())
        }),
        pick(plain, &|n, ret| {
            ret == ALLOW
                && rules
                    .iter()
                    .any(|r| r.syscall == n && r.conditions.is_empty())
        }),
        pick(denied, &|_, ret| ret & 0xffff_0000 == 0x0005_0000),
    ]
}

/// The kernel timings of one program: per child, (unfiltered, filtered) ns per probe.
type Rounds = Result<Vec<Vec<(f64, f64)>>, String>;

fn kernel_section(opts: &Opts, cases: &[Case], report: &mut Report) {
    if ScmpArch::native() != ScmpArch::X8664 {
        report.note("kernel cost: measured on x86_64 hosts only".into());
        return;
    }
    let (iters, rounds) = if opts.quick { (2_000, 1) } else { (20_000, 5) };
    for case in cases {
        if case.recipe.arches[0] != ScmpArch::X8664 || !case.kernel {
            continue;
        }
        let Ok(ours1) = &case.programs[0].0 else {
            continue;
        };
        let Ok(prog) = bpf::decode(ours1, Endian::Little) else {
            continue;
        };
        let picks = probes(case, &prog);
        let chosen: Vec<kernel::Probe> = picks.iter().flatten().map(|(_, p)| *p).collect();
        if chosen.is_empty() {
            continue;
        }
        eprintln!("kernel: {}", case.label);
        // Per level and library: each round's (unfiltered, filtered) per probe; the rounds
        // of the four programs taken in turns.
        let mut runs: [[Rounds; 2]; 2] =
            std::array::from_fn(|_| std::array::from_fn(|_| Ok(Vec::new())));
        for _ in 0..rounds {
            for (l, level) in runs.iter_mut().enumerate() {
                let (ours, theirs) = &case.programs[l];
                for (slot, p) in level.iter_mut().zip([ours, theirs]) {
                    let r = p
                        .as_ref()
                        .map_err(|e| e.clone())
                        .and_then(|bytes| kernel::time_in_child(bytes, &chosen, iters));
                    match (slot, r) {
                        (Ok(v), Ok(r)) => v.push(r),
                        (slot @ Ok(_), Err(e)) => *slot = Err(e),
                        _ => {}
                    }
                }
            }
        }
        // The median over rounds of (filtered - unfiltered), per probe.
        let cost =
            |r: &Result<Vec<Vec<(f64, f64)>>, String>, k: usize| -> Result<(f64, f64), String> {
                let rounds = r.as_ref().map_err(|e| e.clone())?;
                let mut d: Vec<f64> = rounds.iter().map(|v| v[k].1 - v[k].0).collect();
                let mut b: Vec<f64> = rounds.iter().map(|v| v[k].0).collect();
                d.sort_by(f64::total_cmp);
                b.sort_by(f64::total_cmp);
                Ok((d[d.len() / 2], b[b.len() / 2]))
            };
        let mut unfiltered = Vec::new();
        for (l, [to, tt]) in runs.iter().enumerate() {
            let level = l as u32 + 1;
            let mut k = 0;
            for (kind, pick) in ["arg-checked allow", "unconditional allow", "denied (errno)"]
                .iter()
                .zip(&picks)
            {
                let metric = match pick {
                    Some((name, _)) => format!("ns/syscall, {kind}: {name}"),
                    None => format!("ns/syscall, {kind}"),
                };
                let cell = match pick {
                    None => ("n/a".to_string(), "n/a".to_string(), String::new()),
                    Some((name, _)) => {
                        let (co, ct) = (cost(to, k), cost(tt, k));
                        if let (Ok((_, b)), 0) = (&co, l) {
                            unfiltered.push(format!("{name} {b:.0} ns"));
                        }
                        let f = |r: &Result<(f64, f64), String>| match r {
                            Ok((x, _)) => (format!("{x:.1}"), *x),
                            Err(e) => (format!("error: {}", shorten(e)), f64::NAN),
                        };
                        let ((so, xo), (st, xt)) = (f(&co), f(&ct));
                        k += 1;
                        (so, st, rs(ratio(xo, xt)))
                    }
                };
                report.set("kernel", &case.label, &metric, level, cell);
            }
        }
        report.note(format!(
            "kernel, {}: the same syscalls unfiltered: {}",
            case.label,
            unfiltered.join(", ")
        ));
    }
}
