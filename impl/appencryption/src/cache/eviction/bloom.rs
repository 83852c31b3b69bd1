//! The doorkeeper: a Bloom filter TinyLFU puts in front of its sketch (docs/compatibility.md#eviction-policies, Go
//! `internal.BloomFilter`).

use super::sketch::{next_power_of_two, split};

/// One bit per slot, `k` probes per hash by double hashing.
#[derive(Debug, Clone)]
pub(crate) struct BloomFilter {
    num_hashes: u32,
    mask: u32,
    bits: Vec<u64>,
}

impl BloomFilter {
    /// Sized for `insertions` at false-positive probability `fpp` (TinyLFU: `capacity × 2`, 0.1):
    /// `bits = nextPow2(u32(insertions × −ln fpp / ln²2))` (≥ 1), `k = u32(ln 2 × bits / insertions)` (1 if no
    /// insertions). Capacity 100 → 1024 bits, k = 3; capacity 1000 → 16384 bits, k = 5.
    pub(crate) fn new(insertions: usize, fpp: f64) -> Self {
        let ln2 = std::f64::consts::LN_2;
        let factor = -fpp.ln() / (ln2 * ln2);
        // Same float expressions and truncating conversions as Go, so the sizes agree exactly. (`as` saturates where
        // Go's out-of-range conversion is unspecified; only absurd capacities get there.)
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let (num_bits, num_hashes) = {
            let num_bits = next_power_of_two((insertions as f64 * factor) as u32).max(1);
            let num_hashes = if insertions == 0 {
                1
            } else {
                (ln2 * f64::from(num_bits) / insertions as f64) as u32
            };
            (num_bits, num_hashes)
        };
        Self {
            num_hashes,
            mask: num_bits - 1,
            bits: vec![0; num_bits.div_ceil(64) as usize],
        }
    }

    /// Number of bits (a power of two).
    #[cfg(test)]
    pub(crate) fn num_bits(&self) -> u32 {
        self.mask + 1
    }

    /// Number of probes per hash.
    #[cfg(test)]
    pub(crate) fn num_hashes(&self) -> u32 {
        self.num_hashes
    }

    /// Bit indices probed for `h`: `(h1 + i·h2) & mask` for `i in 0..k`, wrapping.
    fn probes(&self, h: u64) -> impl Iterator<Item = (usize, u64)> + use<> {
        let (h1, h2) = split(h);
        let mask = self.mask;
        (0..self.num_hashes).map(move |i| {
            let bit = h1.wrapping_add(i.wrapping_mul(h2)) & mask;
            ((bit / 64) as usize, 1u64 << (bit % 64))
        })
    }

    /// Set the hash's bits; true iff all of them were already set ("maybe seen before").
    pub(crate) fn put(&mut self, h: u64) -> bool {
        let mut all_set = true;
        for (word, bit) in self.probes(h) {
            all_set &= self.bits[word] & bit != 0;
            self.bits[word] |= bit;
        }
        all_set
    }

    /// True iff all of the hash's bits are set.
    pub(crate) fn contains(&self, h: u64) -> bool {
        self.probes(h).all(|(word, bit)| self.bits[word] & bit != 0)
    }

    /// Clear every bit.
    pub(crate) fn reset(&mut self) {
        self.bits.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bloom_sizes_match_spec_examples() {
        for (capacity, bits, k) in [(100, 1024, 3), (1000, 16384, 5), (1, 16, 5), (0, 1, 1)] {
            let f = BloomFilter::new(capacity * 2, 0.1);
            assert_eq!(
                (f.num_bits(), f.num_hashes()),
                (bits, k),
                "capacity {capacity}"
            );
            assert_eq!(f.bits.len(), (bits as usize).div_ceil(64));
        }
    }

    #[test]
    fn bloom_put_reports_already_present() {
        let mut f = BloomFilter::new(200, 0.1);
        let h = 0xCAFE_CAFE_CAFE_CAFE;
        assert!(!f.contains(h));
        assert!(!f.put(h), "first put: not present before");
        assert!(f.contains(h));
        assert!(f.put(h), "second put: already present");
        f.reset();
        assert!(!f.contains(h));
        assert!(!f.put(h), "after reset: not present again");
    }

    #[test]
    fn bloom_distinct_hashes_mostly_absent() {
        let mut f = BloomFilter::new(2000, 0.1);
        for h in 0..1000u64 {
            f.put(crate::cache::eviction::fnv::CacheKeyHash::cache_key_hash(
                &h,
            ));
        }
        let false_positives = (1000..11000u64)
            .filter(|h| f.contains(crate::cache::eviction::fnv::CacheKeyHash::cache_key_hash(h)))
            .count();
        // Designed for 10% at 2000 insertions; at half load it must be well under that.
        assert!(
            false_positives < 1000,
            "{false_positives} false positives in 10000"
        );
    }
}
