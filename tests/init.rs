//! `podfeed init` against the demo site's themes: from the archive, the home page or one
//! episode page, a recipe whose build is field-exact on the episodes, with no hand edits.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{podfeed_async, stderr, stdout, Fixture};
use podfeed::model::Episode;
use podfeed_demo::pages::teaser_of;
use podfeed_demo::show::ShowEpisode;
use podfeed_demo::{DemoConfig, Theme};

const EPISODES: u32 = 200;

async fn site(theme: Theme) -> Fixture {
    Fixture::start(DemoConfig { episodes: EPISODES, latency: Duration::ZERO, theme, ..Default::default() }).await
}

/// Where a recipe reads the episodes' fields: their pages, or the listing's items (whose
/// teaser and player say less, and say it otherwise).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    Pages,
    Items,
}

/// What the site says of an episode as its description, as the feed's HTML.
fn description(show: &ShowEpisode, source: Source) -> String {
    let text = match source {
        Source::Pages => {
            format!("Episode {} of The Long Signal: {}. {}", show.number, show.title, teaser_of(show.number))
        }
        Source::Items => teaser_of(show.number),
    };
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The episodes whose title, link, guid, date, audio, duration and description are all what
/// the site says, of those with audio; and what was wrong with the first that is not.
fn field_exact(fx: &Fixture, theme: Theme, source: Source) -> (usize, usize, Option<String>) {
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
            // The classic pages write some durations in whole minutes; JSON says the seconds.
            let exact_duration = matches!(theme, Theme::Modern | Theme::Radio) || source == Source::Items;
            let duration = if exact_duration { show.duration_secs } else { show.expected_duration() };
            let want = (
                url.clone(),
                url.clone(),
                show.title.clone(),
                Some(show.published),
                format!("{}{}", fx.site.base_url(), show.audio_path()),
                Some(duration),
                Some(description(show, source)),
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
/// recipe does: robots.txt and the first listing page. init itself makes at most 30 requests.
async fn init_then_build(theme: Theme, entry: &str) -> String {
    let fx = site(theme).await;
    let url = format!("{}{entry}", fx.site.base_url());
    let out = podfeed_async(fx.dir.path(), &["init", &url, "-o", "init.toml"]).await;
    assert_eq!(out.status.code(), Some(0), "{theme:?} {entry}: {}", stderr(&out));
    assert!(fx.site.stats().total() <= 30, "{theme:?} {entry}: {:?}", fx.site.stats());
    let report = stderr(&out);
    let recipe = std::fs::read_to_string(fx.dir.path().join("init.toml")).unwrap();
    // The listing theme's items carry their audio: a [listing] recipe, no episode page needed.
    let source = if theme == Theme::Listing { Source::Items } else { Source::Pages };
    // Most of a listing page's worth (a text-only post among them is no episode page).
    let sampled = report.lines().find_map(|line| line.strip_prefix("sampled        ")).unwrap_or_default();
    let count: usize = sampled.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let kind = match source {
        Source::Pages => "episode pages",
        Source::Items => "listing items",
    };
    assert!(report.contains("listing page") && sampled.contains(kind) && count >= 15, "{report}");
    assert_eq!(recipe.contains("\n[listing]\n"), source == Source::Items, "{recipe}");
    assert!(report.contains("check of ") && report.contains("  audio http://"), "a check of one sample: {report}");
    let own_feed = format!("site's feed    {}/feed.xml has 10 items", fx.site.base_url());
    assert!(report.contains(&own_feed), "the site's own feed is named: {report}");
    assert!(recipe.contains("# from "), "each rule says its evidence:\n{recipe}");
    // The show as its own feed describes it.
    // A folder of the show's own: two recipes init wrote never share a feed.
    for line in [
        "author = \"Long Signal Radio\"",
        "categories = [\"Business\"]",
        "/art/cover.png\"",
        "path = \"public/the-long-signal/feed.xml\"",
    ] {
        assert!(recipe.contains(line), "{line}:\n{recipe}");
    }

    fx.site.reset_stats();
    let build = ["build", "--recipe", "init.toml", "--cache", "cache", "--json", "--quiet"];
    let out = podfeed_async(fx.dir.path(), &build).await;
    assert_eq!(out.status.code(), Some(0), "{theme:?} {entry}: {}\n{recipe}", stderr(&out));
    let (exact, of, wrong) = field_exact(&fx, theme, source);
    assert!(exact * 100 >= of * 99, "{theme:?} {entry}: {exact} of {of} field-exact; {wrong:?}\n{recipe}");
    if source == Source::Items {
        assert_eq!(fx.site.stats().episode, 0, "a [listing] recipe fetches no episode page:\n{recipe}");
    }

    let warm = podfeed_async(fx.dir.path(), &build).await;
    let summary: serde_json::Value = serde_json::from_str(&stdout(&warm)).unwrap();
    assert!(summary["requests"].as_u64().unwrap() <= 2, "{theme:?} {entry}: a warm night: {summary}");
    recipe
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

/// The radio theme's episode pages are mostly navigation, scripts and attribute JSON around the
/// episode: the benchmark's pages (`podfeed bench --theme radio`) give a whole feed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn radio_theme_from_the_archive_and_an_episode_page() {
    for entry in ["/archive", "/episodes/150"] {
        let recipe = init_then_build(Theme::Radio, entry).await;
        assert!(recipe.contains("json = \"/audioUrl\""), "the player's JSON:\n{recipe}");
    }
}

/// The listing theme's pages describe each episode, with dates in New York time ("9:00 AM
/// ET"): a `[listing]` recipe with that time zone. Its numbered pages (`?page=N`, no link from
/// one to the next) are read by number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_theme_from_the_archive_the_home_page_an_episode_page_and_numbered_pages() {
    for entry in ["/list", "/", "/episodes/150"] {
        let recipe = init_then_build(Theme::Listing, entry).await;
        assert!(recipe.contains("timezone = \"America/New_York\""), "{recipe}");
    }
    let recipe = init_then_build(Theme::Listing, "/numbered?page=1").await;
    assert!(recipe.contains("/numbered?page={n}\""), "{recipe}");
}

/// The modern theme's recipe reads JSON-LD, never the made-up class names of its body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_data_comes_before_markup() {
    let fx = site(Theme::Modern).await;
    let out = podfeed_async(fx.dir.path(), &["init", &format!("{}/", fx.site.base_url())]).await;
    let recipe = stdout(&out);
    let table = recipe.split("[episode]").nth(1).unwrap_or_default();
    for field in ["title", "published", "audio", "duration", "description"] {
        // The field's rules: one line, or a list (a fallback after the first) up to its `]`.
        let from = table.find(&format!("\n{field} = ")).map(|at| &table[at + 1..]).unwrap_or_default();
        let rules = if from.contains(" = [\n") && from.find(" = [\n") < from.find('\n') {
            &from[..from.find("\n]").unwrap_or(from.len())]
        } else {
            from.lines().next().unwrap_or_default()
        };
        let first = rules.lines().find(|l| l.contains("css = ")).unwrap_or_default();
        assert!(first.contains("application/ld+json"), "{field}: {rules}\n{recipe}");
        assert!(!rules.contains("div."), "no made-up class name: {field}: {rules}");
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

    // With episodes, and --force, the file is the recipe.
    fx.site.set_latest(40);
    let out = podfeed_async(fx.dir.path(), &["init", &fx.site.base_url(), "-o", "mine.toml", "--force"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let recipe = std::fs::read_to_string(fx.dir.path().join("mine.toml")).unwrap();
    assert!(recipe.contains("[episode]"), "{recipe}");
}

/// A small site of the kind the demo is not, built to mislead init: its home page plays the
/// newest episode and links the five newest (each with tag links beside it under the same
/// parent; with `redirects`, through a redirect to the page's real address); episode pages live
/// under their year (`/2023/story-7/`) and each has a box of three related episodes with
/// players; the sitemap lists all forty, or (without `redirects`) lags three behind. With
/// `audio` false no page has audio (a blog). Counts every request it answers.
async fn small_site(audio: bool, redirects: bool) -> (String, Arc<AtomicU64>) {
    use axum::extract::{Path, State};
    use axum::response::{Html, IntoResponse, Redirect};
    use axum::routing::get;

    #[derive(Clone)]
    struct Site {
        audio: bool,
        redirects: bool,
        base: String,
        requests: Arc<AtomicU64>,
    }
    fn year(n: u32) -> u32 {
        if n > 20 {
            2024
        } else {
            2023
        }
    }
    async fn home(State(site): State<Site>) -> Html<String> {
        let player =
            if site.audio { r#"<div class="hero"><audio src="/audio/40.mp3" controls></audio></div>"# } else { "" };
        let items: String = (36..=40)
            .rev()
            .map(|n| {
                let slash = if site.redirects { "" } else { "/" };
                format!(
                    r#"<li class="ep"><a href="/{}/story-{n}{slash}">Story number {n} of the show</a>
                    <a href="/tag/economy">economy</a> <a href="/tag/n{n}">more</a></li>"#,
                    year(n)
                )
            })
            .collect();
        Html(format!(
            r#"<html><head><title>Stories</title></head><body>{player}<ul class="recent">{items}</ul></body></html>"#
        ))
    }
    async fn episode(State(site): State<Site>, Path((y, slug)): Path<(u32, String)>) -> axum::response::Response {
        let n: u32 = slug.trim_start_matches("story-").parse().unwrap_or(0);
        if y != year(n) || !(1..=40).contains(&n) {
            return axum::http::StatusCode::NOT_FOUND.into_response();
        }
        let audio =
            |m: u32| if site.audio { format!(r#"<audio src="/audio/{m}.mp3"></audio>"#) } else { String::new() };
        let og_audio =
            if site.audio { format!(r#"<meta property="og:audio" content="/audio/{n}.mp3">"#) } else { String::new() };
        let related: String = (n.saturating_sub(3).max(1)..n)
            .map(|m| {
                format!(
                    r#"<div class="rel"><a href="/{}/story-{m}/">Story number {m} of the show</a>{}</div>"#,
                    year(m),
                    audio(m)
                )
            })
            .collect();
        Html(format!(
            r#"<html><head><meta property="og:title" content="Story number {n}">{og_audio}
            <meta property="article:published_time" content="{}-02-{:02}T10:00:00Z"></head>
            <body><h1>Story number {n}</h1>{}<p>Notes.</p><aside class="more">{related}</aside></body></html>"#,
            year(n),
            n % 28 + 1,
            audio(n)
        ))
        .into_response()
    }
    async fn sitemap(State(site): State<Site>) -> String {
        let listed = if site.redirects { 40 } else { 37 };
        let urls: String =
            (1..=listed).map(|n| format!("<url><loc>{}/{}/story-{n}/</loc></url>", site.base, year(n))).collect();
        format!(
            r#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{}/about</loc></url>{urls}</urlset>"#,
            site.base
        )
    }
    async fn count(
        State(site): State<Site>,
        request: axum::extract::Request,
        next: axum::middleware::Next,
    ) -> axum::response::Response {
        site.requests.fetch_add(1, Ordering::SeqCst);
        next.run(request).await
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let site = Site { audio, redirects, base: base.clone(), requests: Arc::new(AtomicU64::new(0)) };
    let requests = site.requests.clone();
    let app = axum::Router::new()
        .route("/", get(home))
        // Links without the trailing slash are redirected, as WordPress does.
        .route(
            "/{year}/{slug}",
            get(|Path((y, slug)): Path<(u32, String)>| async move { Redirect::permanent(&format!("/{y}/{slug}/")) }),
        )
        .route("/{year}/{slug}/", get(episode))
        .route("/sitemap.xml", get(sitemap))
        .route("/audio/{file}", get(|| async { ([("content-type", "audio/mpeg")], vec![0u8; 4096]) }))
        .layer(axum::middleware::from_fn_with_state(site.clone(), count))
        .with_state(site);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, requests)
}

/// The small site from its home page and from one episode page: the five linked episodes (not
/// their tags, not the related boxes), the sitemap for the rest with any year, within 30
/// requests though every link redirects; and, when the links do not redirect, the home page
/// beside a sitemap that lags. The build then has all forty, and nothing skipped or twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sitemap_reaches_what_the_home_page_does_not_link() {
    for (entry, redirects) in [("/", true), ("/2024/story-30/", true), ("/", false)] {
        let (base, requests) = small_site(true, redirects).await;
        let dir = tempfile::tempdir().unwrap();
        let out = podfeed_async(dir.path(), &["init", &format!("{base}{entry}"), "-o", "show.toml"]).await;
        let report = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{entry}: {report}");
        assert!(requests.load(Ordering::SeqCst) <= 30, "{entry}: {} requests", requests.load(Ordering::SeqCst));
        let recipe = std::fs::read_to_string(dir.path().join("show.toml")).unwrap();
        let links = "episode links  ul.recent li.ep > a:first-of-type (5 on that page)";
        assert!(report.contains(links), "{entry}: {report}");
        assert!(recipe.contains(&format!("sitemap = [\"{base}/sitemap.xml\"]")), "{entry}: {recipe}");
        let listed = if redirects { "lists 40 episode pages" } else { "lists 37 episode pages" };
        assert!(report.contains(listed), "{entry}: {report}");
        assert_eq!(recipe.contains("\nstart = "), !redirects, "the home page too, unless its links redirect: {recipe}");
        assert!(!recipe.contains("[listing]"), "a related box is no listing: {recipe}");
        let out = podfeed_async(dir.path(), &["build", "--recipe", "show.toml", "--json", "--quiet"]).await;
        assert_eq!(out.status.code(), Some(0), "{}\n{recipe}", stderr(&out));
        let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(summary["items"], 40, "{entry}: every story, of both years: {summary}\n{recipe}");
        assert_eq!(summary["problems"], serde_json::json!([]), "{entry}: no tag page fetched: {summary}");
    }
}

/// Pages, links, a sitemap, and no audio anywhere: exit 1 with the reason, within the budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_of_pages_without_audio_exits_1() {
    let (base, requests) = small_site(false, true).await;
    let dir = tempfile::tempdir().unwrap();
    let out = podfeed_async(dir.path(), &["init", &format!("{base}/")]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no links to pages with audio"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "no recipe: {}", stdout(&out));
    assert!(requests.load(Ordering::SeqCst) <= 30);
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
    // The recipe is kept beside the output folder, not in it, where it would be served.
    let recipe = std::fs::read_to_string(dir.path().join("out.recipe.toml")).unwrap();
    assert!(recipe.contains("application/ld+json"), "{recipe}");
    assert!(stderr(&out).contains("out.recipe.toml"), "says where: {}", stderr(&out));
    let in_out: Vec<_> = std::fs::read_dir(dir.path().join("out")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(
        in_out.iter().all(|name| !name.to_string_lossy().ends_with(".toml")),
        "no recipe in the output folder: {in_out:?}"
    );
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
