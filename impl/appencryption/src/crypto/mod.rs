//! Cryptographic primitives: the AEAD that seals every key and payload (docs/compatibility.md#key-hierarchy,
//! docs/compatibility.md#aead-layout).

mod aead;
mod key;
mod stack_scrub;

pub(crate) use aead::check_plaintext_len;
pub use aead::{
    AEAD_OVERHEAD, AeadBackend, AesGcmBackend, AesGcmCipher, CryptoPath, ENCRYPTED_KEY_LEN,
    KEY_LEN, MAX_PLAINTEXT_LEN, NONCE_LEN, OneShotPath, OneShotSwitch, TAG_LEN, crypto_path,
};
#[cfg(feature = "ring")]
pub use aead::{RingBackend, RingCipher};
#[cfg(feature = "test-util")]
pub(crate) use aead::{open_once_via, pin_aes_gcm, seal_once_via};

pub(crate) use key::CryptoKey;
pub(crate) use stack_scrub::{AFTER_KEY_LOAD, AFTER_KEY_USE, scrub_stack};
