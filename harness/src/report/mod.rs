//! REPORT.md and its charts from one results file (and the previous one, for §2). Reads only results and
//! scenarios; every sentence about results is computed here from the numbers. One module per section; `page` holds
//! the markdown being written and the charts it embeds.

pub mod charts;
pub mod claims;
pub mod conclusion;
pub mod end_to_end;
pub mod format;
pub mod header;
pub mod optimization;
pub mod page;
pub mod published;
pub mod securememory;
pub mod verdict;

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::results::Results;
use crate::scenario::Scenario;
use page::{Input, Page};

/// The rendered report and the charts it embeds.
pub struct Rendered {
    /// REPORT.md text.
    pub markdown: String,
    /// Chart files written (stems; each has .svg and .png).
    pub charts: Vec<PathBuf>,
}

/// Render `results` (scenarios from `scenarios`) into markdown, writing charts to `charts_dir`, referenced from the
/// report as `charts_link/<name>.svg`.
pub fn render(
    scenarios: &[Scenario],
    results: &Results,
    charts_dir: &Path,
    charts_link: &str,
) -> Result<Rendered> {
    std::fs::create_dir_all(charts_dir)?;
    let input = Input { scenarios, results };
    let mut page = Page::new(charts_dir, charts_link);
    let mut compared = Vec::new();
    let mut peer = Vec::new();
    header::header(&mut page, &input);
    securememory::section(&mut page, &input, &mut compared)?;
    optimization::section(&mut page, &input);
    claims::sections(&mut page, &input, &mut compared)?;
    end_to_end::section(&mut page, &input, &mut compared, &mut peer)?;
    conclusion::section(&mut page, &compared, &peer);
    published::section(&mut page, &input)?;
    Ok(Rendered {
        markdown: page.out,
        charts: page.charts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Implementation, Measurement, SCHEMA, Sample};
    use crate::scenario::Metric;

    /// A measurement whose source names the scenario and side, so distinct rows stay distinct pairs.
    fn m(id: &str, imp: Implementation, metric: Metric, v: &[f64]) -> Measurement {
        Measurement::new(
            id,
            imp,
            metric,
            &format!("{id}:{imp:?}"),
            v.iter()
                .enumerate()
                .map(|(i, &value)| Sample {
                    round: i as u32,
                    value,
                })
                .collect(),
        )
        .unwrap()
    }

    fn committed_scenarios() -> Vec<Scenario> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        crate::scenario::load_dir(&dir).unwrap()
    }

    fn results(cores: usize, measurements: Vec<Measurement>) -> Results {
        let mut r = Results {
            schema: SCHEMA,
            measurements,
            ..Results::default()
        };
        r.environment.cores = cores;
        r
    }

    fn render_md(scenarios: &[Scenario], results: &Results) -> String {
        let charts = std::env::temp_dir().join(format!(
            "lab-render-{}-{}",
            std::process::id(),
            results.measurements.len()
        ));
        let r = render(scenarios, results, &charts, "charts").unwrap();
        std::fs::remove_dir_all(&charts).unwrap();
        r.markdown
    }

    /// The verdict line of a row of §3/§4: the table line that starts with `| row | case`.
    fn line<'a>(md: &'a str, start: &str) -> &'a str {
        md.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line {start:?} in\n{md}"))
    }

    const TEN: usize = 10;

    fn rounds(center: f64, spread: f64) -> Vec<f64> {
        (0..TEN)
            .map(|i| center + spread * if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect()
    }

    /// The verdict rules on synthetic results: a real difference is confirmed or refuted; a CI straddling 1 is
    /// "no difference"; a premise row and a 0-vs-0 row are n/a whatever the numbers; a row with more threads than
    /// CPUs is n/a (oversubscribed) and counts in no summary.
    /// One row per verdict rule (see the test below).
    fn synthetic_results() -> Results {
        let time = Metric::Time;
        results(
            2,
            vec![
                // Rust half of Go every round: confirmed.
                m(
                    "advantages/json/drr_parse",
                    Implementation::Go,
                    time,
                    &rounds(2000.0, 20.0),
                ),
                m(
                    "advantages/json/drr_parse",
                    Implementation::Rust,
                    time,
                    &rounds(1000.0, 10.0),
                ),
                // Rust 50 % slower: refuted.
                m(
                    "patterns/lru_get",
                    Implementation::Go,
                    time,
                    &rounds(40.0, 0.5),
                ),
                m(
                    "patterns/lru_get",
                    Implementation::Rust,
                    time,
                    &rounds(60.0, 0.5),
                ),
                // Rounds on both sides of 1 (Rust alternately 30 % faster and slower): no difference.
                m(
                    "advantages/json/drr_serialize",
                    Implementation::Go,
                    time,
                    &[100.0; TEN],
                ),
                m(
                    "advantages/json/drr_serialize",
                    Implementation::Rust,
                    time,
                    &rounds(100.0, 30.0),
                ),
                // Rust far faster, but the row's premise says it cannot test the claim.
                m(
                    "patterns/async_encrypt",
                    Implementation::Go,
                    time,
                    &rounds(5000.0, 10.0),
                ),
                m(
                    "patterns/async_encrypt",
                    Implementation::Rust,
                    time,
                    &rounds(300.0, 3.0),
                ),
                // 0 vs 0 allocations: n/a, whatever the claim.
                m(
                    "patterns/session_cache_lookup_allocs",
                    Implementation::Go,
                    Metric::Allocs,
                    &[0.0],
                ),
                m(
                    "patterns/session_cache_lookup_allocs",
                    Implementation::Rust,
                    Metric::Allocs,
                    &[0.0],
                ),
                // 4 threads on 2 CPUs: a 100× "win" that must not count.
                m(
                    "advantages/lock_contention/4",
                    Implementation::Go,
                    time,
                    &rounds(10000.0, 10.0),
                ),
                m(
                    "advantages/lock_contention/4",
                    Implementation::Rust,
                    time,
                    &rounds(100.0, 1.0),
                ),
                // The same row at 2 threads, a real win.
                m(
                    "advantages/lock_contention/2",
                    Implementation::Go,
                    time,
                    &rounds(1000.0, 10.0),
                ),
                m(
                    "advantages/lock_contention/2",
                    Implementation::Rust,
                    time,
                    &rounds(500.0, 5.0),
                ),
            ],
        )
    }

    #[test]
    fn verdict_rules_on_synthetic_results() {
        let scenarios = committed_scenarios();
        let r = synthetic_results();
        let md = render_md(&scenarios, &r);
        assert!(
            line(&md, "| JSON serialization | DRR parse")
                .contains("**confirmed**: Rust 2.00× faster")
        );
        assert!(line(&md, "| LRU get |").contains("**refuted**: Rust 1.50× slower"));
        let straddle = line(&md, "| JSON serialization | DRR serialize");
        assert!(straddle.contains("**no difference**"), "{straddle}");
        assert!(line(&md, "| Async encrypt |").contains("n/a: premise — Go has no async encrypt"));
        assert!(line(&md, "| Session-cache lookup | allocs").contains("n/a: premise — 0 vs 0"));
        let over = line(
            &md,
            "| Encrypt throughput on one shared session | 4 threads",
        );
        assert!(
            over.contains("(oversubscribed)")
                && over.contains("n/a: oversubscribed (4 threads on 2 CPUs)")
        );
        // Counted: drr_parse (win), drr_serialize (no difference) and lock_contention/2 (win) in §3; lru_get (loss)
        // in §4. The premise, 0-vs-0 and oversubscribed rows count nowhere.
        assert!(md.contains("| 3. Advantages | 3 | 2 | 0 | 1 |"), "{md}");
        assert!(md.contains("| 4. Code patterns | 1 | 0 | 1 | 0 |"), "{md}");
        assert!(md.contains("| **all** | 4 | 2 | 1 | 1 |"), "{md}");
        assert!(
            md.contains(
                "Left out of every summary: 2 rows whose measurement cannot test the claim"
            ),
            "{md}"
        );
        assert!(md.contains("and 1 oversubscribed rows"), "{md}");
    }

    /// A pair shown in both §3 and §4 counts once; a peer figure states the default mode against asherah 1.0.
    #[test]
    fn every_measurement_counts_once_and_the_peer_is_stated() {
        let scenarios = committed_scenarios();
        let time = Metric::Time;
        let ekr = |id: &str, imp, v: f64| {
            let mut x = m(id, imp, time, &rounds(v, 1.0));
            x.source = format!("ekr_serialize:{imp:?}");
            x
        };
        let r = results(
            2,
            vec![
                ekr("advantages/json/ekr_serialize", Implementation::Go, 1000.0),
                ekr("advantages/json/ekr_serialize", Implementation::Rust, 500.0),
                ekr("patterns/ekr_serialization", Implementation::Go, 1000.0),
                ekr("patterns/ekr_serialization", Implementation::Rust, 500.0),
                m(
                    "end_to_end/payload/encrypt/64/stack_drk",
                    Implementation::Peer,
                    time,
                    &rounds(600.0, 5.0),
                ),
                m(
                    "end_to_end/payload/encrypt/64/stack_drk",
                    Implementation::Rust,
                    time,
                    &rounds(1800.0, 5.0),
                ),
            ],
        );
        let md = render_md(&scenarios, &r);
        assert!(md.contains("| **all** | 1 | 1 | 0 | 0 |"), "{md}");
        assert!(md.contains("**Default key mode vs asherah 1.0**"), "{md}");
        assert!(
            md.contains("encrypt 64 B — stack_drk (3.00× slower"),
            "{md}"
        );
    }

    /// Every section is rendered from a fixture, with the published columns and the published-vs-measured part.
    #[test]
    fn renders_every_section_from_a_results_fixture() {
        let scenarios = committed_scenarios();
        let r = results(
            2,
            vec![
                m(
                    "securememory/protected/secret_with_bytes",
                    Implementation::Go,
                    Metric::Time,
                    &[300.0, 310.0],
                ),
                m(
                    "securememory/protected/secret_with_bytes",
                    Implementation::Rust,
                    Metric::Time,
                    &[330.0, 340.0],
                ),
                m(
                    "optimization/final_sequential",
                    Implementation::Before,
                    Metric::Time,
                    &rounds(1000.0, 5.0),
                ),
                m(
                    "optimization/final_sequential",
                    Implementation::Rust,
                    Metric::Time,
                    &rounds(900.0, 5.0),
                ),
            ],
        );
        let mut r = r;
        r.run.baseline = Some(crate::results::BaselineBuild {
            git_ref: "6e1789b".into(),
            commit: "6e1789b0000000".into(),
            subject: "before".into(),
            why: "the parent of the speed work".into(),
        });
        let md = render_md(&scenarios, &r);
        for section in [
            "## 1.",
            "## 2.",
            "## 3.",
            "## 4.",
            "## 5.",
            "## 6.",
            "## Conclusion",
            "## Published vs measured",
        ] {
            assert!(md.contains(section), "missing {section}");
        }
        assert!(
            md.contains("| 354.9 | 1,168.7 → 380–390 | 3.3× |"),
            "published columns:\n{md}"
        );
        let before_after = line(&md, "| final_sequential |");
        assert!(
            before_after.contains("0.900×") && before_after.contains("| faster |"),
            "{before_after}"
        );
        assert!(md.contains("Machine factor:"), "{md}");
        // §1's 4-thread rows on a 2-CPU machine say that they are oversubscribed; the 2-thread rows do not.
        assert!(
            md.contains(
                "| protectedmemory, 4 threads — oversubscribed (4 threads on 2 CPUs), no verdict |"
            ),
            "{md}"
        );
        assert!(md.contains("| protectedmemory, 2 threads |"), "{md}");
    }
}
