//! Key management services: the root of trust that encrypts system keys
//! (docs/compatibility.md#key-management-services).

#[cfg(feature = "aws-kms")]
mod aws;
mod static_kms;

#[cfg(all(feature = "aws-kms", feature = "fuzzing"))]
pub(crate) use aws::parse_envelope_for_fuzzing;
#[cfg(feature = "aws-kms")]
pub use aws::{AwsKms, AwsKmsBuilder, DEFAULT_REGION_DEADLINE};
pub use static_kms::StaticKms;

use async_trait::async_trait;

use crate::error::Error;

/// Encrypts and decrypts system keys under a master key that the application never sees in plaintext (except for
/// the test-only [`StaticKms`]). Only system keys pass through a KMS
/// (docs/compatibility.md#key-management-services); the encrypted form is opaque and is stored as the system key
/// record's `Key`.
///
/// # Why `decrypt_key` writes into `&mut [u8; 32]`
///
/// A decrypted system key must go straight into a secure-memory secret and never rest in an ordinary heap buffer
/// that is freed without being wiped. The caller therefore owns the destination: typically a
/// `zeroize::Zeroizing<[u8; 32]>` that it hands to `SecretFactory::new_secret` (which wipes it) right after the
/// call. This is the same shape as the AEAD's `open_key`, so an implementation can decrypt in place into the
/// caller's buffer with no intermediate copy, and it costs no allocation. The fixed size is deliberate: every key
/// Asherah creates is 32 bytes (docs/compatibility.md#key-hierarchy,
/// docs/compatibility.md#q21-key-sizes-other-than-32-bytes), and a KMS blob that decrypts to anything else is an
/// error. (The alternative, returning `Zeroizing<Vec<u8>>`, would allow other lengths but allocates per call and
/// leaves the wipe to the `Vec` never having reallocated.)
///
/// The trait is object safe (sessions hold an `Arc<dyn KeyManagementService>`) and its methods may be called
/// concurrently.
#[async_trait]
pub trait KeyManagementService: Send + Sync {
    /// Encrypt a plaintext system key; the result is opaque and is what [`decrypt_key`](Self::decrypt_key) accepts.
    async fn encrypt_key(&self, key: &[u8]) -> Result<Vec<u8>, Error>;

    /// Decrypt a blob produced by [`encrypt_key`](Self::encrypt_key) into `key_out`.
    ///
    /// On success `key_out` holds the plaintext system key; the caller must move it into a secret and wipe it. On
    /// error `key_out` holds zeros. Decryption failures are opaque (they do not say which check failed).
    async fn decrypt_key(&self, encrypted: &[u8], key_out: &mut [u8; 32]) -> Result<(), Error>;
}
