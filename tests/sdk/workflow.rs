//! The workflow through the SDK against the fake: read a template, launch a process with
//! its kick-off values, complete its tasks as `progress` advances until the process is
//! complete, reopen one; a launch missing a required kick-off value; one-off tasks;
//! templates archived and deleted for good.
//!
//! Bodies built with `body_map` set `extra` (to an empty map): the generated body
//! builders start it unset and refuse to build without it.

use std::time::Duration;

use serde_json::{Map, Value, json};
use tallyfy::types::{self, Progress, Run};
use tallyfy::{Args, Client, ErrorKind, Execute, RetryPolicy};
use tallyfy_fake::{FakeServer, Template};

fn client(fake: &FakeServer, token: &str) -> Client {
    Client::builder(token)
        .base_url(fake.base_url())
        .timeout(Duration::from_secs(5))
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A seeded template that can be launched and has a required kick-off field.
fn template_with_required_field(fake: &FakeServer) -> Template {
    fake.active_template_ids()
        .iter()
        .filter_map(|id| fake.template(id))
        .find(|t| t.prerun.iter().any(|f| f.required))
        .expect("the fake seeds a template with a required kick-off field")
}

/// A value for each kick-off field of `template`, in the shape its type takes, keyed by
/// the field's timeline ID.
fn kickoff_values(template: &types::Template) -> Map<String, Value> {
    template
        .prerun
        .iter()
        .flatten()
        .map(|field| {
            let value = match field.field_type.as_deref() {
                Some("date") => json!("2026-04-01T09:00:00.000Z"),
                Some("dropdown") => json!({"id": 1, "text": "Low", "value": null}),
                _ => json!("Globex Corp"),
            };
            (field.id.clone().unwrap(), value)
        })
        .collect()
}

/// The body completing task `id`.
fn complete(id: &str) -> types::CompleteTask {
    types::CompleteTask {
        task_id: id.to_string(),
        is_approved: None,
        override_user: None,
        extra: Map::new(),
    }
}

/// `(complete, total)` of a process's `progress`.
fn progress(run: &Run) -> (i64, i64) {
    match &run.progress {
        Some(Progress::ProgressCounts(counts)) => (counts.complete.unwrap(), counts.total.unwrap()),
        other => panic!("progress is counted: {other:?}"),
    }
}

#[tokio::test]
async fn a_launched_process_is_complete_with_its_last_task_and_active_again_when_one_reopens() {
    let fake = FakeServer::builder().processes(10).start().await.unwrap();
    let client = client(&fake, fake.admin_token());
    let org = fake.org_id();
    let seeded = template_with_required_field(&fake);

    // Read the template: its kick-off form, and with `with=steps` its steps.
    let template = client
        .get_template()
        .org_id(org)
        .checklist_id(seeded.id.as_str())
        .with("steps")
        .execute()
        .await
        .unwrap()
        .data;
    assert_eq!(template.title.as_deref(), Some(seeded.title.as_str()));
    let steps = template.steps.clone().unwrap();
    assert_eq!(steps.len(), seeded.steps.len());
    let required: Vec<String> = template
        .prerun
        .iter()
        .flatten()
        .filter(|f| f.required == Some(true))
        .map(|f| f.id.clone().unwrap())
        .collect();
    assert!(!required.is_empty());

    // Launch it with a value for every kick-off field, keyed by timeline ID.
    let values = kickoff_values(&template);
    let run = client
        .launch_process()
        .org_id(org)
        .body_map(|b| {
            b.checklist_id(seeded.id.as_str())
                .name(Some("Onboarding - Globex Corp".to_string()))
                .prerun(Some(values.clone()))
        })
        .execute()
        .await
        .unwrap()
        .data;
    assert_eq!(run.checklist_id.as_deref(), Some(seeded.id.as_str()));
    assert_eq!(run.status.as_deref(), Some("active"));
    assert_eq!(run.prerun.as_ref(), Some(&values));
    assert_eq!(progress(&run), (0, steps.len() as i64));

    // One task per step, in order.
    let tasks = client
        .list_process_tasks()
        .org_id(org)
        .run_id(run.id.as_str())
        .execute()
        .await
        .unwrap()
        .data;
    let titles: Vec<_> = tasks.iter().map(|t| t.title.clone().unwrap()).collect();
    let step_titles: Vec<_> = steps.iter().map(|s| s.title.clone().unwrap()).collect();
    assert_eq!(titles, step_titles);

    // Complete each: progress advances; the last completes the process.
    let total = tasks.len() as i64;
    for (n, task) in tasks.iter().enumerate() {
        let done = client
            .complete_process_task()
            .org_id(org)
            .run_id(run.id.as_str())
            .body(complete(&task.id))
            .execute()
            .await
            .unwrap()
            .data;
        assert_eq!(done.status.as_deref(), Some("completed"));
        assert!(done.completed_at.is_some());
        let now = client
            .get_process()
            .org_id(org)
            .run_id(run.id.as_str())
            .execute()
            .await
            .unwrap()
            .data;
        let complete = n as i64 + 1;
        assert_eq!(progress(&now), (complete, total));
        let last = complete == total;
        assert_eq!(now.status.as_deref() == Some("complete"), last, "{now:?}");
        assert_eq!(now.completed_at.is_some(), last);
    }

    // Reopen one: the process is not complete any more.
    let reopened = client
        .reopen_process_task()
        .org_id(org)
        .run_id(run.id.as_str())
        .task_id(tasks[0].id.as_str())
        .execute()
        .await
        .unwrap()
        .data;
    assert_eq!(reopened.status.as_deref(), Some("in-progress"));
    assert_eq!(reopened.completed_at, None);
    let now = client
        .get_process()
        .org_id(org)
        .run_id(run.id.as_str())
        .execute()
        .await
        .unwrap()
        .data;
    assert_ne!(now.status.as_deref(), Some("complete"));
    assert_eq!(now.completed_at, None);
    assert_eq!(progress(&now), (total - 1, total));

    // The activity feed of the process tells the story, newest first.
    let feed = client
        .list_activity()
        .org_id(org)
        .entity_type("run")
        .entity_id(run.id.as_str())
        .execute()
        .await
        .unwrap()
        .data;
    let verbs: Vec<Value> = feed.iter().map(|e| e.verb.clone().unwrap()).collect();
    assert_eq!(verbs.first(), Some(&json!(["re-opened"])));
    assert_eq!(verbs.last(), Some(&json!(["created"])));
}

#[tokio::test]
async fn a_launch_without_a_required_kickoff_value_is_unprocessable_naming_the_field() {
    let fake = FakeServer::start().await.unwrap();
    let client = client(&fake, fake.admin_token());
    let template = template_with_required_field(&fake);
    let processes = fake.process_ids().len();

    let error = client
        .launch_process()
        .org_id(fake.org_id())
        .body_map(|b| b.checklist_id(template.id.as_str()))
        .execute()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unprocessable, "{error:?}");
    for field in template.prerun.iter().filter(|f| f.required) {
        let key = format!("prerun.{}", field.id);
        let messages = error.field_errors().get(&key);
        let expected = vec![format!("The {} field is required.", field.label)];
        assert_eq!(messages, Some(&expected), "{:?}", error.field_errors());
    }

    // The same by name, with JSON: a value under a key no field has does not count.
    let args = Args::new().with("org_id", fake.org_id()).with(
        "body",
        json!({"checklist_id": template.id, "prerun": {"customer_name": "Globex"}}),
    );
    let error = client.call("launch_process", &args).await.unwrap_err();
    assert!(error.is_unprocessable());
    assert!(
        error
            .field_errors()
            .keys()
            .all(|k| k.starts_with("prerun.") && k != "prerun.customer_name")
    );
    assert_eq!(fake.process_ids().len(), processes, "nothing was launched");
}

#[tokio::test]
async fn a_one_off_task_is_created_completed_and_reopened() {
    let fake = FakeServer::start().await.unwrap();
    let client = client(&fake, fake.admin_token());
    let org = fake.org_id();

    let owners = types::Owners {
        users: Some(vec![json!(1001)]),
        ..types::Owners::default()
    };
    let task = client
        .create_task()
        .org_id(org)
        .body_map(|b| {
            b.title("Prepare Q3 Report")
                .task_type("task")
                .owners(owners)
                .deadline("2026-07-15T17:00:00Z")
        })
        .execute()
        .await
        .unwrap()
        .data;
    assert_eq!(task.run_id, None);
    assert_eq!(task.is_oneoff_task, Some(true));
    assert_eq!(task.status.as_deref(), Some("not-started"));
    assert!(fake.one_off_task_ids().contains(&task.id));

    let done = client
        .complete_task()
        .org_id(org)
        .body(complete(&task.id))
        .execute()
        .await
        .unwrap()
        .data;
    assert_eq!(done.status.as_deref(), Some("completed"));
    assert!(fake.task(&task.id).unwrap().is_completed());
    let again = client
        .complete_task()
        .org_id(org)
        .body(complete(&task.id))
        .execute()
        .await
        .unwrap_err();
    assert!(again.is_unprocessable(), "{again:?}");

    let reopened = client
        .reopen_task()
        .org_id(org)
        .task_id(task.id.as_str())
        .execute()
        .await
        .unwrap()
        .data;
    assert_eq!(reopened.status.as_deref(), Some("in-progress"));
    assert_eq!(reopened.completed_at, None);

    // Listed among one-off tasks, not among tasks of processes.
    let one_off = client
        .list_tasks()
        .org_id(org)
        .is_oneoff("true")
        .per_page(100)
        .execute()
        .await
        .unwrap()
        .data;
    assert!(one_off.iter().any(|t| t.id == task.id));
    let of_processes = client
        .list_tasks()
        .org_id(org)
        .is_oneoff("false")
        .per_page(100)
        .execute()
        .await
        .unwrap()
        .data;
    assert!(of_processes.iter().all(|t| t.run_id.is_some()));
}

#[tokio::test]
async fn an_archived_template_is_not_listed_and_its_permanent_delete_needs_that_first() {
    let fake = FakeServer::start().await.unwrap();
    let client = client(&fake, fake.admin_token());
    let org = fake.org_id();
    let id = fake.active_template_ids()[0].clone();
    let listed = |client: Client| async move {
        let page = client
            .list_templates()
            .org_id(org)
            .per_page(100)
            .execute()
            .await
            .unwrap();
        page.data.into_iter().map(|t| t.id).collect::<Vec<_>>()
    };
    assert!(listed(client.clone()).await.contains(&id));

    let early = client
        .permanently_delete_template()
        .org_id(org)
        .checklist_id(id.as_str())
        .execute()
        .await
        .unwrap_err();
    assert_eq!(early.kind(), ErrorKind::Unprocessable, "{early:?}");

    let archived = client
        .archive_template()
        .org_id(org)
        .checklist_id(id.as_str())
        .execute()
        .await
        .unwrap();
    assert!(archived.message.is_some());
    assert!(!listed(client.clone()).await.contains(&id));
    let only_archived = client
        .list_templates()
        .org_id(org)
        .archived("only")
        .execute()
        .await
        .unwrap()
        .data;
    assert!(
        only_archived
            .iter()
            .any(|t| t.id == id && t.archived_at.is_some())
    );

    // Only an administrator deletes for good.
    let member = client_for_member(&fake);
    let forbidden = member
        .permanently_delete_template()
        .org_id(org)
        .checklist_id(id.as_str())
        .execute()
        .await
        .unwrap_err();
    assert_eq!(forbidden.kind(), ErrorKind::Forbidden);

    client
        .permanently_delete_template()
        .org_id(org)
        .checklist_id(id.as_str())
        .execute()
        .await
        .unwrap();
    assert!(fake.template(&id).is_none());
    let gone = client
        .get_template()
        .org_id(org)
        .checklist_id(id.as_str())
        .execute()
        .await
        .unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound);
    let again = client
        .permanently_delete_template()
        .org_id(org)
        .checklist_id(id.as_str())
        .execute()
        .await
        .unwrap_err();
    assert!(again.is_not_found(), "{again:?}");
}

fn client_for_member(fake: &FakeServer) -> Client {
    client(fake, fake.member_token())
}
