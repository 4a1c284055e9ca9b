//! Publishing to a git branch (`[output] publish = ["git+file://…#gh-pages"]`), against a real
//! bare repository on disk and the demo site, through the `podfeed` binary as cron runs it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{another_machines_recipe, parse_feed, podfeed_async, stderr, Fixture};

/// `git` in `dir`, its output; panics with git's words when it fails.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "someone")
        .env("GIT_AUTHOR_EMAIL", "someone@example.org")
        .env("GIT_COMMITTER_NAME", "someone")
        .env("GIT_COMMITTER_EMAIL", "someone@example.org")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A bare repository, as a GitHub Pages repository would be, and its `file://` URL.
fn bare_repository(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("pages.git");
    git(dir, &["init", "--quiet", "--bare", path.to_str().unwrap()]);
    let url = format!("git+file://{}#gh-pages", path.display());
    (path, url)
}

/// The branch's file, as a GitHub Pages site would serve it.
fn served(repo: &Path, name: &str) -> Option<Vec<u8>> {
    let output = Command::new("git")
        .args(["--git-dir", repo.to_str().unwrap(), "show", &format!("gh-pages:{name}")])
        .output()
        .expect("git runs");
    output.status.success().then_some(output.stdout)
}

fn commits(repo: &Path) -> usize {
    let output = Command::new("git")
        .args(["--git-dir", repo.to_str().unwrap(), "rev-list", "--count", "gh-pages"])
        .output()
        .expect("git runs");
    String::from_utf8_lossy(&output.stdout).trim().parse().unwrap_or(0)
}

/// The demo recipe publishing to `target`, its feed split by year.
fn publishing_to(fixture: &Fixture, target: &str) {
    let text =
        fixture.recipe_text.replace("[output]\n", &format!("[output]\npublish = [\"{target}\"]\nsplit = \"year\"\n"));
    assert!(text.contains("publish = "), "the demo recipe has an [output] table");
    fixture.write_recipe(&text);
}

/// A fixture of `episodes` whose recipe publishes to a new bare repository, built once; the
/// repository.
async fn published_once(episodes: u32) -> (Fixture, PathBuf) {
    let fixture = Fixture::new(episodes, false).await;
    let (repo, target) = bare_repository(fixture.dir.path());
    publishing_to(&fixture, &target);
    let first = build(&fixture, &[]).await;
    assert!(first.status.success(), "{}", stderr(&first));
    (fixture, repo)
}

async fn build(fixture: &Fixture, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["build", "--recipe", "demo.toml", "--cache", "cache", "--quiet"];
    args.extend_from_slice(extra);
    podfeed_async(fixture.dir.path(), &args).await
}

fn items(feed: &[u8]) -> usize {
    parse_feed(feed).entries.len()
}

#[tokio::test]
async fn the_branch_gets_every_file_once_a_quiet_night_pushes_nothing_and_a_new_episode_one_commit() {
    let fixture = Fixture::new(40, false).await;
    let (repo, target) = bare_repository(fixture.dir.path());
    publishing_to(&fixture, &target);

    let first = build(&fixture, &[]).await;
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(commits(&repo), 1);
    // What a podcast app fetches from the Pages site is the feed the folder has, byte for byte,
    // with its gzip, its page and every split feed beside it.
    let public = fixture.dir.path().join("public");
    let local = fixture.feed_bytes();
    assert_eq!(served(&repo, "feed.xml").as_deref(), Some(&local[..]));
    let before = items(&local);
    assert!(before > 30, "{before} items");
    let mut names: Vec<String> = std::fs::read_dir(&public)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.iter().filter(|n| n.starts_with("feed-")).count() >= 2, "split feeds: {names:?}");
    assert!(names.contains(&"index.html".to_string()) && names.contains(&"feed.xml.gz".to_string()));
    for name in &names {
        let on_disk = std::fs::read(public.join(name)).unwrap();
        assert_eq!(served(&repo, name).as_deref(), Some(&on_disk[..]), "{name}");
    }

    // A quiet night: nothing new on the site, nothing new in the branch.
    let quiet = build(&fixture, &[]).await;
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert_eq!(commits(&repo), 1, "a quiet night makes no commit");

    // Three new episodes: one commit, and the branch's feed has them.
    fixture.site.set_latest(fixture.site.latest() + 3);
    let changed = build(&fixture, &[]).await;
    assert!(changed.status.success(), "{}", stderr(&changed));
    assert_eq!(commits(&repo), 2);
    assert_eq!(served(&repo, "feed.xml").unwrap(), fixture.feed_bytes());
    assert!(items(&fixture.feed_bytes()) > before, "the new episodes are in the branch's feed");
}

#[tokio::test]
async fn a_feed_someone_else_pushed_is_left_alone_unless_forced() {
    let (fixture, repo) = published_once(20).await;

    // Someone replaces the feed on the branch by hand.
    let work = fixture.dir.path().join("work");
    git(fixture.dir.path(), &["clone", "--quiet", "--branch", "gh-pages", repo.to_str().unwrap(), "work"]);
    std::fs::write(work.join("feed.xml"), "<rss version=\"2.0\"><channel><title>Theirs</title></channel></rss>")
        .unwrap();
    git(&work, &["commit", "--quiet", "-am", "a feed of their own"]);
    git(&work, &["push", "--quiet", "origin", "gh-pages"]);
    let theirs = served(&repo, "feed.xml").unwrap();

    let refused = build(&fixture, &[]).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("feed.xml on gh-pages is not what this cache pushed last there"),
        "{}",
        stderr(&refused)
    );
    let target = format!("git+file://{}#gh-pages", repo.display());
    assert!(stderr(&refused).contains(&target), "the target is named: {}", stderr(&refused));
    assert_eq!(served(&repo, "feed.xml").unwrap(), theirs, "their feed is left as it is");

    let forced = build(&fixture, &["--force"]).await;
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(served(&repo, "feed.xml").unwrap(), fixture.feed_bytes());
}

#[tokio::test]
async fn of_two_machines_publishing_to_one_branch_the_second_is_refused_and_nothing_is_lost() {
    let (fixture, repo) = published_once(20).await;
    let first = served(&repo, "feed.xml").unwrap();

    // A second machine: a cache (and a clone) of its own, and a recipe that says another title.
    let recipe = another_machines_recipe(&fixture);
    let second = podfeed_async(
        fixture.dir.path(),
        &["build", "--recipe", recipe, "--cache", "cache-2", "--out", "public-2/feed.xml", "--quiet"],
    )
    .await;
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    assert!(stderr(&second).contains("another machine or someone else"), "{}", stderr(&second));
    assert_eq!(served(&repo, "feed.xml").unwrap(), first);
    assert_eq!(commits(&repo), 1);
}

#[tokio::test]
async fn a_target_that_is_down_fails_the_night_and_the_next_good_night_catches_up() {
    let fixture = Fixture::new(20, false).await;
    let missing = fixture.dir.path().join("not-yet.git");
    let target = format!("git+file://{}#gh-pages", missing.display());
    publishing_to(&fixture, &target);

    let down = build(&fixture, &[]).await;
    assert_eq!(down.status.code(), Some(1), "{}", stderr(&down));
    assert!(stderr(&down).contains("published to the folder, but not to"), "{}", stderr(&down));
    // The folder, the source of truth, has the night's feed all the same.
    assert!(items(&fixture.feed_bytes()) > 15);

    // The repository exists the next night; nothing changed on the site, and still the branch
    // gets what it missed.
    git(fixture.dir.path(), &["init", "--quiet", "--bare", missing.to_str().unwrap()]);
    let next = build(&fixture, &[]).await;
    assert!(next.status.success(), "{}", stderr(&next));
    assert_eq!(served(&missing, "feed.xml").unwrap(), fixture.feed_bytes());
}

#[tokio::test]
async fn a_recipe_with_credentials_in_its_target_is_refused_before_anything_is_fetched() {
    let fixture = Fixture::new(5, false).await;
    publishing_to(&fixture, "git+https://me:secret@example.org/feeds.git#gh-pages");
    let refused = build(&fixture, &[]).await;
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let said = stderr(&refused);
    assert!(said.contains("output.publish[0]") && said.contains("credentials never go in a recipe"), "{said}");
    assert_eq!(fixture.site.stats().total(), 0, "nothing was fetched");
}

#[tokio::test]
async fn shows_built_in_one_night_share_a_branch_each_in_its_folder() {
    let fixture = Fixture::new(20, false).await;
    let (repo, _) = bare_repository(fixture.dir.path());
    let recipes = fixture.dir.path().join("recipes");
    std::fs::create_dir_all(&recipes).unwrap();
    for show in ["signal", "noise"] {
        let text =
            fixture.recipe_text.replace("path = \"public/feed.xml\"", &format!("path = \"public/{show}/feed.xml\""));
        let text = text.replace(
            "[output]\n",
            &format!("[output]\npublish = [\"git+file://{}#gh-pages:shows/{show}\"]\n", repo.display()),
        );
        std::fs::write(recipes.join(format!("{show}.toml")), text).unwrap();
        std::fs::create_dir_all(fixture.dir.path().join("public").join(show)).unwrap();
        std::fs::write(fixture.dir.path().join(format!("public/{show}/cover.png")), podfeed_demo::cover_png()).unwrap();
    }
    // Both run at once, and their pushes race for the branch: the one that loses commits again
    // on the other's.
    let night = podfeed_async(fixture.dir.path(), &["build", "--recipe", "recipes", "--quiet"]).await;
    assert!(night.status.success(), "{}", stderr(&night));
    for show in ["signal", "noise"] {
        let local = std::fs::read(fixture.dir.path().join(format!("public/{show}/feed.xml"))).unwrap();
        assert_eq!(served(&repo, &format!("shows/{show}/feed.xml")), Some(local), "{show}");
    }
    assert_eq!(commits(&repo), 2, "one commit a show");
}

/// A hook that, on the first push it sees, moves the branch itself (as another machine
/// publishing another show would, a moment earlier) and turns the push away.
const MOVES_THE_BRANCH_ONCE: &str = r#"#!/bin/sh
[ -e moved-once ] && exit 0
touch moved-once
unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
export GIT_INDEX_FILE="$PWD/other.index" GIT_AUTHOR_NAME=other GIT_AUTHOR_EMAIL=other@example.org
export GIT_COMMITTER_NAME=other GIT_COMMITTER_EMAIL=other@example.org
head=$(git rev-parse refs/heads/gh-pages)
git read-tree "$head"
blob=$(echo "another show" | git hash-object -w --stdin)
git update-index --add --cacheinfo "100644,$blob,shows/other/feed.xml"
commit=$(git commit-tree "$(git write-tree)" -p "$head" -m "another machine's show")
git update-ref refs/heads/gh-pages "$commit" "$head"
exit 1
"#;

#[tokio::test]
async fn a_branch_another_machine_moved_meanwhile_gets_the_commit_made_again_on_top() {
    let (fixture, repo) = published_once(20).await;

    let hook = repo.join("hooks/pre-receive");
    std::fs::write(&hook, MOVES_THE_BRANCH_ONCE).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    fixture.site.set_latest(fixture.site.latest() + 2);
    let night = build(&fixture, &[]).await;
    assert!(night.status.success(), "{}", stderr(&night));
    assert!(repo.join("moved-once").exists(), "the first push was turned away");
    assert_eq!(served(&repo, "shows/other/feed.xml").as_deref(), Some(&b"another show\n"[..]), "theirs is kept");
    assert_eq!(served(&repo, "feed.xml").unwrap(), fixture.feed_bytes(), "ours is on top of it");
    assert_eq!(commits(&repo), 3);
}

#[tokio::test]
async fn files_someone_else_put_on_a_branch_without_a_feed_are_left_alone() {
    let fixture = Fixture::new(10, false).await;
    let (repo, target) = bare_repository(fixture.dir.path());
    // A Pages site already there, with a page of its own and no feed.
    let work = fixture.dir.path().join("work");
    git(fixture.dir.path(), &["init", "--quiet", "--initial-branch", "gh-pages", "work"]);
    std::fs::write(work.join("index.html"), "<p>my site</p>").unwrap();
    git(&work, &["add", "index.html"]);
    git(&work, &["commit", "--quiet", "-m", "my site"]);
    git(&work, &["push", "--quiet", repo.to_str().unwrap(), "gh-pages"]);
    publishing_to(&fixture, &target);

    let refused = build(&fixture, &[]).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("index.html on gh-pages is not what this cache pushed last"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(served(&repo, "index.html").as_deref(), Some(&b"<p>my site</p>"[..]));
    assert_eq!(served(&repo, "feed.xml"), None, "nothing of the run went out");
}

#[tokio::test]
async fn a_feed_the_guards_refuse_goes_nowhere() {
    let (fixture, repo) = published_once(40).await;
    let published = served(&repo, "feed.xml").unwrap();

    // A recipe broken overnight (its title rule finds nothing any more): the guards refuse its
    // feed, and neither the folder nor the branch gets it.
    let text = std::fs::read_to_string(fixture.recipe_path()).unwrap();
    let broken = text.replace(r#"title = { css = "h1.episode-title" }"#, r#"title = { css = "h1.gone" }"#);
    assert_ne!(broken, text);
    fixture.write_recipe(&broken);
    let refused = build(&fixture, &["--reextract"]).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("not published"), "{}", stderr(&refused));
    assert_eq!(served(&repo, "feed.xml").unwrap(), published);
    assert_eq!(commits(&repo), 1);
}

#[tokio::test]
async fn a_file_no_longer_made_leaves_the_branch() {
    let (fixture, repo) = published_once(20).await;
    assert!(served(&repo, "index.html").is_some());
    let text = std::fs::read_to_string(fixture.recipe_path()).unwrap();
    fixture.write_recipe(&text.replace("html = true", "html = false"));
    let night = build(&fixture, &[]).await;
    assert!(night.status.success(), "{}", stderr(&night));
    assert_eq!(served(&repo, "index.html"), None, "the page podfeed pushed and no longer makes is gone");
    assert_eq!(served(&repo, "feed.xml").unwrap(), fixture.feed_bytes());
}
