//! What a run could not use as it wished: a page that failed or was skipped, a duplicate, an
//! enclosure whose size is unknown. Typed where it arises, text only when printed.

use std::fmt;
use std::sync::Arc;

/// Why, as the error that says it (a fetch error, a page that is not an episode...): the stage
/// that knows the cause keeps its type; the report renders it when it prints.
pub type Reason = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// One page or enclosure of a run that needs telling about.
#[derive(Debug, Clone)]
pub enum Problem {
    /// A page that could not be read; its earlier data is kept, and it is asked for again.
    Failed { page: String, listing: bool, reason: Reason },
    /// A page that could not be read, whose episode (from before) stays as it was.
    Stood { page: String, reason: Reason },
    /// A page that could not be read, whose listing item gives its episode.
    ItemStands { page: String, reason: Reason },
    /// A page that is not a feed item (no audio, robots.txt...).
    Skipped { page: String, reason: Reason },
    /// A page whose episode has the audio of another page's: one episode, one item.
    Duplicate { page: String, of: String },
    /// An enclosure whose size and type could not be learned; tried again on later runs.
    Enclosure { audio: String, page: String, reason: Reason, retry: Retry },
}

/// When a failed probe is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    NextRun,
    From(chrono::NaiveDate),
    /// Not known (the record of the failure could not be read or written).
    Unknown,
}

impl fmt::Display for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Retry::NextRun => write!(f, "; tried again next run"),
            Retry::From(day) => write!(f, "; tried again from {}", day.format("%Y-%m-%d")),
            Retry::Unknown => Ok(()),
        }
    }
}

impl Problem {
    /// Whether it is news for the person whose cron mails what a night warns of: something
    /// failed. A page that is not an episode, or is one twice, is the site's way, not news.
    pub fn is_warning(&self) -> bool {
        !matches!(self, Problem::Skipped { .. } | Problem::Duplicate { .. })
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Failed { page, listing: true, reason } => write!(f, "listing page {page}: {reason}"),
            Problem::Failed { page, listing: false, reason } => write!(f, "{page}: {reason}"),
            Problem::Stood { page, reason } => write!(f, "{page}: {reason} (its episode stays as it was)"),
            Problem::ItemStands { page, reason } => write!(f, "{page}: {reason} (the listing's item stands)"),
            Problem::Skipped { page, reason } => write!(f, "{page}: skipped: {reason}"),
            Problem::Duplicate { page, of } => write!(f, "{page}: duplicate of {of} (the same audio)"),
            Problem::Enclosure { audio, page, reason, retry } => {
                write!(f, "enclosure {audio} of {page}: {reason}{retry}")
            }
        }
    }
}

/// In `--json`, each problem is the line a person reads.
impl serde::Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("HTTP 404")]
    struct NotFound;

    #[test]
    fn problems_read_as_the_lines_of_the_report() {
        let reason: Reason = Arc::new(NotFound);
        let failed = Problem::Failed { page: "https://a/1".into(), listing: true, reason: reason.clone() };
        assert_eq!(failed.to_string(), "listing page https://a/1: HTTP 404");
        assert_eq!(serde_json::to_string(&failed).unwrap(), "\"listing page https://a/1: HTTP 404\"");
        let skipped = Problem::Skipped { page: "https://a/2".into(), reason };
        assert_eq!(skipped.to_string(), "https://a/2: skipped: HTTP 404");
        assert!(failed.is_warning() && !skipped.is_warning());
    }
}
