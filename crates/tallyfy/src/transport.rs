//! How every request leaves the client: headers, path checks, bounded reads, retries,
//! tracing. One [`Transport`] per client serves every operation; it hands back the last
//! answer, its body read once, and what the attempts came to.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use http::{HeaderName, HeaderValue, StatusCode, header};
use tallyfy_api::Operation;
use tracing::Instrument;

use futures_util::future::Either;

use crate::error::BoxError;
use crate::gate::Gate;
use crate::path;
use crate::retry::{Failure, Outcome, RetryPolicy, Verdict, parse_retry_after};
use crate::watchdog::{Activity, OnProgress, Stalled, Watched, read_within};

/// `X-Tallyfy-Client`, required on every request.
pub(crate) const CLIENT_HEADER: HeaderName = HeaderName::from_static("x-tallyfy-client");
/// `X-Request-Id`, which Tallyfy support asks for.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The most of an error body that is read; the rest is never downloaded.
pub const MAX_ERROR_BODY: usize = 64 * 1024;
/// The most of a success body that is read; a larger one is `unexpected_response`.
pub const MAX_SUCCESS_BODY: usize = 32 * 1024 * 1024;

/// Waits between attempts; replaceable so that tests need not wait.
pub(crate) type Sleeper =
    Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

pub(crate) fn tokio_sleeper() -> Sleeper {
    Arc::new(|wait| Box::pin(tokio::time::sleep(wait)))
}

pub(crate) struct Transport {
    pub http: reqwest::Client,
    pub authorization: HeaderValue,
    pub user_agent: HeaderValue,
    pub base_path: String,
    /// Set on each request when the `reqwest::Client` was the caller's, which knows
    /// nothing of the SDK's timeout.
    pub per_request_timeout: Option<Duration>,
    /// The client's timeout: one attempt in all, or the longest a transfer may stand
    /// still.
    pub timeout: Duration,
    /// What an upload or a download gets in all instead of the client's timeout.
    pub transfer_timeout: Duration,
    pub retry: RetryPolicy,
    pub sleep: Sleeper,
    /// Shared by every request of the client and its clones.
    pub gate: Arc<Gate>,
}

/// Builds the request again, for a body that cannot be copied (a form's file, streamed
/// from disk), or says why it cannot.
pub(crate) type Rebuild<'a> = Box<dyn FnMut() -> Result<reqwest::Request, String> + Send + 'a>;

/// How one call is sent: its retry policy, its own timeout if it has one, and how to
/// build a request again whose body cannot be copied.
pub(crate) struct Sending<'a> {
    pub retry: &'a RetryPolicy,
    pub timeout: Option<Duration>,
    pub rebuild: Option<Rebuild<'a>>,
    /// Told how much of an upload's body has been sent.
    pub progress: Option<OnProgress>,
}

/// What a call's attempts came to: the last answer or failure, and the attempts.
pub(crate) struct Sent {
    pub result: Result<Answer, Broken>,
    pub attempts: Attempts,
}

/// An attempt that got no (complete) answer: what that tells of delivery, and why.
#[derive(Debug)]
pub(crate) struct Broken {
    pub failure: Failure,
    /// The request could not even be built (no failure of the network).
    pub builder: bool,
    pub error: BoxError,
}

impl From<reqwest::Error> for Broken {
    fn from(error: reqwest::Error) -> Self {
        Self {
            failure: Failure::of(&error),
            builder: error.is_builder(),
            error: Box::new(error),
        }
    }
}

impl Broken {
    /// A transfer during which nothing moved for `idle`.
    pub(crate) fn stalled(idle: Duration) -> Self {
        Self {
            failure: Failure::Timeout,
            builder: false,
            error: Box::new(Stalled(idle)),
        }
    }
}

/// How many requests a call sent, and whether one before the last may have landed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Attempts {
    pub count: u32,
    pub earlier_may_have_applied: bool,
}

/// An answer with its body read (up to the cap for its status), or left unread for the
/// caller: the file a streaming operation answers with.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    request_id: Option<HeaderValue>,
    retry_after: Option<HeaderValue>,
    pub body: Bytes,
    /// The body was longer than the cap and was cut.
    pub truncated: bool,
    /// The success answer of an operation that [`streams`](Operation::streams), its body
    /// unread: no cap applies to it.
    pub unread: Option<reqwest::Response>,
}

impl Answer {
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        parse_retry_after(self.retry_after.as_ref()?.to_str().ok()?, SystemTime::now())
    }

    pub(crate) fn request_id(&self) -> Option<String> {
        Some(self.request_id.as_ref()?.to_str().ok()?.to_owned())
    }
}

impl Transport {
    /// Sends a transfer, racing a watchdog that gives up when nothing moved for `idle`:
    /// no chunk of the body sent, no answer after the last one.
    async fn watched(
        &self,
        mut request: reqwest::Request,
        idle: Duration,
        progress: Option<OnProgress>,
    ) -> Result<reqwest::Response, Broken> {
        let activity = Activity::new();
        let length = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok());
        if let Some(body) = request.body_mut().take() {
            let watched = Watched::new(body, length, activity.clone(), progress);
            *request.body_mut() = Some(reqwest::Body::wrap(watched));
        }
        let sending = std::pin::pin!(self.http.execute(request));
        let watchdog = std::pin::pin!(activity.stalled(idle));
        match futures_util::future::select(sending, watchdog).await {
            Either::Left((answer, _)) => Ok(answer?),
            Either::Right(((), _)) => Err(Broken::stalled(idle)),
        }
    }
}

/// A copy of `request` for another attempt, or `None` for a body that cannot be read
/// twice (a stream). Unlike `reqwest::Request::try_clone`, it allocates no extensions map
/// when the request sets no timeout of its own.
fn spare(request: &reqwest::Request) -> Option<reqwest::Request> {
    let body = match request.body() {
        Some(body) => Some(reqwest::Body::from(Bytes::copy_from_slice(
            body.as_bytes()?,
        ))),
        None => None,
    };
    let mut copy = reqwest::Request::new(request.method().clone(), request.url().clone());
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    *copy.body_mut() = body;
    if let Some(timeout) = request.timeout() {
        *copy.timeout_mut() = Some(*timeout);
    }
    Some(copy)
}

/// Tallyfy does not read `+` in a query string as a space, so spaces go as `%20`.
///
/// The generated client encodes queries as forms do: a space as `+`, a `+` as `%2B`. So
/// every `+` in such a query is a space, and can be written as `%20` without ambiguity.
fn spaces_as_percent_20(url: &mut reqwest::Url) {
    if let Some(query) = url.query().filter(|q| q.contains('+')) {
        let query = query.replace('+', "%20");
        url.set_query(Some(&query));
    }
}

impl Transport {
    /// Checks and completes a request before anything is sent: the path, the query's
    /// spaces, the headers Tallyfy documents (plus a user agent), the timeout. An `Err`
    /// refuses it.
    pub(crate) fn prepare(
        &self,
        request: &mut reqwest::Request,
        op: &'static Operation,
        timeout: Option<Duration>,
    ) -> Result<(), String> {
        path::check(request.url().path(), &self.base_path, op.path)?;
        spaces_as_percent_20(request.url_mut());
        let headers = request.headers_mut();
        headers.insert(header::AUTHORIZATION, self.authorization.clone());
        // Also for a file: it streams all the same, and only then is an error JSON
        // (measured in production: with `*/*` a missing file's 404 is an HTML page).
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(CLIENT_HEADER, HeaderValue::from_static("APIClient"));
        headers.insert(header::USER_AGENT, self.user_agent.clone());
        // A transfer is timed by its pace (the watchdog), and in all by the transfer
        // timeout; a call's own timeout is then its idle limit.
        let total = match op.is_transfer() {
            true => Some(self.transfer_timeout),
            false => timeout.or(self.per_request_timeout),
        };
        if let Some(total) = total {
            *request.timeout_mut() = Some(total);
        }
        Ok(())
    }

    /// Sends a prepared request, again as its retry policy allows, inside the request's
    /// span. A request whose body cannot be copied is sent again only if it can be
    /// rebuilt.
    pub(crate) async fn send(
        &self,
        request: reqwest::Request,
        op: &'static Operation,
        sending: Sending<'_>,
    ) -> Sent {
        let span = tracing::info_span!(
            "tallyfy.request",
            operation = op.id,
            method = op.method,
            path = op.path,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        Box::pin(self.send_with_retries(request, op, sending, span.clone()))
            .instrument(span)
            .await
    }

    async fn send_with_retries(
        &self,
        mut request: reqwest::Request,
        op: &'static Operation,
        sending: Sending<'_>,
        span: tracing::Span,
    ) -> Sent {
        let Sending {
            retry,
            timeout,
            mut rebuild,
            progress,
        } = sending;
        // A transfer may take long, but not stand still.
        let idle = op.is_transfer().then(|| timeout.unwrap_or(self.timeout));
        let mut earlier_may_have_applied = false;
        let mut attempt = 0;
        let mut waited_own_hold = false;
        loop {
            attempt += 1;
            let wait = self.gate.reserve(Instant::now(), waited_own_hold);
            if !wait.is_zero() {
                tracing::debug!(
                    wait_ms = wait.as_millis() as u64,
                    "waiting at the client's rate gate"
                );
                (self.sleep)(wait).await;
            }
            let spare = spare(&request);
            if !span.is_disabled() {
                span.record("attempt", attempt);
            }

            let result = self.attempt(request, op, idle, progress.clone()).await;
            let outcome = match &result {
                Ok(answer) => {
                    if !span.is_disabled() {
                        span.record("status", answer.status.as_u16());
                        if let Some(id) = answer.request_id.as_ref().and_then(|id| id.to_str().ok())
                        {
                            span.record("request_id", id);
                        }
                    }
                    Outcome::Answered {
                        status: answer.status,
                        retry_after: answer.retry_after(),
                    }
                }
                Err(broken) => Outcome::Failed(broken.failure),
            };
            // A 429 holds every request of the client back (within the cap) and slows
            // its pace; any other answer tells the gate what the server accepts.
            let now = Instant::now();
            let hold = match outcome {
                Outcome::Answered {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    retry_after: Some(wait),
                } if wait <= retry.max_retry_after() => {
                    self.gate.rate_limited(now, now + wait);
                    true
                }
                Outcome::Answered { .. } => {
                    self.gate.accepted(now);
                    false
                }
                Outcome::Failed(_) => false,
            };

            let verdict = retry.decide(op.is_idempotent(), &outcome, attempt);
            let next = match verdict {
                Verdict::Retry { .. } => spare.or_else(|| match rebuild.as_mut()?() {
                    Ok(request) => Some(request),
                    Err(reason) => {
                        tracing::warn!(operation = op.id, reason, "cannot send it again");
                        None
                    }
                }),
                Verdict::Stop => None,
            };
            match (verdict, next) {
                (Verdict::Retry { wait, reason }, Some(spare)) => {
                    tracing::info!(
                        operation = op.id,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        reason,
                        "retrying"
                    );
                    earlier_may_have_applied |= outcome.may_have_been_applied();
                    waited_own_hold = hold;
                    (self.sleep)(wait).await;
                    request = spare;
                }
                _ => {
                    return Sent {
                        result,
                        attempts: Attempts {
                            count: attempt,
                            earlier_may_have_applied,
                        },
                    };
                }
            }
        }
    }

    /// Sends once and reads the body, up to the cap for its status: a success body of an
    /// operation that documents none is read no further than an error body, and one that
    /// is a file is not read at all.
    async fn attempt(
        &self,
        request: reqwest::Request,
        op: &'static Operation,
        idle: Option<Duration>,
        progress: Option<OnProgress>,
    ) -> Result<Answer, Broken> {
        let mut response = match idle {
            None => self.http.execute(request).await?,
            Some(idle) => self.watched(request, idle, progress).await?,
        };
        let status = response.status();
        let headers = response.headers();
        let (request_id, retry_after) = (
            headers.get(REQUEST_ID).cloned(),
            headers.get(header::RETRY_AFTER).cloned(),
        );
        if status.is_success() && op.streams {
            return Ok(Answer {
                status,
                request_id,
                retry_after,
                body: Bytes::new(),
                truncated: false,
                unread: Some(response),
            });
        }
        let cap = if status.is_success() && op.returns_body {
            MAX_SUCCESS_BODY
        } else {
            MAX_ERROR_BODY
        };
        let mut body = BytesMut::new();
        let mut truncated = false;
        while let Some(chunk) = read_within(idle, response.chunk()).await? {
            let room = cap - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(
            status = status.as_u16(),
            bytes = body.len(),
            truncated,
            "answer read"
        );
        Ok(Answer {
            status,
            request_id,
            retry_after,
            body: body.freeze(),
            truncated,
            unread: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_go_as_percent_20_and_a_plus_stays_a_plus() {
        let mut url = reqwest::Url::parse("https://go.tallyfy.com/api/x").unwrap();
        url.query_pairs_mut()
            .append_pair("q", "a b+c%")
            .append_pair("per_page", "5");
        spaces_as_percent_20(&mut url);
        assert_eq!(url.query(), Some("q=a%20b%2Bc%25&per_page=5"));
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs[0], ("q".into(), "a b+c%".into()));

        let mut plain = reqwest::Url::parse("https://go.tallyfy.com/api/x?page=2").unwrap();
        spaces_as_percent_20(&mut plain);
        assert_eq!(plain.query(), Some("page=2"));
    }

    #[test]
    fn a_spare_is_the_same_request() {
        let url = reqwest::Url::parse("https://go.tallyfy.com/api/x").unwrap();
        let mut request = reqwest::Request::new(reqwest::Method::PUT, url.clone());
        request
            .headers_mut()
            .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        *request.body_mut() = Some(reqwest::Body::from("{\"a\":1}"));
        *request.timeout_mut() = Some(Duration::from_secs(3));

        let copy = spare(&request).expect("a body in memory can be sent again");
        assert_eq!(copy.method(), reqwest::Method::PUT);
        assert_eq!(copy.url(), &url);
        assert_eq!(copy.headers(), request.headers());
        assert_eq!(copy.version(), request.version());
        assert_eq!(
            copy.body().and_then(|b| b.as_bytes()),
            Some(&b"{\"a\":1}"[..])
        );
        assert_eq!(copy.timeout(), Some(&Duration::from_secs(3)));

        *request.timeout_mut() = None;
        *request.body_mut() = None;
        let copy = spare(&request).expect("no body");
        assert_eq!((copy.timeout(), copy.body().is_none()), (None, true));
    }
}
