//! The reader's record layer: objects matched field by field (Go's case folding), and the typed fields of the
//! records.

use super::text::{decode_base64, go_fold_eq, go_lossy_utf8, parse_i64, unescape_into};
use super::*;

impl Reader<'_> {
    /// Walk an object whose `{` is at `pos`, calling `on_field` with the index of each key in `fields` (or `None`
    /// for an unknown key) positioned at its value, which `on_field` must consume. `depth` counts this object.
    pub(super) fn object(
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
    pub(super) fn match_field(&mut self, key: StrToken, fields: &[&str]) -> Option<usize> {
        let name = self.unescaped(key);
        fields
            .iter()
            .position(|f| f.as_bytes() == name)
            .or_else(|| fields.iter().position(|f| go_fold_eq(name, f)))
    }

    pub(super) fn drr_object(&mut self, record: &mut DataRowRecord) -> Result<(), Error> {
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

    pub(super) fn ekr_object(
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
    pub(super) fn int_field(
        &mut self,
        field: &'static str,
        dst: &mut i64,
        depth: usize,
    ) -> Result<(), Error> {
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
    pub(super) fn bool_field(
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
    pub(super) fn string_field(
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
    pub(super) fn bytes_field(
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
    pub(super) fn unescaped(&mut self, token: StrToken) -> &[u8] {
        let raw = self.input.get(token.start..token.end).unwrap_or_default();
        if token.escaped {
            unescape_into(raw, &mut self.scratch);
            &self.scratch
        } else {
            raw
        }
    }
}
