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
    /// "JSON-LD", "OpenGraph", "a meta tag", "the page's elements"...
    pub evidence: &'static str,
}

impl Candidate {
    fn new(css: &str, attr: Option<&str>, json: Option<String>, evidence: &'static str) -> Candidate {
        Candidate { css: css.to_string(), attr: attr.map(str::to_string), json, evidence }
    }
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a valid built-in selector")
}

/// Whether a URL (or a path) names an audio file.
pub fn is_audio_url(value: &str) -> bool {
    let path = value.trim().split(['?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    AUDIO_ENDINGS.iter().any(|ending| path.ends_with(ending)) && !path.contains(char::is_whitespace)
}

/// The candidate rules for each field a page offers, in the order of trust: what the page
/// declares for machines (JSON-LD, OpenGraph, meta tags) before what it shows.
pub fn candidates(doc: &Html) -> BTreeMap<&'static str, Vec<Candidate>> {
    let mut found: BTreeMap<&'static str, Vec<Candidate>> = BTreeMap::new();
    let mut add = |field: &'static str, candidate: Candidate| {
        let list = found.entry(field).or_default();
        if !list.iter().any(|c| c.css == candidate.css && c.attr == candidate.attr && c.json == candidate.json) {
            list.push(candidate);
        }
    };
    for (field, candidate) in json_ld(doc) {
        add(field, candidate);
    }
    for (field, candidate) in meta(doc) {
        add(field, candidate);
    }
    for (field, candidate) in elements(doc) {
        add(field, candidate);
    }
    found
}

/// Rules into the page's JSON-LD: a JSON pointer to each field of the episode it describes.
fn json_ld(doc: &Html) -> Vec<(&'static str, Candidate)> {
    const CSS: &str = "script[type='application/ld+json']";
    let mut rules = Vec::new();
    for script in doc.select(&selector(CSS)) {
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&script.text().collect::<String>()) else { continue };
        let Some((pointer, node)) = episode_node(&json, String::new(), 0) else { continue };
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
                rules.push((field, Candidate::new(CSS, None, Some(format!("{pointer}{path}")), "JSON-LD")));
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

/// Rules for what the page shows: its heading, audio in attributes (a player's JSON included),
/// dates and durations written out.
fn elements(doc: &Html) -> Vec<(&'static str, Candidate)> {
    let mut rules = Vec::new();
    if doc.select(&selector("h1")).any(|h| !h.text().collect::<String>().trim().is_empty()) {
        rules.push(("title", Candidate::new("h1", None, None, "the page's heading")));
    }
    for element in doc.root_element().descendants().filter_map(ElementRef::wrap).take(20_000) {
        let Some(css) = signature(element) else { continue };
        for (name, value) in element.value().attrs() {
            if is_audio_url(value) {
                rules.push(("audio", Candidate::new(&css, Some(name), None, "an audio link")));
            } else if let Some(pointer) = value.trim().starts_with('{').then(|| audio_in_json(value)).flatten() {
                rules.push(("audio", Candidate::new(&css, Some(name), Some(pointer), "a player's settings")));
            }
        }
        if !has_element_children(element) {
            let text: String = element.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ");
            if text.len() < 60 && !text.is_empty() {
                if parse::date(&text).is_some() && text.chars().any(|c| c.is_ascii_alphabetic()) {
                    rules.push(("published", Candidate::new(&css, None, None, "a date on the page")));
                }
                let named = css.contains("duration") || css.contains("length") || css.contains("runtime");
                if named && parse::duration(&text).is_ok() {
                    rules.push(("duration", Candidate::new(&css, None, None, "a duration on the page")));
                }
            }
        }
    }
    rules
}

fn has_element_children(element: ElementRef) -> bool {
    element.children().any(|child| child.value().is_element())
}

/// The pointer to the first string in a JSON text that names an audio file.
fn audio_in_json(text: &str) -> Option<String> {
    fn find(value: &serde_json::Value, at: String, depth: usize) -> Option<String> {
        match value {
            serde_json::Value::String(s) if is_audio_url(s) => Some(at),
            serde_json::Value::Object(map) if depth < 4 => map
                .iter()
                .find_map(|(key, v)| find(v, format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")), depth + 1)),
            _ => None,
        }
    }
    find(&serde_json::from_str(text).ok()?, String::new(), 0)
}

/// A CSS selector for an element by its tag and first class, under its parent's when the
/// parent has one: `div.player`, `p.byline span.date`. `None` for an element with no class
/// under a parent with none (too vague to be a rule).
pub fn signature(element: ElementRef) -> Option<String> {
    // `o:p` and the like cannot stand in a selector.
    if !element.value().name().bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let own = tag_and_class(element);
    let parent = element.parent().and_then(ElementRef::wrap).filter(|p| class_of(*p).is_some()).map(tag_and_class);
    match (parent, class_of(element)) {
        (Some(parent), _) => Some(format!("{parent} {own}")),
        (None, Some(_)) => Some(own),
        (None, None) => None,
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

/// Links on a page that look alike (the same tags and classes around them), by that selector,
/// with the distinct same-host URLs each leads to, in page order.
pub fn link_groups(doc: &Html, base: &Url) -> Vec<(String, Vec<Url>)> {
    // By selector: the URLs, and the characters of the links' text.
    let mut groups: BTreeMap<String, (Vec<Url>, usize)> = BTreeMap::new();
    for a in doc.select(&selector("a[href]")) {
        let Some(url) = a.value().attr("href").and_then(|href| base.join(href.trim()).ok()) else { continue };
        if url.host_str() != base.host_str() || url.fragment().is_some() || is_audio_url(url.path()) {
            continue;
        }
        let mut path = vec![tag_and_class(a)];
        let mut ancestor = a.parent().and_then(ElementRef::wrap);
        while let Some(element) = ancestor.filter(|_| path.len() < 3) {
            let nameable = element.value().name().bytes().all(|b| b.is_ascii_alphanumeric());
            if nameable && class_of(element).is_some() {
                path.push(tag_and_class(element));
            }
            ancestor = element.parent().and_then(ElementRef::wrap);
        }
        path.reverse();
        let (urls, text) = groups.entry(path.join(" ")).or_default();
        if !urls.contains(&url) && url.as_str() != base.as_str() {
            urls.push(url);
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

/// How the page links the next listing page: the group of an `a[rel=next]`, a `link[rel=next]`,
/// or a link that says "next", "older" or "more".
pub fn next_page(doc: &Html, base: &Url) -> Option<(String, Url)> {
    let href = |e: ElementRef| e.value().attr("href").and_then(|h| base.join(h.trim()).ok());
    if let Some((a, url)) = doc.select(&selector("a[rel~=next]")).find_map(|a| Some((a, href(a)?))) {
        let css = signature(a).map_or_else(|| "a[rel~=next]".to_string(), |css| format!("{css}[rel~=next]"));
        return Some((css, url));
    }
    if let Some(url) = doc.select(&selector("link[rel~=next]")).find_map(href) {
        return Some(("link[rel~=next]".to_string(), url));
    }
    let says_next = |a: &ElementRef| {
        let text = a.text().collect::<String>().to_lowercase();
        ["next", "older", "more", "previous episodes"]
            .iter()
            .any(|word| text.trim().starts_with(word) || text.contains(&format!("{word} ")))
    };
    let a = doc.select(&selector("a[href]")).find(says_next)?;
    Some((signature(a)?, href(a)?))
}

/// Whether the page carries audio of its own: declared (JSON-LD, `og:audio`), in a player or
/// a link.
pub fn has_audio(doc: &Html) -> bool {
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
        assert_eq!(groups[0].0, "article.card h2.t a");
        assert_eq!(groups[0].1.len(), 5);
        let (css, url) = next_page(&doc, &base).unwrap();
        assert_eq!((css.as_str(), url.as_str()), ("nav.pages a[rel~=next]", "https://example.org/a/2"));
    }
}
