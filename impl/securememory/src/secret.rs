//! [`Secret`]: bytes in locked memory that is readable only while an access is in flight.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use crate::backing::Backing;
use crate::error::Error;
use crate::metrics;
use crate::reader::SecretReader;
use crate::region::{MemoryKind, Region, RegionOptions};
use crate::state::AccessState;

/// Sensitive bytes in locked memory, inaccessible (`PROT_NONE`) except while a [`with_bytes`](Secret::with_bytes)
/// call is running, excluded from core dumps, wiped and freed on [`close`](Secret::close) or drop.
///
/// Concurrent accessors share one readable window: the first one in makes the memory readable, the last one out
/// makes it inaccessible again, so readers on many threads pay one pair of syscalls between them. The last one
/// out of a window that several accessors shared waits up to 2 µs, still inside its call, for another accessor
/// to join before it re-protects (see `state.rs`); a lone accessor re-protects at once. Whenever no
/// `with_bytes`/reader call on the secret is in progress, its memory is inaccessible.
///
/// A secret is `Send + Sync`; share it with `Arc`. It is deliberately not `Clone`, and its `Debug` output never
/// shows the bytes.
pub struct Secret {
    state: AccessState,
    region: Region,
    kind: MemoryKind,
}

impl Secret {
    pub(crate) fn new(
        options: RegionOptions,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<(), Error>,
    ) -> Result<Self, Error> {
        let region = Region::new(options, len, fill)?;
        metrics::on_allocate();
        Ok(Secret {
            state: AccessState::new(),
            region,
            kind: options.kind,
        })
    }

    /// Where this secret's pages come from.
    pub fn backing(&self) -> Backing {
        self.region.backing()
    }

    /// Number of secret bytes (always ≥ 1).
    #[allow(clippy::len_without_is_empty)] // a secret is never empty
    pub fn len(&self) -> usize {
        self.region.len()
    }

    /// Which implementation holds the bytes.
    pub fn kind(&self) -> MemoryKind {
        self.kind
    }

    /// Run `action` with read-only access to the bytes and return its result.
    ///
    /// The slice must not escape (the borrow checker enforces it); writing through it is impossible. Fails with
    /// [`Error::Closed`] once the secret is closing or closed; the action then does not run. If `action`
    /// panics, the access is released (and the memory re-protected) before the panic propagates.
    pub fn with_bytes<R>(&self, action: impl FnOnce(&[u8]) -> R) -> Result<R, Error> {
        let result = self.access(action)?;
        Ok(result)
    }

    /// Like [`with_bytes`](Secret::with_bytes) for an action that can fail: its error is passed through, and a
    /// failure to access or re-protect the memory is converted into the caller's error type. When both the
    /// action and the re-protection fail, the re-protection error wins (the memory may still be readable, which
    /// matters more).
    pub fn with_bytes_func<R, E: From<Error>>(
        &self,
        action: impl FnOnce(&[u8]) -> Result<R, E>,
    ) -> Result<R, E> {
        self.access(action)?
    }

    /// One access: admit, run the action, release. A panicking action is caught so that the release (which may
    /// take the transition lock) runs outside unwinding, then the panic resumes: the count and the protection are
    /// always restored, and no lock is ever poisoned.
    fn access<R>(&self, action: impl FnOnce(&[u8]) -> R) -> Result<R, Error> {
        if self.region.forked() {
            return Err(Error::ForkedChild);
        }
        let ticket = self
            .state
            .acquire(|| self.region.open(), || self.region.shut())?;
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| self.region.read(&ticket, action)));
        if outcome.is_err() && crate::state::broken("panic-skips-release") {
            let _unreleased = ticket;
            return Err(Error::Closed);
        }
        let released = self.state.release(ticket, || self.region.shut());
        match outcome {
            Ok(result) => released.map(|()| result),
            Err(payload) => panic::resume_unwind(payload),
        }
    }

    /// A reader streaming the bytes from the start (see [`SecretReader`]).
    pub fn reader(&self) -> SecretReader<'_> {
        SecretReader::new(self)
    }

    /// Destroy the secret: refuse new accesses, wait for those in flight, then wipe, unlock and unmap the memory.
    /// Idempotent. Calling it from inside an action on the same secret deadlocks (as in Go).
    pub fn close(&self) -> Result<(), Error> {
        self.state.close(|token| {
            metrics::on_destroy();
            self.region.destroy(token)
        })
    }

    /// True once the secret is fully closed (false while a `close` is still waiting for accessors).
    pub fn is_closed(&self) -> bool {
        self.state.is_closed()
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.state.is_closing()
    }

    #[cfg(test)]
    pub(crate) fn debug_state(&self) -> (u64, bool) {
        self.state.snapshot()
    }

    #[cfg(all(test, not(loom)))]
    pub(crate) fn region_mut(&mut self) -> &mut Region {
        &mut self.region
    }

    #[cfg(all(test, not(loom)))]
    pub(crate) fn region(&self) -> &Region {
        &self.region
    }

    #[cfg(all(test, loom))]
    pub(crate) fn debug_is_readable(&self) -> bool {
        self.region.is_readable()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("kind", &self.kind)
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // `&mut self`: no accessor can be in flight. An OS failure here cannot be reported; the bytes were wiped
        // before unlock/unmap were attempted.
        let _ = self.close();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::SecretFactory;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const VALUE: &[u8; 32] = b"thisismy32bytesecretthatiwilluse";

    fn kinds() -> [MemoryKind; 2] {
        [MemoryKind::Protected, MemoryKind::Guarded]
    }

    fn secret(kind: MemoryKind) -> Secret {
        SecretFactory::new(kind)
            .new_secret(&mut VALUE.clone())
            .unwrap()
    }

    #[test]
    fn new_secret_copies_the_bytes_and_wipes_the_source() {
        for kind in kinds() {
            let mut source = *VALUE;
            let s = SecretFactory::new(kind).new_secret(&mut source).unwrap();
            assert_eq!(source, [0u8; 32]);
            assert_eq!(s.with_bytes(|b| b.to_vec()).unwrap(), VALUE);
            assert_eq!(s.len(), 32);
            assert_eq!(s.kind(), kind);
        }
    }

    #[test]
    fn create_random_gives_distinct_bytes_of_the_requested_length() {
        for kind in kinds() {
            let f = SecretFactory::new(kind);
            let a = f
                .create_random(32)
                .unwrap()
                .with_bytes(|b| b.to_vec())
                .unwrap();
            let b = f
                .create_random(32)
                .unwrap()
                .with_bytes(|b| b.to_vec())
                .unwrap();
            assert_eq!(a.len(), 32);
            assert_ne!(a, b);
        }
    }

    #[test]
    fn zero_length_secrets_are_rejected() {
        for kind in kinds() {
            let f = SecretFactory::new(kind);
            assert!(matches!(f.create_random(0), Err(Error::InvalidLength(0))));
            assert!(matches!(
                f.new_secret(&mut []),
                Err(Error::InvalidLength(0))
            ));
        }
    }

    #[test]
    fn very_large_secret_round_trips() {
        for kind in kinds() {
            let mut big: Vec<u8> = (0..(4 << 20) + 3).map(|i| (i % 251) as u8).collect();
            let expected = big.clone();
            let s = SecretFactory::new(kind).new_secret(&mut big).unwrap();
            assert!(big.iter().all(|&b| b == 0));
            assert!(s.with_bytes(|b| b == expected.as_slice()).unwrap());
        }
    }

    #[test]
    fn absurd_sizes_fail_cleanly() {
        for kind in kinds() {
            assert!(
                SecretFactory::new(kind)
                    .create_random(usize::MAX - 10)
                    .is_err()
            );
        }
    }

    #[test]
    fn with_bytes_func_passes_values_and_errors_through() {
        #[derive(Debug, PartialEq)]
        enum MyError {
            Secret(String),
            Action,
        }
        impl From<Error> for MyError {
            fn from(e: Error) -> Self {
                MyError::Secret(e.to_string())
            }
        }
        for kind in kinds() {
            let s = secret(kind);
            assert_eq!(s.with_bytes_func(|b| Ok::<_, MyError>(b.len())), Ok(32));
            assert_eq!(
                s.with_bytes_func(|_| Err::<(), _>(MyError::Action)),
                Err(MyError::Action)
            );
            assert_eq!(s.debug_state(), (0, false));
            s.close().unwrap();
            assert_eq!(
                s.with_bytes_func(|_| Ok::<_, MyError>(())),
                Err(MyError::Secret("secret has already been destroyed".into()))
            );
        }
    }

    #[test]
    fn use_after_close_fails_with_gos_message_and_close_is_idempotent() {
        for kind in kinds() {
            let s = secret(kind);
            assert!(!s.is_closed());
            s.close().unwrap();
            assert!(s.is_closed());
            s.close().unwrap();
            let err = s.with_bytes(|_| ()).unwrap_err();
            assert!(err.is_closed());
            assert_eq!(err.to_string(), "secret has already been destroyed");
        }
    }

    #[test]
    fn window_opens_for_the_access_and_shuts_after() {
        for kind in kinds() {
            let s = secret(kind);
            assert_eq!(s.debug_state(), (0, false));
            s.with_bytes(|_| assert_eq!(s.debug_state(), (1, true)))
                .unwrap();
            s.with_bytes(|_| {
                s.with_bytes(|_| assert_eq!(s.debug_state(), (2, true)))
                    .unwrap()
            })
            .unwrap();
            assert_eq!(s.debug_state(), (0, false));
        }
    }

    #[test]
    fn panicking_action_releases_the_access() {
        for kind in kinds() {
            let s = secret(kind);
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                s.with_bytes(|_| panic!("action failed")).unwrap();
            }));
            assert!(caught.is_err());
            assert_eq!(s.debug_state(), (0, false));
            assert_eq!(s.with_bytes(|b| b[0]).unwrap(), b't');
            s.close().unwrap();
        }
    }

    #[test]
    fn close_waits_for_an_access_in_flight() {
        for kind in kinds() {
            let s = Arc::new(secret(kind));
            let (entered_tx, entered_rx) = std::sync::mpsc::channel();
            let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
            let reader = {
                let s = Arc::clone(&s);
                std::thread::spawn(move || {
                    s.with_bytes(|b| {
                        entered_tx.send(()).unwrap();
                        release_rx.recv().unwrap();
                        b.to_vec()
                    })
                    .unwrap()
                })
            };
            entered_rx.recv().unwrap();
            let closer = {
                let s = Arc::clone(&s);
                std::thread::spawn(move || s.close())
            };
            // The closer is waiting: new accesses are refused, but the secret is not closed yet.
            while !s.is_closing() {
                std::thread::yield_now();
            }
            assert!(s.with_bytes(|_| ()).unwrap_err().is_closed());
            assert!(!s.is_closed());
            release_tx.send(()).unwrap();
            assert_eq!(reader.join().unwrap(), VALUE);
            closer.join().unwrap().unwrap();
            assert!(s.is_closed());
        }
    }

    /// Mirrors Go's `…Secret_WithBytesConcurrentClose` havoc benchmark: workers loop on `with_bytes`, a watcher
    /// closes once half of them started; the only error allowed is the closed error.
    #[test]
    fn havoc_with_bytes_concurrent_close() {
        havoc(|s| s.with_bytes(|b| assert_eq!(b, VALUE)).map(|_| ()));
    }

    /// Mirrors Go's `…Secret_ReaderConcurrentClose`: new reader + read-to-end per op.
    #[test]
    fn havoc_reader_concurrent_close() {
        use std::io::Read;
        havoc(|s| {
            let mut out = Vec::new();
            match s.reader().read_to_end(&mut out) {
                Ok(_) => {
                    assert_eq!(out, VALUE);
                    Ok(())
                }
                Err(e) => Err(*e.into_inner().unwrap().downcast::<Error>().unwrap()),
            }
        });
    }

    fn havoc(op: impl Fn(&Secret) -> Result<(), Error> + Sync) {
        for kind in kinds() {
            let workers = 8;
            let s = secret(kind);
            let started = AtomicUsize::new(0);
            let ops = AtomicUsize::new(0);
            std::thread::scope(|scope| {
                for _ in 0..workers {
                    scope.spawn(|| {
                        started.fetch_add(1, Ordering::SeqCst);
                        loop {
                            match op(&s) {
                                Ok(()) => {
                                    ops.fetch_add(1, Ordering::Relaxed);
                                }
                                Err(e) => {
                                    assert!(e.is_closed(), "unexpected error: {e}");
                                    break;
                                }
                            }
                        }
                    });
                }
                scope.spawn(|| {
                    while started.load(Ordering::SeqCst) < workers / 2 {
                        std::thread::yield_now();
                    }
                    s.close().unwrap();
                });
            });
            assert!(s.is_closed());
            assert_eq!(s.debug_state().0, 0);
        }
    }

    #[test]
    fn debug_output_never_shows_the_bytes() {
        let s = secret(MemoryKind::Protected);
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("thisismy") && !shown.contains("116"),
            "{shown}"
        );
        assert!(shown.contains("len: 32"));
    }
}
