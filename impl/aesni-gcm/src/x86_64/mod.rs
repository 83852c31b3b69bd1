//! The x86-64 code, compiled for AES-NI, PCLMULQDQ, SSSE3, SSE4.1 and AVX, and in `wide` also for AVX2, VAES and
//! VPCLMULQDQ (`#[target_feature]` on every function; the
//! intrinsics are safe to call inside such functions). Only `crate::cpu` calls into it, after detecting those
//! features.

mod aes;
mod block;
pub(crate) mod gcm;
mod ghash;
mod wide;
