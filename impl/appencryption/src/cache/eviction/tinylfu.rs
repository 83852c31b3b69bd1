//! TinyLFU (`tinylfu`): an LRU admission window in front of a main SLRU, with a doorkeeper Bloom filter and a
//! Count-Min sketch deciding who leaves (docs/compatibility.md#eviction-policies; Go's port of goburrow/cache
//! "Mango").
//!
//! Two deliberate differences from Go, neither of which changes a victim choice that Go makes without crashing:
//!
//! * **Q5 (fixed, docs/compatibility.md#q5-tinylfu-below-capacity-100).** Below capacity 100 the window is empty and
//!   Go admits straight into the SLRU without recording the key's segment, so the key's first hit or removal
//!   dereferences a nil parent and panics. We record the segment on that bypass path too.
//! * **Q17 (fixed, hit ratios may differ slightly, docs/compatibility.md#q17-tinylfus-per-key-records).** Go keeps a
//!   per-key record (`hash`, segment) in a map that is never pruned, so it grows with every distinct key ever
//!   admitted; and because `increment` runs before the new key's record exists, a key's *first-ever* admission is
//!   counted under hash 0. We keep the record per slot and drop it when the entry is removed or evicted (memory
//!   bounded by capacity), and we count every admission under the key's real hash. Once records are dropped, Go's
//!   "hash 0 only the first time ever" cannot be reproduced without remembering every key ever seen; counting the
//!   real hash matches Go on every *re*-admission, which dominates long traces, and is what TinyLFU intends (an
//!   admission is an occurrence of the key). The only divergence left is a brand-new key's first admission (Go:
//!   counted under hash 0, ours: under its own hash).

use super::Policy;
use super::bloom::BloomFilter;
use super::list::{Slot, ensure_slot};
use super::lru::Lru;
use super::sketch::CountMinSketch;
use super::slru::Slru;

/// Go's `admissionRatio`: the window's share of the capacity.
const ADMISSION_RATIO: f64 = 0.01;
/// Go's `samplesMultiplier`: additions between two aging steps, per unit of capacity.
const SAMPLES_MULTIPLIER: usize = 8;
/// Go's `insertionsMultiplier`: the doorkeeper's expected insertions, per unit of capacity.
const INSERTIONS_MULTIPLIER: usize = 2;
/// Go's `countersMultiplier`: the sketch width, per unit of capacity.
const COUNTERS_MULTIPLIER: usize = 1;
/// Go's `falsePositiveProbability` for the doorkeeper.
const FALSE_POSITIVE_PROBABILITY: f64 = 0.1;

/// Which segment holds a slot (the per-key record's "parent").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Segment {
    /// Not tracked (free slot, or removed).
    #[default]
    None,
    /// The admission window (LRU).
    Window,
    /// The main SLRU.
    Main,
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct TinyLfu {
    window: Lru,
    window_capacity: usize,
    main: Slru,
    doorkeeper: BloomFilter,
    sketch: CountMinSketch,
    additions: usize,
    samples: usize,
    /// Per slot: the key's hash (valid while `segment != None`).
    hash: Vec<u64>,
    /// Per slot: the segment holding it.
    segment: Vec<Segment>,
}

impl TinyLfu {
    /// Window `floor(capacity × 0.01)`, main SLRU `capacity − window`, doorkeeper for `capacity × 2` insertions at
    /// 10% false positives, sketch width `capacity`, aging every `capacity × 8` additions.
    pub(crate) fn new(capacity: usize) -> Self {
        // Go: `int(float64(capacity) * admissionRatio)`.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let window_capacity = (capacity as f64 * ADMISSION_RATIO) as usize;
        Self {
            window: Lru::new(),
            window_capacity,
            main: Slru::new(capacity - window_capacity),
            doorkeeper: BloomFilter::new(
                capacity.saturating_mul(INSERTIONS_MULTIPLIER),
                FALSE_POSITIVE_PROBABILITY,
            ),
            sketch: CountMinSketch::new(capacity.saturating_mul(COUNTERS_MULTIPLIER)),
            additions: 0,
            samples: capacity.saturating_mul(SAMPLES_MULTIPLIER),
            hash: Vec::new(),
            segment: Vec::new(),
        }
    }

    /// Below capacity 100 the window is empty: everything goes to the SLRU and nothing is counted.
    fn bypassed(&self) -> bool {
        self.window_capacity == 0
    }

    fn segment(&self, slot: Slot) -> Segment {
        self.segment.get(slot as usize).copied().unwrap_or_default()
    }

    fn set_segment(&mut self, slot: Slot, segment: Segment) {
        if let Some(s) = self.segment.get_mut(slot as usize) {
            *s = segment;
        }
    }

    fn hash_of(&self, slot: Slot) -> u64 {
        self.hash.get(slot as usize).copied().unwrap_or_default()
    }

    /// `estimate(h) = sketch(h) + doorkeeper(h)`.
    fn estimate(&self, h: u64) -> u8 {
        self.sketch.estimate(h) + u8::from(self.doorkeeper.contains(h))
    }

    /// Count one occurrence of `h`, aging everything every `samples` additions.
    fn increment(&mut self, h: u64) {
        if self.bypassed() {
            return;
        }
        self.additions += 1;
        if self.additions >= self.samples {
            self.doorkeeper.reset();
            self.sketch.reset();
            self.additions = 0;
        }
        if self.doorkeeper.put(h) {
            self.sketch.add(h);
        }
    }

    /// Move the window's `slot` into the main SLRU (probation front).
    fn promote(&mut self, slot: Slot) {
        self.window.remove(slot);
        self.main.admit(slot, 0);
        self.set_segment(slot, Segment::Main);
    }

    /// `(window slots MRU first, (probation, protected))` (tests only).
    #[cfg(test)]
    pub(crate) fn segments(&self) -> (Vec<Slot>, (Vec<Slot>, Vec<Slot>)) {
        (self.window.order(), self.main.segments())
    }
}

impl Policy for TinyLfu {
    fn uses_hash(&self) -> bool {
        true
    }

    fn admit(&mut self, slot: Slot, hash: u64) {
        ensure_slot(&mut self.hash, slot);
        ensure_slot(&mut self.segment, slot);
        self.hash[slot as usize] = hash;

        if self.bypassed() {
            self.main.admit(slot, hash);
            self.set_segment(slot, Segment::Main); // Q5: Go forgets this.
            return;
        }

        self.increment(hash); // Q17: the real hash, not 0.

        if self.window.len() >= self.window_capacity
            && let Some(oldest) = self.window.victim()
        {
            self.promote(oldest);
        }
        self.window.admit(slot, hash);
        self.set_segment(slot, Segment::Window);
    }

    fn access(&mut self, slot: Slot) {
        self.increment(self.hash_of(slot));
        match self.segment(slot) {
            Segment::Window => self.window.access(slot),
            Segment::Main => self.main.access(slot),
            Segment::None => debug_assert!(false, "tinylfu: access of untracked slot {slot}"),
        }
    }

    fn victim(&mut self) -> Option<Slot> {
        let Some(candidate) = self.window.victim() else {
            return self.main.victim();
        };
        let Some(victim) = self.main.victim() else {
            return Some(candidate);
        };
        if self.estimate(self.hash_of(candidate)) > self.estimate(self.hash_of(victim)) {
            self.promote(candidate);
            return Some(victim);
        }
        Some(candidate)
    }

    fn remove(&mut self, slot: Slot) {
        match self.segment(slot) {
            Segment::Window => self.window.remove(slot),
            Segment::Main => self.main.remove(slot),
            Segment::None => debug_assert!(false, "tinylfu: remove of untracked slot {slot}"),
        }
        self.set_segment(slot, Segment::None); // Q17: the record goes with the entry.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tinylfu_sizes_follow_capacity() {
        for (capacity, window) in [
            (1, 0),
            (2, 0),
            (50, 0),
            (99, 0),
            (100, 1),
            (101, 1),
            (199, 1),
            (1000, 10),
        ] {
            let p = TinyLfu::new(capacity);
            assert_eq!(p.window_capacity, window, "capacity {capacity}");
            assert_eq!(p.bypassed(), window == 0);
            assert_eq!(p.samples, capacity * 8);
        }
    }

    #[test]
    fn tinylfu_bypass_below_100_records_segment_q5() {
        let mut p = TinyLfu::new(50);
        p.admit(0, 11);
        p.admit(1, 22);
        // Go panics on both of these (nil parent).
        p.access(0);
        assert_eq!(p.segments(), (vec![], (vec![1], vec![0])));
        p.remove(0);
        p.remove(1);
        assert_eq!(p.victim(), None);
        assert_eq!(p.additions, 0, "bypassed: nothing is counted");
    }

    /// Capacity 200: window 2, main 198.
    #[test]
    fn tinylfu_window_overflow_moves_window_lru_into_probation() {
        let mut p = TinyLfu::new(200);
        for s in 0..4 {
            p.admit(s, 1000 + u64::from(s));
        }
        // 0 and 1 were pushed out of the full window, oldest first, into probation's front.
        assert_eq!(p.segments(), (vec![3, 2], (vec![1, 0], vec![])));
        // The window and main segments are tracked, and access goes to the right one.
        p.access(0);
        p.access(3);
        assert_eq!(p.segments(), (vec![3, 2], (vec![1], vec![0])));
    }

    #[test]
    fn tinylfu_victim_compares_window_candidate_with_main_victim() {
        let (cold, hot) = (0xAAAA_0000_0000_0001u64, 0xBBBB_0000_0000_0002u64);
        let mut p = TinyLfu::new(200);
        p.admit(0, cold); // → window, later pushed to probation
        p.admit(1, 0x1111);
        p.admit(2, hot); // window is [2, 1]; 0 → probation
        assert_eq!(p.segments(), (vec![2, 1], (vec![0], vec![])));

        // Candidate 1 (window LRU) vs victim 0 (probation back): 1 seen once (doorkeeper only) = 0 seen once → the
        // candidate loses the tie and is the victim.
        assert_eq!(p.estimate(0x1111), p.estimate(cold));
        assert_eq!(p.victim(), Some(1));

        // Access 2 once and 1 five times: the window's LRU is now 2, seen twice, hotter than 0 (seen once).
        p.access(2);
        for _ in 0..5 {
            p.access(1);
        }
        assert_eq!(p.segments(), (vec![1, 2], (vec![0], vec![])));
        assert!(p.estimate(hot) > p.estimate(cold));
        // Candidate 2 (hot) beats victim 0 (cold): 2 moves to probation's front, 0 is returned.
        assert_eq!(p.victim(), Some(0));
        assert_eq!(p.segments(), (vec![1], (vec![2, 0], vec![])));
        p.remove(0);
        assert_eq!(p.segments(), (vec![1], (vec![2], vec![])));
    }

    #[test]
    fn tinylfu_aging_halves_after_samples_additions() {
        let mut p = TinyLfu::new(100); // samples 800
        let h = 0xCAFE_CAFE_CAFE_CAFE;
        p.admit(0, h);
        for _ in 0..20 {
            p.access(0);
        }
        assert_eq!(
            p.estimate(h),
            16,
            "sketch saturates at 15, plus the doorkeeper bit"
        );
        for _ in 21..799 {
            p.access(0);
        }
        assert_eq!(p.additions, 799);
        p.access(0); // 800th addition: reset (doorkeeper cleared, sketch halved), then counted again
        assert_eq!(p.additions, 0);
        assert_eq!(p.estimate(h), 7 + 1);
    }

    #[test]
    fn tinylfu_victim_falls_back_when_a_segment_is_empty() {
        let mut p = TinyLfu::new(100);
        assert_eq!(p.victim(), None);
        p.admit(0, 1);
        assert_eq!(p.victim(), Some(0), "window only");
        p.admit(1, 2); // 0 → probation
        p.remove(1);
        assert_eq!(p.victim(), Some(0), "main only");
    }
}
