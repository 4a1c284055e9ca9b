//! Cached pages (episode and listing pages, their bodies in [`super::pack`]), and the listing
//! items read from listing pages.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::pack::{page_error, PackedPage, PageError, PageHeader, PageTrees};
use super::probes::Failure;
use super::{to_json, Store, StoreError};
use crate::extract::ItemSource;
use crate::model::{Page, Validators};

/// Runs in a row a failed page that was never cached is asked for again.
const RETRIED_RUNS: u32 = 5;

impl Store {
    /// URLs of every episode page already downloaded (including pages that were not episodes).
    /// Reads only the small headers, never the page bodies.
    /// Episode pages the cache knows: cached pages, and the pages of episodes described on
    /// listing pages (which may never be fetched).
    pub fn known_pages(&self) -> Result<HashSet<String>, StoreError> {
        let mut known = self
            .pages
            .headers
            .iter()
            .keys()
            .chain(self.page_guid.iter().keys())
            .chain(self.listed.iter().keys())
            .map(|key| key.map(|k| String::from_utf8_lossy(&k).into_owned()).map_err(|e| self.sled(e)))
            .collect::<Result<HashSet<String>, StoreError>>()?;
        // A page that failed and was never cached (its listing item stood for it) is still news:
        // it is asked for again, for a few runs; after that it is a dead link, left to `--full`.
        for failed in self.failures.iter() {
            let (url, value) = failed.map_err(|e| self.sled(e))?;
            let url = String::from_utf8_lossy(&url).into_owned();
            let attempts = match self.decode::<Failure>(&format!("failures/{url}"), &value) {
                Ok(failure) => failure.attempts,
                Err(e) => {
                    tracing::warn!("{e}");
                    RETRIED_RUNS
                }
            };
            if attempts < RETRIED_RUNS && !self.pages.headers.contains_key(&url).map_err(|e| self.sled(e))? {
                known.remove(&url);
            }
        }
        Ok(known)
    }

    pub fn page(&self, url: &str) -> Result<Option<Page>, StoreError> {
        self.pages.get(url).map_err(|e| self.page_error(e))
    }

    /// Every cached episode page, read and inflated one at a time as the iterator is driven.
    pub fn pages(&self) -> impl Iterator<Item = Result<Page, StoreError>> + Send + '_ {
        self.all_pages(&self.pages)
    }

    /// When the cached copy of an episode page was fetched, without reading the page.
    pub fn page_fetched_at(&self, url: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let Some(header) = self.pages.headers.get(url).map_err(|e| self.sled(e))? else { return Ok(None) };
        let header: PageHeader = self.decode(&format!("pages/{url}"), &header)?;
        Ok(Some(header.fetched_at))
    }

    /// The cached copy's validators, for a conditional GET, without reading the page. None
    /// when its body is not on disk: sled writes headers on its own schedule, bodies are synced
    /// at `flush`, so a power cut can keep a header whose body never reached the disk. Sending
    /// its validators would get a 304 for a page there is no copy of, every night: the page is
    /// fetched whole instead, and stored again.
    pub fn page_validators(&self, url: &str) -> Result<Option<Validators>, StoreError> {
        let Some(header) = self.pages.headers.get(url).map_err(|e| self.sled(e))? else { return Ok(None) };
        let header: PageHeader = self.decode(&format!("pages/{url}"), &header)?;
        if !self.bodies.holds(&header.body) {
            self.lost_body(url);
            return Ok(None);
        }
        Ok(Some(Validators { etag: header.etag, last_modified: header.last_modified }))
    }

    /// Notes a cached page whose body could not be read: one warning per process.
    pub fn lost_body(&self, url: &str) {
        if !self.lost_bodies.swap(true, std::sync::atomic::Ordering::Relaxed) {
            tracing::warn!(
                "{}: the cached copy of {url} is lost (a write cut short, by a power cut?): it, and any other \
                 page like it, is fetched whole again",
                self.dir.display()
            );
        }
    }

    /// The cached copy of an episode page was found current (a 304): it counts as fetched now,
    /// so a sitemap's `<lastmod>` older than now does not ask for it again.
    pub fn renew_page(&self, url: &str) -> Result<(), StoreError> {
        let Some(header) = self.pages.headers.get(url).map_err(|e| self.sled(e))? else { return Ok(()) };
        let mut header: PageHeader = self.decode(&format!("pages/{url}"), &header)?;
        header.fetched_at = Utc::now();
        self.pages.headers.insert(url, to_json(&header)).map_err(|e| self.sled(e))?;
        Ok(())
    }

    /// Every cached listing page, read as the iterator is driven.
    pub fn listing_pages(&self) -> impl Iterator<Item = Result<Page, StoreError>> + Send + '_ {
        self.all_pages(&self.listings)
    }

    fn all_pages<'s>(&'s self, trees: &'s PageTrees) -> impl Iterator<Item = Result<Page, StoreError>> + Send + 's {
        trees.headers.iter().keys().filter_map(move |key| {
            let key = match key {
                Ok(key) => key,
                Err(e) => return Some(Err(self.sled(e))),
            };
            trees.get(&String::from_utf8_lossy(&key)).map_err(|e| self.page_error(e)).transpose()
        })
    }

    /// Stores a page packed with [`PackedPage::pack`] (CPU work, best done off the reactor).
    pub fn put_page(&self, page: &PackedPage) -> Result<(), StoreError> {
        self.pages.put(page).map_err(|e| self.page_error(e))?;
        self.clear_failure(page.url())
    }

    /// A listing page as last fetched, for a conditional GET and for its links after a 304.
    pub fn listing(&self, url: &str) -> Result<Option<Page>, StoreError> {
        self.listings.get(url).map_err(|e| self.page_error(e))
    }

    pub fn put_listing(&self, page: &Page) -> Result<(), StoreError> {
        self.listings.put(&PackedPage::pack(page)).map_err(|e| self.page_error(e))?;
        self.clear_failure(&page.url)
    }

    fn page_error(&self, error: PageError) -> StoreError {
        page_error(&self.dir, error)
    }

    /// Keeps a listing item read in a run (an episode or not: a text post is known, not news),
    /// with its HTML when it is small enough to keep, for a re-extract. An unchanged item is not
    /// written again.
    pub fn put_listed(&self, link: &str, source: Option<&ItemSource>) -> Result<(), StoreError> {
        let value = source.map(to_json).unwrap_or_default();
        if self.listed.get(link).map_err(|e| self.sled(e))?.as_deref() != Some(&value[..]) {
            self.listed.insert(link, value).map_err(|e| self.sled(e))?;
        }
        Ok(())
    }

    /// The listing item kept for `link`, if its HTML was kept.
    pub fn listed(&self, link: &str) -> Result<Option<ItemSource>, StoreError> {
        match self.listed.get(link).map_err(|e| self.sled(e))? {
            Some(value) if !value.is_empty() => self.decode(&format!("listed/{link}"), &value).map(Some),
            _ => Ok(None),
        }
    }

    /// Whether a listing item was kept for `link`, with its HTML or without.
    pub fn is_listed(&self, link: &str) -> Result<bool, StoreError> {
        self.listed.contains_key(link).map_err(|e| self.sled(e))
    }

    /// Every listing item whose HTML was kept, by link, read as the iterator is driven.
    pub fn listed_items(&self) -> impl Iterator<Item = Result<(String, ItemSource), StoreError>> + Send + '_ {
        self.listed.iter().filter_map(move |entry| {
            let (key, value) = match entry {
                Ok(entry) => entry,
                Err(e) => return Some(Err(self.sled(e))),
            };
            let link = String::from_utf8_lossy(&key).into_owned();
            (!value.is_empty()).then(|| self.decode(&format!("listed/{link}"), &value).map(|source| (link, source)))
        })
    }
}
