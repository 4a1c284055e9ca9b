//! Compaction of the pack files. A page fetched again is appended again, and its old body is
//! dead: nothing points at it. A pack whose dead bytes are more than half of it is rewritten:
//! its live bodies are appended to the newest pack, their headers pointed at the copies, and
//! the old pack deleted. Crash-safe in that order: the copies are on disk before any header
//! points at them, and the headers are on disk before the old pack goes; a kill -9 between
//! the steps leaves dead copies (compacted later) or an old pack nothing points at any more
//! (deleted by the next compaction), never a header without its body.

use std::collections::BTreeMap;

use super::{page_error, BodyRef, Packs, PageError, PageHeader, PageTrees, Store, StoreError};

/// What a compaction did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    /// Packs rewritten and deleted.
    pub packs: usize,
    /// Live bytes copied to the newest pack.
    pub moved_bytes: u64,
    /// Bytes the deleted packs took on disk.
    pub freed_bytes: u64,
}

/// One header that points into a pack, as stored (compared before it is replaced).
struct Live<'t> {
    trees: &'t PageTrees,
    key: sled::IVec,
    stored: sled::IVec,
    header: PageHeader,
}

impl Store {
    /// Rewrites every pack whose dead bytes are more than half its size (see the module's
    /// comment). Runs at the end of every run that wrote to the cache; cheap when there is
    /// nothing to do (the headers are read, not the bodies).
    pub fn compact(&self) -> Result<Compacted, StoreError> {
        let io = |e: std::io::Error| page_error(&self.dir, PageError::Io(e));
        let mut live: BTreeMap<u32, Vec<Live>> = BTreeMap::new();
        for trees in [&self.pages, &self.listings] {
            for entry in trees.headers.iter() {
                let (key, stored) = entry.map_err(|e| self.sled(e))?;
                // A header that does not parse is left alone (and its pack kept): reading it
                // says what is wrong, where it is read.
                let Ok(header) = serde_json::from_slice::<PageHeader>(&stored) else { continue };
                live.entry(header.body.pack).or_default().push(Live { trees, key, stored, header });
            }
        }
        let mut done = Compacted::default();
        for (pack, size) in self.bodies.sizes().map_err(io)? {
            let entries = live.remove(&pack).unwrap_or_default();
            let live_bytes: u64 = entries.iter().map(|e| e.header.body.len).sum();
            if size == 0 || size.saturating_sub(live_bytes) * 2 <= size {
                continue;
            }
            if pack == self.bodies.current() {
                self.bodies.roll().map_err(io)?;
            }
            done.moved_bytes += self.move_bodies(&entries)?;
            self.bodies.remove(pack).map_err(io)?;
            done.packs += 1;
            done.freed_bytes += size;
        }
        Ok(done)
    }

    /// Copies the bodies to the newest pack and points their headers at the copies, durably.
    fn move_bodies(&self, entries: &[Live]) -> Result<u64, StoreError> {
        let io = |e: std::io::Error| page_error(&self.dir, PageError::Io(e));
        let mut moved = Vec::with_capacity(entries.len());
        let mut bytes = 0;
        for entry in entries {
            let body = self.bodies.read(&entry.header.body).map_err(io)?;
            let copy: BodyRef = self.bodies.append(&body).map_err(io)?;
            bytes += copy.len;
            moved.push(copy);
        }
        self.bodies.sync().map_err(io)?;
        for (entry, copy) in entries.iter().zip(moved) {
            let header = PageHeader { body: copy, ..entry.header.clone() };
            // A header written meanwhile (it cannot be, the cache is this process's) wins.
            let swapped =
                entry.trees.headers.compare_and_swap(&entry.key, Some(&entry.stored), Some(super::to_json(&header)));
            swapped.map_err(|e| self.sled(e))?.ok();
        }
        self.db.flush().map_err(|e| self.sled(e))?;
        Ok(bytes)
    }
}

impl Packs {
    /// The number of the pack appended to.
    fn current(&self) -> u32 {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// Starts a new pack, so that the current one can be compacted.
    fn roll(&self) -> std::io::Result<()> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        current.1.sync_data()?;
        let next = current.0 + 1;
        *current = (next, Packs::open_pack(&self.dir, next)?, 0);
        Ok(())
    }

    /// Every pack and its size on disk, in order.
    fn sizes(&self) -> std::io::Result<Vec<(u32, u64)>> {
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

    fn remove(&self, pack: u32) -> std::io::Result<()> {
        std::fs::remove_file(self.dir.join(format!("{pack:06}.pack")))
    }
}
