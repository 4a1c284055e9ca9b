//! Publishing to a branch of a git repository (GitHub Pages serves `gh-pages`), with the `git`
//! program: it speaks every transport (file, SSH with the user's keys and agent, HTTPS with their
//! credential helper), which a library would have to be configured for one by one.
//!
//! The commit is made without a working tree, in a bare clone kept in the cache folder: the
//! branch as fetched, read into an index of our own, our files written over it, one tree, one
//! commit. So the push is all-or-nothing (an app never sees a feed beside parts not yet there),
//! a run that changes nothing makes no commit, and a push that is not a fast-forward (someone
//! pushed meanwhile) is refused by the remote, with nothing lost.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::Upload;

/// What a target is, for [`push`]: the repository, branch and folder, and who to say it is.
pub struct Branch<'a> {
    pub target: &'a str,
    pub repository: &'a str,
    pub branch: &'a str,
    pub folder: &'a str,
}

/// Why a target was not published to; the remote is as it was. It says the reason; whoever
/// reports it names the target.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct GitError {
    pub target: String,
    pub reason: String,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// The branch had these files already: nothing was written.
    Unchanged,
    /// One commit, pushed.
    Commit(String),
}

/// Commits `files` to the branch and pushes, unless the branch has them already. Files this clone
/// pushed before and no longer gets (split feeds of a year that moved) are taken out. A file the
/// branch has must be the one this clone pushed last, unless `force`: another machine or person
/// may be publishing there.
/// A branch that moved meanwhile (another show's folder pushed by another machine) is fetched
/// again and the commit made anew on it, a few times.
pub fn push(to: &Branch, clone: &Path, uploads: &[Upload], message: &str, force: bool) -> Result<Pushed, GitError> {
    let fail = |reason: String| GitError { target: to.target.to_string(), reason };
    let git = Git { dir: clone.to_path_buf() };
    git.open(to.repository).map_err(fail)?;
    let mut attempt = 1;
    loop {
        match push_once(&git, to, uploads, message, force) {
            Err(Attempt::Moved(said)) if attempt < ATTEMPTS => {
                tracing::info!("{}: the branch moved meanwhile ({said}); committing again on it", to.target);
                attempt += 1;
            }
            Err(Attempt::Moved(said)) => {
                return Err(fail(format!("{said}: the branch kept moving ({ATTEMPTS} tries); nothing was overwritten")))
            }
            Err(Attempt::Failed(reason)) => return Err(fail(reason)),
            Ok(pushed) => return Ok(pushed),
        }
    }
}

/// Tries of a push whose branch moved meanwhile.
const ATTEMPTS: usize = 4;

enum Attempt {
    /// The branch is not where it was fetched: try again.
    Moved(String),
    Failed(String),
}

fn push_once(git: &Git, to: &Branch, uploads: &[Upload], message: &str, force: bool) -> Result<Pushed, Attempt> {
    let parent = git.fetch(to.branch).map_err(Attempt::Failed)?;
    let mut blobs = Vec::new();
    for upload in uploads {
        blobs.push((in_folder(to.folder, &upload.name), git.hash_object(&upload.path).map_err(Attempt::Failed)?));
    }
    let pushed = git.pushed();
    let theirs = |path: &str| parent.as_ref().and_then(|commit| git.blob_at(commit, path));
    // A file the branch has is ours to replace if this cache pushed it as it is, or if it is
    // already what we would push (a push whose answer was lost).
    for (path, blob) in blobs.iter().filter(|_| !force) {
        if theirs(path).is_some_and(|theirs| &theirs != blob && pushed.get(path) != Some(&theirs)) {
            return Err(Attempt::Failed(format!(
                "{path} on {} is not what this cache pushed last there (another machine or someone else wrote it): \
                 left as it is; --force replaces it",
                to.branch
            )));
        }
    }
    // What this cache pushed before and no longer makes goes, unless someone replaced it since.
    let gone: Vec<String> = pushed
        .iter()
        .filter(|(path, _)| !blobs.iter().any(|(now, _)| now == *path))
        .filter(|(path, blob)| theirs(path).as_ref() == Some(*blob))
        .map(|(path, _)| path.clone())
        .collect();
    let tree = git.tree_with(parent.as_deref(), &blobs, &gone).map_err(Attempt::Failed)?;
    if parent.as_ref().and_then(|p| git.tree_of(p)).as_ref() == Some(&tree) {
        git.remember_pushed(&blobs).map_err(Attempt::Failed)?;
        return Ok(Pushed::Unchanged);
    }
    let commit = git.commit(&tree, parent.as_deref(), message).map_err(Attempt::Failed)?;
    if let Err(said) = git.push(&commit, to.branch) {
        let now = git.remote_head(to.branch).map_err(Attempt::Failed)?;
        return Err(if now != parent { Attempt::Moved(said) } else { Attempt::Failed(said) });
    }
    git.remember_pushed(&blobs).map_err(Attempt::Failed)?;
    Ok(Pushed::Commit(commit))
}

fn in_folder(folder: &str, name: &str) -> String {
    match folder {
        "" => name.to_string(),
        folder => format!("{folder}/{name}"),
    }
}

/// The bare clone, driven through the `git` program.
struct Git {
    dir: PathBuf,
}

/// The ref the fetched branch is kept under in the clone.
const FETCHED: &str = "refs/podfeed/fetched";

impl Git {
    fn run(&self, args: &[&str], index: bool) -> Result<String, String> {
        let mut command = Command::new("git");
        command.arg("--git-dir").arg(&self.dir).args(args).stdin(Stdio::null());
        if index {
            command.env("GIT_INDEX_FILE", self.dir.join("podfeed.index"));
        }
        // Unattended: never wait at a prompt for a password or a host key; a stalled SSH
        // connection is dropped after a minute.
        command.env("GIT_TERMINAL_PROMPT", "0");
        if std::env::var_os("GIT_SSH_COMMAND").is_none() {
            command.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ServerAliveInterval=15 -o ServerAliveCountMax=4");
        }
        // The commit's author is podfeed unless the operator's environment says otherwise.
        for (name, value) in [("GIT_AUTHOR_NAME", "podfeed"), ("GIT_AUTHOR_EMAIL", "podfeed@localhost")] {
            if std::env::var_os(name).is_none() {
                command.env(name, value);
            }
        }
        for (name, from) in [("GIT_COMMITTER_NAME", "GIT_AUTHOR_NAME"), ("GIT_COMMITTER_EMAIL", "GIT_AUTHOR_EMAIL")] {
            if std::env::var_os(name).is_none() {
                let value = std::env::var_os(from).unwrap_or_else(|| OsString::from(default_identity(from)));
                command.env(name, value);
            }
        }
        let output = command.output().map_err(|e| format!("cannot run git: {e}"))?;
        if !output.status.success() {
            let said = String::from_utf8_lossy(&output.stderr);
            let said = said.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("no message").trim();
            let name = args.iter().find(|a| !a.starts_with('-')).unwrap_or(&"");
            return Err(format!("git {name} failed: {said}"));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// The bare clone, made the first time, pointing at `repository` (which the recipe may
    /// have changed since).
    fn open(&self, repository: &str) -> Result<(), String> {
        if !self.dir.join("HEAD").exists() {
            std::fs::create_dir_all(&self.dir).map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
            self.run(&["init", "--quiet", "--bare"], false)?;
        }
        match self.run(&["remote", "get-url", "origin"], false) {
            Ok(url) if url == repository => Ok(()),
            Ok(_) => self.run(&["remote", "set-url", "origin", repository], false).map(drop),
            Err(_) => self.run(&["remote", "add", "origin", repository], false).map(drop),
        }
    }

    /// The branch's commit on the remote, not fetched; `None` when there is no such branch.
    fn remote_head(&self, branch: &str) -> Result<Option<String>, String> {
        let heads = self.run(&["ls-remote", "--heads", "origin", &format!("refs/heads/{branch}")], false)?;
        Ok(heads.split_whitespace().next().map(str::to_string))
    }

    /// The branch's commit on the remote, fetched; `None` when the remote has no such branch yet.
    fn fetch(&self, branch: &str) -> Result<Option<String>, String> {
        if self.remote_head(branch)?.is_none() {
            return Ok(None);
        }
        self.run(&["fetch", "--quiet", "--no-tags", "origin", &format!("+refs/heads/{branch}:{FETCHED}")], false)?;
        self.run(&["rev-parse", "--verify", "--quiet", &format!("{FETCHED}^{{commit}}")], false).map(Some)
    }

    /// The blob at `path` in a commit or tree, if there is one.
    fn blob_at(&self, tree_ish: &str, path: &str) -> Option<String> {
        self.run(&["rev-parse", "--verify", "--quiet", &format!("{tree_ish}:{path}")], false).ok()
    }

    fn tree_of(&self, commit: &str) -> Option<String> {
        self.run(&["rev-parse", "--verify", "--quiet", &format!("{commit}^{{tree}}")], false).ok()
    }

    /// The parent's tree with `files` written into `folder` and `stale` taken out of it.
    /// A file's blob, written into the clone.
    fn hash_object(&self, file: &Path) -> Result<String, String> {
        let path = file.to_str().ok_or_else(|| format!("{} is not a UTF-8 path", file.display()))?;
        self.run(&["hash-object", "-w", "--", path], false)
    }

    /// The parent's tree with `blobs` at their paths and `gone` taken out.
    fn tree_with(&self, parent: Option<&str>, blobs: &[(String, String)], gone: &[String]) -> Result<String, String> {
        match parent {
            Some(parent) => self.run(&["read-tree", parent], true)?,
            None => self.run(&["read-tree", "--empty"], true)?,
        };
        for path in gone {
            // `update-index` removes only with a work tree: an empty one, never written to.
            let empty = self.dir.join("podfeed-no-work-tree");
            std::fs::create_dir_all(&empty).map_err(|e| format!("cannot create {}: {e}", empty.display()))?;
            let work_tree = format!("--work-tree={}", empty.display());
            self.run(&[&work_tree, "update-index", "--force-remove", "--", path], true)?;
        }
        for (path, blob) in blobs {
            self.run(&["update-index", "--add", "--cacheinfo", &format!("100644,{blob},{path}")], true)?;
        }
        self.run(&["write-tree"], true)
    }

    fn commit(&self, tree: &str, parent: Option<&str>, message: &str) -> Result<String, String> {
        let mut args = vec!["commit-tree", tree, "-m", message];
        if let Some(parent) = parent {
            args.extend(["-p", parent]);
        }
        self.run(&args, false)
    }

    /// Pushes as a fast-forward only: a branch someone moved meanwhile refuses it.
    fn push(&self, commit: &str, branch: &str) -> Result<(), String> {
        let refspec = format!("{commit}:refs/heads/{branch}");
        self.run(&["push", "--quiet", "origin", &refspec], false).map(drop)
    }

    /// Where the clone remembers what it pushed last: a line `BLOB PATH` a file.
    fn remembered(&self) -> PathBuf {
        self.dir.join("podfeed-pushed")
    }

    fn pushed(&self) -> std::collections::HashMap<String, String> {
        let text = std::fs::read_to_string(self.remembered()).unwrap_or_default();
        text.lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(blob, path)| (path.to_string(), blob.to_string()))
            .collect()
    }

    fn remember_pushed(&self, blobs: &[(String, String)]) -> Result<(), String> {
        let text: String = blobs.iter().map(|(path, blob)| format!("{blob} {path}\n")).collect();
        crate::publish::write_atomic(&self.remembered(), text.as_bytes()).map(drop).map_err(|e| e.to_string())
    }
}

fn default_identity(variable: &str) -> &'static str {
    match variable {
        "GIT_AUTHOR_NAME" => "podfeed",
        _ => "podfeed@localhost",
    }
}
