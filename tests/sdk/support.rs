//! Shared fixtures: IDs, a client for a mock server, and a call of any operation by name.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use httpmock::MockServer;
use serde_json::{Value, json};
use tallyfy::{Answered, Args, Client, Error, Operation, RetryPolicy};

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

/// The fixture value of a path parameter: the constants above, or one made from its
/// name for a parameter no test knows yet.
pub fn fixture(name: &str) -> String {
    match name {
        "org_id" => ORG.into(),
        "run_id" => RUN.into(),
        "task_id" => TASK.into(),
        "tag_id" => TAG.into(),
        // An email with the characters a path must carry intact.
        "guest_email" => "client+ops%team@example.com".into(),
        other => format!("{}_5e1", other.trim_end_matches("_id")),
    }
}

/// The path parameters of `op`, by name, in order.
pub fn path_params(op: &Operation) -> Vec<&'static str> {
    op.path
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
        .collect()
}

/// Calls operation `id` with the fixture IDs (by name, derived from the spec: a new
/// operation needs nothing here); the success body comes back as JSON.
pub async fn call(client: &Client, id: &str) -> Result<Value, Error> {
    let op = Operation::find(id).unwrap_or_else(|| panic!("no operation `{id}`"));
    let mut args = Args::new();
    for name in path_params(op) {
        args.insert(name, fixture(name));
    }
    if let Some(body) = request_body(op) {
        args.insert("body", body);
    }
    if op.streams {
        // A file: its bytes, as text, for the tests that compare answers.
        let mut bytes = Vec::new();
        return match client.save(id, &args).to_writer(&mut bytes).await {
            Ok(_) => Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned())),
            Err(tallyfy::SaveError::Api(error)) => Err(error),
            Err(other) => panic!("`{id}`: a writer in memory failed: {other}"),
        };
    }
    client.call(id, &args).await.map(Answered::into_value)
}

/// The request body operation `op` sends in the tests: the one its documentation page
/// shows (`tests/fixtures/tallyfy-docs/requests/`), for an operation that takes one.
pub fn request_body(op: &Operation) -> Option<Value> {
    op.params.iter().find(|p| p.location == "body")?;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/tallyfy-docs/requests")
        .join(format!("{}.json", op.id));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: no documented request body ({e})", path.display()));
    let mut body: Value = serde_json::from_str(&text).expect("a request body parses");
    // A form's files are named relative to the corpus.
    for file in op.form.unwrap_or_default() {
        if let Some(Value::String(name)) = body.get_mut(*file) {
            let corpus =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tallyfy-docs");
            *name = corpus.join(&*name).display().to_string();
        }
    }
    Some(body)
}

/// The body a request carried, as the JSON of [`request_body`]: a JSON body as it is,
/// a form's fields as text (a file part as the path of the corpus file whose bytes it
/// carried, so that it compares equal when the file was sent whole).
pub fn sent(request: &httpmock::HttpMockRequest) -> Option<Value> {
    let boundary = request
        .headers_vec()
        .iter()
        .find(|(name, _)| name == "content-type")
        .and_then(|(_, value)| value.split_once("boundary=").map(|(_, b)| b.to_owned()));
    let Some(boundary) = boundary else {
        return serde_json::from_slice(request.body_ref()).ok();
    };
    let body = request.body_ref();
    let delimiter = format!("--{boundary}");
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in text.split(delimiter.as_str()).skip(1) {
        let Some((head, content)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let name = head.split("name=\"").nth(1)?.split('"').next()?.to_owned();
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        let value = match head.split("filename=\"").nth(1) {
            Some(_) => {
                let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("fixtures/tallyfy-docs/requests");
                let file = std::fs::read_dir(&corpus).ok()?.find_map(|entry| {
                    let path = entry.ok()?.path();
                    (std::fs::read(&path).ok()? == content.as_bytes()).then_some(path)
                })?;
                file.display().to_string()
            }
            None => content.to_owned(),
        };
        fields.insert(name, Value::String(value));
    }
    Some(Value::Object(fields))
}

/// The exact path operation `op` requests with the fixture IDs, each a path segment
/// percent-encoded as URLs encode one (`%` as `%25`; `@` and `+` stay).
pub fn path_of(op: &Operation) -> String {
    let segment = |value: &str| {
        let mut url = tallyfy::reqwest::Url::parse("http://127.0.0.1/").expect("a URL");
        url.path_segments_mut().expect("a base").push(value);
        url.path()[1..].to_owned()
    };
    path_params(op)
        .into_iter()
        .fold(op.path.to_string(), |path, name| {
            path.replace(&format!("{{{name}}}"), &segment(&fixture(name)))
        })
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
        "started_by": 1012,
        "owner_id": 1012,
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

/// The documented success of operation `id`: its status and example body, from the
/// response corpus (`tests/fixtures/tallyfy-docs/`). Where its page shows no body but
/// the spec documents one, the example of an operation that answers with the same schema
/// stands in (a launch answers with a process, as a get does); `null` for an operation
/// that documents no body.
pub fn success(id: &str) -> (u16, Value) {
    let (status, body) = documented_success(id)
        .unwrap_or_else(|| panic!("no documented success for `{id}` in the corpus"));
    let op = Operation::find(id).unwrap_or_else(|| panic!("no operation `{id}`"));
    if !body.is_null() || !op.returns_body {
        return (status, body);
    }
    let schema = success_schema(op);
    let stand_in = tallyfy::OPERATIONS
        .iter()
        .filter(|other| other.id != id && success_schema(other) == schema)
        .find_map(|other| {
            documented_success(other.id)
                .map(|(_, body)| body)
                .filter(|b| !b.is_null())
        })
        .unwrap_or_else(|| panic!("`{id}`: no example in the corpus answers with {schema:?}"));
    (status, stand_in)
}

/// The status and body of the first documented success of `id` in the corpus.
fn documented_success(id: &str) -> Option<(u16, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tallyfy-docs");
    static INDEX: OnceLock<Value> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        serde_json::from_str(
            &std::fs::read_to_string(dir.join("index.json")).expect("the corpus index"),
        )
        .expect("the corpus index parses")
    });
    let example = index["examples"].as_array()?.iter().find(|e| {
        e["operation"] == id
            && e["status"]
                .as_u64()
                .is_some_and(|s| (200..300).contains(&s))
    })?;
    let status = u16::try_from(example["status"].as_u64()?).ok()?;
    let body = match example["body"].as_str() {
        Some(file) => {
            serde_json::from_str(&std::fs::read_to_string(dir.join(file)).expect("a corpus body"))
                .expect("a corpus body parses")
        }
        None => Value::Null,
    };
    Some((status, body))
}

/// The schema the spec gives `op`'s success body (its `$ref`), if any.
fn success_schema(op: &Operation) -> Option<String> {
    static SPEC: OnceLock<serde_yaml::Value> = OnceLock::new();
    let spec = SPEC.get_or_init(|| {
        serde_yaml::from_str(include_str!("../../openapi/tallyfy.yaml")).expect("the spec parses")
    });
    let responses = &spec["paths"][op.path][op.method.to_lowercase().as_str()]["responses"];
    responses
        .as_mapping()?
        .iter()
        .find_map(|(status, response)| {
            let status = status.as_str()?;
            status.starts_with('2').then_some(())?;
            let schema = &response["content"]["application/json"]["schema"]["$ref"];
            schema.as_str().map(str::to_owned)
        })
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
    /// The same, with bytes that need not be text.
    Raw(Vec<u8>),
    /// Reads the request, sends this head, then the body a piece at a time, waiting
    /// the given time before each piece.
    Trickle(String, Vec<Vec<u8>>, Duration),
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
                Script::Raw(raw) => {
                    let _ = socket.write_all(&raw).await;
                    let _ = socket.shutdown().await;
                }
                Script::Trickle(head, pieces, every) => {
                    let _ = socket.write_all(head.as_bytes()).await;
                    for piece in pieces {
                        tokio::time::sleep(every).await;
                        let _ = socket.write_all(&piece).await;
                    }
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

/// Reads a request's head, then its body by `content-length` (a form's file, say), so
/// that closing the connection afterwards does not reset it under the answer.
async fn read_head(socket: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut request = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let end = loop {
        if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&request).into_owned(),
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&request[..end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut left = length.saturating_sub(request.len() - end);
    while left > 0 {
        let read = tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buf)).await;
        match read {
            Ok(Ok(n)) if n > 0 => left = left.saturating_sub(n),
            _ => break,
        }
    }
    head
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
