//! Candidate rules from what a page's inline scripts configure: a player's audio file, its
//! duration and the episode's date, as Podlove's web player (`podlovePlayerCache.add([...])`),
//! APlayer (`new APlayer({audio: [{url: '…'}]})`) or a framework's page state write them. Each
//! becomes a `regex` rule on the scripts' text, keyed by the setting's name, so that another
//! setting of the same kind elsewhere in the script is not taken instead.

use std::sync::LazyLock;

use regex::Regex;
use scraper::Html;

use super::candidate::Candidate;
use super::dom::{is_audio_url, selector};
use crate::parse;

/// Scripts read, and the bytes of each, at most: a page's player is near its top.
const MAX_SCRIPTS: usize = 60;
const MAX_SCRIPT_BYTES: usize = 512 * 1024;

/// The selector of the rules: scripts written into the page, not loaded from elsewhere, and not
/// JSON-LD (read as such).
const CSS: &str = "script:not([src]):not([type='application/ld+json'])";

const EVIDENCE: &str = "a player's settings in a script";

/// Audio file endings, as a regex alternation.
const AUDIO: &str = r"(?:mp3|m4a|aac|ogg|opus|wav|mp4)";

/// `key: value` in JavaScript or JSON: the key bare or quoted, the value a quoted string or a
/// number.
static SETTING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?:"([A-Za-z_][\w-]{0,40})"|'([A-Za-z_][\w-]{0,40})'|\b([A-Za-z_]\w{0,40}))\s*:\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|(\d{1,9}(?:\.\d+)?)\b)"#,
    )
    .expect("a valid built-in regex")
});

/// Setting names that hold an episode's publication date.
const DATE_KEYS: [&str; 9] = [
    "publicationdate",
    "datepublished",
    "pubdate",
    "published",
    "publishdate",
    "published_at",
    "publishedat",
    "releasedate",
    "uploaddate",
];

/// The candidate rules the page's inline scripts offer: for each setting that holds an audio
/// URL, a date or a duration, a rule reading the first such setting of that name; and for audio,
/// the first quoted audio URL in any script.
pub(super) fn candidates(doc: &Html) -> Vec<(&'static str, Candidate)> {
    let mut rules: Vec<(&'static str, Candidate)> = Vec::new();
    let mut any_audio = false;
    for script in doc.select(&selector(CSS)).take(MAX_SCRIPTS) {
        let text: String = script.text().collect();
        let text = &text[..floor_char_boundary(&text, MAX_SCRIPT_BYTES)];
        for setting in SETTING.captures_iter(text).take(5_000) {
            let Some(key) = setting.get(1).or(setting.get(2)).or(setting.get(3)).map(|k| k.as_str()) else { continue };
            let quoted = setting.get(4).or(setting.get(5)).map(|v| v.as_str().replace("\\/", "/"));
            let number = setting.get(6).map(|v| v.as_str().to_string());
            let Some((field, pattern)) = rule_for(key, quoted.as_deref(), number.as_deref()) else { continue };
            any_audio |= field == "audio";
            let candidate = Candidate { regex: Some(pattern), ..Candidate::new(CSS, None, None, EVIDENCE) };
            if !rules.iter().any(|(f, c)| *f == field && c.regex == candidate.regex) {
                rules.push((field, candidate));
            }
        }
    }
    if any_audio {
        let first_audio = format!(r#"["']((?:https?:)?[^"'\s]*?\.{AUDIO}(?:\?[^"'\s]*)?)["']"#);
        rules.push(("audio", Candidate { regex: Some(first_audio), ..Candidate::new(CSS, None, None, EVIDENCE) }));
    }
    rules
}

/// The field a setting holds and the rule that reads it, if it holds an audio URL, a date or a
/// duration (not zero: a player's "unknown").
fn rule_for(key: &str, quoted: Option<&str>, number: Option<&str>) -> Option<(&'static str, String)> {
    let name = format!(r#"["']?{}["']?\s*:\s*"#, regex::escape(key));
    let lower = key.to_ascii_lowercase();
    match (quoted, number) {
        (Some(value), _) if is_audio_url(value) => {
            Some(("audio", format!(r#"{name}["']([^"']*?\.{AUDIO}(?:\?[^"']*)?)["']"#)))
        }
        (Some(value), _) if DATE_KEYS.contains(&lower.as_str()) && parse::date(value).is_some() => {
            Some(("published", format!(r#"{name}["']([^"']+)["']"#)))
        }
        (value, number) if is_duration_key(&lower) => {
            let seconds = parse::duration(value.or(number)?).ok()?;
            (seconds > 0).then(|| ("duration", format!(r#"{name}["']?([^"',}}\]\s][^"',}}\]]*)"#)))
        }
        _ => None,
    }
}

fn is_duration_key(key: &str) -> bool {
    key.contains("duration") || key == "length" || key == "runtime"
}

/// The largest index at most `at` that starts a character of `text`.
fn floor_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(html: &str) -> Vec<(&'static str, String)> {
        candidates(&Html::parse_document(html)).into_iter().map(|(f, c)| (f, c.regex.unwrap())).collect()
    }

    fn first_match<'a>(pattern: &str, text: &'a str) -> Option<&'a str> {
        Regex::new(pattern).unwrap().captures(text)?.get(1).map(|m| m.as_str())
    }

    /// Podlove's player: JSON with escaped slashes, another "url" (the player's API) before the
    /// audio's, a date and a duration with milliseconds.
    #[test]
    fn a_podlove_players_settings() {
        let script = r#"podlovePlayerCache.add([{"url":"https:\/\/example.org\/wp-json\/player\/191","data":{"title":"Lambda",
            "publicationDate":"2022-07-05T20:29:02+00:00","duration":"00:53:52.676",
            "audio":[{"url":"https:\/\/cdn.example.org\/fns_021.mp3","size":"45258444"}]}}]);"#;
        let rules = found(&format!("<script>{script}</script><script src='/x.js'></script>"));
        let rule = |field: &str| rules.iter().find(|(f, _)| *f == field).map(|(_, r)| r.clone()).unwrap();
        assert_eq!(first_match(&rule("audio"), script), Some(r"https:\/\/cdn.example.org\/fns_021.mp3"));
        assert_eq!(first_match(&rule("published"), script), Some("2022-07-05T20:29:02+00:00"));
        assert_eq!(first_match(&rule("duration"), script), Some("00:53:52.676"));
    }

    /// APlayer: a JavaScript object, keys bare, values in single quotes.
    #[test]
    fn an_aplayer_in_javascript() {
        let script = "const ap = new APlayer({ container: el, audio: [{ name: 'Ep 4', url: '/media/ep4.mp3?v=2', cover: '/c.jpg' }] });";
        let rules = found(&format!("<script>{script}</script>"));
        let audio: Vec<&String> = rules.iter().filter(|(f, _)| *f == "audio").map(|(_, r)| r).collect();
        assert_eq!(audio.len(), 2, "by its key, and the first audio URL in any script: {audio:?}");
        for rule in audio {
            assert_eq!(first_match(rule, script), Some("/media/ep4.mp3?v=2"));
        }
    }

    /// A zero duration, a date that is no date, and a script with no player give nothing.
    #[test]
    fn nothing_from_unknowns_and_other_scripts() {
        let rules = found(
            r#"<script>var player = {"duration": 0, "published": "soon", "site": "https://example.org/"};</script>
               <script type="text/template">{ title: 'x' }</script>"#,
        );
        assert!(rules.is_empty(), "{rules:?}");
    }
}
