//! `podfeed init` against the demo site's themes: from the archive, the home page or one
//! episode page, a recipe whose build is field-exact on the episodes, with no hand edits.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{podfeed_async, stderr, stdout, Fixture};
use podfeed::demo::pages::teaser_of;
use podfeed::demo::show::ShowEpisode;
use podfeed::demo::{DemoConfig, Theme};
use podfeed::model::Episode;

const EPISODES: u32 = 200;

async fn site(theme: Theme) -> Fixture {
    Fixture::start(DemoConfig { episodes: EPISODES, latency: Duration::ZERO, theme, ..Default::default() }).await
}

/// What the demo's pages say of an episode in their description, as the feed's HTML.
fn description(show: &ShowEpisode) -> String {
    let text = format!("Episode {} of The Long Signal: {}. {}", show.number, show.title, teaser_of(show.number));
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The episodes whose title, link, guid, date, audio, duration and description are all what
/// the site says, of those with audio; and what was wrong with the first that is not.
fn field_exact(fx: &Fixture, theme: Theme) -> (usize, usize, Option<String>) {
    let store = fx.open_store();
    let stored: HashMap<String, Episode> = store
        .feed_keys()
        .unwrap()
        .iter()
        .map(|k| {
            let e = store.episode(&k.guid).unwrap().unwrap();
            (e.guid.clone(), e)
        })
        .collect();
    let expected: Vec<ShowEpisode> = fx.site.episodes().into_iter().filter(ShowEpisode::has_audio).collect();
    let mut first_wrong = None;
    let exact = expected
        .iter()
        .filter(|show| {
            let url = fx.site.episode_url(show.number);
            let duration = if theme == Theme::Modern { show.duration_secs } else { show.expected_duration() };
            let want = (
                url.clone(),
                url.clone(),
                show.title.clone(),
                Some(show.published),
                format!("{}{}", fx.site.base_url(), show.audio_path()),
                Some(duration),
                Some(description(show)),
            );
            let got = stored.get(&url).map(|e| {
                (
                    e.guid.clone(),
                    e.link.clone(),
                    e.title.clone(),
                    e.published,
                    e.enclosure.url.clone(),
                    e.duration,
                    e.description.clone(),
                )
            });
            let same = got.as_ref() == Some(&want);
            if !same && first_wrong.is_none() {
                first_wrong = Some(format!("episode {}: got {got:?}, want {want:?}", show.number));
            }
            same
        })
        .count();
    (exact, expected.len(), first_wrong)
}

/// init from `entry`, then two builds with the recipe it wrote: the first field-exact on at least
/// 99 % of the episodes, the second (a warm night) asking for no more than a hand-written
/// recipe does: robots.txt and the first listing page.
async fn init_then_build(theme: Theme, entry: &str) {
    let fx = site(theme).await;
    let url = format!("{}{entry}", fx.site.base_url());
    let out = podfeed_async(fx.dir.path(), &["init", &url, "-o", "init.toml"]).await;
    assert_eq!(out.status.code(), Some(0), "{theme:?} {entry}: {}", stderr(&out));
    let report = stderr(&out);
    assert!(report.contains("listing page") && report.contains("sampled        20 episode pages"), "{report}");
    assert!(report.contains("check of ") && report.contains("  audio http://"), "a check of one sample: {report}");
    let own_feed = format!("site's feed    {}/feed.xml has 10 items", fx.site.base_url());
    assert!(report.contains(&own_feed), "the site's own feed is named: {report}");
    let recipe = std::fs::read_to_string(fx.dir.path().join("init.toml")).unwrap();
    assert!(recipe.contains("# from "), "each rule says its evidence:\n{recipe}");

    let build = ["build", "--recipe", "init.toml", "--cache", "cache", "--json", "--quiet"];
    let out = podfeed_async(fx.dir.path(), &build).await;
    assert_eq!(out.status.code(), Some(0), "{theme:?} {entry}: {}\n{recipe}", stderr(&out));
    let (exact, of, wrong) = field_exact(&fx, theme);
    assert!(exact * 100 >= of * 99, "{theme:?} {entry}: {exact} of {of} field-exact; {wrong:?}\n{recipe}");

    let warm = podfeed_async(fx.dir.path(), &build).await;
    let summary: serde_json::Value = serde_json::from_str(&stdout(&warm)).unwrap();
    assert!(summary["requests"].as_u64().unwrap() <= 2, "{theme:?} {entry}: a warm night: {summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_theme_from_the_archive_the_home_page_and_an_episode_page() {
    for entry in ["/archive", "/", "/episodes/150"] {
        init_then_build(Theme::Classic, entry).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modern_theme_from_the_archive_the_home_page_and_an_episode_page() {
    for entry in ["/archive", "/", "/episodes/150"] {
        init_then_build(Theme::Modern, entry).await;
    }
}

/// The listing theme's pages describe each episode; init reads their episode pages (a
/// `[listing]` recipe, cheaper on a cold run, is not written yet).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_theme_from_the_archive_the_home_page_and_an_episode_page() {
    for entry in ["/list", "/", "/episodes/150"] {
        init_then_build(Theme::Listing, entry).await;
    }
}

/// The modern theme's recipe reads JSON-LD, never the made-up class names of its body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_data_comes_before_markup() {
    let fx = site(Theme::Modern).await;
    let out = podfeed_async(fx.dir.path(), &["init", &format!("{}/", fx.site.base_url())]).await;
    let recipe = stdout(&out);
    for field in ["title", "published", "audio", "duration", "description"] {
        let rules = recipe.split("[episode]").nth(1).unwrap_or_default();
        let line = rules.lines().find(|l| l.starts_with(&format!("{field} = "))).unwrap_or_default();
        assert!(line.contains("application/ld+json"), "{field}: {line}\n{recipe}");
    }
    assert!(podfeed::recipe::Recipe::parse(&recipe, std::path::Path::new("x.toml")).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_without_audio_exits_1_with_the_reason_and_existing_files_are_kept() {
    let fx = site(Theme::Classic).await;
    fx.site.set_latest(0);
    let out = podfeed_async(fx.dir.path(), &["init", &format!("{}/", fx.site.base_url())]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no links to pages with audio on the"), "{}", stderr(&out));

    std::fs::write(fx.dir.path().join("mine.toml"), "keep me").unwrap();
    let out = podfeed_async(fx.dir.path(), &["init", &fx.site.base_url(), "-o", "mine.toml"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(fx.dir.path().join("mine.toml")).unwrap(), "keep me");
}

/// `podfeed demo --init`: the whole job with the recipe init writes, no hand edits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_init_builds_with_the_recipe_init_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let args =
        ["demo", "--init", "--theme", "modern", "--episodes", "60", "--latency-ms", "0", "--out", "out", "--json"];
    let out = podfeed_async(dir.path(), &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(summary["items"], 60, "60 episodes, all with audio: {summary}");
    let recipe = std::fs::read_to_string(dir.path().join("out/recipe.toml")).unwrap();
    assert!(recipe.contains("application/ld+json"), "{recipe}");
}

/// Pages built to break a run: each is an exit 1 with its reason, or a recipe, never a panic
/// or a stall.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_pages_give_a_reason_not_a_panic() {
    let fx =
        Fixture::start(DemoConfig { episodes: 40, latency: Duration::ZERO, hostile: true, ..Default::default() }).await;
    for (page, reason) in
        [("deep", None), ("gzip-bomb", Some("page larger than")), ("endless", Some("page larger than"))]
    {
        let url = format!("{}/hostile/{page}", fx.site.base_url());
        let out = podfeed_async(fx.dir.path(), &["init", &url]).await;
        let log = stderr(&out);
        assert!(!log.contains("panicked"), "{page}: {log}");
        match reason {
            Some(reason) => {
                assert_eq!(out.status.code(), Some(1), "{page}: {log}");
                assert_eq!(log.matches(reason).count(), 1, "{page}: said once: {log}");
            }
            // Read as empty, it is no episode page: the site's archive is found from its home page.
            None => assert_eq!(out.status.code(), Some(0), "{page}: {log}"),
        }
    }
}
