//! Apple's checks at build: the show's artwork, read once from its first bytes, and warnings
//! for what the directories need and the feed lacks. None of them stops a run.

use std::io::Read;
use std::path::PathBuf;

use url::Url;

use super::{Mode, PipelineError, Run};
use crate::directory::{self, ARTWORK_PREFIX_BYTES, ARTWORK_RULE};
use crate::feed::FeedKey;
use crate::publish::beside_feed;
use crate::recipe::ShowType;
use crate::store::{ArtworkVerdict, StoreError};

impl Run<'_> {
    /// Checks the show's image when its URL is new to the cache, and again on `--full`: the file
    /// in the output folder when the image is served beside the feed, else the first bytes a
    /// range request gives. What is wrong with it is said once; an image that cannot be read is
    /// said on every run until it can.
    pub(super) async fn check_artwork(&self, mode: Mode) -> Result<(), PipelineError> {
        let Some(image) = self.recipe.feed.image.as_deref() else { return Ok(()) };
        if mode != Mode::Full && self.store.artwork_verdict(image)?.is_some() {
            return Ok(());
        }
        let first_bytes = match self.artwork_beside_feed(image) {
            Some(path) => read_prefix(&path),
            None => match Url::parse(image) {
                Ok(url) => self.client.first_bytes(&url, ARTWORK_PREFIX_BYTES).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
        };
        let first_bytes = match first_bytes {
            Ok(bytes) => bytes,
            Err(why) => {
                tracing::warn!("the show's image {image} could not be read to check it: {why}");
                return Ok(());
            }
        };
        let problem = directory::artwork(&first_bytes).err().map(|problem| problem.to_string());
        if let Some(problem) = &problem {
            tracing::warn!("the show's image {image} {problem}: {ARTWORK_RULE}");
        }
        self.store.put_artwork_verdict(&ArtworkVerdict { url: image.to_string(), problem })?;
        Ok(())
    }

    /// The file in the output folder an image URL beside the feed's `self_url` names, if it is
    /// there.
    fn artwork_beside_feed(&self, image: &str) -> Option<PathBuf> {
        let name = beside_feed(image, self.recipe.feed.self_url.as_deref());
        let path = (name != image).then(|| self.options.out.with_file_name(name))?;
        path.is_file().then_some(path)
    }

    /// What Apple Podcasts, Spotify and the other directories need and the feed lacks, said on
    /// every run (a feed blocked from the directories needs none of it).
    pub(super) fn warn_for_directories(&self, keys: &[FeedKey]) -> Result<(), StoreError> {
        let feed = &self.recipe.feed;
        if feed.block {
            return Ok(());
        }
        if feed.owner.as_ref().and_then(|owner| owner.email.as_ref()).is_none() {
            tracing::warn!(
                "the recipe has no feed.owner.email: directories such as Apple Podcasts and Spotify verify \
                 who owns a show by it (a feed for your own listening wants `block = true` instead)"
            );
        }
        if feed.show_type == ShowType::Serial {
            let (mut unnumbered, mut first) = (0, None);
            for episode in self.episodes_in(keys) {
                let episode = episode?;
                if episode.episode.is_none() {
                    unnumbered += 1;
                    first.get_or_insert(episode.link);
                }
            }
            if let Some(first) = first {
                tracing::warn!(
                    "{unnumbered} episodes of this serial show have no episode number ({first} is one): \
                     apps play a serial show in the order of its numbers"
                );
            }
        }
        Ok(())
    }
}

/// The first bytes of a file, as many as an artwork check needs.
fn read_prefix(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(ARTWORK_PREFIX_BYTES).read_to_end(&mut bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(bytes)
}
