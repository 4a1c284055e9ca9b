//! The one HTTP client: timeouts, retries with backoff, `Retry-After`, per-host limits,
//! conditional GET, a body size cap, charset decoding, the enclosure probe, and the guard that
//! keeps requests off the user's own network ([`guard`]).

mod error;
pub mod guard;
mod robots;

pub use error::FetchError;
use error::MAX_REDIRECTS;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use encoding_rs::Encoding;
use futures::future::{BoxFuture, FutureExt};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use reqwest::header::{self, HeaderMap};
use reqwest::{RequestBuilder, Response, StatusCode};
use std::num::NonZeroU32;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::model::{Page, Probe};
use crate::recipe::Http;
use guard::{Guard, Resolver};
use robots::{Robots, RobotsTxt};

/// The longest `Retry-After` we wait out; a server asking for more is treated as failing.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
const BACKOFF_BASE: Duration = Duration::from_millis(250);

/// Where a response's redirects may lead. Pages stay within the recipe's scope; enclosures go
/// wherever tracking prefixes and CDNs send them, but only over http(s).
#[derive(Clone, Copy)]
enum Redirects<'a> {
    Within(&'a (dyn Fn(&Url) -> bool + Sync)),
    Anywhere,
}

/// What the requests were for; counted separately for run summaries and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Listing,
    Episode,
    Probe,
    Robots,
}

/// Counts of requests made (every attempt) and body bytes read.
#[derive(Debug, Default)]
pub struct Stats {
    listing: AtomicU64,
    episode: AtomicU64,
    probe: AtomicU64,
    robots: AtomicU64,
    bytes: AtomicU64,
}

impl Stats {
    pub fn requests(&self, kind: RequestKind) -> u64 {
        self.counter(kind).load(Ordering::Relaxed)
    }
    pub fn total_requests(&self) -> u64 {
        [RequestKind::Listing, RequestKind::Episode, RequestKind::Probe, RequestKind::Robots]
            .iter()
            .map(|k| self.requests(*k))
            .sum()
    }
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    fn counter(&self, kind: RequestKind) -> &AtomicU64 {
        match kind {
            RequestKind::Listing => &self.listing,
            RequestKind::Episode => &self.episode,
            RequestKind::Probe => &self.probe,
            RequestKind::Robots => &self.robots,
        }
    }
}

pub use crate::model::Validators;

/// The answer to a (possibly conditional) page fetch.
#[derive(Debug)]
pub enum Fetched {
    /// The page, and its text's share of the client's budget, held until the caller drops it.
    Page(Page, HeldText),
    NotModified,
}

/// Page text downloaded and not yet done with, beyond what the downloads in flight may hold:
/// pages waiting for a parser.
const TEXT_WAITING_BYTES: usize = 96 * 1024 * 1024;

/// Page text in memory, counted (in KiB) against the client's text budget until dropped. A
/// download reserves its `Content-Length` (else `max_page_bytes`) before reading the body, and
/// keeps what the text takes: pages in memory are bounded by bytes, not only by count.
#[derive(Debug)]
pub struct HeldText(OwnedSemaphorePermit);

/// What several clients share when they run together (`build` of a folder of recipes): the
/// requests in flight, each host's slots and rate, and the page text in memory. Each recipe's
/// client keeps its own user agent, robots.txt choice, timeouts and retries.
pub struct Limits {
    in_flight: Arc<Semaphore>,
    hosts: HostLimits,
    /// KiB of page text held at once: the largest page for every request in flight, and
    /// [`TEXT_WAITING_BYTES`] for pages downloaded and waiting.
    text_budget: Arc<Semaphore>,
    text_budget_kib: u32,
    /// Runs using these limits at once.
    runs_at_once: usize,
    /// Connection pools by settings (see [`Limits::connections`]).
    connections: Mutex<HashMap<String, (reqwest::Client, reqwest::Client)>>,
}

impl Limits {
    /// Limits from `config` (for several recipes, [`Http::shared`]: the politest per host),
    /// shared by `runs_at_once` runs: each keeps its share of the pages in hand, so that they
    /// hold no more page text together than one run alone.
    pub fn new(config: &Http, runs_at_once: usize) -> Arc<Limits> {
        let budget = config.concurrency.saturating_mul(usize::try_from(config.max_page_bytes).unwrap_or(usize::MAX));
        let text_budget_kib = kib(budget.saturating_add(TEXT_WAITING_BYTES)).min(Semaphore::MAX_PERMITS as u32);
        Arc::new(Limits {
            in_flight: Arc::new(Semaphore::new(config.concurrency)),
            hosts: HostLimits::new(config.per_host(), config.rate_limit),
            text_budget: Arc::new(Semaphore::new(text_budget_kib as usize)),
            text_budget_kib,
            runs_at_once: runs_at_once.max(1),
            connections: Mutex::default(),
        })
    }
}

impl Limits {
    /// The connection pools for `config`'s settings: the guarded one and the open one. Recipes
    /// with the same settings (most of a folder) share them, and so their connections to a host.
    fn connections(&self, config: &Http) -> Result<(reqwest::Client, reqwest::Client), FetchError> {
        let mut resolve: Vec<_> = config.resolve.iter().collect();
        resolve.sort();
        let key = format!(
            "{}\0{}\0{}\0{}\0{resolve:?}",
            config.user_agent, config.timeout_secs, config.concurrency, config.allow_private
        );
        let mut pools = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pools) = pools.get(&key) {
            return Ok(pools.clone());
        }
        let made = (http_client(config, !config.allow_private)?, http_client(config, false)?);
        pools.insert(key, made.clone());
        Ok(made)
    }
}

/// A reqwest client with `config`'s settings; `global_only` drops non-global addresses at DNS.
fn http_client(config: &Http, global_only: bool) -> Result<reqwest::Client, FetchError> {
    reqwest::Client::builder()
        .user_agent(config.user_agent.clone())
        .gzip(true)
        .brotli(true)
        .timeout(Duration::from_secs(config.timeout_secs))
        .connect_timeout(Duration::from_secs(config.timeout_secs.min(10)))
        .pool_max_idle_per_host(config.concurrency)
        // Not reqwest's 90 s: a folder of recipes leaves every finished show's connections idle,
        // each with its buffers (200 shows, one port each: 1,200 sockets open).
        .pool_idle_timeout(Duration::from_secs(10))
        // Redirects are followed by `send`, which checks every target before asking it.
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(Resolver::new(&config.resolve, global_only)))
        .build()
        .map_err(|e| FetchError::Network(e.to_string()))
}

/// Owns all HTTP concerns. Cheap to share behind an `Arc`.
pub struct Client {
    /// For addresses a site named: its resolver drops non-global addresses.
    http: reqwest::Client,
    /// For the origins the user gave (and everything with `allow_private`).
    trusted_http: reqwest::Client,
    guard: Guard,
    limits: Arc<Limits>,
    retries: u32,
    max_page_bytes: u64,
    robots: Option<Robots>,
    stats: Stats,
    /// Requests this client may make at most, retries, redirects and robots.txt included
    /// (`podfeed init`'s budget); `u64::MAX` for a build.
    request_limit: u64,
    issued: AtomicU64,
}

impl Client {
    /// A client with limits of its own.
    pub fn new(config: &Http) -> Result<Client, FetchError> {
        Client::sharing(config, Limits::new(config, 1))
    }

    /// A client with `config`'s user agent, robots.txt choice, timeouts and retries, within
    /// `limits` shared with other clients.
    pub fn sharing(config: &Http, limits: Arc<Limits>) -> Result<Client, FetchError> {
        let (http, trusted_http) = limits.connections(config)?;
        Ok(Client {
            http,
            trusted_http,
            guard: Guard::new(config.allow_private),
            limits,
            retries: config.retries,
            max_page_bytes: config.max_page_bytes,
            robots: config.respect_robots.then(|| Robots::new(&config.user_agent)),
            stats: Stats::default(),
            request_limit: u64::MAX,
            issued: AtomicU64::new(0),
        })
    }

    /// The client, letting requests to the origins of `urls` (the user's own) reach any
    /// address, loopback and private ones included.
    pub fn trusting<'a>(mut self, urls: impl IntoIterator<Item = &'a Url>) -> Client {
        self.guard.trust(urls);
        self
    }

    /// The client, refusing requests past the `limit`-th.
    pub fn with_request_limit(mut self, limit: u64) -> Client {
        self.request_limit = limit;
        self
    }

    pub fn runs_at_once(&self) -> usize {
        self.limits.runs_at_once
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// GETs an HTML page, conditionally when validators are given, and decodes it to text.
    /// Redirects are followed only to URLs `in_scope` allows (and robots.txt allows).
    pub async fn page(
        &self,
        url: &Url,
        kind: RequestKind,
        validators: Option<&Validators>,
        in_scope: &(dyn Fn(&Url) -> bool + Sync),
    ) -> Result<Fetched, FetchError> {
        self.robots_allow(url).await?;
        let (response, _permit) = self
            .send(url, kind, Redirects::Within(in_scope), self.retries, |http, url| {
                let mut request = http.get(url.clone());
                if let Some(v) = validators {
                    if let Some(etag) = &v.etag {
                        request = request.header(header::IF_NONE_MATCH, etag);
                    }
                    if let Some(modified) = &v.last_modified {
                        request = request.header(header::IF_MODIFIED_SINCE, modified);
                    }
                }
                request
            })
            .await?;
        let response = ok_status(response)?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        let content_type = header_str(response.headers(), header::CONTENT_TYPE);
        if let Some(ct) = &content_type {
            if !is_html_type(ct) {
                return Err(FetchError::NotHtml(ct.clone()));
            }
        }
        let final_url = response.url().to_string();
        let etag = header_str(response.headers(), header::ETAG);
        let last_modified = header_str(response.headers(), header::LAST_MODIFIED);
        let expected = response.content_length().unwrap_or(self.max_page_bytes).min(self.max_page_bytes);
        let mut held = self.hold_text(usize::try_from(expected).unwrap_or(usize::MAX)).await;
        let body = self.read_capped(response).await?;
        let html = decode_html(&body, content_type.as_deref());
        drop(body);
        self.refit(&mut held, html.len()).await;
        let page = Page { url: url.to_string(), final_url, html, etag, last_modified, fetched_at: Utc::now() };
        Ok(Fetched::Page(page, held))
    }

    /// GETs a document that is not a page (a sitemap, perhaps gzipped) as bytes, at most `cap`.
    /// Redirects and robots.txt are as for pages.
    pub async fn document(
        &self,
        url: &Url,
        cap: u64,
        in_scope: &(dyn Fn(&Url) -> bool + Sync),
    ) -> Result<Vec<u8>, FetchError> {
        self.robots_allow(url).await?;
        let get = |http: &reqwest::Client, url: &Url| http.get(url.clone());
        let (response, _permit) =
            self.send(url, RequestKind::Listing, Redirects::Within(in_scope), self.retries, get).await?;
        self.read_up_to(ok_status(response)?, cap).await
    }

    /// Counts `bytes` of page text against the budget, waiting while it is spent.
    pub async fn hold_text(&self, bytes: usize) -> HeldText {
        let kib = kib(bytes).clamp(1, self.limits.text_budget_kib);
        HeldText(self.limits.text_budget.clone().acquire_many_owned(kib).await.expect("semaphore is never closed"))
    }

    /// Makes `held` count `bytes`: what a reservation did not use goes back at once.
    async fn refit(&self, held: &mut HeldText, bytes: usize) {
        let (want, have) = (kib(bytes).clamp(1, self.limits.text_budget_kib) as usize, held.0.num_permits());
        if want < have {
            drop(held.0.split(have - want));
        } else if want > have {
            let more = self.hold_text((want - have) * 1024).await;
            held.0.merge(more.0);
        }
    }

    /// Whether robots.txt lets `url` be fetched. A host whose robots.txt cannot be reached at
    /// all fails every page with that reason (connection refused, say): the host is down, and
    /// saying "disallowed" would hide it.
    async fn robots_allow(&self, url: &Url) -> Result<(), FetchError> {
        let Some(robots) = &self.robots else { return Ok(()) };
        match robots.allowed(url, |robots_url| self.robots_txt(robots_url)).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(FetchError::Disallowed),
            Err(unreachable) => Err(unreachable),
        }
    }

    /// Boxed: fetching robots.txt goes through `send`, which asks robots.txt about redirects.
    fn robots_txt(&self, url: Url) -> BoxFuture<'_, RobotsTxt> {
        async move {
            let get = |http: &reqwest::Client, url: &Url| http.get(url.clone());
            let response = match self.send(&url, RequestKind::Robots, Redirects::Anywhere, self.retries, get).await {
                Ok((response, _permit)) => response,
                // A redirect podfeed will not follow is an unavailable file, as RFC 9309 says of
                // too many redirects: no rules.
                Err(FetchError::Private(refused)) => {
                    tracing::warn!("{url} redirected to an address podfeed does not fetch: {refused}; no rules read");
                    return RobotsTxt::Missing;
                }
                Err(e) => return RobotsTxt::Unreachable(e),
            };
            let status = response.status();
            if status.is_client_error() {
                return RobotsTxt::Missing;
            }
            let unreadable = |why: String| {
                tracing::warn!(
                    "{url} {why}: RFC 9309 counts the whole site as disallowed until robots.txt can be \
                     read, so no page of {} is fetched this run",
                    url.host_str().unwrap_or_default()
                );
                RobotsTxt::Unreachable(FetchError::RobotsUnavailable(why))
            };
            if !status.is_success() {
                return unreadable(format!("answered HTTP {}", status.as_u16()));
            }
            match self.read_capped(response).await {
                Ok(bytes) => RobotsTxt::Found(bytes),
                Err(e) => unreadable(format!("could not be read: {e}")),
            }
        }
        .boxed()
    }

    /// Learns an enclosure's size and type without downloading it: HEAD (following redirects),
    /// else a one-byte ranged GET and its `Content-Range`.
    pub async fn probe(&self, url: &Url) -> Result<Probe, FetchError> {
        let head = |http: &reqwest::Client, url: &Url| http.head(url.clone());
        let (head, permits) = self.send(url, RequestKind::Probe, Redirects::Anywhere, self.retries, head).await?;
        if head.status().is_success() {
            if let Some(length) = header_str(head.headers(), header::CONTENT_LENGTH).and_then(|v| v.parse().ok()) {
                return Ok(Probe { length: Some(length), mime_type: mime_of(head.headers()) });
            }
        }
        // Ask where the redirects ended, not the first hop again.
        let target = head.url().clone();
        drop((head, permits));
        let ranged = |http: &reqwest::Client, url: &Url| http.get(url.clone()).header(header::RANGE, "bytes=0-0");
        let (response, _permit) =
            self.send(&target, RequestKind::Probe, Redirects::Anywhere, self.retries, ranged).await?;
        let response = ok_status(response)?;
        let headers = response.headers();
        let length = match response.status() {
            StatusCode::PARTIAL_CONTENT => {
                header_str(headers, header::CONTENT_RANGE).and_then(|v| total_of_content_range(&v))
            }
            _ => header_str(headers, header::CONTENT_LENGTH).and_then(|v| v.parse().ok()),
        };
        let probe = Probe { length: Some(length.ok_or(FetchError::NoLength)?), mime_type: mime_of(headers) };
        // Dropping the response closes the stream; at most the one requested byte is read.
        self.stats.bytes.fetch_add(1, Ordering::Relaxed);
        Ok(probe)
    }

    /// The first `cap` bytes of a file (an image's header), asked for with a range request and
    /// read no further whatever the server sends: never the whole of a big file.
    pub async fn first_bytes(&self, url: &Url, cap: u64) -> Result<Vec<u8>, FetchError> {
        let range = format!("bytes=0-{}", cap.saturating_sub(1));
        let ranged = |http: &reqwest::Client, url: &Url| http.get(url.clone()).header(header::RANGE, range.as_str());
        // One attempt: the check is tried again on the next run, and a nightly run should not
        // wait out the backoff of an image host that is down.
        let (response, _permit) = self.send(url, RequestKind::Probe, Redirects::Anywhere, 0, ranged).await?;
        let mut response = ok_status(response)?;
        let mut body = Vec::new();
        while (body.len() as u64) < cap {
            let Some(chunk) = response.chunk().await.map_err(|e| FetchError::from_reqwest(&e))? else { break };
            self.stats.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            body.extend_from_slice(&chunk);
        }
        body.truncate(cap as usize);
        Ok(body)
    }

    /// Sends a request, following redirects where `redirects` allows, and answers with the final
    /// response whatever its status (see [`ok_status`]). Every target is checked before it is
    /// asked: a redirect never reaches a host the recipe's scope does not name.
    async fn send(
        &self,
        url: &Url,
        kind: RequestKind,
        redirects: Redirects<'_>,
        retries: u32,
        build: impl Fn(&reqwest::Client, &Url) -> RequestBuilder,
    ) -> Result<(Response, Permits), FetchError> {
        let mut current = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let (response, permits) = self.send_with_retries(&current, kind, retries, &build).await?;
            let Some(next) = redirect_target(&response)? else { return Ok((response, permits)) };
            drop((response, permits));
            if let Redirects::Within(in_scope) = redirects {
                if !in_scope(&next) {
                    // A host name is the site's to choose: at most 80 characters of it in a warning.
                    let host = crate::text::shorten(next.host_str().unwrap_or_default(), 80);
                    return Err(FetchError::OffScope { host });
                }
                self.robots_allow(&next).await?;
            }
            tracing::debug!(from = %current, to = %next, "redirected");
            current = next;
        }
        Err(FetchError::TooManyRedirects)
    }

    /// Sends one request with retries. The per-host permit is held only while a request is on
    /// the wire (and its body is read by the caller), never while waiting out a backoff.
    async fn send_with_retries(
        &self,
        url: &Url,
        kind: RequestKind,
        retries: u32,
        build: impl Fn(&reqwest::Client, &Url) -> RequestBuilder,
    ) -> Result<(Response, Permits), FetchError> {
        let http = self.http_for(url)?;
        let mut attempt = 0;
        loop {
            let permits = self.permits(url, kind).await;
            if self.issued.fetch_add(1, Ordering::Relaxed) >= self.request_limit {
                return Err(FetchError::RequestLimit(self.request_limit));
            }
            self.stats.counter(kind).fetch_add(1, Ordering::Relaxed);
            let wait = match build(http, url).send().await {
                Ok(response) if is_retryable(response.status()) && attempt < retries => {
                    retry_after(response.headers()).unwrap_or_else(|| backoff(attempt))
                }
                Ok(response) => return Ok((response, permits)),
                Err(e) => match FetchError::from_reqwest(&e) {
                    FetchError::Private(refused) => return Err(FetchError::Private(refused)),
                    _ if (e.is_connect() || e.is_timeout()) && attempt < retries => backoff(attempt),
                    error => return Err(error),
                },
            };
            drop(permits);
            if wait > MAX_RETRY_AFTER {
                return Err(FetchError::RetryTooLate(wait.as_secs()));
            }
            tracing::debug!(%url, attempt, ?wait, "retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// The client for `url`: the guarded one for addresses a site named, the open one for the
    /// user's own origins; none for a non-global IP address the user did not name.
    fn http_for(&self, url: &Url) -> Result<&reqwest::Client, FetchError> {
        self.guard.check(url)?;
        Ok(if self.guard.trusts(url) { &self.trusted_http } else { &self.http })
    }

    /// Slots for one request: its host's first, then one of all. Listing pages skip the global
    /// queue and the host's line of other pages, so the archive's discovery waits behind a
    /// host's `per_host` pages next in line, not behind every episode page it feeds (it can
    /// still wait for a slot held by a page waiting for a global one). The per-host limit holds
    /// for every request. Host first because a global slot held while waiting for a busy host
    /// idles every other host (recipes on 4 hosts: all 32 global slots waiting on one host's
    /// 8). The host's rate quota is taken with its slot in hand, just before sending: taken
    /// before, the requests that waited for slots went out in a burst once slots freed up.
    async fn permits(&self, url: &Url, kind: RequestKind) -> Permits {
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

    async fn read_capped(&self, response: Response) -> Result<Vec<u8>, FetchError> {
        self.read_up_to(response, self.max_page_bytes).await
    }

    async fn read_up_to(&self, mut response: Response, cap: u64) -> Result<Vec<u8>, FetchError> {
        if response.content_length().is_some_and(|n| n > cap) {
            return Err(FetchError::TooLarge(cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| FetchError::from_reqwest(&e))? {
            self.stats.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            if body.len() as u64 + chunk.len() as u64 > cap {
                return Err(FetchError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// Bytes in whole KiB, rounded up; at most `u32::MAX` KiB.
fn kib(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
}

/// Held while a request is in flight.
struct Permits {
    _global: Option<OwnedSemaphorePermit>,
    _host: OwnedSemaphorePermit,
    _queued: Option<OwnedSemaphorePermit>,
}

/// One semaphore per host, so one slow host cannot be flooded and others keep flowing, and
/// optionally a requests-per-second quota per host.
struct HostLimits {
    per_host: usize,
    hosts: Mutex<HashMap<String, HostSlots>>,
    rate: Option<DefaultKeyedRateLimiter<String>>,
}

impl HostLimits {
    fn new(per_host: usize, rate_limit: u32) -> HostLimits {
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

/// Where a redirect leads, if the response is one: an http(s) URL, or an error saying what else.
fn redirect_target(response: &Response) -> Result<Option<Url>, FetchError> {
    let status = response.status();
    let is_redirect = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
    let location = header_str(response.headers(), header::LOCATION);
    let (true, Some(location)) = (is_redirect, location) else { return Ok(None) };
    let next = response
        .url()
        .join(location.trim())
        .map_err(|_| FetchError::BadRedirect(format!("{:?}, not a URL", crate::text::shorten(&location, 80))))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(FetchError::BadRedirect(format!("a {}: URL", next.scheme())));
    }
    Ok(Some(next))
}

/// The response, if its status is a success (or 304); else the status as an error.
fn ok_status(response: Response) -> Result<Response, FetchError> {
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        Ok(response)
    } else {
        Err(FetchError::Status(status.as_u16()))
    }
}

fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// Exponential backoff with a little jitter so retried pages do not return in lockstep.
fn backoff(attempt: u32) -> Duration {
    let jitter = Duration::from_millis(u64::from(Utc::now().timestamp_subsec_millis() % 100));
    BACKOFF_BASE * 2u32.saturating_pow(attempt.min(6)) + jitter
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = header_str(headers, header::RETRY_AFTER)?;
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    Some((when.with_timezone(&Utc) - Utc::now()).to_std().unwrap_or(Duration::ZERO))
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_string)
}

fn mime_of(headers: &HeaderMap) -> Option<String> {
    let value = header_str(headers, header::CONTENT_TYPE)?;
    crate::hygiene::mime_type(value.split(';').next()?)
}

/// The total of `Content-Range: bytes 0-0/12345`.
fn total_of_content_range(value: &str) -> Option<u64> {
    value.rsplit_once('/')?.1.trim().parse().ok()
}

fn is_html_type(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    mime.is_empty() || mime.contains("html") || mime.ends_with("/xml") || mime.starts_with("text/")
}

/// Decodes an HTML body: a byte-order mark wins, then the `Content-Type` charset, then a
/// `<meta charset>` in the first kilobyte, else UTF-8 (invalid bytes become U+FFFD).
pub fn decode_html(body: &[u8], content_type: Option<&str>) -> String {
    let encoding = Encoding::for_bom(body)
        .map(|(encoding, _)| encoding)
        .or_else(|| content_type.and_then(charset_param).and_then(|c| Encoding::for_label(c.as_bytes())))
        .or_else(|| meta_charset(&body[..body.len().min(1024)]))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = encoding.decode(body);
    text.into_owned()
}

fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim().eq_ignore_ascii_case("charset").then(|| value.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// `<meta charset="...">` or `<meta http-equiv="Content-Type" content="text/html; charset=...">`.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = head.as_str();
    while let Some(at) = rest.find("<meta") {
        rest = &rest[at + 5..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(pos) = tag.find("charset=") {
            let value = tag[pos + 8..].trim_start_matches(['"', '\'', ' ']);
            let end = value
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':'))
                .unwrap_or(value.len());
            if let Some(encoding) = Encoding::for_label(&value.as_bytes()[..end]) {
                // A page that says UTF-16 in ASCII-compatible bytes is not UTF-16 (HTML spec).
                return Some(if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
                    encoding_rs::UTF_8
                } else {
                    encoding
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAFE_LATIN1: &[u8] = b"<p>Caf\xe9 cr\xe8me</p>";

    #[test]
    fn charset_from_content_type_header() {
        assert_eq!(decode_html(CAFE_LATIN1, Some("text/html; charset=ISO-8859-1")), "<p>Café crème</p>");
        assert_eq!(decode_html(CAFE_LATIN1, Some("text/html;charset=\"iso-8859-1\"")), "<p>Café crème</p>");
    }

    #[test]
    fn charset_from_meta_tags() {
        let mut page = b"<html><head><meta charset=\"windows-1252\"></head>".to_vec();
        page.extend_from_slice(CAFE_LATIN1);
        assert!(decode_html(&page, Some("text/html")).ends_with("<p>Café crème</p>"));
        let mut page = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\">".to_vec();
        page.extend_from_slice(CAFE_LATIN1);
        assert!(decode_html(&page, None).ends_with("<p>Café crème</p>"));
    }

    #[test]
    fn header_charset_beats_meta_and_bom_beats_both() {
        let page = "<meta charset=iso-8859-1><p>Café</p>".as_bytes();
        assert!(decode_html(page, Some("text/html; charset=utf-8")).ends_with("<p>Café</p>"));
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(page);
        assert!(decode_html(&bom, Some("text/html; charset=iso-8859-1")).ends_with("<p>Café</p>"));
    }

    #[test]
    fn utf8_default_and_invalid_bytes_do_not_fail() {
        assert_eq!(decode_html("<p>Ünïcødé</p>".as_bytes(), None), "<p>Ünïcødé</p>");
        assert_eq!(decode_html(b"<p>\xff</p>", Some("text/html; charset=utf-8")), "<p>\u{fffd}</p>");
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(header::RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
    }

    #[test]
    fn content_range_total() {
        assert_eq!(total_of_content_range("bytes 0-0/48123"), Some(48123));
        assert_eq!(total_of_content_range("bytes 0-0/*"), None);
    }

    #[tokio::test]
    async fn page_text_is_held_against_a_budget_by_size() {
        use futures::FutureExt;
        let client = Client::new(&Http { concurrency: 1, max_page_bytes: 1024 * 1024, ..Http::default() }).unwrap();
        let everything = client.hold_text(usize::MAX).await;
        assert!(client.hold_text(1).now_or_never().is_none(), "a spent budget makes the next page wait");
        drop(everything);
        let mut reserved = client.hold_text(1024 * 1024).await;
        client.refit(&mut reserved, 10 * 1024).await;
        assert_eq!(reserved.0.num_permits(), 10, "what a reservation did not use goes back");
        assert_eq!(client.limits.text_budget.available_permits() as u32, client.limits.text_budget_kib - 10);
    }

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

    /// The cause of a failed request, as a person would name it: each server here fails one way.
    #[tokio::test]
    async fn network_failures_name_their_cause() {
        let config =
            Http { timeout_secs: 1, retries: 0, respect_robots: false, allow_private: true, ..Http::default() };
        let client = Client::new(&config).unwrap();
        let get = |url: String| {
            let client = &client;
            async move {
                let url = Url::parse(&url).unwrap();
                client.page(&url, RequestKind::Episode, None, &|_: &Url| true).await.map(|_| ()).unwrap_err()
            }
        };
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        assert_eq!(get(format!("http://{closed}/")).await, FetchError::Refused);

        // Accepted by the kernel, never answered.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        assert_eq!(get(format!("http://{}/", silent.local_addr().unwrap())).await, FetchError::Timeout);

        // Plain HTTP where TLS was expected.
        let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = plain.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = plain.accept().await {
                use tokio::io::AsyncWriteExt;
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi").await;
            }
        });
        let tls = get(format!("https://{addr}/")).await;
        assert!(matches!(&tls, FetchError::Tls(why) if !why.is_empty()), "{tls:?}");
        assert!(tls.to_string().starts_with("TLS handshake failed: "), "{tls}");
    }

    #[test]
    fn html_content_types() {
        assert!(is_html_type("text/html; charset=utf-8"));
        assert!(is_html_type("application/xhtml+xml"));
        assert!(!is_html_type("audio/mpeg"));
        assert!(!is_html_type("application/pdf"));
    }
}
