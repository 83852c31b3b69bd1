//! SecureMemory benches (placeholder while written).
fn main() {}
