//! `lab compare <git-ref>`: our benches at another commit against this checkout's, interleaved in rounds. The other
//! commit is checked out in a git worktree of its own under the build cache and built into a target dir of its own
//! (cargo confuses two checkouts that share one), both reused across runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::criterion::{self, RustUnit};
use super::settings::Settings;
use crate::results::{BaselineBuild, Implementation, Measurement, Sample};
use crate::scenario::Scenario;

/// The build cache: `$LAB_CACHE`, else `~/.cache/asherah-lab`.
pub fn cache_dir() -> PathBuf {
    if let Some(c) = std::env::var_os("LAB_CACHE") {
        return PathBuf::from(c);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache/asherah-lab")
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Resolve `git_ref` in the repository at `root` (a shallow clone must be deepened first: `git fetch --unshallow`).
pub fn resolve(root: &Path, git_ref: &str) -> Result<BaselineBuild> {
    let commit = git(
        root,
        &["rev-parse", "--verify", &format!("{git_ref}^{{commit}}")],
    )
    .with_context(|| format!("{git_ref:?} names no commit of this repository"))?;
    let subject = git(root, &["log", "-1", "--format=%s", &commit])?;
    Ok(BaselineBuild {
        git_ref: git_ref.to_string(),
        commit,
        subject,
        why: String::new(),
    })
}

/// Where the other commit is checked out and built: one worktree and one target dir per repository (named after
/// its path), reused by every comparison, so a second run rebuilds only what changed.
fn places(root: &Path) -> (PathBuf, PathBuf) {
    let name: String = root
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let base = cache_dir().join("compare").join(name.trim_matches('_'));
    (base.join("worktree"), base.join("target"))
}

/// Check `commit` out in the comparison worktree (created on first use).
fn checkout(root: &Path, worktree: &Path, commit: &str) -> Result<()> {
    if worktree.join(".git").exists() {
        git(
            worktree,
            &["checkout", "--quiet", "--detach", "--force", commit],
        )?;
        return Ok(());
    }
    // A worktree directory deleted by hand leaves a stale registration behind.
    git(root, &["worktree", "prune"])?;
    if let Some(parent) = worktree.parent() {
        std::fs::create_dir_all(parent)?;
    }
    git(
        root,
        &[
            "worktree",
            "add",
            "--quiet",
            "--detach",
            &worktree.to_string_lossy(),
            commit,
        ],
    )?;
    Ok(())
}

/// The comparison's result: both builds' values per scenario, and what could not be compared.
pub struct Comparison {
    /// `Implementation::Before` (the other commit) and `Implementation::Rust` (this checkout) per scenario.
    pub measurements: Vec<Measurement>,
    /// Scenarios left out, with the reason.
    pub skipped: Vec<String>,
}

/// Run `scenarios`' Rust benches of this checkout (`root`) and of `base`, interleaved over `settings.rounds`.
pub fn run(
    root: &Path,
    scenarios: &[&Scenario],
    settings: &Settings,
    base: &BaselineBuild,
) -> Result<Comparison> {
    let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in scenarios {
        if let Some(r) = s.rust.as_ref().filter(|r| r.bench != "metrics") {
            wanted
                .entry(r.bench.clone())
                .or_default()
                .insert(r.id.clone());
        }
    }
    let benches: BTreeSet<String> = wanted.keys().cloned().collect();
    let slope: BTreeSet<String> = scenarios
        .iter()
        .filter(|s| s.fixed_cost)
        .filter_map(|s| s.rust.as_ref().map(|r| r.id.clone()))
        .collect();
    let (worktree, target) = places(root);
    eprintln!(
        "lab compare: {} ({}) checked out in {}",
        base.git_ref,
        &base.commit[..12.min(base.commit.len())],
        worktree.display()
    );
    checkout(root, &worktree, &base.commit)?;
    let after = criterion::build(root, &benches, &features(root, settings.peer)?, None)?;
    let before = criterion::build(
        &worktree,
        &benches,
        &features(&worktree, false)?,
        Some(&target),
    )?;
    let mut skipped = Vec::new();
    let mut units = Vec::new();
    for (bench, ids) in wanted {
        let (Some(new_exe), Some(old_exe)) = (after.get(&bench), before.get(&bench)) else {
            skipped.push(format!("§2: bench {bench} is not built at both commits"));
            continue;
        };
        let old_ids = list_ids(old_exe)?;
        let (both, gone): (BTreeSet<String>, BTreeSet<String>) =
            ids.into_iter().partition(|id| old_ids.contains(id));
        for id in gone {
            skipped.push(format!("§2: {id} has no bench at {}", base.git_ref));
        }
        if both.is_empty() {
            continue;
        }
        for (implementation, exe) in [
            (Implementation::Before, old_exe),
            (Implementation::Rust, new_exe),
        ] {
            units.push(RustUnit {
                bench: bench.clone(),
                implementation,
                exe: exe.clone(),
                ids: both.clone(),
                slope: slope.clone(),
            });
        }
    }
    let raw = rounds(&units, settings, &target)?;
    let mut measurements = Vec::new();
    for s in scenarios {
        let Some(r) = &s.rust else { continue };
        for imp in [Implementation::Before, Implementation::Rust] {
            if let Some(samples) = raw.get(&(imp, r.id.clone())) {
                measurements.extend(Measurement::new(
                    &s.id,
                    imp,
                    s.metric,
                    &r.id,
                    samples.clone(),
                ));
            }
        }
    }
    Ok(Comparison {
        measurements,
        skipped,
    })
}

/// The `lab` features to build with: `ring` (and `peer` for a report with the peer) where the checkout's
/// harness/Cargo.toml declares them (an older commit may not).
pub fn features(checkout: &Path, peer: bool) -> Result<Vec<String>> {
    let manifest = checkout.join("harness/Cargo.toml");
    let doc: toml::Table = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?
        .parse()
        .with_context(|| format!("parsing {}", manifest.display()))?;
    let declared = doc.get("features").and_then(|f| f.as_table());
    Ok(["ring", "peer"]
        .into_iter()
        .filter(|f| *f == "ring" || peer)
        .filter(|f| declared.is_some_and(|d| d.contains_key(*f)))
        .map(String::from)
        .collect())
}

/// The benchmark ids a criterion binary holds (`--list`).
fn list_ids(exe: &Path) -> Result<BTreeSet<String>> {
    let out = Command::new(exe)
        .args(["--bench", "--list"])
        .output()
        .with_context(|| format!("running {} --list", exe.display()))?;
    if !out.status.success() {
        bail!("{} --list failed", exe.display());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": benchmark"))
        .map(String::from)
        .collect())
}

type Raw = BTreeMap<(Implementation, String), Vec<Sample>>;

/// Every unit once per round, the order alternating between rounds.
fn rounds(units: &[RustUnit], settings: &Settings, target: &Path) -> Result<Raw> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut raw = Raw::new();
    for round in 0..settings.rounds {
        let order: Vec<&RustUnit> = if round % 2 == 0 {
            units.iter().collect()
        } else {
            units.iter().rev().collect()
        };
        for unit in order {
            eprintln!(
                "lab compare: round {}/{}: {} {}",
                round + 1,
                settings.rounds,
                unit.implementation.label(),
                unit.bench
            );
            let side = match unit.implementation {
                Implementation::Before => "before",
                _ => "after",
            };
            let home = target
                .join("lab-compare")
                .join(&stamp)
                .join(format!("r{round}"))
                .join(side)
                .join(&unit.bench);
            for (id, value) in criterion::run(unit, &home, &settings.criterion_args)?.points {
                raw.entry((unit.implementation, id))
                    .or_default()
                    .push(Sample { round, value });
            }
        }
    }
    Ok(raw)
}
