//! [`SecretValue`]: a Rust value (an AES key schedule, say) kept in secret-backed pages for as long as it lives.

use std::fmt;

use crate::backing::Backing;
use crate::error::Error;
#[cfg(not(loom))]
use crate::os::{self, Mapping, Placed};
#[cfg(not(loom))]
use crate::region::{keep_out_of_dumps_and_children, map_error};

/// A value moved into pages of its own, of the factory's [`Backing`], and wiped (after its destructor ran) when
/// dropped. Made by [`SecretFactory::new_value`](crate::SecretFactory::new_value).
///
/// What it protects, by backing:
/// * [`Backing::MemfdSecret`]: the pages are out of the kernel's direct map, so other processes — even root
///   through `/proc/PID/mem`, `ptrace` or `process_vm_readv` — cannot read them; they are locked, never swapped,
///   never in a core dump, and not inherited by a forked child.
/// * [`Backing::Mmap`]: locked, excluded from core dumps, zeroed in a forked child; readable through the kernel's
///   direct map by whoever may read this process's memory.
///
/// What it does not: unlike a [`Secret`](crate::Secret), the value stays readable by this process all the time
/// (no `PROT_NONE` while idle), so an in-process read primitive reaches it. Only the value's inline bytes are
/// placed: heap memory it owns stays on the heap, so `T` should hold its secret inline (as key schedules do).
/// The value is built by the caller and moved in; the copy it was moved from is the caller's to wipe.
#[cfg(not(loom))]
pub struct SecretValue<T> {
    placed: Placed<T>,
    generation: u64,
}

#[cfg(not(loom))]
impl<T: Send + Sync + 'static> SecretValue<T> {
    pub(crate) fn new(backing: Backing, lock: bool, value: T) -> Result<Self, Error> {
        let page = os::page_size();
        let total = std::mem::size_of::<T>()
            .max(1)
            .checked_next_multiple_of(page)
            .ok_or(Error::InvalidLength(std::mem::size_of::<T>()))?;
        let mapping = Mapping::new(total, backing).map_err(|e| map_error(backing, total, e))?;
        keep_out_of_dumps_and_children(&mapping, total)?;
        if lock && backing == Backing::Mmap {
            mapping.lock(0..total).map_err(|source| Error::Lock {
                size: total,
                source,
            })?;
        }
        let placed = Placed::new(mapping, value).map_err(|source| Error::Map {
            size: total,
            source,
        })?;
        Ok(SecretValue {
            placed,
            generation: os::fork_generation(),
        })
    }

    /// The value. Fails with [`Error::ForkedChild`] in a child forked after the value was made (its pages are
    /// absent or zeroed there).
    #[inline]
    pub fn get(&self) -> Result<&T, Error> {
        if os::fork_generation_registered() != self.generation {
            return Err(Error::ForkedChild);
        }
        Ok(self.placed.get())
    }

    /// Where the value's pages come from.
    pub fn backing(&self) -> Backing {
        self.placed.mapping().backing()
    }
}

#[cfg(not(loom))]
impl<T> Drop for SecretValue<T> {
    fn drop(&mut self) {
        if os::fork_generation() != self.generation {
            self.placed.abandon();
        }
    }
}

impl<T> fmt::Debug for SecretValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretValue")
            .field("type", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

/// Under loom there are no pages to model (values are not part of the loom models): the value lives in a box, so
/// that crates built with `--cfg loom` still compile and run.
#[cfg(loom)]
pub struct SecretValue<T> {
    value: Box<T>,
}

#[cfg(loom)]
impl<T: Send + Sync + 'static> SecretValue<T> {
    pub(crate) fn new(_backing: Backing, _lock: bool, value: T) -> Result<Self, Error> {
        Ok(SecretValue {
            value: Box::new(value),
        })
    }

    /// The value.
    pub fn get(&self) -> Result<&T, Error> {
        Ok(&self.value)
    }

    /// Where the value's pages would come from.
    pub fn backing(&self) -> Backing {
        Backing::Mmap
    }
}
