//! §1 SecureMemory: basic secret operations — our testify-free Go mirror vs ours, upstream's own benchmark beside
//! them, ours with protection off where measured, and the analysis's published figures.

use std::fmt::Write as _;

use anyhow::Result;

use super::format::{cell, label, published};
use super::page::{Input, Page};
use super::verdict::{Compared, compare, oversubscribed, ratio_cell, ratio_of};
use crate::results::Implementation;
use crate::scenario::Table;

/// Section 1; its compared rows go to `compared`.
pub fn section(page: &mut Page<'_>, input: &Input<'_>, compared: &mut Vec<Compared>) -> Result<()> {
    let results = input.results;
    let _ = writeln!(page, "## 1. SecureMemory — basic secret operations\n");
    let _ = writeln!(
        page,
        "Go: our testify-free mirrors of upstream's benchmarks (`go-baseline/securememory`) where the scenario names \
         one; upstream's own benchmark, which calls testify's `assert` on every op, sits in a column of its own and \
         is never compared with. Rust: the same work on one thread (`/single`) or on `lab::parallel::run_parallel` \
         (Go's `RunParallel` mirrored, `/parallel`). \"protection off\": the same bench on a factory whose secrets \
         are neither mlocked nor mprotected (`SecretFactoryBuilder::unprotected()`, feature `test-util`), so the \
         difference is what the protection costs. Published: the analysis's Go figure and its Rust figures before \
         → after optimisation.\n"
    );
    let _ = writeln!(
        page,
        "| operation | implementation | Go ns/op (mirror) | upstream benchmark (includes testify per op) | Rust ns/op | Rust, protection off | Rust ÷ Go | published Go | published Rust | published ratio (initial) |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    let sm = input.in_table(Table::Securememory);
    for s in &sm {
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
        // More threads than CPUs: labelled, and left out of every verdict by `compare`.
        let cores = input.cores();
        let oversubscribed = oversubscribed(s, cores).map_or(String::new(), |t| {
            format!(" — oversubscribed ({t} threads on {cores} CPUs), no verdict")
        });
        let _ = writeln!(
            page,
            "| {}{} | {}{} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.row,
            if s.reference { " (reference)" } else { "" },
            s.series.as_deref().unwrap_or("–"),
            oversubscribed,
            cell(results.get(&s.id, Implementation::Go)),
            cell(results.get(&s.id, Implementation::GoUpstream)),
            cell(results.get(&s.id, Implementation::Rust)),
            cell(results.get(&s.id, Implementation::Unprotected)),
            ratio_cell(ratio_of(results, s, Implementation::Go)),
            p.go.map_or("–".into(), published),
            pub_rust,
            pub_ratio,
        );
        if !s.reference
            && let Some(c) = compare(results, s, label(s), input.cores())
        {
            compared.push(c);
        }
    }
    page.bars("1-securememory", "SecureMemory (ns/op)", results, &sm)
}
