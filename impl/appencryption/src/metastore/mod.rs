//! Persistent storage of encrypted system and intermediate keys (docs/compatibility.md#metastores).
//!
//! A metastore is a table of [`EnvelopeKeyRecord`]s keyed by `(id, created)`. The envelope algorithm reads exact
//! versions on decrypt, the latest version on encrypt, and inserts new versions when it rotates; the insert-if-absent
//! contract of [`Metastore::store`] is what makes concurrent key creation converge
//! (docs/compatibility.md#concurrent-key-creation).

mod counting;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod memory;
#[cfg(any(feature = "sqlite", feature = "mysql", feature = "postgres"))]
mod sql;

pub use counting::CountingMetastore;
#[cfg(all(feature = "dynamodb", feature = "fuzzing"))]
pub(crate) use dynamodb::decode as decode_dynamodb_item;
#[cfg(feature = "dynamodb")]
pub use dynamodb::{DEFAULT_DYNAMODB_TABLE_NAME, DynamoDbMetastore};
pub use memory::{InMemoryMetastore, MetastoreStats};
#[cfg(any(feature = "sqlite", feature = "mysql", feature = "postgres"))]
pub use sql::{DEFAULT_TABLE_NAME, Dialect, SqlMetastore};

use async_trait::async_trait;

use crate::error::Error;

use crate::record::EnvelopeKeyRecord;

/// Storage for encrypted key records, keyed by `(id, created)` (docs/compatibility.md#metastores).
///
/// `id` is a key id (`_SK_{service}_{product}`, `_IK_{partition}_{service}_{product}`, optionally suffixed,
/// docs/compatibility.md#key-ids); `created` is the key's creation time in whole unix seconds. Implementations must
/// honour this contract, which the crate's metastore contract tests check for every backend:
///
/// * [`load`](Self::load) is an exact `(id, created)` lookup. An absent record is `Ok(None)`, never an error.
/// * [`load_latest`](Self::load_latest) returns the record with the greatest `created` for `id`, or `Ok(None)`.
/// * [`store`](Self::store) inserts if absent and **never overwrites**: `Ok(true)` if this call inserted the record,
///   `Ok(false)` if `(id, created)` already existed. A backend that cannot tell a duplicate from another failure
///   (SQL) may answer `Ok(false)` for any failed insert: callers treat every `false` as "another writer won" and
///   re-read with `load_latest`, where a real outage surfaces as an error
///   (docs/compatibility.md#concurrent-key-creation).
/// * Returned records carry `revoked`, `created`, the encrypted key bytes and `parent_key_meta` exactly as stored,
///   and `id` set to the id that was looked up. The `created` of a returned record is the record's own, which may in
///   principle differ from the `created` it is stored under (only the latter is the lookup key).
///
/// All methods take `&self` and may be called concurrently from many tasks. The trait is object safe: sessions hold
/// an `Arc<dyn Metastore>`.
#[async_trait]
pub trait Metastore: Send + Sync {
    /// Load the record stored under exactly `(id, created)`; `Ok(None)` when there is none.
    async fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error>;

    /// Load the record with the greatest `created` for `id`; `Ok(None)` when `id` has no record.
    async fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error>;

    /// Insert `record` under `(id, created)` unless that key exists. `Ok(true)` if inserted, `Ok(false)` if not
    /// (duplicate, or for SQL backends any failed insert). Never overwrites an existing record.
    async fn store(
        &self,
        id: &str,
        created: i64,
        record: &EnvelopeKeyRecord,
    ) -> Result<bool, Error>;

    /// The region suffix appended to key ids when this metastore is shared across regions
    /// (docs/compatibility.md#partitions-and-region-suffixes); `None` (the default) for metastores that do not
    /// suffix ids. Only DynamoDB with region-suffix mode returns `Some`.
    fn region_suffix(&self) -> Option<&str> {
        None
    }
}

/// A shared metastore is a metastore, so wrappers such as [`CountingMetastore`] can hold an `Arc<dyn Metastore>`.
#[async_trait]
impl<M: Metastore + ?Sized> Metastore for std::sync::Arc<M> {
    async fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        (**self).load(id, created).await
    }

    async fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        (**self).load_latest(id).await
    }

    async fn store(
        &self,
        id: &str,
        created: i64,
        record: &EnvelopeKeyRecord,
    ) -> Result<bool, Error> {
        (**self).store(id, created, record).await
    }

    fn region_suffix(&self) -> Option<&str> {
        (**self).region_suffix()
    }
}
