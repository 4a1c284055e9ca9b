//! What real podcast sites taught `podfeed init` (bench/realworld), each lesson on a demo theme
//! built like them: `init` with no hand edit, then `build`, and every episode's title, day,
//! audio and duration what the site says.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{podfeed_async, stderr, stdout, Fixture};
use podfeed::model::Episode;
use podfeed_demo::show::ShowEpisode;
use podfeed_demo::{blog, wordpress, DemoConfig, Theme};

const EPISODES: u32 = 200;

async fn site(theme: Theme, undated: bool) -> Fixture {
    Fixture::start(DemoConfig { episodes: EPISODES, latency: Duration::ZERO, theme, undated, ..Default::default() })
        .await
}

/// init from `entry` into init.toml: the recipe and init's report.
async fn init(fx: &Fixture, entry: &str) -> (String, String) {
    let url = format!("{}{entry}", fx.site.base_url());
    let out = podfeed_async(fx.dir.path(), &["init", &url, "-o", "init.toml", "--force"]).await;
    let report = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{entry}: {report}");
    (std::fs::read_to_string(fx.dir.path().join("init.toml")).unwrap(), report)
}

/// A build with init's recipe into its own cache: its stderr.
async fn build(fx: &Fixture, cache: &str) -> String {
    let out = podfeed_async(fx.dir.path(), &["build", "--recipe", "init.toml", "--cache", cache]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stderr(&out)
}

/// The episodes with audio whose title, day, audio URL and duration are what the site says
/// (`duration` gives the one it says for an episode), of how many; and the first that is not.
fn field_exact(fx: &Fixture, cache: &str, duration: impl Fn(&ShowEpisode) -> Option<u64>) -> (usize, usize, String) {
    let store = podfeed::store::Store::open(&fx.dir.path().join(cache)).unwrap();
    let stored: HashMap<String, Episode> = store
        .feed_keys()
        .unwrap()
        .iter()
        .map(|k| store.episode(&k.guid).unwrap().unwrap())
        .map(|e| (e.enclosure.url.clone(), e))
        .collect();
    let expected: Vec<ShowEpisode> = fx.site.episodes().into_iter().filter(ShowEpisode::has_audio).collect();
    let mut first_wrong = String::new();
    let exact = expected
        .iter()
        .filter(|show| {
            let audio = format!("{}{}", fx.site.base_url(), show.audio_path());
            let want = (show.title.clone(), Some(show.published.date_naive()), audio.clone(), duration(show));
            let got = stored
                .get(&audio)
                .map(|e| (e.title.clone(), e.published.map(|d| d.date_naive()), e.enclosure.url.clone(), e.duration));
            let same = got.as_ref() == Some(&want);
            if !same && first_wrong.is_empty() {
                first_wrong = format!("episode {}: got {got:?}, want {want:?}", show.number);
            }
            same
        })
        .count();
    (exact, expected.len(), first_wrong)
}

/// WordPress with PowerPress, from its category, one episode page and one month's
/// archive: the post's own `h1` (not the logo's, not `og:title` with the site's name, not a
/// social plugin's rewording), and where a post has none, what the page's head says without the
/// site's name (not the plugin's `og:title`, which the `<title>` disagrees with); the date
/// written out; a clean address of the audio, not the player's with `?_=1`; its duration; every
/// page of the archive, by "« Older Entries" or by the months of the sidebar, and from the
/// episode page by its category.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wordpress_from_its_category_an_episode_page_and_a_month() {
    let fx = site(Theme::Wordpress, false).await;
    for (i, (entry, reach)) in [
        ("/category/podcast/", "next page      div.nav-previous a"),
        ("/episodes/150/", "next page      div.nav-previous a"),
        ("/2025/06/", "next page      section.widget_archive li > a"),
    ]
    .into_iter()
    .enumerate()
    {
        let (recipe, report) = init(&fx, entry).await;
        assert!(report.contains(reach), "{entry}: {report}");
        let heading = r#"{ css = "header.entry-header h1.entry-title" }"#;
        // For the audio posts, a title rule's twin without " - The Long Signal".
        let trimmed = r#"\s*The Long Signal)?$' },   # from "#;
        let twin = recipe.lines().find(|line| line.contains(trimmed)).unwrap_or_default();
        assert!(recipe.contains(&format!("title = [\n  {heading},")), "{entry}:\n{recipe}");
        assert!(twin.contains("the site's name left out"), "{entry}:\n{recipe}");
        let audio = recipe.lines().find(|line| line.starts_with("audio = ")).unwrap_or_default();
        assert!(!audio.contains("source"), "a clean address, not the player's `?_=1`: {recipe}");
        assert!(recipe.contains("span.posted-on a"), "the written date: {recipe}");
        let cache = format!("cache{i}");
        build(&fx, &cache).await;
        let (exact, of, wrong) = field_exact(&fx, &cache, wordpress::shown_duration);
        assert_eq!(exact, of, "{entry}: {wrong}\n{recipe}");
    }
}

/// WordPress's front page shows whole posts with their players but no date: a `[listing]`
/// recipe that reads each item's page too, for its date; and the player's `?_=1` is left off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_items_without_a_date_read_their_pages_for_it() {
    let fx = site(Theme::Wordpress, false).await;
    let (recipe, report) = init(&fx, "/").await;
    assert!(report.contains("listing items") && report.contains("item pages     "), "{report}");
    assert!(recipe.contains("\n[listing]\n") && recipe.contains("\n[episode]\n"), "{recipe}");
    assert!(recipe.contains("published = { css = \"span.posted-on a\" }"), "the page's date: {recipe}");
    build(&fx, "cache").await;
    let (exact, of, wrong) = field_exact(&fx, "cache", wordpress::shown_duration);
    assert_eq!(exact, of, "{wrong}\n{recipe}");
}

/// A recipe that reads the player's own address gets the file without WordPress's `?_=1`, the
/// address the site's feed names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_players_suffix_is_left_off() {
    let fx = site(Theme::Wordpress, false).await;
    let recipe = format!(
        "[feed]\ntitle = \"T\"\nlink = \"{base}/\"\ndescription = \"D\"\n[crawl]\nstart = [\"{base}/\"]\n\
         episodes = \"h2.entry-title a\"\n[episode]\ntitle = {{ css = \"h1.entry-title\" }}\n\
         audio = {{ css = \"audio.wp-audio-shortcode source\", attr = \"src\" }}\n",
        base = fx.site.base_url()
    );
    std::fs::write(fx.dir.path().join("player.toml"), recipe).unwrap();
    let page = format!("{}/episodes/150/", fx.site.base_url());
    let out = podfeed_async(fx.dir.path(), &["check", "--recipe", "player.toml", &page]).await;
    let audio = format!("episode.audio          {}/media/150.mp3\n", fx.site.base_url());
    assert!(stdout(&out).contains(&audio), "{}", stdout(&out));
}

/// The lone episode page's category is the archive: init names it as the listing page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_one_episode_page_its_archive() {
    let fx = site(Theme::Wordpress, false).await;
    let (recipe, report) = init(&fx, "/episodes/150/").await;
    let category = format!("listing page   {}/category/podcast/", fx.site.base_url());
    assert!(report.contains(&category), "{report}");
    assert!(recipe.contains(&format!("start = [\"{}/category/podcast/\"]", fx.site.base_url())), "{recipe}");
}

/// Pages that write no date: init says so in its report and in the recipe, `check` warns of it
/// for the page, and `build` says it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_without_dates_is_said_to_be_one() {
    let fx = site(Theme::Wordpress, true).await;
    let (recipe, report) = init(&fx, "/category/podcast/").await;
    assert!(report.contains("published      none found"), "{report}");
    assert!(recipe.contains("# No date was found on the sampled pages"), "{recipe}");
    assert!(!recipe.contains("\npublished = "), "{recipe}");
    let page = format!("{}/episodes/150/", fx.site.base_url());
    let out = podfeed_async(fx.dir.path(), &["check", "--recipe", "init.toml", &page]).await;
    assert!(stdout(&out).contains("warning: no date"), "{}", stdout(&out));
    let said = build(&fx, "cache").await;
    assert!(said.contains("has a date"), "{said}");
    let again = build(&fx, "cache").await;
    assert!(!again.contains("has a date"), "said once, not every night: {again}");
}

/// An older blog: the title only in a plain `h2` (under the blog's `h1`, with one `<title>` for
/// every page), the date in Portuguese, the audio only in APlayer's script, whose duration 0
/// means none: no `<itunes:duration>0:00:00</itunes:duration>` in the feed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_blog_with_its_player_in_a_script() {
    let fx = site(Theme::Blog, false).await;
    let (recipe, report) = init(&fx, "/").await;
    assert!(recipe.contains("div.post h2"), "the post's heading: {recipe}");
    assert!(recipe.contains("regex = "), "the player's script: {recipe}");
    assert!(report.contains("next page      div.alignleft a"), "{report}");
    build(&fx, "cache").await;
    let said = |show: &ShowEpisode| Some(blog::blog_duration(show)).filter(|s| *s > 0);
    let (exact, of, wrong) = field_exact(&fx, "cache", said);
    assert_eq!(exact, of, "{wrong}\n{recipe}");
    let path: toml::Value = toml::from_str(&recipe).unwrap();
    let feed = std::fs::read_to_string(fx.dir.path().join(path["output"]["path"].as_str().unwrap())).unwrap();
    assert!(!feed.contains("<itunes:duration>0:00:00"), "a zero duration is none");
    assert!(feed.matches("<itunes:duration>").count() < feed.matches("<item>").count());
}

/// Listing items that carry their player (NPR's archive: the player's file and its download
/// link under two queries) make a `[listing]` recipe, though every episode page fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_items_with_players_when_episode_pages_fail() {
    let fx = site(Theme::Listing, false).await;
    fx.site.fail("/episodes/", 404);
    let (recipe, report) = init(&fx, "/list").await;
    assert!(recipe.contains("\n[listing]\n"), "{report}\n{recipe}");
    build(&fx, "cache").await;
    let (exact, of, wrong) = field_exact(&fx, "cache", |show| Some(show.duration_secs));
    assert_eq!(exact, of, "{wrong}\n{recipe}");
    assert_eq!(fx.site.stats().episode, 0, "no episode page is needed");
}
