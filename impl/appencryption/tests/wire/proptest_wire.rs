//! Property tests for the wire layer: record JSON round-trips, parsers and AEAD open never panic, seal→open is the
//! identity, and all backends agree byte for byte. Randomness inside the library comes from `SeededRandom`, so a
//! failing case replays exactly from its proptest seed.

use appencryption::{
    AEAD_OVERHEAD, AeadBackend, AesGcmBackend, DataRowRecord, EnvelopeKeyRecord, Error, KEY_LEN,
    KeyMeta, SeededRandom,
};
use proptest::collection::vec;
use proptest::prelude::*;

/// Strings biased towards what JSON escaping must get right: HTML characters, quotes, backslashes, C0 controls,
/// DEL, the JavaScript line separators and arbitrary Unicode.
fn tricky_string() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        '<',
        '>',
        '&',
        '"',
        '\\',
        '/',
        '\n',
        '\r',
        '\t',
        '\u{8}',
        '\u{c}',
        '\u{0}',
        '\u{1f}',
        '\u{7f}',
        '\u{2028}',
        '\u{2029}',
        '\u{fffd}',
        'é',
        '\u{1F600}',
        '\u{212a}',
    ]);
    vec(
        prop_oneof![
            any::<char>(),
            special,
            "[ -~]".prop_map(|s| s.chars().next().unwrap_or('a'))
        ],
        0..48,
    )
    .prop_map(String::from_iter)
}

fn key_meta() -> impl Strategy<Value = KeyMeta> {
    (tricky_string(), any::<i64>()).prop_map(|(key_id, created)| KeyMeta { key_id, created })
}

/// An EKR as it can appear on the wire (the id is never serialized, so it is empty).
fn ekr() -> impl Strategy<Value = EnvelopeKeyRecord> {
    (
        any::<bool>(),
        any::<i64>(),
        vec(any::<u8>(), 0..128),
        proptest::option::of(key_meta()),
    )
        .prop_map(
            |(revoked, created, encrypted_key, parent_key_meta)| EnvelopeKeyRecord {
                revoked,
                id: String::new(),
                created,
                encrypted_key,
                parent_key_meta,
            },
        )
}

fn drr() -> impl Strategy<Value = DataRowRecord> {
    (proptest::option::of(ekr()), vec(any::<u8>(), 0..512))
        .prop_map(|(key, data)| DataRowRecord { key, data })
}

/// One edit applied to a valid record's bytes.
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let special = prop::sample::select(b"{}[]\":,\\ntfe.-+0=/ \x00\xff".to_vec());
    let byte = prop_oneof![any::<u8>(), special];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Replace(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len();
        match *e {
            Edit::Replace(i, b) if len > 0 => bytes[i % len] = b,
            Edit::Insert(i, b) => bytes.insert(i % (len + 1), b),
            Edit::Delete(i) if len > 0 => {
                bytes.remove(i % len);
            }
            _ => {}
        }
    }
    bytes
}

/// Seal with a seeded nonce through one backend, checking the layout and the round trip.
fn seal_open_roundtrip<B: AeadBackend>(
    backend: &B,
    key: &[u8; KEY_LEN],
    seed: u64,
    payload: &[u8],
) -> Vec<u8> {
    let blob = backend
        .encrypt(payload, key, &SeededRandom::new(seed))
        .unwrap_or_else(|e| panic!("{}: seal failed: {e}", backend.name()));
    assert_eq!(blob.len(), payload.len() + AEAD_OVERHEAD);
    let opened = backend
        .decrypt(&blob, key)
        .unwrap_or_else(|e| panic!("{}: open failed: {e}", backend.name()));
    assert_eq!(opened.as_slice(), payload, "{}", backend.name());
    blob
}

proptest! {
    #[test]
    fn drr_from_json_inverts_to_json(record in drr()) {
        let json = record.to_json();
        prop_assert_eq!(DataRowRecord::from_json(&json)?, record);
    }

    #[test]
    fn ekr_from_json_inverts_to_json(record in ekr()) {
        let json = record.to_json();
        prop_assert_eq!(EnvelopeKeyRecord::from_json(&json)?, record);
    }

    #[test]
    fn written_json_is_valid_json_with_the_same_strings(record in drr()) {
        // An independent parser agrees on validity and on every string value.
        let json = record.to_json();
        let value: serde_json::Value = serde_json::from_slice(&json)?;
        let key_id = value.pointer("/Key/ParentKeyMeta/KeyId").and_then(|v| v.as_str());
        let expected = record.key.as_ref().and_then(|k| k.parent_key_meta.as_ref()).map(|m| m.key_id.as_str());
        prop_assert_eq!(key_id, expected);
        prop_assert!(!json.iter().any(|&b| b == b'<' || b == b'>' || b == b'&' || b < 0x20));
    }

    #[test]
    fn from_json_never_panics_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..512)) {
        let _ = DataRowRecord::from_json(&bytes);
        let _ = EnvelopeKeyRecord::from_json(&bytes);
    }

    #[test]
    fn from_json_never_panics_on_edited_records(record in drr(), edits in vec(edit(), 1..8)) {
        let json = apply(record.to_json(), &edits);
        let _ = DataRowRecord::from_json(&json);
        let _ = EnvelopeKeyRecord::from_json(&json);
    }

    #[test]
    fn open_never_panics_and_rejects_arbitrary_blobs(blob in vec(any::<u8>(), 0..256), key in any::<[u8; 32]>()) {
        let check = |result: Result<Vec<u8>, Error>| match result {
            Err(Error::CiphertextTooShort) => blob.len() < 12,
            // A forgery succeeds with probability 2^-128.
            Err(Error::DecryptionFailed) => blob.len() >= 12,
            _ => false,
        };
        prop_assert!(check(AesGcmBackend.decrypt(&blob, &key)));
        #[cfg(feature = "ring")]
        prop_assert!(check(appencryption::RingBackend.decrypt(&blob, &key)));
        let mut out = [0u8; KEY_LEN];
        prop_assert!(AesGcmBackend.decrypt_key(&blob, &key, &mut out).is_err());
        prop_assert_eq!(out, [0u8; KEY_LEN]);
    }
}

proptest! {
    // Payloads up to 64 KiB are slow in an unoptimised build; fewer cases cover the sizes well enough.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn seal_then_open_is_identity_and_backends_agree(
        payload in vec(any::<u8>(), 0..65_536),
        key in any::<[u8; 32]>(),
        seed in any::<u64>(),
    ) {
        let blob = seal_open_roundtrip(&AesGcmBackend, &key, seed, &payload);
        #[cfg(feature = "ring")]
        prop_assert_eq!(&seal_open_roundtrip(&appencryption::RingBackend, &key, seed, &payload), &blob);
        let _ = blob;
    }
}
