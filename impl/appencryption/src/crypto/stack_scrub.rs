//! Overwrite the dead stack frames that handled key material.
//!
//! Rust moves values by copying them, and neither AES library wipes the places a key schedule passed through
//! while it was built, nor the block temporaries of a seal or open. Whatever wiping the key's owner does, copies
//! of a system or intermediate key (or of its round keys, which start with the key) can stay in dead frames below
//! the caller until later calls happen to overwrite them; the crash-dump test (`tests/crash_dump.rs`) finds them
//! there. No crate offers a maintained "clear the stack below me" (`clear_on_drop`'s `clear_stack_on_return` is
//! unmaintained and needs a C helper), so this module does the one thing needed, in safe code: after a call chain
//! that handled a key returns, call [`scrub_stack`], whose own frame lies exactly where that chain's frames were,
//! and fill it with zeros.

/// Bytes cleared after one use of a key outside the cached-cipher modes (a schedule built, a seal or open run and
/// the schedule dropped, inside the key's access window). Measured with the crash-dump test on x86-64: residue
/// was left 4–8 KiB below the caller in an optimised build (8 KiB cleared it, 4 KiB did not), and up to about
/// 20 KiB below in an unoptimised one, whose frames are many times larger; these sizes leave a margin of two or
/// more, for CPUs whose AES code paths use larger frames.
#[cfg(not(debug_assertions))]
pub(crate) const AFTER_KEY_USE: usize = 16 * 1024;
#[cfg(debug_assertions)]
pub(crate) const AFTER_KEY_USE: usize = 64 * 1024;

/// Bytes cleared after one use of a key schedule cached in secret memory (`KeyMode::SecretCachedCipher`) on the
/// `aes-gcm` backend: a seal or open only, no expansion. Measured as above: 1 KiB left residue in the optimised
/// build (intermediate-key round keys 8–10 KiB below the top of the stack at the abort), 4 KiB cleared it.
#[cfg(not(debug_assertions))]
pub(crate) const AFTER_CACHED_AES_GCM_KEY_USE: usize = 8 * 1024;
#[cfg(debug_assertions)]
pub(crate) const AFTER_CACHED_AES_GCM_KEY_USE: usize = 64 * 1024;

/// As [`AFTER_CACHED_AES_GCM_KEY_USE`], on the `ring` backend. BoringSSL's assembly keeps the round keys in
/// registers: in the crash-dump test (`SecretCachedCipher+ring`) a scrub of only 64 bytes left no key in the core
/// (x86-64 with VAES, optimised build). 256 bytes are kept as a margin for ring's other code paths (AES-NI without
/// VAES, Arm, its software fallback), which that run did not exercise. The scrub's cost is linear in its size
/// (8 KiB: about 70 ns here), and a cached-schedule use is this mode's whole hot path: measured in the same runs,
/// hot decrypt of 64 B in this mode was 1.06× `CachedCipher`'s with 1 KiB and 0.99× with 256 bytes.
#[cfg(all(not(debug_assertions), feature = "ring"))]
pub(crate) const AFTER_CACHED_RING_KEY_USE: usize = 256;
#[cfg(all(debug_assertions, feature = "ring"))]
pub(crate) const AFTER_CACHED_RING_KEY_USE: usize = 64 * 1024;

/// Bytes cleared after a key cache load (a metastore read, a KMS call, key creation or decryption): async code,
/// deeper than a single use. The unoptimised build left system-key residue up to about 190 KiB below the top of
/// the stack.
#[cfg(not(debug_assertions))]
pub(crate) const AFTER_KEY_LOAD: usize = 64 * 1024;
#[cfg(debug_assertions)]
pub(crate) const AFTER_KEY_LOAD: usize = 512 * 1024;

/// Zero `N` bytes of stack directly below the caller's frame. Never inlined, so that its frame is a fresh one
/// below the caller; `black_box` makes the zeros observable, so the compiler cannot drop the stores. What proves
/// it works is the crash-dump test, which greps a real core for every key.
#[inline(never)]
pub(crate) fn scrub_stack<const N: usize>() {
    // Not under loom: its model threads run on small stacks of their own, and scrubbing is not concurrency.
    #[cfg(not(loom))]
    {
        let mut area = [0u8; N];
        std::hint::black_box(&mut area);
    }
}
