//! `podfeed bench --shows N`: a household's or a small network's feeds in one nightly run.
//! N demo shows of 50 to 500 episodes on a few hosts (127.0.0.1, 127.0.0.2, ...: podfeed's
//! per-host limits go by host name), one generated recipe each, built together with
//! `podfeed build --recipe DIR`, cold and then warm.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use podfeed_demo::{DemoConfig, DemoSite, InFlight};

use super::{measure, own_cpu, Measured};
use crate::cli::BenchArgs;
use crate::commands::Outcome;

/// Shows of one host, and the requests in flight there at once.
struct Host {
    address: IpAddr,
    in_flight: Arc<InFlight>,
    sites: Vec<DemoSite>,
}

impl Host {
    fn requests(&self) -> u64 {
        self.sites.iter().map(|site| site.stats().total()).sum()
    }
}

/// One run of all recipes, with what each host saw.
struct Night {
    measured: Measured,
    /// Per host: requests, and the most in flight at once.
    hosts: Vec<(u64, u32)>,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<Outcome> {
    let hosts = start_hosts(&args).await?;
    let dir = tempfile::tempdir()?;
    write_recipes(&args, &hosts, dir.path())?;
    let mut nights = Vec::new();
    for scenario in ["cold", "warm"] {
        for host in &hosts {
            host.in_flight.reset();
            host.sites.iter().for_each(DemoSite::reset_stats);
        }
        let command = ["build", "--recipe", "recipes", "--json", "--quiet"].map(String::from).to_vec();
        let site_cpu_before = own_cpu();
        let measured = tokio::task::spawn_blocking({
            let dir = dir.path().to_path_buf();
            move || measure(&dir, &command)
        })
        .await??;
        let per_host = hosts.iter().map(|h| (h.requests(), h.in_flight.most())).collect();
        nights.push(Night {
            measured: Measured { scenario, site_cpu: own_cpu() - site_cpu_before, ..measured },
            hosts: per_host,
        });
    }
    print_report(&args, &hosts, &nights);
    Ok(Outcome::Done)
}

/// Episodes of show `k` of `shows`: evenly from 50 to 500.
fn episodes_of(k: usize, shows: usize) -> u32 {
    let spread = 450 * k / shows.saturating_sub(1).max(1);
    50 + u32::try_from(spread).unwrap_or(450)
}

/// The demo sites, show `k` on host `k % hosts`, so that every host gets short and long shows.
async fn start_hosts(args: &BenchArgs) -> anyhow::Result<Vec<Host>> {
    let mut hosts: Vec<Host> = (0..args.hosts)
        .map(|h| Host {
            address: IpAddr::V4(Ipv4Addr::new(127, 0, 0, h + 1)),
            in_flight: Arc::default(),
            sites: Vec::new(),
        })
        .collect();
    let count = hosts.len();
    for k in 0..args.shows {
        let host = &mut hosts[k % count];
        let config = DemoConfig {
            episodes: episodes_of(k, args.shows),
            latency: Duration::from_millis(args.latency_ms),
            faults: args.faults,
            address: host.address,
            host_in_flight: Some(host.in_flight.clone()),
            ..DemoConfig::default()
        };
        let site = DemoSite::start(config, 0).await.with_context(|| {
            format!("cannot start a demo site on {} (is it a loopback address here?)", host.address)
        })?;
        host.sites.push(site);
    }
    Ok(hosts)
}

/// `recipes/show-NNN.toml` for every show: the demo recipe with its own feed folder (and the
/// show's image beside the feed, as `podfeed demo` puts it) and the per-host limit.
fn write_recipes(args: &BenchArgs, hosts: &[Host], dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join("recipes"))?;
    let sites = (0..args.shows).map(|k| &hosts[k % hosts.len()].sites[k / hosts.len()]);
    for (k, site) in sites.enumerate() {
        let name = format!("show-{k:03}");
        let text = replace_all(
            &site.recipe_text(),
            &[
                ("path = \"public/feed.xml\"", &format!("path = \"public/{name}/feed.xml\"")),
                ("http://127.0.0.1:8000/", &format!("http://127.0.0.1:8000/{name}/")),
                ("concurrency = 32 ", &format!("concurrency = {}\nper_host = {} ", args.concurrency, args.per_host)),
            ],
        )?;
        let text = match &args.publish {
            Some(url) => replace_all(
                &text,
                &[("[output]\n", &format!("[output]\npublish = [{:?}]\n", url.replace("{show}", &name)))],
            )?,
            None => text,
        };
        std::fs::write(dir.join("recipes").join(format!("{name}.toml")), text)?;
        std::fs::create_dir_all(dir.join("public").join(&name))?;
        std::fs::write(dir.join("public").join(&name).join("cover.png"), podfeed_demo::cover_png())?;
    }
    Ok(())
}

/// `text` with each `(from, to)` replaced, failing if the demo recipe no longer says `from`.
fn replace_all(text: &str, replacements: &[(&str, &str)]) -> anyhow::Result<String> {
    let mut text = text.to_string();
    for (from, to) in replacements {
        if !text.contains(from) {
            bail!("the demo recipe no longer holds `{from}`: the bench cannot make a show of it");
        }
        text = text.replace(from, to);
    }
    Ok(text)
}

fn print_report(args: &BenchArgs, hosts: &[Host], nights: &[Night]) {
    let episodes: u64 = (0..args.shows).map(|k| u64::from(episodes_of(k, args.shows))).sum();
    println!(
        "{} shows ({} episodes in all, 50 to 500 each) on {} hosts, {} ms latency, faults {}; concurrency {}, per host {}\n",
        args.shows,
        episodes,
        hosts.len(),
        args.latency_ms,
        if args.faults { "on" } else { "off" },
        args.concurrency,
        args.per_host
    );
    println!("| run | wall | CPU (user+sys) | peak RSS | items | requests | busiest host: requests, floor | target | most in flight per host | demo sites CPU |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|");
    for night in nights {
        let m = &night.measured;
        let busiest = night.hosts.iter().map(|(requests, _)| *requests).max().unwrap_or(0);
        let floor = busiest as f64 * args.latency_ms as f64 / 1000.0 / f64::from(args.per_host);
        let target = if m.scenario == "cold" { format!("≤ {:.2} s", 1.3 * floor + 2.0) } else { "≤ 3 s".into() };
        let most: Vec<String> = night.hosts.iter().map(|(_, most)| most.to_string()).collect();
        println!(
            "{} {} | {} | {}, {:.2} s | {} | {} | {:.2} s |",
            m.cost_cells(),
            m.items,
            night.hosts.iter().map(|(requests, _)| requests).sum::<u64>(),
            busiest,
            floor,
            target,
            most.join(" / "),
            m.site_cpu.as_secs_f64()
        );
    }
}
