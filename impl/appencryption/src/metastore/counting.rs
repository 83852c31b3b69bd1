//! A metastore wrapper that counts round trips, for tests and benches over any backend.

use async_trait::async_trait;

use super::{Metastore, MetastoreStats};
use crate::error::Error;
use crate::record::EnvelopeKeyRecord;
use crate::sync::{AtomicU64, Ordering};

/// Wraps a [`Metastore`] and counts the calls that reach it (each one a database round trip for the SQL and
/// DynamoDB backends), whatever their outcome. The lab reports these counts beside each backend's timings; tests
/// use them to prove a path was (or was not) served from cache.
#[derive(Debug)]
pub struct CountingMetastore<M> {
    inner: M,
    counters: CallCounters,
}

/// The four call counters behind [`MetastoreStats`], kept by [`CountingMetastore`] and by the in-memory metastore.
#[derive(Debug)]
pub(crate) struct CallCounters {
    loads: AtomicU64,
    load_latests: AtomicU64,
    stores: AtomicU64,
    stores_inserted: AtomicU64,
}

impl CallCounters {
    // Written out rather than derived: loom's model types do not all implement `Default`.
    pub(crate) fn new() -> Self {
        Self {
            loads: AtomicU64::new(0),
            load_latests: AtomicU64::new(0),
            stores: AtomicU64::new(0),
            stores_inserted: AtomicU64::new(0),
        }
    }

    pub(crate) fn count_load(&self) {
        self.loads.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_load_latest(&self) {
        self.load_latests.fetch_add(1, Ordering::Relaxed);
    }

    /// One `store` call, and whether it inserted.
    pub(crate) fn count_store(&self, inserted: bool) {
        self.stores.fetch_add(1, Ordering::Relaxed);
        if inserted {
            self.stores_inserted.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counters are read one by one: take the snapshot while no call is in flight for exact numbers.
    pub(crate) fn snapshot(&self) -> MetastoreStats {
        MetastoreStats {
            loads: self.loads.load(Ordering::Relaxed),
            load_latests: self.load_latests.load(Ordering::Relaxed),
            stores: self.stores.load(Ordering::Relaxed),
            stores_inserted: self.stores_inserted.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn reset(&self) {
        for counter in [
            &self.loads,
            &self.load_latests,
            &self.stores,
            &self.stores_inserted,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

impl<M: Metastore> CountingMetastore<M> {
    /// Count the calls made to `inner`.
    pub fn new(inner: M) -> Self {
        Self {
            inner,
            counters: CallCounters::new(),
        }
    }

    /// The wrapped metastore.
    pub fn inner(&self) -> &M {
        &self.inner
    }

    /// The counts since creation or the last [`reset_stats`](Self::reset_stats). Counters are read one by one;
    /// take the snapshot while no call is in flight for exact numbers.
    pub fn stats(&self) -> MetastoreStats {
        self.counters.snapshot()
    }

    /// Set every counter back to zero.
    pub fn reset_stats(&self) {
        self.counters.reset();
    }
}

#[async_trait]
impl<M: Metastore> Metastore for CountingMetastore<M> {
    async fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.counters.count_load();
        self.inner.load(id, created).await
    }

    async fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.counters.count_load_latest();
        self.inner.load_latest(id).await
    }

    async fn store(
        &self,
        id: &str,
        created: i64,
        record: &EnvelopeKeyRecord,
    ) -> Result<bool, Error> {
        let result = self.inner.store(id, created, record).await;
        self.counters.count_store(matches!(result, Ok(true)));
        result
    }

    fn region_suffix(&self) -> Option<&str> {
        self.inner.region_suffix()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metastore::InMemoryMetastore;

    #[test]
    fn counts_every_call_and_only_successful_inserts() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let m = CountingMetastore::new(InMemoryMetastore::new());
        let rec = EnvelopeKeyRecord {
            revoked: false,
            id: String::new(),
            created: 60,
            encrypted_key: vec![1],
            parent_key_meta: None,
        };
        runtime.block_on(async {
            assert!(m.store("_SK_s_p", 60, &rec).await.expect("store"));
            assert!(!m.store("_SK_s_p", 60, &rec).await.expect("store"));
            assert!(m.load("_SK_s_p", 60).await.expect("load").is_some());
            assert!(m.load_latest("_SK_x").await.expect("latest").is_none());
        });
        assert_eq!(
            m.stats(),
            MetastoreStats {
                loads: 1,
                load_latests: 1,
                stores: 2,
                stores_inserted: 1
            }
        );
        assert_eq!(m.inner().len(), 1);
        m.reset_stats();
        assert_eq!(m.stats(), MetastoreStats::default());
    }
}
