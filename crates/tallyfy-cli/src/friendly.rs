//! The common path, made friendlier than the generated commands, on top of them:
//!
//! - `processes launch --template ID [--name NAME] [--kickoff "Label=value"]...` reads the
//!   template and keys each kick-off value by its field's timeline ID (Tallyfy silently
//!   drops keys it does not know, so a label that matches no field is an error here);
//! - `tasks complete TASK_ID [--process RUN_ID]` sends the task in the body the API
//!   wants (the generated command takes `--body`).
//!
//! Everything else of these commands (`--body`, the query flags) stays as generated.

use clap::{Arg, ArgAction, ArgMatches};
use serde_json::{Map, Value, json};
use tallyfy::{Args, Execute, Operation};

use crate::report::{Failure, Report};
use crate::session::Session;

/// Adds the friendly flags to the generated commands of `group`.
pub fn extend(group: &str, command: clap::Command) -> clap::Command {
    match group {
        "processes" => command.mut_subcommand("launch", |launch| {
            launch
                .mut_arg("body", |body| body.required(false))
                .arg(
                    Arg::new("template")
                        .long("template")
                        .value_name("ID")
                        .help("Launch from this template, reading its kick-off fields."),
                )
                .arg(
                    Arg::new("name")
                        .long("name")
                        .requires("template")
                        .help("The process's name."),
                )
                .arg(
                    Arg::new("kickoff")
                        .long("kickoff")
                        .value_name("LABEL=VALUE")
                        .action(ArgAction::Append)
                        .requires("template")
                        .help("A kick-off value by its field's label (repeat for each field)."),
                )
        }),
        "tasks" => command.mut_subcommand("complete", |complete| {
            complete.mut_arg("body", |body| body.required(false)).arg(
                Arg::new("task")
                    .value_name("TASK_ID")
                    .required_unless_present("body")
                    .help("The task to complete."),
            )
        }),
        "files" => crate::files::extend(command),
        _ => command,
    }
}

/// A launch by template and labels, to be resolved against the template.
pub struct Launch {
    pub template: String,
    pub name: Option<String>,
    pub kickoff: Vec<String>,
    /// Further fields of the launch, from `--body`.
    pub body: Option<Value>,
}

/// The friendly reading of a command's arguments, where one applies: a launch by
/// template, or the task to complete put in the body.
pub fn read(op: &'static Operation, m: &ArgMatches, args: &mut Args) -> Option<Launch> {
    match op.id {
        "launch_process" => {
            let template = m.get_one::<String>("template")?.clone();
            Some(Launch {
                template,
                name: m.get_one::<String>("name").cloned(),
                kickoff: m
                    .get_many::<String>("kickoff")
                    .map(|values| values.cloned().collect())
                    .unwrap_or_default(),
                body: None,
            })
        }
        "complete_task" | "complete_process_task" => {
            if let Some(task) = m.get_one::<String>("task") {
                args.insert("body", json!({"task_id": task}));
            }
            None
        }
        _ => None,
    }
}

/// Launches from a template: its kick-off values keyed by timeline ID.
pub async fn launch(session: &Session, launch: Launch) -> Result<Report, Failure> {
    let org = session.org.as_str();
    let template = session
        .client
        .get_template()
        .org_id(org)
        .checklist_id(&launch.template)
        .execute()
        .await?
        .data;
    let fields = template.prerun.unwrap_or_default();
    let mut prerun = Map::new();
    for pair in &launch.kickoff {
        let (label, value) = pair
            .split_once('=')
            .ok_or_else(|| Failure::Usage(format!("--kickoff {pair:?}: expected LABEL=VALUE")))?;
        let field = fields
            .iter()
            .find(|f| {
                f.label
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(label.trim()))
                    || f.alias.as_deref() == Some(label.trim())
                    || f.id.as_deref() == Some(label.trim())
            })
            .ok_or_else(|| {
                let known: Vec<&str> = fields.iter().filter_map(|f| f.label.as_deref()).collect();
                Failure::Usage(format!(
                    "--kickoff {label:?}: the template has no such kick-off field (it has: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ))
            })?;
        let Some(id) = field.id.clone() else {
            continue;
        };
        prerun.insert(id, Value::String(value.to_owned()));
    }
    let mut body = match launch.body {
        Some(Value::Object(fields)) => fields,
        _ => Map::new(),
    };
    body.insert(
        "checklist_id".into(),
        Value::String(launch.template.clone()),
    );
    if let Some(name) = launch.name {
        body.insert("name".into(), Value::String(name));
    }
    if !prerun.is_empty() {
        body.insert("prerun".into(), Value::Object(prerun));
    }
    let op = Operation::find("launch_process")
        .ok_or_else(|| Failure::Usage("the spec has no launch".into()))?;
    let args = Args::new().with("body", Value::Object(body));
    crate::run::execute(session, op, args, &launch.template).await
}
