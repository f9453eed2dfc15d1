//! The fake's data and Tallyfy's documented semantics, free of HTTP.
//!
//! This module holds the data and the lifecycle of processes and one-off tasks; the
//! workflow is in `processes.rs` (launching and updating processes, their progress),
//! `tasks.rs` (tasks of processes and one-off tasks), `templates.rs`, `people.rs`,
//! `files.rs` (uploaded files) and `activity.rs` (the activity feed), each an
//! `impl Store` of its own.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value, json};
use tallyfy_api::types::Run;

use crate::activity::{Entity, Event};
use crate::files::StoredFile;
use crate::fixtures::iso;
use crate::people::{Group, Guest, Member, Tag};

/// The member ID of the administrator, whose token is the admin token.
pub const ADMIN_USER_ID: u64 = 1001;
/// The member ID of the member who is not an administrator.
pub const MEMBER_USER_ID: u64 = 1002;

/// A one-off task, or a task of a process (`run_id` set).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Task {
    /// The task ID.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The process it belongs to; `None` for a one-off task.
    pub run_id: Option<String>,
    /// When it was archived; `None` unless archived.
    pub archived_at: Option<String>,
    /// `not-started`, `active`, `in-progress` (reopened) or `completed`.
    pub status: &'static str,
    /// When it was completed; `None` unless it is.
    pub completed_at: Option<String>,
    /// The template step it was made from; `None` for a one-off task, or a task added to
    /// a process by hand.
    pub step_id: Option<String>,
    /// Its place among its process's tasks, from 1 (1 for a one-off task).
    pub position: i64,
    pub(crate) increment_id: i64,
    /// `task`, `approval`, `expiring`, `email` or `expiring_email`.
    pub(crate) task_type: &'static str,
    pub(crate) owners: Owners,
    #[serde(serialize_with = "as_iso")]
    pub(crate) deadline: Timestamp,
    #[serde(serialize_with = "as_optional_iso")]
    pub(crate) started_at: Option<Timestamp>,
    #[serde(serialize_with = "as_iso")]
    pub(crate) created_at: Timestamp,
    #[serde(serialize_with = "as_iso")]
    pub(crate) last_updated: Timestamp,
    pub(crate) is_approved: Option<bool>,
    pub(crate) starter_id: u64,
    pub(crate) completer_id: Option<u64>,
    pub(crate) everyone_must_complete: bool,
    pub(crate) can_complete_only_assignees: bool,
    pub(crate) prevent_guest_comment: bool,
    pub(crate) top_secret: bool,
    pub(crate) max_assignable: i64,
    pub(crate) webhook: Option<String>,
    pub(crate) summary: Option<String>,
    pub(crate) taskdata: Map<String, Value>,
    pub(crate) form_fields: Vec<Value>,
}

/// A timestamp as the API formats them.
fn as_iso<S: serde::Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&iso(*at))
}

/// An optional timestamp as the API formats them, or `null`.
fn as_optional_iso<S: serde::Serializer>(
    at: &Option<Timestamp>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => as_iso(at, serializer),
        None => serializer.serialize_none(),
    }
}

impl Task {
    /// Whether it is completed.
    pub fn is_completed(&self) -> bool {
        self.status == "completed"
    }
}

/// Who a task is assigned to: member IDs, guests' emails, group IDs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Owners {
    pub users: Vec<u64>,
    pub guests: Vec<String>,
    pub groups: Vec<String>,
}

/// A template (checklist): what processes are launched from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Template {
    /// The template ID, 32 hexadecimal characters.
    pub id: String,
    /// Its title.
    pub title: String,
    /// When it was archived; `None` unless archived. An archived template is not listed
    /// (but with `archived=only` or `archived=true`) and cannot be launched.
    pub archived_at: Option<String>,
    /// Its steps, in order: a launch makes one task of each.
    pub steps: Vec<Step>,
    /// Its kick-off form: a launch keys each value by the field's `id`.
    pub prerun: Vec<KickoffField>,
    pub(crate) increment_id: i64,
    pub(crate) alias: String,
    pub(crate) summary: String,
    pub(crate) type_: String,
    pub(crate) starred: bool,
    pub(crate) owner_id: u64,
    pub(crate) created_by: u64,
    pub(crate) last_updated_by: u64,
    pub(crate) guidance: Option<String>,
    pub(crate) icon: Option<String>,
    pub(crate) webhook: Option<String>,
    pub(crate) folder_id: Option<String>,
    pub(crate) explanation_video: Option<String>,
    pub(crate) default_process_name_format: Option<String>,
    pub(crate) is_public: bool,
    pub(crate) is_public_kickoff: bool,
    pub(crate) created_at: String,
    pub(crate) last_updated: String,
}

/// A step of a template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The step's ID (its timeline ID), 32 hexadecimal characters: the key of its
    /// deadline and assignees in a launch's `tasks`.
    pub id: String,
    /// Its alias, the title in snake case.
    pub alias: String,
    /// Its title, which its tasks take.
    pub title: String,
}

/// A field of a template's kick-off form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KickoffField {
    /// The field's timeline ID, 32 hexadecimal characters: the key of its value in a
    /// launch's `prerun`.
    pub id: String,
    /// Its alias, the label in snake case (not a key of `prerun`).
    pub alias: String,
    /// Its label, which a refusal names (`The Customer name field is required.`).
    pub label: String,
    /// `text`, `date` or `dropdown` in the seeded templates; any type Tallyfy knows in
    /// created ones.
    pub field_type: String,
    /// Whether a launch must give it a value.
    pub required: bool,
    /// A dropdown's choices, in order (their `id` is the position, from 1).
    pub options: Vec<String>,
}

/// Who does something, and when: what every change records.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx<'a> {
    /// Now, as the API formats timestamps.
    pub now: &'a str,
    /// The member ID of the caller.
    pub user: u64,
}

impl Ctx<'_> {
    /// Now, as a timestamp.
    pub(crate) fn at(&self) -> Timestamp {
        self.now.parse().unwrap_or_else(|_| Timestamp::now())
    }
}

/// Why a request is refused: its status and error body.
///
/// The bodies are the ones Tallyfy documents: `{"error": true, "message", "code"}` for
/// most refusals, `{"error": true, "errors": {field: [message]}}` for validation (422)
/// and `{"message", "code": "RATE_LIMIT_EXCEEDED"}` for the rate limit (429).
#[derive(Debug, PartialEq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// The error body, in one of Tallyfy's shapes.
    pub body: Value,
}

impl Refusal {
    /// `{"error": true, "message": message, "code": code}`, Tallyfy's usual error body.
    pub(crate) fn new(status: u16, message: &str, code: &str) -> Self {
        Self {
            status,
            body: json!({"error": true, "message": message, "code": code}),
        }
    }

    /// 404 for a process or task that does not exist (or not here).
    pub(crate) fn not_found() -> Self {
        Self::new(404, "Resource not found", "RESOURCE_NOT_FOUND")
    }

    /// 404 for a path (or method) the API does not serve.
    pub(crate) fn endpoint_not_found() -> Self {
        Self::new(404, "API endpoint not found", "ENDPOINT_NOT_FOUND")
    }

    /// 422: `message` about `field`, in Laravel's validation shape.
    pub(crate) fn invalid(field: &str, message: &str) -> Self {
        Self::invalid_fields(Map::from_iter([(field.to_string(), json!([message]))]))
    }

    /// 422 naming every field at fault: `errors` maps each to its messages.
    pub(crate) fn invalid_fields(errors: Map<String, Value>) -> Self {
        Self {
            status: 422,
            body: json!({"error": true, "errors": errors}),
        }
    }

    /// 429 for too many requests to `operation`.
    pub(crate) fn rate_limited(operation: &str) -> Self {
        let message = format!("You've reached the limit for {operation}. Please try again later.");
        Self {
            status: 429,
            body: json!({"message": message, "code": "RATE_LIMIT_EXCEEDED"}),
        }
    }

    /// A 5xx answer: the server, or a gateway in front of it, failed.
    pub(crate) fn server_error(status: u16) -> Self {
        let message = if status == 500 {
            "Server Error"
        } else {
            "The upstream server did not answer"
        };
        Self::new(status, message, "SERVER_ERROR")
    }
}

/// The fields of a process that Tallyfy sends as `null` when unset, rather than leaving
/// them out (its documented examples show `"archived_at": null` and so on).
const NULL_WHEN_UNSET: [&str; 3] = ["archived_at", "completed_at", "parent_id"];

/// A process as the API sends it: the fields it has, and `null` for each field of
/// [`NULL_WHEN_UNSET`] it does not have. Every answer carrying a process goes through
/// here.
pub(crate) fn process_json(run: &Run) -> Result<Value, Refusal> {
    let Ok(Value::Object(mut fields)) = serde_json::to_value(run) else {
        return Err(Refusal::server_error(500));
    };
    for key in NULL_WHEN_UNSET {
        fields.entry(key).or_insert(Value::Null);
    }
    Ok(Value::Object(fields))
}

/// `{"data": process}`, the answer about one process.
pub(crate) fn one_process(run: &Run) -> Result<Value, Refusal> {
    Ok(json!({"data": process_json(run)?}))
}

/// What a list request asks for.
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    /// 1-based page.
    pub page: Option<String>,
    /// Items per page (capped at 100).
    pub per_page: Option<String>,
    /// `field` or `-field`.
    pub sort: Option<String>,
    /// Substring of the name, any case.
    pub q: Option<String>,
    /// `archived`, or a status of active processes.
    pub status: Option<String>,
    /// `only` (archived only) or `true` (archived and active).
    pub archived: Option<String>,
}

/// The organization's processes, tasks, templates, tags and activity.
#[derive(Debug, Default)]
pub struct Store {
    pub(crate) runs: BTreeMap<String, Run>,
    /// The status a process had before it was archived, restored on activation.
    pub(crate) status_before_archive: BTreeMap<String, String>,
    pub(crate) tasks: BTreeMap<String, Task>,
    /// The IDs of each process's tasks, in order.
    pub(crate) run_tasks: BTreeMap<String, Vec<String>>,
    pub(crate) tags: BTreeMap<String, Tag>,
    /// The members, by ID (removed ones stay, `disabled`).
    pub(crate) members: BTreeMap<u64, Member>,
    /// The guests, by email exactly as registered.
    pub(crate) guests: BTreeMap<String, Guest>,
    /// The groups, by ID.
    pub(crate) groups: BTreeMap<String, Group>,
    pub(crate) templates: BTreeMap<String, Template>,
    /// The uploaded files, by asset ID (archived ones stay).
    pub(crate) files: BTreeMap<String, StoredFile>,
    /// The activity feed, oldest first.
    pub(crate) events: Vec<Event>,
    /// Draws the IDs of what requests create: seeded, so a run of requests is repeatable.
    pub(crate) rng: fastrand::Rng,
    /// The last `increment_id` given to a process, a task and a template.
    pub(crate) last_increment: Increments,
}

/// The last `increment_id` of each kind of object.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Increments {
    pub run: i64,
    pub task: i64,
    pub template: i64,
}

/// The largest page the server sends, as Tallyfy caps `per_page`.
pub const MAX_PER_PAGE: usize = 100;

impl Store {
    /// A new ID: 32 hexadecimal characters, as Tallyfy's.
    pub(crate) fn new_id(&mut self) -> String {
        format!("{:016x}{:016x}", self.rng.u64(..), self.rng.u64(..))
    }

    /// `GET /runs`: filtered, sorted, paginated, with the pagination envelope.
    pub fn list(&self, query: &ListQuery, base: &str) -> Result<Value, Refusal> {
        let paging = Paging::read(query.page.as_deref(), query.per_page.as_deref(), 10)?;
        let archived_wanted = query.status.as_deref() == Some("archived")
            || query.archived.as_deref() == Some("only");
        let both = query.archived.as_deref() == Some("true");
        let needle = query.q.as_deref().map(str::to_lowercase);
        let mut runs: Vec<&Run> = self
            .runs
            .values()
            .filter(|run| {
                let archived = run.archived_at.is_some();
                both || archived == archived_wanted
            })
            .filter(|run| match query.status.as_deref() {
                None | Some("archived") => true,
                Some(status) => run.status.as_deref() == Some(status),
            })
            .filter(|run| {
                needle.as_ref().is_none_or(|n| {
                    run.name
                        .as_deref()
                        .unwrap_or_default()
                        .to_lowercase()
                        .contains(n)
                })
            })
            .collect();
        sort(&mut runs, query.sort.as_deref().unwrap_or("-created_at"))?;
        paging.answer(&runs, base, |run| process_json(run))
    }

    /// `GET /runs/{id}`.
    pub fn get(&self, run_id: &str) -> Result<Value, Refusal> {
        self.runs
            .get(run_id)
            .ok_or_else(Refusal::not_found)
            .and_then(one_process)
    }

    /// `DELETE /runs/{id}`: archive (repeatable).
    pub(crate) fn archive(&mut self, run_id: &str, ctx: &Ctx<'_>) -> Result<Value, Refusal> {
        let run = self.runs.get_mut(run_id).ok_or_else(Refusal::not_found)?;
        if run.archived_at.is_none() {
            let status = run
                .status
                .replace("archived".into())
                .unwrap_or_else(|| "active".into());
            self.status_before_archive
                .insert(run_id.to_string(), status);
            run.archived_at = Some(ctx.now.to_string());
        }
        run.last_updated = Some(ctx.now.to_string());
        let answer = one_process(run)?;
        let event = Event::about_run(run, "archived", "Archived process");
        self.record(event, ctx);
        Ok(answer)
    }

    /// `PUT /runs/{id}/activate`: restore.
    pub(crate) fn activate(&mut self, run_id: &str, ctx: &Ctx<'_>) -> Result<Value, Refusal> {
        let run = self.runs.get_mut(run_id).ok_or_else(Refusal::not_found)?;
        if run.archived_at.take().is_some() {
            run.status = Some(
                self.status_before_archive
                    .remove(run_id)
                    .unwrap_or_else(|| "active".into()),
            );
        }
        run.last_updated = Some(ctx.now.to_string());
        let answer = one_process(run)?;
        let event = Event::about_run(run, "unarchived", "Restored process");
        self.record(event, ctx);
        Ok(answer)
    }

    /// `DELETE /runs/{id}/delete`: archived processes only; takes their tasks along.
    pub(crate) fn delete_permanently(
        &mut self,
        run_id: &str,
        ctx: &Ctx<'_>,
    ) -> Result<(), Refusal> {
        let run = self.runs.get(run_id).ok_or_else(Refusal::not_found)?;
        if run.archived_at.is_none() {
            return Err(Refusal::invalid(
                "run_id",
                "The process must be archived before it can be deleted permanently.",
            ));
        }
        let event = Event::about_run(run, "deleted", "Deleted process");
        self.runs.remove(run_id);
        self.status_before_archive.remove(run_id);
        for task_id in self.run_tasks.remove(run_id).unwrap_or_default() {
            self.tasks.remove(&task_id);
        }
        self.forget_files_of("Run", run_id);
        self.record(event, ctx);
        Ok(())
    }

    /// A one-off task (one of no process), or 404.
    pub(crate) fn one_off_task(&mut self, task_id: &str) -> Result<&mut Task, Refusal> {
        self.tasks
            .get_mut(task_id)
            .filter(|t| t.run_id.is_none())
            .ok_or_else(Refusal::not_found)
    }

    /// `DELETE /tasks/{id}`: archive a one-off task.
    pub(crate) fn archive_task(&mut self, task_id: &str, ctx: &Ctx<'_>) -> Result<(), Refusal> {
        let task = self.one_off_task(task_id)?;
        task.archived_at.get_or_insert_with(|| ctx.now.to_string());
        let event = Event::about_task(task, "archived", "Archived task");
        self.record(event, ctx);
        Ok(())
    }

    /// `PUT /tasks/{id}/restore` (its answer's body is not documented: none is sent).
    pub(crate) fn restore_task(&mut self, task_id: &str, ctx: &Ctx<'_>) -> Result<(), Refusal> {
        let task = self.one_off_task(task_id)?;
        task.archived_at = None;
        let event = Event::about_task(task, "unarchived", "Restored task");
        self.record(event, ctx);
        Ok(())
    }

    /// `DELETE /tasks/{id}/delete`: a one-off task, for good.
    pub(crate) fn delete_task_permanently(
        &mut self,
        task_id: &str,
        ctx: &Ctx<'_>,
    ) -> Result<(), Refusal> {
        let task = self.one_off_task(task_id)?;
        let event = Event::about_task(task, "deleted", "Deleted task");
        self.tasks.remove(task_id);
        self.record(event, ctx);
        Ok(())
    }

    /// `DELETE /tags/{id}`: succeeds whether or not the tag exists.
    pub(crate) fn delete_tag(&mut self, tag_id: &str, ctx: &Ctx<'_>) {
        if self.tags.remove(tag_id).is_some() {
            let event = Event::new(
                Entity::Tag(tag_id.into()),
                None,
                "deleted",
                "Deleted tag",
                tag_id,
            );
            self.record(event, ctx);
        }
    }
}

/// Which page of a list to send, read from `page` and `per_page`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Paging {
    page: usize,
    per_page: usize,
}

impl Paging {
    /// Reads `page` (default 1) and `per_page` (default `default`, capped at
    /// [`MAX_PER_PAGE`]): 422 unless each is a positive integer.
    pub(crate) fn read(
        page: Option<&str>,
        per_page: Option<&str>,
        default: usize,
    ) -> Result<Self, Refusal> {
        Ok(Self {
            page: positive(page, "page")?.unwrap_or(1),
            per_page: positive(per_page, "per_page")?
                .unwrap_or(default)
                .min(MAX_PER_PAGE),
        })
    }

    /// `{"data": [this page of items, rendered], "meta": {"pagination": ...}}`, with
    /// links to the neighbouring pages under `base`.
    pub(crate) fn answer<T>(
        self,
        items: &[T],
        base: &str,
        render: impl Fn(&T) -> Result<Value, Refusal>,
    ) -> Result<Value, Refusal> {
        let Self { page, per_page } = self;
        let total = items.len();
        let total_pages = total.div_ceil(per_page).max(1);
        let data = items
            .iter()
            .skip((page - 1).saturating_mul(per_page))
            .take(per_page)
            .map(render)
            .collect::<Result<Vec<Value>, Refusal>>()?;
        let link = |p: usize| format!("{base}?page={p}&per_page={per_page}");
        let links = match (page > 1, page < total_pages) {
            (false, false) => json!([]),
            (previous, next) => json!({
                "previous": previous.then(|| link(page - 1)),
                "next": next.then(|| link(page + 1)),
            }),
        };
        Ok(json!({
            "data": data,
            "meta": {"pagination": {
                "total": total,
                "count": data.len(),
                "per_page": per_page,
                "current_page": page,
                "total_pages": total_pages,
                "links": links,
            }}
        }))
    }
}

fn positive(value: Option<&str>, field: &str) -> Result<Option<usize>, Refusal> {
    value
        .map(|v| match v.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(Refusal::invalid(
                field,
                &format!("The {field} must be a positive integer."),
            )),
        })
        .transpose()
}

/// `spec` read as a sort: `(descending, field)`, the field one of `fields`; 422 otherwise.
pub(crate) fn sort_spec<'a>(
    spec: &'a str,
    fields: &[&str],
    param: &str,
) -> Result<(bool, &'a str), Refusal> {
    let (descending, field) = match spec.strip_prefix('-') {
        Some(field) => (true, field),
        None => (false, spec),
    };
    if fields.contains(&field) {
        Ok((descending, field))
    } else {
        Err(Refusal::invalid(
            param,
            &format!("Sorting by {field} is not supported."),
        ))
    }
}

fn sort(runs: &mut [&Run], spec: &str) -> Result<(), Refusal> {
    let fields = ["created_at", "last_updated", "archived_at", "name", "id"];
    let (descending, field) = sort_spec(spec, &fields, "sort")?;
    let key = |run: &Run| -> Option<String> {
        match field {
            "created_at" => run.created_at.clone(),
            "last_updated" => run.last_updated.clone(),
            "archived_at" => run.archived_at.clone(),
            "name" => run.name.clone(),
            _ => Some(run.id.clone()),
        }
    };
    runs.sort_by(|a, b| {
        let order = key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id));
        if descending { order.reverse() } else { order }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::Fixtures;

    const NOW: &str = "2026-01-01T00:00:00.000Z";

    /// The administrator, at `now`.
    fn at(now: &str) -> Ctx<'_> {
        Ctx {
            now,
            user: ADMIN_USER_ID,
        }
    }

    fn store() -> Store {
        Fixtures {
            processes: 30,
            seed: 3,
        }
        .build()
    }

    fn first(store: &Store, archived: bool) -> String {
        store
            .runs
            .values()
            .find(|r| r.archived_at.is_some() == archived)
            .map(|r| r.id.clone())
            .unwrap()
    }

    #[test]
    fn archive_then_activate_round_trips_the_status() {
        let mut store = store();
        let id = first(&store, false);
        let before = store.runs[&id].status.clone();
        let archived = store.archive(&id, &at("2026-01-01T00:00:00Z")).unwrap();
        assert_eq!(archived["data"]["archived_at"], "2026-01-01T00:00:00Z");
        assert_eq!(archived["data"]["status"], "archived");
        let restored = store.activate(&id, &at("2026-01-02T00:00:00Z")).unwrap();
        assert_eq!(restored["data"]["archived_at"], Value::Null);
        assert_eq!(store.runs[&id].status, before);
    }

    #[test]
    fn unset_timestamps_and_parent_are_sent_as_null() {
        let mut store = store();
        let id = store
            .runs
            .values()
            .find(|r| r.archived_at.is_none() && r.completed_at.is_none())
            .map(|r| r.id.clone())
            .unwrap();
        let got = store.get(&id).unwrap();
        let all = ListQuery {
            per_page: Some("100".into()),
            ..ListQuery::default()
        };
        let page = store.list(&all, "").unwrap();
        let listed = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == *id)
            .cloned()
            .unwrap();
        let archived = store.archive(&id, &at("2026-01-01T00:00:00Z")).unwrap();
        let activated = store.activate(&id, &at("2026-01-02T00:00:00Z")).unwrap();
        for key in NULL_WHEN_UNSET {
            assert_eq!(got["data"].get(key), Some(&Value::Null), "{key}");
            assert_eq!(activated["data"].get(key), Some(&Value::Null), "{key}");
            assert_eq!(listed.get(key), Some(&Value::Null), "{key}");
        }
        assert_eq!(archived["data"]["archived_at"], "2026-01-01T00:00:00Z");
        assert_eq!(archived["data"]["completed_at"], Value::Null);
        assert!(got["data"]["owner_id"].is_u64(), "user IDs are integers");
    }

    #[test]
    fn permanent_delete_needs_an_archived_process_and_takes_its_tasks() {
        let mut store = store();
        let active = first(&store, false);
        assert_eq!(
            store.delete_permanently(&active, &at(NOW)).unwrap_err(),
            Refusal {
                status: 422,
                body: json!({"error": true, "errors": {"run_id": [
                    "The process must be archived before it can be deleted permanently."
                ]}}),
            }
        );
        assert_eq!(
            store.delete_permanently("nope", &at(NOW)).unwrap_err(),
            Refusal::not_found()
        );
        assert_eq!(
            Refusal::not_found().body,
            json!({"error": true, "message": "Resource not found", "code": "RESOURCE_NOT_FOUND"})
        );
        let archived = first(&store, true);
        let tasks_before = store
            .tasks
            .values()
            .filter(|t| t.run_id.as_deref() == Some(&archived))
            .count();
        assert!(tasks_before > 0, "fixtures give processes tasks");
        store.delete_permanently(&archived, &at(NOW)).unwrap();
        assert!(!store.runs.contains_key(&archived));
        assert!(
            store
                .tasks
                .values()
                .all(|t| t.run_id.as_deref() != Some(&archived))
        );
        assert_eq!(
            store
                .delete_permanently(&archived, &at(NOW))
                .unwrap_err()
                .status,
            404
        );
    }

    #[test]
    fn list_filters_sorts_and_paginates() {
        let store = store();
        let q = |status: Option<&str>, archived: Option<&str>| ListQuery {
            status: status.map(Into::into),
            archived: archived.map(Into::into),
            per_page: Some("100".into()),
            ..ListQuery::default()
        };
        let total = |v: Value| v["meta"]["pagination"]["total"].as_u64().unwrap();
        let archived = store
            .runs
            .values()
            .filter(|r| r.archived_at.is_some())
            .count() as u64;
        assert_eq!(
            total(store.list(&q(Some("archived"), None), "").unwrap()),
            archived
        );
        assert_eq!(
            total(store.list(&q(None, Some("only")), "").unwrap()),
            archived
        );
        assert_eq!(total(store.list(&q(None, Some("true")), "").unwrap()), 30);
        assert_eq!(
            total(store.list(&q(None, None), "").unwrap()),
            30 - archived
        );

        let page = |p: &str| ListQuery {
            archived: Some("true".into()),
            page: Some(p.into()),
            per_page: Some("7".into()),
            sort: Some("name".into()),
            ..ListQuery::default()
        };
        let first = store.list(&page("1"), "/x").unwrap();
        assert_eq!(first["meta"]["pagination"]["total_pages"], 5);
        assert_eq!(
            first["meta"]["pagination"]["links"]["next"],
            "/x?page=2&per_page=7"
        );
        let last = store.list(&page("5"), "/x").unwrap();
        assert_eq!(last["meta"]["pagination"]["count"], 2);
        let names: Vec<&str> = first["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert!(names.windows(2).all(|w| w[0] <= w[1]), "{names:?}");
        assert_eq!(
            store.list(&page("0"), "").unwrap_err().body,
            json!({"error": true, "errors": {"page": ["The page must be a positive integer."]}})
        );
    }

    #[test]
    fn tag_delete_succeeds_even_when_absent_and_tasks_follow_their_rules() {
        let mut store = store();
        let tag = store.tags.keys().next().cloned().unwrap();
        store.delete_tag(&tag, &at(NOW));
        store.delete_tag(&tag, &at(NOW));
        assert!(!store.tags.contains_key(&tag));
        let one_off = store
            .tasks
            .values()
            .find(|t| t.run_id.is_none())
            .map(|t| t.id.clone())
            .unwrap();
        store
            .archive_task(&one_off, &at("2026-01-01T00:00:00Z"))
            .unwrap();
        assert!(store.tasks[&one_off].archived_at.is_some());
        store.restore_task(&one_off, &at(NOW)).unwrap();
        assert!(store.tasks[&one_off].archived_at.is_none());
        store.delete_task_permanently(&one_off, &at(NOW)).unwrap();
        assert_eq!(
            store.archive_task(&one_off, &at("x")).unwrap_err().status,
            404
        );
        let process_task = store
            .tasks
            .values()
            .find(|t| t.run_id.is_some())
            .map(|t| t.id.clone())
            .unwrap();
        assert_eq!(
            store
                .delete_task_permanently(&process_task, &at(NOW))
                .unwrap_err()
                .status,
            404
        );
    }
}
