//! `tallyfy demo`: the whole life of a process against the embedded fake, step by step:
//! launch it from a template, attach a file to its first task and download it back,
//! complete its tasks, archive it, delete it for good.

use tallyfy::{Args, Execute, Operation};

use crate::cli::{Global, Output};
use crate::friendly::Launch;
use crate::report::{Failure, Json, Report, describe, exit_code, out, print_failure};
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
    out("The life of a process, against an embedded fake Tallyfy (no account, no network).");
    out("Each step shows the command that does it and what it prints.\n");

    let Some((template, kickoff)) = a_template(&session).await else {
        eprintln!("error: the fake has no template to launch");
        return 1;
    };
    let mut command = format!("processes launch --template {template} --name \"Demo: Acme Corp\"");
    for pair in &kickoff {
        command.push_str(&format!(" --kickoff \"{pair}\""));
    }
    let launch = Launch {
        template,
        name: Some("Demo: Acme Corp".into()),
        kickoff,
        body: None,
    };
    let launched = crate::friendly::launch(&session, launch).await;
    let run = launched.as_ref().ok().and_then(launched_id);
    show(
        "Launch a process from a template, its kick-off form filled in by label:",
        &command,
        launched,
    );
    let Some(run) = run else {
        eprintln!("error: the launch did not answer with a process");
        return 1;
    };
    let on_run = [("run_id", run.as_str())];
    step(
        &session,
        "list_process_tasks",
        &on_run,
        &[],
        "Its tasks, one per step:",
    )
    .await;
    let tasks = tasks_of(&session, &run).await;
    if let Some(first) = tasks.first() {
        files(&session, &run, first).await;
    }
    for task in tasks {
        let complete = Args::new()
            .with("run_id", run.as_str())
            .with("body", serde_json::json!({"task_id": task}));
        let op = Operation::find("complete_process_task");
        if let Some(op) = op {
            show(
                "",
                &format!("tasks complete {task} --process {run}"),
                crate::run::execute(&session, op, complete, &task).await,
            );
        }
    }
    step(
        &session,
        "get_process",
        &on_run,
        &[],
        "With its last task done, the process is complete:",
    )
    .await;
    step(
        &session,
        "permanently_delete_process",
        &on_run,
        &[],
        "A process must be archived before it can be deleted for good:",
    )
    .await;
    step(&session, "archive_process", &on_run, &[], "").await;
    step(
        &session,
        "permanently_delete_process",
        &on_run,
        &[],
        "Archived, it can be deleted:",
    )
    .await;
    step(
        &session,
        "permanently_delete_process",
        &on_run,
        &[],
        "Deleting again finds nothing:",
    )
    .await;
    out(
        "Any command runs against the fake with --fake, for example `tallyfy --fake processes list`.",
    );
    out("Against your own organization: set TALLYFY_TOKEN and TALLYFY_ORG instead.");
    0
}

/// Uploads a small file to `task`'s file field and downloads it back, in a temporary
/// folder that is shown as the current one.
async fn files(session: &Session, run: &str, task: &str) {
    let dir = std::env::temp_dir().join(format!("tallyfy-demo-{}", std::process::id()));
    let name = "acme-contract.pdf";
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join(name), b"%PDF-1.4\n% Acme Corp: the contract\n"));
    if let Err(error) = written {
        eprintln!("error: the demo's file could not be written: {error}");
        return;
    }
    let local = |file: &str| dir.join(file).display().to_string();
    let shown = |result: Result<Report, Failure>| {
        let prefix = format!("{}{}", dir.display(), std::path::MAIN_SEPARATOR);
        result.map(|report| Report {
            human: report.human.replace(&prefix, ""),
            ..report
        })
    };
    let field = "capture_1";
    let upload = crate::files::Upload {
        path: local(name),
        process: run.to_owned(),
        task: task.to_owned(),
        field: Some(field.into()),
    };
    let uploaded = crate::files::upload(session, upload, Output::Json).await;
    let asset = uploaded
        .as_ref()
        .ok()
        .and_then(|report| match &report.json {
            Json::Made(made) => made["asset"]["id"].as_str().map(str::to_owned),
            Json::Payload(_) => None,
        });
    show(
        "Attach a file to the first task's file field (upload, then attach):",
        &format!("files upload {name} --process {run} --task {task} --field {field}"),
        shown(uploaded),
    );
    if let (Some(asset), Some(op)) = (asset, Operation::find("download_file")) {
        let download = crate::files::Download {
            op,
            file_id: asset.clone(),
            to: local("copy.pdf"),
        };
        show(
            "And download it back, written as it arrives:",
            &format!("files download {asset} -o copy.pdf"),
            shown(crate::files::download(session, download, Output::Json).await),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
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
    let mut words = vec![op.group.to_string(), op.command.to_string()];
    for (name, value) in path {
        match op.params.iter().find(|p| p.name == *name) {
            Some(param) if crate::cli::is_flag(op, name) => {
                words.push(format!("--{} {value}", param.flag))
            }
            _ => words.push(value.to_string()),
        }
    }
    words.extend(
        flags
            .iter()
            .map(|(name, value)| format!("--{} {value}", name.replace('_', "-"))),
    );
    if op.irreversible {
        words.push("--yes".into());
    }
    let args = path
        .iter()
        .chain(flags)
        .fold(Args::new(), |args, (name, value)| args.with(*name, *value));
    let subject: Vec<&str> = path.iter().map(|(_, value)| *value).collect();
    let result = crate::run::execute(session, op, args, &subject.join(" ")).await;
    show(note, &words.join(" "), result);
}

/// Prints a step: its note, the command, and what the command prints.
fn show(note: &str, command: &str, result: Result<Report, Failure>) {
    if !note.is_empty() {
        out(note);
    }
    out(format!("$ tallyfy {command}"));
    match result {
        Ok(report) => out(&report.human),
        Err(Failure::Api(error)) => {
            out(format!("error: {}", describe(&error)));
            out(format!(
                "  (kind `{}`, exit code {})",
                error.kind(),
                exit_code(error.kind())
            ));
        }
        Err(Failure::Usage(message) | Failure::Journal(message) | Failure::Save(message)) => {
            out(format!("error: {message}"))
        }
    }
    out("");
}

/// The first template that can be launched, with a value for each kick-off field.
async fn a_template(session: &Session) -> Option<(String, Vec<String>)> {
    let org = session.org.as_str();
    let page = session
        .client
        .list_templates()
        .org_id(org)
        .execute()
        .await
        .ok()?;
    let id = page.data.into_iter().next()?.id;
    let template = session
        .client
        .get_template()
        .org_id(org)
        .checklist_id(&id)
        .execute()
        .await
        .ok()?
        .data;
    let kickoff = template
        .prerun
        .unwrap_or_default()
        .into_iter()
        .filter_map(|field| {
            let value = match field.field_type.as_deref() {
                Some("date") => "2026-01-15T09:00:00.000Z",
                _ => "Acme Corp",
            };
            Some(format!("{}={value}", field.label?))
        })
        .collect();
    Some((id, kickoff))
}

/// The ID of the process a launch answered with.
fn launched_id(report: &Report) -> Option<String> {
    let Json::Payload(body) = &report.json else {
        return None;
    };
    let answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    answer["data"]["id"].as_str().map(str::to_owned)
}

/// The IDs of a process's tasks, in step order.
async fn tasks_of(session: &Session, run: &str) -> Vec<String> {
    session
        .client
        .list_process_tasks()
        .org_id(session.org.as_str())
        .run_id(run)
        .execute()
        .await
        .map(|page| page.data.into_iter().map(|task| task.id).collect())
        .unwrap_or_default()
}
