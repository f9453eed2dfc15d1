//! Typed [httpmock](https://docs.rs/httpmock) stubs for every Tallyfy operation,
//! generated from the same spec as the client (`generated.rs`; rewritten by
//! `cargo xtask generate`).
//!
//! [`MockServerExt`] adds one method per operation to `httpmock::MockServer`, whose
//! `when`/`then` take the operation's own parameter and response types:
//!
//! ```
//! use httpmock::MockServer;
//! use tallyfy::{Client, Execute};
//! use tallyfy_api_mock::MockServerExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let server = MockServer::start_async().await;
//! let mock = server.permanently_delete_process(|when, then| {
//!     when.org_id("org").run_id("run");
//!     then.ok();
//! });
//! let client = Client::builder("token").base_url(server.base_url()).build().unwrap();
//! client.permanently_delete_process().org_id("org").run_id("run").execute().await.unwrap();
//! mock.assert();
//! # }
//! ```

#[rustfmt::skip]
#[allow(missing_docs, clippy::all, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod generated;

pub use generated::*;
