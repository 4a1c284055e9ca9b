//! The demo show as a public radio network's site of today serves it (`--theme radio`): pages of
//! about 60 KB of which the episode is a small part. Most of the bytes are what such sites carry
//! on every page: a long global navigation (sections, programs A–Z, stations) whose every link
//! has its analytics in attribute JSON (`data-metrics='{…}'`), a dozen external and inline
//! scripts with the page's configuration as JavaScript objects, ad slots between the story's
//! paragraphs, related stories with `srcset` images. The episode: an `h1`, a `<time datetime>`,
//! the player's JSON in `data-audio` (the audio URL and the duration in seconds), the story text.
//! No transcript on the page: a benchmark on these pages measures what real pages cost, not the
//! demo's long transcripts.
//!
//! The archive and home page are the classic theme's; episode pages are at `/episodes/N`.

use std::fmt::Write;

use super::pages::{esc, show_notes, teaser, STYLE};
use super::show::{title, ShowEpisode, SplitMix, HOST, SHOW_AUTHOR, SHOW_TITLE};

const SECTIONS: [&str; 12] = [
    "News",
    "Arts & Life",
    "Music",
    "Podcasts & Shows",
    "Search",
    "Business",
    "Science",
    "Politics",
    "Health",
    "Books",
    "Technology",
    "World",
];

/// An episode's page.
pub fn episode_page(episode: &ShowEpisode, latest: u32) -> String {
    let n = episode.number;
    let title = esc(&episode.title);
    let charset = if episode.latin1 { "iso-8859-1" } else { "utf-8" };
    let description = esc(&format!("Episode {n} of {SHOW_TITLE}: {}. {}", episode.title, teaser(n)));
    let mut html = String::with_capacity(70_000);
    let _ = write!(
        html,
        r##"<!doctype html>
<html lang="en" class="no-js"><head>
<meta charset="{charset}">
<title>{title} : {SHOW_TITLE} : {SHOW_AUTHOR}</title>
<meta name="description" content="{description}">
<link rel="canonical" href="/episodes/{n}">
<meta property="og:title" content="{title}"><meta property="og:type" content="article">
<meta property="og:description" content="{description}"><meta property="og:site_name" content="{SHOW_AUTHOR}">
<meta property="og:image" content="/images/{n}-wide.jpg"><meta name="twitter:card" content="summary_large_image">
<meta name="twitter:site" content="@longsignal"><meta name="viewport" content="width=device-width, initial-scale=1">
{preloads}{STYLE}
{page_config}
</head><body class="story-page tmplStory" data-story-id="{id}">
<a class="skip-link" href="#main">Skip to main content</a>
{global_nav}
<main id="main"><article class="story" data-metrics='{{"category":"story","action":"view","label":"{id}"}}'>
<div class="slug-wrap"><h3 class="slug"><a href="/podcasts/long-signal" data-metrics='{{"action":"Click Slug","category":"Story"}}'>{SHOW_TITLE}</a></h3></div>
<div class="storytitle"><h1>{title}</h1></div>
<div id="story-meta" class="story-meta"><div class="byline">By <a class="byline__name" href="/people/host">{HOST}</a></div>
<div class="dateblock"><time datetime="{datetime}"><span class="date">{date}</span><span class="time">{time} ET</span></time></div></div>
{player}
<div id="storytext" class="storytext storylocation linkLocation">
{story}
</div>
</article>
{related}
</main>
{footer}
{tail_scripts}
</body></html>
"##,
        id = 400_000 + n,
        datetime = episode.published.format("%Y-%m-%dT%H:%M:%S+00:00"),
        date = episode.published.format("%B %-d, %Y"),
        time = episode.published.format("%-I:%M %p"),
        preloads = preloads(n),
        page_config = page_config(episode),
        global_nav = global_nav(),
        player = player(episode),
        story = story(n),
        related = related(n, latest),
        footer = footer(),
        tail_scripts = tail_scripts(n),
    );
    html
}

/// The player: its configuration as attribute JSON, as public radio players carry it.
fn player(episode: &ShowEpisode) -> String {
    if !episode.has_audio() {
        return r#"<p class="note">This is a text-only bonus post.</p>"#.to_string();
    }
    let n = episode.number;
    let (minutes, seconds) = (episode.duration_secs / 60, episode.duration_secs % 60);
    format!(
        r#"<div class="audio-module" data-audio='{{"uid":"{uid}:{n}","available":true,"duration":{secs},"title":"Episode {n}","audioUrl":"{audio}","storyUrl":"/episodes/{n}","slug":"{SHOW_TITLE}","program":"{SHOW_TITLE}","hasAdsWizz":false,"isStreamOnly":false,"embedUrl":"/player/embed/{uid}/{n}","skipSponsorship":true,"mediaType":"audio","analytics":{{"category":"Audio","action":"Play","label":"{uid}-{n}"}}}}'>
<div class="audio-module-controls-wrap"><button class="audio-module-listen" data-metrics='{{"action":"Click Listen","category":"Audio","label":"{n}"}}'><b class="audio-module-listen-inner"><b class="audio-module-listen-text">Listen</b><b class="audio-module-listen-duration">· {minutes}:{seconds:02}</b></b></button></div>
<ul class="audio-module-tools"><li class="audio-tool audio-tool-download"><a href="{audio}?dl=1" data-metrics='{{"action":"Click Download","category":"Audio"}}'>Download</a></li>
<li class="audio-tool audio-tool-embed"><button data-metrics='{{"action":"Click Embed","category":"Audio"}}'>Embed</button></li>
<li class="audio-tool audio-tool-transcript"><a href="/transcripts/{n}" data-metrics='{{"action":"Click Transcript","category":"Audio"}}'>Transcript</a></li></ul></div>"#,
        uid = 500_000 + n,
        secs = episode.duration_secs,
        audio = episode.audio_path(),
    )
}

/// Stylesheets, fonts and the scripts every page loads.
fn preloads(n: u32) -> String {
    let mut rng = SplitMix(u64::from(n) ^ 0x51AB);
    let mut head = String::with_capacity(3_000);
    for name in ["fonts", "global", "story", "audio", "ads", "vendor", "analytics", "consent", "player", "recirc"] {
        let hash = rng.next_u64();
        let _ = writeln!(
            head,
            r#"<link rel="preload" href="/assets/{name}.{hash:016x}.js" as="script"><script src="/assets/{name}.{hash:016x}.js" defer></script>"#
        );
    }
    head
}

/// The page's configuration as scripts: the story's metadata for ads and analytics, feature
/// flags, the ad slots' sizes. The bulk of a real page's head.
fn page_config(episode: &ShowEpisode) -> String {
    let n = episode.number;
    let mut rng = SplitMix(u64::from(n) * 31);
    let mut flags = String::with_capacity(6_000);
    for i in 0..120 {
        let _ =
            write!(flags, r#""feature{i}":{{"enabled":{},"variant":"{:08x}"}},"#, i % 3 == 0, rng.next_u64() as u32);
    }
    let mut slots = String::with_capacity(4_000);
    for i in 0..24 {
        let _ = write!(
            slots,
            r#"{{"id":"ad-slot-{i}","sizes":[[300,250],[320,50],[728,90]],"targeting":{{"pos":"{i}","story":"{n}"}}}},"#
        );
    }
    format!(
        r#"<script>var RADIO = window.RADIO || {{}}; RADIO.serverVars = {{"storyId":"{id}","topics":["{SHOW_TITLE}","Economy","Business"],"byline":["{HOST}"],"pubDate":"{date}","program":"{SHOW_TITLE}","isStory":true,"isPodcast":true}};</script>
<script>RADIO.features = {{{flags}"v":2}};</script>
<script>RADIO.ads = [{slots}{{"id":"last"}}];</script>
<script>(function(w,d,s,l,i){{w[l]=w[l]||[];w[l].push({{'gtm.start':new Date().getTime(),event:'gtm.js'}});var f=d.getElementsByTagName(s)[0],j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src='/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);}})(window,document,'script','dataLayer','GTM-{gtm:X}');</script>"#,
        id = 400_000 + n,
        date = episode.published.format("%Y-%m-%d"),
        gtm = rng.next_u64() as u32,
    )
}

/// The network's global navigation: sections with their sub-sections, programs A–Z and member
/// stations, every link with its analytics in attribute JSON.
fn global_nav() -> String {
    let mut nav = String::with_capacity(30_000);
    nav.push_str(r#"<header id="globalheader" class="global-header"><a class="logo" href="/" data-metrics='{"action":"Click Logo","category":"Global Navigation"}'>Long Signal Radio</a><nav class="global-navigation" aria-label="main navigation"><ul class="menu">"#);
    for section in SECTIONS {
        let slug = section.to_lowercase().replace(" & ", "-").replace(' ', "-");
        let _ = write!(
            nav,
            r#"<li class="menu__item menu__item--{slug}"><a href="/sections/{slug}/" data-metrics='{{"action":"Click {section}","category":"Global Navigation","label":"{slug}"}}'>{section}</a><ul class="submenu">"#
        );
        for sub in 1..=6 {
            let _ = write!(
                nav,
                r#"<li><a href="/sections/{slug}/{sub}/" data-metrics='{{"action":"Click {section} {sub}","category":"Global Navigation"}}'>{section} {sub}</a></li>"#
            );
        }
        nav.push_str("</ul></li>");
    }
    nav.push_str(r#"</ul></nav><nav class="programs-az" aria-label="programs A to Z"><h2>Programs A–Z</h2><ul>"#);
    for i in 0..110u32 {
        let name = format!(
            "{} {}",
            super::show::ADJECTIVES[i as usize % super::show::ADJECTIVES.len()],
            super::show::NOUNS[(i as usize * 7) % super::show::NOUNS.len()]
        );
        let _ = write!(
            nav,
            r#"<li><a href="/programs/{i}/" data-metrics='{{"action":"Click Program","category":"Programs A-Z","label":"{i}"}}'>{name}</a></li>"#
        );
    }
    nav.push_str(r#"</ul></nav><nav class="stations" aria-label="member stations"><ul>"#);
    for i in 0..50u32 {
        let _ = write!(
            nav,
            r#"<li><a href="/stations/{i}/" data-metrics='{{"action":"Click Station","category":"Stations","label":"{i}"}}'>W{:03} {} FM</a></li>"#,
            100 + i * 7,
            88 + i % 20
        );
    }
    nav.push_str("</ul></nav></header>");
    nav
}

/// The story: the show notes with ad slots and a picture between its paragraphs.
fn story(n: u32) -> String {
    let notes = show_notes(n);
    let mut story = String::with_capacity(notes.len() + 4_000);
    for (i, paragraph) in notes.split_inclusive("</p>\n").enumerate() {
        story.push_str(paragraph);
        if i % 2 == 1 {
            let _ = writeln!(
                story,
                r#"<div class="ad-wrap" data-slot="ad-slot-{i}"><div id="ad-slot-{i}" class="ad"></div><script>RADIO.queue = RADIO.queue || []; RADIO.queue.push(function(){{RADIO.display('ad-slot-{i}', {{"story":"{n}","pos":{i}}});}});</script></div>"#
            );
        }
        if i == 0 {
            story.push_str(&picture(n, "bucketwrap image large"));
        }
    }
    story
}

/// A picture as such sites write it: several sizes in `srcset`, a caption, a credit.
fn picture(n: u32, class: &str) -> String {
    let sizes: String = [400, 600, 800, 900, 1200, 1600, 1800]
        .iter()
        .map(|w| format!("/images/{n}-wide.jpg?s={w}&c=85&f=webp {w}w"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"<div class="{class}"><picture><source srcset="{sizes}" sizes="(min-width: 1300px) 763px, (min-width: 1025px) 65vw, 100vw" type="image/webp"><img src="/images/{n}-wide.jpg?s=1100" alt="An illustration for episode {n}" loading="lazy"></picture><div class="credit-caption"><span class="credit">Illustration by the demo</span></div></div>
"#
    )
}

/// More stories: cards with their pictures and analytics.
fn related(n: u32, latest: u32) -> String {
    let mut html =
        String::from(r#"<aside id="recirculation" class="recirculation"><h2>More Stories From The Long Signal</h2>"#);
    let mut rng = SplitMix(u64::from(n) ^ 0xFEED);
    for i in 0..8 {
        let other = (rng.next_u64() % u64::from(latest.max(1))) as u32 + 1;
        let _ = write!(
            html,
            r#"<article class="item recirc-item" data-metrics='{{"action":"Click Recirculation","category":"Story","label":"{other}","position":{i}}}'>{}<h3 class="title"><a href="/episodes/{other}">{}</a></h3></article>"#,
            picture(other, "item-image"),
            esc(&title(other))
        );
    }
    html.push_str("</aside>");
    html
}

fn footer() -> String {
    let mut footer = String::from(r#"<footer id="globalfooter" class="global-footer"><div class="footer-nav">"#);
    for column in ["Read & Listen", "Connect", "About", "Get Involved"] {
        let _ = write!(footer, r#"<div class="footer-column"><h3>{column}</h3><ul>"#);
        for i in 1..=8 {
            let _ = write!(
                footer,
                r#"<li><a href="/footer/{i}/" data-metrics='{{"action":"Click Footer","category":"Footer","label":"{column} {i}"}}'>{column} {i}</a></li>"#
            );
        }
        footer.push_str("</ul></div>");
    }
    footer.push_str(r#"</div><p class="copyright">&copy; Long Signal Radio, a fictional network made for podfeed's demo.</p></footer>"#);
    footer
}

/// The scripts at the end of the body: consent, analytics, the player's loader.
fn tail_scripts(n: u32) -> String {
    let mut rng = SplitMix(u64::from(n) ^ 0x7A11);
    let mut values = String::with_capacity(3_000);
    for i in 0..60 {
        let _ = write!(values, r#""d{i}":"{:012x}","#, rng.next_u64() >> 16);
    }
    format!(
        r#"<script>window.dataLayer = window.dataLayer || []; window.dataLayer.push({{{values}"event":"pageview"}});</script>
<script>document.documentElement.className = document.documentElement.className.replace('no-js', 'js');</script>
<script type="text/template" id="player-template"><div class="player-{{{{id}}}}"><button>Play</button><span>{{{{title}}}}</span></div></script>
<script>RADIO.player && RADIO.player.init({{"persistent":true,"queue":true,"story":"{n}"}});</script>"#
    )
}
