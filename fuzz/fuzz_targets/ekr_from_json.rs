//! `EnvelopeKeyRecord::from_json` (a metastore row) on arbitrary bytes: an error or a record, never a panic.
#![no_main]

use appencryption::EnvelopeKeyRecord;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = EnvelopeKeyRecord::from_json(data);
});
