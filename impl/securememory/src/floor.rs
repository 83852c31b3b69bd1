//! The syscall floor of an access, for benchmarks: one locked page toggled readable and back to no-access.
//! `with_bytes` on an idle secret cannot be cheaper than this; reports show how close it comes.

use crate::error::Error;
use crate::os::{Mapping, Protection, page_size};

/// One locked, no-access page whose protection can be toggled like a secret's.
#[derive(Debug)]
pub struct ProtectionFloor {
    mapping: Mapping,
}

impl ProtectionFloor {
    /// Map and lock one page, then make it no-access.
    pub fn new() -> Result<Self, Error> {
        let page = page_size();
        let mapping = Mapping::new(page, crate::Backing::Mmap)
            .map_err(|source| Error::Map { size: page, source })?;
        mapping
            .lock(0..page)
            .map_err(|source| Error::Lock { size: page, source })?;
        mapping
            .protect(0..page, Protection::NoAccess)
            .map_err(Error::MarkNoAccess)?;
        Ok(ProtectionFloor { mapping })
    }

    /// One `mprotect(PROT_READ)` followed by one `mprotect(PROT_NONE)`: the two syscalls every access window costs.
    pub fn toggle(&self) -> Result<(), Error> {
        let page = page_size();
        self.mapping
            .protect(0..page, Protection::ReadOnly)
            .map_err(Error::MarkReadOnly)?;
        self.mapping
            .protect(0..page, Protection::NoAccess)
            .map_err(Error::MarkNoAccess)
    }
}

impl Drop for ProtectionFloor {
    fn drop(&mut self) {
        let _ = self.mapping.unlock(0..page_size());
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn floor_page_toggles() {
        let floor = ProtectionFloor::new().unwrap();
        for _ in 0..10 {
            floor.toggle().unwrap();
        }
    }
}
