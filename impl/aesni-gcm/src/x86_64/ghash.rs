//! GHASH (NIST SP 800-38D, §6.4) with the carry-less multiply.
//!
//! It is computed as POLYVAL (RFC 8452, whose appendix A gives the mapping): blocks byte-reversed ([`reverse`]),
//! the hash key `H` byte-reversed and multiplied by `x` ([`mul_x`]), and the result byte-reversed back. POLYVAL's
//! product `a·b·x⁻¹²⁸` is a plain carry-less multiply followed by a Montgomery reduction of two more multiplies by
//! the field's constant ([`reduce`]): a shorter chain of dependent instructions than GHASH's bit-reflected form,
//! which needs a shift of the 256-bit product and a longer reduction. Eight (or four) blocks are hashed with one
//! reduction (`y' = (y+x1)·H⁸ + x2·H⁷ + … + x8·H`, powers in the same sense), as the product and the reduction are
//! linear: only the first block's product waits for the previous step.

use core::arch::x86_64::{
    __m128i, _mm_and_si128, _mm_clmulepi64_si128, _mm_or_si128, _mm_set_epi64x, _mm_setzero_si128,
    _mm_shuffle_epi32, _mm_slli_epi64, _mm_slli_si128, _mm_srli_epi64, _mm_srli_si128,
    _mm_sub_epi64, _mm_xor_si128,
};
use zeroize::Zeroize;

use super::block::{load, reverse};
use super::wide::{self, Powers2};

/// Input lengths from which the powers `H²…H⁴` pay for themselves (one four-block step), and from which `H⁵…H⁸`
/// do (one eight-block step).
const FOUR_POWERS_FROM: usize = 64;
const EIGHT_POWERS_FROM: usize = 128;

/// The hash key `H` and, for longer inputs, its powers up to `H⁸`, byte-reversed. As secret as the AES key for the
/// message's integrity: zeroized when dropped.
pub(super) struct Key {
    /// `powers[i]` is `H^(i+1)`; those not needed for the input's length are zero.
    powers: [__m128i; 8],
}

impl Drop for Key {
    fn drop(&mut self) {
        self.powers.zeroize();
    }
}

impl Key {
    /// The key for hashing `len` bytes, from `H = AES_K(0¹²⁸)`.
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
    #[inline]
    pub(super) fn new(h: __m128i, len: usize) -> Key {
        let mut p = [_mm_setzero_si128(); 8];
        p[0] = mul_x(reverse(h));
        if len >= FOUR_POWERS_FROM {
            p[1] = mul(p[0], p[0]);
            p[2] = mul(p[1], p[0]);
            p[3] = mul(p[1], p[1]);
        }
        if len >= EIGHT_POWERS_FROM {
            p[4] = mul(p[3], p[0]);
            p[5] = mul(p[3], p[1]);
            p[6] = mul(p[3], p[2]);
            p[7] = mul(p[3], p[3]);
        }
        Key { powers: p }
    }

    /// A key with all of `H…H⁸` given (an expanded key's, see `crate::Key`).
    pub(super) fn from_powers(powers: [__m128i; 8]) -> Key {
        Key { powers }
    }

    /// `H`, `H²`, …, `H⁸` (zero beyond what the length asked for).
    pub(super) fn powers(&self) -> &[__m128i; 8] {
        &self.powers
    }

    /// A GHASH over a message of `len` bytes, to be fed in order.
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
    #[inline]
    pub(super) fn start(&self, len: usize) -> State<'_> {
        State {
            key: self,
            y: _mm_setzero_si128(),
            eight: len >= EIGHT_POWERS_FROM,
            four: len >= FOUR_POWERS_FROM,
        }
    }

    /// `GHASH_H(C ‖ 0-padding ‖ len(A)=0 ‖ len(C))` of the ciphertext `c` (no associated data), in byte order.
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
    #[inline]
    pub(super) fn hash(&self, c: &[u8]) -> __m128i {
        let mut state = self.start(c.len());
        let done = state.absorb_groups(c);
        state.finish(&c[done..], c.len())
    }
}

/// A GHASH in progress: the running value `y`, byte-reversed.
pub(super) struct State<'k> {
    key: &'k Key,
    y: __m128i,
    /// Whether the key has `H⁵…H⁸` (eight-block steps) and `H²…H⁴` (four-block steps).
    eight: bool,
    four: bool,
}

impl State<'_> {
    /// Hash the longest prefix of `data` that is a whole number of eight-block groups (or of four-block groups when
    /// the message is too short for eight), and return its length. The rest goes to a later call or to
    /// [`finish`](Self::finish).
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
    #[inline]
    pub(super) fn absorb_groups(&mut self, data: &[u8]) -> usize {
        let (blocks, _) = data.as_chunks::<16>();
        let absorbed = if self.eight {
            self.absorb::<8>(blocks)
        } else if self.four {
            self.absorb::<4>(blocks)
        } else {
            0
        };
        absorbed * 16
    }

    /// Hash the longest prefix of `blocks` that is a whole number of `N`-block groups, one reduction per group
    /// (`y' = (y+x1)·Hᴺ + x2·Hᴺ⁻¹ + … + xN·H`; the key must have `Hᴺ`), and return how many blocks that was.
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
    #[inline]
    fn absorb<const N: usize>(&mut self, blocks: &[[u8; 16]]) -> usize {
        let p = &self.key.powers;
        let (groups, _) = blocks.as_chunks::<N>();
        for group in groups {
            let mut sum = wide(_mm_xor_si128(self.y, reverse(load(&group[0]))), p[N - 1]);
            for (x, h) in group[1..].iter().zip(p[..N - 1].iter().rev()) {
                sum = add(sum, wide(reverse(load(x)), *h));
            }
            self.y = reduce(sum);
        }
        groups.len() * N
    }

    /// Hash the longest prefix of `data` that is a whole number of eight-block steps with the 256-bit code (see
    /// `wide`), and return its length.
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
    #[inline]
    pub(super) fn absorb_steps_wide(&mut self, powers: &Powers2, data: &[u8]) -> usize {
        let (steps, _) = data.as_chunks::<{ wide::STEP }>();
        for step in steps {
            self.y = powers.step(self.y, step);
        }
        steps.len() * wide::STEP
    }

    /// Hash the rest of the message (`rest`, under one group) and the length block of a `len`-byte message, and
    /// return the hash in byte order.
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
    #[inline]
    pub(super) fn finish(mut self, rest: &[u8], len: usize) -> __m128i {
        let p = self.key.powers;
        let (blocks, tail) = rest.as_chunks::<16>();
        let fours = if self.four {
            self.absorb::<4>(blocks)
        } else {
            0
        };
        for x in &blocks[fours..] {
            self.y = mul(_mm_xor_si128(self.y, reverse(load(x))), p[0]);
        }
        if !tail.is_empty() {
            let mut padded = [0u8; 16];
            padded[..tail.len()].copy_from_slice(tail);
            self.y = mul(_mm_xor_si128(self.y, reverse(load(&padded))), p[0]);
        }
        // The length block, byte-reversed: len(C) in bits in the low half, len(A) = 0 in the high half. A message
        // is at most 2^36 bytes (`crate::MAX_LEN`), so its length in bits fits.
        let bits = (len as u64).wrapping_mul(8);
        let lengths = _mm_set_epi64x(0, i64::from_ne_bytes(bits.to_ne_bytes()));
        reverse(mul(_mm_xor_si128(self.y, lengths), p[0]))
    }
}

/// A 256-bit carry-less product, low and high halves.
#[derive(Clone, Copy)]
pub(super) struct Wide {
    pub(super) lo: __m128i,
    pub(super) hi: __m128i,
}

#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
fn add(a: Wide, b: Wide) -> Wide {
    Wide {
        lo: _mm_xor_si128(a.lo, b.lo),
        hi: _mm_xor_si128(a.hi, b.hi),
    }
}

/// The unreduced carry-less product `a·b` (schoolbook, four multiplies).
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
fn wide(a: __m128i, b: __m128i) -> Wide {
    let lo = _mm_clmulepi64_si128::<0x00>(a, b);
    let mid = _mm_xor_si128(
        _mm_clmulepi64_si128::<0x10>(a, b),
        _mm_clmulepi64_si128::<0x01>(a, b),
    );
    let hi = _mm_clmulepi64_si128::<0x11>(a, b);
    Wide {
        lo: _mm_xor_si128(lo, _mm_slli_si128::<8>(mid)),
        hi: _mm_xor_si128(hi, _mm_srli_si128::<8>(mid)),
    }
}

/// POLYVAL's field constant: `x¹²⁸ = x¹²⁷ + x¹²⁶ + x¹²¹ + 1` modulo its polynomial, as (high, low) halves.
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
fn poly() -> __m128i {
    _mm_set_epi64x(
        i64::from_ne_bytes(0xc200_0000_0000_0000_u64.to_ne_bytes()),
        1,
    )
}

/// `v·x` in POLYVAL's field (RFC 8452, appendix A: `mulX_POLYVAL`), in constant time: shift left by one bit and,
/// if a bit fell off the top, add the field's constant.
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
fn mul_x(v: __m128i) -> __m128i {
    let carries = _mm_srli_epi64::<63>(v);
    let shifted = _mm_or_si128(_mm_slli_epi64::<1>(v), _mm_slli_si128::<8>(carries));
    // All ones in both halves if bit 127 was set, else zero.
    let top = _mm_srli_si128::<8>(carries);
    let mask = _mm_shuffle_epi32::<0x44>(_mm_sub_epi64(_mm_setzero_si128(), top));
    _mm_xor_si128(shifted, _mm_and_si128(mask, poly()))
}

/// Reduce a 256-bit product `p` to `p·x⁻¹²⁸` modulo POLYVAL's polynomial: twice, cancel the low 64 bits by adding
/// their multiple of the polynomial (which is 1 modulo `x⁶⁴`, so the multiple is those bits themselves) and drop
/// them; the high half then lines up.
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
pub(super) fn reduce(p: Wide) -> __m128i {
    let c = poly();
    let mut lo = p.lo;
    for _ in 0..2 {
        // (lo >> 64) + (lo_low · x⁶⁴) is the halves swapped; the rest of lo_low · polynomial is the multiply.
        let folded = _mm_clmulepi64_si128::<0x10>(lo, c);
        lo = _mm_xor_si128(_mm_shuffle_epi32::<0x4e>(lo), folded);
    }
    _mm_xor_si128(lo, p.hi)
}

/// `a·b·x⁻¹²⁸` in POLYVAL's field: GHASH's product for byte-reversed blocks when `b` is a power of the key.
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
fn mul(a: __m128i, b: __m128i) -> __m128i {
    reduce(wide(a, b))
}
