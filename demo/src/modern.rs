//! The demo show in a modern site's markup (`--theme modern`): class names a build tool made up
//! (`<div class="x7f2a">`), and the episode's data only in schema.org JSON-LD and OpenGraph, as
//! sites built with a JavaScript framework and rendered on the server serve it. No CSS selector
//! written for one build survives the next; the declared data does.

use std::fmt::Write;

use super::pages::{esc, teaser_of, FEED_LINK};
use super::show::{ShowEpisode, PAGE_SIZE, SHOW_TITLE};

/// An episode page: OpenGraph and JSON-LD in the head, a body of made-up class names.
pub fn episode_page(episode: &ShowEpisode) -> String {
    let n = episode.number;
    let title = esc(&episode.title);
    let date = episode.published.to_rfc3339();
    let description = format!("Episode {n} of {SHOW_TITLE}: {}. {}", episode.title, teaser_of(n));
    let audio = episode.has_audio().then(|| episode.audio_path());
    let og_audio = audio.as_ref().map(|a| format!(r#"<meta property="og:audio" content="{a}">"#)).unwrap_or_default();
    let json_ld = json_ld(episode, &description, audio.as_deref());
    let player = match &audio {
        Some(audio) => format!(r#"<div class="p0x3" data-v="{audio}"><button class="b7">▶</button></div>"#),
        None => String::new(),
    };
    let mut notes = String::new();
    for i in 0..20 {
        let _ = write!(notes, r#"<div class="r{i:x}q">{}</div>"#, esc(&teaser_of(n * 61 + i)));
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} — {SHOW_TITLE}</title>
<link rel="canonical" href="/episodes/{n}">
<meta property="og:type" content="article"><meta property="og:site_name" content="{SHOW_TITLE}">
<meta property="og:title" content="{title}"><meta property="og:description" content="{desc}">
<meta property="article:published_time" content="{date}">{og_audio}
<script type="application/ld+json">{json_ld}</script>
<script id="__APP_STATE__" type="application/json">{app_state}</script>
</head><body><div id="__app"><div class="h9k2"><a class="l1" href="/">{SHOW_TITLE}</a></div>
<main class="x7f2a"><div class="q1b9c">{title}</div><div class="d4e">{day}</div>{player}
<div class="z3k">{notes}</div><div class="w8e">{transcript}</div></main></div></body></html>
"#,
        desc = esc(&description),
        day = episode.published.format("%b %-d, %Y"),
        transcript = super::pages::transcript(n),
        app_state = app_state(n),
    )
}

/// The state a framework hydrates the page from: the route, and a long list of what else to play
/// (the bulk of such a page, and no episode of its own).
fn app_state(n: u32) -> String {
    let related: Vec<serde_json::Value> = (1..=80)
        .map(|i| serde_json::json!({ "id": n * 7 + i, "blurb": teaser_of(n * 7 + i), "slot": format!("r{i}") }))
        .collect();
    let state = serde_json::json!({ "route": "/episodes/[id]", "buildId": "a81f3", "related": related });
    state.to_string().replace("</", "<\\/")
}

/// The episode's schema.org `PodcastEpisode`, in a `@graph` beside the site, as SEO plugins write it.
fn json_ld(episode: &ShowEpisode, description: &str, audio: Option<&str>) -> String {
    let n = episode.number;
    let mut node = serde_json::json!({
        "@type": if audio.is_some() { "PodcastEpisode" } else { "BlogPosting" },
        "@id": format!("/episodes/{n}#episode"),
        "url": format!("/episodes/{n}"),
        "name": episode.title,
        "datePublished": episode.published.to_rfc3339(),
        "description": description,
        "episodeNumber": n,
        "partOfSeries": { "@type": "PodcastSeries", "name": SHOW_TITLE, "url": "/" },
    });
    if let Some(audio) = audio {
        node["timeRequired"] = format!("PT{}M{}S", episode.duration_secs / 60, episode.duration_secs % 60).into();
        node["associatedMedia"] = serde_json::json!({ "@type": "MediaObject", "contentUrl": audio });
    }
    let graph = serde_json::json!({
        "@context": "https://schema.org",
        "@graph": [ { "@type": "WebSite", "name": SHOW_TITLE, "url": "/" }, node ],
    });
    // `</` would end the script element early.
    graph.to_string().replace("</", "<\\/")
}

/// An archive page (`/archive`, `/archive/page/N`): cards that link their episodes, and the next
/// page both in the head and as a button.
pub fn listing_page(page: u32, latest: u32, titles: impl Fn(u32) -> String) -> String {
    let pages = latest.div_ceil(PAGE_SIZE).max(1);
    let newest = latest.saturating_sub((page - 1) * PAGE_SIZE);
    let oldest = newest.saturating_sub(PAGE_SIZE) + 1;
    let mut cards = String::new();
    for n in (oldest..=newest).rev() {
        let _ = write!(
            cards,
            r#"<a class="k2p9" href="/episodes/{n}"><div class="t8r">{}</div><div class="s5">{}</div></a>"#,
            esc(&titles(n)),
            esc(&teaser_of(n))
        );
    }
    let next_path = format!("/archive/page/{}", page + 1);
    let (next_link, more) = if page < pages {
        (
            format!(r#"<link rel="next" href="{next_path}">"#),
            format!(r#"<a class="m4x" href="{next_path}">Load more</a>"#),
        )
    } else {
        (String::new(), String::new())
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Episodes — {SHOW_TITLE}</title>{next_link}
<meta property="og:site_name" content="{SHOW_TITLE}"></head>
<body><div id="__app"><div class="h9k2"><a class="l1" href="/">{SHOW_TITLE}</a></div>
<main class="x7f2a"><div class="g5w">{cards}</div>{more}</main></div></body></html>
"#
    )
}

/// The home page: the show, and a link to its episodes.
pub fn home_page(latest: u32) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{SHOW_TITLE}</title>{FEED_LINK}
<meta property="og:site_name" content="{SHOW_TITLE}"><meta property="og:title" content="{SHOW_TITLE}">
<meta name="description" content="A weekly show about the economy's hidden machinery.">
<meta property="og:image" content="/art/cover.png">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"PodcastSeries","name":"{SHOW_TITLE}","url":"/","description":"A weekly show about the economy's hidden machinery."}}</script>
</head><body><div id="__app"><div class="h9k2"><a class="l1" href="/">{SHOW_TITLE}</a></div>
<main class="x7f2a"><div class="q1b9c">{SHOW_TITLE}</div><a class="v2n" href="/archive">All {latest} episodes</a></main></div></body></html>
"#
    )
}
