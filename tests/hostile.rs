//! Sites that attack: pages built to break the feed, stall the run or escape the recipe's scope.
//! The published feed must stay well-formed and valid whatever they serve.

mod common;

use common::Fixture;
use podfeed::model::{Enclosure, Episode};
use podfeed::pipeline::{Mode, PipelineError};

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
