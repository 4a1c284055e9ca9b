//! The `podfeed` binary as users and cron run it: exit codes, messages, and the commands.

mod common;

use common::{parse_feed, podfeed, podfeed_async, stderr, stdout, Fixture};

const VALID: &str = r#"
[feed]
title = "T"
link = "https://example.org/"
description = "D"
[crawl]
start = ["https://example.org/archive"]
episodes = "a.ep"
[episode]
title = { css = "h1" }
audio = { css = "a.download", attr = "href" }
"#;

#[test]
fn invalid_recipes_exit_2_naming_file_key_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            VALID.replace("episodes = \"a.ep\"", "episodes = \"a.ep\"\nepisode = \"x\""),
            "crawl.episode",
            "unknown field",
        ),
        (VALID.replace("a.download", "a..download"), "episode.audio.css", "invalid CSS selector"),
        (
            VALID.replace("title = { css = \"h1\" }", "title = { css = \"h1\", regex = \"(\" }"),
            "episode.title.regex",
            "invalid regex",
        ),
        (VALID.replace("description = \"D\"\n", ""), "feed", "missing field `description`"),
        (VALID.replace("[http]", "") + "[http]\nretries = \"often\"\n", "http.retries", "invalid type"),
        (VALID.replace("title = \"T\"", "title = \"T"), "(file)", "line 3"),
        // Apple's checks: a category off its list names the nearest one; a language its code.
        (
            VALID.replace("description = \"D\"", "description = \"D\"\ncategories = [\"News\", \"Buisness\"]"),
            "feed.categories[1]",
            "the nearest is \"Business\"",
        ),
        (
            VALID.replace("description = \"D\"", "description = \"D\"\nlanguage = \"German\""),
            "feed.language",
            "ISO 639 language code such as \"en\" (for that language, write \"de\")",
        ),
    ];
    for (text, key, reason) in cases {
        std::fs::write(dir.path().join("bad.toml"), &text).unwrap();
        let out = podfeed(dir.path(), &["build", "--recipe", "bad.toml"]);
        assert_eq!(out.status.code(), Some(2), "{key}: {}", stderr(&out));
        let message = stderr(&out);
        assert!(message.contains(&format!("bad.toml: {key}: ")), "{key} not named in: {message}");
        assert!(message.contains(reason), "{reason} not in: {message}");
    }
    assert!(!dir.path().join("public").exists(), "nothing is published from a bad recipe");
}

#[test]
fn a_missing_recipe_and_bad_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = podfeed(dir.path(), &["build", "--recipe", "nope.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.toml: (file): cannot read"), "{}", stderr(&out));
    let out = podfeed(dir.path(), &["build"]);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
    std::fs::write(dir.path().join("ok.toml"), VALID).unwrap();
    let out = podfeed(dir.path(), &["refresh", "--recipe", "ok.toml", "not a url"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("\"not a url\" is not an http(s) URL"), "{}", stderr(&out));
}

#[test]
fn demo_publishes_the_whole_archive() {
    let dir = tempfile::tempdir().unwrap();
    let out = podfeed(dir.path(), &["demo", "--out", "site", "--latency-ms", "0", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("--json prints one JSON object");
    let items = summary["items"].as_u64().unwrap();
    assert!(items >= 1000, "{items} items");
    assert_eq!(summary["failed"], 0);
    let feed = parse_feed(&std::fs::read(dir.path().join("site/feed.xml")).unwrap());
    assert_eq!(feed.entries.len() as u64, items);
    let index = std::fs::read_to_string(dir.path().join("site/index.html")).unwrap();
    assert_eq!(index.matches("<audio ").count() as u64, items);
    assert!(stderr(&out).contains("site/feed.xml"), "says where the feed is: {}", stderr(&out));
    assert!(!stderr(&out).contains('\u{1b}'), "no colour codes off a terminal: {:?}", stderr(&out));
    // Started from the source tree (as the README's first command does), the hint to look at the
    // feed is a command that works before podfeed is installed.
    assert!(stderr(&out).contains("see it with `cargo run -- serve --dir site`"), "{}", stderr(&out));
}

/// `build`, `list`, `check` and `refresh` by hand against a demo site, with the default cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_list_check_refresh_from_the_command_line() {
    let fx = Fixture::new(100, false).await;
    let dir = fx.dir.path().to_path_buf();

    let out = podfeed_async(&dir, &["build", "--recipe", "demo.toml", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(summary["new"], 99, "100 pages, one a text post");
    assert!(dir.join("cache/demo").is_dir(), "default cache is cache/<recipe name>/");
    assert!(!stderr(&out).contains("episode pages"), "no progress bar when stderr is not a terminal");
    assert!(dir.join("public/feed.xml").is_file(), "default output is the recipe's output.path");

    let out = podfeed_async(&dir, &["list", "--recipe", "demo.toml", "--json"]).await;
    let listed: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(listed.len(), 99);
    assert_eq!(listed[0]["title"], fx.site.episodes()[0].title);

    let url = fx.site.episode_url(25);
    let out = podfeed_async(&dir, &["check", "--recipe", "demo.toml", &url]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("audio        episode.audio[1]"), "download-link fallback named:\n{text}");
    assert!(text.contains("published    episode.published[0]"), "{text}");
    assert!(text.contains(&format!("→ a feed item with guid {url}")), "{text}");
    // People, each with their page.
    let out = podfeed_async(&dir, &["check", "--recipe", "demo.toml", &fx.site.episode_url(18)]).await;
    let text = stdout(&out);
    let guests = fx.site.episodes().into_iter().find(|e| e.number == 18).unwrap().guests();
    let line = format!(
        "guests       episode.guests         {} <{}{}>; {}",
        guests[0].0,
        fx.site.base_url(),
        guests[0].1.as_deref().unwrap(),
        guests[1].0
    );
    assert!(text.contains(&line), "{line} not in:\n{text}");
    let out = podfeed_async(&dir, &["check", "--recipe", "demo.toml", &fx.site.episode_url(97)]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("not a feed item: no audio URL found"));
    assert!(stdout(&out).contains("warning: no enclosure"));

    fx.site.retitle(30, "Renamed on the site");
    fx.site.reset_stats();
    let out = podfeed_async(&dir, &["refresh", "--recipe", "demo.toml", "--json", &fx.site.episode_url(30)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!((summary["updated"].as_u64(), summary["feed_changed"].as_bool()), (Some(1), Some(true)));
    assert_eq!(fx.site.stats().episode, 1);
    let feed = parse_feed(&std::fs::read(dir.join("public/feed.xml")).unwrap());
    assert!(feed.entries.iter().any(|e| e.title.as_ref().unwrap().content == "Renamed on the site"));
}

/// A folder of recipes, more than are built at once, in one run sharing one client: never more
/// than `per_host` requests in flight to the one host they all use, as the site itself
/// measures; every feed complete, and the summaries in the recipes' order. The site holds the
/// first episode pages asked for until four are waiting together, so the limit is reached
/// however fast the machine is (a client that never had four in flight would wait out its
/// timeouts there and fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipe_set_shares_one_per_host_limit() {
    let config = podfeed_demo::DemoConfig {
        episodes: 60,
        latency: std::time::Duration::from_millis(5),
        faults: false,
        ..Default::default()
    };
    let fx = Fixture::start(config).await;
    let dir = fx.dir.path().to_path_buf();
    std::fs::create_dir(dir.join("recipes")).unwrap();
    let names: Vec<String> = (0..12).map(|n| format!("show-{n:02}")).collect();
    for name in &names {
        let text = fx
            .recipe_text
            .replace("concurrency = 32", "concurrency = 32\nper_host = 4")
            .replace("public/feed.xml", &format!("public/{name}/feed.xml"));
        std::fs::write(dir.join(format!("recipes/{name}.toml")), text).unwrap();
    }
    fx.site.gather("/episodes/", 4);
    let out = podfeed_async(&dir, &["build", "--recipe", "recipes", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summaries: Vec<serde_json::Value> =
        stdout(&out).lines().map(|line| serde_json::from_str(line).expect("one JSON object per recipe")).collect();
    assert_eq!(summaries.len(), names.len());
    assert!(summaries.iter().all(|s| s["new"] == 60), "{summaries:?}");
    let reported: Vec<&str> = summaries.iter().filter_map(|s| s["recipe"].as_str()).collect();
    assert!(reported.iter().zip(&names).all(|(recipe, name)| recipe.contains(name.as_str())), "{reported:?}");
    let stats = fx.site.stats();
    assert_eq!(stats.max_in_flight, 4, "four requests in flight at once, never more (per_host is 4): {stats:?}");
    for name in &names {
        let feed = parse_feed(&std::fs::read(fx.dir.path().join(format!("public/{name}/feed.xml"))).unwrap());
        assert_eq!(feed.entries.len(), 60);
        assert!(fx.dir.path().join(format!("cache/{name}")).is_dir());
    }
}

/// Recipes named alike in two folders would share `cache/<name>`: refused before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipes_that_would_share_a_cache_are_refused() {
    let fx = Fixture::new(10, false).await;
    let dir = fx.dir.path();
    for folder in ["network-a", "network-b"] {
        std::fs::create_dir(dir.join(folder)).unwrap();
        std::fs::write(dir.join(folder).join("news.toml"), &fx.recipe_text).unwrap();
    }
    fx.site.reset_stats();
    let out = podfeed_async(dir, &["build", "--recipe", "network-a", "--recipe", "network-b"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("network-a/news.toml") && err.contains("network-b/news.toml"), "{err}");
    assert_eq!(fx.site.stats().total(), 0);
}

/// Recipes that would write one file (the same feed, an `index.html` beside two feeds, a
/// split feed of one that is another's feed) are refused before any request, naming both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipes_that_would_write_one_file_are_refused() {
    let fx = Fixture::new(10, false).await;
    let dir = fx.dir.path();
    let output = |path: &str, extra: &str| {
        fx.recipe_text.replace("path = \"public/feed.xml\"", &format!("path = \"{path}\"\n{extra}"))
    };
    for (a, b, shared) in [
        (output("public/feed.xml", ""), output("./public/feed.xml", ""), "public/feed.xml"),
        (output("public/a.xml", ""), output("public/b.xml", ""), "public/index.html"),
        (output("public/a.xml", "split = \"year\""), output("public/a-2024.xml", ""), "public/a-2024.xml"),
        (output("public/a.xml", ""), output("public/a.xml.gz", ""), "public/a.xml.gz"),
        (output("public/x/../a.xml", ""), output("public/a.xml", ""), "public/a.xml"),
        (output("public/a.xml", "split = \"season\""), output("public/b/../a.xml", "split = \"year\""), "public/a.xml"),
        (output("public/a.xml", "split = \"year\""), output("public/b.xml", "split = \"year\""), "public/index.html"),
        (output("public/a.xml", "split = \"year\""), output("public/a-other.xml.gz", ""), "public/a-other.xml.gz"),
    ] {
        let night = tempfile::tempdir_in(dir).unwrap();
        std::fs::write(night.path().join("one.toml"), a).unwrap();
        std::fs::write(night.path().join("two.toml"), b).unwrap();
        fx.site.reset_stats();
        let out = podfeed_async(dir, &["build", "--recipe", night.path().to_str().unwrap()]).await;
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("one.toml and ") && err.contains("two.toml would both write "), "{err}");
        assert!(err.contains(shared), "{shared}: {err}");
        assert_eq!(fx.site.stats().total(), 0);
    }
}

/// A split feed's parts are named for years, seasons and `other`: a feed named like one of
/// them in another word (`a-news.xml` beside a split `a.xml`) is no clash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_named_like_a_split_part_is_not_one() {
    let fx = Fixture::new(10, false).await;
    let dir = fx.dir.path();
    std::fs::create_dir(dir.join("night")).unwrap();
    let split = fx.recipe_text.replace("path = \"public/feed.xml\"", "path = \"public/a.xml\"\nsplit = \"year\"");
    let news = fx.recipe_text.replace("path = \"public/feed.xml\"", "path = \"public/a-news.xml\"").replacen(
        "\nhtml = true",
        "\nhtml = false",
        1,
    );
    std::fs::write(dir.join("night/one.toml"), split).unwrap();
    std::fs::write(dir.join("night/two.toml"), news).unwrap();
    let out = podfeed_async(dir, &["build", "--recipe", "night"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(dir.join("public/a.xml").is_file() && dir.join("public/a-news.xml").is_file());
}

/// A site that records who asked for what: (path, user agent).
async fn recording_site() -> (String, std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>) {
    use axum::http::{header, HeaderMap, Uri};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let record = record.clone();
        async move {
            let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
            record.lock().unwrap().push((uri.path().to_string(), agent.to_string()));
            let (kind, body) = match uri.path() {
                "/archive" => ("text/html", r#"<html><body><a class="ep" href="/ep/1">One</a></body></html>"#),
                "/ep/1" => {
                    ("text/html", r#"<html><body><h1>One</h1><a class="dl" href="/one.mp3">mp3</a></body></html>"#)
                }
                "/robots.txt" => ("text/plain", "User-agent: *\nAllow: /\n"),
                _ => ("audio/mpeg", "ID3"),
            };
            ([(header::CONTENT_TYPE, kind)], body)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, seen)
}

/// Recipes built together share per-host limits only: each keeps its own user agent and its
/// own robots.txt choice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipes_built_together_keep_their_own_user_agent_and_robots_choice() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("recipes")).unwrap();
    let mut sites = Vec::new();
    for (name, robots) in [("polite", true), ("own-site", false)] {
        let (base, seen) = recording_site().await;
        let recipe = format!(
            "[feed]\ntitle = \"{name}\"\nlink = \"{base}/\"\ndescription = \"d\"\n[output]\npath = \"public/{name}/feed.xml\"\n\
             [crawl]\nstart = [\"{base}/archive\"]\nepisodes = \"a.ep\"\n[episode]\ntitle = {{ css = \"h1\" }}\n\
             audio = {{ css = \"a.dl\", attr = \"href\" }}\n[http]\nuser_agent = \"agent-of-{name}\"\nrespect_robots = {robots}\n"
        );
        std::fs::write(dir.path().join(format!("recipes/{name}.toml")), recipe).unwrap();
        sites.push((name, robots, seen));
    }
    let out = podfeed_async(dir.path(), &["build", "--recipe", "recipes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for (name, robots, seen) in sites {
        let seen = seen.lock().unwrap().clone();
        assert!(seen.iter().all(|(_, agent)| *agent == format!("agent-of-{name}")), "{name}: {seen:?}");
        assert_eq!(seen.iter().any(|(path, _)| path == "/robots.txt"), robots, "{name}: {seen:?}");
        assert!(seen.iter().any(|(path, _)| path == "/ep/1"), "{name}: {seen:?}");
    }
}

/// A cache another process holds fails its recipe alone: the others are built and reported,
/// in order, and the night exits 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_cache_fails_only_its_recipe() {
    let fx = Fixture::new(20, false).await;
    let dir = fx.dir.path();
    std::fs::create_dir(dir.join("recipes")).unwrap();
    for name in ["a", "b", "c"] {
        let text = fx.recipe_text.replace("public/feed.xml", &format!("public/{name}/feed.xml"));
        std::fs::write(dir.join(format!("recipes/{name}.toml")), text).unwrap();
    }
    std::fs::create_dir_all(dir.join("cache/b")).unwrap();
    let held = podfeed::store::Store::open(&dir.join("cache/b")).unwrap();
    let out = podfeed_async(dir, &["build", "--recipe", "recipes", "--json"]).await;
    drop(held);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let summaries: Vec<serde_json::Value> =
        stdout(&out).lines().map(|line| serde_json::from_str(line).expect("one JSON object per recipe")).collect();
    let errors: Vec<bool> = summaries.iter().map(|s| !s["error"].is_null()).collect();
    assert_eq!(errors, [false, true, false], "{summaries:?}");
    assert!(summaries[1]["recipe"].as_str().unwrap().ends_with("b.toml"));
    assert!(dir.join("public/a/feed.xml").exists() && dir.join("public/c/feed.xml").exists());
    assert!(!dir.join("public/b/feed.xml").exists());
}

#[test]
fn completions_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    let out = podfeed(dir.path(), &["completions", "bash"]);
    assert!(stdout(&out).contains("_podfeed()") && stdout(&out).contains("refresh"), "{}", stdout(&out));
    let out = podfeed(dir.path(), &["man"]);
    assert!(stdout(&out).contains(".TH podfeed 1"), "{}", stdout(&out));
}

/// A recipe can bring its own page template; scraped text is still escaped in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipe_can_bring_its_own_page_template() {
    let fx = Fixture::new(60, false).await;
    std::fs::write(
        fx.dir.path().join("mine.html"),
        "<ul>{% for e in episodes %}<li>{{ e.title }}</li>{% endfor %}</ul>",
    )
    .unwrap();
    fx.write_recipe(&fx.recipe_text.replace("[output]\n", "[output]\ntemplate = \"mine.html\"\n"));
    let out = podfeed_async(fx.dir.path(), &["build", "--recipe", "demo.toml", "--quiet"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = std::fs::read_to_string(fx.dir.path().join("public/index.html")).unwrap();
    assert!(page.starts_with("<ul><li>"), "{page}");
    assert_eq!(page.matches("<li>").count(), 60);
    assert!(page.contains("Q&amp;A: &lt;Tags&gt;, &quot;Quotes&quot;"), "escaped: {page}");
}
