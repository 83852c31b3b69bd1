//! The proof that this CPU has AES-NI and CLMUL, and the calls into the code compiled for them: the crate's only
//! `unsafe`. A function compiled with `#[target_feature]` may be called only on a CPU that has those features;
//! [`AesNiGcm`] can be obtained only from [`AesNiGcm::detect`], which checks them, so each call below is sound.

#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
use crate::x86_64::gcm::{self, KeySource};
use crate::{Error, KEY_LEN, Key, MAX_LEN, NONCE_LEN, TAG_LEN};

/// AES-256-GCM on AES-NI and CLMUL. A value of this type proves that the CPU has the instructions it uses (AES-NI,
/// PCLMULQDQ, SSSE3, SSE4.1, AVX): get one with [`detect`](Self::detect). It is free to copy and holds no key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AesNiGcm {
    /// Private, so that only [`detect`](Self::detect) makes one: whether the CPU also has AVX2, VAES and
    /// VPCLMULQDQ, for the 256-bit bulk code. Off x86-64 the type is uninhabited.
    #[cfg(target_arch = "x86_64")]
    wide: bool,
    #[cfg(not(target_arch = "x86_64"))]
    _never: core::convert::Infallible,
}

impl AesNiGcm {
    /// `Some` if this CPU has AES-NI, PCLMULQDQ, SSSE3, SSE4.1 and AVX (every x86-64 desktop and server CPU with
    /// AES-NI since 2011; some low-power Atom-class chips lack AVX); `None` on other CPUs and architectures. (AVX
    /// only for its three-operand encodings, which spare the register copies SSE needs.) The check is cached by the standard library; calling it again is cheap.
    pub fn detect() -> Option<Self> {
        // Miri cannot run the CPU-feature query, nor these instructions.
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        {
            let has = std::arch::is_x86_feature_detected!("aes")
                && std::arch::is_x86_feature_detected!("pclmulqdq")
                && std::arch::is_x86_feature_detected!("ssse3")
                && std::arch::is_x86_feature_detected!("sse4.1")
                && std::arch::is_x86_feature_detected!("avx");
            let wide = std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("vaes")
                && std::arch::is_x86_feature_detected!("vpclmulqdq");
            has.then_some(AesNiGcm { wide })
        }
        #[cfg(any(not(target_arch = "x86_64"), miri))]
        {
            None
        }
    }

    /// Whether messages of 224 bytes or more run their bulk through the 256-bit code (the CPU has AVX2, VAES and
    /// VPCLMULQDQ): two blocks per AES and carry-less-multiply instruction.
    pub fn is_wide(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            self.wide
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            match self._never {}
        }
    }

    /// The same, with the 128-bit code only, whatever the CPU has: for tests and benches of that code on CPUs that
    /// would take the 256-bit one.
    pub fn narrow(self) -> AesNiGcm {
        #[cfg(target_arch = "x86_64")]
        {
            AesNiGcm { wide: false }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self
        }
    }

    /// Encrypt `in_out` in place under `key` and `nonce` (no associated data) and return the tag. The key's round
    /// keys are built for this call and zeroized before it returns.
    ///
    /// The nonce must never repeat for a key; with a key used once, any nonce is safe.
    pub fn seal(
        self,
        key: &[u8; KEY_LEN],
        nonce: &[u8; NONCE_LEN],
        in_out: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        #[cfg(target_arch = "x86_64")]
        {
            self.seal_with(KeySource::Once(key), nonce, in_out)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (key, nonce, in_out);
            match self._never {}
        }
    }

    /// Verify `tag` over the ciphertext in `in_out` under `key` and `nonce`, then decrypt it in place. On
    /// [`Error::Authentication`] nothing was decrypted: `in_out` is as it was.
    pub fn open(
        self,
        key: &[u8; KEY_LEN],
        nonce: &[u8; NONCE_LEN],
        in_out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        #[cfg(target_arch = "x86_64")]
        {
            self.open_with(KeySource::Once(key), nonce, in_out, tag)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (key, nonce, in_out, tag);
            match self._never {}
        }
    }

    /// Expand `key` once for many messages: its round keys and GHASH powers, zeroized when the [`Key`] is dropped.
    pub fn key(self, key: &[u8; KEY_LEN]) -> Key {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: `self` exists, so `detect` found every feature `expand` is compiled for (aes, pclmulqdq,
            // ssse3, sse4.1, avx) on this CPU.
            let expanded = unsafe { gcm::expand(key) };
            Key {
                gcm: self,
                expanded,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = key;
            match self._never {}
        }
    }

    #[cfg(target_arch = "x86_64")]
    fn seal_with(
        self,
        key: KeySource<'_>,
        nonce: &[u8; NONCE_LEN],
        in_out: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        check_len(in_out.len())?;
        if self.wide {
            // SAFETY: `self.wide` is set only by `detect`, which found every feature `seal_wide` is compiled for
            // (those of `seal`, and avx2, vaes, vpclmulqdq) on this CPU.
            Ok(unsafe { gcm::seal_wide(key, nonce, in_out) })
        } else {
            // SAFETY: `self` exists, so `detect` found every feature `seal` is compiled for (aes, pclmulqdq,
            // ssse3, sse4.1, avx) on this CPU.
            Ok(unsafe { gcm::seal(key, nonce, in_out) })
        }
    }

    #[cfg(target_arch = "x86_64")]
    fn open_with(
        self,
        key: KeySource<'_>,
        nonce: &[u8; NONCE_LEN],
        in_out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        // A message over the limit cannot have been sealed: it fails authentication, as in other libraries.
        if check_len(in_out.len()).is_err() {
            return Err(Error::Authentication);
        }
        let opened = if self.wide {
            // SAFETY: as in `seal_with`: `self.wide` proves the CPU has the features `open_wide` is compiled for.
            unsafe { gcm::open_wide(key, nonce, in_out, tag) }
        } else {
            // SAFETY: as in `seal_with`: `self` proves the CPU has the features `open` is compiled for.
            unsafe { gcm::open(key, nonce, in_out, tag) }
        };
        if opened {
            Ok(())
        } else {
            Err(Error::Authentication)
        }
    }
}

/// Sealing and opening under an expanded key. (In this module rather than `key.rs` because they go through
/// [`AesNiGcm`]'s calls into the code compiled for the CPU.)
impl Key {
    /// As [`AesNiGcm::seal`], under this expanded key.
    pub fn seal(&self, nonce: &[u8; NONCE_LEN], in_out: &mut [u8]) -> Result<[u8; TAG_LEN], Error> {
        #[cfg(target_arch = "x86_64")]
        {
            self.gcm
                .seal_with(KeySource::Expanded(&self.expanded), nonce, in_out)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (nonce, in_out);
            match self.gcm._never {}
        }
    }

    /// As [`AesNiGcm::open`], under this expanded key.
    pub fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        in_out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        #[cfg(target_arch = "x86_64")]
        {
            self.gcm
                .open_with(KeySource::Expanded(&self.expanded), nonce, in_out, tag)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (nonce, in_out, tag);
            match self.gcm._never {}
        }
    }
}

fn check_len(len: usize) -> Result<(), Error> {
    if u64::try_from(len).map_or(true, |l| l > MAX_LEN) {
        Err(Error::TooLong { len })
    } else {
        Ok(())
    }
}
