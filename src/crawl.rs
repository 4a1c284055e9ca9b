//! Listing-page discovery: walks the archive from `start` through `follow` links and streams
//! episode page URLs out as soon as each listing page is read.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use futures::channel::mpsc;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, SinkExt, StreamExt};
use scraper::{Html, Selector};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use url::Url;

use crate::extract::{self, Item};
use crate::fetch::{Client, FetchError, Fetched, RequestKind, Validators};
use crate::html::{self, Budget, TooComplex};
use crate::model::{Page, Progress};
use crate::recipe::{Crawl, Recipe};
use crate::sitemap;
use crate::store::Store;

/// Episode URLs the crawl may find before the fetches take them.
const URLS_AHEAD: usize = 100_000;

/// Text of listing items the crawl may hold while the run has not taken them yet. Items carry
/// show notes (up to 100 KB each): counted by size, not number, or a slow run behind a fast
/// crawl of a hostile archive would hold them all.
pub const ITEMS_AHEAD_BYTES: usize = 32 * 1024 * 1024;

/// Listing pages read at once while every page is all new.
const LISTING_LOOKAHEAD: usize = 8;

/// Episode links read from one listing page at most: real archives list tens per page; a page
/// with hundreds of thousands is a trap, and its links would fill memory and the night.
pub const MAX_EPISODE_LINKS: usize = 10_000;
/// Links to more listing pages read from one listing page at most.
pub const MAX_FOLLOW_LINKS: usize = 1_000;

/// What one listing page gives: links (absolute, in document order, without repeats) and the
/// episodes it describes itself (`[listing]`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ListingLinks {
    pub episodes: Vec<Url>,
    pub follow: Vec<Url>,
    pub items: Vec<Item>,
}

/// What the crawl finds for the run to process.
#[derive(Debug)]
pub enum Discovered {
    /// An episode page to fetch.
    Page(Url),
    /// An episode described on a listing page; with `[crawl] episodes` its page is fetched
    /// too, and its fields win. The item's share of [`ITEMS_AHEAD_BYTES`] is given back when
    /// `ahead` is dropped.
    Item { item: Box<Item>, ahead: ItemAhead },
}

/// A listing item's share of the text the crawl may hold ahead of the run.
#[derive(Debug)]
pub struct ItemAhead {
    _held: OwnedSemaphorePermit,
}

impl Discovered {
    /// The episode page's URL (the item's link).
    pub fn url(&self) -> &Url {
        match self {
            Discovered::Page(url) => url,
            Discovered::Item { item, .. } => &item.link,
        }
    }
}

/// A listing page that could not be read.
#[derive(Debug)]
pub struct ListingFailure {
    pub url: String,
    pub error: ListingError,
}

/// Why a listing page (or sitemap) could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("304 Not Modified to an unconditional request")]
    NotModifiedUnasked,
    #[error(transparent)]
    TooComplex(#[from] TooComplex),
    #[error(transparent)]
    Sitemap(#[from] sitemap::SitemapError),
}

impl ListingError {
    /// The site failed to serve it (5xx, a timeout...), rather than the page being wrong.
    pub fn is_outage(&self) -> bool {
        match self {
            ListingError::Fetch(e) => e.is_transient(),
            ListingError::NotModifiedUnasked => true,
            ListingError::TooComplex(_) | ListingError::Sitemap(_) => false,
        }
    }

    /// Past the last numbered page, many sites answer 404 (or 410): the end, not a failure.
    fn is_gone(&self) -> bool {
        matches!(self, ListingError::Fetch(FetchError::Status(404 | 410)))
    }
}

/// What the crawl did, known once it has finished.
#[derive(Debug, Default)]
pub struct CrawlReport {
    /// Listing pages asked for, read or failed.
    pub listing_pages: usize,
    /// Listing pages that could not be read, with the reason (reported by the run, once).
    pub failures: Vec<ListingFailure>,
    /// Whether paging stopped early because a listing page had nothing new.
    pub stopped_early: bool,
    /// Whether paging stopped at `max_pages` with listing pages left unread.
    pub hit_max_pages: bool,
}

impl CrawlReport {
    /// Every listing page was read: the archive as the site has it has been seen whole.
    pub fn saw_whole_archive(&self) -> bool {
        !self.stopped_early && !self.hit_max_pages && self.failures.is_empty()
    }
}

/// Which episode URLs the crawl sends on.
pub struct CrawlPlan {
    /// Page URLs already in the cache.
    pub known: HashSet<String>,
    /// Skip known pages.
    pub incremental: bool,
    /// Stop paging at the first listing page with nothing unknown. Only once a crawl has seen
    /// the whole archive: a first run that was interrupted is finished by the next one.
    pub stop_early: bool,
    /// Told of each listing page read.
    pub progress: Arc<dyn Progress>,
    /// [`ITEMS_AHEAD_BYTES`], but for tests.
    pub items_ahead_bytes: usize,
}

/// Starts the crawl on its own task. Episode URLs arrive on the returned stream while later
/// listing pages are still being fetched; the handle yields the report at the end.
pub fn spawn(
    client: Arc<Client>,
    recipe: Arc<Recipe>,
    store: Store,
    plan: CrawlPlan,
) -> (mpsc::Receiver<Discovered>, JoinHandle<CrawlReport>) {
    // Episode URLs are small; let the crawl run far ahead. A crawl blocked on a full channel
    // stops reading its listing pages, and the fetches then starve waiting for it (measured:
    // 20 s instead of 13.5 s for 10,000 episodes with a channel of 256).
    let (sender, receiver) = mpsc::channel(URLS_AHEAD);
    let handle = tokio::spawn(crawl(client, recipe, store, plan, sender));
    (receiver, handle)
}

/// Fetches a listing page (conditionally; on 304 its cached copy is read) and reads its links
/// off the reactor.
async fn read_listing(
    client: Arc<Client>,
    store: Store,
    recipe: Arc<Recipe>,
    url: Url,
) -> (Url, Result<ListingLinks, ListingError>) {
    let cached = match store.listing(url.as_str()) {
        Ok(cached) => cached,
        // Fetched whole, as a lost episode page is (see `Store::page_validators`).
        Err(crate::store::StoreError::Corrupt { .. }) => {
            store.lost_body(url.as_str());
            None
        }
        Err(e) => {
            tracing::warn!("{e}");
            None
        }
    };
    let validators =
        cached.as_ref().map(|page| Validators { etag: page.etag.clone(), last_modified: page.last_modified.clone() });
    let in_scope = |url: &Url| recipe.crawl.in_scope(url);
    // A downloaded page's text is held against the client's budget until its links are read.
    let (page, _held) = match client.page(&url, RequestKind::Listing, validators.as_ref(), &in_scope).await {
        Ok(Fetched::Page(page, held)) => {
            if let Err(e) = store.put_listing(&page) {
                tracing::warn!("{e}");
            }
            (page, Some(held))
        }
        Ok(Fetched::NotModified) => match cached {
            Some(page) => (page, None),
            None => return (url, Err(ListingError::NotModifiedUnasked)),
        },
        Err(e) => return (url, Err(e.into())),
    };
    let links = tokio::task::spawn_blocking(move || read_listing_page(&page, &recipe)).await;
    // A panic is a bug, not a bad page: it fails the run.
    let links = links.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    (url, links.map_err(ListingError::from))
}

async fn crawl(
    client: Arc<Client>,
    recipe: Arc<Recipe>,
    store: Store,
    plan: CrawlPlan,
    mut out: mpsc::Sender<Discovered>,
) -> CrawlReport {
    let mut crawl = Crawler::new(recipe.clone(), store.clone(), plan);
    let mut reading = FuturesUnordered::new();
    let mut lookahead = 1;
    loop {
        // Keep `lookahead` listing pages on the way, each used as soon as it arrives: a page
        // being retried must not hold back the pages after it (nor the whole pipeline with them).
        while reading.len() < lookahead {
            let Some((url, chain)) = crawl.next_page() else { break };
            let read = read_listing(client.clone(), store.clone(), recipe.clone(), url);
            reading.push(read.map(move |(url, links)| (url, chain, links)));
        }
        let Some((url, chain, links)) = reading.next().await else { break };
        crawl.plan.progress.listing_read();
        let Some(ListingLinks { episodes, follow, items }) = crawl.usable(&url, links) else { continue };
        let linked = items.len() + episodes.len();
        let Ok(unknown) = crawl.send(items, episodes, &mut out).await else {
            return crawl.report; // the pipeline stopped listening
        };
        crate::test_panic_point("crawl");
        if crawl.stop_early && unknown == 0 {
            crawl.stop_chain(chain);
            continue;
        }
        // A full run, a page of nothing but new episodes (a first run), or an archive read whole
        // will read more pages: read ahead. Otherwise go one page at a time, so an incremental
        // run stops without waste.
        lookahead = if !crawl.stop_early || unknown == linked { LISTING_LOOKAHEAD } else { 1 };
        crawl.queue_follow(follow, chain);
    }
    // Sitemaps last: a page a listing item links to was sent with its item.
    let Crawler { plan, mut report, mut sent, .. } = crawl;
    if read_sitemaps(&client, &recipe, &store, &plan, &mut report, &mut sent, &mut out).await.is_err() {
        return report; // the pipeline stopped listening
    }
    tracing::info!(listing_pages = report.listing_pages, stopped_early = report.stopped_early, "crawl finished");
    report
}

/// The crawl of the listing pages as it goes: what is queued, what was sent, where the
/// numbered pages are.
struct Crawler {
    recipe: Arc<Recipe>,
    store: Store,
    plan: CrawlPlan,
    report: CrawlReport,
    /// Listing pages to read, each with its chain: each start page begins a chain of its own,
    /// and the numbered pages one more. An incremental run stops reading a chain at its first
    /// page with nothing new, not the others.
    queue: VecDeque<(Url, usize)>,
    queued: HashSet<String>,
    /// Episodes (page URLs, item links) sent on, or seen and not worth sending.
    sent: HashSet<String>,
    /// The next numbered page to read, until a page gives nothing (or a 404).
    next_number: Option<u32>,
    numbered_urls: HashSet<String>,
    /// An incremental run that may stop at a page with nothing new. An archive read oldest
    /// first has its news on its last pages: it is read whole.
    stop_early: bool,
    /// Listing items' text held ahead of the run, in KiB (see [`ITEMS_AHEAD_BYTES`]).
    items_ahead: Arc<Semaphore>,
    ahead_kib: u32,
}

impl Crawler {
    fn new(recipe: Arc<Recipe>, store: Store, plan: CrawlPlan) -> Crawler {
        let ahead_kib = u32::try_from(plan.items_ahead_bytes / 1024).unwrap_or(u32::MAX).max(1);
        let queue: VecDeque<(Url, usize)> = recipe.crawl.start.iter().cloned().zip(0..).collect();
        Crawler {
            queued: queue.iter().map(|(url, _)| url.to_string()).collect(),
            queue,
            sent: HashSet::new(),
            next_number: recipe.crawl.pages.as_ref().map(|p| p.from),
            numbered_urls: HashSet::new(),
            stop_early: plan.stop_early && !recipe.crawl.oldest_first,
            items_ahead: Arc::new(Semaphore::new(ahead_kib as usize)),
            ahead_kib,
            report: CrawlReport::default(),
            recipe,
            store,
            plan,
        }
    }

    /// The chain of the numbered pages.
    fn numbered_chain(&self) -> usize {
        self.recipe.crawl.start.len()
    }

    /// The next listing page to read, and its chain: the queue's, else the next numbered page;
    /// none past `max_pages`.
    fn next_page(&mut self) -> Option<(Url, usize)> {
        let next = self.queue.pop_front().or_else(|| {
            let url = self.recipe.crawl.pages.as_ref()?.url(self.next_number?)?;
            self.next_number = self.next_number.and_then(|n| n.checked_add(1));
            self.numbered_urls.insert(url.to_string());
            Some((url, self.numbered_chain()))
        })?;
        if self.report.listing_pages >= self.recipe.crawl.max_pages {
            tracing::warn!(max_pages = self.recipe.crawl.max_pages, "stopped paging at crawl.max_pages");
            self.report.hit_max_pages = true;
            self.queue.clear();
            self.next_number = None;
            return None;
        }
        self.report.listing_pages += 1;
        Some(next)
    }

    /// The links of a listing page read, if it gives any: a failure is kept for the report, and
    /// the numbered pages end at one that is gone, empty, or the same again.
    fn usable(&mut self, url: &Url, links: Result<ListingLinks, ListingError>) -> Option<ListingLinks> {
        let numbered_page = self.numbered_urls.contains(url.as_str());
        let links = match links {
            Err(error) if numbered_page && error.is_gone() => None,
            Ok(links) if numbered_page && links.items.is_empty() && links.episodes.is_empty() => None,
            Ok(links) => Some(links),
            Err(error) => {
                self.report.failures.push(ListingFailure { url: url.to_string(), error });
                return None;
            }
        };
        // Others answer the last page (or the first) again: nothing it links is new to this run.
        let again = |links: &ListingLinks| {
            let mut urls = links.items.iter().map(|i| &i.link).chain(&links.episodes);
            urls.all(|u| self.sent.contains(u.as_str()))
        };
        if numbered_page && links.as_ref().is_none_or(again) {
            self.next_number = None;
        }
        links
    }

    /// Sends on the episodes of a listing page this run has not sent yet: on an incremental run,
    /// the unknown ones and known items that changed. Says how many were unknown; errs when the
    /// run stopped listening.
    async fn send(
        &mut self,
        items: Vec<Item>,
        episodes: Vec<Url>,
        out: &mut mpsc::Sender<Discovered>,
    ) -> Result<usize, mpsc::SendError> {
        let mut unknown = 0;
        // Items first: an episode link that is an item's is the item's page.
        for found in items.into_iter().map(Ok).chain(episodes.into_iter().map(Err)) {
            let key = match &found {
                Ok(item) => item.link.to_string(),
                Err(url) => url.to_string(),
            };
            let known = self.plan.known.contains(&key);
            if !self.sent.insert(key) {
                continue;
            }
            // A known episode is sent again only when the site changed its listing item: the
            // item may be all there is of it, and reading it again costs no request.
            let skip = match &found {
                _ if !self.plan.incremental || !known => false,
                Ok(item) => !item_changed(&self.store, item),
                Err(_) => true,
            };
            if skip {
                continue;
            }
            unknown += usize::from(!known);
            let discovered = match found {
                Ok(item) => self.ahead(item).await,
                Err(url) => Discovered::Page(url),
            };
            out.send(discovered).await?;
        }
        Ok(unknown)
    }

    /// A listing item, once its text's share of what the crawl may hold ahead is free.
    async fn ahead(&self, item: Item) -> Discovered {
        let kib = u32::try_from(item_bytes(&item) / 1024).unwrap_or(u32::MAX).clamp(1, self.ahead_kib);
        let held = self.items_ahead.clone().acquire_many_owned(kib).await.expect("semaphore is never closed");
        Discovered::Item { item: Box::new(item), ahead: ItemAhead { _held: held } }
    }

    /// A page of this chain had nothing new: no more of its pages are asked for; those already
    /// on the way are still read.
    fn stop_chain(&mut self, chain: usize) {
        self.report.stopped_early = true;
        // Its pages not read are forgotten: another chain that links one reads it.
        let queued = &mut self.queued;
        self.queue.retain(|(url, queued_in)| *queued_in != chain || !queued.remove(url.as_str()));
        if chain == self.numbered_chain() {
            self.next_number = None;
        }
    }

    /// Queues the listing pages a page links to, in its chain.
    fn queue_follow(&mut self, follow: Vec<Url>, chain: usize) {
        for next in follow {
            // More pages queued than can ever be read would only hold memory.
            if self.queue.len() >= self.recipe.crawl.max_pages {
                self.report.hit_max_pages = true;
                break;
            }
            if self.queued.insert(next.to_string()) {
                self.queue.push_back((next, chain));
            }
        }
    }
}

/// Reads the recipe's sitemaps (and the sitemaps their indexes name, up to `max_pages` in all)
/// and sends the episode pages they list: on an incremental run, those not cached, and those
/// whose `<lastmod>` is newer than the cached copy. Errs when the run stopped listening.
async fn read_sitemaps(
    client: &Client,
    recipe: &Recipe,
    store: &Store,
    plan: &CrawlPlan,
    report: &mut CrawlReport,
    sent: &mut HashSet<String>,
    out: &mut mpsc::Sender<Discovered>,
) -> Result<(), mpsc::SendError> {
    let crawl = &recipe.crawl;
    let mut queue: VecDeque<Url> = crawl.sitemap.iter().cloned().collect();
    let mut seen: HashSet<String> = queue.iter().map(Url::to_string).collect();
    let in_scope = |url: &Url| crawl.in_scope(url);
    let mut urls_left = crawl.max_sitemap_urls;
    while let Some(url) = queue.pop_front() {
        if urls_left == 0 {
            warn_past_max_sitemap_urls(crawl, &url);
            break;
        }
        if report.listing_pages >= crawl.max_pages {
            report.hit_max_pages = true;
            break;
        }
        report.listing_pages += 1;
        plan.progress.listing_read();
        let sitemap = match client.document(&url, sitemap::MAX_SITEMAP_BYTES, &in_scope).await {
            Ok(bytes) => tokio::task::spawn_blocking(move || sitemap::parse(&bytes))
                .await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
                .map_err(ListingError::from),
            Err(e) => Err(e.into()),
        };
        let mut sitemap = match sitemap {
            Ok(sitemap) => sitemap,
            Err(error) => {
                report.failures.push(ListingFailure { url: url.to_string(), error });
                continue;
            }
        };
        if sitemap.pages.len() > urls_left {
            warn_past_max_sitemap_urls(crawl, &url);
            sitemap.pages.truncate(urls_left);
            queue.clear();
        }
        urls_left -= sitemap.pages.len();
        sitemap.drop_meaningless_lastmods(chrono::Utc::now());
        for child in sitemap.sitemaps {
            if !crawl.in_scope(&child) {
                tracing::warn!("sitemap {url} names {child}, outside crawl.scope: not read");
            } else if seen.insert(child.to_string()) {
                queue.push_back(child);
            }
        }
        for (page, changed) in sitemap.pages {
            let page = crawl.canonical(page);
            let key = page.to_string();
            let wanted = crawl.in_scope(&page) && crawl.sitemap_match.as_ref().is_none_or(|m| m.is_match(&key));
            if !wanted || !sent.insert(key.clone()) {
                continue;
            }
            if plan.incremental && plan.known.contains(&key) && !changed_since_cached(store, &key, changed) {
                continue;
            }
            out.send(Discovered::Page(page)).await?;
        }
    }
    Ok(())
}

fn warn_past_max_sitemap_urls(crawl: &Crawl, from: &Url) {
    tracing::warn!(
        "the sitemaps name more than {} pages (crawl.max_sitemap_urls): those from {from} on are not read",
        crawl.max_sitemap_urls
    );
}

/// What an item holds in memory, roughly.
fn item_bytes(item: &Item) -> usize {
    let dropped: usize = item.dropped.iter().map(|d| d.value.len()).sum();
    let html = item.source.as_ref().map_or(0, |s| s.html.len());
    item.fields.bytes() + item.link.as_str().len() + dropped + html + std::mem::size_of::<Item>()
}

/// Whether a known episode's listing item differs from the one kept (an item too large to keep,
/// or kept without its HTML as no episode, cannot be told apart, and counts as unchanged).
fn item_changed(store: &Store, item: &Item) -> bool {
    let Some(source) = &item.source else { return false };
    match store.listed(item.link.as_str()) {
        Ok(Some(kept)) => kept.html != source.html,
        Ok(None) => !store.is_listed(item.link.as_str()).unwrap_or(false),
        Err(e) => {
            tracing::warn!("{e}");
            true
        }
    }
}

/// Whether a sitemap's `<lastmod>` says the page changed after its cached copy was fetched.
fn changed_since_cached(store: &Store, url: &str, changed: Option<chrono::DateTime<chrono::Utc>>) -> bool {
    match (changed, store.page_fetched_at(url)) {
        (Some(changed), Ok(Some(fetched))) => changed > fetched,
        _ => false,
    }
}

/// Reads one listing page: its episode links, its follow links and the episodes it describes,
/// at most [`MAX_EPISODE_LINKS`] episodes and [`MAX_FOLLOW_LINKS`] follow links. Links leave out
/// other hosts than the recipe's scope and non-http(s) schemes, and are in their canonical form
/// ([`Crawl::canonical`]).
pub fn read_listing_page(page: &Page, recipe: &Recipe) -> Result<ListingLinks, TooComplex> {
    let crawl = &recipe.crawl;
    let budget = Budget::start();
    let doc = html::parse(&page.html, &budget)?;
    let Ok(base) = Url::parse(&page.final_url).or_else(|_| Url::parse(&page.url)) else {
        return Ok(ListingLinks::default());
    };
    let episodes =
        crawl.episodes.as_ref().map(|css| links(&doc, css, &base, crawl, MAX_EPISODE_LINKS)).unwrap_or_default();
    let follow = crawl.follow.as_ref().map(|s| links(&doc, s, &base, crawl, MAX_FOLLOW_LINKS)).unwrap_or_default();
    let items = match &recipe.listing {
        Some(listing) => extract::listing_items(&doc, page, listing, MAX_EPISODE_LINKS, &budget)?
            .into_iter()
            .map(|mut item| {
                item.link = crawl.canonical(item.link);
                item
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(ListingLinks { episodes, follow, items })
}

fn links(doc: &Html, selector: &Selector, base: &Url, crawl: &Crawl, max: usize) -> Vec<Url> {
    let mut seen = HashSet::new();
    let mut links = Vec::new();
    let mut more = 0usize;
    // A `<meta>` (an episode page's `og:url`, for a recipe that reads that one page) links by
    // its `content`.
    fn href<'a>(e: scraper::ElementRef<'a>) -> Option<&'a str> {
        match e.value().name() {
            "meta" => e.value().attr("content"),
            _ => e.value().attr("href"),
        }
    }
    for href in doc.select(selector).filter_map(href) {
        let Some(url) = base.join(href.trim()).ok().map(|url| crawl.canonical(url)) else { continue };
        if !crawl.in_scope(&url) {
            tracing::debug!(%url, "outside the recipe's scope; not fetched");
            continue;
        }
        if seen.contains(url.as_str()) {
            continue;
        }
        if links.len() == max {
            more += 1;
            continue;
        }
        seen.insert(url.to_string());
        links.push(url);
    }
    if more > 0 {
        tracing::warn!("listing page {base}: {more} more links than the {max} read from one page were left out");
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn page(url: &str, html: &str) -> Page {
        let (url, html) = (url.to_string(), html.to_string());
        Page { final_url: url.clone(), url, html, etag: None, last_modified: None, fetched_at: chrono::Utc::now() }
    }

    #[test]
    fn listing_links_are_absolute_deduplicated_and_in_scope() {
        let recipe = Recipe::parse(
            r#"[feed]
title = "T"
link = "https://example.org/"
description = "D"
[crawl]
start = ["https://example.org/archive"]
episodes = "article a.ep"
follow = "nav a"
[episode]
title = { css = "h1" }
audio = { css = "a", attr = "href" }
"#,
            Path::new("t.toml"),
        )
        .unwrap();
        let html = r##"<nav><a href="?page=2">2</a><a href="?page=3">3</a><a href="?page=2">next</a>
            <a href="https://other.example.com/archive">elsewhere</a></nav>
            <article><a class="ep" href="/ep/1#top">One</a></article>
            <article><a class="ep" href="/ep/1">One again</a></article>
            <article><a class="ep" href="ep/2">Two</a></article>
            <article><a class="ep" href="mailto:x@example.org">mail</a><a class="ep">no href</a></article>"##;
        let links = read_listing_page(&page("https://example.org/archive/", html), &recipe).unwrap();
        let strings = |v: &[Url]| v.iter().map(Url::to_string).collect::<Vec<_>>();
        assert_eq!(strings(&links.episodes), ["https://example.org/ep/1", "https://example.org/archive/ep/2"]);
        assert_eq!(
            strings(&links.follow),
            ["https://example.org/archive/?page=2", "https://example.org/archive/?page=3"]
        );
    }

    #[test]
    fn a_listing_page_gives_at_most_its_share_of_links() {
        let recipe = Recipe::parse(
            "[feed]\ntitle = \"T\"\nlink = \"https://example.org/\"\ndescription = \"D\"\n[crawl]\n\
             start = [\"https://example.org/\"]\nepisodes = \"a\"\n[episode]\ntitle = { css = \"h1\" }\n\
             audio = { css = \"a\", attr = \"href\" }\n",
            Path::new("t.toml"),
        )
        .unwrap();
        let html: String =
            (0..MAX_EPISODE_LINKS + 50).map(|n| format!("<a href=\"/ep/{n}?utm_source=x\">{n}</a>")).collect();
        let links = read_listing_page(&page("https://example.org/", &html), &recipe).unwrap();
        assert_eq!(links.episodes.len(), MAX_EPISODE_LINKS);
        assert_eq!(links.episodes[0].as_str(), "https://example.org/ep/0", "tracking parameters dropped");
    }
}
