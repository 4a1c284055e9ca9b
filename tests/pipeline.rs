//! The whole job against the demo site over real HTTP on 127.0.0.1, asserted field by field.

mod common;

use std::collections::HashSet;

use common::{parse_feed, Fixture};
use podfeed::pipeline::Mode;
use podfeed_demo::show::{AudioStyle, ShowEpisode};

const EPISODES: u32 = 120;

fn with_audio(site: &podfeed_demo::DemoSite) -> Vec<ShowEpisode> {
    site.episodes().into_iter().filter(ShowEpisode::has_audio).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_build_publishes_every_episode_field_by_field() {
    let fx = Fixture::new(EPISODES, false).await;
    let summary = fx.build(Mode::Incremental).await;
    let expected = with_audio(&fx.site);
    assert_eq!(summary.items as usize, expected.len());
    assert!(summary.feed_changed);

    let rss = rss::Channel::read_from(&fx.feed_bytes()[..]).expect("rss crate reads it");
    // The recipe's directory controls: a demo show stays out of the directories.
    let text = String::from_utf8(fx.feed_bytes()).unwrap();
    for tag in [
        "<itunes:block>Yes</itunes:block>",
        "<podcast:block>yes</podcast:block>",
        "<podcast:funding url=",
        "<podcast:person ",
        "<podcast:location geo=",
    ] {
        assert!(text.contains(tag), "{tag}");
    }
    let feed = parse_feed(&fx.feed_bytes());
    assert_eq!(feed.title.unwrap().content, "The Long Signal");
    assert_eq!(feed.entries.len(), expected.len());
    let base = fx.site.base_url();
    for ((want, entry), item) in expected.iter().zip(&feed.entries).zip(&rss.items) {
        let n = want.number;
        let page = format!("{base}/episodes/{n}");
        assert_eq!(entry.title.as_ref().unwrap().content, want.title, "title of {n}");
        assert_eq!(entry.id, page, "guid of {n}");
        assert_eq!(entry.links[0].href, page, "link of {n}");
        assert_eq!(entry.published, Some(want.published), "pubDate of {n}");
        let enclosure = item.enclosure.as_ref().unwrap();
        let audio = match want.audio {
            AudioStyle::PlayerJson => format!("{base}{}", want.audio_path()),
            _ => format!("{base}/media/{n}.mp3"),
        };
        assert_eq!(enclosure.url, audio, "enclosure of {n} stays the URL the page gave");
        assert_eq!(enclosure.length, want.audio_bytes().to_string(), "enclosure length of {n}");
        assert_eq!(enclosure.mime_type, "audio/mpeg");
        let itunes = item.itunes_ext.as_ref().unwrap();
        let d = want.expected_duration();
        assert_eq!(
            itunes.duration.as_deref(),
            Some(format!("{}:{:02}:{:02}", d / 3600, d / 60 % 60, d % 60).as_str()),
            "duration of {n} ({})",
            want.duration_text()
        );
        assert_eq!(itunes.image.as_deref(), Some(format!("{base}/images/{n}.jpg").as_str()));
        assert_eq!(itunes.episode, Some(n.to_string()), "episode number of {n}");
        let content = item.content.as_deref().unwrap();
        assert!(content.contains(&format!("href=\"{base}/episodes/")), "relative links made absolute in {n}");
        for banned in ["<script", "onclick", "onmouseover", "notesLoaded"] {
            assert!(!content.contains(banned), "{banned} left in content of {n}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_is_newest_first_with_unique_guids() {
    let fx = Fixture::new(EPISODES, false).await;
    fx.build(Mode::Incremental).await;
    let feed = parse_feed(&fx.feed_bytes());
    let dates: Vec<_> = feed.entries.iter().map(|e| e.published.unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] > w[1]), "items newest first");
    let guids: HashSet<_> = feed.entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(guids.len(), feed.entries.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_episode_under_two_urls_appears_once() {
    let fx = Fixture::new(EPISODES, false).await;
    fx.build(Mode::Incremental).await;
    // Listing page 1 links the newest episode twice: /episodes/120 and /episodes/120?from=featured.
    assert_eq!(fx.site.stats().episode, u64::from(EPISODES) + 1);
    let feed = parse_feed(&fx.feed_bytes());
    let newest = format!("{}/episodes/{EPISODES}", fx.site.base_url());
    assert_eq!(feed.entries.iter().filter(|e| e.id == newest).count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_without_audio_are_skipped_not_published() {
    let fx = Fixture::new(EPISODES, false).await;
    let summary = fx.build(Mode::Incremental).await;
    let text_posts: Vec<u32> = fx.site.episodes().iter().filter(|e| !e.has_audio()).map(|e| e.number).collect();
    assert_eq!(text_posts, [97]);
    assert_eq!(summary.skipped, 1);
    assert!(summary.problems.iter().any(|p| p.to_string().contains("/episodes/97: skipped")), "{:?}", summary.problems);
    let feed = String::from_utf8(fx.feed_bytes()).unwrap();
    assert!(!feed.contains("/episodes/97<"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latin1_page_and_special_characters_survive() {
    let fx = Fixture::new(EPISODES, false).await;
    fx.build(Mode::Incremental).await;
    let feed = parse_feed(&fx.feed_bytes());
    let title = |n: u32| {
        let id = format!("{}/episodes/{n}", fx.site.base_url());
        feed.entries.iter().find(|e| e.id == id).unwrap().title.clone().unwrap().content
    };
    assert_eq!(title(11), "Épisode spécial : café crème à Zürich nº 11");
    assert_eq!(title(57), "Café, Straße & naïve résumés — Ünïcødé night ☕ 57");
    assert_eq!(title(13), "Q&A: <Tags>, \"Quotes\" & 'Apostrophes' 13");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enclosures_are_probed_without_downloading_audio() {
    let fx = Fixture::new(EPISODES, false).await;
    fx.build(Mode::Incremental).await;
    let stats = fx.site.stats();
    let with_audio = with_audio(&fx.site);
    let head_refused = with_audio.iter().filter(|e| e.number % 10 == 7).count() as u64;
    assert_eq!(stats.audio_full, 0, "no audio file is downloaded");
    assert_eq!(stats.audio_head, with_audio.len() as u64);
    assert_eq!(stats.audio_range, head_refused, "one ranged GET where HEAD is refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_rebuild_fetches_no_episode_page_and_leaves_the_feed_untouched() {
    let fx = Fixture::new(EPISODES, false).await;
    fx.build(Mode::Incremental).await;
    let before = fx.feed_bytes();
    // A feed written again, even within the same clock tick, is a new file (written beside and
    // renamed over) or a new modification time: compare both, no need to let time pass.
    let file = |path| {
        let meta = std::fs::metadata(path).unwrap();
        (std::os::unix::fs::MetadataExt::ino(&meta), meta.modified().unwrap())
    };
    let written = file(fx.feed_path());
    fx.site.reset_stats();

    let summary = fx.build(Mode::Incremental).await;
    let stats = fx.site.stats();
    assert_eq!(
        (stats.listing, stats.other, stats.total()),
        (1, 1, 2),
        "robots.txt and a conditional GET of listing page 1: {stats:?}"
    );
    assert_eq!(stats.not_modified, 1, "listing page 1 answered 304");
    assert_eq!(summary.requests, stats.total());
    assert!(!summary.feed_changed);
    assert_eq!(fx.feed_bytes(), before);
    assert_eq!(file(fx.feed_path()), written, "file not rewritten");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_episodes_are_fetched_and_nothing_else() {
    let fx = Fixture::new(EPISODES, false).await;
    fx.build(Mode::Incremental).await;
    fx.site.set_latest(EPISODES + 3);
    fx.site.reset_stats();

    let summary = fx.build(Mode::Incremental).await;
    let stats = fx.site.stats();
    assert_eq!(summary.new, 3);
    // The three new pages plus the newest one again under its featured URL.
    assert_eq!(stats.episode, 4);
    assert_eq!(stats.listing, 2, "page 1 has news, page 2 has none: stop");
    let feed = parse_feed(&fx.feed_bytes());
    assert_eq!(feed.entries.len(), with_audio(&fx.site).len());
    assert_eq!(feed.entries[0].id, fx.site.episode_url(EPISODES + 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_changes_exactly_that_episode_with_one_page_request() {
    let fx = Fixture::new(EPISODES, false).await;
    fx.build(Mode::Incremental).await;
    let before = parse_feed(&fx.feed_bytes());
    fx.site.retitle(42, "Episode 42, with the typo fixed");
    fx.site.reset_stats();

    let summary = fx.refresh(&[fx.site.episode_url(42)]).await;
    let stats = fx.site.stats();
    assert_eq!((stats.episode, stats.listing), (1, 0));
    assert_eq!(summary.updated, 1);
    assert!(summary.feed_changed);
    let after = parse_feed(&fx.feed_bytes());
    assert_eq!(after.entries.len(), before.entries.len());
    let changed: Vec<_> = before
        .entries
        .iter()
        .zip(&after.entries)
        .filter(|(b, a)| b.title != a.title || b.id != a.id)
        .map(|(_, a)| (a.id.clone(), a.title.clone().unwrap().content))
        .collect();
    assert_eq!(changed, [(fx.site.episode_url(42), "Episode 42, with the typo fixed".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reextract_rebuilds_from_cache_with_no_requests() {
    let fx = Fixture::new(EPISODES, false).await;
    fx.build(Mode::Incremental).await;
    fx.write_recipe(&fx.recipe_text.replace(
        r#"title = { css = "h1.episode-title" }"#,
        r#"title = { css = "h1.episode-title", regex = '^The (.*)$' }"#,
    ));
    fx.site.reset_stats();

    let summary = fx.build(Mode::Reextract).await;
    assert_eq!(fx.site.stats().total(), 0);
    assert_eq!(summary.requests, 0);
    let feed = parse_feed(&fx.feed_bytes());
    let first = &fx.site.episodes()[0];
    assert_eq!(feed.entries[0].title.clone().unwrap().content, first.title.trim_start_matches("The "));
    // Titles the new regex does not match leave those pages without a title: skipped.
    assert_eq!(summary.items + summary.skipped, u64::from(EPISODES));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_rebuild_revalidates_every_page_conditionally() {
    let fx = Fixture::new(EPISODES, false).await;
    fx.build(Mode::Incremental).await;
    let before = fx.feed_bytes();
    fx.site.reset_stats();
    let summary = fx.build(Mode::Full).await;
    let stats = fx.site.stats();
    assert_eq!(stats.listing, 6, "every listing page");
    assert_eq!(stats.episode, u64::from(EPISODES) + 1, "every episode page");
    assert_eq!(stats.not_modified, u64::from(EPISODES) + 1 + 6, "all of them conditionally, all answered 304");
    assert_eq!(summary.new + summary.updated, 0);
    assert_eq!(fx.feed_bytes(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_mode_still_publishes_every_reachable_episode() {
    let fx = Fixture::new(EPISODES, true).await;
    let summary = fx.build(Mode::Incremental).await;
    let expected = with_audio(&fx.site);
    let feed = parse_feed(&fx.feed_bytes());
    assert_eq!(feed.entries.len(), expected.len());
    let ids: HashSet<_> = feed.entries.iter().map(|e| e.id.clone()).collect();
    for episode in &expected {
        assert!(ids.contains(&fx.site.episode_url(episode.number)), "episode {} missing", episode.number);
    }
    // 503s, 429s with Retry-After and slow pages all come through; pages gone bad are reported
    // one by one, and nothing robots.txt disallows or outside the scope is asked for.
    let reported = |text: &str| summary.problems.iter().any(|p| p.to_string().contains(text));
    for problem in [
        "/episodes/0: HTTP 404",
        "/bad/huge: page larger than 5242880 bytes",
        "/bad/pdf: not an HTML page (Content-Type: application/pdf)",
        "/bad/loop: more than 10 redirects",
        "/bad/empty: skipped: no title found",
        "/bad/binary: skipped: no audio URL found",
        "/drafts/1: skipped: disallowed by robots.txt",
    ] {
        assert!(reported(problem), "{problem} not in {:#?}", summary.problems);
    }
    assert_eq!((summary.failed, summary.skipped), (4, 4), "{:#?}", summary.problems);
    assert_eq!(fx.site.stats().disallowed, 0, "robots.txt is obeyed");
    let waited = fx.site.stats().shortest_retry_wait_ms.expect("some page was answered 429 and retried");
    assert!(waited >= 1000, "Retry-After: 1 was honored; the quickest retry came after {waited} ms");
    assert!(!reported("elsewhere.example"), "out-of-scope links are not fetched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_episodes_are_rechecked_conditionally_every_run() {
    let fx = Fixture::new(EPISODES, false).await;
    // A window wide enough to hold the whole demo archive.
    fx.write_recipe(&fx.recipe_text.replace("recheck_days = 0", "recheck_days = 100000"));
    fx.build(Mode::Incremental).await;
    let before = fx.feed_bytes();
    fx.site.reset_stats();

    let summary = fx.build(Mode::Incremental).await;
    let stats = fx.site.stats();
    let episodes = with_audio(&fx.site).len() as u64;
    // Each page once, conditionally; each enclosure probed again, as its file may have been
    // replaced (a HEAD through the tracking redirect, a one-byte range where HEAD is refused).
    assert_eq!((stats.listing, stats.episode, stats.not_modified), (1, episodes, episodes + 1), "{stats:?}");
    assert_eq!((stats.audio_head, stats.redirects, stats.audio_full), (episodes, episodes, 0), "{stats:?}");
    assert_eq!(summary.unchanged, episodes);
    assert_eq!(fx.feed_bytes(), before, "304s change nothing");

    fx.site.retitle(7, "Fixed a week later");
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!(summary.updated, 1);
    let feed = parse_feed(&fx.feed_bytes());
    assert!(feed.entries.iter().any(|e| e.title.as_ref().unwrap().content == "Fixed a week later"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_and_page_follow_the_feed_even_when_it_was_edited_by_hand() {
    let fx = Fixture::new(EPISODES, false).await;
    fx.build(Mode::Incremental).await;
    let gz_path = fx.feed_path().with_file_name("feed.xml.gz");
    let built = fx.feed_bytes();
    assert_eq!(gunzip(&gz_path), built, "compressed while the feed was written");
    let page = std::fs::read_to_string(fx.feed_path().with_file_name("index.html")).unwrap();
    assert_eq!(page.matches("<audio").count(), with_audio(&fx.site).len(), "one player per episode");

    // Nothing new on the site, but the published files were damaged: both are put right.
    std::fs::write(fx.feed_path(), b"<rss>edited</rss>").unwrap();
    std::fs::write(&gz_path, b"not gzip").unwrap();
    let summary = fx.build(Mode::Incremental).await;
    assert!(summary.feed_changed);
    assert_eq!(fx.feed_bytes(), built);
    assert_eq!(gunzip(&gz_path), built);
}

/// A quiet night leaves the published files as they are and says what they carry; a file
/// missing beside the feed is written again, and so is a feed that is not the one written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_night_keeps_the_published_files_and_puts_back_a_missing_one() {
    let fx = Fixture::new(EPISODES, false).await;
    let first = fx.build(Mode::Incremental).await;
    let built = fx.feed_bytes();
    let (gz_path, page_path) =
        (fx.feed_path().with_file_name("feed.xml.gz"), fx.feed_path().with_file_name("index.html"));
    let page = std::fs::read(&page_path).unwrap();

    let quiet = fx.build(Mode::Incremental).await;
    assert_eq!((quiet.items, quiet.feed_changed), (first.items, false), "{quiet:?}");
    assert_eq!(fx.feed_bytes(), built);

    std::fs::remove_file(&page_path).unwrap();
    std::fs::remove_file(&gz_path).unwrap();
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!(summary.items, first.items);
    assert_eq!(std::fs::read(&page_path).unwrap(), page, "the page is written again");
    assert_eq!(gunzip(&gz_path), built, "the gzip is written again");

    // Another feed of the same length in its place: not the one written.
    let mut other = built.clone();
    let at = other.windows(7).position(|w| w == b"<title>").unwrap() + 7;
    other[at] = if other[at] == b'X' { b'Y' } else { b'X' };
    std::fs::write(fx.feed_path(), &other).unwrap();
    let summary = fx.build(Mode::Incremental).await;
    assert!(summary.feed_changed, "{summary:?}");
    assert_eq!(fx.feed_bytes(), built);

    // ... nor with its modification time set to the written one's, as `cp -p` would.
    let written = std::fs::metadata(fx.feed_path()).unwrap().modified().unwrap();
    std::fs::write(fx.feed_path(), &other).unwrap();
    std::fs::File::options().write(true).open(fx.feed_path()).unwrap().set_modified(written).unwrap();
    let summary = fx.build(Mode::Incremental).await;
    assert!(summary.feed_changed, "{summary:?}");
    assert_eq!(fx.feed_bytes(), built);
}

fn gunzip(path: &std::path::Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    let gz = std::fs::read(path).unwrap();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut bytes).expect("a gzip file");
    bytes
}

/// Two `start` pages are two archives: once both were read whole, an incremental run still
/// reads the second one's first page when the first one's has nothing new, and finds its news.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn news_in_a_second_start_are_found() {
    let fx = Fixture::new(30, false).await;
    let config = podfeed_demo::DemoConfig { episodes: 30, latency: std::time::Duration::ZERO, ..Default::default() };
    let second = podfeed_demo::DemoSite::start(config, 0).await.unwrap();
    let (first_start, second_start) =
        (format!("{}/archive\"", fx.site.base_url()), format!("{}/archive\"", second.base_url()));
    assert!(fx.recipe_text.contains(&first_start));
    fx.write_recipe(&fx.recipe_text.replace(&first_start, &format!("{first_start}, \"{second_start}")));
    fx.build(Mode::Incremental).await;
    assert_eq!(fx.build(Mode::Incremental).await.new, 0, "the whole archive is known");
    second.set_latest(33);
    second.reset_stats();

    let summary = fx.build(Mode::Incremental).await;
    assert_eq!(summary.new, 3, "the second archive's three new episodes");
    let ids: HashSet<String> = parse_feed(&fx.feed_bytes()).entries.into_iter().map(|e| e.id).collect();
    assert!((31..=33).all(|n| ids.contains(&second.episode_url(n))));
    assert_eq!(second.stats().listing, 2, "page 1 has news, page 2 has none: that archive stops there");
}

/// An archive read oldest first (`order = "oldest-first"`) has its news on its last page: an
/// incremental run reads it whole (conditionally) and finds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn news_on_the_last_page_of_an_oldest_first_archive_are_found() {
    let fx = Fixture::new(45, false).await;
    let start = format!("{}/archive\"]", fx.site.base_url());
    let oldest_first = format!("{}/oldest\"]\norder = \"oldest-first\"", fx.site.base_url());
    fx.write_recipe(&fx.recipe_text.replace(&start, &oldest_first));
    let first = fx.build(Mode::Incremental).await;
    assert_eq!(first.new as usize, fx.site.episodes().iter().filter(|e| e.has_audio()).count());
    assert_eq!(fx.build(Mode::Incremental).await.new, 0);
    fx.site.set_latest(48);
    fx.site.reset_stats();

    let summary = fx.build(Mode::Incremental).await;
    assert_eq!(summary.new, 3, "episodes 46 to 48, on the last page");
    let ids: HashSet<String> = parse_feed(&fx.feed_bytes()).entries.into_iter().map(|e| e.id).collect();
    assert!((46..=48).all(|n| ids.contains(&fx.site.episode_url(n))));
    let stats = fx.site.stats();
    assert_eq!(stats.listing, 3, "every page of the archive, 1 to 3");
    assert!(stats.not_modified >= 2, "pages 1 and 2 did not change: {stats:?}");
}

/// A power cut can keep a page's header (sled writes it on its own schedule) and lose its body
/// (synced only at the end of a run). Such a page is fetched whole, not asked for with its
/// validators (whose 304 would leave nothing to read, every night), and stored again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_whose_cached_copy_was_lost_are_fetched_whole_again() {
    let fx = Fixture::new(60, false).await;
    fx.build(Mode::Incremental).await;
    // Each pack: its first half zeroed (bodies the right length but unreadable), the rest cut.
    let packs: Vec<std::path::PathBuf> = std::fs::read_dir(fx.cache_path().join("packs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| std::fs::metadata(path).unwrap().len() > 0)
        .collect();
    assert!(!packs.is_empty());
    for pack in &packs {
        let len = std::fs::metadata(pack).unwrap().len();
        std::fs::write(pack, vec![0u8; (len / 2) as usize]).unwrap();
    }
    fx.site.reset_stats();

    let full = ["build", "--recipe", "demo.toml", "--cache", "cache", "--full", "--json"];
    let out = common::podfeed_async(fx.dir.path(), &full).await;
    let (said, summary) = (common::stderr(&out), common::stdout(&out));
    assert_eq!(out.status.code(), Some(0), "{said}");
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!((summary["failed"].as_u64(), summary["listing_failed"].as_u64()), (Some(0), Some(0)), "{summary}");
    assert_eq!(said.matches("is lost").count(), 1, "one warning for all the pages lost: {said}");
    let expected = with_audio(&fx.site).len();
    assert_eq!(parse_feed(&fx.feed_bytes()).entries.len(), expected);
    let pages = fx.site.stats().episode;
    assert!(pages > 60, "every page fetched whole, some after a 304: {pages}");

    // Stored again: the next full run reads them from the cache after a 304 each.
    fx.site.reset_stats();
    let summary = fx.build(Mode::Full).await;
    assert_eq!(summary.failed, 0, "{summary:?}");
    let stats = fx.site.stats();
    assert_eq!(stats.not_modified, stats.episode + stats.listing, "{stats:?}");
    assert_eq!(parse_feed(&fx.feed_bytes()).entries.len(), expected);
}
