//! The criterion runner (ours and the asherah 1.0 peer): one `cargo bench --no-run` for every bench target, then
//! each bench binary once per round.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use super::pattern::alternation;
use crate::criterion_results;
use crate::environment;
use crate::results::Implementation;

/// A criterion bench binary and the ids wanted from it.
pub struct RustUnit {
    /// Bench target name.
    pub bench: String,
    /// Ours or the peer.
    pub implementation: Implementation,
    /// The bench binary.
    pub exe: PathBuf,
    /// Criterion ids wanted.
    pub ids: BTreeSet<String>,
    /// Ids of fixed-cost benches, read by criterion's slope instead of its mean.
    pub slope: BTreeSet<String>,
}

/// `$CARGO_TARGET_DIR`, or `<root>/target`.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// `cargo bench --no-run` of `benches` in the checkout at `root` with the lab's `features`, into `target` (default:
/// the environment's); returns bench name → executable.
pub fn build(
    root: &Path,
    benches: &BTreeSet<String>,
    features: &[String],
    target: Option<&Path>,
) -> Result<BTreeMap<String, PathBuf>> {
    let mut cmd = Command::new("cargo");
    if let Some(t) = target {
        cmd.env("CARGO_TARGET_DIR", t);
    }
    cmd.current_dir(root).args([
        "bench",
        "-p",
        "lab",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    for b in benches {
        cmd.args(["--bench", b]);
    }
    eprintln!(
        "lab: building benches in {}: {}",
        root.display(),
        benches.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo")?;
    if !out.status.success() {
        bail!("cargo bench --no-run failed");
    }
    Ok(bench_executables(&String::from_utf8_lossy(&out.stdout)))
}

/// Bench name → executable, from cargo's JSON messages.
fn bench_executables(messages: &str) -> BTreeMap<String, PathBuf> {
    let mut exes = BTreeMap::new();
    for line in messages.lines() {
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
    exes
}

/// What one criterion process measured and reported.
#[derive(Debug, Default)]
pub struct BenchRun {
    /// (id, ns) per bench: the mean, or the slope for fixed-cost benches (the mean where criterion fitted no slope).
    pub points: Vec<(String, f64)>,
    /// The AES-GCM routes the process said it took (its `crypto path: …` stderr lines; see [`crypto_paths`]).
    pub crypto_paths: Vec<String>,
}

/// The prefix of the line a bench prints with `appencryption::crypto_path()`: the routes its process calibrated.
pub const CRYPTO_PATH_PREFIX: &str = "crypto path: ";

/// The `crypto path: …` lines of a bench's stderr, without the prefix.
pub fn crypto_paths(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix(CRYPTO_PATH_PREFIX))
        .map(str::to_string)
        .collect()
}

/// One round of a unit's benches, with criterion's output under `home`. The bench runs under the same memlock and
/// core limits as Go's ([`environment::bench_command`]).
pub fn run(unit: &RustUnit, home: &Path, args: &[String]) -> Result<BenchRun> {
    std::fs::create_dir_all(home)?;
    // criterion reports progress on stderr; keep it for a failure only, so the progress bar stays readable.
    let out = environment::bench_command(&unit.exe)
        .env("CRITERION_HOME", home)
        .arg("--bench")
        .args(args)
        .arg(alternation(unit.ids.iter().cloned()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("running a criterion bench")?;
    // What finished before a failure is still a measurement; the failure is reported either way.
    let found: Vec<(String, f64)> = criterion_results::load_points(home)?
        .into_iter()
        .filter(|p| unit.ids.contains(&p.id))
        .map(|p| {
            let v = match p.slope_ns {
                Some(slope) if unit.slope.contains(&p.id) => slope,
                _ => p.mean_ns,
            };
            (p.id, v)
        })
        .collect();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
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
    Ok(BenchRun {
        points: found,
        crypto_paths: crypto_paths(&stderr),
    })
}

#[cfg(test)]
mod tests {
    use super::crypto_paths;

    #[test]
    fn crypto_path_lines_are_picked_out_of_a_bench_s_stderr() {
        let stderr = "Benchmarking hot_encrypt_ring/cached_cipher/64\n\
                      crypto path: ring backend one-shot keys: seal ring for every length, open ring for every \
                      length (calibrated in 0.91 ms)\n\
                      hot_encrypt_ring/cached_cipher/64 time: [1 ns 2 ns 3 ns]\n\
                      no crypto path: here\n";
        assert_eq!(
            crypto_paths(stderr),
            [
                "ring backend one-shot keys: seal ring for every length, open ring for every length (calibrated in \
              0.91 ms)"
            ]
        );
        assert!(crypto_paths("").is_empty());
    }
}
