//! The key cache's short memory of failed loads (a negative cache).
//!
//! When a load fails (the metastore has no such version, or a backend call errs or misses its deadline), the key
//! and the failure's message are remembered for [`CryptoPolicy::failed_load_cache_duration`](crate::CryptoPolicy)
//! on the monotonic clock. Until then, lookups of that key fail at once with [`Error::LoadFailedRecently`] instead
//! of queueing for its gate and asking the backend again, so a flood of records naming unknown key versions, or of
//! requests for a partition whose backend is down, costs one backend call per key and interval, not one per
//! request.

use std::time::Duration;

use foldhash::HashMap;

use crate::Error;
use crate::cache::load_gates::LoadKey;
use crate::sync::Mutex;

/// At most this many failures are remembered; past it, only expired entries make room (a flood of distinct
/// unknown versions must not grow memory without bound). An unremembered failure is simply retried.
const MAX_ENTRIES: usize = 10_000;

pub(crate) struct FailedLoads {
    ttl: Duration,
    entries: Mutex<HashMap<LoadKey, Failure>>,
}

struct Failure {
    /// Monotonic time after which the key is loaded again.
    until: Duration,
    reason: String,
}

impl FailedLoads {
    /// Remember failures for `ttl` (zero: never).
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::default()),
        }
    }

    /// `Err(LoadFailedRecently)` if loading `key` failed less than the TTL before `now`.
    pub(crate) fn check(&self, key: &LoadKey, now: Duration) -> Result<(), Error> {
        if self.ttl.is_zero() {
            return Ok(());
        }
        let entries = self.entries.lock();
        match entries.get(key) {
            Some(failure) if failure.until > now => Err(Error::LoadFailedRecently {
                id: key.0.to_string(),
                created: key.1,
                reason: failure.reason.clone(),
                retry_in: failure.until - now,
            }),
            _ => Ok(()),
        }
    }

    /// Remember that loading `key` failed with `error` at `now`.
    pub(crate) fn record(&self, key: LoadKey, error: &Error, now: Duration) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, failure| failure.until > now);
        }
        if entries.len() < MAX_ENTRIES || entries.contains_key(&key) {
            entries.insert(
                key,
                Failure {
                    until: now.saturating_add(self.ttl),
                    reason: error.to_string(),
                },
            );
        }
    }

    /// Forget `key` (it just loaded).
    pub(crate) fn clear(&self, key: &LoadKey) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock();
        if !entries.is_empty() {
            entries.remove(key);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn key(created: i64) -> LoadKey {
        (Arc::from("_IK_p_s_r"), Some(created))
    }

    #[test]
    fn a_failure_is_served_until_its_ttl_runs_out() {
        let failed = FailedLoads::new(Duration::from_secs(2));
        let t0 = Duration::from_secs(100);
        failed.record(key(1), &Error::RecordNotFound, t0);
        let err = failed
            .check(&key(1), t0 + Duration::from_secs(1))
            .unwrap_err();
        assert!(
            matches!(&err, Error::LoadFailedRecently { created: Some(1), retry_in, reason, .. }
                if *retry_in == Duration::from_secs(1) && reason.contains("no data row record")),
            "{err:?}"
        );
        assert!(
            failed.check(&key(2), t0).is_ok(),
            "other versions are unaffected"
        );
        assert!(failed.check(&key(1), t0 + Duration::from_secs(2)).is_ok());
        failed.record(key(1), &Error::RecordNotFound, t0);
        failed.clear(&key(1));
        assert!(failed.check(&key(1), t0).is_ok());
    }

    #[test]
    fn zero_ttl_remembers_nothing() {
        let failed = FailedLoads::new(Duration::ZERO);
        failed.record(key(1), &Error::RecordNotFound, Duration::ZERO);
        assert!(failed.check(&key(1), Duration::ZERO).is_ok());
    }

    #[test]
    fn memory_is_bounded_and_expired_entries_make_room() {
        let failed = FailedLoads::new(Duration::from_secs(1));
        let t0 = Duration::from_secs(10);
        for created in 0..i64::try_from(MAX_ENTRIES).unwrap() + 5 {
            failed.record(key(created), &Error::RecordNotFound, t0);
        }
        assert_eq!(failed.entries.lock().len(), MAX_ENTRIES);
        let later = t0 + Duration::from_secs(1);
        failed.record(key(-1), &Error::RecordNotFound, later);
        assert_eq!(
            failed.entries.lock().len(),
            1,
            "expired entries were pruned"
        );
        assert!(failed.check(&key(-1), later).is_err());
    }
}
