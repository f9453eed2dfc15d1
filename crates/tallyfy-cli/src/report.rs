//! What the command prints, and the exit codes.

use std::io::Write;

use serde_json::{Value, json};
use tallyfy::Error;

use crate::cli::Output;

/// A command's result: a line for people, the JSON for machines, the exit code.
pub struct Report {
    pub human: String,
    pub json: Json,
    pub exit: u8,
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
        }
    }

    /// A successful result whose JSON is the server's payload as it came.
    pub fn payload(human: String, body: &[u8]) -> Self {
        Self {
            human,
            json: Json::Payload(body.trim_ascii().to_vec()),
            exit: 0,
        }
    }
}

/// Why a command failed.
pub enum Failure {
    /// Refused before anything was sent: a missing flag, a declined confirmation.
    Usage(String),
    /// The SDK's error.
    Api(Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Api(error)
    }
}

/// The documented exit code of an error kind.
pub fn exit_code(error: &Error) -> u8 {
    match error.kind() {
        "invalid_input" => 2,
        "unauthorized" | "forbidden" => 3,
        "not_found" => 5,
        "rate_limited" => 6,
        "unprocessable" | "client_error" => 7,
        _ => 1,
    }
}

/// The error as the JSON object printed with `--output json`.
pub fn error_json(error: &Error) -> Value {
    let d = error.details();
    json!({
        "kind": error.kind(),
        "status": error.status().map(|s| s.as_u16()),
        "message": error.message().unwrap_or(&d.explanation),
        "explanation": d.explanation,
        "code": error.code(),
        "request_id": error.request_id(),
        "operation": error.operation(),
        "attempts": error.attempts(),
        "retry_after_seconds": error.retry_after().map(|w| w.as_secs()),
        "field_errors": error.field_errors(),
    })
}

/// Prints a result: the human line on stdout, or the JSON; returns its exit code.
pub fn print_success(output: Output, report: &Report) -> u8 {
    match (output, &report.json) {
        (Output::Human, _) => println!("{}", report.human),
        (Output::Json, Json::Made(value)) => println!("{value}"),
        (Output::Json, Json::Payload(body)) => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout
                .write_all(body)
                .and_then(|()| stdout.write_all(b"\n"));
        }
    }
    report.exit
}

/// Prints a failure and returns its exit code: one line on stderr for people, a JSON
/// object on stdout with `--output json`.
pub fn print_failure(output: Output, failure: &Failure) -> u8 {
    match (failure, output) {
        (Failure::Usage(message), Output::Human) => eprintln!("error: {message}"),
        (Failure::Usage(message), Output::Json) => {
            println!(
                "{}",
                json!({"kind": "invalid_input", "status": null, "message": message, "request_id": null})
            )
        }
        (Failure::Api(error), Output::Human) => eprintln!("error: {error}"),
        (Failure::Api(error), Output::Json) => println!("{}", error_json(error)),
    }
    match failure {
        Failure::Usage(_) => 2,
        Failure::Api(error) => exit_code(error),
    }
}
