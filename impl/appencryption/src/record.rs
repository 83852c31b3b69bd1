//! The wire records (spec §2): `KeyMeta`, `EnvelopeKeyRecord`, `DataRowRecord`.

/// Identifies a parent key version (spec §2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyMeta {
    /// Parent key id (`_SK_…` or `_IK_…`).
    pub key_id: String,
    /// Parent key's `Created`, unix seconds. `0` means "latest" inside caches; it never appears on the wire.
    pub created: i64,
}

/// An encrypted key and its metadata (spec §2.4). The id is never serialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeKeyRecord {
    /// Set by out-of-band revocation; omitted from JSON when false.
    pub revoked: bool,
    /// Key id; kept by the metastore in its own column, never in the JSON.
    pub id: String,
    /// Creation time, unix seconds.
    pub created: i64,
    /// The encrypted key bytes.
    pub encrypted_key: Vec<u8>,
    /// The key that encrypted this one; `None` for system keys.
    pub parent_key_meta: Option<KeyMeta>,
}

/// The caller-visible ciphertext (spec §2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRowRecord {
    /// The encrypted data-row key. `None` only for records read from bad input.
    pub key: Option<EnvelopeKeyRecord>,
    /// AEAD(payload, DRK).
    pub data: Vec<u8>,
}
