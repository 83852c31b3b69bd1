//! §2 Optimization impact, measured as the analysis did: our benches at an earlier commit against this one, both
//! built and run in interleaved rounds by `lab compare` (or `lab report`, from the scenarios' `[compare]` base).

use std::fmt::Write as _;

use super::format::cell;
use super::page::{Input, Page};
use super::verdict::{interval, ratio_ci};
use crate::results::Implementation;
use crate::scenario::Table;
use crate::stats::{Difference, mann_whitney_p};

/// Significance level of the section's test.
const ALPHA: f64 = 0.05;

/// Section 2.
pub fn section(page: &mut Page<'_>, input: &Input<'_>) {
    let _ = writeln!(page, "## 2. Optimization impact: before vs after\n");
    match &input.results.run.baseline {
        None => {
            let _ = writeln!(
                page,
                "Not measured in this run (no `[compare]` base, or `--no-compare`): `lab compare <git-ref>` measures \
                 it.\n"
            );
            return;
        }
        Some(b) => {
            let _ = writeln!(
                page,
                "Before: `{}` = {} \"{}\"{}. After: this checkout ({}). Both builds' criterion binaries ran in the \
                 same {} interleaved rounds (the order alternating). Change: ratio of the means after ÷ before with \
                 its 95 % bootstrap CI over rounds; a change counts only when the CI excludes 1 and the effect is at \
                 least 5 %. p: exact two-sided Mann–Whitney U test over the rounds, α = {ALPHA}.\n",
                b.git_ref,
                &b.commit[..12.min(b.commit.len())],
                b.subject,
                if b.why.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", b.why)
                },
                input.results.environment.commit,
                input.results.run.rounds,
            );
        }
    }
    table(page, input);
}

/// §2 alone, as `lab compare` prints it (no charts).
pub fn markdown(
    scenarios: &[crate::scenario::Scenario],
    results: &crate::results::Results,
) -> String {
    let input = Input { scenarios, results };
    let mut page = Page::new(std::path::Path::new("."), ".");
    section(&mut page, &input);
    page.out
}

fn table(page: &mut Page<'_>, input: &Input<'_>) {
    let _ = writeln!(
        page,
        "| benchmark | what | before ns | after ns | after ÷ before (95 % CI) | change | p | verdict | published change |\n|---|---|---|---|---|---|---|---|---|"
    );
    for s in input.in_table(Table::Optimization) {
        let after = input.results.get(&s.id, Implementation::Rust);
        let before = input.results.get(&s.id, Implementation::Before);
        let (ratio, change, p, verdict) = match (after, before) {
            (Some(a), Some(b)) => {
                let ci = ratio_ci(a, b);
                let values = |m: &crate::results::Measurement| {
                    m.samples.iter().map(|x| x.value).collect::<Vec<f64>>()
                };
                let p = mann_whitney_p(&values(a), &values(b));
                (
                    ci.map_or("–".into(), |c| {
                        format!("{:.3}× ({})", c.ratio, interval(&c))
                    }),
                    ci.map_or("–".into(), |c| {
                        format!("{:+.1}%", (c.ratio - 1.0) * 100.0)
                    }),
                    p.map_or("–".into(), |p| format!("{p:.3}")),
                    match ci.map(|c| c.difference()) {
                        Some(Difference::Lower) => "faster",
                        Some(Difference::Higher) => "slower",
                        Some(Difference::None) => "no difference",
                        None => "–",
                    },
                )
            }
            _ => ("–".into(), "–".into(), "–".into(), "not measured"),
        };
        let _ = writeln!(
            page,
            "| {} | {} | {} | {} | {ratio} | {change} | {p} | {verdict} | {} |",
            s.row,
            s.note.as_deref().unwrap_or(""),
            cell(before),
            cell(after),
            s.published
                .change_pct
                .map_or("–".into(), |c| format!("{c:+.2}%")),
        );
    }
    let _ = writeln!(page);
}
