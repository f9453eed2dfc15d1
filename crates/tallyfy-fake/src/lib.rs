//! A fake Tallyfy API: in memory, stateful, on a loopback port, with fault knobs.
//!
//! It serves every operation of the spec with Tallyfy's documented semantics: archiving
//! sets `archived_at` (and the status), activating clears it; a permanent delete answers
//! 422 for a process that is not archived and 404 for one that does not exist, and takes
//! the process's tasks with it; deleting a tag answers 204 even when the tag is absent.
//! Requests need a non-empty `X-Tallyfy-Client` header (the docs say `APIClient`;
//! Tallyfy's Python SDK sends `TallyfySDK`, its n8n node `n8n`) and a known token (401
//! otherwise); the member token gets 403 on permanent deletes. Every answer carries an
//! `X-Request-Id`.
//!
//! Its answers have the shapes of Tallyfy's documented example answers (the response
//! corpus, `tests/fixtures/tallyfy-docs/`):
//!
//! - a process has every field of the documented list item, with integer user IDs
//!   (`started_by`, `owner_id`), `progress` and `whole_progress` as counts, `summary`,
//!   `prerun`, `prerun_status`, `users`, `groups`, `collaborators`, `due_date_passed`,
//!   `due_soon`, `late_tasks`, `is_public`, `can_add_oot`, and `null`, not a missing
//!   field, for `archived_at`, `completed_at` and `parent_id` when unset; list, get,
//!   archive and activate all send this one shape;
//! - a missing process or task: 404 `{"error": true, "message": "Resource not found",
//!   "code": "RESOURCE_NOT_FOUND"}`;
//! - a path, or a method on a path, it does not serve: 404 `{"error": true, "message":
//!   "API endpoint not found", "code": "ENDPOINT_NOT_FOUND"}`;
//! - invalid input: 422 `{"error": true, "errors": {"page": ["The page must be a
//!   positive integer."]}}`;
//! - the rate limit: 429 with `Retry-After` and `{"message": "You've reached the limit
//!   for list_processes. Please try again later.", "code": "RATE_LIMIT_EXCEEDED"}`;
//! - any other refusal (401, 403, 5xx): `{"error": true, "message", "code"}`.
//!
//! In a test, start it and point a client at it; with this workspace's SDK that is
//! `tallyfy::Client::builder(fake.admin_token()).base_url(fake.base_url()).build()?`.
//! What the requests did is then visible on the fake:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let fake = tallyfy_fake::FakeServer::start().await?;
//! println!("{}/organizations/{}/runs", fake.base_url(), fake.org_id());
//!
//! let id = fake.archived_process_ids()[0].clone();
//! assert!(fake.process(&id).is_some_and(|run| run.archived_at.is_some()));
//! # Ok(()) }
//! ```

mod faults;
mod fixtures;
mod server;
mod store;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tallyfy_api::types::Run;
use tokio::sync::oneshot;

pub use faults::{Fault, Faults};
pub use fixtures::Fixtures;
pub use store::{MAX_PER_PAGE, Task};

use server::Shared;

/// The default organization ID.
pub const ORG_ID: &str = "demo-org";
/// The default administrator token.
pub const ADMIN_TOKEN: &str = "fake-admin-token";
/// The default token of a member who is not an administrator.
pub const MEMBER_TOKEN: &str = "fake-member-token";

/// A running fake. It stops when dropped.
pub struct FakeServer {
    shared: Shared,
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

/// Configures a [`FakeServer`].
#[derive(Clone, Debug)]
pub struct FakeBuilder {
    fixtures: Fixtures,
    org_id: String,
    admin_token: String,
    member_token: String,
    faults: Faults,
    address: SocketAddr,
}

impl Default for FakeBuilder {
    fn default() -> Self {
        Self {
            fixtures: Fixtures {
                processes: 25,
                seed: 1,
            },
            org_id: ORG_ID.into(),
            admin_token: ADMIN_TOKEN.into(),
            member_token: MEMBER_TOKEN.into(),
            faults: Faults::default(),
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

impl FakeBuilder {
    /// How many processes to create (default 25).
    pub fn processes(mut self, count: usize) -> Self {
        self.fixtures.processes = count;
        self
    }

    /// The fixtures' seed (default 1).
    pub fn seed(mut self, seed: u64) -> Self {
        self.fixtures.seed = seed;
        self
    }

    /// The organization ID (default [`ORG_ID`]).
    pub fn org_id(mut self, org_id: impl Into<String>) -> Self {
        self.org_id = org_id.into();
        self
    }

    /// The administrator's token (default [`ADMIN_TOKEN`]).
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = token.into();
        self
    }

    /// A member's token, refused on permanent deletes (default [`MEMBER_TOKEN`]).
    pub fn member_token(mut self, token: impl Into<String>) -> Self {
        self.member_token = token.into();
        self
    }

    /// Faults to inject (default: none).
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Where to listen (default `127.0.0.1:0`, an ephemeral loopback port).
    pub fn address(mut self, address: SocketAddr) -> Self {
        self.address = address;
        self
    }

    /// Binds and starts serving in the background of the current tokio runtime.
    pub async fn start(self) -> std::io::Result<FakeServer> {
        let listener = tokio::net::TcpListener::bind(self.address).await?;
        let address = listener.local_addr()?;
        let shared = Shared {
            store: Arc::new(Mutex::new(self.fixtures.build())),
            org_id: self.org_id.into(),
            admin_token: self.admin_token.into(),
            member_token: self.member_token.into(),
            base_url: format!("http://{address}").into(),
            injector: Arc::new(Mutex::new(faults::Injector::new(self.faults))),
            requests: Arc::new(AtomicU64::new(0)),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let app = server::router(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(FakeServer {
            shared,
            address,
            stop: Some(stop),
        })
    }
}

impl FakeServer {
    /// Starts a fake with the defaults: 25 processes, seed 1, no faults.
    pub async fn start() -> std::io::Result<Self> {
        Self::builder().start().await
    }

    /// Configures a fake.
    pub fn builder() -> FakeBuilder {
        FakeBuilder::default()
    }

    /// The base URL to give a client, such as `http://127.0.0.1:41234`. The API is also
    /// served under `/api`, as in production.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The organization ID it serves.
    pub fn org_id(&self) -> &str {
        &self.shared.org_id
    }

    /// The administrator's token.
    pub fn admin_token(&self) -> &str {
        &self.shared.admin_token
    }

    /// The token of a member who is not an administrator.
    pub fn member_token(&self) -> &str {
        &self.shared.member_token
    }

    /// A process as it stands now.
    pub fn process(&self, id: &str) -> Option<Run> {
        self.shared.store().runs.get(id).cloned()
    }

    /// Every process ID, sorted.
    pub fn process_ids(&self) -> Vec<String> {
        self.shared.store().runs.keys().cloned().collect()
    }

    /// The IDs of the archived processes, sorted.
    pub fn archived_process_ids(&self) -> Vec<String> {
        let store = self.shared.store();
        store
            .runs
            .values()
            .filter(|r| r.archived_at.is_some())
            .map(|r| r.id.clone())
            .collect()
    }

    /// The IDs of the processes that are not archived, sorted.
    pub fn active_process_ids(&self) -> Vec<String> {
        let store = self.shared.store();
        store
            .runs
            .values()
            .filter(|r| r.archived_at.is_none())
            .map(|r| r.id.clone())
            .collect()
    }

    /// A task (one-off or of a process) as it stands now.
    pub fn task(&self, id: &str) -> Option<Task> {
        self.shared.store().tasks.get(id).cloned()
    }

    /// Every task, sorted by ID.
    pub fn tasks(&self) -> Vec<Task> {
        self.shared.store().tasks.values().cloned().collect()
    }

    /// Every tag ID, sorted.
    pub fn tag_ids(&self) -> Vec<String> {
        self.shared.store().tags.iter().cloned().collect()
    }

    /// Makes the next request (after any already queued) meet `fault`, whatever the
    /// random faults would draw: for tests of one precise failure.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use tallyfy_fake::{Fault, FakeServer};
    /// let fake = FakeServer::start().await?;
    /// fake.inject(Fault::ServerError { status: 504, after_applying: true });
    /// # Ok(()) }
    /// ```
    pub fn inject(&self, fault: Fault) {
        self.shared
            .injector
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .queue(fault);
    }

    /// How many requests it has received.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
