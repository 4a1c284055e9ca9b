//! The demo site's simulated network latency, kept to a fraction of a millisecond.
//!
//! tokio's timer counts whole milliseconds and rounds every sleep up, then waits for its driver to
//! wake: a site told to answer after 10 ms answered after 11.5 to 11.9 ms (curl, one request at a
//! time), up to 19 % slower than it claimed, and every benchmark's latency floor was off by as
//! much. One thread that sleeps with the operating system's own timer releases the waiting
//! requests instead.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// Requests due this close together are released in one wake-up of the thread.
const SAME_MOMENT: Duration = Duration::from_micros(20);

type Waiter = (Instant, oneshot::Sender<()>);

#[derive(Default)]
struct Queue {
    /// In the order they are due: every request waits equally long, so a newcomer is never due
    /// before those already waiting (to within the microseconds between reading the clock and
    /// taking the lock).
    waiters: VecDeque<Waiter>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Delays each request by the same amount.
pub struct Latency {
    delay: Duration,
    /// Shared with the releasing thread; `None` when there is no delay or no thread.
    shared: Option<Arc<Shared>>,
}

impl Latency {
    pub fn new(delay: Duration) -> Latency {
        if delay.is_zero() {
            return Latency { delay, shared: None };
        }
        let shared = Arc::new(Shared::default());
        let for_thread = shared.clone();
        let spawned = std::thread::Builder::new().name("demo-latency".into()).spawn(move || release(&for_thread));
        // Without the thread, requests are delayed by tokio's coarser timer instead.
        Latency { delay, shared: spawned.ok().map(|_| shared) }
    }

    /// Returns `delay` after it was called.
    pub async fn wait(&self) {
        let due = Instant::now() + self.delay;
        let Some(shared) = &self.shared else {
            return tokio::time::sleep_until(due.into()).await;
        };
        let (wake, woken) = oneshot::channel();
        let first = {
            let mut queue = shared.lock();
            queue.waiters.push_back((due, wake));
            queue.waiters.len() == 1
        };
        // The thread sleeps until the first waiter is due; only a new first one changes that.
        if first {
            shared.changed.notify_one();
        }
        if woken.await.is_err() {
            tokio::time::sleep_until(due.into()).await;
        }
    }
}

impl Drop for Latency {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            shared.lock().closed = true;
            shared.changed.notify_one();
        }
    }
}

/// Wakes each waiter when it is due, until the site is dropped.
fn release(shared: &Shared) {
    let mut queue = shared.lock();
    loop {
        if queue.closed {
            return;
        }
        let now = Instant::now();
        while queue.waiters.front().is_some_and(|(due, _)| *due <= now + SAME_MOMENT) {
            if let Some((_, wake)) = queue.waiters.pop_front() {
                let _ = wake.send(());
            }
        }
        queue = match queue.waiters.front() {
            Some((due, _)) => {
                let timeout = due.saturating_duration_since(now);
                shared.changed.wait_timeout(queue, timeout).unwrap_or_else(|p| p.into_inner()).0
            }
            None => shared.changed.wait(queue).unwrap_or_else(|p| p.into_inner()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_wait_lasts_the_delay() {
        let latency = Latency::new(Duration::from_millis(10));
        let waits = (0..20).map(|_| async {
            let started = Instant::now();
            latency.wait().await;
            started.elapsed()
        });
        for waited in futures::future::join_all(waits).await {
            assert!(waited >= Duration::from_millis(10) - SAME_MOMENT, "{waited:?}");
        }
    }
}
