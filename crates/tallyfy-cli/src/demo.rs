//! `tallyfy demo`: the lifecycle of a process against the embedded fake, step by step.

use tallyfy::{Args, Execute, Operation};

use crate::cli::{Global, Output};
use crate::report::{Failure, describe, exit_code, out, print_failure};
use crate::session::Session;

/// Runs the walk-through; returns the exit code.
pub async fn run(global: &Global) -> u8 {
    let global = Global {
        fake: true,
        output: Output::Human,
        ..global.clone()
    };
    let session = match Session::open(&global).await {
        Ok(session) => session,
        Err(failure) => return print_failure(Output::Human, &failure),
    };
    out("The lifecycle of a process, against an embedded fake Tallyfy (no account, no network).");
    out("Each step shows the command that does it and what it prints.\n");

    step(&session, "list_processes", &[], &[("per_page", "3")], "").await;
    let Some(id) = first_active(&session).await else {
        eprintln!("error: the fake has no active process");
        return 1;
    };
    let run = [("run_id", id.as_str())];
    let steps = [
        (
            "permanently_delete_process",
            "A process must be archived before it can be deleted for good:",
        ),
        ("archive_process", ""),
        ("permanently_delete_process", "Archived, it can be deleted:"),
        (
            "permanently_delete_process",
            "Deleting again finds nothing:",
        ),
        ("get_process", ""),
    ];
    for (op, note) in steps {
        step(&session, op, &run, &[], note).await;
    }
    out(
        "Any command runs against the fake with --fake, for example `tallyfy --fake processes list`.",
    );
    out("Against your own organization: set TALLYFY_TOKEN and TALLYFY_ORG instead.");
    0
}

/// Shows the command that calls `id` with these path arguments and flags, and its result.
async fn step(
    session: &Session,
    id: &str,
    path: &[(&str, &str)],
    flags: &[(&str, &str)],
    note: &str,
) {
    let Some(op) = Operation::find(id) else {
        return;
    };
    if !note.is_empty() {
        out(note);
    }
    let mut words = vec![op.group.to_string(), op.command.to_string()];
    words.extend(path.iter().map(|(_, value)| value.to_string()));
    words.extend(
        flags
            .iter()
            .map(|(name, value)| format!("--{} {value}", name.replace('_', "-"))),
    );
    if op.irreversible {
        words.push("--yes".into());
    }
    out(format!("$ tallyfy {}", words.join(" ")));
    let args = path
        .iter()
        .chain(flags)
        .fold(Args::new(), |args, (name, value)| args.with(*name, *value));
    let subject: Vec<&str> = path.iter().map(|(_, value)| *value).collect();
    match crate::run::execute(session, op, args, &subject.join(" ")).await {
        Ok(report) => out(&report.human),
        Err(Failure::Api(error)) => {
            out(format!("error: {}", describe(&error)));
            out(format!(
                "  (kind `{}`, exit code {})",
                error.kind(),
                exit_code(error.kind())
            ));
        }
        Err(Failure::Usage(message) | Failure::Journal(message)) => {
            out(format!("error: {message}"))
        }
    }
    out("");
}

async fn first_active(session: &Session) -> Option<String> {
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
