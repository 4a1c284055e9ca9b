//! Shared test fixtures: a demo site on 127.0.0.1 and a podfeed run against it, in-process.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use podfeed::fetch::Client;
use podfeed::model::RunSummary;
use podfeed::pipeline::{Mode, PipelineError, Run, RunOptions};
use podfeed::recipe::Recipe;
use podfeed::store::Store;
use podfeed_demo::{DemoConfig, DemoSite};
use tempfile::TempDir;

/// A demo site plus a working folder holding the recipe, the cache and the feed.
pub struct Fixture {
    pub site: DemoSite,
    pub dir: TempDir,
    pub recipe_text: String,
}

impl Fixture {
    pub async fn new(episodes: u32, faults: bool) -> Fixture {
        Fixture::start(DemoConfig { episodes, latency: Duration::ZERO, faults, ..Default::default() }).await
    }

    pub async fn start(config: DemoConfig) -> Fixture {
        let site = DemoSite::start(config, 0).await.expect("demo site starts");
        // No re-check window: the demo's dates are fixed, and request counts must not depend on today.
        let recipe_text = site.recipe_text().replace("max_pages = 500", "max_pages = 500\nrecheck_days = 0");
        let dir = tempfile::tempdir().expect("temp dir");
        // The show's image goes beside the feed, as `podfeed demo` puts it: the build checks it there.
        std::fs::create_dir_all(dir.path().join("public")).expect("output folder");
        std::fs::write(dir.path().join("public/cover.png"), podfeed_demo::cover_png()).expect("cover written");
        let fixture = Fixture { site, dir, recipe_text };
        fixture.write_recipe(&fixture.recipe_text.clone());
        fixture
    }

    pub fn recipe_path(&self) -> PathBuf {
        self.dir.path().join("demo.toml")
    }

    pub fn write_recipe(&self, text: &str) {
        std::fs::write(self.recipe_path(), text).expect("recipe written");
    }

    pub fn feed_path(&self) -> PathBuf {
        self.dir.path().join("public/feed.xml")
    }

    pub fn cache_path(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    pub fn feed_bytes(&self) -> Vec<u8> {
        std::fs::read(self.feed_path()).expect("feed exists")
    }

    /// Runs a build in-process, the way `podfeed build` does; the cache is closed afterwards.
    pub async fn build(&self, mode: Mode) -> RunSummary {
        self.try_build(mode).await.expect("build succeeds")
    }

    pub async fn try_build(&self, mode: Mode) -> Result<RunSummary, PipelineError> {
        let store = self.open_store();
        self.run(&store).build(mode).await.map_err(|failed| failed.cause)
    }

    pub async fn refresh(&self, urls: &[String]) -> RunSummary {
        let urls = urls.iter().map(|u| url::Url::parse(u).expect("test URL")).collect();
        let store = self.open_store();
        self.run(&store).refresh(urls).await.expect("refresh succeeds")
    }

    pub fn open_store(&self) -> Store {
        // sled's flusher thread lets go of the file lock a moment after the last run's handle
        // is dropped.
        for _ in 0..100 {
            match Store::open(&self.cache_path()) {
                Err(podfeed::store::StoreError::Locked { .. }) => std::thread::sleep(Duration::from_millis(50)),
                result => return result.expect("cache opens"),
            }
        }
        Store::open(&self.cache_path()).expect("cache opens")
    }

    fn run<'s>(&self, store: &'s Store) -> Run<'s> {
        let recipe = Arc::new(Recipe::load(&self.recipe_path()).expect("valid recipe"));
        let client = Arc::new(Client::new(&recipe.http).expect("client").trusting(&recipe.own_urls()));
        Run::new(
            recipe,
            store,
            client,
            RunOptions { out: self.feed_path(), progress: Arc::new(podfeed::model::Unwatched), force: false },
        )
    }
}

/// `demo-2.toml` beside the fixture's recipe: the same show as another machine would have it,
/// with a title of its own, so its feed's bytes differ; its file name.
pub fn another_machines_recipe(fixture: &Fixture) -> &'static str {
    let text = std::fs::read_to_string(fixture.recipe_path()).expect("recipe");
    let other = text.replacen("title = \"", "title = \"Also ", 1);
    assert_ne!(other, text, "the demo recipe has a title");
    std::fs::write(fixture.dir.path().join("demo-2.toml"), other).expect("recipe written");
    "demo-2.toml"
}

/// The feed, read by an independent parser (feed-rs).
pub fn parse_feed(bytes: &[u8]) -> feed_rs::model::Feed {
    feed_rs::parser::parse(bytes).expect("feed-rs parses the feed")
}

/// Runs the `podfeed` binary in `dir`, as a user or cron would.
pub fn podfeed(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_podfeed"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("podfeed runs")
}

/// [`podfeed`] off the async runtime, so an in-process demo site keeps answering meanwhile.
pub async fn podfeed_async(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let (dir, args): (_, Vec<String>) = (dir.to_path_buf(), args.iter().map(|s| s.to_string()).collect());
    tokio::task::spawn_blocking(move || podfeed(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .expect("podfeed finished")
}

pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// How strictly a judge looks at the items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judging {
    /// Every item has a date, a duration and a sized enclosure.
    Strict,
    /// Items may lack those (a hostile site's pages do); the feed must still parse and hold
    /// every item under a unique guid.
    Lenient,
}

/// Runs one of the judges nobody here wrote on a feed file: `python3 tests/judges/pyjudges.py`
/// (feedparser and podcastparser) or `node tests/judges/partytime.cjs` (podcast-partytime).
/// Returns whether it accepted the feed, and what it said.
pub fn judge(program: &str, script: &str, feed: &std::path::Path, items: usize, judging: Judging) -> (bool, String) {
    let mut command = std::process::Command::new(program);
    command.arg(script).arg(feed).arg(items.to_string()).env("NODE_PATH", "tests/judges/node_modules");
    if judging == Judging::Lenient {
        command.arg("--lenient");
    }
    let out = command.output().unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// What a judge nobody here wrote needs on the machine (`.ci/run` installs each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// python3 with feedparser and podcastparser (`tests/judges/requirements.txt`).
    Python,
    /// node with podcast-partytime (`npm install --prefix tests/judges`).
    Node,
    /// Debian's chromium, headless.
    Chromium,
}

/// Whether CI runs the tests: `CI` set to anything but empty, `false` or `0` (`.ci/run` sets
/// `CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "false" | "0"))
}

/// Whether `tool` is there to judge with. In CI a missing one fails the test that wanted it: a
/// judge that silently does not run passes every feed. Elsewhere the test goes on without that
/// judge, and says so.
pub fn judge_present(tool: Tool) -> bool {
    let (program, args, install): (&str, &[&str], &str) = match tool {
        Tool::Python => {
            ("python3", &["-c", "import feedparser, podcastparser"], "pip install -r tests/judges/requirements.txt")
        }
        Tool::Node => ("node", &["-e", "require('podcast-partytime')"], "npm install --prefix tests/judges"),
        Tool::Chromium => ("chromium", &["--version"], "apt-get install chromium"),
    };
    let ran = std::process::Command::new(program)
        .args(args)
        .env("NODE_PATH", "tests/judges/node_modules")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if ran.is_ok_and(|status| status.success()) {
        return true;
    }
    let missing =
        format!("{tool:?} judge missing (`{program} {}` failed; `{install}`, or run .ci/run)", args.join(" "));
    assert!(!in_ci(), "{missing}: in CI every judge must run");
    eprintln!("note: {missing}: not judged here (CI fails instead)");
    false
}
