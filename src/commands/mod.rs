//! One file per subcommand, and what they share: opening the recipe, the cache and the client,
//! logging, progress (`progress`), and how a command ended (`outcome`).

pub mod bench;
pub mod build;
pub mod check;
pub mod demo;
pub mod init;
pub mod list;
mod outcome;
mod progress;
pub mod refresh;
pub mod serve;

pub use outcome::{summary_line, NotPublished, Outcome, RunReport, Runs};
pub use progress::progress;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use podfeed::fetch::Client;
use podfeed::model::RunSummary;
use podfeed::pipeline::{Run, RunOptions};
use podfeed::recipe::{Recipe, RecipeError};
use podfeed::store::{Store, StoreError};

use crate::cli::CacheArgs;

/// A mistake on the command line that clap cannot see (an invalid URL argument, say).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// How commands talk to the person (or the cron job) running them; set once from the global flags.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub quiet: bool,
    pub verbose: u8,
}

impl Ui {
    /// Progress bars: for a person at a terminal, unless `--quiet`.
    pub fn progress(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// The summary line of a run that published: for a person at a terminal, or with `-v`;
    /// never in cron's mail otherwise, where only warnings and errors belong.
    pub fn summary_line(&self) -> bool {
        !self.quiet && (self.verbose > 0 || std::io::stderr().is_terminal())
    }
}

/// Warnings by default (even with `--quiet`, which drops only the progress bar and the summary:
/// a failed page is what cron should mail), more with `-v`; `RUST_LOG` overrides.
pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("podfeed={default},warn")));
    // Colours only for a person at a terminal who has not asked for none (https://no-color.org):
    // cron mails and journals show the escape codes.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && !no_color)
        .with_target(false)
        .init();
}

/// The cache folder: `--cache`, else `cache/<recipe name>/` under the working directory.
pub fn cache_dir(cache: Option<&Path>, recipe: &Recipe) -> PathBuf {
    cache.map(Path::to_path_buf).unwrap_or_else(|| Path::new("cache").join(&recipe.name))
}

/// Opens a cache; with `wait`, waits for another podfeed run that has it open to finish.
pub fn open_store(dir: &Path, wait: bool) -> anyhow::Result<Store> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create cache folder {}", dir.display()))?;
    let mut told = false;
    loop {
        match Store::open(dir) {
            Err(StoreError::Locked { pid, .. }) if wait => {
                if !told {
                    tracing::warn!("waiting for the podfeed run holding {} (pid {pid:?})", dir.display());
                    told = true;
                }
                std::thread::sleep(std::time::Duration::from_millis(250));
            }
            result => return Ok(result?),
        }
    }
}

/// Opens everything a feed-writing command needs.
pub struct Session {
    pub recipe: Arc<Recipe>,
    pub store: Store,
    pub client: Arc<Client>,
    pub out: PathBuf,
}

impl Session {
    pub fn open(recipe: &Path, options: &CacheArgs) -> anyhow::Result<Session> {
        let recipe = Recipe::load(recipe)?;
        let client = Arc::new(Client::new(&recipe.http)?.trusting(&recipe.own_urls()));
        Session::new(recipe, options, client)
    }

    /// A session on `recipe` with its cache (`--cache` or the default) and its feed path.
    pub fn new(recipe: Recipe, options: &CacheArgs, client: Arc<Client>) -> anyhow::Result<Session> {
        let store = open_store(&cache_dir(options.cache.as_deref(), &recipe), options.wait)?;
        let out = options.out.clone().unwrap_or_else(|| recipe.output.path.clone());
        Ok(Session { recipe: Arc::new(recipe), store, client, out })
    }

    pub fn run(&self, ui: Ui, force: bool) -> Run<'_> {
        let options = RunOptions { out: self.out.clone(), progress: progress(ui), force };
        Run::new(self.recipe.clone(), &self.store, self.client.clone(), options)
    }
}

/// Runs `work`, but on Ctrl-C flushes the open caches first and returns `None`.
pub async fn until_interrupted<F, T>(flush: impl FnOnce() -> anyhow::Result<()>, work: F) -> anyhow::Result<Option<T>>
where
    F: std::future::Future<Output = T>,
{
    tokio::select! {
        result = work => Ok(Some(result)),
        _ = tokio::signal::ctrl_c() => {
            flush()?;
            Ok(None)
        }
    }
}

/// The `--json` object of a command that failed before any run: the error, no counts.
pub fn json_error(error: &anyhow::Error) -> String {
    let recipe = error.chain().find_map(|cause| cause.downcast_ref::<RecipeError>()).map(|e| e.file.clone());
    let summary =
        RunSummary { error: Some(format!("{error:#}")), ..RunSummary::of(recipe.as_deref().unwrap_or(Path::new(""))) };
    serde_json::to_string(&summary).unwrap_or_else(|_| "{}".into())
}

/// Parses URL arguments, refusing anything that is not http(s).
pub fn parse_urls(urls: &[String]) -> Result<Vec<url::Url>, UsageError> {
    urls.iter()
        .map(|u| {
            url::Url::parse(u)
                .ok()
                .filter(|url| matches!(url.scheme(), "http" | "https"))
                .ok_or_else(|| UsageError(format!("{u:?} is not an http(s) URL")))
        })
        .collect()
}
