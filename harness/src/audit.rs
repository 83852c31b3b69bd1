//! `lab audit`: run the loom models (as scripts/test.sh does) and write `reports/AUDIT.md` — each model, the
//! property its name states, the file's description of what is modelled, and how many interleavings loom explored.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

/// One suite of loom models.
pub struct Suite {
    /// Crate.
    pub krate: &'static str,
    /// Source file of the models (its `//!` doc says what is modelled).
    pub file: &'static str,
    /// `cargo test` arguments after `-p <crate>`.
    pub args: &'static [&'static str],
    /// Test-name filter.
    pub filter: &'static str,
}

/// The models scripts/test.sh runs.
pub const SUITES: [Suite; 3] = [
    Suite {
        krate: "securememory",
        file: "impl/securememory/src/loom_models.rs",
        args: &["--release", "--lib"],
        filter: "loom_models",
    },
    Suite {
        krate: "appencryption",
        file: "impl/appencryption/src/cache/key_cache_loom.rs",
        args: &["--no-default-features", "--release", "--lib"],
        filter: "cache::key_cache_loom",
    },
    Suite {
        krate: "appencryption",
        file: "impl/appencryption/src/cache/session_usage_loom.rs",
        args: &["--no-default-features", "--release", "--lib"],
        filter: "cache::session_usage_loom",
    },
];

/// One model's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Test path.
    pub name: String,
    /// Interleavings explored, if the model printed them.
    pub interleavings: Option<u64>,
    /// Preemption bound it ran with.
    pub bound: Option<String>,
    /// `ok` / `FAILED`.
    pub result: String,
}

/// Parse libtest output (run with `--nocapture --test-threads=1`, so a model's `loom-model:` line may share the
/// line of its `test … ...` header and the result may follow on its own line).
pub fn parse(output: &str) -> Vec<Model> {
    let mut models: Vec<Model> = Vec::new();
    let mut current: Option<usize> = None;
    for line in output.lines() {
        let mut rest = line.trim();
        if let Some(header) = rest.strip_prefix("test ")
            && let Some((name, tail)) = header.split_once(" ... ")
        {
            let index = match models.iter().position(|m| m.name == name) {
                Some(i) => i,
                None => {
                    models.push(Model {
                        name: name.into(),
                        interleavings: None,
                        bound: None,
                        result: "did not finish".into(),
                    });
                    models.len() - 1
                }
            };
            current = Some(index);
            rest = tail.trim();
        }
        if let Some(pos) = rest.find("loom-model: ") {
            let report = &rest[pos + "loom-model: ".len()..];
            if let Some((name, tail)) = report.split_once(" explored ") {
                let index = match models.iter().position(|m| m.name == name) {
                    Some(i) => i,
                    None => {
                        models.push(Model {
                            name: name.into(),
                            interleavings: None,
                            bound: None,
                            result: "did not finish".into(),
                        });
                        models.len() - 1
                    }
                };
                let m = &mut models[index];
                m.interleavings = tail.split_whitespace().next().and_then(|n| n.parse().ok());
                m.bound = tail
                    .split_once("preemption bound ")
                    .map(|(_, b)| b.strip_suffix(')').unwrap_or(b).to_string());
                current = Some(index);
            }
            continue;
        }
        if let Some(i) = current
            && matches!(rest, "ok" | "FAILED" | "ignored")
        {
            models[i].result = rest.to_string();
            current = None;
        }
    }
    models
}

/// `loom_close_racing_with_accesses_never_touches_freed_memory` → "close racing with accesses never touches freed
/// memory".
pub fn property(name: &str) -> String {
    let last = name.rsplit("::").next().unwrap_or(name);
    last.trim_start_matches("loom_").replace('_', " ")
}

/// The first paragraph of a file's `//!` docs.
fn module_doc(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map_while(|l| l.strip_prefix("//!"))
        .map(str::trim)
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Run every suite and return the AUDIT.md text and whether all passed.
pub fn run(root: &Path) -> Result<(String, bool)> {
    let loom_target = std::env::var_os("LOOM_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| crate::runner::target_dir(root).join("loom"));
    let bound = std::env::var("LOOM_MAX_PREEMPTIONS").unwrap_or_else(|_| "3".into());
    let mut md = String::from(
        "# Concurrency audit (loom)\n\nGenerated by `lab audit`; regenerate with `cargo run -p lab --release -- audit`.\n\n",
    );
    let _ = writeln!(
        md,
        "Each model runs the crate's real code with its `sync` shim switched to loom's types (`--cfg loom`), and \
         loom explores every interleaving of the model's threads up to {bound} preemptions \
         (`LOOM_MAX_PREEMPTIONS`). The property is the model's name; a model passes when no explored interleaving \
         violates its assertions.\n"
    );
    let mut all_ok = true;
    for suite in &SUITES {
        eprintln!(
            "lab: loom models of {} (release build with --cfg loom)",
            suite.krate
        );
        let out = Command::new("cargo")
            .current_dir(root)
            .env("RUSTFLAGS", "--cfg loom")
            .env("CARGO_TARGET_DIR", &loom_target)
            .env("LOOM_MAX_PREEMPTIONS", &bound)
            .args(["test", "-p", suite.krate])
            .args(suite.args)
            .arg(suite.filter)
            .args(["--", "--nocapture", "--test-threads=1"])
            .stderr(Stdio::inherit())
            .output()
            .context("running cargo test")?;
        let text = String::from_utf8_lossy(&out.stdout);
        let models = parse(&text);
        all_ok &= out.status.success() && !models.is_empty();
        let _ = writeln!(
            md,
            "## `{}` — `{}`\n\n{}\n",
            suite.krate,
            suite.file,
            module_doc(&root.join(suite.file))
        );
        let _ = writeln!(
            md,
            "| model | property proved (within the bound) | interleavings explored | result |\n|---|---|---|---|"
        );
        for m in &models {
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} |",
                m.name.rsplit("::").next().unwrap_or(&m.name),
                property(&m.name),
                m.interleavings.map_or("–".into(), |n| n.to_string()),
                m.result
            );
        }
        if models.is_empty() {
            let _ = writeln!(md, "| – | no model ran | – | {} |", out.status);
        }
        let _ = writeln!(md);
    }
    Ok((md, all_ok))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_models_and_their_interleavings() {
        let out = "running 2 tests\n\
                   test loom_models::loom_a_b ... loom-model: loom_models::loom_a_b explored 1234 interleavings (preemption bound Some(3))\n\
                   ok\n\
                   test loom_models::loom_c ... FAILED\n";
        let m = parse(out);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].interleavings, Some(1234));
        assert_eq!(m[0].bound.as_deref(), Some("Some(3)"));
        assert_eq!(m[0].result, "ok");
        assert_eq!((m[1].interleavings, m[1].result.as_str()), (None, "FAILED"));
        assert_eq!(
            property("loom_models::loom_readers_share_a_window"),
            "readers share a window"
        );
    }
}
