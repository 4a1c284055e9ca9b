//! What cron hears: outages night after night, the cause of each failure, enclosure probes tried
//! again, and output fit for a mail or a monitoring script.

mod common;

use std::path::Path;
use std::process::Output;

use common::{parse_feed, podfeed_async, stderr, stdout, Fixture};
use podfeed::pipeline::Mode;

/// The demo recipe with fewer retries: an outage costs each night its backoff, and these tests
/// go through several nights.
async fn fixture(episodes: u32, retries: u32) -> Fixture {
    let fx = Fixture::new(episodes, false).await;
    fx.write_recipe(&fx.recipe_text.replace("retries = 3", &format!("retries = {retries}")));
    fx
}

async fn build(fx: &Fixture, extra: &[&str]) -> Output {
    let mut args = vec!["build", "--recipe", "demo.toml"];
    args.extend_from_slice(extra);
    podfeed_async(fx.dir.path(), &args).await
}

/// The published files and their modification times.
fn published(dir: &Path) -> Vec<(Vec<u8>, std::time::SystemTime)> {
    ["public/feed.xml", "public/index.html"]
        .iter()
        .map(|name| {
            let path = dir.join(name);
            (std::fs::read(&path).unwrap(), std::fs::metadata(&path).unwrap().modified().unwrap())
        })
        .collect()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("--json prints one object ({e}): {}", stdout(out)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_night_of_an_outage_exits_1_and_the_night_it_ends_publishes() {
    let fx = fixture(40, 1).await;
    assert_eq!(build(&fx, &[]).await.status.code(), Some(0));
    let before = published(fx.dir.path());

    fx.site.fail("/", 500);
    for night in 1..=3 {
        let out = build(&fx, &["--json"]).await;
        let log = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "night {night}: {log}");
        assert!(log.contains("not published: the site could not be reached"), "night {night}: {log}");
        // The cause, once: robots.txt answers 500, so RFC 9309 forbids every page.
        assert_eq!(log.matches("robots.txt answered HTTP 500: RFC 9309").count(), 1, "night {night}: {log}");
        assert_eq!(published(fx.dir.path()), before, "night {night}: the published files are untouched");
        let summary = json(&out);
        assert!(summary["error"].as_str().is_some_and(|e| e.contains("could not be reached")), "{summary}");
        assert_eq!(summary["listing_failed"], 1, "{summary}");
        assert!(summary["problems"][0].as_str().is_some_and(|p| p.contains("/archive: not fetched")), "{summary}");
    }

    fx.site.heal();
    fx.site.set_latest(41);
    let out = build(&fx, &["--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "a good night mails nothing: {}", stderr(&out));
    assert_eq!((json(&out)["new"].as_u64(), json(&out)["error"].is_null()), (Some(1), true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_pages_that_fail_night_after_night_are_never_shrugged_off() {
    // robots.txt answers, the archive does not: each listing page says HTTP 500, once.
    let fx = fixture(40, 0).await;
    assert_eq!(build(&fx, &[]).await.status.code(), Some(0));
    fx.site.fail("/archive", 500);
    for night in 1..=2 {
        let out = build(&fx, &[]).await;
        let log = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "night {night}: {log}");
        let listing = format!("listing page {}/archive: HTTP 500", fx.site.base_url());
        assert_eq!(log.matches(&listing).count(), 1, "one warning per page, night {night}: {log}");
        assert!(log.contains("its listing page failed: HTTP 500"), "{log}");
        assert!(!log.contains("robots"), "{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn episode_pages_the_site_fails_to_serve_count_every_night() {
    let fx = fixture(40, 0).await;
    assert_eq!(build(&fx, &[]).await.status.code(), Some(0));
    let before = published(fx.dir.path());
    fx.site.set_latest(46);
    fx.site.fail("/episodes/", 500);
    for night in 1..=3 {
        let out = build(&fx, &["--json"]).await;
        let log = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "night {night}: {log}");
        assert!(log.contains("pages failed, more than output.max_failures = 20%"), "{log}");
        let summary = json(&out);
        assert_eq!(log.matches(": HTTP 500\n").count() as u64, summary["failed"].as_u64().unwrap(), "{log}");
        assert!(summary["failed"].as_u64().unwrap() >= 6, "{summary}");
        assert_eq!(summary["failed_again"], 0, "an outage is no dead link");
        assert_eq!(published(fx.dir.path()), before);
    }
    fx.site.heal();
    assert_eq!(build(&fx, &[]).await.status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_site_never_publishes_an_empty_feed_whatever_max_failures() {
    let fx = fixture(20, 0).await;
    fx.write_recipe(
        &fx.recipe_text.replace("retries = 3", "retries = 0").replace("[output]\n", "[output]\nmax_failures = 100\n"),
    );
    fx.site.fail("/", 503);
    let out = build(&fx, &["--json"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!fx.feed_path().exists(), "no feed at all rather than an empty one");

    // A site that answers but whose pages give no item: refused too, unless forced.
    fx.site.heal();
    fx.write_recipe(
        &fx.recipe_text.replace("retries = 3", "retries = 0").replace("h1.episode-title", "h1.no-such-class"),
    );
    let out = build(&fx, &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("the feed would have no items"), "{}", stderr(&out));
    assert!(!fx.feed_path().exists());
    let out = build(&fx, &["--force"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(parse_feed(&fx.feed_bytes()).entries.len(), 0);
    // Once published (forced), an empty feed over an empty feed is no news.
    assert_eq!(build(&fx, &[]).await.status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_page_is_not_called_an_unreachable_site() {
    let fx = fixture(10, 0).await;
    assert_eq!(build(&fx, &[]).await.status.code(), Some(0));
    let missing = format!("{}/episodes/999", fx.site.base_url());
    let out = podfeed_async(fx.dir.path(), &["refresh", "--recipe", "demo.toml", &missing]).await;
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("nothing could be read (the one page tried failed: HTTP 404)"), "{log}");
    assert!(!log.contains("could not be reached"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_host_is_reported_as_connection_refused() {
    let fx = fixture(20, 1).await;
    // Sizes left to learn, on an audio host that is down too once the site is.
    fx.site.fail("/media/", 503);
    assert_eq!(build(&fx, &[]).await.status.code(), Some(0));
    let before = published(fx.dir.path());
    fx.site.stop();
    for _night in 1..=2 {
        let out = build(&fx, &[]).await;
        let log = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{log}");
        assert!(log.contains(&format!("listing page {}/archive: connection refused", fx.site.base_url())), "{log}");
        assert!(log.contains("could not be reached (its listing page failed: connection refused)"), "{log}");
        assert!(!log.contains("robots"), "the truth, not robots.txt: {log}");
        assert!(!log.contains("enclosure"), "nothing but the outage: {log}");
        assert_eq!(published(fx.dir.path()), before);
    }
    let out = podfeed_async(fx.dir.path(), &["check", "--recipe", "demo.toml", &fx.site.episode_url(3)]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("connection refused") && !stderr(&out).contains("robots"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_txt_answering_503_is_said_once_and_no_page_is_asked() {
    let fx = fixture(20, 0).await;
    fx.site.fail("/robots.txt", 503);
    let out = build(&fx, &[]).await;
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    let robots =
        format!("{}/robots.txt answered HTTP 503: RFC 9309 counts the whole site as disallowed", fx.site.base_url());
    assert_eq!(log.matches(&robots).count(), 1, "{log}");
    assert!(log.contains("/archive: not fetched: robots.txt answered HTTP 503"), "{log}");
    let stats = fx.site.stats();
    assert_eq!((stats.listing, stats.episode, stats.outage), (0, 0, 1), "only robots.txt was asked");

    let out = podfeed_async(fx.dir.path(), &["check", "--recipe", "demo.toml", &fx.site.episode_url(3)]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not fetched: robots.txt answered HTTP 503"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_any_task_fails_the_run_and_publishes_nothing() {
    let fx = fixture(40, 0).await;
    assert_eq!(build(&fx, &[]).await.status.code(), Some(0));
    let before = published(fx.dir.path());
    for (task, latest) in [("crawl", 45), ("page", 50), ("reprobe", 55), ("finish", 60)] {
        // New episodes, so that pages are read.
        fx.site.set_latest(latest);
        let dir = fx.dir.path().to_path_buf();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_podfeed"))
                .args(["build", "--recipe", "demo.toml", "--json"])
                .env("PODFEED_TEST_PANIC", task)
                .current_dir(dir)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let log = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{task}: {log}");
        assert!(log.contains("stopped with a panic") && log.contains("bug in podfeed"), "{task}: {log}");
        assert!(json(&out)["error"].as_str().is_some_and(|e| e.contains("panic")), "{task}");
        assert_eq!(published(fx.dir.path()), before, "{task}: nothing published");
    }
    assert_eq!(build(&fx, &[]).await.status.code(), Some(0), "the next night, without the bug");
}

/// The enclosure lengths of the feed, by guid.
fn lengths(fx: &Fixture) -> std::collections::HashMap<String, u64> {
    parse_feed(&fx.feed_bytes())
        .entries
        .into_iter()
        .filter_map(|e| Some((e.id.clone(), e.media.first()?.content.first()?.size?)))
        .collect()
}

fn expected_length(fx: &Fixture, guid: &str) -> u64 {
    let number = guid.rsplit('/').next().and_then(|n| n.parse().ok()).expect("demo guids end with the number");
    fx.site.audio_bytes(number)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audio_host_down_on_night_1_gives_the_right_lengths_on_night_2() {
    let fx = fixture(20, 0).await;
    fx.site.fail("/media/", 503);
    let out = build(&fx, &["--cache", "cache", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "the items are published all the same: {}", stderr(&out));
    let (items, probes_failed) = (json(&out)["items"].as_u64().unwrap(), json(&out)["probes_failed"].as_u64().unwrap());
    assert_eq!(probes_failed, items, "every probe failed");
    let warning = format!(
        "enclosure {}/media/3.mp3 of {}: HTTP 503; tried again next run",
        fx.site.base_url(),
        fx.site.episode_url(3)
    );
    assert_eq!(stderr(&out).matches(&warning).count(), 1, "{}", stderr(&out));
    assert!(lengths(&fx).values().all(|&n| n == 0), "{:?}", lengths(&fx));
    let out = podfeed_async(fx.dir.path(), &["list", "--recipe", "demo.toml", "--cache", "cache", "--failed"]).await;
    let listed = stdout(&out);
    assert!(listed.contains("/media/") && listed.contains("HTTP 503 (enclosure of"), "{listed}");

    fx.site.heal();
    fx.site.reset_stats();
    let night2 = fx.build(Mode::Incremental).await;
    assert_eq!((night2.updated, night2.probes_failed), (items, 0));
    let lengths = lengths(&fx);
    assert_eq!(lengths.len() as u64, items);
    for (guid, length) in &lengths {
        assert_eq!(*length, expected_length(&fx, guid), "{guid}");
    }
    let out = podfeed_async(fx.dir.path(), &["list", "--recipe", "demo.toml", "--cache", "cache", "--failed"]).await;
    assert!(!stdout(&out).contains("/media/"), "known sizes leave the list: {}", stdout(&out));

    fx.site.reset_stats();
    fx.build(Mode::Incremental).await;
    assert_eq!(fx.site.stats().audio_head + fx.site.stats().redirects, 0, "a known size is not asked again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_that_keeps_failing_waits_longer_each_time() {
    // Whether the episode pages are read again every night (the re-check window) or not.
    for recheck_days in [0, 36500] {
        let fx = fixture(10, 0).await;
        fx.write_recipe(
            &fx.recipe_text
                .replace("retries = 3", "retries = 0")
                .replace("recheck_days = 0", &format!("recheck_days = {recheck_days}")),
        );
        fx.site.fail("/media/", 503);
        fx.build(Mode::Incremental).await;
        fx.site.reset_stats();
        let night2 = fx.build(Mode::Incremental).await;
        assert_eq!(night2.probes_failed, night2.items, "the next run tries again ({recheck_days})");
        assert!(fx.site.stats().outage > 0);

        fx.site.heal();
        fx.site.reset_stats();
        let night3 = fx.build(Mode::Incremental).await;
        let not_before_tomorrow = "after two failures: not before tomorrow";
        assert_eq!(
            (night3.probes_failed, fx.site.stats().audio_head),
            (0, 0),
            "{not_before_tomorrow} ({recheck_days})"
        );
        fx.build(Mode::Full).await;
        assert_eq!(fx.site.stats().audio_head, 0, "{not_before_tomorrow}, even in a --full run ({recheck_days})");
        let args = ["list", "--recipe", "demo.toml", "--cache", "cache", "--failed", "--json"];
        let out = podfeed_async(fx.dir.path(), &args).await;
        let failures: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(failures.len() as u64, night2.items);
        let tomorrow = chrono::Utc::now() + chrono::Duration::hours(22);
        for failure in &failures {
            assert_eq!(failure["attempts"], 2, "{failure}");
            let retry_at: chrono::DateTime<chrono::Utc> = failure["retry_at"].as_str().unwrap().parse().unwrap();
            assert!(retry_at > tomorrow, "{failure}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_audio_file_gets_its_new_length_within_the_recheck_window() {
    let fx = fixture(20, 0).await;
    // Every demo episode inside the window: their pages are asked again (and answer 304).
    fx.write_recipe(&fx.recipe_text.replace("recheck_days = 0", "recheck_days = 36500"));
    fx.build(Mode::Incremental).await;
    fx.site.replace_audio(12, 4_321_000);
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!(summary.updated, 1, "{summary:?}");
    let guid = lengths(&fx).into_keys().find(|g| g.ends_with("/12")).expect("episode 12 is an item");
    assert_eq!(lengths(&fx)[&guid], 4_321_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_carries_the_error_on_exit_2_too() {
    let fx = fixture(5, 0).await;
    fx.write_recipe(&fx.recipe_text.replace("[crawl]\n", "[crawl]\nbogus = 1\n"));
    let out = build(&fx, &["--json"]).await;
    assert_eq!(out.status.code(), Some(2));
    let summary = json(&out);
    assert!(summary["error"].as_str().is_some_and(|e| e.contains("bogus")), "{summary}");
    assert!(summary["recipe"].as_str().is_some_and(|r| r.ends_with("demo.toml")), "{summary}");
    assert_eq!(summary["problems"], serde_json::json!([]));

    let out = build(&fx, &["--json", "--no-such-flag"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(json(&out)["error"].as_str().is_some_and(|e| e.contains("--no-such-flag")), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_a_terminal_a_good_night_is_silent_unless_verbose() {
    let fx = fixture(20, 0).await;
    let out = build(&fx, &[]).await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "", "cron mails nothing");
    let out = build(&fx, &["-v"]).await;
    assert!(stderr(&out).contains("podfeed: ") && stderr(&out).contains(" items ("), "{}", stderr(&out));
}

/// Runs podfeed on a pseudo-terminal (util-linux `script`), as a person at a terminal would.
async fn on_a_terminal(fx: &Fixture, args: &str, no_color: bool) -> String {
    let dir = fx.dir.path().to_path_buf();
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_podfeed"));
    let out = tokio::task::spawn_blocking(move || {
        let mut script = std::process::Command::new("script");
        script.args(["-qec", &command, "/dev/null"]).current_dir(dir).env_remove("NO_COLOR");
        if no_color {
            script.env("NO_COLOR", "1");
        }
        script.output().expect("script (util-linux) runs")
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colours_only_on_a_terminal_and_never_with_no_color() {
    let fx = Fixture::new(40, true).await;
    // Fault mode links a page that does not exist: a warning on every first run.
    let coloured = on_a_terminal(&fx, "build --recipe demo.toml --quiet --cache first", false).await;
    assert!(coloured.contains("/episodes/0") && coloured.contains('\u{1b}'), "{coloured:?}");
    let plain = on_a_terminal(&fx, "build --recipe demo.toml --quiet --cache second", true).await;
    assert!(plain.contains("/episodes/0") && !plain.contains('\u{1b}'), "{plain:?}");
    let piped = build(&fx, &["--quiet", "--cache", "third"]).await;
    assert!(stderr(&piped).contains("/episodes/0") && !stderr(&piped).contains('\u{1b}'), "{}", stderr(&piped));
}
