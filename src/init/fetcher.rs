//! init's requests: each page once, within [`MAX_PAGES`] requests (robots.txt, redirects and
//! retries counted), through the client `build` uses.

use std::collections::{HashMap, HashSet, VecDeque};

use futures::stream::{self, StreamExt};
use url::Url;

use super::{analyse, site, InitError, Reach, SiteFeed, MAX_PAGES, RESERVED, SAMPLES};
use crate::fetch::{Client, Fetched, RequestKind};
use crate::model::Page;

/// Fetches the site's pages for init, each once, within [`MAX_PAGES`] requests.
pub(super) struct Fetcher<'c> {
    client: &'c Client,
    /// The address init was given: pages are read on its host and port.
    start: Url,
    cache: HashMap<Url, Page>,
}

impl<'c> Fetcher<'c> {
    pub(super) fn new(client: &'c Client, start: &Url) -> Fetcher<'c> {
        Fetcher { client, start: start.clone(), cache: HashMap::new() }
    }

    /// Pages fetched so far.
    pub(super) fn fetched(&self) -> usize {
        self.cache.len()
    }

    /// Requests made so far, robots.txt, redirects and retries included.
    pub(super) fn spent(&self) -> usize {
        usize::try_from(self.client.stats().total_requests()).unwrap_or(usize::MAX)
    }

    pub(super) async fn get(&mut self, url: &Url) -> Result<Page, InitError> {
        if let Some(page) = self.cache.get(url) {
            return Ok(page.clone());
        }
        if self.spent() >= MAX_PAGES {
            return Err(InitError::OutOfRequests);
        }
        let start = self.start.clone();
        let in_scope = move |to: &Url| same_host(to, &start);
        let page = match self.client.page(url, RequestKind::Listing, None, &in_scope).await {
            Ok(Fetched::Page(page, _held)) => page,
            Ok(Fetched::NotModified) => return Err(InitError::NotModifiedUnasked { url: url.to_string() }),
            Err(reason) => return Err(InitError::Fetch { url: url.to_string(), reason }),
        };
        self.cache.insert(url.clone(), page.clone());
        Ok(page)
    }

    /// Up to [`SAMPLES`] episode pages of `links`, in order, fetched a few at a time within
    /// the budget (those already read cost nothing).
    pub(super) async fn samples(&mut self, links: &[Url]) -> Vec<Page> {
        let chosen: Vec<Url> = links.iter().take(SAMPLES).cloned().collect();
        let mut room = MAX_PAGES.saturating_sub(self.spent() + RESERVED);
        let fetch: Vec<Url> = chosen
            .iter()
            .filter(|url| !self.cache.contains_key(*url))
            .take_while(|_| room.checked_sub(1).map(|left| room = left).is_some())
            .cloned()
            .collect();
        let (client, start) = (self.client, self.start.clone());
        let fetched: Vec<(Url, Page)> = stream::iter(fetch)
            .map(|url| {
                let start = start.clone();
                async move {
                    // Redirects and retries cost requests too: the reserve is kept whatever they took.
                    let spent = usize::try_from(client.stats().total_requests()).unwrap_or(usize::MAX);
                    if spent + RESERVED >= MAX_PAGES {
                        return None;
                    }
                    let in_scope = move |to: &Url| same_host(to, &start);
                    match client.page(&url, RequestKind::Episode, None, &in_scope).await {
                        Ok(Fetched::Page(page, _held)) => Some((url, page)),
                        _ => None,
                    }
                }
            })
            .buffered(4)
            .filter_map(|page| async move { page })
            .collect()
            .await;
        self.cache.extend(fetched);
        chosen.iter().filter_map(|url| self.cache.get(url).cloned()).collect()
    }

    /// The site's `/sitemap.xml` (an index and up to three of its sitemaps), if it lists more
    /// pages like the sampled episode pages than the listing page links.
    pub(super) async fn sitemap(&mut self, page: &Page, sampled: &[Url], listed_links: &[Url]) -> Option<Reach> {
        let pattern = site::url_pattern(sampled)?;
        let matcher = regex::Regex::new(&pattern).ok()?;
        let url = Url::parse(&page.url).ok()?.join("/sitemap.xml").ok()?;
        let mut queue = VecDeque::from([url.clone()]);
        let mut pages: HashSet<Url> = HashSet::new();
        for _ in 0..4 {
            let Some(next) = queue.pop_front() else { break };
            if self.spent() >= MAX_PAGES {
                break;
            }
            let start = self.start.clone();
            let in_scope = move |to: &Url| same_host(to, &start);
            let Ok(bytes) = self.client.document(&next, crate::sitemap::MAX_SITEMAP_BYTES, &in_scope).await else {
                continue;
            };
            let Ok(sitemap) = crate::sitemap::parse(&bytes) else { continue };
            queue.extend(sitemap.sitemaps);
            pages.extend(sitemap.pages.into_iter().map(|(url, _)| url).filter(|url| matcher.is_match(url.as_str())));
        }
        let alone = sampled.iter().any(|url| !listed_links.contains(url));
        (pages.len() > listed_links.len()).then_some(Reach::Sitemap { url, pattern, pages: pages.len(), alone })
    }

    /// The feed the home page links (`<link rel=alternate>`, on any host), and what it says.
    pub(super) async fn site_feed(&mut self, home: &Page) -> Option<SiteFeed> {
        let url = analyse(home, site::feed_link).await.filter(|_| self.spent() < MAX_PAGES)?;
        // Hosts serve feeds from elsewhere (a podcast host's CDN).
        let feed = url.clone();
        let in_scope = move |to: &Url| same_host(to, &feed);
        let bytes = match self.client.document(&url, 5 * 1024 * 1024, &in_scope).await {
            Ok(bytes) => bytes,
            // Said: a page pointing init at the user's network is worth knowing about.
            Err(refused @ crate::fetch::FetchError::Private(_)) => {
                tracing::warn!("the site's feed {url}: {refused}");
                return None;
            }
            Err(_) => return None,
        };
        Some(site::read_feed(url, &bytes))
    }
}

/// Whether `a` is on `b`'s host and port.
fn same_host(a: &Url, b: &Url) -> bool {
    a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}
