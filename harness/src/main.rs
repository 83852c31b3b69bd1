//! The `lab` program: turns benchmark results into the tables people read.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use lab::gate::{self, Acceptance, Baseline};
use lab::results::Results;
use lab::runner::{self, Settings};
use lab::securememory_compare::{self, Figures, GoCounts};
use lab::{audit, environment, go_mirrors, interop, report, scenario};

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
        /// Interleaved rounds (default: 10).
        #[arg(long)]
        rounds: Option<u32>,
        /// Leave out the crates.io peer (saves its several-minute first build).
        #[arg(long)]
        no_peer: bool,
        /// Leave out Go.
        #[arg(long)]
        no_go: bool,
        /// The earlier commit §2 compares with (default: the scenarios' `[compare]` base).
        #[arg(long, conflicts_with = "no_compare")]
        compare: Option<String>,
        /// Leave §2's before/after comparison out (saves building the earlier commit).
        #[arg(long)]
        no_compare: bool,
    },
    /// Re-render REPORT.md and the charts from a results file, without running anything.
    Render {
        /// A reports/results/*.json file.
        results: PathBuf,
    },
    /// Build our benches at GIT_REF in a worktree of its own and compare them with this checkout's, in interleaved
    /// rounds: each scenario's change with its bootstrap CI and a Mann–Whitney test (§2's scenarios by default).
    Compare {
        /// The earlier commit (a hash, `HEAD~3`, a branch).
        git_ref: String,
        /// Scenarios whose id, table or row contains PATTERN (default: §2's).
        #[arg(long)]
        only: Option<String>,
        /// Interleaved rounds (default: 10).
        #[arg(long)]
        rounds: Option<u32>,
        /// Long measurements.
        #[arg(long)]
        full: bool,
    },
    /// Count the hot paths' instructions and compare with reports/baseline/icount.json; exits 1 on a regression.
    Gate {
        /// Make the measured counts the new baseline.
        #[arg(long, requires = "reason")]
        accept: bool,
        /// Why the new baseline is right (recorded in it).
        #[arg(long)]
        reason: Option<String>,
        /// Extra features of the lab crate to build the benches with (beside `icount`).
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
    /// Our SecureMemory benches against Go's mirrors in the same run (interleaved rounds), with protection
    /// changes per 1,000 ops; prints the markdown table and writes reports/results/securememory-<UTC>.json.
    Securememory {
        /// Interleaved rounds.
        #[arg(long, default_value_t = 10)]
        rounds: u32,
        /// Only operations whose `kind/operation` (e.g. `guarded/reader_read`) contains PATTERN.
        #[arg(long)]
        only: Option<String>,
        /// Write the raw figures here instead of reports/results/securememory-<UTC>.json.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Print the table of a figures file written earlier, without measuring.
        #[arg(long, conflicts_with_all = ["rounds", "only", "json", "go_counts", "recount"])]
        render: Option<PathBuf>,
        /// Ops per bench for counting our protection changes.
        #[arg(long, default_value_t = 20_000)]
        count_ops: u64,
        /// Go's mprotect counts: this output of scripts/go-mprotect-count.sh (default: the newest
        /// reports/results/go-mprotect-*.txt, made first if there is none).
        #[arg(long)]
        go_counts: Option<PathBuf>,
        /// Run scripts/go-mprotect-count.sh again for Go's mprotect counts.
        #[arg(long, conflicts_with = "go_counts")]
        recount: bool,
    },
    /// Print a markdown table of each go-baseline mirror beside upstream's own benchmark, from a
    /// scripts/go-bench.sh output file.
    GoMirrors {
        /// A reports/results/go-bench-*.txt file (default: the newest).
        file: Option<PathBuf>,
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
            compare,
            no_compare,
        } => {
            let mut settings = settings(full, rounds);
            settings.peer = !no_peer;
            settings.go = !no_go;
            settings.compare = match (compare, no_compare) {
                (_, true) => None,
                (Some(r), false) => Some(r),
                (None, false) => scenario::compare_base(&root.join("scenarios"))?.map(|b| b.base),
            };
            report(&root, only, &settings)?;
            Ok(true)
        }
        Command::Render { results } => {
            render_report(&root, &results)?;
            Ok(true)
        }
        Command::Compare {
            git_ref,
            only,
            rounds,
            full,
        } => {
            // Ours at two commits only: no peer to build.
            let settings = Settings {
                peer: false,
                ..settings(full, rounds)
            };
            compare(&root, &git_ref, only.as_deref(), &settings)?;
            Ok(true)
        }
        Command::Gate {
            accept,
            reason,
            features,
            baseline,
        } => gate_command(&root, accept, reason, &features, baseline),
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
        Command::Securememory {
            rounds,
            only,
            json,
            render,
            count_ops,
            go_counts,
            recount,
        } => {
            let figures = match render {
                Some(path) => Figures::read(&path)?,
                None => {
                    let options = securememory_compare::Options {
                        rounds: rounds.max(1),
                        only,
                        count_ops: count_ops.max(1),
                        go_counts: match (go_counts, recount) {
                            (Some(path), _) => GoCounts::File(path),
                            (None, true) => GoCounts::Recount,
                            (None, false) => GoCounts::Newest,
                        },
                    };
                    securememory_compare::run_and_write(&root, &options, json.as_deref())?
                }
            };
            print!("{}", securememory_compare::render(&figures)?);
            Ok(true)
        }
        Command::GoMirrors { file } => {
            print!("{}", go_mirrors::run(&root, file.as_deref())?);
            Ok(true)
        }
    }
}

/// `lab gate`: measure, compare with the baseline and print the table; with `accept`, write the new baseline.
fn gate_command(
    root: &Path,
    accept: bool,
    reason: Option<String>,
    features: &[String],
    baseline: Option<PathBuf>,
) -> Result<bool> {
    let path = baseline.unwrap_or_else(|| root.join("reports/baseline/icount.json"));
    let counts = gate::run(root, features)?;
    let mut base = Baseline::read(&path)?;
    let rows = gate::compare(&base, &counts);
    println!("{}", gate::table(&rows));
    if accept {
        base.instructions_per_op = counts
            .iter()
            .map(|c| (c.scenario.clone(), c.instructions_per_op))
            .collect();
        let env = environment::collect(root);
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

/// Quick or full settings with `rounds` if given.
fn settings(full: bool, rounds: Option<u32>) -> Settings {
    let mut settings = if full {
        Settings::full()
    } else {
        Settings::quick()
    };
    if let Some(r) = rounds {
        settings.rounds = r.max(1);
    }
    settings
}

/// `lab report`: run the scenarios (those matching `only`), write the results file and render REPORT.md.
fn report(root: &Path, only: Option<String>, settings: &Settings) -> Result<()> {
    let mut scenarios = scenario::load_dir(&root.join("scenarios"))?;
    if let Some(p) = &only {
        scenarios.retain(|s| s.matches(p));
        if scenarios.is_empty() {
            bail!("--only {p:?} selects no scenario");
        }
    }
    let mut results = runner::run(root, &scenarios, settings)?;
    results.run.only = only;
    if let Some(b) = &mut results.run.baseline {
        b.why = scenario::compare_base(&root.join("scenarios"))?
            .filter(|c| c.base == b.git_ref)
            .map(|c| c.why)
            .unwrap_or_default();
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let path = root.join("reports/results").join(format!("{stamp}.json"));
    results.write(&path)?;
    eprintln!("lab: wrote {}", path.display());
    render_report(root, &path)
}

/// `lab compare`: the selected scenarios (default §2's) at `git_ref` vs this checkout; prints §2's table.
fn compare(root: &Path, git_ref: &str, only: Option<&str>, settings: &Settings) -> Result<()> {
    let mut scenarios: Vec<scenario::Scenario> = scenario::load_dir(&root.join("scenarios"))?
        .into_iter()
        .filter(|s| match only {
            Some(p) => s.matches(p),
            None => s.table == scenario::Table::Optimization,
        })
        .filter(|s| s.rust.as_ref().is_some_and(|r| r.bench != "metrics"))
        .collect();
    if scenarios.is_empty() {
        bail!("no scenario with a Rust bench selected");
    }
    let base = runner::compare::resolve(root, git_ref)?;
    let refs: Vec<&scenario::Scenario> = scenarios.iter().collect();
    let c = runner::compare::run(root, &refs, settings, &base)?;
    for s in &mut scenarios {
        s.table = scenario::Table::Optimization;
    }
    let mut results = Results {
        schema: lab::results::SCHEMA,
        measurements: c.measurements,
        environment: environment::collect(root),
        ..Results::default()
    };
    results.run.rounds = settings.rounds;
    results.run.baseline = Some(base);
    results.run.skipped = c.skipped;
    print!("{}", report::optimization::markdown(&scenarios, &results));
    for s in &results.run.skipped {
        eprintln!("lab compare: {s}");
    }
    Ok(())
}

/// Render `results_path` into reports/REPORT.md and reports/charts/.
fn render_report(root: &Path, results_path: &Path) -> Result<()> {
    let scenarios = scenario::load_dir(&root.join("scenarios"))?;
    let results = Results::read(results_path)?;
    let reports = root.join("reports");
    let rendered = report::render(&scenarios, &results, &reports.join("charts"), "charts")?;
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
