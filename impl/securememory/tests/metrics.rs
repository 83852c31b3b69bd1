//! The process-wide counters (`secret.allocated`, `secret.inuse`). Its own test binary so no other test's
//! secrets move the counters meanwhile.

use securememory::{MemoryKind, SecretFactory, secret_metrics};

#[test]
fn counters_track_allocation_and_close() {
    let start = secret_metrics();
    let f = SecretFactory::new(MemoryKind::Protected);
    let a = f.create_random(32).unwrap();
    let b = SecretFactory::new(MemoryKind::Guarded)
        .create_random(32)
        .unwrap();
    let now = secret_metrics();
    assert_eq!(now.allocated, start.allocated + 2);
    assert_eq!(now.in_use, start.in_use + 2);
    a.close().unwrap();
    a.close().unwrap(); // idempotent: counted once
    assert_eq!(secret_metrics().in_use, start.in_use + 1);
    drop(b);
    assert_eq!(secret_metrics().in_use, start.in_use);
    // Failed creations are not counted.
    assert!(f.create_random(0).is_err());
    assert_eq!(secret_metrics().allocated, start.allocated + 2);
}
