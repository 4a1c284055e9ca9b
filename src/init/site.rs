//! What a site says of itself around its episodes: the show (home page, own feed), the way to
//! its archive, and the shapes of its URLs. Pure: pages and bytes in, plain data out.

use scraper::{Html, Selector};
use url::Url;

/// The show's channel, as the site describes it.
#[derive(Debug, Clone, Default)]
pub struct Channel {
    pub title: String,
    pub link: String,
    pub description: Option<String>,
    pub image: Option<String>,
    pub language: Option<String>,
    pub author: Option<String>,
    /// Apple's names, as the recipe takes them (`"Parent/Child"`).
    pub categories: Vec<String>,
}

impl Channel {
    /// The channel with what the site's own feed says in place of what its home page says:
    /// the feed is written for podcast apps.
    pub(crate) fn with_feed(self, feed: Option<&Channel>) -> Channel {
        let Some(feed) = feed else { return self };
        let pick = |own: Option<String>, fed: &Option<String>| fed.clone().or(own);
        Channel {
            title: if feed.title.is_empty() { self.title } else { feed.title.clone() },
            link: self.link,
            description: pick(self.description, &feed.description),
            image: pick(self.image, &feed.image),
            language: pick(self.language, &feed.language),
            author: pick(self.author, &feed.author),
            categories: if feed.categories.is_empty() { self.categories } else { feed.categories.clone() },
        }
    }
}

/// The feed a site links, how many items it has, and what it says of the show.
#[derive(Debug, Clone)]
pub struct SiteFeed {
    pub url: Url,
    pub items: usize,
    pub channel: Channel,
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a valid built-in selector")
}

/// Links that look like the way to the archive: "All episodes", `/archive`, `/episodes`, an
/// episode page's category (`rel="category"`), the section its breadcrumb names, a link in the
/// show's name (`og:site_name`), and the series its JSON-LD says it is part of (not "Older
/// episodes": the next page of a listing is no archive of its own).
pub(crate) fn archive_links(doc: &Html, base: &Url) -> Vec<Url> {
    let show = doc
        .select(&selector("meta[property='og:site_name'], meta[name='application-name']"))
        .find_map(|m| m.value().attr("content"))
        .map(|name| name.trim().to_lowercase())
        .filter(|name| !name.is_empty());
    let series = series_url(doc).and_then(|url| base.join(&url).ok()).map(|url| (3, url));
    let mut scored: Vec<(u8, Url)> = doc
        .select(&selector("a[href]"))
        .filter_map(|a| {
            let mut url = base.join(a.value().attr("href")?.trim()).ok()?;
            url.set_fragment(None);
            let text = a.text().collect::<String>().to_lowercase();
            let said = |word: &str| text.split(|c: char| !c.is_alphanumeric()).any(|w| w == word);
            let path = url.path().trim_end_matches('/').to_lowercase();
            let rel = a.value().attr("rel").unwrap_or_default();
            let in_breadcrumb = a.ancestors().filter_map(scraper::ElementRef::wrap).take(6).any(|e| {
                let named = |v: &str| v.to_lowercase().contains("breadcrumb");
                e.value().classes().any(named) || e.value().id().is_some_and(named)
            });
            let mut score = 0;
            score += 3 * u8::from(said("all") && text.contains("episode"));
            let path = path.strip_suffix("/index.html").unwrap_or(&path);
            score += 2 * u8::from(ARCHIVE_PATHS.iter().any(|end| path.ends_with(end)));
            score += u8::from(ARCHIVE_WORDS.iter().any(|word| text.contains(word)));
            // A blog's posts ("Blog", `/blog/`), on a site whose home page plays only the newest.
            score += 2 * u8::from(said("blog") && path.ends_with("/blog"));
            score += 2 * u8::from(rel.split_whitespace().any(|r| r == "category") || in_breadcrumb);
            score += 2 * u8::from(show.as_deref() == Some(text.trim()));
            // `/episodes?page=3` is a page of the archive, not the way to it.
            let paged = numbered(&url).is_some() || url.query_pairs().any(|(name, _)| name == "page");
            let here = url.as_str() == base.as_str().split('#').next().unwrap_or_default();
            let home = url.path() == "/" && url.query().is_none();
            (score >= 2 && !paged && !here && !home && url.host_str() == base.host_str()).then_some((score, url))
        })
        .chain(series.filter(|(_, url)| url.host_str() == base.host_str() && url.path() != "/"))
        .collect();
    scored.sort_by_key(|scored| std::cmp::Reverse(scored.0));
    let mut links: Vec<Url> = Vec::new();
    for (_, url) in scored {
        if !links.contains(&url) {
            links.push(url);
        }
    }
    links.truncate(2);
    links
}

/// How a link to the archive ends its path.
const ARCHIVE_PATHS: [&str; 6] = ["/archive", "/archives", "/episodes", "/podcast", "/episodios", "/folgen"];

/// How a link to the archive names it, in the languages of [`crate::parse`]'s months.
const ARCHIVE_WORDS: [&str; 10] =
    ["archive", "episodes", "episodios", "episódios", "épisodes", "folgen", "archiv", "archivo", "arquivo", "odcinki"];

/// The page of the series an episode's JSON-LD says it is part of (`partOfSeries.url`).
fn series_url(doc: &Html) -> Option<String> {
    doc.select(&selector("script[type='application/ld+json']")).take(20).find_map(|script| {
        let json: serde_json::Value = serde_json::from_str(&script.text().collect::<String>()).ok()?;
        let nodes = json.get("@graph").and_then(|g| g.as_array()).cloned().unwrap_or_else(|| vec![json.clone()]);
        nodes.iter().find_map(|node| node.pointer("/partOfSeries/url")?.as_str().map(str::to_string))
    })
}

/// The RSS or Atom feed a page links.
pub(crate) fn feed_link(doc: &Html, base: &Url) -> Option<Url> {
    let css = "link[rel=alternate][type='application/rss+xml'], link[rel=alternate][type='application/atom+xml']";
    doc.select(&selector(css)).find_map(|link| base.join(link.value().attr("href")?.trim()).ok())
}

/// The channel as the home page describes the show.
pub(crate) fn channel_of(doc: &Html, base: &Url) -> Channel {
    let meta = |css: &str, attr: &str| {
        doc.select(&selector(css))
            .find_map(|e| e.value().attr(attr).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string))
    };
    let text = |css: &str| {
        doc.select(&selector(css)).map(|e| e.text().collect::<String>().trim().to_string()).find(|t| !t.is_empty())
    };
    let title = meta("meta[property='og:site_name']", "content")
        .or_else(|| text("title"))
        .unwrap_or_else(|| base.host_str().unwrap_or("A podcast").to_string());
    Channel {
        link: base.join("/").map(|u| u.to_string()).unwrap_or_else(|_| base.to_string()),
        description: meta("meta[name=description]", "content")
            .or_else(|| meta("meta[property='og:description']", "content")),
        image: meta("meta[property='og:image']", "content").and_then(|i| base.join(&i).ok()).map(|u| u.to_string()),
        language: meta("html", "lang").and_then(|l| crate::directory::language(&l).ok()),
        author: meta("meta[name=author]", "content"),
        categories: Vec::new(),
        title,
    }
}

/// What a feed says: its items, and (an RSS feed) its channel's title, description, image,
/// language, author and Apple categories. An Atom feed, or one that does not parse, is
/// counted only.
pub(crate) fn read_feed(url: Url, bytes: &[u8]) -> SiteFeed {
    let Ok(rss) = rss::Channel::read_from(bytes) else {
        let text = String::from_utf8_lossy(bytes);
        let items = text.matches("<entry>").count() + text.matches("<entry ").count();
        return SiteFeed { url, items, channel: Channel::default() };
    };
    let itunes = rss.itunes_ext();
    let absolute = |href: &str| url.join(href.trim()).ok().map(|u| u.to_string());
    let image = itunes.and_then(|i| i.image()).or(rss.image().map(|i| i.url())).and_then(absolute);
    let categories = itunes
        .map(|i| {
            i.categories()
                .iter()
                .flat_map(|parent| {
                    let children = parent.subcategory.iter().map(|c| format!("{}/{}", parent.text, c.text));
                    std::iter::once(parent.text.clone()).chain(children).last()
                })
                .filter_map(|name| crate::directory::category(&name).ok())
                .collect()
        })
        .unwrap_or_default();
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let channel = Channel {
        title: rss.title().trim().to_string(),
        link: String::new(),
        description: text(rss.description()),
        image,
        language: rss.language().and_then(|l| crate::directory::language(l).ok()),
        author: itunes.and_then(|i| i.author()).and_then(text),
        categories,
    };
    SiteFeed { url, items: rss.items().len(), channel }
}

/// Numbered listing pages a URL is the first of (`?page=1`, `/page/1`): the template, with
/// `{n}` where the number goes, and the second page.
pub(crate) fn numbered(url: &Url) -> Option<(String, Url)> {
    const NAMES: [&str; 4] = ["page", "p", "pg", "paged"];
    let numbered = |value: &str| value.parse::<u32>().ok();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let at = pairs.iter().position(|(name, value)| NAMES.contains(&name.as_str()) && numbered(value).is_some());
    let template = match at {
        Some(at) => {
            let mut template = url.clone();
            // The other parameters as they were (encoded again), the page's number a placeholder.
            let mut query = template.query_pairs_mut();
            query.clear();
            for (i, (name, value)) in pairs.iter().enumerate() {
                query.append_pair(name, if i == at { "PODFEEDN" } else { value });
            }
            drop(query);
            template.as_str().replace("PODFEEDN", "{n}")
        }
        None => {
            let path = url.path().trim_end_matches('/');
            let (before, number) = path.rsplit_once("/page/")?;
            numbered(number)?;
            let mut template = url.clone();
            template.set_path(&format!("{before}/page/NUMBER"));
            template.as_str().replace("NUMBER", "{n}")
        }
    };
    let second = Url::parse(&template.replace("{n}", "2")).ok()?;
    (second != *url).then_some((template, second))
}

/// A regular expression for URLs shaped like `urls` (the same host, as many path segments,
/// segments that differ as any text, or any number where they are all numbers); `None` for
/// fewer than two URLs, URLs with queries, or nothing that differs.
pub(crate) fn url_pattern(urls: &[Url]) -> Option<String> {
    let first = urls.first().filter(|_| urls.len() >= 2)?;
    let paths: Vec<Vec<&str>> = urls.iter().map(|url| url.path().split('/').collect()).collect();
    let same_shape = urls.iter().all(|url| url.host_str() == first.host_str() && url.port() == first.port());
    if !same_shape || urls.iter().any(|url| url.query().is_some()) || paths.iter().any(|p| p.len() != paths[0].len()) {
        return None;
    }
    let mut differs = false;
    let segments: Vec<String> = (0..paths[0].len())
        .map(|i| {
            let all: Vec<&str> = paths.iter().map(|path| path[i]).collect();
            let numbers = all.iter().all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
            // A number the samples share is still a number: the newest episodes all under
            // `/2024/` say nothing of the older ones under `/2023/`.
            if numbers {
                differs = true;
                return r"\d+".to_string();
            }
            if all.iter().all(|segment| *segment == all[0]) {
                return regex::escape(all[0]);
            }
            differs = true;
            "[^/]+".to_string()
        })
        .collect();
    let host = match first.port() {
        Some(port) => format!("{}:{port}", first.host_str()?),
        None => first.host_str()?.to_string(),
    };
    differs.then(|| format!("^https?://{}{}$", regex::escape(&host), segments.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From an episode page: its category, the section its breadcrumb names, a link in the
    /// show's name, the series its JSON-LD names; never the home page or the page itself.
    #[test]
    fn an_episode_page_names_its_archive() {
        let base = Url::parse("https://example.org/2024/05/ep-12/").unwrap();
        let links = |html: &str| -> Vec<String> {
            archive_links(&Html::parse_document(html), &base).into_iter().map(|u| u.path().to_string()).collect()
        };
        assert_eq!(
            links(r#"<a href="/topics/money/" rel="category tag">Money</a><a href="/">Home</a>"#),
            ["/topics/money/"]
        );
        assert_eq!(
            links(r#"<nav class="breadcrumbs"><a href="/">Home</a> » <a href="/shows/signal/">The Signal</a></nav>"#),
            ["/shows/signal/"]
        );
        assert_eq!(
            links(
                r#"<meta property="og:site_name" content="The Long Signal"><header><a href="/show/">The Long Signal</a></header>"#
            ),
            ["/show/"]
        );
        let ld = r#"<script type="application/ld+json">{"@type":"PodcastEpisode","partOfSeries":{"@type":"PodcastSeries","url":"/series/signal"}}</script>"#;
        assert_eq!(links(ld), ["/series/signal"]);
        assert!(links(r#"<a href="/2024/05/ep-12/#comments">Comments</a><a href="/tags/x">tag</a>"#).is_empty());
        // A home page that plays only the newest: its blog's posts, or its episodes in Spanish.
        assert_eq!(links(r#"<a class="page-link" href="/blog/index.html">Blog</a>"#), ["/blog/index.html"]);
        assert_eq!(links(r#"<a href="/episodios/">Todos los episodios</a>"#), ["/episodios/"]);
    }

    #[test]
    fn numbered_pages_by_query_or_path() {
        let url = Url::parse("https://example.org/list?q=a%26b&page=1").unwrap();
        let (template, second) = numbered(&url).unwrap();
        assert_eq!(template, "https://example.org/list?q=a%26b&page={n}");
        assert_eq!(second.as_str(), "https://example.org/list?q=a%26b&page=2");
        let (template, _) = numbered(&Url::parse("https://example.org/blog/page/3/").unwrap()).unwrap();
        assert_eq!(template, "https://example.org/blog/page/{n}");
        assert!(numbered(&Url::parse("https://example.org/archive").unwrap()).is_none());
    }

    #[test]
    fn url_patterns_keep_what_is_shared() {
        let urls: Vec<Url> = ["http://127.0.0.1:8080/episodes/12", "http://127.0.0.1:8080/episodes/7"]
            .iter()
            .map(|u| Url::parse(u).unwrap())
            .collect();
        let pattern = url_pattern(&urls).unwrap();
        assert_eq!(pattern, r"^https?://127\.0\.0\.1:8080/episodes/\d+$");
        let matcher = regex::Regex::new(&pattern).unwrap();
        assert!(matcher.is_match("http://127.0.0.1:8080/episodes/1188"));
        assert!(!matcher.is_match("http://127.0.0.1:8080/archive/page/2"));
        assert!(url_pattern(&urls[..1]).is_none());
        // Years the samples share are any year.
        let dated: Vec<Url> = ["https://example.org/2024/a-story/", "https://example.org/2024/another/"]
            .iter()
            .map(|u| Url::parse(u).unwrap())
            .collect();
        let dated = regex::Regex::new(&url_pattern(&dated).unwrap()).unwrap();
        assert!(dated.is_match("https://example.org/2019/an-old-one/"));
    }

    #[test]
    fn a_feed_tells_the_show() {
        let xml = br#"<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
            <title>Show</title><link>/</link><description>About it.</description><language>en-us</language>
            <itunes:author>Radio</itunes:author><itunes:image href="/art.png"/>
            <itunes:category text="Arts"><itunes:category text="Books"/></itunes:category>
            <item><title>1</title></item><item><title>2</title></item></channel></rss>"#;
        let feed = read_feed(Url::parse("https://example.org/feed.xml").unwrap(), xml);
        assert_eq!(feed.items, 2);
        assert_eq!(feed.channel.author.as_deref(), Some("Radio"));
        assert_eq!(feed.channel.image.as_deref(), Some("https://example.org/art.png"));
        assert_eq!(feed.channel.categories, ["Arts/Books"]);
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>1</title></entry></feed>"#;
        assert_eq!(read_feed(Url::parse("https://example.org/atom").unwrap(), atom).items, 1);
    }
}
