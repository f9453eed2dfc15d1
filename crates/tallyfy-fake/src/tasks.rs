//! Tasks: of processes (made by a launch, one per step) and one-off (made by
//! `create_task`), listed, read, changed, completed and reopened.
//!
//! A task object has the keys of the documented examples (`list_tasks.200.json`,
//! `get_task.200.json`, `update_task.200.json`, `reopen_task.200.json`), with `null`
//! where they show it: `completed_at`, `archived_at`, `completer_id`,
//! `completer_guest_id`, `webhook`, and for a one-off task `run_id`, `checklist_id` and
//! `step_id`. Its assignees are `{"id", "full_name"}` objects, as in the list example.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::activity::{Event, full_name};
use crate::fixtures::{alias, iso, later};
use crate::store::{Ctx, Owners, Paging, Refusal, Store, Task, process_json, sort_spec};
use crate::validate::Body;

/// The task types Tallyfy knows.
const TASK_TYPES: [&str; 5] = ["task", "approval", "expiring", "email", "expiring_email"];

/// A task as the API sends it (before what `with` adds).
#[derive(Serialize)]
struct TaskOut<'a> {
    id: &'a str,
    increment_id: i64,
    title: &'a str,
    run_id: Option<&'a str>,
    checklist_id: Option<&'a str>,
    step_id: Option<&'a str>,
    alias: String,
    status: &'a str,
    status_label: &'static str,
    task_type: &'a str,
    position: i64,
    is_oneoff_task: bool,
    owners: Value,
    deadline: String,
    started_at: Option<String>,
    created_at: String,
    last_updated: String,
    completed_at: Option<&'a str>,
    is_completable: bool,
    everyone_must_complete: bool,
    is_approved: Option<bool>,
    archived_at: Option<&'a str>,
    starter_id: u64,
    completer_id: Option<u64>,
    completer_guest_id: Option<u64>,
    can_complete_only_assignees: bool,
    max_assignable: i64,
    webhook: Option<&'a str>,
    top_secret: bool,
    prevent_guest_comment: bool,
    taskdata: &'a Map<String, Value>,
}

/// The label Tallyfy shows for a status.
fn status_label(status: &str) -> &'static str {
    match status {
        "not-started" => "Not started",
        "in-progress" => "In progress",
        "completed" => "Completed",
        _ => "Active",
    }
}

/// Assignees as answers show them: members as `{"id", "full_name"}`.
fn owners_json(owners: &Owners) -> Value {
    let users: Vec<Value> = owners
        .users
        .iter()
        .map(|&id| json!({"id": id, "full_name": full_name(id)}))
        .collect();
    json!({"users": users, "guests": owners.guests, "groups": owners.groups})
}

/// The relationships a `with` parameter asks for.
fn with(params: &HashMap<String, String>) -> BTreeSet<String> {
    params
        .get("with")
        .map(|w| w.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_default()
}

/// How `with=step` shows the step: `{"data": step}` (get) or the plain object (lists of
/// a process's tasks), as the documented examples do.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StepStyle {
    Wrapped,
    Plain,
}

/// Where a task is looked for: among one-off tasks, or among a process's tasks.
#[derive(Clone, Copy)]
pub(crate) enum Scope<'a> {
    OneOff,
    Process(&'a str),
    /// Any task (`get_task` reads both kinds).
    Any,
}

impl Store {
    /// `task` as the API sends it, with what `with` asks for.
    fn task_json(
        &self,
        task: &Task,
        with: &BTreeSet<String>,
        style: StepStyle,
    ) -> Result<Value, Refusal> {
        let out = TaskOut {
            id: &task.id,
            increment_id: task.increment_id,
            title: &task.title,
            run_id: task.run_id.as_deref(),
            checklist_id: self.checklist_of(task),
            step_id: task.step_id.as_deref(),
            alias: alias(&task.title),
            status: task.status,
            status_label: status_label(task.status),
            task_type: task.task_type,
            position: task.position,
            is_oneoff_task: task.run_id.is_none(),
            owners: owners_json(&task.owners),
            deadline: iso(task.deadline),
            started_at: task.started_at.map(iso),
            created_at: iso(task.created_at),
            last_updated: iso(task.last_updated),
            completed_at: task.completed_at.as_deref(),
            is_completable: !task.is_completed(),
            everyone_must_complete: task.everyone_must_complete,
            is_approved: task.is_approved,
            archived_at: task.archived_at.as_deref(),
            starter_id: task.starter_id,
            completer_id: task.completer_id,
            completer_guest_id: None,
            can_complete_only_assignees: task.can_complete_only_assignees,
            max_assignable: task.max_assignable,
            webhook: task.webhook.as_deref(),
            top_secret: task.top_secret,
            prevent_guest_comment: task.prevent_guest_comment,
            taskdata: &task.taskdata,
        };
        let Ok(Value::Object(mut fields)) = serde_json::to_value(out) else {
            return Err(Refusal::server_error(500));
        };
        if with.contains("run")
            && let Some(run) = task.run_id.as_ref().and_then(|id| self.runs.get(id))
        {
            fields.insert("run".into(), json!({"data": process_json(run)?}));
        }
        if with.contains("step")
            && let Some(step_id) = &task.step_id
        {
            let step = self
                .checklist_of(task)
                .and_then(|id| self.templates.get(id))
                .and_then(|t| t.steps.iter().find(|s| &s.id == step_id));
            let title = step.map_or(task.title.as_str(), |s| s.title.as_str());
            let value = match style {
                StepStyle::Plain => json!({"id": step_id, "title": title}),
                StepStyle::Wrapped => json!({"data": {
                    "id": step_id,
                    "checklist_id": self.checklist_of(task),
                    "alias": step.map_or_else(|| alias(&task.title), |s| s.alias.clone()),
                    "title": title,
                }}),
            };
            fields.insert("step".into(), value);
        }
        if with.contains("form_fields") {
            let values: Vec<Value> = task
                .form_fields
                .iter()
                .map(|field| {
                    let mut field = field.clone();
                    let value = field
                        .get("id")
                        .and_then(Value::as_str)
                        .and_then(|id| task.taskdata.get(id))
                        .cloned()
                        .unwrap_or(Value::Null);
                    if let Value::Object(f) = &mut field {
                        f.insert("value".into(), value);
                    }
                    field
                })
                .collect();
            fields.insert("form_fields".into(), json!({"data": values}));
        }
        if with.contains("summary") {
            fields.insert("summary".into(), json!(task.summary));
        }
        Ok(Value::Object(fields))
    }

    /// The template `task`'s process was launched from; `None` for a one-off task or a
    /// process launched without one.
    fn checklist_of(&self, task: &Task) -> Option<&str> {
        let run = self.runs.get(task.run_id.as_ref()?)?;
        run.checklist_id.as_deref()
    }

    /// `{"data": task}`, plus `tasks_changed_by_rules` for a task of a process when it
    /// answers a completion or a reopening, as Tallyfy's do.
    fn one_task(&self, task_id: &str, rules: bool) -> Result<Value, Refusal> {
        let task = self.tasks.get(task_id).ok_or_else(Refusal::not_found)?;
        let mut data = self.task_json(task, &BTreeSet::new(), StepStyle::Wrapped)?;
        if rules
            && task.run_id.is_some()
            && let Value::Object(fields) = &mut data
        {
            fields.insert("tasks_changed_by_rules".into(), json!({}));
        }
        Ok(json!({"data": data}))
    }

    /// The ID of task `task_id` if it is in `scope`; 404 otherwise (and for a process
    /// that does not exist).
    pub(crate) fn find_task(&self, scope: Scope<'_>, task_id: &str) -> Result<(), Refusal> {
        let task = self.tasks.get(task_id).ok_or_else(Refusal::not_found)?;
        let fits = match scope {
            Scope::OneOff => task.run_id.is_none(),
            Scope::Process(run_id) => {
                self.runs.contains_key(run_id) && task.run_id.as_deref() == Some(run_id)
            }
            Scope::Any => true,
        };
        if fits {
            Ok(())
        } else {
            Err(Refusal::not_found())
        }
    }

    /// Whether a task counts as archived: itself, or its process.
    fn archived(&self, task: &Task) -> bool {
        task.archived_at.is_some()
            || task
                .run_id
                .as_ref()
                .and_then(|id| self.runs.get(id))
                .is_some_and(|run| run.archived_at.is_some())
    }

    /// `GET /tasks`: every task of the organization, of processes and one-off, 10 a page
    /// by default, by deadline. Filters: `is_oneoff` (`true`, `false`), `status`
    /// (`active`, `complete`, `incomplete`, `inprogress`, `overdue`, `due_soon`,
    /// `hasproblem`), `q` (in the title or the process's name), `owners` and `groups`
    /// (comma-separated), `archived` (`true` includes archived tasks and the tasks of
    /// archived processes, `only` lists them alone). `sort`: `deadline`, `newest`,
    /// `completed_newest` or `problems`, `-` first to reverse. Other filters are ignored.
    pub(crate) fn list_tasks(
        &self,
        params: &HashMap<String, String>,
        base: &str,
        now: &str,
    ) -> Result<Value, Refusal> {
        let get = |name: &str| params.get(name).map(String::as_str);
        let paging = Paging::read(get("page"), get("per_page"), 10)?;
        let one_off = match get("is_oneoff") {
            None => None,
            Some("true" | "1") => Some(true),
            Some("false" | "0") => Some(false),
            Some(_) => {
                return Err(Refusal::invalid(
                    "is_oneoff",
                    "The is oneoff field must be true or false.",
                ));
            }
        };
        let status = status_filter(
            get("status"),
            now.parse().unwrap_or_else(|_| Timestamp::now()),
        )?;
        let fields = ["deadline", "newest", "completed_newest", "problems"];
        let (descending, sort) = sort_spec(get("sort").unwrap_or("deadline"), &fields, "sort")?;
        let needle = get("q").map(str::to_lowercase);
        let owners: Option<Vec<u64>> = get("owners").map(|o| {
            o.split(',')
                .filter_map(|id| id.trim().parse().ok())
                .collect()
        });
        let groups: Option<Vec<&str>> =
            get("groups").map(|g| g.split(',').map(str::trim).collect());
        let archived = get("archived");
        let mut tasks: Vec<&Task> = self
            .tasks
            .values()
            .filter(|t| one_off.is_none_or(|one_off| t.run_id.is_none() == one_off))
            .filter(|t| match archived {
                Some("true" | "1") => true,
                Some("only") => self.archived(t),
                _ => !self.archived(t),
            })
            .filter(|t| status(t))
            .filter(|t| {
                needle.as_ref().is_none_or(|n| {
                    let process = t
                        .run_id
                        .as_ref()
                        .and_then(|id| self.runs.get(id))
                        .and_then(|run| run.name.as_deref())
                        .unwrap_or_default();
                    t.title.to_lowercase().contains(n) || process.to_lowercase().contains(n)
                })
            })
            .filter(|t| {
                owners
                    .as_ref()
                    .is_none_or(|o| t.owners.users.iter().any(|u| o.contains(u)))
            })
            .filter(|t| {
                groups
                    .as_ref()
                    .is_none_or(|g| t.owners.groups.iter().any(|x| g.contains(&x.as_str())))
            })
            .collect();
        tasks.sort_by(|a, b| {
            let order = match sort {
                "newest" => b.created_at.cmp(&a.created_at),
                "completed_newest" => b.completed_at.cmp(&a.completed_at),
                _ => a.deadline.cmp(&b.deadline),
            };
            let order = order.then_with(|| a.id.cmp(&b.id));
            if descending { order.reverse() } else { order }
        });
        let with = with(params);
        paging.answer(&tasks, base, |t| {
            self.task_json(t, &with, StepStyle::Wrapped)
        })
    }

    /// `GET /runs/{id}/tasks`: a process's tasks, 10 a page by default, by position
    /// (`sort`: `position`, `deadline`, `-` first to reverse); `status` filters as in
    /// [`Store::list_tasks`], plus `not-started`; `with=step` adds each task's step as
    /// `{"id", "title"}`.
    pub(crate) fn list_process_tasks(
        &self,
        run_id: &str,
        params: &HashMap<String, String>,
        base: &str,
        now: &str,
    ) -> Result<Value, Refusal> {
        let ids = self
            .run_tasks
            .get(run_id)
            .filter(|_| self.runs.contains_key(run_id))
            .ok_or_else(Refusal::not_found)?;
        let get = |name: &str| params.get(name).map(String::as_str);
        let paging = Paging::read(get("page"), get("per_page"), 10)?;
        let status = status_filter(
            get("status"),
            now.parse().unwrap_or_else(|_| Timestamp::now()),
        )?;
        let (descending, sort) = sort_spec(
            get("sort").unwrap_or("position"),
            &["position", "deadline"],
            "sort",
        )?;
        let mut tasks: Vec<&Task> = ids
            .iter()
            .filter_map(|id| self.tasks.get(id))
            .filter(|t| status(t))
            .collect();
        tasks.sort_by(|a, b| {
            let order = match sort {
                "deadline" => a.deadline.cmp(&b.deadline),
                _ => a.position.cmp(&b.position),
            }
            .then_with(|| a.id.cmp(&b.id));
            if descending { order.reverse() } else { order }
        });
        let with = with(params);
        paging.answer(&tasks, base, |t| self.task_json(t, &with, StepStyle::Plain))
    }

    /// `GET /tasks/{id}` (any task) and `GET /runs/{run}/tasks/{id}` (a task of that
    /// process), with what `with` asks for (`run`, `step`, `form_fields`, `summary`).
    pub(crate) fn get_task(
        &self,
        scope: Scope<'_>,
        task_id: &str,
        params: &HashMap<String, String>,
    ) -> Result<Value, Refusal> {
        self.find_task(scope, task_id)?;
        let task = self.tasks.get(task_id).ok_or_else(Refusal::not_found)?;
        Ok(json!({"data": self.task_json(task, &with(params), StepStyle::Wrapped)?}))
    }

    /// `POST /tasks`: a one-off task; with `run_id`, a task added to that process; with
    /// `separate_task_for_each_assignee: true`, a process launched without a template
    /// (or the process `run_id`) holding one task per assignee (member, guest or group),
    /// answered with the first of them and, in `run`, its process.
    ///
    /// `title`, `task_type`, `owners` and `deadline` are required (422 naming each that
    /// is missing); the deadline may be ISO 8601 or `YYYY-MM-DD HH:MM:SS`.
    pub(crate) fn create_task(
        &mut self,
        fields: &Map<String, Value>,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        let mut body = Body::new(fields);
        let title = body.required_string("title", 600);
        let task_type = body.required_string("task_type", 64).and_then(|t| {
            match TASK_TYPES.iter().find(|known| **known == t) {
                Some(known) => Some(*known),
                None => {
                    body.fail("task_type", "The selected task type is invalid.".into());
                    None
                }
            }
        });
        let owners = if body.require("owners") {
            body.owners("owners")
        } else {
            None
        };
        let deadline = if body.require("deadline") {
            body.time("deadline")
        } else {
            None
        };
        let description = body.string("description", 100_000);
        let summary = body.string("summary", 100_000).or(description);
        let started_at = body.time("started_at");
        let separate = body
            .boolean("separate_task_for_each_assignee")
            .unwrap_or(false);
        let everyone_must_complete = body.boolean("everyone_must_complete").unwrap_or(false);
        let only_assignees = body.boolean("can_complete_only_assignees").unwrap_or(false);
        let prevent_guest_comment = body.boolean("prevent_guest_comment").unwrap_or(false);
        let top_secret = body.boolean("top_secret").unwrap_or(false);
        let _ = body.boolean("is_soft_start_date");
        let max_assignable = body.integer("max_assignable").unwrap_or(0);
        let webhook = body.string("webhook", 2048);
        let _ = body.list("tags");
        let position = body.integer("position");
        let run_id = body.string("run_id", 255);
        if run_id
            .as_ref()
            .is_some_and(|id| !self.runs.contains_key(id))
        {
            body.fail("run_id", "The selected run id is invalid.".into());
        }
        let mut form_fields = Vec::new();
        for (n, field) in body.list("form_fields").into_iter().flatten().enumerate() {
            let at = format!("form_fields.{n}");
            let Value::Object(field) = field else {
                body.fail(&at, format!("The {at} must be an object."));
                continue;
            };
            let mut inner = Body::new(field);
            let label = inner.required_string("label", 600);
            let field_type = inner.required_string("field_type", 64);
            let required = inner.boolean("required");
            if !field.contains_key("required") {
                inner.require("required");
            }
            body.absorb(&at, inner);
            let mut stored = field.clone();
            stored.insert("id".into(), json!(self.new_id()));
            stored.insert("label".into(), json!(label));
            stored.insert("field_type".into(), json!(field_type));
            stored.insert("required".into(), json!(required.unwrap_or(false)));
            form_fields.push(Value::Object(stored));
        }
        let assignees: Vec<Owners> = match (&owners, separate) {
            (Some(owners), true) => split(owners),
            (Some(owners), false) => vec![owners.clone()],
            (None, _) => Vec::new(),
        };
        if separate && owners.is_some() && assignees.is_empty() {
            body.fail(
                "owners",
                "At least one assignee is required for a task for each assignee.".into(),
            );
        }
        body.finish()?;
        let (Some(title), Some(task_type), Some(deadline)) = (title, task_type, deadline) else {
            return Err(Refusal::server_error(500));
        };

        let run_id = match (run_id, separate) {
            (Some(run_id), _) => Some(run_id),
            (None, true) => Some(self.launch_without_template(&title, ctx)),
            (None, false) => None,
        };
        let status = if started_at.is_some_and(|s| s <= ctx.at()) {
            "active"
        } else {
            "not-started"
        };
        let mut created = Vec::new();
        for owners in assignees {
            let id = self.new_id();
            self.last_increment.task += 1;
            let place = match &run_id {
                Some(run) => {
                    let tasks = self.run_tasks.entry(run.clone()).or_default();
                    tasks.push(id.clone());
                    position.unwrap_or(tasks.len() as i64)
                }
                None => position.unwrap_or(1),
            };
            let task = Task {
                id: id.clone(),
                title: title.clone(),
                run_id: run_id.clone(),
                status,
                position: place,
                increment_id: self.last_increment.task,
                task_type,
                owners,
                deadline,
                started_at,
                created_at: ctx.at(),
                last_updated: ctx.at(),
                starter_id: ctx.user,
                everyone_must_complete,
                can_complete_only_assignees: only_assignees,
                prevent_guest_comment,
                top_secret,
                max_assignable,
                webhook: webhook.clone(),
                summary: summary.clone(),
                form_fields: form_fields.clone(),
                ..Task::blank()
            };
            self.record(Event::about_task(&task, "created", "Created task"), ctx);
            self.tasks.insert(id.clone(), task);
            created.push(id);
        }
        if let Some(run) = &run_id {
            self.refresh_progress(run, ctx);
        }
        let first = created.first().ok_or_else(|| Refusal::server_error(500))?;
        let mut answer = self.one_task(first, false)?;
        if separate && let Some(run) = run_id.as_ref().and_then(|id| self.runs.get(id)) {
            answer["data"]["run"] = process_json(run)?;
        }
        Ok(answer)
    }

    /// `PUT /tasks/{id}` (a one-off task: `title`, `deadline` and `owners` required) and
    /// `PUT /runs/{run}/tasks/{id}` (a task of that process: every field optional).
    /// `owners` replaces the assignees; `taskdata` values are merged in. A completed task
    /// cannot be changed (422).
    pub(crate) fn update_task(
        &mut self,
        scope: Scope<'_>,
        task_id: &str,
        fields: &Map<String, Value>,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        self.find_task(scope, task_id)?;
        let one_off = matches!(scope, Scope::OneOff);
        let mut body = Body::new(fields);
        let title = if one_off || fields.contains_key("title") {
            body.required_string("title", 600)
        } else {
            None
        };
        let deadline = if one_off && !body.require("deadline") {
            None
        } else {
            body.time("deadline")
        };
        let owners = if one_off && !body.require("owners") {
            None
        } else {
            body.owners("owners")
        };
        let summary = body.string("summary", 100_000);
        let started_at = body.time("started_at");
        let taskdata = body.object("taskdata");
        let webhook = body.string("webhook", 2048);
        let prevent_guest_comment = body.boolean("prevent_guest_comment");
        let position = body.integer("position");
        let max_assignable = body.integer("max_assignable");
        if self.tasks.get(task_id).is_some_and(Task::is_completed) {
            body.fail("task_id", "A completed task cannot be updated.".into());
        }
        body.finish()?;

        let task = self.tasks.get_mut(task_id).ok_or_else(Refusal::not_found)?;
        if let Some(title) = title {
            task.title = title;
        }
        if let Some(deadline) = deadline {
            task.deadline = deadline;
        }
        if let Some(owners) = owners {
            task.owners = owners;
        }
        if summary.is_some() {
            task.summary = summary;
        }
        if let Some(started_at) = started_at {
            if task.status == "not-started" && started_at <= ctx.at() {
                task.status = "active";
            }
            task.started_at = Some(started_at);
        }
        for (key, value) in taskdata.into_iter().flatten() {
            task.taskdata.insert(key.clone(), value.clone());
        }
        if webhook.is_some() {
            task.webhook = webhook;
        }
        if let Some(flag) = prevent_guest_comment {
            task.prevent_guest_comment = flag;
        }
        if let Some(position) = position {
            task.position = position;
        }
        if let Some(max) = max_assignable {
            task.max_assignable = max;
        }
        task.last_updated = ctx.at();
        let event = Event::about_task(task, "updated", "Updated task");
        self.record(event, ctx);
        self.one_task(task_id, false)
    }

    /// `POST /completed-tasks` (a one-off task) and `POST /runs/{run}/completed-tasks`
    /// (a task of that process): `task_id` required; an approval task needs
    /// `is_approved`; a completed task cannot be completed again (422). Completing the
    /// last open task of a process completes the process.
    pub(crate) fn complete_task(
        &mut self,
        scope: Scope<'_>,
        fields: &Map<String, Value>,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        if let Scope::Process(run_id) = scope
            && !self.runs.contains_key(run_id)
        {
            return Err(Refusal::not_found());
        }
        let mut body = Body::new(fields);
        let task_id = body.required_string("task_id", 255);
        let is_approved = body.boolean("is_approved");
        let completer = body.member("override_user").unwrap_or(ctx.user);
        body.finish()?;
        let task_id = task_id.unwrap_or_default();
        self.find_task(scope, &task_id)?;
        let task = self
            .tasks
            .get_mut(&task_id)
            .ok_or_else(Refusal::not_found)?;
        if task.is_completed() {
            return Err(Refusal::invalid(
                "task_id",
                "The task is already completed.",
            ));
        }
        if task.task_type == "approval" {
            if is_approved.is_none() {
                return Err(Refusal::invalid(
                    "is_approved",
                    "The is approved field is required for an approval task.",
                ));
            }
            task.is_approved = is_approved;
        }
        task.status = "completed";
        task.completed_at = Some(ctx.now.to_string());
        task.completer_id = Some(completer);
        task.last_updated = ctx.at();
        let event = Event::about_task(task, "completed", "Completed task");
        let run_id = task.run_id.clone();
        self.record(event, ctx);
        if let Some(run_id) = run_id {
            self.refresh_progress(&run_id, ctx);
        }
        self.one_task(&task_id, true)
    }

    /// `DELETE /completed-tasks/{id}` (a one-off task) and
    /// `DELETE /runs/{run}/completed-tasks/{id}` (a task of that process): the task is
    /// `in-progress` again, `completed_at`, `completer_id` and `is_approved` null; its
    /// process, if complete, is active again. A task that is not completed: 422.
    pub(crate) fn reopen_task(
        &mut self,
        scope: Scope<'_>,
        task_id: &str,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        self.find_task(scope, task_id)?;
        let task = self.tasks.get_mut(task_id).ok_or_else(Refusal::not_found)?;
        if !task.is_completed() {
            return Err(Refusal::invalid("task_id", "The task is not completed."));
        }
        task.status = "in-progress";
        task.completed_at = None;
        task.completer_id = None;
        task.is_approved = None;
        task.last_updated = ctx.at();
        let event = Event::about_task(task, "re-opened", "Re-opened task");
        let run_id = task.run_id.clone();
        self.record(event, ctx);
        if let Some(run_id) = run_id {
            self.refresh_progress(&run_id, ctx);
        }
        self.one_task(task_id, true)
    }
}

/// One set of assignees per member, guest and group of `owners`.
fn split(owners: &Owners) -> Vec<Owners> {
    let users = owners.users.iter().map(|&u| Owners {
        users: vec![u],
        ..Owners::default()
    });
    let guests = owners.guests.iter().map(|g| Owners {
        guests: vec![g.clone()],
        ..Owners::default()
    });
    let groups = owners.groups.iter().map(|g| Owners {
        groups: vec![g.clone()],
        ..Owners::default()
    });
    users.chain(guests).chain(groups).collect()
}

/// A test of a task, such as a list's filter.
type TaskTest<'a> = Box<dyn Fn(&Task) -> bool + 'a>;

/// The `status` filter of the task lists, as a test of a task; 422 for a status no list
/// knows.
fn status_filter(status: Option<&str>, now: Timestamp) -> Result<TaskTest<'static>, Refusal> {
    let soon = later(now, 7);
    let test: TaskTest<'static> = match status {
        None => Box::new(|_| true),
        Some("active" | "incomplete" | "active_visible") => Box::new(|t| !t.is_completed()),
        Some("complete") => Box::new(Task::is_completed),
        Some("inprogress") => Box::new(|t| t.status == "in-progress"),
        Some("not-started") => Box::new(|t| t.status == "not-started"),
        Some("overdue") => Box::new(move |t| !t.is_completed() && t.deadline < now),
        Some("due_soon") => {
            Box::new(move |t| !t.is_completed() && t.deadline >= now && t.deadline <= soon)
        }
        Some("hasproblem") => Box::new(|_| false),
        Some(_) => {
            return Err(Refusal::invalid(
                "status",
                "The selected status is invalid.",
            ));
        }
    };
    Ok(test)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::{NOW, ctx};

    fn store() -> Store {
        crate::testing::store(20, 5)
    }

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_one_off_task_is_created_completed_and_reopened() {
        let mut store = store();
        let created = store
            .create_task(
                &body(json!({
                    "title": "Call the bank",
                    "task_type": "task",
                    "owners": {"users": [1001, "1002"], "guests": ["g@example.com"]},
                    "deadline": "2026-03-05 17:00:00",
                })),
                &ctx(),
            )
            .unwrap();
        let task = &created["data"];
        let id = task["id"].as_str().unwrap().to_string();
        assert_eq!(task["run_id"], Value::Null);
        assert_eq!(task["step_id"], Value::Null);
        assert_eq!(task["is_oneoff_task"], true);
        assert_eq!(task["status"], "not-started");
        assert_eq!(task["deadline"], "2026-03-05T17:00:00.000Z");
        assert_eq!(
            task["owners"]["users"][1],
            json!({"id": 1002, "full_name": "Morgan Member"})
        );
        assert_eq!(task["owners"]["guests"], json!(["g@example.com"]));

        let done = store
            .complete_task(Scope::OneOff, &body(json!({"task_id": id})), &ctx())
            .unwrap();
        assert_eq!(done["data"]["status"], "completed");
        assert!(done["data"].get("tasks_changed_by_rules").is_none());
        let reopened = store.reopen_task(Scope::OneOff, &id, &ctx()).unwrap();
        assert_eq!(reopened["data"]["status"], "in-progress");
        assert_eq!(reopened["data"]["completer_id"], Value::Null);

        let listed = store
            .list_tasks(
                &params(&[("is_oneoff", "true"), ("per_page", "100")]),
                "",
                NOW,
            )
            .unwrap();
        let listed = listed["data"].as_array().unwrap();
        assert!(listed.iter().any(|t| t["id"] == *id));
        assert!(listed.iter().all(|t| t["is_oneoff_task"] == true));
    }

    #[test]
    fn creating_a_task_needs_its_four_fields() {
        let mut store = store();
        let refusal = store
            .create_task(&body(json!({"task_type": "meeting"})), &ctx())
            .unwrap_err();
        assert_eq!(
            refusal.body,
            json!({"error": true, "errors": {
                "title": ["The title field is required."],
                "task_type": ["The selected task type is invalid."],
                "owners": ["The owners field is required."],
                "deadline": ["The deadline field is required."],
            }})
        );
    }

    #[test]
    fn a_task_for_each_assignee_launches_a_process_without_a_template() {
        let mut store = store();
        let created = store
            .create_task(
                &body(json!({
                    "title": "Review Q4",
                    "task_type": "task",
                    "owners": {"users": ["1001", "1003"], "guests": ["g@example.com"], "groups": ["grp"]},
                    "deadline": "2026-03-05 17:00:00",
                    "separate_task_for_each_assignee": true,
                })),
                &ctx(),
            )
            .unwrap();
        let run = &created["data"]["run"];
        let run_id = run["id"].as_str().unwrap();
        assert_eq!(run["name"], "Review Q4");
        assert_eq!(created["data"]["run_id"], json!(run_id));
        assert_eq!(created["data"]["owners"]["users"][0]["id"], 1001);
        let tasks = &store.run_tasks[run_id];
        assert_eq!(tasks.len(), 4);
        assert_eq!(store.runs[run_id].checklist_id, None);
        assert_eq!(
            store.get(run_id).unwrap()["data"]["progress"],
            json!({"complete": 0, "total": 4, "percent": 0.0})
        );
    }

    #[test]
    fn updating_a_one_off_task_needs_title_deadline_and_owners() {
        let mut store = store();
        let id = store
            .tasks
            .values()
            .find(|t| t.run_id.is_none())
            .map(|t| t.id.clone())
            .unwrap();
        let refusal = store
            .update_task(Scope::OneOff, &id, &body(json!({"title": "New"})), &ctx())
            .unwrap_err();
        let errors = refusal.body["errors"].as_object().unwrap();
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(fields, ["deadline", "owners"]);
        let updated = store
            .update_task(
                Scope::OneOff,
                &id,
                &body(json!({"title": "New", "deadline": "2026-04-01T10:00:00Z", "owners": {"users": [1005]}})),
                &ctx(),
            )
            .unwrap();
        assert_eq!(updated["data"]["title"], "New");
        assert_eq!(updated["data"]["owners"]["users"][0]["id"], 1005);

        // A task of a process: every field optional, through its process only.
        let (run_id, task_id) = store
            .tasks
            .values()
            .find(|t| t.run_id.is_some() && !t.is_completed())
            .map(|t| (t.run_id.clone().unwrap(), t.id.clone()))
            .unwrap();
        let changed = store
            .update_task(
                Scope::Process(&run_id),
                &task_id,
                &body(json!({"taskdata": {"f1": "x"}})),
                &ctx(),
            )
            .unwrap();
        assert_eq!(changed["data"]["taskdata"], json!({"f1": "x"}));
        let as_one_off = store.update_task(Scope::OneOff, &task_id, &body(json!({})), &ctx());
        assert_eq!(as_one_off.unwrap_err().status, 404);
    }

    #[test]
    fn lists_filter_page_and_hide_what_is_archived() {
        let store = store();
        let all = store
            .list_tasks(
                &params(&[("archived", "true"), ("per_page", "100")]),
                "",
                NOW,
            )
            .unwrap();
        assert_eq!(all["meta"]["pagination"]["total"], store.tasks.len());
        let visible = store.list_tasks(&params(&[]), "/t", NOW).unwrap();
        let hidden = store.tasks.values().filter(|t| store.archived(t)).count();
        assert_eq!(
            visible["meta"]["pagination"]["total"],
            store.tasks.len() - hidden
        );
        assert_eq!(visible["meta"]["pagination"]["per_page"], 10);
        assert!(
            store
                .list_tasks(&params(&[("status", "sideways")]), "", NOW)
                .is_err()
        );
        let run_id = store.runs.keys().next().unwrap();
        let page = store
            .list_process_tasks(run_id, &params(&[("with", "step")]), "", NOW)
            .unwrap();
        let listed = page["data"].as_array().unwrap();
        assert_eq!(listed.len(), store.run_tasks[run_id].len());
        assert!(
            listed
                .windows(2)
                .all(|w| w[0]["position"].as_i64() < w[1]["position"].as_i64())
        );
        assert_eq!(listed[0]["step"]["id"], listed[0]["step_id"]);
        assert!(
            store
                .list_process_tasks("nope", &params(&[]), "", NOW)
                .is_err()
        );
    }
}
