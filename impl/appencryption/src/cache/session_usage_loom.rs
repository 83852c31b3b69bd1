//! Loom models of a cached session's usage count (the real `SessionUsage`, on the shim's mutex and condvar). Run
//! with `RUSTFLAGS="--cfg loom" cargo test -p appencryption --no-default-features --release --lib _loom::`.

use securememory::loom_support::model;
use std::sync::Arc;

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;

use super::session_usage::SessionUsage;

/// A lookup racing with an eviction either joins before the close (and the close waits for it) or is refused:
/// nobody uses a closed session.
#[test]
fn loom_no_user_joins_a_closing_session() {
    model(|| {
        let usage = Arc::new(SessionUsage::new());
        let closed = Arc::new(AtomicBool::new(false));
        let user = {
            let (usage, closed) = (Arc::clone(&usage), Arc::clone(&closed));
            thread::spawn(move || {
                if usage.try_acquire() {
                    assert!(!closed.load(Ordering::SeqCst), "used after close");
                    usage.release();
                }
            })
        };
        usage.wait_until_unused();
        closed.store(true, Ordering::SeqCst);
        user.join().unwrap();
        assert!(!usage.try_acquire());
    });
}

/// The last release wakes a waiting closer: no lost wake-up (loom reports a deadlock otherwise).
#[test]
fn loom_last_release_wakes_the_closer() {
    model(|| {
        let usage = Arc::new(SessionUsage::new());
        assert!(usage.try_acquire());
        assert!(usage.try_acquire());
        let other = {
            let usage = Arc::clone(&usage);
            thread::spawn(move || usage.release())
        };
        let closer = {
            let usage = Arc::clone(&usage);
            thread::spawn(move || usage.wait_until_unused())
        };
        usage.release();
        other.join().unwrap();
        closer.join().unwrap();
        assert!(!usage.try_acquire());
    });
}
