//! `.execute()`: every operation, one way to send, one error type.
//!
//! A call goes build → prepare → send (with retries) → decode, each step a function
//! whose result the next one takes: the builder builds the request, the client's
//! [`Transport`] checks it and sends it as the retry rules allow, and the last answer,
//! its body read once, becomes the decoded output or an [`Error`].

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use tallyfy_api::{Call, Operation};

use crate::body;
use crate::error::{Error, ErrorKind};
use crate::files::Progress;
use crate::retry::{Failure, RetryPolicy};
use crate::transport::{
    Answer, Attempts, Broken, MAX_SUCCESS_BODY, Rebuild, Sending, Sent, Transport,
};
use crate::watchdog::OnProgress;

/// Sends an operation and returns its decoded body or an [`Error`].
///
/// Implemented for every operation builder of [`Client`](crate::Client), including
/// those added to the spec later: `cargo xtask generate` is all it takes.
///
/// ```no_run
/// use tallyfy::prelude::*;
///
/// # async fn demo() -> Result<(), tallyfy::Error> {
/// let client = Client::new("token")?;
/// let run = client.get_process().org_id("org").run_id("run").execute().await?;
/// println!("{:?}", run.data.name);
/// # Ok(()) }
/// ```
pub trait Execute: Call {
    /// Sends the request (retrying as the [`RetryPolicy`] allows) and decodes the answer.
    fn execute(self) -> impl Future<Output = Result<Self::Output, Error>> + Send;

    /// Like [`execute`](Execute::execute), and keeps the answer as it came: its status,
    /// request ID and body, every field included, for passing the server's payload on.
    ///
    /// ```no_run
    /// use tallyfy::prelude::*;
    ///
    /// # async fn demo() -> Result<(), tallyfy::Error> {
    /// let client = Client::new("token")?;
    /// let answer = client.get_process().org_id("org").run_id("run").execute_with_answer().await?;
    /// println!("{:?} (request {:?})", answer.value().data.name, answer.request_id());
    /// std::io::Write::write_all(&mut std::io::stdout(), answer.body()).ok();
    /// # Ok(()) }
    /// ```
    fn execute_with_answer(
        self,
    ) -> impl Future<Output = Result<Answered<Self::Output>, Error>> + Send;

    /// This call with settings of its own: a retry policy or a timeout. It still passes
    /// the client's rate gate, which all calls of the client share.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use tallyfy::prelude::*;
    ///
    /// # async fn demo(client: Client) -> Result<(), tallyfy::Error> {
    /// client
    ///     .permanently_delete_process()
    ///     .org_id("org")
    ///     .run_id("run")
    ///     .customize()
    ///     .retry_policy(RetryPolicy::none())
    ///     .timeout(Duration::from_secs(5))
    ///     .execute()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn customize(self) -> Customized<Self> {
        Customized {
            call: self,
            retry: None,
            timeout: None,
            resume: None,
            progress: None,
        }
    }
}

impl<C: Call + Send> Execute for C {
    async fn execute(self) -> Result<Self::Output, Error> {
        self.customize().execute().await
    }

    async fn execute_with_answer(self) -> Result<Answered<Self::Output>, Error> {
        self.customize().execute_with_answer().await
    }
}

/// A call with settings of its own; see [`Execute::customize`].
#[derive(Debug)]
pub struct Customized<C> {
    call: C,
    retry: Option<RetryPolicy>,
    timeout: Option<Duration>,
    /// Asks for the rest of a file (`Range`), to resume a download.
    resume: Option<Resume>,
    progress: Option<OnProgress>,
}

impl<C: Call + Send> Customized<C> {
    /// Retries this call as `policy` says, instead of the client's policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Gives each attempt of this call `timeout`, instead of the client's. For an upload
    /// or a download it is the longest the transfer may stand still; the client's
    /// [`transfer_timeout`](crate::ClientBuilder::transfer_timeout) bounds it in all.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Calls `progress` as an upload's body is sent (each attempt counts from zero), with
    /// the bytes sent so far and the form's size. Other calls send no body worth
    /// watching and never call it; a download reports its progress while it is saved
    /// ([`Saving::progress`](crate::Saving::progress)).
    ///
    /// ```no_run
    /// use tallyfy::prelude::*;
    /// use tallyfy::types::{UploadFile, UploadFileSubjectType};
    ///
    /// # async fn demo(client: Client) -> Result<(), tallyfy::Error> {
    /// let form = UploadFile::builder()
    ///     .name(tallyfy::LocalFile::from("report.pdf"))
    ///     .subject_id("run")
    ///     .subject_type(UploadFileSubjectType::Run)
    ///     .uploaded_from("capture");
    /// let asset = client
    ///     .upload_file()
    ///     .org_id("org")
    ///     .body(form)
    ///     .customize()
    ///     .progress(|p| eprintln!("{} of {:?} bytes", p.bytes, p.total))
    ///     .execute()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn progress(mut self, progress: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(OnProgress(std::sync::Arc::new(progress)));
        self
    }

    /// Asks for the rest of a file whose beginning was saved already.
    pub(crate) fn resume(mut self, resume: Option<Resume>) -> Self {
        self.resume = resume;
        self
    }

    /// Sends it; see [`Execute::execute`].
    pub async fn execute(self) -> Result<C::Output, Error> {
        self.execute_with_answer().await.map(Answered::into_value)
    }

    /// Sends it; see [`Execute::execute_with_answer`].
    pub async fn execute_with_answer(self) -> Result<Answered<C::Output>, Error> {
        let op = C::OPERATION;
        // A form's file is streamed: another attempt needs the request built anew.
        let again = op.form.map(|_| self.call.clone());
        let (extension, request) = self
            .call
            .build()
            .map_err(|reason| Error::invalid_input(Some(op), reason))?;
        let transport = extension.get::<Transport>().ok_or_else(|| {
            Error::invalid_input(
                Some(op),
                "the operation was built by a client that cannot send it; use tallyfy::Client",
            )
        })?;
        let (timeout, resume) = (self.timeout, self.resume);
        let prepare = move |mut request: reqwest::Request| {
            transport.prepare(&mut request, op, timeout)?;
            if let Some(resume) = &resume {
                resume.ask(&mut request);
            }
            Ok::<_, String>(request)
        };
        let request = prepare(request).map_err(|reason| Error::invalid_input(Some(op), reason))?;
        let rebuild =
            again.map(|call| -> Rebuild<'_> { Box::new(move || prepare(call.clone().build()?.1)) });
        let sending = Sending {
            retry: self.retry.as_ref().unwrap_or(&transport.retry),
            timeout,
            rebuild,
            progress: self.progress,
        };
        let sent = transport.send(request, op, sending).await;
        decode::<C>(op, sent)
    }
}

/// The rest of a file, from byte `from` on; `if_range` (the first answer's `ETag` or
/// `Last-Modified`) makes the server send the whole file instead if it changed since.
#[derive(Clone, Debug)]
pub(crate) struct Resume {
    pub from: u64,
    pub if_range: Option<http::HeaderValue>,
}

impl Resume {
    fn ask(&self, request: &mut reqwest::Request) {
        let headers = request.headers_mut();
        if let Ok(range) = http::HeaderValue::try_from(format!("bytes={}-", self.from)) {
            headers.insert(http::header::RANGE, range);
        }
        if let Some(validator) = &self.if_range {
            headers.insert(http::header::IF_RANGE, validator.clone());
        }
    }
}

/// The output of a call, or the error its last answer or failure makes.
fn decode<C: Call>(op: &'static Operation, sent: Sent) -> Result<Answered<C::Output>, Error> {
    let Sent { result, attempts } = sent;
    let mut answer = match result {
        Ok(answer) => answer,
        Err(failure) => return Err(transport_error(op, failure, attempts.count)),
    };
    let status = answer.status;
    if let Some(unread) = answer.unread.take() {
        let request_id = answer.request_id();
        return match C::stream(unread) {
            Some(value) => Ok(Answered {
                value,
                status,
                request_id,
                body: answer.body,
            }),
            None => Err(answer_error(
                op,
                &answer,
                attempts,
                Some("the answer is a file, but the operation's output cannot hold one".into()),
            )),
        };
    }
    if !op.is_success(status.as_u16()) || (answer.truncated && op.returns_body) {
        return Err(answer_error(op, &answer, attempts, None));
    }
    match C::decode(&answer.body) {
        Ok(value) => Ok(Answered {
            value,
            status,
            request_id: answer.request_id(),
            body: answer.body,
        }),
        Err(mismatch) => {
            let explanation = format!(
                "the server carried the operation out, but its answer does not decode: {mismatch}"
            );
            Err(answer_error(op, &answer, attempts, Some(explanation)).with_source(mismatch))
        }
    }
}

pub(crate) fn transport_error(op: &'static Operation, broken: Broken, attempts: u32) -> Error {
    if broken.builder {
        return Error::invalid_input(Some(op), "the request could not be built")
            .with_source(broken.error);
    }
    let (kind, explanation) = match broken.failure {
        Failure::NotDelivered => (
            ErrorKind::NotDelivered,
            "could not reach the server; the request was not delivered",
        ),
        Failure::Timeout => (
            ErrorKind::Timeout,
            "no complete answer in time; the request may have been applied",
        ),
        Failure::Interrupted => (
            ErrorKind::Interrupted,
            "the connection broke after sending; the request may have been applied",
        ),
    };
    let mut error = Error::new(kind, Some(op), explanation).with_source(broken.error);
    error.inner_mut().attempts = attempts;
    error
}

/// The error an answer makes: the status decides the kind, whatever the body.
fn answer_error(
    op: &'static Operation,
    answer: &Answer,
    attempts: Attempts,
    explanation: Option<String>,
) -> Error {
    let status = answer.status;
    let already_gone =
        status == StatusCode::NOT_FOUND && op.irreversible && attempts.earlier_may_have_applied;
    let kind = match status.as_u16() {
        404 if already_gone => ErrorKind::AlreadyGone,
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        422 => ErrorKind::Unprocessable,
        429 => ErrorKind::RateLimited,
        400..=499 => ErrorKind::ClientError,
        500..=599 => ErrorKind::ServerError,
        _ => ErrorKind::UnexpectedResponse,
    };
    let explanation = explanation.unwrap_or_else(|| {
        if status.is_success() && answer.truncated {
            format!("the answer's body is larger than {MAX_SUCCESS_BODY} bytes")
        } else if status.is_success() {
            "the server carried the operation out, but answered with a status the spec does not document".into()
        } else if already_gone {
            "an earlier attempt may have deleted it: the retry found nothing left to delete".into()
        } else {
            op.describe(status.as_u16())
                .or(status.canonical_reason())
                .unwrap_or("an undocumented status")
                .into()
        }
    });
    let parsed = body::parse(&answer.body);
    let mut error = Error::new(kind, Some(op), explanation);
    let inner = error.inner_mut();
    inner.status = Some(status);
    inner.message = parsed.message;
    inner.code = parsed.code;
    inner.field_errors = parsed.field_errors;
    inner.request_id = answer.request_id();
    inner.retry_after = answer.retry_after();
    inner.body = body::excerpt(&answer.body);
    inner.attempts = attempts.count;
    error
}

/// A decoded answer with what came with it; see [`Execute::execute_with_answer`].
#[derive(Debug, Clone)]
pub struct Answered<T> {
    value: T,
    status: StatusCode,
    request_id: Option<String>,
    body: Bytes,
}

impl<T> Answered<T> {
    /// The decoded body.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The decoded body, taken out.
    pub fn into_value(self) -> T {
        self.value
    }

    /// The answer's status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's `X-Request-Id`, if it had one: successes have one too.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The body exactly as the server sent it (empty when it sent none).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The same answer with its decoded body turned into something else.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Answered<U> {
        Answered {
            value: f(self.value),
            status: self.status,
            request_id: self.request_id,
            body: self.body,
        }
    }
}
