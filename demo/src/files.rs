//! The handlers of everything else the site serves: its own feed, sitemaps, audio (behind a
//! tracking redirect), artwork, transcripts, chapters and robots.txt.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;

use crate::art::{self, cover_png};
use crate::pages;
use crate::show::ShowEpisode;
use crate::state::SiteState;

/// The show's own feed: its newest episodes only, as many shows' feeds are.
pub(crate) async fn own_feed(State(state): State<Arc<SiteState>>) -> Response {
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
pub(crate) async fn sitemap_index(State(state): State<Arc<SiteState>>, headers: HeaderMap) -> Response {
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

pub(crate) async fn sitemap_pages(State(state): State<Arc<SiteState>>, headers: HeaderMap) -> Response {
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
pub(crate) async fn sitemap_episodes(State(state): State<Arc<SiteState>>, headers: HeaderMap) -> Response {
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

/// `/media/N.mp3` redirects to the CDN, as podcast hosts' tracking prefixes do.
pub(crate) async fn media_redirect(State(state): State<Arc<SiteState>>, Path(file): Path<String>) -> Response {
    state.counters.redirects.fetch_add(1, Ordering::Relaxed);
    Redirect::to(&format!("/cdn/{file}")).into_response()
}

/// The CDN answers HEAD with the size, except for episodes 7 mod 10, whose host refuses HEAD
/// and must be asked with a one-byte range.
pub(crate) async fn audio(
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
pub(crate) async fn artwork(
    State(state): State<Arc<SiteState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
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

pub(crate) async fn transcript(State(state): State<Arc<SiteState>>, Path(file): Path<String>) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    let number = file.strip_suffix(".vtt").and_then(|n| n.parse().ok());
    match number.and_then(|n| state.episode(n)).filter(|e| e.has_transcript) {
        Some(episode) => ([(header::CONTENT_TYPE, "text/vtt")], pages::transcript_file(&episode)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub(crate) async fn chapters(State(state): State<Arc<SiteState>>, Path(file): Path<String>) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    let number = file.strip_suffix(".json").and_then(|n| n.parse().ok());
    match number.and_then(|n| state.episode(n)).filter(|e| e.has_chapters) {
        Some(episode) => {
            ([(header::CONTENT_TYPE, "application/json+chapters")], pages::chapters_file(&episode)).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub(crate) async fn robots(State(state): State<Arc<SiteState>>) -> Response {
    state.counters.other.fetch_add(1, Ordering::Relaxed);
    ([(header::CONTENT_TYPE, "text/plain")], "User-agent: *\nDisallow: /drafts/\n").into_response()
}
