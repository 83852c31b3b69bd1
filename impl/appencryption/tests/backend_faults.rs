//! Faults: a backend goes away in the middle of a run and comes back.
//!
//! While it is away, calls that need it fail with a clear error (no panic, no hang beyond the configured timeout),
//! calls served from cache keep working, and nothing is half-written. When it is back, the **same** factory and
//! sessions recover without a restart: a failed load must not leave a poisoned cache entry behind.
//!
//! * MariaDB and PostgreSQL are really stopped and started (`scripts/services.sh stop|start`); their data is on
//!   disk.
//! * The moto emulator (DynamoDB and KMS) keeps everything in memory, so a restart would lose every key and table;
//!   it is frozen instead (`services.sh pause|resume`, SIGSTOP/SIGCONT): it accepts connections but never answers,
//!   as an overloaded or partitioned AWS endpoint does, and the SDK's operation timeout turns that into an error.
//!
//! These tests stop shared servers, so they live in their own test binary (cargo runs test binaries one at a
//! time) and each server is touched by one test only. They need `ASHERAH_SERVICES_DIR` (set by
//! `services.sh env`), skip loudly without it, and fail under `CI=true`.

mod backend_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use appencryption::{
    CountingMetastore, DataRowRecord, Error, KeyManagementService, Metastore, SessionFactory,
    StaticKms,
};

/// Restarts (or resumes) a service when dropped, so a failing assertion cannot leave it down for the tests that
/// follow.
struct Restore {
    action: &'static str,
    service: &'static str,
}

impl Drop for Restore {
    fn drop(&mut self) {
        backend_support::services(&[self.action, self.service]);
    }
}

/// Take `service` down (`stop` or `pause`) until the returned guard is dropped.
fn take_down(service: &'static str, how: &'static str) -> Restore {
    backend_support::services(&[how, service]);
    Restore {
        action: if how == "pause" { "resume" } else { "start" },
        service,
    }
}

fn factory(
    metastore: Arc<dyn Metastore>,
    kms: Arc<dyn KeyManagementService>,
    cache_system_keys: bool,
) -> SessionFactory {
    // No negative cache: this suite retries right after the outage (and right after a frozen emulator resumes) and
    // expects the backend's own error each time; the negative cache has its tests in `backend_deadlines.rs` and
    // the key cache's unit tests.
    let mut policy =
        appencryption::CryptoPolicy::default().with_failed_load_cache_duration(Duration::ZERO);
    policy.cache_system_keys = cache_system_keys;
    SessionFactory::builder("service", "product", metastore, kms)
        .policy(policy)
        .build()
        .expect("factory")
}

fn static_kms() -> Arc<dyn KeyManagementService> {
    Arc::new(StaticKms::new("thisIsAStaticMasterKeyForTesting").expect("static KMS"))
}

/// The outage scenario against one metastore backend, with `down()` taking it away and the guard's drop bringing
/// it back. `is_outage` recognises the backend's error.
async fn metastore_outage(
    name: &str,
    metastore: Arc<dyn Metastore>,
    down: impl FnOnce() -> Restore,
    is_outage: impl Fn(&Error) -> bool,
) {
    let counting = Arc::new(CountingMetastore::new(metastore));
    let under_test = factory(
        Arc::clone(&counting) as Arc<dyn Metastore>,
        static_kms(),
        true,
    );
    // Another writer's record, whose keys the factory under test has never loaded.
    let other = factory(
        Arc::clone(&counting) as Arc<dyn Metastore>,
        static_kms(),
        true,
    );
    let foreign: DataRowRecord = other
        .get_session("cold")
        .expect("session")
        .encrypt_async(b"written elsewhere")
        .await
        .expect("encrypt");

    let warm = under_test.get_session("warm").expect("session");
    let warm_record = warm.encrypt_async(b"warm").await.expect("encrypt");
    let fresh = under_test.get_session("fresh").expect("session");
    let cold = under_test.get_session("cold").expect("session");

    let guard = down();
    counting.reset_stats();
    // Cached keys need no metastore: the warm partition keeps working through the outage.
    assert_eq!(
        warm.decrypt_async(&warm_record)
            .await
            .expect("cached decrypt"),
        b"warm"
    );
    warm.encrypt_async(b"still warm")
        .await
        .expect("cached encrypt");
    assert_eq!(
        counting.stats(),
        Default::default(),
        "{name}: cached path touched the metastore"
    );

    for attempt in 0..2 {
        let started = Instant::now();
        let err = fresh
            .encrypt_async(b"x")
            .await
            .expect_err("metastore is down");
        assert!(
            is_outage(&err),
            "{name} attempt {attempt}: encrypt error {err:?}"
        );
        let err = cold
            .decrypt_async(&foreign)
            .await
            .expect_err("metastore is down");
        assert!(
            is_outage(&err),
            "{name} attempt {attempt}: decrypt error {err:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{name}: failing took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(
        counting.stats().stores_inserted,
        0,
        "{name}: nothing written during the outage"
    );

    drop(guard); // the backend is back
    counting.reset_stats();
    let record = fresh
        .encrypt_async(b"after")
        .await
        .expect("the same session recovers");
    assert_eq!(
        fresh.decrypt_async(&record).await.expect("decrypt"),
        b"after"
    );
    assert_eq!(
        cold.decrypt_async(&foreign)
            .await
            .expect("the same session recovers"),
        b"written elsewhere"
    );
    assert_eq!(
        counting.stats().stores_inserted,
        1,
        "{name}: exactly the fresh partition's intermediate key is created: {:?}",
        counting.stats()
    );
    assert_eq!(
        warm.decrypt_async(&warm_record).await.expect("decrypt"),
        b"warm"
    );
}

fn is_metastore_error(e: &Error) -> bool {
    matches!(e, Error::Metastore(_))
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_stopped_mid_run_then_restarted() {
    let (Some(url), Some(_)) = (
        backend_support::configured(backend_support::MYSQL_URL, "faults: mariadb"),
        backend_support::configured(backend_support::SERVICES_DIR, "faults: mariadb"),
    ) else {
        return;
    };
    let pool = backend_support::mysql_pool(&url, Duration::from_secs(3)).await;
    let m = appencryption::SqlMetastore::from_mysql_pool(pool)
        .with_table_name(&backend_support::unique_name("faults"))
        .expect("table");
    m.create_schema().await.expect("schema");
    metastore_outage(
        "mariadb",
        Arc::new(m),
        || take_down("mysql", "stop"),
        is_metastore_error,
    )
    .await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_mid_run_then_restarted() {
    let (Some(url), Some(_)) = (
        backend_support::configured(backend_support::POSTGRES_URL, "faults: postgres"),
        backend_support::configured(backend_support::SERVICES_DIR, "faults: postgres"),
    ) else {
        return;
    };
    let pool = backend_support::postgres_pool(&url, Duration::from_secs(3)).await;
    let m = appencryption::SqlMetastore::from_postgres_pool(pool)
        .with_table_name(&backend_support::unique_name("faults"))
        .expect("table");
    m.create_schema().await.expect("schema");
    metastore_outage(
        "postgres",
        Arc::new(m),
        || take_down("postgres", "stop"),
        is_metastore_error,
    )
    .await;
}

/// Both moto scenarios in one test: they freeze the same emulator.
#[cfg(all(feature = "dynamodb", feature = "aws-kms"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_emulator_unresponsive_mid_run_then_back() {
    let (Some(endpoint), Some(_)) = (
        backend_support::configured(backend_support::DYNAMODB_ENDPOINT, "faults: aws emulator"),
        backend_support::configured(backend_support::SERVICES_DIR, "faults: aws emulator"),
    ) else {
        return;
    };
    let timeout = Duration::from_secs(2);

    // DynamoDB metastore frozen.
    let m = backend_support::dynamodb_metastore(&endpoint, timeout).await;
    metastore_outage(
        "dynamodb",
        Arc::new(m),
        || take_down("aws", "pause"),
        is_metastore_error,
    )
    .await;

    // KMS frozen. The system key cache is off, so every new intermediate key needs KMS to decrypt the system key.
    let config = backend_support::aws_config(&endpoint, timeout).await;
    let west = backend_support::kms_key(&config, backend_support::REGION).await;
    let east = backend_support::kms_key(&config, backend_support::SECOND_REGION).await;
    let kms = appencryption::AwsKms::builder([
        (backend_support::REGION, west),
        (backend_support::SECOND_REGION, east),
    ])
    .preferred_region(backend_support::REGION)
    .sdk_config(config)
    .endpoint_url(&endpoint)
    .operation_timeout(timeout)
    .build()
    .await
    .expect("AWS KMS");
    let metastore = Arc::new(CountingMetastore::new(
        appencryption::InMemoryMetastore::new(),
    ));
    let f = factory(
        Arc::clone(&metastore) as Arc<dyn Metastore>,
        Arc::new(kms),
        false,
    );
    let warm = f.get_session("warm").expect("session");
    let warm_record = warm.encrypt_async(b"warm").await.expect("encrypt");
    let fresh = f.get_session("fresh").expect("session");

    let guard = take_down("aws", "pause");
    let before = metastore.stats();
    let started = Instant::now();
    let err = fresh.encrypt_async(b"x").await.expect_err("KMS is down");
    assert!(
        matches!(
            &err,
            Error::KmsAllRegionsFailed {
                operation: "decrypt",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        metastore.stats().stores_inserted,
        before.stores_inserted,
        "nothing written while KMS is down"
    );
    // The warm session's intermediate key is cached: it needs no KMS.
    assert_eq!(
        warm.decrypt_async(&warm_record).await.expect("cached"),
        b"warm"
    );

    drop(guard);
    let record = fresh
        .encrypt_async(b"after")
        .await
        .expect("the same session recovers");
    assert_eq!(
        fresh.decrypt_async(&record).await.expect("decrypt"),
        b"after"
    );
    assert_eq!(metastore.inner().len(), 3, "one SK and two IKs");
}
