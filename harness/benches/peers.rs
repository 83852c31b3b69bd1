//! Peer benches: the published crates.io `asherah = "=1.0.0"` (godaddy/asherah-ffi's Rust core), run in this
//! process beside our own benches. Built only with `--features peer` (it pulls the AWS SDK, tokio and aws-lc-sys).
//!
//! Setup, as in Go's `Benchmark_Encrypt` (docs/compatibility.md#go-benchmarks-mirrored): its `InMemoryMetastore`,
//! its `StaticKMS` over `thisIsAStaticMasterKeyForTesting`, service `asherah`, product `enclibrary`, the default
//! `CryptoPolicy`, ONE factory (`api::new_session_factory`) and ONE session for partition `123456`, warmed by a
//! first encrypt so the system and intermediate keys exist and sit in its caches before anything is timed. Payloads
//! are 64, 1024 and 16384 random bytes. Every series verifies a round trip before timing.
//!
//! * `peer_asherah_1_0/encrypt/<size>` — `PublicSession::encrypt(&[u8]) -> DataRowRecord` (struct out, no JSON).
//! * `peer_asherah_1_0/decrypt/<size>` — `PublicSession::decrypt(DataRowRecord) -> Vec<u8>` of a pre-made record.
//!   It takes the record by value, so each iteration gets a clone made outside the timed region
//!   (`iter_batched`, `SmallInput`); dropping the consumed record is inside it.
//! * `peer_asherah_1_0/encrypt_json/<size>` — encrypt, then `DataRowRecord::to_json_fast()` (the crate's
//!   hand-written Go-compatible writer, `src/types.rs`). The crate has no session-level JSON or bytes API; this is
//!   the pairing its record type offers.
//! * `peer_asherah_1_0/decrypt_json/<size>` — `serde_json::from_slice::<DataRowRecord>` (its serde derive: the
//!   crate has no hand-written DRR reader; its own `asherah-interop` binary parses the same way), then decrypt.
//!
//! The API used is the crate's synchronous one (`encrypt`/`decrypt`; `encrypt_async`/`decrypt_async` also exist):
//! no runtime is involved in what is timed.
//!
//! Key memory mode (asherah 1.0.0 defaults): each system/intermediate key is a `CryptoKey`
//! (`src/internal/crypto_key.rs`) holding the key sealed in a `hardware_enclave::MemoryEnclave` AND, beside it, a
//! pre-expanded ring `LessSafeKey` (the AES-256 key schedule) in ordinary heap memory (`cached_lsk`, built in
//! `CryptoKey::new_with_key_schedule_cache` when `cache_key_schedules` is true). The session creates keys with
//! `self.f.policy.cache_key_schedules` (`src/session.rs`, `Session::generate_key`, `system_key_from_ekr`,
//! `intermediate_key_from_ekr`), and `CryptoPolicy::default()` sets `cache_key_schedules: true`
//! (`src/policy.rs`; the field's doc says to disable it "for higher assurance against microarchitectural
//! disclosure of long-lived SK/IK key-equivalent material"). On the hot path `PublicSession::encrypt`/`decrypt`
//! wrap/unwrap the data key with `ik.less_safe_key()` and never open the enclave; only the per-record data key is
//! expanded per call (`aead::make_lsk`). Our Go-faithful default instead opens the protected IK for every
//! wrap/unwrap, so this is not a like-for-like memory model.
//!
//! Side effects of the peer in this process: `new_session_factory` calls `process_hardening::ensure_process_hardened`
//! once, which sets `RLIMIT_CORE` to 0 and initialises its enclave memory pool.

use std::hint::black_box;
use std::sync::Arc;

use asherah::aead::AES256GCM;
use asherah::kms::StaticKMS;
use asherah::metastore::InMemoryMetastore;
use asherah::{Config, DataRowRecord, Session};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lab::fixtures::{PARTITION, PRODUCT, SERVICE, STATIC_KEY};
use rand::Rng as _;

const SIZES: [usize; 3] = [64, 1024, 16384];
const PREFIX: &str = "peer_asherah_1_0";

type PeerSession = Session<AES256GCM, StaticKMS<AES256GCM>, InMemoryMetastore>;

/// One factory, one session, keys created by a first encrypt. The factory is returned so that it outlives the
/// benches, as in Go.
fn warm_session() -> (
    asherah::SessionFactory<AES256GCM, StaticKMS<AES256GCM>, InMemoryMetastore>,
    PeerSession,
) {
    let crypto = Arc::new(AES256GCM::new());
    let kms = Arc::new(
        StaticKMS::new(crypto.clone(), STATIC_KEY.as_bytes().to_vec()).expect("32-byte static key"),
    );
    let metastore = Arc::new(InMemoryMetastore::new());
    let factory =
        asherah::api::new_session_factory(Config::new(SERVICE, PRODUCT), metastore, kms, crypto);
    let session = factory.get_session(PARTITION);
    let warm = session
        .encrypt(b"warm up: create the system and intermediate keys")
        .expect("warm-up encrypt");
    assert_eq!(
        session.decrypt(warm).expect("warm-up decrypt"),
        b"warm up: create the system and intermediate keys"
    );
    (factory, session)
}

fn payload(len: usize) -> Vec<u8> {
    let mut p = vec![0_u8; len];
    rand::rng().fill(&mut p[..]);
    p
}

fn peer(c: &mut Criterion) {
    let (factory, session) = warm_session();
    let payloads: Vec<(usize, Vec<u8>)> = SIZES.iter().map(|&n| (n, payload(n))).collect();

    // Verify every path once per size before timing.
    for (n, p) in &payloads {
        let drr = session.encrypt(p).expect("encrypt");
        let key = drr.key.as_ref().expect("record carries its key envelope");
        assert_eq!(
            key.parent_key_meta.as_ref().map(|m| m.id.as_str()),
            Some("_IK_123456_asherah_enclibrary"),
            "the record names the partition's intermediate key"
        );
        assert_eq!(drr.data.len(), n + 28, "ciphertext = payload + tag + nonce");
        assert_eq!(&session.decrypt(drr.clone()).expect("decrypt"), p);
        let json = drr.to_json_fast();
        let parsed: DataRowRecord =
            serde_json::from_slice(json.as_bytes()).expect("parse own JSON");
        assert_eq!(&session.decrypt(parsed).expect("decrypt from JSON"), p);
    }

    let mut group = c.benchmark_group(format!("{PREFIX}/encrypt"));
    for (n, p) in &payloads {
        group.throughput(Throughput::Bytes(*n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), p, |b, p| {
            b.iter(|| session.encrypt(black_box(p)).expect("encrypt"));
        });
    }
    group.finish();

    let mut group = c.benchmark_group(format!("{PREFIX}/decrypt"));
    for (n, p) in &payloads {
        let drr = session.encrypt(p).expect("encrypt");
        group.throughput(Throughput::Bytes(*n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &drr, |b, drr| {
            b.iter_batched(
                || drr.clone(),
                |d| session.decrypt(black_box(d)).expect("decrypt"),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();

    let mut group = c.benchmark_group(format!("{PREFIX}/encrypt_json"));
    for (n, p) in &payloads {
        group.throughput(Throughput::Bytes(*n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), p, |b, p| {
            b.iter(|| {
                session
                    .encrypt(black_box(p))
                    .expect("encrypt")
                    .to_json_fast()
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group(format!("{PREFIX}/decrypt_json"));
    for (n, p) in &payloads {
        let json = session
            .encrypt(p)
            .expect("encrypt")
            .to_json_fast()
            .into_bytes();
        group.throughput(Throughput::Bytes(*n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &json, |b, json| {
            b.iter(|| {
                let drr: DataRowRecord = serde_json::from_slice(black_box(json)).expect("parse");
                session.decrypt(drr).expect("decrypt")
            });
        });
    }
    group.finish();

    session.close().expect("close session");
    factory.close().expect("close factory");
}

criterion_group!(benches, peer);
criterion_main!(benches);
