//! [`ForkSafeBuffer`]: small mutable secret state (an RNG's key, say) that never survives into a forked child.

use zeroize::Zeroize;

use crate::error::Error;
use crate::os::{Mapping, page_size};

/// A locked, core-dump-excluded buffer that the kernel zeroes in any child created by `fork`
/// (`MADV_WIPEONFORK`). Unlike a [`Secret`](crate::Secret) it stays readable and writable, through `&mut self`:
/// it is meant for per-thread state that changes on every use, such as a userspace CSPRNG's key, where a child
/// process must not continue the parent's stream. Zeroed on drop.
///
/// A consumer detects a fork by reserving a byte it sets to non-zero: after a fork it reads zero.
#[derive(Debug)]
pub struct ForkSafeBuffer {
    mapping: Mapping,
    len: usize,
}

impl ForkSafeBuffer {
    /// A zeroed buffer of `len` bytes (at least one page of address space and locked memory). Fails where the
    /// kernel lacks `MADV_WIPEONFORK` (Linux < 4.14) or the memory cannot be locked.
    pub fn new(len: usize) -> Result<Self, Error> {
        if len == 0 {
            return Err(Error::InvalidLength(0));
        }
        let page = page_size();
        let total = len
            .div_ceil(page)
            .checked_mul(page)
            .ok_or(Error::InvalidLength(len))?;
        let mapping = fork_safe_mapping(total)?;
        mapping.lock(0..total).map_err(|source| Error::Lock {
            size: total,
            source,
        })?;
        Ok(ForkSafeBuffer { mapping, len })
    }

    /// The bytes, for reading and writing.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        self.mapping.bytes_mut(0..self.len)
    }
}

/// Map `total` bytes (whole pages) that are excluded from core dumps and zeroed in a forked child; not locked yet.
pub(crate) fn fork_safe_mapping(total: usize) -> Result<Mapping, Error> {
    let mapping = Mapping::new(total, crate::Backing::Mmap).map_err(|source| Error::Map {
        size: total,
        source,
    })?;
    mapping
        .exclude_from_dumps(0..total)
        .map_err(|source| Error::Advise {
            advice: "MADV_DONTDUMP",
            source,
        })?;
    mapping
        .wipe_on_fork(0..total)
        .map_err(|source| Error::Advise {
            advice: "MADV_WIPEONFORK",
            source,
        })?;
    Ok(mapping)
}

impl Drop for ForkSafeBuffer {
    fn drop(&mut self) {
        self.bytes_mut().zeroize();
        let total = self.len.div_ceil(page_size()) * page_size();
        let _ = self.mapping.unlock(0..total);
    }
}
