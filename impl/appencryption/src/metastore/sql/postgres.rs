//! The PostgreSQL backend of the SQL metastore.
//!
//! `created` is bound as a `timestamp` (without time zone) holding the UTC wall-clock time, as
//! docs/compatibility.md#sql-metastore recommends: the value does not depend on the session's `TimeZone`, and
//! equality and ordering are those of the instants. PostgreSQL's `timestamp` spans 4713 BC to 294276 AD, wider than
//! anything `created` can reach through chrono, so only chrono's own limit applies.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::{backend_error, created_to_utc};
use crate::error::Error;

/// Open a pool on `url` (see `SqlMetastore::connect_postgres`).
pub(super) async fn connect(url: &str) -> Result<PgPool, Error> {
    let options = PgConnectOptions::from_str(url).map_err(backend_error)?;
    PgPoolOptions::new()
        .connect_with(options)
        .await
        .map_err(backend_error)
}

/// The `created` parameter: the UTC wall-clock time.
pub(super) fn created_param(created: i64) -> Result<chrono::NaiveDateTime, Error> {
    created_to_utc(created)
}

super::driver_statements!(PgPool, created_param);
