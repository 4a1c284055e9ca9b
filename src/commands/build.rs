//! `podfeed build`: one recipe, or several sharing per-host limits.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use futures::stream::{self, StreamExt};
use podfeed::fetch::{Client, Limits};
use podfeed::pipeline::Mode;
use podfeed::recipe::{Http, PublishTarget, Recipe};
use podfeed::store::Store;

use super::{cache_dir, until_interrupted, Outcome, RunReport, Runs, Session, Ui, UsageError};
use crate::cli::{BuildArgs, CacheArgs};

/// Recipes built at once. Each run keeps far more pages in progress than the shared client
/// lets requests fly, so a few runs keep every host busy; running all of a folder's recipes at
/// once only holds their caches, tasks and pages in memory (200 recipes at once: 2.2 GB and
/// no faster). Each cache is open only while its recipe is built.
const RECIPES_AT_ONCE: usize = 8;

pub async fn run(args: BuildArgs, ui: Ui) -> anyhow::Result<Outcome> {
    let paths = recipe_files(&args.recipe)?;
    let options = &args.cache;
    if paths.len() > 1 && (options.cache.is_some() || options.out.is_some()) {
        return Err(UsageError("--cache and --out need a single recipe".into()).into());
    }
    if paths.len() > 1 && !args.publish.is_empty() {
        return Err(UsageError("--publish needs a single recipe (each recipe has `[output] publish`)".into()).into());
    }
    let extra_targets = args
        .publish
        .iter()
        .map(|text| PublishTarget::parse(text).map_err(|why| UsageError(format!("--publish {why}"))))
        .collect::<Result<Vec<_>, _>>()?;
    // Every recipe is read before anything is fetched: one invalid recipe stops the night.
    let mut recipes = paths.iter().map(|p| Recipe::load(p)).collect::<Result<Vec<_>, _>>()?;
    for recipe in &mut recipes {
        if let Some(n) = args.concurrency {
            recipe.http.concurrency = usize::from(n);
        }
        recipe.output.targets.extend(extra_targets.iter().cloned());
    }
    refuse_shared_caches(&recipes, options)?;
    refuse_shared_files(&recipes)?;
    // Each recipe has a client of its own (its user agent, robots.txt choice and addresses);
    // the limits on hosts, requests in flight and page text are the night's.
    let limits = Limits::new(&Http::shared(recipes.iter().map(|r| &r.http)), RECIPES_AT_ONCE.min(recipes.len()));
    let mode = match (args.full, args.reextract) {
        (_, true) => Mode::Reextract,
        (true, false) => Mode::Full,
        (false, false) => Mode::Incremental,
    };
    let open = OpenCaches::default();
    let builds = stream::iter(hosts_taking_turns(recipes))
        .map(|(index, recipe)| {
            let job = Job {
                options: options.clone(),
                limits: limits.clone(),
                open: open.clone(),
                force: args.force,
                reset_guids: args.reset_guids,
                mode,
                ui,
            };
            // A task of its own, on any worker thread: polled here, every run's blocking
            // moments (opening its cache, writing its feed, syncing) took turns on one thread
            // while the cores idled (200 quiet recipes: 5.3 s for 2.7 s of CPU).
            let task = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(job.build(recipe)));
            async move { (index, task.await.unwrap_or_else(|e| Err(anyhow::anyhow!("the run stopped: {e}")))) }
        })
        .buffer_unordered(RECIPES_AT_ONCE)
        .collect::<Vec<_>>();
    let Some(mut results) = until_interrupted(|| open.flush(), builds).await? else {
        return Ok(Outcome::Interrupted);
    };
    results.sort_by_key(|(index, _)| *index);
    let reports = results
        .into_iter()
        .map(|(index, result)| match result {
            Ok((outcome, out)) => RunReport::of(&out, outcome),
            // A cache that would not open fails its recipe alone; the others are reported.
            Err(error) => RunReport::not_started(&paths[index], error),
        })
        .collect();
    Ok(Outcome::Runs(Runs { reports, json: options.json, then: Vec::new() }))
}

/// Two recipes of one run with one cache folder (`cache/<file name>`) would mix their
/// episodes, one after the other: refused before anything is fetched.
fn refuse_shared_caches(recipes: &[Recipe], options: &CacheArgs) -> Result<(), UsageError> {
    let mut seen: HashMap<PathBuf, &Recipe> = HashMap::new();
    for recipe in recipes {
        let dir = cache_dir(options.cache.as_deref(), recipe);
        if let Some(first) = seen.insert(dir.clone(), recipe) {
            return Err(UsageError(format!(
                "{} and {} would share the cache {}: rename one of them",
                first.path.display(),
                recipe.path.display(),
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Two recipes of one night that write one file (a feed, its `.gz`, a split feed, an
/// `index.html`) would overwrite each other, the last to finish winning: refused before
/// anything is fetched.
fn refuse_shared_files(recipes: &[Recipe]) -> Result<(), UsageError> {
    let writes: Vec<Writes> = recipes.iter().map(Writes::of).collect();
    for (i, a) in writes.iter().enumerate() {
        for (b, recipe) in writes[..i].iter().zip(recipes) {
            if let Some(path) = a.shared_with(b) {
                return Err(UsageError(format!(
                    "{} and {} would both write {}: give one of them another [output] path",
                    recipe.path.display(),
                    recipes[i].path.display(),
                    path.display()
                )));
            }
        }
    }
    Ok(())
}

/// The files a recipe's build writes: the feed, its `.gz` and `index.html` where asked, and
/// with `split` its parts beside the feed (`feed-2017.xml`, `feed-season-3.xml`,
/// `feed-other.xml`, and their `.gz`).
struct Writes {
    files: Vec<PathBuf>,
    /// The feed, when split: its parts are beside it.
    split: Option<PathBuf>,
}

impl Writes {
    fn of(recipe: &Recipe) -> Writes {
        let output = &recipe.output;
        let feed = normalized(&output.path);
        let mut files = vec![feed.clone()];
        if output.gzip {
            files.push(podfeed::publish::gzip_path(&feed));
        }
        if output.html {
            files.push(feed.with_file_name("index.html"));
        }
        let split = output.split.map(|_| feed.clone());
        Writes { files, split }
    }

    /// Whether `path` is one of the split feeds (or their `.gz`) this recipe may write.
    fn is_part(&self, path: &std::path::Path) -> bool {
        let Some(feed) = &self.split else { return false };
        let name = |path: &std::path::Path| path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        path.parent() == feed.parent() && podfeed::publish::is_split_name(&name(feed), &name(path))
    }

    /// A file both would write, if any.
    fn shared_with(&self, other: &Writes) -> Option<PathBuf> {
        let mine = self.files.iter().find(|f| other.files.contains(f) || other.is_part(f));
        let theirs = || other.files.iter().find(|f| self.is_part(f));
        // Two split recipes with one folder and stem write the same parts (feed-other.xml).
        let parts = || match (&self.split, &other.split) {
            (Some(a), Some(b)) if a == b => {
                let name = a.file_name().unwrap_or_default().to_string_lossy().into_owned();
                let (stem, extension) = name.rsplit_once('.').unwrap_or((&name, "xml"));
                Some(a.with_file_name(format!("{stem}-other.{extension}")))
            }
            _ => None,
        };
        mine.or_else(theirs).cloned().or_else(parts)
    }
}

/// `path` absolute, with `.` and `..` resolved as written (not through symlinks).
fn normalized(path: &std::path::Path) -> PathBuf {
    use std::path::Component;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

type Built = (Result<podfeed::model::RunSummary, podfeed::pipeline::RunFailed>, PathBuf);

/// What building one recipe of the night needs.
struct Job {
    options: CacheArgs,
    limits: Arc<Limits>,
    open: OpenCaches,
    force: bool,
    reset_guids: bool,
    mode: Mode,
    ui: Ui,
}

impl Job {
    /// Opens the recipe's cache, builds its feed and closes the cache again.
    async fn build(self, recipe: Recipe) -> anyhow::Result<Built> {
        // Off the reactor: `--wait` sleeps until another run lets go of the cache.
        let client = Arc::new(Client::sharing(&recipe.http, self.limits)?.trusting(&recipe.own_urls()));
        let options = self.options;
        let session = tokio::task::spawn_blocking(move || Session::new(recipe, &options, client)).await??;
        let key = self.open.add(&session.store);
        let outcome = match reset_guids(&session, self.reset_guids) {
            Ok(()) => Ok(session.run(self.ui, self.force).build(self.mode).await),
            Err(e) => Err(e),
        };
        self.open.remove(key);
        Ok((outcome?, session.out))
    }
}

fn reset_guids(session: &Session, asked: bool) -> anyhow::Result<()> {
    if asked {
        let changed = session.store.reset_guids()?;
        tracing::warn!("{}: {changed} published guids reset to what the rules give", session.recipe.path.display());
    }
    Ok(())
}

/// The caches open at the moment, for Ctrl-C to flush.
#[derive(Clone, Default)]
struct OpenCaches(Arc<Mutex<(usize, HashMap<usize, Store>)>>);

impl OpenCaches {
    fn add(&self, store: &Store) -> usize {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        open.0 += 1;
        let key = open.0;
        open.1.insert(key, store.clone());
        key
    }

    fn remove(&self, key: usize) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).1.remove(&key);
    }

    fn flush(&self) -> anyhow::Result<()> {
        let open: Vec<Store> = self.0.lock().unwrap_or_else(|p| p.into_inner()).1.values().cloned().collect();
        open.iter().try_for_each(|store| store.flush().map_err(Into::into))
    }
}

/// The recipes (with their place on the command line) in an order that starts each host's
/// first recipe before any host's second: a folder of one network's shows, named alike, would
/// otherwise keep the first few runs on one host while the others wait.
fn hosts_taking_turns(recipes: Vec<Recipe>) -> Vec<(usize, Recipe)> {
    let mut turn_on_host: HashMap<String, usize> = HashMap::new();
    let mut ordered: Vec<(usize, usize, Recipe)> = recipes
        .into_iter()
        .enumerate()
        .map(|(index, recipe)| {
            let turn = turn_on_host.entry(host_of(&recipe)).or_default();
            *turn += 1;
            (*turn, index, recipe)
        })
        .collect();
    ordered.sort_by_key(|(turn, index, _)| (*turn, *index));
    ordered.into_iter().map(|(_, index, recipe)| (index, recipe)).collect()
}

/// The host a recipe's crawl starts on.
fn host_of(recipe: &Recipe) -> String {
    let first = recipe.crawl.start.first().or(recipe.crawl.sitemap.first());
    first.and_then(|url| url.host_str()).unwrap_or_default().to_string()
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
