//! One error type for every operation.
//!
//! [`Error`] is an enum with one variant per *kind*: a stable snake_case name that logs,
//! metrics, the command line and other language SDKs share. Match a variant, call an
//! `is_*` predicate, or read [`Error::kind`]; the details (status, server message, code,
//! field errors, request id, a truncated raw body) are behind accessors.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use http::StatusCode;

/// The source of an error: the underlying failure, when there is one.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

macro_rules! kinds {
    ($( $(#[doc = $doc:literal])* $variant:ident = $kind:literal, $is:ident; )*) => {
        /// Every way an operation can fail; see the [crate docs](crate#error-kinds).
        ///
        /// ```
        /// # async fn demo(client: &tallyfy::Client) {
        /// use tallyfy::{Error, Execute};
        /// match client.permanently_delete_process().org_id("org").run_id("run").execute().await {
        ///     Ok(()) => println!("deleted"),
        ///     Err(Error::Unprocessable(_)) => println!("archive it first"),
        ///     Err(e) if e.is_already_gone() => println!("an earlier attempt deleted it"),
        ///     Err(e) => eprintln!("{} ({})", e, e.kind()),
        /// }
        /// # }
        /// ```
        #[non_exhaustive]
        pub enum Error {
            $( $(#[doc = $doc])* $variant(Box<ErrorDetails>), )*
        }

        /// Every kind string, in the order of the kinds table.
        pub const KINDS: &[&str] = &[$($kind),*];

        impl Error {
            /// The stable snake_case name of this error's kind, such as `not_found`.
            pub fn kind(&self) -> &'static str {
                match self { $( Error::$variant(_) => $kind, )* }
            }

            /// Everything known about the failure.
            pub fn details(&self) -> &ErrorDetails {
                match self { $( Error::$variant(details) => details, )* }
            }

            fn details_mut(&mut self) -> &mut ErrorDetails {
                match self { $( Error::$variant(details) => details, )* }
            }

            $(
                #[doc = concat!("Whether the kind is `", $kind, "`.")]
                pub fn $is(&self) -> bool {
                    matches!(self, Error::$variant(_))
                }
            )*
        }
    };
}

kinds! {
    /// Refused before sending: no request went out (an empty ID, a bad token or URL).
    InvalidInput = "invalid_input", is_invalid_input;
    /// 401: the token is missing, invalid or expired.
    Unauthorized = "unauthorized", is_unauthorized;
    /// 403: the token's user may not do this (permanent deletes need an administrator).
    Forbidden = "forbidden", is_forbidden;
    /// 404: no such resource (for a permanent delete: or it is not archived).
    NotFound = "not_found", is_not_found;
    /// 422: understood but refused (for a permanent delete: not archived yet).
    Unprocessable = "unprocessable", is_unprocessable;
    /// 429 after the retry budget: carries the server's `Retry-After`.
    RateLimited = "rate_limited", is_rate_limited;
    /// Any other 4xx.
    ClientError = "client_error", is_client_error;
    /// 5xx after the retry budget.
    ServerError = "server_error", is_server_error;
    /// The request provably never reached the server (connection refused or failed,
    /// DNS, TLS handshake): safe to send again.
    NotDelivered = "not_delivered", is_not_delivered;
    /// No complete response in time after sending: the request may have been applied.
    Timeout = "timeout", is_timeout;
    /// The connection broke after sending: the request may have been applied.
    Interrupted = "interrupted", is_interrupted;
    /// A status the spec does not know (1xx, 3xx), or a success body that does not decode
    /// (the server carried the operation out; the explanation names the JSON path at
    /// fault, and the raw body is kept).
    UnexpectedResponse = "unexpected_response", is_unexpected_response;
    /// An irreversible delete answered 404 on a retry after an earlier attempt may have
    /// landed: the resource is gone, most likely deleted by that attempt.
    AlreadyGone = "already_gone", is_already_gone;
}

/// What is known about a failure. Every field is optional but the explanation.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ErrorDetails {
    /// The operation that failed (`None` when refused at construction).
    pub operation: Option<&'static str>,
    /// Why, in words: the spec's description of the status, or the transport failure.
    pub explanation: String,
    /// The HTTP status of the last answer.
    pub status: Option<StatusCode>,
    /// The server's `message`.
    pub message: Option<String>,
    /// The server's `code`, such as `RESOURCE_NOT_FOUND`.
    pub code: Option<String>,
    /// Validation messages by field name.
    pub field_errors: BTreeMap<String, Vec<String>>,
    /// The `X-Request-Id` of the last answer.
    pub request_id: Option<String>,
    /// The raw body of the last answer, truncated.
    pub body: Option<String>,
    /// The parsed `Retry-After` of the last answer.
    pub retry_after: Option<Duration>,
    /// How many requests were sent (0 when refused before sending).
    pub attempts: u32,
    /// The underlying failure.
    pub source: Option<BoxError>,
}

impl Error {
    /// A refusal before anything was sent.
    pub(crate) fn invalid_input(
        operation: Option<&'static str>,
        explanation: impl Into<String>,
    ) -> Self {
        Error::InvalidInput(Box::new(ErrorDetails {
            operation,
            explanation: explanation.into(),
            ..ErrorDetails::default()
        }))
    }

    pub(crate) fn explained(mut self, explanation: String) -> Self {
        self.details_mut().explanation = explanation;
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.details_mut().source = Some(source.into());
        self
    }

    /// The HTTP status of the last answer, if one came.
    pub fn status(&self) -> Option<StatusCode> {
        self.details().status
    }

    /// The `X-Request-Id` of the last answer: quote it to Tallyfy support.
    pub fn request_id(&self) -> Option<&str> {
        self.details().request_id.as_deref()
    }

    /// The server's own message, if its body had one.
    pub fn message(&self) -> Option<&str> {
        self.details().message.as_deref()
    }

    /// The server's error code, such as `RESOURCE_NOT_FOUND`, if its body had one.
    pub fn code(&self) -> Option<&str> {
        self.details().code.as_deref()
    }

    /// Validation messages by field name (empty unless the server sent some).
    pub fn field_errors(&self) -> &BTreeMap<String, Vec<String>> {
        &self.details().field_errors
    }

    /// The raw body of the last answer, truncated to a few KiB.
    pub fn body(&self) -> Option<&str> {
        self.details().body.as_deref()
    }

    /// How long the server asked to wait (`Retry-After`), if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.details().retry_after
    }

    /// How many requests were sent before giving up (0: none was sent).
    pub fn attempts(&self) -> u32 {
        self.details().attempts
    }

    /// The operation that failed, such as `permanently_delete_process`.
    pub fn operation(&self) -> Option<&'static str> {
        self.details().operation
    }

    /// Whether the same call could succeed later: rate limits, 5xx and transport failures.
    /// Check [`Error::may_have_been_applied`] before repeating a non-idempotent call.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::RateLimited(_)
                | Error::ServerError(_)
                | Error::NotDelivered(_)
                | Error::Timeout(_)
                | Error::Interrupted(_)
        )
    }

    /// Whether the server may have applied the request although the call failed: a
    /// timeout, a broken connection, a 5xx, or an answer the SDK could not read (a 2xx
    /// whose body does not decode was certainly applied). Read the resource back before repeating a
    /// non-idempotent call. `false` means it provably was not applied (refused before
    /// sending, never delivered, or a 4xx answer).
    pub fn may_have_been_applied(&self) -> bool {
        matches!(
            self,
            Error::Timeout(_)
                | Error::Interrupted(_)
                | Error::ServerError(_)
                | Error::UnexpectedResponse(_)
                | Error::AlreadyGone(_)
        )
    }
}

impl fmt::Display for Error {
    /// One line: `operation: kind (HTTP status): explanation`, then what the server
    /// said, the retry advice, the attempts and the request id, each as a sentence.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.details();
        if let Some(operation) = d.operation {
            write!(f, "{operation}: ")?;
        }
        write!(f, "{}", self.kind())?;
        if let Some(status) = d.status {
            write!(f, " (HTTP {})", status.as_u16())?;
        }
        write!(f, ": {}", sentence(&d.explanation))?;
        if let Some(message) = &d.message {
            write!(f, " Server said: {}", sentence(message))?;
        }
        if let Some(code) = &d.code {
            write!(f, " Code: {code}.")?;
        }
        for (field, messages) in &d.field_errors {
            write!(f, " {field}: {}", sentence(&messages.join(" ")))?;
        }
        if let Some(wait) = d.retry_after {
            write!(f, " Retry after {}s.", wait.as_secs())?;
        }
        if d.attempts > 1 {
            write!(f, " Gave up after {} attempts.", d.attempts)?;
        }
        if let Some(id) = &d.request_id {
            write!(f, " Request id: {id}.")?;
        }
        Ok(())
    }
}

/// `text` ending with a full stop (unless it already ends a sentence).
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '!', '?']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind())
            .field("details", self.details())
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.details()
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
