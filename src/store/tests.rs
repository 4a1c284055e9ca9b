//! Unit tests of the store; compact.rs and guids.rs borrow [`episode`] and [`reopen`].

use super::*;
use chrono::Utc;

use crate::model::{Enclosure, Episode, Page};

pub(super) fn episode(guid: &str, page: &str, title: &str) -> Episode {
    Episode {
        guid: guid.into(),
        page_url: page.into(),
        link: page.into(),
        title: title.into(),
        published: None,
        enclosure: Enclosure { url: format!("{page}.mp3"), length: None, mime_type: None },
        duration: None,
        description: None,
        content: None,
        image: None,
        episode: None,
        season: None,
        episode_type: None,
        explicit: None,
        transcript: None,
        chapters: None,
        season_name: None,
        block: false,
        persons: Vec::new(),
    }
}

/// Opens a cache this process just closed: sled's flusher thread lets go of the file lock a
/// moment after the handle is dropped.
pub(super) fn reopen(dir: &Path) -> Result<Store, StoreError> {
    for _ in 0..100 {
        match Store::open(dir) {
            Err(StoreError::Locked { .. }) => std::thread::sleep(std::time::Duration::from_millis(50)),
            other => return other,
        }
    }
    Store::open(dir)
}

#[test]
fn probe_failures_wait_longer_each_time() {
    let days = |n| (probe_backoff(n) + chrono::Duration::hours(1)).num_days();
    assert_eq!(probe_backoff(1), chrono::Duration::zero(), "the next run");
    assert_eq!((2..=8).map(days).collect::<Vec<_>>(), [1, 2, 4, 8, 16, 30, 30]);
    assert_eq!(days(u32::MAX), 30);
}

#[test]
fn pages_round_trip_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let html = "<p>Café</p>".repeat(5000);
    let page = Page {
        url: "http://a/1".into(),
        final_url: "http://a/1/".into(),
        html: html.clone(),
        etag: Some("\"x\"".into()),
        last_modified: None,
        fetched_at: Utc::now(),
    };
    store.put_page(&PackedPage::pack(&page)).unwrap();
    assert_eq!(store.page("http://a/1").unwrap(), Some(page));
    let stored = std::fs::metadata(dir.path().join("packs/000000.pack")).unwrap().len() as usize;
    assert!(stored < html.len() / 10, "stored {} bytes for {}", stored, html.len());
    assert_eq!(store.known_pages().unwrap(), HashSet::from(["http://a/1".to_string()]));
}

#[test]
fn episode_changes_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.put_episode(&episode("g1", "http://a/1", "One")).unwrap(), Change::New);
    assert_eq!(store.put_episode(&episode("g1", "http://a/1", "One")).unwrap(), Change::Unchanged);
    assert_eq!(store.put_episode(&episode("g1", "http://a/1", "One!")).unwrap(), Change::Updated);
    // The same guid from a second URL is the same episode.
    let mut twin = episode("g1", "http://a/1?ref=x", "One!");
    twin.link = "http://a/1".into();
    twin.enclosure.url = "http://a/1.mp3".into();
    assert_eq!(store.put_episode(&twin).unwrap(), Change::Unchanged);
    assert_eq!(store.feed_keys().unwrap().len(), 1);
}

#[test]
fn one_audio_file_is_one_episode() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let with_audio = |guid: &str, page: &str, link: &str| {
        let mut e = episode(guid, page, "Same");
        (e.link, e.enclosure.url) = (link.into(), "http://cdn/same.mp3".into());
        e
    };
    let first = with_audio("http://a/1?x=1", "http://a/1?x=1", "http://a/1?x=1");
    assert_eq!(store.put_episode(&first).unwrap(), Change::New);
    let second = with_audio("http://a/1?x=2", "http://a/1?x=2", "http://a/1?x=2");
    assert_eq!(store.put_episode(&second).unwrap(), Change::Duplicate { of: first.guid.clone() });
    assert_eq!(store.put_episode(&second).unwrap(), Change::Duplicate { of: first.guid.clone() }, "never new");
    // A page that is its own canonical link wins over one that is not.
    let mut not_canonical = with_audio("g3", "http://a/3?ref=x", "http://a/3");
    not_canonical.enclosure.url = "http://cdn/3.mp3".into();
    store.put_episode(&not_canonical).unwrap();
    let mut canonical = with_audio("g3b", "http://a/3", "http://a/3");
    canonical.enclosure.url = "http://cdn/3.mp3".into();
    assert_eq!(store.put_episode(&canonical).unwrap(), Change::New);
    let guids: HashSet<String> = store.feed_keys().unwrap().into_iter().map(|k| k.guid).collect();
    assert_eq!(guids, HashSet::from([first.guid.clone(), "g3b".to_string()]));
    let duplicates: Vec<(String, String)> =
        store.duplicates().unwrap().into_iter().map(|d| (d.page_url, d.of)).collect();
    assert_eq!(
        duplicates,
        [("http://a/1?x=2".to_string(), first.guid.clone()), ("http://a/3?ref=x".to_string(), "g3b".to_string())]
    );
    // The kept episode's audio moves: the other page is an episode of its own again.
    let mut moved = first.clone();
    moved.enclosure.url = "http://cdn/moved.mp3".into();
    assert_eq!(store.put_episode(&moved).unwrap(), Change::Updated);
    assert_eq!(store.put_episode(&second).unwrap(), Change::New);
    assert_eq!(store.duplicates().unwrap().len(), 1);
}

#[test]
fn an_episode_that_takes_anothers_audio_leaves_no_item_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.put_episode(&episode("a", "http://a/1", "One")).unwrap();
    let mut b = episode("b", "http://a/2", "Two");
    store.put_episode(&b).unwrap();
    b.enclosure.url = "http://a/1.mp3".into();
    assert_eq!(store.put_episode(&b).unwrap(), Change::Duplicate { of: "a".into() });
    let guids: Vec<String> = store.feed_keys().unwrap().into_iter().map(|k| k.guid).collect();
    assert_eq!(guids, ["a"]);
}

#[test]
fn a_cache_from_before_the_enclosure_index_is_made_whole_on_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        // An older podfeed stored three pages of one audio file as three episodes.
        let store = Store::open(dir.path()).unwrap();
        for n in 1..=3 {
            let mut e = episode(&format!("http://a/ep?x={n}"), &format!("http://a/ep?x={n}"), "Same");
            e.enclosure.url = "http://cdn/same.mp3".into();
            store.episodes.insert(e.guid.as_str(), to_json(&e)).unwrap();
        }
        store.enclosures.clear().unwrap();
        store.flush().unwrap();
    }
    let store = reopen(dir.path()).unwrap();
    assert_eq!(store.feed_keys().unwrap().len(), 1);
    assert_eq!(store.duplicates().unwrap().len(), 2);
}

#[test]
fn an_old_caches_unknown_sizes_are_probed_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let mut sized = episode("http://a/1", "http://a/1", "Sized");
        sized.enclosure.length = Some(1000);
        let unknown = episode("http://a/2", "http://a/2", "Unsized");
        store.put_episode(&sized).unwrap();
        store.put_episode(&unknown).unwrap();
        // As an older podfeed left it: no record of the failed probe, no marker.
        store.probe_failures.clear().unwrap();
        store.meta.remove("unknown_sizes_scheduled").unwrap();
        store.flush().unwrap();
    }
    let store = reopen(dir.path()).unwrap();
    let scheduled = store.probe_failures().unwrap();
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0].enclosure_of.as_deref(), Some("http://a/2"));
    assert!(scheduled[0].retry_at.unwrap() <= Utc::now(), "due at once");
}

#[test]
fn a_page_whose_guid_changes_leaves_no_ghost() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.put_episode(&episode("old", "http://a/1", "One")).unwrap();
    store.put_episode(&episode("new", "http://a/1", "One")).unwrap();
    let guids: Vec<String> = store.feed_keys().unwrap().into_iter().map(|k| k.guid).collect();
    assert_eq!(guids, vec!["new".to_string()]);
    store.page_is_not_an_episode("http://a/1").unwrap();
    assert!(store.feed_keys().unwrap().is_empty());
}

#[test]
fn newer_schema_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.meta.insert("schema", &99u32.to_be_bytes()).unwrap();
        store.flush().unwrap();
    }
    let err = reopen(dir.path()).err().expect("schema 99 must be refused");
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

#[test]
fn second_opener_is_told_the_cache_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open(dir.path()).unwrap();
    // sled's lock is per process file handle; a second open in one process also conflicts.
    match Store::open(dir.path()) {
        Err(StoreError::Locked { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
        Err(other) => panic!("expected Locked, got {other}"),
        Ok(_) => panic!("expected Locked, got an open store"),
    }
}
