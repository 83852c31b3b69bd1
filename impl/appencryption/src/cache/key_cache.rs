//! The key cache (docs/compatibility.md#key-cache): system keys per factory, intermediate keys per session (or
//! shared).
//!
//! Entries are `Arc<CryptoKey>`s in a [`Store`] (simple map or bounded engine) keyed by `(id, created)`, plus a
//! `latest` map from id to the newest `created` this cache has seen. A handle is an `Arc` clone: a key evicted
//! while in use lives until its last user drops it, and its secret is wiped once, on the last drop.
//!
//! Hits take a read lock and never await. Misses are single-flight per key ([`LoadGates`]): concurrent misses for
//! one key run one loader and the others find its result, while misses for other keys (other partitions, other
//! versions) proceed; Go holds one gate per cache across the load (docs/compatibility.md#q11-loaders-run-under-the-caches-write-lock), so one stalled backend call stalls
//! every miss. A failed load is remembered briefly ([`FailedLoads`]). Freshness (the revoke-check interval) is
//! measured on the clock's monotonic time, so stepping the wall clock back never delays a revocation check.
//!
//! Deliberate differences from Go, none visible on the wire:
//! * **Q1 fixed**: when a stale latest entry is refreshed and the loader returns a *different* version, that
//!   version becomes a new entry and the latest, instead of only copying its revoked flag onto the old key.
//! * **Q3 fixed**: a displaced entry is released (dropping the `Arc` does it).
//! * Hits on the latest path do not take the write lock (Go serialises every `GetOrLoadLatest`).

// foldhash: several times faster than SipHash on short keys, still seeded per process against collision
// flooding (key ids contain caller-chosen partition ids).
use foldhash::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::bounded::CacheBuilder;
use crate::cache::eviction::EvictionPolicy;
use crate::cache::failed_loads::FailedLoads;
use crate::cache::load_gates::{LoadGates, LoadKey};
use crate::cache::store::Store;
use crate::clock::Clock;
use crate::crypto::{AFTER_KEY_LOAD, AeadBackend, CryptoKey, scrub_stack};
use crate::error::Error;
use crate::policy::CryptoPolicy;
use crate::sync::{AtomicU64, Ordering, RwLock};

/// A key handed out by a cache; drop it to release it.
pub(crate) type KeyHandle<B> = Arc<CryptoKey<B>>;

type EntryKey = (Arc<str>, i64);

/// Await a key load, then scrub the stack it ran on: it created or decrypted a key, and copies of it stay in the
/// dead frames of that call chain (see `crypto::scrub_stack`). Every load of every cache goes through here.
async fn scrubbed<B: AeadBackend, Fut>(loader: Fut) -> Result<CryptoKey<B>, Error>
where
    Fut: Future<Output = Result<CryptoKey<B>, Error>>,
{
    let mut loader = std::pin::pin!(loader);
    let loaded = std::future::poll_fn(|cx| poll_in_own_frame(loader.as_mut(), cx)).await;
    scrub_stack::<AFTER_KEY_LOAD>();
    loaded
}

/// Poll `future` from a frame of its own, never inlined into the caller's poll: what the loader's synchronous
/// parts leave on the stack then lies below the caller's frame, where `scrubbed` reaches it.
#[inline(never)]
fn poll_in_own_frame<F: Future>(
    future: std::pin::Pin<&mut F>,
    cx: &mut std::task::Context<'_>,
) -> std::task::Poll<F::Output> {
    future.poll(cx)
}

pub(crate) struct KeyCache<B: AeadBackend> {
    kind: &'static str,
    policy: Arc<CryptoPolicy>,
    clock: Arc<dyn Clock>,
    /// `None`: the "never cache" mode of docs/compatibility.md#key-cache.
    cached: Option<Cached<B>>,
    gates: LoadGates,
    failed: FailedLoads,
    /// Bumped after every change of which entry is the latest (and on close); see [`LatestMemo`].
    version: AtomicU64,
}

/// A session's memo of its partition's latest key, so that a hot encrypt (and the decrypt of a record under that
/// key) skips the cache's two map lookups. It holds the handle with the cache's [`version`](KeyCache::version)
/// read *before* the lookup that found it; the cache bumps its version *after* every change of the latest entry,
/// so a memo whose version is still current names the key a lookup would return now. Freshness and validity are
/// still judged on every use (they live in the key itself). Cleared when the session closes, so it never keeps a
/// released key alive. An entry a bounded cache evicts (which is not a change of the latest) stays usable through
/// the memo until the latest changes or the revoke-check interval runs out: the same key, one metastore read
/// fewer than a lookup would have cost.
pub(crate) struct LatestMemo<B: AeadBackend> {
    slot: RwLock<Option<Memo<B>>>,
}

struct Memo<B: AeadBackend> {
    version: u64,
    key: KeyHandle<B>,
}

impl<B: AeadBackend> LatestMemo<B> {
    pub(crate) fn new() -> Self {
        Self {
            slot: RwLock::new(None),
        }
    }

    /// Forget the memoised key (dropping its handle).
    pub(crate) fn clear(&self) {
        drop(self.slot.write().take());
    }

    /// The memoised key if the cache is still at `version` and `accept` takes it.
    fn get(&self, version: u64, accept: impl Fn(&CryptoKey<B>) -> bool) -> Option<KeyHandle<B>> {
        let slot = self.slot.read();
        let memo = slot.as_ref().filter(|m| m.version == version)?;
        accept(&memo.key).then(|| Arc::clone(&memo.key))
    }

    /// The `created` of the memoised key, if any (for `key_cache_tests`).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn memoised(&self) -> Option<i64> {
        self.slot.read().as_ref().map(|m| m.key.created())
    }

    fn set(&self, version: u64, key: &KeyHandle<B>) {
        let old = self.slot.write().replace(Memo {
            version,
            key: Arc::clone(key),
        });
        drop(old);
    }
}

/// How a write moves the latest pointer.
#[derive(Clone, Copy)]
enum Latest {
    /// Only forward: to a newer `created` (or from none).
    Forward,
    /// To this key if the latest is still `seen` (what the caller found stale before loading), else only forward.
    Replace { seen: Option<i64> },
}

struct Cached<B: AeadBackend> {
    entries: Store<EntryKey, KeyHandle<B>>,
    latest: RwLock<HashMap<Arc<str>, i64>>,
}

impl<B: AeadBackend> KeyCache<B> {
    /// A cache for `kind` keys ("system" or "intermediate", for logs). `enabled == false` gives the never-cache
    /// mode. `policy`/`capacity` choose the store (docs/compatibility.md#bounded-cache-engine): simple is unbounded;
    /// bounded engines evict synchronously below capacity 100, asynchronously otherwise (dropping the evicted
    /// handle).
    pub(crate) fn new(
        kind: &'static str,
        enabled: bool,
        eviction: EvictionPolicy,
        capacity: usize,
        policy: Arc<CryptoPolicy>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        let cached = if enabled {
            let entries = CacheBuilder::new(capacity)
                .clock(Arc::clone(&clock))
                .synchronous(capacity < 100)
                .build_store(eviction)?;
            Some(Cached {
                entries,
                latest: RwLock::new(HashMap::default()),
            })
        } else {
            None
        };
        let failed = FailedLoads::new(policy.failed_load_cache_duration);
        Ok(KeyCache {
            kind,
            policy,
            clock,
            cached,
            gates: LoadGates::default(),
            failed,
            version: AtomicU64::new(0),
        })
    }

    /// Wall-clock time (for expiry, which compares with keys' `created`).
    fn now(&self) -> Duration {
        self.clock.now()
    }

    /// Monotonic time (for freshness: `loaded_at` is on this clock).
    fn mono(&self) -> Duration {
        self.clock.monotonic()
    }

    /// A cached key is fresh unless it is not revoked and was loaded more than the revoke-check interval ago
    /// (strictly before, docs/compatibility.md#expiry-and-revocation), both on the monotonic clock (`mono`). Keys known to be revoked are never
    /// reloaded. An interval too large to add to `loaded_at` never runs out.
    fn is_fresh(&self, key: &CryptoKey<B>, mono: Duration) -> bool {
        key.is_revoked()
            || key
                .loaded_at()
                .checked_add(self.policy.revoke_check_interval)
                .is_none_or(|due| due >= mono)
    }

    fn is_invalid(&self, key: &CryptoKey<B>, now: Duration) -> bool {
        key.is_revoked() || self.policy.is_expired(key.created(), now)
    }

    /// The entry for an exact version.
    fn read(&self, id: &Arc<str>, created: i64) -> Option<KeyHandle<B>> {
        self.cached
            .as_ref()?
            .entries
            .get(&(Arc::clone(id), created))
    }

    /// The entry the latest pointer names.
    fn read_latest(&self, id: &Arc<str>) -> Option<KeyHandle<B>> {
        let cached = self.cached.as_ref()?;
        let created = *cached.latest.read().get(&**id)?;
        cached.entries.get(&(Arc::clone(id), created))
    }

    /// Store `key` under `(id, key.created)` and move `latest` to it if it is newer, or (`Latest::Replace`) if the
    /// latest is still the one the caller saw before loading.
    fn write(&self, id: &Arc<str>, key: &KeyHandle<B>, update: Latest) {
        let Some(cached) = self.cached.as_ref() else {
            return;
        };
        {
            let mut latest = cached.latest.write();
            let current = latest.get(&**id).copied();
            let replace = match update {
                Latest::Forward => false,
                // Another key's load may have moved the latest meanwhile (loads of other versions do not share
                // this path's gate): then only a newer key moves it.
                Latest::Replace { seen } => current == seen,
            };
            if replace || current.is_none_or(|c| c < key.created()) {
                latest.insert(Arc::clone(id), key.created());
            }
        }
        // A displaced entry (same version loaded twice) is dropped here, releasing it
        // (docs/compatibility.md#q3-a-displaced-cache-entry-is-not-released fixed).
        drop(
            cached
                .entries
                .set((Arc::clone(id), key.created()), Arc::clone(key)),
        );
        // After the change: a memo taken before it no longer matches (see `LatestMemo`).
        self.version.fetch_add(1, Ordering::Release);
    }

    /// Refresh an existing entry in place from a freshly loaded copy of the same version (docs/compatibility.md#key-cache).
    fn refresh(&self, existing: &KeyHandle<B>, loaded: &CryptoKey<B>, mono: Duration) {
        existing.set_revoked(loaded.is_revoked());
        existing.set_loaded_at(mono);
    }

    fn adopt(&self, key: CryptoKey<B>, mono: Duration) -> KeyHandle<B> {
        key.set_loaded_at(mono);
        Arc::new(key)
    }

    /// Run `loader` for `key`, remembering a failure in the negative cache (and forgetting an old one on success).
    async fn load<Fut>(&self, key: &LoadKey, loader: Fut) -> Result<CryptoKey<B>, Error>
    where
        Fut: Future<Output = Result<CryptoKey<B>, Error>>,
    {
        match scrubbed(loader).await {
            Ok(loaded) => {
                self.failed.clear(key);
                Ok(loaded)
            }
            Err(e) => {
                tracing::debug!(cache = self.kind, id = &*key.0, created = ?key.1, error = %e, "key cache load failed");
                self.failed.record(key.clone(), &e, self.mono());
                Err(e)
            }
        }
    }

    /// A fresh cached entry for `(id, created)`, without loading or waiting (the synchronous hot path).
    pub(crate) fn hit(&self, id: &Arc<str>, created: i64) -> Option<KeyHandle<B>> {
        self.read(id, created)
            .filter(|k| self.is_fresh(k, self.mono()))
    }

    /// The cached latest key if it is fresh and valid, without loading or waiting (the synchronous hot path).
    pub(crate) fn latest_hit(&self, id: &Arc<str>) -> Option<KeyHandle<B>> {
        self.latest_hit_at(id, self.now())
    }

    /// [`latest_hit`](Self::latest_hit) judged at `now` (a time the caller already read from this cache's clock),
    /// so that an operation reads the clock once.
    pub(crate) fn latest_hit_at(&self, id: &Arc<str>, now: Duration) -> Option<KeyHandle<B>> {
        let mono = self.mono();
        self.read_latest(id)
            .filter(|k| self.is_fresh(k, mono) && !self.is_invalid(k, now))
    }

    /// [`latest_hit_at`](Self::latest_hit_at) through the session's `memo`: no map lookup while the cache's latest
    /// entry has not changed since the memo was taken.
    pub(crate) fn latest_hit_memo(
        &self,
        memo: &LatestMemo<B>,
        id: &Arc<str>,
        now: Duration,
    ) -> Option<KeyHandle<B>> {
        // Read before the lookup: a change racing with it leaves the memo behind the version, never ahead.
        let version = self.version.load(Ordering::Acquire);
        let mono = self.mono();
        if let Some(key) = memo.get(version, |k| {
            self.is_fresh(k, mono) && !self.is_invalid(k, now)
        }) {
            return Some(key);
        }
        let key = self.latest_hit_at(id, now)?;
        memo.set(version, &key);
        Some(key)
    }

    /// [`hit`](Self::hit) for the memoised latest key's own version (the decrypt of a record it sealed), else the
    /// map lookup, which memoises the key if it is the latest.
    pub(crate) fn hit_memo(
        &self,
        memo: &LatestMemo<B>,
        id: &Arc<str>,
        created: i64,
    ) -> Option<KeyHandle<B>> {
        let version = self.version.load(Ordering::Acquire);
        let mono = self.mono();
        // Set when the memo is at the cache's version (it then holds the latest key, whatever `created` is).
        let memo_current = std::cell::Cell::new(false);
        if let Some(key) = memo.get(version, |k| {
            memo_current.set(true);
            k.created() == created && self.is_fresh(k, mono)
        }) {
            return Some(key);
        }
        let key = self.read(id, created).filter(|k| self.is_fresh(k, mono))?;
        // A decrypt-only session never encrypts, so nothing else would fill its memo: the latest key found here
        // goes into it, and the next decrypt of a record under that key skips the map lookup. A current memo
        // already holds the latest, so a record under an older version costs no second lookup.
        if !memo_current.get() && self.is_latest(id, created) {
            memo.set(version, &key);
        }
        Some(key)
    }

    /// Whether `(id, created)` is the version the latest pointer names.
    fn is_latest(&self, id: &Arc<str>, created: i64) -> bool {
        self.cached
            .as_ref()
            .is_some_and(|c| c.latest.read().get(&**id) == Some(&created))
    }

    /// A specific version (docs/compatibility.md#key-cache): hit if fresh, else run `loader` once (single-flight per version) and cache
    /// the result. A version whose load failed within the failed-load interval fails at once.
    pub(crate) async fn get_or_load<F, Fut>(
        &self,
        id: &Arc<str>,
        created: i64,
        loader: F,
    ) -> Result<KeyHandle<B>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<CryptoKey<B>, Error>>,
    {
        if self.cached.is_none() {
            return Ok(self.adopt(Box::pin(scrubbed(loader())).await?, self.mono()));
        }
        if let Some(hit) = self.hit(id, created) {
            return Ok(hit);
        }
        // The miss path (gate, failed-load check, load) is a boxed future of its own, so that its state does not
        // make every hit's future larger: a hit then costs what it cost before load gates existed.
        Box::pin(self.get_or_load_miss(id, created, loader)).await
    }

    /// [`get_or_load`](Self::get_or_load) after a miss.
    async fn get_or_load_miss<F, Fut>(
        &self,
        id: &Arc<str>,
        created: i64,
        loader: F,
    ) -> Result<KeyHandle<B>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<CryptoKey<B>, Error>>,
    {
        let key: LoadKey = (Arc::clone(id), Some(created));
        self.failed.check(&key, self.mono())?;
        let lease = self.gates.lease(key.clone());
        let _gate = lease.lock().await;
        let mono = self.mono();
        let existing = self.read(id, created);
        if let Some(hit) = existing.as_ref().filter(|k| self.is_fresh(k, mono)) {
            return Ok(Arc::clone(hit));
        }
        // A load that failed while this call waited for the gate.
        self.failed.check(&key, mono)?;
        let loaded = self.load(&key, loader()).await?;
        let mono = self.mono();
        let handle = match existing.filter(|e| e.created() == loaded.created()) {
            Some(existing) => {
                self.refresh(&existing, &loaded, mono);
                existing
            }
            None => self.adopt(loaded, mono),
        };
        tracing::debug!(
            cache = self.kind,
            id = &**id,
            created = handle.created(),
            "key cache load"
        );
        self.write(id, &handle, Latest::Forward);
        Ok(handle)
    }

    /// The latest version (docs/compatibility.md#key-cache): the cached latest if fresh and valid; otherwise `loader` (which returns the
    /// latest valid key from the metastore, creating one if needed) runs once (single-flight per id) and its key
    /// becomes the latest. A failed load fails the id's latest lookups at once for the failed-load interval.
    pub(crate) async fn get_or_load_latest<F, Fut>(
        &self,
        id: &Arc<str>,
        loader: F,
    ) -> Result<KeyHandle<B>, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<CryptoKey<B>, Error>>,
    {
        if self.cached.is_none() {
            return Ok(self.adopt(Box::pin(scrubbed(loader())).await?, self.mono()));
        }
        if let Some(hit) = self.latest_hit(id) {
            return Ok(hit);
        }
        // As in `get_or_load`: the miss path is boxed so that a hit's future stays small.
        Box::pin(self.get_or_load_latest_miss(id, loader)).await
    }

    /// [`get_or_load_latest`](Self::get_or_load_latest) after a miss.
    async fn get_or_load_latest_miss<F, Fut>(
        &self,
        id: &Arc<str>,
        loader: F,
    ) -> Result<KeyHandle<B>, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<CryptoKey<B>, Error>>,
    {
        let gate_key: LoadKey = (Arc::clone(id), None);
        self.failed.check(&gate_key, self.mono())?;
        let lease = self.gates.lease(gate_key.clone());
        let _gate = lease.lock().await;
        let mono = self.mono();
        let current = self.read_latest(id);
        let key = match current {
            Some(k) if self.is_fresh(&k, mono) => k,
            stale => {
                self.failed.check(&gate_key, mono)?;
                let seen = stale.as_ref().map(|k| k.created());
                let loaded = self.load(&gate_key, loader()).await?;
                let mono = self.mono();
                let handle = match stale.filter(|e| e.created() == loaded.created()) {
                    Some(existing) => {
                        self.refresh(&existing, &loaded, mono);
                        existing
                    }
                    // docs/compatibility.md#q1-refreshing-a-stale-latest-entry fixed: a different version becomes a new entry and the latest.
                    None => self.adopt(loaded, mono),
                };
                self.write(id, &handle, Latest::Replace { seen });
                handle
            }
        };
        if self.is_invalid(&key, self.now()) {
            // docs/compatibility.md#key-cache: the cached latest is revoked or expired; the loader rotates.
            let loaded = self.adopt(self.load(&gate_key, loader()).await?, self.mono());
            tracing::debug!(
                cache = self.kind,
                id = &**id,
                created = loaded.created(),
                "key cache rotated latest"
            );
            self.write(id, &loaded, Latest::Forward);
            return Ok(loaded);
        }
        Ok(key)
    }

    /// Load gates held or awaited right now (0 when no load is in flight).
    #[cfg(test)]
    pub(crate) fn gates_in_use(&self) -> usize {
        self.gates.len()
    }

    /// Number of cached entries (0 for never-cache).
    #[cfg(any(test, feature = "test-util"))] // used by the tests and the lab's benches only
    pub(crate) fn len(&self) -> usize {
        self.cached.as_ref().map_or(0, |c| c.entries.len())
    }

    /// Release every entry (handles in use stay alive until dropped). Idempotent.
    pub(crate) fn close(&self) {
        if let Some(cached) = &self.cached {
            cached.entries.close();
        }
        self.version.fetch_add(1, Ordering::Release);
    }
}

impl<B: AeadBackend> Drop for KeyCache<B> {
    fn drop(&mut self) {
        self.close();
    }
}
