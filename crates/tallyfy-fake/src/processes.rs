//! Launching and updating processes, and their progress as their tasks are completed
//! and reopened.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use tallyfy_api::UserId;
use tallyfy_api::types::{Progress, ProgressCounts, Run};

use crate::activity::Event;
use crate::fixtures::{iso, later, percent};
use crate::store::{Ctx, Owners, Refusal, Store, Task, one_process, process_json};
use crate::validate::{Body, blank, parse_time};

/// What a launch says of one step's task: its deadline and its assignees.
#[derive(Default)]
struct StepPlan {
    deadline: Option<Timestamp>,
    owners: Option<Owners>,
}

impl Store {
    /// `POST /runs`: launches a process from a template, one task per step.
    ///
    /// Refused (422, every field at fault named at once) without `checklist_id`, for a
    /// template that does not exist or is archived, and for each required kick-off field
    /// without a value: `prerun.<timeline ID>`: `The <label> field is required.`. Kick-off
    /// values under keys no field has are dropped, as Tallyfy does. Each task is assigned
    /// to the launcher (or to `user_id`) unless `tasks` names its assignees; its deadline
    /// is one day per position after the launch unless `tasks` gives one.
    pub(crate) fn launch(
        &mut self,
        fields: &Map<String, Value>,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        let mut body = Body::new(fields);
        let checklist_id = body.required_string("checklist_id", 255);
        let name = body.string("name", 550);
        let summary = body.string("summary", 100_000);
        let owner_id = body.member("owner_id");
        let starter = body.member("user_id").unwrap_or(ctx.user);
        let starred = body.boolean("starred");
        let is_public = body.boolean("is_public");
        let parent_id = body.string("parent_id", 255);
        let prerun = body.object("prerun");
        let tasks = body.object("tasks");
        let users = body.list("users").cloned();
        let groups = body.list("groups").cloned();
        let _ = (
            body.list("tags"),
            body.list("folders"),
            body.object("roles"),
        );

        let template = checklist_id
            .as_deref()
            .and_then(|id| self.templates.get(id))
            .cloned();
        match (&checklist_id, &template) {
            (Some(_), None) => body.fail(
                "checklist_id",
                "The selected checklist id is invalid.".into(),
            ),
            (Some(_), Some(t)) if t.archived_at.is_some() => body.fail(
                "checklist_id",
                "The template is archived; it cannot be launched.".into(),
            ),
            _ => {}
        }
        if parent_id
            .as_ref()
            .is_some_and(|parent| !self.runs.contains_key(parent))
        {
            body.fail("parent_id", "The selected parent id is invalid.".into());
        }
        let mut plans: BTreeMap<String, StepPlan> = BTreeMap::new();
        if let Some(template) = template.as_ref().filter(|t| t.archived_at.is_none()) {
            for field in &template.prerun {
                if field.required && blank(prerun.and_then(|values| values.get(&field.id))) {
                    body.fail(
                        &format!("prerun.{}", field.id),
                        format!("The {} field is required.", field.label),
                    );
                }
            }
            for (step_id, plan) in tasks.into_iter().flatten() {
                let Some(step) = template.steps.iter().find(|s| &s.id == step_id) else {
                    continue;
                };
                let at = format!("tasks.{step_id}");
                let Value::Object(plan) = plan else {
                    body.fail(&at, format!("The {at} must be an object."));
                    continue;
                };
                let mut read = StepPlan::default();
                if let Some(deadline) = plan.get("deadline").filter(|v| !v.is_null()) {
                    read.deadline = deadline.as_str().and_then(parse_time);
                    if read.deadline.is_none() {
                        body.fail(
                            &format!("{at}.deadline"),
                            format!("The {at}.deadline is not a valid date."),
                        );
                    }
                }
                let mut inner = Body::new(plan);
                read.owners = inner.owners("owners");
                body.absorb(&at, inner);
                plans.insert(step.id.clone(), read);
            }
        }
        body.finish()?;
        let Some(template) = template else {
            return Err(Refusal::server_error(500));
        };

        let run_id = self.new_id();
        self.last_increment.run += 1;
        let increment_id = self.last_increment.run;
        let now = ctx.at();
        let mut due = now;
        let mut task_ids = Vec::new();
        for (k, step) in template.steps.iter().enumerate() {
            let position = k as i64 + 1;
            let plan = plans.remove(step.id.as_str()).unwrap_or_default();
            let deadline = plan.deadline.unwrap_or_else(|| later(now, position));
            due = due.max(deadline);
            let id = self.new_id();
            self.last_increment.task += 1;
            let task = Task {
                id: id.clone(),
                title: step.title.clone(),
                run_id: Some(run_id.clone()),
                status: "active",
                step_id: Some(step.id.clone()),
                position,
                increment_id: self.last_increment.task,
                owners: plan.owners.unwrap_or_else(|| Owners {
                    users: vec![starter],
                    ..Owners::default()
                }),
                deadline,
                started_at: Some(now),
                created_at: now,
                last_updated: now,
                starter_id: starter,
                ..Task::blank()
            };
            self.tasks.insert(id.clone(), task);
            task_ids.push(id);
        }
        let total = task_ids.len() as i64;
        self.run_tasks.insert(run_id.clone(), task_ids);
        let values: Map<String, Value> = prerun
            .into_iter()
            .flatten()
            .filter(|(key, _)| template.prerun.iter().any(|f| &f.id == *key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let run = Run {
            id: run_id.clone(),
            increment_id: Some(increment_id),
            checklist_id: Some(template.id.clone()),
            checklist_title: Some(template.title.clone()),
            name: Some(name.unwrap_or_else(|| {
                format!(
                    "{} - {}",
                    template.title,
                    ctx.now.get(..10).unwrap_or(ctx.now)
                )
            })),
            summary: Some(summary.unwrap_or_default()),
            status: Some("active".into()),
            progress: Some(counts(0, total)),
            whole_progress: Some(counts(0, total)),
            started_by: Some(UserId::from(starter)),
            owner_id: Some(UserId::from(owner_id.unwrap_or(starter))),
            prerun: Some(values),
            prerun_status: Some("complete".into()),
            created_at: Some(ctx.now.to_string()),
            started_at: Some(ctx.now.to_string()),
            last_updated: Some(ctx.now.to_string()),
            archived_at: None,
            completed_at: None,
            due_date: Some(iso(due)),
            due_date_passed: Some(false),
            due_soon: Some(false),
            late_tasks: Some(0),
            starred: Some(starred.unwrap_or(false)),
            is_public: Some(is_public.unwrap_or(false)),
            can_add_oot: Some(true),
            type_: Some(template.type_.clone()),
            parent_id,
            users: Some(users.unwrap_or_default()),
            groups: Some(groups.unwrap_or_default()),
            collaborators: Some(Vec::new()),
            extra: Map::new(),
        };
        let answer = one_process(&run)?;
        self.record(Event::about_run(&run, "created", "Launched process"), ctx);
        self.runs.insert(run_id, run);
        Ok(answer)
    }

    /// A process made by `create_task` with `separate_task_for_each_assignee`: launched
    /// from no template, named `title`, to hold one task per assignee.
    pub(crate) fn launch_without_template(&mut self, title: &str, ctx: &Ctx<'_>) -> String {
        let run_id = self.new_id();
        self.last_increment.run += 1;
        let run = Run {
            id: run_id.clone(),
            increment_id: Some(self.last_increment.run),
            checklist_id: None,
            checklist_title: None,
            name: Some(title.to_string()),
            summary: Some(String::new()),
            status: Some("active".into()),
            progress: Some(counts(0, 0)),
            whole_progress: Some(counts(0, 0)),
            started_by: Some(UserId::from(ctx.user)),
            owner_id: Some(UserId::from(ctx.user)),
            prerun: Some(Map::new()),
            prerun_status: Some("complete".into()),
            created_at: Some(ctx.now.to_string()),
            started_at: Some(ctx.now.to_string()),
            last_updated: Some(ctx.now.to_string()),
            archived_at: None,
            completed_at: None,
            due_date: None,
            due_date_passed: Some(false),
            due_soon: Some(false),
            late_tasks: Some(0),
            starred: Some(false),
            is_public: Some(false),
            can_add_oot: Some(true),
            type_: Some("procedure".into()),
            parent_id: None,
            users: Some(Vec::new()),
            groups: Some(Vec::new()),
            collaborators: Some(Vec::new()),
            extra: Map::new(),
        };
        self.record(Event::about_run(&run, "created", "Launched process"), ctx);
        self.runs.insert(run_id.clone(), run);
        self.run_tasks.insert(run_id.clone(), Vec::new());
        run_id
    }

    /// `PUT /runs/{id}`: changes what the body gives; `users` and `groups` replace the
    /// current ones; `prerun` values are merged in (under the template's fields' keys).
    pub(crate) fn update_process(
        &mut self,
        run_id: &str,
        fields: &Map<String, Value>,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        if !self.runs.contains_key(run_id) {
            return Err(Refusal::not_found());
        }
        let mut body = Body::new(fields);
        if fields.contains_key("name") {
            body.require("name");
        }
        let name = body.string("name", 550);
        let summary = body.string("summary", 100_000);
        let owner_id = body.member("owner_id");
        let starred = body.boolean("starred");
        let is_public = body.boolean("is_public");
        let users = body.list("users").cloned();
        let groups = body.list("groups").cloned();
        let prerun = body.object("prerun");
        let _ = body.list("publicly_hidden_fields");
        body.finish()?;

        let known: Option<Vec<String>> = self
            .runs
            .get(run_id)
            .and_then(|run| run.checklist_id.as_ref())
            .and_then(|id| self.templates.get(id))
            .map(|t| t.prerun.iter().map(|f| f.id.clone()).collect());
        let run = self.runs.get_mut(run_id).ok_or_else(Refusal::not_found)?;
        if let Some(name) = name.filter(|n| !n.trim().is_empty()) {
            run.name = Some(name);
        }
        if summary.is_some() {
            run.summary = summary;
        }
        if let Some(owner) = owner_id {
            run.owner_id = Some(UserId::from(owner));
        }
        if starred.is_some() {
            run.starred = starred;
        }
        if is_public.is_some() {
            run.is_public = is_public;
        }
        if users.is_some() {
            run.users = users;
        }
        if groups.is_some() {
            run.groups = groups;
        }
        let values = run.prerun.get_or_insert_with(Map::new);
        for (key, value) in prerun.into_iter().flatten() {
            if known.as_ref().is_none_or(|k| k.contains(key)) {
                values.insert(key.clone(), value.clone());
            }
        }
        run.last_updated = Some(ctx.now.to_string());
        let answer = json!({"data": process_json(run)?});
        let event = Event::about_run(run, "updated", "Updated process");
        self.record(event, ctx);
        Ok(answer)
    }

    /// Counts the completed tasks of process `run_id` into its `progress`; completing
    /// its last task completes it (`status` `complete`, `completed_at` set), reopening
    /// one makes it active again. An archived process keeps `archived` as its status;
    /// the status it gets back when restored follows instead.
    pub(crate) fn refresh_progress(&mut self, run_id: &str, ctx: &Ctx<'_>) {
        let ids = self.run_tasks.get(run_id).cloned().unwrap_or_default();
        let total = ids.len() as i64;
        let complete = ids
            .iter()
            .filter(|id| self.tasks.get(*id).is_some_and(Task::is_completed))
            .count() as i64;
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        run.progress = Some(counts(complete, total));
        run.whole_progress = Some(counts(complete, total));
        run.last_updated = Some(ctx.now.to_string());
        let done = total > 0 && complete == total;
        let status = if run.archived_at.is_some() {
            self.status_before_archive.get_mut(run_id)
        } else {
            run.status.as_mut()
        };
        let mut event = None;
        if done && run.completed_at.is_none() {
            run.completed_at = Some(ctx.now.to_string());
            if let Some(status) = status {
                *status = "complete".into();
            }
            event = Some(Event::about_run(run, "completed", "Completed process"));
        } else if !done && run.completed_at.is_some() {
            run.completed_at = None;
            if let Some(status) = status.filter(|s| *s == "complete") {
                *status = "active".into();
            }
        }
        if let Some(event) = event {
            self.record(event, ctx);
        }
    }
}

/// `{complete, total, percent}`.
fn counts(complete: i64, total: i64) -> Progress {
    Progress::ProgressCounts(ProgressCounts {
        complete: Some(complete),
        total: Some(total),
        percent: Some(percent(complete, total)),
        extra: Map::new(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::store::ADMIN_USER_ID;
    use crate::tasks::Scope;

    use crate::testing::ctx;

    fn store() -> Store {
        crate::testing::store(10, 7)
    }

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    /// The first template that is not archived and has a required kick-off field.
    fn template_with_required_field(store: &Store) -> crate::store::Template {
        store
            .templates
            .values()
            .find(|t| t.archived_at.is_none() && t.prerun.iter().any(|f| f.required))
            .cloned()
            .unwrap()
    }

    /// Every kick-off value `template` takes, keyed by timeline ID, plus one unknown key.
    fn values(template: &crate::store::Template) -> Value {
        let mut values: Map<String, Value> = template
            .prerun
            .iter()
            .map(|f| (f.id.clone(), json!("a value")))
            .collect();
        values.insert("not-a-field".into(), json!("dropped"));
        Value::Object(values)
    }

    #[test]
    fn a_launch_makes_one_task_per_step_and_keeps_known_kickoff_values() {
        let mut store = store();
        let template = template_with_required_field(&store);
        let launched = store
            .launch(
                &body(json!({"checklist_id": template.id, "prerun": values(&template)})),
                &ctx(),
            )
            .unwrap();
        let run = &launched["data"];
        let run_id = run["id"].as_str().unwrap();
        assert_eq!(run_id.len(), 32);
        assert_eq!(run["checklist_id"], json!(template.id));
        assert_eq!(run["status"], "active");
        assert_eq!(run["name"], format!("{} - 2026-03-01", template.title));
        let total = template.steps.len();
        assert_eq!(
            run["progress"],
            json!({"complete": 0, "total": total, "percent": 0.0})
        );
        assert_eq!(
            run["prerun"].as_object().unwrap().len(),
            template.prerun.len()
        );
        assert!(run["prerun"].get("not-a-field").is_none());
        let tasks = &store.run_tasks[run_id];
        assert_eq!(tasks.len(), total);
        for (n, (id, step)) in tasks.iter().zip(&template.steps).enumerate() {
            let task = &store.tasks[id];
            assert_eq!(task.step_id.as_deref(), Some(step.id.as_str()));
            assert_eq!(task.title, step.title);
            assert_eq!(task.position, n as i64 + 1);
            assert_eq!(task.owners.users, [ADMIN_USER_ID]);
        }
    }

    #[test]
    fn a_missing_required_kickoff_value_is_refused_naming_the_field() {
        let mut store = store();
        let template = template_with_required_field(&store);
        let runs = store.runs.len();
        let refusal = store
            .launch(&body(json!({"checklist_id": template.id})), &ctx())
            .unwrap_err();
        assert_eq!(refusal.status, 422);
        let expected: Map<String, Value> = template
            .prerun
            .iter()
            .filter(|f| f.required)
            .map(|f| {
                let message = format!("The {} field is required.", f.label);
                (format!("prerun.{}", f.id), json!([message]))
            })
            .collect();
        assert_eq!(refusal.body, json!({"error": true, "errors": expected}));
        assert_eq!(store.runs.len(), runs, "nothing was launched");
    }

    #[test]
    fn unknown_and_archived_templates_and_a_missing_checklist_id_are_refused() {
        let mut store = store();
        let archived = store
            .templates
            .values()
            .find(|t| t.archived_at.is_some())
            .map(|t| t.id.clone())
            .unwrap();
        for (sent, field) in [
            (json!({}), "checklist_id"),
            (json!({"checklist_id": "nope"}), "checklist_id"),
            (json!({"checklist_id": archived}), "checklist_id"),
            (json!({"checklist_id": archived, "name": 5}), "name"),
        ] {
            let refusal = store.launch(&body(sent.clone()), &ctx()).unwrap_err();
            assert_eq!(refusal.status, 422, "{sent}");
            assert!(
                refusal.body["errors"].get(field).is_some(),
                "{sent}: {}",
                refusal.body
            );
        }
    }

    #[test]
    fn completing_every_task_completes_the_process_and_reopening_one_reverts_it() {
        let mut store = store();
        let template = template_with_required_field(&store);
        let launched = store
            .launch(
                &body(json!({"checklist_id": template.id, "prerun": values(&template)})),
                &ctx(),
            )
            .unwrap();
        let run_id = launched["data"]["id"].as_str().unwrap().to_string();
        let tasks = store.run_tasks[&run_id].clone();
        let total = tasks.len() as i64;
        for (n, task_id) in tasks.iter().enumerate() {
            let done = store
                .complete_task(
                    Scope::Process(&run_id),
                    &body(json!({"task_id": task_id})),
                    &ctx(),
                )
                .unwrap();
            assert_eq!(done["data"]["status"], "completed");
            assert_eq!(done["data"]["completer_id"], ADMIN_USER_ID);
            assert_eq!(done["data"]["tasks_changed_by_rules"], json!({}));
            let run = store.get(&run_id).unwrap();
            let complete = n as i64 + 1;
            assert_eq!(run["data"]["progress"]["complete"], complete);
            assert_eq!(run["data"]["progress"]["total"], total);
            let last = complete == total;
            assert_eq!(
                run["data"]["status"],
                if last { "complete" } else { "active" }
            );
            assert_eq!(run["data"]["completed_at"].is_string(), last);
        }
        let again = store
            .complete_task(
                Scope::Process(&run_id),
                &body(json!({"task_id": tasks[0]})),
                &ctx(),
            )
            .unwrap_err();
        assert_eq!(again.status, 422);

        let reopened = store
            .reopen_task(Scope::Process(&run_id), &tasks[0], &ctx())
            .unwrap();
        assert_eq!(reopened["data"]["status"], "in-progress");
        assert_eq!(reopened["data"]["completed_at"], Value::Null);
        assert_eq!(reopened["data"]["is_approved"], Value::Null);
        let run = store.get(&run_id).unwrap();
        assert_eq!(run["data"]["status"], "active");
        assert_eq!(run["data"]["completed_at"], Value::Null);
        assert_eq!(run["data"]["progress"]["complete"], total - 1);
        let twice = store.reopen_task(Scope::Process(&run_id), &tasks[0], &ctx());
        assert_eq!(twice.unwrap_err().status, 422);

        // Only that process's tasks, through that process.
        let other = store
            .runs
            .keys()
            .find(|id| **id != run_id)
            .cloned()
            .unwrap();
        let elsewhere = store.complete_task(
            Scope::Process(&other),
            &body(json!({"task_id": tasks[0]})),
            &ctx(),
        );
        assert_eq!(elsewhere.unwrap_err().status, 404);
        let one_off =
            store.complete_task(Scope::OneOff, &body(json!({"task_id": tasks[0]})), &ctx());
        assert_eq!(one_off.unwrap_err().status, 404);

        // The feed tells the story, newest first.
        let params = HashMap::from([
            ("entity_type".to_string(), "run".to_string()),
            ("entity_id".to_string(), run_id.clone()),
        ]);
        let feed = store.list_activity(&params, "org", "/feed").unwrap();
        let verbs: Vec<&str> = feed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["verb"][0].as_str().unwrap())
            .collect();
        let mut expected = vec!["re-opened", "completed"];
        expected.extend(std::iter::repeat_n("completed", tasks.len()));
        expected.push("created");
        assert_eq!(verbs, expected);
    }

    #[test]
    fn update_process_changes_what_it_is_given() {
        let mut store = store();
        let run_id = store.runs.keys().next().cloned().unwrap();
        let updated = store
            .update_process(
                &run_id,
                &body(json!({"name": "Renamed", "starred": true, "users": ["1003"]})),
                &ctx(),
            )
            .unwrap();
        assert_eq!(updated["data"]["name"], "Renamed");
        assert_eq!(updated["data"]["starred"], true);
        assert_eq!(updated["data"]["users"], json!(["1003"]));
        let refused = store.update_process(&run_id, &body(json!({"name": ""})), &ctx());
        assert_eq!(refused.unwrap_err().status, 422);
        let missing = store.update_process("nope", &body(json!({})), &ctx());
        assert_eq!(missing.unwrap_err().status, 404);
    }
}
