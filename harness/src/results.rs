//! The one results format (docs/architecture.md#one-results-format). Every runner — criterion, `go test -bench`, the
//! peer, the allocation/size runner, the instruction counter — contributes [`Measurement`]s to one [`Results`] file,
//! `reports/results/<timestamp>.json`; `render` and `gate` only read it.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::scenario::Metric;
use crate::stats::Summary;

/// Version of this schema, bumped on incompatible changes.
pub const SCHEMA: u32 = 1;

/// Who produced a measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Implementation {
    /// Upstream Go Asherah (go-baseline).
    Go,
    /// This repository's Rust implementation.
    Rust,
    /// The crates.io `asherah` 1.0 crate.
    Peer,
    /// Upstream Go Asherah's own benchmark, which calls testify's `assert` inside the timed loop.
    GoUpstream,
    /// Our implementation built from an earlier commit (`lab compare`).
    Before,
    /// Ours on a secure-memory factory with protection off (no mlock, no mprotect; feature `test-util`), to isolate
    /// what the protection costs.
    Unprotected,
}

impl Implementation {
    /// Column label.
    pub fn label(self) -> &'static str {
        match self {
            Implementation::Go => "Go",
            Implementation::Rust => "Rust (ours)",
            Implementation::Peer => "asherah 1.0",
            Implementation::GoUpstream => "Go upstream benchmark (includes testify per op)",
            Implementation::Before => "Rust (earlier commit)",
            Implementation::Unprotected => "Rust, protection off",
        }
    }
}

/// One sample: the value one round measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Round index (runs with the same index were interleaved, so their ratio is a paired one).
    pub round: u32,
    /// The value, in the metric's unit.
    pub value: f64,
}

/// Every sample one implementation gave for one scenario and metric, with their summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Scenario id.
    pub scenario: String,
    /// Who measured it.
    pub implementation: Implementation,
    /// What was measured.
    pub metric: Metric,
    /// The benchmark that gave it (criterion id, Go name with `-cpu` suffix, metrics id).
    pub source: String,
    /// One value per round.
    pub samples: Vec<Sample>,
    /// Summary of `samples`.
    pub summary: Summary,
}

impl Measurement {
    /// A measurement from its samples; `None` when there are none.
    pub fn new(
        scenario: &str,
        implementation: Implementation,
        metric: Metric,
        source: &str,
        samples: Vec<Sample>,
    ) -> Option<Measurement> {
        let values: Vec<f64> = samples.iter().map(|s| s.value).collect();
        Some(Measurement {
            scenario: scenario.to_string(),
            implementation,
            metric,
            source: source.to_string(),
            summary: Summary::of(&values)?,
            samples,
        })
    }
}

/// An instruction count (the gate's runner).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Icount {
    /// Gate scenario, e.g. `hot_encrypt_warm_64`.
    pub scenario: String,
    /// Instructions per operation (the measured region's count ÷ its repetitions).
    pub instructions_per_op: f64,
    /// The measured region's total instruction count (callgrind `Ir`).
    pub instructions: u64,
    /// Operations in the measured region.
    pub ops: u64,
}

/// The machine and toolchains of a run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Environment {
    /// CPU model (`/proc/cpuinfo`).
    pub cpu_model: String,
    /// Logical CPUs available to the process.
    pub cores: usize,
    /// OS (`/etc/os-release` PRETTY_NAME) and kernel.
    pub os: String,
    /// Tool versions: rustc, go, valgrind, …, absent when not installed.
    pub toolchains: BTreeMap<String, String>,
    /// Versions of the code measured: our crates, the peer crate, the upstream Go modules.
    pub crates: BTreeMap<String, String>,
    /// `git describe` of the lab.
    pub commit: String,
    /// The CPU as `/proc/cpuinfo` names it, and the flags that decide AES-GCM speed.
    #[serde(default)]
    pub cpu: CpuInfo,
    /// Virtualisation: `systemd-detect-virt`'s answer, or `/sys/hypervisor/type`, or `none`.
    #[serde(default)]
    pub virtualisation: String,
    /// The memlock limit the lab ran under (soft / hard) and the one both sides' benchmarks ran under.
    #[serde(default)]
    pub memlock: String,
    /// Which pages secure memory is backed by (`securememory::default_backing()`), when known.
    #[serde(default)]
    pub secret_backing: Option<String>,
    /// The AES-GCM routes the bench processes calibrated (`appencryption::crypto_path()`, which a bench prints as a
    /// `crypto path: …` line), each with the number of processes that chose it. Empty when no bench printed one.
    #[serde(default)]
    pub crypto_paths: BTreeMap<String, u32>,
}

/// The CPU: vendor, family and model numbers, and which AES-relevant feature flags it has.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CpuInfo {
    /// `vendor_id` (x86) or `CPU implementer` (Arm).
    pub vendor: String,
    /// `cpu family` (x86) or `CPU architecture` (Arm).
    pub family: String,
    /// `model` (x86) or `CPU part` (Arm).
    pub model: String,
    /// The flags checked (aes, pclmulqdq, vaes, vpclmulqdq, avx2, avx512f on x86; aes, pmull, sha3 on Arm).
    pub checked: Vec<String>,
    /// Those of `checked` the CPU has.
    pub present: Vec<String>,
}

/// Machine noise around a run: load average before and after, and the share of CPU time stolen by the hypervisor.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Noise {
    /// 1-, 5- and 15-minute load averages when the run started.
    pub load_before: Vec<f64>,
    /// The same when it finished.
    pub load_after: Vec<f64>,
    /// Steal time during the run, percent of all CPU time (`/proc/stat`), when readable.
    pub steal_pct: Option<f64>,
    /// Logical CPUs (to read the load per core).
    pub cores: usize,
}

impl Noise {
    /// The 1-minute load per core when the run started.
    pub fn load_per_core(&self) -> Option<f64> {
        let l = *self.load_before.first()?;
        (self.cores > 0).then(|| l / self.cores as f64)
    }

    /// Above this load per core at the start a report carries a loud warning.
    pub const BUSY: f64 = 0.5;
}

/// How the run was made.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunInfo {
    /// UTC start, RFC 3339.
    pub started: String,
    /// UTC end, RFC 3339.
    pub finished: String,
    /// `quick` or `full`.
    pub mode: String,
    /// Interleaved rounds (each implementation measured once per round).
    pub rounds: u32,
    /// Runner settings (criterion and Go flags) as printed in the report header.
    pub settings: BTreeMap<String, String>,
    /// Which implementations/runners were skipped and why (e.g. Go not installed).
    pub skipped: Vec<String>,
    /// `--only` filter, if any.
    pub only: Option<String>,
    /// Wall time of the measurements alone (builds excluded), seconds.
    #[serde(default)]
    pub measurement_seconds: Option<f64>,
    /// Load and steal time around the measurements.
    #[serde(default)]
    pub noise: Option<Noise>,
    /// The earlier build §2 compares with (`lab compare`): git ref, commit and subject.
    #[serde(default)]
    pub baseline: Option<BaselineBuild>,
}

/// The other commit of a before/after comparison.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BaselineBuild {
    /// The ref as given (`HEAD~3`, a hash, a branch).
    pub git_ref: String,
    /// Its commit hash.
    pub commit: String,
    /// Its subject line.
    pub subject: String,
    /// Why that commit (from the scenarios' `[compare]` table), when given.
    #[serde(default)]
    pub why: String,
}

/// One results file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Results {
    /// [`SCHEMA`].
    pub schema: u32,
    /// The run.
    pub run: RunInfo,
    /// Machine and versions.
    pub environment: Environment,
    /// Every measurement.
    pub measurements: Vec<Measurement>,
    /// Instruction counts, when the gate's runner contributed.
    #[serde(default)]
    pub icount: Vec<Icount>,
}

impl Results {
    /// The measurement of `scenario` by `implementation`, if any.
    pub fn get(&self, scenario: &str, implementation: Implementation) -> Option<&Measurement> {
        self.measurements
            .iter()
            .find(|m| m.scenario == scenario && m.implementation == implementation)
    }

    /// Read a results file.
    pub fn read(path: &Path) -> Result<Results> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let r: Results =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        anyhow::ensure!(
            r.schema == SCHEMA,
            "{}: schema {} (this lab reads {SCHEMA})",
            path.display(),
            r.schema
        );
        Ok(r)
    }

    /// Write it (pretty-printed, so diffs of committed results stay readable).
    pub fn write(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", path.display()))
    }
}

/// `(a, b)` value pairs for a ratio: the rounds both measured. A side with a single sample (an exact count, taken
/// once) is paired with every sample of the other.
pub fn pairs(a: &Measurement, b: &Measurement) -> Vec<(f64, f64)> {
    match (a.samples.as_slice(), b.samples.as_slice()) {
        ([x], ys) if ys.len() > 1 => ys.iter().map(|y| (x.value, y.value)).collect(),
        (xs, [y]) if xs.len() > 1 => xs.iter().map(|x| (x.value, y.value)).collect(),
        (xs, ys) => xs
            .iter()
            .filter_map(|x| {
                ys.iter()
                    .find(|y| y.round == x.round)
                    .map(|y| (x.value, y.value))
            })
            .collect(),
    }
}

/// Ratios `a ÷ b` of the rounds both measured (paired by round), or — when they share no round — the single ratio
/// of medians.
pub fn paired_ratios(a: &Measurement, b: &Measurement) -> Vec<f64> {
    let paired: Vec<f64> = a
        .samples
        .iter()
        .filter_map(|x| {
            b.samples
                .iter()
                .find(|y| y.round == x.round)
                .filter(|y| y.value != 0.0)
                .map(|y| x.value / y.value)
        })
        .collect();
    if paired.is_empty() && b.summary.median != 0.0 {
        vec![a.summary.median / b.summary.median]
    } else {
        paired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(imp: Implementation, values: &[(u32, f64)]) -> Measurement {
        Measurement::new(
            "s",
            imp,
            Metric::Time,
            "src",
            values
                .iter()
                .map(|&(round, value)| Sample { round, value })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn ratios_pair_samples_by_round() {
        let rust = m(Implementation::Rust, &[(0, 100.0), (1, 300.0), (2, 50.0)]);
        let go = m(Implementation::Go, &[(1, 150.0), (0, 200.0)]);
        assert_eq!(paired_ratios(&rust, &go), vec![0.5, 2.0]);
        let unpaired = m(Implementation::Go, &[(7, 400.0)]);
        assert_eq!(paired_ratios(&rust, &unpaired), vec![0.25]);
    }

    #[test]
    fn pairs_match_rounds_or_spread_a_single_count() {
        let rust = m(Implementation::Rust, &[(0, 100.0), (1, 300.0), (2, 50.0)]);
        let go = m(Implementation::Go, &[(1, 150.0), (0, 200.0)]);
        assert_eq!(pairs(&rust, &go), vec![(100.0, 200.0), (300.0, 150.0)]);
        let count = m(Implementation::Rust, &[(0, 4.0)]);
        assert_eq!(pairs(&count, &go), vec![(4.0, 150.0), (4.0, 200.0)]);
    }

    #[test]
    fn round_trips_through_json() {
        let r = Results {
            schema: SCHEMA,
            measurements: vec![m(Implementation::Go, &[(0, 1.0)])],
            ..Results::default()
        };
        let path = std::env::temp_dir().join(format!("lab-results-{}.json", std::process::id()));
        r.write(&path).unwrap();
        assert_eq!(Results::read(&path).unwrap(), r);
        std::fs::remove_file(&path).unwrap();
        assert!(r.get("s", Implementation::Go).is_some());
        assert!(r.get("s", Implementation::Rust).is_none());
    }
}
