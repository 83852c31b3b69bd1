//! The static KMS (docs/compatibility.md#static-kms) through the public API: key-size validation, round trips, the
//! docs/compatibility.md#test-vectors system-key vector and tamper detection.

use std::sync::Arc;

use appencryption::{Error, KeyManagementService, StaticKms};
use zeroize::Zeroizing;

const MASTER_KEY: &str = "thisIsAStaticMasterKeyForTesting";
/// docs/compatibility.md#test-vectors: `enc SK`, the SK `00..1f` encrypted under `MASTER_KEY` with nonce `a0..ab`.
const ENC_SK_HEX: &str = "f3771527ec040a80dc01ffb501bb852a8ac15d76eb8a429e207043d14a90eb2450ceecb1956eadfab74a6e8e1e2412c6a0a1a2a3a4a5a6a7a8a9aaab";

fn sk() -> [u8; 32] {
    std::array::from_fn(|i| u8::try_from(i).expect("small"))
}

async fn decrypt(
    kms: &dyn KeyManagementService,
    blob: &[u8],
) -> Result<Zeroizing<[u8; 32]>, Error> {
    let mut key = Zeroizing::new([0u8; 32]);
    kms.decrypt_key(blob, &mut key).await?;
    Ok(key)
}

#[test]
fn master_keys_that_are_not_32_bytes_are_rejected_with_go_s_message() {
    let cases = [
        ("thisIsAStaticMasterKeyForTestin", 31),
        ("thisIsAStaticMasterKeyForTestingX", 33),
        ("", 0),
        // 32 characters but 33 bytes: the length is in UTF-8 bytes, as Go's `len(string)`.
        ("éhisIsAStaticMasterKeyForTesting", 33),
    ];
    for (key, len) in cases {
        let err = StaticKms::new(key).expect_err(key);
        assert!(
            matches!(err, Error::InvalidKeySize(n) if n == len),
            "{key:?}: {err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("invalid key size {len}, must be 32 bytes")
        );
    }
    // 16 two-byte characters: 32 bytes, accepted.
    assert!(StaticKms::new(&"é".repeat(16)).is_ok());
}

#[tokio::test]
async fn encrypt_then_decrypt_is_the_identity() {
    let kms: Arc<dyn KeyManagementService> =
        Arc::new(StaticKms::new(MASTER_KEY).expect("valid key"));
    let enc = kms.encrypt_key(&sk()).await.expect("encrypt");
    assert_eq!(enc.len(), 60, "32-byte key + 16-byte tag + 12-byte nonce");
    assert_eq!(*decrypt(&*kms, &enc).await.expect("decrypt"), sk());

    // A fresh nonce each time.
    let again = kms.encrypt_key(&sk()).await.expect("encrypt");
    assert_ne!(enc, again);
    assert_eq!(*decrypt(&*kms, &again).await.expect("decrypt"), sk());

    // Another instance with the same master key reads it (the key is the only state).
    let other = StaticKms::new(MASTER_KEY).expect("valid key");
    assert_eq!(*decrypt(&other, &enc).await.expect("decrypt"), sk());
}

#[tokio::test]
async fn spec_2_8_system_key_decrypts_to_bytes_00_to_1f() {
    let kms = StaticKms::new(MASTER_KEY).expect("valid key");
    let enc = hex::decode(ENC_SK_HEX).expect("hex");
    assert_eq!(*decrypt(&kms, &enc).await.expect("decrypt"), sk());
}

#[tokio::test]
async fn tampered_truncated_or_foreign_blobs_fail_and_leave_zeros() {
    let kms = StaticKms::new(MASTER_KEY).expect("valid key");
    let enc = hex::decode(ENC_SK_HEX).expect("hex");

    // One flipped bit in the ciphertext, the tag and the nonce.
    for index in [0, 31, 32, 47, 48, 59] {
        let mut tampered = enc.clone();
        tampered[index] ^= 0x01;
        let mut key = Zeroizing::new([0xAAu8; 32]);
        let err = kms
            .decrypt_key(&tampered, &mut key)
            .await
            .expect_err("tampered");
        assert!(
            matches!(err, Error::DecryptionFailed),
            "byte {index}: {err:?}"
        );
        assert_eq!(
            *key, [0u8; 32],
            "byte {index}: no unauthenticated plaintext left behind"
        );
    }

    // Too short for a nonce, too short for a tag, and the wrong length for a key.
    for len in [0, 11, 12, 27, 28, 59] {
        let mut key = Zeroizing::new([0xAAu8; 32]);
        assert!(
            kms.decrypt_key(&enc[..len], &mut key).await.is_err(),
            "length {len}"
        );
        assert_eq!(*key, [0u8; 32], "length {len}");
    }
    let mut longer = enc.clone();
    longer.insert(0, 0);
    assert!(decrypt(&kms, &longer).await.is_err());

    // Another master key.
    let other = StaticKms::new("ThisIsAStaticMasterKeyForTesting").expect("valid key");
    assert!(matches!(
        decrypt(&other, &enc).await,
        Err(Error::DecryptionFailed)
    ));
}

#[tokio::test]
async fn encrypt_key_accepts_other_lengths_but_decrypt_key_wants_32_bytes() {
    // Go's EncryptKey encrypts whatever it is given; Asherah only ever gives it 32 bytes, and decrypt_key insists.
    let kms = StaticKms::new(MASTER_KEY).expect("valid key");
    let enc = kms.encrypt_key(b"sixteen byte key").await.expect("encrypt");
    assert_eq!(enc.len(), 16 + 28);
    assert!(decrypt(&kms, &enc).await.is_err());
}
