//! Nightly runs with nobody watching: exit codes, guards, overlapping runs, crashes.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{parse_feed, podfeed_async, stderr, Fixture};
use podfeed::pipeline::{Mode, PipelineError};
use podfeed_demo::DemoConfig;

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

/// Waits until `child` has a request held at the demo site's door (see `DemoSite::hold_after`):
/// it is then alive and mid-run, and stays so until the door opens. Fails if it ends first.
async fn caught_mid_run(fx: &Fixture, child: &mut Child, what: &str) {
    while fx.site.held() == 0 {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{what} ended ({status}) before the site held any of its requests");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A recipe whose requests never time out while the demo site holds them.
fn patient(recipe: &str) -> String {
    recipe.replace("timeout_secs = 20", "timeout_secs = 3600")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_on_the_same_cache_is_refused_or_waits() {
    let fx = Fixture::new(40, false).await;
    fx.write_recipe(&patient(&fx.recipe_text));
    // The first run opens its cache, then the site holds its first request: it is still running
    // for as long as the test needs.
    fx.site.hold_after(0);
    let mut first = Command::new(env!("CARGO_BIN_EXE_podfeed"))
        .args(["build", "--recipe", "demo.toml", "--quiet"])
        .current_dir(fx.dir.path())
        .spawn()
        .unwrap();
    caught_mid_run(&fx, &mut first, "the first run").await;
    assert!(fx.dir.path().join("cache/demo/podfeed.pid").exists(), "the first run holds its cache");

    let out = podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml"]).await;
    assert_eq!(out.status.code(), Some(1));
    let message = stderr(&out);
    assert!(message.contains(&format!("in use by another podfeed run (pid {})", first.id())), "{message}");
    assert!(first.try_wait().unwrap().is_none(), "refused while the first run still ran, not after it ended");

    // With --wait, the second run waits (and says so) while the first is held, and goes on
    // once the first has finished.
    let mut waiting = Command::new(env!("CARGO_BIN_EXE_podfeed"))
        .args(["build", "--recipe", "demo.toml", "--wait", "--json"])
        .current_dir(fx.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (said_waiting, log) = tokio::sync::oneshot::channel();
    let stderr_lines = waiting.stderr.take().unwrap();
    let log = (
        log,
        std::thread::spawn(move || {
            let mut said_waiting = Some(said_waiting);
            let mut text = String::new();
            for line in std::io::BufRead::lines(std::io::BufReader::new(stderr_lines)).map_while(Result::ok) {
                if line.contains("waiting for the podfeed run holding") {
                    said_waiting.take().map(|said| said.send(()));
                }
                text.push_str(&line);
                text.push('\n');
            }
            text
        }),
    );
    let said = log.0.await;
    assert!(said.is_ok(), "the --wait run never said it waits: {}", log.1.join().unwrap());
    assert!(first.try_wait().unwrap().is_none(), "it waits while the first run is still running");
    fx.site.release();
    assert!(first.wait().unwrap().success());
    let out = tokio::task::spawn_blocking(move || waiting.wait_with_output()).await.unwrap().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", log.1.join().unwrap());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["items"], 40, "the waiting run saw the first run's work");
}

/// kill -9 at several points of runs caught mid-way (the site holds every request after the
/// Nth, so each run is alive and unfinished when killed): no killed run publishes, the cache
/// opens every time, and a run after them finishes the work without duplicates. Then a kill
/// in a later night's run leaves the published feed whole and as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_run_leaves_a_whole_feed_and_a_usable_cache() {
    let config = DemoConfig { episodes: 300, latency: Duration::ZERO, faults: false, ..Default::default() };
    let fx = Fixture::start(config).await;
    fx.write_recipe(&patient(&fx.recipe_text.replace("concurrency = 32", "concurrency = 4")));
    let feed = fx.dir.path().join("public/feed.xml");
    let kill = |kill_after: u64| {
        let fx = &fx;
        async move {
            fx.site.reset_stats();
            fx.site.hold_after(kill_after);
            let mut child = Command::new(env!("CARGO_BIN_EXE_podfeed"))
                .args(["build", "--recipe", "demo.toml", "--quiet", "--json"])
                .current_dir(fx.dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            caught_mid_run(fx, &mut child, &format!("the run to kill after {kill_after} requests")).await;
            assert!(child.try_wait().unwrap().is_none(), "alive right before the kill");
            child.kill().expect("SIGKILL sent");
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.signal(), Some(libc::SIGKILL), "the kill ended it: {:?}", out.status);
            assert!(out.stdout.is_empty(), "killed before its summary: {}", String::from_utf8_lossy(&out.stdout));
            fx.site.release();
        }
    };
    // A cold run makes 940 requests, and each one answered saves a later run at most one: every
    // run is still far from its end when its next request is held.
    for kill_after in [30, 120, 250, 350] {
        kill(kill_after).await;
        assert!(!feed.exists(), "a run killed after {kill_after} requests published nothing");
        drop(fx.open_store()); // the cache opens
    }
    let out = podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let published = fx.feed_bytes();
    let parsed = parse_feed(&published);
    let ids: std::collections::HashSet<_> = parsed.entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!((parsed.entries.len(), ids.len()), (297, 297), "every episode with audio, once");

    // The next night has ten new episodes; its run is killed mid-way.
    fx.site.set_latest(310);
    kill(5).await;
    assert_eq!(fx.feed_bytes(), published, "the published feed is whole and as it was");
    let out = podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let with_audio = fx.site.episodes().iter().filter(|e| e.has_audio()).count();
    assert_eq!(parse_feed(&fx.feed_bytes()).entries.len(), with_audio, "the new episodes too");
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
    assert!(summary.problems.iter().any(|p| p.to_string().contains("/drafts/1: skipped: disallowed by robots.txt")));

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
