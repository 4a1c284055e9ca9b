//! `podfeed serve`, and the files that help people use podfeed: completions and the man page.

use std::net::SocketAddr;

use clap::CommandFactory;

use super::UsageError;
use crate::cli::{Cli, ServeArgs, EXIT_OK};

pub async fn run(args: ServeArgs) -> anyhow::Result<u8> {
    if !args.dir.is_dir() {
        return Err(UsageError(format!("{} is not a folder (build a feed first)", args.dir.display())).into());
    }
    let addr = SocketAddr::new(args.bind, args.port);
    eprintln!("podfeed: serving {} at http://{addr}/ (Ctrl-C stops)", args.dir.display());
    tokio::select! {
        result = podfeed::serve::serve(&args.dir, addr) => result?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(EXIT_OK)
}

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<u8> {
    clap_complete::generate(shell, &mut Cli::command(), "podfeed", &mut std::io::stdout());
    Ok(EXIT_OK)
}

pub fn man() -> anyhow::Result<u8> {
    clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
    Ok(EXIT_OK)
}
