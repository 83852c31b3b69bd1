//! The key hash TinyLFU feeds its sketch and doorkeeper with: Go's 64-bit FNV-1a
//! (docs/compatibility.md#eviction-policies).
//!
//! It must equal Go's `ComputeHash` bit for bit, or the frequency estimates (and so the hit ratios the lab compares)
//! drift apart. That is why keys implement [`CacheKeyHash`] instead of going through `std::hash::Hash`, whose output
//! depends on the hasher and on how a type feeds it.

/// FNV-1a 64-bit offset basis.
const OFFSET: u64 = 14_695_981_039_346_656_037;
/// FNV-1a 64-bit prime.
const PRIME: u64 = 1_099_511_628_211;

/// A cache key's 64-bit hash as Go Asherah computes it (`pkg/cache/internal.ComputeHash`).
pub(crate) trait CacheKeyHash {
    /// The FNV-1a hash Go would compute for the same key.
    fn cache_key_hash(&self) -> u64;
}

/// Go's `hashString`: FNV-1a over the string's Unicode code points, each XORed in as a whole `u64`. For ASCII this
/// is byte-wise FNV-1a; for other text it differs (one step per code point, not per UTF-8 byte).
fn fold_chars(mut h: u64, s: &str) -> u64 {
    for c in s.chars() {
        h ^= u64::from(u32::from(c));
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// FNV-1a over the little-endian bytes of `bytes`.
fn fold_bytes(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// Go's `hashU64`.
fn hash_u64(v: u64) -> u64 {
    fold_bytes(OFFSET, &v.to_le_bytes())
}

/// Go's `hashU32`.
fn hash_u32(v: u32) -> u64 {
    fold_bytes(OFFSET, &v.to_le_bytes())
}

impl CacheKeyHash for str {
    fn cache_key_hash(&self) -> u64 {
        fold_chars(OFFSET, self)
    }
}

impl CacheKeyHash for String {
    fn cache_key_hash(&self) -> u64 {
        self.as_str().cache_key_hash()
    }
}

impl<T: CacheKeyHash + ?Sized> CacheKeyHash for &T {
    fn cache_key_hash(&self) -> u64 {
        (**self).cache_key_hash()
    }
}

impl<T: CacheKeyHash + ?Sized> CacheKeyHash for Box<T> {
    fn cache_key_hash(&self) -> u64 {
        (**self).cache_key_hash()
    }
}

impl<T: CacheKeyHash + ?Sized> CacheKeyHash for std::sync::Arc<T> {
    fn cache_key_hash(&self) -> u64 {
        (**self).cache_key_hash()
    }
}

/// A key-cache key `(key id, created)` hashes like Go's cache key string `id + decimal(created)`
/// (docs/compatibility.md#key-cache, no separator), without building that string.
impl<S: AsRef<str>> CacheKeyHash for (S, i64) {
    fn cache_key_hash(&self) -> u64 {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = self.1.unsigned_abs();
        loop {
            at -= 1;
            // `rest % 10` < 10, so the cast is lossless.
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let mut h = fold_chars(OFFSET, self.0.as_ref());
        if self.1 < 0 {
            h = fold_bytes(h, b"-");
        }
        fold_bytes(h, &digits[at..])
    }
}

impl CacheKeyHash for bool {
    fn cache_key_hash(&self) -> u64 {
        u64::from(*self)
    }
}

/// Go hashes `int`, `int64`, `uint`, `uint64`, `uintptr` over 8 bytes and the narrower integers over 4 bytes of
/// their (sign-extended) `uint32` value.
macro_rules! hash_ints {
    ($($t:ty => $f:ident as $via:ty),* $(,)?) => {$(
        impl CacheKeyHash for $t {
            // Go's `uint32(x)` / `uint64(x)`: two's-complement reinterpretation, sign-extending narrower ints.
            #[allow(clippy::unnecessary_cast, clippy::cast_sign_loss, clippy::cast_possible_wrap)]
            fn cache_key_hash(&self) -> u64 {
                $f(*self as $via)
            }
        }
    )*};
}

hash_ints! {
    u64 => hash_u64 as u64, i64 => hash_u64 as u64, usize => hash_u64 as u64, isize => hash_u64 as u64,
    u32 => hash_u32 as u32, i32 => hash_u32 as u32,
    u16 => hash_u32 as u32, i16 => hash_u32 as u32,
    u8 => hash_u32 as u32, i8 => hash_u32 as u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: byte-wise FNV-1a 64 (the `hash/fnv` `New64a` algorithm).
    fn fnv1a_bytes(bytes: &[u8]) -> u64 {
        fold_bytes(OFFSET, bytes)
    }

    #[test]
    fn fnv1a_known_vectors() {
        // Published FNV-1a 64 test vectors.
        assert_eq!("".cache_key_hash(), 0xcbf2_9ce4_8422_2325);
        assert_eq!("a".cache_key_hash(), 0xaf63_dc4c_8601_ec8c);
        assert_eq!("foobar".cache_key_hash(), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fnv1a_ascii_equals_bytewise() {
        for s in [
            "_IK_partition_service_product1700000100",
            "123456",
            "TestKey-42",
        ] {
            assert_eq!(s.cache_key_hash(), fnv1a_bytes(s.as_bytes()), "{s}");
            assert_eq!(s.to_owned().cache_key_hash(), fnv1a_bytes(s.as_bytes()));
        }
    }

    #[test]
    fn fnv1a_non_ascii_is_per_code_point() {
        // "é" is U+00E9: one step with 0xE9, not two steps with its UTF-8 bytes C3 A9.
        let expected = (OFFSET ^ 0xE9).wrapping_mul(PRIME);
        assert_eq!("é".cache_key_hash(), expected);
        assert_ne!("é".cache_key_hash(), fnv1a_bytes("é".as_bytes()));
        // U+1F600 (4 UTF-8 bytes) is one step with 0x1F600.
        let expected = (OFFSET ^ 0x1F600).wrapping_mul(PRIME);
        assert_eq!("😀".cache_key_hash(), expected);
    }

    #[test]
    fn integers_hash_like_go() {
        assert_eq!(1u64.cache_key_hash(), fnv1a_bytes(&1u64.to_le_bytes()));
        assert_eq!((-1i64).cache_key_hash(), fnv1a_bytes(&[0xFF; 8]));
        assert_eq!(7u32.cache_key_hash(), fnv1a_bytes(&7u32.to_le_bytes()));
        // Go: uint32(int8(-1)) == 0xFFFFFFFF.
        assert_eq!((-1i8).cache_key_hash(), fnv1a_bytes(&[0xFF; 4]));
        assert_eq!(true.cache_key_hash(), 1);
        assert_eq!(false.cache_key_hash(), 0);
    }

    #[test]
    fn key_cache_tuple_hashes_like_go_cache_key_string() {
        for (id, created) in [
            ("_IK_p_s_x", 1_700_000_100i64),
            ("k", 0),
            ("k", -42),
            ("k", i64::MIN),
        ] {
            let go_key = format!("{id}{created}");
            assert_eq!(
                (id, created).cache_key_hash(),
                go_key.cache_key_hash(),
                "{go_key}"
            );
            assert_eq!(
                (id.to_owned(), created).cache_key_hash(),
                go_key.cache_key_hash()
            );
        }
    }
}
