//! Go-named timers through the `metrics` facade (docs/compatibility.md#metrics): `ael.drr.encrypt` and
//! `ael.drr.decrypt` around a session's operations, and a drop timer for the backends' calls. Without an installed
//! recorder every timer here costs nothing beyond a check.

use std::time::Instant;

/// Whether a `metrics` recorder is installed. The facade's no-op recorder is a zero-sized type and real
/// recorders hold state, so a zero-sized recorder is taken to be the no-op one: with none installed an operation
/// then skips its two clock reads, which is what makes the timers free for applications that do not collect
/// metrics.
pub(crate) fn recorder_installed() -> bool {
    ::metrics::with_recorder(|recorder| std::mem::size_of_val(recorder) != 0)
}

/// Start a session timer: `Some(start)` only when metrics are on.
pub(crate) fn start_timer(enabled: bool) -> Option<Instant> {
    enabled.then(Instant::now)
}

/// Record a session timer started by [`start_timer`] into the histogram `name` (a no-op when it was not started).
pub(crate) fn record_timer(name: &'static str, started: Option<Instant>) {
    if let Some(started) = started {
        ::metrics::histogram!(name).record(started.elapsed());
    }
}

/// Records the elapsed time (seconds) into a `metrics` histogram when dropped, so failed and cancelled calls are
/// timed too (Go's `defer timer.UpdateSince(start)`). Without an installed recorder this is a no-op.
#[cfg(any(
    feature = "sqlite",
    feature = "mysql",
    feature = "postgres",
    feature = "dynamodb",
    feature = "aws-kms"
))]
pub(crate) struct Timer {
    name: ::metrics::SharedString,
    start: Instant,
}

#[cfg(any(
    feature = "sqlite",
    feature = "mysql",
    feature = "postgres",
    feature = "dynamodb",
    feature = "aws-kms"
))]
impl Timer {
    /// Start timing into the histogram `name`.
    pub(crate) fn start(name: impl Into<::metrics::SharedString>) -> Self {
        Self {
            name: name.into(),
            start: Instant::now(),
        }
    }
}

#[cfg(any(
    feature = "sqlite",
    feature = "mysql",
    feature = "postgres",
    feature = "dynamodb",
    feature = "aws-kms"
))]
impl Drop for Timer {
    fn drop(&mut self) {
        ::metrics::histogram!(self.name.clone()).record(self.start.elapsed());
    }
}
