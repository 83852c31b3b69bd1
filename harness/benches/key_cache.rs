//! Key cache benches: Go's `key_cache_benchmark_test.go` one to one (docs/compatibility.md#go-benchmarks-mirrored),
//! plus `BenchmarkGenerateKey`.
//!
//! | bench id | Go benchmark |
//! |---|---|
//! | `key_cache/get_or_load_multiple_threads_read_existing_key/parallel` | `BenchmarkKeyCache_GetOrLoad_MultipleThreadsReadExistingKey` |
//! | `key_cache/get_or_load_multiple_threads_write_same_key/parallel` | `BenchmarkKeyCache_GetOrLoad_MultipleThreadsWriteSameKey` |
//! | `key_cache/get_or_load_multiple_threads_write_unique_keys/parallel` | `BenchmarkKeyCache_GetOrLoad_MultipleThreadsWriteUniqueKeys` |
//! | `key_cache/get_or_load_multiple_threads_read_revoked_key/parallel` | `BenchmarkKeyCache_GetOrLoad_MultipleThreadsReadRevokedKey` |
//! | `key_cache/get_or_load_multiple_threads_read_need_reload_key/parallel` | `BenchmarkKeyCache_GetOrLoad_MultipleThreadsRead_NeedReloadKey` |
//! | `key_cache/get_or_load_multiple_threads_read_unique_keys/parallel` | `BenchmarkKeyCache_GetOrLoad_MultipleThreadsReadUniqueKeys` |
//! | `key_cache/get_or_load_latest_multiple_threads_read_existing_key/parallel` | `BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsReadExistingKey` |
//! | `key_cache/get_or_load_latest_multiple_threads_write_same_key/parallel` | `BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsWriteSameKey` |
//! | `key_cache/get_or_load_latest_multiple_threads_write_unique_key/parallel` | `BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsWriteUniqueKey` |
//! | `key_cache/get_or_load_latest_multiple_threads_read_stale_revoked_key/parallel` | `BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsReadStaleRevokedKey` |
//! | `key_cache/get_or_load_latest_multiple_threads_read_revoked_key/parallel` | `BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsReadRevokedKey` |
//! | `key_cache/get_or_load_latest_multiple_threads_read_unique_keys/parallel` | `BenchmarkKeyCache_GetOrLoadLatest_MultipleThreadsReadUniqueKeys` |
//! | `generate_key/sequential` | `BenchmarkGenerateKey` (package `internal`) |
//!
//! **Shape.** As in Go, every call of the bench routine (Go: every `b.N`) builds a fresh intermediate-key cache
//! under the default policy (simple store, 60 min revoke check, 90 day expiry) with key id `TestKey` and
//! `created` = process start (unix s); the ops run on [`run_parallel`] (Go's `RunParallel`) with one worker per
//! available CPU, and only their wall time is reported. Each bench asserts what Go asserts, usually more strictly
//! (e.g. "the loader never runs" is a panic, not an error counted by `testify`).
//!
//! **Keys.** Go's "test keys" have no secret memory; a `CryptoKey` here always owns one, so a test key is 32 zero
//! bytes in protected memory (one locked page). Where Go creates a test key per op (the two unique-key *write*
//! benches) the keys are made before the timer in a pool the loaders take from, and the ops run in chunks of
//! [`CHUNK`] with a fresh cache per chunk: each cached key holds a locked page and a mapping, so a `b.N`-sized cache
//! would exhaust `RLIMIT_MEMLOCK` and `vm.max_map_count` long before Go's heap-only keys cost anything. Go also
//! expects at most `DefaultKeyCacheMaxSize` (1000) entries there. "Real keys" hold `testing` (zero-padded to 32
//! bytes) in guarded memory (memguard) and are created inside the loader, as in Go.
//!
//! **Fixed costs per routine call.** Like Go's per-`b.N` setup, the write-same-key benches pay one 5 ms load per call
//! and the reload benches one reload; criterion's slope estimate (its headline `time`) separates such a constant
//! from the per-op cost, a per-iteration median does not.
//!
//! **Driving the async cache.** Hits complete on their first poll. [`ready_now`] polls once with a no-op waker and
//! panics if the future is pending: the read benches use it, so they also prove that a hit never suspends (and it
//! costs nothing beyond the poll: no runtime, no allocation). [`block_on`] does the same first poll and, only if a
//! miss has to wait for another thread's load (the cache's single-flight gate, a `tokio::sync::Mutex`, which wakes
//! waiters itself and needs no runtime), parks the thread until woken. A tokio runtime would add its enter/exit to
//! every hit and buys nothing here: the loaders do no I/O (Go's "metastore read" is a 5 ms sleep, kept as a
//! blocking sleep as in Go, where it blocks the goroutine holding the cache's write lock).
#![allow(clippy::disallowed_types)] // The lab is not loom-modelled; the pool's std mutexes are fine.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use appencryption::Error;
use appencryption::bench_support::{BenchKey, BenchKeyCache, BenchKeyHandle, poll_once, ready_now};
use criterion::{Criterion, criterion_group, criterion_main};
use lab::parallel::{default_parallelism, run_parallel};

/// Go's `testKey`.
const TEST_KEY: &str = "TestKey";
/// Go's `DefaultKeyCacheMaxSize`: the number of distinct ids the unique-key read benches cycle through.
const DEFAULT_KEY_CACHE_MAX_SIZE: u64 = 1000;
/// Ops per fresh cache in the unique-key write benches (see the module docs); Go's own bound on their size.
const CHUNK: u64 = DEFAULT_KEY_CACHE_MAX_SIZE;
/// Go's simulated metastore read in the write-same-key loaders.
const LOADER_DELAY: Duration = Duration::from_millis(5);
/// How far in the past the stale keys were created and loaded: Go's `time.Now().Add(-(time.Minute * 100))`.
const STALE_AGE_SECS: i64 = 100 * 60;

/// Go's package-level `created = time.Now().Unix()`: forced when the first bench starts.
static CREATED: LazyLock<i64> = LazyLock::new(now_unix);

fn now_unix() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(now.as_secs()).expect("unix seconds fit i64")
}

fn new_cache() -> BenchKeyCache {
    BenchKeyCache::intermediate_default_policy().expect("default policy builds a key cache")
}

fn test_key(created: i64) -> BenchKey {
    BenchKey::test(created, false).expect("test key in protected memory")
}

fn must_not_load() -> Result<BenchKey, Error> {
    panic!("the loader must not run: the key is cached");
}

/// Go's two lookups, which most benches run alike: a specific version (`GetOrLoad`) or the latest (`GetOrLoadLatest`).
#[derive(Clone, Copy)]
enum Lookup {
    Version,
    Latest,
}

impl Lookup {
    const BOTH: [Lookup; 2] = [Lookup::Version, Lookup::Latest];

    /// The bench-name prefix: Go's `BenchmarkKeyCache_GetOrLoad…` / `…_GetOrLoadLatest…`.
    fn name(self) -> &'static str {
        match self {
            Lookup::Version => "get_or_load",
            Lookup::Latest => "get_or_load_latest",
        }
    }

    /// This lookup of `id` (version `created` for [`Lookup::Version`]) with `loader` on a miss.
    async fn run(
        self,
        cache: &BenchKeyCache,
        id: &Arc<str>,
        created: i64,
        loader: &dyn Fn() -> Result<BenchKey, Error>,
    ) -> Result<BenchKeyHandle, Error> {
        match self {
            Lookup::Version => cache.get_or_load(id, created, loader).await,
            Lookup::Latest => cache.get_or_load_latest(id, loader).await,
        }
    }
}

// --- driving futures ------------------------------------------------------------------------------------------

/// Wakes a parked thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Poll once with a no-op waker (all a hit costs); if pending, park until the future's waker fires.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    if let Poll::Ready(out) = poll_once(future.as_mut()) {
        return out;
    }
    // Re-polling with a new waker is allowed; the gate's waiter picks it up, and a wake that went to the no-op
    // waker in between has already assigned the lock, which this poll then sees.
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => thread::park(),
        }
    }
}

// --- bench plumbing -------------------------------------------------------------------------------------------

fn workers() -> usize {
    default_parallelism()
}

/// One bench `key_cache/<name>/parallel` whose routine gets Go's `b.N` and returns the timed wall time.
fn bench(c: &mut Criterion, name: &str, mut routine: impl FnMut(u64) -> Duration) {
    LazyLock::force(&CREATED);
    let mut group = c.benchmark_group(format!("key_cache/{name}"));
    group.bench_function("parallel", |b| b.iter_custom(&mut routine));
    group.finish();
}

/// Run `iters` ops as consecutive chunks of at most [`CHUNK`]; `chunk(first, len)` times one chunk (its own setup
/// and checks excluded). Returns the summed timed durations.
fn chunked(iters: u64, mut chunk: impl FnMut(u64, u64) -> Duration) -> Duration {
    let mut total = Duration::ZERO;
    let mut first = 0;
    while first < iters {
        let len = (iters - first).min(CHUNK);
        total += chunk(first, len);
        first += len;
    }
    total
}

/// `len` test keys made before the timer, one per op; a loader takes its op's key.
struct KeyPool(Vec<Mutex<Option<BenchKey>>>);

impl KeyPool {
    fn new(len: u64, created: i64) -> Self {
        KeyPool(
            (0..len)
                .map(|_| Mutex::new(Some(test_key(created))))
                .collect(),
        )
    }

    fn take(&self, i: u64) -> Result<BenchKey, Error> {
        let slot = &self.0[usize::try_from(i).expect("pool index fits usize")];
        Ok(slot
            .lock()
            .expect("pool slot")
            .take()
            .expect("each op's key is loaded once"))
    }
}

/// Go's setup for the unique-key read benches: `min(b.N, 1000)` fresh test keys `TestKey-<i>` with latest
/// mappings.
fn populated_unique(iters: u64, created: i64) -> BenchKeyCache {
    let cache = new_cache();
    for i in 0..iters.min(DEFAULT_KEY_CACHE_MAX_SIZE) {
        cache
            .insert(&format!("{TEST_KEY}-{i}"), test_key(created), None)
            .expect("insert");
    }
    cache
}

/// Go's stale real key: created and loaded 100 minutes ago, latest mapped. Returns the cache and `created`.
fn stale_real_key() -> (BenchKeyCache, i64) {
    let cache = new_cache();
    let created = now_unix() - STALE_AGE_SECS;
    let key = BenchKey::real(created, false).expect("real key");
    cache.insert(TEST_KEY, key, Some(created)).expect("insert");
    let id: Arc<str> = TEST_KEY.into();
    assert!(
        cache.cached(&id, created).is_none(),
        "the entry must start stale"
    );
    (cache, created)
}

// --- both lookups ---------------------------------------------------------------------------------------------

/// Go's `…MultipleThreadsReadExistingKey` (both lookups): one cached key, every op a hit.
fn read_existing_key(c: &mut Criterion) {
    for lookup in Lookup::BOTH {
        let name = format!("{}_multiple_threads_read_existing_key", lookup.name());
        bench(c, &name, |iters| {
            let created = *CREATED;
            let cache = new_cache();
            cache
                .insert(TEST_KEY, test_key(created), None)
                .expect("insert");
            let id: Arc<str> = TEST_KEY.into();
            run_parallel(iters, workers(), |_| {
                || {
                    let key =
                        ready_now(lookup.run(&cache, &id, created, &must_not_load)).expect("hit");
                    assert_eq!(key.created(), created);
                }
            })
        });
    }
}

/// Go's `…MultipleThreadsWriteSameKey` (both lookups): every worker asks an empty cache for one key through
/// `lookup`, whose loader is slow and counted. Single flight: the loader runs once, and afterwards the latest
/// mapping names the loaded key.
fn write_same_key(c: &mut Criterion) {
    for lookup in Lookup::BOTH {
        let name = format!("{}_multiple_threads_write_same_key", lookup.name());
        bench(c, &name, |iters| write_same_key_run(iters, lookup));
    }
}

fn write_same_key_run(iters: u64, lookup: Lookup) -> Duration {
    let created = *CREATED;
    let cache = new_cache();
    let id: Arc<str> = TEST_KEY.into();
    let loads = AtomicU64::new(0);
    let elapsed = run_parallel(iters, workers(), |_| {
        || {
            let loader = || {
                loads.fetch_add(1, Ordering::Relaxed);
                thread::sleep(LOADER_DELAY);
                BenchKey::test(created, false)
            };
            block_on(lookup.run(&cache, &id, created, &loader)).expect("load");
            let latest = cache
                .cached_latest(&id)
                .expect("the latest mapping names the loaded key");
            assert_eq!(latest.created(), created);
        }
    });
    if iters > 0 {
        assert_eq!(
            loads.load(Ordering::Relaxed),
            1,
            "single flight: one load for one key"
        );
    }
    elapsed
}

/// Go's `…MultipleThreadsReadUniqueKeys` (both lookups): `min(b.N, 1000)` cached keys, op n a hit on key n mod 1000.
fn read_unique_keys(c: &mut Criterion) {
    for lookup in Lookup::BOTH {
        let name = format!("{}_multiple_threads_read_unique_keys", lookup.name());
        bench(c, &name, |iters| {
            let created = *CREATED;
            let cache = populated_unique(iters, created);
            let next = AtomicU64::new(0);
            run_parallel(iters, workers(), |_| {
                || {
                    let n = next.fetch_add(1, Ordering::Relaxed) % DEFAULT_KEY_CACHE_MAX_SIZE;
                    let id: Arc<str> = format!("{TEST_KEY}-{n}").into();
                    let key =
                        ready_now(lookup.run(&cache, &id, created, &must_not_load)).expect("hit");
                    assert_eq!(key.created(), created);
                    drop(key); // Go: `key.Close()`
                }
            })
        });
    }
}

// --- GetOrLoad ------------------------------------------------------------------------------------------------

fn get_or_load_write_unique_keys(c: &mut Criterion) {
    bench(
        c,
        "get_or_load_multiple_threads_write_unique_keys",
        |iters| {
            write_unique_keys(
                iters,
                |n| format!("{TEST_KEY}-{n}"),
                |cache, id, loader| {
                    block_on(cache.get_or_load(id, *CREATED, loader)).expect("load");
                    // Go: "ensure we have a latest entry for this key as well" (a hit: GetOrLoad mapped it).
                    let latest = block_on(cache.get_or_load_latest(id, loader)).expect("latest");
                    assert_eq!(black_box(latest).created(), *CREATED);
                },
                |cache, id, created| {
                    cache.cached(id, created).is_some() && cache.cached_latest(id).is_some()
                },
            )
        },
    );
}

/// Go's two unique-key write benches: op n looks up a new id `id_of(n)`, its loader taking op n's key made before
/// the timer; `lookup` is the timed work. Afterwards every op's entry must be `present` (Go asserts the cache size
/// equals the number of ops; the crate exposes no size outside its tests).
fn write_unique_keys(
    iters: u64,
    id_of: impl Fn(u64) -> String + Sync,
    lookup: impl Fn(&BenchKeyCache, &Arc<str>, &dyn Fn() -> Result<BenchKey, Error>) + Sync,
    present: impl Fn(&BenchKeyCache, &Arc<str>, i64) -> bool,
) -> Duration {
    let created = *CREATED;
    chunked(iters, |first, len| {
        let cache = new_cache();
        let pool = KeyPool::new(len, created);
        let next = AtomicU64::new(first);
        let elapsed = run_parallel(len, workers(), |_| {
            || {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let id: Arc<str> = id_of(n).into();
                lookup(&cache, &id, &|| pool.take(n - first));
            }
        });
        for n in first..first + len {
            let id: Arc<str> = id_of(n).into();
            assert!(present(&cache, &id, created), "{id}");
        }
        elapsed
    })
}

fn get_or_load_read_revoked_key(c: &mut Criterion) {
    bench(
        c,
        "get_or_load_multiple_threads_read_revoked_key",
        |iters| {
            reload_stale_key_once(iters, true, |cache, id, created, key| {
                assert!(
                    key.is_revoked(),
                    "the reload must mark the cached key revoked"
                );
                let entry = cache
                    .cached(id, created)
                    .expect("a revoked entry is never stale");
                assert!(entry.is_revoked());
            })
        },
    );
}

fn get_or_load_read_need_reload_key(c: &mut Criterion) {
    // Go: "this function should only happen on first load".
    bench(
        c,
        "get_or_load_multiple_threads_read_need_reload_key",
        |iters| reload_stale_key_once(iters, false, |_, _, _, _| {}),
    );
}

/// Go's two stale-key read benches: every op is a `GetOrLoad` of Go's stale real key whose loader (counted)
/// returns the same version, `revoked` or not; `check` inspects each op's key. One load in all: it makes the entry
/// fresh again (or revoked, which is never reloaded).
fn reload_stale_key_once(
    iters: u64,
    revoked: bool,
    check: impl Fn(&BenchKeyCache, &Arc<str>, i64, &BenchKeyHandle) + Sync,
) -> Duration {
    let (cache, created) = stale_real_key();
    let id: Arc<str> = TEST_KEY.into();
    let loads = AtomicU64::new(0);
    let elapsed = run_parallel(iters, workers(), |_| {
        || {
            let loader = || {
                loads.fetch_add(1, Ordering::Relaxed);
                BenchKey::real(created, revoked)
            };
            let key = block_on(cache.get_or_load(&id, created, loader)).expect("load");
            assert_eq!(key.created(), created);
            check(&cache, &id, created, &key);
        }
    });
    if iters > 0 {
        assert_eq!(
            loads.load(Ordering::Relaxed),
            1,
            "one reload makes the stale entry fresh (revoked: {revoked}), later ops hit"
        );
    }
    elapsed
}

// --- GetOrLoadLatest ------------------------------------------------------------------------------------------

fn get_or_load_latest_write_unique_key(c: &mut Criterion) {
    bench(
        c,
        "get_or_load_latest_multiple_threads_write_unique_key",
        |iters| {
            write_unique_keys(
                iters,
                // Go's `cacheKey(testKey, n)`: plain concatenation.
                |n| format!("{TEST_KEY}{n}"),
                |cache, id, loader| {
                    let key = block_on(cache.get_or_load_latest(id, loader)).expect("load");
                    assert_eq!(black_box(key).created(), *CREATED);
                },
                |cache, id, _| cache.cached_latest(id).is_some(),
            )
        },
    );
}

fn get_or_load_latest_read_stale_revoked_key(c: &mut Criterion) {
    bench(
        c,
        "get_or_load_latest_multiple_threads_read_stale_revoked_key",
        |iters| {
            let (cache, created) = stale_real_key();
            let id: Arc<str> = TEST_KEY.into();
            let loads = AtomicU64::new(0);
            let elapsed = run_parallel(iters, workers(), |_| {
                || {
                    let loader = || {
                        loads.fetch_add(1, Ordering::Relaxed);
                        BenchKey::real(now_unix(), true)
                    };
                    let key = block_on(cache.get_or_load_latest(&id, loader)).expect("load");
                    assert!(key.is_revoked());
                    assert!(key.created() > created, "the reloaded key is the newer one");
                }
            });
            // The cached latest is revoked, hence invalid: every op reloads (docs/compatibility.md#key-cache).
            assert!(
                loads.load(Ordering::Relaxed) >= iters,
                "every op takes the reload path"
            );
            elapsed
        },
    );
}

fn get_or_load_latest_read_revoked_key(c: &mut Criterion) {
    bench(
        c,
        "get_or_load_latest_multiple_threads_read_revoked_key",
        |iters| {
            let cache = new_cache();
            let created = now_unix();
            let key = BenchKey::real(created, true).expect("real key");
            cache.insert(TEST_KEY, key, Some(created)).expect("insert");
            let id: Arc<str> = TEST_KEY.into();
            let reloads = AtomicU64::new(0);
            let elapsed = run_parallel(iters, workers(), |_| {
                || {
                    let loader = || {
                        reloads.fetch_add(1, Ordering::Relaxed);
                        BenchKey::real(now_unix(), false)
                    };
                    let key = block_on(cache.get_or_load_latest(&id, loader)).expect("load");
                    assert!(!key.is_revoked());
                }
            });
            if iters > 0 {
                // Go only counts; single flight makes it exactly one: the reloaded key is valid and becomes the latest.
                assert_eq!(
                    reloads.load(Ordering::Relaxed),
                    1,
                    "one reload replaces the revoked latest"
                );
            }
            elapsed
        },
    );
}

// --- GenerateKey ----------------------------------------------------------------------------------------------

fn generate_key(c: &mut Criterion) {
    let created = now_unix();
    let key = BenchKey::generate(created).expect("generate");
    assert_eq!(key.created(), created);
    drop(key);

    let mut group = c.benchmark_group("generate_key");
    group.bench_function("sequential", |b| {
        b.iter(|| drop(black_box(BenchKey::generate(now_unix()).expect("generate"))));
    });
    group.finish();
}

criterion_group!(
    benches,
    read_existing_key,
    write_same_key,
    read_unique_keys,
    get_or_load_write_unique_keys,
    get_or_load_read_revoked_key,
    get_or_load_read_need_reload_key,
    get_or_load_latest_write_unique_key,
    get_or_load_latest_read_stale_revoked_key,
    get_or_load_latest_read_revoked_key,
    generate_key,
);
criterion_main!(benches);
