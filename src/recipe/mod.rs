//! The recipe: what one site looks like. Parsed from TOML, validated, and compiled once into
//! selectors and regexes that every stage shares.
//!
//! This file holds the schema, as written and as compiled, and reads a file; `compile.rs`
//! checks and compiles it, `scope.rs` says which URLs a crawl reads and in what form, and
//! `http.rs` holds the `[http]` settings and how recipes built together share them.

use std::fmt;
use std::path::{Path, PathBuf};

use regex::Regex;
use scraper::Selector;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use url::Url;

use crate::css::Filed;

mod compile;
mod http;
mod scope;
mod target;

pub use http::{Http, DEFAULT_USER_AGENT};
pub use scope::{NumberedPages, TRACKING_PARAMS};
pub use target::PublishTarget;

/// An invalid recipe: which file, which key, and why. Always exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{}: {key}: {reason}", file.display())]
pub struct RecipeError {
    pub file: PathBuf,
    /// Dotted path of the offending key, e.g. `episode.audio[1].css`; `(file)` for the whole file.
    pub key: String,
    pub reason: String,
}

// ---------------------------------------------------------------------------------------------
// The file as written

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecipeFile {
    feed: Channel,
    #[serde(default)]
    output: Output,
    crawl: CrawlFile,
    #[serde(default)]
    http: Http,
    episode: Option<EpisodeRulesFile>,
    listing: Option<EpisodeRulesFile>,
}

pub use crate::model::{Channel, Funding, Location, Owner, Person, ShowType};

/// `[output]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    /// The feed file; `--out` overrides it. Relative paths are relative to the working directory.
    #[serde(default = "Output::default_path")]
    pub path: PathBuf,
    /// Also write an `index.html` beside the feed.
    #[serde(default)]
    pub html: bool,
    /// A minijinja template for that page instead of the built-in `templates/index.html`.
    pub template: Option<PathBuf>,
    /// Also write `feed.xml.gz` beside the feed, for servers that serve files precompressed.
    #[serde(default)]
    pub gzip: bool,
    /// Don't publish when more than this percentage of the pages tried failed (a site that is
    /// down); the run exits 1 and the published feed stays as it was.
    #[serde(default = "Output::default_max_failures")]
    pub max_failures: u8,
    /// Don't publish a feed with fewer items than this percentage of the feed already
    /// published (a broken recipe or a half-empty site), unless `--force`.
    #[serde(default = "Output::default_min_items_percent")]
    pub min_items_percent: u8,
    /// Also write one feed per year (`feed-2017.xml`) or season (`feed-season-3.xml`) beside the
    /// main one, for apps that choke on a feed of thousands of items.
    pub split: Option<Split>,
    /// When the main feed would be larger than this many bytes, its oldest items are left to the
    /// split feeds (which need `split`); 0 for no limit.
    #[serde(default)]
    pub max_bytes: u64,
    /// Places the feed and its files go after the folder: `git+file:///srv/feeds.git#gh-pages`
    /// and the like (see [`PublishTarget`]); `build --publish` adds one for a run.
    #[serde(default)]
    pub publish: Vec<String>,
    /// `publish`, read.
    #[serde(skip)]
    pub targets: Vec<PublishTarget>,
    /// The `Cache-Control` objects get on S3-compatible storage: how long a CDN or an app may
    /// keep the feed before asking again.
    #[serde(default = "Output::default_cache_control")]
    pub cache_control: String,
}

/// `[output] split`: how the archive is cut into smaller feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Year,
    Season,
}

impl Output {
    fn default_path() -> PathBuf {
        PathBuf::from("public/feed.xml")
    }
    fn default_max_failures() -> u8 {
        20
    }
    fn default_min_items_percent() -> u8 {
        90
    }
    fn default_cache_control() -> String {
        "max-age=300".into()
    }
}

impl Default for Output {
    fn default() -> Self {
        Output {
            path: Output::default_path(),
            html: false,
            template: None,
            gzip: false,
            max_failures: Output::default_max_failures(),
            min_items_percent: Output::default_min_items_percent(),
            split: None,
            max_bytes: 0,
            publish: Vec::new(),
            targets: Vec::new(),
            cache_control: Output::default_cache_control(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CrawlFile {
    #[serde(default)]
    start: Vec<String>,
    episodes: Option<String>,
    follow: Option<String>,
    #[serde(default = "default_max_pages")]
    max_pages: usize,
    scope: Option<Vec<String>>,
    #[serde(default = "default_recheck_days")]
    recheck_days: u32,
    #[serde(default)]
    ignore_params: Vec<String>,
    timezone: Option<String>,
    pages: Option<String>,
    from: Option<u32>,
    to: Option<u32>,
    #[serde(default)]
    sitemap: Vec<String>,
    sitemap_match: Option<String>,
    #[serde(default = "default_max_sitemap_urls")]
    max_sitemap_urls: usize,
    order: Option<String>,
}

fn default_max_sitemap_urls() -> usize {
    200_000
}

fn default_max_pages() -> usize {
    2000
}

fn default_recheck_days() -> u32 {
    7
}

/// `[episode]`, and `[listing]` (whose `item` selects one element per episode).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EpisodeRulesFile {
    item: Option<String>,
    title: Option<RulesFile>,
    audio: Option<RulesFile>,
    link: Option<RulesFile>,
    guid: Option<RulesFile>,
    published: Option<RulesFile>,
    duration: Option<RulesFile>,
    description: Option<RulesFile>,
    content: Option<RulesFile>,
    image: Option<RulesFile>,
    episode: Option<RulesFile>,
    season: Option<RulesFile>,
    episode_type: Option<RulesFile>,
    explicit: Option<RulesFile>,
    transcript: Option<RulesFile>,
    chapters: Option<RulesFile>,
    season_name: Option<RulesFile>,
    block: Option<RulesFile>,
    hosts: Option<RulesFile>,
    guests: Option<RulesFile>,
}

/// One rule as written: `{ css = "...", attr = "...", ... }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    css: String,
    attr: Option<String>,
    #[serde(default)]
    html: bool,
    json: Option<String>,
    regex: Option<String>,
    template: Option<String>,
    format: Option<String>,
    #[serde(default)]
    remove: Vec<String>,
    #[serde(default)]
    all: bool,
    join: Option<String>,
}

/// A field's value: one rule, or a list of rules tried in order.
#[derive(Debug)]
struct RulesFile(Vec<RuleFile>);

impl<'de> Deserialize<'de> for RulesFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RulesVisitor;
        impl<'de> Visitor<'de> for RulesVisitor {
            type Value = RulesFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a rule such as { css = \"h1\" } or a list of rules")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RulesFile, A::Error> {
                RuleFile::deserialize(de::value::MapAccessDeserializer::new(map)).map(|r| RulesFile(vec![r]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RulesFile, A::Error> {
                Vec::<RuleFile>::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(RulesFile)
            }
        }
        deserializer.deserialize_any(RulesVisitor)
    }
}

// ---------------------------------------------------------------------------------------------
// The compiled recipe

/// A validated recipe with its selectors and regexes compiled.
#[derive(Debug)]
pub struct Recipe {
    /// The file's stem; names the default cache folder.
    pub name: String,
    pub path: PathBuf,
    pub feed: Channel,
    pub output: Output,
    pub crawl: Crawl,
    pub http: Http,
    pub episode: EpisodeRules,
    /// Episodes described on the listing pages themselves.
    pub listing: Option<ListingRules>,
}

impl Recipe {
    /// Where the crawl begins: `start`, the first numbered page and `sitemap`. Their origins are
    /// trusted with any address (see `fetch::guard`). Not `[feed]`'s image or link: `init`
    /// copies those from what the site says, and a site must not get its own addresses trusted.
    pub fn own_urls(&self) -> Vec<Url> {
        let crawl = &self.crawl;
        let numbered = crawl.pages.as_ref().and_then(|p| p.url(p.from));
        crawl.start.iter().cloned().chain(numbered).chain(crawl.sitemap.iter().cloned()).collect()
    }
}

/// `[crawl]`, compiled.
#[derive(Debug)]
pub struct Crawl {
    pub start: Vec<Url>,
    /// Links on listing pages to episode pages; none when `[listing]` items are the episodes.
    pub episodes: Option<Selector>,
    /// Links on listing pages to more listing pages.
    pub follow: Option<Selector>,
    /// Listing pages read at most, so endless pagination ends.
    pub max_pages: usize,
    /// Hosts that may be fetched.
    pub scope: Vec<String>,
    /// Episodes published in the last this many days are fetched again (conditionally) on every
    /// incremental run, because sites fix recent episodes; 0 turns that off.
    pub recheck_days: u32,
    /// Query parameters that never make a page different, besides the tracking ones every
    /// site has ([`TRACKING_PARAMS`]).
    pub ignore_params: Vec<String>,
    /// The site's time zone: dates written without an offset are in it.
    pub timezone: Option<chrono_tz::Tz>,
    /// Numbered listing pages, read from `from` until one gives no episode (or `to`).
    pub pages: Option<NumberedPages>,
    /// Sitemaps (or sitemap indexes) listing episode pages.
    pub sitemap: Vec<Url>,
    /// Which sitemap URLs are episode pages; all of them in scope when unset.
    pub sitemap_match: Option<Regex>,
    /// Page URLs read from sitemaps at most, all sitemaps together: a site's sitemaps can name
    /// millions (2,000 sitemaps of 50,000), which would all be held, and, without
    /// `sitemap_match`, fetched.
    pub max_sitemap_urls: usize,
    /// `order = "oldest-first"`: the archive's pages begin with its oldest episodes, so news
    /// is on its last pages and every incremental run reads the archive whole (conditionally).
    pub oldest_first: bool,
}

/// `[listing]`, compiled: what makes one episode on a listing page, and its rules, evaluated
/// inside that element.
#[derive(Debug)]
pub struct ListingRules {
    pub item: Selector,
    pub rules: EpisodeRules,
}

/// `[episode]`, compiled: each field's rules in the order they are tried.
#[derive(Debug, Default)]
pub struct EpisodeRules {
    pub title: Vec<Rule>,
    pub audio: Vec<Rule>,
    pub link: Vec<Rule>,
    pub guid: Vec<Rule>,
    pub published: Vec<Rule>,
    pub duration: Vec<Rule>,
    pub description: Vec<Rule>,
    pub content: Vec<Rule>,
    pub image: Vec<Rule>,
    pub episode: Vec<Rule>,
    pub season: Vec<Rule>,
    /// `full`, `trailer` or `bonus`.
    pub episode_type: Vec<Rule>,
    /// `true`/`yes`/`explicit` or `false`/`no`/`clean`.
    pub explicit: Vec<Rule>,
    /// URL of a transcript (`podcast:transcript`).
    pub transcript: Vec<Rule>,
    /// URL of a JSON chapters file (`podcast:chapters`).
    pub chapters: Vec<Rule>,
    /// The season's title, written as `podcast:season`'s `name`.
    pub season_name: Vec<Rule>,
    /// `true`/`yes` keeps the episode out of Apple Podcasts (`itunes:block` on the item).
    pub block: Vec<Rule>,
    /// `podcast:person` with role `host`: every element the first matching rule selects is one
    /// person, its value the name, its `href` (when it is a link) the person's page.
    pub hosts: Vec<Rule>,
    /// The same, with role `guest`.
    pub guests: Vec<Rule>,
    /// `[crawl] timezone`: dates written without an offset are in it.
    pub timezone: Option<chrono_tz::Tz>,
}

impl EpisodeRules {
    /// Every field's recipe key and rules, in the order fields are read.
    pub fn fields(&self) -> [(&'static str, &[Rule]); 19] {
        [
            ("title", &self.title),
            ("audio", &self.audio),
            ("link", &self.link),
            ("guid", &self.guid),
            ("published", &self.published),
            ("duration", &self.duration),
            ("description", &self.description),
            ("content", &self.content),
            ("image", &self.image),
            ("episode", &self.episode),
            ("season", &self.season),
            ("episode_type", &self.episode_type),
            ("explicit", &self.explicit),
            ("transcript", &self.transcript),
            ("chapters", &self.chapters),
            ("season_name", &self.season_name),
            ("block", &self.block),
            ("hosts", &self.hosts),
            ("guests", &self.guests),
        ]
    }

    /// Every rule of every field.
    pub fn every_rule(&self) -> impl Iterator<Item = &Rule> {
        self.fields().into_iter().flat_map(|(_, rules)| rules)
    }

    /// A field's rules by its recipe key (`"title"`, `"audio"`, ...); empty for unknown names.
    pub fn rules_for(&self, field: &str) -> &[Rule] {
        self.fields().into_iter().find(|(name, _)| *name == field).map_or(&[], |(_, rules)| rules)
    }
}

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub css: Selector,
    /// The same selector, for reading many rules in one walk over a page (see `css`).
    pub filed: Filed,
    /// Take this attribute instead of the element's text.
    pub attr: Option<String>,
    /// Take the element's inner HTML (sanitized later) instead of its text.
    pub html: bool,
    /// A JSON pointer into the selected string.
    pub json: Option<String>,
    /// Keep the first capture group (or the whole match when there is none).
    pub regex: Option<Regex>,
    /// Build the value from the regex's groups instead (`"$1:$2"`, the regex crate's expansion).
    pub template: Option<String>,
    /// strftime format for dates, tried before the built-in forms.
    pub format: Option<String>,
    /// Descendants dropped before the text or HTML is taken (captions, player buttons...).
    pub remove: Vec<Selector>,
    /// Every match joined with this, instead of the first match.
    pub all: Option<String>,
    /// Whether the rule's value can depend on what the page says after the element it selects:
    /// `all`, or a selector such as `:last-child`, `:nth-last-of-type(2)`, `:only-child` or
    /// `:has(~ p)`. A page is never read only in part for such a rule (see `extract`).
    pub looks_ahead: bool,
}

impl Recipe {
    /// Reads and validates a recipe file.
    pub fn load(path: &Path) -> Result<Recipe, RecipeError> {
        let text = std::fs::read_to_string(path).map_err(|e| RecipeError {
            file: path.to_path_buf(),
            key: "(file)".into(),
            reason: format!("cannot read: {e}"),
        })?;
        Recipe::parse(&text, path)
    }

    /// Validates recipe text; `path` names it in errors and gives the recipe its name.
    pub fn parse(text: &str, path: &Path) -> Result<Recipe, RecipeError> {
        let err = |key: &str, reason: String| RecipeError { file: path.to_path_buf(), key: key.to_string(), reason };
        let deserializer = toml::Deserializer::parse(text).map_err(|e| err("(file)", toml_reason(&e, text)))?;
        let file: RecipeFile = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let key = e.path().to_string();
            err(if key == "." { "(file)" } else { &key }, toml_reason(e.inner(), text))
        })?;
        let name = path.file_stem().and_then(|s| s.to_str()).filter(|s| !s.is_empty()).unwrap_or("recipe").to_string();
        compile::compile(file, name, path).map_err(|(key, reason)| err(&key, reason))
    }
}

fn toml_reason(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim();
    match e.span() {
        Some(span) => format!("{message} (line {})", text[..span.start.min(text.len())].matches('\n').count() + 1),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests;
