//! `files upload PATH --process RUN_ID --task TASK_ID` and `files download|view FILE_ID
//! -o FILE`, on top of the generated commands:
//!
//! - an upload reads the task to find its file field (`--field` picks one when it has
//!   several), sends the file as the form Tallyfy wants, then attaches the asset to the
//!   field, the two steps Tallyfy's docs describe;
//! - a download is saved in flat memory, written under a temporary name and renamed
//!   when complete (`-o -` writes standard output);
//! - both show a progress bar on a terminal.

use std::io::IsTerminal;

use clap::{Arg, ArgMatches};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use tallyfy::files::Progress;
use tallyfy::{Args, Execute, LocalFile, Operation, SaveError};

use crate::cli::{Invocation, Output};
use crate::report::{Failure, Report};
use crate::session::Session;

/// An upload to a task's file field.
pub struct Upload {
    pub path: String,
    pub process: String,
    pub task: String,
    pub field: Option<String>,
}

/// A file to save.
pub struct Download {
    pub op: &'static Operation,
    pub file_id: String,
    /// A path, or `-` for standard output.
    pub to: String,
}

/// Adds the friendly arguments to the generated `files` commands.
pub fn extend(command: clap::Command) -> clap::Command {
    let out = || {
        Arg::new("out")
            .short('o')
            .long("out")
            .value_name("FILE")
            .required(true)
            .help("Where to save it (`-` for standard output).")
    };
    command
        .mut_subcommand("upload", |upload| {
            upload
                .mut_arg("body", |body| body.required(false))
                .arg(
                    Arg::new("path")
                        .value_name("PATH")
                        .required_unless_present("body")
                        .help("The file to upload (at most 100 MB)."),
                )
                .arg(
                    Arg::new("process")
                        .long("process")
                        .value_name("RUN_ID")
                        .requires("path")
                        .required_unless_present("body")
                        .help("The process the task belongs to."),
                )
                .arg(
                    Arg::new("task")
                        .long("task")
                        .value_name("TASK_ID")
                        .requires("path")
                        .required_unless_present("body")
                        .help("The task whose file field gets the file."),
                )
                .arg(
                    Arg::new("field")
                        .long("field")
                        .value_name("LABEL_OR_ID")
                        .requires("path")
                        .help("The file field (label or ID), when the task has more than one or lists none."),
                )
        })
        .mut_subcommand("download", |download| download.arg(out()))
        .mut_subcommand("view", |view| view.arg(out()))
}

/// The friendly reading of a `files` command, where one applies.
pub fn read(op: &'static Operation, m: &ArgMatches) -> Option<Invocation> {
    let text = |name: &str| m.try_get_one::<String>(name).ok().flatten().cloned();
    if op.streams {
        return Some(Invocation::Download(Download {
            op,
            file_id: text("file_id")?,
            to: text("out")?,
        }));
    }
    if op.form.is_some() {
        return Some(Invocation::Upload(Upload {
            path: text("path")?,
            process: text("process")?,
            task: text("task")?,
            field: text("field"),
        }));
    }
    None
}

/// Uploads the file, then attaches it to the task's file field.
pub async fn upload(session: &Session, upload: Upload, output: Output) -> Result<Report, Failure> {
    let (client, org) = (&session.client, session.org.as_str());
    let task = client
        .get_process_task()
        .org_id(org)
        .run_id(&upload.process)
        .task_id(&upload.task)
        .with("form_fields")
        .execute()
        .await?
        .data;
    let field = file_field(&task.extra, upload.field.as_deref())?;
    let process = client
        .get_process()
        .org_id(org)
        .run_id(&upload.process)
        .execute()
        .await?
        .data;
    let mut form = tallyfy::types::UploadFile::builder()
        .name(LocalFile::from(&upload.path))
        .subject_id(upload.process.clone())
        .subject_type(tallyfy::types::UploadFileSubjectType::Run)
        .uploaded_from(field.id.clone())
        .source(tallyfy::types::UploadFileSource::Local);
    if let Some(step) = task.step_id.clone() {
        form = form.step_id(step);
    }
    if let Some(checklist) = process.checklist_id.clone() {
        form = form.checklist_id(checklist);
    }
    let bar = progress_bar(output, false);
    let shown = bar.clone();
    let uploaded = client
        .upload_file()
        .org_id(org)
        .body(form)
        .customize()
        .progress(move |p| show(&shown, p))
        .execute()
        .await;
    bar.finish_and_clear();
    let asset = uploaded?.data;
    // The field keeps the files it had: the new one is added to them.
    let mut files: Vec<Value> = task
        .taskdata
        .as_ref()
        .and_then(|data| data.get(&field.id))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    files.push(json!(asset));
    let attached = json!({"taskdata": {field.id.as_str(): files}});
    let body = serde_json::from_value::<tallyfy::types::UpdateProcessTask>(attached)
        .map_err(|e| Failure::Usage(format!("the asset cannot be attached: {e}")))?;
    let attach = client
        .update_process_task()
        .org_id(org)
        .run_id(&upload.process)
        .task_id(&upload.task)
        .body(body)
        .execute()
        .await;
    if let Err(error) = attach {
        eprintln!(
            "note: the file was uploaded as asset {} but not attached to the task",
            asset.id
        );
        return Err(error.into());
    }
    let name = asset
        .filename
        .clone()
        .unwrap_or_else(|| upload.path.clone());
    Ok(Report::ok(
        format!(
            "Uploaded {name} (asset {}) and attached it to the field {:?} of task {}.",
            asset.id, field.label, upload.task
        ),
        json!({"outcome": "uploaded", "asset": asset, "field": field.id, "task": upload.task}),
    ))
}

/// A task's file field.
struct Field {
    id: String,
    label: String,
}

/// The task's file field: the one `wanted` names (label or ID), or its only one; with
/// no fields listed, `wanted` is taken as the field's ID.
fn file_field(
    task: &serde_json::Map<String, Value>,
    wanted: Option<&str>,
) -> Result<Field, Failure> {
    let fields = task
        .get("form_fields")
        .and_then(|f| f.get("data").or(Some(f)))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let files: Vec<Field> = fields
        .iter()
        .filter(|f| f.get("field_type").and_then(Value::as_str) == Some("file"))
        .filter_map(|f| {
            Some(Field {
                id: f.get("id")?.as_str()?.to_owned(),
                label: f
                    .get("label")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            })
        })
        .collect();
    let known = || {
        let labels: Vec<&str> = files.iter().map(|f| f.label.as_str()).collect();
        if labels.is_empty() {
            "it has none".to_owned()
        } else {
            format!("it has: {}", labels.join(", "))
        }
    };
    match wanted {
        // A task that lists no fields: the field is taken at its word.
        Some(wanted) if fields.is_empty() => Ok(Field {
            id: wanted.to_owned(),
            label: wanted.to_owned(),
        }),
        Some(wanted) => files
            .iter()
            .find(|f| f.id == wanted || f.label.eq_ignore_ascii_case(wanted.trim()))
            .map(|f| Field {
                id: f.id.clone(),
                label: f.label.clone(),
            })
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "--field {wanted:?}: the task has no such file field ({})",
                    known()
                ))
            }),
        None if files.len() == 1 => Ok(files
            .into_iter()
            .next()
            .ok_or_else(|| Failure::Usage("the task's file field vanished".into()))?),
        None => Err(Failure::Usage(format!(
            "the task needs --field to say which file field gets the file ({})",
            known()
        ))),
    }
}

/// Saves a file the server answers with, with a progress bar on a terminal.
pub async fn download(
    session: &Session,
    download: Download,
    output: Output,
) -> Result<Report, Failure> {
    let bar = progress_bar(output, download.to == "-");
    let shown = bar.clone();
    let progress = move |p: Progress| show(&shown, p);
    let args = Args::new()
        .with("org_id", session.org.as_str())
        .with("file_id", download.file_id.as_str());
    let saving = session
        .client
        .save(download.op.id, &args)
        .progress(progress);
    let saved = if download.to == "-" {
        let mut stdout = tokio::io::stdout();
        saving.to_writer(&mut stdout).await
    } else {
        saving.to_file(&download.to).await
    };
    bar.finish_and_clear();
    let saved = saved.map_err(|error| match error {
        SaveError::Api(error) => Failure::Api(error),
        other => Failure::Save(error_chain(&other)),
    })?;
    let report = Report::ok(
        format!(
            "Saved {} bytes{} to {}{}.",
            saved.bytes(),
            saved
                .filename()
                .map(|n| format!(" of {n}"))
                .unwrap_or_default(),
            download.to,
            match saved.resumed() {
                0 => String::new(),
                n => format!(" (resumed {n} times)"),
            }
        ),
        json!({
            "outcome": "saved",
            "file_id": download.file_id,
            "to": download.to,
            "bytes": saved.bytes(),
            "filename": saved.filename(),
            "content_type": saved.content_type(),
            "resumed": saved.resumed(),
        }),
    );
    Ok(Report {
        on_stderr: download.to == "-",
        ..report
    })
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Moves `bar` to `p`.
fn show(bar: &ProgressBar, p: Progress) {
    if let Some(total) = p.total {
        bar.set_length(total);
    }
    bar.set_position(p.bytes);
}

/// Bytes and rate on a terminal; nothing when the output is JSON, piped or the file
/// goes to standard output.
fn progress_bar(output: Output, to_stdout: bool) -> ProgressBar {
    if output != Output::Human || to_stdout || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)")
    {
        bar.set_style(style);
    }
    bar
}
