//! The run: crawl → fetch → extract → probe → store → feed → publish, as one stream.

mod finish;
mod page;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use futures::stream::{self, BoxStream, StreamExt};
use indicatif::ProgressBar;
use tokio_util::task::AbortOnDropHandle;
use url::Url;

use crate::crawl::{self, CrawlPlan};
use crate::fetch::{Client, Validators};
use crate::model::{Episode, Page, RunSummary};
use crate::publish::{self, PublishError};
use crate::recipe::Recipe;
use crate::store::{Change, PackedPage, Store, StoreError};
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
    #[error(
        "not published: the new feed would have {items} items, the published one has {published} \
         (output.min_items_percent = {limit}%); check the recipe with `podfeed check`, or pass --force"
    )]
    Shrinking { items: u64, published: u64, limit: u8 },
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
        let pages = Arc::new(PageWork::new(recipe.clone(), store.clone(), client.clone()));
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
            Mode::Reextract => (ProbePolicy::CacheOnly, self.pages.parsers() * 2),
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
        // Under the name the crawl gives the page, so the cached copy is the one refreshed.
        let urls: Vec<Url> = urls.into_iter().map(|url| self.recipe.crawl.canonical(url)).collect();
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
                    Change::Duplicate { of } => {
                        tracing::info!("{}: the same audio as {of}: one episode, one item", episode.page_url);
                        summary.problems.push(format!("{}: duplicate of {of} (the same audio)", episode.page_url));
                        summary.duplicates += 1;
                    }
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
}

fn cached_validators(store: &Store, url: &Url) -> Option<Validators> {
    let page = store.page(url.as_str()).ok()??;
    Some(Validators { etag: page.etag, last_modified: page.last_modified })
}
