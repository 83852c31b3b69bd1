//! Running both sides: build, interleaved rounds, protection-change counts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use super::figures::{Figures, GoRound, OurRound, SCHEMA};
use super::protection_changes::{self, GoCount, OurCount};
use super::table::{self, RowKey};
use super::{GoCounts, Options, newest};
use crate::criterion_results;
use crate::environment::{self, now_utc};
use crate::go_bench;
use crate::runner::pattern::alternation;
use crate::runner::{self, target_dir};

/// criterion's flags per round: a short fixed measurement, so that a round of 42 benches takes seconds.
const CRITERION_ARGS: [&str; 9] = [
    "--warm-up-time",
    "0.05",
    "--measurement-time",
    "0.1",
    "--sample-size",
    "10",
    "--nresamples",
    "1000",
    "--noplot",
];

/// Go's `-benchtime` per round (about criterion's measurement time).
const GO_BENCHTIME: &str = "100ms";

/// Measure the rows `options` selects (see the module docs of `securememory_compare`).
pub fn run(root: &Path, options: &Options) -> Result<Figures> {
    let started = now_utc();
    let keys = table::selected(options.only.as_deref());
    if keys.is_empty() {
        bail!("--only {:?} selects no operation", options.only);
    }
    let mut notes = Vec::new();
    let sides = Sides::build(root, &mut notes)?;
    let ids: BTreeSet<String> = keys.iter().map(RowKey::our_id).collect();
    let names: BTreeSet<String> = keys.iter().map(RowKey::go_name).collect();
    let cpus: BTreeSet<u32> = keys.iter().map(|k| k.threads).collect();
    // The floor is measured with our rows, for the table's header.
    let timed: BTreeSet<String> = ids
        .iter()
        .cloned()
        .chain([table::FLOOR_ID.to_string()])
        .collect();

    let mut ours = Vec::new();
    let mut go = Vec::new();
    for round in 0..options.rounds {
        eprintln!("lab securememory: round {}/{}", round + 1, options.rounds);
        // Go first in even rounds, ours first in odd ones.
        if round % 2 == 0 {
            go.extend(sides.go_round(round, &names, &cpus)?);
            ours.extend(sides.our_round(round, &timed)?);
        } else {
            ours.extend(sides.our_round(round, &timed)?);
            go.extend(sides.go_round(round, &names, &cpus)?);
        }
    }
    let measured: BTreeSet<&str> = ours.iter().map(|r| r.id.as_str()).collect();
    for id in ids.iter().filter(|id| !measured.contains(id.as_str())) {
        notes.push(format!("the securememory bench has no {id}"));
    }

    eprintln!(
        "lab securememory: counting our protection changes ({} ops per bench)",
        options.count_ops
    );
    let our_changes = count_ours(&sides.bench, &sides.limit, false, options, &ids)?;
    let our_changes_traced = if environment::available("strace", &["-V"]) {
        count_ours(&sides.bench, &sides.limit, true, options, &ids)?
    } else {
        notes.push(
            "strace is not installed: no traced count of ours (scripts/setup.sh installs it)"
                .into(),
        );
        Vec::new()
    };
    let (go_changes, go_source) = match &sides.go {
        Some(_) => count_go(root, &options.go_counts)?,
        None => (Vec::new(), "not run (no go command)".to_string()),
    };

    Ok(Figures {
        schema: SCHEMA,
        started,
        finished: now_utc(),
        environment: environment::collect(root),
        rounds: options.rounds,
        only: options.only.clone(),
        settings: settings(&sides.limit, &cpus, options.count_ops, &go_source),
        ours,
        go,
        our_changes,
        our_changes_traced,
        go_changes,
        notes,
    })
}

/// The two executables and how to run them.
struct Sides {
    root: PathBuf,
    limit: MemlockLimit,
    bench: PathBuf,
    /// The Go mirrors' test binary; `None` without a go command.
    go: Option<PathBuf>,
    /// Where each round's criterion output goes.
    criterion_home: PathBuf,
}

impl Sides {
    fn build(root: &Path, notes: &mut Vec<String>) -> Result<Sides> {
        let target = target_dir(root);
        let bench = build_bench(root)?;
        let go = if environment::available("go", &["version"]) {
            Some(runner::go::build(root, &target, "./securememory")?.0)
        } else {
            notes.push("the go command is not installed: no Go column".into());
            None
        };
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        Ok(Sides {
            root: root.to_path_buf(),
            limit: MemlockLimit::detect(),
            bench,
            go,
            criterion_home: target.join("lab-securememory").join(stamp),
        })
    }

    /// One run of the Go mirrors `names` at every `-cpu` of `cpus` (nothing without Go).
    fn go_round(
        &self,
        round: u32,
        names: &BTreeSet<String>,
        cpus: &BTreeSet<u32>,
    ) -> Result<Vec<GoRound>> {
        let Some(exe) = &self.go else {
            return Ok(Vec::new());
        };
        let out = self
            .limit
            .command(exe)
            .current_dir(self.root.join("go-baseline/securememory"))
            .args(["-test.run", "^$", "-test.count", "1", "-test.timeout", "0"])
            .args(["-test.bench", &alternation(names.iter().cloned())])
            .args(["-test.benchtime", GO_BENCHTIME])
            .args(["-test.cpu", &join(cpus)])
            .stderr(Stdio::inherit())
            .output()
            .context("running the Go mirrors")?;
        let text = checked("the Go mirrors", out)?;
        Ok(go_bench::parse_lines(&text)
            .into_iter()
            .filter_map(|l| {
                Some(GoRound {
                    ns_per_op: *l.metrics.get("ns/op")?,
                    name: l.name,
                    cpu: l.cpu,
                    round,
                })
            })
            .collect())
    }

    /// One run of our bench over `ids`: each id's mean ns/op of the round.
    fn our_round(&self, round: u32, ids: &BTreeSet<String>) -> Result<Vec<OurRound>> {
        let home = self.criterion_home.join(format!("r{round}"));
        std::fs::create_dir_all(&home)?;
        let out = self
            .limit
            .command(&self.bench)
            .env("CRITERION_HOME", &home)
            .arg("--bench")
            .args(CRITERION_ARGS)
            .arg(alternation(ids.iter().cloned()))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .context("running the securememory bench")?;
        checked("the securememory bench", out)?;
        Ok(criterion_results::load_sample_means(&home)?
            .into_iter()
            .filter(|(id, _)| ids.contains(id))
            .map(|(id, ns_per_op)| OurRound {
                id,
                round,
                ns_per_op,
            })
            .collect())
    }
}

/// How each side was run, for the table's header.
fn settings(
    limit: &MemlockLimit,
    cpus: &BTreeSet<u32>,
    count_ops: u64,
    go_source: &str,
) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("memlock (both sides)".into(), limit.note.clone()),
        (
            "ours".into(),
            format!(
                "`securememory` criterion bench, `{}` per round; ns/op = the round's total time ÷ total \
                 iterations",
                CRITERION_ARGS.join(" ")
            ),
        ),
        (
            "Go".into(),
            format!(
                "`go-baseline/securememory` test binary, `-test.benchtime {GO_BENCHTIME} -test.count 1 -test.cpu \
                 {}` per round; ns/op as Go reports it (total time ÷ b.N)",
                join(cpus)
            ),
        ),
        (
            "protection changes".into(),
            format!(
                "ours: `securememory --count {count_ops}` (securememory's counter around that many ops), once as \
                 is and once under `strace -f -c -e trace=mprotect`; Go: {go_source}"
            ),
        ),
    ])
}

/// The memlock limit both sides run under: raised to unlimited through `prlimit` where the process may, else the
/// current one for both.
struct MemlockLimit {
    prlimit: bool,
    note: String,
}

impl MemlockLimit {
    fn detect() -> MemlockLimit {
        if environment::available("prlimit", &["--memlock=unlimited", "true"]) {
            return MemlockLimit {
                prlimit: true,
                note: "unlimited (prlimit)".into(),
            };
        }
        let current = environment::first_line("sh", &["-c", "ulimit -l"]).unwrap_or_default();
        MemlockLimit {
            prlimit: false,
            note: format!(
                "{current} KiB, as inherited (raising it to unlimited is not permitted here)"
            ),
        }
    }

    fn command(&self, exe: &Path) -> Command {
        if self.prlimit {
            let mut c = Command::new("prlimit");
            c.arg("--memlock=unlimited").arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }
}

/// The `securememory` bench's executable, built with the features `lab report` builds it with.
fn build_bench(root: &Path) -> Result<PathBuf> {
    let features = runner::compare::features(root, false)?;
    runner::criterion::build(
        root,
        &BTreeSet::from(["securememory".to_string()]),
        &features,
        None,
    )?
    .remove("securememory")
    .context("cargo built no securememory bench executable")
}

/// Our protection changes: the bench's `--count` mode, kept to the selected ids; `traced`: with the bench under
/// `strace -f -e trace=mprotect`, as Go's counts are taken.
fn count_ours(
    bench: &Path,
    limit: &MemlockLimit,
    traced: bool,
    options: &Options,
    ids: &BTreeSet<String>,
) -> Result<Vec<OurCount>> {
    let mut cmd = if traced {
        // The flags scripts/go-mprotect-count.sh uses, so that both sides are slowed alike.
        let seccomp = Command::new("strace")
            .args(["--seccomp-bpf", "-f", "-c", "-o", "/dev/null", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let mut c = limit.command(Path::new("strace"));
        if seccomp {
            c.arg("--seccomp-bpf");
        }
        c.args(["-f", "-c", "-e", "trace=mprotect", "-o", "/dev/null"])
            .arg(bench);
        c
    } else {
        limit.command(bench)
    };
    let out = cmd
        .arg("--count")
        .arg(options.count_ops.to_string())
        .arg(options.only.as_deref().unwrap_or(""))
        .stderr(Stdio::inherit())
        .output()
        .context("running the securememory bench's --count mode")?;
    let text = checked("securememory --count", out)?;
    Ok(protection_changes::parse_our_counts(&text)?
        .into_iter()
        .filter(|c| ids.contains(&c.id))
        .collect())
}

/// Go's mprotect counts and a note saying where they come from.
fn count_go(root: &Path, source: &GoCounts) -> Result<(Vec<GoCount>, String)> {
    let results = root.join("reports/results");
    let path = match source {
        GoCounts::File(path) => path.clone(),
        GoCounts::Newest => match newest(&results, "go-mprotect-", ".txt") {
            Some(path) => path,
            None => recount(root)?,
        },
        GoCounts::Recount => recount(root)?,
    };
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let counts = protection_changes::parse_go_counts(&text)
        .with_context(|| format!("parsing {}", path.display()))?;
    let shown = path
        .strip_prefix(root)
        .unwrap_or(&path)
        .display()
        .to_string();
    Ok((
        counts,
        format!("strace -c calibration `{shown}` (scripts/go-mprotect-count.sh)"),
    ))
}

/// Run `scripts/go-mprotect-count.sh`; the file it wrote.
fn recount(root: &Path) -> Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let path = root
        .join("reports/results")
        .join(format!("go-mprotect-{stamp}.txt"));
    eprintln!("lab securememory: counting Go's mprotect calls (scripts/go-mprotect-count.sh)");
    let status = Command::new("bash")
        .arg(root.join("scripts/go-mprotect-count.sh"))
        .env("OUT", &path)
        .status()
        .context("running scripts/go-mprotect-count.sh")?;
    if !status.success() {
        bail!("scripts/go-mprotect-count.sh failed");
    }
    Ok(path)
}

/// `out`'s stdout when it exited 0, else an error with the end of its output.
fn checked(what: &str, out: std::process::Output) -> Result<String> {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stdout.lines().chain(stderr.lines()).collect();
        bail!(
            "{what} exited with {}:\n{}",
            out.status,
            tail[tail.len().saturating_sub(20)..].join("\n")
        );
    }
    Ok(stdout)
}

fn join(cpus: &BTreeSet<u32>) -> String {
    cpus.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
