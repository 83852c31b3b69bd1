//! What the report header states about the machine and the versions measured.

use std::path::Path;
use std::process::Command;

use crate::results::Environment;

/// First line of `cmd args…`'s stdout, if it runs and succeeds.
pub fn first_line(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next()?.trim().to_string();
    (!line.is_empty()).then_some(line)
}

/// Whether `cmd` is on the PATH (it runs with `args` and exits 0).
pub fn available(cmd: &str, args: &[&str]) -> bool {
    first_line(cmd, args).is_some()
}

/// The environment of a run from the repository at `root`.
pub fn collect(root: &Path) -> Environment {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let pretty = os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| std::env::consts::OS.into());
    let kernel = first_line("uname", &["-r"]).unwrap_or_default();
    let mut env = Environment {
        cpu_model,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        os: format!("{pretty}, Linux {kernel}"),
        commit: first_line(
            "git",
            &[
                "-C",
                &root.to_string_lossy(),
                "describe",
                "--always",
                "--dirty",
            ],
        )
        .unwrap_or_else(|| "unknown".into()),
        ..Environment::default()
    };
    for (name, cmd, args) in [
        ("rustc", "rustc", &["--version"][..]),
        ("go", "go", &["version"][..]),
        ("valgrind", "valgrind", &["--version"][..]),
    ] {
        if let Some(v) = first_line(cmd, args) {
            env.toolchains.insert(name.into(), v);
        }
    }
    for krate in ["securememory", "appencryption"] {
        if let Some(v) = cargo_version(&root.join("impl").join(krate).join("Cargo.toml")) {
            env.crates.insert(krate.into(), v);
        }
    }
    env.crates
        .insert("lab".into(), env!("CARGO_PKG_VERSION").to_string());
    if let Some(v) = lock_version(&root.join("Cargo.lock"), "asherah") {
        env.crates.insert("asherah (crates.io peer)".into(), v);
    }
    if let Ok(gomod) = std::fs::read_to_string(root.join("go-baseline/go.mod")) {
        for line in gomod.lines() {
            let mut f = line.split_whitespace();
            if let (Some(module), Some(version)) = (f.next(), f.next())
                && module.starts_with("github.com/godaddy/asherah/")
            {
                env.crates.insert(module.into(), version.into());
            }
        }
    }
    env
}

fn cargo_version(manifest: &Path) -> Option<String> {
    let doc: toml::Table = std::fs::read_to_string(manifest).ok()?.parse().ok()?;
    Some(doc.get("package")?.get("version")?.as_str()?.to_string())
}

fn lock_version(lock: &Path, name: &str) -> Option<String> {
    let doc: toml::Table = std::fs::read_to_string(lock).ok()?.parse().ok()?;
    doc.get("package")?
        .as_array()?
        .iter()
        .find(|p| p.get("name").and_then(|n| n.as_str()) == Some(name))?
        .get("version")?
        .as_str()
        .map(str::to_string)
}

/// Current UTC time, RFC 3339 to the second.
pub fn now_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
