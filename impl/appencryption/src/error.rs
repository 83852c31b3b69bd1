//! The one error type of this crate.

/// Everything that can go wrong in `appencryption`.
///
/// Variants are grouped by cause: caller misuse, bad input, backend failure, library bug. Messages keep Go's
/// wording where the spec lists it (spec §3.7), so logs and tests read the same in both languages.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- caller misuse -------------------------------------------------------------------------------------
    /// `get_session` was called with an empty partition id.
    #[error("partition id cannot be empty")]
    EmptyPartition,

    // --- bad input -----------------------------------------------------------------------------------------
    /// A serialized record is not valid JSON or misses a required field.
    #[error("malformed record JSON: {0}")]
    MalformedJson(String),

    // --- secure memory -------------------------------------------------------------------------------------
    /// A secret could not be created or accessed.
    #[error(transparent)]
    SecureMemory(#[from] securememory::Error),
}
