//! `tallyfy demo`: the lifecycle of a process against the embedded fake, step by step.

use crate::cli::{Command, Global, ListArgs, Output, Processes};
use crate::report::{Failure, exit_code};
use crate::run::{Session, execute};

/// Runs the walk-through; returns the exit code.
pub async fn run(global: &Global) -> u8 {
    let global = Global {
        fake: true,
        output: Output::Human,
        ..global.clone()
    };
    let session = match Session::open(&global).await {
        Ok(session) => session,
        Err(failure) => return crate::report::print_failure(Output::Human, &failure),
    };
    println!(
        "The lifecycle of a process, against an embedded fake Tallyfy (no account, no network)."
    );
    println!("Each step shows the command that does it and what it prints.\n");

    let listing = ListArgs {
        per_page: std::num::NonZeroU32::new(3),
        ..ListArgs::default()
    };
    step(
        &session,
        "processes list --per-page 3",
        Command::Processes(Processes::List(listing)),
        "",
    )
    .await;
    let Some(id) = first_active(&session).await else {
        eprintln!("error: the fake has no active process");
        return 1;
    };
    let delete = || Command::Processes(Processes::Delete { run_id: id.clone() });
    step(
        &session,
        &format!("processes delete {id} --yes"),
        delete(),
        "A process must be archived before it can be deleted for good:",
    )
    .await;
    step(
        &session,
        &format!("processes archive {id}"),
        Command::Processes(Processes::Archive { run_id: id.clone() }),
        "",
    )
    .await;
    step(
        &session,
        &format!("processes delete {id} --yes"),
        delete(),
        "Archived, it can be deleted:",
    )
    .await;
    step(
        &session,
        &format!("processes delete {id} --yes"),
        delete(),
        "Deleting again finds nothing:",
    )
    .await;
    step(
        &session,
        &format!("processes get {id}"),
        Command::Processes(Processes::Get { run_id: id.clone() }),
        "",
    )
    .await;
    println!(
        "Any command runs against the fake with --fake, for example `tallyfy --fake processes list`."
    );
    println!("Against your own organization: set TALLYFY_TOKEN and TALLYFY_ORG instead.");
    0
}

async fn step(session: &Session, command: &str, parsed: Command, note: &str) {
    if !note.is_empty() {
        println!("{note}");
    }
    println!("$ tallyfy {command}");
    match execute(session, &parsed, Output::Human).await {
        Ok(report) => println!("{}", report.human),
        Err(Failure::Api(error)) => {
            println!("error: {}", crate::report::describe(&error));
            println!(
                "  (kind `{}`, exit code {})",
                error.kind(),
                exit_code(error.kind())
            );
        }
        Err(Failure::Usage(message)) => println!("error: {message}"),
    }
    println!();
}

async fn first_active(session: &Session) -> Option<String> {
    use tallyfy::Execute;
    let page = session
        .client
        .list_processes()
        .org_id(session.org.as_str())
        .execute()
        .await
        .ok()?;
    page.data
        .into_iter()
        .find(|run| run.archived_at.is_none())
        .map(|run| run.id)
}
