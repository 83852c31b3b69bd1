//! Reading criterion's saved estimates (`<target>/criterion/<group>/<function>/<param>/new/estimates.json`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// One benchmark's result as criterion estimated it.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Benchmark id, `group/function[/parameter]`.
    pub id: String,
    /// Median time per iteration, nanoseconds.
    pub median_ns: f64,
    /// 95% confidence interval of the median, nanoseconds.
    pub median_ci_ns: (f64, f64),
    /// Median absolute deviation, nanoseconds.
    pub mad_ns: f64,
}

#[derive(Deserialize)]
struct Estimates {
    median: Stat,
    median_abs_dev: Stat,
}

#[derive(Deserialize)]
struct Stat {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

#[derive(Deserialize)]
struct BenchmarkInfo {
    full_id: String,
}

/// Every benchmark under `criterion_dir` whose id starts with `prefix`, sorted by id.
pub fn load(criterion_dir: &Path, prefix: &str) -> Result<Vec<Estimate>> {
    let mut found = Vec::new();
    collect(criterion_dir, &mut found)?;
    let mut out = Vec::new();
    for dir in found {
        let info: BenchmarkInfo = read_json(&dir.join("benchmark.json"))?;
        if !info.full_id.starts_with(prefix) {
            continue;
        }
        let est: Estimates = read_json(&dir.join("estimates.json"))?;
        out.push(Estimate {
            id: info.full_id,
            median_ns: est.median.point_estimate,
            median_ci_ns: (
                est.median.confidence_interval.lower_bound,
                est.median.confidence_interval.upper_bound,
            ),
            mad_ns: est.median_abs_dev.point_estimate,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

fn collect(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            if path.join("estimates.json").is_file() && path.join("benchmark.json").is_file() {
                found.push(path);
            }
        } else if path
            .file_name()
            .is_some_and(|n| n != "base" && n != "report" && n != "change")
        {
            collect(&path, found)?;
        }
    }
    Ok(())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, id: &str, median: f64) {
        let d = dir.join(id.replace('/', "_")).join("new");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("benchmark.json"),
            format!(r#"{{"full_id":"{id}","group_id":"g"}}"#),
        )
        .unwrap();
        let stat = |v: f64| {
            format!(
                r#"{{"point_estimate":{v},"standard_error":1.0,"confidence_interval":{{"confidence_level":0.95,"lower_bound":{},"upper_bound":{}}}}}"#,
                v - 1.0,
                v + 1.0
            )
        };
        std::fs::write(
            d.join("estimates.json"),
            format!(
                r#"{{"mean":{},"median":{},"median_abs_dev":{},"slope":null,"std_dev":{}}}"#,
                stat(median),
                stat(median),
                stat(2.0),
                stat(3.0)
            ),
        )
        .unwrap();
    }

    #[test]
    fn loads_medians_filtered_by_prefix_and_sorted() {
        let dir = std::env::temp_dir().join(format!("lab-criterion-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write(&dir, "protected/secret_with_bytes/single", 500.0);
        write(&dir, "floor/mprotect_pair/single", 450.0);
        write(&dir, "other/x", 1.0);
        let all = load(&dir, "").unwrap();
        assert_eq!(all.len(), 3);
        let sm: Vec<_> = load(&dir, "p").unwrap();
        assert_eq!(sm.len(), 1);
        assert_eq!(sm[0].median_ns, 500.0);
        assert_eq!(sm[0].median_ci_ns, (499.0, 501.0));
        assert_eq!(sm[0].mad_ns, 2.0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
