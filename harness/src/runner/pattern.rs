//! Anchored regular expressions that select benchmarks by name (criterion's filter and Go's `-bench`).

use std::collections::BTreeSet;

/// Anchored regexp alternation of literal names.
pub fn alternation(names: impl IntoIterator<Item = String>) -> String {
    let escaped: Vec<String> = names
        .into_iter()
        .map(|n| {
            n.chars()
                .flat_map(|c| {
                    if r"\.+*?()|[]{}^$".contains(c) {
                        vec!['\\', c]
                    } else {
                        vec![c]
                    }
                })
                .collect()
        })
        .collect();
    format!("^({})$", escaped.join("|"))
}

/// Go's `-bench` patterns for benchmark names that may have one sub-benchmark level. A pattern with a sub level
/// skips benchmarks that have no sub-benchmarks, so flat names and names with a sub level get a pattern each.
pub fn go_patterns(names: &BTreeSet<String>) -> Vec<String> {
    let flat: BTreeSet<String> = names.iter().filter(|n| !n.contains('/')).cloned().collect();
    let tops: BTreeSet<String> = names
        .iter()
        .filter_map(|n| n.split_once('/').map(|(t, _)| t.to_string()))
        .collect();
    let subs: BTreeSet<String> = names
        .iter()
        .filter_map(|n| n.split_once('/').map(|(_, s)| s.to_string()))
        .collect();
    let mut out = Vec::new();
    if !flat.is_empty() {
        out.push(alternation(flat));
    }
    if !tops.is_empty() {
        out.push(format!("{}/{}", alternation(tops), alternation(subs)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_patterns_anchor_each_level() {
        let names: BTreeSet<String> = [
            "BenchmarkEncrypt/64",
            "BenchmarkLRUGet",
            "BenchmarkEncrypt/1024",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            go_patterns(&names),
            vec![
                "^(BenchmarkLRUGet)$".to_string(),
                "^(BenchmarkEncrypt)$/^(1024|64)$".to_string()
            ]
        );
        let flat: BTreeSet<String> = ["BenchmarkA".to_string()].into();
        assert_eq!(go_patterns(&flat), vec!["^(BenchmarkA)$".to_string()]);
    }

    #[test]
    fn alternation_escapes_regex_syntax() {
        assert_eq!(
            alternation(["a.b".to_string(), "c(1)".to_string()]),
            r"^(a\.b|c\(1\))$"
        );
    }
}
