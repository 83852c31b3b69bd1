//! Reading records as Go's `encoding/json` v1 does (docs/compatibility.md#json-encoding-and-decoding).
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

mod objects;
mod text;
mod tokens;

use super::{DataRowRecord, EnvelopeKeyRecord, KeyMeta};
use crate::error::Error;

use text::quote_byte;

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
}
