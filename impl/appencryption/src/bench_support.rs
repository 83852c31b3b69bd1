//! Entry points for the lab's benches (`harness/benches/`): the count-min sketch and bounded cache engine
//! (`cache.rs`), and the key cache (`key_cache.rs`, Go's `key_cache_benchmark_test.go`).
//!
//! **Not a supported API.** Only with the `test-util` feature (which only the lab enables), exempt from semver, and
//! limited to what the benches time; it may change or disappear in any release. Nothing here is needed to use the
//! library.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use securememory::{MemoryKind, SecretFactory};
use zeroize::Zeroizing;

pub use crate::cache::bench_support::{BenchCache, CountMinSketch};
use crate::cache::key_cache::{KeyCache, KeyHandle};
use crate::clock::{Clock, SystemClock};
use crate::crypto::{AesGcmBackend, CryptoKey, KEY_LEN};
use crate::error::Error;
use crate::policy::{CryptoPolicy, KeyMode};
use crate::rng::{OsRandom, SecureRandom};
use crate::sync::{AtomicU64, Ordering};

/// A key that is not (yet) in a cache: what a key-cache loader returns.
pub struct BenchKey(CryptoKey<AesGcmBackend>);

impl std::fmt::Debug for BenchKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl BenchKey {
    /// Go's test key (`internal.NewCryptoKeyForTest`), as cheap as this crate allows: Go's has no secret memory at
    /// all, but a `CryptoKey` always owns a secret, so this is 32 zero bytes in *protected* memory (one locked
    /// page, no guard pages). Never use it to encrypt.
    pub fn test(created: i64, revoked: bool) -> Result<Self, Error> {
        key(
            MemoryKind::Protected,
            Zeroizing::new([0; KEY_LEN]),
            created,
            revoked,
        )
    }

    /// Go's "real" key (`internal.NewCryptoKey(memguardFactory, created, revoked, []byte("testing"))`): the bytes
    /// `testing`, zero-padded to 32, in guarded memory (Go's memguard).
    pub fn real(created: i64, revoked: bool) -> Result<Self, Error> {
        let mut bytes = Zeroizing::new([0; KEY_LEN]);
        bytes[..7].copy_from_slice(b"testing");
        key(MemoryKind::Guarded, bytes, created, revoked)
    }

    /// Go's `internal.GenerateKey(memguardFactory, created, 32)`, done the way this crate creates system and
    /// intermediate keys: 32 bytes from the OS CSPRNG into a zeroized stack buffer, moved into a guarded secret.
    /// Drop the key to close it.
    pub fn generate(created: i64) -> Result<Self, Error> {
        let mut bytes = Zeroizing::new([0; KEY_LEN]);
        OsRandom.fill(&mut *bytes)?;
        key(MemoryKind::Guarded, bytes, created, false)
    }

    /// The key's `created` (unix seconds).
    pub fn created(&self) -> i64 {
        self.0.created()
    }

    /// Whether the key is revoked.
    pub fn is_revoked(&self) -> bool {
        self.0.is_revoked()
    }
}

fn key(
    kind: MemoryKind,
    mut bytes: Zeroizing<[u8; KEY_LEN]>,
    created: i64,
    revoked: bool,
) -> Result<BenchKey, Error> {
    let factory = SecretFactory::new(kind);
    CryptoKey::new(
        &factory,
        &AesGcmBackend,
        KeyMode::StackDataRowKey,
        &mut bytes,
        created,
        revoked,
    )
    .map(BenchKey)
}

/// A key handed out by a [`BenchKeyCache`]: the cache's shared handle. Drop it to release it.
#[derive(Debug)]
pub struct BenchKeyHandle(KeyHandle<AesGcmBackend>);

impl BenchKeyHandle {
    /// The key's `created` (unix seconds).
    pub fn created(&self) -> i64 {
        self.0.created()
    }

    /// Whether the key is revoked.
    pub fn is_revoked(&self) -> bool {
        self.0.is_revoked()
    }
}

/// The system clock, which setup code can pin to a past instant (to insert an entry "loaded" long ago).
#[derive(Debug)]
struct SetupClock {
    /// Nanoseconds since the epoch while pinned; 0 follows the system clock.
    pinned_ns: AtomicU64,
}

impl Clock for SetupClock {
    fn now(&self) -> Duration {
        match self.pinned_ns.load(Ordering::Acquire) {
            0 => SystemClock.now(),
            ns => Duration::from_nanos(ns),
        }
    }
}

/// The crate's key cache (docs/compatibility.md#key-cache) over the system clock, as Go's key-cache benchmarks build
/// it.
///
/// The cache is async: a hit completes on its first poll, a miss may wait for another thread's load (single
/// flight). The `get_or_load*` futures need no runtime (the single-flight gate wakes its waiters itself); the
/// caller chooses how to drive them.
pub struct BenchKeyCache {
    cache: KeyCache<AesGcmBackend>,
    clock: Arc<SetupClock>,
}

impl std::fmt::Debug for BenchKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BenchKeyCache").finish_non_exhaustive()
    }
}

impl BenchKeyCache {
    /// Go's `newKeyCache(CacheTypeIntermediateKeys, NewCryptoPolicy())`: an intermediate-key cache under the
    /// default policy (simple, unbounded store; 60 min revoke check; 90 day expiry).
    pub fn intermediate_default_policy() -> Result<Self, Error> {
        let policy = CryptoPolicy::default();
        let clock = Arc::new(SetupClock {
            pinned_ns: AtomicU64::new(0),
        });
        let cache = KeyCache::new(
            "intermediate",
            policy.cache_intermediate_keys,
            policy.intermediate_key_cache_eviction_policy,
            policy.intermediate_key_cache_max_size,
            Arc::new(policy),
            Arc::clone(&clock) as Arc<dyn Clock>,
        )?;
        Ok(BenchKeyCache { cache, clock })
    }

    /// Setup: cache `key` under `(id, key.created())` as if a loader had returned it at `loaded_at` (unix
    /// seconds; `None`: now), and make it the latest version of `id` if it is the newest. Not for timed code.
    ///
    /// # Panics
    /// If the cache is being used concurrently (the insert would have to wait).
    pub fn insert(&self, id: &str, key: BenchKey, loaded_at: Option<i64>) -> Result<(), Error> {
        let id: Arc<str> = id.into();
        let created = key.created();
        // 0 means "not pinned"; setup times are long after the epoch.
        let pinned = loaded_at.map_or(0, |secs| {
            u64::try_from(secs)
                .expect("loaded_at after 1970")
                .saturating_mul(1_000_000_000)
                .max(1)
        });
        self.clock.pinned_ns.store(pinned, Ordering::Release);
        let inserted = ready_now(
            self.cache
                .get_or_load(&id, created, || std::future::ready(Ok(key.0))),
        );
        self.clock.pinned_ns.store(0, Ordering::Release);
        inserted.map(drop)
    }

    /// Go's `GetOrLoad(KeyMeta{id, created}, loader)` (docs/compatibility.md#key-cache).
    pub async fn get_or_load<F>(
        &self,
        id: &Arc<str>,
        created: i64,
        loader: F,
    ) -> Result<BenchKeyHandle, Error>
    where
        F: FnOnce() -> Result<BenchKey, Error>,
    {
        self.cache
            .get_or_load(id, created, || std::future::ready(loader().map(|k| k.0)))
            .await
            .map(BenchKeyHandle)
    }

    /// Go's `GetOrLoadLatest(id, loader)` (docs/compatibility.md#key-cache).
    pub async fn get_or_load_latest<F>(
        &self,
        id: &Arc<str>,
        loader: F,
    ) -> Result<BenchKeyHandle, Error>
    where
        F: Fn() -> Result<BenchKey, Error>,
    {
        self.cache
            .get_or_load_latest(id, || std::future::ready(loader().map(|k| k.0)))
            .await
            .map(BenchKeyHandle)
    }

    /// Entries in the cache (Go's benchmarks check the final size).
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.cache.len() == 0
    }

    /// The cached entry for exactly `(id, created)` if it is fresh (a revoked entry counts as fresh: it is never
    /// reloaded). Never loads, never waits.
    pub fn cached(&self, id: &Arc<str>, created: i64) -> Option<BenchKeyHandle> {
        self.cache.hit(id, created).map(BenchKeyHandle)
    }

    /// The entry `id`'s latest pointer names, if it is fresh and valid (not revoked, not expired). Never loads,
    /// never waits.
    pub fn cached_latest(&self, id: &Arc<str>) -> Option<BenchKeyHandle> {
        self.cache.latest_hit(id).map(BenchKeyHandle)
    }
}

/// Poll `future` once with a no-op waker: all a cache hit costs, no runtime involved. See [`ready_now`] for a
/// future that must not suspend.
pub fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    crate::poll::poll_once(future)
}

/// Run a future that must complete on its first poll (a cache hit, an uncontended insert).
///
/// # Panics
/// If the future suspends: for the benches that is a bug (a hit that waited).
pub fn ready_now<F: Future>(future: F) -> F::Output {
    match poll_once(pin!(future)) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("a future that must complete on its first poll suspended"),
    }
}

/// Fix the default backend's AES-GCM routes (one-shot keys and key schedules) to `path`, without its timing
/// calibration, if none has run in this process yet; returns whether it took effect. `OneShotPath::AesNi` on a CPU
/// without it pins `aes-gcm`. The gate's instruction-count benches call it so that their counts cannot move with a
/// timing.
pub fn pin_aes_gcm_routes(path: crate::OneShotPath) -> bool {
    crate::crypto::pin_aes_gcm(path)
}

/// Seal under a one-shot key by one route (`aes-gcm`, `aes-ni`, or with the `ring` feature `ring`), whichever the
/// calibrations chose (the `aead/one_shot_seal/<path>/<size>` benches time each route).
pub fn seal_once_via(
    path: crate::OneShotPath,
    key: &[u8],
    nonce: &[u8; crate::NONCE_LEN],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    crate::crypto::seal_once_via(path, key, nonce, plaintext, out)
}

/// As [`seal_once_via`], opening (`aead/one_shot_open/<path>/<size>`).
pub fn open_once_via(
    path: crate::OneShotPath,
    key: &[u8],
    blob: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    crate::crypto::open_once_via(path, key, blob, out)
}
