//! Reading records as Go's `encoding/json` v1 does (spec §2.2).
//!
//! Go first checks that the whole input is valid JSON, then decodes it, remembering the first type error and
//! carrying on. This reader does both in one pass with the same outcome: a syntax error (or truncation) anywhere
//! wins; otherwise the first typed error (wrong type, non-integer, overflow, bad base64) is returned; otherwise the
//! record. The decoding rules follow Go:
//!
//! * object keys match field names exactly or, failing that, case-insensitively with Go's folding (ASCII case,
//!   plus `K` KELVIN SIGN, `ſ` LONG S, `ı` DOTLESS I and `İ` which Go folds onto `K`, `S` and `I`); unknown keys
//!   and their values are skipped (but still validated);
//! * a repeated key overwrites (a repeated object merges into the one already decoded);
//! * `null` sets a byte field or an object field to empty/`None` and leaves an integer, bool or string unchanged;
//! * strings are unescaped as Go does: a lone UTF-16 surrogate escape and every byte of invalid UTF-8 become
//!   U+FFFD;
//! * byte fields are padded standard base64 with `\r` and `\n` ignored; integer fields must be JSON integers in
//!   the `i64` range;
//! * nesting deeper than Go's limit of 10 000 is a syntax error.
//!
//! The reader never panics and never recurses on untrusted nesting: unknown values are skipped with an explicit
//! stack.

use base64::Engine;

use super::{BASE64, DataRowRecord, EnvelopeKeyRecord, KeyMeta};
use crate::Error;

/// Go's `maxNestingDepth`.
const MAX_DEPTH: usize = 10_000;

/// Field names of a `DataRowRecord`, in Go's declaration order.
const DRR_FIELDS: &[&str] = &["Key", "Data"];
const DRR_KEY: usize = 0;
const DRR_DATA: usize = 1;

/// Field names of an `EnvelopeKeyRecord`.
const EKR_FIELDS: &[&str] = &["Revoked", "Created", "Key", "ParentKeyMeta"];
const EKR_REVOKED: usize = 0;
const EKR_CREATED: usize = 1;
const EKR_KEY: usize = 2;
const EKR_PARENT: usize = 3;

/// Field names of a `KeyMeta`.
const META_FIELDS: &[&str] = &["KeyId", "Created"];
const META_KEY_ID: usize = 0;
const META_CREATED: usize = 1;

/// Field paths for error messages, which differ by where an EKR sits.
struct EkrPaths {
    record: &'static str,
    revoked: &'static str,
    created: &'static str,
    key: &'static str,
    parent: &'static str,
    parent_key_id: &'static str,
    parent_created: &'static str,
}

/// A metastore key record at the top level.
const TOP_EKR: EkrPaths = EkrPaths {
    record: "EnvelopeKeyRecord",
    revoked: "Revoked",
    created: "Created",
    key: "Key",
    parent: "ParentKeyMeta",
    parent_key_id: "ParentKeyMeta.KeyId",
    parent_created: "ParentKeyMeta.Created",
};

/// The data-row key inside a DRR.
const DRR_EKR: EkrPaths = EkrPaths {
    record: "Key",
    revoked: "Key.Revoked",
    created: "Key.Created",
    key: "Key.Key",
    parent: "Key.ParentKeyMeta",
    parent_key_id: "Key.ParentKeyMeta.KeyId",
    parent_created: "Key.ParentKeyMeta.Created",
};

/// Parse a `DataRowRecord`.
pub(super) fn drr(input: &[u8]) -> Result<DataRowRecord, Error> {
    let mut r = Reader::new(input);
    let mut record = DataRowRecord::default();
    r.skip_ws();
    match r.peek()? {
        b'{' => r.drr_object(&mut record)?,
        b'n' => r.literal(b"null")?,
        _ => r.wrong_type_skip("DataRowRecord", "an object", 0)?,
    }
    r.finish()?;
    Ok(record)
}

/// Parse an `EnvelopeKeyRecord` (id left empty).
pub(super) fn ekr(input: &[u8]) -> Result<EnvelopeKeyRecord, Error> {
    let mut r = Reader::new(input);
    let mut record = EnvelopeKeyRecord::default();
    r.skip_ws();
    match r.peek()? {
        b'{' => r.ekr_object(&mut record, &TOP_EKR, 1)?,
        b'n' => r.literal(b"null")?,
        _ => r.wrong_type_skip(TOP_EKR.record, "an object", 0)?,
    }
    r.finish()?;
    Ok(record)
}

/// The location and shape of a scanned string token.
#[derive(Clone, Copy)]
struct StrToken {
    /// Content, without the quotes.
    start: usize,
    end: usize,
    /// Whether the content contains a backslash escape.
    escaped: bool,
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    /// The first typed error; returned only if the input turns out to be valid JSON.
    deferred: Option<Error>,
    /// Reused buffer for unescaped strings.
    scratch: Vec<u8>,
}

impl<'a> Reader<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            pos: 0,
            deferred: None,
            scratch: Vec::new(),
        }
    }

    // --- errors -------------------------------------------------------------------------------------------------

    fn truncated(&self) -> Error {
        Error::JsonTruncated {
            len: self.input.len(),
        }
    }

    /// A syntax error at `at`, worded like Go's scanner.
    fn syntax(&self, at: usize, context: &str) -> Error {
        match self.input.get(at) {
            None => self.truncated(),
            Some(&c) => Error::MalformedJson(format!(
                "invalid character {} {context} at byte {at}",
                quote_byte(c)
            )),
        }
    }

    /// Remember a typed error; only the first one is reported.
    fn defer(&mut self, error: Error) {
        if self.deferred.is_none() {
            self.deferred = Some(error);
        }
    }

    /// Record a wrong-type error for `field` and skip its value.
    fn wrong_type_skip(
        &mut self,
        field: &'static str,
        expected: &'static str,
        depth: usize,
    ) -> Result<(), Error> {
        self.defer(Error::JsonWrongType { field, expected });
        self.skip_value(depth)
    }

    /// After the top-level value: only whitespace may follow. Then the deferred typed error, if any.
    fn finish(&mut self) -> Result<(), Error> {
        self.skip_ws();
        if self.pos < self.input.len() {
            return Err(self.syntax(self.pos, "after top-level value"));
        }
        match self.deferred.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    // --- tokens -------------------------------------------------------------------------------------------------

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.input.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte, without consuming it; truncation at the end of input.
    fn peek(&self) -> Result<u8, Error> {
        self.input
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.truncated())
    }

    /// Consume `byte` (after whitespace) or fail with Go's wording for `context`.
    fn expect(&mut self, byte: u8, context: &str) -> Result<(), Error> {
        self.skip_ws();
        if self.peek()? == byte {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax(self.pos, context))
        }
    }

    /// Consume exactly `word` (`true`, `false`, `null`).
    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        for (i, &expected) in word.iter().enumerate() {
            match self.input.get(self.pos + i) {
                None => return Err(self.truncated()),
                Some(&c) if c == expected => {}
                Some(_) => return Err(self.syntax(self.pos + i, "in literal")),
            }
        }
        self.pos += word.len();
        Ok(())
    }

    /// Scan a string whose opening quote is at `pos`, validating escapes and rejecting raw control characters.
    fn scan_string(&mut self) -> Result<StrToken, Error> {
        let input = self.input;
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            // Skip eight ordinary bytes at a time: most of a record is base64.
            while let Some(chunk) = input.get(i..).and_then(<[u8]>::first_chunk::<8>) {
                if swar_has_special(u64::from_le_bytes(*chunk)) {
                    break;
                }
                i += 8;
            }
            let Some(&b) = input.get(i) else {
                return Err(self.truncated());
            };
            match b {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(StrToken {
                        start,
                        end: i,
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    match input.get(i + 1) {
                        None => return Err(self.truncated()),
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            for k in i + 2..i + 6 {
                                match input.get(k) {
                                    None => return Err(self.truncated()),
                                    Some(h) if h.is_ascii_hexdigit() => {}
                                    Some(_) => {
                                        return Err(
                                            self.syntax(k, "in \\u hexadecimal character escape")
                                        );
                                    }
                                }
                            }
                            i += 6;
                        }
                        Some(_) => return Err(self.syntax(i + 1, "in string escape code")),
                    }
                }
                0x00..=0x1f => return Err(self.syntax(i, "in string literal")),
                _ => i += 1,
            }
        }
    }

    /// Scan a number at `pos`; returns whether it is an integer (no fraction, no exponent). Go's grammar:
    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn scan_number(&mut self) -> Result<bool, Error> {
        let input = self.input;
        let mut i = self.pos;
        if input.get(i) == Some(&b'-') {
            i += 1;
        }
        match input.get(i) {
            None => return Err(self.truncated()),
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = input.get(i) {
                    i += 1;
                }
            }
            Some(_) => return Err(self.syntax(i, "in numeric literal")),
        }
        let mut integer = true;
        if input.get(i) == Some(&b'.') {
            integer = false;
            i += 1;
            i = self.digits(i, "after decimal point in numeric literal")?;
        }
        if let Some(b'e' | b'E') = input.get(i) {
            integer = false;
            i += 1;
            if let Some(b'+' | b'-') = input.get(i) {
                i += 1;
            }
            i = self.digits(i, "in exponent of numeric literal")?;
        }
        self.pos = i;
        Ok(integer)
    }

    /// One or more digits starting at `i`; returns the index after them.
    fn digits(&self, mut i: usize, context: &str) -> Result<usize, Error> {
        match self.input.get(i) {
            None => return Err(self.truncated()),
            Some(b'0'..=b'9') => {}
            Some(_) => return Err(self.syntax(i, context)),
        }
        while let Some(b'0'..=b'9') = self.input.get(i) {
            i += 1;
        }
        Ok(i)
    }

    /// Skip (and validate) any value, iteratively. `depth` is the nesting of the enclosing containers.
    fn skip_value(&mut self, depth: usize) -> Result<(), Error> {
        // Open containers below the value being skipped: `true` for an object, `false` for an array.
        let mut open: Vec<bool> = Vec::new();
        loop {
            // A value starts here.
            self.skip_ws();
            let mut complete = true;
            match self.peek()? {
                c @ (b'{' | b'[') => {
                    if depth + open.len() + 1 > MAX_DEPTH {
                        return Err(Error::MalformedJson(format!(
                            "exceeded max depth at byte {}",
                            self.pos
                        )));
                    }
                    self.pos += 1;
                    self.skip_ws();
                    let close = if c == b'{' { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.pos += 1;
                    } else {
                        if c == b'{' {
                            self.object_key_skip()?;
                        }
                        open.push(c == b'{');
                        complete = false;
                    }
                }
                b'"' => {
                    self.scan_string()?;
                }
                b'-' | b'0'..=b'9' => {
                    self.scan_number()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => return Err(self.syntax(self.pos, "looking for beginning of value")),
            }
            if !complete {
                continue;
            }
            // The value is complete: close containers until one expects another element.
            loop {
                let Some(&in_object) = open.last() else {
                    return Ok(());
                };
                self.skip_ws();
                let c = self.peek()?;
                self.pos += 1;
                match (in_object, c) {
                    (true, b',') => {
                        self.skip_ws();
                        self.object_key_skip()?;
                        break;
                    }
                    (false, b',') => break,
                    (true, b'}') | (false, b']') => {
                        open.pop();
                    }
                    (true, _) => {
                        return Err(self.syntax(self.pos - 1, "after object key:value pair"));
                    }
                    (false, _) => return Err(self.syntax(self.pos - 1, "after array element")),
                }
            }
        }
    }

    /// An object key and its colon, when the key is not needed.
    fn object_key_skip(&mut self) -> Result<(), Error> {
        if self.peek()? != b'"' {
            return Err(self.syntax(self.pos, "looking for beginning of object key string"));
        }
        self.scan_string()?;
        self.expect(b':', "after object key")
    }

    // --- objects ------------------------------------------------------------------------------------------------

    /// Walk an object whose `{` is at `pos`, calling `on_field` with the index of each key in `fields` (or `None`
    /// for an unknown key) positioned at its value, which `on_field` must consume. `depth` counts this object.
    fn object(
        &mut self,
        fields: &[&str],
        depth: usize,
        mut on_field: impl FnMut(&mut Self, Option<usize>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::MalformedJson(format!(
                "exceeded max depth at byte {}",
                self.pos
            )));
        }
        self.pos += 1;
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            if self.peek()? != b'"' {
                return Err(self.syntax(self.pos, "looking for beginning of object key string"));
            }
            let key = self.scan_string()?;
            let field = self.match_field(key, fields);
            self.expect(b':', "after object key")?;
            self.skip_ws();
            match field {
                Some(index) => on_field(self, Some(index))?,
                None => self.skip_value(depth)?,
            }
            self.skip_ws();
            let c = self.peek()?;
            self.pos += 1;
            match c {
                b',' => {}
                b'}' => return Ok(()),
                _ => return Err(self.syntax(self.pos - 1, "after object key:value pair")),
            }
        }
    }

    /// Which of `fields` the key names: an exact match first, then Go's case folding.
    fn match_field(&mut self, key: StrToken, fields: &[&str]) -> Option<usize> {
        let name = self.unescaped(key);
        fields
            .iter()
            .position(|f| f.as_bytes() == name)
            .or_else(|| fields.iter().position(|f| go_fold_eq(name, f)))
    }

    fn drr_object(&mut self, record: &mut DataRowRecord) -> Result<(), Error> {
        self.object(DRR_FIELDS, 1, |r, field| match field {
            Some(DRR_KEY) => match r.peek()? {
                b'{' => {
                    let key = record.key.get_or_insert_with(EnvelopeKeyRecord::default);
                    r.ekr_object(key, &DRR_EKR, 2)
                }
                b'n' => {
                    r.literal(b"null")?;
                    record.key = None;
                    Ok(())
                }
                _ => r.wrong_type_skip(DRR_EKR.record, "an object", 1),
            },
            Some(DRR_DATA) => r.bytes_field("Data", &mut record.data, 1),
            _ => r.skip_value(1),
        })
    }

    fn ekr_object(
        &mut self,
        record: &mut EnvelopeKeyRecord,
        paths: &EkrPaths,
        depth: usize,
    ) -> Result<(), Error> {
        self.object(EKR_FIELDS, depth, |r, field| match field {
            Some(EKR_REVOKED) => r.bool_field(paths.revoked, &mut record.revoked, depth),
            Some(EKR_CREATED) => r.int_field(paths.created, &mut record.created, depth),
            Some(EKR_KEY) => r.bytes_field(paths.key, &mut record.encrypted_key, depth),
            Some(EKR_PARENT) => match r.peek()? {
                b'{' => {
                    let meta = record.parent_key_meta.get_or_insert_with(KeyMeta::default);
                    r.object(META_FIELDS, depth + 1, |r, field| match field {
                        Some(META_KEY_ID) => {
                            r.string_field(paths.parent_key_id, &mut meta.key_id, depth + 1)
                        }
                        Some(META_CREATED) => {
                            r.int_field(paths.parent_created, &mut meta.created, depth + 1)
                        }
                        _ => r.skip_value(depth + 1),
                    })
                }
                b'n' => {
                    r.literal(b"null")?;
                    record.parent_key_meta = None;
                    Ok(())
                }
                _ => r.wrong_type_skip(paths.parent, "an object", depth),
            },
            _ => r.skip_value(depth),
        })
    }

    // --- typed fields -------------------------------------------------------------------------------------------

    /// An `int64` field: a JSON integer in range; `null` leaves it unchanged.
    fn int_field(&mut self, field: &'static str, dst: &mut i64, depth: usize) -> Result<(), Error> {
        match self.peek()? {
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                let integer = self.scan_number()?;
                let text = self.input.get(start..self.pos).unwrap_or_default();
                if !integer {
                    self.defer(Error::JsonNotInteger { field });
                } else if let Some(value) = parse_i64(text) {
                    *dst = value;
                } else {
                    self.defer(Error::JsonIntegerOutOfRange { field });
                }
                Ok(())
            }
            b'n' => self.literal(b"null"),
            _ => self.wrong_type_skip(field, "an integer", depth),
        }
    }

    /// A `bool` field; `null` leaves it unchanged.
    fn bool_field(
        &mut self,
        field: &'static str,
        dst: &mut bool,
        depth: usize,
    ) -> Result<(), Error> {
        match self.peek()? {
            b't' => {
                self.literal(b"true")?;
                *dst = true;
                Ok(())
            }
            b'f' => {
                self.literal(b"false")?;
                *dst = false;
                Ok(())
            }
            b'n' => self.literal(b"null"),
            _ => self.wrong_type_skip(field, "true or false", depth),
        }
    }

    /// A `string` field; `null` leaves it unchanged.
    fn string_field(
        &mut self,
        field: &'static str,
        dst: &mut String,
        depth: usize,
    ) -> Result<(), Error> {
        match self.peek()? {
            b'"' => {
                let token = self.scan_string()?;
                *dst = go_lossy_utf8(self.unescaped(token));
                Ok(())
            }
            b'n' => self.literal(b"null"),
            _ => self.wrong_type_skip(field, "a string", depth),
        }
    }

    /// A `[]byte` field: padded standard base64, `\r` and `\n` ignored; `null` empties it. On a base64 error the
    /// field keeps its previous value, as in Go.
    fn bytes_field(
        &mut self,
        field: &'static str,
        dst: &mut Vec<u8>,
        depth: usize,
    ) -> Result<(), Error> {
        match self.peek()? {
            b'"' => {
                let token = self.scan_string()?;
                let input = self.input;
                let encoded: &[u8] = if token.escaped {
                    unescape_into(
                        input.get(token.start..token.end).unwrap_or_default(),
                        &mut self.scratch,
                    );
                    // A raw CR or LF cannot occur in a JSON string, so only the escaped path can carry them.
                    self.scratch.retain(|&b| b != b'\r' && b != b'\n');
                    &self.scratch
                } else {
                    input.get(token.start..token.end).unwrap_or_default()
                };
                match decode_base64(encoded, field) {
                    Ok(bytes) => *dst = bytes,
                    Err(e) => self.defer(e),
                }
                Ok(())
            }
            b'n' => {
                self.literal(b"null")?;
                dst.clear();
                Ok(())
            }
            _ => self.wrong_type_skip(field, "a base64 string", depth),
        }
    }

    /// The unescaped bytes of a string token (borrowed from the input when it has no escapes).
    fn unescaped(&mut self, token: StrToken) -> &[u8] {
        let raw = self.input.get(token.start..token.end).unwrap_or_default();
        if token.escaped {
            unescape_into(raw, &mut self.scratch);
            &self.scratch
        } else {
            raw
        }
    }
}

/// Whether any of the eight bytes in `word` is `"`, `\` or a control character below 0x20 (SWAR; see "Bit Twiddling
/// Hacks", *determine if a word has a byte less than n*).
fn swar_has_special(word: u64) -> bool {
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
fn parse_i64(text: &[u8]) -> Option<i64> {
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
fn decode_base64(encoded: &[u8], field: &'static str) -> Result<Vec<u8>, Error> {
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
fn unescape_into(raw: &[u8], out: &mut Vec<u8>) {
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
fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    let digits = raw.get(at..at + 4)?;
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = char::from(d).to_digit(16)?;
        Some((acc << 4) | v)
    })
}

/// Bytes to a `String` as Go's decoder does: valid UTF-8 kept, each byte of an invalid sequence replaced by
/// U+FFFD (Go's `utf8.DecodeRune` consumes one byte per error; Rust's `from_utf8_lossy` would merge them).
fn go_lossy_utf8(mut bytes: &[u8]) -> String {
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
fn go_fold_eq(key: &[u8], name: &str) -> bool {
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
fn quote_byte(c: u8) -> String {
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
