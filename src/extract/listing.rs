//! The episodes a listing page describes (`[listing]`), and the HTML each is kept as, so that a
//! re-extract reads it again with the recipe's rules of then.

use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::convert::url;
use super::{dropped, read_fields, Dropped, Fields, Scope};
use crate::html::{Budget, TooComplex};
use crate::model::Page;
use crate::recipe::{EpisodeRules, ListingRules};

/// One episode described on a listing page: its fields, and the link to its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub fields: Fields,
    /// The item's `link` rule's value, else its first `a[href]`; an item without one is skipped.
    pub link: Url,
    pub dropped: Vec<Dropped>,
    /// The item's HTML, kept so that `--reextract` reads it again; `None` for one too large.
    pub source: Option<ItemSource>,
    /// Read again from its kept HTML ([`reread_item`]), away from its listing page: what it
    /// lacks may be what its rules found around it there, so it never removes an episode.
    pub reread: bool,
}

/// A listing item's element as the listing page had it, and where and when it was read: what a
/// re-extract needs to read the item again with other rules, whatever became of its listing page
/// (a newest-first archive pushes items from page to page).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ItemSource {
    pub html: String,
    /// The listing page's URL after redirects: relative links resolve against it.
    pub base: String,
    pub fetched_at: DateTime<Utc>,
}

/// An item's HTML larger than this is not kept (real ones are 0.5–5 KB): it is read, but a
/// re-extract does not read it again.
pub const MAX_ITEM_HTML_BYTES: usize = 32 * 1024;
/// Items' HTML written out for one listing page at most (a real page of 50 items: 100 KB).
const MAX_ITEMS_HTML_BYTES_PER_PAGE: usize = 2 * 1024 * 1024;

/// The episodes a listing page describes, in document order, at most `max`. Items without a
/// link of their own are left out (with a warning): a link names the episode.
pub fn listing_items(
    doc: &Html,
    page: &Page,
    listing: &ListingRules,
    max: usize,
    budget: &Budget,
) -> Result<Vec<Item>, TooComplex> {
    let base = Url::parse(&page.final_url).or_else(|_| Url::parse(&page.url)).ok();
    let Some(base) = base else { return Ok(Vec::new()) };
    let mut items = Vec::new();
    let mut linkless = 0;
    // Items nested in items (a hostile page) would each be written out whole: the HTML written
    // out for one page is bounded, and items past it are read but not kept.
    let mut written = 0;
    for element in doc.select(&listing.item).take(max) {
        let html = (written < MAX_ITEMS_HTML_BYTES_PER_PAGE).then(|| element.html());
        written += html.as_ref().map_or(0, String::len);
        let source = html.filter(|html| html.len() <= MAX_ITEM_HTML_BYTES).map(|html| ItemSource {
            html,
            base: base.to_string(),
            fetched_at: page.fetched_at,
        });
        match read_item(element, &base, page.fetched_at, &listing.rules, budget)? {
            Some((fields, link, dropped)) => items.push(Item { fields, link, dropped, source, reread: false }),
            None => linkless += 1,
        }
    }
    if linkless > 0 {
        tracing::warn!("listing page {}: {linkless} items have no link of their own; left out", page.url);
    }
    Ok(items)
}

/// An item read again from its kept HTML, with `listing`'s rules (those of the recipe now).
/// Rules are evaluated inside the item, as on its listing page; a rule that needs what was
/// around the item there finds nothing.
pub fn reread_item(source: &ItemSource, listing: &ListingRules) -> Option<Item> {
    let base = Url::parse(&source.base).ok()?;
    // Table rows and cells are dropped by the HTML parser outside a table: put one around them.
    let (open, close) = match source.html.get(..4).map(str::to_ascii_lowercase).as_deref() {
        Some("<tr>" | "<tr ") => ("<table><tbody>", "</tbody></table>"),
        Some(start) if start.starts_with("<td") || start.starts_with("<th") => {
            ("<table><tbody><tr>", "</tr></tbody></table>")
        }
        _ => ("", ""),
    };
    let doc = Html::parse_fragment(&format!("{open}{}{close}", source.html));
    let tag =
        source.html.get(1..).and_then(|rest| rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).next())?;
    let element = doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name().eq_ignore_ascii_case(tag))?;
    let budget = Budget::start();
    let (fields, link, dropped) = read_item(element, &base, source.fetched_at, &listing.rules, &budget).ok()??;
    Some(Item { fields, link, dropped, source: Some(source.clone()), reread: true })
}

/// One item's fields and link; `None` when it has no link of its own.
fn read_item(
    element: ElementRef,
    base: &Url,
    fetched: DateTime<Utc>,
    rules: &EpisodeRules,
    budget: &Budget,
) -> Result<Option<(Fields, Url, Vec<Dropped>)>, TooComplex> {
    let read = read_fields(Scope::Item(element), base, fetched, rules, budget);
    if let Some(e) = read.over_budget {
        return Err(e);
    }
    let link = read.fields.link.clone().or_else(|| {
        // The item's own href (a card that is a link), else its first link.
        let first_link = Selector::parse("a[href]").expect("a valid selector");
        let own = element.value().attr("href").filter(|_| element.value().name() == "a");
        let href = own.or_else(|| element.select(&first_link).next()?.value().attr("href"))?;
        url(base, href.trim()).ok()
    });
    let link = link.and_then(|link| Url::parse(&link).ok());
    // `href="#"`, or a link back to the listing page: not the episode's own.
    let link = link.filter(|link| link.as_str().split('#').next() != base.as_str().split('#').next());
    Ok(link.map(|link| (read.fields, link, dropped(&read.trace))))
}
