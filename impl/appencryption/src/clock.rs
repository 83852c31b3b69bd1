//! Injected time, so expiry and rotation can be tested without sleeping (architecture decision 5).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time.
pub trait Clock: Send + Sync + 'static {
    /// Time since the unix epoch. Sub-second precision matters for expiry checks (spec §1.4).
    fn now(&self) -> Duration;

    /// Whole unix seconds, floored.
    fn now_unix(&self) -> i64 {
        i64::try_from(self.now().as_secs()).unwrap_or(i64::MAX)
    }
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        // A clock before 1970 is a broken machine; treat it as the epoch rather than failing every call.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    }
}
