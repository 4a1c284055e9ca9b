//! `podfeed refresh URL...`

use super::{parse_urls, until_interrupted, Outcome, RunReport, Session, Ui};
use crate::cli::RefreshArgs;

pub async fn run(args: RefreshArgs, ui: Ui) -> anyhow::Result<Outcome> {
    let urls = parse_urls(&args.urls)?;
    let session = Session::open(&args.recipe, &args.cache)?;
    if !session.recipe.crawl.reads_episode_pages() {
        let why = "this recipe reads its episodes from listing pages and fetches no episode page; \
                   `podfeed build --full` reads every listing page again";
        return Err(super::UsageError(format!("{}: {why}", args.recipe.display())).into());
    }
    let run = session.run(ui, args.force);
    match until_interrupted(|| Ok(session.store.flush()?), run.refresh(urls)).await? {
        Some(outcome) => Ok(Outcome::of_run(RunReport::of(&session.out, outcome), args.cache.json)),
        None => Ok(Outcome::Interrupted),
    }
}
