//! The one error type of this crate.

use std::io;

/// Everything that can go wrong with a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- caller misuse ------------------------------------------------------------------------------------
    /// The secret was closed (or is closing); its memory is gone. Go's wording, asserted verbatim by its tests.
    #[error("secret has already been destroyed")]
    Closed,

    /// A secret must hold at least one byte.
    #[error("invalid secret length: a secret must hold at least 1 byte, got {0}")]
    InvalidLength(usize),

    /// A scratch secret must fit in one page.
    #[error("invalid scratch length: must be between 1 and {max} bytes (one page), got {len}")]
    ScratchLength {
        /// The length asked for.
        len: usize,
        /// The page size.
        max: usize,
    },

    // --- resource limits ----------------------------------------------------------------------------------
    /// `mlock` refused: usually RLIMIT_MEMLOCK is too small for the number of live secrets.
    #[error(
        "could not lock {size} bytes of memory with mlock: {source}; raise RLIMIT_MEMLOCK \
         (`ulimit -l`, `prlimit --memlock`) or grant CAP_IPC_LOCK, or close unused secrets"
    )]
    Lock {
        /// Bytes asked to be locked (whole pages).
        size: usize,
        /// The OS error.
        source: io::Error,
    },

    /// `mmap` refused to map the memory for a secret.
    #[error("could not map {size} bytes of memory for a secret: {source}")]
    Map {
        /// Bytes asked for (whole pages, guard pages included).
        size: usize,
        /// The OS error.
        source: io::Error,
    },

    /// The kernel refused a memory advice this crate relies on (e.g. `MADV_WIPEONFORK`, Linux ≥ 4.14).
    #[error("madvise({advice}) failed: {source}; this kernel may be too old for it")]
    Advise {
        /// The advice asked for.
        advice: &'static str,
        /// The OS error.
        source: io::Error,
    },

    /// The factory was asked for a backing this kernel cannot give (e.g. `memfd_secret` before Linux 5.14, or
    /// with secretmem disabled).
    #[error(
        "the {backing} secret-memory backing is unavailable here: {source}; use Backing::Mmap (or unset \
         ASHERAH_SECRET_BACKING) on this kernel"
    )]
    BackingUnavailable {
        /// The backing asked for.
        backing: crate::Backing,
        /// The OS error.
        source: io::Error,
    },

    /// The secret was created before this process was forked from its parent: in the child its pages are
    /// zeroed or unmapped, by design. Create secrets in the child instead.
    #[error(
        "secret was created before fork(): its memory is not available in a child process; create it again in \
         the child"
    )]
    ForkedChild,

    /// The OS random number generator failed.
    #[error("could not read random bytes from the OS: {0}")]
    Random(String),

    // --- protection toggles (OS failures) -----------------------------------------------------------------
    /// Making the secret readable failed; the action was not run.
    #[error("unable to mark memory as read-only: {0}")]
    MarkReadOnly(io::Error),

    /// Making a scratch page writable failed; the closure was not run.
    #[error("unable to mark memory as read-write: {0}")]
    MarkReadWrite(io::Error),

    /// Re-protecting the secret after an access failed: its page may still be readable.
    #[error("unable to mark memory as no-access: {0}")]
    MarkNoAccess(io::Error),

    /// Making the secret writable for wiping, or unlocking/unmapping it, failed while closing.
    #[error("unable to destroy secret memory ({step}): {source}")]
    Destroy {
        /// Which OS call failed.
        step: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

impl Error {
    /// True for [`Error::Closed`], the one error concurrent users of a closing secret should expect.
    pub fn is_closed(&self) -> bool {
        matches!(self, Error::Closed)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        io::Error::other(e)
    }
}
