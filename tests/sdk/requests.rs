//! The request each operation sends, snapshotted (the token and port redacted).

use std::sync::{Arc, Mutex};

use httpmock::MockServer;
use tallyfy::{Execute, OPERATIONS};

use crate::support::{TOKEN, call, client};

#[tokio::test]
async fn each_operation_sends_what_the_api_documents() {
    let server = MockServer::start_async().await;
    let captured = Arc::new(Mutex::new(Vec::new()));
    let sink = captured.clone();
    server
        .mock_async(move |when, then| {
            when.is_true(move |request| {
                sink.lock().unwrap().push(request.clone());
                true
            });
            then.status(599);
        })
        .await;
    let client = client(&server);
    for op in OPERATIONS {
        let _ = call(&client, op.id).await;
        let request = captured.lock().unwrap().pop().expect("a request was sent");
        let mut headers: Vec<String> = request
            .headers_vec()
            .iter()
            .map(|(name, value)| {
                let value = match name.as_str() {
                    "authorization" => {
                        assert_eq!(value, &format!("Bearer {TOKEN}"));
                        "Bearer [token]".to_string()
                    }
                    "host" => "127.0.0.1:[port]".to_string(),
                    "user-agent" => {
                        value.split('/').next().unwrap_or_default().to_string() + "/[version]"
                    }
                    _ => value.clone(),
                };
                format!("{name}: {value}")
            })
            .collect();
        headers.sort();
        let text = format!(
            "{} {}\n{}\n\nbody: {:?}",
            request.method_str(),
            request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or_default(),
            headers.join("\n"),
            request.body_string()
        );
        assert!(!text.contains(TOKEN));
        // A form's boundary is new on every request.
        let boundary = headers
            .iter()
            .find_map(|h| h.split_once("boundary=").map(|(_, b)| b.to_owned()));
        let text = match boundary {
            Some(boundary) => text.replace(&boundary, "[boundary]"),
            None => text,
        };
        insta::assert_snapshot!(format!("request_{}", op.id), text);
    }
}

#[tokio::test]
async fn a_query_reaches_the_server_with_spaces_as_percent_20() {
    let server = MockServer::start_async().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    server
        .mock_async(move |when, then| {
            when.is_true(move |request| {
                let raw = request
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str().to_owned());
                sink.lock().unwrap().extend(raw);
                true
            });
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"data": []}"#);
        })
        .await;
    let q = "Q3 review & sign-off + notes #2 100% Zoë 東京";
    let page = client(&server)
        .list_processes()
        .org_id("org")
        .q(q)
        .execute()
        .await
        .unwrap();
    assert!(page.data.is_empty());

    let raw = seen.lock().unwrap().pop().expect("a request was sent");
    let query = raw.split_once('?').map(|(_, q)| q).unwrap_or_default();
    assert!(!query.contains('+'), "a `+` in {query}");
    assert!(
        query.contains("Q3%20review%20%26%20sign-off%20%2B%20notes%20%232%20100%25%20Zo%C3%AB%20"),
        "{query}"
    );
    let url = tallyfy::reqwest::Url::parse(&format!("http://127.0.0.1{raw}")).unwrap();
    let sent: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(sent, [("q".to_owned(), q.to_owned())]);
}
