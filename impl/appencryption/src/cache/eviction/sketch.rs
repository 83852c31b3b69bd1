//! The 4-bit Count-Min sketch TinyLFU estimates frequencies with (docs/compatibility.md#eviction-policies, Go
//! `internal.CountMinSketch`).

/// Rows of the sketch; each row's counter for a hash lives in a different 16-bit lane of its word.
const DEPTH: u32 = 4;
/// Clears the bit that `>> 1` shifts into each nibble from its left neighbour.
const RESET_MASK: u64 = 0x7777_7777_7777_7777;

/// Go's `nextPowerOfTwo`: the smallest power of two ≥ `i`, computed with wrapping arithmetic (0 ↦ 0, and values
/// above 2³¹ wrap to 0 too). Shared with the Bloom filter.
pub(crate) fn next_power_of_two(i: u32) -> u32 {
    let mut n = i.wrapping_sub(1);
    n |= n >> 1;
    n |= n >> 2;
    n |= n >> 4;
    n |= n >> 8;
    n |= n >> 16;
    n.wrapping_add(1)
}

/// Low and high 32 bits of a 64-bit hash (Go's `h1, h2 := uint32(h), uint32(h>>32)`).
pub(crate) fn split(h: u64) -> (u32, u32) {
    // Truncations are the point: the two halves of the hash.
    #[allow(clippy::cast_possible_truncation)]
    (h as u32, (h >> 32) as u32)
}

/// Sixteen 4-bit counters per `u64` word, four rows, saturating at 15, halved by [`CountMinSketch::reset`].
#[derive(Debug, Clone)]
pub(crate) struct CountMinSketch {
    counters: Vec<u64>,
    mask: u32,
}

impl CountMinSketch {
    /// `words = max(1, nextPow2(u32(width)) >> 2)`: capacity 100 → 32 words, 1000 → 256, 32767 → 8192.
    pub(crate) fn new(width: usize) -> Self {
        // Go converts `int` to `uint32` by truncation; widths beyond u32 are not reachable (capacity ≤ u32::MAX - 1).
        let width = u32::try_from(width).unwrap_or(u32::MAX);
        let words = (next_power_of_two(width) >> 2).max(1);
        Self {
            counters: vec![0; words as usize],
            mask: words - 1,
        }
    }

    /// Number of `u64` words.
    #[cfg(test)]
    pub(crate) fn words(&self) -> usize {
        self.counters.len()
    }

    /// Word index and bit offset (within the row's 16-bit lane) of the counter for row hash `p`.
    fn position(&self, p: u32) -> (usize, u32) {
        (((p >> 2) & self.mask) as usize, (p & 3) << 2)
    }

    /// Increment the hash's counter in each row, saturating at 15.
    pub(crate) fn add(&mut self, h: u64) {
        let (h1, h2) = split(h);
        for i in 0..DEPTH {
            let (idx, off) = self.position(h1.wrapping_add(i.wrapping_mul(h2)));
            let shift = 16 * i + off;
            let word = &mut self.counters[idx];
            if (*word >> shift) & 0x0F < 15 {
                *word += 1 << shift;
            }
        }
    }

    /// The minimum of the hash's four counters (0..=15).
    pub(crate) fn estimate(&self, h: u64) -> u8 {
        let (h1, h2) = split(h);
        let mut min = 0x0F;
        for i in 0..DEPTH {
            let (idx, off) = self.position(h1.wrapping_add(i.wrapping_mul(h2)));
            let count = (self.counters[idx] >> (16 * i + off)) & 0x0F;
            min = min.min(count);
        }
        // `min` ≤ 15.
        #[allow(clippy::cast_possible_truncation)]
        let min = min as u8;
        min
    }

    /// Halve every counter (the "aging" step).
    pub(crate) fn reset(&mut self) {
        for word in &mut self.counters {
            *word = (*word >> 1) & RESET_MASK;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_power_of_two_matches_go() {
        let cases = [
            (0, 0),
            (1, 1),
            (2, 2),
            (3, 4),
            (958, 1024),
            (1000, 1024),
            (1024, 1024),
            (9585, 16384),
            (32767, 32768),
            (1 << 31, 1 << 31),
            ((1 << 31) + 1, 0),
            (u32::MAX, 0),
        ];
        for (i, want) in cases {
            assert_eq!(next_power_of_two(i), want, "nextPow2({i})");
        }
    }

    #[test]
    fn sketch_sizes_match_spec() {
        for (width, words) in [
            (0, 1),
            (1, 1),
            (4, 1),
            (8, 2),
            (100, 32),
            (1000, 256),
            (32767, 8192),
        ] {
            assert_eq!(CountMinSketch::new(width).words(), words, "width {width}");
        }
    }

    /// Mirrors Go's `TestCountMinSketch`: add i i-times, estimates are exact, reset halves, saturation at 15.
    #[test]
    fn sketch_add_estimate_reset_saturate() {
        const MAX: u64 = 15;
        let mut cm = CountMinSketch::new(MAX as usize);
        for i in 0..MAX {
            for _ in 0..i {
                cm.add(i);
            }
        }
        for i in 0..MAX {
            assert_eq!(u64::from(cm.estimate(i)), i, "estimate({i})");
        }
        cm.reset();
        for i in 0..MAX {
            assert_eq!(
                u64::from(cm.estimate(i)),
                i / 2,
                "after one reset: estimate({i})"
            );
        }
        cm.reset();
        for i in 0..MAX {
            assert_eq!(
                u64::from(cm.estimate(i)),
                i / 4,
                "after two resets: estimate({i})"
            );
        }
        for _ in 0..100 {
            cm.add(1);
        }
        assert_eq!(cm.estimate(1), 15, "counters saturate at 15");
    }

    #[test]
    fn sketch_saturation_does_not_carry_into_neighbours() {
        let mut cm = CountMinSketch::new(1);
        for _ in 0..40 {
            cm.add(0xCAFE_CAFE_CAFE_CAFE);
        }
        assert_eq!(cm.estimate(0xCAFE_CAFE_CAFE_CAFE), 15);
        // All counters in one word: every nibble is either 0 or 15, never an overflowed 16.
        for shift in (0..64).step_by(4) {
            let nibble = (cm.counters[0] >> shift) & 0xF;
            assert!(nibble == 0 || nibble == 15, "nibble at {shift} = {nibble}");
        }
        cm.reset();
        assert_eq!(cm.estimate(0xCAFE_CAFE_CAFE_CAFE), 7);
    }
}
