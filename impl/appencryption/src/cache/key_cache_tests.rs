//! The key cache's time and isolation properties: freshness on the monotonic clock, intervals too large to add,
//! loads gated per key, and the negative cache. (Its concurrency under all interleavings: `key_cache_loom.rs`.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use securememory::{MemoryKind, SecretFactory};
use zeroize::Zeroizing;

use super::key_cache::{KeyCache, LatestMemo};
use crate::cache::eviction::EvictionPolicy;
use crate::crypto::{AesGcmBackend, CryptoKey};
use crate::policy::{CryptoPolicy, KeyMode};
use crate::{Clock, Error};

/// A clock whose wall time and monotonic time move independently (seconds).
struct SteppedClock {
    wall: AtomicU64,
    mono: AtomicU64,
}

impl Clock for SteppedClock {
    fn now(&self) -> Duration {
        Duration::from_secs(self.wall.load(Ordering::SeqCst))
    }
    fn monotonic(&self) -> Duration {
        Duration::from_secs(self.mono.load(Ordering::SeqCst))
    }
}

const NOW: u64 = 1_700_000_000;
const CREATED: i64 = 1_699_999_940;

fn clock() -> Arc<SteppedClock> {
    Arc::new(SteppedClock {
        wall: AtomicU64::new(NOW),
        mono: AtomicU64::new(5_000),
    })
}

fn cache(policy: CryptoPolicy, clock: &Arc<SteppedClock>) -> KeyCache<AesGcmBackend> {
    KeyCache::new(
        "intermediate",
        true,
        EvictionPolicy::Simple,
        1000,
        Arc::new(policy),
        Arc::clone(clock) as Arc<dyn Clock>,
    )
    .unwrap()
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

fn id(name: &str) -> Arc<str> {
    Arc::from(name)
}

#[tokio::test]
async fn a_wall_clock_step_back_does_not_delay_the_revocation_check() {
    let clock = clock();
    let cache = cache(CryptoPolicy::default(), &clock);
    let ik = id("_IK_p_s_p");
    cache
        .get_or_load(&ik, CREATED, || async { key(CREATED, false) })
        .await
        .unwrap();
    // The wall clock is set back two hours while 61 minutes pass: the key is due for its revocation check.
    clock.wall.fetch_sub(2 * 3600, Ordering::SeqCst);
    clock.mono.fetch_add(61 * 60, Ordering::SeqCst);
    assert!(cache.hit(&ik, CREATED).is_none(), "still judged fresh");
    let reloaded = cache
        .get_or_load(&ik, CREATED, || async { key(CREATED, true) })
        .await
        .unwrap();
    assert!(reloaded.is_revoked(), "the revocation was noticed");
}

#[tokio::test]
async fn a_wall_clock_step_forward_does_not_force_a_reload() {
    let clock = clock();
    let cache = cache(CryptoPolicy::default(), &clock);
    let ik = id("_IK_p_s_p");
    cache
        .get_or_load(&ik, CREATED, || async { key(CREATED, false) })
        .await
        .unwrap();
    clock.wall.fetch_add(2 * 3600, Ordering::SeqCst);
    assert!(cache.hit(&ik, CREATED).is_some());
}

#[tokio::test]
async fn a_huge_revoke_check_interval_never_expires_and_never_panics() {
    let clock = clock();
    let policy = CryptoPolicy::default().with_revoke_check_interval(Duration::MAX);
    let cache = cache(policy, &clock);
    let ik = id("_IK_p_s_p");
    cache
        .get_or_load(&ik, CREATED, || async { key(CREATED, false) })
        .await
        .unwrap();
    clock.mono.store(u64::MAX / 2, Ordering::SeqCst);
    assert!(cache.hit(&ik, CREATED).is_some());
    assert!(cache.latest_hit(&ik).is_some());
}

/// A decrypt-only session fills its memo too: a hit on the latest version memoises it, a hit on an older one
/// does not.
#[tokio::test]
async fn a_decrypt_hit_on_the_latest_key_fills_the_memo() {
    let clock = clock();
    let cache = cache(CryptoPolicy::default(), &clock);
    let ik = id("_IK_p_s_p");
    for created in [CREATED - 60, CREATED] {
        cache
            .get_or_load(&ik, created, || async move { key(created, false) })
            .await
            .unwrap();
    }
    let memo = LatestMemo::new();
    assert_eq!(
        cache
            .hit_memo(&memo, &ik, CREATED - 60)
            .map(|k| k.created()),
        Some(CREATED - 60)
    );
    assert_eq!(memo.memoised(), None, "an older version is not the latest");
    assert_eq!(
        cache.hit_memo(&memo, &ik, CREATED).map(|k| k.created()),
        Some(CREATED)
    );
    assert_eq!(memo.memoised(), Some(CREATED));
    assert_eq!(
        cache.hit_memo(&memo, &ik, CREATED).map(|k| k.created()),
        Some(CREATED),
        "served by the memo"
    );
    memo.clear();
}

/// While one key's load is stalled, loads of other keys (another partition's latest, another version of the same
/// id) complete at once; a second load of the stalled key waits for the first and reuses its result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_load_blocks_only_its_own_key() {
    let clock = clock();
    let cache = Arc::new(cache(CryptoPolicy::default(), &clock));
    let stalled = id("_IK_stalled_s_p");
    let loads = Arc::new(AtomicUsize::new(0));
    // A load abandoned by its caller (dropped future) frees its gate.
    let first = tokio::spawn({
        let (cache, stalled, loads) =
            (Arc::clone(&cache), Arc::clone(&stalled), Arc::clone(&loads));
        async move {
            cache
                .get_or_load_latest(&stalled, || {
                    loads.fetch_add(1, Ordering::SeqCst);
                    async {
                        std::future::pending::<()>().await;
                        unreachable!()
                    }
                })
                .await
        }
    });
    // Wait for the stalled loader to start.
    while loads.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    assert_eq!(
        cache.gates_in_use(),
        0,
        "an abandoned load leaves no gate behind"
    );

    // Now a load that stays stalled until released.
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let released = Arc::new(tokio::sync::Mutex::new(Some(released)));
    let stalled_load = tokio::spawn({
        let (cache, stalled, loads, released) = (
            Arc::clone(&cache),
            Arc::clone(&stalled),
            Arc::clone(&loads),
            Arc::clone(&released),
        );
        async move {
            cache
                .get_or_load_latest(&stalled, || {
                    loads.fetch_add(1, Ordering::SeqCst);
                    let released = Arc::clone(&released);
                    async move {
                        let rx = released.lock().await.take().expect("one loader");
                        rx.await.expect("released");
                        key(CREATED, false)
                    }
                })
                .await
        }
    });
    while loads.load(Ordering::SeqCst) < 2 {
        tokio::task::yield_now().await;
    }
    // The same key waits for the stalled load.
    let waiter = tokio::spawn({
        let (cache, stalled, loads) =
            (Arc::clone(&cache), Arc::clone(&stalled), Arc::clone(&loads));
        async move {
            cache
                .get_or_load_latest(&stalled, || {
                    loads.fetch_add(1, Ordering::SeqCst);
                    async { key(CREATED, false) }
                })
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !waiter.is_finished(),
        "the same key's second load did not wait"
    );
    let quick = Duration::from_secs(5);
    let other = id("_IK_other_s_p");
    tokio::time::timeout(
        quick,
        cache.get_or_load_latest(&other, || async { key(CREATED, false) }),
    )
    .await
    .expect("another partition's latest load is not blocked")
    .unwrap();
    tokio::time::timeout(
        quick,
        cache.get_or_load(&stalled, CREATED - 60, || async {
            key(CREATED - 60, false)
        }),
    )
    .await
    .expect("another version of the stalled id is not blocked")
    .unwrap();
    release.send(()).unwrap();
    let a = stalled_load.await.unwrap().unwrap();
    let b = waiter.await.unwrap().unwrap();
    assert!(Arc::ptr_eq(&a, &b), "the waiter found the first load's key");
    assert_eq!(
        loads.load(Ordering::SeqCst),
        2,
        "no second loader for the stalled key"
    );
    assert_eq!(cache.gates_in_use(), 0);
}

#[tokio::test]
async fn a_failed_load_is_served_from_the_negative_cache_until_it_expires() {
    let clock = clock();
    let policy = CryptoPolicy::default().with_failed_load_cache_duration(Duration::from_secs(2));
    let cache = cache(policy, &clock);
    let ik = id("_IK_p_s_p");
    let loads = AtomicUsize::new(0);
    let failing = || {
        loads.fetch_add(1, Ordering::SeqCst);
        async {
            Err::<CryptoKey<AesGcmBackend>, _>(Error::IntermediateKeyNotFound {
                id: "_IK_p_s_p".into(),
                created: 42,
            })
        }
    };
    let err = cache.get_or_load(&ik, 42, failing).await.unwrap_err();
    assert!(
        matches!(err, Error::IntermediateKeyNotFound { .. }),
        "{err:?}"
    );
    // Repeats within the interval do not reach the loader.
    for _ in 0..3 {
        let err = cache.get_or_load(&ik, 42, failing).await.unwrap_err();
        assert!(
            matches!(&err, Error::LoadFailedRecently { created: Some(42), reason, .. } if reason.contains("no key _IK_p_s_p created 42")),
            "{err:?}"
        );
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    // Other versions, and the latest path, are not affected.
    cache
        .get_or_load(&ik, 43, || async { key(43, false) })
        .await
        .unwrap();
    // After the interval (monotonic), the loader runs again.
    clock.mono.fetch_add(2, Ordering::SeqCst);
    cache
        .get_or_load(&ik, 42, || async { key(42, false) })
        .await
        .unwrap();

    // The latest path: a failure is remembered per id.
    let other = id("_IK_q_s_p");
    let err = cache
        .get_or_load_latest(&other, || async { Err(Error::RecordNotFound) })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RecordNotFound));
    let err = cache
        .get_or_load_latest(&other, || async { key(CREATED, false) })
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::LoadFailedRecently { created: None, .. }),
        "{err:?}"
    );
    clock.mono.fetch_add(2, Ordering::SeqCst);
    cache
        .get_or_load_latest(&other, || async { key(CREATED, false) })
        .await
        .expect("retried after the interval");
}
