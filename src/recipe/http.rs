//! `[http]`: how politely a recipe's pages are fetched, and the limits recipes built together
//! share.

use serde::Deserialize;

/// The default `User-Agent`: names podfeed and its version so site owners know who is calling.
/// The project has no public home yet to link from here; a recipe can add a contact address
/// with `user_agent = "podfeed/0.1 (+https://you.example/contact)"`.
pub const DEFAULT_USER_AGENT: &str = concat!("podfeed/", env!("CARGO_PKG_VERSION"));

/// `[http]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Episode pages in flight at once.
    #[serde(default = "Http::default_concurrency")]
    pub concurrency: usize,
    /// Requests in flight to one host; defaults to `concurrency`.
    pub per_host: Option<usize>,
    /// Timeout of one request, in seconds.
    #[serde(default = "Http::default_timeout")]
    pub timeout_secs: u64,
    /// Retries after a connect error, a timeout, a 429 or a 5xx.
    #[serde(default = "Http::default_retries")]
    pub retries: u32,
    #[serde(default = "Http::default_user_agent")]
    pub user_agent: String,
    /// Ask each host's robots.txt before fetching its pages (enclosures are not pages).
    #[serde(default = "Http::default_respect_robots")]
    pub respect_robots: bool,
    /// Requests per second to one host at most; 0 means no rate limit (only `per_host`).
    #[serde(default)]
    pub rate_limit: u32,
    /// Pages larger than this are refused, so one bad URL cannot exhaust memory.
    #[serde(default = "Http::default_max_page_bytes")]
    pub max_page_bytes: u64,
    /// Let URLs a site names reach loopback, private, link-local and other non-global
    /// addresses (a site on the LAN). Off, only the origins of the recipe's own URLs may.
    #[serde(default)]
    pub allow_private: bool,
    /// Host names answered with these addresses instead of DNS, as curl's `--resolve`: a site
    /// whose name does not resolve yet, or a test.
    #[serde(default)]
    pub resolve: std::collections::HashMap<String, std::net::IpAddr>,
}

impl Http {
    fn default_concurrency() -> usize {
        32
    }
    fn default_timeout() -> u64 {
        20
    }
    fn default_retries() -> u32 {
        3
    }
    fn default_user_agent() -> String {
        DEFAULT_USER_AGENT.to_string()
    }
    fn default_respect_robots() -> bool {
        true
    }
    fn default_max_page_bytes() -> u64 {
        5 * 1024 * 1024
    }

    /// Requests in flight to one host.
    pub fn per_host(&self) -> usize {
        self.per_host.unwrap_or(self.concurrency)
    }

    /// The limits several recipes run together share: the largest concurrency and page cap,
    /// the most polite per-host and rate limits. (Each recipe's client keeps its own user
    /// agent, robots.txt choice, timeouts, retries and addresses.)
    pub fn shared<'a>(configs: impl IntoIterator<Item = &'a Http>) -> Http {
        let mut configs = configs.into_iter();
        let Some(first) = configs.next() else { return Http::default() };
        configs.fold(first.clone(), |mut shared, next| {
            shared.per_host = Some(shared.per_host().min(next.per_host()));
            shared.concurrency = shared.concurrency.max(next.concurrency);
            shared.max_page_bytes = shared.max_page_bytes.max(next.max_page_bytes);
            shared.rate_limit = match (shared.rate_limit, next.rate_limit) {
                (0, r) | (r, 0) => r,
                (a, b) => a.min(b),
            };
            shared
        })
    }
}

impl Default for Http {
    fn default() -> Self {
        Http {
            concurrency: Http::default_concurrency(),
            per_host: None,
            timeout_secs: Http::default_timeout(),
            retries: Http::default_retries(),
            user_agent: Http::default_user_agent(),
            rate_limit: 0,
            respect_robots: true,
            max_page_bytes: Http::default_max_page_bytes(),
            allow_private: false,
            resolve: Default::default(),
        }
    }
}
