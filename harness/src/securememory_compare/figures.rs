//! The raw figures of one `lab securememory` run, as written to `reports/results/securememory-<UTC>.json`: every
//! round's mean ns/op of both sides and the protection-change counts, so the table can be re-rendered
//! (`lab securememory --render FILE`) without measuring again.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::protection_changes::{GoCount, OurCount};
use crate::results::Environment;

/// Version of this file's schema, bumped on incompatible changes.
pub const SCHEMA: u32 = 1;

/// One round's mean ns/op of one of our criterion benches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OurRound {
    /// Criterion id, e.g. `guarded/reader_read/parallel`.
    pub id: String,
    /// Round index.
    pub round: u32,
    /// Total time ÷ total iterations of the round's samples.
    pub ns_per_op: f64,
}

/// One round's ns/op of one Go benchmark at one `-cpu` (Go's ns/op is the timed run's total time ÷ b.N).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoRound {
    /// Benchmark name without the `-<cpu>` suffix.
    pub name: String,
    /// `-cpu` (GOMAXPROCS).
    pub cpu: u32,
    /// Round index.
    pub round: u32,
    /// ns/op.
    pub ns_per_op: f64,
}

/// Everything one run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// [`SCHEMA`].
    pub schema: u32,
    /// UTC start, RFC 3339.
    pub started: String,
    /// UTC end, RFC 3339.
    pub finished: String,
    /// The machine and toolchains.
    pub environment: Environment,
    /// Interleaved rounds.
    pub rounds: u32,
    /// `--only` pattern, if any.
    pub only: Option<String>,
    /// How each side was run (flags, memlock limit, count sizes).
    pub settings: BTreeMap<String, String>,
    /// Our per-round means.
    pub ours: Vec<OurRound>,
    /// Go's per-round means.
    pub go: Vec<GoRound>,
    /// Our protection changes.
    pub our_changes: Vec<OurCount>,
    /// Our protection changes counted with the bench under `strace -f -e trace=mprotect`, the same perturbation
    /// as Go's counts (empty when strace is missing).
    pub our_changes_traced: Vec<OurCount>,
    /// Go's mprotect counts.
    pub go_changes: Vec<GoCount>,
    /// What was left out or could not run, said in the table's header.
    pub notes: Vec<String>,
}

impl Figures {
    /// Write as pretty JSON, creating the directory.
    pub fn write(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
    }

    /// Read a file [`Figures::write`] wrote.
    pub fn read(path: &Path) -> Result<Figures> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let figures: Figures =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if figures.schema != SCHEMA {
            bail!(
                "{} has schema {}, this lab reads {SCHEMA}",
                path.display(),
                figures.schema
            );
        }
        Ok(figures)
    }

    /// Our `(round, ns/op)` values of one criterion id.
    pub fn ours_of(&self, id: &str) -> Vec<(u32, f64)> {
        self.ours
            .iter()
            .filter(|r| r.id == id)
            .map(|r| (r.round, r.ns_per_op))
            .collect()
    }

    /// Go's `(round, ns/op)` values of one benchmark at one `-cpu`.
    pub fn go_of(&self, name: &str, cpu: u32) -> Vec<(u32, f64)> {
        self.go
            .iter()
            .filter(|r| r.name == name && r.cpu == cpu)
            .map(|r| (r.round, r.ns_per_op))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_file_and_rejects_another_schema() {
        let figures = Figures {
            schema: SCHEMA,
            started: "2026-01-01T00:00:00Z".into(),
            finished: "2026-01-01T00:05:00Z".into(),
            environment: Environment::default(),
            rounds: 2,
            only: Some("with_bytes".into()),
            settings: BTreeMap::from([("memlock".into(), "unlimited".into())]),
            ours: vec![OurRound {
                id: "protected/secret_with_bytes/single".into(),
                round: 1,
                ns_per_op: 812.5,
            }],
            go: vec![GoRound {
                name: "BenchmarkProtectedMemorySecret_WithBytes".into(),
                cpu: 1,
                round: 1,
                ns_per_op: 1000.0,
            }],
            our_changes: Vec::new(),
            our_changes_traced: Vec::new(),
            go_changes: Vec::new(),
            notes: vec!["a note".into()],
        };
        let path = std::env::temp_dir().join(format!("lab-smfigures-{}.json", std::process::id()));
        figures.write(&path).unwrap();
        let back = Figures::read(&path).unwrap();
        assert_eq!(back, figures);
        assert_eq!(
            back.ours_of("protected/secret_with_bytes/single"),
            vec![(1, 812.5)]
        );
        assert_eq!(
            back.go_of("BenchmarkProtectedMemorySecret_WithBytes", 1),
            vec![(1, 1000.0)]
        );
        assert!(
            back.go_of("BenchmarkProtectedMemorySecret_WithBytes", 2)
                .is_empty()
        );
        let other = serde_json::to_string(&Figures {
            schema: SCHEMA + 1,
            ..figures
        })
        .unwrap();
        std::fs::write(&path, other).unwrap();
        assert!(Figures::read(&path).is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
