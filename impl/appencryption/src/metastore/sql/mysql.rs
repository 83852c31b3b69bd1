//! The MySQL / MariaDB backend of the SQL metastore.
//!
//! `created` is bound as a `DATETIME` value holding the UTC wall-clock time, which the server stores into the
//! `TIMESTAMP` column through the session time zone; sqlx sets that to `+00:00` on every connection, so the stored
//! instant is the one Go's `go-sql-driver/mysql` (with its default `loc=UTC`) writes
//! (docs/compatibility.md#sql-metastore).

use std::str::FromStr;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};

use super::{backend_error, created_to_utc};
use crate::error::Error;

/// The instants a MySQL `TIMESTAMP` column holds: 1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC. (0 is the
/// column's "zero date", not the epoch.)
const TIMESTAMP_RANGE: std::ops::RangeInclusive<i64> = 1..=2_147_483_647;

/// Open a pool on `url` (see `SqlMetastore::connect_mysql`).
pub(super) async fn connect(url: &str) -> Result<MySqlPool, Error> {
    let options = MySqlConnectOptions::from_str(url)
        .map_err(backend_error)?
        // sqlx's default, stated here because correctness depends on it.
        .timezone(Some(String::from("+00:00")));
    MySqlPoolOptions::new()
        .connect_with(options)
        .await
        .map_err(backend_error)
}

/// The `created` parameter: the UTC wall-clock time, checked against the `TIMESTAMP` range (out-of-range values
/// would otherwise be stored as the zero date, or rejected, depending on the server's `sql_mode`).
pub(super) fn created_param(created: i64) -> Result<chrono::NaiveDateTime, Error> {
    if !TIMESTAMP_RANGE.contains(&created) {
        return Err(Error::CreatedOutOfRange(created));
    }
    created_to_utc(created)
}

super::driver_statements!(MySqlPool, created_param);
