//! A running demo site: its state, shared by every request, and the switches a test or a
//! benchmark turns (new episodes, outages, a move, held requests).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware;
use axum::serve::ListenerExt;
use tokio::sync::oneshot;

use crate::moved;
use crate::server::router;
use crate::show::ShowEpisode;
use crate::state::SiteState;
use crate::stats::SiteStats;
use crate::{DemoConfig, DEMO_RECIPE, RECIPE_BASE};

/// A running demo site. Dropping it stops the server.
pub struct DemoSite {
    addr: SocketAddr,
    state: Arc<SiteState>,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
}

impl DemoSite {
    /// Starts the site on the configured address (127.0.0.1) and `port` (0 picks a free port).
    pub async fn start(config: DemoConfig, port: u16) -> std::io::Result<DemoSite> {
        let state = Arc::new(SiteState::new(config));
        let listener = tokio::net::TcpListener::bind((state.config.address, port)).await?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        // Outside the router, so that a moved page's path is rewritten before it is routed.
        let relocate = middleware::from_fn_with_state(state.clone(), moved::relocate);
        let app = axum::ServiceExt::<Request>::into_make_service(tower::Layer::layer(&relocate, router(state.clone())));
        tokio::spawn(async move {
            // Without TCP_NODELAY, a response written in two segments waits for the client's
            // delayed ACK: tens of milliseconds a request that no real server costs.
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!("demo site stopped: {e}");
            }
        });
        Ok(DemoSite { addr, state, shutdown: Mutex::new(Some(shutdown)) })
    }

    /// Takes the site down, as a server going away at night; later requests are refused.
    pub fn stop(&self) {
        self.shutdown.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// An outage: every path starting with `prefix` ("/" for the whole site, "/robots.txt",
    /// "/cdn/" for the audio host) answers `status` until [`DemoSite::heal`].
    pub fn fail(&self, prefix: &str, status: u16) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.state.outages.write().unwrap_or_else(|p| p.into_inner()).push((prefix.to_string(), status));
    }

    /// Moves every page to new paths under [`moved::MOVED_PREFIX`], links and canonical URLs
    /// with them; the audio stays, and the old paths answer 404.
    pub fn move_pages(&self) {
        self.state.moved.store(true, Ordering::Relaxed);
    }

    /// Ends every outage.
    pub fn heal(&self) {
        self.state.outages.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Answers `passes` more requests, then holds every later one unanswered (counted in
    /// [`DemoSite::held`]) until [`DemoSite::release`]: a run caught mid-way, for a test to
    /// see it there, kill it there, or start another beside it.
    pub fn hold_after(&self, passes: u64) {
        self.state.door.hold_after(passes);
    }

    /// Holds requests whose path starts with `prefix` until `count` of them are there at once,
    /// then answers them and everything after: requests that surely overlapped, however fast
    /// the machine. (A client that never has `count` in flight waits for its own timeouts.)
    pub fn gather(&self, prefix: &str, count: u32) {
        self.state.door.gather(prefix, count);
    }

    /// Answers the held requests and every later one.
    pub fn release(&self) {
        self.state.door.open();
    }

    /// Requests held now (see [`DemoSite::hold_after`]).
    pub fn held(&self) -> u32 {
        self.state.door.waiting()
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bundled demo recipe, pointed at this site.
    pub fn recipe_text(&self) -> String {
        DEMO_RECIPE.replace(RECIPE_BASE, &self.base_url())
    }

    /// One of the bundled recipes (`DEMO_*_RECIPE`), pointed at this site.
    pub fn recipe_text_of(&self, recipe: &str) -> String {
        recipe.replace(RECIPE_BASE, &self.base_url())
    }

    /// The URL of episode `number`'s page.
    pub fn episode_url(&self, number: u32) -> String {
        format!("{}{}", self.base_url(), self.state.show.episode(number).path())
    }

    /// The newest episode's number (also the number of episodes).
    pub fn latest(&self) -> u32 {
        self.state.latest.load(Ordering::Relaxed)
    }

    /// Publishes new episodes (or takes some down) by changing the newest episode number.
    pub fn set_latest(&self, latest: u32) {
        self.state.latest.store(latest, Ordering::Relaxed);
    }

    /// Changes an episode's title, as a site fixing a typo would.
    pub fn retitle(&self, number: u32, title: &str) {
        self.state.retitled.write().unwrap_or_else(|p| p.into_inner()).insert(number, title.to_string());
        self.state.changed_at.write().unwrap_or_else(|p| p.into_inner()).insert(number, chrono::Utc::now());
    }

    /// Replaces episode `number`'s audio file with one of `bytes` bytes, at the same URL.
    pub fn replace_audio(&self, number: u32, bytes: u64) {
        self.state.replaced_audio.write().unwrap_or_else(|p| p.into_inner()).insert(number, bytes);
    }

    /// The size of episode `number`'s audio file as the CDN serves it now.
    pub fn audio_bytes(&self, number: u32) -> u64 {
        self.state.audio_bytes(&self.state.show.episode(number))
    }

    /// The episodes as the site currently has them, newest first.
    pub fn episodes(&self) -> Vec<ShowEpisode> {
        (1..=self.latest()).rev().filter_map(|n| self.state.episode(n)).collect()
    }

    /// What the site has answered since it started, or since [`DemoSite::reset_stats`].
    pub fn stats(&self) -> SiteStats {
        let c = &self.state.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        SiteStats {
            listing: get(&c.listing),
            episode: get(&c.episode),
            audio_head: get(&c.audio_head),
            audio_range: get(&c.audio_range),
            audio_full: get(&c.audio_full),
            redirects: get(&c.redirects),
            other: get(&c.other),
            disallowed: get(&c.disallowed),
            not_modified: get(&c.not_modified),
            off_scope: get(&c.off_scope),
            outage: get(&c.outage),
            artwork: get(&c.artwork),
            artwork_bytes: get(&c.artwork_bytes),
            hostile: c.hostile.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            shortest_retry_wait_ms: Some(self.state.shortest_retry_wait_ms.load(Ordering::Relaxed))
                .filter(|ms| *ms != u64::MAX),
            max_in_flight: c.in_flight.most(),
            mean_delay: Duration::from_micros(get(&c.delay_us) / get(&c.delayed).max(1)),
        }
    }

    /// Starts every count anew, as for a second run against the same site.
    pub fn reset_stats(&self) {
        let c = &self.state.counters;
        for counter in [
            &c.listing,
            &c.episode,
            &c.audio_head,
            &c.audio_range,
            &c.audio_full,
            &c.redirects,
            &c.other,
            &c.disallowed,
            &c.not_modified,
            &c.off_scope,
            &c.outage,
            &c.artwork,
            &c.artwork_bytes,
            &c.delayed,
            &c.delay_us,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        c.in_flight.reset();
        c.hostile.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}
