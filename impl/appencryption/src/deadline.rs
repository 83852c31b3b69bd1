//! Deadlines on backend calls: every metastore and KMS call a factory makes goes through [`DeadlineMetastore`] or
//! [`DeadlineKms`], which abandon it after the policy's `backend_call_deadline` with [`Error::Deadline`].
//!
//! A hung backend (a database that accepts connections but never answers, a KMS endpoint behind a partition) then
//! costs the caller at most the deadline, and, because the key caches gate loads per key (`cache/load_gates.rs`),
//! it holds up only the loads of the keys that need that call. The abandoned future is dropped: a driver's
//! request in flight is cancelled with it, and nothing is cached for the key.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use async_trait::async_trait;

use crate::{EnvelopeKeyRecord, Error, KeyManagementService, Metastore};

/// `call`'s output, or `None` if it has not finished within `deadline` (then `call` is dropped, cancelling it).
///
/// The timer runs on the crate's own runtime (the one the blocking API drives I/O on), not on the caller's: a
/// caller's runtime built without its timer (`enable_time`) would make `tokio::time::timeout` panic, and a
/// deadline must work for every caller. One spawned sleep per backend call, which only cache misses make.
pub(crate) async fn race<T>(
    deadline: Duration,
    call: impl Future<Output = T>,
) -> Result<Option<T>, Error> {
    /// Cancels the timer when the call wins (or the caller gives up), so no sleep outlives its call.
    struct Timer(tokio::task::JoinHandle<()>);
    impl Drop for Timer {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    // The deadline counts from now, the call's start, even if the timer task first runs later (a busy runtime);
    // the sleep itself is created inside the task, on the crate's runtime (creating it here would use the caller's).
    // (std's clock, not tokio's: a caller's runtime with a paused test clock must not move it. A deadline too far
    // out to add to now never runs out, as tokio's `sleep` treats it.)
    let until = std::time::Instant::now()
        .checked_add(deadline)
        .map(tokio::time::Instant::from_std);
    let mut timer = Timer(crate::blocking::runtime()?.spawn(async move {
        match until {
            Some(until) => tokio::time::sleep_until(until).await,
            None => tokio::time::sleep(deadline).await,
        }
    }));
    let mut call = pin!(call);
    Ok(std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = call.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        // The sleep finished (or, impossibly for a runtime that lives as long as the process, was cancelled).
        std::pin::Pin::new(&mut timer.0).poll(cx).map(|_| None)
    })
    .await)
}

/// `call`, or [`Error::Deadline`] if it has not finished within `deadline` (logged and counted as
/// `ael.backend.deadline_exceeded{operation}`).
pub(crate) async fn within<T>(
    operation: &'static str,
    deadline: Duration,
    call: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match race(deadline, call).await? {
        Some(result) => result,
        None => {
            tracing::warn!(operation, ?deadline, "backend call missed its deadline");
            metrics::counter!("ael.backend.deadline_exceeded", "operation" => operation)
                .increment(1);
            Err(Error::Deadline {
                operation,
                deadline,
            })
        }
    }
}

/// A metastore whose every call has a deadline.
pub(crate) struct DeadlineMetastore {
    inner: Arc<dyn Metastore>,
    deadline: Duration,
}

impl DeadlineMetastore {
    pub(crate) fn new(inner: Arc<dyn Metastore>, deadline: Duration) -> Self {
        Self { inner, deadline }
    }
}

#[async_trait]
impl Metastore for DeadlineMetastore {
    async fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        within(
            "metastore load",
            self.deadline,
            self.inner.load(id, created),
        )
        .await
    }

    async fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        within(
            "metastore load_latest",
            self.deadline,
            self.inner.load_latest(id),
        )
        .await
    }

    async fn store(
        &self,
        id: &str,
        created: i64,
        record: &EnvelopeKeyRecord,
    ) -> Result<bool, Error> {
        within(
            "metastore store",
            self.deadline,
            self.inner.store(id, created, record),
        )
        .await
    }

    fn region_suffix(&self) -> Option<&str> {
        self.inner.region_suffix()
    }
}

/// A KMS whose every call has a deadline.
pub(crate) struct DeadlineKms {
    inner: Arc<dyn KeyManagementService>,
    deadline: Duration,
}

impl DeadlineKms {
    pub(crate) fn new(inner: Arc<dyn KeyManagementService>, deadline: Duration) -> Self {
        Self { inner, deadline }
    }
}

#[async_trait]
impl KeyManagementService for DeadlineKms {
    async fn encrypt_key(&self, key: &[u8]) -> Result<Vec<u8>, Error> {
        within(
            "KMS encrypt_key",
            self.deadline,
            self.inner.encrypt_key(key),
        )
        .await
    }

    async fn decrypt_key(&self, encrypted: &[u8], key_out: &mut [u8; 32]) -> Result<(), Error> {
        let result = within(
            "KMS decrypt_key",
            self.deadline,
            self.inner.decrypt_key(encrypted, key_out),
        )
        .await;
        if result.is_err() {
            // The contract: zeros on error, also when the call was abandoned half-way.
            zeroize::Zeroize::zeroize(key_out);
        }
        result
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::InMemoryMetastore;

    /// A metastore and KMS that never answer.
    struct Hung;

    #[async_trait]
    impl Metastore for Hung {
        async fn load(&self, _: &str, _: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
            std::future::pending().await
        }
        async fn load_latest(&self, _: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
            std::future::pending().await
        }
        async fn store(&self, _: &str, _: i64, _: &EnvelopeKeyRecord) -> Result<bool, Error> {
            std::future::pending().await
        }
        fn region_suffix(&self) -> Option<&str> {
            Some("eu-west-1")
        }
    }

    #[async_trait]
    impl KeyManagementService for Hung {
        async fn encrypt_key(&self, _: &[u8]) -> Result<Vec<u8>, Error> {
            std::future::pending().await
        }
        async fn decrypt_key(&self, _: &[u8], key_out: &mut [u8; 32]) -> Result<(), Error> {
            key_out.fill(7); // half-way through
            std::future::pending().await
        }
    }

    const DEADLINE: Duration = Duration::from_millis(100);

    fn assert_deadline<T: std::fmt::Debug>(
        result: Result<T, Error>,
        operation: &str,
        started: Instant,
    ) {
        let elapsed = started.elapsed();
        match result {
            Err(Error::Deadline {
                operation: op,
                deadline,
            }) => {
                assert_eq!((op, deadline), (operation, DEADLINE));
            }
            other => panic!("{operation}: expected a deadline error, got {other:?}"),
        }
        assert!(
            elapsed >= DEADLINE && elapsed < DEADLINE * 5,
            "{operation}: gave up after {elapsed:?}"
        );
    }

    #[tokio::test]
    async fn every_metastore_call_has_the_deadline() {
        let m = DeadlineMetastore::new(Arc::new(Hung), DEADLINE);
        assert_eq!(m.region_suffix(), Some("eu-west-1"));
        let t = Instant::now();
        assert_deadline(m.load("id", 1).await, "metastore load", t);
        let t = Instant::now();
        assert_deadline(m.load_latest("id").await, "metastore load_latest", t);
        let record = EnvelopeKeyRecord {
            revoked: false,
            id: "id".into(),
            created: 1,
            encrypted_key: vec![1; 60],
            parent_key_meta: None,
        };
        let t = Instant::now();
        assert_deadline(m.store("id", 1, &record).await, "metastore store", t);
    }

    #[tokio::test]
    async fn every_kms_call_has_the_deadline_and_a_missed_decrypt_leaves_zeros() {
        let k = DeadlineKms::new(Arc::new(Hung), DEADLINE);
        let t = Instant::now();
        assert_deadline(k.encrypt_key(&[1; 32]).await, "KMS encrypt_key", t);
        let mut out = [0u8; 32];
        let t = Instant::now();
        assert_deadline(k.decrypt_key(b"blob", &mut out).await, "KMS decrypt_key", t);
        assert_eq!(out, [0u8; 32]);
    }

    /// A caller's runtime without a timer still gets deadlines (the timer runs on the crate's runtime).
    #[test]
    fn deadlines_work_in_a_runtime_without_a_timer() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let m = DeadlineMetastore::new(Arc::new(Hung), DEADLINE);
        let t = Instant::now();
        assert_deadline(runtime.block_on(m.load("id", 1)), "metastore load", t);
    }

    /// The deadline counts from the call's start: a call that hangs fails close to it even though the timer is a
    /// task of its own, and a deadline too large to add to the clock never fires (nor panics).
    #[tokio::test]
    async fn the_deadline_counts_from_the_call_and_a_huge_one_never_fires() {
        let started = Instant::now();
        let out = race(DEADLINE, std::future::pending::<()>()).await.unwrap();
        assert!(out.is_none() && started.elapsed() >= DEADLINE);
        assert_eq!(race(Duration::MAX, async { 7 }).await.unwrap(), Some(7));
    }

    #[tokio::test]
    async fn answers_within_the_deadline_pass_through() {
        let m = DeadlineMetastore::new(Arc::new(InMemoryMetastore::new()), DEADLINE);
        assert!(m.load_latest("id").await.unwrap().is_none());
        assert_eq!(m.region_suffix(), None);
    }
}
