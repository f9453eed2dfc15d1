//! The request each operation sends, snapshotted (the token and port redacted).

use std::sync::{Arc, Mutex};

use httpmock::MockServer;
use tallyfy::OPERATIONS;

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
        insta::assert_snapshot!(format!("request_{}", op.id), text);
    }
}
