//! Pure rendering: channel metadata + episodes → RSS 2.0 bytes with iTunes and Podcasting 2.0 tags.
//! Both are rendered as given: they passed [`crate::hygiene`] when the recipe was loaded and the
//! episode extracted, and the bytes are checked again before they are published.

mod split;

pub use split::Part;

use std::collections::BTreeMap;
use std::io::{self, Write};

use chrono::{DateTime, Datelike, Utc};
use rss::extension::itunes::{ITunesCategory, ITunesChannelExtension, ITunesItemExtension, ITunesOwner};
use rss::extension::{Extension, ExtensionMap};

use crate::model::Channel;
use crate::model::Episode;

pub const ITUNES_NS: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";
pub const CONTENT_NS: &str = "http://purl.org/rss/1.0/modules/content/";
pub const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
pub const PODCAST_NS: &str = "https://podcastindex.org/namespace/1.0";

/// The UUIDv5 namespace the Podcasting 2.0 spec fixes for `podcast:guid`.
const PODCAST_GUID_NAMESPACE: uuid::Uuid = uuid::uuid!("ead4c236-bf58-58c6-a2c6-a6b28d128cb6");

/// Where an episode goes in the feed: newest first, undated last, ties broken by guid so the
/// order never wobbles between runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedKey {
    newest_first: std::cmp::Reverse<Option<DateTime<Utc>>>,
    pub guid: String,
}

impl FeedKey {
    pub fn of(episode: &Episode) -> FeedKey {
        FeedKey::new(episode.guid.clone(), episode.published)
    }

    pub fn new(guid: String, published: Option<DateTime<Utc>>) -> FeedKey {
        FeedKey { newest_first: std::cmp::Reverse(published), guid }
    }

    /// Whether the episode has a date.
    pub fn dated(&self) -> bool {
        self.newest_first.0.is_some()
    }

    pub fn published(&self) -> Option<DateTime<Utc>> {
        self.newest_first.0
    }

    /// The key of an undated episode (for tests).
    #[cfg(test)]
    pub(crate) fn undated(guid: &str) -> FeedKey {
        FeedKey { newest_first: std::cmp::Reverse(None), guid: guid.to_string() }
    }
}

/// Sorts keys into feed order and keeps the newest `max_items` (all when 0).
pub fn in_feed_order(mut keys: Vec<FeedKey>, max_items: usize) -> Vec<FeedKey> {
    keys.sort();
    if max_items > 0 {
        keys.truncate(max_items);
    }
    keys
}

/// Writes the feed, items in the order given (see [`in_feed_order`]). Items are rendered one at a
/// time as the iterator yields them, so a large archive never sits in memory as one feed.
pub fn write(
    out: &mut impl Write,
    channel: &Channel,
    episodes: impl IntoIterator<Item = io::Result<Episode>>,
    last_build: DateTime<Utc>,
) -> io::Result<()> {
    write_within(out, channel, episodes, last_build, 0).map(drop)
}

/// [`write`], stopping before the first item that would make the feed larger than `max_bytes`
/// (0: no limit); the first item is written whatever its size. Answers how many items were
/// written: those after them are left out.
pub fn write_within(
    out: &mut impl Write,
    channel: &Channel,
    episodes: impl IntoIterator<Item = io::Result<Episode>>,
    last_build: DateTime<Utc>,
    max_bytes: u64,
) -> io::Result<usize> {
    let frame = pretty(&rss_channel(channel, Vec::new(), last_build));
    let (head, tail) = frame.split_at(frame.rfind(CHANNEL_END).expect("a channel ends with </channel>"));
    out.write_all(head.as_bytes())?;
    let mut size = (head.len() + tail.len()) as u64;
    let mut written = 0;
    for episode in episodes {
        let item = item_xml(episode?, channel.explicit);
        size += item.len() as u64;
        if max_bytes > 0 && size > max_bytes && written > 0 {
            break;
        }
        out.write_all(item.as_bytes())?;
        written += 1;
    }
    out.write_all(tail.as_bytes())?;
    Ok(written)
}

/// The whole feed in memory; for tests and small feeds.
pub fn render(channel: &Channel, episodes: Vec<Episode>, last_build: DateTime<Utc>) -> Vec<u8> {
    let mut bytes = Vec::new();
    write(&mut bytes, channel, episodes.into_iter().map(Ok), last_build).expect("writing to a Vec cannot fail");
    bytes
}

/// How the channel's closing tag is indented in pretty output.
const CHANNEL_END: &str = "\n  </channel>";

fn rss_channel(channel: &Channel, items: Vec<rss::Item>, last_build: DateTime<Utc>) -> rss::Channel {
    rss::Channel {
        title: channel.title.clone(),
        link: channel.link.clone(),
        description: channel.description.clone(),
        language: channel.language.clone(),
        copyright: channel.copyright.clone(),
        last_build_date: Some(last_build.to_rfc2822()),
        generator: Some(concat!("podfeed ", env!("CARGO_PKG_VERSION")).to_string()),
        image: channel.image.as_ref().map(|url| rss::Image {
            url: url.clone(),
            title: channel.title.clone(),
            link: channel.link.clone(),
            ..Default::default()
        }),
        itunes_ext: Some(itunes_channel(channel)),
        extensions: channel_extensions(channel),
        namespaces: namespaces(),
        items,
        ..Default::default()
    }
}

fn pretty(channel: &rss::Channel) -> String {
    let mut bytes = channel.pretty_write_to(Vec::new(), b' ', 2).expect("writing XML to a Vec cannot fail");
    bytes.push(b'\n');
    String::from_utf8(bytes).expect("the rss crate writes UTF-8")
}

/// One `<item>` exactly as it appears inside a pretty-printed channel. The rss crate writes
/// items only as part of a channel, so the item is written in an otherwise empty one and cut out.
fn item_xml(episode: Episode, show_explicit: bool) -> String {
    let text = pretty(&rss::Channel { items: vec![item(episode, show_explicit)], ..Default::default() });
    let start = text.find("\n    <item>").expect("the item is in the channel");
    let end = text.rfind(CHANNEL_END).expect("a channel ends with </channel>");
    text[start..end].to_string()
}

fn namespaces() -> BTreeMap<String, String> {
    [("itunes", ITUNES_NS), ("content", CONTENT_NS), ("atom", ATOM_NS), ("podcast", PODCAST_NS)]
        .into_iter()
        .map(|(prefix, uri)| (prefix.to_string(), uri.to_string()))
        .collect()
}

fn itunes_channel(channel: &Channel) -> ITunesChannelExtension {
    ITunesChannelExtension {
        author: channel.author.clone(),
        image: channel.image.clone(),
        explicit: Some(channel.explicit.to_string()),
        categories: itunes_categories(&channel.categories),
        owner: channel.owner.as_ref().map(|owner| ITunesOwner { name: owner.name.clone(), email: owner.email.clone() }),
        summary: Some(channel.description.clone()),
        r#type: Some(channel.show_type.as_str().to_string()),
        new_feed_url: channel.new_feed_url.clone(),
        block: channel.block.then(|| "Yes".to_string()),
        complete: channel.complete.then(|| "Yes".to_string()),
        ..Default::default()
    }
}

/// `"Business/Investing"` becomes a category with a subcategory; a bare `"Business"` beside it
/// adds nothing, and repeats are dropped.
fn itunes_categories(paths: &[String]) -> Vec<ITunesCategory> {
    let split = |path: &str| match path.split_once('/') {
        Some((parent, child)) => (parent.trim().to_string(), Some(child.trim().to_string())),
        None => (path.trim().to_string(), None),
    };
    let pairs: Vec<(String, Option<String>)> = paths.iter().map(|p| split(p)).collect();
    let mut categories: Vec<ITunesCategory> = Vec::new();
    for (i, (parent, child)) in pairs.iter().enumerate() {
        let covered = child.is_none() && pairs.iter().any(|(p, c)| p == parent && c.is_some());
        if covered || pairs[..i].contains(&(parent.clone(), child.clone())) {
            continue;
        }
        categories.push(ITunesCategory {
            text: parent.clone(),
            subcategory: child.clone().map(|text| Box::new(ITunesCategory { text, subcategory: None })),
        });
    }
    categories
}

fn channel_extensions(channel: &Channel) -> ExtensionMap {
    let mut map = ExtensionMap::new();
    if let Some(self_url) = &channel.self_url {
        let attrs = [("href", self_url.as_str()), ("rel", "self"), ("type", "application/rss+xml")];
        add_extension(&mut map, "atom", "link", None, &attrs);
        let guid = podcast_guid(self_url).to_string();
        add_extension(&mut map, "podcast", "guid", Some(guid), &[]);
    }
    if let Some(locked) = channel.locked {
        let owner = channel.owner.as_ref().and_then(|o| o.email.as_deref()).unwrap_or_default();
        let value = if locked { "yes" } else { "no" };
        add_extension(&mut map, "podcast", "locked", Some(value.into()), &[("owner", owner)]);
    }
    if channel.block {
        add_extension(&mut map, "podcast", "block", Some("yes".into()), &[]);
    }
    for funding in &channel.funding {
        add_extension(&mut map, "podcast", "funding", Some(funding.text.clone()), &[("url", &funding.url)]);
    }
    for person in &channel.persons {
        let attrs = [
            ("role", person.role.as_deref().or(Some("host"))),
            ("href", person.href.as_deref()),
            ("img", person.img.as_deref()),
        ];
        let attrs: Vec<(&str, &str)> = attrs.into_iter().filter_map(|(k, v)| Some((k, v?))).collect();
        add_extension(&mut map, "podcast", "person", Some(person.name.clone()), &attrs);
    }
    if let Some(location) = &channel.location {
        let attrs = [("geo", location.geo.as_deref()), ("osm", location.osm.as_deref())];
        let attrs: Vec<(&str, &str)> = attrs.into_iter().filter_map(|(k, v)| Some((k, v?))).collect();
        add_extension(&mut map, "podcast", "location", Some(location.name.clone()), &attrs);
    }
    map
}

/// `podcast:guid`: a UUIDv5 of the feed URL without its scheme and trailing slashes.
pub fn podcast_guid(feed_url: &str) -> uuid::Uuid {
    let without_scheme = feed_url.split_once("://").map_or(feed_url, |(_, rest)| rest);
    uuid::Uuid::new_v5(&PODCAST_GUID_NAMESPACE, without_scheme.trim_end_matches('/').as_bytes())
}

fn add_extension(map: &mut ExtensionMap, prefix: &str, name: &str, value: Option<String>, attrs: &[(&str, &str)]) {
    let extension = Extension {
        name: format!("{prefix}:{name}"),
        value,
        attrs: attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        children: BTreeMap::new(),
    };
    map.entry(prefix.to_string()).or_default().entry(name.to_string()).or_default().push(extension);
}

fn item(episode: Episode, show_explicit: bool) -> rss::Item {
    // A permalink guid is a URL apps may open: only one that is a clean URL as it stands.
    let permalink = crate::hygiene::url(&episode.guid).as_deref() == Some(episode.guid.as_str());
    let extensions = item_extensions(&episode);
    let mime_type =
        episode.enclosure.mime_type.unwrap_or_else(|| mime_from_extension(&episode.enclosure.url).to_string());
    rss::Item {
        title: Some(episode.title),
        link: Some(episode.link),
        guid: Some(rss::Guid { value: episode.guid, permalink }),
        // RFC 2822 has four-digit years (chrono panics beyond); a cache from an older podfeed
        // may hold any date.
        pub_date: episode.published.filter(|d| (0..=9999).contains(&d.year())).map(|d| d.to_rfc2822()),
        description: episode.description,
        content: episode.content,
        enclosure: Some(rss::Enclosure {
            url: episode.enclosure.url,
            length: episode.enclosure.length.unwrap_or(0).to_string(),
            mime_type,
        }),
        itunes_ext: Some(ITunesItemExtension {
            // Zero means unknown (a cache from an older podfeed may hold it): no tag.
            duration: episode.duration.filter(|s| *s > 0).map(format_duration),
            episode: episode.episode.map(|n| n.to_string()),
            season: episode.season.map(|n| n.to_string()),
            episode_type: episode.episode_type,
            explicit: Some(episode.explicit.unwrap_or(show_explicit).to_string()),
            image: episode.image,
            block: episode.block.then(|| "Yes".to_string()),
            ..Default::default()
        }),
        extensions,
        ..Default::default()
    }
}

fn item_extensions(episode: &Episode) -> ExtensionMap {
    let mut map = ExtensionMap::new();
    if let Some(url) = &episode.transcript {
        add_extension(&mut map, "podcast", "transcript", None, &[("url", url), ("type", transcript_type(url))]);
    }
    if let Some(url) = &episode.chapters {
        add_extension(&mut map, "podcast", "chapters", None, &[("url", url), ("type", "application/json+chapters")]);
    }
    if let Some(season) = episode.season {
        let name = episode.season_name.as_deref().map(|name| ("name", name));
        add_extension(&mut map, "podcast", "season", Some(season.to_string()), name.as_slice());
    }
    for person in &episode.persons {
        let href = person.href.as_deref().map(|href| ("href", href));
        let attrs: Vec<(&str, &str)> = [("role", person.role.as_str())].into_iter().chain(href).collect();
        add_extension(&mut map, "podcast", "person", Some(person.name.clone()), &attrs);
    }
    map
}

fn transcript_type(url: &str) -> &'static str {
    match extension_of(url).as_str() {
        "vtt" => "text/vtt",
        "srt" => "application/srt",
        "json" => "application/json",
        "txt" => "text/plain",
        _ => "text/html",
    }
}

fn extension_of(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    let file = path.rsplit('/').next().unwrap_or_default();
    file.rsplit_once('.').map(|(_, e)| e.to_string()).unwrap_or_default()
}

/// `H:MM:SS`, the form every podcast app reads.
pub fn format_duration(seconds: u64) -> String {
    format!("{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// The media type an enclosure URL's extension suggests, when the server did not say.
pub fn mime_from_extension(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    let extension = path.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    match extension {
        "m4a" => "audio/x-m4a",
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "wav" => "audio/wav",
        "aac" => "audio/aac",
        "flac" => "audio/flac",
        "webm" => "audio/webm",
        _ => "audio/mpeg",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Credit, Enclosure};
    use chrono::TimeZone;

    fn channel() -> Channel {
        toml::from_str(
            r#"title = "Show & Tell"
               link = "https://example.org/"
               description = "About <things>"
               language = "en-us"
               author = "Example Radio"
               image = "https://example.org/cover.jpg"
               categories = ["Business", "Business/Investing", "News", "News"]
               explicit = false
               owner = { name = "Example Radio", email = "pod@example.org" }
               self_url = "https://feeds.example.org/show.xml""#,
        )
        .unwrap()
    }

    fn episode(n: u32, day: u32) -> Episode {
        Episode {
            guid: format!("https://example.org/ep/{n}"),
            page_url: format!("https://example.org/ep/{n}"),
            link: format!("https://example.org/ep/{n}"),
            title: format!("Episode {n} <\"quoted\"> & more"),
            published: Some(Utc.with_ymd_and_hms(2024, 1, day, 12, 0, 0).unwrap()),
            enclosure: Enclosure {
                url: format!("https://cdn.example.org/{n}.m4a?x=1"),
                length: Some(1234),
                mime_type: None,
            },
            duration: Some(3725),
            description: Some("Plain ]]> text".into()),
            content: Some("<p>Hi ]]> there</p>".into()),
            image: None,
            episode: Some(n),
            season: None,
            episode_type: None,
            explicit: None,
            transcript: None,
            chapters: None,
            season_name: None,
            block: false,
            persons: Vec::new(),
        }
    }

    fn parsed(bytes: &[u8]) -> rss::Channel {
        rss::Channel::read_from(bytes).expect("our feed must parse")
    }

    #[test]
    fn items_newest_first_with_every_field() {
        let bytes = render(&channel(), vec![episode(2, 2), episode(1, 1)], Utc::now());
        let feed = parsed(&bytes);
        let titles: Vec<_> = feed.items.iter().map(|i| i.title.clone().unwrap()).collect();
        assert_eq!(titles, ["Episode 2 <\"quoted\"> & more", "Episode 1 <\"quoted\"> & more"]);
        let item = &feed.items[0];
        assert_eq!(item.pub_date.as_deref(), Some("Tue, 2 Jan 2024 12:00:00 +0000"));
        assert!(item.guid.as_ref().unwrap().permalink);
        let enclosure = item.enclosure.as_ref().unwrap();
        assert_eq!((enclosure.length.as_str(), enclosure.mime_type.as_str()), ("1234", "audio/x-m4a"));
        let itunes = item.itunes_ext.as_ref().unwrap();
        assert_eq!(itunes.duration.as_deref(), Some("1:02:05"));
        assert_eq!(itunes.episode.as_deref(), Some("2"));
        assert_eq!(item.description.as_deref(), Some("Plain ]]> text"));
        assert_eq!(item.content.as_deref(), Some("<p>Hi ]]> there</p>"));
    }

    /// A cache written before zero meant "unknown" may hold a duration of 0: no tag, not 0:00:00.
    #[test]
    fn a_zero_duration_is_left_out() {
        let unknown = Episode { duration: Some(0), ..episode(1, 1) };
        let feed = parsed(&render(&channel(), vec![unknown], Utc::now()));
        assert_eq!(feed.items[0].itunes_ext.as_ref().unwrap().duration, None);
        assert!(!String::from_utf8_lossy(&render(
            &channel(),
            vec![Episode { duration: Some(0), ..episode(1, 1) }],
            Utc::now()
        ))
        .contains("itunes:duration"));
    }

    #[test]
    fn item_block_season_name_and_people() {
        let host = Credit { name: "Ana".into(), role: "host".into(), href: Some("https://example.org/ana".into()) };
        let guest = Credit { name: "Bo & Co".into(), role: "guest".into(), href: None };
        let special = Episode {
            season: Some(2),
            season_name: Some("The \"Return\"".into()),
            block: true,
            persons: vec![host, guest],
            ..episode(2, 2)
        };
        let text = String::from_utf8(render(&channel(), vec![special, episode(1, 1)], Utc::now())).unwrap();
        let feed = parsed(text.as_bytes());
        assert_eq!(feed.items[0].itunes_ext.as_ref().unwrap().block.as_deref(), Some("Yes"));
        assert_eq!(feed.items[1].itunes_ext.as_ref().unwrap().block, None);
        let podcast = &feed.items[0].extensions["podcast"];
        let season = &podcast["season"][0];
        assert_eq!(
            (season.value.as_deref(), season.attrs.get("name").map(String::as_str)),
            (Some("2"), Some("The \"Return\""))
        );
        let people: Vec<_> = podcast["person"]
            .iter()
            .map(|p| (p.value.as_deref().unwrap(), p.attrs["role"].as_str(), p.attrs.get("href")))
            .collect();
        assert_eq!(people[0], ("Ana", "host", Some(&"https://example.org/ana".to_string())));
        assert_eq!(people[1], ("Bo & Co", "guest", None));
        assert!(!feed.items[1].extensions.contains_key("podcast"), "nothing to say, no tags");
    }

    #[test]
    fn channel_metadata_and_namespaces() {
        let bytes = render(&channel(), vec![episode(1, 1)], Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap());
        let text = String::from_utf8(bytes.clone()).unwrap();
        for declaration in ["xmlns:itunes=", "xmlns:content=", "xmlns:atom=", "xmlns:podcast="] {
            assert!(text.contains(declaration), "{declaration} missing");
        }
        assert!(text.contains(
            r#"<atom:link href="https://feeds.example.org/show.xml" rel="self" type="application/rss+xml">"#
        ));
        let feed = parsed(&bytes);
        assert_eq!(feed.title, "Show & Tell");
        assert_eq!(feed.last_build_date.as_deref(), Some("Wed, 1 May 2024 00:00:00 +0000"));
        let itunes = feed.itunes_ext.unwrap();
        assert_eq!(itunes.categories[0].text, "Business");
        assert_eq!(itunes.categories[0].subcategory.as_ref().unwrap().text, "Investing");
        assert_eq!(itunes.categories.len(), 2, "a bare parent and repeats add nothing");
        assert_eq!(itunes.owner.unwrap().email.as_deref(), Some("pod@example.org"));
        assert_eq!(itunes.explicit.as_deref(), Some("false"));
    }

    #[test]
    fn max_items_keeps_the_newest() {
        let mut undated = episode(9, 9);
        undated.published = None;
        let keys = [episode(1, 1), undated, episode(3, 3), episode(2, 2)].iter().map(FeedKey::of).collect();
        let guids: Vec<_> = in_feed_order(keys, 0).into_iter().map(|k| k.guid).collect();
        assert_eq!(guids, ["3", "2", "1", "9"].map(|n| format!("https://example.org/ep/{n}")));
        let keys = [episode(1, 1), episode(3, 3), episode(2, 2)].iter().map(FeedKey::of).collect();
        assert_eq!(in_feed_order(keys, 2).len(), 2);
    }

    #[test]
    fn non_url_guid_is_not_a_permalink() {
        let mut ep = episode(1, 1);
        ep.guid = "show-0001".into();
        let feed = parsed(&render(&channel(), vec![ep], Utc::now()));
        assert!(!feed.items[0].guid.as_ref().unwrap().permalink);
    }

    #[test]
    fn podcast_guid_follows_the_spec_example() {
        let expected = "9b024349-ccf0-5f69-a609-6b82873eab3c";
        assert_eq!(podcast_guid("https://podnews.net/rss").to_string(), expected);
        assert_eq!(podcast_guid("http://podnews.net/rss/").to_string(), expected);
        assert_eq!(podcast_guid("podnews.net/rss").to_string(), expected);
    }

    #[test]
    fn channel_type_copyright_new_url_lock_and_guid() {
        let mut show = channel();
        show.show_type = crate::model::ShowType::Serial;
        show.copyright = Some("© 2024 Example Radio".into());
        show.new_feed_url = Some("https://feeds.example.org/new.xml".into());
        show.locked = Some(true);
        let text = String::from_utf8(render(&show, vec![], Utc::now())).unwrap();
        assert!(text.contains("<itunes:type>serial</itunes:type>"), "{text}");
        assert!(text.contains("<copyright>© 2024 Example Radio</copyright>"));
        assert!(text.contains("<itunes:new-feed-url>https://feeds.example.org/new.xml</itunes:new-feed-url>"));
        assert!(text.contains(r#"<podcast:locked owner="pod@example.org">yes</podcast:locked>"#), "{text}");
        let guid = podcast_guid("https://feeds.example.org/show.xml");
        assert!(text.contains(&format!("<podcast:guid>{guid}</podcast:guid>")));
    }

    #[test]
    fn directory_controls_funding_persons_and_location() {
        let show: Channel = toml::from_str(
            r#"title = "T"
               link = "https://example.org/"
               description = "D"
               block = true
               complete = true
               funding = [ { url = "https://example.org/give?a=1&b=2", text = "Support us & more" } ]
               persons = [ { name = "Jo Host", href = "https://example.org/jo" },
                           { name = "Sam", role = "producer", img = "https://example.org/sam.jpg" } ]
               location = { name = "Austin, TX", geo = "geo:30.2672,97.7431", osm = "R113314" }"#,
        )
        .unwrap();
        let text = String::from_utf8(render(&show, vec![], Utc::now())).unwrap();
        for tag in [
            "<itunes:block>Yes</itunes:block>",
            "<podcast:block>yes</podcast:block>",
            "<itunes:complete>Yes</itunes:complete>",
            r#"<podcast:funding url="https://example.org/give?a=1&amp;b=2">Support us &amp; more</podcast:funding>"#,
            r#"<podcast:person href="https://example.org/jo" role="host">Jo Host</podcast:person>"#,
            r#"<podcast:person img="https://example.org/sam.jpg" role="producer">Sam</podcast:person>"#,
            r#"<podcast:location geo="geo:30.2672,97.7431" osm="R113314">Austin, TX</podcast:location>"#,
        ] {
            assert!(text.contains(tag), "{tag} in {text}");
        }
        // Off by default: nothing written.
        let text = String::from_utf8(render(&channel(), vec![], Utc::now())).unwrap();
        assert!(!text.contains("block") && !text.contains("complete"), "{text}");
    }

    #[test]
    fn item_season_type_explicit_transcript_chapters() {
        let mut ep = episode(1, 1);
        ep.season = Some(2);
        ep.episode_type = Some("bonus".into());
        ep.transcript = Some("https://example.org/t/1.vtt".into());
        ep.chapters = Some("https://example.org/c/1.json".into());
        let bytes = render(&channel(), vec![ep], Utc::now());
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains(r#"<podcast:transcript url="https://example.org/t/1.vtt" type="text/vtt"#)
                || text.contains(r#"type="text/vtt" url="https://example.org/t/1.vtt""#),
            "{text}"
        );
        assert!(text.contains(r#"application/json+chapters"#));
        let item = &parsed(&bytes).items[0];
        let itunes = item.itunes_ext.as_ref().unwrap();
        assert_eq!(itunes.season.as_deref(), Some("2"));
        assert_eq!(itunes.episode_type.as_deref(), Some("bonus"));
        assert_eq!(itunes.explicit.as_deref(), Some("false"), "inherits the show's explicit");
    }

    #[test]
    fn streamed_items_equal_the_rss_crate_writing_the_whole_channel() {
        let episodes = vec![episode(2, 2), episode(1, 1)];
        let at = Utc::now();
        let items = episodes.iter().cloned().map(|e| item(e, false)).collect();
        let whole = pretty(&rss_channel(&channel(), items, at));
        assert_eq!(String::from_utf8(render(&channel(), episodes, at)).unwrap(), whole);
    }

    #[test]
    fn a_date_rfc_2822_cannot_write_is_left_out_not_a_panic() {
        let mut ep = episode(1, 1);
        ep.published = Some(Utc.with_ymd_and_hms(20000, 1, 1, 12, 0, 0).unwrap());
        let feed = parsed(&render(&channel(), vec![ep], Utc::now()));
        assert_eq!(feed.items[0].pub_date, None);
    }

    #[test]
    fn rendering_is_deterministic() {
        let at = Utc::now();
        assert_eq!(render(&channel(), vec![episode(1, 1)], at), render(&channel(), vec![episode(1, 1)], at));
    }

    #[test]
    fn mime_types_by_extension() {
        assert_eq!(mime_from_extension("https://x/a.MP3"), "audio/mpeg");
        assert_eq!(mime_from_extension("https://x/a.m4a?token=1"), "audio/x-m4a");
        assert_eq!(mime_from_extension("https://x/a.mp4"), "video/mp4");
        assert_eq!(mime_from_extension("https://x/a.ogg"), "audio/ogg");
        assert_eq!(mime_from_extension("https://x/stream"), "audio/mpeg");
        assert_eq!(mime_from_extension("https://x.example.org/stream"), "audio/mpeg");
    }
}
