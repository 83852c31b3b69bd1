//! AES-256-GCM seal and open under a key used for this one call (NIST SP 800-38D, 96-bit nonce, no associated
//! data).

use core::arch::x86_64::{__m128i, _mm_setzero_si128, _mm_xor_si128};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::aes::{self, RoundKeys};
use super::block::{counter_base, load, store, with_counter};
use super::ghash;
use super::wide::{self, Powers2, RoundKeys2};
use crate::key::Expanded;

/// Blocks encrypted per AES batch: enough independent blocks to keep the AES units busy.
const BATCH: usize = 8;
/// Keystream blocks that come out of the first batch, beside `H` and `E_K(J0)`.
const FIRST_KEYSTREAM: usize = BATCH - 2;

/// Where a call's key comes from.
#[derive(Clone, Copy)]
pub(crate) enum KeySource<'a> {
    /// The raw key, used for this call only: expanded now.
    Once(&'a [u8; 32]),
    /// A schedule expanded earlier ([`expand`]).
    Expanded(&'a Expanded),
}

/// Expand `key` for repeated use: its round keys and `H…H⁸`, as bytes (see [`Expanded`]).
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
pub(crate) fn expand(key: &[u8; 32]) -> Expanded {
    let mut rk = aes::expand(key);
    let mut h = [_mm_setzero_si128()];
    aes::encrypt(&rk, &mut h);
    // Any length from 128 bytes makes the key compute all eight powers.
    let hash_key = ghash::Key::new(h[0], usize::MAX);
    let mut expanded = Expanded::default();
    for (out, k) in expanded.round_keys.iter_mut().zip(&rk) {
        *out = store(*k);
    }
    for (out, p) in expanded.powers.iter_mut().zip(hash_key.powers()) {
        *out = store(*p);
    }
    rk.zeroize();
    h.zeroize();
    expanded
}

/// What a call derives from its key before touching the message: round keys, the GHASH key, the tag mask
/// `E_K(J0)` and the first keystream blocks (counters 2..8), all from one AES batch. Zeroized when dropped.
struct Setup {
    rk: RoundKeys,
    hash_key: ghash::Key,
    tag_mask: __m128i,
    keystream: [__m128i; FIRST_KEYSTREAM],
    counters: __m128i,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.rk.zeroize();
        self.tag_mask.zeroize();
        self.keystream.zeroize();
    }
}

impl Setup {
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
    #[inline]
    fn new(key: KeySource<'_>, nonce: &[u8; 12], len: usize) -> Setup {
        let (rk, expanded_hash_key) = match key {
            KeySource::Once(key) => (aes::expand(key), None),
            KeySource::Expanded(expanded) => {
                let mut rk = [_mm_setzero_si128(); 15];
                for (k, bytes) in rk.iter_mut().zip(&expanded.round_keys) {
                    *k = load(bytes);
                }
                let mut powers = [_mm_setzero_si128(); 8];
                for (p, bytes) in powers.iter_mut().zip(&expanded.powers) {
                    *p = load(bytes);
                }
                (rk, Some(ghash::Key::from_powers(powers)))
            }
        };
        let counters = counter_base(nonce);
        let mut first = [_mm_setzero_si128(); BATCH];
        for (i, b) in first.iter_mut().enumerate().skip(1) {
            // Counter 1 is J0 (the tag mask); the message's keystream starts at 2.
            *b = with_counter(counters, i as u32);
        }
        aes::encrypt(&rk, &mut first);
        let [h, tag_mask, k2, k3, k4, k5, k6, k7] = first;
        first.zeroize();
        Setup {
            // An expanded key's H (block 0 again) is not needed: its powers came with it.
            hash_key: expanded_hash_key.unwrap_or_else(|| ghash::Key::new(h, len)),
            rk,
            tag_mask,
            keystream: [k2, k3, k4, k5, k6, k7],
            counters,
        }
    }

    /// XOR the keystream (counter 2 onwards) into `data`. With `hash`, also hash the ciphertext as it is made
    /// (sealing: one pass over the data, so that the AES and carry-less-multiply units work side by side), and
    /// return the tag.
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
    #[inline]
    fn apply_keystream(&self, data: &mut [u8], hash: bool) -> Option<[u8; 16]> {
        let len = data.len();
        let mut state = hash.then(|| self.hash_key.start(len));
        let mut hashed = 0;
        let first = len.min(FIRST_KEYSTREAM * 16);
        xor_blocks(&mut data[..first], &self.keystream);
        // The first batch covered counters 2..8. A message has at most 2^32 - 2 blocks, so the 32-bit counter
        // does not wrap (`crate::MAX_LEN`, checked by the caller).
        let mut counter = BATCH as u32;
        let mut done = first;
        while done < len {
            let end = len.min(done + BATCH * 16);
            let mut ks = [_mm_setzero_si128(); BATCH];
            for b in ks.iter_mut() {
                *b = with_counter(self.counters, counter);
                counter = counter.wrapping_add(1);
            }
            aes::encrypt(&self.rk, &mut ks);
            xor_blocks(&mut data[done..end], &ks);
            done = end;
            if let Some(state) = state.as_mut() {
                hashed += state.absorb_groups(&data[hashed..done]);
            }
        }
        state.map(|state| {
            store(_mm_xor_si128(
                state.finish(&data[hashed..], len),
                self.tag_mask,
            ))
        })
    }

    /// The tag of ciphertext `c`.
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
    #[inline]
    fn tag(&self, c: &[u8]) -> [u8; 16] {
        store(_mm_xor_si128(self.hash_key.hash(c), self.tag_mask))
    }
}

/// The 256-bit variants: whole eight-block steps by `wide`, the rest as above.
impl Setup {
    /// As [`apply_keystream`](Self::apply_keystream).
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
    #[inline]
    fn apply_keystream_wide(&self, data: &mut [u8], hash: bool) -> Option<[u8; 16]> {
        let len = data.len();
        let rk = RoundKeys2::new(&self.rk);
        // A step happens only past the first batch's 96 bytes, so the key has H⁸ whenever one is hashed.
        let powers = (hash && len >= wide::STEP).then(|| Powers2::new(self.hash_key.powers()));
        let mut state = hash.then(|| self.hash_key.start(len));
        let mut hashed = 0;
        let first = len.min(FIRST_KEYSTREAM * 16);
        xor_blocks(&mut data[..first], &self.keystream);
        // Counters as in `apply_keystream`.
        let mut counter = BATCH as u32;
        let mut done = first;
        // Each step's keystream is computed before the previous step's ciphertext is hashed, so that the AES
        // work, which does not wait on the hash, is ahead of it in the instruction stream.
        let mut next = (done < len).then(|| rk.keystream(self.counters, counter));
        while let Some(keystream) = next.take() {
            match data
                .get_mut(done..done + wide::STEP)
                .map(<&mut [u8; wide::STEP]>::try_from)
            {
                Some(Ok(step)) => {
                    wide::xor_step(step, &keystream);
                    counter = counter.wrapping_add(BATCH as u32);
                    done += wide::STEP;
                    if done < len {
                        next = Some(rk.keystream(self.counters, counter));
                    }
                    if let (Some(state), Some(powers)) = (state.as_mut(), powers.as_ref()) {
                        hashed += state.absorb_steps_wide(powers, &data[hashed..done]);
                    }
                }
                // The last, partial step.
                _ => xor_blocks(&mut data[done..], &wide::blocks(&keystream)),
            }
        }
        state.map(|mut state| {
            hashed += state.absorb_groups(&data[hashed..]);
            store(_mm_xor_si128(
                state.finish(&data[hashed..], len),
                self.tag_mask,
            ))
        })
    }

    /// As [`tag`](Self::tag).
    #[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
    #[inline]
    fn tag_wide(&self, c: &[u8]) -> [u8; 16] {
        let mut state = self.hash_key.start(c.len());
        let mut hashed = 0;
        if c.len() >= wide::STEP {
            hashed = state.absorb_steps_wide(&Powers2::new(self.hash_key.powers()), c);
        }
        hashed += state.absorb_groups(&c[hashed..]);
        store(_mm_xor_si128(
            state.finish(&c[hashed..], c.len()),
            self.tag_mask,
        ))
    }
}

/// XOR `keystream` into `data`, block by block (a short last block takes the front of its keystream block).
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
#[inline]
fn xor_blocks(data: &mut [u8], keystream: &[__m128i]) {
    let (blocks, tail) = data.as_chunks_mut::<16>();
    let mut ks = keystream.iter();
    for (block, k) in blocks.iter_mut().zip(&mut ks) {
        *block = store(_mm_xor_si128(load(block), *k));
    }
    if let Some(k) = ks.next().filter(|_| !tail.is_empty()) {
        let mut padded = [0u8; 16];
        padded[..tail.len()].copy_from_slice(tail);
        let mixed = store(_mm_xor_si128(load(&padded), *k));
        tail.copy_from_slice(&mixed[..tail.len()]);
        padded.zeroize();
    }
}

/// Whether the computed tag `expected` equals the received `tag`, compared in constant time; `expected` is wiped.
fn tag_matches(mut expected: [u8; 16], tag: &[u8; 16]) -> bool {
    let matched = bool::from(expected.ct_eq(tag));
    expected.zeroize();
    matched
}

/// Encrypt `in_out` in place and return the tag. The caller has checked the length against GCM's limit.
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
pub(crate) fn seal(key: KeySource<'_>, nonce: &[u8; 12], in_out: &mut [u8]) -> [u8; 16] {
    let setup = Setup::new(key, nonce, in_out.len());
    setup
        .apply_keystream(in_out, true)
        .unwrap_or_else(|| setup.tag(in_out))
}

/// Verify `tag` over the ciphertext in `in_out` (in constant time), and only if it matches decrypt it in place.
/// Returns whether it matched.
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx")]
pub(crate) fn open(
    key: KeySource<'_>,
    nonce: &[u8; 12],
    in_out: &mut [u8],
    tag: &[u8; 16],
) -> bool {
    let setup = Setup::new(key, nonce, in_out.len());
    let matched = tag_matches(setup.tag(in_out), tag);
    if matched {
        setup.apply_keystream(in_out, false);
    }
    matched
}

/// [`seal`] with the 256-bit code for the bulk (CPUs with VAES and VPCLMULQDQ).
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
pub(crate) fn seal_wide(key: KeySource<'_>, nonce: &[u8; 12], in_out: &mut [u8]) -> [u8; 16] {
    let setup = Setup::new(key, nonce, in_out.len());
    setup
        .apply_keystream_wide(in_out, true)
        .unwrap_or_else(|| setup.tag_wide(in_out))
}

/// [`open`] with the 256-bit code for the bulk.
#[target_feature(enable = "aes,pclmulqdq,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")]
pub(crate) fn open_wide(
    key: KeySource<'_>,
    nonce: &[u8; 12],
    in_out: &mut [u8],
    tag: &[u8; 16],
) -> bool {
    let setup = Setup::new(key, nonce, in_out.len());
    let matched = tag_matches(setup.tag_wide(in_out), tag);
    if matched {
        setup.apply_keystream_wide(in_out, false);
    }
    matched
}
