//! Go ↔ Rust interop against the real upstream Go Asherah (appencryption v0.9.0, pinned in go-baseline/go.mod),
//! offline through a shared SQLite metastore file (docs/compatibility.md#cross-language-suite,
//! docs/architecture.md#interop-tested-against-real-go).
//!
//! The Go side is go-baseline's `cmd/interop`, built once per test run into the cargo target dir; every Go call is
//! a separate OS process over the same file the Rust side has open. Both use the cross-language suite's identities
//! (service `service`, product `product`, static KMS `thisIsAStaticMasterKeyForTesting`) and library defaults.
//! Without a `go` command the tests say so loudly and pass vacuously, except under `CI=true`, where they fail.

mod interop;

use std::path::Path;
use std::sync::Arc;

use appencryption::{EnvelopeKeyRecord, InMemoryMetastore, Metastore};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;

use interop::{
    GoCli, JsonRow, PARTITION, PAYLOAD, RustSide, TAMPERINGS, drr_value, go_cli, go_sqlite,
    python_sidecar_layout, read_json_rows, scratch, tamper, write_json_rows,
};

/// The payload edge cases of the suite: empty, one byte, 64 KiB, not UTF-8.
fn edge_payloads() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty", Vec::new()),
        ("one byte", vec![0x2a]),
        (
            "64 KiB",
            (0..64 * 1024).map(|i| (i * 31 % 251) as u8).collect(),
        ),
        (
            "not UTF-8",
            vec![0xff, 0xfe, 0x80, 0xc3, 0x28, 0x00, 0xed, 0xa0, 0x80],
        ),
    ]
}

/// The IK (id, created) a DRR names as its parent.
fn parent_of(transport: &str) -> (String, i64) {
    let drr = drr_value(transport);
    let meta = &drr["Key"]["ParentKeyMeta"];
    (
        meta["KeyId"].as_str().expect("KeyId").to_owned(),
        meta["Created"].as_i64().expect("Created"),
    )
}

#[derive(Clone, Copy, Debug)]
enum FirstWriter {
    Go,
    Rust,
}

/// Both directions through one shared metastore (`go_metastore` is the Go CLI's `--metastore` argument, `rust` the
/// Rust side over the same store), for a partition nobody has written yet: the first writer creates the SK and IK,
/// the second reuses them (docs/compatibility.md#cross-language-suite), and each side decrypts every record of the
/// other.
fn exchange(go: &GoCli, go_metastore: &str, rust: &RustSide, partition: &str, first: FirstWriter) {
    let payloads = edge_payloads();
    let items: Vec<(&str, &[u8])> = payloads
        .iter()
        .map(|(_, p)| (partition, p.as_slice()))
        .collect();
    let go_args = ["--partition", partition];

    let go_encrypt = || go.encrypt_batch(go_metastore, &go_args, &items);
    let rust_encrypt = || -> Vec<String> {
        payloads
            .iter()
            .map(|(_, p)| rust.encrypt(partition, p))
            .collect()
    };
    let (go_records, rust_records) = match first {
        FirstWriter::Go => {
            let g = go_encrypt();
            (g, rust_encrypt())
        }
        FirstWriter::Rust => {
            let r = rust_encrypt();
            (go_encrypt(), r)
        }
    };

    // One SK and one IK: whoever came second found and used the first writer's.
    let ik = rust
        .latest(&format!("_IK_{partition}_service_product"))
        .expect("IK row");
    let sk = rust.latest("_SK_service_product").expect("SK row");
    assert_eq!(
        ik.parent_key_meta.as_ref().map(|m| m.created),
        Some(sk.created)
    );
    for t in go_records.iter().chain(&rust_records) {
        assert_eq!(
            parent_of(t),
            (ik.id.clone(), ik.created),
            "{first:?} first: a record names another IK"
        );
    }

    // Go encrypts → Rust decrypts.
    for ((name, payload), t) in payloads.iter().zip(&go_records) {
        let got = rust
            .decrypt(partition, t)
            .unwrap_or_else(|e| panic!("Rust decrypt of Go's {name}: {e}"));
        assert_eq!(&got, payload, "Rust decrypt of Go's {name}");
    }

    // Rust encrypts → Go decrypts (one process for all of them).
    let batch: Vec<(&str, &str)> = rust_records
        .iter()
        .map(|t| (partition, t.as_str()))
        .collect();
    for ((name, payload), got) in
        payloads
            .iter()
            .zip(go.decrypt_batch(go_metastore, &go_args, &batch))
    {
        let got = got.unwrap_or_else(|e| panic!("Go decrypt of Rust's {name}: {e}"));
        assert_eq!(&got, payload, "Go decrypt of Rust's {name}");
    }

    // Single-record CLI path too: the transport string as the docs/compatibility.md#cross-language-suite files hold
    // it.
    let single = go.ok(
        &[
            "decrypt",
            "--metastore",
            go_metastore,
            "--partition",
            partition,
        ],
        rust_records[1].as_bytes(),
    );
    assert_eq!(single, payloads[1].1);
}

/// [`exchange`] over a fresh SQLite file in `dir`.
fn exchange_sqlite(go: &GoCli, dir: &Path, first: FirstWriter) {
    let db = dir.join("metastore.db");
    exchange(
        go,
        &go_sqlite(&db),
        &RustSide::sqlite(&db, None),
        PARTITION,
        first,
    );
}

#[test]
fn go_writes_keys_first_then_both_directions_decrypt() {
    let Some(go) = go_cli() else { return };
    exchange_sqlite(go, &scratch("go-first"), FirstWriter::Go);
}

#[test]
fn rust_writes_keys_first_then_both_directions_decrypt() {
    let Some(go) = go_cli() else { return };
    exchange_sqlite(go, &scratch("rust-first"), FirstWriter::Rust);
}

/// docs/compatibility.md#cross-language-suite flow: every implementation writes `<impl>_encrypted` (standard base64
/// of the DRR JSON, no trailing newline) into one directory, then every implementation decrypts every file; plus the
/// Python sidecar's layout of a Go and a Rust record.
#[test]
fn spec_12_files_decrypt_in_both_implementations() {
    let Some(go) = go_cli() else { return };
    let dir = scratch("spec-12");
    let db = dir.join("metastore.db");
    let ms = go_sqlite(&db);

    std::fs::write(
        dir.join("go_encrypted"),
        go.ok(&["encrypt", "--metastore", &ms], PAYLOAD),
    )
    .unwrap();
    let rust = RustSide::sqlite(&db, None);
    std::fs::write(dir.join("rust_encrypted"), rust.encrypt(PARTITION, PAYLOAD)).unwrap();
    let go_text = std::fs::read_to_string(dir.join("go_encrypted")).unwrap();
    let rust_text = std::fs::read_to_string(dir.join("rust_encrypted")).unwrap();
    std::fs::write(
        dir.join("sidecar_go_encrypted"),
        python_sidecar_layout(&go_text),
    )
    .unwrap();
    std::fs::write(
        dir.join("sidecar_rust_encrypted"),
        python_sidecar_layout(&rust_text),
    )
    .unwrap();

    for name in [
        "go_encrypted",
        "rust_encrypted",
        "sidecar_go_encrypted",
        "sidecar_rust_encrypted",
    ] {
        let file = std::fs::read(dir.join(name)).unwrap();
        assert!(!file.ends_with(b"\n"), "{name} ends with a newline");
        assert_ne!(file, PAYLOAD, "{name} holds the plaintext");
        let text = String::from_utf8(file).expect("base64 is ASCII");
        assert_eq!(
            STANDARD.encode(STANDARD.decode(&text).expect("standard base64")),
            text,
            "{name} is not canonical padded standard base64"
        );
        assert_eq!(
            go.ok(&["decrypt", "--metastore", &ms], text.as_bytes()),
            PAYLOAD,
            "Go decrypt of {name}"
        );
        let got = rust
            .decrypt(PARTITION, &text)
            .unwrap_or_else(|e| panic!("Rust decrypt of {name}: {e}"));
        assert_eq!(got, PAYLOAD, "Rust decrypt of {name}");
    }

    // The sidecar layout really is the Python one (key order, spaces), not Go's compact JSON.
    let sidecar =
        String::from_utf8(STANDARD.decode(python_sidecar_layout(&go_text)).unwrap()).unwrap();
    assert!(sidecar.starts_with("{\"Data\": \""), "{sidecar}");
    assert!(
        sidecar.contains("\"Key\": {\"ParentKeyMeta\": {\"KeyId\": "),
        "{sidecar}"
    );
}

/// Region-suffixed partitions (docs/compatibility.md#partitions-and-region-suffixes): a Go session in us-west-2 and
/// a Rust session in eu-west-1 over one table each write their own suffixed keys and decrypt each other's records
/// (the prefix rule), while an unsuffixed session of either language rejects a suffixed record.
#[test]
fn region_suffixed_partitions_cross_languages() {
    let Some(go) = go_cli() else { return };
    let dir = scratch("region-suffix");
    let db = dir.join("metastore.db");
    let ms = go_sqlite(&db);
    let west = ["--region-suffix", "us-west-2"];

    let from_go = go
        .encrypt_batch(&ms, &west, &[(PARTITION, PAYLOAD)])
        .remove(0);
    let rust_eu = RustSide::sqlite(&db, Some("eu-west-1"));
    let from_rust = rust_eu.encrypt(PARTITION, PAYLOAD);

    assert_eq!(
        parent_of(&from_go).0,
        "_IK_partition_service_product_us-west-2"
    );
    assert_eq!(
        parent_of(&from_rust).0,
        "_IK_partition_service_product_eu-west-1"
    );
    assert!(
        rust_eu.latest("_SK_service_product_us-west-2").is_some(),
        "Go's suffixed SK row"
    );
    assert!(
        rust_eu.latest("_SK_service_product_eu-west-1").is_some(),
        "Rust's suffixed SK row"
    );

    assert_eq!(
        rust_eu
            .decrypt(PARTITION, &from_go)
            .expect("Rust eu-west-1 decrypts Go us-west-2"),
        PAYLOAD
    );
    let go_results = go.decrypt_batch(
        &ms,
        &west,
        &[(PARTITION, &from_rust), (PARTITION, &from_go)],
    );
    for r in go_results {
        assert_eq!(r.expect("Go us-west-2 decrypts both"), PAYLOAD);
    }

    // Unsuffixed sessions accept only the exact unsuffixed IK id.
    let rust_plain = RustSide::sqlite(&db, None);
    assert!(
        rust_plain.decrypt(PARTITION, &from_go).is_err(),
        "unsuffixed Rust decrypted Go's suffixed record"
    );
    let go_plain = go.decrypt_batch(&ms, &[], &[(PARTITION, &from_rust)]);
    assert!(
        go_plain[0].is_err(),
        "unsuffixed Go decrypted Rust's suffixed record"
    );

    // A record written before the suffix was enabled (unsuffixed) decrypts in a suffixed session of either side.
    let legacy_go = go
        .encrypt_batch(&ms, &[], &[(PARTITION, b"legacy")])
        .remove(0);
    let legacy_rust = rust_plain.encrypt(PARTITION, b"legacy");
    assert_eq!(
        rust_eu
            .decrypt(PARTITION, &legacy_go)
            .expect("suffixed Rust, legacy Go record"),
        b"legacy"
    );
    for r in go.decrypt_batch(&ms, &west, &[(PARTITION, &legacy_rust)]) {
        assert_eq!(r.expect("suffixed Go, legacy Rust record"), b"legacy");
    }
}

/// A record tampered after one implementation wrote it is rejected by the other, for every kind of tampering;
/// the untampered records still decrypt in the same calls.
#[test]
fn tampered_records_are_rejected_by_the_other_side() {
    let Some(go) = go_cli() else { return };
    let dir = scratch("tamper");
    let db = dir.join("metastore.db");
    let ms = go_sqlite(&db);

    let go_records = go.encrypt_batch(
        &ms,
        &[],
        &[(PARTITION, PAYLOAD), (PARTITION, b"another payload")],
    );
    let rust = RustSide::sqlite(&db, None);
    let rust_records = [
        rust.encrypt(PARTITION, PAYLOAD),
        rust.encrypt(PARTITION, b"another payload"),
    ];

    // Go's records, tampered, into Rust.
    for how in TAMPERINGS {
        let bad = tamper(&go_records[0], &go_records[1], how);
        assert!(
            rust.decrypt(PARTITION, &bad).is_err(),
            "Rust accepted Go's record with a {how}"
        );
    }
    assert_eq!(
        rust.decrypt(PARTITION, &go_records[0])
            .expect("untampered Go record"),
        PAYLOAD
    );

    // Rust's records, tampered, into Go (one process), with the untampered one last.
    let tampered: Vec<String> = TAMPERINGS
        .iter()
        .map(|how| tamper(&rust_records[0], &rust_records[1], how))
        .collect();
    let mut batch: Vec<(&str, &str)> = tampered.iter().map(|t| (PARTITION, t.as_str())).collect();
    batch.push((PARTITION, &rust_records[0]));
    let results = go.decrypt_batch(&ms, &[], &batch);
    for (how, r) in TAMPERINGS.iter().zip(&results) {
        assert!(r.is_err(), "Go accepted Rust's record with a {how}");
    }
    assert_eq!(
        results.last().unwrap().as_deref(),
        Ok(PAYLOAD),
        "untampered Rust record in the same batch"
    );

    // A record is bound to its partition: the other partition's session refuses it on both sides.
    assert!(rust.decrypt("someone-else", &go_records[0]).is_err());
    assert!(go.decrypt_batch(&ms, &[], &[("someone-else", &rust_records[0])])[0].is_err());
}

/// Rust's view of rows `ids` as JSON rows, `key_record` serialized by Rust, sorted as the Go CLI sorts them.
fn rust_rows(rust: &RustSide, ids: &[&str]) -> Vec<JsonRow> {
    let mut rows: Vec<JsonRow> = ids
        .iter()
        .map(|id| {
            let rec = rust.latest(id).unwrap_or_else(|| panic!("no {id} row"));
            JsonRow {
                id: (*id).to_owned(),
                created: rec.created,
                key_record: String::from_utf8(rec.to_json()).expect("JSON is UTF-8"),
            }
        })
        .collect();
    rows.sort_by(|a, b| (&a.id, a.created).cmp(&(&b.id, b.created)));
    rows
}

/// The Go CLI's offline JSON exchange format, both ways and both first-writer orders: Go's rows load into a Rust
/// in-memory metastore (and Rust re-serializes each `key_record` to Go's exact bytes); rows the Rust side wrote load
/// into Go, which reuses those keys and writes the same rows back unchanged.
#[test]
fn json_metastore_rows_exchange_both_ways() {
    let Some(go) = go_cli() else { return };
    let dir = scratch("json-rows");
    let ids = ["_IK_partition_service_product", "_SK_service_product"];

    // Go first.
    let go_file = dir.join("go.json");
    let go_ms = format!("json:{}", go_file.display());
    let from_go = String::from_utf8(go.ok(&["encrypt", "--metastore", &go_ms], PAYLOAD)).unwrap();
    let rows = read_json_rows(&go_file);
    assert_eq!(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ids);

    let memory = Arc::new(InMemoryMetastore::new());
    let rust = RustSide::over(memory.clone());
    for row in &rows {
        let rec = EnvelopeKeyRecord::from_json(row.key_record.as_bytes())
            .unwrap_or_else(|e| panic!("Go's key_record of {}: {e}", row.id));
        assert_eq!(
            String::from_utf8(rec.to_json()).unwrap(),
            row.key_record,
            "re-serialized {}",
            row.id
        );
        assert!(
            rust.block_on(memory.store(&row.id, row.created, &rec))
                .expect("store")
        );
    }
    assert_eq!(
        rust.decrypt(PARTITION, &from_go)
            .expect("Rust decrypt over Go's JSON rows"),
        PAYLOAD
    );
    let from_rust = rust.encrypt(PARTITION, b"from Rust");
    assert_eq!(
        parent_of(&from_rust),
        parent_of(&from_go),
        "Rust did not reuse Go's IK"
    );
    assert_eq!(rust_rows(&rust, &ids), rows, "Rust's rows differ from Go's");
    let rust_file = dir.join("rust.json");
    write_json_rows(&rust_file, &rust_rows(&rust, &ids));
    let rust_ms = format!("json:{}", rust_file.display());
    assert_eq!(
        go.ok(&["decrypt", "--metastore", &rust_ms], from_rust.as_bytes()),
        b"from Rust"
    );

    // Rust first.
    let rust2 = RustSide::over(Arc::new(InMemoryMetastore::new()));
    let first = rust2.encrypt(PARTITION, PAYLOAD);
    let rows2 = rust_rows(&rust2, &ids);
    let file2 = dir.join("rust-first.json");
    write_json_rows(&file2, &rows2);
    let ms2 = format!("json:{}", file2.display());
    let from_go2 =
        String::from_utf8(go.ok(&["encrypt", "--metastore", &ms2], b"Go reuses Rust's keys"))
            .unwrap();
    assert_eq!(
        parent_of(&from_go2),
        parent_of(&first),
        "Go did not reuse Rust's IK"
    );
    assert_eq!(
        read_json_rows(&file2),
        rows2,
        "Go rewrote Rust's rows differently"
    );
    assert_eq!(
        rust2.decrypt(PARTITION, &from_go2).expect("Rust decrypt"),
        b"Go reuses Rust's keys"
    );
    assert_eq!(
        go.ok(&["decrypt", "--metastore", &ms2], first.as_bytes()),
        PAYLOAD
    );
}

/// Partition names: printable ASCII including JSON's HTML-escaped characters, underscores, and some non-ASCII.
fn partition() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_<>&.\\-é€]{1,16}"
}

proptest! {
    // Each case is two CLI processes (one batch per direction) over one SQLite file per case.
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Any batch of (partition, payload) encrypted by one language decrypts to the same payloads in the other.
    #[test]
    fn any_batch_encrypted_by_one_language_decrypts_in_the_other(
        batch in prop::collection::vec((partition(), prop::collection::vec(any::<u8>(), 0..2048)), 1..24),
        case in any::<u64>(),
    ) {
        let Some(go) = go_cli() else { return Ok(()) };
        let dir = scratch(&format!("proptest-{case:016x}"));
        let db = dir.join("metastore.db");
        let ms = go_sqlite(&db);
        let items: Vec<(&str, &[u8])> = batch.iter().map(|(p, d)| (p.as_str(), d.as_slice())).collect();

        let from_go = go.encrypt_batch(&ms, &[], &items);
        let rust = RustSide::sqlite(&db, None);
        for ((p, payload), t) in batch.iter().zip(&from_go) {
            let got = rust.decrypt(p, t);
            prop_assert!(got.is_ok(), "Rust decrypt of Go's record for {:?}: {:?}", p, got.err());
            prop_assert_eq!(&got.unwrap(), payload);
        }

        let from_rust: Vec<String> = batch.iter().map(|(p, d)| rust.encrypt(p, d)).collect();
        let back: Vec<(&str, &str)> = batch.iter().zip(&from_rust).map(|((p, _), t)| (p.as_str(), t.as_str())).collect();
        for ((p, payload), got) in batch.iter().zip(go.decrypt_batch(&ms, &[], &back)) {
            prop_assert!(got.is_ok(), "Go decrypt of Rust's record for {:?}: {:?}", p, got.as_ref().err());
            prop_assert_eq!(&got.unwrap(), payload);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Go ↔ Rust through one MariaDB metastore (`scripts/services.sh start mysql`; `ASHERAH_TEST_MYSQL_URL`), in both
/// first-writer orders. The database outlives the run, so each run uses partitions of its own.
#[cfg(feature = "backends")]
#[test]
fn mariadb_metastore_both_directions() {
    let Some(go) = go_cli() else { return };
    let Ok(url) = std::env::var("ASHERAH_TEST_MYSQL_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "ASHERAH_TEST_MYSQL_URL is unset under CI=true: start MariaDB with scripts/services.sh"
        );
        eprintln!(
            "\n*** SKIPPED mariadb_metastore_both_directions: ASHERAH_TEST_MYSQL_URL is unset \
             (run scripts/services.sh start mysql and eval \"$(scripts/services.sh env mysql)\") ***\n"
        );
        return;
    };
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    for (i, first) in [FirstWriter::Go, FirstWriter::Rust].into_iter().enumerate() {
        let rust = RustSide::open_with(|rt| {
            let metastore = rt.block_on(async {
                let m = appencryption::SqlMetastore::connect_mysql(&url)
                    .await
                    .expect("connect to MariaDB");
                m.create_schema().await.expect("create the table");
                m
            });
            Arc::new(metastore) as Arc<dyn Metastore>
        });
        let partition = format!("interop-{}-{run}-{i}", std::process::id());
        exchange(go, &url, &rust, &partition, first);
    }
}
