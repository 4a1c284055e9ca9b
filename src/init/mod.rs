//! `podfeed init`: a recipe from what a site declares. From the address given (the home page,
//! an archive page or one episode page) it finds a listing page whose repeated elements carry
//! episodes with their audio (a `[listing]` recipe) or whose similar links lead to pages with
//! audio, how the archive goes on past that page, and for each field the rules that work on
//! every sample, trying the site's JSON-LD first, then OpenGraph and meta tags, then its
//! visible elements. At most [`MAX_PAGES`] requests are made, with the client, robots.txt and
//! limits of `build`.

mod archive;
mod choose;
mod dom;
mod evidence;
mod scripts;
mod site;
mod write;

use std::collections::{HashMap, HashSet, VecDeque};

use futures::stream::{self, StreamExt};
use scraper::Html;
use url::Url;

use crate::extract;
use crate::fetch::{Client, FetchError, Fetched, RequestKind};
use crate::model::{Episode, Page};
use crate::recipe::Recipe;

pub use choose::FieldChoice;
pub use evidence::Candidate;
pub use site::{Channel, SiteFeed};
pub use write::recipe_text;

/// Requests init makes at most (robots.txt, redirects and retries included).
pub const MAX_PAGES: usize = 30;
/// Episode pages sampled to choose the rules: a listing page's worth, so that the few pages
/// built otherwise (an older player, a date written out) are among them.
const SAMPLES: usize = 20;
/// Requests kept back from sampling for what comes after: the next listing page, the site's
/// feed, a sitemap.
const RESERVED: usize = 6;

/// Why init could not write a recipe.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{url}: {reason}")]
    Fetch { url: String, reason: FetchError },
    #[error("{0}")]
    NotFound(String),
}

/// How a listing page gives its episodes.
#[derive(Debug, Clone)]
pub enum Episodes {
    /// Links (this selector, this many on the page) to episode pages, which the rules read.
    Links { css: String, count: usize },
    /// Elements that each describe an episode with its audio: a `[listing]` recipe, which needs
    /// no episode page.
    Items { css: String, count: usize },
}

/// How the archive goes on past the first listing page.
#[derive(Debug, Clone)]
pub enum Reach {
    /// A link to the next listing page, by this selector; the next page was read to be sure.
    Follow(String),
    /// Pages by number, with `{n}` where the number goes.
    Numbered(String),
    /// A sitemap, and the pattern of its episode pages (this many of them); `alone` when the
    /// listing's links redirect to the addresses the sitemap lists (read both, and each of
    /// those episodes would come twice, as a duplicate).
    Sitemap { url: Url, pattern: String, pages: usize, alone: bool },
    /// Nothing found: only the first listing page is read.
    FirstPageOnly,
}

/// What init found: enough to write a recipe and to say how it was found.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// The address init was given.
    pub asked: Url,
    pub listing: Url,
    pub episodes: Episodes,
    pub reach: Reach,
    pub channel: Channel,
    pub fields: Vec<FieldChoice>,
    /// The episodes sampled: their pages, or (for listing items) their links.
    pub sampled: Vec<Url>,
    /// A page to check the recipe on: the first episode page sampled, or the listing page.
    pub example: Option<Page>,
    pub site_feed: Option<SiteFeed>,
    /// The time zone the site's dates name ("9:00 AM ET").
    pub timezone: Option<chrono_tz::Tz>,
    pub pages_fetched: usize,
}

/// Finds a recipe for the site at `start`.
pub async fn discover(client: &Client, start: &Url) -> Result<Proposal, InitError> {
    let mut pages = Fetcher { client, host: start.host_str().unwrap_or_default().to_string(), cache: HashMap::new() };
    let (page, found) = find_listing(&mut pages, start).await?;
    let listing = Url::parse(&page.url).map_err(|e| InitError::NotFound(format!("{}: {e}", page.url)))?;
    let (fields, sampled, example, timezone) = match &found {
        Found::Links(_, links) => {
            let samples = pages.samples(links).await;
            let timezone = analyse_all(&samples, |doc, _| evidence::date_zone(doc)).await.into_iter().flatten().next();
            let fields = choose::page_rules(&samples, &listing).await;
            // Where the pages are, after redirects: the addresses a sitemap would list.
            let sampled =
                samples.iter().filter_map(|p| Url::parse(&p.final_url).or_else(|_| Url::parse(&p.url)).ok()).collect();
            (fields, sampled, samples.first().cloned(), timezone)
        }
        Found::Items(css, _) => {
            let timezone = analyse(&page, |doc, _| evidence::date_zone(doc)).await;
            let (fields, links) = choose::item_rules(&page, css).await;
            (fields, links, Some(page.clone()), timezone)
        }
    };
    let reach = pages.reach(&page, &found, &sampled).await;
    let root = listing.join("/").unwrap_or_else(|_| listing.clone());
    let home = if page.url == root.as_str() { page.clone() } else { pages.get(&root).await.unwrap_or(page.clone()) };
    let site_feed = pages.site_feed(&home).await;
    let channel = analyse(&home, site::channel_of).await.with_feed(site_feed.as_ref().map(|f| &f.channel));
    Ok(Proposal {
        asked: start.clone(),
        listing,
        episodes: found.episodes(),
        reach,
        channel,
        fields,
        sampled,
        example,
        site_feed,
        timezone,
        pages_fetched: pages.spent(),
    })
}

/// What a listing page was found to hold.
enum Found {
    Links(String, Vec<Url>),
    Items(String, usize),
}

impl Found {
    fn episodes(&self) -> Episodes {
        match self {
            Found::Links(css, links) => Episodes::Links { css: css.clone(), count: links.len() },
            Found::Items(css, count) => Episodes::Items { css: css.clone(), count: *count },
        }
    }
}

/// Where the episodes are listed: the page given, else the archive it links, else the home
/// page, else the archive that links; a few pages at most.
async fn find_listing(pages: &mut Fetcher<'_>, start: &Url) -> Result<(Page, Found), InitError> {
    let root = start.join("/").map_err(|e| InitError::NotFound(format!("{start}: {e}")))?;
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
        if tried.contains(&listing) || tried.len() == 5 {
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
            with_audio.push(listing);
            continue;
        }
        // Here a page with a player of its own is on its second look: its items count then (a
        // home page's player above them), after every other page (a related box).
        if let Some((css, count)) = items {
            return Ok((page, Found::Items(css, count)));
        }
        // A page that names its archive ("All episodes", /archive) is read after the archive.
        let archives: Vec<Url> =
            analyse(&page, site::archive_links).await.into_iter().filter(|url| !tried.contains(url)).collect();
        if !archives.is_empty() && deferred.insert(listing.clone()) {
            queue.push_front(listing);
            for archive in archives.into_iter().rev() {
                queue.push_front(archive);
            }
            continue;
        }
        tried.insert(listing.clone());
        if let Some((css, links)) = pages.episode_links(&page).await {
            return Ok((page, Found::Links(css, links)));
        }
    }
    Err(InitError::NotFound(format!(
        "no links to pages with audio on the {} pages fetched; the site may build its pages with JavaScript, \
         or list its episodes in a way init does not know",
        pages.cache.len()
    )))
}

/// Fetches the site's pages for init, each once, within [`MAX_PAGES`] requests.
struct Fetcher<'c> {
    client: &'c Client,
    host: String,
    cache: HashMap<Url, Page>,
}

impl Fetcher<'_> {
    /// Requests made so far, robots.txt, redirects and retries included.
    fn spent(&self) -> usize {
        usize::try_from(self.client.stats().total_requests()).unwrap_or(usize::MAX)
    }

    async fn get(&mut self, url: &Url) -> Result<Page, InitError> {
        if let Some(page) = self.cache.get(url) {
            return Ok(page.clone());
        }
        if self.spent() >= MAX_PAGES {
            return Err(InitError::NotFound(format!("{MAX_PAGES} requests made without finding the episodes")));
        }
        let host = self.host.clone();
        let in_scope = move |to: &Url| to.host_str() == Some(host.as_str());
        let page = match self.client.page(url, RequestKind::Listing, None, &in_scope).await {
            Ok(Fetched::Page(page, _held)) => page,
            Ok(Fetched::NotModified) => return Err(InitError::NotFound(format!("{url}: 304 Not Modified unasked"))),
            Err(reason) => return Err(InitError::Fetch { url: url.to_string(), reason }),
        };
        self.cache.insert(url.clone(), page.clone());
        Ok(page)
    }

    /// The group of similar links on a listing page that lead to pages with audio, and its
    /// links. The likeliest groups are tried first, each by its first and last links, and by its
    /// second when one of those has no audio (a text-only post among the episodes).
    async fn episode_links(&mut self, page: &Page) -> Option<(String, Vec<Url>)> {
        let groups = analyse(page, archive::link_groups).await;
        for (css, links) in groups.into_iter().take(4) {
            tracing::debug!("init: {}: {} links like {css}", page.url, links.len());
            let (mut with_audio, mut without) = (0, 0);
            for url in [links.first(), links.last(), links.get(1)].into_iter().flatten() {
                let Ok(sample) = self.get(url).await else { break };
                match analyse(&sample, |doc, _| evidence::has_audio(doc)).await {
                    true => with_audio += 1,
                    false => without += 1,
                }
                if with_audio == 2 || without == 2 {
                    break;
                }
            }
            tracing::debug!("init: {css}: {with_audio} with audio, {without} without");
            if with_audio == 2 {
                return Some((css, links));
            }
        }
        None
    }

    /// Up to [`SAMPLES`] episode pages of `links`, in order, fetched a few at a time within
    /// the budget (those already read cost nothing).
    async fn samples(&mut self, links: &[Url]) -> Vec<Page> {
        let chosen: Vec<Url> = links.iter().take(SAMPLES).cloned().collect();
        let mut room = MAX_PAGES.saturating_sub(self.spent() + RESERVED);
        let fetch: Vec<Url> = chosen
            .iter()
            .filter(|url| !self.cache.contains_key(*url))
            .take_while(|_| room.checked_sub(1).map(|left| room = left).is_some())
            .cloned()
            .collect();
        let (client, host) = (self.client, self.host.clone());
        let fetched: Vec<(Url, Page)> = stream::iter(fetch)
            .map(|url| {
                let host = host.clone();
                async move {
                    // Redirects and retries cost requests too: the reserve is kept whatever they took.
                    let spent = usize::try_from(client.stats().total_requests()).unwrap_or(usize::MAX);
                    if spent + RESERVED >= MAX_PAGES {
                        return None;
                    }
                    let in_scope = move |to: &Url| to.host_str() == Some(host.as_str());
                    match client.page(&url, RequestKind::Episode, None, &in_scope).await {
                        Ok(Fetched::Page(page, _held)) => Some((url, page)),
                        _ => None,
                    }
                }
            })
            .buffered(4)
            .filter_map(|page| async move { page })
            .collect()
            .await;
        self.cache.extend(fetched);
        chosen.iter().filter_map(|url| self.cache.get(url).cloned()).collect()
    }

    /// How the archive goes on past `page`: a link to the next pages, numbered pages, or a
    /// sitemap that lists more pages like the sampled ones. A next page is read to be sure it
    /// lists more, the same way.
    async fn reach(&mut self, page: &Page, found: &Found, sampled: &[Url]) -> Reach {
        for (css, next) in analyse(page, archive::next_pages).await.into_iter().take(3) {
            if self.continues(page, &next, found).await {
                return Reach::Follow(css);
            }
        }
        if let Some((template, second)) = Url::parse(&page.url).ok().as_ref().and_then(site::numbered) {
            if self.continues(page, &second, found).await {
                return Reach::Numbered(template);
            }
        }
        match found {
            Found::Links(_, links) => self.sitemap(page, sampled, links).await.unwrap_or(Reach::FirstPageOnly),
            Found::Items(..) => Reach::FirstPageOnly,
        }
    }

    /// Whether `next` lists episodes `page` does not, the same way.
    async fn continues(&mut self, page: &Page, next: &Url, found: &Found) -> bool {
        let Ok(next) = self.get(next).await else { return false };
        if next.html == page.html {
            return false;
        }
        match found {
            Found::Links(css, links) => {
                let groups = analyse(&next, archive::link_groups).await;
                groups.iter().any(|(group, urls)| group == css && urls.iter().any(|url| !links.contains(url)))
            }
            Found::Items(css, _) => analyse(&next, archive::audio_items).await.is_some_and(|(items, _)| items == *css),
        }
    }

    /// The site's `/sitemap.xml` (an index and up to three of its sitemaps), if it lists more
    /// pages like the sampled episode pages than the listing page links.
    async fn sitemap(&mut self, page: &Page, sampled: &[Url], listed_links: &[Url]) -> Option<Reach> {
        let pattern = site::url_pattern(sampled)?;
        let matcher = regex::Regex::new(&pattern).ok()?;
        let url = Url::parse(&page.url).ok()?.join("/sitemap.xml").ok()?;
        let mut queue = VecDeque::from([url.clone()]);
        let mut pages: HashSet<Url> = HashSet::new();
        for _ in 0..4 {
            let Some(next) = queue.pop_front() else { break };
            if self.spent() >= MAX_PAGES {
                break;
            }
            let host = self.host.clone();
            let in_scope = move |to: &Url| to.host_str() == Some(host.as_str());
            let Ok(bytes) = self.client.document(&next, crate::sitemap::MAX_SITEMAP_BYTES, &in_scope).await else {
                continue;
            };
            let Ok(sitemap) = crate::sitemap::parse(&bytes) else { continue };
            queue.extend(sitemap.sitemaps);
            pages.extend(sitemap.pages.into_iter().map(|(url, _)| url).filter(|url| matcher.is_match(url.as_str())));
        }
        let alone = sampled.iter().any(|url| !listed_links.contains(url));
        (pages.len() > listed_links.len()).then_some(Reach::Sitemap { url, pattern, pages: pages.len(), alone })
    }

    /// The feed the home page links (`<link rel=alternate>`, on any host), and what it says.
    async fn site_feed(&mut self, home: &Page) -> Option<SiteFeed> {
        let url = analyse(home, site::feed_link).await.filter(|_| self.spent() < MAX_PAGES)?;
        // Hosts serve feeds from elsewhere (a podcast host's CDN).
        let host = url.host_str().unwrap_or_default().to_string();
        let in_scope = move |to: &Url| to.host_str() == Some(host.as_str());
        let bytes = self.client.document(&url, 5 * 1024 * 1024, &in_scope).await.ok()?;
        Some(site::read_feed(url, &bytes))
    }
}

/// The first episode `recipe` reads on `page` (an episode page, or a listing page for a
/// `[listing]` recipe) and where, or why there is none: the check init's report ends with.
pub fn first_episode(page: &Page, recipe: &Recipe) -> (String, Result<Episode, String>) {
    let Some(listing) = &recipe.listing else {
        let extracted = extract::extract(page, &recipe.episode);
        return (page.url.clone(), extracted.map(|e| e.episode).map_err(|e| e.to_string()));
    };
    let items =
        crate::html::parse(&page.html, &crate::html::Budget::start()).map_err(|e| e.to_string()).and_then(|doc| {
            extract::listing_items(&doc, page, listing, 1, &crate::html::Budget::start()).map_err(|e| e.to_string())
        });
    match items.map(|items| items.into_iter().next()) {
        Ok(Some(item)) => {
            let link = item.link.to_string();
            (link.clone(), item.fields.into_episode(&link, link.clone()).map_err(|e| e.to_string()))
        }
        Ok(None) => (page.url.clone(), Err("no item found".to_string())),
        Err(e) => (page.url.clone(), Err(e)),
    }
}

/// Runs `analysis` on a parsed page, off the reactor.
async fn analyse<T, F>(page: &Page, analysis: F) -> T
where
    T: Send + 'static,
    F: FnOnce(&Html, &Url) -> T + Send + 'static,
{
    let page = page.clone();
    let run = move || {
        let base = Url::parse(&page.final_url).or_else(|_| Url::parse(&page.url)).expect("a page has a URL");
        analysis(&parsed(&page), &base)
    };
    tokio::task::spawn_blocking(run).await.expect("analysis does not panic")
}

/// [`analyse`] on each page.
async fn analyse_all<T: Send + 'static>(pages: &[Page], analysis: fn(&Html, &Url) -> T) -> Vec<T> {
    let mut results = Vec::with_capacity(pages.len());
    for page in pages {
        results.push(analyse(page, analysis).await);
    }
    results
}

/// A page parsed within the time and depth every page gets; one too complex reads as empty.
fn parsed(page: &Page) -> Html {
    crate::html::parse(&page.html, &crate::html::Budget::start()).unwrap_or_else(|e| {
        tracing::warn!("{}: {e}; read as empty", page.url);
        Html::parse_document("")
    })
}
