//! The per-host scheduler: each host's slots, its pages next in line and its rate, and the
//! global slots, taken in that order for every request.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use super::{Client, RequestKind};

impl Client {
    /// Slots for one request: its host's first, then one of all. Listing pages skip the global
    /// queue and the host's line of other pages, so the archive's discovery waits behind a
    /// host's `per_host` pages next in line, not behind every episode page it feeds (it can
    /// still wait for a slot held by a page waiting for a global one). The per-host limit holds
    /// for every request. Host first because a global slot held while waiting for a busy host
    /// idles every other host (recipes on 4 hosts: all 32 global slots waiting on one host's
    /// 8). The host's rate quota is taken with its slot in hand, just before sending: taken
    /// before, the requests that waited for slots went out in a burst once slots freed up.
    pub(super) async fn permits(&self, url: &Url, kind: RequestKind) -> Permits {
        let host_name = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let listing = matches!(kind, RequestKind::Listing);
        let (queued, host) = self.limits.hosts.acquire(&host_name, listing).await;
        self.limits.hosts.until_ready(&host_name).await;
        let global = match listing {
            true => None,
            false => Some(self.limits.in_flight.clone().acquire_owned().await.expect("semaphore is never closed")),
        };
        Permits { _global: global, _host: host, _queued: queued }
    }
}

/// Held while a request is in flight.
pub(super) struct Permits {
    _global: Option<OwnedSemaphorePermit>,
    _host: OwnedSemaphorePermit,
    _queued: Option<OwnedSemaphorePermit>,
}

/// One semaphore per host, so one slow host cannot be flooded and others keep flowing, and
/// optionally a requests-per-second quota per host.
pub(super) struct HostLimits {
    per_host: usize,
    hosts: Mutex<HashMap<String, HostSlots>>,
    rate: Option<DefaultKeyedRateLimiter<String>>,
}

impl HostLimits {
    pub(super) fn new(per_host: usize, rate_limit: u32) -> HostLimits {
        let rate = NonZeroU32::new(rate_limit).map(|rps| RateLimiter::keyed(Quota::per_second(rps)));
        HostLimits { per_host, hosts: Mutex::new(HashMap::new()), rate }
    }

    /// Waits for the host's rate quota (holding the host's slot, but no global one).
    async fn until_ready(&self, host: &str) {
        if let Some(rate) = &self.rate {
            rate.until_key_ready(&host.to_string()).await;
        }
    }

    /// A slot of the host; other than for a listing page, after a place among the host's
    /// `per_host` pages next in line, so that a listing page queues behind those only, not
    /// behind the hundreds of pages the run has in progress.
    async fn acquire(&self, host: &str, listing: bool) -> (Option<OwnedSemaphorePermit>, OwnedSemaphorePermit) {
        let slots = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            hosts.entry(host.to_string()).or_insert_with(|| HostSlots::new(self.per_host)).clone()
        };
        let queued = match listing {
            true => None,
            false => Some(slots.next_in_line.acquire_owned().await.expect("semaphore is never closed")),
        };
        (queued, slots.in_flight.acquire_owned().await.expect("semaphore is never closed"))
    }
}

/// One host's requests in flight, and its pages next in line for them.
#[derive(Clone)]
struct HostSlots {
    in_flight: Arc<Semaphore>,
    next_in_line: Arc<Semaphore>,
}

impl HostSlots {
    fn new(per_host: usize) -> HostSlots {
        HostSlots { in_flight: Arc::new(Semaphore::new(per_host)), next_in_line: Arc::new(Semaphore::new(per_host)) }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::recipe::Http;

    /// A listing page waits behind its host's pages next in line, not behind every page the
    /// run has in progress (hundreds): else discovering the archive crawls while they drain.
    #[tokio::test]
    async fn a_listing_page_does_not_queue_behind_every_episode_page() {
        let client = Arc::new(Client::new(&Http { concurrency: 2, ..Http::default() }).unwrap());
        let url = Url::parse("http://127.0.0.1/").unwrap();
        let first = client.permits(&url, RequestKind::Episode).await;
        let _second = client.permits(&url, RequestKind::Episode).await;
        let take = |kind| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let _held = client.permits(&url, kind).await;
                if kind != RequestKind::Listing {
                    std::future::pending::<()>().await;
                }
            })
        };
        let _waiting: Vec<_> = (0..20).map(|_| take(RequestKind::Episode)).collect();
        tokio::task::yield_now().await;
        let listing = take(RequestKind::Listing);
        tokio::task::yield_now().await;
        assert!(!listing.is_finished(), "a full host makes a listing page wait too");
        drop(first);
        // The event awaited: the listing task ends once it holds the slot `first` gave back.
        listing.await.expect("the listing page got the host's next free slot");
    }

    /// A host's `rate_limit` holds after the host was slow: the requests that waited meanwhile
    /// go out at the rate, not all at once when it answers. (Lower bounds on time only: a busy
    /// machine spreads them further.)
    #[tokio::test]
    async fn requests_that_waited_for_a_slow_host_go_out_at_its_rate() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        tokio::spawn({
            let arrivals = arrivals.clone();
            async move {
                while let Ok((mut stream, _)) = server.accept().await {
                    let first = {
                        let mut arrivals = arrivals.lock().unwrap();
                        arrivals.push(std::time::Instant::now());
                        arrivals.len() == 1
                    };
                    tokio::spawn(async move {
                        let _ = stream.read(&mut [0; 4096]).await;
                        if first {
                            tokio::time::sleep(Duration::from_secs(3)).await;
                        }
                        let body = "<html><body><p>hi</p></body></html>";
                        let head = format!("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nconnection: close\r\ncontent-length: {}\r\n\r\n", body.len());
                        let _ = stream.write_all(format!("{head}{body}").as_bytes()).await;
                    });
                }
            }
        });
        let config = Http {
            concurrency: 8,
            per_host: Some(1),
            rate_limit: 2,
            respect_robots: false,
            allow_private: true,
            ..Http::default()
        };
        let client = Client::new(&config).unwrap();
        let url = Url::parse(&format!("http://{addr}/")).unwrap();
        let pages = (0..7).map(|_| client.page(&url, RequestKind::Episode, None, &|_: &Url| true));
        for page in futures::future::join_all(pages).await {
            page.unwrap();
        }
        let arrivals = arrivals.lock().unwrap();
        assert_eq!(arrivals.len(), 7);
        // The slow answer came 3 s after the first arrival; the bucket holds 2 requests, and
        // the 4 after those come at 2 per second.
        let after_the_slow_answer = arrivals[6].duration_since(arrivals[0]);
        assert!(after_the_slow_answer >= Duration::from_millis(4800), "{after_the_slow_answer:?}");
    }
}
