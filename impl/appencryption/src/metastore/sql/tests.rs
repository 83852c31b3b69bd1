//! Unit tests of the parts of the SQL metastore that are not visible through the public API: the query strings, the
//! DDL and the `created` encoding. Behaviour through the public API is in `tests/metastore_*.rs`.

use super::*;

/// The exact strings of spec §8.3, for MySQL (and SQLite, which shares `?` placeholders).
const SPEC_LOAD: &str = "SELECT key_record FROM encryption_key WHERE id = ? AND created = ?";
const SPEC_STORE: &str = "INSERT INTO encryption_key (id, created, key_record) VALUES (?, ?, ?)";
const SPEC_LOAD_LATEST: &str =
    "SELECT key_record from encryption_key WHERE id = ? ORDER BY created DESC LIMIT 1";

#[test]
fn queries_match_spec_8_3_for_question_mark_dialects() {
    for dialect in [Dialect::MySql, Dialect::Sqlite] {
        let q = Queries::new(dialect);
        assert_eq!(q.load.as_str(), SPEC_LOAD, "{dialect:?}");
        assert_eq!(q.store.as_str(), SPEC_STORE, "{dialect:?}");
        assert_eq!(q.load_latest.as_str(), SPEC_LOAD_LATEST, "{dialect:?}");
    }
}

#[test]
fn queries_for_postgres_number_placeholders_left_to_right() {
    let q = Queries::new(Dialect::Postgres);
    assert_eq!(
        q.load.as_str(),
        "SELECT key_record FROM encryption_key WHERE id = $1 AND created = $2"
    );
    assert_eq!(
        q.store.as_str(),
        "INSERT INTO encryption_key (id, created, key_record) VALUES ($1, $2, $3)"
    );
    assert_eq!(
        q.load_latest.as_str(),
        "SELECT key_record from encryption_key WHERE id = $1 ORDER BY created DESC LIMIT 1"
    );
}

#[test]
fn rewrite_placeholders_counts_past_nine_and_leaves_other_text_alone() {
    let query = "?,?,?,?,?,?,?,?,?,?,? 'x'";
    assert_eq!(
        Dialect::Postgres.rewrite_placeholders(query),
        "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11 'x'"
    );
    assert_eq!(Dialect::MySql.rewrite_placeholders(query), query);
    assert_eq!(Dialect::Sqlite.rewrite_placeholders(query), query);
    assert_eq!(
        Dialect::Postgres.rewrite_placeholders("no placeholders"),
        "no placeholders"
    );
}

#[test]
fn schemas_declare_the_spec_columns_and_key() {
    for dialect in [Dialect::MySql, Dialect::Postgres, Dialect::Sqlite] {
        let ddl = dialect.schema();
        for needle in [
            "encryption_key",
            "id          VARCHAR(255) NOT NULL",
            "created     TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP",
            "key_record  TEXT         NOT NULL",
            "PRIMARY KEY (id, created)",
        ] {
            assert!(
                ddl.contains(needle),
                "{dialect:?} DDL lacks {needle:?}:\n{ddl}"
            );
        }
        assert!(
            ddl.contains("(created)"),
            "{dialect:?} DDL lacks the created index"
        );
    }
    // MySQL is the spec's DDL verbatim apart from `IF NOT EXISTS`.
    assert!(MYSQL_SCHEMA.contains("  INDEX (created)\n)"));
}

#[test]
fn created_param_is_go_sqlite_text_of_the_utc_instant() {
    let cases: &[(i64, &str)] = &[
        (1_700_000_040, "2023-11-14 22:14:00+00:00"),
        (0, "1970-01-01 00:00:00+00:00"),
        (-1, "1969-12-31 23:59:59+00:00"),
        (-31_536_000, "1969-01-01 00:00:00+00:00"),
        (2_147_483_647, "2038-01-19 03:14:07+00:00"),
        (2_147_483_648, "2038-01-19 03:14:08+00:00"),
        (-62_167_219_200, "0000-01-01 00:00:00+00:00"),
        (253_402_300_799, "9999-12-31 23:59:59+00:00"),
    ];
    for &(created, text) in cases {
        match sqlite::created_param(created) {
            Ok(got) => assert_eq!(got, text, "created {created}"),
            Err(e) => panic!("created {created}: {e}"),
        }
    }
}

#[test]
fn created_param_rejects_instants_whose_text_would_not_sort() {
    for created in [253_402_300_800, -62_167_219_201, i64::MAX, i64::MIN] {
        assert!(
            matches!(sqlite::created_param(created), Err(Error::CreatedOutOfRange(c)) if c == created),
            "created {created}"
        );
    }
}
