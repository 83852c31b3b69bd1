//! [`SecretFactory`]: creates secrets of one [`MemoryKind`].

use std::sync::Once;

use zeroize::Zeroize;

use crate::backing::{Backing, default_backing};
use crate::error::Error;
use crate::os;
use crate::region::{MemoryKind, RegionOptions, fill_random};
use crate::secret::Secret;
use crate::value::SecretValue;

/// Creates secrets. Cheap to clone.
///
/// By default, building a factory disables core dumps for the whole process (`RLIMIT_CORE = 0`, once), as Go's
/// memguard does when imported; [`SecretFactoryBuilder::disable_core_dumps`] turns that off. Independently, every
/// secret's pages are marked `MADV_DONTDUMP`, so secrets stay out of core dumps even where dumps are enabled.
#[derive(Debug, Clone, Copy)]
pub struct SecretFactory {
    kind: MemoryKind,
    backing: Backing,
    protect: bool,
}

impl Default for SecretFactory {
    /// Guarded memory (Go's default, memguard), core dumps disabled.
    fn default() -> Self {
        SecretFactory::builder().build()
    }
}

impl SecretFactory {
    /// A factory for `kind`, with core dumps disabled.
    pub fn new(kind: MemoryKind) -> Self {
        SecretFactory::builder().kind(kind).build()
    }

    /// Configure a factory.
    pub fn builder() -> SecretFactoryBuilder {
        SecretFactoryBuilder {
            kind: MemoryKind::default(),
            disable_core_dumps: true,
            backing: None,
            protect: true,
        }
    }

    /// The kind of memory this factory allocates.
    pub fn kind(&self) -> MemoryKind {
        self.kind
    }

    /// Where this factory's secrets live (see [`Backing`]; by default [`default_backing`]).
    pub fn backing(&self) -> Backing {
        self.backing
    }

    fn region_options(&self) -> RegionOptions {
        RegionOptions {
            kind: self.kind,
            backing: self.backing,
            protect: self.protect,
        }
    }

    /// Move `value` into pages of this factory's backing, wiped when the returned [`SecretValue`] is dropped:
    /// for state that must stay readable but out of other processes' reach, such as a cached AES key schedule.
    /// Costs at least one page (locked: counted against `RLIMIT_MEMLOCK`).
    pub fn new_value<T: Send + Sync + 'static>(&self, value: T) -> Result<SecretValue<T>, Error> {
        SecretValue::new(self.backing, self.protect, value)
    }

    /// Copy `bytes` into a new secret, then wipe `bytes` (also when creation fails).
    pub fn new_secret(&self, bytes: &mut [u8]) -> Result<Secret, Error> {
        let result = Secret::new(self.region_options(), bytes.len(), |dest| {
            dest.copy_from_slice(bytes);
            Ok(())
        });
        bytes.zeroize();
        result
    }

    /// Run `f` on `len` zeroed, writable bytes of secure memory that exist only for the call: a locked,
    /// dump-excluded, fork-wiped page from a process-wide pool, with guard pages on both sides, writable while `f`
    /// runs and wiped and made no-access before this returns (also when `f` panics). For a secret that lives for
    /// one operation — a data-row key during one encrypt — this costs one protection window (two `mprotect`
    /// calls) instead of a [`Secret`]'s mapping, locking and unmapping. `len` is 1 byte to one page. Both memory
    /// kinds use the same pool (it is guarded: every slot sits between guard pages).
    ///
    /// ```
    /// let factory = securememory::SecretFactory::default();
    /// let sum = factory.with_scratch(32, |key| {
    ///     key.fill(1);
    ///     key.iter().map(|&b| u32::from(b)).sum::<u32>()
    /// })?;
    /// assert_eq!(sum, 32);
    /// # Ok::<(), securememory::Error>(())
    /// ```
    #[cfg(not(loom))]
    pub fn with_scratch<R>(&self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Result<R, Error> {
        crate::scratch::with_scratch(len, f)
    }

    /// Under loom there is no OS to model for the pool (the scratch pool is not part of the loom models): a
    /// zeroized heap buffer stands in so that crates built with `--cfg loom` still compile and run.
    #[cfg(loom)]
    pub fn with_scratch<R>(&self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Result<R, Error> {
        if len == 0 || len > os::page_size() {
            return Err(Error::ScratchLength {
                len,
                max: os::page_size(),
            });
        }
        let mut buffer = zeroize::Zeroizing::new(vec![0u8; len]);
        Ok(f(&mut buffer))
    }

    /// A new secret of `len` bytes from the OS CSPRNG.
    pub fn create_random(&self, len: usize) -> Result<Secret, Error> {
        Secret::new(self.region_options(), len, fill_random)
    }
}

/// Options for a [`SecretFactory`].
#[derive(Debug, Clone, Copy)]
pub struct SecretFactoryBuilder {
    kind: MemoryKind,
    disable_core_dumps: bool,
    backing: Option<Backing>,
    protect: bool,
}

impl SecretFactoryBuilder {
    /// Which implementation to use (default [`MemoryKind::Guarded`]).
    pub fn kind(mut self, kind: MemoryKind) -> Self {
        self.kind = kind;
        self
    }

    /// Whether building the factory sets `RLIMIT_CORE = 0` for the process (default true, Go's behaviour).
    pub fn disable_core_dumps(mut self, disable: bool) -> Self {
        self.disable_core_dumps = disable;
        self
    }

    /// Where secrets live (default: [`default_backing`], memfd_secret where the kernel has it). Forcing
    /// [`Backing::MemfdSecret`] where the kernel lacks it makes every creation fail with
    /// [`Error::BackingUnavailable`].
    pub fn backing(mut self, backing: Backing) -> Self {
        self.backing = Some(backing);
        self
    }

    /// Neither lock nor protect the pages: secrets stay readable all the time and can be swapped. Only to
    /// measure what the protection costs (the lab's "locking disabled" rows); never for real secrets.
    #[cfg(feature = "test-util")]
    pub fn unprotected(mut self) -> Self {
        self.protect = false;
        self.backing = Some(Backing::Mmap);
        self
    }

    /// Build the factory.
    pub fn build(self) -> SecretFactory {
        if self.disable_core_dumps {
            static CORE_DUMPS_OFF: Once = Once::new();
            // Failure is ignored, as in Go: a process may lack the right to lower a hard limit it doesn't own,
            // and MADV_DONTDUMP still keeps the secrets themselves out of dumps.
            CORE_DUMPS_OFF.call_once(|| {
                let _ = os::disable_core_dumps();
            });
        }
        SecretFactory {
            kind: self.kind,
            backing: self.backing.unwrap_or_else(default_backing),
            protect: self.protect,
        }
    }
}
