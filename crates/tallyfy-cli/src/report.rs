//! What the command prints, and the exit codes.

use std::io::Write;

use serde_json::{Value, json};
use tallyfy::{Error, ErrorKind};

use crate::cli::Output;

/// A command's result: a line for people, the JSON for machines, the exit code.
pub struct Report {
    pub human: String,
    pub json: Json,
    pub exit: u8,
    /// Printed on stderr: standard output carried the result itself (a file).
    pub on_stderr: bool,
}

/// What `--output json` prints.
pub enum Json {
    /// A value the command made.
    Made(Value),
    /// The server's payload, exactly as it came: every field, in its order.
    Payload(Vec<u8>),
}

impl Report {
    /// A successful result (exit code 0).
    pub fn ok(human: String, json: Value) -> Self {
        Self {
            human,
            json: Json::Made(json),
            exit: 0,
            on_stderr: false,
        }
    }

    /// A successful result whose JSON is the server's payload as it came.
    pub fn payload(human: String, body: &[u8]) -> Self {
        Self {
            human,
            json: Json::Payload(body.trim_ascii().to_vec()),
            exit: 0,
            on_stderr: false,
        }
    }
}

/// Why a command failed.
pub enum Failure {
    /// Refused before anything was sent: a missing flag, a declined confirmation.
    Usage(String),
    /// The SDK's error.
    Api(Error),
    /// The purge journal could not be read or written; the message names the file.
    Journal(String),
    /// A download could not be written where it was asked to go; the message says where.
    Save(String),
}

impl Failure {
    /// The documented exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Api(error) => exit_code(error.kind()),
            Failure::Journal(_) | Failure::Save(_) => 1,
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Api(error)
    }
}

/// The documented exit code of an error kind: the one place that maps them.
pub fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput => 2,
        ErrorKind::Unauthorized | ErrorKind::Forbidden => 3,
        ErrorKind::NotFound => 5,
        ErrorKind::RateLimited => 6,
        ErrorKind::Unprocessable | ErrorKind::ClientError => 7,
        _ => 1,
    }
}

/// The error as one line for people: what failed and why, what the server said, the
/// retry advice, the attempts and the request ID, each as a sentence.
pub fn describe(error: &Error) -> String {
    let mut line = format!("{error}: {}", sentence(error.explanation()));
    if let Some(message) = error.message() {
        line += &format!(" Server said: {}", sentence(message));
    }
    if let Some(code) = error.code() {
        line += &format!(" Code: {code}.");
    }
    for (field, messages) in error.field_errors() {
        line += &format!(" {field}: {}", sentence(&messages.join(" ")));
    }
    if let Some(wait) = error.retry_after() {
        line += &format!(" Retry after {}s.", wait.as_secs());
    }
    if error.attempts() > 1 {
        line += &format!(" Gave up after {} attempts.", error.attempts());
    }
    if let Some(id) = error.request_id() {
        line += &format!(" Request id: {id}.");
    }
    line
}

/// `text` ending with a full stop (unless it already ends a sentence).
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '!', '?']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

/// The error as the JSON object printed with `--output json`.
pub fn error_json(error: &Error) -> Value {
    json!({
        "kind": error.kind(),
        "status": error.status().map(|s| s.as_u16()),
        "message": error.message().unwrap_or(error.explanation()),
        "explanation": error.explanation(),
        "code": error.code(),
        "request_id": error.request_id(),
        "operation": error.operation(),
        "attempts": error.attempts(),
        "retry_after_seconds": error.retry_after().map(|w| w.as_secs()),
        "field_errors": error.field_errors(),
    })
}

/// Writes `text` and a newline to stdout. A reader that went away (`| head -1`) ends the
/// command quietly, as a pipe's reader expects: it wants no more.
pub fn out(text: impl AsRef<[u8]>) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_ref())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        // Anything else (a full disk) cannot be reported on stdout either.
        _ => {}
    }
}

/// Prints a result: the human line on stdout, or the JSON; returns its exit code.
pub fn print_success(output: Output, report: &Report) -> u8 {
    if report.on_stderr {
        match (output, &report.json) {
            (Output::Human, _) => eprintln!("{}", report.human),
            (Output::Json, Json::Made(value)) => eprintln!("{value}"),
            (Output::Json, Json::Payload(body)) => eprintln!("{}", String::from_utf8_lossy(body)),
        }
        return report.exit;
    }
    match (output, &report.json) {
        (Output::Human, _) => out(&report.human),
        (Output::Json, Json::Made(value)) => out(value.to_string()),
        (Output::Json, Json::Payload(body)) => out(body),
    }
    report.exit
}

/// Prints a failure and returns its exit code: one line on stderr for people, a JSON
/// object on stdout with `--output json`.
pub fn print_failure(output: Output, failure: &Failure) -> u8 {
    match (failure, output) {
        (Failure::Usage(message), Output::Human) => eprintln!("error: {message}"),
        (Failure::Usage(message), Output::Json) => out(
            json!({"kind": "invalid_input", "status": null, "message": message, "request_id": null})
                .to_string(),
        ),
        (Failure::Api(error), Output::Human) => eprintln!("error: {}", describe(error)),
        (Failure::Api(error), Output::Json) => out(error_json(error).to_string()),
        (Failure::Journal(message) | Failure::Save(message), Output::Human) => {
            eprintln!("error: {message}")
        }
        (Failure::Save(message), Output::Json) => out(
            json!({"kind": "save_failed", "status": null, "message": message, "request_id": null})
                .to_string(),
        ),
        (Failure::Journal(message), Output::Json) => out(
            json!({"kind": "journal", "status": null, "message": message, "request_id": null})
                .to_string(),
        ),
    }
    failure.exit_code()
}
