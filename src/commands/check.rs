//! `podfeed check --recipe R URL`: what the recipe extracts from one page, rule by rule.

use std::io::Write;
use std::sync::Arc;

use podfeed::crawl::{self, ListingLinks};
use podfeed::extract::{self, FieldTrace, Item, NotAnEpisode, Unused};
use podfeed::fetch::{Client, Fetched, RequestKind};
use podfeed::model::{Episode, Page};
use podfeed::recipe::Recipe;
use podfeed::text::shorten;
use url::Url;

use super::{parse_urls, Outcome};
use crate::cli::CheckArgs;

/// One field as `check` shows it: where it came from and what it holds.
struct Shown {
    field: &'static str,
    /// The rule (`episode.audio[1]`, `listing.title`) or the default that applied.
    from: String,
    /// Whether a rule gave the value.
    found: bool,
    value: String,
    /// What the page held for the field; see [`FieldTrace::raw`].
    raw: Option<String>,
    unused: Option<Unused>,
}

pub async fn run(args: CheckArgs) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout();
    let recipe = Arc::new(Recipe::load(&args.recipe)?);
    let url = parse_urls(std::slice::from_ref(&args.url))?.remove(0);
    let client = Client::new(&recipe.http)?.trusting(recipe.own_urls().iter().chain([&url]));
    // The page asked for may be anywhere; its redirects stay on its host or in the recipe's scope.
    let in_scope = |to: &Url| recipe.crawl.in_scope(to) || to.host_str() == url.host_str() && to.port() == url.port();
    if args.listing {
        let page = fetch(&client, &url, RequestKind::Listing, &in_scope).await?;
        return check_listing(page, recipe, &mut out).await;
    }
    // With [listing], the episode's item is part of it: looked for on the first listing pages.
    let item = match &recipe.listing {
        Some(_) => find_item(&client, &recipe, &recipe.crawl.canonical(url.clone()), &mut out).await?,
        None => None,
    };
    let (shown, episode) = if !recipe.crawl.reads_episode_pages() {
        // The recipe reads no episode page: the item is the episode.
        let Some(item) = item else {
            writeln!(out, "→ not a feed item: this recipe reads only listing items, and none links to {url}")?;
            return Ok(Outcome::NotDone(None));
        };
        (item_fields(&item), item.fields.into_episode(url.as_str(), url.to_string()))
    } else {
        let page = fetch(&client, &url, RequestKind::Episode, &in_scope).await?;
        if page.final_url != page.url {
            writeln!(out, "{} redirected to {}", page.url, page.final_url)?;
        }
        page_fields(page, recipe.clone(), item).await?
    };
    for field in &shown {
        // URLs whole: a cut one cannot be tried in a browser.
        let value = if is_url_field(field.field) { field.value.clone() } else { shorten(&field.value, 100) };
        writeln!(out, "{:<12} {:<22} {value}", field.field, field.from)?;
    }
    let mut warnings = warnings(&recipe, &shown);
    let outcome = match &episode {
        Ok(episode) => {
            if let Some(warning) = probe(&client, episode, &mut out).await? {
                warnings.push(warning);
            }
            writeln!(out, "\n→ a feed item with guid {}", episode.guid)?;
            Outcome::Done
        }
        Err(reason) => {
            writeln!(out, "\n→ not a feed item: {reason}")?;
            Outcome::NotDone(None)
        }
    };
    for warning in warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(outcome)
}

async fn fetch(
    client: &Client,
    url: &Url,
    kind: RequestKind,
    in_scope: &(dyn Fn(&Url) -> bool + Sync),
) -> anyhow::Result<Page> {
    match client.page(url, kind, None, in_scope).await {
        Ok(Fetched::Page(page, _held)) => Ok(page),
        Ok(Fetched::NotModified) => anyhow::bail!("{url}: unexpected 304 Not Modified"),
        Err(e) => anyhow::bail!("{url}: {e}"),
    }
}

/// The episode page's fields over its listing item's, rule by rule.
async fn page_fields(
    page: Page,
    recipe: Arc<Recipe>,
    item: Option<Item>,
) -> anyhow::Result<(Vec<Shown>, Result<Episode, NotAnEpisode>)> {
    let listed = item.as_ref().map(|item| item.fields.clone()).unwrap_or_default();
    let parse_recipe = recipe.clone();
    let (extracted, trace) =
        tokio::task::spawn_blocking(move || extract::extract_over(&page, &parse_recipe.episode, listed)).await?;
    let mut shown: Vec<Shown> = trace
        .into_iter()
        .map(|t| Shown { from: rule_name(&recipe, "episode", &t), found: t.rule.is_some(), ..shown(t) })
        .collect();
    if let Some(item) = &item {
        // Where the page gives nothing, the item's value stands.
        let from_item = item_fields(item);
        for field in shown.iter_mut().filter(|f| !f.found && !matches!(f.field, "link" | "guid")) {
            if let Some(listed) = from_item.iter().find(|l| l.field == field.field && (l.found || l.raw.is_some())) {
                field.from = listed.from.clone();
                field.found = listed.found;
                field.value = listed.value.clone();
                if field.raw.is_none() {
                    (field.raw, field.unused) = (listed.raw.clone(), listed.unused.clone());
                }
            }
        }
    }
    Ok((shown, extracted.map(|e| e.episode)))
}

fn shown(trace: FieldTrace) -> Shown {
    Shown {
        field: trace.field,
        from: String::new(),
        found: trace.rule.is_some(),
        value: extract::shown_value(trace.field, trace.value),
        raw: trace.raw,
        unused: trace.unused,
    }
}

/// A listing item's fields, as `check` shows them.
fn item_fields(item: &Item) -> Vec<Shown> {
    item.fields
        .named()
        .into_iter()
        .map(|(field, value)| {
            let dropped = item.dropped.iter().find(|d| d.field == field);
            let from = match value {
                Some(_) => format!("listing.{field}"),
                None if field == "link" => "(default: first link)".into(),
                None => "(no rule matched)".into(),
            };
            let value = value.map(|v| extract::shown_value(field, v.to_string()));
            let value = value.or_else(|| (field == "link").then(|| item.link.to_string()));
            Shown {
                field,
                from,
                found: value.is_some(),
                value: value.unwrap_or_default(),
                raw: dropped.map(|d| d.value.clone()),
                unused: dropped.map(|d| d.reason.clone()),
            }
        })
        .filter(|f| f.found || f.raw.is_some() || matches!(f.field, "title" | "audio" | "published" | "duration"))
        .collect()
}

/// The item for `url` on the recipe's first listing pages (`start`, and `pages`' first number),
/// said on `out` either way.
async fn find_item(
    client: &Client,
    recipe: &Arc<Recipe>,
    url: &Url,
    out: &mut impl Write,
) -> anyhow::Result<Option<Item>> {
    let first_numbered = recipe.crawl.pages.as_ref().and_then(|p| p.url(p.from));
    let listings: Vec<Url> = recipe.crawl.start.iter().cloned().chain(first_numbered).collect();
    let in_scope = |to: &Url| recipe.crawl.in_scope(to);
    for listing in &listings {
        let Ok(page) = fetch(client, listing, RequestKind::Listing, &in_scope).await else { continue };
        let found = read_listing(page, recipe.clone()).await?;
        if let Some(item) = found.items.into_iter().find(|item| item.link == *url) {
            writeln!(out, "its listing item is on {listing}\n")?;
            return Ok(Some(item));
        }
    }
    let listings = listings.iter().map(Url::as_str).collect::<Vec<_>>().join(", ");
    writeln!(
        out,
        "no listing item links to it on {listings}: only the page's own fields are shown \
         (`podfeed check --listing URL` shows the items of another listing page)\n"
    )?;
    Ok(None)
}

async fn read_listing(page: Page, recipe: Arc<Recipe>) -> anyhow::Result<ListingLinks> {
    Ok(tokio::task::spawn_blocking(move || crawl::read_listing_page(&page, &recipe)).await??)
}

/// The enclosure's size and type, as a build would learn them; or why they cannot be.
async fn probe(client: &Client, episode: &Episode, out: &mut impl Write) -> anyhow::Result<Option<String>> {
    let audio = match Url::parse(&episode.enclosure.url) {
        Ok(audio) => audio,
        Err(e) => return Ok(Some(format!("the audio URL is not absolute: {e}"))),
    };
    match client.probe(&audio).await {
        Ok(probe) => {
            writeln!(
                out,
                "{:<12} {:<22} {} bytes, {}",
                "enclosure",
                "(HEAD or range probe)",
                probe.length.map_or("unknown".into(), |n| n.to_string()),
                probe.mime_type.as_deref().unwrap_or("no type given")
            )?;
            Ok(None)
        }
        Err(e) => Ok(Some(format!("the enclosure {audio} cannot be probed: {e}"))),
    }
}

fn is_url_field(field: &str) -> bool {
    matches!(field, "audio" | "link" | "guid" | "image" | "transcript" | "chapters")
}

/// `check --listing URL`: the links, the items and the numbered pages the crawl would find on
/// one listing page.
async fn check_listing(page: Page, recipe: Arc<Recipe>, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let url = Url::parse(&page.url)?;
    let found = read_listing(page, recipe.clone()).await?;
    let list = |urls: &[Url]| urls.iter().map(|u| format!("\n             {u}")).collect::<String>();
    let links = |selector: &Option<_>, urls: &[Url]| match selector {
        Some(_) => format!("{} links{}", urls.len(), list(urls)),
        None => "(no rule)".to_string(),
    };
    writeln!(out, "{:<12} {}", "episodes", links(&recipe.crawl.episodes, &found.episodes))?;
    writeln!(out, "{:<12} {}", "follow", links(&recipe.crawl.follow, &found.follow))?;
    let nothing = found.episodes.is_empty() && found.items.is_empty();
    if let Some(pages) = &recipe.crawl.pages {
        let said = match pages.number_of(&url) {
            Some(n) if nothing => format!("page {n} of crawl.pages: the numbered pages end here (nothing on it)"),
            Some(n) => match pages.url(n.saturating_add(1)) {
                Some(next) => format!("page {n} of crawl.pages; the next is {next}"),
                None => format!("page {n} of crawl.pages, the last (crawl.to)"),
            },
            None => format!("not one of crawl.pages ({})", pages.template),
        };
        writeln!(out, "{:<12} {said}", "pages")?;
    }
    match &recipe.listing {
        Some(_) => writeln!(out, "{:<12} {} items", "items", found.items.len())?,
        None => writeln!(out, "{:<12} (no [listing])", "items")?,
    }
    for item in &found.items {
        writeln!(out, "\n{}", item.link)?;
        for field in item_fields(item) {
            let value = match field.found {
                true if is_url_field(field.field) => field.value,
                true => shorten(&field.value, 100),
                false => "(none)".into(),
            };
            writeln!(out, "  {:<12} {value}", field.field)?;
        }
        for dropped in &item.dropped {
            writeln!(out, "  warning: {dropped}")?;
        }
    }
    if nothing {
        writeln!(out, "\n→ no episode link and no item on this page")?;
    }
    Ok(if nothing { Outcome::NotDone(None) } else { Outcome::Done })
}

/// `episode.audio[1]`, `episode.title`, or the default that applied.
fn rule_name(recipe: &Recipe, table: &str, field: &FieldTrace) -> String {
    let count = recipe.episode.rules_for(field.field).len();
    match (field.rule, count) {
        (Some(_), 1) => format!("{table}.{}", field.field),
        (Some(i), _) => format!("{table}.{}[{i}]", field.field),
        (None, 0) if field.field == "link" => "(default: page URL)".into(),
        (None, 0) if field.field == "guid" => "(default: link)".into(),
        (None, 0) => "(no rule)".into(),
        (None, _) => "(no rule matched)".into(),
    }
}

/// The recipe's `published` rules, the episode pages' and the listing items'.
fn published_rules(recipe: &Recipe) -> impl Iterator<Item = &podfeed::recipe::Rule> {
    recipe.episode.published.iter().chain(recipe.listing.iter().flat_map(|l| &l.rules.published))
}

fn warnings(recipe: &Recipe, shown: &[Shown]) -> Vec<String> {
    let field = |name: &str| shown.iter().find(|f| f.field == name);
    let missing = |name: &str| field(name).is_some_and(|f| !f.found);
    let raw = |name: &str| field(name).and_then(|f| f.raw.clone());
    let mut warnings = Vec::new();
    match (missing("audio"), raw("audio")) {
        (true, _) => warnings.push("no enclosure: podcast apps cannot play this episode".into()),
        (false, Some(raw)) if Url::parse(&raw).is_err() => warnings
            .push(format!("the audio URL {raw:?} is relative; it was resolved against the page, check the result")),
        (false, _) => {}
    }
    for dropped in shown.iter().filter(|f| !f.found) {
        match (&dropped.raw, &dropped.unused) {
            (Some(raw), Some(Unused::NotUnderstood(why))) => {
                let hint = match dropped.field {
                    "published" if published_rules(recipe).any(|r| r.format.is_some()) => {
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
