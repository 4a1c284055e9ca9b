//! The one gate for everything a site or a recipe puts in the feed. Every text and URL field of
//! an episode, and every channel field of the recipe, passes through here: characters XML 1.0
//! forbids (and the C1 controls and noncharacters it discourages) are dropped, text is trimmed
//! and bounded, URLs must be absolute http(s) and are written in their ASCII form, numbers and
//! dates must be in range. [`episode`] and [`channel`] name every field of their type, so a field
//! added later does not compile until it is let through here.
//!
//! The feed is checked once more before it is published ([`crate::verify`]); what this gate lets
//! through must pass that check.

use chrono::{DateTime, Datelike, Utc};
use url::Url;

use crate::directory;
use crate::model::{Channel, Funding, Location, Owner, Person};
use crate::model::{Credit, Enclosure, Episode};

/// Apple shows at most this many characters of a title.
pub const MAX_TITLE_CHARS: usize = 255;
/// Apple's limit for an episode description.
pub const MAX_DESCRIPTION_BYTES: usize = 4000;
/// Show notes (`content:encoded`) beyond this are cut: no app shows more, and a feed of 10,000
/// episodes must stay a size apps can download.
pub const MAX_CONTENT_BYTES: usize = 100_000;
/// A guid longer than this is not an identifier but a mistake in the recipe (the next rule, or
/// the link, is used instead: cutting it could make two episodes one).
pub const MAX_GUID_CHARS: usize = 1000;
/// URLs longer than this are refused rather than cut (a cut URL leads nowhere). Signed CDN URLs
/// run to 1–2 KB.
pub const MAX_URL_BYTES: usize = 4096;
/// Other text: authors, names, copyright.
pub const MAX_TEXT_CHARS: usize = 1000;
/// No episode lasts a week; a longer duration is a misread number.
pub const MAX_DURATION_SECS: u64 = 7 * 24 * 3600;
/// Dates this far after the page was fetched are placeholders (`9999-12-31`), not schedules.
pub const MAX_DAYS_AHEAD: i64 = 2;
/// Dates before this year are misread (podcasts began in 2004; radio archives reach the 1920s).
pub const MIN_YEAR: i32 = 1900;
/// RFC 2822 writes four-digit years; dates beyond are placeholders (and the future check, which
/// needs the time a page was fetched, is made when the page is read).
const MAX_YEAR: i32 = 9999;

/// Text as a feed may carry it: no forbidden characters, trimmed, at most `max_chars` characters
/// (cut on a character boundary); `None` when nothing is left.
pub fn text(text: &str, max_chars: usize) -> Option<String> {
    let clean: String = text.chars().filter(|c| is_allowed(*c)).collect();
    let clean = clean.trim();
    let cut = match clean.char_indices().nth(max_chars) {
        Some((at, _)) => clean[..at].trim_end(),
        None => clean,
    };
    (!cut.is_empty()).then(|| cut.to_string())
}

/// A title: [`text`] of at most [`MAX_TITLE_CHARS`].
pub fn title(value: &str) -> Option<String> {
    text(value, MAX_TITLE_CHARS)
}

/// A guid: clean text of at most [`MAX_GUID_CHARS`]; a longer one is refused, not cut.
pub fn guid(value: &str) -> Option<String> {
    text(value, MAX_GUID_CHARS + 1).filter(|guid| guid.chars().count() <= MAX_GUID_CHARS)
}

/// HTML as a feed may carry it: no forbidden characters, trimmed, at most `max_bytes` bytes; a
/// tag or an entity cut in half is repaired by sanitizing again.
pub fn html(html: &str, max_bytes: usize) -> Option<String> {
    let clean = text(html, usize::MAX)?;
    if clean.len() <= max_bytes {
        return Some(clean);
    }
    let mut budget = max_bytes;
    loop {
        let cut = (0..=budget).rev().find(|&i| clean.is_char_boundary(i)).unwrap_or(0);
        let repaired = ammonia::clean(clean[..cut].trim_end());
        if repaired.len() <= max_bytes {
            return text(&repaired, usize::MAX);
        }
        // Closing tags made it longer: cut that much earlier and repair again.
        budget = budget.saturating_sub(repaired.len() - max_bytes);
    }
}

/// A URL a podcast app can fetch: absolute, http(s), with a host, at most [`MAX_URL_BYTES`],
/// written in its ASCII form (non-ASCII paths percent-encoded, hosts in punycode).
pub fn url(value: &str) -> Option<String> {
    // Control characters inside are percent-encoded by the parser, as a browser would.
    absolute(&Url::parse(value.trim()).ok()?)
}

/// [`url`] for an already parsed URL.
pub fn absolute(url: &Url) -> Option<String> {
    let ok = matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty());
    let text = url.as_str();
    (ok && text.len() <= MAX_URL_BYTES && text.is_ascii()).then(|| text.to_string())
}

/// A media type such as `audio/mpeg`, as servers send it; anything else is no type.
pub fn mime_type(value: &str) -> Option<String> {
    let token = |part: &str| {
        !part.is_empty()
            && part.len() <= 64
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    let (kind, sub) = value.trim().split_once('/')?;
    (token(kind) && token(sub)).then(|| format!("{kind}/{sub}").to_ascii_lowercase())
}

/// Why a number or a date read off a page is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutOfRange {
    #[error("longer than 7 days")]
    DurationTooLong,
    #[error("negative")]
    Negative,
    #[error("too large a number")]
    TooLarge,
    #[error("more than {MAX_DAYS_AHEAD} days in the future")]
    DateInFuture,
    #[error("before {MIN_YEAR}")]
    DateTooOld,
}

/// A duration in seconds, if it is one an episode can have.
pub fn duration(seconds: u64) -> Result<u64, OutOfRange> {
    if seconds > MAX_DURATION_SECS {
        return Err(OutOfRange::DurationTooLong);
    }
    Ok(seconds)
}

/// A publication date, if it is one: not before 1900, and not more than two days after `now`
/// (the time the page was fetched, so that re-extracting a page gives the same answer).
pub fn date(date: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, OutOfRange> {
    if date.year() < MIN_YEAR {
        return Err(OutOfRange::DateTooOld);
    }
    if date > now + chrono::Duration::days(MAX_DAYS_AHEAD) {
        return Err(OutOfRange::DateInFuture);
    }
    Ok(date)
}

/// Why a page's episode cannot be a feed item once cleaned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("no title left once cleaned")]
    NoTitle,
    #[error("no http(s) audio URL")]
    NoAudio,
    #[error("the page URL is not an http(s) URL of at most {MAX_URL_BYTES} bytes")]
    BadPageUrl,
}

/// Every field of an episode through the gate. Whatever extraction produced, the result holds
/// only what [`crate::verify`] accepts; optional fields that do not pass are dropped.
pub fn episode(episode: Episode) -> Result<Episode, Unusable> {
    let Episode {
        guid: id,
        page_url,
        link,
        title: name,
        published,
        enclosure: Enclosure { url: audio, length, mime_type: media_type },
        duration: seconds,
        description,
        content,
        image,
        episode: number,
        season,
        episode_type,
        explicit,
        transcript,
        chapters,
        season_name,
        block,
        persons,
    } = episode;
    let page_url = url(&page_url).ok_or(Unusable::BadPageUrl)?;
    let link = url(&link).unwrap_or_else(|| page_url.clone());
    Ok(Episode {
        guid: guid(&id).unwrap_or_else(|| link.clone()),
        title: title(&name).ok_or(Unusable::NoTitle)?,
        enclosure: Enclosure {
            url: url(&audio).ok_or(Unusable::NoAudio)?,
            length,
            mime_type: media_type.as_deref().and_then(mime_type),
        },
        published: published.filter(|d| (MIN_YEAR..=MAX_YEAR).contains(&d.year())),
        // Zero is a player's "unknown", not an episode's length.
        duration: seconds.filter(|s| *s > 0 && duration(*s).is_ok()),
        description: description.as_deref().and_then(|d| html(d, MAX_DESCRIPTION_BYTES)),
        content: content.as_deref().and_then(|c| html(c, MAX_CONTENT_BYTES)),
        image: image.as_deref().and_then(url),
        episode: number,
        season,
        episode_type: episode_type.filter(|t| matches!(t.as_str(), "full" | "trailer" | "bonus")),
        explicit,
        transcript: transcript.as_deref().and_then(url),
        chapters: chapters.as_deref().and_then(url),
        season_name: season_name.as_deref().and_then(|n| text(n, MAX_PODCAST_TEXT_CHARS)),
        block,
        persons: persons.into_iter().filter_map(credit).collect(),
        page_url,
        link,
    })
}

/// Every channel field of a recipe through the gate. A URL or a required text that does not
/// pass is an error in the recipe: `(key, reason)`.
pub fn channel(channel: Channel) -> Result<Channel, (String, String)> {
    let Channel {
        title: name,
        link,
        description,
        language,
        author,
        image,
        categories,
        explicit,
        owner,
        self_url,
        max_items,
        show_type,
        copyright,
        new_feed_url,
        locked,
        block,
        complete,
        funding,
        persons,
        location,
    } = channel;
    let required = |key: &str, value: &str, max: usize| {
        text(value, max).ok_or_else(|| (format!("feed.{key}"), "must not be empty".to_string()))
    };
    let optional_url = |key: &str, value: Option<String>| match value {
        Some(value) => url(&value).map(Some).ok_or_else(|| {
            (
                format!("feed.{key}"),
                format!("{value:?} is not an absolute http(s) URL of at most {MAX_URL_BYTES} bytes"),
            )
        }),
        None => Ok(None),
    };
    let optional_text = |value: Option<String>| value.as_deref().and_then(|v| text(v, MAX_TEXT_CHARS));
    Ok(Channel {
        title: required("title", &name, MAX_TITLE_CHARS)?,
        link: optional_url("link", Some(link))?.unwrap_or_default(),
        description: required("description", &description, MAX_DESCRIPTION_BYTES)?,
        language: language
            .map(|tag| directory::language(&tag).map_err(|why| ("feed.language".to_string(), why)))
            .transpose()?,
        author: optional_text(author),
        image: optional_url("image", image)?,
        categories: categories
            .iter()
            .enumerate()
            .map(|(i, c)| directory::category(c).map_err(|why| (format!("feed.categories[{i}]"), why)))
            .collect::<Result<_, _>>()?,
        explicit,
        owner: owner.map(|Owner { name, email }| Owner { name: optional_text(name), email: optional_text(email) }),
        self_url: optional_url("self_url", self_url)?,
        max_items,
        show_type,
        copyright: optional_text(copyright),
        new_feed_url: optional_url("new_feed_url", new_feed_url)?,
        locked,
        block,
        complete,
        funding: funding.into_iter().enumerate().map(|(i, f)| self::funding(i, f)).collect::<Result<_, _>>()?,
        persons: persons.into_iter().enumerate().map(|(i, p)| person(i, p)).collect::<Result<_, _>>()?,
        location: location.map(self::location).transpose()?,
    })
}

/// The Podcasting 2.0 spec's limit on the text of `podcast:funding`, `person` and `location`.
pub const MAX_PODCAST_TEXT_CHARS: usize = 128;

fn funding(i: usize, Funding { url: link, text: words }: Funding) -> Result<Funding, (String, String)> {
    let key = |field: &str| format!("feed.funding[{i}].{field}");
    Ok(Funding {
        url: url(&link).ok_or_else(|| (key("url"), format!("{link:?} is not an absolute http(s) URL")))?,
        text: short_text(key("text"), &words)?,
    })
}

/// A person an episode names: a name, a known role, and a page only if it is a clean URL.
fn credit(Credit { name, role, href }: Credit) -> Option<Credit> {
    Some(Credit {
        name: text(&name, MAX_PODCAST_TEXT_CHARS)?,
        role: matches!(role.as_str(), "host" | "guest").then_some(role)?,
        href: href.as_deref().and_then(url),
    })
}

/// Text of 1 to [`MAX_PODCAST_TEXT_CHARS`] characters, or why not.
fn short_text(key: String, value: &str) -> Result<String, (String, String)> {
    match text(value, MAX_PODCAST_TEXT_CHARS) {
        Some(text) if value.trim().chars().count() <= MAX_PODCAST_TEXT_CHARS => Ok(text),
        _ => Err((key, format!("must be 1 to {MAX_PODCAST_TEXT_CHARS} characters"))),
    }
}

fn person(i: usize, Person { name, role, href, img }: Person) -> Result<Person, (String, String)> {
    let key = |field: &str| format!("feed.persons[{i}].{field}");
    let link = |field: &str, value: Option<String>| match value {
        Some(value) => {
            url(&value).map(Some).ok_or_else(|| (key(field), format!("{value:?} is not an absolute http(s) URL")))
        }
        None => Ok(None),
    };
    Ok(Person {
        name: short_text(key("name"), &name)?,
        role: role.as_deref().and_then(|r| text(r, MAX_PODCAST_TEXT_CHARS)).map(|r| r.to_lowercase()),
        href: link("href", href)?,
        img: link("img", img)?,
    })
}

fn location(Location { name, geo, osm }: Location) -> Result<Location, (String, String)> {
    let name = short_text("feed.location.name".into(), &name)?;
    if let Some(geo) = geo.as_deref().filter(|g| !g.starts_with("geo:") || g.contains(char::is_whitespace)) {
        return Err(("feed.location.geo".into(), format!("{geo:?} is not a geo: URI (such as \"geo:38.9,-77.03\")")));
    }
    let osm_ok = |o: &str| {
        o.len() > 1 && o.starts_with(['N', 'W', 'R']) && o[1..].bytes().all(|b| b.is_ascii_digit() || b == b'#')
    };
    if let Some(osm) = osm.as_deref().filter(|o| !osm_ok(o)) {
        return Err((
            "feed.location.osm".into(),
            format!("{osm:?} is not an OpenStreetMap object (such as \"R162110\")"),
        ));
    }
    Ok(Location { name, geo, osm })
}

/// Characters a feed may carry: those XML 1.0 allows, less the C1 controls and noncharacters it
/// discourages (invisible junk from mis-decoded pages).
fn is_allowed(c: char) -> bool {
    crate::text::is_xml_char(c)
        && !matches!(c, '\u{7F}'..='\u{84}' | '\u{86}'..='\u{9F}' | '\u{FDD0}'..='\u{FDEF}')
        && (u32::from(c) & 0xFFFE) != 0xFFFE
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn text_drops_forbidden_characters_and_trims() {
        assert_eq!(text(" a\u{0}b\u{1b}c\u{fffe}d\te\u{85}f\u{9f}\u{1fffe} ", 100).as_deref(), Some("abcd\te\u{85}f"));
        assert_eq!(text("\u{1}\u{2} ", 100), None);
    }

    #[test]
    fn long_titles_and_descriptions_are_cut_on_character_boundaries() {
        assert_eq!(title(&"é".repeat(300)).unwrap().chars().count(), 255);
        let description = html(&format!("a{}", "€".repeat(2000)), MAX_DESCRIPTION_BYTES).unwrap();
        assert!(description.len() <= 4000 && description.len() > 3990, "{}", description.len());
        // HTML cut inside a tag or an entity is repaired, not left broken.
        let description = html(&format!("<p>{}</p><p>b &amp; c</p>", "x".repeat(3990)), 4000).unwrap();
        assert!(description.len() <= 4000, "{}", description.len());
        assert!(description.starts_with("<p>xxx") && description.ends_with("</p>"), "{description}");
    }

    #[test]
    fn a_guid_too_long_is_refused_not_cut() {
        assert_eq!(guid(&"g".repeat(MAX_GUID_CHARS)).map(|g| g.len()), Some(MAX_GUID_CHARS));
        assert_eq!(guid(&"g".repeat(MAX_GUID_CHARS + 1)), None);
        assert_eq!(guid("a\u{1}b").as_deref(), Some("ab"));
    }

    #[test]
    fn urls_are_absolute_http_and_ascii() {
        assert_eq!(url("https://x.example/é p.mp3").as_deref(), Some("https://x.example/%C3%A9%20p.mp3"));
        assert_eq!(url("https://bücher.example/a").as_deref(), Some("https://xn--bcher-kva.example/a"));
        assert_eq!(url(" https://x.example/a\u{1}b ").as_deref(), Some("https://x.example/a%01b"));
        for bad in ["javascript:alert(1)", "data:audio/mpeg;base64,AAAA", "ftp://x.example/a", "/a.mp3", "http://"] {
            assert_eq!(url(bad), None, "{bad}");
        }
        assert_eq!(url(&format!("https://x.example/{}", "a".repeat(MAX_URL_BYTES))), None);
    }

    #[test]
    fn media_types_are_tokens() {
        assert_eq!(mime_type("Audio/MPEG").as_deref(), Some("audio/mpeg"));
        assert_eq!(mime_type("audio/<script>"), None);
        assert_eq!(mime_type("audio"), None);
    }

    #[test]
    fn durations_and_dates_in_range() {
        assert_eq!(duration(MAX_DURATION_SECS), Ok(MAX_DURATION_SECS));
        assert_eq!(duration(MAX_DURATION_SECS + 1), Err(OutOfRange::DurationTooLong));
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        assert!(date(now + chrono::Duration::days(2), now).is_ok());
        assert_eq!(date(now + chrono::Duration::days(3), now), Err(OutOfRange::DateInFuture));
        assert_eq!(date(Utc.with_ymd_and_hms(1899, 12, 31, 0, 0, 0).unwrap(), now), Err(OutOfRange::DateTooOld));
    }

    /// The gate on a whole episode, whatever produced it (an older podfeed's cache, a bug).
    #[test]
    fn every_field_of_an_episode_passes_the_gate() {
        let junk = Episode {
            guid: " \u{1}".into(),
            page_url: "https://x.example/ep/1".into(),
            link: "javascript:alert(1)".into(),
            title: format!("A\u{1b}{}", "b".repeat(400)),
            published: Some(Utc.with_ymd_and_hms(1800, 1, 1, 0, 0, 0).unwrap()),
            enclosure: Enclosure {
                url: "https://x.example/é.mp3".into(),
                length: Some(1),
                mime_type: Some("x".into()),
            },
            duration: Some(MAX_DURATION_SECS + 1),
            description: Some("\u{0}".into()),
            content: Some(format!("<p>{}</p>", "c".repeat(MAX_CONTENT_BYTES))),
            image: Some("data:image/png;base64,AAAA".into()),
            episode: Some(7),
            season: None,
            episode_type: Some("special".into()),
            explicit: Some(true),
            transcript: Some("ftp://x.example/t.vtt".into()),
            chapters: Some(" https://x.example/c.json ".into()),
            season_name: Some("\u{0}".into()),
            block: true,
            persons: vec![
                Credit { name: " Ana ".into(), role: "host".into(), href: Some("javascript:x".into()) },
                Credit { name: "Bo".into(), role: "villain".into(), href: None },
                Credit { name: "\u{1}".into(), role: "guest".into(), href: None },
            ],
        };
        let clean = episode(junk).unwrap();
        assert_eq!((clean.guid.as_str(), clean.link.as_str()), ("https://x.example/ep/1", "https://x.example/ep/1"));
        assert_eq!(clean.title.chars().count(), MAX_TITLE_CHARS);
        assert!(clean.title.starts_with("Abbb"));
        assert_eq!(clean.enclosure.url, "https://x.example/%C3%A9.mp3");
        assert_eq!(clean.enclosure.mime_type, None);
        assert_eq!((clean.published, clean.duration, &clean.description), (None, None, &None));
        assert!(clean.content.as_ref().unwrap().len() <= MAX_CONTENT_BYTES);
        assert_eq!((&clean.image, &clean.episode_type, &clean.transcript), (&None, &None, &None));
        assert_eq!(clean.chapters.as_deref(), Some("https://x.example/c.json"));
        assert_eq!(clean.season_name, None);
        assert_eq!(clean.persons, [Credit { name: "Ana".into(), role: "host".into(), href: None }]);
        let no_audio =
            Episode { enclosure: Enclosure { url: "javascript:x".into(), length: None, mime_type: None }, ..clean };
        assert_eq!(episode(no_audio), Err(Unusable::NoAudio));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn cleaned_text_and_urls_pass_the_feed_check(value in "\\PC{0,80}|[\\x00-\\x{10FFFF}]{0,40}") {
                if let Some(clean) = text(&value, 50) {
                    prop_assert!(clean.chars().all(crate::text::is_xml_char));
                    prop_assert!(clean.chars().count() <= 50 && clean == clean.trim());
                    prop_assert_eq!(text(&clean, 50), Some(clean.clone()), "idempotent");
                }
                if let Some(clean) = url(&format!("https://x.example/{value}")) {
                    prop_assert_eq!(crate::verify::check_url(&clean), Ok(()));
                    prop_assert_eq!(url(&clean), Some(clean.clone()), "idempotent");
                }
            }
        }
    }
}
