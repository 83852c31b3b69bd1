//! Cryptographic primitives: the AEAD that seals every key and payload (spec §1.5, §2.1).

mod aead;
mod key;

pub(crate) use aead::check_plaintext_len;
pub use aead::{
    AEAD_OVERHEAD, AeadBackend, AesGcmBackend, AesGcmCipher, ENCRYPTED_KEY_LEN, KEY_LEN,
    MAX_PLAINTEXT_LEN, NONCE_LEN, TAG_LEN,
};
#[cfg(feature = "ring")]
pub use aead::{RING_ONE_SHOT_VIA_AES_GCM_MAX, RingBackend, RingCipher};

pub(crate) use key::CryptoKey;
