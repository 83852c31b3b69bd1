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

/// A benchmark's time per iteration as the report reads it: criterion's mean (the estimator Go's `ns/op` uses), and
/// its slope where criterion fitted one (linear sampling), the right figure when a fixed cost dominates.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Benchmark id.
    pub id: String,
    /// Mean time per iteration, nanoseconds.
    pub mean_ns: f64,
    /// Slope of time over iterations, nanoseconds, when criterion fitted one.
    pub slope_ns: Option<f64>,
}

#[derive(Deserialize)]
struct PointEstimates {
    mean: Stat,
    #[serde(default)]
    slope: Option<Stat>,
}

/// Every benchmark's [`Point`] under `criterion_dir`, sorted by id.
pub fn load_points(criterion_dir: &Path) -> Result<Vec<Point>> {
    let mut found = Vec::new();
    collect(criterion_dir, &mut found)?;
    let mut out = Vec::new();
    for dir in found {
        let info: BenchmarkInfo = read_json(&dir.join("benchmark.json"))?;
        let est: PointEstimates = read_json(&dir.join("estimates.json"))?;
        out.push(Point {
            id: info.full_id,
            mean_ns: est.mean.point_estimate,
            slope_ns: est.slope.map(|s| s.point_estimate),
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
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

/// Every benchmark under `criterion_dir` with its mean ns per iteration over all of its samples — total time ÷
/// total iterations of `sample.json`, the estimator of Go's ns/op — sorted by id.
pub fn load_sample_means(criterion_dir: &Path) -> Result<Vec<(String, f64)>> {
    let mut found = Vec::new();
    collect(criterion_dir, &mut found)?;
    let mut out = Vec::new();
    for dir in found {
        let info: BenchmarkInfo = read_json(&dir.join("benchmark.json"))?;
        let sample: SampleFile = read_json(&dir.join("sample.json"))?;
        let iters: f64 = sample.iters.iter().sum();
        if iters > 0.0 {
            out.push((info.full_id, sample.times.iter().sum::<f64>() / iters));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// `sample.json`: each sample's iteration count and total time (ns).
#[derive(Deserialize)]
struct SampleFile {
    iters: Vec<f64>,
    times: Vec<f64>,
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
    fn sample_means_divide_total_time_by_total_iterations() {
        let dir = std::env::temp_dir().join(format!("lab-criterion-means-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write(&dir, "g/a", 1.0);
        write(&dir, "g/b", 1.0);
        let a = dir.join("g_a").join("new");
        // 10 iterations in 1000 ns and 30 in 5000 ns: 6000 / 40 = 150 ns (the mean of the per-sample means
        // would be 133).
        std::fs::write(
            a.join("sample.json"),
            r#"{"sampling_mode":"Linear","iters":[10.0,30.0],"times":[1000.0,5000.0]}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("g_b").join("new").join("sample.json"),
            r#"{"sampling_mode":"Flat","iters":[0.0],"times":[0.0]}"#,
        )
        .unwrap();
        assert_eq!(
            load_sample_means(&dir).unwrap(),
            vec![("g/a".to_string(), 150.0)]
        );
        std::fs::remove_dir_all(&dir).unwrap();
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
        let points = load_points(&dir).unwrap();
        assert_eq!(points.len(), 3);
        assert_eq!(points[0].id, "floor/mprotect_pair/single");
        assert_eq!((points[0].mean_ns, points[0].slope_ns), (450.0, None));
        let sm: Vec<_> = load(&dir, "p").unwrap();
        assert_eq!(sm.len(), 1);
        assert_eq!(sm[0].median_ns, 500.0);
        assert_eq!(sm[0].median_ci_ns, (499.0, 501.0));
        assert_eq!(sm[0].mad_ns, 2.0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
