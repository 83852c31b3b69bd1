//! The in-memory metastore (docs/compatibility.md#metastores): for tests, benchmarks and single-process use.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;

use super::Metastore;
use super::counting::CallCounters;
use crate::error::Error;
use crate::record::EnvelopeKeyRecord;
use crate::sync::RwLock;

/// A [`Metastore`] in process memory: `id → (created → record)` under a read-write lock.
///
/// Records are cloned in and out, so a caller mutating a returned record cannot change what is stored. Versions of
/// an id are kept ordered, so [`load_latest`](Metastore::load_latest) is a lookup, not a sort. Nothing is ever
/// evicted. Every call is counted (see [`stats`](Self::stats)) so tests and the lab can report metastore traffic.
pub struct InMemoryMetastore {
    records: RwLock<HashMap<String, BTreeMap<i64, EnvelopeKeyRecord>>>,
    counters: CallCounters,
}

/// A snapshot of the call counters of an [`InMemoryMetastore`] or a [`CountingMetastore`](super::CountingMetastore).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetastoreStats {
    /// Calls to [`Metastore::load`].
    pub loads: u64,
    /// Calls to [`Metastore::load_latest`].
    pub load_latests: u64,
    /// Calls to [`Metastore::store`], whether they inserted or not.
    pub stores: u64,
    /// Calls to [`Metastore::store`] that inserted a record (returned `true`).
    pub stores_inserted: u64,
}

impl Default for InMemoryMetastore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for InMemoryMetastore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryMetastore")
            .field("records", &self.len())
            .field("stats", &self.stats())
            .finish()
    }
}

impl InMemoryMetastore {
    /// An empty metastore.
    pub fn new() -> Self {
        // Written out rather than derived: loom's model types do not all implement `Default`.
        Self {
            records: RwLock::new(HashMap::new()),
            counters: CallCounters::new(),
        }
    }

    /// The call counters since creation or the last [`reset_stats`](Self::reset_stats).
    ///
    /// Counters are read one by one, so a snapshot taken while other tasks are calling the metastore may mix
    /// moments; take it when traffic is quiescent for exact numbers.
    pub fn stats(&self) -> MetastoreStats {
        self.counters.snapshot()
    }

    /// Set all call counters back to zero (stored records are kept).
    pub fn reset_stats(&self) {
        self.counters.reset();
    }

    /// The number of records stored, over all ids.
    pub fn len(&self) -> usize {
        self.records.read().values().map(BTreeMap::len).sum()
    }

    /// Whether no record is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A stored record as handed out: a copy, with `id` set to the id it was found under.
fn returned(id: &str, record: &EnvelopeKeyRecord) -> EnvelopeKeyRecord {
    let mut record = record.clone();
    if record.id != id {
        id.clone_into(&mut record.id);
    }
    record
}

#[async_trait]
impl Metastore for InMemoryMetastore {
    async fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.counters.count_load();
        let records = self.records.read();
        Ok(records
            .get(id)
            .and_then(|versions| versions.get(&created))
            .map(|record| returned(id, record)))
    }

    async fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.counters.count_load_latest();
        let records = self.records.read();
        Ok(records
            .get(id)
            .and_then(BTreeMap::last_key_value)
            .map(|(_, record)| returned(id, record)))
    }

    async fn store(
        &self,
        id: &str,
        created: i64,
        record: &EnvelopeKeyRecord,
    ) -> Result<bool, Error> {
        let mut records = self.records.write();
        let inserted = match records.entry(id.to_owned()).or_default().entry(created) {
            Entry::Vacant(slot) => {
                slot.insert(returned(id, record));
                true
            }
            Entry::Occupied(_) => false,
        };
        drop(records);
        self.counters.count_store(inserted);
        Ok(inserted)
    }
}
