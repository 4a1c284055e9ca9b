//! HTML of the demo site: pages shaped like a real public-radio podcast site, 50–100 KB each
//! (navigation, inline scripts, long show notes), with every quirk a recipe has to handle.

use std::fmt::Write;

use super::show::{
    title, AudioStyle, DateStyle, ShowEpisode, SplitMix, HOST, PAGE_SIZE, SHOW_AUTHOR, SHOW_DESCRIPTION, SHOW_TITLE,
    WORDS,
};

/// An episode page, and whether it is to be served as ISO-8859-1.
pub fn episode_page(episode: &ShowEpisode, latest: u32) -> String {
    let n = episode.number;
    let title = esc(&episode.title);
    let charset = if episode.latin1 { "iso-8859-1" } else { "utf-8" };
    let mut html = String::with_capacity(80_000);
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="en"><head>
<meta charset="{charset}">
<title>{title} | {SHOW_TITLE}</title>
<link rel="canonical" href="/episodes/{n}">
<meta name="description" content="Episode {n} of {SHOW_TITLE}: {title}. {teaser}">
<meta property="og:image" content="/images/{n}.jpg">
<meta name="viewport" content="width=device-width, initial-scale=1">
{style}
{analytics}
</head><body class="episode-page">
{nav}
<main id="main"><article class="episode">
<p class="kicker">Episode {n}</p>
<p class="meta"><span class="season">Season {season}: <i class="season-name">{season_name}</i></span> · <span class="type" data-type="{episode_type}">{type_label}</span> · <span class="rating">{rating}</span>{members}</p>
<h1 class="episode-title">{title}</h1>
{credits}
{date}
<p class="length">Length: <span class="duration">{duration}</span></p>
{audio}
{extras}
<div id="storytext">
{notes}
</div>
<section class="transcript"><h2>Transcript</h2>
{transcript}
</section>
</article>
{related}
</main>
{footer}
</body></html>
"#,
        teaser = teaser(n),
        style = STYLE,
        analytics = analytics_script(n),
        nav = site_nav(),
        date = date_block(episode),
        duration = episode.duration_text(),
        audio = audio_block(episode),
        extras = extras(episode),
        season = episode.season,
        season_name = episode.season_name(),
        members =
            if episode.members_only() { r#" · <span class="badge members-only">Members only</span>"# } else { "" },
        credits = credits(episode),
        episode_type = episode.episode_type,
        type_label = if episode.episode_type == "bonus" { "Bonus episode" } else { "Full episode" },
        rating = if episode.explicit { "Explicit" } else { "Clean" },
        notes = show_notes(n),
        transcript = transcript(n),
        related = related(n, latest),
        footer = FOOTER,
    );
    html
}

/// What fault mode links from listing page 2: every kind of page a real archive has gone bad in.
pub const BAD_LINKS: [(&str, &str); 8] = [
    ("/episodes/0", "A removed episode (404)"),
    ("/bad/huge", "A 6 MB page"),
    ("/bad/pdf", "A PDF, not a page"),
    ("/bad/loop", "A redirect loop"),
    ("/bad/empty", "An empty page"),
    ("/bad/binary", "Invalid UTF-8"),
    ("/drafts/1", "A draft robots.txt disallows"),
    ("https://elsewhere.example/episodes/1", "Another host, outside the recipe's scope"),
];

/// A page that has gone bad, by the last part of its `/bad/` path.
pub fn bad_page(kind: &str) -> Option<(&'static str, Vec<u8>)> {
    let html = "text/html; charset=utf-8";
    Some(match kind {
        "huge" => (
            html,
            format!(
                "<html><body><h1 class=\"episode-title\">Huge</h1>{}</body></html>",
                "<p>filler</p>".repeat(450_000)
            )
            .into_bytes(),
        ),
        "pdf" => ("application/pdf", b"%PDF-1.4 not a web page".to_vec()),
        "empty" => (html, Vec::new()),
        "binary" => (html, b"<html><h1 class=\"episode-title\">Bin\xff\xfe\xc3</h1><p>\x00\x01</p>".to_vec()),
        _ => return None,
    })
}

/// Listing page `page` (1 = newest), with pagination and, on page 1, a featured box that links
/// the newest episode a second time under another URL.
pub fn listing_page(page: u32, latest: u32, faults: bool, hostile: bool) -> String {
    let pages = latest.div_ceil(PAGE_SIZE).max(1);
    let mut cards = String::new();
    if page == 1 && latest > 0 {
        let _ = write!(
            cards,
            r#"<article class="featured"><h2 class="title"><a href="/episodes/{latest}?from=featured">Listen now: {}</a></h2></article>"#,
            esc(&title(latest))
        );
    }
    let newest = latest.saturating_sub((page - 1) * PAGE_SIZE);
    let oldest = newest.saturating_sub(PAGE_SIZE) + 1;
    for n in (oldest..=newest).rev() {
        cards.push_str(&card(n));
    }
    if faults && page == 2 {
        for (href, text) in BAD_LINKS {
            let _ = write!(
                cards,
                r#"<article class="episode-card"><h2 class="title"><a href="{href}">{text}</a></h2></article>"#
            );
        }
    }
    let mut pagination = pagination(page, pages);
    if hostile && page == 2 {
        cards.push_str(&super::hostile::listing_cards());
        pagination = pagination.replace("</nav>", &format!("{}</nav>", super::hostile::LISTING_AWAY));
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Archive, page {page} | {SHOW_TITLE}</title>{STYLE}{analytics}</head>
<body class="archive">{nav}
<main id="main"><h1>All episodes</h1>
{cards}
{pagination}
</main>{FOOTER}</body></html>
"#,
        analytics = analytics_script(page),
        nav = site_nav(),
    )
}

/// The second archive style, as NPR's archive pages are: each listing page (`/list`,
/// `/list/page/N`) describes its episodes completely, with the player's JSON (the audio URL and
/// NPR's "P15M,31S" duration), a teaser that starts with the date and a New York time
/// ("August 16, 2017 · 9:00 AM ET"), and a link to the episode page. `/numbered?page=N` serves
/// the same pages behind a "load more" button: no link to the next one, and past the last page
/// an empty list.
pub fn list_page(page: u32, episodes: &[ShowEpisode], pages: u32, with_links: bool) -> String {
    let mut items = String::new();
    for episode in episodes {
        let n = episode.number;
        let local = episode.published.with_timezone(&chrono_tz::America::New_York);
        let player = match episode.audio {
            AudioStyle::None => String::new(),
            // As NPR's: the player's file, and its download link with a query of its own.
            _ => format!(
                r#"<div class="player" data-audio='{{"audioUrl":"{audio}","duration":"P{}M,{}S"}}'>Listen · <a class="download" href="{audio}?dl=1">Download</a> · Embed</div>"#,
                episode.duration_secs / 60,
                episode.duration_secs % 60,
                audio = episode.audio_path(),
            ),
        };
        let _ = write!(
            items,
            r#"
<article class="item"><h2 class="title"><a href="/episodes/{n}">{}</a></h2>
<p class="teaser"><span class="date">{} ET</span> {}</p>{player}
<p class="tools"><a href="/episodes/{n}#comments">Comments</a> <a href="/share?ep={n}">Share</a></p></article>"#,
            esc(&episode.title),
            local.format("%B %-d, %Y · %-I:%M %p"),
            teaser(n),
        );
    }
    let mut nav = String::from(r#"<nav class="pagination">"#);
    if page < pages && with_links {
        let _ = write!(nav, r#"<a rel="next" href="/list/page/{}">Older episodes</a>"#, page + 1);
    }
    nav.push_str("</nav>");
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Episodes, page {page} | {SHOW_TITLE}</title>{STYLE}{analytics}</head>
<body class="archive">{site_nav}
<main id="main"><h1>Episodes</h1><div class="archivelist">
{items}
</div>
{nav}
</main>{FOOTER}</body></html>
"#,
        analytics = analytics_script(page),
        site_nav = site_nav(),
    )
}

/// The teaser a listing writes under each episode's title.
pub fn teaser_of(n: u32) -> String {
    teaser(n)
}

/// The home page's link to the show's own feed (`/feed.xml`, the newest episodes only).
pub const FEED_LINK: &str =
    r#"<link rel="alternate" type="application/rss+xml" title="The Long Signal" href="/feed.xml">"#;

/// The show's own RSS feed, as its host publishes it: the newest `OWN_FEED_ITEMS` episodes only.
pub fn own_feed(episodes: &[ShowEpisode]) -> String {
    let mut items = String::new();
    for episode in episodes {
        let _ = write!(
            items,
            r#"<item><title>{}</title><guid isPermaLink="false">ls-{n}</guid><pubDate>{}</pubDate><enclosure url="/media/{n}.mp3" length="{}" type="audio/mpeg"/></item>"#,
            esc(&episode.title),
            episode.published.to_rfc2822(),
            episode.audio_bytes(),
            n = episode.number,
        );
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>{SHOW_TITLE}</title><link>/</link><description>{SHOW_DESCRIPTION}</description><language>en-us</language><itunes:author>{SHOW_AUTHOR}</itunes:author><itunes:image href="/art/cover.png"/><itunes:category text="Business"/>{items}</channel></rss>"#
    )
}

/// The home page, linking the archive at `archive`.
pub fn home_page(latest: u32, archive: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{SHOW_TITLE}</title>{STYLE}{FEED_LINK}</head>
<body>{nav}<main><h1>{SHOW_TITLE}</h1><p>A weekly show about the economy's hidden machinery.</p>
<p><a href="{archive}">All {latest} episodes</a></p></main>{FOOTER}</body></html>"#,
        nav = site_nav()
    )
}

/// One episode's card on an archive page.
fn card(n: u32) -> String {
    format!(
        r#"
<article class="episode-card"><h2 class="title"><a href="/episodes/{n}">{}</a></h2>
<p class="teaser">{}</p><a class="more" href="/episodes/{n}#comments">Comments</a></article>"#,
        esc(&title(n)),
        teaser(n)
    )
}

/// The archive as some sites keep it, oldest first (`/oldest`, `/oldest/page/N`): page 1 holds
/// episodes 1 to 10, and new episodes land on the last page, or on a page after it.
pub fn oldest_first_page(page: u32, latest: u32) -> String {
    let pages = latest.div_ceil(PAGE_SIZE).max(1);
    let first = (page - 1) * PAGE_SIZE + 1;
    let cards: String = (first..=(first + PAGE_SIZE - 1).min(latest)).map(card).collect();
    let path = |p: u32| if p == 1 { "/oldest".to_string() } else { format!("/oldest/page/{p}") };
    let mut nav = String::from(r#"<nav class="pagination" aria-label="Archive pages">"#);
    if page < pages {
        let _ = write!(nav, r#"<a rel="next" href="{}">Newer</a>"#, path(page + 1));
    }
    nav.push_str("</nav>");
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>From the beginning, page {page} | {SHOW_TITLE}</title>{STYLE}</head>
<body class="archive">{nav_bar}
<main id="main"><h1>From the beginning</h1>
{cards}
{nav}
</main>{FOOTER}</body></html>
"#,
        nav_bar = site_nav(),
    )
}

fn pagination(page: u32, pages: u32) -> String {
    let mut nav = String::from(r#"<nav class="pagination" aria-label="Archive pages">"#);
    if page > 1 {
        let _ = write!(nav, r#"<a rel="prev" href="{}">Newer</a>"#, listing_path(page - 1));
    }
    for p in page.saturating_sub(3).max(1)..=(page + 3).min(pages) {
        if p == page {
            let _ = write!(nav, r#"<span aria-current="page">{p}</span>"#);
        } else {
            let _ = write!(nav, r#"<a href="{}">{p}</a>"#, listing_path(p));
        }
    }
    if page < pages {
        let _ = write!(nav, r#"<a rel="next" href="{}">Older</a>"#, listing_path(page + 1));
    }
    nav.push_str("</nav>");
    nav
}

fn listing_path(page: u32) -> String {
    if page == 1 {
        "/archive".to_string()
    } else {
        format!("/archive/page/{page}")
    }
}

fn date_block(episode: &ShowEpisode) -> String {
    let published = episode.published;
    match episode.date_style {
        DateStyle::TimeElement => {
            let local = published.with_timezone(&chrono::FixedOffset::west_opt(4 * 3600).expect("valid offset"));
            format!(
                r#"<div class="dateblock"><time datetime="{}">{}</time></div>"#,
                local.format("%Y-%m-%dT%H:%M:%S%:z"),
                local.format("%B %-d, %Y")
            )
        }
        DateStyle::Written => {
            format!(r#"<p class="byline">Aired <span class="date">{}</span></p>"#, published.format("%B %-d, %Y"))
        }
        DateStyle::ApStyle => {
            format!(r#"<p class="byline">Aired <span class="date">{}</span></p>"#, ap_date(published))
        }
    }
}

/// AP style: "Jan. 5, 2024", "Sept. 9, 2024", "March 5, 2024".
fn ap_date(date: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Datelike;
    const AP: [&str; 12] =
        ["Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec."];
    format!("{} {}, {}", AP[date.month0() as usize], date.day(), date.year())
}

fn audio_block(episode: &ShowEpisode) -> String {
    match episode.audio {
        AudioStyle::PlayerJson => format!(
            r#"<div class="player" data-audio='{{"audioUrl":"{}","durationSeconds":{},"title":"Episode {}"}}'><button type="button">Play</button></div>"#,
            episode.audio_path(),
            episode.duration_secs,
            episode.number
        ),
        AudioStyle::DownloadLink => format!(
            r#"<p class="download-wrap"><a class="download" href="../media/{}.mp3" download>Download MP3</a></p>"#,
            episode.number
        ),
        AudioStyle::None => r#"<p class="note">This is a text-only bonus post.</p>"#.to_string(),
    }
}

/// Who hosts the episode, and its guests.
fn credits(episode: &ShowEpisode) -> String {
    let mut credits = format!(r#"<p class="credits">Hosted by <a class="host" href="/people/host">{HOST}</a>"#);
    for (i, (name, page)) in episode.guests().iter().enumerate() {
        let with = if i == 0 { " with " } else { " and " };
        let _ = match page {
            Some(page) => write!(credits, r#"{with}<a class="guest" href="{page}">{}</a>"#, esc(name)),
            None => write!(credits, r#"{with}<span class="guest">{}</span>"#, esc(name)),
        };
    }
    credits.push_str("</p>");
    credits
}

/// Links to the transcript and chapters files, where the episode has them.
fn extras(episode: &ShowEpisode) -> String {
    let n = episode.number;
    let mut links = String::from(r#"<ul class="extras">"#);
    if episode.has_transcript {
        let _ =
            write!(links, r#"<li><a class="transcript-file" href="/transcripts/{n}.vtt">Transcript (WebVTT)</a></li>"#);
    }
    if episode.has_chapters {
        let _ = write!(links, r#"<li><a class="chapters-file" href="/chapters/{n}.json">Chapters</a></li>"#);
    }
    links.push_str("</ul>");
    links
}

/// A WebVTT transcript file.
pub fn transcript_file(episode: &ShowEpisode) -> String {
    format!("WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nWelcome to {SHOW_TITLE}, episode {}.\n", episode.number)
}

/// A Podcasting 2.0 JSON chapters file.
pub fn chapters_file(episode: &ShowEpisode) -> String {
    let half = episode.duration_secs / 2;
    format!(
        r#"{{"version":"1.2.0","chapters":[{{"startTime":0,"title":"Intro"}},{{"startTime":{half},"title":"Part two"}}]}}"#
    )
}

pub(super) fn teaser(n: u32) -> String {
    sentence(&mut SplitMix(u64::from(n) << 8), 18)
}

fn sentence(rng: &mut SplitMix, words: usize) -> String {
    let mut text = String::new();
    for i in 0..words {
        let word = rng.pick(WORDS);
        if i == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                text.extend(first.to_uppercase());
                text.push_str(chars.as_str());
            }
        } else {
            text.push(' ');
            text.push_str(word);
        }
    }
    text.push('.');
    text
}

/// A few KB of show notes: paragraphs, relative links, and the kind of embedded script and
/// inline handler a sanitizer must remove.
pub(super) fn show_notes(n: u32) -> String {
    let mut rng = SplitMix(u64::from(n) * 7919);
    let mut notes = String::with_capacity(4_000);
    for p in 0..4 {
        notes.push_str("<p>");
        notes.push_str(&paragraph(&mut rng, 5));
        let _ = write!(
            notes,
            r#" See also <a href="/episodes/{}">an earlier episode</a>.</p>"#,
            n.saturating_sub(p + 1).max(1)
        );
        notes.push('\n');
    }
    notes.push_str(r#"<p onclick="track('notes')">Music by <a href="https://music.example.org/artist" onmouseover="x()">The Example Band</a>.</p>"#);
    notes.push_str("<script>window.notesLoaded = true;</script>\n");
    notes
}

/// About 45 KB of transcript: the bulk of a real episode page, not part of the feed.
pub(super) fn transcript(n: u32) -> String {
    let mut rng = SplitMix(u64::from(n) * 104_729);
    let mut text = String::with_capacity(52_000);
    for p in 0..64 {
        let speaker = if p % 2 == 0 { "HOST" } else { "GUEST" };
        let _ = writeln!(text, "<p><b>{speaker}:</b> {}</p>", paragraph(&mut rng, 6));
    }
    text
}

fn paragraph(rng: &mut SplitMix, sentences: usize) -> String {
    (0..sentences).map(|_| sentence(rng, 14)).collect::<Vec<_>>().join(" ")
}

fn related(n: u32, latest: u32) -> String {
    let mut html = String::from(r#"<aside class="related"><h2>More episodes</h2><ul>"#);
    let mut rng = SplitMix(u64::from(n) ^ 0xABCD);
    for _ in 0..24 {
        let other = (rng.next_u64() % u64::from(latest.max(1))) as u32 + 1;
        let _ = write!(html, r#"<li><a href="/episodes/{other}">{}</a></li>"#, esc(&title(other)));
    }
    html.push_str("</ul></aside>");
    html
}

/// The site-wide header: menus and an archive by month, as real sites have.
pub(super) fn site_nav() -> String {
    let mut nav = String::with_capacity(24_000);
    nav.push_str(r#"<header class="site"><a class="logo" href="/">The Long Signal</a><nav class="menu"><ul>"#);
    for section in
        ["News", "Culture", "Music", "Podcasts", "Business", "Science", "Politics", "Health", "Books", "Tech"]
    {
        let _ = write!(nav, r#"<li><a href="/sections/{}">{section}</a><ul>"#, section.to_lowercase());
        for sub in 1..=4 {
            let _ = write!(nav, r#"<li><a href="/sections/{}/{sub}">{section} {sub}</a></li>"#, section.to_lowercase());
        }
        nav.push_str("</ul></li>");
    }
    nav.push_str(r#"</ul></nav><nav class="by-month"><h2>Archive by month</h2><ul>"#);
    for year in 2016..=2025 {
        for month in 1..=12 {
            let _ = write!(
                nav,
                r#"<li><a href="/archive/{year}/{month:02}" title="Episodes from {year}-{month:02}">{year}-{month:02}</a></li>"#
            );
        }
    }
    nav.push_str("</ul></nav></header>");
    nav
}

pub(super) fn analytics_script(seed: u32) -> String {
    let mut rng = SplitMix(u64::from(seed) ^ 0x5EED);
    let mut config = String::with_capacity(9_000);
    for i in 0..160 {
        let _ = write!(config, r#""k{i}":"{:016x}","#, rng.next_u64());
    }
    format!(
        "<script>window.siteConfig = {{{config}\"v\":1}};\n(function(){{var q=[];window.track=function(e){{q.push(e)}};}})();</script>"
    )
}

pub use super::markup::esc;

pub(super) const STYLE: &str = r#"<style>
body{font-family:Georgia,serif;margin:0;color:#222;background:#fff}header.site{background:#123;color:#fff;padding:1rem}
header.site a{color:#fff}nav.menu ul{list-style:none;display:flex;flex-wrap:wrap;gap:1rem;padding:0}nav.by-month ul{columns:8;font-size:.7rem}
main{max-width:46rem;margin:2rem auto;padding:0 1rem}.kicker{text-transform:uppercase;color:#a33;letter-spacing:.1em}
.player button{font-size:1.2rem;padding:.5rem 1rem}#storytext p{line-height:1.6}aside.related ul{columns:2}
.pagination a,.pagination span{margin-right:.5rem}footer{background:#eee;padding:2rem;font-size:.8rem}
</style>"#;

pub(super) const FOOTER: &str = r#"<footer><p>&copy; The Long Signal, a fictional show made for podfeed's demo.</p>
<ul><li><a href="/about">About</a></li><li><a href="/privacy">Privacy</a></li><li><a href="/terms">Terms of use</a></li>
<li><a href="/contact">Contact</a></li><li><a href="/jobs">Jobs</a></li></ul></footer>"#;
