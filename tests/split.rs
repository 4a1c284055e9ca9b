//! Feeds too big for apps: `[output] split` writes one feed per year (or season) beside the main
//! one, each valid for the independent judges, linked from the HTML page; `max_bytes` leaves the
//! oldest items to them.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use chrono::Datelike;
use common::{judge, judge_present, Fixture, Judging, Tool};
use podfeed::pipeline::Mode;
use podfeed_demo::show::ShowEpisode;

const MAX_BYTES: u64 = 400_000;

/// The split feeds in the fixture's output folder, by file name.
fn split_feeds(fx: &Fixture) -> BTreeMap<String, PathBuf> {
    std::fs::read_dir(fx.dir.path().join("public"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_string();
            (name.starts_with("feed-") && name.ends_with(".xml")).then_some((name, path))
        })
        .collect()
}

fn atom_self(channel: &rss::Channel) -> String {
    channel.extensions["atom"]["link"][0].attrs["href"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yearly_feeds_carry_the_whole_archive_pass_the_judges_and_are_linked() {
    let fx = Fixture::new(1200, false).await;
    let recipe =
        fx.recipe_text.replace("gzip = true", &format!("gzip = true\nsplit = \"year\"\nmax_bytes = {MAX_BYTES}"));
    fx.write_recipe(&recipe);
    let summary = fx.build(Mode::Incremental).await;
    let episodes: Vec<ShowEpisode> = fx.site.episodes().into_iter().filter(ShowEpisode::has_audio).collect();
    let base = fx.site.base_url();
    let guid = |e: &ShowEpisode| format!("{base}/episodes/{}", e.number);

    // The main feed: the newest items within max_bytes, and no more.
    let main_bytes = fx.feed_bytes();
    assert!(main_bytes.len() as u64 <= MAX_BYTES, "{} bytes", main_bytes.len());
    let main = rss::Channel::read_from(&main_bytes[..]).unwrap();
    assert!(main.items.len() > 100 && main.items.len() < episodes.len(), "{} items", main.items.len());
    assert_eq!(summary.items, main.items.len() as u64);
    let newest: Vec<String> = episodes.iter().take(main.items.len()).map(guid).collect();
    let in_main: Vec<String> = main.items.iter().map(|i| i.guid.as_ref().unwrap().value.clone()).collect();
    assert_eq!(in_main, newest, "the newest items stay in the main feed");

    // One feed per year, every episode in exactly one of them, the one of its year.
    let feeds = split_feeds(&fx);
    let years: HashSet<i32> = episodes.iter().map(|e| e.published.year()).collect();
    assert_eq!(feeds.len(), years.len(), "{:?}", feeds.keys());
    let mut seen = HashSet::new();
    let mut feed_guids = HashSet::new();
    for (name, path) in &feeds {
        let year: i32 = name.trim_start_matches("feed-").trim_end_matches(".xml").parse().unwrap();
        let bytes = std::fs::read(path).unwrap();
        podfeed::verify::check_file(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let channel = rss::Channel::read_from(&bytes[..]).unwrap();
        assert_eq!(channel.title, format!("The Long Signal ({year})"));
        assert_eq!(atom_self(&channel), format!("http://127.0.0.1:8000/{name}"), "its own self URL");
        let podcast_guid = channel.extensions["podcast"]["guid"][0].value.clone().unwrap();
        assert!(feed_guids.insert(podcast_guid), "{name}: its own podcast:guid");
        let want: Vec<String> = episodes.iter().filter(|e| e.published.year() == year).map(guid).collect();
        let got: Vec<String> = channel.items.iter().map(|i| i.guid.as_ref().unwrap().value.clone()).collect();
        assert_eq!(got, want, "{name}: the episodes of its year, newest first");
        seen.extend(got);

        if judge_present(Tool::Python) {
            let (accepted, text) = judge("python3", "tests/judges/pyjudges.py", path, want.len(), Judging::Strict);
            assert!(accepted, "{name}: Python judges: {text}");
        }
        let feed = feed_rs::parser::parse(&bytes[..]).unwrap_or_else(|e| panic!("{name}: feed-rs: {e}"));
        assert_eq!(feed.entries.len(), want.len(), "{name}: feed-rs");
        let text = std::str::from_utf8(&bytes).unwrap();
        badpod::from_str(text).unwrap_or_else(|e| panic!("{name}: badpod: {e:?}"));
        if judge_present(Tool::Node) {
            let (accepted, text) = judge("node", "tests/judges/partytime.cjs", path, want.len(), Judging::Strict);
            assert!(accepted, "{name}: partytime: {text}");
        }
    }
    assert_eq!(seen.len(), episodes.len(), "every episode is in a yearly feed");
    assert!(!feed_guids.contains(&podfeed::feed::podcast_guid("http://127.0.0.1:8000/feed.xml").to_string()));

    // The page beside the feed links every feed.
    let page = std::fs::read_to_string(fx.dir.path().join("public/index.html")).unwrap();
    for name in feeds.keys() {
        assert!(page.contains(&format!("href=\"{name}\"")), "{name} not linked");
    }

    // Every episode's guid is published: one only in a yearly feed is pinned like the others.
    let store = fx.open_store();
    let oldest = guid(episodes.last().unwrap());
    assert!(store.published(&oldest).unwrap(), "{oldest}");
    drop(store);

    // A quiet night leaves every file as it was, byte for byte and untouched.
    let modified = |path: &PathBuf| std::fs::metadata(path).unwrap().modified().unwrap();
    let before: Vec<_> = feeds.values().map(|path| (std::fs::read(path).unwrap(), modified(path))).collect();
    let quiet = fx.build(Mode::Incremental).await;
    assert!(!quiet.feed_changed);
    let after: Vec<_> = feeds.values().map(|path| (std::fs::read(path).unwrap(), modified(path))).collect();
    assert!(before == after, "a split feed changed on a quiet night");
}

/// Seasons, with `max_items` keeping the main feed short: the split feeds carry every episode,
/// and each is published (its guid pinned). Switching to years replaces the seasons' files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seasonal_feeds_are_named_for_their_seasons_and_carry_what_max_items_leaves_out() {
    let fx = Fixture::new(120, false).await;
    let recipe = fx
        .recipe_text
        .replace("gzip = true", "gzip = true\nsplit = \"season\"")
        .replace("type = \"episodic\"", "type = \"episodic\"\nmax_items = 10");
    fx.write_recipe(&recipe);
    fx.build(Mode::Incremental).await;
    let episodes: Vec<ShowEpisode> = fx.site.episodes().into_iter().filter(ShowEpisode::has_audio).collect();
    let feeds = split_feeds(&fx);
    let names: Vec<&str> = feeds.keys().map(String::as_str).collect();
    assert_eq!(names, ["feed-season-1.xml", "feed-season-2.xml", "feed-season-3.xml"]);
    for (season, path) in (1..).zip(feeds.values()) {
        let channel = rss::Channel::read_from(&std::fs::read(path).unwrap()[..]).unwrap();
        let first = episodes.iter().find(|e| e.season == season).unwrap();
        assert_eq!(channel.title, format!("The Long Signal (Season {season}: {})", first.season_name()));
        assert_eq!(channel.items.len(), episodes.iter().filter(|e| e.season == season).count());
    }
    assert_eq!(rss::Channel::read_from(&fx.feed_bytes()[..]).unwrap().items.len(), 10);
    let store = fx.open_store();
    let oldest = format!("{}/episodes/1", fx.site.base_url());
    assert!(store.published(&oldest).unwrap(), "only in a split feed, and published");
    drop(store);

    fx.write_recipe(&recipe.replace("split = \"season\"", "split = \"year\""));
    fx.build(Mode::Incremental).await;
    let names: Vec<String> = split_feeds(&fx).into_keys().collect();
    assert!(!names.is_empty() && names.iter().all(|n| !n.contains("season")), "{names:?}");
}

/// Episodes without a date have a feed of their own: none is left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undated_episodes_have_a_split_feed_of_their_own() {
    let fx = Fixture::new(40, false).await;
    // Pages with a written-out date (3 and 6 of every ten) lose it: no rule reads it any more.
    let recipe = fx
        .recipe_text
        .replace("gzip = true", "gzip = true\nsplit = \"year\"")
        .replace("{ css = \"p.byline span.date\" }", "{ css = \"p.byline span.nothing\" }");
    fx.write_recipe(&recipe);
    fx.build(Mode::Incremental).await;
    let feeds = split_feeds(&fx);
    let other = rss::Channel::read_from(&std::fs::read(&feeds["feed-other.xml"]).unwrap()[..]).unwrap();
    assert_eq!(other.title, "The Long Signal (undated episodes)");
    let total: usize = feeds
        .values()
        .map(|path| rss::Channel::read_from(&std::fs::read(path).unwrap()[..]).unwrap().items.len())
        .sum();
    assert!(!other.items.is_empty() && other.items.iter().all(|i| i.pub_date.is_none()));
    assert_eq!(total, fx.site.episodes().iter().filter(|e| e.has_audio()).count());
}

/// Leaving items out of the main feed is said when the feed changes, not every quiet night.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_left_to_the_split_feeds_are_warned_about_when_the_feed_changes() {
    let fx = Fixture::new(60, false).await;
    fx.write_recipe(&fx.recipe_text.replace("gzip = true", "gzip = true\nsplit = \"year\"\nmax_bytes = 20000"));
    let build = ["build", "--recipe", "demo.toml", "--quiet", "--json"];
    let out = common::podfeed_async(fx.dir.path(), &build).await;
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let items = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["items"].as_u64().unwrap();
    let left = fx.site.episodes().iter().filter(|e| e.has_audio()).count() as u64 - items;
    let warning = format!(
        "the feed would be larger than output.max_bytes (20000 bytes): its oldest {left} items are only in the split feeds"
    );
    assert!(left > 0 && common::stderr(&out).contains(&warning), "{}", common::stderr(&out));
    let again = common::podfeed_async(fx.dir.path(), &build).await;
    assert!(common::stderr(&again).is_empty(), "{}", common::stderr(&again));
}
