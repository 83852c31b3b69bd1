//! §6: the consolidated wins and losses, and the conclusion generated from them. Every measured pair counts once, the
//! n/a rows (premise, oversubscribed) count in no summary, and the default configuration comes first.

use std::fmt::Write as _;

use super::page::Page;
use super::verdict::{Compared, NotApplicable, describe, interval};
use crate::scenario::Table;
use crate::stats::Difference;

/// Section titles as the summary names them.
fn table_title(t: Table) -> &'static str {
    match t {
        Table::Securememory => "1. SecureMemory",
        Table::Optimization => "2. Optimization",
        Table::Advantages => "3. Advantages",
        Table::Patterns => "4. Code patterns",
        Table::EndToEnd => "5. End to end",
    }
}

/// The rows that count: not n/a, and each measured pair once (the first row showing it).
pub fn counted(compared: &[Compared]) -> Vec<&Compared> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for c in compared.iter().filter(|c| c.counts()) {
        if !seen.contains(&c.key.as_str()) {
            seen.push(&c.key);
            out.push(c);
        }
    }
    out
}

/// Rows, wins, losses, no-differences and the geometric mean of some counted rows.
struct Tally {
    n: usize,
    wins: usize,
    losses: usize,
    same: usize,
    gmean: String,
}

fn tally(cs: &[&Compared]) -> Tally {
    let wins = cs
        .iter()
        .filter(|c| c.difference == Difference::Lower)
        .count();
    let losses = cs
        .iter()
        .filter(|c| c.difference == Difference::Higher)
        .count();
    let finite: Vec<f64> = cs
        .iter()
        .map(|c| c.ci.ratio)
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
    Tally {
        n: cs.len(),
        wins,
        losses,
        same: cs.len() - wins - losses,
        gmean,
    }
}

/// Section 6 and the conclusion, from the rows compared with Go and those compared with asherah 1.0.
pub fn section(page: &mut Page<'_>, compared: &[Compared], peer: &[Compared]) {
    let rows = counted(compared);
    let _ = writeln!(page, "## 6. Consolidated metrics\n");
    let _ = writeln!(
        page,
        "Rust vs the Go mirror. Every measured pair counts once: a Go figure shown beside several of our key modes \
         counts with the default mode only, and a pair shown in both §3 and §4 counts once. Rows marked n/a \
         (premise, oversubscribed) count nowhere. A win or loss needs a ratio CI that excludes 1 and an effect of \
         at least 5 %.\n"
    );
    let defaults: Vec<&Compared> = rows.iter().copied().filter(|c| c.default_config).collect();
    let _ = writeln!(page, "### Default configuration only\n");
    tally_table(page, &defaults);
    let _ = writeln!(page, "### Every configuration\n");
    tally_table(page, &rows);
    conclusion(page, compared, &defaults, &rows, peer);
}

fn tally_table(page: &mut Page<'_>, rows: &[&Compared]) {
    let _ = writeln!(
        page,
        "| section | rows | Rust wins | Rust losses | no difference | geometric mean Rust ÷ Go |\n|---|---|---|---|---|---|"
    );
    for t in Table::ALL {
        let cs: Vec<&Compared> = rows.iter().copied().filter(|c| c.table == t).collect();
        if cs.is_empty() {
            continue;
        }
        let r = tally(&cs);
        let _ = writeln!(
            page,
            "| {} | {} | {} | {} | {} | {} |",
            table_title(t),
            r.n,
            r.wins,
            r.losses,
            r.same,
            r.gmean
        );
    }
    let r = tally(rows);
    let _ = writeln!(
        page,
        "| **all** | {} | {} | {} | {} | {} |\n",
        r.n, r.wins, r.losses, r.same, r.gmean
    );
}

fn list(cs: &[&Compared]) -> String {
    cs.iter()
        .map(|c| {
            format!(
                "{} / {} ({}, CI {})",
                table_title(c.table),
                c.label,
                describe(c.ci.ratio, c.metric),
                interval(&c.ci)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn conclusion(
    page: &mut Page<'_>,
    compared: &[Compared],
    defaults: &[&Compared],
    rows: &[&Compared],
    peer: &[Compared],
) {
    let _ = writeln!(page, "## Conclusion (generated from the numbers above)\n");
    if rows.is_empty() {
        let _ = writeln!(
            page,
            "No row has both a Go and a Rust figure, so there is nothing to conclude against Go."
        );
    } else {
        let d = tally(defaults);
        let _ = writeln!(
            page,
            "* **Default configuration vs Go**: of {} rows, Rust wins {}, loses {}, and {} show no difference \
             (geometric mean of Rust ÷ Go: {}).",
            d.n, d.wins, d.losses, d.same, d.gmean
        );
    }
    peer_sentence(page, peer);
    extremes(page, defaults);
    for t in Table::ALL {
        let cs: Vec<&Compared> = rows.iter().copied().filter(|c| c.table == t).collect();
        if cs.is_empty() {
            continue;
        }
        let r = tally(&cs);
        let _ = writeln!(
            page,
            "* {} (every configuration): Rust wins {} of {} rows, loses {}, no difference on {}; geometric mean \
             Rust ÷ Go {}.",
            table_title(t),
            r.wins,
            r.n,
            r.losses,
            r.same,
            r.gmean
        );
    }
    let premise = compared
        .iter()
        .filter(|c| matches!(c.not_applicable, Some(NotApplicable::Premise(_))))
        .count();
    let over = compared
        .iter()
        .filter(|c| matches!(c.not_applicable, Some(NotApplicable::Oversubscribed { .. })))
        .count();
    let _ = writeln!(
        page,
        "* Left out of every summary: {premise} rows whose measurement cannot test the claim (n/a: premise) and \
         {over} oversubscribed rows.\n"
    );
}

/// The default key mode against asherah 1.0, row by row.
fn peer_sentence(page: &mut Page<'_>, peer: &[Compared]) {
    let defaults: Vec<&Compared> = peer.iter().filter(|c| c.default_config).collect();
    if defaults.is_empty() {
        let _ = writeln!(
            page,
            "* **Default key mode vs asherah 1.0**: not measured in this run."
        );
        return;
    }
    let r = tally(&defaults);
    let _ = writeln!(
        page,
        "* **Default key mode vs asherah 1.0** (its own configuration: cached AES key schedules in ordinary heap): \
         Rust is {} — geometric mean Rust ÷ asherah 1.0 {} over {} rows, {} wins and {} losses.",
        list(&defaults),
        r.gmean,
        r.n,
        r.wins,
        r.losses
    );
    let others: Vec<&Compared> = peer.iter().filter(|c| !c.default_config).collect();
    if !others.is_empty() {
        let _ = writeln!(
            page,
            "* Other key modes vs asherah 1.0 (geometric mean Rust ÷ asherah 1.0, with its rows' range): {}. \
             `cached_cipher` is asherah 1.0's own key mode on our default AEAD backend (pure Rust: RustCrypto's \
             `aes-gcm`, or the workspace's `aesni-gcm` where its calibration found it faster; the header's AES-GCM \
             route row says which); `cached_cipher_ring` is the same mode on `RingBackend`. The gap between those \
             two lines is what the default costs against ring (README.md, \"What the default costs\").",
            per_mode(&others)
        );
    }
}

/// `mode gmean× over n rows (lo–hi×)` per key mode, the mode read from the row label's `… — mode` suffix.
fn per_mode(rows: &[&Compared]) -> String {
    let mut modes: Vec<(&str, Vec<&Compared>)> = Vec::new();
    for c in rows {
        let mode = c.label.rsplit_once(" — ").map_or("?", |(_, m)| m);
        match modes.iter_mut().find(|(m, _)| *m == mode) {
            Some((_, cs)) => cs.push(c),
            None => modes.push((mode, vec![c])),
        }
    }
    modes
        .iter()
        .map(|(mode, cs)| {
            let ratios = cs.iter().map(|c| c.ci.ratio).filter(|r| r.is_finite());
            let (lo, hi) = ratios.fold((f64::INFINITY, 0.0_f64), |(lo, hi), r| {
                (lo.min(r), hi.max(r))
            });
            format!(
                "`{mode}` {} over {} rows ({lo:.2}–{hi:.2}×)",
                tally(cs).gmean,
                cs.len()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The largest wins and losses of the default configuration.
fn extremes(page: &mut Page<'_>, defaults: &[&Compared]) {
    let mut sorted: Vec<&Compared> = defaults.to_vec();
    sorted.sort_by(|a, b| a.ci.ratio.total_cmp(&b.ci.ratio));
    let wins: Vec<&Compared> = sorted
        .iter()
        .copied()
        .filter(|c| c.difference == Difference::Lower)
        .take(5)
        .collect();
    let losses: Vec<&Compared> = sorted
        .iter()
        .rev()
        .copied()
        .filter(|c| c.difference == Difference::Higher)
        .take(5)
        .collect();
    if !wins.is_empty() {
        let _ = writeln!(
            page,
            "* Largest Rust wins (default configuration): {}.",
            list(&wins)
        );
    }
    if losses.is_empty() {
        let _ = writeln!(
            page,
            "* Rust loses no default-configuration row (CI excluding 1, effect ≥ 5 %)."
        );
    } else {
        let _ = writeln!(
            page,
            "* Largest Rust losses (default configuration): {}.",
            list(&losses)
        );
    }
}
