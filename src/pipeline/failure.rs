//! Why a page gave no episode, or an enclosure no size: typed until the report prints it.

use crate::extract::NotAnEpisode;
use crate::fetch::FetchError;

/// Why a page gave no episode (failed, or skipped as no feed item).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageFailure {
    /// It could not be fetched (an HTTP status, the network, robots.txt, too large, not HTML...).
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The cached copy was lost, and the site still answered 304 when asked without validators.
    #[error("304 Not Modified to an unconditional request")]
    NotModifiedUnasked,
    /// It was read, and is not a feed item (or too complex to read).
    #[error(transparent)]
    NotAnEpisode(#[from] NotAnEpisode),
    /// A listing item whose page is not fetched, sent where a page was expected.
    #[error("no page")]
    NoPage,
    /// Its task was cancelled before it finished.
    #[error("the page's work was cancelled")]
    Cancelled,
}

impl PageFailure {
    /// An outage (5xx, a timeout...) rather than a dead link (404, not HTML...): it counts toward
    /// `max_failures` however many runs in a row it happens.
    pub fn is_transient(&self) -> bool {
        match self {
            PageFailure::Fetch(e) => e.is_transient(),
            PageFailure::NotModifiedUnasked | PageFailure::Cancelled => true,
            PageFailure::NotAnEpisode(_) | PageFailure::NoPage => false,
        }
    }
}

/// Why an enclosure's size and type could not be learned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeFailure {
    #[error("not a URL: {0}")]
    BadUrl(#[from] url::ParseError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
}
