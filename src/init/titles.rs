//! Which title rule names the episode, when several give a value on every sample: the one whose
//! value the page's `<title>` holds (a plugin's second `og:title` does not), the cleanest (the
//! heading "Caffeine", not "Caffeine | Show" from OpenGraph), and never the site's own name (a
//! logo's `h1`). A rule whose values all carry the site's name around the episode's gets a
//! twin without it, as a `regex`.

use std::sync::LazyLock;

use regex::Regex;
use scraper::Html;

use super::candidate::Candidate;
use super::dom::{selector, words};

/// Separators between an episode's title and the site's name in a `<title>` or an `og:title`:
/// "Caffeine | Show", "Caffeine - Show", "Caffeine ~ Show", "Show: Caffeine" is not one (a
/// colon joins "Episode 790: Rough Translation").
static SEPARATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s+(?:[-|–—~·»/:]|::|\|\|)\s+|\s*[|~·»]\s*").expect("a valid built-in regex"));

/// What a sampled page says of itself, beside its episode: its `<title>`, and the names the site
/// goes by (`og:site_name`, the words of its link home). Which part of a `<title>` is the site's
/// is not told by one page: "Caffeine | Say Why To Drugs" and "Transistor | #032 – Product-Market
/// Fit" both exist.
#[derive(Debug, Clone, Default)]
pub(super) struct PageNames {
    title: Option<String>,
    site: Vec<String>,
}

impl PageNames {
    pub(super) fn of(doc: &Html) -> PageNames {
        let title = doc.select(&selector("head > title")).map(words).find(|t| !t.is_empty());
        let mut site: Vec<String> = Vec::new();
        let content = |css: &str| doc.select(&selector(css)).filter_map(|m| m.value().attr("content")).map(fold).next();
        site.extend(content("meta[property='og:site_name']"));
        site.extend(content("meta[name='application-name']"));
        let home = selector("a[rel~=home], a[href='/']");
        site.extend(doc.select(&home).take(5).map(words).filter(|w| !w.is_empty() && w.len() <= 80).map(|w| fold(&w)));
        site.retain(|name| !name.is_empty());
        PageNames { title, site }
    }

    /// Whether `value` is the site's own name, not an episode's.
    pub(super) fn is_site(&self, value: &str) -> bool {
        let value = fold(value);
        self.site.contains(&value)
    }

    fn title_holds(&self, value: &str) -> bool {
        self.title.as_deref().is_some_and(|title| fold(title).contains(&fold(value)))
    }
}

/// Text compared as a reader would: whitespace folded, case and typographic quotes aside.
fn fold(text: &str) -> String {
    let straight: String = text
        .chars()
        .map(|c| match c {
            '‘' | '’' | '´' => '\'',
            '“' | '”' => '"',
            c => c,
        })
        .collect();
    straight.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The order to try title rules in. First those that give a value on (nearly) every sample
/// (`full`) and agree with what else the page says of itself on most of them: the `<title>` or
/// another rule's value holds theirs, as "Caffeine | Show" holds "Caffeine" (a heading in the
/// show notes agrees with nothing). Among those, what a reader sees first, the page's heading:
/// meta tags are written for search engines and social networks, and a plugin rewords them
/// ("Entrevista com o Ministro" for "PODEntender #43 Ministro"). Then the cleaner (whose value
/// another's holds with more around it), then in the order of trust. `values[c][i]` is rule
/// `c`'s value on sample `i`; `heading[c]` whether rule `c` reads a visible heading.
pub(super) fn order(
    values: &[Vec<Option<String>>],
    full: &[bool],
    heading: &[bool],
    names: &[PageNames],
) -> Vec<usize> {
    // Shares of the samples a rule gives a value on, in thousandths: a rule is not better for
    // giving a value on one more page.
    let share = |c: usize, count: usize| count * 1000 / values[c].iter().flatten().count().max(1);
    // Whether another rule (of those with a value nearly everywhere) holds `c`'s value on
    // sample `i`, with more around it if `strictly`.
    let held = |c: usize, i: usize, strictly: bool| {
        let Some(mine) = values[c][i].as_deref().map(fold) else { return false };
        (0..values.len()).any(|d| {
            let theirs = values[d][i].as_deref().map(fold);
            d != c && full[d] && theirs.is_some_and(|theirs| (!strictly || theirs != mine) && theirs.contains(&mine))
        })
    };
    let agrees = |c: usize, i: usize| {
        held(c, i, false) || values[c][i].as_deref().is_some_and(|v| names.get(i).is_some_and(|n| n.title_holds(v)))
    };
    let agree = |c: usize| share(c, (0..values[c].len()).filter(|i| agrees(c, *i)).count());
    let cleaner = |c: usize| share(c, (0..values[c].len()).filter(|i| held(c, *i, true)).count());
    let mut order: Vec<usize> = (0..values.len()).collect();
    // Then, of meta tags, the one the page agrees with on (nearly) every sample: a plugin's
    // `og:title` before the theme's is not.
    order.sort_by_key(|c| match full[*c] {
        true => (0, agree(*c) < 500, !heading[*c], agree(*c) < 800, cleaner(*c) < 500, *c),
        false => (1, true, true, true, true, *c),
    });
    order
}

/// A twin of `candidate` that leaves out what its values all carry around the episode's title:
/// a separator and the site's name ("Caffeine | Show" → "Caffeine"), after the title or before
/// it. The affix must be the same on at least three samples, or be one of the site's names.
pub(super) fn trimmed(candidate: &Candidate, values: &[Option<String>], names: &[PageNames]) -> Option<Candidate> {
    let values: Vec<&str> = values.iter().flatten().map(String::as_str).collect();
    let site = |affix: &str| {
        let name = fold(SEPARATOR.replace_all(affix, " ").trim());
        names.iter().any(|n| n.site.contains(&name))
    };
    let accept = |affix: &Option<String>| affix.as_deref().is_some_and(|a| values.len() >= 3 || site(a));
    let suffix = common_suffix(&values).filter(|_| !values.is_empty());
    let prefix = common_prefix(&values).filter(|_| !values.is_empty());
    let (suffix, prefix) = (Some(suffix).filter(accept).flatten(), Some(prefix).filter(accept).flatten());
    if suffix.is_none() && prefix.is_none() {
        return None;
    }
    let literal =
        |affix: &str| SEPARATOR.split(affix).map(regex::escape).collect::<Vec<_>>().join(r"\s*[-|–—~·»/:]+\s*");
    let prefix = prefix.map(|p| format!("(?:{})?", literal(&p))).unwrap_or_default();
    let suffix = suffix.map(|s| format!("(?:{})?", literal(&s))).unwrap_or_default();
    let mut twin = candidate.clone();
    twin.regex = Some(format!("^{prefix}(.+?){suffix}$"));
    twin.evidence = format!("{}, the site's name left out", candidate.evidence);
    Some(twin)
}

/// The longest end, from a separator on, that every value has after a title of its own.
fn common_suffix(values: &[&str]) -> Option<String> {
    let first = values.first()?;
    SEPARATOR
        .find_iter(first)
        .map(|m| &first[m.start()..])
        .find(|suffix| values.iter().all(|v| v.len() > suffix.len() && v.ends_with(suffix)))
        .map(str::to_string)
}

/// The longest start, up to a separator, that every value has before a title of its own.
fn common_prefix(values: &[&str]) -> Option<String> {
    let first = values.first()?;
    let ends: Vec<usize> = SEPARATOR.find_iter(first).map(|m| m.end()).collect();
    ends.into_iter()
        .rev()
        .map(|end| &first[..end])
        .find(|prefix| values.iter().all(|v| v.len() > prefix.len() && v.starts_with(prefix)))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(title: &str, site: &str) -> PageNames {
        PageNames::of(&Html::parse_document(&format!(
            r#"<head><title>{title}</title><meta property="og:site_name" content="{site}"></head>"#
        )))
    }

    fn apply(candidate: &Candidate, value: &str) -> String {
        let regex = Regex::new(candidate.regex.as_deref().unwrap()).unwrap();
        regex.captures(value).unwrap()[1].to_string()
    }

    #[test]
    fn the_site_name_is_known_from_meta_tags_links_home_and_the_title() {
        let doc = Html::parse_document(
            r#"<head><title>Caffeine | Say Why to Drugs</title><meta name="application-name" content="Say Why to Drugs">
               </head><body><a rel="home" href="/">The Logo</a></body>"#,
        );
        let names = PageNames::of(&doc);
        assert!(names.is_site("say why to drugs") && names.is_site("The  Logo"));
        assert!(!names.is_site("Caffeine"));
    }

    /// A plugin's `og:title` that the page's `<title>` does not hold loses to the heading it
    /// does; the heading, which `og:title` holds with the site's name, beats `og:title`.
    #[test]
    fn the_title_the_page_agrees_with_and_the_cleanest() {
        let titles = ["Ep 43 Ministro - Podcast | PODEntender", "Ep 42 Abal - Podcast | PODEntender"];
        let names: Vec<PageNames> = titles.iter().map(|t| names(t, "PODEntender")).collect();
        let values = vec![
            vec![Some("Entrevista com Ministro".to_string()), Some("Felipe Abal sobre".to_string())],
            vec![
                Some("Ep 43 Ministro - Podcast | PODEntender".to_string()),
                Some("Ep 42 Abal - Podcast | PODEntender".to_string()),
            ],
            vec![Some("Ep 43 Ministro".to_string()), Some("Ep 42 Abal".to_string())],
            vec![Some("Ep 43 Ministro".to_string()), None],
        ];
        let heading = [false, false, true, false];
        assert_eq!(order(&values, &[true, true, true, false], &heading, &names), [2, 1, 0, 3]);
    }

    #[test]
    fn the_sites_name_around_every_title_is_left_out() {
        let candidate = Candidate::new("meta[property='og:title']", Some("content"), None, "OpenGraph");
        let values: Vec<Option<String>> = ["Medieval Comedy ~ Gurus of Comedy", "Russian Protests ~ Gurus of Comedy"]
            .iter()
            .map(|v| Some(v.to_string()))
            .collect();
        // Two samples: the affix must be the site's name.
        let site = [names("x", "Gurus of Comedy")];
        let twin = trimmed(&candidate, &values, &site).unwrap();
        assert_eq!(apply(&twin, "Icelandic Comedy ~ Gurus of Comedy"), "Icelandic Comedy");
        assert_eq!(apply(&twin, "A page without it"), "A page without it");
        assert!(twin.evidence.contains("left out"));
        assert!(trimmed(&candidate, &values, &[names("x", "Another Site")]).is_none());
        // A prefix and a suffix, on three samples.
        let values: Vec<Option<String>> = ["Сказки - Кот | Радио", "Сказки - Гуси | Радио", "Сказки - Кузя | Радио"]
            .iter()
            .map(|v| Some(v.to_string()))
            .collect();
        let twin = trimmed(&candidate, &values, &[]).unwrap();
        assert_eq!(apply(&twin, "Сказки - Золушка | Радио"), "Золушка");
        // Titles that share a word and a colon keep it: "Episode 790: …" is a title.
        let episodes: Vec<Option<String>> = ["Episode 790: Ukraine", "Episode 789: Robocalls", "Episode 788: The Fair"]
            .iter()
            .map(|v| Some(v.to_string()))
            .collect();
        assert!(trimmed(&candidate, &episodes, &[]).is_none());
    }
}
