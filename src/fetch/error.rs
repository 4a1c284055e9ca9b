//! Why a URL could not be fetched, named as a person would name the cause.

use super::guard::PrivateAddress;

/// Redirects followed for one request, as browsers do (Chrome and Firefox stop at 20; curl at 50).
pub(super) const MAX_REDIRECTS: usize = 10;

/// Why a URL could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("HTTP {0}")]
    Status(u16),
    #[error("connection refused")]
    Refused,
    #[error("DNS lookup failed: {0}")]
    Dns(String),
    #[error("timed out")]
    Timeout,
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    #[error("network error: {0}")]
    Network(String),
    #[error("page larger than {0} bytes")]
    TooLarge(u64),
    #[error("not an HTML page (Content-Type: {0})")]
    NotHtml(String),
    #[error("server asked to retry after {0} s")]
    RetryTooLate(u64),
    #[error("no size in the HEAD or ranged GET answer")]
    NoLength,
    #[error("disallowed by robots.txt")]
    Disallowed,
    /// robots.txt answered 5xx (or could not be read whole): RFC 9309 counts the site as
    /// disallowed until it can be read.
    #[error("not fetched: robots.txt {0}")]
    RobotsUnavailable(RobotsUnreadable),
    #[error("redirected to {host}, outside crawl.scope; not followed")]
    OffScope { host: String },
    #[error("redirected to {0}; not followed")]
    BadRedirect(String),
    #[error("more than {MAX_REDIRECTS} redirects (a redirect loop?)")]
    TooManyRedirects,
    #[error("not fetched: the {0} requests allowed were made")]
    RequestLimit(u64),
    /// The URL leads to a loopback, private, link-local... address the user did not name.
    #[error(transparent)]
    Private(#[from] PrivateAddress),
}

/// Why robots.txt could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RobotsUnreadable {
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("could not be read: {0}")]
    Body(Box<FetchError>),
}

impl FetchError {
    /// Whether the site failed to serve (an outage, worth retrying and telling about every
    /// time) rather than the page being wrong (a dead link, a PDF, a redirect off the site).
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Status(status) => *status >= 500 || *status == 408 || *status == 429,
            FetchError::Refused
            | FetchError::Dns(_)
            | FetchError::Timeout
            | FetchError::Tls(_)
            | FetchError::Network(_)
            | FetchError::RetryTooLate(_)
            | FetchError::RobotsUnavailable(_)
            | FetchError::RequestLimit(_) => true,
            FetchError::TooLarge(_)
            | FetchError::NotHtml(_)
            | FetchError::NoLength
            | FetchError::Disallowed
            | FetchError::OffScope { .. }
            | FetchError::BadRedirect(_)
            | FetchError::TooManyRedirects
            | FetchError::Private(_) => false,
        }
    }

    /// Names the cause a person can act on (refused, DNS, timeout, TLS) instead of reqwest's
    /// chain of wrappers ("error sending request for url (...): client error (Connect): ...").
    pub(super) fn from_reqwest(error: &reqwest::Error) -> FetchError {
        let chain: Vec<&(dyn std::error::Error + 'static)> =
            std::iter::successors(Some(error as &(dyn std::error::Error + 'static)), |e| e.source()).collect();
        if let Some(refused) = chain.iter().find_map(|e| e.downcast_ref::<PrivateAddress>()) {
            return FetchError::Private(refused.clone());
        }
        if error.is_timeout() {
            return FetchError::Timeout;
        }
        let innermost = chain.last().map(|e| e.to_string()).unwrap_or_default();
        let io_kind =
            |kind| chain.iter().any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == kind));
        // hyper-util's connector errors are private types; their messages are all there is.
        let says = |text: &str| chain.iter().any(|e| e.to_string() == text);
        if io_kind(std::io::ErrorKind::ConnectionRefused) {
            FetchError::Refused
        } else if io_kind(std::io::ErrorKind::TimedOut) {
            FetchError::Timeout
        } else if says("dns error") {
            FetchError::Dns(innermost)
        } else if error.is_connect() && !says("tcp connect error") && error.url().is_some_and(|u| u.scheme() == "https")
        {
            FetchError::Tls(innermost)
        } else {
            FetchError::Network(innermost)
        }
    }
}
