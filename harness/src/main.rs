//! The `lab` program: turns benchmark results into the tables people read.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use lab::criterion_results::{self, Estimate};
use lab::go_bench::{self, GoResult};

#[derive(Parser)]
#[command(
    name = "lab",
    about = "Asherah lab: Go-vs-Rust benchmarks, report and regression gate"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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

fn main() -> Result<()> {
    match Cli::parse().command {
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
        }
    }
    Ok(())
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
