//! REPORT.md and its charts from one results file (and the previous one, for table 2). Reads only results and
//! scenarios; every sentence about results is computed here from the numbers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::charts::{self, Series};
use crate::results::{Implementation, Measurement, Results, paired_ratios};
use crate::scenario::{Expect, Metric, Scenario, Table};
use crate::stats::{Summary, mann_whitney_p};

/// Significance level of table 2's test.
const ALPHA: f64 = 0.05;

/// Where Rust stands against another implementation on one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Rust's figure is lower, beyond the spread.
    Win,
    /// Rust's figure is higher, beyond the spread.
    Loss,
    /// Within the spread.
    Tie,
}

/// Classify a summary of Rust ÷ other ratios: a win when even the third quartile is below 1, a loss when even the
/// first quartile is above 1.
pub fn outcome(ratio: &Summary) -> Outcome {
    if ratio.q3 < 1.0 {
        Outcome::Win
    } else if ratio.q1 > 1.0 {
        Outcome::Loss
    } else {
        Outcome::Tie
    }
}

/// `2.31× faster` / `1.20× more allocations` / `equal` — Rust's position in words.
pub fn describe(ratio: f64, metric: Metric) -> String {
    let (lower, higher) = match metric {
        Metric::Time => ("faster", "slower"),
        Metric::Allocs => ("fewer allocations", "more allocations"),
        Metric::Bytes | Metric::Size => ("smaller", "larger"),
    };
    if (ratio - 1.0).abs() < 1e-9 {
        "equal".into()
    } else if ratio < 1.0 {
        if ratio <= 0.0 {
            format!("{lower} (none vs some)")
        } else {
            format!("{:.2}× {lower}", 1.0 / ratio)
        }
    } else {
        format!("{ratio:.2}× {higher}")
    }
}

/// A number as the tables print it: thousands separators from 100 up, three significant digits below.
pub fn num(v: f64) -> String {
    if v.abs() >= 100.0 {
        let s = format!("{:.0}", v.abs());
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if v < 0.0 { format!("-{out}") } else { out }
    } else if v == 0.0 {
        "0".into()
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A published figure as the analysis printed it (one decimal kept).
fn published(v: f64) -> String {
    if v.fract() == 0.0 {
        num(v)
    } else {
        let whole = num(v.trunc());
        format!(
            "{whole}.{}",
            ((v.fract().abs() * 10.0).round() as u8).min(9)
        )
    }
}

/// A cell: median and spread (IQR ÷ median), `–` when not measured.
fn cell(m: Option<&Measurement>) -> String {
    match m {
        None => "–".into(),
        Some(m) if m.summary.n < 2 => num(m.summary.median),
        Some(m) => format!(
            "{} ±{:.0}%",
            num(m.summary.median),
            m.summary.iqr_pct() / 2.0
        ),
    }
}

/// Summary of the paired Rust ÷ other ratios of a scenario.
fn ratio_of(results: &Results, s: &Scenario, other: Implementation) -> Option<Summary> {
    let rust = results.get(&s.id, Implementation::Rust)?;
    let o = results.get(&s.id, other)?;
    if o.summary.median == 0.0 {
        // e.g. zero allocations on the other side: no ratio, but an order.
        return None;
    }
    Summary::of(&paired_ratios(rust, o))
}

fn ratio_cell(r: Option<Summary>) -> String {
    match r {
        None => "–".into(),
        Some(r) if r.n < 2 => format!("{:.2}×", r.median),
        Some(r) => format!("{:.2}× ({:.2}–{:.2})", r.median, r.q1, r.q3),
    }
}

/// One compared row (for the consolidated table and the conclusion).
#[derive(Debug, Clone)]
struct Compared {
    table: Table,
    label: String,
    metric: Metric,
    ratio: Summary,
    outcome: Outcome,
}

/// Rust vs Go for a scenario: the comparison, or a comparison where the other side measured zero.
fn compare(results: &Results, s: &Scenario, label: String) -> Option<Compared> {
    let r = results.get(&s.id, Implementation::Rust)?;
    let g = results.get(&s.id, Implementation::Go)?;
    let ratio = if g.summary.median == 0.0 {
        let v = if r.summary.median == 0.0 {
            1.0
        } else {
            f64::INFINITY
        };
        Summary {
            n: 1,
            median: v,
            q1: v,
            q3: v,
            min: v,
            max: v,
        }
    } else {
        Summary::of(&paired_ratios(r, g))?
    };
    Some(Compared {
        table: s.table,
        label,
        metric: s.metric,
        outcome: outcome(&ratio),
        ratio,
    })
}

fn verdict(c: Option<&Compared>, expect: Option<Expect>) -> String {
    let Some(c) = c else {
        return "not measured".into();
    };
    let position = describe(c.ratio.median, c.metric);
    match (expect, c.outcome) {
        (None, _) => position,
        (Some(_), Outcome::Win) => format!("**confirmed**: Rust {position}"),
        (Some(Expect::RustNotHigher), Outcome::Tie) => {
            format!("**confirmed**: within spread ({position})")
        }
        (Some(Expect::RustLower), Outcome::Tie) => {
            format!("**not confirmed**: within spread ({position})")
        }
        (Some(_), Outcome::Loss) => format!("**refuted**: Rust {position}"),
    }
}

fn label(s: &Scenario) -> String {
    match &s.series {
        Some(series) => format!("{} — {}", s.row, series),
        None => s.row.clone(),
    }
}

/// The rendered report and the charts it embeds.
pub struct Rendered {
    /// REPORT.md text.
    pub markdown: String,
    /// Chart files written (stems; each has .svg and .png).
    pub charts: Vec<PathBuf>,
}

/// Render `results` (scenarios from `scenarios`; `previous` for table 2) into markdown, writing charts to
/// `charts_dir`, referenced from the report as `charts_link/<name>.svg`.
pub fn render(
    scenarios: &[Scenario],
    results: &Results,
    previous: Option<(&Path, &Results)>,
    charts_dir: &Path,
    charts_link: &str,
) -> Result<Rendered> {
    std::fs::create_dir_all(charts_dir)?;
    let mut out = String::new();
    let mut written = Vec::new();
    let mut compared: Vec<Compared> = Vec::new();
    let in_table = |t: Table| {
        scenarios
            .iter()
            .filter(move |s| s.table == t)
            .collect::<Vec<_>>()
    };
    let has_go = results
        .measurements
        .iter()
        .any(|m| m.implementation == Implementation::Go);
    let has_peer = results
        .measurements
        .iter()
        .any(|m| m.implementation == Implementation::Peer);
    let mut chart = |name: &str,
                     f: &dyn Fn(&Path) -> Result<()>,
                     out: &mut String,
                     caption: &str|
     -> Result<()> {
        let stem = charts_dir.join(name);
        f(&stem)?;
        written.push(stem);
        let _ = writeln!(out, "\n![{caption}]({charts_link}/{name}.svg)\n");
        Ok(())
    };

    header(&mut out, results, has_go, has_peer);

    // 1. SecureMemory.
    let _ = writeln!(out, "## 1. SecureMemory — basic secret operations\n");
    let _ = writeln!(
        out,
        "Go: upstream's own benchmarks (all `RunParallel`); Rust: the same work on `lab::parallel::run_parallel` \
         (Go's `RunParallel` mirrored), one worker per CPU. Published: the analysis's Go figure and its \
         Rust figures before → after optimisation.\n"
    );
    let _ = writeln!(
        out,
        "| operation | implementation | Go ns/op | Rust ns/op | Rust ÷ Go | published Go | published Rust | published ratio (initial) |\n|---|---|---|---|---|---|---|---|"
    );
    let sm = in_table(Table::Securememory);
    for s in &sm {
        let r = ratio_of(results, s, Implementation::Go);
        let p = &s.published;
        let pub_rust = match (p.rust, &p.rust_optimized) {
            (Some(a), Some(b)) => format!("{} → {b}", published(a)),
            (Some(a), None) => published(a),
            _ => "–".into(),
        };
        let pub_ratio = match (p.go, p.rust) {
            (Some(g), Some(r)) => format!("{:.1}×", r / g),
            _ => "–".into(),
        };
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {} | {} | {} | {} | {} |",
            s.row,
            if s.reference { " (reference)" } else { "" },
            s.series.as_deref().unwrap_or("–"),
            cell(results.get(&s.id, Implementation::Go)),
            cell(results.get(&s.id, Implementation::Rust)),
            ratio_cell(r),
            p.go.map_or("–".into(), published),
            pub_rust,
            pub_ratio,
        );
        if !s.reference
            && let Some(c) = compare(results, s, label(s))
        {
            compared.push(c);
        }
    }
    bars_chart(
        &mut chart,
        &mut out,
        "1-securememory",
        "SecureMemory (ns/op)",
        results,
        &sm,
    )?;

    // 2. Optimization impact.
    let _ = writeln!(out, "## 2. Optimization impact\n");
    match previous {
        None => {
            let _ = writeln!(
                out,
                "No earlier results file holds these scenarios: this run is the baseline the next one is compared with.\n"
            );
        }
        Some((path, _)) => {
            let _ = writeln!(
                out,
                "Change against the previous results (`{}`, {} run of {}). Significance: exact two-sided \
                 Mann–Whitney U test over the rounds, α = {ALPHA}.\n",
                path.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                previous.map_or("", |p| p.1.run.mode.as_str()),
                previous.map_or("", |p| p.1.run.started.as_str()),
            );
        }
    }
    let _ = writeln!(
        out,
        "| benchmark | what | previous ns | now ns | change | p | significant | published change |\n|---|---|---|---|---|---|---|---|"
    );
    for s in in_table(Table::Optimization) {
        let now = results.get(&s.id, Implementation::Rust);
        let before = previous.and_then(|(_, p)| p.get(&s.id, Implementation::Rust));
        let (change, p, sig) = match (now, before) {
            (Some(n), Some(b)) => {
                let a: Vec<f64> = n.samples.iter().map(|x| x.value).collect();
                let c: Vec<f64> = b.samples.iter().map(|x| x.value).collect();
                let p = mann_whitney_p(&a, &c);
                let change = (n.summary.median / b.summary.median - 1.0) * 100.0;
                (
                    format!("{change:+.2}%"),
                    p.map_or("–".into(), |p| format!("{p:.3}")),
                    match p {
                        Some(p) if p < ALPHA => "yes",
                        Some(_) => "no",
                        None => "–",
                    },
                )
            }
            _ => ("–".into(), "–".into(), "–"),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {change} | {p} | {sig} | {} |",
            s.row,
            s.note.as_deref().unwrap_or(""),
            cell(before),
            cell(now),
            s.published
                .change_pct
                .map_or("–".into(), |c| format!("{c:+.2}%")),
        );
    }
    let _ = writeln!(out);

    // 3 and 4: claims with verdicts.
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
        let _ = writeln!(out, "{title}\n");
        let _ = writeln!(
            out,
            "| claim | case | what | unit | Go | Rust | Rust ÷ Go | analysis said | verdict |\n|---|---|---|---|---|---|---|---|---|"
        );
        let rows = in_table(table);
        for s in &rows {
            let c = compare(results, s, label(s));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                s.row,
                s.series.as_deref().unwrap_or("–"),
                s.note.as_deref().unwrap_or(""),
                s.metric.unit(),
                cell(results.get(&s.id, Implementation::Go)),
                cell(results.get(&s.id, Implementation::Rust)),
                ratio_cell(ratio_of(results, s, Implementation::Go)),
                s.published.claim.as_deref().unwrap_or("–"),
                verdict(c.as_ref(), s.expect),
            );
            compared.extend(c);
        }
        let timed: Vec<&Scenario> = rows
            .iter()
            .copied()
            .filter(|s| s.metric == Metric::Time && s.param_u64("threads").is_none())
            .collect();
        bars_chart(
            &mut chart,
            &mut out,
            name,
            &format!("{} (ns/op)", &title[6..]),
            results,
            &timed,
        )?;
        let threaded: Vec<&Scenario> = rows
            .iter()
            .copied()
            .filter(|s| s.param_u64("threads").is_some())
            .collect();
        if !threaded.is_empty() {
            let mut series = Vec::new();
            for imp in [Implementation::Go, Implementation::Rust] {
                let pts: Vec<(f64, f64)> = threaded
                    .iter()
                    .filter_map(|s| {
                        Some((
                            s.param_u64("threads")? as f64,
                            results.get(&s.id, imp)?.summary.median,
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
            let stem = format!("{name}-threads");
            chart(
                &stem,
                &|p| {
                    charts::lines(
                        p,
                        &format!("{}: ns/op by threads", threaded[0].row),
                        "threads",
                        "ns/op",
                        false,
                        &series,
                    )
                },
                &mut out,
                "thread scaling",
            )?;
        }
    }

    // 5. End to end.
    let _ = writeln!(out, "## 5. End to end\n");
    let e2e = in_table(Table::EndToEnd);
    let (integration, payload): (Vec<&Scenario>, Vec<&Scenario>) = e2e
        .iter()
        .copied()
        .partition(|s| s.param_u64("payload").is_none());
    let _ = writeln!(
        out,
        "### Integration benchmarks (spec §11.3)\n\n| benchmark | what | Go ns/op | Rust ns/op | Rust ÷ Go |\n|---|---|---|---|---|"
    );
    for s in &integration {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            s.row,
            s.note.as_deref().unwrap_or(""),
            cell(results.get(&s.id, Implementation::Go)),
            cell(results.get(&s.id, Implementation::Rust)),
            ratio_cell(ratio_of(results, s, Implementation::Go)),
        );
        compared.extend(compare(results, s, s.row.clone()));
    }
    bars_chart(
        &mut chart,
        &mut out,
        "5-integration",
        "Integration benchmarks (ns/op)",
        results,
        &integration,
    )?;
    let _ = writeln!(
        out,
        "### Payload sizes (warm session)\n\nKey modes of ours, by security property:\n"
    );
    let mut modes: BTreeMap<&str, &str> = BTreeMap::new();
    for s in &payload {
        if let (Some(m), Some(n)) = (s.series.as_deref(), s.note.as_deref()) {
            modes.insert(m, n);
        }
    }
    for (m, n) in &modes {
        let _ = writeln!(out, "* `{m}` — {n}");
    }
    let _ = writeln!(
        out,
        "\n| operation | key mode | Go ns/op | asherah 1.0 ns/op | Rust ns/op | Rust ÷ Go | Rust ÷ asherah 1.0 |\n|---|---|---|---|---|---|---|"
    );
    // Go and the peer sit on the default mode's scenario of each row; every mode of the row is compared with them.
    let by_row = |row: &str, imp: Implementation| {
        payload
            .iter()
            .find(|s| s.row == row && results.get(&s.id, imp).is_some())
            .and_then(|s| results.get(&s.id, imp))
    };
    for s in &payload {
        let rust = results.get(&s.id, Implementation::Rust);
        let go = by_row(&s.row, Implementation::Go);
        let peer = by_row(&s.row, Implementation::Peer);
        let rel = |o: Option<&Measurement>| match (rust, o) {
            (Some(r), Some(o)) => ratio_cell(Summary::of(&paired_ratios(r, o))),
            _ => "–".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            s.row,
            s.series.as_deref().unwrap_or("–"),
            cell(go),
            cell(peer),
            cell(rust),
            rel(go),
            rel(peer),
        );
        if let (Some(r), Some(g)) = (rust, go)
            && let Some(ratio) = Summary::of(&paired_ratios(r, g))
        {
            compared.push(Compared {
                table: Table::EndToEnd,
                label: label(s),
                metric: Metric::Time,
                outcome: outcome(&ratio),
                ratio,
            });
        }
    }
    let mut ops: Vec<String> = Vec::new();
    for s in &payload {
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
            if let Some(m) = results.get(&s.id, Implementation::Rust) {
                series
                    .entry(format!("Rust {}", s.series.as_deref().unwrap_or("")))
                    .or_default()
                    .push((x, m.summary.median));
            }
            for imp in [Implementation::Go, Implementation::Peer] {
                if let Some(m) = results.get(&s.id, imp) {
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
        let name = format!("5-payload-{op}");
        chart(
            &name,
            &|p| {
                charts::lines(
                    p,
                    &format!("{op}: ns/op by payload size"),
                    "payload (bytes)",
                    "ns/op",
                    true,
                    &series,
                )
            },
            &mut out,
            &format!("{op} by payload size"),
        )?;
    }

    // 6. Consolidated metrics and the generated conclusion.
    consolidated(&mut out, &compared);
    Ok(Rendered {
        markdown: out,
        charts: written,
    })
}

type ChartFn<'a> =
    dyn FnMut(&str, &dyn Fn(&Path) -> Result<()>, &mut String, &str) -> Result<()> + 'a;

/// Grouped bars of Go / asherah 1.0 / Rust medians, one group per scenario.
fn bars_chart(
    chart: &mut ChartFn<'_>,
    out: &mut String,
    name: &str,
    title: &str,
    results: &Results,
    rows: &[&Scenario],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let categories: Vec<String> = rows.iter().map(|s| label(s)).collect();
    let mut series = Vec::new();
    for imp in [
        Implementation::Go,
        Implementation::Peer,
        Implementation::Rust,
    ] {
        let values: Vec<Option<f64>> = rows
            .iter()
            .map(|s| results.get(&s.id, imp).map(|m| m.summary.median))
            .collect();
        if values.iter().any(Option::is_some) {
            series.push(Series {
                label: imp.label().into(),
                values,
            });
        }
    }
    chart(
        name,
        &|p| charts::grouped_bars(p, title, "ns/op", &categories, &series),
        out,
        title,
    )
}

fn header(out: &mut String, r: &Results, has_go: bool, has_peer: bool) {
    let e = &r.environment;
    let _ = writeln!(out, "# Asherah lab report: Go vs Rust\n");
    let _ = writeln!(
        out,
        "Generated by `lab render` from `reports/results/` — do not edit by hand; regenerate with `scripts/report.sh`.\n"
    );
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(
        out,
        "| date | {} → {} (UTC) |",
        r.run.started, r.run.finished
    );
    let _ = writeln!(out, "| machine | {} × {} CPUs |", e.cpu_model, e.cores);
    let _ = writeln!(out, "| OS | {} |", e.os);
    for (k, v) in &e.toolchains {
        let _ = writeln!(out, "| {k} | {v} |");
    }
    for (k, v) in &e.crates {
        let _ = writeln!(out, "| {k} | {v} |");
    }
    let _ = writeln!(out, "| lab commit | {} |", e.commit);
    let _ = writeln!(
        out,
        "| mode | {} — {} interleaved rounds |",
        r.run.mode, r.run.rounds
    );
    if let Some(secs) = r.run.measurement_seconds {
        let _ = writeln!(
            out,
            "| measuring time | {}m{:02}s (builds excluded) |",
            secs.round() as u64 / 60,
            secs.round() as u64 % 60
        );
    }
    for (k, v) in &r.run.settings {
        let _ = writeln!(out, "| {k} | `{v}` |");
    }
    if let Some(only) = &r.run.only {
        let _ = writeln!(out, "| --only | `{only}` |");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "**How to read.** A cell is the median over the rounds, `±` half the interquartile range as a percentage of \
         the median (the spread). Each round runs every implementation once, alternating which goes first, so drift \
         hits all of them; `Rust ÷ Go` is the median of the per-round ratios (below 1: Rust is faster or smaller), \
         with their interquartile range in parentheses. A row counts as a Rust win (loss) only when that whole range \
         is below (above) 1. Allocation and size cells come from one exact count. `–`: not measured.\n"
    );
    if !has_go {
        let _ = writeln!(
            out,
            "> **No Go results in this run**: the Go columns are empty.\n"
        );
    }
    if !has_peer {
        let _ = writeln!(
            out,
            "> **No asherah 1.0 peer results in this run**: its column is empty.\n"
        );
    }
    if !r.run.skipped.is_empty() {
        let _ = writeln!(out, "Not measured in this run:\n");
        for s in &r.run.skipped {
            let _ = writeln!(out, "* {s}");
        }
        let _ = writeln!(out);
    }
}

fn table_title(t: Table) -> &'static str {
    match t {
        Table::Securememory => "1. SecureMemory",
        Table::Optimization => "2. Optimization",
        Table::Advantages => "3. Advantages",
        Table::Patterns => "4. Code patterns",
        Table::EndToEnd => "5. End to end",
    }
}

fn consolidated(out: &mut String, compared: &[Compared]) {
    let _ = writeln!(out, "## 6. Consolidated metrics\n");
    let _ = writeln!(
        out,
        "Every row with both a Go and a Rust figure. Geometric mean of the Rust ÷ Go medians (rows where one side is \
         zero are counted in wins/losses but not in the mean).\n"
    );
    let _ = writeln!(
        out,
        "| section | rows | Rust wins | Rust losses | within spread | geometric mean Rust ÷ Go |\n|---|---|---|---|---|---|"
    );
    let mut sections: Vec<Table> = compared.iter().map(|c| c.table).collect();
    sections.dedup();
    let row = |cs: &[&Compared]| {
        let wins = cs.iter().filter(|c| c.outcome == Outcome::Win).count();
        let losses = cs.iter().filter(|c| c.outcome == Outcome::Loss).count();
        let finite: Vec<f64> = cs
            .iter()
            .map(|c| c.ratio.median)
            .filter(|r| r.is_finite() && *r > 0.0)
            .collect();
        let gmean = if finite.is_empty() {
            "–".into()
        } else {
            format!(
                "{:.2}×",
                (finite.iter().map(|r| r.ln()).sum::<f64>() / finite.len() as f64).exp()
            )
        };
        (cs.len(), wins, losses, cs.len() - wins - losses, gmean)
    };
    for t in Table::ALL {
        let cs: Vec<&Compared> = compared.iter().filter(|c| c.table == t).collect();
        if cs.is_empty() {
            continue;
        }
        let (n, w, l, tie, g) = row(&cs);
        let _ = writeln!(
            out,
            "| {} | {n} | {w} | {l} | {tie} | {g} |",
            table_title(t)
        );
    }
    let all: Vec<&Compared> = compared.iter().collect();
    let (n, w, l, tie, g) = row(&all);
    let _ = writeln!(out, "| **all** | {n} | {w} | {l} | {tie} | {g} |\n");

    let _ = writeln!(out, "## Conclusion (generated from the numbers above)\n");
    if all.is_empty() {
        let _ = writeln!(
            out,
            "No row has both a Go and a Rust figure, so there is nothing to conclude."
        );
        return;
    }
    let _ = writeln!(
        out,
        "* Of {n} rows measured on both sides, Rust wins {w}, loses {l}, and {tie} are within the spread \
         (geometric mean of Rust ÷ Go: {g})."
    );
    let mut sorted: Vec<&Compared> = all.clone();
    sorted.sort_by(|a, b| a.ratio.median.total_cmp(&b.ratio.median));
    let list = |cs: &[&Compared]| {
        cs.iter()
            .map(|c| {
                format!(
                    "{} / {} ({})",
                    table_title(c.table),
                    c.label,
                    describe(c.ratio.median, c.metric)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let wins: Vec<&Compared> = sorted
        .iter()
        .copied()
        .filter(|c| c.outcome == Outcome::Win)
        .collect();
    let losses: Vec<&Compared> = sorted
        .iter()
        .rev()
        .copied()
        .filter(|c| c.outcome == Outcome::Loss)
        .collect();
    if !wins.is_empty() {
        let _ = writeln!(
            out,
            "* Largest Rust wins: {}.",
            list(&wins[..wins.len().min(5)])
        );
    }
    if !losses.is_empty() {
        let _ = writeln!(
            out,
            "* Rust loses: {}.",
            list(&losses[..losses.len().min(10)])
        );
    } else {
        let _ = writeln!(out, "* Rust loses no row beyond the spread.");
    }
    for t in Table::ALL {
        let cs: Vec<&Compared> = all.iter().copied().filter(|c| c.table == t).collect();
        if cs.is_empty() {
            continue;
        }
        let (n, w, l, _, g) = row(&cs);
        let _ = writeln!(
            out,
            "* {}: Rust wins {w} of {n} rows, loses {l}; geometric mean Rust ÷ Go {g}.",
            table_title(t)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{SCHEMA, Sample};

    fn m(id: &str, imp: Implementation, metric: Metric, v: &[f64]) -> Measurement {
        Measurement::new(
            id,
            imp,
            metric,
            "src",
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

    #[test]
    fn outcomes_need_the_whole_interquartile_range_on_one_side() {
        let s = |v: &[f64]| Summary::of(v).unwrap();
        assert_eq!(outcome(&s(&[0.5, 0.6, 0.7])), Outcome::Win);
        assert_eq!(outcome(&s(&[1.2, 1.3, 1.4])), Outcome::Loss);
        assert_eq!(outcome(&s(&[0.8, 1.0, 1.3])), Outcome::Tie);
        assert_eq!(describe(0.5, Metric::Time), "2.00× faster");
        assert_eq!(describe(2.0, Metric::Allocs), "2.00× more allocations");
        assert_eq!(describe(1.0, Metric::Size), "equal");
        assert_eq!(num(1234567.4), "1,234,567");
        assert_eq!(num(354.9), "355");
        assert_eq!(num(7.123), "7.12");
    }

    /// Render the recorded fixture: every section is present, verdicts and the conclusion follow the numbers.
    #[test]
    fn renders_every_section_from_a_results_fixture() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let scenarios = crate::scenario::load_dir(&dir).unwrap();
        let mut results = Results {
            schema: SCHEMA,
            ..Results::default()
        };
        // Rust twice as fast on the DRR parse, slower on the LRU get, equal record size.
        results.measurements = vec![
            m(
                "advantages/json/drr_parse",
                Implementation::Go,
                Metric::Time,
                &[2000.0, 2100.0, 1900.0],
            ),
            m(
                "advantages/json/drr_parse",
                Implementation::Rust,
                Metric::Time,
                &[1000.0, 1000.0, 1000.0],
            ),
            m(
                "patterns/lru_get",
                Implementation::Go,
                Metric::Time,
                &[40.0, 40.0, 40.0],
            ),
            m(
                "patterns/lru_get",
                Implementation::Rust,
                Metric::Time,
                &[60.0, 61.0, 62.0],
            ),
            m(
                "patterns/record_size",
                Implementation::Go,
                Metric::Size,
                &[1612.0],
            ),
            m(
                "patterns/record_size",
                Implementation::Rust,
                Metric::Size,
                &[1612.0],
            ),
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
        ];
        let charts = std::env::temp_dir().join(format!("lab-render-{}", std::process::id()));
        let r = render(&scenarios, &results, None, &charts, "charts").unwrap();
        let md = &r.markdown;
        for section in [
            "## 1.",
            "## 2.",
            "## 3.",
            "## 4.",
            "## 5.",
            "## 6.",
            "## Conclusion",
        ] {
            assert!(md.contains(section), "missing {section}");
        }
        assert!(md.contains("**confirmed**: Rust 2.00× faster"), "{md}");
        assert!(md.contains("**refuted**: Rust 1.52× slower"), "{md}");
        assert!(md.contains("**confirmed**: within spread (equal)"), "{md}");
        assert!(
            md.contains("Of 4 rows measured on both sides, Rust wins 1, loses 2"),
            "{md}"
        );
        assert!(md.contains("this run is the baseline"));
        assert!(
            md.contains("| 354.9 | 1,168.7 → 380–390 | 3.3× |"),
            "published columns:\n{md}"
        );
        assert!(charts.join("1-securememory.svg").is_file());
        std::fs::remove_dir_all(&charts).unwrap();
    }
}
