//! Application-layer envelope encryption, wire-compatible with Go Asherah
//! (`github.com/godaddy/asherah/go/appencryption` v0.9.0).
//!
//! Data is sealed with a fresh data-row key (DRK), the DRK by a per-partition intermediate key (IK), the IK by a
//! system key (SK) and the SK by a master key held in a KMS. Keys live in [`securememory`] secrets while in
//! plaintext, are cached, expire and rotate inline, and persist in a [`Metastore`].
#![forbid(unsafe_code)]

mod clock;
mod error;
mod record;

pub use clock::{Clock, SystemClock};
pub use error::Error;
pub use record::{DataRowRecord, EnvelopeKeyRecord, KeyMeta};
