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
//! - `probes`: enclosure URL → JSON [`Probe`]
//! - `failures`: page URL → JSON [`Failure`]
//! - `probe_failures`: enclosure URL → JSON [`Failure`], enclosures whose size is not known yet
//! - `enclosures`: enclosure URL → guid of the one episode with that audio
//! - `duplicates`: page URL → JSON [`Duplicate`], pages whose episode has another's audio
//! - `listed`: link → JSON [`ItemSource`] (or nothing, for one too large), every listing item read
//! - `published`: guid → nothing, every guid that went out in a published feed
//! - `identities`: `file:NAME|SECONDS` and `title:TITLE|DAY` → guid of a published episode
//! - `rule_guids`: published guid → the guid the recipe's rules give the episode now, when
//!   the two differ
//!
//! The sled database itself is the folder `db/` of the cache.
//!
//! The files of this module, each one job:
//! - `mod.rs`: the [`Store`] handle, opening the cache (lock, schema, upgrades), small notes
//!   kept in `meta`, and the helpers every file uses to read and write JSON values;
//! - `pack.rs`: the pack files that hold page bodies, and the headers that point into them;
//! - `pages.rs`: cached episode and listing pages, and the listing items read;
//! - `episodes.rs`: stored episodes and the indexes that find them;
//! - `duplicates.rs`: one audio file, one episode: which page keeps it;
//! - `probes.rs`: enclosure probes and failed fetches, and when each is tried again;
//! - `published.rs`: the feed files published, as they were on disk;
//! - `guids.rs`: published guids are permanent; `compact.rs`: pack files rewritten;
//! - `tests.rs`: unit tests.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

mod compact;
mod duplicates;
mod episodes;
mod guids;
mod pack;
mod pages;
mod probes;
mod published;

pub use compact::Compacted;
pub use duplicates::Duplicate;
pub use episodes::Change;
pub use pack::PackedPage;
pub use probes::{probe_backoff, Failure};
pub use published::{FeedState, PublishedFeed, SplitFiles};

use pack::{page_error, Packs, PageError, PageTrees};

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

/// The show's image as a check found it: `problem` is `None` when Apple would take it, or when
/// it could not be read (`unread` says why; it is tried again on the next run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtworkVerdict {
    pub url: String,
    pub problem: Option<String>,
    #[serde(default)]
    pub unread: Option<String>,
}

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
                // sled 0.34 has no error variant for a held lock: it wraps the failed file lock
                // in an `io::Error` of kind `Other`, and its text is the only marker. This is the
                // one place that reads it; everything else matches `StoreError::Locked`.
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

    /// Whether some crawl has read every listing page (so later runs may stop paging early).
    pub fn archive_seen(&self) -> Result<bool, StoreError> {
        self.meta.contains_key("archive_seen").map_err(|e| self.sled(e))
    }

    pub fn set_archive_seen(&self) -> Result<(), StoreError> {
        self.meta.insert("archive_seen", &[1u8]).map_err(|e| self.sled(e))?;
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

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("plain data serializes")
}

#[cfg(test)]
mod tests;
