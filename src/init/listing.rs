//! Where a site lists its episodes, and how the list goes on: from the address given (the home
//! page, an archive page or one episode page), the listing page whose repeated elements carry
//! episodes with their audio, or whose similar links lead to episode pages; then the link to
//! the next (older) listing page, numbered pages, or archives by month or year.

use std::collections::{HashSet, VecDeque};

use scraper::Html;
use url::Url;

use super::fetcher::Fetcher;
use super::{analyse, archive, evidence, site, InitError, Reach};
use crate::model::Page;

/// Listing pages looked at, at most, before init gives up.
const MAX_LISTINGS: usize = 5;
/// Links of the likeliest group fetched to see whether they lead to episode pages; fewer for
/// the others. A blog's newest posts may not be episodes.
const PROBES: [usize; 4] = [5, 3, 3, 3];

/// What a listing page was found to hold.
pub(super) enum Found {
    /// Links, by this selector, to episode pages.
    Links(String, Vec<Url>),
    /// Elements, by this selector (this many), that each describe an episode with its audio.
    Items(String, usize),
    /// No listing: the page given is an episode page, and the only one read, by the address it
    /// gives itself (this selector), if any.
    Lone(Option<String>),
}

/// Whether a page is one episode's: it carries audio, and one file (perhaps in two formats), or
/// beside the players of a box of related episodes one of its own; not only the players of
/// several episodes, as a tag's or a category's page.
pub(super) fn is_episode_page(doc: &Html, base: &Url) -> bool {
    if !evidence::has_audio(doc) {
        return false;
    }
    archive::audio_files(doc, base) <= 1
        || archive::audio_items(doc, base).is_some_and(|(items, _)| archive::audio_outside(doc, base, &items))
}

/// Where the episodes are listed: the page given, else the archive it links, else the home
/// page, else the archive that links; a few pages at most. The home page and pages with audio
/// of their own (an episode page, a home page's player) are read for their links only after
/// the archive they name ("All episodes", a category, a breadcrumb).
pub(super) async fn find(pages: &mut Fetcher<'_>, start: &Url) -> Result<(Page, Found), InitError> {
    let root = start.join("/").map_err(|error| InitError::BadUrl { url: start.to_string(), error })?;
    let mut queue = VecDeque::from([start.clone(), root.clone()]);
    let (mut tried, mut deferred) = (HashSet::new(), HashSet::new());
    // Pages with audio of their own, read when the others gave nothing: the home page first.
    let mut with_audio: Vec<Url> = Vec::new();
    let mut revisited = HashSet::new();
    loop {
        let listing = match queue.pop_front() {
            Some(listing) => listing,
            None if with_audio.is_empty() => break,
            None => with_audio.remove(with_audio.iter().position(|url| *url == root).unwrap_or(0)),
        };
        if tried.contains(&listing) || tried.len() == MAX_LISTINGS {
            continue;
        }
        let page = match pages.get(&listing).await {
            Ok(page) => page,
            // A guessed page that fails is one guess less; the address given must answer.
            Err(e) if listing == *start => return Err(e),
            Err(e) => {
                tracing::info!("{e}");
                tried.insert(listing);
                continue;
            }
        };
        let items = analyse(&page, archive::audio_items).await;
        let own_audio = match items.clone() {
            Some((css, _)) => analyse(&page, move |doc, base| archive::audio_outside(doc, base, &css)).await,
            None => analyse(&page, |doc, _| evidence::has_audio(doc)).await,
        };
        tracing::debug!("init: {listing}: items with audio {items:?}, audio of its own {own_audio}");
        // A page with audio of its own is an episode page (whose "related episodes" are no
        // archive) or a home page with a player: read after the others, and then only for its
        // links (items beside a player of its own are a related box).
        if own_audio && revisited.insert(listing.clone()) {
            // The episode page given: the archive it names (its category, its breadcrumb) before
            // the site's home page, which may be a whole network's.
            if listing == *start {
                let archives = analyse(&page, site::archive_links).await;
                for archive in archives.into_iter().rev().filter(|url| !tried.contains(url)) {
                    queue.push_front(archive);
                }
            }
            with_audio.push(listing);
            continue;
        }
        // Here a page with a player of its own is on its second look: its items count then (a
        // home page's player above them), after every other page (a related box); but beside
        // the episode page given, they are its related box.
        let given_episode = own_audio && listing == *start && listing != root;
        if let Some((css, count)) = items.filter(|_| !given_episode) {
            return Ok((page, Found::Items(css, count)));
        }
        // The listing page the user gave is read first; any other page that names its archive
        // is read after the archive.
        let chosen = listing == *start && listing != root && !own_audio;
        let archives: Vec<Url> =
            analyse(&page, site::archive_links).await.into_iter().filter(|url| !tried.contains(url)).collect();
        if !chosen && !archives.is_empty() && deferred.insert(listing.clone()) {
            tracing::debug!("init: {listing}: its archive first: {archives:?}");
            queue.push_front(listing);
            for archive in archives.into_iter().rev() {
                queue.push_front(archive);
            }
            continue;
        }
        tried.insert(listing.clone());
        if let Some((css, links)) = episode_links(pages, &page).await {
            return Ok((page, Found::Links(css, links)));
        }
    }
    Err(InitError::NoEpisodeLinks { fetched: pages.fetched() })
}

/// The page given, as the one episode a recipe reads, when it has audio and init found no
/// archive for it; and how the recipe's crawl reaches it: by the address the page gives itself
/// (its canonical link, its `og:url`), if it gives one.
pub(super) async fn lone(pages: &mut Fetcher<'_>, start: &Url) -> Option<(Page, Option<String>)> {
    let page = pages.get(start).await.ok()?;
    let (audio, own) = analyse(&page, |doc, _| {
        let own = ["link[rel=canonical][href]", "meta[property='og:url'][content]"]
            .into_iter()
            .find(|css| doc.select(&super::dom::selector(css)).next().is_some())
            .map(|css| css.to_string());
        (evidence::has_audio(doc), own)
    })
    .await;
    audio.then_some((page, own))
}

/// The group of similar links on a listing page that lead to episode pages, and its links. The
/// likeliest groups are tried first, each by its first and last links, then the others in
/// order, until two lead to episode pages. A group where one does (a blog whose newest posts
/// are mostly not episodes) is taken when none does better.
async fn episode_links(pages: &mut Fetcher<'_>, page: &Page) -> Option<(String, Vec<Url>)> {
    let groups = analyse(page, archive::link_groups).await;
    let mut one: Option<(String, Vec<Url>)> = None;
    for (group, probes) in groups.into_iter().zip(PROBES) {
        let archive::LinkGroup { css, urls: links, titled } = group;
        let mut order: Vec<&Url> = Vec::new();
        for url in [links.first(), links.last()].into_iter().flatten().chain(links.iter().skip(1)) {
            if !order.contains(&url) {
                order.push(url);
            }
        }
        let (mut episodes, mut other) = (0, 0);
        for url in order.into_iter().take(probes) {
            let Ok(sample) = pages.get(url).await else {
                other += 1;
                continue;
            };
            match analyse(&sample, is_episode_page).await {
                true => episodes += 1,
                false => other += 1,
            }
            if episodes == 2 {
                break;
            }
        }
        tracing::debug!("init: {} links like {css}: {episodes} episode pages, {other} others", links.len());
        match episodes {
            2.. => return Some((css, links)),
            1 if titled && one.is_none() => one = Some((css, links)),
            _ => {}
        }
    }
    one
}

/// How the archive goes on past `page` by its own links: a link to the next pages (a few
/// tried for a list of dated archives, which may lack one), or numbered pages. The next page
/// is read to be sure it lists more, the same way; it is returned too.
pub(super) async fn next(pages: &mut Fetcher<'_>, page: &Page, found: &Found) -> Option<(Reach, Page)> {
    for (css, tries) in analyse(page, archive::next_pages).await.into_iter().take(4) {
        for url in tries {
            if let Some(next) = continues(pages, page, &url, found).await {
                return Some((Reach::Follow(css), next));
            }
        }
    }
    let (template, second) = Url::parse(&page.url).ok().as_ref().and_then(site::numbered)?;
    let next = continues(pages, page, &second, found).await?;
    Some((Reach::Numbered(template), next))
}

/// `next`, if it lists episodes `page` does not, the same way.
async fn continues(pages: &mut Fetcher<'_>, page: &Page, next: &Url, found: &Found) -> Option<Page> {
    let next = pages.get(next).await.ok()?;
    if next.html == page.html {
        return None;
    }
    let more = match found {
        Found::Links(css, links) => {
            let groups = analyse(&next, archive::link_groups).await;
            groups.iter().any(|group| group.css == *css && group.urls.iter().any(|url| !links.contains(url)))
        }
        Found::Items(css, _) => {
            let css = css.clone();
            analyse(&next, move |doc, base| archive::items_with_audio(doc, base, &css)).await > 0
        }
        Found::Lone(_) => false,
    };
    more.then_some(next)
}

/// The links of the group `css` on a further listing page.
pub(super) async fn links_on(page: &Page, css: &str) -> Vec<Url> {
    let css = css.to_string();
    let groups = analyse(page, archive::link_groups).await;
    groups.into_iter().find(|group| group.css == css).map(|group| group.urls).unwrap_or_default()
}
