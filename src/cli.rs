//! Command-line definitions; nothing else (exit codes are `main`'s).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "podfeed", version, about = "Turns a podcast's website into a complete podcast RSS feed")]
pub struct Cli {
    /// More log output (-v: each page, -vv: each request). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// No progress bar and no summary; warnings and errors still go to stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Crawl the site and write the feed (incremental unless --full).
    Build(BuildArgs),
    /// Fetch these episode pages again, update the cache and rewrite the feed.
    Refresh(RefreshArgs),
    /// Show what the recipe extracts from one page, rule by rule; writes nothing.
    Check(CheckArgs),
    /// Show what the cache holds.
    List(ListArgs),
    /// Write a recipe from what a site declares (JSON-LD, OpenGraph, players, links).
    Init(InitArgs),
    /// Run the whole job against the built-in demo site and write its feed.
    Demo(DemoArgs),
    /// Run the built-in demo site on 127.0.0.1 until Ctrl-C.
    DemoSite(DemoSiteArgs),
    /// Measure cold, warm, incremental and re-extract builds against the demo site.
    Bench(BenchArgs),
    /// Serve an output folder over HTTP to preview the feed and its page.
    Serve(ServeArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

impl Command {
    /// Whether the command was asked for `--json` output.
    pub fn json(&self) -> bool {
        match self {
            Command::Build(args) => args.cache.json,
            Command::Refresh(args) => args.cache.json,
            Command::List(args) => args.cache.json,
            Command::Demo(args) => args.json,
            _ => false,
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The folder to serve (where feed.xml and index.html are).
    #[arg(long, default_value = "public")]
    pub dir: PathBuf,
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Address to listen on; 127.0.0.1 keeps it to this machine.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
}

/// Options of every command that reads the cache or writes the feed.
#[derive(Debug, Clone, Args)]
pub struct CacheArgs {
    /// Cache folder [default: cache/<recipe name>/]; only with a single recipe.
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// The feed file to write [default: the recipe's output.path]; only with a single recipe.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print JSON on stdout: a run summary (one line per recipe), or the listing.
    #[arg(long)]
    pub json: bool,
    /// If another podfeed run has the cache open, wait for it instead of failing.
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Recipes (TOML files, or folders of them); several run in one process sharing one HTTP
    /// client and its per-host limits, each with its own cache and feed.
    #[arg(long, short, required = true)]
    pub recipe: Vec<PathBuf>,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Crawl every listing page and fetch every episode page again.
    #[arg(long, conflicts_with = "reextract")]
    pub full: bool,
    /// Extract every episode again from cached pages, with no network.
    #[arg(long)]
    pub reextract: bool,
    /// Publish even a feed much shorter than the published one (see output.min_items_percent),
    /// and over a feed at a publish target that another machine or person wrote.
    #[arg(long)]
    pub force: bool,
    /// Also publish to this place for this run, as `[output] publish` does
    /// (`git+file:///srv/feeds.git#gh-pages`, `git+ssh://...#BRANCH[:FOLDER]`); repeatable.
    #[arg(long, value_name = "URL")]
    pub publish: Vec<String>,
    /// Pages in flight at once [default: the recipe's http.concurrency].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: Option<u16>,
    /// Give every episode the guid its rules give now, instead of the one it was first
    /// published under. Podcast apps take every changed guid for a new episode and download it
    /// again: only for a feed nobody follows yet.
    #[arg(long)]
    pub reset_guids: bool,
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// The recipe (TOML) describing the site.
    #[arg(long, short)]
    pub recipe: PathBuf,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Episode page URLs.
    #[arg(required = true)]
    pub urls: Vec<String>,
    /// Publish even a feed much shorter than the published one.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The recipe (TOML) describing the site.
    #[arg(long, short)]
    pub recipe: PathBuf,
    /// An episode page URL (or with --listing, a listing page URL).
    pub url: String,
    /// The URL is a listing page: show what `crawl.episodes`, `crawl.follow` and `[listing]`
    /// find on it.
    #[arg(long)]
    pub listing: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The show's home page, an archive page or one episode page.
    pub url: String,
    /// Write the recipe here instead of to stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Overwrite the file `-o` names if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The recipe (TOML) describing the site.
    #[arg(long, short)]
    pub recipe: PathBuf,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// List pages that failed, why and when, instead of episodes.
    #[arg(long, conflicts_with = "duplicates")]
    pub failed: bool,
    /// List pages whose episode has the audio of another (one episode, one item), and which
    /// episode was kept, instead of episodes.
    #[arg(long)]
    pub duplicates: bool,
}

#[derive(Debug, Args)]
pub struct DemoSiteOptions {
    /// Episodes in the demo archive.
    #[arg(long, default_value_t = 1200)]
    pub episodes: u32,
    /// Delay before every response, in milliseconds.
    #[arg(long, default_value_t = 20)]
    pub latency_ms: u64,
    /// Inject faults: 503 and 429 on first requests, slow pages, a dead link.
    #[arg(long)]
    pub faults: bool,
    /// Also link pages built to break a feed or stall a run: control characters, overflowing
    /// numbers, 200,000-deep nesting, tracking-parameter twins, off-scope redirects, a gzip bomb,
    /// an endless body, a server that never answers...
    #[arg(long)]
    pub hostile: bool,
    /// The site's markup: `classic` (an archive of linked titles), `listing` (listing pages
    /// that describe each episode), `modern` (made-up class names; the data only in JSON-LD
    /// and OpenGraph), `wordpress` (WordPress with PowerPress), `blog` (an older blog, its
    /// player configured in a script) or `radio` (a public radio network's pages of today:
    /// ~60 KB of navigation, scripts and attribute JSON around the episode).
    #[arg(long, value_enum, default_value_t = podfeed_demo::Theme::Classic)]
    pub theme: podfeed_demo::Theme,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub site: DemoSiteOptions,
    /// Folder for feed.xml and index.html.
    #[arg(long, default_value = "public")]
    pub out: PathBuf,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write the recipe with `podfeed init` from the site's home page (beside the output folder,
    /// not in it: OUT.recipe.toml, public.recipe.toml by default) and build with it, instead of
    /// the bundled recipe (always, for the themes the bundled recipe was not written for:
    /// modern, wordpress, blog, radio).
    #[arg(long)]
    pub init: bool,
}

#[derive(Debug, Args)]
pub struct DemoSiteArgs {
    #[command(flatten)]
    pub site: DemoSiteOptions,
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Episodes in the demo archive.
    #[arg(long, default_value_t = 1200)]
    pub episodes: u32,
    /// Delay before every response, in milliseconds.
    #[arg(long, default_value_t = 40)]
    pub latency_ms: u64,
    /// Pages in flight.
    #[arg(long, default_value_t = 32)]
    pub concurrency: u16,
    /// Run the site in fault mode.
    #[arg(long)]
    pub faults: bool,
    /// The demo site's markup (see `demo --theme`): `classic` and `listing` are built with the
    /// bundled recipes, the others with the recipe `podfeed init` writes (not measured).
    #[arg(long, value_enum, default_value_t = podfeed_demo::Theme::Classic, conflicts_with = "shows")]
    pub theme: podfeed_demo::Theme,
    /// Also run the tutorials' asyncio + aiohttp + BeautifulSoup script (`bench/peer.py`,
    /// needs `pip install -r bench/requirements.txt`) against a site of its own, and compare.
    #[arg(long)]
    pub peer: bool,
    /// Instead, build this many demo shows (50 to 500 episodes each, a recipe each) in one
    /// `podfeed build --recipe DIR`, cold and warm.
    #[arg(long, default_value_t = 0, conflicts_with = "peer")]
    pub shows: usize,
    /// With --shows: the hosts they are spread over (127.0.0.1, 127.0.0.2, ...).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=250))]
    pub hosts: u8,
    /// With --shows: requests in flight to one host at most (every recipe's `per_host`).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub per_host: u16,
    /// With --shows: every show also publishes here, `{show}` replaced by its name
    /// (`s3://feeds/a/{show}/?endpoint=http://127.0.0.1:9000`).
    #[arg(long, value_name = "URL", requires = "shows")]
    pub publish: Option<String>,
}
