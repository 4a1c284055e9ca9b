//! One audio file, one episode. A page whose episode has the audio of another is a duplicate:
//! the one kept is the one whose page is its own canonical link, else the one found first.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{to_json, Store, StoreError};
use crate::model::Episode;

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

impl Store {
    /// Settles two episodes with one audio file: `episode`, being stored, and `kept`, stored
    /// before. The page that is its own canonical link keeps the episode (under the guid
    /// published, if one was), else the one stored first. `Some(guid)`: `episode` is a duplicate
    /// of that one and is not stored; `None`: it is stored, `previous` being what it replaces.
    pub(super) fn share_audio(
        &self,
        episode: &mut Episode,
        previous: &mut Option<Episode>,
        kept: Episode,
    ) -> Result<Option<String>, StoreError> {
        if is_canonical(episode) && !is_canonical(&kept) && self.published(&kept.guid)? {
            // The episode's own page takes it over, under the guid it was published with.
            if let Some(previous) = previous.as_ref() {
                self.forget_episode(previous)?;
            }
            self.page_guid.remove(kept.page_url.as_str()).map_err(|e| self.sled(e))?;
            self.put_duplicate(&kept, &kept.guid)?;
            self.keep_rule_guid(&kept.guid, &episode.guid)?;
            episode.guid = kept.guid.clone();
            *previous = Some(kept);
        } else if is_canonical(episode) && !is_canonical(&kept) {
            self.forget_page_episode(&kept.page_url, None)?;
            self.put_duplicate(&kept, &episode.guid)?;
        } else {
            // Stored before under other audio, this guid is no episode of its own any more.
            if let Some(previous) = previous.as_ref() {
                self.forget_episode(previous)?;
            }
            self.put_duplicate(episode, &kept.guid)?;
            return Ok(Some(kept.guid));
        }
        Ok(None)
    }

    /// The stored episode, other than this one, whose audio this episode has; `indexed` is the
    /// guid the enclosure index gives for that audio.
    pub(super) fn other_episode_with_audio(
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

    pub(super) fn put_duplicate(&self, episode: &Episode, of: &str) -> Result<(), StoreError> {
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
    pub(super) fn forget_duplicate(&self, page_url: &str) -> Result<(), StoreError> {
        if self.duplicates.contains_key(page_url).map_err(|e| self.sled(e))? {
            self.duplicates.remove(page_url).map_err(|e| self.sled(e))?;
        }
        Ok(())
    }

    /// Pages whose episode is another's, in page URL order.
    pub fn duplicates(&self) -> Result<Vec<Duplicate>, StoreError> {
        self.all_json(&self.duplicates, "duplicates")
    }
}

/// Whether the episode's page is its own canonical link (or the recipe gives no other link).
pub(super) fn is_canonical(episode: &Episode) -> bool {
    episode.link == episode.page_url
}
