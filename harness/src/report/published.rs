//! Published vs measured: per analysis table, the analysis's figures beside ours (normalised by a stated machine
//! factor) and a generated paragraph on which of its claims hold here.

use std::fmt::Write as _;

use anyhow::Result;

use super::charts::{self, Series};
use super::format::label;
use super::page::{Input, Page};
use super::verdict::{compare, interval, ratio_ci, verdict};
use crate::results::Implementation;
use crate::scenario::{Scenario, Table};
use crate::stats::{Difference, RatioCi};

/// The section: one part per analysis table.
pub fn section(page: &mut Page<'_>, input: &Input<'_>) -> Result<()> {
    let _ = writeln!(page, "## Published vs measured\n");
    securememory(page, input)?;
    optimization(page, input)?;
    claims(page, input);
    Ok(())
}

/// The midpoint of a published range such as `380–390` or `1,100–1,200`.
pub fn midpoint(range: &str) -> Option<f64> {
    let parts: Vec<f64> = range
        .split(['–', '-'])
        .map(|p| p.trim().replace(',', "").parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    (!parts.is_empty()).then(|| parts.iter().sum::<f64>() / parts.len() as f64)
}

/// §1: published Go and Rust (initial, optimised) beside ours, ours divided by the machine factor (geometric mean
/// of measured Go ÷ published Go over the rows that have both).
fn securememory(page: &mut Page<'_>, input: &Input<'_>) -> Result<()> {
    let r = input.results;
    let rows: Vec<&Scenario> = input
        .in_table(Table::Securememory)
        .into_iter()
        .filter(|s| s.published.go.is_some() && r.get(&s.id, Implementation::Go).is_some())
        .collect();
    let _ = writeln!(page, "### §1 SecureMemory\n");
    let logs: Vec<f64> = rows
        .iter()
        .filter_map(|s| {
            let g = r.get(&s.id, Implementation::Go)?.summary.median;
            let p = s.published.go?;
            (g > 0.0 && p > 0.0).then(|| (g / p).ln())
        })
        .collect();
    if logs.is_empty() {
        let _ = writeln!(
            page,
            "No row has both a published and a measured Go figure.\n"
        );
        return Ok(());
    }
    let factor = (logs.iter().sum::<f64>() / logs.len() as f64).exp();
    let _ = writeln!(
        page,
        "Machine factor: {factor:.2} (geometric mean of measured Go mirror ÷ published Go over {} rows); measured \
         figures below are divided by it.\n",
        logs.len()
    );
    let mut series: Vec<Series<Option<f64>>> = [
        "published Go",
        "published Rust (initial)",
        "published Rust (optimised)",
        "measured Go ÷ factor",
        "measured Rust ÷ factor",
    ]
    .iter()
    .map(|l| Series {
        label: l.to_string(),
        values: Vec::new(),
    })
    .collect();
    for s in &rows {
        let p = &s.published;
        let measured = |imp| r.get(&s.id, imp).map(|m| m.summary.median / factor);
        let values = [
            p.go,
            p.rust,
            p.rust_optimized.as_deref().and_then(midpoint),
            measured(Implementation::Go),
            measured(Implementation::Rust),
        ];
        for (series, v) in series.iter_mut().zip(values) {
            series.values.push(v);
        }
        let here = ratio_ci(
            r.get(&s.id, Implementation::Rust).expect("filtered"),
            r.get(&s.id, Implementation::Go).expect("filtered"),
        );
        let _ = writeln!(
            page,
            "* {}",
            securememory_claim(
                &label(s),
                p.go,
                p.rust_optimized.as_deref().and_then(midpoint),
                here
            )
        );
    }
    let categories: Vec<String> = rows.iter().map(|s| label(s)).collect();
    page.chart(
        "published-1-securememory",
        "§1 published vs measured",
        |stem| {
            charts::grouped_bars(
                stem,
                "§1: published vs measured ÷ machine factor",
                "ns/op",
                &categories,
                &series,
            )
        },
    )
}

/// One §1 row: the analysis's optimised Rust ÷ Go against ours.
fn securememory_claim(
    label: &str,
    go: Option<f64>,
    optimised: Option<f64>,
    here: Option<RatioCi>,
) -> String {
    let Some(here) = here else {
        return format!("{label}: no Rust ÷ Go ratio here.");
    };
    let Some(published) = go.zip(optimised).map(|(g, o)| o / g) else {
        return format!(
            "{label}: Rust ÷ Go here {:.2}× ({}); the analysis gives no optimised figure.",
            here.ratio,
            interval(&here)
        );
    };
    let holds = if published < here.lo {
        "ours is slower than the analysis's optimised figure"
    } else if published > here.hi {
        "ours is faster than the analysis's optimised figure"
    } else {
        "the analysis's optimised figure holds (inside our CI)"
    };
    format!(
        "{label}: analysis optimised Rust ÷ Go {published:.2}×; here {:.2}× ({}): {holds}.",
        here.ratio,
        interval(&here)
    )
}

/// §2: published change vs the measured one, as after ÷ before ratios.
fn optimization(page: &mut Page<'_>, input: &Input<'_>) -> Result<()> {
    let r = input.results;
    let _ = writeln!(page, "### §2 Optimization impact\n");
    let mut categories = Vec::new();
    let mut published = Vec::new();
    let mut measured = Vec::new();
    for s in input.in_table(Table::Optimization) {
        let Some(pct) = s.published.change_pct else {
            continue;
        };
        let ci = r
            .get(&s.id, Implementation::Rust)
            .zip(r.get(&s.id, Implementation::Before))
            .and_then(|(a, b)| ratio_ci(a, b));
        let sentence = match ci {
            None => "not measured here".to_string(),
            Some(c) => {
                let here = (c.ratio - 1.0) * 100.0;
                let agrees = match c.difference() {
                    Difference::Lower if pct < 0.0 => "holds: faster here too",
                    Difference::Higher if pct > 0.0 => "holds: slower here too",
                    Difference::None => "does not show here: no difference",
                    _ => "does not hold: the opposite direction here",
                };
                format!(
                    "{here:+.1}% here (after ÷ before {}): {agrees}",
                    interval(&c)
                )
            }
        };
        let _ = writeln!(
            page,
            "* {}: the analysis reported {pct:+.2}%; {sentence}.",
            s.row
        );
        categories.push(s.row.clone());
        published.push(Some(1.0 + pct / 100.0));
        measured.push(ci.map(|c| c.ratio));
    }
    let _ = writeln!(
        page,
        "\nMachine factor: none needed (both are ratios of the same machine's runs)."
    );
    if categories.is_empty() {
        return Ok(());
    }
    let series = vec![
        Series {
            label: "published after ÷ before".into(),
            values: published,
        },
        Series {
            label: "measured after ÷ before".into(),
            values: measured,
        },
    ];
    page.chart(
        "published-2-optimization",
        "§2 published vs measured",
        |stem| {
            charts::grouped_bars(
                stem,
                "§2: after ÷ before, published vs measured",
                "ratio",
                &categories,
                &series,
            )
        },
    )
}

/// §3 and §4: the analysis published claims, not figures, so there is no chart; the paragraph counts verdicts.
fn claims(page: &mut Page<'_>, input: &Input<'_>) {
    for (table, title) in [
        (Table::Advantages, "§3 Predicted advantages"),
        (Table::Patterns, "§4 Code patterns"),
    ] {
        let mut counts = [0usize; 4];
        for s in input.in_table(table) {
            let c = compare(input.results, s, label(s), input.cores());
            let v = verdict(c.as_ref(), s);
            let v = v.trim_start_matches('*');
            let i = if v.starts_with("confirmed") {
                0
            } else if v.starts_with("refuted") {
                1
            } else if v.starts_with("no difference") {
                2
            } else {
                3
            };
            counts[i] += 1;
        }
        let _ = writeln!(
            page,
            "\n### {title}\n\nThe analysis published qualitative claims here, no figures to chart. Of its claims on \
             this machine: {} confirmed, {} refuted, {} no difference, {} n/a (premise, oversubscribed or not \
             measured).",
            counts[0], counts[1], counts[2], counts[3]
        );
    }
    let _ = writeln!(page);
}
