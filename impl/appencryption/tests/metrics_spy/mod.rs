//! A `metrics` recorder for tests: every histogram sample, with its name, goes down a channel.

use std::sync::Arc;
use std::sync::mpsc;

/// A recorder that forwards every histogram sample, with its name, down a channel.
pub(crate) struct HistogramSpy(pub(crate) mpsc::Sender<(String, f64)>);

struct SpyHistogram {
    name: String,
    tx: mpsc::Sender<(String, f64)>,
}

impl metrics::HistogramFn for SpyHistogram {
    fn record(&self, value: f64) {
        let _ = self.tx.send((self.name.clone(), value));
    }
}

impl metrics::Recorder for HistogramSpy {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::noop()
    }
    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }
    fn register_histogram(
        &self,
        key: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::from_arc(Arc::new(SpyHistogram {
            name: key.name().to_owned(),
            tx: self.0.clone(),
        }))
    }
}
