//! Protection changes (`mprotect` calls) per 1,000 ops, for both sides.
//!
//! - Ours: the `securememory` bench's `--count` mode prints `lab-protection-changes <id> <workers> <ops>
//!   <changes>` lines, read from securememory's own counter around a fixed number of ops.
//! - Go's: `scripts/go-mprotect-count.sh` writes, per benchmark and `-cpu`, a `== <name> cpu=<n> ops=<n>` line
//!   followed by the table of `strace -c -e trace=mprotect`; `BenchmarkCalibrationNoop` at the same `-cpu` is the
//!   Go runtime's own share, subtracted here.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The Go benchmark whose count is the runtime's own mprotect calls.
pub const GO_BASELINE: &str = "BenchmarkCalibrationNoop";

/// Our protection changes over a fixed number of ops of one bench.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OurCount {
    /// Criterion id of the bench, e.g. `protected/secret_with_bytes/parallel`.
    pub id: String,
    /// Threads that ran the ops.
    pub workers: u32,
    /// Ops run.
    pub ops: u64,
    /// `mprotect` calls securememory made meanwhile.
    pub changes: u64,
}

impl OurCount {
    /// Changes per 1,000 ops.
    pub fn per_thousand(&self) -> f64 {
        self.changes as f64 * 1000.0 / self.ops as f64
    }
}

/// The `lab-protection-changes` lines of the bench's `--count` output (other lines are ignored).
pub fn parse_our_counts(text: &str) -> Result<Vec<OurCount>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("lab-protection-changes ") else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let [id, workers, ops, changes] = fields[..] else {
            bail!("a protection-change line without 4 fields: {line:?}");
        };
        let number = |s: &str| {
            s.parse::<u64>()
                .with_context(|| format!("not a count in {line:?}"))
        };
        let ops = number(ops)?;
        if ops == 0 {
            bail!("a protection-change line over 0 ops: {line:?}");
        }
        out.push(OurCount {
            id: id.to_string(),
            workers: u32::try_from(number(workers)?).context("worker count")?,
            ops,
            changes: number(changes)?,
        });
    }
    Ok(out)
}

/// Go's mprotect calls for one benchmark at one `-cpu`, with the runtime's own calls at the same `-cpu`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoCount {
    /// Benchmark name, e.g. `BenchmarkProtectedMemorySecret_WithBytes`.
    pub name: String,
    /// `-cpu` (GOMAXPROCS).
    pub cpu: u32,
    /// Ops of the timed run (`-benchtime=<ops>x`).
    pub ops: u64,
    /// mprotect calls of the whole run, as strace counted them.
    pub calls: u64,
    /// mprotect calls of `BenchmarkCalibrationNoop` at the same `-cpu` and ops.
    pub baseline_calls: u64,
}

impl GoCount {
    /// Calls per 1,000 ops once the runtime's own calls are subtracted (never below 0).
    pub fn per_thousand(&self) -> f64 {
        self.calls.saturating_sub(self.baseline_calls) as f64 * 1000.0 / self.ops as f64
    }
}

/// One `== <name> cpu=<n> ops=<n>` section of `scripts/go-mprotect-count.sh` output.
#[derive(Debug, Clone, PartialEq)]
struct Section {
    name: String,
    cpu: u32,
    ops: u64,
    calls: u64,
}

/// The mprotect calls in one `strace -c` summary table: the `calls` column of its `mprotect` row, 0 when the
/// table has no such row (strace leaves out syscalls that were never made). `None` when `text` holds no strace
/// summary at all (no `total` row).
pub fn strace_mprotect_calls(text: &str) -> Option<u64> {
    let mut calls = 0;
    let mut total = false;
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // `% time  seconds  usecs/call  calls  [errors]  syscall`: the name is last, calls is the 4th column.
        match fields.last() {
            Some(&"mprotect") if fields.len() >= 5 => calls = fields[3].parse().ok()?,
            Some(&"total") if fields.len() >= 3 => total = true,
            _ => {}
        }
    }
    total.then_some(calls)
}

fn parse_sections(text: &str) -> Result<Vec<Section>> {
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(header) = line.strip_prefix("== ") else {
            continue;
        };
        let mut fields = header.split_whitespace();
        let name = fields
            .next()
            .context("a section without a benchmark name")?;
        let mut cpu = None;
        let mut ops = None;
        for field in fields {
            match field.split_once('=') {
                Some(("cpu", v)) => cpu = v.parse::<u32>().ok(),
                Some(("ops", v)) => ops = v.parse::<u64>().ok().filter(|&n| n > 0),
                _ => {}
            }
        }
        let (Some(cpu), Some(ops)) = (cpu, ops) else {
            bail!("section {header:?} lacks cpu=<n> or ops=<n ≥ 1>");
        };
        let mut body = String::new();
        while let Some(next) = lines.peek() {
            if next.starts_with("== ") {
                break;
            }
            body.push_str(lines.next().unwrap_or_default());
            body.push('\n');
        }
        let calls = strace_mprotect_calls(&body)
            .with_context(|| format!("section {header:?} holds no strace -c summary"))?;
        out.push(Section {
            name: name.to_string(),
            cpu,
            ops,
            calls,
        });
    }
    Ok(out)
}

/// Go's counts from `scripts/go-mprotect-count.sh` output: one per benchmark and `-cpu`, each with the
/// calibration no-op of the same `-cpu` and ops to subtract. A benchmark without its no-op is an error.
pub fn parse_go_counts(text: &str) -> Result<Vec<GoCount>> {
    let sections = parse_sections(text)?;
    let mut out = Vec::new();
    for s in sections.iter().filter(|s| s.name != GO_BASELINE) {
        let Some(baseline) = sections
            .iter()
            .find(|b| b.name == GO_BASELINE && b.cpu == s.cpu && b.ops == s.ops)
        else {
            bail!(
                "{} at -cpu {} has no {GO_BASELINE} run with the same -cpu and ops to subtract",
                s.name,
                s.cpu
            );
        };
        out.push(GoCount {
            name: s.name.clone(),
            cpu: s.cpu,
            ops: s.ops,
            calls: s.calls,
            baseline_calls: baseline.calls,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured output of `scripts/go-mprotect-count.sh` (one benchmark at -cpu 1 and 2, 20,000 ops).
    const SAMPLE: &str = include_str!("../../tests/data/go-mprotect-sample.txt");

    #[test]
    fn reads_the_captured_calibration_run() {
        let counts = parse_go_counts(SAMPLE).unwrap();
        assert_eq!(counts.len(), 2);
        let one = &counts[0];
        assert_eq!(
            (
                one.name.as_str(),
                one.cpu,
                one.ops,
                one.calls,
                one.baseline_calls
            ),
            (
                "BenchmarkProtectedMemorySecret_WithBytes",
                1,
                20_000,
                40_024,
                10
            )
        );
        // (40,024 − 10) calls over 20,000 ops: one mprotect pair per op, plus set-up.
        assert!((one.per_thousand() - 2000.7).abs() < 1e-9);
        let two = &counts[1];
        assert_eq!((two.cpu, two.calls, two.baseline_calls), (2, 38, 12));
        assert!((two.per_thousand() - 1.3).abs() < 1e-9);
    }

    #[test]
    fn strace_table_without_an_mprotect_row_counts_zero() {
        let empty = "% time     seconds  usecs/call     calls    errors syscall\n\
                     ------ ----------- ----------- --------- --------- ----------------\n\
                     ------ ----------- ----------- --------- --------- ----------------\n\
                     100.00    0.000000           0         0           total\n";
        assert_eq!(strace_mprotect_calls(empty), Some(0));
        assert_eq!(strace_mprotect_calls("strace: exec: No such file"), None);
        // A row with an errors column still reads the calls column.
        let errors =
            "  1.00    0.000010           1        7         2 mprotect\n100.00 0.1 1 7 2 total\n";
        assert_eq!(strace_mprotect_calls(errors), Some(7));
    }

    #[test]
    fn a_benchmark_without_its_baseline_is_an_error() {
        let text = "== BenchmarkX cpu=2 ops=10\n  0.00 0.0 0 5 mprotect\n100.00 0.0 0 5 total\n\
                    == BenchmarkCalibrationNoop cpu=1 ops=10\n100.00 0.0 0 0 total\n";
        let err = parse_go_counts(text).unwrap_err().to_string();
        assert!(err.contains("BenchmarkX at -cpu 2"), "{err}");
        assert!(parse_go_counts("== BenchmarkX cpu=2\n100.00 0 0 0 total\n").is_err());
        assert!(parse_go_counts("== BenchmarkX cpu=2 ops=3\nno table\n").is_err());
    }

    #[test]
    fn baseline_larger_than_the_run_gives_zero_not_a_wrap() {
        let c = GoCount {
            name: "B".into(),
            cpu: 1,
            ops: 1000,
            calls: 3,
            baseline_calls: 5,
        };
        assert_eq!(c.per_thousand(), 0.0);
    }

    #[test]
    fn reads_our_count_lines() {
        let text = "securememory bench: no protected_memfd/* rows\n\
                    lab-protection-changes protected/secret_with_bytes/single 1 20000 40000\n\
                    lab-protection-changes guarded/reader_read/parallel4 4 1000 12\n";
        let counts = parse_our_counts(text).unwrap();
        assert_eq!(counts.len(), 2);
        assert_eq!(counts[0].per_thousand(), 2000.0);
        assert_eq!(
            (counts[1].id.as_str(), counts[1].workers, counts[1].ops),
            ("guarded/reader_read/parallel4", 4, 1000)
        );
        assert!(parse_our_counts("lab-protection-changes a 1 0 5\n").is_err());
        assert!(parse_our_counts("lab-protection-changes a 1 x 5\n").is_err());
        assert!(parse_our_counts("lab-protection-changes a 1 5\n").is_err());
    }
}
