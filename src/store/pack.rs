//! Page bodies in pack files: small JSON headers in a sled tree (which also say which pages
//! are known) point at deflated bodies appended to `packs/NNNNNN.pack`. `compact.rs`
//! rewrites packs that are mostly dead.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use serde::{Deserialize, Serialize};

use super::{to_json, StoreError};
use crate::model::Page;

/// What the `pages` and `listings` trees hold for a page: where its body is, and its metadata.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct PageHeader {
    pub(super) body: BodyRef,
    pub(super) final_url: String,
    #[serde(default)]
    pub(super) etag: Option<String>,
    #[serde(default)]
    pub(super) last_modified: Option<String>,
    pub(super) fetched_at: DateTime<Utc>,
}

/// A page error as the store reports it, naming the cache.
pub(super) fn page_error(dir: &Path, error: PageError) -> StoreError {
    match error {
        PageError::Sled(source) => StoreError::Sled { dir: dir.to_path_buf(), source },
        PageError::Io(source) => StoreError::Io { dir: dir.to_path_buf(), source },
        PageError::Corrupt { key, reason } => StoreError::Corrupt { dir: dir.to_path_buf(), key, reason },
    }
}

/// Pages: small JSON headers in a sled tree (which also say which pages are known), with the
/// deflated bodies appended to pack files. sled 0.34 keeps every value it has read or written in
/// memory whatever its `cache_capacity` (measured: 180 MB for 10,000 pages), and one file per page
/// makes the file system the bottleneck; pack files keep memory flat and writes cheap.
#[derive(Clone)]
pub(super) struct PageTrees {
    pub(super) headers: sled::Tree,
    pub(super) bodies: Arc<Packs>,
}

/// Why a page could not be read or written, before the store names its cache.
pub(super) enum PageError {
    Sled(sled::Error),
    Io(std::io::Error),
    Corrupt { key: String, reason: String },
}

impl PageTrees {
    pub(super) fn open(db: &sled::Db, name: &str, bodies: Arc<Packs>) -> Result<PageTrees, PageError> {
        Ok(PageTrees { headers: db.open_tree(name).map_err(PageError::Sled)?, bodies })
    }

    pub(super) fn get(&self, url: &str) -> Result<Option<Page>, PageError> {
        let corrupt = |reason: String| PageError::Corrupt { key: format!("pages/{url}"), reason };
        let Some(header) = self.headers.get(url).map_err(PageError::Sled)? else { return Ok(None) };
        let header: PageHeader = serde_json::from_slice(&header).map_err(|e| corrupt(e.to_string()))?;
        let body = self.bodies.read(&header.body).map_err(|e| corrupt(format!("body: {e}")))?;
        let mut html = String::new();
        DeflateDecoder::new(&body[..]).read_to_string(&mut html).map_err(|e| corrupt(e.to_string()))?;
        Ok(Some(Page {
            url: url.to_string(),
            final_url: header.final_url,
            html,
            etag: header.etag,
            last_modified: header.last_modified,
            fetched_at: header.fetched_at,
        }))
    }

    /// The body is appended first: a header only ever points at a body that was written whole.
    pub(super) fn put(&self, page: &PackedPage) -> Result<(), PageError> {
        let body = self.bodies.append(&page.body).map_err(PageError::Io)?;
        let header = PageHeader {
            final_url: page.final_url.clone(),
            etag: page.etag.clone(),
            last_modified: page.last_modified.clone(),
            fetched_at: page.fetched_at,
            body,
        };
        self.headers.insert(page.url.as_str(), to_json(&header)).map_err(PageError::Sled)?;
        Ok(())
    }
}

/// A page ready to be stored: its HTML deflated.
pub struct PackedPage {
    url: String,
    final_url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    fetched_at: DateTime<Utc>,
    body: Vec<u8>,
}

impl PackedPage {
    pub fn pack(page: &Page) -> PackedPage {
        let mut encoder = DeflateEncoder::new(Vec::with_capacity(page.html.len() / 4), flate2::Compression::fast());
        encoder.write_all(page.html.as_bytes()).expect("writing to a Vec cannot fail");
        PackedPage {
            url: page.url.clone(),
            final_url: page.final_url.clone(),
            etag: page.etag.clone(),
            last_modified: page.last_modified.clone(),
            fetched_at: page.fetched_at,
            body: encoder.finish().expect("writing to a Vec cannot fail"),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Where a body sits: pack file number, offset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct BodyRef {
    pub(super) pack: u32,
    pub(super) offset: u64,
    pub(super) len: u64,
}

/// Append-only pack files `packs/NNNNNN.pack`. A crash can leave a torn record at the end of the
/// newest pack; no header points at it, and later records simply follow it.
pub(super) struct Packs {
    dir: PathBuf,
    /// The newest pack's number, its file (open for appending) and its length.
    current: Mutex<(u32, std::fs::File, u64)>,
}

/// A new pack is started past this size.
const PACK_LIMIT: u64 = 64 * 1024 * 1024;

impl Packs {
    pub(super) fn open(dir: PathBuf) -> std::io::Result<Packs> {
        std::fs::create_dir_all(&dir)?;
        let newest = std::fs::read_dir(&dir)?
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.strip_suffix(".pack")?.parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        let file = Packs::open_pack(&dir, newest)?;
        let len = file.metadata()?.len();
        Ok(Packs { dir, current: Mutex::new((newest, file, len)) })
    }

    fn open_pack(dir: &Path, number: u32) -> std::io::Result<std::fs::File> {
        std::fs::OpenOptions::new().create(true).append(true).open(dir.join(format!("{number:06}.pack")))
    }

    pub(super) fn append(&self, bytes: &[u8]) -> std::io::Result<BodyRef> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current.2 > 0 && current.2 + bytes.len() as u64 > PACK_LIMIT {
            self.start_next(&mut current)?;
        }
        let (pack, file, len) = &mut *current;
        file.write_all(bytes)?;
        let body = BodyRef { pack: *pack, offset: *len, len: bytes.len() as u64 };
        *len += bytes.len() as u64;
        Ok(body)
    }

    /// Closes the current pack durably (a later `sync` covers only the newest) and starts the
    /// next, its name on disk before any header can point into it.
    fn start_next(&self, current: &mut (u32, std::fs::File, u64)) -> std::io::Result<()> {
        current.1.sync_data()?;
        let next = current.0 + 1;
        *current = (next, Packs::open_pack(&self.dir, next)?, 0);
        std::fs::File::open(&self.dir)?.sync_all()
    }

    /// Whether the pack holds the body's bytes (a cheap check: its length, not its content).
    pub(super) fn holds(&self, body: &BodyRef) -> bool {
        let pack = self.dir.join(format!("{:06}.pack", body.pack));
        std::fs::metadata(pack).is_ok_and(|file| body.offset.saturating_add(body.len) <= file.len())
    }

    pub(super) fn read(&self, body: &BodyRef) -> std::io::Result<Vec<u8>> {
        use std::io::{Seek, SeekFrom};
        let mut file = std::fs::File::open(self.dir.join(format!("{:06}.pack", body.pack)))?;
        // A header's length is checked against the file before it is allocated.
        if body.offset.saturating_add(body.len) > file.metadata()?.len() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        file.seek(SeekFrom::Start(body.offset))?;
        let mut bytes = vec![0; body.len as usize];
        file.read_exact(&mut bytes)?;
        Ok(bytes)
    }

    pub(super) fn sync(&self) -> std::io::Result<()> {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).1.sync_data()
    }

    // What compaction asks of the packs.

    /// The number of the pack appended to.
    pub(super) fn current(&self) -> u32 {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// Starts a new pack (unless the current one is still empty), so that nothing is
    /// appended to the packs being compacted.
    pub(super) fn roll(&self) -> std::io::Result<()> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current.2 > 0 {
            self.start_next(&mut current)?;
        }
        Ok(())
    }

    /// Every pack and its size on disk, in order.
    pub(super) fn sizes(&self) -> std::io::Result<Vec<(u32, u64)>> {
        let mut sizes = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let number = entry.file_name().to_str().and_then(|n| n.strip_suffix(".pack")?.parse::<u32>().ok());
            if let Some(number) = number {
                sizes.push((number, entry.metadata()?.len()));
            }
        }
        sizes.sort_unstable();
        Ok(sizes)
    }

    pub(super) fn remove(&self, pack: u32) -> std::io::Result<()> {
        std::fs::remove_file(self.dir.join(format!("{pack:06}.pack")))
    }
}
