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

#[cfg(not(loom))]
use crate::scratch::Lease;
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

#[cfg(not(loom))]
pub(crate) use real::{Mapping, page_size};

#[cfg(loom)]
pub(crate) use model::{Mapping, page_size};

#[cfg(not(loom))]
mod real {
    use super::*;
    use std::ptr::NonNull;
    // Not through the loom shim: this flag only guards the real munmap, which loom never runs.
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};

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
        /// Set once the mapping is gone; guards against a second munmap from `Drop`.
        unmapped: AtomicBool,
    }

    // SAFETY: the mapping is plain memory owned by this value; all shared-access methods either need a
    // state-machine token (which serialises readers against writers) or only change page protection.
    unsafe impl Send for Mapping {}
    // SAFETY: as for Send; concurrent `read` calls only create shared slices of memory nobody writes meanwhile.
    unsafe impl Sync for Mapping {}

    impl Mapping {
        /// Map `len` bytes (a multiple of the page size), readable and writable.
        pub(crate) fn new(len: usize) -> io::Result<Mapping> {
            debug_assert!(len > 0 && len.is_multiple_of(page_size()));
            // SAFETY: an anonymous private mapping at an address of the kernel's choosing aliases no existing
            // memory; the arguments are valid for MAP_ANONYMOUS (fd -1, offset 0).
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if ptr == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            let ptr = NonNull::new(ptr.cast::<u8>())
                .ok_or_else(|| io::Error::other("mmap returned null"))?;
            Ok(Mapping {
                ptr,
                len,
                unmapped: AtomicBool::new(false),
            })
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

        /// The bytes of a scratch slot, writable for as long as the lease is borrowed. The scratch pool made the
        /// slot's page read-write before handing the lease out.
        pub(crate) fn leased_bytes<'l>(&self, lease: &'l mut Lease) -> &'l mut [u8] {
            let range = lease.range();
            self.check(&range);
            // SAFETY: in bounds (checked). The pool mints at most one `Lease` per slot at a time and never lets a
            // slot range overlap another, so the `&mut Lease` borrow is the only way to reach these bytes; the
            // mapping lives for the whole process (pool chunks are never unmapped). A page left no-access would
            // fault, not corrupt memory.
            unsafe {
                std::slice::from_raw_parts_mut(
                    self.ptr.as_ptr().wrapping_add(range.start),
                    range.len(),
                )
            }
        }

        /// Start address, for tests that prove the page faults while idle.
        #[cfg(test)]
        pub(crate) fn address(&self) -> usize {
            self.ptr.as_ptr() as usize
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
        pub(crate) fn new(len: usize) -> io::Result<Mapping> {
            Ok(Mapping {
                bytes: UnsafeCell::new(vec![0; len]),
                prot: AtomicU8::new(code(Protection::ReadWrite)),
                readers: AtomicUsize::new(0),
                unmapped: AtomicBool::new(false),
            })
        }

        pub(crate) fn protect(&self, _range: Range<usize>, prot: Protection) -> io::Result<()> {
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
    use crate::{MemoryKind, SecretFactory};

    #[test]
    fn page_size_is_a_power_of_two() {
        assert!(page_size().is_power_of_two());
        assert!(page_size() >= 4096);
    }

    #[test]
    fn mapping_protect_lock_and_unmap_report_success() {
        let m = Mapping::new(page_size()).unwrap();
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
        let m = Mapping::new(page_size()).unwrap();
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
        let m = Mapping::new(page_size()).unwrap();
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
