//! The small helpers the handlers answer with.

use std::sync::atomic::Ordering;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::stats::Counters;

/// Answers with an ETag, or 304 when the client already has this body.
pub(crate) fn with_etag(counters: &Counters, request: &HeaderMap, content_type: &'static str, body: Bytes) -> Response {
    let etag = format!("\"{:016x}\"", fingerprint(&body));
    if request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        counters.not_modified.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    ([(header::CONTENT_TYPE, content_type.to_string()), (header::ETAG, etag)], body).into_response()
}

pub(crate) fn html(page: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

fn fingerprint(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}
