//! Single-flight gates for the key cache's loads, one per key being loaded.
//!
//! A gate exists while someone holds or waits for it: [`LoadGates::lease`] creates it (or joins the one in the
//! map), and the last lease to let go removes it. So a stalled load of one key (a metastore or KMS call waiting
//! for its deadline) holds only that key's gate: loads of other partitions, and other versions of the same key,
//! proceed. Reference counts change only under the map's lock, which is what makes "the last lease" well defined.

// foldhash: see `key_cache.rs` (key ids contain caller-chosen partition ids).
use foldhash::HashMap;
// A plain `Arc`: every count change happens under the map's (loom-visible) lock.
use std::sync::Arc;

use crate::sync::Mutex;

/// The gate itself. Under loom it is the shim's mutex (the models drive futures that never suspend), elsewhere an
/// async mutex so a waiting load does not block a runtime thread.
#[cfg(not(loom))]
type Gate = tokio::sync::Mutex<()>;
#[cfg(loom)]
type Gate = crate::sync::Mutex<()>;

/// What a gate serialises: one exact version `(id, Some(created))`, or the latest-version path of `id`
/// `(id, None)`.
pub(crate) type LoadKey = (Arc<str>, Option<i64>);

/// The gates of one key cache.
#[derive(Default)]
pub(crate) struct LoadGates {
    gates: Mutex<HashMap<LoadKey, Arc<Gate>>>,
}

/// A claim on one key's gate; [`lock`](Lease::lock) it to load. Dropping the last lease of a key removes its gate.
pub(crate) struct Lease<'a> {
    gates: &'a LoadGates,
    key: LoadKey,
    /// `Some` until dropped (taken out under the map's lock).
    gate: Option<Arc<Gate>>,
}

impl LoadGates {
    /// A lease on `key`'s gate, creating the gate if nobody holds one.
    pub(crate) fn lease(&self, key: LoadKey) -> Lease<'_> {
        let gate = Arc::clone(self.gates.lock().entry(key.clone()).or_default());
        Lease {
            gates: self,
            key,
            gate: Some(gate),
        }
    }

    /// Gates in the map right now (keys somebody is loading or waiting to load).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.gates.lock().len()
    }
}

impl Lease<'_> {
    fn gate(&self) -> &Gate {
        self.gate
            .as_deref()
            .unwrap_or_else(|| unreachable!("a lease holds its gate until dropped"))
    }

    /// Wait for this key's gate.
    #[cfg(not(loom))]
    pub(crate) async fn lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.gate().lock().await
    }

    #[cfg(loom)]
    pub(crate) async fn lock(&self) -> crate::sync::MutexGuard<'_, ()> {
        self.gate().lock()
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut gates = self.gates.gates.lock();
        if let Some(gate) = self.gate.take() {
            // The map's reference and this one: nobody else holds or waits for the gate.
            if Arc::strong_count(&gate) == 2 {
                gates.remove(&self.key);
            }
            // Dropped under the lock, so the next lease's count check sees it gone.
            drop(gate);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn key(id: &str, created: Option<i64>) -> LoadKey {
        (Arc::from(id), created)
    }

    #[tokio::test]
    async fn a_held_gate_blocks_only_its_own_key() {
        let gates = LoadGates::default();
        let a = gates.lease(key("a", None));
        let _held = a.lock().await;
        // Another key, and another version of the same id, get their gates at once.
        let b = gates.lease(key("b", None));
        assert!(b.gate().try_lock().is_ok());
        let a_version = gates.lease(key("a", Some(1)));
        assert!(a_version.gate().try_lock().is_ok());
        // The same key waits.
        let a_again = gates.lease(key("a", None));
        assert!(a_again.gate().try_lock().is_err());
        assert_eq!(gates.len(), 3);
    }

    #[test]
    fn the_last_lease_removes_the_gate() {
        let gates = LoadGates::default();
        let first = gates.lease(key("a", None));
        let second = gates.lease(key("a", None));
        assert!(Arc::ptr_eq(
            first.gate.as_ref().unwrap(),
            second.gate.as_ref().unwrap()
        ));
        drop(first);
        assert_eq!(gates.len(), 1, "a waiter still holds the gate");
        drop(second);
        assert_eq!(gates.len(), 0);
    }
}
