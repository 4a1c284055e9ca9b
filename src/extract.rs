//! Pure extraction: (page URL, HTML, recipe rules) → an [`Episode`], or why the page is not one.

use scraper::{ElementRef, Html};
use url::Url;

use crate::model::{Enclosure, Episode};
use crate::parse;
use crate::recipe::{EpisodeRules, Rule};

/// Why a page yields no feed item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAnEpisode {
    #[error("no audio URL found (not a feed item)")]
    NoAudio,
    #[error("no title found")]
    NoTitle,
    #[error("the page URL is not a valid URL")]
    BadUrl,
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
}

/// Extracts one episode from a page.
pub fn extract(page_url: &Url, html: &str, rules: &EpisodeRules) -> Result<Episode, NotAnEpisode> {
    extract_traced(page_url, html, rules).0
}

/// Extracts one episode and records, field by field, which rule produced what.
pub fn extract_traced(
    page_url: &Url,
    html: &str,
    rules: &EpisodeRules,
) -> (Result<Episode, NotAnEpisode>, Vec<FieldTrace>) {
    let doc = Html::parse_document(html);
    let mut trace = Vec::new();
    let mut field = |name: &'static str, rules: &[Rule], convert: &dyn Fn(&Rule, String) -> Option<String>| {
        let (found, raw) = first_value(&doc, rules, convert);
        trace.push(FieldTrace {
            field: name,
            rule: found.as_ref().map(|(i, _)| *i),
            value: found.as_ref().map(|(_, v)| v.clone()).unwrap_or_default(),
            raw,
        });
        found.map(|(_, v)| v)
    };
    let as_text = |_: &Rule, v: String| Some(v);
    let as_url = |_: &Rule, v: String| resolve(page_url, &v);
    let as_date = |rule: &Rule, v: String| {
        let date = match &rule.format {
            Some(format) => parse::date_with_format(&v, format),
            None => parse::date(&v),
        };
        date.map(|d| d.to_rfc3339())
    };
    let as_seconds = |_: &Rule, v: String| parse::duration(&v).map(|s| s.to_string());
    let as_number = |_: &Rule, v: String| first_number(&v).map(|n| n.to_string());
    let as_html = |rule: &Rule, v: String| Some(if rule.html { sanitize_html(&v, page_url) } else { escape_text(&v) });

    let title = field("title", &rules.title, &as_text);
    let audio = field("audio", &rules.audio, &as_url);
    let link = field("link", &rules.link, &as_url).unwrap_or_else(|| page_url.to_string());
    let guid = field("guid", &rules.guid, &as_text).unwrap_or_else(|| link.clone());
    let published = field("published", &rules.published, &as_date);
    let duration = field("duration", &rules.duration, &as_seconds);
    let description = field("description", &rules.description, &as_html);
    let content = field("content", &rules.content, &as_html);
    let image = field("image", &rules.image, &as_url);
    let number = field("episode", &rules.episode, &as_number);
    let season = field("season", &rules.season, &as_number);
    let episode_type = field("episode_type", &rules.episode_type, &|_: &Rule, v: String| episode_type(&v));
    let explicit = field("explicit", &rules.explicit, &|_: &Rule, v: String| explicit(&v).map(|b| b.to_string()));
    let transcript = field("transcript", &rules.transcript, &as_url);
    let chapters = field("chapters", &rules.chapters, &as_url);
    // Show the defaults that applied, so `check` tells the whole story.
    for entry in trace.iter_mut().filter(|t| t.rule.is_none()) {
        match entry.field {
            "link" => entry.value = link.clone(),
            "guid" => entry.value = guid.clone(),
            _ => {}
        }
    }

    let episode = match (title, audio) {
        (None, _) => Err(NotAnEpisode::NoTitle),
        (_, None) => Err(NotAnEpisode::NoAudio),
        (Some(title), Some(audio)) => Ok(Episode {
            guid,
            page_url: page_url.to_string(),
            link,
            title,
            published: published.and_then(|d| parse::date(&d)),
            enclosure: Enclosure { url: audio, length: None, mime_type: None },
            duration: duration.and_then(|s| s.parse().ok()),
            description,
            content,
            image,
            episode: number.and_then(|n| n.parse().ok()),
            season: season.and_then(|n| n.parse().ok()),
            episode_type,
            explicit: explicit.map(|b| b == "true"),
            transcript,
            chapters,
        }),
    };
    (episode, trace)
}

/// The first non-empty, convertible value any rule yields, trying rules in order and each
/// rule's matching elements in document order; with the raw string it came from, or else the
/// first raw string that did not convert.
fn first_value(
    doc: &Html,
    rules: &[Rule],
    convert: &dyn Fn(&Rule, String) -> Option<String>,
) -> (Option<(usize, String)>, Option<String>) {
    let mut rejected = None;
    for (i, rule) in rules.iter().enumerate() {
        for raw in doc.select(&rule.css).filter_map(|element| apply_rule(rule, element)) {
            match convert(rule, raw.clone()) {
                Some(value) => return (Some((i, value)), Some(raw)),
                None => {
                    rejected.get_or_insert(raw);
                }
            }
        }
    }
    (None, rejected)
}

/// The raw string a rule takes from one element, after its `json` and `regex` steps.
fn apply_rule(rule: &Rule, element: ElementRef) -> Option<String> {
    let raw = match (&rule.attr, rule.html) {
        (Some(attr), _) => element.value().attr(attr)?.to_string(),
        (None, true) => element.inner_html(),
        (None, false) => collapse_whitespace(&element.text().collect::<String>()),
    };
    let raw = match &rule.json {
        Some(pointer) => json_at(&raw, pointer)?,
        None => raw,
    };
    let raw = match &rule.regex {
        Some(regex) => {
            let captures = regex.captures(&raw)?;
            captures.get(1).or_else(|| captures.get(0))?.as_str().to_string()
        }
        None => raw,
    };
    let trimmed = raw.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
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

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn first_number(text: &str) -> Option<u32> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let digits: String = text[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Plain text made safe to place inside HTML.
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Resolves a possibly relative URL against the page; only http(s) results are kept.
pub fn resolve(base: &Url, href: &str) -> Option<String> {
    let url = base.join(href.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
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

    fn run(episode_rules: &str) -> Result<Episode, NotAnEpisode> {
        extract(&page_url(), PAGE, &recipe(episode_rules).episode)
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
        let page = r#"<h1>Trailer</h1><a class="dl" href="/a.mp3">a</a><span class="s">Season 3</span>
            <span class="t">Trailer</span><span class="x">Explicit</span>
            <a class="tr" href="t/42.vtt">Transcript</a><a class="ch" href="/c/42.json">Chapters</a>"#;
        let rules = recipe(
            "title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }\n\
             season = { css = \"span.s\" }\nepisode_type = { css = \"span.t\" }\nexplicit = { css = \"span.x\" }\n\
             transcript = { css = \"a.tr\", attr = \"href\" }\nchapters = { css = \"a.ch\", attr = \"href\" }",
        );
        let ep = extract(&page_url(), page, &rules.episode).unwrap();
        assert_eq!(ep.season, Some(3));
        assert_eq!(ep.episode_type.as_deref(), Some("trailer"));
        assert_eq!(ep.explicit, Some(true));
        assert_eq!(ep.transcript.as_deref(), Some("https://example.org/episodes/t/42.vtt"));
        assert_eq!(ep.chapters.as_deref(), Some("https://example.org/c/42.json"));
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
        let (_, trace) = extract_traced(&page_url(), PAGE, &rules.episode);
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
        let (_, trace) = extract_traced(&page_url(), PAGE, &rules.episode);
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
                let page = format!("<{tag}>{html}</{tag}><h1>{html}</h1><a href=\"{html}\">x</a>");
                let _ = extract(&page_url(), &page, &rules.episode);
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
