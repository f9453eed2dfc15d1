//! The steps of the fault table, played on raw loopback connections (so that resets,
//! stalls and endless bodies are real), and what the server saw of each attempt.
//!
//! The same steps as the Rust runner's scripted server (`tests/sdk/support.rs`), byte
//! for byte: one step per connection, in order; the listener is dropped after the last,
//! so that a connection beyond the script is refused.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long a stalled connection is held (longer than any client timeout of the table).
const HOLD: Duration = Duration::from_secs(30);
/// The most of a request's head and body the server reads and keeps.
const MAX_REQUEST: usize = 1 << 20;

/// One step of a case, as the table writes it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Step {
    pub status: Option<u16>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub body_bytes: Option<usize>,
    pub success: Option<String>,
    pub fault: Option<String>,
}

/// What the server does with one connection.
#[derive(Clone, Debug)]
pub(crate) enum Script {
    /// Reads the request, answers with these raw bytes and closes.
    Answer(Vec<u8>),
    /// Waits 50 ms without reading, then resets the connection.
    ResetBeforeRequest,
    /// Reads the request, then closes without a word.
    Hangup,
    /// Reads the request, then says nothing until the client gives up.
    Stall,
    /// Reads the request, sends this head and a little body, then stalls.
    StallBody(String),
    /// Reads the request, sends this head, then `Some(n)` bytes of body, or an endless
    /// chunked body (`None`), until the client stops reading or the cap is reached.
    Stream(String, Option<usize>),
}

impl Script {
    /// A short description for the log of what was seen.
    fn label(&self) -> String {
        match self {
            Script::Answer(raw) => {
                let line = raw.split(|b| *b == b'\r').next().unwrap_or_default();
                let status = String::from_utf8_lossy(line)
                    .split(' ')
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                format!("answer {status}")
            }
            Script::ResetBeforeRequest => "reset_before_request".into(),
            Script::Hangup => "reset_after_request".into(),
            Script::Stall => "stall".into(),
            Script::StallBody(_) => "stall_body".into(),
            Script::Stream(_, Some(n)) => format!("body_bytes {n}"),
            Script::Stream(_, None) => "endless_body".into(),
        }
    }
}

/// The head of an answer with `status` and `headers`.
pub(crate) fn head(status: u16, headers: &[(&str, &str)]) -> String {
    let mut raw = format!("HTTP/1.1 {status} X\r\nconnection: close\r\n");
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw + "\r\n"
}

/// An answer with `status`, `headers` and `body`, as raw bytes.
pub(crate) fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Script {
    let length = body.len().to_string();
    let mut all = headers.to_vec();
    all.push(("content-length", &length));
    Script::Answer((head(status, &all) + body).into_bytes())
}

/// What `step` plays, given the operation's documented success (its status and body,
/// empty where it documents none).
pub(crate) fn script(step: &Step, documented: (u16, &str)) -> Result<Script, String> {
    let headers: Vec<(&str, &str)> = step
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let status = step.status.unwrap_or(200);
    if let Some(success) = &step.success {
        if success != "documented" {
            return Err(format!("unknown success {success:?}"));
        }
        let (status, body) = documented;
        return Ok(answer(
            status,
            &[("content-type", "application/json")],
            body,
        ));
    }
    Ok(match step.fault.as_deref() {
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
        Some(other) => return Err(format!("unknown fault {other:?}")),
    })
}

/// One attempt, as the server saw it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Seen {
    /// 1 for the first connection of the case.
    pub attempt: usize,
    /// What the server did with it (`answer 503`, `stall`, `reset_before_request`, ...).
    pub step: String,
    /// When the connection was accepted, in milliseconds since the case was armed.
    pub at_ms: f64,
    /// When the exchange ended: the answer written and the connection closed, the reset,
    /// or the client closing a connection the server held; `null` while it goes on.
    pub ended_ms: Option<f64>,
    /// The request, or `null` where the step resets before reading it.
    pub request: Option<Request>,
    /// Body bytes written by a streaming step before the client stopped reading.
    pub body_bytes_sent: u64,
}

/// A request as it arrived.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Request {
    pub method: String,
    /// The request target as sent (path and query).
    pub target: String,
    pub path: String,
    pub query: Option<String>,
    /// Header names in lower case; repeated headers joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The body as text (lossy UTF-8), `null` when there was none.
    pub body: Option<String>,
}

/// The log of one armed case.
pub(crate) type Log = Arc<Mutex<Vec<Seen>>>;

fn since(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0
}

fn update(log: &Log, index: usize, change: impl FnOnce(&mut Seen)) {
    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(seen) = log.get_mut(index) {
        change(seen);
    }
}

/// Plays `scripts` on `listener`, one per connection, logging each into `log`; drops the
/// listener as it accepts the last. Streams send at most `cap` body bytes.
pub(crate) async fn play(
    listener: TcpListener,
    scripts: Vec<Script>,
    log: Log,
    started: Instant,
    cap: usize,
) {
    let last = scripts.len();
    let mut listener = Some(listener);
    for (n, step) in scripts.into_iter().enumerate() {
        let Some(accepting) = &listener else {
            return;
        };
        let Ok((mut socket, _)) = accepting.accept().await else {
            return;
        };
        if n + 1 == last {
            // Closed before the last answer goes out: an attempt beyond the script is
            // refused, never accepted in a race with the close.
            listener = None;
        }
        let index = {
            let mut entries = log.lock().unwrap_or_else(PoisonError::into_inner);
            let attempt = entries.len() + 1;
            entries.push(Seen {
                attempt,
                step: step.label(),
                at_ms: since(started),
                ended_ms: None,
                request: None,
                body_bytes_sent: 0,
            });
            entries.len() - 1
        };
        if let Script::ResetBeforeRequest = step {
            // Long enough for the request to be on its way, so that the client cannot
            // tell it was never read.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = socket.set_zero_linger();
            drop(socket);
            update(&log, index, |s| s.ended_ms = Some(since(started)));
            continue;
        }
        let request = read_request(&mut socket).await;
        update(&log, index, |s| s.request = request);
        match step {
            Script::Answer(raw) => {
                let _ = socket.write_all(&raw).await;
                let _ = socket.shutdown().await;
                drop(socket);
                update(&log, index, |s| s.ended_ms = Some(since(started)));
            }
            Script::ResetBeforeRequest | Script::Hangup => {
                drop(socket);
                update(&log, index, |s| s.ended_ms = Some(since(started)));
            }
            Script::Stall => hold(socket, log.clone(), index, started),
            Script::StallBody(head) => {
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(b"{\"data\": [").await;
                hold(socket, log.clone(), index, started);
            }
            Script::Stream(head, total) => {
                let _ = socket.write_all(head.as_bytes()).await;
                let sent = stream_body(&mut socket, total, cap).await;
                drop(socket);
                update(&log, index, |s| {
                    s.body_bytes_sent = sent;
                    s.ended_ms = Some(since(started));
                });
            }
        }
    }
}

/// Keeps a connection open and silent until the client closes it (noted as the end of
/// the exchange) or for [`HOLD`].
fn hold(mut socket: TcpStream, log: Log, index: usize, started: Instant) {
    tokio::spawn(async move {
        let mut buf = [0u8; 1024];
        let closed = tokio::time::timeout(HOLD, async {
            loop {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        if closed.is_ok() {
            update(&log, index, |s| s.ended_ms = Some(since(started)));
        }
    });
}

/// Writes `total` bytes of body (or an endless chunked body) until the reader stops,
/// never more than `cap`; returns how many body bytes went out.
async fn stream_body(socket: &mut TcpStream, total: Option<usize>, cap: usize) -> u64 {
    let chunk = vec![b'x'; 16 * 1024];
    let framed = [
        format!("{:x}\r\n", chunk.len()).into_bytes(),
        chunk.clone(),
        b"\r\n".to_vec(),
    ]
    .concat();
    let mut sent = 0;
    let limit = total.unwrap_or(usize::MAX).min(cap);
    while sent < limit {
        let piece: &[u8] = match total {
            Some(_) => &chunk[..chunk.len().min(limit - sent)],
            None => &framed,
        };
        if socket.write_all(piece).await.is_err() {
            return sent as u64;
        }
        sent += piece.len().min(chunk.len());
    }
    sent as u64
}

/// Reads a request's head and body (by `content-length`, or chunked up to its last
/// chunk), within a few seconds; `None` if nothing readable came.
async fn read_request(socket: &mut TcpStream) -> Option<Request> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if raw.len() > MAX_REQUEST {
            return None;
        }
        match tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => raw.extend_from_slice(&buf[..n]),
            _ => return None,
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or_default().to_owned();
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            let value = value.trim().to_owned();
            headers
                .entry(name)
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert(value);
        }
    }
    let mut body = raw[head_end..].to_vec();
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    let complete = |body: &[u8]| {
        if chunked {
            body.windows(5).any(|w| w == b"0\r\n\r\n")
        } else {
            body.len() >= length
        }
    };
    while !complete(&body) && body.len() < MAX_REQUEST {
        match tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => body.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    if chunked {
        body = dechunk(&body);
    }
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (target.clone(), None),
    };
    Some(Request {
        method,
        target,
        path,
        query,
        headers,
        body: (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned()),
    })
}

/// The data of a chunked body.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&raw[..line_end]);
        let size = size.split(';').next().unwrap_or_default().trim();
        let Ok(size) = usize::from_str_radix(size, 16) else {
            break;
        };
        let start = line_end + 2;
        if size == 0 || raw.len() < start + size {
            break;
        }
        out.extend_from_slice(&raw[start..start + size]);
        raw = raw.get(start + size + 2..).unwrap_or_default();
    }
    out
}
