//! `[output] publish` (and `build --publish`): where a feed goes besides the output folder,
//! which stays the source of truth.

use std::fmt;

use url::Url;

/// A place the output is published to after the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishTarget {
    /// A branch of a git repository, e.g. `gh-pages` for GitHub Pages: the files are committed
    /// there, one commit per run that changes something, and pushed.
    Git {
        /// What the recipe says, to name the target in messages.
        written: String,
        /// The repository's URL as git takes it (`file:///srv/feeds.git`, `ssh://git@host/x.git`).
        repository: String,
        branch: String,
        /// The folder in the branch the files go to; empty for its top.
        folder: String,
    },
    /// A bucket of S3-compatible storage (AWS S3, Cloudflare R2, Backblaze B2, Wasabi, MinIO):
    /// the files are uploaded under the prefix, the main feed last.
    S3 {
        written: String,
        bucket: String,
        /// The keys' beginning, empty or ending in `/`.
        prefix: String,
        /// The storage's address when it is not AWS (`https://ACCOUNT.r2.cloudflarestorage.com`);
        /// else `AWS_ENDPOINT_URL`, else AWS's.
        endpoint: Option<String>,
        /// Else `AWS_REGION` or `AWS_DEFAULT_REGION`, else `us-east-1`.
        region: Option<String>,
    },
}

impl fmt::Display for PublishTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublishTarget::Git { written, .. } | PublishTarget::S3 { written, .. } => f.write_str(written),
        }
    }
}

/// The branch GitHub Pages serves by default.
const DEFAULT_BRANCH: &str = "gh-pages";

impl PublishTarget {
    /// `git+file:///path/repo.git#BRANCH`, `git+ssh://…#BRANCH` or `git+https://…#BRANCH`, the
    /// branch optionally followed by `:FOLDER`, or `s3://BUCKET/PREFIX/?endpoint=…&region=…`; or
    /// why the text is not a target (naming it without anything that looks like a secret).
    pub fn parse(text: &str) -> Result<PublishTarget, String> {
        Self::parse_written(text).map_err(|why| format!("{}: {why}", redacted(text)))
    }

    fn parse_written(text: &str) -> Result<PublishTarget, String> {
        if text.starts_with("s3://") {
            return s3(text);
        }
        let (address, fragment) = text.split_once('#').unwrap_or((text, ""));
        let Some(repository) = address.strip_prefix("git+") else {
            return Err("not a publish target: write s3://, git+file://, git+ssh:// or git+https://".into());
        };
        let url = Url::parse(repository).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(url.scheme(), "file" | "ssh" | "https") {
            return Err(format!("git over {}: is not supported (file, ssh or https)", url.scheme()));
        }
        if url.password().is_some() || (url.scheme() == "https" && !url.username().is_empty()) || url.query().is_some()
        {
            return Err("credentials never go in a recipe (nor a query string in a git URL); let git find them \
                        (an SSH key, a credential helper)"
                .into());
        }
        let (branch, folder) = fragment.split_once(':').unwrap_or((fragment, ""));
        let branch = if branch.is_empty() { DEFAULT_BRANCH } else { branch };
        check_branch(branch).map_err(|why| format!("branch {branch:?} {why}"))?;
        let folder = folder.trim_matches('/');
        if folder.split('/').any(|part| part == ".." || part == "." || part.starts_with(".git")) {
            return Err(format!("the folder {folder:?} must stay inside the branch"));
        }
        Ok(PublishTarget::Git {
            written: text.to_string(),
            repository: repository.to_string(),
            branch: branch.to_string(),
            folder: folder.to_string(),
        })
    }
}

/// `s3://BUCKET/PREFIX/?endpoint=URL&region=REGION`; credentials come from the environment.
fn s3(text: &str) -> Result<PublishTarget, String> {
    let url = Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials never go in a recipe; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into());
    }
    if url.fragment().is_some() {
        return Err("an S3 target has no `#` part (endpoint and region go in the query)".into());
    }
    let bucket = url.host_str().filter(|b| !b.is_empty()).ok_or("names no bucket")?;
    let prefix = url.path().trim_start_matches('/');
    if prefix.split('/').any(|part| part == ".." || part == ".") {
        return Err(format!("the prefix must not climb ({prefix:?})"));
    }
    if prefix.contains('%') || prefix.contains("//") {
        return Err(format!("write the prefix with letters, digits, `-`, `_`, `.` and `/` only ({prefix:?})"));
    }
    let prefix = if prefix.is_empty() || prefix.ends_with('/') { prefix.to_string() } else { format!("{prefix}/") };
    let (mut endpoint, mut region) = (None, None);
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "endpoint" => {
                let address = Url::parse(&value).map_err(|e| format!("the endpoint is not a URL: {e}"))?;
                if !matches!(address.scheme(), "http" | "https")
                    || !address.username().is_empty()
                    || address.password().is_some()
                {
                    return Err("the endpoint must be an http(s) URL without credentials".into());
                }
                endpoint = Some(value.trim_end_matches('/').to_string());
            }
            "region" => region = Some(value.into_owned()),
            key if ["key", "secret", "token", "password"]
                .iter()
                .any(|word| key.to_ascii_lowercase().contains(word)) =>
            {
                return Err(format!(
                    "credentials never go in a recipe ({key}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                ))
            }
            key => return Err(format!("{key:?} is not a setting of an S3 target (endpoint, region)")),
        }
    }
    Ok(PublishTarget::S3 { written: text.to_string(), bucket: bucket.to_string(), prefix, endpoint, region })
}

/// The target as it can be shown: no user name, password, query value or fragment.
fn redacted(text: &str) -> String {
    let address = text.strip_prefix("git+").unwrap_or(text);
    let Ok(mut url) = Url::parse(address) else { return "(a publish target)".into() };
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let keys: Vec<String> = url.query_pairs().map(|(key, _)| format!("{key}=…")).collect();
    url.set_query((!keys.is_empty()).then(|| keys.join("&")).as_deref());
    let shown = if text.starts_with("git+") { format!("git+{url}") } else { url.to_string() };
    shown.replace("%E2%80%A6", "…")
}

/// The names git refuses (see `git check-ref-format`), so a bad one is an error at load.
fn check_branch(branch: &str) -> Result<(), &'static str> {
    let refused = |c: char| c.is_ascii_control() || " ~^:?*[\\".contains(c);
    if branch.starts_with('-') || branch.starts_with('/') || branch.ends_with('/') || branch.ends_with(".lock") {
        return Err("is not a branch name git takes");
    }
    if branch.contains("..") || branch.contains("@{") || branch.contains("//") || branch.chars().any(refused) {
        return Err("is not a branch name git takes");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(text: &str) -> (String, String, String) {
        match PublishTarget::parse(text).unwrap() {
            PublishTarget::Git { repository, branch, folder, .. } => (repository, branch, folder),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_s3_target_names_its_bucket_prefix_endpoint_and_region() {
        let target =
            PublishTarget::parse("s3://feeds/shows/signal?endpoint=http://127.0.0.1:9000/&region=auto").unwrap();
        let PublishTarget::S3 { bucket, prefix, endpoint, region, .. } = target else { panic!("{target:?}") };
        assert_eq!((bucket.as_str(), prefix.as_str()), ("feeds", "shows/signal/"));
        assert_eq!((endpoint.as_deref(), region.as_deref()), (Some("http://127.0.0.1:9000"), Some("auto")));
        let PublishTarget::S3 { prefix, endpoint, .. } = PublishTarget::parse("s3://feeds").unwrap() else { panic!() };
        assert_eq!((prefix.as_str(), endpoint), ("", None));
    }

    #[test]
    fn a_git_target_names_its_repository_branch_and_folder() {
        let (repo, branch, folder) = git("git+file:///srv/feeds.git#main:shows/signal/");
        assert_eq!(
            (repo.as_str(), branch.as_str(), folder.as_str()),
            ("file:///srv/feeds.git", "main", "shows/signal")
        );
        assert_eq!(git("git+ssh://git@github.com/me/feeds.git").1, "gh-pages");
    }

    #[test]
    fn credentials_and_unknown_places_are_refused_with_the_reason() {
        let refused = |text: &str| PublishTarget::parse(text).unwrap_err();
        assert!(refused("git+https://me:token@github.com/me/feeds.git").contains("credentials never go in a recipe"));
        assert!(!refused("git+https://me:token@github.com/me/feeds.git").contains("token@"), "the secret is not shown");
        assert!(!refused("s3://bucket/x/?secret_access_key=hunter2").contains("hunter2"), "the secret is not shown");
        assert!(refused("git+https://github.com/me/feeds.git?private_token=x").contains("credentials"));
        assert!(refused("s3://bucket/my%20show/").contains("prefix"));
        assert!(refused("git+https://token@github.com/me/feeds.git").contains("credentials"));
        assert!(refused("s3://bucket/shows/?secret_access_key=x").contains("credentials never go in a recipe"));
        assert!(refused("s3://KEY:SECRET@bucket/shows/").contains("credentials never go in a recipe"));
        assert!(refused("s3://bucket/shows/?colour=blue").contains("not a setting"));
        assert!(refused("ftp://example.org/").contains("not a publish target"));
        assert!(refused("git+file:///srv/feeds.git#bad..branch").contains("not a branch name"));
        assert!(refused("git+file:///srv/feeds.git#main:../up").contains("inside the branch"));
    }
}
