//! How a command ended, typed: `main` alone turns it into the last lines and the exit code.

use std::path::{Path, PathBuf};

use podfeed::model::RunSummary;
use podfeed::pipeline::RunFailed;

/// How a command ended; an error (`Err`) is the other way.
#[derive(Debug)]
pub enum Outcome {
    /// It did what was asked: a recipe written, a page that is a feed item, a listing shown.
    Done,
    /// Runs of recipes, in the order of their files: each published (or up to date), or not.
    Runs(Runs),
    /// It could not do what was asked, and why (`None` when its own report on stdout says it,
    /// as `check`'s does).
    NotDone(Option<anyhow::Error>),
    /// Ctrl-C: the open caches were saved first.
    Interrupted,
}

/// The runs of one command.
#[derive(Debug, Default)]
pub struct Runs {
    pub reports: Vec<RunReport>,
    /// Each run's JSON object goes to stdout (`--json`).
    pub json: bool,
    /// What to say once every run has published (the demo's hint of where to look).
    pub then: Vec<String>,
}

/// One recipe's run, as it ended.
#[derive(Debug)]
pub struct RunReport {
    /// Where its feed goes.
    pub out: PathBuf,
    pub result: Result<RunSummary, NotPublished>,
}

/// A run that did not publish: what it did, and why it stopped.
#[derive(Debug)]
pub struct NotPublished {
    pub summary: RunSummary,
    pub why: anyhow::Error,
}

impl RunReport {
    /// A run as the pipeline ended it.
    pub fn of(out: &Path, result: Result<RunSummary, RunFailed>) -> RunReport {
        let result = result.map_err(|failed| NotPublished { summary: *failed.summary, why: failed.cause.into() });
        RunReport { out: out.to_path_buf(), result }
    }

    /// A run that could not start (its cache would not open, say).
    pub fn not_started(recipe: &Path, why: anyhow::Error) -> RunReport {
        let result = Err(NotPublished { summary: RunSummary::of(recipe), why });
        RunReport { out: PathBuf::new(), result }
    }
}

impl Outcome {
    /// The outcome of one run.
    pub fn of_run(report: RunReport, json: bool) -> Outcome {
        Outcome::Runs(Runs { reports: vec![report], json, then: Vec::new() })
    }
}

/// The line a run that published ends with: what it did, and where the feed is.
pub fn summary_line(summary: &RunSummary, out: &Path) -> String {
    let feed = if summary.feed_changed { "written to" } else { "unchanged at" };
    format!(
        "{} items ({} new, {} updated, {} unchanged, {} skipped, {} duplicates, {} failed); {} requests, {:.1} MB in {:.1} s; feed {feed} {}",
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
    )
}
