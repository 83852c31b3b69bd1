//! Concurrency through the public API: two factories racing to create the same keys converge on one
//! (docs/compatibility.md#concurrent-key-creation), and many threads sharing factories and sessions, some closing
//! them, never see a wrong answer.

mod session_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use appencryption::{CryptoPolicy, Metastore};
use session_support::*;

const IK_ID: &str = "_IK_partition_service_product";
const SK_ID: &str = "_SK_service_product";

#[test]
fn factories_racing_on_one_store_converge_on_one_key() {
    for round in 0..20 {
        let metastore = TestMetastore::new();
        let clock = FakeClock::new();
        let threads = 6;
        let barrier = Barrier::new(threads);
        let records: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (metastore, clock, barrier) = (metastore.clone(), clock.clone(), &barrier);
                    scope.spawn(move || {
                        let f = factory(metastore, clock, CryptoPolicy::default());
                        let session = f.get_session("partition").unwrap();
                        barrier.wait();
                        session.encrypt(b"racing").unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            metastore.versions(SK_ID).len(),
            1,
            "round {round}: one system key"
        );
        assert_eq!(
            metastore.versions(IK_ID).len(),
            1,
            "round {round}: one intermediate key"
        );
        let created = metastore.versions(IK_ID)[0];
        let reader = factory(metastore.clone(), clock.clone(), CryptoPolicy::default());
        for drr in &records {
            assert_eq!(parent_created(drr), created);
            assert_eq!(
                reader
                    .get_session("partition")
                    .unwrap()
                    .decrypt(drr)
                    .unwrap(),
                b"racing"
            );
        }
    }
}

#[test]
fn many_threads_share_factories_and_sessions_while_some_close() {
    let metastore = TestMetastore::new();
    let clock = FakeClock::new();
    let shared: Vec<_> = [
        CryptoPolicy::default(),
        CryptoPolicy::default()
            .with_session_cache()
            .with_session_cache_max_size(3),
        CryptoPolicy::default().with_shared_intermediate_key_cache(5),
    ]
    .into_iter()
    .map(|p| Arc::new(factory(metastore.clone(), clock.clone(), p)))
    .collect();
    let ops = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..8usize {
            let (shared, ops) = (&shared, &ops);
            scope.spawn(move || {
                for i in 0..200usize {
                    let f = &shared[(t + i) % shared.len()];
                    let partition = format!("partition-{}", (t * 7 + i) % 11);
                    let session = f.get_session(&partition).unwrap();
                    let payload = format!("{t}-{i}");
                    let drr = session.encrypt(payload.as_bytes()).unwrap();
                    // Decrypt with another factory's session for the same partition.
                    let other = shared[(t + i + 1) % shared.len()]
                        .get_session(&partition)
                        .unwrap();
                    assert_eq!(other.decrypt(&drr).unwrap(), payload.as_bytes());
                    if i % 3 == 0 {
                        session.close();
                    }
                    ops.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(ops.load(Ordering::Relaxed), 1600);
    // All three factories created keys for the same partitions: still one intermediate key per partition.
    for p in 0..11 {
        assert_eq!(
            metastore
                .versions(&format!("_IK_partition-{p}_service_product"))
                .len(),
            1
        );
    }
    for f in &shared {
        f.close();
    }
}

#[test]
fn a_session_used_from_many_threads_while_another_handle_closes() {
    let f = factory(
        memory(),
        FakeClock::new(),
        CryptoPolicy::default().with_session_cache(),
    );
    let session = f.get_session("partition").unwrap();
    std::thread::scope(|scope| {
        for t in 0..4u8 {
            let session = &session;
            scope.spawn(move || {
                for i in 0..300u16 {
                    let payload = [t, (i % 256) as u8];
                    assert_eq!(
                        session
                            .decrypt(&session.encrypt(&payload).unwrap())
                            .unwrap(),
                        payload
                    );
                }
            });
        }
        scope.spawn(|| {
            for _ in 0..100 {
                f.get_session("partition").unwrap().close();
            }
        });
    });
}

#[test]
fn concurrent_first_encrypts_in_one_factory_run_one_load() {
    let metastore = TestMetastore::new();
    let f = Arc::new(factory(
        metastore.clone(),
        FakeClock::new(),
        CryptoPolicy::default().with_shared_intermediate_key_cache(10),
    ));
    let barrier = Barrier::new(8);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            let (f, barrier) = (&f, &barrier);
            scope.spawn(move || {
                let s = f.get_session("partition").unwrap();
                barrier.wait();
                s.encrypt(b"x").unwrap();
            });
        }
    });
    // Single flight: one latest-IK lookup, one SK lookup, and the two stores of the creation.
    assert_eq!(metastore.stores.load(Ordering::SeqCst), 2);
    assert_eq!(metastore.versions(IK_ID).len(), 1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert!(rt.block_on(metastore.load_latest(IK_ID)).unwrap().is_some());
}
