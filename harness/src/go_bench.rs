//! Reading `go test -bench` output: one median ns/op per benchmark (and `-cpu` value) over its `-count` runs.

use std::collections::BTreeMap;

/// One Go benchmark's result.
#[derive(Debug, Clone, PartialEq)]
pub struct GoResult {
    /// Benchmark name without the `-<GOMAXPROCS>` suffix, e.g. `BenchmarkProtectedMemorySecret_WithBytes`.
    pub name: String,
    /// GOMAXPROCS of the run (the `-N` suffix; 1 when absent).
    pub cpu: u32,
    /// Median ns/op over the runs.
    pub median_ns: f64,
    /// Median absolute deviation of ns/op.
    pub mad_ns: f64,
    /// Number of runs.
    pub runs: usize,
}

/// One result line of `go test -bench` output: every `value unit` pair it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct GoLine {
    /// Benchmark name without the `-<GOMAXPROCS>` suffix.
    pub name: String,
    /// GOMAXPROCS of the run (1 when there is no suffix).
    pub cpu: u32,
    /// Iterations (`b.N`).
    pub iterations: u64,
    /// `unit → value`: `ns/op`, `B/op`, `allocs/op`, `MB/s` and any `b.ReportMetric` unit.
    pub metrics: BTreeMap<String, f64>,
}

/// Every benchmark result line of `go test -bench` output, in order. Other lines are ignored.
pub fn parse_lines(text: &str) -> Vec<GoLine> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(full) = fields.next().filter(|f| f.starts_with("Benchmark")) else {
            continue;
        };
        let rest: Vec<&str> = fields.collect();
        let Some(iterations) = rest.first().and_then(|n| n.parse::<u64>().ok()) else {
            continue;
        };
        let metrics: BTreeMap<String, f64> = rest[1..]
            .chunks(2)
            .filter_map(|pair| match pair {
                [v, unit] => v.parse::<f64>().ok().map(|v| (unit.to_string(), v)),
                _ => None,
            })
            .collect();
        if metrics.is_empty() {
            continue;
        }
        let (name, cpu) = match full.rsplit_once('-') {
            Some((name, cpu)) if cpu.parse::<u32>().is_ok() => {
                (name.to_string(), cpu.parse().unwrap_or(1))
            }
            _ => (full.to_string(), 1),
        };
        out.push(GoLine {
            name,
            cpu,
            iterations,
            metrics,
        });
    }
    out
}

/// Parse `go test -bench` output. Lines that are not benchmark results are ignored.
pub fn parse(text: &str) -> Vec<GoResult> {
    let mut samples: BTreeMap<(String, u32), Vec<f64>> = BTreeMap::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(full) = fields.next().filter(|f| f.starts_with("Benchmark")) else {
            continue;
        };
        let rest: Vec<&str> = fields.collect();
        let Some(ns) = rest
            .windows(2)
            .find(|w| w[1] == "ns/op")
            .and_then(|w| w[0].parse::<f64>().ok())
        else {
            continue;
        };
        let (name, cpu) = match full.rsplit_once('-') {
            Some((name, cpu)) if cpu.parse::<u32>().is_ok() => {
                (name.to_string(), cpu.parse().unwrap_or(1))
            }
            _ => (full.to_string(), 1),
        };
        samples.entry((name, cpu)).or_default().push(ns);
    }
    samples
        .into_iter()
        .map(|((name, cpu), mut v)| {
            let median = median(&mut v);
            let mut deviations: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
            GoResult {
                name,
                cpu,
                median_ns: median,
                mad_ns: self::median(&mut deviations),
                runs: v.len(),
            }
        })
        .collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Go's benchmark name for a SecureMemory bench id (`protected/secret_with_bytes` →
/// `BenchmarkProtectedMemorySecret_WithBytes`, `guarded/reader_read_all` → `BenchmarkMemguardReader_ReadAll`).
/// `None` for ids with no Go counterpart (the floor, `final_*`).
pub fn securememory_go_name(implementation: &str, operation: &str) -> Option<String> {
    let prefix = match implementation {
        "protected" => "ProtectedMemory",
        "guarded" => "Memguard",
        _ => return None,
    };
    let (first, rest) = operation.split_once('_')?;
    if !matches!(first, "secret" | "reader") {
        return None;
    }
    let camel: String = rest
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    let mut first = first.to_string();
    first[..1].make_ascii_uppercase();
    Some(format!("Benchmark{prefix}{first}_{camel}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_medians_per_name_and_cpu() {
        let text = "goos: linux\nBenchmarkProtectedMemorySecret_WithBytes-2   \t 1000000\t       765 ns/op\t       0 B/op\t       0 allocs/op\n\
                    BenchmarkProtectedMemorySecret_WithBytes-2   \t 1000000\t       700 ns/op\n\
                    BenchmarkProtectedMemorySecret_WithBytes-2   \t 1000000\t       800 ns/op\n\
                    BenchmarkProtectedMemorySecret_WithBytes     \t 1000000\t       900 ns/op\n\
                    BenchmarkHotEncrypt/64-2 \t 100 \t 94700 ns/op \t 1.2 MB/s\nPASS\nok  \tx\t1.0s\n";
        let r = parse(text);
        assert_eq!(r.len(), 3);
        let two = r
            .iter()
            .find(|g| g.name == "BenchmarkProtectedMemorySecret_WithBytes" && g.cpu == 2)
            .unwrap();
        assert_eq!((two.median_ns, two.mad_ns, two.runs), (765.0, 35.0, 3));
        assert!(
            r.iter()
                .any(|g| g.name == "BenchmarkProtectedMemorySecret_WithBytes" && g.cpu == 1)
        );
        assert!(
            r.iter()
                .any(|g| g.name == "BenchmarkHotEncrypt/64" && g.median_ns == 94700.0)
        );
    }

    #[test]
    fn parses_every_unit_of_a_line() {
        let lines = parse_lines(
            "BenchmarkDRR/parse-2 \t 5000 \t 2100 ns/op \t 487.5 MB/s \t 812 B/record \t 1496 B/op \t 21 allocs/op\n\
             BenchmarkBroken-2 --- FAIL\nBenchmarkX 10 5 ns/op\n",
        );
        assert_eq!(lines.len(), 2);
        let l = &lines[0];
        assert_eq!(
            (l.name.as_str(), l.cpu, l.iterations),
            ("BenchmarkDRR/parse", 2, 5000)
        );
        assert_eq!(l.metrics["ns/op"], 2100.0);
        assert_eq!(l.metrics["B/record"], 812.0);
        assert_eq!(l.metrics["allocs/op"], 21.0);
        assert_eq!(l.metrics.len(), 5);
        assert_eq!((lines[1].name.as_str(), lines[1].cpu), ("BenchmarkX", 1));
    }

    #[test]
    fn maps_rust_ids_to_go_names() {
        let cases = [
            (
                "protected",
                "secret_with_bytes",
                "BenchmarkProtectedMemorySecret_WithBytes",
            ),
            (
                "protected",
                "secret_with_bytes_func",
                "BenchmarkProtectedMemorySecret_WithBytesFunc",
            ),
            (
                "guarded",
                "reader_read_all",
                "BenchmarkMemguardReader_ReadAll",
            ),
            (
                "guarded",
                "reader_read_full",
                "BenchmarkMemguardReader_ReadFull",
            ),
            ("guarded", "reader_read", "BenchmarkMemguardReader_Read"),
            (
                "protected",
                "secret_with_bytes_concurrent_close",
                "BenchmarkProtectedMemorySecret_WithBytesConcurrentClose",
            ),
            (
                "guarded",
                "secret_reader_concurrent_close",
                "BenchmarkMemguardSecret_ReaderConcurrentClose",
            ),
        ];
        for (imp, op, go) in cases {
            assert_eq!(securememory_go_name(imp, op).as_deref(), Some(go));
        }
        assert_eq!(securememory_go_name("protected", "final_parallel"), None);
        assert_eq!(securememory_go_name("floor", "mprotect_pair"), None);
    }
}
