//! Running one command: the client, the confirmation, the call and its report.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use serde_json::json;
use tallyfy::types::Run;
use tallyfy::{Client, Error, Execute, Operation, RetryPolicy};
use tallyfy_fake::FakeServer;

use crate::cli::{Command, Global, ListArgs, Output, Processes, Tags, Tasks};
use crate::report::{Failure, Report};

/// A client for the organization the command works on.
pub struct Session {
    pub client: Client,
    pub org: String,
    /// The embedded fake, kept alive for as long as the session.
    _fake: Option<FakeServer>,
}

impl Session {
    /// Connects as the flags say, or to an embedded fake with `--fake`.
    pub async fn open(global: &Global) -> Result<Self, Failure> {
        let (fake, base_url, token, org) = if global.fake {
            let fake = start_fake().await?;
            let (base, token, org) = (
                fake.base_url().to_owned(),
                fake.admin_token().to_owned(),
                fake.org_id().to_owned(),
            );
            (Some(fake), base, token, org)
        } else {
            let token = global
                .token
                .clone()
                .ok_or_else(|| missing("--token", "TALLYFY_TOKEN"))?;
            let org = global
                .org
                .clone()
                .ok_or_else(|| missing("--org", "TALLYFY_ORG"))?;
            (None, global.base_url.clone(), token, org)
        };
        let timeout = Duration::try_from_secs_f64(global.timeout)
            .ok()
            .filter(|t| !t.is_zero())
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "--timeout {} is not a positive number of seconds",
                    global.timeout
                ))
            })?;
        let client = Client::builder(token)
            .base_url(base_url)
            .timeout(timeout)
            .retry(RetryPolicy::default().with_max_retries(global.max_retries))
            .build()?;
        Ok(Self {
            client,
            org,
            _fake: fake,
        })
    }
}

async fn start_fake() -> Result<FakeServer, Failure> {
    FakeServer::start()
        .await
        .map_err(|e| Failure::Usage(format!("the embedded fake could not start: {e}")))
}

fn missing(flag: &str, variable: &str) -> Failure {
    Failure::Usage(format!(
        "missing {flag} (or the {variable} environment variable)"
    ))
}

/// The operation a command calls.
pub fn operation_of(command: &Command) -> Option<&'static str> {
    Some(match command {
        Command::Processes(Processes::List(_)) => "list_processes",
        Command::Processes(Processes::Get { .. }) => "get_process",
        Command::Processes(Processes::Archive { .. }) => "archive_process",
        Command::Processes(Processes::Activate { .. }) => "activate_process",
        Command::Processes(Processes::Delete { .. }) => "permanently_delete_process",
        Command::Processes(Processes::Purge(args)) if args.dry_run => "list_processes",
        Command::Processes(Processes::Purge(_)) => "permanently_delete_process",
        Command::Tasks(Tasks::Archive { .. }) => "archive_task",
        Command::Tasks(Tasks::Restore { .. }) => "restore_task",
        Command::Tasks(Tasks::Delete { .. }) => "permanently_delete_task",
        Command::Tags(Tags::Delete { .. }) => "delete_tag",
        Command::Demo => return None,
    })
}

/// Irreversible operations need `--yes`, or a "yes" typed at a terminal.
pub fn confirm(command: &Command, yes: bool) -> Result<(), Failure> {
    let Some(op) = operation_of(command).and_then(Operation::find) else {
        return Ok(());
    };
    if !op.irreversible || yes {
        return Ok(());
    }
    let what = format!(
        "{} ({})",
        op.summary.trim_end_matches('.'),
        subject(command)
    );
    let refused = |why: &str| Failure::Usage(format!("{what}: {why}; nothing was sent"));
    if !std::io::stdin().is_terminal() {
        return Err(refused(
            "irreversible, so it needs --yes when not run from a terminal",
        ));
    }
    eprint!("{what}. This cannot be undone. Type 'yes' to go on: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(refused("not confirmed"))
    }
}

/// What an irreversible command would destroy, in words.
fn subject(command: &Command) -> String {
    match command {
        Command::Processes(Processes::Delete { run_id }) => format!("process {run_id}"),
        Command::Processes(Processes::Purge(args)) => {
            format!("every process archived before {}", args.archived_before)
        }
        Command::Tasks(Tasks::Delete { task_id }) => format!("one-off task {task_id}"),
        Command::Tags(Tags::Delete { tag_id }) => format!("tag {tag_id} and all its associations"),
        _ => String::new(),
    }
}

/// Sends the command's request and describes the result.
pub async fn execute(
    session: &Session,
    command: &Command,
    output: Output,
) -> Result<Report, Failure> {
    let (client, org) = (&session.client, session.org.as_str());
    match command {
        Command::Processes(Processes::List(args)) => list(session, args).await,
        Command::Processes(Processes::Purge(args)) => {
            crate::purge::run(session, args, output).await
        }
        Command::Processes(Processes::Get { run_id }) => {
            let answer = client
                .get_process()
                .org_id(org)
                .run_id(run_id)
                .execute_with_answer()
                .await?;
            Ok(Report::payload(
                describe(&answer.value().data),
                answer.body(),
            ))
        }
        Command::Processes(Processes::Archive { run_id }) => {
            let answer = client
                .archive_process()
                .org_id(org)
                .run_id(run_id)
                .execute_with_answer()
                .await?;
            let run = &answer.value().data;
            let when = run.archived_at.as_deref().unwrap_or("now");
            Ok(Report::payload(
                format!("Archived process {} ({}) at {when}.", run.id, name(run)),
                answer.body(),
            ))
        }
        Command::Processes(Processes::Activate { run_id }) => {
            let answer = client
                .activate_process()
                .org_id(org)
                .run_id(run_id)
                .execute_with_answer()
                .await?;
            let run = &answer.value().data;
            Ok(Report::payload(
                format!("Restored process {} ({}).", run.id, name(run)),
                answer.body(),
            ))
        }
        Command::Processes(Processes::Delete { run_id }) => {
            let result = client
                .permanently_delete_process()
                .org_id(org)
                .run_id(run_id)
                .execute()
                .await;
            deleted("Process", run_id, "permanently_delete_process", result)
        }
        Command::Tasks(Tasks::Archive { task_id }) => {
            client
                .archive_task()
                .org_id(org)
                .task_id(task_id)
                .execute()
                .await?;
            Ok(done("archived", "Archived one-off task", task_id))
        }
        Command::Tasks(Tasks::Restore { task_id }) => {
            client
                .restore_task()
                .org_id(org)
                .task_id(task_id)
                .execute()
                .await?;
            Ok(done("restored", "Restored one-off task", task_id))
        }
        Command::Tasks(Tasks::Delete { task_id }) => {
            let result = client
                .permanently_delete_task()
                .org_id(org)
                .task_id(task_id)
                .execute()
                .await;
            deleted("One-off task", task_id, "permanently_delete_task", result)
        }
        Command::Tags(Tags::Delete { tag_id }) => {
            let result = client
                .delete_tag()
                .org_id(org)
                .tag_id(tag_id)
                .execute()
                .await;
            deleted("Tag", tag_id, "delete_tag", result)
        }
        Command::Demo => Err(Failure::Usage("the demo runs on its own".into())),
    }
}

async fn list(session: &Session, args: &ListArgs) -> Result<Report, Failure> {
    let mut request = session.client.list_processes().org_id(session.org.as_str());
    if let Some(v) = &args.archived {
        request = request.archived(v.as_str());
    }
    if let Some(v) = &args.status {
        request = request.status(v.as_str());
    }
    if let Some(v) = &args.q {
        request = request.q(v.as_str());
    }
    if let Some(v) = &args.sort {
        request = request.sort(v.as_str());
    }
    if let Some(v) = args.page {
        request = request.page(v);
    }
    if let Some(v) = args.per_page {
        request = request.per_page(v);
    }
    let answer = request.execute_with_answer().await?;
    let page = answer.value();
    let mut lines: Vec<String> = page
        .data
        .iter()
        .map(|run| {
            let state = run
                .archived_at
                .as_deref()
                .map_or(run.status.as_deref().unwrap_or("-"), |_| "archived");
            format!("{}  {state:<8}  {}", run.id, name(run))
        })
        .collect();
    let pagination = page.meta.as_ref().and_then(|m| m.pagination.as_ref());
    let (current, pages, total) = pagination
        .map(|p| {
            (
                p.current_page.unwrap_or(1),
                p.total_pages.unwrap_or(1),
                p.total.unwrap_or(0),
            )
        })
        .unwrap_or((1, 1, page.data.len() as u64));
    lines.push(format!("Page {current} of {pages} ({total} processes)."));
    Ok(Report::payload(lines.join("\n"), answer.body()))
}

/// An irreversible delete's report: `already_gone` is success too, said as such.
fn deleted(
    what: &str,
    id: &str,
    operation: &str,
    result: Result<(), Error>,
) -> Result<Report, Failure> {
    match result {
        Ok(()) => Ok(done(
            "deleted",
            &format!("Permanently deleted {}", what.to_lowercase()),
            id,
        )),
        Err(e) if e.is_already_gone() => Ok(Report::ok(
            format!("{what} {id} was already gone: an earlier attempt deleted it."),
            json!({"outcome": "already_gone", "operation": operation, "id": id, "request_id": e.request_id()}),
        )),
        Err(e) => Err(e.into()),
    }
}

fn done(outcome: &str, sentence: &str, id: &str) -> Report {
    Report::ok(
        format!("{sentence} {id}."),
        json!({"outcome": outcome, "id": id}),
    )
}

fn name(run: &Run) -> &str {
    run.name.as_deref().unwrap_or("unnamed")
}

fn describe(run: &Run) -> String {
    let field = |label: &str, value: Option<&str>| format!("{label:<14}{}", value.unwrap_or("-"));
    [
        field("id", Some(&run.id)),
        field("name", run.name.as_deref()),
        field("template", run.checklist_title.as_deref()),
        field("status", run.status.as_deref()),
        field("created at", run.created_at.as_deref()),
        field("last updated", run.last_updated.as_deref()),
        field("archived at", run.archived_at.as_deref()),
    ]
    .join("\n")
}
