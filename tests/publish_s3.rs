//! Publishing to S3-compatible storage (`[output] publish = ["s3://…"]`), against a real S3
//! server on 127.0.0.1 (moto's server mode, which `.ci/run` installs from PyPI), read back with
//! boto3 (tests/s3/bucket.py), through the `podfeed` binary as cron runs it. moto rather than
//! s3s-fs: it implements the conditional writes (`If-Match`, `If-None-Match: *`) and bucket
//! versioning, by which these tests count every write, and it installs in seconds where s3s-fs
//! would be compiled.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{another_machines_recipe, in_ci, parse_feed, stderr, Fixture};

const BUCKET: &str = "feeds";

/// moto's S3 server on a port of its own; stopped when dropped.
struct Server {
    child: Child,
    endpoint: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server with a versioned bucket (each write counted), or `None` where moto is not
/// installed (then, in CI, the test fails).
fn server_on(port: u16) -> Option<Server> {
    let present = Command::new("python3").args(["-c", "import moto.server, boto3"]).output();
    if !present.is_ok_and(|o| o.status.success()) {
        assert!(!in_ci(), "moto is not installed (pip install \"moto[server]\"): .ci/run installs it");
        eprintln!("skipped: moto is not installed");
        return None;
    }
    let child = Command::new("python3")
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto starts");
    let server = Server { child, endpoint: format!("http://127.0.0.1:{port}") };
    // Up once it answers: a bucket made is the proof.
    for _ in 0..200 {
        if bucket_py(&server.endpoint, &["create", BUCKET]).status.success() {
            return Some(server);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("moto did not come up on port {port}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn bucket_py(endpoint: &str, args: &[&str]) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3/bucket.py");
    Command::new("python3").arg(script).arg(endpoint).args(args).output().expect("python3 runs")
}

fn versions(server: &Server, key: &str) -> usize {
    let out = bucket_py(&server.endpoint, &["versions", BUCKET, key]);
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0)
}

/// An object's bytes as an app receives them (decoded), and its headers.
fn get(server: &Server, dir: &Path, key: &str) -> Option<(Vec<u8>, serde_json::Value)> {
    let out_file = dir.join("got");
    let out = bucket_py(&server.endpoint, &["get", BUCKET, key, out_file.to_str().unwrap()]);
    if !out.status.success() {
        return None;
    }
    let headers = serde_json::from_slice(&out.stdout).expect("headers as JSON");
    Some((std::fs::read(out_file).unwrap(), headers))
}

fn put_as_someone_else(server: &Server, dir: &Path, key: &str, body: &str) {
    let file = dir.join("theirs");
    std::fs::write(&file, body).unwrap();
    let out = bucket_py(&server.endpoint, &["put", BUCKET, key, file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The demo recipe publishing to the bucket under `shows/signal/`, its feed split by year.
fn publishing_to(fixture: &Fixture, server: &Server) {
    let target = format!("s3://{BUCKET}/shows/signal/?endpoint={}", server.endpoint);
    let text =
        fixture.recipe_text.replace("[output]\n", &format!("[output]\npublish = [\"{target}\"]\nsplit = \"year\"\n"));
    assert!(text.contains("publish = "));
    fixture.write_recipe(&text);
}

async fn build(fixture: &Fixture, extra: &[&str]) -> std::process::Output {
    build_as(fixture, extra, true).await
}

/// `podfeed build` in the fixture's folder, with the test server's credentials in its
/// environment or none at all.
async fn build_as(fixture: &Fixture, extra: &[&str], credentials: bool) -> std::process::Output {
    let cache: &[&str] = if extra.contains(&"--cache") { &[] } else { &["--cache", "cache"] };
    let recipe: &[&str] = if extra.contains(&"--recipe") { &[] } else { &["--recipe", "demo.toml"] };
    let mut args: Vec<String> = vec!["build".into(), "--quiet".into()];
    args.extend(recipe.iter().chain(cache).chain(extra).map(|s| s.to_string()));
    let dir = fixture.dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_podfeed"));
        command.args(&args).current_dir(dir).env("AWS_REGION", "us-east-1");
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            match credentials {
                true => command.env(name, "test"),
                false => command.env_remove(name),
            };
        }
        command.env_remove("AWS_WEB_IDENTITY_TOKEN_FILE").output().expect("podfeed runs")
    })
    .await
    .unwrap()
}

/// A fixture of `episodes` whose recipe publishes to the server's bucket, built once.
async fn published_once(server: &Server, episodes: u32) -> Fixture {
    let fixture = Fixture::new(episodes, false).await;
    publishing_to(&fixture, server);
    let first = build(&fixture, &[]).await;
    assert!(first.status.success(), "{}", stderr(&first));
    fixture
}

#[tokio::test]
async fn the_bucket_gets_every_file_the_feed_last_a_quiet_night_writes_nothing_and_a_new_episode_writes_again() {
    let Some(server) = server_on(free_port()) else { return };
    let fixture = Fixture::new(30, false).await;
    publishing_to(&fixture, &server);
    let dir = fixture.dir.path();

    let first = build(&fixture, &[]).await;
    assert!(first.status.success(), "{}", stderr(&first));
    let (feed, headers) = get(&server, dir, "shows/signal/feed.xml").expect("the feed is in the bucket");
    assert_eq!(feed, fixture.feed_bytes(), "an app reads the folder's feed");
    assert_eq!(parse_feed(&feed).entries.len(), parse_feed(&fixture.feed_bytes()).entries.len());
    assert_eq!(headers["type"], "application/rss+xml; charset=utf-8");
    assert_eq!(headers["cache"], "max-age=300");
    assert_eq!(headers["encoding"], "gzip", "stored as the folder's feed.xml.gz, served as it is");
    let (page, headers) = get(&server, dir, "shows/signal/index.html").expect("the page is in the bucket");
    assert_eq!(page, std::fs::read(dir.join("public/index.html")).unwrap());
    assert_eq!(headers["type"], "text/html; charset=utf-8");
    let parts: Vec<String> = std::fs::read_dir(dir.join("public"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("feed-") && n.ends_with(".xml"))
        .collect();
    assert!(parts.len() >= 2, "{parts:?}");
    for part in &parts {
        let (bytes, _) = get(&server, dir, &format!("shows/signal/{part}")).expect(part);
        assert_eq!(bytes, std::fs::read(dir.join("public").join(part)).unwrap(), "{part}");
    }
    // The show's artwork beside the feed goes too: the feed's image link must not be dead.
    let (art, headers) = get(&server, dir, "shows/signal/cover.png").expect("the artwork is in the bucket");
    assert_eq!(art, std::fs::read(dir.join("public/cover.png")).unwrap());
    assert_eq!(headers["type"], "image/png");
    let keys = String::from_utf8_lossy(&bucket_py(&server.endpoint, &["keys", BUCKET]).stdout).into_owned();
    assert!(!keys.contains(".gz"), "no .gz objects of their own: {keys}");

    let quiet = build(&fixture, &[]).await;
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert_eq!(versions(&server, "shows/signal/feed.xml"), 1, "a quiet night writes nothing");
    assert_eq!(versions(&server, "shows/signal/index.html"), 1);

    fixture.site.set_latest(fixture.site.latest() + 2);
    let changed = build(&fixture, &[]).await;
    assert!(changed.status.success(), "{}", stderr(&changed));
    assert_eq!(versions(&server, "shows/signal/feed.xml"), 2);
    assert_eq!(get(&server, dir, "shows/signal/feed.xml").unwrap().0, fixture.feed_bytes());
}

#[tokio::test]
async fn a_feed_someone_else_wrote_is_left_alone_unless_forced_and_a_refusal_part_way_keeps_the_old_feed() {
    let Some(server) = server_on(free_port()) else { return };
    let fixture = published_once(&server, 20).await;
    let dir = fixture.dir.path();
    let ours = get(&server, dir, "shows/signal/feed.xml").unwrap().0;

    // Someone replaces the page: the next night that changes it stops there, before the feed.
    put_as_someone_else(&server, dir, "shows/signal/index.html", "<p>their page</p>");
    fixture.site.set_latest(fixture.site.latest() + 1);
    let refused = build(&fixture, &[]).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let said = stderr(&refused);
    assert!(said.contains("published to the folder, but not to s3://feeds/shows/signal/"), "{said}");
    assert!(said.contains("index.html in feeds is not the object podfeed wrote there last"), "{said}");
    assert_eq!(get(&server, dir, "shows/signal/feed.xml").unwrap().0, ours, "the feed there is the old one");
    assert_eq!(versions(&server, "shows/signal/feed.xml"), 1);
    assert_eq!(get(&server, dir, "shows/signal/index.html").unwrap().0, b"<p>their page</p>");

    // The same for the feed itself; --force replaces both.
    put_as_someone_else(&server, dir, "shows/signal/feed.xml", "<rss/>");
    let forced = build(&fixture, &["--force"]).await;
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(get(&server, dir, "shows/signal/feed.xml").unwrap().0, fixture.feed_bytes());
    assert_eq!(
        get(&server, dir, "shows/signal/index.html").unwrap().0,
        std::fs::read(dir.join("public/index.html")).unwrap()
    );
}

#[tokio::test]
async fn of_two_machines_publishing_to_one_place_the_second_is_refused() {
    let Some(server) = server_on(free_port()) else { return };
    let fixture = published_once(&server, 20).await;
    let written = versions(&server, "shows/signal/feed.xml");

    // Another machine: its own cache and folder, the same place in the bucket, a recipe that
    // says another title (the same bytes would be no conflict: they are taken as written).
    let recipe = another_machines_recipe(&fixture);
    let second = build(&fixture, &["--recipe", recipe, "--cache", "cache-2", "--out", "public-2/feed.xml"]).await;
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    assert!(stderr(&second).contains("another machine"), "{}", stderr(&second));
    assert_eq!(versions(&server, "shows/signal/feed.xml"), written, "nothing overwritten");
}

#[tokio::test]
async fn a_night_the_storage_is_down_fails_and_the_next_uploads_what_is_due() {
    let port = free_port();
    let Some(server) = server_on(port) else { return };
    let fixture = Fixture::new(20, false).await;
    publishing_to(&fixture, &server);
    drop(server);

    let down = build(&fixture, &[]).await;
    assert_eq!(down.status.code(), Some(1), "{}", stderr(&down));
    assert!(stderr(&down).contains("published to the folder, but not to s3://"), "{}", stderr(&down));
    assert!(fixture.feed_path().exists(), "the folder has the night's feed");

    // The storage is back (empty); nothing changed on the site, and the next night uploads all.
    let server = server_on(port).expect("moto again");
    let next = build(&fixture, &[]).await;
    assert!(next.status.success(), "{}", stderr(&next));
    assert_eq!(get(&server, fixture.dir.path(), "shows/signal/feed.xml").unwrap().0, fixture.feed_bytes());
}

#[tokio::test]
async fn without_credentials_in_the_environment_the_night_fails_at_once_naming_the_target() {
    let Some(server) = server_on(free_port()) else { return };
    let fixture = Fixture::new(10, false).await;
    publishing_to(&fixture, &server);
    let output = build_as(&fixture, &[], false).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("no credentials: set AWS_ACCESS_KEY_ID"), "{}", stderr(&output));
    assert_eq!(versions(&server, "shows/signal/feed.xml"), 0);
}

#[tokio::test]
async fn with_gzip_and_the_page_turned_off_the_plain_feed_goes_up_and_the_page_goes() {
    let Some(server) = server_on(free_port()) else { return };
    let fixture = published_once(&server, 10).await;
    let text = std::fs::read_to_string(fixture.recipe_path()).unwrap();
    fixture.write_recipe(&text.replace("gzip = true", "gzip = false").replace("html = true", "html = false"));
    fixture.site.set_latest(fixture.site.latest() + 1);
    let night = build(&fixture, &[]).await;
    assert!(night.status.success(), "{}", stderr(&night));
    let (feed, headers) = get(&server, fixture.dir.path(), "shows/signal/feed.xml").unwrap();
    assert_eq!(feed, fixture.feed_bytes());
    assert_eq!(headers["encoding"], serde_json::Value::Null, "stored plain");
    // What podfeed wrote there and no longer makes is taken away.
    assert!(get(&server, fixture.dir.path(), "shows/signal/index.html").is_none());
    assert!(get(&server, fixture.dir.path(), "shows/signal/cover.png").is_some());
}
