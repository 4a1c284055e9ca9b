//! `podfeed serve`: the output folder over HTTP, as a static web server would serve it, to
//! preview a feed and its page locally. Feeds as `application/rss+xml`, ETag and Last-Modified
//! with 304 answers, gzip (a precompressed `feed.xml.gz` when there is one), HEAD and Range,
//! `/` as `index.html`, nothing outside the folder: no dotfile (podfeed's own `.podfeed-*`
//! temporary files among them) and nothing a symlink takes out of it.

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
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
        .layer(middleware::from_fn_with_state(Arc::new(dir.to_path_buf()), inside_only))
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

/// 404 for a path with a segment that starts with a dot (`.podfeed-*` files while a run writes,
/// `.git`, `..`), and for one that a symlink takes out of the folder: the file itself, its
/// precompressed `.gz` or a folder's `index.html`, whichever exists, must lie inside it.
async fn inside_only(State(root): State<Arc<PathBuf>>, request: Request, next: Next) -> Response {
    let Some(path) = percent_decoded(request.uri().path()) else { return StatusCode::NOT_FOUND.into_response() };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|segment| segment.starts_with('.') || segment.contains('\\')) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let root = root.clone();
    let relative: PathBuf = segments.iter().collect();
    let inside = tokio::task::spawn_blocking(move || stays_inside(&root, &relative)).await.unwrap_or(false);
    if !inside {
        return StatusCode::NOT_FOUND.into_response();
    }
    next.run(request).await
}

/// Whether every file the server could answer `relative` with resolves to a place in `root`.
fn stays_inside(root: &Path, relative: &Path) -> bool {
    let Ok(root) = std::fs::canonicalize(root) else { return false };
    let target = root.join(relative);
    let mut candidates = vec![target.clone(), gz(&target)];
    if target.is_dir() {
        candidates.extend([target.join("index.html"), target.join("index.html.gz")]);
    }
    candidates.iter().all(|candidate| match std::fs::canonicalize(candidate) {
        Ok(real) => real.starts_with(&root),
        // Absent (or a dangling link): nothing to serve from there.
        Err(_) => std::fs::symlink_metadata(candidate).is_err(),
    })
}

fn gz(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".gz");
    PathBuf::from(name)
}

/// The path with its `%XX` escapes decoded, as the file server reads it; `None` when the
/// escapes are broken or decode to something that is not UTF-8.
fn percent_decoded(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
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
