//! SecureMemory benches: one per Go benchmark of spec §11.2, for both implementations, plus the syscall floor.
//!
//! Naming is mechanical: `<impl>/<operation>/<mode>` where `<impl>` is `protected` (Go package
//! `protectedmemory`, `BenchmarkProtectedMemory…`) or `guarded` (Go package `memguard`, `BenchmarkMemguard…`),
//! `<operation>` is Go's suffix in snake case, and `<mode>` is `parallel` (Go's `RunParallel` with GOMAXPROCS
//! workers, wall time ÷ total ops — the faithful mirror) or `single` (one thread). For example
//! `protected/secret_with_bytes/parallel` ↔ `BenchmarkProtectedMemorySecret_WithBytes`.
//!
//! Every op does what Go's loop body does: the same 32-byte secret, the same content comparison.

use std::hint::black_box;
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use lab::parallel::{default_parallelism, run_parallel};
use securememory::{MemoryKind, ProtectionFloor, Secret, SecretFactory};

const VALUE: &[u8; 32] = b"thisismy32bytesecretthatiwilluse";

/// Number of secrets in the `final_*` benches.
const MANY: usize = 100;

fn new_secret(kind: MemoryKind) -> Secret {
    SecretFactory::new(kind)
        .new_secret(&mut VALUE.to_vec())
        .expect("create secret")
}

fn prefix(kind: MemoryKind) -> &'static str {
    match kind {
        MemoryKind::Protected => "protected",
        _ => "guarded",
    }
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
}

fn operations(c: &mut Criterion) {
    let workers = default_parallelism();
    for kind in [MemoryKind::Protected, MemoryKind::Guarded] {
        let mut group = c.benchmark_group(prefix(kind));
        for op in [
            Op::WithBytes,
            Op::WithBytesFunc,
            Op::ReadAll,
            Op::ReadFull,
            Op::Read,
        ] {
            let secret = new_secret(kind);
            op.run(&secret, &mut [0; 32]); // verify before timing
            group.bench_function(format!("{}/single", op.name()), |b| {
                let mut buf = [0u8; 32];
                b.iter(|| op.run(black_box(&secret), &mut buf));
            });
            group.bench_function(format!("{}/parallel", op.name()), |b| {
                b.iter_custom(|iters| {
                    run_parallel(iters, workers, |_| {
                        let mut buf = [0u8; 32];
                        let secret = &secret;
                        move || op.run(black_box(secret), &mut buf)
                    })
                });
            });
        }
        havoc(&mut group, kind, workers);
        group.finish();
    }
}

/// Go's `…ConcurrentClose` benches (tag `race_tests`): workers loop on the op; a watcher closes the secret once
/// half of them have started; the only error allowed is "secret has already been destroyed".
fn havoc(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    kind: MemoryKind,
    workers: usize,
) {
    for (name, reader) in [
        ("secret_with_bytes_concurrent_close", false),
        ("secret_reader_concurrent_close", true),
    ] {
        group.bench_function(format!("{name}/parallel"), |b| {
            b.iter_custom(|iters| {
                let secret = new_secret(kind);
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
            });
        });
    }
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
/// on one thread (`final_sequential`) or from all workers at once (`final_parallel`, each worker walking the
/// secrets from its own offset).
fn many_secrets(c: &mut Criterion) {
    let secrets: Vec<Secret> = (0..MANY)
        .map(|_| new_secret(MemoryKind::Protected))
        .collect();
    let workers = default_parallelism();
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

criterion_group!(benches, floor, operations, many_secrets);
criterion_main!(benches);
