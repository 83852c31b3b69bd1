//! End to end through each metastore backend with the static KMS: sessions encrypt and decrypt, the keys land in
//! the backend as one system key and one intermediate key per partition, and a second factory with cold caches
//! (another process, in effect) decrypts everything and reuses the stored keys instead of creating new ones.
//!
//! Server backends (MariaDB, PostgreSQL, DynamoDB) need `scripts/services.sh`; they skip loudly without it and fail
//! under `CI=true`.

mod backend_support;

use std::sync::Arc;
use std::time::Duration;

use appencryption::{
    CountingMetastore, DataRowRecord, InMemoryMetastore, Metastore, MetastoreStats, SessionFactory,
    StaticKms,
};

const MASTER_KEY: &str = "thisIsAStaticMasterKeyForTesting";
const PARTITIONS: [&str; 3] = ["shopper123", "użytkownik-7", "tenant 42"];

fn factory(metastore: Arc<dyn Metastore>) -> SessionFactory {
    SessionFactory::builder(
        "service",
        "product",
        metastore,
        Arc::new(StaticKms::new(MASTER_KEY).expect("static KMS")),
    )
    .build()
    .expect("factory")
}

/// The whole scenario on one metastore.
async fn round_trip(backend: &str, metastore: Arc<dyn Metastore>) {
    let counting = Arc::new(CountingMetastore::new(Arc::clone(&metastore)));
    let first = factory(Arc::clone(&counting) as Arc<dyn Metastore>);
    let mut records: Vec<(&str, Vec<u8>, DataRowRecord)> = Vec::new();
    for partition in PARTITIONS {
        let session = first.get_session(partition).expect("session");
        for i in 0..3 {
            let payload = format!("{backend} payload {i} for {partition}").into_bytes();
            let drr = session.encrypt_async(&payload).await.unwrap_or_else(|e| {
                panic!("{backend}: encrypt for {partition}: {e}");
            });
            assert_eq!(
                session.decrypt_async(&drr).await.expect("decrypt"),
                payload,
                "{backend}"
            );
            records.push((partition, payload, drr));
        }
    }
    // One system key and one intermediate key per partition were created, and nothing else was written.
    assert_eq!(
        counting.stats().stores_inserted,
        1 + PARTITIONS.len() as u64,
        "{backend}: {:?}",
        counting.stats()
    );
    let sk = metastore
        .load_latest("_SK_service_product")
        .await
        .expect("load SK")
        .expect("SK stored");
    assert!(sk.parent_key_meta.is_none(), "{backend}: SK has no parent");
    for partition in PARTITIONS {
        let ik = metastore
            .load_latest(&format!("_IK_{partition}_service_product"))
            .await
            .expect("load IK")
            .unwrap_or_else(|| panic!("{backend}: IK of {partition} stored"));
        assert_eq!(
            ik.parent_key_meta.map(|p| (p.key_id, p.created)),
            Some(("_SK_service_product".to_owned(), sk.created)),
            "{backend}"
        );
    }

    // A second factory starts cold: it reads the stored keys instead of making new ones.
    counting.reset_stats();
    let second = factory(Arc::clone(&counting) as Arc<dyn Metastore>);
    let sessions: std::collections::HashMap<&str, _> = PARTITIONS
        .iter()
        .map(|p| (*p, second.get_session(p).expect("session")))
        .collect();
    for (partition, payload, drr) in &records {
        let session = &sessions[partition];
        assert_eq!(
            &session.decrypt_async(drr).await.expect("cold decrypt"),
            payload,
            "{backend}: {partition}"
        );
    }
    for (partition, _, drr) in records.iter().step_by(3) {
        let again = sessions[partition]
            .encrypt_async(b"again")
            .await
            .expect("encrypt");
        let parent = |r: &DataRowRecord| {
            r.key
                .as_ref()
                .and_then(|k| k.parent_key_meta.clone())
                .expect("parent")
        };
        assert_eq!(parent(&again), parent(drr), "{backend}: same IK reused");
    }
    let stats = counting.stats();
    assert_eq!(
        (stats.stores, stats.stores_inserted),
        (0, 0),
        "{backend}: no key created"
    );
    assert_eq!(
        stats.loads,
        1 + PARTITIONS.len() as u64,
        "{backend}: one load per IK (then cached in its session), one for the SK: {stats:?}"
    );
    // A record from a partition this session does not own is refused before any metastore access.
    let stranger = second.get_session("someone-else").expect("session");
    let before: MetastoreStats = counting.stats();
    assert!(stranger.decrypt_async(&records[0].2).await.is_err());
    assert_eq!(counting.stats(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory() {
    round_trip("memory", Arc::new(InMemoryMetastore::new())).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let m = appencryption::SqlMetastore::connect_sqlite("sqlite::memory:")
        .await
        .expect("connect");
    m.create_schema().await.expect("schema");
    round_trip("sqlite", Arc::new(m)).await;
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql() {
    let Some(url) = backend_support::configured(backend_support::MYSQL_URL, "end to end: mysql")
    else {
        return;
    };
    let m = appencryption::SqlMetastore::connect_mysql(&url)
        .await
        .expect("connect")
        .with_table_name(&backend_support::unique_name("e2e"))
        .expect("table");
    m.create_schema().await.expect("schema");
    round_trip("mysql", Arc::new(m)).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Some(url) =
        backend_support::configured(backend_support::POSTGRES_URL, "end to end: postgres")
    else {
        return;
    };
    let m = appencryption::SqlMetastore::connect_postgres(&url)
        .await
        .expect("connect")
        .with_table_name(&backend_support::unique_name("e2e"))
        .expect("table");
    m.create_schema().await.expect("schema");
    round_trip("postgres", Arc::new(m)).await;
}

#[cfg(feature = "dynamodb")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb() {
    let Some(endpoint) =
        backend_support::configured(backend_support::DYNAMODB_ENDPOINT, "end to end: dynamodb")
    else {
        return;
    };
    let m = backend_support::dynamodb_metastore(&endpoint, Duration::from_secs(30)).await;
    round_trip("dynamodb", Arc::new(m)).await;
}

/// With the region suffix on, key ids end in the client's region, and records still round-trip.
#[cfg(feature = "dynamodb")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_region_suffix_names_keys_by_region() {
    let Some(endpoint) = backend_support::configured(
        backend_support::DYNAMODB_ENDPOINT,
        "end to end: dynamodb region suffix",
    ) else {
        return;
    };
    let m = backend_support::dynamodb_metastore(&endpoint, Duration::from_secs(30))
        .await
        .with_region_suffix(true)
        .expect("client has a region");
    assert_eq!(m.region_suffix(), Some(backend_support::REGION));
    let m: Arc<dyn Metastore> = Arc::new(m);
    let f = factory(Arc::clone(&m));
    let session = f.get_session("shopper123").expect("session");
    let drr = session.encrypt_async(b"payload").await.expect("encrypt");
    assert_eq!(
        drr.key
            .as_ref()
            .and_then(|k| k.parent_key_meta.as_ref())
            .map(|p| p.key_id.as_str()),
        Some("_IK_shopper123_service_product_us-west-2")
    );
    assert!(
        m.load_latest("_SK_service_product_us-west-2")
            .await
            .expect("load")
            .is_some()
    );
    assert_eq!(
        session.decrypt_async(&drr).await.expect("decrypt"),
        b"payload"
    );
}
