//! Small readings of a page's elements that init's modules share: selectors for an element by
//! its place, its words, whether a value names an audio file, a pointer into a player's JSON.

use scraper::{ElementRef, Selector};
use url::Url;

/// File endings of audio a podcast app plays.
pub(super) const AUDIO_ENDINGS: [&str; 7] = [".mp3", ".m4a", ".aac", ".ogg", ".opus", ".wav", ".mp4"];

/// Attributes that name a file without being its URL (`download="ep1.mp3"`, a title).
pub(super) const NOT_URL_ATTRIBUTES: [&str; 6] = ["download", "title", "alt", "aria-label", "class", "id"];

pub(super) fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a valid built-in selector")
}

/// Whether a URL (or a path) names an audio file.
pub(crate) fn is_audio_url(value: &str) -> bool {
    let path = value.trim().split(['?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    AUDIO_ENDINGS.iter().any(|ending| path.ends_with(ending)) && !path.contains(char::is_whitespace)
}

/// An element's text, its whitespace collapsed.
pub(super) fn words(element: ElementRef) -> String {
    element.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A same-host link to a page (not to audio, not within the page).
pub(super) fn page_link(a: ElementRef, base: &Url) -> Option<Url> {
    let url = base.join(a.value().attr("href")?.trim()).ok()?;
    (url.host_str() == base.host_str() && url.fragment().is_none() && !is_audio_url(url.path())).then_some(url)
}

pub(super) fn has_element_children(element: ElementRef) -> bool {
    element.children().any(|child| child.value().is_element())
}

/// The JSON pointer to the first value (by key and value) a player's settings have that `wanted`
/// accepts, a few levels deep at most.
pub(super) fn pointer_to(
    value: &serde_json::Value,
    wanted: &dyn Fn(&str, &serde_json::Value) -> bool,
) -> Option<String> {
    fn find(
        value: &serde_json::Value,
        at: String,
        depth: usize,
        wanted: &dyn Fn(&str, &serde_json::Value) -> bool,
    ) -> Option<String> {
        match value {
            serde_json::Value::Object(map) => map.iter().find_map(|(key, v)| {
                let at = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                if wanted(key, v) {
                    return Some(at);
                }
                (depth < 4).then(|| find(v, at, depth + 1, wanted)).flatten()
            }),
            // A list of episodes: the first is the page's.
            serde_json::Value::Array(items) => {
                (depth < 4).then(|| find(items.first()?, format!("{at}/0"), depth + 1, wanted)).flatten()
            }
            _ => None,
        }
    }
    find(value, String::new(), 0, wanted)
}

/// A CSS selector for an element by its tag and first class, under its parent's when the
/// parent has one: `div.player`, `p.byline span.date`. `None` for an element with no class
/// under a parent with none (too vague to be a rule).
pub(crate) fn signature(element: ElementRef) -> Option<String> {
    signature_in(element, None)
}

/// [`signature`], for a rule evaluated inside `scope` (a listing item): the item itself is not
/// named, and there plain tags are specific enough (`h2 a`).
pub(super) fn signature_in(element: ElementRef, scope: Option<ElementRef>) -> Option<String> {
    // `o:p` and the like cannot stand in a selector.
    if !element.value().name().bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let own = tag_and_class(element);
    let parent = element
        .parent()
        .and_then(ElementRef::wrap)
        .filter(|p| scope.is_none_or(|scope| scope.id() != p.id()))
        .filter(|p| p.value().name().bytes().all(|b| b.is_ascii_alphanumeric()));
    match (parent, class_of(element)) {
        (Some(parent), _) if class_of(parent).is_some() || scope.is_some() => {
            Some(format!("{} {own}", tag_and_class(parent)))
        }
        (_, Some(_)) => Some(own),
        (_, None) if scope.is_some() => Some(own),
        // An element known by its id alone (`div#embed-app`), the same on every page of a site.
        _ => element.value().id().filter(|id| is_kind(id)).map(|id| format!("{}#{id}", element.value().name())),
    }
}

pub(super) fn tag_and_class(element: ElementRef) -> String {
    let tag = element.value().name();
    match class_of(element) {
        Some(class) => format!("{tag}.{class}"),
        None => tag.to_string(),
    }
}

/// An element's first class that a selector can name as it stands and that names a kind of
/// element, not one element (`post-1659`, `id127413729`: a database's number).
pub(super) fn class_of<'a>(element: ElementRef<'a>) -> Option<&'a str> {
    classes(element).find(|class| is_kind(class))
}

/// An element's classes in the order its author wrote them (the parser's own order is not).
pub(super) fn classes<'a>(element: ElementRef<'a>) -> impl Iterator<Item = &'a str> {
    element.value().attr("class").unwrap_or_default().split_ascii_whitespace()
}

/// Whether a class can stand in a selector and names a kind of element.
pub(super) fn is_kind(class: &str) -> bool {
    let plain = class.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let numbered = class.as_bytes().windows(3).any(|w| w.iter().all(u8::is_ascii_digit));
    plain && !numbered && !class.starts_with(|c: char| c.is_ascii_digit() || c == '-')
}
