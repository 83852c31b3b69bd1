//! The default backend: AES-256-GCM in pure Rust. Key schedules are RustCrypto's `aes-gcm` (AES-NI and CLMUL when
//! the CPU has them, constant-time software otherwise) or, on x86-64 CPUs where a calibration found it faster, the
//! workspace's `aesni-gcm`; one-shot keys (data-row keys) take whichever of the two the calibration found faster at
//! the payload's length (`one_shot.rs`). Every key schedule is wiped when dropped.

use aesni_gcm::AesNiGcm;

use super::one_shot::{self, OneShotPath};
use super::{AeadBackend, Error, KEY_LEN, NONCE_LEN, TAG_LEN, sealed};
use crate::crypto::stack_scrub::{AFTER_CACHED_AES_GCM_KEY_USE, scrub_stack};

/// AES-256-GCM in pure Rust: RustCrypto's `aes-gcm`, and on x86-64 with AES-NI and CLMUL the workspace's
/// `aesni-gcm` where this CPU runs it faster (chosen once per process by a short calibration; see
/// [`crypto_path`](crate::crypto_path), which reports it). The default backend. Both produce the same bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct AesGcmBackend;

/// An expanded key schedule (AES round keys and the GHASH key): `aes-gcm`'s or `aesni-gcm`'s, as the calibration
/// chose. Wiped on drop: `aes-gcm`'s by its `zeroize` feature (enabled workspace-wide; a compile-time check below
/// keeps it so), `aesni-gcm`'s by its own `Drop`. What is wiped is the cipher where it is dropped: a copy that
/// building it left behind (the value is returned, and Rust may move it) is not reached, as for any Rust value;
/// such stack residue is overwritten by the next calls on that thread.
pub struct AesGcmCipher(Schedule);

enum Schedule {
    RustCrypto(Aes256GcmEncOnly),
    AesNi(aesni_gcm::Key),
}

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

impl AesGcmCipher {
    /// `key`'s schedule by `path` (`AesNi` falls back to `aes-gcm` on a CPU without it: the same bytes).
    pub(crate) fn by(path: OneShotPath, key: &[u8]) -> Result<AesGcmCipher, Error> {
        let key: &[u8; KEY_LEN] = key
            .try_into()
            .map_err(|_| Error::InvalidAeadKeySize { len: key.len() })?;
        if path == OneShotPath::AesNi
            && let Some(gcm) = AesNiGcm::detect()
        {
            return Ok(AesGcmCipher(Schedule::AesNi(gcm.key(key))));
        }
        use aes_gcm::KeyInit;
        // `new` borrows the key as an array reference; it makes no copy of it.
        Ok(AesGcmCipher(Schedule::RustCrypto(Aes256GcmEncOnly::new(
            key.into(),
        ))))
    }

    /// Which implementation holds this schedule.
    #[cfg(test)]
    pub(crate) fn path(&self) -> OneShotPath {
        match self.0 {
            Schedule::RustCrypto(_) => OneShotPath::AesGcm,
            Schedule::AesNi(_) => OneShotPath::AesNi,
        }
    }
}

/// Seal under a one-shot key with RustCrypto's `aes-gcm`, whatever the calibration chose.
pub(super) fn seal_once_rust_crypto(
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let cipher = AesGcmCipher::by(OneShotPath::AesGcm, key)?;
    AesGcmBackend.seal_into(&cipher, nonce, plaintext, out)
}

/// As [`seal_once_rust_crypto`], opening.
pub(super) fn open_once_rust_crypto(
    key: &[u8],
    blob: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let cipher = AesGcmCipher::by(OneShotPath::AesGcm, key)?;
    AesGcmBackend.open_into(&cipher, blob, out)
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

    /// Runs the calibration now (once per process), so that the first encrypt does not pay for it.
    fn prepare(&self) {
        one_shot::aes_gcm_calibrated();
    }

    fn cipher(&self, key: &[u8]) -> Result<AesGcmCipher, Error> {
        AesGcmCipher::by(one_shot::aes_gcm_calibrated().schedules, key)
    }

    fn seal_in_place(
        &self,
        cipher: &AesGcmCipher,
        nonce: &[u8; NONCE_LEN],
        in_out: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        match &cipher.0 {
            Schedule::RustCrypto(c) => {
                use aes_gcm::aead::AeadInOut;
                let nonce = aes_gcm::Nonce::from(*nonce);
                c.encrypt_inout_detached(&nonce, &[], in_out.into())
                    .map(Into::into)
                    // The only failure is the length limit (`aes_gcm::P_MAX`, equal to ours).
                    .map_err(|_| Error::PlaintextTooLarge)
            }
            // The only failure is the length limit (`aesni_gcm::MAX_LEN`, equal to ours).
            Schedule::AesNi(k) => k.seal(nonce, in_out).map_err(|_| Error::PlaintextTooLarge),
        }
    }

    fn open_in_place(
        &self,
        cipher: &AesGcmCipher,
        nonce: &[u8; NONCE_LEN],
        in_out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        match &cipher.0 {
            Schedule::RustCrypto(c) => {
                use aes_gcm::aead::AeadInOut;
                let nonce = aes_gcm::Nonce::from(*nonce);
                let tag = aes_gcm::Tag::from(*tag);
                c.decrypt_inout_detached(&nonce, &[], in_out.into(), &tag)
                    .map_err(|_| Error::DecryptionFailed)
            }
            Schedule::AesNi(k) => k
                .open(nonce, in_out, tag)
                .map_err(|_| Error::DecryptionFailed),
        }
    }

    /// By `aes-gcm` or `aesni-gcm`, as the calibration chose for this payload length.
    fn seal_once(
        &self,
        key: &[u8],
        nonce: &[u8; NONCE_LEN],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        one_shot::seal_once_by(
            one_shot::aes_gcm_calibrated().seal,
            key,
            nonce,
            plaintext,
            out,
        )
    }

    /// As [`seal_once`](Self::seal_once), by the payload length the blob holds.
    fn open_once(&self, key: &[u8], blob: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        one_shot::open_once_by(one_shot::aes_gcm_calibrated().open, key, blob, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; KEY_LEN] = *b"thisIsAStaticMasterKeyForTesting";

    /// Both implementations of the schedule, whichever the calibration chose, seal to the same bytes and open each
    /// other's blobs, and reject any flipped bit, at lengths around every block and batch boundary.
    #[test]
    fn both_schedules_seal_alike_and_open_each_other() {
        let ni = AesGcmCipher::by(OneShotPath::AesNi, &KEY).expect("key");
        let rc = AesGcmCipher::by(OneShotPath::AesGcm, &KEY).expect("key");
        assert_eq!(rc.path(), OneShotPath::AesGcm);
        if aesni_gcm::AesNiGcm::detect().is_some() {
            assert_eq!(ni.path(), OneShotPath::AesNi);
        }
        let nonce = [4u8; NONCE_LEN];
        for len in [
            0, 1, 15, 16, 17, 32, 63, 64, 95, 96, 97, 128, 223, 224, 225, 300, 1024, 1500,
        ] {
            let plaintext: Vec<u8> = (0..len).map(|i| (i * 13) as u8).collect();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            AesGcmBackend
                .seal_into(&ni, &nonce, &plaintext, &mut a)
                .expect("seal");
            AesGcmBackend
                .seal_into(&rc, &nonce, &plaintext, &mut b)
                .expect("seal");
            assert_eq!(a, b, "len {len}");
            for (opener, blob) in [(&ni, &b), (&rc, &a)] {
                let mut out = Vec::new();
                AesGcmBackend
                    .open_into(opener, blob, &mut out)
                    .expect("open");
                assert_eq!(out, plaintext, "len {len}");
            }
            for i in [0, a.len() / 2, a.len() - 1] {
                let mut bad = a.clone();
                bad[i] ^= 1;
                for opener in [&ni, &rc] {
                    let mut out = Vec::new();
                    assert!(matches!(
                        AesGcmBackend.open_into(opener, &bad, &mut out),
                        Err(Error::DecryptionFailed)
                    ));
                    assert!(out.is_empty());
                }
            }
        }
    }

    /// `cipher` builds the schedule the calibration chose.
    #[test]
    fn the_backend_builds_the_calibrated_schedule() {
        let chosen = one_shot::aes_gcm_calibrated().schedules;
        let built = AesGcmBackend.cipher(&KEY).expect("key").path();
        if aesni_gcm::AesNiGcm::detect().is_some() {
            assert_eq!(built, chosen);
        } else {
            assert_eq!(built, OneShotPath::AesGcm);
        }
    }
}
