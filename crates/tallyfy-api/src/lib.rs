//! The Tallyfy REST API client, generated from `openapi/tallyfy.yaml`.
//!
//! Most users want the `tallyfy` crate, which wraps this one with authentication,
//! typed errors and retries. This crate holds what the spec alone determines:
//!
//! - [`Client`] and its builder-style operations (`generated.rs`, made by progenitor);
//! - [`OPERATIONS`], the table of every operation: method, path template, whether its
//!   effect is irreversible, and the statuses it documents (`operations.rs`);
//! - [`Call`], implemented for every operation builder: its request, built and checked,
//!   and how to decode its answer, so that one generic wrapper sends every operation;
//! - [`Extension`], what the wrapper keeps in the client.
//!
//! Both generated files are rewritten by `cargo xtask generate`; this file is not.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use progenitor_client::ClientHooks;

// Generated files are formatted by the generator (prettyplease), not by rustfmt.
#[rustfmt::skip]
#[allow(missing_docs, unreachable_patterns, unused_imports, clippy::all, clippy::unwrap_used)]
mod generated;
#[rustfmt::skip]
#[allow(clippy::all)]
mod operations;
mod decode;
mod download;
mod form;
mod user_id;

pub use decode::{DecodeError, NoBody, decode, decode_answer};
pub use download::Download;
pub use form::LocalFile;
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
    /// Whether a success answer documents a JSON body (otherwise the output is `()`, or
    /// a [`Download`] when it [`streams`](Operation::streams)).
    pub returns_body: bool,
    /// Whether a success answer is a file, read as it arrives (the output is a
    /// [`Download`]), not a JSON body read whole.
    pub streams: bool,
    /// For an operation whose body is a form (`multipart/form-data`), the fields that are
    /// files ([`LocalFile`]s, streamed from disk); `None` for a JSON body or none.
    pub form: Option<&'static [&'static str]>,
    /// Each documented status (`"404"`, `"4XX"`) with its description.
    pub responses: &'static [(&'static str, &'static str)],
    /// The spec's first tag, such as `processes`: the command line's group.
    pub group: &'static str,
    /// Its command in the command line's group (`x-tallyfy-command` in the spec, or the
    /// `operationId` in kebab case), such as `get`.
    pub command: &'static str,
    /// Its parameters, in the spec's order, then `body` if it takes one.
    pub params: &'static [Param],
    /// The pages of Tallyfy's API documentation that show its answers (`x-tallyfy-docs`
    /// in the spec), relative to `src/content/docs/pro/integrations/open-api/` of the
    /// repository `tallyfy/documentation`.
    pub docs: &'static [&'static str],
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

/// A parameter of an operation.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Param {
    /// Its name in the spec (and of its builder method).
    pub name: &'static str,
    /// Its flag in the command line, when it is one (`x-tallyfy-flag`, or its name in
    /// kebab case).
    pub flag: &'static str,
    /// Where it goes: `path`, `query` or `body` (a JSON request body).
    pub location: &'static str,
    /// Whether the operation needs it.
    pub required: bool,
    /// The spec's description.
    pub description: &'static str,
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

    /// Whether `status` is a success of this operation: a 2xx it documents, by code or
    /// by range (an operation that documents no success body accepts any 2xx).
    ///
    /// ```
    /// let get = tallyfy_api::Operation::find("get_process").unwrap();
    /// assert!(get.is_success(200) && !get.is_success(201) && !get.is_success(404));
    /// let delete = tallyfy_api::Operation::find("delete_tag").unwrap();
    /// assert!(delete.is_success(204) && delete.is_success(200));
    /// ```
    pub fn is_success(&self, status: u16) -> bool {
        (200..300).contains(&status)
            && self
                .responses
                .iter()
                .any(|(s, _)| *s == "2XX" || s.parse() == Ok(status))
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

    /// Whether it moves a file: an upload (a form with a file) or an answer that is a file.
    /// Such a call is timed by its pace, not its size.
    ///
    /// ```
    /// use tallyfy_api::Operation;
    /// assert!(Operation::find("download_file").unwrap().is_transfer());
    /// assert!(Operation::find("upload_file").unwrap().is_transfer());
    /// assert!(!Operation::find("get_asset").unwrap().is_transfer());
    /// ```
    pub fn is_transfer(&self) -> bool {
        self.streams || self.form.is_some_and(|files| !files.is_empty())
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
/// It gives a wrapper what it needs to send any operation alike: the operation's entry in
/// [`OPERATIONS`], the request the builder built, and how to decode a success body. The
/// builders have no way to send on their own.
pub trait Call: Sized + Clone {
    /// The decoded success body (`()` when none is documented).
    type Output: Send + 'static;
    /// The operation's entry in [`OPERATIONS`].
    const OPERATION: &'static Operation;
    /// The request, with its parameters checked (an `Err` says which one is at fault),
    /// and the [`Extension`] of the client that built it.
    fn build(self) -> Result<(Extension, reqwest::Request), String>;
    /// Decodes a success body; an operation that documents none ignores it.
    fn decode(body: &[u8]) -> Result<Self::Output, DecodeError>;
    /// The output of a success answer whose body is a file, left unread
    /// ([`Operation::streams`]); `None` for any other operation.
    fn stream(answer: reqwest::Response) -> Option<Self::Output> {
        let _ = answer;
        None
    }
}

/// What a wrapper crate keeps in the [`Client`], reachable from every request built with
/// it ([`ClientInfo::inner`]): the thing that sends them, typically.
///
/// ```
/// let extension = tallyfy_api::Extension::new(42u8);
/// assert_eq!(extension.get::<u8>(), Some(&42));
/// assert_eq!(extension.get::<u16>(), None);
/// assert_eq!(tallyfy_api::Extension::default().get::<u8>(), None);
/// ```
#[derive(Clone, Default)]
pub struct Extension(Option<Arc<dyn Any + Send + Sync>>);

impl Extension {
    /// Keeps `value` in the client.
    pub fn new<T: Any + Send + Sync>(value: T) -> Self {
        Self(Some(Arc::new(value)))
    }

    /// The value kept, if it is a `T`.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.0.as_deref()?.downcast_ref()
    }
}

impl fmt::Debug for Extension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Extension").field(&self.0.is_some()).finish()
    }
}

/// The generated client's hooks are never run: its builders only build.
impl ClientHooks<Extension> for Client {}
