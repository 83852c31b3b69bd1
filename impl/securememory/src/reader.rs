//! [`SecretReader`]: `std::io::Read` over a secret.

use std::io::{self, Read};

use crate::error::Error;
use crate::secret::Secret;

/// Streams a secret's bytes from the start, one access window per `read` call.
///
/// Go's reader returns the final chunk together with EOF; `std::io::Read` cannot, so the final chunk comes as a
/// normal read and the next call returns `Ok(0)` — equivalent for `read_to_end` and `read_exact`. Reading a closed
/// secret fails with [`Error::Closed`] (as an `io::Error` of kind `Other`), even at the end. `read_to_end` copies
/// everything left in a single access window.
#[derive(Debug)]
pub struct SecretReader<'a> {
    secret: &'a Secret,
    position: usize,
}

impl<'a> SecretReader<'a> {
    pub(crate) fn new(secret: &'a Secret) -> Self {
        SecretReader {
            secret,
            position: 0,
        }
    }

    fn check_open(&self) -> io::Result<()> {
        if self.secret.is_closing() {
            Err(Error::Closed.into())
        } else {
            Ok(())
        }
    }
}

impl Read for SecretReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.check_open()?;
        if self.position >= self.secret.len() || buf.is_empty() {
            return Ok(0);
        }
        let start = self.position;
        let n = self.secret.with_bytes(|bytes| {
            let n = buf.len().min(bytes.len() - start);
            buf[..n].copy_from_slice(&bytes[start..start + n]);
            n
        })?;
        self.position += n;
        Ok(n)
    }

    fn read_to_end(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        self.check_open()?;
        let start = self.position;
        if start >= self.secret.len() {
            return Ok(0);
        }
        out.reserve(self.secret.len() - start);
        let n = self.secret.with_bytes(|bytes| {
            out.extend_from_slice(&bytes[start..]);
            bytes.len() - start
        })?;
        self.position += n;
        Ok(n)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::{MemoryKind, SecretFactory};

    fn secret(bytes: &[u8]) -> Secret {
        SecretFactory::new(MemoryKind::Protected)
            .new_secret(&mut bytes.to_vec())
            .unwrap()
    }

    /// docs/compatibility.md#securememory example: reads of 4, 4, 1, 4, 4 over `0123456789`.
    #[test]
    fn partial_reads_follow_the_spec_example() {
        let s = secret(b"0123456789");
        let mut r = s.reader();
        let mut read = |n: usize| {
            let mut buf = vec![0u8; n];
            let got = r.read(&mut buf).unwrap();
            buf.truncate(got);
            buf
        };
        assert_eq!(read(4), b"0123");
        assert_eq!(read(4), b"4567");
        assert_eq!(read(1), b"8");
        assert_eq!(read(4), b"9");
        assert_eq!(read(4), b"");
        assert_eq!(read(4), b"");
    }

    #[test]
    fn empty_buffer_reads_zero_before_the_end() {
        let s = secret(b"abc");
        let mut r = s.reader();
        assert_eq!(r.read(&mut []).unwrap(), 0);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abc");
    }

    #[test]
    fn read_to_end_and_read_exact() {
        let s = secret(b"thisismy32bytesecretthatiwilluse");
        let mut all = Vec::new();
        assert_eq!(s.reader().read_to_end(&mut all).unwrap(), 32);
        assert_eq!(all, b"thisismy32bytesecretthatiwilluse");
        let mut exact = [0u8; 32];
        s.reader().read_exact(&mut exact).unwrap();
        assert_eq!(&exact, b"thisismy32bytesecretthatiwilluse");
        let mut too_long = [0u8; 33];
        assert_eq!(
            s.reader().read_exact(&mut too_long).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    }

    #[test]
    fn read_to_end_after_partial_read_returns_the_rest() {
        let s = secret(b"0123456789");
        let mut r = s.reader();
        let mut head = [0u8; 3];
        r.read_exact(&mut head).unwrap();
        let mut rest = Vec::new();
        assert_eq!(r.read_to_end(&mut rest).unwrap(), 7);
        assert_eq!(rest, b"3456789");
        assert_eq!(r.read_to_end(&mut rest).unwrap(), 0);
    }

    #[test]
    fn reading_a_closed_secret_fails_even_at_the_end() {
        let s = secret(b"abc");
        let mut r = s.reader();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        s.close().unwrap();
        for err in [
            r.read(&mut [0u8; 4]).unwrap_err(),
            s.reader().read_to_end(&mut out).unwrap_err(),
        ] {
            assert_eq!(err.to_string(), "secret has already been destroyed");
        }
    }
}
