//! Retries are cancellable and keep the token to the host it belongs to.

use std::time::Duration;

use httpmock::MockServer;
use tallyfy::{Client, RetryPolicy};

use crate::support::{Script, TOKEN, answer, call, head, scripted};

#[tokio::test]
async fn dropping_the_call_stops_the_wait() {
    let (base_url, heads) = scripted(vec![
        answer(429, &[("retry-after", "30")], ""),
        answer(204, &[], ""),
    ])
    .await;
    let client = Client::builder(TOKEN).base_url(base_url).build().unwrap();
    let call = call(&client, "delete_tag");
    let outcome = tokio::time::timeout(Duration::from_millis(300), call).await;
    assert!(
        outcome.is_err(),
        "the call was still waiting for Retry-After"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        heads.lock().unwrap().len(),
        1,
        "no request after the call was dropped"
    );
}

#[tokio::test]
async fn the_token_does_not_follow_a_redirect_to_another_host() {
    let elsewhere = MockServer::start_async().await;
    let landing = elsewhere
        .mock_async(|when, then| {
            when.path("/landing").header_missing("authorization");
            then.status(204);
        })
        .await;
    let origin = MockServer::start_async().await;
    let target = format!("http://localhost:{}/landing", elsewhere.port());
    origin
        .mock_async(|when, then| {
            when.any_request();
            then.status(307).header("location", target);
        })
        .await;
    // A caller's own HTTP client that does follow redirects.
    let http = tallyfy::http_client_builder()
        .redirect(tallyfy::reqwest::redirect::Policy::limited(3))
        .build()
        .unwrap();
    let client = Client::builder(TOKEN)
        .base_url(origin.base_url())
        .http_client(http)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    call(&client, "delete_tag")
        .await
        .expect("the redirect landed");
    landing.assert_async().await;
}

#[tokio::test]
async fn the_timeout_bounds_an_attempt_whoever_built_the_http_client() {
    let slow_body = head(200, &[("content-length", "100")]);
    for own_http_client in [false, true] {
        for step in [Script::Stall, Script::StallBody(slow_body.clone())] {
            let case = format!("{step:?}, own HTTP client: {own_http_client}");
            let (base_url, heads) = scripted(vec![step]).await;
            let mut builder = Client::builder(TOKEN)
                .base_url(base_url)
                .timeout(Duration::from_millis(200))
                .retry(RetryPolicy::none());
            if own_http_client {
                builder = builder.http_client(tallyfy::http_client_builder().build().unwrap());
            }
            let started = std::time::Instant::now();
            let error = call(&builder.build().unwrap(), "get_process")
                .await
                .expect_err("no complete answer came");
            assert!(error.is_timeout(), "{case}: {error}");
            assert!(started.elapsed() < Duration::from_secs(2), "{case}");
            assert_eq!(heads.lock().unwrap().len(), 1, "{case}");
        }
    }
}
