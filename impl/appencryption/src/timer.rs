//! A drop timer for the backends' Go-named `metrics` histograms (spec §7.3).

use std::time::Instant;

/// Records the elapsed time (seconds) into a `metrics` histogram when dropped, so failed and cancelled calls are
/// timed too (Go's `defer timer.UpdateSince(start)`). Without an installed recorder this is a no-op.
pub(crate) struct Timer {
    name: metrics::SharedString,
    start: Instant,
}

impl Timer {
    /// Start timing into the histogram `name`.
    pub(crate) fn start(name: impl Into<metrics::SharedString>) -> Self {
        Self {
            name: name.into(),
            start: Instant::now(),
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        metrics::histogram!(self.name.clone()).record(self.start.elapsed());
    }
}
