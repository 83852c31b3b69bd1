//! The key cache (spec §5.1–§5.5): system keys per factory, intermediate keys per session (or shared).
//!
//! Entries are `Arc<CryptoKey>`s in a [`Store`] (simple map or bounded engine) keyed by `(id, created)`, plus a
//! `latest` map from id to the newest `created` this cache has seen. A handle is an `Arc` clone: a key evicted
//! while in use lives until its last user drops it, and its secret is wiped once, on the last drop.
//!
//! Hits take a read lock and never await. Misses are single-flight per cache, like Go (quirk Q11): one async gate
//! is held while the loader runs, so concurrent misses for one key run one loader and the others find its result.
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

use crate::cache::{CacheBuilder, EvictionPolicy, Store};
use crate::crypto::{AeadBackend, CryptoKey};
use crate::policy::CryptoPolicy;
use crate::sync::{AtomicU64, Ordering, RwLock};
use crate::{Clock, Error};

/// A key handed out by a cache; drop it to release it.
pub(crate) type KeyHandle<B> = Arc<CryptoKey<B>>;

type EntryKey = (Arc<str>, i64);

/// The single-flight gate around loads. Under loom it is the shim's mutex (the models drive futures that never
/// suspend), elsewhere an async mutex so a waiting load does not block a runtime thread.
#[cfg(not(loom))]
type Gate = tokio::sync::Mutex<()>;
#[cfg(loom)]
type Gate = crate::sync::Mutex<()>;

pub(crate) struct KeyCache<B: AeadBackend> {
    kind: &'static str,
    policy: Arc<CryptoPolicy>,
    clock: Arc<dyn Clock>,
    /// `None`: the "never cache" mode of spec §5.5.
    cached: Option<Cached<B>>,
    gate: Gate,
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

    fn set(&self, version: u64, key: &KeyHandle<B>) {
        let old = self.slot.write().replace(Memo {
            version,
            key: Arc::clone(key),
        });
        drop(old);
    }
}

struct Cached<B: AeadBackend> {
    entries: Store<EntryKey, KeyHandle<B>>,
    latest: RwLock<HashMap<Arc<str>, i64>>,
}

impl<B: AeadBackend> KeyCache<B> {
    /// A cache for `kind` keys ("system" or "intermediate", for logs). `enabled == false` gives the never-cache
    /// mode. `policy`/`capacity` choose the store (spec §5.6): simple is unbounded; bounded engines evict
    /// synchronously below capacity 100, asynchronously otherwise (dropping the evicted handle).
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
        Ok(KeyCache {
            kind,
            policy,
            clock,
            cached,
            gate: Gate::default(),
            version: AtomicU64::new(0),
        })
    }

    fn now(&self) -> Duration {
        self.clock.now()
    }

    /// A cached key is fresh unless it is not revoked and was loaded more than the revoke-check interval ago
    /// (strictly before, spec §1.4). Keys known to be revoked are never reloaded.
    fn is_fresh(&self, key: &CryptoKey<B>, now: Duration) -> bool {
        key.is_revoked() || key.loaded_at() + self.policy.revoke_check_interval >= now
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

    /// Store `key` under `(id, key.created)` and move `latest` forward if it is newer (or if `force_latest`).
    fn write(&self, id: &Arc<str>, key: &KeyHandle<B>, force_latest: bool) {
        let Some(cached) = self.cached.as_ref() else {
            return;
        };
        {
            let mut latest = cached.latest.write();
            match latest.get_mut(&**id) {
                Some(current) if force_latest || *current < key.created() => {
                    *current = key.created()
                }
                Some(_) => {}
                None => {
                    latest.insert(Arc::clone(id), key.created());
                }
            }
        }
        // A displaced entry (same version loaded twice) is dropped here, releasing it (quirk Q3 fixed).
        drop(
            cached
                .entries
                .set((Arc::clone(id), key.created()), Arc::clone(key)),
        );
        // After the change: a memo taken before it no longer matches (see `LatestMemo`).
        self.version.fetch_add(1, Ordering::Release);
    }

    /// Refresh an existing entry in place from a freshly loaded copy of the same version (spec §5.2 step 4).
    fn refresh(&self, existing: &KeyHandle<B>, loaded: &CryptoKey<B>, now: Duration) {
        existing.set_revoked(loaded.is_revoked());
        existing.set_loaded_at(now);
    }

    fn adopt(&self, key: CryptoKey<B>, now: Duration) -> KeyHandle<B> {
        key.set_loaded_at(now);
        Arc::new(key)
    }

    /// A fresh cached entry for `(id, created)`, without loading or waiting (the synchronous hot path).
    pub(crate) fn hit(&self, id: &Arc<str>, created: i64) -> Option<KeyHandle<B>> {
        self.read(id, created)
            .filter(|k| self.is_fresh(k, self.now()))
    }

    /// The cached latest key if it is fresh and valid, without loading or waiting (the synchronous hot path).
    pub(crate) fn latest_hit(&self, id: &Arc<str>) -> Option<KeyHandle<B>> {
        self.latest_hit_at(id, self.now())
    }

    /// [`latest_hit`](Self::latest_hit) judged at `now` (a time the caller already read from this cache's clock),
    /// so that an operation reads the clock once.
    pub(crate) fn latest_hit_at(&self, id: &Arc<str>, now: Duration) -> Option<KeyHandle<B>> {
        self.read_latest(id)
            .filter(|k| self.is_fresh(k, now) && !self.is_invalid(k, now))
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
        if let Some(key) = memo.get(version, |k| {
            self.is_fresh(k, now) && !self.is_invalid(k, now)
        }) {
            return Some(key);
        }
        let key = self.latest_hit_at(id, now)?;
        memo.set(version, &key);
        Some(key)
    }

    /// [`hit`](Self::hit) for the memoised latest key's own version (the decrypt of a record it sealed), else the
    /// map lookup.
    pub(crate) fn hit_memo(
        &self,
        memo: &LatestMemo<B>,
        id: &Arc<str>,
        created: i64,
    ) -> Option<KeyHandle<B>> {
        let version = self.version.load(Ordering::Acquire);
        let now = self.now();
        memo.get(version, |k| k.created() == created && self.is_fresh(k, now))
            .or_else(|| self.read(id, created).filter(|k| self.is_fresh(k, now)))
    }

    /// A specific version (spec §5.2): hit if fresh, else run `loader` once (single-flight) and cache the result.
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
            return Ok(self.adopt(loader().await?, self.now()));
        }
        if let Some(hit) = self.hit(id, created) {
            return Ok(hit);
        }
        let _gate = self.lock_gate().await;
        let now = self.now();
        let existing = self.read(id, created);
        if let Some(hit) = existing.as_ref().filter(|k| self.is_fresh(k, now)) {
            return Ok(Arc::clone(hit));
        }
        let loaded = loader().await?;
        let now = self.now();
        let handle = match existing.filter(|e| e.created() == loaded.created()) {
            Some(existing) => {
                self.refresh(&existing, &loaded, now);
                existing
            }
            None => self.adopt(loaded, now),
        };
        tracing::debug!(
            cache = self.kind,
            id = &**id,
            created = handle.created(),
            "key cache load"
        );
        self.write(id, &handle, false);
        Ok(handle)
    }

    /// The latest version (spec §5.3): the cached latest if fresh and valid; otherwise `loader` (which returns the
    /// latest valid key from the metastore, creating one if needed) runs once and its key becomes the latest.
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
            return Ok(self.adopt(loader().await?, self.now()));
        }
        if let Some(hit) = self.latest_hit(id) {
            return Ok(hit);
        }
        let _gate = self.lock_gate().await;
        let now = self.now();
        let current = self.read_latest(id);
        let key = match current {
            Some(k) if self.is_fresh(&k, now) => k,
            stale => {
                let loaded = loader().await?;
                let now = self.now();
                let handle = match stale.filter(|e| e.created() == loaded.created()) {
                    Some(existing) => {
                        self.refresh(&existing, &loaded, now);
                        existing
                    }
                    // Quirk Q1 fixed: a different version becomes a new entry and the latest.
                    None => self.adopt(loaded, now),
                };
                self.write(id, &handle, true);
                handle
            }
        };
        if self.is_invalid(&key, self.now()) {
            // Spec §5.3 step 4: the cached latest is revoked or expired; the loader rotates.
            let loaded = self.adopt(loader().await?, self.now());
            tracing::debug!(
                cache = self.kind,
                id = &**id,
                created = loaded.created(),
                "key cache rotated latest"
            );
            self.write(id, &loaded, false);
            return Ok(loaded);
        }
        Ok(key)
    }

    #[cfg(not(loom))]
    async fn lock_gate(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.gate.lock().await
    }

    #[cfg(loom)]
    async fn lock_gate(&self) -> crate::sync::MutexGuard<'_, ()> {
        self.gate.lock()
    }

    /// Number of cached entries (0 for never-cache).
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
