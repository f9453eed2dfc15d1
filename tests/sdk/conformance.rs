//! Replays `tests/conformance/faults.json` against loopback servers: every row, for every
//! operation it selects. The file's format is in `tests/conformance/README.md`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use tallyfy::{Client, Error, OPERATIONS, Operation, RetryPolicy};

use crate::support::{Script, TOKEN, answer, call, head, refused_base_url, scripted, success};

const TABLE: &str = include_str!("../conformance/faults.json");

#[derive(Deserialize)]
struct Table {
    format: u32,
    defaults: Defaults,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Defaults {
    timeout_ms: u64,
    retry: Retry,
}

#[derive(Deserialize, Clone, Default)]
struct Retry {
    max_retries: Option<u32>,
    base_ms: Option<u64>,
    cap_ms: Option<u64>,
    jitter: Option<bool>,
    max_retry_after_s: Option<u64>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    operations: Value,
    #[serde(default)]
    retry: Retry,
    timeout_ms: Option<u64>,
    server: Value,
    expect: Expect,
    attempts: u32,
    waits_ms: Vec<u64>,
}

#[derive(Deserialize, Debug)]
struct Expect {
    result: String,
    kind: Option<String>,
    status: Option<u16>,
    retry_after_s: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    body: Option<Option<String>>,
    body_truncated: Option<bool>,
}

/// Tells a `"body": null` (no body expected) from a missing `body` (not checked).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct Step {
    status: Option<u16>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
    body_bytes: Option<usize>,
    success: Option<String>,
    fault: Option<String>,
}

impl Retry {
    fn over(&self, base: &Retry) -> RetryPolicy {
        let pick =
            |a: Option<u64>, b: Option<u64>| Duration::from_millis(a.or(b).unwrap_or_default());
        RetryPolicy::default()
            .with_max_retries(self.max_retries.or(base.max_retries).unwrap_or_default())
            .with_backoff(
                pick(self.base_ms, base.base_ms),
                pick(self.cap_ms, base.cap_ms),
            )
            .with_jitter(self.jitter.or(base.jitter).unwrap_or_default())
            .with_max_retry_after(Duration::from_secs(
                self.max_retry_after_s
                    .or(base.max_retry_after_s)
                    .unwrap_or_default(),
            ))
    }
}

fn selects(selector: &Value, op: &Operation) -> bool {
    match selector {
        // `a+b`: the operations both select.
        Value::String(s) if s.contains('+') => s
            .split('+')
            .all(|part| selects(&Value::String(part.to_owned()), op)),
        Value::String(s) => match s.as_str() {
            "*" => true,
            "idempotent" => op.is_idempotent(),
            "creates" => !op.is_idempotent(),
            "irreversible" => op.irreversible,
            "reversible" => !op.irreversible,
            "returns_body" => op.returns_body,
            "returns_nothing" => !op.returns_body && !op.streams,
            "streams" => op.streams,
            other => panic!("unknown operation selector {other:?}"),
        },
        Value::Array(ids) => ids.iter().any(|id| id == op.id),
        other => panic!("bad operation selector {other}"),
    }
}

fn script(step: &Step, op: &Operation) -> Script {
    let headers: Vec<(&str, &str)> = step
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let status = step.status.unwrap_or(200);
    if step.success.is_some() {
        let (status, body) = success(op.id);
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        return answer(status, &[("content-type", "application/json")], &body);
    }
    match step.fault.as_deref() {
        None if step.body_bytes.is_some() => {
            let length = step.body_bytes.unwrap_or_default().to_string();
            let mut all = headers.clone();
            all.push(("content-length", &length));
            Script::Stream(head(status, &all), step.body_bytes)
        }
        None => answer(status, &headers, step.body.as_deref().unwrap_or_default()),
        Some("reset_before_request") => Script::ResetBeforeRequest,
        Some("reset_after_request") => Script::Hangup,
        Some("stall") => Script::Stall,
        Some("stall_body") => Script::StallBody(head(status, &[("content-length", "100000")])),
        Some("endless_body") => {
            Script::Stream(head(status, &[("transfer-encoding", "chunked")]), None)
        }
        Some(other) => panic!("unknown fault {other:?}"),
    }
}

/// Plays one row against one operation; returns what differs from the expectation.
async fn play(
    table: &Table,
    case: &Case,
    op: &Operation,
    http: &tallyfy::reqwest::Client,
) -> Vec<String> {
    let (base_url, heads) = match &case.server {
        Value::String(s) if s == "refuse" => (refused_base_url().await, None),
        Value::Array(steps) => {
            let steps: Vec<Step> =
                serde_json::from_value(Value::Array(steps.clone())).expect("steps");
            let (url, heads) = scripted(steps.iter().map(|s| script(s, op)).collect()).await;
            (url, Some(heads))
        }
        other => panic!("bad server {other}"),
    };
    let waits = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = waits.clone();
    let client = Client::builder(TOKEN)
        .base_url(base_url)
        .http_client(http.clone())
        .timeout(Duration::from_millis(
            case.timeout_ms.unwrap_or(table.defaults.timeout_ms),
        ))
        .retry(case.retry.over(&table.defaults.retry))
        .sleep_with(move |wait| {
            seen.lock().unwrap().push(wait.as_millis() as u64);
            async {}
        })
        .build()
        .expect("client");
    let result = call(&client, op.id).await;

    let mut problems = Vec::new();
    let mut check = |what: &str, expected: String, actual: String| {
        if expected != actual {
            problems.push(format!("{what}: expected {expected}, got {actual}"));
        }
    };
    let attempts = match (&heads, &result) {
        (Some(heads), _) => heads.lock().unwrap().len() as u32,
        (None, Err(e)) => e.attempts(),
        (None, Ok(_)) => 0,
    };
    check("attempts", case.attempts.to_string(), attempts.to_string());
    check(
        "waits_ms",
        format!("{:?}", case.waits_ms),
        format!("{:?}", waits.lock().unwrap()),
    );
    let e = &case.expect;
    match (&result, e.result.as_str()) {
        (Ok(_), "ok") => {}
        (Err(error), "error") => check_error(error, e, case.attempts, &mut check),
        (Ok(value), _) => check("result", "an error".into(), format!("success {value}")),
        (Err(error), _) => check("result", "success".into(), error.to_string()),
    }
    problems
}

fn check_error(
    error: &Error,
    e: &Expect,
    attempts: u32,
    check: &mut impl FnMut(&str, String, String),
) {
    check(
        "kind",
        format!("{:?}", e.kind.as_deref()),
        format!("{:?}", Some(error.kind().as_str())),
    );
    check(
        "error.attempts()",
        attempts.to_string(),
        error.attempts().to_string(),
    );
    if let Some(status) = e.status {
        check(
            "status",
            format!("{:?}", Some(status)),
            format!("{:?}", error.status().map(|s| s.as_u16())),
        );
    }
    if let Some(secs) = e.retry_after_s {
        check(
            "retry_after",
            format!("{:?}", Some(secs)),
            format!("{:?}", error.retry_after().map(|d| d.as_secs())),
        );
    }
    if let Some(body) = &e.body {
        check("body", format!("{body:?}"), format!("{:?}", error.body()));
    }
    if let Some(truncated) = e.body_truncated {
        let actual = error.body().is_some_and(|b| b.ends_with("[truncated]"));
        check("body truncated", truncated.to_string(), actual.to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_table() {
    let table: Table = serde_json::from_str(TABLE).expect("faults.json parses");
    assert_eq!(table.format, 1);
    // One connection pool for every row: building a TLS-capable client per row is slow.
    let http = tallyfy::http_client_builder()
        .build()
        .expect("an HTTP client");
    let mut failures = Vec::new();
    let mut played: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &table.cases {
        let ops: Vec<&Operation> = OPERATIONS
            .iter()
            .filter(|op| selects(&case.operations, op))
            .collect();
        assert!(!ops.is_empty(), "{}: selects no operation", case.name);
        for op in ops {
            for problem in play(&table, case, op, &http).await {
                failures.push(format!("{} / {}: {problem}", case.name, op.id));
            }
            *played.entry(op.id).or_default() += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for op in OPERATIONS {
        assert!(
            played.get(op.id).copied().unwrap_or_default() >= 60,
            "{} is barely covered: {played:?}",
            op.id
        );
    }
}
