//! The sync API's way to run the async core: poll once in place (cached keys never suspend, so the hot path ends
//! here), and only when real I/O is pending drive the future on a process-wide runtime.

use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::Poll;

use crate::error::Error;
use crate::poll::poll_once;

/// The blocking API's runtime: one lazily built tokio runtime for the whole process (building one per factory
/// would cost a runtime's setup syscalls every time a short-lived factory first misses its caches). One worker
/// thread drives I/O and spawned tasks (sqlx's pool); each blocking caller polls its own future on its own thread.
static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();

pub(crate) fn runtime() -> Result<&'static tokio::runtime::Runtime, Error> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("appencryption-io")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Runtime(e.clone()))
}

/// Run `future` to completion from synchronous code. Inside a foreign async runtime a future that must wait
/// for I/O is refused with [`Error::BlockingInAsyncContext`] rather than blocking that runtime's thread.
pub(crate) fn block_on<T>(future: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    let inside_runtime = tokio::runtime::Handle::try_current().is_ok();
    let runtime = runtime()?;
    // I/O resources (sqlx, tokio timers) need a runtime context even for their first poll; inside a runtime,
    // that runtime's context serves.
    let context = (!inside_runtime).then(|| runtime.enter());
    let mut future = pin!(future);
    if let Poll::Ready(out) = poll_once(future.as_mut()) {
        return out;
    }
    if inside_runtime {
        return Err(Error::BlockingInAsyncContext);
    }
    drop(context);
    runtime.block_on(future)
}
