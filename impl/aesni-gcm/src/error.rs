//! The crate's errors.

/// Why a seal or open failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The message is longer than GCM allows under one nonce ([`crate::MAX_LEN`] bytes): split it.
    #[error(
        "message of {len} bytes is longer than AES-GCM allows under one nonce (68,719,476,704 bytes)"
    )]
    TooLong {
        /// The message's length in bytes.
        len: usize,
    },
    /// The tag does not match: the ciphertext, tag, nonce or key is not the one that was sealed. Nothing was
    /// decrypted.
    #[error(
        "AES-GCM authentication failed: wrong key, or the ciphertext, tag or nonce was altered"
    )]
    Authentication,
}
