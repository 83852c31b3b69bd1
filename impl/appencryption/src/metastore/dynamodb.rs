//! The DynamoDB metastore (docs/compatibility.md#dynamodb-metastore), over the AWS SDK for Rust.
//!
//! Item format, shared with Go's SDK v1 and v2 implementations:
//!
//! | attribute | type | content |
//! |---|---|---|
//! | `Id` | S (hash key) | key id |
//! | `Created` | N (range key) | unix seconds |
//! | `KeyRecord` | M | `Created` (N), `Key` (S, padded standard base64), `ParentKeyMeta` (M: `KeyId` S, `Created` N; absent for system keys), `Revoked` (BOOL, absent when false) |
//!
//! Reads are strongly consistent (`ConsistentRead = true`) and project `KeyRecord` alone; the insert is a
//! `PutItem` conditioned on `attribute_not_exists(Id)`, so a duplicate `(Id, Created)` is refused by DynamoDB
//! itself and reported as `Ok(false)`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters as _;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::Metastore;
use crate::error::Error;
use crate::metrics::Timer;
use crate::record::{EnvelopeKeyRecord, KeyMeta};

/// The table name of docs/compatibility.md#dynamodb-metastore, used unless [`DynamoDbMetastore::with_table_name`]
/// says otherwise.
pub const DEFAULT_DYNAMODB_TABLE_NAME: &str = "EncryptionKey";

const ID: &str = "Id";
const CREATED: &str = "Created";
const KEY_RECORD: &str = "KeyRecord";
const KEY: &str = "Key";
const PARENT_KEY_META: &str = "ParentKeyMeta";
const KEY_ID: &str = "KeyId";
const REVOKED: &str = "Revoked";

/// A [`Metastore`] over a DynamoDB table, item-compatible with Go's DynamoDB metastores
/// (docs/compatibility.md#dynamodb-metastore).
///
/// Build it from an SDK client, which carries the region, credentials, endpoint, retry and timeout settings:
///
/// ```no_run
/// # async fn example() -> Result<(), appencryption::Error> {
/// use appencryption::DynamoDbMetastore;
///
/// let config = aws_config::load_from_env().await; // the standard provider chain
/// let metastore = DynamoDbMetastore::new(aws_sdk_dynamodb::Client::new(&config))
///     .with_region_suffix(true)?; // for global tables: key ids end in `_<region>`
/// # Ok(()) }
/// ```
///
/// [`store`](Metastore::store) is `Ok(false)` when `(id, created)` exists (a failed condition) and an
/// [`Error::Metastore`] for any other failure (throttling, network, missing table); the envelope algorithm treats
/// both as a lost race (docs/compatibility.md#concurrent-key-creation), but callers of the metastore itself can tell
/// them apart. Items that do not have the shape above fail to load with [`Error::UnmarshalKey`].
///
/// Each call records its duration (seconds) in the `metrics` histograms `ael.metastore.dynamodb.load`,
/// `ael.metastore.dynamodb.loadlatest` and `ael.metastore.dynamodb.store` (docs/compatibility.md#metrics).
///
/// Cloning is cheap and shares the client.
#[derive(Debug, Clone)]
pub struct DynamoDbMetastore {
    client: Client,
    table: String,
    region_suffix: Option<String>,
}

impl DynamoDbMetastore {
    /// A metastore on table `EncryptionKey` through `client`, without a region suffix.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            table: DEFAULT_DYNAMODB_TABLE_NAME.to_owned(),
            region_suffix: None,
        }
    }

    /// A client from the standard AWS configuration chain (environment, profile, instance metadata), talking to
    /// `endpoint` instead of AWS when given (a local emulator, a VPC endpoint), on table `EncryptionKey`.
    pub async fn from_env(endpoint: Option<&str>) -> Self {
        let mut loader = aws_config::from_env();
        if let Some(endpoint) = endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        Self::new(Client::new(&loader.load().await))
    }

    /// Use table `table`; an empty name keeps the default (Go's option behaves the same).
    pub fn with_table_name(mut self, table: &str) -> Self {
        if !table.is_empty() {
            table.clone_into(&mut self.table);
        }
        self
    }

    /// Suffix key ids with the client's AWS region (docs/compatibility.md#partitions-and-region-suffixes,
    /// docs/compatibility.md#dynamodb-metastore): for DynamoDB global tables, so each region writes its own key
    /// lineage while every region can still decrypt the others' data. Fails with [`Error::InvalidConfiguration`]
    /// when enabled on a client without a region.
    pub fn with_region_suffix(mut self, enabled: bool) -> Result<Self, Error> {
        self.region_suffix = if enabled {
            let region = self.client.config().region().ok_or_else(|| {
                Error::InvalidConfiguration(
                    "DynamoDB region suffix enabled, but the client has no region".to_owned(),
                )
            })?;
            Some(region.as_ref().to_owned())
        } else {
            None
        };
        Ok(self)
    }

    /// The table this metastore reads and writes.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// The SDK client (for operations the metastore does not wrap).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Create the table if it does not exist: hash key `Id` (S), range key `Created` (N), on-demand billing, and
    /// wait until it is active. For tests and first-time setup; operators may prefer
    /// `scripts/dynamodb-create-table.py` or their infrastructure tooling.
    pub async fn create_table(&self) -> Result<(), Error> {
        let attribute = |name: &str, kind| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(kind)
                .build()
                .map_err(backend_error)
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(backend_error)
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(attribute(ID, ScalarAttributeType::S)?)
            .attribute_definitions(attribute(CREATED, ScalarAttributeType::N)?)
            .key_schema(key(ID, KeyType::Hash)?)
            .key_schema(key(CREATED, KeyType::Range)?)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) => {}
            Err(e) => return Err(backend_error(e)),
        }
        self.client
            .wait_until_table_exists()
            .table_name(&self.table)
            .wait(std::time::Duration::from_secs(60))
            .await
            .map_err(backend_error)?;
        Ok(())
    }
}

fn backend_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Metastore(Box::new(e))
}

/// An SDK error with its whole source chain: the SDK's own `Display` is only "service error" or "dispatch failure".
fn sdk_error<E, R>(e: SdkError<E, R>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let message = aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string();
    Error::Metastore(message.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The `KeyRecord` map of `record` (docs/compatibility.md#dynamodb-metastore).
fn encode(record: &EnvelopeKeyRecord) -> AttributeValue {
    let mut map = HashMap::with_capacity(4);
    map.insert(CREATED.to_owned(), n(record.created));
    map.insert(
        KEY.to_owned(),
        AttributeValue::S(STANDARD.encode(&record.encrypted_key)),
    );
    if let Some(parent) = &record.parent_key_meta {
        let parent = HashMap::from([
            (KEY_ID.to_owned(), AttributeValue::S(parent.key_id.clone())),
            (CREATED.to_owned(), n(parent.created)),
        ]);
        map.insert(PARENT_KEY_META.to_owned(), AttributeValue::M(parent));
    }
    if record.revoked {
        map.insert(REVOKED.to_owned(), AttributeValue::Bool(true));
    }
    AttributeValue::M(map)
}

/// Why an item is not a key record, as an error.
fn malformed(what: impl Into<String>) -> Error {
    Error::MalformedItem(what.into())
}

fn number(map: &HashMap<String, AttributeValue>, field: &str, path: &str) -> Result<i64, Error> {
    match map.get(field) {
        Some(AttributeValue::N(text)) => text
            .parse()
            .map_err(|_| malformed(format!("{path} is not an integer: {text:?}"))),
        Some(_) => Err(malformed(format!("{path} is not a number (N)"))),
        None => Err(malformed(format!("{path} is missing"))),
    }
}

/// Decode the `KeyRecord` attribute of an item read under `id`.
pub(crate) fn decode(
    id: &str,
    item: &HashMap<String, AttributeValue>,
) -> Result<EnvelopeKeyRecord, Error> {
    let map = match item.get(KEY_RECORD) {
        Some(AttributeValue::M(map)) => map,
        Some(_) => return Err(malformed("KeyRecord is not a map (M)")),
        // Go: "item decode error: unexpected nil envelope key record".
        None => return Err(malformed("unexpected nil envelope key record")),
    };
    let created = number(map, CREATED, "KeyRecord.Created")?;
    let encrypted_key = match map.get(KEY) {
        Some(AttributeValue::S(text)) => {
            STANDARD.decode(text).map_err(|_| Error::InvalidBase64 {
                field: "KeyRecord.Key",
            })?
        }
        Some(_) => return Err(malformed("KeyRecord.Key is not a string (S)")),
        None => return Err(malformed("KeyRecord.Key is missing")),
    };
    let parent_key_meta = match map.get(PARENT_KEY_META) {
        None | Some(AttributeValue::Null(true)) => None,
        Some(AttributeValue::M(parent)) => Some(KeyMeta {
            key_id: match parent.get(KEY_ID) {
                Some(AttributeValue::S(key_id)) => key_id.clone(),
                _ => {
                    return Err(malformed(
                        "KeyRecord.ParentKeyMeta.KeyId is missing or not a string (S)",
                    ));
                }
            },
            created: number(parent, CREATED, "KeyRecord.ParentKeyMeta.Created")?,
        }),
        Some(_) => return Err(malformed("KeyRecord.ParentKeyMeta is not a map (M)")),
    };
    let revoked = match map.get(REVOKED) {
        None | Some(AttributeValue::Null(true)) => false,
        Some(AttributeValue::Bool(revoked)) => *revoked,
        Some(_) => return Err(malformed("KeyRecord.Revoked is not a boolean (BOOL)")),
    };
    Ok(EnvelopeKeyRecord {
        revoked,
        id: id.to_owned(),
        created,
        encrypted_key,
        parent_key_meta,
    })
}

/// An item (or none) as a record, with decode errors naming the lookup.
fn decoded(
    id: &str,
    created: Option<i64>,
    item: Option<&HashMap<String, AttributeValue>>,
) -> Result<Option<EnvelopeKeyRecord>, Error> {
    item.map(|item| decode(id, item))
        .transpose()
        .map_err(|source| Error::UnmarshalKey {
            id: id.to_owned(),
            created,
            source: Box::new(source),
        })
}

#[async_trait]
impl Metastore for DynamoDbMetastore {
    async fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        let _timer = Timer::start("ael.metastore.dynamodb.load");
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ID, AttributeValue::S(id.to_owned()))
            .key(CREATED, n(created))
            .projection_expression("#KeyRecord")
            .expression_attribute_names("#KeyRecord", KEY_RECORD)
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        decoded(id, Some(created), output.item())
    }

    async fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        let _timer = Timer::start("ael.metastore.dynamodb.loadlatest");
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#Id = :id")
            .expression_attribute_names("#Id", ID)
            .expression_attribute_names("#KeyRecord", KEY_RECORD)
            .expression_attribute_values(":id", AttributeValue::S(id.to_owned()))
            .projection_expression("#KeyRecord")
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        decoded(id, None, output.items().first())
    }

    async fn store(
        &self,
        id: &str,
        created: i64,
        record: &EnvelopeKeyRecord,
    ) -> Result<bool, Error> {
        let _timer = Timer::start("ael.metastore.dynamodb.store");
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(ID, AttributeValue::S(id.to_owned()))
            .item(CREATED, n(created))
            .item(KEY_RECORD, encode(record))
            .condition_expression("attribute_not_exists(#Id)")
            .expression_attribute_names("#Id", ID)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                // Go: "attempted to create duplicate key: <id>, <created>".
                tracing::debug!(id, created, "attempted to create duplicate key");
                Ok(false)
            }
            Err(e) => {
                let error = sdk_error(e);
                tracing::debug!(id, created, %error, "error storing key");
                Err(error)
            }
        }
    }

    fn region_suffix(&self) -> Option<&str> {
        self.region_suffix.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sk() -> EnvelopeKeyRecord {
        EnvelopeKeyRecord {
            revoked: false,
            id: String::new(),
            created: 1_700_000_040,
            encrypted_key: vec![0, 1, 2, 250],
            parent_key_meta: None,
        }
    }

    fn item(record: AttributeValue) -> HashMap<String, AttributeValue> {
        HashMap::from([(KEY_RECORD.to_owned(), record)])
    }

    #[test]
    fn system_key_record_is_a_map_without_parent_or_revoked() {
        let AttributeValue::M(map) = encode(&sk()) else {
            panic!("not a map")
        };
        assert_eq!(map.len(), 2, "{map:?}");
        assert_eq!(map[CREATED], AttributeValue::N("1700000040".to_owned()));
        assert_eq!(map[KEY], AttributeValue::S("AAEC+g==".to_owned()));
    }

    #[test]
    fn intermediate_key_record_round_trips_with_parent_and_revoked() {
        let record = EnvelopeKeyRecord {
            revoked: true,
            parent_key_meta: Some(KeyMeta {
                key_id: "_SK_s_p".to_owned(),
                created: -60,
            }),
            ..sk()
        };
        let encoded = encode(&record);
        let AttributeValue::M(map) = &encoded else {
            panic!("not a map")
        };
        assert_eq!(map[REVOKED], AttributeValue::Bool(true));
        let AttributeValue::M(parent) = &map[PARENT_KEY_META] else {
            panic!("parent not a map")
        };
        assert_eq!(parent[KEY_ID], AttributeValue::S("_SK_s_p".to_owned()));
        assert_eq!(parent[CREATED], AttributeValue::N("-60".to_owned()));
        let decoded = decode("_IK_p_s_p", &item(encoded)).expect("decodes");
        assert_eq!(
            decoded,
            EnvelopeKeyRecord {
                id: "_IK_p_s_p".to_owned(),
                ..record
            }
        );
    }

    #[test]
    fn malformed_items_are_errors_that_say_what_is_wrong() {
        let with = |field: &str, value: AttributeValue| {
            let AttributeValue::M(mut map) = encode(&sk()) else {
                unreachable!()
            };
            map.insert(field.to_owned(), value);
            item(AttributeValue::M(map))
        };
        let without = |field: &str| {
            let AttributeValue::M(mut map) = encode(&sk()) else {
                unreachable!()
            };
            map.remove(field);
            item(AttributeValue::M(map))
        };
        let cases = [
            (HashMap::new(), "unexpected nil envelope key record"),
            (
                item(AttributeValue::S("{}".to_owned())),
                "KeyRecord is not a map",
            ),
            (without(CREATED), "KeyRecord.Created is missing"),
            (without(KEY), "KeyRecord.Key is missing"),
            (
                with(CREATED, AttributeValue::S("1".to_owned())),
                "KeyRecord.Created is not a number",
            ),
            (
                with(CREATED, AttributeValue::N("1.5".to_owned())),
                "KeyRecord.Created is not an integer",
            ),
            (
                with(KEY, AttributeValue::S("@@".to_owned())),
                "not valid standard base64",
            ),
            (
                with(KEY, AttributeValue::B(vec![1].into())),
                "KeyRecord.Key is not a string",
            ),
            (
                with(REVOKED, AttributeValue::S("true".to_owned())),
                "KeyRecord.Revoked is not a boolean",
            ),
            (
                with(PARENT_KEY_META, AttributeValue::M(HashMap::new())),
                "KeyRecord.ParentKeyMeta.KeyId is missing",
            ),
        ];
        for (i, (item, needle)) in cases.iter().enumerate() {
            let err = decode("_SK_s_p", item).expect_err(needle);
            assert!(err.to_string().contains(needle), "case {i}: {err}");
        }
    }
}
