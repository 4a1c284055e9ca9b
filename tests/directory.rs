//! Apple's checks at build, against the demo site: the show's artwork read once from its first
//! bytes, and the warnings for a serial show without episode numbers and a missing owner email.
//! (The checks at recipe load, categories and language, are in tests/cli.rs and src/recipe/.)

mod common;

use common::{podfeed_async, stderr, Fixture};
use podfeed::directory::{artwork, ArtworkProblem};
use podfeed_demo::art::{jpeg_header, png_header};
use podfeed_demo::cover_png;

const RULE: &str = "Apple Podcasts asks for a square JPEG or PNG of 1400 to 3000 px";

fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("--json prints one object")
}

/// Each kind of artwork: its warning on the first build that sees its URL, none on the next,
/// and no request for it either. A big file is never downloaded whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artwork_is_checked_once_from_its_first_bytes() {
    let fx = Fixture::new(30, false).await;
    let build = ["build", "--recipe", "demo.toml", "--quiet", "--json"];
    // The demo's own cover, beside the feed: read from the output folder, and fine.
    let out = podfeed_async(fx.dir.path(), &build).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("image"), "{}", stderr(&out));
    assert_eq!(fx.site.stats().artwork, 0, "an image beside the feed is read from the output folder");

    let base = fx.site.base_url();
    let cases = [
        ("2000x1000.png", Some("is 2000×1000 px, not square")),
        ("600x600.jpg", Some("is 600×600 px")),
        ("3200x3200.png", Some("is 3200×3200 px")),
        ("cover.gif", Some("is not a JPEG or PNG image")),
        ("1400x1400.jpg", None),
        ("3000x3000-norange.png", None),
    ];
    for (name, problem) in cases {
        let image = format!("{base}/art/{name}");
        let recipe = fx.recipe_text.replace("http://127.0.0.1:8000/cover.png", &image);
        assert_ne!(recipe, fx.recipe_text);
        fx.write_recipe(&recipe);
        fx.site.reset_stats();
        let out = podfeed_async(fx.dir.path(), &build).await;
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let log = stderr(&out);
        match problem {
            Some(problem) => {
                let warning = format!("the show's image {image} {problem}: {RULE}");
                assert_eq!(log.matches(&warning).count(), 1, "{name}: {log}");
            }
            None => assert!(!log.contains("image"), "{name}: {log}"),
        }
        let stats = fx.site.stats();
        assert_eq!(stats.artwork, 1, "{name}: one request");
        if !name.contains("norange") {
            assert!(stats.artwork_bytes <= 128 * 1024, "{name}: a range request, {} bytes sent", stats.artwork_bytes);
        }
        // The run read at most the first 128 KB (and what arrived with them) of an 8 MB file,
        // even from a server that ignores the range.
        let bytes = json(&out)["bytes"].as_u64().unwrap();
        assert!(bytes < 1024 * 1024, "{name}: {bytes} bytes downloaded");

        fx.site.reset_stats();
        let again = podfeed_async(fx.dir.path(), &build).await;
        assert!(!stderr(&again).contains("image"), "{name}, once only: {}", stderr(&again));
        assert_eq!(fx.site.stats().artwork, 0, "{name}: checked once");
    }

    // `--full` checks it again (the file may have changed), and says what it finds.
    fx.write_recipe(&fx.recipe_text.replace("http://127.0.0.1:8000/cover.png", &format!("{base}/art/600x600.jpg")));
    podfeed_async(fx.dir.path(), &build).await;
    fx.site.reset_stats();
    let out = podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--quiet", "--full"]).await;
    assert_eq!(fx.site.stats().artwork, 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("600x600.jpg is 600×600 px"), "{}", stderr(&out));

    // An image that cannot be read is tried on every run until it can be, and said once.
    let missing = format!("{base}/art/missing.png");
    fx.write_recipe(&fx.recipe_text.replace("http://127.0.0.1:8000/cover.png", &missing));
    let warning = format!("the show's image {missing} could not be read to check it: HTTP 404");
    for night in 0..2 {
        fx.site.reset_stats();
        let out = podfeed_async(fx.dir.path(), &build).await;
        assert_eq!(out.status.code(), Some(0), "an unreadable image does not stop the run");
        assert_eq!(stderr(&out).contains(&warning), night == 0, "night {night}: {}", stderr(&out));
        assert_eq!(fx.site.stats().artwork, 1, "night {night}: tried again");
    }
}

/// A serial show's items without an episode number, and a missing owner email, are warned
/// about once (cron mails advice once, not nightly), and again when they change; a blocked feed
/// needs neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serial_shows_without_numbers_and_feeds_without_an_owner_email_are_warned_about() {
    let fx = Fixture::new(30, false).await;
    let recipe = fx
        .recipe_text
        .replace("type = \"episodic\"", "type = \"serial\"")
        .replace("block = true\n", "")
        .replace("owner = { name = \"Long Signal Radio\", email = \"podcasts@example.org\" }", "")
        // Every tenth page writes its number unlike the others: those items have none.
        .replace(
            "episode = { css = \"p.kicker\", regex = 'Episode (\\d+)' }",
            "episode = { css = \"p.kicker\", regex = 'Episode (\\d*[1-9])$' }",
        );
    assert!(recipe.contains("type = \"serial\"") && !recipe.contains("owner =") && recipe.contains("[1-9])$"));
    fx.write_recipe(&recipe);
    let build = ["build", "--recipe", "demo.toml", "--quiet"];
    // Episodes 10, 20 and 30 have audio and no number.
    let serial = |count: u32, newest: u32| {
        format!(
            "{count} episodes of this serial show have no episode number ({}/episodes/{newest} is one)",
            fx.site.base_url()
        )
    };
    let out = podfeed_async(fx.dir.path(), &build).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log = stderr(&out);
    assert!(log.contains(&serial(3, 30)), "{log}");
    assert!(log.contains("the recipe has no feed.owner.email"), "{log}");
    let quiet = podfeed_async(fx.dir.path(), &build).await;
    assert!(stderr(&quiet).is_empty(), "said once, not every night: {}", stderr(&quiet));
    // New unnumbered episodes are not mailed one by one.
    fx.site.set_latest(50);
    let out = podfeed_async(fx.dir.path(), &build).await;
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    // Advice that goes away and comes back is said again. Episode 40 has no number; 50 is a
    // bonus episode, which needs none.
    fx.write_recipe(&recipe.replace("type = \"serial\"", "type = \"episodic\""));
    podfeed_async(fx.dir.path(), &build).await;
    fx.write_recipe(&recipe);
    let out = podfeed_async(fx.dir.path(), &build).await;
    assert_eq!(stderr(&out).trim_end().lines().count(), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains(&serial(4, 40)), "{}", stderr(&out));

    fx.write_recipe(&recipe.replace("type = \"serial\"", "type = \"serial\"\nblock = true"));
    let out = podfeed_async(fx.dir.path(), &build).await;
    assert!(!stderr(&out).contains("WARN"), "a blocked feed: {}", stderr(&out));
}

/// The check itself, on the first bytes of images the demo site builds (here rather than in
/// src/directory.rs's unit tests: the library does not use the demo crate, not even in tests).
#[test]
fn artwork_is_a_square_jpeg_or_png_of_1400_to_3000_px() {
    assert_eq!(artwork(&png_header(3000, 3000)), Ok(()));
    assert_eq!(artwork(&png_header(1400, 1400)), Ok(()));
    assert_eq!(artwork(&png_header(2000, 1000)), Err(ArtworkProblem::NotSquare { width: 2000, height: 1000 }));
    assert_eq!(artwork(&png_header(600, 600)), Err(ArtworkProblem::OutOfBounds { side: 600 }));
    assert_eq!(artwork(&png_header(4000, 4000)), Err(ArtworkProblem::OutOfBounds { side: 4000 }));
    assert_eq!(artwork(&jpeg_header(1400, 1400)), Ok(()));
    assert_eq!(artwork(&jpeg_header(1400, 1399)), Err(ArtworkProblem::NotSquare { width: 1400, height: 1399 }));
    assert_eq!(artwork(b"GIF89a\x10\x00\x10\x00"), Err(ArtworkProblem::Format));
    assert_eq!(artwork(b"<html>not an image</html>"), Err(ArtworkProblem::Format));
    assert_eq!(artwork(&cover_png()), Ok(()), "the demo's own cover");
    // A JPEG cut before its frame header.
    assert_eq!(artwork(b"\xff\xd8\xff\xe1\x00\x10Exif\0\0"), Err(ArtworkProblem::Unreadable));
}
