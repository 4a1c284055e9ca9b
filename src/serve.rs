//! `podfeed serve`: the output folder over HTTP, as a static web server would serve it, to
//! preview a feed and its page locally. Feeds as `application/rss+xml`, ETag and Last-Modified
//! with 304 answers, gzip (a precompressed `feed.xml.gz` when there is one), HEAD and Range,
//! `/` as `index.html`, nothing outside the folder.

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::path::Path;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

/// The service for `dir`.
pub fn router(dir: &Path) -> Router {
    let files = ServeDir::new(dir).precompressed_gzip().append_index_html_on_directories(true);
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(etags))
        .layer(middleware::from_fn(feed_type))
        .layer(CompressionLayer::new().gzip(true))
}

/// Serves `dir` on `addr` until the process ends.
pub async fn serve(dir: &Path, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?.tap_io(|tcp| {
        // Small responses (304s, HEADs) must not wait for the client's delayed ACK.
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router(dir)).await
}

/// Feeds are `.xml` files here; podcast apps and browsers expect them as RSS.
async fn feed_type(request: Request, next: Next) -> Response {
    let is_feed = request.uri().path().ends_with(".xml");
    let mut response = next.run(request).await;
    if is_feed && response.status().is_success() {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/rss+xml; charset=utf-8"));
    }
    response
}

/// An ETag from the file's size and modification time, and 304 for a client
/// that already has it. (ServeDir answers If-Modified-Since itself.)
async fn etags(request: Request, next: Next) -> Response {
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
    let mut response = next.run(request).await;
    if !is_read || response.status() != StatusCode::OK {
        return response;
    }
    let Some(etag) = etag_of(response.headers()) else { return response };
    if if_none_match
        .is_some_and(|tags| tags.to_str().is_ok_and(|t| t.split(',').any(|t| t.trim() == etag || t.trim() == "*")))
    {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        for name in [header::LAST_MODIFIED, header::CONTENT_TYPE] {
            if let Some(value) = response.headers().get(&name) {
                not_modified.headers_mut().insert(name, value.clone());
            }
        }
        not_modified.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex is a valid header"));
        *not_modified.body_mut() = Body::empty();
        return not_modified;
    }
    response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex is a valid header"));
    response
}

fn etag_of(headers: &HeaderMap) -> Option<String> {
    let modified = headers.get(header::LAST_MODIFIED)?.as_bytes();
    let length = headers.get(header::CONTENT_LENGTH)?.as_bytes();
    let encoding = headers.get(header::CONTENT_ENCODING).map(|v| v.as_bytes()).unwrap_or_default();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (modified, length, encoding).hash(&mut hasher);
    // Weak: the compression layer outside may still gzip the same file on the fly.
    Some(format!("W/\"{:016x}\"", hasher.finish()))
}
