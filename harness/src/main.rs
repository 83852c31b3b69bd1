//! The `lab` program: turns benchmark results into the tables people read.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use lab::criterion_results::{self, Estimate};

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
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::SecurememoryTable { criterion_dir } => {
            let estimates = criterion_results::load(&criterion_dir, "")?;
            print!("{}", securememory_table(&estimates)?);
        }
    }
    Ok(())
}

/// The table: one row per operation, single-thread and parallel medians side by side, ratios to the floor.
fn securememory_table(estimates: &[Estimate]) -> Result<String> {
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
    out.push_str(
        "| bench | single-thread median | ÷ floor | parallel median (wall ÷ ops) | ÷ floor |\n",
    );
    out.push_str("|---|---|---|---|---|\n");
    for (imp, op) in ops {
        let single = find(&format!("{imp}/{op}/single"));
        let parallel = find(&format!("{imp}/{op}/parallel"));
        out.push_str(&format!(
            "| {imp}/{op} | {} | {} |\n",
            cell(single),
            cell(parallel)
        ));
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
        let table = securememory_table(&[
            est("floor/mprotect_pair/single", 400.0),
            est("protected/secret_with_bytes/single", 440.0),
            est("protected/secret_with_bytes/parallel", 300.0),
            est("guarded/reader_read/single", 800.0),
        ])
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
        assert!(securememory_table(&[est("protected/x/single", 1.0)]).is_err());
    }
}
