//! `podfeed serve`, and the files that help people use podfeed: completions and the man page.

use std::net::SocketAddr;

use clap::CommandFactory;

use super::{Outcome, UsageError};
use crate::cli::{Cli, ServeArgs};

pub async fn run(args: ServeArgs) -> anyhow::Result<Outcome> {
    if !args.dir.is_dir() {
        return Err(UsageError(format!("{} is not a folder (build a feed first)", args.dir.display())).into());
    }
    let addr = SocketAddr::new(args.bind, args.port);
    eprintln!("podfeed: serving {} at http://{addr}/ (Ctrl-C stops)", args.dir.display());
    tokio::select! {
        result = podfeed::serve::serve(&args.dir, addr) => result?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(Outcome::Done)
}

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<Outcome> {
    clap_complete::generate(shell, &mut Cli::command(), "podfeed", &mut std::io::stdout());
    Ok(Outcome::Done)
}

pub fn man() -> anyhow::Result<Outcome> {
    clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
    Ok(Outcome::Done)
}
