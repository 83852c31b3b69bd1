//! LRU (`lru`): one recency list (docs/compatibility.md#eviction-policies).

use super::Policy;
use super::list::{Links, List, Slot, ensure_slot};

/// Admit = push to front; access = move to front; victim = back.
#[derive(Debug, Default)]
pub(crate) struct Lru {
    links: Vec<Links>,
    list: List,
}

impl Lru {
    /// An empty LRU.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Number of tracked slots.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// Slots from most to least recently used (tests only).
    #[cfg(test)]
    pub(crate) fn order(&self) -> Vec<Slot> {
        self.list.collect_slots(&self.links)
    }
}

impl Policy for Lru {
    fn admit(&mut self, slot: Slot, _hash: u64) {
        ensure_slot(&mut self.links, slot);
        self.list.push_front(&mut self.links, slot);
    }

    fn access(&mut self, slot: Slot) {
        self.list.move_to_front(&mut self.links, slot);
    }

    fn victim(&mut self) -> Option<Slot> {
        self.list.back()
    }

    fn remove(&mut self, slot: Slot) {
        self.list.unlink(&mut self.links, slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_victim_is_least_recently_admitted_or_accessed() {
        let mut p = Lru::new();
        for s in 0..4 {
            p.admit(s, 0);
        }
        assert_eq!(p.order(), [3, 2, 1, 0]);
        assert_eq!(p.victim(), Some(0));
        p.access(0);
        assert_eq!(p.order(), [0, 3, 2, 1]);
        assert_eq!(p.victim(), Some(1));
        p.remove(1);
        assert_eq!(p.victim(), Some(2));
        p.access(3);
        p.remove(2);
        assert_eq!(p.order(), [3, 0]);
        p.remove(0);
        p.remove(3);
        assert_eq!((p.victim(), p.len()), (None, 0));
    }
}
