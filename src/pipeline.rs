//! The run: crawl → fetch → extract → probe → store → feed → publish, as one stream.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt};
use indicatif::ProgressBar;
use tokio::sync::{OnceCell, Semaphore};
use tokio_util::task::AbortOnDropHandle;
use url::Url;

use crate::crawl::{self, CrawlPlan};
use crate::extract::{self, NotAnEpisode};
use crate::feed::{self, FeedKey};
use crate::fetch::{Client, FetchError, Fetched, RequestKind, Validators};
use crate::model::{Episode, Page, Probe, RunSummary};
use crate::publish::{self, Outcome, PublishError};
use crate::recipe::Recipe;
use crate::store::{Change, FeedState, PackedPage, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Index(#[from] publish::IndexError),
    #[error(
        "not published: {failed} of {attempted} pages failed, more than output.max_failures = {limit}%; \
         the published feed is unchanged (see the warnings above, or `podfeed list --failed`)"
    )]
    TooManyFailures { failed: u64, attempted: u64, limit: u8 },
    #[error(
        "not published: the new feed would have {items} items, the published one has {published} \
         (output.min_items_percent = {limit}%); check the recipe with `podfeed check`, or pass --force"
    )]
    Shrinking { items: u64, published: u64, limit: u8 },
}

/// Pages fetched or parsed at once, per request slot. Enough to keep page requests queued well
/// ahead of the probes that follow them, so slow pages and pages told to retry later start early
/// (1,200 episodes in fault mode: 7.3 s with 4 per slot, 6.3 s with 16, no better with 32), yet a
/// bound on the page text held in memory while pages wait for a parser.
const PAGES_IN_HAND_PER_SLOT: usize = 16;

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
    /// Progress of episode pages (its length grows as the crawl finds them), or a hidden bar.
    pub progress: ProgressBar,
    /// Progress of listing pages, or a hidden bar.
    pub listing_progress: ProgressBar,
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

/// What processing a page needs. Each page is processed in a task of its own, so its requests,
/// waits and parsing go on (on any core) while the run's own task stores results: with all
/// pages inside one task, every slot waited whenever that task was busy storing, and each
/// request held its slot 20 % longer than the site took to answer.
struct PageWork {
    recipe: Arc<Recipe>,
    store: Store,
    client: Arc<Client>,
    /// One probe per enclosure URL per run, even when two pages of one episode race for it.
    probes: Mutex<HashMap<String, Arc<OnceCell<Option<Probe>>>>>,
    /// Pages being parsed at once.
    parse_slots: Semaphore,
    /// Pages being fetched or parsed at once. Downloaded pages wait for a parse slot holding
    /// their text; without a bound all pages in progress could, and peak memory rose with the
    /// speed of the network (to 133 MB at 10,000 episodes, 10 ms).
    pages_in_hand: Semaphore,
}

/// Where an enclosure's size and type may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProbePolicy {
    /// The probe cache, else the network.
    CacheFirst,
    /// The network, always (`refresh`).
    Fresh,
    /// The probe cache only (`--reextract` makes no requests).
    CacheOnly,
}

/// Where one episode page comes from.
enum Source {
    Network { url: Url, validators: Option<Validators> },
    Cache(Page),
}

impl Source {
    fn url(&self) -> String {
        match self {
            Source::Network { url, .. } => url.to_string(),
            Source::Cache(page) => page.url.clone(),
        }
    }
}

/// What processing one page produced.
enum PageResult {
    /// `page` is `Some` when it was freshly downloaded and must be cached.
    Episode {
        episode: Box<Episode>,
        page: Option<PackedPage>,
    },
    /// Not a feed item (no audio, say) or not to be fetched (robots.txt): reported, not failed.
    /// `was_read` says the page itself was read, so an episode it used to give is gone.
    Skipped {
        url: String,
        page: Option<PackedPage>,
        was_read: bool,
        reason: String,
    },
    Failed {
        url: String,
        reason: String,
    },
}

impl<'a> Run<'a> {
    pub fn new(recipe: Arc<Recipe>, store: &'a Store, client: Arc<Client>, options: RunOptions) -> Run<'a> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pages = Arc::new(PageWork {
            recipe: recipe.clone(),
            store: store.clone(),
            client: client.clone(),
            probes: Mutex::default(),
            parse_slots: Semaphore::new(cores),
            pages_in_hand: Semaphore::new(recipe.http.concurrency * PAGES_IN_HAND_PER_SLOT),
        });
        Run { recipe, store, client, options, pages }
    }

    /// Processes one page in a task of its own; the task is cancelled if the result is dropped.
    fn spawn_process(&self, source: Source, policy: ProbePolicy) -> impl Future<Output = PageResult> + 'static {
        let url = source.url();
        let pages = self.pages.clone();
        let task = AbortOnDropHandle::new(tokio::spawn(async move { pages.process(source, policy).await }));
        async move {
            match task.await {
                Ok(result) => result,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => PageResult::Failed { url, reason: e.to_string() },
            }
        }
    }

    /// `podfeed build`.
    pub async fn build(&self, mode: Mode) -> Result<RunSummary, PipelineError> {
        let started = Instant::now();
        let mut summary = RunSummary::default();
        let known = self.store.known_pages()?;
        let concurrency = self.recipe.http.concurrency;

        // Sources: cached pages for a re-extract, otherwise the crawl's stream of episode URLs.
        let (sources, crawl): (BoxStream<Source>, _) = match mode {
            Mode::Reextract => {
                // Pages are read and inflated one at a time as the stream pulls them.
                let pages = self.store.pages().filter_map(|page| match page {
                    Ok(page) => Some(Source::Cache(page)),
                    Err(e) => {
                        tracing::warn!("{e}");
                        None
                    }
                });
                self.options.progress.set_length(known.len() as u64);
                (stream::iter(pages).boxed(), None)
            }
            Mode::Incremental | Mode::Full => {
                let incremental = mode == Mode::Incremental;
                let recent = if incremental { self.recent_episode_pages()? } else { Vec::new() };
                let plan = CrawlPlan {
                    known,
                    incremental,
                    stop_early: incremental && self.store.archive_seen()?,
                    progress: self.options.listing_progress.clone(),
                };
                let (urls, handle) = crawl::spawn(self.client.clone(), self.recipe.clone(), self.store.clone(), plan);
                let (store, progress) = (self.store, self.options.progress.clone());
                progress.set_length(recent.len() as u64);
                let crawled = urls.map(move |url| {
                    // The archive's size is known only as it is crawled.
                    progress.inc_length(1);
                    let validators = if incremental { None } else { cached_validators(store, &url) };
                    Source::Network { url, validators }
                });
                (stream::iter(recent).chain(crawled).boxed(), Some(handle))
            }
        };

        // Fetch, parse and probe concurrently; store each result as it arrives.
        // Far more pages are in progress than requests are in flight: pages waiting out a backoff
        // or a slow server must not stall the rest, and page requests queue for their slots well
        // ahead of the probes that follow them, so a slow page starts early instead of last
        // (measured: 7.6 s → 6.6 s for 1,200 episodes in fault mode, at +17 MiB; it stays
        // bounded, whatever the archive). A re-extract waits on nothing but the parser: a few
        // pages in progress keep the cores busy without holding the archive.
        let (policy, in_progress) = match mode {
            Mode::Reextract => (ProbePolicy::CacheOnly, self.pages.parse_slots.available_permits() * 2),
            _ => (ProbePolicy::CacheFirst, concurrency * 32),
        };
        let mut outcomes = sources.map(|source| self.spawn_process(source, policy)).buffer_unordered(in_progress);
        while let Some(outcome) = outcomes.next().await {
            self.record(outcome, &mut summary)?;
        }
        drop(outcomes);

        if let Some(handle) = crawl {
            if let Ok(report) = handle.await {
                if report.saw_whole_archive() {
                    self.store.set_archive_seen()?;
                }
                for (url, reason) in report.failures {
                    self.record_failed(&url, &reason, &mut summary)?;
                }
            }
        }
        self.finish(summary, started)
    }

    /// Pages of episodes inside the re-check window, to fetch again conditionally.
    fn recent_episode_pages(&self) -> Result<Vec<Source>, StoreError> {
        let days = self.recipe.crawl.recheck_days;
        if days == 0 {
            return Ok(Vec::new());
        }
        let since = Utc::now() - chrono::Duration::days(i64::from(days));
        let recent = self.store.feed_keys()?.into_iter().filter(|key| key.published().is_some_and(|d| d >= since));
        let mut sources = Vec::new();
        for key in recent {
            if let Some(url) = self.store.episode(&key.guid)?.and_then(|e| Url::parse(&e.page_url).ok()) {
                sources.push(Source::Network { validators: cached_validators(self.store, &url), url });
            }
        }
        Ok(sources)
    }

    /// `podfeed refresh URL...`: fetch exactly these pages and their enclosures again.
    pub async fn refresh(&self, urls: Vec<Url>) -> Result<RunSummary, PipelineError> {
        let started = Instant::now();
        let mut summary = RunSummary::default();
        self.options.progress.set_length(urls.len() as u64);
        let mut outcomes = stream::iter(urls)
            .map(|url| self.spawn_process(Source::Network { url, validators: None }, ProbePolicy::Fresh))
            .buffer_unordered(self.recipe.http.concurrency);
        while let Some(outcome) = outcomes.next().await {
            self.record(outcome, &mut summary)?;
        }
        drop(outcomes);
        self.finish(summary, started)
    }

    /// Stores one outcome and counts it.
    fn record(&self, outcome: PageResult, summary: &mut RunSummary) -> Result<(), StoreError> {
        self.options.progress.inc(1);
        match outcome {
            PageResult::Episode { episode, page } => {
                // The episode before its page: a cached page means "known, not fetched again", so
                // a crash between the two must not leave a page without its episode.
                match self.store.put_episode(&episode)? {
                    Change::New => summary.new += 1,
                    Change::Updated => summary.updated += 1,
                    Change::Unchanged => summary.unchanged += 1,
                }
                if let Some(page) = page {
                    self.store.put_page(&page)?;
                }
            }
            PageResult::Skipped { url, page, was_read, reason } => {
                tracing::info!("{url}: skipped: {reason}");
                summary.problems.push(format!("{url}: skipped: {reason}"));
                if let Some(page) = page {
                    self.store.put_page(&page)?;
                }
                if was_read {
                    self.store.page_is_not_an_episode(&url)?;
                }
                summary.skipped += 1;
            }
            PageResult::Failed { url, reason } => self.record_failed(&url, &reason, summary)?,
        }
        Ok(())
    }

    /// A failed page: a warning naming it, kept for `list --failed`, tried again next run.
    fn record_failed(&self, url: &str, reason: &str, summary: &mut RunSummary) -> Result<(), StoreError> {
        tracing::warn!("{url}: {reason}");
        summary.problems.push(format!("{url}: {reason}"));
        summary.failed += 1;
        if self.store.record_failure(url, reason)? {
            summary.failed_again += 1;
        }
        Ok(())
    }

    /// Renders the feed from everything stored, publishes it, and completes the summary. Episodes
    /// are read from the cache one at a time for each pass, never all at once; the HTML page is
    /// rendered on a second thread meanwhile. What was learned is saved even when the guards
    /// refuse to publish.
    fn finish(&self, mut summary: RunSummary, started: Instant) -> Result<RunSummary, PipelineError> {
        self.options.progress.finish_and_clear();
        self.options.listing_progress.finish_and_clear();
        self.store.flush()?;
        summary.requests = self.client.stats().total_requests();
        summary.bytes = self.client.stats().bytes();
        self.check_failures(&summary)?;
        let keys = feed::in_feed_order(self.store.feed_keys()?, self.recipe.feed.max_items);
        summary.items = keys.len() as u64;
        self.check_shrinking(summary.items)?;
        let (last_build, content_changed) = self.last_build_date(&keys)?;
        let out = &self.options.out;
        let write_feed = |mut out: &mut dyn io::Write| {
            let episodes = self.episodes_in(&keys).map(|e| e.map_err(io::Error::other));
            feed::write(&mut out, &self.recipe.feed, episodes, last_build)
        };
        // Compress while writing only a feed whose content changed: an unchanged one keeps its
        // `feed.xml.gz`, unless the published file turns out to differ after all (edited by hand).
        let gzip_now = self.recipe.output.gzip && (content_changed || !publish::gzip_exists(out));
        let (index, written) = std::thread::scope(|scope| {
            let index = scope.spawn(|| self.write_index(&keys));
            let written = if gzip_now {
                publish::write_with_gzip(out, write_feed)
            } else {
                publish::write_atomic_with(out, write_feed)
            };
            (index.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), written)
        });
        index?;
        summary.feed_changed = written? == Outcome::Written;
        if self.recipe.output.gzip && !gzip_now {
            // The published feed differed although its content had not changed (edited by hand).
            publish::write_gzip_beside(out, summary.feed_changed)?;
        }
        self.store.flush()?;
        summary.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(summary)
    }

    /// `index.html` beside the feed, when the recipe asks for it.
    fn write_index(&self, keys: &[FeedKey]) -> Result<(), PipelineError> {
        if !self.recipe.output.html {
            return Ok(());
        }
        let feed_name = self.options.out.file_name().and_then(|n| n.to_str()).unwrap_or("feed.xml");
        let template = match &self.recipe.output.template {
            Some(path) => {
                std::fs::read_to_string(path).map_err(|source| PublishError { path: path.clone(), source })?
            }
            None => publish::INDEX_TEMPLATE.to_string(),
        };
        let guids: Vec<String> = keys.iter().map(|key| key.guid.clone()).collect();
        let (store, failure) = (self.store.clone(), Arc::new(Mutex::new(None)));
        let failed = failure.clone();
        let episode_at = move |index: usize| match store.episode(guids.get(index)?) {
            Ok(episode) => episode,
            Err(e) => {
                *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                None
            }
        };
        let path = self.options.out.with_file_name("index.html");
        publish::write_index(&path, &template, &self.recipe.feed, feed_name, keys.len(), episode_at)?;
        let failed = failure.lock().unwrap_or_else(|p| p.into_inner()).take();
        failed.map_or(Ok(()), |e| Err(e.into()))
    }

    /// A site that is down (or mostly failing) must not publish a feed built from stale leftovers
    /// as if all were well.
    /// Pages that failed on earlier runs too (dead links) are reported but do not count: they
    /// would otherwise fail every quiet night with few new episodes.
    fn check_failures(&self, summary: &RunSummary) -> Result<(), PipelineError> {
        let all = summary.new + summary.updated + summary.unchanged + summary.skipped + summary.failed;
        let (failed, attempted) = (summary.failed - summary.failed_again, all - summary.failed_again);
        let limit = self.recipe.output.max_failures;
        if failed > 0 && failed * 100 > attempted * u64::from(limit) {
            return Err(PipelineError::TooManyFailures { failed, attempted, limit });
        }
        Ok(())
    }

    /// A feed that suddenly lost many items is more likely a broken recipe than a site that
    /// deleted its archive; subscribers' apps would drop those episodes.
    fn check_shrinking(&self, items: u64) -> Result<(), PipelineError> {
        let published = publish::count_items(&self.options.out)?;
        let limit = self.recipe.output.min_items_percent;
        if !self.options.force && items * 100 < published * u64::from(limit) {
            return Err(PipelineError::Shrinking { items, published, limit });
        }
        Ok(())
    }

    /// The stored episodes behind `keys`, read as the iterator is driven.
    fn episodes_in<'k>(&'k self, keys: &'k [FeedKey]) -> impl Iterator<Item = Result<Episode, StoreError>> + 'k {
        keys.iter().filter_map(|key| self.store.episode(&key.guid).transpose())
    }

    /// `lastBuildDate` moves only when the feed's content moves, so an unchanged site leaves
    /// the feed file byte for byte the same. Also says whether the content moved.
    fn last_build_date(&self, keys: &[FeedKey]) -> Result<(DateTime<Utc>, bool), StoreError> {
        let mut hasher = DefaultHasher::new();
        (env!("CARGO_PKG_VERSION"), &self.recipe.feed).hash(&mut hasher);
        for episode in self.episodes_in(keys) {
            episode?.hash(&mut hasher);
        }
        let items_hash = hasher.finish();
        match self.store.feed_state()? {
            Some(state) if state.items_hash == items_hash => Ok((state.last_build, false)),
            _ => {
                let state = FeedState { items_hash, last_build: Utc::now() };
                self.store.put_feed_state(&state)?;
                Ok((state.last_build, true))
            }
        }
    }
}

impl PageWork {
    /// Fetches (or takes from the cache), extracts off the reactor, and probes one page.
    async fn process(&self, source: Source, probes: ProbePolicy) -> PageResult {
        let in_hand = self.pages_in_hand.acquire().await.expect("semaphore is never closed");
        let (page, fresh) = match source {
            Source::Cache(page) => (page, false),
            Source::Network { url, validators } => {
                match self.client.page(&url, RequestKind::Episode, validators.as_ref()).await {
                    Ok(Fetched::Page(page)) => (page, true),
                    Ok(Fetched::NotModified) => match self.store.page(url.as_str()) {
                        Ok(Some(page)) => (page, false),
                        _ => {
                            return PageResult::Failed {
                                url: url.to_string(),
                                reason: "304 Not Modified but not cached".into(),
                            }
                        }
                    },
                    Err(FetchError::Disallowed) => {
                        let reason = FetchError::Disallowed.to_string();
                        return PageResult::Skipped { url: url.to_string(), page: None, was_read: false, reason };
                    }
                    Err(e) => return PageResult::Failed { url: url.to_string(), reason: e.to_string() },
                }
            }
        };
        let url = page.url.clone();
        let (page, extracted) = match self.extract_off_reactor(page, fresh).await {
            Ok(result) => result,
            Err(e) => return PageResult::Failed { url, reason: format!("extraction failed: {e}") },
        };
        drop(in_hand);
        match extracted {
            Ok(mut episode) => {
                self.fill_enclosure(&mut episode, probes).await;
                PageResult::Episode { episode: Box::new(episode), page }
            }
            Err(reason) => PageResult::Skipped { url, page, was_read: true, reason: reason.to_string() },
        }
    }

    /// Parses (and, for a fresh page, deflates it for the cache) on the blocking pool, so the
    /// task driving the stream only moves data. Parsed documents are large, so no more of them
    /// are held at once than there are cores.
    async fn extract_off_reactor(
        &self,
        page: Page,
        fresh: bool,
    ) -> Result<(Option<PackedPage>, Result<Episode, NotAnEpisode>), tokio::task::JoinError> {
        let _slot = self.parse_slots.acquire().await.expect("semaphore is never closed");
        let recipe = self.recipe.clone();
        tokio::task::spawn_blocking(move || {
            let extracted = extract_page(&page, &recipe);
            (fresh.then(|| PackedPage::pack(&page)), extracted)
        })
        .await
    }

    /// Size and type of the enclosure, from the probe cache or a HEAD/range request.
    async fn fill_enclosure(&self, episode: &mut Episode, policy: ProbePolicy) {
        let url = episode.enclosure.url.clone();
        let cell = {
            let mut probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
            probes.entry(url.clone()).or_default().clone()
        };
        let probe = cell.get_or_init(|| self.probe(&url, &episode.page_url, policy)).await;
        if let Some(probe) = probe {
            episode.enclosure.length = probe.length;
            episode.enclosure.mime_type = probe.mime_type.clone();
        }
    }

    async fn probe(&self, url: &str, page_url: &str, policy: ProbePolicy) -> Option<Probe> {
        if policy != ProbePolicy::Fresh {
            match self.store.probe(url) {
                Ok(Some(probe)) => return Some(probe),
                Ok(None) if policy == ProbePolicy::CacheOnly => return None,
                Ok(None) => {}
                Err(e) => tracing::warn!("{e}"),
            }
        }
        let parsed = Url::parse(url).ok()?;
        match self.client.probe(&parsed).await {
            Ok(probe) => {
                if let Err(e) = self.store.put_probe(url, &probe) {
                    tracing::warn!("{e}");
                }
                Some(probe)
            }
            Err(e) => {
                tracing::warn!("enclosure {url} of {page_url}: {e}");
                None
            }
        }
    }
}

fn extract_page(page: &Page, recipe: &Recipe) -> Result<Episode, NotAnEpisode> {
    let base = Url::parse(&page.final_url).or_else(|_| Url::parse(&page.url));
    let base = base.map_err(|_| NotAnEpisode::BadUrl)?;
    let mut episode = extract::extract(&base, &page.html, &recipe.episode)?;
    episode.page_url = page.url.clone();
    Ok(episode)
}

fn cached_validators(store: &Store, url: &Url) -> Option<Validators> {
    let page = store.page(url.as_str()).ok()??;
    Some(Validators { etag: page.etag, last_modified: page.last_modified })
}
