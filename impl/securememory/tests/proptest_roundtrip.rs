//! Property tests: any byte string survives create → `with_bytes` and create → reader, in any chunking.

use std::io::Read;

use proptest::prelude::*;
use securememory::{MemoryKind, SecretFactory};

fn kind() -> impl Strategy<Value = MemoryKind> {
    prop_oneof![Just(MemoryKind::Protected), Just(MemoryKind::Guarded)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_round_trip_through_with_bytes(kind in kind(), bytes in prop::collection::vec(any::<u8>(), 1..9000)) {
        let mut source = bytes.clone();
        let secret = SecretFactory::new(kind).new_secret(&mut source).unwrap();
        prop_assert!(source.iter().all(|&b| b == 0), "source not wiped");
        prop_assert_eq!(secret.len(), bytes.len());
        let copy = secret.with_bytes(|b| b.to_vec()).unwrap();
        prop_assert_eq!(copy, bytes);
    }

    #[test]
    fn any_bytes_round_trip_through_the_reader_in_any_chunking(
        kind in kind(),
        bytes in prop::collection::vec(any::<u8>(), 1..5000),
        chunks in prop::collection::vec(0usize..700, 1..64).prop_filter("some chunk reads", |c| c.iter().any(|&n| n > 0)),
    ) {
        let secret = SecretFactory::new(kind).new_secret(&mut bytes.clone()).unwrap();
        let mut reader = secret.reader();
        let mut out = Vec::new();
        for (i, size) in chunks.iter().cycle().enumerate() {
            let mut buf = vec![0u8; *size];
            let n = reader.read(&mut buf).unwrap();
            prop_assert!(n <= *size);
            out.extend_from_slice(&buf[..n]);
            if n == 0 && *size > 0 {
                break;
            }
            prop_assert!(i < 100_000, "reader never reached the end");
        }
        prop_assert_eq!(&out, &bytes);
        let mut rest = Vec::new();
        prop_assert_eq!(reader.read_to_end(&mut rest).unwrap(), 0);
    }
}
