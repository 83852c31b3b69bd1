//! Process-wide counters of spec §10 (`secret.allocated`, `secret.inuse`): two relaxed atomic adds per secret
//! lifetime, nothing on the access path, read only when someone asks.
#![allow(clippy::disallowed_types)] // plain statistics, not synchronisation: not part of the loom models

use std::sync::atomic::{AtomicU64, Ordering};

static ALLOCATED: AtomicU64 = AtomicU64::new(0);
static DESTROYED: AtomicU64 = AtomicU64::new(0);

/// A snapshot of the process-wide secret counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretMetrics {
    /// Secrets created since the process started (Go: `secret.allocated`).
    pub allocated: u64,
    /// Secrets currently alive (Go: `secret.inuse`).
    pub in_use: u64,
}

/// Read the counters.
pub fn secret_metrics() -> SecretMetrics {
    let destroyed = DESTROYED.load(Ordering::Relaxed);
    let allocated = ALLOCATED.load(Ordering::Relaxed);
    SecretMetrics {
        allocated,
        in_use: allocated.saturating_sub(destroyed),
    }
}

pub(crate) fn on_allocate() {
    ALLOCATED.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn on_destroy() {
    DESTROYED.fetch_add(1, Ordering::Relaxed);
}
