//! The end of a run: the guards, then the feed, its page and its gzip, checked and published.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::split::PartPlan;
use super::{PipelineError, Run};
use crate::feed::{self, FeedKey};
use crate::model::{Episode, RunSummary};
use crate::publish::{self, Outcome, PublishError, Staged};
use crate::store::{FeedState, PublishedFeed, StoreError};
use crate::verify;

impl Run<'_> {
    /// Renders the feed from everything stored, checks it, publishes it, and completes the summary. Episodes
    /// are read from the cache one at a time for each pass, never all at once; the HTML page is
    /// rendered on a second thread meanwhile. What was learned is saved even when the guards
    /// refuse to publish.
    pub(super) fn finish(&self, summary: &mut RunSummary, started: Instant) -> Result<(), PipelineError> {
        self.options.progress.finished();
        self.store.flush()?;
        summary.requests = self.client.stats().total_requests();
        summary.bytes = self.client.stats().bytes();
        summary.elapsed_ms = started.elapsed().as_millis() as u64;
        check_failures(summary, self.recipe.output.max_failures)?;
        let stored = self.store.feed_keys()?;
        // The split feeds carry every episode, whatever `max_items` leaves in the main one.
        let all = match self.recipe.output.split {
            Some(_) => feed::in_feed_order(stored.clone(), 0),
            None => Vec::new(),
        };
        let keys = feed::in_feed_order(stored, self.recipe.feed.max_items);
        summary.items = keys.len() as u64;
        // An empty feed over nothing: most likely a recipe that finds nothing. (Over a published
        // feed, the shrinking check speaks.)
        if summary.items == 0 && !self.options.force && !self.options.out.exists() {
            return Err(PipelineError::Empty { read: summary.pages_read, skipped: summary.skipped });
        }
        self.check_shrinking(summary.items)?;
        self.directory_notices(&keys, &mut summary.notices)?;
        undated_notice(&keys, &mut summary.notices);
        crate::test_panic_point("finish");
        let parts = self.plan_parts(&all, &mut summary.notices)?;
        self.say_notices(&summary.notices)?;
        let (last_build, content_changed) = self.last_build_date(if parts.is_empty() { &keys } else { &all })?;
        if !content_changed && parts.is_empty() {
            if let Some(items) = self.still_published()? {
                // What would be written is on disk already, byte for byte: a quiet night of
                // many recipes costs no rendering (200 recipes: 5.2 s of CPU otherwise).
                summary.items = items;
                summary.elapsed_ms = started.elapsed().as_millis() as u64;
                return Ok(());
            }
        }
        let files = self.stage(&keys, &parts, last_build, content_changed)?;
        if files.written < keys.len() {
            summary.items = files.written as u64;
            self.note_cut(keys.len() - files.written, content_changed);
        }
        // The feed is read back before anything is published.
        verify::check_file(files.feed.new_version())?;
        // What is about to go out keeps its guid from now on, whatever stops the run next; every
        // episode in a split feed goes out too.
        let published = if parts.is_empty() { &keys[..files.written] } else { &all[..] };
        self.store.mark_published(published.iter().map(|key| key.guid.as_str()))?;
        summary.feed_changed = self.publish_staged(files, &parts)?;
        self.store.flush()?;
        summary.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(())
    }

    /// Writes the feed, its gzip, the split parts and `index.html` beside their places (the page
    /// on a second thread meanwhile), to be published once the feed reads back.
    fn stage(
        &self,
        keys: &[FeedKey],
        parts: &[PartPlan],
        last_build: DateTime<Utc>,
        content_changed: bool,
    ) -> Result<StagedFiles, PipelineError> {
        let out = &self.options.out;
        let written = std::sync::atomic::AtomicUsize::new(0);
        let write_feed = |mut out: &mut dyn io::Write| {
            let episodes = self.episodes_in(keys).map(|e| e.map_err(io::Error::other));
            let max_bytes = self.recipe.output.max_bytes;
            let items = feed::write_within(&mut out, &self.recipe.feed, episodes, last_build, max_bytes)?;
            written.store(items, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        };
        // Compress while writing only a feed whose content changed: an unchanged one keeps its
        // `feed.xml.gz`, unless the published file turns out to differ after all (edited by hand).
        let gzip_now = self.recipe.output.gzip && (content_changed || !publish::gzip_exists(out));
        let (index, staged) = std::thread::scope(|scope| {
            let index = scope.spawn(|| self.stage_index(keys, parts));
            let staged = if gzip_now {
                publish::stage_with_gzip(out, write_feed).map(|(feed, gz)| (feed, Some(gz)))
            } else {
                publish::stage(out, write_feed).map(|feed| (feed, None))
            };
            (index.join(), staged)
        });
        let index = index.map_err(|panic| PipelineError::Panicked {
            task: "rendering of the HTML page".into(),
            message: panic_text(panic.as_ref()),
        })?;
        let (index, (feed, gz)) = (index?, staged?);
        let parts = self.stage_parts(parts, last_build)?;
        Ok(StagedFiles { feed, gz, index, parts, written: written.into_inner(), gzip_now })
    }

    /// Publishes what was staged, the feed last; says whether the feed file was replaced. The
    /// gzip and the page go before the feed: should the run stop before the feed follows, the
    /// next run finds the published feed different from its own and writes all three again (an
    /// old gzip beside a new feed would not be noticed, as the content would count as unchanged).
    fn publish_staged(&self, files: StagedFiles, parts: &[PartPlan]) -> Result<bool, PipelineError> {
        let stale = self.record_parts(parts)?;
        for part in files.parts {
            part.publish()?;
        }
        if let Some(gz) = files.gz {
            gz.publish()?;
        }
        if let Some(index) = files.index {
            index.publish()?;
        }
        let feed_changed = files.feed.publish()? == Outcome::Written;
        self.record_published(files.written as u64)?;
        self.remove_stale_parts(stale, parts)?;
        if self.recipe.output.gzip && !files.gzip_now {
            // The published feed differed although its content had not changed (edited by hand).
            publish::write_gzip_beside(&self.options.out, feed_changed)?;
        }
        Ok(feed_changed)
    }

    /// `index.html` beside the feed, when the recipe asks for it; published with the feed.
    fn stage_index(&self, keys: &[FeedKey], parts: &[PartPlan]) -> Result<Option<Staged>, PipelineError> {
        if !self.recipe.output.html {
            return Ok(None);
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
        let feeds: Vec<(&str, &str)> = parts.iter().map(|p| (p.file_name.as_str(), p.label.as_str())).collect();
        let staged =
            publish::stage_index(&path, &template, &self.recipe.feed, feed_name, &feeds, keys.len(), episode_at)?;
        let failed = failure.lock().unwrap_or_else(|p| p.into_inner()).take();
        failed.map_or(Ok(Some(staged)), |e| Err(e.into()))
    }

    /// The items of the feed published last, if it is on disk as it was written, with the
    /// gzip and the page the recipe asks for beside it (a page of the recipe's own template is
    /// always rendered again: the template may have changed).
    fn still_published(&self) -> Result<Option<u64>, StoreError> {
        let out = &self.options.out;
        let output = &self.recipe.output;
        let beside = (!output.gzip || publish::gzip_exists(out))
            && (!output.html || (output.template.is_none() && out.with_file_name("index.html").exists()));
        Ok(self.published_items()?.filter(|_| beside))
    }

    /// The items of the feed published last, if the file is still as it was written: no need
    /// to read it through to count them.
    fn published_items(&self) -> Result<Option<u64>, StoreError> {
        let Some(published) = self.store.feed_state()?.and_then(|state| state.published) else { return Ok(None) };
        let same = PublishedFeed::on_disk(&self.options.out, published.items).is_some_and(|now| now == published);
        Ok(same.then_some(published.items))
    }

    /// Remembers the feed file just published, for [`Self::still_published`].
    fn record_published(&self, items: u64) -> Result<(), StoreError> {
        let Some(state) = self.store.feed_state()? else { return Ok(()) };
        let published = PublishedFeed::on_disk(&self.options.out, items);
        self.store.put_feed_state(&FeedState { published, ..state })
    }

    /// A feed that suddenly lost many items is more likely a broken recipe than a site that
    /// deleted its archive; subscribers' apps would drop those episodes.
    fn check_shrinking(&self, items: u64) -> Result<(), PipelineError> {
        let published = match self.published_items()? {
            Some(items) => items,
            None => publish::count_items(&self.options.out)?,
        };
        let limit = self.recipe.output.min_items_percent;
        if !self.options.force && items * 100 < published * u64::from(limit) {
            return Err(PipelineError::Shrinking { items, published, limit });
        }
        Ok(())
    }

    /// The stored episodes behind `keys`, read as the iterator is driven.
    pub(super) fn episodes_in<'k>(
        &'k self,
        keys: &'k [FeedKey],
    ) -> impl Iterator<Item = Result<Episode, StoreError>> + 'k {
        keys.iter().filter_map(|key| self.store.episode(&key.guid).transpose())
    }

    /// `lastBuildDate` moves only when the feed's content moves, so an unchanged site leaves
    /// the feed file byte for byte the same. Also says whether the content moved.
    fn last_build_date(&self, keys: &[FeedKey]) -> Result<(DateTime<Utc>, bool), StoreError> {
        let mut hasher = DefaultHasher::new();
        let output = &self.recipe.output;
        let zone = self.recipe.episode.timezone.map(|zone| zone.name());
        let page = (output.html, &output.template);
        (env!("CARGO_PKG_VERSION"), &self.recipe.feed, output.split, output.max_bytes, zone, page).hash(&mut hasher);
        // The stored bytes, not decoded episodes: a quiet night of many recipes spent most of
        // its CPU decoding every episode a second time only to hash it.
        for key in keys {
            if let Some(bytes) = self.store.episode_bytes(&key.guid)? {
                bytes.hash(&mut hasher);
            }
        }
        let items_hash = hasher.finish();
        match self.store.feed_state()? {
            Some(state) if state.items_hash == items_hash => Ok((state.last_build, false)),
            _ => {
                let state = FeedState { items_hash, last_build: Utc::now(), published: None };
                self.store.put_feed_state(&state)?;
                Ok((state.last_build, true))
            }
        }
    }
}

/// A site that is down (or mostly failing) must not publish a feed built from stale leftovers
/// as if all were well, on the first night of an outage or on any later one.
/// Episode pages that are dead links (a 404, not HTML) and failed on earlier runs too are
/// reported but do not count, once the site answered at all: they would otherwise fail every
/// quiet night. Pages the site fails to serve (5xx, timeouts) count every night.
fn check_failures(summary: &RunSummary, limit: u8) -> Result<(), PipelineError> {
    let tried = summary.pages_read + summary.failed;
    let what = if summary.listing_failed > 0 && summary.listing_pages == 0 {
        Some(match summary.listing_failed {
            1 => "its listing page failed".to_string(),
            n => format!("all {n} listing pages failed"),
        })
    } else if tried > 0 && summary.pages_read == 0 {
        Some(match tried {
            1 => "the one page tried failed".to_string(),
            n => format!("all {n} pages tried failed"),
        })
    } else {
        None
    };
    if let Some(what) = what {
        let reason = summary.first_failure.clone().unwrap_or_else(|| Arc::new(NoReason));
        // "Could not be reached" only when the site failed to serve; a wrong URL (a 404) says so.
        return Err(if summary.outages == summary.failed {
            PipelineError::Unreachable { what, reason }
        } else {
            PipelineError::NothingRead { what, reason }
        });
    }
    let (failed, attempted) = (summary.failed - summary.failed_again, tried - summary.failed_again);
    if failed > 0 && failed * 100 > attempted * u64::from(limit) {
        return Err(PipelineError::TooManyFailures { failed, attempted, limit });
    }
    Ok(())
}

pub(super) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let text =
        payload.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| payload.downcast_ref::<String>().cloned());
    crate::text::shorten(&text.unwrap_or_else(|| "no message".into()), 200)
}

/// A feed whose episodes have no date at all: the recipe reads none (no `published` rule, or one
/// that finds nothing), and apps sort the items as they like.
fn undated_notice(keys: &[feed::FeedKey], notices: &mut Vec<crate::model::Notice>) {
    if !keys.is_empty() && !keys.iter().any(feed::FeedKey::dated) {
        notices.push(crate::model::Notice {
            kind: "undated",
            text: format!(
                "none of the feed's {} episodes has a date: apps sort undated items as they like; give the recipe \
                 a `published` rule (`podfeed check` shows what it finds)",
                keys.len()
            ),
        });
    }
}

/// The files of a night, written beside their places and not yet published.
struct StagedFiles {
    feed: Staged,
    gz: Option<Staged>,
    index: Option<Staged>,
    parts: Vec<Staged>,
    /// Items the feed holds (fewer than asked when `max_bytes` cut it).
    written: usize,
    /// Whether the gzip was written with the feed (else it is kept, or rewritten after).
    gzip_now: bool,
}

/// The reason of a run that read nothing and recorded no failure: it cannot happen (nothing read
/// means something failed, and its reason is kept), but a bug here is said, not a panic.
#[derive(Debug, thiserror::Error)]
#[error("no reason recorded")]
struct NoReason;
