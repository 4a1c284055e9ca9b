//! The built-in demo website: a fictional weekly show with a long archive, served on 127.0.0.1
//! only. Real HTTP with latency, redirects, faults and realistic pages; `podfeed demo`, the tests
//! and the benchmarks all run against it.

pub mod art;
pub mod blog;
mod door;
pub mod hostile;
mod latency;
mod markup;
pub mod modern;
pub mod moved;
pub mod pages;
pub mod show;
pub mod wordpress;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use bytes::Bytes;
use tokio::sync::oneshot;

use door::Door;
use latency::Latency;
use show::{Show, ShowEpisode};

/// The annotated example recipe for the demo site; its URLs name port 8080 and are rewritten to
/// wherever the site really runs.
pub const DEMO_RECIPE: &str = include_str!("../../recipes/demo.toml");
/// The recipe for the second archive style (`/list`): `[listing]` items only, no episode page.
pub const DEMO_LISTING_RECIPE: &str = include_str!("../../recipes/demo-listing.toml");
/// The same archive read with `[listing]` items and their episode pages.
pub const DEMO_LISTING_PAGES_RECIPE: &str = include_str!("../../recipes/demo-listing-pages.toml");
const RECIPE_BASE: &str = "http://127.0.0.1:8080";

/// How the demo site behaves.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Episodes in the archive, numbered 1 (oldest) to this (newest).
    pub episodes: u32,
    /// Added before every response, like a real network round trip.
    pub latency: Duration,
    /// Some pages answer 503 or 429 (with Retry-After) on their first request, some are slow,
    /// and the archive links to a page that does not exist.
    pub faults: bool,
    /// Listing page 2 also links pages built to break a feed or stall a run (see `hostile`).
    pub hostile: bool,
    /// The markup the home page, the archive and the episode pages are served in.
    pub theme: Theme,
    /// The loopback address to listen on: 127.0.0.1, or another 127.x.y.z to stand for another
    /// host (podfeed's per-host limits go by host name, not port).
    pub address: IpAddr,
    /// Shared by sites on one address that stand for one host serving many shows: their
    /// requests in flight counted together.
    pub host_in_flight: Option<Arc<InFlight>>,
    /// The WordPress theme's pages write no date, as some sites' do not.
    pub undated: bool,
}

/// Requests in flight, and the most there were at once.
#[derive(Debug, Default)]
pub struct InFlight {
    now: AtomicU32,
    most: AtomicU32,
}

impl InFlight {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }

    /// The most requests there were in flight at once since the last reset.
    pub fn most(&self) -> u32 {
        self.most.load(Ordering::SeqCst)
    }

    pub fn reset(&self) {
        self.most.store(0, Ordering::SeqCst);
    }
}

/// The markups the demo site serves its show in (`--theme`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Theme {
    /// A public-radio site: an archive of linked titles, episode pages with classic markup.
    #[default]
    Classic,
    /// Listing pages that describe each episode completely (`/list`, as NPR's archive).
    Listing,
    /// A modern site: made-up class names; the data only in JSON-LD and OpenGraph.
    Modern,
    /// WordPress with PowerPress: a logo `h1`, `og:title` with the site's name (and a social
    /// plugin's reworded one), dates written out, `?_=1` on the player's file beside a download
    /// link, "« Older Entries", month archives.
    Wordpress,
    /// An older Portuguese blog: titles in a plain `h2`, one `<title>` for every page, no meta
    /// tags, dates in Portuguese, the audio only in a player's script.
    Blog,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            episodes: 1200,
            latency: Duration::from_millis(20),
            faults: false,
            hostile: false,
            theme: Theme::Classic,
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            host_in_flight: None,
            undated: false,
        }
    }
}

/// Requests the site has answered, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteStats {
    pub listing: u64,
    pub episode: u64,
    pub audio_head: u64,
    pub audio_range: u64,
    /// Whole-file audio downloads: podfeed must never make one.
    pub audio_full: u64,
    pub redirects: u64,
    pub other: u64,
    /// Requests for paths robots.txt disallows.
    pub disallowed: u64,
    /// Listing and episode requests answered 304 Not Modified (counted in those kinds too).
    pub not_modified: u64,
    /// Requests that came to this server under another name than 127.0.0.1 (a redirect's
    /// `localhost`): a crawler that keeps to its scope makes none.
    pub off_scope: u64,
    /// Requests for hostile mode's pages (counted in `other` too), by the last part of the path.
    pub hostile: std::collections::BTreeMap<String, u64>,
    /// Requests answered with an outage's status (see [`DemoSite::fail`]), of any kind.
    pub outage: u64,
    /// The shortest wait of a client between a 429 (`Retry-After: 1`) and its retry, if any.
    pub shortest_retry_wait_ms: Option<u64>,
    /// Requests for artwork (`/art/...`), and the bytes of it sent.
    pub artwork: u64,
    pub artwork_bytes: u64,
    /// The most requests that were in flight at once.
    pub max_in_flight: u32,
    /// How long the site really delayed its answers, on average (the configured latency, plus
    /// whatever its timer adds).
    pub mean_delay: Duration,
}

impl SiteStats {
    pub fn total(&self) -> u64 {
        self.listing
            + self.episode
            + self.audio_head
            + self.audio_range
            + self.audio_full
            + self.redirects
            + self.other
            + self.disallowed
            + self.outage
            + self.artwork
    }
}

#[derive(Default)]
struct Counters {
    listing: AtomicU64,
    episode: AtomicU64,
    audio_head: AtomicU64,
    audio_range: AtomicU64,
    audio_full: AtomicU64,
    redirects: AtomicU64,
    other: AtomicU64,
    disallowed: AtomicU64,
    not_modified: AtomicU64,
    off_scope: AtomicU64,
    outage: AtomicU64,
    artwork: AtomicU64,
    artwork_bytes: AtomicU64,
    hostile: Mutex<std::collections::BTreeMap<String, u64>>,
    in_flight: InFlight,
    delayed: AtomicU64,
    delay_us: AtomicU64,
}

struct SiteState {
    config: DemoConfig,
    latency: Latency,
    show: Show,
    latest: AtomicU32,
    retitled: RwLock<HashMap<u32, String>>,
    /// When each retitled episode changed: its sitemap `<lastmod>`.
    changed_at: RwLock<HashMap<u32, chrono::DateTime<chrono::Utc>>>,
    /// Audio files replaced by a file of another size.
    replaced_audio: RwLock<HashMap<u32, u64>>,
    /// Paths that already had their one injected failure.
    failed_once: Mutex<HashSet<String>>,
    /// When each path was answered 429, to see how long its client waited before asking again.
    throttled_at: Mutex<HashMap<String, std::time::Instant>>,
    /// The shortest wait between a 429 and the retry of the same path, in milliseconds.
    shortest_retry_wait_ms: AtomicU64,
    /// Path prefixes answered with a status instead of their page: an outage.
    outages: RwLock<Vec<(String, StatusCode)>>,
    /// The pages are at new paths: see [`moved`].
    moved: AtomicBool,
    /// Holds requests for tests: see [`DemoSite::hold_after`] and [`DemoSite::gather`].
    door: Door,
    counters: Counters,
}

impl SiteState {
    fn episode(&self, number: u32) -> Option<ShowEpisode> {
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
    fn episodes_newest_first(&self) -> Vec<ShowEpisode> {
        (1..=self.latest.load(Ordering::Relaxed)).rev().filter_map(|n| self.episode(n)).collect()
    }

    /// The size of episode `number`'s audio file as the CDN serves it now.
    fn audio_bytes(&self, episode: &ShowEpisode) -> u64 {
        let replaced = self.replaced_audio.read().unwrap_or_else(|p| p.into_inner()).get(&episode.number).copied();
        replaced.unwrap_or_else(|| episode.audio_bytes())
    }
}

/// A running demo site. Dropping it stops the server.
pub struct DemoSite {
    addr: SocketAddr,
    state: Arc<SiteState>,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
}

impl DemoSite {
    /// Starts the site on the configured address (127.0.0.1) and `port` (0 picks a free port).
    pub async fn start(config: DemoConfig, port: u16) -> std::io::Result<DemoSite> {
        let state = Arc::new(SiteState {
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
        });
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

fn router(state: Arc<SiteState>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/archive", get(|s: State<Arc<SiteState>>, h: HeaderMap| listing(s, Path(1), h)))
        .route("/archive/page/{page}", get(listing))
        .route("/oldest", get(|s: State<Arc<SiteState>>, h: HeaderMap| oldest_first(s, Path(1), h)))
        .route("/oldest/page/{page}", get(oldest_first))
        .route("/list", get(|s: State<Arc<SiteState>>, h: HeaderMap| list(s, Path(1), h)))
        .route("/list/page/{page}", get(list))
        .route("/numbered", get(numbered))
        .route("/sitemap.xml", get(sitemap_index))
        .route("/feed.xml", get(own_feed))
        .route("/sitemap-pages.xml", get(sitemap_pages))
        .route("/sitemap-episodes.xml.gz", get(sitemap_episodes))
        .route("/episodes/{number}", get(episode))
        .route("/episodes/{number}/", get(episode))
        .route("/page/{page}/", get(front_page))
        .route("/category/podcast/", get(|s: State<Arc<SiteState>>| category(s, Path(1))))
        .route("/category/podcast/page/{page}/", get(category))
        .route("/{year}/{month}/", get(month))
        .route("/media/{file}", get(media_redirect))
        .route("/cdn/{file}", get(audio))
        .route("/transcripts/{file}", get(transcript))
        .route("/robots.txt", get(robots))
        .route("/bad/loop", get(|| async { Redirect::to("/bad/loop") }))
        .route("/bad/{kind}", get(bad))
        .route("/drafts/{file}", get(draft))
        .route("/chapters/{file}", get(chapters))
        .route("/hostile/{kind}", get(hostile_page))
        .route("/hostile-audio/{name}", get(hostile_audio))
        .route("/art/{name}", get(artwork))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(middleware::from_fn_with_state(state.clone(), network))
        .with_state(state)
}

/// A request counted in flight until it is answered or its client goes away.
struct Flight<'a>([Option<&'a InFlight>; 2]);

impl<'a> Flight<'a> {
    fn enter(counts: [Option<&'a InFlight>; 2]) -> Flight<'a> {
        counts.iter().flatten().for_each(|count| count.enter());
        Flight(counts)
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        self.0.iter().flatten().for_each(|count| count.leave());
    }
}

/// Latency, in-flight accounting, the door and injected faults, for every request.
async fn network(State(state): State<Arc<SiteState>>, request: Request, next: Next) -> Response {
    let counters = &state.counters;
    let flight = Flight::enter([Some(&counters.in_flight), state.config.host_in_flight.as_deref()]);
    state.door.pass(request.uri().path()).await;
    let arrived = std::time::Instant::now();
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    // The Host header's name, without its port: 127.0.0.1 is not 127.0.0.10.
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    if name != state.config.address.to_string() {
        counters.off_scope.fetch_add(1, Ordering::Relaxed);
    }
    state.latency.wait().await;
    counters.delay_us.fetch_add(arrived.elapsed().as_micros() as u64, Ordering::Relaxed);
    counters.delayed.fetch_add(1, Ordering::Relaxed);
    let response = match outage(&state, request.uri().path()).or_else(|| injected_fault(&state, request.uri().path())) {
        Some(fault) => fault,
        None => next.run(request).await,
    };
    drop(flight);
    response
}

/// The status of an outage covering `path`, if one does.
fn outage(state: &SiteState, path: &str) -> Option<Response> {
    let outages = state.outages.read().unwrap_or_else(|p| p.into_inner());
    let (_, status) = outages.iter().find(|(prefix, _)| path.starts_with(prefix.as_str()))?;
    state.counters.outage.fetch_add(1, Ordering::Relaxed);
    Some(status.into_response())
}

/// Fault mode: pages whose number is 1 mod 37 fail once with 503, 2 mod 37 once with 429 and
/// `Retry-After: 1`, and listing page 3 fails once with 503. (Slow pages live in `episode`.)
/// A failed attempt is counted as a request for the page it stands in for.
fn injected_fault(state: &SiteState, path: &str) -> Option<Response> {
    if !state.config.faults {
        return None;
    }
    let number: Option<u32> = path.strip_prefix("/episodes/").and_then(|n| n.parse().ok());
    let first_time = || state.failed_once.lock().unwrap_or_else(|p| p.into_inner()).insert(path.to_string());
    let fault = match number {
        Some(n) if n % 37 == 1 && first_time() => Some(StatusCode::SERVICE_UNAVAILABLE.into_response()),
        Some(n) if n % 37 == 2 && first_time() => {
            state
                .throttled_at
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(path.to_string(), std::time::Instant::now());
            Some((StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")], "slow down").into_response())
        }
        Some(n) if n % 37 == 2 => {
            if let Some(at) = state.throttled_at.lock().unwrap_or_else(|p| p.into_inner()).remove(path) {
                state.shortest_retry_wait_ms.fetch_min(at.elapsed().as_millis() as u64, Ordering::Relaxed);
            }
            None
        }
        None if path == "/archive/page/3" && first_time() => Some(StatusCode::SERVICE_UNAVAILABLE.into_response()),
        _ => None,
    };
    if fault.is_some() {
        let counters = &state.counters;
        let counter = if number.is_some() { &counters.episode } else { &counters.listing };
        counter.fetch_add(1, Ordering::Relaxed);
    }
    fault
}

/// How long fault mode's slow pages take to answer: forty round trips (1.6 s at 40 ms), as a
/// server stuck on a cold cache might. Scaled with the latency so that the fault weighs the same
/// share of a run on a fast network as on a slow one; never under 250 ms, so that tests at zero
/// latency meet slow pages too.
fn slow_page_delay(latency: Duration) -> Duration {
    (latency * 40).max(Duration::from_millis(250))
}

async fn home(State(state): State<Arc<SiteState>>) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    let latest = state.latest.load(Ordering::Relaxed);
    html(match state.config.theme {
        Theme::Classic => pages::home_page(latest, "/archive"),
        Theme::Listing => pages::home_page(latest, "/list"),
        Theme::Modern => modern::home_page(latest),
        Theme::Wordpress | Theme::Blog => return front_page(State(state), Path(1)).await,
    })
}

/// The front page's further pages (`/page/N/`): the blog's posts, or WordPress's category.
async fn front_page(State(state): State<Arc<SiteState>>, Path(page): Path<u32>) -> Response {
    state.counters.listing.fetch_add(1, Ordering::Relaxed);
    let episodes = state.episodes_newest_first();
    let body = match state.config.theme {
        Theme::Blog => blog::front_page(page, &episodes),
        Theme::Wordpress => wordpress::front_page(page, &episodes, &wordpress::months_of(&episodes)),
        _ => None,
    };
    body.map(html).unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

/// The WordPress theme's category of episodes, page by page.
async fn category(State(state): State<Arc<SiteState>>, Path(page): Path<u32>) -> Response {
    state.counters.listing.fetch_add(1, Ordering::Relaxed);
    let episodes = state.episodes_newest_first();
    let body = match state.config.theme {
        Theme::Wordpress => wordpress::category_page(page, &episodes, &wordpress::months_of(&episodes)),
        _ => None,
    };
    body.map(html).unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

/// The WordPress theme's archive of one month (`/2025/12/`).
async fn month(State(state): State<Arc<SiteState>>, Path((year, month)): Path<(i32, u32)>) -> Response {
    state.counters.listing.fetch_add(1, Ordering::Relaxed);
    let episodes = state.episodes_newest_first();
    let body = match state.config.theme {
        Theme::Wordpress => wordpress::month_page(year, month, &episodes, &wordpress::months_of(&episodes)),
        _ => None,
    };
    body.map(html).unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

async fn listing(State(state): State<Arc<SiteState>>, Path(page): Path<u32>, headers: HeaderMap) -> Response {
    state.counters.listing.fetch_add(1, Ordering::Relaxed);
    let latest = state.latest.load(Ordering::Relaxed);
    if page == 0 || page > latest.div_ceil(show::PAGE_SIZE).max(1) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let body = match state.config.theme {
        Theme::Modern => modern::listing_page(page, latest, show::title),
        _ => pages::listing_page(page, latest, state.config.faults, state.config.hostile),
    };
    with_etag(&state.counters, &headers, "text/html; charset=utf-8", Bytes::from(body))
}

/// Archive page `page` read oldest first (1 = the oldest episodes).
async fn oldest_first(State(state): State<Arc<SiteState>>, Path(page): Path<u32>, headers: HeaderMap) -> Response {
    state.counters.listing.fetch_add(1, Ordering::Relaxed);
    let latest = state.latest.load(Ordering::Relaxed);
    if page == 0 || page > latest.div_ceil(show::PAGE_SIZE).max(1) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let body = pages::oldest_first_page(page, latest);
    with_etag(&state.counters, &headers, "text/html; charset=utf-8", Bytes::from(body))
}

/// The show's own feed: its newest episodes only, as many shows' feeds are.
async fn own_feed(State(state): State<Arc<SiteState>>) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    let latest = state.latest.load(Ordering::Relaxed);
    let newest: Vec<ShowEpisode> = (1..=latest)
        .rev()
        .filter_map(|n| state.episode(n))
        .filter(ShowEpisode::has_audio)
        .take(OWN_FEED_ITEMS)
        .collect();
    ([(header::CONTENT_TYPE, "application/rss+xml")], pages::own_feed(&newest)).into_response()
}

/// Episodes in the show's own feed.
pub const OWN_FEED_ITEMS: usize = 10;

/// The sitemap index: the site's other pages, and its episodes in a gzipped sitemap.
async fn sitemap_index(State(state): State<Arc<SiteState>>, headers: HeaderMap) -> Response {
    state.counters.listing.fetch_add(1, Ordering::Relaxed);
    let base = format!("http://{}", headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1"));
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{base}/sitemap-pages.xml</loc></sitemap>
<sitemap><loc>{base}/sitemap-episodes.xml.gz</loc></sitemap>
</sitemapindex>"#
    );
    ([(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

async fn sitemap_pages(State(state): State<Arc<SiteState>>, headers: HeaderMap) -> Response {
    state.counters.listing.fetch_add(1, Ordering::Relaxed);
    let base = format!("http://{}", headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1"));
    let urls: String =
        ["/", "/archive", "/list"].iter().map(|p| format!("<url><loc>{base}{p}</loc></url>\n")).collect();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n{urls}</urlset>"
    );
    ([(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// Every episode page, with `<lastmod>`: its date, or when it was last changed (retitled).
async fn sitemap_episodes(State(state): State<Arc<SiteState>>, headers: HeaderMap) -> Response {
    state.counters.listing.fetch_add(1, Ordering::Relaxed);
    let base = format!("http://{}", headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1"));
    let changed = state.changed_at.read().unwrap_or_else(|p| p.into_inner()).clone();
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for n in (1..=state.latest.load(Ordering::Relaxed)).rev() {
        let Some(episode) = state.episode(n) else { continue };
        let lastmod = changed.get(&n).copied().unwrap_or(episode.published);
        xml.push_str(&format!(
            "<url><loc>{base}{}</loc><lastmod>{}</lastmod></url>\n",
            episode.path(),
            lastmod.to_rfc3339()
        ));
    }
    xml.push_str("</urlset>");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = std::io::Write::write_all(&mut gz, xml.as_bytes());
    let body = gz.finish().unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/gzip")], body).into_response()
}

/// The second archive style: listing pages that describe their episodes (see `pages::list_page`).
async fn list(State(state): State<Arc<SiteState>>, Path(page): Path<u32>, headers: HeaderMap) -> Response {
    list_response(&state, page, &headers, true).unwrap_or_else(|| {
        state.counters.listing.fetch_add(1, Ordering::Relaxed);
        StatusCode::NOT_FOUND.into_response()
    })
}

/// The same pages by number, `?page=N`, with no link between them; past the end, an empty list.
async fn numbered(
    State(state): State<Arc<SiteState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let page = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    list_response(&state, page, &headers, false).unwrap_or_else(|| {
        state.counters.listing.fetch_add(1, Ordering::Relaxed);
        html(pages::list_page(page, &[], 0, false))
    })
}

fn list_response(state: &SiteState, page: u32, headers: &HeaderMap, with_links: bool) -> Option<Response> {
    let latest = state.latest.load(Ordering::Relaxed);
    let pages = latest.div_ceil(show::PAGE_SIZE).max(1);
    if page == 0 || page > pages {
        return None;
    }
    state.counters.listing.fetch_add(1, Ordering::Relaxed);
    let newest = latest.saturating_sub((page - 1) * show::PAGE_SIZE);
    let oldest = newest.saturating_sub(show::PAGE_SIZE) + 1;
    let episodes: Vec<ShowEpisode> = (oldest..=newest).rev().filter_map(|n| state.episode(n)).collect();
    let body = pages::list_page(page, &episodes, pages, with_links);
    Some(with_etag(&state.counters, headers, "text/html; charset=utf-8", Bytes::from(body)))
}

/// Answers with an ETag, or 304 when the client already has this body.
fn with_etag(counters: &Counters, request: &HeaderMap, content_type: &'static str, body: Bytes) -> Response {
    let etag = format!("\"{:016x}\"", fingerprint(&body));
    if request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        counters.not_modified.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    ([(header::CONTENT_TYPE, content_type.to_string()), (header::ETAG, etag)], body).into_response()
}

async fn episode(State(state): State<Arc<SiteState>>, Path(number): Path<String>, headers: HeaderMap) -> Response {
    state.counters.episode.fetch_add(1, Ordering::Relaxed);
    let Some(episode) = number.parse().ok().and_then(|n| state.episode(n)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if state.config.faults && episode.number % 53 == 3 {
        tokio::time::sleep(slow_page_delay(state.config.latency)).await;
    }
    let page = match state.config.theme {
        Theme::Modern => modern::episode_page(&episode),
        Theme::Wordpress => {
            let months = wordpress::months_of(&state.episodes_newest_first());
            wordpress::episode_page(&episode, &months, !state.config.undated)
        }
        Theme::Blog => blog::episode_page(&episode),
        _ => pages::episode_page(&episode, state.latest.load(Ordering::Relaxed)),
    };
    if episode.latin1 {
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&page);
        with_etag(&state.counters, &headers, "text/html; charset=ISO-8859-1", Bytes::from(bytes.into_owned()))
    } else {
        with_etag(&state.counters, &headers, "text/html; charset=utf-8", Bytes::from(page))
    }
}

/// `/media/N.mp3` redirects to the CDN, as podcast hosts' tracking prefixes do.
async fn media_redirect(State(state): State<Arc<SiteState>>, Path(file): Path<String>) -> Response {
    state.counters.redirects.fetch_add(1, Ordering::Relaxed);
    Redirect::to(&format!("/cdn/{file}")).into_response()
}

/// The CDN answers HEAD with the size, except for episodes 7 mod 10, whose host refuses HEAD
/// and must be asked with a one-byte range.
async fn audio(
    State(state): State<Arc<SiteState>>,
    Path(file): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let counters = &state.counters;
    let number: Option<u32> = file.strip_suffix(".mp3").and_then(|n| n.parse().ok());
    let Some(episode) = number.and_then(|n| state.episode(n)).filter(|e| e.has_audio()) else {
        counters.other.fetch_add(1, Ordering::Relaxed);
        return StatusCode::NOT_FOUND.into_response();
    };
    let size = state.audio_bytes(&episode);
    let audio_headers =
        [(header::CONTENT_TYPE, "audio/mpeg".to_string()), (header::ACCEPT_RANGES, "bytes".to_string())];
    if method == Method::HEAD {
        counters.audio_head.fetch_add(1, Ordering::Relaxed);
        if episode.number % 10 == 7 {
            return StatusCode::METHOD_NOT_ALLOWED.into_response();
        }
        return (audio_headers, [(header::CONTENT_LENGTH, size.to_string())]).into_response();
    }
    if headers.get(header::RANGE).and_then(|v| v.to_str().ok()) == Some("bytes=0-0") {
        counters.audio_range.fetch_add(1, Ordering::Relaxed);
        let range = [(header::CONTENT_RANGE, format!("bytes 0-0/{size}"))];
        return (StatusCode::PARTIAL_CONTENT, audio_headers, range, Bytes::from_static(b"\xff")).into_response();
    }
    counters.audio_full.fetch_add(1, Ordering::Relaxed);
    let chunk = Bytes::from(vec![0u8; 64 * 1024]);
    let chunks = size.div_ceil(chunk.len() as u64);
    let last = (size - (chunks - 1) * chunk.len() as u64) as usize;
    let body = futures::stream::iter((0..chunks).map(move |i| {
        Ok::<_, std::convert::Infallible>(if i + 1 == chunks { chunk.slice(..last) } else { chunk.clone() })
    }));
    (audio_headers, [(header::CONTENT_LENGTH, size.to_string())], Body::from_stream(body)).into_response()
}

/// Show artwork a recipe may point at: the demo's cover (`/art/cover.png`), and images of any
/// dimensions (`/art/2000x1000.png`, `/art/600x600.jpg`) whose header is followed by 8 MB, as a
/// big file's would be; `-norange` in the name ignores range requests and sends it all;
/// `/art/cover.gif` is neither JPEG nor PNG. Bytes sent are counted in `artwork_bytes`.
async fn artwork(State(state): State<Arc<SiteState>>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    let counters = &state.counters;
    counters.artwork.fetch_add(1, Ordering::Relaxed);
    let (stem, kind) = name.rsplit_once('.').unwrap_or((&name, ""));
    let (dimensions, honours_range) = match stem.strip_suffix("-norange") {
        Some(dimensions) => (dimensions, false),
        None => (stem, true),
    };
    let size = dimensions.split_once('x').and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)));
    let mut file = match (stem, kind, size) {
        ("cover", "png", _) => cover_png(),
        ("cover", "gif", _) => b"GIF89a\x78\x05\x78\x05\x80\x00\x00".to_vec(),
        (_, "png", Some((width, height))) => art::png_header(width, height),
        (_, "jpg", Some((width, height))) => art::jpeg_header(width, height),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    if stem != "cover" {
        file.resize(8 * 1024 * 1024, 0);
    }
    let range_end = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok()?.strip_prefix("bytes=0-")?.parse::<usize>().ok())
        .filter(|end| honours_range && *end < file.len().saturating_sub(1));
    let content_range = range_end.map(|end| format!("bytes 0-{end}/{}", file.len()));
    file.truncate(range_end.map_or(file.len(), |end| end + 1));
    counters.artwork_bytes.fetch_add(file.len() as u64, Ordering::Relaxed);
    let content_type = if kind == "jpg" { "image/jpeg" } else { "image/png" };
    let mut response = ([(header::CONTENT_TYPE, content_type)], file).into_response();
    if let Some(content_range) = content_range.and_then(|r| HeaderValue::from_str(&r).ok()) {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        response.headers_mut().insert(header::CONTENT_RANGE, content_range);
    }
    response
}

async fn transcript(State(state): State<Arc<SiteState>>, Path(file): Path<String>) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    let number = file.strip_suffix(".vtt").and_then(|n| n.parse().ok());
    match number.and_then(|n| state.episode(n)).filter(|e| e.has_transcript) {
        Some(episode) => ([(header::CONTENT_TYPE, "text/vtt")], pages::transcript_file(&episode)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn chapters(State(state): State<Arc<SiteState>>, Path(file): Path<String>) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    let number = file.strip_suffix(".json").and_then(|n| n.parse().ok());
    match number.and_then(|n| state.episode(n)).filter(|e| e.has_chapters) {
        Some(episode) => {
            ([(header::CONTENT_TYPE, "application/json+chapters")], pages::chapters_file(&episode)).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn robots(State(state): State<Arc<SiteState>>) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    ([(header::CONTENT_TYPE, "text/plain")], "User-agent: *\nDisallow: /drafts/\n").into_response()
}

async fn bad(State(state): State<Arc<SiteState>>, Path(kind): Path<String>) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    match pages::bad_page(&kind) {
        Some((content_type, body)) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn hostile_page(State(state): State<Arc<SiteState>>, Path(kind): Path<String>, headers: HeaderMap) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    if !state.config.hostile {
        return StatusCode::NOT_FOUND.into_response();
    }
    *state.counters.hostile.lock().unwrap_or_else(|p| p.into_inner()).entry(kind.clone()).or_default() += 1;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    hostile::page(&kind, host).await
}

async fn hostile_audio(
    State(state): State<Arc<SiteState>>,
    Path(name): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    hostile::audio(&name, &method, &headers)
}

/// Pages robots.txt disallows: a polite crawler never asks for them.
async fn draft(State(state): State<Arc<SiteState>>) -> Response {
    state.counters.disallowed.fetch_add(1, Ordering::Relaxed);
    html("<h1 class=\"episode-title\">Draft</h1>".to_string())
}

/// The show's cover art: a 1,400 px square PNG (the smallest size Apple Podcasts takes).
pub fn cover_png() -> Vec<u8> {
    const SIZE: u32 = 1400;
    let mut pixels = Vec::with_capacity((SIZE * SIZE * 3) as usize);
    for y in 0..SIZE {
        for x in 0..SIZE {
            let ring = ((x as i32 - 700).pow(2) + (y as i32 - 700).pow(2)) as u32 / 9000 % 2;
            pixels.extend_from_slice(&[(20 + y / 10) as u8, (40 + ring * 120) as u8, (90 + x / 12) as u8]);
        }
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, SIZE, SIZE);
    encoder.set_color(png::ColorType::Rgb);
    let mut writer = encoder.write_header().expect("writing a PNG to a Vec cannot fail");
    writer.write_image_data(&pixels).expect("writing a PNG to a Vec cannot fail");
    drop(writer);
    png
}

fn html(page: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

fn fingerprint(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}
