//! A page cannot point podfeed at the user's own network: enclosures, redirects and robots.txt
//! that lead to another loopback port, to the cloud's metadata address or to a name resolving
//! to a private address are refused; the user's own origins and `allow_private` are not.

mod common;

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use common::{parse_feed, podfeed_async, stderr};

/// A server on a loopback port of its own, standing for a machine on the user's network (a
/// router, a database, a metadata service): it counts every request that reaches it.
struct Internal {
    port: u16,
    requests: Arc<AtomicUsize>,
}

async fn internal() -> Internal {
    let requests = Arc::new(AtomicUsize::new(0));
    let app = Router::new().fallback(|State(requests): State<Arc<AtomicUsize>>| async move {
        requests.fetch_add(1, Ordering::SeqCst);
        ([(header::CONTENT_TYPE, "audio/mpeg"), (header::CONTENT_LENGTH, "4242")], "")
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(axum::serve(listener, app.with_state(requests.clone())).into_future());
    Internal { port, requests }
}

/// The site the recipe names: an archive of five episodes whose audio is, in turn, on the
/// internal server, on 169.254.169.254, on a name the recipe resolves to 127.0.0.1, behind a
/// redirect to the internal server, and on the site itself. Its robots.txt redirects to the
/// internal server too, and its home page links a feed there.
/// Without `metadata`, episode 2's audio is on the site: a test reaches only 127.0.0.1.
async fn site(internal_port: u16, metadata: bool) -> u16 {
    let two = if metadata { "http://169.254.169.254/latest/meta-data/two.mp3" } else { "/media/two.mp3" };
    let audio = [
        format!("http://127.0.0.1:{internal_port}/one.mp3"),
        two.to_string(),
        format!("http://router.test:{internal_port}/three.mp3"),
        "/go/four.mp3".to_string(),
        "/media/five.mp3".to_string(),
    ];
    let app = Router::new()
        .route("/", get(move || async move { home(internal_port) }))
        .route(
            "/robots.txt",
            get(move || async move { Redirect::to(&format!("http://127.0.0.1:{internal_port}/robots.txt")) }),
        )
        .route("/episodes/{n}", get(move |Path(n): Path<usize>| async move { episode(n, audio.get(n - 1).cloned()) }))
        .route(
            "/go/{file}",
            get(move |Path(file): Path<String>| async move {
                Redirect::to(&format!("http://127.0.0.1:{internal_port}/{file}"))
            }),
        )
        .route(
            "/media/{file}",
            get(|| async { ([(header::CONTENT_TYPE, "audio/mpeg"), (header::CONTENT_LENGTH, "777")], "") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(axum::serve(listener, app).into_future());
    port
}

fn home(internal_port: u16) -> Response {
    let links: String =
        (1..=5).map(|n| format!(r#"<li><a class="ep" href="/episodes/{n}">Episode {n}</a></li>"#)).collect();
    let html = format!(
        r#"<!DOCTYPE html><html><head><title>Show</title>
<link rel="alternate" type="application/rss+xml" href="http://127.0.0.1:{internal_port}/feed.xml"></head>
<body><h1>Show</h1><ul>{links}</ul></body></html>"#
    );
    ([(header::CONTENT_TYPE, "text/html")], html).into_response()
}

fn episode(n: usize, audio: Option<String>) -> Response {
    let Some(audio) = audio else { return StatusCode::NOT_FOUND.into_response() };
    let html = format!(
        r#"<!DOCTYPE html><html><head><title>Episode {n} | Show</title></head><body>
<article><h2 class="title">Episode number {n}</h2><time datetime="2026-0{n}-01T10:00:00Z">day</time>
<p>Notes for episode {n}.</p><a class="download" href="{audio}">Download</a></article></body></html>"#
    );
    ([(header::CONTENT_TYPE, "text/html")], html).into_response()
}

fn recipe(site_port: u16, extra_http: &str) -> String {
    format!(
        r#"
[feed]
title = "Show"
link = "http://127.0.0.1:{site_port}/"
description = "A show"
[output]
path = "public/feed.xml"
[crawl]
start = ["http://127.0.0.1:{site_port}/"]
episodes = "a.ep"
[episode]
title = {{ css = "h2.title" }}
published = {{ css = "time", attr = "datetime" }}
audio = {{ css = "a.download", attr = "href" }}
[http]
retries = 0
timeout_secs = 5
resolve = {{ "router.test" = "127.0.0.1" }}
{extra_http}
"#
    )
}

/// Lengths of the feed's enclosures, by title.
fn lengths(feed: &[u8]) -> Vec<(String, Option<u64>)> {
    let mut items: Vec<(String, Option<u64>)> = parse_feed(feed)
        .entries
        .iter()
        .map(|e| {
            let title = e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default();
            (title, e.media.first().and_then(|m| m.content.first()).and_then(|c| c.size))
        })
        .collect();
    items.sort();
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_cannot_reach_the_users_network() {
    let internal = internal().await;
    let site_port = site(internal.port, true).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("show.toml"), recipe(site_port, "")).unwrap();

    let out = podfeed_async(dir.path(), &["build", "--recipe", "show.toml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(internal.requests.load(Ordering::SeqCst), 0, "nothing reached the internal server");
    let warnings = stderr(&out);
    for (url, kind) in [
        (format!("http://127.0.0.1:{}/one.mp3", internal.port), "127.0.0.1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/two.mp3".to_string(), "169.254.169.254 is a link-local address"),
        (
            format!("http://router.test:{}/three.mp3", internal.port),
            "router.test is a loopback address (resolved to 127.0.0.1)",
        ),
        (format!("http://127.0.0.1:{site_port}/go/four.mp3"), "127.0.0.1 is a loopback address"),
    ] {
        let line = warnings.lines().find(|l| l.contains(&format!("enclosure {url} "))).unwrap_or_default();
        assert!(line.contains(&format!("not fetched: {kind}")), "{url}: {kind}\n{warnings}");
    }
    // Every episode is kept; only the site's own audio has a size.
    let feed = std::fs::read(dir.path().join("public/feed.xml")).unwrap();
    let sized: Vec<(String, Option<u64>)> =
        lengths(&feed).into_iter().filter(|(_, size)| size.is_some_and(|s| s > 0)).collect();
    assert_eq!(sized, [("Episode number 5".to_string(), Some(777))]);
    assert_eq!(parse_feed(&feed).entries.len(), 5);

    // init follows the feed the home page links only where the guard lets it.
    let out = podfeed_async(dir.path(), &["init", &format!("http://127.0.0.1:{site_port}/"), "-o", "init.toml"]).await;
    assert_eq!(internal.requests.load(Ordering::SeqCst), 0, "init: {}", stderr(&out));
    let feed =
        format!("the site's feed http://127.0.0.1:{}/feed.xml: not fetched: 127.0.0.1 is a loopback", internal.port);
    assert!(stderr(&out).contains(&feed), "init said it left the feed alone: {}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_private_lets_a_site_on_the_lan_through() {
    let internal = internal().await;
    let site_port = site(internal.port, false).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("show.toml"), recipe(site_port, "allow_private = true")).unwrap();

    let out = podfeed_async(dir.path(), &["build", "--recipe", "show.toml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not fetched:"), "{}", stderr(&out));
    let feed = std::fs::read(dir.path().join("public/feed.xml")).unwrap();
    let sizes: Vec<Option<u64>> = lengths(&feed).into_iter().map(|(_, size)| size).collect();
    assert_eq!(sizes, [Some(4242), Some(777), Some(4242), Some(4242), Some(777)], "three on the internal server");
    assert!(internal.requests.load(Ordering::SeqCst) >= 4, "robots.txt and three probes");
}
