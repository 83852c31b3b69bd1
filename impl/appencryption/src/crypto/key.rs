//! [`CryptoKey`]: a plaintext system or intermediate key in secure memory, with its metadata.

use std::fmt;
use std::time::Duration;

use securememory::{Secret, SecretFactory, SecretValue};

use crate::crypto::aead::sealed::Sealed;
use crate::crypto::{AFTER_KEY_USE, AeadBackend, KEY_LEN, scrub_stack};
use crate::error::Error;
use crate::policy::KeyMode;
use crate::sync::{AtomicBool, AtomicU64, Ordering};

/// A system or intermediate key. The bytes live in a [`Secret`]; with [`KeyMode::CachedCipher`] or
/// [`KeyMode::SecretCachedCipher`] an expanded key schedule is kept beside them. Shared as `Arc<CryptoKey>`: a key
/// evicted from a cache while in use stays alive until its last user drops it, and its secret is wiped exactly
/// once, on the last drop (docs/compatibility.md#key-cache).
pub(crate) struct CryptoKey<B: AeadBackend> {
    secret: Secret,
    cipher: Option<CachedCipher<B>>,
    created: i64,
    revoked: AtomicBool,
    /// When a cache last loaded (or refreshed) this key, nanoseconds since the unix epoch.
    loaded_at_ns: AtomicU64,
}

impl<B: AeadBackend> CryptoKey<B> {
    /// Copy `bytes` into a new secret and wipe them, and, in the cached-cipher modes, expand the key schedule.
    /// Borrowed, not moved: a move would leave the caller's copy (on a stack or in a future's state) unwiped.
    pub(crate) fn new(
        factory: &SecretFactory,
        backend: &B,
        mode: KeyMode,
        bytes: &mut [u8; KEY_LEN],
        created: i64,
        revoked: bool,
    ) -> Result<Self, Error> {
        let cipher = match mode {
            KeyMode::CachedCipher => Some(CachedCipher::Heap(backend.cipher(bytes)?)),
            KeyMode::SecretCachedCipher => Some(CachedCipher::SecretMemory(
                factory.new_value(backend.cipher(bytes)?)?,
            )),
            KeyMode::ProtectedDataRowKey | KeyMode::StackDataRowKey => None,
        };
        let secret = factory.new_secret(bytes)?;
        Ok(CryptoKey {
            secret,
            cipher,
            created,
            revoked: AtomicBool::new(revoked),
            loaded_at_ns: AtomicU64::new(0),
        })
    }

    pub(crate) fn created(&self) -> i64 {
        self.created
    }

    pub(crate) fn is_revoked(&self) -> bool {
        self.revoked.load(Ordering::Acquire)
    }

    pub(crate) fn set_revoked(&self, revoked: bool) {
        self.revoked.store(revoked, Ordering::Release);
    }

    pub(crate) fn loaded_at(&self) -> Duration {
        Duration::from_nanos(self.loaded_at_ns.load(Ordering::Acquire))
    }

    pub(crate) fn set_loaded_at(&self, at: Duration) {
        self.loaded_at_ns.store(
            u64::try_from(at.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Release,
        );
    }

    /// Run `f` with a cipher for this key: the cached one, or one built inside a secure-memory access window and
    /// wiped when `f` returns; then the stack that building and using it dirtied is scrubbed (see `stack_scrub`).
    pub(crate) fn with_cipher<R>(
        &self,
        backend: &B,
        f: impl FnOnce(&B::Cipher) -> Result<R, Error>,
    ) -> Result<R, Error> {
        match &self.cipher {
            Some(CachedCipher::Heap(cipher)) => f(cipher),
            Some(CachedCipher::SecretMemory(cipher)) => {
                let result = use_in_own_frame(cipher.get()?, f);
                // The AES code may copy round keys into its frames; the schedule's pages are dump-excluded, the
                // stack is not. How deep depends on the backend.
                <B as Sealed>::scrub_after_cached_use();
                result
            }
            None => {
                let result = self.with_cipher_in_window(backend, f);
                // The frames that expanded and used the key lay below this one; clear them.
                scrub_stack::<AFTER_KEY_USE>();
                result
            }
        }
    }
}

impl<B: AeadBackend> CryptoKey<B> {
    /// Build a cipher inside the key's access window, run `f` with it, wipe it. Never inlined: whatever the key
    /// expansion leaves behind must lie in frames below the caller's, where the caller's scrub reaches, and not in
    /// the caller's own frame.
    #[inline(never)]
    fn with_cipher_in_window<R>(
        &self,
        backend: &B,
        f: impl FnOnce(&B::Cipher) -> Result<R, Error>,
    ) -> Result<R, Error> {
        self.secret
            .with_bytes_func(|bytes| backend.cipher(bytes).and_then(|cipher| f(&cipher)))
    }
}

/// Run `f` on `cipher` from a frame of its own (see `with_cipher_in_window`).
#[inline(never)]
fn use_in_own_frame<C, R>(cipher: &C, f: impl FnOnce(&C) -> Result<R, Error>) -> Result<R, Error> {
    f(cipher)
}

impl<B: AeadBackend> fmt::Debug for CryptoKey<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CryptoKey")
            .field("created", &self.created)
            .field("revoked", &self.is_revoked())
            .field(
                "cached_cipher",
                &match self.cipher {
                    Some(CachedCipher::Heap(_)) => "heap",
                    Some(CachedCipher::SecretMemory(_)) => "secret memory",
                    None => "none",
                },
            )
            .finish_non_exhaustive()
    }
}

/// Where a cached key schedule lives: [`KeyMode::CachedCipher`] keeps it on the heap, [`KeyMode::SecretCachedCipher`]
/// in the secret factory's pages. Both wipe it when dropped.
enum CachedCipher<B: AeadBackend> {
    Heap(B::Cipher),
    SecretMemory(SecretValue<B::Cipher>),
}
