//! The cache stays its size: a page fetched again leaves its old copy dead in a pack file, and
//! packs that are mostly dead are rewritten at the end of a run; a kill -9 at the end of a run
//! loses nothing.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{podfeed_async, stderr, stdout, Fixture};
use podfeed::pipeline::Mode;
use podfeed_demo::DemoConfig;

/// Bytes of the cache's pack files.
fn packs_bytes(fx: &Fixture) -> u64 {
    std::fs::read_dir(fx.cache_path().join("packs"))
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap().len())
        .sum()
}

/// Problems other than the demo's text-only posts (which have no audio on any night).
fn unexpected<T: ToString>(problems: impl IntoIterator<Item = T>) -> Vec<String> {
    problems.into_iter().map(|p| p.to_string()).filter(|p| !p.contains("skipped: no audio URL found")).collect()
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
        assert_eq!(unexpected(&summary.problems), Vec::<String>::new());
        sizes.push(packs_bytes(&fx));
    }
    assert!(sizes.iter().all(|size| *size <= first * 5 / 2), "after the first night {first} bytes; then {sizes:?}");
    let summary = fx.build(Mode::Reextract).await;
    assert_eq!(summary.items, fx.site.episodes().iter().filter(|e| e.has_audio()).count() as u64, "{summary:?}");
    assert_eq!(unexpected(&summary.problems), Vec::<String>::new(), "every page still reads");
}

/// Where a kill -9 lands.
#[derive(Debug, Clone, Copy)]
enum At {
    /// With this many requests answered, the next one held by the site.
    Request(u64),
    /// Where the run compacts its cache, its feed published (`PODFEED_TEST_PAUSE=compact`).
    Compaction,
}

/// Runs `podfeed build ARGS` and kill -9s it at `at`, making sure it was alive and unfinished
/// when the kill came.
async fn kill_at(fx: &Fixture, args: &[String], at: At) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_podfeed"));
    command.args(args).current_dir(fx.dir.path()).stdout(Stdio::piped()).stderr(Stdio::piped());
    match at {
        At::Request(answered) => fx.site.hold_after(answered),
        At::Compaction => drop(command.env("PODFEED_TEST_PAUSE", "compact")),
    }
    let mut child = command.spawn().unwrap();
    // Its stderr is read on a thread of its own; the line the pause says is passed on.
    let (paused, log) = tokio::sync::oneshot::channel();
    let stderr_pipe = child.stderr.take().unwrap();
    let log_reader = std::thread::spawn(move || {
        let mut paused = Some(paused);
        let mut text = String::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr_pipe)).map_while(Result::ok) {
            if line.contains("paused at compact") {
                paused.take().map(|paused| paused.send(()));
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    match at {
        At::Request(_) => {
            while fx.site.held() == 0 {
                if let Some(status) = child.try_wait().unwrap() {
                    panic!("the run ended ({status}) before the site held a request at {at:?}");
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        At::Compaction => {
            if log.await.is_err() {
                panic!("the run never paused at compaction: {}", log_reader.join().unwrap());
            }
        }
    }
    assert!(child.try_wait().unwrap().is_none(), "alive right before the kill at {at:?}");
    child.kill().expect("SIGKILL sent");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.signal(), Some(libc::SIGKILL), "the kill ended it at {at:?}: {:?}", out.status);
    assert!(out.stdout.is_empty(), "killed before its summary at {at:?}: {}", String::from_utf8_lossy(&out.stdout));
    fx.site.release();
    drop(log_reader.join());
}

/// kill -9 at the end of full runs, where they finish their requests, publish and compact: each
/// run caught there alive and unfinished (the site holds its next request, or the run pauses
/// where it compacts). The cache opens and re-extracting every page from it gives every
/// episode, with no page unreadable. The states a kill inside compaction leaves are built
/// exactly in `store::compact`'s unit tests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_the_end_of_full_runs_loses_nothing() {
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
    // Each night has one more episode, so a full run makes more requests than the one measured:
    // the last point holds the request after as many as that one made.
    let points = [
        At::Request(requests_of_a_full_run * 9 / 10),
        At::Request(requests_of_a_full_run * 99 / 100),
        At::Request(requests_of_a_full_run),
        At::Compaction,
        At::Compaction,
    ];
    for at in points {
        fx.site.set_latest(fx.site.latest() + 1);
        kill_at(&fx, &build("--full"), at).await;
        let reextract = build("--reextract");
        let out = podfeed_async(fx.dir.path(), &reextract.iter().map(String::as_str).collect::<Vec<_>>()).await;
        assert_eq!(out.status.code(), Some(0), "after a kill at {at:?}: {}", stderr(&out));
        let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let problems = summary["problems"].as_array().unwrap().iter().filter_map(|p| p.as_str());
        assert_eq!(unexpected(problems), Vec::<String>::new(), "after a kill at {at:?}: {summary}");
        assert_eq!(summary["failed"], 0, "{summary}");
    }
    // The re-extracts compacted too: what they left reads.
    let out =
        podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--quiet", "--json", "--reextract"]).await;
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let problems = summary["problems"].as_array().unwrap().iter().filter_map(|p| p.as_str());
    assert_eq!(unexpected(problems), Vec::<String>::new(), "after the last re-extract: {summary}");
}
