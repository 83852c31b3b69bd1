//! The key hierarchy end to end through the public API, with a fake clock: creation, hot path, expiry and
//! rotation, revocation, revoke-check refresh, decrypt-side checks, errors, caches
//! (docs/compatibility.md#algorithms).

mod metrics_spy;
mod session_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use appencryption::{
    CryptoPolicy, DataRowRecord, EnvelopeKeyRecord, Error, EvictionPolicy, KeyMode, Metastore,
    SessionFactory,
};
use session_support::*;

const MODES: [KeyMode; 4] = [
    KeyMode::ProtectedDataRowKey,
    KeyMode::StackDataRowKey,
    KeyMode::CachedCipher,
    KeyMode::SecretCachedCipher,
];
const IK_ID: &str = "_IK_partition_service_product";
const SK_ID: &str = "_SK_service_product";

fn hour() -> Duration {
    Duration::from_secs(3600)
}

/// The docs/compatibility.md#test-vectors metastore rows, loaded into a metastore, decrypt the
/// docs/compatibility.md#test-vectors DRR through a session in every mode.
#[test]
fn spec_2_8_record_decrypts_through_a_session_in_every_mode() {
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("data/spec-2.8-vectors.json")).expect("vectors");
    let rows = vectors["outputs"]["metastore_rows"]
        .as_array()
        .expect("rows");
    let drr_json = vectors["outputs"]["drr_json"].as_str().expect("drr json");
    for mode in MODES {
        let metastore = TestMetastore::new();
        for row in rows {
            let record = EnvelopeKeyRecord::from_json(
                row["key_record"].as_str().expect("key_record").as_bytes(),
            )
            .unwrap();
            metastore.insert(row["id"].as_str().unwrap(), record);
        }
        let f = factory(
            metastore.clone(),
            FakeClock::new(),
            CryptoPolicy::default().with_key_mode(mode),
        );
        let session = f.get_session("partition").unwrap();
        assert_eq!(
            session.decrypt_from_json(drr_json.as_bytes()).unwrap(),
            b"mySuperSecretPayload",
            "{mode:?}"
        );
        // Decrypting never writes.
        assert_eq!(metastore.stores.load(Ordering::SeqCst), 0);
    }
}

#[test]
fn first_encrypt_creates_system_and_intermediate_keys_with_truncated_created() {
    let metastore = TestMetastore::new();
    let clock = FakeClock::new();
    let f = factory(metastore.clone(), clock.clone(), CryptoPolicy::default());
    let session = f.get_session("partition").unwrap();
    let drr = session.encrypt(b"payload").unwrap();
    assert_eq!(metastore.versions(SK_ID), vec![1_700_000_100]);
    assert_eq!(metastore.versions(IK_ID), vec![1_700_000_100]);
    let key = drr.key.as_ref().unwrap();
    assert_eq!(
        key.created, 1_700_000_123,
        "the data-row key's created is not truncated"
    );
    let parent = key.parent_key_meta.as_ref().unwrap();
    assert_eq!(
        (parent.key_id.as_str(), parent.created),
        (IK_ID, 1_700_000_100)
    );
    assert_eq!(key.encrypted_key.len(), 60);
    assert_eq!(drr.data.len(), 7 + 28);
    assert_eq!(session.decrypt(&drr).unwrap(), b"payload");
    // The intermediate key names its system key; the system key has no parent.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ik = rt
        .block_on(metastore.load(IK_ID, 1_700_000_100))
        .unwrap()
        .unwrap();
    assert_eq!(ik.parent_key_meta.unwrap().key_id, SK_ID);
    let sk = rt
        .block_on(metastore.load(SK_ID, 1_700_000_100))
        .unwrap()
        .unwrap();
    assert!(sk.parent_key_meta.is_none());
}

#[test]
fn hot_path_touches_no_metastore() {
    for mode in MODES {
        let metastore = TestMetastore::new();
        let f = factory(
            metastore.clone(),
            FakeClock::new(),
            CryptoPolicy::default().with_key_mode(mode),
        );
        let session = f.get_session("partition").unwrap();
        let first = session.encrypt(b"warm up").unwrap();
        let calls = metastore.calls();
        for i in 0..50u8 {
            let drr = session.encrypt(&[i; 100]).unwrap();
            assert_eq!(session.decrypt(&drr).unwrap(), [i; 100]);
        }
        assert_eq!(session.decrypt(&first).unwrap(), b"warm up");
        assert_eq!(
            metastore.calls(),
            calls,
            "{mode:?}: cached keys must not touch the metastore"
        );
    }
}

#[test]
fn expired_keys_rotate_inline_and_old_records_still_decrypt() {
    let metastore = TestMetastore::new();
    let clock = FakeClock::new();
    let policy = CryptoPolicy::default()
        .with_expire_after(hour())
        .with_revoke_check_interval(Duration::from_secs(600));
    let f = factory(metastore.clone(), clock.clone(), policy);
    let session = f.get_session("partition").unwrap();
    let old = session.encrypt(b"old").unwrap();
    // Just before expiry (created is truncated to 1_700_000_100): still the same key.
    clock.advance(hour() - Duration::from_secs(24));
    let same = session.encrypt(b"same").unwrap();
    assert_eq!(
        same.key.as_ref().unwrap().parent_key_meta,
        old.key.as_ref().unwrap().parent_key_meta
    );
    clock.advance(Duration::from_secs(2));
    let new = session.encrypt(b"new").unwrap();
    let new_parent = new.key.as_ref().unwrap().parent_key_meta.clone().unwrap();
    assert!(
        new_parent.created > 1_700_000_100,
        "a new intermediate key was created"
    );
    assert_eq!(metastore.versions(IK_ID).len(), 2);
    assert_eq!(
        metastore.versions(SK_ID).len(),
        2,
        "the system key expired too and was rotated"
    );
    for (drr, payload) in [(&old, &b"old"[..]), (&same, b"same"), (&new, b"new")] {
        assert_eq!(session.decrypt(drr).unwrap(), payload);
    }
    // Another factory (cold caches) decrypts both generations.
    let other = factory(metastore.clone(), clock.clone(), CryptoPolicy::default());
    let s2 = other.get_session("partition").unwrap();
    assert_eq!(s2.decrypt(&old).unwrap(), b"old");
    assert_eq!(s2.decrypt(&new).unwrap(), b"new");
}

#[test]
fn revocation_is_noticed_after_the_revoke_check_interval() {
    let metastore = TestMetastore::new();
    let clock = FakeClock::new();
    let f = factory(metastore.clone(), clock.clone(), CryptoPolicy::default());
    let session = f.get_session("partition").unwrap();
    let before = session.encrypt(b"before").unwrap();
    metastore.revoke(IK_ID, 1_700_000_100);
    // Within the revoke-check interval the cache is fresh: no metastore access, same key (Go's behaviour).
    clock.advance(Duration::from_secs(30 * 60));
    let calls = metastore.calls();
    let still = session.encrypt(b"still").unwrap();
    assert_eq!(metastore.calls(), calls);
    assert_eq!(parent_created(&still), 1_700_000_100);
    // Past it, the stale entry is reloaded, found revoked, and a new key is created.
    clock.advance(Duration::from_secs(31 * 60));
    let after = session.encrypt(b"after").unwrap();
    let parent = after.key.as_ref().unwrap().parent_key_meta.clone().unwrap();
    assert_ne!(parent.created, 1_700_000_100);
    assert_eq!(metastore.versions(IK_ID).len(), 2);
    assert_eq!(
        metastore.versions(SK_ID).len(),
        1,
        "the system key is still valid"
    );
    // Revocation only stops new writes: old records decrypt.
    assert_eq!(session.decrypt(&before).unwrap(), b"before");
    assert_eq!(
        f.get_session("partition").unwrap().decrypt(&still).unwrap(),
        b"still"
    );
}

/// A session memoises its latest intermediate key for the hot path; a newer version that reaches its cache by
/// another route (here: decrypting a record another process sealed under a key it created) must take over at once,
/// as it does in the cache itself.
#[test]
fn a_newer_intermediate_key_cached_by_decrypt_is_the_one_the_next_encrypt_uses() {
    let metastore = TestMetastore::new();
    let clock = FakeClock::new();
    let here = factory(metastore.clone(), clock.clone(), CryptoPolicy::default());
    let session = here.get_session("partition").unwrap();
    let first = session.encrypt(b"first").unwrap();
    let again = session.encrypt(b"again").unwrap();
    assert_eq!(parent_created(&first), 1_700_000_100);
    assert_eq!(parent_created(&again), 1_700_000_100);
    // Another process finds the key revoked and creates a newer one; this factory will not re-check for an hour.
    metastore.revoke(IK_ID, 1_700_000_100);
    clock.advance(Duration::from_secs(120));
    let there = factory(metastore.clone(), clock.clone(), CryptoPolicy::default());
    let elsewhere = there
        .get_session("partition")
        .unwrap()
        .encrypt(b"elsewhere")
        .unwrap();
    let newer = parent_created(&elsewhere);
    assert!(newer > 1_700_000_100);
    assert_eq!(session.decrypt(&elsewhere).unwrap(), b"elsewhere");
    let next = session.encrypt(b"next").unwrap();
    assert_eq!(
        parent_created(&next),
        newer,
        "the memo gave way to the newer key"
    );
    assert_eq!(session.decrypt(&first).unwrap(), b"first");
    assert_eq!(metastore.versions(IK_ID).len(), 2);
}

#[test]
fn stale_entries_are_refreshed_from_the_metastore() {
    let metastore = TestMetastore::new();
    let clock = FakeClock::new();
    let f = factory(metastore.clone(), clock.clone(), CryptoPolicy::default());
    let session = f.get_session("partition").unwrap();
    let drr = session.encrypt(b"x").unwrap();
    clock.advance(hour() + Duration::from_secs(1));
    let latests = metastore.load_latests.load(Ordering::SeqCst);
    session.encrypt(b"y").unwrap();
    assert_eq!(
        metastore.load_latests.load(Ordering::SeqCst),
        latests + 1,
        "latest IK re-read after the interval"
    );
    assert_eq!(
        metastore.versions(IK_ID).len(),
        1,
        "still valid: no new key"
    );
    let loads = metastore.loads.load(Ordering::SeqCst);
    session.decrypt(&drr).unwrap();
    session.decrypt(&drr).unwrap();
    assert_eq!(
        metastore.loads.load(Ordering::SeqCst),
        loads,
        "refreshed entry is fresh again"
    );
}

#[test]
fn revoked_system_key_leads_to_a_new_system_key() {
    let metastore = TestMetastore::new();
    let clock = FakeClock::new();
    let f = factory(metastore.clone(), clock.clone(), CryptoPolicy::default());
    f.get_session("partition").unwrap().encrypt(b"x").unwrap();
    metastore.revoke(SK_ID, 1_700_000_100);
    metastore.revoke(IK_ID, 1_700_000_100);
    clock.advance(2 * hour());
    let drr = f.get_session("partition").unwrap().encrypt(b"y").unwrap();
    assert_eq!(metastore.versions(SK_ID).len(), 2);
    assert_eq!(metastore.versions(IK_ID).len(), 2);
    assert_eq!(
        f.get_session("partition").unwrap().decrypt(&drr).unwrap(),
        b"y"
    );
}

#[test]
fn decrypt_refuses_records_of_other_partitions() {
    let f = factory(memory(), FakeClock::new(), CryptoPolicy::default());
    let drr = f.get_session("alice").unwrap().encrypt(b"alice's").unwrap();
    let err = f.get_session("bob").unwrap().decrypt(&drr).unwrap_err();
    assert!(matches!(err, Error::InvalidIntermediateKeyId), "{err}");
    assert_eq!(err.to_string(), "unable to decrypt record");
}

#[test]
fn malformed_records_fail_with_precise_errors() {
    let f = factory(memory(), FakeClock::new(), CryptoPolicy::default());
    let session = f.get_session("partition").unwrap();
    let good = session.encrypt(b"payload").unwrap();

    let no_key = DataRowRecord {
        key: None,
        ..good.clone()
    };
    assert!(matches!(
        session.decrypt(&no_key),
        Err(Error::DataRowKeyMissing)
    ));

    let mut no_parent = good.clone();
    no_parent.key.as_mut().unwrap().parent_key_meta = None;
    assert!(matches!(
        session.decrypt(&no_parent),
        Err(Error::ParentKeyMissing)
    ));

    let mut unknown = good.clone();
    unknown
        .key
        .as_mut()
        .unwrap()
        .parent_key_meta
        .as_mut()
        .unwrap()
        .created += 1;
    assert!(matches!(
        session.decrypt(&unknown),
        Err(Error::IntermediateKeyNotFound { .. })
    ));

    let mut tampered = good.clone();
    tampered.data[0] ^= 1;
    assert!(matches!(
        session.decrypt(&tampered),
        Err(Error::DecryptionFailed)
    ));

    let mut bad_key = good.clone();
    bad_key.key.as_mut().unwrap().encrypted_key.truncate(11);
    assert!(matches!(
        session.decrypt(&bad_key),
        Err(Error::CiphertextTooShort)
    ));

    assert!(matches!(
        session.decrypt_from_json(b"{\"Key\":"),
        Err(Error::JsonTruncated { .. })
    ));
    assert!(session.decrypt_from_json(b"not json").is_err());
    // The good record is untouched by all of that.
    assert_eq!(session.decrypt(&good).unwrap(), b"payload");
}

#[test]
fn failed_encrypt_writes_nothing() {
    let metastore = TestMetastore::new();
    let f = SessionFactory::builder(SERVICE, PRODUCT, metastore.clone(), Arc::new(FailingKms))
        .build()
        .unwrap();
    assert!(f.get_session("partition").unwrap().encrypt(b"x").is_err());
    assert_eq!(metastore.len(), 0);

    let metastore = TestMetastore::new();
    metastore.fail.store(true, Ordering::SeqCst);
    let f = factory(metastore.clone(), FakeClock::new(), CryptoPolicy::default());
    let err = f
        .get_session("partition")
        .unwrap()
        .encrypt(b"x")
        .unwrap_err();
    assert!(matches!(err, Error::Metastore(_)), "{err}");
    assert_eq!(metastore.len(), 0);
}

#[test]
fn partition_ids_are_checked() {
    let f = factory(memory(), FakeClock::new(), CryptoPolicy::default());
    assert!(matches!(f.get_session(""), Err(Error::EmptyPartition)));
    let long = "p".repeat(300);
    assert!(matches!(
        f.get_session(&long),
        Err(Error::PartitionTooLong { .. })
    ));
    let longest = "p".repeat(255 - "_IK___service_product".len() + 1);
    assert!(f.get_session(&longest).is_ok());
    let err = f.get_session(&format!("{longest}p")).unwrap_err();
    assert!(
        matches!(err, Error::PartitionTooLong { len, max } if len == max + 1 && max == longest.len()),
        "{err:?}"
    );
}

/// Service and product names that leave no room for a partition id are refused by `build` (the limit arithmetic
/// used to underflow for them), and names that leave exactly one byte work.
#[test]
fn service_and_product_names_that_leave_no_room_are_refused_at_build() {
    let build = |service: &str, product: &str| {
        SessionFactory::builder(service, product, memory(), static_kms()).build()
    };
    // `_IK_` + partition + `_` + service + `_` + product = 255 with a one-byte partition id.
    let service = "s".repeat(255 - "_IK_p__".len() - 7);
    let f = build(&service, "product").expect("one byte of partition id fits");
    assert!(f.get_session("p").is_ok());
    assert!(matches!(
        f.get_session("pp"),
        Err(Error::PartitionTooLong { len: 2, max: 1 })
    ));
    for (service, product) in [
        (format!("{service}s"), "product".to_owned()),
        ("service".to_owned(), "p".repeat(400)),
    ] {
        let err = build(&service, &product).unwrap_err();
        assert!(
            matches!(err, Error::ServiceProductTooLong { len, max: 255 } if len > 255),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("shorten the service or product name"),
            "{err}"
        );
    }
}

#[test]
fn a_zero_backend_deadline_is_refused_at_build() {
    let policy = CryptoPolicy::default().with_backend_call_deadline(Duration::ZERO);
    let err = SessionFactory::builder("service", "product", memory(), static_kms())
        .policy(policy)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfiguration(_)), "{err:?}");
}

#[test]
fn closed_sessions_and_factories_refuse_work() {
    let f = factory(memory(), FakeClock::new(), CryptoPolicy::default());
    let session = f.get_session("p").unwrap();
    session.close();
    session.close();
    assert!(matches!(session.encrypt(b"x"), Err(Error::SessionClosed)));
    f.close();
    assert!(matches!(f.get_session("p"), Err(Error::FactoryClosed)));
}

#[test]
fn without_caches_every_operation_reads_the_metastore() {
    let metastore = TestMetastore::new();
    let f = factory(
        metastore.clone(),
        FakeClock::new(),
        CryptoPolicy::default().with_no_cache(),
    );
    let session = f.get_session("partition").unwrap();
    let drr = session.encrypt(b"x").unwrap();
    let calls = metastore.calls();
    session.encrypt(b"y").unwrap();
    session.decrypt(&drr).unwrap();
    assert!(
        metastore.calls() >= calls + 3,
        "IK and SK loads on every call"
    );
    assert_eq!(metastore.versions(IK_ID).len(), 1);
}

#[test]
fn session_cache_shares_one_warm_session_per_partition() {
    let metastore = TestMetastore::new();
    let f = factory(
        metastore.clone(),
        FakeClock::new(),
        CryptoPolicy::default().with_session_cache(),
    );
    let a = f.get_session("partition").unwrap();
    let drr = a.encrypt(b"x").unwrap();
    a.close();
    let calls = metastore.calls();
    let b = f.get_session("partition").unwrap();
    assert_eq!(b.decrypt(&drr).unwrap(), b"x");
    b.encrypt(b"y").unwrap();
    assert_eq!(
        metastore.calls(),
        calls,
        "the cached session kept its intermediate key warm"
    );
    assert_eq!(f.cached_sessions(), 1);
    drop(b);
    f.close();
}

#[test]
fn session_cache_evicts_and_closes_sessions_once_unused() {
    let metastore = TestMetastore::new();
    let policy = CryptoPolicy::default()
        .with_session_cache()
        .with_session_cache_max_size(2);
    let f = factory(metastore.clone(), FakeClock::new(), policy);
    let held = f.get_session("p0").unwrap();
    held.encrypt(b"x").unwrap();
    for i in 1..10 {
        let s = f.get_session(&format!("p{i}")).unwrap();
        s.encrypt(b"x").unwrap();
    }
    assert!(f.cached_sessions() <= 2);
    // The evicted session still works for the handle that holds it.
    assert_eq!(
        held.decrypt(&held.encrypt(b"still").unwrap()).unwrap(),
        b"still"
    );
    drop(held);
    f.close();
}

#[test]
fn session_cache_entries_expire_from_insertion() {
    let clock = FakeClock::new();
    let policy = CryptoPolicy::default()
        .with_session_cache()
        .with_session_cache_duration(Duration::from_secs(60));
    let metastore = TestMetastore::new();
    let f = factory(metastore.clone(), clock.clone(), policy);
    f.get_session("p").unwrap().encrypt(b"x").unwrap();
    clock.advance(Duration::from_secs(61));
    let before = metastore.calls();
    // Expired: a new session (cold IK cache) is built, so the latest IK is read again.
    f.get_session("p").unwrap().encrypt(b"y").unwrap();
    assert!(metastore.calls() > before);
}

#[test]
fn shared_intermediate_key_cache_serves_every_session() {
    let metastore = TestMetastore::new();
    let f = factory(
        metastore.clone(),
        FakeClock::new(),
        CryptoPolicy::default().with_shared_intermediate_key_cache(10),
    );
    let drr = f.get_session("partition").unwrap().encrypt(b"x").unwrap();
    let calls = metastore.calls();
    let other = f.get_session("partition").unwrap();
    assert_eq!(other.decrypt(&drr).unwrap(), b"x");
    other.encrypt(b"y").unwrap();
    assert_eq!(metastore.calls(), calls);
}

#[test]
fn bounded_key_caches_work_with_every_policy() {
    for policy in [
        EvictionPolicy::Lru,
        EvictionPolicy::Slru,
        EvictionPolicy::Lfu,
        EvictionPolicy::TinyLfu,
    ] {
        let p = CryptoPolicy::default()
            .with_shared_intermediate_key_cache(3)
            .with_intermediate_key_cache_eviction_policy(policy)
            .with_system_key_cache(policy, 2);
        let f = factory(memory(), FakeClock::new(), p);
        let records: Vec<_> = (0..20)
            .map(|i| {
                let s = f.get_session(&format!("partition-{i}")).unwrap();
                (i, s.encrypt(format!("payload {i}").as_bytes()).unwrap())
            })
            .collect();
        for (i, drr) in records {
            let s = f.get_session(&format!("partition-{i}")).unwrap();
            assert_eq!(
                s.decrypt(&drr).unwrap(),
                format!("payload {i}").as_bytes(),
                "{policy:?}"
            );
        }
    }
}

#[test]
fn async_api_matches_the_blocking_one() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let f = factory(memory(), FakeClock::new(), CryptoPolicy::default());
        let session = f.get_session("partition").unwrap();
        let drr = session.encrypt_async(b"async").await.unwrap();
        assert_eq!(session.decrypt_async(&drr).await.unwrap(), b"async");
        // The blocking API works inside a runtime too when no I/O has to wait (in-memory metastore).
        assert_eq!(session.decrypt(&drr).unwrap(), b"async");
    });
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_metastore_end_to_end_blocking_and_async() {
    let dir = std::env::temp_dir().join(format!("ae-session-sqlite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("keys.db").display());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let store = rt.block_on(async {
        let m = appencryption::SqlMetastore::connect_sqlite(&url)
            .await
            .unwrap();
        m.create_schema().await.unwrap();
        m
    });
    let metastore: Arc<dyn Metastore> = Arc::new(store);
    let f = factory(metastore.clone(), FakeClock::new(), CryptoPolicy::default());
    let drr = f
        .get_session("partition")
        .unwrap()
        .encrypt(b"on disk")
        .unwrap();
    // A second factory over the same file decrypts, asynchronously this time.
    let g = factory(metastore, FakeClock::new(), CryptoPolicy::default());
    let payload = rt
        .block_on(async {
            g.get_session("partition")
                .unwrap()
                .decrypt_async(&drr)
                .await
        })
        .unwrap();
    assert_eq!(payload, b"on disk");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(feature = "ring")]
#[test]
fn ring_backend_interoperates_with_the_default() {
    let metastore = memory();
    let default = factory(metastore.clone(), FakeClock::new(), CryptoPolicy::default());
    let ring = SessionFactory::builder(SERVICE, PRODUCT, metastore, static_kms())
        .backend(appencryption::RingBackend)
        .clock(FakeClock::new())
        .build()
        .unwrap();
    let a = default
        .get_session("p")
        .unwrap()
        .encrypt(b"from aes-gcm")
        .unwrap();
    let b = ring
        .get_session("p")
        .unwrap()
        .encrypt(b"from ring")
        .unwrap();
    assert_eq!(
        ring.get_session("p").unwrap().decrypt(&a).unwrap(),
        b"from aes-gcm"
    );
    assert_eq!(
        default.get_session("p").unwrap().decrypt(&b).unwrap(),
        b"from ring"
    );
}

#[test]
fn encrypt_and_decrypt_record_gos_timers_when_a_recorder_is_installed() {
    let (tx, rx) = std::sync::mpsc::channel();
    let spy = metrics_spy::HistogramSpy(tx);
    let f = factory(memory(), FakeClock::new(), CryptoPolicy::default());
    let session = f.get_session("partition").unwrap();
    metrics::with_local_recorder(&spy, || {
        let drr = session.encrypt(b"timed").unwrap(); // cold: the async path
        session.decrypt(&drr).unwrap();
        let drr = session.encrypt(b"timed").unwrap(); // hot: the cached path
        session.decrypt(&drr).unwrap();
    });
    let names: Vec<String> = rx.try_iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [
            "ael.drr.encrypt",
            "ael.drr.decrypt",
            "ael.drr.encrypt",
            "ael.drr.decrypt"
        ]
    );
    // Without a recorder, and with metrics off, nothing is recorded (and nothing fails).
    session.encrypt(b"untimed").unwrap();
    let quiet = SessionFactory::builder(SERVICE, PRODUCT, memory(), static_kms())
        .metrics(false)
        .build()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let spy = metrics_spy::HistogramSpy(tx);
    metrics::with_local_recorder(&spy, || {
        quiet.get_session("p").unwrap().encrypt(b"x").unwrap()
    });
    assert_eq!(rx.try_iter().count(), 0);
}
