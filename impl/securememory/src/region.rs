//! Where a secret's bytes live: the page layout of the two implementations.
//!
//! * **Protected** (Go's `protectedmemory`): `[ data … padding ]`, whole pages, locked, no-access while idle. On
//!   anonymous pages ([`Backing::Mmap`]) the locked pages sit between two unlocked no-access *separator* pages:
//!   `[ separator ][ data … padding ][ separator ]` (see [`separated`]).
//! * **Guarded** (Go's `memguard`): `[ guard page ][ canary … data ][ guard page ]`. The data is right-aligned so
//!   an overflow runs straight into the trailing guard page; the random canary in front of it catches an
//!   underflow. Only the inner pages are locked. The canary is checked whenever the window opens and at close; a
//!   damaged canary aborts the process, as memguard does.

use std::ops::Range;

use crate::backing::Backing;
use crate::error::Error;
use crate::os::{self, Mapping, Protection};
use crate::state::{Destroying, Ticket};

/// The minimum canary in front of guarded data. memguard has none when the size is a multiple of the page
/// size; we always keep one, so that an underflow is always caught.
const MIN_CANARY: usize = 16;

/// Which implementation backs a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MemoryKind {
    /// Go's `protectedmemory`: locked pages, no-access while idle. One locked page per 32-byte key; on the mmap
    /// backing, between two unlocked separator pages (three pages of address space), so that neighbouring secrets
    /// never share a kernel VMA that each access would have to split.
    Protected,
    /// Go's `memguard` (the Go factory default): as protected, plus guard pages on both sides and a canary.
    /// Three pages of address space, one locked, per 32-byte key.
    #[default]
    Guarded,
}

#[derive(Debug)]
pub(crate) struct Region {
    mapping: Mapping,
    /// The pages that are locked and whose protection toggles.
    inner: Range<usize>,
    /// The secret bytes.
    data: Range<usize>,
    /// The bytes in front of the data that must equal `canary` (empty for protected memory).
    canary_range: Range<usize>,
    canary: Box<[u8]>,
    /// Whether `inner` was locked with `mlock` (and must be unlocked).
    locked: bool,
    /// Whether the pages are no-access while idle (false only for the `test-util` unprotected factory).
    protect: bool,
    /// [`os::fork_generation`] when the region was made.
    generation: u64,
}

/// How a region is made: the implementation, the page source, and whether it is protected at all.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RegionOptions {
    pub(crate) kind: MemoryKind,
    pub(crate) backing: Backing,
    /// Lock and protect the pages (always, except for the `test-util` unprotected factory).
    pub(crate) protect: bool,
}

/// Keep the first `len` bytes of `mapping` out of core dumps and out of forked children: a dump or a child must
/// never see a key, and a kernel that refuses is an error, not silence. Anonymous private pages are zeroed in
/// the child (`MADV_WIPEONFORK`, Linux ≥ 4.14); shared secretmem pages cannot be, so the child gets no mapping
/// at all (`MADV_DONTFORK`).
pub(crate) fn keep_out_of_dumps_and_children(mapping: &Mapping, len: usize) -> Result<(), Error> {
    mapping
        .exclude_from_dumps(0..len)
        .map_err(|source| Error::Advise {
            advice: "MADV_DONTDUMP",
            source,
        })?;
    let (advice, result) = match mapping.backing() {
        Backing::Mmap => ("MADV_WIPEONFORK", mapping.wipe_on_fork(0..len)),
        Backing::MemfdSecret => ("MADV_DONTFORK", mapping.dont_fork(0..len)),
    };
    result.map_err(|source| Error::Advise { advice, source })
}

/// A failed mapping, with what to do about it: secretmem's limit is RLIMIT_MEMLOCK, and a kernel without it
/// cannot give it.
pub(crate) fn map_error(backing: Backing, size: usize, source: std::io::Error) -> Error {
    match (backing, source.raw_os_error()) {
        (Backing::MemfdSecret, Some(libc::ENOSYS | libc::EINVAL | libc::EPERM)) => {
            Error::BackingUnavailable { backing, source }
        }
        (Backing::MemfdSecret, Some(libc::EAGAIN | libc::ENOMEM)) => Error::Lock { size, source },
        _ => Error::Map { size, source },
    }
}

/// Whether a region gets a separator page on each side of its locked pages.
///
/// The kernel merges neighbouring mappings whose flags are all equal into one VMA. Two idle protected secrets
/// mapped next to each other (locked, no-access, dump-excluded, wiped on fork: identical) become one VMA, and every
/// access must then split it to make one secret readable and merge it back afterwards. Measured on the 2-core
/// machine: one `with_bytes` on a protected secret between two others took 5.3 µs, against 1.5 µs for one
/// without neighbours (a plain `mprotect` pair: 1.1 µs). An unlocked page on each side has different flags, so
/// the locked pages always form a VMA of their own: an access changes its protection in place. The separators
/// cost address space only (never touched, so never backed by memory, and not counted as locked). Guarded
/// regions have their guard pages for this already, and secretmem pages never merge with another mapping (each
/// is its own file).
fn separated(kind: MemoryKind, backing: Backing, protect: bool) -> bool {
    kind == MemoryKind::Protected && backing == Backing::Mmap && protect
}

fn round_up(n: usize, page: usize) -> Option<usize> {
    n.checked_add(page - 1).map(|v| v & !(page - 1))
}

impl Region {
    /// Map, lock and fill a region for `len` secret bytes. `fill` writes the secret into the slice it is given.
    /// On any failure every page is unlocked and unmapped again.
    pub(crate) fn new(
        options: RegionOptions,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<(), Error>,
    ) -> Result<Region, Error> {
        let RegionOptions {
            kind,
            backing,
            protect,
        } = options;
        if len == 0 {
            return Err(Error::InvalidLength(0));
        }
        let page = os::page_size();
        let too_big = || Error::Map {
            size: len,
            source: std::io::Error::other("size overflows the address space"),
        };
        // Guard or separator pages on both sides, or none; the pages between them hold (canary and) data.
        let edges = kind == MemoryKind::Guarded || separated(kind, backing, protect);
        let held = match kind {
            MemoryKind::Protected => len,
            MemoryKind::Guarded => len.checked_add(MIN_CANARY).ok_or_else(too_big)?,
        };
        let inner_len = round_up(held, page).ok_or_else(too_big)?;
        let (total, inner) = if edges {
            let total = inner_len.checked_add(2 * page).ok_or_else(too_big)?;
            (total, page..page + inner_len)
        } else {
            (inner_len, 0..inner_len)
        };
        // Protected data starts the inner pages; guarded data ends them, right against the trailing guard page.
        let data = match kind {
            MemoryKind::Protected => inner.start..inner.start + len,
            MemoryKind::Guarded => inner.end - len..inner.end,
        };
        let canary_range = if kind == MemoryKind::Protected {
            0..0
        } else {
            inner.start..data.start
        };

        let mut mapping = match Mapping::with_secret_pages(total, backing, inner.clone()) {
            Ok(mapping) => mapping,
            Err(source) => return Err(map_error(backing, total, source)),
        };
        keep_out_of_dumps_and_children(&mapping, total)?;
        if edges {
            mapping
                .protect(0..page, Protection::NoAccess)
                .map_err(Error::MarkNoAccess)?;
            mapping
                .protect(inner.end..total, Protection::NoAccess)
                .map_err(Error::MarkNoAccess)?;
        }
        // Secretmem pages are locked by the kernel itself (and refuse `mlock`); unprotected regions are not locked.
        let locked = backing == Backing::Mmap && protect;
        if locked {
            mapping.lock(inner.clone()).map_err(|source| Error::Lock {
                size: inner.len(),
                source,
            })?;
        }
        // From here on, a failure must unlock before the mapping is dropped (drop unmaps).
        let unlock_on_error = |mapping: &Mapping, e: Error| {
            if locked {
                let _ = mapping.unlock(inner.clone());
            }
            e
        };

        let mut canary = vec![0u8; canary_range.len()].into_boxed_slice();
        if let Err(e) = fill_random(&mut canary) {
            return Err(unlock_on_error(&mapping, e));
        }
        mapping
            .bytes_mut(canary_range.clone())
            .copy_from_slice(&canary);
        if let Err(e) = fill(mapping.bytes_mut(data.clone())) {
            mapping.bytes_mut(data.clone()).fill(0);
            return Err(unlock_on_error(&mapping, e));
        }
        if protect && let Err(source) = mapping.protect(inner.clone(), Protection::NoAccess) {
            mapping.bytes_mut(data.clone()).fill(0);
            return Err(unlock_on_error(&mapping, Error::MarkNoAccess(source)));
        }
        Ok(Region {
            mapping,
            inner,
            data,
            canary_range,
            canary,
            locked,
            protect,
            generation: os::fork_generation(),
        })
    }

    /// True in a forked child of the process that made this region: its pages are zeroed or gone there.
    pub(crate) fn forked(&self) -> bool {
        os::fork_generation_registered() != self.generation
    }

    /// Where the pages come from.
    pub(crate) fn backing(&self) -> Backing {
        self.mapping.backing()
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    /// Make the memory readable for a new access window.
    pub(crate) fn open(&self) -> Result<(), Error> {
        if !self.protect {
            return Ok(());
        }
        self.mapping
            .protect(self.inner.clone(), Protection::ReadOnly)
            .map_err(Error::MarkReadOnly)
    }

    /// Make the memory no-access again when the window shuts.
    pub(crate) fn shut(&self) -> Result<(), Error> {
        if !self.protect {
            return Ok(());
        }
        self.mapping
            .protect(self.inner.clone(), Protection::NoAccess)
            .map_err(Error::MarkNoAccess)
    }

    /// Read the secret bytes while `ticket` keeps them readable. For guarded memory the canary bytes right in
    /// front of the data (where an underflow lands first) are checked on every access; the whole canary at close.
    pub(crate) fn read<R>(&self, ticket: &Ticket, f: impl FnOnce(&[u8]) -> R) -> R {
        if !self.canary_range.is_empty() {
            let near = self.canary_range.end - MIN_CANARY..self.canary_range.end;
            let expected = &self.canary[self.canary.len() - MIN_CANARY..];
            if !self.mapping.read(ticket, near, |bytes| bytes == expected) {
                canary_failure();
            }
        }
        self.mapping.read(ticket, self.data.clone(), f)
    }

    /// Wipe, verify the canary, unlock and unmap. Every step is attempted; the first failure is returned.
    pub(crate) fn destroy(&self, token: Destroying) -> Result<(), Error> {
        if self.forked() {
            // A forked child's copy is already zeroed (wipe-on-fork) or absent (dont-fork), and the child holds
            // no lock on it: there is nothing to wipe or check, only our address range to give back.
            return self.mapping.unmap(&token).map_err(|source| Error::Destroy {
                step: "munmap",
                source,
            });
        }
        if let Err(source) = self
            .mapping
            .protect(self.inner.clone(), Protection::ReadWrite)
        {
            // The bytes cannot be wiped, but the pages are still given back: munmap frees them (the kernel zeroes
            // a page before anyone else gets it) instead of leaving a locked, unreachable secret in the process.
            if self.locked {
                let _ = self.mapping.unlock(self.inner.clone());
            }
            let _ = self.mapping.unmap(&token);
            return Err(Error::Destroy {
                step: "mprotect read-write",
                source,
            });
        }
        let intact = self
            .mapping
            .read_exclusive(&token, self.canary_range.clone(), |b| b == &*self.canary);
        self.mapping.wipe(&token, self.inner.clone());
        if !intact {
            canary_failure();
        }
        let unlocked = if self.locked {
            self.mapping
                .unlock(self.inner.clone())
                .map_err(|source| Error::Destroy {
                    step: "munlock",
                    source,
                })
        } else {
            Ok(())
        };
        let unmapped = self.mapping.unmap(&token).map_err(|source| Error::Destroy {
            step: "munmap",
            source,
        });
        unlocked.and(unmapped)
    }

    /// Overwrite the canary (tests of the abort path only).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn corrupt_canary_for_test(&mut self) {
        let range = self.canary_range.clone();
        let _ = self
            .mapping
            .protect(self.inner.clone(), Protection::ReadWrite);
        self.mapping
            .bytes_mut(range)
            .iter_mut()
            .for_each(|b| *b ^= 0xFF);
        let _ = self
            .mapping
            .protect(self.inner.clone(), Protection::NoAccess);
    }

    /// Address of the secret bytes (tests of the fault path only).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn data_address(&self) -> usize {
        self.mapping.address() + self.data.start
    }

    /// Whether the modelled memory is readable (loom models only).
    #[cfg(all(test, loom))]
    pub(crate) fn is_readable(&self) -> bool {
        self.mapping.is_readable()
    }
}

/// Fill a buffer from the OS CSPRNG.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(buf).map_err(|e| Error::Random(e.to_string()))
}

/// A damaged canary means memory next to a secret was overwritten: continuing could leak or corrupt keys.
fn canary_failure() -> ! {
    eprintln!("securememory: canary verification failed; buffer overflow detected. Aborting.");
    std::process::abort();
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::test_support::{child_mode, is_root, locked_kib, run_child, signal};
    use crate::{Backing, Secret, SecretFactory};

    fn factory(kind: MemoryKind, backing: Backing) -> SecretFactory {
        SecretFactory::builder().kind(kind).backing(backing).build()
    }

    #[test]
    fn protected_layout_puts_data_at_the_start_of_locked_pages() {
        let page = os::page_size();
        let s = factory(MemoryKind::Protected, Backing::Mmap)
            .create_random(33)
            .unwrap();
        let r = s.region();
        assert_eq!(r.inner, page..2 * page, "separator pages on both sides");
        assert_eq!(r.data, page..page + 33);
        assert!(r.canary_range.is_empty());
        if Backing::MemfdSecret.is_available() {
            let s = factory(MemoryKind::Protected, Backing::MemfdSecret)
                .create_random(33)
                .unwrap();
            let r = s.region();
            assert_eq!(r.inner, 0..page, "secretmem pages need no separators");
            assert_eq!(r.data, 0..33);
        }
    }

    /// The VMA (a line of `/proc/self/maps`) holding `range` of the region's mapping.
    fn vma_of(r: &Region, range: Range<usize>) -> Range<usize> {
        let start = r.mapping.address() + range.start;
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        maps.lines()
            .filter_map(|line| {
                let (from, to) = line.split_whitespace().next()?.split_once('-')?;
                Some(usize::from_str_radix(from, 16).ok()?..usize::from_str_radix(to, 16).ok()?)
            })
            .find(|vma| vma.contains(&start))
            .expect("the region is mapped")
    }

    /// Idle secrets made one after the other (so the kernel maps them next to each other) must not share a VMA
    /// with anything: otherwise every access splits the VMA and merges it again (see `separated`). Fails
    /// without the separator pages of protected regions.
    #[test]
    fn every_idle_secret_has_a_vma_of_its_own() {
        for backing in [Backing::Mmap, Backing::MemfdSecret] {
            if !backing.is_available() {
                continue;
            }
            for kind in [MemoryKind::Protected, MemoryKind::Guarded] {
                let f = factory(kind, backing);
                let secrets: Vec<Secret> = (0..8).map(|_| f.create_random(32).unwrap()).collect();
                for s in &secrets {
                    let r = s.region();
                    let base = r.mapping.address();
                    let vma = vma_of(r, r.inner.clone());
                    assert_eq!(
                        vma,
                        base + r.inner.start..base + r.inner.end,
                        "{kind:?} on {backing:?}: the secret's pages share a VMA"
                    );
                }
            }
        }
    }

    #[test]
    fn guarded_layout_right_aligns_data_behind_a_canary_between_guard_pages() {
        let page = os::page_size();
        for len in [
            1,
            32,
            page - MIN_CANARY,
            page - MIN_CANARY + 1,
            page,
            3 * page + 5,
        ] {
            let s = SecretFactory::new(MemoryKind::Guarded)
                .create_random(len)
                .unwrap();
            let r = s.region();
            assert_eq!(r.inner.start, page, "len {len}");
            assert_eq!(r.inner.len() % page, 0, "len {len}");
            assert_eq!(
                r.data.end, r.inner.end,
                "len {len}: data must touch the trailing guard page"
            );
            assert_eq!(r.data.len(), len);
            assert!(r.canary_range.len() >= MIN_CANARY, "len {len}");
            assert_eq!(r.canary_range.end, r.data.start);
        }
    }

    /// mlock is real: VmLck grows by the locked pages while secrets live and shrinks after close.
    #[test]
    fn secrets_are_mlocked() {
        let page_kib = (os::page_size() / 1024) as u64;
        let before = locked_kib();
        let secrets: Vec<_> = (0..64)
            .map(|_| {
                SecretFactory::new(MemoryKind::Protected)
                    .create_random(32)
                    .unwrap()
            })
            .collect();
        let during = locked_kib();
        // Other tests run in parallel and lock pages too; our 64 pages must show up at least.
        assert!(
            during >= before + 64 * page_kib / 2,
            "VmLck {before} kB -> {during} kB"
        );
        drop(secrets);
        let guarded: Vec<_> = (0..64)
            .map(|_| {
                SecretFactory::new(MemoryKind::Guarded)
                    .create_random(32)
                    .unwrap()
            })
            .collect();
        assert!(locked_kib() >= 64 * page_kib / 2);
        drop(guarded);
    }

    /// Run `action` on a guarded secret whose canary was damaged, in a child process (the test `test`, re-run
    /// with child mode `mode`), and require the child to die of SIGABRT.
    fn damaged_canary_child_aborts(test: &str, mode: &str, action: fn(&Secret)) {
        if child_mode().as_deref() == Some(mode) {
            let mut s = SecretFactory::new(MemoryKind::Guarded)
                .create_random(32)
                .unwrap();
            s.region_mut().corrupt_canary_for_test();
            action(&s);
            std::process::exit(0);
        }
        if child_mode().is_some() {
            return;
        }
        let status = run_child(test, mode, &[]);
        assert_eq!(
            signal(status),
            Some(libc::SIGABRT),
            "{mode}: child status {status:?}"
        );
    }

    /// A damaged canary aborts the process loudly instead of returning the bytes.
    #[test]
    fn damaged_canary_aborts_on_access() {
        damaged_canary_child_aborts(
            "region::tests::damaged_canary_aborts_on_access",
            "canary-access",
            |s| {
                let _ = s.with_bytes(|b| b.len());
            },
        );
    }

    #[test]
    fn damaged_canary_aborts_on_close() {
        damaged_canary_child_aborts(
            "region::tests::damaged_canary_aborts_on_close",
            "canary-close",
            |s| {
                let _ = s.close();
            },
        );
    }

    /// A secret larger than RLIMIT_MEMLOCK fails with an error naming the limit and the size. The child drops
    /// CAP_IPC_LOCK (root ignores the limit otherwise) and lowers the limit to 64 KiB.
    #[test]
    fn secret_larger_than_memlock_limit_fails_with_clear_error() {
        if child_mode().as_deref() == Some("memlock") {
            // Both backings: secretmem pages count against the same limit (the mapping fails with EAGAIN).
            let mut backings = vec![Backing::Mmap];
            if Backing::MemfdSecret.is_available() {
                backings.push(Backing::MemfdSecret);
            }
            for backing in backings {
                let factory = SecretFactory::builder()
                    .kind(MemoryKind::Protected)
                    .backing(backing)
                    .build();
                let err = factory.create_random(1 << 20).unwrap_err();
                let msg = err.to_string();
                assert!(
                    matches!(err, Error::Lock { size, .. } if size == 1 << 20),
                    "{backing}: {msg}"
                );
                assert!(
                    msg.contains("RLIMIT_MEMLOCK") && msg.contains("1048576"),
                    "{backing}: {msg}"
                );
                // Small secrets still fit.
                SecretFactory::builder()
                    .kind(MemoryKind::Guarded)
                    .backing(backing)
                    .build()
                    .create_random(32)
                    .unwrap();
            }
            std::process::exit(42);
        }
        let mut wrapper = vec!["prlimit", "--memlock=65536:65536"];
        if is_root() {
            wrapper.splice(
                0..0,
                [
                    "setpriv",
                    "--bounding-set",
                    "-ipc_lock",
                    "--inh-caps",
                    "-ipc_lock",
                ],
            );
        }
        let status = run_child(
            "region::tests::secret_larger_than_memlock_limit_fails_with_clear_error",
            "memlock",
            &wrapper,
        );
        assert_eq!(status.code(), Some(42), "child status {status:?}");
    }
}
