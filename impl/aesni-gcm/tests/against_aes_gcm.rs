//! The same bytes as RustCrypto's `aes-gcm` for any key, nonce and length (around every batch and block boundary
//! of this crate's code), under a one-use key and under an expanded `Key`, by every code path; opening undoes
//! sealing, and any change to ciphertext, tag, nonce or key fails to open
//! without touching the buffer.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aesni_gcm::{AesNiGcm, Error, MAX_LEN};
use proptest::prelude::*;

fn reference(key: &[u8; 32], nonce: &[u8; 12], pt: &[u8]) -> (Vec<u8>, [u8; 16]) {
    let cipher = aes_gcm::Aes256Gcm::new(key.into());
    let mut buf = pt.to_vec();
    let tag = cipher
        .encrypt_inout_detached(&(*nonce).into(), &[], buf.as_mut_slice().into())
        .expect("reference seal");
    (buf, tag.into())
}

/// The code paths this CPU can run: the detected one and, where that is the 256-bit one, the 128-bit one too.
fn variants() -> Vec<AesNiGcm> {
    let Some(detected) = AesNiGcm::detect() else {
        eprintln!("skipped: this CPU lacks AES-NI, CLMUL or AVX");
        return Vec::new();
    };
    if detected.is_wide() {
        vec![detected, detected.narrow()]
    } else {
        vec![detected]
    }
}

#[test]
fn an_expanded_key_s_debug_shows_nothing_of_it() {
    for gcm in variants() {
        assert_eq!(
            format!("{:?}", gcm.key(&[7; 32])),
            "aesni_gcm::Key(<redacted>)"
        );
    }
}

#[test]
fn narrow_turns_the_wide_code_off() {
    for gcm in variants() {
        assert!(!gcm.narrow().is_wide());
    }
}

/// Every length up to 600 bytes (the first batch covers 96 bytes, the next ones 128 each; GHASH takes 64 or 128 at
/// a time), by every code path.
#[test]
fn every_short_length_matches_the_reference() {
    for gcm in variants() {
        every_length_up_to(gcm, 600);
    }
}

fn every_length_up_to(gcm: AesNiGcm, longest: usize) {
    let key: [u8; 32] = core::array::from_fn(|i| i as u8 ^ 0x5c);
    let nonce: [u8; 12] = core::array::from_fn(|i| 0xa0 + i as u8);
    for len in 0..=longest {
        let pt: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
        let (ct, tag) = reference(&key, &nonce, &pt);
        let mut buf = pt.clone();
        assert_eq!(gcm.seal(&key, &nonce, &mut buf), Ok(tag), "len {len}: tag");
        assert_eq!(buf, ct, "len {len}: ciphertext");
        assert_eq!(
            gcm.open(&key, &nonce, &mut buf, &tag),
            Ok(()),
            "len {len}: open"
        );
        assert_eq!(buf, pt, "len {len}: plaintext");
    }
}

#[test]
fn the_length_limit_is_gcm_s() {
    // A buffer over the limit cannot be allocated here; the limit itself is what GCM allows.
    assert_eq!(MAX_LEN, 68_719_476_704);
    assert_eq!(
        Error::TooLong { len: 1 }.to_string(),
        "message of 1 bytes is longer than AES-GCM allows under one nonce (68,719,476,704 bytes)"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn seal_matches_the_reference_and_opens(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 12]>(),
        pt in proptest::collection::vec(any::<u8>(), 0..2100),
    ) {
        let (ct, tag) = reference(&key, &nonce, &pt);
        for gcm in variants() {
            let mut buf = pt.clone();
            prop_assert_eq!(gcm.seal(&key, &nonce, &mut buf), Ok(tag));
            prop_assert_eq!(&buf, &ct);
            prop_assert_eq!(gcm.open(&key, &nonce, &mut buf, &tag), Ok(()));
            prop_assert_eq!(&buf, &pt);
            let expanded = gcm.key(&key);
            prop_assert_eq!(expanded.seal(&nonce, &mut buf), Ok(tag));
            prop_assert_eq!(&buf, &ct);
            prop_assert_eq!(expanded.open(&nonce, &mut buf, &tag), Ok(()));
            prop_assert_eq!(&buf, &pt);
        }
    }

    #[test]
    fn any_change_fails_to_open_and_leaves_the_buffer(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 12]>(),
        pt in proptest::collection::vec(any::<u8>(), 0..600),
        what in 0..4usize,
        at in any::<usize>(),
        bit in 0..8u8,
    ) {
        let (mut ct, mut tag) = reference(&key, &nonce, &pt);
        let (mut key, mut nonce) = (key, nonce);
        let flip = 1u8 << bit;
        match what {
            0 if !ct.is_empty() => { let i = at % ct.len(); ct[i] ^= flip }
            0 | 1 => tag[at % 16] ^= flip,
            2 => nonce[at % 12] ^= flip,
            _ => key[at % 32] ^= flip,
        }
        for gcm in variants() {
            let mut buf = ct.clone();
            prop_assert_eq!(gcm.open(&key, &nonce, &mut buf, &tag), Err(Error::Authentication));
            prop_assert_eq!(&buf, &ct);
            prop_assert_eq!(gcm.key(&key).open(&nonce, &mut buf, &tag), Err(Error::Authentication));
            prop_assert_eq!(&buf, &ct);
        }
    }
}
