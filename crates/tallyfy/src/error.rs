//! One error type for every operation.
//!
//! [`Error`] is opaque: its [`ErrorKind`] (a stable snake_case name that logs, metrics,
//! the command line and other language SDKs share), an `is_*` predicate per kind, and
//! one accessor per detail (status, server message, code, field errors, request ID, a
//! truncated raw body). Its `Display` is one clause; the underlying failure is its
//! [`source`](std::error::Error::source).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use http::StatusCode;
use tallyfy_api::Operation;

/// The source of an error: the underlying failure, when there is one.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

macro_rules! kinds {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal, $is:ident; )*) => {
        /// What kind of failure an [`Error`] is; see the [crate docs](crate#error-kinds).
        ///
        /// ```
        /// use tallyfy::ErrorKind;
        ///
        /// assert_eq!(ErrorKind::AlreadyGone.as_str(), "already_gone");
        /// assert_eq!(ErrorKind::ALL.len(), 13);
        /// assert!(ErrorKind::ALL.iter().all(|k| k.to_string() == k.as_str()));
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorKind {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl ErrorKind {
            /// Every kind, in the order of the kinds table.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$variant),*];

            /// The stable snake_case name, such as `not_found`.
            pub const fn as_str(self) -> &'static str {
                match self { $( ErrorKind::$variant => $name, )* }
            }

            /// The kind named `name`, if there is one.
            ///
            /// ```
            /// use tallyfy::ErrorKind;
            /// assert_eq!(ErrorKind::from_name("rate_limited"), Some(ErrorKind::RateLimited));
            /// assert_eq!(ErrorKind::from_name("teapot"), None);
            /// ```
            pub fn from_name(name: &str) -> Option<ErrorKind> {
                match name { $( $name => Some(ErrorKind::$variant), )* _ => None }
            }
        }

        impl Error {
            $(
                #[doc = concat!("Whether the kind is `", $name, "`.")]
                pub fn $is(&self) -> bool {
                    self.inner.kind == ErrorKind::$variant
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

impl serde::Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        ErrorKind::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("no error kind is named {name:?}")))
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an operation failed.
///
/// ```
/// # async fn demo(client: &tallyfy::Client) {
/// use tallyfy::{ErrorKind, Execute};
/// match client.permanently_delete_process().org_id("org").run_id("run").execute().await {
///     Ok(()) => println!("deleted"),
///     Err(e) if e.kind() == ErrorKind::Unprocessable => println!("archive it first"),
///     Err(e) if e.is_already_gone() => println!("an earlier attempt deleted it"),
///     Err(e) => eprintln!("{e}: {} (request {:?})", e.explanation(), e.request_id()),
/// }
/// # }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

/// Everything known about a failure; filled in where the error is made.
#[derive(Debug)]
pub(crate) struct Inner {
    pub kind: ErrorKind,
    pub operation: Option<&'static Operation>,
    pub explanation: String,
    pub status: Option<StatusCode>,
    pub message: Option<String>,
    pub code: Option<String>,
    pub field_errors: BTreeMap<String, Vec<String>>,
    pub request_id: Option<String>,
    pub body: Option<String>,
    pub retry_after: Option<Duration>,
    pub attempts: u32,
    pub source: Option<BoxError>,
}

impl Error {
    /// An error of `kind` from `operation`, explained; the other details are added by
    /// whoever knows them.
    pub(crate) fn new(
        kind: ErrorKind,
        operation: Option<&'static Operation>,
        explanation: impl Into<String>,
    ) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                operation,
                explanation: explanation.into(),
                status: None,
                message: None,
                code: None,
                field_errors: BTreeMap::new(),
                request_id: None,
                body: None,
                retry_after: None,
                attempts: 0,
                source: None,
            }),
        }
    }

    /// A refusal before anything was sent.
    pub(crate) fn invalid_input(
        operation: Option<&'static Operation>,
        explanation: impl Into<String>,
    ) -> Self {
        Self::new(ErrorKind::InvalidInput, operation, explanation)
    }

    /// The details, to fill in.
    pub(crate) fn inner_mut(&mut self) -> &mut Inner {
        &mut self.inner
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The operation that failed, such as `permanently_delete_process` (`None` when
    /// refused while building the client).
    pub fn operation(&self) -> Option<&'static str> {
        self.inner.operation.map(|op| op.id)
    }

    /// Why, in words: the spec's description of the status, or what the transport saw.
    pub fn explanation(&self) -> &str {
        &self.inner.explanation
    }

    /// The HTTP status of the last answer, if one came.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// The `X-Request-Id` of the last answer: quote it to Tallyfy support.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The server's own message, if its body had one.
    pub fn message(&self) -> Option<&str> {
        self.inner.message.as_deref()
    }

    /// The server's error code, such as `RESOURCE_NOT_FOUND`, if its body had one.
    pub fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }

    /// Validation messages by field name (empty unless the server sent some).
    pub fn field_errors(&self) -> &BTreeMap<String, Vec<String>> {
        &self.inner.field_errors
    }

    /// The raw body of the last answer, truncated to a few KiB.
    pub fn body(&self) -> Option<&str> {
        self.inner.body.as_deref()
    }

    /// How long the server asked to wait (`Retry-After`), if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// How many requests were sent before giving up (0: none was sent).
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// Whether the SDK's retry rules would send this call again after this failure,
    /// had it budget left: a 429 or a request never delivered, for any operation; a 500,
    /// 502, 503 or 504, a timeout or a broken connection, for an idempotent one (every
    /// operation but a POST). It answers for this operation, as the retry table does.
    pub fn is_retryable(&self) -> bool {
        let idempotent = self.inner.operation.is_some_and(Operation::is_idempotent);
        match self.inner.kind {
            ErrorKind::RateLimited | ErrorKind::NotDelivered => true,
            ErrorKind::ServerError => {
                idempotent
                    && self
                        .status()
                        .is_some_and(|s| matches!(s.as_u16(), 500 | 502..=504))
            }
            ErrorKind::Timeout | ErrorKind::Interrupted => idempotent,
            _ => false,
        }
    }

    /// Whether the server may have applied the request although the call failed: a
    /// timeout, a broken connection, a 5xx, or an answer the SDK could not read (a 2xx
    /// whose body does not decode was certainly applied). Read the resource back before
    /// repeating a call that is not idempotent. `false` means it provably was not applied
    /// (refused before sending, never delivered, or a 4xx answer).
    pub fn may_have_been_applied(&self) -> bool {
        matches!(
            self.inner.kind,
            ErrorKind::Timeout
                | ErrorKind::Interrupted
                | ErrorKind::ServerError
                | ErrorKind::UnexpectedResponse
                | ErrorKind::AlreadyGone
        )
    }
}

impl fmt::Display for Error {
    /// One clause: `operation: kind (HTTP status)`. The explanation, the server's
    /// message and the rest are behind accessors; the underlying failure is the source.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(operation) = self.operation() {
            write!(f, "{operation}: ")?;
        }
        write!(f, "{}", self.kind())?;
        if let Some(status) = self.status() {
            write!(f, " (HTTP {})", status.as_u16())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Error")
            .field("kind", &i.kind)
            .field("operation", &self.operation())
            .field("explanation", &i.explanation)
            .field("status", &i.status)
            .field("message", &i.message)
            .field("code", &i.code)
            .field("field_errors", &i.field_errors)
            .field("request_id", &i.request_id)
            .field("body", &i.body)
            .field("retry_after", &i.retry_after)
            .field("attempts", &i.attempts)
            .field("source", &i.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
