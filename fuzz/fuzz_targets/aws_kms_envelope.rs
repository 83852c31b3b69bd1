//! The AWS KMS envelope parser (a system key's `Key` under `AwsKms`) on arbitrary bytes: an error or an envelope,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = appencryption::fuzzing::aws_kms_envelope(data);
});
