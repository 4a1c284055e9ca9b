//! The built-in demo website: a fictional weekly show with a long archive, served on 127.0.0.1
//! only. Real HTTP with latency, redirects, faults and realistic pages; `podfeed demo`, the tests
//! and the benchmarks all run against it.
//!
//! The crate's map: [`DemoSite`] (in `site`) starts a site and holds the switches a test turns
//! (new episodes, outages, a move, held requests) on its `state`, which every request shares;
//! `stats` counts the requests ([`SiteStats`]). `server` routes each request, through latency,
//! the door and faults, to a handler: `handlers` for the HTML pages, `files` for everything else
//! (sitemaps, its own feed, audio, artwork, transcripts), both answering with `respond`'s
//! helpers. The modules named for a theme (`pages` for the classic and listing ones, `modern`,
//! `wordpress`, `blog`, `radio`) write the markup, about [`show`], the fictional show itself. The podfeed
//! library does not use this crate; its binary and tests do.

pub mod art;
pub mod blog;
mod door;
mod files;
mod handlers;
pub mod hostile;
mod latency;
mod markup;
pub mod modern;
pub mod moved;
pub mod pages;
pub mod radio;
mod respond;
mod server;
pub mod show;
mod site;
mod state;
mod stats;
pub mod wordpress;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

pub use art::cover_png;
pub use files::OWN_FEED_ITEMS;
pub use site::DemoSite;
pub use stats::{InFlight, SiteStats};

/// The annotated example recipe for the demo site; its URLs name port 8080 and are rewritten to
/// wherever the site really runs.
pub const DEMO_RECIPE: &str = include_str!("../../recipes/demo.toml");
/// The recipe for the second archive style (`/list`): `[listing]` items only, no episode page.
pub const DEMO_LISTING_RECIPE: &str = include_str!("../../recipes/demo-listing.toml");
/// The same archive read with `[listing]` items and their episode pages.
pub const DEMO_LISTING_PAGES_RECIPE: &str = include_str!("../../recipes/demo-listing-pages.toml");
const RECIPE_BASE: &str = "http://127.0.0.1:8080";

/// How the demo site behaves.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Episodes in the archive, numbered 1 (oldest) to this (newest).
    pub episodes: u32,
    /// Added before every response, like a real network round trip.
    pub latency: Duration,
    /// Some pages answer 503 or 429 (with Retry-After) on their first request, some are slow,
    /// and the archive links to a page that does not exist.
    pub faults: bool,
    /// Listing page 2 also links pages built to break a feed or stall a run (see `hostile`).
    pub hostile: bool,
    /// The markup the home page, the archive and the episode pages are served in.
    pub theme: Theme,
    /// The loopback address to listen on: 127.0.0.1, or another 127.x.y.z to stand for another
    /// host (podfeed's per-host limits go by host name, not port).
    pub address: IpAddr,
    /// Shared by sites on one address that stand for one host serving many shows: their
    /// requests in flight counted together.
    pub host_in_flight: Option<Arc<InFlight>>,
    /// The WordPress theme's pages write no date, as some sites' do not.
    pub undated: bool,
}

/// The markups the demo site serves its show in (`--theme`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Theme {
    /// A public-radio site: an archive of linked titles, episode pages with classic markup.
    #[default]
    Classic,
    /// Listing pages that describe each episode completely (`/list`, as NPR's archive).
    Listing,
    /// A modern site: made-up class names; the data only in JSON-LD and OpenGraph.
    Modern,
    /// WordPress with PowerPress: a logo `h1`, `og:title` with the site's name (and a social
    /// plugin's reworded one), dates written out, `?_=1` on the player's file beside a download
    /// link, "« Older Entries", month archives.
    Wordpress,
    /// An older Portuguese blog: titles in a plain `h2`, one `<title>` for every page, no meta
    /// tags, dates in Portuguese, the audio only in a player's script.
    Blog,
    /// A public radio network's site of today: the classic archive, episode pages of ~60 KB that
    /// are mostly navigation with attribute JSON, scripts and ad slots; the player's JSON.
    Radio,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            episodes: 1200,
            latency: Duration::from_millis(20),
            faults: false,
            hostile: false,
            theme: Theme::Classic,
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            host_in_flight: None,
            undated: false,
        }
    }
}
