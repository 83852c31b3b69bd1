//! Writing records byte-identically to Go's `encoding/json` (docs/compatibility.md#json-encoding-and-decoding):
//! struct field order, `omitempty` on `Revoked` and `ParentKeyMeta`, padded standard base64 for byte slices, no
//! whitespace, and Go's HTML-safe string escaping.

use base64::Engine;

use super::{BASE64, DataRowRecord, EnvelopeKeyRecord, KeyMeta};

/// Bytes of an EKR's JSON other than its base64 and key id: every field name, brace, quote and two 20-character
/// integers, rounded up.
const EKR_FIXED: usize = 128;
/// Bytes of a DRR's JSON other than its EKR and base64 data.
const DRR_FIXED: usize = 32;

/// Length of `n` bytes in padded base64.
fn base64_len(n: usize) -> usize {
    n.div_ceil(3).saturating_mul(4)
}

/// An upper bound on the length of an EKR's JSON, so a writer reserves once.
pub(super) fn ekr_capacity(ekr: &EnvelopeKeyRecord) -> usize {
    // Escaping grows a string at most six-fold (`\u00XX` per byte).
    let id = ekr
        .parent_key_meta
        .as_ref()
        .map_or(0, |m| m.key_id.len().saturating_mul(6));
    EKR_FIXED
        .saturating_add(base64_len(ekr.encrypted_key.len()))
        .saturating_add(id)
}

/// An upper bound on the length of a DRR's JSON.
pub(super) fn drr_capacity(drr: &DataRowRecord) -> usize {
    DRR_FIXED
        .saturating_add(drr.key.as_ref().map_or(4, ekr_capacity))
        .saturating_add(base64_len(drr.data.len()))
}

/// `{"Key":<EKR or null>,"Data":"<base64>"}`. `Key` has no `omitempty` in Go, so a missing key is `null`.
pub(super) fn drr(drr: &DataRowRecord, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"Key\":");
    match &drr.key {
        Some(key) => ekr(key, out),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"Data\":");
    base64(&drr.data, out);
    out.push(b'}');
}

/// `{["Revoked":true,]"Created":n,"Key":"<base64>"[,"ParentKeyMeta":{"KeyId":"…","Created":n}]}`.
pub(super) fn ekr(ekr: &EnvelopeKeyRecord, out: &mut Vec<u8>) {
    out.push(b'{');
    if ekr.revoked {
        out.extend_from_slice(b"\"Revoked\":true,");
    }
    out.extend_from_slice(b"\"Created\":");
    int(ekr.created, out);
    out.extend_from_slice(b",\"Key\":");
    base64(&ekr.encrypted_key, out);
    if let Some(meta) = &ekr.parent_key_meta {
        out.extend_from_slice(b",\"ParentKeyMeta\":");
        key_meta(meta, out);
    }
    out.push(b'}');
}

/// `{"KeyId":"…","Created":n}`.
fn key_meta(meta: &KeyMeta, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"KeyId\":");
    string(&meta.key_id, out);
    out.extend_from_slice(b",\"Created\":");
    int(meta.created, out);
    out.push(b'}');
}

/// A decimal integer, as `strconv.AppendInt(…, 10)`.
fn int(value: i64, out: &mut Vec<u8>) {
    // u64::MAX has 20 digits.
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = value.unsigned_abs();
    for slot in digits.iter_mut().rev() {
        // `rest % 10` is below 10, so the cast is exact.
        *slot = b'0' + (rest % 10) as u8;
        start -= 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[start..]);
}

/// A quoted padded standard base64 string.
fn base64(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    let start = out.len();
    out.resize(start + base64_len(bytes.len()), 0);
    match BASE64.encode_slice(bytes, &mut out[start..]) {
        Ok(written) => out.truncate(start + written),
        // Unreachable (the slot is exactly `base64_len` long); fall back to the allocating encoder rather than
        // writing a wrong record.
        Err(_) => {
            out.truncate(start);
            out.extend_from_slice(BASE64.encode(bytes).as_bytes());
        }
    }
    out.push(b'"');
}

/// ASCII bytes that Go's encoder (with `escapeHTML`, the `json.Marshal` default) does not copy verbatim.
const ESCAPED_ASCII: [bool; 128] = {
    let mut table = [false; 128];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[b'&' as usize] = true;
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A quoted string escaped as Go ≥ 1.22 does: `\"` `\\`, short escapes for `\b \f \n \r \t`, `\u00xx` (lowercase
/// hex) for other C0 controls and for `<` `>` `&`, `\u2028` `\u2029` for the JavaScript line separators; all other
/// characters (DEL and non-ASCII included) verbatim. A Rust `str` is valid UTF-8, so Go's `\ufffd` substitution
/// for invalid bytes never applies.
fn string(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    out.push(b'"');
    let mut copied = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escape: &[u8] = if b < 0x80 {
            if !ESCAPED_ASCII[usize::from(b)] {
                i += 1;
                continue;
            }
            match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                0x08 => b"\\b",
                0x0c => b"\\f",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                _ => &[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ],
            }
        } else {
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
            match (b, bytes.get(i + 1), bytes.get(i + 2)) {
                (0xe2, Some(0x80), Some(0xa8)) => b"\\u2028",
                (0xe2, Some(0x80), Some(0xa9)) => b"\\u2029",
                _ => {
                    i += 1;
                    continue;
                }
            }
        };
        out.extend_from_slice(&bytes[copied..i]);
        out.extend_from_slice(escape);
        i += if b < 0x80 { 1 } else { 3 };
        copied = i;
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = Vec::new();
        string(s, &mut out);
        String::from_utf8(out).expect("escaping keeps UTF-8")
    }

    #[test]
    fn strings_are_escaped_like_go() {
        assert_eq!(escaped("plain_id"), r#""plain_id""#);
        assert_eq!(escaped(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(escaped("<>&"), r#""\u003c\u003e\u0026""#);
        assert_eq!(escaped("\u{8}\u{c}\n\r\t"), r#""\b\f\n\r\t""#);
        assert_eq!(escaped("\u{0}\u{1}\u{1f}"), r#""\u0000\u0001\u001f""#);
        assert_eq!(escaped("\u{7f}"), "\"\u{7f}\"");
        assert_eq!(escaped("x\u{2028}y\u{2029}z"), r#""x\u2028y\u2029z""#);
        assert_eq!(
            escaped("é✓\u{1F600}\u{2027}\u{202a}"),
            "\"é✓\u{1F600}\u{2027}\u{202a}\""
        );
        assert_eq!(escaped(""), r#""""#);
    }

    #[test]
    fn integers_are_plain_decimal() {
        for v in [0, 1, -1, 9, 10, 1_700_000_123, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            int(v, &mut out);
            assert_eq!(out, v.to_string().as_bytes());
        }
    }

    #[test]
    fn capacity_bounds_the_output() {
        let ekr = EnvelopeKeyRecord {
            revoked: true,
            id: String::new(),
            created: i64::MIN,
            encrypted_key: vec![0xff; 61],
            parent_key_meta: Some(KeyMeta {
                key_id: "\u{1}".repeat(40),
                created: i64::MIN,
            }),
        };
        let drr = DataRowRecord {
            key: Some(ekr),
            data: vec![1; 100],
        };
        assert!(drr.to_json().len() <= drr_capacity(&drr));
        let empty = DataRowRecord::default();
        assert_eq!(empty.to_json(), br#"{"Key":null,"Data":""}"#);
        assert!(empty.to_json().len() <= drr_capacity(&empty));
    }
}
