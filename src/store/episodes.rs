//! Stored episodes, by guid, and the indexes that find them: by page URL (`page_guid`) and by
//! audio (`enclosures`). Which of two pages with one audio file keeps it is [`super::duplicates`]'s.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{to_json, Store, StoreError};
use crate::feed::FeedKey;
use crate::model::Episode;

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

/// The fields of a stored [`Episode`] that place it in the feed: decoding only these skips
/// the descriptions, which are most of the bytes.
#[derive(Deserialize)]
struct KeyFields {
    guid: String,
    #[serde(default)]
    published: Option<DateTime<Utc>>,
}

impl Store {
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
            if let Some(of) = self.share_audio(&mut episode, &mut previous, kept)? {
                return Ok(Change::Duplicate { of });
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
    pub(super) fn forget_episode(&self, episode: &Episode) -> Result<(), StoreError> {
        self.episodes.remove(episode.guid.as_str()).map_err(|e| self.sled(e))?;
        self.forget_enclosure(episode)?;
        if self.guid_of_page(&episode.page_url)?.as_deref() == Some(episode.guid.as_str()) {
            self.page_guid.remove(episode.page_url.as_str()).map_err(|e| self.sled(e))?;
        }
        Ok(())
    }

    pub(super) fn forget_enclosure(&self, episode: &Episode) -> Result<(), StoreError> {
        let url = episode.enclosure.url.as_str();
        let owner = self.enclosures.get(url).map_err(|e| self.sled(e))?;
        if owner.as_deref() == Some(episode.guid.as_bytes()) {
            self.enclosures.remove(url).map_err(|e| self.sled(e))?;
        }
        Ok(())
    }

    /// Caches written before the enclosure index existed get it on first open, and the episodes
    /// they hold that share audio become one, as if each had been stored anew.
    pub(super) fn index_enclosures(&self) -> Result<(), StoreError> {
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

    /// A page that no longer yields an episode (its audio was removed, say) drops the one it had.
    pub fn page_is_not_an_episode(&self, page_url: &str) -> Result<(), StoreError> {
        self.forget_duplicate(page_url)?;
        self.forget_page_episode(page_url, None)
    }

    pub(super) fn forget_page_episode(&self, page_url: &str, keep_guid: Option<&str>) -> Result<(), StoreError> {
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

    /// The stored episode whose audio is at `enclosure_url`, if one is.
    pub fn episode_with_audio(&self, enclosure_url: &str) -> Result<Option<Episode>, StoreError> {
        let Some(guid) = self.enclosures.get(enclosure_url).map_err(|e| self.sled(e))? else { return Ok(None) };
        let episode = self.episode(&String::from_utf8_lossy(&guid))?;
        Ok(episode.filter(|e| e.enclosure.url == enclosure_url))
    }
}
