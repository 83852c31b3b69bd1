//! AES-256-GCM in Asherah's byte layout (docs/compatibility.md#aead-layout): `ciphertext ‖ tag (16 B) ‖ nonce (12
//! B)`, no associated data.
//!
//! [`AeadBackend`] separates the two costs of an AEAD call so that callers can choose where key material lives:
//!
//! * **Per-call cipher** (key bytes readable only inside a closure): build the expanded key schedule, use it, drop
//!   it, all while the key is exposed — `secret.with_bytes(|k| backend.encrypt(pt, k, rng))`. The convenience
//!   methods [`encrypt`](AeadBackend::encrypt), [`decrypt`](AeadBackend::decrypt) and
//!   [`decrypt_key`](AeadBackend::decrypt_key) do exactly this.
//! * **Cached cipher**: build [`AeadBackend::Cipher`] once with [`cipher`](AeadBackend::cipher) and keep it beside
//!   the key; then [`seal_into`](AeadBackend::seal_into) / [`open_into`](AeadBackend::open_into) /
//!   [`open_key`](AeadBackend::open_key) skip the key expansion. The cipher holds the expanded key schedule, which
//!   is as secret as the key itself.
//!
//! Every backend's cipher is wiped when dropped (`aes-gcm` and `aesni-gcm` zeroize themselves; ring's is kept in a
//! [`securememory::Wiped`]).
//!
//! A decrypted key should never land in an ordinary heap `Vec`: use [`open_key`](AeadBackend::open_key) or
//! [`decrypt_key`](AeadBackend::decrypt_key), which write into a caller-owned `[u8; 32]` that the caller zeroizes
//! (or a `zeroize::Zeroizing<[u8; 32]>`).
//!
//! Files: this one holds the trait and the byte layout; `aes_gcm_backend.rs` and `ring_backend.rs` one backend
//! each; `one_shot.rs` the run-time choice of each backend's routes (calibration) and the one-shot dispatch;
//! `aes_ni.rs` the `aes-ni` one-shot route on x86-64 (the crate `aesni-gcm`). Both backends produce identical
//! bytes; the wire tests run every vector through each of them.

mod aes_gcm_backend;
#[cfg_attr(
    not(feature = "ring"),
    allow(
        dead_code,
        reason = "the aes-ni route serves RingBackend's one-shot keys"
    )
)]
mod aes_ni;
#[cfg_attr(
    not(feature = "ring"),
    allow(
        dead_code,
        reason = "the chooser serves RingBackend; its tests run in every build"
    )
)]
mod one_shot;
#[cfg(feature = "ring")]
mod ring_backend;

pub use aes_gcm_backend::{AesGcmBackend, AesGcmCipher};
#[cfg(feature = "test-util")]
pub(crate) use one_shot::pin_aes_gcm;
pub use one_shot::{CryptoPath, OneShotPath, OneShotSwitch, crypto_path};
#[cfg(any(test, feature = "test-util"))]
pub(crate) use one_shot::{open_once_via, seal_once_via};
#[cfg(feature = "ring")]
pub use ring_backend::{RingBackend, RingCipher};

use zeroize::Zeroize;

use crate::error::Error;
use crate::rng::SecureRandom;

/// Length of an AES-256 key.
pub const KEY_LEN: usize = 32;
/// Length of the GCM nonce appended to every blob.
pub const NONCE_LEN: usize = 12;
/// Length of the GCM authentication tag.
pub const TAG_LEN: usize = 16;
/// Bytes an encrypted blob adds to its plaintext: tag plus nonce.
pub const AEAD_OVERHEAD: usize = TAG_LEN + NONCE_LEN;
/// Length of an encrypted 32-byte key.
pub const ENCRYPTED_KEY_LEN: usize = KEY_LEN + AEAD_OVERHEAD;

/// The longest plaintext GCM can encrypt under one nonce: `(2^32 - 2)` blocks of 16 bytes (NIST SP 800-38D).
pub const MAX_PLAINTEXT_LEN: u64 = ((1 << 32) - 2) * 16;

pub(crate) mod sealed {
    /// Only this crate's backends implement [`super::AeadBackend`]: a new backend must pass the wire tests here.
    pub trait Sealed {
        /// Zero the stack below the caller after one seal or open with a cached key schedule, as deep as this
        /// backend's AES code leaves copies of round keys behind (see `crypto::stack_scrub`).
        fn scrub_after_cached_use();
    }
}

/// An AES-256-GCM implementation in Asherah's layout. Implemented by [`AesGcmBackend`] and (with the `ring`
/// feature) `RingBackend`; sealed.
///
/// The two required primitives work in place with a detached tag; every other method is provided on top of them
/// and is identical for all backends, so the byte layout and the error mapping live in one place.
pub trait AeadBackend: sealed::Sealed + Send + Sync + 'static {
    /// The expanded key schedule for one key. As secret as the key: every backend's cipher is wiped when dropped
    /// (see each backend for its guarantee). Its `Debug` never shows key material.
    type Cipher: Send + Sync + 'static;

    /// A short stable name (`aes-gcm`, `ring`) for logs and bench ids.
    fn name(&self) -> &'static str;

    /// Make any once-per-process choice the backend needs now rather than on the first operation (ring: its
    /// one-shot calibration, see [`crypto_path`]). Building a factory calls it; calling it again costs nothing.
    fn prepare(&self) {}

    /// Expand `key` into a cipher. Fails with [`Error::InvalidAeadKeySize`] unless `key` is 32 bytes.
    fn cipher(&self, key: &[u8]) -> Result<Self::Cipher, Error>;

    /// Encrypt `in_out` in place under `nonce` (no associated data) and return the tag.
    ///
    /// Fails with [`Error::PlaintextTooLarge`] beyond GCM's limit. Prefer [`seal_into`](Self::seal_into), which
    /// also lays the blob out; this exists for callers that manage their own buffers.
    fn seal_in_place(
        &self,
        cipher: &Self::Cipher,
        nonce: &[u8; NONCE_LEN],
        in_out: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error>;

    /// Verify `tag` over the ciphertext in `in_out` and decrypt it in place. On failure returns
    /// [`Error::DecryptionFailed`]; `in_out` then holds unspecified bytes that must not be used.
    fn open_in_place(
        &self,
        cipher: &Self::Cipher,
        nonce: &[u8; NONCE_LEN],
        in_out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error>;

    /// Append `AES-GCM(plaintext) ‖ tag ‖ nonce` to `out` (`plaintext.len() + 28` bytes).
    ///
    /// `nonce` must never repeat for a key; use [`seal_random_into`](Self::seal_random_into) unless a test injects
    /// it. On error `out` is left as it was.
    fn seal_into(
        &self,
        cipher: &Self::Cipher,
        nonce: &[u8; NONCE_LEN],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        seal_laid_out(nonce, plaintext, out, |buf| {
            self.seal_in_place(cipher, nonce, buf)
        })
    }

    /// [`seal_into`](Self::seal_into) with a fresh nonce drawn from `rng`.
    fn seal_random_into<R: SecureRandom + ?Sized>(
        &self,
        cipher: &Self::Cipher,
        rng: &R,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce)?;
        self.seal_into(cipher, &nonce, plaintext, out)
    }

    /// Open a `ciphertext ‖ tag ‖ nonce` blob and append the plaintext to `out`.
    ///
    /// Errors: [`Error::CiphertextTooShort`] for a blob under 12 bytes, otherwise [`Error::DecryptionFailed`] for
    /// anything that does not authenticate (including 12..27-byte blobs, as in Go). On error `out` is left as it
    /// was. If `out` already holds secrets, give it enough capacity first: growing it would leave a copy behind.
    fn open_into(
        &self,
        cipher: &Self::Cipher,
        blob: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        open_laid_out(self.name(), blob, out, |nonce, buf, tag| {
            self.open_in_place(cipher, nonce, buf, tag)
        })
    }

    /// Open an encrypted 32-byte key (a 60-byte blob) into `key_out`, so the plaintext key never touches the heap.
    ///
    /// The caller owns `key_out` and must zeroize it (e.g. use `zeroize::Zeroizing<[u8; 32]>`); on error it is
    /// already zeroed. A blob of any other length fails with [`Error::CiphertextTooShort`] (under 12 bytes),
    /// [`Error::DecryptionFailed`] (12..27 bytes) or [`Error::EncryptedKeyLength`].
    fn open_key(
        &self,
        cipher: &Self::Cipher,
        blob: &[u8],
        key_out: &mut [u8; KEY_LEN],
    ) -> Result<(), Error> {
        let parts = split_blob(self.name(), blob)?;
        if parts.ciphertext.len() != KEY_LEN {
            key_out.zeroize();
            return Err(Error::EncryptedKeyLength { len: blob.len() });
        }
        key_out.copy_from_slice(parts.ciphertext);
        self.open_in_place(cipher, &parts.nonce, key_out, &parts.tag)
            .inspect_err(|_| {
                key_out.zeroize();
                log_open_failure(self.name(), blob.len());
            })
    }

    /// [`seal_into`](Self::seal_into) under a key used for this one message (a data-row key): the cipher is built
    /// for this call only. A backend may take a cheaper route for one-shot keys than building its cached-cipher
    /// type; the bytes are the same either way.
    fn seal_once(
        &self,
        key: &[u8],
        nonce: &[u8; NONCE_LEN],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let cipher = self.cipher(key)?;
        self.seal_into(&cipher, nonce, plaintext, out)
    }

    /// [`open_into`](Self::open_into) under a key used for this one message (a data-row key); see
    /// [`seal_once`](Self::seal_once).
    fn open_once(&self, key: &[u8], blob: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let cipher = self.cipher(key)?;
        self.open_into(&cipher, blob, out)
    }

    /// Encrypt `plaintext` under `key` with a fresh nonce from `rng`, building the cipher for this call only.
    fn encrypt<R: SecureRandom + ?Sized>(
        &self,
        plaintext: &[u8],
        key: &[u8],
        rng: &R,
    ) -> Result<Vec<u8>, Error> {
        check_plaintext_len(plaintext.len())?;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce)?;
        let mut out = Vec::with_capacity(plaintext.len() + AEAD_OVERHEAD);
        self.seal_once(key, &nonce, plaintext, &mut out)?;
        Ok(out)
    }

    /// Decrypt a blob under `key`, building the cipher for this call only. For payloads; decrypt keys with
    /// [`decrypt_key`](Self::decrypt_key).
    fn decrypt(&self, blob: &[u8], key: &[u8]) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(blob.len().saturating_sub(AEAD_OVERHEAD));
        self.open_once(key, blob, &mut out)?;
        Ok(out)
    }

    /// Decrypt an encrypted 32-byte key under `key` into `key_out` (see [`open_key`](Self::open_key)), building
    /// the cipher for this call only.
    fn decrypt_key(
        &self,
        blob: &[u8],
        key: &[u8],
        key_out: &mut [u8; KEY_LEN],
    ) -> Result<(), Error> {
        let cipher = self.cipher(key)?;
        self.open_key(&cipher, blob, key_out)
    }
}

/// `(2^32 - 2) * 16` bytes is GCM's per-nonce limit; Go checks it before encrypting.
pub(crate) fn check_plaintext_len(len: usize) -> Result<(), Error> {
    match u64::try_from(len) {
        Ok(n) if n <= MAX_PLAINTEXT_LEN => Ok(()),
        _ => Err(Error::PlaintextTooLarge),
    }
}

/// [`AeadBackend::seal_into`]'s layout around any in-place seal: append `plaintext`, seal it where it lies, append
/// tag and nonce; on error wipe and drop what was appended. (Also the `aes-ni` one-shot route's.)
pub(crate) fn seal_laid_out(
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    out: &mut Vec<u8>,
    seal_in_place: impl FnOnce(&mut [u8]) -> Result<[u8; TAG_LEN], Error>,
) -> Result<(), Error> {
    check_plaintext_len(plaintext.len())?;
    let start = out.len();
    // Reserve up front so the plaintext copy is never left behind in a buffer freed by a later reallocation.
    out.reserve(plaintext.len() + AEAD_OVERHEAD);
    out.extend_from_slice(plaintext);
    match seal_in_place(&mut out[start..]) {
        Ok(tag) => {
            out.extend_from_slice(&tag);
            out.extend_from_slice(nonce);
            Ok(())
        }
        Err(e) => {
            out[start..].zeroize();
            out.truncate(start);
            Err(e)
        }
    }
}

/// [`AeadBackend::open_into`]'s layout around any in-place open: split the blob, append its ciphertext, open it
/// where it lies; on error wipe and drop what was appended (some implementations decrypt before they compare
/// tags) and log the failure under `backend`.
pub(crate) fn open_laid_out(
    backend: &'static str,
    blob: &[u8],
    out: &mut Vec<u8>,
    open_in_place: impl FnOnce(&[u8; NONCE_LEN], &mut [u8], &[u8; TAG_LEN]) -> Result<(), Error>,
) -> Result<(), Error> {
    let parts = split_blob(backend, blob)?;
    let start = out.len();
    out.extend_from_slice(parts.ciphertext);
    match open_in_place(&parts.nonce, &mut out[start..], &parts.tag) {
        Ok(()) => Ok(()),
        Err(e) => {
            out[start..].zeroize();
            out.truncate(start);
            log_open_failure(backend, blob.len());
            Err(e)
        }
    }
}

/// A blob cut into its three parts.
struct BlobParts<'a> {
    ciphertext: &'a [u8],
    tag: [u8; TAG_LEN],
    nonce: [u8; NONCE_LEN],
}

/// Split `ciphertext ‖ tag ‖ nonce`. Under 12 bytes is Go's "shorter than nonce size"; 12..27 bytes would reach
/// GCM in Go and fail authentication there, so it is reported as the same opaque failure.
fn split_blob<'a>(backend: &'static str, blob: &'a [u8]) -> Result<BlobParts<'a>, Error> {
    let Some((sealed, nonce)) = blob.split_last_chunk::<NONCE_LEN>() else {
        return Err(Error::CiphertextTooShort);
    };
    let Some((ciphertext, tag)) = sealed.split_last_chunk::<TAG_LEN>() else {
        log_open_failure(backend, blob.len());
        return Err(Error::DecryptionFailed);
    };
    Ok(BlobParts {
        ciphertext,
        tag: *tag,
        nonce: *nonce,
    })
}

/// The caller sees only the opaque [`Error::DecryptionFailed`]; the log keeps what helps debugging without helping
/// an attacker (no key, tag or plaintext).
fn log_open_failure(backend: &'static str, blob_len: usize) {
    tracing::debug!(
        backend,
        blob_len,
        "AES-GCM open failed: wrong key, or altered ciphertext, tag or nonce"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRandom;

    const KEY: [u8; 32] = *b"thisIsAStaticMasterKeyForTesting";

    /// Runs `check` once per compiled-in backend.
    macro_rules! for_each_backend {
        ($check:ident) => {
            $check(&AesGcmBackend);
            #[cfg(feature = "ring")]
            $check(&RingBackend);
        };
    }

    #[test]
    fn blob_layout_is_ciphertext_tag_nonce() {
        fn check<B: AeadBackend>(b: &B) {
            let cipher = b.cipher(&KEY).expect("32-byte key");
            let nonce = [7u8; NONCE_LEN];
            let mut out = b"prefix".to_vec();
            b.seal_into(&cipher, &nonce, b"hello", &mut out)
                .expect("seal");
            assert_eq!(out.len(), 6 + 5 + AEAD_OVERHEAD, "{}", b.name());
            assert_eq!(&out[..6], b"prefix");
            assert_eq!(&out[out.len() - NONCE_LEN..], &nonce);
            let mut plain = Vec::new();
            b.open_into(&cipher, &out[6..], &mut plain).expect("open");
            assert_eq!(plain, b"hello");
        }
        for_each_backend!(check);
    }

    /// Every ladder length of the one-shot calibration, and one byte either side.
    fn lengths_around_the_ladder() -> Vec<usize> {
        let mut lens: Vec<usize> = one_shot::LADDER
            .iter()
            .flat_map(|&l| [l.saturating_sub(1), l, l + 1])
            .collect();
        lens.dedup();
        lens
    }

    /// Every one-shot route (ring, `aes-gcm`, `aes-ni`), whichever the calibration chose, seals to the same bytes
    /// and opens every other route's blobs, at every length where the choice can switch.
    #[cfg(feature = "ring")]
    #[test]
    fn ring_one_shot_routes_are_interchangeable() {
        let nonce = [3u8; NONCE_LEN];
        let routes = [OneShotPath::Ring, OneShotPath::AesGcm, OneShotPath::AesNi];
        for len in lengths_around_the_ladder() {
            let plaintext: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let blobs: Vec<Vec<u8>> = routes
                .iter()
                .map(|&path| {
                    let mut blob = Vec::new();
                    seal_once_via(path, &KEY, &nonce, &plaintext, &mut blob).expect("seal");
                    blob
                })
                .collect();
            for (path, blob) in routes.iter().zip(&blobs) {
                assert_eq!(blob, &blobs[0], "{path} len {len}: sealed bytes");
                for &opener in &routes {
                    let mut opened = Vec::new();
                    open_once_via(opener, &KEY, blob, &mut opened).expect("open");
                    assert_eq!(
                        opened, plaintext,
                        "{opener} opening {path}'s blob, len {len}"
                    );
                }
            }
        }
    }

    /// The `aes-ni` route fails as the backends do: wrong key sizes, short blobs, any flipped bit; and a failed
    /// open leaves `out` as it was.
    #[test]
    fn the_aes_ni_route_fails_like_the_backends() {
        let nonce = [5u8; NONCE_LEN];
        let mut out = b"kept".to_vec();
        assert!(matches!(
            aes_ni::seal_once(&KEY[..31], &nonce, b"x", &mut out),
            Err(Error::InvalidAeadKeySize { len: 31 })
        ));
        assert!(matches!(
            aes_ni::open_once(&KEY, &[0u8; 11], &mut out),
            Err(Error::CiphertextTooShort)
        ));
        assert_eq!(out, b"kept");
        let mut blob = Vec::new();
        aes_ni::seal_once(
            &KEY,
            &nonce,
            b"a 64-byte payload, or near enough to one: sixty-four bytes!!",
            &mut blob,
        )
        .expect("seal");
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x20;
            let got = aes_ni::open_once(&KEY, &bad, &mut out);
            assert!(
                matches!(got, Err(Error::DecryptionFailed)),
                "byte {i}: {got:?}"
            );
            assert_eq!(out, b"kept", "byte {i}");
        }
        let mut other_key = KEY;
        other_key[0] ^= 1;
        assert!(matches!(
            aes_ni::open_once(&other_key, &blob, &mut out),
            Err(Error::DecryptionFailed)
        ));
        aes_ni::open_once(&KEY, &blob, &mut out).expect("open");
        assert_eq!(&out[..4], b"kept");
    }

    /// The one-shot route (ring's takes `aes-gcm` or ring by length, as calibrated) produces the bytes the cached
    /// cipher does at every length around the calibration's ladder, and rejects a flipped bit with the opaque error.
    #[test]
    fn one_shot_matches_the_cached_cipher_at_every_length() {
        fn check<B: AeadBackend>(b: &B) {
            let cipher = b.cipher(&KEY).expect("key");
            let nonce = [9u8; NONCE_LEN];
            for len in lengths_around_the_ladder() {
                let plaintext: Vec<u8> = (0..len).map(|i| (i * 31) as u8).collect();
                let mut once = Vec::new();
                b.seal_once(&KEY, &nonce, &plaintext, &mut once)
                    .expect("seal");
                let mut cached = Vec::new();
                b.seal_into(&cipher, &nonce, &plaintext, &mut cached)
                    .expect("seal");
                assert_eq!(once, cached, "{} len {len}", b.name());
                let mut reference = Vec::new();
                AesGcmBackend
                    .seal_once(&KEY, &nonce, &plaintext, &mut reference)
                    .expect("seal");
                assert_eq!(once, reference, "{} len {len} vs aes-gcm", b.name());

                let mut opened = b"keep".to_vec();
                b.open_once(&KEY, &once, &mut opened).expect("open");
                assert_eq!(&opened[4..], &plaintext[..], "{} len {len}", b.name());
                let mut bad = once.clone();
                bad[len / 2] ^= 0x80;
                let mut out = b"keep".to_vec();
                let err = b.open_once(&KEY, &bad, &mut out).unwrap_err();
                assert!(
                    matches!(err, Error::DecryptionFailed),
                    "{} len {len}",
                    b.name()
                );
                assert_eq!(
                    out,
                    b"keep",
                    "{} len {len}: output left as it was",
                    b.name()
                );
                assert!(matches!(
                    b.seal_once(&KEY[..31], &nonce, &plaintext, &mut Vec::new()),
                    Err(Error::InvalidAeadKeySize { len: 31 })
                ));
                assert!(matches!(
                    b.open_once(&KEY[..31], &once, &mut Vec::new()),
                    Err(Error::InvalidAeadKeySize { len: 31 })
                ));
            }
        }
        for_each_backend!(check);
    }

    #[test]
    fn empty_plaintext_is_28_bytes() {
        fn check<B: AeadBackend>(b: &B) {
            let blob = b.encrypt(&[], &KEY, &SeededRandom::new(1)).expect("seal");
            assert_eq!(blob.len(), AEAD_OVERHEAD);
            assert_eq!(b.decrypt(&blob, &KEY).expect("open"), b"");
        }
        for_each_backend!(check);
    }

    #[test]
    fn short_blobs_fail_like_go() {
        fn check<B: AeadBackend>(b: &B) {
            for len in 0..NONCE_LEN {
                let err = b.decrypt(&vec![0; len], &KEY).unwrap_err();
                assert!(
                    matches!(err, Error::CiphertextTooShort),
                    "{} len {len}: {err}",
                    b.name()
                );
                assert_eq!(err.to_string(), "data length is shorter than nonce size");
            }
            for len in NONCE_LEN..AEAD_OVERHEAD {
                let err = b.decrypt(&vec![0; len], &KEY).unwrap_err();
                assert!(
                    matches!(err, Error::DecryptionFailed),
                    "{} len {len}: {err}",
                    b.name()
                );
            }
        }
        for_each_backend!(check);
    }

    #[test]
    fn tampering_anywhere_fails_with_the_opaque_error() {
        fn check<B: AeadBackend>(b: &B) {
            let blob = b
                .encrypt(b"attack at dawn", &KEY, &SeededRandom::new(2))
                .expect("seal");
            for i in 0..blob.len() {
                let mut bad = blob.clone();
                bad[i] ^= 0x01;
                let mut out = b"keep".to_vec();
                let cipher = b.cipher(&KEY).expect("key");
                let err = b.open_into(&cipher, &bad, &mut out).unwrap_err();
                assert!(
                    matches!(err, Error::DecryptionFailed),
                    "{} byte {i}",
                    b.name()
                );
                assert_eq!(
                    err.to_string(),
                    "error decrypting data: cipher: message authentication failed"
                );
                assert_eq!(out, b"keep", "output restored on failure");
            }
            let mut other = KEY;
            other[0] ^= 1;
            assert!(matches!(
                b.decrypt(&blob, &other),
                Err(Error::DecryptionFailed)
            ));
        }
        for_each_backend!(check);
    }

    #[test]
    fn wrong_key_sizes_are_rejected() {
        fn check<B: AeadBackend>(b: &B) {
            for len in [0, 16, 24, 31, 33, 64] {
                let key = vec![1u8; len];
                assert!(
                    matches!(b.cipher(&key), Err(Error::InvalidAeadKeySize { len: l }) if l == len),
                    "{} len {len}",
                    b.name()
                );
            }
        }
        for_each_backend!(check);
    }

    #[test]
    fn keys_open_into_a_fixed_buffer() {
        fn check<B: AeadBackend>(b: &B) {
            let secret = [0x42u8; KEY_LEN];
            let blob = b
                .encrypt(&secret, &KEY, &SeededRandom::new(3))
                .expect("seal");
            assert_eq!(blob.len(), ENCRYPTED_KEY_LEN);
            let mut out = zeroize::Zeroizing::new([0u8; KEY_LEN]);
            b.decrypt_key(&blob, &KEY, &mut out).expect("open");
            assert_eq!(*out, secret);

            let mut bad = blob.clone();
            bad[0] ^= 1;
            let mut out = [0xffu8; KEY_LEN];
            assert!(matches!(
                b.decrypt_key(&bad, &KEY, &mut out),
                Err(Error::DecryptionFailed)
            ));
            assert_eq!(out, [0u8; KEY_LEN], "zeroed on failure");

            let long = b
                .encrypt(&[0u8; 33], &KEY, &SeededRandom::new(4))
                .expect("seal");
            assert!(matches!(
                b.decrypt_key(&long, &KEY, &mut out),
                Err(Error::EncryptedKeyLength { len: 61 })
            ));
        }
        for_each_backend!(check);
    }

    #[test]
    fn plaintext_limit_matches_go() {
        assert!(check_plaintext_len(0).is_ok());
        assert!(check_plaintext_len((((1u64 << 32) - 2) * 16) as usize).is_ok());
        assert!(matches!(
            check_plaintext_len((((1u64 << 32) - 2) * 16 + 1) as usize),
            Err(Error::PlaintextTooLarge)
        ));
        assert_eq!(
            Error::PlaintextTooLarge.to_string(),
            "data too large for GCM"
        );
    }

    #[test]
    fn rng_failure_aborts_sealing() {
        struct Broken;
        impl SecureRandom for Broken {
            fn fill(&self, _: &mut [u8]) -> Result<(), Error> {
                Err(Error::RandomSource("unavailable".into()))
            }
        }
        let err = AesGcmBackend.encrypt(b"x", &KEY, &Broken).unwrap_err();
        assert!(matches!(err, Error::RandomSource(_)));
    }

    #[test]
    fn cipher_debug_is_redacted() {
        let c = AesGcmBackend.cipher(&KEY).expect("key");
        assert_eq!(format!("{c:?}"), "AesGcmCipher(<redacted>)");
        #[cfg(feature = "ring")]
        {
            let c = RingBackend.cipher(&KEY).expect("key");
            assert_eq!(format!("{c:?}"), "RingCipher(<redacted>)");
        }
    }
}
