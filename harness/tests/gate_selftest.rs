//! The regression gate on this commit, and proof that it can fail: `lab gate` must pass on the unchanged build and
//! fail (exit 1, a REGRESSION row for DRR serialization) on a build with appencryption's `gate-selftest-slowdown`
//! feature, which adds work to the record-writing hot path.
//!
//! Builds and runs the instruction-count benches twice under valgrind (about two minutes), so it is `#[ignore]`d
//! in the everyday `cargo test`; scripts/test.sh (CI) runs it explicitly:
//! `cargo test -p lab --all-features --test gate_selftest -- --ignored --nocapture`.

use std::process::Command;

fn gate(features: &[&str]) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lab"));
    cmd.arg("gate");
    for f in features {
        cmd.args(["--features", f]);
    }
    let out = cmd.output().expect("run lab gate");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("lab gate {features:?}:\n{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code(), stdout)
}

#[test]
#[ignore = "slow: builds and runs the gungraun benches twice; run by scripts/test.sh"]
fn gate_passes_on_this_commit_and_fails_on_a_deliberately_slowed_build() {
    let (code, table) = gate(&[]);
    assert_eq!(code, Some(0), "the gate fails on this commit:\n{table}");
    assert!(!table.contains("REGRESSION"), "{table}");
    assert!(
        table.contains("| drr_serialize_1024 |"),
        "the gate must measure DRR serialization:\n{table}"
    );

    let (code, table) = gate(&["gate-selftest-slowdown"]);
    assert_eq!(
        code,
        Some(1),
        "the gate passed a deliberately slowed build:\n{table}"
    );
    let row = table
        .lines()
        .find(|l| l.starts_with("| drr_serialize_1024 |"))
        .expect("a DRR serialization row");
    assert!(row.contains("**REGRESSION**"), "{row}");
    let untouched = table
        .lines()
        .find(|l| l.starts_with("| hot_decrypt_warm_64 |"))
        .expect("a hot decrypt row");
    assert!(
        untouched.ends_with("| ok |"),
        "the slowdown touches only record writing: {untouched}"
    );
}
