//! How the report prints numbers, cells and row labels.

use crate::results::Measurement;
use crate::scenario::Scenario;

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
pub fn published(v: f64) -> String {
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
pub fn cell(m: Option<&Measurement>) -> String {
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

/// A scenario's row label: its row, and its series when it has one.
pub fn label(s: &Scenario) -> String {
    match &s.series {
        Some(series) => format!("{} — {}", s.row, series),
        None => s.row.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_or_kept_to_three_digits() {
        assert_eq!(num(1234567.4), "1,234,567");
        assert_eq!(num(354.9), "355");
        assert_eq!(num(7.123), "7.12");
        assert_eq!(published(354.9), "354.9");
    }
}
