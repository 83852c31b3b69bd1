//! The Go runner: `go test -c` of a go-baseline package, then its benchmarks once per round.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use super::pattern::go_patterns;
use crate::environment;
use crate::go_bench::{self, GoLine};

/// A Go package to run: its test binary and the benchmarks wanted from it.
pub struct GoUnit {
    /// The package as the scenarios name it.
    pub package: String,
    /// Its test binary.
    pub exe: PathBuf,
    /// The directory to run it in.
    pub dir: PathBuf,
    /// Benchmark names wanted.
    pub names: BTreeSet<String>,
    /// GOMAXPROCS values wanted (`-cpu`).
    pub cpus: BTreeSet<u32>,
}

/// `go test -c` of one package into the target dir; returns the binary and the directory to run it in.
pub fn build(root: &Path, target: &Path, package: &str) -> Result<(PathBuf, PathBuf)> {
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

/// One round of a unit's benchmarks.
pub fn run(unit: &GoUnit, benchtime: &str) -> Result<Vec<GoLine>> {
    let mut lines = Vec::new();
    for pattern in go_patterns(&unit.names) {
        lines.extend(run_pattern(unit, &pattern, benchtime)?);
    }
    Ok(lines)
}

fn run_pattern(unit: &GoUnit, pattern: &str, benchtime: &str) -> Result<Vec<GoLine>> {
    let cpus: Vec<String> = unit.cpus.iter().map(u32::to_string).collect();
    // Secrets are mlocked and core dumps must be off, as upstream's CI runs them (scripts/go-bench.sh); ours run
    // under the same limits.
    let out = environment::bench_command(&unit.exe)
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
