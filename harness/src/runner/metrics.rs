//! The allocation/size runner: `benches/metrics.rs` prints one `lab-metric {json}` line per id.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Run the metrics bench once; returns id → its JSON line.
pub fn run(exe: &Path) -> Result<BTreeMap<String, serde_json::Value>> {
    eprintln!("lab: counting allocations (benches/metrics.rs)");
    let out = Command::new(exe)
        .arg("--bench")
        .stderr(Stdio::inherit())
        .output()
        .context("running the metrics bench")?;
    if !out.status.success() {
        bail!("the metrics bench failed");
    }
    let mut map = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(json) = line.strip_prefix("lab-metric ") {
            let v: serde_json::Value = serde_json::from_str(json)?;
            let id = v["id"]
                .as_str()
                .context("a metric line without id")?
                .to_string();
            map.insert(id, v);
        }
    }
    Ok(map)
}
