//! Compaction of the pack files. A page fetched again is appended again, and its old body is
//! dead: nothing points at it. A pack whose dead bytes are more than half of it is rewritten:
//! its live bodies are appended to a pack started for them, their headers pointed at the
//! copies, and the old pack deleted once no header points into it. Crash-safe in that order: the
//! copies are on disk before any header points at them, and the headers are on disk before the
//! old pack goes; a kill -9 between the steps leaves dead copies (compacted later) or an old
//! pack nothing points at any more (deleted by the next compaction), never a header without its
//! body. Only a run whose tasks have all finished compacts (see the pipeline's `conclude`):
//! nothing else writes meanwhile.

use std::collections::{BTreeMap, HashSet};

use super::pack::{page_error, BodyRef, PageError, PageHeader, PageTrees};
use super::{Store, StoreError};

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

/// A pack chosen for compaction, and the headers that point into it.
struct Chosen<'t> {
    pack: u32,
    size: u64,
    live: Vec<Live<'t>>,
}

impl Store {
    /// Rewrites every pack whose dead bytes are more than half its size (see the module's
    /// comment). Runs at the end of every run that wrote to the cache; cheap when there is
    /// nothing to do (the headers are read, not the bodies).
    pub fn compact(&self) -> Result<Compacted, StoreError> {
        let io = |e: std::io::Error| page_error(&self.dir, PageError::Io(e));
        let chosen = self.mostly_dead()?;
        let mut done = Compacted::default();
        if chosen.is_empty() {
            return Ok(done);
        }
        // The copies go to a pack of their own: never into one being compacted.
        self.bodies.roll().map_err(io)?;
        let mut emptied = Vec::new();
        for Chosen { pack, size, live } in chosen {
            // A header past its pack's end (a pack cut short) is unreadable wherever it is read;
            // its pack is kept rather than half copied again at every run.
            if let Some(torn) = live.iter().find(|e| e.header.body.offset.saturating_add(e.header.body.len) > size) {
                tracing::warn!(pack, key = %String::from_utf8_lossy(&torn.key), "a cached page lies past its pack's end; the pack is kept");
                continue;
            }
            let (moved, all_swapped) = self.move_bodies(&live)?;
            done.moved_bytes += moved;
            if all_swapped {
                emptied.push((pack, size));
            }
        }
        // The last word: a pack any header still points into stays.
        let pointed = self.packs_pointed_at()?;
        for (pack, size) in emptied.into_iter().filter(|(pack, _)| !pointed.contains(pack)) {
            self.bodies.remove(pack).map_err(io)?;
            done.packs += 1;
            done.freed_bytes += size;
        }
        Ok(done)
    }

    /// The packs, other than the one appended to, whose dead bytes are more than half of them.
    fn mostly_dead(&self) -> Result<Vec<Chosen<'_>>, StoreError> {
        let io = |e: std::io::Error| page_error(&self.dir, PageError::Io(e));
        let mut live: BTreeMap<u32, Vec<Live>> = BTreeMap::new();
        for trees in [&self.pages, &self.listings] {
            for entry in trees.headers.iter() {
                let (key, stored) = entry.map_err(|e| self.sled(e))?;
                // A header that does not parse is unreadable wherever it is read (reading it
                // says what is wrong); the body it may point at is of no use to anyone.
                let Ok(header) = serde_json::from_slice::<PageHeader>(&stored) else { continue };
                live.entry(header.body.pack).or_default().push(Live { trees, key, stored, header });
            }
        }
        let current = self.bodies.current();
        let mut chosen = Vec::new();
        for (pack, size) in self.bodies.sizes().map_err(io)? {
            let entries = live.remove(&pack).unwrap_or_default();
            let live_bytes: u64 = entries.iter().map(|e| e.header.body.len).sum();
            let dead = size.saturating_sub(live_bytes);
            // An empty pack left by an earlier roll goes too; the current one only with bytes.
            let empty_leftover = size == 0 && pack != current && entries.is_empty();
            if empty_leftover || (size > 0 && dead * 2 > size) {
                chosen.push(Chosen { pack, size, live: entries });
            }
        }
        Ok(chosen)
    }

    /// Copies the bodies to the newest pack and points their headers at the copies, durably.
    /// Returns the bytes copied, and whether every header was still the one read (a header
    /// changed meanwhile keeps its pack).
    fn move_bodies(&self, entries: &[Live]) -> Result<(u64, bool), StoreError> {
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
        let mut all_swapped = true;
        for (entry, copy) in entries.iter().zip(moved) {
            let header = PageHeader { body: copy, ..entry.header.clone() };
            let swapped =
                entry.trees.headers.compare_and_swap(&entry.key, Some(&entry.stored), Some(super::to_json(&header)));
            all_swapped &= swapped.map_err(|e| self.sled(e))?.is_ok();
        }
        self.db.flush().map_err(|e| self.sled(e))?;
        Ok((bytes, all_swapped))
    }

    /// Every pack some header points into, as the headers are now.
    fn packs_pointed_at(&self) -> Result<HashSet<u32>, StoreError> {
        let mut pointed = HashSet::new();
        for trees in [&self.pages, &self.listings] {
            for entry in trees.headers.iter() {
                let (_, stored) = entry.map_err(|e| self.sled(e))?;
                if let Ok(header) = serde_json::from_slice::<PageHeader>(&stored) {
                    pointed.insert(header.body.pack);
                }
            }
        }
        Ok(pointed)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::reopen;
    use super::*;
    use crate::model::Page;

    /// Page `n`'s text as fetched on night `night`: incompressible enough to fill packs.
    fn page(n: u32, night: u32) -> Page {
        let html = (0..200).map(|i| format!("<p>{n}-{night}-{}</p>", i * 7919 % 1000 + n)).collect();
        Page {
            url: format!("http://127.0.0.1/episodes/{n}"),
            final_url: format!("http://127.0.0.1/episodes/{n}"),
            html,
            etag: None,
            last_modified: None,
            fetched_at: chrono::Utc::now(),
        }
    }

    fn put(store: &Store, n: u32, night: u32) {
        store.put_page(&super::super::PackedPage::pack(&page(n, night))).unwrap();
    }

    /// Pages 1–10 fetched on night 1, and 1–8 again on nights 2 and 3: one pack mostly dead.
    fn three_nights(store: &Store) {
        (1..=10).for_each(|n| put(store, n, 1));
        (2..=3).for_each(|night| (1..=8).for_each(|n| put(store, n, night)));
    }

    fn packs(dir: &std::path::Path) -> Vec<u32> {
        let mut packs: Vec<u32> = std::fs::read_dir(dir.join("packs"))
            .unwrap()
            .filter_map(|e| e.unwrap().file_name().to_str()?.strip_suffix(".pack")?.parse().ok())
            .collect();
        packs.sort_unstable();
        packs
    }

    /// Every page reads as its latest night wrote it, from a cache opened again.
    fn assert_pages(dir: &std::path::Path, latest: &[(u32, u32)]) {
        let store = reopen(dir).unwrap();
        for &(n, night) in latest {
            let read = store.page(&page(n, night).url).unwrap().unwrap_or_else(|| panic!("page {n} is gone"));
            assert_eq!(read.html, page(n, night).html, "page {n}");
        }
    }

    /// An older pack and the pack appended to are both mostly dead in one run: the copies from
    /// the older one must not land in a pack that is then deleted.
    #[test]
    fn two_mostly_dead_packs_in_one_run_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (1..=10).for_each(|n| put(&store, n, 1));
        store.bodies.roll().unwrap();
        for night in 2..=4 {
            (1..=8).for_each(|n| put(&store, n, night));
        }
        store.flush().unwrap();
        assert_eq!(packs(dir.path()), [0, 1]);
        let done = store.compact().unwrap();
        assert_eq!(done.packs, 2, "{done:?}");
        assert_eq!(packs(dir.path()), [2]);
        drop(store);
        let latest: Vec<(u32, u32)> = (1..=10).map(|n| (n, if n <= 8 { 4 } else { 1 })).collect();
        assert_pages(dir.path(), &latest);
    }

    /// A compaction killed after its copies were written but before their headers were: the
    /// next runs find the dead copies in the pack appended to, and the live bodies still in
    /// the old pack; two more compactions keep every page.
    #[test]
    fn a_compaction_cut_short_is_finished_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        three_nights(&store);
        store.bodies.roll().unwrap();
        // What the killed compaction left: copies nothing points at.
        for n in [9, 10] {
            store.bodies.append(page(n, 1).html.as_bytes()).unwrap();
        }
        store.flush().unwrap();
        assert!(store.compact().unwrap().packs >= 1);
        (1..=3).for_each(|n| put(&store, n, 4));
        store.flush().unwrap();
        store.compact().unwrap();
        drop(store);
        let latest: Vec<(u32, u32)> = (1..=10)
            .map(|n| {
                (
                    n,
                    match n {
                        1..=3 => 4,
                        4..=8 => 3,
                        _ => 1,
                    },
                )
            })
            .collect();
        assert_pages(dir.path(), &latest);
        assert_eq!(packs(dir.path()).len(), 1, "the dead copies and the old pack are gone");
    }

    /// A header that changed after compaction read it keeps its pack: nothing is deleted that
    /// a header points into.
    #[test]
    fn a_pack_a_header_still_points_into_stays() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        three_nights(&store);
        store.flush().unwrap();
        let chosen = store.mostly_dead().unwrap();
        assert_eq!(chosen.iter().map(|c| c.pack).collect::<Vec<_>>(), [0]);
        // Page 9's header is written again meanwhile, still pointing into pack 0.
        store.renew_page(&page(9, 1).url).unwrap();
        store.bodies.roll().unwrap();
        let (_, all_swapped) = store.move_bodies(&chosen[0].live).unwrap();
        assert!(!all_swapped, "the changed header is not overwritten");
        assert!(store.packs_pointed_at().unwrap().contains(&0));
        drop(chosen);
        drop(store);
        assert_pages(dir.path(), &(1..=10).map(|n| (n, if n <= 8 { 3 } else { 1 })).collect::<Vec<_>>());
    }
}
