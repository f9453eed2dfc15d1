//! `.execute()`: every operation, one error type.

use std::future::Future;

use bytes::Bytes;
use http::StatusCode;
use progenitor_client::Error as RawError;
use serde::de::DeserializeOwned;
use tallyfy_api::{Call, DecodeError, Operation, ResponseValue};

use crate::body;
use crate::error::{Error, ErrorDetails};
use crate::retry::Failure;
use crate::transport::{CallRecord, LastAnswer, MAX_SUCCESS_BODY, record_call};

/// Sends an operation and returns its decoded body or an [`Error`].
///
/// Implemented for every operation builder of [`Client`](crate::Client), including
/// those added to the spec later: `cargo xtask generate` is all it takes.
///
/// ```no_run
/// use tallyfy::{Client, Execute};
///
/// # async fn demo() -> Result<(), tallyfy::Error> {
/// let client = Client::new("token")?;
/// let run = client.get_process().org_id("org").run_id("run").execute().await?;
/// println!("{:?}", run.data.name);
/// # Ok(()) }
/// ```
pub trait Execute: Call {
    /// Sends the request (retrying as the [`RetryPolicy`](crate::RetryPolicy) allows)
    /// and decodes the answer.
    fn execute(self) -> impl Future<Output = Result<Self::Output, Error>> + Send;

    /// Like [`execute`](Execute::execute), and keeps the answer as it came: its status,
    /// request ID and body, every field included, for passing the server's payload on.
    ///
    /// ```no_run
    /// use tallyfy::{Client, Execute};
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
}

impl<C> Execute for C
where
    C: Call + Send,
    C::Output: DeserializeOwned + Send,
    C::ErrorBody: Send,
{
    async fn execute(self) -> Result<Self::Output, Error> {
        let (result, record) = record_call(Box::pin(self.send())).await;
        result
            .map(ResponseValue::into_inner)
            .map_err(|raw| into_error(C::OPERATION, raw, record, locate::<C::Output>))
    }

    async fn execute_with_answer(self) -> Result<Answered<Self::Output>, Error> {
        let (result, mut record) = record_call(Box::pin(self.send())).await;
        let value = result.map_err(|raw| {
            into_error(
                C::OPERATION,
                raw,
                std::mem::take(&mut record),
                locate::<C::Output>,
            )
        })?;
        let status = value.status();
        Ok(match record.last {
            Some(last) => Answered {
                status: last.status,
                request_id: last.request_id(),
                body: last.body,
                value: value.into_inner(),
            },
            None => Answered {
                status,
                request_id: None,
                body: Bytes::new(),
                value: value.into_inner(),
            },
        })
    }
}

/// Where a success body does not fit `T`, decoding it again.
fn locate<T: DeserializeOwned>(body: &[u8]) -> Option<DecodeError> {
    tallyfy_api::decode::<T>(body).err()
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

    /// The answer's `X-Request-Id`, if it had one.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The body exactly as the server sent it (empty when it sent none).
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// Turns the generated client's error, and what the attempts came to, into an [`Error`].
/// `locate` decodes a success body again to say where it does not fit.
fn into_error<E>(
    op: &'static Operation,
    raw: RawError<E>,
    record: CallRecord,
    locate: impl FnOnce(&[u8]) -> Option<DecodeError>,
) -> Error {
    match raw {
        RawError::InvalidRequest(reason) => Error::invalid_input(Some(op.id), reason),
        RawError::CommunicationError(e)
        | RawError::ResponseBodyError(e)
        | RawError::InvalidUpgrade(e)
            if e.is_builder() =>
        {
            Error::invalid_input(Some(op.id), "the request could not be built").with_source(e)
        }
        RawError::CommunicationError(e)
        | RawError::ResponseBodyError(e)
        | RawError::InvalidUpgrade(e) => transport_error(op, e, &record),
        RawError::InvalidResponsePayload(body, decode) => match record.last.clone() {
            Some(answer) if answer.status.is_success() => {
                let error = answer_error(op, answer, &record);
                match locate(&body) {
                    Some(located) => {
                        let explanation = format!("{}: {located}", error.details().explanation);
                        error.explained(explanation).with_source(located)
                    }
                    None => error.with_source(decode),
                }
            }
            Some(answer) => answer_error(op, answer, &record).with_source(decode),
            None => {
                unexpected(op, &record, "the answer's body does not decode").with_source(decode)
            }
        },
        RawError::ErrorResponse(_) | RawError::UnexpectedResponse(_) | RawError::Custom(_) => {
            match record.last.clone() {
                Some(answer) => answer_error(op, answer, &record),
                None => unexpected(op, &record, "the answer was lost"),
            }
        }
    }
}

fn transport_error(op: &'static Operation, error: reqwest::Error, record: &CallRecord) -> Error {
    let (variant, explanation): (fn(Box<ErrorDetails>) -> Error, _) = match Failure::of(&error) {
        Failure::NotDelivered => (
            Error::NotDelivered,
            "could not reach the server; the request was not delivered",
        ),
        Failure::Timeout => (
            Error::Timeout,
            "no complete answer in time; the request may have been applied",
        ),
        Failure::Interrupted => (
            Error::Interrupted,
            "the connection broke after sending; the request may have been applied",
        ),
    };
    variant(Box::new(ErrorDetails {
        operation: Some(op.id),
        explanation: explanation.into(),
        attempts: record.attempts,
        ..ErrorDetails::default()
    }))
    .with_source(error)
}

fn answer_error(op: &'static Operation, answer: LastAnswer, record: &CallRecord) -> Error {
    let status = answer.status;
    let already_gone =
        status == StatusCode::NOT_FOUND && op.irreversible && record.earlier_may_have_applied;
    let variant: fn(Box<ErrorDetails>) -> Error = match status.as_u16() {
        404 if already_gone => Error::AlreadyGone,
        401 => Error::Unauthorized,
        403 => Error::Forbidden,
        404 => Error::NotFound,
        422 => Error::Unprocessable,
        429 => Error::RateLimited,
        400..=499 => Error::ClientError,
        500..=599 => Error::ServerError,
        _ => Error::UnexpectedResponse,
    };
    let explanation = if status.is_success() && answer.truncated {
        format!("the answer's body is larger than {MAX_SUCCESS_BODY} bytes")
    } else if status.is_success() {
        "the server carried the operation out, but its answer does not decode".to_string()
    } else if already_gone {
        "an earlier attempt may have deleted it: the retry found nothing left to delete".to_string()
    } else {
        op.describe(status.as_u16())
            .or(status.canonical_reason())
            .unwrap_or("an undocumented status")
            .to_string()
    };
    let parsed = body::parse(&answer.body);
    variant(Box::new(ErrorDetails {
        operation: Some(op.id),
        explanation,
        status: Some(status),
        message: parsed.message,
        code: parsed.code,
        field_errors: parsed.field_errors,
        request_id: answer.request_id(),
        retry_after: answer.retry_after(),
        body: body::excerpt(&answer.body),
        attempts: record.attempts,
        source: None,
    }))
}

fn unexpected(op: &'static Operation, record: &CallRecord, explanation: &str) -> Error {
    Error::UnexpectedResponse(Box::new(ErrorDetails {
        operation: Some(op.id),
        explanation: explanation.into(),
        attempts: record.attempts,
        ..ErrorDetails::default()
    }))
}
