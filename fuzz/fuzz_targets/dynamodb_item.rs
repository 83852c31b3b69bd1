//! The DynamoDB item decoder on arbitrary items: an error or a record, never a panic.
//!
//! Input is an item in DynamoDB's JSON wire form (`{"KeyRecord":{"M":{"Created":{"N":"1"},…}}}`), the form the
//! SDK deserialises a `GetItem`/`Query` answer from; inputs that are not such an item are skipped. Readable seeds
//! (fuzz/corpus/dynamodb_item) are the metastore rows of impl/appencryption/tests/data/spec-2.8-metastore-rows.json.
#![no_main]

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const ID: &str = "_IK_partition_service_product";

/// A typed attribute value (`{"S":"…"}`, `{"N":"…"}`, `{"M":{…}}`, …) as the SDK's type; `None` if `value` is
/// not one.
fn attribute(value: &Value) -> Option<AttributeValue> {
    let Value::Object(object) = value else {
        return None;
    };
    let mut entries = object.iter();
    let (tag, inner) = entries.next()?;
    if entries.next().is_some() {
        return None;
    }
    let strings = |v: &Value| -> Option<Vec<String>> {
        v.as_array()?
            .iter()
            .map(|s| s.as_str().map(str::to_owned))
            .collect()
    };
    Some(match (tag.as_str(), inner) {
        ("S", Value::String(s)) => AttributeValue::S(s.clone()),
        ("N", Value::String(n)) => AttributeValue::N(n.clone()),
        ("B", Value::String(b)) => AttributeValue::B(Blob::new(b.as_bytes())),
        ("BOOL", Value::Bool(b)) => AttributeValue::Bool(*b),
        ("NULL", Value::Bool(b)) => AttributeValue::Null(*b),
        ("M", Value::Object(_)) => AttributeValue::M(map(inner)?),
        ("L", Value::Array(items)) => {
            AttributeValue::L(items.iter().map(attribute).collect::<Option<_>>()?)
        }
        ("SS", _) => AttributeValue::Ss(strings(inner)?),
        ("NS", _) => AttributeValue::Ns(strings(inner)?),
        _ => return None,
    })
}

/// An item or map: name → typed attribute value.
fn map(value: &Value) -> Option<HashMap<String, AttributeValue>> {
    value
        .as_object()?
        .iter()
        .map(|(name, v)| Some((name.clone(), attribute(v)?)))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Some(item) = map(&json) else {
        return;
    };
    if let Ok(record) = appencryption::fuzzing::dynamodb_item(ID, &item) {
        assert_eq!(
            record.id, ID,
            "the decoded record must carry the id it was read under"
        );
    }
});
