//! Byte-level helpers of the reader: finding special bytes, integers, base64, Go's string unescaping and
//! case folding.

use base64::Engine;

use crate::error::Error;
use crate::record::BASE64;

/// Whether any of the eight bytes in `word` is `"`, `\` or a control character below 0x20 (SWAR; see "Bit Twiddling
/// Hacks", *determine if a word has a byte less than n*).
pub(super) fn swar_has_special(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let below_0x20 = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    (has_zero(word ^ (ONES * u64::from(b'"')))
        | has_zero(word ^ (ONES * u64::from(b'\\')))
        | below_0x20)
        != 0
}

/// Parse the text of a JSON integer (already validated) as `strconv.ParseInt(s, 10, 64)`; `None` on overflow.
pub(super) fn parse_i64(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mut value: i64 = 0;
    for &d in digits {
        let d = i64::from(d.wrapping_sub(b'0'));
        value = value.checked_mul(10)?;
        // Accumulate negatives downwards so that i64::MIN parses.
        value = if negative {
            value.checked_sub(d)?
        } else {
            value.checked_add(d)?
        };
    }
    Some(value)
}

/// Decode padded standard base64, classifying failures.
pub(super) fn decode_base64(encoded: &[u8], field: &'static str) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(encoded.len() / 4 * 3 + 3);
    match BASE64.decode_vec(encoded, &mut out) {
        Ok(()) => Ok(out),
        Err(_) => {
            let alphabet_only = encoded
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
            if alphabet_only && matches!(encoded.len() % 4, 2 | 3) {
                Err(Error::MissingBase64Padding { field })
            } else {
                Err(Error::InvalidBase64 { field })
            }
        }
    }
}

/// Unescape the content of a validated JSON string into `out` (cleared first), as Go's `unquote`: escapes
/// decoded; a valid surrogate pair combined; any other surrogate escape becomes U+FFFD. Raw bytes are copied
/// unchanged (invalid UTF-8 is replaced later, by [`go_lossy_utf8`], where a string is wanted).
pub(super) fn unescape_into(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&e) = raw.get(i + 1) else {
            return;
        };
        i += 2;
        let simple = match e {
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let Some(unit) = hex4(raw, i) else { return };
                i += 4;
                let c = if (0xd800..0xe000).contains(&unit) {
                    // A high surrogate followed by a `\u` low surrogate is one character; anything else is U+FFFD
                    // and the following escape (if any) is decoded on its own.
                    let low = match (raw.get(i), raw.get(i + 1)) {
                        (Some(b'\\'), Some(b'u')) => hex4(raw, i + 2),
                        _ => None,
                    };
                    match low {
                        Some(low)
                            if (0xd800..0xdc00).contains(&unit)
                                && (0xdc00..0xe000).contains(&low) =>
                        {
                            i += 6;
                            char::from_u32(0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00))
                                .unwrap_or(char::REPLACEMENT_CHARACTER)
                        }
                        _ => char::REPLACEMENT_CHARACTER,
                    }
                } else {
                    char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER)
                };
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                continue;
            }
            // `"`, `\`, `/` stand for themselves; the scanner allowed nothing else.
            other => other,
        };
        out.push(simple);
    }
}

/// Four hex digits at `raw[at..at + 4]`.
pub(super) fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    let digits = raw.get(at..at + 4)?;
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = char::from(d).to_digit(16)?;
        Some((acc << 4) | v)
    })
}

/// Bytes to a `String` as Go's decoder does: valid UTF-8 kept, each byte of an invalid sequence replaced by
/// U+FFFD (Go's `utf8.DecodeRune` consumes one byte per error; Rust's `from_utf8_lossy` would merge them).
pub(super) fn go_lossy_utf8(mut bytes: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                out.extend(std::iter::repeat_n(char::REPLACEMENT_CHARACTER, bad));
                bytes = rest.get(bad..).unwrap_or_default();
            }
        }
    }
}

/// Whether the object key `key` (unescaped bytes) matches the ASCII field name `name` under Go's key folding:
/// each character mapped to `ToUpper(ToLower(c))`. Only four non-ASCII characters fold onto ASCII letters.
pub(super) fn go_fold_eq(key: &[u8], name: &str) -> bool {
    let Ok(key) = std::str::from_utf8(key) else {
        // Go folds invalid bytes to U+FFFD, which matches no field name.
        return false;
    };
    let mut name = name.bytes();
    for c in key.chars() {
        let folded = match c {
            '\0'..='\x7f' => (c as u8).to_ascii_uppercase(),
            '\u{212a}' => b'K',
            '\u{017f}' => b'S',
            '\u{0130}' | '\u{0131}' => b'I',
            _ => return false,
        };
        match name.next() {
            Some(n) if n.to_ascii_uppercase() == folded => {}
            _ => return false,
        }
    }
    name.next().is_none()
}

/// A byte quoted for an error message, as Go's `quoteChar`.
pub(super) fn quote_byte(c: u8) -> String {
    match c {
        b'\'' => r"'\''".to_owned(),
        b'"' => "'\"'".to_owned(),
        0x20..=0x7e => format!("'{}'", char::from(c)),
        _ => format!("'\\x{c:02x}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swar_finds_specials_in_every_lane() {
        assert!(!swar_has_special(u64::from_le_bytes(*b"ABCDabcd")));
        assert!(!swar_has_special(u64::from_le_bytes(*b"+/09=~\x7f\xff")));
        for lane in 0..8 {
            for special in [b'"', b'\\', 0x00, 0x0a, 0x1f] {
                let mut word = *b"QUJDREVG";
                word[lane] = special;
                assert!(
                    swar_has_special(u64::from_le_bytes(word)),
                    "lane {lane} byte {special:#x}"
                );
            }
            let mut word = *b"QUJDREVG";
            word[lane] = 0x20;
            assert!(!swar_has_special(u64::from_le_bytes(word)));
        }
    }

    #[test]
    fn keys_fold_like_go() {
        assert!(go_fold_eq(b"key", "Key"));
        assert!(go_fold_eq(b"KEY", "Key"));
        assert!(go_fold_eq("\u{212a}ey".as_bytes(), "Key"));
        assert!(go_fold_eq("Keyıd".as_bytes(), "KeyId"));
        assert!(go_fold_eq("Keyİd".as_bytes(), "KeyId"));
        assert!(go_fold_eq("ſ".as_bytes(), "s"));
        assert!(!go_fold_eq(b"Keys", "Key"));
        assert!(!go_fold_eq(b"Ke", "Key"));
        assert!(!go_fold_eq(b"K\xffy", "Key"));
        assert!(!go_fold_eq("Kéy".as_bytes(), "Key"));
    }

    #[test]
    fn strings_unescape_like_go() {
        let unescape = |raw: &str| {
            let mut out = Vec::new();
            unescape_into(raw.as_bytes(), &mut out);
            go_lossy_utf8(&out)
        };
        assert_eq!(unescape(r#"a\"b\\c\/d"#), "a\"b\\c/d");
        assert_eq!(unescape(r"\b\f\n\r\t"), "\u{8}\u{c}\n\r\t");
        assert_eq!(unescape(r"\u003c\u00e9\u2028"), "<é\u{2028}");
        assert_eq!(unescape(r"\ud83d\ude00"), "\u{1F600}");
        assert_eq!(unescape(r"\ud83dx"), "\u{fffd}x");
        assert_eq!(unescape(r"\ude00"), "\u{fffd}");
        assert_eq!(unescape(r"\ud83d\u0041"), "\u{fffd}A");
        assert_eq!(
            go_lossy_utf8(b"a\xe2\x82b\xff"),
            "a\u{fffd}\u{fffd}b\u{fffd}"
        );
        assert_eq!(go_lossy_utf8(b"\xed\xa0\x80"), "\u{fffd}\u{fffd}\u{fffd}");
        assert_eq!(go_lossy_utf8(b"end\xe2\x82"), "end\u{fffd}\u{fffd}");
    }

    #[test]
    fn integers_parse_in_range_only() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-0"), Some(0));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-9223372036854775809"), None);
    }
}
