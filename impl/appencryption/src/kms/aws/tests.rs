//! The AWS KMS envelope logic against fake regional clients: the states a real KMS does not produce on demand
//! (one region generating while none can wrap, docs/compatibility.md#q8-aws-kms-with-no-kek), the envelope's bytes,
//! and region fallback. The same behaviour against the moto emulator is in `tests/backend_aws_kms.rs`.

use crate::sync::Mutex;

use super::*;
use crate::rng::SeededRandom;

/// A fake region: "wraps" by prefixing its name, and can be told to fail each operation.
#[derive(Default)]
struct Fake {
    region: &'static str,
    /// The key id GenerateDataKey reports (`arn:<region>` = the configured ARN, so its blob is reused).
    reported_key_id: Option<&'static str>,
    fail_generate: bool,
    fail_encrypt: bool,
    fail_decrypt: bool,
    /// Never answer (a region behind a partition): every operation waits forever.
    hang: bool,
    calls: Mutex<Vec<String>>,
}

impl Fake {
    fn new(region: &'static str) -> Self {
        Self {
            region,
            ..Self::default()
        }
    }

    fn wrap(&self, plaintext: &[u8]) -> Vec<u8> {
        [self.region.as_bytes(), b":", plaintext].concat()
    }

    fn log(&self, call: &str) {
        self.calls.lock().push(format!("{} {call}", self.region));
    }

    async fn maybe_hang(&self) {
        if self.hang {
            std::future::pending::<()>().await;
        }
    }
}

#[async_trait]
impl RegionClient for Arc<Fake> {
    async fn generate_data_key(&self, arn: &str) -> Result<DataKey, String> {
        self.log("generate");
        self.maybe_hang().await;
        if self.fail_generate {
            return Err(format!("{} is down", self.region));
        }
        let plaintext = vec![7u8; KEY_LEN];
        Ok(DataKey {
            ciphertext: self.wrap(&plaintext),
            plaintext: Zeroizing::new(plaintext),
            key_id: self.reported_key_id.unwrap_or(arn).to_owned(),
        })
    }

    async fn encrypt(&self, _arn: &str, plaintext: &[u8]) -> Result<Vec<u8>, String> {
        self.log("encrypt");
        self.maybe_hang().await;
        if self.fail_encrypt {
            return Err(format!("{} refuses Encrypt", self.region));
        }
        Ok(self.wrap(plaintext))
    }

    async fn decrypt(&self, _arn: &str, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        self.log("decrypt");
        self.maybe_hang().await;
        if self.fail_decrypt {
            return Err(format!("{} is down", self.region));
        }
        let prefix = [self.region.as_bytes(), b":"].concat();
        ciphertext
            .strip_prefix(prefix.as_slice())
            .map(|p| Zeroizing::new(p.to_vec()))
            .ok_or_else(|| "not my ciphertext".to_owned())
    }
}

fn kms(fakes: &[Arc<Fake>]) -> AwsKms {
    AwsKms::from_parts(
        fakes
            .iter()
            .map(|f| {
                (
                    f.region.to_owned(),
                    format!("arn:{}", f.region),
                    Box::new(Arc::clone(f)) as Box<dyn RegionClient>,
                )
            })
            .collect(),
        Arc::new(SeededRandom::new(1)),
    )
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
        .block_on(f)
}

const SK: [u8; 32] = [42; 32];

#[test]
fn envelope_is_go_json_with_a_kek_per_region_and_reuses_the_generating_blob() {
    let west = Arc::new(Fake::new("us-west-2"));
    let east = Arc::new(Fake::new("us-east-1"));
    let kms = kms(&[Arc::clone(&west), Arc::clone(&east)]);
    let envelope = block_on(kms.encrypt_key(&SK)).expect("encrypt");
    let json: serde_json::Value = serde_json::from_slice(&envelope).expect("json");
    let text = String::from_utf8(envelope.clone()).expect("utf8");
    assert!(text.starts_with(r#"{"encryptedKey":""#), "{text}");
    assert!(
        text.contains(r#""kmsKeks":[{"region":"us-west-2","arn":"arn:us-west-2","encryptedKek":""#),
        "{text}"
    );
    let keks = json["kmsKeks"].as_array().expect("array");
    assert_eq!(keks.len(), 2);
    assert_eq!(keks[1]["region"], "us-east-1");
    // West generated (its ARN matched, blob reused); only east was asked to Encrypt.
    assert_eq!(*west.calls.lock(), ["us-west-2 generate"]);
    assert_eq!(*east.calls.lock(), ["us-east-1 encrypt"]);

    let mut out = [0u8; 32];
    block_on(kms.decrypt_key(&envelope, &mut out)).expect("decrypt");
    assert_eq!(out, SK);
}

#[test]
fn preferred_region_down_falls_back_for_encrypt_and_decrypt() {
    let west = Arc::new(Fake {
        fail_generate: true,
        fail_encrypt: true,
        ..Fake::new("us-west-2")
    });
    let east = Arc::new(Fake::new("us-east-1"));
    let kms1 = kms(&[Arc::clone(&west), Arc::clone(&east)]);
    let envelope = block_on(kms1.encrypt_key(&SK)).expect("east alone suffices");
    let json: serde_json::Value = serde_json::from_slice(&envelope).expect("json");
    assert_eq!(
        json["kmsKeks"].as_array().map(Vec::len),
        Some(1),
        "west omitted"
    );

    // Both KEKs present, preferred region down at decrypt time: east unwraps.
    let both = block_on(
        kms(&[
            Arc::new(Fake::new("us-west-2")),
            Arc::new(Fake::new("us-east-1")),
        ])
        .encrypt_key(&SK),
    )
    .expect("encrypt");
    let west_down = Arc::new(Fake {
        fail_decrypt: true,
        ..Fake::new("us-west-2")
    });
    let east = Arc::new(Fake::new("us-east-1"));
    let mut out = [0u8; 32];
    block_on(kms(&[Arc::clone(&west_down), Arc::clone(&east)]).decrypt_key(&both, &mut out))
        .expect("fallback");
    assert_eq!(out, SK);
    assert_eq!(*west_down.calls.lock(), ["us-west-2 decrypt"]);
}

#[test]
fn no_region_wrapping_the_data_key_fails_instead_of_writing_an_undecryptable_key() {
    // docs/compatibility.md#q8-aws-kms-with-no-kek: west generates, but KMS reports a key id other than the
    // configured ARN (an alias was configured), so its blob cannot be reused, and every Encrypt fails. Go returns
    // `"kmsKeks":null` here.
    let west = Arc::new(Fake {
        reported_key_id: Some("arn:aws:kms:us-west-2:1:key/real"),
        fail_encrypt: true,
        ..Fake::new("us-west-2")
    });
    let east = Arc::new(Fake {
        fail_encrypt: true,
        ..Fake::new("us-east-1")
    });
    let err =
        block_on(kms(&[west, east]).encrypt_key(&SK)).expect_err("must not produce an envelope");
    assert!(matches!(err, Error::KmsNoRegionalKek { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("us-west-2: us-west-2 refuses Encrypt"),
        "{text}"
    );
    assert!(
        text.contains("us-east-1: us-east-1 refuses Encrypt"),
        "{text}"
    );
}

#[test]
fn all_regions_down_is_one_error_naming_each_region() {
    let fakes = [
        Arc::new(Fake {
            fail_generate: true,
            fail_decrypt: true,
            ..Fake::new("us-west-2")
        }),
        Arc::new(Fake {
            fail_generate: true,
            fail_decrypt: true,
            ..Fake::new("us-east-1")
        }),
    ];
    let kms_down = kms(&fakes);
    let err = block_on(kms_down.encrypt_key(&SK)).expect_err("down");
    assert!(
        matches!(&err, Error::KmsAllRegionsFailed { operation: "generate data key", details }
            if details.contains("us-west-2: us-west-2 is down") && details.contains("us-east-1: us-east-1 is down")),
        "{err:?}"
    );
    let envelope = block_on(
        kms(&[
            Arc::new(Fake::new("us-west-2")),
            Arc::new(Fake::new("us-east-1")),
        ])
        .encrypt_key(&SK),
    )
    .expect("encrypt");
    let mut out = [9u8; 32];
    let err = block_on(kms_down.decrypt_key(&envelope, &mut out)).expect_err("down");
    assert!(
        matches!(
            err,
            Error::KmsAllRegionsFailed {
                operation: "decrypt",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(out, [0u8; 32], "key_out is zeros on error");
}

#[test]
fn envelopes_from_go_parse_by_region_in_any_order_and_case() {
    let west = Fake::new("us-west-2");
    let envelope =
        block_on(kms(&[Arc::new(Fake::new("us-west-2"))]).encrypt_key(&SK)).expect("encrypt");
    let json: serde_json::Value = serde_json::from_slice(&envelope).expect("json");
    let encrypted_key = json["encryptedKey"].as_str().expect("string");
    let kek = STANDARD.encode(west.wrap(&[7u8; 32]));
    // Go's own field names in another order and case, an unknown region first.
    let go = format!(
        r#"{{"KmsKeks":[{{"Region":"eu-west-1","Arn":"x","EncryptedKek":"AAAA"}},{{"encryptedKek":"{kek}","region":"us-west-2","arn":"arn:us-west-2"}}],"EncryptedKey":"{encrypted_key}"}}"#
    );
    let mut out = [0u8; 32];
    block_on(kms(&[Arc::new(Fake::new("us-west-2"))]).decrypt_key(go.as_bytes(), &mut out))
        .expect("decrypt");
    assert_eq!(out, SK);

    // Go v2's `"kmsKeks":null` (docs/compatibility.md#q8-aws-kms-with-no-kek): parses, but nothing can decrypt it.
    let null = format!(r#"{{"encryptedKey":"{encrypted_key}","kmsKeks":null}}"#);
    let err =
        block_on(kms(&[Arc::new(Fake::new("us-west-2"))]).decrypt_key(null.as_bytes(), &mut out))
            .expect_err("no kek");
    assert!(
        err.to_string().contains("no KEK for any configured region"),
        "{err}"
    );
}

#[test]
fn malformed_envelopes_are_unmarshal_errors() {
    let kms = kms(&[Arc::new(Fake::new("us-west-2"))]);
    for bad in [
        &b"not json"[..],
        b"[]",
        br#"{"kmsKeks":[]}"#,
        br#"{"encryptedKey":"@@","kmsKeks":[]}"#,
        br#"{"encryptedKey":"AAAA","kmsKeks":{}}"#,
        br#"{"encryptedKey":"AAAA","kmsKeks":[{"arn":"x","encryptedKek":"AAAA"}]}"#,
        br#"{"encryptedKey":"AAAA","kmsKeks":[{"region":"us-west-2","encryptedKek":7}]}"#,
    ] {
        let mut out = [0u8; 32];
        let err = block_on(kms.decrypt_key(bad, &mut out)).expect_err("malformed");
        assert!(
            matches!(err, Error::KmsEnvelope(_))
                && err
                    .to_string()
                    .starts_with("unable to unmarshal envelope: "),
            "{}: {err:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn builder_rejects_configurations_go_panics_on_or_silently_accepts() {
    let err = block_on(AwsKms::builder(Vec::<(String, String)>::new()).build()).expect_err("empty");
    assert!(matches!(err, Error::InvalidConfiguration(_)), "{err:?}");
    let two = [("us-west-2", "arn:a"), ("us-east-1", "arn:b")];
    let err = block_on(AwsKms::builder(two).build()).expect_err("no preferred");
    assert!(err.to_string().contains("preferred region"), "{err}");
    let err = block_on(AwsKms::builder(two).preferred_region("eu-west-1").build())
        .expect_err("unknown preferred");
    assert!(err.to_string().contains("\"eu-west-1\""), "{err}");
    let err = block_on(
        AwsKms::builder([("us-west-2", "arn:a")])
            .region_deadline(Duration::ZERO)
            .build(),
    )
    .expect_err("zero deadline");
    assert!(err.to_string().contains("region deadline is zero"), "{err}");
}

#[test]
fn debug_shows_regions_not_secrets() {
    let text = format!("{:?}", kms(&[Arc::new(Fake::new("us-west-2"))]));
    assert_eq!(
        text,
        r#"AwsKms { regions: [("us-west-2", "arn:us-west-2")], .. }"#
    );
}

/// A region that never answers is left out within its deadline, for each operation; the call succeeds through
/// the other region and takes about one deadline, not forever.
#[test]
fn a_hung_region_is_left_out_after_its_own_deadline() {
    const DEADLINE: Duration = Duration::from_millis(150);
    let with_deadline = |fakes: &[Arc<Fake>]| {
        let mut kms = kms(fakes);
        kms.region_deadline = DEADLINE;
        kms
    };
    let timed = |f: &dyn Fn() -> Result<(), Error>| {
        let started = std::time::Instant::now();
        f().expect("the other region answers");
        let elapsed = started.elapsed();
        assert!(
            elapsed >= DEADLINE && elapsed < DEADLINE * 4,
            "took {elapsed:?}"
        );
    };

    // Wrapping: east hangs on Encrypt, west generated; the envelope carries west's KEK only.
    let west = Arc::new(Fake::new("us-west-2"));
    let east = Arc::new(Fake {
        hang: true,
        ..Fake::new("us-east-1")
    });
    let kms1 = with_deadline(&[Arc::clone(&west), Arc::clone(&east)]);
    let envelope = std::cell::RefCell::new(Vec::new());
    timed(&|| {
        *envelope.borrow_mut() = block_on(kms1.encrypt_key(&SK))?;
        Ok(())
    });
    let json: serde_json::Value = serde_json::from_slice(&envelope.borrow()).expect("json");
    let keks = json["kmsKeks"].as_array().expect("array");
    assert_eq!(keks.len(), 1, "the hung region is left out: {json}");
    assert_eq!(keks[0]["region"], "us-west-2");

    // Generating: the preferred region hangs, so the data key comes from the next one.
    let west_hung = Arc::new(Fake {
        hang: true,
        ..Fake::new("us-west-2")
    });
    let east = Arc::new(Fake::new("us-east-1"));
    let kms2 = with_deadline(&[Arc::clone(&west_hung), Arc::clone(&east)]);
    timed(&|| block_on(kms2.encrypt_key(&SK)).map(drop));
    assert_eq!(
        *west_hung.calls.lock(),
        ["us-west-2 generate", "us-west-2 encrypt"]
    );

    // Decrypting: the preferred region hangs; the other unwraps.
    let both = block_on(
        kms(&[
            Arc::new(Fake::new("us-west-2")),
            Arc::new(Fake::new("us-east-1")),
        ])
        .encrypt_key(&SK),
    )
    .expect("encrypt");
    let kms3 = with_deadline(&[west_hung, east]);
    timed(&|| {
        let mut key = [0u8; 32];
        block_on(kms3.decrypt_key(&both, &mut key))?;
        assert_eq!(key, SK);
        Ok(())
    });
}

#[test]
fn every_region_hung_fails_naming_the_deadline() {
    let mut kms = kms(&[Arc::new(Fake {
        hang: true,
        ..Fake::new("us-west-2")
    })]);
    kms.region_deadline = Duration::from_millis(50);
    let err = block_on(kms.encrypt_key(&SK)).expect_err("no region answers");
    assert!(matches!(err, Error::KmsAllRegionsFailed { .. }), "{err:?}");
    assert!(err.to_string().contains("region deadline of 50ms"), "{err}");
}
