//! What the SDK traces: one span per request, an event per retry, never the token.
//!
//! Its own test binary: tracing caches which callsites are enabled process-wide, and a
//! subscriber set for one test thread is not reliable while other tests run.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

#[path = "../sdk/support.rs"]
#[allow(dead_code)]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tallyfy::RetryPolicy;

use support::{TOKEN, answer, call, recording_client, scripted, success};

/// Collects what tracing writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn retries_are_traced_and_the_token_never_is() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (status, body) = success("get_process");
    let (base_url, _) = scripted(vec![
        answer(503, &[("x-request-id", "req-503")], "<html>busy</html>"),
        answer(status, &[("x-request-id", "req-ok")], &body.to_string()),
    ])
    .await;
    let (client, waits) = recording_client(&base_url, RetryPolicy::default().with_jitter(false));
    call(&client, "get_process")
        .await
        .expect("the retry succeeds");

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert_eq!(*waits.lock().unwrap(), [Duration::from_millis(500)]);
    for needle in [
        "retrying",
        "operation=\"get_process\"",
        "attempt=1",
        "wait_ms=500",
        "reason=\"server_error\"",
        "path=\"/organizations/{org_id}/runs/{run_id}\"",
        "status=503",
        "request_id=\"req-503\"",
        "attempt=2",
    ] {
        assert!(text.contains(needle), "{needle} is missing from:\n{text}");
    }
    assert!(!text.contains(TOKEN), "the token was logged:\n{text}");
    assert!(
        !text.contains("Bearer"),
        "the authorization header was logged:\n{text}"
    );
}
