//! The key hierarchy algorithm (docs/compatibility.md#algorithms): encrypt and decrypt step by step, the cache
//! loaders, inline rotation, and the duplicate-store race.
//!
//! One [`Envelope`] per session: its partition's ids, its intermediate key cache (or the factory's shared one) and
//! the factory's [`Shared`] state (system key cache, metastore, KMS, AEAD, secret factory, RNG, clock).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use securememory::SecretFactory;
use zeroize::Zeroizing;

use crate::cache::key_cache::{KeyCache, KeyHandle, LatestMemo};
use crate::clock::Clock;
use crate::crypto::{
    AEAD_OVERHEAD, AeadBackend, CryptoKey, KEY_LEN, NONCE_LEN, check_plaintext_len,
};
use crate::error::Error;
use crate::kms::KeyManagementService;
use crate::metastore::Metastore;
use crate::metrics::{record_timer, recorder_installed, start_timer};
use crate::partition::{Partition, PartitionScope};
use crate::policy::{CryptoPolicy, KeyMode};
use crate::record::{DataRowRecord, EnvelopeKeyRecord, KeyMeta};
use crate::rng::SecureRandom;

/// How many times a lost creation race is retried when the winner's key is already invalid (expired or revoked,
/// e.g. written by a process with a skewed clock). Go does not retry
/// (docs/compatibility.md#q10-the-winner-of-a-lost-race-is-used-unchecked); after the last attempt the winner's key
/// is used as Go would.
const CREATE_RETRIES: usize = 3;

/// What a factory shares with all of its sessions.
pub(crate) struct Shared<B: AeadBackend> {
    /// The id parts every session of this factory shares (built once).
    pub(crate) partitions: PartitionScope,
    pub(crate) service: String,
    pub(crate) product: String,
    pub(crate) policy: Arc<CryptoPolicy>,
    pub(crate) metastore: Arc<dyn Metastore>,
    pub(crate) kms: Arc<dyn KeyManagementService>,
    pub(crate) backend: B,
    pub(crate) secrets: SecretFactory,
    /// Data-row keys and nonces.
    pub(crate) rng: Arc<dyn SecureRandom>,
    /// System and intermediate keys: the OS generator unless the builder was given one RNG for everything.
    pub(crate) key_rng: Arc<dyn SecureRandom>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sk_cache: KeyCache<B>,
    pub(crate) shared_ik_cache: Option<Arc<KeyCache<B>>>,
    pub(crate) metrics: bool,
}

/// One partition's view of the hierarchy.
pub(crate) struct Envelope<B: AeadBackend> {
    shared: Arc<Shared<B>>,
    partition: Partition,
    ik_cache: Arc<KeyCache<B>>,
    /// This partition's latest intermediate key, memoised for the hot paths.
    latest_ik: LatestMemo<B>,
}

impl<B: AeadBackend> Envelope<B> {
    pub(crate) fn new(
        shared: Arc<Shared<B>>,
        partition: Partition,
        ik_cache: Arc<KeyCache<B>>,
    ) -> Self {
        Envelope {
            shared,
            partition,
            ik_cache,
            latest_ik: LatestMemo::new(),
        }
    }

    /// Drop the memoised intermediate key (the session is closing).
    pub(crate) fn forget_latest(&self) {
        self.latest_ik.clear();
    }

    pub(crate) fn partition(&self) -> &Partition {
        &self.partition
    }

    pub(crate) fn ik_cache(&self) -> &Arc<KeyCache<B>> {
        &self.ik_cache
    }

    fn new_key(
        &self,
        bytes: &mut [u8; KEY_LEN],
        created: i64,
        revoked: bool,
    ) -> Result<CryptoKey<B>, Error> {
        let s = &*self.shared;
        CryptoKey::new(
            &s.secrets,
            &s.backend,
            s.policy.key_mode,
            bytes,
            created,
            revoked,
        )
    }

    // --- encrypt (docs/compatibility.md#encrypt) -------------------------------------------------------------------

    /// E1–E5: seal `payload` under a fresh data-row key, sealed in turn by the latest intermediate key.
    pub(crate) async fn encrypt(&self, payload: &[u8]) -> Result<DataRowRecord, Error> {
        let started = start_timer(self.shared.metrics && recorder_installed());
        // Before any key is loaded or created: a payload GCM cannot take must not leave new keys behind.
        check_plaintext_len(payload.len())?;
        let ik_id = self.partition.intermediate_key_id();
        let ik = self
            .ik_cache
            .get_or_load_latest(ik_id, || self.load_latest_or_create_ik())
            .await?;
        let record = self.seal_with(&ik, payload, self.shared.clock.now());
        record_timer("ael.drr.encrypt", started);
        record
    }

    /// [`encrypt`](Self::encrypt) when the latest intermediate key is cached, fresh and valid: no await, no
    /// runtime. `None`: the caller must take the async path.
    pub(crate) fn try_encrypt_cached(
        &self,
        payload: &[u8],
    ) -> Option<Result<DataRowRecord, Error>> {
        let started = start_timer(self.shared.metrics && recorder_installed());
        // One clock read serves the cache's freshness check and the record's `created`.
        let now = self.shared.clock.now();
        let ik = self.ik_cache.latest_hit_memo(
            &self.latest_ik,
            self.partition.intermediate_key_id(),
            now,
        )?;
        let record = self.seal_with(&ik, payload, now);
        record_timer("ael.drr.encrypt", started);
        Some(record)
    }

    /// E2–E5 with the intermediate key in hand.
    fn seal_with(
        &self,
        ik: &CryptoKey<B>,
        payload: &[u8],
        now: Duration,
    ) -> Result<DataRowRecord, Error> {
        let s = &*self.shared;
        let created = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        let mut data = Vec::with_capacity(payload.len() + AEAD_OVERHEAD);
        let mut encrypted_key = Vec::with_capacity(KEY_LEN + AEAD_OVERHEAD);
        // The data-row key and both nonces come from one RNG call (a syscall with the OS RNG).
        let mut seal = |random: &mut [u8]| -> Result<(), Error> {
            s.rng.fill(random)?;
            let (drk, nonces) = random.split_at(KEY_LEN);
            let (data_nonce, key_nonce) = split_nonces(nonces);
            self.seal_parts(
                ik,
                drk,
                [data_nonce, key_nonce],
                payload,
                &mut data,
                &mut encrypted_key,
            )
        };
        match s.policy.key_mode {
            // Go's way: the data-row key exists only in secure memory (a pooled scratch page, see securememory).
            KeyMode::ProtectedDataRowKey => {
                s.secrets.with_scratch(KEY_LEN + 2 * NONCE_LEN, seal)??
            }
            KeyMode::StackDataRowKey | KeyMode::CachedCipher | KeyMode::SecretCachedCipher => {
                seal(&mut *Zeroizing::new([0u8; KEY_LEN + 2 * NONCE_LEN]))?
            }
        }
        Ok(DataRowRecord {
            key: Some(EnvelopeKeyRecord {
                revoked: false,
                id: String::new(),
                created,
                encrypted_key,
                parent_key_meta: Some(KeyMeta {
                    key_id: String::from(&**self.partition.intermediate_key_id()),
                    created: ik.created(),
                }),
            }),
            data,
        })
    }

    /// E3–E4: the payload under the data-row key, and the data-row key under the intermediate key.
    fn seal_parts(
        &self,
        ik: &CryptoKey<B>,
        drk: &[u8],
        [data_nonce, key_nonce]: [&[u8; NONCE_LEN]; 2],
        payload: &[u8],
        data: &mut Vec<u8>,
        encrypted_key: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let backend = &self.shared.backend;
        backend.seal_once(drk, data_nonce, payload, data)?;
        ik.with_cipher(backend, |ik| {
            backend.seal_into(ik, key_nonce, drk, encrypted_key)
        })
    }

    /// I1–I6: the latest valid intermediate key from the metastore, or a new one.
    async fn load_latest_or_create_ik(&self) -> Result<CryptoKey<B>, Error> {
        let s = &*self.shared;
        let ik_id = self.partition.intermediate_key_id();
        let Some(record) = s.metastore.load_latest(ik_id).await? else {
            return self.create_ik().await;
        };
        if record.revoked || s.policy.is_expired(record.created, s.clock.now()) {
            return self.create_ik().await;
        }
        let Some(parent) = record.parent_key_meta.as_ref() else {
            // Go dereferences a missing parent and crashes
            // (docs/compatibility.md#q13-an-ik-row-without-a-parent-crashes-go); a new key is the safe way forward.
            tracing::debug!(
                id = &**ik_id,
                "intermediate key record without parent key meta; creating a new one"
            );
            return self.create_ik().await;
        };
        let sk = match self.system_key(parent).await {
            Ok(sk) => sk,
            Err(e) => {
                tracing::debug!(error = %e, "system key of the latest intermediate key unavailable; creating a new one");
                return self.create_ik().await;
            }
        };
        if sk.is_revoked() || s.policy.is_expired(sk.created(), s.clock.now()) {
            return self.create_ik().await;
        }
        match self.open_ik(&sk, &record) {
            Ok(ik) => Ok(ik),
            Err(e) => {
                tracing::debug!(error = %e, "latest intermediate key does not decrypt; creating a new one");
                self.create_ik().await
            }
        }
    }

    /// C1–C8: create, store, and on a lost race adopt the winner (docs/compatibility.md#concurrent-key-creation).
    async fn create_ik(&self) -> Result<CryptoKey<B>, Error> {
        let s = &*self.shared;
        let ik_id = self.partition.intermediate_key_id();
        let sk_id = self.partition.system_key_id();
        for attempt in 1..=CREATE_RETRIES {
            let sk = s
                .sk_cache
                .get_or_load_latest(sk_id, || self.load_latest_or_create_sk())
                .await?;
            let created = s.policy.truncated_created(s.clock.now());
            let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
            s.key_rng.fill(&mut *bytes)?;
            let mut encrypted_key = Vec::with_capacity(KEY_LEN + AEAD_OVERHEAD);
            sk.with_cipher(&s.backend, |c| {
                s.backend
                    .seal_random_into(c, &*s.rng, &*bytes, &mut encrypted_key)
            })?;
            let record = EnvelopeKeyRecord {
                revoked: false,
                id: ik_id.to_string(),
                created,
                encrypted_key,
                parent_key_meta: Some(KeyMeta {
                    key_id: sk_id.to_string(),
                    created: sk.created(),
                }),
            };
            if self.store(ik_id, created, &record).await {
                return self.new_key(&mut bytes, created, false);
            }
            drop(bytes); // lost the race: this key was never stored; wipe it
            if let Some(winner) = self.race_winner(ik_id, attempt).await? {
                return self.ik_from_record(&sk, &winner).await;
            }
        }
        unreachable!("the last attempt always returns")
    }

    /// F1–F3: decrypt an intermediate key record, loading the system key version it names if it differs.
    async fn ik_from_record(
        &self,
        sk: &KeyHandle<B>,
        record: &EnvelopeKeyRecord,
    ) -> Result<CryptoKey<B>, Error> {
        match &record.parent_key_meta {
            Some(parent)
                if parent.created != sk.created()
                    || parent.key_id != **self.partition.system_key_id() =>
            {
                // Dropped at the end of this call: docs/compatibility.md#q2-an-extra-sk-handle-is-never-released
                // (never released in Go) fixed.
                let other = self.system_key(parent).await?;
                self.open_ik(&other, record)
            }
            _ => self.open_ik(sk, record),
        }
    }

    fn open_ik(
        &self,
        sk: &CryptoKey<B>,
        record: &EnvelopeKeyRecord,
    ) -> Result<CryptoKey<B>, Error> {
        let s = &*self.shared;
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        sk.with_cipher(&s.backend, |c| {
            s.backend.open_key(c, &record.encrypted_key, &mut bytes)
        })?;
        self.new_key(&mut bytes, record.created, record.revoked)
    }

    /// S1–S8: the latest valid system key, or a new one encrypted by the KMS.
    async fn load_latest_or_create_sk(&self) -> Result<CryptoKey<B>, Error> {
        let s = &*self.shared;
        let sk_id = self.partition.system_key_id();
        for attempt in 1..=CREATE_RETRIES {
            if let Some(record) = s.metastore.load_latest(sk_id).await?
                && !record.revoked
                && !s.policy.is_expired(record.created, s.clock.now())
            {
                return self.decrypt_sk(&record).await;
            }
            let created = s.policy.truncated_created(s.clock.now());
            let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
            s.key_rng.fill(&mut *bytes)?;
            let encrypted_key = s.kms.encrypt_key(&*bytes).await?;
            let record = EnvelopeKeyRecord {
                revoked: false,
                id: sk_id.to_string(),
                created,
                encrypted_key,
                parent_key_meta: None,
            };
            if self.store(sk_id, created, &record).await {
                return self.new_key(&mut bytes, created, false);
            }
            drop(bytes); // lost the race: this key was never stored; wipe it
            if let Some(winner) = self.race_winner(sk_id, attempt).await? {
                return self.decrypt_sk(&winner).await;
            }
        }
        unreachable!("the last attempt always returns")
    }

    /// The system key version `meta` names, through the system key cache.
    async fn system_key(&self, meta: &KeyMeta) -> Result<KeyHandle<B>, Error> {
        let id: Arc<str> = meta.key_id.as_str().into();
        self.shared
            .sk_cache
            .get_or_load(&id, meta.created, || self.load_sk(&id, meta.created))
            .await
    }

    /// L1–L2: a specific system key version.
    async fn load_sk(&self, id: &str, created: i64) -> Result<CryptoKey<B>, Error> {
        match self.shared.metastore.load(id, created).await? {
            Some(record) => self.decrypt_sk(&record).await,
            None => Err(Error::SystemKeyNotFound {
                id: id.to_string(),
                created,
            }),
        }
    }

    async fn decrypt_sk(&self, record: &EnvelopeKeyRecord) -> Result<CryptoKey<B>, Error> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        self.shared
            .kms
            .decrypt_key(&record.encrypted_key, &mut bytes)
            .await?;
        self.new_key(&mut bytes, record.created, record.revoked)
    }

    /// After a lost creation race (C7/S7): the winner's record, or `None` to try creating again because the
    /// winner is already invalid and attempts remain (Go uses it regardless,
    /// docs/compatibility.md#q10-the-winner-of-a-lost-race-is-used-unchecked).
    async fn race_winner(
        &self,
        id: &str,
        attempt: usize,
    ) -> Result<Option<EnvelopeKeyRecord>, Error> {
        let s = &*self.shared;
        let Some(winner) = s.metastore.load_latest(id).await? else {
            return Err(Error::KeyNotFoundAfterRetry { id: id.to_string() });
        };
        let invalid = winner.revoked || s.policy.is_expired(winner.created, s.clock.now());
        if invalid && attempt < CREATE_RETRIES {
            tracing::debug!(
                id,
                attempt,
                "lost the creation race to an invalid key; retrying"
            );
            return Ok(None);
        }
        Ok(Some(winner))
    }

    /// Insert-if-absent; any error counts as "someone else won" (docs/compatibility.md#concurrent-key-creation), and
    /// is logged.
    async fn store(&self, id: &str, created: i64, record: &EnvelopeKeyRecord) -> bool {
        match self.shared.metastore.store(id, created, record).await {
            Ok(inserted) => inserted,
            Err(e) => {
                tracing::debug!(id, created, error = %e, "metastore store failed; treating as a lost race");
                false
            }
        }
    }

    // --- decrypt (docs/compatibility.md#decrypt) -------------------------------------------------------------------

    /// D1–D3: the record's key, its parent, and the parent's id if this session may use it.
    fn check_record<'r>(
        &self,
        record: &'r DataRowRecord,
    ) -> Result<(&'r EnvelopeKeyRecord, i64, Cow<'_, Arc<str>>), Error> {
        let key = record.key.as_ref().ok_or(Error::DataRowKeyMissing)?;
        let parent = key
            .parent_key_meta
            .as_ref()
            .ok_or(Error::ParentKeyMissing)?;
        // The own id first: the common case, and one comparison instead of two.
        let own_id = self.partition.intermediate_key_id();
        // Borrowed, not cloned: the common case then costs no reference count.
        let ik_id = if parent.key_id == **own_id {
            Cow::Borrowed(own_id)
        } else if self.partition.is_valid_intermediate_key_id(&parent.key_id) {
            Cow::Owned(parent.key_id.as_str().into())
        } else {
            return Err(Error::InvalidIntermediateKeyId);
        };
        Ok((key, parent.created, ik_id))
    }

    /// D1–D6. Expiry and revocation are deliberately not checked on this path.
    pub(crate) async fn decrypt(&self, record: &DataRowRecord) -> Result<Vec<u8>, Error> {
        let started = start_timer(self.shared.metrics && recorder_installed());
        let (key, created, ik_id) = self.check_record(record)?;
        let ik = self
            .ik_cache
            .get_or_load(&ik_id, created, || self.load_ik(&ik_id, created))
            .await?;
        let plaintext = self.open_with(&ik, key, &record.data);
        record_timer("ael.drr.decrypt", started);
        plaintext
    }

    /// [`decrypt`](Self::decrypt) when the intermediate key is cached and fresh (or the record is invalid): no
    /// await, no runtime. `None`: the caller must take the async path.
    pub(crate) fn try_decrypt_cached(
        &self,
        record: &DataRowRecord,
    ) -> Option<Result<Vec<u8>, Error>> {
        let started = start_timer(self.shared.metrics && recorder_installed());
        let (key, created, ik_id) = match self.check_record(record) {
            Ok(checked) => checked,
            Err(e) => return Some(Err(e)),
        };
        let ik = match ik_id {
            Cow::Borrowed(own_id) => self.ik_cache.hit_memo(&self.latest_ik, own_id, created),
            Cow::Owned(other_id) => self.ik_cache.hit(&other_id, created),
        }?;
        let plaintext = self.open_with(&ik, key, &record.data);
        record_timer("ael.drr.decrypt", started);
        Some(plaintext)
    }

    fn open_with(
        &self,
        ik: &CryptoKey<B>,
        key: &EnvelopeKeyRecord,
        data: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let s = &*self.shared;
        let mut drk = Zeroizing::new([0u8; KEY_LEN]);
        ik.with_cipher(&s.backend, |c| {
            s.backend.open_key(c, &key.encrypted_key, &mut drk)
        })?;
        let mut out = Vec::with_capacity(data.len().saturating_sub(AEAD_OVERHEAD));
        s.backend.open_once(&*drk, data, &mut out)?;
        Ok(out)
    }

    /// K1–K3: a specific intermediate key version.
    async fn load_ik(&self, id: &str, created: i64) -> Result<CryptoKey<B>, Error> {
        let s = &*self.shared;
        let Some(record) = s.metastore.load(id, created).await? else {
            return Err(Error::IntermediateKeyNotFound {
                id: id.to_string(),
                created,
            });
        };
        let parent =
            record
                .parent_key_meta
                .as_ref()
                .ok_or_else(|| Error::IntermediateKeyWithoutParent {
                    id: id.to_string(),
                    created,
                })?;
        let sk = self.system_key(parent).await?;
        self.open_ik(&sk, &record)
    }
}

/// Two distinct nonces from one buffer of random bytes.
fn split_nonces(bytes: &[u8]) -> (&[u8; NONCE_LEN], &[u8; NONCE_LEN]) {
    let (first, rest) = bytes
        .split_first_chunk::<NONCE_LEN>()
        .unwrap_or_else(|| unreachable!("24 random bytes"));
    let second = rest
        .first_chunk::<NONCE_LEN>()
        .unwrap_or_else(|| unreachable!("24 random bytes"));
    (first, second)
}
