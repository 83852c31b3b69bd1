//! `DataRowRecord::from_json` on arbitrary bytes: an error or a record, never a panic, hang or overflow.
#![no_main]

use appencryption::DataRowRecord;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = DataRowRecord::from_json(data);
});
