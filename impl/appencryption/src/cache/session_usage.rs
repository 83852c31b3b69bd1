//! How many callers use a cached session, so that an evicted session is closed only once the last of them is done
//! (docs/compatibility.md#session-cache), and so that a lookup racing with that close never hands out a session
//! being closed.

use crate::sync::{Condvar, Mutex};

/// The users of one cached session and the state of its eviction.
#[derive(Debug, Default)]
pub(crate) struct SessionUsage {
    state: Mutex<State>,
    /// Signalled when the last user leaves while an eviction waits for it.
    released: Condvar,
}

#[derive(Debug, Default)]
struct State {
    users: usize,
    /// An eviction is waiting in [`SessionUsage::wait_until_unused`]. Only then does a release signal: a condvar
    /// notification costs a futex system call even with nobody waiting, which was three quarters of a session-cache
    /// hit (get + drop of a cached session).
    closer_waiting: bool,
    /// An eviction saw no users and is closing the session: no new user may join.
    closing: bool,
}

impl SessionUsage {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Count a new user, unless the session is already being closed (then `false`: look it up again, as a new
    /// session).
    pub(crate) fn try_acquire(&self) -> bool {
        let mut state = self.state.lock();
        if state.closing {
            return false;
        }
        state.users += 1;
        true
    }

    /// A user is done.
    pub(crate) fn release(&self) {
        let mut state = self.state.lock();
        state.users = state.users.saturating_sub(1);
        if state.users == 0 && state.closer_waiting {
            self.released.notify_all();
        }
    }

    /// Wait until no user is left, and from then on refuse new ones. The caller then closes the session.
    pub(crate) fn wait_until_unused(&self) {
        let mut state = self.state.lock();
        while state.users > 0 {
            state.closer_waiting = true;
            state = self.released.wait(state);
        }
        state.closer_waiting = false;
        state.closing = true;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_closing_session_takes_no_new_users() {
        let usage = SessionUsage::new();
        assert!(usage.try_acquire());
        usage.release();
        usage.wait_until_unused();
        assert!(!usage.try_acquire());
    }

    #[test]
    fn the_closer_waits_for_the_last_user() {
        let usage = Arc::new(SessionUsage::new());
        assert!(usage.try_acquire());
        assert!(usage.try_acquire());
        let (done, closed) = mpsc::channel();
        let closer = {
            let usage = Arc::clone(&usage);
            std::thread::spawn(move || {
                usage.wait_until_unused();
                done.send(()).unwrap();
            })
        };
        usage.release();
        assert!(
            closed.recv_timeout(Duration::from_millis(50)).is_err(),
            "one user is left"
        );
        usage.release();
        closed
            .recv_timeout(Duration::from_secs(10))
            .expect("closer woke up");
        closer.join().unwrap();
    }
}
