//! LFU (`lfu`): the O(1) frequency-bucket scheme (docs/compatibility.md#eviction-policies; Go cites arXiv
//! 2110.11602).

use super::Policy;
use super::list::{Links, List, NIL, Slot, ensure_slot};

/// Index of a frequency bucket in its own arena.
type BucketId = u32;

/// All items currently at one access frequency, in the order they *entered* it.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    frequency: u64,
    items: List,
}

/// Buckets ordered by ascending frequency (empty buckets are dropped at once).
///
/// Admit → frequency 1, appended to the freq-1 bucket; access → frequency + 1, appended to that bucket (created
/// right after the current one if missing); victim → the first item of the lowest-frequency bucket, i.e. ties are
/// broken by earliest arrival at that frequency.
#[derive(Debug, Default)]
pub(crate) struct Lfu {
    /// Item positions inside their bucket's list, indexed by slot.
    item_links: Vec<Links>,
    /// The bucket each slot is in, indexed by slot.
    bucket_of: Vec<BucketId>,
    buckets: Vec<Bucket>,
    /// Bucket positions inside `order`, indexed by bucket id.
    bucket_links: Vec<Links>,
    /// Bucket ids free for reuse.
    free_buckets: Vec<BucketId>,
    /// Buckets, lowest frequency first.
    order: List,
}

impl Lfu {
    /// An empty LFU.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// `(frequency, slots in arrival order)` for each bucket, lowest frequency first (tests only).
    #[cfg(test)]
    pub(crate) fn buckets(&self) -> Vec<(u64, Vec<Slot>)> {
        self.order
            .collect_slots(&self.bucket_links)
            .into_iter()
            .map(|b| {
                let bucket = self.buckets[b as usize];
                (
                    bucket.frequency,
                    bucket.items.collect_slots(&self.item_links),
                )
            })
            .collect()
    }

    fn new_bucket(&mut self, frequency: u64) -> BucketId {
        let bucket = Bucket {
            frequency,
            items: List::new(),
        };
        if let Some(id) = self.free_buckets.pop() {
            self.buckets[id as usize] = bucket;
            return id;
        }
        // At most one bucket per tracked item plus one, so ids stay below the slot bound (< u32::MAX).
        let id = BucketId::try_from(self.buckets.len()).unwrap_or(NIL - 1);
        self.buckets.push(bucket);
        ensure_slot(&mut self.bucket_links, id);
        id
    }

    /// Append `slot` to bucket `b`'s items.
    fn enter(&mut self, b: BucketId, slot: Slot) {
        self.buckets[b as usize]
            .items
            .push_back(&mut self.item_links, slot);
        self.bucket_of[slot as usize] = b;
    }

    /// Take `slot` out of its bucket, dropping the bucket if it became empty.
    fn leave(&mut self, slot: Slot) {
        let b = self.bucket_of[slot as usize];
        let bucket = &mut self.buckets[b as usize];
        bucket.items.unlink(&mut self.item_links, slot);
        if bucket.items.len() == 0 {
            self.order.unlink(&mut self.bucket_links, b);
            self.free_buckets.push(b);
        }
    }
}

impl Policy for Lfu {
    fn admit(&mut self, slot: Slot, _hash: u64) {
        ensure_slot(&mut self.item_links, slot);
        ensure_slot(&mut self.bucket_of, slot);
        let target = match self.order.front() {
            Some(b) if self.buckets[b as usize].frequency == 1 => b,
            _ => {
                let b = self.new_bucket(1);
                self.order.push_front(&mut self.bucket_links, b);
                b
            }
        };
        self.enter(target, slot);
    }

    fn access(&mut self, slot: Slot) {
        let current = self.bucket_of[slot as usize];
        let next_frequency = self.buckets[current as usize].frequency.saturating_add(1);
        let target = match self.bucket_links[current as usize].next() {
            Some(next) if self.buckets[next as usize].frequency == next_frequency => next,
            _ => {
                let b = self.new_bucket(next_frequency);
                self.order.insert_after(&mut self.bucket_links, current, b);
                b
            }
        };
        // Leave first (the current bucket outlives this: `target` follows it), then enter the next bucket.
        self.leave(slot);
        self.enter(target, slot);
    }

    fn victim(&mut self) -> Option<Slot> {
        let lowest = self.order.front()?;
        self.buckets[lowest as usize].items.front()
    }

    fn remove(&mut self, slot: Slot) {
        self.leave(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfu_frequency_buckets_and_tie_break_by_arrival_table() {
        let mut p = Lfu::new();
        for s in 0..4 {
            p.admit(s, 0);
        }
        assert_eq!(p.buckets(), [(1, vec![0, 1, 2, 3])]);
        assert_eq!(p.victim(), Some(0), "all at freq 1: earliest admitted");

        p.access(2);
        p.access(0);
        assert_eq!(p.buckets(), [(1, vec![1, 3]), (2, vec![2, 0])]);
        assert_eq!(p.victim(), Some(1));

        p.access(2);
        assert_eq!(p.buckets(), [(1, vec![1, 3]), (2, vec![0]), (3, vec![2])]);

        // 1 and 3 reach freq 2 after 0 did: 0 arrived there first and is the tie-break victim once freq 1 is gone.
        p.access(3);
        p.access(1);
        assert_eq!(p.buckets(), [(2, vec![0, 3, 1]), (3, vec![2])]);
        assert_eq!(p.victim(), Some(0));

        // Removing the only item of a bucket drops the bucket.
        p.remove(2);
        assert_eq!(p.buckets(), [(2, vec![0, 3, 1])]);

        // A new admission goes into a fresh freq-1 bucket in front.
        p.admit(2, 0);
        assert_eq!(p.buckets(), [(1, vec![2]), (2, vec![0, 3, 1])]);
        assert_eq!(p.victim(), Some(2));

        // Skipping a frequency creates the bucket in between: 2 goes 1 → 2, joining the back of freq 2.
        p.access(2);
        assert_eq!(p.buckets(), [(2, vec![0, 3, 1, 2])]);
        p.access(1);
        p.access(1);
        assert_eq!(p.buckets(), [(2, vec![0, 3, 2]), (4, vec![1])]);
        p.access(0);
        assert_eq!(p.buckets(), [(2, vec![3, 2]), (3, vec![0]), (4, vec![1])]);

        for s in [3, 2, 0, 1] {
            assert_eq!(p.victim(), Some(s));
            p.remove(s);
        }
        assert_eq!(p.victim(), None);
        assert!(p.buckets().is_empty());
    }
}
