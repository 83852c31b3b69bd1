//! The metastore contract (spec §8.1), written once and instantiated for every backend: the in-memory store, SQLite
//! in memory, and SQLite in a file.

mod metastore_support;

use std::sync::Arc;

use appencryption::{EnvelopeKeyRecord, InMemoryMetastore, Metastore};
use metastore_support::{Spec28Rows, TempDb, ik_record, sk_record};

/// A metastore under test, plus whatever must live as long as it (a temporary database file).
struct Fixture {
    store: Arc<dyn Metastore>,
    _db: Option<TempDb>,
}

async fn in_memory() -> Fixture {
    Fixture {
        store: Arc::new(InMemoryMetastore::new()),
        _db: None,
    }
}

#[cfg(feature = "sqlite")]
async fn sqlite_in_memory() -> Fixture {
    Fixture {
        store: Arc::new(metastore_support::sqlite_metastore("sqlite::memory:").await),
        _db: None,
    }
}

#[cfg(feature = "sqlite")]
async fn sqlite_file() -> Fixture {
    let db = TempDb::new("contract");
    Fixture {
        store: Arc::new(metastore_support::sqlite_metastore(&db.url()).await),
        _db: Some(db),
    }
}

/// The contract, one function per property; each takes a fresh, empty metastore.
mod contract {
    use super::*;

    pub(crate) async fn load_missing_is_none(m: &dyn Metastore) {
        assert_eq!(load(m, "_SK_service_product", 1_700_000_040).await, None);
        assert_eq!(latest(m, "_SK_service_product").await, None);
    }

    pub(crate) async fn store_then_load_returns_the_record_with_its_id(m: &dyn Metastore) {
        let rec = ik_record(
            1_700_000_100,
            b"ik-bytes",
            "_SK_service_product",
            1_700_000_040,
        );
        assert!(store(m, "_IK_partition_service_product", 1_700_000_100, &rec).await);
        let mut expected = rec.clone();
        expected.id = "_IK_partition_service_product".to_owned();
        assert_eq!(
            load(m, "_IK_partition_service_product", 1_700_000_100).await,
            Some(expected.clone())
        );
        assert_eq!(
            latest(m, "_IK_partition_service_product").await,
            Some(expected)
        );
        // A neighbouring `created` is a different key.
        assert_eq!(
            load(m, "_IK_partition_service_product", 1_700_000_101).await,
            None
        );
    }

    pub(crate) async fn store_duplicate_is_false_and_keeps_the_original(m: &dyn Metastore) {
        let first = sk_record(1_700_000_040, b"first");
        let second = sk_record(1_700_000_040, b"second, must not overwrite");
        assert!(store(m, "_SK_s_p", 1_700_000_040, &first).await);
        assert!(!store(m, "_SK_s_p", 1_700_000_040, &second).await);
        assert!(!store(m, "_SK_s_p", 1_700_000_040, &first).await);
        let got = load(m, "_SK_s_p", 1_700_000_040)
            .await
            .expect("record present");
        assert_eq!(got.encrypted_key, b"first");
        let got = latest(m, "_SK_s_p").await.expect("record present");
        assert_eq!(got.encrypted_key, b"first");
    }

    pub(crate) async fn load_latest_picks_the_greatest_created(m: &dyn Metastore) {
        // Stored out of order, so neither insertion order nor the last write decides.
        for created in [1_700_000_100, 1_700_000_400, 1_700_000_040, 1_700_000_200] {
            let rec = sk_record(created, created.to_string().as_bytes());
            assert!(store(m, "_SK_s_p", created, &rec).await);
        }
        let got = latest(m, "_SK_s_p").await.expect("record present");
        assert_eq!(got.created, 1_700_000_400);
        assert_eq!(got.encrypted_key, b"1700000400");
        // Every version stays loadable.
        for created in [1_700_000_040, 1_700_000_100, 1_700_000_200] {
            assert_eq!(
                load(m, "_SK_s_p", created).await.map(|r| r.created),
                Some(created)
            );
        }
    }

    pub(crate) async fn different_ids_are_isolated(m: &dyn Metastore) {
        // Including ids where one is a prefix of another and a LIKE-special character.
        let ids = ["_IK_a_s_p", "_IK_a_s_p2", "_IK_b_s_p", "_IK_%_s_p"];
        for (i, id) in ids.iter().enumerate() {
            let created = 1_700_000_000 + 60 * i64::try_from(i).expect("small");
            assert!(store(m, id, created, &sk_record(created, id.as_bytes())).await);
        }
        for (i, id) in ids.iter().enumerate() {
            let created = 1_700_000_000 + 60 * i64::try_from(i).expect("small");
            let got = latest(m, id).await.expect("record present");
            assert_eq!(
                (got.id.as_str(), got.created, got.encrypted_key.as_slice()),
                (*id, created, id.as_bytes())
            );
            for (j, other) in ids.iter().enumerate() {
                if i != j {
                    assert_eq!(
                        load(m, other, created).await,
                        None,
                        "{other} at {id}'s created"
                    );
                }
            }
        }
        assert_eq!(latest(m, "_IK_").await, None);
        assert_eq!(latest(m, "_IK_c_s_p").await, None);
    }

    pub(crate) async fn revoked_records_round_trip(m: &dyn Metastore) {
        let mut rec = ik_record(1_700_000_100, b"revoked ik", "_SK_s_p", 1_700_000_040);
        rec.revoked = true;
        assert!(store(m, "_IK_p_s_p", 1_700_000_100, &rec).await);
        let got = load(m, "_IK_p_s_p", 1_700_000_100)
            .await
            .expect("record present");
        assert!(got.revoked);
        assert_eq!(got.parent_key_meta, rec.parent_key_meta);
        assert!(
            latest(m, "_IK_p_s_p")
                .await
                .expect("record present")
                .revoked
        );
        // A revoked SK (no parent) too.
        let mut sk = sk_record(1_700_000_040, b"revoked sk");
        sk.revoked = true;
        assert!(store(m, "_SK_s_p", 1_700_000_040, &sk).await);
        let got = load(m, "_SK_s_p", 1_700_000_040)
            .await
            .expect("record present");
        assert!(got.revoked && got.parent_key_meta.is_none());
    }

    pub(crate) async fn created_before_1970_and_around_2038(m: &dyn Metastore) {
        // Ordered by time; load_latest must follow time, not text or unsigned order.
        let createds = [
            -31_536_000,   // 1969-01-01
            -60,           // 1969-12-31 23:59:00
            -1,            // 1969-12-31 23:59:59
            0,             // the epoch
            2_147_483_640, // 2038-01-19 03:14:00
            2_147_483_647, // i32::MAX, the last second MySQL TIMESTAMP can hold
            2_147_483_648, // one second later
            2_147_483_700,
        ];
        for &created in &createds {
            let rec = sk_record(created, created.to_string().as_bytes());
            assert!(store(m, "_SK_s_p", created, &rec).await, "store {created}");
        }
        for &created in &createds {
            let got = load(m, "_SK_s_p", created).await.expect("record present");
            assert_eq!(got.created, created);
            assert_eq!(got.encrypted_key, created.to_string().as_bytes());
        }
        assert_eq!(
            latest(m, "_SK_s_p").await.map(|r| r.created),
            Some(2_147_483_700)
        );

        // With only pre-1970 versions, the latest is the one closest to 1970.
        for created in [-120, -31_536_000, -60] {
            assert!(store(m, "_SK_old", created, &sk_record(created, b"x")).await);
        }
        assert_eq!(latest(m, "_SK_old").await.map(|r| r.created), Some(-60));
    }

    pub(crate) async fn concurrent_stores_of_one_key_have_exactly_one_winner(
        m: Arc<dyn Metastore>,
    ) {
        const TASKS: usize = 32;
        let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
        let mut handles = Vec::with_capacity(TASKS);
        for i in 0..TASKS {
            let m = Arc::clone(&m);
            let barrier = Arc::clone(&barrier);
            handles.push(tokio::spawn(async move {
                let rec = ik_record(
                    1_700_000_100,
                    format!("writer {i}").as_bytes(),
                    "_SK_s_p",
                    1_700_000_040,
                );
                barrier.wait().await;
                let won = m
                    .store("_IK_p_s_p", 1_700_000_100, &rec)
                    .await
                    .expect("store never errors");
                (i, won)
            }));
        }
        let mut winners = Vec::new();
        for handle in handles {
            let (i, won) = handle.await.expect("task did not panic");
            if won {
                winners.push(i);
            }
        }
        assert_eq!(winners.len(), 1, "winners: {winners:?}");
        let got = load(&*m, "_IK_p_s_p", 1_700_000_100)
            .await
            .expect("record present");
        assert_eq!(
            got.encrypted_key,
            format!("writer {}", winners[0]).as_bytes()
        );
    }

    pub(crate) async fn spec_2_8_rows_read_back_field_for_field(m: &dyn Metastore) {
        let rows = Spec28Rows::load();
        for (i, row) in rows.rows.iter().enumerate() {
            assert!(
                store(m, &row.id, row.created, &row.expected_record()).await,
                "row {i}: {}",
                row.id
            );
        }
        for (i, row) in rows.rows.iter().enumerate() {
            let got = load(m, &row.id, row.created).await;
            let got = got.unwrap_or_else(|| panic!("row {i} ({}) missing", row.id));
            row.check(i, &got);
            let got = latest(m, &row.id).await.expect("record present");
            row.check(i, &got);
        }
    }

    pub(crate) async fn no_region_suffix(m: &dyn Metastore) {
        assert_eq!(m.region_suffix(), None);
    }

    async fn load(m: &dyn Metastore, id: &str, created: i64) -> Option<EnvelopeKeyRecord> {
        let got = m.load(id, created).await.expect("load must not fail");
        if let Some(rec) = &got {
            assert_eq!(
                rec.id, id,
                "returned record carries the id it was found under"
            );
        }
        got
    }

    async fn latest(m: &dyn Metastore, id: &str) -> Option<EnvelopeKeyRecord> {
        let got = m.load_latest(id).await.expect("load_latest must not fail");
        if let Some(rec) = &got {
            assert_eq!(
                rec.id, id,
                "returned record carries the id it was found under"
            );
        }
        got
    }

    async fn store(m: &dyn Metastore, id: &str, created: i64, rec: &EnvelopeKeyRecord) -> bool {
        m.store(id, created, rec)
            .await
            .expect("store must not fail")
    }
}

/// Instantiate every contract test for one backend.
macro_rules! contract_suite {
    ($backend:ident) => {
        mod $backend {
            use super::*;

            #[tokio::test]
            async fn load_missing_is_none() {
                let f = super::$backend().await;
                contract::load_missing_is_none(&*f.store).await;
            }

            #[tokio::test]
            async fn store_then_load_returns_the_record_with_its_id() {
                let f = super::$backend().await;
                contract::store_then_load_returns_the_record_with_its_id(&*f.store).await;
            }

            #[tokio::test]
            async fn store_duplicate_is_false_and_keeps_the_original() {
                let f = super::$backend().await;
                contract::store_duplicate_is_false_and_keeps_the_original(&*f.store).await;
            }

            #[tokio::test]
            async fn load_latest_picks_the_greatest_created() {
                let f = super::$backend().await;
                contract::load_latest_picks_the_greatest_created(&*f.store).await;
            }

            #[tokio::test]
            async fn different_ids_are_isolated() {
                let f = super::$backend().await;
                contract::different_ids_are_isolated(&*f.store).await;
            }

            #[tokio::test]
            async fn revoked_records_round_trip() {
                let f = super::$backend().await;
                contract::revoked_records_round_trip(&*f.store).await;
            }

            #[tokio::test]
            async fn created_before_1970_and_around_2038() {
                let f = super::$backend().await;
                contract::created_before_1970_and_around_2038(&*f.store).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_stores_of_one_key_have_exactly_one_winner() {
                let f = super::$backend().await;
                contract::concurrent_stores_of_one_key_have_exactly_one_winner(Arc::clone(
                    &f.store,
                ))
                .await;
            }

            #[tokio::test]
            async fn spec_2_8_rows_read_back_field_for_field() {
                let f = super::$backend().await;
                contract::spec_2_8_rows_read_back_field_for_field(&*f.store).await;
            }

            #[tokio::test]
            async fn no_region_suffix() {
                let f = super::$backend().await;
                contract::no_region_suffix(&*f.store).await;
            }
        }
    };
}

contract_suite!(in_memory);
#[cfg(feature = "sqlite")]
contract_suite!(sqlite_in_memory);
#[cfg(feature = "sqlite")]
contract_suite!(sqlite_file);

/// The in-memory store's call counters, which the lab reports as metastore traffic.
#[tokio::test]
async fn in_memory_stats_count_every_call() {
    let m = InMemoryMetastore::new();
    assert_eq!(m.stats(), Default::default());
    assert!(m.is_empty());
    let rec = sk_record(60, b"k");
    assert!(m.store("_SK_s_p", 60, &rec).await.expect("store"));
    assert!(!m.store("_SK_s_p", 60, &rec).await.expect("store"));
    let _ = m.load("_SK_s_p", 60).await.expect("load");
    let _ = m.load("_SK_s_p", 120).await.expect("load");
    let _ = m.load("_SK_x", 60).await.expect("load");
    let _ = m.load_latest("_SK_s_p").await.expect("load_latest");
    let stats = m.stats();
    assert_eq!(
        (
            stats.loads,
            stats.load_latests,
            stats.stores,
            stats.stores_inserted
        ),
        (3, 1, 2, 1)
    );
    assert_eq!(m.len(), 1);
    m.reset_stats();
    assert_eq!(m.stats(), Default::default());
    assert_eq!(m.len(), 1, "reset_stats keeps the records");
}

/// Mutating a returned record must not change what is stored.
#[tokio::test]
async fn in_memory_returns_copies() {
    let m = InMemoryMetastore::new();
    assert!(
        m.store("_SK_s_p", 60, &sk_record(60, b"k"))
            .await
            .expect("store")
    );
    let mut got = m.load("_SK_s_p", 60).await.expect("load").expect("present");
    got.revoked = true;
    got.encrypted_key.clear();
    let again = m.load("_SK_s_p", 60).await.expect("load").expect("present");
    assert!(!again.revoked);
    assert_eq!(again.encrypted_key, b"k");
}
