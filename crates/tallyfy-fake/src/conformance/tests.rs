//! The published tables agree with their sources, and the server plays the table.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `$ref` of the first success body the spec documents for `id`, read from the
/// spec's text (this crate does not parse YAML).
fn success_schema(spec: &str, id: &str) -> Option<String> {
    let start = spec.find(&format!("operationId: {id}\n"))?;
    let rest = &spec[start..];
    let end = rest[1..]
        .find("operationId:")
        .map_or(rest.len(), |at| at + 1);
    let mut in_success = false;
    for line in rest[..end].lines() {
        let t = line.trim();
        let is_status = t.len() >= 6
            && t.starts_with('"')
            && t[1..4].chars().all(|c| c.is_ascii_digit() || c == 'X')
            && t[4..].starts_with("\":");
        if is_status {
            in_success = t.starts_with("\"2");
        } else if in_success && t.starts_with("schema:") {
            return t.split('"').nth(1).map(str::to_owned);
        }
    }
    None
}

/// The first documented success of `id` in the corpus: status, body file, body.
fn documented(index: &Value, id: &str) -> Option<(u64, Option<String>, Value)> {
    let example = index["examples"].as_array()?.iter().find(|e| {
        e["operation"] == id
            && e["status"]
                .as_u64()
                .is_some_and(|s| (200..300).contains(&s))
    })?;
    let file = example["body"].as_str().map(str::to_owned);
    let body = match &file {
        Some(file) => serde_json::from_str(&read(&format!("tests/fixtures/tallyfy-docs/{file}")))
            .expect("a corpus body parses"),
        None => Value::Null,
    };
    Some((example["status"].as_u64()?, file, body))
}

/// `tests/conformance/operations.json` as the spec, the corpus and the Rust runner's
/// fixtures make it (the stand-in rule of `tests/sdk/support.rs`'s `success()`).
fn operations_table() -> Value {
    let spec = read("openapi/tallyfy.yaml");
    let index: Value =
        serde_json::from_str(&read("tests/fixtures/tallyfy-docs/index.json")).expect("index");
    let mut fixtures = serde_json::Map::new();
    let mut operations = Vec::new();
    for op in OPERATIONS {
        // An operation whose page shows no answer yet: its first documented 2xx status.
        let (status, file, body) = documented(&index, op.id).unwrap_or_else(|| {
            let status = op
                .responses
                .iter()
                .find_map(|(s, _)| s.parse::<u64>().ok().filter(|s| (200..300).contains(s)))
                .unwrap_or(200);
            (status, None, Value::Null)
        });
        let schema = success_schema(&spec, op.id);
        let (example, from, body) = if body.is_null() && op.returns_body {
            // The example of the first operation that answers with the same schema.
            OPERATIONS
                .iter()
                .filter(|other| {
                    other.id != op.id
                        && schema.is_some()
                        && success_schema(&spec, other.id) == schema
                })
                .find_map(|other| {
                    documented(&index, other.id)
                        .filter(|(_, _, body)| !body.is_null())
                        .map(|(_, file, body)| (file, Some(other.id), body))
                })
                .unwrap_or((None, None, Value::Null))
        } else {
            (file, None, body)
        };
        let request_body = op
            .params
            .iter()
            .any(|p| p.location == "body")
            .then(|| {
                let path = root().join(format!(
                    "tests/fixtures/tallyfy-docs/requests/{}.json",
                    op.id
                ));
                let text = std::fs::read_to_string(path).ok()?;
                Some(serde_json::from_str::<Value>(&text).expect("a request body parses"))
            })
            .flatten();
        let params: serde_json::Map<String, Value> = path_params(op)
            .into_iter()
            .map(|name| (name.to_owned(), Value::String(fixture(name))))
            .collect();
        fixtures.extend(params.clone());
        operations.push(json!({
            "id": op.id,
            "method": op.method,
            "path": op.path,
            "summary": op.summary,
            "idempotent": op.is_idempotent(),
            "irreversible": op.irreversible,
            "returns_body": op.returns_body,
            "streams": op.streams,
            "form_files": op.form,
            "path_params": params,
            "request_path": request_path(op),
            "request_body": request_body,
            "success": {
                "status": status,
                "schema": schema,
                "example": example,
                "from_operation": from,
                "body": body,
            },
        }));
    }
    json!({
        "format": 1,
        "description": "Every operation of the spec (openapi/tallyfy.yaml): its route, how the runners call it (the fixture IDs of its path parameters, the request body its documentation page shows; for a form, form_files names its file fields, whose values are paths relative to the corpus directory; streams says its success is a file, not JSON) and its documented success, which the step {\"success\": \"documented\"} answers with: the status and body of its first 2xx example in the response corpus (tests/fixtures/tallyfy-docs/index.json), or, where its page shows no body but the spec documents one, the example of the first operation answering with the same schema (from_operation). Generated: TALLYFY_CONFORMANCE_WRITE=1 cargo test -p tallyfy-fake conformance. See README.md beside this file.",
        "corpus": "tests/fixtures/tallyfy-docs/index.json",
        "fixtures": fixtures,
        "operations": operations,
    })
}

#[test]
fn operations_json_is_current() {
    let table = operations_table();
    let path = root().join("tests/conformance/operations.json");
    if std::env::var_os("TALLYFY_CONFORMANCE_WRITE").is_some() {
        let text = serde_json::to_string_pretty(&table).expect("serializes") + "\n";
        std::fs::write(&path, text).expect("write operations.json");
        // The server embeds the file: the next build picks the new one up.
        return;
    }
    let committed: Value = serde_json::from_str(&read("tests/conformance/operations.json"))
        .expect("operations.json parses");
    assert!(
        committed == table,
        "tests/conformance/operations.json is stale: run \
         TALLYFY_CONFORMANCE_WRITE=1 cargo test -p tallyfy-fake conformance"
    );
    // What the server embeds is what is committed.
    assert_eq!(
        serde_json::from_str::<Value>(OPERATIONS_JSON).expect("parses"),
        committed
    );
}

/// The rows of the markdown table whose header starts with `header` in `//!` docs.
fn doc_table(source: &str, header: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = source
        .lines()
        .map(|l| l.trim_start_matches("//!").trim())
        .collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with(header))
        .unwrap_or_else(|| panic!("no table {header:?}"));
    lines[start + 2..]
        .iter()
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn kinds_json_is_the_crate_docs_table() {
    let docs = doc_table(&read("crates/tallyfy/src/lib.rs"), "| kind | when |");
    let kinds: Value = serde_json::from_str(KINDS_JSON).expect("kinds.json parses");
    let kinds = kinds["kinds"].as_array().expect("kinds");
    let published: Vec<Vec<String>> = kinds
        .iter()
        .map(|k| {
            vec![
                format!("`{}`", k["name"].as_str().expect("name")),
                k["when"].as_str().expect("when").to_owned(),
                k["retryable"].as_str().expect("retryable").to_owned(),
                if k["may_have_been_applied"].as_bool().expect("bool") {
                    "yes".into()
                } else {
                    "no".into()
                },
            ]
        })
        .collect();
    assert_eq!(published, docs);

    // The names, in the order of `tallyfy::ErrorKind::ALL`: the `kinds!` invocation
    // that defines the enum, its names and `ALL` (this crate does not depend on
    // `tallyfy`, so its source is read).
    let source = read("crates/tallyfy/src/error.rs");
    let block = source
        .split("\nkinds! {")
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .expect("the kinds! invocation");
    let all: Vec<&str> = block
        .lines()
        .filter(|l| !l.trim_start().starts_with("///"))
        .filter_map(|l| l.split('"').nth(1))
        .collect();
    let names: Vec<&str> = kinds.iter().filter_map(|k| k["name"].as_str()).collect();
    assert_eq!(names, all);
    assert_eq!(all.len(), 13);
}

#[test]
fn retries_json_is_the_crate_docs_table() {
    let lib = read("crates/tallyfy/src/lib.rs");
    let docs = doc_table(&lib, "| outcome of an attempt |");
    let retries: Value = serde_json::from_str(RETRIES_JSON).expect("retries.json parses");
    let published: Vec<Vec<String>> = retries["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .map(|o| {
            ["outcome", "idempotent", "post", "wait"]
                .iter()
                .map(|f| o[*f].as_str().expect("a column").to_owned())
                .collect()
        })
        .collect();
    assert_eq!(published, docs);
    // The defaults, as the crate docs state them.
    let prose: String = lib
        .lines()
        .map(|l| l.trim_start_matches("//!").trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(prose.contains(
        "3 retries, backoff 0.5 s doubling to 8 s with jitter, `Retry-After` honoured up to 60 s"
    ));
    assert_eq!(
        retries["policy"],
        json!({
            "max_retries": 3, "base_ms": 500, "cap_ms": 8000, "jitter": true,
            "max_retry_after_s": 60,
            "backoff": retries["policy"]["backoff"],
        })
    );
    for op in OPERATIONS {
        let listed = retries["idempotent_methods"]
            .as_array()
            .expect("methods")
            .iter()
            .any(|m| m == op.method);
        assert_eq!(listed, op.is_idempotent(), "{}", op.id);
    }
}

#[test]
fn the_table_resolves() {
    let kit = Kit::embedded().expect("the embedded tables parse");
    kit.check().expect("every row plays");
    let cases = kit.cases().expect("every row resolves");
    let mut names: Vec<&str> = cases.iter().filter_map(|c| c["name"].as_str()).collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names.len(),
        count,
        "case names are unique: runners arm by name"
    );
    for op in OPERATIONS {
        assert!(
            kit.operation(op.id).is_some(),
            "{} in operations.json",
            op.id
        );
    }
}

/// A request on a fresh connection with `connection: close`: the status and body.
async fn http(base: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Vec<u8>) {
    let mut socket = TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .expect("connect");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    socket.read_to_end(&mut raw).await.expect("read");
    let at = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let status = String::from_utf8_lossy(&raw[..at])
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, raw[at + 4..].to_vec())
}

async fn control(base: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let (status, body) = http(base, method, path, body).await;
    let value: Value = serde_json::from_slice(&body).expect("JSON");
    assert!(status < 300, "{path}: {status} {value}");
    value
}

async fn start() -> ConformanceServer {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    ConformanceServer::start(Kit::embedded().expect("kit"), any, any, 1 << 20)
        .await
        .expect("start")
}

#[tokio::test]
async fn a_row_is_armed_played_seen_and_judged() {
    let server = start().await;
    let url = server.base_url();
    let cases = control(&url, "GET", "/_conformance/cases", None).await;
    assert!(cases["cases"].as_array().is_some_and(|c| c.len() > 50));

    let armed = control(
        &url,
        "POST",
        "/_conformance/arm",
        Some(json!({"case": "503 then success", "operation": "get_process"})),
    )
    .await;
    let base = armed["base_url"].as_str().expect("a base URL").to_owned();
    assert_eq!(armed["case"]["waits_ms"], json!([500]));
    let path = "/organizations/org_8f3a/runs/3f2a9c4b1d6e8f0a2b4c6d8e0f1a3b5c";
    assert_eq!(armed["request"]["path"], path);
    assert_eq!(http(&base, "GET", path, None).await.0, 503);
    let (status, body) = http(&base, "GET", path, None).await;
    assert_eq!(status, 200);
    let documented: Value =
        serde_json::from_str(&read("tests/fixtures/tallyfy-docs/get_process.200.json"))
            .expect("corpus");
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("JSON"),
        documented
    );
    // Past the script, nothing listens.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        TcpStream::connect(base.trim_start_matches("http://"))
            .await
            .is_err()
    );

    let seen = control(&url, "GET", "/_conformance/seen", None).await;
    assert_eq!(seen["attempts"], 2);
    assert_eq!(seen["requests"][0]["request"]["path"], path);
    assert_eq!(seen["requests"][0]["request"]["headers"]["host"], "test");
    assert_eq!(seen["requests"][0]["step"], "answer 503");

    let verdict = control(
        &url,
        "POST",
        "/_conformance/outcome",
        Some(json!({"result": "ok", "waits_ms": [500.0]})),
    )
    .await;
    assert_eq!(verdict["verdict"], "passed", "{verdict}");
    let verdict = control(
        &url,
        "POST",
        "/_conformance/outcome",
        Some(json!({"result": "error", "kind": "server_error", "status": 503, "waits_ms": []})),
    )
    .await;
    assert_eq!(verdict["verdict"], "failed");
    assert_eq!(
        verdict["problems"].as_array().map(Vec::len),
        Some(2),
        "{verdict}"
    );

    // A request to another route than the operation's fails the row.
    let armed = control(
        &url,
        "POST",
        "/_conformance/arm",
        Some(json!({"case": "404 with a empty body", "operation": "permanently_delete_task"})),
    )
    .await;
    let base = armed["base_url"].as_str().expect("armed");
    http(
        base,
        "DELETE",
        "/organizations/org_8f3a/tasks/task_77aa",
        None,
    )
    .await;
    let verdict = control(
        &url,
        "POST",
        "/_conformance/outcome",
        Some(json!({"result": "error", "kind": "not_found", "status": 404, "body": ""})),
    )
    .await;
    assert_eq!(verdict["verdict"], "failed");
    assert!(
        verdict["problems"][0]
            .as_str()
            .is_some_and(|p| p.starts_with("route:")),
        "{verdict}"
    );

    control(
        &url,
        "POST",
        "/_conformance/outcome",
        Some(json!({"case": "x", "operation": "restore_task", "result": "not_applicable", "reason": "no such method"})),
    )
    .await;
    let report = control(&url, "GET", "/_conformance/report", None).await;
    assert_eq!(
        report["summary"],
        json!({"passed": 1, "failed": 2, "not_applicable": 1, "recorded": 0})
    );
}

#[tokio::test]
async fn faults_are_real() {
    let server = start().await;
    let url = server.base_url();
    let arm = |case: &'static str, op: &'static str| {
        let url = url.clone();
        async move {
            control(
                &url,
                "POST",
                "/_conformance/arm",
                Some(json!({"case": case, "operation": op})),
            )
            .await["base_url"]
                .as_str()
                .expect("base URL")
                .trim_start_matches("http://")
                .to_owned()
        }
    };
    let request = b"GET /organizations/org_8f3a/runs HTTP/1.1\r\nhost: t\r\n\r\n";

    // Refused: nothing listens.
    let address = arm(
        "connection refused: never delivered, retried",
        "list_processes",
    )
    .await;
    assert!(TcpStream::connect(&address).await.is_err());

    // Reset before the request is read.
    let address = arm(
        "reset before reading the request, then success: retried where harmless",
        "list_processes",
    )
    .await;
    let mut socket = TcpStream::connect(&address).await.expect("connect");
    socket.write_all(request).await.expect("send");
    let mut raw = Vec::new();
    let read = socket.read_to_end(&mut raw).await;
    assert!(read.is_err() || raw.is_empty(), "{read:?}");
    let seen = control(&url, "GET", "/_conformance/seen", None).await;
    assert_eq!(seen["requests"][0]["request"], Value::Null);

    // A stall says nothing; the client closing it ends the exchange.
    let address = arm(
        "no answer past the timeout, then success: retried where harmless",
        "list_processes",
    )
    .await;
    let mut socket = TcpStream::connect(&address).await.expect("connect");
    socket.write_all(request).await.expect("send");
    let mut buf = [0u8; 16];
    let silent = tokio::time::timeout(Duration::from_millis(300), socket.read(&mut buf)).await;
    assert!(silent.is_err(), "no answer");
    drop(socket);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen = control(&url, "GET", "/_conformance/seen", None).await;
    assert!(
        seen["requests"][0]["ended_ms"]
            .as_f64()
            .is_some_and(|ms| ms >= 300.0),
        "{seen}"
    );

    // An endless body stops at the cap (1 MiB here).
    let address = arm(
        "an endless chunked error body is read only up to the cap",
        "list_processes",
    )
    .await;
    let mut socket = TcpStream::connect(&address).await.expect("connect");
    socket.write_all(request).await.expect("send");
    let mut raw = Vec::new();
    let _ = socket.read_to_end(&mut raw).await;
    assert!(raw.starts_with(b"HTTP/1.1 500 X\r\n"));
    assert!(
        raw.len() > 1 << 20 && raw.len() < (1 << 20) + 4096,
        "{}",
        raw.len()
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let seen = control(&url, "GET", "/_conformance/seen", None).await;
    assert_eq!(seen["requests"][0]["body_bytes_sent"], 1 << 20);

    // A row that does not select the operation is refused.
    let (status, _) = http(
        &url,
        "POST",
        "/_conformance/arm",
        Some(json!({"case": "503 on a create: not resent, it may have been applied", "operation": "get_process"})),
    )
    .await;
    assert_eq!(status, 422);
}

#[test]
fn bodies_are_compared_as_text_or_json() {
    use super::judge::*;
    let expect = json!({"result": "error", "kind": "not_found", "status": 404,
        "body": "{\"error\": true, \"code\": \"X\"}"});
    let want = Expected {
        expect: &expect,
        attempts: 1,
        waits_ms: &[],
        refuse: true,
        method: "GET",
        path: "/",
    };
    let outcome = |body: Value| Outcome {
        result: "error".into(),
        kind: Some("not_found".into()),
        status: Some(404),
        body: Some(Some(body)),
        attempts: Some(1),
        waits_ms: Some(Vec::new()),
        ..Outcome::default()
    };
    for body in [
        json!("{\"error\": true, \"code\": \"X\"}"),
        json!({"code": "X", "error": true}),
        json!("{\"code\":\"X\",\"error\":true}"),
    ] {
        assert_eq!(
            judge(&outcome(body.clone()), &want, &[]).0,
            "passed",
            "{body}"
        );
    }
    assert_eq!(
        judge(&outcome(json!({"code": "Y"})), &want, &[]).0,
        "failed"
    );

    let empty = json!({"result": "error", "kind": "not_found", "body": null});
    let want = Expected {
        expect: &empty,
        ..want
    };
    assert_eq!(judge(&outcome(json!("")), &want, &[]).0, "passed");
    assert_eq!(judge(&outcome(Value::Null), &want, &[]).0, "passed");
    assert_eq!(judge(&outcome(json!("x")), &want, &[]).0, "failed");
}
