//! The bulk of a message on CPUs with VAES and VPCLMULQDQ: AES on two blocks per instruction and GHASH on two
//! blocks per carry-less multiply (256-bit AVX2 registers), eight blocks (128 bytes) per step. The 128-bit code in
//! `aes`, `ghash` and `gcm` does the rest (key set-up, the first and last blocks, the length block).

use core::arch::x86_64::{
    __m128i, __m256i, _mm_setzero_si128, _mm_slli_si128, _mm_srli_si128, _mm_xor_si128,
    _mm256_aesenc_epi128, _mm256_aesenclast_epi128, _mm256_broadcastsi128_si256,
    _mm256_castsi256_si128, _mm256_clmulepi64_epi128, _mm256_extracti128_si256, _mm256_set_m128i,
    _mm256_setzero_si256, _mm256_shuffle_epi8, _mm256_xor_si256,
};
use zeroize::Zeroize;

use super::aes::RoundKeys;
use super::block::{reverse_mask, with_counter};
use super::ghash::{self, Wide};

/// Bytes per step: eight blocks.
pub(super) const STEP: usize = 128;

/// The 15 round keys, each in both halves of a 256-bit register. Zeroized when dropped.
pub(super) struct RoundKeys2(pub(super) [__m256i; 15]);

impl Drop for RoundKeys2 {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl RoundKeys2 {
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
    #[inline]
    pub(super) fn new(rk: &RoundKeys) -> RoundKeys2 {
        let mut wide = [_mm256_setzero_si256(); 15];
        for (w, k) in wide.iter_mut().zip(rk) {
            *w = _mm256_broadcastsi128_si256(*k);
        }
        RoundKeys2(wide)
    }

    /// The keystream for counters `counter..counter + 8` of the message whose counter blocks are `base`.
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
    #[inline]
    pub(super) fn keystream(&self, base: __m128i, counter: u32) -> [__m256i; 4] {
        let mut blocks = [_mm256_setzero_si256(); 4];
        let mut c = counter;
        for b in blocks.iter_mut() {
            let low = with_counter(base, c);
            let high = with_counter(base, c.wrapping_add(1));
            *b = _mm256_set_m128i(high, low);
            c = c.wrapping_add(2);
        }
        let rk = &self.0;
        for b in blocks.iter_mut() {
            *b = _mm256_xor_si256(*b, rk[0]);
        }
        for key in &rk[1..14] {
            for b in blocks.iter_mut() {
                *b = _mm256_aesenc_epi128(*b, *key);
            }
        }
        for b in blocks.iter_mut() {
            *b = _mm256_aesenclast_epi128(*b, rk[14]);
        }
        blocks
    }
}

/// XOR eight keystream blocks into 128 bytes.
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
#[inline]
pub(super) fn xor_step(data: &mut [u8; STEP], keystream: &[__m256i; 4]) {
    let (pairs, _) = data.as_chunks_mut::<32>();
    for (pair, k) in pairs.iter_mut().zip(keystream) {
        let x: __m256i = bytemuck::cast(*pair);
        *pair = bytemuck::cast(_mm256_xor_si256(x, *k));
    }
}

/// Eight keystream blocks as 128-bit blocks, in order (for a last step shorter than eight blocks).
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
#[inline]
pub(super) fn blocks(keystream: &[__m256i; 4]) -> [__m128i; 8] {
    let mut out = [_mm_setzero_si128(); 8];
    for (pair, k) in out.as_chunks_mut::<2>().0.iter_mut().zip(keystream) {
        *pair = [
            _mm256_castsi256_si128(*k),
            _mm256_extracti128_si256::<1>(*k),
        ];
    }
    out
}

/// `H⁸…H¹` in pairs, for the blocks of a step in order: `(H⁸, H⁷)`, `(H⁶, H⁵)`, `(H⁴, H³)`, `(H², H¹)`, the first
/// of each pair in the low half. Zeroized when dropped.
pub(super) struct Powers2([__m256i; 4]);

impl Drop for Powers2 {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Powers2 {
    /// From `powers[i] = H^(i+1)`, byte-reversed (see `ghash`).
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
    #[inline]
    pub(super) fn new(powers: &[__m128i; 8]) -> Powers2 {
        let mut pairs = [_mm256_setzero_si256(); 4];
        for (i, pair) in pairs.iter_mut().enumerate() {
            *pair = _mm256_set_m128i(powers[6 - 2 * i], powers[7 - 2 * i]);
        }
        Powers2(pairs)
    }

    /// One GHASH step over eight blocks: `(y + x1)·H⁸ + x2·H⁷ + … + x8·H`, with `y` byte-reversed.
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
    #[inline]
    pub(super) fn step(&self, y: __m128i, data: &[u8; STEP]) -> __m128i {
        let reverse = _mm256_broadcastsi128_si256(reverse_mask());
        let (pairs, _) = data.as_chunks::<32>();
        let mut lo = _mm256_setzero_si256();
        let mut mid = _mm256_setzero_si256();
        let mut hi = _mm256_setzero_si256();
        let mut carry = _mm256_set_m128i(_mm_setzero_si128(), y);
        for (pair, h) in pairs.iter().zip(&self.0) {
            let x: __m256i = bytemuck::cast(*pair);
            let x = _mm256_xor_si256(_mm256_shuffle_epi8(x, reverse), carry);
            carry = _mm256_setzero_si256();
            lo = _mm256_xor_si256(lo, _mm256_clmulepi64_epi128::<0x00>(x, *h));
            hi = _mm256_xor_si256(hi, _mm256_clmulepi64_epi128::<0x11>(x, *h));
            mid = _mm256_xor_si256(mid, _mm256_clmulepi64_epi128::<0x01>(x, *h));
            mid = _mm256_xor_si256(mid, _mm256_clmulepi64_epi128::<0x10>(x, *h));
        }
        let lo = fold(lo);
        let mid = fold(mid);
        let hi = fold(hi);
        ghash::reduce(Wide {
            lo: _mm_xor_si128(lo, _mm_slli_si128::<8>(mid)),
            hi: _mm_xor_si128(hi, _mm_srli_si128::<8>(mid)),
        })
    }
}

/// The XOR of a register's two halves.
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
#[inline]
fn fold(x: __m256i) -> __m128i {
    _mm_xor_si128(_mm256_castsi256_si128(x), _mm256_extracti128_si256::<1>(x))
}
