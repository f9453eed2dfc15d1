//! Every operation of the spec against every status it documents.

use httpmock::MockServer;
use serde_json::{Value, json};
use tallyfy::{Error, OPERATIONS, Operation};

use crate::json::same_json;

use crate::support::{
    ORG, RUN, TOKEN, call, client, error_body, kind_of, path_of, request_body, run, sent, statuses,
    success,
};

/// Mocks one answer of `op`, requiring the exact method, path and the three headers,
/// and the documented request body (none for an operation that takes none).
async fn mock_answer<'a>(
    server: &'a MockServer,
    op: &tallyfy::Operation,
    status: u16,
    headers: &[(&str, &str)],
    body: &str,
) -> httpmock::Mock<'a> {
    let (method, path) = (op.method, path_of(op));
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let body = body.to_string();
    let expected = request_body(op);
    server
        .mock_async(move |when, then| {
            when.method(method)
                .path(path)
                .header("authorization", format!("Bearer {TOKEN}"))
                .header("accept", "application/json")
                .header("x-tallyfy-client", "APIClient")
                .is_true(move |request| match &expected {
                    None => request.body_ref().is_empty(),
                    Some(expected) => sent(request) == Some(expected.clone()),
                });
            let mut then = then.status(status).body(body);
            for (name, value) in headers {
                then = then.header(name, value);
            }
        })
        .await
}

/// A success reads as the documented example it was answered with (nothing lost), a
/// file as the bytes sent, and an operation that documents no body reads as `null`
/// whatever came.
fn assert_success(op: &Operation, result: Result<Value, Error>, sent: &str) {
    let value = result.unwrap_or_else(|e| panic!("{}: expected success, got {e}", op.id));
    if op.streams {
        assert_eq!(value, Value::String(sent.to_owned()), "{}: the file", op.id);
    } else if op.returns_body {
        let sent: Value = serde_json::from_str(sent).expect("a JSON success body");
        assert!(
            same_json(&sent, &value),
            "{}: sent {sent}, read {value}",
            op.id
        );
    } else {
        assert_eq!(value, Value::Null, "{}: no body is documented", op.id);
    }
}

#[tokio::test]
async fn every_operation_answers_every_documented_status() {
    let server = MockServer::start_async().await;
    let client = client(&server);
    let mut checked = 0;
    for op in OPERATIONS {
        let (success_status, success_body) = success(op.id);
        for (documented, _) in op.responses {
            for status in statuses(documented) {
                let request_id = format!("req-{}-{status}", op.id);
                let headers = [("x-request-id", request_id.as_str()), ("retry-after", "7")];
                let body = match status {
                    200..=299 if status == success_status && !success_body.is_null() => {
                        success_body.to_string()
                    }
                    // Any other success status may carry a body nobody documented.
                    200..=299 if success_body.is_null() => r#"{"unexpected": true}"#.to_string(),
                    200..=299 => success_body.to_string(),
                    _ => error_body(status).to_string(),
                };
                let mock = mock_answer(&server, op, status, &headers, &body).await;
                let result = call(&client, op.id).await;
                mock.assert_async().await;
                mock.delete_async().await;

                if (200..300).contains(&status) {
                    assert_success(op, result, &body);
                } else {
                    let error = result.expect_err("an error status");
                    assert_eq!(
                        error.kind().as_str(),
                        kind_of(status),
                        "{} {status}: {error}",
                        op.id
                    );
                    assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
                    assert_eq!(error.request_id(), Some(request_id.as_str()));
                    assert_eq!(error.operation(), Some(op.id));
                    assert_eq!(error.attempts(), 1);
                    assert_eq!(error.body(), Some(body.as_str()));
                    if status == 429 {
                        assert_eq!(error.retry_after(), Some(std::time::Duration::from_secs(7)));
                    }
                    if status == 404 {
                        assert_eq!(error.code(), Some("RESOURCE_NOT_FOUND"));
                        assert_eq!(error.message(), Some("Resource not found"));
                    }
                    if status == 422 {
                        assert_eq!(
                            error.field_errors()["run"],
                            ["The run must be archived first."]
                        );
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= OPERATIONS.len() * 8, "only {checked} cases ran");
}

#[tokio::test]
async fn the_status_decides_the_kind_whatever_the_body() {
    let server = MockServer::start_async().await;
    let client = client(&server);
    let bodies = [
        "<html><body><h1>Not Found</h1></body></html>",
        "",
        "{\"message\": \"cut sh",
    ];
    for op in OPERATIONS {
        for status in [401, 403, 404, 422, 429, 500, 503] {
            for body in bodies {
                let mock = mock_answer(&server, op, status, &[], body).await;
                let error = call(&client, op.id).await.expect_err("an error status");
                mock.delete_async().await;
                assert_eq!(
                    error.kind().as_str(),
                    kind_of(status),
                    "{} {status} {body:?}",
                    op.id
                );
                assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
                assert_eq!(error.body(), (!body.is_empty()).then_some(body));
                assert_eq!(error.message(), None);
            }
        }
    }
}

#[tokio::test]
async fn the_permanent_delete_422_says_to_archive_first() {
    let server = MockServer::start_async().await;
    let op = tallyfy::Operation::find("permanently_delete_process").unwrap();
    mock_answer(&server, op, 422, &[], &error_body(422).to_string()).await;
    let error = call(&client(&server), op.id).await.unwrap_err();
    assert!(error.is_unprocessable());
    assert!(
        error.explanation().contains("not archived yet"),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_undecodable_success_body_is_unexpected_and_kept() {
    let server = MockServer::start_async().await;
    let client = client(&server);
    for op_id in [
        "list_processes",
        "get_process",
        "archive_process",
        "activate_process",
    ] {
        let op = tallyfy::Operation::find(op_id).unwrap();
        for body in ["<html>maintenance</html>", r#"{"data": 5}"#, ""] {
            let mock = mock_answer(&server, op, 200, &[], body).await;
            let error = call(&client, op_id).await.expect_err("undecodable");
            mock.delete_async().await;
            assert!(error.is_unexpected_response(), "{op_id} {body:?}: {error}");
            assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
            assert_eq!(error.body(), (!body.is_empty()).then_some(body));
        }
    }
}

#[tokio::test]
async fn pagination_links_and_progress_take_every_documented_shape() {
    let server = MockServer::start_async().await;
    let client = client(&server);
    let op = tallyfy::Operation::find("list_processes").unwrap();
    let mut bare_progress = run(false);
    bare_progress["progress"] = json!(40);
    for links in [
        json!({"next": "https://go.tallyfy.com/api/x?page=2", "previous": null}),
        Value::Null,
        json!([]),
    ] {
        let body = json!({
            "data": [bare_progress.clone()],
            "meta": {"pagination": {"total": 1, "count": 1, "per_page": 10, "current_page": 1, "total_pages": 1, "links": links}}
        });
        let mock = mock_answer(&server, op, 200, &[], &body.to_string()).await;
        let page = tallyfy::Execute::execute(client.list_processes().org_id(ORG)).await;
        mock.delete_async().await;
        let page = page.expect("decodes");
        assert_eq!(page.data[0].id, RUN);
        assert_eq!(
            serde_json::to_value(&page.data[0].progress).unwrap(),
            json!(40),
            "a bare integer progress is kept"
        );
        assert_eq!(page.meta.unwrap().pagination.unwrap().total, Some(1));
    }
}

#[tokio::test]
async fn list_filters_are_sent_as_query_parameters() {
    let server = MockServer::start_async().await;
    let body = success("list_processes").1.to_string();
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(format!("/organizations/{ORG}/runs"))
                .query_param("archived", "only")
                .query_param("status", "archived")
                .query_param("page", "2")
                .query_param("per_page", "100")
                .query_param("sort", "-created_at")
                .query_param("q", "on boarding");
            then.status(200).body(body);
        })
        .await;
    let client = client(&server);
    let page = tallyfy::Execute::execute(
        client
            .list_processes()
            .org_id(ORG)
            .archived("only")
            .status("archived")
            .page(std::num::NonZeroU32::new(2).unwrap())
            .per_page(std::num::NonZeroU32::new(100).unwrap())
            .sort("-created_at")
            .q("on boarding"),
    )
    .await
    .unwrap();
    mock.assert_async().await;
    assert_eq!(page.data[0].id, "run_id_abc", "the documented page");
}

#[tokio::test]
async fn successes_keep_their_status_request_id_and_body() {
    use tallyfy::Execute;
    let server = MockServer::start_async().await;
    let client = client(&server);
    let delete = OPERATIONS
        .iter()
        .find(|op| op.id == "permanently_delete_process")
        .unwrap();
    let get = OPERATIONS.iter().find(|op| op.id == "get_process").unwrap();
    let request_id = [("x-request-id", "req-7")];

    let mock = mock_answer(&server, delete, 200, &request_id, "").await;
    let deleted = client
        .permanently_delete_process()
        .org_id(ORG)
        .run_id(RUN)
        .execute_with_answer()
        .await
        .expect("deleted");
    mock.delete_async().await;
    assert_eq!(deleted.status(), 200);
    assert_eq!(deleted.request_id(), Some("req-7"));
    assert!(deleted.body().is_empty());

    let body = json!({"data": run(false)}).to_string();
    let mock = mock_answer(&server, get, 200, &request_id, &body).await;
    let fetched = client
        .get_process()
        .org_id(ORG)
        .run_id(RUN)
        .execute_with_answer()
        .await
        .expect("fetched");
    mock.delete_async().await;
    assert_eq!(fetched.request_id(), Some("req-7"));
    assert_eq!(fetched.body(), body.as_bytes());
    assert_eq!(fetched.into_value().data.id, RUN);
}
