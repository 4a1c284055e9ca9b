//! `podfeed refresh URL...`

use super::{parse_urls, report, Session};
use crate::cli::{RefreshArgs, EXIT_INTERRUPTED};

pub async fn run(args: RefreshArgs, quiet: bool) -> anyhow::Result<u8> {
    let urls = parse_urls(&args.urls)?;
    let session = Session::open(&args.cache, None)?;
    let run = session.run(quiet);
    match session.until_interrupted(run.refresh(urls)).await? {
        Some(summary) => report(&summary, &session.out, args.cache.json, quiet),
        None => Ok(EXIT_INTERRUPTED),
    }
}
