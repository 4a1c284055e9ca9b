//! `podfeed list`: what the cache holds, without touching the network.

use std::io::Write;

use podfeed::feed::{self, format_duration};
use podfeed::recipe::Recipe;
use podfeed::store::{Duplicate, Failure};

use super::{cache_dir, open_store};
use crate::cli::{ListArgs, EXIT_OK};

pub fn run(args: ListArgs) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    let recipe = Recipe::load(&args.recipe)?;
    let store = open_store(&cache_dir(args.cache.cache.as_deref(), &recipe), args.cache.wait)?;
    if args.failed {
        let line = |f: &Failure| format!("{}  {}  {}", f.at.format("%Y-%m-%d %H:%M"), f.url, f.reason);
        return records(&mut out, &store.failures()?, args.cache.json, line);
    }
    if args.duplicates {
        let line =
            |d: &Duplicate| format!("{}  {}  same audio as <{}>", d.at.format("%Y-%m-%d %H:%M"), d.page_url, d.of);
        return records(&mut out, &store.duplicates()?, args.cache.json, line);
    }
    let keys = feed::in_feed_order(store.feed_keys()?, 0);
    let episodes = keys.iter().filter_map(|key| store.episode(&key.guid).transpose()).collect::<Result<Vec<_>, _>>()?;
    if args.cache.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&episodes)?)?;
        return Ok(EXIT_OK);
    }
    for e in &episodes {
        let date = e.published.map_or("----------".into(), |d| d.format("%Y-%m-%d").to_string());
        let length = e.duration.map_or("-".into(), format_duration);
        writeln!(out, "{date}  {length:>8}  {}  <{}>", e.title, e.guid)?;
    }
    eprintln!("{} episodes in {}", episodes.len(), store.dir().display());
    let duplicates = store.duplicates()?.len();
    if duplicates > 0 {
        eprintln!("{duplicates} more pages have the audio of one of these: `podfeed list --duplicates` names them");
    }
    Ok(EXIT_OK)
}

/// Prints records as a JSON array, or one line each.
fn records<T: serde::Serialize>(
    out: &mut impl Write,
    records: &[T],
    json: bool,
    line: impl Fn(&T) -> String,
) -> anyhow::Result<u8> {
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(records)?)?;
    } else {
        for record in records {
            writeln!(out, "{}", line(record))?;
        }
    }
    Ok(EXIT_OK)
}
