//! The run: crawl → fetch → extract → probe → store → feed → publish, as one stream.

mod checks;
mod failure;
mod finish;
mod page;
mod remote;
mod split;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;
use futures::stream::{self, BoxStream, StreamExt};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use tokio::task::JoinHandle;
use tokio_util::task::AbortOnDropHandle;
use url::Url;

use crate::crawl::{self, CrawlPlan, Discovered};
use crate::extract::{self, Item, ItemSource};
use crate::fetch::{Client, Validators};
use crate::model::{Episode, Page, Problem, Progress, Reason, RunSummary};
use crate::publish::{self, PublishError};
use crate::recipe::Recipe;
use crate::store::{Change, PackedPage, Store, StoreError};
pub use failure::{PageFailure, ProbeFailure};
use page::{PageWork, ProbePolicy};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Index(#[from] publish::IndexError),
    #[error(transparent)]
    InvalidFeed(#[from] crate::verify::CheckFileError),
    #[error(
        "not published: {failed} of {attempted} pages failed, more than output.max_failures = {limit}%; \
         the published feed is unchanged (see the warnings above, or `podfeed list --failed`)"
    )]
    TooManyFailures { failed: u64, attempted: u64, limit: u8 },
    #[error("not published: the site could not be reached ({what}: {reason}); the published feed is unchanged")]
    Unreachable { what: String, reason: Reason },
    #[error("not published: nothing could be read ({what}: {reason}); the published feed is unchanged")]
    NothingRead { what: String, reason: Reason },
    #[error(
        "not published: the feed would have no items ({read} pages read, {skipped} skipped: see the \
         warnings above, or try the recipe with `podfeed check`); pass --force to publish it empty"
    )]
    Empty { read: u64, skipped: u64 },
    #[error("not published: the {task} stopped with a panic ({message}); this is a bug in podfeed, please report it")]
    Panicked { task: String, message: String },
    #[error(
        "not published: the new feed would have {items} items, the published one has {published} \
         (output.min_items_percent = {limit}%); check the recipe with `podfeed check`, or pass --force"
    )]
    Shrinking { items: u64, published: u64, limit: u8 },
    #[error("published to the folder, but not to {}", .0.target)]
    Git(#[from] publish::git::GitError),
    #[error("published to the folder, but not to {}", .0.target)]
    S3(#[from] publish::s3::S3Error),
}

/// A run that could not publish: why (its source), and what it had done. It displays as the
/// recipe's path, so that the whole chain reads `R: not published: ...`.
#[derive(Debug, thiserror::Error)]
#[error("{}", .summary.recipe)]
pub struct RunFailed {
    #[source]
    pub cause: PipelineError,
    pub summary: Box<RunSummary>,
}

/// How a build finds its episode pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Crawl listing pages until one has nothing new; fetch only unknown episode pages.
    #[default]
    Incremental,
    /// Crawl every listing page and fetch every episode page again (conditionally).
    Full,
    /// No network: extract every cached page again with the current recipe.
    Reextract,
}

/// Everything a run needs besides the recipe, the store and the client.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where the feed goes; `index.html` goes beside it when the recipe asks for one.
    pub out: PathBuf,
    /// Told of listing and episode pages as they are read.
    pub progress: Arc<dyn Progress>,
    /// Publish even a feed much shorter than the one already published.
    pub force: bool,
}

/// The shared pieces of one run.
pub struct Run<'a> {
    recipe: Arc<Recipe>,
    store: &'a Store,
    client: Arc<Client>,
    options: RunOptions,
    pages: Arc<PageWork>,
}

/// Where one episode comes from.
enum Source {
    /// A page to fetch; `listed` is its listing item, whose fields stand where the page gives
    /// none (or fails).
    Network { url: Url, validators: Option<Validators>, listed: Option<Box<Item>> },
    /// A cached page (a re-extract), with its listing item if it has one.
    Cache(Page, Option<Box<Item>>),
    /// An episode described on a listing page, with no page to fetch.
    Listed(Box<Item>),
}

impl Source {
    fn url(&self) -> String {
        match self {
            Source::Network { url, .. } => url.to_string(),
            Source::Cache(page, _) => page.url.clone(),
            Source::Listed(item) => item.link.to_string(),
        }
    }

    /// The listing item this source reads, to keep once its episode is stored.
    fn item(&self) -> Option<KeptItem> {
        let (item, alone) = match self {
            Source::Network { listed: Some(item), .. } | Source::Cache(_, Some(item)) => (item, false),
            Source::Listed(item) => (item, true),
            Source::Network { listed: None, .. } | Source::Cache(_, None) => return None,
        };
        Some(KeptItem { link: item.link.to_string(), source: item.source.clone(), alone })
    }
}

/// A listing item, kept in the store once its episode is: see [`Store::put_listed`].
struct KeptItem {
    link: String,
    source: Option<ItemSource>,
    /// The item is the whole episode: no page was read for it.
    alone: bool,
}

/// What processing one page produced.
enum PageResult {
    /// `page` is `Some` when it was freshly downloaded and must be cached.
    Episode {
        episode: Box<Episode>,
        page: Option<PackedPage>,
        /// The enclosure whose size could not be learned, and why.
        probe_failure: Option<Problem>,
        /// The page failed, and its listing item stands.
        page_failure: Option<PageFailure>,
    },
    /// Not a feed item (no audio, say) or not to be fetched (robots.txt): reported, not failed.
    /// `was_read` says the page itself was read, so an episode it used to give is gone.
    Skipped {
        url: String,
        page: Option<PackedPage>,
        was_read: bool,
        reason: PageFailure,
    },
    /// The page failed, and its episode (stored before, with its listing item) stays as it was:
    /// a warning, asked for again next run.
    Stood {
        url: String,
        reason: PageFailure,
    },
    Failed {
        url: String,
        reason: PageFailure,
    },
}

impl<'a> Run<'a> {
    pub fn new(recipe: Arc<Recipe>, store: &'a Store, client: Arc<Client>, options: RunOptions) -> Run<'a> {
        let pages = Arc::new(PageWork::new(recipe.clone(), store.clone(), client.clone()));
        Run { recipe, store, client, options, pages }
    }

    /// Processes one page in a task of its own; the task is cancelled if the result is dropped.
    /// A panic fails the run: it is a bug, and what the run would publish cannot be trusted.
    fn spawn_process(
        &self,
        (source, policy): (Source, ProbePolicy),
    ) -> impl Future<Output = Result<(PageResult, Option<KeptItem>), PipelineError>> + 'static {
        let (url, item) = (source.url(), source.item());
        let pages = self.pages.clone();
        let task = AbortOnDropHandle::new(tokio::spawn(async move { pages.process(source, policy).await }));
        async move {
            match task.await {
                Ok(result) => Ok((result, item)),
                Err(e) if e.is_panic() => Err(panicked(&format!("task of page {url}"), e)),
                Err(_) => Ok((PageResult::Failed { url, reason: PageFailure::Cancelled }, None)),
            }
        }
    }

    /// `podfeed build`.
    pub async fn build(&self, mode: Mode) -> Result<RunSummary, RunFailed> {
        let mut summary = RunSummary::of(&self.recipe.path);
        let result = AssertUnwindSafe(self.build_into(mode, &mut summary)).catch_unwind().await;
        self.conclude(result, summary)
    }

    /// `podfeed refresh URL...`: fetch exactly these pages and their enclosures again.
    pub async fn refresh(&self, urls: Vec<Url>) -> Result<RunSummary, RunFailed> {
        let mut summary = RunSummary::of(&self.recipe.path);
        let result = AssertUnwindSafe(self.refresh_into(urls, &mut summary)).catch_unwind().await;
        self.conclude(result, summary)
    }

    /// What was learned is kept, whether or not the run published. A panic anywhere in the run
    /// (the page tasks report theirs as errors) fails it like any other error.
    fn conclude(
        &self,
        result: std::thread::Result<Result<(), PipelineError>>,
        summary: RunSummary,
    ) -> Result<RunSummary, RunFailed> {
        let result = result.unwrap_or_else(|panic| {
            Err(PipelineError::Panicked { task: "run".into(), message: finish::panic_text(panic.as_ref()) })
        });
        let flushed = self.store.flush().map_err(PipelineError::from);
        // Only after a run that finished: a failed one may leave tasks writing to the cache. A run
        // that failed only to publish elsewhere has finished (else a target down for days would
        // keep the cache from its compaction).
        let finished = matches!(result, Ok(()) | Err(PipelineError::Git(_) | PipelineError::S3(_)));
        if finished && flushed.is_ok() {
            // The cache keeps its size: packs mostly of pages fetched again are rewritten.
            crate::test_pause_point("compact");
            match self.store.compact() {
                Ok(done) if done.packs > 0 => {
                    tracing::info!(
                        packs = done.packs,
                        freed = done.freed_bytes,
                        moved = done.moved_bytes,
                        "cache compacted"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("the cache could not be compacted (it will be tried again): {e}"),
            }
        }
        match result.and(flushed) {
            Ok(()) => Ok(summary),
            Err(cause) => Err(RunFailed { cause, summary: Box::new(summary) }),
        }
    }

    async fn build_into(&self, mode: Mode, summary: &mut RunSummary) -> Result<(), PipelineError> {
        let started = Instant::now();
        let known = self.store.known_pages()?;
        let concurrency = self.recipe.http.concurrency;

        // Sources: cached pages for a re-extract, otherwise the crawl's stream of episode URLs,
        // then the recent episodes' pages (whose enclosures are probed again: a replaced file
        // has a new size).
        let (sources, crawl) = match mode {
            Mode::Reextract => (self.cached_sources(known.len()).await, None),
            Mode::Incremental | Mode::Full => {
                let (sources, crawl) = self.crawled_sources(known, mode == Mode::Incremental).await?;
                (sources, Some(crawl))
            }
        };

        // Fetch, parse and probe concurrently; store each result as it arrives.
        // Far more pages are in progress than requests are in flight: pages waiting out a backoff
        // or a slow server must not stall the rest, and page requests queue for their slots well
        // ahead of the probes that follow them, so a slow page starts early instead of last
        // (measured: 7.6 s → 6.6 s for 1,200 episodes in fault mode, at +17 MiB; it stays
        // bounded, whatever the archive). A re-extract waits on nothing but the parser: a few
        // pages in progress keep the cores busy without holding the archive.
        let in_progress = match mode {
            Mode::Reextract => self.pages.parsers() * 2,
            // Runs sharing the client share this, as they share the pages in hand.
            _ => (concurrency * 32 / self.client.runs_at_once()).max(concurrency),
        };
        let mut outcomes = sources.map(|source| self.spawn_process(source)).buffer_unordered(in_progress);
        while let Some(outcome) = outcomes.next().await {
            self.record(outcome?, summary)?;
        }
        drop(outcomes);

        if let Some(handle) = crawl {
            self.after_crawl(handle, mode, summary).await?;
        }
        self.finish(summary, started)?;
        self.publish_elsewhere(summary).await
    }

    /// A re-extract's sources: listing items first, from the cached listing pages (with
    /// episode pages, each page's item goes with it; the items whose page is not cached stand
    /// alone), then every cached page, read and inflated one at a time as the stream pulls them.
    async fn cached_sources(&self, known: usize) -> BoxStream<'a, (Source, ProbePolicy)> {
        let (with_pages, alone): (HashMap<String, Item>, HashMap<String, Item>) = self
            .stored_items(None)
            .await
            .into_iter()
            .partition(|(_, item)| self.recipe.crawl.fetches_page_of(&item.link));
        let listed = Arc::new(Mutex::new(with_pages));
        let alone = alone.into_values().map(|item| (Source::Listed(Box::new(item)), ProbePolicy::CacheOnly));
        let with_items = listed.clone();
        let pages = self.store.pages().filter_map(move |page| match page {
            Ok(page) => {
                let item = with_items.lock().unwrap_or_else(|p| p.into_inner()).remove(&page.url);
                Some((Source::Cache(page, item.map(Box::new)), ProbePolicy::CacheOnly))
            }
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        });
        let leftovers = stream::once(async move {
            let left: Vec<Item> = listed.lock().unwrap_or_else(|p| p.into_inner()).drain().map(|(_, i)| i).collect();
            stream::iter(left.into_iter().map(|item| (Source::Listed(Box::new(item)), ProbePolicy::CacheOnly)))
        })
        .flatten();
        self.options.progress.pages_total(known as u64);
        stream::iter(alone).chain(stream::iter(pages)).chain(leftovers).boxed()
    }

    /// A build's sources: what the crawl finds as it goes, then the recent episodes' pages it
    /// did not send; and the crawl's handle, for its report.
    async fn crawled_sources(
        &self,
        known: std::collections::HashSet<String>,
        incremental: bool,
    ) -> Result<(BoxStream<'a, (Source, ProbePolicy)>, JoinHandle<crawl::CrawlReport>), PipelineError> {
        let recent = if incremental { self.recent_episode_pages().await? } else { Vec::new() };
        let plan = CrawlPlan {
            known,
            incremental,
            stop_early: incremental && self.store.archive_seen()?,
            progress: self.options.progress.clone(),
            items_ahead_bytes: crawl::ITEMS_AHEAD_BYTES,
        };
        let (urls, handle) = crawl::spawn(self.client.clone(), self.recipe.clone(), self.store.clone(), plan);
        let (store, progress, recipe) = (self.store, self.options.progress.clone(), self.recipe.clone());
        progress.pages_total(recent.len() as u64);
        let sent: Arc<Mutex<std::collections::HashSet<String>>> = Arc::default();
        let crawl_sent = sent.clone();
        let crawled = urls.map(move |found| {
            // The archive's size is known only as it is crawled.
            progress.more_pages(1);
            crawl_sent.lock().unwrap_or_else(|p| p.into_inner()).insert(found.url().to_string());
            source_of(found, store, &recipe)
        });
        // The recent pages after the crawl, less those it sent (with their fresh items):
        // one page read twice in a run would race with itself.
        let recent = stream::iter(recent).filter_map(move |source| {
            let again = sent.lock().unwrap_or_else(|p| p.into_inner()).contains(&source.url());
            std::future::ready((!again).then_some((source, ProbePolicy::Recheck)))
        });
        Ok((crawled.chain(recent).boxed(), handle))
    }

    /// Counts what the crawl read and failed, and (when the site could be reached) probes the
    /// enclosures that are due and checks the show's artwork.
    async fn after_crawl(
        &self,
        handle: JoinHandle<crawl::CrawlReport>,
        mode: Mode,
        summary: &mut RunSummary,
    ) -> Result<(), PipelineError> {
        let report = handle.await.map_err(|e| panicked("crawl of the listing pages", e))?;
        if report.saw_whole_archive() {
            self.store.set_archive_seen()?;
        }
        let read = (report.listing_pages - report.failures.len()) as u64;
        summary.listing_pages += read;
        summary.pages_read += read;
        for failure in report.failures {
            let kind = PageKind::Listing { outage: failure.error.is_outage() };
            self.record_failed(&failure.url, Arc::new(failure.error), kind, summary)?;
        }
        // A site that cannot be reached fails the run anyway: no enclosure noise on top.
        if summary.listing_pages > 0 {
            self.reprobe_enclosures(summary).await?;
            self.check_artwork(mode).await?;
        }
        Ok(())
    }

    /// Enclosures whose size could not be learned on an earlier run, when their turn has come
    /// (see [`crate::store::probe_backoff`]); those probed in this run already are left alone.
    async fn reprobe_enclosures(&self, summary: &mut RunSummary) -> Result<(), PipelineError> {
        crate::test_panic_point("reprobe");
        let now = Utc::now();
        let due: Vec<_> = self
            .store
            .probe_failures()?
            .into_iter()
            .filter(|f| f.retry_at.is_none_or(|at| at <= now) && !self.pages.probed(&f.url))
            .collect();
        let mut episodes = Vec::new();
        for failure in due {
            match self.store.episode_with_audio(&failure.url)? {
                Some(episode) => episodes.push(episode),
                // No episode has this audio any more.
                None => self.store.clear_probe_failure(&failure.url)?,
            }
        }
        let mut probed = stream::iter(episodes)
            .map(|mut episode| async move {
                let failure = self.pages.fill_enclosure(&mut episode, ProbePolicy::Fresh).await;
                (episode, failure)
            })
            .buffer_unordered(self.recipe.http.concurrency);
        while let Some((episode, failure)) = probed.next().await {
            match failure {
                Some(problem) => record_probe_failure(problem, summary),
                None if self.store.put_episode(&episode)? == Change::Updated => summary.updated += 1,
                None => {}
            }
        }
        Ok(())
    }

    /// The listing items of these links (`None`: of every link), with the current recipe, off
    /// the reactor: as the cached listing pages have them (an item read there has what its
    /// rules may find around it), else as kept in the store (a newest-first archive has since
    /// pushed it onto a page whose cached copy is older).
    async fn stored_items(&self, links: Option<Vec<String>>) -> HashMap<String, Item> {
        if self.recipe.listing.is_none() {
            return HashMap::new();
        }
        let (store, recipe) = (self.store.clone(), self.recipe.clone());
        let read = tokio::task::spawn_blocking(move || {
            let Some(listing) = &recipe.listing else { return HashMap::new() };
            let wanted: Option<std::collections::HashSet<String>> = links.map(|l| l.into_iter().collect());
            let is_wanted = |link: &str| wanted.as_ref().is_none_or(|w| w.contains(link));
            let mut items = HashMap::new();
            for page in store.listing_pages() {
                match page.map(|page| (crawl::read_listing_page(&page, &recipe), page.url)) {
                    Ok((Ok(found), _)) => {
                        for item in found.items.into_iter().filter(|i| is_wanted(i.link.as_str())) {
                            items.entry(item.link.to_string()).or_insert(item);
                        }
                    }
                    Ok((Err(e), url)) => tracing::warn!("listing page {url}: {e}"),
                    Err(e) => tracing::warn!("{e}"),
                }
            }
            let kept: Box<dyn Iterator<Item = Result<(String, ItemSource), StoreError>>> = match &wanted {
                Some(links) => Box::new(
                    links.iter().filter_map(|l| store.listed(l).map(|s| s.map(|s| (l.clone(), s))).transpose()),
                ),
                None => Box::new(store.listed_items()),
            };
            for entry in kept {
                match entry {
                    Ok((link, _)) if items.contains_key(&link) => {}
                    Ok((link, source)) => {
                        if let Some(mut item) = extract::reread_item(&source, listing) {
                            item.link = recipe.crawl.canonical(item.link);
                            items.entry(link).or_insert(item);
                        }
                    }
                    Err(e) => tracing::warn!("{e}"),
                }
            }
            items
        });
        read.await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// Pages of episodes inside the re-check window, to fetch again conditionally.
    /// With `[listing]`, each page goes with its cached listing item (the page alone may lack
    /// the audio); a recipe that reads no episode page re-checks nothing here: its listing
    /// pages, read every run, carry the recent episodes.
    async fn recent_episode_pages(&self) -> Result<Vec<Source>, StoreError> {
        let days = self.recipe.crawl.recheck_days;
        let crawl = &self.recipe.crawl;
        if days == 0 || !crawl.reads_episode_pages() {
            return Ok(Vec::new());
        }
        let since = Utc::now() - chrono::Duration::days(i64::from(days));
        let recent: Vec<_> =
            self.store.feed_keys()?.into_iter().filter(|key| key.published().is_some_and(|d| d >= since)).collect();
        if recent.is_empty() {
            return Ok(Vec::new());
        }
        let mut urls = Vec::new();
        for key in recent {
            if let Some(url) = self.store.episode(&key.guid)?.and_then(|e| Url::parse(&e.page_url).ok()) {
                urls.push(url);
            }
        }
        let mut items = self.stored_items(Some(urls.iter().map(Url::to_string).collect())).await;
        let sources = urls.into_iter().map(|url| {
            let listed = items.remove(url.as_str()).map(Box::new);
            Source::Network { validators: cached_validators(self.store, &url), url, listed }
        });
        Ok(sources.collect())
    }

    async fn refresh_into(&self, urls: Vec<Url>, summary: &mut RunSummary) -> Result<(), PipelineError> {
        let started = Instant::now();
        self.options.progress.pages_total(urls.len() as u64);
        // Under the name the crawl gives the page, so the cached copy is the one refreshed.
        let urls: Vec<Url> = urls.into_iter().map(|url| self.recipe.crawl.canonical(url)).collect();
        // A page's listing item goes with it, as in a build: the page alone may lack its audio.
        let mut items = self.stored_items(Some(urls.iter().map(Url::to_string).collect())).await;
        let sources: Vec<Source> = urls
            .into_iter()
            .map(|url| {
                let listed = items.remove(url.as_str()).map(Box::new);
                Source::Network { url, validators: None, listed }
            })
            .collect();
        let mut outcomes = stream::iter(sources)
            .map(|source| self.spawn_process((source, ProbePolicy::Fresh)))
            .buffer_unordered(self.recipe.http.concurrency);
        while let Some(outcome) = outcomes.next().await {
            self.record(outcome?, summary)?;
        }
        drop(outcomes);
        self.finish(summary, started)?;
        self.publish_elsewhere(summary).await
    }

    /// Stores one outcome (and the listing item it came from) and counts it.
    fn record(
        &self,
        (outcome, item): (PageResult, Option<KeptItem>),
        summary: &mut RunSummary,
    ) -> Result<(), StoreError> {
        self.options.progress.page_done();
        let page_read = !item.as_ref().is_some_and(|item| item.alone);
        let keep_item = |item: Option<KeptItem>| match item {
            Some(item) => self.store.put_listed(&item.link, item.source.as_ref()),
            None => Ok(()),
        };
        match outcome {
            PageResult::Episode { episode, page, probe_failure, page_failure } => {
                match page_failure {
                    // Nothing is lost: a warning, and the page is asked for again next run.
                    Some(reason) => {
                        let reason: Reason = Arc::new(reason);
                        tell(summary, Problem::ItemStands { page: episode.page_url.clone(), reason: reason.clone() });
                        self.store.record_failure(&episode.page_url, &reason.to_string())?;
                    }
                    None => summary.pages_read += u64::from(page_read),
                }
                if let Some(problem) = probe_failure {
                    record_probe_failure(problem, summary);
                }
                // The episode before its page: a cached page means "known, not fetched again", so
                // a crash between the two must not leave a page without its episode.
                match self.store.put_episode(&episode)? {
                    Change::New => summary.new += 1,
                    Change::Updated => summary.updated += 1,
                    Change::Unchanged => summary.unchanged += 1,
                    Change::Duplicate { of } => {
                        tell(summary, Problem::Duplicate { page: episode.page_url.clone(), of });
                        summary.duplicates += 1;
                    }
                }
                if let Some(page) = page {
                    self.store.put_page(&page)?;
                }
                keep_item(item)?;
            }
            PageResult::Skipped { url, page, was_read, reason } => {
                summary.pages_read += u64::from(was_read && page_read);
                tell(summary, Problem::Skipped { page: url.clone(), reason: Arc::new(reason) });
                if let Some(page) = page {
                    self.store.put_page(&page)?;
                }
                if was_read {
                    self.store.page_is_not_an_episode(&url)?;
                    // Known, so not news next time; an item that gains its audio later is
                    // changed, and read again.
                    keep_item(item)?;
                }
                summary.skipped += 1;
            }
            PageResult::Stood { url, reason } => {
                let reason: Reason = Arc::new(reason);
                tell(summary, Problem::Stood { page: url.clone(), reason: reason.clone() });
                self.store.record_failure(&url, &reason.to_string())?;
            }
            PageResult::Failed { url, reason } => {
                let kind = if reason.is_transient() { PageKind::Outage } else { PageKind::Episode };
                self.record_failed(&url, Arc::new(reason), kind, summary)?
            }
        }
        Ok(())
    }

    /// A failed page: one warning naming it, kept for `list --failed`, tried again next run.
    fn record_failed(
        &self,
        url: &str,
        reason: Reason,
        kind: PageKind,
        summary: &mut RunSummary,
    ) -> Result<(), StoreError> {
        let listing = matches!(kind, PageKind::Listing { .. });
        tell(summary, Problem::Failed { page: url.to_string(), listing, reason: reason.clone() });
        summary.failed += 1;
        // The first listing page's reason wins: when they all fail, that is the news.
        if summary.first_failure.is_none() || (listing && summary.listing_failed == 0) {
            summary.first_failure = Some(reason.clone());
        }
        if matches!(kind, PageKind::Outage | PageKind::Listing { outage: true }) {
            summary.outages += 1;
        }
        let failed_before = self.store.record_failure(url, &reason.to_string())?;
        match kind {
            PageKind::Listing { .. } => summary.listing_failed += 1,
            PageKind::Episode if failed_before => summary.failed_again += 1,
            PageKind::Episode | PageKind::Outage => {}
        }
        Ok(())
    }
}

/// Logs a problem as what it is for cron (a warning, or a notice shown with `-v`) and keeps it
/// for the run's report.
fn tell(summary: &mut RunSummary, problem: Problem) {
    if problem.is_warning() {
        tracing::warn!("{problem}");
    } else {
        tracing::info!("{problem}");
    }
    summary.problems.push(problem);
}

/// An enclosure whose size is unknown (recorded, with when it is tried again, where it was
/// probed).
fn record_probe_failure(problem: Problem, summary: &mut RunSummary) {
    summary.probes_failed += 1;
    tell(summary, problem);
}

/// What failed. Only an episode page that is a dead link (404, not HTML...) may be shrugged off
/// when it fails again; a listing page, or a page the site failed to serve (5xx, a timeout),
/// always counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageKind {
    Listing { outage: bool },
    Episode,
    Outage,
}

/// A task's panic, as the error that fails the run.
fn panicked(task: &str, error: tokio::task::JoinError) -> PipelineError {
    let message = if error.is_panic() { finish::panic_text(error.into_panic().as_ref()) } else { error.to_string() };
    PipelineError::Panicked { task: task.to_string(), message }
}

/// Where a page the crawl found comes from, and how its enclosure is probed.
fn source_of(found: Discovered, store: &Store, recipe: &Recipe) -> (Source, ProbePolicy) {
    let (url, listed) = match found {
        // Without episode pages, or with one off the recipe's scope, the item is all.
        Discovered::Item { item, .. } if !recipe.crawl.fetches_page_of(&item.link) => {
            return (Source::Listed(item), ProbePolicy::CacheFirst);
        }
        // A known page whose item changed is asked for again, conditionally: the site most
        // likely changed the page too, and the page's fields win.
        Discovered::Item { item, .. } => (item.link.clone(), Some(item)),
        // A known page a sitemap sends again goes with its kept item.
        Discovered::Page(url) if recipe.listing.is_some() => {
            let listed = kept_item(store, recipe, &url).map(Box::new);
            (url, listed)
        }
        Discovered::Page(url) => (url, None),
    };
    // A known page sent again (a sitemap's <lastmod>, or --full) is asked for conditionally.
    let validators = cached_validators(store, &url);
    (Source::Network { url, validators, listed }, ProbePolicy::CacheFirst)
}

/// The listing item kept for a page, read again with the recipe's rules.
fn kept_item(store: &Store, recipe: &Recipe, url: &Url) -> Option<Item> {
    let source = store.listed(url.as_str()).unwrap_or_else(|e| {
        tracing::warn!("{e}");
        None
    })?;
    let mut item = extract::reread_item(&source, recipe.listing.as_ref()?)?;
    item.link = recipe.crawl.canonical(item.link);
    Some(item)
}

fn cached_validators(store: &Store, url: &Url) -> Option<Validators> {
    store.page_validators(url.as_str()).unwrap_or_else(|e| {
        tracing::warn!("{e}");
        None
    })
}
