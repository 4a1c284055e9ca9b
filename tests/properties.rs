//! Whatever a page holds, the feed made from it is well-formed XML 1.0 that keeps every invariant:
//! extract → hygiene → feed → verify, on pages of arbitrary text and on arbitrary strings in every
//! field. The same property runs under cargo-fuzz (`fuzz/`) for as long as one cares to wait.

use std::path::Path;

use chrono::{TimeZone, Utc};
use podfeed::extract::extract;
use podfeed::model::Page;
use podfeed::recipe::Recipe;
use proptest::prelude::*;

const RECIPE: &str = include_str!("fixtures/any-page.toml");

fn recipe() -> Recipe {
    Recipe::parse(RECIPE, Path::new("fuzz.toml")).expect("the test recipe is valid")
}

/// A page with `fields` where the recipe looks, inserted as they are (so they can break the
/// markup too).
fn page_with(fields: &[String; 8]) -> String {
    let [link, description, image, title, date, duration, audio, notes] = fields;
    format!(
        r#"<html><head><title>{title}</title><link rel="canonical" href="{link}"><meta name="description" content="{description}">
<meta property="og:image" content="{image}"></head><body><h1>{title}</h1><time datetime="{date}">{date}</time>
<span class="d">{duration}</span><a class="audio" href="{audio}">a</a><div class="player" data-audio='{{"url":"{audio}"}}'></div>
<div id="notes">{notes}</div><p class="n">{duration}</p></body></html>"#
    )
}

/// Extracts the page and, if it is an episode, renders a feed of it beside a plain one and
/// checks that feed with podfeed's own verifier and with roxmltree.
fn feed_of_page_is_valid(html: &str) -> Result<(), TestCaseError> {
    let recipe = recipe();
    let url = "https://example.org/episodes/1?x=2".to_string();
    let fetched_at = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
    let page =
        Page { final_url: url.clone(), url, html: html.to_string(), etag: None, last_modified: None, fetched_at };
    let Ok(extracted) = extract(&page, &recipe.episode) else { return Ok(()) };
    let plain = podfeed::model::Episode {
        guid: "plain".into(),
        link: "https://example.org/plain".into(),
        page_url: "https://example.org/plain".into(),
        enclosure: podfeed::model::Enclosure {
            url: "https://cdn.example.org/plain.mp3".into(),
            length: None,
            mime_type: None,
        },
        ..extracted.episode.clone()
    };
    let bytes = podfeed::feed::render(&recipe.feed, vec![extracted.episode.clone(), plain], fetched_at);
    if let Err(invalid) = podfeed::verify::check(&bytes[..]) {
        return Err(TestCaseError::fail(format!("{invalid}\nfrom {:?}", extracted.episode)));
    }
    let text = std::str::from_utf8(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    roxmltree::Document::parse(text).map_err(|e| TestCaseError::fail(format!("roxmltree: {e}")))?;
    Ok(())
}

/// Strings a hostile page would hold: any characters, as themselves or as references.
fn hostile_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "\\PC{0,12}",
        "[\\x00-\\x{10FFFF}]{0,6}",
        (0u32..0x11_0000).prop_map(|c| format!("&#{c};")),
        (0u32..0x11_0000).prop_map(|c| format!("&#x{c:X};")),
        Just("javascript:alert(1)".to_string()),
        Just("https://example.org/a.mp3".to_string()),
        Just("9999-12-31".to_string()),
        Just("1000000000000000000:00:00".to_string()),
        Just("99999999999999999999".to_string()),
        Just("<div><p>".to_string()),
        Just("]]>".to_string()),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_field_values_make_a_valid_feed(fields in prop::array::uniform8(hostile_string())) {
        let mut fields = fields;
        // Most cases should reach the feed: give the audio a usable start half of the time.
        if fields[6].len() % 2 == 0 {
            fields[6] = format!("/audio/{}", fields[6]);
        }
        feed_of_page_is_valid(&page_with(&fields))?;
    }

    #[test]
    fn any_page_makes_a_valid_feed(html in "\\PC{0,400}|[\\x00-\\x{10FFFF}]{0,200}") {
        feed_of_page_is_valid(&format!("<h1>{html}</h1><a class=audio href=/a.mp3>a</a>{html}"))?;
    }
}

/// The property is not vacuous: ordinary values do reach the feed through the same harness.
#[test]
fn ordinary_fields_reach_the_feed() {
    let fields = ["/episodes/1", "About", "/i.jpg", "Title", "2024-01-02", "52:05", "/a.mp3", "<p>Notes</p>"]
        .map(str::to_string);
    let page = Page {
        url: "https://example.org/episodes/1".into(),
        final_url: "https://example.org/episodes/1".into(),
        html: page_with(&fields),
        etag: None,
        last_modified: None,
        fetched_at: Utc::now(),
    };
    let episode = extract(&page, &recipe().episode).expect("an episode").episode;
    assert_eq!((episode.title.as_str(), episode.duration), ("Title", Some(3125)));
    feed_of_page_is_valid(&page.html).expect("a valid feed");
}
