//! The recipe: what one site looks like. Parsed from TOML, validated, and compiled once into
//! selectors and regexes that every stage shares.

use std::fmt;
use std::path::{Path, PathBuf};

use regex::Regex;
use scraper::Selector;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use url::Url;

use crate::hygiene;

/// An invalid recipe: which file, which key, and why. Always exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{}: {key}: {reason}", file.display())]
pub struct RecipeError {
    pub file: PathBuf,
    /// Dotted path of the offending key, e.g. `episode.audio[1].css`; `(file)` for the whole file.
    pub key: String,
    pub reason: String,
}

/// The default `User-Agent`: names podfeed and its version so site owners know who is calling.
/// The project has no public home yet to link from here; a recipe can add a contact address
/// with `user_agent = "podfeed/0.1 (+https://you.example/contact)"`.
pub const DEFAULT_USER_AGENT: &str = concat!("podfeed/", env!("CARGO_PKG_VERSION"));

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

/// `[http]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Episode pages in flight at once.
    #[serde(default = "Http::default_concurrency")]
    pub concurrency: usize,
    /// Requests in flight to one host; defaults to `concurrency`.
    pub per_host: Option<usize>,
    /// Timeout of one request, in seconds.
    #[serde(default = "Http::default_timeout")]
    pub timeout_secs: u64,
    /// Retries after a connect error, a timeout, a 429 or a 5xx.
    #[serde(default = "Http::default_retries")]
    pub retries: u32,
    #[serde(default = "Http::default_user_agent")]
    pub user_agent: String,
    /// Ask each host's robots.txt before fetching its pages (enclosures are not pages).
    #[serde(default = "Http::default_respect_robots")]
    pub respect_robots: bool,
    /// Requests per second to one host at most; 0 means no rate limit (only `per_host`).
    #[serde(default)]
    pub rate_limit: u32,
    /// Pages larger than this are refused, so one bad URL cannot exhaust memory.
    #[serde(default = "Http::default_max_page_bytes")]
    pub max_page_bytes: u64,
    /// Let URLs a site names reach loopback, private, link-local and other non-global
    /// addresses (a site on the LAN). Off, only the origins of the recipe's own URLs may.
    #[serde(default)]
    pub allow_private: bool,
    /// Host names answered with these addresses instead of DNS, as curl's `--resolve`: a site
    /// whose name does not resolve yet, or a test.
    #[serde(default)]
    pub resolve: std::collections::HashMap<String, std::net::IpAddr>,
}

impl Http {
    fn default_concurrency() -> usize {
        32
    }
    fn default_timeout() -> u64 {
        20
    }
    fn default_retries() -> u32 {
        3
    }
    fn default_user_agent() -> String {
        DEFAULT_USER_AGENT.to_string()
    }
    fn default_respect_robots() -> bool {
        true
    }
    fn default_max_page_bytes() -> u64 {
        5 * 1024 * 1024
    }

    /// Requests in flight to one host.
    pub fn per_host(&self) -> usize {
        self.per_host.unwrap_or(self.concurrency)
    }

    /// The limits several recipes run together share: the largest concurrency and page cap,
    /// the most polite per-host and rate limits. (Each recipe's client keeps its own user
    /// agent, robots.txt choice, timeouts, retries and addresses.)
    pub fn shared<'a>(configs: impl IntoIterator<Item = &'a Http>) -> Http {
        let mut configs = configs.into_iter();
        let Some(first) = configs.next() else { return Http::default() };
        configs.fold(first.clone(), |mut shared, next| {
            shared.per_host = Some(shared.per_host().min(next.per_host()));
            shared.concurrency = shared.concurrency.max(next.concurrency);
            shared.max_page_bytes = shared.max_page_bytes.max(next.max_page_bytes);
            shared.rate_limit = match (shared.rate_limit, next.rate_limit) {
                (0, r) | (r, 0) => r,
                (a, b) => a.min(b),
            };
            shared
        })
    }
}

impl Default for Http {
    fn default() -> Self {
        Http {
            concurrency: Http::default_concurrency(),
            per_host: None,
            timeout_secs: Http::default_timeout(),
            retries: Http::default_retries(),
            user_agent: Http::default_user_agent(),
            rate_limit: 0,
            respect_robots: true,
            max_page_bytes: Http::default_max_page_bytes(),
            allow_private: false,
            resolve: Default::default(),
        }
    }
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

/// `[crawl] pages = "https://site/archive?page={n}"`, with `from` and `to`.
#[derive(Debug, Clone)]
pub struct NumberedPages {
    /// The URL with `{n}` where the number goes.
    pub template: String,
    pub from: u32,
    pub to: Option<u32>,
}

impl NumberedPages {
    /// Page `n`'s URL; `None` past `to`.
    pub fn url(&self, n: u32) -> Option<Url> {
        if self.to.is_some_and(|to| n > to) {
            return None;
        }
        Url::parse(&self.template.replace("{n}", &n.to_string())).ok()
    }

    /// Which numbered page `url` is, if it is one: one of the numbers in it, put back into the
    /// template, gives it.
    pub fn number_of(&self, url: &Url) -> Option<u32> {
        url.as_str()
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|digits| digits.parse().ok())
            .find(|&n| self.url(n).as_ref() == Some(url))
    }
}

/// Query parameters that only track where a visitor came from: a link with them is the same
/// page as without. Names ending in `*` are prefixes.
pub const TRACKING_PARAMS: [&str; 9] =
    ["utm_*", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref"];

impl Crawl {
    /// The form of a page URL that names the page: without a fragment, and without tracking
    /// parameters or the recipe's `ignore_params` (the rest of the query is kept as written).
    /// Two links to one page are one URL, fetched once and cached once.
    pub fn canonical(&self, mut url: Url) -> Url {
        url.set_fragment(None);
        let Some(query) = url.query() else { return url };
        let ignored = |pair: &&str| {
            let name = pair.split('=').next().unwrap_or_default().to_ascii_lowercase();
            let matches = |pattern: &str| match pattern.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => name == pattern,
            };
            TRACKING_PARAMS.iter().any(|p| matches(p))
                || self.ignore_params.iter().any(|p| matches(&p.to_ascii_lowercase()))
        };
        if !query.split('&').any(|pair| ignored(&pair)) {
            return url;
        }
        let kept: Vec<&str> = query.split('&').filter(|pair| !pair.is_empty() && !ignored(pair)).collect();
        let kept = kept.join("&");
        url.set_query((!kept.is_empty()).then_some(kept.as_str()));
        url
    }

    /// Whether the recipe fetches any episode page (`episodes` links, or a sitemap); without,
    /// its `[listing]` items are all it reads.
    pub fn reads_episode_pages(&self) -> bool {
        self.episodes.is_some() || !self.sitemap.is_empty()
    }

    /// Whether a listing item's episode page is fetched: when the recipe reads episode pages
    /// (through `episodes` links, or a sitemap whose `sitemap_match` the link matches) and the
    /// link is in scope (off scope, it only names the episode).
    pub fn fetches_page_of(&self, link: &Url) -> bool {
        let by_sitemap =
            !self.sitemap.is_empty() && self.sitemap_match.as_ref().is_none_or(|m| m.is_match(link.as_str()));
        (self.episodes.is_some() || by_sitemap) && self.in_scope(link)
    }

    /// Whether a URL is http(s) on a host (and port) the recipe allows. A scope entry without
    /// a port allows the scheme's own (80, 443): `127.0.0.1:8080` is not `127.0.0.1:6379`.
    pub fn in_scope(&self, url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some_and(|host| {
                self.scope.iter().any(|entry| {
                    let (entry_host, entry_port) = split_port(entry);
                    let port_matches = match entry_port {
                        Some(port) => url.port_or_known_default() == Some(port),
                        None => url.port().is_none(),
                    };
                    entry_host.eq_ignore_ascii_case(host) && port_matches
                })
            })
    }
}

/// A URL's host as a scope entry: `host`, or `host:port` when it names a port of its own.
fn scope_entry(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// `host:port` into its parts (`[::1]:8080` too); a bare host has no port.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && (!host.contains(':') || host.ends_with(']')) => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
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
    /// A field's rules by its recipe key (`"title"`, `"audio"`, ...); empty for unknown names.
    pub fn rules_for(&self, field: &str) -> &[Rule] {
        match field {
            "title" => &self.title,
            "audio" => &self.audio,
            "link" => &self.link,
            "guid" => &self.guid,
            "published" => &self.published,
            "duration" => &self.duration,
            "description" => &self.description,
            "content" => &self.content,
            "image" => &self.image,
            "episode" => &self.episode,
            "season" => &self.season,
            "episode_type" => &self.episode_type,
            "explicit" => &self.explicit,
            "transcript" => &self.transcript,
            "chapters" => &self.chapters,
            "season_name" => &self.season_name,
            "block" => &self.block,
            "hosts" => &self.hosts,
            "guests" => &self.guests,
            _ => &[],
        }
    }
}

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub css: Selector,
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
        compile(file, name, path).map_err(|(key, reason)| err(&key, reason))
    }
}

fn toml_reason(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim();
    match e.span() {
        Some(span) => format!("{message} (line {})", text[..span.start.min(text.len())].matches('\n').count() + 1),
        None => message.to_string(),
    }
}

type Invalid = (String, String);

/// The smallest `[output] max_bytes`: a channel and a few items.
const MIN_FEED_BYTES: u64 = 16 * 1024;

fn compile(file: RecipeFile, name: String, path: &Path) -> Result<Recipe, Invalid> {
    let invalid = |key: &str, reason: String| (key.to_string(), reason);
    let feed = hygiene::channel(file.feed)?;
    if feed.locked == Some(true) && feed.owner.as_ref().and_then(|o| o.email.as_ref()).is_none() {
        return Err(invalid("feed.locked", "podcast:locked needs `owner.email` to name who may unlock it".into()));
    }
    for (key, percent) in
        [("output.max_failures", file.output.max_failures), ("output.min_items_percent", file.output.min_items_percent)]
    {
        if percent > 100 {
            return Err(invalid(key, format!("{percent} is not a percentage (0 to 100)")));
        }
    }
    let mut output = file.output;
    if output.max_bytes > 0 && output.split.is_none() {
        return Err(invalid(
            "output.max_bytes",
            "needs `split = \"year\"` or `\"season\"`: the oldest items move to the split feeds".into(),
        ));
    }
    if (1..MIN_FEED_BYTES).contains(&output.max_bytes) {
        return Err(invalid(
            "output.max_bytes",
            format!("{} is too small for a feed (at least {MIN_FEED_BYTES})", output.max_bytes),
        ));
    }
    if let Some(template) = &output.template {
        // Relative to the recipe, so a recipe folder can carry its own template.
        let template = path.parent().unwrap_or(Path::new("")).join(template);
        if !template.is_file() {
            return Err(invalid("output.template", format!("{} is not a file", template.display())));
        }
        output.template = Some(template);
    }
    let http = file.http;
    if http.concurrency == 0 {
        return Err(invalid("http.concurrency", "must be at least 1".into()));
    }
    if http.per_host == Some(0) {
        return Err(invalid("http.per_host", "must be at least 1".into()));
    }
    if http.timeout_secs == 0 {
        return Err(invalid("http.timeout_secs", "must be at least 1".into()));
    }
    let crawl = compile_crawl(file.crawl)?;
    let (episode, listing) = compile_episode_sources(&crawl, file.episode, file.listing)?;
    Ok(Recipe { name, path: path.to_path_buf(), feed, output, crawl, http, episode, listing })
}

fn url_key(key: &str, value: &str) -> Result<Url, Invalid> {
    let url = Url::parse(value).map_err(|e| (key.to_string(), format!("{value:?} is not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err((key.to_string(), format!("{value:?} is not an http(s) URL")));
    }
    Ok(url)
}

fn compile_crawl(crawl: CrawlFile) -> Result<Crawl, Invalid> {
    if crawl.start.is_empty() && crawl.pages.is_none() && crawl.sitemap.is_empty() {
        return Err(("crawl.start".into(), "needs at least one URL (or numbered `pages`, or a `sitemap`)".into()));
    }
    let sitemap = url_list("crawl.sitemap", &crawl.sitemap)?;
    let sitemap_match = crawl.sitemap_match.as_deref().map(|p| regex("crawl.sitemap_match", p)).transpose()?;
    // Keys that do nothing alone are a mistake worth saying.
    let without = |key: &str, needs: &str| Err((format!("crawl.{key}"), format!("does nothing without crawl.{needs}")));
    if sitemap_match.is_some() && sitemap.is_empty() {
        return without("sitemap_match", "sitemap");
    }
    match (&crawl.pages, crawl.from, crawl.to) {
        (None, Some(_), _) => return without("from", "pages"),
        (None, _, Some(_)) => return without("to", "pages"),
        _ => {}
    }
    let pages = crawl.pages.map(|template| numbered_pages(template, crawl.from.unwrap_or(1), crawl.to)).transpose()?;
    let start = url_list("crawl.start", &crawl.start)?;
    let first_numbered = pages.as_ref().and_then(|p| p.url(p.from));
    let scope = crawl.scope.unwrap_or_else(|| {
        let mut hosts: Vec<String> =
            start.iter().chain(first_numbered.iter()).chain(sitemap.iter()).filter_map(scope_entry).collect();
        hosts.dedup();
        hosts
    });
    if crawl.max_pages == 0 {
        return Err(("crawl.max_pages".into(), "must be at least 1".into()));
    }
    if crawl.max_sitemap_urls == 0 {
        return Err(("crawl.max_sitemap_urls".into(), "must be at least 1".into()));
    }
    let oldest_first = match crawl.order.as_deref() {
        None | Some("newest-first") => false,
        Some("oldest-first") => true,
        Some(other) => {
            return Err(("crawl.order".into(), format!("`{other}`: must be \"newest-first\" or \"oldest-first\"")))
        }
    };
    Ok(Crawl {
        start,
        episodes: crawl.episodes.as_deref().map(|css| selector("crawl.episodes", css)).transpose()?,
        follow: crawl.follow.as_deref().map(|css| selector("crawl.follow", css)).transpose()?,
        max_pages: crawl.max_pages,
        scope,
        recheck_days: crawl.recheck_days,
        ignore_params: crawl.ignore_params,
        timezone: crawl.timezone.as_deref().map(time_zone).transpose()?,
        pages,
        sitemap,
        sitemap_match,
        max_sitemap_urls: crawl.max_sitemap_urls,
        oldest_first,
    })
}

/// URLs under `key`, each checked (`key[i]` names a bad one).
fn url_list(key: &str, urls: &[String]) -> Result<Vec<Url>, Invalid> {
    urls.iter().enumerate().map(|(i, u)| url_key(&format!("{key}[{i}]"), u)).collect()
}

fn regex(key: &str, pattern: &str) -> Result<Regex, Invalid> {
    Regex::new(pattern).map_err(|e| (key.to_string(), format!("invalid regex {pattern:?}: {e}")))
}

/// `[crawl] pages`, `from` and `to`.
fn numbered_pages(template: String, from: u32, to: Option<u32>) -> Result<NumberedPages, Invalid> {
    if !template.contains("{n}") {
        return Err(("crawl.pages".into(), format!("{template:?} has no {{n}} where the page number goes")));
    }
    url_key("crawl.pages", &template.replace("{n}", &from.to_string()))?;
    if to.is_some_and(|to| to < from) {
        return Err(("crawl.to".into(), format!("is before crawl.from = {from}")));
    }
    Ok(NumberedPages { template, from, to })
}

/// An IANA time zone name such as `America/New_York`.
fn time_zone(name: &str) -> Result<chrono_tz::Tz, Invalid> {
    name.parse().map_err(|_| {
        ("crawl.timezone".to_string(), format!("{name:?} is not an IANA time zone name (such as \"America/New_York\")"))
    })
}

fn selector(key: &str, css: &str) -> Result<Selector, Invalid> {
    Selector::parse(css).map_err(|e| (key.to_string(), css_error(css, &format!("{e:?}"))))
}

/// A CSS selector's error as a sentence, with where it is. scraper gives neither the place nor
/// a readable reason (its text is "Unexpected error occurred. Please report this to the
/// developer"): the place is where the longest prefix that parses ends, the reason is read off
/// the error's kind.
fn css_error(css: &str, kind: &str) -> String {
    let kinds = [
        ("ClassNeedsIdent", "expected a class name after \".\""),
        ("EmptySelector", "the selector is empty"),
        ("DanglingCombinator", "a combinator (>, +, ~ or a space) has nothing after it"),
        ("EndOfLine", "the selector ends too early (an unclosed bracket, parenthesis or quote?)"),
        ("PseudoElementExpectedIdent", "expected a name after \"::\""),
        ("ExpectedIdentityOnPseudoElement", "expected a name after \"::\""),
        ("NoIdentForPseudo", "expected a pseudo-class name after \":\""),
        ("UnsupportedPseudoClassOrElement", "unknown pseudo-class or pseudo-element"),
        ("InAttr", "invalid attribute selector (write it as [name] or [name=\"value\"])"),
        ("AttributeSelector", "invalid attribute selector (write it as [name] or [name=\"value\"])"),
        ("UnexpectedIdent", "unexpected name"),
        ("UnexpectedToken", "unexpected character"),
    ];
    let mut reason = kinds.iter().find(|(name, _)| kind.contains(name)).map_or("not a CSS selector", |(_, why)| why);
    if kind.contains("EndOfLine") {
        // The selector stops where a name was due.
        match css.trim_end().chars().last() {
            Some('.') => reason = "expected a class name after \".\"",
            Some('#') => reason = "expected an id after \"#\"",
            Some('>' | '+' | '~') => reason = "a combinator (>, +, ~ or a space) has nothing after it",
            _ => {}
        }
    }
    let valid = (0..css.len())
        .rev()
        .filter(|&end| css.is_char_boundary(end))
        .find(|&end| end == 0 || Selector::parse(&css[..end]).is_ok())
        .unwrap_or(0);
    let column = css[..valid].chars().count() + 1;
    format!(
        "invalid CSS selector {css:?}: {reason}, at column {column} ({:?})",
        crate::text::shorten(&css[valid..], 20)
    )
}

/// Where episodes come from: episode pages (`crawl.episodes` and `[episode]`), items on the
/// listing pages (`[listing]`), or both (the page's fields win where it has them).
fn compile_episode_sources(
    crawl: &Crawl,
    episode: Option<EpisodeRulesFile>,
    listing: Option<EpisodeRulesFile>,
) -> Result<(EpisodeRules, Option<ListingRules>), Invalid> {
    let pages = crawl.reads_episode_pages();
    let episode = match (pages, episode) {
        // Beside [listing], the item may give what the page does not.
        (true, Some(rules)) => compile_episode_rules("episode", rules, listing.is_none())?,
        (true, None) => {
            return Err((
                "episode".into(),
                "missing: `crawl.episodes` links episode pages, and [episode] says how to read them".into(),
            ))
        }
        (false, Some(_)) => {
            return Err((
                "episode".into(),
                "no episode page is fetched without `crawl.episodes`: set it, or move these rules to [listing]".into(),
            ))
        }
        (false, None) if listing.is_none() => {
            return Err((
                "crawl.episodes".into(),
                "missing: links to episode pages, or a [listing] table whose items are the episodes".into(),
            ))
        }
        (false, None) => EpisodeRules::default(),
    };
    let listing = match listing {
        Some(rules) if pages && rules.audio.is_none() && episode.audio.is_empty() => {
            return Err(("listing.audio".into(), "neither [listing] nor [episode] says where the audio is".into()))
        }
        Some(mut rules) => {
            let item = rules.item.take().ok_or_else(|| {
                ("listing.item".to_string(), "missing: the CSS selector of one episode on a listing page".to_string())
            })?;
            // Alone, the items must give what an episode needs; beside episode pages, the page may.
            let rules = compile_episode_rules("listing", rules, !pages)?;
            Some(ListingRules {
                item: selector("listing.item", &item)?,
                rules: EpisodeRules { timezone: crawl.timezone, ..rules },
            })
        }
        None => None,
    };
    Ok((EpisodeRules { timezone: crawl.timezone, ..episode }, listing))
}

fn compile_episode_rules(table: &str, rules: EpisodeRulesFile, required: bool) -> Result<EpisodeRules, Invalid> {
    if rules.item.is_some() {
        return Err((format!("{table}.item"), "`item` belongs in [listing]".into()));
    }
    let field =
        |name: &str, rules: Option<RulesFile>| compile_rules(table, name, rules.map(|r| r.0).unwrap_or_default());
    let needed = |name: &str, rules: Option<RulesFile>| {
        if required {
            compile_required(table, name, rules.unwrap_or(RulesFile(Vec::new())))
        } else {
            field(name, rules)
        }
    };
    Ok(EpisodeRules {
        title: needed("title", rules.title)?,
        audio: needed("audio", rules.audio)?,
        link: field("link", rules.link)?,
        guid: field("guid", rules.guid)?,
        published: field("published", rules.published)?,
        duration: field("duration", rules.duration)?,
        description: field("description", rules.description)?,
        content: field("content", rules.content)?,
        image: field("image", rules.image)?,
        episode: field("episode", rules.episode)?,
        season: field("season", rules.season)?,
        episode_type: field("episode_type", rules.episode_type)?,
        explicit: field("explicit", rules.explicit)?,
        transcript: field("transcript", rules.transcript)?,
        chapters: field("chapters", rules.chapters)?,
        season_name: field("season_name", rules.season_name)?,
        block: field("block", rules.block)?,
        hosts: field("hosts", rules.hosts)?,
        guests: field("guests", rules.guests)?,
        timezone: None,
    })
}

fn compile_required(table: &str, name: &str, rules: RulesFile) -> Result<Vec<Rule>, Invalid> {
    if rules.0.is_empty() {
        return Err((format!("{table}.{name}"), "needs at least one rule".into()));
    }
    compile_rules(table, name, rules.0)
}

fn compile_rules(table: &str, name: &str, rules: Vec<RuleFile>) -> Result<Vec<Rule>, Invalid> {
    let single = rules.len() == 1;
    rules
        .into_iter()
        .enumerate()
        .map(|(i, rule)| {
            let key = if single { format!("{table}.{name}") } else { format!("{table}.{name}[{i}]") };
            if rule.all && matches!(name, "hosts" | "guests") {
                return Err((format!("{key}.all"), "every element it selects is one person already".into()));
            }
            compile_rule(&key, rule)
        })
        .collect()
}

/// The group numbers a template names (`$2`, `${2}`), as the regex crate's expansion reads them.
fn template_groups(template: &str) -> impl Iterator<Item = usize> + '_ {
    template.split('$').skip(1).filter_map(|after| {
        let digits = after.strip_prefix('{').unwrap_or(after);
        let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
        digits[..end].parse().ok()
    })
}

fn compile_rule(key: &str, rule: RuleFile) -> Result<Rule, Invalid> {
    let regex = rule.regex.as_deref().map(|pattern| regex(&format!("{key}.regex"), pattern)).transpose()?;
    if rule.template.is_some() && regex.is_none() {
        return Err((
            format!("{key}.template"),
            "a template builds the value from `regex` groups: add a `regex`".into(),
        ));
    }
    if let (Some(template), Some(regex)) = (&rule.template, &regex) {
        let groups = regex.captures_len() - 1;
        if let Some(n) = template_groups(template).find(|&n| n > groups) {
            let reason = format!("uses ${n}, but the regex has {groups} group{}", if groups == 1 { "" } else { "s" });
            return Err((format!("{key}.template"), reason));
        }
    }
    if rule.join.is_some() && !rule.all {
        return Err((format!("{key}.join"), "`join` joins every match: add `all = true`".into()));
    }
    if let Some(format) = &rule.format {
        check_date_format(format).map_err(|why| (format!("{key}.format"), why))?;
    }
    if rule.attr.is_some() && !rule.remove.is_empty() {
        return Err((format!("{key}.remove"), "`remove` drops parts of the text or HTML; an `attr` has none".into()));
    }
    let remove = rule
        .remove
        .iter()
        .enumerate()
        .map(|(i, css)| selector(&format!("{key}.remove[{i}]"), css))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(pointer) = &rule.json {
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err((format!("{key}.json"), format!("{pointer:?} is not a JSON pointer (it must start with '/')")));
        }
    }
    if rule.html && rule.attr.is_some() {
        return Err((format!("{key}.html"), "`html = true` and `attr` exclude each other".into()));
    }
    Ok(Rule {
        css: selector(&format!("{key}.css"), &rule.css)?,
        attr: rule.attr,
        html: rule.html,
        json: rule.json,
        regex,
        template: rule.template,
        format: rule.format,
        remove,
        all: rule.all.then(|| rule.join.unwrap_or_else(|| " ".into())),
    })
}

/// A strftime format chrono can use: every `%` directive known.
fn check_date_format(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    match StrftimeItems::new(format).find(|item| matches!(item, Item::Error)) {
        Some(_) => Err(format!(
            "{format:?} is not a date format: it has a `%` directive chrono does not know \
             (see https://docs.rs/chrono/latest/chrono/format/strftime/)"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[feed]
title = "Show"
link = "https://example.org/"
description = "About"

[crawl]
start = ["https://example.org/archive"]
episodes = "a.episode"

[episode]
title = { css = "h1" }
audio = [ { css = "div.player", attr = "data-audio", json = "/audioUrl" }, { css = "a.download", attr = "href" } ]
"#;

    fn parse(text: &str) -> Result<Recipe, RecipeError> {
        Recipe::parse(text, Path::new("show.toml"))
    }

    fn error(text: &str) -> RecipeError {
        parse(text).expect_err("recipe should be invalid")
    }

    #[test]
    fn minimal_recipe_gets_defaults() {
        let recipe = parse(MINIMAL).unwrap();
        assert_eq!(recipe.name, "show");
        assert_eq!(recipe.crawl.scope, vec!["example.org".to_string()]);
        assert_eq!(recipe.crawl.max_pages, 2000);
        assert_eq!(recipe.http.concurrency, 32);
        assert_eq!(recipe.http.per_host(), 32);
        assert_eq!(recipe.output.path, PathBuf::from("public/feed.xml"));
        assert_eq!(recipe.episode.audio.len(), 2);
        assert_eq!(recipe.episode.audio[0].json.as_deref(), Some("/audioUrl"));
        assert!(recipe.episode.guid.is_empty());
    }

    #[test]
    fn unknown_key_names_file_key_and_field() {
        let e = error(&MINIMAL.replace("title = { css = \"h1\" }", "title = { css = \"h1\", atr = \"x\" }"));
        assert_eq!(e.file, PathBuf::from("show.toml"));
        assert_eq!(e.key, "episode.title.atr");
        assert!(e.reason.contains("unknown field `atr`"), "{}", e.reason);
        assert!(e.reason.contains("line"), "{}", e.reason);
    }

    #[test]
    fn wrong_type_names_the_key() {
        let e = error(&format!("{MINIMAL}\n[http]\nconcurrency = \"many\"\n"));
        assert_eq!(e.key, "http.concurrency");
        assert!(e.reason.contains("invalid type"), "{}", e.reason);
    }

    #[test]
    fn missing_required_key() {
        let e = error(&MINIMAL.replace("description = \"About\"\n", ""));
        assert_eq!(e.key, "feed");
        assert!(e.reason.contains("missing field `description`"), "{}", e.reason);
    }

    #[test]
    fn invalid_toml_gives_the_line() {
        let e = error("[feed]\ntitle = \"Show\"\nlink = \n");
        assert_eq!(e.key, "(file)");
        assert!(e.reason.contains("line 3"), "{}", e.reason);
    }

    #[test]
    fn invalid_selector_in_a_rule_list() {
        let e = error(&MINIMAL.replace("a.download", "a..download"));
        assert_eq!(e.key, "episode.audio[1].css");
        assert!(e.reason.contains("invalid CSS selector"), "{}", e.reason);
    }

    #[test]
    fn css_errors_are_sentences_with_a_place() {
        let e = error(&MINIMAL.replace("title = { css = \"h1\" }", "title = { css = \"h1.title > span.\" }"));
        assert_eq!(e.key, "episode.title.css");
        assert!(e.reason.contains("expected a class name after \".\", at column 16"), "{}", e.reason);
        assert!(!e.reason.contains("Please report"), "{}", e.reason);
        let e = error(&MINIMAL.replace("title = { css = \"h1\" }", "title = { css = \"div >\" }"));
        assert!(e.reason.contains("a combinator (>, +, ~ or a space) has nothing after it"), "{}", e.reason);
    }

    #[test]
    fn rule_options_are_checked_at_load() {
        let rule =
            |extra: &str| MINIMAL.replace("title = { css = \"h1\" }", &format!("title = {{ css = \"h1\", {extra} }}"));
        let e = error(&rule("format = \"%Q %d\""));
        assert_eq!(e.key, "episode.title.format");
        assert!(e.reason.contains("is not a date format"), "{}", e.reason);
        assert_eq!(error(&rule("template = \"$1\"")).key, "episode.title.template");
        let e = error(&rule("regex = '(\\d+):(\\d+)', template = \"$1:$3\""));
        assert_eq!(
            (e.key.as_str(), e.reason.as_str()),
            ("episode.title.template", "uses $3, but the regex has 2 groups")
        );
        assert_eq!(error(&rule("join = \", \"")).key, "episode.title.join");
        assert_eq!(error(&rule("remove = [\"p..x\"]")).key, "episode.title.remove[0]");
        assert_eq!(error(&rule("attr = \"title\", remove = [\"p\"]")).key, "episode.title.remove");
        assert!(parse(&rule(
            "regex = '(\\d+):(\\d+)', template = \"$1:$2\", all = true, join = \" \", remove = [\"em\"]"
        ))
        .is_ok());
    }

    #[test]
    fn where_episodes_come_from_is_checked() {
        let listing_only = |listing: &str| {
            let head = MINIMAL.split("[episode]").next().unwrap().replace("episodes = \"a.episode\"\n", "");
            format!("{head}[listing]\n{listing}")
        };
        let ok =
            listing_only("item = \"article\"\ntitle = { css = \"h2\" }\naudio = { css = \"a\", attr = \"href\" }\n");
        let recipe = parse(&ok).unwrap();
        assert!(recipe.crawl.episodes.is_none() && recipe.listing.is_some());
        assert_eq!(
            error(&listing_only("title = { css = \"h2\" }\naudio = { css = \"a\", attr = \"href\" }\n")).key,
            "listing.item"
        );
        assert_eq!(error(&listing_only("item = \"article\"\ntitle = { css = \"h2\" }\n")).key, "listing.audio");
        assert_eq!(
            error(&listing_only("item = \"article ..x\"\ntitle = { css = \"h2\" }\naudio = { css = \"a\" }\n")).key,
            "listing.item"
        );
        // Neither links to pages nor items; page rules with no page to read; `item` misplaced.
        assert_eq!(
            error(MINIMAL.replace("episodes = \"a.episode\"\n", "").split("[episode]").next().unwrap()).key,
            "crawl.episodes"
        );
        assert_eq!(error(&MINIMAL.replace("episodes = \"a.episode\"\n", "")).key, "episode");
        assert_eq!(error(&MINIMAL.replace("[episode]\n", "[episode]\nitem = \"article\"\n")).key, "episode.item");
        // Beside [listing], the page rules need not give the audio: the item may.
        let both = format!(
            "{}[listing]\nitem = \"article\"\naudio = {{ css = \"a\", attr = \"href\" }}\n",
            MINIMAL.replace("audio = [", "# audio = [")
        );
        assert!(parse(&both).is_ok(), "{:?}", parse(&both).err());
        // One of the two must.
        let neither = format!("{}[listing]\nitem = \"article\"\n", MINIMAL.replace("audio = [", "# audio = ["));
        assert_eq!(error(&neither).key, "listing.audio");
    }

    #[test]
    fn directory_controls_are_checked() {
        let feed =
            |extra: &str| MINIMAL.replace("description = \"About\"", &format!("description = \"About\"\n{extra}"));
        let ok = parse(&feed(
            "block = true\ncomplete = true\nfunding = [{ url = \"https://example.org/give\", text = \"Give\" }]\n\
             persons = [{ name = \"Jo\", role = \"Host\" }]\nlocation = { name = \"Austin\", geo = \"geo:30.2,97.7\" }",
        ))
        .unwrap();
        assert!(ok.feed.block && ok.feed.complete);
        assert_eq!(ok.feed.persons[0].role.as_deref(), Some("host"));
        let key = |extra: &str| error(&feed(extra)).key;
        assert_eq!(key("funding = [{ url = \"/give\", text = \"Give\" }]"), "feed.funding[0].url");
        assert_eq!(
            key(&format!("funding = [{{ url = \"https://a.example/\", text = \"{}\" }}]", "x".repeat(129))),
            "feed.funding[0].text"
        );
        assert_eq!(key("persons = [{ name = \" \" }]"), "feed.persons[0].name");
        assert_eq!(key("persons = [{ name = \"Jo\", href = \"jo.html\" }]"), "feed.persons[0].href");
        assert_eq!(key("location = { name = \"Austin\", geo = \"30.2,97.7\" }"), "feed.location.geo");
        assert_eq!(key("location = { name = \"Austin\", osm = \"113314\" }"), "feed.location.osm");
        assert_eq!(key("block = \"yes\""), "feed.block");
        // Apple's names, spelt as Apple does.
        let ok = parse(&feed("categories = [\"science/ astronomy\"]\nlanguage = \"EN-gb\"")).unwrap();
        assert_eq!((ok.feed.categories[0].as_str(), ok.feed.language.as_deref()), ("Science/Astronomy", Some("en-gb")));
        assert_eq!(key("categories = [\"Science\", \"Sience/Astronomy\"]"), "feed.categories[1]");
        assert_eq!(key("language = \"english\""), "feed.language");
    }

    #[test]
    fn max_bytes_needs_split_feeds_and_room_for_a_feed() {
        let output = |keys: &str| MINIMAL.replace("[crawl]", &format!("[output]\n{keys}\n[crawl]"));
        assert_eq!(parse(&output("split = \"season\"\nmax_bytes = 500000")).unwrap().output.max_bytes, 500_000);
        assert_eq!(error(&output("max_bytes = 500000")).key, "output.max_bytes");
        assert_eq!(error(&output("split = \"year\"\nmax_bytes = 100")).key, "output.max_bytes");
        assert_eq!(error(&output("split = \"month\"")).key, "output.split");
    }

    #[test]
    fn hosts_and_guests_take_every_match_already() {
        let rules = |rule: &str| MINIMAL.replace("[episode]\n", &format!("[episode]\n{rule}\n"));
        assert!(parse(&rules("guests = { css = \".guest\" }\nhosts = [{ css = \"a\" }, { css = \"b\" }]")).is_ok());
        assert_eq!(error(&rules("guests = { css = \".guest\", all = true }")).key, "episode.guests.all");
    }

    #[test]
    fn numbered_pages_are_checked() {
        let with =
            |extra: &str| MINIMAL.replace("episodes = \"a.episode\"", &format!("episodes = \"a.episode\"\n{extra}"));
        assert_eq!(error(&with("pages = \"https://example.org/archive?page=2\"")).key, "crawl.pages");
        assert_eq!(error(&with("pages = \"example.org/archive?page={n}\"")).key, "crawl.pages");
        assert_eq!(error(&with("pages = \"https://example.org/a?page={n}\"\nfrom = 3\nto = 2")).key, "crawl.to");
        let recipe = parse(&with("pages = \"https://example.org/a?page={n}\"\nfrom = 2\nto = 9")).unwrap();
        let pages = recipe.crawl.pages.unwrap();
        assert_eq!(pages.url(2).unwrap().as_str(), "https://example.org/a?page=2");
        assert_eq!(pages.url(10), None, "past `to`");
        assert_eq!(pages.number_of(&pages.url(7).unwrap()), Some(7));
        assert_eq!(pages.number_of(&Url::parse("https://example.org/a?page=7&x=1").unwrap()), None);
        assert_eq!(pages.number_of(&Url::parse("https://example.org/a?page=12").unwrap()), None, "past `to`");
        assert_eq!(error(&with("from = 2")).key, "crawl.from", "without pages");
        assert_eq!(error(&with("to = 2")).key, "crawl.to", "without pages");
        // Numbered pages alone need no `start`.
        let alone =
            MINIMAL.replace("start = [\"https://example.org/archive\"]", "pages = \"https://example.org/a?page={n}\"");
        assert!(parse(&alone).is_ok());
    }

    #[test]
    fn sitemaps_are_checked() {
        let with =
            |extra: &str| MINIMAL.replace("episodes = \"a.episode\"", &format!("episodes = \"a.episode\"\n{extra}"));
        assert_eq!(error(&with("sitemap = [\"sitemap.xml\"]")).key, "crawl.sitemap[0]");
        assert_eq!(
            error(&with("sitemap = [\"https://example.org/sitemap.xml\"]\nsitemap_match = \"(\"")).key,
            "crawl.sitemap_match"
        );
        assert_eq!(error(&with("sitemap_match = '/ep/'")).key, "crawl.sitemap_match", "without a sitemap");
        // A sitemap alone lists episode pages: no `start`, no `episodes` needed.
        let alone = MINIMAL
            .replace("start = [\"https://example.org/archive\"]", "sitemap = [\"https://example.org/sitemap.xml\"]")
            .replace("episodes = \"a.episode\"\n", "");
        let recipe = parse(&alone).unwrap();
        assert_eq!(recipe.crawl.scope, ["example.org"]);
    }

    #[test]
    fn time_zone_names_are_checked() {
        let with = |zone: &str| {
            MINIMAL.replace("episodes = \"a.episode\"", &format!("episodes = \"a.episode\"\ntimezone = \"{zone}\""))
        };
        let e = error(&with("America/New_Yrok"));
        assert_eq!(e.key, "crawl.timezone");
        assert!(e.reason.contains("not an IANA time zone name"), "{}", e.reason);
        let recipe = parse(&with("America/New_York")).unwrap();
        assert_eq!(recipe.episode.timezone, Some(chrono_tz::America::New_York));
    }

    #[test]
    fn invalid_regex() {
        let e = error(&MINIMAL.replace("title = { css = \"h1\" }", "title = { css = \"h1\", regex = \"(\" }"));
        assert_eq!(e.key, "episode.title.regex");
    }

    #[test]
    fn invalid_start_url() {
        let e = error(&MINIMAL.replace("https://example.org/archive", "example.org/archive"));
        assert_eq!(e.key, "crawl.start[0]");
    }

    #[test]
    fn error_display_names_file_key_and_reason() {
        let e = error(&MINIMAL.replace("a.episode", "a["));
        assert!(e.to_string().starts_with("show.toml: crawl.episodes: invalid CSS selector"), "{e}");
    }

    #[test]
    fn shared_http_settings_are_the_politest_limits() {
        let a = Http { concurrency: 32, per_host: Some(8), rate_limit: 0, ..Http::default() };
        let b = Http { concurrency: 64, per_host: None, rate_limit: 5, ..Http::default() };
        let shared = Http::shared([&a, &b]);
        assert_eq!((shared.concurrency, shared.per_host(), shared.rate_limit), (64, 8, 5));
    }

    #[test]
    fn tracking_and_ignored_parameters_do_not_make_another_page() {
        let recipe =
            parse(&MINIMAL.replace("episodes = \"a.episode\"", "episodes = \"a.episode\"\nignore_params = [\"src\"]"))
                .unwrap();
        let canonical = |url: &str| recipe.crawl.canonical(Url::parse(url).unwrap()).to_string();
        assert_eq!(canonical("https://example.org/ep/1?utm_source=x&utm_medium=y#top"), "https://example.org/ep/1");
        assert_eq!(
            canonical("https://example.org/ep/1?fbclid=1&gclid=2&ref=home&SRC=feed"),
            "https://example.org/ep/1"
        );
        assert_eq!(canonical("https://example.org/ep?id=1&ref=home&x=a%20b"), "https://example.org/ep?id=1&x=a%20b");
        assert_eq!(canonical("https://example.org/ep?id=1&x=a+b"), "https://example.org/ep?id=1&x=a+b", "untouched");
        assert_eq!(canonical("https://example.org/ep?x=1"), "https://example.org/ep?x=1");
        assert_eq!(canonical("https://example.org/ep?referrer=1"), "https://example.org/ep?referrer=1");
    }

    #[test]
    fn scope_limits_hosts_and_schemes() {
        let recipe = parse(MINIMAL).unwrap();
        assert!(recipe.crawl.in_scope(&Url::parse("https://example.org/x").unwrap()));
        assert!(recipe.crawl.in_scope(&Url::parse("http://EXAMPLE.org/x").unwrap()));
        assert!(!recipe.crawl.in_scope(&Url::parse("http://example.org:8080/x").unwrap()), "another port");
        let on_a_port = parse(&MINIMAL.replace("https://example.org/", "http://127.0.0.1:8080/")).unwrap();
        assert_eq!(on_a_port.crawl.scope, ["127.0.0.1:8080"]);
        assert!(on_a_port.crawl.in_scope(&Url::parse("http://127.0.0.1:8080/episodes/1").unwrap()));
        assert!(!on_a_port.crawl.in_scope(&Url::parse("http://127.0.0.1:6379/").unwrap()));
        assert!(!on_a_port.crawl.in_scope(&Url::parse("http://127.0.0.1/").unwrap()));
        let explicit = parse(&MINIMAL.replace("episodes = ", "scope = [\"example.org:443\"]\nepisodes = ")).unwrap();
        assert!(explicit.crawl.in_scope(&Url::parse("https://example.org/x").unwrap()), "443 named");
        assert!(!explicit.crawl.in_scope(&Url::parse("http://example.org/x").unwrap()), "80 is another port");
        assert!(!recipe.crawl.in_scope(&Url::parse("https://evil.example.com/x").unwrap()));
        assert!(!recipe.crawl.in_scope(&Url::parse("ftp://example.org/x").unwrap()));
    }
}
