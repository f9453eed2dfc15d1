//! The Tallyfy REST API client, generated from `openapi/tallyfy.yaml`.
//!
//! Most users want the `tallyfy` crate, which wraps this one with authentication,
//! typed errors and retries. This crate holds what the spec alone determines:
//!
//! - [`Client`] and its builder-style operations (`generated.rs`, made by progenitor);
//! - [`OPERATIONS`], the table of every operation: method, path template, whether its
//!   effect is irreversible, and the statuses it documents (`operations.rs`);
//! - [`Call`], implemented for every operation builder, so that one generic wrapper can
//!   serve every operation;
//! - [`Transport`], the seam through which a wrapper sends the requests.
//!
//! Both generated files are rewritten by `cargo xtask generate`; this file is not.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use progenitor_client::{ClientHooks, OperationInfo};

// Generated files are formatted by the generator (prettyplease), not by rustfmt.
#[rustfmt::skip]
#[allow(missing_docs, unreachable_patterns, clippy::all, clippy::unwrap_used)]
mod generated;
#[rustfmt::skip]
#[allow(clippy::all)]
mod operations;
mod decode;
mod user_id;

pub use decode::{DecodeError, NoBody, decode, decode_answer};
pub use generated::*;
pub use operations::OPERATIONS;
pub use user_id::UserId;

/// What the spec says of one operation.
#[derive(Debug)]
#[non_exhaustive]
pub struct Operation {
    /// The `operationId`, which is also the name of the client method.
    pub id: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path template, such as `/organizations/{org_id}/runs/{run_id}`.
    pub path: &'static str,
    /// The one-line summary.
    pub summary: &'static str,
    /// Whether its effect cannot be undone (`x-tallyfy-irreversible` in the spec).
    pub irreversible: bool,
    /// Whether a success answer documents a body (otherwise the output is `()`).
    pub returns_body: bool,
    /// Each documented status (`"404"`, `"4XX"`) with its description.
    pub responses: &'static [(&'static str, &'static str)],
    /// The page of Tallyfy's API documentation that shows its answers (`x-tallyfy-docs`
    /// in the spec), relative to `src/content/docs/pro/integrations/open-api/` of the
    /// repository `tallyfy/documentation`.
    pub docs: &'static str,
    /// Decodes an answer's body with the operation's own types (the success type for a
    /// 2xx, the error type otherwise) and writes back as JSON what a caller can read of it.
    ///
    /// ```
    /// let op = tallyfy_api::Operation::find("get_process").unwrap();
    /// let read = (op.decode)(200, br#"{"data": {"id": "abc", "started_by": "1002", "new": 1}}"#).unwrap();
    /// assert_eq!(read, serde_json::json!({"data": {"id": "abc", "started_by": 1002, "new": 1}}));
    ///
    /// let error = (op.decode)(200, br#"{"data": {"id": 7}}"#).unwrap_err();
    /// assert_eq!(error.path(), "data.id");
    /// ```
    pub decode: fn(status: u16, body: &[u8]) -> Result<serde_json::Value, DecodeError>,
}

impl Operation {
    /// Looks an operation up by its `operationId`.
    ///
    /// ```
    /// let op = tallyfy_api::Operation::find("permanently_delete_process").unwrap();
    /// assert_eq!(op.method, "DELETE");
    /// assert!(op.irreversible);
    /// ```
    pub fn find(id: &str) -> Option<&'static Operation> {
        OPERATIONS.iter().find(|op| op.id == id)
    }

    /// The spec's description of `status` for this operation: the exact code if it is
    /// documented, else its range (`4XX`), else `None`.
    ///
    /// ```
    /// let op = tallyfy_api::Operation::find("permanently_delete_process").unwrap();
    /// assert!(op.describe(422).unwrap().contains("not archived"));
    /// assert!(op.describe(418).is_some()); // any other 4xx
    /// assert_eq!(op.describe(302), None);
    /// ```
    pub fn describe(&self, status: u16) -> Option<&'static str> {
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let find = |key: &str| {
            self.responses
                .iter()
                .find(|(s, _)| *s == key)
                .map(|(_, d)| *d)
        };
        find(&code).or_else(|| find(&range))
    }

    /// Whether sending the request twice has the same effect as sending it once: true
    /// for GET, HEAD, PUT, OPTIONS and DELETE, false for POST and PATCH.
    ///
    /// A delete names one resource: sent again after it landed, it finds nothing to
    /// delete (404, or 204 for a tag) and deletes nothing else, even when the effect of
    /// the first cannot be undone. A POST creates: sent again, it may create twice.
    ///
    /// ```
    /// use tallyfy_api::Operation;
    /// assert!(Operation::find("archive_process").unwrap().is_idempotent());
    /// assert!(Operation::find("permanently_delete_process").unwrap().is_idempotent());
    /// ```
    pub fn is_idempotent(&self) -> bool {
        is_idempotent(self.method)
    }
}

/// Whether an HTTP method is idempotent; see [`Operation::is_idempotent`].
///
/// ```
/// assert!(tallyfy_api::is_idempotent("DELETE"));
/// assert!(!tallyfy_api::is_idempotent("POST"));
/// ```
pub fn is_idempotent(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "PUT" | "OPTIONS" | "DELETE")
}

/// An operation ready to send: implemented for every builder in [`builder`].
///
/// It gives a wrapper the operation's [`Operation`] entry and its `send`, so one generic
/// function can add behaviour (typed errors, for instance) to every operation alike.
pub trait Call: Sized {
    /// The decoded success body (`()` when none is documented).
    type Output;
    /// The decoded error body.
    type ErrorBody;
    /// The operation's entry in [`OPERATIONS`].
    const OPERATION: &'static Operation;
    /// Sends the request: the builder's own `send`.
    fn send(
        self,
    ) -> impl Future<Output = Result<ResponseValue<Self::Output>, Error<Self::ErrorBody>>> + Send;
}

/// A boxed future returned by [`Transport::execute`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How requests leave the client: implemented by a wrapper crate to add headers,
/// validation, retries or tracing around every operation.
pub trait Transport: Send + Sync + 'static {
    /// Checks and completes a request before anything is sent. An `Err` refuses it:
    /// the operation returns [`Error::InvalidRequest`] with the message.
    fn prepare(
        &self,
        request: &mut reqwest::Request,
        operation: &'static Operation,
    ) -> Result<(), String>;

    /// Sends the request and returns the response.
    fn execute<'a>(
        &'a self,
        request: reqwest::Request,
        operation: &'static Operation,
    ) -> BoxFuture<'a, reqwest::Result<reqwest::Response>>;
}

/// The client's hook into a [`Transport`]; [`Hooks::default`] sends requests as they are.
#[derive(Clone, Default)]
pub struct Hooks {
    transport: Option<Arc<dyn Transport>>,
}

impl Hooks {
    /// Routes every request of the client through `transport`.
    pub fn new(transport: impl Transport) -> Self {
        Self {
            transport: Some(Arc::new(transport)),
        }
    }

    fn route(&self, info: &OperationInfo) -> Option<(&dyn Transport, &'static Operation)> {
        Some((
            self.transport.as_deref()?,
            Operation::find(info.operation_id)?,
        ))
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("transport", &self.transport.is_some())
            .finish()
    }
}

impl ClientHooks<Hooks> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        match self.inner.route(info) {
            Some((transport, op)) => transport
                .prepare(request, op)
                .map_err(Error::InvalidRequest),
            None => Ok(()),
        }
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        match self.inner.route(info) {
            Some((transport, op)) => transport.execute(request, op).await,
            None => self.client.execute(request).await,
        }
    }
}
