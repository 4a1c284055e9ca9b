//! extract → hygiene → feed → verify on arbitrary pages: the feed made from whatever a page
//! holds must be well-formed XML 1.0 and keep every invariant. The input is split at 0xFF bytes
//! into a whole page and up to eight field values placed where the recipe looks.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use chrono::TimeZone;
use libfuzzer_sys::fuzz_target;
use podfeed::model::{Enclosure, Episode, Page};
use podfeed::recipe::Recipe;

const RECIPE: &str = include_str!("../../tests/fixtures/any-page.toml");

fn recipe() -> &'static Recipe {
    static RECIPE_ONCE: OnceLock<Recipe> = OnceLock::new();
    RECIPE_ONCE.get_or_init(|| Recipe::parse(RECIPE, Path::new("fuzz.toml")).expect("valid recipe"))
}

fuzz_target!(|data: &[u8]| {
    let parts: Vec<String> = data.split(|b| *b == 0xFF).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
    let field = |i: usize| parts.get(i + 1).map(String::as_str).unwrap_or("");
    let html = format!(
        "{}<html><head><title>{}</title><link rel=\"canonical\" href=\"{}\"><meta name=\"description\" content=\"{}\">\
         <meta property=\"og:image\" content=\"{}\"></head><body><h1>{}</h1><time datetime=\"{}\">{}</time>\
         <span class=\"d\">{}</span><a class=\"audio\" href=\"/{}\">a</a><div id=\"notes\">{}</div><p class=\"n\">{}</p>",
        parts[0],
        field(0),
        field(1),
        field(2),
        field(3),
        field(0),
        field(4),
        field(4),
        field(5),
        field(6),
        field(7),
        field(5),
    );
    let url = "https://example.org/episodes/1?x=2".to_string();
    let fetched_at = chrono::Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
    let page = Page { final_url: url.clone(), url, html, etag: None, last_modified: None, fetched_at };
    let Ok(extracted) = podfeed::extract::extract(&page, &recipe().episode) else { return };
    let plain = Episode {
        guid: "plain".into(),
        link: "https://example.org/plain".into(),
        page_url: "https://example.org/plain".into(),
        enclosure: Enclosure { url: "https://cdn.example.org/plain.mp3".into(), length: None, mime_type: None },
        ..extracted.episode.clone()
    };
    let bytes = podfeed::feed::render(&recipe().feed, vec![extracted.episode.clone(), plain], fetched_at);
    if let Err(invalid) = podfeed::verify::check(&bytes[..]) {
        panic!("{invalid}\nfrom {:?}", extracted.episode);
    }
});
