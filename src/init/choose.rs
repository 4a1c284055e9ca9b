//! Choosing each field's rules: every candidate found on the samples is tried on all of them
//! with podfeed's own extraction (a trial recipe), and the first (most trusted) rule that works
//! on every sample is kept; else the fewest rules, most trusted first, that together cover the
//! most samples.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use scraper::Selector;
use url::Url;

use super::candidate::Candidate;
use super::evidence;
use super::titles::{self, PageNames};
use super::{parsed, write};
use crate::extract;
use crate::model::Page;
use crate::recipe::Recipe;

/// Candidate rules tried per field at most.
const MAX_CANDIDATES: usize = 12;
/// Listing items read at most to choose their rules.
const MAX_ITEMS: usize = 200;

/// Fields whose value names one episode: a rule that gives two samples the same value reads
/// something sitewide (the show's name in a heading, an organisation's JSON-LD, the site's
/// description), not the episode.
const DISTINCT: [&str; 4] = ["title", "link", "audio", "description"];

/// Fields that episodes may share (two published on one day) but not all of them.
const SITEWIDE: [&str; 2] = ["published", "duration"];

/// The rules chosen for one field, each with the samples it matched, of `sampled`.
#[derive(Debug, Clone)]
pub struct FieldChoice {
    pub field: &'static str,
    pub rules: Vec<(Candidate, usize)>,
    pub sampled: usize,
}

/// Values of each field on one sample, by field.
type Values = HashMap<&'static str, String>;

/// The rules for episode pages, from the sampled pages.
pub(super) async fn page_rules(samples: &[Page], listing: &Url) -> Vec<FieldChoice> {
    let (samples, listing) = (samples.to_vec(), listing.clone());
    let choose = move || {
        let docs: Vec<_> = samples.iter().map(parsed).collect();
        let found = gather(docs.iter().map(evidence::candidates));
        let names: Vec<PageNames> = docs.iter().map(PageNames::of).collect();
        drop(docs);
        let evaluate = |recipe: &Recipe| -> Vec<Values> {
            samples
                .iter()
                .map(|page| {
                    let (_, trace) = extract::extract_traced(page, &recipe.episode);
                    trace.into_iter().filter(|t| t.rule.is_some()).map(|t| (t.field, t.value)).collect()
                })
                .collect()
        };
        choose(&found, &names, |rules| write::trial_recipe(&listing, None, rules), evaluate)
    };
    tokio::task::spawn_blocking(choose).await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// The rules for the listing items `item` selects on `page`, from those items; and the items'
/// links.
pub(super) async fn item_rules(page: &Page, item: &str) -> (Vec<FieldChoice>, Vec<Url>) {
    let (page, item) = (page.clone(), item.to_string());
    let choose = move || {
        let Ok(listing) = Url::parse(&page.url) else { return (Vec::new(), Vec::new()) };
        let base = Url::parse(&page.final_url).unwrap_or_else(|_| listing.clone());
        let doc = parsed(&page);
        let Ok(items) = Selector::parse(&item) else { return (Vec::new(), Vec::new()) };
        let elements: Vec<_> = doc.select(&items).take(MAX_ITEMS).collect();
        let found = gather(elements.iter().map(|element| evidence::item_candidates(*element, &base)));
        let budget = crate::html::Budget::start();
        let read = |recipe: &Recipe| -> Vec<extract::Item> {
            let Some(rules) = &recipe.listing else { return Vec::new() };
            extract::listing_items(&doc, &page, rules, MAX_ITEMS, &budget).unwrap_or_default()
        };
        let evaluate = |recipe: &Recipe| -> Vec<Values> {
            read(recipe)
                .into_iter()
                .map(|item| item.fields.named().into_iter().filter_map(|(f, v)| Some((f, v?.to_string()))).collect())
                .collect()
        };
        let trial = |rules: &BTreeMap<&'static str, Candidate>| write::trial_recipe(&listing, Some(&item), rules);
        let choices = choose(&found, &vec![PageNames::default(); elements.len()], trial, evaluate);
        // The items' links, as the recipe will read them.
        let text = write::trial_recipe(&listing, Some(&item), &BTreeMap::new());
        let links = Recipe::parse(&text, Path::new("init.toml"))
            .map(|recipe| read(&recipe).into_iter().map(|item| item.link).collect())
            .unwrap_or_default();
        (choices, links)
    };
    tokio::task::spawn_blocking(choose).await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// Each field's candidates from every sample, each once, at most [`MAX_CANDIDATES`]: a page of
/// thousands of look-alike players is no reason to try them all.
fn gather(
    per_sample: impl Iterator<Item = BTreeMap<&'static str, Vec<Candidate>>>,
) -> BTreeMap<&'static str, Vec<Candidate>> {
    let mut found: BTreeMap<&'static str, Vec<Candidate>> = BTreeMap::new();
    for candidates in per_sample {
        for (field, candidates) in candidates {
            let list = found.entry(field).or_default();
            for candidate in candidates {
                if !list.contains(&candidate) && list.len() < MAX_CANDIDATES {
                    list.push(candidate);
                }
            }
        }
    }
    found
}

/// For each field, the rules to keep: see the module's comment. `trial` writes a recipe with
/// one candidate per field; `evaluate` reads every sample with it; `names` are what each sample
/// says of itself (none for listing items).
fn choose(
    found: &BTreeMap<&'static str, Vec<Candidate>>,
    names: &[PageNames],
    trial: impl Fn(&BTreeMap<&'static str, Candidate>) -> String,
    evaluate: impl Fn(&Recipe) -> Vec<Values>,
) -> Vec<FieldChoice> {
    let samples = names.len();
    // A candidate no recipe can hold (a selector the recipe's parser refuses) is dropped alone,
    // so that it does not spoil the round of every field it would be tried with.
    let holds = |field: &'static str, c: &Candidate| {
        let alone = BTreeMap::from([(field, c.clone())]);
        Recipe::parse(&trial(&alone), Path::new("init.toml")).is_ok()
    };
    let mut found: BTreeMap<&'static str, Vec<Candidate>> = found
        .iter()
        .map(|(field, list)| (*field, list.iter().filter(|c| holds(field, c)).cloned().collect()))
        .collect();
    let mut read = evaluated(&found, samples, &trial, &evaluate);
    // Titles that carry the site's name: their twins without it, read the same way.
    if let (Some(titles), Some(values)) = (found.get("title"), read.get("title")) {
        let twins: Vec<Candidate> = titles
            .iter()
            .zip(values)
            .filter_map(|(candidate, values)| titles::trimmed(candidate, values, names))
            .filter(|twin| holds("title", twin))
            .collect();
        let twins = BTreeMap::from([("title", twins)]);
        let twin_values = evaluated(&twins, samples, &trial, &evaluate);
        found.entry("title").or_default().extend(twins.into_values().flatten());
        read.entry("title").or_default().extend(twin_values.into_values().flatten());
    }
    write::FIELDS
        .iter()
        .filter_map(|field| {
            let (candidates, values) = (found.get(field)?, read.get(field)?);
            let mut covered: Vec<Vec<bool>> = values.iter().map(|v| coverage(field, v, names)).collect();
            let mut candidates = candidates.clone();
            if *field != "title" {
                let mut rules = pick(&candidates, &covered, samples);
                if *field == "audio" {
                    rules.extend(fallback(&rules, &candidates, &covered));
                }
                return Some(FieldChoice { field, rules, sampled: samples });
            }
            // Titles: in the order of what names the episode best, each next rule for the pages
            // the ones before it leave without a title.
            let nearly = |row: &Vec<bool>| row.iter().filter(|c| **c).count() * 10 >= samples * 9;
            let full: Vec<bool> = covered.iter().map(nearly).collect();
            let heading: Vec<bool> = candidates.iter().map(|c| c.evidence.starts_with(evidence::HEADING)).collect();
            let order = titles::order(values, &full, &heading, names);
            candidates = order.iter().map(|i| candidates[*i].clone()).collect();
            covered = order.iter().map(|i| covered[*i].clone()).collect();
            for (candidate, row) in candidates.iter().zip(&covered) {
                let count = row.iter().filter(|c| **c).count();
                tracing::debug!("init: title {} {:?} covers {count} of {samples}", candidate.css, candidate.regex);
            }
            let mut rules = pick_in_order(&candidates, &covered);
            rules.extend(fallback(&rules, &candidates, &covered));
            Some(FieldChoice { field, rules, sampled: samples })
        })
        .collect()
}

/// Each candidate's value on each sample, by field, in the candidates' order.
fn evaluated(
    found: &BTreeMap<&'static str, Vec<Candidate>>,
    samples: usize,
    trial: &impl Fn(&BTreeMap<&'static str, Candidate>) -> String,
    evaluate: &impl Fn(&Recipe) -> Vec<Values>,
) -> BTreeMap<&'static str, Vec<Vec<Option<String>>>> {
    let rounds = found.values().map(Vec::len).max().unwrap_or(0);
    let mut read: BTreeMap<&'static str, Vec<Vec<Option<String>>>> = BTreeMap::new();
    for round in 0..rounds {
        // One recipe per round, each field's `round`-th candidate, evaluated on every sample.
        let rules: BTreeMap<&'static str, Candidate> =
            found.iter().filter_map(|(field, list)| Some((*field, list.get(round)?.clone()))).collect();
        // A candidate a recipe cannot hold matches nothing.
        let values = match Recipe::parse(&trial(&rules), Path::new("init.toml")) {
            Ok(recipe) => evaluate(&recipe),
            Err(_) => Vec::new(),
        };
        for field in rules.keys() {
            let of = |i: usize| values.get(i).and_then(|v| v.get(field)).filter(|v| !v.is_empty()).cloned();
            read.entry(field).or_default().push((0..samples).map(of).collect());
        }
    }
    read
}

/// The samples a candidate covers: those it gives a value on that names the episode (for the
/// [`DISTINCT`] fields: a value no other sample has; for titles: not the site's own name).
fn coverage(field: &str, values: &[Option<String>], names: &[PageNames]) -> Vec<bool> {
    // The same date or duration on every sample, of three or more, is the site's (today's date
    // in a top bar, a theme's script), not the episodes'.
    let given: Vec<&String> = values.iter().flatten().collect();
    let sitewide = SITEWIDE.contains(&field) && given.len() >= 3 && given.iter().all(|v| *v == given[0]);
    if sitewide {
        return vec![false; values.len()];
    }
    (0..values.len())
        .map(|i| {
            let Some(value) = values[i].as_deref() else { return false };
            let repeated =
                DISTINCT.contains(&field) && (0..values.len()).any(|j| j != i && values[j].as_deref() == Some(value));
            let the_site = field == "title" && names.get(i).is_some_and(|n| n.is_site(value));
            !repeated && !the_site
        })
        .collect()
}

/// For a field an episode cannot go without (its title, its audio), a last rule for pages built
/// otherwise than every sample (an audio post without the heading, an older post without the
/// microdata the newer have): the first that covers every sample by other evidence than the
/// rules chosen, if they are all of one kind.
fn fallback(
    rules: &[(Candidate, usize)],
    candidates: &[Candidate],
    covered: &[Vec<bool>],
) -> Option<(Candidate, usize)> {
    let kind = |c: &Candidate| c.evidence.split(',').next().unwrap_or_default().to_string();
    let chosen: Vec<String> = rules.iter().map(|(c, _)| kind(c)).collect();
    if chosen.is_empty() || chosen.iter().any(|k| *k != chosen[0]) {
        return None;
    }
    let (candidate, row) = candidates.iter().zip(covered).find(|(candidate, row)| {
        row.iter().all(|c| *c) && kind(candidate) != chosen[0] && !rules.iter().any(|(c, _)| c == *candidate)
    })?;
    Some((candidate.clone(), row.len()))
}

/// The first rule that covers any sample, then each next one that covers a sample those
/// before it do not.
fn pick_in_order(candidates: &[Candidate], covered: &[Vec<bool>]) -> Vec<(Candidate, usize)> {
    let mut done: Vec<bool> = covered.first().map(|row| vec![false; row.len()]).unwrap_or_default();
    let mut chosen = Vec::new();
    for (candidate, row) in candidates.iter().zip(covered) {
        if row.iter().zip(&done).any(|(c, d)| *c && !*d) {
            chosen.push((candidate.clone(), row.iter().filter(|c| **c).count()));
            done.iter_mut().zip(row).for_each(|(d, c)| *d |= *c);
        }
    }
    chosen
}

/// The rules to keep for one field: see the module's comment.
fn pick(candidates: &[Candidate], covered: &[Vec<bool>], samples: usize) -> Vec<(Candidate, usize)> {
    let count = |row: &Vec<bool>| row.iter().filter(|c| **c).count();
    if let Some(i) = covered.iter().position(|row| count(row) == samples) {
        return vec![(candidates[i].clone(), samples)];
    }
    let mut chosen = Vec::new();
    let mut done = vec![false; samples];
    loop {
        let gain = |row: &Vec<bool>| row.iter().zip(&done).filter(|(c, d)| **c && !**d).count();
        let Some((i, row)) = covered
            .iter()
            .enumerate()
            .filter(|(_, row)| gain(row) > 0)
            .max_by_key(|(i, row)| (gain(row), std::cmp::Reverse(*i)))
        else {
            break;
        };
        chosen.push((i, count(row)));
        done.iter_mut().zip(row).for_each(|(d, c)| *d |= *c);
    }
    chosen.sort();
    chosen.into_iter().map(|(i, n)| (candidates[i].clone(), n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: u32) -> Page {
        let html = format!(
            r#"<html><head><meta name="description" content="The whole site's description.">
            <script type="application/ld+json">{{"@type": "Organization", "name": "Radio Org"}}</script>
            <script type="application/ld+json">{{"@type": "PodcastEpisode", "name": "Episode {n}",
              "associatedMedia": {{"contentUrl": "/m/{n}.mp3"}}}}</script>
            <meta property="og:title" content="Episode {n}"><meta property="og:description" content="About {n}.">
            </head><body><h1>Radio</h1></body></html>"#
        );
        let url = format!("https://example.org/e/{n}");
        Page { url: url.clone(), final_url: url, html, etag: None, last_modified: None, fetched_at: chrono::Utc::now() }
    }

    /// Today's date in a site's top bar, the same on every page, is no episode's date: the
    /// post's own date is taken, though it comes after.
    #[tokio::test]
    async fn a_date_the_same_on_every_page_is_the_sites() {
        let samples: Vec<Page> = (1..=4)
            .map(|n| {
                let html = format!(
                    r#"<div class="topbar"><span class="today">Monday, April 1, 2024</span></div>
                    <h1 class="entry-title">Episode {n}</h1><span class="posted-on">March {n}, 2024</span>
                    <a class="download" href="/m/{n}.mp3">Download</a>"#
                );
                let url = format!("https://example.org/e/{n}");
                Page {
                    url: url.clone(),
                    final_url: url,
                    html,
                    etag: None,
                    last_modified: None,
                    fetched_at: chrono::Utc::now(),
                }
            })
            .collect();
        let fields = page_rules(&samples, &Url::parse("https://example.org/").unwrap()).await;
        let published = fields.iter().find(|c| c.field == "published").unwrap();
        assert_eq!(published.rules[0].0.css, "span.posted-on", "{published:?}");
    }

    /// A rule that reads the same on every page reads the site, not the episode: the
    /// organisation's name in the first JSON-LD script, the logo's heading, the site's
    /// description all lose to what names each episode.
    #[tokio::test]
    async fn rules_that_read_the_site_are_passed_over() {
        let samples: Vec<Page> = (1..=3).map(page).collect();
        let fields = page_rules(&samples, &Url::parse("https://example.org/").unwrap()).await;
        let rule = |field: &str| {
            let choice = fields.iter().find(|c| c.field == field).unwrap();
            assert_eq!(choice.rules.len(), 1, "{choice:?}");
            choice.rules[0].0.clone()
        };
        assert_eq!(rule("title").css, "meta[property='og:title']");
        assert_eq!(rule("description").css, "meta[property='og:description']");
        assert_eq!(rule("audio").evidence, "JSON-LD");
    }
}
