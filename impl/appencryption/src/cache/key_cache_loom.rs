//! Loom models of the key cache's get-or-load, on the real `KeyCache` (its locks and atomics come from the loom
//! shim; its load gate is the shim's mutex under loom). Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p appencryption --no-default-features --release --lib _loom::`.

use securememory::loom_support::model;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use loom::thread;
use securememory::{MemoryKind, SecretFactory};
use zeroize::Zeroizing;

use super::key_cache::{KeyCache, KeyHandle, LatestMemo};
use crate::cache::eviction::EvictionPolicy;
use crate::clock::Clock;
use crate::crypto::{AesGcmBackend, CryptoKey};
use crate::error::Error;
use crate::policy::{CryptoPolicy, KeyMode};
use crate::poll::poll_once;

struct ModelClock(AtomicU64);

impl Clock for ModelClock {
    fn now(&self) -> Duration {
        Duration::from_secs(self.0.load(Ordering::SeqCst))
    }
}

/// Loaders in these models never suspend, so one poll completes them.
fn ready<T>(future: impl Future<Output = T>) -> T {
    match poll_once(pin!(future)) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("model futures never suspend"),
    }
}

fn key(created: i64, revoked: bool) -> Result<CryptoKey<AesGcmBackend>, Error> {
    let factory = SecretFactory::builder()
        .kind(MemoryKind::Protected)
        .disable_core_dumps(false)
        .build();
    CryptoKey::new(
        &factory,
        &AesGcmBackend,
        KeyMode::StackDataRowKey,
        &mut Zeroizing::new([7; 32]),
        created,
        revoked,
    )
}

fn cache(clock: Arc<ModelClock>) -> Arc<KeyCache<AesGcmBackend>> {
    let policy = Arc::new(CryptoPolicy::default());
    Arc::new(
        KeyCache::new(
            "intermediate",
            true,
            EvictionPolicy::Simple,
            1000,
            policy,
            clock,
        )
        .unwrap(),
    )
}

const NOW: u64 = 1_700_000_000;
/// Two versions of one key, both valid at `NOW` (created a few minutes before).
const OLD: i64 = 1_699_999_880;
const NEW: i64 = 1_699_999_940;

#[test]
fn loom_get_or_load_runs_one_loader_per_key() {
    model(|| {
        let cache = cache(Arc::new(ModelClock(AtomicU64::new(NOW))));
        let loads = Arc::new(AtomicUsize::new(0));
        let id: Arc<str> = "_IK_p_s_r".into();
        let get = {
            let (cache, loads, id) = (Arc::clone(&cache), Arc::clone(&loads), Arc::clone(&id));
            move || -> KeyHandle<AesGcmBackend> {
                ready(cache.get_or_load(&id, 100, || async {
                    loads.fetch_add(1, Ordering::SeqCst);
                    key(100, false)
                }))
                .unwrap()
            }
        };
        let other = thread::spawn(get.clone());
        let mine = get();
        let theirs = other.join().unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 1, "one loader run per key");
        assert!(
            Arc::ptr_eq(&mine, &theirs),
            "both callers share the cached key"
        );
        assert_eq!(cache.len(), 1);
    });
}

#[test]
fn loom_concurrent_loads_of_two_versions_lose_no_insert_and_latest_moves_forward() {
    model(|| {
        let cache = cache(Arc::new(ModelClock(AtomicU64::new(NOW))));
        let id: Arc<str> = "_IK_p_s_r".into();
        let latest = {
            let (cache, id) = (Arc::clone(&cache), Arc::clone(&id));
            thread::spawn(move || {
                ready(cache.get_or_load_latest(&id, || async { key(OLD, false) }))
                    .unwrap()
                    .created()
            })
        };
        let newer = ready(cache.get_or_load(&id, NEW, || async { key(NEW, false) })).unwrap();
        let first = latest.join().unwrap();
        assert!(first == OLD || first == NEW);
        assert_eq!(newer.created(), NEW);
        // Both versions are cached (no lost insert) unless the latest path already found the newer one.
        assert!(cache.hit(&id, NEW).is_some());
        if first == OLD {
            assert!(cache.hit(&id, OLD).is_some());
        }
        // The newest version seen is the latest.
        assert_eq!(cache.latest_hit(&id).unwrap().created(), NEW);
    });
}

#[test]
fn loom_no_stale_read_after_a_refresh() {
    model(|| {
        let clock = Arc::new(ModelClock(AtomicU64::new(NOW)));
        let cache = cache(Arc::clone(&clock));
        let id: Arc<str> = "_IK_p_s_r".into();
        // Cached, then left to go stale: the revoke-check interval (60 min) passes.
        let original = ready(cache.get_or_load(&id, 100, || async { key(100, false) })).unwrap();
        clock.0.fetch_add(2 * 3600, Ordering::SeqCst);
        let loads = Arc::new(AtomicUsize::new(0));
        let refresh = {
            let (cache, id, loads) = (Arc::clone(&cache), Arc::clone(&id), Arc::clone(&loads));
            move || {
                ready(cache.get_or_load(&id, 100, || async {
                    loads.fetch_add(1, Ordering::SeqCst);
                    // Revoked out of band meanwhile.
                    key(100, true)
                }))
                .unwrap()
            }
        };
        let other = thread::spawn(refresh.clone());
        let mine = refresh();
        let theirs = other.join().unwrap();
        assert_eq!(
            loads.load(Ordering::SeqCst),
            1,
            "the stale entry is reloaded once"
        );
        assert!(
            mine.is_revoked() && theirs.is_revoked(),
            "nobody sees the pre-refresh state after it"
        );
        assert!(
            Arc::ptr_eq(&mine, &original) && Arc::ptr_eq(&theirs, &original),
            "refreshed in place"
        );
    });
}

/// Loads are gated per key: a load may run while another key's load holds its gate (here: from inside that
/// loader, which with one gate per cache deadlocks, and loom reports it), a racing load of the same key still runs
/// one loader, and once every load is done no gate is left behind.
#[test]
fn loom_loads_of_different_keys_do_not_share_a_gate_and_leave_none_behind() {
    model(|| {
        let cache = cache(Arc::new(ModelClock(AtomicU64::new(NOW))));
        let loads = Arc::new(AtomicUsize::new(0));
        let (a, b): (Arc<str>, Arc<str>) = ("_IK_a_s_r".into(), "_IK_b_s_r".into());
        let load_b = {
            let (cache, loads, b) = (Arc::clone(&cache), Arc::clone(&loads), Arc::clone(&b));
            move || {
                ready(cache.get_or_load_latest(&b, || async {
                    loads.fetch_add(1, Ordering::SeqCst);
                    key(OLD, false)
                }))
                .unwrap()
            }
        };
        let other = thread::spawn(load_b.clone());
        // A's loader needs B: it runs while A's gate is held.
        let from_a = ready(cache.get_or_load_latest(&a, || async {
            let b_key = load_b();
            assert_eq!(b_key.created(), OLD);
            key(NEW, false)
        }))
        .unwrap();
        let from_other = other.join().unwrap();
        assert_eq!(from_a.created(), NEW);
        assert_eq!(loads.load(Ordering::SeqCst), 1, "one loader for B");
        assert!(Arc::ptr_eq(&from_other, &cache.latest_hit(&b).unwrap()));
        assert_eq!(cache.gates_in_use(), 0, "a gate was left behind");
    });
}

/// A session's memo of the latest key never outlives a newer latest: whatever a racing hit returns, once the
/// load that moves the latest forward has finished, the memo serves the new key.
#[test]
fn loom_latest_memo_gives_way_to_a_newer_latest() {
    model(|| {
        let clock = Arc::new(ModelClock(AtomicU64::new(NOW)));
        let cache = cache(Arc::clone(&clock));
        let id: Arc<str> = "_IK_p_s_r".into();
        let now = clock.now();
        ready(cache.get_or_load_latest(&id, || async { key(OLD, false) })).unwrap();
        let memo = LatestMemo::new();
        assert_eq!(
            cache.latest_hit_memo(&memo, &id, now).unwrap().created(),
            OLD
        );
        let newer = {
            let (cache, id) = (Arc::clone(&cache), Arc::clone(&id));
            thread::spawn(move || {
                ready(cache.get_or_load(&id, NEW, || async { key(NEW, false) })).unwrap();
            })
        };
        let racing = cache.latest_hit_memo(&memo, &id, now).unwrap().created();
        assert!(racing == OLD || racing == NEW);
        newer.join().unwrap();
        assert_eq!(
            cache.latest_hit_memo(&memo, &id, now).unwrap().created(),
            NEW
        );
        assert_eq!(
            cache.hit_memo(&memo, &id, NEW).unwrap().created(),
            NEW,
            "the decrypt side agrees"
        );
        memo.clear();
    });
}
