//! Wire-layer benches: the DataRowRecord JSON written and read once per encrypt/decrypt, and the AES-256-GCM seal
//! and open under each AEAD backend. Naming: group = operation, function = variant, parameter = payload size.
//!
//! * `drr_json/serialize/{to_json,write_json_reused,serde_json_reference}/<size>` — a DRR whose payload was `size`
//!   bytes (so `Data` holds `size + 28`), written by a fresh `to_json`, by `write_json` into a reused buffer, and,
//!   for reference only, by a `serde_json` derive (not Go-identical: no HTML escaping).
//! * `drr_json/parse/{from_json,serde_json_reference}/<size>` — the same record read back.
//! * `aead/seal/<backend>/<size>`, `aead/open/<backend>/<size>` — with a cached cipher (expanded key kept beside the
//!   key) and a reused output buffer; the nonce is fixed because the RNG is not what is measured here.
//! * `aead/key_setup/<backend>` — building the cipher from 32 key bytes: the extra cost per call when key bytes
//!   are only exposed inside a closure.
//! * `aead/one_shot_seal/<path>/<size>`, `aead/one_shot_open/<path>/<size>` — sealing (opening) one payload under a
//!   key used once (a data-row key: key set-up, seal, wipe) by each route the backends choose between at run time:
//!   `aes-gcm`, `aes-ni` (the crate `aesni-gcm`) and, with `--features ring`, `ring`; and `chosen-aes-gcm` and
//!   `chosen-ring`, the backends' own `seal_once`/`open_once`, i.e. whichever route this process's calibrations
//!   picked for that size (`appencryption::crypto_path`, printed to stderr). A regression of any route shows in its
//!   own row.
//!
//! Backends: `aes-gcm` always, `ring` with `--features ring`. Every bench verifies a round trip before timing.

use std::hint::black_box;

use appencryption::{
    AeadBackend, AesGcmBackend, DataRowRecord, EnvelopeKeyRecord, KeyMeta, NONCE_LEN, SecureRandom,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [usize; 3] = [64, 1024, 16384];
const KEY: [u8; 32] = *b"thisIsAStaticMasterKeyForTesting";
const NONCE: [u8; NONCE_LEN] = [0xd0; NONCE_LEN];

/// A DRR as encrypt produces it for a `payload_len`-byte payload (contents are irrelevant to the JSON cost).
fn drr(payload_len: usize) -> DataRowRecord {
    DataRowRecord {
        key: Some(EnvelopeKeyRecord {
            revoked: false,
            id: String::new(),
            created: 1_700_000_123,
            encrypted_key: (0..60).collect(),
            parent_key_meta: Some(KeyMeta {
                key_id: "_IK_partition_service_product".to_owned(),
                created: 1_700_000_100,
            }),
        }),
        data: (0..payload_len + 28).map(|i| (i * 7) as u8).collect(),
    }
}

/// A `serde_json` mirror of the DRR, as a speed reference for the hand-written reader and writer.
mod reference {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    fn b64<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    fn unb64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <&str>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(serde::de::Error::custom)
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    pub(crate) struct Meta {
        #[serde(rename = "KeyId")]
        pub(crate) key_id: String,
        #[serde(rename = "Created")]
        pub(crate) created: i64,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    pub(crate) struct Ekr {
        #[serde(
            rename = "Revoked",
            default,
            skip_serializing_if = "std::ops::Not::not"
        )]
        pub(crate) revoked: bool,
        #[serde(rename = "Created")]
        pub(crate) created: i64,
        #[serde(rename = "Key", serialize_with = "b64", deserialize_with = "unb64")]
        pub(crate) key: Vec<u8>,
        #[serde(rename = "ParentKeyMeta", skip_serializing_if = "Option::is_none")]
        pub(crate) parent: Option<Meta>,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    pub(crate) struct Drr {
        #[serde(rename = "Key")]
        pub(crate) key: Option<Ekr>,
        #[serde(rename = "Data", serialize_with = "b64", deserialize_with = "unb64")]
        pub(crate) data: Vec<u8>,
    }

    pub(crate) fn from(d: &appencryption::DataRowRecord) -> Drr {
        Drr {
            key: d.key.as_ref().map(|k| Ekr {
                revoked: k.revoked,
                created: k.created,
                key: k.encrypted_key.clone(),
                parent: k.parent_key_meta.as_ref().map(|m| Meta {
                    key_id: m.key_id.clone(),
                    created: m.created,
                }),
            }),
            data: d.data.clone(),
        }
    }
}

fn drr_json_serialize(c: &mut Criterion) {
    let mut group = c.benchmark_group("drr_json/serialize");
    for size in SIZES {
        let record = drr(size);
        let json = record.to_json();
        assert_eq!(DataRowRecord::from_json(&json).expect("round trip"), record);
        let mirror = reference::from(&record);
        // The reference writes the same bytes for ids without HTML characters.
        assert_eq!(serde_json::to_vec(&mirror).expect("serde"), json);

        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("to_json", size), &record, |b, r| {
            b.iter(|| black_box(r).to_json());
        });
        let mut buf = Vec::new();
        group.bench_with_input(
            BenchmarkId::new("write_json_reused", size),
            &record,
            |b, r| {
                b.iter(|| {
                    buf.clear();
                    black_box(r).write_json(&mut buf);
                    black_box(buf.len())
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("serde_json_reference", size),
            &mirror,
            |b, m| {
                b.iter(|| serde_json::to_vec(black_box(m)).expect("serde"));
            },
        );
    }
    group.finish();
}

fn drr_json_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("drr_json/parse");
    for size in SIZES {
        let record = drr(size);
        let json = record.to_json();
        assert_eq!(DataRowRecord::from_json(&json).expect("round trip"), record);
        let mirror = reference::from(&record);
        assert_eq!(
            serde_json::from_slice::<reference::Drr>(&json).expect("serde"),
            mirror
        );

        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("from_json", size), &json, |b, j| {
            b.iter(|| DataRowRecord::from_json(black_box(j)).expect("parse"));
        });
        group.bench_with_input(
            BenchmarkId::new("serde_json_reference", size),
            &json,
            |b, j| {
                b.iter(|| serde_json::from_slice::<reference::Drr>(black_box(j)).expect("serde"));
            },
        );
    }
    group.finish();
}

/// Seal, open and key-setup benches for one backend.
fn aead_backend<B: AeadBackend>(c: &mut Criterion, backend: &B) {
    let cipher = backend.cipher(&KEY).expect("32-byte key");
    let name = backend.name();

    let mut seal = c.benchmark_group("aead/seal");
    for size in SIZES {
        let payload: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let mut out = Vec::with_capacity(size + 28);
        backend
            .seal_into(&cipher, &NONCE, &payload, &mut out)
            .expect("seal");
        assert_eq!(backend.decrypt(&out, &KEY).expect("round trip"), payload);
        seal.throughput(Throughput::Bytes(size as u64));
        seal.bench_with_input(BenchmarkId::new(name, size), &payload, |b, p| {
            b.iter(|| {
                out.clear();
                backend
                    .seal_into(&cipher, &NONCE, black_box(p), &mut out)
                    .expect("seal");
                black_box(out.len())
            });
        });
    }
    seal.finish();

    let mut open = c.benchmark_group("aead/open");
    for size in SIZES {
        let payload: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let mut blob = Vec::new();
        backend
            .seal_into(&cipher, &NONCE, &payload, &mut blob)
            .expect("seal");
        let mut out = Vec::with_capacity(size);
        backend.open_into(&cipher, &blob, &mut out).expect("open");
        assert_eq!(out, payload);
        open.throughput(Throughput::Bytes(size as u64));
        open.bench_with_input(BenchmarkId::new(name, size), &blob, |b, blob| {
            b.iter(|| {
                out.clear();
                backend
                    .open_into(&cipher, black_box(blob), &mut out)
                    .expect("open");
                black_box(out.len())
            });
        });
    }
    open.finish();

    let mut setup = c.benchmark_group("aead/key_setup");
    setup.bench_function(name, |b| {
        b.iter(|| backend.cipher(black_box(&KEY)).expect("key"));
    });
    setup.finish();
}

/// Payload sizes around the routes' crossover on the CPUs measured so far (32: a data-row key wrapped per call).
const ONE_SHOT_SIZES: [usize; 6] = [32, 64, 128, 256, 1024, 16384];

/// One seal (or open) under a one-shot key, by one route.
type OneShot = fn(&[u8], &mut Vec<u8>) -> Result<(), appencryption::Error>;

/// The one-shot routes benched: `(path name, seal, open)`.
fn one_shot_routes() -> Vec<(&'static str, OneShot, OneShot)> {
    use appencryption::OneShotPath;
    use appencryption::bench_support::{open_once_via, seal_once_via};
    let mut routes: Vec<(&'static str, OneShot, OneShot)> = vec![
        (
            "aes-gcm",
            |p, out| seal_once_via(OneShotPath::AesGcm, &KEY, &NONCE, p, out),
            |b, out| open_once_via(OneShotPath::AesGcm, &KEY, b, out),
        ),
        (
            "aes-ni",
            |p, out| seal_once_via(OneShotPath::AesNi, &KEY, &NONCE, p, out),
            |b, out| open_once_via(OneShotPath::AesNi, &KEY, b, out),
        ),
        (
            "chosen-aes-gcm",
            |p, out| AesGcmBackend.seal_once(&KEY, &NONCE, p, out),
            |b, out| AesGcmBackend.open_once(&KEY, b, out),
        ),
    ];
    #[cfg(feature = "ring")]
    {
        routes.push((
            "ring",
            |p, out| seal_once_via(OneShotPath::Ring, &KEY, &NONCE, p, out),
            |b, out| open_once_via(OneShotPath::Ring, &KEY, b, out),
        ));
        routes.push((
            "chosen-ring",
            |p, out| appencryption::RingBackend.seal_once(&KEY, &NONCE, p, out),
            |b, out| appencryption::RingBackend.open_once(&KEY, b, out),
        ));
    }
    routes
}

/// `aead/one_shot_seal/<path>/<size>` and `aead/one_shot_open/<path>/<size>`.
fn one_shot(c: &mut Criterion) {
    eprintln!("crypto path: {}", appencryption::crypto_path());
    let routes = one_shot_routes();
    for (group_name, opening) in [("aead/one_shot_seal", false), ("aead/one_shot_open", true)] {
        let mut group = c.benchmark_group(group_name);
        for size in ONE_SHOT_SIZES {
            let payload: Vec<u8> = (0..size).map(|i| i as u8).collect();
            let mut blob = Vec::new();
            AesGcmBackend
                .seal_once(&KEY, &NONCE, &payload, &mut blob)
                .expect("seal");
            let mut out = Vec::with_capacity(size + 28);
            group.throughput(Throughput::Bytes(size as u64));
            for &(path, seal, open) in &routes {
                // Every route seals to the same bytes and opens them.
                out.clear();
                seal(&payload, &mut out).expect("seal");
                assert_eq!(out, blob, "{path} seals as aes-gcm does");
                out.clear();
                open(&blob, &mut out).expect("open");
                assert_eq!(out, payload, "{path} opens");
                let (op, input) = if opening {
                    (open, &blob)
                } else {
                    (seal, &payload)
                };
                group.bench_with_input(BenchmarkId::new(path, size), input, |b, input| {
                    b.iter(|| {
                        out.clear();
                        op(black_box(input), &mut out).expect("one-shot");
                        black_box(out.len())
                    });
                });
            }
        }
        group.finish();
    }
}

fn aead(c: &mut Criterion) {
    // Both backends must produce identical bytes before either is timed.
    #[cfg(feature = "ring")]
    {
        let rng = appencryption::SeededRandom::new(1);
        let a = AesGcmBackend.encrypt(b"payload", &KEY, &rng).expect("seal");
        let nonce: [u8; NONCE_LEN] = a[a.len() - NONCE_LEN..].try_into().expect("nonce");
        let ring = appencryption::RingBackend;
        let mut b = Vec::new();
        ring.seal_into(&ring.cipher(&KEY).expect("key"), &nonce, b"payload", &mut b)
            .expect("seal");
        assert_eq!(a, b, "backends disagree");
    }
    aead_backend(c, &AesGcmBackend);
    #[cfg(feature = "ring")]
    aead_backend(c, &appencryption::RingBackend);
}

/// The randomness one encrypt draws (a 32-byte data-row key and two 12-byte nonces), per source.
fn rng(c: &mut Criterion) {
    let mut group = c.benchmark_group("rng");
    let mut buf = [0u8; 56];
    group.bench_function("fill_56/os", |b| {
        b.iter(|| appencryption::OsRandom.fill(black_box(&mut buf)).unwrap())
    });
    group.bench_function("fill_0/thread_local", |b| {
        b.iter(|| {
            appencryption::ThreadLocalRandom
                .fill(black_box(&mut []))
                .unwrap()
        })
    });
    group.bench_function("fill_56/thread_local", |b| {
        b.iter(|| {
            appencryption::ThreadLocalRandom
                .fill(black_box(&mut buf))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    drr_json_serialize,
    drr_json_parse,
    aead,
    one_shot,
    rng
);
criterion_main!(benches);
