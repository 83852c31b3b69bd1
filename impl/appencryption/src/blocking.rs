//! The sync API's way to run the async core: poll once in place (cached keys never suspend, so the hot path ends
//! here), and only when real I/O is pending drive the future on a runtime the factory owns.

use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use crate::Error;

/// A lazily built current-thread tokio runtime, shared by a factory and its sessions.
#[derive(Debug, Default)]
pub(crate) struct Blocker {
    runtime: OnceLock<Result<tokio::runtime::Runtime, String>>,
}

impl Blocker {
    fn runtime(&self) -> Result<&tokio::runtime::Runtime, Error> {
        self.runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| Error::Runtime(e.clone()))
    }

    /// Run `future` to completion from synchronous code. Inside a foreign async runtime a future that must wait
    /// for I/O is refused with [`Error::BlockingInAsyncContext`] rather than blocking that runtime's thread.
    pub(crate) fn block_on<T>(
        &self,
        future: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let inside_runtime = tokio::runtime::Handle::try_current().is_ok();
        let runtime = self.runtime()?;
        // I/O resources (sqlx, tokio timers) need a runtime context even for their first poll; inside a runtime,
        // that runtime's context serves.
        let context = (!inside_runtime).then(|| runtime.enter());
        let mut future = pin!(future);
        if let Poll::Ready(out) = future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            return out;
        }
        if inside_runtime {
            return Err(Error::BlockingInAsyncContext);
        }
        drop(context);
        runtime.block_on(future)
    }
}
