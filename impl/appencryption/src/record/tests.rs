//! Record JSON: Go-identical writing, Go-tolerant reading, and a precise error for every kind of bad input.

use super::*;

const VECTORS: &str = include_str!("../../tests/data/spec-2.8-vectors.json");

fn vector(path: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(VECTORS).expect("vectors file is JSON");
    v.pointer(path)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_else(|| panic!("missing {path}"))
        .to_owned()
}

/// The docs/compatibility.md#test-vectors DRR as Go writes it.
fn spec_drr_json() -> String {
    vector("/outputs/drr_json")
}

/// The docs/compatibility.md#test-vectors IK metastore row as Go writes it.
fn spec_ik_json() -> String {
    vector("/outputs/metastore_rows/1/key_record")
}

fn spec_drr() -> DataRowRecord {
    DataRowRecord::from_json(spec_drr_json().as_bytes()).expect("spec DRR parses")
}

fn spec_ik() -> EnvelopeKeyRecord {
    EnvelopeKeyRecord::from_json(spec_ik_json().as_bytes()).expect("spec IK parses")
}

const DRK_B64: &str =
    "KtJ7sscqDawybBTwZZCNQ9Ed0INI8gA6IRZa+qns92vuMyAWtZyJqooOHIqrGEOrwMHCw8TFxsfIycrL";
const DATA_B64: &str = "srWFooYylwCUKFjq1B2EA8DOvdKXFq8HfFCcAd/JoVsUkizm0NHS09TV1tfY2drb";
const IK_B64: &str =
    "uXR4iMjonXhv0b2J4XCm7bQNe+EhG7kCZve4ymC/zCloQfsgvHnM22+2zHEY+a6vsLGys7S1tre4ubq7";

fn drr_err(json: &str) -> Error {
    match DataRowRecord::from_json(json.as_bytes()) {
        Ok(r) => panic!("accepted {json:?} as {r:?}"),
        Err(e) => e,
    }
}

fn ekr_err(json: &str) -> Error {
    match EnvelopeKeyRecord::from_json(json.as_bytes()) {
        Ok(r) => panic!("accepted {json:?} as {r:?}"),
        Err(e) => e,
    }
}

// --- writing --------------------------------------------------------------------------------------------------

#[test]
fn spec_records_parse_to_the_expected_fields() {
    let drr = spec_drr();
    let key = drr.key.as_ref().expect("key");
    assert!(!key.revoked);
    assert!(key.id.is_empty());
    assert_eq!(key.created, 1_700_000_123);
    assert_eq!(key.encrypted_key.len(), 60);
    assert_eq!(
        key.parent_key_meta,
        Some(KeyMeta {
            key_id: "_IK_partition_service_product".into(),
            created: 1_700_000_100
        })
    );
    assert_eq!(drr.data.len(), 48);
    assert_eq!(drr.to_json(), spec_drr_json().as_bytes());
    assert_eq!(spec_ik().to_json(), spec_ik_json().as_bytes());
}

#[test]
fn revoked_is_written_first_and_only_when_true() {
    let mut ik = spec_ik();
    ik.revoked = true;
    let json = String::from_utf8(ik.to_json()).expect("utf-8");
    assert!(
        json.starts_with(r#"{"Revoked":true,"Created":1700000100,"Key":""#),
        "{json}"
    );
    assert_eq!(
        EnvelopeKeyRecord::from_json(json.as_bytes()).expect("parses"),
        ik
    );
}

#[test]
fn system_keys_omit_parent_key_meta() {
    let sk = EnvelopeKeyRecord {
        created: 1,
        encrypted_key: vec![0xfb, 0xff],
        ..EnvelopeKeyRecord::default()
    };
    assert_eq!(sk.to_json(), br#"{"Created":1,"Key":"+/8="}"#);
}

#[test]
fn missing_drr_key_is_written_as_null() {
    let drr = DataRowRecord {
        key: None,
        data: b"ab".to_vec(),
    };
    assert_eq!(drr.to_json(), br#"{"Key":null,"Data":"YWI="}"#);
}

#[test]
fn key_ids_are_escaped_like_go() {
    let mut drr = spec_drr();
    if let Some(meta) = drr.key.as_mut().and_then(|k| k.parent_key_meta.as_mut()) {
        meta.key_id = "_IK_<p&q>\"\\\n\u{1}\u{2028}é_svc".into();
    }
    let json = String::from_utf8(drr.to_json()).expect("utf-8");
    assert!(
        json.contains(r#""KeyId":"_IK_\u003cp\u0026q\u003e\"\\\n\u0001\u2028é_svc""#),
        "{json}"
    );
    assert_eq!(
        DataRowRecord::from_json(json.as_bytes()).expect("parses"),
        drr
    );
}

#[test]
fn write_json_appends_to_a_reused_buffer() {
    let drr = spec_drr();
    let mut buf = Vec::new();
    for _ in 0..3 {
        buf.clear();
        drr.write_json(&mut buf);
        assert_eq!(buf, spec_drr_json().as_bytes());
    }
    let mut prefixed = b"[".to_vec();
    drr.write_json(&mut prefixed);
    assert_eq!(&prefixed[1..], spec_drr_json().as_bytes());
}

// --- tolerant reading -----------------------------------------------------------------------------------------

#[test]
fn java_field_order_with_explicit_revoked_false_is_read() {
    let json = format!(
        r#"{{"Created":1700000100,"ParentKeyMeta":{{"KeyId":"_SK_service_product","Created":1700000040}},"Key":"{IK_B64}","Revoked":false}}"#
    );
    assert_eq!(
        EnvelopeKeyRecord::from_json(json.as_bytes()).expect("java order"),
        spec_ik()
    );
}

#[test]
fn python_sidecar_order_with_whitespace_is_read() {
    let json = format!(
        "{{\"Data\": \"{DATA_B64}\",\n  \"Key\": {{\"ParentKeyMeta\": {{\"KeyId\": \"_IK_partition_service_product\", \
         \"Created\": 1700000100}}, \"Key\": \"{DRK_B64}\", \"Created\": 1700000123}}\r\n}}\t "
    );
    assert_eq!(
        DataRowRecord::from_json(json.as_bytes()).expect("sidecar order"),
        spec_drr()
    );
}

#[test]
fn keys_match_case_insensitively() {
    let json = format!(
        r#"{{"key":{{"CREATED":1700000123,"kEy":"{DRK_B64}","parentkeymeta":{{"KEYID":"_IK_partition_service_product","created":1700000100}}}},"DATA":"{DATA_B64}"}}"#
    );
    assert_eq!(
        DataRowRecord::from_json(json.as_bytes()).expect("folded keys"),
        spec_drr()
    );
    // Go folds KELVIN SIGN onto K, and unescapes keys before matching.
    let json = format!(
        r#"{{"\u212aey":{{"Created":1700000123,"K\u0065y":"{DRK_B64}","ParentKeyMeta":{{"KeyId":"_IK_partition_service_product","Created":1700000100}}}},"Data":"{DATA_B64}"}}"#
    );
    assert_eq!(
        DataRowRecord::from_json(json.as_bytes()).expect("unicode fold"),
        spec_drr()
    );
}

#[test]
fn unknown_fields_of_every_shape_are_ignored() {
    let json = format!(
        r#"{{"Version":2,"Extra":{{"a":[1,-2.5e+3,{{"b":null}},[],{{}}],"c":"\u00e9\n"}},"Key":{{"Algorithm":"AES-256-GCM","Created":1700000123,"Key":"{DRK_B64}","ParentKeyMeta":{{"KeyId":"_IK_partition_service_product","Created":1700000100,"Region":null}},"Flags":[true,false]}},"Data":"{DATA_B64}","Tail":"x"}}"#
    );
    assert_eq!(
        DataRowRecord::from_json(json.as_bytes()).expect("unknown fields"),
        spec_drr()
    );
}

#[test]
fn nulls_mean_zero_values() {
    assert_eq!(
        DataRowRecord::from_json(br#"{"Key":null,"Data":null}"#).expect("nulls"),
        DataRowRecord::default()
    );
    assert_eq!(
        EnvelopeKeyRecord::from_json(
            br#"{"Revoked":null,"Created":null,"Key":null,"ParentKeyMeta":null}"#
        )
        .expect("nulls"),
        EnvelopeKeyRecord::default()
    );
    assert_eq!(
        DataRowRecord::from_json(b" null ").expect("null"),
        DataRowRecord::default()
    );
    assert_eq!(
        DataRowRecord::from_json(b"{}").expect("empty"),
        DataRowRecord::default()
    );
    // Go: `null` leaves a scalar as it was; it empties a slice or pointer.
    let ekr = EnvelopeKeyRecord::from_json(
        br#"{"Created":5,"Created":null,"Revoked":true,"Revoked":null,"Key":"QQ==","Key":null}"#,
    )
    .expect("repeated");
    assert_eq!(
        (ekr.created, ekr.revoked, ekr.encrypted_key.len()),
        (5, true, 0)
    );
    let meta = EnvelopeKeyRecord::from_json(br#"{"ParentKeyMeta":{"KeyId":"a","KeyId":null}}"#)
        .expect("null string")
        .parent_key_meta;
    assert_eq!(meta.map(|m| m.key_id), Some("a".to_owned()));
}

#[test]
fn missing_drr_key_reads_as_none() {
    let drr =
        DataRowRecord::from_json(format!(r#"{{"Data":"{DATA_B64}"}}"#).as_bytes()).expect("no key");
    assert_eq!(drr.key, None);
    assert_eq!(drr.data.len(), 48);
}

#[test]
fn repeated_keys_overwrite_and_objects_merge_like_go() {
    let ekr = EnvelopeKeyRecord::from_json(
        br#"{"Created":1,"Created":2,"ParentKeyMeta":{"KeyId":"a"},"ParentKeyMeta":{"Created":7}}"#,
    )
    .expect("repeated");
    assert_eq!(ekr.created, 2);
    assert_eq!(
        ekr.parent_key_meta,
        Some(KeyMeta {
            key_id: "a".into(),
            created: 7
        })
    );
}

#[test]
fn line_breaks_and_escapes_inside_base64_are_ignored_or_decoded() {
    let (a, b) = DATA_B64.split_at(30);
    let json = format!(
        r#"{{"Key":null,"Data":"{a}\n{}\r\n{}"}}"#,
        &b[..10],
        &b[10..]
    );
    assert_eq!(
        DataRowRecord::from_json(json.as_bytes())
            .expect("line breaks")
            .data,
        spec_drr().data
    );
    // `\/` and `\u002b` are `/` and `+`.
    let ekr = EnvelopeKeyRecord::from_json(br#"{"Key":"\u002b\/8="}"#).expect("escaped base64");
    assert_eq!(ekr.encrypted_key, [0xfb, 0xff]);
    // Go's non-strict decoder ignores non-zero bits in the last symbol.
    let ekr = EnvelopeKeyRecord::from_json(br#"{"Key":"QR=="}"#).expect("trailing bits");
    assert_eq!(ekr.encrypted_key, b"A");
}

#[test]
fn strings_decode_like_go() {
    let meta = |json: &[u8]| {
        EnvelopeKeyRecord::from_json(json)
            .expect("parses")
            .parent_key_meta
            .expect("meta")
            .key_id
    };
    assert_eq!(
        meta(br#"{"ParentKeyMeta":{"KeyId":"\u003c\ud83d\ude00\ud800"}}"#),
        "<\u{1F600}\u{fffd}"
    );
    assert_eq!(
        meta(b"{\"ParentKeyMeta\":{\"KeyId\":\"a\xffb\"}}"),
        "a\u{fffd}b"
    );
    assert_eq!(
        meta("{\"ParentKeyMeta\":{\"KeyId\":\"é\u{7f}\"}}".as_bytes()),
        "é\u{7f}"
    );
}

#[test]
fn integers_at_the_i64_limits_are_read() {
    let ekr = EnvelopeKeyRecord::from_json(
        br#"{"Created":-9223372036854775808,"ParentKeyMeta":{"Created":9223372036854775807}}"#,
    )
    .expect("limits");
    assert_eq!(ekr.created, i64::MIN);
    assert_eq!(ekr.parent_key_meta.map(|m| m.created), Some(i64::MAX));
    assert_eq!(
        EnvelopeKeyRecord::from_json(br#"{"Created":-0}"#)
            .expect("-0")
            .created,
        0
    );
}

#[test]
fn nesting_up_to_go_limit_is_accepted() {
    // The record object is depth 1, so 9 999 more levels reach Go's limit of 10 000.
    let deep = format!(r#"{{"x":{}{}}}"#, "[".repeat(9_999), "]".repeat(9_999));
    assert_eq!(
        DataRowRecord::from_json(deep.as_bytes()).expect("deep"),
        DataRowRecord::default()
    );
}

// --- rejection --------------------------------------------------------------------------------------------------

#[test]
fn malformed_json_is_rejected_as_malformed() {
    for json in [
        r#"{"Key":}"#,
        r#"{"Key" null}"#,
        r#"{"Data":"",}"#,
        r#"{,}"#,
        r#"{} x"#,
        r#"{}{}"#,
        r#"{'Data':''}"#,
        r#"{"Created":01}"#,
        r#"{"Created":+1}"#,
        r#"{"Created":1.}"#,
        r#"{"Created":1e}"#,
        r#"{"Created":NaN}"#,
        r#"{"Created":-}"#,
        r#"{"Revoked":True}"#,
        r#"{"Revoked":nul}"#,
        r#"{"X":[1,]}"#,
        r#"{"X":[1 2]}"#,
        r#"{"X":{"a" 1}}"#,
        r#"{"X":{"a":1,}}"#,
        r#"{"X":"\x"}"#,
        r#"{"X":"\u12G4"}"#,
        "{\"X\":\"tab\tinside\"}",
        "{\"Data\":\"QQ==\u{0}\"}",
        "\u{feff}{}",
        "[",
    ] {
        // A few of these end early inside a value; all others are syntax errors.
        match drr_err(json) {
            Error::MalformedJson(msg) => {
                assert!(msg.starts_with("invalid character"), "{json}: {msg}")
            }
            Error::JsonTruncated { .. } => assert_eq!(json, "["),
            other => panic!("{json}: {other:?}"),
        }
    }
    let msg = drr_err(r#"{"Key":}"#).to_string();
    assert_eq!(
        msg,
        "malformed record JSON: invalid character '}' looking for beginning of value at byte 7"
    );
}

#[test]
fn nesting_beyond_go_limit_is_malformed() {
    let deep = format!(r#"{{"x":{}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(drr_err(&deep), Error::MalformedJson(m) if m.contains("exceeded max depth")));
}

#[test]
fn every_truncation_of_a_record_is_reported_as_truncated() {
    let json = spec_drr_json();
    for len in 0..json.len() {
        let err = drr_err(&json[..len]);
        assert!(
            matches!(err, Error::JsonTruncated { len: l } if l == len),
            "prefix {len}: {err:?}"
        );
    }
    let json = spec_ik_json();
    for len in 0..json.len() {
        assert!(
            matches!(ekr_err(&json[..len]), Error::JsonTruncated { .. }),
            "prefix {len}"
        );
    }
    assert!(matches!(drr_err("  \n"), Error::JsonTruncated { len: 3 }));
}

#[test]
fn bad_base64_is_rejected_with_its_field() {
    assert!(matches!(
        drr_err(r#"{"Data":"!!!!"}"#),
        Error::InvalidBase64 { field: "Data" }
    ));
    // URL-safe alphabet.
    assert!(matches!(
        drr_err(r#"{"Data":"-_8="}"#),
        Error::InvalidBase64 { field: "Data" }
    ));
    // Padding in the middle, too much padding, impossible length.
    assert!(matches!(
        drr_err(r#"{"Data":"QQ==QQ=="}"#),
        Error::InvalidBase64 { .. }
    ));
    assert!(matches!(
        drr_err(r#"{"Data":"QQ==="}"#),
        Error::InvalidBase64 { .. }
    ));
    assert!(matches!(
        drr_err(r#"{"Data":"QUJDR"}"#),
        Error::InvalidBase64 { .. }
    ));
    assert!(matches!(
        drr_err(r#"{"Data":"Q==="}"#),
        Error::InvalidBase64 { .. }
    ));
    // A space is not ignored (only CR and LF are).
    assert!(matches!(
        drr_err(r#"{"Data":"QU JD"}"#),
        Error::InvalidBase64 { .. }
    ));
    assert!(matches!(
        drr_err(r#"{"Key":{"Key":"*"}}"#),
        Error::InvalidBase64 { field: "Key.Key" }
    ));
    assert!(matches!(
        ekr_err(r#"{"Key":"%%%%"}"#),
        Error::InvalidBase64 { field: "Key" }
    ));
}

#[test]
fn missing_base64_padding_is_rejected() {
    assert!(matches!(
        drr_err(r#"{"Data":"QQ"}"#),
        Error::MissingBase64Padding { field: "Data" }
    ));
    assert!(matches!(
        drr_err(r#"{"Data":"QUI"}"#),
        Error::MissingBase64Padding { field: "Data" }
    ));
    assert!(matches!(
        drr_err(r#"{"Data":"QQ="}"#),
        Error::InvalidBase64 { field: "Data" }
    ));
    let drk = &DRK_B64[..DRK_B64.len() - 2];
    assert!(matches!(
        drr_err(&format!(r#"{{"Key":{{"Key":"{drk}"}}}}"#)),
        Error::MissingBase64Padding { field: "Key.Key" }
    ));
}

#[test]
fn non_integer_created_is_rejected() {
    for created in ["1700000123.0", "1.7e9", "17E8", "1700000123.5", "-1.0"] {
        let json = format!(r#"{{"Key":{{"Created":{created}}}}}"#);
        assert!(
            matches!(
                drr_err(&json),
                Error::JsonNotInteger {
                    field: "Key.Created"
                }
            ),
            "{created}"
        );
    }
    assert!(matches!(
        ekr_err(r#"{"ParentKeyMeta":{"Created":0.5}}"#),
        Error::JsonNotInteger {
            field: "ParentKeyMeta.Created"
        }
    ));
}

#[test]
fn out_of_range_created_is_rejected() {
    for created in [
        "9223372036854775808",
        "-9223372036854775809",
        "100000000000000000000000",
    ] {
        let json = format!(r#"{{"Created":{created}}}"#);
        assert!(
            matches!(
                ekr_err(&json),
                Error::JsonIntegerOutOfRange { field: "Created" }
            ),
            "{created}"
        );
    }
}

#[test]
fn wrong_json_types_are_rejected_with_their_field() {
    let cases: &[(&str, &str)] = &[
        (r#"[]"#, "DataRowRecord"),
        (r#""record""#, "DataRowRecord"),
        (r#"{"Key":"x"}"#, "Key"),
        (r#"{"Key":[]}"#, "Key"),
        (r#"{"Data":1}"#, "Data"),
        (r#"{"Data":[1,2]}"#, "Data"),
        (r#"{"Key":{"Created":"1700000123"}}"#, "Key.Created"),
        (r#"{"Key":{"Revoked":"true"}}"#, "Key.Revoked"),
        (r#"{"Key":{"ParentKeyMeta":"x"}}"#, "Key.ParentKeyMeta"),
        (
            r#"{"Key":{"ParentKeyMeta":{"KeyId":5}}}"#,
            "Key.ParentKeyMeta.KeyId",
        ),
    ];
    for (json, field) in cases {
        match drr_err(json) {
            Error::JsonWrongType { field: f, .. } => assert_eq!(f, *field, "{json}"),
            other => panic!("{json}: {other:?}"),
        }
    }
    assert!(matches!(
        ekr_err("true"),
        Error::JsonWrongType {
            field: "EnvelopeKeyRecord",
            ..
        }
    ));
}

#[test]
fn syntax_errors_win_over_type_errors_and_the_first_type_error_wins() {
    // Go validates the whole input before decoding.
    assert!(matches!(
        ekr_err(r#"{"Created":1.5,"#),
        Error::JsonTruncated { .. }
    ));
    assert!(matches!(
        ekr_err(r#"{"Created":"x"} junk"#),
        Error::MalformedJson(_)
    ));
    assert!(matches!(
        ekr_err(r#"{"Created":"x","X":[}"#),
        Error::MalformedJson(_)
    ));
    assert!(matches!(
        ekr_err(r#"{"Created":1.5,"Key":"!!","Revoked":1}"#),
        Error::JsonNotInteger { field: "Created" }
    ));
}

#[test]
fn error_messages_name_the_field_and_the_remedy() {
    let msg = drr_err(r#"{"Data":"QQ"}"#).to_string();
    assert!(msg.contains("`Data`") && msg.contains("padding"), "{msg}");
    let msg = drr_err(r#"{"Key":{"Created":1.5}}"#).to_string();
    assert!(msg.contains("`Key.Created`"), "{msg}");
    let msg = drr_err(r#"{"Key":{"#).to_string();
    assert!(msg.contains("truncated"), "{msg}");
}
