//! The `podfeed` binary: parses the command line, runs one command, and turns how it ended into
//! an exit code and the last lines on stderr (the one place that does).

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use commands::{NotPublished, Outcome, Runs};
use podfeed::model::RunSummary;
use podfeed::recipe::RecipeError;

/// Done: every feed published (or already up to date), the recipe written, the page a feed item.
const EXIT_OK: u8 = 0;
/// Not done: a run could not publish, init found no recipe, the page is no feed item.
const EXIT_FAILED: u8 = 1;
/// Bad usage or an invalid recipe.
const EXIT_USAGE: u8 = 2;
/// Interrupted by Ctrl-C (128 + SIGINT); the open caches were saved first.
const EXIT_INTERRUPTED: u8 = 130;

/// jemalloc instead of glibc's malloc: a page's parse makes tens of thousands of small
/// allocations, which jemalloc serves from a per-thread cache where glibc's threads queue on a
/// few shared heaps (or keep many heaps' freed memory). Measured in BENCHMARKS.md (issue 26):
/// −13 % CPU re-reading 10,000 pages, and a 200-recipe night at 131 MiB instead of 191.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // A monitoring script that asked for JSON gets JSON even for a mistyped flag.
            if error.use_stderr() && std::env::args_os().any(|arg| arg == "--json") {
                let rendered = error.to_string();
                let first = rendered.lines().next().unwrap_or_default().trim_start_matches("error: ");
                println!("{}", commands::json_error(&anyhow::anyhow!("{first}")));
            }
            error.exit()
        }
    };
    commands::init_logging(cli.verbose);
    let ui = commands::Ui { quiet: cli.quiet, verbose: cli.verbose };
    let json = cli.command.json();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return ExitCode::from(conclude(Err(error.into()), json, ui)),
    };
    let ended = runtime.block_on(run(cli.command, ui));
    // Said before the runtime waits for what is still running (a Ctrl-C's work cut short).
    let code = conclude(ended, json, ui);
    drop(runtime);
    ExitCode::from(code)
}

/// Runs one command.
async fn run(command: Command, ui: commands::Ui) -> anyhow::Result<Outcome> {
    match command {
        Command::Build(args) => commands::build::run(args, ui).await,
        Command::Refresh(args) => commands::refresh::run(args, ui).await,
        Command::Check(args) => commands::check::run(args).await,
        Command::List(args) => commands::list::run(args),
        Command::Init(args) => commands::init::run(args).await,
        Command::Demo(args) => commands::demo::run(args, ui).await,
        Command::DemoSite(args) => commands::demo::run_site(args).await,
        Command::Bench(args) => commands::bench::run(args).await,
        Command::Serve(args) => commands::serve::run(args).await,
        Command::Completions { shell } => commands::serve::completions(shell),
        Command::Man => commands::serve::man(),
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}

/// The one place a command's end becomes its last lines and its exit code.
fn conclude(ended: anyhow::Result<Outcome>, json: bool, ui: commands::Ui) -> u8 {
    match ended {
        Ok(Outcome::Done) => EXIT_OK,
        Ok(Outcome::Runs(runs)) => tell_runs(runs, ui),
        Ok(Outcome::NotDone(why)) => {
            if let Some(why) = why {
                eprintln!("podfeed: {why:#}");
            }
            EXIT_FAILED
        }
        Ok(Outcome::Interrupted) => {
            eprintln!("podfeed: interrupted; the cache is saved and no feed was changed by the runs cut short");
            EXIT_INTERRUPTED
        }
        // `podfeed list | head` closing the pipe early is not an error.
        Err(error) if is_broken_pipe(&error) => EXIT_OK,
        Err(error) => {
            eprintln!("podfeed: error: {error:#}");
            if json {
                println!("{}", commands::json_error(&error));
            }
            exit_code_of(&error)
        }
    }
}

/// Each run in the order of its recipe: its JSON object on stdout with `--json` (whether or not
/// it published), then why it could not publish, or its summary line (see
/// [`commands::Ui::summary_line`]); the command's closing words once every run published.
fn tell_runs(runs: Runs, ui: commands::Ui) -> u8 {
    let mut code = EXIT_OK;
    for report in runs.reports {
        let (summary, why) = match report.result {
            Ok(summary) => (summary, None),
            Err(NotPublished { summary, why }) => {
                let why = format!("{why:#}");
                (RunSummary { error: Some(why.clone()), ..summary }, Some(why))
            }
        };
        if runs.json {
            match serde_json::to_string(&summary) {
                Ok(line) => println!("{line}"),
                Err(e) => eprintln!("podfeed: error: {}: no JSON: {e}", summary.recipe),
            }
        }
        match why {
            Some(why) => {
                eprintln!("podfeed: error: {}: {why}", summary.recipe);
                code = EXIT_FAILED;
            }
            None if ui.summary_line() => eprintln!("podfeed: {}", commands::summary_line(&summary, &report.out)),
            None => {}
        }
    }
    if code == EXIT_OK {
        for line in runs.then {
            eprintln!("podfeed: {line}");
        }
    }
    code
}

/// A command that stopped with an error: a usage error or an invalid recipe, else a failure.
fn exit_code_of(error: &anyhow::Error) -> u8 {
    if error.chain().any(|cause| cause.is::<RecipeError>() || cause.is::<commands::UsageError>()) {
        EXIT_USAGE
    } else {
        EXIT_FAILED
    }
}
