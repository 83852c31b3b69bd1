//! The wire-format suites in one test binary (each file under `tests/` is its own binary, and linking one costs
//! more than compiling these files): Go's JSON decoding corpus, the static KMS, the wire property tests, the fixed
//! test vectors and Wycheproof AES-GCM. None of them installs process-wide state, so they can share a process.

mod go_encoding_json_corpus;
mod kms_static;
mod proptest_wire;
mod spec_2_8_vectors;
mod wycheproof_aes_gcm;
