//! The demo site's simulated network latency, kept to a fraction of a millisecond.
//!
//! tokio's timer counts whole milliseconds and rounds every sleep up, then waits for its driver to
//! wake: a site told to answer after 10 ms answered after 11.7 ms on average, 17 % slower than it
//! claimed, and every benchmark's latency floor was off by as much. One thread that sleeps with
//! the operating system's own timer releases the waiting requests instead.

use std::collections::VecDeque;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

type Waiter = (Instant, oneshot::Sender<()>);

/// Delays each request by the same amount.
pub struct Latency {
    delay: Duration,
    /// To the releasing thread; `None` when there is no delay. (The mutex makes it `Sync`.)
    waiters: Option<Mutex<mpsc::Sender<Waiter>>>,
}

impl Latency {
    pub fn new(delay: Duration) -> Latency {
        if delay.is_zero() {
            return Latency { delay, waiters: None };
        }
        let (sender, receiver) = mpsc::channel();
        let spawned = std::thread::Builder::new().name("demo-latency".into()).spawn(move || release(receiver));
        // Without the thread, requests are delayed by tokio's coarser timer instead.
        Latency { delay, waiters: spawned.ok().map(|_| Mutex::new(sender)) }
    }

    /// Returns `delay` after it was called.
    pub async fn wait(&self) {
        let due = Instant::now() + self.delay;
        let Some(waiters) = &self.waiters else {
            return tokio::time::sleep_until(due.into()).await;
        };
        let (wake, woken) = oneshot::channel();
        let queued = waiters.lock().unwrap_or_else(|p| p.into_inner()).send((due, wake));
        if queued.is_err() || woken.await.is_err() {
            tokio::time::sleep_until(due.into()).await;
        }
    }
}

/// Wakes each waiter when it is due. Every waiter waits equally long, so they arrive in the
/// order they are due (to within the microseconds between reading the clock and queueing).
/// Ends when the site is dropped.
fn release(arrivals: mpsc::Receiver<Waiter>) {
    let mut queue: VecDeque<Waiter> = VecDeque::new();
    loop {
        let now = Instant::now();
        while queue.front().is_some_and(|(due, _)| *due <= now) {
            if let Some((_, wake)) = queue.pop_front() {
                let _ = wake.send(());
            }
        }
        let arrival = match queue.front() {
            Some((due, _)) => arrivals.recv_timeout(due.saturating_duration_since(now)),
            None => arrivals.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match arrival {
            Ok(waiter) => queue.push_back(waiter),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_wait_lasts_at_least_the_delay() {
        let latency = Latency::new(Duration::from_millis(10));
        for _ in 0..20 {
            let started = Instant::now();
            latency.wait().await;
            let waited = started.elapsed();
            assert!(waited >= Duration::from_millis(10), "{waited:?}");
        }
    }
}
