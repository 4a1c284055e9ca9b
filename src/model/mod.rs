//! The plain types that cross pipeline stages.

mod channel;
mod problem;
pub use channel::{Channel, Funding, Location, Owner, Person, ShowType};
pub use problem::{Problem, Reason, Retry};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One episode as extracted from its page, plus what the enclosure probe learned.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Episode {
    /// Stable identity: the recipe's `guid` rule, else the canonical link, else the page URL.
    pub guid: String,
    /// The page the episode was extracted from.
    pub page_url: String,
    pub link: String,
    pub title: String,
    #[serde(default)]
    pub published: Option<DateTime<Utc>>,
    pub enclosure: Enclosure,
    /// Seconds.
    #[serde(default)]
    pub duration: Option<u64>,
    /// HTML, as feed readers take `<description>`: sanitized, or plain text escaped.
    #[serde(default)]
    pub description: Option<String>,
    /// Sanitized HTML with absolute URLs.
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub episode: Option<u32>,
    #[serde(default)]
    pub season: Option<u32>,
    /// `full`, `trailer` or `bonus`.
    #[serde(default)]
    pub episode_type: Option<String>,
    #[serde(default)]
    pub explicit: Option<bool>,
    /// URL of a transcript file.
    #[serde(default)]
    pub transcript: Option<String>,
    /// URL of a JSON chapters file.
    #[serde(default)]
    pub chapters: Option<String>,
    /// `podcast:season`'s `name`: the season's title ("The Early Years").
    #[serde(default)]
    pub season_name: Option<String>,
    /// `itunes:block` on the item: this episode stays out of Apple Podcasts.
    #[serde(default)]
    pub block: bool,
    /// `podcast:person` on the item: hosts and guests the page names.
    #[serde(default)]
    pub persons: Vec<Credit>,
}

/// A person an episode page names, as `podcast:person` writes them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Credit {
    pub name: String,
    /// `host` or `guest`: the rule that found the person.
    pub role: String,
    /// A page about the person, when the name was a link.
    #[serde(default)]
    pub href: Option<String>,
}

/// The audio file of an episode. `url` is always the one the page gave, never a redirect target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Enclosure {
    pub url: String,
    #[serde(default)]
    pub length: Option<u64>,
    #[serde(default)]
    pub mime_type: Option<String>,
}

/// What a HEAD (or ranged GET) of an enclosure told us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub length: Option<u64>,
    pub mime_type: Option<String>,
}

/// A downloaded HTML page, decoded to text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The URL we asked for (the cache key).
    pub url: String,
    /// Where redirects ended; relative links resolve against this.
    pub final_url: String,
    pub html: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub fetched_at: DateTime<Utc>,
}

/// What one run did, printed by `--json` and summarized on stderr.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    /// The recipe file.
    pub recipe: String,
    /// Why the run could not publish (`null` when it did): the same sentence as on stderr.
    pub error: Option<String>,
    /// Episodes seen for the first time.
    pub new: u64,
    /// Episodes whose extracted data changed.
    pub updated: u64,
    /// Episodes fetched (or re-extracted) again with nothing changed.
    pub unchanged: u64,
    /// Pages that could not be fetched, listing pages included; their previous data is kept.
    pub failed: u64,
    /// Of those, episode pages that are dead links (a 404, not HTML...) and had failed on an
    /// earlier run too: they don't count toward `output.max_failures`. An episode page the site
    /// fails to serve (5xx, a timeout) always counts.
    pub failed_again: u64,
    /// Pages that are not feed items (no audio URL), or that robots.txt disallows.
    pub skipped: u64,
    /// Pages whose episode has the audio of another episode: one episode, one item.
    pub duplicates: u64,
    /// Listing pages read (from the site, or its cached copy on 304).
    pub listing_pages: u64,
    /// Listing pages that could not be read (also counted in `failed`).
    pub listing_failed: u64,
    /// Pages of every kind that were read, from the site or the cache.
    pub pages_read: u64,
    /// Enclosures whose size could not be learned; each is tried again on later runs.
    pub probes_failed: u64,
    /// Items in the written feed.
    pub items: u64,
    /// HTTP requests made, of every kind.
    pub requests: u64,
    /// Bytes of response bodies downloaded.
    pub bytes: u64,
    pub elapsed_ms: u64,
    /// Whether the published feed file was replaced.
    pub feed_changed: bool,
    /// Each failed, skipped or duplicate page and each failed probe; in JSON, one line each
    /// (`URL: reason`).
    pub problems: Vec<Problem>,
    /// The reason the first listing page (else the first page) failed, for the message of a run
    /// that reached nothing.
    #[serde(skip)]
    pub first_failure: Option<Reason>,
    /// Of the failed pages, those the site failed to serve (5xx, timeouts, refused...): when
    /// they are all the failures and nothing was read, the site could not be reached.
    #[serde(skip)]
    pub outages: u64,
    /// Advice about the feed as a whole (a missing owner email, a serial show's unnumbered
    /// episodes...): each kind is said on the first run that gives it, not every night (see
    /// `Store::notices`).
    #[serde(skip)]
    pub notices: Vec<Notice>,
}

/// Advice about the feed as a whole: its kind (what it is about, which stays the same while the
/// numbers in its text move) and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: &'static str,
    pub text: String,
}

impl RunSummary {
    /// An empty summary of a run of the recipe at `recipe`.
    pub fn of(recipe: &std::path::Path) -> RunSummary {
        RunSummary { recipe: recipe.display().to_string(), ..RunSummary::default() }
    }
}

/// Validators from an earlier fetch, for a conditional GET.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What a run tells whoever watches it as it goes. The library draws nothing: the command
/// layer shows bars; tests and `--quiet` runs watch with [`Unwatched`].
pub trait Progress: Send + Sync + std::fmt::Debug {
    /// A listing page or sitemap was read.
    fn listing_read(&self) {}
    /// The episode pages to process are `total` so far.
    fn pages_total(&self, _total: u64) {}
    /// The crawl found `more` episode pages to process.
    fn more_pages(&self, _more: u64) {}
    /// One episode page was processed.
    fn page_done(&self) {}
    /// The run is over: what was shown of it goes.
    fn finished(&self) {}
}

/// Progress nobody watches.
#[derive(Debug, Default)]
pub struct Unwatched;

impl Progress for Unwatched {}
