//! A fake Tallyfy API: in memory, stateful, on a loopback port, with fault knobs.
//!
//! It serves every operation of the spec with Tallyfy's documented semantics. Requests
//! need a non-empty `X-Tallyfy-Client` header (the docs say `APIClient`; Tallyfy's Python
//! SDK sends `TallyfySDK`, its n8n node `n8n`) and a known token (401 otherwise); the
//! member token gets 403 on permanent deletes and on reading or changing one member
//! (`get_member`, `update_member`, `update_member_role`, `remove_member`). Every answer carries an `X-Request-Id`.
//!
//! # What it holds
//!
//! Seeded, the same seed giving the same organization ([`FakeBuilder::seed`]): ten
//! templates, each with two to five steps and up to three kick-off fields (`text`,
//! `date` or `dropdown`, some required; the first template always has a required one;
//! the last is archived); processes launched from them, about 40% archived, each with one
//! task per step of its template and `progress` counting the completed ones; one-off
//! tasks beside them (one per five processes, some archived); twenty tags with titles
//! and colors; six members with integer IDs (the admin token's [`ADMIN_USER_ID`], the
//! member token's [`MEMBER_USER_ID`], roles `admin`, `standard`, `light`); four guests
//! known by email (`client+ops@example.com` among them); three groups of both; one
//! uploaded file, `welcome.txt`, on the first template's kick-off form
//! ([`FakeServer::file_ids`]). Template, step, kick-off field, group and asset IDs, like
//! process IDs, are 32 hexadecimal characters.
//!
//! # The workflow
//!
//! - **Processes**: archiving sets `archived_at` (and the status), activating clears
//!   it; a permanent delete answers 422 for a process that is not archived and 404 for
//!   one that does not exist, and takes the process's tasks with it. A launch
//!   (`launch_process`, 201) makes a process from a template that is not archived, one
//!   task per step; kick-off values go in `prerun` keyed by each field's timeline ID (its
//!   `id`; unknown keys are dropped); each missing required one is refused with 422
//!   `{"error": true, "errors": {"prerun.<timeline ID>": ["The <label> field is
//!   required."]}}`. A template that does not exist or is archived is refused with 422
//!   on `checklist_id` (the spec documents 422 for a launch, not 404).
//! - **Tasks**: completing one (`complete_process_task`) advances its process's
//!   `progress` (`{complete, total, percent}`); the last completes the process (`status`
//!   `complete`, `completed_at` set); reopening a task reverts both. Completing a
//!   completed task, or reopening one that is not, is 422 (the docs give no status).
//!   One-off tasks (`run_id` null) live beside processes: `create_task` (201; `title`,
//!   `task_type`, `owners` and `deadline` required), `update_task` (`title`, `deadline`
//!   and `owners` required), `complete_task`, `reopen_task`. With
//!   `separate_task_for_each_assignee: true`, `create_task` launches a process without
//!   a template, one task per assignee, and answers with the first task and its `run`.
//!   `list_tasks` lists both kinds (`is_oneoff` filters), hiding archived tasks and the
//!   tasks of archived processes unless `archived=true` or `only`.
//! - **Templates**: archiving one (`archive_template`, 200 `{"message",
//!   "deleted_references"}`) hides it from `list_templates` but with `archived=only` (or
//!   `true`) and refuses its launches; its processes go on. Its permanent delete is 403
//!   for a member, 422 until it is archived, then 200, then 404. `update_template` needs
//!   `title` (422).
//! - **People and tags**: `invite_member` answers 200 with status `invited` (422 for
//!   an email a member has; `admin` only from an administrator, 403); `update_member`
//!   needs `first_name`, `last_name`, `timezone` (422); `update_member_role` takes
//!   `admin`, `standard` or `light` (422 otherwise); `remove_member` answers 200 with
//!   status `disabled` and the member leaves the lists (then 404), 400 for the default
//!   administrator, `with_reassignment=true&to=ID` hands its tasks over. Guests are
//!   addressed by email, matched exactly as sent once percent-decoded (`+` stays `+`):
//!   `create_guest` 201 (422 for a member's email), `get_guest` and `update_guest` 201
//!   (as documented), `delete_guest` 200 with the guest, 422 for an unknown email (as
//!   documented). Groups: `create_group` 201 (`name` required, unique), `update_group`
//!   201 (`members`, `guests` replace), `delete_group` 204, for good. Tags:
//!   `create_tag` 201 (`title` required, unique, at most 30; `color` `#rrggbb`),
//!   `update_tag` 200, `delete_tag` 204 even when absent.
//! - **Files**: `upload_file` reads a `multipart/form-data` form as it arrives, its file
//!   (the `name` part) held in memory and refused with 413 `{"error": true, "message":
//!   "File too large - Tallyfy's upload limit is 100MB", "code": "FILE_TOO_LARGE"}` as
//!   soon as it passes the limit ([`FakeBuilder::upload_limit`], 100 MiB by default;
//!   the message names the limit set). `subject_id`, `subject_type` (`Run` or
//!   `Checklist`), `uploaded_from` and the file are required, the file of an extension
//!   Tallyfy allows (`pdf`, `txt`, `png`, `docx`, ...), and the subject must exist (a
//!   process, or a template): each fault is a 422 naming its field. It answers 200 with
//!   the asset (`version` 1, `uploaded_to_s3` true, `subject` `{id, type}`). `get_file`
//!   serves the file with the type its name suggests, `download_file` as
//!   `application/octet-stream` with `Content-Disposition: attachment`; both honour
//!   `Range: bytes=N-` (206 with `Content-Range`, 416 from the end on). `archive_asset`
//!   archives the record only: `get_asset` then answers 404, but the file is still
//!   served until `delete_file` (administrators only) deletes both, for good. Any member
//!   uploads, reads and archives. A process or template deleted for good takes its
//!   files along.
//! - **Activity**: launches, updates, completions, reopenings, archivings, restorations
//!   and deletes are recorded as they happen; `list_activity` lists them newest first,
//!   `entity_type=run&entity_id=<process>` narrows it to a process and its tasks.
//!
//! # Its answers
//!
//! They have the shapes of Tallyfy's documented example answers (the response corpus,
//! `tests/fixtures/tallyfy-docs/`):
//!
//! - a process has every field of the documented list item, with integer user IDs
//!   (`started_by`, `owner_id`), `progress` and `whole_progress` as counts, `summary`,
//!   `prerun`, `prerun_status`, `users`, `groups`, `collaborators`, `due_date_passed`,
//!   `due_soon`, `late_tasks`, `is_public`, `can_add_oot`, and `null`, not a missing
//!   field, for `archived_at`, `completed_at` and `parent_id` when unset; every
//!   operation answering with a process sends this one shape;
//! - a task has the keys of the list and get examples (and `completer_guest_id`,
//!   `taskdata`, `prevent_guest_comment`, which other examples show), assignees as
//!   `{"id", "full_name"}`, `null` for unset `completed_at`, `archived_at`,
//!   `completer_id`, `webhook`, and for a one-off task `run_id`, `checklist_id`,
//!   `step_id`; completing and reopening a task of a process add
//!   `tasks_changed_by_rules`;
//! - a template has the keys of the get example plus the list's `steps_count` and
//!   `is_pinned`, integer `owner_id` and `created_by`, its kick-off fields in `prerun`
//!   (with `required`, and `options` for a dropdown) and, with `with=steps`, its steps;
//! - an activity event has the documented example's shape: an integer `id`, `verb`,
//!   `type`, `description` (and `source`, `actor_type`, `actor_id`) as lists;
//! - an asset has the keys of the documented upload and get examples (`system` and, for
//!   a kick-off field's file, `step_id` `null`); a file is its bytes, not JSON;
//! - a missing process, task, template or file: 404 `{"error": true, "message": "Resource not
//!   found", "code": "RESOURCE_NOT_FOUND"}`;
//! - a path, or a method on a path, it does not serve: 404 `{"error": true, "message":
//!   "API endpoint not found", "code": "ENDPOINT_NOT_FOUND"}`;
//! - invalid input: 422 `{"error": true, "errors": {"page": ["The page must be a
//!   positive integer."]}}`, every field at fault named at once;
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
//!
//! let template = fake.template(&fake.active_template_ids()[0]).unwrap();
//! assert!((2..=5).contains(&template.steps.len()));
//! # Ok(()) }
//! ```

mod activity;
pub mod conformance;
mod faults;
mod files;
mod fixtures;
mod people;
mod processes;
mod server;
mod store;
mod tasks;
mod templates;
#[cfg(test)]
mod testing;
mod validate;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tallyfy_api::types::Run;
use tokio::sync::oneshot;

pub use faults::{Fault, Faults};
pub use files::{DEFAULT_UPLOAD_LIMIT, StoredFile};
pub use fixtures::Fixtures;
pub use store::{ADMIN_USER_ID, KickoffField, MAX_PER_PAGE, MEMBER_USER_ID, Step, Task, Template};

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
    upload_limit: u64,
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
            upload_limit: DEFAULT_UPLOAD_LIMIT,
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

    /// The largest file an upload may carry, in bytes (default [`DEFAULT_UPLOAD_LIMIT`],
    /// Tallyfy's 100 MB): a larger one is refused with 413 as soon as it passes it.
    pub fn upload_limit(mut self, bytes: u64) -> Self {
        self.upload_limit = bytes;
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
            upload_limit: self.upload_limit,
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
    /// Starts a fake with the defaults: 25 processes, seed 1, no faults (and, whatever
    /// the number of processes, ten templates).
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

    /// The tasks of process `run_id`, in order (position 1 first); empty for a process
    /// that does not exist.
    pub fn process_tasks(&self, run_id: &str) -> Vec<Task> {
        let store = self.shared.store();
        let ids = store.run_tasks.get(run_id).cloned().unwrap_or_default();
        let mut tasks: Vec<Task> = ids
            .iter()
            .filter_map(|id| store.tasks.get(id).cloned())
            .collect();
        tasks.sort_by_key(|t| t.position);
        tasks
    }

    /// The IDs of the one-off tasks (of no process), archived or not, sorted.
    pub fn one_off_task_ids(&self) -> Vec<String> {
        let store = self.shared.store();
        store
            .tasks
            .values()
            .filter(|t| t.run_id.is_none())
            .map(|t| t.id.clone())
            .collect()
    }

    /// A template as it stands now: its steps and its kick-off form.
    pub fn template(&self, id: &str) -> Option<Template> {
        self.shared.store().templates.get(id).cloned()
    }

    /// Every template ID, archived or not, sorted.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = tallyfy_fake::FakeServer::start().await?;
    /// let with_required_field = fake
    ///     .template_ids()
    ///     .into_iter()
    ///     .filter_map(|id| fake.template(&id))
    ///     .find(|t| t.archived_at.is_none() && t.prerun.iter().any(|f| f.required));
    /// assert!(with_required_field.is_some());
    /// # Ok(()) }
    /// ```
    pub fn template_ids(&self) -> Vec<String> {
        self.shared.store().templates.keys().cloned().collect()
    }

    /// The IDs of the templates that are not archived (those a launch accepts), sorted.
    pub fn active_template_ids(&self) -> Vec<String> {
        let store = self.shared.store();
        store
            .templates
            .values()
            .filter(|t| t.archived_at.is_none())
            .map(|t| t.id.clone())
            .collect()
    }

    /// The IDs of the archived templates, sorted.
    pub fn archived_template_ids(&self) -> Vec<String> {
        let store = self.shared.store();
        store
            .templates
            .values()
            .filter(|t| t.archived_at.is_some())
            .map(|t| t.id.clone())
            .collect()
    }

    /// How many events the activity feed holds.
    pub fn activity_count(&self) -> usize {
        self.shared.store().events.len()
    }

    /// Every tag ID, sorted.
    pub fn tag_ids(&self) -> Vec<String> {
        self.shared.store().tags.keys().cloned().collect()
    }

    /// The IDs of the members not removed, sorted: [`ADMIN_USER_ID`] and
    /// [`MEMBER_USER_ID`] among them.
    pub fn member_ids(&self) -> Vec<u64> {
        let store = self.shared.store();
        store
            .members
            .values()
            .filter(|m| m.status != "disabled")
            .map(|m| m.id)
            .collect()
    }

    /// Every guest's email, exactly as registered, sorted.
    pub fn guest_emails(&self) -> Vec<String> {
        self.shared.store().guests.keys().cloned().collect()
    }

    /// Every group ID, sorted.
    pub fn group_ids(&self) -> Vec<String> {
        self.shared.store().groups.keys().cloned().collect()
    }

    /// The largest file an upload may carry, in bytes.
    pub fn upload_limit(&self) -> u64 {
        self.shared.upload_limit
    }

    /// An uploaded file and its asset record, archived or not, as it stands now.
    pub fn file(&self, id: &str) -> Option<StoredFile> {
        self.shared.store().files.get(id).cloned()
    }

    /// The IDs of the stored files (their assets' IDs), archived or not, sorted: the
    /// seeded `welcome.txt` among them.
    pub fn file_ids(&self) -> Vec<String> {
        self.shared.store().files.keys().cloned().collect()
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
