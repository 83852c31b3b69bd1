//! AES-256-GCM for a key used for one message, on x86-64's AES-NI and carry-less multiply (CLMUL), detected at run
//! time. Asherah seals every record under a fresh data-row key, so for the short payloads it sees most (a field, a
//! token, a card number) the key set-up, not the encryption, is the cost. This crate makes that set-up cheap:
//!
//! * the AES-256 key expansion uses `AESENCLAST` on a broadcast word instead of `AESKEYGENASSIST`, which is
//!   microcoded and slow on AMD CPUs (the same choice BoringSSL makes when AVX is present);
//! * GHASH is computed as POLYVAL (RFC 8452, appendix A), whose reduction is two carry-less multiplies, with `H`'s
//!   powers only as far as the message needs (none under 64 bytes): no table of eight or sixteen powers for a
//!   message that needs one or two;
//! * past the first 96 bytes, on CPUs with AVX2, VAES and VPCLMULQDQ, the bulk runs two blocks per instruction;
//! * nothing is copied: the round keys live in one array on the stack of the call, and are zeroized before it
//!   returns, with `H`, its powers and the tag mask.
//!
//! The 256-bit code can be turned off with [`AesNiGcm::narrow`] (the tests run both).
//!
//! Why it is written here rather than taken from a crate: every maintained AES-GCM measured on the lab's machines
//! (ring, aws-lc-rs, RustCrypto's `aes-gcm` 0.10 and 0.11, graviola) spends 130–260 ns on key set-up alone, more
//! than the whole seal of a 64-byte message takes here, and none exposes a cheaper one-use path (ring copies its
//! 544-byte key value four times between its constructors; RustCrypto's `aes` expands keys with
//! `AESKEYGENASSIST`). See `docs/architecture.md` ("The one-shot AES-GCM route") for the figures.
//!
//! The byte layout is plain GCM (NIST SP 800-38D): a 96-bit nonce, no associated data, a detached 128-bit tag. Its
//! tests check it against RustCrypto's `aes-gcm` on random keys, nonces and lengths, and against Wycheproof's
//! AES-GCM vectors. Opening verifies the tag, in constant time, before it decrypts anything: on a wrong tag the
//! buffer is returned untouched.
//!
//! For a key used for many messages, [`AesNiGcm::key`] expands it once into a [`Key`] (zeroized on drop), whose
//! seal and open skip the set-up.
//!
//! `unsafe` is allowed in one module, `cpu`, which holds the proof of CPU support ([`AesNiGcm`] exists only when
//! the features were detected) and the calls into the code compiled for those features; everything else is safe
//! Rust (the intrinsics are safe to call inside a function compiled for their features).

#![deny(unsafe_code)]

mod cpu;
mod error;
mod key;
#[cfg(target_arch = "x86_64")]
mod x86_64;

pub use cpu::AesNiGcm;
pub use error::Error;
pub use key::Key;

/// Length of an AES-256 key.
pub const KEY_LEN: usize = 32;
/// Length of the GCM nonce (96 bits, the only length this crate takes).
pub const NONCE_LEN: usize = 12;
/// Length of the GCM tag.
pub const TAG_LEN: usize = 16;
/// The longest message GCM can encrypt under one nonce: `2^32 - 2` blocks of 16 bytes (NIST SP 800-38D).
pub const MAX_LEN: u64 = ((1 << 32) - 2) * 16;
