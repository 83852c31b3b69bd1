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

/// The real clock, as the factory uses it by default: the kernel's coarse wall clock on Linux
/// (`CLOCK_REALTIME_COARSE`), [`SystemTime::now`] elsewhere.
///
/// The coarse clock is the time of the last scheduler tick, so it lags the precise clock by at most one tick
/// (1–4 ms on common kernels) and costs a few nanoseconds instead of the 25–40 of a precise read. Every cached
/// encrypt and decrypt reads the clock once (to judge the cached key's revoke-check interval and expiry), which
/// made the precise read about 5 % of a hot decrypt. The lag only shifts those judgements by at most a tick against
/// intervals of minutes to days; key `Created` values are whole seconds (or minutes) either way. Use
/// [`PreciseSystemClock`] if a tick matters to you.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[cfg(target_os = "linux")]
    fn now(&self) -> Duration {
        let ts = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
        // A clock before 1970 is a broken machine; treat it as the epoch rather than failing every call.
        match (u64::try_from(ts.tv_sec), u32::try_from(ts.tv_nsec)) {
            (Ok(secs), Ok(nanos)) => Duration::new(secs, nanos),
            _ => Duration::ZERO,
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn now(&self) -> Duration {
        PreciseSystemClock.now()
    }
}

/// The wall clock at full precision ([`SystemTime::now`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct PreciseSystemClock;

impl Clock for PreciseSystemClock {
    fn now(&self) -> Duration {
        // A clock before 1970 is a broken machine; treat it as the epoch rather than failing every call.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The coarse clock agrees with the precise one to within a scheduler tick (allowing generously for a
    /// preempted test thread), and never runs backwards.
    #[test]
    fn system_clock_tracks_the_precise_clock() {
        let mut previous = SystemClock.now();
        for _ in 0..1000 {
            let before = PreciseSystemClock.now();
            let coarse = SystemClock.now();
            let after = PreciseSystemClock.now();
            assert!(coarse >= previous, "coarse clock ran backwards");
            assert!(
                coarse <= after,
                "coarse {coarse:?} is ahead of precise {after:?}"
            );
            assert!(
                before.saturating_sub(coarse) < Duration::from_millis(100),
                "coarse {coarse:?} lags precise {before:?} by more than 100 ms"
            );
            previous = coarse;
        }
    }
}
