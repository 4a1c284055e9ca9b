//! The feed's invariants (docs/invariants.md lists them), checked on the bytes written, before
//! they replace the published feed: well-formed XML 1.0 with no character XML forbids (raw or as a
//! reference), every URL absolute, http(s) and ASCII, guids present and unique, enclosures present
//! and unique, dates in RFC 2822, durations as `H:MM:SS`.
//!
//! Everything a page gives has passed [`crate::hygiene`] by then, so a violation is a bug in
//! podfeed. The check stays on in release builds: a feed that breaks one of these is unreadable
//! in some podcast app, and publishing it would take the whole show down there.

use std::collections::HashSet;
use std::fmt;
use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

use crate::feed::{ATOM_NS, CONTENT_NS, ITUNES_NS, PODCAST_NS};
use crate::text::is_xml_char;

/// Violations described in full; the rest are only counted.
const MAX_REPORTED: usize = 10;

/// An invariant of the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    WellFormed,
    LegalCharacters,
    Url,
    GuidPresent,
    GuidUnique,
    EnclosurePresent,
    EnclosureUnique,
    Rfc2822Date,
    Duration,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rule::WellFormed => "well-formed XML 1.0",
            Rule::LegalCharacters => "only characters XML 1.0 allows",
            Rule::Url => "absolute http(s) ASCII URLs",
            Rule::GuidPresent => "a non-empty guid",
            Rule::GuidUnique => "unique guids",
            Rule::EnclosurePresent => "an enclosure",
            Rule::EnclosureUnique => "unique enclosure URLs",
            Rule::Rfc2822Date => "RFC 2822 dates",
            Rule::Duration => "durations as H:MM:SS",
        })
    }
}

/// One broken invariant, where it was broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The item (1-based, in feed order), or `None` for the channel or the document.
    pub item: Option<usize>,
    /// The item's guid, once known.
    pub guid: Option<String>,
    pub rule: Rule,
    /// What was found, e.g. `<enclosure url="ftp://...">`.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.item, &self.guid) {
            (Some(n), Some(guid)) => write!(f, "item {n} (guid {guid:?})")?,
            (Some(n), None) => write!(f, "item {n}")?,
            (None, _) => f.write_str("channel")?,
        }
        write!(f, " breaks \"{}\": {}", self.rule, self.detail)
    }
}

/// The feed breaks its invariants; it must not be published.
#[derive(Debug, thiserror::Error)]
pub struct InvalidFeed {
    /// The first violations found, in document order.
    pub violations: Vec<Violation>,
    /// How many were found in all.
    pub count: usize,
}

impl fmt::Display for InvalidFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not published: the new feed breaks {} of the rules podcast apps rely on", self.count)?;
        f.write_str(
            "; the published feed is unchanged. This is a bug in podfeed (or a cache an older podfeed \
             wrote: `podfeed build --reextract` extracts every cached page again); please report it",
        )?;
        for violation in &self.violations {
            write!(f, "\n  {violation}")?;
        }
        if self.count > self.violations.len() {
            write!(f, "\n  and {} more", self.count - self.violations.len())?;
        }
        Ok(())
    }
}

/// Reads a whole feed and checks every invariant.
pub fn check(input: impl BufRead) -> Result<(), InvalidFeed> {
    let mut reader = NsReader::from_reader(input);
    let config = reader.config_mut();
    config.check_comments = true;
    config.check_end_names = true;
    let mut checker = Checker::default();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let (namespace, event) = match reader.read_resolved_event_into(&mut buf) {
            Ok((ns, event)) => (Ns::of(&ns), event),
            Err(e) => {
                let at = reader.error_position();
                checker.violation(Rule::WellFormed, format!("at byte {at}: {e}"));
                break;
            }
        };
        if namespace == Ns::Unknown {
            checker.violation(Rule::WellFormed, "an element with an undeclared namespace prefix".into());
        }
        match event {
            Event::Start(start) => checker.start(namespace, &start, &reader),
            Event::Empty(start) => {
                checker.start(namespace, &start, &reader);
                checker.end();
            }
            Event::End(_) => checker.end(),
            Event::Text(text) => match text.xml10_content() {
                Ok(text) => checker.text(&text),
                Err(e) => checker.violation(Rule::WellFormed, format!("text that is not UTF-8: {e}")),
            },
            Event::CData(cdata) => match cdata.xml10_content() {
                Ok(text) => checker.text(&text),
                Err(e) => checker.violation(Rule::WellFormed, format!("CDATA that is not UTF-8: {e}")),
            },
            Event::GeneralRef(reference) => checker.reference(&reference),
            Event::Comment(comment) => {
                if let Ok(text) = comment.xml10_content() {
                    checker.legal_characters(&text, "a comment");
                }
            }
            Event::Eof => {
                checker.eof();
                break;
            }
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    checker.finish()
}

/// Checks a feed file.
pub fn check_file(path: &std::path::Path) -> Result<(), CheckFileError> {
    let file = std::fs::File::open(path).map_err(CheckFileError::Read)?;
    check(std::io::BufReader::with_capacity(256 * 1024, file)).map_err(CheckFileError::Invalid)
}

#[derive(Debug, thiserror::Error)]
pub enum CheckFileError {
    #[error("cannot read the new feed back: {0}")]
    Read(std::io::Error),
    #[error(transparent)]
    Invalid(InvalidFeed),
}

/// The namespaces the feed uses, by what they are, not by the prefix a feed gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Rss,
    Itunes,
    Podcast,
    Atom,
    Content,
    Other,
    Unknown,
}

impl Ns {
    fn of(resolved: &ResolveResult) -> Ns {
        match resolved {
            ResolveResult::Unbound => Ns::Rss,
            ResolveResult::Unknown(_) => Ns::Unknown,
            ResolveResult::Bound(ns) => match std::str::from_utf8(ns.as_ref()).unwrap_or_default() {
                ITUNES_NS => Ns::Itunes,
                PODCAST_NS => Ns::Podcast,
                ATOM_NS => Ns::Atom,
                CONTENT_NS => Ns::Content,
                _ => Ns::Other,
            },
        }
    }
}

/// An open element: its namespace and local name.
type Open = (Ns, String);

#[derive(Default)]
struct Checker {
    open: Vec<Open>,
    /// Text of the innermost open element so far.
    text: String,
    seen_root: bool,
    /// Items started so far; the current one while inside `<item>`.
    items: usize,
    in_item: bool,
    item: ItemState,
    guids: HashSet<String>,
    enclosures: HashSet<String>,
    violations: Vec<Violation>,
    count: usize,
}

#[derive(Default)]
struct ItemState {
    guid: Option<String>,
    guid_is_permalink: bool,
    enclosure: bool,
}

impl Checker {
    fn violation(&mut self, rule: Rule, detail: String) {
        self.count += 1;
        if self.violations.len() < MAX_REPORTED {
            let item = self.in_item.then_some(self.items);
            let guid = if self.in_item { self.item.guid.clone() } else { None };
            self.violations.push(Violation { item, guid, rule, detail });
        }
    }

    fn start<R>(&mut self, ns: Ns, start: &BytesStart, reader: &NsReader<R>) {
        let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
        if self.open.is_empty() {
            if self.seen_root {
                self.violation(Rule::WellFormed, format!("a second root element <{name}>"));
            }
            self.seen_root = true;
        }
        match (ns, name.as_str()) {
            (Ns::Rss, "item") => {
                self.items += 1;
                self.in_item = true;
                self.item = ItemState::default();
            }
            // RSS 2.0: a guid is a permalink unless it says `isPermaLink="false"`.
            (Ns::Rss, "guid") => self.item.guid_is_permalink = true,
            _ => {}
        }
        for attribute in start.attributes() {
            let attribute = match attribute {
                Ok(attribute) => attribute,
                Err(e) => {
                    self.violation(Rule::WellFormed, format!("<{name}>: {e}"));
                    break;
                }
            };
            let (attr_ns, attr_name) = reader.resolver().resolve_attribute(attribute.key);
            if matches!(attr_ns, ResolveResult::Unknown(_)) {
                self.violation(Rule::WellFormed, format!("<{name}>: an attribute with an undeclared prefix"));
            }
            let attr_name = String::from_utf8_lossy(attr_name.as_ref()).into_owned();
            let value = match attribute.normalized_value(XmlVersion::Implicit1_0) {
                Ok(value) => value.into_owned(),
                Err(e) => {
                    self.violation(Rule::WellFormed, format!("<{name} {attr_name}>: {e}"));
                    continue;
                }
            };
            self.legal_characters(&value, &format!("<{name} {attr_name}>"));
            self.attribute(ns, &name, &attr_name, &value);
        }
        self.open.push((ns, name));
        self.text.clear();
    }

    fn attribute(&mut self, ns: Ns, element: &str, attribute: &str, value: &str) {
        let is_url = matches!(
            (ns, element, attribute),
            (Ns::Rss, "enclosure", "url")
                | (Ns::Itunes, "image", "href")
                | (Ns::Atom, "link", "href")
                | (Ns::Podcast, "transcript" | "chapters" | "funding", "url")
                | (Ns::Podcast, "person", "href" | "img")
        );
        if is_url {
            self.url(value, &format!("<{element} {attribute}>"));
        }
        match (ns, element, attribute) {
            (Ns::Rss, "enclosure", "url") if self.in_item => {
                self.item.enclosure = true;
                if !self.enclosures.insert(value.to_string()) {
                    self.violation(Rule::EnclosureUnique, format!("{value} is another item's enclosure too"));
                }
            }
            (Ns::Rss, "guid", "isPermaLink") => self.item.guid_is_permalink = value != "false",
            _ => {}
        }
    }

    fn end(&mut self) {
        let Some((ns, name)) = self.open.pop() else { return };
        let text = std::mem::take(&mut self.text);
        let parent = self.open.last().map(|(ns, name)| (*ns, name.as_str()));
        match (ns, name.as_str()) {
            (Ns::Rss, "link") if matches!(parent, Some((Ns::Rss, "channel" | "item" | "image"))) => {
                self.url(&text, "<link>")
            }
            (Ns::Rss, "url") if parent == Some((Ns::Rss, "image")) => self.url(&text, "<image><url>"),
            (Ns::Itunes, "new-feed-url") => self.url(&text, "<itunes:new-feed-url>"),
            (Ns::Rss, "pubDate" | "lastBuildDate") if chrono::DateTime::parse_from_rfc2822(&text).is_err() => {
                self.violation(Rule::Rfc2822Date, format!("<{name}>{text}</{name}>"))
            }
            (Ns::Itunes, "duration") if !is_clock(&text) => {
                self.violation(Rule::Duration, format!("<itunes:duration>{text}</itunes:duration>"))
            }
            (Ns::Rss, "guid") if self.in_item => self.item.guid = Some(text),
            (Ns::Rss, "item") => self.end_item(),
            _ => {}
        }
    }

    fn end_item(&mut self) {
        let item = std::mem::take(&mut self.item);
        // Violations found inside the item before its guid was read name it too.
        let first_unnamed = self.violations.iter().position(|v| v.item == Some(self.items) && v.guid.is_none());
        if let Some(first) = first_unnamed {
            for violation in &mut self.violations[first..] {
                violation.guid = item.guid.clone();
            }
        }
        self.item.guid = item.guid.clone();
        match &item.guid {
            None => self.violation(Rule::GuidPresent, "no <guid>".into()),
            Some(guid) if guid.trim().is_empty() => self.violation(Rule::GuidPresent, "an empty <guid>".into()),
            Some(guid) => {
                if item.guid_is_permalink {
                    self.url(guid, "<guid isPermaLink=\"true\">");
                }
                if !self.guids.insert(guid.clone()) {
                    self.violation(Rule::GuidUnique, "another item has this guid too".into());
                }
            }
        }
        if !item.enclosure {
            self.violation(Rule::EnclosurePresent, "no <enclosure url>".into());
        }
        self.in_item = false;
        self.item = ItemState::default();
    }

    fn text(&mut self, text: &str) {
        if self.open.is_empty() {
            if !text.trim().is_empty() {
                self.violation(Rule::WellFormed, "text outside the root element".into());
            }
            return;
        }
        self.legal_characters(text, "text");
        self.text.push_str(text);
    }

    fn reference(&mut self, reference: &quick_xml::events::BytesRef) {
        let name = String::from_utf8_lossy(reference).into_owned();
        let resolved = match reference.resolve_char_ref() {
            Ok(Some(c)) => Some(c.to_string()),
            Ok(None) => quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string),
            Err(e) => {
                self.violation(Rule::WellFormed, format!("&{name};: {e}"));
                return;
            }
        };
        match resolved {
            Some(text) if is_legal(&text) => self.text(&text),
            Some(_) => self.violation(Rule::LegalCharacters, format!("the character reference &{name};")),
            None => self.violation(Rule::WellFormed, format!("&{name}; is not an entity XML 1.0 knows")),
        }
    }

    fn legal_characters(&mut self, text: &str, place: &str) {
        if let Some(c) = text.chars().find(|c| !is_xml_char(*c)) {
            self.violation(Rule::LegalCharacters, format!("U+{:04X} in {place}", u32::from(c)));
        }
    }

    fn url(&mut self, value: &str, place: &str) {
        if let Err(problem) = check_url(value) {
            self.violation(Rule::Url, format!("{place} {value:?} {problem}"));
        }
    }

    fn eof(&mut self) {
        if let Some((_, name)) = self.open.last() {
            let name = name.clone();
            self.violation(Rule::WellFormed, format!("the document ends inside <{name}>"));
        } else if !self.seen_root {
            self.violation(Rule::WellFormed, "no root element".into());
        }
    }

    fn finish(self) -> Result<(), InvalidFeed> {
        if self.count == 0 {
            Ok(())
        } else {
            Err(InvalidFeed { violations: self.violations, count: self.count })
        }
    }
}

fn is_legal(text: &str) -> bool {
    text.chars().all(is_xml_char)
}

/// Whether `url` is what a podcast app can fetch: absolute, http(s), a host, ASCII, no spaces.
pub fn check_url(url: &str) -> Result<(), &'static str> {
    if !url.is_ascii() {
        return Err("is not ASCII");
    }
    if url.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
        return Err("contains spaces or control characters");
    }
    let parsed = url::Url::parse(url).map_err(|_| "is not an absolute URL")?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("is not http(s)");
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("has no host");
    }
    Ok(())
}

/// `H:MM:SS`: hours of any length, minutes and seconds of two digits under 60.
fn is_clock(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let under_60 = |p: &str| p.len() == 2 && digits(p) && p < "60";
    matches!(parts.as_slice(), [h, m, s] if digits(h) && under_60(m) && under_60(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>Show</title><link>https://example.org/</link><description>D</description>
<lastBuildDate>Wed, 1 May 2024 00:00:00 +0000</lastBuildDate>"#;
    const TAIL: &str = "</channel></rss>";

    fn item(guid: &str, audio: &str) -> String {
        format!(
            r#"<item><title>T</title><link>https://example.org/ep</link><guid isPermaLink="false">{guid}</guid>
<pubDate>Tue, 2 Jan 2024 12:00:00 +0000</pubDate><enclosure url="{audio}" length="1" type="audio/mpeg"/>
<itunes:duration>1:02:05</itunes:duration></item>"#
        )
    }

    fn feed(items: &str) -> String {
        format!("{HEAD}{items}{TAIL}")
    }

    fn rules(text: &str) -> Vec<Rule> {
        match check(text.as_bytes()) {
            Ok(()) => Vec::new(),
            Err(invalid) => invalid.violations.iter().map(|v| v.rule).collect(),
        }
    }

    #[test]
    fn a_good_feed_passes() {
        let items = item("a", "https://cdn.example.org/a.mp3") + &item("b", "https://cdn.example.org/b.mp3");
        assert_eq!(rules(&feed(&items)), []);
    }

    #[test]
    fn forbidden_characters_raw_and_as_references() {
        assert_eq!(rules(&feed(&item("a\u{1}", "https://x.example/a.mp3"))), [Rule::LegalCharacters]);
        assert_eq!(rules(&feed(&item("a&#1;", "https://x.example/a.mp3"))), [Rule::LegalCharacters]);
        assert_eq!(rules(&feed(&item("a&#xFFFE;", "https://x.example/a.mp3"))), [Rule::LegalCharacters]);
        assert_eq!(rules(&feed(&item("a&#xD800;", "https://x.example/a.mp3"))), [Rule::WellFormed]);
        assert_eq!(rules(&feed(&item("a&nbsp;", "https://x.example/a.mp3"))), [Rule::WellFormed]);
        let attribute = item("a", "https://x.example/a&#27;.mp3");
        assert_eq!(rules(&feed(&attribute)), [Rule::LegalCharacters, Rule::Url]);
    }

    #[test]
    fn malformed_documents() {
        assert_eq!(rules(&feed("<item><title>T</itle></item>")), [Rule::WellFormed]);
        assert_eq!(rules(&format!("{HEAD}{}", item("a", "https://x.example/a.mp3")))[0], Rule::WellFormed);
        assert_eq!(rules(&format!("{}<rss/>", feed(""))), [Rule::WellFormed]);
        assert_eq!(rules(&feed("<x:y/>")), [Rule::WellFormed]);
        assert_eq!(rules(&feed("<!-- a -- b -->")), [Rule::WellFormed]);
    }

    #[test]
    fn urls_must_be_absolute_http_ascii() {
        for bad in [
            "/a.mp3",
            "javascript:alert(1)",
            "ftp://x.example/a.mp3",
            "https://x.example/é.mp3",
            "https://x.example/a b",
        ] {
            assert_eq!(rules(&feed(&item("a", bad))), [Rule::Url], "{bad}");
        }
        let link = feed(&item("a", "https://x.example/a.mp3").replace("<link>https://example.org/ep", "<link>data:x"));
        assert_eq!(rules(&link), [Rule::Url]);
        let permalink = item("not a url", "https://x.example/a.mp3").replace("false", "true");
        assert_eq!(rules(&feed(&permalink)), [Rule::Url]);
        let implicit = item("https://x.example/é p", "https://x.example/a.mp3").replace(r#" isPermaLink="false""#, "");
        assert_eq!(rules(&feed(&implicit)), [Rule::Url], "a guid without isPermaLink is a permalink");
    }

    #[test]
    fn guids_and_enclosures_are_unique_and_present() {
        let twice = item("a", "https://x.example/1.mp3") + &item("a", "https://x.example/2.mp3");
        assert_eq!(rules(&feed(&twice)), [Rule::GuidUnique]);
        let shared = item("a", "https://x.example/1.mp3") + &item("b", "https://x.example/1.mp3");
        assert_eq!(rules(&feed(&shared)), [Rule::EnclosureUnique]);
        assert_eq!(rules(&feed(&item(" ", "https://x.example/1.mp3"))), [Rule::GuidPresent]);
        let no_enclosure = item("a", "https://x.example/1.mp3");
        let start = no_enclosure.find("<enclosure").unwrap();
        let end = no_enclosure.find("/>").unwrap() + 2;
        assert_eq!(
            rules(&feed(&format!("{}{}", &no_enclosure[..start], &no_enclosure[end..]))),
            [Rule::EnclosurePresent]
        );
    }

    #[test]
    fn dates_and_durations() {
        let good = item("a", "https://x.example/1.mp3");
        assert_eq!(rules(&feed(&good.replace("Tue, 2 Jan 2024 12:00:00 +0000", "2024-01-02"))), [Rule::Rfc2822Date]);
        for bad in ["1:2:05", "1:60:00", "62:05", "abc", ""] {
            let text = feed(&good.replace("1:02:05", bad));
            assert_eq!(rules(&text), [Rule::Duration], "{bad}");
        }
        assert_eq!(rules(&feed(&good.replace("1:02:05", "167:59:59"))), []);
    }

    #[test]
    fn the_report_names_the_item_and_the_rule() {
        let twice = item("first", "https://x.example/1.mp3") + &item("second", "https://x.example/1.mp3");
        let error = check(feed(&twice).as_bytes()).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("item 2 (guid \"second\") breaks \"unique enclosure URLs\""), "{text}");
        assert_eq!(error.count, 1);
    }
}
