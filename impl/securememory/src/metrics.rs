//! Process-wide counters of docs/compatibility.md#securememory (`secret.allocated`, `secret.inuse`): two relaxed
//! atomic adds per secret lifetime, nothing on the access path, read only when someone asks.
#![allow(clippy::disallowed_types)] // plain statistics, not synchronisation: not part of the loom models

use std::sync::atomic::{AtomicU64, Ordering};

static ALLOCATED: AtomicU64 = AtomicU64::new(0);
static DESTROYED: AtomicU64 = AtomicU64::new(0);
static PROTECTION_CHANGES: AtomicU64 = AtomicU64::new(0);

/// A snapshot of the process-wide secret counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretMetrics {
    /// Secrets created since the process started (Go: `secret.allocated`).
    pub allocated: u64,
    /// Secrets currently alive (Go: `secret.inuse`).
    pub in_use: u64,
    /// `mprotect` calls this crate has made on secret, scratch and floor pages since the process started: two
    /// per access window that had to be opened and shut. Counting costs one relaxed add beside a system call.
    pub protection_changes: u64,
}

/// Read the counters.
pub fn secret_metrics() -> SecretMetrics {
    let destroyed = DESTROYED.load(Ordering::Relaxed);
    let allocated = ALLOCATED.load(Ordering::Relaxed);
    SecretMetrics {
        allocated,
        in_use: allocated.saturating_sub(destroyed),
        protection_changes: PROTECTION_CHANGES.load(Ordering::Relaxed),
    }
}

pub(crate) fn on_protection_change() {
    PROTECTION_CHANGES.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn on_allocate() {
    ALLOCATED.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn on_destroy() {
    DESTROYED.fetch_add(1, Ordering::Relaxed);
}
