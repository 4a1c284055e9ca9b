//! The show as the feed describes it: `[feed]` in a recipe, read by the feed writer, the HTML
//! page and the hygiene gate.

use serde::Deserialize;

/// `[feed]`: the channel's metadata.
#[derive(Debug, Clone, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// The show's name.
    pub title: String,
    /// The show's website.
    pub link: String,
    /// What the show is about.
    pub description: String,
    /// An RFC 5646 language tag such as `en-us`.
    pub language: Option<String>,
    /// Written as `itunes:author`.
    pub author: Option<String>,
    /// Cover art URL (Apple asks for 1400–3000 px square).
    pub image: Option<String>,
    /// iTunes categories; `"Parent/Child"` for a subcategory.
    #[serde(default)]
    pub categories: Vec<String>,
    /// `itunes:explicit` for the show.
    #[serde(default)]
    pub explicit: bool,
    /// `itunes:owner`.
    pub owner: Option<Owner>,
    /// Where the feed will be served; written as `atom:link rel="self"`.
    pub self_url: Option<String>,
    /// Keep only the newest N items; 0 keeps every episode.
    #[serde(default)]
    pub max_items: usize,
    /// `itunes:type`: `episodic` (newest first, the default) or `serial` (in order).
    #[serde(rename = "type", default)]
    pub show_type: ShowType,
    /// `<copyright>`.
    pub copyright: Option<String>,
    /// `itunes:new-feed-url`: tells apps the feed has moved there.
    pub new_feed_url: Option<String>,
    /// `podcast:locked`: `true` asks other platforms not to import the feed (needs `owner.email`).
    pub locked: Option<bool>,
    /// `itunes:block` and `podcast:block`: `true` keeps the feed out of Apple Podcasts and the
    /// directories that honour them (a feed built for your own listening).
    #[serde(default)]
    pub block: bool,
    /// `itunes:complete`: the show has ended, and no more episodes will come.
    #[serde(default)]
    pub complete: bool,
    /// `podcast:funding`: where listeners can support the show.
    #[serde(default)]
    pub funding: Vec<Funding>,
    /// `podcast:person`: the show's hosts, and whoever else makes it.
    #[serde(default)]
    pub persons: Vec<Person>,
    /// `podcast:location`: where the show is made, or what it is about.
    pub location: Option<Location>,
}

/// `[[feed.funding]]`.
#[derive(Debug, Clone, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Funding {
    /// The donation or membership page.
    pub url: String,
    /// What it says to listeners ("Support the show"); at most 128 characters.
    pub text: String,
}

/// `[[feed.persons]]`.
#[derive(Debug, Clone, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub name: String,
    /// A role from the Podcast Taxonomy Project (`host`, `guest`, `producer`...); default `host`.
    pub role: Option<String>,
    /// A page about the person.
    pub href: Option<String>,
    /// A picture of the person.
    pub img: Option<String>,
}

/// `[feed.location]`.
#[derive(Debug, Clone, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// A human-readable place ("Washington, DC"); at most 128 characters.
    pub name: String,
    /// An RFC 5870 `geo:` URI (`geo:38.9,-77.03`).
    pub geo: Option<String>,
    /// An OpenStreetMap object: its type letter and id (`R162110`).
    pub osm: Option<String>,
}

/// `[feed] type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShowType {
    #[default]
    Episodic,
    Serial,
}

impl ShowType {
    pub fn as_str(self) -> &'static str {
        match self {
            ShowType::Episodic => "episodic",
            ShowType::Serial => "serial",
        }
    }
}

/// `[feed] owner`.
#[derive(Debug, Clone, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    pub name: Option<String>,
    pub email: Option<String>,
}
