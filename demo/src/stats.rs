//! What the site counts: requests by kind, and those in flight.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Requests in flight, and the most there were at once.
#[derive(Debug, Default)]
pub struct InFlight {
    now: AtomicU32,
    most: AtomicU32,
}

impl InFlight {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }

    /// The most requests there were in flight at once since the last reset.
    pub fn most(&self) -> u32 {
        self.most.load(Ordering::SeqCst)
    }

    /// Starts counting the most anew (what is in flight now stays counted).
    pub fn reset(&self) {
        self.most.store(0, Ordering::SeqCst);
    }
}

/// Requests the site has answered, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteStats {
    pub listing: u64,
    pub episode: u64,
    pub audio_head: u64,
    pub audio_range: u64,
    /// Whole-file audio downloads: podfeed must never make one.
    pub audio_full: u64,
    pub redirects: u64,
    pub other: u64,
    /// Requests for paths robots.txt disallows.
    pub disallowed: u64,
    /// Listing and episode requests answered 304 Not Modified (counted in those kinds too).
    pub not_modified: u64,
    /// Requests that came to this server under another name than 127.0.0.1 (a redirect's
    /// `localhost`): a crawler that keeps to its scope makes none.
    pub off_scope: u64,
    /// Requests for hostile mode's pages (counted in `other` too), by the last part of the path.
    pub hostile: BTreeMap<String, u64>,
    /// Requests answered with an outage's status (see [`DemoSite::fail`](crate::DemoSite::fail)), of any kind.
    pub outage: u64,
    /// The shortest wait of a client between a 429 (`Retry-After: 1`) and its retry, if any.
    pub shortest_retry_wait_ms: Option<u64>,
    /// Requests for artwork (`/art/...`), and the bytes of it sent.
    pub artwork: u64,
    pub artwork_bytes: u64,
    /// The most requests that were in flight at once.
    pub max_in_flight: u32,
    /// How long the site really delayed its answers, on average (the configured latency, plus
    /// whatever its timer adds).
    pub mean_delay: Duration,
}

impl SiteStats {
    /// Every request answered, of any kind (304s are in their kinds already).
    pub fn total(&self) -> u64 {
        self.listing
            + self.episode
            + self.audio_head
            + self.audio_range
            + self.audio_full
            + self.redirects
            + self.other
            + self.disallowed
            + self.outage
            + self.artwork
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) listing: AtomicU64,
    pub(crate) episode: AtomicU64,
    pub(crate) audio_head: AtomicU64,
    pub(crate) audio_range: AtomicU64,
    pub(crate) audio_full: AtomicU64,
    pub(crate) redirects: AtomicU64,
    pub(crate) other: AtomicU64,
    pub(crate) disallowed: AtomicU64,
    pub(crate) not_modified: AtomicU64,
    pub(crate) off_scope: AtomicU64,
    pub(crate) outage: AtomicU64,
    pub(crate) artwork: AtomicU64,
    pub(crate) artwork_bytes: AtomicU64,
    pub(crate) hostile: Mutex<BTreeMap<String, u64>>,
    pub(crate) in_flight: InFlight,
    pub(crate) delayed: AtomicU64,
    pub(crate) delay_us: AtomicU64,
}

/// A request counted in flight until it is answered or its client goes away.
pub(crate) struct Flight<'a>([Option<&'a InFlight>; 2]);

impl<'a> Flight<'a> {
    pub(crate) fn enter(counts: [Option<&'a InFlight>; 2]) -> Flight<'a> {
        counts.iter().flatten().for_each(|count| count.enter());
        Flight(counts)
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        self.0.iter().flatten().for_each(|count| count.leave());
    }
}
