//! After the folder, the recipe's other places (`[output] publish`): each is given the files the
//! folder holds for this recipe, whether or not this run changed them, so a place that missed a
//! night (down, or refused) catches up on the next.

use std::path::Path;

use super::{PipelineError, Run};
use crate::model::RunSummary;
use crate::publish::git::{self, Branch, Pushed};
use crate::publish::s3::{self, Bucket, Object};
use crate::publish::{PublishError, Upload};
use crate::recipe::PublishTarget;

impl Run<'_> {
    /// Publishes the folder's files to every target, in the recipe's order; the first that
    /// fails ends the run with its reason (the others wait for the next run).
    pub(super) async fn publish_elsewhere(&self, summary: &RunSummary) -> Result<(), PipelineError> {
        let targets = &self.recipe.output.targets;
        if targets.is_empty() {
            return Ok(());
        }
        let out = &self.options.out;
        let feed = out.file_name().and_then(|n| n.to_str()).unwrap_or("feed.xml");
        let files = self.files_to_publish(out, feed)?;
        let message = format!("podfeed: {}, {} items", self.recipe.feed.title, summary.items);
        for target in targets {
            let place = self.store.dir().join("publish").join(state_name(&target.to_string()));
            match target {
                PublishTarget::Git { written, repository, branch, folder } => {
                    let to = [written, repository, branch, folder].map(String::clone);
                    let (files, message) = (files.clone(), message.clone());
                    let force = self.options.force;
                    let push = move || {
                        let [target, repository, branch, folder] = &to;
                        let to = Branch { target, repository, branch, folder };
                        push_to_branch(&to, &place, &files, &message, force)
                    };
                    let pushed = tokio::task::spawn_blocking(push).await;
                    pushed.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
                }
                PublishTarget::S3 { written, bucket, prefix, endpoint, region } => {
                    let to = Bucket {
                        target: written,
                        bucket,
                        prefix,
                        endpoint: endpoint.as_deref(),
                        region: region.as_deref(),
                    };
                    let state = place.with_extension("json");
                    let cache_control = &self.recipe.output.cache_control;
                    let done = s3::publish(&to, &state, &objects_of(&files), cache_control, self.options.force).await?;
                    tracing::info!("{written}: {} objects written, {} removed", done.objects, done.removed);
                }
            }
        }
        Ok(())
    }

    /// The recipe's files in the folder, the feed last: the show's artwork when it is beside the
    /// feed (its link would be dead otherwise), the split feeds, the page, the gzips as the
    /// recipe writes them, and the feed.
    fn files_to_publish(&self, out: &Path, feed: &str) -> Result<Vec<Upload>, PipelineError> {
        let output = &self.recipe.output;
        let mut names: Vec<String> = Vec::new();
        let artwork = self.recipe.feed.image.as_deref().and_then(|image| self.artwork_beside_feed(image));
        names.extend(artwork.and_then(|path| Some(path.file_name()?.to_str()?.to_string())));
        let parts = match self.store.split_files()? {
            Some(split) if split.out == out.display().to_string() => split.names,
            _ => Vec::new(),
        };
        for part in parts {
            names.extend(output.gzip.then(|| format!("{part}.gz")));
            names.push(part);
        }
        names.extend(output.html.then(|| "index.html".to_string()));
        names.extend(output.gzip.then(|| format!("{feed}.gz")));
        names.push(feed.to_string());
        let mut files = Vec::new();
        for name in names {
            let path = out.with_file_name(&name);
            match path.try_exists() {
                Ok(true) => files.push(Upload { path, name }),
                Ok(false) => {}
                Err(source) => return Err(PublishError { path, source }.into()),
            }
        }
        Ok(files)
    }
}

/// The objects for a bucket: each file under its name, stored compressed (`Content-Encoding:
/// gzip`) where the folder has its `.gz`; the `.gz` files themselves are not objects of their own.
fn objects_of(files: &[Upload]) -> Vec<Object> {
    let gzipped = |name: &str| files.iter().find(|f| f.name == format!("{name}.gz"));
    files
        .iter()
        .filter(|file| !file.name.ends_with(".gz"))
        .map(|file| match gzipped(&file.name) {
            Some(gz) => Object { path: gz.path.clone(), name: file.name.clone(), gzip: true },
            None => Object { path: file.path.clone(), name: file.name.clone(), gzip: false },
        })
        .collect()
}

/// One branch's push (git runs as a child process: off the reactor).
fn push_to_branch(
    to: &Branch,
    clone: &Path,
    uploads: &[Upload],
    message: &str,
    force: bool,
) -> Result<(), git::GitError> {
    match git::push(to, clone, uploads, message, force)? {
        Pushed::Unchanged => tracing::info!("{}: already up to date", to.target),
        Pushed::Commit(commit) => tracing::info!("{}: pushed {commit}", to.target),
    }
    Ok(())
}

/// Where in the cache a target keeps its state (a git clone; an S3 target's record of what it
/// wrote, beside it as `.json`): the same for the same target text, on every machine and version.
fn state_name(target: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, target.as_bytes()).simple().to_string()
}
