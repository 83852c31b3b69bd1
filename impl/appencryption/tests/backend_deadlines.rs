//! Deadlines and isolation against real servers: one partition's backend call hangs while the rest of the factory
//! carries on.
//!
//! * MariaDB is frozen (`scripts/services.sh pause mysql`, SIGSTOP): its connections stay open, queries are never
//!   answered, the way a wedged database or a network partition looks to a client.
//! * The moto emulator (KMS) is frozen the same way; and a KMS region whose endpoint accepts connections but never
//!   answers sits beside a live one, to show that a hung region is left out of the envelope.
//!
//! What must hold while the call hangs: encrypt on a cached partition keeps its usual latency (a generous bound
//! relative to a baseline measured in the same run, never an absolute speed target); the hung call fails with
//! [`Error::Deadline`] within the deadline + 10 %; nothing is written; and the same factory recovers when the
//! backend returns. Deadlines are a few hundred milliseconds, so the suite takes a few seconds.
//!
//! These tests freeze shared servers, so they live in their own test binary (cargo runs test binaries one at a
//! time) and each server is frozen by one test only. They need `ASHERAH_SERVICES_DIR` (set by `services.sh env`),
//! skip loudly without it, and fail under `CI=true`.

// The helpers serve the MariaDB test and the KMS test; a build with only one of their features uses a part.
#![cfg_attr(
    not(all(feature = "mysql", feature = "aws-kms")),
    allow(dead_code, unused_imports)
)]

mod backend_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use appencryption::{
    CryptoPolicy, DataRowRecord, Error, KeyManagementService, Metastore, Session, SessionFactory,
    StaticKms,
};

/// The factory deadline on every metastore and KMS call in these tests.
const DEADLINE: Duration = Duration::from_millis(400);
/// How long a failed load is remembered in these tests.
const FAILED_LOAD_TTL: Duration = Duration::from_millis(200);

/// Resumes a frozen service when dropped, so a failing assertion cannot leave it frozen for the tests that follow.
struct Resume(&'static str);

impl Drop for Resume {
    fn drop(&mut self) {
        backend_support::services(&["resume", self.0]);
    }
}

fn freeze(service: &'static str) -> Resume {
    backend_support::services(&["pause", service]);
    Resume(service)
}

fn factory(
    metastore: Arc<dyn Metastore>,
    kms: Arc<dyn KeyManagementService>,
    cache_system_keys: bool,
) -> SessionFactory {
    // One intermediate key cache for every session: the partitions' loads go through one cache, which a gate per
    // cache (rather than per key) would serialise.
    let mut policy = CryptoPolicy::default()
        .with_backend_call_deadline(DEADLINE)
        .with_failed_load_cache_duration(FAILED_LOAD_TTL)
        .with_shared_intermediate_key_cache(100);
    policy.cache_system_keys = cache_system_keys;
    SessionFactory::builder("service", "product", metastore, kms)
        .policy(policy)
        .build()
        .expect("factory")
}

fn static_kms() -> Arc<dyn KeyManagementService> {
    Arc::new(StaticKms::new("thisIsAStaticMasterKeyForTesting").expect("static KMS"))
}

/// Median latency of `n` encrypts on a session whose keys are cached.
async fn median_encrypt(session: &Session, n: usize) -> Duration {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        session
            .encrypt_async(b"cached")
            .await
            .expect("cached encrypt");
        times.push(started.elapsed());
    }
    times.sort();
    times[n / 2]
}

/// The bound for "keeps its usual latency": generous, because the machine is shared and the hung call's task runs
/// beside the measurement, but far below the deadline a blocked encrypt would show.
fn usual_latency_bound(baseline: Duration) -> Duration {
    baseline * 20 + Duration::from_millis(5)
}

/// The hung call's outcome: a deadline error for `operation`, within the deadline + 10 %.
fn assert_deadline_error(
    (result, elapsed): (Result<impl std::fmt::Debug, Error>, Duration),
    operation: &str,
) {
    eprintln!(
        "{operation}: hung call failed after {elapsed:?} (deadline {DEADLINE:?}, under load)"
    );
    match result {
        Err(Error::Deadline {
            operation: op,
            deadline,
        }) => assert_eq!((op, deadline), (operation, DEADLINE)),
        other => panic!("expected a deadline error for {operation}, got {other:?}"),
    }
    assert!(
        elapsed >= DEADLINE && elapsed <= DEADLINE + DEADLINE / 10,
        "{operation}: failed after {elapsed:?}, deadline {DEADLINE:?}"
    );
}

/// `call`'s result and how long it took.
async fn timed<T>(call: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = call.await;
    (out, started.elapsed())
}

/// Run `hung` (calls that will wait for the frozen backend) on its own task, and meanwhile measure encrypts on the
/// cached `warm` session, checking them against the `baseline` measured before. Returns `hung`'s output.
async fn while_hung<T: Send + 'static>(
    warm: &Session,
    baseline: Duration,
    hung: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    let task = tokio::spawn(hung);
    // Let the hung calls reach the backend before measuring.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let during = median_encrypt(warm, 50).await;
    assert!(
        !task.is_finished(),
        "the calls did not hang: measured nothing"
    );
    eprintln!(
        "cached encrypt median: {baseline:?} before, {during:?} while another call hung (under load)"
    );
    assert!(
        during <= usual_latency_bound(baseline),
        "cached encrypt slowed from {baseline:?} to {during:?} while another partition's call hung"
    );
    task.await.expect("task")
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_frozen_one_partition_hangs_the_others_carry_on() {
    let (Some(url), Some(_)) = (
        backend_support::configured(backend_support::MYSQL_URL, "deadlines: mariadb"),
        backend_support::configured(backend_support::SERVICES_DIR, "deadlines: mariadb"),
    ) else {
        return;
    };
    // A long acquire timeout: what ends the hung call must be the factory's deadline.
    let pool = backend_support::mysql_pool(&url, Duration::from_secs(30)).await;
    let table = backend_support::unique_name("deadlines");
    let metastore = Arc::new(
        appencryption::SqlMetastore::from_mysql_pool(pool)
            .with_table_name(&table)
            .expect("table"),
    );
    metastore.create_schema().await.expect("schema");
    let under_test = Arc::new(factory(
        Arc::clone(&metastore) as Arc<dyn Metastore>,
        static_kms(),
        true,
    ));
    // A record of a partition whose intermediate key the factory under test has never loaded.
    let foreign: DataRowRecord = factory(
        Arc::clone(&metastore) as Arc<dyn Metastore>,
        static_kms(),
        true,
    )
    .get_session("cold")
    .expect("session")
    .encrypt_async(b"written elsewhere")
    .await
    .expect("encrypt");
    let warm = under_test.get_session("warm").expect("session");
    warm.encrypt_async(b"warm").await.expect("encrypt");
    let baseline = median_encrypt(&warm, 50).await;

    let guard = freeze("mysql");
    // Two partitions' loads hang at the same time, each with its own deadline: a new partition's encrypt
    // (`load_latest` of its intermediate key) and a decrypt that needs an unknown intermediate key version
    // (`load`). Gated per cache, the second would wait for the first and fail only after two deadlines.
    let fresh = under_test.get_session("fresh").expect("session");
    let cold = under_test.get_session("cold").expect("session");
    let record = foreign.clone();
    let (encrypted, decrypted) = while_hung(&warm, baseline, async move {
        tokio::join!(
            timed(fresh.encrypt_async(b"x")),
            timed(cold.decrypt_async(&record))
        )
    })
    .await;
    assert_deadline_error(encrypted, "metastore load_latest");
    assert_deadline_error(decrypted, "metastore load");
    drop(guard); // the database answers again

    // Nothing was written for the partitions whose calls hung (checked on the server, after it resumed, so a
    // write that landed late would show).
    assert!(
        metastore
            .load_latest("_IK_fresh_service_product")
            .await
            .expect("load")
            .is_none(),
        "a key was written for the hung partition"
    );
    // The same factory recovers once the failed loads' negative-cache entries have expired.
    tokio::time::sleep(FAILED_LOAD_TTL).await;
    let fresh = under_test.get_session("fresh").expect("session");
    let record = fresh.encrypt_async(b"after").await.expect("recovers");
    assert_eq!(
        fresh.decrypt_async(&record).await.expect("decrypt"),
        b"after"
    );
    let cold = under_test.get_session("cold").expect("session");
    assert_eq!(
        cold.decrypt_async(&foreign).await.expect("recovers"),
        b"written elsewhere"
    );
}

/// A listener that accepts TCP connections (the kernel completes the handshake) and never answers: an AWS
/// endpoint behind a partition. Returns its URL and the listener, which must stay alive.
#[cfg(feature = "aws-kms")]
fn silent_endpoint() -> (String, std::net::TcpListener) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    (url, listener)
}

/// Both KMS scenarios in one test: they use the same emulator, which one of them freezes.
#[cfg(feature = "aws-kms")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_kms_frozen_or_one_region_silent() {
    let (Some(endpoint), Some(_)) = (
        backend_support::configured(backend_support::KMS_ENDPOINT, "deadlines: aws kms"),
        backend_support::configured(backend_support::SERVICES_DIR, "deadlines: aws kms"),
    ) else {
        return;
    };
    // The SDK's own timeout is far above the deadlines under test.
    let config = backend_support::aws_config(&endpoint, Duration::from_secs(30)).await;
    let west = backend_support::kms_key(&config, backend_support::REGION).await;
    let east = backend_support::kms_key(&config, backend_support::SECOND_REGION).await;

    // 1. One region silent: each region's call has its own deadline, the silent one is left out of the envelope
    //    and the encrypt completes in about one region deadline.
    let region_deadline = Duration::from_millis(250);
    let (silent, _listener) = silent_endpoint();
    let kms = appencryption::AwsKms::builder([
        (backend_support::REGION, west.clone()),
        (backend_support::SECOND_REGION, east.clone()),
    ])
    .preferred_region(backend_support::REGION)
    .sdk_config(config.clone())
    .endpoint_url(&endpoint)
    .region_endpoint_url(backend_support::SECOND_REGION, &silent)
    .region_deadline(region_deadline)
    .build()
    .await
    .expect("AWS KMS");
    let started = Instant::now();
    let envelope = kms
        .encrypt_key(&[7; 32])
        .await
        .expect("the live region suffices");
    let elapsed = started.elapsed();
    eprintln!(
        "AWS KMS encrypt with one silent region: {elapsed:?} (region deadline {region_deadline:?}, under load)"
    );
    assert!(
        elapsed >= region_deadline && elapsed < DEADLINE,
        "encrypt took {elapsed:?} with a region deadline of {region_deadline:?}"
    );
    let json: serde_json::Value = serde_json::from_slice(&envelope).expect("json");
    let regions: Vec<&str> = json["kmsKeks"]
        .as_array()
        .expect("kmsKeks")
        .iter()
        .map(|k| k["region"].as_str().expect("region"))
        .collect();
    assert_eq!(
        regions,
        [backend_support::REGION],
        "the silent region is left out"
    );
    let mut out = [0u8; 32];
    kms.decrypt_key(&envelope, &mut out).await.expect("decrypt");
    assert_eq!(out, [7; 32]);

    // 2. The whole emulator frozen: a partition that needs the KMS fails at the factory's deadline while a cached
    //    partition keeps encrypting. Region deadlines above the factory's, so the factory's deadline is what ends
    //    the call. The system key cache is off, so every new intermediate key needs KMS to decrypt the system key.
    let kms = appencryption::AwsKms::builder([
        (backend_support::REGION, west),
        (backend_support::SECOND_REGION, east),
    ])
    .preferred_region(backend_support::REGION)
    .sdk_config(config)
    .endpoint_url(&endpoint)
    .region_deadline(Duration::from_secs(5))
    .build()
    .await
    .expect("AWS KMS");
    let metastore = Arc::new(appencryption::CountingMetastore::new(
        appencryption::InMemoryMetastore::new(),
    ));
    let f = factory(
        Arc::clone(&metastore) as Arc<dyn Metastore>,
        Arc::new(kms),
        false,
    );
    let warm = f.get_session("warm").expect("session");
    warm.encrypt_async(b"warm").await.expect("encrypt");
    let baseline = median_encrypt(&warm, 50).await;
    let stored_before = metastore.stats().stores_inserted;

    let guard = freeze("aws");
    let fresh = f.get_session("fresh").expect("session");
    let result = while_hung(&warm, baseline, async move {
        timed(fresh.encrypt_async(b"x")).await
    })
    .await;
    assert_deadline_error(result, "KMS decrypt_key");
    assert_eq!(
        metastore.stats().stores_inserted,
        stored_before,
        "nothing written while KMS hung"
    );
    drop(guard);

    tokio::time::sleep(FAILED_LOAD_TTL).await;
    let fresh = f.get_session("fresh").expect("session");
    let record = fresh.encrypt_async(b"after").await.expect("recovers");
    assert_eq!(
        fresh.decrypt_async(&record).await.expect("decrypt"),
        b"after"
    );
}
