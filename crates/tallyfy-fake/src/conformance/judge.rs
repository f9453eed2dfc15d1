//! Judges what a runner says its SDK did against the row's expectations and what the
//! server saw.

use serde::Deserialize;
use serde_json::{Value, json};

use super::wire::Seen;

/// What a runner reports of one call of its SDK (`POST /_conformance/outcome`).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Outcome {
    /// For a row recorded without arming it (`not_applicable`).
    pub case: Option<String>,
    pub operation: Option<String>,
    /// `ok`, `error` or `not_applicable`.
    pub result: String,
    /// Why a row is not applicable, or anything the report should say.
    pub reason: Option<String>,
    pub kind: Option<String>,
    pub status: Option<u16>,
    pub retry_after_s: Option<f64>,
    /// The raw body the error keeps: a string, JSON the SDK parsed, or `null` (none).
    #[serde(default, deserialize_with = "present")]
    pub body: Option<Option<Value>>,
    /// The length in bytes of the body the error keeps (instead of the body itself).
    pub body_length: Option<u64>,
    /// Whether the SDK marks the kept body as cut short.
    pub body_truncated: Option<bool>,
    /// How many requests the SDK made, as the runner counted them.
    pub attempts: Option<u32>,
    /// The attempt count the error itself carries, if the SDK keeps one.
    pub error_attempts: Option<u32>,
    /// The waits between attempts, from a sleeper the runner injected.
    pub waits_ms: Option<Vec<f64>>,
    /// Free text: the exception's class and message, for the report.
    pub detail: Option<String>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Value>>, D::Error> {
    Option::<Value>::deserialize(d).map(Some)
}

/// What the row expects, resolved.
pub(crate) struct Expected<'a> {
    pub expect: &'a Value,
    pub attempts: u32,
    pub waits_ms: &'a [u64],
    pub refuse: bool,
    pub method: &'a str,
    pub path: &'a str,
}

/// The waits the server observed: from the end of each exchange to the arrival of the
/// next attempt, in whole milliseconds.
pub(crate) fn observed_waits(seen: &[Seen]) -> Vec<Option<f64>> {
    seen.windows(2)
        .map(|pair| {
            pair[0]
                .ended_ms
                .map(|end| (pair[1].at_ms - end).max(0.0).round())
        })
        .collect()
}

/// Judges `outcome`: `(verdict, problems, notes)`.
pub(crate) fn judge(
    outcome: &Outcome,
    expected: &Expected<'_>,
    seen: &[Seen],
) -> (&'static str, Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    if outcome.result == "not_applicable" {
        return ("not_applicable", problems, notes);
    }

    // The requests went where the operation goes.
    for s in seen {
        if let Some(request) = &s.request
            && (request.method != expected.method
                || percent_decoded(&request.path) != percent_decoded(expected.path))
        {
            problems.push(format!(
                "route: attempt {} was {} {}, the operation is {} {}",
                s.attempt, request.method, request.path, expected.method, expected.path
            ));
        }
    }

    // Attempts: the connections the server accepted, or what the runner counted where
    // nothing listens.
    let attempts = if expected.refuse {
        outcome.attempts.or(outcome.error_attempts)
    } else {
        u32::try_from(seen.len()).ok()
    };
    match attempts {
        Some(n) if n != expected.attempts => {
            problems.push(format!("attempts: expected {}, got {n}", expected.attempts))
        }
        Some(_) => {}
        None => notes.push("attempts not checked: the runner did not count them".into()),
    }
    if let Some(n) = outcome.error_attempts
        && n != expected.attempts
    {
        problems.push(format!(
            "the error's attempt count: expected {}, got {n}",
            expected.attempts
        ));
    }

    // Waits: the runner's recorded sleeps if it has them, else what the wire showed.
    let want: Vec<f64> = expected.waits_ms.iter().map(|w| *w as f64).collect();
    if let Some(waits) = &outcome.waits_ms {
        let same =
            waits.len() == want.len() && waits.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1.0);
        if !same {
            problems.push(format!(
                "waits_ms: expected {:?}, got {:?}",
                expected.waits_ms,
                waits.iter().map(|w| w.round() as i64).collect::<Vec<_>>()
            ));
        }
    } else if expected.refuse {
        notes.push("waits not checked: nothing listens, and the runner recorded none".into());
    } else {
        let wire = observed_waits(seen);
        let within = |got: f64, want: f64| got >= want - 5.0 && got <= want + 150.0 + want / 10.0;
        let same = wire.len() == want.len()
            && wire
                .iter()
                .zip(&want)
                .all(|(got, want)| got.is_some_and(|g| within(g, *want)));
        if same {
            notes.push("waits checked on the wire".into());
        } else {
            problems.push(format!(
                "waits_ms (observed on the wire): expected {:?}, got {:?}",
                expected.waits_ms, wire
            ));
        }
    }

    // The result.
    let e = expected.expect;
    let want_result = e["result"].as_str().unwrap_or_default();
    match (want_result, outcome.result.as_str()) {
        ("ok", "ok") => {}
        ("error", "error") => check_error(outcome, e, &mut problems, seen),
        ("ok", got) => problems.push(format!(
            "result: expected success, got {got} {}",
            describe(outcome)
        )),
        (_, got) => problems.push(format!(
            "result: expected an error ({}), got {got}",
            e["kind"].as_str().unwrap_or("any kind")
        )),
    }
    let verdict = if problems.is_empty() {
        "passed"
    } else {
        "failed"
    };
    (verdict, problems, notes)
}

/// `path` with its `%XX` escapes decoded (a path segment may be escaped or not).
fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn describe(outcome: &Outcome) -> String {
    let mut parts = Vec::new();
    if let Some(kind) = &outcome.kind {
        parts.push(kind.clone());
    }
    if let Some(status) = outcome.status {
        parts.push(format!("HTTP {status}"));
    }
    if let Some(detail) = &outcome.detail {
        parts.push(detail.chars().take(160).collect());
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("({})", parts.join(", "))
    }
}

fn check_error(outcome: &Outcome, e: &Value, problems: &mut Vec<String>, seen: &[Seen]) {
    if let Some(kind) = e["kind"].as_str() {
        let got = outcome.kind.as_deref().unwrap_or("none");
        if got != kind {
            problems.push(format!(
                "kind: expected {kind}, got {got} {}",
                describe(outcome)
            ));
        }
    }
    if let Some(status) = e["status"].as_u64()
        && outcome.status.map(u64::from) != Some(status)
    {
        problems.push(format!(
            "status: expected {status}, got {}",
            outcome
                .status
                .map_or_else(|| "none".to_owned(), |s| s.to_string())
        ));
    }
    if let Some(secs) = e["retry_after_s"].as_f64()
        && outcome
            .retry_after_s
            .is_none_or(|s| (s - secs).abs() >= 1.0)
    {
        problems.push(format!(
            "retry_after_s: expected {secs}, got {}",
            outcome
                .retry_after_s
                .map_or_else(|| "none".to_owned(), |s| s.to_string())
        ));
    }
    if let Some(body) = e.get("body") {
        match &outcome.body {
            None => problems.push("body: expected it kept, the runner reported none".into()),
            Some(got) => {
                if !same_body(body.as_str(), got.as_ref()) {
                    problems.push(format!(
                        "body: expected {}, got {}",
                        body,
                        got.as_ref().map_or("null".into(), short)
                    ));
                }
            }
        }
    }
    if let Some(truncated) = e["body_truncated"].as_bool() {
        let sent: u64 = seen.iter().map(|s| s.body_bytes_sent).sum();
        // The SDK's own mark, else a kept body shorter than what the server sent.
        let from_body = match &outcome.body {
            Some(Some(Value::String(s))) => Some(!s.is_empty() && (s.len() as u64) < sent),
            Some(None) | Some(Some(Value::Null)) => Some(false),
            _ => None,
        };
        let got = outcome.body_truncated.or(outcome
            .body_length
            .map(|kept| kept > 0 && kept < sent)
            .or(from_body));
        match got {
            Some(got) if got == truncated => {}
            Some(got) => problems.push(format!(
                "body truncated: expected {truncated}, got {got} (kept {} of {sent} bytes sent)",
                outcome
                    .body_length
                    .map_or_else(|| "an unknown number".into(), |n| n.to_string())
            )),
            None => problems
                .push("body truncated: the runner reported neither the body nor its length".into()),
        }
    }
}

/// Whether the kept body is the expected one: the same text, the same JSON (an SDK may
/// keep the body parsed), or no body where none is expected (`null` or empty).
fn same_body(want: Option<&str>, got: Option<&Value>) -> bool {
    let got_text = match got {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    match (want, got_text) {
        (None, None) => true,
        (Some(w), Some(g)) if w == g => true,
        (Some(w), Some(g)) => {
            let parsed = |s: &str| serde_json::from_str::<Value>(s).ok();
            let from_sdk = match got {
                Some(Value::String(_)) => parsed(&g),
                Some(v) => Some(v.clone()),
                None => None,
            };
            parsed(w).is_some_and(|w| Some(w) == from_sdk)
        }
        _ => false,
    }
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.len() > 200 {
        let cut: String = text.chars().take(200).collect();
        format!("{cut}... ({} bytes)", text.len())
    } else {
        text
    }
}

/// One entry of the report.
pub(crate) fn entry(
    case: &str,
    operation: &str,
    verdict: &str,
    problems: Vec<String>,
    notes: Vec<String>,
    outcome: &Outcome,
    seen: &[Seen],
) -> Value {
    json!({
        "case": case,
        "operation": operation,
        "verdict": verdict,
        "problems": problems,
        "notes": notes,
        "reason": outcome.reason,
        "reported": {
            "result": outcome.result,
            "kind": outcome.kind,
            "status": outcome.status,
            "detail": outcome.detail,
            "waits_ms": outcome.waits_ms,
            "attempts": outcome.attempts,
        },
        "observed": {
            "attempts": seen.len(),
            "waits_ms": observed_waits(seen),
            "requests": seen.iter().map(|s| match &s.request {
                Some(r) => format!("{} {}", r.method, r.target),
                None => format!("({})", s.step),
            }).collect::<Vec<_>>(),
        },
    })
}
