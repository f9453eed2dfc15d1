//! The response corpus: every example answer Tallyfy's API documentation shows for the
//! spec's operations (`tests/fixtures/tallyfy-docs/`, listed in its `index.json`).
//!
//! Each example must decode with its operation's generated type, lose nothing on the way
//! (what a caller can read, written back as JSON, is the example), and validate against
//! the spec's schema; an answer that is a file has a row without a body. The examples
//! kept aside in `pending.json` (their page not yet named for their operation by the
//! spec) are only checked to be still pending. Each operation of the spec must name its page (`x-tallyfy-docs`)
//! and have a row for its documented success, so an operation added later without its
//! examples fails here.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use tallyfy::{OPERATIONS, Operation};

use crate::json::same_json;
use crate::schema::{check, spec};

#[derive(Deserialize)]
struct Index {
    examples: Vec<Example>,
}

#[derive(Deserialize, Debug)]
struct Example {
    /// An `operationId`, or `*` for every operation that documents the status.
    operation: String,
    status: u16,
    page: String,
    /// The file holding the body; `None`: the page documents an empty body or none.
    body: Option<String>,
    /// Why the body is `None` when the page is not plain about it (binary content, an
    /// assumed answer).
    #[serde(default)]
    note: Option<String>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tallyfy-docs")
}

fn index() -> Vec<Example> {
    examples("index.json")
}

/// The rows of `file`: `index.json`, or `pending.json` (examples kept aside until the
/// spec takes them).
fn examples(file: &str) -> Vec<Example> {
    let text = std::fs::read_to_string(corpus_dir().join(file)).expect(file);
    serde_json::from_str::<Index>(&text)
        .unwrap_or_else(|e| panic!("{file} parses: {e}"))
        .examples
}

/// The operations an example belongs to.
fn operations_of(example: &Example) -> Vec<&'static Operation> {
    if example.operation == "*" {
        OPERATIONS
            .iter()
            .filter(|op| op.describe(example.status).is_some())
            .collect()
    } else {
        Operation::find(&example.operation).into_iter().collect()
    }
}

fn body_of(example: &Example) -> Vec<u8> {
    example.body.as_ref().map_or_else(Vec::new, |file| {
        std::fs::read(corpus_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    })
}

#[test]
fn every_operation_names_its_page_and_has_its_documented_success() {
    let examples = index();
    let mut problems = Vec::new();
    for op in OPERATIONS {
        if op.docs.is_empty() {
            problems.push(format!("{}: no x-tallyfy-docs page in the spec", op.id));
        }
        let own: Vec<&Example> = examples.iter().filter(|e| e.operation == op.id).collect();
        if !own.iter().any(|e| (200..300).contains(&e.status)) {
            problems.push(format!(
                "{}: no corpus row for its documented success (add its page's example to tests/fixtures/tallyfy-docs/index.json)",
                op.id
            ));
        }
        for example in own {
            if !op.docs.contains(&example.page.as_str()) {
                problems.push(format!(
                    "{}: a corpus row from {}, but the spec names {:?}",
                    op.id, example.page, op.docs
                ));
            }
        }
    }
    for example in &examples {
        if operations_of(example).is_empty() {
            problems.push(format!(
                "{example:?}: no operation of the spec documents it"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_example_decodes_loses_nothing_and_matches_the_spec() {
    let spec = spec();
    let mut problems = Vec::new();
    let mut checked = 0;
    for example in index() {
        let body = body_of(&example);
        let shown: Value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body).expect("corpus bodies are JSON")
        };
        for op in operations_of(&example) {
            let what = format!("{} {} ({:?})", op.id, example.status, example.body);
            match (op.decode)(example.status, &body) {
                Err(e) => problems.push(format!("{what}: does not decode: {e}")),
                Ok(read) if !same_json(&shown, &read) => problems.push(format!(
                    "{what}: something was lost:\n  shown {shown}\n  read  {read}"
                )),
                Ok(_) => {}
            }
            // A page that shows no body for an answer that has one: nothing to check.
            if !(body.is_empty() && op.returns_body) {
                let text = String::from_utf8_lossy(&body);
                problems.extend(check(&spec, op.id, example.status, &text));
            }
            checked += 1;
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Nine operations' successes, and each error example for every operation.
    assert!(checked > 40, "only {checked} examples checked");
}

#[test]
fn a_body_that_does_not_fit_names_the_path_and_the_mismatch() {
    let op = Operation::find("get_process").unwrap();
    let error = (op.decode)(200, br#"{"data": {"id": "a", "started_by": true}}"#).unwrap_err();
    assert_eq!(error.path(), "data.started_by");
    assert!(
        error
            .to_string()
            .starts_with("data.started_by: invalid type: boolean `true`, expected a user ID"),
        "{error}"
    );
    let shown: Value = serde_json::json!({"a": null, "n": 50});
    assert!(same_json(&shown, &serde_json::json!({"n": 50.0})));
    assert!(!same_json(&shown, &serde_json::json!({"n": 50.0, "b": 1})));
}

/// An operation whose success is a file (`streams`) has a row with no body, and a note
/// saying the body is binary: there is no JSON to hold it to.
#[test]
fn a_file_answer_is_a_row_without_a_body_that_says_so() {
    let examples = index();
    let streaming: Vec<&Operation> = OPERATIONS.iter().filter(|op| op.streams).collect();
    assert!(streaming.len() >= 2, "get_file and download_file stream");
    for op in streaming {
        assert!(!op.returns_body, "{}: a file is not a JSON body", op.id);
        let rows: Vec<&Example> = examples.iter().filter(|e| e.operation == op.id).collect();
        assert!(!rows.is_empty(), "{}: no row", op.id);
        for row in rows {
            assert_eq!(row.body, None, "{}", op.id);
            let note = row.note.as_deref().unwrap_or_default();
            assert!(note.starts_with("binary"), "{}: note {note:?}", op.id);
        }
    }
}

/// The rows kept aside in `pending.json` name operations of the spec and JSON bodies,
/// and are still pending: once the spec names a row's page for its operation, the row
/// belongs in `index.json` (where it must then decode and match the spec).
#[test]
fn the_pending_examples_are_still_pending() {
    let mut problems = Vec::new();
    for example in examples("pending.json") {
        let Some(op) = Operation::find(&example.operation) else {
            problems.push(format!("{example:?}: not an operation of the spec"));
            continue;
        };
        if op.docs.contains(&example.page.as_str()) {
            problems.push(format!(
                "{example:?}: the spec names its page now: move it to index.json"
            ));
        }
        if serde_json::from_slice::<Value>(&body_of(&example)).is_err() {
            problems.push(format!("{example:?}: its body is not JSON"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
