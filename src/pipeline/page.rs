//! One page's work: fetch (or take from the cache), extract off the reactor, probe the enclosure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OnceCell, Semaphore};
use url::Url;

use super::failure::{PageFailure, ProbeFailure};
use super::{PageResult, Source};
use crate::extract::{self, Item, NotAnEpisode};
use crate::fetch::{Client, FetchError, Fetched, HeldText, RequestKind};
use crate::model::{Episode, Page, Probe, Problem, Retry};
use crate::recipe::Recipe;
use crate::store::{Failure, PackedPage, Store};

/// Pages fetched or parsed at once, per request slot. Enough to keep page requests queued well
/// ahead of the probes that follow them, so slow pages and pages told to retry later start early
/// (1,200 episodes in fault mode: 7.3 s with 4 per slot, 6.3 s with 16, no better with 32), yet a
/// bound on the page text held in memory while pages wait for a parser.
const PAGES_IN_HAND_PER_SLOT: usize = 16;

/// A run's pages in hand: its share of what one run alone keeps, at least one per slot.
fn pages_in_hand(concurrency: usize, runs_at_once: usize) -> usize {
    (concurrency * PAGES_IN_HAND_PER_SLOT / runs_at_once.max(1)).max(concurrency)
}

/// Pages parsed at once in this process, by all its runs together: the cores are shared, and
/// each parse holds a page's tree in memory.
static PARSE_SLOTS: std::sync::LazyLock<Semaphore> = std::sync::LazyLock::new(|| Semaphore::new(cores()));

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// What processing a page needs. Each page is processed in a task of its own, so its requests,
/// waits and parsing go on (on any core) while the run's own task stores results: with all
/// pages inside one task, every slot waited whenever that task was busy storing, and each
/// request held its slot 20 % longer than the site took to answer.
pub(super) struct PageWork {
    recipe: Arc<Recipe>,
    store: Store,
    client: Arc<Client>,
    /// Pages being fetched or parsed at once. Downloaded pages wait for a parse slot holding
    /// their text; without a bound all pages in progress could, and peak memory rose with the
    /// speed of the network (to 133 MB at 10,000 episodes, 10 ms). Each run has its own share,
    /// not one bound for all runs of a night: there, one run's pages waiting on their host took
    /// every place and left the other hosts idle.
    pages_in_hand: Semaphore,
    /// One probe per enclosure URL per run, even when two pages of one episode race for it.
    probes: Mutex<HashMap<String, Arc<OnceCell<Option<Probe>>>>>,
}

/// Where an enclosure's size and type may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ProbePolicy {
    /// The probe cache, else the network.
    CacheFirst,
    /// The network, always (`refresh`).
    Fresh,
    /// The network for a size known already (the file may have been replaced: the re-check
    /// window); for one still unknown, only once its next try is due.
    Recheck,
    /// The probe cache only (`--reextract` makes no requests).
    CacheOnly,
}

impl PageWork {
    pub(super) fn new(recipe: Arc<Recipe>, store: Store, client: Arc<Client>) -> PageWork {
        PageWork {
            pages_in_hand: Semaphore::new(pages_in_hand(recipe.http.concurrency, client.runs_at_once())),
            recipe,
            store,
            client,
            probes: Mutex::default(),
        }
    }

    /// Pages a re-extract keeps in progress: enough to keep every parser busy.
    pub(super) fn parsers(&self) -> usize {
        cores()
    }

    /// Fetches (or takes from the cache), extracts off the reactor, and probes one page.
    pub(super) async fn process(&self, source: Source, probes: ProbePolicy) -> PageResult {
        let (listed, source) = match source {
            Source::Listed(item) => return self.listed(*item, probes).await,
            Source::Network { url, validators, listed } => (listed, Source::Network { url, validators, listed: None }),
            Source::Cache(page, listed) => (listed, Source::Cache(page, None)),
        };
        // A page without its episode removes it, unless the item read with it was read again
        // away from its listing page (and may lack what it had there).
        let removes = !listed.as_ref().is_some_and(|item| item.reread);
        let in_hand = self.pages_in_hand.acquire().await.expect("semaphore is never closed");
        let (page, fresh, text) = match self.obtain(source).await {
            Ok(obtained) => obtained,
            Err(failed) => return self.listed_instead(failed, listed, probes).await,
        };
        let url = page.url.clone();
        let (page, extracted) = self.extract_off_reactor(page, fresh, listed).await;
        drop((in_hand, text));
        match extracted {
            Ok(mut episode) => {
                let probe_failure = self.fill_enclosure(&mut episode, probes).await;
                PageResult::Episode { episode: Box::new(episode), page, probe_failure, page_failure: None }
            }
            Err(e @ NotAnEpisode::TooComplex(_)) => PageResult::Failed { url, reason: e.into() },
            Err(reason) => PageResult::Skipped { url, page, was_read: removes, reason: reason.into() },
        }
    }

    /// An episode described on a listing page, with no page of its own to read.
    async fn listed(&self, item: Item, probes: ProbePolicy) -> PageResult {
        warn_dropped(&item, |_| true);
        let url = item.link.to_string();
        match item.fields.into_episode(&url, url.clone()) {
            Ok(mut episode) => {
                let probe_failure = self.fill_enclosure(&mut episode, probes).await;
                PageResult::Episode { episode: Box::new(episode), page: None, probe_failure, page_failure: None }
            }
            Err(reason) => PageResult::Skipped { url, page: None, was_read: !item.reread, reason: reason.into() },
        }
    }

    /// A page that failed (or robots.txt forbids), whose listing item gives an episode all the
    /// same. An episode its page gave before keeps what the page gave (a failure is then a
    /// warning: nothing is lost); one that only ever had its item takes the item as it is now.
    async fn listed_instead(&self, failed: PageResult, listed: Option<Box<Item>>, probes: ProbePolicy) -> PageResult {
        let (url, page_failure) = match &failed {
            PageResult::Failed { url, reason } => (url, Some(reason.clone())),
            PageResult::Skipped { url, was_read: false, .. } => (url, None),
            _ => return failed,
        };
        let Some(item) = listed else { return failed };
        // An episode its page gave (the page is cached) stays as the page gave it; one its item
        // alone gave takes the item's new values.
        let from_page = !matches!(self.store.page_fetched_at(url), Ok(None));
        match (from_page, &page_failure) {
            (true, Some(reason)) => return PageResult::Stood { url: url.clone(), reason: reason.clone() },
            (true, None) => return failed,
            (false, _) => {}
        }
        warn_dropped(&item, |_| true);
        let Ok(mut episode) = item.fields.into_episode(url, url.clone()) else { return failed };
        let probe_failure = self.fill_enclosure(&mut episode, probes).await;
        PageResult::Episode { episode: Box::new(episode), page: None, probe_failure, page_failure }
    }

    /// The page, whether it was freshly downloaded, and its text's share of the client's budget
    /// (held until the page is parsed); or what became of it if there is none.
    async fn obtain(&self, source: Source) -> Result<(Page, bool, HeldText), PageResult> {
        let cached = |page: Page| async {
            let held = self.client.hold_text(page.html.len()).await;
            Ok((page, false, held))
        };
        let (url, validators) = match source {
            Source::Cache(page, _) => return cached(page).await,
            Source::Network { url, validators, .. } => (url, validators),
            Source::Listed(_) => {
                let url = source.url();
                return Err(PageResult::Skipped { url, page: None, was_read: false, reason: PageFailure::NoPage });
            }
        };
        let failed = |reason: PageFailure| PageResult::Failed { url: url.to_string(), reason };
        let in_scope = |url: &Url| self.recipe.crawl.in_scope(url);
        let mut fetched = self.client.page(&url, RequestKind::Episode, validators.as_ref(), &in_scope).await;
        if let Ok(Fetched::NotModified) = fetched {
            match self.store.page(url.as_str()) {
                Ok(Some(page)) => {
                    if let Err(e) = self.store.renew_page(url.as_str()) {
                        tracing::warn!("{e}");
                    }
                    return cached(page).await;
                }
                // The copy the validators stood for cannot be read: the page is fetched whole.
                Ok(None) | Err(_) => {
                    self.store.lost_body(url.as_str());
                    fetched = self.client.page(&url, RequestKind::Episode, None, &in_scope).await;
                }
            }
        }
        match fetched {
            Ok(Fetched::Page(page, held)) => Ok((page, true, held)),
            Ok(Fetched::NotModified) => Err(failed(PageFailure::NotModifiedUnasked)),
            Err(FetchError::Disallowed) => {
                let reason = FetchError::Disallowed.into();
                Err(PageResult::Skipped { url: url.to_string(), page: None, was_read: false, reason })
            }
            Err(e) => Err(failed(e.into())),
        }
    }

    /// Parses (and, for a fresh page, deflates it for the cache) on the blocking pool, so the
    /// task driving the stream only moves data. Parsed documents are large, so no more of them
    /// are held at once than there are cores.
    async fn extract_off_reactor(
        &self,
        page: Page,
        fresh: bool,
        listed: Option<Box<Item>>,
    ) -> (Option<PackedPage>, Result<Episode, NotAnEpisode>) {
        let _slot = PARSE_SLOTS.acquire().await.expect("semaphore is never closed");
        let recipe = self.recipe.clone();
        let parsed = tokio::task::spawn_blocking(move || {
            crate::test_panic_point("page");
            let extracted = extract_page(&page, &recipe, listed);
            (fresh.then(|| PackedPage::pack(&page)), extracted)
        })
        .await;
        // A panic is a bug, not a bad page: it fails the run (see `Run::spawn_process`).
        parsed.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// Size and type of the enclosure, from the probe cache or a HEAD/range request. Says why
    /// when the probe failed (only to the first page asking, so a failure is reported once).
    pub(super) async fn fill_enclosure(&self, episode: &mut Episode, policy: ProbePolicy) -> Option<Problem> {
        let url = episode.enclosure.url.clone();
        let cell = {
            let mut probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
            probes.entry(url.clone()).or_default().clone()
        };
        let mut failure = None;
        let probe = cell
            .get_or_init(|| async {
                self.probe(&url, &episode.page_url, policy).await.unwrap_or_else(|(reason, retry)| {
                    let (audio, page, reason) = (url.clone(), episode.page_url.clone(), Arc::new(reason));
                    failure = Some(Problem::Enclosure { audio, page, reason, retry });
                    None
                })
            })
            .await;
        if let Some(probe) = probe {
            episode.enclosure.length = probe.length;
            episode.enclosure.mime_type = probe.mime_type.clone();
        }
        failure
    }

    /// Whether this run has probed (or is probing) `url` already.
    pub(super) fn probed(&self, url: &str) -> bool {
        self.probes.lock().unwrap_or_else(|p| p.into_inner()).contains_key(url)
    }

    /// The enclosure's size and type; `Ok(None)` when the policy allows no request. A failure is
    /// recorded, to be tried again on a later run (when, it says), unless an earlier probe
    /// already knows the size.
    async fn probe(
        &self,
        url: &str,
        page_url: &str,
        policy: ProbePolicy,
    ) -> Result<Option<Probe>, (ProbeFailure, Retry)> {
        let cached = match self.store.probe(url) {
            Ok(cached) => cached.filter(|probe| probe.length.is_some()),
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        };
        match (policy, cached) {
            (ProbePolicy::CacheFirst | ProbePolicy::CacheOnly, Some(probe)) => return Ok(Some(probe)),
            (ProbePolicy::Recheck | ProbePolicy::Fresh, Some(cached)) => {
                return Ok(Some(self.probe_again(url, page_url, cached).await));
            }
            // Failed before and not due yet: the backoff holds whichever page asks.
            (ProbePolicy::CacheFirst | ProbePolicy::Recheck, None) if self.waiting(url) => return Ok(None),
            (ProbePolicy::CacheOnly, None) => {
                // A re-extract that found a new audio URL: the next run with a network probes it.
                if let Err(e) = self.store.schedule_probe(url, page_url, "not probed yet (re-extracted)") {
                    tracing::warn!("{e}");
                }
                return Ok(None);
            }
            (ProbePolicy::CacheFirst | ProbePolicy::Recheck | ProbePolicy::Fresh, None) => {}
        }
        let reason = match self.probe_network(url).await {
            Ok(probe) => {
                self.remember_probe(url, &probe);
                return Ok(Some(probe));
            }
            Err(reason) => reason,
        };
        let retry = match self.store.record_probe_failure(url, page_url, &reason.to_string()) {
            Ok(Failure { attempts: 0 | 1, .. }) => Retry::NextRun,
            Ok(Failure { retry_at: Some(at), .. }) => Retry::From(at.date_naive()),
            Ok(_) => Retry::Unknown,
            Err(e) => {
                tracing::warn!("{e}");
                Retry::Unknown
            }
        };
        Err((reason, retry))
    }

    /// Whether an earlier probe of `url` failed and its next try is not due yet.
    fn waiting(&self, url: &str) -> bool {
        match self.store.probe_failure(url) {
            Ok(failure) => failure.and_then(|f| f.retry_at).is_some_and(|at| at > chrono::Utc::now()),
            Err(e) => {
                tracing::warn!("{e}");
                false
            }
        }
    }

    /// A probe of an enclosure whose size is known: a new size (the file was replaced) replaces
    /// it; a failure keeps it.
    async fn probe_again(&self, url: &str, page_url: &str, cached: Probe) -> Probe {
        match self.probe_network(url).await {
            Ok(probe) => {
                self.remember_probe(url, &probe);
                probe
            }
            Err(reason) => {
                tracing::info!("enclosure {url} of {page_url}: {reason}; the size learned earlier is kept");
                cached
            }
        }
    }

    async fn probe_network(&self, url: &str) -> Result<Probe, ProbeFailure> {
        Ok(self.client.probe(&Url::parse(url)?).await?)
    }

    fn remember_probe(&self, url: &str, probe: &Probe) {
        if let Err(e) = self.store.put_probe(url, probe).and_then(|()| self.store.clear_probe_failure(url)) {
            tracing::warn!("{e}");
        }
    }
}

/// The page's episode, over its listing item's fields. What either could not use is warned
/// about, the item's only where the page gave nothing in its place.
fn extract_page(page: &Page, recipe: &Recipe, listed: Option<Box<Item>>) -> Result<Episode, NotAnEpisode> {
    let fields = listed.as_ref().map(|item| item.fields.clone()).unwrap_or_default();
    let (extracted, trace) = extract::extract_over(page, &recipe.episode, fields);
    if let Some(item) = &listed {
        warn_dropped(item, |field| trace.iter().any(|t| t.field == field && t.rule.is_none()));
    }
    let extracted = extracted?;
    for dropped in &extracted.dropped {
        tracing::warn!("{}: {dropped}", page.url);
    }
    Ok(extracted.episode)
}

/// Warns of the values a listing item gave for `field`s that could not be used.
fn warn_dropped(item: &Item, field_wanted: impl Fn(&str) -> bool) {
    for dropped in item.dropped.iter().filter(|d| field_wanted(d.field)) {
        tracing::warn!("{} (its listing item): {dropped}", item.link);
    }
}
