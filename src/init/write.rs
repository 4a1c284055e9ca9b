//! The recipe init writes: valid TOML, every rule commented with the evidence it came from and
//! the sampled pages it matched.

use std::collections::BTreeMap;
use std::fmt::Write;

use url::Url;

use super::{Candidate, Episodes, Proposal, Reach};

/// The fields init looks for, in the recipe guide's order.
pub(crate) const FIELDS: [&str; 8] =
    ["title", "link", "published", "audio", "duration", "description", "image", "episode"];

/// A TOML string.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// One rule as an inline table.
fn rule(candidate: &Candidate) -> String {
    let mut rule = format!("{{ css = {}", quoted(&candidate.css));
    if let Some(attr) = &candidate.attr {
        let _ = write!(rule, ", attr = {}", quoted(attr));
    }
    if let Some(json) = &candidate.json {
        let _ = write!(rule, ", json = {}", quoted(json));
    }
    if let Some(regex) = &candidate.regex {
        let _ = write!(rule, ", regex = {}", quoted(regex));
    }
    if let Some(remove) = &candidate.remove {
        let _ = write!(rule, ", remove = [{}]", quoted(remove));
    }
    rule.push_str(" }");
    rule
}

/// A recipe that tries one candidate per field, on episode pages or (with `item`) on listing
/// items. `title` and `audio` are required: a rule that matches nothing stands in for a missing
/// one.
pub(crate) fn trial_recipe(listing: &Url, item: Option<&str>, rules: &BTreeMap<&'static str, Candidate>) -> String {
    let mut text = format!(
        "[feed]\ntitle = \"t\"\nlink = \"https://example.org/\"\ndescription = \"d\"\n[crawl]\nstart = [{}]\n",
        quoted(listing.as_str())
    );
    match item {
        Some(item) => {
            let _ = writeln!(text, "[listing]\nitem = {}", quoted(item));
        }
        None => text.push_str("episodes = \"a\"\n[episode]\n"),
    }
    for field in ["title", "audio"].into_iter().filter(|field| !rules.contains_key(field)) {
        let _ = writeln!(text, "{field} = {{ css = \"podfeed-none\" }}");
    }
    for (field, candidate) in rules {
        let _ = writeln!(text, "{field} = {}", rule(candidate));
    }
    text
}

/// The recipe, commented.
pub fn recipe_text(proposal: &Proposal) -> String {
    let Proposal { asked, pages_fetched, sampled, .. } = proposal;
    let mut text = format!(
        "# Written by `podfeed init {asked}` from {pages_fetched} requests to the site ({} episodes sampled).\n\
         # Try it with `podfeed check`, then `podfeed build --recipe FILE`.\n\
         # Every key is documented in podfeed's docs/recipe.md.\n\n",
        sampled.len()
    );
    feed_table(proposal, &mut text);
    crawl_table(proposal, &mut text);
    let table = match proposal.episodes {
        Episodes::Items { .. } => "listing",
        Episodes::Links { .. } | Episodes::Lone { .. } => "episode",
    };
    let _ = writeln!(text, "\n[{table}]");
    if let Episodes::Items { css, count } = &proposal.episodes {
        let _ = writeln!(
            text,
            "# {count} such items on the listing page, each an episode with its audio: no episode page is fetched.\n\
             item = {}",
            quoted(css)
        );
    }
    let from_pages = proposal.item_pages.iter().flat_map(|p| &p.fields);
    if !proposal.fields.iter().chain(from_pages).any(|c| c.field == "published" && !c.rules.is_empty()) {
        text.push_str(
            "# No date was found on the sampled pages: the episodes will have none, and apps sort undated\n\
             # items as they like. Add `published = { css = \"...\" }` if the pages show one.\n",
        );
    }
    rules_table(&proposal.fields, &mut text);
    if let Some(pages) = &proposal.item_pages {
        text.push_str("\n[episode]\n# What the items lack, from their pages (where both say, the page wins).\n");
        rules_table(&pages.fields, &mut text);
    }
    text
}

/// Each field's rules, commented with where they came from.
fn rules_table(fields: &[super::FieldChoice], text: &mut String) {
    for choice in fields {
        let origin = |candidate: &Candidate, matched: usize| {
            format!("from {}, on {matched} of {} samples", candidate.evidence, choice.sampled)
        };
        match choice.rules.as_slice() {
            [] => {}
            [(candidate, matched)] => {
                let _ = writeln!(text, "# {}\n{} = {}", origin(candidate, *matched), choice.field, rule(candidate));
            }
            rules => {
                let _ = writeln!(text, "{} = [", choice.field);
                for (candidate, matched) in rules {
                    let _ = writeln!(text, "  {},   # {}", rule(candidate), origin(candidate, *matched));
                }
                text.push_str("]\n");
            }
        }
    }
}

fn feed_table(proposal: &Proposal, text: &mut String) {
    let channel = &proposal.channel;
    text.push_str("[feed]\n");
    if let Some(feed) = proposal.site_feed.as_ref().filter(|feed| !feed.channel.title.is_empty()) {
        let _ = writeln!(text, "# From the site's own feed, {}, where it says, else from its home page.", feed.url);
    }
    let _ = writeln!(text, "title = {}", quoted(&channel.title));
    let _ = writeln!(text, "link = {}", quoted(&channel.link));
    let description = channel.description.clone().unwrap_or_else(|| format!("Every episode of {}.", channel.title));
    let _ = writeln!(text, "description = {}", quoted(&description));
    if let Some(language) = &channel.language {
        let _ = writeln!(text, "language = {}", quoted(language));
    }
    if let Some(author) = &channel.author {
        let _ = writeln!(text, "author = {}", quoted(author));
    }
    if !channel.categories.is_empty() {
        let names: Vec<String> = channel.categories.iter().map(|c| quoted(c)).collect();
        let _ = writeln!(text, "categories = [{}]", names.join(", "));
    }
    if let Some(image) = &channel.image {
        let _ = writeln!(text, "image = {}   # the build checks it is what Apple asks for", quoted(image));
    }
    text.push_str(
        "# A feed of a show that is not yours, for your own listening: kept out of Apple Podcasts and the\n\
         # directories. Set it to false (and add `owner = { name, email }`) for a show you publish.\n\
         block = true\n\n",
    );
    // A folder of the show's own: several recipes built together never write one file.
    let _ = writeln!(
        text,
        "[output]\npath = {}\nhtml = true\n\n[crawl]",
        quoted(&format!("public/{}/feed.xml", show_slug(&channel.title, &proposal.asked)))
    );
}

/// The show's name for a folder: its title's ASCII letters and digits, lower case, words joined
/// by `-` (at most 40 characters), else its host's (`example-org`).
fn show_slug(title: &str, asked: &Url) -> String {
    let slug = |name: &str| {
        let words: Vec<String> = name
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        let mut slug = String::new();
        for word in words {
            if slug.len() + word.len() + 1 > 40 && !slug.is_empty() {
                break;
            }
            if !slug.is_empty() {
                slug.push('-');
            }
            slug.push_str(&word[..word.len().min(40)]);
        }
        slug
    };
    [slug(title), slug(asked.host_str().unwrap_or_default())]
        .into_iter()
        .find(|slug| !slug.is_empty())
        .unwrap_or_else(|| "show".into())
}

/// `[crawl]`: where the listing pages come from, which links are episodes, how the next page is
/// found, and notes on the site.
fn crawl_table(proposal: &Proposal, text: &mut String) {
    reach_keys(proposal, text);
    episodes_key(proposal, text);
    follow_key(proposal, text);
    crawl_notes(proposal, text);
}

/// `pages`, `sitemap` or `start`: where the listing pages come from.
fn reach_keys(proposal: &Proposal, text: &mut String) {
    match &proposal.reach {
        Reach::Numbered(template) => {
            let _ = writeln!(
                text,
                "# Listing pages by number, read until one lists no episode.\npages = {}",
                quoted(template)
            );
        }
        Reach::Sitemap { url, pattern, pages, alone } => {
            let _ = writeln!(
                text,
                "# {} links to only a few episodes, with no next page; the sitemap lists {pages} pages\n\
                 # shaped like the sampled episode pages.\nsitemap = [{}]\nsitemap_match = {}",
                proposal.listing,
                quoted(url.as_str()),
                quoted(pattern)
            );
            match alone {
                // Read both, and each listed episode would come twice (as a duplicate).
                true => text.push_str(
                    "# The listing's links redirect to the sitemap's addresses: the sitemap alone is read,\n\
                     # so an episode it does not list yet waits for it.\n",
                ),
                // The listing too: a sitemap that lags behind the site misses the newest.
                false => {
                    let _ = writeln!(text, "start = [{}]", quoted(proposal.listing.as_str()));
                }
            }
        }
        Reach::Follow(_) | Reach::FirstPageOnly => {
            let _ = writeln!(text, "start = [{}]", quoted(proposal.listing.as_str()));
        }
    }
}

/// `episodes`: the links to episode pages, when there are pages to read.
fn episodes_key(proposal: &Proposal, text: &mut String) {
    let sitemap_alone = matches!(proposal.reach, Reach::Sitemap { alone: true, .. });
    match (&proposal.episodes, sitemap_alone) {
        (Episodes::Links { css, count }, false) => {
            let _ = writeln!(
                text,
                "# {count} such links on the listing page; the {} sampled lead to episode pages.\nepisodes = {}",
                proposal.sampled.len(),
                quoted(css)
            );
        }
        (Episodes::Items { .. }, _) => {
            if let Some(pages) = &proposal.item_pages {
                let _ = writeln!(
                    text,
                    "# The items have no date; their pages have: each item's page is read too.\nepisodes = {}",
                    quoted(&pages.css)
                );
            }
        }
        (Episodes::Lone { css }, _) => {
            text.push_str(
                "# No archive was found: this recipe reads this one episode page. For every episode, set\n\
                 # `start` to the show's archive and `episodes` to its links to episodes.\n",
            );
            match css {
                Some(css) => {
                    let _ = writeln!(text, "episodes = {}   # the address the page gives itself", quoted(css));
                }
                None => text.push_str(
                    "# The page names no address of its own (no canonical link, no og:url): nothing links it.\n\
                     episodes = \"link[rel=canonical]\"\n",
                ),
            }
        }
        _ => {}
    }
}

/// `follow`, or why only the first listing page is read.
fn follow_key(proposal: &Proposal, text: &mut String) {
    match (&proposal.reach, &proposal.episodes) {
        (Reach::Follow(css), _) => {
            let _ = writeln!(text, "follow = {}   # the link to the next listing page", quoted(css));
        }
        (Reach::FirstPageOnly, Episodes::Lone { .. }) => {}
        (Reach::FirstPageOnly, _) => text.push_str(
            "# No next listing page, numbered pages or sitemap was found: only this page's episodes are read.\n",
        ),
        (Reach::Numbered(_) | Reach::Sitemap { .. }, _) => {}
    }
}

/// `timezone`, and a word on the site's own feed.
fn crawl_notes(proposal: &Proposal, text: &mut String) {
    if let Some(zone) = proposal.timezone {
        let _ = writeln!(text, "timezone = {}   # the site's dates name this zone", quoted(zone.name()));
    }
    if let Some(feed) = &proposal.site_feed {
        let reaches = match proposal.reach {
            Reach::FirstPageOnly => "this recipe reads only the first listing page",
            _ => "this recipe reads the whole archive",
        };
        let _ = writeln!(text, "# The site has a feed of its own, {}, with {} items; {reaches}.", feed.url, feed.items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_show_gets_a_folder_named_for_it() {
        let asked = Url::parse("https://www.example.org/podcast/").unwrap();
        assert_eq!(show_slug("The Long Signal", &asked), "the-long-signal");
        assert_eq!(show_slug("  Café Ñandú — Episódios! ", &asked), "caf-and-epis-dios");
        assert_eq!(show_slug("電台節目", &asked), "www-example-org");
        let long = show_slug("A show whose name goes on and on and on for far too many words", &asked);
        assert!(long.len() <= 40 && long.starts_with("a-show-whose-name"), "{long}");
    }
}
