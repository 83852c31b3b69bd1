//! The SQL metastore (docs/compatibility.md#sql-metastore): one table `encryption_key (id, created, key_record)`
//! reached through `sqlx`.
//!
//! # Driver: sqlx
//!
//! All three databases go through `sqlx` (0.9, no default features): one async API, one pool type family, one
//! error type, pure-Rust MySQL and PostgreSQL wire protocols (no libmysqlclient/libpq to install), and SQLite in
//! the same build (`rusqlite` cannot share a build with sqlx, both link libsqlite3). The official async drivers
//! (`mysql_async`, `tokio-postgres` + `deadpool`) would mean two pool crates, two error types and two parameter
//! binding styles for the same three statements.
//!
//! # Design: one concrete type over an enum of pools
//!
//! [`SqlMetastore`] is a plain struct holding a private `Backend` enum with one variant per compiled-in database
//! (`Sqlite(SqlitePool)`, `MySql(MySqlPool)`, `Postgres(PgPool)`, behind the `sqlite`, `mysql` and `postgres`
//! features). Everything that does not depend on the driver lives here once: the Go query strings and their
//! placeholder rewriting ([`Dialect`]), the table name, the DDL, metrics timers, JSON encoding/decoding, the "any
//! failed insert is `false`" rule and error mapping. The statements themselves are the same four functions for
//! every driver ([`driver_statements!`]); each backend module (`sql/{sqlite,mysql,postgres}.rs`) adds only how to
//! connect and how that database's Go driver encodes `created`.
//!
//! Why not `SqlMetastore<DB: sqlx::Database>`: the backends need *different* Rust types for the `created`
//! parameter (SQLite stores Go's timestamp text, MySQL/Postgres take a `DATETIME`/`timestamp` value), and generic
//! sqlx code needs higher-ranked bounds (`for<'c> &'c Pool<DB>: Executor<'c>`, `for<'q> …: Encode<'q, DB>`) that leak
//! into every signature and interact badly with `async_trait`. The enum keeps the public type non-generic (one
//! `SqlMetastore` behind `Arc<dyn Metastore>`, choosable at runtime from configuration) at the cost of one `match`
//! per call, which is noise next to a database round trip.

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use super::Metastore;
use crate::error::Error;
use crate::metrics::Timer;
use crate::record::EnvelopeKeyRecord;

/// The SQL dialects the metastore speaks: they differ in placeholder syntax (docs/compatibility.md#sql-metastore)
/// and DDL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// MySQL / MariaDB: `?` placeholders (Go's default).
    MySql,
    /// PostgreSQL: `$1, $2, …` placeholders.
    Postgres,
    /// SQLite: `?` placeholders, like MySQL.
    Sqlite,
}

/// Go's load query (MySQL placeholders).
const LOAD_QUERY: &str = "SELECT key_record FROM encryption_key WHERE id = ? AND created = ?";
/// Go's store query (MySQL placeholders).
const STORE_QUERY: &str = "INSERT INTO encryption_key (id, created, key_record) VALUES (?, ?, ?)";
/// Go's load-latest query (MySQL placeholders). The lowercase `from` is Go's, kept so the text matches exactly.
const LOAD_LATEST_QUERY: &str =
    "SELECT key_record from encryption_key WHERE id = ? ORDER BY created DESC LIMIT 1";

/// The documented schema of docs/compatibility.md#sql-metastore (MySQL), made idempotent with `IF NOT EXISTS`.
const MYSQL_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS encryption_key (
  id          VARCHAR(255) NOT NULL,
  created     TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  key_record  TEXT         NOT NULL,
  PRIMARY KEY (id, created),
  INDEX (created)
)";

/// The schema for PostgreSQL: the same columns; the `created` index is a separate statement. `created` is a
/// `timestamp` (without time zone) holding UTC wall-clock time, as docs/compatibility.md#sql-metastore recommends.
const POSTGRES_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS encryption_key (
  id          VARCHAR(255) NOT NULL,
  created     TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  key_record  TEXT         NOT NULL,
  PRIMARY KEY (id, created)
);
CREATE INDEX IF NOT EXISTS encryption_key_created ON encryption_key (created)";

/// The schema for SQLite: as PostgreSQL. SQLite gives the `TIMESTAMP` column numeric affinity, but the values this
/// metastore binds (`YYYY-MM-DD HH:MM:SS+00:00`) are not numbers, so they stay text and compare as text.
const SQLITE_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS encryption_key (
  id          VARCHAR(255) NOT NULL,
  created     TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  key_record  TEXT         NOT NULL,
  PRIMARY KEY (id, created)
);
CREATE INDEX IF NOT EXISTS encryption_key_created ON encryption_key (created)";

impl Dialect {
    /// Rewrite a query written with `?` placeholders for this dialect, as Go's `WithSQLMetastoreDBType` does: for
    /// PostgreSQL every `?` becomes `$1`, `$2`, … left to right; MySQL and SQLite keep `?`. Like Go, the rewrite is
    /// purely textual (a `?` inside a string literal would be rewritten too; the metastore's queries contain none).
    pub fn rewrite_placeholders(self, query: &str) -> String {
        match self {
            Dialect::MySql | Dialect::Sqlite => query.to_owned(),
            Dialect::Postgres => {
                let mut out = String::with_capacity(query.len() + 8);
                let mut n = 0_u32;
                for c in query.chars() {
                    if c == '?' {
                        n += 1;
                        out.push('$');
                        out.push_str(&n.to_string());
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }

    /// The DDL that creates the `encryption_key` table (and its `created` index) in this dialect. It may hold
    /// several `;`-separated statements and is idempotent (`IF NOT EXISTS`).
    pub fn schema(self) -> &'static str {
        match self {
            Dialect::MySql => MYSQL_SCHEMA,
            Dialect::Postgres => POSTGRES_SCHEMA,
            Dialect::Sqlite => SQLITE_SCHEMA,
        }
    }
}

/// The table name of docs/compatibility.md#sql-metastore, used unless [`SqlMetastore::with_table_name`] says
/// otherwise.
pub const DEFAULT_TABLE_NAME: &str = "encryption_key";

/// The longest table name accepted (PostgreSQL's identifier limit; MySQL allows 64).
const MAX_TABLE_NAME_LEN: usize = 63;

/// The three queries, rewritten once for the metastore's dialect and table (Go does the same at construction).
#[derive(Debug)]
struct Queries {
    table: String,
    load: SqlStr,
    load_latest: SqlStr,
    store: SqlStr,
}

impl Queries {
    fn new(dialect: Dialect) -> Self {
        Self::for_table(dialect, DEFAULT_TABLE_NAME)
    }

    /// The queries against `table`, which must have passed [`check_table_name`].
    fn for_table(dialect: Dialect, table: &str) -> Self {
        // `SqlStr` over an `Arc<str>`: cloning one per call is a reference-count increment.
        let rewrite = |query: &str| {
            let query = with_table(query, table);
            AssertSqlSafe(Arc::<str>::from(dialect.rewrite_placeholders(&query))).into_sql_str()
        };
        Self {
            table: table.to_owned(),
            load: rewrite(LOAD_QUERY),
            load_latest: rewrite(LOAD_LATEST_QUERY),
            store: rewrite(STORE_QUERY),
        }
    }
}

/// `sql` (a query or DDL written for [`DEFAULT_TABLE_NAME`]) against `table` instead. The DDL's index name
/// (`encryption_key_created`) follows the table name, so two tables in one schema get distinct indexes.
fn with_table(sql: &str, table: &str) -> String {
    sql.replace(DEFAULT_TABLE_NAME, table)
}

/// A table name is spliced into SQL text, so only plain identifiers are accepted: an ASCII letter or `_`, then
/// ASCII letters, digits and `_`, at most 63 bytes. Such names need no quoting in MySQL, PostgreSQL or SQLite
/// (PostgreSQL folds unquoted names to lower case, so `EncryptionKey` there is the table `encryptionkey`).
fn check_table_name(table: &str) -> Result<(), Error> {
    let mut chars = table.chars();
    let valid = table.len() <= MAX_TABLE_NAME_LEN
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidTableName(table.to_owned()))
    }
}

/// The connection pool, one variant per compiled-in database. See the module documentation.
#[derive(Debug, Clone)]
enum Backend {
    /// SQLite through `sqlx::SqlitePool`.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    /// MySQL or MariaDB through `sqlx::MySqlPool`.
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
    /// PostgreSQL through `sqlx::PgPool`.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// Run one statement function of the backend module that matches the pool: `dispatch!(self.backend, load(args))`
/// calls `sqlite::load(pool, args)`, `mysql::load(pool, args)` or `postgres::load(pool, args)`.
macro_rules! dispatch {
    ($backend:expr, $f:ident($($arg:expr),* $(,)?)) => {
        match $backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(pool) => sqlite::$f(pool, $($arg),*).await,
            #[cfg(feature = "mysql")]
            Backend::MySql(pool) => mysql::$f(pool, $($arg),*).await,
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => postgres::$f(pool, $($arg),*).await,
        }
    };
}

/// The four statement functions every backend module has, identical apart from the pool type and how `created` is
/// encoded: `$created` is a `fn(i64) -> Result<T, Error>` giving a value of a type the driver can bind.
macro_rules! driver_statements {
    ($pool:ty, $created:path) => {
        /// Run the (possibly multi-statement) DDL.
        pub(super) async fn execute_ddl(pool: &$pool, ddl: String) -> Result<(), Error> {
            sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
                .execute(pool)
                .await
                .map_err(super::backend_error)?;
            Ok(())
        }

        /// `SELECT key_record FROM … WHERE id = ? AND created = ?`.
        pub(super) async fn load(
            pool: &$pool,
            sql: sqlx::SqlStr,
            id: &str,
            created: i64,
        ) -> Result<Option<String>, Error> {
            let created = $created(created)?;
            sqlx::query_scalar(sql)
                .bind(id)
                .bind(created)
                .fetch_optional(pool)
                .await
                .map_err(super::backend_error)
        }

        /// `SELECT key_record from … WHERE id = ? ORDER BY created DESC LIMIT 1`.
        pub(super) async fn load_latest(
            pool: &$pool,
            sql: sqlx::SqlStr,
            id: &str,
        ) -> Result<Option<String>, Error> {
            sqlx::query_scalar(sql)
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(super::backend_error)
        }

        /// `INSERT INTO … (id, created, key_record) VALUES (?, ?, ?)`.
        pub(super) async fn store(
            pool: &$pool,
            sql: sqlx::SqlStr,
            id: &str,
            created: i64,
            key_record: &str,
        ) -> Result<(), Error> {
            let created = $created(created)?;
            sqlx::query(sql)
                .bind(id)
                .bind(created)
                .bind(key_record)
                .execute(pool)
                .await
                .map_err(super::backend_error)?;
            Ok(())
        }
    };
}
use driver_statements;

/// A [`Metastore`] over a SQL database, compatible with Go's `SQLMetastore` (docs/compatibility.md#sql-metastore):
/// same table, same query strings, same `key_record` JSON, `created` bound as a UTC timestamp with second precision.
///
/// [`store`](Metastore::store) answers `Ok(false)` for **any** failed insert (Go returns `(false, err)` and the
/// envelope algorithm ignores the error, docs/compatibility.md#concurrent-key-creation); the driver error is logged
/// at debug level through `tracing`. Loads surface driver errors as [`Error::Metastore`] and undecodable
/// `key_record` text as [`Error::UnmarshalKey`].
///
/// Each call records its duration (seconds) in the `metrics` histograms `ael.metastore.sql.load`,
/// `ael.metastore.sql.loadlatest` and `ael.metastore.sql.store` (docs/compatibility.md#metrics); without an
/// installed recorder that is a no-op.
///
/// Cloning is cheap and shares the connection pool.
#[derive(Debug, Clone)]
pub struct SqlMetastore {
    backend: Backend,
    dialect: Dialect,
    queries: Arc<Queries>,
}

impl SqlMetastore {
    fn with_backend(backend: Backend, dialect: Dialect) -> Self {
        Self {
            backend,
            dialect,
            queries: Arc::new(Queries::new(dialect)),
        }
    }

    /// Open a SQLite database. `url` is an sqlx SQLite URL: `sqlite::memory:` for a private in-memory database
    /// (shared by the pool's connections, alive as long as the metastore), `sqlite://path/to/file.db` for an
    /// existing file, `sqlite://path/to/file.db?mode=rwc` to create it if missing.
    ///
    /// The table is not created; call [`create_schema`](Self::create_schema) for a new database.
    ///
    /// `created` is stored as Go's `mattn/go-sqlite3` driver writes a UTC `time.Time`:
    /// `YYYY-MM-DD HH:MM:SS+00:00`, so a database file can be shared with a Go process running in UTC.
    #[cfg(feature = "sqlite")]
    pub async fn connect_sqlite(url: &str) -> Result<Self, Error> {
        let pool = sqlite::connect(url).await?;
        Ok(Self::with_backend(Backend::Sqlite(pool), Dialect::Sqlite))
    }

    /// Use an existing SQLite connection pool. For an in-memory database the pool must keep at least one
    /// connection open (else the database vanishes with its last connection) and the connections must share one
    /// database (sqlx does both for `sqlite::memory:` when the pool never closes idle connections).
    #[cfg(feature = "sqlite")]
    pub fn from_sqlite_pool(pool: sqlx::SqlitePool) -> Self {
        Self::with_backend(Backend::Sqlite(pool), Dialect::Sqlite)
    }

    /// Open a pool on a MySQL or MariaDB server: `mysql://user:password@host:port/database` (sqlx's URL syntax;
    /// options such as `?ssl-mode=required` go in the query string).
    ///
    /// The pool's connections run in UTC (sqlx sets `time_zone = '+00:00'` on every connection), because `created`
    /// is bound as UTC wall-clock time in a `TIMESTAMP` column, as Go's driver writes it
    /// (docs/compatibility.md#sql-metastore). sqlx keeps the server's `sql_mode` and adds to it; keep a strict mode
    /// (`STRICT_TRANS_TABLES`, MariaDB's and MySQL's default) so an over-long id is an error, not a silent
    /// truncation. Key ids compare with the column's collation: with a case-insensitive (`_ci`) or PAD SPACE
    /// collation, partitions whose names differ only in case or trailing spaces share keys; `utf8mb4_bin` (MySQL 8:
    /// `utf8mb4_0900_bin`) avoids that.
    ///
    /// `created` must lie in what a MySQL `TIMESTAMP` holds (1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC);
    /// other values fail with [`Error::CreatedOutOfRange`] (a store answers `false`).
    ///
    /// The table is not created; call [`create_schema`](Self::create_schema) or run `scripts/sql/mysql.sql`.
    /// For pool settings (size, timeouts) build the pool yourself and use [`from_mysql_pool`](Self::from_mysql_pool).
    #[cfg(feature = "mysql")]
    pub async fn connect_mysql(url: &str) -> Result<Self, Error> {
        let pool = mysql::connect(url).await?;
        Ok(Self::from_mysql_pool(pool))
    }

    /// Use an existing MySQL/MariaDB pool. Its connections must run in UTC (sqlx's default; see
    /// [`connect_mysql`](Self::connect_mysql)).
    #[cfg(feature = "mysql")]
    pub fn from_mysql_pool(pool: sqlx::MySqlPool) -> Self {
        Self::with_backend(Backend::MySql(pool), Dialect::MySql)
    }

    /// Open a pool on a PostgreSQL server: `postgres://user:password@host:port/database` (sqlx's URL syntax).
    ///
    /// `created` is bound as a `timestamp` (without time zone) holding the UTC wall-clock time; the column must
    /// have that type (`scripts/sql/postgres.sql`). Queries use `$1, $2, …` placeholders (Go's `postgres` dialect).
    /// The table is not created; call [`create_schema`](Self::create_schema) or run the script. For pool settings
    /// build the pool yourself and use [`from_postgres_pool`](Self::from_postgres_pool).
    #[cfg(feature = "postgres")]
    pub async fn connect_postgres(url: &str) -> Result<Self, Error> {
        let pool = postgres::connect(url).await?;
        Ok(Self::from_postgres_pool(pool))
    }

    /// Use an existing PostgreSQL pool.
    #[cfg(feature = "postgres")]
    pub fn from_postgres_pool(pool: sqlx::PgPool) -> Self {
        Self::with_backend(Backend::Postgres(pool), Dialect::Postgres)
    }

    /// Use table `table` instead of `encryption_key` (Go's `WithTableName`-style override; the DDL of
    /// [`create_schema`](Self::create_schema) follows). Only plain identifiers are accepted (ASCII letters, digits
    /// and `_`, not starting with a digit, at most 63 bytes), since the name is part of the SQL text; anything
    /// else is [`Error::InvalidTableName`].
    pub fn with_table_name(mut self, table: &str) -> Result<Self, Error> {
        check_table_name(table)?;
        self.queries = Arc::new(Queries::for_table(self.dialect, table));
        Ok(self)
    }

    /// The table this metastore reads and writes.
    pub fn table_name(&self) -> &str {
        &self.queries.table
    }

    /// The dialect this metastore speaks.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Create the table and its `created` index if they do not exist: [`Dialect::schema`] for this metastore's
    /// table name. Idempotent. The same DDL is in `scripts/sql/` for operators.
    pub async fn create_schema(&self) -> Result<(), Error> {
        let ddl = with_table(self.dialect.schema(), &self.queries.table);
        dispatch!(&self.backend, execute_ddl(ddl))
    }

    /// Decode a `key_record` read under `id`; `created` is the lookup's, for the error only.
    fn decode(
        id: &str,
        created: Option<i64>,
        key_record: Option<String>,
    ) -> Result<Option<EnvelopeKeyRecord>, Error> {
        let Some(text) = key_record else {
            return Ok(None);
        };
        let mut record = EnvelopeKeyRecord::from_json(text.as_bytes()).map_err(|source| {
            Error::UnmarshalKey {
                id: id.to_owned(),
                created,
                source: Box::new(source),
            }
        })?;
        id.clone_into(&mut record.id);
        Ok(Some(record))
    }
}

/// Convert unix seconds to a UTC wall-clock datetime, as Go's drivers bind `time.Unix(created, 0)`
/// (docs/compatibility.md#sql-metastore). Fails for instants chrono cannot represent (beyond ±262 000 years).
fn created_to_utc(created: i64) -> Result<chrono::NaiveDateTime, Error> {
    chrono::DateTime::from_timestamp(created, 0)
        .map(|t| t.naive_utc())
        .ok_or(Error::CreatedOutOfRange(created))
}

/// The backend error as this crate's error.
fn backend_error(e: sqlx::Error) -> Error {
    Error::Metastore(Box::new(e))
}

#[async_trait]
impl Metastore for SqlMetastore {
    async fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        let _timer = Timer::start("ael.metastore.sql.load");
        let sql = self.queries.load.clone();
        let key_record = dispatch!(&self.backend, load(sql, id, created))?;
        Self::decode(id, Some(created), key_record)
    }

    async fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        let _timer = Timer::start("ael.metastore.sql.loadlatest");
        let sql = self.queries.load_latest.clone();
        let key_record = dispatch!(&self.backend, load_latest(sql, id))?;
        Self::decode(id, None, key_record)
    }

    async fn store(
        &self,
        id: &str,
        created: i64,
        record: &EnvelopeKeyRecord,
    ) -> Result<bool, Error> {
        let _timer = Timer::start("ael.metastore.sql.store");
        let json = record.to_json();
        let sql = self.queries.store.clone();
        let outcome = match std::str::from_utf8(&json) {
            Ok(key_record) => dispatch!(&self.backend, store(sql, id, created, key_record)),
            Err(e) => Err(Error::MalformedJson(e.to_string())),
        };
        match outcome {
            Ok(()) => Ok(true),
            Err(error) => {
                // Go: `error storing key: <id>, <created>: <err>`, returned beside `false` and ignored by the
                // envelope algorithm, which treats every failed insert as a lost race
                // (docs/compatibility.md#concurrent-key-creation).
                tracing::debug!(id, created, %error, "error storing key");
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests;
