//! From the rounds' raw values to the results' measurements, one scenario at a time.

use std::collections::BTreeMap;

use crate::go_bench::GoLine;
use crate::results::{Implementation, Measurement, Sample};
use crate::scenario::{GoSource, Metric, Scenario, Table};

/// Per-round raw values, keyed by (implementation, source id, round).
#[derive(Default)]
pub struct Raw {
    /// Criterion medians per (implementation, id), one sample per round.
    pub criterion: BTreeMap<(Implementation, String), Vec<Sample>>,
    /// Go's benchmark lines, with their round and package.
    pub go: Vec<(u32, String, GoLine)>,
    /// The metrics runner's lines per id.
    pub metrics: BTreeMap<String, serde_json::Value>,
    /// Each AES-GCM route a bench process reported, with how many processes reported it.
    pub crypto_paths: BTreeMap<String, u32>,
}

/// The measurements of one scenario from the raw values.
pub fn collect(s: &Scenario, raw: &Raw, cores: u32, go_ok: bool) -> Vec<Measurement> {
    let mut out = Vec::new();
    if let Some(r) = &s.rust {
        if r.bench == "metrics" {
            let key = match s.metric {
                Metric::Allocs => "allocs_per_op",
                Metric::Bytes => "bytes_per_op",
                Metric::Size | Metric::Time => "value",
            };
            if let Some(v) = raw
                .metrics
                .get(&r.id)
                .and_then(|m| m.get(key))
                .and_then(|v| v.as_f64())
            {
                out.extend(Measurement::new(
                    &s.id,
                    Implementation::Rust,
                    s.metric,
                    &format!("metrics:{}", r.id),
                    vec![Sample { round: 0, value: v }],
                ));
            }
        } else if let Some(samples) = raw.criterion.get(&(Implementation::Rust, r.id.clone())) {
            out.extend(Measurement::new(
                &s.id,
                Implementation::Rust,
                s.metric,
                &r.id,
                samples.clone(),
            ));
        }
    }
    if let Some(u) = unlocked_id(s)
        && let Some(samples) = raw.criterion.get(&(Implementation::Rust, u.clone()))
    {
        out.extend(Measurement::new(
            &s.id,
            Implementation::Unprotected,
            s.metric,
            &u,
            samples.clone(),
        ));
    }
    if let Some(p) = &s.peer
        && let Some(samples) = raw.criterion.get(&(Implementation::Peer, p.id.clone()))
    {
        out.extend(Measurement::new(
            &s.id,
            Implementation::Peer,
            s.metric,
            &p.id,
            samples.clone(),
        ));
    }
    if go_ok {
        for (source, imp) in [
            (&s.go, Implementation::Go),
            (&s.go_upstream, Implementation::GoUpstream),
        ] {
            if let Some(g) = source {
                out.extend(go_measurement(s, g, imp, raw, cores));
            }
        }
    }
    out
}

/// The bench id of the same secure-memory operation with protection off (`protected/<op>/<variant>` →
/// `protected_unlocked/<op>/<variant>`, likewise `guarded`), for §1's scenarios.
pub fn unlocked_id(s: &Scenario) -> Option<String> {
    if s.table != Table::Securememory {
        return None;
    }
    let (kind, rest) = s.rust.as_ref()?.id.split_once('/')?;
    matches!(kind, "protected" | "guarded").then(|| format!("{kind}_unlocked/{rest}"))
}

/// One Go benchmark's samples for `s`, read at the scenario's `-cpu` and in its metric's unit.
fn go_measurement(
    s: &Scenario,
    g: &GoSource,
    imp: Implementation,
    raw: &Raw,
    cores: u32,
) -> Option<Measurement> {
    let cpu = g.cpu.unwrap_or(cores);
    let unit = match s.metric {
        Metric::Time => "ns/op",
        Metric::Allocs => "allocs/op",
        Metric::Bytes => "B/op",
        Metric::Size => g.unit.as_deref().unwrap_or("B"),
    };
    let samples: Vec<Sample> = raw
        .go
        .iter()
        .filter(|(_, package, l)| *package == g.package && l.name == g.name && l.cpu == cpu)
        .filter_map(|(round, _, l)| {
            l.metrics.get(unit).map(|&value| Sample {
                round: *round,
                value,
            })
        })
        .collect();
    Measurement::new(&s.id, imp, s.metric, &format!("{}-{cpu}", g.name), samples)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::go_bench;

    #[test]
    fn collects_go_samples_at_the_scenario_cpu_and_unit() {
        let s: Scenario = crate::scenario::parse(
            r#"[[scenario]]
id = "x"
table = "patterns"
row = "r"
metric = "size"
go = { package = "./p", name = "BenchmarkX", cpu = 2, unit = "B/record" }
"#,
        )
        .unwrap()
        .remove(0);
        let raw = Raw {
            go: go_bench::parse_lines(
                "BenchmarkX-2 10 5 ns/op 812 B/record\nBenchmarkX-4 10 5 ns/op 1 B/record\n",
            )
            .into_iter()
            .map(|l| (3, "./p".to_string(), l))
            .collect(),
            ..Raw::default()
        };
        let m = collect(&s, &raw, 4, true);
        assert_eq!(m.len(), 1);
        assert_eq!(
            m[0].samples,
            vec![Sample {
                round: 3,
                value: 812.0
            }]
        );
        assert_eq!(m[0].source, "BenchmarkX-2");
        assert!(collect(&s, &raw, 4, false).is_empty());
    }

    #[test]
    fn protection_off_rows_sit_beside_the_securememory_scenario() {
        let s: Scenario = crate::scenario::parse(
            r#"[[scenario]]
id = "sm"
table = "securememory"
row = "r"
rust = { bench = "securememory", id = "protected/secret_with_bytes/single" }
"#,
        )
        .unwrap()
        .remove(0);
        assert_eq!(
            unlocked_id(&s).as_deref(),
            Some("protected_unlocked/secret_with_bytes/single")
        );
        let mut raw = Raw::default();
        raw.criterion.insert(
            (
                Implementation::Rust,
                "protected_unlocked/secret_with_bytes/single".into(),
            ),
            vec![Sample {
                round: 0,
                value: 40.0,
            }],
        );
        let m = collect(&s, &raw, 2, false);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].implementation, Implementation::Unprotected);
        let mut other = s.clone();
        other.table = Table::Patterns;
        assert_eq!(unlocked_id(&other), None);
    }
}
