//! Whatever `from_json` accepts, `to_json` writes back as JSON that parses to the same record and re-serialises to
//! the same bytes: `from_json ∘ to_json` is the identity on accepted records, and `to_json` is a fixed point after
//! one pass. Checked for both record types on every input.
#![no_main]

use appencryption::{DataRowRecord, EnvelopeKeyRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = DataRowRecord::from_json(data) {
        let json = record.to_json();
        let again = DataRowRecord::from_json(&json)
            .unwrap_or_else(|e| panic!("to_json wrote a DRR that from_json rejects: {e}"));
        assert_eq!(again, record, "DRR changed through to_json/from_json");
        assert_eq!(again.to_json(), json, "DRR JSON is not a fixed point");
        let mut appended = b"prefix".to_vec();
        record.write_json(&mut appended);
        assert_eq!(
            &appended[6..],
            json.as_slice(),
            "write_json differs from to_json"
        );
    }
    if let Ok(record) = EnvelopeKeyRecord::from_json(data) {
        let json = record.to_json();
        let again = EnvelopeKeyRecord::from_json(&json)
            .unwrap_or_else(|e| panic!("to_json wrote an EKR that from_json rejects: {e}"));
        assert_eq!(again, record, "EKR changed through to_json/from_json");
        assert_eq!(again.to_json(), json, "EKR JSON is not a fixed point");
    }
});
