//! Feeds too big for apps: the archive cut into one feed per year or per season, beside the
//! main feed. Pure: which part an episode belongs to, and what each part's feed is called.

use chrono::Datelike;

use crate::hygiene;
use crate::model::Channel;
use crate::model::Episode;
use crate::recipe::Split;

/// One of the smaller feeds. Episodes without a date (or season) have a feed of their own, so
/// that none is left out when `max_bytes` leaves the oldest items to the split feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    Year(i32),
    Season(u32),
    Other,
}

impl Part {
    /// The part an episode belongs to; its year is the year where the show is made (`zone`, the
    /// recipe's `timezone`), else in UTC: a show in Tokyo dated 1 January is in the new year.
    pub fn of(episode: &Episode, split: Split, zone: Option<chrono_tz::Tz>) -> Part {
        let year = |date: chrono::DateTime<chrono::Utc>| match zone {
            Some(zone) => date.with_timezone(&zone).year(),
            None => date.year(),
        };
        match split {
            Split::Year => episode.published.map_or(Part::Other, |date| Part::Year(year(date))),
            Split::Season => episode.season.map_or(Part::Other, Part::Season),
        }
    }

    /// The part's file, beside the main feed's: `feed.xml` → `feed-2017.xml`, `feed-season-3.xml`,
    /// `feed-other.xml`.
    pub fn file_name(self, main: &str) -> String {
        let (stem, extension) = main.rsplit_once('.').unwrap_or((main, "xml"));
        let tag = match self {
            Part::Year(year) => year.to_string(),
            Part::Season(number) => format!("season-{number}"),
            Part::Other => "other".to_string(),
        };
        format!("{stem}-{tag}.{extension}")
    }

    /// What the part is called, in its feed's title and on the HTML page.
    /// `merged`: the oldest years (seasons) joined [`Part::Other`], past the cap on split feeds.
    pub fn label(self, split: Split, season_name: Option<&str>, merged: bool) -> String {
        match (self, season_name) {
            (Part::Year(year), _) => year.to_string(),
            (Part::Season(number), Some(name)) => format!("Season {number}: {name}"),
            (Part::Season(number), None) => format!("Season {number}"),
            (Part::Other, _) => match (split, merged) {
                (Split::Year, false) => "undated episodes",
                (Split::Year, true) => "the oldest years and undated episodes",
                (Split::Season, false) => "episodes without a season",
                (Split::Season, true) => "the first seasons and episodes without one",
            }
            .to_string(),
        }
    }

    /// The part's channel: the show's, titled with the part's label, served beside the main feed
    /// (its own `self_url`, so its own `podcast:guid`). A past year is not marked
    /// `itunes:complete`: the W3C validator does not know the tag, and apps do nothing with it.
    pub fn channel(self, show: &Channel, file_name: &str, label: &str) -> Channel {
        let folder = show.self_url.as_deref().and_then(|url| url.rsplit_once('/')).map(|(folder, _)| folder);
        Channel {
            title: hygiene::title(&format!("{} ({label})", show.title)).unwrap_or_else(|| show.title.clone()),
            self_url: folder.map(|folder| format!("{folder}/{file_name}")),
            // The move of the main feed is not theirs to announce.
            new_feed_url: None,
            max_items: 0,
            ..show.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn show() -> Channel {
        toml::from_str(
            "title = \"Show\"\nlink = \"https://example.org/\"\ndescription = \"D\"\n\
             self_url = \"https://feeds.example.org/show/feed.xml\"\nnew_feed_url = \"https://x.example/f.xml\"",
        )
        .unwrap()
    }

    #[test]
    fn parts_are_named_for_their_year_or_season() {
        let mut episode: Episode = serde_json::from_str(
            r#"{"guid": "g", "page_url": "https://example.org/1", "link": "https://example.org/1", "title": "One",
                "enclosure": {"url": "https://example.org/1.mp3"}}"#,
        )
        .unwrap();
        assert_eq!(Part::of(&episode, Split::Year, None), Part::Other);
        episode.published = Some(Utc.with_ymd_and_hms(2017, 12, 31, 23, 0, 0).unwrap());
        episode.season = Some(3);
        assert_eq!(Part::of(&episode, Split::Year, None), Part::Year(2017));
        assert_eq!(Part::of(&episode, Split::Season, None), Part::Season(3));
        // New Year's Day in Tokyo is still the old year in UTC.
        assert_eq!(Part::of(&episode, Split::Year, Some(chrono_tz::Asia::Tokyo)), Part::Year(2018));
        assert_eq!(Part::of(&episode, Split::Year, Some(chrono_tz::America::New_York)), Part::Year(2017));
        assert_eq!(Part::Year(2017).file_name("feed.xml"), "feed-2017.xml");
        assert_eq!(Part::Season(3).file_name("pm.rss"), "pm-season-3.rss");
        assert_eq!(Part::Other.file_name("feed"), "feed-other.xml");
        assert_eq!(Part::Season(3).label(Split::Season, Some("The Return"), false), "Season 3: The Return");
        assert_eq!(Part::Other.label(Split::Year, None, false), "undated episodes");
        assert_eq!(Part::Other.label(Split::Year, None, true), "the oldest years and undated episodes");
    }

    #[test]
    fn a_part_has_its_own_address_and_title() {
        let part = Part::Year(2017).channel(&show(), "feed-2017.xml", "2017");
        assert_eq!(part.title, "Show (2017)");
        assert_eq!(part.self_url.as_deref(), Some("https://feeds.example.org/show/feed-2017.xml"));
        assert_eq!(part.new_feed_url, None);
        let long = Channel { title: "x".repeat(255), ..show() };
        assert_eq!(Part::Year(2017).channel(&long, "f", "2017").title.chars().count(), 255);
    }
}
