//! The `lab` program: turns benchmark results into the tables people read.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use lab::criterion_results::{self, Estimate};
use lab::gate::{self, Acceptance, Baseline};
use lab::go_bench::{self, GoResult};
use lab::results::Results;
use lab::runner::{self, Settings};
use lab::{audit, environment, interop, render, scenario};

#[derive(Parser)]
#[command(
    name = "lab",
    about = "Asherah lab: Go-vs-Rust benchmarks, report and regression gate"
)]
struct Cli {
    /// Repository root (default: the checkout this binary was built from).
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every scenario (Go, Rust and the asherah 1.0 peer, interleaved), write reports/results/<UTC>.json and
    /// render reports/REPORT.md with its charts.
    Report {
        /// Short measurements (the default): ≤ 10 minutes on 2 cores once built.
        #[arg(long, conflicts_with = "full")]
        quick: bool,
        /// Long measurements and more rounds.
        #[arg(long)]
        full: bool,
        /// Only scenarios whose id, table or row contains PATTERN.
        #[arg(long)]
        only: Option<String>,
        /// Interleaved rounds (default: 5 quick, 10 full).
        #[arg(long)]
        rounds: Option<u32>,
        /// Leave out the crates.io peer (saves its several-minute first build).
        #[arg(long)]
        no_peer: bool,
        /// Leave out Go.
        #[arg(long)]
        no_go: bool,
    },
    /// Re-render REPORT.md and the charts from a results file, without running anything.
    Render {
        /// A reports/results/*.json file.
        results: PathBuf,
        /// Results to compare with in table 2 (default: the newest earlier file beside RESULTS).
        #[arg(long)]
        previous: Option<PathBuf>,
    },
    /// Count the hot paths' instructions and compare with reports/baseline/icount.json; exits 1 on a regression.
    Gate {
        /// Make the measured counts the new baseline.
        #[arg(long, requires = "reason")]
        accept: bool,
        /// Why the new baseline is right (recorded in it).
        #[arg(long)]
        reason: Option<String>,
        /// Extra features of the lab crate to build the benches with (the selftest's `gate-selftest-slowdown`).
        #[arg(long)]
        features: Vec<String>,
        /// Baseline file (default reports/baseline/icount.json).
        #[arg(long)]
        baseline: Option<PathBuf>,
    },
    /// Run the Go↔Rust interop suites (harness/tests/interop_*.rs) and summarise them.
    Interop,
    /// Run the loom models and write reports/AUDIT.md.
    Audit,
    /// Print a markdown table of the SecureMemory bench medians, each with its ratio to the mprotect floor.
    SecurememoryTable {
        /// criterion's output directory (`$CARGO_TARGET_DIR/criterion`).
        #[arg(long)]
        criterion_dir: PathBuf,
        /// `go test -bench` output of the same run (scripts/go-bench.sh) to compare with, if any.
        #[arg(long)]
        go_results: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("lab: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn default_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness/ has a parent")
        .to_path_buf()
}

/// Runs the command; `Ok(false)` means "ran, and the answer is no" (a regression, a failed model).
fn run() -> Result<bool> {
    let cli = Cli::parse();
    let root = cli.root.unwrap_or_else(default_root);
    match cli.command {
        Command::Report {
            quick: _,
            full,
            only,
            rounds,
            no_peer,
            no_go,
        } => {
            let mut settings = if full {
                Settings::full()
            } else {
                Settings::quick()
            };
            if let Some(r) = rounds {
                settings.rounds = r.max(1);
            }
            settings.peer = !no_peer;
            settings.go = !no_go;
            let mut scenarios = scenario::load_dir(&root.join("scenarios"))?;
            if let Some(p) = &only {
                scenarios.retain(|s| s.matches(p));
                if scenarios.is_empty() {
                    bail!("--only {p:?} selects no scenario");
                }
            }
            let mut results = runner::run(&root, &scenarios, &settings)?;
            results.run.only = only;
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
            let path = root.join("reports/results").join(format!("{stamp}.json"));
            results.write(&path)?;
            eprintln!("lab: wrote {}", path.display());
            render_report(&root, &path, None)?;
            Ok(true)
        }
        Command::Render { results, previous } => {
            render_report(&root, &results, previous.as_deref())?;
            Ok(true)
        }
        Command::Gate {
            accept,
            reason,
            features,
            baseline,
        } => {
            let path = baseline.unwrap_or_else(|| root.join("reports/baseline/icount.json"));
            let counts = gate::run(&root, &features)?;
            let mut base = Baseline::read(&path)?;
            let rows = gate::compare(&base, &counts);
            println!("{}", gate::table(&rows));
            if accept {
                base.instructions_per_op = counts
                    .iter()
                    .map(|c| (c.scenario.clone(), c.instructions_per_op))
                    .collect();
                let env = environment::collect(&root);
                base.toolchain = env.toolchains;
                base.history.push(Acceptance {
                    date: environment::now_utc(),
                    commit: env.commit,
                    reason: reason.unwrap_or_default(),
                });
                base.write(&path)?;
                eprintln!("lab: accepted; wrote {}", path.display());
                return Ok(true);
            }
            if gate::failed(&rows) {
                eprintln!(
                    "lab gate: instruction counts regressed (see the table); if intended, run `lab gate --accept --reason '…'`"
                );
                Ok(false)
            } else {
                eprintln!("lab gate: no regression");
                Ok(true)
            }
        }
        Command::Interop => {
            let (md, ok) = interop::run(&root)?;
            println!("{md}");
            Ok(ok)
        }
        Command::Audit => {
            let (md, ok) = audit::run(&root)?;
            let path = root.join("reports/AUDIT.md");
            std::fs::write(&path, &md).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("lab: wrote {}", path.display());
            Ok(ok)
        }
        Command::SecurememoryTable {
            criterion_dir,
            go_results,
        } => {
            let estimates = criterion_results::load(&criterion_dir, "")?;
            let go = match go_results {
                Some(path) => go_bench::parse(
                    &std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?,
                ),
                None => Vec::new(),
            };
            print!("{}", securememory_table(&estimates, &go)?);
            Ok(true)
        }
    }
}

/// Render `results` (with `previous`, or the newest earlier results file beside it, for table 2) into
/// reports/REPORT.md and reports/charts/.
fn render_report(root: &Path, results_path: &Path, previous: Option<&Path>) -> Result<()> {
    let scenarios = scenario::load_dir(&root.join("scenarios"))?;
    let results = Results::read(results_path)?;
    let previous_path = match previous {
        Some(p) => Some(p.to_path_buf()),
        None => earlier_results(results_path)?,
    };
    let previous = match &previous_path {
        Some(p) => Some((p.as_path(), Results::read(p)?)),
        None => None,
    };
    let reports = root.join("reports");
    let rendered = render::render(
        &scenarios,
        &results,
        previous.as_ref().map(|(p, r)| (*p, r)),
        &reports.join("charts"),
        "charts",
    )?;
    let mut md = rendered.markdown;
    md.push_str(&format!(
        "\n---\nResults: `reports/results/{}`.\n",
        results_path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    ));
    std::fs::write(reports.join("REPORT.md"), md)?;
    eprintln!(
        "lab: wrote {} and {} charts",
        reports.join("REPORT.md").display(),
        rendered.charts.len() * 2
    );
    Ok(())
}

/// The newest `*.json` results file beside `path` whose name sorts before it (names are UTC stamps).
fn earlier_results(path: &Path) -> Result<Option<PathBuf>> {
    let Some(dir) = path.parent() else {
        return Ok(None);
    };
    let name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    let mut earlier: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_name().is_some_and(|n| n < name.as_os_str())
        })
        .collect();
    earlier.sort();
    Ok(earlier.pop())
}

/// The table: one row per operation, single-thread and parallel medians side by side, ratios to the floor, and —
/// when Go results of the same run are given — Go's median (its benchmarks all use `RunParallel`, so they compare
/// with the parallel column at the same GOMAXPROCS) and the Rust ÷ Go ratio.
fn securememory_table(estimates: &[Estimate], go: &[GoResult]) -> Result<String> {
    let find = |id: &str| estimates.iter().find(|e| e.id == id);
    let Some(floor) = find("floor/mprotect_pair/single") else {
        bail!(
            "no floor/mprotect_pair/single result: run `cargo bench -p lab --bench securememory` first"
        );
    };
    let mut ops: Vec<(&str, &str)> = Vec::new();
    for e in estimates {
        let mut parts = e.id.splitn(3, '/');
        if let (Some(imp @ ("protected" | "guarded")), Some(op)) = (parts.next(), parts.next())
            && !ops.contains(&(imp, op))
        {
            ops.push((imp, op));
        }
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let go_for = |imp: &str, op: &str| {
        let name = go_bench::securememory_go_name(imp, op)?;
        go.iter()
            .filter(|g| g.name == name)
            .max_by_key(|g| (g.cpu == workers, g.cpu))
    };
    let cell = |e: Option<&Estimate>| match e {
        Some(e) => format!(
            "{:.0} ± {:.0} ns | {:.2}×",
            e.median_ns,
            e.mad_ns,
            e.median_ns / floor.median_ns
        ),
        None => "– | –".to_string(),
    };
    let mut out = String::new();
    out.push_str(&format!(
        "Floor (one mprotect pair on a locked page): {:.0} ± {:.0} ns (median ± MAD)\n\n",
        floor.median_ns, floor.mad_ns
    ));
    let with_go = !go.is_empty();
    out.push_str(
        "| bench | single-thread median | ÷ floor | parallel median (wall ÷ ops) | ÷ floor |",
    );
    out.push_str(if with_go {
        " Go median (RunParallel) | Rust parallel ÷ Go |\n"
    } else {
        "\n"
    });
    out.push_str(if with_go {
        "|---|---|---|---|---|---|---|\n"
    } else {
        "|---|---|---|---|---|\n"
    });
    for (imp, op) in ops {
        let single = find(&format!("{imp}/{op}/single"));
        let parallel = find(&format!("{imp}/{op}/parallel"));
        out.push_str(&format!(
            "| {imp}/{op} | {} | {} |",
            cell(single),
            cell(parallel)
        ));
        if with_go {
            match (go_for(imp, op), parallel) {
                (Some(g), Some(p)) => out.push_str(&format!(
                    " {:.0} ± {:.0} ns (-cpu {}) | {:.2}× |",
                    g.median_ns,
                    g.mad_ns,
                    g.cpu,
                    p.median_ns / g.median_ns
                )),
                (Some(g), None) => {
                    out.push_str(&format!(" {:.0} ns (-cpu {}) | – |", g.median_ns, g.cpu))
                }
                _ => out.push_str(" – | – |"),
            }
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(id: &str, median: f64) -> Estimate {
        Estimate {
            id: id.into(),
            median_ns: median,
            median_ci_ns: (median, median),
            mad_ns: 1.0,
        }
    }

    #[test]
    fn table_has_one_row_per_operation_with_floor_ratios() {
        let table = securememory_table(
            &[
                est("floor/mprotect_pair/single", 400.0),
                est("protected/secret_with_bytes/single", 440.0),
                est("protected/secret_with_bytes/parallel", 300.0),
                est("guarded/reader_read/single", 800.0),
            ],
            &[],
        )
        .unwrap();
        assert!(
            table.contains(
                "| protected/secret_with_bytes | 440 ± 1 ns | 1.10× | 300 ± 1 ns | 0.75× |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| guarded/reader_read | 800 ± 1 ns | 2.00× | – | – |"),
            "{table}"
        );
        assert!(table.starts_with("Floor (one mprotect pair on a locked page): 400 ± 1 ns"));
    }

    #[test]
    fn missing_floor_is_an_error() {
        assert!(securememory_table(&[est("protected/x/single", 1.0)], &[]).is_err());
    }

    #[test]
    fn go_results_add_a_median_and_a_ratio_column() {
        let go = go_bench::parse(
            "BenchmarkProtectedMemorySecret_WithBytes-1 100 600 ns/op\nBenchmarkProtectedMemorySecret_WithBytes-1 100 600 ns/op\n",
        );
        let table = securememory_table(
            &[
                est("floor/mprotect_pair/single", 400.0),
                est("protected/secret_with_bytes/parallel", 300.0),
            ],
            &go,
        )
        .unwrap();
        assert!(table.contains("| 600 ± 0 ns (-cpu 1) | 0.50× |"), "{table}");
    }
}
