//! Bad input: refused before sending, with a clear error, never a panic.

use httpmock::MockServer;
use tallyfy::{Client, Execute, RetryPolicy};

use crate::support::{ORG, client};

/// The error of a permanent delete of `id`, which must fail.
async fn refused(client: &Client, id: &str) -> tallyfy::Error {
    client
        .permanently_delete_process()
        .org_id(ORG)
        .run_id(id)
        .execute()
        .await
        .unwrap_err()
}

#[tokio::test]
async fn blank_ids_are_refused_without_a_request() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200);
        })
        .await;
    let client = client(&server);
    for id in ["", " ", "\t\n"] {
        let error = refused(&client, id).await;
        assert!(error.is_invalid_input(), "{id:?}: {error}");
        assert!(
            error.explanation().contains("`run_id` is empty"),
            "{error:?}"
        );
        assert_eq!(error.attempts(), 0);
        let error = client
            .archive_task()
            .org_id(id)
            .task_id("t")
            .execute()
            .await
            .unwrap_err();
        assert!(
            error.explanation().contains("`org_id` is empty"),
            "{error:?}"
        );
    }
    let error = client.delete_tag().org_id(ORG).execute().await.unwrap_err();
    assert!(error.is_invalid_input(), "a missing ID: {error}");
    assert_eq!(any.calls_async().await, 0, "nothing was sent");
}

#[tokio::test]
async fn ids_never_change_the_path() {
    let server = MockServer::start_async().await;
    let client = client(&server);
    // Encoded as one segment: sent, to the exact path.
    for (id, encoded) in [
        ("a/b", "a%2Fb"),
        ("../x", "..%2Fx"),
        ("q?x=1", "q%3Fx=1"),
        ("f#frag", "f%23frag"),
        ("%2e%2e", "%252e%252e"),
    ] {
        let mock = server
            .mock_async(|when, then| {
                when.method("DELETE").is_true(move |r| {
                    r.uri().path() == format!("/organizations/{ORG}/runs/{encoded}/delete")
                });
                then.status(200);
            })
            .await;
        client
            .permanently_delete_process()
            .org_id(ORG)
            .run_id(id)
            .execute()
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        mock.assert_async().await;
    }
    // What a URL parser would resolve or split: refused.
    for id in ["..", ".", "a\\b", "..\\x"] {
        let error = refused(&client, id).await;
        assert!(error.is_invalid_input(), "{id:?}: {error}");
    }
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let cases = [
        (
            Client::builder("token-with-newline\n").base_url("https://x.test"),
            "newline",
        ),
        (
            Client::builder("ok").base_url("http://api.tallyfy.com"),
            "plain http",
        ),
        (Client::builder("ok").base_url("not a url"), "not a URL"),
        (Client::builder("ok").user_agent("bad\nagent"), "user agent"),
    ];
    for (builder, needle) in cases {
        let error = builder.retry(RetryPolicy::none()).build().unwrap_err();
        assert!(error.is_invalid_input());
        assert!(error.explanation().contains(needle), "{error:?}");
        assert!(!format!("{error:?}").contains("token-with-newline"));
    }
}

#[tokio::test]
async fn a_builder_of_a_client_without_the_transport_sends_nothing() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200);
        })
        .await;
    let bare = tallyfy_api::Client::new_with_client(
        &server.base_url(),
        tallyfy::http_client_builder().build().unwrap(),
        tallyfy_api::Extension::default(),
    );
    let error = tallyfy::Execute::execute(bare.get_process().org_id(ORG).run_id("run"))
        .await
        .unwrap_err();
    assert!(error.is_invalid_input(), "{error:?}");
    assert_eq!(
        any.calls_async().await,
        0,
        "nothing went out around the transport"
    );
}
