//! The `aes-ni` one-shot route: seal and open under a key used for one message (a data-row key) with the crate
//! `aesni-gcm` (x86-64 AES-NI and CLMUL, a key set-up several times cheaper than ring's or `aes-gcm`'s), in Asherah's
//! layout. On a CPU without those instructions it seals and opens by RustCrypto's `aes-gcm`, which gives the same
//! bytes.
//!
//! `aesni-gcm` builds the round keys in one array on its own stack frame and zeroizes them, with the GHASH key and
//! the tag mask, before it returns; it verifies the tag before decrypting, so a failed open never writes
//! unauthenticated plaintext.

use aesni_gcm::AesNiGcm;

use super::{Error, KEY_LEN, NONCE_LEN, aes_gcm_backend, open_laid_out, seal_laid_out};

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
    // The only failure is the length limit (`aesni_gcm::MAX_LEN`, equal to ours).
    seal_laid_out(nonce, plaintext, out, |buf| {
        gcm.seal(key, nonce, buf)
            .map_err(|_| Error::PlaintextTooLarge)
    })
}

/// Open a `ciphertext ‖ tag ‖ nonce` blob under `key`, used for this message only, and append the plaintext to
/// `out`. Errors as [`AeadBackend::open_into`]; on error `out` is left as it was.
pub(crate) fn open_once(key: &[u8], blob: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
    let Some(gcm) = AesNiGcm::detect() else {
        return aes_gcm_backend::open_once_rust_crypto(key, blob, out);
    };
    let key = key_array(key)?;
    open_laid_out(NAME, blob, out, |nonce, buf, tag| {
        gcm.open(key, nonce, buf, tag)
            .map_err(|_| Error::DecryptionFailed)
    })
}
