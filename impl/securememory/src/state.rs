//! The access state machine every secret runs on: how many accessors are in flight, whether the memory is
//! currently readable, and whether the secret is closing or closed.
//!
//! One `u64` word holds all of it so that the common cases are a single compare-and-swap:
//!
//! * bits 0..32  — accessors in flight (`count`);
//! * `READABLE`  — the memory is (being made) readable and accessors may join the open window without a syscall;
//! * `CLOSING`   — `close` has started: no new accessor is admitted;
//! * `CLOSED`    — the memory is gone;
//! * `HANDOFF`   — the last accessor left while others were waiting: instead of re-protecting, it handed its place
//!   in the window (its unit of `count`) to one of them, which takes it without a syscall;
//! * `SHARED`    — more than one accessor has been in this window (set by every join and handoff, cleared when the
//!   window shuts);
//! * bits 40..64 — accessors waiting for the window (`waiters`).
//!
//! **Grace.** The last accessor out of a *shared* window does not re-protect at once: still counted, still inside
//! its `with_bytes` call, it watches the word for up to [`GRACE`] (about the cost of one `mprotect`) for another
//! accessor to join, and leaves without a syscall if one does. Under concurrent use this keeps one window open
//! across back-to-back accesses instead of paying an `mprotect` pair — and, with threads on several CPUs, a TLB
//! shoot-down — whenever the count touches zero for a few nanoseconds. A window only one accessor used (the
//! single-threaded case) is re-protected immediately, and closing cuts the grace short. So the memory is
//! readable only while some `with_bytes` call on it is in progress; it can outlast the last *closure* by at most
//! the grace, and only when the window was shared.
//!
//! Transitions that change memory protection (count 0 → 1 opens the window, 1 → 0 shuts it) and closing happen under
//! one mutex, so protection changes are serialised and ordered with each other. Joining or leaving an already-open
//! window (count k → k±1 with k ≥ 1 and k±1 ≥ 1) is lock-free. The invariants, checked by the loom models:
//!
//! 1. the memory is readable whenever `count > 0` (a handed-off unit counts: the window stays open for the waiter
//!    that takes it, so under concurrent use the memory is readable only while an access is in flight or about to
//!    start, and it is re-protected as soon as nobody is in flight or waiting);
//! 2. `count > 0` never coexists with `CLOSED`, and `CLOSING` admits no new accessor;
//! 3. `close` returns only after the last accessor has left and the memory was destroyed exactly once.

use crate::error::Error;
use crate::sync::{AtomicU64, Condvar, Mutex, MutexGuard, Ordering, spin_loop};

const COUNT_MASK: u64 = 0xFFFF_FFFF;
const READABLE: u64 = 1 << 32;
const CLOSING: u64 = 1 << 33;
const CLOSED: u64 = 1 << 34;
const HANDOFF: u64 = 1 << 35;
const SHARED: u64 = 1 << 36;
const WAITER: u64 = 1 << 40;
const WAITERS_MASK: u64 = !(WAITER - 1);

/// Spins an accessor makes (joining or taking the lock) before it sleeps on the lock: about the length of an
/// `mprotect` call. Small under loom, where each spin is an explored step.
#[cfg(not(loom))]
const SPIN_LIMIT: usize = 512;
#[cfg(loom)]
const SPIN_LIMIT: usize = 2;

/// How long the last accessor of a shared window waits for another before re-protecting: about one `mprotect`.
#[cfg(not(loom))]
const GRACE: std::time::Duration = std::time::Duration::from_micros(2);

/// Looks at the word the last accessor of a shared window makes before it re-protects: unbounded in time would
/// be wrong, so the real build also stops at [`GRACE`]; under loom each look is an explored step.
#[cfg(not(loom))]
const GRACE_LOOKS: usize = 4096;
#[cfg(loom)]
const GRACE_LOOKS: usize = 2;

/// Deliberately broken variants of this state machine, selected under loom only by `SECUREMEMORY_LOOM_BROKEN`,
/// to show that each loom model fails when the property it checks is broken (`scripts/loom-broken.sh`).
#[cfg(loom)]
pub(crate) fn broken(variant: &str) -> bool {
    std::env::var("SECUREMEMORY_LOOM_BROKEN").is_ok_and(|v| v == variant)
}
#[cfg(not(loom))]
#[inline(always)]
pub(crate) fn broken(_variant: &str) -> bool {
    false
}

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
    /// `shut` re-protects it; it runs only if this accessor is handed a window while the secret is closing.
    ///
    /// When the window is shut, the accessor registers as a waiter and spins for a short while instead of
    /// sleeping on the lock: it joins a window another thread opens, takes a window the last accessor hands over,
    /// or takes the lock the moment it is free. Sleeping and waking (futex syscalls, context switches) would cost
    /// more than the `mprotect` being waited for, and would keep concurrent accessors from sharing windows.
    pub(crate) fn acquire(
        &self,
        open: impl FnOnce() -> Result<(), Error>,
        shut: impl FnOnce() -> Result<(), Error>,
    ) -> Result<Ticket, Error> {
        if self.try_join()? {
            return Ok(Ticket(()));
        }
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            if word & (CLOSING | CLOSED) != 0 {
                return Err(Error::Closed);
            }
            match self.word.compare_exchange_weak(
                word,
                word + WAITER,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => word = actual,
            }
        }
        let mut spins = 0;
        loop {
            match self.wait_step()? {
                Step::Admitted(ticket) => return Ok(ticket),
                Step::HandedOffWhileClosing(ticket) => {
                    self.release(ticket, shut)?;
                    return Err(Error::Closed);
                }
                Step::Shut if spins < SPIN_LIMIT => {
                    spins += 1;
                    if let Some(guard) = self.transitions.try_lock() {
                        return self.open_locked(guard, open, shut);
                    }
                    spin_loop();
                }
                Step::Shut => return self.open_locked(self.transitions.lock(), open, shut),
            }
        }
    }

    /// One look at the word for a registered waiter: take a handed-off window, leave if closing, join an open
    /// window, or report that the window is shut.
    fn wait_step(&self) -> Result<Step, Error> {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            let (next, handed_off_while_closing) = if word & HANDOFF != 0 {
                // The handed-off unit of `count` becomes this accessor's.
                (word - HANDOFF - WAITER, word & CLOSING != 0)
            } else if word & (CLOSING | CLOSED) != 0 {
                match self.word.compare_exchange_weak(
                    word,
                    word - WAITER,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return Err(Error::Closed),
                    Err(actual) => {
                        word = actual;
                        continue;
                    }
                }
            } else if word & READABLE != 0 && word & COUNT_MASK > 0 {
                ((word + 1 - WAITER) | SHARED, false)
            } else {
                return Ok(Step::Shut);
            };
            match self
                .word
                .compare_exchange_weak(word, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if handed_off_while_closing => {
                    return Ok(Step::HandedOffWhileClosing(Ticket(())));
                }
                Ok(_) => return Ok(Step::Admitted(Ticket(()))),
                Err(actual) => word = actual,
            }
        }
    }

    /// With the transition lock held, as a registered waiter: take or join a window that appeared meanwhile, or
    /// open it.
    fn open_locked(
        &self,
        guard: MutexGuard<'_, ()>,
        open: impl FnOnce() -> Result<(), Error>,
        shut: impl FnOnce() -> Result<(), Error>,
    ) -> Result<Ticket, Error> {
        match self.wait_step()? {
            Step::Admitted(ticket) => return Ok(ticket),
            Step::HandedOffWhileClosing(ticket) => {
                drop(guard);
                self.release(ticket, shut)?;
                return Err(Error::Closed);
            }
            Step::Shut => {}
        }
        // count == 0 and not readable, and under the lock nobody else can open the window, hand one over (that
        // needs count > 0) or start closing: this accessor opens it.
        if let Err(e) = open() {
            self.word.fetch_sub(WAITER, Ordering::AcqRel);
            return Err(e);
        }
        // One atomic step: +READABLE, +1 accessor, -1 waiter (wrapping addition does the subtraction).
        let previous = self
            .word
            .fetch_add((READABLE + 1).wrapping_sub(WAITER), Ordering::AcqRel);
        debug_assert_eq!(
            previous & (COUNT_MASK | READABLE | CLOSING | CLOSED | HANDOFF),
            0
        );
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
                (word + 1) | SHARED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(true),
                Err(actual) => word = actual,
            }
        }
    }

    /// Let an accessor go. `shut` re-protects the memory; it runs only when this accessor was the last one and
    /// nobody is waiting (otherwise the window is handed to a waiter, still open). The count is always
    /// decremented, even when `shut` fails, so a failure never wedges `close`.
    pub(crate) fn release(
        &self,
        ticket: Ticket,
        shut: impl FnOnce() -> Result<(), Error>,
    ) -> Result<(), Error> {
        let Ticket(()) = ticket;
        let mut word = self.word.load(Ordering::Acquire);
        let mut grace = Grace::new();
        loop {
            let next = if word & COUNT_MASK > 1 {
                word - 1
            } else if Self::can_hand_off(word) {
                word | HANDOFF | SHARED
            } else if word & SHARED != 0 && word & CLOSING == 0 && grace.wait() {
                // Last one out of a shared window: still counted, give another accessor the chance to join.
                word = self.word.load(Ordering::Acquire);
                continue;
            } else if word & SHARED != 0 && broken("grace-expiry-skips-shut") {
                word - 1
            } else {
                break;
            };
            match self
                .word
                .compare_exchange_weak(word, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => word = actual,
            }
        }
        let _guard = self.transitions.lock();
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            debug_assert!(word & COUNT_MASK >= 1, "release without an accessor");
            let (next, last) = if word & COUNT_MASK > 1 {
                (word - 1, false)
            } else if Self::can_hand_off(word) {
                (word | HANDOFF | SHARED, false)
            } else if broken("last-out-keeps-window-open") {
                (word - 1, false)
            } else {
                // The last one out clears READABLE (and SHARED) in the same step, so nobody can join a window
                // being shut.
                ((word - 1) & !(READABLE | SHARED), true)
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

    /// The last accessor may hand the window over when someone waits, no handoff is pending, and the secret is
    /// not closing.
    fn can_hand_off(word: u64) -> bool {
        word & WAITERS_MASK != 0 && word & (HANDOFF | CLOSING | CLOSED) == 0
    }

    /// Close: refuse new accessors, wait for the ones in flight, then run `destroy` exactly once. Idempotent;
    /// a concurrent second `close` waits for the first to finish.
    pub(crate) fn close(
        &self,
        destroy: impl FnOnce(Destroying) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut guard = self.transitions.lock();
        let word = self.word.fetch_or(CLOSING, Ordering::AcqRel);
        if word & CLOSING != 0 && !broken("second-close-destroys-again") {
            while self.word.load(Ordering::Acquire) & CLOSED == 0 {
                guard = self.changed.wait(guard);
            }
            return Ok(());
        }
        while self.word.load(Ordering::Acquire) & COUNT_MASK != 0 && !broken("close-skips-wait") {
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

/// What a registered waiter found.
enum Step {
    Admitted(Ticket),
    HandedOffWhileClosing(Ticket),
    Shut,
}

/// The bounded wait of the last accessor of a shared window ([`GRACE`], at most [`GRACE_LOOKS`] looks).
struct Grace {
    looks: usize,
    #[cfg(not(loom))]
    started: Option<std::time::Instant>,
}

impl Grace {
    fn new() -> Self {
        Grace {
            looks: 0,
            #[cfg(not(loom))]
            started: None,
        }
    }

    /// Spin once and say whether the grace still runs.
    fn wait(&mut self) -> bool {
        if self.looks >= GRACE_LOOKS {
            return false;
        }
        #[cfg(not(loom))]
        {
            // The clock is read every 16 looks: a vDSO call is a few times dearer than one look.
            if self.looks.is_multiple_of(16) {
                let now = std::time::Instant::now();
                match self.started {
                    None => self.started = Some(now),
                    Some(started) if now.duration_since(started) >= GRACE => return false,
                    Some(_) => {}
                }
            }
        }
        self.looks += 1;
        spin_loop();
        true
    }
}
