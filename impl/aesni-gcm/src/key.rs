//! A key expanded once for many messages ([`Key`]): what a caller caches for a long-lived key (Asherah's system
//! and intermediate keys), so that each seal or open skips the key expansion and the GHASH powers.

use zeroize::Zeroize;

use crate::AesNiGcm;

/// An AES-256 key schedule and its GHASH key, made by [`AesNiGcm::key`]; seal and open with [`Key::seal`] and
/// [`Key::open`]. As secret as the key: zeroized when dropped, and its `Debug` shows nothing of it. Each call
/// copies the schedule into registers and its own frame, and zeroizes that copy before returning.
pub struct Key {
    pub(crate) gcm: AesNiGcm,
    pub(crate) expanded: Expanded,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("aesni_gcm::Key(<redacted>)")
    }
}

/// The expanded key as bytes (so that the type is the same on every architecture): AES-256's 15 round keys, and
/// `H`, `H²`, …, `H⁸` in the GHASH code's representation.
#[derive(Default, Zeroize)]
#[zeroize(drop)]
pub(crate) struct Expanded {
    pub(crate) round_keys: [[u8; 16]; 15],
    pub(crate) powers: [[u8; 16]; 8],
}
