//! The conformance kit's server: the fault table (`tests/conformance/faults.json`) served
//! on demand to an SDK in any language, over HTTP on loopback.
//!
//! A runner arms one row of the table for one operation, calls its own SDK against the
//! base URL the server hands back, then tells the server what its SDK returned; the server
//! judges that against the row and what it saw on the wire, and keeps a report. The
//! control API (all JSON) is under `/_conformance/` of the address it prints first:
//!
//! | request | what it does |
//! |---|---|
//! | `GET /_conformance/cases` | every row, its resolved timeout and retry policy, and the operations it selects |
//! | `GET /_conformance/operations` | every operation: method, path, the fixture path and body to call it with, its documented success |
//! | `GET /_conformance/kinds`, `GET /_conformance/retries` | the error-kind and retry tables |
//! | `POST /_conformance/arm` `{"case": NAME, "operation": ID}` | arms a row on a fresh loopback port; answers with its `base_url`, the row and the operation |
//! | `POST /_conformance/arm` `{"operation": ID, "server": [STEPS]}` | arms steps of your own (a probe; judged by no row) |
//! | `GET /_conformance/seen` | what the server saw since arming: each attempt's arrival and end (ms), request (method, path, query, headers, body), and the waits between attempts |
//! | `POST /_conformance/outcome` `{"result": "error", "kind": ..., ...}` | what the SDK returned: judged, answered with the verdict, added to the report |
//! | `GET /_conformance/report` | every verdict so far, with counts |
//! | `POST /_conformance/reset` | disarms (closes the case's port) |
//! | `POST /_conformance/shutdown` | stops the server |
//!
//! The SDK's traffic never goes to the control address: each armed row gets a port of its
//! own (`--sdk-addr` fixes it), which plays the row's steps one per connection, resets and
//! stalls included, and closes after the last, so that an attempt beyond the script is
//! refused, as with the Rust runner's scripted server. A `"refuse"` row hands back a port
//! where nothing listens. The format of every file and field is in
//! `tests/conformance/README.md`.

mod judge;
mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tallyfy_api::{OPERATIONS, Operation};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use judge::{Expected, Outcome};
use wire::{Log, Script, Step};

/// The fault table, as committed beside this kit's README.
pub const FAULTS_JSON: &str = include_str!("../../../tests/conformance/faults.json");
/// Every operation: its route, how to call it, its documented success.
pub const OPERATIONS_JSON: &str = include_str!("../../../tests/conformance/operations.json");
/// The error kinds.
pub const KINDS_JSON: &str = include_str!("../../../tests/conformance/kinds.json");
/// The retry rules.
pub const RETRIES_JSON: &str = include_str!("../../../tests/conformance/retries.json");

/// `tallyfy-fake conformance`: serves the fault table to an SDK in any language.
#[derive(clap::Args, Clone, Debug)]
pub struct ConformanceArgs {
    /// Where the control API listens; the first line of output says where it is.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Where each armed row's SDK traffic is served; port 0 (the default) takes a fresh
    /// port per row.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub sdk_addr: SocketAddr,
    /// A fault table to serve instead of the embedded tests/conformance/faults.json.
    #[arg(long)]
    pub faults: Option<PathBuf>,
    /// An operations table instead of the embedded tests/conformance/operations.json.
    #[arg(long)]
    pub operations: Option<PathBuf>,
    /// The most body a streaming step (body_bytes, endless_body) sends, in MiB.
    #[arg(long, default_value_t = 256)]
    pub stream_cap_mib: usize,
    /// Runs this command (with `sh -c`), with TALLYFY_CONFORMANCE_URL set to the control
    /// address, then stops; the exit status is the command's.
    #[arg(long)]
    pub run: Option<String>,
    /// Writes the report (every verdict) to this file as JSON when it stops.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// With --run: exit 1 if a row failed, even when the command succeeded.
    #[arg(long)]
    pub strict: bool,
}

/// The tables the server serves.
#[derive(Clone, Debug)]
pub struct Kit {
    table: Value,
    operations: Value,
    kinds: Value,
    retries: Value,
}

fn parse(name: &str, text: &str) -> std::io::Result<Value> {
    serde_json::from_str(text).map_err(|e| std::io::Error::other(format!("{name}: {e}")))
}

impl Kit {
    /// The tables committed in `tests/conformance/`.
    pub fn embedded() -> std::io::Result<Kit> {
        Ok(Kit {
            table: parse("faults.json", FAULTS_JSON)?,
            operations: parse("operations.json", OPERATIONS_JSON)?,
            kinds: parse("kinds.json", KINDS_JSON)?,
            retries: parse("retries.json", RETRIES_JSON)?,
        })
    }

    /// The embedded tables, with a fault table and an operations table read from files.
    pub fn with_files(
        faults: Option<&std::path::Path>,
        operations: Option<&std::path::Path>,
    ) -> std::io::Result<Kit> {
        let mut kit = Kit::embedded()?;
        let load = |path: &std::path::Path| {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{name}: {e}")))?;
            parse(&name, &text)
        };
        if let Some(path) = faults {
            kit.table = load(path)?;
        }
        if let Some(path) = operations {
            kit.operations = load(path)?;
        }
        kit.check()?;
        Ok(kit)
    }

    /// Every row resolved: its defaults applied and the operations it selects listed.
    pub fn cases(&self) -> Result<Vec<Value>, String> {
        let defaults = &self.table["defaults"];
        let rows = self.table["cases"]
            .as_array()
            .ok_or("faults.json: no `cases`")?;
        rows.iter().map(|row| resolve(row, defaults)).collect()
    }

    fn check(&self) -> std::io::Result<()> {
        if self.table["format"] != 1 {
            return Err(std::io::Error::other("faults.json: format 1 expected"));
        }
        let cases = self.cases().map_err(std::io::Error::other)?;
        for case in &cases {
            if let Value::Array(steps) = &case["server"] {
                for step in steps {
                    let step: Step = serde_json::from_value(step.clone())
                        .map_err(|e| std::io::Error::other(format!("{}: {e}", case["name"])))?;
                    wire::script(&step, (200, ""))
                        .map_err(|e| std::io::Error::other(format!("{}: {e}", case["name"])))?;
                }
            }
        }
        Ok(())
    }

    fn operation(&self, id: &str) -> Option<&Value> {
        self.operations["operations"]
            .as_array()?
            .iter()
            .find(|op| op["id"] == id)
    }
}

/// Whether `selector` (a row's `operations`) selects `op`.
pub fn selects(selector: &Value, op: &Operation) -> Result<bool, String> {
    Ok(match selector {
        Value::String(s) if s.contains('+') => {
            for part in s.split('+') {
                if !selects(&Value::String(part.to_owned()), op)? {
                    return Ok(false);
                }
            }
            true
        }
        Value::String(s) => match s.as_str() {
            "*" => true,
            "idempotent" => op.is_idempotent(),
            "creates" => !op.is_idempotent(),
            "irreversible" => op.irreversible,
            "reversible" => !op.irreversible,
            "returns_body" => op.returns_body,
            "returns_nothing" => !op.returns_body && !op.streams,
            "streams" => op.streams,
            other => return Err(format!("unknown operation selector {other:?}")),
        },
        Value::Array(ids) => ids.iter().any(|id| id == op.id),
        other => return Err(format!("bad operation selector {other}")),
    })
}

fn resolve(row: &Value, defaults: &Value) -> Result<Value, String> {
    let name = row["name"].as_str().ok_or("a case without a name")?;
    let mut retry: Map<String, Value> = defaults["retry"].as_object().cloned().unwrap_or_default();
    if let Some(own) = row["retry"].as_object() {
        retry.extend(own.clone());
    }
    let timeout_ms = row
        .get("timeout_ms")
        .filter(|t| !t.is_null())
        .unwrap_or(&defaults["timeout_ms"]);
    let mut selected = Vec::new();
    for op in OPERATIONS {
        if selects(&row["operations"], op).map_err(|e| format!("{name}: {e}"))? {
            selected.push(op.id);
        }
    }
    if selected.is_empty() {
        return Err(format!("{name}: selects no operation"));
    }
    Ok(json!({
        "name": name,
        "operations": row["operations"],
        "selected": selected,
        "timeout_ms": timeout_ms,
        "retry": retry,
        "server": row["server"],
        "expect": row["expect"],
        "attempts": row["attempts"],
        "waits_ms": row["waits_ms"],
    }))
}

/// One armed row (or probe).
struct Armed {
    /// The resolved row; `None` for a probe.
    case: Option<Value>,
    operation: &'static Operation,
    method: String,
    path: String,
    base_url: String,
    refuse: bool,
    started: Instant,
    log: Log,
    task: Option<JoinHandle<()>>,
}

impl Drop for Armed {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

struct Inner {
    armed: Option<Armed>,
    results: Vec<Value>,
}

struct Conf {
    kit: Kit,
    sdk_addr: SocketAddr,
    stream_cap: usize,
    inner: Mutex<Inner>,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
}

impl Conf {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running conformance server. It stops when dropped.
pub struct ConformanceServer {
    conf: Arc<Conf>,
    address: SocketAddr,
    stopped: Option<oneshot::Receiver<()>>,
}

impl ConformanceServer {
    /// Serves `kit`'s control API on `address`, and armed rows on `sdk_addr` (port 0: a
    /// fresh port per row), in the background of the current tokio runtime.
    pub async fn start(
        kit: Kit,
        address: SocketAddr,
        sdk_addr: SocketAddr,
        stream_cap: usize,
    ) -> std::io::Result<ConformanceServer> {
        kit.check()?;
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let (done, finished) = oneshot::channel::<()>();
        let conf = Arc::new(Conf {
            kit,
            sdk_addr,
            stream_cap,
            inner: Mutex::new(Inner {
                armed: None,
                results: Vec::new(),
            }),
            shutdown: Mutex::new(Some(stop)),
        });
        let app = Router::new()
            .route("/_conformance", get(index))
            .route("/_conformance/cases", get(cases))
            .route("/_conformance/operations", get(operations))
            .route("/_conformance/kinds", get(kinds))
            .route("/_conformance/retries", get(retries))
            .route("/_conformance/arm", post(arm))
            .route("/_conformance/seen", get(seen))
            .route("/_conformance/outcome", post(outcome))
            .route("/_conformance/report", get(report))
            .route("/_conformance/reset", post(reset))
            .route("/_conformance/shutdown", post(shutdown))
            .fallback(elsewhere)
            .with_state(conf.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            let _ = done.send(());
        });
        Ok(ConformanceServer {
            conf,
            address,
            stopped: Some(finished),
        })
    }

    /// The control API's base URL, such as `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every verdict so far, with counts (what `GET /_conformance/report` answers).
    pub fn report(&self) -> Value {
        report_of(&self.conf.inner().results)
    }

    /// Resolves when the server stops (`POST /_conformance/shutdown`).
    pub async fn stopped(&mut self) {
        if let Some(stopped) = self.stopped.take() {
            let _ = stopped.await;
        }
    }
}

impl Drop for ConformanceServer {
    fn drop(&mut self) {
        let stop = self
            .conf
            .shutdown
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        self.conf.inner().armed = None;
    }
}

fn report_of(results: &[Value]) -> Value {
    let count = |verdict: &str| results.iter().filter(|r| r["verdict"] == verdict).count();
    json!({
        "summary": {
            "passed": count("passed"),
            "failed": count("failed"),
            "not_applicable": count("not_applicable"),
            "recorded": count("recorded"),
        },
        "results": results,
    })
}

/// Runs `tallyfy-fake conformance`: prints `listening on URL` first, then serves until
/// Ctrl-C, `POST /_conformance/shutdown`, or the end of the `--run` command. Returns the
/// process's exit status.
pub async fn run(args: ConformanceArgs) -> std::io::Result<i32> {
    let kit = Kit::with_files(args.faults.as_deref(), args.operations.as_deref())?;
    let mut server = ConformanceServer::start(
        kit,
        args.addr,
        args.sdk_addr,
        args.stream_cap_mib.saturating_mul(1 << 20),
    )
    .await?;
    let url = server.base_url();
    println!("listening on {url}");
    use std::io::Write;
    std::io::stdout().flush()?;
    let mut code = 0;
    match &args.run {
        Some(command) => {
            let command = command.clone();
            let env_url = url.clone();
            let status = tokio::task::spawn_blocking(move || {
                std::process::Command::new("sh")
                    .arg("-c")
                    .arg(&command)
                    .env("TALLYFY_CONFORMANCE_URL", env_url)
                    .status()
            })
            .await
            .map_err(std::io::Error::other)??;
            code = status.code().unwrap_or(1);
        }
        None => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = server.stopped() => {}
            }
        }
    }
    let report = server.report();
    if let Some(path) = &args.report {
        let text = serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?;
        std::fs::write(path, text + "\n")?;
    }
    let summary = &report["summary"];
    eprintln!(
        "conformance: {} passed, {} failed, {} not applicable",
        summary["passed"], summary["failed"], summary["not_applicable"]
    );
    if args.run.is_some() && args.strict && summary["failed"].as_u64().unwrap_or_default() > 0 {
        code = code.max(1);
    }
    Ok(code)
}

type Answer = Response;

fn error(status: StatusCode, message: impl Into<String>) -> Answer {
    (status, Json(json!({"error": message.into()}))).into_response()
}

async fn index() -> Json<Value> {
    Json(json!({
        "about": "The Tallyfy SDK conformance kit. See tests/conformance/README.md.",
        "endpoints": {
            "GET /_conformance/cases": "every row, resolved, with the operations it selects",
            "GET /_conformance/operations": "every operation: route, fixture path and body, documented success",
            "GET /_conformance/kinds": "the error kinds",
            "GET /_conformance/retries": "the retry rules",
            "POST /_conformance/arm": "{\"case\": NAME, \"operation\": ID} or {\"operation\": ID, \"server\": [STEPS]}",
            "GET /_conformance/seen": "what the server saw since arming",
            "POST /_conformance/outcome": "what the SDK returned; answered with the verdict",
            "GET /_conformance/report": "every verdict so far",
            "POST /_conformance/reset": "disarm",
            "POST /_conformance/shutdown": "stop",
        }
    }))
}

async fn cases(State(conf): State<Arc<Conf>>) -> Answer {
    match conf.kit.cases() {
        Ok(cases) => Json(json!({
            "format": conf.kit.table["format"],
            "defaults": conf.kit.table["defaults"],
            "cases": cases,
        }))
        .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

async fn operations(State(conf): State<Arc<Conf>>) -> Json<Value> {
    Json(conf.kit.operations.clone())
}

async fn kinds(State(conf): State<Arc<Conf>>) -> Json<Value> {
    Json(conf.kit.kinds.clone())
}

async fn retries(State(conf): State<Arc<Conf>>) -> Json<Value> {
    Json(conf.kit.retries.clone())
}

async fn elsewhere() -> Answer {
    error(
        StatusCode::NOT_FOUND,
        "this is the control API; send the SDK's requests to the base_url that POST /_conformance/arm answers with",
    )
}

#[derive(Deserialize)]
struct ArmRequest {
    case: Option<String>,
    operation: String,
    server: Option<Value>,
}

async fn arm(State(conf): State<Arc<Conf>>, Json(request): Json<ArmRequest>) -> Answer {
    // Disarm what was armed: its port closes.
    conf.inner().armed = None;
    let Some(op) = Operation::find(&request.operation) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no operation {:?}", request.operation),
        );
    };
    let Some(info) = conf.kit.operation(op.id) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("{}: not in operations.json", op.id),
        );
    };
    let case = match (&request.case, &request.server) {
        (Some(name), _) => {
            let cases = match conf.kit.cases() {
                Ok(cases) => cases,
                Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
            };
            let Some(case) = cases.into_iter().find(|c| c["name"] == name.as_str()) else {
                return error(StatusCode::NOT_FOUND, format!("no case {name:?}"));
            };
            if !case["selected"]
                .as_array()
                .is_some_and(|s| s.iter().any(|id| id == op.id))
            {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("{name:?} does not select {}", op.id),
                );
            }
            Some(case)
        }
        (None, Some(_)) => None,
        (None, None) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "name a `case`, or give `server` steps of your own",
            );
        }
    };
    let server = match &case {
        Some(case) => case["server"].clone(),
        None => request.server.clone().unwrap_or(Value::Null),
    };
    let documented_status =
        u16::try_from(info["success"]["status"].as_u64().unwrap_or(200)).unwrap_or(200);
    let documented_body = match &info["success"]["body"] {
        Value::Null => String::new(),
        body => body.to_string(),
    };
    let scripts: Vec<Script> = match &server {
        Value::String(s) if s == "refuse" => Vec::new(),
        Value::Array(steps) => {
            let mut scripts = Vec::new();
            for step in steps {
                let step: Step = match serde_json::from_value(step.clone()) {
                    Ok(step) => step,
                    Err(e) => {
                        return error(StatusCode::UNPROCESSABLE_ENTITY, format!("a step: {e}"));
                    }
                };
                match wire::script(&step, (documented_status, &documented_body)) {
                    Ok(script) => scripts.push(script),
                    Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e),
                }
            }
            scripts
        }
        other => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("bad server {other}: \"refuse\" or a list of steps"),
            );
        }
    };
    let refuse = matches!(&server, Value::String(_));
    // A row's port: bound now, played in the background, closed after the last step.
    // For "refuse", a port bound and released at once, where nothing listens.
    let listener = match TcpListener::bind(conf.sdk_addr).await {
        Ok(listener) => listener,
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("bind {}: {e}", conf.sdk_addr),
            );
        }
    };
    let sdk = match listener.local_addr() {
        Ok(sdk) => sdk,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let task = if refuse {
        drop(listener);
        None
    } else {
        Some(tokio::spawn(wire::play(
            listener,
            scripts,
            log.clone(),
            started,
            conf.stream_cap,
        )))
    };
    let base_url = format!("http://{sdk}");
    let method = info["method"].as_str().unwrap_or(op.method).to_owned();
    let path = info["request_path"].as_str().unwrap_or(op.path).to_owned();
    let answer = json!({
        "base_url": base_url,
        "case": case,
        "operation": info,
        "request": {"method": method, "path": path},
        "server": server,
    });
    conf.inner().armed = Some(Armed {
        case,
        operation: op,
        method,
        path,
        base_url,
        refuse,
        started,
        log,
        task,
    });
    Json(answer).into_response()
}

fn seen_of(armed: &Armed) -> Vec<wire::Seen> {
    armed
        .log
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

async fn seen(State(conf): State<Arc<Conf>>) -> Answer {
    let inner = conf.inner();
    let Some(armed) = &inner.armed else {
        return error(StatusCode::CONFLICT, "nothing is armed");
    };
    let seen = seen_of(armed);
    Json(json!({
        "case": armed.case.as_ref().map(|c| c["name"].clone()),
        "operation": armed.operation.id,
        "base_url": armed.base_url,
        "refuse": armed.refuse,
        "elapsed_ms": armed.started.elapsed().as_millis() as u64,
        "attempts": seen.len(),
        "waits_ms": judge::observed_waits(&seen),
        "requests": seen,
    }))
    .into_response()
}

async fn outcome(State(conf): State<Arc<Conf>>, Json(outcome): Json<Outcome>) -> Answer {
    if !matches!(outcome.result.as_str(), "ok" | "error" | "not_applicable") {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "result: \"ok\", \"error\" or \"not_applicable\"",
        );
    }
    let mut inner = conf.inner();
    if outcome.result == "not_applicable" && (outcome.case.is_some() || inner.armed.is_none()) {
        let case = outcome.case.clone().unwrap_or_default();
        let op = outcome.operation.clone().unwrap_or_default();
        let entry = judge::entry(
            &case,
            &op,
            "not_applicable",
            Vec::new(),
            Vec::new(),
            &outcome,
            &[],
        );
        inner.results.push(entry.clone());
        return Json(entry).into_response();
    }
    let Some(armed) = &inner.armed else {
        return error(StatusCode::CONFLICT, "nothing is armed");
    };
    let seen = seen_of(armed);
    let entry = match &armed.case {
        None => {
            let mut entry = judge::entry(
                "",
                armed.operation.id,
                "recorded",
                Vec::new(),
                vec!["a probe: no row to judge it against".into()],
                &outcome,
                &seen,
            );
            entry["server"] = Value::String("probe".into());
            entry
        }
        Some(case) => {
            let waits: Vec<u64> = case["waits_ms"]
                .as_array()
                .map(|w| w.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            let expected = Expected {
                expect: &case["expect"],
                attempts: case["attempts"]
                    .as_u64()
                    .and_then(|a| u32::try_from(a).ok())
                    .unwrap_or_default(),
                waits_ms: &waits,
                refuse: armed.refuse,
                method: &armed.method,
                path: &armed.path,
            };
            let (verdict, problems, notes) = judge::judge(&outcome, &expected, &seen);
            judge::entry(
                case["name"].as_str().unwrap_or_default(),
                armed.operation.id,
                verdict,
                problems,
                notes,
                &outcome,
                &seen,
            )
        }
    };
    inner.results.push(entry.clone());
    Json(entry).into_response()
}

async fn report(State(conf): State<Arc<Conf>>) -> Json<Value> {
    Json(report_of(&conf.inner().results))
}

async fn reset(State(conf): State<Arc<Conf>>) -> Json<Value> {
    conf.inner().armed = None;
    Json(json!({"armed": false}))
}

async fn shutdown(State(conf): State<Arc<Conf>>) -> Json<Value> {
    conf.inner().armed = None;
    let stop = conf
        .shutdown
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some(stop) = stop {
        let _ = stop.send(());
    }
    Json(json!({"stopping": true}))
}

/// The fixture value of a path parameter: the Rust runner's IDs, an integer member ID
/// and a guest's email address; for a parameter no runner knows yet, one made from its
/// name.
pub fn fixture(name: &str) -> String {
    match name {
        "org_id" => "org_8f3a".into(),
        "run_id" => "3f2a9c4b1d6e8f0a2b4c6d8e0f1a3b5c".into(),
        "task_id" => "task_77aa".into(),
        "tag_id" => "tag_91bc".into(),
        "user_id" => "1001".into(),
        "guest_email" => "guest@example.com".into(),
        other => format!("{}_5e1", other.trim_end_matches("_id")),
    }
}

/// The path parameters of `op`, in order.
pub fn path_params(op: &Operation) -> Vec<&'static str> {
    op.path
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
        .collect()
}

/// The path `op` requests with the fixture IDs.
pub fn request_path(op: &Operation) -> String {
    path_params(op)
        .into_iter()
        .fold(op.path.to_owned(), |path, name| {
            path.replace(&format!("{{{name}}}"), &fixture(name))
        })
}

#[cfg(test)]
mod tests;
