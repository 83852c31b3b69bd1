//! Heap allocations per hot encrypt and per hot decrypt (warm session, 64 B and 1 KiB, every key mode), counted by
//! `allocation-counter`'s global allocator (its own test binary, so no other target gets that allocator).
//!
//! The bounds are the measured counts; a change that adds an allocation to a hot path fails here, one that removes
//! one passes (then lower the bound). What they are:
//! * encrypt, stack DRK and both cached-cipher modes: 3 — the record's `data`, its `encrypted_key`, and the parent key id
//!   `String` in its `KeyMeta`;
//! * encrypt, protected DRK: 4 — those 3 plus the heap copy of the data-row key secret's guard canary (the
//!   secret's pages themselves are `mmap`ed, not heap);
//! * decrypt: 1 — the plaintext.
//!
//! Run with `--nocapture` to see the table.

use std::hint::black_box;
use std::sync::Arc;

use appencryption::{
    AeadBackend, AesGcmBackend, CryptoPolicy, DataRowRecord, InMemoryMetastore, KeyMode, Metastore,
    Session, SessionFactory, StaticKms,
};

const OPS: u64 = 100;

/// `(mode name, mode, max allocations per encrypt, max allocations per decrypt)`.
const BOUNDS: [(&str, KeyMode, u64, u64); 4] = [
    ("protected_drk", KeyMode::ProtectedDataRowKey, 3, 1),
    ("stack_drk", KeyMode::StackDataRowKey, 3, 1),
    ("cached_cipher", KeyMode::CachedCipher, 3, 1),
    ("secret_cached_cipher", KeyMode::SecretCachedCipher, 3, 1),
];
const SIZES: [usize; 2] = [64, 1024];

struct Warm<B: AeadBackend> {
    session: Session<B>,
    _factory: SessionFactory<B>,
    metastore: Arc<InMemoryMetastore>,
    payload: Vec<u8>,
    record: DataRowRecord,
}

fn warm<B: AeadBackend>(backend: B, mode: KeyMode, size: usize) -> Warm<B> {
    let metastore = Arc::new(InMemoryMetastore::new());
    let kms = Arc::new(StaticKms::new("thisIsAStaticMasterKeyForTesting").expect("static KMS"));
    let factory = SessionFactory::builder(
        "asherah",
        "enclibrary",
        Arc::clone(&metastore) as Arc<dyn Metastore>,
        kms,
    )
    .backend(backend)
    .policy(CryptoPolicy::default().with_key_mode(mode))
    .build()
    .expect("factory");
    let session = factory.get_session("123456").expect("session");
    let payload: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let record = session.encrypt(&payload).expect("encrypt");
    assert_eq!(
        session.decrypt(&record).expect("decrypt"),
        payload,
        "round trip"
    );
    Warm {
        session,
        _factory: factory,
        metastore,
        payload,
        record,
    }
}

/// Allocations of one op, checked to be the same for every one of [`OPS`] ops and to leak nothing.
fn per_op(what: &str, mut op: impl FnMut()) -> u64 {
    let one = allocation_counter::measure(&mut op);
    let many = allocation_counter::measure(|| (0..OPS).for_each(|_| op()));
    assert_eq!(
        many.count_total,
        OPS * one.count_total,
        "{what}: the count must not vary between ops"
    );
    assert_eq!(
        (one.count_current, many.count_current),
        (0, 0),
        "{what}: nothing may outlive the op"
    );
    one.count_total
}

fn check_backend<B: AeadBackend + Copy>(backend: B, backend_name: &str) {
    println!(
        "{:<8} {:<14} {:>6} {:>8} {:>8}",
        "backend", "mode", "size", "encrypt", "decrypt"
    );
    for (mode_name, mode, max_encrypt, max_decrypt) in BOUNDS {
        for size in SIZES {
            let w = warm(backend, mode, size);
            let before = w.metastore.stats();
            let encrypt = per_op("encrypt", || {
                black_box(w.session.encrypt(black_box(&w.payload)).expect("encrypt"));
            });
            let decrypt = per_op("decrypt", || {
                black_box(w.session.decrypt(black_box(&w.record)).expect("decrypt"));
            });
            assert_eq!(
                w.metastore.stats(),
                before,
                "the measured ops must be hot (keys cached)"
            );
            println!("{backend_name:<8} {mode_name:<14} {size:>6} {encrypt:>8} {decrypt:>8}");
            let case = format!("{backend_name}/{mode_name}/{size}");
            assert!(
                encrypt <= max_encrypt,
                "{case}: {encrypt} allocations per encrypt, bound {max_encrypt}"
            );
            assert!(
                decrypt <= max_decrypt,
                "{case}: {decrypt} allocations per decrypt, bound {max_decrypt}"
            );
        }
    }
}

#[test]
fn hot_encrypt_and_decrypt_allocate_no_more_than_measured() {
    check_backend(AesGcmBackend, "aes-gcm");
    #[cfg(feature = "ring")]
    check_backend(appencryption::RingBackend, "ring");
}
