//! Property tests through a session: encrypt → decrypt is the identity for any payload and partition, and no
//! single-bit flip of a serialized DRR ever panics or yields a different payload.

mod session_support;

use appencryption::{CryptoPolicy, Error, KeyMode, SessionFactory};
use proptest::prelude::*;
use session_support::*;

fn factory_for(mode: KeyMode) -> SessionFactory {
    factory(
        memory(),
        FakeClock::new(),
        CryptoPolicy::default().with_key_mode(mode),
    )
}

fn mode() -> impl Strategy<Value = KeyMode> {
    prop_oneof![
        Just(KeyMode::ProtectedDataRowKey),
        Just(KeyMode::StackDataRowKey),
        Just(KeyMode::CachedCipher),
        Just(KeyMode::SecretCachedCipher)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn encrypt_then_decrypt_is_identity_for_any_payload_and_partition(
        mode in mode(),
        partition in "\\PC{1,40}",
        payload in prop::collection::vec(any::<u8>(), 0..65536),
    ) {
        let f = factory_for(mode);
        let session = f.get_session(&partition).unwrap();
        let drr = session.encrypt(&payload).unwrap();
        prop_assert_eq!(session.decrypt(&drr).unwrap(), payload.clone());
        let json = drr.to_json();
        prop_assert_eq!(session.decrypt_from_json(&json).unwrap(), payload);
    }
}

/// Every single-bit flip of a serialized DRR is rejected with an error — except flips that land in fields GCM
/// does not authenticate and that Go also accepts (the letter case of a field name, the data-row key's
/// informational `Created`): those must still decrypt to the *original* payload. Never a panic, never another
/// payload. Exhaustive over all bits of a record, for each key mode.
#[test]
fn every_single_bit_flip_is_rejected_or_harmless() {
    for mode in [
        KeyMode::ProtectedDataRowKey,
        KeyMode::StackDataRowKey,
        KeyMode::CachedCipher,
        KeyMode::SecretCachedCipher,
    ] {
        let f = factory_for(mode);
        let session = f.get_session("partition").unwrap();
        let payload = b"mySuperSecretPayload".to_vec();
        let json = session.encrypt_to_json(&payload).unwrap();
        let (mut rejected, mut harmless) = (0, 0);
        for bit in 0..json.len() * 8 {
            let mut flipped = json.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            match session.decrypt_from_json(&flipped) {
                Err(_) => rejected += 1,
                Ok(out) => {
                    assert_eq!(
                        out,
                        payload,
                        "bit {bit} changed the payload: {}",
                        String::from_utf8_lossy(&flipped)
                    );
                    assert!(
                        harmless_position(&json, bit / 8),
                        "bit {bit} accepted: {}",
                        String::from_utf8_lossy(&flipped)
                    );
                    harmless += 1;
                }
            }
        }
        assert!(
            rejected > json.len() * 8 * 9 / 10,
            "{mode:?}: {rejected} rejected, {harmless} accepted"
        );
    }
}

/// Byte positions where a flip may be accepted: inside a field name (case folding) or inside the data-row key's
/// `Created` digits (not authenticated, informational only).
fn harmless_position(json: &[u8], index: usize) -> bool {
    let text = String::from_utf8_lossy(json);
    let names = [
        "\"Key\"",
        "\"Data\"",
        "\"Created\"",
        "\"ParentKeyMeta\"",
        "\"KeyId\"",
    ];
    for name in names {
        for (start, _) in text.match_indices(name) {
            if (start + 1..start + name.len() - 1).contains(&index) {
                return true;
            }
        }
    }
    // The first "Created": value is the DRK's.
    let created = text
        .find("\"Created\":")
        .map(|i| i + "\"Created\":".len())
        .unwrap_or(usize::MAX);
    let end = text[created..].find(',').map_or(created, |e| created + e);
    (created..end).contains(&index)
}

#[test]
fn decrypting_garbage_never_panics() {
    let f = factory_for(KeyMode::StackDataRowKey);
    let session = f.get_session("partition").unwrap();
    for input in [
        &b""[..],
        b"{}",
        b"null",
        b"[]",
        b"{\"Key\":null,\"Data\":null}",
        b"{\"Key\":{},\"Data\":\"\"}",
    ] {
        let err = session.decrypt_from_json(input).unwrap_err();
        assert!(!matches!(err, Error::SecureMemory(_)), "{err}");
    }
}
