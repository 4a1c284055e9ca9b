//! The demo show as a WordPress site with the PowerPress plugin serves it (`--theme wordpress`),
//! with what real WordPress shows did to `podfeed init`: the site's name as an `h1` logo above
//! the post's own `h1` (which audio posts, one in ten, lack); `og:title` with " - The Long
//! Signal" after the title, and on some pages a social plugin's second `og:title` before it,
//! reworded; the date written out only ("January 5,
//! 2026"); the player's file with WordPress's `?_=1` beside PowerPress's clean download link;
//! excerpts without players on the category's pages, which go on by "« Older Entries"
//! (`/category/podcast/page/N/`); whole posts with their players but no date on the front page
//! (`/page/N/`); month archives in the sidebar; no JSON-LD.
//!
//! Episode pages are at `/episodes/N/`; the category at `/category/podcast/`; months at
//! `/YYYY/MM/`.

use std::fmt::Write;

use chrono::Datelike;

use super::pages::{analytics_script, esc, show_notes, teaser, transcript, FEED_LINK, FOOTER, STYLE};
use super::show::{ShowEpisode, HOST, SHOW_TITLE};

/// Posts on one of the category's pages.
pub const POSTS_PER_PAGE: u32 = 10;

/// An episode's page: the post, its player and links, the sidebar.
pub fn episode_page(episode: &ShowEpisode, months: &[(i32, u32)], dated: bool) -> String {
    let n = episode.number;
    let title = esc(&episode.title);
    let mut html = String::with_capacity(90_000);
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8">
<title>{title} - {SHOW_TITLE}</title>
{social}<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="canonical" href="/episodes/{n}/">
<link rel="shortlink" href="/?p={n}">
{STYLE}{head}
</head>
<body class="post-template-default single single-post postid-{n} single-format-standard">
<div id="page" class="site">
{masthead}
<meta property="og:title" content="{title} - {SHOW_TITLE}" /><meta property="og:type" content="article" />
<div id="content" class="site-content"><main id="main" class="site-main">
<nav class="breadcrumbs"><a href="/">Home</a> » <a href="/category/podcast/">Podcast</a> » {title}</nav>
<article id="post-{n}" class="post-{n} post type-post status-publish format-standard hentry category-podcast">
<header class="entry-header">{heading}
<div class="entry-meta">{date}<span class="byline"> by <span class="author vcard"><a class="url fn n" href="/author/ada/">{HOST}</a></span></span></div>
</header>
<div class="entry-content">
{player}
{notes}
<h2>Transcript</h2>
{transcript}
</div>
<footer class="entry-footer"><span class="cat-links">Posted in <a href="/category/podcast/" rel="category tag">Podcast</a></span></footer>
</article>
</main>
{sidebar}
</div>
{FOOTER}
</div></body></html>
"#,
        social = social_title(episode),
        heading = heading(episode),
        head = wp_head(n),
        masthead = masthead(),
        date = if dated { posted_on(episode) } else { String::new() },
        player = player(episode),
        notes = show_notes(n),
        transcript = transcript(n),
        sidebar = sidebar(n, months),
    );
    html
}

/// What a WordPress theme and its plugins write into every page's head, most of a page's bytes:
/// the block library's and the theme's styles, the emoji loader, a plugin's settings.
pub(super) fn wp_head(seed: u32) -> String {
    const BLOCKS: [&str; 12] = [
        "paragraph",
        "heading",
        "image",
        "gallery",
        "quote",
        "audio",
        "embed",
        "group",
        "columns",
        "button",
        "list",
        "cover",
    ];
    let mut head = String::with_capacity(40_000);
    head.push_str("<style id=\"wp-block-library-inline-css\">");
    for (i, block) in BLOCKS.iter().cycle().take(360).enumerate() {
        let _ = writeln!(
            head,
            ".wp-block-{block}.is-style-{i}{{margin:0 0 {}em;padding:{}px {}px;border-radius:{}px}}",
            i % 4,
            i % 17,
            i % 23,
            i % 7
        );
    }
    head.push_str("</style>\n<script>window._wpemojiSettings = {\"baseUrl\":\"https:\\/\\/s.w.org\\/images\\/core\\/emoji\\/14.0.0\\/72x72\\/\",\"ext\":\".png\",\"source\":{\"concatemoji\":\"\\/wp-includes\\/js\\/wp-emoji-release.min.js?ver=6.4.2\"}};\n");
    head.push_str("/*! This file is auto-generated */\n!function(i,n){var o,s,e;function c(e){try{var t={supportTests:e,timestamp:(new Date).valueOf()};sessionStorage.setItem(o,JSON.stringify(t))}catch(e){}}}(window,document);</script>\n");
    head.push_str(&analytics_script(seed));
    head
}

/// The post's heading; an "audio" post (one in ten) has none, as some themes' audio format: its
/// title is only in `og:title` and `<title>`, after the site's name.
fn heading(episode: &ShowEpisode) -> String {
    match audio_post(episode) {
        true => String::new(),
        false => format!(r#"<h1 class="entry-title">{}</h1>"#, esc(&episode.title)),
    }
}

fn audio_post(episode: &ShowEpisode) -> bool {
    episode.number % 10 == 4
}

/// A social plugin's `og:title`, written before the theme's: on every third page, its own words.
fn social_title(episode: &ShowEpisode) -> String {
    if episode.number % 3 != 0 {
        return String::new();
    }
    let teaser = teaser(episode.number);
    let words: Vec<&str> = teaser.split(' ').take(6).collect();
    format!("<meta property=\"og:title\" content=\"Now playing: {}\" />\n", esc(&words.join(" ")))
}

/// The site's name as the theme's first `h1`, a link home.
fn masthead() -> String {
    format!(
        r#"<header id="masthead" class="site-header"><div class="site-branding"><h1 class="site-title"><a href="/" rel="home">{SHOW_TITLE}</a></h1>
<p class="site-description">A weekly show about the economy's hidden machinery</p></div>
<nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu"><li class="menu-item"><a href="/">Home</a></li>
<li class="menu-item"><a href="/category/podcast/">Podcast</a></li><li class="menu-item"><a href="/about/">About</a></li>
<li class="menu-item"><a href="/contact/">Contact</a></li></ul></nav></header>"#
    )
}

/// "Posted on January 5, 2026": the only date the page has.
fn posted_on(episode: &ShowEpisode) -> String {
    format!(
        r#"<span class="posted-on">Posted on <a href="/episodes/{}/" rel="bookmark">{}</a></span>"#,
        episode.number,
        episode.published.format("%B %-d, %Y")
    )
}

/// PowerPress's player (WordPress's audio shortcode, `?_=1` on its file), its links, and the
/// duration it prints; or, on one post in six, the player alone.
fn player(episode: &ShowEpisode) -> String {
    if !episode.has_audio() {
        return r#"<p class="note">No episode this week: a note from the team.</p>"#.to_string();
    }
    let (n, audio) = (episode.number, episode.audio_path());
    let seconds = episode.duration_secs;
    let player = format!(
        r#"<div class="powerpress_player" id="powerpress_player_{n}"><audio class="wp-audio-shortcode" id="audio-{n}-1" preload="none" style="width: 100%;" controls="controls"><source type="audio/mpeg" src="{audio}?_=1" /><a href="{audio}">{audio}</a></audio></div>"#
    );
    if shown_duration(episode).is_none() {
        return player;
    }
    format!(
        r#"{player}
<p class="powerpress_links powerpress_links_mp3">Podcast: <a href="{audio}" class="powerpress_link_pinw" target="_blank" title="Play in new window" rel="nofollow">Play in new window</a> | <a href="{audio}" class="powerpress_link_d" title="Download" rel="nofollow" download="{n}.mp3">Download</a> (Duration: <span class="powerpress_duration">{}:{:02}:{:02}</span>)</p>
<p class="powerpress_links powerpress_subscribe_links">Subscribe: <a href="/feed/podcast/" class="powerpress_link_subscribe">RSS</a></p>"#,
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// The duration a post prints: none on one post in six, which shows the player alone, without
/// PowerPress's links.
pub fn shown_duration(episode: &ShowEpisode) -> Option<u64> {
    (episode.number % 6 != 1).then_some(episode.duration_secs)
}

/// The sidebar: recent posts, and an archive by month.
fn sidebar(n: u32, months: &[(i32, u32)]) -> String {
    let mut html = String::from(
        r#"<aside id="secondary" class="widget-area"><section id="recent-posts-2" class="widget widget_recent_entries"><h2 class="widget-title">Recent Posts</h2><ul>"#,
    );
    for other in (n.saturating_sub(5)..n).rev().filter(|o| *o > 0) {
        let _ = write!(html, r#"<li><a href="/episodes/{other}/">{}</a></li>"#, esc(&super::show::title(other)));
    }
    html.push_str(
        r#"</ul></section><section id="archives-2" class="widget widget_archive"><h2 class="widget-title">Archives</h2><ul>"#,
    );
    for (year, month) in months {
        let name = chrono::NaiveDate::from_ymd_opt(*year, *month, 1).map(|d| d.format("%B %Y").to_string());
        let _ = write!(html, r#"<li><a href="/{year}/{month:02}/">{}</a></li>"#, name.unwrap_or_default());
    }
    html.push_str("</ul></section></aside>");
    html
}

/// How a page of posts shows each: an excerpt under its date, as the category's and a month's
/// pages do (WordPress's excerpts carry no player), or the whole post with its player and no
/// date, as this theme's front page does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posts {
    Excerpts,
    Whole,
}

/// A page of posts, newest first: the front page's, the category's or a month's.
pub fn posts_page(
    heading: &str,
    posts: &[ShowEpisode],
    shown: Posts,
    older: Option<String>,
    months: &[(i32, u32)],
) -> String {
    let mut articles = String::new();
    for episode in posts {
        let n = episode.number;
        let (meta, body) = match shown {
            Posts::Excerpts => {
                (posted_on(episode), format!(r#"<div class="entry-summary"><p>{} […]</p></div>"#, teaser(n)))
            }
            Posts::Whole => {
                (String::new(), format!(r#"<div class="entry-content"><p>{}</p>{}</div>"#, teaser(n), player(episode)))
            }
        };
        let _ = write!(
            articles,
            r#"
<article id="post-{n}" class="post-{n} post type-post status-publish format-standard hentry category-podcast">
<header class="entry-header"><h2 class="entry-title"><a href="/episodes/{n}/" rel="bookmark">{}</a></h2>
<div class="entry-meta">{meta}</div></header>
{body}
<footer class="entry-footer"><a class="more-link" href="/episodes/{n}/">Continue reading<span class="screen-reader-text"> {}</span></a></footer>
</article>"#,
            esc(&episode.title),
            esc(&episode.title),
        );
    }
    let older = older
        .map(|href| format!(r#"<div class="nav-previous alignleft"><a href="{href}">&laquo; Older Entries</a></div>"#))
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8"><title>{heading} - {SHOW_TITLE}</title>{FEED_LINK}
<meta property="og:site_name" content="{SHOW_TITLE}" />{STYLE}{head}</head>
<body class="archive category"><div id="page" class="site">{masthead}
<div id="content" class="site-content"><main id="main" class="site-main">
<header class="page-header"><h1 class="page-title">{heading}</h1></header>
{articles}
<nav class="navigation posts-navigation">{older}</nav>
</main>{sidebar}</div>{FOOTER}</div></body></html>
"#,
        head = wp_head(posts.first().map_or(0, |e| e.number)),
        masthead = masthead(),
        sidebar = sidebar(0, months),
    )
}

/// The category's page `page`, or `None` past the last.
pub fn category_page(page: u32, episodes: &[ShowEpisode], months: &[(i32, u32)]) -> Option<String> {
    let (posts, older) = page_of(page, episodes, "/category/podcast/page")?;
    let heading = if page == 1 { "Category: Podcast".to_string() } else { format!("Category: Podcast, page {page}") };
    Some(posts_page(&heading, posts, Posts::Excerpts, older, months))
}

/// The front page's page `page` (`/`, `/page/N/`): whole posts, players and all, but no date.
pub fn front_page(page: u32, episodes: &[ShowEpisode], months: &[(i32, u32)]) -> Option<String> {
    let (posts, older) = page_of(page, episodes, "/page")?;
    Some(posts_page("Latest episodes", posts, Posts::Whole, older, months))
}

/// The posts of page `page` of a list, and the address of the next (older) one, under `path`.
fn page_of<'a>(page: u32, episodes: &'a [ShowEpisode], path: &str) -> Option<(&'a [ShowEpisode], Option<String>)> {
    let pages = (episodes.len() as u32).div_ceil(POSTS_PER_PAGE).max(1);
    if page == 0 || page > pages {
        return None;
    }
    let start = ((page - 1) * POSTS_PER_PAGE) as usize;
    let posts = &episodes[start..(start + POSTS_PER_PAGE as usize).min(episodes.len())];
    Some((posts, (page < pages).then(|| format!("{path}/{}/", page + 1))))
}

/// The months that have posts, newest first: the sidebar's archive.
pub fn months_of(episodes: &[ShowEpisode]) -> Vec<(i32, u32)> {
    let mut months: Vec<(i32, u32)> = Vec::new();
    for episode in episodes {
        let month = (episode.published.year(), episode.published.month());
        if months.last() != Some(&month) {
            months.push(month);
        }
    }
    months
}

/// A month's page: its posts, no pagination (a weekly show posts a few a month).
pub fn month_page(year: i32, month: u32, episodes: &[ShowEpisode], months: &[(i32, u32)]) -> Option<String> {
    let posts: Vec<ShowEpisode> =
        episodes.iter().filter(|e| (e.published.year(), e.published.month()) == (year, month)).cloned().collect();
    let name = chrono::NaiveDate::from_ymd_opt(year, month, 1)?.format("%B %Y");
    (!posts.is_empty()).then(|| posts_page(&format!("Month: {name}"), &posts, Posts::Excerpts, None, months))
}
