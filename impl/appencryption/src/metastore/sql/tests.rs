//! Unit tests of the parts of the SQL metastore that are not visible through the public API: the query strings, the
//! DDL and the `created` encoding. Behaviour through the public API is in `tests/metastore_*.rs`.

use super::*;

/// The exact strings of docs/compatibility.md#sql-metastore, for MySQL (and SQLite, which shares `?` placeholders).
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

#[cfg(feature = "sqlite")]
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

#[cfg(feature = "sqlite")]
#[test]
fn created_param_rejects_instants_whose_text_would_not_sort() {
    for created in [253_402_300_800, -62_167_219_201, i64::MAX, i64::MIN] {
        assert!(
            matches!(sqlite::created_param(created), Err(Error::CreatedOutOfRange(c)) if c == created),
            "created {created}"
        );
    }
}

#[test]
fn ddl_files_for_operators_are_the_schemas() {
    let files = [
        (
            Dialect::MySql,
            include_str!("../../../../../scripts/sql/mysql.sql"),
        ),
        (
            Dialect::Postgres,
            include_str!("../../../../../scripts/sql/postgres.sql"),
        ),
        (
            Dialect::Sqlite,
            include_str!("../../../../../scripts/sql/sqlite.sql"),
        ),
    ];
    for (dialect, file) in files {
        let statements: Vec<&str> = file.lines().filter(|l| !l.starts_with("--")).collect();
        let statements = statements.join("\n");
        assert_eq!(
            statements.trim_end().strip_suffix(';'),
            Some(dialect.schema()),
            "scripts/sql for {dialect:?} differs from Dialect::schema()"
        );
    }
}

#[test]
fn table_name_replaces_the_default_in_queries_and_ddl() {
    let q = Queries::for_table(Dialect::Postgres, "tenant_keys");
    assert_eq!(
        q.load.as_str(),
        "SELECT key_record FROM tenant_keys WHERE id = $1 AND created = $2"
    );
    assert_eq!(
        q.store.as_str(),
        "INSERT INTO tenant_keys (id, created, key_record) VALUES ($1, $2, $3)"
    );
    assert_eq!(
        q.load_latest.as_str(),
        "SELECT key_record from tenant_keys WHERE id = $1 ORDER BY created DESC LIMIT 1"
    );
    let ddl = with_table(Dialect::Postgres.schema(), "tenant_keys");
    assert!(
        ddl.contains("CREATE TABLE IF NOT EXISTS tenant_keys ("),
        "{ddl}"
    );
    assert!(
        ddl.contains("INDEX IF NOT EXISTS tenant_keys_created ON tenant_keys (created)"),
        "{ddl}"
    );
    assert!(!ddl.contains(DEFAULT_TABLE_NAME), "{ddl}");
}

#[test]
fn table_names_must_be_plain_identifiers() {
    for ok in [
        "encryption_key",
        "_t",
        "T1",
        "EncryptionKey",
        &"a".repeat(63),
    ] {
        assert!(check_table_name(ok).is_ok(), "{ok:?}");
    }
    for bad in [
        "",
        "1table",
        "enc-key",
        "enc key",
        "t;DROP TABLE x",
        "\"quoted\"",
        "schema.table",
        "tablé",
        &"a".repeat(64),
    ] {
        assert!(
            matches!(check_table_name(bad), Err(Error::InvalidTableName(ref t)) if t == bad),
            "{bad:?}"
        );
    }
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_created_is_utc_wall_clock_within_the_timestamp_range() {
    let cases: &[(i64, &str)] = &[
        (1, "1970-01-01 00:00:01"),
        (1_700_000_040, "2023-11-14 22:14:00"),
        (2_147_483_647, "2038-01-19 03:14:07"),
    ];
    for &(created, text) in cases {
        let got = mysql::created_param(created).unwrap_or_else(|e| panic!("{created}: {e}"));
        assert_eq!(got.format("%Y-%m-%d %H:%M:%S").to_string(), text);
    }
    for created in [0, -1, 2_147_483_648, i64::MAX, i64::MIN] {
        assert!(
            matches!(mysql::created_param(created), Err(Error::CreatedOutOfRange(c)) if c == created),
            "{created}"
        );
    }
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_created_is_utc_wall_clock() {
    for (created, text) in [
        (-31_536_000_i64, "1969-01-01 00:00:00"),
        (1_700_000_040, "2023-11-14 22:14:00"),
        (253_402_300_800, "+10000-01-01 00:00:00"),
    ] {
        let got = postgres::created_param(created).unwrap_or_else(|e| panic!("{created}: {e}"));
        assert_eq!(got.format("%Y-%m-%d %H:%M:%S").to_string(), text);
    }
    assert!(matches!(
        postgres::created_param(i64::MAX),
        Err(Error::CreatedOutOfRange(i64::MAX))
    ));
}
