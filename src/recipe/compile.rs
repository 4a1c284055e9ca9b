//! Checking a recipe as written and compiling it: every key's value is validated (with the
//! key named when it is not valid), selectors and regexes are compiled once.

use std::path::Path;

use regex::Regex;
use scraper::Selector;
use url::Url;

use super::scope::scope_entry;
use super::{
    Crawl, CrawlFile, EpisodeRules, EpisodeRulesFile, ListingRules, NumberedPages, PublishTarget, Recipe, RecipeFile,
    Rule, RuleFile, RulesFile,
};
use crate::css::Filed;
use crate::hygiene;

type Invalid = (String, String);

/// The smallest `[output] max_bytes`: a channel and a few items.
const MIN_FEED_BYTES: u64 = 16 * 1024;

/// The recipe a valid file makes, or the first invalid key and why.
pub(super) fn compile(file: RecipeFile, name: String, path: &Path) -> Result<Recipe, Invalid> {
    let invalid = |key: &str, reason: String| (key.to_string(), reason);
    let feed = hygiene::channel(file.feed)?;
    if feed.locked == Some(true) && feed.owner.as_ref().and_then(|o| o.email.as_ref()).is_none() {
        return Err(invalid("feed.locked", "podcast:locked needs `owner.email` to name who may unlock it".into()));
    }
    for (key, percent) in
        [("output.max_failures", file.output.max_failures), ("output.min_items_percent", file.output.min_items_percent)]
    {
        if percent > 100 {
            return Err(invalid(key, format!("{percent} is not a percentage (0 to 100)")));
        }
    }
    let mut output = file.output;
    if output.max_bytes > 0 && output.split.is_none() {
        return Err(invalid(
            "output.max_bytes",
            "needs `split = \"year\"` or `\"season\"`: the oldest items move to the split feeds".into(),
        ));
    }
    if (1..MIN_FEED_BYTES).contains(&output.max_bytes) {
        return Err(invalid(
            "output.max_bytes",
            format!("{} is too small for a feed (at least {MIN_FEED_BYTES})", output.max_bytes),
        ));
    }
    if let Some(template) = &output.template {
        // Relative to the recipe, so a recipe folder can carry its own template.
        let template = path.parent().unwrap_or(Path::new("")).join(template);
        if !template.is_file() {
            return Err(invalid("output.template", format!("{} is not a file", template.display())));
        }
        output.template = Some(template);
    }
    for (i, text) in output.publish.iter().enumerate() {
        let target = PublishTarget::parse(text).map_err(|why| invalid(&format!("output.publish[{i}]"), why))?;
        output.targets.push(target);
    }
    let http = file.http;
    if http.concurrency == 0 {
        return Err(invalid("http.concurrency", "must be at least 1".into()));
    }
    if http.per_host == Some(0) {
        return Err(invalid("http.per_host", "must be at least 1".into()));
    }
    if http.timeout_secs == 0 {
        return Err(invalid("http.timeout_secs", "must be at least 1".into()));
    }
    let crawl = compile_crawl(file.crawl)?;
    let (episode, listing) = compile_episode_sources(&crawl, file.episode, file.listing)?;
    Ok(Recipe { name, path: path.to_path_buf(), feed, output, crawl, http, episode, listing })
}

fn url_key(key: &str, value: &str) -> Result<Url, Invalid> {
    let url = Url::parse(value).map_err(|e| (key.to_string(), format!("{value:?} is not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err((key.to_string(), format!("{value:?} is not an http(s) URL")));
    }
    Ok(url)
}

fn compile_crawl(crawl: CrawlFile) -> Result<Crawl, Invalid> {
    if crawl.start.is_empty() && crawl.pages.is_none() && crawl.sitemap.is_empty() {
        return Err(("crawl.start".into(), "needs at least one URL (or numbered `pages`, or a `sitemap`)".into()));
    }
    let sitemap = url_list("crawl.sitemap", &crawl.sitemap)?;
    let sitemap_match = crawl.sitemap_match.as_deref().map(|p| regex("crawl.sitemap_match", p)).transpose()?;
    // Keys that do nothing alone are a mistake worth saying.
    let without = |key: &str, needs: &str| Err((format!("crawl.{key}"), format!("does nothing without crawl.{needs}")));
    if sitemap_match.is_some() && sitemap.is_empty() {
        return without("sitemap_match", "sitemap");
    }
    match (&crawl.pages, crawl.from, crawl.to) {
        (None, Some(_), _) => return without("from", "pages"),
        (None, _, Some(_)) => return without("to", "pages"),
        _ => {}
    }
    let pages = crawl.pages.map(|template| numbered_pages(template, crawl.from.unwrap_or(1), crawl.to)).transpose()?;
    let start = url_list("crawl.start", &crawl.start)?;
    let first_numbered = pages.as_ref().and_then(|p| p.url(p.from));
    let scope = crawl.scope.unwrap_or_else(|| {
        let mut hosts: Vec<String> =
            start.iter().chain(first_numbered.iter()).chain(sitemap.iter()).filter_map(scope_entry).collect();
        hosts.dedup();
        hosts
    });
    if crawl.max_pages == 0 {
        return Err(("crawl.max_pages".into(), "must be at least 1".into()));
    }
    if crawl.max_sitemap_urls == 0 {
        return Err(("crawl.max_sitemap_urls".into(), "must be at least 1".into()));
    }
    let oldest_first = match crawl.order.as_deref() {
        None | Some("newest-first") => false,
        Some("oldest-first") => true,
        Some(other) => {
            return Err(("crawl.order".into(), format!("`{other}`: must be \"newest-first\" or \"oldest-first\"")))
        }
    };
    Ok(Crawl {
        start,
        episodes: crawl.episodes.as_deref().map(|css| selector("crawl.episodes", css)).transpose()?,
        follow: crawl.follow.as_deref().map(|css| selector("crawl.follow", css)).transpose()?,
        max_pages: crawl.max_pages,
        scope,
        recheck_days: crawl.recheck_days,
        ignore_params: crawl.ignore_params,
        timezone: crawl.timezone.as_deref().map(time_zone).transpose()?,
        pages,
        sitemap,
        sitemap_match,
        max_sitemap_urls: crawl.max_sitemap_urls,
        oldest_first,
    })
}

/// URLs under `key`, each checked (`key[i]` names a bad one).
fn url_list(key: &str, urls: &[String]) -> Result<Vec<Url>, Invalid> {
    urls.iter().enumerate().map(|(i, u)| url_key(&format!("{key}[{i}]"), u)).collect()
}

fn regex(key: &str, pattern: &str) -> Result<Regex, Invalid> {
    Regex::new(pattern).map_err(|e| (key.to_string(), format!("invalid regex {pattern:?}: {e}")))
}

/// `[crawl] pages`, `from` and `to`.
fn numbered_pages(template: String, from: u32, to: Option<u32>) -> Result<NumberedPages, Invalid> {
    if !template.contains("{n}") {
        return Err(("crawl.pages".into(), format!("{template:?} has no {{n}} where the page number goes")));
    }
    url_key("crawl.pages", &template.replace("{n}", &from.to_string()))?;
    if to.is_some_and(|to| to < from) {
        return Err(("crawl.to".into(), format!("is before crawl.from = {from}")));
    }
    Ok(NumberedPages { template, from, to })
}

/// An IANA time zone name such as `America/New_York`.
fn time_zone(name: &str) -> Result<chrono_tz::Tz, Invalid> {
    name.parse().map_err(|_| {
        ("crawl.timezone".to_string(), format!("{name:?} is not an IANA time zone name (such as \"America/New_York\")"))
    })
}

fn selector(key: &str, css: &str) -> Result<Selector, Invalid> {
    Selector::parse(css).map_err(|e| (key.to_string(), css_error(css, &format!("{e:?}"))))
}

/// A CSS selector's error as a sentence, with where it is. scraper gives neither the place nor
/// a readable reason (its text is "Unexpected error occurred. Please report this to the
/// developer"): the place is where the longest prefix that parses ends, the reason is read off
/// the error's kind.
fn css_error(css: &str, kind: &str) -> String {
    let kinds = [
        ("ClassNeedsIdent", "expected a class name after \".\""),
        ("EmptySelector", "the selector is empty"),
        ("DanglingCombinator", "a combinator (>, +, ~ or a space) has nothing after it"),
        ("EndOfLine", "the selector ends too early (an unclosed bracket, parenthesis or quote?)"),
        ("PseudoElementExpectedIdent", "expected a name after \"::\""),
        ("ExpectedIdentityOnPseudoElement", "expected a name after \"::\""),
        ("NoIdentForPseudo", "expected a pseudo-class name after \":\""),
        ("UnsupportedPseudoClassOrElement", "unknown pseudo-class or pseudo-element"),
        ("InAttr", "invalid attribute selector (write it as [name] or [name=\"value\"])"),
        ("AttributeSelector", "invalid attribute selector (write it as [name] or [name=\"value\"])"),
        ("UnexpectedIdent", "unexpected name"),
        ("UnexpectedToken", "unexpected character"),
    ];
    let mut reason = kinds.iter().find(|(name, _)| kind.contains(name)).map_or("not a CSS selector", |(_, why)| why);
    if kind.contains("EndOfLine") {
        // The selector stops where a name was due.
        match css.trim_end().chars().last() {
            Some('.') => reason = "expected a class name after \".\"",
            Some('#') => reason = "expected an id after \"#\"",
            Some('>' | '+' | '~') => reason = "a combinator (>, +, ~ or a space) has nothing after it",
            _ => {}
        }
    }
    let valid = (0..css.len())
        .rev()
        .filter(|&end| css.is_char_boundary(end))
        .find(|&end| end == 0 || Selector::parse(&css[..end]).is_ok())
        .unwrap_or(0);
    let column = css[..valid].chars().count() + 1;
    format!(
        "invalid CSS selector {css:?}: {reason}, at column {column} ({:?})",
        crate::text::shorten(&css[valid..], 20)
    )
}

/// Where episodes come from: episode pages (`crawl.episodes` and `[episode]`), items on the
/// listing pages (`[listing]`), or both (the page's fields win where it has them).
fn compile_episode_sources(
    crawl: &Crawl,
    episode: Option<EpisodeRulesFile>,
    listing: Option<EpisodeRulesFile>,
) -> Result<(EpisodeRules, Option<ListingRules>), Invalid> {
    let pages = crawl.reads_episode_pages();
    let episode = match (pages, episode) {
        // Beside [listing], the item may give what the page does not.
        (true, Some(rules)) => compile_episode_rules("episode", rules, listing.is_none())?,
        (true, None) => {
            return Err((
                "episode".into(),
                "missing: `crawl.episodes` links episode pages, and [episode] says how to read them".into(),
            ))
        }
        (false, Some(_)) => {
            return Err((
                "episode".into(),
                "no episode page is fetched without `crawl.episodes`: set it, or move these rules to [listing]".into(),
            ))
        }
        (false, None) if listing.is_none() => {
            return Err((
                "crawl.episodes".into(),
                "missing: links to episode pages, or a [listing] table whose items are the episodes".into(),
            ))
        }
        (false, None) => EpisodeRules::default(),
    };
    let listing = match listing {
        Some(rules) if pages && rules.audio.is_none() && episode.audio.is_empty() => {
            return Err(("listing.audio".into(), "neither [listing] nor [episode] says where the audio is".into()))
        }
        Some(mut rules) => {
            let item = rules.item.take().ok_or_else(|| {
                ("listing.item".to_string(), "missing: the CSS selector of one episode on a listing page".to_string())
            })?;
            // Alone, the items must give what an episode needs; beside episode pages, the page may.
            let rules = compile_episode_rules("listing", rules, !pages)?;
            Some(ListingRules {
                item: selector("listing.item", &item)?,
                rules: EpisodeRules { timezone: crawl.timezone, ..rules },
            })
        }
        None => None,
    };
    Ok((EpisodeRules { timezone: crawl.timezone, ..episode }, listing))
}

fn compile_episode_rules(table: &str, rules: EpisodeRulesFile, required: bool) -> Result<EpisodeRules, Invalid> {
    if rules.item.is_some() {
        return Err((format!("{table}.item"), "`item` belongs in [listing]".into()));
    }
    let field =
        |name: &str, rules: Option<RulesFile>| compile_rules(table, name, rules.map(|r| r.0).unwrap_or_default());
    let needed = |name: &str, rules: Option<RulesFile>| {
        if required {
            compile_required(table, name, rules.unwrap_or(RulesFile(Vec::new())))
        } else {
            field(name, rules)
        }
    };
    Ok(EpisodeRules {
        title: needed("title", rules.title)?,
        audio: needed("audio", rules.audio)?,
        link: field("link", rules.link)?,
        guid: field("guid", rules.guid)?,
        published: field("published", rules.published)?,
        duration: field("duration", rules.duration)?,
        description: field("description", rules.description)?,
        content: field("content", rules.content)?,
        image: field("image", rules.image)?,
        episode: field("episode", rules.episode)?,
        season: field("season", rules.season)?,
        episode_type: field("episode_type", rules.episode_type)?,
        explicit: field("explicit", rules.explicit)?,
        transcript: field("transcript", rules.transcript)?,
        chapters: field("chapters", rules.chapters)?,
        season_name: field("season_name", rules.season_name)?,
        block: field("block", rules.block)?,
        hosts: field("hosts", rules.hosts)?,
        guests: field("guests", rules.guests)?,
        timezone: None,
    })
}

fn compile_required(table: &str, name: &str, rules: RulesFile) -> Result<Vec<Rule>, Invalid> {
    if rules.0.is_empty() {
        return Err((format!("{table}.{name}"), "needs at least one rule".into()));
    }
    compile_rules(table, name, rules.0)
}

fn compile_rules(table: &str, name: &str, rules: Vec<RuleFile>) -> Result<Vec<Rule>, Invalid> {
    let single = rules.len() == 1;
    rules
        .into_iter()
        .enumerate()
        .map(|(i, rule)| {
            let key = if single { format!("{table}.{name}") } else { format!("{table}.{name}[{i}]") };
            if rule.all && matches!(name, "hosts" | "guests") {
                return Err((format!("{key}.all"), "every element it selects is one person already".into()));
            }
            compile_rule(&key, rule)
        })
        .collect()
}

/// The group numbers a template names (`$2`, `${2}`), as the regex crate's expansion reads them.
fn template_groups(template: &str) -> impl Iterator<Item = usize> + '_ {
    template.split('$').skip(1).filter_map(|after| {
        let digits = after.strip_prefix('{').unwrap_or(after);
        let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
        digits[..end].parse().ok()
    })
}

fn compile_rule(key: &str, rule: RuleFile) -> Result<Rule, Invalid> {
    let regex = rule.regex.as_deref().map(|pattern| regex(&format!("{key}.regex"), pattern)).transpose()?;
    if rule.template.is_some() && regex.is_none() {
        return Err((
            format!("{key}.template"),
            "a template builds the value from `regex` groups: add a `regex`".into(),
        ));
    }
    if let (Some(template), Some(regex)) = (&rule.template, &regex) {
        let groups = regex.captures_len() - 1;
        if let Some(n) = template_groups(template).find(|&n| n > groups) {
            let reason = format!("uses ${n}, but the regex has {groups} group{}", if groups == 1 { "" } else { "s" });
            return Err((format!("{key}.template"), reason));
        }
    }
    if rule.join.is_some() && !rule.all {
        return Err((format!("{key}.join"), "`join` joins every match: add `all = true`".into()));
    }
    if let Some(format) = &rule.format {
        check_date_format(format).map_err(|why| (format!("{key}.format"), why))?;
    }
    if rule.attr.is_some() && !rule.remove.is_empty() {
        return Err((format!("{key}.remove"), "`remove` drops parts of the text or HTML; an `attr` has none".into()));
    }
    let remove = rule
        .remove
        .iter()
        .enumerate()
        .map(|(i, css)| selector(&format!("{key}.remove[{i}]"), css))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(pointer) = &rule.json {
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err((format!("{key}.json"), format!("{pointer:?} is not a JSON pointer (it must start with '/')")));
        }
    }
    if rule.html && rule.attr.is_some() {
        return Err((format!("{key}.html"), "`html = true` and `attr` exclude each other".into()));
    }
    let looks_ahead = rule.all || selector_looks_ahead(&rule.css);
    let css = selector(&format!("{key}.css"), &rule.css)?;
    // The same parser as scraper's: what it took, this takes.
    let filed = Filed::parse(&rule.css).ok_or_else(|| (format!("{key}.css"), css_error(&rule.css, "")))?;
    Ok(Rule {
        looks_ahead,
        css,
        filed,
        attr: rule.attr,
        html: rule.html,
        json: rule.json,
        regex,
        template: rule.template,
        format: rule.format,
        remove,
        all: rule.all.then(|| rule.join.unwrap_or_else(|| " ".into())),
    })
}

/// Whether a selector's match on an element can change with what comes after it in the page:
/// the pseudo-classes that look at later siblings or at descendants of a relative selector, and
/// `<body>`'s or `<html>`'s attributes, which a second tag of theirs adds to. Read from the
/// text, erring towards yes (`.html-notes` counts; a CSS escape or comment inside a
/// pseudo-class's name would slip through, which no real recipe writes).
fn selector_looks_ahead(css: &str) -> bool {
    let css = css.to_ascii_lowercase();
    [":last-", ":nth-last-", ":only-", ":has(", "body", "html"].iter().any(|word| css.contains(word))
}

/// A strftime format chrono can use: every `%` directive known.
fn check_date_format(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    match StrftimeItems::new(format).find(|item| matches!(item, Item::Error)) {
        Some(_) => Err(format!(
            "{format:?} is not a date format: it has a `%` directive chrono does not know \
             (see https://docs.rs/chrono/latest/chrono/format/strftime/)"
        )),
        None => Ok(()),
    }
}
