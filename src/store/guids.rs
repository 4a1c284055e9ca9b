//! Published guids are permanent. A podcast app knows an episode by its guid; one that changes
//! is a new episode to it, downloaded again. So the guid an episode was first published under
//! stays, whatever happens later:
//!
//! - its page gives another guid (the `guid` or `link` rule was changed and `--reextract` run);
//! - it is found under a new page URL (the site moved to a new host or new paths, changed its
//!   slugs): a new page is the same episode as a published one when its enclosure URL, else its
//!   audio file's name with the same duration, else its title and day match it, and that
//!   episode's own page was not read in this run (two pages read in one run are two pages of a
//!   site, and the existing duplicate rules apply). The old page is recorded as a duplicate, so
//!   it never takes the episode back.
//!
//! Only `podfeed build --reset-guids` gives episodes the guids their rules give.

use super::{to_json, Duplicate, Store, StoreError};
use crate::model::Episode;

impl Store {
    /// Gives `episode` (as extracted, under its rules' guid) the guid it was published under,
    /// if it was. `Some(guid)`: the page is a duplicate of that episode, as recorded before.
    pub(super) fn pin_guid(&self, episode: &mut Episode) -> Result<Option<String>, StoreError> {
        self.touched.lock().unwrap_or_else(|p| p.into_inner()).insert(episode.page_url.clone());
        if let Some(of) = self.still_duplicate(episode)? {
            return Ok(Some(of));
        }
        let rule_guid = episode.guid.clone();
        let pinned = match self.guid_of_page(&episode.page_url)? {
            // The page gave a published episode before: its guid stays, whatever the rules say.
            Some(guid) if guid != rule_guid && self.is_published(&guid)? => Some(guid),
            Some(_) => None,
            None if self.episodes.contains_key(&rule_guid).map_err(|e| self.sled(e))? => None,
            None => self.moved_from(episode)?,
        };
        match pinned {
            Some(guid) => {
                self.keep_rule_guid(&guid, &rule_guid)?;
                episode.guid = guid;
            }
            None if self.rule_guids.contains_key(&rule_guid).map_err(|e| self.sled(e))? => {
                self.rule_guids.remove(rule_guid.as_str()).map_err(|e| self.sled(e))?;
            }
            None => {}
        }
        Ok(None)
    }

    /// Notes that the episode published as `pinned` has `rule_guid` by the rules now.
    pub(super) fn keep_rule_guid(&self, pinned: &str, rule_guid: &str) -> Result<(), StoreError> {
        let rule = to_json(&rule_guid);
        if self.rule_guids.get(pinned).map_err(|e| self.sled(e))?.as_deref() != Some(&rule[..]) {
            self.rule_guids.insert(pinned, rule).map_err(|e| self.sled(e))?;
        }
        Ok(())
    }

    /// A page recorded as a duplicate stays one while it is still the kept episode's: the old
    /// address of a moved episode must never take it back.
    fn still_duplicate(&self, episode: &Episode) -> Result<Option<String>, StoreError> {
        let Some(duplicate) = self.get_json::<Duplicate>(&self.duplicates, "duplicates", &episode.page_url)? else {
            return Ok(None);
        };
        let Some(kept) = self.episode(&duplicate.of)? else { return Ok(None) };
        let same = kept.enclosure.url == episode.enclosure.url || kept.guid == episode.guid;
        Ok((same && kept.page_url != episode.page_url).then_some(duplicate.of))
    }

    /// The published episode a page not seen before is, if it is one whose page was not read in
    /// this run. That page is recorded as a duplicate of it, and no longer names it.
    fn moved_from(&self, episode: &Episode) -> Result<Option<String>, StoreError> {
        if self.published.is_empty() {
            return Ok(None);
        }
        let indexed = |tree: &sled::Tree, key: Option<String>| -> Result<Option<String>, StoreError> {
            let Some(key) = key else { return Ok(None) };
            let guid = tree.get(key.as_bytes()).map_err(|e| self.sled(e))?;
            Ok(guid.map(|g| String::from_utf8_lossy(&g).into_owned()))
        };
        let candidates = [
            indexed(&self.enclosures, Some(episode.enclosure.url.clone()))?,
            indexed(&self.identities, file_key(episode))?,
            indexed(&self.identities, title_key(episode))?,
        ];
        let touched = self.touched.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for guid in candidates.into_iter().flatten() {
            let Some(old) = self.episode(&guid)? else { continue };
            if !self.is_published(&guid)? || touched.contains(&old.page_url) || !same_episode(&old, episode) {
                continue;
            }
            tracing::info!("{}: the episode published from {} (guid {guid}), moved", episode.page_url, old.page_url);
            self.put_duplicate(&old, &guid)?;
            self.page_guid.remove(old.page_url.as_str()).map_err(|e| self.sled(e))?;
            return Ok(Some(guid));
        }
        Ok(None)
    }

    fn is_published(&self, guid: &str) -> Result<bool, StoreError> {
        self.published.contains_key(guid).map_err(|e| self.sled(e))
    }

    /// Records that the episodes of these guids went out in a published feed: the guids are
    /// theirs for good.
    pub fn mark_published<'g>(&self, guids: impl IntoIterator<Item = &'g str>) -> Result<(), StoreError> {
        for guid in guids {
            if self.is_published(guid)? {
                continue;
            }
            let Some(episode) = self.episode(guid)? else { continue };
            for key in [file_key(&episode), title_key(&episode)].into_iter().flatten() {
                self.identities.insert(key.as_bytes(), episode.guid.as_bytes()).map_err(|e| self.sled(e))?;
            }
            self.published.insert(episode.guid.as_bytes(), &[]).map_err(|e| self.sled(e))?;
        }
        Ok(())
    }

    /// Whether `guid` went out in a published feed.
    pub fn published(&self, guid: &str) -> Result<bool, StoreError> {
        self.is_published(guid)
    }

    /// The guid the recipe's rules give the episode published as `guid`, when it is another.
    pub fn rule_guid(&self, guid: &str) -> Result<Option<String>, StoreError> {
        self.get_json(&self.rule_guids, "rule_guids", guid)
    }

    /// `--reset-guids`: every episode takes the guid its rules give, and nothing counts as
    /// published any more. Says how many guids changed. (Two episodes whose rules give one guid
    /// keep theirs.)
    pub fn reset_guids(&self) -> Result<usize, StoreError> {
        let mut changed = 0;
        for entry in self.rule_guids.iter() {
            let (pinned, _) = entry.map_err(|e| self.sled(e))?;
            let pinned = String::from_utf8_lossy(&pinned).into_owned();
            let (Some(rule_guid), Some(mut episode)) = (self.rule_guid(&pinned)?, self.episode(&pinned)?) else {
                continue;
            };
            if self.episodes.contains_key(&rule_guid).map_err(|e| self.sled(e))? {
                continue;
            }
            self.episodes.remove(pinned.as_str()).map_err(|e| self.sled(e))?;
            episode.guid = rule_guid;
            self.episodes.insert(episode.guid.as_str(), to_json(&episode)).map_err(|e| self.sled(e))?;
            self.page_guid.insert(episode.page_url.as_str(), episode.guid.as_str()).map_err(|e| self.sled(e))?;
            self.enclosures.insert(episode.enclosure.url.as_str(), episode.guid.as_str()).map_err(|e| self.sled(e))?;
            changed += 1;
        }
        for tree in [&self.rule_guids, &self.published, &self.identities] {
            tree.clear().map_err(|e| self.sled(e))?;
        }
        // The next run publishes (and so records) every guid again, even over the same items.
        if let Some(state) = self.feed_state()? {
            self.put_feed_state(&super::FeedState { published: None, ..state })?;
        }
        Ok(changed)
    }
}

/// Whether a page's episode is the published `old` one: the same audio, else the same audio
/// file (by name) of the same length, else the same title on the same day with no length that
/// tells them apart.
fn same_episode(old: &Episode, new: &Episode) -> bool {
    if old.enclosure.url == new.enclosure.url {
        return true;
    }
    if file_key(old).is_some() && file_key(old) == file_key(new) {
        return true;
    }
    let lengths_agree = match (old.duration, new.duration) {
        (Some(a), Some(b)) => a.abs_diff(b) <= 5,
        _ => true,
    };
    title_key(old).is_some() && title_key(old) == title_key(new) && lengths_agree
}

/// `file:NAME|SECONDS`: the audio file's name (the last part of its path), with the duration.
fn file_key(episode: &Episode) -> Option<String> {
    let url = url::Url::parse(&episode.enclosure.url).ok()?;
    let name = url.path_segments()?.rev().find(|s| !s.is_empty())?.to_ascii_lowercase();
    Some(format!("file:{name}|{}", episode.duration?))
}

/// `title:TITLE|DAY`: the title, without case or spacing differences, and the day (UTC).
fn title_key(episode: &Episode) -> Option<String> {
    let title: Vec<String> = episode.title.split_whitespace().map(str::to_lowercase).collect();
    let day = episode.published?.format("%Y-%m-%d");
    Some(format!("title:{}|{day}", title.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Enclosure;

    /// An episode at `page` whose rules give it guid `link` (its canonical link).
    fn episode(page: &str, link: &str, audio: &str) -> Episode {
        Episode {
            link: link.into(),
            published: crate::parse::date("2024-05-01T10:00:00Z"),
            enclosure: Enclosure { url: audio.into(), length: None, mime_type: None },
            duration: Some(1800),
            ..super::super::tests::episode(link, page, "One")
        }
    }

    /// A store where `guid`'s episode was put and published by an earlier run.
    fn published_in_an_earlier_run(dir: &std::path::Path, first: &Episode) -> Store {
        let store = Store::open(dir).unwrap();
        store.put_episode(first).unwrap();
        store.mark_published([first.guid.as_str()]).unwrap();
        drop(store);
        super::super::tests::reopen(dir).unwrap()
    }

    #[test]
    fn a_moved_page_keeps_the_guid_whichever_of_its_addresses_comes_first() {
        let (old, new) = ("https://a.example/ep/1", "https://b.example/episodes/1");
        let featured = "https://b.example/episodes/1?from=featured";
        for order in [[new, featured], [featured, new]] {
            let dir = tempfile::tempdir().unwrap();
            let store = published_in_an_earlier_run(dir.path(), &episode(old, old, "https://cdn.example/1.mp3"));
            for page in order {
                store.put_episode(&episode(page, new, "https://cdn.example/1.mp3")).unwrap();
            }
            let kept = store.episode(old).unwrap().expect("the published guid");
            assert_eq!((kept.page_url.as_str(), kept.link.as_str()), (new, new), "{order:?}");
            assert_eq!(store.episode(new).unwrap(), None, "{order:?}: no second item");
            assert_eq!(store.rule_guid(old).unwrap().as_deref(), Some(new));
        }
    }

    #[test]
    fn a_new_page_is_a_published_episode_by_its_file_or_its_title_and_day() {
        let dir = tempfile::tempdir().unwrap();
        let old = "https://a.example/ep/1";
        let store = published_in_an_earlier_run(dir.path(), &episode(old, old, "https://a.example/media/one.mp3"));
        // The audio moved with the site: the same file name and length.
        let moved = episode("https://b.example/1", "https://b.example/1", "https://b.example/audio/ONE.mp3");
        store.put_episode(&moved).unwrap();
        assert_eq!(store.episode(old).unwrap().unwrap().page_url, "https://b.example/1");
        // Renamed too: the same title on the same day. A length that differs is another episode.
        let renamed = episode("https://c.example/1", "https://c.example/1", "https://c.example/x.mp3");
        let other = Episode {
            duration: Some(600),
            ..episode("https://c.example/2", "https://c.example/2", "https://c.example/y.mp3")
        };
        let dir = tempfile::tempdir().unwrap();
        let fresh = published_in_an_earlier_run(dir.path(), &episode(old, old, "https://a.example/media/one.mp3"));
        fresh.put_episode(&other).unwrap();
        assert!(fresh.episode("https://c.example/2").unwrap().is_some(), "not the same episode");
        fresh.put_episode(&renamed).unwrap();
        assert_eq!(fresh.episode(old).unwrap().unwrap().page_url, "https://c.example/1");
    }

    #[test]
    fn an_unpublished_guid_follows_the_rules_and_a_reset_gives_the_rules_guids() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let page = "https://a.example/ep/1";
        store.put_episode(&episode(page, page, "https://a.example/1.mp3")).unwrap();
        let renamed = Episode { guid: "episode-1".into(), ..episode(page, page, "https://a.example/1.mp3") };
        store.put_episode(&renamed).unwrap();
        assert!(store.episode("episode-1").unwrap().is_some(), "nothing was published: the rules decide");
        store.mark_published(["episode-1"]).unwrap();
        store.put_episode(&Episode { guid: "ep1".into(), ..renamed.clone() }).unwrap();
        assert!(store.episode("episode-1").unwrap().is_some(), "published: the guid stays");
        assert_eq!(store.reset_guids().unwrap(), 1);
        assert!(store.episode("ep1").unwrap().is_some() && store.episode("episode-1").unwrap().is_none());
        assert!(!store.published("ep1").unwrap(), "published again by the next feed");
    }
}
