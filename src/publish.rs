//! Publishing: atomic replacement of the feed (and its HTML page), leaving unchanged files alone
//! so static servers keep their ETag and Last-Modified.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::feed::format_duration;
use crate::model::Episode;
use crate::recipe::Channel;

const INDEX_TEMPLATE: &str = include_str!("../templates/index.html");

#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct PublishError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Whether a file was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Written,
    Unchanged,
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader (or a crash) sees the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<Outcome, PublishError> {
    let err = |source| PublishError { path: path.to_path_buf(), source };
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(Outcome::Unchanged);
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut file = tempfile::Builder::new().prefix(".podfeed-").tempfile_in(dir).map_err(err)?;
    file.write_all(bytes).map_err(err)?;
    file.as_file().sync_all().map_err(err)?;
    // Temporary files are private (0600); a published feed must be readable by the web server.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(err)?;
    }
    file.persist(path).map_err(|e| err(e.error))?;
    Ok(Outcome::Written)
}

#[derive(Serialize)]
struct IndexEpisode<'a> {
    title: &'a str,
    link: &'a str,
    audio: &'a str,
    mime_type: &'a str,
    date: Option<String>,
    duration: Option<String>,
    description: Option<&'a str>,
}

/// The HTML page written beside the feed: the show and its episodes with players.
/// `episodes` must already be in feed order.
pub fn render_index(channel: &Channel, feed_file_name: &str, episodes: &[Episode]) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.add_template("index.html", INDEX_TEMPLATE)?;
    let episodes: Vec<IndexEpisode> = episodes
        .iter()
        .map(|e| IndexEpisode {
            title: &e.title,
            link: &e.link,
            audio: &e.enclosure.url,
            mime_type: e.enclosure.mime_type.as_deref().unwrap_or("audio/mpeg"),
            date: e.published.map(|d| d.format("%B %-d, %Y").to_string()),
            duration: e.duration.map(format_duration),
            description: e.description.as_deref(),
        })
        .collect();
    let podcast_url = channel
        .self_url
        .as_deref()
        .map(|u| u.replacen("https://", "podcast://", 1).replacen("http://", "podcast://", 1));
    env.get_template("index.html")?.render(minijinja::context! {
        title => &channel.title,
        description => &channel.description,
        link => &channel.link,
        image => &channel.image,
        language => channel.language.as_deref().unwrap_or("en"),
        feed => channel.self_url.as_deref().unwrap_or(feed_file_name),
        podcast_url => podcast_url,
        episodes => episodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_then_leaves_identical_bytes_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("public/feed.xml");
        assert_eq!(write_atomic(&path, b"one").unwrap(), Outcome::Written);
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(write_atomic(&path, b"one").unwrap(), Outcome::Unchanged);
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), modified);
        assert_eq!(write_atomic(&path, b"two").unwrap(), Outcome::Written);
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files are left behind");
    }

    #[cfg(unix)]
    #[test]
    fn published_file_is_world_readable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.xml");
        write_atomic(&path, b"x").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644);
    }
}
