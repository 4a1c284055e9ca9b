//! Enclosure probes (an enclosure's size and type), and what failed: pages that could not be
//! fetched and enclosures whose size could not be learned, kept until they succeed. A failed
//! probe waits longer each time ([`probe_backoff`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{to_json, Store, StoreError};
use crate::model::{Episode, Probe};

/// A page that could not be fetched, or an enclosure whose size could not be learned; kept until
/// it succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub url: String,
    pub reason: String,
    /// The last failed attempt.
    pub at: DateTime<Utc>,
    /// Failed attempts in a row, on as many runs.
    #[serde(default = "one")]
    pub attempts: u32,
    /// For an enclosure: the episode page that gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enclosure_of: Option<String>,
    /// For an enclosure: the first run after this time probes it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<DateTime<Utc>>,
}

fn one() -> u32 {
    1
}

/// How long a failed probe waits before the next try: the next run, then 1, 2, 4, 8, 16 days,
/// then 30 days. An hour less each, so that nightly runs a day apart count as a day apart.
pub fn probe_backoff(attempts: u32) -> chrono::Duration {
    match attempts {
        0 | 1 => chrono::Duration::zero(),
        n => chrono::Duration::days(2i64.saturating_pow(n - 2).min(30)) - chrono::Duration::hours(1),
    }
}

impl Store {
    /// Caches from before probes were retried hold episodes whose size is unknown for good: give
    /// each a failure record due at once, so the next run probes them. Once per cache.
    pub(super) fn schedule_unknown_sizes(&self) -> Result<(), StoreError> {
        const DONE: &str = "unknown_sizes_scheduled";
        if self.meta.contains_key(DONE).map_err(|e| self.sled(e))? {
            return Ok(());
        }
        for value in self.episodes.iter().values() {
            let episode: Episode = self.decode("episodes", &value.map_err(|e| self.sled(e))?)?;
            if episode.enclosure.length.is_none() {
                self.schedule_probe(&episode.enclosure.url, &episode.page_url, "size unknown (an earlier podfeed)")?;
            }
        }
        self.meta.insert(DONE, &[1u8]).map_err(|e| self.sled(e))?;
        Ok(())
    }

    pub fn probe(&self, enclosure_url: &str) -> Result<Option<Probe>, StoreError> {
        self.get_json(&self.probes, "probes", enclosure_url)
    }

    pub fn put_probe(&self, enclosure_url: &str, probe: &Probe) -> Result<(), StoreError> {
        self.probes.insert(enclosure_url, to_json(probe)).map_err(|e| self.sled(e))?;
        Ok(())
    }

    /// Records a failed page; says whether it had failed before too (a dead link, not news).
    pub fn record_failure(&self, url: &str, reason: &str) -> Result<bool, StoreError> {
        let previous: Option<Failure> = self.get_json(&self.failures, "failures", url)?;
        let failure = Failure {
            url: url.to_string(),
            reason: reason.to_string(),
            at: Utc::now(),
            attempts: previous.as_ref().map_or(1, |p| p.attempts.saturating_add(1)),
            enclosure_of: None,
            retry_at: None,
        };
        self.failures.insert(url, to_json(&failure)).map_err(|e| self.sled(e))?;
        Ok(previous.is_some())
    }

    /// Records a failed enclosure probe and when to try it again (see [`probe_backoff`]).
    pub fn record_probe_failure(&self, url: &str, page_url: &str, reason: &str) -> Result<Failure, StoreError> {
        let previous: Option<Failure> = self.get_json(&self.probe_failures, "probe_failures", url)?;
        let attempts = previous.map_or(1, |p| p.attempts.saturating_add(1));
        let at = Utc::now();
        let failure = Failure {
            url: url.to_string(),
            reason: reason.to_string(),
            at,
            attempts,
            enclosure_of: Some(page_url.to_string()),
            retry_at: Some(at + probe_backoff(attempts)),
        };
        self.probe_failures.insert(url, to_json(&failure)).map_err(|e| self.sled(e))?;
        Ok(failure)
    }

    /// Asks the next run to probe an enclosure never probed (a re-extract makes no requests),
    /// unless it is scheduled already.
    pub fn schedule_probe(&self, url: &str, page_url: &str, reason: &str) -> Result<(), StoreError> {
        if self.probe_failures.contains_key(url).map_err(|e| self.sled(e))? {
            return Ok(());
        }
        let at = Utc::now();
        let failure = Failure {
            url: url.to_string(),
            reason: reason.to_string(),
            at,
            attempts: 0,
            enclosure_of: Some(page_url.to_string()),
            retry_at: Some(at),
        };
        self.probe_failures.insert(url, to_json(&failure)).map_err(|e| self.sled(e))?;
        Ok(())
    }

    /// A removal is a write even when there is nothing to remove: look first.
    pub fn clear_probe_failure(&self, url: &str) -> Result<(), StoreError> {
        if self.probe_failures.contains_key(url).map_err(|e| self.sled(e))? {
            self.probe_failures.remove(url).map_err(|e| self.sled(e))?;
        }
        Ok(())
    }

    /// The failed probe of `url`, if its size is still unknown.
    pub fn probe_failure(&self, url: &str) -> Result<Option<Failure>, StoreError> {
        self.get_json(&self.probe_failures, "probe_failures", url)
    }

    /// Enclosures whose size is still unknown, in URL order.
    pub fn probe_failures(&self) -> Result<Vec<Failure>, StoreError> {
        self.all_json(&self.probe_failures, "probe_failures")
    }

    pub(super) fn clear_failure(&self, url: &str) -> Result<(), StoreError> {
        self.failures.remove(url).map_err(|e| self.sled(e))?;
        Ok(())
    }

    pub fn failures(&self) -> Result<Vec<Failure>, StoreError> {
        self.all_json(&self.failures, "failures")
    }
}
