//! The cache: one sled database per recipe. Everything crosses this border as plain types.
//!
//! Trees and keys:
//! - `meta`: `schema` → version (u32, big endian); `feed_state` → JSON [`FeedState`];
//!   `archive_seen` → present once a crawl has read every listing page; `artwork` → JSON
//!   [`ArtworkVerdict`], what the show's image was found to be; `notices` → JSON list of the
//!   kinds of advice the last run gave (each is said once); `split_files` → JSON
//!   [`SplitFiles`], the split feeds published and where
//! - `episodes`: guid → JSON [`Episode`]
//! - `page_guid`: episode page URL → guid
//! - `pages`: episode page URL → JSON [`PageHeader`], which points at the deflated HTML in a
//!   pack file under `packs/` (see [`PageTrees`])
//! - `listings`: listing pages, the same way
//!
//! The sled database itself is the folder `db/` of the cache.
//! - `probes`: enclosure URL → JSON [`Probe`]
//! - `failures`: page URL → JSON [`Failure`]
//! - `probe_failures`: enclosure URL → JSON [`Failure`], enclosures whose size is not known yet
//! - `enclosures`: enclosure URL → guid of the one episode with that audio
//! - `duplicates`: page URL → JSON [`Duplicate`], pages whose episode has another's audio
//! - `listed`: link → JSON [`ItemSource`] (or nothing, for one too large), every listing item read
//! - `published`: guid → nothing, every guid that went out in a published feed
//! - `identities`: `file:NAME|SECONDS` and `title:TITLE|DAY` → guid of a published episode
//! - `rule_guids`: published guid → the guid the recipe's rules give the episode now, when other

use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::extract::ItemSource;
use crate::feed::FeedKey;
use crate::model::{Episode, Page, Probe, Validators};

mod compact;
mod guids;

pub use compact::Compacted;

/// Bumped whenever the key layout or a value encoding changes incompatibly.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cache {} is in use by another podfeed run{}; try again later, or pass --wait", .dir.display(), .pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Locked { dir: PathBuf, pid: Option<u32> },
    #[error("cache {dir} has schema version {found}, this podfeed reads version {SCHEMA_VERSION}; use a newer podfeed or another --cache")]
    Schema { dir: PathBuf, found: String },
    #[error("cache {dir}: {source}")]
    Sled { dir: PathBuf, source: sled::Error },
    #[error("cache {dir}: {source}")]
    Io { dir: PathBuf, source: std::io::Error },
    #[error("cache {dir}: damaged value under {key}: {reason}")]
    Corrupt { dir: PathBuf, key: String, reason: String },
}

/// What storing an episode changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    New,
    Updated,
    Unchanged,
    /// Another episode has the same audio: this one is not stored (see [`Duplicate`]).
    Duplicate {
        of: String,
    },
}

/// A page whose episode has the audio of another: one episode, one item. The one kept is the
/// one whose page is its own canonical link, else the one found first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duplicate {
    pub page_url: String,
    pub title: String,
    pub enclosure: String,
    /// The guid of the episode kept.
    pub of: String,
    pub at: DateTime<Utc>,
}

/// A page that could not be fetched, or an enclosure whose size could not be learned; kept until
/// it succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub url: String,
    pub reason: String,
    /// The last failed attempt.
    pub at: DateTime<Utc>,
    /// Failed attempts in a row, on as many runs.
    #[serde(default = "one")]
    pub attempts: u32,
    /// For an enclosure: the episode page that gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enclosure_of: Option<String>,
    /// For an enclosure: the first run after this time probes it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<DateTime<Utc>>,
}

fn one() -> u32 {
    1
}

/// How long a failed probe waits before the next try: the next run, then 1, 2, 4, 8, 16 days,
/// then 30 days. An hour less each, so that nightly runs a day apart count as a day apart.
pub fn probe_backoff(attempts: u32) -> chrono::Duration {
    match attempts {
        0 | 1 => chrono::Duration::zero(),
        n => chrono::Duration::days(2i64.saturating_pow(n - 2).min(30)) - chrono::Duration::hours(1),
    }
}

/// The split feeds published beside a main feed: their file names, and the main feed's path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitFiles {
    pub out: String,
    pub names: Vec<String>,
}

/// The show's image as a check found it: `problem` is `None` when Apple would take it, or when
/// it could not be read (`unread` says why; it is tried again on the next run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtworkVerdict {
    pub url: String,
    pub problem: Option<String>,
    #[serde(default)]
    pub unread: Option<String>,
}

/// What the last written feed's items looked like, so `lastBuildDate` moves only when they change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedState {
    pub items_hash: u64,
    pub last_build: DateTime<Utc>,
    /// The feed file written with these items, as it was on disk just after (`None` until it
    /// is published).
    #[serde(default)]
    pub published: Option<PublishedFeed>,
}

/// A published feed file, told apart from any other by its path, size, modification time and
/// (on Unix) inode and change time: a copy with the size and modification time kept
/// (`cp -p`, `rsync -t`) is another file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedFeed {
    pub path: String,
    pub len: u64,
    pub modified_ns: u128,
    /// Inode and change time (ns); 0 where the system has none, and in older caches.
    #[serde(default)]
    pub inode: u64,
    #[serde(default)]
    pub changed_ns: i128,
    /// Items it carries (fewer than the feed's episodes when `max_bytes` cut it).
    pub items: u64,
}

impl PublishedFeed {
    /// The file at `path` as it is now, said to carry `items`; `None` if it cannot be read.
    pub fn on_disk(path: &Path, items: u64) -> Option<PublishedFeed> {
        let meta = std::fs::metadata(path).ok()?;
        let modified_ns = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
        let (inode, changed_ns) = identity(&meta);
        Some(PublishedFeed { path: path.display().to_string(), len: meta.len(), modified_ns, inode, changed_ns, items })
    }
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> (u64, i128) {
    use std::os::unix::fs::MetadataExt;
    (meta.ino(), i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()))
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> (u64, i128) {
    (0, 0)
}

/// The fields of a stored [`Episode`] that place it in the feed: decoding only these skips
/// the descriptions, which are most of the bytes.
#[derive(Deserialize)]
struct KeyFields {
    guid: String,
    #[serde(default)]
    published: Option<DateTime<Utc>>,
}

#[derive(Clone, Serialize, Deserialize)]
struct PageHeader {
    body: BodyRef,
    final_url: String,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
    fetched_at: DateTime<Utc>,
}

/// Runs in a row a failed page that was never cached is asked for again.
const RETRIED_RUNS: u32 = 5;

/// Names the process that has the cache open, for the message a second one gets.
const PID_FILE: &str = "podfeed.pid";

/// sled's page cache; sled's default (1 GB) would let memory grow with the archive.
const CACHE_CAPACITY: u64 = 8 * 1024 * 1024;

/// A handle on the cache; clones share one database.
#[derive(Clone)]
pub struct Store {
    dir: PathBuf,
    db: sled::Db,
    meta: sled::Tree,
    episodes: sled::Tree,
    page_guid: sled::Tree,
    pages: PageTrees,
    listings: PageTrees,
    bodies: Arc<Packs>,
    probes: sled::Tree,
    failures: sled::Tree,
    probe_failures: sled::Tree,
    enclosures: sled::Tree,
    duplicates: sled::Tree,
    listed: sled::Tree,
    /// See [`guids`].
    published: sled::Tree,
    identities: sled::Tree,
    rule_guids: sled::Tree,
    /// Pages whose episode was stored by this process (this run): see [`guids`].
    touched: Arc<Mutex<HashSet<String>>>,
    /// Whether a page's lost body was warned about.
    lost_bodies: Arc<std::sync::atomic::AtomicBool>,
}

impl Store {
    /// Opens (or creates) the cache in `dir`. Fails fast if another process has it open.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let db =
            sled::Config::new().path(dir.join("db")).cache_capacity(CACHE_CAPACITY).open().map_err(|e| match e {
                // sled wraps the failed file lock in an `Other` error; its text is the only marker.
                sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => StoreError::Locked {
                    dir: dir.to_path_buf(),
                    pid: std::fs::read_to_string(dir.join(PID_FILE)).ok().and_then(|p| p.trim().parse().ok()),
                },
                other => StoreError::Sled { dir: dir.to_path_buf(), source: other },
            })?;
        // Only the process holding sled's lock gets here: tell a second one who holds it.
        let _ = std::fs::write(dir.join(PID_FILE), std::process::id().to_string());
        let sled_err = |source| StoreError::Sled { dir: dir.to_path_buf(), source };
        let page_err = |e| page_error(dir, e);
        let bodies = Arc::new(Packs::open(dir.join("packs")).map_err(|e| page_err(PageError::Io(e)))?);
        let tree = |name: &str| db.open_tree(name).map_err(sled_err);
        let store = Store {
            meta: tree("meta")?,
            episodes: tree("episodes")?,
            page_guid: tree("page_guid")?,
            pages: PageTrees::open(&db, "pages", bodies.clone()).map_err(page_err)?,
            listings: PageTrees::open(&db, "listings", bodies.clone()).map_err(page_err)?,
            bodies,
            probes: tree("probes")?,
            failures: tree("failures")?,
            probe_failures: tree("probe_failures")?,
            enclosures: tree("enclosures")?,
            duplicates: tree("duplicates")?,
            listed: tree("listed")?,
            published: tree("published")?,
            identities: tree("identities")?,
            rule_guids: tree("rule_guids")?,
            touched: Arc::default(),
            lost_bodies: Arc::default(),
            dir: dir.to_path_buf(),
            db,
        };
        store.check_schema()?;
        store.index_enclosures()?;
        store.schedule_unknown_sizes()?;
        Ok(store)
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        match self.meta.get("schema").map_err(|e| self.sled(e))? {
            None if self.pages.headers.is_empty() && self.episodes.is_empty() => {
                self.meta.insert("schema", &SCHEMA_VERSION.to_be_bytes()).map_err(|e| self.sled(e))?;
                Ok(())
            }
            None => Err(StoreError::Schema { dir: self.dir.clone(), found: "none".into() }),
            Some(bytes) => match <[u8; 4]>::try_from(bytes.as_ref()).map(u32::from_be_bytes) {
                Ok(SCHEMA_VERSION) => Ok(()),
                Ok(other) => Err(StoreError::Schema { dir: self.dir.clone(), found: other.to_string() }),
                Err(_) => Err(StoreError::Schema { dir: self.dir.clone(), found: "unreadable".into() }),
            },
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    // --- pages -----------------------------------------------------------------------------

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
        self.clear_failure(&page.url)
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

    // --- episodes --------------------------------------------------------------------------

    /// Where each stored episode goes in the feed; reads one episode at a time.
    pub fn feed_keys(&self) -> Result<Vec<FeedKey>, StoreError> {
        self.episodes
            .iter()
            .map(|entry| {
                let (key, value) = entry.map_err(|e| self.sled(e))?;
                let key: KeyFields = self.decode(&format!("episodes/{}", String::from_utf8_lossy(&key)), &value)?;
                Ok(FeedKey::new(key.guid, key.published))
            })
            .collect()
    }

    pub fn episode(&self, guid: &str) -> Result<Option<Episode>, StoreError> {
        self.get_json(&self.episodes, "episodes", guid)
    }

    /// An episode as stored, not decoded: enough to tell whether it changed.
    pub fn episode_bytes(&self, guid: &str) -> Result<Option<sled::IVec>, StoreError> {
        self.episodes.get(guid).map_err(|e| self.sled(e))
    }

    /// Stores an episode under its guid. The same episode reached from a second URL keeps the
    /// page URL it was first found at; a page whose guid changed drops its old entry. An episode
    /// with the audio of another is one of them: the one whose page is its own canonical link is
    /// kept, else the one stored first, and the other is recorded as a duplicate.
    pub fn put_episode(&self, episode: &Episode) -> Result<Change, StoreError> {
        let mut episode = episode.clone();
        if let Some(of) = self.pin_guid(&mut episode)? {
            return Ok(Change::Duplicate { of });
        }
        let mut previous = self.episode(&episode.guid)?;
        if let Some(previous) = &previous {
            if previous.page_url != episode.page_url
                && self.guid_of_page(&previous.page_url)?.as_deref() == Some(&episode.guid)
            {
                episode.page_url = previous.page_url.clone();
            }
        }
        self.forget_page_episode(&episode.page_url, Some(&episode.guid))?;
        let indexed = self.enclosures.get(episode.enclosure.url.as_str()).map_err(|e| self.sled(e))?;
        let indexed = indexed.map(|guid| String::from_utf8_lossy(&guid).into_owned());
        if let Some(kept) = self.other_episode_with_audio(&episode, indexed.as_deref())? {
            if is_canonical(&episode) && !is_canonical(&kept) && self.published(&kept.guid)? {
                // The episode's own page takes it over, under the guid it was published with.
                if let Some(previous) = &previous {
                    self.forget_episode(previous)?;
                }
                self.page_guid.remove(kept.page_url.as_str()).map_err(|e| self.sled(e))?;
                self.put_duplicate(&kept, &kept.guid)?;
                self.keep_rule_guid(&kept.guid, &episode.guid)?;
                episode.guid = kept.guid.clone();
                previous = Some(kept);
            } else if is_canonical(&episode) && !is_canonical(&kept) {
                self.forget_page_episode(&kept.page_url, None)?;
                self.put_duplicate(&kept, &episode.guid)?;
            } else {
                // Stored before under other audio, this guid is no episode of its own any more.
                if let Some(previous) = &previous {
                    self.forget_episode(previous)?;
                }
                self.put_duplicate(&episode, &kept.guid)?;
                return Ok(Change::Duplicate { of: kept.guid });
            }
        }
        self.forget_duplicate(&episode.page_url)?;
        if let Some(previous) = previous.as_ref().filter(|p| p.enclosure.url != episode.enclosure.url) {
            self.forget_enclosure(previous)?;
        }
        // The index names the stored episode even when nothing else changed (a cache upgraded).
        if indexed.as_deref() != Some(episode.guid.as_str()) {
            let url = episode.enclosure.url.as_str();
            self.enclosures.insert(url, episode.guid.as_str()).map_err(|e| self.sled(e))?;
        }
        let change = match &previous {
            None => Change::New,
            Some(previous) if *previous == episode => return Ok(Change::Unchanged),
            Some(_) => Change::Updated,
        };
        self.episodes.insert(episode.guid.as_str(), to_json(&episode)).map_err(|e| self.sled(e))?;
        self.page_guid.insert(episode.page_url.as_str(), episode.guid.as_str()).map_err(|e| self.sled(e))?;
        Ok(change)
    }

    /// Drops a stored episode with what points at it.
    fn forget_episode(&self, episode: &Episode) -> Result<(), StoreError> {
        self.episodes.remove(episode.guid.as_str()).map_err(|e| self.sled(e))?;
        self.forget_enclosure(episode)?;
        if self.guid_of_page(&episode.page_url)?.as_deref() == Some(episode.guid.as_str()) {
            self.page_guid.remove(episode.page_url.as_str()).map_err(|e| self.sled(e))?;
        }
        Ok(())
    }

    /// The stored episode, other than this one, whose audio this episode has; `indexed` is the
    /// guid the enclosure index gives for that audio.
    fn other_episode_with_audio(
        &self,
        episode: &Episode,
        indexed: Option<&str>,
    ) -> Result<Option<Episode>, StoreError> {
        match indexed {
            Some(guid) if guid != episode.guid => {
                Ok(self.episode(guid)?.filter(|other| other.enclosure.url == episode.enclosure.url))
            }
            _ => Ok(None),
        }
    }

    fn put_duplicate(&self, episode: &Episode, of: &str) -> Result<(), StoreError> {
        let duplicate = Duplicate {
            page_url: episode.page_url.clone(),
            title: episode.title.clone(),
            enclosure: episode.enclosure.url.clone(),
            of: of.to_string(),
            at: Utc::now(),
        };
        self.duplicates.insert(episode.page_url.as_str(), to_json(&duplicate)).map_err(|e| self.sled(e))?;
        Ok(())
    }

    /// A removal is a write even when there is nothing to remove (and sled 0.34 keeps what it
    /// writes in memory): look first.
    fn forget_duplicate(&self, page_url: &str) -> Result<(), StoreError> {
        if self.duplicates.contains_key(page_url).map_err(|e| self.sled(e))? {
            self.duplicates.remove(page_url).map_err(|e| self.sled(e))?;
        }
        Ok(())
    }

    /// Pages whose episode is another's, in page URL order.
    pub fn duplicates(&self) -> Result<Vec<Duplicate>, StoreError> {
        self.all_json(&self.duplicates, "duplicates")
    }

    fn forget_enclosure(&self, episode: &Episode) -> Result<(), StoreError> {
        let url = episode.enclosure.url.as_str();
        let owner = self.enclosures.get(url).map_err(|e| self.sled(e))?;
        if owner.as_deref() == Some(episode.guid.as_bytes()) {
            self.enclosures.remove(url).map_err(|e| self.sled(e))?;
        }
        Ok(())
    }

    /// Caches written before the enclosure index existed get it on first open, and the episodes
    /// they hold that share audio become one, as if each had been stored anew.
    fn index_enclosures(&self) -> Result<(), StoreError> {
        if !self.enclosures.is_empty() {
            return Ok(());
        }
        let guids: Vec<String> = self
            .episodes
            .iter()
            .keys()
            .map(|key| key.map(|k| String::from_utf8_lossy(&k).into_owned()).map_err(|e| self.sled(e)))
            .collect::<Result<_, _>>()?;
        for guid in guids {
            if let Some(episode) = self.episode(&guid)? {
                self.put_episode(&episode)?;
            }
        }
        Ok(())
    }

    /// Caches from before probes were retried hold episodes whose size is unknown for good: give
    /// each a failure record due at once, so the next run probes them. Once per cache.
    fn schedule_unknown_sizes(&self) -> Result<(), StoreError> {
        const DONE: &str = "unknown_sizes_scheduled";
        if self.meta.contains_key(DONE).map_err(|e| self.sled(e))? {
            return Ok(());
        }
        for value in self.episodes.iter().values() {
            let episode: Episode = self.decode("episodes", &value.map_err(|e| self.sled(e))?)?;
            if episode.enclosure.length.is_none() {
                self.schedule_probe(&episode.enclosure.url, &episode.page_url, "size unknown (an earlier podfeed)")?;
            }
        }
        self.meta.insert(DONE, &[1u8]).map_err(|e| self.sled(e))?;
        Ok(())
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

    /// A page that no longer yields an episode (its audio was removed, say) drops the one it had.
    pub fn page_is_not_an_episode(&self, page_url: &str) -> Result<(), StoreError> {
        self.forget_duplicate(page_url)?;
        self.forget_page_episode(page_url, None)
    }

    fn forget_page_episode(&self, page_url: &str, keep_guid: Option<&str>) -> Result<(), StoreError> {
        let Some(old_guid) = self.guid_of_page(page_url)? else {
            return Ok(());
        };
        if Some(old_guid.as_str()) == keep_guid {
            return Ok(());
        }
        if let Some(old) = self.episode(&old_guid)?.filter(|old| old.page_url == page_url) {
            self.episodes.remove(old_guid.as_str()).map_err(|e| self.sled(e))?;
            self.forget_enclosure(&old)?;
        }
        self.page_guid.remove(page_url).map_err(|e| self.sled(e))?;
        Ok(())
    }

    pub fn guid_of_page(&self, page_url: &str) -> Result<Option<String>, StoreError> {
        Ok(self.page_guid.get(page_url).map_err(|e| self.sled(e))?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    // --- probes, failures, feed state ---------------------------------------------------------

    pub fn probe(&self, enclosure_url: &str) -> Result<Option<Probe>, StoreError> {
        self.get_json(&self.probes, "probes", enclosure_url)
    }

    pub fn put_probe(&self, enclosure_url: &str, probe: &Probe) -> Result<(), StoreError> {
        self.probes.insert(enclosure_url, to_json(probe)).map_err(|e| self.sled(e))?;
        Ok(())
    }

    /// Records a failed page; says whether it had failed before too (a dead link, not news).
    pub fn record_failure(&self, url: &str, reason: &str) -> Result<bool, StoreError> {
        let previous: Option<Failure> = self.get_json(&self.failures, "failures", url)?;
        let failure = Failure {
            url: url.to_string(),
            reason: reason.to_string(),
            at: Utc::now(),
            attempts: previous.as_ref().map_or(1, |p| p.attempts.saturating_add(1)),
            enclosure_of: None,
            retry_at: None,
        };
        self.failures.insert(url, to_json(&failure)).map_err(|e| self.sled(e))?;
        Ok(previous.is_some())
    }

    /// Records a failed enclosure probe and when to try it again (see [`probe_backoff`]).
    pub fn record_probe_failure(&self, url: &str, page_url: &str, reason: &str) -> Result<Failure, StoreError> {
        let previous: Option<Failure> = self.get_json(&self.probe_failures, "probe_failures", url)?;
        let attempts = previous.map_or(1, |p| p.attempts.saturating_add(1));
        let at = Utc::now();
        let failure = Failure {
            url: url.to_string(),
            reason: reason.to_string(),
            at,
            attempts,
            enclosure_of: Some(page_url.to_string()),
            retry_at: Some(at + probe_backoff(attempts)),
        };
        self.probe_failures.insert(url, to_json(&failure)).map_err(|e| self.sled(e))?;
        Ok(failure)
    }

    /// Asks the next run to probe an enclosure never probed (a re-extract makes no requests),
    /// unless it is scheduled already.
    pub fn schedule_probe(&self, url: &str, page_url: &str, reason: &str) -> Result<(), StoreError> {
        if self.probe_failures.contains_key(url).map_err(|e| self.sled(e))? {
            return Ok(());
        }
        let at = Utc::now();
        let failure = Failure {
            url: url.to_string(),
            reason: reason.to_string(),
            at,
            attempts: 0,
            enclosure_of: Some(page_url.to_string()),
            retry_at: Some(at),
        };
        self.probe_failures.insert(url, to_json(&failure)).map_err(|e| self.sled(e))?;
        Ok(())
    }

    /// A removal is a write even when there is nothing to remove: look first.
    pub fn clear_probe_failure(&self, url: &str) -> Result<(), StoreError> {
        if self.probe_failures.contains_key(url).map_err(|e| self.sled(e))? {
            self.probe_failures.remove(url).map_err(|e| self.sled(e))?;
        }
        Ok(())
    }

    /// The failed probe of `url`, if its size is still unknown.
    pub fn probe_failure(&self, url: &str) -> Result<Option<Failure>, StoreError> {
        self.get_json(&self.probe_failures, "probe_failures", url)
    }

    /// Enclosures whose size is still unknown, in URL order.
    pub fn probe_failures(&self) -> Result<Vec<Failure>, StoreError> {
        self.all_json(&self.probe_failures, "probe_failures")
    }

    /// The stored episode whose audio is at `enclosure_url`, if one is.
    pub fn episode_with_audio(&self, enclosure_url: &str) -> Result<Option<Episode>, StoreError> {
        let Some(guid) = self.enclosures.get(enclosure_url).map_err(|e| self.sled(e))? else { return Ok(None) };
        let episode = self.episode(&String::from_utf8_lossy(&guid))?;
        Ok(episode.filter(|e| e.enclosure.url == enclosure_url))
    }

    fn clear_failure(&self, url: &str) -> Result<(), StoreError> {
        self.failures.remove(url).map_err(|e| self.sled(e))?;
        Ok(())
    }

    pub fn failures(&self) -> Result<Vec<Failure>, StoreError> {
        self.all_json(&self.failures, "failures")
    }

    /// Whether some crawl has read every listing page (so later runs may stop paging early).
    pub fn archive_seen(&self) -> Result<bool, StoreError> {
        self.meta.contains_key("archive_seen").map_err(|e| self.sled(e))
    }

    pub fn set_archive_seen(&self) -> Result<(), StoreError> {
        self.meta.insert("archive_seen", &[1u8]).map_err(|e| self.sled(e))?;
        Ok(())
    }

    pub fn feed_state(&self) -> Result<Option<FeedState>, StoreError> {
        self.get_json(&self.meta, "meta", "feed_state")
    }

    pub fn put_feed_state(&self, state: &FeedState) -> Result<(), StoreError> {
        self.meta.insert("feed_state", to_json(state)).map_err(|e| self.sled(e))?;
        Ok(())
    }

    /// What the show's image at `url` was found to be, if it was checked.
    pub fn artwork_verdict(&self, url: &str) -> Result<Option<ArtworkVerdict>, StoreError> {
        let verdict: Option<ArtworkVerdict> = self.get_json(&self.meta, "meta", "artwork")?;
        Ok(verdict.filter(|v| v.url == url))
    }

    pub fn put_artwork_verdict(&self, verdict: &ArtworkVerdict) -> Result<(), StoreError> {
        self.meta.insert("artwork", to_json(verdict)).map_err(|e| self.sled(e))?;
        Ok(())
    }

    /// The kinds of advice (warnings about the feed, not about pages) the last run gave.
    pub fn notices(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.get_json(&self.meta, "meta", "notices")?.unwrap_or_default())
    }

    pub fn put_notices(&self, notices: &[String]) -> Result<(), StoreError> {
        self.meta.insert("notices", to_json(&notices)).map_err(|e| self.sled(e))?;
        Ok(())
    }

    /// The split feeds runs published beside the main feed, and where.
    pub fn split_files(&self) -> Result<Option<SplitFiles>, StoreError> {
        self.get_json(&self.meta, "meta", "split_files")
    }

    pub fn put_split_files(&self, files: &SplitFiles) -> Result<(), StoreError> {
        self.meta.insert("split_files", to_json(files)).map_err(|e| self.sled(e))?;
        Ok(())
    }

    /// Makes everything written so far durable: page bodies first, then what points at them.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.bodies.sync().map_err(|e| page_error(&self.dir, PageError::Io(e)))?;
        self.db.flush().map_err(|e| self.sled(e))?;
        Ok(())
    }

    // --- helpers -------------------------------------------------------------------------------

    fn get_json<T: DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        tree_name: &str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        match tree.get(key).map_err(|e| self.sled(e))? {
            Some(bytes) => self.decode(&format!("{tree_name}/{key}"), &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Every value of a tree, in key order.
    fn all_json<T: DeserializeOwned>(&self, tree: &sled::Tree, tree_name: &str) -> Result<Vec<T>, StoreError> {
        tree.iter()
            .values()
            .map(|v| {
                let v = v.map_err(|e| self.sled(e))?;
                self.decode(tree_name, &v)
            })
            .collect()
    }

    fn decode<T: DeserializeOwned>(&self, key: &str, bytes: &[u8]) -> Result<T, StoreError> {
        serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
            dir: self.dir.clone(),
            key: key.to_string(),
            reason: e.to_string(),
        })
    }

    fn sled(&self, source: sled::Error) -> StoreError {
        StoreError::Sled { dir: self.dir.clone(), source }
    }
}

fn page_error(dir: &Path, error: PageError) -> StoreError {
    match error {
        PageError::Sled(source) => StoreError::Sled { dir: dir.to_path_buf(), source },
        PageError::Io(source) => StoreError::Io { dir: dir.to_path_buf(), source },
        PageError::Corrupt { key, reason } => StoreError::Corrupt { dir: dir.to_path_buf(), key, reason },
    }
}

/// Pages: small JSON headers in a sled tree (which also say which pages are known), with the
/// deflated bodies appended to pack files. sled 0.34 keeps every value it has read or written in
/// memory whatever its `cache_capacity` (measured: 180 MB for 10,000 pages), and one file per page
/// makes the file system the bottleneck; pack files keep memory flat and writes cheap.
#[derive(Clone)]
struct PageTrees {
    headers: sled::Tree,
    bodies: Arc<Packs>,
}

enum PageError {
    Sled(sled::Error),
    Io(std::io::Error),
    Corrupt { key: String, reason: String },
}

impl PageTrees {
    fn open(db: &sled::Db, name: &str, bodies: Arc<Packs>) -> Result<PageTrees, PageError> {
        Ok(PageTrees { headers: db.open_tree(name).map_err(PageError::Sled)?, bodies })
    }

    fn get(&self, url: &str) -> Result<Option<Page>, PageError> {
        let corrupt = |reason: String| PageError::Corrupt { key: format!("pages/{url}"), reason };
        let Some(header) = self.headers.get(url).map_err(PageError::Sled)? else { return Ok(None) };
        let header: PageHeader = serde_json::from_slice(&header).map_err(|e| corrupt(e.to_string()))?;
        let body = self.bodies.read(&header.body).map_err(|e| corrupt(format!("body: {e}")))?;
        let mut html = String::new();
        DeflateDecoder::new(&body[..]).read_to_string(&mut html).map_err(|e| corrupt(e.to_string()))?;
        Ok(Some(Page {
            url: url.to_string(),
            final_url: header.final_url,
            html,
            etag: header.etag,
            last_modified: header.last_modified,
            fetched_at: header.fetched_at,
        }))
    }

    /// The body is appended first: a header only ever points at a body that was written whole.
    fn put(&self, page: &PackedPage) -> Result<(), PageError> {
        let body = self.bodies.append(&page.body).map_err(PageError::Io)?;
        let header = PageHeader {
            final_url: page.final_url.clone(),
            etag: page.etag.clone(),
            last_modified: page.last_modified.clone(),
            fetched_at: page.fetched_at,
            body,
        };
        self.headers.insert(page.url.as_str(), to_json(&header)).map_err(PageError::Sled)?;
        Ok(())
    }
}

/// A page ready to be stored: its HTML deflated.
pub struct PackedPage {
    url: String,
    final_url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    fetched_at: DateTime<Utc>,
    body: Vec<u8>,
}

impl PackedPage {
    pub fn pack(page: &Page) -> PackedPage {
        let mut encoder = DeflateEncoder::new(Vec::with_capacity(page.html.len() / 4), flate2::Compression::fast());
        encoder.write_all(page.html.as_bytes()).expect("writing to a Vec cannot fail");
        PackedPage {
            url: page.url.clone(),
            final_url: page.final_url.clone(),
            etag: page.etag.clone(),
            last_modified: page.last_modified.clone(),
            fetched_at: page.fetched_at,
            body: encoder.finish().expect("writing to a Vec cannot fail"),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Where a body sits: pack file number, offset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct BodyRef {
    pack: u32,
    offset: u64,
    len: u64,
}

/// Append-only pack files `packs/NNNNNN.pack`. A crash can leave a torn record at the end of the
/// newest pack; no header points at it, and later records simply follow it.
struct Packs {
    dir: PathBuf,
    current: Mutex<(u32, std::fs::File, u64)>,
}

/// A new pack is started past this size.
const PACK_LIMIT: u64 = 64 * 1024 * 1024;

impl Packs {
    fn open(dir: PathBuf) -> std::io::Result<Packs> {
        std::fs::create_dir_all(&dir)?;
        let newest = std::fs::read_dir(&dir)?
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.strip_suffix(".pack")?.parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        let file = Packs::open_pack(&dir, newest)?;
        let len = file.metadata()?.len();
        Ok(Packs { dir, current: Mutex::new((newest, file, len)) })
    }

    fn open_pack(dir: &Path, number: u32) -> std::io::Result<std::fs::File> {
        std::fs::OpenOptions::new().create(true).append(true).open(dir.join(format!("{number:06}.pack")))
    }

    fn append(&self, bytes: &[u8]) -> std::io::Result<BodyRef> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current.2 > 0 && current.2 + bytes.len() as u64 > PACK_LIMIT {
            self.start_next(&mut current)?;
        }
        let (pack, file, len) = &mut *current;
        file.write_all(bytes)?;
        let body = BodyRef { pack: *pack, offset: *len, len: bytes.len() as u64 };
        *len += bytes.len() as u64;
        Ok(body)
    }

    /// Closes the current pack durably (a later `sync` covers only the newest) and starts the
    /// next, its name on disk before any header can point into it.
    fn start_next(&self, current: &mut (u32, std::fs::File, u64)) -> std::io::Result<()> {
        current.1.sync_data()?;
        let next = current.0 + 1;
        *current = (next, Packs::open_pack(&self.dir, next)?, 0);
        std::fs::File::open(&self.dir)?.sync_all()
    }

    /// Whether the pack holds the body's bytes (a cheap check: its length, not its content).
    fn holds(&self, body: &BodyRef) -> bool {
        let pack = self.dir.join(format!("{:06}.pack", body.pack));
        std::fs::metadata(pack).is_ok_and(|file| body.offset.saturating_add(body.len) <= file.len())
    }

    fn read(&self, body: &BodyRef) -> std::io::Result<Vec<u8>> {
        use std::io::{Seek, SeekFrom};
        let mut file = std::fs::File::open(self.dir.join(format!("{:06}.pack", body.pack)))?;
        // A header's length is checked against the file before it is allocated.
        if body.offset.saturating_add(body.len) > file.metadata()?.len() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        file.seek(SeekFrom::Start(body.offset))?;
        let mut bytes = vec![0; body.len as usize];
        file.read_exact(&mut bytes)?;
        Ok(bytes)
    }

    fn sync(&self) -> std::io::Result<()> {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).1.sync_data()
    }
}

/// Whether the episode's page is its own canonical link (or the recipe gives no other link).
fn is_canonical(episode: &Episode) -> bool {
    episode.link == episode.page_url
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("plain data serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Enclosure;

    pub(super) fn episode(guid: &str, page: &str, title: &str) -> Episode {
        Episode {
            guid: guid.into(),
            page_url: page.into(),
            link: page.into(),
            title: title.into(),
            published: None,
            enclosure: Enclosure { url: format!("{page}.mp3"), length: None, mime_type: None },
            duration: None,
            description: None,
            content: None,
            image: None,
            episode: None,
            season: None,
            episode_type: None,
            explicit: None,
            transcript: None,
            chapters: None,
            season_name: None,
            block: false,
            persons: Vec::new(),
        }
    }

    /// Opens a cache this process just closed: sled's flusher thread lets go of the file lock a
    /// moment after the handle is dropped.
    pub(super) fn reopen(dir: &Path) -> Result<Store, StoreError> {
        for _ in 0..100 {
            match Store::open(dir) {
                Err(StoreError::Locked { .. }) => std::thread::sleep(std::time::Duration::from_millis(50)),
                other => return other,
            }
        }
        Store::open(dir)
    }

    #[test]
    fn probe_failures_wait_longer_each_time() {
        let days = |n| (probe_backoff(n) + chrono::Duration::hours(1)).num_days();
        assert_eq!(probe_backoff(1), chrono::Duration::zero(), "the next run");
        assert_eq!((2..=8).map(days).collect::<Vec<_>>(), [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(days(u32::MAX), 30);
    }

    #[test]
    fn pages_round_trip_compressed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let html = "<p>Café</p>".repeat(5000);
        let page = Page {
            url: "http://a/1".into(),
            final_url: "http://a/1/".into(),
            html: html.clone(),
            etag: Some("\"x\"".into()),
            last_modified: None,
            fetched_at: Utc::now(),
        };
        store.put_page(&PackedPage::pack(&page)).unwrap();
        assert_eq!(store.page("http://a/1").unwrap(), Some(page));
        let stored = std::fs::metadata(dir.path().join("packs/000000.pack")).unwrap().len() as usize;
        assert!(stored < html.len() / 10, "stored {} bytes for {}", stored, html.len());
        assert_eq!(store.known_pages().unwrap(), HashSet::from(["http://a/1".to_string()]));
    }

    #[test]
    fn episode_changes_and_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.put_episode(&episode("g1", "http://a/1", "One")).unwrap(), Change::New);
        assert_eq!(store.put_episode(&episode("g1", "http://a/1", "One")).unwrap(), Change::Unchanged);
        assert_eq!(store.put_episode(&episode("g1", "http://a/1", "One!")).unwrap(), Change::Updated);
        // The same guid from a second URL is the same episode.
        let mut twin = episode("g1", "http://a/1?ref=x", "One!");
        twin.link = "http://a/1".into();
        twin.enclosure.url = "http://a/1.mp3".into();
        assert_eq!(store.put_episode(&twin).unwrap(), Change::Unchanged);
        assert_eq!(store.feed_keys().unwrap().len(), 1);
    }

    #[test]
    fn one_audio_file_is_one_episode() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let with_audio = |guid: &str, page: &str, link: &str| {
            let mut e = episode(guid, page, "Same");
            (e.link, e.enclosure.url) = (link.into(), "http://cdn/same.mp3".into());
            e
        };
        let first = with_audio("http://a/1?x=1", "http://a/1?x=1", "http://a/1?x=1");
        assert_eq!(store.put_episode(&first).unwrap(), Change::New);
        let second = with_audio("http://a/1?x=2", "http://a/1?x=2", "http://a/1?x=2");
        assert_eq!(store.put_episode(&second).unwrap(), Change::Duplicate { of: first.guid.clone() });
        assert_eq!(store.put_episode(&second).unwrap(), Change::Duplicate { of: first.guid.clone() }, "never new");
        // A page that is its own canonical link wins over one that is not.
        let mut not_canonical = with_audio("g3", "http://a/3?ref=x", "http://a/3");
        not_canonical.enclosure.url = "http://cdn/3.mp3".into();
        store.put_episode(&not_canonical).unwrap();
        let mut canonical = with_audio("g3b", "http://a/3", "http://a/3");
        canonical.enclosure.url = "http://cdn/3.mp3".into();
        assert_eq!(store.put_episode(&canonical).unwrap(), Change::New);
        let guids: HashSet<String> = store.feed_keys().unwrap().into_iter().map(|k| k.guid).collect();
        assert_eq!(guids, HashSet::from([first.guid.clone(), "g3b".to_string()]));
        let duplicates: Vec<(String, String)> =
            store.duplicates().unwrap().into_iter().map(|d| (d.page_url, d.of)).collect();
        assert_eq!(
            duplicates,
            [("http://a/1?x=2".to_string(), first.guid.clone()), ("http://a/3?ref=x".to_string(), "g3b".to_string())]
        );
        // The kept episode's audio moves: the other page is an episode of its own again.
        let mut moved = first.clone();
        moved.enclosure.url = "http://cdn/moved.mp3".into();
        assert_eq!(store.put_episode(&moved).unwrap(), Change::Updated);
        assert_eq!(store.put_episode(&second).unwrap(), Change::New);
        assert_eq!(store.duplicates().unwrap().len(), 1);
    }

    #[test]
    fn an_episode_that_takes_anothers_audio_leaves_no_item_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.put_episode(&episode("a", "http://a/1", "One")).unwrap();
        let mut b = episode("b", "http://a/2", "Two");
        store.put_episode(&b).unwrap();
        b.enclosure.url = "http://a/1.mp3".into();
        assert_eq!(store.put_episode(&b).unwrap(), Change::Duplicate { of: "a".into() });
        let guids: Vec<String> = store.feed_keys().unwrap().into_iter().map(|k| k.guid).collect();
        assert_eq!(guids, ["a"]);
    }

    #[test]
    fn a_cache_from_before_the_enclosure_index_is_made_whole_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            // An older podfeed stored three pages of one audio file as three episodes.
            let store = Store::open(dir.path()).unwrap();
            for n in 1..=3 {
                let mut e = episode(&format!("http://a/ep?x={n}"), &format!("http://a/ep?x={n}"), "Same");
                e.enclosure.url = "http://cdn/same.mp3".into();
                store.episodes.insert(e.guid.as_str(), to_json(&e)).unwrap();
            }
            store.enclosures.clear().unwrap();
            store.flush().unwrap();
        }
        let store = reopen(dir.path()).unwrap();
        assert_eq!(store.feed_keys().unwrap().len(), 1);
        assert_eq!(store.duplicates().unwrap().len(), 2);
    }

    #[test]
    fn an_old_caches_unknown_sizes_are_probed_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let mut sized = episode("http://a/1", "http://a/1", "Sized");
            sized.enclosure.length = Some(1000);
            let unknown = episode("http://a/2", "http://a/2", "Unsized");
            store.put_episode(&sized).unwrap();
            store.put_episode(&unknown).unwrap();
            // As an older podfeed left it: no record of the failed probe, no marker.
            store.probe_failures.clear().unwrap();
            store.meta.remove("unknown_sizes_scheduled").unwrap();
            store.flush().unwrap();
        }
        let store = reopen(dir.path()).unwrap();
        let scheduled = store.probe_failures().unwrap();
        assert_eq!(scheduled.len(), 1);
        assert_eq!(scheduled[0].enclosure_of.as_deref(), Some("http://a/2"));
        assert!(scheduled[0].retry_at.unwrap() <= Utc::now(), "due at once");
    }

    #[test]
    fn a_page_whose_guid_changes_leaves_no_ghost() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.put_episode(&episode("old", "http://a/1", "One")).unwrap();
        store.put_episode(&episode("new", "http://a/1", "One")).unwrap();
        let guids: Vec<String> = store.feed_keys().unwrap().into_iter().map(|k| k.guid).collect();
        assert_eq!(guids, vec!["new".to_string()]);
        store.page_is_not_an_episode("http://a/1").unwrap();
        assert!(store.feed_keys().unwrap().is_empty());
    }

    #[test]
    fn newer_schema_is_refused_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.meta.insert("schema", &99u32.to_be_bytes()).unwrap();
            store.flush().unwrap();
        }
        let err = reopen(dir.path()).err().expect("schema 99 must be refused");
        assert!(err.to_string().contains("schema version 99"), "{err}");
    }

    #[test]
    fn second_opener_is_told_the_cache_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        // sled's lock is per process file handle; a second open in one process also conflicts.
        match Store::open(dir.path()) {
            Err(StoreError::Locked { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            Err(other) => panic!("expected Locked, got {other}"),
            Ok(_) => panic!("expected Locked, got an open store"),
        }
    }
}
