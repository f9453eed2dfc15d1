//! One realistic error of every kind: its kind, predicates, and its `Display` and
//! `Debug` (snapshots, with ports redacted; the token never appears).

use std::collections::BTreeSet;
use std::time::Duration;

use tallyfy::{Client, Error, ErrorKind, RetryPolicy};

use crate::support::{
    ORG, RUN, Script, TOKEN, answer, call, client_with, refused_base_url, scripted,
};

fn snapshot(name: &str, error: &Error) {
    let text = format!("{error}\n\n{error:#?}");
    assert!(!text.contains(TOKEN), "the token leaked into {name}");
    insta::with_settings!({
        filters => vec![(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"), (r"port: \d+", "port: [port]")],
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

/// Plays `script` against operation `op` with `retry`; returns the error.
async fn fail(op: &str, script: Vec<Script>, retry: RetryPolicy) -> Error {
    let (base_url, _) = scripted(script).await;
    call(&client_with(&base_url, retry), op)
        .await
        .expect_err("a failure")
}

#[tokio::test]
async fn every_kind_from_a_realistic_failure() {
    let json = [
        ("content-type", "application/json"),
        ("x-request-id", "req-7f3e"),
    ];
    let none = RetryPolicy::none;
    let cases: Vec<(&str, Error)> = vec![
        (
            "invalid_input",
            call_with_run_id("  ").await,
        ),
        (
            "unauthorized",
            fail("get_process", vec![answer(401, &json, r#"{"error": "invalid_client"}"#)], none()).await,
        ),
        ("forbidden", fail("permanently_delete_process", vec![answer(403, &[], "")], none()).await),
        (
            "not_found",
            fail(
                "get_process",
                vec![answer(404, &[("content-type", "text/html")], "<html><body><h1>404 Not Found</h1></body></html>")],
                none(),
            )
            .await,
        ),
        (
            "unprocessable",
            fail(
                "permanently_delete_process",
                vec![answer(
                    422,
                    &json,
                    r#"{"error": true, "message": "The run must be archived first.", "code": "RUN_NOT_ARCHIVED"}"#,
                )],
                none(),
            )
            .await,
        ),
        (
            "rate_limited",
            fail(
                "archive_process",
                vec![answer(
                    429,
                    &[("retry-after", "3600"), ("x-request-id", "req-9a1b")],
                    r#"{"message": "You've reached the hourly limit", "code": "RATE_LIMIT_EXCEEDED"}"#,
                )],
                RetryPolicy::default(),
            )
            .await,
        ),
        (
            "client_error",
            fail(
                "list_processes",
                vec![answer(400, &json, r#"{"message": "The given data was invalid.", "errors": {"per_page": ["The per page may not be greater than 100."]}}"#)],
                none(),
            )
            .await,
        ),
        (
            "server_error",
            fail(
                "permanently_delete_process",
                vec![answer(500, &json, r#"{"error": {"code": "INTERNAL", "message": "Something went wr"#)],
                none(),
            )
            .await,
        ),
        ("not_delivered", call(&client_with(&refused_base_url().await, none()), "delete_tag").await.unwrap_err()),
        ("timeout", timeout_error().await),
        ("interrupted", fail("permanently_delete_task", vec![Script::Hangup], none()).await),
        (
            "unexpected_response",
            fail("get_process", vec![answer(200, &json, r#"{"data": {"id": "run_id_abc", "started_by": true}}"#)], none()).await,
        ),
        (
            "already_gone",
            fail(
                "permanently_delete_process",
                vec![
                    answer(504, &[("content-type", "text/html")], "<html>Gateway Timeout</html>"),
                    answer(404, &json, r#"{"error": true, "message": "Resource not found", "code": "RESOURCE_NOT_FOUND"}"#),
                ],
                RetryPolicy::default(),
            )
            .await,
        ),
    ];

    let mut seen = BTreeSet::new();
    for (kind, error) in &cases {
        assert_eq!(error.kind().as_str(), *kind, "{error}");
        snapshot(kind, error);
        seen.insert(*kind);
    }
    assert_eq!(
        seen,
        ErrorKind::ALL.iter().map(|k| k.as_str()).collect(),
        "every kind has a case"
    );
}

async fn call_with_run_id(run_id: &str) -> Error {
    let client = client_with("http://127.0.0.1:9", RetryPolicy::none());
    tallyfy::Execute::execute(
        client
            .permanently_delete_process()
            .org_id(ORG)
            .run_id(run_id),
    )
    .await
    .unwrap_err()
}

async fn timeout_error() -> Error {
    let (base_url, _) = scripted(vec![Script::Stall]).await;
    let client = Client::builder(TOKEN)
        .base_url(base_url)
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    tallyfy::Execute::execute(client.get_process().org_id(ORG).run_id(RUN))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn predicates_follow_the_kinds_table() {
    let (base_url, _) = scripted(vec![answer(503, &[], ""), answer(503, &[], "")]).await;
    let error = call(
        &client_with(&base_url, RetryPolicy::default().with_max_retries(1)),
        "get_process",
    )
    .await
    .unwrap_err();
    assert!(error.is_server_error() && error.is_retryable() && error.may_have_been_applied());
    assert_eq!(error.attempts(), 2);

    let refused = call(
        &client_with(&refused_base_url().await, RetryPolicy::none()),
        "get_process",
    )
    .await
    .unwrap_err();
    assert!(
        refused.is_not_delivered() && refused.is_retryable() && !refused.may_have_been_applied()
    );
}

#[tokio::test]
async fn a_success_that_does_not_decode_names_the_path_keeps_the_body_and_says_it_was_applied() {
    let body = r#"{"data": {"id": "run_id_abc", "name": "Onboarding", "owner_id": [1002]}}"#;
    let error = fail(
        "archive_process",
        vec![answer(200, &[("content-type", "application/json")], body)],
        RetryPolicy::default(),
    )
    .await;
    assert!(error.is_unexpected_response(), "{error}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    assert!(error.may_have_been_applied());
    assert_eq!(error.attempts(), 1, "a success is never sent again");
    assert_eq!(error.body(), Some(body));
    let explanation = error.explanation();
    assert!(
        explanation.contains("carried the operation out")
            && explanation.contains("data.owner_id: invalid type: sequence, expected a user ID"),
        "{explanation}"
    );
    let source = std::error::Error::source(&error).expect("the decode error");
    assert!(source.to_string().starts_with("data.owner_id:"), "{source}");
}
