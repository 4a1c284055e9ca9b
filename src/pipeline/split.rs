//! The split feeds (`[output] split`): every stored episode in the feed of its year or season,
//! beside the main feed, each checked like it before anything is published.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{PipelineError, Run};
use crate::feed::{self, FeedKey, Part};
use crate::model::Notice;
use crate::publish::{self, PublishError, Staged};
use crate::recipe::Split;
use crate::store::{SplitFiles, StoreError};
use crate::verify;

/// At most this many split feeds: a site that gives every episode a season of its own would
/// otherwise have podfeed write thousands of files into the served folder every night.
const MAX_PARTS: usize = 200;

/// Episodes by part, each part's keys in feed order, with the first season name found.
type Parts = BTreeMap<Part, (Vec<FeedKey>, Option<String>)>;

/// Leaves [`MAX_PARTS`] parts at most, the newest: the oldest parts' episodes join
/// [`Part::Other`]. Answers how many dated parts there were and how many were merged, if any.
fn cap_parts(parts: &mut Parts) -> Option<(usize, usize)> {
    if parts.len() <= MAX_PARTS {
        return None;
    }
    let dated = parts.keys().filter(|part| **part != Part::Other).count();
    // Other takes one of the places.
    let oldest: Vec<Part> = parts.keys().copied().filter(|p| *p != Part::Other).take(dated + 1 - MAX_PARTS).collect();
    let mut moved: Vec<FeedKey> =
        oldest.iter().filter_map(|part| parts.remove(part)).flat_map(|(keys, _)| keys).collect();
    let (other, _) = parts.entry(Part::Other).or_default();
    other.append(&mut moved);
    other.sort();
    Some((dated, oldest.len()))
}

/// One split feed to write.
pub(super) struct PartPlan {
    pub file_name: String,
    pub label: String,
    part: Part,
    keys: Vec<FeedKey>,
}

impl Run<'_> {
    /// The split feeds `keys` (every stored episode, in feed order) make, newest part first. Past
    /// [`MAX_PARTS`], the oldest parts' episodes join those without a year or season, and a
    /// notice says so.
    pub(super) fn plan_parts(&self, keys: &[FeedKey], notices: &mut Vec<Notice>) -> Result<Vec<PartPlan>, StoreError> {
        let Some(split) = self.recipe.output.split else { return Ok(Vec::new()) };
        let zone = self.recipe.episode.timezone;
        let mut parts = Parts::new();
        for key in keys {
            let Some(episode) = self.store.episode(&key.guid)? else { continue };
            let (keys, season_name) = parts.entry(Part::of(&episode, split, zone)).or_default();
            keys.push(key.clone());
            if season_name.is_none() {
                *season_name = episode.season_name;
            }
        }
        let merged = cap_parts(&mut parts);
        if let Some((dated, moved)) = merged {
            let what = if split == Split::Year { "years" } else { "seasons" };
            notices.push(Notice {
                kind: "too many split feeds",
                text: format!(
                    "the archive has {dated} {what}, more than the {MAX_PARTS} split feeds podfeed writes: the \
                     oldest {moved} are in the feed of episodes without one"
                ),
            });
        }
        let main = self.options.out.file_name().and_then(|n| n.to_str()).unwrap_or("feed.xml");
        Ok(parts
            .into_iter()
            .rev()
            .map(|(part, (keys, season_name))| PartPlan {
                file_name: part.file_name(main),
                label: part.label(split, season_name.as_deref(), merged.is_some()),
                part,
                keys,
            })
            .collect())
    }

    /// Writes and checks each planned split feed, unpublished.
    pub(super) fn stage_parts(
        &self,
        plans: &[PartPlan],
        last_build: DateTime<Utc>,
    ) -> Result<Vec<Staged>, PipelineError> {
        plans
            .iter()
            .map(|plan| {
                let channel = plan.part.channel(&self.recipe.feed, &plan.file_name, &plan.label);
                let episodes = self.episodes_in(&plan.keys).map(|e| e.map_err(std::io::Error::other));
                let path = self.options.out.with_file_name(&plan.file_name);
                let staged = publish::stage(&path, |mut out| feed::write(&mut out, &channel, episodes, last_build))?;
                verify::check_file(staged.new_version())?;
                Ok(staged)
            })
            .collect()
    }

    /// `max_bytes` left the oldest `left_out` items to the split feeds: said when the feed's
    /// content changed, not every quiet night.
    pub(super) fn note_cut(&self, left_out: usize, content_changed: bool) {
        if content_changed {
            tracing::warn!(
                "the feed would be larger than output.max_bytes ({} bytes): its oldest {left_out} items are only \
                 in the split feeds",
                self.recipe.output.max_bytes
            );
        }
    }

    /// Records the split feeds about to be published, beside those published before (until the
    /// main feed is out, both may be on disk), and answers those no longer written: stale.
    pub(super) fn record_parts(&self, plans: &[PartPlan]) -> Result<Vec<String>, StoreError> {
        let out = self.options.out.display().to_string();
        let current: Vec<String> = plans.iter().map(|plan| plan.file_name.clone()).collect();
        // Files recorded for another output path are that path's business, not this one's.
        let earlier = self.store.split_files()?.filter(|files| files.out == out).map(|files| files.names);
        let stale: Vec<String> = earlier.unwrap_or_default().into_iter().filter(|n| !current.contains(n)).collect();
        let names = current.iter().chain(&stale).cloned().collect();
        self.store.put_split_files(&SplitFiles { out, names })?;
        Ok(stale)
    }

    /// Removes the stale split feeds (a year with no episode left, a season renumbered, `split`
    /// changed or removed) once the main feed is published: served on, they would repeat
    /// episodes under feeds nothing links any more. The main feed and its page are never among
    /// them, whatever an earlier run's names were.
    pub(super) fn remove_stale_parts(&self, stale: Vec<String>, plans: &[PartPlan]) -> Result<(), PipelineError> {
        let main = self.options.out.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        for name in stale.iter().filter(|name| name.as_str() != main && name.as_str() != "index.html") {
            let path = self.options.out.with_file_name(name);
            match std::fs::remove_file(&path) {
                Ok(()) => tracing::info!("removed {}: no split feed of that name any more", path.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(PublishError { path, source }.into()),
            }
        }
        let names = plans.iter().map(|plan| plan.file_name.clone()).collect();
        Ok(self.store.put_split_files(&SplitFiles { out: self.options.out.display().to_string(), names })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(guid: &str) -> FeedKey {
        FeedKey::undated(guid)
    }

    #[test]
    fn past_the_cap_the_oldest_parts_join_the_other_feed() {
        let mut parts = Parts::new();
        for season in 1..=(MAX_PARTS as u32 + 5) {
            parts.insert(Part::Season(season), (vec![key(&format!("s{season}"))], None));
        }
        parts.insert(Part::Other, (vec![key("none")], None));
        assert_eq!(cap_parts(&mut parts), Some((MAX_PARTS + 5, 6)));
        assert_eq!(parts.len(), MAX_PARTS);
        assert!(!parts.contains_key(&Part::Season(6)) && parts.contains_key(&Part::Season(7)));
        assert_eq!(parts[&Part::Other].0.len(), 7);
        let mut at_the_cap = Parts::new();
        for season in 1..=MAX_PARTS as u32 {
            at_the_cap.insert(Part::Season(season), (vec![key(&format!("s{season}"))], None));
        }
        assert_eq!(cap_parts(&mut at_the_cap), None, "{MAX_PARTS} feeds are not too many");
    }
}
