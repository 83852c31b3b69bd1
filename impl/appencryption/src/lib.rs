//! Application-layer envelope encryption, wire-compatible with Go Asherah
//! (`github.com/godaddy/asherah/go/appencryption` v0.9.0).
//!
//! Data is sealed with a fresh data-row key (DRK), the DRK by a per-partition intermediate key (IK), the IK by a
//! system key (SK) and the SK by a master key held in a KMS. Keys live in [`securememory`] secrets while in
//! plaintext, are cached, expire and rotate inline, and persist in a [`Metastore`]. Records written here decrypt in
//! Go (and the reverse), and the key rows in a shared metastore are interchangeable.
//!
//! ```
//! use std::sync::Arc;
//! use appencryption::{CryptoPolicy, InMemoryMetastore, SessionFactory, StaticKms};
//!
//! let factory = SessionFactory::builder(
//!     "service",
//!     "product",
//!     Arc::new(InMemoryMetastore::new()),
//!     Arc::new(StaticKms::new("thisIsAStaticMasterKeyForTesting")?),
//! )
//! .policy(CryptoPolicy::default())
//! .build()?;
//! let session = factory.get_session("shopper123")?;
//! let record = session.encrypt(b"mysupersecretpayload")?;     // a DataRowRecord, as Go returns it
//! let json = record.to_json();                                // Go's JSON, byte for byte
//! assert_eq!(session.decrypt_from_json(&json)?, b"mysupersecretpayload");
//! # Ok::<(), appencryption::Error>(())
//! ```
//!
//! * **Two APIs over one core**: [`Session::encrypt`]/[`Session::decrypt`] block only when keys must be loaded
//!   (and never touch a runtime when they are cached); the `_async` methods are for async code.
//! * **Where keys live** is a policy choice with a written default: see [`KeyMode`].
//! * **Limits**: payloads up to [`MAX_PLAINTEXT_LEN`] bytes (GCM's limit under one nonce, as in Go); larger ones
//!   fail with [`Error::PlaintextTooLarge`] before any key is created. Key ids (`_IK_{partition}_{service}_{product}`)
//!   up to [`MAX_KEY_ID_LEN`] bytes, the documented SQL schema's column width.
//! * **Errors** are one enum, [`Error`]; decryption failures are opaque, malformed input never panics.
#![forbid(unsafe_code)]

mod blocking;
mod cache;
mod clock;
mod crypto;
mod deadline;
mod envelope;
mod error;
mod factory;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod kms;
mod metastore;
mod metrics;
mod partition;
mod policy;
mod poll;
mod record;
mod rng;
mod session;
mod sync;

/// Entry points for the lab's benches; only with the `test-util` feature.
#[cfg(feature = "test-util")]
pub mod bench_support;
pub use cache::eviction::EvictionPolicy;
pub use clock::{Clock, PreciseSystemClock, SystemClock};
pub use crypto::{
    AEAD_OVERHEAD, AeadBackend, AesGcmBackend, AesGcmCipher, CryptoPath, ENCRYPTED_KEY_LEN,
    KEY_LEN, MAX_PLAINTEXT_LEN, NONCE_LEN, OneShotPath, OneShotSwitch, TAG_LEN, crypto_path,
};
#[cfg(feature = "ring")]
pub use crypto::{RingBackend, RingCipher};
pub use error::Error;
pub use factory::{MAX_KEY_ID_LEN, SessionFactory, SessionFactoryBuilder};
#[cfg(feature = "aws-kms")]
pub use kms::{AwsKms, AwsKmsBuilder, DEFAULT_REGION_DEADLINE};
pub use kms::{KeyManagementService, StaticKms};
pub use metastore::{CountingMetastore, InMemoryMetastore, Metastore, MetastoreStats};
#[cfg(feature = "dynamodb")]
pub use metastore::{DEFAULT_DYNAMODB_TABLE_NAME, DynamoDbMetastore};
#[cfg(any(feature = "sqlite", feature = "mysql", feature = "postgres"))]
pub use metastore::{DEFAULT_TABLE_NAME, Dialect, SqlMetastore};
pub use policy::{
    CryptoPolicy, DEFAULT_BACKEND_CALL_DEADLINE, DEFAULT_CREATE_DATE_PRECISION,
    DEFAULT_EXPIRE_AFTER, DEFAULT_FAILED_LOAD_CACHE_DURATION, DEFAULT_KEY_CACHE_MAX_SIZE,
    DEFAULT_REVOKE_CHECK_INTERVAL, DEFAULT_SESSION_CACHE_DURATION, DEFAULT_SESSION_CACHE_MAX_SIZE,
    KeyMode,
};
pub use record::{DataRowRecord, EnvelopeKeyRecord, KeyMeta};
#[cfg(feature = "test-util")]
pub use rng::SeededRandom;
pub use rng::{OsRandom, SecureRandom, ThreadLocalRandom};
pub use session::{Loader, Session, Storer};
