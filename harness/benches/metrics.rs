//! The Rust side of the allocation and size rows (REPORT.md tables 3–4): heap allocations and bytes per operation,
//! counted by `allocation-counter`'s global allocator (Go's `-benchmem` counterpart), and record sizes. Not timed,
//! so one run is exact; the `lab report` runner reads the `lab-metric {json}` lines this prints.
//!
//! Each id is the criterion id of the timed twin of the operation (see `patterns.rs`, `appencryption.rs`,
//! `appencryption_wire.rs`), plus `size/drr_json/1024`, the JSON length of a record of a 1 KiB payload.
//! Every counted op is first run once uncounted (so one-time lazy initialisations are not charged to it), then
//! [`OPS`] times; the count must be the same for every op and nothing may outlive it.

use std::hint::black_box;

use appencryption::{CryptoPolicy, DataRowRecord, EnvelopeKeyRecord, KeyMeta, KeyMode};
use lab::fixtures::{factory, payload, warm};

const OPS: u64 = 100;

/// Count one op's allocations and print them.
fn emit(id: &str, mut op: impl FnMut()) {
    op();
    let one = allocation_counter::measure(&mut op);
    let many = allocation_counter::measure(|| (0..OPS).for_each(|_| op()));
    assert_eq!(
        many.count_total,
        OPS * one.count_total,
        "{id}: the count varies between ops"
    );
    assert_eq!(many.count_current, 0, "{id}: an allocation outlived the op");
    println!(
        "lab-metric {}",
        serde_json::json!({
            "id": id,
            "allocs_per_op": many.count_total as f64 / OPS as f64,
            "bytes_per_op": many.bytes_total as f64 / OPS as f64,
        })
    );
}

fn emit_size(id: &str, bytes: usize) {
    println!(
        "lab-metric {}",
        serde_json::json!({ "id": id, "value": bytes as f64 })
    );
}

fn main() {
    for (mode_name, mode) in [
        ("stack_drk", KeyMode::StackDataRowKey),
        ("protected_drk", KeyMode::ProtectedDataRowKey),
        ("cached_cipher", KeyMode::CachedCipher),
    ] {
        for size in [64, 1024] {
            let f = factory(CryptoPolicy::default().with_key_mode(mode));
            let p = payload(size);
            let (session, record) = warm(&f, &p);
            emit(&format!("hot_encrypt/{mode_name}/{size}"), || {
                black_box(session.encrypt(black_box(&p)).expect("encrypt"));
            });
            emit(&format!("hot_decrypt/{mode_name}/{size}"), || {
                black_box(session.decrypt(black_box(&record)).expect("decrypt"));
            });
        }
    }

    let f = factory(CryptoPolicy::default());
    let (session, record) = warm(&f, &payload(64));
    emit("partition/build_session", || {
        drop(black_box(f.get_session("123456").expect("session")));
    });
    let mut tampered = record.clone();
    tampered.data[0] ^= 1;
    emit("patterns/decrypt_tampered/64", || {
        assert!(session.decrypt(black_box(&tampered)).is_err());
    });

    let cached = factory(CryptoPolicy::default().with_session_cache());
    drop(warm(&cached, &payload(64)));
    emit("patterns/session_cache_get", || {
        drop(black_box(cached.get_session("123456").expect("session")));
    });

    let (_, big) = warm(&f, &payload(1024));
    let json = big.to_json();
    emit_size("size/drr_json/1024", json.len());
    emit("drr_json/serialize/to_json/1024", || {
        black_box(black_box(&big).to_json());
    });
    emit("drr_json/parse/from_json/1024", || {
        black_box(DataRowRecord::from_json(black_box(&json)).expect("parse"));
    });

    let key = big.key.clone().expect("a DRR from encrypt has its key");
    let ekr = EnvelopeKeyRecord {
        revoked: false,
        id: "_IK_123456_asherah_enclibrary".into(),
        created: key.created,
        encrypted_key: key.encrypted_key,
        parent_key_meta: Some(KeyMeta {
            key_id: "_SK_asherah_enclibrary".into(),
            created: key.created,
        }),
    };
    let ekr_json = ekr.to_json();
    emit("patterns/ekr_json/serialize", || {
        black_box(black_box(&ekr).to_json());
    });
    emit("patterns/ekr_json/parse", || {
        black_box(EnvelopeKeyRecord::from_json(black_box(&ekr_json)).expect("parse"));
    });
}
