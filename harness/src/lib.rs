//! The lab's library: pieces shared by the `lab` binary and the benches.
#![forbid(unsafe_code)]
// The lab is not loom-modelled: std locks are fine here (the shim rule is for the library crates).
#![allow(clippy::disallowed_types)]

pub mod criterion_results;
pub mod go_bench;
pub mod parallel;
pub mod zipf;
