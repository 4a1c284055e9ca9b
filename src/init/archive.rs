//! How a listing page is built: the groups of similar links on it, the repeated elements that
//! each carry an episode with its audio, and the ways it links the rest of the archive. Pure: a
//! parsed page in, plain data out.

use std::collections::BTreeMap;

use scraper::{ElementRef, Html, Selector};
use url::Url;

use scraper::CaseSensitivity::CaseSensitive;

use super::dom::{
    class_of, classes, is_audio_url, is_kind, page_link, pointer_to, selector, signature, tag_and_class, words,
    NOT_URL_ATTRIBUTES,
};
use crate::parse;

/// A selector for a link by its place: its parent as the link's direct parent, under the
/// nearest ancestor with a class (`article.card h2.title > a`). A tag link or a share link in
/// the same card has another parent, and is another group.
/// With `rarest`, the ancestor is named by its rarest class in the page: WordPress gives every
/// sidebar box `widget` and each its own `widget_archive`.
fn link_path(a: ElementRef, rarest: Option<&ClassCounts>) -> Option<String> {
    // Custom elements (`<ep-link>`) are named with a dash; `o:p` and the like cannot be named.
    let nameable = |e: &ElementRef| e.value().name().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let parent = a.parent().and_then(ElementRef::wrap).filter(nameable)?;
    let own = format!("{} > {}", tag_and_class(parent), tag_and_class(a));
    let outer = parent.ancestors().filter_map(ElementRef::wrap).take(8).find(|e| nameable(e) && class_of(*e).is_some());
    Some(match (outer, rarest) {
        (Some(outer), Some(counts)) => format!("{} {own}", counts.rarest(outer)),
        (Some(outer), None) => format!("{} {own}", tag_and_class(outer)),
        (None, _) => own,
    })
}

/// How many elements of a page have each class.
struct ClassCounts(std::collections::HashMap<String, usize>);

impl ClassCounts {
    fn of(doc: &Html) -> ClassCounts {
        let mut counts = std::collections::HashMap::new();
        for element in doc.root_element().descendants().filter_map(ElementRef::wrap).take(50_000) {
            for class in classes(element) {
                *counts.entry(class.to_string()).or_insert(0) += 1;
            }
        }
        ClassCounts(counts)
    }

    /// `tag.class` by the element's class that the fewest elements share (the first of them).
    fn rarest(&self, element: ElementRef) -> String {
        let tag = element.value().name();
        let class = classes(element).filter(|c| is_kind(c)).min_by_key(|c| self.0.get(*c).copied().unwrap_or(0));
        class.map_or_else(|| tag.to_string(), |class| format!("{tag}.{class}"))
    }
}

/// Whether a link is the first link among its siblings.
fn first_link(a: ElementRef) -> bool {
    !a.prev_siblings().filter_map(ElementRef::wrap).any(|s| s.value().name() == "a")
}

/// Links that look alike on a listing page: their selector, the distinct same-host URLs they
/// lead to in page order, and whether their words are titles (long, as an episode's are).
#[derive(Debug, Clone)]
pub(crate) struct LinkGroup {
    pub css: String,
    pub urls: Vec<Url>,
    pub titled: bool,
}

/// Links on a page that look alike (the same tags and classes around them), the likeliest to be
/// an archive's first: titled ones, then larger groups.
pub(crate) fn link_groups(doc: &Html, base: &Url) -> Vec<LinkGroup> {
    // By selector: the URLs, and the characters of the links' text.
    let mut groups: BTreeMap<String, (Vec<Url>, usize)> = BTreeMap::new();
    let links: Vec<(ElementRef, Url, String)> = doc
        .select(&selector("a[href]"))
        .take(10_000)
        .filter_map(|a| {
            let url = base.join(a.value().attr("href")?.trim()).ok()?;
            let page = url.host_str() == base.host_str() && url.fragment().is_none() && !is_audio_url(url.path());
            (page && url.as_str() != base.as_str()).then_some((a, url, link_path(a, None)?))
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
    groups.into_iter().map(|(css, urls, text)| LinkGroup { titled: text / urls.len() >= 12, css, urls }).collect()
}

/// How the page may link the rest of the archive, likeliest first, each as a selector for
/// `crawl.follow` and the pages it leads to that show it does (the first, or for a list of
/// dated archives a few of them): an `a[rel=next]` (with its classes), a `link[rel=next]`, the
/// link to page "2" of numbered pages, a link that says "next", "older" or "more" ("« Older
/// Entries", not one of a menu's many links) or whose class says so (`nav-previous`), and
/// archives by month or year ("March 2024", "2016").
pub(crate) fn next_pages(doc: &Html, base: &Url) -> Vec<(String, Vec<Url>)> {
    let href = |e: ElementRef| {
        let mut url = base.join(e.value().attr("href")?.trim()).ok()?;
        url.set_fragment(None);
        (url.host_str() == base.host_str() && url.as_str() != base.as_str().split('#').next()?).then_some(url)
    };
    let mut found = Vec::new();
    if let Some((a, url)) = doc.select(&selector("a[rel~=next]")).find_map(|a| Some((a, href(a)?))) {
        let css = signature(a).map_or_else(|| "a[rel~=next]".to_string(), |css| format!("{css}[rel~=next]"));
        found.push((css, vec![url]));
    }
    if let Some(url) = doc.select(&selector("link[rel~=next]")).find_map(href) {
        found.push(("link[rel~=next]".to_string(), vec![url]));
    }
    let links: Vec<ElementRef> = doc.select(&selector("a[href]")).take(5_000).collect();
    let page_two = links.iter().find(|a| words(**a) == "2" && href(**a).is_some_and(|u| u.as_str().contains('2')));
    if let Some((css, url)) = page_two.and_then(|a| Some((signature(*a).or_else(|| link_path(*a, None))?, href(*a)?))) {
        found.push((css, vec![url]));
    }
    let few = |css: &str| Selector::parse(css).is_ok_and(|s| doc.select(&s).count() <= 2);
    if let Some((css, url)) =
        links.iter().filter(|a| says_next(**a)).find_map(|a| Some((signature(*a).filter(|css| few(css))?, href(*a)?)))
    {
        found.push((css, vec![url]));
    }
    found.extend(dated_archives(doc, &links, href));
    found
}

/// How a link to the next (older) page of a listing begins, in the languages of
/// [`crate::parse`]'s months.
const NEXT_WORDS: [&str; 20] = [
    "next",
    "older",
    "more",
    "previous episodes",
    "earlier",
    "siguiente",
    "más antiguos",
    "próxima",
    "seguinte",
    "mais antigos",
    "suivant",
    "plus anciens",
    "weiter",
    "nächste",
    "ältere",
    "successiv",
    "più vecchi",
    "volgende",
    "oudere",
    "następn",
];

/// Whether a link leads to the next (older) page of a listing, by its words or its class.
fn says_next(a: ElementRef) -> bool {
    let text = words(a).to_lowercase();
    let text = text.trim_start_matches(|c: char| !c.is_alphanumeric());
    let by_words = NEXT_WORDS.iter().any(|word| text.starts_with(word));
    let classes =
        a.value().classes().chain(a.parent().and_then(ElementRef::wrap).into_iter().flat_map(|p| p.value().classes()));
    let by_class =
        classes.map(str::to_lowercase).any(|c| c == "next" || c.contains("nav-previous") || c.contains("older"));
    // By its class, a short link: "Next", "»", an arrow.
    by_words || (by_class && words(a).chars().count() < 40)
}

/// Archives by month or year: a list of links whose words are a month and a year ("February
/// 2017") or a year alone, at least three alike. Their selector, and three of them to try (the
/// first that is not this page, the next, the oldest): a site may lack a month.
fn dated_archives(
    doc: &Html,
    links: &[ElementRef],
    href: impl Fn(ElementRef) -> Option<Url>,
) -> Option<(String, Vec<Url>)> {
    let year = |word: &str| word.parse::<u32>().ok().is_some_and(|y| (1990..2100).contains(&y));
    let dated = |a: &ElementRef| {
        let text = words(*a);
        let parts: Vec<&str> = text.split(' ').collect();
        match parts.as_slice() {
            [y] => year(y),
            [month, y] => year(y) && parse::date(&format!("1 {month} {y}")).is_some(),
            _ => false,
        }
    };
    let mut groups: BTreeMap<String, Vec<Url>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for a in links.iter().filter(|a| dated(a)) {
        let (Some(css), Some(url)) = (link_path(*a, None), href(*a)) else { continue };
        if !groups.contains_key(&css) {
            order.push(css.clone());
        }
        let urls = groups.entry(css).or_default();
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    let css = order.into_iter().find(|css| groups[css].len() >= 3)?;
    let urls = groups.remove(&css)?;
    // Named as closely as the page allows (`section.widget_archive`, not every `section.widget`
    // of a sidebar, whose recent posts other pages have), if that still takes every dated link.
    // The dated links and the other links a selector takes.
    let takes = |css: &str| {
        let Ok(selector) = Selector::parse(css) else { return (0, usize::MAX) };
        doc.select(&selector).fold((0, 0), |(d, o), a| if dated(&a) { (d + 1, o) } else { (d, o + 1) })
    };
    let counts = ClassCounts::of(doc);
    let first = links.iter().find(|a| dated(a) && link_path(**a, None).as_deref() == Some(css.as_str()));
    let closer = first.and_then(|a| link_path(*a, Some(&counts)));
    let css = match closer {
        Some(closer) if takes(&closer).1 == 0 && takes(&closer).0 >= takes(&css).0 => closer,
        _ => css,
    };
    let mut tries: Vec<Url> = urls.iter().take(2).cloned().collect();
    tries.extend(urls.last().cloned().filter(|last| !tries.contains(last)));
    Some((css, tries))
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
        // The largest element around the player that is still one episode's: its heading and
        // date may sit beside the part that holds the player.
        let mut best: Option<(String, usize)> = None;
        for ancestor in carrier.ancestors().filter_map(ElementRef::wrap).take(8) {
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
            let fewer = best.as_ref().is_some_and(|(_, count)| found.len() != *count);
            if with_audio >= 3 && with_audio * 2 >= found.len() && linked && !nested && !fewer {
                best = Some((css, found.len()));
            }
        }
        if best.is_some() {
            return best;
        }
    }
    None
}

/// How many of the elements `css` selects carry one episode's audio: a further listing page's
/// items, which may be fewer than the first page's.
pub(crate) fn items_with_audio(doc: &Html, base: &Url, css: &str) -> usize {
    let Ok(items) = Selector::parse(css) else { return 0 };
    doc.select(&items).take(1_000).filter(|item| audio_in(*item, base) == 1).count()
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

/// A selector for a possible listing item: its tag and the class it shares with the most of its
/// siblings (WordPress gives each post `post-1659 post type-post … excerpt`), under its nearest
/// ancestor with a class (`div.archivelist article.item`).
fn item_path(element: ElementRef) -> Option<String> {
    let tag = element.value().name();
    let siblings: Vec<ElementRef> = element
        .parent()
        .into_iter()
        .flat_map(|p| p.children())
        .filter_map(ElementRef::wrap)
        .filter(|s| s.value().name() == tag)
        .take(500)
        .collect();
    let shared = |class: &&str| siblings.iter().filter(|s| s.value().has_class(class, CaseSensitive)).count();
    let mut best: Option<(&str, usize)> = None;
    for class in classes(element).filter(|c| is_kind(c)) {
        let count = shared(&class);
        if best.is_none_or(|(_, most)| count > most) {
            best = Some((class, count));
        }
    }
    let own = format!("{tag}.{}", best?.0);
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
    distinct_files(element.descendants().filter_map(ElementRef::wrap).take(2_000).flat_map(|e| audio_of(e, base)))
}

/// The distinct audio files a page names in its elements' attributes: one on an episode's
/// page (in a player, a download link, an `.m4a` beside the `.mp3`), several on a page that
/// lists episodes with their players (a tag's, a category's).
pub(crate) fn audio_files(doc: &Html, base: &Url) -> usize {
    audio_in(doc.root_element(), base)
}

/// How many files `urls` name: one file whatever its query (a player's `?_=1`, a download
/// link's `&dl=1`), its ending (the same episode as MP3 and AAC) and the host or tracking prefix
/// it is reached through (`/p/content.blubrry.com/…` and `/s/content.blubrry.com/…`): by its
/// name and its folder's.
fn distinct_files(urls: impl Iterator<Item = Url>) -> usize {
    let mut files: Vec<String> = Vec::new();
    for url in urls {
        let mut segments = url.path().rsplit('/');
        let name = segments.next().unwrap_or_default();
        let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        let file = format!("{}/{stem}", segments.next().unwrap_or_default()).to_lowercase();
        if !files.contains(&file) {
            files.push(file);
        }
    }
    files.len()
}

/// The audio files one element names in its attributes (a player's JSON included).
fn audio_of(element: ElementRef, base: &Url) -> Vec<Url> {
    let mut files = Vec::new();
    for (_, value) in element.value().attrs().filter(|(name, _)| !NOT_URL_ATTRIBUTES.contains(name)) {
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
        let months: String = ["March 2024", "February 2024", "January 2024", "December 2023"]
            .iter()
            .enumerate()
            .map(|(i, month)| format!(r#"<li><a href="/archive?date={i}">{month}</a></li>"#))
            .collect();
        let doc = Html::parse_document(&format!(
            r#"<nav class="menu">{menu}</nav><div class="pager"><a href="/archive?page=2">2</a><a href="/archive?page=3">3</a></div>
               <ul class="months">{months}</ul>"#
        ));
        let found: Vec<(String, Vec<String>)> = next_pages(&doc, &base)
            .into_iter()
            .map(|(css, urls)| (css, urls.iter().map(Url::to_string).collect()))
            .collect();
        let url = |q: &str| format!("https://example.org/archive?{q}");
        assert_eq!(
            found,
            [
                ("div.pager a".to_string(), vec![url("page=2")]),
                // Dated archives: the first two and the oldest, any of which may be missing.
                ("ul.months li > a".to_string(), vec![url("date=0"), url("date=1"), url("date=3")]),
            ],
            "a menu's 'More' is none of them"
        );
    }

    /// WordPress's "« Older Entries" and `nav-previous`, and archives by year.
    #[test]
    fn older_entries_and_years() {
        let base = Url::parse("https://example.org/").unwrap();
        let years: String = (2016..=2019).rev().map(|y| format!(r#"<li><a href="/{y}/">{y}</a></li>"#)).collect();
        let doc = Html::parse_document(&format!(
            r#"<div class="navigation"><div class="alignleft"><a href="/page/2/">&laquo; Older Entries</a></div></div>
               <aside class="widget_archive"><ul>{years}</ul></aside>"#
        ));
        let found: Vec<(String, String)> =
            next_pages(&doc, &base).into_iter().map(|(css, urls)| (css, urls[0].to_string())).collect();
        assert_eq!(found[0], ("div.alignleft a".to_string(), "https://example.org/page/2/".to_string()));
        assert_eq!(found[1], ("aside.widget_archive li > a".to_string(), "https://example.org/2019/".to_string()));
        let doc = Html::parse_document(r#"<div class="nav-previous"><a href="/page/2/">Earlier posts</a></div>"#);
        assert_eq!(next_pages(&doc, &base)[0].0, "div.nav-previous a");
        // Jekyll's paginator, in Spanish.
        let doc = Html::parse_document(
            r#"<div class="pagination"><span>Anterior</span> <span class="page_number">1 de 4</span> <a href="/blog/page2/">Siguiente</a></div>"#,
        );
        assert_eq!(next_pages(&doc, &base)[0].0, "div.pagination a");
        // `a.next` with an arrow for words, beside the numbers' links.
        let doc = Html::parse_document(
            r#"<div class="nav-links"><a class="page-numbers" href="/page/3/">3</a><a class="next page-numbers" href="/page/2/">&raquo;</a></div>"#,
        );
        assert_eq!(
            next_pages(&doc, &base)[0],
            ("div.nav-links a.next".to_string(), vec![base.join("/page/2/").unwrap()])
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
        assert_eq!(groups[0].css, "article.card h2.t > a");
        assert_eq!(groups[0].urls.len(), 5);
        let (css, urls) = next_pages(&doc, &base).into_iter().next().unwrap();
        assert_eq!((css.as_str(), urls[0].as_str()), ("nav.pages a[rel~=next]", "https://example.org/a/2"));
    }
}
