//! The regression gate (docs/architecture.md#the-regression-gate): instruction counts of the hot paths
//! (gungraun/callgrind, `benches/icount_appencryption.rs`) against `reports/baseline/icount.json`. A scenario
//! regresses when its instructions per op grow by more than its threshold (default [`DEFAULT_THRESHOLD_PCT`]);
//! scenarios missing from the baseline are reported, not failed. `--accept` rewrites the baseline and records why.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::results::Icount;

/// Allowed growth of instructions per op before the gate fails, percent.
pub const DEFAULT_THRESHOLD_PCT: f64 = 2.0;

/// One accepted baseline change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acceptance {
    /// UTC date.
    pub date: String,
    /// Lab commit the counts were taken at.
    pub commit: String,
    /// Why the new counts are right.
    pub reason: String,
}

/// `reports/baseline/icount.json`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Baseline {
    /// Toolchain the counts were made with (counts move with the compiler).
    pub toolchain: BTreeMap<String, String>,
    /// Instructions per op by scenario.
    pub instructions_per_op: BTreeMap<String, f64>,
    /// Per-scenario thresholds in percent, where not the default.
    #[serde(default)]
    pub thresholds_pct: BTreeMap<String, f64>,
    /// Every accepted change, oldest first.
    #[serde(default)]
    pub history: Vec<Acceptance>,
}

impl Baseline {
    /// Read it; a missing file is an empty baseline.
    pub fn read(path: &Path) -> Result<Baseline> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Baseline::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Write it.
    pub fn write(&self, path: &Path) -> Result<()> {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Threshold of `scenario`, percent.
    pub fn threshold(&self, scenario: &str) -> f64 {
        self.thresholds_pct
            .get(scenario)
            .copied()
            .unwrap_or(DEFAULT_THRESHOLD_PCT)
    }
}

/// What the gate found for one scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Status {
    /// Within the threshold.
    Ok,
    /// Grew beyond the threshold.
    Regression,
    /// Shrank beyond the threshold (accept it to tighten the gate).
    Improved,
    /// Not in the baseline.
    New,
    /// In the baseline, not measured now.
    Missing,
}

/// One row of the diff table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Scenario.
    pub scenario: String,
    /// Baseline instructions per op.
    pub baseline: Option<f64>,
    /// Measured instructions per op.
    pub now: Option<f64>,
    /// Change, percent.
    pub change_pct: Option<f64>,
    /// Threshold, percent.
    pub threshold_pct: f64,
    /// Verdict.
    pub status: Status,
}

/// Compare measured counts with the baseline.
pub fn compare(baseline: &Baseline, now: &[Icount]) -> Vec<Row> {
    let mut rows = Vec::new();
    for m in now {
        let threshold = baseline.threshold(&m.scenario);
        let base = baseline.instructions_per_op.get(&m.scenario).copied();
        let change = base
            .filter(|b| *b > 0.0)
            .map(|b| (m.instructions_per_op / b - 1.0) * 100.0);
        let status = match change {
            None => Status::New,
            Some(c) if c > threshold => Status::Regression,
            Some(c) if c < -threshold => Status::Improved,
            Some(_) => Status::Ok,
        };
        rows.push(Row {
            scenario: m.scenario.clone(),
            baseline: base,
            now: Some(m.instructions_per_op),
            change_pct: change,
            threshold_pct: threshold,
            status,
        });
    }
    for (scenario, &b) in &baseline.instructions_per_op {
        if !now.iter().any(|m| &m.scenario == scenario) {
            rows.push(Row {
                scenario: scenario.clone(),
                baseline: Some(b),
                now: None,
                change_pct: None,
                threshold_pct: baseline.threshold(scenario),
                status: Status::Missing,
            });
        }
    }
    rows
}

/// Whether any row fails the gate.
pub fn failed(rows: &[Row]) -> bool {
    rows.iter().any(|r| r.status == Status::Regression)
}

/// The markdown diff table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | baseline instr/op | now instr/op | change | threshold | status |\n|---|---|---|---|---|---|\n",
    );
    let f = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.1}"));
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | ±{:.1}% | {} |",
            r.scenario,
            f(r.baseline),
            f(r.now),
            r.change_pct.map_or("–".into(), |c| format!("{c:+.2}%")),
            r.threshold_pct,
            match r.status {
                Status::Ok => "ok",
                Status::Regression => "**REGRESSION**",
                Status::Improved => "improved (accept to tighten)",
                Status::New => "new (not in baseline)",
                Status::Missing => "missing (not measured)",
            }
        );
    }
    out
}

/// Parse `cargo bench … -- --output-format=json` lines of gungraun: one [`Icount`] per benchmark, with the
/// operations per measured region read from the bench id `x<N>`.
pub fn parse_gungraun(stdout: &str) -> Result<Vec<Icount>> {
    let mut out = Vec::new();
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let v: serde_json::Value = serde_json::from_str(line).context("a gungraun JSON line")?;
        let Some(function) = v["function_name"].as_str() else {
            continue;
        };
        let id = v["id"].as_str().unwrap_or("");
        let ops: u64 = id
            .strip_prefix('x')
            .and_then(|n| n.parse().ok())
            .with_context(|| {
                format!("{function}: bench id {id:?} does not say its op count (x<N>)")
            })?;
        let profiles = v["profiles"].as_array().context("no profiles")?;
        let ir = profiles
            .iter()
            .find(|p| p["tool"] == "Callgrind")
            .and_then(|p| p["data"]["total"]["metrics"]["Ir"]["values"]["new"].as_u64())
            .with_context(|| format!("{function}: no callgrind Ir total"))?;
        out.push(Icount {
            scenario: function.to_string(),
            instructions: ir,
            ops,
            instructions_per_op: ir as f64 / ops as f64,
        });
    }
    Ok(out)
}

/// Run the instruction-count benches (with extra lab `features` beside `icount`) and return the counts. Needs
/// valgrind and the matching `gungraun-runner`.
pub fn run(root: &Path, features: &[String]) -> Result<Vec<Icount>> {
    if !crate::environment::available("valgrind", &["--version"]) {
        bail!(
            "valgrind is not installed: the gate cannot count instructions (scripts/setup.sh installs it)"
        );
    }
    let mut all = vec!["icount".to_string()];
    all.extend(features.iter().cloned());
    let out = Command::new("cargo")
        .current_dir(root)
        .args([
            "bench",
            "-p",
            "lab",
            "--bench",
            "icount_appencryption",
            "--features",
        ])
        .arg(all.join(","))
        .args(["--", "--output-format=json"])
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo bench")?;
    if !out.status.success() {
        bail!("the instruction-count benches failed");
    }
    let counts = parse_gungraun(&String::from_utf8_lossy(&out.stdout))?;
    if counts.is_empty() {
        bail!("the instruction-count benches reported nothing");
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ic(s: &str, per_op: f64) -> Icount {
        Icount {
            scenario: s.into(),
            instructions_per_op: per_op,
            instructions: (per_op * 10.0) as u64,
            ops: 10,
        }
    }

    #[test]
    fn flags_growth_beyond_the_threshold_only() {
        let mut b = Baseline::default();
        b.instructions_per_op.insert("enc".into(), 1000.0);
        b.instructions_per_op.insert("dec".into(), 1000.0);
        b.instructions_per_op.insert("gone".into(), 5.0);
        b.thresholds_pct.insert("dec".into(), 10.0);
        let rows = compare(
            &b,
            &[ic("enc", 1025.0), ic("dec", 1050.0), ic("fresh", 1.0)],
        );
        let status = |s: &str| rows.iter().find(|r| r.scenario == s).unwrap().status;
        assert_eq!(status("enc"), Status::Regression);
        assert_eq!(status("dec"), Status::Ok);
        assert_eq!(status("fresh"), Status::New);
        assert_eq!(status("gone"), Status::Missing);
        assert!(failed(&rows));
        assert!(!failed(&compare(
            &b,
            &[ic("enc", 1019.0), ic("dec", 500.0)]
        )));
        assert_eq!(compare(&b, &[ic("enc", 900.0)])[0].status, Status::Improved);
        let t = table(&rows);
        assert!(
            t.contains("| enc | 1000.0 | 1025.0 | +2.50% | ±2.0% | **REGRESSION** |"),
            "{t}"
        );
    }

    #[test]
    fn parses_gungraun_json_lines() {
        let line = r#"{"function_name":"hot_encrypt_warm_64","id":"x10","profiles":[{"tool":"Callgrind","data":{"total":{"metrics":{"Ir":{"values":{"new":57577,"old":66007}}}}}}]}"#;
        let counts = parse_gungraun(&format!("noise\n{line}\n")).unwrap();
        assert_eq!(
            counts,
            vec![Icount {
                scenario: "hot_encrypt_warm_64".into(),
                instructions: 57577,
                ops: 10,
                instructions_per_op: 5757.7
            }]
        );
        assert!(parse_gungraun(&line.replace("x10", "warm")).is_err());
    }

    #[test]
    fn baseline_round_trips_and_defaults_thresholds() {
        let path = std::env::temp_dir().join(format!("lab-baseline-{}.json", std::process::id()));
        assert_eq!(Baseline::read(&path).unwrap(), Baseline::default());
        let mut b = Baseline::default();
        b.instructions_per_op.insert("a".into(), 1.5);
        b.history.push(Acceptance {
            date: "d".into(),
            commit: "c".into(),
            reason: "r".into(),
        });
        b.write(&path).unwrap();
        assert_eq!(Baseline::read(&path).unwrap(), b);
        assert_eq!(b.threshold("a"), DEFAULT_THRESHOLD_PCT);
        std::fs::remove_file(&path).unwrap();
    }
}
