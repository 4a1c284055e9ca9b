//! The record of published files: the feed file written last (so `lastBuildDate` moves only
//! when its items change, and a file changed by hand is noticed) and the split feeds beside it.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{to_json, Store, StoreError};

/// The split feeds published beside a main feed: their file names, and the main feed's path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitFiles {
    pub out: String,
    pub names: Vec<String>,
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

impl Store {
    pub fn feed_state(&self) -> Result<Option<FeedState>, StoreError> {
        self.get_json(&self.meta, "meta", "feed_state")
    }

    pub fn put_feed_state(&self, state: &FeedState) -> Result<(), StoreError> {
        self.meta.insert("feed_state", to_json(state)).map_err(|e| self.sled(e))?;
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
}
