//! The `ring` backend (cargo feature `ring`): BoringSSL's AES-GCM assembly. ring does not wipe its key schedules,
//! so this backend keeps each one in a [`securememory::Wiped`], which zeroes it when it is dropped.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, Tag, UnboundKey};
use securememory::Wiped;

use super::one_shot;
use super::{AeadBackend, Error, NONCE_LEN, TAG_LEN, sealed};
use crate::crypto::stack_scrub::{AFTER_CACHED_RING_KEY_USE, scrub_stack};

/// AES-256-GCM from `ring` (BoringSSL's assembly). Enabled by the `ring` cargo feature; byte-identical to
/// [`AesGcmBackend`](super::AesGcmBackend).
///
/// Cached ciphers (the system and intermediate keys in [`KeyMode::CachedCipher`](crate::KeyMode::CachedCipher)
/// and [`KeyMode::SecretCachedCipher`](crate::KeyMode::SecretCachedCipher)), and the per-call ciphers of the other
/// modes, are ring's. A one-shot key (the data-row key) seals or opens by ring or by the short route (the crate
/// `aesni-gcm` on x86-64 with AES-NI and CLMUL, else [`AesGcmBackend`](super::AesGcmBackend)), whichever this CPU runs faster at that
/// payload length: the choice is made once per process by a short calibration (see
/// [`crypto_path`](crate::crypto_path), which reports it). Every key schedule any route builds is wiped when it is
/// dropped.
#[derive(Debug, Clone, Copy, Default)]
pub struct RingBackend;

/// `ring`'s expanded key (`LessSafeKey`, which allows a caller-chosen nonce), held in a [`Wiped`]: its round keys
/// and GHASH key are zeroed when it is dropped (ring itself leaves them in freed memory).
///
/// What is wiped is the cipher where it is dropped. ring builds the key schedule in its own frames and returns it
/// by value, so copies of it can remain on that thread's stack below the caller's frame, where safe Rust cannot
/// reach them, until later calls overwrite them; the same holds for any returned Rust value, `aes-gcm`'s included.
pub struct RingCipher(Wiped<LessSafeKey>);

impl std::fmt::Debug for RingCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RingCipher(<redacted>)")
    }
}

/// ring's cipher for `key` (ring rejects any length but 32). Inlined into each caller so that the 544-byte key is
/// built in the frame that uses it rather than moved out of a returned `Result`.
#[inline(always)]
fn ring_cipher(key: &[u8]) -> Result<RingCipher, Error> {
    match UnboundKey::new(&AES_256_GCM, key) {
        Ok(k) => Ok(RingCipher(Wiped::new(LessSafeKey::new(k)))),
        Err(_) => Err(Error::InvalidAeadKeySize { len: key.len() }),
    }
}

/// ring's own one-shot seal: build the cipher in this frame, seal, wipe it. The cipher is used where it lies in
/// the `Result` (`?` would move its 544 bytes out first: a copy per call, measured in the hot-path profile) and
/// wiped when the `Result` is dropped at the end of the `match`.
pub(super) fn seal_once_ring(
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    match ring_cipher(key) {
        Ok(ref cipher) => RingBackend.seal_into(cipher, nonce, plaintext, out),
        Err(e) => Err(e),
    }
}

/// ring's own one-shot open: as [`seal_once_ring`].
pub(super) fn open_once_ring(key: &[u8], blob: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
    match ring_cipher(key) {
        Ok(ref cipher) => RingBackend.open_into(cipher, blob, out),
        Err(e) => Err(e),
    }
}

impl sealed::Sealed for RingBackend {
    #[inline(always)]
    fn scrub_after_cached_use() {
        scrub_stack::<AFTER_CACHED_RING_KEY_USE>();
    }
}

impl AeadBackend for RingBackend {
    type Cipher = RingCipher;

    fn name(&self) -> &'static str {
        "ring"
    }

    /// Runs the one-shot calibration now (once per process), so that the first encrypt does not pay for it.
    fn prepare(&self) {
        one_shot::ring_calibrated();
    }

    fn cipher(&self, key: &[u8]) -> Result<RingCipher, Error> {
        ring_cipher(key)
    }

    fn seal_in_place(
        &self,
        cipher: &RingCipher,
        nonce: &[u8; NONCE_LEN],
        in_out: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        let nonce = Nonce::assume_unique_for_key(*nonce);
        let tag = cipher
            .0
            .seal_in_place_separate_tag(nonce, Aad::empty(), in_out)
            // ring fails only beyond GCM's length limit.
            .map_err(|_| Error::PlaintextTooLarge)?;
        <[u8; TAG_LEN]>::try_from(tag.as_ref()).map_err(|_| Error::PlaintextTooLarge)
    }

    fn open_in_place(
        &self,
        cipher: &RingCipher,
        nonce: &[u8; NONCE_LEN],
        in_out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        let nonce = Nonce::assume_unique_for_key(*nonce);
        cipher
            .0
            .open_in_place_separate_tag(nonce, Aad::empty(), Tag::from(*tag), in_out, 0..)
            .map(|_| ())
            .map_err(|_| Error::DecryptionFailed)
    }

    /// By ring or the short route, as the calibration chose for this payload length.
    fn seal_once(
        &self,
        key: &[u8],
        nonce: &[u8; NONCE_LEN],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        one_shot::seal_once_by(one_shot::ring_calibrated().seal, key, nonce, plaintext, out)
    }

    /// As [`seal_once`](Self::seal_once), by the payload length the blob holds.
    fn open_once(&self, key: &[u8], blob: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        one_shot::open_once_by(one_shot::ring_calibrated().open, key, blob, out)
    }
}
