//! The reader's token layer: whitespace, literals, strings, numbers, and skipping whole values without
//! recursion.

use super::text::swar_has_special;
use super::{MAX_DEPTH, Reader, StrToken};
use crate::error::Error;

impl Reader<'_> {
    pub(super) fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.input.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte, without consuming it; truncation at the end of input.
    pub(super) fn peek(&self) -> Result<u8, Error> {
        self.input
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.truncated())
    }

    /// Consume `byte` (after whitespace) or fail with Go's wording for `context`.
    pub(super) fn expect(&mut self, byte: u8, context: &str) -> Result<(), Error> {
        self.skip_ws();
        if self.peek()? == byte {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax(self.pos, context))
        }
    }

    /// Consume exactly `word` (`true`, `false`, `null`).
    pub(super) fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
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
    pub(super) fn scan_string(&mut self) -> Result<StrToken, Error> {
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
    pub(super) fn scan_number(&mut self) -> Result<bool, Error> {
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
    pub(super) fn digits(&self, mut i: usize, context: &str) -> Result<usize, Error> {
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
    pub(super) fn skip_value(&mut self, depth: usize) -> Result<(), Error> {
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
    pub(super) fn object_key_skip(&mut self) -> Result<(), Error> {
        if self.peek()? != b'"' {
            return Err(self.syntax(self.pos, "looking for beginning of object key string"));
        }
        self.scan_string()?;
        self.expect(b':', "after object key")
    }
}
