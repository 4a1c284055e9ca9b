//! The cache stays its size: a page fetched again leaves its old copy dead in a pack file, and
//! packs that are mostly dead are rewritten at the end of a run; a kill -9 during that loses
//! nothing.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{podfeed_async, stderr, stdout, Fixture};
use podfeed::demo::DemoConfig;
use podfeed::pipeline::Mode;

/// Bytes of the cache's pack files.
fn packs_bytes(fx: &Fixture) -> u64 {
    std::fs::read_dir(fx.cache_path().join("packs"))
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap().len())
        .sum()
}

/// Problems other than the demo's text-only posts (which have no audio on any night).
fn unexpected<'a>(problems: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    problems.into_iter().filter(|p| !p.contains("skipped: no audio URL found")).collect()
}

async fn site(episodes: u32) -> Fixture {
    let config = DemoConfig { episodes, latency: Duration::ZERO, ..Default::default() };
    Fixture::start(config).await
}

/// Every night a new episode changes every page (its "more episodes" box), and a full run
/// fetches them all again: without compaction the packs would grow by a whole archive a
/// night. They level off instead, and every page still reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_fetched_again_do_not_grow_the_cache() {
    let fx = site(200).await;
    fx.build(Mode::Incremental).await;
    let first = packs_bytes(&fx);
    let mut sizes = Vec::new();
    for _ in 0..6 {
        fx.site.set_latest(fx.site.latest() + 1);
        let summary = fx.build(Mode::Full).await;
        assert_eq!(unexpected(summary.problems.iter().map(String::as_str)), Vec::<&str>::new());
        sizes.push(packs_bytes(&fx));
    }
    assert!(sizes.iter().all(|size| *size <= first * 5 / 2), "after the first night {first} bytes; then {sizes:?}");
    let summary = fx.build(Mode::Reextract).await;
    assert_eq!(summary.items, fx.site.episodes().iter().filter(|e| e.has_audio()).count() as u64, "{summary:?}");
    assert_eq!(unexpected(summary.problems.iter().map(String::as_str)), Vec::<&str>::new(), "every page still reads");
}

/// kill -9 at moments around the end of full runs, where compaction happens: the cache opens
/// and re-extracting every page from it gives every episode, with no page unreadable. Where a
/// kill lands is up to the machine; the states a kill inside compaction leaves are built
/// exactly in `store::compact`'s unit tests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_compaction_loses_nothing() {
    let fx = site(120).await;
    let build = |extra: &'static str| {
        let mut args = vec!["build", "--recipe", "demo.toml", "--quiet", "--json"];
        args.extend(extra.split_whitespace());
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let out = podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--quiet"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let requests_of_a_full_run = {
        fx.site.set_latest(fx.site.latest() + 1);
        fx.site.reset_stats();
        let out = podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--quiet", "--full"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        fx.site.stats().total()
    };
    for wait_ms in [0u64, 2, 5, 10, 20, 40, 80] {
        fx.site.set_latest(fx.site.latest() + 1);
        fx.site.reset_stats();
        let mut child = Command::new(env!("CARGO_BIN_EXE_podfeed"))
            .args(build("--full"))
            .current_dir(fx.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        // Past the requests, the run writes the feed and compacts: kill it somewhere in there.
        while fx.site.stats().total() < requests_of_a_full_run * 9 / 10 && child.try_wait().unwrap().is_none() {
            assert!(started.elapsed() < Duration::from_secs(60));
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        let reextract = build("--reextract");
        let out = podfeed_async(fx.dir.path(), &reextract.iter().map(String::as_str).collect::<Vec<_>>()).await;
        assert_eq!(out.status.code(), Some(0), "after a kill {wait_ms} ms late: {}", stderr(&out));
        let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let problems = summary["problems"].as_array().unwrap().iter().filter_map(|p| p.as_str());
        assert_eq!(unexpected(problems), Vec::<&str>::new(), "after a kill {wait_ms} ms late: {summary}");
        assert_eq!(summary["failed"], 0, "{summary}");
    }
    // The re-extracts compacted too: what they left reads.
    let out =
        podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--quiet", "--json", "--reextract"]).await;
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let problems = summary["problems"].as_array().unwrap().iter().filter_map(|p| p.as_str());
    assert_eq!(unexpected(problems), Vec::<&str>::new(), "after the last re-extract: {summary}");
}
