//! The metastore contract (docs/compatibility.md#metastores), written once and instantiated for every backend: the
//! in-memory store, SQLite in memory and in a file, and (with their cargo features and servers, see
//! `scripts/services.sh`) MariaDB, PostgreSQL and DynamoDB. A server backend whose environment variable is unset
//! skips loudly, or fails under `CI=true`.

mod backend_support;
mod metastore_support;

use std::ops::RangeInclusive;
use std::sync::Arc;

use appencryption::{EnvelopeKeyRecord, Error, InMemoryMetastore, Metastore};
use metastore_support::{Spec28Rows, TempDb, ik_record, sk_record};

/// A metastore under test, plus what must live as long as it and what the backend-specific checks need.
struct Fixture {
    store: Arc<dyn Metastore>,
    /// The `created` values the backend can store, when it cannot store every `i64` chrono can represent.
    created_range: Option<RangeInclusive<i64>>,
    /// Direct access to the storage, to plant rows no metastore would write.
    raw: Raw,
    _db: Option<TempDb>,
}

/// A way to write to a backend's storage behind the metastore's back.
enum Raw {
    /// The backend cannot hold malformed records (the in-memory store is typed) or is not reachable separately.
    None,
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool, String),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool, String),
    #[cfg(feature = "dynamodb")]
    DynamoDb(aws_sdk_dynamodb::Client, String),
}

impl Fixture {
    fn plain(store: Arc<dyn Metastore>) -> Self {
        Self {
            store,
            created_range: None,
            raw: Raw::None,
            _db: None,
        }
    }

    /// Drop the server-side table this fixture created (not reached when the test panics; the table names are
    /// unique, so a leftover harms nothing).
    async fn cleanup(self) {
        match self.raw {
            Raw::None => {}
            #[cfg(feature = "sqlite")]
            Raw::Sqlite(_) => {}
            #[cfg(feature = "mysql")]
            Raw::MySql(pool, table) => {
                let sql = format!("DROP TABLE {table}");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&pool)
                    .await
                    .expect("drop table");
            }
            #[cfg(feature = "postgres")]
            Raw::Postgres(pool, table) => {
                let sql = format!("DROP TABLE {table}");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&pool)
                    .await
                    .expect("drop table");
            }
            #[cfg(feature = "dynamodb")]
            Raw::DynamoDb(client, table) => {
                client
                    .delete_table()
                    .table_name(table)
                    .send()
                    .await
                    .expect("delete table");
            }
        }
    }
}

impl Raw {
    /// Store a row under `(id, created)` whose key record is not one (not JSON; for DynamoDB not a map).
    async fn plant_garbage(&self, id: &str, created: i64) {
        let when = chrono::DateTime::from_timestamp(created, 0)
            .expect("representable")
            .naive_utc();
        match self {
            Raw::None => panic!("this backend has no raw access"),
            #[cfg(feature = "sqlite")]
            Raw::Sqlite(pool) => {
                sqlx::query(
                    "INSERT INTO encryption_key (id, created, key_record) VALUES (?, ?, ?)",
                )
                .bind(id)
                .bind(when.format("%Y-%m-%d %H:%M:%S+00:00").to_string())
                .bind("not json at all")
                .execute(pool)
                .await
                .expect("plant");
            }
            #[cfg(feature = "mysql")]
            Raw::MySql(pool, table) => {
                let sql = format!("INSERT INTO {table} (id, created, key_record) VALUES (?, ?, ?)");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .bind(when)
                    .bind("not json at all")
                    .execute(pool)
                    .await
                    .expect("plant");
            }
            #[cfg(feature = "postgres")]
            Raw::Postgres(pool, table) => {
                let sql =
                    format!("INSERT INTO {table} (id, created, key_record) VALUES ($1, $2, $3)");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .bind(when)
                    .bind("not json at all")
                    .execute(pool)
                    .await
                    .expect("plant");
            }
            #[cfg(feature = "dynamodb")]
            Raw::DynamoDb(client, table) => {
                use aws_sdk_dynamodb::types::AttributeValue;
                client
                    .put_item()
                    .table_name(table)
                    .item("Id", AttributeValue::S(id.to_owned()))
                    .item("Created", AttributeValue::N(created.to_string()))
                    .item("KeyRecord", AttributeValue::S("not a map".to_owned()))
                    .send()
                    .await
                    .expect("plant");
            }
        }
    }
}

async fn in_memory() -> Option<Fixture> {
    Some(Fixture::plain(Arc::new(InMemoryMetastore::new())))
}

#[cfg(feature = "sqlite")]
async fn sqlite_in_memory() -> Option<Fixture> {
    Some(Fixture::plain(Arc::new(
        metastore_support::sqlite_metastore("sqlite::memory:").await,
    )))
}

#[cfg(feature = "sqlite")]
async fn sqlite_file() -> Option<Fixture> {
    let db = TempDb::new("contract");
    let raw = sqlx::SqlitePool::connect(&db.url())
        .await
        .expect("raw pool");
    Some(Fixture {
        store: Arc::new(metastore_support::sqlite_metastore(&db.url()).await),
        created_range: Some(metastore_support::SQLITE_CREATED_RANGE),
        raw: Raw::Sqlite(raw),
        _db: Some(db),
    })
}

#[cfg(feature = "mysql")]
async fn mysql() -> Option<Fixture> {
    let url = backend_support::configured(backend_support::MYSQL_URL, "metastore contract: mysql")?;
    let table = backend_support::unique_name("contract");
    let m = appencryption::SqlMetastore::connect_mysql(&url)
        .await
        .expect("connect")
        .with_table_name(&table)
        .expect("table name");
    m.create_schema().await.expect("create table");
    let raw = sqlx::MySqlPool::connect(&url).await.expect("raw pool");
    Some(Fixture {
        store: Arc::new(m),
        // MySQL's TIMESTAMP column.
        created_range: Some(1..=2_147_483_647),
        raw: Raw::MySql(raw, table),
        _db: None,
    })
}

#[cfg(feature = "postgres")]
async fn postgres() -> Option<Fixture> {
    let url = backend_support::configured(
        backend_support::POSTGRES_URL,
        "metastore contract: postgres",
    )?;
    let table = backend_support::unique_name("contract");
    let m = appencryption::SqlMetastore::connect_postgres(&url)
        .await
        .expect("connect")
        .with_table_name(&table)
        .expect("table name");
    m.create_schema().await.expect("create table");
    let raw = sqlx::PgPool::connect(&url).await.expect("raw pool");
    Some(Fixture {
        store: Arc::new(m),
        created_range: None,
        raw: Raw::Postgres(raw, table),
        _db: None,
    })
}

#[cfg(feature = "dynamodb")]
async fn dynamodb() -> Option<Fixture> {
    let endpoint = backend_support::configured(
        backend_support::DYNAMODB_ENDPOINT,
        "metastore contract: dynamodb",
    )?;
    let m =
        backend_support::dynamodb_metastore(&endpoint, std::time::Duration::from_secs(30)).await;
    let raw = Raw::DynamoDb(m.client().clone(), m.table_name().to_owned());
    Some(Fixture {
        store: Arc::new(m),
        created_range: None,
        raw,
        _db: None,
    })
}

/// The contract, one function per property; each takes a fresh, empty metastore.
mod contract {
    use super::*;

    pub(crate) async fn load_missing_is_none(m: &dyn Metastore) {
        assert_eq!(load(m, "_SK_service_product", 1_700_000_040).await, None);
        assert_eq!(latest(m, "_SK_service_product").await, None);
    }

    pub(crate) async fn store_then_load_returns_the_record_with_its_id(m: &dyn Metastore) {
        let rec = ik_record(
            1_700_000_100,
            b"ik-bytes",
            "_SK_service_product",
            1_700_000_040,
        );
        assert!(store(m, "_IK_partition_service_product", 1_700_000_100, &rec).await);
        let mut expected = rec.clone();
        expected.id = "_IK_partition_service_product".to_owned();
        assert_eq!(
            load(m, "_IK_partition_service_product", 1_700_000_100).await,
            Some(expected.clone())
        );
        assert_eq!(
            latest(m, "_IK_partition_service_product").await,
            Some(expected)
        );
        // A neighbouring `created` is a different key.
        assert_eq!(
            load(m, "_IK_partition_service_product", 1_700_000_101).await,
            None
        );
    }

    pub(crate) async fn store_duplicate_is_false_and_keeps_the_original(m: &dyn Metastore) {
        let first = sk_record(1_700_000_040, b"first");
        let second = sk_record(1_700_000_040, b"second, must not overwrite");
        assert!(store(m, "_SK_s_p", 1_700_000_040, &first).await);
        assert!(!store(m, "_SK_s_p", 1_700_000_040, &second).await);
        assert!(!store(m, "_SK_s_p", 1_700_000_040, &first).await);
        let got = load(m, "_SK_s_p", 1_700_000_040)
            .await
            .expect("record present");
        assert_eq!(got.encrypted_key, b"first");
        let got = latest(m, "_SK_s_p").await.expect("record present");
        assert_eq!(got.encrypted_key, b"first");
    }

    pub(crate) async fn load_latest_picks_the_greatest_created(m: &dyn Metastore) {
        // Stored out of order, so neither insertion order nor the last write decides.
        for created in [1_700_000_100, 1_700_000_400, 1_700_000_040, 1_700_000_200] {
            let rec = sk_record(created, created.to_string().as_bytes());
            assert!(store(m, "_SK_s_p", created, &rec).await);
        }
        let got = latest(m, "_SK_s_p").await.expect("record present");
        assert_eq!(got.created, 1_700_000_400);
        assert_eq!(got.encrypted_key, b"1700000400");
        // Every version stays loadable.
        for created in [1_700_000_040, 1_700_000_100, 1_700_000_200] {
            assert_eq!(
                load(m, "_SK_s_p", created).await.map(|r| r.created),
                Some(created)
            );
        }
    }

    pub(crate) async fn different_ids_are_isolated(m: &dyn Metastore) {
        // Including ids where one is a prefix of another and a LIKE-special character.
        let ids = ["_IK_a_s_p", "_IK_a_s_p2", "_IK_b_s_p", "_IK_%_s_p"];
        for (i, id) in ids.iter().enumerate() {
            let created = 1_700_000_000 + 60 * i64::try_from(i).expect("small");
            assert!(store(m, id, created, &sk_record(created, id.as_bytes())).await);
        }
        for (i, id) in ids.iter().enumerate() {
            let created = 1_700_000_000 + 60 * i64::try_from(i).expect("small");
            let got = latest(m, id).await.expect("record present");
            assert_eq!(
                (got.id.as_str(), got.created, got.encrypted_key.as_slice()),
                (*id, created, id.as_bytes())
            );
            for (j, other) in ids.iter().enumerate() {
                if i != j {
                    assert_eq!(
                        load(m, other, created).await,
                        None,
                        "{other} at {id}'s created"
                    );
                }
            }
        }
        assert_eq!(latest(m, "_IK_").await, None);
        assert_eq!(latest(m, "_IK_c_s_p").await, None);
    }

    pub(crate) async fn revoked_records_round_trip(m: &dyn Metastore) {
        let mut rec = ik_record(1_700_000_100, b"revoked ik", "_SK_s_p", 1_700_000_040);
        rec.revoked = true;
        assert!(store(m, "_IK_p_s_p", 1_700_000_100, &rec).await);
        let got = load(m, "_IK_p_s_p", 1_700_000_100)
            .await
            .expect("record present");
        assert!(got.revoked);
        assert_eq!(got.parent_key_meta, rec.parent_key_meta);
        assert!(
            latest(m, "_IK_p_s_p")
                .await
                .expect("record present")
                .revoked
        );
        // A revoked SK (no parent) too.
        let mut sk = sk_record(1_700_000_040, b"revoked sk");
        sk.revoked = true;
        assert!(store(m, "_SK_s_p", 1_700_000_040, &sk).await);
        let got = load(m, "_SK_s_p", 1_700_000_040)
            .await
            .expect("record present");
        assert!(got.revoked && got.parent_key_meta.is_none());
    }

    pub(crate) async fn created_before_1970_and_around_2038(
        m: &dyn Metastore,
        range: Option<RangeInclusive<i64>>,
    ) {
        let storable = |created: &i64| range.as_ref().is_none_or(|r| r.contains(created));
        // Ordered by time; load_latest must follow time, not text or unsigned order.
        let createds = [
            -31_536_000,   // 1969-01-01
            -60,           // 1969-12-31 23:59:00
            -1,            // 1969-12-31 23:59:59
            0,             // the epoch
            1,             // the first second MySQL TIMESTAMP can hold
            2_147_483_640, // 2038-01-19 03:14:00
            2_147_483_647, // i32::MAX, the last second MySQL TIMESTAMP can hold
            2_147_483_648, // one second later
            2_147_483_700,
        ];
        let (inside, outside): (Vec<i64>, Vec<i64>) = createds.iter().partition(|c| storable(c));
        for &created in &inside {
            let rec = sk_record(created, created.to_string().as_bytes());
            assert!(store(m, "_SK_s_p", created, &rec).await, "store {created}");
        }
        for &created in &inside {
            let got = load(m, "_SK_s_p", created).await.expect("record present");
            assert_eq!(got.created, created);
            assert_eq!(got.encrypted_key, created.to_string().as_bytes());
        }
        assert_eq!(
            latest(m, "_SK_s_p").await.map(|r| r.created),
            inside.last().copied()
        );
        // What the backend cannot hold is refused, never stored as something else (MySQL's zero date).
        for &created in &outside {
            let rec = sk_record(created, b"out of range");
            let stored = m.store("_SK_s_p", created, &rec).await;
            assert!(!matches!(stored, Ok(true)), "store {created}: {stored:?}");
            let loaded = m.load("_SK_s_p", created).await;
            assert!(
                matches!(loaded, Ok(None) | Err(Error::CreatedOutOfRange(_))),
                "load {created}: {loaded:?}"
            );
        }
        assert_eq!(
            latest(m, "_SK_s_p").await.map(|r| r.created),
            inside.last().copied(),
            "refused stores left no row"
        );

        // With only pre-1970 versions, the latest is the one closest to 1970.
        if storable(&-31_536_000) {
            for created in [-120, -31_536_000, -60] {
                assert!(store(m, "_SK_old", created, &sk_record(created, b"x")).await);
            }
            assert_eq!(latest(m, "_SK_old").await.map(|r| r.created), Some(-60));
        }
    }

    pub(crate) async fn unicode_long_and_near_identical_ids_are_distinct_keys(m: &dyn Metastore) {
        // Every id a partition name can produce must be its own key: non-ASCII, case variants, trailing space,
        // and the longest id the factory allows (255 bytes).
        let long = format!("_IK_{}_s_p", "x".repeat(255 - 8));
        assert_eq!(long.len(), 255);
        let ids = [
            "_IK_użytkownik_s_p",
            "_IK_顧客_s_p",
            "_IK_😀_s_p",
            "_IK_a_s_p",
            "_IK_A_s_p",
            "_IK_a_s_p ",
            long.as_str(),
        ];
        for (i, id) in ids.iter().enumerate() {
            let rec = sk_record(1_700_000_100, format!("key {i}").as_bytes());
            assert!(store(m, id, 1_700_000_100, &rec).await, "store {id:?}");
        }
        for (i, id) in ids.iter().enumerate() {
            let got = load(m, id, 1_700_000_100).await;
            let got = got.unwrap_or_else(|| panic!("{id:?} missing"));
            assert_eq!(got.encrypted_key, format!("key {i}").as_bytes(), "{id:?}");
            let got = latest(m, id)
                .await
                .unwrap_or_else(|| panic!("{id:?} missing"));
            assert_eq!(got.encrypted_key, format!("key {i}").as_bytes(), "{id:?}");
        }
    }

    pub(crate) async fn concurrent_stores_of_one_key_have_exactly_one_winner(
        m: Arc<dyn Metastore>,
    ) {
        const TASKS: usize = 32;
        let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
        let mut handles = Vec::with_capacity(TASKS);
        for i in 0..TASKS {
            let m = Arc::clone(&m);
            let barrier = Arc::clone(&barrier);
            handles.push(tokio::spawn(async move {
                let rec = ik_record(
                    1_700_000_100,
                    format!("writer {i}").as_bytes(),
                    "_SK_s_p",
                    1_700_000_040,
                );
                barrier.wait().await;
                let won = m
                    .store("_IK_p_s_p", 1_700_000_100, &rec)
                    .await
                    .expect("store never errors");
                (i, won)
            }));
        }
        let mut winners = Vec::new();
        for handle in handles {
            let (i, won) = handle.await.expect("task did not panic");
            if won {
                winners.push(i);
            }
        }
        assert_eq!(winners.len(), 1, "winners: {winners:?}");
        let got = load(&*m, "_IK_p_s_p", 1_700_000_100)
            .await
            .expect("record present");
        assert_eq!(
            got.encrypted_key,
            format!("writer {}", winners[0]).as_bytes()
        );
    }

    pub(crate) async fn spec_2_8_rows_read_back_field_for_field(m: &dyn Metastore) {
        let rows = Spec28Rows::load();
        for (i, row) in rows.rows.iter().enumerate() {
            assert!(
                store(m, &row.id, row.created, &row.expected_record()).await,
                "row {i}: {}",
                row.id
            );
        }
        for (i, row) in rows.rows.iter().enumerate() {
            let got = load(m, &row.id, row.created).await;
            let got = got.unwrap_or_else(|| panic!("row {i} ({}) missing", row.id));
            row.check(i, &got);
            let got = latest(m, &row.id).await.expect("record present");
            row.check(i, &got);
        }
    }

    pub(crate) async fn no_region_suffix(m: &dyn Metastore) {
        assert_eq!(m.region_suffix(), None);
    }

    pub(crate) async fn malformed_row_is_a_clear_error_not_a_panic(f: &Fixture) {
        let (id, created) = ("_SK_malformed_s_p", 1_700_000_040);
        f.raw.plant_garbage(id, created).await;
        let err = f
            .store
            .load(id, created)
            .await
            .expect_err("garbage must not load");
        assert!(
            matches!(&err, Error::UnmarshalKey { id: got, created: Some(c), .. } if got == id && *c == created),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with("unable to unmarshal key: "),
            "{err}"
        );
        let err = f
            .store
            .load_latest(id)
            .await
            .expect_err("garbage must not load");
        assert!(
            matches!(&err, Error::UnmarshalKey { created: None, .. }),
            "{err:?}"
        );
        // A good record beside it is unaffected.
        assert!(
            store(
                &*f.store,
                "_SK_good_s_p",
                created,
                &sk_record(created, b"k")
            )
            .await
        );
        assert!(load(&*f.store, "_SK_good_s_p", created).await.is_some());
    }

    async fn load(m: &dyn Metastore, id: &str, created: i64) -> Option<EnvelopeKeyRecord> {
        let got = m.load(id, created).await.expect("load must not fail");
        if let Some(rec) = &got {
            assert_eq!(
                rec.id, id,
                "returned record carries the id it was found under"
            );
        }
        got
    }

    async fn latest(m: &dyn Metastore, id: &str) -> Option<EnvelopeKeyRecord> {
        let got = m.load_latest(id).await.expect("load_latest must not fail");
        if let Some(rec) = &got {
            assert_eq!(
                rec.id, id,
                "returned record carries the id it was found under"
            );
        }
        got
    }

    async fn store(m: &dyn Metastore, id: &str, created: i64, rec: &EnvelopeKeyRecord) -> bool {
        m.store(id, created, rec)
            .await
            .expect("store must not fail")
    }
}

/// One contract test for one backend: build the backend's fixture (or skip loudly when its server is not
/// configured), run the check on it, drop what it created.
macro_rules! contract_case {
    (#[$test:meta] $backend:ident::$name:ident(|$f:ident| $check:expr)) => {
        #[$test]
        async fn $name() {
            let Some($f) = super::$backend().await else {
                return;
            };
            $check.await;
            $f.cleanup().await;
        }
    };
}

/// Instantiate every contract test for one backend.
macro_rules! contract_suite {
    ($backend:ident) => {
        mod $backend {
            use super::*;

            contract_case!(
                #[tokio::test]
                $backend::load_missing_is_none(|f| contract::load_missing_is_none(&*f.store))
            );

            contract_case!(
                #[tokio::test]
                $backend::store_then_load_returns_the_record_with_its_id(|f| {
                    contract::store_then_load_returns_the_record_with_its_id(&*f.store)
                })
            );

            contract_case!(
                #[tokio::test]
                $backend::store_duplicate_is_false_and_keeps_the_original(|f| {
                    contract::store_duplicate_is_false_and_keeps_the_original(&*f.store)
                })
            );

            contract_case!(
                #[tokio::test]
                $backend::load_latest_picks_the_greatest_created(|f| {
                    contract::load_latest_picks_the_greatest_created(&*f.store)
                })
            );

            contract_case!(
                #[tokio::test]
                $backend::different_ids_are_isolated(|f| contract::different_ids_are_isolated(
                    &*f.store
                ))
            );

            contract_case!(
                #[tokio::test]
                $backend::revoked_records_round_trip(|f| contract::revoked_records_round_trip(
                    &*f.store
                ))
            );

            contract_case!(
                #[tokio::test]
                $backend::created_before_1970_and_around_2038(|f| {
                    contract::created_before_1970_and_around_2038(
                        &*f.store,
                        f.created_range.clone(),
                    )
                })
            );

            contract_case!(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                $backend::concurrent_stores_of_one_key_have_exactly_one_winner(|f| {
                    contract::concurrent_stores_of_one_key_have_exactly_one_winner(Arc::clone(
                        &f.store,
                    ))
                })
            );

            contract_case!(
                #[tokio::test]
                $backend::spec_2_8_rows_read_back_field_for_field(|f| {
                    contract::spec_2_8_rows_read_back_field_for_field(&*f.store)
                })
            );

            contract_case!(
                #[tokio::test]
                $backend::no_region_suffix(|f| contract::no_region_suffix(&*f.store))
            );

            contract_case!(
                #[tokio::test]
                $backend::unicode_long_and_near_identical_ids_are_distinct_keys(|f| {
                    contract::unicode_long_and_near_identical_ids_are_distinct_keys(&*f.store)
                })
            );
        }
    };
}

/// The malformed-row property, for backends whose storage the test can write to directly.
macro_rules! malformed_row_test {
    ($module:ident, $backend:ident) => {
        mod $module {
            contract_case!(
                #[tokio::test]
                $backend::malformed_row_is_a_clear_error_not_a_panic(|f| {
                    super::contract::malformed_row_is_a_clear_error_not_a_panic(&f)
                })
            );
        }
    };
}

contract_suite!(in_memory);
#[cfg(feature = "sqlite")]
contract_suite!(sqlite_in_memory);
#[cfg(feature = "sqlite")]
contract_suite!(sqlite_file);
#[cfg(feature = "sqlite")]
malformed_row_test!(sqlite_file_malformed, sqlite_file);
#[cfg(feature = "mysql")]
contract_suite!(mysql);
#[cfg(feature = "mysql")]
malformed_row_test!(mysql_malformed, mysql);
#[cfg(feature = "postgres")]
contract_suite!(postgres);
#[cfg(feature = "postgres")]
malformed_row_test!(postgres_malformed, postgres);
#[cfg(feature = "dynamodb")]
contract_suite!(dynamodb);
#[cfg(feature = "dynamodb")]
malformed_row_test!(dynamodb_malformed, dynamodb);

/// The in-memory store's call counters, which the lab reports as metastore traffic.
#[tokio::test]
async fn in_memory_stats_count_every_call() {
    let m = InMemoryMetastore::new();
    assert_eq!(m.stats(), Default::default());
    assert!(m.is_empty());
    let rec = sk_record(60, b"k");
    assert!(m.store("_SK_s_p", 60, &rec).await.expect("store"));
    assert!(!m.store("_SK_s_p", 60, &rec).await.expect("store"));
    let _ = m.load("_SK_s_p", 60).await.expect("load");
    let _ = m.load("_SK_s_p", 120).await.expect("load");
    let _ = m.load("_SK_x", 60).await.expect("load");
    let _ = m.load_latest("_SK_s_p").await.expect("load_latest");
    let stats = m.stats();
    assert_eq!(
        (
            stats.loads,
            stats.load_latests,
            stats.stores,
            stats.stores_inserted
        ),
        (3, 1, 2, 1)
    );
    assert_eq!(m.len(), 1);
    m.reset_stats();
    assert_eq!(m.stats(), Default::default());
    assert_eq!(m.len(), 1, "reset_stats keeps the records");
}

/// Mutating a returned record must not change what is stored.
#[tokio::test]
async fn in_memory_returns_copies() {
    let m = InMemoryMetastore::new();
    assert!(
        m.store("_SK_s_p", 60, &sk_record(60, b"k"))
            .await
            .expect("store")
    );
    let mut got = m.load("_SK_s_p", 60).await.expect("load").expect("present");
    got.revoked = true;
    got.encrypted_key.clear();
    let again = m.load("_SK_s_p", 60).await.expect("load").expect("present");
    assert!(!again.revoked);
    assert_eq!(again.encrypted_key, b"k");
}
