//! The injected randomness handle (docs/architecture.md#injected-clock-and-randomness).
//!
//! Every byte of randomness the crate consumes — AEAD nonces, new key material — is drawn through a
//! [`SecureRandom`], never from a global. Production code uses [`ThreadLocalRandom`] (the default) or
//! [`OsRandom`]; tests and instruction-count benches inject [`SeededRandom`] so that their runs are reproducible.

use std::sync::Arc;

use crate::error::Error;
#[cfg(any(test, feature = "test-util"))]
use crate::sync::atomic::{AtomicU64, Ordering};

/// A source of cryptographically secure random bytes.
///
/// Implementations must be safe to call from many threads at once and must either fill the whole buffer or fail;
/// a partially filled buffer must never be reported as success. Failures are reported as
/// [`Error::RandomSource`], and the caller aborts the operation (no encryption ever proceeds with a weak nonce).
pub trait SecureRandom: Send + Sync + 'static {
    /// Fill `buf` entirely with random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error>;
}

impl<R: SecureRandom + ?Sized> SecureRandom for Box<R> {
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        (**self).fill(buf)
    }
}

impl<R: SecureRandom + ?Sized> SecureRandom for Arc<R> {
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        (**self).fill(buf)
    }
}

/// The operating system's CSPRNG (`getrandom(2)` on Linux), through the `getrandom` crate: one syscall per call.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl SecureRandom for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        getrandom::fill(buf).map_err(|e| Error::RandomSource(e.to_string()))
    }
}

/// A per-thread userspace CSPRNG seeded from the OS: the default.
///
/// Each thread keeps a 32-byte AES-256 key, seeded from [`OsRandom`], and runs the "fast key erasure"
/// construction over AES-256 in counter mode: the keystream under that key yields a fresh key (replacing the old
/// one at once, so earlier output cannot be recomputed from a later state) followed by output bytes. Output is
/// produced 512 bytes at a time into a per-thread pool and handed out front to back; every byte handed
/// out is wiped from the pool at once, so the state never holds past output. Requests larger than half the pool
/// bypass it and get their own key-erasure step. No syscall per call — with the OS RNG, encrypt would pay one
/// `getrandom` for every data-row key and nonce — and one key schedule per several requests instead of one per
/// request. AES rather than ChaCha20 because the AES instructions make a key schedule plus a handful of blocks
/// several times cheaper here (measured: `rng/fill_56` in the `appencryption_wire` bench).
///
/// The key is replaced by fresh OS randomness after every 64 KiB of output (128 pool refills, checked at each
/// refill, so a call served from the pool pays nothing for it): whoever learns the state at one moment can predict
/// at most the output until the next reseed. System and intermediate keys do not come from here at all: the
/// factory draws them from [`OsRandom`] (see [`KeyMode`](crate::KeyMode) for what the state reveals).
///
/// The key and the pool live in a [`securememory::ForkSafeBuffer`]: locked, excluded from core dumps, and zeroed
/// by the kernel in a forked child (`MADV_WIPEONFORK`), where a zero "seeded" flag makes the child reseed from the
/// OS and drop the (wiped) pool instead of repeating its parent's stream (which would repeat AES-GCM nonces). Where
/// that buffer cannot be had (a kernel before Linux 4.14, or no lockable memory), every call falls back to the OS
/// RNG, as does a call made while the thread is being torn down (from another thread-local's destructor, after
/// this state is gone).
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadLocalRandom;

/// Output bytes produced per key-erasure step and served from the thread's pool.
#[cfg(not(loom))]
const POOL_LEN: usize = 512;
/// Key-erasure steps (pool refills, or large requests counted in pool lengths) between reseeds from the OS:
/// 128 × 512 bytes = 64 KiB of output.
#[cfg(not(loom))]
const RESEED_AFTER_STEPS: u8 = 128;
// Layout of the thread state: key, pool, pool position (u16 LE: bytes already handed out), steps since the last
// seed, "seeded" flag.
#[cfg(not(loom))]
const KEY_END: usize = 32;
#[cfg(not(loom))]
const POOL_END: usize = KEY_END + POOL_LEN;
#[cfg(not(loom))]
const POS_END: usize = POOL_END + 2;
#[cfg(not(loom))]
const STEPS_END: usize = POS_END + 1;
#[cfg(not(loom))]
const STATE_LEN: usize = STEPS_END + 1;

#[cfg(not(loom))]
thread_local! {
    /// `Ok(None)`: not created yet; `Err(())`: unavailable on this system, use the OS RNG.
    static STATE: std::cell::RefCell<Result<Option<securememory::ForkSafeBuffer>, ()>> =
        const { std::cell::RefCell::new(Ok(None)) };
}

#[cfg(not(loom))]
impl SecureRandom for ThreadLocalRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        // `try_with`/`try_borrow_mut`, not `with_borrow_mut`: called from a thread-local destructor after this
        // state was destroyed, or re-entered, the OS serves the call instead of a panic (which would abort there).
        STATE
            .try_with(|cell| match cell.try_borrow_mut() {
                Ok(mut state) => fill_from(&mut state, buf),
                Err(_) => OsRandom.fill(buf),
            })
            .unwrap_or_else(|_| OsRandom.fill(buf))
    }
}

/// Serve `buf` from the thread's state, creating it on first use.
#[cfg(not(loom))]
fn fill_from(
    state: &mut Result<Option<securememory::ForkSafeBuffer>, ()>,
    buf: &mut [u8],
) -> Result<(), Error> {
    if let Ok(None) = state {
        *state = securememory::ForkSafeBuffer::new(STATE_LEN)
            .map(Some)
            .map_err(|e| {
                tracing::debug!(error = %e, "no fork-safe memory for the thread RNG; using the OS RNG");
            });
    }
    let Ok(Some(buffer)) = state else {
        return OsRandom.fill(buf);
    };
    draw(buffer.bytes_mut(), buf)
}

/// Serve `out` from a thread state laid out as above, (re)seeding first if the state is all zeros (new, or wiped
/// in a forked child).
#[cfg(not(loom))]
fn draw(state: &mut [u8], out: &mut [u8]) -> Result<(), Error> {
    let (key, rest) = state.split_at_mut(KEY_END);
    let (pool, rest) = rest.split_at_mut(POOL_LEN);
    let (pos, rest) = rest.split_at_mut(POS_END - POOL_END);
    let (steps, seeded) = rest.split_at_mut(STEPS_END - POS_END);
    if seeded[0] == 0 {
        // New, or wiped by a fork: (re)seed from the OS; the pool is empty.
        OsRandom.fill(key)?;
        seeded[0] = 1;
        steps[0] = 0;
        pos.copy_from_slice(&pool_position(POOL_LEN));
    }
    serve(key, pool, pos, &mut steps[0], out)
}

#[cfg(not(loom))]
fn pool_position(used: usize) -> [u8; 2] {
    u16::try_from(used)
        .unwrap_or_else(|_| unreachable!("the pool is smaller than 64 KiB"))
        .to_le_bytes()
}

/// Fill `out` from the pool (refilling it when it runs short) or, for a large request, straight from a
/// key-erasure step. Bytes handed out are wiped from the pool. `steps` counts key-erasure steps since the last
/// seed (see [`RESEED_AFTER_STEPS`]).
#[cfg(not(loom))]
fn serve(
    key: &mut [u8],
    pool: &mut [u8],
    pos: &mut [u8],
    steps: &mut u8,
    out: &mut [u8],
) -> Result<(), Error> {
    use zeroize::Zeroize;

    if out.len() > POOL_LEN / 2 {
        return key_erasure_step(key, steps, out);
    }
    let mut used = usize::from(u16::from_le_bytes([pos[0], pos[1]])).min(POOL_LEN);
    if POOL_LEN - used < out.len() {
        key_erasure_step(key, steps, pool)?;
        used = 0;
    }
    let taken = &mut pool[used..used + out.len()];
    out.copy_from_slice(taken);
    taken.zeroize();
    pos.copy_from_slice(&pool_position(used + out.len()));
    Ok(())
}

/// [`fast_key_erasure`], after replacing the key with fresh OS randomness if [`RESEED_AFTER_STEPS`] steps' worth
/// of output came from it. A large `out` counts as one step per pool length.
#[cfg(not(loom))]
fn key_erasure_step(key: &mut [u8], steps: &mut u8, out: &mut [u8]) -> Result<(), Error> {
    if *steps >= RESEED_AFTER_STEPS {
        OsRandom.fill(key)?;
        *steps = 0;
    }
    let cost = u8::try_from(out.len().div_ceil(POOL_LEN)).unwrap_or(u8::MAX);
    *steps = steps.saturating_add(cost);
    fast_key_erasure(key, out);
    Ok(())
}

/// Replace `key` by the first two blocks of AES-256-CTR(key) and fill `out` with the blocks after them. Blocks
/// are encrypted in batches so the AES pipeline overlaps them, and copied out a batch at a time.
#[cfg(not(loom))]
fn fast_key_erasure(key: &mut [u8], out: &mut [u8]) {
    use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
    use zeroize::Zeroize;

    // One pool refill (two key blocks and 512 output bytes) is one call, so the AES pipeline stays full.
    const BATCH: usize = (KEY_END + POOL_LEN) / 16;
    const BLOCK: usize = 16;
    // Encrypt-only: the full `Aes256` also expands (and on drop wipes) decryption round keys.
    let key_bytes: &[u8; 32] = (&*key)
        .try_into()
        .unwrap_or_else(|_| unreachable!("32-byte key"));
    let mut key_array = Array::from(*key_bytes);
    let cipher = aes::Aes256Enc::new(&key_array);
    key_array.zeroize();
    let mut counter: u128 = 0;
    let mut blocks = [Array::<u8, _>::default(); BATCH];
    let mut next_batch = |blocks: &mut [Array<u8, _>; BATCH]| {
        for block in blocks.iter_mut() {
            *block = Array::from(counter.to_le_bytes());
            counter += 1;
        }
        cipher.encrypt_blocks(blocks);
    };
    // The first batch: two blocks of new key, then output.
    next_batch(&mut blocks);
    key[..BLOCK].copy_from_slice(&blocks[0]);
    key[BLOCK..].copy_from_slice(&blocks[1]);
    let mut available = &blocks[2..];
    let mut written = 0;
    loop {
        for block in available {
            let n = BLOCK.min(out.len() - written);
            out[written..written + n].copy_from_slice(&block[..n]);
            written += n;
        }
        if written == out.len() {
            break;
        }
        next_batch(&mut blocks);
        available = &blocks[..];
    }
    blocks.iter_mut().for_each(|b| b.zeroize());
}

/// Under loom the thread-local CSPRNG is not modelled: it forwards to the OS.
#[cfg(loom)]
impl SecureRandom for ThreadLocalRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        OsRandom.fill(buf)
    }
}

/// A deterministic, seeded generator for tests and instruction-count benches.
///
/// **Not for production: its output is predictable from the seed, so nonces and keys drawn from it give no
/// security at all.** It exists so that property tests replay exactly and benches do not measure the kernel.
///
/// The stream is SplitMix64 evaluated in counter mode: 64-bit word `i` of the stream is
/// `splitmix64_mix(seed + (i + 1) * 0x9E37_79B9_7F4A_7C15)`, emitted little-endian. Each [`fill`](Self::fill)
/// reserves whole words with one atomic add, so concurrent callers never receive the same bytes; the bytes left
/// over from a fill's last word are discarded. A single-threaded sequence of fills is fully reproducible.
#[cfg(any(test, feature = "test-util"))]
#[derive(Debug)]
pub struct SeededRandom {
    seed: u64,
    next_word: AtomicU64,
}

#[cfg(any(test, feature = "test-util"))]
impl SeededRandom {
    /// A generator whose stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            next_word: AtomicU64::new(0),
        }
    }
}

/// SplitMix64's output function (Steele, Lea, Flood 2014).
#[cfg(any(test, feature = "test-util"))]
fn splitmix64_mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(any(test, feature = "test-util"))]
impl SecureRandom for SeededRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
        // `usize` is at most 64 bits on every supported target, so the word count fits.
        let words = u64::try_from(buf.len().div_ceil(8)).unwrap_or(u64::MAX);
        // Relaxed: the counter only hands out disjoint word ranges; it orders no other memory.
        let first = self.next_word.fetch_add(words, Ordering::Relaxed);
        let mut index = first;
        for chunk in buf.chunks_mut(8) {
            index = index.wrapping_add(1);
            let word = splitmix64_mix(self.seed.wrapping_add(index.wrapping_mul(GOLDEN_GAMMA)));
            let bytes = word.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

// The thread RNG's internals are not built under loom (it forwards to the OS there).
#[cfg(all(test, not(loom)))]
mod tests {
    /// Known answer: AES-256 under the zero key encrypts the zero block (counter 0) to FIPS-197's
    /// `dc95c078…`, which becomes the first half of the next key; output blocks are distinct from key blocks.
    #[test]
    fn fast_key_erasure_known_answer_and_key_replacement() {
        let mut key = [0u8; 32];
        let mut out = [0u8; 40];
        fast_key_erasure(&mut key, &mut out);
        assert_eq!(hex::encode(&key[..16]), "dc95c078a2408989ad48a21492842087");
        assert_ne!(&key[16..], &key[..16]);
        assert_ne!(&out[..16], &key[..16]);
        assert_ne!(&out[..16], &out[16..32]);
        let previous = key;
        let mut again = [0u8; 40];
        fast_key_erasure(&mut key, &mut again);
        assert_ne!(key, previous, "the key changes on every call");
        assert_ne!(again, out);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "the thread RNG state is a ForkSafeBuffer: mmap, mlock and madvise, which Miri lacks"
    )]
    fn thread_local_random_gives_fresh_bytes_per_call_and_per_thread() {
        let mut a = [0u8; 56];
        let mut b = [0u8; 56];
        ThreadLocalRandom.fill(&mut a).unwrap();
        ThreadLocalRandom.fill(&mut b).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 56]);
        let other = std::thread::spawn(|| {
            let mut c = [0u8; 56];
            ThreadLocalRandom.fill(&mut c).unwrap();
            c
        })
        .join()
        .unwrap();
        assert_ne!(other, a);
        assert_ne!(other, b);
        // Sizes that are not a multiple of the ChaCha block, and empty requests.
        for len in [0, 1, 31, 64, 65, 1000] {
            let mut v = vec![0u8; len];
            ThreadLocalRandom.fill(&mut v).unwrap();
            if len >= 16 {
                assert!(v.iter().any(|&x| x != 0), "len {len}");
            }
        }
    }

    #[test]
    fn pooled_output_never_repeats_and_is_wiped_from_the_pool() {
        let mut key = [7u8; 32];
        let mut pool = [0u8; POOL_LEN];
        let mut pos = pool_position(POOL_LEN);
        let mut steps = 0;
        let mut seen = std::collections::HashSet::new();
        // Enough requests to refill the pool several times, including ones that straddle a refill (56 does not
        // divide the 512-byte pool). Miri interprets every AES round, so it checks 4 refills instead of 22.
        let requests = if cfg!(miri) { 40 } else { 200 };
        for i in 0..requests {
            let mut out = [0u8; 56];
            serve(&mut key, &mut pool, &mut pos, &mut steps, &mut out).unwrap();
            assert!(seen.insert(out), "request {i} repeated earlier output");
            let used = usize::from(u16::from_le_bytes(pos));
            assert!(
                pool[..used].iter().all(|&b| b == 0),
                "handed-out bytes left in the pool"
            );
        }
        // A large request bypasses the pool and leaves its position alone.
        let before = pos;
        let mut big = [0u8; POOL_LEN];
        serve(&mut key, &mut pool, &mut pos, &mut steps, &mut big).unwrap();
        assert_eq!(pos, before);
        assert!(seen.iter().all(|s| big.windows(56).all(|w| w != s)));
    }

    /// What a forked child sees: the kernel zeroed the whole state (`MADV_WIPEONFORK`, tested in securememory).
    /// The child must reseed, not serve the zeroed pool or continue from a zero key.
    #[test]
    fn a_wiped_state_reseeds_instead_of_serving_zeros_or_a_fixed_stream() {
        let draw_after_wipe = || {
            let mut state = [0u8; STATE_LEN];
            let mut out = [0u8; 56];
            draw(&mut state, &mut out).unwrap();
            out
        };
        let (a, b) = (draw_after_wipe(), draw_after_wipe());
        assert_ne!(a, [0u8; 56]);
        assert_ne!(a, b, "two wiped states produced the same stream: no reseed");
        let mut zero_key = [0u8; 32];
        let mut unseeded = [0u8; 56];
        fast_key_erasure(&mut zero_key, &mut unseeded);
        assert_ne!(a, unseeded);
    }

    /// The first 64 KiB of a state's output is its key-erasure chain; the refill after that starts from a key
    /// drawn from the OS, so the stream departs from what the old key would have produced.
    #[test]
    fn the_key_is_reseeded_from_the_os_after_64_kib_of_output() {
        let start = [9u8; 32];
        let (mut key, mut pool, mut pos, mut steps) =
            (start, [0u8; POOL_LEN], pool_position(POOL_LEN), 0u8);
        // The chain without reseeding, one pool per step.
        let (mut chain_key, mut expected) = (start, Vec::new());
        for _ in 0..=RESEED_AFTER_STEPS {
            let mut block = [0u8; POOL_LEN];
            fast_key_erasure(&mut chain_key, &mut block);
            expected.extend_from_slice(&block);
        }
        let mut got = Vec::new();
        for _ in 0..(usize::from(RESEED_AFTER_STEPS) + 1) * (POOL_LEN / 64) {
            let mut out = [0u8; 64];
            serve(&mut key, &mut pool, &mut pos, &mut steps, &mut out).unwrap();
            got.extend_from_slice(&out);
        }
        let boundary = usize::from(RESEED_AFTER_STEPS) * POOL_LEN;
        assert_eq!(boundary, 64 * 1024);
        assert_eq!(got[..boundary], expected[..boundary]);
        assert_ne!(
            got[boundary..],
            expected[boundary..],
            "no reseed after 64 KiB"
        );
        assert_eq!(steps, 1, "the counter restarts at the reseed");
        // A large request counts by its size: 64 KiB at once brings the next call to a reseed.
        let mut big = vec![0u8; boundary];
        serve(&mut key, &mut pool, &mut pos, &mut steps, &mut big).unwrap();
        assert_eq!(steps, RESEED_AFTER_STEPS.saturating_add(1));
    }

    /// A thread-local destructor that runs after the RNG state's own (registered earlier, so destroyed later),
    /// or before it, still gets random bytes rather than a panic (which would abort the process there).
    #[test]
    #[cfg_attr(
        miri,
        ignore = "the thread RNG state is a ForkSafeBuffer: mmap, mlock and madvise, which Miri lacks"
    )]
    fn a_thread_local_destructor_can_draw_before_or_after_the_state_is_gone() {
        struct DrawOnDrop(std::sync::mpsc::Sender<Result<[u8; 32], String>>);
        impl Drop for DrawOnDrop {
            fn drop(&mut self) {
                let mut out = [0u8; 32];
                let result = ThreadLocalRandom
                    .fill(&mut out)
                    .map(|()| out)
                    .map_err(|e| e.to_string());
                let _ = self.0.send(result);
            }
        }
        thread_local! {
            static GUARD: std::cell::RefCell<Option<DrawOnDrop>> = const { std::cell::RefCell::new(None) };
        }
        for guard_first in [true, false] {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut warm = [0u8; 8];
                if !guard_first {
                    ThreadLocalRandom.fill(&mut warm).unwrap();
                }
                GUARD.with_borrow_mut(|g| *g = Some(DrawOnDrop(tx)));
                ThreadLocalRandom.fill(&mut warm).unwrap();
            })
            .join()
            .expect("the thread exits cleanly");
            let bytes = rx.recv().expect("the destructor ran").expect("drew bytes");
            assert_ne!(bytes, [0u8; 32], "guard_first={guard_first}");
        }
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "the thread RNG state is a ForkSafeBuffer: mmap, mlock and madvise, which Miri lacks"
    )]
    fn thread_local_random_output_looks_uniform() {
        // A coarse check that the keystream is wired up (not zeros, not a constant): byte histogram of 64 KiB.
        let mut counts = [0u32; 256];
        for _ in 0..1024 {
            let mut block = [0u8; 64];
            ThreadLocalRandom.fill(&mut block).unwrap();
            block.iter().for_each(|&b| counts[b as usize] += 1);
        }
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*min > 150 && *max < 380, "min {min} max {max}");
    }

    use super::*;

    #[test]
    fn os_random_fills_the_whole_buffer() {
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        assert!(OsRandom.fill(&mut a).is_ok());
        assert!(OsRandom.fill(&mut b).is_ok());
        // 2^-512 chance of a false failure.
        assert_ne!(a, b);
        assert!(OsRandom.fill(&mut []).is_ok());
    }

    #[test]
    fn seeded_random_is_reproducible_per_seed() {
        let draw = |seed| {
            let rng = SeededRandom::new(seed);
            let mut out = [[0u8; 12]; 3];
            for buf in &mut out {
                assert!(rng.fill(buf).is_ok());
            }
            out
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        let [a, b, c] = draw(7);
        assert!(a != b && b != c && a != c);
    }

    #[test]
    fn seeded_random_matches_splitmix64_reference_stream() {
        // Reference SplitMix64 (state += gamma; mix(state)) seeded with 1234567: first outputs.
        let mut state: u64 = 1_234_567;
        let mut expected = Vec::new();
        for _ in 0..4 {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            expected.extend_from_slice(&splitmix64_mix(state).to_le_bytes());
        }
        let rng = SeededRandom::new(1_234_567);
        let mut got = [0u8; 32];
        assert!(rng.fill(&mut got).is_ok());
        assert_eq!(got.as_slice(), expected.as_slice());
        // Published first output of SplitMix64 for seed 1234567.
        assert_eq!(&got[..8], &6_457_827_717_110_365_317u64.to_le_bytes());
    }

    #[test]
    fn boxed_and_shared_handles_delegate() {
        let shared: Arc<dyn SecureRandom> = Arc::new(SeededRandom::new(1));
        let boxed: Box<dyn SecureRandom> = Box::new(SeededRandom::new(1));
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        assert!(shared.fill(&mut a).is_ok());
        assert!(boxed.fill(&mut b).is_ok());
        assert_eq!(a, b);
    }
}
