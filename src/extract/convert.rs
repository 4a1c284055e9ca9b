//! A raw string from the page into a field's value: a URL, a date, a duration, a number, one of
//! the values a field allows; or why it is none.

use chrono::{DateTime, Utc};
use url::Url;

use crate::hygiene::{self, OutOfRange};
use crate::parse::{self, NotADuration};
use crate::recipe::Rule;

/// Why a raw string from the page is not a field's value.
pub(super) enum Reject {
    /// Nothing left of it (markup, forbidden characters only): the next value is tried, silently.
    Unusable,
    /// Not of the field's kind (not a date, not a URL...): the next value is tried, and the
    /// page reported if nothing else fits.
    NotUnderstood(&'static str),
    /// Of the field's kind but out of range: tried past too, and reported if nothing else fits.
    OutOfRange(OutOfRange),
}

pub(super) type Converted = Result<String, Reject>;

/// An absolute http(s) URL, if the text is a link: not text that happens to resolve against
/// the page (JSON, a sentence, "Part 1/2 of the series"), which is no match, so the next rule
/// is tried. A space is allowed only in what is plainly a link, absolute or from the site's root
/// (sites write `/audio/a b.mp3`, and browsers follow it).
pub(super) fn url(base: &Url, text: &str) -> Converted {
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
pub(super) fn date(rule: &Rule, text: &str, fetched: DateTime<Utc>, zone: Option<chrono_tz::Tz>) -> Converted {
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
pub(super) fn seconds(text: &str) -> Converted {
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
pub(super) fn first_number(text: &str) -> Converted {
    let start = text.find(|c: char| c.is_ascii_digit()).ok_or(Reject::NotUnderstood("has no number"))?;
    let digits: String = text[start..].chars().take_while(char::is_ascii_digit).collect();
    let number: u32 = digits.parse().map_err(|_| Reject::OutOfRange(OutOfRange::TooLarge))?;
    Ok(number.to_string())
}

/// `full`, `trailer` or `bonus`, the values `itunes:episodeType` allows.
pub(super) fn episode_type(text: &str) -> Option<String> {
    let lower = text.trim().to_lowercase();
    ["full", "trailer", "bonus"].into_iter().find(|t| lower == *t).map(str::to_string)
}

/// `itunes:explicit` as sites write it: yes or no, explicit or clean.
pub(super) fn explicit(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "yes" | "explicit" | "1" | "e" => Some(true),
        "false" | "no" | "clean" | "0" | "c" => Some(false),
        _ => None,
    }
}

/// A `block` rule's value: a page marks what it holds back ("Members only", "yes"), so any
/// value but a plain no blocks.
pub(super) fn blocked(text: &str) -> bool {
    !matches!(text.trim().to_ascii_lowercase().as_str(), "" | "false" | "no" | "0" | "off")
}

/// Resolves a possibly relative URL against the page; only http(s) results are kept.
pub fn resolve(base: &Url, href: &str) -> Option<String> {
    hygiene::absolute(&base.join(href.trim()).ok()?)
}
