//! The SQLite metastore beyond the shared contract: the bytes it writes (Go's JSON, Go's timestamp text), rows
//! written by Go, corrupt rows, failures, persistence and metrics.
#![cfg(feature = "sqlite")]

mod metastore_support;
mod metrics_spy;

use metrics_spy::HistogramSpy;

use std::sync::Arc;
use std::sync::mpsc;

use appencryption::{Dialect, Error, Metastore, SqlMetastore};
use metastore_support::{Spec28Rows, TempDb, sqlite_metastore};
use sqlx::SqlitePool;

/// A file database opened twice: through the metastore, and as a raw pool for inspecting and planting rows.
async fn file_db(tag: &str) -> (TempDb, SqlMetastore, SqlitePool) {
    let db = TempDb::new(tag);
    let m = sqlite_metastore(&db.url()).await;
    let raw = SqlitePool::connect(&db.url()).await.expect("raw pool");
    (db, m, raw)
}

/// Insert a row as another writer (Go, a revocation script, corruption) would.
async fn plant(raw: &SqlitePool, id: &str, created_text: &str, key_record: &str) {
    sqlx::query("INSERT INTO encryption_key (id, created, key_record) VALUES (?, ?, ?)")
        .bind(id)
        .bind(created_text)
        .bind(key_record)
        .execute(raw)
        .await
        .expect("plant row");
}

#[tokio::test]
async fn spec_2_8_rows_are_written_as_go_writes_them() {
    let (_db, m, raw) = file_db("write").await;
    let rows = Spec28Rows::load();
    for row in &rows.rows {
        assert!(
            m.store(&row.id, row.created, &row.expected_record())
                .await
                .expect("store")
        );
    }
    let stored: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, created, key_record FROM encryption_key ORDER BY created")
            .fetch_all(&raw)
            .await
            .expect("select");
    let go_created = ["2023-11-14 22:14:00+00:00", "2023-11-14 22:15:00+00:00"];
    assert_eq!(stored.len(), rows.rows.len());
    for (i, ((id, created, key_record), row)) in stored.iter().zip(&rows.rows).enumerate() {
        assert_eq!(id, &row.id, "row {i}");
        assert_eq!(
            created, go_created[i],
            "row {i}: created as mattn/go-sqlite3 writes a UTC time.Time"
        );
        assert_eq!(
            key_record, &row.key_record,
            "row {i}: key_record must be Go's JSON byte for byte"
        );
    }
}

#[tokio::test]
async fn rows_written_by_go_read_back_field_for_field() {
    let (_db, m, raw) = file_db("go-rows").await;
    let rows = Spec28Rows::load();
    let go_created = ["2023-11-14 22:14:00+00:00", "2023-11-14 22:15:00+00:00"];
    for (row, created) in rows.rows.iter().zip(go_created) {
        plant(&raw, &row.id, created, &row.key_record).await;
    }
    for (i, row) in rows.rows.iter().enumerate() {
        let got = m
            .load(&row.id, row.created)
            .await
            .expect("load")
            .expect("present");
        row.check(i, &got);
        let got = m
            .load_latest(&row.id)
            .await
            .expect("load_latest")
            .expect("present");
        row.check(i, &got);
    }
}

#[tokio::test]
async fn records_from_other_writers_decode_regardless_of_field_order_and_spacing() {
    let (_db, m, raw) = file_db("java").await;
    // Java's field order, an explicit `"Revoked": false`, whitespace; and a revocation script's rewrite.
    plant(
        &raw,
        "_IK_p_s_p",
        "2023-11-14 22:15:00+00:00",
        r#"{"Created": 1700000100, "ParentKeyMeta": {"KeyId": "_SK_s_p", "Created": 1700000040}, "Key": "AAEC", "Revoked": false}"#,
    )
    .await;
    plant(
        &raw,
        "_IK_p_s_p",
        "2023-11-14 22:16:00+00:00",
        r#"{"Revoked":true,"Created":1700000160,"Key":"AwQF","ParentKeyMeta":{"KeyId":"_SK_s_p","Created":1700000040}}"#,
    )
    .await;
    let java = m
        .load("_IK_p_s_p", 1_700_000_100)
        .await
        .expect("load")
        .expect("present");
    assert_eq!(
        (java.revoked, java.created, java.encrypted_key.as_slice()),
        (false, 1_700_000_100, &[0, 1, 2][..])
    );
    let latest = m
        .load_latest("_IK_p_s_p")
        .await
        .expect("load_latest")
        .expect("present");
    assert_eq!(
        (
            latest.revoked,
            latest.created,
            latest.encrypted_key.as_slice()
        ),
        (true, 1_700_000_160, &[3, 4, 5][..])
    );
}

#[tokio::test]
async fn garbage_key_record_is_a_clear_error_not_a_panic() {
    let (_db, m, raw) = file_db("garbage").await;
    let garbage = [
        ("_SK_not_json", "not json at all"),
        ("_SK_empty", ""),
        (
            "_SK_bad_base64",
            r#"{"Created":1700000040,"Key":"@@not base64@@"}"#,
        ),
        ("_SK_truncated", r#"{"Created":1700000040,"Key":"AAEC"#),
        (
            "_SK_created_is_text",
            r#"{"Created":"1700000040","Key":"AAEC"}"#,
        ),
    ];
    for (id, key_record) in garbage {
        plant(&raw, id, "2023-11-14 22:14:00+00:00", key_record).await;
    }
    for (id, key_record) in garbage {
        let err = m.load(id, 1_700_000_040).await.expect_err(key_record);
        assert!(
            matches!(&err, Error::UnmarshalKey { id: got, created: Some(1_700_000_040), .. } if got == id),
            "{id}: {err:?}"
        );
        assert!(
            err.to_string().starts_with("unable to unmarshal key: "),
            "{id}: {err}"
        );
        let err = m.load_latest(id).await.expect_err(key_record);
        assert!(
            matches!(&err, Error::UnmarshalKey { created: None, .. }),
            "{id}: {err:?}"
        );
    }

    // A BLOB where text belongs is a driver-level decode error.
    sqlx::query("INSERT INTO encryption_key (id, created, key_record) VALUES ('_SK_blob', '2023-11-14 22:14:00+00:00', x'00ff')")
        .execute(&raw)
        .await
        .expect("plant blob");
    let err = m.load("_SK_blob", 1_700_000_040).await.expect_err("blob");
    assert!(
        matches!(err, Error::Metastore(_) | Error::UnmarshalKey { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn any_failed_insert_is_false_and_failed_loads_are_errors() {
    // No schema: every insert fails (not a duplicate) and must still be `Ok(false)`; loads must error.
    let m = SqlMetastore::connect_sqlite("sqlite::memory:")
        .await
        .expect("connect");
    let rec = metastore_support::sk_record(60, b"k");
    assert!(
        !m.store("_SK_s_p", 60, &rec)
            .await
            .expect("store answers false, not an error")
    );
    assert!(matches!(
        m.load("_SK_s_p", 60).await,
        Err(Error::Metastore(_))
    ));
    assert!(matches!(
        m.load_latest("_SK_s_p").await,
        Err(Error::Metastore(_))
    ));

    // A `created` the timestamp column cannot hold.
    m.create_schema().await.expect("schema");
    for created in [i64::MAX, i64::MIN, 253_402_300_800] {
        assert!(
            !m.store("_SK_s_p", created, &rec)
                .await
                .expect("store answers false")
        );
        assert!(
            matches!(m.load("_SK_s_p", created).await, Err(Error::CreatedOutOfRange(c)) if c == created)
        );
    }
    assert_eq!(m.load_latest("_SK_s_p").await.expect("load_latest"), None);
}

#[tokio::test]
async fn connect_errors_are_reported() {
    let missing = std::env::temp_dir().join("asherah-metastore-no-such-dir/x/y.db");
    let err = SqlMetastore::connect_sqlite(&format!("sqlite://{}", missing.display()))
        .await
        .expect_err("missing file without mode=rwc");
    assert!(matches!(err, Error::Metastore(_)), "{err:?}");
    assert!(
        SqlMetastore::connect_sqlite("sqlite://x.db?mode=bogus")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn file_database_survives_reopening_and_schema_creation_is_idempotent() {
    let db = TempDb::new("reopen");
    let rows = Spec28Rows::load();
    {
        let m = sqlite_metastore(&db.url()).await;
        for row in &rows.rows {
            assert!(
                m.store(&row.id, row.created, &row.expected_record())
                    .await
                    .expect("store")
            );
        }
    }
    let m = sqlite_metastore(&db.url()).await; // runs the DDL again
    assert_eq!(m.dialect(), Dialect::Sqlite);
    for (i, row) in rows.rows.iter().enumerate() {
        row.check(
            i,
            &m.load(&row.id, row.created)
                .await
                .expect("load")
                .expect("present"),
        );
        assert!(
            !m.store(&row.id, row.created, &row.expected_record())
                .await
                .expect("store")
        );
    }
    assert!(db.path().exists());
}

#[tokio::test]
async fn clones_share_one_database() {
    let m = sqlite_metastore("sqlite::memory:").await;
    let other = m.clone();
    let shared: Arc<dyn Metastore> = Arc::new(m);
    assert!(
        shared
            .store("_SK_s_p", 60, &metastore_support::sk_record(60, b"k"))
            .await
            .expect("store")
    );
    assert!(other.load("_SK_s_p", 60).await.expect("load").is_some());
    // Separate `sqlite::memory:` metastores are separate databases.
    let separate = sqlite_metastore("sqlite::memory:").await;
    assert!(separate.load("_SK_s_p", 60).await.expect("load").is_none());
}

#[test]
fn each_call_records_its_go_named_timer_in_seconds() {
    let (tx, rx) = mpsc::channel();
    let spy = HistogramSpy(tx);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // The local recorder is per thread; a current-thread runtime polls the metastore's futures on this thread.
    metrics::with_local_recorder(&spy, || {
        runtime.block_on(async {
            let m = sqlite_metastore("sqlite::memory:").await;
            let rec = metastore_support::sk_record(60, b"k");
            m.store("_SK_s_p", 60, &rec).await.expect("store");
            m.store("_SK_s_p", 60, &rec).await.expect("duplicate store");
            m.load("_SK_s_p", 60).await.expect("load");
            m.load("_SK_s_p", 120).await.expect("load");
            m.load("_SK_s_p", i64::MAX)
                .await
                .expect_err("failed calls are timed too");
            m.load_latest("_SK_s_p").await.expect("load_latest");
        });
    });
    let samples: Vec<(String, f64)> = rx.try_iter().collect();
    let count = |name: &str| samples.iter().filter(|(n, _)| n == name).count();
    assert_eq!(count("ael.metastore.sql.store"), 2, "{samples:?}");
    assert_eq!(count("ael.metastore.sql.load"), 3, "{samples:?}");
    assert_eq!(count("ael.metastore.sql.loadlatest"), 1, "{samples:?}");
    assert_eq!(samples.len(), 6, "no other histograms: {samples:?}");
    // Seconds: a local SQLite call takes well under a second and more than nothing.
    assert!(
        samples.iter().all(|&(_, v)| v > 0.0 && v < 5.0),
        "{samples:?}"
    );
}
