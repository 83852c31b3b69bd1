//! Helpers shared by the metastore test suites: record builders, temporary SQLite files and the
//! docs/compatibility.md#test-vectors rows.
// Each test crate uses a different subset.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use appencryption::{EnvelopeKeyRecord, KeyMeta};
use serde::Deserialize;

/// A system-key record: no parent.
pub(crate) fn sk_record(created: i64, key: &[u8]) -> EnvelopeKeyRecord {
    EnvelopeKeyRecord {
        revoked: false,
        id: String::new(),
        created,
        encrypted_key: key.to_vec(),
        parent_key_meta: None,
    }
}

/// An intermediate-key record under the system key `(sk_id, sk_created)`.
pub(crate) fn ik_record(
    created: i64,
    key: &[u8],
    sk_id: &str,
    sk_created: i64,
) -> EnvelopeKeyRecord {
    EnvelopeKeyRecord {
        parent_key_meta: Some(KeyMeta {
            key_id: sk_id.to_owned(),
            created: sk_created,
        }),
        ..sk_record(created, key)
    }
}

/// The `created` values the SQLite metastore stores (four-digit years, so the text sorts in time order).
pub(crate) const SQLITE_CREATED_RANGE: std::ops::RangeInclusive<i64> =
    -62_167_219_200..=253_402_300_799;

/// A SQLite metastore on `url` with the schema created.
#[cfg(feature = "sqlite")]
pub(crate) async fn sqlite_metastore(url: &str) -> appencryption::SqlMetastore {
    let m = appencryption::SqlMetastore::connect_sqlite(url)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    m.create_schema().await.expect("create schema");
    m
}

/// A database file path in the system temp directory, unique per process and call, removed (with SQLite's side
/// files) on drop.
pub(crate) struct TempDb {
    path: PathBuf,
}

impl TempDb {
    pub(crate) fn new(tag: &str) -> Self {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "asherah-metastore-{tag}-{}-{n}.db",
            std::process::id()
        ));
        let db = Self { path };
        db.remove();
        db
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// An sqlx URL that creates the file if missing.
    pub(crate) fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.path.display())
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

/// `tests/data/spec-2.8-metastore-rows.json`: the two metastore rows of docs/compatibility.md#test-vectors with
/// their expected fields.
#[derive(Debug, Deserialize)]
pub(crate) struct Spec28Rows {
    pub(crate) rows: Vec<Spec28Row>,
}

/// One metastore row: `id`, `created`, the `key_record` JSON text exactly as Go writes it, and its decoded fields.
#[derive(Debug, Deserialize)]
pub(crate) struct Spec28Row {
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) key_record: String,
    pub(crate) expect: Expected,
}

/// The fields `key_record` decodes to.
#[derive(Debug, Deserialize)]
pub(crate) struct Expected {
    pub(crate) revoked: bool,
    pub(crate) created: i64,
    pub(crate) key_hex: String,
    pub(crate) parent_key_meta: Option<ExpectedKeyMeta>,
}

/// An expected `ParentKeyMeta`.
#[derive(Debug, Deserialize)]
pub(crate) struct ExpectedKeyMeta {
    pub(crate) key_id: String,
    pub(crate) created: i64,
}

impl Spec28Rows {
    pub(crate) fn load() -> Self {
        serde_json::from_str(include_str!("../data/spec-2.8-metastore-rows.json"))
            .expect("valid fixture")
    }
}

impl Spec28Row {
    /// The record the row's expected fields describe, with `id` left empty as a writer would hand it over.
    pub(crate) fn expected_record(&self) -> EnvelopeKeyRecord {
        EnvelopeKeyRecord {
            revoked: self.expect.revoked,
            id: String::new(),
            created: self.expect.created,
            encrypted_key: hex::decode(&self.expect.key_hex).expect("fixture hex"),
            parent_key_meta: self.expect.parent_key_meta.as_ref().map(|p| KeyMeta {
                key_id: p.key_id.clone(),
                created: p.created,
            }),
        }
    }

    /// Compare a record read back from a metastore with the row, field by field, naming the row on failure.
    pub(crate) fn check(&self, index: usize, got: &EnvelopeKeyRecord) {
        let want = self.expected_record();
        let ctx = format!("row {index} ({} @ {})", self.id, self.created);
        assert_eq!(got.id, self.id, "{ctx}: id");
        assert_eq!(got.revoked, want.revoked, "{ctx}: revoked");
        assert_eq!(got.created, want.created, "{ctx}: created");
        assert_eq!(
            hex::encode(&got.encrypted_key),
            self.expect.key_hex,
            "{ctx}: key"
        );
        assert_eq!(
            got.parent_key_meta, want.parent_key_meta,
            "{ctx}: parent key meta"
        );
    }
}
