//! The split feeds (`[output] split`): every stored episode in the feed of its year or season,
//! beside the main feed, each checked like it before anything is published.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{PipelineError, Run};
use crate::feed::{self, FeedKey, Part};
use crate::publish::{self, Staged};
use crate::verify;

/// One split feed to write.
pub(super) struct PartPlan {
    pub file_name: String,
    pub label: String,
    part: Part,
    keys: Vec<FeedKey>,
}

impl Run<'_> {
    /// The split feeds `keys` (every stored episode, in feed order) make, newest part first.
    pub(super) fn plan_parts(&self, keys: &[FeedKey]) -> Result<Vec<PartPlan>, PipelineError> {
        let Some(split) = self.recipe.output.split else { return Ok(Vec::new()) };
        let mut parts: BTreeMap<Part, (Vec<FeedKey>, Option<String>)> = BTreeMap::new();
        for (key, episode) in keys.iter().zip(self.episodes_in(keys)) {
            let episode = episode?;
            let (keys, season_name) = parts.entry(Part::of(&episode, split)).or_default();
            keys.push(key.clone());
            if season_name.is_none() {
                *season_name = episode.season_name;
            }
        }
        let main = self.options.out.file_name().and_then(|n| n.to_str()).unwrap_or("feed.xml");
        Ok(parts
            .into_iter()
            .rev()
            .map(|(part, (keys, season_name))| PartPlan {
                file_name: part.file_name(main),
                label: part.label(split, season_name.as_deref()),
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
}
