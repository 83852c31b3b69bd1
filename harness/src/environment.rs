//! What the report header states about the machine and the versions measured.

use std::path::Path;
use std::process::Command;

use crate::results::{CpuInfo, Environment, Noise};

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
        cpu: cpu_info(&cpuinfo),
        // The benches create their factories with the default backing, in processes with this environment.
        secret_backing: Some(securememory::default_backing().to_string()),
        virtualisation: virtualisation(),
        memlock: format!(
            "lab: {}; benchmarks of every implementation: {}",
            memlock_limit(),
            if bench_prlimit_available() {
                "prlimit --memlock=unlimited --core=0"
            } else {
                "the lab's (prlimit unavailable)"
            }
        ),
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

/// The AES-relevant flags of `/proc/cpuinfo` (x86 `flags`, Arm `Features`), family and model.
pub fn cpu_info(cpuinfo: &str) -> CpuInfo {
    let field = |names: &[&str]| {
        cpuinfo
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                names.contains(&k.trim()).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let (flags, checked): (String, &[&str]) = if cpuinfo.lines().any(|l| l.starts_with("flags")) {
        (
            field(&["flags"]),
            &["aes", "pclmulqdq", "vaes", "vpclmulqdq", "avx2", "avx512f"],
        )
    } else {
        (field(&["Features"]), &["aes", "pmull", "sha3"])
    };
    let have: Vec<&str> = flags.split_whitespace().collect();
    CpuInfo {
        vendor: field(&["vendor_id", "CPU implementer"]),
        family: field(&["cpu family", "CPU architecture"]),
        model: field(&["model", "CPU part"]),
        checked: checked.iter().map(|f| f.to_string()).collect(),
        present: checked
            .iter()
            .filter(|f| have.contains(f))
            .map(|f| f.to_string())
            .collect(),
    }
}

/// `systemd-detect-virt` (which exits 1 and prints `none` on bare metal), else `/sys/hypervisor/type`.
fn virtualisation() -> String {
    if let Ok(out) = Command::new("systemd-detect-virt").output() {
        let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !v.is_empty() {
            return v;
        }
    }
    match std::fs::read_to_string("/sys/hypervisor/type") {
        Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
        _ => "none detected (no systemd-detect-virt answer, no /sys/hypervisor)".into(),
    }
}

/// The lab process's `Max locked memory` (soft / hard), from `/proc/self/limits`.
fn memlock_limit() -> String {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                let rest = l.strip_prefix("Max locked memory")?;
                let f: Vec<&str> = rest.split_whitespace().collect();
                Some(format!(
                    "soft {} / hard {} {}",
                    f.first()?,
                    f.get(1)?,
                    f.get(2).unwrap_or(&"")
                ))
            })
        })
        .map_or_else(|| "unknown".into(), |s| s.trim().to_string())
}

/// Whether the benchmarks can run under `prlimit --memlock=unlimited --core=0` (raising the hard limit needs
/// privilege).
pub fn bench_prlimit_available() -> bool {
    available("prlimit", &["--memlock=unlimited", "--core=0", "true"])
}

/// A benchmark command, under `prlimit --memlock=unlimited --core=0` when that is allowed: every implementation
/// runs under the same limits (secrets are mlocked; core dumps off as upstream's CI runs Go's).
pub fn bench_command(exe: &Path) -> Command {
    if bench_prlimit_available() {
        let mut c = Command::new("prlimit");
        c.args(["--memlock=unlimited", "--core=0"]).arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

/// The load averages and `/proc/stat` CPU times at the start of a run.
#[derive(Debug, Clone)]
pub struct NoiseStart {
    load: Vec<f64>,
    stat: Option<(u64, u64)>,
}

/// `(steal, total)` jiffies of the `cpu` line of `/proc/stat`.
fn cpu_times() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user/nice.
    let total: u64 = v.iter().take(8).sum();
    Some((*v.get(7)?, total))
}

fn load_average() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .filter_map(|x| x.parse().ok())
        .collect()
}

/// Note the load and CPU times now; warn loudly on stderr when the machine is already busy.
pub fn noise_start() -> NoiseStart {
    let start = NoiseStart {
        load: load_average(),
        stat: cpu_times(),
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Some(l) = start.load.first()
        && *l / cores as f64 > Noise::BUSY
    {
        eprintln!(
            "lab: WARNING: the machine is busy before the run (load {l:.2} on {cores} CPUs, above {} per CPU); \
             timings will be noisy and the report says so",
            Noise::BUSY
        );
    }
    start
}

/// The noise from `start` to now.
pub fn noise_end(start: &NoiseStart) -> Noise {
    let steal_pct = match (start.stat, cpu_times()) {
        (Some((s0, t0)), Some((s1, t1))) if t1 > t0 => {
            Some((s1.saturating_sub(s0)) as f64 / (t1 - t0) as f64 * 100.0)
        }
        _ => None,
    };
    Noise {
        load_before: start.load.clone(),
        load_after: load_average(),
        steal_pct,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_info_reads_x86_and_arm_flags() {
        let x86 = "vendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\n\
                   flags\t\t: fpu sse2 aes avx2 pclmulqdq vaes\n";
        let c = cpu_info(x86);
        assert_eq!(
            (c.vendor.as_str(), c.family.as_str(), c.model.as_str()),
            ("AuthenticAMD", "25", "17")
        );
        assert_eq!(c.present, ["aes", "pclmulqdq", "vaes", "avx2"]);
        assert_eq!(c.checked.len(), 6);
        let arm = "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU part\t: 0xd0c\nFeatures\t: fp asimd aes pmull sha2\n";
        let c = cpu_info(arm);
        assert_eq!(c.present, ["aes", "pmull"]);
        assert_eq!(c.model, "0xd0c");
    }
}
