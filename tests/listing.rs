//! Episodes described on listing pages (`[listing]`): read alone, and with their episode pages.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{parse_feed, Fixture};
use podfeed::demo::{DemoConfig, DEMO_LISTING_PAGES_RECIPE, DEMO_LISTING_RECIPE};
use podfeed::model::Episode;
use podfeed::pipeline::Mode;

const EPISODES: u32 = 120;

async fn fixture(recipe: &str) -> Fixture {
    let fx =
        Fixture::start(DemoConfig { episodes: EPISODES, latency: Duration::ZERO, faults: false, hostile: false }).await;
    fx.write_recipe(&fx.site.recipe_text_of(recipe));
    fx
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

    // Field by field, against what the site says of each episode.
    let episodes = stored(&fx);
    for show in &with_audio {
        let guid = fx.site.episode_url(show.number);
        let e = episodes.get(&guid).unwrap_or_else(|| panic!("episode {} is an item", show.number));
        assert_eq!(e.title, show.title, "{guid}");
        assert_eq!(e.published, Some(show.published), "{guid}: 'August 16, 2017 · 9:00 AM ET' is exact");
        assert_eq!(e.duration, Some(show.duration_secs), "{guid}: P15M,31S");
        assert_eq!(e.enclosure.url, format!("{}{}", fx.site.base_url(), show.audio_path()), "{guid}");
        assert_eq!(e.enclosure.length, Some(fx.site.audio_bytes(show.number)), "{guid}");
        let teaser = podfeed::demo::pages::teaser_of(show.number);
        assert_eq!(e.description.as_deref(), Some(teaser.as_str()), "{guid}: the teaser without its date");
    }
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
    assert_eq!(summary.failed, 1, "{summary:?}");
    assert!(
        summary.problems.iter().any(|p| p.contains("/episodes/107: HTTP 404 (the listing's item stands)")),
        "{:?}",
        summary.problems
    );

    let episodes = stored(&fx);
    let page_read = &episodes[&fx.site.episode_url(8)];
    let item_only = &episodes[&fx.site.episode_url(107)];
    // From the page: the episode number and the notes; from the item: the audio and duration.
    assert_eq!(page_read.episode, Some(8));
    assert!(page_read.content.is_some());
    assert_ne!(page_read.description.as_deref(), Some(podfeed::demo::pages::teaser_of(8).as_str()), "the page's own");
    assert_eq!(page_read.duration, Some(fx.site.episodes().iter().find(|e| e.number == 8).unwrap().duration_secs));
    // The item alone: its teaser and its date, no notes.
    assert_eq!(item_only.description.as_deref(), Some(podfeed::demo::pages::teaser_of(107).as_str()));
    assert_eq!(item_only.content, None);
    assert_eq!(item_only.published, Some(fx.site.episodes().iter().find(|e| e.number == 107).unwrap().published));

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
    assert!(text.contains(&format!("{}\n  title      {}", fx.site.episode_url(newest.number), newest.title)), "{text}");
    assert!(text.contains(&format!("  audio      {}{}", fx.site.base_url(), newest.audio_path())), "{text}");
    assert!(text.contains(&format!("  published  {}", newest.published.to_rfc3339())), "{text}");

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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sitemap_finds_the_episode_pages_and_lastmod_brings_a_changed_one_back() {
    let fx = fixture(podfeed::demo::DEMO_RECIPE).await;
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

    // A quiet night: the sitemaps only. A retitled episode: its newer <lastmod> brings it back.
    fx.site.reset_stats();
    fx.build(Mode::Incremental).await;
    assert_eq!((fx.site.stats().listing, fx.site.stats().episode), (3, 0));
    fx.site.retitle(42, "Retitled on the site");
    fx.site.reset_stats();
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!((fx.site.stats().episode, summary.updated), (1, 1), "{summary:?}");
    assert!(stored(&fx).values().any(|e| e.title == "Retitled on the site"));
}
