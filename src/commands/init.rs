//! `podfeed init URL [-o FILE] [--force]`: a recipe from what the site declares, and a report of
//! how it was found on stderr.

use std::io::Write;

use podfeed::fetch::Client;
use podfeed::init::{self, Episodes, Proposal, Reach};
use podfeed::recipe::{Http, Recipe};
use url::Url;

use super::{Outcome, UsageError};
use crate::cli::InitArgs;

/// Why init wrote no recipe, though the site could be read.
#[derive(Debug, thiserror::Error)]
enum NoRecipe {
    #[error("no recipe for {url}: {reason}")]
    NotFound { url: Url, reason: init::InitError },
    #[error("no recipe for {url}: no rule for {missing} works on the sampled episode pages")]
    NoRule { url: Url, missing: String },
}

pub async fn run(args: InitArgs) -> anyhow::Result<Outcome> {
    let url = Url::parse(&args.url).map_err(|e| UsageError(format!("{}: not an absolute URL: {e}", args.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UsageError(format!("{url}: not an http(s) URL")).into());
    }
    if let Some(path) = args.output.as_deref().filter(|path| path.exists() && !args.force) {
        return Err(UsageError(format!("{} exists; --force overwrites it", path.display())).into());
    }
    // The address given is the user's: trusted even on their own network. What its pages link
    // (the feed they name, say) is not.
    let client = Client::new(&Http::default())?.trusting([&url]).with_request_limit(init::MAX_PAGES as u64);
    let proposal = match init::discover(&client, &url).await {
        Ok(proposal) => proposal,
        Err(reason) if reason.is_not_found() => {
            return Ok(Outcome::NotDone(Some(NoRecipe::NotFound { url, reason }.into())));
        }
        Err(e) => return Err(e.into()),
    };
    // Without a title and audio rule there is no recipe podfeed would take.
    let missing: Vec<&str> = ["title", "audio"]
        .into_iter()
        .filter(|f| !proposal.fields.iter().any(|c| c.field == *f && !c.rules.is_empty()))
        .collect();
    if !missing.is_empty() || proposal.sampled.is_empty() {
        report(&proposal, &mut std::io::stderr())?;
        let missing = if missing.is_empty() { "title and audio".to_string() } else { missing.join(" and ") };
        return Ok(Outcome::NotDone(Some(NoRecipe::NoRule { url, missing }.into())));
    }
    let text = init::recipe_text(&proposal);
    // What init writes must be a recipe podfeed takes: a bug otherwise.
    let name = args.output.clone().unwrap_or_else(|| "init.toml".into());
    let recipe =
        Recipe::parse(&text, &name).map_err(|e| anyhow::anyhow!("init wrote a recipe podfeed refuses (a bug): {e}"))?;
    report(&proposal, &mut std::io::stderr())?;
    if let Some(page) = proposal.example.clone() {
        let (url, checked) = tokio::task::spawn_blocking(move || init::first_episode(&page, &recipe)).await?;
        match checked {
            Ok(e) => eprintln!(
                "check of {url}:\n  title {:?}\n  published {}\n  audio {}\n  duration {}",
                e.title,
                e.published.map(|d| d.to_rfc3339()).unwrap_or_else(|| "(none)".into()),
                e.enclosure.url,
                e.duration.map(podfeed::feed::format_duration).unwrap_or_else(|| "(none)".into()),
            ),
            Err(why) => eprintln!("check of {url}: {why}"),
        }
    }
    match &args.output {
        Some(path) => {
            podfeed::publish::write_atomic(path, text.as_bytes())?;
            eprintln!("podfeed: wrote {}", path.display());
        }
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    if let Some(path) = &args.output {
        let check = match proposal.episodes {
            Episodes::Items { .. } => format!("--listing {}", proposal.listing),
            Episodes::Links { .. } | Episodes::Lone { .. } => {
                proposal.sampled.first().map(Url::to_string).unwrap_or_default()
            }
        };
        eprintln!("podfeed: next: podfeed check --recipe {} {check}", path.display());
        eprintln!("podfeed: then: podfeed build --recipe {}", path.display());
    }
    Ok(Outcome::Done)
}

/// What init found, and from what, in a few lines.
fn report(proposal: &Proposal, out: &mut impl Write) -> std::io::Result<()> {
    match &proposal.episodes {
        Episodes::Lone { css: Some(_) } => {
            writeln!(out, "listing page   none found: only {} is read", proposal.listing)?
        }
        Episodes::Lone { css: None } => writeln!(
            out,
            "listing page   none found, and {} names no address of its own: `check` reads it, a build reads \
             nothing until `start` and `episodes` lead to it",
            proposal.listing
        )?,
        Episodes::Links { css, count } => {
            writeln!(out, "listing page   {}", proposal.listing)?;
            writeln!(out, "episode links  {css} ({count} on that page)")?
        }
        Episodes::Items { css, count } => {
            writeln!(out, "listing page   {}", proposal.listing)?;
            writeln!(out, "listing items  {css} ({count} on that page, each with its audio)")?
        }
    }
    match &proposal.reach {
        Reach::Follow(css) => writeln!(out, "next page      {css}")?,
        Reach::Numbered(template) => writeln!(out, "next page      by number: {template}")?,
        Reach::Sitemap { url, pages, .. } => {
            writeln!(out, "next page      none; the sitemap {url} lists {pages} episode pages")?
        }
        Reach::FirstPageOnly if matches!(proposal.episodes, Episodes::Lone { .. }) => {}
        Reach::FirstPageOnly => writeln!(out, "next page      none found: only the first listing page is read")?,
    }
    let samples = match proposal.episodes {
        Episodes::Links { .. } | Episodes::Lone { .. } => "episode pages",
        Episodes::Items { .. } => "listing items",
    };
    writeln!(out, "sampled        {} {samples} ({} requests in all)", proposal.sampled.len(), proposal.pages_fetched)?;
    if let Some(zone) = proposal.timezone {
        writeln!(out, "time zone      {} (the site's dates name it)", zone.name())?;
    }
    if let Some(feed) = &proposal.site_feed {
        let reaches = match proposal.reach {
            Reach::FirstPageOnly => "this recipe reads only the first listing page",
            _ => "this recipe reads the whole archive",
        };
        writeln!(out, "site's feed    {} has {} items; {reaches}", feed.url, feed.items)?;
    }
    if let Some(pages) = &proposal.item_pages {
        writeln!(out, "item pages     {} (read too: the items have no date)", pages.css)?;
    }
    let from_pages = proposal.item_pages.iter().flat_map(|p| &p.fields);
    if !proposal.fields.iter().chain(from_pages.clone()).any(|c| c.field == "published" && !c.rules.is_empty()) {
        writeln!(
            out,
            "published      none found: no episode will have a date, and apps sort undated items as they like"
        )?;
    }
    for choice in proposal.fields.iter().chain(from_pages) {
        for (i, (candidate, matched)) in choice.rules.iter().enumerate() {
            let field = if i == 0 { choice.field } else { "" };
            let mut rule = candidate.css.clone();
            if let Some(attr) = &candidate.attr {
                rule.push_str(&format!(" @{attr}"));
            }
            if let Some(json) = &candidate.json {
                rule.push_str(&format!(" {json}"));
            }
            if let Some(regex) = &candidate.regex {
                rule.push_str(&format!(" /{regex}/"));
            }
            writeln!(out, "{field:<14} {rule}  ({}, {matched}/{} samples)", candidate.evidence, choice.sampled)?;
        }
    }
    Ok(())
}
