//! 16-byte blocks between byte arrays and SSE registers.

use core::arch::x86_64::{__m128i, _mm_insert_epi32, _mm_set_epi8, _mm_shuffle_epi8};

/// Bytes `b[0..16]` as a register, `b[0]` in the lowest byte: one unaligned load (`bytemuck`'s safe cast stands
/// in for `_mm_loadu_si128`, which takes a raw pointer).
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
pub(super) fn load(b: &[u8; 16]) -> __m128i {
    bytemuck::cast(*b)
}

/// The register as bytes, lowest byte first: the inverse of [`load`].
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
pub(super) fn store(x: __m128i) -> [u8; 16] {
    bytemuck::cast(x)
}

/// The byte shuffle that reverses a block.
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
pub(super) fn reverse_mask() -> __m128i {
    _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
}

/// The block with its 16 bytes in reverse order: GHASH's bit order maps onto the carry-less multiply this way.
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
pub(super) fn reverse(x: __m128i) -> __m128i {
    _mm_shuffle_epi8(x, reverse_mask())
}

/// The counter block `nonce ‖ 0u32` (big-endian counter in the last four bytes).
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
pub(super) fn counter_base(nonce: &[u8; 12]) -> __m128i {
    let mut b = [0u8; 16];
    b[..12].copy_from_slice(nonce);
    load(&b)
}

/// `base` with its counter set to `counter` (GCM's 32-bit big-endian counter, `inc32`).
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
pub(super) fn with_counter(base: __m128i, counter: u32) -> __m128i {
    _mm_insert_epi32::<3>(base, i32::from_ne_bytes(counter.to_be_bytes()))
}
