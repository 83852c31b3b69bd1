//! [`Session`]: encrypt and decrypt for one partition (docs/compatibility.md#public-api-and-metrics).

use std::future::Future;
use std::sync::Arc;

use crate::blocking::block_on;
use crate::cache::session_usage::SessionUsage;
use crate::crypto::{AeadBackend, AesGcmBackend};
use crate::envelope::Envelope;
use crate::error::Error;
use crate::record::DataRowRecord;
use crate::sync::{AtomicBool, Ordering};

/// Persists a data row record somewhere and returns a key to find it again (Go's `persistence.Storer`).
pub trait Storer {
    /// What [`Loader::load`] takes to find the record again.
    type Key;
    /// Persist `record`.
    fn store(
        &self,
        record: &DataRowRecord,
    ) -> impl Future<Output = Result<Self::Key, Error>> + Send;
}

/// Finds a data row record stored by a [`Storer`] (Go's `persistence.Loader`).
pub trait Loader {
    /// What identifies a record.
    type Key;
    /// The record for `key`; `Ok(None)` when there is none.
    fn load(
        &self,
        key: &Self::Key,
    ) -> impl Future<Output = Result<Option<DataRowRecord>, Error>> + Send;
}

/// The state behind one partition's sessions: its envelope and, when sessions are cached, the count of handles
/// in use (an evicted cached session is closed only when that count reaches zero,
/// docs/compatibility.md#session-cache).
pub(crate) struct SessionCore<B: AeadBackend> {
    pub(crate) envelope: Envelope<B>,
    usage: SessionUsage,
    closed: AtomicBool,
    /// The IK cache is the factory's shared one: closing the session must not close it.
    shares_ik_cache: bool,
}

impl<B: AeadBackend> SessionCore<B> {
    pub(crate) fn new(envelope: Envelope<B>, shares_ik_cache: bool) -> Self {
        SessionCore {
            envelope,
            usage: SessionUsage::new(),
            closed: AtomicBool::new(false),
            shares_ik_cache,
        }
    }

    /// Count a new user (the session cache's lookup); `false` if an eviction is already closing this core.
    pub(crate) fn try_acquire(&self) -> bool {
        self.usage.try_acquire()
    }

    fn release(&self) {
        self.usage.release();
    }

    /// Wait until no handle uses this core, then close it (the session cache's eviction path).
    pub(crate) fn close_when_unused(&self) {
        self.usage.wait_until_unused();
        self.close();
    }

    /// Release the session's keys: its memo of the latest intermediate key and its own IK cache (not a shared
    /// one). Idempotent.
    pub(crate) fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            self.envelope.forget_latest();
            if !self.shares_ik_cache {
                self.envelope.ik_cache().close();
            }
        }
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// Encrypts and decrypts data for one partition. Get one from [`SessionFactory::get_session`](crate::SessionFactory::get_session).
///
/// Thread-safe (`Send + Sync`): share it, or get one per request — with the session cache on, every call for a
/// partition returns a handle to the same warm session. `close` (or drop) releases it; closing a handle twice is
/// a no-op.
///
/// Two APIs over one core: the blocking methods ([`encrypt`](Self::encrypt), [`decrypt`](Self::decrypt), …)
/// never touch a runtime when the keys are cached, and wait for metastore/KMS I/O on the factory's own runtime
/// when they are not; the `_async` methods are for async code.
pub struct Session<B: AeadBackend = AesGcmBackend> {
    core: Arc<SessionCore<B>>,
    /// True when the session cache owns `core`: closing the handle only releases its use.
    cached: bool,
    closed: AtomicBool,
}

impl<B: AeadBackend> Session<B> {
    pub(crate) fn new(core: Arc<SessionCore<B>>, cached: bool) -> Self {
        Session {
            core,
            cached,
            closed: AtomicBool::new(false),
        }
    }

    fn check_open(&self) -> Result<(), Error> {
        if self.closed.load(Ordering::Acquire) || self.core.is_closed() {
            Err(Error::SessionClosed)
        } else {
            Ok(())
        }
    }

    /// The partition this session encrypts for.
    pub fn partition_id(&self) -> &str {
        self.core.envelope.partition().partition_id()
    }

    /// Encrypt `payload` into a [`DataRowRecord`] (docs/compatibility.md#encrypt).
    pub fn encrypt(&self, payload: &[u8]) -> Result<DataRowRecord, Error> {
        self.check_open()?;
        let envelope = &self.core.envelope;
        if let Some(record) = envelope.try_encrypt_cached(payload) {
            return record;
        }
        block_on(envelope.encrypt(payload))
    }

    /// Decrypt a [`DataRowRecord`] made by any Asherah implementation for this partition
    /// (docs/compatibility.md#decrypt).
    pub fn decrypt(&self, record: &DataRowRecord) -> Result<Vec<u8>, Error> {
        self.check_open()?;
        let envelope = &self.core.envelope;
        if let Some(payload) = envelope.try_decrypt_cached(record) {
            return payload;
        }
        block_on(envelope.decrypt(record))
    }

    /// Encrypt and serialize: the DRR JSON exactly as Go writes it.
    pub fn encrypt_to_json(&self, payload: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(self.encrypt(payload)?.to_json())
    }

    /// Parse DRR JSON (as tolerantly as Go) and decrypt it.
    pub fn decrypt_from_json(&self, json: &[u8]) -> Result<Vec<u8>, Error> {
        self.decrypt(&DataRowRecord::from_json(json)?)
    }

    /// Encrypt, then hand the record to `storer`; returns its key (Go's `Session.Store`).
    pub fn store<S: Storer>(&self, payload: &[u8], storer: &S) -> Result<S::Key, Error> {
        let record = self.encrypt(payload)?;
        block_on(storer.store(&record))
    }

    /// Load a record with `loader` and decrypt it (Go's `Session.Load`).
    pub fn load<L: Loader>(&self, key: &L::Key, loader: &L) -> Result<Vec<u8>, Error> {
        let record = block_on(loader.load(key))?.ok_or(Error::RecordNotFound)?;
        self.decrypt(&record)
    }

    /// Async [`encrypt`](Self::encrypt).
    pub async fn encrypt_async(&self, payload: &[u8]) -> Result<DataRowRecord, Error> {
        self.check_open()?;
        self.core.envelope.encrypt(payload).await
    }

    /// Async [`decrypt`](Self::decrypt).
    pub async fn decrypt_async(&self, record: &DataRowRecord) -> Result<Vec<u8>, Error> {
        self.check_open()?;
        self.core.envelope.decrypt(record).await
    }

    /// Async [`store`](Self::store).
    pub async fn store_async<S: Storer>(
        &self,
        payload: &[u8],
        storer: &S,
    ) -> Result<S::Key, Error> {
        let record = self.encrypt_async(payload).await?;
        storer.store(&record).await
    }

    /// Async [`load`](Self::load).
    pub async fn load_async<L: Loader>(&self, key: &L::Key, loader: &L) -> Result<Vec<u8>, Error> {
        let record = loader.load(key).await?.ok_or(Error::RecordNotFound)?;
        self.decrypt_async(&record).await
    }

    /// Release this handle. Without the session cache, this closes the session and releases its intermediate
    /// keys (unless the factory shares them); with it, the session stays cached and warm. Idempotent.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.cached {
            self.core.release();
        } else {
            self.core.close();
        }
    }
}

impl<B: AeadBackend> Drop for Session<B> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<B: AeadBackend> std::fmt::Debug for Session<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("partition", &self.partition_id())
            .field("cached", &self.cached)
            .field("closed", &self.closed.load(Ordering::Acquire))
            .finish_non_exhaustive()
    }
}
