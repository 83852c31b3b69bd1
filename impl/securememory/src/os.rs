//! Everything that talks to the operating system, and the only module allowed `unsafe`.
//!
//! [`Mapping`] owns one anonymous private mapping. Its methods are safe to call; the two that read or write the
//! secret bytes while other threads may hold the secret take a proof token from the state machine
//! ([`Ticket`]: the memory is readable and stays so; [`Destroying`]: no accessor exists or can appear), which is
//! what makes the raw-pointer accesses below sound. Every OS call's return value is checked.
//!
//! Under `cfg(loom)` the same API is provided by a model (`model` below) that tracks protection in memory and
//! asserts the state machine's promises, because loom cannot observe `mprotect`.
#![allow(unsafe_code)]

use std::io;
use std::ops::Range;

use crate::backing::Backing;

use crate::state::{Destroying, Ticket};

/// Memory protection of a page range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protection {
    NoAccess,
    ReadOnly,
    ReadWrite,
}

/// A libc return code: 0 is success, anything else carries `errno`.
fn check_rc(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Disable core dumps for the whole process (`RLIMIT_CORE = 0`), as Go's memguard does at start-up.
pub(crate) fn disable_core_dumps() -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, initialised rlimit that outlives the call; setrlimit only reads it.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_CORE, &limit) };
    check_rc(rc)
}

/// How many times this process is a forked child of a process that used this crate: 0 in the original
/// process, incremented in the child by a `pthread_atfork` handler (registered on first use). A secret records
/// the generation it was made in; in a forked child its pages are zeroed (`MADV_WIPEONFORK`) or absent
/// (`MADV_DONTFORK`), and the mismatch lets the secret say so instead of misreading them.
pub(crate) fn fork_generation() -> u64 {
    #[cfg(not(loom))]
    {
        real::fork_generation()
    }
    #[cfg(loom)]
    {
        0
    }
}

/// [`fork_generation`] for memory whose creation already called it: one relaxed load, for access paths.
#[inline]
pub(crate) fn fork_generation_registered() -> u64 {
    #[cfg(not(loom))]
    {
        real::fork_generation_registered()
    }
    #[cfg(loom)]
    {
        0
    }
}

#[cfg(not(loom))]
pub(crate) use real::{Lease, Mapping, Placed, memfd_secret_available, page_size};

/// A value whose bytes are zeroed when it is dropped: after `T`'s own destructor runs, every byte of the `T`
/// is overwritten with volatile writes. For key material in types that do not zeroize themselves (ring's
/// `LessSafeKey`, say). Heap memory the `T` owns is not reached, only its inline bytes; and as with any Rust
/// value, moving a `Wiped<T>` leaves the old bytes behind unwiped: create it where it stays.
pub struct Wiped<T> {
    value: std::mem::ManuallyDrop<T>,
}

impl<T> Wiped<T> {
    /// Own `value`, to be wiped on drop.
    pub fn new(value: T) -> Self {
        Wiped {
            value: std::mem::ManuallyDrop::new(value),
        }
    }
}

impl<T> std::ops::Deref for Wiped<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> std::ops::DerefMut for Wiped<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T> Drop for Wiped<T> {
    fn drop(&mut self) {
        let ptr: *mut T = &mut *self.value;
        // SAFETY: the value is dropped exactly once, here (ManuallyDrop keeps the compiler from doing it again).
        unsafe { std::mem::ManuallyDrop::drop(&mut self.value) };
        // SAFETY: the value's bytes are now dead storage inside `self`, valid for `size_of::<T>()` bytes of
        // writes; memzero overwrites them with volatile writes.
        unsafe { memsec::memzero(ptr.cast::<u8>(), std::mem::size_of::<T>()) };
    }
}

impl<T> std::fmt::Debug for Wiped<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Wiped(..)")
    }
}

#[cfg(loom)]
pub(crate) use model::{Mapping, page_size};

#[cfg(not(loom))]
mod real {
    use super::*;
    use std::fmt;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::ptr::NonNull;
    // Not through the loom shim: this flag only guards the real munmap, which loom never runs.
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};

    // Not through the loom shim: bumped by the atfork child handler, never part of a model.
    #[allow(clippy::disallowed_types)]
    static FORK_GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    extern "C" fn on_fork_child() {
        // An atomic add is async-signal-safe, as a handler running in the child of a multi-threaded fork must be.
        FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn fork_generation() -> u64 {
        static REGISTERED: OnceLock<()> = OnceLock::new();
        REGISTERED.get_or_init(|| {
            // SAFETY: registers a child handler that only performs an atomic add; no prepare/parent handlers.
            // Failure (ENOMEM) leaves the generation at 0, i.e. forks go undetected, as before this existed.
            let _ = unsafe { libc::pthread_atfork(None, None, Some(on_fork_child)) };
        });
        FORK_GENERATION.load(Ordering::Relaxed)
    }

    /// The generation without the one-time registration: for hot paths of memory whose creation already
    /// called [`fork_generation`] (so the handler is in place).
    #[inline]
    pub(crate) fn fork_generation_registered() -> u64 {
        FORK_GENERATION.load(Ordering::Relaxed)
    }

    /// The system page size, read once.
    pub(crate) fn page_size() -> usize {
        static PAGE: OnceLock<usize> = OnceLock::new();
        *PAGE.get_or_init(|| {
            // SAFETY: sysconf has no memory-safety preconditions.
            let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            usize::try_from(size)
                .ok()
                .filter(|s| s.is_power_of_two())
                .unwrap_or(4096)
        })
    }

    /// One anonymous private mapping of whole pages, unmapped on drop.
    #[derive(Debug)]
    pub(crate) struct Mapping {
        ptr: NonNull<u8>,
        len: usize,
        backing: Backing,
        /// Set once the mapping is gone; guards against a second munmap from `Drop`.
        unmapped: AtomicBool,
    }

    // SAFETY: the mapping is plain memory owned by this value; all shared-access methods either need a
    // state-machine token (which serialises readers against writers) or only change page protection.
    unsafe impl Send for Mapping {}
    // SAFETY: as for Send; concurrent `read` calls only create shared slices of memory nobody writes meanwhile.
    unsafe impl Sync for Mapping {}

    /// Open a `memfd_secret(2)` file descriptor (Linux ≥ 5.14, and only where the kernel enables secretmem).
    fn memfd_secret() -> io::Result<OwnedFd> {
        // SAFETY: memfd_secret takes one flags argument and returns a new descriptor or -1; no memory is passed.
        let rc = unsafe { libc::syscall(libc::SYS_memfd_secret, libc::O_CLOEXEC) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = libc::c_int::try_from(rc).map_err(|_| io::Error::other("fd out of range"))?;
        // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// Whether this process can create secretmem pages: one probe (descriptor opened and closed, nothing mapped).
    pub(crate) fn memfd_secret_available() -> io::Result<()> {
        memfd_secret().map(drop)
    }

    impl Mapping {
        /// Map `len` bytes (a multiple of the page size), readable and writable: anonymous private memory for
        /// [`Backing::Mmap`], a `memfd_secret` file's pages for [`Backing::MemfdSecret`] (the descriptor is closed
        /// at once; the mapping keeps the file alive). Secretmem pages are locked by the kernel and absent from
        /// its direct map; the mapping fails with `EAGAIN` when it would exceed `RLIMIT_MEMLOCK`.
        pub(crate) fn new(len: usize, backing: Backing) -> io::Result<Mapping> {
            Mapping::with_secret_pages(len, backing, 0..len)
        }

        /// As [`new`](Mapping::new), where only `secret` (a page-aligned sub-range) holds secret bytes. With
        /// [`Backing::MemfdSecret`] the rest (guard pages) is reserved as anonymous no-access memory and only
        /// `secret` is secretmem, because the kernel counts a whole secretmem mapping against
        /// `RLIMIT_MEMLOCK`, guard pages included.
        pub(crate) fn with_secret_pages(
            len: usize,
            backing: Backing,
            secret: Range<usize>,
        ) -> io::Result<Mapping> {
            debug_assert!(len > 0 && len.is_multiple_of(page_size()));
            debug_assert!(secret.start < secret.end && secret.end <= len);
            let ptr = match backing {
                // SAFETY: an anonymous private mapping at an address of the kernel's choosing aliases no existing
                // memory; the arguments are valid for MAP_ANONYMOUS (fd -1, offset 0).
                Backing::Mmap => unsafe {
                    libc::mmap(
                        std::ptr::null_mut(),
                        len,
                        libc::PROT_READ | libc::PROT_WRITE,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                        -1,
                        0,
                    )
                },
                Backing::MemfdSecret => {
                    let fd = memfd_secret()?;
                    let size = libc::off_t::try_from(secret.len())
                        .map_err(|_| io::Error::other("mapping too large"))?;
                    // SAFETY: `fd` is a valid descriptor we own; ftruncate only sizes the file.
                    check_rc(unsafe { libc::ftruncate(fd.as_raw_fd(), size) })?;
                    // SAFETY: a fresh no-access anonymous reservation at an address of the kernel's choosing
                    // aliases no existing memory.
                    let base = unsafe {
                        libc::mmap(
                            std::ptr::null_mut(),
                            len,
                            libc::PROT_NONE,
                            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                            -1,
                            0,
                        )
                    };
                    if base == libc::MAP_FAILED {
                        return Err(io::Error::last_os_error());
                    }
                    let at = base.cast::<u8>().wrapping_add(secret.start).cast();
                    // SAFETY: MAP_FIXED replaces pages inside the reservation we just made and own (the range is
                    // inside it, checked above), so no other memory is clobbered; `fd` stays open meanwhile.
                    let placed = unsafe {
                        libc::mmap(
                            at,
                            secret.len(),
                            libc::PROT_READ | libc::PROT_WRITE,
                            libc::MAP_SHARED | libc::MAP_FIXED,
                            fd.as_raw_fd(),
                            0,
                        )
                    };
                    if placed == libc::MAP_FAILED {
                        let err = io::Error::last_os_error();
                        // SAFETY: unmapping our own reservation, to which nothing refers.
                        unsafe { libc::munmap(base, len) };
                        return Err(err);
                    }
                    base
                }
            };
            if ptr == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            let ptr = NonNull::new(ptr.cast::<u8>())
                .ok_or_else(|| io::Error::other("mmap returned null"))?;
            Ok(Mapping {
                ptr,
                len,
                backing,
                unmapped: AtomicBool::new(false),
            })
        }

        /// Where the pages come from.
        pub(crate) fn backing(&self) -> Backing {
            self.backing
        }

        fn check(&self, range: &Range<usize>) {
            assert!(
                range.start <= range.end && range.end <= self.len,
                "range outside the mapping"
            );
            assert!(
                !self.unmapped.load(Ordering::Acquire),
                "mapping used after unmap"
            );
        }

        fn addr(&self, offset: usize) -> *mut libc::c_void {
            // `wrapping_add` keeps this free of unsafe; callers only pass offsets checked against `len`.
            self.ptr.as_ptr().wrapping_add(offset).cast()
        }

        /// Change the protection of a page-aligned range.
        pub(crate) fn protect(&self, range: Range<usize>, prot: Protection) -> io::Result<()> {
            self.check(&range);
            let flags = match prot {
                Protection::NoAccess => libc::PROT_NONE,
                Protection::ReadOnly => libc::PROT_READ,
                Protection::ReadWrite => libc::PROT_READ | libc::PROT_WRITE,
            };
            crate::metrics::on_protection_change();
            // SAFETY: the range lies inside our own mapping (checked above). Removing access can only make a
            // stray access fault; the state machine guarantees no legitimate access overlaps a protection drop.
            let rc = unsafe { libc::mprotect(self.addr(range.start), range.len(), flags) };
            check_rc(rc)
        }

        /// Lock a range into RAM.
        ///
        /// With glibc the lock is taken "on fault" (`mlock2(MLOCK_ONFAULT)`): each page is locked the moment it is
        /// first touched. A page holds a secret only after it has been written, so no secret is ever in an unlocked
        /// page, and the whole range still counts against `RLIMIT_MEMLOCK` at once. What it saves: for a plainly
        /// locked range the kernel re-populates the pages every time the range becomes writable again, which made
        /// each access window (`PROT_NONE` → read-write → `PROT_NONE`) about 0.3–0.45 µs dearer here (2.5 against
        /// 2.9–3.1 µs per window, `mprotect` pairs on one locked page). Falls back to `mlock` where the kernel has
        /// no `mlock2` (before Linux 4.4).
        pub(crate) fn lock(&self, range: Range<usize>) -> io::Result<()> {
            self.check(&range);
            #[cfg(target_env = "gnu")]
            {
                // SAFETY: the range lies inside our own mapping; mlock2 does not touch the bytes.
                let rc = unsafe {
                    libc::mlock2(self.addr(range.start), range.len(), libc::MLOCK_ONFAULT)
                };
                if rc == 0 {
                    return Ok(());
                }
                let err = io::Error::last_os_error();
                if !matches!(err.raw_os_error(), Some(libc::ENOSYS | libc::EINVAL)) {
                    return Err(err);
                }
            }
            // SAFETY: the range lies inside our own mapping; mlock does not touch the bytes.
            let rc = unsafe { libc::mlock(self.addr(range.start), range.len()) };
            check_rc(rc)
        }

        /// Unlock a range.
        pub(crate) fn unlock(&self, range: Range<usize>) -> io::Result<()> {
            self.check(&range);
            // SAFETY: the range lies inside our own mapping; munlock does not touch the bytes.
            let rc = unsafe { libc::munlock(self.addr(range.start), range.len()) };
            check_rc(rc)
        }

        /// Exclude a range from core dumps.
        pub(crate) fn exclude_from_dumps(&self, range: Range<usize>) -> io::Result<()> {
            self.check(&range);
            // SAFETY: the range lies inside our own mapping; MADV_DONTDUMP only changes dump bookkeeping.
            let rc =
                unsafe { libc::madvise(self.addr(range.start), range.len(), libc::MADV_DONTDUMP) };
            check_rc(rc)
        }

        /// Have the kernel zero a range in any child created by `fork` (Linux ≥ 4.14).
        pub(crate) fn wipe_on_fork(&self, range: Range<usize>) -> io::Result<()> {
            self.check(&range);
            // SAFETY: the range lies inside our own mapping; MADV_WIPEONFORK only affects forked children.
            let rc = unsafe {
                libc::madvise(self.addr(range.start), range.len(), libc::MADV_WIPEONFORK)
            };
            check_rc(rc)
        }

        /// Leave a range out of any child created by `fork` (`MADV_DONTFORK`): the child has no mapping there.
        /// Secretmem is a shared mapping, which `MADV_WIPEONFORK` refuses; this is its equivalent.
        pub(crate) fn dont_fork(&self, range: Range<usize>) -> io::Result<()> {
            self.check(&range);
            // SAFETY: the range lies inside our own mapping; MADV_DONTFORK only affects forked children.
            let rc =
                unsafe { libc::madvise(self.addr(range.start), range.len(), libc::MADV_DONTFORK) };
            check_rc(rc)
        }

        /// Writable view for filling a fresh secret. `&mut self` proves nobody else can see the mapping yet; the
        /// range must be read-write.
        pub(crate) fn bytes_mut(&mut self, range: Range<usize>) -> &mut [u8] {
            self.check(&range);
            // SAFETY: in bounds (checked); exclusive through `&mut self`; the caller made the range read-write
            // (a mistake faults, it cannot corrupt memory).
            unsafe {
                std::slice::from_raw_parts_mut(
                    self.ptr.as_ptr().wrapping_add(range.start),
                    range.len(),
                )
            }
        }

        /// Run `f` on the bytes of `range` while the holder of `ticket` keeps them readable.
        pub(crate) fn read<R>(
            &self,
            _ticket: &Ticket,
            range: Range<usize>,
            f: impl FnOnce(&[u8]) -> R,
        ) -> R {
            self.check(&range);
            // SAFETY: in bounds (checked). A Ticket exists only while the state machine counts its holder as an
            // accessor, and while any accessor is counted the memory stays mapped, readable and unwritten (see
            // `state.rs`, checked by the loom models). The slice cannot outlive this call.
            let bytes = unsafe {
                std::slice::from_raw_parts(self.ptr.as_ptr().wrapping_add(range.start), range.len())
            };
            f(bytes)
        }

        /// Read a range that is readable while no accessor can exist (closing): e.g. to verify a canary.
        pub(crate) fn read_exclusive<R>(
            &self,
            _token: &Destroying,
            range: Range<usize>,
            f: impl FnOnce(&[u8]) -> R,
        ) -> R {
            self.check(&range);
            // SAFETY: in bounds (checked); a Destroying token means no accessor exists, so nobody writes meanwhile.
            let bytes = unsafe {
                std::slice::from_raw_parts(self.ptr.as_ptr().wrapping_add(range.start), range.len())
            };
            f(bytes)
        }

        /// Zero a read-write range with writes the compiler may not elide.
        pub(crate) fn wipe(&self, _token: &Destroying, range: Range<usize>) {
            self.check(&range);
            // SAFETY: in bounds (checked); a Destroying token means no accessor exists or can be admitted, so this
            // is the only reference to the bytes. memsec::memzero uses volatile writes.
            unsafe { memsec::memzero(self.ptr.as_ptr().wrapping_add(range.start), range.len()) };
        }

        /// Unmap now (idempotent). Later calls on this mapping panic instead of touching freed memory.
        pub(crate) fn unmap(&self, _token: &Destroying) -> io::Result<()> {
            self.unmap_inner()
        }

        fn unmap_inner(&self) -> io::Result<()> {
            if self.unmapped.swap(true, Ordering::AcqRel) {
                return Ok(());
            }
            // SAFETY: the whole mapping is ours and no reference into it survives: readers hold Tickets, which
            // a Destroying token (or `&mut self` in Drop) rules out.
            let rc = unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
            check_rc(rc)
        }

        /// Start address, for tests that prove the page faults while idle.
        #[cfg(test)]
        pub(crate) fn address(&self) -> usize {
            self.ptr.as_ptr() as usize
        }
    }

    /// The right to one page of a process-lifetime mapping (a scratch slot). Leases are minted only by
    /// [`Lease::carve`], once per page of a mapping that is leaked at that moment, so a lease is the only way to
    /// reach its page: that is what lets [`Lease::bytes`] hand out `&mut` bytes.
    #[derive(Debug)]
    pub(crate) struct Lease {
        mapping: &'static Mapping,
        page: Range<usize>,
    }

    impl Lease {
        /// Keep `mapping` for the life of the process and cut it into one lease per range of `pages`.
        ///
        /// # Panics
        /// If two ranges overlap or one lies outside the mapping.
        pub(crate) fn carve(mapping: Mapping, mut pages: Vec<Range<usize>>) -> Vec<Lease> {
            pages.sort_by_key(|r| r.start);
            for pair in pages.windows(2) {
                assert!(pair[0].end <= pair[1].start, "leases overlap");
            }
            for page in &pages {
                mapping.check(page);
            }
            let mapping: &'static Mapping = Box::leak(Box::new(mapping));
            pages
                .into_iter()
                .map(|page| Lease { mapping, page })
                .collect()
        }

        /// The slot's page within its mapping.
        pub(crate) fn range(&self) -> Range<usize> {
            self.page.clone()
        }

        /// The mapping the page belongs to (to change its protection).
        pub(crate) fn mapping(&self) -> &'static Mapping {
            self.mapping
        }

        /// The page's bytes, writable for as long as the lease is borrowed. The holder made the page read-write
        /// first; a page left no-access would fault, not corrupt memory.
        pub(crate) fn bytes(&mut self) -> &mut [u8] {
            let range = self.range();
            self.mapping.check(&range);
            // SAFETY: in bounds (checked). `carve` minted exactly one lease per non-overlapping page of a mapping
            // it leaked (so it is never unmapped), and leases are not Clone: the `&mut self` borrow is the only
            // way to reach these bytes.
            unsafe {
                std::slice::from_raw_parts_mut(
                    self.mapping.ptr.as_ptr().wrapping_add(range.start),
                    range.len(),
                )
            }
        }
    }

    /// A `T` moved into the start of a mapping it owns (page-aligned, so any `T` of at most a page's alignment
    /// fits). Dropping it drops the `T` in place, zeroes its bytes with volatile writes, then unmaps.
    pub(crate) struct Placed<T> {
        mapping: Mapping,
        /// False in a forked child that did not inherit the pages (or got them zeroed): never touch them there.
        live: bool,
        _value: std::marker::PhantomData<T>,
    }

    impl<T> Placed<T> {
        /// Move `value` into `mapping`, which must be read-write, at least `size_of::<T>()` long and only ever
        /// reached through the returned value.
        pub(crate) fn new(mapping: Mapping, value: T) -> io::Result<Placed<T>> {
            if std::mem::size_of::<T>() > mapping.len || std::mem::align_of::<T>() > page_size() {
                return Err(io::Error::other("value does not fit its mapping"));
            }
            let ptr = mapping.ptr.as_ptr().cast::<T>();
            // SAFETY: `ptr` is the page-aligned start of our own read-write mapping, which is at least
            // `size_of::<T>()` bytes long and aligned for `T` (both checked above); nothing else refers to it.
            unsafe { ptr.write(value) };
            Ok(Placed {
                mapping,
                live: true,
                _value: std::marker::PhantomData,
            })
        }

        pub(crate) fn get(&self) -> &T {
            // SAFETY: `new` wrote a valid `T` at the start of the mapping; only `&self` methods read it and
            // `Drop` is the only place it is dropped, so it is valid for the lifetime of `&self`.
            unsafe { &*self.mapping.ptr.as_ptr().cast::<T>() }
        }

        /// Forget the value without touching its pages (a forked child, where they are absent or zeroed).
        pub(crate) fn abandon(&mut self) {
            self.live = false;
        }

        pub(crate) fn mapping(&self) -> &Mapping {
            &self.mapping
        }
    }

    impl<T> Drop for Placed<T> {
        fn drop(&mut self) {
            if !self.live {
                return;
            }
            let ptr = self.mapping.ptr.as_ptr();
            // SAFETY: the value written by `new` is still valid and is dropped exactly once, here.
            unsafe { std::ptr::drop_in_place(ptr.cast::<T>()) };
            // SAFETY: its bytes are now dead storage at the start of our own read-write mapping, at least
            // `size_of::<T>()` long; memzero overwrites them with volatile writes.
            unsafe { memsec::memzero(ptr, std::mem::size_of::<T>()) };
        }
    }

    impl<T> fmt::Debug for Placed<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Placed").finish_non_exhaustive()
        }
    }

    impl Drop for Mapping {
        fn drop(&mut self) {
            // Nothing useful can be done with a failed munmap during drop; the address space is leaked.
            let _ = self.unmap_inner();
        }
    }

    /// Read one byte at `addr` (test support for the SIGSEGV proof; called only in a child process).
    ///
    /// # Safety
    /// `addr` must be an address the caller expects to fault or to be readable; a fault kills the process.
    #[cfg(test)]
    pub(crate) unsafe fn probe_read(addr: usize) -> u8 {
        // SAFETY: forwarded to the caller.
        unsafe { std::ptr::read_volatile(addr as *const u8) }
    }
}

#[cfg(not(loom))]
#[cfg(test)]
pub(crate) use real::probe_read;

/// Test support: fork, run `child` in the child and `_exit` with its verdict; in the parent wait up to `limit`.
/// `Some(verdict)`, or `None` if the child hung (it is then killed) or died.
#[cfg(all(test, not(loom)))]
pub(crate) fn fork_and_wait(
    limit: std::time::Duration,
    child: impl FnOnce() -> bool,
) -> Option<bool> {
    // SAFETY: the child runs `child` (test code that may allocate: glibc's malloc is reset for the child by its
    // own atfork handlers) and leaves through _exit without running the parent's destructors.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let verdict = child();
        // SAFETY: _exit is async-signal-safe and ends the child at once.
        unsafe { libc::_exit(if verdict { 0 } else { 1 }) };
    }
    let started = std::time::Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: polling our own child with a valid status pointer.
        let waited = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if waited == pid {
            return (libc::WIFEXITED(status)).then(|| libc::WEXITSTATUS(status) == 0);
        }
        if started.elapsed() > limit {
            // SAFETY: killing and reaping our own hung child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            // SAFETY: reaping our own child with a valid status pointer.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A model of [`Mapping`] for loom: protection lives in an atomic, bytes in a loom `UnsafeCell` so that loom
/// reports any read that races with the wipe, and every access asserts the promises of the state machine.
#[cfg(loom)]
mod model {
    #![allow(clippy::disallowed_types)]
    use super::*;
    use loom::cell::UnsafeCell;
    use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};

    pub(crate) fn page_size() -> usize {
        4096
    }

    #[derive(Debug)]
    pub(crate) struct Mapping {
        bytes: UnsafeCell<Vec<u8>>,
        prot: AtomicU8,
        readers: AtomicUsize,
        unmapped: AtomicBool,
    }

    // SAFETY: the bytes are only reached through loom's `UnsafeCell`, whose tracked accessors make loom report any
    // unsynchronised concurrent access; the other fields are atomics.
    unsafe impl Send for Mapping {}
    // SAFETY: as for Send.
    unsafe impl Sync for Mapping {}

    fn code(p: Protection) -> u8 {
        match p {
            Protection::NoAccess => 0,
            Protection::ReadOnly => 1,
            Protection::ReadWrite => 2,
        }
    }

    impl Mapping {
        pub(crate) fn with_secret_pages(
            len: usize,
            backing: Backing,
            _secret: Range<usize>,
        ) -> io::Result<Mapping> {
            Mapping::new(len, backing)
        }

        pub(crate) fn backing(&self) -> Backing {
            Backing::Mmap
        }

        pub(crate) fn wipe_on_fork(&self, _range: Range<usize>) -> io::Result<()> {
            Ok(())
        }

        pub(crate) fn dont_fork(&self, _range: Range<usize>) -> io::Result<()> {
            Ok(())
        }

        pub(crate) fn new(len: usize, _backing: Backing) -> io::Result<Mapping> {
            Ok(Mapping {
                bytes: UnsafeCell::new(vec![0; len]),
                prot: AtomicU8::new(code(Protection::ReadWrite)),
                readers: AtomicUsize::new(0),
                unmapped: AtomicBool::new(false),
            })
        }

        pub(crate) fn protect(&self, _range: Range<usize>, prot: Protection) -> io::Result<()> {
            crate::metrics::on_protection_change();
            assert!(!self.unmapped.load(SeqCst), "protect after unmap");
            if prot == Protection::NoAccess {
                assert_eq!(
                    self.readers.load(SeqCst),
                    0,
                    "memory made no-access while an accessor reads it"
                );
            }
            self.prot.store(code(prot), SeqCst);
            Ok(())
        }

        pub(crate) fn lock(&self, _range: Range<usize>) -> io::Result<()> {
            Ok(())
        }

        pub(crate) fn unlock(&self, _range: Range<usize>) -> io::Result<()> {
            Ok(())
        }

        pub(crate) fn exclude_from_dumps(&self, _range: Range<usize>) -> io::Result<()> {
            Ok(())
        }

        pub(crate) fn bytes_mut(&mut self, range: Range<usize>) -> &mut [u8] {
            // SAFETY: `&mut self` gives exclusive access to the cell's contents.
            let v = unsafe { &mut *self.bytes.with_mut(|p| p) };
            &mut v[range]
        }

        /// Whether the modelled memory is readable now.
        #[cfg(test)]
        pub(crate) fn is_readable(&self) -> bool {
            self.prot.load(SeqCst) != code(Protection::NoAccess) && !self.unmapped.load(SeqCst)
        }

        pub(crate) fn read<R>(
            &self,
            _ticket: &Ticket,
            range: Range<usize>,
            f: impl FnOnce(&[u8]) -> R,
        ) -> R {
            assert!(!self.unmapped.load(SeqCst), "read after unmap");
            assert_ne!(
                self.prot.load(SeqCst),
                code(Protection::NoAccess),
                "read of no-access memory"
            );
            // Counted with a guard so that a panicking action is uncounted too.
            struct Reading<'a>(&'a AtomicUsize);
            impl Drop for Reading<'_> {
                fn drop(&mut self) {
                    self.0.fetch_sub(1, SeqCst);
                }
            }
            self.readers.fetch_add(1, SeqCst);
            let _reading = Reading(&self.readers);
            // The tracked pointer lives for the whole action, so loom sees the full extent of the read (and a
            // panicking action unwinds outside loom's own bookkeeping).
            let cell = self.bytes.get();
            // SAFETY: loom checks that no mutable access (the wipe) overlaps while `cell` is alive.
            let v = unsafe { cell.deref() };
            f(&v[range])
        }

        pub(crate) fn read_exclusive<R>(
            &self,
            _token: &Destroying,
            range: Range<usize>,
            f: impl FnOnce(&[u8]) -> R,
        ) -> R {
            self.bytes.with(|p| {
                // SAFETY: loom checks that no mutable access overlaps.
                let v = unsafe { &*p };
                f(&v[range])
            })
        }

        pub(crate) fn wipe(&self, _token: &Destroying, range: Range<usize>) {
            assert_eq!(
                self.prot.load(SeqCst),
                code(Protection::ReadWrite),
                "wipe of non-writable memory"
            );
            assert_eq!(self.readers.load(SeqCst), 0, "wipe while an accessor reads");
            self.bytes.with_mut(|p| {
                // SAFETY: loom checks that no other access to the cell overlaps this one.
                let v = unsafe { &mut *p };
                v[range].fill(0);
            });
        }

        pub(crate) fn unmap(&self, _token: &Destroying) -> io::Result<()> {
            assert_eq!(
                self.readers.load(SeqCst),
                0,
                "unmap while an accessor reads"
            );
            self.unmapped.store(true, SeqCst);
            Ok(())
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::test_support::{child_mode, run_child, signal};
    use crate::{Backing, Error, MemoryKind, SecretFactory};

    #[test]
    fn page_size_is_a_power_of_two() {
        assert!(page_size().is_power_of_two());
        assert!(page_size() >= 4096);
    }

    #[test]
    fn mapping_protect_lock_and_unmap_report_success() {
        let m = Mapping::new(page_size(), Backing::Mmap).unwrap();
        m.lock(0..page_size()).unwrap();
        m.exclude_from_dumps(0..page_size()).unwrap();
        m.protect(0..page_size(), Protection::NoAccess).unwrap();
        m.protect(0..page_size(), Protection::ReadWrite).unwrap();
        m.unlock(0..page_size()).unwrap();
    }

    /// The kernel's flags for the mapping that starts at `address` (`VmFlags` in /proc/self/smaps).
    fn vm_flags(address: usize) -> Vec<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let start = format!("{address:x}-");
        let block = smaps
            .split_inclusive('\n')
            .skip_while(|line| !line.starts_with(&start))
            .take_while(|line| !line.starts_with("VmFlags:"))
            .count();
        let flags = smaps
            .lines()
            .skip_while(|line| !line.starts_with(&start))
            .nth(block)
            .unwrap_or_else(|| panic!("no smaps entry at {start}"));
        flags
            .trim_start_matches("VmFlags:")
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    /// A locked range is locked (`lo`), and with glibc locked on fault (`lf`), which spares the re-population
    /// on every access window. Locking counts the whole range at once either way (see `region`'s VmLck test).
    #[test]
    fn lock_is_taken_on_fault_with_glibc() {
        let m = Mapping::new(page_size(), Backing::Mmap).unwrap();
        m.lock(0..page_size()).unwrap();
        let flags = vm_flags(m.address());
        assert!(flags.iter().any(|f| f == "lo"), "{flags:?}");
        if cfg!(target_env = "gnu") {
            assert!(flags.iter().any(|f| f == "lf"), "{flags:?}");
        }
        m.unlock(0..page_size()).unwrap();
        assert!(!vm_flags(m.address()).iter().any(|f| f == "lo"));
    }

    #[test]
    fn mprotect_of_an_unaligned_range_reports_the_os_error() {
        let m = Mapping::new(page_size(), Backing::Mmap).unwrap();
        let err = m.protect(1..page_size(), Protection::NoAccess).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
    }

    /// The idle page really is inaccessible: a child process that reads it dies with SIGSEGV, while reading it
    /// through `with_bytes` works.
    #[test]
    fn idle_secret_page_faults_when_touched() {
        for (mode, kind) in [
            ("segv-protected", MemoryKind::Protected),
            ("segv-guarded", MemoryKind::Guarded),
        ] {
            if let Some(m) = child_mode() {
                if m == mode {
                    let secret = SecretFactory::new(kind).new_secret(&mut [7u8; 32]).unwrap();
                    assert_eq!(secret.with_bytes(|b| b[0]).unwrap(), 7);
                    let addr = secret.region().data_address();
                    // SAFETY: deliberately touching a PROT_NONE page in a throw-away child process.
                    let byte = unsafe { probe_read(addr) };
                    eprintln!("read {byte} from an idle secret: protection is broken");
                    std::process::exit(0);
                }
                continue;
            }
            let status = run_child("os::tests::idle_secret_page_faults_when_touched", mode, &[]);
            assert_eq!(
                signal(status),
                Some(libc::SIGSEGV),
                "{mode}: child status {status:?}"
            );
        }
    }

    /// An idle scratch page (see `scratch.rs`) is as inaccessible as an idle secret.
    #[test]
    fn idle_scratch_page_faults_when_touched() {
        if child_mode().as_deref() == Some("segv-scratch") {
            let addr = crate::scratch::with_scratch(32, |bytes| {
                bytes[0] = 7;
                bytes.as_ptr() as usize
            })
            .unwrap();
            // SAFETY: deliberately touching a PROT_NONE page in a throw-away child process.
            let byte = unsafe { probe_read(addr) };
            eprintln!("read {byte} from an idle scratch page: protection is broken");
            std::process::exit(0);
        }
        if child_mode().is_some() {
            return;
        }
        let status = run_child(
            "os::tests::idle_scratch_page_faults_when_touched",
            "segv-scratch",
            &[],
        );
        assert_eq!(
            signal(status),
            Some(libc::SIGSEGV),
            "child status {status:?}"
        );
    }

    /// MADV_WIPEONFORK really zeroes the page in a forked child (what `ForkSafeBuffer` relies on).
    #[test]
    fn wipe_on_fork_zeroes_the_child_copy() {
        let mut buffer = crate::ForkSafeBuffer::new(64).unwrap();
        buffer.bytes_mut().fill(0xAB);
        let addr = buffer.bytes_mut().as_ptr() as usize;
        // SAFETY: the child only reads memory and calls _exit (async-signal-safe), as required after fork in a
        // multi-threaded process.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: `addr` is mapped read-write in the child (the mapping is inherited, its contents wiped).
            let first = unsafe { probe_read(addr) };
            // SAFETY: _exit is async-signal-safe and ends the child without running the parent's destructors.
            unsafe { libc::_exit(if first == 0 { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child with a valid status pointer.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(waited, pid);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child saw the parent's bytes"
        );
        assert!(
            buffer.bytes_mut().iter().all(|&b| b == 0xAB),
            "the parent keeps its bytes"
        );
    }

    /// What memfd_secret buys: through `/proc/self/mem` (the kernel reading with FOLL_FORCE, as a debugger or
    /// root would) an idle, `PROT_NONE` mmap-backed secret page gives up its bytes, a memfd_secret one does not.
    #[test]
    fn proc_self_mem_reads_an_idle_mmap_page_but_not_a_memfd_secret_page() {
        let value = *b"thisismy32bytesecretthatiwilluse";
        for kind in [MemoryKind::Protected, MemoryKind::Guarded] {
            let plain = SecretFactory::builder()
                .kind(kind)
                .backing(Backing::Mmap)
                .build()
                .new_secret(&mut value.clone())
                .unwrap();
            let read = crate::test_support::read_proc_self_mem(plain.region().data_address(), 32);
            assert_eq!(
                read.unwrap(),
                value,
                "{kind:?}: the kernel reads through PROT_NONE"
            );
            assert_eq!(plain.backing(), Backing::Mmap);

            if !crate::test_support::memfd_secret_or_skip("proc_self_mem_..._memfd_secret_page") {
                continue;
            }
            let secret = SecretFactory::builder()
                .kind(kind)
                .backing(Backing::MemfdSecret)
                .build()
                .new_secret(&mut value.clone())
                .unwrap();
            assert_eq!(secret.backing(), Backing::MemfdSecret);
            let addr = secret.region().data_address();
            let read = crate::test_support::read_proc_self_mem(addr, 32);
            assert!(
                read.is_err(),
                "{kind:?}: memfd_secret page was readable: {read:?}"
            );
            // Still readable to its owner, inside an access.
            assert_eq!(secret.with_bytes(|b| b.to_vec()).unwrap(), value);
            let read = secret.with_bytes(|_| crate::test_support::read_proc_self_mem(addr, 32));
            assert!(
                read.unwrap().is_err(),
                "{kind:?}: readable through /proc while open"
            );
        }
    }

    /// The kernel's flags of the mapping that contains `address`.
    fn vm_flags_containing(address: usize) -> Vec<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ')
                && let Some((start, end)) = range.split_once('-')
                && let (Ok(start), Ok(end)) = (
                    usize::from_str_radix(start, 16),
                    usize::from_str_radix(end, 16),
                )
            {
                inside = (start..end).contains(&address);
            } else if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
                return flags.split_whitespace().map(str::to_owned).collect();
            }
        }
        panic!("no mapping contains {address:#x}");
    }

    /// Every secret mapping, of every kind and backing, is out of core dumps (`dd`) and out of forked children:
    /// wiped (`wf`) for mmap pages, not copied at all (`dc`) for memfd_secret pages; mmap pages are locked.
    #[test]
    fn every_secret_mapping_is_dump_excluded_and_fork_safe() {
        let mut backings = vec![Backing::Mmap];
        if crate::test_support::memfd_secret_or_skip("every_secret_mapping_... (memfd_secret)") {
            backings.push(Backing::MemfdSecret);
        }
        for backing in backings {
            for kind in [MemoryKind::Protected, MemoryKind::Guarded] {
                let factory = SecretFactory::builder().kind(kind).backing(backing).build();
                let secret = factory.create_random(32).unwrap();
                let value = factory.new_value([1u8; 64]).unwrap();
                for (what, address) in [
                    ("secret", secret.region().data_address()),
                    ("value", value.get().unwrap().as_ptr() as usize),
                ] {
                    let flags = vm_flags_containing(address);
                    let has = |f: &str| flags.iter().any(|x| x == f);
                    assert!(
                        has("dd"),
                        "{backing} {kind:?} {what}: not dump-excluded: {flags:?}"
                    );
                    match backing {
                        Backing::Mmap => {
                            assert!(has("wf"), "{kind:?} {what}: not wiped on fork: {flags:?}");
                            assert!(has("lo"), "{kind:?} {what}: not locked: {flags:?}");
                        }
                        _ => assert!(has("dc"), "{kind:?} {what}: inherited by fork: {flags:?}"),
                    }
                }
            }
        }
    }

    /// A cached value in memfd_secret pages is out of /proc/self/mem's reach too; in mmap pages it is not.
    #[test]
    fn secret_values_live_in_the_factorys_backing() {
        let schedule = [0x5Au8; 240];
        let plain = SecretFactory::builder()
            .backing(Backing::Mmap)
            .build()
            .new_value(schedule)
            .unwrap();
        let addr = plain.get().unwrap().as_ptr() as usize;
        assert_eq!(
            crate::test_support::read_proc_self_mem(addr, 240).unwrap(),
            schedule
        );
        if !crate::test_support::memfd_secret_or_skip("secret_values_live_in_the_factorys_backing")
        {
            return;
        }
        let hidden = SecretFactory::builder()
            .backing(Backing::MemfdSecret)
            .build()
            .new_value(schedule)
            .unwrap();
        assert_eq!(hidden.backing(), Backing::MemfdSecret);
        assert_eq!(*hidden.get().unwrap(), schedule);
        let addr = hidden.get().unwrap().as_ptr() as usize;
        assert!(crate::test_support::read_proc_self_mem(addr, 240).is_err());
    }

    /// Fork safety, per secret kind and backing: in a forked child every secret's bytes are zeroed (mmap,
    /// `MADV_WIPEONFORK`) or not mapped at all (memfd_secret, `MADV_DONTFORK`), and the API says so with
    /// `ForkedChild` instead of handing out what is there.
    #[test]
    fn a_forked_child_never_sees_secret_bytes() {
        let value = *b"thisismy32bytesecretthatiwilluse";
        let mut backings = vec![Backing::Mmap];
        if crate::test_support::memfd_secret_or_skip(
            "a_forked_child_never_sees_secret_bytes (memfd_secret)",
        ) {
            backings.push(Backing::MemfdSecret);
        }
        for backing in backings {
            for kind in [MemoryKind::Protected, MemoryKind::Guarded] {
                let factory = SecretFactory::builder().kind(kind).backing(backing).build();
                let secret = factory.new_secret(&mut value.clone()).unwrap();
                let cached = factory.new_value(value).unwrap();
                let secret_addr = secret.region().data_address();
                let value_addr = cached.get().unwrap().as_ptr() as usize;
                let mut buf = [0u8; 32];
                // SAFETY: the child only opens and reads /proc/self/mem (the path fits Rust's on-stack C-string
                // buffer, so nothing allocates), loads atomics and calls _exit: all safe after fork in a
                // multi-threaded process.
                let pid = unsafe { libc::fork() };
                assert!(pid >= 0, "fork failed");
                if pid == 0 {
                    let code = child_sees(secret_addr, &mut buf)
                        + child_sees(value_addr, &mut buf) * 2
                        + u8::from(!matches!(
                            secret.with_bytes(|_| ()),
                            Err(Error::ForkedChild)
                        )) * 4
                        + u8::from(!matches!(cached.get(), Err(Error::ForkedChild))) * 8;
                    // SAFETY: _exit is async-signal-safe and skips the parent's destructors.
                    unsafe { libc::_exit(i32::from(code)) };
                }
                let mut status = 0;
                // SAFETY: waiting for our own child with a valid status pointer.
                assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
                assert!(
                    libc::WIFEXITED(status),
                    "{backing} {kind:?}: child died: {status}"
                );
                assert_eq!(
                    libc::WEXITSTATUS(status),
                    0,
                    "{backing} {kind:?}: bit 1 secret bytes seen, 2 value bytes seen, 4/8 API did not refuse"
                );
                assert_eq!(
                    secret.with_bytes(|b| b.to_vec()).unwrap(),
                    value,
                    "parent keeps it"
                );
                assert_eq!(*cached.get().unwrap(), value);
            }
        }
    }

    /// 1 if the 32 bytes at `addr` can be read through /proc/self/mem and are not all zero.
    fn child_sees(addr: usize, buf: &mut [u8; 32]) -> u8 {
        use std::os::unix::fs::FileExt;
        let Ok(mem) = std::fs::File::open("/proc/self/mem") else {
            return 0;
        };
        match mem.read_exact_at(buf, addr as u64) {
            Ok(()) => u8::from(buf.iter().any(|&b| b != 0)),
            Err(_) => 0,
        }
    }

    /// `Wiped` runs the value's destructor exactly once and still derefs to the value before that.
    #[test]
    fn wiped_values_drop_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        struct Key([u8; 16]);
        impl Drop for Key {
            fn drop(&mut self) {
                DROPS.fetch_add(1, Ordering::SeqCst);
            }
        }
        let mut wiped = Wiped::new(Key([7; 16]));
        assert_eq!(wiped.0, [7; 16]);
        wiped.0[0] = 1;
        assert_eq!(wiped.0[0], 1);
        drop(wiped);
        assert_eq!(DROPS.load(Ordering::SeqCst), 1);
        assert_eq!(format!("{:?}", Wiped::new(Key([1; 16]))), "Wiped(..)");
    }

    #[test]
    fn open_secret_page_is_readable_by_address() {
        let secret = SecretFactory::new(MemoryKind::Protected)
            .new_secret(&mut [9u8; 32])
            .unwrap();
        let addr = secret.region().data_address();
        // SAFETY: the window is open while the closure runs, so the page is readable.
        let byte = secret.with_bytes(|_| unsafe { probe_read(addr) }).unwrap();
        assert_eq!(byte, 9);
    }
}
