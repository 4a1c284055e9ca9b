//! `podfeed list`: what the cache holds, without touching the network.

use std::io::Write;

use podfeed::feed::{self, format_duration};
use podfeed::recipe::Recipe;
use podfeed::store::{Duplicate, Failure};

use super::{cache_dir, open_store, Outcome};
use crate::cli::ListArgs;

pub fn run(args: ListArgs) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    let recipe = Recipe::load(&args.recipe)?;
    let store = open_store(&cache_dir(args.cache.cache.as_deref(), &recipe), args.cache.wait)?;
    if args.failed {
        let mut failures = store.failures()?;
        failures.extend(store.probe_failures()?);
        return records(&mut out, &failures, args.cache.json, failure_line);
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
        return Ok(Outcome::Done);
    }
    for e in &episodes {
        let date = e.published.map_or("----------".into(), |d| d.format("%Y-%m-%d").to_string());
        let length = e.duration.map_or("-".into(), format_duration);
        let pinned = match store.rule_guid(&e.guid)? {
            Some(rule_guid) => format!("  (published guid, kept; the rules give <{rule_guid}>)"),
            None => String::new(),
        };
        writeln!(out, "{date}  {length:>8}  {}  <{}>{pinned}", e.title, e.guid)?;
    }
    eprintln!("{} episodes in {}", episodes.len(), store.dir().display());
    let duplicates = store.duplicates()?.len();
    if duplicates > 0 {
        eprintln!("{duplicates} more pages have the audio of one of these: `podfeed list --duplicates` names them");
    }
    Ok(Outcome::Done)
}

/// Prints records as a JSON array, or one line each.
fn records<T: serde::Serialize>(
    out: &mut impl Write,
    records: &[T],
    json: bool,
    line: impl Fn(&T) -> String,
) -> anyhow::Result<Outcome> {
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(records)?)?;
    } else {
        for record in records {
            writeln!(out, "{}", line(record))?;
        }
    }
    Ok(Outcome::Done)
}

/// `2026-11-27 03:17  URL  reason`, and for an enclosure which episode page gives it and when it
/// is tried again.
fn failure_line(f: &Failure) -> String {
    let when = |at: &chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d %H:%M").to_string();
    let mut line = format!("{}  {}  {}", when(&f.at), f.url, f.reason);
    if let Some(page) = &f.enclosure_of {
        let tried = if f.attempts == 0 { attempts(0) } else { format!("{} failed", attempts(f.attempts)) };
        line.push_str(&format!(" (enclosure of {page}; {tried}; probed from "));
        line.push_str(&f.retry_at.as_ref().map_or("the next run".into(), when));
        line.push(')');
    } else if f.attempts > 1 {
        line.push_str(&format!(" ({} in a row)", attempts(f.attempts)));
    }
    line
}

fn attempts(n: u32) -> String {
    if n == 1 {
        "1 attempt".into()
    } else {
        format!("{n} attempts")
    }
}
