//! The lab's library: pieces shared by the `lab` binary and the benches.
#![forbid(unsafe_code)]
// The lab is not loom-modelled: std locks are fine here (the shim rule is for the library crates).
#![allow(clippy::disallowed_types)]

pub mod audit;
pub mod criterion_results;
pub mod environment;
pub mod fixtures;
pub mod gate;
pub mod go_bench;
pub mod go_mirrors;
pub mod interop;
pub mod parallel;
pub mod report;
pub mod results;
pub mod runner;
pub mod scenario;
pub mod securememory_compare;
pub mod stats;
pub mod zipf;
