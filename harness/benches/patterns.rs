//! The Rust side of the performance analysis's code-pattern and "advantages" comparisons (REPORT.md tables 3–4);
//! the Go side is `go-baseline/patterns`. Setup as there: service `asherah`, product `enclibrary`, partition
//! `123456`, the static KMS, a private in-memory metastore per bench, the default policy unless noted, the timed
//! operation checked once before timing.
//!
//! | bench id | Go benchmark | what |
//! |---|---|---|
//! | `patterns/session_cache_get` | `BenchmarkSessionCacheGet` | `get_session` + drop of a partition already in the session cache |
//! | `patterns/encrypt_async/64` | `BenchmarkEncrypt/64` | `Session::encrypt_async` polled to completion (no runtime: a cached-key encrypt never suspends) |
//! | `patterns/shared_session_encrypt/<threads>` | `BenchmarkSharedSessionEncrypt` at `-cpu <threads>` | one session shared by `threads` workers ([`run_parallel`]), encrypt of 64 bytes |
//! | `patterns/decrypt_tampered/64` | `BenchmarkDecryptTampered` | decrypt of a record with one flipped ciphertext bit; must fail |
//! | `patterns/ekr_json/serialize`, `patterns/ekr_json/parse` | `BenchmarkEKRSerialize`, `BenchmarkEKRParse` | an intermediate key's `EnvelopeKeyRecord` to and from JSON |
//!
//! The other pairs of those tables use existing benches: `partition/build_session` (appencryption),
//! `bounded_cache/get_hit/lru/1000` (cache), `drr_json/*` (appencryption_wire), `key_cache/*` (key_cache).

use std::hint::black_box;

use appencryption::bench_support::ready_now;
use appencryption::{CryptoPolicy, EnvelopeKeyRecord, KeyMeta};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use lab::fixtures::{PARTITION, PRODUCT, SERVICE, factory, payload, warm};
use lab::parallel::run_parallel;

const THREADS: [usize; 3] = [1, 2, 4];

fn session_cache_get(c: &mut Criterion) {
    let f = factory(CryptoPolicy::default().with_session_cache());
    let (warm_session, _) = warm(&f, &payload(64));
    drop(warm_session);
    assert_eq!(
        f.cached_sessions(),
        1,
        "the partition must be in the session cache"
    );
    c.bench_function("patterns/session_cache_get", |b| {
        b.iter(|| {
            drop(black_box(
                f.get_session(black_box(PARTITION)).expect("session"),
            ))
        });
    });
    assert_eq!(f.cached_sessions(), 1);
}

fn encrypt_async(c: &mut Criterion) {
    let f = factory(CryptoPolicy::default());
    let p = payload(64);
    let (session, _) = warm(&f, &p);
    let record = ready_now(session.encrypt_async(&p)).expect("encrypt");
    assert_eq!(session.decrypt(&record).expect("decrypt"), p);
    c.bench_function("patterns/encrypt_async/64", |b| {
        b.iter(|| ready_now(session.encrypt_async(black_box(&p))).expect("encrypt"));
    });
}

fn shared_session_encrypt(c: &mut Criterion) {
    let f = factory(CryptoPolicy::default());
    let p = payload(64);
    let (session, _) = warm(&f, &p);
    let mut group = c.benchmark_group("patterns/shared_session_encrypt");
    for threads in THREADS {
        group.bench_function(BenchmarkId::from_parameter(threads), |b| {
            b.iter_custom(|iters| {
                run_parallel(iters, threads, |_| {
                    || {
                        black_box(session.encrypt(black_box(&p)).expect("encrypt"));
                    }
                })
            });
        });
    }
    group.finish();
}

fn decrypt_tampered(c: &mut Criterion) {
    let f = factory(CryptoPolicy::default());
    let (session, mut record) = warm(&f, &payload(64));
    record.data[0] ^= 1;
    assert!(
        session.decrypt(&record).is_err(),
        "a tampered record decrypted"
    );
    c.bench_function("patterns/decrypt_tampered/64", |b| {
        b.iter(|| {
            assert!(session.decrypt(black_box(&record)).is_err());
        });
    });
}

/// An intermediate-key-shaped record, as the metastore stores it (also used by the metrics runner's twin).
fn ekr() -> EnvelopeKeyRecord {
    let f = factory(CryptoPolicy::default());
    let (_, record) = warm(&f, &payload(1024));
    let key = record.key.expect("a DRR from encrypt has its key");
    EnvelopeKeyRecord {
        revoked: false,
        id: format!("_IK_{PARTITION}_{SERVICE}_{PRODUCT}"),
        created: key.created,
        encrypted_key: key.encrypted_key,
        parent_key_meta: Some(KeyMeta {
            key_id: format!("_SK_{SERVICE}_{PRODUCT}"),
            created: key.created,
        }),
    }
}

fn ekr_json(c: &mut Criterion) {
    let e = ekr();
    let json = e.to_json();
    let back = EnvelopeKeyRecord::from_json(&json).expect("parse");
    assert_eq!(
        (back.created, &back.encrypted_key),
        (e.created, &e.encrypted_key)
    );
    let mut group = c.benchmark_group("patterns/ekr_json");
    group.bench_function("serialize", |b| b.iter(|| black_box(&e).to_json()));
    group.bench_function("parse", |b| {
        b.iter(|| EnvelopeKeyRecord::from_json(black_box(&json)).expect("parse"))
    });
    group.finish();
}

criterion_group!(
    benches,
    session_cache_get,
    encrypt_async,
    shared_session_encrypt,
    decrypt_tampered,
    ekr_json
);
criterion_main!(benches);
