//! Polling a future once with a no-op waker: how the blocking API (and the benches) run the async core when keys
//! are cached, without a runtime. A future that is still pending afterwards has to wait for I/O or for another
//! thread; what to do then is the caller's choice.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Poll `future` once. Nothing will wake it: a caller that gets [`Poll::Pending`] and wants the result must poll
/// again with a real waker (re-polling with another waker is allowed).
pub(crate) fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}
