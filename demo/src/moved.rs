//! The site moves (an admin switch, [`super::DemoSite::move_pages`]): every page goes to new
//! paths under [`MOVED_PREFIX`], with its links and canonical URL; the audio stays where it was,
//! and the old paths answer 404. What a show's site does when it is rebuilt.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::SiteState;

/// Where the pages are once the site has moved.
pub const MOVED_PREFIX: &str = "/v2";

/// The paths that move: pages. (Audio, transcripts, robots.txt and sitemaps stay.)
const PAGE_PATHS: [&str; 4] = ["/episodes/", "/archive", "/list", "/numbered"];

/// Once the site has moved: a page's new path is routed as its old one, and its links move
/// too; a page's old path answers 404.
pub(super) async fn relocate(State(state): State<Arc<SiteState>>, mut request: Request, next: Next) -> Response {
    if !state.moved.load(Ordering::Relaxed) {
        return next.run(request).await;
    }
    let path = request.uri().path();
    if is_page(path) {
        state.counters.other.fetch_add(1, Ordering::Relaxed);
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(old) = path.strip_prefix(MOVED_PREFIX).filter(|old| is_page(old)) else {
        return next.run(request).await;
    };
    let old = match request.uri().query() {
        Some(query) => format!("{old}?{query}"),
        None => old.to_string(),
    };
    match old.parse::<Uri>() {
        Ok(uri) => *request.uri_mut() = uri,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    }
    with_moved_links(next.run(request).await).await
}

fn is_page(path: &str) -> bool {
    PAGE_PATHS.iter().any(|page| path.starts_with(page))
}

/// The page with its links to pages moved too.
async fn with_moved_links(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let html = parts.headers.get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if !html {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // Bytes, not text: some pages are ISO-8859-1.
    let mut moved = bytes.to_vec();
    for page in PAGE_PATHS {
        moved = replace(&moved, format!("\"{page}").as_bytes(), format!("\"{MOVED_PREFIX}{page}").as_bytes());
    }
    // Relative links to the audio, one level deeper now, still reach the same files.
    moved = replace(&moved, b"\"../media/", b"\"../../media/");
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(moved))
}

fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len() + haystack.len() / 16);
    let mut rest = haystack;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}
