//! The regression gate on this commit, and proof that it can fail: `lab gate` must pass against the committed
//! baseline and fail (exit 1, a REGRESSION row for DRR serialization only) against a doctored copy of it in which
//! that one scenario's count is 10 % lower — the same verdict a build that made DRR serialization 11 % slower
//! would get, without a deliberately slowed variant of the library.
//!
//! Runs the instruction-count benches twice under valgrind (about two minutes), so it is `#[ignore]`d in the
//! everyday `cargo test`; scripts/test.sh (CI) runs it explicitly:
//! `cargo test -p lab --all-features --test gate_selftest -- --ignored --nocapture`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The scenario the doctored baseline lowers, and one it leaves alone.
const LOWERED: &str = "drr_serialize_1024";
const UNTOUCHED: &str = "hot_decrypt_warm_64";

fn gate(baseline: Option<&Path>) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lab"));
    cmd.arg("gate");
    if let Some(path) = baseline {
        cmd.arg("--baseline").arg(path);
    }
    let out = cmd.output().expect("run lab gate");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("lab gate (baseline {baseline:?}):\n{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code(), stdout)
}

/// A copy of the committed baseline with `LOWERED`'s instructions per op cut by 10 %, in a temporary file.
fn doctored_baseline() -> PathBuf {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/baseline/icount.json");
    let text = std::fs::read_to_string(&committed).expect("read the committed baseline");
    let mut baseline: serde_json::Value =
        serde_json::from_str(&text).expect("parse the committed baseline");
    let count = baseline["instructions_per_op"][LOWERED]
        .as_f64()
        .unwrap_or_else(|| panic!("the committed baseline has no {LOWERED} count"));
    baseline["instructions_per_op"][LOWERED] = serde_json::json!(count * 0.9);
    let path = std::env::temp_dir().join(format!("lab-gate-selftest-{}.json", std::process::id()));
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&baseline).expect("serialize"),
    )
    .expect("write the copy");
    path
}

fn row<'a>(table: &'a str, scenario: &str) -> &'a str {
    let prefix = format!("| {scenario} |");
    table
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {scenario} row in:\n{table}"))
}

#[test]
#[ignore = "slow: runs the gungraun benches twice; run by scripts/test.sh"]
fn gate_passes_on_the_committed_baseline_and_fails_on_one_lowered_by_ten_percent() {
    let (code, table) = gate(None);
    assert_eq!(code, Some(0), "the gate fails on this commit:\n{table}");
    assert!(!table.contains("REGRESSION"), "{table}");
    row(&table, LOWERED);

    let doctored = doctored_baseline();
    let (code, table) = gate(Some(&doctored));
    std::fs::remove_file(&doctored).ok();
    assert_eq!(
        code,
        Some(1),
        "the gate passed against a baseline 10 % below this build:\n{table}"
    );
    let lowered = row(&table, LOWERED);
    assert!(lowered.contains("**REGRESSION**"), "{lowered}");
    let untouched = row(&table, UNTOUCHED);
    assert!(
        untouched.ends_with("| ok |"),
        "only {LOWERED} was lowered: {untouched}"
    );
}
