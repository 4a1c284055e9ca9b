//! The one HTTP client: timeouts, retries with backoff, `Retry-After`, per-host limits,
//! conditional GET, a body size cap, charset decoding, the enclosure probe, and the guard that
//! keeps requests off the user's own network ([`guard`]).
//!
//! The files of this module, each one job:
//! - `mod.rs`: the [`Client`], its requests (pages, documents, probes, first bytes), redirects
//!   and retries;
//! - `limits.rs`: the [`Limits`] clients share, and their connection pools;
//! - `host.rs`: the per-host scheduler: each host's slots and rate, and the global slots;
//! - `budget.rs`: the memory budget for page text ([`HeldText`]);
//! - `decode.rs`: reading bodies under a cap, and charset decoding ([`decode_html`]);
//! - `error.rs`, `guard.rs`, `robots.rs`: [`FetchError`], the private-address guard, robots.txt.

mod budget;
mod decode;
mod error;
pub mod guard;
mod host;
mod limits;
mod robots;

pub use budget::HeldText;
pub use decode::decode_html;
use error::MAX_REDIRECTS;
pub use error::{FetchError, RobotsUnreadable};
pub use limits::Limits;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::future::{BoxFuture, FutureExt};
use reqwest::header::{self, HeaderMap};
use reqwest::{RequestBuilder, Response, StatusCode};
use url::Url;

use crate::model::{Page, Probe};
use crate::recipe::Http;
use decode::is_html_type;
use guard::Guard;
use host::Permits;
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
            let unreadable = |why: RobotsUnreadable| {
                tracing::warn!(
                    "{url} {why}: RFC 9309 counts the whole site as disallowed until robots.txt can be \
                     read, so no page of {} is fetched this run",
                    url.host_str().unwrap_or_default()
                );
                RobotsTxt::Unreachable(FetchError::RobotsUnavailable(why))
            };
            if !status.is_success() {
                return unreadable(RobotsUnreadable::Status(status.as_u16()));
            }
            match self.read_capped(response).await {
                Ok(bytes) => RobotsTxt::Found(bytes),
                Err(e) => unreadable(RobotsUnreadable::Body(Box::new(e))),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
