//! Episodes described on listing pages (`[listing]`): read alone, and with their episode pages.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{parse_feed, Fixture};
use podfeed::model::Episode;
use podfeed::pipeline::Mode;
use podfeed_demo::pages::teaser_of;
use podfeed_demo::show::ShowEpisode;
use podfeed_demo::{DemoConfig, DEMO_LISTING_PAGES_RECIPE, DEMO_LISTING_RECIPE};

const EPISODES: u32 = 120;

async fn fixture(recipe: &str) -> Fixture {
    fixture_of(recipe, EPISODES).await
}

async fn fixture_of(recipe: &str, episodes: u32) -> Fixture {
    let fx = Fixture::start(DemoConfig { episodes, latency: Duration::ZERO, ..Default::default() }).await;
    fx.write_recipe(&fx.site.recipe_text_of(recipe));
    fx
}

/// What the demo's episode page says in its `<meta name=description>`, as the feed's HTML.
fn page_description(show: &ShowEpisode) -> String {
    let text = format!("Episode {} of The Long Signal: {}. {}", show.number, show.title, teaser_of(show.number));
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Where an episode's fields come from, in the recipe being tested.
#[derive(Clone, Copy, PartialEq)]
enum Read {
    /// `[listing]` items alone.
    Items,
    /// Items and their episode pages; the page of `failed` failed.
    ItemsAndPages { failed: Option<u32> },
}

/// Every episode with audio is stored, and each field is what the site says of it.
fn assert_field_exact(fx: &Fixture, read: Read) {
    let episodes = stored(fx);
    let with_audio: Vec<_> = fx.site.episodes().into_iter().filter(ShowEpisode::has_audio).collect();
    assert_eq!(episodes.len(), with_audio.len());
    for show in &with_audio {
        let (n, url) = (show.number, fx.site.episode_url(show.number));
        let e = episodes.get(&url).unwrap_or_else(|| panic!("episode {n} is an item"));
        let page_read = matches!(read, Read::ItemsAndPages { failed } if failed != Some(n));
        assert_eq!((e.guid.as_str(), e.link.as_str()), (url.as_str(), url.as_str()), "guid and link of {n}");
        assert_eq!(e.title, show.title, "title of {n}");
        assert_eq!(e.published, Some(show.published), "{n}: 'August 16, 2017 · 9:00 AM ET' is exact");
        assert_eq!(e.duration, Some(show.duration_secs), "{n}: P15M,31S");
        assert_eq!(e.enclosure.url, format!("{}{}", fx.site.base_url(), show.audio_path()), "audio of {n}");
        assert_eq!(e.enclosure.length, Some(fx.site.audio_bytes(n)), "size of {n}");
        assert_eq!(e.enclosure.mime_type.as_deref(), Some("audio/mpeg"), "type of {n}");
        let description = if page_read { page_description(show) } else { teaser_of(n) };
        assert_eq!(e.description.as_deref(), Some(description.as_str()), "description of {n}");
        assert_eq!(e.episode, page_read.then_some(n), "episode number of {n}: the page's");
        assert_eq!(e.content.is_some(), page_read, "show notes of {n}: the page's");
    }
}

/// Every stored episode, by guid.
fn stored(fx: &Fixture) -> HashMap<String, Episode> {
    let store = fx.open_store();
    let keys = store.feed_keys().unwrap();
    keys.iter().map(|k| (k.guid.clone(), store.episode(&k.guid).unwrap().unwrap())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_items_alone_make_the_feed_with_one_request_per_listing_page() {
    let fx = fixture(DEMO_LISTING_RECIPE).await;
    let summary = fx.build(Mode::Incremental).await;
    let stats = fx.site.stats();
    let with_audio: Vec<_> = fx.site.episodes().into_iter().filter(|e| e.has_audio()).collect();
    assert_eq!(summary.items as usize, with_audio.len(), "{summary:?}");
    assert_eq!(stats.episode, 0, "no episode page is fetched");
    assert_eq!(stats.listing as u32, EPISODES.div_ceil(20), "one request per listing page");
    assert_eq!(stats.audio_full, 0);

    assert_field_exact(&fx, Read::Items);
    let feed = parse_feed(&fx.feed_bytes());
    assert_eq!(feed.entries.len(), with_audio.len());

    // A recipe change applied to the whole archive with no request: the listing pages are cached.
    let before = fx.feed_bytes();
    fx.site.reset_stats();
    fx.write_recipe(&fx.site.recipe_text_of(DEMO_LISTING_RECIPE).replace(
        "title = { css = \"h2.title a\" }",
        "title = { css = \"h2.title a\", regex = '^(.*)$', template = \"Long Signal: $1\" }",
    ));
    let summary = fx.build(Mode::Reextract).await;
    assert_eq!((fx.site.stats().total(), summary.updated as usize), (0, with_audio.len()), "{summary:?}");
    let retitled = stored(&fx);
    assert!(retitled.values().all(|e| e.title.starts_with("Long Signal: ")));
    assert!(retitled.values().all(|e| e.enclosure.length.is_some()), "sizes kept");
    fx.write_recipe(&fx.site.recipe_text_of(DEMO_LISTING_RECIPE));
    fx.build(Mode::Reextract).await;
    assert_eq!(fx.feed_bytes().len(), before.len());

    // No episode page to refresh: said, not guessed.
    let out = common::podfeed_async(
        fx.dir.path(),
        &["refresh", "--recipe", "demo.toml", "--cache", "cache", &fx.site.episode_url(5)],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("fetches no episode page"), "{}", common::stderr(&out));

    // A quiet night: the first listing page (304), nothing else.
    fx.site.reset_stats();
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!(
        (summary.new, fx.site.stats().total()),
        (0, 2),
        "the listing page and robots.txt: {:?}",
        fx.site.stats()
    );
    // Two new episodes: page 1 has them, page 2 has nothing new and ends the crawl; only the new
    // enclosures are probed.
    fx.site.reset_stats();
    fx.site.set_latest(EPISODES + 2);
    let summary = fx.build(Mode::Incremental).await;
    let stats = fx.site.stats();
    assert_eq!((summary.new, stats.listing, stats.episode, stats.audio_head), (2, 2, 0, 2), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn episode_pages_win_field_by_field_and_a_failed_page_leaves_its_item() {
    let fx = fixture(DEMO_LISTING_PAGES_RECIPE).await;
    fx.site.fail("/episodes/107", 404);
    let summary = fx.build(Mode::Incremental).await;
    let with_audio: Vec<_> = fx.site.episodes().into_iter().filter(|e| e.has_audio()).collect();
    assert_eq!(summary.items as usize, with_audio.len(), "the 404 page's item is there too: {summary:?}");
    assert_eq!(summary.failed, 0, "a dead page under its item is a warning, not a failure: {summary:?}");
    assert!(
        summary.problems.iter().any(|p| p.to_string().contains("/episodes/107: HTTP 404 (the listing's item stands)")),
        "{:?}",
        summary.problems
    );

    // From each page: its description, episode number and notes; from its item: the audio, the
    // date and the duration. The 404 page's item alone: its teaser, no notes.
    assert_field_exact(&fx, Read::ItemsAndPages { failed: Some(107) });
    let episodes = stored(&fx);

    // A page that fails later (a --full night) keeps what it gave: its item does not replace it.
    fx.site.fail("/episodes/108", 500);
    fx.build(Mode::Full).await;
    assert_eq!(stored(&fx)[&fx.site.episode_url(108)], episodes[&fx.site.episode_url(108)]);
    fx.site.heal();
    fx.site.fail("/episodes/107", 404);

    // Every page inside the re-check window: each goes with its item, nothing is lost.
    fx.write_recipe(
        &fx.site.recipe_text_of(DEMO_LISTING_PAGES_RECIPE).replace("timezone =", "recheck_days = 36500\ntimezone ="),
    );
    fx.site.reset_stats();
    let rechecked = fx.build(Mode::Incremental).await;
    assert_eq!((rechecked.items, rechecked.skipped), (with_audio.len() as u64, 0), "{rechecked:?}");
    assert!(fx.site.stats().episode > 100, "the pages were asked again: {:?}", fx.site.stats());
    assert_eq!(stored(&fx), episodes);

    // Refreshed: the page again, with its item's audio and duration (the page has none).
    let refreshed = fx.refresh(&[fx.site.episode_url(8)]).await;
    assert_eq!(
        (refreshed.unchanged, refreshed.skipped, refreshed.items),
        (1, 0, with_audio.len() as u64),
        "{refreshed:?}"
    );

    // Re-extracted from the cache: the same episodes, the page's fields and the lone item's.
    fx.site.reset_stats();
    let summary = fx.build(Mode::Reextract).await;
    assert_eq!(
        (fx.site.stats().total(), summary.updated, summary.items),
        (0, 0, with_audio.len() as u64),
        "{summary:?}"
    );
    assert_eq!(stored(&fx), episodes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_listing_shows_what_the_crawl_finds_on_one_listing_page() {
    let fx = fixture(DEMO_LISTING_PAGES_RECIPE).await;
    let url = format!("{}/list", fx.site.base_url());
    let out = common::podfeed_async(fx.dir.path(), &["check", "--recipe", "demo.toml", "--listing", &url]).await;
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(text.contains("episodes     20 links"), "{text}");
    assert!(text.contains(&format!("follow       1 links\n             {}/list/page/2", fx.site.base_url())), "{text}");
    assert!(text.contains("items        20 items"), "{text}");
    // Whole URLs, and the values as the feed will have them.
    let newest = fx.site.episodes()[0].clone();
    assert!(
        text.contains(&format!("{}\n  title        {}", fx.site.episode_url(newest.number), newest.title)),
        "{text}"
    );
    assert!(text.contains(&format!("  audio        {}{}\n", fx.site.base_url(), newest.audio_path())), "{text}");
    assert!(text.contains(&format!("  published    {}", newest.published.to_rfc3339())), "{text}");

    // A page with nothing the recipe knows: exit 1.
    let out =
        common::podfeed_async(fx.dir.path(), &["check", "--recipe", "demo.toml", "--listing", &fx.site.base_url()])
            .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stdout(&out).contains("no episode link and no item"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbered_pages_without_links_are_read_until_one_is_empty() {
    let fx = fixture(DEMO_LISTING_RECIPE).await;
    let numbered = fx
        .site
        .recipe_text_of(DEMO_LISTING_RECIPE)
        .replace(
            &format!("start = [\"{}/list\"]", fx.site.base_url()),
            &format!("pages = \"{}/numbered?page={{n}}\"", fx.site.base_url()),
        )
        .replace("follow = \"nav.pagination a[rel=next]\"\n", "");
    assert!(numbered.contains("/numbered?page={n}"), "{numbered}");
    fx.write_recipe(&numbered);
    let summary = fx.build(Mode::Incremental).await;
    let with_audio = fx.site.episodes().into_iter().filter(|e| e.has_audio()).count();
    assert_eq!((summary.items as usize, summary.failed), (with_audio, 0), "{summary:?}");
    let pages = u64::from(EPISODES.div_ceil(20));
    let listing = fx.site.stats().listing;
    assert!(
        listing > pages && listing <= pages + 8,
        "every page, the empty one, and at most a look-ahead more: {listing}"
    );

    // A quiet night reads page 1 only.
    fx.site.reset_stats();
    fx.build(Mode::Incremental).await;
    assert_eq!(fx.site.stats().listing, 1);

    // `check --listing` says where a page stands among the numbered ones, and every field.
    let base = fx.site.base_url();
    let page = format!("{base}/numbered?page=2");
    let out = common::podfeed_async(fx.dir.path(), &["check", "--recipe", "demo.toml", "--listing", &page]).await;
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!("pages        page 2 of crawl.pages; the next is {base}/numbered?page=3")),
        "{text}"
    );
    assert!(text.contains("items        20 items"), "{text}");
    let second = &fx.site.episodes()[20];
    assert!(text.contains(&format!("  description  {}", &teaser_of(second.number)[..60])), "{text}");
    let past = format!("{base}/numbered?page=99");
    let out = common::podfeed_async(fx.dir.path(), &["check", "--recipe", "demo.toml", "--listing", &past]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stdout(&out).contains("page 99 of crawl.pages: the numbered pages end here"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sitemap_finds_the_episode_pages_and_lastmod_brings_a_changed_one_back() {
    let fx = fixture(podfeed_demo::DEMO_RECIPE).await;
    let base = fx.site.base_url();
    // The classic recipe, with the archive's links replaced by the sitemap index.
    let recipe = fx
        .site
        .recipe_text()
        .replace(
            &format!("start = [\"{base}/archive\"]"),
            &format!("sitemap = [\"{base}/sitemap.xml\"]\nsitemap_match = '/episodes/\\d+$'"),
        )
        .replace("episodes = \"article h2.title a\"", "")
        .replace("follow = \"nav.pagination a\"", "");
    fx.write_recipe(&recipe.replace("max_pages = 500", "max_pages = 500\nrecheck_days = 0"));
    let summary = fx.build(Mode::Incremental).await;
    let with_audio = fx.site.episodes().into_iter().filter(|e| e.has_audio()).count();
    let stats = fx.site.stats();
    assert_eq!((summary.items as usize, summary.failed), (with_audio, 0), "{summary:?}");
    assert_eq!(stats.listing, 3, "the index and its two sitemaps, one gzipped, and no archive page");
    assert_eq!(stats.episode, u64::from(EPISODES), "every episode page the sitemap lists, nothing else");
    assert_eq!(stats.other, 1, "robots.txt; not /, /archive or /list, which the match leaves out");
    // Field by field, as the classic recipe reads the archive's pages.
    let episodes = stored(&fx);
    for show in fx.site.episodes().iter().filter(|e| e.has_audio()) {
        let (n, url) = (show.number, fx.site.episode_url(show.number));
        let e = &episodes[&url];
        assert_eq!(
            (e.guid.as_str(), e.link.as_str(), e.title.as_str()),
            (url.as_str(), url.as_str(), show.title.as_str())
        );
        assert_eq!(e.published, Some(show.published), "pubDate of {n}");
        assert_eq!(e.duration, Some(show.expected_duration()), "duration of {n}");
        assert_eq!(e.enclosure.url, format!("{base}{}", show.audio_path()), "audio of {n}");
        assert_eq!(e.enclosure.length, Some(show.audio_bytes()), "size of {n}");
        assert_eq!(e.description.as_deref(), Some(page_description(show).as_str()), "description of {n}");
        assert_eq!((e.episode, e.season), (Some(n), Some(show.season)), "numbers of {n}");
        assert_eq!(e.image, Some(format!("{base}/images/{n}.jpg")), "image of {n}");
    }

    // A quiet night: the sitemaps only. A retitled episode: its newer <lastmod> brings it back.
    fx.site.reset_stats();
    fx.build(Mode::Incremental).await;
    assert_eq!((fx.site.stats().listing, fx.site.stats().episode), (3, 0));
    fx.site.retitle(42, "Retitled on the site");
    fx.site.reset_stats();
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!((fx.site.stats().episode, summary.updated), (1, 1), "{summary:?}");
    assert!(stored(&fx).values().any(|e| e.title == "Retitled on the site"));

    // The site touches <lastmod> without changing the page: asked for conditionally (304), the
    // page counts as fetched then, and the next night asks for nothing.
    fx.site.retitle(42, "Retitled on the site");
    fx.site.reset_stats();
    fx.build(Mode::Incremental).await;
    assert_eq!((fx.site.stats().episode, fx.site.stats().not_modified), (1, 1), "{:?}", fx.site.stats());
    fx.site.reset_stats();
    fx.build(Mode::Incremental).await;
    assert_eq!(fx.site.stats().episode, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_build_of_1200_listed_episodes_costs_one_request_per_listing_page_and_the_probes() {
    let fx = fixture_of(DEMO_LISTING_RECIPE, 1200).await;
    let summary = fx.build(Mode::Incremental).await;
    let stats = fx.site.stats();
    let with_audio = fx.site.episodes().iter().filter(|e| e.has_audio()).count() as u64;
    assert_eq!((summary.items, summary.failed), (with_audio, 0), "{summary:?}");
    assert_eq!((stats.listing, stats.episode, summary.pages_read), (60, 0, 60), "{stats:?}");
    // The probes: a HEAD per enclosure, redirected once to the CDN, and a one-byte range
    // request where the host refuses HEAD.
    let refuse_head = fx.site.episodes().iter().filter(|e| e.has_audio() && e.number % 10 == 7).count() as u64;
    let probes = (stats.redirects, stats.audio_head, stats.audio_range, stats.audio_full);
    assert_eq!(probes, (with_audio, with_audio, refuse_head, 0), "{stats:?}");
    assert_eq!(stats.total(), 60 + 2 * with_audio + refuse_head + 1, "and robots.txt: {stats:?}");
    assert_field_exact(&fx, Read::Items);
}

/// The crawl of `fx`'s archive, on a task of its own, holding at most `items_ahead_bytes` of
/// listing items that nobody has taken.
fn crawl_of(
    fx: &Fixture,
    items_ahead_bytes: usize,
) -> (futures::channel::mpsc::Receiver<podfeed::crawl::Discovered>, tokio::task::JoinHandle<podfeed::crawl::CrawlReport>)
{
    use podfeed::crawl::{self, CrawlPlan};
    let recipe = std::sync::Arc::new(podfeed::recipe::Recipe::load(&fx.recipe_path()).unwrap());
    let client = std::sync::Arc::new(podfeed::fetch::Client::new(&recipe.http).unwrap().trusting(&recipe.own_urls()));
    let plan = CrawlPlan {
        known: Default::default(),
        incremental: false,
        stop_early: false,
        progress: std::sync::Arc::new(podfeed::model::Unwatched),
        items_ahead_bytes,
    };
    crawl::spawn(client, recipe, fx.open_store(), plan)
}

/// Takes every item of a crawl as it comes; the number of items.
async fn take_all(found: &mut futures::channel::mpsc::Receiver<podfeed::crawl::Discovered>) -> usize {
    let mut items = 0;
    while let Some(discovered) = futures::StreamExt::next(found).await {
        items += usize::from(matches!(discovered, podfeed::crawl::Discovered::Item { .. }));
    }
    items
}

/// Nobody takes the items: the crawl stops reading listing pages once it holds its share (64
/// items of about 1 KiB), with at most a look-ahead of pages on the way. How long to watch it
/// is not a guess of seconds: meanwhile the same crawl of the same archive on a second site,
/// its items all taken, reads the whole archive twice, so the crawl watched has had the time
/// two whole crawls take to read ahead, however fast or loaded the machine is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_ahead_of_a_slow_run_holds_its_share_of_listing_items_not_the_archive() {
    let fx = fixture_of(DEMO_LISTING_RECIPE, 1200).await;
    let (mut found, handle) = crawl_of(&fx, 64 * 1024);
    // The crawl is under way: its first item is here (and held, as the rest).
    let first = futures::StreamExt::next(&mut found).await;
    assert!(matches!(first, Some(podfeed::crawl::Discovered::Item { .. })));
    let yardstick = fixture_of(DEMO_LISTING_RECIPE, 1200).await;
    for _ in 0..2 {
        let (mut all, whole) = crawl_of(&yardstick, 64 * 1024);
        assert_eq!(take_all(&mut all).await, 1200);
        assert_eq!(whole.await.unwrap().listing_pages, 60, "the yardstick read the whole archive");
    }
    let read = fx.site.stats().listing;
    assert!(read <= 4 + 8, "{read} of 60 listing pages read while the run took nothing");
    // Taken, every item comes.
    drop(first);
    assert_eq!(1 + take_all(&mut found).await, 1200);
    assert_eq!(handle.await.unwrap().listing_pages, 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_an_episode_page_shows_what_its_listing_item_gives() {
    let fx = fixture(DEMO_LISTING_PAGES_RECIPE).await;
    let base = fx.site.base_url();
    let newest = fx.site.episodes()[0].clone();
    let url = fx.site.episode_url(newest.number);
    let check = |url: String| {
        let dir = fx.dir.path().to_path_buf();
        async move { common::podfeed_async(&dir, &["check", "--recipe", "demo.toml", &url]).await }
    };
    let out = check(url.clone()).await;
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("its listing item is on {base}/list")), "{text}");
    assert!(text.contains(&format!("title        episode.title          {}\n", newest.title)), "{text}");
    assert!(text.contains(&format!("audio        listing.audio          {base}{}\n", newest.audio_path())), "{text}");
    assert!(text.contains(&format!("duration     listing.duration       {}\n", newest.duration_secs)), "{text}");
    assert!(text.contains(&format!("→ a feed item with guid {url}")), "{text}");

    // An episode whose item is further back: the page alone is said to be not enough.
    let out = check(fx.site.episode_url(3)).await;
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("no listing item links to it on {base}/list")), "{text}");
    assert!(text.contains("→ not a feed item: no audio URL found"), "{text}");

    // With [listing] alone, the item is the episode.
    fx.write_recipe(&fx.site.recipe_text_of(DEMO_LISTING_RECIPE));
    let out = check(url.clone()).await;
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("title        listing.title          {}\n", newest.title)), "{text}");
    let teaser = teaser_of(newest.number);
    assert!(text.contains(&format!("description  listing.description    {}", &teaser[..60])), "{text}");
    let out = check(fx.site.episode_url(3)).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stdout(&out).contains("reads only listing items, and none links to"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_value_that_cannot_be_used_is_warned_about_when_its_page_has_none() {
    let fx = fixture(DEMO_LISTING_PAGES_RECIPE).await;
    // A date is no duration; the episode pages have no duration rule.
    fx.write_recipe(&fx.site.recipe_text_of(DEMO_LISTING_PAGES_RECIPE).replace(
        "duration = { css = \"div.player\", attr = \"data-audio\", json = \"/duration\" }",
        "duration = { css = \"p.teaser span.date\" }",
    ));
    let out = common::podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--cache", "cache"]).await;
    let text = common::stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let url = fx.site.episode_url(fx.site.episodes()[0].number);
    assert!(text.contains(&format!("{url} (its listing item): duration \"")), "{text}");
    assert!(text.contains("is not a duration I know"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_that_failed_under_their_items_do_not_fail_the_run_and_are_asked_for_again() {
    let fx = fixture(DEMO_LISTING_PAGES_RECIPE).await;
    // Episodes 11 and 110–119: eleven dead pages, more than max_failures allows.
    fx.site.fail("/episodes/11", 404);
    let summary = fx.build(Mode::Incremental).await;
    let with_audio = fx.site.episodes().into_iter().filter(ShowEpisode::has_audio).count() as u64;
    assert_eq!((summary.items, summary.failed), (with_audio, 0), "{summary:?}");
    let stood = summary.problems.iter().filter(|p| p.to_string().contains("(the listing's item stands)")).count();
    assert_eq!(stood, 11, "{:?}", summary.problems);
    assert_eq!(stored(&fx)[&fx.site.episode_url(115)].content, None, "the item alone");

    // The site heals: the next night asks for the pages on the listing page it reads again.
    fx.site.heal();
    fx.site.reset_stats();
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!((fx.site.stats().episode, summary.updated), (10, 10), "{summary:?}");
    let episodes = stored(&fx);
    assert!((110..=119).all(|n| episodes[&fx.site.episode_url(n)].content.is_some()), "the pages' notes");
    // Episode 11 is on a listing page an incremental night does not read: `--full` reads it.
    assert_eq!(episodes[&fx.site.episode_url(11)].content, None);
    fx.build(Mode::Full).await;
    assert_field_exact(&fx, Read::ItemsAndPages { failed: None });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_only_recipe_picks_up_what_the_site_changes_in_an_item() {
    let fx = fixture(DEMO_LISTING_RECIPE).await;
    fx.build(Mode::Incremental).await;
    let newest = fx.site.episodes()[0].number;
    fx.site.retitle(newest, "Retitled on the listing");
    fx.site.reset_stats();
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!((summary.updated, summary.new), (1, 0), "{summary:?}");
    assert_eq!(stored(&fx)[&fx.site.episode_url(newest)].title, "Retitled on the listing");
    assert_eq!(fx.site.stats().total(), 2, "the listing page and robots.txt: {:?}", fx.site.stats());
    // Unchanged items are not read again.
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!((summary.updated, summary.unchanged), (0, 0), "{summary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reextract_reads_every_kept_item_though_the_archive_has_shifted() {
    let fx = fixture(DEMO_LISTING_RECIPE).await;
    fx.build(Mode::Incremental).await;
    // Three nights of new episodes push items from listing page to listing page; the cached
    // copies of the deeper pages are the first night's.
    for latest in [EPISODES + 3, EPISODES + 6, EPISODES + 9] {
        fx.site.set_latest(latest);
        fx.build(Mode::Incremental).await;
    }
    let with_audio = fx.site.episodes().into_iter().filter(ShowEpisode::has_audio).count();
    fx.write_recipe(&fx.site.recipe_text_of(DEMO_LISTING_RECIPE).replace(
        "title = { css = \"h2.title a\" }",
        "title = { css = \"h2.title a\", regex = '^(.*)$', template = \"Long Signal: $1\" }",
    ));
    let summary = fx.build(Mode::Reextract).await;
    assert_eq!(summary.updated as usize, with_audio, "{summary:?}");
    assert!(stored(&fx).values().all(|e| e.title.starts_with("Long Signal: ")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sitemap_beside_listing_items_keeps_the_items() {
    let fx = fixture(DEMO_LISTING_PAGES_RECIPE).await;
    let base = fx.site.base_url();
    fx.write_recipe(&fx.site.recipe_text_of(DEMO_LISTING_PAGES_RECIPE).replace(
        "timezone =",
        &format!("sitemap = [\"{base}/sitemap.xml\"]\nsitemap_match = '/episodes/\\d+$'\ntimezone ="),
    ));
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!((summary.failed, summary.skipped), (0, 1), "{summary:?}");
    assert_eq!(fx.site.stats().episode, u64::from(EPISODES), "each page once");
    assert_field_exact(&fx, Read::ItemsAndPages { failed: None });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reextract_with_rules_that_look_around_the_item_loses_no_episode() {
    let fx = fixture(DEMO_LISTING_RECIPE).await;
    fx.build(Mode::Incremental).await;
    fx.site.set_latest(EPISODES + 3);
    fx.build(Mode::Incremental).await;
    let with_audio = fx.site.episodes().into_iter().filter(ShowEpisode::has_audio).count() as u64;
    // A rule that names the item's surroundings: it works on the listing pages, and finds
    // nothing in an item kept apart from its page.
    fx.write_recipe(
        &fx.site
            .recipe_text_of(DEMO_LISTING_RECIPE)
            .replace("audio = { css = \"div.player\"", "audio = { css = \"div.archivelist div.player\""),
    );
    let summary = fx.build(Mode::Reextract).await;
    assert_eq!(summary.items, with_audio, "{summary:?}");
    assert_eq!(stored(&fx).len() as u64, with_audio);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_keeps_failing_under_its_item_is_a_warning_every_night() {
    let fx = fixture(DEMO_LISTING_PAGES_RECIPE).await;
    fx.build(Mode::Incremental).await;
    // Episodes 110–119 are stored from their pages; now the pages fail, night after night.
    fx.site.fail("/episodes/11", 500);
    for night in 0..2 {
        fx.site.retitle(115, &format!("Retitled {night}"));
        let summary = fx.build(Mode::Incremental).await;
        assert_eq!(summary.failed, 0, "night {night}: {summary:?}");
        assert!(
            summary.problems.iter().any(|p| p.to_string().contains("(its episode stays as it was)")),
            "{:?}",
            summary.problems
        );
        assert!(stored(&fx)[&fx.site.episode_url(115)].content.is_some(), "what the page gave stays");
    }
    // Healed: the page, asked for again, gives its new title.
    fx.site.heal();
    fx.build(Mode::Incremental).await;
    assert_eq!(stored(&fx)[&fx.site.episode_url(115)].title, "Retitled 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retitled_episode_with_listing_and_pages_gets_its_new_title() {
    let fx = fixture(DEMO_LISTING_PAGES_RECIPE).await;
    fx.build(Mode::Incremental).await;
    fx.site.retitle(118, "Retitled on the site");
    fx.site.reset_stats();
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!((summary.updated, fx.site.stats().episode), (1, 1), "the changed item's page, once: {summary:?}");
    assert_eq!(stored(&fx)[&fx.site.episode_url(118)].title, "Retitled on the site");
}

/// A site whose sitemap index names 5 sitemaps of 50,000 pages (the protocol's most): past
/// `max_sitemap_urls` (200,000 by default) the rest is ignored, with one warning, and the
/// sitemap past it is never asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sitemaps_are_read_up_to_max_sitemap_urls() {
    use axum::extract::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let asked: std::sync::Arc<Vec<AtomicUsize>> = std::sync::Arc::new((0..6).map(|_| AtomicUsize::new(0)).collect());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (index_base, map_base, counts) = (base.clone(), base.clone(), asked.clone());
    let app = axum::Router::new()
        .route(
            "/sitemap.xml",
            axum::routing::get(move || async move {
                let children: String =
                    (1..=5).map(|k| format!("<sitemap><loc>{index_base}/s/{k}.xml</loc></sitemap>")).collect();
                format!(r#"<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>"#)
            }),
        )
        .route(
            "/s/{file}",
            axum::routing::get(move |Path(file): Path<String>| async move {
                let k: usize = file.trim_end_matches(".xml").parse().unwrap();
                counts[k].fetch_add(1, Ordering::SeqCst);
                let mut urls = String::with_capacity(50_000 * 60);
                for i in 0..50_000 {
                    let path = if k == 1 && i < 3 { format!("/episodes/{i}") } else { format!("/other/{k}/{i}") };
                    urls.push_str(&format!("<url><loc>{map_base}{path}</loc></url>"));
                }
                format!(r#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>"#)
            }),
        )
        .route(
            "/episodes/{n}",
            axum::routing::get(|Path(n): Path<u32>| async move {
                axum::response::Html(format!(r#"<html><body><h1>Episode {n}</h1><a class="dl" href="/{n}.mp3">mp3</a></body></html>"#))
            }),
        )
        .fallback(|| async { ([(axum::http::header::CONTENT_TYPE, "audio/mpeg")], "ID3") });
    tokio::spawn(async move { axum::serve(listener, app).await });
    let dir = tempfile::tempdir().unwrap();
    let recipe = format!(
        "[feed]\ntitle = \"S\"\nlink = \"{base}/\"\ndescription = \"d\"\n[crawl]\nsitemap = [\"{base}/sitemap.xml\"]\n\
         sitemap_match = '/episodes/\\d+$'\n[episode]\ntitle = {{ css = \"h1\" }}\naudio = {{ css = \"a.dl\", attr = \"href\" }}\n"
    );
    std::fs::write(dir.path().join("big.toml"), recipe).unwrap();
    let out = common::podfeed_async(dir.path(), &["build", "--recipe", "big.toml"]).await;
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let asked: Vec<usize> = asked.iter().map(|n| n.load(Ordering::SeqCst)).collect();
    assert_eq!(asked[1..], [1, 1, 1, 1, 0], "four sitemaps make 200,000 pages: the fifth is not asked for");
    assert_eq!(err.matches("crawl.max_sitemap_urls").count(), 1, "{err}");
    let feed = std::fs::read(dir.path().join("public/feed.xml")).unwrap();
    assert_eq!(common::parse_feed(&feed).entries.len(), 3);
}
