//! The `lab` program.
#![forbid(unsafe_code)]

fn main() {}
