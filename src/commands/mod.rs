//! One file per subcommand, and what they share: opening the recipe, the cache and the client,
//! progress, and reporting a run.

pub mod bench;
pub mod build;
pub mod check;
pub mod demo;
pub mod init;
pub mod list;
pub mod refresh;
pub mod serve;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use podfeed::fetch::Client;
use podfeed::model::{Progress, RunSummary, Unwatched};
use podfeed::pipeline::{Run, RunFailed, RunOptions};
use podfeed::recipe::{Recipe, RecipeError};
use podfeed::store::{Store, StoreError};

use crate::cli::CacheArgs;

/// How a command ended. `main` alone turns it into an exit code and the last lines on stderr;
/// errors (`Err`) are the other way a command ends.
#[derive(Debug)]
pub enum Outcome {
    /// It did what was asked: every feed published or already up to date, a recipe written, a
    /// page shown that is a feed item.
    Done,
    /// It ran, and did not do all it was asked: why, a line each (none when the command's own
    /// report on stdout says it, as `check`'s does).
    NotDone(Vec<String>),
    /// Ctrl-C: the open caches were saved first.
    Interrupted,
}

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
    fn progress(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// The summary line of a run that published: for a person at a terminal, or with `-v`;
    /// never in cron's mail otherwise, where only warnings and errors belong.
    fn summary_line(&self) -> bool {
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

/// A run's progress as bars on an interactive stderr: listing pages, and episode pages.
#[derive(Debug)]
struct Bars {
    listing: ProgressBar,
    episodes: ProgressBar,
}

impl Progress for Bars {
    fn listing_read(&self) {
        self.listing.inc(1);
    }
    fn pages_total(&self, total: u64) {
        self.episodes.set_length(total);
    }
    fn more_pages(&self, more: u64) {
        self.episodes.inc_length(more);
    }
    fn page_done(&self) {
        self.episodes.inc(1);
    }
    fn finished(&self) {
        self.listing.finish_and_clear();
        self.episodes.finish_and_clear();
    }
}

/// Bars on an interactive stderr; nothing for cron, pipes and `--quiet`.
pub fn progress(ui: Ui) -> Arc<dyn Progress> {
    if !ui.progress() {
        return Arc::new(Unwatched);
    }
    let bars = MultiProgress::new();
    let style =
        |template: &str| ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
    let listing = bars.add(ProgressBar::new_spinner());
    listing.set_style(style("{spinner} {pos} listing pages"));
    listing.enable_steady_tick(std::time::Duration::from_millis(120));
    let episodes = bars.add(ProgressBar::new(0));
    episodes.set_style(style("{spinner} {pos}/{len} episode pages {wide_bar} ETA {eta}"));
    Arc::new(Bars { listing, episodes })
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

/// Reports how a run ended: its JSON object on stdout with `--json` (whether or not it
/// published), and a summary line (see [`Ui::summary_line`]); `Err` is the line saying why it
/// could not publish.
pub fn report(
    outcome: Result<RunSummary, RunFailed>,
    out: &Path,
    json: bool,
    ui: Ui,
) -> anyhow::Result<Result<(), String>> {
    let (summary, failure) = match outcome {
        Ok(summary) => (summary, None),
        Err(failed) => {
            let message = format!("{:#}", anyhow::Error::from(failed.cause));
            let line = format!("error: {}: {message}", failed.summary.recipe);
            (RunSummary { error: Some(message), ..*failed.summary }, Some(line))
        }
    };
    if json {
        println!("{}", serde_json::to_string(&summary)?);
    }
    if let Some(line) = failure {
        return Ok(Err(line));
    }
    if ui.summary_line() {
        let feed = if summary.feed_changed { "written to" } else { "unchanged at" };
        eprintln!(
            "podfeed: {} items ({} new, {} updated, {} unchanged, {} skipped, {} duplicates, {} failed); {} requests, {:.1} MB in {:.1} s; feed {feed} {}",
            summary.items,
            summary.new,
            summary.updated,
            summary.unchanged,
            summary.skipped,
            summary.duplicates,
            summary.failed,
            summary.requests,
            summary.bytes as f64 / 1e6,
            summary.elapsed_ms as f64 / 1e3,
            out.display()
        );
    }
    Ok(Ok(()))
}

impl Outcome {
    /// The outcome of runs reported with [`report`]: done when every one is.
    pub fn of_runs(failures: Vec<String>) -> Outcome {
        if failures.is_empty() {
            Outcome::Done
        } else {
            Outcome::NotDone(failures)
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
