//! `podfeed demo` and `podfeed demo-site`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use podfeed::pipeline::Mode;
use podfeed::recipe::Recipe;
use podfeed_demo::{DemoConfig, DemoSite, Theme};

use std::sync::Arc;

use podfeed::fetch::Client;

use super::{Outcome, RunReport, Runs, Session, Ui};
use crate::cli::{CacheArgs, DemoArgs, DemoSiteArgs, DemoSiteOptions};

fn config(options: &DemoSiteOptions) -> DemoConfig {
    DemoConfig {
        episodes: options.episodes,
        latency: Duration::from_millis(options.latency_ms),
        faults: options.faults,
        hostile: options.hostile,
        theme: options.theme,
        ..DemoConfig::default()
    }
}

/// Starts the demo site on a free port and builds its feed with the bundled recipe, or (with
/// `--init`, and for the themes the bundled recipe was not written for) the one init writes.
pub async fn run(args: DemoArgs, ui: Ui) -> anyhow::Result<Outcome> {
    let site = DemoSite::start(config(&args.site), 0).await?;
    let bundled = matches!(args.site.theme, Theme::Classic | Theme::Listing);
    let recipe = if args.init || !bundled { written_by_init(&site, &args.out).await? } else { site.recipe_text() };
    let recipe = Recipe::parse(&recipe, Path::new("recipes/demo.toml"))?;
    // The site gets a new port every time, so its URLs are new too: start from an empty cache.
    let cache = tempfile::tempdir()?;
    let out = args.out.join("feed.xml");
    let client = Arc::new(Client::new(&recipe.http)?.trusting(&recipe.own_urls()));
    let options =
        CacheArgs { cache: Some(cache.path().to_path_buf()), out: Some(out.clone()), json: args.json, wait: false };
    let session = Session::new(recipe, &options, client)?;
    if !ui.quiet {
        eprintln!("podfeed: demo site with {} episodes at {}/", site.latest(), site.base_url());
    }
    // The show's image is served beside the feed: there first, where the build checks it.
    std::fs::create_dir_all(&args.out)?;
    podfeed::publish::write_atomic(&args.out.join("cover.png"), &podfeed_demo::cover_png())?;
    let outcome = session.run(ui, false).build(Mode::Incremental).await;
    let shown = std::fs::canonicalize(&out).unwrap_or_else(|_| out.clone());
    let then = match ui.quiet {
        true => Vec::new(),
        false => vec![
            format!("the demo feed is {}", shown.display()),
            format!("see it with `{} serve --dir {}` and http://127.0.0.1:8000/", invocation(), args.out.display()),
        ],
    };
    Ok(Outcome::Runs(Runs { reports: vec![RunReport::of(&out, outcome)], json: args.json, then }))
}

/// The recipe `podfeed init` writes for the site, also saved beside `out` (see [`recipe_beside`]).
async fn written_by_init(site: &DemoSite, out: &Path) -> anyhow::Result<String> {
    let home = url::Url::parse(&format!("{}/", site.base_url()))?;
    let proposal =
        podfeed::init::discover(&Client::new(&podfeed::recipe::Http::default())?.trusting([&home]), &home).await?;
    let text = podfeed::init::recipe_text(&proposal);
    std::fs::create_dir_all(out)?;
    let path = recipe_beside(out)?;
    podfeed::publish::write_atomic(&path, text.as_bytes())?;
    eprintln!(
        "podfeed: init wrote {} (beside the output folder, which is what gets served) from {} pages of the site",
        path.display(),
        proposal.pages_fetched
    );
    Ok(text)
}

/// Where `demo --init` keeps its recipe: beside the output folder, named after it
/// (`public` → `public.recipe.toml`), never in it, where `serve` or a web server would publish it.
fn recipe_beside(out: &Path) -> anyhow::Result<PathBuf> {
    // `.`, `..` or a trailing `/..` name no folder: the real path does.
    let folder = match out.file_name() {
        Some(_) => out.to_path_buf(),
        None => std::fs::canonicalize(out)?,
    };
    let Some(name) = folder.file_name() else {
        anyhow::bail!("{}: no folder beside it to write the recipe in; pass another --out", out.display());
    };
    let mut file = name.to_owned();
    file.push(".recipe.toml");
    Ok(folder.with_file_name(file))
}

/// Serves the demo site until Ctrl-C.
pub async fn run_site(args: DemoSiteArgs) -> anyhow::Result<Outcome> {
    let site = DemoSite::start(config(&args.site), args.port).await?;
    eprintln!("podfeed: demo site with {} episodes at {}/archive; Ctrl-C stops it", site.latest(), site.base_url());
    tokio::signal::ctrl_c().await?;
    Ok(Outcome::Done)
}

/// How to run podfeed again the way it was run now: `cargo run [--release] --` from a cargo
/// build (the README's first command), `podfeed` once installed, so the hint works either way.
fn invocation() -> &'static str {
    let exe = std::env::current_exe().unwrap_or_default();
    match exe.parent().and_then(|dir| dir.file_name()).and_then(|name| name.to_str()) {
        Some("release") => "cargo run --release --",
        Some("debug") => "cargo run --",
        _ => "podfeed",
    }
}
