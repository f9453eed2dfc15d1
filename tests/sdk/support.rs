//! Shared fixtures: IDs, a client for a mock server, and one call per operation.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use httpmock::MockServer;
use serde_json::{Value, json};
use tallyfy::{Client, Error, Execute, Operation, RetryPolicy};

pub const TOKEN: &str = "tok-SECRET-5f1e9c";
pub const ORG: &str = "org_8f3a";
pub const RUN: &str = "3f2a9c4b1d6e8f0a2b4c6d8e0f1a3b5c";
pub const TASK: &str = "task_77aa";
pub const TAG: &str = "tag_91bc";

/// A client for `server` that never retries.
pub fn client(server: &MockServer) -> Client {
    client_with(&server.base_url(), RetryPolicy::none())
}

/// A client for `base_url` with `retry`, whose waits are recorded and not spent.
pub fn client_with(base_url: &str, retry: RetryPolicy) -> Client {
    Client::builder(TOKEN)
        .base_url(base_url)
        .timeout(Duration::from_secs(5))
        .retry(retry)
        .sleep_with(|_| async {})
        .build()
        .expect("a valid test client")
}

/// A client whose waits between attempts are collected in the returned list.
#[allow(dead_code)] // used by the tracing test binary
pub fn recording_client(base_url: &str, retry: RetryPolicy) -> (Client, Arc<Mutex<Vec<Duration>>>) {
    let waits = Arc::new(Mutex::new(Vec::new()));
    let seen = waits.clone();
    let client = Client::builder(TOKEN)
        .base_url(base_url)
        .timeout(Duration::from_secs(5))
        .retry(retry)
        .sleep_with(move |wait| {
            seen.lock().unwrap().push(wait);
            async {}
        })
        .build()
        .expect("a valid test client");
    (client, waits)
}

/// Calls operation `id` with the fixture IDs; the success body comes back as JSON.
pub async fn call(client: &Client, id: &str) -> Result<Value, Error> {
    fn json<T: serde::Serialize>(value: T) -> Value {
        serde_json::to_value(value).expect("serializable")
    }
    match id {
        "list_processes" => client
            .list_processes()
            .org_id(ORG)
            .execute()
            .await
            .map(json),
        "get_process" => client
            .get_process()
            .org_id(ORG)
            .run_id(RUN)
            .execute()
            .await
            .map(json),
        "archive_process" => client
            .archive_process()
            .org_id(ORG)
            .run_id(RUN)
            .execute()
            .await
            .map(json),
        "activate_process" => client
            .activate_process()
            .org_id(ORG)
            .run_id(RUN)
            .execute()
            .await
            .map(json),
        "permanently_delete_process" => client
            .permanently_delete_process()
            .org_id(ORG)
            .run_id(RUN)
            .execute()
            .await
            .map(json),
        "archive_task" => client
            .archive_task()
            .org_id(ORG)
            .task_id(TASK)
            .execute()
            .await
            .map(json),
        "restore_task" => client
            .restore_task()
            .org_id(ORG)
            .task_id(TASK)
            .execute()
            .await
            .map(json),
        "permanently_delete_task" => client
            .permanently_delete_task()
            .org_id(ORG)
            .task_id(TASK)
            .execute()
            .await
            .map(json),
        "delete_tag" => client
            .delete_tag()
            .org_id(ORG)
            .tag_id(TAG)
            .execute()
            .await
            .map(json),
        other => panic!(
            "operation `{other}` is in the spec but not in the test table: add it to support::call"
        ),
    }
}

/// The exact path operation `op` requests with the fixture IDs.
pub fn path_of(op: &Operation) -> String {
    op.path
        .replace("{org_id}", ORG)
        .replace("{run_id}", RUN)
        .replace("{task_id}", TASK)
        .replace("{tag_id}", TAG)
}

/// A realistic process, as the API sends it (with a field the spec does not know).
pub fn run(archived: bool) -> Value {
    json!({
        "id": RUN,
        "increment_id": 1042,
        "checklist_id": "c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6",
        "checklist_title": "Employee onboarding",
        "name": "Onboarding: Ada Lovelace",
        "summary": null,
        "status": if archived { "archived" } else { "active" },
        "progress": {"complete": 3, "total": 8, "percent": 37.5},
        "started_by": "u_12",
        "owner_id": "u_12",
        "created_at": "2025-01-15T10:30:00.000Z",
        "started_at": "2025-01-15T10:30:00.000Z",
        "last_updated": "2025-02-01T08:00:00.000Z",
        "archived_at": if archived { json!("2025-03-01T09:00:00.000Z") } else { Value::Null },
        "completed_at": null,
        "due_date": null,
        "starred": false,
        "type": "procedure",
        "parent_id": null,
        "a_field_from_the_future": {"nested": true}
    })
}

/// The documented success status and body of operation `id`.
pub fn success(id: &str) -> (u16, Value) {
    match id {
        "list_processes" => (
            200,
            json!({
                "data": [run(false), run(true)],
                "meta": {"pagination": {"total": 2, "count": 2, "per_page": 10, "current_page": 1, "total_pages": 1, "links": []}}
            }),
        ),
        "get_process" | "activate_process" => (200, json!({"data": run(false)})),
        "archive_process" => (200, json!({"data": run(true)})),
        "permanently_delete_process" | "restore_task" => (200, Value::Null),
        _ => (204, Value::Null),
    }
}

/// A realistic error body for `status`.
pub fn error_body(status: u16) -> Value {
    match status {
        401 => json!({"error": "invalid_client"}),
        403 => {
            json!({"error": true, "message": "You are not an administrator", "code": "FORBIDDEN"})
        }
        404 => {
            json!({"error": true, "message": "Resource not found", "code": "RESOURCE_NOT_FOUND"})
        }
        422 => {
            json!({"message": "The given data was invalid.", "errors": {"run": ["The run must be archived first."]}})
        }
        429 => json!({"message": "You've reached the hourly limit", "code": "RATE_LIMIT_EXCEEDED"}),
        _ => {
            json!({"error": {"code": "INTERNAL", "message": "Something went wrong", "details": {}}})
        }
    }
}

/// The kind an error status maps to.
pub fn kind_of(status: u16) -> &'static str {
    match status {
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        422 => "unprocessable",
        429 => "rate_limited",
        400..=499 => "client_error",
        _ => "server_error",
    }
}

/// Concrete statuses for a documented status or range.
pub fn statuses(documented: &str) -> Vec<u16> {
    match documented {
        "2XX" => vec![200, 201, 204],
        "4XX" => vec![400, 409, 418],
        "5XX" => vec![500, 502, 503, 504],
        code => vec![code.parse().expect("a status code")],
    }
}

/// What a scripted server does with one connection.
#[derive(Clone, Debug)]
pub enum Script {
    /// Reads the request, then answers with these raw bytes and closes.
    Answer(String),
    /// Closes at once, without reading the request (a reset).
    ResetBeforeRequest,
    /// Reads the request, then closes without a word.
    Hangup,
    /// Reads the request, then says nothing until the client gives up.
    Stall,
    /// Reads the request, sends this head and a little body, then stalls.
    StallBody(String),
    /// Reads the request, sends this head, then `Some(n)` bytes of body, or an endless
    /// chunked body (`None`), until the client stops reading.
    Stream(String, Option<usize>),
}

/// The head of an answer with `status` and `headers`.
pub fn head(status: u16, headers: &[(&str, &str)]) -> String {
    let mut raw = format!("HTTP/1.1 {status} X\r\nconnection: close\r\n");
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw + "\r\n"
}

/// An HTTP answer with `status`, `headers` and `body`, as raw bytes.
pub fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Script {
    let length = body.len().to_string();
    let mut all = headers.to_vec();
    all.push(("content-length", &length));
    Script::Answer(head(status, &all) + body)
}

/// A loopback server that plays `script`, one step per connection, and keeps the
/// request heads it read. Returns its base URL and those heads.
pub async fn scripted(script: Vec<Script>) -> (String, Arc<Mutex<Vec<String>>>) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base_url = format!("http://{}", listener.local_addr().expect("bound"));
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        for step in script {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            if let Script::ResetBeforeRequest = step {
                // Long enough for the request to be on its way, so that the client
                // cannot tell it was never read.
                tokio::time::sleep(Duration::from_millis(50)).await;
                seen.lock().unwrap().push(String::new());
                let _ = socket.set_zero_linger();
                drop(socket);
                continue;
            }
            let request = read_head(&mut socket).await;
            seen.lock().unwrap().push(request);
            match step {
                Script::Answer(raw) => {
                    let _ = socket.write_all(raw.as_bytes()).await;
                    let _ = socket.shutdown().await;
                }
                Script::ResetBeforeRequest | Script::Hangup => drop(socket),
                Script::Stall => hold(socket),
                Script::StallBody(head) => {
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(b"{\"data\": [").await;
                    hold(socket);
                }
                Script::Stream(head, total) => {
                    let _ = socket.write_all(head.as_bytes()).await;
                    stream_body(&mut socket, total).await;
                }
            }
        }
    });
    (base_url, heads)
}

async fn read_head(socket: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Keeps a connection open and silent for longer than any client timeout in the tests.
fn hold(socket: tokio::net::TcpStream) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    });
}

/// Writes `total` bytes of body (or an endless chunked body) until the reader stops;
/// never more than 256 MiB.
async fn stream_body(socket: &mut tokio::net::TcpStream, total: Option<usize>) {
    use tokio::io::AsyncWriteExt;
    let chunk = vec![b'x'; 16 * 1024];
    let framed = [
        format!("{:x}\r\n", chunk.len()).into_bytes(),
        chunk.clone(),
        b"\r\n".to_vec(),
    ]
    .concat();
    let mut sent = 0;
    while sent < total.unwrap_or(usize::MAX).min(256 << 20) {
        let piece = if total.is_some() { &chunk } else { &framed };
        if socket.write_all(piece).await.is_err() {
            return;
        }
        sent += chunk.len();
    }
}

/// A loopback address where nothing listens.
pub async fn refused_base_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("bound");
    drop(listener);
    format!("http://{address}")
}
