//! A minimal executor for one future on the current thread: poll, park until woken, poll again.
//!
//! Owns nothing but the waker. The futures it drives (instant-acme over the blocking ureq client) complete on their
//! first poll in practice, so parking is a formality. Must never: be called on a monoio worker (it blocks the
//! thread), or drive a future that needs a tokio reactor or timer (`Order::poll_ready`, `Order::poll_certificate`).

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `fut` to completion on this thread.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    /// Pending on the first poll; a helper thread wakes the task a little later.
    struct WokenLater(bool);

    impl Future for WokenLater {
        type Output = u32;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            if self.0 {
                return Poll::Ready(7);
            }
            self.0 = true;
            let waker = cx.waker().clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                waker.wake();
            });
            Poll::Pending
        }
    }

    #[test]
    fn parks_until_woken() {
        assert_eq!(super::block_on(WokenLater(false)), 7);
        assert_eq!(super::block_on(async { 1 + 1 }), 2);
    }
}
