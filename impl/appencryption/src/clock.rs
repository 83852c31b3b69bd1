//! Injected time, so expiry and rotation can be tested without sleeping
//! (docs/architecture.md#injected-clock-and-randomness).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time, and of monotonic time for intervals.
pub trait Clock: Send + Sync + 'static {
    /// Time since the unix epoch. Sub-second precision matters for expiry checks
    /// (docs/compatibility.md#expiry-and-revocation).
    fn now(&self) -> Duration;

    /// Time on a clock that never steps backwards or jumps with the wall clock, from an arbitrary origin. The key
    /// caches measure their revoke-check interval and the lifetime of a failed-load entry with it, so setting the
    /// system clock back never delays the re-read that notices a revoked key.
    ///
    /// The default is [`now`](Self::now), which suits a fake clock driven by a test (one time line for
    /// everything); the system clocks override it with the kernel's monotonic clock.
    fn monotonic(&self) -> Duration {
        self.now()
    }

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
        // A clock before 1970 is a broken machine; treat it as the epoch rather than failing every call.
        timespec_duration(rustix::time::clock_gettime(
            rustix::time::ClockId::RealtimeCoarse,
        ))
    }

    #[cfg(not(target_os = "linux"))]
    fn now(&self) -> Duration {
        PreciseSystemClock.now()
    }

    /// The coarse monotonic clock (`CLOCK_MONOTONIC_COARSE`) on Linux, for the same reason as the coarse wall
    /// clock: a few nanoseconds per read, at most a tick behind.
    #[cfg(target_os = "linux")]
    fn monotonic(&self) -> Duration {
        timespec_duration(rustix::time::clock_gettime(
            rustix::time::ClockId::MonotonicCoarse,
        ))
    }

    #[cfg(not(target_os = "linux"))]
    fn monotonic(&self) -> Duration {
        PreciseSystemClock.monotonic()
    }
}

/// A `timespec` from the kernel as a duration; negative (impossible for these clocks) reads as zero.
#[cfg(target_os = "linux")]
fn timespec_duration(ts: rustix::time::Timespec) -> Duration {
    match (u64::try_from(ts.tv_sec), u32::try_from(ts.tv_nsec)) {
        (Ok(secs), Ok(nanos)) => Duration::new(secs, nanos),
        _ => Duration::ZERO,
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

    /// Time since the first call in this process, on [`Instant`](std::time::Instant) (the OS monotonic clock).
    fn monotonic(&self) -> Duration {
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        ORIGIN.get_or_init(std::time::Instant::now).elapsed()
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

    /// Both monotonic clocks run forwards at the wall clock's rate (to within a tick plus scheduling).
    #[test]
    fn monotonic_clocks_advance() {
        for clock in [&SystemClock as &dyn Clock, &PreciseSystemClock] {
            let (mono, wall) = (clock.monotonic(), PreciseSystemClock.now());
            std::thread::sleep(Duration::from_millis(30));
            let (mono_gone, wall_gone) = (
                clock.monotonic() - mono,
                PreciseSystemClock.now().saturating_sub(wall),
            );
            assert!(mono_gone >= Duration::from_millis(20), "{mono_gone:?}");
            assert!(
                mono_gone <= wall_gone + Duration::from_millis(20),
                "{mono_gone:?} vs {wall_gone:?}"
            );
        }
    }
}
