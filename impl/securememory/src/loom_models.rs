//! Loom models of the access state machine, run on the crate's real `Secret` (with the OS layer modelled in
//! `os::model`). Run with `RUSTFLAGS="--cfg loom" cargo test -p securememory --release --lib loom_`.

use crate::loom_support::model;
use loom::sync::Arc;
use loom::thread;

use crate::{MemoryKind, Secret, SecretFactory};

fn secret() -> Arc<Secret> {
    let factory = SecretFactory::builder()
        .kind(MemoryKind::Protected)
        .disable_core_dumps(false)
        .build();
    Arc::new(factory.new_secret(&mut [1, 2, 3, 4]).unwrap())
}

fn read_checked(s: &Secret) -> Result<u8, crate::Error> {
    s.with_bytes(|b| {
        assert!(s.debug_is_readable(), "accessor saw no-access memory");
        assert!(
            s.debug_state().0 >= 1 && s.debug_state().1,
            "accessor not counted in the window"
        );
        b[0]
    })
}

#[test]
fn loom_readers_share_a_window_that_is_readable_exactly_while_in_flight() {
    model(|| {
        let s = secret();
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let s = Arc::clone(&s);
                thread::spawn(move || assert_eq!(read_checked(&s).unwrap(), 1))
            })
            .collect();
        assert_eq!(read_checked(&s).unwrap(), 1);
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(s.debug_state(), (0, false));
        assert!(
            !s.debug_is_readable(),
            "memory left readable with no accessor"
        );
    });
}

#[test]
fn loom_close_racing_with_accesses_never_touches_freed_memory() {
    model(|| {
        let s = secret();
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let s = Arc::clone(&s);
                thread::spawn(move || match read_checked(&s) {
                    Ok(v) => assert_eq!(v, 1),
                    Err(e) => assert!(e.is_closed(), "unexpected error {e}"),
                })
            })
            .collect();
        s.close().unwrap();
        assert!(s.is_closed());
        for h in readers {
            h.join().unwrap();
        }
        assert!(read_checked(&s).unwrap_err().is_closed());
        assert_eq!(s.debug_state().0, 0);
    });
}

#[test]
fn loom_concurrent_closers_destroy_once_and_both_return() {
    model(|| {
        let s = secret();
        let other = {
            let s = Arc::clone(&s);
            thread::spawn(move || s.close().unwrap())
        };
        let reader = {
            let s = Arc::clone(&s);
            thread::spawn(move || {
                let _ = read_checked(&s);
            })
        };
        s.close().unwrap();
        other.join().unwrap();
        reader.join().unwrap();
        assert!(s.is_closed());
    });
}

#[test]
fn loom_panicking_accessor_leaves_a_consistent_state() {
    // Each explored interleaving panics once on purpose; keep the output readable.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"action failed") {
            default_hook(info);
        }
    }));
    model(|| {
        let s = secret();
        let panicker = {
            let s = Arc::clone(&s);
            thread::spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let _ = s.with_bytes(|_| panic!("action failed"));
                }));
                assert!(r.is_err());
            })
        };
        assert_eq!(read_checked(&s).unwrap(), 1);
        panicker.join().unwrap();
        assert_eq!(s.debug_state(), (0, false));
        assert!(!s.debug_is_readable());
        s.close().unwrap();
        assert!(s.is_closed());
    });
}

/// The grace of a shared window: two accessors, each reading twice, so that the last one out of a shared window
/// waits for a joiner; whatever the interleaving, every read sees readable memory and the window is shut once
/// both are done. A close racing with the grace cuts it short and still destroys once.
#[test]
fn loom_grace_of_a_shared_window_ends_shut_and_yields_to_close() {
    model(|| {
        let s = secret();
        let other = {
            let s = Arc::clone(&s);
            thread::spawn(move || {
                for _ in 0..2 {
                    assert_eq!(read_checked(&s).unwrap(), 1);
                }
            })
        };
        for _ in 0..2 {
            assert_eq!(read_checked(&s).unwrap(), 1);
        }
        other.join().unwrap();
        assert_eq!(s.debug_state(), (0, false));
        assert!(!s.debug_is_readable(), "grace left the memory readable");
        let closer = {
            let s = Arc::clone(&s);
            thread::spawn(move || s.close().unwrap())
        };
        match read_checked(&s) {
            Ok(v) => assert_eq!(v, 1),
            Err(e) => assert!(e.is_closed(), "unexpected error {e}"),
        }
        closer.join().unwrap();
        assert!(s.is_closed());
    });
}
