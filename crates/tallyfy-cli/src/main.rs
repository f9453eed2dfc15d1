//! `tallyfy`: manage Tallyfy processes, one-off tasks and tags from a shell.

#![deny(clippy::print_stdout)]

mod cli;
mod demo;
mod files;
mod friendly;
mod human;
mod purge;
mod report;
mod run;
mod session;

use std::process::ExitCode;

use crate::cli::{Cli, Invocation};
use crate::report::{Failure, print_failure, print_success};

fn main() -> ExitCode {
    let cli = cli::parse();
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
    let Cli { global, invocation } = cli;
    let output = global.output;
    let result = match invocation {
        Invocation::Demo => return demo::run(&global).await,
        Invocation::Operation { op, args, subject } => {
            let subject = subject.join(" ");
            async {
                run::confirm(op, &subject, global.yes)?;
                let session = session::Session::open(&global).await?;
                run::execute(&session, op, args, &subject).await
            }
            .await
        }
        Invocation::Launch(launch) => {
            async {
                let session = session::Session::open(&global).await?;
                friendly::launch(&session, launch).await
            }
            .await
        }
        Invocation::Upload(upload) => {
            async {
                let session = session::Session::open(&global).await?;
                files::upload(&session, upload, output).await
            }
            .await
        }
        Invocation::Download(download) => {
            async {
                let session = session::Session::open(&global).await?;
                files::download(&session, download, output).await
            }
            .await
        }
        Invocation::Purge(args) => {
            let subject = format!("every process archived before {}", args.archived_before);
            async {
                let op = tallyfy::Operation::find("permanently_delete_process")
                    .ok_or_else(|| Failure::Usage("the spec has no permanent delete".into()))?;
                if !args.dry_run {
                    run::confirm(op, &subject, global.yes)?;
                }
                let session = session::Session::open(&global).await?;
                purge::run(&session, &args, output).await
            }
            .await
        }
    };
    match result {
        Ok(report) => print_success(output, &report),
        Err(failure) => print_failure(output, &failure),
    }
}
