//! Pure extraction: (page, recipe rules) → an [`Episode`], or why the page is not one. Every value
//! goes through [`hygiene`] as it is read, so a rule whose value is junk (a forbidden character
//! and nothing else, a URL that is not http(s), a date in the year 9999) falls through to the
//! next rule, and the episode as a whole goes through it once more at the end.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use ego_tree::iter::Edge;
use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};

use url::Url;

use crate::html::{self, Budget, TooComplex};
use crate::hygiene::{self, OutOfRange};
use crate::model::{Credit, Enclosure, Episode, Page};
use crate::parse::{self, NotADuration};
use crate::recipe::{EpisodeRules, ListingRules, Rule};
use crate::text::shorten;

/// Why a page yields no feed item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAnEpisode {
    #[error("no audio URL found (not a feed item)")]
    NoAudio,
    #[error("no title found")]
    NoTitle,
    #[error("the page URL is not a valid URL")]
    BadUrl,
    /// Not a skipped page but a failed one: it is tried again on the next run.
    #[error(transparent)]
    TooComplex(#[from] TooComplex),
}

/// An episode, and the values its page gave that were out of range and dropped (each worth a
/// warning naming the page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub episode: Episode,
    pub dropped: Vec<Dropped>,
}

/// A field left empty because the values the page gave for it could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub field: &'static str,
    /// The value, shortened to 60 characters.
    pub value: String,
    pub reason: Unused,
}

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?} {}", self.field, self.value, self.reason)
    }
}

/// Why a value a rule found was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unused {
    /// Of the field's kind, but out of range (a date in the year 9999).
    OutOfRange(OutOfRange),
    /// Not of the field's kind: "is not a duration I know".
    NotUnderstood(&'static str),
}

impl std::fmt::Display for Unused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unused::OutOfRange(why) => write!(f, "dropped: {why}"),
            Unused::NotUnderstood(why) => f.write_str(why),
        }
    }
}

/// Which rule produced a field, and the value it produced; for `podfeed check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTrace {
    pub field: &'static str,
    /// Index into the field's rule list; `None` when no rule matched.
    pub rule: Option<usize>,
    /// The value as it will be used, or the default taken.
    pub value: String,
    /// What the page held before conversion: the producing rule's raw string, or, when no rule
    /// produced a value, the first raw string that could not be used (an unparsable date, say).
    pub raw: Option<String>,
    /// Why that first unusable raw string was not used, when it was not of the field's kind or
    /// out of range.
    pub unused: Option<Unused>,
}

/// Why a raw string from the page is not a field's value.
enum Reject {
    /// Nothing left of it (markup, forbidden characters only): the next value is tried, silently.
    Unusable,
    /// Not of the field's kind (not a date, not a URL...): the next value is tried, and the
    /// page reported if nothing else fits.
    NotUnderstood(&'static str),
    /// Of the field's kind but out of range: tried past too, and reported if nothing else fits.
    OutOfRange(OutOfRange),
}

type Converted = Result<String, Reject>;

/// The values one page (or one listing item) gave, field by field, each converted and checked
/// but not yet an episode: a listing item's and its page's are merged before.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    pub title: Option<String>,
    pub audio: Option<String>,
    pub link: Option<String>,
    pub guid: Option<String>,
    /// RFC 3339.
    pub published: Option<String>,
    /// Seconds.
    pub duration: Option<String>,
    pub description: Option<String>,
    pub content: Option<String>,
    pub image: Option<String>,
    pub episode: Option<String>,
    pub season: Option<String>,
    pub episode_type: Option<String>,
    /// `true` or `false`.
    pub explicit: Option<String>,
    pub transcript: Option<String>,
    pub chapters: Option<String>,
    pub season_name: Option<String>,
    /// `true` or `false`.
    pub block: Option<String>,
    /// One person a line: the name, and after a tab their page (see [`credits`]).
    pub hosts: Option<String>,
    pub guests: Option<String>,
}

impl Fields {
    /// Every field by its rule's name, in the recipe guide's order.
    pub fn named(&self) -> [(&'static str, Option<&str>); 19] {
        [
            ("title", self.title.as_deref()),
            ("link", self.link.as_deref()),
            ("guid", self.guid.as_deref()),
            ("audio", self.audio.as_deref()),
            ("published", self.published.as_deref()),
            ("duration", self.duration.as_deref()),
            ("description", self.description.as_deref()),
            ("content", self.content.as_deref()),
            ("image", self.image.as_deref()),
            ("episode", self.episode.as_deref()),
            ("season", self.season.as_deref()),
            ("episode_type", self.episode_type.as_deref()),
            ("explicit", self.explicit.as_deref()),
            ("transcript", self.transcript.as_deref()),
            ("chapters", self.chapters.as_deref()),
            ("season_name", self.season_name.as_deref()),
            ("block", self.block.as_deref()),
            ("hosts", self.hosts.as_deref()),
            ("guests", self.guests.as_deref()),
        ]
    }

    /// The text these fields hold, in bytes.
    pub fn bytes(&self) -> usize {
        self.named().iter().filter_map(|(_, value)| value.map(str::len)).sum()
    }

    /// These fields, with `other`'s where these have none: a page's over its listing item's.
    pub fn or(self, other: Fields) -> Fields {
        Fields {
            title: self.title.or(other.title),
            audio: self.audio.or(other.audio),
            link: self.link.or(other.link),
            guid: self.guid.or(other.guid),
            published: self.published.or(other.published),
            duration: self.duration.or(other.duration),
            description: self.description.or(other.description),
            content: self.content.or(other.content),
            image: self.image.or(other.image),
            episode: self.episode.or(other.episode),
            season: self.season.or(other.season),
            episode_type: self.episode_type.or(other.episode_type),
            explicit: self.explicit.or(other.explicit),
            transcript: self.transcript.or(other.transcript),
            chapters: self.chapters.or(other.chapters),
            season_name: self.season_name.or(other.season_name),
            block: self.block.or(other.block),
            hosts: self.hosts.or(other.hosts),
            guests: self.guests.or(other.guests),
        }
    }

    /// The episode these fields make, from the page at `page_url`: the link defaults to
    /// `default_link`, the guid to the link. Every value goes through the gate once more.
    pub fn into_episode(self, page_url: &str, default_link: String) -> Result<Episode, NotAnEpisode> {
        let link = self.link.unwrap_or(default_link);
        let episode = Episode {
            guid: self.guid.unwrap_or_else(|| link.clone()),
            page_url: page_url.to_string(),
            link,
            title: self.title.ok_or(NotAnEpisode::NoTitle)?,
            published: self.published.and_then(|d| parse::date(&d)),
            enclosure: Enclosure { url: self.audio.ok_or(NotAnEpisode::NoAudio)?, length: None, mime_type: None },
            duration: self.duration.and_then(|s| s.parse().ok()),
            description: self.description,
            content: self.content,
            image: self.image,
            episode: self.episode.and_then(|n| n.parse().ok()),
            season: self.season.and_then(|n| n.parse().ok()),
            episode_type: self.episode_type,
            explicit: self.explicit.map(|b| b == "true"),
            transcript: self.transcript,
            chapters: self.chapters,
            season_name: self.season_name,
            block: self.block.as_deref() == Some("true"),
            persons: credits(self.hosts.as_deref(), "host").chain(credits(self.guests.as_deref(), "guest")).collect(),
        };
        hygiene::episode(episode).map_err(|unusable| match unusable {
            hygiene::Unusable::NoTitle => NotAnEpisode::NoTitle,
            hygiene::Unusable::NoAudio => NotAnEpisode::NoAudio,
            hygiene::Unusable::BadPageUrl => NotAnEpisode::BadUrl,
        })
    }
}

/// Where rules look: the whole page, or one item of a listing page.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Page(&'a Html),
    Item(ElementRef<'a>),
}

impl<'a> Scope<'a> {
    fn select<'s>(self, css: &'s Selector) -> Box<dyn Iterator<Item = ElementRef<'a>> + 's>
    where
        'a: 's,
    {
        match self {
            Scope::Page(doc) => Box::new(doc.select(css)),
            Scope::Item(element) => Box::new(element.select(css)),
        }
    }
}

/// What reading a page's (or an item's) fields gave.
struct Read {
    fields: Fields,
    trace: Vec<FieldTrace>,
    over_budget: Option<TooComplex>,
}

/// Extracts one episode from a page.
pub fn extract(page: &Page, rules: &EpisodeRules) -> Result<Extracted, NotAnEpisode> {
    extract_traced(page, rules).0
}

/// Extracts one episode and records, field by field, which rule produced what.
pub fn extract_traced(page: &Page, rules: &EpisodeRules) -> (Result<Extracted, NotAnEpisode>, Vec<FieldTrace>) {
    extract_over(page, rules, Fields::default())
}

/// [`extract_traced`], with a listing item's `fields` standing where the page gives none.
pub fn extract_over(
    page: &Page,
    rules: &EpisodeRules,
    listed: Fields,
) -> (Result<Extracted, NotAnEpisode>, Vec<FieldTrace>) {
    // Relative links resolve against where redirects ended.
    let Ok(base) = Url::parse(&page.final_url).or_else(|_| Url::parse(&page.url)) else {
        return (Err(NotAnEpisode::BadUrl), Vec::new());
    };
    let budget = Budget::start();
    let doc = match html::parse(&page.html, &budget) {
        Ok(doc) => doc,
        Err(e) => return (Err(e.into()), Vec::new()),
    };
    let Read { fields, mut trace, over_budget } =
        read_fields(Scope::Page(&doc), &base, page.fetched_at, rules, &budget);
    let fields = fields.or(listed);
    let link = fields.link.clone().unwrap_or_else(|| base_page_url(page, &base));
    // Show the defaults that applied, so `check` tells the whole story.
    for entry in trace.iter_mut().filter(|t| t.rule.is_none()) {
        match entry.field {
            "link" => entry.value = link.clone(),
            "guid" => entry.value = fields.guid.clone().unwrap_or_else(|| link.clone()),
            _ => {}
        }
    }
    if let Some(e) = over_budget {
        return (Err(e.into()), trace);
    }
    let dropped = dropped(&trace);
    (fields.into_episode(&page.url, link).map(|episode| Extracted { episode, dropped }), trace)
}

/// One episode described on a listing page: its fields, and the link to its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub fields: Fields,
    /// The item's `link` rule's value, else its first `a[href]`; an item without one is skipped.
    pub link: Url,
    pub dropped: Vec<Dropped>,
    /// The item's HTML, kept so that `--reextract` reads it again; `None` for one too large.
    pub source: Option<ItemSource>,
    /// Read again from its kept HTML ([`reread_item`]), away from its listing page: what it
    /// lacks may be what its rules found around it there, so it never removes an episode.
    pub reread: bool,
}

/// A listing item's element as the listing page had it, and where and when it was read: what a
/// re-extract needs to read the item again with other rules, whatever became of its listing page
/// (a newest-first archive pushes items from page to page).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ItemSource {
    pub html: String,
    /// The listing page's URL after redirects: relative links resolve against it.
    pub base: String,
    pub fetched_at: DateTime<Utc>,
}

/// An item's HTML larger than this is not kept (real ones are 0.5–5 KB): it is read, but a
/// re-extract does not read it again.
pub const MAX_ITEM_HTML_BYTES: usize = 32 * 1024;
/// Items' HTML written out for one listing page at most (a real page of 50 items: 100 KB).
const MAX_ITEMS_HTML_BYTES_PER_PAGE: usize = 2 * 1024 * 1024;

/// The episodes a listing page describes, in document order, at most `max`. Items without a
/// link of their own are left out (with a warning): a link names the episode.
pub fn listing_items(
    doc: &Html,
    page: &Page,
    listing: &ListingRules,
    max: usize,
    budget: &Budget,
) -> Result<Vec<Item>, TooComplex> {
    let base = Url::parse(&page.final_url).or_else(|_| Url::parse(&page.url)).ok();
    let Some(base) = base else { return Ok(Vec::new()) };
    let mut items = Vec::new();
    let mut linkless = 0;
    // Items nested in items (a hostile page) would each be written out whole: the HTML written
    // out for one page is bounded, and items past it are read but not kept.
    let mut written = 0;
    for element in doc.select(&listing.item).take(max) {
        let html = (written < MAX_ITEMS_HTML_BYTES_PER_PAGE).then(|| element.html());
        written += html.as_ref().map_or(0, String::len);
        let source = html.filter(|html| html.len() <= MAX_ITEM_HTML_BYTES).map(|html| ItemSource {
            html,
            base: base.to_string(),
            fetched_at: page.fetched_at,
        });
        match read_item(element, &base, page.fetched_at, &listing.rules, budget)? {
            Some((fields, link, dropped)) => items.push(Item { fields, link, dropped, source, reread: false }),
            None => linkless += 1,
        }
    }
    if linkless > 0 {
        tracing::warn!("listing page {}: {linkless} items have no link of their own; left out", page.url);
    }
    Ok(items)
}

/// An item read again from its kept HTML, with `listing`'s rules (those of the recipe now).
/// Rules are evaluated inside the item, as on its listing page; a rule that needs what was
/// around the item there finds nothing.
pub fn reread_item(source: &ItemSource, listing: &ListingRules) -> Option<Item> {
    let base = Url::parse(&source.base).ok()?;
    // Table rows and cells are dropped by the HTML parser outside a table: put one around them.
    let (open, close) = match source.html.get(..4).map(str::to_ascii_lowercase).as_deref() {
        Some("<tr>" | "<tr ") => ("<table><tbody>", "</tbody></table>"),
        Some(start) if start.starts_with("<td") || start.starts_with("<th") => {
            ("<table><tbody><tr>", "</tr></tbody></table>")
        }
        _ => ("", ""),
    };
    let doc = Html::parse_fragment(&format!("{open}{}{close}", source.html));
    let tag =
        source.html.get(1..).and_then(|rest| rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).next())?;
    let element = doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name().eq_ignore_ascii_case(tag))?;
    let budget = Budget::start();
    let (fields, link, dropped) = read_item(element, &base, source.fetched_at, &listing.rules, &budget).ok()??;
    Some(Item { fields, link, dropped, source: Some(source.clone()), reread: true })
}

/// One item's fields and link; `None` when it has no link of its own.
fn read_item(
    element: ElementRef,
    base: &Url,
    fetched: DateTime<Utc>,
    rules: &EpisodeRules,
    budget: &Budget,
) -> Result<Option<(Fields, Url, Vec<Dropped>)>, TooComplex> {
    let read = read_fields(Scope::Item(element), base, fetched, rules, budget);
    if let Some(e) = read.over_budget {
        return Err(e);
    }
    let link = read.fields.link.clone().or_else(|| {
        // The item's own href (a card that is a link), else its first link.
        let first_link = Selector::parse("a[href]").expect("a valid selector");
        let own = element.value().attr("href").filter(|_| element.value().name() == "a");
        let href = own.or_else(|| element.select(&first_link).next()?.value().attr("href"))?;
        url(base, href.trim()).ok()
    });
    let link = link.and_then(|link| Url::parse(&link).ok());
    // `href="#"`, or a link back to the listing page: not the episode's own.
    let link = link.filter(|link| link.as_str().split('#').next() != base.as_str().split('#').next());
    Ok(link.map(|link| (read.fields, link, dropped(&read.trace))))
}

fn dropped(trace: &[FieldTrace]) -> Vec<Dropped> {
    trace
        .iter()
        .filter(|t| t.rule.is_none())
        // Only a few words of the value are ever shown: a huge one is not carried along.
        .filter_map(|t| {
            Some(Dropped { field: t.field, value: shorten(t.raw.as_ref()?, 60), reason: t.unused.clone()? })
        })
        .collect()
}

/// Every field's rules, in `scope`; a scope that has had its CPU time stops the reading.
fn read_fields(scope: Scope, base: &Url, fetched: DateTime<Utc>, rules: &EpisodeRules, budget: &Budget) -> Read {
    let mut trace = Vec::new();
    let mut over_budget = None;
    let mut found_by = |name: &'static str, find: &dyn Fn() -> Found| {
        if let Err(e) = budget.check() {
            over_budget.get_or_insert(e);
            return None;
        }
        let found = find();
        trace.push(FieldTrace {
            field: name,
            rule: found.value.as_ref().map(|(i, _)| *i),
            value: found.value.as_ref().map(|(_, v)| v.clone()).unwrap_or_default(),
            raw: found.raw,
            unused: found.unused,
        });
        found.value.map(|(_, v)| v)
    };
    let mut field = |name: &'static str, rules: &[Rule], convert: &dyn Fn(&Rule, String) -> Converted| {
        found_by(name, &|| first_value(scope, rules, convert))
    };
    let text = |max: usize| move |_: &Rule, v: String| hygiene::text(&v, max).ok_or(Reject::Unusable);
    let as_url = |_: &Rule, v: String| url(base, &v);
    let as_audio = |_: &Rule, v: String| {
        let audio = url(base, &v).map(|url| without_player_suffix(&url))?;
        // `href="#"` on a share button: the page itself, not its audio.
        let page = |u: &str| u.split('#').next().unwrap_or_default().to_string();
        match page(&audio) == page(base.as_str()) {
            true => Err(Reject::NotUnderstood("is the page itself, not its audio")),
            false => Ok(audio),
        }
    };
    let as_date = |rule: &Rule, v: String| date(rule, &v, fetched, rules.timezone);
    let as_seconds = |_: &Rule, v: String| seconds(&v);
    let as_number = |_: &Rule, v: String| first_number(&v);
    let as_html = |max: usize| {
        move |rule: &Rule, v: String| {
            let html = if rule.html { sanitize_html(&v, base) } else { escape_text(&v) };
            hygiene::html(&html, max).ok_or(Reject::Unusable)
        }
    };
    let fields = Fields {
        title: field("title", &rules.title, &text(hygiene::MAX_TITLE_CHARS)),
        audio: field("audio", &rules.audio, &as_audio),
        link: field("link", &rules.link, &as_url),
        guid: field("guid", &rules.guid, &|_: &Rule, v: String| hygiene::guid(&v).ok_or(Reject::Unusable)),
        published: field("published", &rules.published, &as_date),
        duration: field("duration", &rules.duration, &as_seconds),
        description: field("description", &rules.description, &as_html(hygiene::MAX_DESCRIPTION_BYTES)),
        content: field("content", &rules.content, &as_html(hygiene::MAX_CONTENT_BYTES)),
        image: field("image", &rules.image, &as_url),
        episode: field("episode", &rules.episode, &as_number),
        season: field("season", &rules.season, &as_number),
        episode_type: field("episode_type", &rules.episode_type, &|_: &Rule, v: String| {
            episode_type(&v).ok_or(Reject::Unusable)
        }),
        explicit: field("explicit", &rules.explicit, &|_: &Rule, v: String| {
            explicit(&v).map(|b| b.to_string()).ok_or(Reject::Unusable)
        }),
        transcript: field("transcript", &rules.transcript, &as_url),
        chapters: field("chapters", &rules.chapters, &as_url),
        season_name: field("season_name", &rules.season_name, &text(hygiene::MAX_PODCAST_TEXT_CHARS)),
        block: field("block", &rules.block, &|_: &Rule, v: String| Ok(blocked(&v).to_string())),
        hosts: None,
        guests: None,
    };
    let fields = Fields {
        hosts: found_by("hosts", &|| people(scope, &rules.hosts, base)),
        guests: found_by("guests", &|| people(scope, &rules.guests, base)),
        ..fields
    };
    Read { fields, trace, over_budget }
}

/// The page's own URL as an episode link: the URL asked for, in its clean form.
fn base_page_url(page: &Page, base: &Url) -> String {
    hygiene::url(&page.url).unwrap_or_else(|| base.to_string())
}

/// What [`first_value`] found for a field.
struct Found {
    /// The index of the rule that produced the value, and the value.
    value: Option<(usize, String)>,
    /// The raw string the value came from, or else the first one that could not be used.
    raw: Option<String>,
    /// Why that first unusable string was not used, if it says.
    unused: Option<Unused>,
}

/// The first non-empty, convertible value any rule yields, trying rules in order and each
/// rule's matching elements in document order.
fn first_value(scope: Scope, rules: &[Rule], convert: &dyn Fn(&Rule, String) -> Converted) -> Found {
    let mut rejected: Option<(String, Option<Unused>)> = None;
    for (i, rule) in rules.iter().enumerate() {
        for raw in raw_values(scope, rule) {
            match convert(rule, raw.clone()) {
                Ok(value) => return Found { value: Some((i, value)), raw: Some(raw), unused: None },
                Err(reject) => {
                    let unused = match reject {
                        Reject::OutOfRange(why) => Some(Unused::OutOfRange(why)),
                        Reject::NotUnderstood(why) => Some(Unused::NotUnderstood(why)),
                        Reject::Unusable => None,
                    };
                    rejected.get_or_insert((raw, unused));
                }
            }
        }
    }
    let (raw, unused) = rejected.map_or((None, None), |(raw, why)| (Some(raw), why));
    Found { value: None, raw, unused }
}

/// At most this many hosts, and as many guests, from one page.
const MAX_PEOPLE: usize = 16;

/// The people the first rule that selects any names: one a line, each with its page after a tab
/// when the element is a link.
fn people(scope: Scope, rules: &[Rule], base: &Url) -> Found {
    for (i, rule) in rules.iter().enumerate() {
        let mut seen = HashSet::new();
        let lines: Vec<String> = scope
            .select(&rule.css)
            .filter_map(|element| {
                // One line a person, so no line breaks or tabs in a name (an attribute may have them).
                let name = collapse_whitespace(&apply_rule(rule, element)?);
                let name = hygiene::text(&name, hygiene::MAX_PODCAST_TEXT_CHARS)?;
                let href = element.value().attr("href").and_then(|href| url(base, href.trim()).ok());
                seen.insert(name.clone()).then(|| format!("{name}\t{}", href.unwrap_or_default()))
            })
            .take(MAX_PEOPLE)
            .collect();
        if !lines.is_empty() {
            let value = lines.join("\n");
            return Found { value: Some((i, value.clone())), raw: Some(value), unused: None };
        }
    }
    Found { value: None, raw: None, unused: None }
}

/// The people [`people`] found, with their role.
fn credits<'a>(lines: Option<&'a str>, role: &'a str) -> impl Iterator<Item = Credit> + 'a {
    lines.unwrap_or_default().lines().filter_map(move |line| {
        let (name, href) = line.split_once('\t').unwrap_or((line, ""));
        let href = (!href.is_empty()).then(|| href.to_string());
        (!name.is_empty()).then(|| Credit { name: name.to_string(), role: role.to_string(), href })
    })
}

/// A field's value as `check` shows it: people as `Name <page>; Name`.
pub fn shown_value(field: &str, value: String) -> String {
    if !matches!(field, "hosts" | "guests") {
        return value;
    }
    let people = credits(Some(&value), field).map(|person| match person.href {
        Some(href) => format!("{} <{href}>", person.name),
        None => person.name,
    });
    people.collect::<Vec<_>>().join("; ")
}

/// What a rule takes from the page: each match's value in document order, or with `all`, every
/// match's value joined into one.
fn raw_values<'a>(scope: Scope<'a>, rule: &'a Rule) -> Box<dyn Iterator<Item = String> + 'a> {
    let values = scope.select(&rule.css).filter_map(|element| apply_rule(rule, element));
    match &rule.all {
        None => Box::new(values),
        Some(separator) => {
            let joined = values.collect::<Vec<_>>().join(separator);
            Box::new((!joined.is_empty()).then_some(joined).into_iter())
        }
    }
}

/// An absolute http(s) URL, if the text is a link: not text that happens to resolve against
/// the page (JSON, a sentence, "Part 1/2 of the series"), which is no match, so the next rule
/// is tried. A space is allowed only in what is plainly a link, absolute or from the site's root
/// (sites write `/audio/a b.mp3`, and browsers follow it).
fn url(base: &Url, text: &str) -> Converted {
    // A URL inside a script's JSON string has its slashes escaped (`https:\/\/host\/a.mp3`).
    let unescaped = text.contains("\\/").then(|| text.replace("\\/", "/"));
    let text = unescaped.as_deref().unwrap_or(text);
    let plainly_a_link = ["http://", "https://", "/"].iter().any(|start| text.starts_with(start));
    if text.starts_with(['{', '[']) || (text.contains(char::is_whitespace) && !plainly_a_link) {
        return Err(Reject::NotUnderstood("is not a URL"));
    }
    resolve(base, text).ok_or(Reject::NotUnderstood("is not an http(s) URL"))
}

/// A date as RFC 3339, if the text is one and it is in range for a page fetched at `fetched`.
fn date(rule: &Rule, text: &str, fetched: DateTime<Utc>, zone: Option<chrono_tz::Tz>) -> Converted {
    let date = match &rule.format {
        Some(format) => parse::date_with_format(text, format, zone),
        None => parse::date_in(text, zone),
    };
    let date = date.ok_or(Reject::NotUnderstood("is not a date I know"))?;
    hygiene::date(date, fetched).map(|d| d.to_rfc3339()).map_err(Reject::OutOfRange)
}

/// An audio URL without the `_=N` a WordPress player adds to every file it plays (`?_=1`,
/// `?_=2`: which player on the page, not which file). The site's own feed names the file
/// without it, and a feed item's enclosure should not change with the player's place.
pub fn without_player_suffix(url: &str) -> String {
    let Some((file, query)) = url.split_once('?') else { return url.to_string() };
    let (query, fragment) = query.split_once('#').map_or((query, None), |(q, f)| (q, Some(f)));
    let is_suffix =
        |pair: &&str| pair.strip_prefix("_=").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if !query.split('&').any(|pair| is_suffix(&pair)) {
        return url.to_string();
    }
    let kept: Vec<&str> = query.split('&').filter(|pair| !is_suffix(pair)).collect();
    let mut clean = file.to_string();
    if !kept.is_empty() {
        clean.push('?');
        clean.push_str(&kept.join("&"));
    }
    if let Some(fragment) = fragment {
        clean.push('#');
        clean.push_str(fragment);
    }
    clean
}

/// A duration in seconds, if the text is one an episode can have. Zero is what players write
/// when they do not know: no duration, and the next rule is tried.
fn seconds(text: &str) -> Converted {
    let seconds = parse::duration(text).map_err(|e| match e {
        NotADuration::Unreadable => Reject::NotUnderstood("is not a duration I know"),
        NotADuration::Negative => Reject::OutOfRange(OutOfRange::Negative),
        NotADuration::TooLarge => Reject::OutOfRange(OutOfRange::TooLarge),
    })?;
    if seconds == 0 {
        return Err(Reject::Unusable);
    }
    hygiene::duration(seconds).map(|s| s.to_string()).map_err(Reject::OutOfRange)
}

/// The first run of digits in the text, if it fits an episode or season number.
fn first_number(text: &str) -> Converted {
    let start = text.find(|c: char| c.is_ascii_digit()).ok_or(Reject::NotUnderstood("has no number"))?;
    let digits: String = text[start..].chars().take_while(char::is_ascii_digit).collect();
    let number: u32 = digits.parse().map_err(|_| Reject::OutOfRange(OutOfRange::TooLarge))?;
    Ok(number.to_string())
}

/// The raw string a rule takes from one element, after its `remove`, `json`, `regex` and
/// `template` steps.
fn apply_rule(rule: &Rule, element: ElementRef) -> Option<String> {
    let raw = match (&rule.attr, rule.html) {
        (Some(attr), _) => element.value().attr(attr)?.to_string(),
        (None, true) => inner_html_without(element, &rule.remove),
        (None, false) => collapse_whitespace(&text_without(element, &rule.remove)),
    };
    let raw = match &rule.json {
        Some(pointer) => json_at(&raw, pointer)?,
        None => raw,
    };
    let raw = match (&rule.regex, &rule.template) {
        (Some(regex), Some(template)) => {
            let mut value = String::new();
            regex.captures(&raw)?.expand(template, &mut value);
            value
        }
        (Some(regex), None) => {
            let captures = regex.captures(&raw)?;
            captures.get(1).or_else(|| captures.get(0))?.as_str().to_string()
        }
        (None, _) => raw,
    };
    let trimmed = raw.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// The element's text, leaving out the descendants `remove` matches.
fn text_without(element: ElementRef, remove: &[Selector]) -> String {
    if remove.is_empty() {
        return element.text().collect();
    }
    let removed: HashSet<NodeId> = remove.iter().flat_map(|css| element.select(css).map(|e| e.id())).collect();
    let mut text = String::new();
    let mut skipping = 0usize;
    for edge in element.traverse() {
        match edge {
            Edge::Open(node) if skipping > 0 || removed.contains(&node.id()) => {
                // Words on either side of what is dropped stay apart.
                if skipping == 0 {
                    text.push(' ');
                }
                skipping += 1;
            }
            Edge::Open(node) => {
                if let Some(t) = node.value().as_text() {
                    text.push_str(t);
                }
            }
            Edge::Close(_) if skipping > 0 => skipping -= 1,
            Edge::Close(_) => {}
        }
    }
    text
}

/// The element's inner HTML (cut to what any field keeps), leaving out the descendants `remove`
/// matches. Serialization is deterministic, so each removed element's own HTML is found in its
/// parent's, in order. Each removal scans the cut HTML once: at most [`MAX_REMOVALS`] of them.
fn inner_html_without(element: ElementRef, remove: &[Selector]) -> String {
    let mut html = cut_html(element.inner_html());
    let mut removed: Vec<ElementRef> = remove.iter().flat_map(|css| element.select(css)).collect();
    removed.sort_by_key(|e| e.id());
    removed.dedup_by_key(|e| e.id());
    let ids: HashSet<NodeId> = removed.iter().map(|e| e.id()).collect();
    // Only the outermost: an element inside a removed one goes with it.
    let outermost = removed.iter().filter(|e| !e.ancestors().any(|a| ids.contains(&a.id())));
    for gone in outermost.take(MAX_REMOVALS) {
        html = html.replacen(&gone.html(), "", 1);
    }
    html
}

/// Elements one rule's `remove` drops from a value's HTML at most (a page of 200,000 matches
/// would otherwise cost 200,000 scans of it).
const MAX_REMOVALS: usize = 1_000;

/// Raw HTML sanitized at most: more than any field keeps, and a bound on the sanitizer's work
/// (it parses the HTML again).
const MAX_RAW_HTML_BYTES: usize = 4 * hygiene::MAX_CONTENT_BYTES;

fn cut_html(mut html: String) -> String {
    if html.len() > MAX_RAW_HTML_BYTES {
        let cut = (0..=MAX_RAW_HTML_BYTES).rev().find(|&i| html.is_char_boundary(i)).unwrap_or(0);
        html.truncate(cut);
    }
    html
}

/// The value at a JSON pointer, as a string; numbers and booleans become their JSON text.
fn json_at(text: &str, pointer: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    match value.pointer(pointer)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)) => Some(other.to_string()),
        _ => None,
    }
}

/// `full`, `trailer` or `bonus`, the values `itunes:episodeType` allows.
fn episode_type(text: &str) -> Option<String> {
    let lower = text.trim().to_lowercase();
    ["full", "trailer", "bonus"].into_iter().find(|t| lower == *t).map(str::to_string)
}

fn explicit(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "yes" | "explicit" | "1" | "e" => Some(true),
        "false" | "no" | "clean" | "0" | "c" => Some(false),
        _ => None,
    }
}

/// A `block` rule's value: a page marks what it holds back ("Members only", "yes"), so any
/// value but a plain no blocks.
fn blocked(text: &str) -> bool {
    !matches!(text.trim().to_ascii_lowercase().as_str(), "" | "false" | "no" | "0" | "off")
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Plain text made safe to place inside HTML.
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Resolves a possibly relative URL against the page; only http(s) results are kept.
pub fn resolve(base: &Url, href: &str) -> Option<String> {
    hygiene::absolute(&base.join(href.trim()).ok()?)
}

/// Keeps only safe HTML: no scripts or styles, no event-handler attributes, no `javascript:`
/// URLs; relative URLs become absolute against the page.
pub fn sanitize_html(html: &str, base: &Url) -> String {
    ammonia::Builder::default()
        .url_relative(ammonia::UrlRelative::RewriteWithBase(base.clone()))
        .clean(html)
        .to_string()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::Recipe;
    use std::path::Path;

    const PAGE: &str = r#"<!doctype html><html><head>
        <link rel="canonical" href="/episodes/42">
        <meta name="description" content="  A show about   things. ">
        <meta property="og:image" content="/img/42.jpg">
        <title>ignored</title></head><body>
        <h1>Episode 42:  The   &amp; Answer</h1>
        <div class="dateblock"><time datetime="2019-08-16T09:30:00-04:00">Aug. 16, 2019</time></div>
        <p class="written">Published March 5, 2020</p>
        <div class="player" data-audio='{"audioUrl": "/media/42.mp3", "seconds": 3125, "nested": {"n": 7}}'></div>
        <a class="download" href="https://cdn.example.org/42.mp3">Download</a>
        <span class="len">1 hr 3 min</span>
        <div id="storytext"><p onclick="steal()">Notes with <a href="/links/1">a link</a>
          and <a href="javascript:alert(1)">a trap</a>.</p><script>alert(2)</script><img src="pic.png" onerror="x()"></div>
        </body></html>"#;

    fn recipe(episode_rules: &str) -> Recipe {
        let text = format!(
            "[feed]\ntitle = \"T\"\nlink = \"https://example.org/\"\ndescription = \"D\"\n\
             [crawl]\nstart = [\"https://example.org/\"]\nepisodes = \"a\"\n[episode]\n{episode_rules}"
        );
        Recipe::parse(&text, Path::new("test.toml")).unwrap()
    }

    fn page_url() -> Url {
        Url::parse("https://example.org/episodes/42?ref=home").unwrap()
    }

    fn page(html: &str) -> Page {
        let url = page_url().to_string();
        let fetched_at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 27, 12, 0, 0).unwrap();
        Page { final_url: url.clone(), url, html: html.to_string(), etag: None, last_modified: None, fetched_at }
    }

    fn run(episode_rules: &str) -> Result<Episode, NotAnEpisode> {
        extract(&page(PAGE), &recipe(episode_rules).episode).map(|e| e.episode)
    }

    #[test]
    fn text_rule_collapses_whitespace_and_decodes_entities() {
        let ep = run("title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }").unwrap();
        assert_eq!(ep.title, "Episode 42: The & Answer");
        assert_eq!(ep.enclosure.url, "https://cdn.example.org/42.mp3");
    }

    #[test]
    fn attr_rule_resolves_relative_urls_and_defaults_link_and_guid() {
        let ep = run("title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }\n\
             image = { css = \"meta[property='og:image']\", attr = \"content\" }")
        .unwrap();
        assert_eq!(ep.image.as_deref(), Some("https://example.org/img/42.jpg"));
        assert_eq!(ep.link, "https://example.org/episodes/42?ref=home");
        assert_eq!(ep.guid, ep.link);
    }

    /// A WordPress player's `?_=1` names the player, not the file: it is dropped, and every
    /// other parameter kept as written. A URL in a script's JSON, slashes escaped, is a URL.
    #[test]
    fn player_suffixes_and_escaped_slashes_in_audio_urls() {
        let html = r#"<h1>T</h1><audio class="wp-audio-shortcode"><source src="https://cdn.example.org/42.mp3?_=1"></audio>
            <audio class="b"><source src="/m/42.mp3?dl=1&amp;_=12&amp;t=x"></audio>
            <script>new Player({"audio":[{"url":"https:\/\/cdn.example.org\/s\/42.m4a"}]})</script>"#;
        let audio = |rule: &str| {
            let rules = recipe(&format!("title = {{ css = \"h1\" }}\naudio = {rule}"));
            extract(&page(html), &rules.episode).unwrap().episode.enclosure.url
        };
        assert_eq!(
            audio(r#"{ css = "audio.wp-audio-shortcode source", attr = "src" }"#),
            "https://cdn.example.org/42.mp3"
        );
        assert_eq!(audio(r#"{ css = "audio.b source", attr = "src" }"#), "https://example.org/m/42.mp3?dl=1&t=x");
        assert_eq!(audio(r#"{ css = "script", regex = '"url":"([^"]+)"' }"#), "https://cdn.example.org/s/42.m4a");
        assert_eq!(without_player_suffix("https://a.org/x.mp3?_=3#t=5"), "https://a.org/x.mp3#t=5");
        assert_eq!(without_player_suffix("https://a.org/x.mp3?_=abc"), "https://a.org/x.mp3?_=abc");
    }

    /// Players write a duration of 0 when they do not know it: no duration, and the next rule's
    /// value if it has one.
    #[test]
    fn a_duration_of_zero_is_no_duration() {
        let html = r#"<h1>T</h1><a class="download" href="/42.mp3">mp3</a>
            <div class="player" data-audio='{"duration": 0}'></div><span class="len">52:05</span>"#;
        let rules = |duration: &str| {
            recipe(&format!(
                "title = {{ css = \"h1\" }}\naudio = {{ css = \"a.download\", attr = \"href\" }}\nduration = {duration}"
            ))
        };
        let json = r#"{ css = "div.player", attr = "data-audio", json = "/duration" }"#;
        let read = |rules: Recipe| extract(&page(html), &rules.episode).unwrap();
        let alone = read(rules(json));
        assert_eq!((alone.episode.duration, alone.dropped.len()), (None, 0), "no value, and nothing to warn of");
        assert_eq!(read(rules(&format!(r#"[ {json}, {{ css = "span.len" }} ]"#))).episode.duration, Some(3125));
    }

    #[test]
    fn canonical_link_becomes_guid() {
        let ep = run("title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }\n\
             link = { css = \"link[rel=canonical]\", attr = \"href\" }")
        .unwrap();
        assert_eq!(ep.link, "https://example.org/episodes/42");
        assert_eq!(ep.guid, "https://example.org/episodes/42");
    }

    #[test]
    fn json_rule_reads_pointer_and_numbers_become_strings() {
        let ep = run(
            "title = { css = \"h1\" }\naudio = { css = \"div.player\", attr = \"data-audio\", json = \"/audioUrl\" }\n\
             duration = { css = \"div.player\", attr = \"data-audio\", json = \"/seconds\" }\n\
             episode = { css = \"div.player\", attr = \"data-audio\", json = \"/nested/n\" }",
        )
        .unwrap();
        assert_eq!(ep.enclosure.url, "https://example.org/media/42.mp3");
        assert_eq!(ep.duration, Some(3125));
        assert_eq!(ep.episode, Some(7));
    }

    #[test]
    fn rule_lists_fall_through_in_order() {
        let ep = run(
            "title = [ { css = \"h2.missing\" }, { css = \"h1\" } ]\n\
             audio = [ { css = \"div.player\", attr = \"data-audio\", json = \"/missing\" }, { css = \"a.download\", attr = \"href\" } ]",
        )
        .unwrap();
        assert_eq!(ep.title, "Episode 42: The & Answer");
        assert_eq!(ep.enclosure.url, "https://cdn.example.org/42.mp3");
    }

    #[test]
    fn regex_keeps_first_group() {
        let ep = run(
            "title = { css = \"h1\", regex = '^Episode \\d+: (.*)$' }\naudio = { css = \"a.download\", attr = \"href\" }\n\
             episode = { css = \"h1\", regex = 'Episode (\\d+)' }",
        )
        .unwrap();
        assert_eq!(ep.title, "The & Answer");
        assert_eq!(ep.episode, Some(42));
    }

    #[test]
    fn dates_from_attribute_text_and_format() {
        let rules = "title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }\n";
        let ep = run(&format!("{rules}published = {{ css = \"time\", attr = \"datetime\" }}")).unwrap();
        assert_eq!(ep.published.unwrap().to_rfc3339(), "2019-08-16T13:30:00+00:00");
        let ep = run(&format!("{rules}published = {{ css = \"time\" }}")).unwrap();
        assert_eq!(ep.published.unwrap().to_rfc3339(), "2019-08-16T12:00:00+00:00");
        let ep = run(&format!("{rules}published = {{ css = \"p.written\", regex = 'Published (.*)' }}")).unwrap();
        assert_eq!(ep.published.unwrap().to_rfc3339(), "2020-03-05T12:00:00+00:00");
        let ep = run(&format!(
            "{rules}published = {{ css = \"time\", attr = \"datetime\", regex = '^(\\d+-\\d+-\\d+)', format = \"%Y-%m-%d\" }}"
        ))
        .unwrap();
        assert_eq!(ep.published.unwrap().to_rfc3339(), "2019-08-16T12:00:00+00:00");
    }

    #[test]
    fn unparsable_value_falls_through_to_next_rule() {
        let ep = run("title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }\n\
             duration = [ { css = \"h1\" }, { css = \"span.len\" } ]")
        .unwrap();
        assert_eq!(ep.duration, Some(3780));
    }

    #[test]
    fn html_rule_is_sanitized_with_absolute_urls() {
        let ep = run("title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }\n\
             content = { css = \"#storytext\", html = true }")
        .unwrap();
        let html = ep.content.unwrap();
        assert!(html.contains("href=\"https://example.org/links/1\""), "{html}");
        assert!(html.contains("src=\"https://example.org/episodes/pic.png\""), "{html}");
        for banned in ["<script", "alert(2)", "onclick", "onerror", "javascript:"] {
            assert!(!html.contains(banned), "{banned} survived in {html}");
        }
    }

    #[test]
    fn text_content_is_escaped() {
        let ep = run(
            "title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }\ncontent = { css = \"h1\" }",
        )
        .unwrap();
        assert_eq!(ep.content.as_deref(), Some("Episode 42: The &amp; Answer"));
    }

    #[test]
    fn season_type_explicit_transcript_and_chapters() {
        let html = r#"<h1>Trailer</h1><a class="dl" href="/a.mp3">a</a><span class="s">Season 3</span>
            <span class="t">Trailer</span><span class="x">Explicit</span>
            <a class="tr" href="t/42.vtt">Transcript</a><a class="ch" href="/c/42.json">Chapters</a>"#;
        let rules = recipe(
            "title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }\n\
             season = { css = \"span.s\" }\nepisode_type = { css = \"span.t\" }\nexplicit = { css = \"span.x\" }\n\
             transcript = { css = \"a.tr\", attr = \"href\" }\nchapters = { css = \"a.ch\", attr = \"href\" }",
        );
        let ep = extract(&page(html), &rules.episode).unwrap().episode;
        assert_eq!(ep.season, Some(3));
        assert_eq!(ep.episode_type.as_deref(), Some("trailer"));
        assert_eq!(ep.explicit, Some(true));
        assert_eq!(ep.transcript.as_deref(), Some("https://example.org/episodes/t/42.vtt"));
        assert_eq!(ep.chapters.as_deref(), Some("https://example.org/c/42.json"));
    }

    #[test]
    fn hosts_guests_season_name_and_block() {
        let guests: String = (0..40).map(|i| format!("<a class=g href='/people/{i}'>Guest\n {i}</a>")).collect();
        let html = format!(
            r#"<h1>T</h1><a class="dl" href="/a.mp3">a</a><span class="s">Season 3</span><i class="sn">The Return</i>
            <p class="host">Ana</p><p class="host">Ana</p><p class="host">Cy</p>{guests}<b class="bl">yes</b>"#
        );
        let rules = recipe(
            "title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }\nseason = { css = \"span.s\" }\n\
             season_name = { css = \"i.sn\" }\nblock = { css = \"b.bl\" }\n\
             hosts = [{ css = \"p.nobody\" }, { css = \"p.host\" }]\nguests = { css = \"a.g\" }",
        );
        let ep = extract(&page(&html), &rules.episode).unwrap().episode;
        assert_eq!((ep.season, ep.season_name.as_deref(), ep.block), (Some(3), Some("The Return"), true));
        let hosts: Vec<_> = ep.persons.iter().filter(|p| p.role == "host").map(|p| p.name.as_str()).collect();
        assert_eq!(hosts, ["Ana", "Cy"], "the first rule that finds anyone, each person once");
        let guests: Vec<_> = ep.persons.iter().filter(|p| p.role == "guest").collect();
        assert_eq!(guests.len(), MAX_PEOPLE);
        assert_eq!(guests[1].name, "Guest 1");
        assert_eq!(guests[1].href.as_deref(), Some("https://example.org/people/1"));
        assert!(ep.persons.iter().filter(|p| p.role == "host").all(|p| p.href.is_none()));
    }

    #[test]
    fn rules_drop_parts_join_matches_and_combine_groups() {
        let html = "<h1>Show</h1><a class=dl href='/a.mp3'>mp3</a>\
            <div id=story><p>First.</p><figure><img src=x.jpg><span class=caption>hide caption</span></figure>\
            <p>Second <b>bold</b>.</p><div class=player>Listen · Download · Embed</div></div>\
            <span class=len>15 min</span><span class=len>31 sec</span>\
            <div class=when data-meta='{\"date\":\"2017-08-16\",\"time\":\"17:59\"}'></div>";
        let rules = recipe(
            "title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }\n\
             description = { css = \"#story\", remove = [\".caption\", \"div.player\"] }\n\
             content = { css = \"#story\", html = true, remove = [\"figure\", \".player\"] }\n\
             duration = { css = \"span.len\", all = true }\n\
             published = { css = \"div.when\", attr = \"data-meta\", regex = '\"date\":\"([^\"]+)\",\"time\":\"([^\"]+)\"', template = \"$1 $2\" }",
        );
        let ep = extract(&page(html), &rules.episode).unwrap().episode;
        assert_eq!(ep.description.as_deref(), Some("First. Second bold."));
        let content = ep.content.unwrap();
        assert!(content.contains("<p>First.</p>") && content.contains("<b>bold</b>"), "{content}");
        assert!(!content.contains("caption") && !content.contains("Embed") && !content.contains("img"), "{content}");
        assert_eq!(ep.duration, Some(931), "\"15 min 31 sec\"");
        assert_eq!(ep.published, Some(chrono::TimeZone::with_ymd_and_hms(&Utc, 2017, 8, 16, 17, 59, 0).unwrap()));
    }

    #[test]
    fn remove_drops_at_most_its_share_of_elements() {
        let spans: String = (0..5_000).map(|n| format!("<span>{n}</span>")).collect();
        let html = format!("<h1>Show</h1><a class=dl href='/a.mp3'>mp3</a><div id=notes><p>Kept</p>{spans}</div>");
        let rules = recipe(
            "title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }\n\
             content = { css = \"#notes\", html = true, remove = [\"span\"] }",
        );
        let content = extract(&page(&html), &rules.episode).unwrap().episode.content.unwrap();
        assert!(content.starts_with("<p>Kept</p>"), "{content}");
        assert_eq!(
            content.matches("<span>").count(),
            5_000 - MAX_REMOVALS,
            "the first {MAX_REMOVALS} dropped, then no more scans"
        );
    }

    #[test]
    fn a_url_rule_that_finds_json_or_a_sentence_gives_way_to_the_next() {
        let html =
            "<h1>Show</h1><div class=player data-audio='{\"audioUrl\":\"https://cdn.example.org/1.mp3\"}'></div>\
            <a class=more>Listen to this episode</a><a class=part>Part 1/2 of the series</a>\
            <a class=dl href='/audio/part 2.mp3'>mp3</a>";
        let rules = recipe(
            "title = { css = \"h1\" }\naudio = [ { css = \"div.player\", attr = \"data-audio\" }, \
             { css = \"a.more\" }, { css = \"a.part\" }, { css = \"a.dl\", attr = \"href\" } ]",
        );
        let ep = extract(&page(html), &rules.episode).unwrap().episode;
        assert_eq!(ep.enclosure.url, "https://example.org/audio/part%202.mp3", "a space in a path is a link still");
        let rules = recipe("title = { css = \"h1\" }\naudio = { css = \"div.player\", attr = \"data-audio\" }");
        assert_eq!(extract(&page(html), &rules.episode).unwrap_err(), NotAnEpisode::NoAudio, "JSON is no audio URL");
    }

    #[test]
    fn values_a_rule_found_but_could_not_read_are_named() {
        let html = "<h1>Show</h1><a class=dl href='/a.mp3'>mp3</a><time datetime='P15M,31S'>15:31</time>\
            <span class=len>a quarter hour</span><span class=d>the other day</span>";
        let rules = recipe(
            "title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }\n\
             duration = { css = \"span.len\" }\npublished = { css = \"span.d\" }",
        );
        let extracted = extract(&page(html), &rules.episode).unwrap();
        let dropped: Vec<String> = extracted.dropped.iter().map(ToString::to_string).collect();
        assert_eq!(
            dropped,
            [
                "published \"the other day\" is not a date I know",
                "duration \"a quarter hour\" is not a duration I know"
            ]
        );
        let rules = recipe(
            "title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }\n\
             duration = { css = \"time\", attr = \"datetime\" }",
        );
        assert_eq!(extract(&page(html), &rules.episode).unwrap().episode.duration, Some(931), "NPR's P15M,31S");
    }

    /// A page built to break the feed: forbidden characters (raw, as references, and lone
    /// surrogates) in every field, numbers and dates out of range.
    const HOSTILE: &str = "<html><head><link rel=canonical href='/ep/&#1;7'>\
        <meta name=description content='Notes &#1;&#x1F; &#xFFFE;here\u{1}'></head><body>\
        <h1>Bad &#1;title&#xD800; &#x0;end\u{7}</h1><h2>&#1;&#2;</h2><b class=g>&#1;</b><b class=g>guid-&#1;7</b>\
        <a class=dl href='https://cdn.example.org/&#1;a b.mp3'>a</a>\
        <time class=d>9999-12-31</time><time class=d>1850-01-01</time>\
        <span class=len>1000000000000000000:00:00</span><span class=len2>99999999999999999999</span>\
        <span class=len3>-5</span><span class=len4>8 days</span>\
        <p class=n>Episode 99999999999999999999</p><p class=s>Season 4294967296</p>\
        <img class=i src='javascript:alert(1)'><img class=i src='data:image/png;base64,AAAA'></body></html>";

    fn hostile(extra: &str) -> Extracted {
        let rules = recipe(&format!(
            "title = [ {{ css = \"h2\" }}, {{ css = \"h1\" }} ]\naudio = {{ css = \"a.dl\", attr = \"href\" }}\n\
             link = {{ css = \"link[rel=canonical]\", attr = \"href\" }}\nguid = {{ css = \"b.g\" }}\n\
             description = {{ css = \"meta[name=description]\", attr = \"content\" }}\n{extra}"
        ));
        extract(&page(HOSTILE), &rules.episode).unwrap()
    }

    #[test]
    fn forbidden_characters_are_dropped_and_empty_values_fall_through() {
        let ep = hostile("").episode;
        assert_eq!(ep.title, "Bad title\u{fffd} \u{fffd}end", "the <h2> had nothing left; lone surrogates are U+FFFD");
        assert_eq!(ep.guid, "guid-7", "the first guid was only a control character");
        assert_eq!(ep.link, "https://example.org/ep/%017");
        assert_eq!(ep.enclosure.url, "https://cdn.example.org/%01a%20b.mp3");
        assert_eq!(ep.description.as_deref(), Some("Notes  here"));
    }

    #[test]
    fn numbers_and_dates_out_of_range_are_dropped_and_reported() {
        let extracted = hostile(
            "published = { css = \"time.d\" }\nduration = [ { css = \"span.len\" }, { css = \"span.len2\" }, \
             { css = \"span.len3\" }, { css = \"span.len4\" } ]\nepisode = { css = \"p.n\" }\nseason = { css = \"p.s\" }\n\
             image = { css = \"img.i\", attr = \"src\" }",
        );
        let ep = &extracted.episode;
        assert_eq!((ep.published, ep.duration, ep.episode, ep.season, &ep.image), (None, None, None, None, &None));
        let dropped: Vec<String> = extracted.dropped.iter().map(ToString::to_string).collect();
        assert_eq!(
            dropped,
            [
                "published \"9999-12-31\" dropped: more than 2 days in the future",
                "duration \"1000000000000000000:00:00\" dropped: too large a number",
                "image \"javascript:alert(1)\" is not an http(s) URL",
                "episode \"Episode 99999999999999999999\" dropped: too large a number",
                "season \"Season 4294967296\" dropped: too large a number",
            ]
        );
    }

    #[test]
    fn a_huge_title_is_cut_to_255_characters() {
        let html = format!("<h1>{}</h1><a class=dl href=/a.mp3>a</a>", "é".repeat(300_000));
        let rules = recipe("title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }");
        assert_eq!(extract(&page(&html), &rules.episode).unwrap().episode.title.chars().count(), 255);
    }

    #[test]
    fn unknown_episode_types_and_explicit_values_are_dropped() {
        assert_eq!(episode_type("Special"), None);
        assert_eq!(episode_type(" BONUS "), Some("bonus".into()));
        assert_eq!(explicit("maybe"), None);
        assert_eq!(explicit("Clean"), Some(false));
    }

    #[test]
    fn page_without_audio_is_not_an_episode() {
        let e = run("title = { css = \"h1\" }\naudio = { css = \"a.podcast\", attr = \"href\" }").unwrap_err();
        assert_eq!(e, NotAnEpisode::NoAudio);
    }

    #[test]
    fn non_http_audio_is_not_taken() {
        let e = run("title = { css = \"h1\" }\naudio = { css = \"#storytext a:nth-of-type(2)\", attr = \"href\" }")
            .unwrap_err();
        assert_eq!(e, NotAnEpisode::NoAudio);
    }

    #[test]
    fn trace_names_the_rule_that_produced_each_field() {
        let rules =
            recipe("title = [ { css = \"h2\" }, { css = \"h1\" } ]\naudio = { css = \"a.download\", attr = \"href\" }");
        let (_, trace) = extract_traced(&page(PAGE), &rules.episode);
        let title = trace.iter().find(|t| t.field == "title").unwrap();
        assert_eq!(title.rule, Some(1));
        let image = trace.iter().find(|t| t.field == "image").unwrap();
        assert_eq!(image.rule, None);
        assert_eq!(title.raw.as_deref(), Some("Episode 42: The & Answer"));
    }

    #[test]
    fn trace_keeps_the_raw_value_that_could_not_be_used() {
        let rules = recipe(
            "title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }\n\
             published = { css = \"span.len\" }",
        );
        let (_, trace) = extract_traced(&page(PAGE), &rules.episode);
        let published = trace.iter().find(|t| t.field == "published").unwrap();
        assert_eq!((published.rule, published.raw.as_deref()), (None, Some("1 hr 3 min")));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn any_page_extracts_or_says_why(html in "\\PC{0,300}", tag in "(h1|p|div|a|time|script)") {
                let rules = recipe("title = { css = \"h1\" }\naudio = { css = \"a\", attr = \"href\" }");
                let html_page = format!("<{tag}>{html}</{tag}><h1>{html}</h1><a href=\"{html}\">x</a>");
                let _ = extract(&page(&html_page), &rules.episode);
            }

            #[test]
            fn sanitized_html_never_keeps_scripts_handlers_or_javascript(
                text in "[a-zA-Z0-9 <>\"'=/:;&]{0,60}",
                handler in "on[a-z]{3,10}",
                scheme in "(javascript|JavaScript|jAvAsCrIpT|vbscript)",
            ) {
                let html = format!(
                    "<p {handler}=\"x()\">{text}<script>{text}</script><a href=\"{scheme}:{text}\">l</a>\
                     <img src=\"{scheme}:alert(1)\" {handler}='y'><style>{text}</style></p>"
                );
                let clean = sanitize_html(&html, &page_url()).to_lowercase();
                prop_assert!(!clean.contains("<script"), "{}", clean);
                prop_assert!(!clean.contains("<style"), "{}", clean);
                prop_assert!(!clean.contains("javascript:") && !clean.contains("vbscript:"), "{}", clean);
                prop_assert!(!clean.contains(&format!("{handler}=").to_lowercase()), "{}", clean);
            }
        }
    }
}
