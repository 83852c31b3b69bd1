//! The default backend: RustCrypto's `aes-gcm` (pure Rust; AES-NI and CLMUL when the CPU has them, constant-time
//! software otherwise). Its key schedule zeroizes itself on drop.

use super::{AeadBackend, Error, KEY_LEN, NONCE_LEN, TAG_LEN, sealed};
use crate::crypto::stack_scrub::{AFTER_CACHED_AES_GCM_KEY_USE, scrub_stack};

/// AES-256-GCM from RustCrypto's `aes-gcm` crate (AES-NI and CLMUL when the CPU has them, constant-time software
/// otherwise). The default backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct AesGcmBackend;

/// `aes-gcm`'s expanded key schedule (AES round keys and the GHASH key). Zeroized on drop: the crate's `zeroize`
/// feature is enabled workspace-wide and a compile-time check below keeps it so. What is wiped is the cipher where
/// it is dropped: a copy that building it left behind (the value is returned, and Rust may move it) is not reached,
/// as for any Rust value; such stack residue is overwritten by the next calls on that thread.
pub struct AesGcmCipher(Aes256GcmEncOnly);

/// AES-256-GCM over the encrypt-only AES key schedule: GCM never runs AES backwards, and `aes::Aes256` would also
/// expand (and on drop wipe) the decryption round keys, which costs on every data-row key.
type Aes256GcmEncOnly = aes_gcm::AesGcm<aes::Aes256Enc, aes_gcm::aead::consts::U12>;

/// Compile-time proof that the cipher wipes its round keys and GHASH key when dropped.
const _: fn() = assert_zeroize_on_drop::<Aes256GcmEncOnly>;
fn assert_zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}

impl std::fmt::Debug for AesGcmCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesGcmCipher(<redacted>)")
    }
}

impl sealed::Sealed for AesGcmBackend {
    #[inline(always)]
    fn scrub_after_cached_use() {
        scrub_stack::<AFTER_CACHED_AES_GCM_KEY_USE>();
    }
}

impl AeadBackend for AesGcmBackend {
    type Cipher = AesGcmCipher;

    fn name(&self) -> &'static str {
        "aes-gcm"
    }

    fn cipher(&self, key: &[u8]) -> Result<AesGcmCipher, Error> {
        use aes_gcm::KeyInit;
        if key.len() != KEY_LEN {
            return Err(Error::InvalidAeadKeySize { len: key.len() });
        }
        // `new_from_slice` borrows the key as an array reference; it makes no copy of it.
        Aes256GcmEncOnly::new_from_slice(key)
            .map(AesGcmCipher)
            .map_err(|_| Error::InvalidAeadKeySize { len: key.len() })
    }

    fn seal_in_place(
        &self,
        cipher: &AesGcmCipher,
        nonce: &[u8; NONCE_LEN],
        in_out: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        use aes_gcm::aead::AeadInOut;
        let nonce = aes_gcm::Nonce::from(*nonce);
        cipher
            .0
            .encrypt_inout_detached(&nonce, &[], in_out.into())
            .map(Into::into)
            // The only failure is the length limit (`aes_gcm::P_MAX`, equal to ours).
            .map_err(|_| Error::PlaintextTooLarge)
    }

    fn open_in_place(
        &self,
        cipher: &AesGcmCipher,
        nonce: &[u8; NONCE_LEN],
        in_out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        use aes_gcm::aead::AeadInOut;
        let nonce = aes_gcm::Nonce::from(*nonce);
        let tag = aes_gcm::Tag::from(*tag);
        cipher
            .0
            .decrypt_inout_detached(&nonce, &[], in_out.into(), &tag)
            .map_err(|_| Error::DecryptionFailed)
    }
}
