//! Publishing: atomic replacement of the feed (and its HTML page), leaving unchanged files alone
//! so static servers keep their ETag and Last-Modified.

use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::feed::format_duration;
use crate::model::Episode;
use crate::recipe::Channel;

/// The built-in page template; `[output] template` names another.
pub const INDEX_TEMPLATE: &str = include_str!("../templates/index.html");

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

/// Writes `bytes` to `path` atomically; see [`write_atomic_with`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<Outcome, PublishError> {
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// Streams new content into a temporary file in `path`'s directory, then renames it over `path`,
/// so a reader (or a crash) sees the old file or the new one, never half of one. When the new
/// content is byte for byte the old, the temporary file is dropped and `path` is left untouched.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<Outcome, PublishError> {
    let err = |source| PublishError { path: path.to_path_buf(), source };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut file = tempfile::Builder::new().prefix(".podfeed-").tempfile_in(dir).map_err(err)?;
    {
        let mut out = BufWriter::new(file.as_file_mut());
        write(&mut out).map_err(err)?;
        out.flush().map_err(err)?;
    }
    if same_content(file.path(), path).map_err(err)? {
        return Ok(Outcome::Unchanged);
    }
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

/// A URL in the folder the feed is served from, as a link relative to the page beside the feed,
/// so the page works wherever the folder is served (`podfeed serve`, a staging host).
fn beside_feed(url: &str, self_url: Option<&str>) -> String {
    let folder = self_url.and_then(|u| u.rsplit_once('/')).map(|(folder, _)| format!("{folder}/"));
    match folder.and_then(|folder| url.strip_prefix(&folder).map(str::to_string)) {
        Some(name) if !name.contains('/') && !name.is_empty() => name,
        _ => url.to_string(),
    }
}

/// Writes `feed.xml.gz` beside the feed for servers that serve it precompressed (nginx's
/// gzip_static), when the feed changed or the file is missing.
pub fn write_gzip_beside(feed: &Path, feed_changed: bool) -> Result<(), PublishError> {
    let mut name = feed.as_os_str().to_owned();
    name.push(".gz");
    let gz = Path::new(&name);
    if !feed_changed && gz.exists() {
        return Ok(());
    }
    let err = |source| PublishError { path: feed.to_path_buf(), source };
    let mut source = std::fs::File::open(feed).map_err(err)?;
    write_atomic_with(gz, |out| {
        let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        io::copy(&mut source, &mut encoder)?;
        encoder.finish().map(|_| ())
    })?;
    Ok(())
}

/// How many items the feed at `path` has (0 when there is none yet).
pub fn count_items(path: &Path) -> Result<u64, PublishError> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(source) => return Err(PublishError { path: path.to_path_buf(), source }),
    };
    let mut count = 0;
    for line in BufReader::new(file).split(b'\n') {
        let line = line.map_err(|source| PublishError { path: path.to_path_buf(), source })?;
        count += line.windows(6).filter(|w| w == b"<item>").count() as u64;
    }
    Ok(count)
}

/// Whether two files hold the same bytes; a missing `old` file differs from anything.
fn same_content(new: &Path, old: &Path) -> io::Result<bool> {
    let old_file = match std::fs::File::open(old) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let new_file = std::fs::File::open(new)?;
    if old_file.metadata()?.len() != new_file.metadata()?.len() {
        return Ok(false);
    }
    let (mut a, mut b) = (BufReader::new(new_file), BufReader::new(old_file));
    loop {
        let (chunk_a, chunk_b) = (a.fill_buf()?.to_vec(), b.fill_buf()?);
        let n = chunk_a.len().min(chunk_b.len());
        if n == 0 {
            return Ok(chunk_a.len() == chunk_b.len());
        }
        if chunk_a[..n] != chunk_b[..n] {
            return Ok(false);
        }
        a.consume(n);
        b.consume(n);
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

/// The HTML page written beside the feed: the show and its episodes with players.
/// `episodes` must already be in feed order.
pub fn render_index(
    template: &str,
    channel: &Channel,
    feed_file_name: &str,
    episodes: impl IntoIterator<Item = Episode>,
) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.add_template("index.html", template)?;
    // Everything but the show notes: the page lists episodes, it does not repeat them.
    let episodes: Vec<IndexEpisode> = episodes
        .into_iter()
        .map(|e| IndexEpisode {
            mime_type: e.enclosure.mime_type.unwrap_or_else(|| "audio/mpeg".into()),
            date: e.published.map(|d| d.format("%B %-d, %Y").to_string()),
            iso_date: e.published.map(|d| d.to_rfc3339()),
            duration: e.duration.map(format_duration),
            title: e.title,
            link: e.link,
            audio: e.enclosure.url,
            description: e.description,
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
        image => channel.image.as_deref().map(|image| beside_feed(image, channel.self_url.as_deref())),
        language => channel.language.as_deref().unwrap_or("en"),
        feed => feed_file_name,
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

    #[test]
    fn gzip_beside_the_feed_follows_it() {
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("feed.xml");
        write_atomic(&feed, b"<rss>one</rss>").unwrap();
        write_gzip_beside(&feed, true).unwrap();
        let gz = std::fs::read(dir.path().join("feed.xml.gz")).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
        assert_eq!(text, "<rss>one</rss>");
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
