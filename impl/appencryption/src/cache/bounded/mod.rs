//! The generic bounded cache engine (docs/compatibility.md#bounded-cache-engine, Go `pkg/cache`).
//!
//! One mutex guards a key → slot map, a slab of entries and the eviction policy. Entries are identified by their
//! slab slot, which the policy links into its index-based lists, so no operation allocates once the slab has grown
//! to capacity (except cloning the key on insert).
//!
//! **Callbacks never run under the lock.** In synchronous mode the callback for an entry evicted by `set`/`get`/
//! `close` runs on the calling thread after the lock is released and before the call returns; so a callback may
//! use the cache (even close it) without deadlock. Go runs it under the lock instead; the observable difference is
//! that callbacks from *different* threads may run in either order (each thread still sees its own in order). If a
//! consumer needs one global order it uses asynchronous mode: there the event is queued under the lock, so the
//! worker runs callbacks in exact eviction order (see [`super::worker`]).

use std::borrow::Borrow;
// foldhash: several times faster than SipHash on short keys, still seeded per process against collision
// flooding (key ids contain caller-chosen partition ids).
use foldhash::HashMap;
use std::hash::Hash;
use std::time::Duration;

use super::eviction::fnv::CacheKeyHash;
use super::eviction::list::Slot;
use super::eviction::{AnyPolicy, BoundedPolicy, Policy};
use super::worker::{EvictFn, Worker, invoke};
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::sync::{self, Mutex};

/// What a cache key must be: hashable for the map, [`CacheKeyHash`] for TinyLFU, cloneable (the slab keeps a copy
/// to find the map entry of a victim), and sendable to the eviction worker.
pub(crate) trait CacheKey: Eq + Hash + Clone + CacheKeyHash + Send + 'static {}
impl<T: Eq + Hash + Clone + CacheKeyHash + Send + 'static> CacheKey for T {}

/// The largest capacity: slots are `u32` and `u32::MAX` marks a list end.
pub(crate) const MAX_CAPACITY: usize = (u32::MAX - 1) as usize;

/// Configures a [`BoundedCache`] (or, through `build_store` in `store.rs`, a key cache's store).
pub(crate) struct CacheBuilder<K, V> {
    capacity: usize,
    policy: BoundedPolicy,
    on_evict: Option<EvictFn<K, V>>,
    clock: std::sync::Arc<dyn Clock>,
    expiry: Duration,
    synchronous: bool,
}

impl<K: CacheKey, V: Send + 'static> CacheBuilder<K, V> {
    /// Go's defaults: LRU, no-op callback, system clock, no expiry, asynchronous callbacks.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            policy: BoundedPolicy::default(),
            on_evict: None,
            clock: std::sync::Arc::new(SystemClock),
            expiry: Duration::ZERO,
            synchronous: false,
        }
    }

    /// The eviction policy.
    pub(crate) fn policy(mut self, policy: BoundedPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Called with every entry the cache evicts (capacity, expiry found by `get`, `close`); never for a value
    /// replaced by `set` or removed by `delete`, which are handed back to the caller instead.
    pub(crate) fn on_evict(mut self, on_evict: impl Fn(K, V) + Send + Sync + 'static) -> Self {
        self.on_evict = Some(std::sync::Arc::new(on_evict));
        self
    }

    /// The time source for expiry.
    pub(crate) fn clock(mut self, clock: std::sync::Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Entries expire this long after their last `set`; zero means never.
    pub(crate) fn expiry(mut self, expiry: Duration) -> Self {
        self.expiry = expiry;
        self
    }

    /// Run callbacks on the evicting thread (after the lock is released) instead of the background worker.
    pub(crate) fn synchronous(mut self, synchronous: bool) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// The bounded engine. Capacity must be in `1..=MAX_CAPACITY` ([`Error::InvalidCacheCapacity`]).
    pub(crate) fn build(self) -> Result<BoundedCache<K, V>, Error> {
        if !(1..=MAX_CAPACITY).contains(&self.capacity) {
            return Err(Error::InvalidCacheCapacity {
                capacity: self.capacity,
                max: MAX_CAPACITY,
            });
        }
        let policy = AnyPolicy::new(self.policy, self.capacity);
        // Without a callback there is nothing to run, so no worker either: evicted entries are dropped inline
        // (after the lock is released, since dropping a value may run arbitrary code).
        let worker = match &self.on_evict {
            Some(on_evict) if !self.synchronous => {
                Some(Worker::new(std::sync::Arc::clone(on_evict)))
            }
            _ => None,
        };
        Ok(BoundedCache {
            inner: Mutex::new(Inner {
                map: HashMap::default(),
                entries: Vec::new(),
                free: Vec::new(),
                hash_keys: policy.uses_hash(),
                policy,
                capacity: self.capacity,
                closed: false,
            }),
            on_evict: self.on_evict,
            worker,
            clock: self.clock,
            expiry: (!self.expiry.is_zero()).then_some(self.expiry),
        })
    }

    /// The eviction callback alone, for a store that is not bounded (see `store.rs`).
    pub(super) fn into_on_evict(self) -> Option<EvictFn<K, V>> {
        self.on_evict
    }
}

/// One cached entry.
struct Entry<K, V> {
    key: K,
    value: V,
    /// Deadline (since the unix epoch); `None` when the cache has no expiry.
    expires_at: Option<Duration>,
}

/// Everything the engine's mutex guards.
struct Inner<K, V> {
    map: HashMap<K, Slot>,
    /// The slab; `None` marks a free slot (listed in `free`).
    entries: Vec<Option<Entry<K, V>>>,
    free: Vec<Slot>,
    policy: AnyPolicy,
    hash_keys: bool,
    /// Configured capacity; 0 once closed.
    capacity: usize,
    closed: bool,
}

impl<K: CacheKey, V> Inner<K, V> {
    /// Insert a key known to be absent into a cache with room. Hands the entry back in the (unreachable: capacity
    /// ≤ `MAX_CAPACITY`) case that no slot number is left.
    fn insert(&mut self, entry: Entry<K, V>) -> Result<(), Entry<K, V>> {
        let hash = if self.hash_keys {
            entry.key.cache_key_hash()
        } else {
            0
        };
        let key = entry.key.clone();
        let slot = match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = Some(entry);
                slot
            }
            None => {
                let Ok(slot) = Slot::try_from(self.entries.len()) else {
                    return Err(entry);
                };
                self.entries.push(Some(entry));
                slot
            }
        };
        self.map.insert(key, slot);
        self.policy.admit(slot, hash);
        Ok(())
    }

    /// Remove the entry in `slot` from the policy, the slab and the map.
    fn take(&mut self, slot: Slot) -> Option<Entry<K, V>> {
        let entry = self.entries.get_mut(slot as usize)?.take()?;
        self.policy.remove(slot);
        self.free.push(slot);
        self.map.remove(&entry.key);
        Some(entry)
    }

    /// Evict the policy's victim.
    fn evict_victim(&mut self) -> Option<(K, V)> {
        let slot = self.policy.victim()?;
        let entry = self.take(slot);
        debug_assert!(entry.is_some(), "policy victim {slot} is not a live slot");
        entry.map(|e| (e.key, e.value))
    }
}

/// The bounded cache engine of docs/compatibility.md#bounded-cache-engine. Safe for concurrent use; see the module
/// documentation for when callbacks run. Dropping it closes it (every remaining entry goes through the callback).
pub(crate) struct BoundedCache<K: CacheKey, V: Send + 'static> {
    inner: Mutex<Inner<K, V>>,
    on_evict: Option<EvictFn<K, V>>,
    /// Present iff callbacks run asynchronously.
    worker: Option<Worker<K, V>>,
    clock: std::sync::Arc<dyn Clock>,
    expiry: Option<Duration>,
}

impl<K: CacheKey, V: Send + 'static> BoundedCache<K, V> {
    /// Insert or replace. A new key evicts the policy's victim first if the cache is full; a replaced value gets a
    /// fresh expiry, counts as an access and is **returned, not passed to the callback**. On a closed cache nothing
    /// is stored and `value` is returned. In short: the result is the value the cache no longer holds, if any.
    pub(crate) fn set(&self, key: K, value: V) -> Option<V> {
        let expires_at = self.deadline();
        let mut guard = sync::lock(&self.inner);
        let inner = &mut *guard;
        if inner.closed {
            return Some(value);
        }
        if let Some(&slot) = inner.map.get(&key) {
            if let Some(entry) = inner
                .entries
                .get_mut(slot as usize)
                .and_then(Option::as_mut)
            {
                let old = std::mem::replace(&mut entry.value, value);
                if expires_at.is_some() {
                    entry.expires_at = expires_at;
                }
                inner.policy.access(slot);
                return Some(old);
            }
            debug_assert!(false, "map points at free slot {slot}");
            return Some(value);
        }
        let evicted = if inner.map.len() >= inner.capacity {
            inner.evict_victim()
        } else {
            None
        };
        let rejected = inner
            .insert(Entry {
                key,
                value,
                expires_at,
            })
            .err()
            .map(|entry| entry.value);
        let evicted = self.hand_off(evicted);
        drop(guard);
        self.run_inline(evicted);
        rejected
    }

    /// The value for `key`, counting as an access. An entry past its expiry is evicted (callback fires) and reported
    /// as a miss. A hit does not extend the expiry. A closed cache misses.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        let now = self.expiry.map(|_| self.clock.now());
        let mut guard = sync::lock(&self.inner);
        let inner = &mut *guard;
        if inner.closed {
            return None;
        }
        let slot = *inner.map.get(key)?;
        let entry = inner.entries.get(slot as usize)?.as_ref()?;
        let expired =
            matches!((entry.expires_at, now), (Some(deadline), Some(now)) if deadline < now);
        if !expired {
            let value = entry.value.clone();
            inner.policy.access(slot);
            return Some(value);
        }
        let evicted = inner.take(slot).map(|e| (e.key, e.value));
        let evicted = self.hand_off(evicted);
        drop(guard);
        self.run_inline(evicted);
        None
    }

    /// Remove `key` without the callback, handing its value back. A closed cache has nothing to remove.
    #[cfg(test)] // used by the tests only
    pub(crate) fn delete<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut guard = sync::lock(&self.inner);
        if guard.closed {
            return None;
        }
        let slot = *guard.map.get(key)?;
        guard.take(slot).map(|e| e.value)
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        sync::lock(&self.inner).map.len()
    }

    /// Configured capacity; 0 once closed.
    #[cfg(test)] // used by the tests only
    pub(crate) fn capacity(&self) -> usize {
        sync::lock(&self.inner).capacity
    }

    /// Whether [`close`](Self::close) has run.
    #[cfg(all(test, not(loom)))] // used by the tests only
    pub(crate) fn is_closed(&self) -> bool {
        sync::lock(&self.inner).closed
    }

    /// Evict every entry in the policy's victim order (callbacks fire), wait for the worker to finish them, and make
    /// the cache unusable: later `set`s hand their value back, `get`/`delete` miss. Idempotent.
    pub(crate) fn close(&self) {
        let mut guard = sync::lock(&self.inner);
        let inner = &mut *guard;
        if inner.closed {
            drop(guard);
            // A concurrent or repeated close also returns only once the worker is done. (In synchronous mode the
            // first closer runs the callbacks on its own thread; a concurrent second close does not wait for it.)
            if let Some(worker) = &self.worker {
                worker.wait_exited();
            }
            return;
        }
        inner.closed = true;
        let mut evicted = Vec::with_capacity(inner.map.len());
        while let Some(e) = inner.evict_victim() {
            evicted.push(e);
        }
        // Defence in depth: a policy that lost track of an entry must not make `close` leak it.
        debug_assert!(
            inner.map.is_empty(),
            "policy lost {} entries",
            inner.map.len()
        );
        evicted.extend(inner.entries.drain(..).flatten().map(|e| (e.key, e.value)));
        inner.map = HashMap::default();
        inner.free = Vec::new();
        inner.policy = AnyPolicy::new(BoundedPolicy::Lru, 0);
        inner.capacity = 0;

        let inline = match &self.worker {
            Some(worker) => worker.close(evicted),
            None => evicted,
        };
        drop(guard);
        for event in inline {
            self.run_inline(Some(event));
        }
        if let Some(worker) = &self.worker {
            worker.wait_exited();
        }
    }

    /// Expiry deadline for an entry set now, if the cache expires entries.
    fn deadline(&self) -> Option<Duration> {
        self.expiry
            .map(|expiry| self.clock.now().saturating_add(expiry))
    }

    /// With the lock held: queue an eviction on the worker (keeping eviction order). Returns what is left to run
    /// inline once the lock is released.
    fn hand_off(&self, evicted: Option<(K, V)>) -> Option<(K, V)> {
        match (&self.worker, evicted) {
            (Some(worker), Some(event)) => worker.post(event),
            (_, evicted) => evicted,
        }
    }

    /// Without the lock: run (or, with no callback, drop) an eviction.
    fn run_inline(&self, evicted: Option<(K, V)>) {
        if let (Some(on_evict), Some((key, value))) = (&self.on_evict, evicted) {
            invoke(on_evict, key, value);
        }
    }

    /// Whether `key` is cached, without counting an access or checking expiry (tests only).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn contains<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        sync::lock(&self.inner).map.contains_key(key)
    }
}

impl<K: CacheKey, V: Send + 'static> Drop for BoundedCache<K, V> {
    fn drop(&mut self) {
        self.close();
    }
}

// The engine tests use std threads and `Arc::downgrade`; loom models of the caches live in `key_cache_loom.rs` and
// `session_usage_loom.rs`.
#[cfg(all(test, not(loom)))]
mod tests;
