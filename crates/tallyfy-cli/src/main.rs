//! `tallyfy`: manage Tallyfy processes, one-off tasks and tags from a shell.

mod cli;
mod demo;
mod purge;
mod report;
mod run;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::report::{print_failure, print_success};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    ExitCode::from(runtime.block_on(run(cli)))
}

async fn run(cli: Cli) -> u8 {
    if let Command::Demo = cli.command {
        return demo::run(&cli.global).await;
    }
    let output = cli.global.output;
    let result = async {
        run::confirm(&cli.command, cli.global.yes)?;
        let session = run::Session::open(&cli.global).await?;
        run::execute(&session, &cli.command, output).await
    }
    .await;
    match result {
        Ok(report) => print_success(output, &report),
        Err(failure) => print_failure(output, &failure),
    }
}
