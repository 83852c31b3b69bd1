//! Unit tests that need the crate's internals (an injected RNG). Public behaviour is in `tests/wire/kms_static.rs`.

use super::*;

/// docs/compatibility.md#test-vectors: the static master key, the SK plaintext and its encryption under nonce
/// `a0..ab`.
const MASTER_KEY: &str = "thisIsAStaticMasterKeyForTesting";
const SK_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const ENC_SK_HEX: &str = "f3771527ec040a80dc01ffb501bb852a8ac15d76eb8a429e207043d14a90eb2450ceecb1956eadfab74a6e8e1e2412c6a0a1a2a3a4a5a6a7a8a9aaab";

/// Hands out one fixed nonce, as the spec's vectors were computed with.
struct FixedNonce([u8; 12]);

impl SecureRandom for FixedNonce {
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        assert_eq!(buf.len(), 12, "the static KMS draws nothing but a nonce");
        buf.copy_from_slice(&self.0);
        Ok(())
    }
}

fn hex(s: &str) -> Vec<u8> {
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex digit")
        })
        .collect()
}

#[tokio::test]
async fn encrypt_key_with_the_spec_nonce_reproduces_the_spec_2_8_enc_sk() {
    let nonce: [u8; 12] = std::array::from_fn(|i| 0xa0 + u8::try_from(i).expect("small"));
    let kms = StaticKms::with_rng(MASTER_KEY, Arc::new(FixedNonce(nonce))).expect("valid key");
    let enc = kms.encrypt_key(&hex(SK_HEX)).await.expect("encrypt");
    assert_eq!(enc, hex(ENC_SK_HEX));
}

#[test]
fn debug_does_not_show_the_master_key() {
    let kms = StaticKms::new(MASTER_KEY).expect("valid key");
    let debug = format!("{kms:?}");
    assert!(!debug.contains(MASTER_KEY), "{debug}");
    assert!(!debug.contains("116, 104"), "{debug}"); // "th" as bytes
    assert!(debug.starts_with("StaticKms"), "{debug}");
}
