//! Scenarios as data (docs/architecture.md#scenarios-as-data): `scenarios/*.toml`, each `[[scenario]]` naming where
//! it sits in the report and which bench of each implementation measures it. The runners, the report and the charts
//! read only these; adding a scenario is adding a table entry (and the bench functions it names).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The report's sections, in order. Section 6 (consolidated metrics) is computed from the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// 1. SecureMemory — basic secret operations.
    Securememory,
    /// 2. Optimization impact: change against the previous committed results.
    Optimization,
    /// 3. AppEncryption — the analysis's predicted advantages, measured.
    Advantages,
    /// 4. The analysis's code-pattern claims, each a measured Go-vs-Rust pair.
    Patterns,
    /// 5. End to end: the integration benchmarks and the payload-size series.
    EndToEnd,
}

impl Table {
    /// Every table, in report order.
    pub const ALL: [Table; 5] = [
        Table::Securememory,
        Table::Optimization,
        Table::Advantages,
        Table::Patterns,
        Table::EndToEnd,
    ];

    /// The name used in TOML, chart file names and `--only`.
    pub fn key(self) -> &'static str {
        match self {
            Table::Securememory => "securememory",
            Table::Optimization => "optimization",
            Table::Advantages => "advantages",
            Table::Patterns => "patterns",
            Table::EndToEnd => "end_to_end",
        }
    }
}

/// What a scenario's cells hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Wall time per operation, ns (criterion for Rust, `ns/op` for Go).
    #[default]
    Time,
    /// Heap allocations per operation (a counting allocator for Rust, `allocs/op` of `-benchmem` for Go).
    Allocs,
    /// Heap bytes allocated per operation (`B/op` for Go).
    Bytes,
    /// A size in bytes that the bench reports (Go: a `b.ReportMetric` unit, Rust: the metrics runner).
    Size,
}

impl Metric {
    /// Unit printed in table headers.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Time => "ns/op",
            Metric::Allocs => "allocs/op",
            Metric::Bytes => "B/op",
            Metric::Size => "B",
        }
    }
}

/// A Rust-side measurement: a bench target of the `lab` crate and the id inside it (a criterion id, or for
/// `bench = "metrics"` an id of the allocation/size runner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RustSource {
    /// Bench target (`harness/benches/<bench>.rs`).
    pub bench: String,
    /// Benchmark id inside it.
    pub id: String,
}

/// A Go benchmark: package (an import path run from the module cache, or `./dir` under `go-baseline`) and the
/// benchmark name without the `-<GOMAXPROCS>` suffix (sub-benchmarks as `Name/sub`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoSource {
    /// Package to run.
    pub package: String,
    /// Benchmark name.
    pub name: String,
    /// GOMAXPROCS to read the result at (Go's `-cpu`); default: the number of CPUs.
    #[serde(default)]
    pub cpu: Option<u32>,
    /// For `metric = "size"`: the `b.ReportMetric` unit to read (e.g. `B/record`).
    #[serde(default)]
    pub unit: Option<String>,
}

/// What the performance analysis published for this row (reference columns).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Published {
    /// Go figure, in the scenario's unit.
    #[serde(default)]
    pub go: Option<f64>,
    /// The analysis's initial Rust figure.
    #[serde(default)]
    pub rust: Option<f64>,
    /// The analysis's "optimized Rust" figure, as it printed it (a range such as `380–390`).
    #[serde(default)]
    pub rust_optimized: Option<String>,
    /// A published change in percent (table 2).
    #[serde(default)]
    pub change_pct: Option<f64>,
    /// A published qualitative claim (tables 3–4), e.g. `Likely faster`.
    #[serde(default)]
    pub claim: Option<String>,
}

/// The direction the analysis predicted, against which a measured ratio gives a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Rust's figure is lower (faster, fewer allocations, smaller).
    RustLower,
    /// Rust's cost on the success path is no higher than Go's (parity counts as confirmed).
    RustNotHigher,
}

/// One scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique id (also the key in results files).
    pub id: String,
    /// Report section.
    pub table: Table,
    /// Row label in that section (scenarios sharing a row are columns/series of it).
    pub row: String,
    /// Series within the row: secret implementation, key mode, … (a chart series).
    #[serde(default)]
    pub series: Option<String>,
    /// Printed beside the row: what it measures, or the security property of a key mode.
    #[serde(default)]
    pub note: Option<String>,
    /// What the cells hold.
    #[serde(default)]
    pub metric: Metric,
    /// A reference row (e.g. the mprotect floor): shown, never given a verdict.
    #[serde(default)]
    pub reference: bool,
    /// Our implementation.
    #[serde(default)]
    pub rust: Option<RustSource>,
    /// Go: our testify-free mirror of the benchmark (a `./dir` package of go-baseline). Every Go figure the report
    /// compares with comes from here.
    #[serde(default)]
    pub go: Option<GoSource>,
    /// Upstream Go Asherah's own benchmark of the same work, run in place from the module cache. It calls testify's
    /// `assert` inside the timed loop, so it is shown in a column of its own and never compared with.
    #[serde(default)]
    pub go_upstream: Option<GoSource>,
    /// The crates.io `asherah` 1.0 peer (a `peers` bench id).
    #[serde(default)]
    pub peer: Option<RustSource>,
    /// Parameters the charts use: `payload` (bytes) and `threads` (x axes), anything else is printed.
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    /// What the analysis published.
    #[serde(default)]
    pub published: Published,
    /// What the analysis predicted (tables 3–4).
    #[serde(default)]
    pub expect: Option<Expect>,
    /// Why this measurement cannot test the claim (e.g. "equal by format"): its verdict is "n/a: premise".
    #[serde(default)]
    pub premise: Option<String>,
    /// A fixed cost per iteration dominates (e.g. a 5 ms loader): read criterion's slope, not the mean.
    #[serde(default)]
    pub fixed_cost: bool,
    /// Whether the row measures the default configuration of ours (default key mode, default backend). The
    /// conclusion's headline and its largest wins and losses use only these.
    #[serde(default = "yes")]
    pub default_config: bool,
    /// Rows of §3 and §4 about the same subject share a topic; where their verdicts differ the report says why.
    #[serde(default)]
    pub topic: Option<String>,
}

fn yes() -> bool {
    true
}

impl Scenario {
    /// An integer parameter.
    pub fn param_u64(&self, name: &str) -> Option<u64> {
        self.params
            .get(name)
            .and_then(toml::Value::as_integer)
            .and_then(|v| u64::try_from(v).ok())
    }

    /// Whether `--only PATTERN` selects this scenario: a substring of its id, table key or row.
    pub fn matches(&self, pattern: &str) -> bool {
        self.id.contains(pattern)
            || self.table.key().contains(pattern)
            || self.row.contains(pattern)
    }
}

/// The earlier commit §2 compares with (a `[compare]` table of one scenarios file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareBase {
    /// A git ref of this repository (a hash, so it means the same in every clone).
    pub base: String,
    /// Why that commit, as the report prints it.
    pub why: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    scenario: Vec<Scenario>,
    #[serde(default)]
    compare: Option<CompareBase>,
}

fn toml_files(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    files.sort();
    Ok(files)
}

/// The `[compare]` table of the scenario files in `dir` (the first one, in name order), if any.
pub fn compare_base(dir: &Path) -> Result<Option<CompareBase>> {
    for path in toml_files(dir)? {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let file: File = toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
        if file.compare.is_some() {
            return Ok(file.compare);
        }
    }
    Ok(None)
}

/// Every scenario of every `*.toml` in `dir` (files in name order, scenarios in file order). Duplicate ids, a
/// scenario with no implementation, a Go source without its package, and a `size` metric whose Go source names no
/// unit are errors.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>> {
    let mut all = Vec::new();
    for path in toml_files(dir)? {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        all.extend(parse(&text).with_context(|| format!("in {}", path.display()))?);
    }
    validate(&all)?;
    Ok(all)
}

/// The scenarios of one TOML document (not yet cross-checked).
pub fn parse(text: &str) -> Result<Vec<Scenario>> {
    Ok(toml::from_str::<File>(text)?.scenario)
}

/// Cross-file checks.
pub fn validate(all: &[Scenario]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for s in all {
        if !seen.insert(s.id.as_str()) {
            bail!("duplicate scenario id {:?}", s.id);
        }
        if s.rust.is_none() && s.go.is_none() && s.peer.is_none() {
            bail!("scenario {:?} names no implementation", s.id);
        }
        if let Some(up) = &s.go_upstream
            && (up.package.is_empty() || !up.name.starts_with("Benchmark"))
        {
            bail!(
                "scenario {:?}: go_upstream needs a package and a Benchmark… name",
                s.id
            );
        }
        if let Some(go) = &s.go {
            if go.package.is_empty() || !go.name.starts_with("Benchmark") {
                bail!(
                    "scenario {:?}: a Go source needs a package and a Benchmark… name",
                    s.id
                );
            }
            if s.metric == Metric::Size && go.unit.is_none() {
                bail!(
                    "scenario {:?}: a size metric needs the Go unit to read",
                    s.id
                );
            }
        }
        if s.metric != Metric::Time
            && let Some(r) = &s.rust
            && r.bench != "metrics"
        {
            bail!(
                "scenario {:?}: Rust {} figures come from the `metrics` runner, not {:?}",
                s.id,
                s.metric.unit(),
                r.bench
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"
[[scenario]]
id = "sm_protected_with_bytes"
table = "securememory"
row = "secret_with_bytes"
series = "protectedmemory"
rust = { bench = "securememory", id = "protected/secret_with_bytes/parallel" }
go = { package = "github.com/godaddy/asherah/go/securememory/protectedmemory", name = "BenchmarkProtectedMemorySecret_WithBytes" }
params = { threads = 2 }
published = { go = 354.9, rust = 1168.7, rust_optimized = "380–390" }
"#;

    #[test]
    fn parses_a_scenario_with_defaults() {
        let s = &parse(ONE).unwrap()[0];
        assert_eq!(s.table, Table::Securememory);
        assert_eq!(s.metric, Metric::Time);
        assert_eq!(s.param_u64("threads"), Some(2));
        assert_eq!(s.published.go, Some(354.9));
        assert_eq!(s.go.as_ref().unwrap().cpu, None);
        assert!(s.matches("securememory") && s.matches("with_bytes") && !s.matches("payload"));
    }

    #[test]
    fn rejects_unknown_fields_duplicates_and_empty_scenarios() {
        assert!(parse(&ONE.replace("series =", "serie =")).is_err());
        let mut two = parse(ONE).unwrap();
        two.extend(parse(ONE).unwrap());
        assert!(
            validate(&two)
                .unwrap_err()
                .to_string()
                .contains("duplicate")
        );
        let bare = "[[scenario]]\nid = \"x\"\ntable = \"patterns\"\nrow = \"r\"\n";
        assert!(validate(&parse(bare).unwrap()).is_err());
        let alloc = ONE.replace(
            "table = \"securememory\"",
            "table = \"patterns\"\nmetric = \"allocs\"",
        );
        assert!(
            validate(&parse(&alloc).unwrap())
                .unwrap_err()
                .to_string()
                .contains("metrics")
        );
    }

    #[test]
    fn the_committed_scenarios_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let all = load_dir(&dir).unwrap();
        for table in Table::ALL {
            assert!(
                all.iter().any(|s| s.table == table),
                "no scenario for {table:?}"
            );
        }
        // Upstream's own benchmark is only ever a column beside our testify-free mirror.
        for s in &all {
            if s.go_upstream.is_some()
                && let Some(go) = &s.go
            {
                assert!(
                    go.package.starts_with("./"),
                    "{}: go must be a mirror",
                    s.id
                );
            }
        }
        // §5 shows a row per key mode; it counts once in the default-configuration summaries, on its one default
        // series.
        let mut defaults: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for s in all.iter().filter(|s| s.table == Table::EndToEnd) {
            let entry = defaults.entry(&s.row).or_default();
            if s.default_config {
                entry.push(&s.id);
            }
        }
        for (row, ids) in &defaults {
            assert!(
                ids.len() <= 1,
                "row {row}: several default-configuration series: {ids:?}"
            );
        }
        let base = compare_base(&dir)
            .unwrap()
            .expect("optimization.toml names the before commit");
        assert!(!base.base.is_empty() && !base.why.is_empty());
    }
}
