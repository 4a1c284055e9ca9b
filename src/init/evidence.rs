//! What a page declares, read without a recipe: whether it carries audio, the candidate rules for
//! each field (JSON-LD first, then OpenGraph and meta tags, then visible elements), the groups
//! of similar links on a listing page, and its link to the next page. Pure: a parsed page in,
//! plain data out.

use std::collections::BTreeMap;

use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::parse;

/// File endings of audio a podcast app plays.
const AUDIO_ENDINGS: [&str; 7] = [".mp3", ".m4a", ".aac", ".ogg", ".opus", ".wav", ".mp4"];

/// schema.org types that describe one episode.
const EPISODE_TYPES: [&str; 4] = ["PodcastEpisode", "Episode", "RadioEpisode", "AudioObject"];

/// A rule as the recipe will have it, and the evidence it came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub css: String,
    pub attr: Option<String>,
    pub json: Option<String>,
    /// Descendants dropped before the text is read: the date inside a teaser.
    pub remove: Option<String>,
    /// "JSON-LD", "OpenGraph", "a meta tag", "the page's elements"...
    pub evidence: &'static str,
}

impl Candidate {
    fn new(css: &str, attr: Option<&str>, json: Option<String>, evidence: &'static str) -> Candidate {
        Candidate { css: css.to_string(), attr: attr.map(str::to_string), json, remove: None, evidence }
    }

    /// The same rule, whatever its evidence.
    fn same_rule(&self, other: &Candidate) -> bool {
        (&self.css, &self.attr, &self.json, &self.remove) == (&other.css, &other.attr, &other.json, &other.remove)
    }
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a valid built-in selector")
}

/// Whether a URL (or a path) names an audio file.
pub(crate) fn is_audio_url(value: &str) -> bool {
    let path = value.trim().split(['?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    AUDIO_ENDINGS.iter().any(|ending| path.ends_with(ending)) && !path.contains(char::is_whitespace)
}

/// The candidate rules for each field a page offers, in the order of trust: what the page
/// declares for machines (JSON-LD, OpenGraph, meta tags) before what it shows.
pub(crate) fn candidates(doc: &Html) -> BTreeMap<&'static str, Vec<Candidate>> {
    let mut rules = json_ld(doc);
    rules.extend(meta(doc));
    rules.extend(microformats(doc));
    if doc.select(&selector("h1")).any(|h| !h.text().collect::<String>().trim().is_empty()) {
        rules.push(("title", Candidate::new("h1", None, None, "the page's heading")));
    }
    rules.extend(elements(doc.root_element(), None));
    by_field(rules)
}

/// The candidate rules for each field inside one listing item (an element that describes an
/// episode), relative to it: its title link, its audio, its date and duration, its teaser.
pub(crate) fn item_candidates(item: ElementRef, base: &Url) -> BTreeMap<&'static str, Vec<Candidate>> {
    let mut rules = Vec::new();
    // The link with the longest text is the episode's, and its text the title.
    let title_link = item
        .select(&selector("a[href]"))
        .filter(|a| page_link(*a, base).is_some())
        .max_by_key(|a| a.text().map(|t| t.trim().chars().count()).sum::<usize>());
    if let Some(css) = title_link.and_then(|a| signature_in(a, Some(item))) {
        rules.push(("title", Candidate::new(&css, None, None, "the item's link")));
        rules.push(("link", Candidate::new(&css, Some("href"), None, "the item's link")));
    }
    for heading in item.select(&selector("h2, h3, h4")) {
        if let Some(css) = signature_in(heading, Some(item)) {
            rules.push(("title", Candidate::new(&css, None, None, "the item's heading")));
        }
    }
    if item.select(&selector("time[datetime]")).next().is_some() {
        rules.push(("published", Candidate::new("time[datetime]", Some("datetime"), None, "a <time> element")));
    }
    rules.extend(elements(item, Some(item)));
    rules.extend(teaser(item));
    by_field(rules)
}

/// Rules grouped by field, each once, in the order given.
fn by_field(rules: Vec<(&'static str, Candidate)>) -> BTreeMap<&'static str, Vec<Candidate>> {
    let mut found: BTreeMap<&'static str, Vec<Candidate>> = BTreeMap::new();
    for (field, candidate) in rules {
        let list = found.entry(field).or_default();
        if !list.iter().any(|c| c.same_rule(&candidate)) {
            list.push(candidate);
        }
    }
    found
}

/// The item's teaser: the element with the most text that holds no link, heading or player,
/// without a date written inside it.
fn teaser(item: ElementRef) -> Option<(&'static str, Candidate)> {
    let holds = |e: ElementRef, css: &str| e.select(&selector(css)).next().is_some();
    let (element, _) = item
        .descendants()
        .skip(1)
        .filter_map(ElementRef::wrap)
        .take(2_000)
        .filter(|e| matches!(e.value().name(), "p" | "div" | "span" | "section"))
        .filter(|e| !holds(*e, "a, h1, h2, h3, h4, audio") && !e.value().attrs().any(|(_, v)| is_audio_url(v)))
        .map(|e| (e, words(e).len()))
        .filter(|(_, length)| *length >= 40)
        .max_by_key(|(_, length)| *length)?;
    let mut candidate = Candidate::new(&signature_in(element, Some(item))?, None, None, "the item's teaser");
    candidate.remove = element
        .children()
        .filter_map(ElementRef::wrap)
        .find(|child| is_written_date(&words(*child)))
        .map(tag_and_class);
    Some(("description", candidate))
}

/// An element's text, its whitespace collapsed.
fn words(element: ElementRef) -> String {
    element.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a short text is a date written out ("August 16, 2017 · 9:00 AM ET").
fn is_written_date(text: &str) -> bool {
    text.len() < 60
        && text.chars().any(|c| c.is_ascii_alphabetic())
        && parse::date_in(text, Some(chrono_tz::Tz::UTC)).is_some()
}

/// A same-host link to a page (not to audio, not within the page).
fn page_link(a: ElementRef, base: &Url) -> Option<Url> {
    let url = base.join(a.value().attr("href")?.trim()).ok()?;
    (url.host_str() == base.host_str() && url.fragment().is_none() && !is_audio_url(url.path())).then_some(url)
}

/// Rules into the page's JSON-LD: a JSON pointer to each field of the episode it describes.
fn json_ld(doc: &Html) -> Vec<(&'static str, Candidate)> {
    const CSS: &str = "script[type='application/ld+json']";
    let mut rules = Vec::new();
    let scripts: Vec<Option<serde_json::Value>> =
        doc.select(&selector(CSS)).take(50).map(|s| serde_json::from_str(&s.text().collect::<String>()).ok()).collect();
    for (i, json) in scripts.iter().enumerate() {
        let Some(json) = json else { continue };
        let Some((pointer, node)) = episode_node(json, String::new(), 0) else { continue };
        // The rule reads the first script that has the pointer: one before the episode's
        // (a WebPage's `/datePublished`, an Organization's `/name`) would be read instead.
        let earlier = |pointer: &str| scripts[..i].iter().flatten().any(|s| s.pointer(pointer).is_some());
        let fields: [(&'static str, &[&str]); 8] = [
            ("title", &["/name", "/headline"]),
            ("published", &["/datePublished", "/uploadDate"]),
            ("description", &["/description"]),
            ("duration", &["/timeRequired", "/duration", "/associatedMedia/duration"]),
            ("audio", &["/associatedMedia/contentUrl", "/audio/contentUrl", "/contentUrl"]),
            ("link", &["/url"]),
            ("image", &["/image", "/image/url", "/thumbnailUrl"]),
            ("episode", &["/episodeNumber"]),
        ];
        for (field, paths) in fields {
            for path in paths.iter().filter(|path| node.pointer(path).is_some_and(|v| v.is_string() || v.is_number())) {
                let pointer = format!("{pointer}{path}");
                if !earlier(&pointer) {
                    rules.push((field, Candidate::new(CSS, None, Some(pointer), "JSON-LD")));
                }
            }
        }
    }
    rules
}

/// The JSON pointer to the first episode object in a JSON-LD document (`@graph` included).
fn episode_node(value: &serde_json::Value, at: String, depth: usize) -> Option<(String, &serde_json::Value)> {
    if depth > 6 {
        return None;
    }
    match value {
        serde_json::Value::Object(map) => {
            let typed = |t: &serde_json::Value| t.as_str().is_some_and(|t| EPISODE_TYPES.contains(&t));
            let is_episode =
                map.get("@type").is_some_and(|t| typed(t) || t.as_array().is_some_and(|a| a.iter().any(typed)));
            if is_episode {
                return Some((at, value));
            }
            let graph = map.get("@graph")?;
            episode_node(graph, format!("{at}/@graph"), depth + 1)
        }
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| episode_node(item, format!("{at}/{i}"), depth + 1))
        }
        _ => None,
    }
}

/// Rules for the OpenGraph and meta tags a page has.
fn meta(doc: &Html) -> Vec<(&'static str, Candidate)> {
    let tags: [(&'static str, &str, &str, &'static str); 9] = [
        ("title", "meta[property='og:title']", "content", "OpenGraph"),
        ("audio", "meta[property='og:audio']", "content", "OpenGraph"),
        ("audio", "meta[property='og:audio:url']", "content", "OpenGraph"),
        ("published", "meta[property='article:published_time']", "content", "OpenGraph"),
        ("description", "meta[name=description]", "content", "a meta tag"),
        ("description", "meta[property='og:description']", "content", "OpenGraph"),
        ("image", "meta[property='og:image']", "content", "OpenGraph"),
        ("link", "link[rel=canonical]", "href", "the canonical link"),
        ("published", "time[datetime]", "datetime", "a <time> element"),
    ];
    tags.into_iter()
        .filter(|(_, css, attr, _)| {
            doc.select(&selector(css)).any(|e| e.value().attr(attr).is_some_and(|v| !v.trim().is_empty()))
        })
        .map(|(field, css, attr, evidence)| (field, Candidate::new(css, Some(attr), None, evidence)))
        .collect()
}

/// Rules for an `h-entry` (microformats2): its name, date, URL and summary.
fn microformats(doc: &Html) -> Vec<(&'static str, Candidate)> {
    let properties: [(&'static str, &str, Option<&str>); 5] = [
        ("title", ".h-entry .p-name", None),
        ("published", ".h-entry .dt-published", Some("datetime")),
        ("published", ".h-entry .dt-published", None),
        ("link", ".h-entry .u-url", Some("href")),
        ("description", ".h-entry .p-summary", None),
    ];
    properties
        .into_iter()
        .filter(|(_, css, attr)| {
            doc.select(&selector(css)).any(|e| match attr {
                Some(attr) => e.value().attr(attr).is_some_and(|v| !v.trim().is_empty()),
                None => !words(e).is_empty(),
            })
        })
        .map(|(field, css, attr)| (field, Candidate::new(css, attr, None, "microformats")))
        .collect()
}

/// Rules for what `root` shows (rules relative to `scope` when given): audio in attributes (a
/// player's JSON included), dates and durations written out.
fn elements(root: ElementRef, scope: Option<ElementRef>) -> Vec<(&'static str, Candidate)> {
    let mut rules = Vec::new();
    for element in root.descendants().filter_map(ElementRef::wrap).take(20_000) {
        if scope.is_some_and(|scope| scope.id() == element.id()) {
            continue;
        }
        let css = signature_in(element, scope);
        for (name, value) in element.value().attrs() {
            if is_audio_url(value) {
                // `<audio src>` or `<a href="x.mp3">` with no class: by the ending of the file.
                if let Some(css) = css.clone().or_else(|| by_audio_ending(element, name, value)) {
                    rules.push(("audio", Candidate::new(&css, Some(name), None, "an audio link")));
                }
            } else if let (Some(css), true) = (&css, value.trim().starts_with('{')) {
                let Ok(json) = serde_json::from_str::<serde_json::Value>(value) else { continue };
                if let Some(pointer) = pointer_to(&json, &|_, v| v.as_str().is_some_and(is_audio_url)) {
                    rules.push(("audio", Candidate::new(css, Some(name), Some(pointer), "a player's settings")));
                }
                if let Some(pointer) = pointer_to(&json, &is_duration) {
                    rules.push(("duration", Candidate::new(css, Some(name), Some(pointer), "a player's settings")));
                }
            }
        }
        let Some(css) = css else { continue };
        if !has_element_children(element) {
            let text = words(element);
            if is_written_date(&text) {
                rules.push(("published", Candidate::new(&css, None, None, "a date on the page")));
            }
            let named = css.contains("duration") || css.contains("length") || css.contains("runtime");
            if named && text.len() < 60 && parse::duration(&text).is_ok() {
                rules.push(("duration", Candidate::new(&css, None, None, "a duration on the page")));
            }
        }
    }
    rules
}

/// A selector for an audio link by the ending of its file: `audio[src*='.mp3']`.
fn by_audio_ending(element: ElementRef, attr: &str, value: &str) -> Option<String> {
    let tag = element.value().name();
    let plain = |name: &str| {
        name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let path = value.split(['?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    let ending = AUDIO_ENDINGS.iter().find(|ending| path.ends_with(*ending))?;
    (plain(tag) && plain(attr)).then(|| format!("{tag}[{attr}*='{ending}']"))
}

/// Whether a player's setting is the episode's duration: named so, and readable as one.
fn is_duration(key: &str, value: &serde_json::Value) -> bool {
    let key = key.to_ascii_lowercase();
    let named = key.contains("duration") || key == "length" || key == "runtime";
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return false,
    };
    named && parse::duration(&text).is_ok()
}

fn has_element_children(element: ElementRef) -> bool {
    element.children().any(|child| child.value().is_element())
}

/// The JSON pointer to the first value (by key and value) a player's settings have that `wanted`
/// accepts, a few levels deep at most.
fn pointer_to(value: &serde_json::Value, wanted: &dyn Fn(&str, &serde_json::Value) -> bool) -> Option<String> {
    fn find(
        value: &serde_json::Value,
        at: String,
        depth: usize,
        wanted: &dyn Fn(&str, &serde_json::Value) -> bool,
    ) -> Option<String> {
        let serde_json::Value::Object(map) = value else { return None };
        map.iter().find_map(|(key, v)| {
            let at = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
            if wanted(key, v) {
                return Some(at);
            }
            (depth < 4).then(|| find(v, at, depth + 1, wanted)).flatten()
        })
    }
    find(value, String::new(), 0, wanted)
}

/// A CSS selector for an element by its tag and first class, under its parent's when the
/// parent has one: `div.player`, `p.byline span.date`. `None` for an element with no class
/// under a parent with none (too vague to be a rule).
pub(crate) fn signature(element: ElementRef) -> Option<String> {
    signature_in(element, None)
}

/// [`signature`], for a rule evaluated inside `scope` (a listing item): the item itself is not
/// named, and there plain tags are specific enough (`h2 a`).
fn signature_in(element: ElementRef, scope: Option<ElementRef>) -> Option<String> {
    // `o:p` and the like cannot stand in a selector.
    if !element.value().name().bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let own = tag_and_class(element);
    let parent = element
        .parent()
        .and_then(ElementRef::wrap)
        .filter(|p| scope.is_none_or(|scope| scope.id() != p.id()))
        .filter(|p| p.value().name().bytes().all(|b| b.is_ascii_alphanumeric()));
    match (parent, class_of(element)) {
        (Some(parent), _) if class_of(parent).is_some() || scope.is_some() => {
            Some(format!("{} {own}", tag_and_class(parent)))
        }
        (_, Some(_)) => Some(own),
        (_, None) if scope.is_some() => Some(own),
        _ => None,
    }
}

fn tag_and_class(element: ElementRef) -> String {
    let tag = element.value().name();
    match class_of(element) {
        Some(class) => format!("{tag}.{class}"),
        None => tag.to_string(),
    }
}

/// An element's first class, if it is one a selector can name as it stands.
fn class_of<'a>(element: ElementRef<'a>) -> Option<&'a str> {
    let class = element.value().classes().next()?;
    let plain = class.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    (plain && !class.starts_with(|c: char| c.is_ascii_digit() || c == '-')).then_some(class)
}

/// A selector for a link by its place: its parent as the link's direct parent, under the
/// nearest ancestor with a class (`article.card h2.title > a`). A tag link or a share link in
/// the same card has another parent, and is another group.
fn link_path(a: ElementRef) -> Option<String> {
    // Custom elements (`<ep-link>`) are named with a dash; `o:p` and the like cannot be named.
    let nameable = |e: &ElementRef| e.value().name().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let parent = a.parent().and_then(ElementRef::wrap).filter(nameable)?;
    let own = format!("{} > {}", tag_and_class(parent), tag_and_class(a));
    let outer = parent.ancestors().filter_map(ElementRef::wrap).take(8).find(|e| nameable(e) && class_of(*e).is_some());
    Some(match outer {
        Some(outer) => format!("{} {own}", tag_and_class(outer)),
        None => own,
    })
}

/// Whether a link is the first link among its siblings.
fn first_link(a: ElementRef) -> bool {
    !a.prev_siblings().filter_map(ElementRef::wrap).any(|s| s.value().name() == "a")
}

/// Links on a page that look alike (the same tags and classes around them), by that selector,
/// with the distinct same-host URLs each leads to, in page order.
pub(crate) fn link_groups(doc: &Html, base: &Url) -> Vec<(String, Vec<Url>)> {
    // By selector: the URLs, and the characters of the links' text.
    let mut groups: BTreeMap<String, (Vec<Url>, usize)> = BTreeMap::new();
    let links: Vec<(ElementRef, Url, String)> = doc
        .select(&selector("a[href]"))
        .take(10_000)
        .filter_map(|a| {
            let url = base.join(a.value().attr("href")?.trim()).ok()?;
            let page = url.host_str() == base.host_str() && url.fragment().is_none() && !is_audio_url(url.path());
            (page && url.as_str() != base.as_str()).then_some((a, url, link_path(a)?))
        })
        .collect();
    // A title link and the tag links beside it under one parent, in many such parents (cards):
    // told apart by position. One parent of many links is a plain list.
    let mut parents: BTreeMap<&str, std::collections::HashSet<ego_tree::NodeId>> = BTreeMap::new();
    for (a, _, css) in &links {
        parents.entry(css).or_default().extend(a.parent().map(|p| p.id()));
    }
    let mut beside: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (a, _, css) in &links {
        if !first_link(*a) && parents.get(css.as_str()).is_some_and(|p| p.len() >= 3) {
            beside.insert(css);
        }
    }
    for (a, url, css) in &links {
        let css = match (beside.contains(css.as_str()), first_link(*a)) {
            (false, _) => css.clone(),
            (true, true) => format!("{css}:first-of-type"),
            (true, false) => format!("{css}:not(:first-of-type)"),
        };
        let (urls, text) = groups.entry(css).or_default();
        if !urls.contains(url) {
            urls.push(url.clone());
            *text += a.text().map(|t| t.trim().chars().count()).sum::<usize>();
        }
    }
    let mut groups: Vec<(String, Vec<Url>, usize)> = groups
        .into_iter()
        .filter(|(_, (urls, _))| urls.len() >= 3)
        .map(|(css, (urls, text))| (css, urls, text))
        .collect();
    // Episode titles first ("The Hidden Harbor" is long, "Share", "2016-01" and "News" are
    // not), then the larger groups.
    groups.sort_by_key(|(_, urls, text)| std::cmp::Reverse((text / urls.len() >= 12, urls.len())));
    groups.into_iter().map(|(css, urls, _)| (css, urls)).collect()
}

/// How the page may link the rest of the archive, likeliest first, each as a selector for
/// `crawl.follow` and the first page it leads to: an `a[rel=next]` (with its classes), a
/// `link[rel=next]`, the link to page "2" of numbered pages, a link that says "next", "older" or
/// "more" (not one of a menu's many links), links to month archives ("March 2024").
pub(crate) fn next_pages(doc: &Html, base: &Url) -> Vec<(String, Url)> {
    let href = |e: ElementRef| {
        let url = base.join(e.value().attr("href")?.trim()).ok()?;
        (url.host_str() == base.host_str() && url != *base).then_some(url)
    };
    let mut found = Vec::new();
    if let Some((a, url)) = doc.select(&selector("a[rel~=next]")).find_map(|a| Some((a, href(a)?))) {
        let css = signature(a).map_or_else(|| "a[rel~=next]".to_string(), |css| format!("{css}[rel~=next]"));
        found.push((css, url));
    }
    if let Some(url) = doc.select(&selector("link[rel~=next]")).find_map(href) {
        found.push(("link[rel~=next]".to_string(), url));
    }
    let links: Vec<ElementRef> = doc.select(&selector("a[href]")).take(5_000).collect();
    let page_two = links.iter().find(|a| words(**a) == "2" && href(**a).is_some_and(|u| u.as_str().contains('2')));
    if let Some((css, url)) = page_two.and_then(|a| Some((signature(*a).or_else(|| link_path(*a))?, href(*a)?))) {
        found.push((css, url));
    }
    let says_next = |a: &&ElementRef| {
        let text = words(**a).to_lowercase();
        ["next", "older", "more", "previous episodes"].iter().any(|word| text.starts_with(word))
    };
    let few = |css: &str| Selector::parse(css).is_ok_and(|s| doc.select(&s).count() <= 2);
    if let Some((css, url)) =
        links.iter().filter(says_next).find_map(|a| Some((signature(*a).filter(|css| few(css))?, href(*a)?)))
    {
        found.push((css, url));
    }
    let month = |a: &&ElementRef| {
        let text = words(**a);
        let year =
            text.split(' ').nth(1).and_then(|y| y.parse::<u32>().ok()).is_some_and(|y| (1990..2100).contains(&y));
        year && text.split(' ').count() == 2 && parse::date(&format!("1 {text}")).is_some()
    };
    let months: Vec<&ElementRef> = links.iter().filter(month).collect();
    if let [first, _, ..] = months.as_slice() {
        if let Some(found_month) = link_path(**first).zip(href(**first)) {
            found.push(found_month);
        }
    }
    found
}

/// The repeated elements of a listing page that each describe one episode with its audio (as
/// NPR's archive pages do): their selector, and how many the page has. Each carries one audio
/// file and a link to a page; most of them carry audio.
pub(crate) fn audio_items(doc: &Html, base: &Url) -> Option<(String, usize)> {
    let carriers: Vec<ElementRef> = doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .take(20_000)
        .filter(|e| !audio_of(*e, base).is_empty())
        .take(5)
        .collect();
    if carriers.len() < 3 {
        return None;
    }
    for carrier in carriers {
        for ancestor in carrier.ancestors().filter_map(ElementRef::wrap).take(6) {
            let Some(css) = item_path(ancestor) else { continue };
            let Ok(items) = Selector::parse(&css) else { continue };
            let found: Vec<ElementRef> = doc.select(&items).take(1_000).collect();
            let audio: Vec<usize> = found.iter().map(|item| audio_in(*item, base)).collect();
            // An element holding several episodes' audio is the list, not an item.
            if audio.iter().any(|n| *n > 1) {
                break;
            }
            let with_audio = audio.iter().filter(|n| **n == 1).count();
            let linked =
                found.iter().all(|item| item.select(&selector("a[href]")).any(|a| page_link(a, base).is_some()));
            let nested = found
                .iter()
                .any(|item| item.descendants().skip(1).filter_map(ElementRef::wrap).any(|d| items.matches(&d)));
            if with_audio >= 3 && with_audio * 2 >= found.len() && linked && !nested {
                return Some((css, found.len()));
            }
        }
    }
    None
}

/// Whether the page has audio outside the items `css` selects: an episode page's own player
/// beside its "related episodes", or a home page's player of the latest one.
pub(crate) fn audio_outside(doc: &Html, base: &Url, css: &str) -> bool {
    let Ok(items) = Selector::parse(css) else { return false };
    doc.root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .take(20_000)
        .filter(|e| !audio_of(*e, base).is_empty())
        .any(|carrier| !carrier.ancestors().filter_map(ElementRef::wrap).any(|a| items.matches(&a)))
}

/// A selector for a possible listing item: its tag and class, under its nearest ancestor with a
/// class (`div.archivelist article.item`).
fn item_path(element: ElementRef) -> Option<String> {
    class_of(element)?;
    let own = tag_and_class(element);
    let nameable = |e: &ElementRef| e.value().name().bytes().all(|b| b.is_ascii_alphanumeric());
    if !nameable(&element) {
        return None;
    }
    let outer = element.ancestors().filter_map(ElementRef::wrap).find(|a| nameable(a) && class_of(*a).is_some());
    Some(match outer {
        Some(outer) => format!("{} {own}", tag_and_class(outer)),
        None => own,
    })
}

/// The distinct audio files an element and its descendants name.
fn audio_in(element: ElementRef, base: &Url) -> usize {
    let mut files: Vec<Url> = Vec::new();
    for e in element.descendants().filter_map(ElementRef::wrap).take(2_000) {
        for url in audio_of(e, base) {
            if !files.contains(&url) {
                files.push(url);
            }
        }
    }
    files.len()
}

/// The audio files one element names in its attributes (a player's JSON included).
fn audio_of(element: ElementRef, base: &Url) -> Vec<Url> {
    let mut files = Vec::new();
    for (_, value) in element.value().attrs() {
        let file = if is_audio_url(value) {
            Some(value.trim().to_string())
        } else if value.trim().starts_with('{') {
            let json = serde_json::from_str::<serde_json::Value>(value).ok();
            json.and_then(|json| {
                let pointer = pointer_to(&json, &|_, v| v.as_str().is_some_and(is_audio_url))?;
                json.pointer(&pointer)?.as_str().map(str::to_string)
            })
        } else {
            None
        };
        files.extend(file.and_then(|file| base.join(&file).ok()));
    }
    files
}

/// The US time zone the page's written dates name ("August 16, 2017 · 9:00 AM ET"), if one
/// does: a recipe needs it, for those dates have no offset.
pub(crate) fn date_zone(doc: &Html) -> Option<chrono_tz::Tz> {
    doc.root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .take(20_000)
        .filter(|e| !has_element_children(*e))
        .map(words)
        .filter(|text| is_written_date(text))
        .find_map(|text| parse::zone_named(&text).filter(|zone| *zone != chrono_tz::Tz::UTC))
}

/// Whether the page carries audio of its own: declared (JSON-LD, `og:audio`), in a player or
/// a link.
pub(crate) fn has_audio(doc: &Html) -> bool {
    candidates(doc).contains_key("audio")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ld_pointers_reach_into_a_graph() {
        let doc = Html::parse_document(
            r#"<script type="application/ld+json">{"@graph": [{"@type": "WebSite"}, {"@type": "PodcastEpisode",
               "name": "T", "associatedMedia": {"contentUrl": "/a.mp3"}, "datePublished": "2020-01-01"}]}</script>"#,
        );
        let found = candidates(&doc);
        assert_eq!(found["title"][0].json.as_deref(), Some("/@graph/1/name"));
        assert_eq!(found["audio"][0].json.as_deref(), Some("/@graph/1/associatedMedia/contentUrl"));
        assert_eq!(found["published"][0].evidence, "JSON-LD");
    }

    #[test]
    fn players_links_dates_and_durations_are_found_in_the_page() {
        let doc = Html::parse_document(
            r#"<h1>T</h1><div class="player" data-audio='{"audioUrl": "/m/1.mp3"}'></div>
               <p class="byline"><span class="date">August 16, 2017</span></p><span class="duration">52 min</span>
               <a class="download" href="../m/1.mp3?x=1">Download</a>"#,
        );
        let found = candidates(&doc);
        let audio: Vec<_> =
            found["audio"].iter().map(|c| (c.css.as_str(), c.attr.as_deref(), c.json.as_deref())).collect();
        assert!(audio.contains(&("div.player", Some("data-audio"), Some("/audioUrl"))), "{audio:?}");
        assert!(audio.contains(&("a.download", Some("href"), None)), "{audio:?}");
        assert_eq!(found["published"][0].css, "p.byline span.date");
        assert_eq!(found["duration"][0].css, "span.duration");
        assert!(!candidates(&Html::parse_document("<p>No audio here</p>")).contains_key("audio"));
        // Plain elements, no class anywhere: by the file's ending.
        let plain =
            candidates(&Html::parse_document(r#"<audio src="/m/2.m4a?t=1"></audio><a href="/m/2.mp3">MP3</a>"#));
        let audio: Vec<_> = plain["audio"].iter().map(|c| c.css.as_str()).collect();
        assert_eq!(audio, ["audio[src*='.m4a']", "a[href*='.mp3']"]);
    }

    #[test]
    fn numbered_pages_month_archives_and_menus() {
        let base = Url::parse("https://example.org/archive").unwrap();
        let menu: String = (1..=4).map(|n| format!(r#"<a href="/about/{n}">More about us</a>"#)).collect();
        let doc = Html::parse_document(&format!(
            r#"<nav class="menu">{menu}</nav><div class="pager"><a href="/archive?page=2">2</a><a href="/archive?page=3">3</a></div>
               <ul class="months"><li><a href="/2024/03/">March 2024</a></li><li><a href="/2024/02/">February 2024</a></li></ul>"#
        ));
        let found: Vec<(String, String)> =
            next_pages(&doc, &base).into_iter().map(|(css, url)| (css, url.to_string())).collect();
        assert_eq!(
            found,
            [
                ("div.pager a".to_string(), "https://example.org/archive?page=2".to_string()),
                ("ul.months li > a".to_string(), "https://example.org/2024/03/".to_string()),
            ],
            "a menu's 'More' is none of them"
        );
    }

    #[test]
    fn microformats_are_read() {
        let doc = Html::parse_document(
            r#"<article class="h-entry"><h2 class="p-name">T</h2><time class="dt-published" datetime="2020-01-02">Jan 2</time>
               <a class="u-url" href="/e/1">#</a><p class="p-summary">What it is about.</p></article>"#,
        );
        let found = candidates(&doc);
        assert_eq!(found["title"][0].css, ".h-entry .p-name");
        assert_eq!(found["published"][0].evidence, "a <time> element");
        assert!(found["published"].iter().any(|c| c.css == ".h-entry .dt-published"));
        assert_eq!(found["link"][0].evidence, "microformats");
        assert_eq!(found["description"][0].evidence, "microformats");
    }

    #[test]
    fn listing_items_that_carry_their_audio_are_found_with_their_fields() {
        let base = Url::parse("https://example.org/list").unwrap();
        let items: String = (1..=4)
            .map(|n| {
                format!(
                    r#"<article class="item"><h2 class="title"><a href="/e/{n}">Episode title number {n}</a></h2>
                    <p class="teaser"><span class="date">August {n}, 2017 · 9:00 AM ET</span> A teaser long enough to be the description of it.</p>
                    <div class="player" data-audio='{{"audioUrl":"/m/{n}.mp3","duration":"P15M,31S"}}'>Play</div></article>"#
                )
            })
            .collect();
        let doc = Html::parse_document(&format!(r#"<div class="archivelist">{items}</div>"#));
        assert_eq!(audio_items(&doc, &base), Some(("div.archivelist article.item".to_string(), 4)));
        assert_eq!(date_zone(&doc), Some(chrono_tz::America::New_York));
        let item = doc.select(&selector("article.item")).next().unwrap();
        let found = item_candidates(item, &base);
        assert_eq!(found["title"][0].css, "h2.title a");
        assert_eq!(found["link"][0].attr.as_deref(), Some("href"));
        assert_eq!(found["duration"][0].json.as_deref(), Some("/duration"));
        let teaser = &found["description"][0];
        assert_eq!((teaser.css.as_str(), teaser.remove.as_deref()), ("p.teaser", Some("span.date")));
        // One page's player and links are no listing.
        let page = Html::parse_document(r#"<div class="player" data-audio='{"audioUrl":"/m/1.mp3"}'></div>"#);
        assert_eq!(audio_items(&page, &base), None);
    }

    #[test]
    fn similar_links_are_grouped_and_the_next_page_found() {
        let base = Url::parse("https://example.org/archive").unwrap();
        let cards: String = (1..=5)
            .map(|n| format!(r#"<article class="card"><h2 class="t"><a href="/e/{n}">E</a></h2></article>"#))
            .collect();
        let doc = Html::parse_document(&format!(
            r#"<main>{cards}</main><nav class="pages"><a href="/a/2" rel="next">Older</a></nav><a href="https://elsewhere.example/x">X</a>"#
        ));
        let groups = link_groups(&doc, &base);
        assert_eq!(groups[0].0, "article.card h2.t > a");
        assert_eq!(groups[0].1.len(), 5);
        let (css, url) = next_pages(&doc, &base).into_iter().next().unwrap();
        assert_eq!((css.as_str(), url.as_str()), ("nav.pages a[rel~=next]", "https://example.org/a/2"));
    }
}
