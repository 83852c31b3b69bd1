//! `lab interop`: run the Go↔Rust interop suites (`harness/tests/interop_*.rs`) and summarise them.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

/// Totals of libtest's `test result:` lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Passed tests.
    pub passed: u64,
    /// Failed tests.
    pub failed: u64,
    /// Ignored tests.
    pub ignored: u64,
}

/// Sum every `test result: ok. N passed; M failed; K ignored; …` line.
pub fn totals(output: &str) -> Totals {
    let mut t = Totals::default();
    for line in output.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().skip_while(|w| w.ends_with('.'));
            if let (Some(n), Some(what)) = (words.next(), words.next()) {
                let n: u64 = n.parse().unwrap_or(0);
                match what {
                    "passed" => t.passed += n,
                    "failed" => t.failed += n,
                    "ignored" => t.ignored += n,
                    _ => {}
                }
            }
        }
    }
    t
}

/// The interop test targets present.
pub fn suites(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("harness/tests"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| n.starts_with("interop_") && n.ends_with(".rs"))
                .map(|n| n.trim_end_matches(".rs").to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Run every interop suite; returns the markdown summary and whether all passed.
pub fn run(root: &Path) -> Result<(String, bool)> {
    let suites = suites(root);
    if suites.is_empty() {
        return Ok((
            "No interop suites (harness/tests/interop_*.rs) in this checkout.\n".into(),
            false,
        ));
    }
    let mut md = String::from("| suite | passed | failed | ignored |\n|---|---|---|---|\n");
    let mut ok = true;
    for suite in &suites {
        let out = Command::new("cargo")
            .current_dir(root)
            .args(["test", "-p", "lab", "--test", suite])
            .stderr(Stdio::inherit())
            .output()
            .context("running cargo test")?;
        let t = totals(&String::from_utf8_lossy(&out.stdout));
        ok &= out.status.success() && t.failed == 0;
        md.push_str(&format!(
            "| {suite} | {} | {} | {} |\n",
            t.passed, t.failed, t.ignored
        ));
    }
    Ok((md, ok))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_libtest_result_lines() {
        let out = "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.1s\n\
                   test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured\n";
        assert_eq!(
            totals(out),
            Totals {
                passed: 4,
                failed: 2,
                ignored: 1
            }
        );
    }
}
