//! `podfeed init`: a recipe from what a site declares. From the address given (the home page,
//! an archive page or one episode page) it finds a listing page whose repeated elements carry
//! episodes with their audio (a `[listing]` recipe) or whose similar links lead to pages with
//! audio, how the archive goes on past that page, and for each field the rules that work on
//! every sample, trying the site's JSON-LD first, then OpenGraph and meta tags, then its
//! visible elements. At most [`MAX_PAGES`] requests are made, with the client, robots.txt and
//! limits of `build`.

mod archive;
mod candidate;
mod choose;
mod dom;
mod evidence;
mod fetcher;
mod listing;
mod scripts;
mod site;
mod titles;
mod write;

use scraper::Html;
use url::Url;

use crate::extract;
use crate::fetch::{Client, FetchError};
use crate::model::{Episode, Page};
use crate::recipe::Recipe;

use fetcher::Fetcher;
use listing::Found;

pub use candidate::Candidate;
pub use choose::FieldChoice;
pub use site::{Channel, SiteFeed};
pub use write::recipe_text;

/// Requests init makes at most (robots.txt, redirects and retries included).
pub const MAX_PAGES: usize = 30;
/// Episode pages sampled to choose the rules: a listing page's worth, so that the few pages
/// built otherwise (an older player, a date written out) are among them.
const SAMPLES: usize = 20;
/// Requests kept back from sampling for what comes after: the next listing page, the site's
/// feed, a sitemap.
const RESERVED: usize = 6;

/// Why init could not write a recipe.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{url}: {reason}")]
    Fetch { url: String, reason: FetchError },
    #[error("{MAX_PAGES} requests made without finding the episodes")]
    OutOfRequests,
    #[error("{url}: 304 Not Modified unasked")]
    NotModifiedUnasked { url: String },
    #[error(
        "no links to pages with audio on the {fetched} pages fetched; the site may build its pages with \
         JavaScript, or list its episodes in a way init does not know"
    )]
    NoEpisodeLinks { fetched: usize },
    #[error("{url}: {error}")]
    BadUrl { url: String, error: url::ParseError },
}

impl InitError {
    /// Whether the site was read and no recipe found in it, rather than the site failing.
    pub fn is_not_found(&self) -> bool {
        !matches!(self, InitError::Fetch { .. })
    }
}

/// How a listing page gives its episodes.
#[derive(Debug, Clone)]
pub enum Episodes {
    /// Links (this selector, this many on the page) to episode pages, which the rules read.
    Links { css: String, count: usize },
    /// Elements that each describe an episode with its audio: a `[listing]` recipe, which needs
    /// no episode page.
    Items { css: String, count: usize },
    /// No archive was found: the page given is the one episode read, by the address it gives
    /// itself (this selector: its canonical link, its `og:url`), if it gives one.
    Lone { css: Option<String> },
}

/// How the archive goes on past the first listing page.
#[derive(Debug, Clone)]
pub enum Reach {
    /// A link to the next listing page, by this selector; the next page was read to be sure.
    Follow(String),
    /// Pages by number, with `{n}` where the number goes.
    Numbered(String),
    /// A sitemap, and the pattern of its episode pages (this many of them); `alone` when the
    /// listing's links redirect to the addresses the sitemap lists (read both, and each of
    /// those episodes would come twice, as a duplicate).
    Sitemap { url: Url, pattern: String, pages: usize, alone: bool },
    /// Nothing found: only the first listing page is read.
    FirstPageOnly,
}

/// What init found: enough to write a recipe and to say how it was found.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// The address init was given.
    pub asked: Url,
    pub listing: Url,
    pub episodes: Episodes,
    pub reach: Reach,
    pub channel: Channel,
    pub fields: Vec<FieldChoice>,
    /// The episodes sampled: their pages, or (for listing items) their links.
    pub sampled: Vec<Url>,
    /// A page to check the recipe on: the first episode page sampled, or the listing page.
    pub example: Option<Page>,
    pub site_feed: Option<SiteFeed>,
    /// The time zone the site's dates name ("9:00 AM ET").
    pub timezone: Option<chrono_tz::Tz>,
    pub pages_fetched: usize,
    /// Listing items that lack what their pages say (a date): those pages, read too.
    pub item_pages: Option<ItemPages>,
}

/// The pages of listing items, read for what the items lack.
#[derive(Debug, Clone)]
pub struct ItemPages {
    /// The items' links, as `crawl.episodes`.
    pub css: String,
    /// The rules for what the items lack, on those pages.
    pub fields: Vec<FieldChoice>,
}

/// Fields an item's page is read for when the items lack them: a date above all.
const FROM_ITEM_PAGES: [&str; 2] = ["published", "duration"];
/// Item pages sampled for those fields.
const ITEM_PAGE_SAMPLES: usize = 8;

/// Finds a recipe for the site at `start`.
pub async fn discover(client: &Client, start: &Url) -> Result<Proposal, InitError> {
    let mut pages = Fetcher::new(client, start);
    let (page, found) = match listing::find(&mut pages, start).await {
        Ok(found) => found,
        // An episode page whose archive cannot be found: a recipe for that page alone.
        Err(why) if why.is_not_found() => match listing::lone(&mut pages, start).await {
            Some((page, own)) => (page, Found::Lone(own)),
            None => return Err(why),
        },
        Err(e) => return Err(e),
    };
    let listed = Url::parse(&page.url).map_err(|error| InitError::BadUrl { url: page.url.clone(), error })?;
    let next = listing::next(&mut pages, &page, &found).await;
    let Rules { fields, sampled, example, timezone, item_pages } =
        rules(&mut pages, &page, &found, next.as_ref().map(|(_, next)| next), &listed).await;
    let reach = match (next, &found) {
        (Some((reach, _)), _) => reach,
        (None, Found::Links(_, links)) => pages.sitemap(&page, &sampled, links).await.unwrap_or(Reach::FirstPageOnly),
        (None, _) => Reach::FirstPageOnly,
    };
    let root = listed.join("/").unwrap_or_else(|_| listed.clone());
    let home = if page.url == root.as_str() { page.clone() } else { pages.get(&root).await.unwrap_or(page.clone()) };
    let site_feed = pages.site_feed(&home).await;
    let channel = analyse(&home, site::channel_of).await.with_feed(site_feed.as_ref().map(|f| &f.channel));
    Ok(Proposal {
        asked: start.clone(),
        listing: listed,
        episodes: found.episodes(),
        reach,
        channel,
        fields,
        sampled,
        example,
        site_feed,
        timezone,
        pages_fetched: pages.spent(),
        item_pages,
    })
}

/// When listing items lack a date their pages give (WordPress's excerpts with a player, and
/// the date only on the post's page), those pages' rules for it, and the items' links to read
/// them by.
async fn lacking_from_pages(
    pages: &mut Fetcher<'_>,
    item: &str,
    fields: &[FieldChoice],
    links: &[Url],
    listing: &Url,
) -> Option<ItemPages> {
    // A field the items give on nearly all of them; a rule that dates one item in ten is none.
    let has = |field: &str| {
        fields.iter().any(|c| c.field == field && c.rules.iter().map(|(_, n)| n).sum::<usize>() * 10 >= c.sampled * 9)
    };
    if has("published") {
        return None;
    }
    let link = fields.iter().find(|c| c.field == "link")?.rules.first()?.0.css.clone();
    let samples = pages.samples(&links[..links.len().min(ITEM_PAGE_SAMPLES)]).await;
    if samples.is_empty() {
        return None;
    }
    let from_pages: Vec<FieldChoice> = choose::page_rules(&samples, listing)
        .await
        .into_iter()
        .filter(|c| FROM_ITEM_PAGES.contains(&c.field) && !has(c.field) && !c.rules.is_empty())
        .collect();
    from_pages
        .iter()
        .any(|c| c.field == "published")
        .then(|| ItemPages { css: format!("{item} {link}"), fields: from_pages })
}

/// What init chose for each field, and from what.
struct Rules {
    fields: Vec<FieldChoice>,
    /// The episodes sampled: their pages, or (for listing items) their links.
    sampled: Vec<Url>,
    example: Option<Page>,
    timezone: Option<chrono_tz::Tz>,
    item_pages: Option<ItemPages>,
}

/// The rules for the episodes `found` on the listing `page`: from their pages (the first
/// listing page's and the `next` one's), the page given alone, or the listing's items and, for
/// what those lack, their pages.
async fn rules(pages: &mut Fetcher<'_>, page: &Page, found: &Found, next: Option<&Page>, listed: &Url) -> Rules {
    match found {
        Found::Links(css, links) => {
            // The next listing page's episodes too: the newest posts may be few episodes.
            let mut links = links.clone();
            if let Some(next) = next {
                for url in listing::links_on(next, css).await {
                    if !links.contains(&url) {
                        links.push(url);
                    }
                }
            }
            let samples = episode_pages(pages.samples(&links).await).await;
            sample_rules(&samples, listed).await
        }
        Found::Lone(_) => sample_rules(std::slice::from_ref(page), listed).await,
        Found::Items(css, _) => {
            let timezone = analyse(page, |doc, _| evidence::date_zone(doc)).await;
            let (mut fields, links) = choose::item_rules(page, css).await;
            let item_pages = lacking_from_pages(pages, css, &fields, &links, listed).await;
            // What the pages give, the items' few values of it are not worth a rule.
            if let Some(item_pages) = &item_pages {
                fields.retain(|c| !item_pages.fields.iter().any(|p| p.field == c.field));
            }
            Rules { fields, sampled: links, example: Some(page.clone()), timezone, item_pages }
        }
    }
}

/// The pages of `samples` that are an episode's: a text-only post among the episodes is left
/// out, as the build leaves it out.
async fn episode_pages(samples: Vec<Page>) -> Vec<Page> {
    let mut episodes = Vec::with_capacity(samples.len());
    for page in samples {
        if analyse(&page, listing::is_episode_page).await {
            episodes.push(page);
        }
    }
    episodes
}

/// The rules for the sampled episode pages, where they are, the first of them, and the time
/// zone their dates name.
async fn sample_rules(samples: &[Page], listing: &Url) -> Rules {
    let timezone = analyse_all(samples, |doc, _| evidence::date_zone(doc)).await.into_iter().flatten().next();
    let fields = choose::page_rules(samples, listing).await;
    // Where the pages are, after redirects: the addresses a sitemap would list.
    let sampled =
        samples.iter().filter_map(|p| Url::parse(&p.final_url).or_else(|_| Url::parse(&p.url)).ok()).collect();
    Rules { fields, sampled, example: samples.first().cloned(), timezone, item_pages: None }
}

impl Found {
    fn episodes(&self) -> Episodes {
        match self {
            Found::Links(css, links) => Episodes::Links { css: css.clone(), count: links.len() },
            Found::Items(css, count) => Episodes::Items { css: css.clone(), count: *count },
            Found::Lone(own) => Episodes::Lone { css: own.clone() },
        }
    }
}

/// Why the recipe init wrote reads no episode on the page it was checked on.
#[derive(Debug, thiserror::Error)]
pub enum NoFirstEpisode {
    #[error(transparent)]
    NotAnEpisode(#[from] extract::NotAnEpisode),
    #[error(transparent)]
    TooComplex(#[from] crate::html::TooComplex),
    #[error("no item found")]
    NoItem,
}

/// The first episode `recipe` reads on `page` (an episode page, or a listing page for a
/// `[listing]` recipe) and where, or why there is none: the check init's report ends with.
pub fn first_episode(page: &Page, recipe: &Recipe) -> (String, Result<Episode, NoFirstEpisode>) {
    let Some(listing) = &recipe.listing else {
        let extracted = extract::extract(page, &recipe.episode);
        return (page.url.clone(), extracted.map(|e| e.episode).map_err(NoFirstEpisode::from));
    };
    let budget = crate::html::Budget::start();
    let items = crate::html::parse(&page.html, &budget)
        .and_then(|doc| extract::listing_items(&doc, page, listing, 1, &crate::html::Budget::start()));
    match items.map(|items| items.into_iter().next()) {
        Ok(Some(item)) => {
            let link = item.link.to_string();
            (link.clone(), item.fields.into_episode(&link, link.clone()).map_err(NoFirstEpisode::from))
        }
        Ok(None) => (page.url.clone(), Err(NoFirstEpisode::NoItem)),
        Err(e) => (page.url.clone(), Err(e.into())),
    }
}

/// Runs `analysis` on a parsed page, off the reactor.
async fn analyse<T, F>(page: &Page, analysis: F) -> T
where
    T: Send + 'static,
    F: FnOnce(&Html, &Url) -> T + Send + 'static,
{
    let page = page.clone();
    let run = move || {
        let base = Url::parse(&page.final_url).or_else(|_| Url::parse(&page.url)).expect("a page has a URL");
        analysis(&parsed(&page), &base)
    };
    tokio::task::spawn_blocking(run).await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// [`analyse`] on each page.
async fn analyse_all<T: Send + 'static>(pages: &[Page], analysis: fn(&Html, &Url) -> T) -> Vec<T> {
    let mut results = Vec::with_capacity(pages.len());
    for page in pages {
        results.push(analyse(page, analysis).await);
    }
    results
}

/// A page parsed within the time and depth every page gets; one too complex reads as empty.
fn parsed(page: &Page) -> Html {
    crate::html::parse(&page.html, &crate::html::Budget::start()).unwrap_or_else(|e| {
        tracing::warn!("{}: {e}; read as empty", page.url);
        Html::parse_document("")
    })
}
