//! Pure extraction: (page, recipe rules) → an [`Episode`], or why the page is not one. Every value
//! goes through [`hygiene`] as it is read, so a rule whose value is junk (a forbidden character
//! and nothing else, a URL that is not http(s), a date in the year 9999) falls through to the
//! next rule, and the episode as a whole goes through it once more at the end.
//!
//! This file reads a page's fields, rule by rule, into [`Fields`] and an [`Episode`];
//! `raw.rs` takes the raw string a rule selects from an element, `convert.rs` turns it into a
//! field's value, `sanitize.rs` makes HTML safe to publish, and `listing.rs` reads the episodes
//! a listing page describes, and keeps their HTML to read them again.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use ego_tree::NodeId;
use scraper::{ElementRef, Html};

use url::Url;

use crate::css::{self, Within};
use crate::html::{self, Budget, TooComplex};
use crate::hygiene::{self, OutOfRange};
use crate::model::{Credit, Enclosure, Episode, Page};
use crate::parse;
use crate::recipe::{EpisodeRules, Rule};
use crate::text::shorten;

mod convert;
mod listing;
mod raw;
mod sanitize;

use convert::{blocked, date, episode_type, explicit, first_number, seconds, url, Converted, Reject};
use raw::{apply_rule, collapse_whitespace, raw_values};
use sanitize::escape_text;

pub use convert::{resolve, without_player_suffix};
pub use listing::{listing_items, reread_item, Item, ItemSource, MAX_ITEM_HTML_BYTES};
pub use sanitize::sanitize_html;

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

/// Where rules look: the whole page (or the part of it read so far), or one item of a listing
/// page.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Page(&'a Html),
    Item(ElementRef<'a>),
}

impl<'a> Scope<'a> {
    fn within(self) -> Within<'a> {
        match self {
            Scope::Page(doc) => Within::Document(doc),
            Scope::Item(element) => Within::Element(element),
        }
    }
}

/// The elements each rule to be read selects, found in one walk over the scope: for each field,
/// its rules' matches, rule by rule.
struct Matched<'a> {
    fields: Vec<(&'static str, Vec<Vec<ElementRef<'a>>>)>,
}

impl<'a> Matched<'a> {
    /// The matches of the fields `wanted` says, of their first rule only with `first_only`; or
    /// the page's CPU budget ran out.
    fn walk(
        scope: Scope<'a>,
        rules: &EpisodeRules,
        wanted: &dyn Fn(&str) -> bool,
        first_only: bool,
        budget: &Budget,
    ) -> Result<Matched<'a>, TooComplex> {
        let fields: Vec<(&'static str, &[Rule])> = rules
            .fields()
            .into_iter()
            .filter(|(name, rules)| wanted(name) && !rules.is_empty())
            .map(|(name, rules)| (name, if first_only { &rules[..1] } else { rules }))
            .collect();
        let lists: Vec<&css::Filed> =
            fields.iter().flat_map(|(_, rules)| rules.iter().map(|rule| &rule.filed)).collect();
        let mut matched = css::select_each(scope.within(), &lists, budget)?.into_iter();
        let fields = fields.iter().map(|(name, rules)| (*name, matched.by_ref().take(rules.len()).collect())).collect();
        Ok(Matched { fields })
    }

    /// A field's matches, rule by rule; none for a field not walked for.
    fn of(&self, field: &str) -> &[Vec<ElementRef<'a>>] {
        self.fields.iter().find(|(name, _)| *name == field).map_or(&[], |(_, matches)| matches)
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
    let early = may_stop_early(rules);
    let mut done = HashSet::new();
    let mut enough = |doc: &Html, open: &HashSet<NodeId>| {
        let read_so_far = ReadSoFar { doc, open, base: &base, fetched: page.fetched_at, rules, budget: &budget };
        early && read_so_far.settles(&mut done)
    };
    let doc = match html::parse_until(&page.html, &budget, &mut enough) {
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

/// Whether a page may be read only as far as its fields are settled: not when a rule's value
/// can depend on what comes after the element it selects, nor for the people, whose rules take
/// every element they match.
fn may_stop_early(rules: &EpisodeRules) -> bool {
    !rules.every_rule().any(|rule| rule.looks_ahead) && rules.hosts.is_empty() && rules.guests.is_empty()
}

/// Elements under which the parser may still move content that is already closed: a
/// formatting element left open is cloned around the children of a block opened inside it (the
/// adoption agency), and stray content in an open table goes before the table.
const RESTRUCTURING: [&str; 19] = [
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u", "table", "tbody",
    "thead", "tfoot", "tr",
];

/// A page's tree as far as it was read, with the nodes whose content may still change.
struct ReadSoFar<'a> {
    doc: &'a Html,
    open: &'a HashSet<NodeId>,
    base: &'a Url,
    fetched: DateTime<Utc>,
    rules: &'a EpisodeRules,
    budget: &'a Budget,
}

impl ReadSoFar<'_> {
    /// Whether the page read so far already gives every field the value the whole page would.
    /// A field is settled when it takes its value from its first rule, and no element still
    /// open matches that rule. Rules read matches in the order the parser made them, so nothing
    /// later can come first; a closed element's text and attributes no longer change; and while
    /// an element the parser may still restructure around closed ones is open
    /// ([`RESTRUCTURING`]), nothing is settled. So a field once settled stays so, and later
    /// looks read only the others (`done`). Rules that look ahead, or at `<body>`'s and
    /// `<html>`'s attributes (a second `<body>` tag adds to them), are never read early (see
    /// [`may_stop_early`]).
    fn settles(&self, done: &mut HashSet<&'static str>) -> bool {
        if self.may_restructure() {
            return false;
        }
        let wanted = |field: &str| !done.contains(field) && !self.rules.rules_for(field).is_empty();
        let scope = Scope::Page(self.doc);
        let read = read_fields_if(scope, self.base, self.fetched, self.rules, self.budget, Some(&wanted));
        if read.over_budget.is_some() {
            return false;
        }
        let unsettled = read.trace.len();
        let now: Vec<&'static str> = read
            .trace
            .iter()
            .filter(|entry| match self.rules.rules_for(entry.field) {
                [first, ..] => entry.rule == Some(0) && !self.open_matches(first),
                [] => false,
            })
            .map(|entry| entry.field)
            .collect();
        let all = now.len() == unsettled;
        done.extend(now);
        all
    }

    fn open_elements(&self) -> impl Iterator<Item = ElementRef<'_>> {
        self.open.iter().filter_map(|id| self.doc.tree.get(*id)).filter_map(ElementRef::wrap)
    }

    fn open_matches(&self, rule: &Rule) -> bool {
        self.open_elements().any(|element| rule.css.matches(&element))
    }

    fn may_restructure(&self) -> bool {
        self.open_elements().any(|element| RESTRUCTURING.contains(&element.value().name()))
    }
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
    read_fields_if(scope, base, fetched, rules, budget, None)
}

/// [`read_fields`], or with `first_of` only the first rule of the fields it names.
fn read_fields_if(
    scope: Scope,
    base: &Url,
    fetched: DateTime<Utc>,
    rules: &EpisodeRules,
    budget: &Budget,
    first_of: Option<&dyn Fn(&str) -> bool>,
) -> Read {
    let wanted = |name: &str| first_of.is_none_or(|wanted| wanted(name));
    let (matched, mut over_budget) = match Matched::walk(scope, rules, &wanted, first_of.is_some(), budget) {
        Ok(matched) => (matched, None),
        Err(e) => (Matched { fields: Vec::new() }, Some(e)),
    };
    let mut trace = Vec::new();
    let mut found_by = |name: &'static str, find: &dyn Fn() -> Found| {
        if !wanted(name) || over_budget.is_some() {
            return None;
        }
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
        let rules = if first_of.is_some() { &rules[..rules.len().min(1)] } else { rules };
        found_by(name, &|| first_value(matched.of(name), rules, convert))
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
        hosts: found_by("hosts", &|| people(matched.of("hosts"), &rules.hosts, base)),
        guests: found_by("guests", &|| people(matched.of("guests"), &rules.guests, base)),
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
/// rule's matching elements (`matches`, rule by rule) in document order.
fn first_value(matches: &[Vec<ElementRef>], rules: &[Rule], convert: &dyn Fn(&Rule, String) -> Converted) -> Found {
    debug_assert_eq!(matches.len(), rules.len(), "a field read without its rules' matches");
    let mut rejected: Option<(String, Option<Unused>)> = None;
    for (i, (rule, elements)) in rules.iter().zip(matches).enumerate() {
        for raw in raw_values(elements, rule) {
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
fn people(matches: &[Vec<ElementRef>], rules: &[Rule], base: &Url) -> Found {
    debug_assert_eq!(matches.len(), rules.len(), "people read without their rules' matches");
    for (i, (rule, elements)) in rules.iter().zip(matches).enumerate() {
        let mut seen = HashSet::new();
        let lines: Vec<String> = elements
            .iter()
            .filter_map(|&element| {
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

#[cfg(test)]
mod tests;
