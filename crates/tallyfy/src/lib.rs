//! Run Tallyfy workflows from Rust.
//!
//! Every operation of the spec (launch, update, list, archive, restore and permanently
//! delete processes; list, create, update, complete and reopen tasks of processes and
//! one-off tasks; list, create, update, archive and delete templates; the activity feed;
//! members, guests, groups and tags; upload, download and delete files) is a method of [`Client`] that hands out its builder. Finish it with
//! [`.execute()`](Execute::execute) to get the decoded body or one [`Error`] type,
//! whatever the operation.
//!
//! ```no_run
//! use tallyfy::prelude::*;
//!
//! # async fn demo() -> Result<(), Error> {
//! let client = Client::new("my-token")?;
//! let page = client.list_processes().org_id("org").archived("only").per_page(100).execute().await?;
//! for run in page.data {
//!     match client.permanently_delete_process().org_id("org").run_id(&run.id).execute().await {
//!         Ok(()) => println!("deleted {}", run.id),
//!         Err(e) if e.is_already_gone() => println!("{} was already gone", run.id),
//!         Err(e) => eprintln!("{e}"),
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Files
//! Uploads stream from disk and downloads are written as they arrive, in flat memory
//! whatever their size; a broken download resumes ([`files`]).
//!
//! # Bulk work
//! [`Client::processes`] streams a list exactly while it shrinks ([`pages`]);
//! [`Client::purge_archived_before`] and [`Client::purge_ids`] delete many processes
//! with bounded concurrency, one outcome each, and a journal to resume from ([`purge`]).
//!
//! # What every request carries
//! `Authorization: Bearer <token>` (the header is marked sensitive; the token is never
//! in `Debug`, `Display`, errors or logs), `Accept: application/json`,
//! `X-Tallyfy-Client: APIClient` and a `User-Agent`. Redirects are not followed.
//!
//! # Error kinds
//! [`Error::kind`] is an [`ErrorKind`], whose [`as_str`](ErrorKind::as_str) is a stable
//! snake_case name: logs, metrics, the command line, the purge journal and other
//! language SDKs use the same names. Each kind has an `is_*` predicate on [`Error`]. An
//! error's `Display` is one clause (`get_process: not_found (HTTP 404)`); its details
//! are behind accessors ([`Error::explanation`], [`Error::message`], [`Error::code`],
//! [`Error::request_id`], ...) and the underlying failure is its `source()`.
//!
//! "Retryable" below is [`Error::is_retryable`]: whether the retry rules resend it, for
//! an idempotent operation; for a POST only `rate_limited` and `not_delivered` are.
//!
//! | kind | when | retryable | may have been applied |
//! |---|---|---|---|
//! | `invalid_input` | refused before sending; no request went out | no | no |
//! | `unauthorized` | 401 | no | no |
//! | `forbidden` | 403 | no | no |
//! | `not_found` | 404 | no | no |
//! | `unprocessable` | 422 (permanent delete: the process is not archived yet) | no | no |
//! | `rate_limited` | 429, carrying the parsed `Retry-After` | yes | no |
//! | `client_error` | any other 4xx | no | no |
//! | `server_error` | 5xx | 500, 502, 503, 504: yes, but not for a POST | yes |
//! | `not_delivered` | transport failure before sending (refused, DNS, TLS) | yes | no |
//! | `timeout` | no complete answer in time after sending | yes, but not for a POST | yes |
//! | `interrupted` | the connection broke after sending | yes, but not for a POST | yes |
//! | `unexpected_response` | a status the spec does not know, or an undecodable success body | no | yes |
//! | `already_gone` | an irreversible delete's retry answered 404 after an earlier attempt may have landed | no | yes |
//!
//! The status decides the kind, whatever the body: a 404 with an HTML page, an empty 403
//! or a 422 with broken JSON keep their kind and their raw body (truncated to 8 KiB).
//! Any 2xx is success for an operation that documents no body.
//!
//! # Delivery semantics
//! [`Error::may_have_been_applied`] tells whether the server may have acted although the
//! call failed. `not_delivered` provably never reached the server: sending again is safe.
//! `timeout`, `interrupted` and `server_error` may have been applied: read the resource
//! back before repeating a call that is not idempotent.
//!
//! # Retries
//! On by default ([`RetryPolicy::default`]: 3 retries, backoff 0.5 s doubling to 8 s with
//! jitter, `Retry-After` honoured up to 60 s). Idempotent operations are GET, HEAD, PUT,
//! OPTIONS and every DELETE, irreversible or not; POST (and PATCH) create, and are not.
//!
//! | outcome of an attempt | idempotent operation | POST | wait |
//! |---|---|---|---|
//! | 429 | retried | retried | `Retry-After` (seconds or HTTP-date); past the cap: returned at once as `rate_limited`; missing or garbage: backoff |
//! | `not_delivered` | retried | retried | backoff |
//! | 500, 502, 503, 504 | retried | **not** retried | backoff |
//! | `timeout`, `interrupted` | retried | **not** retried | backoff |
//! | any other status | not retried | not retried | |
//!
//! **Why a permanent delete is resent.** A delete names one resource by its ID. Sent
//! again after a 5xx, a timeout or a broken connection, it cannot delete anything else:
//! either the first attempt landed, and the retry finds nothing (404), or it did not, and
//! the retry deletes it. An irreversible delete whose retry answers 404 after an earlier
//! attempt may have been applied ends as `already_gone`, never as a plain `not_found` nor
//! a silent success; a 404 after a 429 or `not_delivered` (never applied) stays
//! `not_found`. A POST creates: sent again after it may have been applied, it may create
//! twice, so it is resent only when the request provably never reached the server or was
//! refused with 429; otherwise the error says it may have been applied and is returned.
//! Irreversible operations still need the user's confirmation in the command line: that
//! is about intent, not retries.
//!
//! When the budget runs out the last error is returned, with [`Error::attempts`]. Every
//! retry is a `tracing` event (operation, attempt, wait, reason) inside the request's
//! span; dropping the future stops the wait.
//!
//! # Rate limits
//! Every request of a client, and of its clones, passes one gate. A 429 whose
//! `Retry-After` is within the cap holds *all* of them back until it has passed, so that
//! concurrent workers learn a rate limit once instead of each hitting it;
//! [`ClientBuilder::max_requests_per_second`] also paces them evenly.
//!
//! # What Tallyfy really sends
//! The spec follows the example answers of Tallyfy's API documentation, kept as a corpus
//! that every operation's types must decode (`tests/fixtures/tallyfy-docs/`). What they
//! teach, for this SDK and any other:
//!
//! - **User IDs are integers** (`"started_by": 1002`); one documented example shows a
//!   string. Read either into one type ([`UserId`]): a numeric
//!   string is the number.
//! - **Only `id` is always there.** Every other field of a process is absent in some
//!   example, and `archived_at`, `completed_at` and `parent_id` are often `null`.
//! - **`progress` has three shapes**: an object `{complete, total, percent}` (possibly
//!   `{}`), a bare integer (`75`), or absent; `whole_progress` likewise.
//! - **Fields appear over time** (`prerun`, `whole_progress`, `collaborators`, `users`,
//!   `groups`, `can_add_oot`, ...): every object keeps the fields the spec does not name
//!   in its `extra` map, and [`Execute::execute_with_answer`] gives the body as it came.
//! - **Archived is `archived_at`, not `status`**: list archived processes with
//!   `archived=only` (`archived=true` adds the active ones); `status=archived` is
//!   unreliable.
//! - **Error bodies**: `{"error": true, "message": "Resource not found", "code":
//!   "RESOURCE_NOT_FOUND"}` (404; `"API endpoint not found"`, `ENDPOINT_NOT_FOUND` for a
//!   wrong path), `{"error": true, "errors": {"field": ["..."]}}` (422),
//!   `{"message": "...", "code": "RATE_LIMIT_EXCEEDED"}` (429), `{"error":
//!   "invalid_client"}` (401): `error` may be a boolean or a string.
//! - **Query strings**: a space is `%20`; Tallyfy does not read `+` as a space.
//!
//! A success whose body still does not decode is `unexpected_response`: the server
//! carried the operation out, and the error names the JSON path at fault
//! (`data.started_by: invalid type: ...`) and keeps the raw body.
//!
//! # Timeouts and bounded reads
//! Connecting may take [`DEFAULT_CONNECT_TIMEOUT`]; each attempt, from sending to the end
//! of the answer, [`DEFAULT_TIMEOUT`]; an upload or a download, [`DEFAULT_TRANSFER_TIMEOUT`]
//! in all, but no read may wait longer than the attempt's timeout. An error body is read
//! up to [`MAX_ERROR_BODY`] bytes and the rest is never downloaded; a success body over
//! [`MAX_SUCCESS_BODY`] is `unexpected_response`; a file is not read into memory at all.

mod auth;
mod body;
mod call;
mod client;
mod error;
mod execute;
pub mod files;
mod gate;
#[rustfmt::skip]
#[allow(clippy::all)]
mod operations;
pub mod pages;
mod path;
pub mod purge;
mod retry;
mod transport;
mod watchdog;

pub use auth::Token;
pub use call::Args;
pub use client::{
    Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
    DEFAULT_TRANSFER_TIMEOUT, http_client_builder,
};
pub use error::{BoxError, Error, ErrorKind};
pub use execute::{Answered, Customized, Execute};
pub use files::{Save, SaveError, Saved, Saving};
pub use purge::{Purge, PurgeError, PurgeEvent, PurgeOutcome, PurgeSummary};
/// The HTTP client this crate sends with, for configuring one to pass in.
pub use reqwest;
pub use retry::RetryPolicy;
pub use tallyfy_api::{Download, LocalFile, OPERATIONS, Operation, Param, UserId, builder, types};
pub use transport::{MAX_ERROR_BODY, MAX_SUCCESS_BODY};

/// What most code that uses the SDK needs: `use tallyfy::prelude::*;`.
pub mod prelude {
    pub use crate::{Client, Error, ErrorKind, Execute, RetryPolicy, Save};
}

/// The README's examples, compiled as doctests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
