//! How a listing page is built: the groups of similar links on it, the repeated elements that
//! each carry an episode with its audio, and the ways it links the rest of the archive. Pure: a
//! parsed page in, plain data out.

use std::collections::BTreeMap;

use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::dom::{class_of, is_audio_url, page_link, pointer_to, selector, signature, tag_and_class, words};
use crate::parse;

/// A selector for a link by its place: its parent as the link's direct parent, under the
/// nearest ancestor with a class (`article.card h2.title > a`). A tag link or a share link in
/// the same card has another parent, and is another group.
fn link_path(a: ElementRef) -> Option<String> {
    // Custom elements (`<ep-link>`) are named with a dash; `o:p` and the like cannot be named.
    let nameable = |e: &ElementRef| e.value().name().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let parent = a.parent().and_then(ElementRef::wrap).filter(nameable)?;
    let own = format!("{} > {}", tag_and_class(parent), tag_and_class(a));
    let outer = parent.ancestors().filter_map(ElementRef::wrap).take(8).find(|e| nameable(e) && class_of(*e).is_some());
    Some(match outer {
        Some(outer) => format!("{} {own}", tag_and_class(outer)),
        None => own,
    })
}

/// Whether a link is the first link among its siblings.
fn first_link(a: ElementRef) -> bool {
    !a.prev_siblings().filter_map(ElementRef::wrap).any(|s| s.value().name() == "a")
}

/// Links on a page that look alike (the same tags and classes around them), by that selector,
/// with the distinct same-host URLs each leads to, in page order.
pub(crate) fn link_groups(doc: &Html, base: &Url) -> Vec<(String, Vec<Url>)> {
    // By selector: the URLs, and the characters of the links' text.
    let mut groups: BTreeMap<String, (Vec<Url>, usize)> = BTreeMap::new();
    let links: Vec<(ElementRef, Url, String)> = doc
        .select(&selector("a[href]"))
        .take(10_000)
        .filter_map(|a| {
            let url = base.join(a.value().attr("href")?.trim()).ok()?;
            let page = url.host_str() == base.host_str() && url.fragment().is_none() && !is_audio_url(url.path());
            (page && url.as_str() != base.as_str()).then_some((a, url, link_path(a)?))
        })
        .collect();
    // A title link and the tag links beside it under one parent, in many such parents (cards):
    // told apart by position. One parent of many links is a plain list.
    let mut parents: BTreeMap<&str, std::collections::HashSet<ego_tree::NodeId>> = BTreeMap::new();
    for (a, _, css) in &links {
        parents.entry(css).or_default().extend(a.parent().map(|p| p.id()));
    }
    let mut beside: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (a, _, css) in &links {
        if !first_link(*a) && parents.get(css.as_str()).is_some_and(|p| p.len() >= 3) {
            beside.insert(css);
        }
    }
    for (a, url, css) in &links {
        let css = match (beside.contains(css.as_str()), first_link(*a)) {
            (false, _) => css.clone(),
            (true, true) => format!("{css}:first-of-type"),
            (true, false) => format!("{css}:not(:first-of-type)"),
        };
        let (urls, text) = groups.entry(css).or_default();
        if !urls.contains(url) {
            urls.push(url.clone());
            *text += a.text().map(|t| t.trim().chars().count()).sum::<usize>();
        }
    }
    let mut groups: Vec<(String, Vec<Url>, usize)> = groups
        .into_iter()
        .filter(|(_, (urls, _))| urls.len() >= 3)
        .map(|(css, (urls, text))| (css, urls, text))
        .collect();
    // Episode titles first ("The Hidden Harbor" is long, "Share", "2016-01" and "News" are
    // not), then the larger groups.
    groups.sort_by_key(|(_, urls, text)| std::cmp::Reverse((text / urls.len() >= 12, urls.len())));
    groups.into_iter().map(|(css, urls, _)| (css, urls)).collect()
}

/// How the page may link the rest of the archive, likeliest first, each as a selector for
/// `crawl.follow` and the first page it leads to: an `a[rel=next]` (with its classes), a
/// `link[rel=next]`, the link to page "2" of numbered pages, a link that says "next", "older" or
/// "more" (not one of a menu's many links), links to month archives ("March 2024").
pub(crate) fn next_pages(doc: &Html, base: &Url) -> Vec<(String, Url)> {
    let href = |e: ElementRef| {
        let url = base.join(e.value().attr("href")?.trim()).ok()?;
        (url.host_str() == base.host_str() && url != *base).then_some(url)
    };
    let mut found = Vec::new();
    if let Some((a, url)) = doc.select(&selector("a[rel~=next]")).find_map(|a| Some((a, href(a)?))) {
        let css = signature(a).map_or_else(|| "a[rel~=next]".to_string(), |css| format!("{css}[rel~=next]"));
        found.push((css, url));
    }
    if let Some(url) = doc.select(&selector("link[rel~=next]")).find_map(href) {
        found.push(("link[rel~=next]".to_string(), url));
    }
    let links: Vec<ElementRef> = doc.select(&selector("a[href]")).take(5_000).collect();
    let page_two = links.iter().find(|a| words(**a) == "2" && href(**a).is_some_and(|u| u.as_str().contains('2')));
    if let Some((css, url)) = page_two.and_then(|a| Some((signature(*a).or_else(|| link_path(*a))?, href(*a)?))) {
        found.push((css, url));
    }
    let says_next = |a: &&ElementRef| {
        let text = words(**a).to_lowercase();
        ["next", "older", "more", "previous episodes"].iter().any(|word| text.starts_with(word))
    };
    let few = |css: &str| Selector::parse(css).is_ok_and(|s| doc.select(&s).count() <= 2);
    if let Some((css, url)) =
        links.iter().filter(says_next).find_map(|a| Some((signature(*a).filter(|css| few(css))?, href(*a)?)))
    {
        found.push((css, url));
    }
    let month = |a: &&ElementRef| {
        let text = words(**a);
        let year =
            text.split(' ').nth(1).and_then(|y| y.parse::<u32>().ok()).is_some_and(|y| (1990..2100).contains(&y));
        year && text.split(' ').count() == 2 && parse::date(&format!("1 {text}")).is_some()
    };
    let months: Vec<&ElementRef> = links.iter().filter(month).collect();
    if let [first, _, ..] = months.as_slice() {
        if let Some(found_month) = link_path(**first).zip(href(**first)) {
            found.push(found_month);
        }
    }
    found
}

/// The repeated elements of a listing page that each describe one episode with its audio (as
/// NPR's archive pages do): their selector, and how many the page has. Each carries one audio
/// file and a link to a page; most of them carry audio.
pub(crate) fn audio_items(doc: &Html, base: &Url) -> Option<(String, usize)> {
    let carriers: Vec<ElementRef> = doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .take(20_000)
        .filter(|e| !audio_of(*e, base).is_empty())
        .take(5)
        .collect();
    if carriers.len() < 3 {
        return None;
    }
    for carrier in carriers {
        for ancestor in carrier.ancestors().filter_map(ElementRef::wrap).take(6) {
            let Some(css) = item_path(ancestor) else { continue };
            let Ok(items) = Selector::parse(&css) else { continue };
            let found: Vec<ElementRef> = doc.select(&items).take(1_000).collect();
            let audio: Vec<usize> = found.iter().map(|item| audio_in(*item, base)).collect();
            // An element holding several episodes' audio is the list, not an item.
            if audio.iter().any(|n| *n > 1) {
                break;
            }
            let with_audio = audio.iter().filter(|n| **n == 1).count();
            let linked =
                found.iter().all(|item| item.select(&selector("a[href]")).any(|a| page_link(a, base).is_some()));
            let nested = found
                .iter()
                .any(|item| item.descendants().skip(1).filter_map(ElementRef::wrap).any(|d| items.matches(&d)));
            if with_audio >= 3 && with_audio * 2 >= found.len() && linked && !nested {
                return Some((css, found.len()));
            }
        }
    }
    None
}

/// Whether the page has audio outside the items `css` selects: an episode page's own player
/// beside its "related episodes", or a home page's player of the latest one.
pub(crate) fn audio_outside(doc: &Html, base: &Url, css: &str) -> bool {
    let Ok(items) = Selector::parse(css) else { return false };
    doc.root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .take(20_000)
        .filter(|e| !audio_of(*e, base).is_empty())
        .any(|carrier| !carrier.ancestors().filter_map(ElementRef::wrap).any(|a| items.matches(&a)))
}

/// A selector for a possible listing item: its tag and class, under its nearest ancestor with a
/// class (`div.archivelist article.item`).
fn item_path(element: ElementRef) -> Option<String> {
    class_of(element)?;
    let own = tag_and_class(element);
    let nameable = |e: &ElementRef| e.value().name().bytes().all(|b| b.is_ascii_alphanumeric());
    if !nameable(&element) {
        return None;
    }
    let outer = element.ancestors().filter_map(ElementRef::wrap).find(|a| nameable(a) && class_of(*a).is_some());
    Some(match outer {
        Some(outer) => format!("{} {own}", tag_and_class(outer)),
        None => own,
    })
}

/// The distinct audio files an element and its descendants name.
fn audio_in(element: ElementRef, base: &Url) -> usize {
    let mut files: Vec<Url> = Vec::new();
    for e in element.descendants().filter_map(ElementRef::wrap).take(2_000) {
        for url in audio_of(e, base) {
            if !files.contains(&url) {
                files.push(url);
            }
        }
    }
    files.len()
}

/// The audio files one element names in its attributes (a player's JSON included).
fn audio_of(element: ElementRef, base: &Url) -> Vec<Url> {
    let mut files = Vec::new();
    for (_, value) in element.value().attrs() {
        let file = if is_audio_url(value) {
            Some(value.trim().to_string())
        } else if value.trim().starts_with('{') {
            let json = serde_json::from_str::<serde_json::Value>(value).ok();
            json.and_then(|json| {
                let pointer = pointer_to(&json, &|_, v| v.as_str().is_some_and(is_audio_url))?;
                json.pointer(&pointer)?.as_str().map(str::to_string)
            })
        } else {
            None
        };
        files.extend(file.and_then(|file| base.join(&file).ok()));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::evidence::{date_zone, item_candidates};

    #[test]
    fn numbered_pages_month_archives_and_menus() {
        let base = Url::parse("https://example.org/archive").unwrap();
        let menu: String = (1..=4).map(|n| format!(r#"<a href="/about/{n}">More about us</a>"#)).collect();
        let doc = Html::parse_document(&format!(
            r#"<nav class="menu">{menu}</nav><div class="pager"><a href="/archive?page=2">2</a><a href="/archive?page=3">3</a></div>
               <ul class="months"><li><a href="/2024/03/">March 2024</a></li><li><a href="/2024/02/">February 2024</a></li></ul>"#
        ));
        let found: Vec<(String, String)> =
            next_pages(&doc, &base).into_iter().map(|(css, url)| (css, url.to_string())).collect();
        assert_eq!(
            found,
            [
                ("div.pager a".to_string(), "https://example.org/archive?page=2".to_string()),
                ("ul.months li > a".to_string(), "https://example.org/2024/03/".to_string()),
            ],
            "a menu's 'More' is none of them"
        );
    }

    #[test]
    fn listing_items_that_carry_their_audio_are_found_with_their_fields() {
        let base = Url::parse("https://example.org/list").unwrap();
        let items: String = (1..=4)
            .map(|n| {
                format!(
                    r#"<article class="item"><h2 class="title"><a href="/e/{n}">Episode title number {n}</a></h2>
                    <p class="teaser"><span class="date">August {n}, 2017 · 9:00 AM ET</span> A teaser long enough to be the description of it.</p>
                    <div class="player" data-audio='{{"audioUrl":"/m/{n}.mp3","duration":"P15M,31S"}}'>Play</div></article>"#
                )
            })
            .collect();
        let doc = Html::parse_document(&format!(r#"<div class="archivelist">{items}</div>"#));
        assert_eq!(audio_items(&doc, &base), Some(("div.archivelist article.item".to_string(), 4)));
        assert_eq!(date_zone(&doc), Some(chrono_tz::America::New_York));
        let item = doc.select(&selector("article.item")).next().unwrap();
        let found = item_candidates(item, &base);
        assert_eq!(found["title"][0].css, "h2.title a");
        assert_eq!(found["link"][0].attr.as_deref(), Some("href"));
        assert_eq!(found["duration"][0].json.as_deref(), Some("/duration"));
        let teaser = &found["description"][0];
        assert_eq!((teaser.css.as_str(), teaser.remove.as_deref()), ("p.teaser", Some("span.date")));
        // One page's player and links are no listing.
        let page = Html::parse_document(r#"<div class="player" data-audio='{"audioUrl":"/m/1.mp3"}'></div>"#);
        assert_eq!(audio_items(&page, &base), None);
    }

    #[test]
    fn similar_links_are_grouped_and_the_next_page_found() {
        let base = Url::parse("https://example.org/archive").unwrap();
        let cards: String = (1..=5)
            .map(|n| format!(r#"<article class="card"><h2 class="t"><a href="/e/{n}">E</a></h2></article>"#))
            .collect();
        let doc = Html::parse_document(&format!(
            r#"<main>{cards}</main><nav class="pages"><a href="/a/2" rel="next">Older</a></nav><a href="https://elsewhere.example/x">X</a>"#
        ));
        let groups = link_groups(&doc, &base);
        assert_eq!(groups[0].0, "article.card h2.t > a");
        assert_eq!(groups[0].1.len(), 5);
        let (css, url) = next_pages(&doc, &base).into_iter().next().unwrap();
        assert_eq!((css.as_str(), url.as_str()), ("nav.pages a[rel~=next]", "https://example.org/a/2"));
    }
}
