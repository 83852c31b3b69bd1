//! The asynchronous eviction worker: one background thread per cache that runs eviction callbacks in eviction
//! order (docs/compatibility.md#bounded-cache-engine, Go's `processEvents` goroutine).
//!
//! * A plain thread and a `Mutex<VecDeque>` + `Condvar` queue, all from `crate::sync`, so loom can model the
//!   hand-off. No async runtime: callbacks are synchronous functions and the cache is used from sync code.
//! * The thread starts on the first eviction, not at build time: a cache per session would otherwise cost a thread
//!   per session even when nothing is ever evicted.
//! * The engine posts while holding its lock, so the queue order is the eviction order across all threads. Posting
//!   never blocks (Go's unbuffered channel does, which deadlocks if a callback touches the cache).
//! * If the OS refuses a thread, the event is handed back and the engine runs the callback inline, after releasing
//!   its lock: slower, never lost.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::sync::{self, Arc, Condvar, Mutex, thread};

/// An eviction callback. A `std` `Arc` (not the loom shim's): it is immutable and shared, nothing to model.
pub(crate) type EvictFn<K, V> = std::sync::Arc<dyn Fn(K, V) + Send + Sync>;

/// Run one callback, containing a panic so that one failing callback neither kills the worker (and with it every
/// later release) nor skips the remaining callbacks of a `close`.
pub(crate) fn invoke<K, V>(on_evict: &EvictFn<K, V>, key: K, value: V) {
    if catch_unwind(AssertUnwindSafe(|| on_evict(key, value))).is_err() {
        tracing::error!("cache eviction callback panicked; continuing with the next eviction");
    }
}

/// Queue state shared with the worker thread.
struct State<K, V> {
    events: VecDeque<(K, V)>,
    /// No more events will be posted; the worker exits once `events` is empty.
    closed: bool,
    /// The worker thread, once started (it is detached: `exited` tells when it is done).
    worker: Option<thread::ThreadId>,
    /// The worker has run every event and returned.
    exited: bool,
    /// The OS refused a thread once; don't retry on every eviction.
    spawn_failed: bool,
}

struct Shared<K, V> {
    state: Mutex<State<K, V>>,
    /// Signals the worker: an event was posted, or the queue was closed.
    ready: Condvar,
    /// Signals closers: the worker has exited.
    exited: Condvar,
}

/// Handle the engine owns; see the module documentation.
pub(crate) struct Worker<K, V> {
    shared: Arc<Shared<K, V>>,
    on_evict: EvictFn<K, V>,
}

impl<K: Send + 'static, V: Send + 'static> Worker<K, V> {
    /// A worker that has not started its thread yet.
    pub(crate) fn new(on_evict: EvictFn<K, V>) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    events: VecDeque::new(),
                    closed: false,
                    worker: None,
                    exited: false,
                    spawn_failed: false,
                }),
                ready: Condvar::new(),
                exited: Condvar::new(),
            }),
            on_evict,
        }
    }

    /// Queue one eviction (call with the engine's lock held, to keep eviction order). Returns the event back if no
    /// worker can run it; the caller then runs it inline after releasing its lock.
    pub(crate) fn post(&self, event: (K, V)) -> Option<(K, V)> {
        let mut state = sync::lock(&self.shared.state);
        if state.closed || state.spawn_failed {
            return Some(event);
        }
        if state.worker.is_none() {
            let shared = Arc::clone(&self.shared);
            let on_evict = std::sync::Arc::clone(&self.on_evict);
            match thread::Builder::new()
                .name("asherah-cache-evict".to_owned())
                .spawn(move || run(&shared, &on_evict))
            {
                // Detached: `close` waits for `exited` instead of joining, so that any number of closers (and a
                // callback closing its own cache on the worker) can wait without owning the handle.
                Ok(handle) => state.worker = Some(handle.thread().id()),
                Err(err) => {
                    tracing::warn!(%err, "cannot start the cache eviction worker; running callbacks inline");
                    state.spawn_failed = true;
                    return Some(event);
                }
            }
        }
        state.events.push_back(event);
        drop(state);
        self.shared.ready.notify_one();
        None
    }

    /// Stop accepting events and queue `last` (the entries `close` evicted) behind the pending ones for the worker
    /// to drain before it exits. Call with the engine's lock held. Returns the events no worker will run (it was
    /// never started): the caller runs them inline, in order, after releasing its lock, then calls
    /// [`wait_exited`](Self::wait_exited).
    pub(crate) fn close(&self, last: Vec<(K, V)>) -> Vec<(K, V)> {
        let mut state = sync::lock(&self.shared.state);
        state.closed = true;
        let inline = if state.worker.is_some() {
            state.events.extend(last);
            Vec::new()
        } else {
            last
        };
        drop(state);
        self.shared.ready.notify_all();
        inline
    }

    /// After [`close`](Self::close): wait until the worker has run every queued callback and exited. Returns at once
    /// if no worker was started, or when called on the worker itself (a callback closing its own cache: the worker
    /// drains the rest when that callback returns).
    pub(crate) fn wait_exited(&self) {
        let mut state = sync::lock(&self.shared.state);
        let Some(worker) = state.worker else { return };
        if worker == thread::current().id() {
            return;
        }
        while !state.exited {
            state = sync::wait(&self.shared.exited, state);
        }
    }
}

impl<K, V> Drop for Worker<K, V> {
    /// Safety net if the engine is dropped without `close`: let the thread drain and exit instead of waiting forever.
    fn drop(&mut self) {
        sync::lock(&self.shared.state).closed = true;
        self.shared.ready.notify_all();
    }
}

/// The worker thread: run events in order until closed and drained, then report its exit.
fn run<K, V>(shared: &Shared<K, V>, on_evict: &EvictFn<K, V>) {
    loop {
        let next = {
            let mut state = sync::lock(&shared.state);
            loop {
                if let Some(event) = state.events.pop_front() {
                    break Some(event);
                }
                if state.closed {
                    state.exited = true;
                    break None;
                }
                state = sync::wait(&shared.ready, state);
            }
        };
        let Some((key, value)) = next else {
            shared.exited.notify_all();
            return;
        };
        invoke(on_evict, key, value);
    }
}
