//! "Simple or bounded" behind one interface: the backing store of a key cache
//! (docs/compatibility.md#bounded-cache-engine).

use std::borrow::Borrow;
// foldhash: several times faster than SipHash on short keys, still seeded per process against collision
// flooding (key ids contain caller-chosen partition ids).
use foldhash::HashMap;
use std::hash::Hash;

use super::bounded::{BoundedCache, CacheBuilder, CacheKey};
use super::eviction::EvictionPolicy;
use super::worker::{EvictFn, invoke};
use crate::error::Error;
use crate::sync::{self, RwLock};

impl<K: CacheKey, V: Send + 'static> CacheBuilder<K, V> {
    /// A store for `policy`: the unbounded simple map for [`EvictionPolicy::Simple`] (capacity, clock, expiry and
    /// mode are ignored, as in Go), else the bounded engine with that policy.
    pub(crate) fn build_store(self, policy: EvictionPolicy) -> Result<Store<K, V>, Error> {
        match policy.bounded() {
            None => Ok(Store::Simple(SimpleStore::new(self.into_on_evict()))),
            Some(bounded) => self.policy(bounded).build().map(Store::Bounded),
        }
    }
}

/// A key cache's backing store, chosen by [`EvictionPolicy`] through [`CacheBuilder::build_store`].
// One `Store` per key cache: the size difference between the variants does not matter, an extra indirection on
// every lookup would.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Store<K: CacheKey, V: Send + 'static> {
    /// `""`/`"simple"`: unbounded, never evicts.
    Simple(SimpleStore<K, V>),
    /// Any other policy: the bounded engine.
    Bounded(BoundedCache<K, V>),
}

impl<K: CacheKey, V: Send + 'static> Store<K, V> {
    /// Insert or replace; returns the value the store no longer holds (the replaced one, or `value` itself if the
    /// store is closed). Never calls the eviction callback for it.
    pub(crate) fn set(&self, key: K, value: V) -> Option<V> {
        match self {
            Self::Simple(s) => s.set(key, value),
            Self::Bounded(b) => b.set(key, value),
        }
    }

    /// The value for `key` (see [`BoundedCache::get`] for access counting and expiry).
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        match self {
            Self::Simple(s) => s.get(key),
            Self::Bounded(b) => b.get(key),
        }
    }

    /// Remove `key` without the callback, handing its value back.
    #[cfg(test)] // used by the tests only
    pub(crate) fn delete<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self {
            Self::Simple(s) => s.delete(key),
            Self::Bounded(b) => b.delete(key),
        }
    }

    /// Number of entries.
    #[cfg(any(test, feature = "test-util"))] // used by the tests and the lab's benches only
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Simple(s) => s.len(),
            Self::Bounded(b) => b.len(),
        }
    }

    /// Go's `Capacity()`: −1 for the simple store (unbounded), else the configured capacity, 0 once closed.
    #[cfg(test)] // used by the tests only
    pub(crate) fn capacity(&self) -> i64 {
        match self {
            Self::Simple(_) => -1,
            // ≤ MAX_CAPACITY < i64::MAX.
            Self::Bounded(b) => i64::try_from(b.capacity()).unwrap_or(i64::MAX),
        }
    }

    /// Evict (release) everything and make the store unusable. Idempotent.
    pub(crate) fn close(&self) {
        match self {
            Self::Simple(s) => s.close(),
            Self::Bounded(b) => b.close(),
        }
    }
}

/// Go's `simpleCache`: a plain map that never evicts. Reads share a read lock, so concurrent hits don't serialise
/// (Go's version has no lock and relies on the key cache's; ours is safe on its own).
///
/// Two deliberate differences from Go: `delete` really removes (Go's only reports presence — a quirk no caller
/// relies on), and `close` passes every entry to the eviction callback (in unspecified order, like Go's map
/// iteration) so one callback releases keys for both kinds of store; Go's key cache releases them directly.
pub(crate) struct SimpleStore<K, V> {
    state: RwLock<SimpleState<K, V>>,
    on_evict: Option<EvictFn<K, V>>,
}

struct SimpleState<K, V> {
    map: HashMap<K, V>,
    closed: bool,
}

impl<K: CacheKey, V: Send + 'static> SimpleStore<K, V> {
    /// An empty store whose `close` hands every entry to `on_evict`.
    pub(crate) fn new(on_evict: Option<EvictFn<K, V>>) -> Self {
        Self {
            state: RwLock::new(SimpleState {
                map: HashMap::default(),
                closed: false,
            }),
            on_evict,
        }
    }

    /// Insert or replace; returns the replaced value, or `value` if closed.
    pub(crate) fn set(&self, key: K, value: V) -> Option<V> {
        let mut state = sync::write(&self.state);
        if state.closed {
            return Some(value);
        }
        state.map.insert(key, value)
    }

    /// The value for `key`.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        sync::read(&self.state).map.get(key).cloned()
    }

    /// Remove `key`, handing its value back.
    #[cfg(test)] // used by the tests only
    pub(crate) fn delete<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        sync::write(&self.state).map.remove(key)
    }

    /// Number of entries.
    #[cfg(any(test, feature = "test-util"))] // used by the tests and the lab's benches only
    pub(crate) fn len(&self) -> usize {
        sync::read(&self.state).map.len()
    }

    /// Pass every entry to the callback (outside the lock) and refuse further `set`s. Idempotent.
    pub(crate) fn close(&self) {
        let drained: Vec<(K, V)> = {
            let mut state = sync::write(&self.state);
            if state.closed {
                return;
            }
            state.closed = true;
            std::mem::take(&mut state.map).into_iter().collect()
        };
        if let Some(on_evict) = &self.on_evict {
            for (key, value) in drained {
                invoke(on_evict, key, value);
            }
        }
    }
}

impl<K, V> Drop for SimpleStore<K, V> {
    /// Closing on drop, as the bounded engine does: every entry still goes through the callback.
    fn drop(&mut self) {
        // `&mut self`: the lock is uncontended (taking it rather than `get_mut` keeps one code path under loom).
        let drained = {
            let mut state = sync::write(&self.state);
            if state.closed {
                return;
            }
            state.closed = true;
            std::mem::take(&mut state.map)
        };
        if let Some(on_evict) = &self.on_evict {
            for (key, value) in drained {
                invoke(on_evict, key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::bounded::CacheBuilder;
    use crate::cache::eviction::EvictionPolicy;
    use crate::sync::{Arc, Mutex};

    type Log = Arc<Mutex<Vec<(String, u32)>>>;

    fn recorder() -> (Log, impl Fn(String, u32) + Send + Sync + 'static) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        (log, move |k, v| sync::lock(&sink).push((k, v)))
    }

    #[test]
    fn store_simple_never_evicts_and_reports_capacity_minus_one() {
        let (log, cb) = recorder();
        let store = CacheBuilder::new(0) // capacity is ignored by the simple store, as in Go
            .on_evict(cb)
            .build_store(EvictionPolicy::Simple);
        let Ok(store) = store else {
            panic!("simple store must build with any capacity")
        };
        assert!(matches!(store, Store::Simple(_)));
        for i in 0..500u32 {
            assert_eq!(store.set(format!("k{i}"), i), None);
        }
        assert_eq!((store.len(), store.capacity()), (500, -1));
        assert_eq!(
            store.set("k7".to_owned(), 70),
            Some(7),
            "replace hands the old value back"
        );
        assert_eq!(store.get("k7"), Some(70));
        assert_eq!(store.delete("k7"), Some(70));
        assert_eq!(store.get("k7"), None);
        assert!(sync::lock(&log).is_empty(), "no callbacks before close");

        store.close();
        store.close();
        let mut released = std::mem::take(&mut *sync::lock(&log));
        released.sort();
        assert_eq!(
            released.len(),
            499,
            "close releases every entry exactly once"
        );
        assert_eq!((store.len(), store.get("k1")), (0, None));
        assert_eq!(
            store.set("x".to_owned(), 1),
            Some(1),
            "closed: the value is handed back"
        );
    }

    #[test]
    fn store_bounded_policies_build_bounded_engine() {
        for policy in [
            EvictionPolicy::Lru,
            EvictionPolicy::Slru,
            EvictionPolicy::Lfu,
            EvictionPolicy::TinyLfu,
        ] {
            let Ok(store) = CacheBuilder::<String, u32>::new(10).build_store(policy) else {
                panic!("{policy} must build");
            };
            assert!(matches!(store, Store::Bounded(_)), "{policy}");
            for i in 0..20u32 {
                store.set(format!("k{i}"), i);
            }
            assert_eq!((store.len(), store.capacity()), (10, 10), "{policy}");
            store.close();
            assert_eq!((store.len(), store.capacity()), (0, 0), "{policy}");
        }
        let err = CacheBuilder::<String, u32>::new(0)
            .build_store(EvictionPolicy::Lru)
            .err();
        assert!(matches!(
            err,
            Some(crate::error::Error::InvalidCacheCapacity { capacity: 0, .. })
        ));
    }

    #[test]
    fn store_simple_drop_releases_entries() {
        let (log, cb) = recorder();
        let Ok(store) = CacheBuilder::new(1)
            .on_evict(cb)
            .build_store(EvictionPolicy::Simple)
        else {
            panic!("simple store must build")
        };
        store.set("a".to_owned(), 1);
        drop(store);
        assert_eq!(*sync::lock(&log), [("a".to_owned(), 1)]);
    }
}
