//! Lenient parsers for the dates and durations that podcast websites write.
//!
//! A date without a time of day is pinned to 12:00 UTC: a fixed time keeps `pubDate` from drifting
//! between runs, and noon keeps the calendar day the same in every time zone from UTC-11 to UTC+11.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The time of day given to dates that carry none.
pub const DATE_ONLY_TIME: NaiveTime = match NaiveTime::from_hms_opt(12, 0, 0) {
    Some(t) => t,
    None => panic!("12:00:00 is a valid time"),
};

/// A date as written: with an offset (a moment), or without one (a wall-clock time somewhere).
enum Written {
    Moment(DateTime<Utc>),
    WallClock(NaiveDateTime),
}

/// Zone names sites print after a time, understood when the recipe names a time zone: the US
/// zones ("ET", "EDT", "PT"...) and UTC/GMT.
const ZONE_NAMES: [&str; 14] =
    ["ET", "EST", "EDT", "CT", "CST", "CDT", "MT", "MST", "MDT", "PT", "PST", "PDT", "GMT", "UTC"];

/// Places a date in time: a wall-clock time is in `zone` (else UTC). A time that a change to
/// summer time skips is taken at the earliest moment that exists.
fn place(written: Written, zone: Option<Tz>) -> Option<DateTime<Utc>> {
    match (written, zone) {
        (Written::Moment(moment), _) => Some(moment),
        (Written::WallClock(naive), None) => Some(Utc.from_utc_datetime(&naive)),
        (Written::WallClock(naive), Some(zone)) => {
            let local = zone.from_local_datetime(&naive);
            let local = local.earliest().or_else(|| zone.from_local_datetime(&(naive + Duration::hours(1))).earliest());
            local.map(|d| d.with_timezone(&Utc))
        }
    }
}

/// The text without a trailing zone name, and the zone it names: UTC for "UTC"/"GMT", else
/// the recipe's. Only with a recipe time zone: without one, a name is left for RFC 2822.
fn split_zone_name(text: &str, zone: Option<Tz>) -> (&str, Option<Tz>) {
    let Some(zone) = zone else { return (text, None) };
    match text.rsplit_once(' ') {
        Some((rest, name)) if ZONE_NAMES.contains(&name.to_ascii_uppercase().as_str()) => {
            // A US zone name means that zone (PT is Pacific time even on an Eastern site).
            (rest.trim_end(), Some(us_zone(name).unwrap_or(zone)))
        }
        _ => (text, Some(zone)),
    }
}

/// The US time zone a date's trailing zone name ("9:00 AM ET") names, if it names one.
pub fn zone_named(text: &str) -> Option<Tz> {
    us_zone(text.trim().rsplit_once(' ')?.1)
}

fn us_zone(name: &str) -> Option<Tz> {
    match name.to_ascii_uppercase().as_str() {
        "UTC" | "GMT" => Some(Tz::UTC),
        "ET" | "EST" | "EDT" => Some(Tz::America__New_York),
        "CT" | "CST" | "CDT" => Some(Tz::America__Chicago),
        "MT" | "MST" | "MDT" => Some(Tz::America__Denver),
        "PT" | "PST" | "PDT" => Some(Tz::America__Los_Angeles),
        _ => None,
    }
}

/// Parses a date with an explicit strftime `format`, then as any date [`date_in`] knows.
pub fn date_with_format(text: &str, format: &str, zone: Option<Tz>) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let with_format = |text: &str| {
        if let Ok(dt) = DateTime::parse_from_str(text, format) {
            return Some(Written::Moment(dt.with_timezone(&Utc)));
        }
        if let Ok(dt) = NaiveDateTime::parse_from_str(text, format) {
            return Some(Written::WallClock(dt));
        }
        NaiveDate::parse_from_str(text, format).ok().map(|d| Written::WallClock(d.and_time(DATE_ONLY_TIME)))
    };
    let (bare, bare_zone) = split_zone_name(text, zone);
    match with_format(text).map(|w| (w, zone)).or_else(|| with_format(bare).map(|w| (w, bare_zone))) {
        Some((written, zone)) => place(written, zone),
        None => date_in(text, zone),
    }
}

/// Parses RFC 3339, RFC 2822, ISO 8601 dates and date-times, and written dates such as
/// "August 16, 2017", "16 August 2017" or AP style "Sept. 9, 2024" (with a time such as
/// "5:59 PM" if one follows). Dates and times without an offset are in UTC.
pub fn date(text: &str) -> Option<DateTime<Utc>> {
    date_in(text, None)
}

/// [`date`], with dates and times written without an offset in `zone`; a trailing zone name
/// ("5:59 PM ET") is understood.
pub fn date_in(text: &str, zone: Option<Tz>) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(text) {
        return Some(dt.with_timezone(&Utc));
    }
    let (text, zone) = split_zone_name(text, zone);
    place(iso_without_offset(text).or_else(|| written_date(text))?, zone)
}

fn iso_without_offset(text: &str) -> Option<Written> {
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(text, format) {
            return Some(Written::WallClock(dt));
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%:z"] {
        if let Ok(dt) = DateTime::<FixedOffset>::parse_from_str(text, format) {
            return Some(Written::Moment(dt.with_timezone(&Utc)));
        }
    }
    for format in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(text, format) {
            return Some(Written::WallClock(d.and_time(DATE_ONLY_TIME)));
        }
    }
    None
}

/// "August 16, 2017", "Aug 16 2017", "Sept. 9, 2024", "16 August 2017", "Tuesday, August 16, 2017".
fn written_date(text: &str) -> Option<Written> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '.' || c == '-' || c == '/')
        .filter(|w| !w.is_empty())
        .collect();
    // "ago", "set", "out" are Spanish, Italian and Portuguese months only between a day and a
    // year ("12 ago 2019"); elsewhere they are English words ("two days ago, 2012").
    let number = |i: usize| words.get(i).is_some_and(|w| day_or_year(w).is_some());
    let month_at = words.iter().enumerate().position(|(i, w)| match month_number(w) {
        Some(_) => true,
        None => {
            let lower = w.to_lowercase();
            NOT_ABBREVIATIONS.contains(&lower.as_str()) && i > 0 && number(i - 1) && number(i + 1)
        }
    })?;
    let month = month_number(words[month_at]).or_else(|| abbreviation_between_numbers(words[month_at]))?;
    let numbers: Vec<u32> =
        words.iter().enumerate().filter(|(i, _)| *i != month_at).filter_map(|(_, w)| day_or_year(w)).collect();
    let (day, year) = match numbers.as_slice() {
        [a, b, ..] if *b >= 1000 => (*a, *b),
        [a, b, ..] if *a >= 1000 => (*b, *a),
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    Some(Written::WallClock(date.and_time(clock_time(text).unwrap_or(DATE_ONLY_TIME))))
}

/// A time of day written after a date: "5:59 PM", "17:59", "5:59pm".
fn clock_time(text: &str) -> Option<NaiveTime> {
    let words: Vec<String> = text.split_whitespace().map(|w| w.trim_matches(',').to_ascii_lowercase()).collect();
    let at = words.iter().position(|w| w.contains(':') && w.starts_with(|c: char| c.is_ascii_digit()))?;
    let (clock, suffix) =
        words[at].split_at(words[at].find(|c: char| c.is_ascii_alphabetic()).unwrap_or(words[at].len()));
    let meridiem = if suffix.is_empty() { words.get(at + 1).map(String::as_str).unwrap_or_default() } else { suffix };
    let (hour, minute) = clock.split_once(':')?;
    let (hour, minute): (u32, u32) = (hour.parse().ok()?, minute.get(..2)?.parse().ok()?);
    let hour = match meridiem.trim_matches('.') {
        "pm" | "p.m" if hour < 12 => hour + 12,
        "am" | "a.m" if hour == 12 => 0,
        _ => hour,
    };
    NaiveTime::from_hms_opt(hour, minute, 0)
}

/// "16", "16th", "1st", "2024"; anything else is not part of a date.
fn day_or_year(word: &str) -> Option<u32> {
    let (digits, suffix) = word.split_at(word.find(|c: char| !c.is_ascii_digit()).unwrap_or(word.len()));
    let ordinal = matches!(suffix.to_ascii_lowercase().as_str(), "" | "st" | "nd" | "rd" | "th");
    if digits.is_empty() || !ordinal {
        return None;
    }
    digits.parse().ok()
}

/// Month names, each month's in the languages podcast sites most often write dates in: English,
/// Portuguese, Spanish, French, German, Italian, Dutch, Polish and Russian (Polish and Russian
/// in the genitive a date takes: "5 lutego 2012", "5 февраля 2012").
const MONTH_NAMES: [&[&str]; 12] = [
    &["january", "janeiro", "enero", "janvier", "januar", "jänner", "gennaio", "januari", "stycznia", "января"],
    &["february", "fevereiro", "febrero", "février", "februar", "febbraio", "februari", "lutego", "февраля"],
    &["march", "março", "marzo", "mars", "märz", "maart", "marca", "марта"],
    &["april", "abril", "avril", "aprile", "kwietnia", "апреля"],
    &["may", "maio", "mayo", "mai", "maggio", "mei", "maja", "мая"],
    &["june", "junho", "junio", "juin", "juni", "giugno", "czerwca", "июня"],
    &["july", "julho", "julio", "juillet", "juli", "luglio", "lipca", "июля"],
    &["august", "agosto", "août", "augustus", "sierpnia", "августа"],
    &["september", "setembro", "septiembre", "septembre", "settembre", "września", "сентября"],
    &["october", "outubro", "octubre", "octobre", "oktober", "ottobre", "października", "октября"],
    &["november", "novembro", "noviembre", "novembre", "listopada", "ноября"],
    &["december", "dezembro", "diciembre", "décembre", "dezember", "dicembre", "grudnia", "декабря"],
];

/// Abbreviations that are also everyday words ("check out", "two days ago"): a month only
/// when written out.
const NOT_ABBREVIATIONS: [&str; 5] = ["out", "set", "ago", "sie", "lis"];

/// The month an everyday word abbreviates, where it stands between a day and a year.
fn abbreviation_between_numbers(word: &str) -> Option<u32> {
    let word = word.to_lowercase();
    MONTH_NAMES.iter().position(|names| names.iter().any(|name| name.starts_with(&word))).map(|i| i as u32 + 1)
}

/// A month's number from its name or an abbreviation of it (three letters or more: "Feb",
/// AP style "Sept", "févr"), in any language of [`MONTH_NAMES`].
fn month_number(word: &str) -> Option<u32> {
    let word = word.to_lowercase();
    if word.chars().count() < 3 || !word.chars().all(char::is_alphabetic) {
        return None;
    }
    let abbreviation_of =
        |name: &&str| name.starts_with(&word) && (*name == word || !NOT_ABBREVIATIONS.contains(&word.as_str()));
    MONTH_NAMES.iter().position(|names| names.iter().any(abbreviation_of)).map(|i| i as u32 + 1)
}

/// Why a text is not a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotADuration {
    #[error("not written as a duration")]
    Unreadable,
    #[error("a negative number of seconds")]
    Negative,
    #[error("more seconds than a 64-bit number holds")]
    TooLarge,
}

/// Parses a duration into seconds: "3125", "52:05", "1:02:05", "PT52M", "PT1H3M5S",
/// "52 min", "1 hr 3 min", "1h 3m 5s", "45 minutes". Never overflows: numbers too large for
/// seconds are [`NotADuration::TooLarge`].
pub fn duration(text: &str) -> Result<u64, NotADuration> {
    let text = text.trim();
    if text.is_empty() {
        return Err(NotADuration::Unreadable);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| NotADuration::TooLarge);
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return seconds_of(seconds);
    }
    // Each form in turn, until one reads the text (or finds its number too large).
    let mut result = clock(text);
    for form in [iso8601_duration, spelled_duration] {
        if result != Err(NotADuration::Unreadable) {
            break;
        }
        result = form(text);
    }
    result
}

/// Whole seconds of a fractional number of them.
fn seconds_of(seconds: f64) -> Result<u64, NotADuration> {
    match seconds {
        s if !s.is_finite() => Err(NotADuration::Unreadable),
        s if s < 0.0 => Err(NotADuration::Negative),
        // 2^64: every f64 below it rounds to a u64.
        s if s.round() >= 18_446_744_073_709_551_616.0 => Err(NotADuration::TooLarge),
        s => Ok(s.round() as u64),
    }
}

/// Adds `count` units of `unit` seconds to `total`, refusing to overflow.
fn add_units(total: u64, count: u64, unit: u64) -> Result<u64, NotADuration> {
    count.checked_mul(unit).and_then(|s| total.checked_add(s)).ok_or(NotADuration::TooLarge)
}

/// "MM:SS" or "H:MM:SS", the seconds perhaps with a fraction a player adds ("00:53:52.676"),
/// which a clock does not show: it is dropped.
fn clock(text: &str) -> Result<u64, NotADuration> {
    let text = match text.rsplit_once('.') {
        Some((whole, fraction)) if !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()) => whole,
        _ => text,
    };
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(NotADuration::Unreadable);
    }
    let numbers: Vec<u64> =
        parts.iter().map(|p| p.parse().map_err(|_| NotADuration::TooLarge)).collect::<Result<_, _>>()?;
    if numbers[1..].iter().any(|n| *n >= 60) {
        return Err(NotADuration::Unreadable);
    }
    numbers.iter().try_fold(0, |total: u64, n| add_units(0, total, 60).and_then(|t| add_units(t, *n, 1)))
}

/// "PT52M", "PT1H3M5S", "P1DT2H" (days are allowed; months and years are not durations of
/// audio, so NPR's "P15M,31S" is 15 minutes and 31 seconds).
fn iso8601_duration(text: &str) -> Result<u64, NotADuration> {
    let unreadable = NotADuration::Unreadable;
    // NPR separates units with a comma ("P15M,31S"); a comma between digits is a decimal one.
    let upper: String = {
        let upper = text.to_ascii_uppercase();
        let mut kept = String::with_capacity(upper.len());
        let mut previous = ' ';
        for c in upper.chars() {
            match c {
                ',' if previous.is_ascii_alphabetic() => {}
                ',' => kept.push('.'),
                c => kept.push(c),
            }
            previous = c;
        }
        kept
    };
    let rest = upper.strip_prefix('P').ok_or(unreadable)?;
    let (days, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None if rest.ends_with('D') => (rest, ""),
        None => ("", rest),
    };
    let mut total = 0f64;
    if !days.is_empty() {
        total += days.strip_suffix('D').ok_or(unreadable)?.parse::<f64>().map_err(|_| unreadable)? * 86_400.0;
    }
    let mut number = String::new();
    let mut saw_unit = !days.is_empty();
    for c in time.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'H' | 'M' | 'S' => {
                let value: f64 = number.parse().map_err(|_| unreadable)?;
                number.clear();
                total += value
                    * match c {
                        'H' => 3600.0,
                        'M' => 60.0,
                        _ => 1.0,
                    };
                saw_unit = true;
            }
            _ => return Err(unreadable),
        }
    }
    if !saw_unit || !number.is_empty() {
        return Err(unreadable);
    }
    seconds_of(total)
}

/// "52 min", "1 hr 3 min", "1h 3m 5s", "1 hour, 3 minutes".
fn spelled_duration(text: &str) -> Result<u64, NotADuration> {
    let unreadable = NotADuration::Unreadable;
    let lower = text.to_lowercase();
    let mut total = 0u64;
    let mut number: Option<u64> = None;
    let mut saw_unit = false;
    let mut chars = lower.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut digits = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(d);
                chars.next();
            }
            if number.is_some() {
                return Err(unreadable);
            }
            number = Some(digits.parse().map_err(|_| NotADuration::TooLarge)?);
        } else if c.is_alphabetic() {
            let mut word = String::new();
            while let Some(&w) = chars.peek().filter(|w| w.is_alphabetic()) {
                word.push(w);
                chars.next();
            }
            let unit = match word.as_str() {
                "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
                "m" | "min" | "mins" | "minute" | "minutes" => 60,
                "s" | "sec" | "secs" | "second" | "seconds" => 1,
                "and" => continue,
                _ => return Err(unreadable),
            };
            total = add_units(total, number.take().ok_or(unreadable)?, unit)?;
            saw_unit = true;
        } else {
            chars.next();
        }
    }
    if saw_unit && number.is_none() {
        Ok(total)
    } else {
        Err(unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn dates_with_time_and_offset() {
        assert_eq!(date("2019-08-16T09:30:00-04:00"), Some(utc("2019-08-16T13:30:00Z")));
        assert_eq!(date("Fri, 16 Aug 2019 09:30:00 -0400"), Some(utc("2019-08-16T13:30:00Z")));
        assert_eq!(date("Fri, 16 Aug 2019 13:30:00 GMT"), Some(utc("2019-08-16T13:30:00Z")));
        assert_eq!(date("2019-08-16T13:30:00"), Some(utc("2019-08-16T13:30:00Z")));
        assert_eq!(date("2019-08-16 13:30"), Some(utc("2019-08-16T13:30:00Z")));
    }

    #[test]
    fn date_only_forms_get_noon_utc() {
        let noon = Some(utc("2017-08-16T12:00:00Z"));
        for text in [
            "2017-08-16",
            "August 16, 2017",
            "Aug 16, 2017",
            "Aug. 16, 2017",
            "16 August 2017",
            "Wednesday, August 16, 2017",
            "August 16th, 2017",
            "  august 16 2017 ",
        ] {
            assert_eq!(date(text), noon, "{text}");
        }
    }

    #[test]
    fn ap_style_dates() {
        assert_eq!(date("Sept. 9, 2024"), Some(utc("2024-09-09T12:00:00Z")));
        assert_eq!(date("Jan. 3, 2023"), Some(utc("2023-01-03T12:00:00Z")));
        assert_eq!(date("March 5, 2020"), Some(utc("2020-03-05T12:00:00Z")));
    }

    /// Sites write dates in their own language: a Portuguese, French, German, Polish or Russian
    /// date is the same day as the English one.
    #[test]
    fn dates_written_in_other_languages() {
        let feb_5 = Some(utc("2012-02-05T12:00:00Z"));
        for text in [
            "5 de fevereiro de 2012",
            "5 de febrero de 2012",
            "5 février 2012",
            "5. Februar 2012",
            "5 febbraio 2012",
            "5 februari 2012",
            "5 lutego 2012",
            "5 февраля 2012",
            "Feb 5, 2012",
            "févr. 5 2012",
        ] {
            assert_eq!(date(text), feb_5, "{text}");
        }
        assert_eq!(date("1 de março de 2021"), Some(utc("2021-03-01T12:00:00Z")));
        assert_eq!(date("12 października 2019"), Some(utc("2019-10-12T12:00:00Z")));
        // Everyday words that begin a month's name in some language are no month, unless they
        // stand between a day and a year.
        for text in ["check out 5 episodes of 2012", "2 days ago, 2012", "a set of 5 from 2012"] {
            assert_eq!(date(text), None, "{text}");
        }
        assert_eq!(date("12 ago 2019"), Some(utc("2019-08-12T12:00:00Z")));
        assert_eq!(date("5 set 2019"), Some(utc("2019-09-05T12:00:00Z")));
        assert_eq!(date("3 out. 2019"), Some(utc("2019-10-03T12:00:00Z")));
    }

    #[test]
    fn date_only_is_stable_between_calls() {
        assert_eq!(date("May 1, 2021"), date("May 1, 2021"));
    }

    #[test]
    fn not_dates() {
        for text in ["", "yesterday", "Episode 12", "2017", "Sept. 31, 2024", "Maybe 5, 2020"] {
            assert_eq!(date(text), None, "{text}");
        }
    }

    #[test]
    fn explicit_formats_first_then_the_built_in_forms() {
        assert_eq!(date_with_format("16/08/2017", "%d/%m/%Y", None), Some(utc("2017-08-16T12:00:00Z")));
        assert_eq!(date_with_format("16.08.2017 21:05", "%d.%m.%Y %H:%M", None), Some(utc("2017-08-16T21:05:00Z")));
        assert_eq!(date_with_format("2017-08-16", "%d/%m/%Y", None), Some(utc("2017-08-16T12:00:00Z")));
        assert_eq!(date_with_format("08/16/2017", "%d/%m/%Y", None), None, "16 is no month");
    }

    #[test]
    fn a_site_time_zone_places_wall_clock_times() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // NPR: "5:59 PM ET" in August is 21:59 UTC (summer time), in January 22:59.
        let format = "%B %d, %Y %I:%M %p";
        assert_eq!(date_with_format("August 16, 2017 5:59 PM ET", format, Some(ny)), Some(utc("2017-08-16T21:59:00Z")));
        assert_eq!(date_in("January 16, 2017 5:59 PM ET", Some(ny)), Some(utc("2017-01-16T22:59:00Z")));
        assert_eq!(date_in("2017-08-16 17:59", Some(ny)), Some(utc("2017-08-16T21:59:00Z")));
        // A date alone: 12:00 there. An offset written out wins over the zone.
        assert_eq!(date_in("2017-08-16", Some(ny)), Some(utc("2017-08-16T16:00:00Z")));
        assert_eq!(date_in("2017-08-16T17:59:00+02:00", Some(ny)), Some(utc("2017-08-16T15:59:00Z")));
        assert_eq!(date_in("August 16, 2017 5:59 PM GMT", Some(ny)), Some(utc("2017-08-16T17:59:00Z")));
        assert_eq!(date_in("August 16, 2017 5:59 PM PT", Some(ny)), Some(utc("2017-08-17T00:59:00Z")), "Pacific");
        // 02:30 on the night summer time starts does not exist: the first moment that does.
        assert_eq!(date_in("2017-03-12 02:30", Some(ny)), Some(utc("2017-03-12T07:30:00Z")));
        // Without a zone, as before: UTC.
        assert_eq!(date("August 16, 2017 5:59 PM"), Some(utc("2017-08-16T17:59:00Z")));
    }

    #[test]
    fn durations() {
        let cases = [
            ("3125", 3125),
            ("52:05", 3125),
            ("1:02:05", 3725),
            ("01:02:05", 3725),
            ("PT52M", 3120),
            ("PT1H3M5S", 3785),
            ("pt45m30s", 2730),
            ("52 min", 3120),
            ("1 hr 3 min", 3780),
            ("1h 3m 5s", 3785),
            ("1 hour, 3 minutes", 3780),
            ("45 minutes", 2700),
            ("2 hours and 1 second", 7201),
            ("3125.4", 3125),
            ("P15M,31S", 931),
            ("P15M31S", 931),
            ("15m31s", 931),
            ("1h 2m 3s", 3723),
            ("15 min 31 sec", 931),
            ("P1D", 86_400),
            ("PT1,5H", 5400),
            // A player's milliseconds: a clock shows the whole seconds.
            ("00:53:52.676", 3232),
            ("53:52.9", 3232),
        ];
        for (text, seconds) in cases {
            assert_eq!(duration(text), Ok(seconds), "{text}");
        }
    }

    #[test]
    fn not_durations() {
        for text in ["", "soon", "1:75", "PT", "P", "12 parsecs", "min", "1 2 min", "inf", "NaN"] {
            assert_eq!(duration(text), Err(NotADuration::Unreadable), "{text}");
        }
    }

    #[test]
    fn durations_never_overflow() {
        for text in [
            "1000000000000000000:00:00",
            "99999999999999999999",
            "1e30",
            "P99999999999999999999D",
            "99999999999999999999 hours",
            "5124095576040431 hours",
            "18446744073709551615:00",
        ] {
            assert_eq!(duration(text), Err(NotADuration::TooLarge), "{text}");
        }
        assert_eq!(duration("-5"), Err(NotADuration::Negative));
        assert_eq!(duration("-PT5M"), Err(NotADuration::Unreadable));
        assert_eq!(duration("18446744073709551615"), Ok(u64::MAX));
    }

    mod properties {
        use super::super::*;
        use chrono::{Datelike, NaiveDate};
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn never_panics_on_any_text(text in "\\PC{0,40}") {
                let _ = date(&text);
                let _ = duration(&text);
                let _ = date_with_format(&text, "%d/%m/%Y", Some(chrono_tz::Tz::Europe__Berlin));
            }

            #[test]
            fn durations_round_trip_in_every_form(seconds in 0u64..360_000) {
                let clock = format!("{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
                prop_assert_eq!(duration(&clock), Ok(seconds));
                prop_assert_eq!(duration(&seconds.to_string()), Ok(seconds));
                prop_assert_eq!(duration(&format!("PT{}M{}S", seconds / 60, seconds % 60)), Ok(seconds));
                prop_assert_eq!(duration(&format!("{} min", seconds / 60)), Ok(seconds / 60 * 60));
            }

            #[test]
            fn written_and_iso_dates_give_that_day_at_noon(days in 0i64..73_000) {
                let day = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
                let noon = Utc.from_utc_datetime(&day.and_time(DATE_ONLY_TIME));
                prop_assert_eq!(date(&day.format("%B %-d, %Y").to_string()), Some(noon));
                prop_assert_eq!(date(&day.format("%-d %b %Y").to_string()), Some(noon));
                prop_assert_eq!(date(&day.format("%Y-%m-%d").to_string()), Some(noon));
                prop_assert_eq!(date(&day.format("%Y-%m-%d").to_string()).map(|d| d.year()), Some(day.year()));
            }
        }
    }
}
