//! Sites that attack: the demo site in hostile mode serves pages built to break the feed, stall
//! the run or lead it out of its scope. The published feed must stay well-formed and valid for
//! every judge, every page's cost bounded, and the run must end within its timeouts.

mod common;

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::Duration;

use common::{judge, judge_present, podfeed_async, stderr, stdout, Fixture, Judging, Tool};
use podfeed::model::{Enclosure, Episode, RunSummary};
use podfeed::pipeline::{Mode, PipelineError};
use podfeed_demo::{DemoConfig, SiteStats};

const EPISODES: u32 = 60;

/// The demo recipe for a hostile site: short timeouts (one page never answers), and a guid
/// rule that only the hostile pages answer (the others fall back to the link).
fn hostile_recipe(fx: &Fixture) -> String {
    let text = fx.recipe_text.replace("timeout_secs = 20", "timeout_secs = 2").replace("retries = 3", "retries = 1");
    format!("{text}guid = [ {{ css = \"meta[name=guid]\", attr = \"content\" }} ]\n")
}

async fn hostile_site() -> Fixture {
    let config =
        DemoConfig { episodes: EPISODES, latency: Duration::ZERO, faults: false, hostile: true, ..Default::default() };
    let fx = Fixture::start(config).await;
    fx.write_recipe(&hostile_recipe(&fx));
    fx
}

/// One build of the hostile site, then a re-extract of its cache, shared by the tests here.
struct Attacked {
    feed: Vec<u8>,
    path: tempfile::TempPath,
    summary: RunSummary,
    reextracted: RunSummary,
    /// `podfeed list --duplicates --json` afterwards.
    listed_duplicates: serde_json::Value,
    stats: SiteStats,
    base_url: String,
}

fn attacked() -> &'static Attacked {
    static ATTACKED: OnceLock<Attacked> = OnceLock::new();
    ATTACKED.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let fx = hostile_site().await;
            let summary = fx.build(Mode::Incremental).await;
            let stats = fx.site.stats();
            let feed = fx.feed_bytes();
            let reextracted = fx.build(Mode::Reextract).await;
            assert_eq!(fx.feed_bytes(), feed, "a re-extract publishes the same feed");
            let list = ["list", "--recipe", "demo.toml", "--cache", "cache", "--duplicates", "--json"];
            let out = podfeed_async(fx.dir.path(), &list).await;
            let listed_duplicates = serde_json::from_slice(&out.stdout).expect("list --json prints JSON");
            let mut file = tempfile::NamedTempFile::new().expect("temp file");
            std::io::Write::write_all(&mut file, &feed).expect("feed copied");
            let path = file.into_temp_path();
            Attacked { path, feed, summary, reextracted, listed_duplicates, stats, base_url: fx.site.base_url() }
        })
    })
}

/// The feed as a strict XML 1.0 parser (roxmltree) reads it.
fn document(feed: &[u8]) -> roxmltree::Document<'_> {
    let text = std::str::from_utf8(feed).expect("the feed is UTF-8");
    roxmltree::Document::parse(text).expect("a strict XML parser reads the feed")
}

fn items<'a>(doc: &'a roxmltree::Document<'a>) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants().filter(|n| n.has_tag_name("item")).collect()
}

fn child<'a>(item: roxmltree::Node<'a, 'a>, name: &str) -> Option<&'a str> {
    item.children().find(|c| c.tag_name().name() == name).and_then(|c| c.text())
}

fn enclosure_url<'a>(item: roxmltree::Node<'a, 'a>) -> &'a str {
    item.children().find(|c| c.has_tag_name("enclosure")).and_then(|e| e.attribute("url")).unwrap_or_default()
}

/// The item whose link is this hostile page.
fn item_of<'a>(doc: &'a roxmltree::Document<'a>, base_url: &str, kind: &str) -> roxmltree::Node<'a, 'a> {
    let link = format!("{base_url}/hostile/{kind}");
    items(doc)
        .into_iter()
        .find(|item| child(*item, "link") == Some(link.as_str()))
        .unwrap_or_else(|| panic!("no item for {kind}"))
}

fn reported(summary: &RunSummary, page: &str, reason: &str) -> bool {
    summary
        .problems
        .iter()
        .any(|p| p.to_string().contains(&format!("/hostile/{page}")) && p.to_string().contains(reason))
}

#[test]
fn the_feed_passes_strict_xml_and_every_judge() {
    let attacked = attacked();
    let doc = document(&attacked.feed);
    let count = items(&doc).len();
    assert_eq!(count as u64, attacked.summary.items);
    let feed = feed_rs::parser::parse(&attacked.feed[..]).expect("feed-rs parses the feed");
    assert_eq!(feed.entries.len(), count);
    if judge_present(Tool::Python) {
        let (accepted, text) = judge("python3", "tests/judges/pyjudges.py", &attacked.path, count, Judging::Lenient);
        assert!(accepted && text.contains("not bozo"), "feedparser or podcastparser refused the feed:\n{text}");
    }
    if judge_present(Tool::Node) {
        let (accepted, text) = judge("node", "tests/judges/partytime.cjs", &attacked.path, count, Judging::Lenient);
        assert!(accepted, "podcast-partytime refused the feed:\n{text}");
    }
}

/// The feed's invariants (docs/invariants.md), checked here with a parser and rules of the test's own.
#[test]
fn every_invariant_holds_item_by_item() {
    let attacked = attacked();
    let doc = document(&attacked.feed);
    let allowed =
        |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
    let text = std::str::from_utf8(&attacked.feed).unwrap();
    assert!(text.chars().all(allowed), "a character XML 1.0 forbids");
    assert!(!text.contains("&#x1;") && !text.contains("&#1;"), "a forbidden character as a reference");
    let is_url = |value: &str| {
        value.is_ascii()
            && !value.contains(' ')
            && url::Url::parse(value).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
    };
    for node in doc.descendants() {
        let name = node.tag_name().name();
        for attribute in node.attributes().filter(|a| matches!(a.name(), "url" | "href")) {
            assert!(is_url(attribute.value()), "<{name} {}={:?}>", attribute.name(), attribute.value());
        }
        let rss = node.tag_name().namespace().is_none();
        if (rss && name == "link")
            || name == "new-feed-url"
            || (name == "url" && node.parent().is_some_and(|p| p.has_tag_name("image")))
        {
            assert!(node.text().is_some_and(is_url), "<{name}>{:?}", node.text());
        }
    }
    let (mut guids, mut enclosures) = (HashSet::new(), HashSet::new());
    for item in items(&doc) {
        let guid = child(item, "guid").unwrap_or_default();
        assert!(!guid.trim().is_empty(), "an empty guid");
        assert!(guids.insert(guid), "guid {guid} twice");
        assert!(enclosures.insert(enclosure_url(item)), "enclosure {} twice", enclosure_url(item));
        if let Some(date) = child(item, "pubDate") {
            let date = chrono::DateTime::parse_from_rfc2822(date).unwrap_or_else(|_| panic!("pubDate {date:?}"));
            assert!((1900..=2030).contains(&chrono::Datelike::year(&date)), "pubDate {date}");
        }
        if let Some(duration) = child(item, "duration") {
            let parts: Vec<u64> = duration.split(':').map(|p| p.parse().expect("digits")).collect();
            assert!(matches!(parts.as_slice(), [h, m, s] if *h <= 168 && *m < 60 && *s < 60), "duration {duration}");
        }
    }
}

#[test]
fn forbidden_characters_are_dropped_from_every_field() {
    let attacked = attacked();
    let doc = document(&attacked.feed);
    let item = item_of(&doc, &attacked.base_url, "control");
    let guid = child(item, "guid").unwrap();
    assert_eq!(guid, "hostile-guid\u{fffd}", "control characters dropped, the lone surrogate is U+FFFD");
    let title = child(item, "title").unwrap();
    assert!(title.starts_with("Control characters and"), "{title}");
    assert!(!title.chars().any(|c| c.is_control() || c == '\u{fffe}'), "{title:?}");
    assert_eq!(enclosure_url(item), format!("{}/hostile-audio/control%01.mp3", attacked.base_url));
    let duration = item.children().find(|c| c.tag_name().name() == "duration").and_then(|d| d.text());
    assert_eq!(duration, None, "a lone surrogate in the duration leaves no duration");
    let description = child(item, "description").unwrap();
    assert!(description.starts_with("Notes with") && !description.chars().any(char::is_control), "{description:?}");
}

#[test]
fn numbers_and_dates_out_of_range_are_dropped_with_a_warning() {
    let attacked = attacked();
    let doc = document(&attacked.feed);
    let overflow = item_of(&doc, &attacked.base_url, "overflow");
    for field in ["duration", "episode", "season"] {
        assert_eq!(child(overflow, field), None, "{field}");
    }
    assert_eq!(child(item_of(&doc, &attacked.base_url, "overflow-seconds"), "duration"), None);
    for kind in ["future", "ancient"] {
        assert_eq!(child(item_of(&doc, &attacked.base_url, kind), "pubDate"), None, "{kind}");
    }
    let newest = items(&doc)[0];
    assert!(child(newest, "link").unwrap().ends_with(&format!("/episodes/{EPISODES}")), "the year 9999 is not newest");
}

#[test]
fn pages_that_would_stall_the_run_fail_with_the_limit_they_hit() {
    let summary = &attacked().summary;
    for (page, reason) in [
        ("deep", "page too deeply nested (over 512 levels"),
        ("tiny", "page has too many elements"),
        ("attributes", "page took more than 5 s of CPU"),
        ("gzip-bomb", "page larger than 5242880 bytes"),
        ("endless", "page larger than 5242880 bytes"),
        ("silent", "timed out"),
        ("redirect-away", "redirected to localhost, outside crawl.scope"),
        ("listing-away", "redirected to localhost, outside crawl.scope"),
    ] {
        assert!(reported(summary, page, reason), "{page}: {reason} not in {:#?}", summary.problems);
    }
    assert_eq!(summary.failed, 8, "{:#?}", summary.problems);
    for (page, reason) in [("script-audio", "no audio URL"), ("garbage", "skipped")] {
        assert!(reported(summary, page, reason), "{page}: {reason} not in {:#?}", summary.problems);
    }
}

#[test]
fn pages_that_are_odd_but_readable_are_items() {
    let attacked = attacked();
    let doc = document(&attacked.feed);
    for kind in ["entities", "charset", "tracked", "ftp-audio"] {
        item_of(&doc, &attacked.base_url, kind);
    }
    let huge = item_of(&doc, &attacked.base_url, "huge-title");
    let title = child(huge, "title").unwrap().chars().count();
    assert!((250..=255).contains(&title), "cut to 255 characters (then trimmed): {title}");
    let unicode = item_of(&doc, &attacked.base_url, "unicode-audio");
    assert_eq!(enclosure_url(unicode), format!("{}/hostile-audio/%C3%A9pisode%20%C3%BCn%C3%AF.mp3", attacked.base_url));
}

#[test]
fn off_scope_redirects_are_not_followed() {
    let stats = &attacked().stats;
    assert_eq!(stats.off_scope, 0, "a request reached the host outside the scope");
    assert_eq!(stats.hostile.get("redirect-away"), Some(&1), "an episode page");
    assert_eq!(stats.hostile.get("listing-away"), Some(&1), "a listing page");
}

#[test]
fn one_episode_is_one_item_whatever_its_links() {
    let attacked = attacked();
    // Five links that differ only in tracking parameters: one request.
    assert_eq!(attacked.stats.hostile.get("tracked"), Some(&1), "{:?}", attacked.stats.hostile);
    // 500 pages with one audio file: one item, 499 duplicates.
    let twins = podfeed_demo::hostile::QUERY_TWINS;
    assert_eq!(attacked.stats.hostile.get("twin"), Some(&u64::from(twins)));
    let doc = document(&attacked.feed);
    let with_twin_audio = items(&doc).into_iter().filter(|i| enclosure_url(*i).ends_with("/twin.mp3")).count();
    assert_eq!(with_twin_audio, 1);
    assert_eq!(attacked.summary.duplicates, u64::from(twins) - 1);
    // A later run counts none of them as new.
    assert_eq!((attacked.reextracted.new, attacked.reextracted.duplicates), (0, u64::from(twins) - 1));
    // `list --duplicates` names each, and the one kept.
    let listed = attacked.listed_duplicates.as_array().expect("an array");
    assert_eq!(listed.len() as u64, u64::from(twins) - 1);
    let kept: HashSet<&str> = listed.iter().filter_map(|d| d["of"].as_str()).collect();
    assert_eq!(kept.len(), 1, "all are duplicates of one episode: {kept:?}");
    assert!(listed.iter().all(|d| d["page_url"].as_str().is_some_and(|u| u.contains("/hostile/twin?x="))));
}

/// `podfeed check` on the 200,000-deep page alone: it used to run for minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_on_a_page_200000_levels_deep_fails_at_once() {
    let fx = hostile_site().await;
    let url = format!("{}/hostile/deep", fx.site.base_url());
    let out = podfeed_async(fx.dir.path(), &["check", "--recipe", "demo.toml", &url]).await;
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("page too deeply nested (over 512 levels"), "{text}");
}

/// The values dropped for being out of range are named, on the page where they were found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_out_of_range_are_named_in_warnings() {
    let fx = hostile_site().await;
    let base = fx.site.base_url();
    let out =
        podfeed_async(fx.dir.path(), &["check", "--recipe", "demo.toml", &format!("{base}/hostile/overflow")]).await;
    let text = stdout(&out);
    for warning in [
        "warning: the duration \"1000000000000000000:00:00\" is too large a number: dropped",
        "warning: the episode \"99999999999999999999\" is too large a number: dropped",
        "warning: the season \"Season 4294967296\" is too large a number: dropped",
    ] {
        assert!(text.contains(warning), "{warning} not in:\n{text}");
    }
    let out =
        podfeed_async(fx.dir.path(), &["check", "--recipe", "demo.toml", &format!("{base}/hostile/future")]).await;
    assert!(
        stdout(&out).contains("the published \"9999-12-31\" is more than 2 days in the future: dropped"),
        "{}",
        stdout(&out)
    );
    // A build says the same on stderr, naming the page.
    let out =
        podfeed_async(fx.dir.path(), &["refresh", "--recipe", "demo.toml", &format!("{base}/hostile/future")]).await;
    let expected = format!("{base}/hostile/future: published \"9999-12-31\" dropped: more than 2 days in the future");
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
}

/// An episode that got into the cache without passing the hygiene gate (a bug, or a cache an
/// older podfeed wrote) is caught when the feed is read back: nothing is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_that_breaks_an_invariant_is_not_published() {
    let fx = Fixture::new(20, false).await;
    fx.build(Mode::Incremental).await;
    let (feed, page) = (fx.feed_bytes(), std::fs::read(fx.feed_path().with_file_name("index.html")).unwrap());
    let store = fx.open_store();
    let mut episode: Episode = store.episode(&fx.site.episode_url(20)).unwrap().unwrap();
    episode.guid = "bad\u{1}guid".into();
    // Not the same episode as 20 under a new address (same title and day): one of its own.
    episode.title = "Another episode that day".into();
    episode.page_url = format!("{}/not-a-cached-page", fx.site.base_url());
    episode.enclosure = Enclosure { url: format!("{}/other.mp3", fx.site.base_url()), ..episode.enclosure };
    store.put_episode(&episode).unwrap();
    drop(store);

    let error = fx.try_build(Mode::Reextract).await.expect_err("the feed must not be published");
    assert!(matches!(error, PipelineError::InvalidFeed(_)), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("breaks \"only characters XML 1.0 allows\": U+0001"), "{message}");
    assert!(message.contains("item 1"), "names the item: {message}");
    assert_eq!(fx.feed_bytes(), feed, "the published feed is unchanged");
    assert_eq!(std::fs::read(fx.feed_path().with_file_name("index.html")).unwrap(), page, "and so is its page");
}

/// The whole hostile site as cron runs it: the binary ends, within its timeouts, publishing the
/// feed (exit 0), each bad page a warning, and nothing panics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nightly_run_against_the_hostile_site_publishes_without_a_panic() {
    let fx = hostile_site().await;
    let out = podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--quiet"]).await;
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    assert!(!log.contains('\u{1b}'), "no terminal colour codes in what cron mails: {log:?}");
    for page in ["deep", "silent", "gzip-bomb", "redirect-away"] {
        assert!(log.contains(&format!("/hostile/{page}: ")), "no warning for {page}:\n{log}");
    }
    document(&std::fs::read(fx.dir.path().join("public/feed.xml")).expect("a published feed"));
}
