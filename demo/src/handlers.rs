//! The handlers of the HTML pages: home, archives and listings in each theme, episode pages,
//! and the broken, hostile and disallowed pages.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::respond::{html, with_etag};
use crate::show::{self, ShowEpisode};
use crate::state::SiteState;
use crate::{blog, hostile, modern, pages, radio, wordpress, Theme};

pub(crate) async fn home(State(state): State<Arc<SiteState>>) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    let latest = state.latest.load(Ordering::Relaxed);
    html(match state.config.theme {
        Theme::Classic | Theme::Radio => pages::home_page(latest, "/archive"),
        Theme::Listing => pages::home_page(latest, "/list"),
        Theme::Modern => modern::home_page(latest),
        Theme::Wordpress | Theme::Blog => return front_page(State(state), Path(1)).await,
    })
}

/// The front page's further pages (`/page/N/`): the blog's posts, or WordPress's category.
pub(crate) async fn front_page(State(state): State<Arc<SiteState>>, Path(page): Path<u32>) -> Response {
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
pub(crate) async fn category(State(state): State<Arc<SiteState>>, Path(page): Path<u32>) -> Response {
    state.counters.listing.fetch_add(1, Ordering::Relaxed);
    let episodes = state.episodes_newest_first();
    let body = match state.config.theme {
        Theme::Wordpress => wordpress::category_page(page, &episodes, &wordpress::months_of(&episodes)),
        _ => None,
    };
    body.map(html).unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

/// The WordPress theme's archive of one month (`/2025/12/`).
pub(crate) async fn month(State(state): State<Arc<SiteState>>, Path((year, month)): Path<(i32, u32)>) -> Response {
    state.counters.listing.fetch_add(1, Ordering::Relaxed);
    let episodes = state.episodes_newest_first();
    let body = match state.config.theme {
        Theme::Wordpress => wordpress::month_page(year, month, &episodes, &wordpress::months_of(&episodes)),
        _ => None,
    };
    body.map(html).unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

pub(crate) async fn listing(
    State(state): State<Arc<SiteState>>,
    Path(page): Path<u32>,
    headers: HeaderMap,
) -> Response {
    archive_page(&state, page, &headers, |latest| match state.config.theme {
        Theme::Modern => modern::listing_page(page, latest, show::title),
        _ => pages::listing_page(page, latest, state.config.faults, state.config.hostile),
    })
}

/// Archive page `page` read oldest first (1 = the oldest episodes).
pub(crate) async fn oldest_first(
    State(state): State<Arc<SiteState>>,
    Path(page): Path<u32>,
    headers: HeaderMap,
) -> Response {
    archive_page(&state, page, &headers, |latest| pages::oldest_first_page(page, latest))
}

/// A numbered archive page as `render` writes it for the newest episode's number; 404 past the
/// last page.
fn archive_page(state: &SiteState, page: u32, headers: &HeaderMap, render: impl FnOnce(u32) -> String) -> Response {
    state.counters.listing.fetch_add(1, Ordering::Relaxed);
    let latest = state.latest.load(Ordering::Relaxed);
    if page == 0 || page > latest.div_ceil(show::PAGE_SIZE).max(1) {
        return StatusCode::NOT_FOUND.into_response();
    }
    with_etag(&state.counters, headers, "text/html; charset=utf-8", Bytes::from(render(latest)))
}

/// The second archive style: listing pages that describe their episodes (see `pages::list_page`).
pub(crate) async fn list(State(state): State<Arc<SiteState>>, Path(page): Path<u32>, headers: HeaderMap) -> Response {
    list_response(&state, page, &headers, true).unwrap_or_else(|| {
        state.counters.listing.fetch_add(1, Ordering::Relaxed);
        StatusCode::NOT_FOUND.into_response()
    })
}

/// The same pages by number, `?page=N`, with no link between them; past the end, an empty list.
pub(crate) async fn numbered(
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

pub(crate) async fn episode(
    State(state): State<Arc<SiteState>>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Response {
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
        Theme::Radio => radio::episode_page(&episode, state.latest.load(Ordering::Relaxed)),
        _ => pages::episode_page(&episode, state.latest.load(Ordering::Relaxed)),
    };
    if episode.latin1 {
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&page);
        with_etag(&state.counters, &headers, "text/html; charset=ISO-8859-1", Bytes::from(bytes.into_owned()))
    } else {
        with_etag(&state.counters, &headers, "text/html; charset=utf-8", Bytes::from(page))
    }
}

pub(crate) async fn bad(State(state): State<Arc<SiteState>>, Path(kind): Path<String>) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    match pages::bad_page(&kind) {
        Some((content_type, body)) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub(crate) async fn hostile_page(
    State(state): State<Arc<SiteState>>,
    Path(kind): Path<String>,
    headers: HeaderMap,
) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    if !state.config.hostile {
        return StatusCode::NOT_FOUND.into_response();
    }
    *state.counters.hostile.lock().unwrap_or_else(|p| p.into_inner()).entry(kind.clone()).or_default() += 1;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    hostile::page(&kind, host).await
}

pub(crate) async fn hostile_audio(
    State(state): State<Arc<SiteState>>,
    Path(name): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    hostile::audio(&name, &method, &headers)
}

/// Pages robots.txt disallows: a polite crawler never asks for them.
pub(crate) async fn draft(State(state): State<Arc<SiteState>>) -> Response {
    state.counters.disallowed.fetch_add(1, Ordering::Relaxed);
    html("<h1 class=\"episode-title\">Draft</h1>".to_string())
}

/// How long fault mode's slow pages take to answer: forty round trips (1.6 s at 40 ms), as a
/// server stuck on a cold cache might. Scaled with the latency so that the fault weighs the same
/// share of a run on a fast network as on a slow one; never under 250 ms, so that tests at zero
/// latency meet slow pages too.
fn slow_page_delay(latency: Duration) -> Duration {
    (latency * 40).max(Duration::from_millis(250))
}
