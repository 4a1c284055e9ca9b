//! What several clients share when they run together: slots, rates, the page text budget and
//! the connection pools.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::budget::{kib, TEXT_WAITING_BYTES};
use super::guard::Resolver;
use super::host::HostLimits;
use super::FetchError;
use crate::recipe::Http;

/// What several clients share when they run together (`build` of a folder of recipes): the
/// requests in flight, each host's slots and rate, and the page text in memory. Each recipe's
/// client keeps its own user agent, robots.txt choice, timeouts and retries.
pub struct Limits {
    pub(super) in_flight: Arc<Semaphore>,
    pub(super) hosts: HostLimits,
    /// KiB of page text held at once: the largest page for every request in flight, and
    /// [`TEXT_WAITING_BYTES`] for pages downloaded and waiting.
    pub(super) text_budget: Arc<Semaphore>,
    pub(super) text_budget_kib: u32,
    /// Runs using these limits at once.
    pub(super) runs_at_once: usize,
    /// Connection pools by settings (see [`Limits::connections`]).
    connections: Mutex<HashMap<String, (reqwest::Client, reqwest::Client)>>,
}

impl Limits {
    /// Limits from `config` (for several recipes, [`Http::shared`]: the politest per host),
    /// shared by `runs_at_once` runs: each keeps its share of the pages in hand, so that they
    /// hold no more page text together than one run alone.
    pub fn new(config: &Http, runs_at_once: usize) -> Arc<Limits> {
        let budget = config.concurrency.saturating_mul(usize::try_from(config.max_page_bytes).unwrap_or(usize::MAX));
        let text_budget_kib = kib(budget.saturating_add(TEXT_WAITING_BYTES)).min(Semaphore::MAX_PERMITS as u32);
        Arc::new(Limits {
            in_flight: Arc::new(Semaphore::new(config.concurrency)),
            hosts: HostLimits::new(config.per_host(), config.rate_limit),
            text_budget: Arc::new(Semaphore::new(text_budget_kib as usize)),
            text_budget_kib,
            runs_at_once: runs_at_once.max(1),
            connections: Mutex::default(),
        })
    }
}

impl Limits {
    /// The connection pools for `config`'s settings: the guarded one and the open one. Recipes
    /// with the same settings (most of a folder) share them, and so their connections to a host.
    pub(super) fn connections(&self, config: &Http) -> Result<(reqwest::Client, reqwest::Client), FetchError> {
        let mut resolve: Vec<_> = config.resolve.iter().collect();
        resolve.sort();
        let key = format!(
            "{}\0{}\0{}\0{}\0{resolve:?}",
            config.user_agent, config.timeout_secs, config.concurrency, config.allow_private
        );
        let mut pools = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pools) = pools.get(&key) {
            return Ok(pools.clone());
        }
        let made = (http_client(config, !config.allow_private)?, http_client(config, false)?);
        pools.insert(key, made.clone());
        Ok(made)
    }
}

/// A reqwest client with `config`'s settings; `global_only` drops non-global addresses at DNS.
fn http_client(config: &Http, global_only: bool) -> Result<reqwest::Client, FetchError> {
    reqwest::Client::builder()
        .user_agent(config.user_agent.clone())
        .gzip(true)
        .brotli(true)
        .timeout(Duration::from_secs(config.timeout_secs))
        .connect_timeout(Duration::from_secs(config.timeout_secs.min(10)))
        .pool_max_idle_per_host(config.concurrency)
        // Not reqwest's 90 s: a folder of recipes leaves every finished show's connections idle,
        // each with its buffers (200 shows, one port each: 1,200 sockets open).
        .pool_idle_timeout(Duration::from_secs(10))
        // Redirects are followed by `send`, which checks every target before asking it.
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(Resolver::new(&config.resolve, global_only)))
        .build()
        .map_err(|e| FetchError::Network(e.to_string()))
}
