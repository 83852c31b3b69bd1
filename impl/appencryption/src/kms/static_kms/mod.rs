//! The static KMS (docs/compatibility.md#static-kms): a fixed master key, for tests, samples and cross-language
//! runs. Never production.

use std::sync::Arc;

use async_trait::async_trait;
use securememory::{MemoryKind, Secret, SecretFactory};
use zeroize::{Zeroize, Zeroizing};

use super::KeyManagementService;
use crate::crypto::{AeadBackend, AesGcmBackend, KEY_LEN};
use crate::error::Error;
use crate::rng::{OsRandom, SecureRandom};

/// A [`KeyManagementService`] whose master key is a fixed 32-byte string (docs/compatibility.md#static-kms).
///
/// `encrypt_key(sk)` is AES-256-GCM of `sk` under the master key in Asherah's layout
/// (`ciphertext ‖ tag ‖ nonce`, 60 bytes for a 32-byte key), with no envelope or metadata; `decrypt_key` reverses
/// it. Byte-compatible with Go's `kms.NewStatic`: the canonical test key `thisIsAStaticMasterKeyForTesting` reads
/// records written by Go and vice versa.
///
/// **Testing only**: anyone with the string can decrypt every system key. The master key is held in guarded
/// secure memory (Go: a memguard secret, whatever the session factory uses) and is readable only for the duration
/// of each call; it is wiped when the `StaticKms` is dropped.
pub struct StaticKms {
    master_key: Secret,
    aead: AesGcmBackend,
    rng: Arc<dyn SecureRandom>,
}

impl std::fmt::Debug for StaticKms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticKms")
            .field("master_key", &self.master_key)
            .field("aead", &self.aead.name())
            .finish_non_exhaustive()
    }
}

impl StaticKms {
    /// A static KMS whose master key is the UTF-8 bytes of `master_key`, which must be exactly 32 bytes long
    /// (else [`Error::InvalidKeySize`]: `invalid key size <n>, must be 32 bytes`). Nonces come from the OS CSPRNG.
    ///
    /// Fails with [`Error::SecureMemory`] if the guarded secret cannot be allocated (e.g. `RLIMIT_MEMLOCK`).
    pub fn new(master_key: &str) -> Result<StaticKms, Error> {
        Self::with_rng(master_key, Arc::new(OsRandom))
    }

    /// As [`new`](Self::new), drawing nonces from `rng` (deterministic tests and benches).
    pub fn with_rng(master_key: &str, rng: Arc<dyn SecureRandom>) -> Result<StaticKms, Error> {
        let len = master_key.len();
        if len != KEY_LEN {
            return Err(Error::InvalidKeySize(len));
        }
        // The caller's `&str` cannot be wiped; the one copy made here is, by `new_secret`.
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(master_key.as_bytes());
        let master_key = SecretFactory::new(MemoryKind::Guarded).new_secret(&mut bytes[..])?;
        Ok(StaticKms {
            master_key,
            aead: AesGcmBackend,
            rng,
        })
    }
}

#[async_trait]
impl KeyManagementService for StaticKms {
    async fn encrypt_key(&self, key: &[u8]) -> Result<Vec<u8>, Error> {
        self.master_key
            .with_bytes_func(|master| self.aead.encrypt(key, master, &*self.rng))
    }

    async fn decrypt_key(&self, encrypted: &[u8], key_out: &mut [u8; 32]) -> Result<(), Error> {
        self.master_key
            .with_bytes_func(|master| self.aead.decrypt_key(encrypted, master, key_out))
            .inspect_err(|_| key_out.zeroize())
    }
}

#[cfg(test)]
mod tests;
