//! The loom runner shared by every crate's loom models (built only under `--cfg loom`): a preemption bound of 3
//! unless `LOOM_MAX_PREEMPTIONS` sets one, and a count of the interleavings explored, printed for `lab audit`.

/// Check `f` under loom and print how many interleavings were explored (run the tests with `--nocapture`).
pub fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    // Interleavings explored, counted outside the model (a std atomic loom does not see) and printed for
    // `lab audit` (run with --nocapture).
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&runs);
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    println!(
        "loom-model: {} explored {} interleavings (preemption bound {:?})",
        std::thread::current().name().unwrap_or("?"),
        runs.load(std::sync::atomic::Ordering::Relaxed),
        builder.preemption_bound
    );
}
