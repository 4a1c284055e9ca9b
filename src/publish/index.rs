//! The HTML page beside the feed: the show and its episodes with players, from a minijinja
//! template, rendered one episode at a time.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use serde::Serialize;

use super::{stage, PublishError, Staged};
use crate::feed::format_duration;
use crate::model::Channel;
use crate::model::Episode;

/// The built-in page template; `[output] template` names another.
pub const INDEX_TEMPLATE: &str = include_str!("../../templates/index.html");

/// A URL in the folder the feed is served from, as a link relative to the page beside the feed,
/// so the page works wherever the folder is served (`podfeed serve`, a staging host).
pub(crate) fn beside_feed(url: &str, self_url: Option<&str>) -> String {
    let folder = self_url.and_then(|u| u.rsplit_once('/')).map(|(folder, _)| format!("{folder}/"));
    match folder.and_then(|folder| url.strip_prefix(&folder).map(str::to_string)) {
        Some(name) if !name.contains('/') && !name.is_empty() => name,
        _ => url.to_string(),
    }
}

#[derive(Serialize)]
struct IndexEpisode {
    title: String,
    link: String,
    audio: String,
    mime_type: String,
    date: Option<String>,
    iso_date: Option<String>,
    duration: Option<String>,
    description: Option<String>,
}

impl From<Episode> for IndexEpisode {
    /// Everything but the show notes: the page lists episodes, it does not repeat them.
    fn from(e: Episode) -> IndexEpisode {
        IndexEpisode {
            mime_type: e.enclosure.mime_type.unwrap_or_else(|| "audio/mpeg".into()),
            date: e.published.map(|d| d.format("%B %-d, %Y").to_string()),
            iso_date: e.published.map(|d| d.to_rfc3339()),
            duration: e.duration.map(format_duration),
            title: e.title,
            link: e.link,
            audio: e.enclosure.url,
            description: e.description,
        }
    }
}

/// Why the HTML page could not be written.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("HTML page template: {0}")]
    Template(#[from] minijinja::Error),
    #[error(transparent)]
    Write(#[from] PublishError),
}

/// The episodes a page lists, each read when the template reaches it, so the page costs no
/// memory per episode (all 10,000 at once took 30 MB).
struct IndexList<F> {
    count: usize,
    episode_at: F,
}

impl<F> fmt::Debug for IndexList<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{} episodes]", self.count)
    }
}

impl<F: Fn(usize) -> Option<Episode> + Send + Sync + 'static> Object for IndexList<F> {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, index: &Value) -> Option<Value> {
        let episode = (self.episode_at)(index.as_usize()?)?;
        Some(Value::from_serialize(IndexEpisode::from(episode)))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.count)
    }
}

/// Stages the HTML page beside the feed (published with it): the show, its split feeds (file
/// name and label), and its episodes with players. `episode_at(i)` is the i-th of `count`
/// episodes in feed order.
pub fn stage_index(
    path: &Path,
    template: &str,
    channel: &Channel,
    feed_file_name: &str,
    split_feeds: &[(&str, &str)],
    count: usize,
    episode_at: impl Fn(usize) -> Option<Episode> + Send + Sync + 'static,
) -> Result<Staged, IndexError> {
    let mut env = minijinja::Environment::new();
    env.add_template("index.html", template)?;
    let template = env.get_template("index.html")?;
    let podcast_url = channel
        .self_url
        .as_deref()
        .map(|u| u.replacen("https://", "podcast://", 1).replacen("http://", "podcast://", 1));
    let context = minijinja::context! {
        title => &channel.title,
        description => &channel.description,
        link => &channel.link,
        image => channel.image.as_deref().map(|image| beside_feed(image, channel.self_url.as_deref())),
        language => channel.language.as_deref().unwrap_or("en"),
        feed => feed_file_name,
        split_feeds => split_feeds.iter().map(|(file, label)| minijinja::context! { file, label }).collect::<Vec<_>>(),
        podcast_url => podcast_url,
        episodes => Value::from_object(IndexList { count, episode_at }),
    };
    let mut failure = None;
    let staged = stage(path, |out| {
        template.render_captured_to(context, out).map(drop).map_err(|e| {
            let message = io::Error::other(e.to_string());
            failure = Some(e);
            message
        })
    });
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(staged?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_beside_the_feed_are_linked_relatively() {
        let self_url = Some("https://feeds.example.org/shows/feed.xml");
        assert_eq!(beside_feed("https://feeds.example.org/shows/cover.png", self_url), "cover.png");
        assert_eq!(beside_feed("https://cdn.example.org/cover.png", self_url), "https://cdn.example.org/cover.png");
        assert_eq!(
            beside_feed("https://feeds.example.org/shows/art/c.png", self_url),
            "https://feeds.example.org/shows/art/c.png"
        );
        assert_eq!(beside_feed("https://x.example/c.png", None), "https://x.example/c.png");
    }
}
