//! The SQLite backend of the SQL metastore.
//!
//! `created` is bound as text in the format Go's `mattn/go-sqlite3` driver writes a `time.Time`
//! (`2006-01-02 15:04:05.999999999-07:00`, which for a whole-second UTC instant is `YYYY-MM-DD HH:MM:SS+00:00`).
//! Lookups compare that text for equality and `ORDER BY created` sorts it as text, which orders instants correctly
//! because every value has the same shape; years are therefore limited to 0000–9999.

use std::str::FromStr;

use chrono::Datelike;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use super::{backend_error, created_to_utc};
use crate::error::Error;

/// Open a pool on `url` (see `SqlMetastore::connect_sqlite`).
pub(super) async fn connect(url: &str) -> Result<SqlitePool, Error> {
    let options = SqliteConnectOptions::from_str(url).map_err(backend_error)?;
    // Idle connections are never closed: an in-memory database lives exactly as long as its last connection, and
    // for a file the one long-lived connection saves reopening it.
    SqlitePoolOptions::new()
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .map_err(backend_error)
}

/// The `created` parameter: Go's text form of the UTC instant.
pub(super) fn created_param(created: i64) -> Result<String, Error> {
    let utc = created_to_utc(created)?;
    if !(0..=9999).contains(&utc.year()) {
        // Outside four-digit years the text no longer sorts in time order.
        return Err(Error::CreatedOutOfRange(created));
    }
    Ok(utc.format("%Y-%m-%d %H:%M:%S+00:00").to_string())
}

super::driver_statements!(SqlitePool, created_param);
