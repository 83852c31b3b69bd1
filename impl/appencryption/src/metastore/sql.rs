//! The SQL metastore (spec §8.3): one table `encryption_key (id, created, key_record)` reached through `sqlx`.
//!
//! # Design: one concrete type over an enum of pools
//!
//! [`SqlMetastore`] is a plain struct holding a private `Backend` enum with one variant per compiled-in database
//! (`Sqlite(SqlitePool)` today; `MySql(MySqlPool)` and `Postgres(PgPool)` behind the future `mysql` / `postgres`
//! features). Everything that does not depend on the driver lives here once: the Go query strings and their
//! placeholder rewriting ([`Dialect`]), the DDL, metrics timers, JSON encoding/decoding, the "any failed insert is
//! `false`" rule and error mapping. Each backend module (`sql/sqlite.rs`) is a handful of functions: connect, encode
//! `created` the way that database's Go driver does, run a query returning the `key_record` text, run the insert.
//!
//! Why not `SqlMetastore<DB: sqlx::Database>`: the three backends need *different* Rust types for the `created`
//! parameter (SQLite stores Go's timestamp text, MySQL/Postgres take a `DATETIME`/`timestamp` value), and generic
//! sqlx code needs higher-ranked bounds (`for<'c> &'c Pool<DB>: Executor<'c>`, `for<'q> …: Encode<'q, DB>`) that leak
//! into every signature and interact badly with `async_trait`. The enum keeps the public type non-generic (one
//! `SqlMetastore` behind `Arc<dyn Metastore>`, choosable at runtime from configuration) at the cost of one `match`
//! per call, which is noise next to a database round trip.
//!
//! Adding MySQL later: enable `sqlx/mysql` under a `mysql` feature, add `sql/mysql.rs` mirroring `sql/sqlite.rs`
//! (binding `created` as a UTC `NaiveDateTime` from [`created_to_utc`]), a `Backend::MySql` arm in the four
//! `match`es below, and `SqlMetastore::connect_mysql`. [`Dialect`], the query strings and the DDL already cover it.

#[cfg(feature = "sqlite")]
mod sqlite;

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use super::Metastore;
use crate::{EnvelopeKeyRecord, Error};

/// The SQL dialects the metastore speaks: they differ in placeholder syntax (spec §8.3) and DDL.
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

/// The documented schema of spec §8.3 (MySQL), made idempotent with `IF NOT EXISTS`.
const MYSQL_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS encryption_key (
  id          VARCHAR(255) NOT NULL,
  created     TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  key_record  TEXT         NOT NULL,
  PRIMARY KEY (id, created),
  INDEX (created)
)";

/// The schema for PostgreSQL: the same columns; the `created` index is a separate statement. `created` is a
/// `timestamp` (without time zone) holding UTC wall-clock time, as spec §8.3 recommends.
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

/// The three queries, rewritten once for the metastore's dialect (Go does the same at construction).
#[derive(Debug)]
struct Queries {
    load: SqlStr,
    load_latest: SqlStr,
    store: SqlStr,
}

impl Queries {
    fn new(dialect: Dialect) -> Self {
        // `SqlStr` over an `Arc<str>`: cloning one per call is a reference-count increment.
        let rewrite = |query| {
            AssertSqlSafe(Arc::<str>::from(dialect.rewrite_placeholders(query))).into_sql_str()
        };
        Self {
            load: rewrite(LOAD_QUERY),
            load_latest: rewrite(LOAD_LATEST_QUERY),
            store: rewrite(STORE_QUERY),
        }
    }
}

/// The connection pool, one variant per compiled-in database. See the module documentation.
#[derive(Debug, Clone)]
enum Backend {
    /// SQLite through `sqlx::SqlitePool`.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
}

/// A [`Metastore`] over a SQL database, compatible with Go's `SQLMetastore` (spec §8.3): same table, same query
/// strings, same `key_record` JSON, `created` bound as a UTC timestamp with second precision.
///
/// [`store`](Metastore::store) answers `Ok(false)` for **any** failed insert (Go returns `(false, err)` and the
/// envelope algorithm ignores the error, spec §3.4); the driver error is logged at debug level through `tracing`.
/// Loads surface driver errors as [`Error::Metastore`] and undecodable `key_record` text as
/// [`Error::UnmarshalKey`].
///
/// Each call records its duration (seconds) in the `metrics` histograms `ael.metastore.sql.load`,
/// `ael.metastore.sql.loadlatest` and `ael.metastore.sql.store` (spec §7.3); without an installed recorder that is
/// a no-op.
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

    /// The dialect this metastore speaks.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Create the `encryption_key` table and its index if they do not exist ([`Dialect::schema`]).
    pub async fn create_schema(&self) -> Result<(), Error> {
        let ddl = self.dialect.schema();
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(pool) => sqlite::execute_ddl(pool, ddl).await,
        }
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

/// Records the elapsed time into a `metrics` histogram when dropped, so failed and cancelled calls are timed too
/// (Go's `defer timer.UpdateSince(start)`).
struct Timer {
    name: &'static str,
    start: Instant,
}

impl Timer {
    fn start(name: &'static str) -> Self {
        Self {
            name,
            start: Instant::now(),
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        metrics::histogram!(self.name).record(self.start.elapsed());
    }
}

/// Convert unix seconds to a UTC wall-clock datetime, as Go's drivers bind `time.Unix(created, 0)` (spec §8.3).
/// Fails for instants chrono cannot represent (beyond ±262 000 years).
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
        let key_record = match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(pool) => sqlite::load(pool, sql, id, created).await?,
        };
        Self::decode(id, Some(created), key_record)
    }

    async fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        let _timer = Timer::start("ael.metastore.sql.loadlatest");
        let sql = self.queries.load_latest.clone();
        let key_record = match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(pool) => sqlite::load_latest(pool, sql, id).await?,
        };
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
            Ok(key_record) => match &self.backend {
                #[cfg(feature = "sqlite")]
                Backend::Sqlite(pool) => sqlite::store(pool, sql, id, created, key_record).await,
            },
            Err(e) => Err(Error::MalformedJson(e.to_string())),
        };
        match outcome {
            Ok(()) => Ok(true),
            Err(error) => {
                // Go: `error storing key: <id>, <created>: <err>`, returned beside `false` and ignored by the
                // envelope algorithm, which treats every failed insert as a lost race (spec §3.4).
                tracing::debug!(id, created, %error, "error storing key");
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests;
