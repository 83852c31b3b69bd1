//! `lab report`'s runners: criterion for Rust and the peer, `go test -bench` for Go, the allocation/size runner —
//! interleaved in rounds so machine drift hits every implementation alike. Each round
//! runs every unit once (one Go test binary per package, one criterion binary per bench target), in alternating
//! order; a cell's samples are its per-round values, and ratios pair values of the same round.

pub mod collect;
pub mod compare;
pub mod criterion;
pub mod go;
pub mod metrics;
pub mod pattern;
pub mod settings;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use crate::environment::{self, now_utc};
use crate::results::{Environment, Implementation, Measurement, Results, RunInfo, SCHEMA, Sample};
use crate::scenario::{Scenario, Table};
use collect::{Raw, collect};
use criterion::RustUnit;
pub use criterion::target_dir;
use go::GoUnit;
pub use settings::Settings;

enum Unit {
    Go(GoUnit),
    Rust(RustUnit),
}

/// The criterion ids wanted per (implementation, bench target), and whether the metrics runner is wanted.
type RustWanted = (BTreeMap<(Implementation, String), BTreeSet<String>>, bool);

/// Run `scenarios` from the repository at `root` and return the results (not yet written). With
/// `settings.compare`, §2's scenarios are measured by [`compare::run`] against that commit instead of in the main
/// rounds.
pub fn run(root: &Path, scenarios: &[Scenario], settings: &Settings) -> Result<Results> {
    let started = now_utc();
    let noise = environment::noise_start();
    let target = target_dir(root);
    let mut skipped = Vec::new();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    let (compared, main): (Vec<&Scenario>, Vec<&Scenario>) = scenarios
        .iter()
        .partition(|s| s.table == Table::Optimization && settings.compare.is_some());

    let (rust_ids, want_metrics) = rust_wanted(&main, settings, &mut skipped);
    let mut benches: BTreeSet<String> = rust_ids.keys().map(|(_, b)| b.clone()).collect();
    if want_metrics {
        benches.insert("metrics".into());
    }
    let exes = if benches.is_empty() {
        BTreeMap::new()
    } else {
        criterion::build(
            root,
            &benches,
            &compare::features(root, settings.peer)?,
            None,
        )?
    };
    let go_ok = settings.go && environment::available("go", &["version"]);
    if settings.go && !go_ok {
        skipped.push("Go: the go command is not installed; the Go column is left out".into());
    }
    let go_units = if go_ok {
        go_units(root, &target, &main, cores, &mut skipped)
    } else {
        Vec::new()
    };
    let units = interleave(go_units, rust_units(rust_ids, &exes, &slope_ids(&main))?);

    let measuring = std::time::Instant::now();
    let mut raw = run_rounds(&units, settings, &target);
    if want_metrics {
        raw.metrics = metrics::run(&exes["metrics"])?;
    }
    let mut measurements = Vec::new();
    for s in &main {
        measurements.extend(collect(s, &raw, cores, go_ok));
    }
    let mut baseline = None;
    if let Some(git_ref) = &settings.compare
        && !compared.is_empty()
    {
        let base = compare::resolve(root, git_ref)?;
        let c = compare::run(root, &compared, settings, &base)?;
        measurements.extend(c.measurements);
        skipped.extend(c.skipped);
        baseline = Some(base);
    }
    let measurement_seconds = measuring.elapsed().as_secs_f64();
    skipped.extend(missing(&main, &measurements, go_ok, settings.peer));
    Ok(Results {
        schema: SCHEMA,
        run: RunInfo {
            started,
            finished: now_utc(),
            mode: settings.mode.clone(),
            rounds: settings.rounds,
            settings: settings_map(settings, cores),
            skipped,
            only: None,
            measurement_seconds: Some(measurement_seconds),
            noise: Some(environment::noise_end(&noise)),
            baseline,
        },
        environment: Environment {
            crypto_paths: raw.crypto_paths,
            ..environment::collect(root)
        },
        measurements,
        icount: Vec::new(),
    })
}

/// Which criterion ids each bench target must run, and whether the metrics runner is wanted.
fn rust_wanted(
    scenarios: &[&Scenario],
    settings: &Settings,
    skipped: &mut Vec<String>,
) -> RustWanted {
    let mut rust_ids: BTreeMap<(Implementation, String), BTreeSet<String>> = BTreeMap::new();
    let mut want_metrics = false;
    for s in scenarios {
        if let Some(r) = &s.rust {
            if r.bench == "metrics" {
                want_metrics = true;
            } else {
                let ids = rust_ids
                    .entry((Implementation::Rust, r.bench.clone()))
                    .or_default();
                ids.insert(r.id.clone());
                // Protection off, where the bench has it (a filter matching no bench measures nothing).
                ids.extend(collect::unlocked_id(s));
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
    (rust_ids, want_metrics)
}

/// The criterion ids of fixed-cost scenarios (read by their slope).
fn slope_ids(scenarios: &[&Scenario]) -> BTreeSet<String> {
    scenarios
        .iter()
        .filter(|s| s.fixed_cost)
        .flat_map(|s| [&s.rust, &s.peer])
        .filter_map(|r| r.as_ref().map(|r| r.id.clone()))
        .collect()
}

/// One unit per criterion bench binary.
fn rust_units(
    rust_ids: BTreeMap<(Implementation, String), BTreeSet<String>>,
    exes: &BTreeMap<String, PathBuf>,
    slope: &BTreeSet<String>,
) -> Result<Vec<RustUnit>> {
    rust_ids
        .into_iter()
        .map(|((implementation, bench), ids)| {
            let exe = exes
                .get(&bench)
                .with_context(|| format!("cargo built no bench named {bench:?}"))?
                .clone();
            Ok(RustUnit {
                bench,
                implementation,
                exe,
                ids,
                slope: slope.clone(),
            })
        })
        .collect()
}

/// Build one Go test binary per package the scenarios name; a package that fails to build is skipped.
fn go_units(
    root: &Path,
    target: &Path,
    scenarios: &[&Scenario],
    cores: u32,
    skipped: &mut Vec<String>,
) -> Vec<GoUnit> {
    let mut by_package: BTreeMap<String, (BTreeSet<String>, BTreeSet<u32>)> = BTreeMap::new();
    for s in scenarios {
        for g in [&s.go, &s.go_upstream].into_iter().flatten() {
            let e = by_package.entry(g.package.clone()).or_default();
            e.0.insert(g.name.clone());
            e.1.insert(g.cpu.unwrap_or(cores));
        }
    }
    let mut units = Vec::new();
    for (package, (names, cpus)) in by_package {
        match go::build(root, target, &package) {
            Ok((exe, dir)) => units.push(GoUnit {
                package,
                exe,
                dir,
                names,
                cpus,
            }),
            Err(e) => skipped.push(format!("Go package {package}: {e:#}")),
        }
    }
    units
}

/// Go and Rust units merged alternately (Go, Rust, Go, …), so neither side runs as one block.
fn interleave(go: Vec<GoUnit>, rust: Vec<RustUnit>) -> Vec<Unit> {
    let mut go = go.into_iter().map(Unit::Go);
    let mut rust = rust.into_iter().map(Unit::Rust);
    let mut out = Vec::new();
    loop {
        let (g, r) = (go.next(), rust.next());
        if g.is_none() && r.is_none() {
            return out;
        }
        out.extend(g);
        out.extend(r);
    }
}

/// Every unit once per round, in alternating order; the per-round values.
fn run_rounds(units: &[Unit], settings: &Settings, target: &Path) -> Raw {
    let bar = ProgressBar::new(u64::from(settings.rounds) * units.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} ETA {eta_precise} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
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
                    match go::run(g, &settings.go_benchtime) {
                        Ok(lines) => raw
                            .go
                            .extend(lines.into_iter().map(|l| (round, g.package.clone(), l))),
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
                    match criterion::run(r, &home, &settings.criterion_args) {
                        Ok(run) => {
                            for path in run.crypto_paths {
                                *raw.crypto_paths.entry(path).or_default() += 1;
                            }
                            for (id, ns) in run.points {
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
    raw
}

/// A line per implementation a scenario names but the run gave no result for.
fn missing(
    scenarios: &[&Scenario],
    measurements: &[Measurement],
    go_ok: bool,
    peer: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for s in scenarios {
        for (imp, present) in [
            (Implementation::Rust, s.rust.is_some()),
            (Implementation::Go, s.go.is_some() && go_ok),
            (Implementation::GoUpstream, s.go_upstream.is_some() && go_ok),
            (Implementation::Peer, s.peer.is_some() && peer),
        ] {
            if present
                && !measurements
                    .iter()
                    .any(|m| m.scenario == s.id && m.implementation == imp)
            {
                out.push(format!("{}: no {} result", s.id, imp.label()));
            }
        }
    }
    out
}

/// The runner flags as the report header prints them.
fn settings_map(settings: &Settings, cores: u32) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    map.insert(
        "criterion".into(),
        format!(
            "{} (mean per round; slope for fixed-cost rows)",
            settings.criterion_args.join(" ")
        ),
    );
    map.insert(
        "go test".into(),
        format!(
            "-benchmem -count 1 per round -benchtime {} -cpu <scenario, default {cores}>",
            settings.go_benchtime
        ),
    );
    map.insert(
        "rust allocations".into(),
        "allocation-counter over 100 ops (benches/metrics.rs), one exact run".into(),
    );
    map
}
