//! docs/compatibility.md#test-vectors: with the worked example's keys and nonces injected, every backend reproduces
//! each blob, the metastore rows, the DRR JSON and its transport string byte for byte, and opens every blob back to
//! its plaintext.

use appencryption::{
    AeadBackend, AesGcmBackend, DataRowRecord, EnvelopeKeyRecord, KEY_LEN, KeyMeta, NONCE_LEN,
    SecureRandom,
};
use base64::Engine;
use serde_json::Value;

const VECTORS: &str = include_str!("../data/spec-2.8-vectors.json");

/// The data file, with typed accessors that fail loudly on a missing or mistyped entry.
struct Vectors(Value);

impl Vectors {
    fn load() -> Self {
        Self(serde_json::from_str(VECTORS).expect("spec-2.8-vectors.json is valid JSON"))
    }
    fn str(&self, path: &str) -> &str {
        self.0
            .pointer(path)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("missing string {path}"))
    }
    fn int(&self, path: &str) -> i64 {
        self.0
            .pointer(path)
            .and_then(Value::as_i64)
            .unwrap_or_else(|| panic!("missing integer {path}"))
    }
    fn hex(&self, path: &str) -> Vec<u8> {
        hex::decode(self.str(path)).unwrap_or_else(|e| panic!("{path} is not hex: {e}"))
    }
    fn key(&self, path: &str) -> [u8; KEY_LEN] {
        self.hex(path)
            .try_into()
            .unwrap_or_else(|_| panic!("{path} is not 32 bytes"))
    }
    fn nonce(&self, path: &str) -> [u8; NONCE_LEN] {
        self.hex(path)
            .try_into()
            .unwrap_or_else(|_| panic!("{path} is not 12 bytes"))
    }
    fn master_key(&self) -> Vec<u8> {
        self.str("/inputs/static_master_key_ascii")
            .as_bytes()
            .to_vec()
    }
}

/// Seal `plaintext` under `key` with an injected nonce.
fn seal<B: AeadBackend>(
    backend: &B,
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
) -> Vec<u8> {
    let cipher = backend.cipher(key).expect("32-byte key");
    let mut out = Vec::new();
    backend
        .seal_into(&cipher, nonce, plaintext, &mut out)
        .expect("seal");
    out
}

/// An RNG that always yields the same bytes: injects a nonce through the `rng` parameter.
struct FixedNonce([u8; NONCE_LEN]);

impl SecureRandom for FixedNonce {
    fn fill(&self, buf: &mut [u8]) -> Result<(), appencryption::Error> {
        for (dst, src) in buf.iter_mut().zip(self.0.iter().cycle()) {
            *dst = *src;
        }
        Ok(())
    }
}

/// Every blob of the example: (name, sealed by `backend` with the injected nonce, expected).
fn blobs<B: AeadBackend>(backend: &B, v: &Vectors) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let master = v.master_key();
    let sk = v.key("/inputs/sk_plaintext_hex");
    let ik = v.key("/inputs/ik_plaintext_hex");
    let drk = v.key("/inputs/drk_plaintext_hex");
    let payload = v.str("/inputs/payload_ascii").as_bytes();
    vec![
        (
            "enc_sk",
            seal(backend, &master, &v.nonce("/inputs/sk_nonce_hex"), &sk),
            v.hex("/outputs/enc_sk_hex"),
        ),
        (
            "enc_ik",
            seal(backend, &sk, &v.nonce("/inputs/ik_nonce_hex"), &ik),
            v.hex("/outputs/enc_ik_hex"),
        ),
        (
            "enc_drk",
            seal(backend, &ik, &v.nonce("/inputs/drk_nonce_hex"), &drk),
            v.hex("/outputs/enc_drk_hex"),
        ),
        (
            "enc_data",
            seal(backend, &drk, &v.nonce("/inputs/data_nonce_hex"), payload),
            v.hex("/outputs/enc_data_hex"),
        ),
        (
            "enc_empty",
            seal(backend, &drk, &v.nonce("/inputs/data_nonce_hex"), b""),
            v.hex("/outputs/enc_empty_under_drk_with_data_nonce_hex"),
        ),
    ]
}

fn check_sealing_reproduces_each_blob<B: AeadBackend>(backend: &B) {
    let v = Vectors::load();
    for (name, got, want) in blobs(backend, &v) {
        assert_eq!(
            hex::encode(got),
            hex::encode(want),
            "{} {name}",
            backend.name()
        );
    }
    // The convenience path, with the nonce injected through the RNG handle, gives the same bytes.
    let got = backend
        .encrypt(
            v.str("/inputs/payload_ascii").as_bytes(),
            &v.key("/inputs/drk_plaintext_hex"),
            &FixedNonce(v.nonce("/inputs/data_nonce_hex")),
        )
        .expect("encrypt");
    assert_eq!(
        got,
        v.hex("/outputs/enc_data_hex"),
        "{} encrypt()",
        backend.name()
    );
}

fn check_opening_each_blob_gives_its_plaintext<B: AeadBackend>(backend: &B) {
    let v = Vectors::load();
    let master = v.master_key();
    let sk = v.key("/inputs/sk_plaintext_hex");
    let ik = v.key("/inputs/ik_plaintext_hex");
    let drk = v.key("/inputs/drk_plaintext_hex");
    let keys = [
        ("enc_sk", master.as_slice(), "/outputs/enc_sk_hex", sk),
        ("enc_ik", sk.as_slice(), "/outputs/enc_ik_hex", ik),
        ("enc_drk", ik.as_slice(), "/outputs/enc_drk_hex", drk),
    ];
    for (name, wrapping, blob, want) in keys {
        let mut got = zeroize::Zeroizing::new([0u8; KEY_LEN]);
        backend
            .decrypt_key(&v.hex(blob), wrapping, &mut got)
            .unwrap_or_else(|e| panic!("{} {name}: {e}", backend.name()));
        assert_eq!(*got, want, "{} {name}", backend.name());
        assert_eq!(
            backend.decrypt(&v.hex(blob), wrapping).expect("decrypt"),
            want
        );
    }
    let payload = backend
        .decrypt(&v.hex("/outputs/enc_data_hex"), &drk)
        .expect("data");
    assert_eq!(payload, v.str("/inputs/payload_ascii").as_bytes());
    let empty = backend
        .decrypt(
            &v.hex("/outputs/enc_empty_under_drk_with_data_nonce_hex"),
            &drk,
        )
        .expect("empty");
    assert!(empty.is_empty());
}

fn check_metastore_rows_are_byte_identical<B: AeadBackend>(backend: &B) {
    let v = Vectors::load();
    let sk_id = v.str("/inputs/sk_id");
    let sk_created = v.int("/inputs/sk_created");
    let by_row = blobs(backend, &v);
    let records = [
        EnvelopeKeyRecord {
            revoked: false,
            id: sk_id.to_owned(),
            created: sk_created,
            encrypted_key: by_row[0].1.clone(),
            parent_key_meta: None,
        },
        EnvelopeKeyRecord {
            revoked: false,
            id: v.str("/inputs/ik_id").to_owned(),
            created: v.int("/inputs/ik_created"),
            encrypted_key: by_row[1].1.clone(),
            parent_key_meta: Some(KeyMeta {
                key_id: sk_id.to_owned(),
                created: sk_created,
            }),
        },
    ];
    for (i, record) in records.iter().enumerate() {
        let row = format!("/outputs/metastore_rows/{i}");
        assert_eq!(record.id, v.str(&format!("{row}/id")));
        assert_eq!(record.created, v.int(&format!("{row}/created")));
        let want = v.str(&format!("{row}/key_record"));
        assert_eq!(
            String::from_utf8(record.to_json()).expect("utf-8"),
            want,
            "{} row {i}",
            backend.name()
        );
        let mut parsed = EnvelopeKeyRecord::from_json(want.as_bytes()).expect("row parses");
        assert!(parsed.id.is_empty(), "the JSON carries no id");
        parsed.id = record.id.clone();
        assert_eq!(&parsed, record);
    }
}

fn check_drr_json_and_transport_string_are_byte_identical<B: AeadBackend>(backend: &B) {
    let v = Vectors::load();
    let by_row = blobs(backend, &v);
    let drr = DataRowRecord {
        key: Some(EnvelopeKeyRecord {
            revoked: false,
            id: String::new(),
            created: v.int("/inputs/drk_created"),
            encrypted_key: by_row[2].1.clone(),
            parent_key_meta: Some(KeyMeta {
                key_id: v.str("/inputs/ik_id").to_owned(),
                created: v.int("/inputs/ik_created"),
            }),
        }),
        data: by_row[3].1.clone(),
    };
    let want = v.str("/outputs/drr_json");
    let json = drr.to_json();
    assert_eq!(
        String::from_utf8(json.clone()).expect("utf-8"),
        want,
        "{}",
        backend.name()
    );
    let mut appended = b"prefix".to_vec();
    drr.write_json(&mut appended);
    assert_eq!(&appended[6..], want.as_bytes());
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(&json),
        v.str("/outputs/drr_transport_base64")
    );
    assert_eq!(
        DataRowRecord::from_json(want.as_bytes()).expect("parses"),
        drr
    );
}

#[test]
fn spec_2_8_sealing_with_injected_nonces_reproduces_each_blob() {
    check_sealing_reproduces_each_blob(&AesGcmBackend);
    #[cfg(feature = "ring")]
    check_sealing_reproduces_each_blob(&appencryption::RingBackend);
}

#[test]
fn spec_2_8_opening_each_blob_gives_its_plaintext() {
    check_opening_each_blob_gives_its_plaintext(&AesGcmBackend);
    #[cfg(feature = "ring")]
    check_opening_each_blob_gives_its_plaintext(&appencryption::RingBackend);
}

#[test]
fn spec_2_8_metastore_rows_are_byte_identical() {
    check_metastore_rows_are_byte_identical(&AesGcmBackend);
    #[cfg(feature = "ring")]
    check_metastore_rows_are_byte_identical(&appencryption::RingBackend);
}

#[test]
fn spec_2_8_drr_json_and_transport_string_are_byte_identical() {
    check_drr_json_and_transport_string_are_byte_identical(&AesGcmBackend);
    #[cfg(feature = "ring")]
    check_drr_json_and_transport_string_are_byte_identical(&appencryption::RingBackend);
}

#[test]
fn spec_2_8_full_chain_decrypts_from_the_stored_rows() {
    // Reading side only: parse the rows and the transport string, then unwrap SK → IK → DRK → payload.
    let v = Vectors::load();
    let b = AesGcmBackend;
    let sk_row =
        EnvelopeKeyRecord::from_json(v.str("/outputs/metastore_rows/0/key_record").as_bytes())
            .expect("sk row");
    let ik_row =
        EnvelopeKeyRecord::from_json(v.str("/outputs/metastore_rows/1/key_record").as_bytes())
            .expect("ik row");
    let transport = base64::engine::general_purpose::STANDARD
        .decode(v.str("/outputs/drr_transport_base64"))
        .expect("transport base64");
    let drr = DataRowRecord::from_json(&transport).expect("drr");
    let drr_key = drr.key.as_ref().expect("DRR has a key");

    let mut sk = zeroize::Zeroizing::new([0u8; KEY_LEN]);
    b.decrypt_key(&sk_row.encrypted_key, &v.master_key(), &mut sk)
        .expect("sk");
    let mut ik = zeroize::Zeroizing::new([0u8; KEY_LEN]);
    b.decrypt_key(&ik_row.encrypted_key, sk.as_slice(), &mut ik)
        .expect("ik");
    let mut drk = zeroize::Zeroizing::new([0u8; KEY_LEN]);
    b.decrypt_key(&drr_key.encrypted_key, ik.as_slice(), &mut drk)
        .expect("drk");
    let payload = b.decrypt(&drr.data, drk.as_slice()).expect("payload");
    assert_eq!(payload, v.str("/inputs/payload_ascii").as_bytes());
    assert_eq!(
        ik_row.parent_key_meta.as_ref().map(|m| m.key_id.as_str()),
        Some(v.str("/inputs/sk_id"))
    );
}
