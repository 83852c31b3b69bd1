//! §5 End to end: Go's integration benchmarks, and the payload-size series per key mode beside Go and asherah 1.0.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Result;

use super::charts::{self, Series};
use super::format::{cell, label};
use super::page::{Input, Page};
use super::verdict::{Compared, compare, ratio_cell, ratio_ci, ratio_of};
use crate::results::{Implementation, Measurement};
use crate::scenario::{Scenario, Table};

/// Section 5; its rows compared with Go go to `compared`, those compared with asherah 1.0 to `peer`.
pub fn section(
    page: &mut Page<'_>,
    input: &Input<'_>,
    compared: &mut Vec<Compared>,
    peer: &mut Vec<Compared>,
) -> Result<()> {
    let _ = writeln!(page, "## 5. End to end\n");
    let e2e = input.in_table(Table::EndToEnd);
    let (integration, payload): (Vec<&Scenario>, Vec<&Scenario>) = e2e
        .iter()
        .copied()
        .partition(|s| s.param_u64("payload").is_none());
    integration_table(page, input, &integration, compared)?;
    payload_table(page, input, &payload, compared, peer);
    payload_charts(page, input, &payload)
}

fn integration_table(
    page: &mut Page<'_>,
    input: &Input<'_>,
    integration: &[&Scenario],
    compared: &mut Vec<Compared>,
) -> Result<()> {
    let results = input.results;
    let _ = writeln!(
        page,
        "### Integration benchmarks (upstream's, mirrored in go-baseline/integration)\n\n| benchmark | what | Go ns/op | Rust ns/op | Rust ÷ Go |\n|---|---|---|---|---|"
    );
    for s in integration {
        let _ = writeln!(
            page,
            "| {} | {} | {} | {} | {} |",
            s.row,
            s.note.as_deref().unwrap_or(""),
            cell(results.get(&s.id, Implementation::Go)),
            cell(results.get(&s.id, Implementation::Rust)),
            ratio_cell(ratio_of(results, s, Implementation::Go)),
        );
        compared.extend(compare(results, s, s.row.clone(), input.cores()));
    }
    page.bars(
        "5-integration",
        "Integration benchmarks (ns/op)",
        results,
        integration,
    )
}

fn payload_table(
    page: &mut Page<'_>,
    input: &Input<'_>,
    payload: &[&Scenario],
    compared: &mut Vec<Compared>,
    peer_rows: &mut Vec<Compared>,
) {
    let results = input.results;
    let _ = writeln!(
        page,
        "### Payload sizes (warm session)\n\nKey modes of ours, by security property:\n"
    );
    let mut modes: BTreeMap<&str, &str> = BTreeMap::new();
    for s in payload {
        if let (Some(m), Some(n)) = (s.series.as_deref(), s.note.as_deref()) {
            modes.insert(m, n);
        }
    }
    for (m, n) in &modes {
        let _ = writeln!(page, "* `{m}` — {n}");
    }
    let _ = writeln!(
        page,
        "\nGo and asherah 1.0 are measured once per row (on the default mode's scenario); every key mode of the row \
         is shown against them, but only the default mode's comparison counts in the summaries.\n"
    );
    let _ = writeln!(
        page,
        "| operation | key mode | Go ns/op (mirror) | asherah 1.0 ns/op | Rust ns/op | Rust ÷ Go | Rust ÷ asherah 1.0 |\n|---|---|---|---|---|---|---|"
    );
    let by_row = |row: &str, imp: Implementation| {
        payload
            .iter()
            .find(|s| s.row == row && results.get(&s.id, imp).is_some())
            .and_then(|s| results.get(&s.id, imp))
    };
    for s in payload {
        let rust = results.get(&s.id, Implementation::Rust);
        let go = by_row(&s.row, Implementation::Go);
        let peer = by_row(&s.row, Implementation::Peer);
        let rel = |o: Option<&Measurement>| match (rust, o) {
            (Some(r), Some(o)) => ratio_cell(ratio_ci(r, o)),
            _ => "–".into(),
        };
        let _ = writeln!(
            page,
            "| {} | {} | {} | {} | {} | {} | {} |",
            s.row,
            s.series.as_deref().unwrap_or("–"),
            cell(go),
            cell(peer),
            cell(rust),
            rel(go),
            rel(peer),
        );
        // Each Go and peer measurement counts once: on the scenario that holds it.
        compared.extend(compare(results, s, label(s), input.cores()));
        // Every key mode against the row's asherah 1.0 figure (the conclusion breaks these down per mode); only the
        // default mode's row counts in the summaries.
        if let (Some(r), Some(p)) = (rust, peer)
            && let Some(ci) = ratio_ci(r, p)
        {
            peer_rows.push(Compared {
                table: Table::EndToEnd,
                label: label(s),
                metric: s.metric,
                difference: ci.difference(),
                ci,
                not_applicable: None,
                default_config: s.default_config,
                key: format!("{}|{}", r.source, p.source),
            });
        }
    }
}

/// One line chart per operation: ns/op by payload size, a line per key mode and per other implementation.
fn payload_charts(page: &mut Page<'_>, input: &Input<'_>, payload: &[&Scenario]) -> Result<()> {
    let mut ops: Vec<String> = Vec::new();
    for s in payload {
        let op = s.row.split(' ').next().unwrap_or(&s.row).to_string();
        if !ops.contains(&op) {
            ops.push(op);
        }
    }
    for op in ops {
        let rows: Vec<&&Scenario> = payload
            .iter()
            .filter(|s| s.row.starts_with(&format!("{op} ")))
            .collect();
        let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for s in &rows {
            let x = s.param_u64("payload").unwrap_or(0) as f64;
            if let Some(m) = input.results.get(&s.id, Implementation::Rust) {
                series
                    .entry(format!("Rust {}", s.series.as_deref().unwrap_or("")))
                    .or_default()
                    .push((x, m.summary.median));
            }
            for imp in [Implementation::Go, Implementation::Peer] {
                if let Some(m) = input.results.get(&s.id, imp) {
                    series
                        .entry(imp.label().into())
                        .or_default()
                        .push((x, m.summary.median));
                }
            }
        }
        let series: Vec<Series<(f64, f64)>> = series
            .into_iter()
            .map(|(label, values)| Series { label, values })
            .collect();
        if series.is_empty() {
            continue;
        }
        let title = format!("{op}: ns/op by payload size");
        page.chart(
            &format!("5-payload-{op}"),
            &format!("{op} by payload size"),
            |p| charts::lines(p, &title, "payload (bytes)", "ns/op", true, &series),
        )?;
    }
    Ok(())
}
