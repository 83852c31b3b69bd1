//! The wire records (docs/compatibility.md#wire-format): `KeyMeta`, `EnvelopeKeyRecord`, `DataRowRecord`, and their
//! JSON form.
//!
//! Writing is byte-identical to Go's `encoding/json` (field order, omitted fields, padded standard base64, compact,
//! Go's string escaping); see [`write`]. Reading is at least as tolerant as Go's decoder (case-insensitive keys, any
//! order, unknown fields and `null`s ignored) and turns every malformed input into a precise [`Error`]; see
//! [`read`]. Both are hand-written over byte slices: the data path writes one `DataRowRecord` per encrypt.
//!
//! Known, deliberate differences from Go (none affects records Asherah writes):
//! * an empty byte field is written as `""`; Go writes `null` for a nil slice and `""` for an empty one, a
//!   distinction a `Vec<u8>` does not keep (AEAD output is never empty);
//! * a JSON array of numbers in a byte field, which Go decodes byte by byte, is rejected as the wrong type.

mod read;
mod write;

#[cfg(test)]
mod tests;

use crate::error::Error;

/// Identifies a parent key version (docs/compatibility.md#records).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct KeyMeta {
    /// Parent key id (`_SK_…` or `_IK_…`).
    pub key_id: String,
    /// Parent key's `Created`, unix seconds. `0` means "latest" inside caches; it never appears on the wire.
    pub created: i64,
}

/// An encrypted key and its metadata (docs/compatibility.md#records). The id is never serialized.
///
/// JSON: `{"Revoked":true,"Created":…,"Key":"<base64>","ParentKeyMeta":{"KeyId":"…","Created":…}}`, with
/// `Revoked` omitted when false and `ParentKeyMeta` omitted when `None` (system keys).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

/// The caller-visible ciphertext (docs/compatibility.md#records).
///
/// JSON: `{"Key":{<EnvelopeKeyRecord of the data-row key>},"Data":"<base64>"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataRowRecord {
    /// The encrypted data-row key. `None` only for records read from bad input (absent or `null` `Key`), which
    /// decryption then rejects.
    pub key: Option<EnvelopeKeyRecord>,
    /// AEAD(payload, DRK).
    pub data: Vec<u8>,
}

impl DataRowRecord {
    /// The record as Go's `json.Marshal` writes it.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(write::drr_capacity(self));
        write::drr(self, &mut out);
        out
    }

    /// Append the record's JSON (as [`to_json`](Self::to_json)) to `out`, reserving the space it needs once.
    /// Lets a hot path reuse one buffer.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.reserve(write::drr_capacity(self));
        write::drr(self, out);
    }

    /// Parse a record as Go's `json.Unmarshal` would (docs/compatibility.md#json-encoding-and-decoding). A missing
    /// or `null` `Key` gives `key: None`.
    ///
    /// Errors: [`Error::MalformedJson`] (not JSON), [`Error::JsonTruncated`], [`Error::JsonWrongType`],
    /// [`Error::JsonNotInteger`], [`Error::JsonIntegerOutOfRange`], [`Error::InvalidBase64`],
    /// [`Error::MissingBase64Padding`].
    pub fn from_json(bytes: &[u8]) -> Result<DataRowRecord, Error> {
        read::drr(bytes)
    }
}

impl EnvelopeKeyRecord {
    /// The record as Go's `json.Marshal` writes it to a metastore (docs/compatibility.md#records). `id` is not part
    /// of it.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(write::ekr_capacity(self));
        write::ekr(self, &mut out);
        out
    }

    /// Parse a metastore key record as Go's `json.Unmarshal` would
    /// (docs/compatibility.md#json-encoding-and-decoding). `id` is left empty: the metastore fills it from its own
    /// column. Errors as for [`DataRowRecord::from_json`].
    pub fn from_json(bytes: &[u8]) -> Result<EnvelopeKeyRecord, Error> {
        read::ekr(bytes)
    }
}

/// Standard base64 as Go's `base64.StdEncoding`: `+` and `/`, `=` padding written and required when reading, and
/// (unlike the strict RFC mode) non-zero bits in the last symbol tolerated, as Go's non-strict decoder does.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);
