//! The `aes-ni` one-shot route: seal and open under a key used for one message (a data-row key) with the crate
//! `aesni-gcm` (x86-64 AES-NI and CLMUL, a key set-up several times cheaper than ring's or `aes-gcm`'s), in Asherah's
//! layout. On a CPU without those instructions it seals and opens by RustCrypto's `aes-gcm`, which gives the same
//! bytes.
//!
//! `aesni-gcm` builds the round keys in one array on its own stack frame and zeroizes them, with the GHASH key and
//! the tag mask, before it returns; it verifies the tag before decrypting, so a failed open never writes
//! unauthenticated plaintext.

use aesni_gcm::AesNiGcm;
use zeroize::Zeroize;

use super::{
    AEAD_OVERHEAD, Error, KEY_LEN, NONCE_LEN, aes_gcm_backend, check_plaintext_len,
    log_open_failure, split_blob,
};

/// The name `open` failures are logged under.
const NAME: &str = "aes-ni";

/// The 32-byte key, or the error a backend gives for any other length.
fn key_array(key: &[u8]) -> Result<&[u8; KEY_LEN], Error> {
    <&[u8; KEY_LEN]>::try_from(key).map_err(|_| Error::InvalidAeadKeySize { len: key.len() })
}

/// Append `AES-GCM(plaintext) ‖ tag ‖ nonce` to `out` under `key`, used for this message only. On error `out` is
/// left as it was.
pub(crate) fn seal_once(
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let Some(gcm) = AesNiGcm::detect() else {
        return aes_gcm_backend::seal_once_rust_crypto(key, nonce, plaintext, out);
    };
    let key = key_array(key)?;
    check_plaintext_len(plaintext.len())?;
    let start = out.len();
    // Reserve up front so the plaintext copy is never left behind in a buffer freed by a later reallocation.
    out.reserve(plaintext.len() + AEAD_OVERHEAD);
    out.extend_from_slice(plaintext);
    match gcm.seal(key, nonce, &mut out[start..]) {
        Ok(tag) => {
            out.extend_from_slice(&tag);
            out.extend_from_slice(nonce);
            Ok(())
        }
        Err(_) => {
            out[start..].zeroize();
            out.truncate(start);
            Err(Error::PlaintextTooLarge)
        }
    }
}

/// Open a `ciphertext ‖ tag ‖ nonce` blob under `key`, used for this message only, and append the plaintext to
/// `out`. Errors as [`AeadBackend::open_into`]; on error `out` is left as it was.
pub(crate) fn open_once(key: &[u8], blob: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
    let Some(gcm) = AesNiGcm::detect() else {
        return aes_gcm_backend::open_once_rust_crypto(key, blob, out);
    };
    let key = key_array(key)?;
    let parts = split_blob(NAME, blob)?;
    let start = out.len();
    out.extend_from_slice(parts.ciphertext);
    match gcm.open(key, &parts.nonce, &mut out[start..], &parts.tag) {
        Ok(()) => Ok(()),
        Err(_) => {
            // Nothing was decrypted (the tag is checked first); the ciphertext copy goes.
            out.truncate(start);
            log_open_failure(NAME, blob.len());
            Err(Error::DecryptionFailed)
        }
    }
}
