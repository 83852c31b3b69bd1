//! The comparison table: which rows exist, how each is labelled and judged, and its markdown.
//!
//! A row is one secret kind × one operation × one thread count: Go's mirror at `-cpu W` beside our bench with W
//! threads (`/single` for 1, `/parallel` for 2, `/parallel4` for 4). Rows at 1 and 2 threads carry the target
//! ours ÷ Go ≤ [`TARGET`]; 4-thread rows, and any row with more threads than the machine has cores, are shown
//! with no target.

use super::bootstrap::{self, Interval};
use super::figures::Figures;
use super::protection_changes::OurCount;
use crate::go_bench;
use crate::stats::Summary;

/// The ratio ours ÷ Go a targeted row must stay at or below, over its whole 95 % interval.
pub const TARGET: f64 = 0.8;

/// Our bench of one `mprotect` pair on a locked page: the least an access window costs, shown in the header.
pub const FLOOR_ID: &str = "floor/mprotect_pair/single";

/// The secret kinds, as the bench ids name them.
pub const KINDS: [&str; 2] = ["protected", "guarded"];

/// The operations: Go's benchmark suffixes in snake case (the bench ids' middle part).
pub const OPERATIONS: [&str; 7] = [
    "secret_with_bytes",
    "secret_with_bytes_func",
    "reader_read_all",
    "reader_read",
    "reader_read_full",
    "secret_with_bytes_concurrent_close",
    "secret_reader_concurrent_close",
];

/// Thread counts: Go's `-cpu` values and our workers.
pub const THREADS: [u32; 3] = [1, 2, 4];

/// One row's coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowKey {
    /// `protected` or `guarded`.
    pub kind: &'static str,
    /// One of [`OPERATIONS`].
    pub operation: &'static str,
    /// Go's `-cpu` and our worker count.
    pub threads: u32,
}

impl RowKey {
    /// Our criterion id, e.g. `protected/secret_with_bytes/parallel`.
    pub fn our_id(&self) -> String {
        let mode = match self.threads {
            1 => "single",
            2 => "parallel",
            _ => "parallel4",
        };
        format!("{}/{}/{mode}", self.kind, self.operation)
    }

    /// Go's benchmark name, e.g. `BenchmarkProtectedMemorySecret_WithBytes`.
    pub fn go_name(&self) -> String {
        go_bench::securememory_go_name(self.kind, self.operation)
            .expect("every kind × operation of the table has a Go mirror")
    }
}

/// Every row whose `kind/operation` contains `only` (all without a pattern), in table order.
pub fn selected(only: Option<&str>) -> Vec<RowKey> {
    let mut out = Vec::new();
    for kind in KINDS {
        for operation in OPERATIONS {
            if only.is_some_and(|p| !format!("{kind}/{operation}").contains(p)) {
                continue;
            }
            for threads in THREADS {
                out.push(RowKey {
                    kind,
                    operation,
                    threads,
                });
            }
        }
    }
    out
}

/// How a row of `threads` threads is labelled on a machine of `cores` cores, and whether it has a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The pairing, e.g. "`-cpu 2` · `/parallel` (2 workers)", plus "oversubscribed (…), no target" where so.
    pub text: String,
    /// Whether the row is judged against [`TARGET`].
    pub target: bool,
}

/// The label of a row of `threads` threads on `cores` cores.
pub fn label(threads: u32, cores: usize) -> Label {
    let pairing = match threads {
        1 => "`-cpu 1` · `/single`".to_string(),
        2 => "`-cpu 2` · `/parallel` (2 workers)".to_string(),
        n => format!("`-cpu {n}` · `/parallel4` ({n} workers)"),
    };
    let oversubscribed = threads as usize > cores;
    let target = threads <= 2 && !oversubscribed;
    let text = if oversubscribed {
        format!("{pairing}: oversubscribed ({threads} threads on {cores} cores), no target")
    } else if !target {
        format!("{pairing}: {threads} threads on {cores} cores, no target")
    } else {
        pairing
    };
    Label { text, target }
}

/// One row's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Coordinates.
    pub key: RowKey,
    /// Label and target.
    pub label: Label,
    /// Go's per-round ns/op.
    pub go: Option<Summary>,
    /// Our per-round ns/op.
    pub ours: Option<Summary>,
    /// Ours ÷ Go over the paired rounds.
    pub ratio: Option<Interval>,
    /// Go's mprotect calls per 1,000 ops.
    pub go_changes: Option<f64>,
    /// Our protection changes per 1,000 ops.
    pub our_changes: Option<f64>,
    /// The same with our bench under strace, as Go's count was taken.
    pub our_changes_traced: Option<f64>,
}

impl Row {
    /// `Some(true)` when the row has a target and its whole interval is at or below it, `Some(false)` when it
    /// has a target and misses it (or has no ratio), `None` without a target.
    pub fn meets_target(&self) -> Option<bool> {
        self.label
            .target
            .then(|| self.ratio.is_some_and(|r| r.high <= TARGET))
    }
}

/// The rows of `keys` from `figures`, for a machine of `cores` cores.
pub fn rows(figures: &Figures, keys: &[RowKey], cores: usize) -> Vec<Row> {
    keys.iter()
        .map(|&key| {
            let ours = figures.ours_of(&key.our_id());
            let go = figures.go_of(&key.go_name(), key.threads);
            let summary =
                |v: &[(u32, f64)]| Summary::of(&v.iter().map(|&(_, x)| x).collect::<Vec<_>>());
            Row {
                key,
                label: label(key.threads, cores),
                go: summary(&go),
                ours: summary(&ours),
                ratio: bootstrap::median_ci(
                    &bootstrap::paired_ratios(&ours, &go),
                    bootstrap::RESAMPLES,
                ),
                go_changes: figures
                    .go_changes
                    .iter()
                    .find(|c| c.name == key.go_name() && c.cpu == key.threads)
                    .map(|c| c.per_thousand()),
                our_changes: per_thousand(&figures.our_changes, &key),
                our_changes_traced: per_thousand(&figures.our_changes_traced, &key),
            }
        })
        .collect()
}

fn per_thousand(counts: &[OurCount], key: &RowKey) -> Option<f64> {
    counts
        .iter()
        .find(|c| c.id == key.our_id())
        .map(OurCount::per_thousand)
}

/// The markdown: a header saying how it was measured, then one table per secret kind, its targeted rows first and
/// its no-target rows after them.
pub fn markdown(figures: &Figures, rows: &[Row]) -> String {
    let env = &figures.environment;
    let mut out =
        String::from("## SecureMemory: ours vs Go's mirrors, measured in the same run\n\n");
    out.push_str(&format!(
        "{} interleaved rounds, {} → {}, on {} ({} cores, {}), commit `{}`.",
        figures.rounds,
        figures.started,
        figures.finished,
        env.cpu_model,
        env.cores,
        env.os,
        env.commit
    ));
    if let Some(only) = &figures.only {
        out.push_str(&format!(" Only operations matching `{only}`."));
    }
    out.push_str("\n\n");
    for (name, value) in &figures.settings {
        out.push_str(&format!("- {name}: {value}\n"));
    }
    let floor: Vec<f64> = figures
        .ours_of(FLOOR_ID)
        .into_iter()
        .map(|(_, ns)| ns)
        .collect();
    if let Some(floor) = Summary::of(&floor) {
        out.push_str(&format!(
            "- floor, one mprotect pair on a locked page (`{FLOOR_ID}`): {} ns/op\n",
            time_cell(Some(&floor))
        ));
    }
    for note in &figures.notes {
        out.push_str(&format!("- note: {note}\n"));
    }
    out.push_str(&format!(
        "\nCells: median over the rounds of each round's mean ns/op, ± half the interquartile range (% of the \
         median). Ours ÷ Go: median of the per-round ratios, with a 95 % bootstrap interval over rounds; ✓ when \
         the whole interval is ≤ {TARGET}×. mprotect / 1k ops: calls per 1,000 ops; Go's from strace minus the Go \
         runtime's own calls, ours from securememory's counter, with the bench under strace (as Go's were \
         taken) and without. strace stops a thread at every mprotect, so windows stay open longer and more \
         threads share them: with 2 or more threads the traced counts are far lower than untraced ones; compare \
         Go's with ours under strace.\n"
    ));
    for kind in KINDS {
        let of_kind: Vec<&Row> = rows.iter().filter(|r| r.key.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        out.push_str(&format!("\n### {kind}\n\n"));
        out.push_str(
            "| operation | Go mirror · ours | Go ns/op | ours ns/op | ours ÷ Go (95 % CI) | ≤ 0.8× | \
             mprotect / 1k ops: Go (strace) | ours (strace) | ours |\n|---|---|---:|---:|---|:-:|---:|---:|---:|\n",
        );
        let (targeted, untargeted): (Vec<&Row>, Vec<&Row>) =
            of_kind.into_iter().partition(|r| r.label.target);
        for row in targeted.into_iter().chain(untargeted) {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                row.key.operation,
                row.label.text,
                time_cell(row.go.as_ref()),
                time_cell(row.ours.as_ref()),
                row.ratio.map_or_else(
                    || "–".to_string(),
                    |r| format!("{:.2}× ({:.2}–{:.2})", r.point, r.low, r.high)
                ),
                match row.meets_target() {
                    Some(true) => "✓",
                    Some(false) => "✗",
                    None => "no target",
                },
                count_cell(row.go_changes),
                count_cell(row.our_changes_traced),
                count_cell(row.our_changes),
            ));
        }
    }
    let judged: Vec<bool> = rows.iter().filter_map(Row::meets_target).collect();
    out.push_str(&format!(
        "\n{} of {} targeted rows ≤ {TARGET}× over their whole interval.\n",
        judged.iter().filter(|&&m| m).count(),
        judged.len()
    ));
    out
}

fn time_cell(s: Option<&Summary>) -> String {
    match s {
        Some(s) => format!("{} ± {:.0} %", thousands(s.median), s.iqr_pct() / 2.0),
        None => "–".to_string(),
    }
}

fn count_cell(c: Option<f64>) -> String {
    c.map_or_else(|| "–".to_string(), |c| format!("{c:.0}"))
}

/// `x` rounded to an integer, with `,` between thousands.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < -0.5 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::results::Environment;
    use crate::securememory_compare::figures::{GoRound, OurRound, SCHEMA};
    use crate::securememory_compare::protection_changes::{GoCount, OurCount};

    fn figures(ours: &[(&str, &[f64])], go: &[(&str, u32, &[f64])]) -> Figures {
        Figures {
            schema: SCHEMA,
            started: "s".into(),
            finished: "f".into(),
            environment: Environment {
                cores: 2,
                ..Environment::default()
            },
            rounds: 3,
            only: None,
            settings: BTreeMap::new(),
            ours: ours
                .iter()
                .flat_map(|(id, v)| {
                    v.iter().enumerate().map(|(round, &ns)| OurRound {
                        id: id.to_string(),
                        round: round as u32,
                        ns_per_op: ns,
                    })
                })
                .collect(),
            go: go
                .iter()
                .flat_map(|(name, cpu, v)| {
                    v.iter().enumerate().map(|(round, &ns)| GoRound {
                        name: name.to_string(),
                        cpu: *cpu,
                        round: round as u32,
                        ns_per_op: ns,
                    })
                })
                .collect(),
            our_changes: Vec::new(),
            our_changes_traced: Vec::new(),
            go_changes: Vec::new(),
            notes: Vec::new(),
        }
    }

    const WITH_BYTES: &str = "BenchmarkProtectedMemorySecret_WithBytes";

    #[test]
    fn labels_say_which_rows_are_oversubscribed_and_which_have_a_target() {
        let one = label(1, 2);
        assert_eq!(
            (one.text.as_str(), one.target),
            ("`-cpu 1` · `/single`", true)
        );
        let two = label(2, 2);
        assert_eq!(
            (two.text.as_str(), two.target),
            ("`-cpu 2` · `/parallel` (2 workers)", true)
        );
        let four = label(4, 2);
        assert_eq!(
            four.text,
            "`-cpu 4` · `/parallel4` (4 workers): oversubscribed (4 threads on 2 cores), no target"
        );
        assert!(!four.target);
        // Two workers on one core are oversubscribed too, and lose their target.
        let two_on_one = label(2, 1);
        assert!(
            two_on_one
                .text
                .ends_with("oversubscribed (2 threads on 1 cores), no target")
        );
        assert!(!two_on_one.target);
        // Four threads where there are enough cores: still no target, but not called oversubscribed.
        let four_on_eight = label(4, 8);
        assert!(
            four_on_eight
                .text
                .ends_with(": 4 threads on 8 cores, no target")
        );
        assert!(!four_on_eight.target);
    }

    #[test]
    fn selection_filters_on_kind_and_operation_and_keeps_every_thread_count() {
        assert_eq!(selected(None).len(), 2 * 7 * 3);
        let only = selected(Some("guarded/reader_read_all"));
        assert_eq!(only.len(), 3);
        assert_eq!(only[2].our_id(), "guarded/reader_read_all/parallel4");
        assert_eq!(only[0].go_name(), "BenchmarkMemguardReader_ReadAll");
        assert!(selected(Some("nothing")).is_empty());
        // Every row has a Go mirror name (go_name would panic otherwise).
        for key in selected(None) {
            assert!(key.go_name().starts_with("Benchmark"));
        }
    }

    #[test]
    fn rows_pair_rounds_and_judge_the_whole_interval() {
        let keys = selected(Some("protected/secret_with_bytes"))
            .into_iter()
            .filter(|k| k.operation == "secret_with_bytes")
            .collect::<Vec<_>>();
        let f = figures(
            &[
                ("protected/secret_with_bytes/single", &[600.0, 700.0, 650.0]),
                (
                    "protected/secret_with_bytes/parallel",
                    &[900.0, 1000.0, 950.0],
                ),
                (
                    "protected/secret_with_bytes/parallel4",
                    &[100.0, 100.0, 100.0],
                ),
            ],
            &[
                (WITH_BYTES, 1, &[1000.0, 1000.0, 1000.0]),
                (WITH_BYTES, 2, &[1000.0, 1000.0, 1000.0]),
                (WITH_BYTES, 4, &[1000.0, 1000.0, 1000.0]),
            ],
        );
        let rows = rows(&f, &keys, 2);
        assert_eq!(rows.len(), 3);
        let single = &rows[0];
        assert_eq!(single.ours.unwrap().median, 650.0);
        let r = single.ratio.unwrap();
        assert_eq!((r.point, r.low, r.high), (0.65, 0.6, 0.7));
        assert_eq!(single.meets_target(), Some(true));
        assert_eq!(rows[1].meets_target(), Some(false));
        // Far below the target, but oversubscribed: not judged.
        assert_eq!(rows[2].meets_target(), None);
    }

    #[test]
    fn a_targeted_row_without_go_figures_misses_its_target() {
        let keys = [RowKey {
            kind: "guarded",
            operation: "reader_read",
            threads: 1,
        }];
        let f = figures(&[("guarded/reader_read/single", &[1.0, 1.0, 1.0])], &[]);
        let rows = rows(&f, &keys, 2);
        assert_eq!((rows[0].go, rows[0].ratio), (None, None));
        assert_eq!(rows[0].meets_target(), Some(false));
    }

    #[test]
    fn markdown_puts_oversubscribed_rows_after_the_targeted_ones_with_counts() {
        let keys: Vec<RowKey> = selected(Some("protected/secret_with_bytes"))
            .into_iter()
            .filter(|k| k.operation == "secret_with_bytes")
            .collect();
        let mut f = figures(
            &[
                (
                    "protected/secret_with_bytes/parallel4",
                    &[2500.0, 2600.0, 2400.0],
                ),
                ("protected/secret_with_bytes/single", &[700.0, 700.0, 700.0]),
            ],
            &[
                (WITH_BYTES, 4, &[2000.0, 2000.0, 2000.0]),
                (WITH_BYTES, 1, &[1000.0, 1000.0, 1000.0]),
            ],
        );
        f.our_changes.push(OurCount {
            id: "protected/secret_with_bytes/single".into(),
            workers: 1,
            ops: 1000,
            changes: 2000,
        });
        f.our_changes_traced.push(OurCount {
            id: "protected/secret_with_bytes/single".into(),
            workers: 1,
            ops: 1000,
            changes: 150,
        });
        f.go_changes.push(GoCount {
            name: WITH_BYTES.into(),
            cpu: 1,
            ops: 20_000,
            calls: 40_010,
            baseline_calls: 10,
        });
        let md = markdown(&f, &rows(&f, &keys, 2));
        let single = md
            .lines()
            .position(|l| l.contains("`/single`"))
            .expect("single row");
        let parallel = md
            .lines()
            .position(|l| l.contains("`/parallel` (2"))
            .unwrap();
        let over = md
            .lines()
            .position(|l| l.contains("oversubscribed"))
            .unwrap();
        assert!(single < parallel && parallel < over, "{md}");
        assert!(
            md.contains(
                "| secret_with_bytes | `-cpu 1` · `/single` | 1,000 ± 0 % | 700 ± 0 % | 0.70× (0.70–0.70) | ✓ | 2000 | 150 | 2000 |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| 1.25× (1.20–1.30) | no target | – | – |"),
            "{md}"
        );
        assert!(md.contains("| – | – | – | ✗ | – | – |"), "{md}");
        assert!(md.contains("1 of 2 targeted rows ≤ 0.8×"), "{md}");
        assert!(!md.contains("### guarded"), "{md}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.5), "1,000");
        assert_eq!(thousands(1234567.0), "1,234,567");
        assert_eq!(thousands(-4321.0), "-4,321");
    }
}
