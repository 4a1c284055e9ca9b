//! The recipe init writes: valid TOML, every rule commented with the evidence it came from and
//! the sampled pages it matched.

use std::collections::BTreeMap;
use std::fmt::Write;

use url::Url;

use super::{Candidate, Proposal};

/// The fields init looks for, in the recipe guide's order.
pub const FIELDS: [&str; 8] = ["title", "link", "published", "audio", "duration", "description", "image", "episode"];

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
    rule.push_str(" }");
    rule
}

/// A recipe that tries one candidate per field (`title` and `audio` are required: a rule that
/// matches nothing stands in for a missing one).
pub fn trial_recipe(listing: &Url, rules: &BTreeMap<&'static str, Candidate>) -> String {
    let mut text = format!(
        "[feed]\ntitle = \"t\"\nlink = \"https://example.org/\"\ndescription = \"d\"\n\
         [crawl]\nstart = [{}]\nepisodes = \"a\"\n[episode]\n",
        quoted(listing.as_str())
    );
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
    let Proposal { asked, listing, episodes, episode_links, follow, channel, fields, sampled, pages_fetched, .. } =
        proposal;
    let mut text = format!(
        "# Written by `podfeed init {asked}` from {pages_fetched} pages of the site ({} episode pages sampled).\n\
         # Try it with `podfeed check --recipe FILE URL` on an episode page, then `podfeed build --recipe FILE`.\n\
         # Every key is documented in podfeed's README (\"Writing a recipe\").\n\n[feed]\n",
        sampled.len()
    );
    let _ = writeln!(text, "title = {}", quoted(&channel.title));
    let _ = writeln!(text, "link = {}", quoted(&channel.link));
    let description = channel.description.clone().unwrap_or_else(|| format!("Every episode of {}.", channel.title));
    let _ = writeln!(text, "description = {}", quoted(&description));
    if let Some(language) = &channel.language {
        let _ = writeln!(text, "language = {}", quoted(language));
    }
    if let Some(image) = &channel.image {
        let _ = writeln!(text, "image = {}   # the build checks it is what Apple asks for", quoted(image));
    }
    text.push_str(
        "# A feed of a show that is not yours, for your own listening: kept out of Apple Podcasts and the\n\
         # directories. Set it to false (and add `owner = { name, email }`) for a show you publish.\n\
         block = true\n\n[output]\npath = \"public/feed.xml\"\nhtml = true\n\n[crawl]\n",
    );
    let _ = writeln!(text, "start = [{}]", quoted(listing.as_str()));
    let _ = writeln!(
        text,
        "# {episode_links} such links on the listing page; the {} sampled lead to pages with audio.\nepisodes = {}",
        sampled.len(),
        quoted(episodes)
    );
    match follow {
        Some(follow) => {
            let _ = writeln!(text, "follow = {}   # the link to the next listing page", quoted(follow));
        }
        None => text.push_str("# No link to a next listing page was found: only this page's episodes are read.\n"),
    }
    if let Some((feed, items)) = &proposal.site_feed {
        let _ = writeln!(
            text,
            "# The site has a feed of its own, {feed}, with {items} items; this recipe reads the whole archive."
        );
    }
    text.push_str("\n[episode]\n");
    for choice in fields {
        let origin = |candidate: &Candidate, matched: usize| {
            format!("from {}, on {matched} of {} sampled pages", candidate.evidence, choice.sampled)
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
    text
}
