//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`; not part of the API).
//!
//! Only the parsers that are not otherwise reachable from outside the crate are here; `DataRowRecord::from_json`
//! and `EnvelopeKeyRecord::from_json` are public already. Each function is the narrowest wrapper over the parser
//! it names: it returns what the parser returns, or `()` where the parsed type is private.

#[cfg(feature = "dynamodb")]
use std::collections::HashMap;

#[cfg(feature = "dynamodb")]
use aws_sdk_dynamodb::types::AttributeValue;

#[cfg(feature = "dynamodb")]
use crate::EnvelopeKeyRecord;
#[cfg(any(feature = "aws-kms", feature = "dynamodb"))]
use crate::Error;

/// Parse an AWS KMS envelope (the JSON a multi-region `AwsKms` stores as a system key's `Key`) and drop it.
#[cfg(feature = "aws-kms")]
pub fn aws_kms_envelope(bytes: &[u8]) -> Result<(), Error> {
    crate::kms::parse_envelope_for_fuzzing(bytes)
}

/// Decode a DynamoDB item read under `id` into a key record, as `DynamoDbMetastore` does after a `GetItem` or
/// `Query`.
#[cfg(feature = "dynamodb")]
pub fn dynamodb_item(
    id: &str,
    item: &HashMap<String, AttributeValue>,
) -> Result<EnvelopeKeyRecord, Error> {
    crate::metastore::decode_dynamodb_item(id, item)
}
