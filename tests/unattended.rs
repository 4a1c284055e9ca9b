//! Nightly runs with nobody watching: exit codes, guards, overlapping runs, crashes.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{parse_feed, podfeed_async, stderr, Fixture};
use podfeed::demo::DemoConfig;
use podfeed::pipeline::{Mode, PipelineError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_that_would_shrink_is_refused_unless_forced() {
    let fx = Fixture::new(60, false).await;
    fx.build(Mode::Incremental).await;
    let before = fx.feed_bytes();
    // A recipe edit that breaks the title rule for most pages.
    fx.write_recipe(
        &fx.recipe_text.replace(r#"css = "h1.episode-title" }"#, r#"css = "h1.episode-title", regex = '^Q&A(.*)' }"#),
    );
    match fx.try_build(Mode::Reextract).await {
        Err(PipelineError::Shrinking { items, published: 60, limit: 90 }) => assert!(items < 10, "{items}"),
        other => panic!("expected the shrink guard, got {other:?}"),
    }
    assert_eq!(fx.feed_bytes(), before, "nothing published");

    let out =
        podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--cache", "cache", "--reextract"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("pass --force"), "{}", stderr(&out));
    let forced =
        ["build", "--recipe", "demo.toml", "--cache", "cache", "--reextract", "--force", "--out", "public/feed.xml"];
    let out = podfeed_async(fx.dir.path(), &forced).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(parse_feed(&fx.feed_bytes()).entries.len() < 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_few_failed_pages_publish_the_rest_and_are_listed() {
    let fx = Fixture::new(60, true).await;
    let out = podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--quiet"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("/episodes/0: HTTP 404"), "a warning per failed URL: {}", stderr(&out));
    let out = podfeed_async(fx.dir.path(), &["list", "--recipe", "demo.toml", "--failed"]).await;
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    for url in ["/episodes/0", "/bad/huge", "/bad/pdf", "/bad/loop"] {
        assert!(listed.contains(&format!("{}{url}", fx.site.base_url())), "{url} not in:\n{listed}");
    }
    assert!(listed.contains("HTTP 404"), "says why: {listed}");

    // The next night: two new episodes and the same dead links, failing again. Those are
    // reported, and retried, but a quiet night is not a site outage: it publishes.
    fx.site.set_latest(62);
    let out = podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--quiet", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (summary["new"].as_u64(), summary["failed"].as_u64(), summary["failed_again"].as_u64()),
        (Some(2), Some(4), Some(4))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_on_the_same_cache_is_refused_or_waits() {
    let config = DemoConfig { episodes: 40, latency: Duration::from_millis(150), faults: false, ..Default::default() };
    let fx = Fixture::start(config).await;
    let slow = fx.recipe_text.replace("concurrency = 32", "concurrency = 2");
    fx.write_recipe(&slow);
    let mut first = Command::new(env!("CARGO_BIN_EXE_podfeed"))
        .args(["build", "--recipe", "demo.toml", "--quiet"])
        .current_dir(fx.dir.path())
        .spawn()
        .unwrap();
    let pid_file = fx.dir.path().join("cache/demo/podfeed.pid");
    let started = Instant::now();
    while !pid_file.exists() {
        assert!(started.elapsed() < Duration::from_secs(20), "the first run never opened its cache");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let refused_at = Instant::now();
    let out = podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml"]).await;
    assert_eq!(out.status.code(), Some(1));
    let message = stderr(&out);
    assert!(message.contains(&format!("in use by another podfeed run (pid {})", first.id())), "{message}");
    assert!(refused_at.elapsed() < Duration::from_secs(5), "fails within seconds");

    let out = podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--wait", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(first.wait().unwrap().success());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["items"], 40, "the waiting run saw the first run's work");
}

/// kill -9 at several points of a first run: every time the published feed is whole (old or
/// new) and the cache opens; a last run finishes the work without duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_run_leaves_a_whole_feed_and_a_usable_cache() {
    let config = DemoConfig { episodes: 300, latency: Duration::from_millis(10), faults: false, ..Default::default() };
    let fx = Fixture::start(config).await;
    fx.write_recipe(&fx.recipe_text.replace("concurrency = 32", "concurrency = 4"));
    for kill_after in [30, 150, 400, 700] {
        fx.site.reset_stats();
        let mut child = Command::new(env!("CARGO_BIN_EXE_podfeed"))
            .args(["build", "--recipe", "demo.toml", "--quiet"])
            .current_dir(fx.dir.path())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while fx.site.stats().total() < kill_after && child.try_wait().unwrap().is_none() {
            assert!(started.elapsed() < Duration::from_secs(60));
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let feed = fx.dir.path().join("public/feed.xml");
        if feed.exists() {
            parse_feed(&std::fs::read(&feed).unwrap()); // whole, or this panics
        }
    }
    let out = podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let feed = parse_feed(&fx.feed_bytes());
    let ids: std::collections::HashSet<_> = feed.entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!((feed.entries.len(), ids.len()), (297, 297), "every episode with audio, once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_pagination_stops_at_max_pages() {
    let fx = Fixture::new(200, false).await;
    fx.write_recipe(&fx.recipe_text.replace("max_pages = 500", "max_pages = 3"));
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!(fx.site.stats().listing, 3);
    let newest_60 = fx.site.episodes().into_iter().take(60).filter(|e| e.has_audio()).count();
    assert_eq!(summary.items as usize, newest_60, "three pages of 20");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_txt_is_obeyed_unless_the_recipe_opts_out() {
    let fx = Fixture::new(40, true).await;
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!(fx.site.stats().disallowed, 0);
    assert!(summary.problems.iter().any(|p| p.contains("/drafts/1: skipped: disallowed by robots.txt")));

    let fx = Fixture::new(40, true).await;
    fx.write_recipe(&fx.recipe_text.replace("[http]\n", "[http]\nrespect_robots = false\n"));
    fx.build(Mode::Incremental).await;
    assert_eq!(fx.site.stats().disallowed, 1, "the draft robots.txt disallows was fetched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_shows_more_of_the_log() {
    let fx = Fixture::new(20, false).await;
    let quiet = podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--quiet"]).await;
    assert!(!stderr(&quiet).contains("crawl finished"), "{}", stderr(&quiet));
    let verbose = podfeed_async(fx.dir.path(), &["-v", "build", "--recipe", "demo.toml", "--full"]).await;
    assert!(stderr(&verbose).contains("crawl finished"), "{}", stderr(&verbose));
}
