//! AES-256 on AES-NI: key expansion and encryption of a few blocks at once.

use core::arch::x86_64::{
    __m128i, _mm_aesenc_si128, _mm_aesenclast_si128, _mm_set_epi8, _mm_set1_epi32,
    _mm_setzero_si128, _mm_shuffle_epi8, _mm_slli_si128, _mm_xor_si128,
};

use super::block::load;

/// AES-256's 15 round keys.
pub(super) type RoundKeys = [__m128i; 15];

/// `[w0, w1, w2, w3]` → `[w0, w0^w1, w0^w1^w2, w0^w1^w2^w3]`: the running XOR of one key-schedule step.
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
fn running_xor(mut t: __m128i) -> __m128i {
    let mut s = _mm_slli_si128::<4>(t);
    t = _mm_xor_si128(t, s);
    s = _mm_slli_si128::<4>(s);
    t = _mm_xor_si128(t, s);
    s = _mm_slli_si128::<4>(s);
    _mm_xor_si128(t, s)
}

/// Expand a 256-bit key (FIPS 197, §5.2).
///
/// The S-box step of the schedule (`SubWord`, with `RotWord` and the round constant on alternate steps) is done
/// with `AESENCLAST` on a block whose four columns are all the last word of the previous key: `ShiftRows` leaves
/// such a block unchanged, so `AESENCLAST` computes `SubWord` of that word in every column, and its round-key
/// operand adds the round constant. `AESKEYGENASSIST`, the instruction made for this, is microcoded on AMD CPUs
/// and several times slower.
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
pub(super) fn expand(key: &[u8; 32]) -> RoundKeys {
    // Byte shuffles: broadcast the last word (bytes 12..16) rotated by one byte (`RotWord`), or as it is.
    let rotated_last_word = _mm_set_epi8(
        12, 15, 14, 13, 12, 15, 14, 13, 12, 15, 14, 13, 12, 15, 14, 13,
    );
    let last_word = _mm_set_epi8(
        15, 14, 13, 12, 15, 14, 13, 12, 15, 14, 13, 12, 15, 14, 13, 12,
    );
    let (first, second) = key.split_at(16);
    let (Ok(first), Ok(second)) = (<&[u8; 16]>::try_from(first), <&[u8; 16]>::try_from(second))
    else {
        unreachable!("a 32-byte key splits into two 16-byte halves")
    };
    let mut even = load(first);
    let mut odd = load(second);
    let mut rk = [_mm_setzero_si128(); 15];
    rk[0] = even;
    rk[1] = odd;
    let mut rcon = 1;
    let mut i = 2;
    loop {
        let sub = _mm_aesenclast_si128(
            _mm_shuffle_epi8(odd, rotated_last_word),
            _mm_set1_epi32(rcon),
        );
        even = _mm_xor_si128(running_xor(even), sub);
        rk[i] = even;
        if i == 14 {
            return rk;
        }
        let sub = _mm_aesenclast_si128(_mm_shuffle_epi8(even, last_word), _mm_setzero_si128());
        odd = _mm_xor_si128(running_xor(odd), sub);
        rk[i + 1] = odd;
        i += 2;
        rcon <<= 1;
    }
}

/// Encrypt `N` blocks in place, interleaved so that the AES units work on all of them at once.
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
pub(super) fn encrypt<const N: usize>(rk: &RoundKeys, blocks: &mut [__m128i; N]) {
    for b in blocks.iter_mut() {
        *b = _mm_xor_si128(*b, rk[0]);
    }
    for key in &rk[1..14] {
        for b in blocks.iter_mut() {
            *b = _mm_aesenc_si128(*b, *key);
        }
    }
    for b in blocks.iter_mut() {
        *b = _mm_aesenclast_si128(*b, rk[14]);
    }
}
