//! `podfeed check --recipe R URL`: what the recipe extracts from one page, rule by rule.

use std::io::Write;

use podfeed::crawl;
use podfeed::extract::{self, shorten, FieldTrace, Unused};
use podfeed::fetch::{Client, Fetched, RequestKind};
use podfeed::recipe::Recipe;
use url::Url;

use super::parse_urls;
use crate::cli::{CheckArgs, EXIT_FAILED, EXIT_OK};

pub async fn run(args: CheckArgs) -> anyhow::Result<u8> {
    let mut out = std::io::stdout();
    let recipe = std::sync::Arc::new(Recipe::load(&args.recipe)?);
    let url = parse_urls(std::slice::from_ref(&args.url))?.remove(0);
    let client = Client::new(&recipe.http)?;
    // The page asked for may be anywhere; its redirects stay on its host or in the recipe's scope.
    let in_scope = |to: &Url| recipe.crawl.in_scope(to) || to.host_str() == url.host_str();
    if args.listing {
        return check_listing(&client, recipe.clone(), &url, &in_scope, &mut out).await;
    }
    let page = match client.page(&url, RequestKind::Episode, None, &in_scope).await {
        Ok(Fetched::Page(page, _held)) => page,
        Ok(Fetched::NotModified) => anyhow::bail!("{url}: unexpected 304 Not Modified"),
        Err(e) => anyhow::bail!("{url}: {e}"),
    };
    if page.final_url != page.url {
        writeln!(out, "{} redirected to {}", page.url, page.final_url)?;
    }
    let parse_recipe = recipe.clone();
    let (extracted, trace) =
        tokio::task::spawn_blocking(move || extract::extract_traced(&page, &parse_recipe.episode)).await?;
    let episode = extracted.map(|e| e.episode);

    for field in &trace {
        // URLs whole: a cut one cannot be tried in a browser.
        let value = if is_url_field(field.field) { field.value.clone() } else { shorten(&field.value, 100) };
        writeln!(out, "{:<12} {:<22} {value}", field.field, rule_name(&recipe, field))?;
    }
    let mut warnings = warnings(&recipe, &trace);
    let code = match &episode {
        Ok(episode) => {
            match Url::parse(&episode.enclosure.url) {
                Ok(audio) => match client.probe(&audio).await {
                    Ok(probe) => writeln!(
                        out,
                        "{:<12} {:<22} {} bytes, {}",
                        "enclosure",
                        "(HEAD or range probe)",
                        probe.length.map_or("unknown".into(), |n| n.to_string()),
                        probe.mime_type.as_deref().unwrap_or("no type given")
                    )?,
                    Err(e) => warnings.push(format!("the enclosure {audio} cannot be probed: {e}")),
                },
                Err(e) => warnings.push(format!("the audio URL is not absolute: {e}")),
            }
            writeln!(out, "\n→ a feed item with guid {}", episode.guid)?;
            EXIT_OK
        }
        Err(reason) => {
            writeln!(out, "\n→ not a feed item: {reason}")?;
            EXIT_FAILED
        }
    };
    for warning in warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(code)
}

fn is_url_field(field: &str) -> bool {
    matches!(field, "audio" | "link" | "guid" | "image" | "transcript" | "chapters")
}

/// `check --listing URL`: the links and the items the crawl would find on one listing page.
async fn check_listing(
    client: &Client,
    recipe: std::sync::Arc<Recipe>,
    url: &Url,
    in_scope: &(dyn Fn(&Url) -> bool + Sync),
    out: &mut impl Write,
) -> anyhow::Result<u8> {
    let page = match client.page(url, RequestKind::Listing, None, in_scope).await {
        Ok(Fetched::Page(page, _held)) => page,
        Ok(Fetched::NotModified) => anyhow::bail!("{url}: unexpected 304 Not Modified"),
        Err(e) => anyhow::bail!("{url}: {e}"),
    };
    let found = tokio::task::spawn_blocking(move || crawl::read_listing_page(&page, &recipe)).await??;
    let list = |urls: &[Url]| urls.iter().map(Url::as_str).collect::<Vec<_>>().join("\n             ");
    writeln!(out, "{:<12} {} links\n             {}", "episodes", found.episodes.len(), list(&found.episodes))?;
    writeln!(out, "{:<12} {} links\n             {}", "follow", found.follow.len(), list(&found.follow))?;
    writeln!(out, "{:<12} {} items", "items", found.items.len())?;
    for item in &found.items {
        let f = &item.fields;
        writeln!(out, "\n{}", item.link)?;
        for (name, value) in
            [("title", &f.title), ("audio", &f.audio), ("published", &f.published), ("duration", &f.duration)]
        {
            writeln!(out, "  {name:<10} {}", value.as_deref().unwrap_or("(none)"))?;
        }
        for dropped in &item.dropped {
            writeln!(out, "  warning: {dropped}")?;
        }
    }
    let nothing = found.episodes.is_empty() && found.items.is_empty();
    if nothing {
        writeln!(out, "\n→ no episode link and no item on this page")?;
    }
    Ok(if nothing { EXIT_FAILED } else { EXIT_OK })
}

/// `episode.audio[1]`, `episode.title`, or the default that applied.
fn rule_name(recipe: &Recipe, field: &FieldTrace) -> String {
    let count = recipe.episode.rules_for(field.field).len();
    match (field.rule, count) {
        (Some(_), 1) => format!("episode.{}", field.field),
        (Some(i), _) => format!("episode.{}[{i}]", field.field),
        (None, 0) if field.field == "link" => "(default: page URL)".into(),
        (None, 0) if field.field == "guid" => "(default: link)".into(),
        (None, 0) => "(no rule)".into(),
        (None, _) => "(no rule matched)".into(),
    }
}

fn warnings(recipe: &Recipe, trace: &[FieldTrace]) -> Vec<String> {
    let field = |name: &str| trace.iter().find(|f| f.field == name);
    let missing = |name: &str| field(name).is_some_and(|f| f.rule.is_none());
    let raw = |name: &str| field(name).and_then(|f| f.raw.clone());
    let mut warnings = Vec::new();
    match (missing("audio"), raw("audio")) {
        // Said below, with the reason.
        (true, Some(_)) => warnings.push("no enclosure: podcast apps cannot play this episode".into()),
        (true, None) => warnings.push("no enclosure: podcast apps cannot play this episode".into()),
        (false, Some(raw)) if Url::parse(&raw).is_err() => warnings
            .push(format!("the audio URL {raw:?} is relative; it was resolved against the page, check the result")),
        (false, _) => {}
    }
    for dropped in trace.iter().filter(|f| f.rule.is_none()) {
        match (&dropped.raw, &dropped.unused) {
            (Some(raw), Some(Unused::NotUnderstood(why))) => {
                let hint = match dropped.field {
                    "published" if recipe.episode.published.iter().any(|r| r.format.is_some()) => {
                        "; neither the rule's `format` nor the built-in forms read it"
                    }
                    "published" => "; add `format` to the rule",
                    _ => "",
                };
                warnings.push(format!("{}: {raw:?} {why}{hint}", dropped.field));
            }
            (Some(raw), Some(Unused::OutOfRange(why))) => {
                warnings.push(format!("the {} {:?} is {why}: dropped", dropped.field, shorten(raw, 60)))
            }
            _ => {}
        }
    }
    if missing("published") && raw("published").is_none() {
        warnings.push("no date: apps will sort this episode as the oldest".into());
    }
    if missing("duration") && raw("duration").is_none() {
        warnings.push("no duration: apps show no length until they download the file".into());
    }
    if missing("guid") && !recipe.episode.guid.is_empty() {
        warnings.push("the guid rule matched nothing; the link is used, which changes if the site moves pages".into());
    }
    warnings
}
