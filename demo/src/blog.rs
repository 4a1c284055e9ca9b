//! The demo show as an older blog serves it (`--theme blog`), a Portuguese one: the post's
//! title only in a plain `h2` under the blog's `h1`, one generic `<title>` for every page, no
//! meta tags; the date written in Portuguese under the title ("5 de janeiro de 2026"); the
//! audio only in the script that configures its player (APlayer), whose duration is 0 when the
//! blog did not know it. The front page lists whole posts and goes on by "« Older Entries"
//! (`/page/N/`). Episode pages are at `/episodes/N/`.

use std::fmt::Write;

use chrono::Datelike;

use super::pages::{esc, show_notes, teaser, FOOTER, STYLE};
use super::show::{ShowEpisode, HOST, SHOW_TITLE};

/// Posts on one page of the front page.
pub const POSTS_PER_PAGE: u32 = 5;

/// The `<title>` of every page.
const TITLE: &str = "The Long Signal | podcast sobre economia";

const MONTHS: [&str; 12] = [
    "janeiro",
    "fevereiro",
    "março",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
];

/// An episode's page.
pub fn episode_page(episode: &ShowEpisode) -> String {
    let mut html = String::with_capacity(80_000);
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="pt-BR"><head><meta charset="utf-8"><title>{TITLE}</title>{STYLE}{head}</head>
<body>{header}
<div id="content"><div class="post" id="post-{n}">
{post}
<div class="notes">{notes}</div>
</div>
{comments}<h3 id="respond">Deixe um comentário</h3><form class="comment-form"><textarea name="comment"></textarea></form>
</div>{FOOTER}</body></html>
"#,
        n = episode.number,
        head = super::wordpress::wp_head(episode.number),
        header = header(),
        post = post(episode, false),
        notes = show_notes(episode.number),
        comments = comments(episode.number),
    );
    html
}

/// The readers' comments under a post.
fn comments(n: u32) -> String {
    let mut html = String::from(r#"<h3 id="comments">Comentários</h3><ol class="commentlist">"#);
    for i in 0..40 {
        let _ = write!(
            html,
            r#"<li class="comment" id="comment-{n}{i}"><cite>Ouvinte {i}</cite> disse:<p>{}</p></li>"#,
            teaser(n * 31 + i)
        );
    }
    html.push_str("</ol>");
    html
}

/// The front page's page `page` (whole posts, players included), or `None` past the last.
pub fn front_page(page: u32, episodes: &[ShowEpisode]) -> Option<String> {
    let pages = (episodes.len() as u32).div_ceil(POSTS_PER_PAGE).max(1);
    if page == 0 || page > pages {
        return None;
    }
    let start = ((page - 1) * POSTS_PER_PAGE) as usize;
    let mut posts = String::new();
    for episode in &episodes[start..(start + POSTS_PER_PAGE as usize).min(episodes.len())] {
        let _ = write!(posts, r#"<div class="post" id="post-{}">{}</div>"#, episode.number, post(episode, true));
    }
    let older = if page < pages {
        format!(r#"<div class="alignleft"><a href="/page/{}/">&laquo; Older Entries</a></div>"#, page + 1)
    } else {
        String::new()
    };
    Some(format!(
        r#"<!DOCTYPE html>
<html lang="pt-BR"><head><meta charset="utf-8"><title>{TITLE}</title>{STYLE}{head}</head>
<body>{header}<div id="content">{posts}<div class="navigation">{older}</div></div>{FOOTER}</body></html>
"#,
        head = super::wordpress::wp_head(page),
        header = header(),
    ))
}

fn header() -> String {
    format!(
        r#"<div id="header"><h1><a href="/">{SHOW_TITLE}</a></h1><div class="description">Um podcast sobre a economia</div></div>"#
    )
}

/// A post: its title (a link on the front page), its date in Portuguese, its teaser and its
/// player, configured in a script.
fn post(episode: &ShowEpisode, linked: bool) -> String {
    let n = episode.number;
    let title = esc(&episode.title);
    let heading =
        if linked { format!(r#"<a href="/episodes/{n}/" rel="bookmark">{title}</a>"#) } else { title.clone() };
    let date = episode.published;
    let written = format!("{} de {} de {}", date.day(), MONTHS[date.month0() as usize], date.year());
    format!(
        r#"<h2>{heading}</h2>
<small>{written} por {HOST}</small>
<div class="entry"><p>{}</p>{}</div>
<p class="postmetadata">Publicado em <a href="/category/podcast/" rel="category tag">Podcast</a> | <a href="/episodes/{n}/#respond">Sem comentários »</a></p>"#,
        teaser(n),
        player(episode),
    )
}

/// APlayer, configured by a script: the only place the audio is named. A quarter of the posts
/// say a duration of 0, as players do when they do not know it.
fn player(episode: &ShowEpisode) -> String {
    if !episode.has_audio() {
        return String::new();
    }
    let n = episode.number;
    format!(
        r#"<div id="aplayer-{n}" class="aplayer"></div>
<script>new APlayer({{ container: document.getElementById('aplayer-{n}'), audio: [{{ name: 'Episódio {n}', artist: '{HOST}', url: '{}', cover: '/art/cover.png', duration: {} }}] }});</script>"#,
        episode.audio_path(),
        blog_duration(episode),
    )
}

/// The duration the player's settings say: 0 (unknown) on every fourth episode.
pub fn blog_duration(episode: &ShowEpisode) -> u64 {
    if episode.number % 4 == 0 {
        0
    } else {
        episode.duration_secs
    }
}
