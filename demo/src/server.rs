//! The router, and what every request goes through before its handler: latency, in-flight
//! accounting, the door, outages and fault mode's injected failures.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::state::SiteState;
use crate::stats::Flight;
use crate::{files, handlers};

/// Every path the site answers, each to its handler, behind [`network`].
pub(crate) fn router(state: Arc<SiteState>) -> Router {
    Router::new()
        .route("/", get(handlers::home))
        .route("/archive", get(|s: State<Arc<SiteState>>, h: HeaderMap| handlers::listing(s, Path(1), h)))
        .route("/archive/page/{page}", get(handlers::listing))
        .route("/oldest", get(|s: State<Arc<SiteState>>, h: HeaderMap| handlers::oldest_first(s, Path(1), h)))
        .route("/oldest/page/{page}", get(handlers::oldest_first))
        .route("/list", get(|s: State<Arc<SiteState>>, h: HeaderMap| handlers::list(s, Path(1), h)))
        .route("/list/page/{page}", get(handlers::list))
        .route("/numbered", get(handlers::numbered))
        .route("/sitemap.xml", get(files::sitemap_index))
        .route("/feed.xml", get(files::own_feed))
        .route("/sitemap-pages.xml", get(files::sitemap_pages))
        .route("/sitemap-episodes.xml.gz", get(files::sitemap_episodes))
        .route("/episodes/{number}", get(handlers::episode))
        .route("/episodes/{number}/", get(handlers::episode))
        .route("/page/{page}/", get(handlers::front_page))
        .route("/category/podcast/", get(|s: State<Arc<SiteState>>| handlers::category(s, Path(1))))
        .route("/category/podcast/page/{page}/", get(handlers::category))
        .route("/{year}/{month}/", get(handlers::month))
        .route("/media/{file}", get(files::media_redirect))
        .route("/cdn/{file}", get(files::audio))
        .route("/transcripts/{file}", get(files::transcript))
        .route("/robots.txt", get(files::robots))
        .route("/bad/loop", get(|| async { Redirect::to("/bad/loop") }))
        .route("/bad/{kind}", get(handlers::bad))
        .route("/drafts/{file}", get(handlers::draft))
        .route("/chapters/{file}", get(files::chapters))
        .route("/hostile/{kind}", get(handlers::hostile_page))
        .route("/hostile-audio/{name}", get(handlers::hostile_audio))
        .route("/art/{name}", get(files::artwork))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(middleware::from_fn_with_state(state.clone(), network))
        .with_state(state)
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
