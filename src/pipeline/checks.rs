//! Apple's checks at build: the show's artwork, read once from its first bytes, and notices of
//! what the directories need and the feed lacks. None of them stops a run.

use std::io::Read;
use std::path::PathBuf;

use url::Url;

use super::{Mode, PipelineError, Run};
use crate::directory::{self, ArtworkProblem, ARTWORK_PREFIX_BYTES, ARTWORK_RULE};
use crate::feed::FeedKey;
use crate::model::Notice;
use crate::model::ShowType;
use crate::publish::beside_feed;
use crate::store::{ArtworkVerdict, StoreError};

impl Run<'_> {
    /// Checks the show's image when its URL is new to the cache, and again on `--full`: the file
    /// in the output folder when the image is served beside the feed, else the first bytes a
    /// range request gives. What is wrong with it is said when it is found. An image that cannot
    /// be read is tried on every run until it can, and said when the reason is new (cron mails
    /// it once, not nightly).
    pub(super) async fn check_artwork(&self, mode: Mode) -> Result<(), PipelineError> {
        let Some(image) = self.recipe.feed.image.as_deref() else { return Ok(()) };
        let earlier = self.store.artwork_verdict(image)?;
        if mode != Mode::Full && earlier.as_ref().is_some_and(|verdict| verdict.unread.is_none()) {
            return Ok(());
        }
        let verdict = match self.artwork_first_bytes(image).await {
            Ok(first_bytes) => {
                let problem = directory::artwork(&first_bytes).err();
                match &problem {
                    Some(unsure @ ArtworkProblem::Unreadable) => tracing::warn!("the show's image {image} {unsure}"),
                    Some(problem) => tracing::warn!("the show's image {image} {problem}: {ARTWORK_RULE}"),
                    None => {}
                }
                ArtworkVerdict { url: image.to_string(), problem: problem.map(|p| p.to_string()), unread: None }
            }
            Err(why) => {
                if earlier.and_then(|verdict| verdict.unread).as_ref() != Some(&why) {
                    tracing::warn!("the show's image {image} could not be read to check it: {why}");
                }
                ArtworkVerdict { url: image.to_string(), problem: None, unread: Some(why) }
            }
        };
        Ok(self.store.put_artwork_verdict(&verdict)?)
    }

    /// The first bytes of the show's image, from the output folder or the web; or why not.
    async fn artwork_first_bytes(&self, image: &str) -> Result<Vec<u8>, String> {
        match self.artwork_beside_feed(image) {
            Some(path) => read_prefix(&path),
            None => {
                let url = Url::parse(image).map_err(|e| e.to_string())?;
                self.client.first_bytes(&url, ARTWORK_PREFIX_BYTES).await.map_err(|e| e.to_string())
            }
        }
    }

    /// The file in the output folder an image URL beside the feed's `self_url` names, if it is
    /// there.
    pub(super) fn artwork_beside_feed(&self, image: &str) -> Option<PathBuf> {
        let name = beside_feed(image, self.recipe.feed.self_url.as_deref());
        let path = (name != image).then(|| self.options.out.with_file_name(name))?;
        path.is_file().then_some(path)
    }

    /// What Apple Podcasts, Spotify and the other directories need and the feed lacks, as
    /// notices (a feed blocked from the directories needs none of it).
    pub(super) fn directory_notices(&self, keys: &[FeedKey], notices: &mut Vec<Notice>) -> Result<(), StoreError> {
        let feed = &self.recipe.feed;
        if feed.block {
            return Ok(());
        }
        if feed.owner.as_ref().and_then(|owner| owner.email.as_ref()).is_none() {
            notices.push(Notice {
                kind: "owner email",
                text: "the recipe has no feed.owner.email: directories such as Apple Podcasts and Spotify verify \
                       who owns a show by it (a feed for your own listening wants `block = true` instead)"
                    .to_string(),
            });
        }
        if feed.show_type == ShowType::Serial {
            let (mut unnumbered, mut first) = (0, None);
            for episode in self.episodes_in(keys) {
                let episode = episode?;
                // Trailers and bonus episodes go without a number.
                let full = episode.episode_type.as_deref().is_none_or(|t| t == "full");
                if full && episode.episode.is_none() {
                    unnumbered += 1;
                    first.get_or_insert(episode.link);
                }
            }
            if let Some(first) = first {
                notices.push(Notice {
                    kind: "serial numbers",
                    text: format!(
                        "{unnumbered} episodes of this serial show have no episode number ({first} is one): \
                         apps play a serial show in the order of its numbers"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Says each kind of notice the last run did not give: advice is mailed once by cron, not
    /// nightly nor with each new episode it concerns, and again when it goes away and comes back.
    pub(super) fn say_notices(&self, notices: &[Notice]) -> Result<(), StoreError> {
        let said = self.store.notices()?;
        for notice in notices.iter().filter(|notice| !said.iter().any(|kind| kind == notice.kind)) {
            tracing::warn!("{}", notice.text);
        }
        let kinds: Vec<String> = notices.iter().map(|notice| notice.kind.to_string()).collect();
        self.store.put_notices(&kinds)
    }
}

/// The first bytes of a file, as many as an artwork check needs.
fn read_prefix(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(ARTWORK_PREFIX_BYTES).read_to_end(&mut bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(bytes)
}
