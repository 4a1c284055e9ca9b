//! The state of a running site, shared by every request: its show as it is now (episodes up,
//! retitled, audio replaced, moved), the faults and outages it is in, and its counters.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use axum::http::StatusCode;

use crate::door::Door;
use crate::latency::Latency;
use crate::show::{Show, ShowEpisode};
use crate::stats::Counters;
use crate::DemoConfig;

pub(crate) struct SiteState {
    pub(crate) config: DemoConfig,
    pub(crate) latency: Latency,
    pub(crate) show: Show,
    pub(crate) latest: AtomicU32,
    pub(crate) retitled: RwLock<HashMap<u32, String>>,
    /// When each retitled episode changed: its sitemap `<lastmod>`.
    pub(crate) changed_at: RwLock<HashMap<u32, chrono::DateTime<chrono::Utc>>>,
    /// Audio files replaced by a file of another size.
    pub(crate) replaced_audio: RwLock<HashMap<u32, u64>>,
    /// Paths that already had their one injected failure.
    pub(crate) failed_once: Mutex<HashSet<String>>,
    /// When each path was answered 429, to see how long its client waited before asking again.
    pub(crate) throttled_at: Mutex<HashMap<String, std::time::Instant>>,
    /// The shortest wait between a 429 and the retry of the same path, in milliseconds.
    pub(crate) shortest_retry_wait_ms: AtomicU64,
    /// Path prefixes answered with a status instead of their page: an outage.
    pub(crate) outages: RwLock<Vec<(String, StatusCode)>>,
    /// The pages are at new paths: see [`moved`](crate::moved).
    pub(crate) moved: AtomicBool,
    /// Holds requests for tests: see [`DemoSite::hold_after`](crate::DemoSite::hold_after) and
    /// [`DemoSite::gather`](crate::DemoSite::gather).
    pub(crate) door: Door,
    pub(crate) counters: Counters,
}

impl SiteState {
    /// A new site's state: every episode up, nothing changed, nothing counted.
    pub(crate) fn new(config: DemoConfig) -> SiteState {
        SiteState {
            latest: AtomicU32::new(config.episodes),
            latency: Latency::new(config.latency),
            show: Show::new(config.episodes),
            config,
            retitled: RwLock::default(),
            changed_at: RwLock::default(),
            replaced_audio: RwLock::default(),
            failed_once: Mutex::default(),
            throttled_at: Mutex::default(),
            shortest_retry_wait_ms: AtomicU64::new(u64::MAX),
            outages: RwLock::default(),
            moved: AtomicBool::new(false),
            door: Door::default(),
            counters: Counters::default(),
        }
    }

    pub(crate) fn episode(&self, number: u32) -> Option<ShowEpisode> {
        if number == 0 || number > self.latest.load(Ordering::Relaxed) {
            return None;
        }
        let mut episode = self.show.episode(number);
        if let Some(title) = self.retitled.read().unwrap_or_else(|p| p.into_inner()).get(&number) {
            episode.title = title.clone();
        }
        Some(episode)
    }

    /// The episodes the site has now, newest first.
    pub(crate) fn episodes_newest_first(&self) -> Vec<ShowEpisode> {
        (1..=self.latest.load(Ordering::Relaxed)).rev().filter_map(|n| self.episode(n)).collect()
    }

    /// The size of episode `number`'s audio file as the CDN serves it now.
    pub(crate) fn audio_bytes(&self, episode: &ShowEpisode) -> u64 {
        let replaced = self.replaced_audio.read().unwrap_or_else(|p| p.into_inner()).get(&episode.number).copied();
        replaced.unwrap_or_else(|| episode.audio_bytes())
    }
}
