//! `podfeed refresh URL...`

use super::{parse_urls, report, until_interrupted, Session};
use crate::cli::{RefreshArgs, EXIT_INTERRUPTED};

pub async fn run(args: RefreshArgs, quiet: bool) -> anyhow::Result<u8> {
    let urls = parse_urls(&args.urls)?;
    let session = Session::open(&args.recipe, &args.cache)?;
    let run = session.run(quiet, args.force);
    match until_interrupted(std::slice::from_ref(&session), run.refresh(urls)).await? {
        Some(summary) => report(&summary?, &session.out, args.cache.json, quiet),
        None => Ok(EXIT_INTERRUPTED),
    }
}
