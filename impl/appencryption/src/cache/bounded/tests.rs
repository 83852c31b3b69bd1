//! Engine tests: docs/compatibility.md#bounded-cache-engine semantics with a fake clock, per-policy victim tables
//! through the engine, callbacks in both modes, and model-based property tests per policy.

use std::sync::{OnceLock, Weak};
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::cache::store::Store;
use crate::sync::{Arc, Mutex};

type Log<K> = Arc<Mutex<Vec<(K, u64)>>>;

/// A cache with a recording callback.
fn recording<K: CacheKey>(
    capacity: usize,
    policy: BoundedPolicy,
    synchronous: bool,
) -> (BoundedCache<K, u64>, Log<K>) {
    let log: Log<K> = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    let cache = CacheBuilder::new(capacity)
        .policy(policy)
        .synchronous(synchronous)
        .on_evict(move |k, v| sync::lock(&sink).push((k, v)))
        .build();
    match cache {
        Ok(cache) => (cache, log),
        Err(err) => panic!("capacity {capacity}: {err}"),
    }
}

fn keys<K: Clone>(log: &Log<K>) -> Vec<K> {
    sync::lock(log).iter().map(|(k, _)| k.clone()).collect()
}

/// A clock the test moves by hand.
struct FakeClock(Mutex<Duration>);

impl FakeClock {
    fn at(secs: u64) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self(Mutex::new(Duration::from_secs(secs))))
    }
    fn advance(&self, by: Duration) {
        let mut now = sync::lock(&self.0);
        *now += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        *sync::lock(&self.0)
    }
}

const ALL: [BoundedPolicy; 4] = [
    BoundedPolicy::Lru,
    BoundedPolicy::Slru,
    BoundedPolicy::Lfu,
    BoundedPolicy::TinyLfu,
];

// --- builder --------------------------------------------------------------------------------------------------

#[test]
fn capacity_zero_is_rejected_not_a_crash() {
    for policy in ALL {
        let err = CacheBuilder::<String, u64>::new(0)
            .policy(policy)
            .build()
            .err();
        assert!(
            matches!(
                err,
                Some(Error::InvalidCacheCapacity {
                    capacity: 0,
                    max: MAX_CAPACITY
                })
            ),
            "{policy:?}: {err:?}"
        );
    }
    let err = CacheBuilder::<String, u64>::new(MAX_CAPACITY + 1)
        .build()
        .err();
    assert!(matches!(err, Some(Error::InvalidCacheCapacity { .. })));
    let msg = CacheBuilder::<String, u64>::new(0)
        .build()
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        msg.as_deref(),
        Some("cache: capacity must be between 1 and 4294967294, got 0")
    );
}

#[test]
fn capacity_one_works_for_every_policy() {
    for policy in ALL {
        let (cache, log) = recording::<u64>(1, policy, true);
        cache.set(1, 10);
        assert_eq!(cache.get(&1), Some(10));
        cache.set(2, 20);
        assert_eq!(
            (cache.get(&1), cache.get(&2), cache.len()),
            (None, Some(20), 1),
            "{policy:?}"
        );
        assert_eq!(keys(&log), [1], "{policy:?}");
    }
}

#[test]
fn engine_and_store_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<BoundedCache<String, u64>>();
    assert_send_sync::<Store<(String, i64), std::sync::Arc<str>>>();
}

// --- set / get / delete ---------------------------------------------------------------------------------------

#[test]
fn set_get_delete_len_capacity() {
    let (cache, log) = recording::<String>(3, BoundedPolicy::Lru, true);
    assert_eq!((cache.len(), cache.capacity()), (0, 3));
    assert_eq!(cache.set("a".to_owned(), 1), None);
    assert_eq!(cache.set("b".to_owned(), 2), None);
    assert_eq!(cache.get("a"), Some(1));
    assert_eq!(cache.get("zz"), None);
    assert_eq!(cache.delete("a"), Some(1), "delete hands the value back");
    assert_eq!(
        cache.delete("a"),
        None,
        "delete of an absent key reports absence"
    );
    assert_eq!((cache.len(), cache.capacity()), (1, 3));
    assert!(
        sync::lock(&log).is_empty(),
        "delete never fires the callback"
    );
}

#[test]
fn replace_does_not_fire_callback_and_counts_as_access() {
    let (cache, log) = recording::<u64>(2, BoundedPolicy::Lru, true);
    cache.set(1, 10);
    cache.set(2, 20);
    assert_eq!(
        cache.set(1, 11),
        Some(10),
        "the replaced value is handed back"
    );
    assert!(
        sync::lock(&log).is_empty(),
        "no callback for a replaced value"
    );
    assert_eq!(cache.len(), 2);
    // The replace was an access: 2 is now the LRU victim.
    cache.set(3, 30);
    assert_eq!(*sync::lock(&log), [(2, 20)]);
    assert_eq!(cache.get(&1), Some(11));
}

// --- victim order through the engine, per policy --------------------------------------------------------------

#[test]
fn lru_engine_victim_order() {
    let (cache, log) = recording::<u64>(3, BoundedPolicy::Lru, true);
    for k in [1, 2, 3] {
        cache.set(k, k);
    }
    cache.get(&1); // [1, 3, 2]
    cache.set(4, 4); // evicts 2: [4, 1, 3]
    cache.get(&3); // [3, 4, 1]
    cache.set(5, 5); // evicts 1: [5, 3, 4]
    assert_eq!(keys(&log), [2, 1]);
    cache.close(); // victim order, back to front
    assert_eq!(keys(&log), [2, 1, 4, 3, 5]);
}

#[test]
fn slru_engine_demotion_and_victim_order() {
    // Capacity 5: protected holds 4.
    let (cache, log) = recording::<u64>(5, BoundedPolicy::Slru, true);
    for k in 1..=5 {
        cache.set(k, k);
    }
    for k in 1..=4 {
        cache.get(&k); // promote 1..4 to protected; probation = [5]
    }
    cache.get(&5); // promote 5, demote protected's back (1) to probation's front
    cache.set(6, 6); // evicts probation's back: 1
    assert_eq!(keys(&log), [1]);
    cache.set(7, 7); // full again: evicts probation's back, 6
    assert_eq!(keys(&log), [1, 6]);
    // Close: probation back to front (7), then protected back to front (2, 3, 4, 5).
    cache.close();
    assert_eq!(keys(&log), [1, 6, 7, 2, 3, 4, 5]);
}

#[test]
fn lfu_engine_tie_break_by_arrival_at_frequency() {
    let (cache, log) = recording::<u64>(3, BoundedPolicy::Lfu, true);
    for k in [1, 2, 3] {
        cache.set(k, k);
    }
    cache.get(&3);
    cache.get(&1); // freq 2: [3, 1]; freq 1: [2]
    cache.set(4, 4); // evicts 2 (lowest frequency)
    assert_eq!(keys(&log), [2]);
    cache.set(5, 5); // evicts 4 (freq 1, alone)
    assert_eq!(keys(&log), [2, 4]);
    cache.get(&5); // 5 reaches freq 2 after 3 and 1
    cache.close(); // freq 2 in arrival order: 3, 1, 5
    assert_eq!(keys(&log), [2, 4, 3, 1, 5]);
}

/// Go's `TinyLFUSuite.TestEvict` (capacity 100, int keys).
#[test]
fn tinylfu_engine_keeps_frequent_items_go_test_evict() {
    let (cache, _log) = recording::<i64>(100, BoundedPolicy::TinyLfu, true);
    for i in 0..100 {
        cache.set(i, 0);
    }
    for i in 0..50 {
        assert!(cache.get(&i).is_some());
    }
    cache.set(999, 0);
    assert!(cache.get(&999).is_some());
    assert_eq!(cache.len(), 100);
    for i in 0..100 {
        cache.set(i + 1000, 0);
    }
    assert!(cache.get(&999).is_some(), "item 999 should be in the cache");
    for i in 0..50 {
        assert!(cache.get(&i).is_some(), "item {i} should be in the cache");
    }
}

/// docs/compatibility.md#q5-tinylfu-below-capacity-100: Go panics on the first hit or removal below capacity 100.
/// Capacities around the window threshold, with hits, deletes, evictions and close.
#[test]
fn tinylfu_small_and_threshold_capacities_never_panic_q5() {
    for capacity in [1usize, 2, 50, 99, 100, 101, 1000] {
        let (cache, log) = recording::<String>(capacity, BoundedPolicy::TinyLfu, true);
        let n = capacity * 3;
        for i in 0..n {
            cache.set(format!("k{i}"), i as u64);
            cache.get(format!("k{}", i / 2).as_str());
            if i % 7 == 0 {
                cache.delete(format!("k{}", i / 3).as_str());
            }
            cache.get(format!("k{i}").as_str());
            assert!(cache.len() <= capacity);
        }
        let evicted = sync::lock(&log).len();
        let remaining = cache.len();
        cache.close();
        assert_eq!(
            sync::lock(&log).len(),
            evicted + remaining,
            "capacity {capacity}"
        );
    }
}

// --- expiry ---------------------------------------------------------------------------------------------------

fn expiring(clock: &std::sync::Arc<FakeClock>) -> (BoundedCache<String, u64>, Log<String>) {
    let log: Log<String> = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    let cache = CacheBuilder::new(10)
        .expiry(Duration::from_secs(60))
        .clock(clock.clone())
        .synchronous(true)
        .on_evict(move |k, v| sync::lock(&sink).push((k, v)))
        .build();
    let Ok(cache) = cache else {
        panic!("valid config")
    };
    (cache, log)
}

#[test]
fn expired_entry_is_evicted_lazily_on_get_with_callback() {
    let clock = FakeClock::at(1_000);
    let (cache, log) = expiring(&clock);
    cache.set("a".to_owned(), 1);
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        cache.get("a"),
        Some(1),
        "deadline == now is not expired (Go: expiration.Before(now))"
    );
    assert_eq!(cache.len(), 1);
    clock.advance(Duration::from_nanos(1));
    assert_eq!(
        cache.len(),
        1,
        "no sweeper: still there until someone looks"
    );
    assert_eq!(cache.get("a"), None);
    assert_eq!(*sync::lock(&log), [("a".to_owned(), 1)]);
    assert_eq!(cache.len(), 0);
}

#[test]
fn get_does_not_extend_expiry_but_replacing_set_does() {
    let clock = FakeClock::at(1_000);
    let (cache, log) = expiring(&clock);
    cache.set("busy".to_owned(), 1);
    cache.set("renewed".to_owned(), 1);
    for _ in 0..6 {
        clock.advance(Duration::from_secs(10));
        assert_eq!(cache.get("busy"), Some(1));
    }
    cache.set("renewed".to_owned(), 2); // at +60 s: new deadline +120 s
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        cache.get("busy"),
        None,
        "an always-hit entry still expires (docs/compatibility.md#q6-session-lifetime-counts-from-insertion)"
    );
    assert_eq!(cache.get("renewed"), Some(2));
    assert_eq!(keys(&log), ["busy"]);
}

#[test]
fn zero_expiry_means_never() {
    let clock = FakeClock::at(0);
    let Ok(cache) = CacheBuilder::<u64, u64>::new(2)
        .expiry(Duration::ZERO)
        .clock(clock.clone())
        .build()
    else {
        panic!("valid config")
    };
    cache.set(1, 1);
    clock.advance(Duration::from_secs(1 << 40));
    assert_eq!(cache.get(&1), Some(1));
}

// --- close ----------------------------------------------------------------------------------------------------

#[test]
fn close_evicts_all_in_victim_order_is_idempotent_and_final() {
    for synchronous in [true, false] {
        let (cache, log) = recording::<u64>(4, BoundedPolicy::Lru, synchronous);
        for k in 1..=4 {
            cache.set(k, k * 10);
        }
        cache.get(&2);
        cache.close();
        // Callbacks have all run when close returns, in both modes.
        assert_eq!(
            *sync::lock(&log),
            [(1, 10), (3, 30), (4, 40), (2, 20)],
            "sync={synchronous}"
        );
        cache.close();
        assert_eq!(sync::lock(&log).len(), 4, "second close does nothing");
        assert_eq!(
            (cache.len(), cache.capacity(), cache.is_closed()),
            (0, 0, true)
        );
        assert_eq!(
            cache.set(9, 90),
            Some(90),
            "set after close stores nothing and hands the value back"
        );
        assert_eq!(
            (cache.get(&9), cache.delete(&9), cache.len()),
            (None, None, 0)
        );
        assert_eq!(sync::lock(&log).len(), 4);
    }
}

#[test]
fn drop_closes_the_cache() {
    let (cache, log) = recording::<u64>(4, BoundedPolicy::Lfu, false);
    cache.set(1, 1);
    cache.set(2, 2);
    drop(cache);
    assert_eq!(keys(&log), [1, 2]);
}

// --- callbacks: modes, order, re-entrancy, panics --------------------------------------------------------------

#[test]
fn async_worker_preserves_eviction_order_off_the_caller_thread() {
    type ThreadLog = Arc<Mutex<Vec<(u64, Option<String>)>>>;
    let log: ThreadLog = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    let Ok(cache) = CacheBuilder::<u64, u64>::new(1)
        .on_evict(move |k, _| {
            sync::lock(&sink).push((k, std::thread::current().name().map(str::to_owned)))
        })
        .build()
    else {
        panic!("valid config")
    };
    for k in 0..200 {
        cache.set(k, k);
    }
    cache.close();
    let log = sync::lock(&log);
    assert_eq!(
        log.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        (0..200).collect::<Vec<_>>()
    );
    assert!(
        log.iter()
            .all(|(_, t)| t.as_deref() == Some("asherah-cache-evict"))
    );
}

#[test]
fn async_evictions_from_many_threads_all_run_exactly_once() {
    let (cache, log) = recording::<u64>(8, BoundedPolicy::Slru, false);
    let cache = Arc::new(cache);
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let cache = Arc::clone(&cache);
            std::thread::spawn(move || {
                for i in 0..500 {
                    cache.set(t * 1000 + i, i);
                    cache.get(&(t * 1000 + i / 2));
                }
            })
        })
        .collect();
    for t in threads {
        assert!(t.join().is_ok());
    }
    cache.close();
    let mut seen = keys(&log);
    seen.sort_unstable();
    let expected: Vec<u64> = (0..4)
        .flat_map(|t| (0..500).map(move |i| t * 1000 + i))
        .collect();
    assert_eq!(seen, expected);
}

/// A callback gets its cache through this (set after the cache is built).
type Backref = std::sync::Arc<OnceLock<Weak<BoundedCache<u64, u64>>>>;

fn reentrant(synchronous: bool, close_inside: bool) -> (Arc<BoundedCache<u64, u64>>, Log<u64>) {
    let backref: Backref = std::sync::Arc::new(OnceLock::new());
    let log: Log<u64> = Arc::new(Mutex::new(Vec::new()));
    let (cb_backref, sink) = (backref.clone(), Arc::clone(&log));
    let cache = CacheBuilder::new(2)
        .synchronous(synchronous)
        .on_evict(move |k, v| {
            sync::lock(&sink).push((k, v));
            if let Some(cache) = cb_backref.get().and_then(Weak::upgrade) {
                // Touch the cache from inside its own callback: must not deadlock.
                let _ = cache.get(&k);
                let _ = cache.len();
                if close_inside {
                    cache.close();
                } else if k < 100 {
                    cache.set(k + 100, v);
                }
            }
        })
        .build();
    let Ok(cache) = cache else {
        panic!("valid config")
    };
    let cache = Arc::new(cache);
    let _ = backref.set(Arc::downgrade(&cache));
    (cache, log)
}

#[test]
fn callback_may_use_the_cache_without_deadlock() {
    for synchronous in [true, false] {
        let (cache, log) = reentrant(synchronous, false);
        for k in 0..5 {
            cache.set(k, k);
        }
        cache.close();
        let log = keys(&log);
        // Every key set (directly or by a callback before close) was evicted exactly once.
        let mut sorted = log.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), log.len(), "sync={synchronous}: {log:?}");
        assert!(
            log.contains(&0) && log.contains(&4),
            "sync={synchronous}: {log:?}"
        );
    }
}

#[test]
fn callback_may_close_its_own_cache() {
    for synchronous in [true, false] {
        let (cache, log) = reentrant(synchronous, true);
        for k in 0..3 {
            cache.set(k, k); // the third set evicts 0, whose callback closes the cache
        }
        cache.close(); // waits for the worker in async mode
        assert!(cache.is_closed());
        assert_eq!(keys(&log), [0, 1, 2], "sync={synchronous}");
    }
}

#[test]
fn panicking_callback_does_not_stop_later_callbacks() {
    for synchronous in [true, false] {
        let log: Log<u64> = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        let Ok(cache) = CacheBuilder::<u64, u64>::new(1)
            .synchronous(synchronous)
            .on_evict(move |k, v| {
                assert!(k != 1, "callback failure for key 1");
                sync::lock(&sink).push((k, v));
            })
            .build()
        else {
            panic!("valid config")
        };
        for k in 0..4 {
            cache.set(k, k);
        }
        cache.close();
        assert_eq!(keys(&log), [0, 2, 3], "sync={synchronous}");
    }
}

#[test]
fn no_callback_needs_no_worker() {
    let Ok(cache) = CacheBuilder::<u64, u64>::new(1).build() else {
        panic!("valid config")
    };
    assert!(cache.worker.is_none());
    cache.set(1, 1);
    cache.set(2, 2);
    assert_eq!((cache.get(&1), cache.get(&2)), (None, Some(2)));
}

// --- model-based property tests -------------------------------------------------------------------------------

/// One step of a stateful test (value-only, so failures shrink well).
#[derive(Debug, Clone, Copy)]
enum Action {
    Set(u16),
    Get(u16),
    Delete(u16),
}

fn actions(keys: u16, max_len: usize) -> impl Strategy<Value = Vec<Action>> {
    prop::collection::vec(
        prop_oneof![
            4 => (0..keys).prop_map(Action::Set),
            4 => (0..keys).prop_map(Action::Get),
            1 => (0..keys).prop_map(Action::Delete),
        ],
        0..max_len,
    )
}

/// A slow, obviously-correct reference for a policy's victim choice.
trait Model {
    fn admit(&mut self, k: u16);
    fn access(&mut self, k: u16);
    fn remove(&mut self, k: u16);
    fn victim(&self) -> Option<u16>;
}

/// LRU: front = most recent.
#[derive(Default)]
struct LruModel(Vec<u16>);

impl Model for LruModel {
    fn admit(&mut self, k: u16) {
        self.0.insert(0, k);
    }
    fn access(&mut self, k: u16) {
        self.remove(k);
        self.admit(k);
    }
    fn remove(&mut self, k: u16) {
        self.0.retain(|&x| x != k);
    }
    fn victim(&self) -> Option<u16> {
        self.0.last().copied()
    }
}

/// SLRU: two recency vectors, front = most recent.
struct SlruModel {
    probation: Vec<u16>,
    protected: Vec<u16>,
    protected_capacity: usize,
}

impl Model for SlruModel {
    fn admit(&mut self, k: u16) {
        self.probation.insert(0, k);
    }
    fn access(&mut self, k: u16) {
        if let Some(i) = self.protected.iter().position(|&x| x == k) {
            self.protected.remove(i);
            self.protected.insert(0, k);
            return;
        }
        self.probation.retain(|&x| x != k);
        self.protected.insert(0, k);
        if self.protected.len() > self.protected_capacity
            && let Some(d) = self.protected.pop()
        {
            self.probation.insert(0, d);
        }
    }
    fn remove(&mut self, k: u16) {
        self.probation.retain(|&x| x != k);
        self.protected.retain(|&x| x != k);
    }
    fn victim(&self) -> Option<u16> {
        self.probation.last().or(self.protected.last()).copied()
    }
}

/// LFU: (key, frequency, sequence number of arrival at that frequency).
#[derive(Default)]
struct LfuModel {
    items: Vec<(u16, u64, u64)>,
    clock: u64,
}

impl Model for LfuModel {
    fn admit(&mut self, k: u16) {
        self.clock += 1;
        self.items.push((k, 1, self.clock));
    }
    fn access(&mut self, k: u16) {
        self.clock += 1;
        if let Some(item) = self.items.iter_mut().find(|i| i.0 == k) {
            item.1 += 1;
            item.2 = self.clock;
        }
    }
    fn remove(&mut self, k: u16) {
        self.items.retain(|i| i.0 != k);
    }
    fn victim(&self) -> Option<u16> {
        self.items.iter().min_by_key(|i| (i.1, i.2)).map(|i| i.0)
    }
}

/// Runs `actions` against the engine (synchronous callbacks) and checks, after every step: `len ≤ capacity`;
/// every entry is either still cached with its latest value or was passed to the callback exactly once (nothing
/// lost, nothing duplicated); a replaced or deleted value is handed back, never to the callback; and, with a
/// `model`, every victim (eviction and close order) is the one the model predicts.
fn check_engine(
    policy: BoundedPolicy,
    capacity: usize,
    actions: &[Action],
    mut model: Option<&mut dyn Model>,
) -> Result<(), TestCaseError> {
    let (cache, log) = recording::<u16>(capacity, policy, true);
    let mut expected: std::collections::HashMap<u16, u64> = std::collections::HashMap::new();
    let mut seen = 0;
    for (step, &action) in actions.iter().enumerate() {
        let value = step as u64;
        match action {
            Action::Set(k) => {
                let full = expected.len() == capacity;
                let predicted = if expected.contains_key(&k) || !full {
                    None
                } else {
                    model.as_deref().and_then(Model::victim)
                };
                let returned = cache.set(k, value);
                prop_assert_eq!(
                    returned,
                    expected.get(&k).copied(),
                    "step {}: set({}) return",
                    step,
                    k
                );
                let new: Vec<(u16, u64)> = sync::lock(&log)[seen..].to_vec();
                seen += new.len();
                if expected.contains_key(&k) {
                    prop_assert!(new.is_empty(), "step {}: replace fired the callback", step);
                    if let Some(m) = model.as_deref_mut() {
                        m.access(k);
                    }
                } else {
                    prop_assert_eq!(
                        new.len(),
                        usize::from(full),
                        "step {}: evictions on set",
                        step
                    );
                    for (ek, ev) in &new {
                        prop_assert_eq!(
                            expected.remove(ek),
                            Some(*ev),
                            "step {}: evicted a live entry",
                            step
                        );
                        if let Some(m) = model.as_deref_mut() {
                            m.remove(*ek);
                        }
                    }
                    if let Some(p) = predicted {
                        prop_assert_eq!(new[0].0, p, "step {}: victim", step);
                    }
                    if let Some(m) = model.as_deref_mut() {
                        m.admit(k);
                    }
                }
                expected.insert(k, value);
            }
            Action::Get(k) => {
                prop_assert_eq!(
                    cache.get(&k),
                    expected.get(&k).copied(),
                    "step {}: get({})",
                    step,
                    k
                );
                if expected.contains_key(&k)
                    && let Some(m) = model.as_deref_mut()
                {
                    m.access(k);
                }
            }
            Action::Delete(k) => {
                prop_assert_eq!(
                    cache.delete(&k),
                    expected.remove(&k),
                    "step {}: delete({})",
                    step,
                    k
                );
                if let Some(m) = model.as_deref_mut() {
                    m.remove(k);
                }
            }
        }
        prop_assert_eq!(
            sync::lock(&log).len(),
            seen,
            "step {}: unexpected callback",
            step
        );
        prop_assert!(cache.len() <= capacity);
        prop_assert_eq!(cache.len(), expected.len(), "step {}: len", step);
        for k in expected.keys() {
            prop_assert!(cache.contains(k), "step {}: lost {}", step, k);
        }
    }

    cache.close();
    let closed: Vec<(u16, u64)> = sync::lock(&log)[seen..].to_vec();
    prop_assert_eq!(closed.len(), expected.len(), "close evicts everything once");
    for (k, v) in &closed {
        if let Some(m) = model.as_deref_mut() {
            prop_assert_eq!(Some(*k), m.victim(), "close order");
            m.remove(*k);
        }
        prop_assert_eq!(
            expected.remove(k),
            Some(*v),
            "close passed a stale or duplicate entry"
        );
    }
    Ok(())
}

proptest! {
    #[test]
    fn prop_lru_victims_match_vec_model(capacity in 1usize..6, actions in actions(10, 120)) {
        let mut model = LruModel::default();
        check_engine(BoundedPolicy::Lru, capacity, &actions, Some(&mut model))?;
    }

    #[test]
    fn prop_slru_victims_match_two_list_model(capacity in 1usize..8, actions in actions(12, 150)) {
        let mut model = SlruModel {
            probation: Vec::new(),
            protected: Vec::new(),
            protected_capacity: (capacity as f64 * 0.8) as usize,
        };
        check_engine(BoundedPolicy::Slru, capacity, &actions, Some(&mut model))?;
    }

    #[test]
    fn prop_lfu_victims_match_frequency_arrival_model(capacity in 1usize..6, actions in actions(10, 150)) {
        let mut model = LfuModel::default();
        check_engine(BoundedPolicy::Lfu, capacity, &actions, Some(&mut model))?;
    }

    #[test]
    fn prop_tinylfu_never_loses_or_duplicates_entries(
        capacity in prop_oneof![Just(1usize), Just(2), Just(50), Just(99), Just(100), Just(101), Just(250)],
        actions in actions(400, 600),
    ) {
        check_engine(BoundedPolicy::TinyLfu, capacity, &actions, None)?;
    }

    #[test]
    fn prop_tinylfu_small_key_space_hits_and_removals(capacity in 1usize..8, actions in actions(12, 200)) {
        check_engine(BoundedPolicy::TinyLfu, capacity, &actions, None)?;
    }
}
