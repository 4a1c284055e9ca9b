//! A published guid never changes: not when the site moves, not when the recipe's rules change;
//! only `--reset-guids` changes it.

mod common;

use std::collections::{BTreeMap, HashSet};

use common::{parse_feed, podfeed_async, stdout, Fixture};
use podfeed::pipeline::Mode;
use podfeed_demo::moved::MOVED_PREFIX;

/// The feed's items: guid → link.
fn items(fx: &Fixture) -> BTreeMap<String, String> {
    let feed = parse_feed(&fx.feed_bytes());
    let items: BTreeMap<_, _> = feed.entries.iter().map(|e| (e.id.clone(), e.links[0].href.clone())).collect();
    assert_eq!(items.len(), feed.entries.len(), "guids are unique");
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_moved_keeps_every_published_guid_with_the_new_links() {
    let fx = Fixture::new(120, false).await;
    fx.build(Mode::Incremental).await;
    let before = items(&fx);
    let base = fx.site.base_url();

    // Every page, link and canonical URL moves to /v2/...; the audio stays. The user points the
    // recipe at the new archive.
    fx.site.move_pages();
    fx.write_recipe(
        &fx.site.recipe_text().replace(&format!("{base}/archive"), &format!("{base}{MOVED_PREFIX}/archive")),
    );
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!((summary.new, summary.failed), (0, 0), "{summary:?}");
    let after = items(&fx);
    assert_eq!(after.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>(), "the same guids, no more");
    for (guid, link) in &after {
        let number = guid.rsplit('/').next().unwrap();
        assert_eq!(link, &format!("{base}{MOVED_PREFIX}/episodes/{number}"), "the new link of {guid}");
    }

    // `list` says which guids are kept against the rules.
    let out = podfeed_async(fx.dir.path(), &["list", "--recipe", "demo.toml", "--cache", "cache"]).await;
    let kept =
        format!("<{base}/episodes/120>  (published guid, kept; the rules give <{base}{MOVED_PREFIX}/episodes/120>)");
    assert!(stdout(&out).contains(&kept), "{}", stdout(&out));

    // Later nights: nothing moves back. A re-extract reads the old pages' cached copies too.
    let summary = fx.build(Mode::Incremental).await;
    assert_eq!((summary.new, summary.updated), (0, 0), "{summary:?}");
    fx.build(Mode::Reextract).await;
    assert_eq!(items(&fx), after, "the old addresses never take their episodes back");
    fx.build(Mode::Full).await;
    assert_eq!(items(&fx), after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_guid_rule_keeps_published_guids_until_reset() {
    let fx = Fixture::new(40, false).await;
    fx.build(Mode::Incremental).await;
    let before = items(&fx);
    // A guid rule that gives every episode another guid ("Episode 12").
    let recipe = fx.site.recipe_text().replace(
        "link = { css = \"link[rel=canonical]\", attr = \"href\" }",
        "link = { css = \"link[rel=canonical]\", attr = \"href\" }\nguid = { css = \"p.kicker\" }",
    );
    fx.write_recipe(&recipe);
    let summary = fx.build(Mode::Reextract).await;
    assert_eq!(summary.new, 0, "{summary:?}");
    assert_eq!(items(&fx), before, "published guids stay");

    // A new episode takes the rule's guid; the published ones keep theirs.
    fx.site.set_latest(41);
    fx.build(Mode::Incremental).await;
    let guids: HashSet<String> = items(&fx).into_keys().collect();
    assert!(guids.contains("Episode 41") && guids.is_superset(&before.keys().cloned().collect()), "{guids:?}");

    // --reset-guids: every episode takes the rule's guid, and those stay in turn.
    let out =
        podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--cache", "cache", "--reset-guids"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let reset: HashSet<String> = items(&fx).into_keys().collect();
    let expected: HashSet<String> =
        fx.site.episodes().iter().filter(|e| e.has_audio()).map(|e| format!("Episode {}", e.number)).collect();
    assert_eq!(reset, expected);
}
