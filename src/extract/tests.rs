//! Unit tests of extraction: rules, conversions, sanitising, hostile pages.

use super::raw::MAX_REMOVALS;
use super::*;
use crate::recipe::Recipe;
use std::path::Path;

const PAGE: &str = r#"<!doctype html><html><head>
        <link rel="canonical" href="/episodes/42">
        <meta name="description" content="  A show about   things. ">
        <meta property="og:image" content="/img/42.jpg">
        <title>ignored</title></head><body>
        <h1>Episode 42:  The   &amp; Answer</h1>
        <div class="dateblock"><time datetime="2019-08-16T09:30:00-04:00">Aug. 16, 2019</time></div>
        <p class="written">Published March 5, 2020</p>
        <div class="player" data-audio='{"audioUrl": "/media/42.mp3", "seconds": 3125, "nested": {"n": 7}}'></div>
        <a class="download" href="https://cdn.example.org/42.mp3">Download</a>
        <span class="len">1 hr 3 min</span>
        <div id="storytext"><p onclick="steal()">Notes with <a href="/links/1">a link</a>
          and <a href="javascript:alert(1)">a trap</a>.</p><script>alert(2)</script><img src="pic.png" onerror="x()"></div>
        </body></html>"#;

fn recipe(episode_rules: &str) -> Recipe {
    let text = format!(
        "[feed]\ntitle = \"T\"\nlink = \"https://example.org/\"\ndescription = \"D\"\n\
             [crawl]\nstart = [\"https://example.org/\"]\nepisodes = \"a\"\n[episode]\n{episode_rules}"
    );
    Recipe::parse(&text, Path::new("test.toml")).unwrap()
}

fn page_url() -> Url {
    Url::parse("https://example.org/episodes/42?ref=home").unwrap()
}

fn page(html: &str) -> Page {
    let url = page_url().to_string();
    let fetched_at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 27, 12, 0, 0).unwrap();
    Page { final_url: url.clone(), url, html: html.to_string(), etag: None, last_modified: None, fetched_at }
}

fn run(episode_rules: &str) -> Result<Episode, NotAnEpisode> {
    extract(&page(PAGE), &recipe(episode_rules).episode).map(|e| e.episode)
}

/// A page whose fields are all near its top, then `filler` bytes of paragraphs, then `tail`.
fn long_page(top: &str, tail: &str) -> Page {
    let filler = "<p>Words that no rule reads, as a transcript has many of them.</p>\n".repeat(1_200);
    page(&format!(
        "<!doctype html><html><head><link rel=canonical href=/episodes/42></head><body>{top}{filler}{tail}</body></html>"
    ))
}

const EARLY_RULES: &str = "title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }";
const EARLY_TOP: &str = "<h1>Early</h1><a class=download href=/42.mp3>mp3</a>";

/// Once every field has its value from a complete element, the rest of the page is not read:
/// a tail that would fail the page (nesting past the limit) is never parsed.
#[test]
fn a_page_is_read_only_as_far_as_its_fields_need() {
    let deep = format!("{}x{}", "<div>".repeat(600), "</div>".repeat(600));
    let extracted = extract(&long_page(EARLY_TOP, &deep), &recipe(EARLY_RULES).episode).unwrap();
    assert_eq!(extracted.episode.title, "Early");
    // The same tail before the fields: the page is read up to it, and refused.
    let late = long_page(&format!("{deep}{EARLY_TOP}"), "");
    assert_eq!(extract(&late, &recipe(EARLY_RULES).episode).err(), Some(TooComplex::TooDeep.into()));
}

/// Reading a page in part never changes a value: an element still open where the reading
/// could stop, a first rule that matches only late, rules whose match depends on what follows
/// (`:last-of-type`, `all`), and people, who are every element matched.
#[test]
fn values_are_those_of_the_whole_page_when_reading_could_stop_early() {
    let wrapped = long_page("<div class=wrap><h1>Early</h1><a class=download href=/42.mp3>mp3</a>", "<b>end</b></div>");
    // The open div's last word, as its whole text has it.
    let rules = recipe(&format!("{EARLY_RULES}\ndescription = {{ css = \"div.wrap\", regex = '(\\w+)$' }}"));
    assert_eq!(extract(&wrapped, &rules.episode).unwrap().episode.description.as_deref(), Some("end"));

    let tail = "<h1 class=late>Late</h1><h2>Last</h2><p class=guest>Guest Two</p>";
    let top = format!("{EARLY_TOP}<h2>First</h2><p class=guest>Guest One</p>");
    let page = long_page(&top, tail);
    let late_first =
        "title = [{ css = \"h1.late\" }, { css = \"h1\" }]\naudio = { css = \"a.download\", attr = \"href\" }";
    assert_eq!(extract(&page, &recipe(late_first).episode).unwrap().episode.title, "Late");
    let last = "title = { css = \"h2:last-of-type\" }\naudio = { css = \"a.download\", attr = \"href\" }";
    assert_eq!(extract(&page, &recipe(last).episode).unwrap().episode.title, "Last");
    let all = "title = { css = \"h2\", all = true, join = \" & \" }\naudio = { css = \"a.download\", attr = \"href\" }";
    assert_eq!(extract(&page, &recipe(all).episode).unwrap().episode.title, "First & Last");
    // A link left open around a block: a later link makes the parser wrap the block's children
    // in a copy of it (the adoption agency), so the heading is no longer the card's child.
    let misnested = long_page(
        "<span class=audio data-src=/42.mp3></span><a href=/x><div class=card><h1>Moved</h1><p class=fallback>Fallback</p>",
        "<a href=/y>y</a></div>",
    );
    let moved = "title = [{ css = \"div.card > h1\" }, { css = \"p.fallback\" }]\naudio = { css = \"span.audio\", attr = \"data-src\" }";
    assert_eq!(extract(&misnested, &recipe(moved).episode).unwrap().episode.title, "Fallback");
    let guests = extract(&page, &recipe(&format!("{EARLY_RULES}\nguests = {{ css = \"p.guest\" }}")).episode).unwrap();
    let names: Vec<&str> = guests.episode.persons.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Guest One", "Guest Two"]);
}

/// Every field read is one `EpisodeRules::fields` knows: a field it missed would count as
/// settled without being read, and a page could be read too short for it.
#[test]
fn every_field_read_has_its_rules_known_by_name() {
    const KEYS: [&str; 19] = [
        "title",
        "audio",
        "link",
        "guid",
        "published",
        "duration",
        "description",
        "content",
        "image",
        "episode",
        "season",
        "episode_type",
        "explicit",
        "transcript",
        "chapters",
        "season_name",
        "block",
        "hosts",
        "guests",
    ];
    let rules: String = KEYS.iter().map(|key| format!("{key} = {{ css = \"h1\" }}\n")).collect();
    let recipe = recipe(&rules);
    let (_, trace) = extract_traced(&page(PAGE), &recipe.episode);
    assert_eq!(trace.len(), KEYS.len());
    for entry in &trace {
        assert!(!recipe.episode.rules_for(entry.field).is_empty(), "{} is read but not known by name", entry.field);
    }
}

#[test]
fn text_rule_collapses_whitespace_and_decodes_entities() {
    let ep = run("title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }").unwrap();
    assert_eq!(ep.title, "Episode 42: The & Answer");
    assert_eq!(ep.enclosure.url, "https://cdn.example.org/42.mp3");
}

#[test]
fn attr_rule_resolves_relative_urls_and_defaults_link_and_guid() {
    let ep = run("title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }\n\
             image = { css = \"meta[property='og:image']\", attr = \"content\" }")
    .unwrap();
    assert_eq!(ep.image.as_deref(), Some("https://example.org/img/42.jpg"));
    assert_eq!(ep.link, "https://example.org/episodes/42?ref=home");
    assert_eq!(ep.guid, ep.link);
}

/// A WordPress player's `?_=1` names the player, not the file: it is dropped, and every
/// other parameter kept as written. A URL in a script's JSON, slashes escaped, is a URL.
#[test]
fn player_suffixes_and_escaped_slashes_in_audio_urls() {
    let html = r#"<h1>T</h1><audio class="wp-audio-shortcode"><source src="https://cdn.example.org/42.mp3?_=1"></audio>
            <audio class="b"><source src="/m/42.mp3?dl=1&amp;_=12&amp;t=x"></audio>
            <script>new Player({"audio":[{"url":"https:\/\/cdn.example.org\/s\/42.m4a"}]})</script>"#;
    let audio = |rule: &str| {
        let rules = recipe(&format!("title = {{ css = \"h1\" }}\naudio = {rule}"));
        extract(&page(html), &rules.episode).unwrap().episode.enclosure.url
    };
    assert_eq!(audio(r#"{ css = "audio.wp-audio-shortcode source", attr = "src" }"#), "https://cdn.example.org/42.mp3");
    assert_eq!(audio(r#"{ css = "audio.b source", attr = "src" }"#), "https://example.org/m/42.mp3?dl=1&t=x");
    assert_eq!(audio(r#"{ css = "script", regex = '"url":"([^"]+)"' }"#), "https://cdn.example.org/s/42.m4a");
    assert_eq!(without_player_suffix("https://a.org/x.mp3?_=3#t=5"), "https://a.org/x.mp3#t=5");
    assert_eq!(without_player_suffix("https://a.org/x.mp3?_=abc"), "https://a.org/x.mp3?_=abc");
}

/// Players write a duration of 0 when they do not know it: no duration, and the next rule's
/// value if it has one.
#[test]
fn a_duration_of_zero_is_no_duration() {
    let html = r#"<h1>T</h1><a class="download" href="/42.mp3">mp3</a>
            <div class="player" data-audio='{"duration": 0}'></div><span class="len">52:05</span>"#;
    let rules = |duration: &str| {
        recipe(&format!(
            "title = {{ css = \"h1\" }}\naudio = {{ css = \"a.download\", attr = \"href\" }}\nduration = {duration}"
        ))
    };
    let json = r#"{ css = "div.player", attr = "data-audio", json = "/duration" }"#;
    let read = |rules: Recipe| extract(&page(html), &rules.episode).unwrap();
    let alone = read(rules(json));
    assert_eq!((alone.episode.duration, alone.dropped.len()), (None, 0), "no value, and nothing to warn of");
    assert_eq!(read(rules(&format!(r#"[ {json}, {{ css = "span.len" }} ]"#))).episode.duration, Some(3125));
}

#[test]
fn canonical_link_becomes_guid() {
    let ep = run("title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }\n\
             link = { css = \"link[rel=canonical]\", attr = \"href\" }")
    .unwrap();
    assert_eq!(ep.link, "https://example.org/episodes/42");
    assert_eq!(ep.guid, "https://example.org/episodes/42");
}

#[test]
fn json_rule_reads_pointer_and_numbers_become_strings() {
    let ep = run(
        "title = { css = \"h1\" }\naudio = { css = \"div.player\", attr = \"data-audio\", json = \"/audioUrl\" }\n\
             duration = { css = \"div.player\", attr = \"data-audio\", json = \"/seconds\" }\n\
             episode = { css = \"div.player\", attr = \"data-audio\", json = \"/nested/n\" }",
    )
    .unwrap();
    assert_eq!(ep.enclosure.url, "https://example.org/media/42.mp3");
    assert_eq!(ep.duration, Some(3125));
    assert_eq!(ep.episode, Some(7));
}

#[test]
fn rule_lists_fall_through_in_order() {
    let ep = run(
            "title = [ { css = \"h2.missing\" }, { css = \"h1\" } ]\n\
             audio = [ { css = \"div.player\", attr = \"data-audio\", json = \"/missing\" }, { css = \"a.download\", attr = \"href\" } ]",
        )
        .unwrap();
    assert_eq!(ep.title, "Episode 42: The & Answer");
    assert_eq!(ep.enclosure.url, "https://cdn.example.org/42.mp3");
}

#[test]
fn regex_keeps_first_group() {
    let ep = run(
        "title = { css = \"h1\", regex = '^Episode \\d+: (.*)$' }\naudio = { css = \"a.download\", attr = \"href\" }\n\
             episode = { css = \"h1\", regex = 'Episode (\\d+)' }",
    )
    .unwrap();
    assert_eq!(ep.title, "The & Answer");
    assert_eq!(ep.episode, Some(42));
}

#[test]
fn dates_from_attribute_text_and_format() {
    let rules = "title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }\n";
    let ep = run(&format!("{rules}published = {{ css = \"time\", attr = \"datetime\" }}")).unwrap();
    assert_eq!(ep.published.unwrap().to_rfc3339(), "2019-08-16T13:30:00+00:00");
    let ep = run(&format!("{rules}published = {{ css = \"time\" }}")).unwrap();
    assert_eq!(ep.published.unwrap().to_rfc3339(), "2019-08-16T12:00:00+00:00");
    let ep = run(&format!("{rules}published = {{ css = \"p.written\", regex = 'Published (.*)' }}")).unwrap();
    assert_eq!(ep.published.unwrap().to_rfc3339(), "2020-03-05T12:00:00+00:00");
    let ep = run(&format!(
            "{rules}published = {{ css = \"time\", attr = \"datetime\", regex = '^(\\d+-\\d+-\\d+)', format = \"%Y-%m-%d\" }}"
        ))
        .unwrap();
    assert_eq!(ep.published.unwrap().to_rfc3339(), "2019-08-16T12:00:00+00:00");
}

#[test]
fn unparsable_value_falls_through_to_next_rule() {
    let ep = run("title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }\n\
             duration = [ { css = \"h1\" }, { css = \"span.len\" } ]")
    .unwrap();
    assert_eq!(ep.duration, Some(3780));
}

#[test]
fn html_rule_is_sanitized_with_absolute_urls() {
    let ep = run("title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }\n\
             content = { css = \"#storytext\", html = true }")
    .unwrap();
    let html = ep.content.unwrap();
    assert!(html.contains("href=\"https://example.org/links/1\""), "{html}");
    assert!(html.contains("src=\"https://example.org/episodes/pic.png\""), "{html}");
    for banned in ["<script", "alert(2)", "onclick", "onerror", "javascript:"] {
        assert!(!html.contains(banned), "{banned} survived in {html}");
    }
}

#[test]
fn text_content_is_escaped() {
    let ep =
        run("title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }\ncontent = { css = \"h1\" }")
            .unwrap();
    assert_eq!(ep.content.as_deref(), Some("Episode 42: The &amp; Answer"));
}

#[test]
fn season_type_explicit_transcript_and_chapters() {
    let html = r#"<h1>Trailer</h1><a class="dl" href="/a.mp3">a</a><span class="s">Season 3</span>
            <span class="t">Trailer</span><span class="x">Explicit</span>
            <a class="tr" href="t/42.vtt">Transcript</a><a class="ch" href="/c/42.json">Chapters</a>"#;
    let rules = recipe(
        "title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }\n\
             season = { css = \"span.s\" }\nepisode_type = { css = \"span.t\" }\nexplicit = { css = \"span.x\" }\n\
             transcript = { css = \"a.tr\", attr = \"href\" }\nchapters = { css = \"a.ch\", attr = \"href\" }",
    );
    let ep = extract(&page(html), &rules.episode).unwrap().episode;
    assert_eq!(ep.season, Some(3));
    assert_eq!(ep.episode_type.as_deref(), Some("trailer"));
    assert_eq!(ep.explicit, Some(true));
    assert_eq!(ep.transcript.as_deref(), Some("https://example.org/episodes/t/42.vtt"));
    assert_eq!(ep.chapters.as_deref(), Some("https://example.org/c/42.json"));
}

#[test]
fn hosts_guests_season_name_and_block() {
    let guests: String = (0..40).map(|i| format!("<a class=g href='/people/{i}'>Guest\n {i}</a>")).collect();
    let html = format!(
        r#"<h1>T</h1><a class="dl" href="/a.mp3">a</a><span class="s">Season 3</span><i class="sn">The Return</i>
            <p class="host">Ana</p><p class="host">Ana</p><p class="host">Cy</p>{guests}<b class="bl">yes</b>"#
    );
    let rules = recipe(
        "title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }\nseason = { css = \"span.s\" }\n\
             season_name = { css = \"i.sn\" }\nblock = { css = \"b.bl\" }\n\
             hosts = [{ css = \"p.nobody\" }, { css = \"p.host\" }]\nguests = { css = \"a.g\" }",
    );
    let ep = extract(&page(&html), &rules.episode).unwrap().episode;
    assert_eq!((ep.season, ep.season_name.as_deref(), ep.block), (Some(3), Some("The Return"), true));
    let hosts: Vec<_> = ep.persons.iter().filter(|p| p.role == "host").map(|p| p.name.as_str()).collect();
    assert_eq!(hosts, ["Ana", "Cy"], "the first rule that finds anyone, each person once");
    let guests: Vec<_> = ep.persons.iter().filter(|p| p.role == "guest").collect();
    assert_eq!(guests.len(), MAX_PEOPLE);
    assert_eq!(guests[1].name, "Guest 1");
    assert_eq!(guests[1].href.as_deref(), Some("https://example.org/people/1"));
    assert!(ep.persons.iter().filter(|p| p.role == "host").all(|p| p.href.is_none()));
}

#[test]
fn rules_drop_parts_join_matches_and_combine_groups() {
    let html = "<h1>Show</h1><a class=dl href='/a.mp3'>mp3</a>\
            <div id=story><p>First.</p><figure><img src=x.jpg><span class=caption>hide caption</span></figure>\
            <p>Second <b>bold</b>.</p><div class=player>Listen · Download · Embed</div></div>\
            <span class=len>15 min</span><span class=len>31 sec</span>\
            <div class=when data-meta='{\"date\":\"2017-08-16\",\"time\":\"17:59\"}'></div>";
    let rules = recipe(
            "title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }\n\
             description = { css = \"#story\", remove = [\".caption\", \"div.player\"] }\n\
             content = { css = \"#story\", html = true, remove = [\"figure\", \".player\"] }\n\
             duration = { css = \"span.len\", all = true }\n\
             published = { css = \"div.when\", attr = \"data-meta\", regex = '\"date\":\"([^\"]+)\",\"time\":\"([^\"]+)\"', template = \"$1 $2\" }",
        );
    let ep = extract(&page(html), &rules.episode).unwrap().episode;
    assert_eq!(ep.description.as_deref(), Some("First. Second bold."));
    let content = ep.content.unwrap();
    assert!(content.contains("<p>First.</p>") && content.contains("<b>bold</b>"), "{content}");
    assert!(!content.contains("caption") && !content.contains("Embed") && !content.contains("img"), "{content}");
    assert_eq!(ep.duration, Some(931), "\"15 min 31 sec\"");
    assert_eq!(ep.published, Some(chrono::TimeZone::with_ymd_and_hms(&Utc, 2017, 8, 16, 17, 59, 0).unwrap()));
}

#[test]
fn remove_drops_at_most_its_share_of_elements() {
    let spans: String = (0..5_000).map(|n| format!("<span>{n}</span>")).collect();
    let html = format!("<h1>Show</h1><a class=dl href='/a.mp3'>mp3</a><div id=notes><p>Kept</p>{spans}</div>");
    let rules = recipe(
        "title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }\n\
             content = { css = \"#notes\", html = true, remove = [\"span\"] }",
    );
    let content = extract(&page(&html), &rules.episode).unwrap().episode.content.unwrap();
    assert!(content.starts_with("<p>Kept</p>"), "{content}");
    assert_eq!(
        content.matches("<span>").count(),
        5_000 - MAX_REMOVALS,
        "the first {MAX_REMOVALS} dropped, then no more scans"
    );
}

#[test]
fn a_url_rule_that_finds_json_or_a_sentence_gives_way_to_the_next() {
    let html = "<h1>Show</h1><div class=player data-audio='{\"audioUrl\":\"https://cdn.example.org/1.mp3\"}'></div>\
            <a class=more>Listen to this episode</a><a class=part>Part 1/2 of the series</a>\
            <a class=dl href='/audio/part 2.mp3'>mp3</a>";
    let rules = recipe(
        "title = { css = \"h1\" }\naudio = [ { css = \"div.player\", attr = \"data-audio\" }, \
             { css = \"a.more\" }, { css = \"a.part\" }, { css = \"a.dl\", attr = \"href\" } ]",
    );
    let ep = extract(&page(html), &rules.episode).unwrap().episode;
    assert_eq!(ep.enclosure.url, "https://example.org/audio/part%202.mp3", "a space in a path is a link still");
    let rules = recipe("title = { css = \"h1\" }\naudio = { css = \"div.player\", attr = \"data-audio\" }");
    assert_eq!(extract(&page(html), &rules.episode).unwrap_err(), NotAnEpisode::NoAudio, "JSON is no audio URL");
}

#[test]
fn values_a_rule_found_but_could_not_read_are_named() {
    let html = "<h1>Show</h1><a class=dl href='/a.mp3'>mp3</a><time datetime='P15M,31S'>15:31</time>\
            <span class=len>a quarter hour</span><span class=d>the other day</span>";
    let rules = recipe(
        "title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }\n\
             duration = { css = \"span.len\" }\npublished = { css = \"span.d\" }",
    );
    let extracted = extract(&page(html), &rules.episode).unwrap();
    let dropped: Vec<String> = extracted.dropped.iter().map(ToString::to_string).collect();
    assert_eq!(
        dropped,
        ["published \"the other day\" is not a date I know", "duration \"a quarter hour\" is not a duration I know"]
    );
    let rules = recipe(
        "title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }\n\
             duration = { css = \"time\", attr = \"datetime\" }",
    );
    assert_eq!(extract(&page(html), &rules.episode).unwrap().episode.duration, Some(931), "NPR's P15M,31S");
}

/// A page built to break the feed: forbidden characters (raw, as references, and lone
/// surrogates) in every field, numbers and dates out of range.
const HOSTILE: &str = "<html><head><link rel=canonical href='/ep/&#1;7'>\
        <meta name=description content='Notes &#1;&#x1F; &#xFFFE;here\u{1}'></head><body>\
        <h1>Bad &#1;title&#xD800; &#x0;end\u{7}</h1><h2>&#1;&#2;</h2><b class=g>&#1;</b><b class=g>guid-&#1;7</b>\
        <a class=dl href='https://cdn.example.org/&#1;a b.mp3'>a</a>\
        <time class=d>9999-12-31</time><time class=d>1850-01-01</time>\
        <span class=len>1000000000000000000:00:00</span><span class=len2>99999999999999999999</span>\
        <span class=len3>-5</span><span class=len4>8 days</span>\
        <p class=n>Episode 99999999999999999999</p><p class=s>Season 4294967296</p>\
        <img class=i src='javascript:alert(1)'><img class=i src='data:image/png;base64,AAAA'></body></html>";

fn hostile(extra: &str) -> Extracted {
    let rules = recipe(&format!(
        "title = [ {{ css = \"h2\" }}, {{ css = \"h1\" }} ]\naudio = {{ css = \"a.dl\", attr = \"href\" }}\n\
             link = {{ css = \"link[rel=canonical]\", attr = \"href\" }}\nguid = {{ css = \"b.g\" }}\n\
             description = {{ css = \"meta[name=description]\", attr = \"content\" }}\n{extra}"
    ));
    extract(&page(HOSTILE), &rules.episode).unwrap()
}

#[test]
fn forbidden_characters_are_dropped_and_empty_values_fall_through() {
    let ep = hostile("").episode;
    assert_eq!(ep.title, "Bad title\u{fffd} \u{fffd}end", "the <h2> had nothing left; lone surrogates are U+FFFD");
    assert_eq!(ep.guid, "guid-7", "the first guid was only a control character");
    assert_eq!(ep.link, "https://example.org/ep/%017");
    assert_eq!(ep.enclosure.url, "https://cdn.example.org/%01a%20b.mp3");
    assert_eq!(ep.description.as_deref(), Some("Notes  here"));
}

#[test]
fn numbers_and_dates_out_of_range_are_dropped_and_reported() {
    let extracted = hostile(
            "published = { css = \"time.d\" }\nduration = [ { css = \"span.len\" }, { css = \"span.len2\" }, \
             { css = \"span.len3\" }, { css = \"span.len4\" } ]\nepisode = { css = \"p.n\" }\nseason = { css = \"p.s\" }\n\
             image = { css = \"img.i\", attr = \"src\" }",
        );
    let ep = &extracted.episode;
    assert_eq!((ep.published, ep.duration, ep.episode, ep.season, &ep.image), (None, None, None, None, &None));
    let dropped: Vec<String> = extracted.dropped.iter().map(ToString::to_string).collect();
    assert_eq!(
        dropped,
        [
            "published \"9999-12-31\" dropped: more than 2 days in the future",
            "duration \"1000000000000000000:00:00\" dropped: too large a number",
            "image \"javascript:alert(1)\" is not an http(s) URL",
            "episode \"Episode 99999999999999999999\" dropped: too large a number",
            "season \"Season 4294967296\" dropped: too large a number",
        ]
    );
}

#[test]
fn a_huge_title_is_cut_to_255_characters() {
    let html = format!("<h1>{}</h1><a class=dl href=/a.mp3>a</a>", "é".repeat(300_000));
    let rules = recipe("title = { css = \"h1\" }\naudio = { css = \"a.dl\", attr = \"href\" }");
    assert_eq!(extract(&page(&html), &rules.episode).unwrap().episode.title.chars().count(), 255);
}

#[test]
fn unknown_episode_types_and_explicit_values_are_dropped() {
    assert_eq!(episode_type("Special"), None);
    assert_eq!(episode_type(" BONUS "), Some("bonus".into()));
    assert_eq!(explicit("maybe"), None);
    assert_eq!(explicit("Clean"), Some(false));
}

#[test]
fn page_without_audio_is_not_an_episode() {
    let e = run("title = { css = \"h1\" }\naudio = { css = \"a.podcast\", attr = \"href\" }").unwrap_err();
    assert_eq!(e, NotAnEpisode::NoAudio);
}

#[test]
fn non_http_audio_is_not_taken() {
    let e = run("title = { css = \"h1\" }\naudio = { css = \"#storytext a:nth-of-type(2)\", attr = \"href\" }")
        .unwrap_err();
    assert_eq!(e, NotAnEpisode::NoAudio);
}

#[test]
fn trace_names_the_rule_that_produced_each_field() {
    let rules =
        recipe("title = [ { css = \"h2\" }, { css = \"h1\" } ]\naudio = { css = \"a.download\", attr = \"href\" }");
    let (_, trace) = extract_traced(&page(PAGE), &rules.episode);
    let title = trace.iter().find(|t| t.field == "title").unwrap();
    assert_eq!(title.rule, Some(1));
    let image = trace.iter().find(|t| t.field == "image").unwrap();
    assert_eq!(image.rule, None);
    assert_eq!(title.raw.as_deref(), Some("Episode 42: The & Answer"));
}

#[test]
fn trace_keeps_the_raw_value_that_could_not_be_used() {
    let rules = recipe(
        "title = { css = \"h1\" }\naudio = { css = \"a.download\", attr = \"href\" }\n\
             published = { css = \"span.len\" }",
    );
    let (_, trace) = extract_traced(&page(PAGE), &rules.episode);
    let published = trace.iter().find(|t| t.field == "published").unwrap();
    assert_eq!((published.rule, published.raw.as_deref()), (None, Some("1 hr 3 min")));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_page_extracts_or_says_why(html in "\\PC{0,300}", tag in "(h1|p|div|a|time|script)") {
            let rules = recipe("title = { css = \"h1\" }\naudio = { css = \"a\", attr = \"href\" }");
            let html_page = format!("<{tag}>{html}</{tag}><h1>{html}</h1><a href=\"{html}\">x</a>");
            let _ = extract(&page(&html_page), &rules.episode);
        }

        #[test]
        fn sanitized_html_never_keeps_scripts_handlers_or_javascript(
            text in "[a-zA-Z0-9 <>\"'=/:;&]{0,60}",
            handler in "on[a-z]{3,10}",
            scheme in "(javascript|JavaScript|jAvAsCrIpT|vbscript)",
        ) {
            let html = format!(
                "<p {handler}=\"x()\">{text}<script>{text}</script><a href=\"{scheme}:{text}\">l</a>\
                 <img src=\"{scheme}:alert(1)\" {handler}='y'><style>{text}</style></p>"
            );
            let clean = sanitize_html(&html, &page_url()).to_lowercase();
            prop_assert!(!clean.contains("<script"), "{}", clean);
            prop_assert!(!clean.contains("<style"), "{}", clean);
            prop_assert!(!clean.contains("javascript:") && !clean.contains("vbscript:"), "{}", clean);
            prop_assert!(!clean.contains(&format!("{handler}=").to_lowercase()), "{}", clean);
        }
    }
}
