//! Secrets in protected memory, with the semantics of Go Asherah's `securememory`
//! (docs/compatibility.md#securememory).
//!
//! A [`Secret`] holds sensitive bytes in `mlock`ed pages that are inaccessible (`PROT_NONE`) except while an
//! access is in flight, are excluded from core dumps, and are wiped and unmapped when the secret is closed or
//! dropped. Two implementations: [`MemoryKind::Protected`] (Go's `protectedmemory`) and [`MemoryKind::Guarded`]
//! (Go's `memguard`: guard pages and a canary around the data).
//!
//! ```
//! use securememory::{MemoryKind, SecretFactory};
//!
//! let factory = SecretFactory::new(MemoryKind::Protected);
//! let mut key = *b"thisismy32bytesecretthatiwilluse";
//! let secret = factory.new_secret(&mut key)?;          // `key` is wiped
//! assert_eq!(key, [0u8; 32]);
//! let first = secret.with_bytes(|bytes| bytes[0])?;   // readable only inside the closure
//! assert_eq!(first, b't');
//! secret.close()?;
//! assert!(secret.with_bytes(|_| ()).unwrap_err().is_closed());
//! # Ok::<(), securememory::Error>(())
//! ```
//!
//! Process-wide effects: building a [`SecretFactory`] sets `RLIMIT_CORE` to 0 once (Go does the same at import);
//! opt out with [`SecretFactoryBuilder::disable_core_dumps`]. Each secret costs at least one locked page
//! (`RLIMIT_MEMLOCK`).
#![deny(unsafe_code)]

mod backing;
mod error;
mod factory;
#[cfg(all(not(loom), feature = "test-util"))]
mod floor;
#[cfg(not(loom))]
mod fork_safe;
#[cfg(all(test, loom))]
mod loom_models;
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_support;
mod metrics;
mod os;
mod reader;
mod region;
#[cfg(not(loom))]
mod scratch;
mod secret;
mod state;
mod sync;
#[cfg(all(test, not(loom)))]
mod test_support;
mod value;

pub use backing::{BACKING_ENV, Backing, default_backing};
pub use error::Error;
pub use factory::{SecretFactory, SecretFactoryBuilder};
#[cfg(all(not(loom), feature = "test-util"))]
pub use floor::ProtectionFloor;
#[cfg(not(loom))]
pub use fork_safe::ForkSafeBuffer;
pub use metrics::{SecretMetrics, secret_metrics};
pub use os::Wiped;
pub use reader::SecretReader;
pub use region::MemoryKind;
pub use secret::Secret;
pub use value::SecretValue;
