//! SecureMemory benches: one per Go benchmark of `go-baseline/securememory` (upstream's securememory benchmarks,
//! mirrored: docs/compatibility.md#go-benchmarks-mirrored), for both secret kinds, on each backing, plus the
//! syscall floor.
//!
//! Ids are `<config>/<operation>/<mode>`:
//! - `<config>` is the secret kind and how its pages are backed:
//!   - `protected` (Go package `protectedmemory`, `BenchmarkProtectedMemory…`) and `guarded` (Go package
//!     `memguard`, `BenchmarkMemguard…`) on mmap + mlock pages, Go's only backing: the rows compared with Go;
//!   - `protected_memfd` and `guarded_memfd` on memfd_secret(2) pages, only where the kernel has the call (the
//!     bench says so on stderr when it leaves them out);
//!   - `protected_unlocked` and `guarded_unlocked`: secrets neither locked nor protected (securememory's
//!     `test-util` factory), so that the difference to the plain rows is what the protection costs.
//! - `<operation>` is Go's suffix in snake case, e.g. `secret_with_bytes` ↔ `Secret_WithBytes`.
//! - `<mode>` is the number of threads: `single` (the op in a loop on the bench thread; Go's `-cpu 1`),
//!   `parallel` (2 workers sharing the op count, wall time ÷ ops; Go's `RunParallel` at `-cpu 2`) and `parallel4`
//!   (4 workers; `-cpu 4`, oversubscribed on a 2-core machine). The unlocked and memfd configurations have
//!   `single` and `parallel` only, and no concurrent-close benches.
//!
//! For example `protected/secret_with_bytes/parallel` ↔ `BenchmarkProtectedMemorySecret_WithBytes` at `-cpu 2`.
//! Every op does what Go's loop body does: the same 32-byte secret, the same content comparison.
//!
//! `--count N [PATTERN]` replaces criterion: it runs N ops of every bench whose id contains PATTERN (the floor
//! and the `final_*` benches aside) and prints, per bench, the `mprotect` calls securememory made meanwhile
//! (`secret_metrics().protection_changes`), as `lab-protection-changes <id> <workers> <ops> <changes>` lines
//! (`lab securememory` reads them).

use std::hint::black_box;
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use lab::parallel::run_parallel;
use securememory::{Backing, MemoryKind, ProtectionFloor, Secret, SecretFactory, secret_metrics};

const VALUE: &[u8; 32] = b"thisismy32bytesecretthatiwilluse";

/// Number of secrets in the `final_*` benches.
const MANY: usize = 100;

/// How many threads run the ops: the `<mode>` part of an id.
#[derive(Clone, Copy)]
enum Mode {
    /// The bench thread alone (Go's `-cpu 1`).
    Single,
    /// 2 workers (Go's `-cpu 2`).
    Parallel,
    /// 4 workers (Go's `-cpu 4`).
    Parallel4,
}

impl Mode {
    const ALL: [Mode; 3] = [Mode::Single, Mode::Parallel, Mode::Parallel4];

    fn name(self) -> &'static str {
        match self {
            Mode::Single => "single",
            Mode::Parallel => "parallel",
            Mode::Parallel4 => "parallel4",
        }
    }

    fn workers(self) -> usize {
        match self {
            Mode::Single => 1,
            Mode::Parallel => 2,
            Mode::Parallel4 => 4,
        }
    }
}

/// A row family: its id prefix, the factory its secrets come from, and which benches it has.
struct Config {
    name: &'static str,
    factory: SecretFactory,
    modes: &'static [Mode],
    /// Whether it has the two concurrent-close benches.
    concurrent_close: bool,
}

impl Config {
    fn new_secret(&self) -> Secret {
        self.factory
            .new_secret(&mut VALUE.to_vec())
            .expect("create secret")
    }
}

/// Every configuration this machine can run: the memfd_secret ones only where a secret can be made on that
/// backing.
fn configs() -> Vec<Config> {
    let mut out = Vec::new();
    for (kind, name) in [
        (MemoryKind::Protected, "protected"),
        (MemoryKind::Guarded, "guarded"),
    ] {
        out.push(Config {
            name,
            factory: SecretFactory::builder()
                .kind(kind)
                .backing(Backing::Mmap)
                .build(),
            modes: &Mode::ALL,
            concurrent_close: true,
        });
    }
    for (kind, name) in [
        (MemoryKind::Protected, "protected_memfd"),
        (MemoryKind::Guarded, "guarded_memfd"),
    ] {
        if !Backing::MemfdSecret.is_available() {
            eprintln!(
                "securememory bench: no {name}/* rows: the kernel has no usable memfd_secret"
            );
            continue;
        }
        out.push(Config {
            name,
            factory: SecretFactory::builder()
                .kind(kind)
                .backing(Backing::MemfdSecret)
                .build(),
            modes: &[Mode::Single, Mode::Parallel],
            concurrent_close: false,
        });
    }
    for (kind, name) in [
        (MemoryKind::Protected, "protected_unlocked"),
        (MemoryKind::Guarded, "guarded_unlocked"),
    ] {
        out.push(Config {
            name,
            factory: SecretFactory::builder().kind(kind).unprotected().build(),
            modes: &[Mode::Single, Mode::Parallel],
            concurrent_close: false,
        });
    }
    out
}

/// The Go loop bodies, one per benchmark. Each takes the secret and a per-worker 32-byte buffer.
#[derive(Clone, Copy)]
enum Op {
    WithBytes,
    WithBytesFunc,
    ReadAll,
    ReadFull,
    Read,
}

impl Op {
    const ALL: [Op; 5] = [
        Op::WithBytes,
        Op::WithBytesFunc,
        Op::ReadAll,
        Op::ReadFull,
        Op::Read,
    ];

    fn name(self) -> &'static str {
        match self {
            Op::WithBytes => "secret_with_bytes",
            Op::WithBytesFunc => "secret_with_bytes_func",
            Op::ReadAll => "reader_read_all",
            Op::ReadFull => "reader_read_full",
            Op::Read => "reader_read",
        }
    }

    fn run(self, secret: &Secret, buf: &mut [u8; 32]) {
        match self {
            Op::WithBytes => {
                let same = secret.with_bytes(|b| b == VALUE).expect("with_bytes");
                assert!(same);
            }
            Op::WithBytesFunc => {
                let same = secret
                    .with_bytes_func(|b| Ok::<_, securememory::Error>(b == VALUE))
                    .expect("with_bytes_func");
                assert!(same);
            }
            Op::ReadAll => {
                let mut out = Vec::new();
                secret.reader().read_to_end(&mut out).expect("read_to_end");
                assert_eq!(out, VALUE);
            }
            Op::ReadFull => {
                secret.reader().read_exact(buf).expect("read_exact");
                assert_eq!(buf, VALUE);
            }
            Op::Read => {
                let mut reader = secret.reader();
                let mut out = Vec::new();
                loop {
                    let n = reader.read(buf).expect("read");
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&buf[..n]);
                }
                assert_eq!(out, VALUE);
            }
        }
    }

    /// `iters` ops on `workers` threads (the bench thread alone for 1); the wall time they took.
    fn run_many(self, secret: &Secret, iters: u64, workers: usize) -> Duration {
        if workers == 1 {
            let mut buf = [0u8; 32];
            let started = Instant::now();
            for _ in 0..iters {
                self.run(black_box(secret), &mut buf);
            }
            return started.elapsed();
        }
        run_parallel(iters, workers, |_| {
            let mut buf = [0u8; 32];
            move || self.run(black_box(secret), &mut buf)
        })
    }
}

/// Go's two `…ConcurrentClose` benches (tag `race_tests`): (id, whether the op is a reader's read-to-end rather
/// than `with_bytes`).
const CONCURRENT_CLOSE: [(&str, bool); 2] = [
    ("secret_with_bytes_concurrent_close", false),
    ("secret_reader_concurrent_close", true),
];

fn operations(c: &mut Criterion) {
    for config in configs() {
        let mut group = c.benchmark_group(config.name);
        for op in Op::ALL {
            let secret = config.new_secret();
            op.run(&secret, &mut [0; 32]); // verify before timing
            for &mode in config.modes {
                group.bench_function(format!("{}/{}", op.name(), mode.name()), |b| match mode {
                    Mode::Single => {
                        let mut buf = [0u8; 32];
                        b.iter(|| op.run(black_box(&secret), &mut buf));
                    }
                    _ => b.iter_custom(|iters| op.run_many(&secret, iters, mode.workers())),
                });
            }
        }
        if config.concurrent_close {
            for (name, reader) in CONCURRENT_CLOSE {
                for &mode in config.modes {
                    group.bench_function(format!("{name}/{}", mode.name()), |b| {
                        b.iter_custom(|iters| {
                            concurrent_close(&config, iters, mode.workers(), reader)
                        });
                    });
                }
            }
        }
        group.finish();
    }
}

/// Go's `runRaceTest` ("havoc"): `workers` threads loop on the op over `iters` ops in all; a watcher closes the
/// secret once half of them have started; the only error allowed is "secret has already been destroyed".
fn concurrent_close(config: &Config, iters: u64, workers: usize, reader: bool) -> Duration {
    let secret = config.new_secret();
    let started = AtomicUsize::new(0);
    let wall = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            while started.load(Ordering::SeqCst) < workers.div_ceil(2) {
                std::thread::yield_now();
            }
            secret.close().expect("close");
        });
        let wall = run_parallel(iters, workers, |_| {
            let (secret, started) = (&secret, &started);
            let mut first = true;
            move || {
                if first {
                    started.fetch_add(1, Ordering::SeqCst);
                    first = false;
                }
                let result = if reader {
                    let mut out = Vec::new();
                    secret
                        .reader()
                        .read_to_end(&mut out)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                } else {
                    secret
                        .with_bytes(|b| assert_eq!(b, VALUE))
                        .map_err(|e| e.to_string())
                };
                if let Err(e) = result {
                    assert_eq!(e, "secret has already been destroyed");
                }
            }
        });
        // A run too short for the workers to start still closes the secret.
        started.fetch_add(workers, Ordering::SeqCst);
        watcher.join().expect("watcher");
        wall
    });
    assert!(secret.is_closed());
    wall
}

/// The floor: one `mprotect` pair on a locked page — what an access window costs at the least.
fn floor(c: &mut Criterion) {
    let floor = ProtectionFloor::new().expect("floor page");
    let mut group = c.benchmark_group("floor");
    group.bench_function("mprotect_pair/single", |b| {
        b.iter(|| floor.toggle().expect("mprotect"))
    });
    group.finish();
}

/// Many secrets: each op is one `with_bytes` (with comparison) on the next of 100 protected secrets, in sequence
/// on one thread (`final_sequential`) or from 2 workers at once (`final_parallel`, each worker walking the secrets
/// from its own offset).
fn many_secrets(c: &mut Criterion) {
    let config = &configs()[0];
    let secrets: Vec<Secret> = (0..MANY).map(|_| config.new_secret()).collect();
    let workers = Mode::Parallel.workers();
    let mut group = c.benchmark_group("protected");
    group.bench_function("final_sequential/single", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % MANY;
            assert!(secrets[i].with_bytes(|v| v == VALUE).expect("with_bytes"));
        });
    });
    group.bench_function("final_parallel/parallel", |b| {
        b.iter_custom(|iters| {
            run_parallel(iters, workers, |index| {
                let secrets = &secrets;
                let mut i = index * MANY / workers;
                move || {
                    i = (i + 1) % MANY;
                    assert!(secrets[i].with_bytes(|v| v == VALUE).expect("with_bytes"));
                }
            })
        });
    });
    group.finish();
}

/// `--count N [PATTERN]`: protection changes (`mprotect` calls) over N ops of every bench whose id contains
/// PATTERN, read from securememory's process-wide counter around the ops.
fn count_protection_changes(ops: u64, pattern: &str) {
    let changes = || secret_metrics().protection_changes;
    let report = |id: String, workers: usize, before: u64| {
        println!(
            "lab-protection-changes {id} {workers} {ops} {}",
            changes() - before
        );
    };
    for config in configs() {
        for op in Op::ALL {
            let secret = config.new_secret();
            op.run(&secret, &mut [0; 32]);
            for &mode in config.modes {
                let id = format!("{}/{}/{}", config.name, op.name(), mode.name());
                if id.contains(pattern) {
                    let before = changes();
                    op.run_many(&secret, ops, mode.workers());
                    report(id, mode.workers(), before);
                }
            }
        }
        if config.concurrent_close {
            for (name, reader) in CONCURRENT_CLOSE {
                for &mode in config.modes {
                    let id = format!("{}/{name}/{}", config.name, mode.name());
                    if id.contains(pattern) {
                        let before = changes();
                        concurrent_close(&config, ops, mode.workers(), reader);
                        report(id, mode.workers(), before);
                    }
                }
            }
        }
    }
}

criterion_group!(benches, floor, operations, many_secrets);

/// criterion's `criterion_main!`, with the `--count` mode in front.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--count") {
        let ops = args
            .get(at + 1)
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| {
                eprintln!("usage: securememory --count <ops ≥ 1> [PATTERN]");
                std::process::exit(2)
            });
        count_protection_changes(ops, args.get(at + 2).map_or("", String::as_str));
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
