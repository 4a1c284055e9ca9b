//! `podfeed init`: a recipe from what a site declares. From the address given (the home page,
//! an archive page or one episode page) it finds a listing page whose similar links lead to
//! pages with audio, how that page links the next one, and for each field the rules that work on
//! every sampled episode page, trying the site's JSON-LD first, then OpenGraph and meta tags,
//! then its visible elements. At most [`MAX_PAGES`] pages are fetched, with the client, robots.txt
//! and limits of `build`.

mod evidence;
mod write;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use futures::stream::{self, StreamExt};
use scraper::Html;
use url::Url;

use crate::extract;
use crate::fetch::{Client, FetchError, Fetched, RequestKind};
use crate::model::Page;
use crate::recipe::Recipe;

pub use evidence::Candidate;
pub use write::recipe_text;

/// Candidate rules tried per field at most.
const MAX_CANDIDATES: usize = 12;

/// Pages init fetches at most.
pub const MAX_PAGES: usize = 30;
/// Episode pages sampled to choose the rules: a listing page's worth, so that the few pages
/// built otherwise (an older player, a date written out) are among them.
const SAMPLES: usize = 20;

/// Why init could not write a recipe.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{url}: {reason}")]
    Fetch { url: String, reason: FetchError },
    #[error("{0}")]
    NotFound(String),
}

/// The rules chosen for one field, each with the pages it matched, of `sampled`.
#[derive(Debug, Clone)]
pub struct FieldChoice {
    pub field: &'static str,
    pub rules: Vec<(Candidate, usize)>,
    pub sampled: usize,
}

/// The show's channel, as the site describes itself.
#[derive(Debug, Clone, Default)]
pub struct Channel {
    pub title: String,
    pub link: String,
    pub description: Option<String>,
    pub image: Option<String>,
    pub language: Option<String>,
}

/// What init found: enough to write a recipe and to say how it was found.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// The address init was given.
    pub asked: Url,
    pub listing: Url,
    /// The links on the listing page that lead to episode pages, and how many it has.
    pub episodes: String,
    pub episode_links: usize,
    /// The link to the next listing page, if any.
    pub follow: Option<String>,
    pub channel: Channel,
    pub fields: Vec<FieldChoice>,
    /// Episode pages sampled.
    pub sampled: Vec<Url>,
    /// The first of them, for a check of the recipe on it.
    pub example: Option<Page>,
    /// The feed the site links (`<link rel=alternate>`), and the items it has.
    pub site_feed: Option<(Url, usize)>,
    pub pages_fetched: usize,
}

/// Finds a recipe for the site at `start`.
pub async fn discover(client: &Client, start: &Url) -> Result<Proposal, InitError> {
    let mut pages = Fetcher { client, host: start.host_str().unwrap_or_default().to_string(), fetched: 0 };
    let first = pages.get(start).await?;
    let first_has_audio = analyse(&first, |doc, _| evidence::has_audio(doc)).await;
    // Where the episodes are listed: the page itself, else the archive it links, else the home
    // page, else the archive that links: a few pages at most.
    let root = start.join("/").map_err(|e| InitError::NotFound(format!("{start}: {e}")))?;
    let mut queue: VecDeque<Url> = VecDeque::new();
    if !first_has_audio {
        queue.push_back(start.clone());
    }
    queue.push_back(root.clone());
    let mut fetched: HashMap<Url, Page> = HashMap::from([(start.clone(), first.clone())]);
    let (mut tried, mut deferred) = (HashSet::new(), HashSet::new());
    while let Some(listing) = queue.pop_front() {
        if tried.contains(&listing) || tried.len() == 5 {
            continue;
        }
        let page = match fetched.get(&listing) {
            Some(page) => page.clone(),
            // A guessed archive that fails is one guess less, unless it is the address given.
            None => match pages.get(&listing).await {
                Ok(page) => page,
                Err(e) if listing == *start => return Err(e),
                Err(e) => {
                    tracing::info!("{e}");
                    tried.insert(listing);
                    continue;
                }
            },
        };
        fetched.insert(listing.clone(), page.clone());
        // A page that names its archive ("All episodes", /archive) is read after the archive.
        let archives: Vec<Url> =
            analyse(&page, archive_links).await.into_iter().filter(|url| !tried.contains(url)).collect();
        if !archives.is_empty() && deferred.insert(listing.clone()) {
            queue.push_front(listing);
            for archive in archives.into_iter().rev() {
                queue.push_front(archive);
            }
            continue;
        }
        tried.insert(listing.clone());
        if let Some((episodes, links, next)) = pages.episode_links(&page).await? {
            let samples = pages.samples(&links).await;
            let home =
                if page.url == root.as_str() { page.clone() } else { pages.get(&root).await.unwrap_or(page.clone()) };
            let fields = choose_rules(&samples, &listing).await;
            let channel = analyse(&home, channel_of).await;
            let site_feed = pages.site_feed(&home).await;
            return Ok(Proposal {
                asked: start.clone(),
                listing,
                episodes,
                episode_links: links.len(),
                follow: next,
                channel,
                fields,
                sampled: samples.iter().filter_map(|p| Url::parse(&p.url).ok()).collect(),
                example: samples.first().cloned(),
                site_feed,
                pages_fetched: pages.fetched,
            });
        }
    }
    Err(InitError::NotFound(format!(
        "no links to pages with audio on the {} pages sampled; the site may build its pages with JavaScript, \
         or list its episodes in a way init does not know",
        pages.fetched
    )))
}

/// Fetches the site's pages for init, counting them against [`MAX_PAGES`].
struct Fetcher<'c> {
    client: &'c Client,
    host: String,
    fetched: usize,
}

impl Fetcher<'_> {
    async fn get(&mut self, url: &Url) -> Result<Page, InitError> {
        if self.fetched >= MAX_PAGES {
            return Err(InitError::NotFound(format!("{MAX_PAGES} pages fetched without finding the episodes")));
        }
        self.fetched += 1;
        let host = self.host.clone();
        let in_scope = move |to: &Url| to.host_str() == Some(host.as_str());
        match self.client.page(url, RequestKind::Listing, None, &in_scope).await {
            Ok(Fetched::Page(page, _held)) => Ok(page),
            Ok(Fetched::NotModified) => Err(InitError::NotFound(format!("{url}: 304 Not Modified unasked"))),
            Err(reason) => Err(InitError::Fetch { url: url.to_string(), reason }),
        }
    }

    /// The group of similar links on a listing page that lead to pages with audio (two of each
    /// group are tried, the largest groups first), its links, and the link to the next page.
    async fn episode_links(&mut self, page: &Page) -> Result<Option<(String, Vec<Url>, Option<String>)>, InitError> {
        let (groups, next) =
            analyse(page, |doc, base| (evidence::link_groups(doc, base), evidence::next_page(doc, base))).await;
        'groups: for (css, links) in groups.into_iter().take(4) {
            // The first link, then the last: a group whose first page has no audio costs one fetch.
            for url in [links.first(), links.last()].into_iter().flatten() {
                let Ok(sample) = self.get(url).await else { continue 'groups };
                if !analyse(&sample, |doc, _| evidence::has_audio(doc)).await {
                    continue 'groups;
                }
            }
            return Ok(Some((css, links, next.map(|(css, _)| css))));
        }
        Ok(None)
    }

    /// The RSS feed the home page links, and how many items it has: what the recipe adds to
    /// it is worth saying.
    async fn site_feed(&mut self, home: &Page) -> Option<(Url, usize)> {
        let url = analyse(home, feed_link).await.filter(|_| self.fetched < MAX_PAGES)?;
        self.fetched += 1;
        let host = self.host.clone();
        let in_scope = move |to: &Url| to.host_str() == Some(host.as_str());
        let bytes = self.client.document(&url, 5 * 1024 * 1024, &in_scope).await.ok()?;
        let text = String::from_utf8_lossy(&bytes);
        Some((url, text.matches("<item>").count() + text.matches("<item ").count()))
    }

    /// Up to [`SAMPLES`] episode pages of `links`, fetched a few at a time, within the budget.
    async fn samples(&mut self, links: &[Url]) -> Vec<Page> {
        let room = MAX_PAGES.saturating_sub(self.fetched + 1).min(SAMPLES);
        let chosen: Vec<Url> = links.iter().take(room).cloned().collect();
        self.fetched += chosen.len();
        let host = self.host.clone();
        let client = self.client;
        stream::iter(chosen)
            .map(|url| {
                let host = host.clone();
                async move {
                    let in_scope = move |to: &Url| to.host_str() == Some(host.as_str());
                    match client.page(&url, RequestKind::Episode, None, &in_scope).await {
                        Ok(Fetched::Page(page, _held)) => Some(page),
                        _ => None,
                    }
                }
            })
            .buffered(4)
            .filter_map(|page| async move { page })
            .collect()
            .await
    }
}

/// Runs `analysis` on a parsed page, off the reactor.
async fn analyse<T: Send + 'static>(page: &Page, analysis: fn(&Html, &Url) -> T) -> T {
    let page = page.clone();
    let run = move || {
        let base = Url::parse(&page.final_url).or_else(|_| Url::parse(&page.url)).expect("a page has a URL");
        analysis(&parsed(&page), &base)
    };
    tokio::task::spawn_blocking(run).await.expect("analysis does not panic")
}

/// A page parsed within the time and depth every page gets; one too complex reads as empty.
fn parsed(page: &Page) -> Html {
    crate::html::parse(&page.html, &crate::html::Budget::start()).unwrap_or_else(|e| {
        tracing::warn!("{}: {e}; read as empty", page.url);
        Html::parse_document("")
    })
}

/// Links that look like the way to the archive: "All episodes", `/archive`, `/episodes` (not
/// "Older episodes": the next page of a listing is no archive of its own).
fn archive_links(doc: &Html, base: &Url) -> Vec<Url> {
    let a = scraper::Selector::parse("a[href]").expect("a valid selector");
    let mut scored: Vec<(u8, Url)> = doc
        .select(&a)
        .filter_map(|a| {
            let url = base.join(a.value().attr("href")?.trim()).ok()?;
            let text = a.text().collect::<String>().to_lowercase();
            let path = url.path().trim_end_matches('/').to_lowercase();
            let mut score = 0;
            score += 3 * u8::from(text.contains("all") && text.contains("episode"));
            score +=
                2 * u8::from(path.ends_with("/archive") || path.ends_with("/episodes") || path.ends_with("/podcast"));
            score += u8::from(text.contains("archive") || text.contains("episodes"));
            (score >= 2 && url.host_str() == base.host_str() && url != *base).then_some((score, url))
        })
        .collect();
    scored.sort_by_key(|scored| std::cmp::Reverse(scored.0));
    let mut links: Vec<Url> = Vec::new();
    for (_, url) in scored {
        if !links.contains(&url) {
            links.push(url);
        }
    }
    links.truncate(2);
    links
}

/// The RSS or Atom feed a page links.
fn feed_link(doc: &Html, base: &Url) -> Option<Url> {
    let css = "link[rel=alternate][type='application/rss+xml'], link[rel=alternate][type='application/atom+xml']";
    let selector = scraper::Selector::parse(css).expect("a valid selector");
    doc.select(&selector).find_map(|link| base.join(link.value().attr("href")?.trim()).ok())
}

/// The channel as the home page describes the show.
fn channel_of(doc: &Html, base: &Url) -> Channel {
    let meta = |css: &str, attr: &str| {
        let selector = scraper::Selector::parse(css).expect("a valid selector");
        doc.select(&selector)
            .find_map(|e| e.value().attr(attr).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string))
    };
    let text = |css: &str| {
        let selector = scraper::Selector::parse(css).expect("a valid selector");
        doc.select(&selector).map(|e| e.text().collect::<String>().trim().to_string()).find(|t| !t.is_empty())
    };
    let title = meta("meta[property='og:site_name']", "content")
        .or_else(|| text("title"))
        .unwrap_or_else(|| base.host_str().unwrap_or("A podcast").to_string());
    Channel {
        link: base.join("/").map(|u| u.to_string()).unwrap_or_else(|_| base.to_string()),
        description: meta("meta[name=description]", "content")
            .or_else(|| meta("meta[property='og:description']", "content")),
        image: meta("meta[property='og:image']", "content").and_then(|i| base.join(&i).ok()).map(|u| u.to_string()),
        language: meta("html", "lang").and_then(|l| crate::directory::language(&l).ok()),
        title,
    }
}

/// For each field, the candidate rules found on the samples, tried on every sample with the
/// real extraction: the first (most trusted) rule that works on every page, else the fewest
/// rules, most trusted first, that together cover the most pages.
async fn choose_rules(samples: &[Page], listing: &Url) -> Vec<FieldChoice> {
    let (samples, listing) = (samples.to_vec(), listing.clone());
    let choose = move || {
        let mut found: BTreeMap<&'static str, Vec<Candidate>> = BTreeMap::new();
        for page in &samples {
            for (field, candidates) in evidence::candidates(&parsed(page)) {
                let list = found.entry(field).or_default();
                for candidate in candidates {
                    // A page of thousands of look-alike players is no reason to try them all.
                    if !list.contains(&candidate) && list.len() < MAX_CANDIDATES {
                        list.push(candidate);
                    }
                }
            }
        }
        let coverage = coverage(&found, &samples, &listing);
        write::FIELDS
            .iter()
            .filter_map(|field| {
                let candidates = found.get(field)?;
                let covered = coverage.get(field)?;
                Some(FieldChoice { field, rules: pick(candidates, covered, samples.len()), sampled: samples.len() })
            })
            .collect()
    };
    tokio::task::spawn_blocking(choose).await.expect("choosing rules does not panic")
}

/// Which samples each candidate of each field gives a value on, by the recipe's own extraction.
fn coverage(
    found: &BTreeMap<&'static str, Vec<Candidate>>,
    samples: &[Page],
    listing: &Url,
) -> BTreeMap<&'static str, Vec<Vec<bool>>> {
    let rounds = found.values().map(Vec::len).max().unwrap_or(0);
    let mut covered: BTreeMap<&'static str, Vec<Vec<bool>>> = BTreeMap::new();
    for round in 0..rounds {
        // One recipe per round, each field's `round`-th candidate, evaluated on every sample.
        let rules: BTreeMap<&'static str, Candidate> =
            found.iter().filter_map(|(field, list)| Some((*field, list.get(round)?.clone()))).collect();
        for field in rules.keys() {
            covered.entry(field).or_default().push(vec![false; samples.len()]);
        }
        // A candidate a recipe cannot hold matches nothing.
        let Ok(recipe) = Recipe::parse(&write::trial_recipe(listing, &rules), std::path::Path::new("init.toml")) else {
            continue;
        };
        for (i, page) in samples.iter().enumerate() {
            let (_, trace) = extract::extract_traced(page, &recipe.episode);
            for step in trace.iter().filter(|t| t.rule.is_some() && rules.contains_key(t.field)) {
                if let Some(row) = covered.get_mut(step.field).and_then(|rows| rows.last_mut()) {
                    row[i] = true;
                }
            }
        }
    }
    covered
}

/// The rules to keep for one field: see [`choose_rules`].
fn pick(candidates: &[Candidate], covered: &[Vec<bool>], samples: usize) -> Vec<(Candidate, usize)> {
    let count = |row: &Vec<bool>| row.iter().filter(|c| **c).count();
    if let Some(i) = covered.iter().position(|row| count(row) == samples) {
        return vec![(candidates[i].clone(), samples)];
    }
    let mut chosen = Vec::new();
    let mut done = vec![false; samples];
    loop {
        let gain = |row: &Vec<bool>| row.iter().zip(&done).filter(|(c, d)| **c && !**d).count();
        let Some((i, row)) = covered
            .iter()
            .enumerate()
            .filter(|(_, row)| gain(row) > 0)
            .max_by_key(|(i, row)| (gain(row), std::cmp::Reverse(*i)))
        else {
            break;
        };
        chosen.push((i, count(row)));
        done.iter_mut().zip(row).for_each(|(d, c)| *d |= *c);
    }
    chosen.sort();
    chosen.into_iter().map(|(i, n)| (candidates[i].clone(), n)).collect()
}
