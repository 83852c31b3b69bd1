//! The one error type of this crate.

/// Everything that can go wrong in `appencryption`: one flat enum, `#[non_exhaustive]` so that adding a variant is
/// not a breaking change.
///
/// The variants are declared in sections, by where the error comes from:
/// * caller misuse of factories and sessions ([`EmptyPartition`](Error::EmptyPartition),
///   [`SessionClosed`](Error::SessionClosed), [`BlockingInAsyncContext`](Error::BlockingInAsyncContext), …);
/// * a record that does not belong to this session ([`DataRowKeyMissing`](Error::DataRowKeyMissing),
///   [`ParentKeyMissing`](Error::ParentKeyMissing), [`InvalidIntermediateKeyId`](Error::InvalidIntermediateKeyId));
/// * keys missing from, or corrupt in, the metastore;
/// * cache configuration;
/// * secure memory ([`SecureMemory`](Error::SecureMemory), the `securememory` crate's error);
/// * metastore and KMS backends: their failures and their configuration;
/// * record JSON that cannot be read;
/// * AEAD and randomness.
///
/// A failed decryption is opaque: [`DecryptionFailed`](Error::DecryptionFailed) never says which check failed
/// (wrong key, altered ciphertext, tag or nonce). Messages keep Go's wording where Go has one
/// (docs/compatibility.md#error-messages), so logs and tests read the same in both languages.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- caller misuse -------------------------------------------------------------------------------------
    /// `get_session` was called with an empty partition id.
    #[error("partition id cannot be empty")]
    EmptyPartition,

    /// The session was closed; get a new one from the factory.
    #[error("session is closed: get a new session from the factory")]
    SessionClosed,

    /// The factory was closed; build a new one.
    #[error("session factory is closed")]
    FactoryClosed,

    /// The partition id is longer than the documented limit (key ids must fit metastore columns).
    #[error("partition id of {len} bytes exceeds the limit of {max} bytes")]
    PartitionTooLong {
        /// The partition id length.
        len: usize,
        /// The limit.
        max: usize,
    },

    /// A blocking call (`encrypt`, `decrypt`, …) needed to wait for I/O while running inside an async runtime,
    /// where blocking would stall it. Use the `_async` methods from async code.
    #[error(
        "a blocking session call needed I/O inside an async runtime; use the `_async` methods from async code"
    )]
    BlockingInAsyncContext,

    /// The runtime that drives metastore and KMS I/O for the blocking API could not be started.
    #[error("could not start the runtime for blocking calls: {0}")]
    Runtime(String),

    /// A [`Loader`](crate::Loader) found no record for the key it was given.
    #[error("no data row record found for the given key")]
    RecordNotFound,

    // --- decrypt: the record does not fit this session --------------------------------------------------
    /// The data row record has no `Key` (Go: "datarow key record cannot be empty").
    #[error("datarow key record cannot be empty")]
    DataRowKeyMissing,

    /// The data row record's key has no `ParentKeyMeta` (Go: "parent key cannot be empty").
    #[error("parent key cannot be empty")]
    ParentKeyMissing,

    /// The record's intermediate key belongs to another partition (Go: "unable to decrypt record"). Use a
    /// session for the partition that encrypted it.
    #[error("unable to decrypt record")]
    InvalidIntermediateKeyId,

    // --- keys missing from, or corrupt in, the metastore --------------------------------------------------
    /// The intermediate key a record names is not in the metastore.
    #[error("error loading intermediate key from metastore: no key {id} created {created}")]
    IntermediateKeyNotFound {
        /// Key id.
        id: String,
        /// Key version.
        created: i64,
    },

    /// The system key an intermediate key names is not in the metastore.
    #[error("error loading system key from metastore: no key {id} created {created}")]
    SystemKeyNotFound {
        /// Key id.
        id: String,
        /// Key version.
        created: i64,
    },

    /// After losing a creation race, the winner's key could not be read back.
    #[error("error loading key from metastore after retry: no latest key {id}")]
    KeyNotFoundAfterRetry {
        /// Key id.
        id: String,
    },

    /// An intermediate key record has no `ParentKeyMeta` (Go crashes here,
    /// docs/compatibility.md#q13-an-ik-row-without-a-parent-crashes-go); the metastore row is corrupt.
    #[error(
        "intermediate key {id} created {created} has no parent key meta; the metastore record is corrupt"
    )]
    IntermediateKeyWithoutParent {
        /// Key id.
        id: String,
        /// Key version.
        created: i64,
    },

    // --- caller misuse: cache configuration (src/cache/, docs/compatibility.md#caches) -----------------------------
    /// An eviction policy name other than `""`, `simple`, `lru`, `slru`, `lfu`, `tinylfu` (Go panics with this
    /// message).
    #[error("cache: unsupported policy \"{0}\"")]
    UnknownEvictionPolicy(String),
    /// A bounded cache was configured with a capacity it cannot have (Go crashes on capacity 0 at the first `set`).
    #[error("cache: capacity must be between 1 and {max}, got {capacity}")]
    InvalidCacheCapacity {
        /// The capacity that was asked for.
        capacity: usize,
        /// The largest capacity a bounded cache supports.
        max: usize,
    },

    // --- secure memory -------------------------------------------------------------------------------------
    /// A secret could not be created or accessed.
    #[error(transparent)]
    SecureMemory(#[from] securememory::Error),

    // --- metastore and KMS backends: failures and configuration (src/metastore/, src/kms/) -------------------
    /// A metastore backend (database driver, network) failed; the driver's error is the source. Loads pass these
    /// through; a failed store is reported as `Ok(false)` instead (docs/compatibility.md#concurrent-key-creation).
    #[error("metastore error: {0}")]
    Metastore(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A key record read from a metastore could not be decoded (Go: `unable to unmarshal key: <err>`).
    #[error("unable to unmarshal key: {source}")]
    UnmarshalKey {
        /// The id that was looked up.
        id: String,
        /// The `created` that was looked up; `None` for a latest-version lookup.
        created: Option<i64>,
        /// Why decoding failed.
        #[source]
        source: Box<Error>,
    },
    /// A `created` value the SQL metastore cannot bind as a timestamp (SQLite: outside years 0000–9999; MySQL:
    /// outside the `TIMESTAMP` range 1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC).
    #[error("created timestamp {0} is out of range for the SQL metastore")]
    CreatedOutOfRange(i64),
    /// A SQL table name that is not a plain identifier (ASCII letters, digits, `_`; not starting with a digit; at
    /// most 63 bytes). Table names are part of the SQL text, so nothing else is accepted.
    #[error(
        "invalid SQL table name {0:?}: use ASCII letters, digits and `_`, not starting with a digit, at most 63 bytes"
    )]
    InvalidTableName(String),
    /// A DynamoDB item does not have the shape of an Asherah key record (docs/compatibility.md#dynamodb-metastore):
    /// the message names the missing or mistyped attribute.
    #[error("DynamoDB item is not an Asherah key record: {0}")]
    MalformedItem(String),
    /// A backend was configured inconsistently (for example a region suffix on a client without a region, an
    /// empty AWS KMS region map); the message says what.
    #[error("invalid configuration: {0}")]
    InvalidConfiguration(String),
    /// An AWS KMS call failed in every configured region; nothing was encrypted or decrypted. `details` lists
    /// each region's error, preferred region first.
    #[error("AWS KMS {operation} failed in all regions: {details}")]
    KmsAllRegionsFailed {
        /// What was attempted: `generate data key` (encrypt) or `decrypt`.
        operation: &'static str,
        /// `region: error` for each region tried.
        details: String,
    },
    /// A data key was generated but no region could encrypt it, so the system key would be undecryptable. Go
    /// stores such a key anyway (docs/compatibility.md#q8-aws-kms-with-no-kek); here encryption fails and nothing is
    /// written.
    #[error(
        "AWS KMS: no region could encrypt the data key, refusing to produce an undecryptable system key: {details}"
    )]
    KmsNoRegionalKek {
        /// `region: error` for each region.
        details: String,
    },
    /// An AWS KMS key envelope (the system key record's `Key`) is not the JSON of docs/compatibility.md#aws-kms (Go:
    /// `unable to unmarshal envelope: …`).
    #[error("unable to unmarshal envelope: {0}")]
    KmsEnvelope(String),
    /// A metastore or KMS call did not answer within its deadline (the policy's `backend_call_deadline`, or an AWS
    /// KMS region's `region_deadline`); it was abandoned and nothing was cached or written for it.
    #[error(
        "{operation} did not answer within its deadline of {deadline:?}; the backend is unreachable or overloaded (raise CryptoPolicy::backend_call_deadline if it is merely slow)"
    )]
    Deadline {
        /// The call, e.g. `metastore load_latest`, `KMS decrypt_key`.
        operation: &'static str,
        /// The deadline it missed.
        deadline: std::time::Duration,
    },
    /// Loading this key failed moments ago, and the failure is remembered for the policy's
    /// `failed_load_cache_duration` rather than asking the backend again at once.
    #[error(
        "loading key {id} (created {created:?}) failed moments ago: {reason}; it is tried again in {retry_in:?}"
    )]
    LoadFailedRecently {
        /// Key id.
        id: String,
        /// The version, or `None` for the latest-version lookup.
        created: Option<i64>,
        /// The original failure's message.
        reason: String,
        /// Time until the key is loaded again.
        retry_in: std::time::Duration,
    },
    /// The service and product names alone make key ids longer than a metastore accepts ([`MAX_KEY_ID_LEN`]
    /// bytes), leaving no room for a partition id.
    ///
    /// [`MAX_KEY_ID_LEN`]: crate::MAX_KEY_ID_LEN
    #[error(
        "service and product names make key ids of {len} bytes before any partition id, but key ids are limited to {max} bytes: shorten the service or product name"
    )]
    ServiceProductTooLong {
        /// Length of the intermediate key id for a one-byte partition id.
        len: usize,
        /// The key id limit.
        max: usize,
    },
    /// The static KMS was given a master key that is not 32 bytes long.
    #[error("invalid key size {0}, must be 32 bytes")]
    InvalidKeySize(usize),

    // --- bad input: record JSON (src/record/, docs/compatibility.md#records) ---------------------------------------
    /// A serialized record is not valid JSON or misses a required field.
    #[error("malformed record JSON: {0}")]
    MalformedJson(String),
    // Syntax errors (anywhere in the input, including unknown fields) are `MalformedJson`; they take precedence
    // over the typed errors below, as in Go, where the whole input is validated before any field is decoded.
    /// The record JSON ends before the value is complete (Go: `unexpected end of JSON input`).
    #[error(
        "record JSON ends unexpectedly after {len} bytes; the stored or transmitted record was truncated"
    )]
    JsonTruncated {
        /// Length of the input that was read.
        len: usize,
    },
    /// A record field holds a JSON value of the wrong type (for example a string where an integer belongs).
    #[error(
        "record field `{field}` holds the wrong JSON type, expected {expected}; the input is not an Asherah record or is corrupt"
    )]
    JsonWrongType {
        /// Path of the field, e.g. `Key.ParentKeyMeta.Created`.
        field: &'static str,
        /// What the field must hold, e.g. `an integer`.
        expected: &'static str,
    },
    /// An integer field (`Created`) holds a number with a fraction or an exponent.
    #[error(
        "record field `{field}` must be a whole number of unix seconds without fraction or exponent; the writer is not Asherah-compatible"
    )]
    JsonNotInteger {
        /// Path of the field.
        field: &'static str,
    },
    /// An integer field (`Created`) is outside the signed 64-bit range.
    #[error(
        "record field `{field}` does not fit in a signed 64-bit integer; the record is corrupt"
    )]
    JsonIntegerOutOfRange {
        /// Path of the field.
        field: &'static str,
    },
    /// A byte field (`Key`, `Data`) is not standard base64: a character outside `A–Z a–z 0–9 + /`, misplaced
    /// `=`, or an impossible length. URL-safe base64 (`-`, `_`) is rejected, as in Go.
    #[error("record field `{field}` is not valid standard base64; the record is corrupt")]
    InvalidBase64 {
        /// Path of the field.
        field: &'static str,
    },
    /// A byte field is base64 without its trailing `=` padding, which Go's reader (and so this one) requires.
    #[error(
        "record field `{field}` is base64 without the required `=` padding; the writer must use padded standard base64"
    )]
    MissingBase64Padding {
        /// Path of the field.
        field: &'static str,
    },

    // --- AEAD and randomness (src/crypto/, src/rng.rs, docs/compatibility.md#aead-layout) --------------------------
    /// A blob given to AEAD decryption is shorter than the 12-byte nonce it must end with.
    #[error("data length is shorter than nonce size")]
    CiphertextTooShort,
    /// AEAD decryption failed: the key is wrong or the ciphertext, tag or nonce was altered. Deliberately opaque;
    /// it never says which check failed.
    #[error("error decrypting data: cipher: message authentication failed")]
    DecryptionFailed,
    /// A plaintext is longer than AES-GCM can encrypt under one nonce (`(2^32 - 2) * 16` bytes).
    #[error("data too large for GCM")]
    PlaintextTooLarge,
    /// An AEAD key is not 32 bytes. Every key Asherah creates is 32 bytes, so this is a bug in the caller.
    #[error("AES-256-GCM needs a 32-byte key, got {len} bytes")]
    InvalidAeadKeySize {
        /// Length of the key that was passed.
        len: usize,
    },
    /// An encrypted key blob does not have the 60-byte length of an encrypted 32-byte key (32 + tag + nonce).
    #[error(
        "encrypted key is {len} bytes, an encrypted 32-byte key is 60 bytes; the key record is corrupt"
    )]
    EncryptedKeyLength {
        /// Length of the blob.
        len: usize,
    },
    /// The random source failed; nothing was encrypted. With [`OsRandom`](crate::OsRandom) this means the
    /// operating system's CSPRNG is unavailable.
    #[error(
        "random source failed: {0}; no nonce or key could be generated, retry or check the system's RNG"
    )]
    RandomSource(String),
}
