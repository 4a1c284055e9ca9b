//! Unit tests of the recipe: parsing, validation, scope and shared HTTP settings.

use super::*;

const MINIMAL: &str = r#"
[feed]
title = "Show"
link = "https://example.org/"
description = "About"

[crawl]
start = ["https://example.org/archive"]
episodes = "a.episode"

[episode]
title = { css = "h1" }
audio = [ { css = "div.player", attr = "data-audio", json = "/audioUrl" }, { css = "a.download", attr = "href" } ]
"#;

fn parse(text: &str) -> Result<Recipe, RecipeError> {
    Recipe::parse(text, Path::new("show.toml"))
}

fn error(text: &str) -> RecipeError {
    parse(text).expect_err("recipe should be invalid")
}

#[test]
fn minimal_recipe_gets_defaults() {
    let recipe = parse(MINIMAL).unwrap();
    assert_eq!(recipe.name, "show");
    assert_eq!(recipe.crawl.scope, vec!["example.org".to_string()]);
    assert_eq!(recipe.crawl.max_pages, 2000);
    assert_eq!(recipe.http.concurrency, 32);
    assert_eq!(recipe.http.per_host(), 32);
    assert_eq!(recipe.output.path, PathBuf::from("public/feed.xml"));
    assert_eq!(recipe.episode.audio.len(), 2);
    assert_eq!(recipe.episode.audio[0].json.as_deref(), Some("/audioUrl"));
    assert!(recipe.episode.guid.is_empty());
}

#[test]
fn unknown_key_names_file_key_and_field() {
    let e = error(&MINIMAL.replace("title = { css = \"h1\" }", "title = { css = \"h1\", atr = \"x\" }"));
    assert_eq!(e.file, PathBuf::from("show.toml"));
    assert_eq!(e.key, "episode.title.atr");
    assert!(e.reason.contains("unknown field `atr`"), "{}", e.reason);
    assert!(e.reason.contains("line"), "{}", e.reason);
}

#[test]
fn wrong_type_names_the_key() {
    let e = error(&format!("{MINIMAL}\n[http]\nconcurrency = \"many\"\n"));
    assert_eq!(e.key, "http.concurrency");
    assert!(e.reason.contains("invalid type"), "{}", e.reason);
}

#[test]
fn missing_required_key() {
    let e = error(&MINIMAL.replace("description = \"About\"\n", ""));
    assert_eq!(e.key, "feed");
    assert!(e.reason.contains("missing field `description`"), "{}", e.reason);
}

#[test]
fn invalid_toml_gives_the_line() {
    let e = error("[feed]\ntitle = \"Show\"\nlink = \n");
    assert_eq!(e.key, "(file)");
    assert!(e.reason.contains("line 3"), "{}", e.reason);
}

#[test]
fn invalid_selector_in_a_rule_list() {
    let e = error(&MINIMAL.replace("a.download", "a..download"));
    assert_eq!(e.key, "episode.audio[1].css");
    assert!(e.reason.contains("invalid CSS selector"), "{}", e.reason);
}

#[test]
fn css_errors_are_sentences_with_a_place() {
    let e = error(&MINIMAL.replace("title = { css = \"h1\" }", "title = { css = \"h1.title > span.\" }"));
    assert_eq!(e.key, "episode.title.css");
    assert!(e.reason.contains("expected a class name after \".\", at column 16"), "{}", e.reason);
    assert!(!e.reason.contains("Please report"), "{}", e.reason);
    let e = error(&MINIMAL.replace("title = { css = \"h1\" }", "title = { css = \"div >\" }"));
    assert!(e.reason.contains("a combinator (>, +, ~ or a space) has nothing after it"), "{}", e.reason);
}

#[test]
fn rule_options_are_checked_at_load() {
    let rule =
        |extra: &str| MINIMAL.replace("title = { css = \"h1\" }", &format!("title = {{ css = \"h1\", {extra} }}"));
    let e = error(&rule("format = \"%Q %d\""));
    assert_eq!(e.key, "episode.title.format");
    assert!(e.reason.contains("is not a date format"), "{}", e.reason);
    assert_eq!(error(&rule("template = \"$1\"")).key, "episode.title.template");
    let e = error(&rule("regex = '(\\d+):(\\d+)', template = \"$1:$3\""));
    assert_eq!((e.key.as_str(), e.reason.as_str()), ("episode.title.template", "uses $3, but the regex has 2 groups"));
    assert_eq!(error(&rule("join = \", \"")).key, "episode.title.join");
    assert_eq!(error(&rule("remove = [\"p..x\"]")).key, "episode.title.remove[0]");
    assert_eq!(error(&rule("attr = \"title\", remove = [\"p\"]")).key, "episode.title.remove");
    assert!(parse(&rule("regex = '(\\d+):(\\d+)', template = \"$1:$2\", all = true, join = \" \", remove = [\"em\"]"))
        .is_ok());
}

#[test]
fn where_episodes_come_from_is_checked() {
    let listing_only = |listing: &str| {
        let head = MINIMAL.split("[episode]").next().unwrap().replace("episodes = \"a.episode\"\n", "");
        format!("{head}[listing]\n{listing}")
    };
    let ok = listing_only("item = \"article\"\ntitle = { css = \"h2\" }\naudio = { css = \"a\", attr = \"href\" }\n");
    let recipe = parse(&ok).unwrap();
    assert!(recipe.crawl.episodes.is_none() && recipe.listing.is_some());
    assert_eq!(
        error(&listing_only("title = { css = \"h2\" }\naudio = { css = \"a\", attr = \"href\" }\n")).key,
        "listing.item"
    );
    assert_eq!(error(&listing_only("item = \"article\"\ntitle = { css = \"h2\" }\n")).key, "listing.audio");
    assert_eq!(
        error(&listing_only("item = \"article ..x\"\ntitle = { css = \"h2\" }\naudio = { css = \"a\" }\n")).key,
        "listing.item"
    );
    // Neither links to pages nor items; page rules with no page to read; `item` misplaced.
    assert_eq!(
        error(MINIMAL.replace("episodes = \"a.episode\"\n", "").split("[episode]").next().unwrap()).key,
        "crawl.episodes"
    );
    assert_eq!(error(&MINIMAL.replace("episodes = \"a.episode\"\n", "")).key, "episode");
    assert_eq!(error(&MINIMAL.replace("[episode]\n", "[episode]\nitem = \"article\"\n")).key, "episode.item");
    // Beside [listing], the page rules need not give the audio: the item may.
    let both = format!(
        "{}[listing]\nitem = \"article\"\naudio = {{ css = \"a\", attr = \"href\" }}\n",
        MINIMAL.replace("audio = [", "# audio = [")
    );
    assert!(parse(&both).is_ok(), "{:?}", parse(&both).err());
    // One of the two must.
    let neither = format!("{}[listing]\nitem = \"article\"\n", MINIMAL.replace("audio = [", "# audio = ["));
    assert_eq!(error(&neither).key, "listing.audio");
}

#[test]
fn directory_controls_are_checked() {
    let feed = |extra: &str| MINIMAL.replace("description = \"About\"", &format!("description = \"About\"\n{extra}"));
    let ok = parse(&feed(
        "block = true\ncomplete = true\nfunding = [{ url = \"https://example.org/give\", text = \"Give\" }]\n\
             persons = [{ name = \"Jo\", role = \"Host\" }]\nlocation = { name = \"Austin\", geo = \"geo:30.2,97.7\" }",
    ))
    .unwrap();
    assert!(ok.feed.block && ok.feed.complete);
    assert_eq!(ok.feed.persons[0].role.as_deref(), Some("host"));
    let key = |extra: &str| error(&feed(extra)).key;
    assert_eq!(key("funding = [{ url = \"/give\", text = \"Give\" }]"), "feed.funding[0].url");
    assert_eq!(
        key(&format!("funding = [{{ url = \"https://a.example/\", text = \"{}\" }}]", "x".repeat(129))),
        "feed.funding[0].text"
    );
    assert_eq!(key("persons = [{ name = \" \" }]"), "feed.persons[0].name");
    assert_eq!(key("persons = [{ name = \"Jo\", href = \"jo.html\" }]"), "feed.persons[0].href");
    assert_eq!(key("location = { name = \"Austin\", geo = \"30.2,97.7\" }"), "feed.location.geo");
    assert_eq!(key("location = { name = \"Austin\", osm = \"113314\" }"), "feed.location.osm");
    assert_eq!(key("block = \"yes\""), "feed.block");
    // Apple's names, spelt as Apple does.
    let ok = parse(&feed("categories = [\"science/ astronomy\"]\nlanguage = \"EN-gb\"")).unwrap();
    assert_eq!((ok.feed.categories[0].as_str(), ok.feed.language.as_deref()), ("Science/Astronomy", Some("en-gb")));
    assert_eq!(key("categories = [\"Science\", \"Sience/Astronomy\"]"), "feed.categories[1]");
    assert_eq!(key("language = \"english\""), "feed.language");
}

#[test]
fn max_bytes_needs_split_feeds_and_room_for_a_feed() {
    let output = |keys: &str| MINIMAL.replace("[crawl]", &format!("[output]\n{keys}\n[crawl]"));
    assert_eq!(parse(&output("split = \"season\"\nmax_bytes = 500000")).unwrap().output.max_bytes, 500_000);
    assert_eq!(error(&output("max_bytes = 500000")).key, "output.max_bytes");
    assert_eq!(error(&output("split = \"year\"\nmax_bytes = 100")).key, "output.max_bytes");
    assert_eq!(error(&output("split = \"month\"")).key, "output.split");
}

#[test]
fn hosts_and_guests_take_every_match_already() {
    let rules = |rule: &str| MINIMAL.replace("[episode]\n", &format!("[episode]\n{rule}\n"));
    assert!(parse(&rules("guests = { css = \".guest\" }\nhosts = [{ css = \"a\" }, { css = \"b\" }]")).is_ok());
    assert_eq!(error(&rules("guests = { css = \".guest\", all = true }")).key, "episode.guests.all");
}

#[test]
fn numbered_pages_are_checked() {
    let with = |extra: &str| MINIMAL.replace("episodes = \"a.episode\"", &format!("episodes = \"a.episode\"\n{extra}"));
    assert_eq!(error(&with("pages = \"https://example.org/archive?page=2\"")).key, "crawl.pages");
    assert_eq!(error(&with("pages = \"example.org/archive?page={n}\"")).key, "crawl.pages");
    assert_eq!(error(&with("pages = \"https://example.org/a?page={n}\"\nfrom = 3\nto = 2")).key, "crawl.to");
    let recipe = parse(&with("pages = \"https://example.org/a?page={n}\"\nfrom = 2\nto = 9")).unwrap();
    let pages = recipe.crawl.pages.unwrap();
    assert_eq!(pages.url(2).unwrap().as_str(), "https://example.org/a?page=2");
    assert_eq!(pages.url(10), None, "past `to`");
    assert_eq!(pages.number_of(&pages.url(7).unwrap()), Some(7));
    assert_eq!(pages.number_of(&Url::parse("https://example.org/a?page=7&x=1").unwrap()), None);
    assert_eq!(pages.number_of(&Url::parse("https://example.org/a?page=12").unwrap()), None, "past `to`");
    assert_eq!(error(&with("from = 2")).key, "crawl.from", "without pages");
    assert_eq!(error(&with("to = 2")).key, "crawl.to", "without pages");
    // Numbered pages alone need no `start`.
    let alone =
        MINIMAL.replace("start = [\"https://example.org/archive\"]", "pages = \"https://example.org/a?page={n}\"");
    assert!(parse(&alone).is_ok());
}

#[test]
fn sitemaps_are_checked() {
    let with = |extra: &str| MINIMAL.replace("episodes = \"a.episode\"", &format!("episodes = \"a.episode\"\n{extra}"));
    assert_eq!(error(&with("sitemap = [\"sitemap.xml\"]")).key, "crawl.sitemap[0]");
    assert_eq!(
        error(&with("sitemap = [\"https://example.org/sitemap.xml\"]\nsitemap_match = \"(\"")).key,
        "crawl.sitemap_match"
    );
    assert_eq!(error(&with("sitemap_match = '/ep/'")).key, "crawl.sitemap_match", "without a sitemap");
    // A sitemap alone lists episode pages: no `start`, no `episodes` needed.
    let alone = MINIMAL
        .replace("start = [\"https://example.org/archive\"]", "sitemap = [\"https://example.org/sitemap.xml\"]")
        .replace("episodes = \"a.episode\"\n", "");
    let recipe = parse(&alone).unwrap();
    assert_eq!(recipe.crawl.scope, ["example.org"]);
}

#[test]
fn time_zone_names_are_checked() {
    let with = |zone: &str| {
        MINIMAL.replace("episodes = \"a.episode\"", &format!("episodes = \"a.episode\"\ntimezone = \"{zone}\""))
    };
    let e = error(&with("America/New_Yrok"));
    assert_eq!(e.key, "crawl.timezone");
    assert!(e.reason.contains("not an IANA time zone name"), "{}", e.reason);
    let recipe = parse(&with("America/New_York")).unwrap();
    assert_eq!(recipe.episode.timezone, Some(chrono_tz::America::New_York));
}

#[test]
fn invalid_regex() {
    let e = error(&MINIMAL.replace("title = { css = \"h1\" }", "title = { css = \"h1\", regex = \"(\" }"));
    assert_eq!(e.key, "episode.title.regex");
}

#[test]
fn invalid_start_url() {
    let e = error(&MINIMAL.replace("https://example.org/archive", "example.org/archive"));
    assert_eq!(e.key, "crawl.start[0]");
}

#[test]
fn error_display_names_file_key_and_reason() {
    let e = error(&MINIMAL.replace("a.episode", "a["));
    assert!(e.to_string().starts_with("show.toml: crawl.episodes: invalid CSS selector"), "{e}");
}

#[test]
fn shared_http_settings_are_the_politest_limits() {
    let a = Http { concurrency: 32, per_host: Some(8), rate_limit: 0, ..Http::default() };
    let b = Http { concurrency: 64, per_host: None, rate_limit: 5, ..Http::default() };
    let shared = Http::shared([&a, &b]);
    assert_eq!((shared.concurrency, shared.per_host(), shared.rate_limit), (64, 8, 5));
}

#[test]
fn tracking_and_ignored_parameters_do_not_make_another_page() {
    let recipe =
        parse(&MINIMAL.replace("episodes = \"a.episode\"", "episodes = \"a.episode\"\nignore_params = [\"src\"]"))
            .unwrap();
    let canonical = |url: &str| recipe.crawl.canonical(Url::parse(url).unwrap()).to_string();
    assert_eq!(canonical("https://example.org/ep/1?utm_source=x&utm_medium=y#top"), "https://example.org/ep/1");
    assert_eq!(canonical("https://example.org/ep/1?fbclid=1&gclid=2&ref=home&SRC=feed"), "https://example.org/ep/1");
    assert_eq!(canonical("https://example.org/ep?id=1&ref=home&x=a%20b"), "https://example.org/ep?id=1&x=a%20b");
    assert_eq!(canonical("https://example.org/ep?id=1&x=a+b"), "https://example.org/ep?id=1&x=a+b", "untouched");
    assert_eq!(canonical("https://example.org/ep?x=1"), "https://example.org/ep?x=1");
    assert_eq!(canonical("https://example.org/ep?referrer=1"), "https://example.org/ep?referrer=1");
}

#[test]
fn scope_limits_hosts_and_schemes() {
    let recipe = parse(MINIMAL).unwrap();
    assert!(recipe.crawl.in_scope(&Url::parse("https://example.org/x").unwrap()));
    assert!(recipe.crawl.in_scope(&Url::parse("http://EXAMPLE.org/x").unwrap()));
    assert!(!recipe.crawl.in_scope(&Url::parse("http://example.org:8080/x").unwrap()), "another port");
    let on_a_port = parse(&MINIMAL.replace("https://example.org/", "http://127.0.0.1:8080/")).unwrap();
    assert_eq!(on_a_port.crawl.scope, ["127.0.0.1:8080"]);
    assert!(on_a_port.crawl.in_scope(&Url::parse("http://127.0.0.1:8080/episodes/1").unwrap()));
    assert!(!on_a_port.crawl.in_scope(&Url::parse("http://127.0.0.1:6379/").unwrap()));
    assert!(!on_a_port.crawl.in_scope(&Url::parse("http://127.0.0.1/").unwrap()));
    let explicit = parse(&MINIMAL.replace("episodes = ", "scope = [\"example.org:443\"]\nepisodes = ")).unwrap();
    assert!(explicit.crawl.in_scope(&Url::parse("https://example.org/x").unwrap()), "443 named");
    assert!(!explicit.crawl.in_scope(&Url::parse("http://example.org/x").unwrap()), "80 is another port");
    assert!(!recipe.crawl.in_scope(&Url::parse("https://evil.example.com/x").unwrap()));
    assert!(!recipe.crawl.in_scope(&Url::parse("ftp://example.org/x").unwrap()));
}
