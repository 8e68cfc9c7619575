//! [`IdleWatch`]: when a connection waiting between requests must give up: the worker drains, or its idle time is
//! over.
//!
//! A connection waiting between requests holds no read buffer (it waits for readability), so neither the drain
//! order nor a timer can cancel a read for it; it waits for this watch beside the readability instead. Deadlines are
//! checked by one sweep per second per worker rather than by a timer per connection (a monoio timer is 640 bytes;
//! this is a slot in a shared list), and taken from the clock the last sweep read (no clock read per request), so an
//! idle timeout ends between one and two seconds late, never early. Worker-local (no atomics, no
//! locks); a wait registers its waker in a reused slot, so waiting allocates nothing once the worker has seen as many
//! waiting connections at once as it ever will.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// How often [`IdleWatch::sweep`] should run: the precision of idle timeouts.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The waiting connections of one worker.
#[derive(Debug)]
pub struct IdleWatch {
    state: RefCell<State>,
    /// The clock as of the last sweep.
    swept: std::cell::Cell<Instant>,
}

impl Default for IdleWatch {
    fn default() -> Self {
        IdleWatch {
            state: RefCell::default(),
            swept: std::cell::Cell::new(Instant::now()),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    draining: bool,
    slots: Vec<Option<(Waker, Instant)>>,
    free: Vec<usize>,
}

impl IdleWatch {
    /// The worker drains: every current and future wait ends.
    pub fn drain(&self) {
        let slots = {
            let mut state = self.state.borrow_mut();
            state.draining = true;
            state.free.clear();
            std::mem::take(&mut state.slots)
        };
        for (waker, _) in slots.into_iter().flatten() {
            waker.wake();
        }
    }

    /// Wakes the waits whose deadline is at or before `now`.
    pub fn sweep(&self, now: Instant) {
        self.swept.set(now);
        let due: Vec<Waker> = {
            let state = self.state.borrow();
            state
                .slots
                .iter()
                .flatten()
                .filter(|(_, deadline)| *deadline <= now)
                .map(|(waker, _)| waker.clone())
                .collect()
        };
        for waker in due {
            waker.wake();
        }
    }

    /// Number of connections waiting now.
    pub fn waiting(&self) -> usize {
        let state = self.state.borrow();
        state.slots.len() - state.free.len()
    }

    /// Completes when the worker drains or once `deadline` has passed (noticed by the next sweep).
    pub fn until(&self, deadline: Instant) -> IdleEnd<'_> {
        IdleEnd {
            watch: self,
            deadline,
            slot: None,
        }
    }

    /// Completes when the worker drains or once at least `idle` has passed (noticed by a sweep, so within
    /// [`SWEEP_EVERY`] after that), without reading the clock.
    pub fn after(&self, idle: std::time::Duration) -> IdleEnd<'_> {
        self.until(self.swept.get() + idle + SWEEP_EVERY)
    }
}

/// The future of [`IdleWatch::until`].
#[derive(Debug)]
pub struct IdleEnd<'a> {
    watch: &'a IdleWatch,
    deadline: Instant,
    slot: Option<usize>,
}

impl Future for IdleEnd<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.watch.state.borrow_mut();
        if state.draining {
            return Poll::Ready(());
        }
        match self.slot {
            // Woken: by a sweep that found the deadline passed, or spuriously.
            Some(_) if Instant::now() >= self.deadline => return Poll::Ready(()),
            Some(i) => {
                if let Some(Some((waker, _))) = state.slots.get_mut(i) {
                    if !waker.will_wake(cx.waker()) {
                        *waker = cx.waker().clone();
                    }
                }
            }
            None => {
                let entry = Some((cx.waker().clone(), self.deadline));
                let i = match state.free.pop() {
                    Some(i) => {
                        if let Some(slot) = state.slots.get_mut(i) {
                            *slot = entry;
                        }
                        i
                    }
                    None => {
                        state.slots.push(entry);
                        state.slots.len() - 1
                    }
                };
                drop(state);
                self.slot = Some(i);
            }
        }
        Poll::Pending
    }
}

impl Drop for IdleEnd<'_> {
    fn drop(&mut self) {
        let Some(i) = self.slot else { return };
        let mut state = self.watch.state.borrow_mut();
        if state.draining {
            return;
        }
        if let Some(slot) = state.slots.get_mut(i) {
            *slot = None;
            state.free.push(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;
    use std::time::Duration;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn cx_with_count() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        (count, waker)
    }

    #[test]
    fn drain_ends_every_wait_and_slots_are_reused() {
        let watch = IdleWatch::default();
        let (count, waker) = cx_with_count();
        let mut cx = Context::from_waker(&waker);
        let far = Instant::now() + Duration::from_secs(3600);
        let mut a = Box::pin(watch.until(far));
        assert!(a.as_mut().poll(&mut cx).is_pending());
        {
            let mut b = Box::pin(watch.until(far));
            assert!(b.as_mut().poll(&mut cx).is_pending());
            assert_eq!(watch.waiting(), 2);
        }
        assert_eq!(watch.waiting(), 1, "a dropped wait frees its slot");
        let mut c = Box::pin(watch.until(far));
        assert!(c.as_mut().poll(&mut cx).is_pending());
        assert_eq!(watch.state.borrow().slots.len(), 2, "the freed slot was reused");
        watch.drain();
        assert_eq!(count.0.load(Ordering::SeqCst), 2, "both waits woken");
        assert!(a.as_mut().poll(&mut cx).is_ready());
        assert!(c.as_mut().poll(&mut cx).is_ready());
        assert!(Box::pin(watch.until(far)).as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn a_sweep_ends_only_the_waits_past_their_deadline() {
        let watch = IdleWatch::default();
        let (count, waker) = cx_with_count();
        let mut cx = Context::from_waker(&waker);
        let now = Instant::now();
        let mut soon = Box::pin(watch.until(now));
        let mut later = Box::pin(watch.until(now + Duration::from_secs(3600)));
        assert!(later.as_mut().poll(&mut cx).is_pending());
        // A deadline already passed is still only noticed when woken (by the sweep).
        assert!(soon.as_mut().poll(&mut cx).is_pending());
        watch.sweep(Instant::now());
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "only the due wait is woken");
        assert!(soon.as_mut().poll(&mut cx).is_ready());
        assert!(later.as_mut().poll(&mut cx).is_pending());
    }
}
