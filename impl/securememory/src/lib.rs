//! Placeholder while the crate is written.
#![deny(unsafe_code)]

/// Errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Closed.
    #[error("secret has already been destroyed")]
    Closed,
}
