//! §3 and §4: the analysis's claims (predicted advantages, code patterns), each row with a verdict.

use std::fmt::Write as _;

use anyhow::Result;

use super::charts::{self, Series};
use super::format::{cell, label};
use super::page::{Input, Page};
use super::verdict::{Compared, compare, oversubscribed, ratio_cell, ratio_of, verdict};
use crate::results::Implementation;
use crate::scenario::{Metric, Scenario, Table};

/// Sections 3 and 4; their compared rows go to `compared`.
pub fn sections(
    page: &mut Page<'_>,
    input: &Input<'_>,
    compared: &mut Vec<Compared>,
) -> Result<()> {
    for (table, title, name) in [
        (
            Table::Advantages,
            "## 3. AppEncryption — the predicted advantages, measured",
            "3-advantages",
        ),
        (
            Table::Patterns,
            "## 4. Code-pattern claims, measured",
            "4-patterns",
        ),
    ] {
        section(page, input, table, title, name, compared)?;
    }
    disagreements(page, input);
    Ok(())
}

/// The verdict's kind: `confirmed`, `refuted`, `no difference` or `n/a`.
fn kind(verdict: &str) -> &'static str {
    let v = verdict.trim_start_matches('*');
    if v.starts_with("confirmed") {
        "confirmed"
    } else if v.starts_with("refuted") {
        "refuted"
    } else if v.starts_with("no difference") {
        "no difference"
    } else {
        "n/a"
    }
}

/// Where rows of §3 and §4 on one topic get different verdicts, say why: each measures something else.
fn disagreements(page: &mut Page<'_>, input: &Input<'_>) {
    let mut topics: Vec<&str> = Vec::new();
    for s in input.scenarios {
        if let Some(t) = s.topic.as_deref()
            && !topics.contains(&t)
        {
            topics.push(t);
        }
    }
    let mut lines = Vec::new();
    for topic in topics {
        let rows: Vec<(&Scenario, String)> = input
            .scenarios
            .iter()
            .filter(|s| s.topic.as_deref() == Some(topic))
            .filter(|s| matches!(s.table, Table::Advantages | Table::Patterns))
            .map(|s| {
                let c = compare(input.results, s, label(s), input.cores());
                (s, verdict(c.as_ref(), s))
            })
            .collect();
        // A disagreement is a verdict of §3 that §4 does not share on the same topic (or the reverse).
        let kinds = |t: Table| -> Vec<&str> {
            let mut k: Vec<&str> = rows
                .iter()
                .filter(|(s, _)| s.table == t)
                .map(|(_, v)| kind(v))
                .collect();
            k.sort_unstable();
            k.dedup();
            k
        };
        let (three, four) = (kinds(Table::Advantages), kinds(Table::Patterns));
        if three.is_empty() || four.is_empty() || three == four {
            continue;
        }
        let each: Vec<String> = rows
            .iter()
            .map(|(s, v)| {
                format!(
                    "§{} \"{}\" is {} — it measures {}",
                    if s.table == Table::Advantages { 3 } else { 4 },
                    label(s),
                    kind(v),
                    s.note.as_deref().unwrap_or("(no note)")
                )
            })
            .collect();
        lines.push(format!(
            "* **{topic}**: {}. The verdicts differ because the rows measure different work, not because one \
             contradicts the other.",
            each.join("; ")
        ));
    }
    if !lines.is_empty() {
        let _ = writeln!(page, "### Where §3 and §4 disagree\n");
        for l in lines {
            let _ = writeln!(page, "{l}");
        }
        let _ = writeln!(page);
    }
}

fn section(
    page: &mut Page<'_>,
    input: &Input<'_>,
    table: Table,
    title: &str,
    name: &str,
    compared: &mut Vec<Compared>,
) -> Result<()> {
    let results = input.results;
    let _ = writeln!(page, "{title}\n");
    let _ = writeln!(
        page,
        "| claim | case | what | unit | Go (mirror) | upstream benchmark (includes testify per op) | Rust | Rust ÷ Go | analysis said | verdict |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    let rows = input.in_table(table);
    for s in &rows {
        let c = compare(results, s, label(s), input.cores());
        let over = oversubscribed(s, input.cores()).is_some();
        let _ = writeln!(
            page,
            "| {} | {}{} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.row,
            s.series.as_deref().unwrap_or("–"),
            if over { " (oversubscribed)" } else { "" },
            s.note.as_deref().unwrap_or(""),
            s.metric.unit(),
            cell(results.get(&s.id, Implementation::Go)),
            cell(results.get(&s.id, Implementation::GoUpstream)),
            cell(results.get(&s.id, Implementation::Rust)),
            ratio_cell(ratio_of(results, s, Implementation::Go)),
            s.published.claim.as_deref().unwrap_or("–"),
            verdict(c.as_ref(), s),
        );
        compared.extend(c);
    }
    let timed: Vec<&Scenario> = rows
        .iter()
        .copied()
        .filter(|s| s.metric == Metric::Time && s.param_u64("threads").is_none())
        .collect();
    page.bars(name, &format!("{} (ns/op)", &title[6..]), results, &timed)?;
    thread_chart(page, input, &rows, name)
}

/// Lines of ns/op by thread count for the rows that have a `threads` parameter.
fn thread_chart(
    page: &mut Page<'_>,
    input: &Input<'_>,
    rows: &[&Scenario],
    name: &str,
) -> Result<()> {
    let threaded: Vec<&Scenario> = rows
        .iter()
        .copied()
        .filter(|s| s.param_u64("threads").is_some())
        .collect();
    if threaded.is_empty() {
        return Ok(());
    }
    let mut series = Vec::new();
    for imp in [Implementation::Go, Implementation::Rust] {
        let pts: Vec<(f64, f64)> = threaded
            .iter()
            .filter_map(|s| {
                Some((
                    s.param_u64("threads")? as f64,
                    input.results.get(&s.id, imp)?.summary.median,
                ))
            })
            .collect();
        if !pts.is_empty() {
            series.push(Series {
                label: imp.label().into(),
                values: pts,
            });
        }
    }
    let title = format!("{}: ns/op by threads", threaded[0].row);
    page.chart(&format!("{name}-threads"), "thread scaling", |p| {
        charts::lines(p, &title, "threads", "ns/op", false, &series)
    })
}
