//! AES-256-GCM in Asherah's byte layout (spec §2.1): `ciphertext ‖ tag (16 B) ‖ nonce (12 B)`, no associated data.
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
//! A decrypted key should never land in an ordinary heap `Vec`: use [`open_key`](AeadBackend::open_key) or
//! [`decrypt_key`](AeadBackend::decrypt_key), which write into a caller-owned `[u8; 32]` that the caller zeroizes
//! (or a `zeroize::Zeroizing<[u8; 32]>`).
//!
//! Both backends produce identical bytes; the wire tests run every vector through each of them.

use zeroize::Zeroize;

use crate::Error;
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

mod sealed {
    /// Only this crate's backends implement [`super::AeadBackend`]: a new backend must pass the wire tests here.
    pub trait Sealed {}
}

/// An AES-256-GCM implementation in Asherah's layout. Implemented by [`AesGcmBackend`] and (with the `ring`
/// feature) `RingBackend`; sealed.
///
/// The two required primitives work in place with a detached tag; every other method is provided on top of them
/// and is identical for all backends, so the byte layout and the error mapping live in one place.
pub trait AeadBackend: sealed::Sealed + Send + Sync + 'static {
    /// The expanded key schedule for one key. As secret as the key: the default backend's cipher zeroizes itself
    /// on drop (see each backend for its guarantee). Its `Debug` never shows key material.
    type Cipher: Send + Sync;

    /// A short stable name (`aes-gcm`, `ring`) for logs and bench ids.
    fn name(&self) -> &'static str;

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
        check_plaintext_len(plaintext.len())?;
        let start = out.len();
        // Reserve up front so the plaintext copy is never left behind in a buffer freed by a later reallocation.
        out.reserve(plaintext.len() + AEAD_OVERHEAD);
        out.extend_from_slice(plaintext);
        match self.seal_in_place(cipher, nonce, &mut out[start..]) {
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
        let parts = split_blob(self.name(), blob)?;
        let start = out.len();
        out.extend_from_slice(parts.ciphertext);
        match self.open_in_place(cipher, &parts.nonce, &mut out[start..], &parts.tag) {
            Ok(()) => Ok(()),
            Err(e) => {
                // Some backends decrypt before they compare tags: wipe the unauthenticated plaintext.
                out[start..].zeroize();
                out.truncate(start);
                log_open_failure(self.name(), blob.len());
                Err(e)
            }
        }
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

// --- default backend: RustCrypto `aes-gcm` --------------------------------------------------------------------

/// AES-256-GCM from RustCrypto's `aes-gcm` crate (AES-NI and CLMUL when the CPU has them, constant-time software
/// otherwise). The default backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct AesGcmBackend;

/// `aes-gcm`'s expanded key schedule (AES round keys and the GHASH key). Zeroized on drop: the crate's `zeroize`
/// feature is enabled workspace-wide and a compile-time check below keeps it so.
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

impl sealed::Sealed for AesGcmBackend {}

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

// --- optional backend: ring -------------------------------------------------------------------------------------

/// AES-256-GCM from `ring` (BoringSSL's assembly). Enabled by the `ring` cargo feature; benchmarked against
/// [`AesGcmBackend`] and byte-identical to it.
///
/// Cached ciphers (the intermediate and system keys in [`KeyMode::CachedCipher`](crate::KeyMode::CachedCipher))
/// are always ring's. A one-shot key (the data-row key) sealing or opening a payload of at most
/// [`RING_ONE_SHOT_VIA_AES_GCM_MAX`] bytes goes through [`AesGcmBackend`], whose key set-up is cheaper.
#[cfg(feature = "ring")]
#[derive(Debug, Clone, Copy, Default)]
pub struct RingBackend;

/// `ring`'s expanded key (`LessSafeKey`, which allows a caller-chosen nonce).
///
/// **Not zeroized on drop**: `ring` offers no way to wipe its key schedule, so the round keys stay in freed memory
/// until it is reused. Prefer [`AesGcmBackend`] where keys must not outlive their use, or build this cipher per
/// call and accept the residue.
#[cfg(feature = "ring")]
pub struct RingCipher(ring::aead::LessSafeKey);

#[cfg(feature = "ring")]
impl std::fmt::Debug for RingCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RingCipher(<redacted>)")
    }
}

/// The longest payload [`RingBackend`] seals (or opens) under a one-shot key with [`AesGcmBackend`] instead.
///
/// ring builds a key in about 220 ns here, half of it moving its 544-byte key struct; `aes-gcm` in about 135. ring
/// then seals and opens faster (about 0.15 ns per byte against 0.47). Measured here:
/// * alone (`cargo bench -p lab --features ring --bench appencryption_wire -- aead/one_shot_seal/ring`, 3
///   alternated runs): set-up plus seal is 303 against 317 ns at 64 bytes and 335 against 327 at 128, so the two
///   meet near 100 bytes;
/// * in a whole hot encrypt/decrypt in mode (c) at 64 bytes (4 alternated runs of `hot_(en|de)crypt_ring`), the
///   saving is larger: 620 → 578 ns encrypt, 552 → 521 ns decrypt.
///
/// The `aes-gcm` cipher is also wiped on drop, which ring's is not.
#[cfg(feature = "ring")]
pub const RING_ONE_SHOT_VIA_AES_GCM_MAX: usize = 96;

/// ring's cipher for `key` (ring rejects any length but 32). Inlined into each caller so that the 544-byte key is
/// built in the frame that uses it rather than moved out of a returned `Result`.
#[cfg(feature = "ring")]
#[inline(always)]
fn ring_cipher(key: &[u8]) -> Result<RingCipher, Error> {
    match ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, key) {
        Ok(k) => Ok(RingCipher(ring::aead::LessSafeKey::new(k))),
        Err(_) => Err(Error::InvalidAeadKeySize { len: key.len() }),
    }
}

#[cfg(feature = "ring")]
impl sealed::Sealed for RingBackend {}

#[cfg(feature = "ring")]
impl AeadBackend for RingBackend {
    type Cipher = RingCipher;

    fn name(&self) -> &'static str {
        "ring"
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
        let nonce = ring::aead::Nonce::assume_unique_for_key(*nonce);
        let tag = cipher
            .0
            .seal_in_place_separate_tag(nonce, ring::aead::Aad::empty(), in_out)
            // ring fails only beyond GCM's length limit.
            .map_err(|_| Error::PlaintextTooLarge)?;
        <[u8; TAG_LEN]>::try_from(tag.as_ref()).map_err(|_| Error::PlaintextTooLarge)
    }

    /// Payloads up to [`RING_ONE_SHOT_VIA_AES_GCM_MAX`] bytes go through [`AesGcmBackend`], whose key setup is
    /// cheaper than ring's; longer ones through ring, whose bulk AES-GCM is faster.
    fn seal_once(
        &self,
        key: &[u8],
        nonce: &[u8; NONCE_LEN],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if plaintext.len() <= RING_ONE_SHOT_VIA_AES_GCM_MAX {
            return AesGcmBackend.seal_once(key, nonce, plaintext, out);
        }
        let cipher = ring_cipher(key)?;
        self.seal_into(&cipher, nonce, plaintext, out)
    }

    /// As [`seal_once`](Self::seal_once), by the ciphertext's length.
    fn open_once(&self, key: &[u8], blob: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if blob.len() <= RING_ONE_SHOT_VIA_AES_GCM_MAX + AEAD_OVERHEAD {
            return AesGcmBackend.open_once(key, blob, out);
        }
        let cipher = ring_cipher(key)?;
        self.open_into(&cipher, blob, out)
    }

    fn open_in_place(
        &self,
        cipher: &RingCipher,
        nonce: &[u8; NONCE_LEN],
        in_out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        let nonce = ring::aead::Nonce::assume_unique_for_key(*nonce);
        cipher
            .0
            .open_in_place_separate_tag(
                nonce,
                ring::aead::Aad::empty(),
                ring::aead::Tag::from(*tag),
                in_out,
                0..,
            )
            .map(|_| ())
            .map_err(|_| Error::DecryptionFailed)
    }
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

    /// The one-shot path (which ring routes through `aes-gcm` up to a threshold) produces the bytes the cached
    /// cipher does, on both sides of the threshold, and rejects a flipped bit with the opaque error.
    #[test]
    fn one_shot_matches_the_cached_cipher_around_the_threshold() {
        fn check<B: AeadBackend>(b: &B) {
            let cipher = b.cipher(&KEY).expect("key");
            let nonce = [9u8; NONCE_LEN];
            for len in [0, 1, 63, 64, 95, 96, 97, 128, 1024] {
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
