//! Which URLs a crawl reads, and in what form: the hosts in scope, numbered listing pages, and
//! the canonical form of a page URL (without tracking parameters).

use url::Url;

use super::Crawl;

/// `[crawl] pages = "https://site/archive?page={n}"`, with `from` and `to`.
#[derive(Debug, Clone)]
pub struct NumberedPages {
    /// The URL with `{n}` where the number goes.
    pub template: String,
    pub from: u32,
    pub to: Option<u32>,
}

impl NumberedPages {
    /// Page `n`'s URL; `None` past `to`.
    pub fn url(&self, n: u32) -> Option<Url> {
        if self.to.is_some_and(|to| n > to) {
            return None;
        }
        Url::parse(&self.template.replace("{n}", &n.to_string())).ok()
    }

    /// Which numbered page `url` is, if it is one: one of the numbers in it, put back into the
    /// template, gives it.
    pub fn number_of(&self, url: &Url) -> Option<u32> {
        url.as_str()
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|digits| digits.parse().ok())
            .find(|&n| self.url(n).as_ref() == Some(url))
    }
}

/// Query parameters that only track where a visitor came from: a link with them is the same
/// page as without. Names ending in `*` are prefixes.
pub const TRACKING_PARAMS: [&str; 9] =
    ["utm_*", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref"];

impl Crawl {
    /// The form of a page URL that names the page: without a fragment, and without tracking
    /// parameters or the recipe's `ignore_params` (the rest of the query is kept as written).
    /// Two links to one page are one URL, fetched once and cached once.
    pub fn canonical(&self, mut url: Url) -> Url {
        url.set_fragment(None);
        let Some(query) = url.query() else { return url };
        let ignored = |pair: &&str| {
            let name = pair.split('=').next().unwrap_or_default().to_ascii_lowercase();
            let matches = |pattern: &str| match pattern.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => name == pattern,
            };
            TRACKING_PARAMS.iter().any(|p| matches(p))
                || self.ignore_params.iter().any(|p| matches(&p.to_ascii_lowercase()))
        };
        if !query.split('&').any(|pair| ignored(&pair)) {
            return url;
        }
        let kept: Vec<&str> = query.split('&').filter(|pair| !pair.is_empty() && !ignored(pair)).collect();
        let kept = kept.join("&");
        url.set_query((!kept.is_empty()).then_some(kept.as_str()));
        url
    }

    /// Whether the recipe fetches any episode page (`episodes` links, or a sitemap); without,
    /// its `[listing]` items are all it reads.
    pub fn reads_episode_pages(&self) -> bool {
        self.episodes.is_some() || !self.sitemap.is_empty()
    }

    /// Whether a listing item's episode page is fetched: when the recipe reads episode pages
    /// (through `episodes` links, or a sitemap whose `sitemap_match` the link matches) and the
    /// link is in scope (off scope, it only names the episode).
    pub fn fetches_page_of(&self, link: &Url) -> bool {
        let by_sitemap =
            !self.sitemap.is_empty() && self.sitemap_match.as_ref().is_none_or(|m| m.is_match(link.as_str()));
        (self.episodes.is_some() || by_sitemap) && self.in_scope(link)
    }

    /// Whether a URL is http(s) on a host (and port) the recipe allows. A scope entry without
    /// a port allows the scheme's own (80, 443): `127.0.0.1:8080` is not `127.0.0.1:6379`.
    pub fn in_scope(&self, url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some_and(|host| {
                self.scope.iter().any(|entry| {
                    let (entry_host, entry_port) = split_port(entry);
                    let port_matches = match entry_port {
                        Some(port) => url.port_or_known_default() == Some(port),
                        None => url.port().is_none(),
                    };
                    entry_host.eq_ignore_ascii_case(host) && port_matches
                })
            })
    }
}

/// A URL's host as a scope entry: `host`, or `host:port` when it names a port of its own.
pub(super) fn scope_entry(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// `host:port` into its parts (`[::1]:8080` too); a bare host has no port.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && (!host.contains(':') || host.ends_with(']')) => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}
