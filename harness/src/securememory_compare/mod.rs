//! `lab securememory`: our SecureMemory benches against Go's mirrors (`go-baseline/securememory`), measured in the
//! same run, in interleaved rounds, with the protection changes per 1,000 ops of both sides beside the timings.
//!
//! - [`run`] builds the `securememory` criterion bench and the Go mirrors' test binary, runs both once per round
//!   (Go first in even rounds, ours first in odd ones) under the same memlock limit, counts protection changes,
//!   and returns the [`Figures`].
//! - [`table`] turns figures into the markdown table; [`Figures`] are written as JSON, so
//!   `lab securememory --render FILE` prints the same table again.

pub mod bootstrap;
pub mod figures;
pub mod protection_changes;
mod run;
pub mod table;

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

pub use figures::Figures;
pub use run::run;

/// What to measure and how long.
#[derive(Debug, Clone)]
pub struct Options {
    /// Interleaved rounds.
    pub rounds: u32,
    /// Only operations whose `kind/operation` contains this.
    pub only: Option<String>,
    /// Ops per bench of our protection-change count.
    pub count_ops: u64,
    /// Where Go's mprotect counts come from.
    pub go_counts: GoCounts,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rounds: 10,
            only: None,
            count_ops: 20_000,
            go_counts: GoCounts::Newest,
        }
    }
}

/// Where Go's mprotect counts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoCounts {
    /// The newest `reports/results/go-mprotect-*.txt`; `scripts/go-mprotect-count.sh` runs first if there is
    /// none.
    Newest,
    /// This output of `scripts/go-mprotect-count.sh`.
    File(PathBuf),
    /// Run `scripts/go-mprotect-count.sh` again.
    Recount,
}

/// [`run`], then write the figures to `json` (default `reports/results/securememory-<UTC>.json`).
pub fn run_and_write(root: &Path, options: &Options, json: Option<&Path>) -> Result<Figures> {
    let figures = run(root, options)?;
    let path = match json {
        Some(path) => path.to_path_buf(),
        None => {
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
            root.join("reports/results")
                .join(format!("securememory-{stamp}.json"))
        }
    };
    figures.write(&path)?;
    eprintln!("lab: wrote {}", path.display());
    Ok(figures)
}

/// The markdown table of `figures` (every row `figures.only` selects).
pub fn render(figures: &Figures) -> Result<String> {
    let keys = table::selected(figures.only.as_deref());
    if keys.is_empty() {
        bail!("--only {:?} selects no operation", figures.only);
    }
    let rows = table::rows(figures, &keys, figures.environment.cores.max(1));
    Ok(table::markdown(figures, &rows))
}

/// The newest file in `dir` whose name starts with `prefix` and ends with `suffix` (names carry UTC stamps, so
/// the newest sorts last).
pub fn newest(dir: &Path, prefix: &str, suffix: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
        })
        .collect();
    found.sort();
    found.pop()
}
