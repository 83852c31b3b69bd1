//! Helpers for the session-level suites: a settable clock, a metastore that supports out-of-band revocation and
//! failure injection, and factory builders.
#![allow(dead_code, clippy::disallowed_types)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use appencryption::{
    Clock, CryptoPolicy, DataRowRecord, EnvelopeKeyRecord, Error, InMemoryMetastore,
    KeyManagementService, Metastore, SessionFactory, StaticKms,
};
use async_trait::async_trait;

pub(crate) const MASTER_KEY: &str = "thisIsAStaticMasterKeyForTesting";
pub(crate) const SERVICE: &str = "service";
pub(crate) const PRODUCT: &str = "product";

/// The `created` of the intermediate key that sealed `drr`.
pub(crate) fn parent_created(drr: &DataRowRecord) -> i64 {
    drr.key
        .as_ref()
        .and_then(|k| k.parent_key_meta.as_ref())
        .expect("a record from encrypt names its intermediate key")
        .created
}

/// A clock tests move by hand. Starts at 1_700_000_123.5 s.
#[derive(Debug)]
pub(crate) struct FakeClock(AtomicU64);

impl FakeClock {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(FakeClock(AtomicU64::new(1_700_000_123_500_000_000)))
    }
    pub(crate) fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_nanos() as u64, Ordering::SeqCst);
    }
    pub(crate) fn unix(&self) -> i64 {
        (self.0.load(Ordering::SeqCst) / 1_000_000_000) as i64
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::SeqCst))
    }
}

/// A metastore whose records can be revoked out of band (as the revocation scripts do) and whose calls are
/// counted; it can also be told to fail.
#[derive(Default)]
pub(crate) struct TestMetastore {
    records: RwLock<BTreeMap<(String, i64), EnvelopeKeyRecord>>,
    pub(crate) loads: AtomicUsize,
    pub(crate) load_latests: AtomicUsize,
    pub(crate) stores: AtomicUsize,
    pub(crate) fail: AtomicBool,
}

impl TestMetastore {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
    pub(crate) fn revoke(&self, id: &str, created: i64) {
        let mut records = self.records.write().unwrap();
        records
            .get_mut(&(id.to_string(), created))
            .expect("record to revoke")
            .revoked = true;
    }
    pub(crate) fn versions(&self, id: &str) -> Vec<i64> {
        self.records
            .read()
            .unwrap()
            .keys()
            .filter(|(i, _)| i == id)
            .map(|(_, c)| *c)
            .collect()
    }
    pub(crate) fn len(&self) -> usize {
        self.records.read().unwrap().len()
    }
    pub(crate) fn calls(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
            + self.load_latests.load(Ordering::SeqCst)
            + self.stores.load(Ordering::SeqCst)
    }
    pub(crate) fn insert(&self, id: &str, record: EnvelopeKeyRecord) {
        self.records
            .write()
            .unwrap()
            .insert((id.to_string(), record.created), record);
    }
    fn check(&self) -> Result<(), Error> {
        if self.fail.load(Ordering::SeqCst) {
            Err(Error::Metastore("injected failure".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Metastore for TestMetastore {
    async fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.check()?;
        Ok(self
            .records
            .read()
            .unwrap()
            .get(&(id.to_string(), created))
            .cloned())
    }
    async fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.load_latests.fetch_add(1, Ordering::SeqCst);
        self.check()?;
        Ok(self
            .records
            .read()
            .unwrap()
            .range((id.to_string(), i64::MIN)..=(id.to_string(), i64::MAX))
            .next_back()
            .map(|(_, r)| r.clone()))
    }
    async fn store(
        &self,
        id: &str,
        created: i64,
        record: &EnvelopeKeyRecord,
    ) -> Result<bool, Error> {
        self.stores.fetch_add(1, Ordering::SeqCst);
        self.check()?;
        let mut records = self.records.write().unwrap();
        let key = (id.to_string(), created);
        if records.contains_key(&key) {
            return Ok(false);
        }
        let mut record = record.clone();
        record.id = id.to_string();
        records.insert(key, record);
        Ok(true)
    }
}

/// A KMS that always fails.
pub(crate) struct FailingKms;

#[async_trait]
impl KeyManagementService for FailingKms {
    async fn encrypt_key(&self, _key: &[u8]) -> Result<Vec<u8>, Error> {
        Err(Error::Metastore("kms down".into()))
    }
    async fn decrypt_key(&self, _encrypted: &[u8], _key_out: &mut [u8; 32]) -> Result<(), Error> {
        Err(Error::Metastore("kms down".into()))
    }
}

pub(crate) fn static_kms() -> Arc<dyn KeyManagementService> {
    Arc::new(StaticKms::new(MASTER_KEY).expect("static kms"))
}

pub(crate) fn factory(
    metastore: Arc<dyn Metastore>,
    clock: Arc<FakeClock>,
    policy: CryptoPolicy,
) -> SessionFactory {
    SessionFactory::builder(SERVICE, PRODUCT, metastore, static_kms())
        .policy(policy)
        .clock(clock)
        .build()
        .expect("factory")
}

pub(crate) fn memory() -> Arc<InMemoryMetastore> {
    Arc::new(InMemoryMetastore::new())
}
