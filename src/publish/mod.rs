//! Publishing: new versions of the feed, its gzip and its HTML page are written beside the old
//! ones ([`stage`]), checked, and only then renamed over them ([`Staged::publish`]), so a reader or
//! a crash sees the old file or the new one, never half of one, and a feed that fails its checks
//! is never seen at all. Unchanged files are left alone so static servers keep their ETag and
//! Last-Modified.

pub mod git;
mod index;
pub mod s3;

use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use tempfile::NamedTempFile;

pub(crate) use index::beside_feed;
pub use index::{stage_index, IndexError, INDEX_TEMPLATE};

#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct PublishError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// One file of the folder to publish elsewhere: where it is, and its name there (beside the feed).
#[derive(Debug, Clone)]
pub struct Upload {
    pub path: PathBuf,
    pub name: String,
}

/// Whether a file was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Written,
    Unchanged,
}

/// A new version of a file, written whole beside it and not yet published.
pub struct Staged {
    path: PathBuf,
    file: NamedTempFile,
}

impl Staged {
    /// Where the new version is, to be read back before it is published.
    pub fn new_version(&self) -> &Path {
        self.file.path()
    }

    /// Renames the new version over the published file, unless their bytes are the same (then the
    /// published file is left untouched and the new version dropped).
    pub fn publish(self) -> Result<Outcome, PublishError> {
        let err = |source| PublishError { path: self.path.clone(), source };
        if same_content(self.file.path(), &self.path).map_err(err)? {
            return Ok(Outcome::Unchanged);
        }
        self.file.as_file().sync_all().map_err(err)?;
        // Temporary files are private (0600); a published feed must be readable by the web server.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            self.file.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(err)?;
        }
        self.file.persist(&self.path).map_err(|e| PublishError { path: self.path.clone(), source: e.error })?;
        Ok(Outcome::Written)
    }
}

/// Streams new content into a temporary file in `path`'s folder; nothing is published yet.
pub fn stage(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<Staged, PublishError> {
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
    Ok(Staged { path: path.to_path_buf(), file })
}

/// Writes `bytes` to `path` atomically; see [`write_atomic_with`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<Outcome, PublishError> {
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// [`stage`], then [`Staged::publish`].
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<Outcome, PublishError> {
    stage(path, write)?.publish()
}

/// zlib's default: the file is fetched by every subscriber's app, so its size matters more than
/// the 0.2 s a faster level would save a 10,000-episode build (level 4: 10 % larger).
const GZIP_LEVEL: flate2::Compression = flate2::Compression::new(6);

/// Whether `name` is one of the split feeds (or their `.gz`) a feed named `feed_name` may have
/// beside it: `feed-2017.xml`, `feed-season-3.xml`, `feed-other.xml` for `feed.xml`.
pub fn is_split_name(feed_name: &str, name: &str) -> bool {
    let (stem, extension) = feed_name.rsplit_once('.').unwrap_or((feed_name, "xml"));
    let name = name.strip_suffix(".gz").unwrap_or(name);
    let tag = name.strip_prefix(stem).and_then(|n| n.strip_prefix('-'));
    let tag = tag.and_then(|n| n.strip_suffix(extension)).and_then(|n| n.strip_suffix('.'));
    let numbered = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    tag.is_some_and(|tag| tag == "other" || numbered(tag) || tag.strip_prefix("season-").is_some_and(numbered))
}

/// `feed.xml.gz` for `feed.xml`.
pub fn gzip_path(feed: &Path) -> PathBuf {
    let mut name = feed.as_os_str().to_owned();
    name.push(".gz");
    PathBuf::from(name)
}

/// Whether `feed.xml.gz` is there beside the feed.
pub fn gzip_exists(feed: &Path) -> bool {
    gzip_path(feed).exists()
}

/// Writes `feed.xml.gz` beside the feed for servers that serve it precompressed (nginx's
/// gzip_static), when the feed changed or the file is missing.
pub fn write_gzip_beside(feed: &Path, feed_changed: bool) -> Result<(), PublishError> {
    let gz = gzip_path(feed);
    if !feed_changed && gz.exists() {
        return Ok(());
    }
    let err = |source| PublishError { path: feed.to_path_buf(), source };
    let mut source = std::fs::File::open(feed).map_err(err)?;
    write_atomic_with(&gz, |out| {
        let mut encoder = GzEncoder::new(out, GZIP_LEVEL);
        io::copy(&mut source, &mut encoder)?;
        encoder.finish().map(|_| ())
    })?;
    Ok(())
}

/// Bytes of the feed handed to the compressing thread at a time.
const GZIP_CHUNK: usize = 64 * 1024;

/// Stages the feed as [`stage`] does and, at the same time, `feed.xml.gz` beside it: a second
/// thread compresses the feed as it is written, so both together take hardly longer than
/// compressing alone (10,000 items: 0.4 s, against 0.57 s one after the other). Neither is staged
/// unless the feed was written to the end.
pub fn stage_with_gzip(
    feed: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(Staged, Staged), PublishError> {
    let (chunks, received) = std::sync::mpsc::sync_channel::<Vec<u8>>(16);
    let gz = gzip_path(feed);
    std::thread::scope(|scope| {
        let compressing = scope.spawn(|| stage(&gz, |out| compress(received, out)));
        let written = stage(feed, |out| {
            let mut tee = Tee { out, chunks: &chunks, copy: Vec::with_capacity(GZIP_CHUNK) };
            write(&mut tee)?;
            tee.finish()
        });
        drop(chunks);
        let compressed = compressing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok((written?, compressed?))
    })
}

/// Writes to `out` and hands a copy to the compressing thread; an empty chunk marks the end.
struct Tee<'a> {
    out: &'a mut dyn Write,
    chunks: &'a std::sync::mpsc::SyncSender<Vec<u8>>,
    copy: Vec<u8>,
}

impl Tee<'_> {
    fn send(&mut self) -> io::Result<()> {
        let chunk = std::mem::replace(&mut self.copy, Vec::with_capacity(GZIP_CHUNK));
        self.chunks.send(chunk).map_err(|_| io::Error::other("the compressing thread stopped"))
    }

    fn finish(mut self) -> io::Result<()> {
        if !self.copy.is_empty() {
            self.send()?;
        }
        self.send()
    }
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.copy.extend_from_slice(&buf[..n]);
        if self.copy.len() >= GZIP_CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Compresses chunks until the empty one that marks the end; without it, the feed was not
/// finished and neither is the compressed copy.
fn compress(chunks: std::sync::mpsc::Receiver<Vec<u8>>, out: &mut dyn Write) -> io::Result<()> {
    let mut encoder = GzEncoder::new(out, GZIP_LEVEL);
    for chunk in chunks {
        if chunk.is_empty() {
            return encoder.finish().map(|_| ());
        }
        encoder.write_all(&chunk)?;
    }
    Err(io::Error::other("the feed was not written to the end"))
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
    fn gzip_beside_the_feed_follows_it() {
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("feed.xml");
        write_atomic(&feed, b"<rss>one</rss>").unwrap();
        write_gzip_beside(&feed, true).unwrap();
        assert_eq!(gunzip(&dir.path().join("feed.xml.gz")), "<rss>one</rss>");
    }

    fn gunzip(path: &Path) -> String {
        let mut text = String::new();
        let gz = std::fs::read(path).unwrap();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
        text
    }

    #[test]
    fn feed_and_gzip_written_together_match() {
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("feed.xml");
        let big = "<item>".repeat(50_000);
        let (staged, gz) = stage_with_gzip(&feed, |out| out.write_all(big.as_bytes())).unwrap();
        assert!(!feed.exists(), "nothing is published before it is asked for");
        assert_eq!((staged.publish().unwrap(), gz.publish().unwrap()), (Outcome::Written, Outcome::Written));
        assert_eq!(std::fs::read_to_string(&feed).unwrap(), big);
        assert_eq!(gunzip(&dir.path().join("feed.xml.gz")), big);
    }

    #[test]
    fn a_feed_that_fails_halfway_replaces_neither_file() {
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("feed.xml");
        let (staged, gz) = stage_with_gzip(&feed, |out| out.write_all(b"<rss>old</rss>")).unwrap();
        staged.publish().unwrap();
        gz.publish().unwrap();
        let failed = stage_with_gzip(&feed, |out| {
            out.write_all(&vec![b'x'; 3 * GZIP_CHUNK])?;
            Err(io::Error::other("the store went away"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&feed).unwrap(), "<rss>old</rss>");
        assert_eq!(gunzip(&dir.path().join("feed.xml.gz")), "<rss>old</rss>");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 2, "no temporary files left behind");
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
