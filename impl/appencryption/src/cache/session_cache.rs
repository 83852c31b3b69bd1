//! The session cache (docs/compatibility.md#session-cache): one warm session per partition, shared by every caller,
//! closed only when evicted (capacity or expiry) *and* no longer in use.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::bounded::{BoundedCache, CacheBuilder};
use crate::cache::eviction::{BoundedPolicy, EvictionPolicy};
use crate::clock::Clock;
use crate::crypto::AeadBackend;
use crate::error::Error;
use crate::session::SessionCore;
use crate::sync::Mutex;

pub(crate) struct SessionCache<B: AeadBackend> {
    sessions: BoundedCache<String, Arc<SessionCore<B>>>,
    /// Serialises creation so one partition never gets two live cached sessions at once (Go holds one mutex
    /// around the whole `GetSession`; a hit here takes none).
    create: Mutex<()>,
}

impl<B: AeadBackend> SessionCache<B> {
    pub(crate) fn new(
        capacity: usize,
        policy: EvictionPolicy,
        expiry: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        // Go's session cache has no simple engine; an unset policy means SLRU.
        let policy = policy.bounded().unwrap_or(BoundedPolicy::Slru);
        let sessions = CacheBuilder::new(capacity)
            .policy(policy)
            .clock(clock)
            .expiry(expiry)
            // Asynchronous, as in Go: the callback waits for the session's users before closing it.
            .synchronous(false)
            .on_evict(|_partition: String, core: Arc<SessionCore<B>>| core.close_when_unused())
            .build()?;
        Ok(SessionCache {
            sessions,
            create: Mutex::new(()),
        })
    }

    /// The cached session for `partition`, created with `make` on a miss. The caller's use is counted.
    pub(crate) fn get_or_create(
        &self,
        partition: &str,
        make: impl Fn() -> Result<SessionCore<B>, Error>,
    ) -> Result<Arc<SessionCore<B>>, Error> {
        // Hit: no creation lock. A session found here can only be closing if an eviction took it out of the
        // cache after this lookup; `try_acquire` refuses it then, and the locked path below looks again.
        if let Some(core) = self.sessions.get(partition)
            && core.try_acquire()
        {
            return Ok(core);
        }
        let _create = self.create.lock();
        loop {
            let core = match self.sessions.get(partition) {
                Some(core) => core,
                None => {
                    let core = Arc::new(make()?);
                    if let Some(rejected) =
                        self.sessions.set(partition.to_string(), Arc::clone(&core))
                    {
                        // Only a closed cache hands the value back: the factory is closing.
                        rejected.close();
                        return Err(Error::FactoryClosed);
                    }
                    core
                }
            };
            if core.try_acquire() {
                return Ok(core);
            }
            // Found, then evicted and closed by an expiry check on the unlocked hit path: look again.
        }
    }

    /// Evict every session; each is closed once its users are done. Returns when all are closed.
    pub(crate) fn close(&self) {
        self.sessions.close();
    }

    pub(crate) fn len(&self) -> usize {
        self.sessions.len()
    }
}
