//! What a page declares, read without a recipe: whether it carries audio, and the candidate rules
//! for each field (JSON-LD first, then OpenGraph and meta tags, then visible elements). Pure: a
//! parsed page in, plain data out.

use std::collections::BTreeMap;

use scraper::{ElementRef, Html};
use url::Url;

use super::candidate::Candidate;
use super::dom::{
    classes, has_element_children, is_audio_url, page_link, pointer_to, selector, signature_in, tag_and_class, words,
    AUDIO_ENDINGS, NOT_URL_ATTRIBUTES,
};
use crate::parse;

/// schema.org types that describe one episode.
const EPISODE_TYPES: [&str; 4] = ["PodcastEpisode", "Episode", "RadioEpisode", "AudioObject"];

/// Headings tried as an episode's title at most: enough for a logo's, a section's and the
/// article's own.
const MAX_HEADINGS: usize = 6;

/// The evidence of a rule that reads one of the page's visible headings.
pub(super) const HEADING: &str = "the page's heading";

/// The candidate rules for each field a page offers, in the order of trust: what the page
/// declares for machines (JSON-LD, OpenGraph, meta tags) before what it shows, and its
/// `<title>` last (which names the site too).
pub(crate) fn candidates(doc: &Html) -> BTreeMap<&'static str, Vec<Candidate>> {
    let mut rules = json_ld(doc);
    rules.extend(meta(doc));
    rules.extend(microformats(doc));
    rules.extend(microdata(doc));
    rules.extend(headings(doc));
    rules.extend(elements(doc.root_element(), None));
    rules.extend(super::scripts::candidates(doc));
    if doc.select(&selector("head > title")).any(|t| !words(t).is_empty()) {
        rules.push(("title", Candidate::new("head > title", None, None, "the page's <title>")));
    }
    by_field(rules)
}

/// The page's headings as title rules, `h1` before `h2` before `h3`, each by its place
/// (`h1.entry-title`, `div.post h2`): a site's logo is often the first `h1`, and the article's
/// heading an `h2` of a theme's. A heading named only by its tag is the first of its kind.
fn headings(doc: &Html) -> Vec<(&'static str, Candidate)> {
    let mut rules = Vec::new();
    for tag in ["h1", "h2", "h3"] {
        for (i, heading) in doc.select(&selector(tag)).take(20).enumerate() {
            let text = words(heading);
            if text.is_empty() || text.chars().count() > 300 {
                continue;
            }
            let css = signature_in(heading, None).or_else(|| (i == 0).then(|| tag.to_string()));
            if let Some(css) = css {
                rules.push(("title", Candidate::new(&css, None, None, HEADING)));
            }
        }
    }
    rules.truncate(MAX_HEADINGS);
    rules
}

/// The candidate rules for each field inside one listing item (an element that describes an
/// episode), relative to it: its title link, its audio, its date and duration, its teaser.
pub(crate) fn item_candidates(item: ElementRef, base: &Url) -> BTreeMap<&'static str, Vec<Candidate>> {
    let mut rules = Vec::new();
    // The episode's link is its heading's (the longest: not a category's slug above it), else
    // the link with the longest text.
    let links: Vec<ElementRef> = item.select(&selector("a[href]")).filter(|a| page_link(*a, base).is_some()).collect();
    let in_heading = |a: &&ElementRef| {
        a.ancestors()
            .filter_map(ElementRef::wrap)
            .take(3)
            .any(|e| matches!(e.value().name(), "h1" | "h2" | "h3" | "h4"))
    };
    let length = |a: &&ElementRef| a.text().map(|t| t.trim().chars().count()).sum::<usize>();
    let longest_heading = links.iter().filter(in_heading).max_by_key(length);
    let title_link = longest_heading.or_else(|| links.iter().max_by_key(length)).copied();
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

/// Class names a theme gives an episode's summary.
const TEASER_CLASSES: [&str; 6] = ["teaser", "summary", "excerpt", "description", "dek", "intro"];

/// The item's teaser: an element its class calls one (`p.teaser`, which may be a link), else
/// the element with the most text that holds no link, heading or player; without a date
/// written inside it.
pub(super) fn teaser(item: ElementRef) -> Option<(&'static str, Candidate)> {
    let holds = |e: ElementRef, css: &str| e.select(&selector(css)).next().is_some();
    let named = |e: &ElementRef| classes(*e).any(|c| TEASER_CLASSES.iter().any(|t| c.to_lowercase().contains(t)));
    let (element, _) = item
        .descendants()
        .skip(1)
        .filter_map(ElementRef::wrap)
        .take(2_000)
        .filter(|e| matches!(e.value().name(), "p" | "div" | "span" | "section"))
        .filter(|e| !holds(*e, "h1, h2, h3, h4, audio") && !e.value().attrs().any(|(_, v)| is_audio_url(v)))
        .filter(|e| named(e) || !holds(*e, "a"))
        .map(|e| (e, words(e).len()))
        .filter(|(_, length)| *length >= 40)
        .max_by_key(|(e, length)| (named(e), *length))?;
    let mut candidate = Candidate::new(&signature_in(element, Some(item))?, None, None, "the item's teaser");
    candidate.remove = element
        .children()
        .filter_map(ElementRef::wrap)
        .find(|child| is_written_date(&words(*child)))
        .map(tag_and_class);
    Some(("description", candidate))
}

/// Whether a short text is a date written out ("August 16, 2017 · 9:00 AM ET").
pub(super) fn is_written_date(text: &str) -> bool {
    text.len() < 60
        && text.chars().any(|c| c.is_ascii_alphabetic())
        && parse::date_in(text, Some(chrono_tz::Tz::UTC)).is_some()
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
    let tags: [(&'static str, &str, &str, &'static str); 10] = [
        ("title", "meta[property='og:title']", "content", "OpenGraph"),
        ("title", "meta[name='twitter:title']", "content", "a meta tag"),
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

/// Rules for schema.org microdata (PowerPress writes `<meta itemprop="duration"
/// content="PT1H10M52S">` beside its player): the audio's address, its date and its duration, by
/// the attribute that holds each on its element.
fn microdata(doc: &Html) -> Vec<(&'static str, Candidate)> {
    let props: [(&'static str, &str); 5] = [
        ("audio", "contentUrl"),
        ("published", "datePublished"),
        ("published", "uploadDate"),
        ("duration", "duration"),
        ("description", "description"),
    ];
    let mut rules = Vec::new();
    for (field, prop) in props {
        let css = format!("[itemprop={prop}]");
        let Some(element) = doc.select(&selector(&css)).next() else { continue };
        let tag = element.value().name();
        let attr = ["content", "datetime", "href", "src"].into_iter().find(|a| element.value().attr(a).is_some());
        let value = attr.and_then(|a| element.value().attr(a)).map(str::to_string).unwrap_or_else(|| words(element));
        let fits = match field {
            "audio" => is_audio_url(&value),
            "published" => parse::date(&value).is_some(),
            "duration" => parse::duration(&value).is_ok_and(|s| s > 0),
            _ => !value.trim().is_empty(),
        };
        let plain = tag.bytes().all(|b| b.is_ascii_alphanumeric());
        if fits && plain {
            rules.push((field, Candidate::new(&format!("{tag}{css}"), attr, None, "microdata")));
        }
    }
    rules
}

/// Rules for what `root` shows (rules relative to `scope` when given): audio in attributes (a
/// player's JSON included), dates and durations written out. Audio links are ordered so that
/// a download link comes before a player's address, and an address with no query (cache
/// busters, trackers, a player's `?_=1`) before one with.
fn elements(root: ElementRef, scope: Option<ElementRef>) -> Vec<(&'static str, Candidate)> {
    let mut rules = Vec::new();
    let mut audio: Vec<((bool, bool), Candidate)> = Vec::new();
    for element in root.descendants().filter_map(ElementRef::wrap).take(20_000) {
        if scope.is_some_and(|scope| scope.id() == element.id()) {
            continue;
        }
        let css = signature_in(element, scope);
        for (name, value) in element.value().attrs() {
            if is_audio_url(value) && !NOT_URL_ATTRIBUTES.contains(&name) {
                // `<audio src>` or `<a href="x.mp3">` with no class: by the ending of the file.
                if let Some(css) = css.clone().or_else(|| by_audio_ending(element, name, value)) {
                    let rank = (!is_download_link(element), value.contains('?'));
                    let css = only_audio(root, css, element, name, value);
                    audio.push((rank, Candidate::new(&css, Some(name), None, "an audio link")));
                }
            } else if let (Some(css), true) = (&css, value.trim().starts_with(['{', '['])) {
                let Ok(json) = serde_json::from_str::<serde_json::Value>(value) else { continue };
                rules.extend(player_settings(&json).into_iter().map(|(field, pointer)| {
                    (field, Candidate::new(css, Some(name), Some(pointer), "a player's settings"))
                }));
            }
        }
        let Some(css) = css else { continue };
        if !has_element_children(element) {
            let text = words(element);
            if is_written_date(&text) {
                rules.push(("published", Candidate::new(&css, None, None, "a date on the page")));
            }
            let named = css.contains("duration") || css.contains("length") || css.contains("runtime");
            if named && text.len() < 60 && parse::duration(&text).is_ok_and(|s| s > 0) {
                rules.push(("duration", Candidate::new(&css, None, None, "a duration on the page")));
            }
        }
    }
    audio.sort_by_key(|(rank, _)| *rank);
    rules.extend(audio.into_iter().map(|(_, candidate)| ("audio", candidate)));
    rules
}

/// Whether an element is a link to download its file: `download`, or says so in its class or
/// words (PowerPress's `a.powerpress_link_d`, "Download").
fn is_download_link(element: ElementRef) -> bool {
    let says = |text: &str| text.to_lowercase().contains("download");
    element.value().name() == "a"
        && (element.value().attr("download").is_some()
            || element.value().classes().any(|c| says(c) || c.ends_with("_link_d"))
            || says(&words(element)))
}

/// What a player's settings (JSON in an attribute) say of its episode, as JSON pointers: the
/// audio file, and beside it in the same object the episode's title and date; the duration.
fn player_settings(json: &serde_json::Value) -> Vec<(&'static str, String)> {
    let mut found = Vec::new();
    if let Some(audio) = pointer_to(json, &|_, v| v.as_str().is_some_and(is_audio_url)) {
        let episode = audio.rsplit_once('/').map_or("", |(parent, _)| parent).to_string();
        let beside = |key: &str| format!("{episode}/{key}");
        if let Some(object) = json.pointer(&episode).and_then(serde_json::Value::as_object) {
            let text = |key: &&String| object[*key].as_str().is_some_and(|v| !v.trim().is_empty());
            if let Some(key) = object.keys().find(|key| matches!(key.as_str(), "title" | "name") && text(key)) {
                found.push(("title", beside(key)));
            }
            let dated = |key: &&String| {
                let key_says = key.to_lowercase().contains("publi") || key.as_str() == "date";
                key_says && object[*key].as_str().is_some_and(|v| parse::date(v).is_some())
            };
            if let Some(key) = object.keys().find(dated) {
                found.push(("published", beside(key)));
            }
        }
        found.push(("audio", audio));
    }
    if let Some(pointer) = pointer_to(json, &is_duration) {
        found.push(("duration", pointer));
    }
    found
}

/// `css`, narrowed to the elements whose `attr` names an audio file like `value` when it also
/// selects ones whose `attr` does not, before `element` (share buttons beside the download link,
/// all of one class): `a.share[href*='.mp3']`.
fn only_audio(root: ElementRef, css: String, element: ElementRef, attr: &str, value: &str) -> String {
    let Ok(selector) = scraper::Selector::parse(&css) else { return css };
    let others = root
        .select(&selector)
        .take_while(|e| e.id() != element.id())
        .any(|e| e.value().attr(attr).is_none_or(|v| !is_audio_url(v)));
    match (others, by_audio_ending(element, attr, value)) {
        (true, Some(by_ending)) => {
            let filter = by_ending.split_once('[').map_or(String::new(), |(_, filter)| format!("[{filter}"));
            format!("{css}{filter}")
        }
        _ => css,
    }
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
    named && parse::duration(&text).is_ok_and(|s| s > 0)
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
        // Plain elements, no class anywhere: by the file's ending; the address without a query
        // first.
        let plain =
            candidates(&Html::parse_document(r#"<audio src="/m/2.m4a?t=1"></audio><a href="/m/2.mp3">MP3</a>"#));
        let audio: Vec<_> = plain["audio"].iter().map(|c| c.css.as_str()).collect();
        assert_eq!(audio, ["a[href*='.mp3']", "audio[src*='.m4a']"]);
    }

    /// PowerPress writes the player first, its URL with `?_=1`, and the download link after, as
    /// the site's own feed names the file: the download link is tried first. Its `download`
    /// attribute is a file name, not a URL.
    #[test]
    fn a_download_link_before_a_players_address() {
        let doc = Html::parse_document(
            r#"<div class="powerpress_player"><audio class="wp-audio-shortcode"><source type="audio/mpeg" src="https://cdn.example.org/e1.mp3?_=1"></audio></div>
               <p class="powerpress_links"><a href="https://cdn.example.org/e1.mp3" class="powerpress_link_pinw">Play in new window</a> |
               <a href="https://cdn.example.org/e1.mp3" class="powerpress_link_d" download="e1.mp3">Download</a></p>"#,
        );
        let audio: Vec<_> = candidates(&doc)["audio"]
            .iter()
            .map(|c| format!("{} @{}", c.css, c.attr.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            audio,
            [
                "p.powerpress_links a.powerpress_link_d @href",
                "p.powerpress_links a.powerpress_link_pinw @href",
                "audio.wp-audio-shortcode source @src"
            ]
        );
    }

    /// The article's heading by its place, past a logo's `h1`; the `<title>` last.
    #[test]
    fn headings_by_their_place_and_the_title_last() {
        let doc = Html::parse_document(
            r#"<head><title>Ep 4 | Show</title></head><body><div class="logo"><h1>Show</h1></div>
               <article class="post"><h1 class="entry-title">Ep 4</h1><h2>Notes</h2></article></body>"#,
        );
        let titles: Vec<_> = candidates(&doc)["title"].iter().map(|c| c.css.clone()).collect();
        assert_eq!(titles, ["div.logo h1", "article.post h1.entry-title", "article.post h2", "head > title"]);
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
}
