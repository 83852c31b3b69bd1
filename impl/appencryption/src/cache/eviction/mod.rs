//! Eviction policies with Go Asherah's exact semantics (docs/compatibility.md#eviction-policies), selected by name
//! like Go.
//!
//! A policy only orders slots (the engine's entry indices); it never sees keys or values. The engine calls
//! [`Policy::admit`] for a new entry, [`Policy::access`] on a hit or a replacing `set`, [`Policy::victim`] when it
//! needs room (or drains on close) and [`Policy::remove`] for every entry that leaves, evicted or deleted.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

mod bloom;
pub(crate) mod fnv;
mod lfu;
pub(crate) mod list;
mod lru;
pub(crate) mod sketch;
mod slru;
mod tinylfu;

use lfu::Lfu;
use list::Slot;
use lru::Lru;
use slru::Slru;
use tinylfu::TinyLfu;

/// Which store backs a cache, by Go's policy name (`SystemKeyCacheEvictionPolicy`,
/// `IntermediateKeyCacheEvictionPolicy`, `SessionCacheEvictionPolicy`).
///
/// Parse with [`str::parse`]: `""` and `"simple"` select [`Simple`](Self::Simple); `"lru"`, `"slru"`, `"lfu"` and
/// `"tinylfu"` the bounded policies. Names are case-sensitive, as in Go. An unknown name is
/// [`Error::UnknownEvictionPolicy`] (Go panics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EvictionPolicy {
    /// Unbounded map: never evicts, reports capacity −1, releases everything when closed
    /// (docs/compatibility.md#bounded-cache-engine).
    Simple,
    /// Least recently used.
    Lru,
    /// Segmented LRU: probation and protected (80% of capacity) recency lists.
    Slru,
    /// Least frequently used; ties go to the earliest arrival at that frequency.
    Lfu,
    /// TinyLFU: a 1% LRU admission window before a main SLRU, arbitrated by a frequency sketch.
    TinyLfu,
}

impl EvictionPolicy {
    /// Go's name for the policy (`"simple"` for [`Simple`](Self::Simple), which Go also accepts as `""`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Simple => "simple",
            Self::Lru => "lru",
            Self::Slru => "slru",
            Self::Lfu => "lfu",
            Self::TinyLfu => "tinylfu",
        }
    }

    /// The bounded engine's policy, or `None` for the unbounded simple store.
    pub(crate) fn bounded(self) -> Option<BoundedPolicy> {
        match self {
            Self::Simple => None,
            Self::Lru => Some(BoundedPolicy::Lru),
            Self::Slru => Some(BoundedPolicy::Slru),
            Self::Lfu => Some(BoundedPolicy::Lfu),
            Self::TinyLfu => Some(BoundedPolicy::TinyLfu),
        }
    }
}

impl fmt::Display for EvictionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EvictionPolicy {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" | "simple" => Ok(Self::Simple),
            "lru" => Ok(Self::Lru),
            "slru" => Ok(Self::Slru),
            "lfu" => Ok(Self::Lfu),
            "tinylfu" => Ok(Self::TinyLfu),
            other => Err(Error::UnknownEvictionPolicy(other.to_owned())),
        }
    }
}

/// A policy the bounded engine can run (everything but "simple"). Go's engine default is LRU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum BoundedPolicy {
    /// See [`EvictionPolicy::Lru`].
    #[default]
    Lru,
    /// See [`EvictionPolicy::Slru`].
    Slru,
    /// See [`EvictionPolicy::Lfu`].
    Lfu,
    /// See [`EvictionPolicy::TinyLfu`].
    TinyLfu,
}

/// What the engine drives. Every operation is O(1) (TinyLFU's aging step is O(capacity) once every
/// `8 × capacity` counted operations).
///
/// The engine guarantees: `admit` only for a slot not currently tracked; `access` and `remove` only for tracked
/// slots; `victim` returns a tracked slot (or `None` when nothing is tracked) and the engine then `remove`s it.
pub(crate) trait Policy {
    /// Whether [`admit`](Self::admit) needs the key's [`fnv::CacheKeyHash`] (otherwise the engine passes 0 and
    /// skips hashing).
    fn uses_hash(&self) -> bool {
        false
    }
    /// Track a new entry.
    fn admit(&mut self, slot: Slot, hash: u64);
    /// Record a hit on (or a replacing `set` of) a tracked entry.
    fn access(&mut self, slot: Slot);
    /// The entry to evict next. May reorganise internal segments (TinyLFU), never stops tracking anything.
    fn victim(&mut self) -> Option<Slot>;
    /// Stop tracking an entry.
    fn remove(&mut self, slot: Slot);
}

/// Static dispatch over the policies (the engine's hot path avoids a virtual call).
#[derive(Debug)]
pub(crate) enum AnyPolicy {
    /// See [`Lru`].
    Lru(Lru),
    /// See [`Slru`].
    Slru(Slru),
    /// See [`Lfu`].
    Lfu(Lfu),
    /// See [`TinyLfu`].
    TinyLfu(Box<TinyLfu>),
}

impl AnyPolicy {
    /// A fresh policy for a cache of `capacity` entries.
    pub(crate) fn new(policy: BoundedPolicy, capacity: usize) -> Self {
        match policy {
            BoundedPolicy::Lru => Self::Lru(Lru::new()),
            BoundedPolicy::Slru => Self::Slru(Slru::new(capacity)),
            BoundedPolicy::Lfu => Self::Lfu(Lfu::new()),
            BoundedPolicy::TinyLfu => Self::TinyLfu(Box::new(TinyLfu::new(capacity))),
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            AnyPolicy::Lru($p) => $e,
            AnyPolicy::Slru($p) => $e,
            AnyPolicy::Lfu($p) => $e,
            AnyPolicy::TinyLfu($p) => $e,
        }
    };
}

impl Policy for AnyPolicy {
    fn uses_hash(&self) -> bool {
        dispatch!(self, p => p.uses_hash())
    }
    fn admit(&mut self, slot: Slot, hash: u64) {
        dispatch!(self, p => p.admit(slot, hash));
    }
    fn access(&mut self, slot: Slot) {
        dispatch!(self, p => p.access(slot));
    }
    fn victim(&mut self) -> Option<Slot> {
        dispatch!(self, p => p.victim())
    }
    fn remove(&mut self, slot: Slot) {
        dispatch!(self, p => p.remove(slot));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_policy_parses_go_names() {
        for (name, want) in [
            ("", EvictionPolicy::Simple),
            ("simple", EvictionPolicy::Simple),
            ("lru", EvictionPolicy::Lru),
            ("slru", EvictionPolicy::Slru),
            ("lfu", EvictionPolicy::Lfu),
            ("tinylfu", EvictionPolicy::TinyLfu),
        ] {
            assert_eq!(name.parse::<EvictionPolicy>().ok(), Some(want), "{name:?}");
        }
        for p in [
            EvictionPolicy::Simple,
            EvictionPolicy::Lru,
            EvictionPolicy::Slru,
            EvictionPolicy::Lfu,
            EvictionPolicy::TinyLfu,
        ] {
            assert_eq!(p.to_string().parse::<EvictionPolicy>().ok(), Some(p));
        }
    }

    #[test]
    fn eviction_policy_rejects_unknown_names() {
        for name in ["LRU", "arc", " lru", "tiny-lfu"] {
            let err = name.parse::<EvictionPolicy>().err();
            assert!(
                matches!(&err, Some(Error::UnknownEvictionPolicy(n)) if n == name),
                "{name:?}: {err:?}"
            );
        }
        let msg = "fifo"
            .parse::<EvictionPolicy>()
            .err()
            .map(|e| e.to_string());
        assert_eq!(msg.as_deref(), Some("cache: unsupported policy \"fifo\""));
    }
}
