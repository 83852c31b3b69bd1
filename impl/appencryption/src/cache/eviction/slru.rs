//! SLRU (`slru`): a probation and a protected recency list (docs/compatibility.md#eviction-policies).

use super::Policy;
use super::list::{Links, List, Slot, ensure_slot};

/// Go's `protectedRatio`.
const PROTECTED_RATIO: f64 = 0.8;

/// Admit → front of probation; access of a probation item → front of protected, demoting protected's back to the
/// front of probation if protected now exceeds `floor(capacity × 0.8)`; access of a protected item → front of
/// protected; victim → back of probation, else back of protected.
#[derive(Debug)]
pub(crate) struct Slru {
    /// One arena for both lists: a slot is in exactly one of them.
    links: Vec<Links>,
    /// Per slot: which list holds it.
    protected_flag: Vec<bool>,
    probation: List,
    protected: List,
    protected_capacity: usize,
}

impl Slru {
    /// An empty SLRU sized for `capacity` entries (the probation share, `capacity − protected`, is informational:
    /// the engine enforces the total).
    pub(crate) fn new(capacity: usize) -> Self {
        // Go: `int(float64(capacity) * protectedRatio)`; identical float arithmetic, truncation toward zero.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let protected_capacity = (capacity as f64 * PROTECTED_RATIO) as usize;
        Self {
            links: Vec::new(),
            protected_flag: Vec::new(),
            probation: List::new(),
            protected: List::new(),
            protected_capacity,
        }
    }

    /// Probation slots front to back, protected slots front to back (tests only).
    #[cfg(test)]
    pub(crate) fn segments(&self) -> (Vec<Slot>, Vec<Slot>) {
        (
            self.probation.collect_slots(&self.links),
            self.protected.collect_slots(&self.links),
        )
    }

    fn is_protected(&self, slot: Slot) -> bool {
        self.protected_flag
            .get(slot as usize)
            .copied()
            .unwrap_or(false)
    }

    fn set_protected(&mut self, slot: Slot, protected: bool) {
        if let Some(flag) = self.protected_flag.get_mut(slot as usize) {
            *flag = protected;
        }
    }
}

impl Policy for Slru {
    fn admit(&mut self, slot: Slot, _hash: u64) {
        ensure_slot(&mut self.links, slot);
        ensure_slot(&mut self.protected_flag, slot);
        self.set_protected(slot, false);
        self.probation.push_front(&mut self.links, slot);
    }

    fn access(&mut self, slot: Slot) {
        if self.is_protected(slot) {
            self.protected.move_to_front(&mut self.links, slot);
            return;
        }
        self.probation.unlink(&mut self.links, slot);
        self.protected.push_front(&mut self.links, slot);
        self.set_protected(slot, true);
        if self.protected.len() > self.protected_capacity
            && let Some(demoted) = self.protected.back()
        {
            self.protected.unlink(&mut self.links, demoted);
            self.probation.push_front(&mut self.links, demoted);
            self.set_protected(demoted, false);
        }
    }

    fn victim(&mut self) -> Option<Slot> {
        self.probation.back().or_else(|| self.protected.back())
    }

    fn remove(&mut self, slot: Slot) {
        if self.is_protected(slot) {
            self.protected.unlink(&mut self.links, slot);
            self.set_protected(slot, false);
        } else {
            self.probation.unlink(&mut self.links, slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slru_protected_capacity_is_floor_of_80_percent() {
        for (cap, protected) in [
            (1, 0),
            (2, 1),
            (5, 4),
            (10, 8),
            (99, 79),
            (100, 80),
            (990, 792),
            (1000, 800),
        ] {
            assert_eq!(
                Slru::new(cap).protected_capacity,
                protected,
                "capacity {cap}"
            );
        }
    }

    /// Capacity 5 → protected capacity 4.
    #[test]
    fn slru_admit_promote_demote_victim_table() {
        let mut p = Slru::new(5);
        for s in 0..5 {
            p.admit(s, 0);
        }
        assert_eq!(p.segments(), (vec![4, 3, 2, 1, 0], vec![]));
        assert_eq!(p.victim(), Some(0), "victim: back of probation");

        // Promote 0, 1, 2, 3: probation → front of protected.
        for s in 0..4 {
            p.access(s);
        }
        assert_eq!(p.segments(), (vec![4], vec![3, 2, 1, 0]));
        assert_eq!(p.victim(), Some(4));

        // Access of a protected item: move to front of protected, nothing demoted.
        p.access(0);
        assert_eq!(p.segments(), (vec![4], vec![0, 3, 2, 1]));

        // Promoting 4 overflows protected (5 > 4): protected's back (1) is demoted to the front of probation.
        p.access(4);
        assert_eq!(p.segments(), (vec![1], vec![4, 0, 3, 2]));
        assert_eq!(p.victim(), Some(1));

        // Empty probation: the victim is protected's back.
        p.remove(1);
        assert_eq!(p.segments(), (vec![], vec![4, 0, 3, 2]));
        assert_eq!(p.victim(), Some(2));
        p.remove(0);
        assert_eq!(p.segments(), (vec![], vec![4, 3, 2]));
    }

    #[test]
    fn slru_capacity_one_has_no_protected_room() {
        let mut p = Slru::new(1);
        p.admit(0, 0);
        p.access(0);
        // Promoted, then immediately demoted back: protected capacity is 0.
        assert_eq!(p.segments(), (vec![0], vec![]));
        assert_eq!(p.victim(), Some(0));
        p.remove(0);
        assert_eq!(p.victim(), None);
    }
}
