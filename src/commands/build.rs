//! `podfeed build`

use podfeed::pipeline::Mode;

use super::{report, Session};
use crate::cli::{BuildArgs, EXIT_INTERRUPTED};

pub async fn run(args: BuildArgs, quiet: bool) -> anyhow::Result<u8> {
    let session = Session::open(&args.cache, args.concurrency)?;
    let mode = match (args.full, args.reextract) {
        (_, true) => Mode::Reextract,
        (true, false) => Mode::Full,
        (false, false) => Mode::Incremental,
    };
    let run = session.run(quiet);
    match session.until_interrupted(run.build(mode)).await? {
        Some(summary) => report(&summary, &session.out, args.cache.json, quiet),
        None => Ok(EXIT_INTERRUPTED),
    }
}
