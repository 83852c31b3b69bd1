//! [`SessionFactory`]: configuration, the shared caches, and sessions per partition
//! (docs/compatibility.md#public-api-and-metrics).

use std::sync::Arc;

use securememory::SecretFactory;

use crate::cache::key_cache::KeyCache;
use crate::cache::session_cache::SessionCache;
use crate::clock::{Clock, SystemClock};
use crate::crypto::{AeadBackend, AesGcmBackend};
use crate::deadline::{DeadlineKms, DeadlineMetastore};
use crate::envelope::{Envelope, Shared};
use crate::error::Error;
use crate::kms::KeyManagementService;
use crate::metastore::Metastore;
use crate::partition::PartitionScope;
use crate::policy::CryptoPolicy;
use crate::rng::{OsRandom, SecureRandom, ThreadLocalRandom};
use crate::session::{Session, SessionCore};
use crate::sync::{AtomicBool, Ordering};

/// Key ids must fit the metastore's `id` column (`VARCHAR(255)` in the documented SQL schema).
pub const MAX_KEY_ID_LEN: usize = 255;

/// Builds sessions that share a system key cache (and optionally an intermediate key cache and a session cache).
/// One per (service, product) and process is the usual shape. `Send + Sync`; cheap to share behind an `Arc`.
pub struct SessionFactory<B: AeadBackend = AesGcmBackend> {
    shared: Arc<Shared<B>>,
    session_cache: Option<SessionCache<B>>,
    closed: AtomicBool,
    /// The longest partition id whose key ids fit [`MAX_KEY_ID_LEN`] (checked in `build`, so at least 1).
    max_partition_len: usize,
}

/// Configures a [`SessionFactory`]. Start with [`SessionFactory::builder`].
pub struct SessionFactoryBuilder<B: AeadBackend = AesGcmBackend> {
    service: String,
    product: String,
    metastore: Arc<dyn Metastore>,
    kms: Arc<dyn KeyManagementService>,
    policy: CryptoPolicy,
    backend: B,
    /// `None` until [`SessionFactoryBuilder::secret_factory`] sets one; `build` then makes the default. Building
    /// the default eagerly in `builder()` would set `RLIMIT_CORE = 0` for the process before the caller could
    /// pass a factory built with `disable_core_dumps(false)`.
    secrets: Option<SecretFactory>,
    rng: Arc<dyn SecureRandom>,
    key_rng: Arc<dyn SecureRandom>,
    clock: Arc<dyn Clock>,
    metrics: bool,
}

impl SessionFactory<AesGcmBackend> {
    /// Configure a factory for `service`/`product` (they name the keys, docs/compatibility.md#key-ids) over a metastore and a KMS.
    /// Defaults: [`CryptoPolicy::default`], the `aes-gcm` backend, guarded secure memory (Go's memguard), the
    /// per-thread CSPRNG seeded from the OS ([`ThreadLocalRandom`]) for data-row keys and nonces and the OS
    /// generator ([`OsRandom`]) for system and intermediate keys, the system clock, metrics on.
    pub fn builder(
        service: impl Into<String>,
        product: impl Into<String>,
        metastore: Arc<dyn Metastore>,
        kms: Arc<dyn KeyManagementService>,
    ) -> SessionFactoryBuilder<AesGcmBackend> {
        SessionFactoryBuilder {
            service: service.into(),
            product: product.into(),
            metastore,
            kms,
            policy: CryptoPolicy::default(),
            backend: AesGcmBackend,
            secrets: None,
            rng: Arc::new(ThreadLocalRandom),
            key_rng: Arc::new(OsRandom),
            clock: Arc::new(SystemClock),
            metrics: true,
        }
    }
}

impl<B: AeadBackend> SessionFactoryBuilder<B> {
    /// The crypto policy.
    pub fn policy(mut self, policy: CryptoPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Another AEAD backend (e.g. `RingBackend` with the `ring` feature).
    pub fn backend<B2: AeadBackend>(self, backend: B2) -> SessionFactoryBuilder<B2> {
        SessionFactoryBuilder {
            service: self.service,
            product: self.product,
            metastore: self.metastore,
            kms: self.kms,
            policy: self.policy,
            backend,
            secrets: self.secrets,
            rng: self.rng,
            key_rng: self.key_rng,
            clock: self.clock,
            metrics: self.metrics,
        }
    }

    /// Go's `WithSecretFactory`: which secure memory holds the keys.
    pub fn secret_factory(mut self, secrets: SecretFactory) -> Self {
        self.secrets = Some(secrets);
        self
    }

    /// The random source for every key and nonce (tests and instruction-count benches inject a seeded one).
    /// Replaces both defaults: the per-thread generator for data-row keys and nonces and the OS generator for
    /// system and intermediate keys.
    pub fn rng(mut self, rng: Arc<dyn SecureRandom>) -> Self {
        self.key_rng = Arc::clone(&rng);
        self.rng = rng;
        self
    }

    /// The clock for key creation, expiry and cache freshness (tests inject a fake one).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Go's `WithMetrics`: record `ael.drr.encrypt`/`ael.drr.decrypt` timers through the `metrics` facade. Only
    /// this factory is affected (Go's option clears the process-wide registry,
    /// docs/compatibility.md#q15-turning-metrics-off).
    pub fn metrics(mut self, enabled: bool) -> Self {
        self.metrics = enabled;
        self
    }

    /// Build the factory: the system key cache, the shared intermediate key cache if configured (even when
    /// intermediate key caching is off, as in Go, docs/compatibility.md#q4-a-shared-ik-cache-ignores-dont-cache-iks), and the session cache if configured. Every
    /// metastore and KMS call gets the policy's `backend_call_deadline`. Touches no metastore or KMS.
    ///
    /// Errors: an invalid cache configuration; a zero `backend_call_deadline`
    /// ([`Error::InvalidConfiguration`]); service and product names so long that no partition id fits
    /// [`MAX_KEY_ID_LEN`] ([`Error::ServiceProductTooLong`]).
    pub fn build(self) -> Result<SessionFactory<B>, Error> {
        if self.policy.backend_call_deadline.is_zero() {
            return Err(Error::InvalidConfiguration(
                "CryptoPolicy::backend_call_deadline is zero, so every metastore and KMS call would fail: give it a positive duration".to_owned(),
            ));
        }
        let partitions =
            PartitionScope::new(&self.service, &self.product, self.metastore.region_suffix());
        // `_IK_{partition}_{service}_{product}[_{suffix}]` is the longest id; the system key id is shorter.
        let overhead = partitions.partition("").intermediate_key_id().len();
        let Some(max_partition_len) = MAX_KEY_ID_LEN.checked_sub(overhead).filter(|&n| n > 0)
        else {
            return Err(Error::ServiceProductTooLong {
                len: overhead + 1,
                max: MAX_KEY_ID_LEN,
            });
        };
        let deadline = self.policy.backend_call_deadline;
        let metastore: Arc<dyn Metastore> =
            Arc::new(DeadlineMetastore::new(self.metastore, deadline));
        let kms: Arc<dyn KeyManagementService> = Arc::new(DeadlineKms::new(self.kms, deadline));
        let policy = Arc::new(self.policy);
        let sk_cache = KeyCache::new(
            "system",
            policy.cache_system_keys,
            policy.system_key_cache_eviction_policy,
            policy.system_key_cache_max_size,
            Arc::clone(&policy),
            Arc::clone(&self.clock),
        )?;
        let shared_ik_cache = if policy.shared_intermediate_key_cache {
            Some(Arc::new(KeyCache::new(
                "intermediate",
                true,
                policy.intermediate_key_cache_eviction_policy,
                policy.intermediate_key_cache_max_size,
                Arc::clone(&policy),
                Arc::clone(&self.clock),
            )?))
        } else {
            None
        };
        let session_cache = if policy.cache_sessions {
            Some(SessionCache::new(
                policy.session_cache_max_size,
                policy.session_cache_eviction_policy,
                policy.session_cache_duration,
                Arc::clone(&self.clock),
            )?)
        } else {
            None
        };
        let shared = Arc::new(Shared {
            partitions,
            service: self.service,
            product: self.product,
            policy,
            metastore,
            kms,
            backend: self.backend,
            secrets: self.secrets.unwrap_or_default(),
            rng: self.rng,
            key_rng: self.key_rng,
            clock: self.clock,
            sk_cache,
            shared_ik_cache,
            metrics: self.metrics,
        });
        Ok(SessionFactory {
            shared,
            session_cache,
            closed: AtomicBool::new(false),
            max_partition_len,
        })
    }
}

impl<B: AeadBackend> SessionFactory<B> {
    /// A session for `partition_id`. Never touches the metastore. Errors: empty id, or ids too long for the
    /// metastore ([`MAX_KEY_ID_LEN`]).
    pub fn get_session(&self, partition_id: &str) -> Result<Session<B>, Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::FactoryClosed);
        }
        if partition_id.is_empty() {
            return Err(Error::EmptyPartition);
        }
        match &self.session_cache {
            Some(cache) => {
                let core = cache.get_or_create(partition_id, || self.new_core(partition_id))?;
                Ok(Session::new(core, true))
            }
            None => Ok(Session::new(Arc::new(self.new_core(partition_id)?), false)),
        }
    }

    fn new_core(&self, partition_id: &str) -> Result<SessionCore<B>, Error> {
        let s = &self.shared;
        if partition_id.len() > self.max_partition_len {
            return Err(Error::PartitionTooLong {
                len: partition_id.len(),
                max: self.max_partition_len,
            });
        }
        let partition = s.partitions.partition(partition_id);
        let (ik_cache, shared) = match &s.shared_ik_cache {
            Some(cache) => (Arc::clone(cache), true),
            None => (
                Arc::new(KeyCache::new(
                    "intermediate",
                    s.policy.cache_intermediate_keys,
                    s.policy.intermediate_key_cache_eviction_policy,
                    s.policy.intermediate_key_cache_max_size,
                    Arc::clone(&s.policy),
                    Arc::clone(&s.clock),
                )?),
                false,
            ),
        };
        Ok(SessionCore::new(
            Envelope::new(Arc::clone(&self.shared), partition, ik_cache),
            shared,
        ))
    }

    /// The policy this factory was built with.
    pub fn policy(&self) -> &CryptoPolicy {
        &self.shared.policy
    }

    /// Close: the session cache (waiting for sessions in use), then the shared intermediate key cache, then the
    /// system key cache (docs/compatibility.md#public-api-and-metrics). Keys still held by live sessions stay usable
    /// until those are dropped. Idempotent.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(cache) = &self.session_cache {
            cache.close();
        }
        if let Some(cache) = &self.shared.shared_ik_cache {
            cache.close();
        }
        self.shared.sk_cache.close();
    }

    /// Cached sessions right now (0 without a session cache).
    pub fn cached_sessions(&self) -> usize {
        self.session_cache.as_ref().map_or(0, SessionCache::len)
    }
}

impl<B: AeadBackend> Drop for SessionFactory<B> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<B: AeadBackend> std::fmt::Debug for SessionFactory<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionFactory")
            .field("service", &self.shared.service)
            .field("product", &self.shared.product)
            .field("backend", &self.shared.backend.name())
            .field("closed", &self.closed.load(Ordering::Acquire))
            .finish_non_exhaustive()
    }
}
