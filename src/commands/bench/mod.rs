//! `podfeed bench`: the benchmark harness. Starts the demo site in this process and runs
//! `podfeed build` as a child for each scenario, measuring the child alone: wall time, CPU time
//! (user + sys) and peak RSS from `wait4`, and requests by kind as the site counted them.
//! `--shows N` measures many recipes in one run instead (see `many`).

mod many;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use podfeed_demo::{DemoConfig, DemoSite, SiteStats, Theme};

use crate::cli::BenchArgs;
use crate::commands::Outcome;

/// One measured run.
struct Measured {
    scenario: &'static str,
    wall: Duration,
    cpu: Duration,
    peak_rss_kib: u64,
    site: SiteStats,
    /// CPU the demo site (this process) used meanwhile: on a 2-core machine it competes.
    site_cpu: Duration,
    items: u64,
}

impl Measured {
    /// The first cells of a table row: run, wall, CPU, peak RSS.
    fn cost_cells(&self) -> String {
        format!(
            "| {} | {:.2} s | {:.2} s | {:.1} MiB |",
            self.scenario,
            self.wall.as_secs_f64(),
            self.cpu.as_secs_f64(),
            self.peak_rss_kib as f64 / 1024.0
        )
    }
}

pub async fn run(args: BenchArgs) -> anyhow::Result<Outcome> {
    if args.shows > 0 {
        return many::run(args).await;
    }
    if args.peer && args.theme == Theme::Blog {
        bail!("bench/peer.py has no selectors for the blog theme: --peer runs on the others");
    }
    let config = DemoConfig {
        episodes: args.episodes,
        latency: Duration::from_millis(args.latency_ms),
        faults: args.faults,
        theme: args.theme,
        ..DemoConfig::default()
    };
    let site = DemoSite::start(config.clone(), 0).await?;
    let dir = tempfile::tempdir()?;
    write_recipe(&site, &config, dir.path()).await?;
    let build = |extra: &[&str]| -> Vec<String> {
        let mut args_out = vec!["build", "--recipe", "demo.toml", "--cache", "cache", "--out", "public/feed.xml"];
        args_out.extend_from_slice(&["--json", "--quiet"]);
        args_out.extend_from_slice(extra);
        args_out.into_iter().map(String::from).collect()
    };
    let concurrency = args.concurrency.to_string();
    let mut results = Vec::new();
    for scenario in ["cold", "warm", "3 new episodes", "--reextract"] {
        let mut extra = vec!["--concurrency", concurrency.as_str()];
        match scenario {
            "3 new episodes" => site.set_latest(site.latest() + 3),
            "--reextract" => extra.push("--reextract"),
            _ => {}
        }
        site.reset_stats();
        let command = build(&extra);
        let site_cpu_before = own_cpu();
        let measured = tokio::task::spawn_blocking({
            let dir = dir.path().to_path_buf();
            move || measure(&dir, &command)
        })
        .await??;
        results.push(Measured { scenario, site: site.stats(), site_cpu: own_cpu() - site_cpu_before, ..measured });
    }
    let check = time_feed_check(&dir.path().join("public/feed.xml"))?;
    if args.peer {
        // A site of its own, as new as podfeed's cold run found it: the same faults, once each.
        let peer_site = DemoSite::start(config, 0).await?;
        let url = format!("{}{}", peer_site.base_url(), archive_of(args.theme));
        let site_cpu_before = own_cpu();
        let measured = tokio::task::spawn_blocking({
            let dir = dir.path().to_path_buf();
            let theme = theme_name(args.theme);
            move || measure_peer(&dir, &url, &theme)
        })
        .await??;
        results.push(Measured { site: peer_site.stats(), site_cpu: own_cpu() - site_cpu_before, ..measured });
    }
    print_report(&args, &results, &check);
    Ok(Outcome::Done)
}

/// The recipe the runs build with, as `demo.toml` in `dir`: the bundled one where there is one
/// for the theme, else the one `podfeed init` writes from the archive of a site of its own like
/// `config` (so the runs meet the measured site as new, its faults included), pointed at `site`.
async fn write_recipe(site: &DemoSite, config: &DemoConfig, dir: &Path) -> anyhow::Result<()> {
    let recipe = dir.join("demo.toml");
    match config.theme {
        Theme::Classic => std::fs::write(&recipe, site.recipe_text())?,
        Theme::Listing => std::fs::write(&recipe, site.recipe_text_of(podfeed_demo::DEMO_LISTING_RECIPE))?,
        theme => {
            let init_site = DemoSite::start(config.clone(), 0).await?;
            let url = format!("{}{}", init_site.base_url(), archive_of(theme));
            let exe = std::env::current_exe().context("cannot find the podfeed binary")?;
            let (in_dir, asked) = (dir.to_path_buf(), url.clone());
            let out = tokio::task::spawn_blocking(move || {
                Command::new(exe).args(["init", &asked, "-o", "demo.toml", "--quiet"]).current_dir(in_dir).output()
            })
            .await??;
            if !out.status.success() {
                bail!("podfeed init {url} failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            let written = std::fs::read_to_string(&recipe)?;
            std::fs::write(&recipe, written.replace(&init_site.base_url(), &site.base_url()))?;
        }
    }
    // The show's image beside the feed, as `podfeed demo` puts it: the build checks it there.
    std::fs::create_dir_all(dir.join("public"))?;
    std::fs::write(dir.join("public/cover.png"), podfeed_demo::cover_png())?;
    Ok(())
}

/// Where a theme's archive starts.
fn archive_of(theme: Theme) -> &'static str {
    match theme {
        Theme::Listing => "/list",
        Theme::Wordpress => "/category/podcast/",
        Theme::Blog => "/",
        Theme::Classic | Theme::Modern | Theme::Radio => "/archive",
    }
}

/// The theme as the command line and the peer name it.
fn theme_name(theme: Theme) -> String {
    clap::ValueEnum::to_possible_value(&theme).map(|v| v.get_name().to_string()).unwrap_or_default()
}

/// What the check before publishing costs (it runs in every build): the same check of the feed
/// the runs published, best of three.
struct FeedCheck {
    bytes: u64,
    time: Duration,
}

fn time_feed_check(feed: &Path) -> anyhow::Result<FeedCheck> {
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        podfeed::verify::check_file(feed)?;
        best = best.min(started.elapsed());
    }
    Ok(FeedCheck { bytes: std::fs::metadata(feed)?.len(), time: best })
}

/// The tutorials' script (`bench/peer.py`), as a cold run of its own.
const PEER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/peer.py");

/// Runs the peer script against `archive` and reads its resource use like podfeed's.
fn measure_peer(dir: &Path, archive: &str, theme: &str) -> anyhow::Result<Measured> {
    if !Path::new(PEER).is_file() {
        bail!("{PEER} is missing: --peer runs from the repository it was built in");
    }
    let args = [PEER.to_string(), archive.to_string(), "peer.xml".to_string(), theme.to_string()];
    let mut measured = measure_program(dir, Path::new("python3"), &args)
        .context("the peer needs python3 with `pip install -r bench/requirements.txt`")?;
    measured.scenario = "peer: asyncio + aiohttp + BeautifulSoup, cold";
    Ok(measured)
}

/// Runs one `podfeed build` child and reads its resource use with `wait4`.
fn measure(dir: &Path, args: &[String]) -> anyhow::Result<Measured> {
    let exe: PathBuf = std::env::current_exe().context("cannot find the podfeed binary")?;
    measure_program(dir, &exe, args)
}

/// Runs a child that prints a JSON summary with `items` (one per recipe), and reads its
/// resource use with `wait4`.
fn measure_program(dir: &Path, program: &Path, args: &[String]) -> anyhow::Result<Measured> {
    let started = Instant::now();
    let child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", program.display()))?;
    let pid = child.id() as libc::pid_t;
    let stdout = child.stdout;
    let output = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut out) = stdout {
            let _ = std::io::Read::read_to_string(&mut out, &mut text);
        }
        text
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet waited for; both out-pointers are valid.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    if waited != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("{} {} failed (status {status})", program.display(), args.join(" "));
    }
    let output = output.join().unwrap_or_default();
    let summaries = serde_json::Deserializer::from_str(&output).into_iter::<serde_json::Value>();
    let summaries = summaries.collect::<Result<Vec<_>, _>>().context("the run printed no JSON summary")?;
    if summaries.is_empty() {
        bail!("the run printed no JSON summary");
    }
    Ok(Measured {
        scenario: "",
        wall,
        cpu: cpu_of(&usage),
        peak_rss_kib: usage.ru_maxrss as u64,
        site: SiteStats::default(),
        site_cpu: Duration::ZERO,
        items: summaries.iter().map(|summary| summary["items"].as_u64().unwrap_or(0)).sum(),
    })
}

fn cpu_of(usage: &libc::rusage) -> Duration {
    let timeval = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

/// CPU time this process (the demo site) has used so far.
fn own_cpu() -> Duration {
    // SAFETY: an all-zero rusage is a valid value; getrusage fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid out-pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    cpu_of(&usage)
}

fn print_report(args: &BenchArgs, results: &[Measured], check: &FeedCheck) {
    println!(
        "demo site: {} theme, {} episodes, {} ms latency, faults {}; concurrency {}\n",
        theme_name(args.theme),
        args.episodes,
        args.latency_ms,
        if args.faults { "on" } else { "off" },
        args.concurrency
    );
    println!("| run | wall | CPU (user+sys) | peak RSS | requests (listing / episode / audio HEAD / range / redirect / other) | latency floor | items | CPU per page read | demo site CPU |");
    println!("|---|---:|---:|---:|---|---:|---:|---:|---:|");
    for m in results {
        let s = &m.site;
        let floor = s.total() as f64 * args.latency_ms as f64 / 1000.0 / args.concurrency as f64;
        let pages = s.listing + s.episode;
        let per_page = match pages {
            0 => "–".to_string(),
            _ => format!("{:.2} ms", m.cpu.as_secs_f64() * 1000.0 / pages as f64),
        };
        println!(
            "{} {} ({} / {} / {} / {} / {} / {}) | {:.2} s | {} | {per_page} | {:.2} s |",
            m.cost_cells(),
            s.total(),
            s.listing,
            s.episode,
            s.audio_head,
            s.audio_range,
            s.redirects,
            s.other + s.audio_full,
            floor,
            m.items,
            m.site_cpu.as_secs_f64()
        );
    }
    if let (Some(cold), Some(peer)) = (results.first(), results.iter().find(|m| m.scenario.starts_with("peer"))) {
        let ratio = |ours: f64, theirs: f64| if ours > 0.0 { theirs / ours } else { f64::NAN };
        println!(
            "\nThe peer against podfeed's cold run: {:.1}× the wall time, {:.1}× the CPU, {:.1}× the peak memory.",
            ratio(cold.wall.as_secs_f64(), peer.wall.as_secs_f64()),
            ratio(cold.cpu.as_secs_f64(), peer.cpu.as_secs_f64()),
            ratio(cold.peak_rss_kib as f64, peer.peak_rss_kib as f64)
        );
    }
    if let Some(cold) = results.first() {
        println!(
            "\nIn the cold run the site delayed its answers by {:.2} ms on average ({} ms configured).",
            cold.site.mean_delay.as_secs_f64() * 1000.0,
            args.latency_ms
        );
        println!(
            "Checking the feed before publishing ({:.1} MB) takes {:.0} ms: {:.1} % of the cold run.",
            check.bytes as f64 / 1e6,
            check.time.as_secs_f64() * 1000.0,
            100.0 * check.time.as_secs_f64() / cold.wall.as_secs_f64()
        );
    }
}
