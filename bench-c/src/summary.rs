//! The summary the top README's "Results against libseccomp" holds, made from a run's rows:
//! the level-2 and level-1 tables (the container, Firecracker and systemd filters, two of
//! crosvm's policies and the range of the ratios over all of crosvm's), and where each of the
//! optimizer issue's targets stands in this run. Printed after the full table, so that the
//! README's figures are one run's, copied as they are.

use crate::Row;
use std::fmt::Write as _;

/// The crosvm policies that get a row of their own (the others are in the range row).
const CROSVM_ROWS: &[&str] = &["common_device", "gpu_device"];

/// The cases of the level-1 table (its level-2 counterpart has every filter).
const LEVEL1_ROWS: &[&str] = &[
    "docker-default x86_64",
    "docker-default aarch64",
    "podman x86_64",
    "firecracker-x86_64 vmm",
    "firecracker-aarch64 vcpu",
    "systemd-252 x86_64",
    "crosvm common_device",
];

/// What a row's cells hold at one level.
struct Cell<'a> {
    ours: &'a str,
    theirs: &'a str,
    ratio: &'a str,
    /// Exact means (ours, libseccomp's), where the row is an executed count.
    means: Option<(f64, f64)>,
}

fn cell(row: &Row, level: u32) -> Option<Cell<'_>> {
    let i = level as usize - 1;
    let (o, t, r) = row.cells[i].as_ref()?;
    Some(Cell {
        ours: o,
        theirs: t,
        ratio: r,
        means: row.means[i],
    })
}

/// The leading number of a cell (`10.6 / 15` -> 10.6, `251` -> 251, `8.7x` -> 8.7).
fn num(s: &str) -> Option<f64> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    s[..end].parse().ok()
}

/// The mean part of an executed cell (`10.6 / 15` -> `10.6`).
fn mean_part(s: &str) -> &str {
    s.split(" / ").next().unwrap_or(s)
}

struct Rows<'a>(&'a [Row]);

impl<'a> Rows<'a> {
    /// The cells at `level` of `case`'s row in `section` whose metric starts with `metric`.
    fn at(&self, section: &str, case: &str, metric: &str, level: u32) -> Option<Cell<'a>> {
        let row = self
            .0
            .iter()
            .find(|r| r.section == section && r.case == case && r.metric.starts_with(metric))?;
        cell(row, level)
    }

    /// The cases with a program row that both libraries built, in the table's order.
    fn filters(&self) -> Vec<&'a str> {
        self.0
            .iter()
            .filter(|r| r.section == "program")
            .filter(|r| r.cells.iter().flatten().all(|c| num(&c.1).is_some()))
            .map(|r| r.case.as_str())
            .collect()
    }

    /// `case`'s program length at `level` over libseccomp's.
    fn length_ratio(&self, case: &str, level: u32) -> Option<f64> {
        let c = self.at("program", case, "", level)?;
        Some(num(c.ours)? / num(c.theirs)?)
    }

    /// The executed row `group` ("allowed", "arg-checked") of `case` at `level`: (ours,
    /// libseccomp's) means, exact where the run kept them.
    fn means(&self, case: &str, group: &str, level: u32) -> Option<(f64, f64)> {
        let c = self.at("executed", case, &format!("{group} ("), level)?;
        c.means.or_else(|| Some((num(c.ours)?, num(c.theirs)?)))
    }

    fn level_row(&self, case: &str, level: u32, out: &mut String) {
        let length = self
            .at("program", case, "", level)
            .zip(self.length_ratio(case, level))
            .map(|(c, r)| format!("{} / {} ({r:.2})", c.ours, c.theirs))
            .unwrap_or_default();
        let floor = self
            .at("executed", case, "allowed: floor", level)
            .map(|c| format!(" (floor {})", c.ours))
            .unwrap_or_default();
        let allowed = self
            .at("executed", case, "allowed (", level)
            .map(|c| format!("{} / {}{floor}", c.ours, c.theirs))
            .unwrap_or_else(|| "-".into());
        let checked = self
            .at("executed", case, "arg-checked (", level)
            .map(|c| format!("{} / {}", mean_part(c.ours), mean_part(c.theirs)))
            .unwrap_or_else(|| "-".into());
        let build = self
            .at("build+export", case, "", level)
            .map(|c| format!("{} / {} ({})", c.ours, c.theirs, c.ratio))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {case} | {length} | {allowed} | {checked} | {build} |"
        );
    }

    /// The range row over crosvm's policies: length, allowed and argument-checked means as
    /// ours / libseccomp's, build as the speed-up.
    fn crosvm_range(&self, cases: &[&str], level: u32, out: &mut String) {
        let crosvm: Vec<&str> = cases
            .iter()
            .copied()
            .filter(|c| c.starts_with("crosvm "))
            .collect();
        if crosvm.is_empty() {
            return;
        }
        let range = |v: Vec<f64>, fmt: fn(f64) -> String| match (
            v.iter().copied().reduce(f64::min),
            v.iter().copied().reduce(f64::max),
        ) {
            (Some(lo), Some(hi)) => format!("{} to {}", fmt(lo), fmt(hi)),
            _ => "-".into(),
        };
        let two = |x: f64| format!("{x:.2}");
        let times = |x: f64| format!("{x:.2}x");
        let lengths = crosvm
            .iter()
            .filter_map(|c| self.length_ratio(c, level))
            .collect();
        let mean_ratios = |group: &str| {
            crosvm
                .iter()
                .filter_map(|c| self.means(c, group, level).map(|(o, t)| o / t))
                .collect()
        };
        let builds = crosvm
            .iter()
            .filter_map(|c| num(self.at("build+export", c, "", level)?.ratio))
            .collect();
        let _ = writeln!(
            out,
            "| crosvm, all {} policies x86_64 (ratios) | {} | {} | {} | {} |",
            crosvm.len(),
            range(lengths, two),
            range(mean_ratios("allowed"), two),
            range(mean_ratios("arg-checked"), two),
            range(builds, times),
        );
    }

    fn table(&self, level: u32, pick: impl Fn(&str) -> bool, out: &mut String) {
        let l = format!("L{level}");
        let _ = writeln!(
            out,
            "| policy, arch | {l} length: ours / libseccomp (ratio) | {l} allowed, mean / max \
             executed: ours / libseccomp (floor) | {l} arg-checked mean: ours / libseccomp | {l} \
             build + export: ours / libseccomp (speed-up) |\n|---|---|---|---|---|"
        );
        let cases = self.filters();
        for &case in &cases {
            let crosvm_row = CROSVM_ROWS
                .iter()
                .any(|p| case == format!("crosvm {p} x86_64"));
            if case.starts_with("crosvm ") && !crosvm_row || !pick(case) {
                continue;
            }
            self.level_row(case, level, out);
            let view = format!("{case} [x86_64 only]");
            if level == 2 && self.at("executed", &view, "", level).is_some() {
                self.level_row(&view, level, out);
            }
        }
        self.crosvm_range(&cases, level, out);
    }

    /// The scaling cases at level 2, and the growth rows.
    fn scaling(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "| scaling (x86_64, conditional ALLOW rules) | L2 ours | L2 libseccomp | speed-up \
             |\n|---|---|---|---|"
        );
        for r in self.0.iter().filter(|r| r.section == "scaling") {
            if let Some(c) = cell(r, 2) {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    r.case, c.ours, c.theirs, c.ratio
                );
            }
        }
    }

    /// Where the targets stand in this run (level 2).
    fn targets(&self, out: &mut String) {
        let _ = writeln!(out, "| target | this run |\n|---|---|");
        let met = |ok: bool| if ok { "met" } else { "not met" };
        // How many of `n` filters meet a target.
        let on = |ok: usize, n: usize| match ok == n {
            true => format!("met on all {n} filters"),
            false => format!("met on {ok} of {n} filters"),
        };
        let docker = "docker-default x86_64 (+x86,x32)";
        for (what, section, case, at_least) in [
            (
                "build + export of Docker's x86_64 profile at least 50x faster",
                "build+export",
                docker,
                50.0,
            ),
            (
                "2000 values on one argument at least 50x faster",
                "scaling",
                "2000 values of ioctl $arg1",
                50.0,
            ),
            (
                "10 syscalls x 400 values at least 1000x faster",
                "scaling",
                "10 syscalls x 400 values of $arg0",
                1000.0,
            ),
        ] {
            if let Some(x) = self.at(section, case, "", 2).and_then(|c| num(c.ratio)) {
                let _ = writeln!(out, "| {what} | {x:.2}x: {} |", met(x >= at_least));
            }
        }
        // (A growth row's own cell is the time of the larger case over the smaller's.)
        let growth: Vec<f64> = self
            .0
            .iter()
            .filter(|r| r.section == "scaling" && r.case.starts_with("growth"))
            .filter_map(|r| num(cell(r, 2)?.ours))
            .collect();
        if !growth.is_empty() {
            let shown: Vec<String> = growth.iter().map(|g| format!("{g:.1}x")).collect();
            let _ = writeln!(
                out,
                "| 10x the rules at most 12x the time | {}: {} |",
                shown.join(" and "),
                met(growth.iter().all(|&g| g <= 12.0))
            );
        }
        let cases = self.filters();
        let lengths: Vec<(f64, &str)> = cases
            .iter()
            .filter_map(|c| Some((self.length_ratio(c, 2)?, *c)))
            .collect();
        if !lengths.is_empty() {
            let ok = lengths.iter().filter(|(r, _)| *r <= 0.5).count();
            let big = lengths
                .iter()
                .filter(|(_, c)| !c.starts_with("crosvm ") && !c.starts_with("firecracker"));
            let (lo, hi) = big.fold((f64::MAX, 0.0f64), |(lo, hi), (r, _)| {
                (lo.min(*r), hi.max(*r))
            });
            let _ = writeln!(
                out,
                "| length at most 0.5x libseccomp's | {} (the container and systemd profiles \
                 {lo:.2}x to {hi:.2}x) |",
                on(ok, lengths.len())
            );
        }
        let view = format!("{docker} [x86_64 only]");
        if let Some(c) = self.at("executed", &view, "allowed (", 2) {
            let (mean, max) = (num(c.ours), c.ours.split(" / ").nth(1).and_then(num));
            if let (Some(mean), Some(max)) = (mean, max) {
                let _ = writeln!(
                    out,
                    "| Docker's x86_64 ABI: a mean of at most 10 instructions for its allowed \
                     calls, at most 11 | {mean:.1} and {max}: {} |",
                    met(mean <= 10.0 && max <= 11.0)
                );
            }
        }
        for (group, what) in [
            ("allowed", "allowed calls, mean at most 0.7x"),
            ("arg-checked", "argument-checked calls, mean at most 0.7x"),
        ] {
            let ratios: Vec<f64> = cases
                .iter()
                .filter_map(|c| self.means(c, group, 2).map(|(o, t)| o / t))
                .collect();
            let ok = ratios.iter().filter(|&&r| r <= 0.7 + 1e-12).count();
            let _ = writeln!(out, "| {what} | {} |", on(ok, ratios.len()));
        }
    }
}

/// The README's summary of a run: its level-2 table, its level-1 table and the targets.
pub(crate) fn render(rows: &[Row]) -> String {
    let rows = Rows(rows);
    if rows.filters().is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\n## Summary (the top README's \"Results against libseccomp\")\n\nLevel 2:\n\n",
    );
    rows.table(2, |_| true, &mut s);
    s.push_str("\nLevel 1:\n\n");
    rows.table(
        1,
        |case| LEVEL1_ROWS.iter().any(|p| case.starts_with(p)),
        &mut s,
    );
    if rows.0.iter().any(|r| r.section == "scaling") {
        s.push('\n');
        rows.scaling(&mut s);
    }
    s.push_str("\nTargets (level 2):\n\n");
    rows.targets(&mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(section: &'static str, case: &str, metric: &str, l2: (&str, &str, &str)) -> Row {
        let c = |(o, t, r): (&str, &str, &str)| Some((o.to_string(), t.to_string(), r.to_string()));
        Row {
            section,
            case: case.to_string(),
            metric: metric.to_string(),
            cells: [c(l2), c(l2)],
            means: [None, None],
        }
    }

    #[test]
    fn the_summary_is_the_runs_figures() {
        let docker = "docker-default x86_64 (+x86,x32)";
        let view = "docker-default x86_64 (+x86,x32) [x86_64 only]";
        let mut rows = vec![
            row(
                "build+export",
                docker,
                "time (372 calls)",
                ("200 µs", "13.00 ms", "65.00x"),
            ),
            row("program", docker, "instructions", ("251", "1243", "4.95x")),
            row(
                "executed",
                docker,
                "allowed (913 queries)",
                ("10.6 / 15", "15.0 / 17", "1.41x"),
            ),
            row(
                "executed",
                docker,
                "arg-checked (24 queries)",
                ("14.5 / 17", "20.9 / 26", "1.44x"),
            ),
            row(
                "executed",
                view,
                "allowed (297 queries)",
                ("9.5 / 11", "14.8 / 17", "1.56x"),
            ),
            row(
                "executed",
                view,
                "allowed: floor of any comparison tree (mean)",
                ("8.14", "14.8", "1.82x"),
            ),
            row(
                "build+export",
                "crosvm net x86_64",
                "time (9 calls)",
                ("50 µs", "45 µs", "0.90x"),
            ),
            row(
                "program",
                "crosvm net x86_64",
                "instructions",
                ("23", "23", "1.00x"),
            ),
            row(
                "scaling",
                "2000 values of ioctl $arg1",
                "build+export time (program)",
                ("1.00 ms (2548 ins)", "49.00 ms (2022 ins)", "49.00x"),
            ),
            row(
                "scaling",
                "growth, 100 -> 1000 rules",
                "time x (10x the rules)",
                ("8.5x", "", ""),
            ),
        ];
        // The exact means decide a row at 0.7x where the rounded ones would not.
        rows[2].means[1] = Some((10.5, 15.0));
        let s = render(&rows);
        assert!(
            s.contains(&format!(
                "| {docker} | 251 / 1243 (0.20) | 10.6 / 15 / 15.0 / 17 | 14.5 / 20.9 | 200 µs / \
                 13.00 ms (65.00x) |"
            )),
            "{s}"
        );
        assert!(s.contains(&format!(
            "| {view} |  | 9.5 / 11 / 14.8 / 17 (floor 8.14) | - |  |"
        )));
        assert!(s.contains(
            "| crosvm, all 1 policies x86_64 (ratios) | 1.00 to 1.00 | - | - | 0.90x to 0.90x |"
        ));
        assert!(s.contains(
            "| build + export of Docker's x86_64 profile at least 50x faster | 65.00x: met |"
        ));
        assert!(s.contains("| 2000 values on one argument at least 50x faster | 49.00x: not met |"));
        assert!(s.contains("| 10x the rules at most 12x the time | 8.5x: met |"));
        assert!(s.contains(
            "| 2000 values of ioctl $arg1 | 1.00 ms (2548 ins) | 49.00 ms (2022 ins) | 49.00x |"
        ));
        assert!(s.contains("| growth, 100 -> 1000 rules | 8.5x |  |  |"));
        assert!(s.contains("| length at most 0.5x libseccomp's | met on 1 of 2 filters (the container and systemd profiles 0.20x to 0.20x) |"));
        assert!(s.contains("| Docker's x86_64 ABI: a mean of at most 10 instructions for its allowed calls, at most 11 | 9.5 and 11: met |"));
        assert!(
            s.contains("| allowed calls, mean at most 0.7x | met on all 1 filters |"),
            "{s}"
        );
        assert!(s.contains("| argument-checked calls, mean at most 0.7x | met on all 1 filters |"));
    }
}
