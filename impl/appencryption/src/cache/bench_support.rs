//! Entry points for the lab's cache benches (`harness/benches/cache.rs`). Not a supported API: only with the
//! `test-util` feature, exempt from semver, and kept to the few operations the benches time.

use crate::cache::bounded::{BoundedCache, CacheBuilder};
use crate::cache::eviction::EvictionPolicy;
use crate::cache::eviction::sketch;
use crate::error::Error;

/// TinyLFU's 4-bit Count-Min sketch, for Go's `BenchmarkCountMinSketchReset`.
#[derive(Debug, Clone)]
pub struct CountMinSketch(sketch::CountMinSketch);

impl CountMinSketch {
    /// A sketch sized for `width` counters per row (Go's `Init(width)`).
    pub fn new(width: usize) -> Self {
        Self(sketch::CountMinSketch::new(width))
    }

    /// Count one occurrence of hash `h`.
    pub fn add(&mut self, h: u64) {
        self.0.add(h);
    }

    /// Estimated occurrences of `h` (0..=15).
    pub fn estimate(&self, h: u64) -> u8 {
        self.0.estimate(h)
    }

    /// Halve every counter.
    pub fn reset(&mut self) {
        self.0.reset();
    }
}

/// A bounded cache with `u64` keys and values, synchronous mode, no callback, no expiry: the engine and policy
/// cost without allocation or thread hand-off noise.
pub struct BenchCache(BoundedCache<u64, u64>);

impl BenchCache {
    /// A cache of `capacity` entries under `policy` ([`EvictionPolicy::Simple`] is rejected: it is not bounded).
    pub fn new(policy: EvictionPolicy, capacity: usize) -> Result<Self, Error> {
        let bounded = policy.bounded().ok_or_else(|| {
            Error::UnknownEvictionPolicy(format!("{policy} (not a bounded policy)"))
        })?;
        CacheBuilder::new(capacity)
            .policy(bounded)
            .synchronous(true)
            .build()
            .map(Self)
    }

    /// Insert or replace; returns the value no longer cached, if any.
    pub fn set(&self, key: u64, value: u64) -> Option<u64> {
        self.0.set(key, value)
    }

    /// Look up (counts as an access).
    pub fn get(&self, key: u64) -> Option<u64> {
        self.0.get(&key)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
}
