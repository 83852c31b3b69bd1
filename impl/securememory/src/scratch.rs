//! Scratch pages: secure memory for a secret that lives for one call, such as a data-row key during one encrypt.
//!
//! A [`Secret`](crate::Secret) pays `mmap` + `mlock` + `mprotect` to be born and `mprotect` + `munlock` + `munmap`
//! to die: about 35 µs here, most of a Go-style encrypt. A secret that exists only inside one call does not need
//! its own mapping. The scratch pool keeps pages that are already locked, excluded from core dumps, wiped in
//! forked children and no-access; [`with_scratch`] takes one, makes it writable, runs the caller's closure on it,
//! wipes what the closure could have written, makes the page no-access again and puts it back. One protection
//! window, two `mprotect` calls, instead of a secret's seven system calls.
//!
//! Layout: chunks of [`SLOTS_PER_CHUNK`] slots, each slot one page with a no-access guard page on either side,
//! so an overrun from one slot faults instead of reaching another caller's key. Chunks are never unmapped: the
//! pool grows to the largest number of scratch secrets alive at once and keeps those pages for the life of the
//! process (16 locked pages per chunk, counted against `RLIMIT_MEMLOCK`).

use std::ops::Range;
use std::sync::OnceLock;

use zeroize::Zeroize;

use crate::error::Error;
use crate::fork_safe::fork_safe_mapping;
use crate::os::{Lease, Protection, page_size};
use crate::sync::Mutex;

/// Slots mapped and locked together when the pool runs dry.
const SLOTS_PER_CHUNK: usize = 16;

/// Forks deep (child of a child of …) that still get a pool of their own.
const MAX_FORK_GENERATIONS: usize = 8;

/// Free slots, process-wide: one pool per fork generation. A forked child never touches the pool it inherited:
/// another thread of the parent may have held its lock at the moment of `fork`, and that thread does not exist
/// in the child, so the lock would never be released. The child starts a pool of its own instead (the inherited
/// pages are zeroed there by `MADV_WIPEONFORK` and simply left alone).
fn free_slots() -> Result<&'static Mutex<Vec<Lease>>, Error> {
    static FREE: [OnceLock<Mutex<Vec<Lease>>>; MAX_FORK_GENERATIONS] =
        [const { OnceLock::new() }; MAX_FORK_GENERATIONS];
    let generation = usize::try_from(crate::os::fork_generation()).unwrap_or(usize::MAX);
    let pool = FREE.get(generation).ok_or(Error::ForkedChild)?;
    Ok(pool.get_or_init(|| Mutex::new(Vec::new())))
}

/// Map, lock and seal a new chunk; its slots, as leases.
fn new_chunk() -> Result<Vec<Lease>, Error> {
    let page = page_size();
    let total = (2 * SLOTS_PER_CHUNK + 1) * page;
    let mapping = fork_safe_mapping(total)?;
    let pages: Vec<Range<usize>> = (0..SLOTS_PER_CHUNK)
        .map(|slot| {
            let start = (2 * slot + 1) * page;
            start..start + page
        })
        .collect();
    for range in &pages {
        mapping.lock(range.clone()).map_err(|source| Error::Lock {
            size: SLOTS_PER_CHUNK * page,
            source,
        })?;
    }
    mapping
        .protect(0..total, Protection::NoAccess)
        .map_err(Error::MarkNoAccess)?;
    // On any failure above, dropping `mapping` unmaps it (which also unlocks). From here on it lives forever.
    Ok(Lease::carve(mapping, pages))
}

fn take() -> Result<Lease, Error> {
    let mut free = free_slots()?.lock();
    if let Some(lease) = free.pop() {
        return Ok(lease);
    }
    let mut chunk = new_chunk()?;
    let lease = chunk
        .pop()
        .unwrap_or_else(|| unreachable!("a chunk has slots"));
    free.append(&mut chunk);
    Ok(lease)
}

fn give_back(lease: Lease) {
    // Only fails beyond MAX_FORK_GENERATIONS, where no lease can have been taken.
    if let Ok(free) = free_slots() {
        free.lock().push(lease);
    }
}

/// A writable leased slot. Dropping it (also while unwinding from a panic in the caller's closure) wipes the
/// bytes the closure could reach and seals the page; [`OpenSlot::close`] does the same and reports a failure.
struct OpenSlot {
    lease: Option<Lease>,
    len: usize,
}

impl OpenSlot {
    fn bytes(&mut self) -> &mut [u8] {
        let len = self.len;
        let lease = self
            .lease
            .as_mut()
            .unwrap_or_else(|| unreachable!("open until closed"));
        &mut lease.bytes()[..len]
    }

    fn seal(&mut self) -> Result<(), Error> {
        self.bytes().zeroize();
        let Some(lease) = self.lease.take() else {
            return Ok(());
        };
        match lease.mapping().protect(lease.range(), Protection::NoAccess) {
            Ok(()) => {
                give_back(lease);
                Ok(())
            }
            // The page is zeroed but may still be readable: never hand it out again.
            Err(e) => Err(Error::MarkNoAccess(e)),
        }
    }

    fn close(mut self) -> Result<(), Error> {
        self.seal()
    }
}

impl Drop for OpenSlot {
    fn drop(&mut self) {
        if self.lease.is_some() {
            let _ = self.seal();
        }
    }
}

/// Run `f` on `len` zeroed, writable bytes of a locked scratch page, then wipe them and seal the page.
pub(crate) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Result<R, Error> {
    let max = page_size();
    if len == 0 || len > max {
        return Err(Error::ScratchLength { len, max });
    }
    let lease = take()?;
    if let Err(e) = lease
        .mapping()
        .protect(lease.range(), Protection::ReadWrite)
    {
        give_back(lease);
        return Err(Error::MarkReadWrite(e));
    }
    let mut open = OpenSlot {
        lease: Some(lease),
        len,
    };
    let result = f(open.bytes());
    open.close()?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_bytes_start_zeroed_and_are_wiped_after_use() {
        for round in 0..3 * SLOTS_PER_CHUNK {
            let seen = with_scratch(64, |bytes| {
                let was_zero = bytes.iter().all(|&b| b == 0);
                bytes.fill(0xA5);
                was_zero
            })
            .unwrap();
            assert!(
                seen,
                "round {round}: a reused slot still held the last caller's bytes"
            );
        }
    }

    #[test]
    fn lengths_outside_one_page_are_refused() {
        assert!(matches!(
            with_scratch(0, |_| ()),
            Err(Error::ScratchLength { len: 0, .. })
        ));
        let too_big = page_size() + 1;
        assert!(matches!(
            with_scratch(too_big, |_| ()),
            Err(Error::ScratchLength { len, .. }) if len == too_big
        ));
        assert_eq!(with_scratch(page_size(), |b| b.len()).unwrap(), page_size());
    }

    #[test]
    fn nested_scratch_scopes_get_distinct_pages() {
        let (outer, inner) = with_scratch(32, |a| {
            a.fill(1);
            let inner = with_scratch(32, |b| {
                b.fill(2);
                b.as_ptr() as usize
            })
            .unwrap();
            assert!(
                a.iter().all(|&x| x == 1),
                "the inner scope wrote into the outer one's slot"
            );
            (a.as_ptr() as usize, inner)
        })
        .unwrap();
        assert!(outer.abs_diff(inner) >= 2 * page_size());
    }

    #[test]
    fn a_panicking_closure_still_wipes_and_returns_the_slot() {
        let address = std::panic::catch_unwind(|| {
            with_scratch(32, |bytes| {
                bytes.fill(0xFF);
                std::panic::panic_any(bytes.as_ptr() as usize)
            })
        })
        .unwrap_err();
        let address = *address.downcast::<usize>().unwrap();
        // The slot is back in the pool, sealed and zeroed; whoever gets it next sees zeros.
        for _ in 0..2 * SLOTS_PER_CHUNK {
            with_scratch(32, |bytes| assert!(bytes.iter().all(|&b| b == 0))).unwrap();
        }
        assert_ne!(address, 0);
    }

    /// A fork while another thread holds the pool's lock: the child's first `with_scratch` neither deadlocks
    /// nor touches the inherited pool, it gets a page from a pool of its own.
    #[test]
    fn a_child_forked_while_the_pool_is_locked_still_gets_scratch() {
        with_scratch(32, |_| ()).unwrap(); // the parent's pool exists
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let holder = std::thread::spawn(move || {
            let _guard = free_slots().unwrap().lock();
            locked_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        });
        locked_rx.recv().unwrap();
        let status = crate::os::fork_and_wait(std::time::Duration::from_secs(10), || {
            with_scratch(32, |bytes| {
                bytes.fill(3);
                bytes.iter().all(|&b| b == 3)
            })
            .is_ok_and(|ok| ok)
        });
        release_tx.send(()).unwrap();
        holder.join().unwrap();
        assert_eq!(status, Some(true), "child deadlocked (None) or failed");
    }

    #[test]
    fn many_threads_never_share_a_slot() {
        let handles: Vec<_> = (0..8u8)
            .map(|t| {
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        with_scratch(48, |bytes| {
                            assert!(bytes.iter().all(|&b| b == 0));
                            bytes.fill(t + 1);
                            std::thread::yield_now();
                            assert!(
                                bytes.iter().all(|&b| b == t + 1),
                                "another thread wrote here"
                            );
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}
