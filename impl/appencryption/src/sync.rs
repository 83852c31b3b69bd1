//! The one place that names synchronisation primitives (design: one `crate::sync` shim for loom).
//!
//! Under `cfg(loom)` these are loom's model types, so loom tests exercise the crate's real code; otherwise they are
//! the `std` equivalents. Locks are thin newtypes because `clippy.toml` forbids naming `std::sync::{Mutex, RwLock,
//! Condvar}` anywhere else (a re-export would still resolve to the std type and trip the lint). Their `lock`/
//! `read`/`write`/`wait` ignore poisoning: every structure this crate guards is left consistent at each point where
//! user code (a callback, a loader) can panic, so a poisoned lock carries no half-updated state.
#![allow(clippy::disallowed_types)]
// The shim offers the full set up front; not every primitive is used by every build configuration.
#![allow(unused_imports, dead_code)]

#[cfg(loom)]
use loom::sync as imp;
#[cfg(not(loom))]
use std::sync as imp;

#[cfg(loom)]
pub(crate) use loom::thread;
#[cfg(not(loom))]
pub(crate) use std::thread;

pub(crate) use imp::atomic::{self, AtomicBool, AtomicU64, AtomicUsize, Ordering};
pub(crate) use imp::{Arc, MutexGuard, RwLockReadGuard, RwLockWriteGuard};

/// A mutex (std, or loom's under `cfg(loom)`).
#[derive(Debug, Default)]
pub(crate) struct Mutex<T>(imp::Mutex<T>);

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex(imp::Mutex::new(value))
    }

    /// Lock, ignoring poisoning.
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn into_inner(self) -> T {
        self.0
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Exclusive access through `&mut self` (no locking needed), ignoring poisoning.
    #[cfg(not(loom))]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.0
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A reader-writer lock (std, or loom's under `cfg(loom)`).
#[derive(Debug, Default)]
pub(crate) struct RwLock<T>(imp::RwLock<T>);

impl<T> RwLock<T> {
    pub(crate) fn new(value: T) -> Self {
        RwLock(imp::RwLock::new(value))
    }

    /// Shared lock, ignoring poisoning.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Exclusive lock, ignoring poisoning.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Exclusive access through `&mut self` (no locking needed), ignoring poisoning.
    #[cfg(not(loom))]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.0
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A condition variable paired with [`Mutex`].
#[derive(Debug, Default)]
pub(crate) struct Condvar(imp::Condvar);

impl Condvar {
    pub(crate) fn new() -> Self {
        Condvar(imp::Condvar::new())
    }

    /// Wait, ignoring poisoning.
    pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.0
            .wait(guard)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn notify_one(&self) {
        self.0.notify_one();
    }

    pub(crate) fn notify_all(&self) {
        self.0.notify_all();
    }
}

/// Lock a mutex, ignoring poisoning.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock()
}

/// Take a read lock, ignoring poisoning.
pub(crate) fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read()
}

/// Take a write lock, ignoring poisoning.
pub(crate) fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write()
}

/// Wait on a condition variable, ignoring poisoning.
pub(crate) fn wait<'a, T>(cv: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(guard)
}
