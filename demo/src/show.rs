//! The fictional show behind the demo site: every episode derived from its number alone, so
//! the site, the tests and the benchmarks agree on what the feed must hold.

use chrono::{DateTime, Duration, TimeZone, Utc};

/// Episodes per listing page.
pub const PAGE_SIZE: u32 = 20;

pub const SHOW_TITLE: &str = "The Long Signal";
/// What the show's own feed says of it.
pub const SHOW_DESCRIPTION: &str = "A weekly show about the economy's hidden machinery.";
pub const SHOW_AUTHOR: &str = "Long Signal Radio";

/// The show as one site serves it. Dates count back from the episode that was newest when the
/// site started, which went out on Monday 2026-01-05: weekly, or daily for archives of more
/// than 1,500 episodes, so no archive reaches into the future.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Show {
    newest_at_start: u32,
}

impl Show {
    pub fn new(newest_at_start: u32) -> Show {
        Show { newest_at_start }
    }

    pub fn episode(self, number: u32) -> ShowEpisode {
        ShowEpisode::new(number, self)
    }

    fn published(self, number: u32) -> DateTime<Utc> {
        let newest = Utc.with_ymd_and_hms(2026, 1, 5, 13, 0, 0).single().expect("valid date");
        let cadence = if self.newest_at_start > 1500 { 1 } else { 7 };
        newest - Duration::days(cadence * (i64::from(self.newest_at_start) - i64::from(number)))
    }
}

/// An episode's title: mostly generated, some with non-ASCII or markup characters, and every
/// hundredth (11 mod 100) in French for the ISO-8859-1 page.
pub fn title(number: u32) -> String {
    let mut rng = SplitMix(u64::from(number));
    if number % 100 == 11 {
        format!("Épisode spécial : café crème à Zürich nº {number}")
    } else if number % 50 == 7 {
        format!("Café, Straße & naïve résumés — Ünïcødé night ☕ {number}")
    } else if number % 50 == 13 {
        format!("Q&A: <Tags>, \"Quotes\" & 'Apostrophes' {number}")
    } else {
        format!("The {} {}", rng.pick(ADJECTIVES), rng.pick(NOUNS))
    }
}

/// One episode as the site knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowEpisode {
    pub number: u32,
    pub title: String,
    /// When the episode went out (09:00 New York summer time, i.e. 13:00 UTC); for written dates,
    /// 12:00 UTC, the time podfeed gives dates without one.
    pub published: DateTime<Utc>,
    /// How the page writes the date: machine-readable `<time datetime>` or a human-written date.
    pub date_style: DateStyle,
    pub duration_secs: u64,
    /// Where the page puts the audio URL, if anywhere.
    pub audio: AudioStyle,
    /// Served as ISO-8859-1 instead of UTF-8.
    pub latin1: bool,
    /// One season a year.
    pub season: u32,
    /// `full`, or `bonus` for every 25th episode.
    pub episode_type: &'static str,
    pub explicit: bool,
    /// Even-numbered episodes link a WebVTT transcript.
    pub has_transcript: bool,
    /// Every fourth episode links a JSON chapters file.
    pub has_chapters: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateStyle {
    TimeElement,
    /// "August 16, 2017"
    Written,
    /// "Sept. 9, 2024"
    ApStyle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioStyle {
    /// JSON inside `div.player[data-audio]`, an absolute path.
    PlayerJson,
    /// Only a relative `a.download` link.
    DownloadLink,
    /// A text-only post: not a feed item.
    None,
}

impl ShowEpisode {
    pub fn new(number: u32, show: Show) -> ShowEpisode {
        let mut rng = SplitMix(u64::from(number));
        let latin1 = number % 100 == 11;
        let title = title(number);
        let date_style = match number % 10 {
            3 => DateStyle::Written,
            6 => DateStyle::ApStyle,
            _ => DateStyle::TimeElement,
        };
        let audio = if number % 97 == 0 {
            AudioStyle::None
        } else if number % 20 == 5 {
            AudioStyle::DownloadLink
        } else {
            AudioStyle::PlayerJson
        };
        let published = show.published(number);
        // Written dates carry no time of day; podfeed pins those to 12:00 UTC.
        let published = match date_style {
            DateStyle::TimeElement => published,
            _ => published - Duration::hours(1),
        };
        ShowEpisode {
            number,
            title,
            published,
            date_style,
            duration_secs: 1200 + rng.next_u64() % 4800,
            audio,
            latin1,
            season: (number - 1) / 52 + 1,
            episode_type: if number % 25 == 0 { "bonus" } else { "full" },
            explicit: number % 40 == 9,
            has_transcript: number % 2 == 0,
            has_chapters: number % 4 == 0,
        }
    }

    /// The season's title, as its page writes it after the number.
    pub fn season_name(&self) -> &'static str {
        SEASON_NAMES[(self.season as usize - 1) % SEASON_NAMES.len()]
    }

    /// Every 50th episode (20 mod 50) is a members-only preview the recipe keeps out of Apple
    /// Podcasts (`itunes:block` on its item).
    pub fn members_only(&self) -> bool {
        self.number % 50 == 20
    }

    /// Every third episode has a guest, linked to their page; every ninth a second, unlinked.
    pub fn guests(&self) -> Vec<(String, Option<String>)> {
        let mut rng = SplitMix(u64::from(self.number) << 20);
        let mut name = || format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(NOUNS));
        let mut guests = Vec::new();
        if self.number % 3 == 0 {
            guests.push((name(), Some(format!("/people/{}", self.number))));
        }
        if self.number % 9 == 0 {
            guests.push((format!("{} Jr.", name()), None));
        }
        guests
    }

    pub fn has_audio(&self) -> bool {
        self.audio != AudioStyle::None
    }

    /// Path of the page on the demo site.
    pub fn path(&self) -> String {
        format!("/episodes/{}", self.number)
    }

    /// Path of the audio as the page gives it (it redirects to the CDN path).
    pub fn audio_path(&self) -> String {
        format!("/media/{}.mp3", self.number)
    }

    /// Size of the audio file: a 128 kbit/s MP3 of the episode's length.
    pub fn audio_bytes(&self) -> u64 {
        audio_bytes(self.duration_secs)
    }

    /// The episode's duration as its page writes it; the form varies from page to page.
    pub fn duration_text(&self) -> String {
        let s = self.duration_secs;
        match self.number % 5 {
            0 => s.to_string(),
            1 => format!("{}:{:02}", s / 60, s % 60),
            2 => format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
            3 => format!("PT{}M{}S", s / 60, s % 60),
            _ => spelled(s),
        }
    }

    /// The duration podfeed should read back from `duration_text`.
    pub fn expected_duration(&self) -> u64 {
        match self.number % 5 {
            4 => self.duration_secs / 60 * 60,
            _ => self.duration_secs,
        }
    }
}

fn spelled(seconds: u64) -> String {
    let (h, m) = (seconds / 3600, seconds / 60 % 60);
    if h > 0 {
        format!("{h} hr {m} min")
    } else {
        format!("{m} min")
    }
}

pub fn audio_bytes(duration_secs: u64) -> u64 {
    duration_secs * 16_000
}

/// A small deterministic generator (SplitMix64), so pages are the same on every run.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[(self.next_u64() % words.len() as u64) as usize]
    }
}

/// The show's host, named on every episode page.
pub const HOST: &str = "Ada Marsh";

const SEASON_NAMES: &[&str] =
    &["Foundations", "Paper Trails", "The Long Boom", "Aftershocks", "Small Towns", "Open Water", "Night Shift"];

const FIRST_NAMES: &[&str] = &["Rosa", "Tomás", "Ines", "Kwame", "Mei", "Oskar", "Leila", "Dmitri", "Ngozi", "Hugo"];

pub const ADJECTIVES: &[&str] = &[
    "Quiet",
    "Broken",
    "Hidden",
    "Electric",
    "Patient",
    "Invisible",
    "Northern",
    "Restless",
    "Borrowed",
    "Last",
    "Golden",
    "Paper",
    "Crooked",
    "Silent",
    "Distant",
    "Stubborn",
    "Hollow",
    "Midnight",
    "Curious",
    "Second",
];

pub const NOUNS: &[&str] = &[
    "Lighthouse",
    "Algorithm",
    "Harbor",
    "Ledger",
    "Frequency",
    "Archive",
    "Orchard",
    "Machine",
    "Border",
    "Signal",
    "Library",
    "Engine",
    "Market",
    "Island",
    "Bridge",
    "Satellite",
    "Garden",
    "Factory",
    "Voyage",
    "Census",
];

pub const WORDS: &[&str] = &[
    "the",
    "signal",
    "of",
    "a",
    "market",
    "that",
    "nobody",
    "planned",
    "and",
    "everyone",
    "uses",
    "we",
    "talk",
    "with",
    "economists",
    "engineers",
    "about",
    "how",
    "prices",
    "travel",
    "through",
    "cables",
    "ships",
    "rumors",
    "interest",
    "rates",
    "harbor",
    "cranes",
    "were",
    "built",
    "for",
    "containers",
    "our",
    "guest",
    "explains",
    "why",
    "it",
    "matters",
    "in",
    "small",
    "towns",
    "far",
    "from",
    "any",
    "port",
    "data",
    "weather",
    "risk",
];
