//! `podfeed build`: one recipe, or several sharing one HTTP client and its per-host limits.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use futures::future::join_all;
use podfeed::fetch::Client;
use podfeed::pipeline::Mode;
use podfeed::recipe::{Http, Recipe};

use super::{report, until_interrupted, Session, Ui, UsageError};
use crate::cli::{BuildArgs, EXIT_INTERRUPTED, EXIT_OK};

pub async fn run(args: BuildArgs, ui: Ui) -> anyhow::Result<u8> {
    let paths = recipe_files(&args.recipe)?;
    let options = &args.cache;
    if paths.len() > 1 && (options.cache.is_some() || options.out.is_some()) {
        return Err(UsageError("--cache and --out need a single recipe".into()).into());
    }
    let mut recipes = paths.iter().map(|p| Recipe::load(p)).collect::<Result<Vec<_>, _>>()?;
    for recipe in &mut recipes {
        if let Some(n) = args.concurrency {
            recipe.http.concurrency = usize::from(n);
        }
    }
    let client = Arc::new(Client::new(&Http::shared(recipes.iter().map(|r| &r.http)))?);
    let sessions = recipes
        .into_iter()
        .map(|recipe| Session::new(recipe, options, client.clone()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mode = match (args.full, args.reextract) {
        (_, true) => Mode::Reextract,
        (true, false) => Mode::Full,
        (false, false) => Mode::Incremental,
    };
    if args.reset_guids {
        for session in &sessions {
            let changed = session.store.reset_guids()?;
            tracing::warn!("{}: {changed} published guids reset to what the rules give", session.recipe.path.display());
        }
    }
    let runs: Vec<_> = sessions.iter().map(|s| s.run(ui, args.force)).collect();
    let Some(results) = until_interrupted(&sessions, join_all(runs.iter().map(|run| run.build(mode)))).await? else {
        return Ok(EXIT_INTERRUPTED);
    };
    let mut code = EXIT_OK;
    for (session, result) in sessions.iter().zip(results) {
        code = code.max(report(result, &session.out, options.json, ui)?);
    }
    Ok(code)
}

/// The recipe files named: files as given, folders as the `*.toml` files inside, sorted.
fn recipe_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read folder {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            inside.sort();
            if inside.is_empty() {
                return Err(UsageError(format!("{} holds no *.toml recipe", path.display())).into());
            }
            files.extend(inside);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}
