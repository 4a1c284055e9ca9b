//! `podfeed serve` over HTTP, and the HTML page in a real headless browser (Debian's chromium,
//! installed by `.ci/run`).

mod common;

use std::net::SocketAddr;
use std::process::Command;

use common::{judge_present, parse_feed, Fixture, Tool};
use podfeed::pipeline::Mode;
use reqwest::header;
use reqwest::StatusCode;

/// A built demo feed in `<fixture>/public`, a file outside it, and `podfeed serve` on it.
async fn served() -> (Fixture, SocketAddr) {
    let fx = Fixture::new(60, false).await;
    fx.build(Mode::Incremental).await;
    let public = fx.dir.path().join("public");
    std::fs::write(public.join("cover.png"), podfeed_demo::cover_png()).unwrap();
    std::fs::write(fx.dir.path().join("secret.txt"), "outside the served folder").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, podfeed::serve::router(&public)).await });
    (fx, addr)
}

/// A client that shows responses as they come: no automatic decompression.
fn client() -> reqwest::Client {
    reqwest::Client::builder().no_gzip().no_brotli().build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_and_pages_with_types_validators_and_304s() {
    let (fx, addr) = served().await;
    let http = client();
    let feed = http.get(format!("http://{addr}/feed.xml")).send().await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    assert_eq!(feed.headers()[header::CONTENT_TYPE], "application/rss+xml; charset=utf-8");
    let etag = feed.headers()[header::ETAG].clone();
    let modified = feed.headers()[header::LAST_MODIFIED].clone();
    assert_eq!(feed.bytes().await.unwrap(), fx.feed_bytes());

    let again =
        http.get(format!("http://{addr}/feed.xml")).header(header::IF_NONE_MATCH, etag.clone()).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[header::ETAG], etag);
    assert!(again.bytes().await.unwrap().is_empty());
    let again =
        http.get(format!("http://{addr}/feed.xml")).header(header::IF_MODIFIED_SINCE, modified).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let page = http.get(format!("http://{addr}/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("<h1>The Long Signal</h1>"), "/ serves index.html");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_head_and_range() {
    let (fx, addr) = served().await;
    let http = client();
    let url = format!("http://{addr}/feed.xml");
    let gzipped = http.get(&url).header(header::ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(gzipped.headers()[header::CONTENT_ENCODING], "gzip");
    let body = gzipped.bytes().await.unwrap();
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut text).unwrap();
    assert_eq!(text, fx.feed_bytes(), "the precompressed feed.xml.gz is the feed");

    let head = http.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()[header::CONTENT_LENGTH], fx.feed_bytes().len().to_string());
    assert!(head.bytes().await.unwrap().is_empty());

    let part = http.get(&url).header(header::RANGE, "bytes=0-99").send().await.unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap(), fx.feed_bytes()[..100]);
}

/// The answer to a raw request line, as the server sent it: a client would normalize dots away.
async fn raw_get(addr: SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut response).await.unwrap();
    response
}

/// Dotfiles (a run's `.podfeed-*` temporary files, a `.git` folder) are not served, however the
/// dot is written; the files beside them are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dotfiles_are_not_served() {
    let (fx, addr) = served().await;
    let public = fx.dir.path().join("public");
    std::fs::write(public.join(".podfeed-feed.xml.tmp"), "a feed half written").unwrap();
    std::fs::create_dir(public.join(".git")).unwrap();
    std::fs::write(public.join(".git/config"), "a hidden folder's file").unwrap();
    for path in ["/.podfeed-feed.xml.tmp", "/%2Epodfeed-feed.xml.tmp", "/.git/config", "/.git/", "/%2egit/config"] {
        let response = raw_get(addr, path).await;
        assert!(response.starts_with("HTTP/1.1 404"), "{path} answered: {response}");
        assert!(!response.contains("half written") && !response.contains("hidden folder"), "{path} leaked");
    }
    let http = client();
    for path in ["/feed.xml", "/cover.png", "/"] {
        let response = http.get(format!("http://{addr}{path}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

/// A symlink to a file or a folder outside is not followed out; one to a file inside is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlinks_out_of_the_folder_are_not_followed() {
    let (fx, addr) = served().await;
    let public = fx.dir.path().join("public");
    let outside = fx.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("index.html"), "an index outside the served folder").unwrap();
    std::fs::write(outside.join("notes.xml.gz"), "gzip outside the served folder").unwrap();
    std::os::unix::fs::symlink(fx.dir.path().join("secret.txt"), public.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink("../secret.txt", public.join("relative-leak.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, public.join("elsewhere")).unwrap();
    std::os::unix::fs::symlink("..", public.join("up")).unwrap();
    std::fs::create_dir(public.join("show")).unwrap();
    std::os::unix::fs::symlink(outside.join("index.html"), public.join("show/index.html")).unwrap();
    std::fs::write(public.join("notes.xml"), "<rss/>").unwrap();
    std::os::unix::fs::symlink(outside.join("notes.xml.gz"), public.join("notes.xml.gz")).unwrap();
    std::os::unix::fs::symlink("feed.xml", public.join("latest.xml")).unwrap();
    let http = client();
    for path in [
        "/leak.txt",
        "/relative-leak.txt",
        "/elsewhere/index.html",
        "/elsewhere/",
        "/up/secret.txt",
        "/show/",
        "/notes.xml",
    ] {
        let response = http.get(format!("http://{addr}{path}")).header(header::ACCEPT_ENCODING, "gzip").send().await;
        let response = response.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("outside the served folder"), "{path} leaked: {body}");
    }
    let inside = http.get(format!("http://{addr}/latest.xml")).send().await.unwrap();
    assert_eq!(inside.status(), StatusCode::OK, "a link to a file inside the folder is served");
    assert_eq!(inside.bytes().await.unwrap(), fx.feed_bytes());
    let plain = http.get(format!("http://{addr}/cover.png")).send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(plain.bytes().await.unwrap(), podfeed_demo::cover_png());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_outside_the_folder_is_served() {
    let (_fx, addr) = served().await;
    for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/..%2fsecret.txt", "/./../secret.txt"]
    {
        let response = raw_get(addr, path).await;
        assert!(!response.starts_with("HTTP/1.1 200"), "{path} answered: {response}");
        assert!(!response.contains("outside the served folder"), "{path} leaked the file");
    }
}

/// The page in headless Chromium: it loads without console errors, lists every episode, and its
/// players point at the feed's enclosures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_works_in_a_real_browser() {
    if !judge_present(Tool::Chromium) {
        return;
    }
    let (fx, addr) = served().await;
    let profile = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("chromium")
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
            .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
            .args(["--enable-logging=stderr", "--v=0", "--dump-dom"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .output()
    })
    .await
    .unwrap()
    .expect("chromium runs (`.ci/run` installs Debian's chromium)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let console: Vec<_> =
        String::from_utf8_lossy(&out.stderr).lines().filter(|l| l.contains(":CONSOLE")).map(String::from).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");

    let dom = scraper::Html::parse_document(&String::from_utf8_lossy(&out.stdout));
    let select = |css: &str| scraper::Selector::parse(css).unwrap();
    let title = dom.select(&select("h1")).next().unwrap().text().collect::<String>();
    assert_eq!(title, "The Long Signal");
    let players: Vec<_> = dom.select(&select("audio")).collect();
    let feed = parse_feed(&fx.feed_bytes());
    assert_eq!(players.len(), feed.entries.len());
    for (player, entry) in players.iter().zip(&feed.entries) {
        assert_eq!(player.value().attr("preload"), Some("none"));
        assert_eq!(player.value().attr("src"), Some(entry.media[0].content[0].url.as_ref().unwrap().as_str()));
    }
    // Every local asset the page uses is there.
    let http = client();
    for element in dom.select(&select("img[src], link[href]")) {
        let target = element.value().attr("src").or(element.value().attr("href")).unwrap();
        let response = http.get(format!("http://{addr}/{target}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{target}");
    }
}
