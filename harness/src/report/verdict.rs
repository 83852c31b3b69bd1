//! Where Rust stands against another implementation on one row, and the verdict on a claim. The rules:
//!
//! * a row whose measurement cannot test its claim (the scenario's `premise`, or 0 vs 0) is "n/a: premise";
//! * a row with more threads than the machine has CPUs is "n/a: oversubscribed" and counts in no summary;
//! * otherwise the ratio of the means over paired rounds and its bootstrap CI decide: a win or a loss only when the
//!   CI excludes 1 and the effect is at least 5 % ([`crate::stats::RatioCi::difference`]), else "no difference".

use crate::results::{Implementation, Measurement, Results, pairs};
use crate::scenario::{Expect, Metric, Scenario, Table};
use crate::stats::{Difference, RatioCi};

/// Why a row gets no win or loss.
#[derive(Debug, Clone, PartialEq)]
pub enum NotApplicable {
    /// The measurement cannot test the claim.
    Premise(String),
    /// More threads than CPUs: preempted threads, not the code, shape the figure.
    Oversubscribed {
        /// Threads the row runs.
        threads: u64,
        /// CPUs of the machine.
        cores: usize,
    },
}

/// One row of ours against another implementation's figure.
#[derive(Debug, Clone)]
pub struct Compared {
    /// The section it sits in.
    pub table: Table,
    /// Its row label.
    pub label: String,
    /// What its cells hold.
    pub metric: Metric,
    /// Ours ÷ theirs, with its CI.
    pub ci: RatioCi,
    /// What the CI says.
    pub difference: Difference,
    /// Set when the row gets no win or loss.
    pub not_applicable: Option<NotApplicable>,
    /// Whether the row measures our default configuration.
    pub default_config: bool,
    /// The measurements compared (both sources), so a pair measured once counts once in the summaries.
    pub key: String,
}

impl Compared {
    /// Whether the row counts in wins, losses and means.
    pub fn counts(&self) -> bool {
        self.not_applicable.is_none() && self.ci.ratio.is_finite()
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
    } else if ratio.is_infinite() {
        format!("{higher} (some vs none)")
    } else {
        format!("{ratio:.2}× {higher}")
    }
}

/// Ours ÷ `other` of one measurement pair; zero on the other side gives an infinite ratio.
pub fn ratio_ci(ours: &Measurement, other: &Measurement) -> Option<RatioCi> {
    if other.summary.median == 0.0 {
        let v = if ours.summary.median == 0.0 {
            1.0
        } else {
            f64::INFINITY
        };
        return Some(RatioCi {
            n: 1,
            ratio: v,
            lo: v,
            hi: v,
        });
    }
    RatioCi::of(&pairs(ours, other))
}

/// Rust ÷ `other` of a scenario as a table cell: the ratio and its CI.
pub fn ratio_of(results: &Results, s: &Scenario, other: Implementation) -> Option<RatioCi> {
    ratio_ci(
        results.get(&s.id, Implementation::Rust)?,
        results.get(&s.id, other)?,
    )
}

/// The scenario's thread count when it exceeds the machine's `cores` (such a row is labelled and left out of
/// every verdict); `None` for unthreaded rows, rows within the core count, and an unknown core count (0).
pub fn oversubscribed(s: &Scenario, cores: usize) -> Option<u64> {
    s.param_u64("threads")
        .filter(|&t| cores > 0 && t > cores as u64)
}

/// Rust vs the Go mirror for a scenario, on a machine with `cores` CPUs.
pub fn compare(results: &Results, s: &Scenario, label: String, cores: usize) -> Option<Compared> {
    let r = results.get(&s.id, Implementation::Rust)?;
    let g = results.get(&s.id, Implementation::Go)?;
    let ci = ratio_ci(r, g)?;
    let not_applicable = if let Some(p) = &s.premise {
        Some(NotApplicable::Premise(p.clone()))
    } else if r.summary.median == 0.0 && g.summary.median == 0.0 {
        Some(NotApplicable::Premise(format!(
            "0 vs 0 {}: nothing to be lower than",
            s.metric.unit()
        )))
    } else {
        oversubscribed(s, cores).map(|threads| NotApplicable::Oversubscribed { threads, cores })
    };
    Some(Compared {
        table: s.table,
        label,
        metric: s.metric,
        difference: ci.difference(),
        ci,
        not_applicable,
        default_config: s.default_config,
        key: format!("{}|{}|{:?}", r.source, g.source, s.metric),
    })
}

/// The verdict cell of a row: confirmed / refuted / no difference / n/a, each with its reason.
pub fn verdict(c: Option<&Compared>, s: &Scenario) -> String {
    if let Some(p) = &s.premise {
        return format!("n/a: premise — {p}");
    }
    let Some(c) = c else {
        return "n/a: not measured on both sides".into();
    };
    match &c.not_applicable {
        Some(NotApplicable::Premise(p)) => return format!("n/a: premise — {p}"),
        Some(NotApplicable::Oversubscribed { threads, cores }) => {
            return format!("n/a: oversubscribed ({threads} threads on {cores} CPUs)");
        }
        None => {}
    }
    let position = format!(
        "Rust {} (CI {})",
        describe(c.ci.ratio, c.metric),
        interval(&c.ci)
    );
    match (s.expect, c.difference) {
        (None, _) => format!("n/a: no claim — {position}"),
        (Some(_), Difference::Lower) => format!("**confirmed**: {position}"),
        (Some(Expect::RustNotHigher), Difference::None) => {
            format!("**confirmed** (not higher): no difference, {position}")
        }
        (Some(Expect::RustLower), Difference::None) => format!("**no difference**: {position}"),
        (Some(_), Difference::Higher) => format!("**refuted**: {position}"),
    }
}

/// `0.48–0.57×`.
pub fn interval(ci: &RatioCi) -> String {
    format!("{:.2}–{:.2}×", ci.lo, ci.hi)
}

/// A ratio cell: `0.52× (0.48–0.57)`.
pub fn ratio_cell(ci: Option<RatioCi>) -> String {
    match ci {
        None => "–".into(),
        Some(c) if c.ratio.is_infinite() => "∞".into(),
        Some(c) if c.n < 2 || c.lo == c.hi => format!("{:.2}×", c.ratio),
        Some(c) => format!("{:.2}× ({:.2}–{:.2})", c.ratio, c.lo, c.hi),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_rusts_position_in_words() {
        assert_eq!(describe(0.5, Metric::Time), "2.00× faster");
        assert_eq!(describe(2.0, Metric::Allocs), "2.00× more allocations");
        assert_eq!(describe(1.0, Metric::Size), "equal");
        assert_eq!(
            describe(f64::INFINITY, Metric::Allocs),
            "more allocations (some vs none)"
        );
    }
}
