//! Go's `b.RunParallel`, mirrored: `GOMAXPROCS` workers share `b.N` operations and the reported time per
//! operation is the wall time divided by the total number of operations.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Number of workers Go would use: `GOMAXPROCS`, which defaults to the number of available CPUs.
pub fn default_parallelism() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Ops a worker claims at a time. Go's `RunParallel` hands out batches too (its grain), so that the shared
/// counter is not the thing being measured.
const GRAIN: u64 = 64;

/// Run `iters` operations on `workers` threads and return the wall time they took together.
///
/// `make_worker` builds each worker's per-goroutine state (Go's closure body before `pb.Next()`), outside the
/// timed region; the returned closure is called once per operation.
pub fn run_parallel<W, F>(iters: u64, workers: usize, make_worker: W) -> Duration
where
    W: Fn(usize) -> F + Sync,
    F: FnMut() + Send,
{
    let workers = workers.max(1);
    let next = AtomicU64::new(0);
    let ready = std::sync::Barrier::new(workers + 1);
    let done = std::sync::Barrier::new(workers + 1);
    std::thread::scope(|scope| {
        for index in 0..workers {
            let (next, ready, done, make_worker) = (&next, &ready, &done, &make_worker);
            scope.spawn(move || {
                let mut op = make_worker(index);
                ready.wait();
                loop {
                    let start = next.fetch_add(GRAIN, Ordering::Relaxed);
                    if start >= iters {
                        break;
                    }
                    for _ in start..(start + GRAIN).min(iters) {
                        op();
                    }
                }
                done.wait();
            });
        }
        ready.wait();
        let started = Instant::now();
        done.wait();
        started.elapsed()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_runs_exactly_once() {
        for (iters, workers) in [(0, 2), (1, 2), (63, 3), (64, 1), (1000, 4), (12_345, 2)] {
            let count = AtomicU64::new(0);
            run_parallel(iters, workers, |_| {
                || {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
            assert_eq!(
                count.load(Ordering::Relaxed),
                iters,
                "iters {iters} workers {workers}"
            );
        }
    }

    #[test]
    fn workers_get_their_own_state() {
        let seen = std::sync::Mutex::new(Vec::new());
        run_parallel(10, 3, |index| {
            seen.lock().unwrap().push(index);
            || {}
        });
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, vec![0, 1, 2]);
    }
}
