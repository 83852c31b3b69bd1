//! `with_bytes` (and `with_bytes_func`) perform no heap allocation, counted by a global allocator
//! (`allocation-counter`). Its own test binary, because that crate installs the global allocator.

use securememory::{MemoryKind, SecretFactory};

#[test]
fn with_bytes_does_not_allocate() {
    for kind in [MemoryKind::Protected, MemoryKind::Guarded] {
        let secret = SecretFactory::new(kind)
            .new_secret(&mut b"thisismy32bytesecretthatiwilluse".to_vec())
            .unwrap();
        let expected = *b"thisismy32bytesecretthatiwilluse";
        // Warm up: first use may initialise lazily.
        assert!(secret.with_bytes(|b| b == expected).unwrap());
        let info = allocation_counter::measure(|| {
            for _ in 0..1000 {
                assert!(secret.with_bytes(|b| b == expected).unwrap());
                assert!(
                    secret
                        .with_bytes_func(|b| Ok::<_, securememory::Error>(b[0]))
                        .unwrap()
                        == b't'
                );
            }
        });
        assert_eq!(
            info.count_total, 0,
            "{kind:?}: with_bytes allocated: {info:?}"
        );
    }
}

#[test]
fn the_counter_does_count() {
    // Guards the test above against a counter that never counts.
    let info = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 64]);
    });
    assert!(info.count_total >= 1);
}
