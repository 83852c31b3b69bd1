//! `lab report`'s runners: criterion for Rust and the peer, `go test -bench` for Go, the allocation/size runner —
//! interleaved in rounds so machine drift hits every implementation alike (architecture decision 9). Each round
//! runs every unit once (one Go test binary per package, one criterion binary per bench target), in alternating
//! order; a cell's samples are its per-round values, and ratios pair values of the same round.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::criterion_results;
use crate::environment::{self, now_utc};
use crate::go_bench::{self, GoLine};
use crate::results::{Implementation, Measurement, Results, RunInfo, SCHEMA, Sample};
use crate::scenario::{Metric, Scenario};

/// How long to measure.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `quick` or `full`.
    pub mode: String,
    /// Interleaved rounds.
    pub rounds: u32,
    /// Criterion flags for every Rust and peer bench.
    pub criterion_args: Vec<String>,
    /// Go `-benchtime` per round.
    pub go_benchtime: String,
    /// Run the crates.io peer (needs the `peer` feature build).
    pub peer: bool,
    /// Run Go (when the go command exists).
    pub go: bool,
}

impl Settings {
    /// Quick mode: the README's main job, ≤ 10 minutes on a 2-core machine.
    pub fn quick() -> Settings {
        Settings {
            mode: "quick".into(),
            rounds: 5,
            criterion_args: [
                "--warm-up-time",
                "0.1",
                "--measurement-time",
                "0.3",
                "--sample-size",
                "10",
                "--nresamples",
                "1000",
            ]
            .map(String::from)
            .to_vec(),
            go_benchtime: "100ms".into(),
            peer: true,
            go: true,
        }
    }

    /// Full mode: tighter figures, about an hour.
    pub fn full() -> Settings {
        Settings {
            mode: "full".into(),
            rounds: 10,
            criterion_args: [
                "--warm-up-time",
                "1",
                "--measurement-time",
                "3",
                "--sample-size",
                "30",
            ]
            .map(String::from)
            .to_vec(),
            go_benchtime: "1s".into(),
            ..Settings::quick()
        }
    }
}

/// A Go package to run: its test binary and the benchmarks wanted from it.
struct GoUnit {
    package: String,
    exe: PathBuf,
    dir: PathBuf,
    names: BTreeSet<String>,
    cpus: BTreeSet<u32>,
}

/// A criterion bench binary and the ids wanted from it.
struct RustUnit {
    bench: String,
    implementation: Implementation,
    exe: PathBuf,
    ids: BTreeSet<String>,
}

enum Unit {
    Go(GoUnit),
    Rust(RustUnit),
}

/// Per-round raw values, keyed by (implementation, source id, round).
#[derive(Default)]
struct Raw {
    criterion: BTreeMap<(Implementation, String), Vec<Sample>>,
    go: Vec<(u32, GoLine)>,
    metrics: BTreeMap<String, serde_json::Value>,
}

/// Run `scenarios` from the repository at `root` and return the results (not yet written).
pub fn run(root: &Path, scenarios: &[Scenario], settings: &Settings) -> Result<Results> {
    let started = now_utc();
    let target = target_dir(root);
    let mut skipped = Vec::new();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;

    // Which benches are wanted.
    let mut rust_ids: BTreeMap<(Implementation, String), BTreeSet<String>> = BTreeMap::new();
    let mut want_metrics = false;
    for s in scenarios {
        if let Some(r) = &s.rust {
            if r.bench == "metrics" {
                want_metrics = true;
            } else {
                rust_ids
                    .entry((Implementation::Rust, r.bench.clone()))
                    .or_default()
                    .insert(r.id.clone());
            }
        }
        if let Some(p) = &s.peer
            && settings.peer
        {
            rust_ids
                .entry((Implementation::Peer, p.bench.clone()))
                .or_default()
                .insert(p.id.clone());
        }
    }
    if !settings.peer && scenarios.iter().any(|s| s.peer.is_some()) {
        skipped.push("asherah 1.0 peer: not run (--no-peer); its column is left out".into());
    }

    // Build every Rust bench binary in one cargo call.
    let mut benches: BTreeSet<String> = rust_ids.keys().map(|(_, b)| b.clone()).collect();
    if want_metrics {
        benches.insert("metrics".into());
    }
    let exes = if benches.is_empty() {
        BTreeMap::new()
    } else {
        build_rust(root, &benches, settings.peer)?
    };

    // Build the Go test binaries.
    let mut go_units = Vec::new();
    let go_ok = settings.go && environment::available("go", &["version"]);
    if settings.go && !go_ok {
        skipped.push("Go: the go command is not installed; the Go column is left out".into());
    }
    if go_ok {
        let mut by_package: BTreeMap<String, (BTreeSet<String>, BTreeSet<u32>)> = BTreeMap::new();
        for s in scenarios {
            if let Some(g) = &s.go {
                let e = by_package.entry(g.package.clone()).or_default();
                e.0.insert(g.name.clone());
                e.1.insert(g.cpu.unwrap_or(cores));
            }
        }
        for (package, (names, cpus)) in by_package {
            match build_go(root, &target, &package) {
                Ok((exe, dir)) => go_units.push(GoUnit {
                    package,
                    exe,
                    dir,
                    names,
                    cpus,
                }),
                Err(e) => skipped.push(format!("Go package {package}: {e:#}")),
            }
        }
    }

    let mut units: Vec<Unit> = go_units.into_iter().map(Unit::Go).collect();
    for ((implementation, bench), ids) in rust_ids {
        let exe = exes
            .get(&bench)
            .with_context(|| format!("cargo built no bench named {bench:?}"))?
            .clone();
        units.push(Unit::Rust(RustUnit {
            bench,
            implementation,
            exe,
            ids,
        }));
    }
    // Interleave: Go, Rust, Go, … so neither side runs as one block.
    units.sort_by_key(|u| match u {
        Unit::Go(_) => 0,
        Unit::Rust(_) => 1,
    });
    let units = interleave(units);

    let bar = ProgressBar::new(u64::from(settings.rounds) * units.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} ETA {eta_precise} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let measuring = std::time::Instant::now();
    let mut raw = Raw::default();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    for round in 0..settings.rounds {
        // Alternate the order so no unit always runs first (or last) in a round.
        let order: Vec<&Unit> = if round % 2 == 0 {
            units.iter().collect()
        } else {
            units.iter().rev().collect()
        };
        for unit in order {
            match unit {
                Unit::Go(g) => {
                    bar.set_message(format!("round {}: go {}", round + 1, g.package));
                    match run_go(g, &settings.go_benchtime) {
                        Ok(lines) => raw.go.extend(lines.into_iter().map(|l| (round, l))),
                        Err(e) => bar.println(format!("go {}: {e:#}", g.package)),
                    }
                }
                Unit::Rust(r) => {
                    bar.set_message(format!(
                        "round {}: {} {}",
                        round + 1,
                        r.implementation.label(),
                        r.bench
                    ));
                    let home = target
                        .join("lab-criterion")
                        .join(&stamp)
                        .join(format!("r{round}"))
                        .join(&r.bench);
                    match run_criterion(r, &home, &settings.criterion_args) {
                        Ok(estimates) => {
                            for (id, ns) in estimates {
                                raw.criterion
                                    .entry((r.implementation, id))
                                    .or_default()
                                    .push(Sample { round, value: ns });
                            }
                        }
                        Err(e) => {
                            bar.println(format!("{} {}: {e:#}", r.implementation.label(), r.bench))
                        }
                    }
                }
            }
            bar.inc(1);
        }
    }
    bar.finish_with_message("benchmarks done");

    if want_metrics {
        let exe = &exes["metrics"];
        raw.metrics = run_metrics(exe)?;
    }

    let mut measurements = Vec::new();
    for s in scenarios {
        measurements.extend(collect(s, &raw, cores, go_ok));
    }
    for s in scenarios {
        for (imp, present) in [
            (Implementation::Rust, s.rust.is_some()),
            (Implementation::Go, s.go.is_some() && go_ok),
            (Implementation::Peer, s.peer.is_some() && settings.peer),
        ] {
            if present
                && !measurements
                    .iter()
                    .any(|m| m.scenario == s.id && m.implementation == imp)
            {
                skipped.push(format!("{}: no {} result", s.id, imp.label()));
            }
        }
    }

    let mut settings_map = BTreeMap::new();
    settings_map.insert("criterion".into(), settings.criterion_args.join(" "));
    settings_map.insert(
        "go test".into(),
        format!(
            "-benchmem -count 1 per round -benchtime {} -cpu <scenario, default {cores}>",
            settings.go_benchtime
        ),
    );
    settings_map.insert(
        "rust allocations".into(),
        "allocation-counter over 100 ops (benches/metrics.rs), one exact run".into(),
    );
    Ok(Results {
        schema: SCHEMA,
        run: RunInfo {
            started,
            finished: now_utc(),
            mode: settings.mode.clone(),
            rounds: settings.rounds,
            settings: settings_map,
            skipped,
            only: None,
            measurement_seconds: Some(measuring.elapsed().as_secs_f64()),
        },
        environment: environment::collect(root),
        measurements,
        icount: Vec::new(),
    })
}

/// Go units first and Rust units after, merged alternately.
fn interleave(units: Vec<Unit>) -> Vec<Unit> {
    let (mut go, mut rust): (Vec<Unit>, Vec<Unit>) =
        units.into_iter().partition(|u| matches!(u, Unit::Go(_)));
    let mut out = Vec::new();
    go.reverse();
    rust.reverse();
    while !go.is_empty() || !rust.is_empty() {
        if let Some(u) = go.pop() {
            out.push(u);
        }
        if let Some(u) = rust.pop() {
            out.push(u);
        }
    }
    out
}

/// The measurements of one scenario from the raw values.
fn collect(s: &Scenario, raw: &Raw, cores: u32, go_ok: bool) -> Vec<Measurement> {
    let mut out = Vec::new();
    if let Some(r) = &s.rust {
        if r.bench == "metrics" {
            let key = match s.metric {
                Metric::Allocs => "allocs_per_op",
                Metric::Bytes => "bytes_per_op",
                Metric::Size | Metric::Time => "value",
            };
            if let Some(v) = raw
                .metrics
                .get(&r.id)
                .and_then(|m| m.get(key))
                .and_then(|v| v.as_f64())
            {
                out.extend(Measurement::new(
                    &s.id,
                    Implementation::Rust,
                    s.metric,
                    &format!("metrics:{}", r.id),
                    vec![Sample { round: 0, value: v }],
                ));
            }
        } else if let Some(samples) = raw.criterion.get(&(Implementation::Rust, r.id.clone())) {
            out.extend(Measurement::new(
                &s.id,
                Implementation::Rust,
                s.metric,
                &r.id,
                samples.clone(),
            ));
        }
    }
    if let Some(p) = &s.peer
        && let Some(samples) = raw.criterion.get(&(Implementation::Peer, p.id.clone()))
    {
        out.extend(Measurement::new(
            &s.id,
            Implementation::Peer,
            s.metric,
            &p.id,
            samples.clone(),
        ));
    }
    if let Some(g) = &s.go
        && go_ok
    {
        let cpu = g.cpu.unwrap_or(cores);
        let unit = match s.metric {
            Metric::Time => "ns/op",
            Metric::Allocs => "allocs/op",
            Metric::Bytes => "B/op",
            Metric::Size => g.unit.as_deref().unwrap_or("B"),
        };
        let samples: Vec<Sample> = raw
            .go
            .iter()
            .filter(|(_, l)| l.name == g.name && l.cpu == cpu)
            .filter_map(|(round, l)| {
                l.metrics.get(unit).map(|&value| Sample {
                    round: *round,
                    value,
                })
            })
            .collect();
        out.extend(Measurement::new(
            &s.id,
            Implementation::Go,
            s.metric,
            &format!("{}-{cpu}", g.name),
            samples,
        ));
    }
    out
}

/// `$CARGO_TARGET_DIR`, or `<root>/target`.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// `cargo bench --no-run` of `benches`; returns bench name → executable.
fn build_rust(
    root: &Path,
    benches: &BTreeSet<String>,
    peer: bool,
) -> Result<BTreeMap<String, PathBuf>> {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root).args([
        "bench",
        "-p",
        "lab",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    // `ring`: the mode-(c) rows are measured on both AEAD backends (asherah 1.0 uses ring).
    cmd.args(["--features", if peer { "ring,peer" } else { "ring" }]);
    for b in benches {
        cmd.args(["--bench", b]);
    }
    eprintln!(
        "lab: building benches: {}",
        benches.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo")?;
    if !out.status.success() {
        bail!("cargo bench --no-run failed");
    }
    let mut exes = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["reason"] == "compiler-artifact"
            && v["target"]["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bench"))
            && let (Some(name), Some(exe)) =
                (v["target"]["name"].as_str(), v["executable"].as_str())
        {
            exes.insert(name.to_string(), PathBuf::from(exe));
        }
    }
    Ok(exes)
}

/// `go test -c` of one package into the target dir; returns the binary and the directory to run it in.
fn build_go(root: &Path, target: &Path, package: &str) -> Result<(PathBuf, PathBuf)> {
    let baseline = root.join("go-baseline");
    let dir = match package.strip_prefix("./") {
        Some(local) => {
            let d = baseline.join(local);
            if !d.is_dir() {
                bail!("no directory go-baseline/{local}");
            }
            d
        }
        None => baseline.clone(),
    };
    let name: String = package
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let exe = target.join("lab-go").join(format!("{name}.test"));
    std::fs::create_dir_all(exe.parent().expect("has a parent"))?;
    eprintln!("lab: building Go benchmarks of {package}");
    let status = Command::new("go")
        .current_dir(&baseline)
        .args(["test", "-c", "--tags=race_tests", "-o"])
        .arg(&exe)
        .arg(package)
        .status()
        .context("running go test -c")?;
    if !status.success() {
        bail!("go test -c failed");
    }
    Ok((exe, dir))
}

/// Anchored regexp alternation of literal names.
fn alternation(names: impl IntoIterator<Item = String>) -> String {
    let escaped: Vec<String> = names
        .into_iter()
        .map(|n| {
            n.chars()
                .flat_map(|c| {
                    if r"\.+*?()|[]{}^$".contains(c) {
                        vec!['\\', c]
                    } else {
                        vec![c]
                    }
                })
                .collect()
        })
        .collect();
    format!("^({})$", escaped.join("|"))
}

/// Go's `-bench` patterns for benchmark names that may have one sub-benchmark level. A pattern with a sub level
/// skips benchmarks that have no sub-benchmarks, so flat names and names with a sub level get a pattern each.
fn go_patterns(names: &BTreeSet<String>) -> Vec<String> {
    let flat: BTreeSet<String> = names.iter().filter(|n| !n.contains('/')).cloned().collect();
    let tops: BTreeSet<String> = names
        .iter()
        .filter_map(|n| n.split_once('/').map(|(t, _)| t.to_string()))
        .collect();
    let subs: BTreeSet<String> = names
        .iter()
        .filter_map(|n| n.split_once('/').map(|(_, s)| s.to_string()))
        .collect();
    let mut out = Vec::new();
    if !flat.is_empty() {
        out.push(alternation(flat));
    }
    if !tops.is_empty() {
        out.push(format!("{}/{}", alternation(tops), alternation(subs)));
    }
    out
}

fn run_go(unit: &GoUnit, benchtime: &str) -> Result<Vec<GoLine>> {
    let mut lines = Vec::new();
    for pattern in go_patterns(&unit.names) {
        lines.extend(run_go_pattern(unit, &pattern, benchtime)?);
    }
    Ok(lines)
}

fn run_go_pattern(unit: &GoUnit, pattern: &str, benchtime: &str) -> Result<Vec<GoLine>> {
    let cpus: Vec<String> = unit.cpus.iter().map(u32::to_string).collect();
    // Secrets are mlocked and core dumps must be off, as upstream's CI runs them (scripts/go-bench.sh).
    let mut cmd = if environment::available("prlimit", &["--memlock=unlimited", "--core=0", "true"])
    {
        let mut c = Command::new("prlimit");
        c.args(["--memlock=unlimited", "--core=0"]).arg(&unit.exe);
        c
    } else {
        Command::new(&unit.exe)
    };
    let out = cmd
        .current_dir(&unit.dir)
        .args([
            "-test.run",
            "^$",
            "-test.benchmem",
            "-test.count",
            "1",
            "-test.timeout",
            "0",
        ])
        .args(["-test.bench", pattern])
        .args(["-test.benchtime", benchtime])
        .args(["-test.cpu", &cpus.join(",")])
        .stderr(Stdio::inherit())
        .output()
        .context("running a Go test binary")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "benchmarks failed:\n{}",
            text.lines().rev().take(15).collect::<Vec<_>>().join("\n")
        );
    }
    Ok(go_bench::parse_lines(&text))
}

fn run_criterion(unit: &RustUnit, home: &Path, args: &[String]) -> Result<Vec<(String, f64)>> {
    std::fs::create_dir_all(home)?;
    // criterion reports progress on stderr; keep it for a failure only, so the progress bar stays readable.
    let out = Command::new(&unit.exe)
        .env("CRITERION_HOME", home)
        .arg("--bench")
        .args(args)
        .arg(alternation(unit.ids.iter().cloned()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("running a criterion bench")?;
    // What finished before a failure is still a measurement; the failure is reported either way.
    let found: Vec<(String, f64)> = criterion_results::load(home, "")?
        .into_iter()
        .filter(|e| unit.ids.contains(&e.id))
        .map(|e| (e.id, e.median_ns))
        .collect();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
        eprintln!(
            "lab: {} exited with {} after {} of {} benches:\n{}",
            unit.bench,
            out.status,
            found.len(),
            unit.ids.len(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    Ok(found)
}

fn run_metrics(exe: &Path) -> Result<BTreeMap<String, serde_json::Value>> {
    eprintln!("lab: counting allocations (benches/metrics.rs)");
    let out = Command::new(exe)
        .arg("--bench")
        .stderr(Stdio::inherit())
        .output()
        .context("running the metrics bench")?;
    if !out.status.success() {
        bail!("the metrics bench failed");
    }
    let mut map = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(json) = line.strip_prefix("lab-metric ") {
            let v: serde_json::Value = serde_json::from_str(json)?;
            let id = v["id"]
                .as_str()
                .context("a metric line without id")?
                .to_string();
            map.insert(id, v);
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_patterns_anchor_each_level() {
        let names: BTreeSet<String> = [
            "BenchmarkEncrypt/64",
            "BenchmarkLRUGet",
            "BenchmarkEncrypt/1024",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            go_patterns(&names),
            vec![
                "^(BenchmarkLRUGet)$".to_string(),
                "^(BenchmarkEncrypt)$/^(1024|64)$".to_string()
            ]
        );
        let flat: BTreeSet<String> = ["BenchmarkA".to_string()].into();
        assert_eq!(go_patterns(&flat), vec!["^(BenchmarkA)$".to_string()]);
    }

    #[test]
    fn alternation_escapes_regex_syntax() {
        assert_eq!(
            alternation(["a.b".to_string(), "c(1)".to_string()]),
            r"^(a\.b|c\(1\))$"
        );
    }

    #[test]
    fn collects_go_samples_at_the_scenario_cpu_and_unit() {
        let s: Scenario = crate::scenario::parse(
            r#"[[scenario]]
id = "x"
table = "patterns"
row = "r"
metric = "size"
go = { package = "./p", name = "BenchmarkX", cpu = 2, unit = "B/record" }
"#,
        )
        .unwrap()
        .remove(0);
        let raw = Raw {
            go: go_bench::parse_lines(
                "BenchmarkX-2 10 5 ns/op 812 B/record\nBenchmarkX-4 10 5 ns/op 1 B/record\n",
            )
            .into_iter()
            .map(|l| (3, l))
            .collect(),
            ..Raw::default()
        };
        let m = collect(&s, &raw, 4, true);
        assert_eq!(m.len(), 1);
        assert_eq!(
            m[0].samples,
            vec![Sample {
                round: 3,
                value: 812.0
            }]
        );
        assert_eq!(m[0].source, "BenchmarkX-2");
        assert!(collect(&s, &raw, 4, false).is_empty());
    }
}
