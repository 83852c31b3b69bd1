//! The access state machine every secret runs on: how many accessors are in flight, whether the memory is
//! currently readable, and whether the secret is closing or closed.
//!
//! One `u64` word holds all of it so that the common cases are a single compare-and-swap:
//!
//! * bits 0..32  — accessors in flight (`count`);
//! * `READABLE`  — the memory is (being made) readable and accessors may join the open window without a syscall;
//! * `CLOSING`   — `close` has started: no new accessor is admitted;
//! * `CLOSED`    — the memory is gone.
//!
//! Transitions that change memory protection (count 0 → 1 opens the window, 1 → 0 shuts it) and closing happen under
//! one mutex, so protection changes are serialised and ordered with each other. Joining or leaving an already-open
//! window (count k → k±1 with k ≥ 1 and k±1 ≥ 1) is lock-free. The invariants, checked by the loom models:
//!
//! 1. the memory is readable whenever `count > 0`;
//! 2. `count > 0` never coexists with `CLOSED`, and `CLOSING` admits no new accessor;
//! 3. `close` returns only after the last accessor has left and the memory was destroyed exactly once.

use crate::error::Error;
use crate::sync::{AtomicU64, Condvar, Mutex, MutexGuard, Ordering, spin_loop};

const COUNT_MASK: u64 = 0xFFFF_FFFF;
const READABLE: u64 = 1 << 32;
const CLOSING: u64 = 1 << 33;
const CLOSED: u64 = 1 << 34;

/// Spins an accessor makes (joining or taking the lock) before it sleeps on the lock: about the length of an
/// `mprotect` call. Small under loom, where each spin is an explored step.
#[cfg(not(loom))]
const SPIN_LIMIT: usize = 512;
#[cfg(loom)]
const SPIN_LIMIT: usize = 2;

/// Proof that the holder is an admitted accessor: the memory is readable for as long as it lives. Only
/// [`AccessState::acquire`] makes one and only [`AccessState::release`] takes it back.
#[derive(Debug)]
pub(crate) struct Ticket(());

/// Proof that no accessor is in flight and none can ever be admitted again: the memory may be wiped and freed.
/// Only [`AccessState::close`] makes one.
#[derive(Debug)]
pub(crate) struct Destroying(());

#[derive(Debug)]
pub(crate) struct AccessState {
    word: AtomicU64,
    transitions: Mutex<()>,
    changed: Condvar,
}

impl AccessState {
    pub(crate) fn new() -> Self {
        AccessState {
            word: AtomicU64::new(0),
            transitions: Mutex::new(()),
            changed: Condvar::new(),
        }
    }

    /// Admit an accessor. `open` makes the memory readable; it runs only when this accessor opens the window.
    ///
    /// When the window is shut, the accessor spins for a short while instead of sleeping on the lock: if another
    /// thread is opening the window it joins as soon as the window is readable, and if another thread is shutting
    /// it, it takes the lock the moment it is free. Sleeping and waking (futex syscalls, context switches) would
    /// cost more than the `mprotect` being waited for, and would keep concurrent accessors from sharing windows.
    pub(crate) fn acquire(
        &self,
        open: impl FnOnce() -> Result<(), Error>,
    ) -> Result<Ticket, Error> {
        if self.try_join()? {
            return Ok(Ticket(()));
        }
        for _ in 0..SPIN_LIMIT {
            if let Some(guard) = self.transitions.try_lock() {
                return self.open_locked(guard, open);
            }
            if self.try_join()? {
                return Ok(Ticket(()));
            }
            spin_loop();
        }
        let guard = self.transitions.lock();
        self.open_locked(guard, open)
    }

    /// With the transition lock held: join a window opened meanwhile, or open it.
    fn open_locked(
        &self,
        _guard: MutexGuard<'_, ()>,
        open: impl FnOnce() -> Result<(), Error>,
    ) -> Result<Ticket, Error> {
        // Under the lock nobody else can open or shut the window, but accessors may still join or leave it.
        if self.try_join()? {
            return Ok(Ticket(()));
        }
        // count == 0 and not readable: this accessor opens the window. No one else can change the word now: joining
        // needs READABLE, leaving needs count > 0, and every other transition holds the lock.
        open()?;
        let previous = self.word.fetch_add(READABLE | 1, Ordering::AcqRel);
        debug_assert_eq!(previous & (COUNT_MASK | READABLE | CLOSING | CLOSED), 0);
        Ok(Ticket(()))
    }

    /// Join an open window without a syscall. `Ok(false)` means the window is shut and the caller must open it.
    fn try_join(&self) -> Result<bool, Error> {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            if word & (CLOSING | CLOSED) != 0 {
                return Err(Error::Closed);
            }
            if word & READABLE == 0 || word & COUNT_MASK == 0 {
                return Ok(false);
            }
            match self.word.compare_exchange_weak(
                word,
                word + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(true),
                Err(actual) => word = actual,
            }
        }
    }

    /// Let an accessor go. `shut` re-protects the memory; it runs only when this accessor was the last one.
    /// The count is always decremented, even when `shut` fails, so a failure never wedges `close`.
    pub(crate) fn release(
        &self,
        ticket: Ticket,
        shut: impl FnOnce() -> Result<(), Error>,
    ) -> Result<(), Error> {
        let Ticket(()) = ticket;
        // Fast path: others remain in the window.
        let mut word = self.word.load(Ordering::Acquire);
        while word & COUNT_MASK > 1 {
            match self.word.compare_exchange_weak(
                word,
                word - 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => word = actual,
            }
        }
        let _guard = self.transitions.lock();
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            debug_assert!(word & COUNT_MASK >= 1, "release without an accessor");
            let last = word & COUNT_MASK == 1;
            // The last one out clears READABLE in the same step, so nobody can join a window being shut.
            let next = if last {
                (word - 1) & !READABLE
            } else {
                word - 1
            };
            match self
                .word
                .compare_exchange_weak(word, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if last => break,
                Ok(_) => return Ok(()),
                Err(actual) => word = actual,
            }
        }
        let shut_result = shut();
        if word & CLOSING != 0 {
            self.changed.notify_all();
        }
        shut_result
    }

    /// Close: refuse new accessors, wait for the ones in flight, then run `destroy` exactly once. Idempotent;
    /// a concurrent second `close` waits for the first to finish.
    pub(crate) fn close(
        &self,
        destroy: impl FnOnce(Destroying) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut guard = self.transitions.lock();
        let word = self.word.fetch_or(CLOSING, Ordering::AcqRel);
        if word & CLOSING != 0 {
            while self.word.load(Ordering::Acquire) & CLOSED == 0 {
                guard = self.changed.wait(guard);
            }
            return Ok(());
        }
        while self.word.load(Ordering::Acquire) & COUNT_MASK != 0 {
            guard = self.changed.wait(guard);
        }
        let result = destroy(Destroying(()));
        self.word.fetch_or(CLOSED, Ordering::AcqRel);
        self.changed.notify_all();
        drop(guard);
        result
    }

    /// Fully closed (false while merely closing, as in Go's protectedmemory).
    pub(crate) fn is_closed(&self) -> bool {
        self.word.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Closing or closed: no accessor will be admitted.
    pub(crate) fn is_closing(&self) -> bool {
        self.word.load(Ordering::Acquire) & (CLOSING | CLOSED) != 0
    }

    /// Accessors in flight and whether the window is marked readable (for tests and loom models).
    #[cfg(test)]
    pub(crate) fn snapshot(&self) -> (u64, bool) {
        let word = self.word.load(Ordering::Acquire);
        (word & COUNT_MASK, word & READABLE != 0)
    }
}
