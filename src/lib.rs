//! podfeed turns a podcast's website into a complete podcast RSS feed.
//!
//! The pipeline, one module per stage: [`recipe`] → [`crawl`] → [`fetch`] (asking robots.txt)
//! → [`extract`] (with the [`parse`] helpers) → [`store`] → [`feed`] → [`publish`], wired
//! together by [`pipeline`]; [`model`] holds the plain types that cross stages (the show's
//! channel among them) and [`text`] the small helpers every layer uses. Beside it: [`serve`],
//! the preview server. The built-in demo website is a crate of its own (podfeed-demo, in `demo/`)
//! that only the binary and the tests use.
//!
//! The modules are layered, with no import cycle between them (`tests/layers.rs` fails on a new
//! one): `model` and `text` at the bottom, then the pure stages (`parse`, `hygiene`, `recipe`,
//! `extract`, `feed`, `verify`), then those doing I/O (`fetch`, `store`, `publish`), then
//! `crawl` and `pipeline`, and the commands in the binary on top.

pub mod crawl;
pub mod css;
pub mod directory;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod html;
pub mod hygiene;
pub mod init;
pub mod model;
pub mod parse;
pub mod pipeline;
pub mod publish;
pub mod recipe;
pub mod serve;
pub mod sitemap;
pub mod store;
pub mod text;
pub mod verify;

/// A test hook of debug builds (what `cargo test` runs): `PODFEED_TEST_PANIC=crawl` (or `page`,
/// `reprobe`) makes that part of a run panic, as a bug would, so the tests can see that such a
/// run publishes nothing and exits 1. Release builds have no such hook.
pub(crate) fn test_panic_point(point: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("PODFEED_TEST_PANIC").is_ok_and(|wanted| wanted == point) {
        panic!("the {point} task panicked (PODFEED_TEST_PANIC={point})");
    }
    let _ = point;
}

/// A test hook of debug builds: `PODFEED_TEST_PAUSE=compact` stops a run for good where it
/// would compact its cache (its feed published, its cache flushed), after saying so on stderr,
/// so that a kill -9 test knows where its kill lands. Release builds have no such hook.
pub(crate) fn test_pause_point(point: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("PODFEED_TEST_PAUSE").is_ok_and(|wanted| wanted == point) {
        eprintln!("podfeed: paused at {point} (PODFEED_TEST_PAUSE={point})");
        loop {
            std::thread::park();
        }
    }
    let _ = point;
}
