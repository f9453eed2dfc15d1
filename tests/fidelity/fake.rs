//! The fake cannot drift from the spec or from what Tallyfy sends:
//!
//! - every operation of the spec is exercised on the fake, each for a success and for a
//!   refusal at least (a guard test fails when a new operation is not), and every answer
//!   it gives has a status the spec documents for that operation and a body that
//!   validates against the documented schema;
//! - its process, task, template and activity objects have the keys, with the JSON
//!   types, of the corpus's objects (`tests/fixtures/tallyfy-docs/`), and its error
//!   bodies are the corpus's;
//! - it lets in any named `X-Tallyfy-Client`, as Tallyfy does;
//! - it keeps uploaded files whole and serves them as a client downloads them (`files`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use openapiv3::OpenAPI;
use serde_json::{Map, Value, json};
use tallyfy::reqwest::{self, Method};
use tallyfy_fake::{FakeServer, Faults};

use crate::schema::{check, spec};

mod files;

struct Probe {
    http: reqwest::Client,
    base: String,
    token: String,
    org: String,
}

impl Probe {
    fn new(fake: &FakeServer) -> Self {
        Self {
            http: tallyfy::http_client_builder().build().unwrap(),
            base: fake.base_url().to_string(),
            token: fake.admin_token().to_string(),
            org: fake.org_id().to_string(),
        }
    }

    /// Sends operation `id` with `ids` for its path parameters; returns status and body.
    async fn send(&self, id: &str, ids: &[&str], query: &str, token: &str) -> (u16, String) {
        self.send_with(id, ids, query, token, None).await
    }

    /// Sends operation `id` with `ids` for its path parameters and `body` as its JSON
    /// body, if any; returns status and body.
    async fn send_with(
        &self,
        id: &str,
        ids: &[&str],
        query: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, String) {
        let (method, path) = self.route(id, ids);
        let path = format!("{path}{query}");
        self.request_with(method, &path, Some("APIClient"), token, body)
            .await
    }

    /// The method and path (after the base URL) of operation `id` with `ids` for its path
    /// parameters.
    fn route(&self, id: &str, ids: &[&str]) -> (Method, String) {
        let op = tallyfy::Operation::find(id).unwrap();
        let mut path = op.path.replace("{org_id}", &self.org);
        for value in ids {
            let start = path.find('{').unwrap();
            let end = path[start..].find('}').unwrap() + start;
            path.replace_range(start..=end, value);
        }
        assert!(
            !path.contains('{'),
            "{id}: a path parameter is missing: {path}"
        );
        (Method::from_bytes(op.method.as_bytes()).unwrap(), path)
    }

    /// Sends `method path` (the path after the base URL) with `X-Tallyfy-Client: client`
    /// (none if `None`); returns status and body.
    async fn request(
        &self,
        method: Method,
        path: &str,
        client: Option<&str>,
        token: &str,
    ) -> (u16, String) {
        self.request_with(method, path, client, token, None).await
    }

    async fn request_with(
        &self,
        method: Method,
        path: &str,
        client: Option<&str>,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, String) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("accept", "application/json");
        if let Some(client) = client {
            request = request.header("x-tallyfy-client", client);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(body).unwrap());
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// A process answer's `data`, which must be an answer 200.
    async fn process(&self, id: &str, run_id: &str) -> Value {
        let (status, body) = self.send(id, &[run_id], "", &self.token).await;
        assert_eq!(status, 200, "{id}: {body}");
        serde_json::from_str::<Value>(&body).unwrap()["data"].take()
    }

    /// The answer of operation `id`, which must be `expected`, as JSON.
    async fn json(
        &self,
        id: &str,
        ids: &[&str],
        query: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let (status, text) = self
            .send_with(id, ids, query, &self.token, body.as_ref())
            .await;
        assert_eq!(status, expected, "{id} {ids:?} {query}: {text}");
        serde_json::from_str(&text).unwrap()
    }
}

/// The corpus's example answer in `file`.
fn corpus(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/tallyfy-docs")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Sends operations to the fake, holds every answer to the spec and records the
/// statuses each operation answered.
struct Exercise<'a> {
    spec: &'a OpenAPI,
    probe: &'a Probe,
    problems: Vec<String>,
    seen: BTreeMap<String, BTreeSet<u16>>,
}

impl<'a> Exercise<'a> {
    fn new(spec: &'a OpenAPI, probe: &'a Probe) -> Self {
        Self {
            spec,
            probe,
            problems: Vec::new(),
            seen: BTreeMap::new(),
        }
    }

    /// Sends `id` as `token`; the answer must be `expected` and match the spec. Returns
    /// its body as JSON (`null` if it has none).
    async fn expect(
        &mut self,
        id: &str,
        ids: &[&str],
        query: &str,
        token: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let (status, text) = self
            .probe
            .send_with(id, ids, query, token, body.as_ref())
            .await;
        let what = format!(
            "{id} {ids:?} {query} {}",
            body.map(|b| b.to_string()).unwrap_or_default()
        );
        self.record(id, &what, expected, status, &text)
    }

    /// Holds an answer of `id` (sent as `what`) to `expected` and to the spec.
    fn record(&mut self, id: &str, what: &str, expected: u16, status: u16, text: &str) -> Value {
        if status != expected {
            self.problems
                .push(format!("{what}: expected {expected}, got {status}: {text}"));
        }
        self.problems.extend(check(self.spec, id, status, text));
        self.seen.entry(id.to_string()).or_default().insert(status);
        serde_json::from_str(text).unwrap_or(Value::Null)
    }

    /// [`Exercise::expect`] as the administrator.
    async fn admin(
        &mut self,
        id: &str,
        ids: &[&str],
        query: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let token = self.probe.token.clone();
        self.expect(id, ids, query, &token, body, expected).await
    }
}

/// The kick-off values `template` (a `get_template` answer's `data`) takes, one per
/// field in the shape of its type, keyed by timeline ID, plus a key no field has.
fn kickoff_values(template: &Value) -> Value {
    let mut values = Map::new();
    for field in template["prerun"].as_array().unwrap() {
        let value = match field["field_type"].as_str().unwrap() {
            "date" => json!("2026-04-01T09:00:00.000Z"),
            "dropdown" => json!({"id": 1, "text": field["options"][0]["text"], "value": null}),
            _ => json!("Globex"),
        };
        values.insert(field["id"].as_str().unwrap().to_string(), value);
    }
    values.insert("0123456789abcdef0123456789abcdef".into(), json!("dropped"));
    Value::Object(values)
}

/// A template that is not archived and has a required kick-off field.
fn template_with_required_field(fake: &FakeServer) -> tallyfy_fake::Template {
    fake.active_template_ids()
        .iter()
        .filter_map(|id| fake.template(id))
        .find(|t| t.prerun.iter().any(|f| f.required))
        .expect("a seeded template with a required kick-off field")
}

/// Runs every operation of the spec on `fake`: the lifecycle, then the workflow, each
/// for its success and its documented refusals.
async fn exercise_every_operation<'a>(
    fake: &FakeServer,
    spec: &'a OpenAPI,
    probe: &'a Probe,
) -> Exercise<'a> {
    let mut x = Exercise::new(spec, probe);
    let admin = probe.token.clone();
    let member = fake.member_token().to_string();
    let archived = fake.archived_process_ids();
    let active = fake.active_process_ids();
    let one_off = fake.one_off_task_ids();
    let tag = fake.tag_ids()[0].clone();

    // The lifecycle.
    let lifecycle: Vec<(&str, Vec<&str>, &str, &str, u16)> = vec![
        ("list_processes", vec![], "", &admin, 200),
        (
            "list_processes",
            vec![],
            "?archived=only&per_page=100",
            &admin,
            200,
        ),
        (
            "list_processes",
            vec![],
            "?status=archived&page=2&per_page=5&sort=-last_updated",
            &admin,
            200,
        ),
        (
            "list_processes",
            vec![],
            "?archived=true&page=99",
            &admin,
            200,
        ),
        ("list_processes", vec![], "?page=0", &admin, 422),
        ("list_processes", vec![], "", "wrong-token", 401),
        ("get_process", vec![&active[0]], "", &admin, 200),
        ("get_process", vec!["0000"], "", &admin, 404),
        ("archive_process", vec![&active[0]], "", &admin, 200),
        ("archive_process", vec!["0000"], "", &admin, 404),
        ("activate_process", vec![&active[0]], "", &admin, 200),
        ("activate_process", vec!["0000"], "", &admin, 404),
        (
            "permanently_delete_process",
            vec![&active[1]],
            "",
            &admin,
            422,
        ),
        (
            "permanently_delete_process",
            vec![&archived[0]],
            "",
            &member,
            403,
        ),
        (
            "permanently_delete_process",
            vec![&archived[0]],
            "",
            &admin,
            200,
        ),
        (
            "permanently_delete_process",
            vec![&archived[0]],
            "",
            &admin,
            404,
        ),
        ("archive_task", vec![&one_off[0]], "", &admin, 204),
        ("archive_task", vec!["0000"], "", &admin, 404),
        ("restore_task", vec![&one_off[0]], "", &admin, 200),
        ("restore_task", vec!["0000"], "", &admin, 404),
        (
            "permanently_delete_task",
            vec![&one_off[0]],
            "",
            &member,
            403,
        ),
        (
            "permanently_delete_task",
            vec![&one_off[0]],
            "",
            &admin,
            204,
        ),
        (
            "permanently_delete_task",
            vec![&one_off[0]],
            "",
            &admin,
            404,
        ),
        ("delete_tag", vec![&tag], "", &admin, 204),
        ("delete_tag", vec![&tag], "", &admin, 204),
    ];
    for (id, ids, query, token, expected) in lifecycle {
        x.expect(id, &ids, query, token, None, expected).await;
    }
    // Deleting a tag answers 204 even for a tag that is not there: its one refusal is
    // another organization's.
    let elsewhere = Probe {
        org: "someone-else".into(),
        ..Probe::new(fake)
    };
    let (status, text) = elsewhere.send("delete_tag", &[&tag], "", &admin).await;
    x.record(
        "delete_tag",
        "delete_tag in another organization",
        403,
        status,
        &text,
    );

    // Templates: read, create, change; launch one into a process.
    let template = template_with_required_field(fake);
    let tpl = template.id.as_str();
    x.admin("list_templates", &[], "", None, 200).await;
    x.admin("list_templates", &[], "?archived=only", None, 200)
        .await;
    x.admin(
        "list_templates",
        &[],
        "?with=steps&per_page=3&page=2",
        None,
        200,
    )
    .await;
    x.admin("list_templates", &[], "?per_page=0", None, 422)
        .await;
    let got = x
        .admin("get_template", &[tpl], "?with=steps,tags", None, 200)
        .await;
    x.admin("get_template", &["0000"], "", None, 404).await;
    let created = x
        .admin(
            "create_template",
            &[],
            "",
            Some(json!({
                "title": "Vendor onboarding",
                "type": "procedure",
                "guidance": "Check the paperwork.",
                "icon": "fa-truck",
                "prerun": [{"label": "Vendor", "field_type": "text", "required": true}],
            })),
            201,
        )
        .await;
    let new_template = created["data"]["id"]
        .as_str()
        .unwrap_or("missing")
        .to_string();
    let new_template = new_template.as_str();
    x.admin(
        "create_template",
        &[],
        "",
        Some(json!({"type": "procedure"})),
        422,
    )
    .await;
    x.admin(
        "update_template",
        &[new_template],
        "",
        Some(json!({"title": "Vendor onboarding v2", "is_public": false})),
        200,
    )
    .await;
    x.admin("update_template", &[new_template], "", Some(json!({})), 422)
        .await;
    x.admin(
        "update_template",
        &["0000"],
        "",
        Some(json!({"title": "x"})),
        404,
    )
    .await;

    // Processes: launch, change, complete every task, reopen one.
    let prerun = kickoff_values(&got["data"]);
    let launched = x
        .admin(
            "launch_process",
            &[],
            "",
            Some(json!({"checklist_id": tpl, "name": "Fidelity run", "prerun": prerun})),
            201,
        )
        .await;
    x.admin(
        "launch_process",
        &[],
        "",
        Some(json!({"checklist_id": tpl})),
        422,
    )
    .await;
    x.admin(
        "launch_process",
        &[],
        "",
        Some(json!({"checklist_id": "0000"})),
        422,
    )
    .await;
    x.admin(
        "launch_process",
        &[],
        "",
        Some(json!(["not", "an", "object"])),
        422,
    )
    .await;
    let run = launched["data"]["id"]
        .as_str()
        .unwrap_or("missing")
        .to_string();
    let run = run.as_str();
    x.admin(
        "update_process",
        &[run],
        "",
        Some(json!({"summary": "Checked by the fidelity test.", "starred": true})),
        200,
    )
    .await;
    x.admin("update_process", &[run], "", Some(json!({"name": ""})), 422)
        .await;
    x.admin(
        "update_process",
        &["0000"],
        "",
        Some(json!({"name": "x"})),
        404,
    )
    .await;
    let tasks = x
        .admin("list_process_tasks", &[run], "?with=step", None, 200)
        .await;
    x.admin("list_process_tasks", &[run], "?status=sideways", None, 422)
        .await;
    x.admin("list_process_tasks", &["0000"], "", None, 404)
        .await;
    let task_ids: Vec<String> = tasks["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    let first = task_ids.first().cloned().unwrap_or_default();
    let first = first.as_str();
    x.admin(
        "get_process_task",
        &[run, first],
        "?with=run,step,form_fields,summary",
        None,
        200,
    )
    .await;
    x.admin("get_process_task", &[run, "0000"], "", None, 404)
        .await;
    x.admin(
        "update_process_task",
        &[run, first],
        "",
        Some(json!({"taskdata": {"0123456789abcdef0123456789abcdef": "x"}, "deadline": "2026-05-01T17:00:00Z"})),
        200,
    )
    .await;
    x.admin(
        "update_process_task",
        &[run, first],
        "",
        Some(json!({"title": ""})),
        422,
    )
    .await;
    x.admin(
        "update_process_task",
        &[run, "0000"],
        "",
        Some(json!({})),
        404,
    )
    .await;
    for task in &task_ids {
        x.admin(
            "complete_process_task",
            &[run],
            "",
            Some(json!({"task_id": task})),
            200,
        )
        .await;
    }
    x.admin(
        "complete_process_task",
        &[run],
        "",
        Some(json!({"task_id": first})),
        422,
    )
    .await;
    x.admin("complete_process_task", &[run], "", Some(json!({})), 422)
        .await;
    x.admin(
        "complete_process_task",
        &["0000"],
        "",
        Some(json!({"task_id": first})),
        404,
    )
    .await;
    x.admin("reopen_process_task", &[run, first], "", None, 200)
        .await;
    x.admin("reopen_process_task", &[run, first], "", None, 422)
        .await;
    x.admin("reopen_process_task", &[run, "0000"], "", None, 404)
        .await;
    let feed = format!("?entity_type=run&entity_id={run}");
    x.admin("list_activity", &[], &feed, None, 200).await;
    x.admin(
        "list_activity",
        &[],
        "?per_page=2&page=2&verb=completed",
        None,
        200,
    )
    .await;
    x.admin("list_activity", &[], "?entity_type=galaxy", None, 422)
        .await;

    // One-off tasks, and a process launched without a template.
    x.admin("list_tasks", &[], "", None, 200).await;
    x.admin(
        "list_tasks",
        &[],
        "?is_oneoff=true&archived=true&per_page=5&page=2",
        None,
        200,
    )
    .await;
    x.admin(
        "list_tasks",
        &[],
        "?with=run,step,summary&status=complete",
        None,
        200,
    )
    .await;
    x.admin("list_tasks", &[], "?is_oneoff=maybe", None, 422)
        .await;
    let owners = json!({"users": [1001, 1002], "guests": [], "groups": []});
    let task = x
        .admin(
            "create_task",
            &[],
            "",
            Some(json!({
                "title": "Prepare Q3 Report",
                "task_type": "task",
                "description": "Gather the data.",
                "owners": owners,
                "deadline": "2026-07-15T17:00:00Z",
            })),
            201,
        )
        .await;
    x.admin(
        "create_task",
        &[],
        "",
        Some(json!({"title": "No deadline"})),
        422,
    )
    .await;
    x.admin(
        "create_task",
        &[],
        "",
        Some(json!({
            "title": "Review Q4",
            "task_type": "task",
            "owners": {"users": ["1001", "1003"], "guests": ["guest@example.com"]},
            "deadline": "2026-06-01 17:00:00",
            "separate_task_for_each_assignee": true,
        })),
        201,
    )
    .await;
    let task = task["data"]["id"].as_str().unwrap_or("missing").to_string();
    let task = task.as_str();
    x.admin("get_task", &[task], "", None, 200).await;
    x.admin(
        "get_task",
        &[first],
        "?with=run,step,form_fields",
        None,
        200,
    )
    .await;
    x.admin("get_task", &["0000"], "", None, 404).await;
    x.admin(
        "update_task",
        &[task],
        "",
        Some(json!({"title": "Prepare the Q3 report", "deadline": "2026-07-16T17:00:00Z", "owners": owners})),
        200,
    )
    .await;
    x.admin(
        "update_task",
        &[task],
        "",
        Some(json!({"title": "Only a title"})),
        422,
    )
    .await;
    x.admin(
        "update_task",
        &["0000"],
        "",
        Some(json!({"title": "x", "deadline": "2026-07-16T17:00:00Z", "owners": owners})),
        404,
    )
    .await;
    x.admin(
        "complete_task",
        &[],
        "",
        Some(json!({"task_id": task})),
        200,
    )
    .await;
    x.admin(
        "complete_task",
        &[],
        "",
        Some(json!({"task_id": task})),
        422,
    )
    .await;
    x.admin(
        "complete_task",
        &[],
        "",
        Some(json!({"task_id": "0000"})),
        404,
    )
    .await;
    x.admin("reopen_task", &[task], "", None, 200).await;
    x.admin("reopen_task", &[task], "", None, 422).await;
    x.admin("reopen_task", &["0000"], "", None, 404).await;

    // Templates go: archived, then deleted for good (administrators only).
    x.admin(
        "permanently_delete_template",
        &[new_template],
        "",
        None,
        422,
    )
    .await;
    x.admin("archive_template", &[new_template], "", None, 200)
        .await;
    x.admin("archive_template", &["0000"], "", None, 404).await;
    x.admin(
        "launch_process",
        &[],
        "",
        Some(json!({"checklist_id": new_template})),
        422,
    )
    .await;
    x.expect(
        "permanently_delete_template",
        &[new_template],
        "",
        &member,
        None,
        403,
    )
    .await;
    x.admin(
        "permanently_delete_template",
        &[new_template],
        "",
        None,
        200,
    )
    .await;
    x.admin(
        "permanently_delete_template",
        &[new_template],
        "",
        None,
        404,
    )
    .await;
    exercise_people(&mut x, fake, &member).await;
    files::exercise_files(&mut x, fake, &member).await;
    x
}

/// Members, guests, groups and tags: each operation's success and refusals.
async fn exercise_people(x: &mut Exercise<'_>, fake: &FakeServer, member: &str) {
    // Members: anyone lists; only administrators read or change one (403).
    x.admin(
        "list_members",
        &[],
        "?with=groups&per_page=50&page=1",
        None,
        200,
    )
    .await;
    x.admin("list_members", &[], "?page=0", None, 422).await;
    x.admin("get_member", &["1003"], "?with=stats,groups", None, 200)
        .await;
    x.admin("get_member", &["999999"], "", None, 404).await;
    x.expect("get_member", &["1003"], "", member, None, 403)
        .await;
    let invite = json!({"email": "charlie.brown@example.com", "first_name": "Charlie",
        "last_name": "Brown", "role": "standard", "message": "Welcome"});
    let invited = x
        .admin("invite_member", &[], "", Some(invite.clone()), 200)
        .await;
    x.admin("invite_member", &[], "", Some(invite), 422).await;
    let new_id = invited["data"]["id"].to_string();
    let profile = json!({"first_name": "Charles", "last_name": "Brown", "timezone": "Europe/London",
        "phone": "+1-555-123-4567", "team": "Operations"});
    x.admin("update_member", &[&new_id], "", Some(profile.clone()), 200)
        .await;
    x.admin(
        "update_member",
        &[&new_id],
        "",
        Some(json!({"first_name": "C"})),
        422,
    )
    .await;
    x.expect("update_member", &[&new_id], "", member, Some(profile), 403)
        .await;
    x.admin(
        "update_member_role",
        &[&new_id],
        "",
        Some(json!({"role": "light"})),
        200,
    )
    .await;
    x.admin(
        "update_member_role",
        &[&new_id],
        "",
        Some(json!({"role": "owner"})),
        422,
    )
    .await;
    x.expect(
        "update_member_role",
        &[&new_id],
        "",
        member,
        Some(json!({"role": "admin"})),
        403,
    )
    .await;
    x.expect("remove_member", &[&new_id], "", member, None, 403)
        .await;
    x.admin("remove_member", &["1001"], "", None, 400).await;
    x.admin(
        "remove_member",
        &["1004"],
        "?with_reassignment=true",
        None,
        422,
    )
    .await;
    x.admin(
        "remove_member",
        &["1004"],
        "?with_reassignment=true&to=1002",
        None,
        200,
    )
    .await;
    x.admin("remove_member", &[&new_id], "", None, 200).await;
    x.admin("remove_member", &[&new_id], "", None, 404).await;
    // Disable, then delete for good: the archive-then-delete shape of processes.
    x.admin("permanently_delete_member", &["1005"], "", None, 422)
        .await;
    x.expect("disable_member", &["1005"], "", member, None, 403)
        .await;
    x.admin("disable_member", &["1001"], "", None, 400).await;
    x.admin("disable_member", &["1005"], "", None, 200).await;
    x.expect(
        "permanently_delete_member",
        &["1005"],
        "",
        member,
        None,
        403,
    )
    .await;
    x.admin("permanently_delete_member", &["1005"], "", None, 200)
        .await;
    x.admin("permanently_delete_member", &["1005"], "", None, 404)
        .await;
    x.admin("disable_member", &["1005"], "", None, 404).await;

    // Guests, by email (`+` and `%40` reach the fake as sent).
    x.admin(
        "list_guests",
        &[],
        "?with=stats&per_page=50&page=1",
        None,
        200,
    )
    .await;
    x.admin("list_guests", &[], "?per_page=x", None, 422).await;
    let guest = json!({"email": "a+b%40@example.com", "first_name": "External",
        "last_name": "Partner", "company_name": "Partner Co", "phone_1": "+15551234567"});
    x.admin("create_guest", &[], "", Some(guest), 201).await;
    x.admin(
        "create_guest",
        &[],
        "",
        Some(json!({"email": "alice.smith@example.com"})),
        422,
    )
    .await;
    let encoded = "a%2Bb%2540%40example.com";
    x.admin("get_guest", &[encoded], "?with=stats", None, 201)
        .await;
    x.admin("get_guest", &["client+ops@example.com"], "", None, 201)
        .await;
    x.admin("get_guest", &["nobody@example.com"], "", None, 404)
        .await;
    let members = json!({"associated_members": [1001, 1002]});
    x.admin("update_guest", &[encoded], "", Some(members), 201)
        .await;
    x.admin(
        "update_guest",
        &[encoded],
        "",
        Some(json!({"associated_members": [424242]})),
        422,
    )
    .await;
    x.admin(
        "update_guest",
        &["nobody@example.com"],
        "",
        Some(json!({})),
        404,
    )
    .await;
    x.admin("delete_guest", &[encoded], "", None, 200).await;
    x.admin("delete_guest", &[encoded], "", None, 422).await;

    // Groups.
    x.admin("list_groups", &[], "", None, 200).await;
    x.admin("list_groups", &[], "?page=0", None, 422).await;
    let group = json!({"name": "Onboarding Specialists", "description": "New clients.",
        "members": [1001, 1002], "guests": ["client+ops@example.com"]});
    let made = x
        .admin("create_group", &[], "", Some(group.clone()), 201)
        .await;
    x.admin("create_group", &[], "", Some(group), 422).await;
    let id = made["data"]["id"].as_str().unwrap_or_default().to_string();
    x.admin("get_group", &[&id], "", None, 200).await;
    x.admin("get_group", &["0000"], "", None, 404).await;
    let change = json!({"description": "Updated.", "members": [1001], "guests": []});
    x.admin("update_group", &[&id], "", Some(change), 201).await;
    x.admin(
        "update_group",
        &[&id],
        "",
        Some(json!({"members": ["x"]})),
        422,
    )
    .await;
    x.admin("delete_group", &[&id], "", None, 204).await;
    x.admin("delete_group", &[&id], "", None, 404).await;
    x.admin("get_group", &[&id], "", None, 404).await;

    // Tags.
    let tag = fake.tag_ids()[1].clone();
    x.admin("list_tags", &[], "?with=statistics", None, 200)
        .await;
    x.admin("list_tags", &[], "?per_page=0", None, 422).await;
    let made = x
        .admin(
            "create_tag",
            &[],
            "",
            Some(json!({"title": "Python Tag", "color": "#f1c40f"})),
            201,
        )
        .await;
    x.admin(
        "create_tag",
        &[],
        "",
        Some(json!({"title": "Python Tag"})),
        422,
    )
    .await;
    x.admin("create_tag", &[], "", Some(json!({"color": "red"})), 422)
        .await;
    let new_tag = made["data"]["id"].as_str().unwrap_or_default().to_string();
    x.admin("get_tag", &[&tag], "?with=statistics", None, 200)
        .await;
    x.admin("get_tag", &["0000"], "", None, 404).await;
    let change = json!({"title": "Python Updated Tag", "color": "#34495e"});
    x.admin("update_tag", &[&new_tag], "", Some(change.clone()), 200)
        .await;
    x.admin("update_tag", &["0000"], "", Some(change), 404)
        .await;
    x.admin(
        "update_tag",
        &[&new_tag],
        "",
        Some(json!({"color": "#12"})),
        422,
    )
    .await;
    x.admin("delete_tag", &[&new_tag], "", None, 204).await;
    x.admin("get_tag", &[&new_tag], "", None, 404).await;
}

#[tokio::test]
async fn every_answer_of_the_fake_matches_the_spec() {
    let spec = spec();
    let fake = FakeServer::builder().processes(40).start().await.unwrap();
    let p = Probe::new(&fake);
    let admin = p.token.clone();
    let active = fake.active_process_ids();
    let mut problems = exercise_every_operation(&fake, &spec, &p).await.problems;

    // Other organizations, rate limits and server errors.
    let other_org = Probe {
        org: "someone-else".into(),
        ..Probe::new(&fake)
    };
    let (status, body) = other_org
        .send("get_process", &[&active[0]], "", &admin)
        .await;
    problems.extend(check(&spec, "get_process", status, &body));
    assert_eq!(status, 403);
    let limited = FakeServer::builder()
        .faults(Faults {
            rate_limit: Some(1),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let lp = Probe::new(&limited);
    let _ = lp.send("list_processes", &[], "", &lp.token).await;
    let (status, body) = lp.send("list_processes", &[], "", &lp.token).await;
    assert_eq!(status, 429);
    problems.extend(check(&spec, "list_processes", status, &body));
    let failing = FakeServer::builder()
        .faults(Faults {
            server_errors: 1.0,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let fp = Probe::new(&failing);
    for _ in 0..8 {
        let (status, body) = fp.send("delete_tag", &["x"], "", &fp.token).await;
        assert!((500..600).contains(&status));
        problems.extend(check(&spec, "delete_tag", status, &body));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The guard: an operation added to the spec fails this until the exercise above sends
/// it, for a success and for a refusal (a 4xx other than 401 and 429, which any
/// operation answers the same way).
#[tokio::test]
async fn every_operation_of_the_spec_is_exercised_on_the_fake() {
    let spec = spec();
    let fake = FakeServer::builder().processes(40).start().await.unwrap();
    let p = Probe::new(&fake);
    let seen = exercise_every_operation(&fake, &spec, &p).await.seen;
    let mut missing = Vec::new();
    for op in tallyfy::OPERATIONS {
        let statuses = seen.get(op.id).cloned().unwrap_or_default();
        if !statuses.iter().any(|s| (200..300).contains(s)) {
            missing.push(format!("{}: no success ({statuses:?})", op.id));
        }
        if !statuses
            .iter()
            .any(|s| (400..500).contains(s) && ![401, 429].contains(s))
        {
            missing.push(format!("{}: no refusal ({statuses:?})", op.id));
        }
    }
    let unknown: Vec<&String> = seen
        .keys()
        .filter(|id| tallyfy::Operation::find(id).is_none())
        .collect();
    assert!(
        unknown.is_empty(),
        "not operations of the spec: {unknown:?}"
    );
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[tokio::test]
async fn the_validator_catches_drift() {
    let spec = spec();
    let drifted = [
        ("get_process", 200, r#"{"data": {"name": "no id"}}"#),
        ("get_process", 200, r#"{"data": {"id": 5}}"#),
        (
            "list_processes",
            200,
            r#"{"data": [], "meta": {"pagination": {"links": [1]}}}"#,
        ),
        ("list_processes", 200, r#"{"data": {}}"#),
        ("permanently_delete_process", 200, r#"{"deleted": true}"#),
        ("get_process", 404, r#"{"error": 5}"#),
        ("get_process", 302, ""),
        ("get_asset", 200, "%PDF-1.4"),
        ("delete_file", 200, "%PDF-1.4"),
    ];
    for (id, status, body) in drifted {
        assert!(
            !check(&spec, id, status, body).is_empty(),
            "{id} {status} {body} passed"
        );
    }
    assert!(
        check(
            &spec,
            "get_process",
            404,
            r#"{"error": {"code": "X"}, "extra": 1}"#
        )
        .is_empty()
    );
    // A file is any bytes; its refusals are still JSON.
    for id in ["get_file", "download_file"] {
        assert!(check(&spec, id, 200, "%PDF-1.4").is_empty(), "{id}");
        assert!(check(&spec, id, 206, "PDF-1.4").is_empty(), "{id}");
        assert!(!check(&spec, id, 404, "%PDF-1.4").is_empty(), "{id}");
    }
}

/// A JSON value's shape: its JSON type (`"null"`, `"boolean"`, `"number"`, `"string"`,
/// `"array"`, `"object"`), and for an object with fields, each field's shape. An empty
/// object has the shape `"object"`: in the corpus it is a placeholder (the docs' `{ ... }`).
fn shape(value: &Value) -> Value {
    match value {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("boolean"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(_) => json!("array"),
        Value::Object(fields) if fields.is_empty() => json!("object"),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, value)| (key.clone(), shape(value)))
                .collect(),
        ),
    }
}

/// Where shape `got` differs from the corpus's shape `expected`, one line each.
fn differences(expected: &Value, got: &Value, at: &str) -> Vec<String> {
    match (expected, got) {
        (Value::Object(expected), Value::Object(got)) => {
            let mut found = Vec::new();
            for (key, shown) in expected {
                match got.get(key) {
                    None => found.push(format!("{at}.{key}: missing (the corpus shows {shown})")),
                    Some(sent) => found.extend(differences(shown, sent, &format!("{at}.{key}"))),
                }
            }
            for (key, sent) in got {
                if !expected.contains_key(key) {
                    found.push(format!("{at}.{key}: {sent}, not in the corpus"));
                }
            }
            found
        }
        // The corpus's `{ ... }`: any object.
        (Value::String(placeholder), Value::Object(_)) if placeholder == "object" => vec![],
        _ if expected == got => vec![],
        _ => vec![format!(
            "{at}: the corpus shows {expected}, the fake sends {got}"
        )],
    }
}

/// The shapes of two examples of one object together: every field either shows. Where
/// both show a field they must agree, a placeholder `{}` giving way to fields.
fn union(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            let mut fields: Map<String, Value> = a.clone();
            for (key, shape) in b {
                let merged = fields
                    .get(key)
                    .map_or_else(|| shape.clone(), |mine| union(mine, shape));
                fields.insert(key.clone(), merged);
            }
            Value::Object(fields)
        }
        (placeholder, fields @ Value::Object(_)) | (fields @ Value::Object(_), placeholder)
            if placeholder == "object" =>
        {
            fields.clone()
        }
        _ => {
            assert_eq!(a, b, "the corpus's examples disagree");
            a.clone()
        }
    }
}

/// The fake's process object has the corpus's keys with the corpus's JSON types, in the
/// answers of all six operations that send one.
///
/// Which corpus object each answer is held to:
/// - list: `list_processes.200.json`'s first item, exactly;
/// - get, archive, activate: every field of that item or of `get_process.200.json` (less
///   the relationships `checklist`, `tasks`, `tags`, sent only on request with `with=`),
///   with the type either shows. Tallyfy's get, archive and activate examples are visibly
///   cut short (archive and activate show 7 to 10 fields, `{ }` placeholders, `"user_id"`
///   for an integer); the list item and the get example are the two full ones, and they
///   agree where they overlap. The fake sends one process object for all four;
/// - launch and update: the same as get (the launch example shows no body, the update
///   example is cut short, with `progress` as a bare percentage).
///
/// Nulls are compared exactly, never as "any type": the fake's process is in the state the
/// examples show (active, not complete, no parent), so `archived_at`, `completed_at` and
/// `parent_id` are null where the corpus has null. Only `archived_at` depends on the
/// operation, and is held to that operation's own example: a string once archived
/// (`archive_process.200.json`), null after activating (`activate_process.200.json`).
#[tokio::test]
async fn the_fake_process_object_has_the_corpus_keys_and_types() {
    let fake = FakeServer::builder().processes(40).start().await.unwrap();
    let p = Probe::new(&fake);
    let run_id = fake
        .active_process_ids()
        .into_iter()
        .find(|id| fake.process(id).unwrap().completed_at.is_none())
        .expect("an active process that is not complete");

    let listed = corpus("list_processes.200.json")["data"][0].clone();
    let mut got = corpus("get_process.200.json")["data"].take();
    for relationship in ["checklist", "tasks", "tags"] {
        got.as_object_mut().unwrap().remove(relationship);
    }
    let one_process = union(&shape(&listed), &shape(&got));
    let with_archived_at = |example: &str| {
        let mut expected = one_process.clone();
        expected["archived_at"] = shape(&corpus(example)["data"]["archived_at"]);
        expected
    };

    let (status, body) = p
        .send("list_processes", &[], "?per_page=100", &p.token)
        .await;
    assert_eq!(status, 200, "{body}");
    let page: Value = serde_json::from_str(&body).unwrap();
    let item = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|run| run["id"] == *run_id)
        .expect("the process is listed");
    let mut problems = differences(&shape(&listed), &shape(item), "list_processes data[]");
    for (operation, expected) in [
        ("get_process", with_archived_at("get_process.200.json")),
        (
            "archive_process",
            with_archived_at("archive_process.200.json"),
        ),
        (
            "activate_process",
            with_archived_at("activate_process.200.json"),
        ),
    ] {
        let sent = p.process(operation, &run_id).await;
        problems.extend(differences(
            &expected,
            &shape(&sent),
            &format!("{operation} data"),
        ));
    }

    // A launched process, and one updated, are the same object (their examples show
    // none, or a cut-short one with `progress` as a bare number).
    let template = template_with_required_field(&fake);
    let got = p.json("get_template", &[&template.id], "", None, 200).await;
    let launch = json!({"checklist_id": template.id, "prerun": kickoff_values(&got["data"])});
    let launched = p.json("launch_process", &[], "", Some(launch), 201).await;
    let expected = with_archived_at("get_process.200.json");
    problems.extend(differences(
        &expected,
        &shape(&launched["data"]),
        "launch_process data",
    ));
    let run = launched["data"]["id"].as_str().unwrap();
    let change = json!({"name": "Onboarding - Globex Corp (Updated)", "starred": true});
    let updated = p
        .json("update_process", &[run], "", Some(change), 200)
        .await;
    problems.extend(differences(
        &expected,
        &shape(&updated["data"]),
        "update_process data",
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_shape_comparison_sees_every_kind_of_drift() {
    let corpus = shape(
        &json!({"id": "a", "owner_id": 1, "progress": {}, "archived_at": null, "p": {"n": 1}}),
    );
    let same = shape(
        &json!({"id": "b", "owner_id": 2, "progress": {"total": 3}, "archived_at": null, "p": {"n": 2.5}}),
    );
    assert_eq!(differences(&corpus, &same, "x"), Vec::<String>::new());
    let drifted = [
        json!({"id": "b", "owner_id": "u_2", "progress": {}, "archived_at": null, "p": {"n": 1}}),
        json!({"id": "b", "owner_id": 2, "progress": 5, "archived_at": null, "p": {"n": 1}}),
        json!({"id": "b", "owner_id": 2, "progress": {}, "p": {"n": 1}}),
        json!({"id": "b", "owner_id": 2, "progress": {}, "archived_at": "2025", "p": {"n": 1}}),
        json!({"id": "b", "owner_id": 2, "progress": {}, "archived_at": null, "p": {"n": 1}, "more": 1}),
        json!({"id": "b", "owner_id": 2, "progress": {}, "archived_at": null, "p": {}}),
        json!({"id": "b", "owner_id": 2, "progress": {}, "archived_at": null, "p": {"m": 1}}),
    ];
    for sent in drifted {
        assert!(
            !differences(&corpus, &shape(&sent), "x").is_empty(),
            "{sent}"
        );
    }
    let together = union(
        &shape(&json!({"a": 1, "p": {}})),
        &shape(&json!({"b": "s", "p": {"n": 1}})),
    );
    assert_eq!(
        together,
        json!({"a": "number", "b": "string", "p": {"n": "number"}})
    );
}

/// Tallyfy's own tools name themselves: its Python SDK sends `TallyfySDK`, its n8n node
/// `n8n`. Any non-empty name is let in; none, or an empty one, is refused.
#[tokio::test]
async fn any_named_tallyfy_client_is_let_in_and_a_missing_or_empty_one_refused() {
    let spec = spec();
    let fake = FakeServer::start().await.unwrap();
    let p = Probe::new(&fake);
    let path = format!("/organizations/{}/runs", p.org);
    let mut problems = Vec::new();
    for (client, expected) in [
        (Some("APIClient"), 200),
        (Some("TallyfySDK"), 200),
        (Some("n8n"), 200),
        (None, 401),
        (Some(""), 401),
    ] {
        let (status, body) = p.request(Method::GET, &path, client, &p.token).await;
        if status != expected {
            let start: String = body.chars().take(120).collect();
            problems.push(format!(
                "{client:?}: expected {expected}, got {status}: {start}"
            ));
        }
        problems.extend(check(&spec, "list_processes", status, &body));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A path the API does not serve, under `/api` or not, and a method it does not serve on
/// a path it knows, answer Tallyfy's documented "endpoint not found".
#[tokio::test]
async fn an_unknown_route_is_endpoint_not_found() {
    let fake = FakeServer::start().await.unwrap();
    let p = Probe::new(&fake);
    let org = p.org.clone();
    let expected = corpus("endpoint_not_found.404.json");
    assert_eq!(
        expected,
        json!({"error": true, "message": "API endpoint not found", "code": "ENDPOINT_NOT_FOUND"})
    );
    for (method, path) in [
        (Method::GET, format!("/organizations/{org}/nothing-here")),
        (Method::GET, format!("/api/organizations/{org}/runs/x/y/z")),
        (Method::GET, "/".to_string()),
        (Method::PATCH, format!("/organizations/{org}/runs")),
        (
            Method::POST,
            format!("/api/organizations/{org}/checklists/x"),
        ),
    ] {
        let (status, body) = p
            .request(method.clone(), &path, Some("APIClient"), &p.token)
            .await;
        assert_eq!(status, 404, "{method} {path}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body, expected, "{method} {path}");
    }
}

/// A missing resource, invalid input and the rate limit answer the corpus's bodies.
#[tokio::test]
async fn refusals_have_the_corpus_bodies() {
    let fake = FakeServer::start().await.unwrap();
    let p = Probe::new(&fake);
    let json = |body: &str| serde_json::from_str::<Value>(body).unwrap();

    for (operation, id) in [("get_process", "0000"), ("archive_task", "nope")] {
        let (status, body) = p.send(operation, &[id], "", &p.token).await;
        let expected = (404, corpus("resource_not_found.404.json"));
        assert_eq!((status, json(&body)), expected, "{operation}");
    }

    // Validation: the corpus's shape, `{"error": true, "errors": {field: [message]}}`,
    // naming the field that is wrong.
    let (status, body) = p.send("list_processes", &[], "?per_page=0", &p.token).await;
    assert_eq!(status, 422, "{body}");
    let mut sent = json(&body);
    let errors = sent["errors"].as_object_mut().unwrap();
    let messages = errors.remove("per_page").expect("per_page is named");
    assert!(errors.is_empty(), "{body}");
    assert_eq!(
        messages,
        json!(["The per_page must be a positive integer."])
    );
    errors.insert("field_name".into(), messages);
    assert_eq!(shape(&sent), shape(&corpus("validation.422.json")));

    // The rate limit: the corpus's wording, naming the operation for its `[operation]`.
    let limited = FakeServer::builder()
        .faults(Faults {
            rate_limit: Some(1),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let lp = Probe::new(&limited);
    let _ = lp.send("list_processes", &[], "", &lp.token).await;
    let (status, body) = lp.send("list_processes", &[], "", &lp.token).await;
    assert_eq!(status, 429);
    let shown = corpus("rate_limited.429.json");
    let expected = json!({
        "message": shown["message"].as_str().unwrap().replace("[operation]", "list_processes"),
        "code": shown["code"],
    });
    assert_eq!(json(&body), expected);
}

/// `base` with every field `example` shows set to its shape there: the state an
/// operation's own example documents (`completed_at` a string once completed, `null`
/// once reopened) over the object's usual shape.
fn overlay(base: &Value, example: &Value) -> Value {
    let mut shaped = base.clone();
    for (key, value) in example.as_object().unwrap() {
        shaped[key] = shape(value);
    }
    shaped
}

/// The one task object the fake sends: every field of `list_tasks.200.json`'s item or
/// of `get_task.200.json` (less the relationships `form_fields`, `run`, `step`, sent only
/// with `with=`), with the type either shows (they agree where they overlap), and the
/// fields only other examples of a task show: `completer_guest_id` (`null`,
/// `reopen_task.200.json`; a task nobody completed has none), `prevent_guest_comment`
/// (`update_task.200.json`) and `taskdata` (an object; the update example's keys are its
/// own form's).
fn task_shape() -> Value {
    let listed = corpus("list_tasks.200.json")["data"][0].clone();
    let mut got = corpus("get_task.200.json")["data"].take();
    for relationship in ["form_fields", "run", "step"] {
        got.as_object_mut().unwrap().remove(relationship);
    }
    let mut task = union(&shape(&listed), &shape(&got));
    let reopened = corpus("reopen_task.200.json")["data"].take();
    task["completer_guest_id"] = shape(&reopened["completer_guest_id"]);
    let updated = corpus("update_task.200.json")["data"].take();
    task["prevent_guest_comment"] = shape(&updated["prevent_guest_comment"]);
    task["taskdata"] = json!("object");
    task
}

/// The fake's task object has the corpus's keys with the corpus's JSON types, in every
/// answer that sends one.
///
/// A task of a process (fresh, as the list and get examples show one: active, assigned,
/// not completed) is held to [`task_shape`] by `list_tasks`, `list_process_tasks`,
/// `get_task`, `get_process_task` and `update_process_task` (whose own examples are cut
/// short: `list_process_tasks.200.json`'s second item shows 7 fields, the update example
/// 13); a completion to that shape with `complete_process_task.200.json`'s fields over
/// it (`completed_at` a string, `completer_id` an integer, `tasks_changed_by_rules`); a
/// reopening to it with `reopen_task.200.json`'s (`completed_at`, `completer_id`,
/// `is_approved` null) and `tasks_changed_by_rules`, which the docs say the process
/// variant adds.
///
/// A one-off task is held to the same shape with `create_task.201.json`'s fields over it
/// (`run_id`, `step_id`, `started_at` null) and `checklist_id` null (the docs: null for
/// one-off tasks): by `create_task`, `get_task`, `update_task`, `complete_task` (without
/// `tasks_changed_by_rules`: the docs say the standalone answer omits it) and
/// `reopen_task`.
#[tokio::test]
async fn the_fake_task_object_has_the_corpus_keys_and_types() {
    let fake = FakeServer::builder().processes(10).start().await.unwrap();
    let p = Probe::new(&fake);
    let template = template_with_required_field(&fake);
    let got = p.json("get_template", &[&template.id], "", None, 200).await;
    let launch = json!({
        "checklist_id": template.id,
        "name": "Shapes of tasks",
        "prerun": kickoff_values(&got["data"]),
    });
    let run = p.json("launch_process", &[], "", Some(launch), 201).await;
    let run = run["data"]["id"].as_str().unwrap().to_string();
    let task = fake.process_tasks(&run)[0].id.clone();

    let fresh = task_shape();
    let mut problems = Vec::new();
    let mut hold = |expected: &Value, sent: &Value, at: &str| {
        problems.extend(differences(expected, &shape(sent), at));
    };
    let page = p
        .json(
            "list_tasks",
            &[],
            "?q=Shapes%20of%20tasks&per_page=100",
            None,
            200,
        )
        .await;
    let item = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == *task)
        .expect("the task is listed");
    hold(&fresh, item, "list_tasks data[]");
    let page = p.json("list_process_tasks", &[&run], "", None, 200).await;
    hold(&fresh, &page["data"][0], "list_process_tasks data[]");
    let sent = p.json("get_task", &[&task], "", None, 200).await;
    hold(&fresh, &sent["data"], "get_task data");
    let sent = p
        .json("get_process_task", &[&run, &task], "", None, 200)
        .await;
    hold(&fresh, &sent["data"], "get_process_task data");
    let change = json!({"title": "Shapes, renamed", "taskdata": {"f": "x"}});
    let sent = p
        .json("update_process_task", &[&run, &task], "", Some(change), 200)
        .await;
    hold(&fresh, &sent["data"], "update_process_task data");

    let completed = overlay(&fresh, &corpus("complete_process_task.200.json")["data"]);
    let done = json!({"task_id": task});
    let sent = p
        .json("complete_process_task", &[&run], "", Some(done), 200)
        .await;
    hold(&completed, &sent["data"], "complete_process_task data");
    let mut reopened = overlay(&fresh, &corpus("reopen_task.200.json")["data"]);
    reopened["tasks_changed_by_rules"] = json!("object");
    let sent = p
        .json("reopen_process_task", &[&run, &task], "", None, 200)
        .await;
    hold(&reopened, &sent["data"], "reopen_process_task data");

    let mut one_off = overlay(&fresh, &corpus("create_task.201.json")["data"]);
    one_off["checklist_id"] = json!("null");
    let create = json!({
        "title": "Plan the meeting",
        "task_type": "task",
        "owners": {"users": [1001], "guests": [], "groups": []},
        "deadline": "2026-06-30T17:00:00.000Z",
    });
    let sent = p.json("create_task", &[], "", Some(create), 201).await;
    let id = sent["data"]["id"].as_str().unwrap().to_string();
    hold(&one_off, &sent["data"], "create_task data");
    let sent = p.json("get_task", &[&id], "", None, 200).await;
    hold(&one_off, &sent["data"], "get_task data (one-off)");
    let change = json!({
        "title": "Plan the meeting, again",
        "deadline": "2026-07-01T09:00:00Z",
        "owners": {"users": [1005]},
    });
    let sent = p.json("update_task", &[&id], "", Some(change), 200).await;
    hold(&one_off, &sent["data"], "update_task data");
    let mut completed = overlay(&one_off, &corpus("complete_process_task.200.json")["data"]);
    completed
        .as_object_mut()
        .unwrap()
        .remove("tasks_changed_by_rules");
    let sent = p
        .json("complete_task", &[], "", Some(json!({"task_id": id})), 200)
        .await;
    hold(&completed, &sent["data"], "complete_task data");
    let reopened = overlay(&one_off, &corpus("reopen_task.200.json")["data"]);
    let sent = p.json("reopen_task", &[&id], "", None, 200).await;
    hold(&reopened, &sent["data"], "reopen_task data");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The fake's template object has the corpus's keys with the corpus's JSON types, in
/// every answer that sends one: `list_templates`, `get_template`, `create_template` and
/// `update_template` all send one shape, held to every field of `get_template.200.json`
/// (less `steps` and `tags`, sent only with `with=`) or of `list_templates.200.json`'s
/// item (`steps_count`, `is_pinned`).
///
/// Where the two disagree the get example wins: it shows `owner_id` and `created_by` as
/// integers (`1001`), the list example as `"user_abc123"`, a placeholder where Tallyfy
/// sends a member ID, which is an integer everywhere else. The create example
/// (`create_template.201.json`) is of a template with no guidance or icon yet (`null`),
/// so the template created here has both, as the get example's does.
///
/// With `with=steps`, each step has the keys and types of the get example's step; a
/// kick-off field of type `text` those of its `prerun` field, plus `required`, which the
/// spec's `KickoffField` has (the docs' field table names it; the example leaves it out).
#[tokio::test]
async fn the_fake_template_object_has_the_corpus_keys_and_types() {
    let fake = FakeServer::builder().processes(10).start().await.unwrap();
    let p = Probe::new(&fake);
    let mut got = corpus("get_template.200.json")["data"].take();
    let step = got["steps"][0].take();
    let field = got["prerun"][0].clone();
    for relationship in ["steps", "tags"] {
        got.as_object_mut().unwrap().remove(relationship);
    }
    let mut listed = corpus("list_templates.200.json")["data"][0].take();
    listed["owner_id"] = json!(1001);
    listed["created_by"] = json!(1001);
    let template = union(&shape(&got), &shape(&listed));

    let id = fake
        .active_template_ids()
        .into_iter()
        .find(|id| {
            fake.template(id)
                .unwrap()
                .prerun
                .iter()
                .any(|f| f.field_type == "text")
        })
        .expect("a seeded template with a text field");
    let mut problems = Vec::new();
    let mut hold = |expected: &Value, sent: &Value, at: &str| {
        problems.extend(differences(expected, &shape(sent), at));
    };
    let page = p
        .json("list_templates", &[], "?per_page=100", None, 200)
        .await;
    let item = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == *id)
        .expect("the template is listed");
    hold(&template, item, "list_templates data[]");
    let sent = p.json("get_template", &[&id], "", None, 200).await;
    hold(&template, &sent["data"], "get_template data");
    let sent = p
        .json("get_template", &[&id], "?with=steps", None, 200)
        .await;
    hold(
        &shape(&step),
        &sent["data"]["steps"][0],
        "get_template data.steps[]",
    );
    let text = sent["data"]["prerun"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field_type"] == "text")
        .unwrap();
    let mut kickoff = shape(&field);
    kickoff["required"] = json!("boolean");
    hold(&kickoff, text, "get_template data.prerun[]");

    let create = json!({
        "title": "New Client Onboarding Template",
        "type": "procedure",
        "summary": "Standard procedure for onboarding new clients.",
        "guidance": "Start with the contract.",
        "icon": "fa-handshake",
    });
    let sent = p.json("create_template", &[], "", Some(create), 201).await;
    let created = sent["data"]["id"].as_str().unwrap().to_string();
    hold(&template, &sent["data"], "create_template data");
    let change = json!({"title": "Updated via the fidelity test", "guidance": "New guidance."});
    let sent = p
        .json("update_template", &[&created], "", Some(change), 200)
        .await;
    hold(&template, &sent["data"], "update_template data");

    // Archiving and deleting answer the documented body exactly.
    let sent = p.json("archive_template", &[&created], "", None, 200).await;
    assert_eq!(sent, corpus("archive_template.200.json"));
    let sent = p
        .json("permanently_delete_template", &[&created], "", None, 200)
        .await;
    assert_eq!(sent, corpus("permanently_delete_template.200.json"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The fake's activity events have the keys and JSON types of `list_activity.200.json`'s
/// item exactly (its `audit` and `parent` show `{"data": { }}`, a placeholder for any
/// object), and a process's feed tells its story: launched, tasks completed, the process
/// completed, a task reopened, newest first.
#[tokio::test]
async fn the_fake_activity_has_the_corpus_shape_and_tells_what_happened() {
    let fake = FakeServer::builder().processes(10).start().await.unwrap();
    let p = Probe::new(&fake);
    let template = template_with_required_field(&fake);
    let got = p.json("get_template", &[&template.id], "", None, 200).await;
    let launch = json!({"checklist_id": template.id, "prerun": kickoff_values(&got["data"])});
    let run = p.json("launch_process", &[], "", Some(launch), 201).await;
    let run = run["data"]["id"].as_str().unwrap().to_string();
    let tasks = fake.process_tasks(&run);
    for task in &tasks {
        let done = json!({"task_id": task.id});
        p.json("complete_process_task", &[&run], "", Some(done), 200)
            .await;
    }
    p.json("reopen_process_task", &[&run, &tasks[0].id], "", None, 200)
        .await;

    let query = format!("?entity_type=run&entity_id={run}&per_page=100");
    let feed = p.json("list_activity", &[], &query, None, 200).await;
    let events = feed["data"].as_array().unwrap();
    let expected = shape(&corpus("list_activity.200.json")["data"][0]);
    let mut problems = Vec::new();
    for (n, event) in events.iter().enumerate() {
        problems.extend(differences(
            &expected,
            &shape(event),
            &format!("list_activity data[{n}]"),
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let story: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["verb"][0].as_str().unwrap(),
                e["type"][0].as_str().unwrap(),
            )
        })
        .collect();
    let mut expected = vec![("re-opened", "Task"), ("completed", "Process")];
    expected.extend(std::iter::repeat_n(("completed", "Task"), tasks.len()));
    expected.push(("created", "Process"));
    assert_eq!(story, expected);
    assert!(
        events
            .windows(2)
            .all(|w| w[0]["id"].as_i64() > w[1]["id"].as_i64())
    );
}

/// The fake's member, guest, group and tag objects have the corpus's keys with the
/// corpus's JSON types.
///
/// - A member is one object in every answer: every field of the list item, the get
///   example and the update example (less the `with=` relationships, held apart to their
///   own examples); an invited member adds `invited_by` and `approved_at` and is `null`
///   where `invite_member.200.json` is. The role and remove examples are cut short (4 to
///   6 fields): their answers are held to the whole member.
/// - The seeded guests mirror the examples: the first is held to the listed one, the
///   second to the one fetched, the third to the one updated. A listed guest's `stats`
///   keys are the corpus's; the fake sends `null` for a completion date when there was
///   none (the corpus shows a date), so `stats` is compared by keys only.
/// - Groups and tags: each answer to its own operation's example (`get_group` to the list
///   item, its own example listing member IDs as strings, every other as integers).
#[tokio::test]
async fn the_fake_member_guest_group_and_tag_objects_have_the_corpus_keys_and_types() {
    let fake = FakeServer::builder().processes(10).start().await.unwrap();
    let p = Probe::new(&fake);
    let mut problems = Vec::new();
    let mut hold = |expected: &Value, sent: &Value, at: &str| {
        problems.extend(differences(expected, &shape(sent), at));
    };
    let without = |mut value: Value, keys: &[&str]| {
        for key in keys {
            value.as_object_mut().unwrap().remove(*key);
        }
        value
    };

    // Members.
    let listed = corpus("list_members.200.json")["data"][0].clone();
    let got = corpus("get_member.200.json")["data"].clone();
    let member = union(
        &union(
            &shape(&without(listed.clone(), &["groups"])),
            &shape(&without(got.clone(), &["stats", "groups"])),
        ),
        &shape(&corpus("update_member.200.json")["data"]),
    );
    let page = p.json("list_members", &[], "?with=groups", None, 200).await;
    let item = &page["data"][0];
    hold(
        &member,
        &without(item.clone(), &["groups"]),
        "list_members data[]",
    );
    hold(
        &shape(&listed["groups"]),
        &item["groups"],
        "list_members data[].groups",
    );
    let group = &item["groups"]["data"][0];
    hold(
        &shape(&listed["groups"]["data"][0]),
        group,
        "list_members data[].groups.data[]",
    );
    let sent = p
        .json("get_member", &["1003"], "?with=stats,groups", None, 200)
        .await;
    hold(
        &member,
        &without(sent["data"].clone(), &["stats", "groups"]),
        "get_member data",
    );
    hold(
        &shape(&got["stats"]),
        &sent["data"]["stats"],
        "get_member data.stats",
    );
    let invite = json!({"email": "charlie.brown@example.com", "first_name": "Charlie",
        "last_name": "Brown", "role": "standard", "message": "Welcome aboard"});
    let sent = p.json("invite_member", &[], "", Some(invite), 200).await;
    let mut invited = member.clone();
    for (key, value) in shape(&corpus("invite_member.200.json")["data"])
        .as_object()
        .unwrap()
    {
        invited[key] = value.clone();
    }
    hold(&invited, &sent["data"], "invite_member data");
    let profile = json!({"first_name": "Alicia", "last_name": "Smith-Jones",
        "timezone": "America/New_York", "job_title": "Project Lead"});
    let sent = p
        .json("update_member", &["1003"], "", Some(profile), 200)
        .await;
    hold(&member, &sent["data"], "update_member data");
    let sent = p
        .json(
            "update_member_role",
            &["1003"],
            "",
            Some(json!({"role": "light"})),
            200,
        )
        .await;
    hold(&member, &sent["data"], "update_member_role data");
    assert_eq!(sent["data"]["role"], "light");
    let sent = p.json("remove_member", &["1003"], "", None, 200).await;
    hold(&member, &sent["data"], "remove_member data");
    assert_eq!(sent["data"]["status"], "disabled");

    // Guests.
    let mut listed = shape(&corpus("list_guests.200.json")["data"][0]);
    let stats_keys: BTreeSet<String> = listed["stats"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    listed["stats"] = json!("object");
    let page = p
        .json("list_guests", &[], "?with=stats&per_page=50", None, 200)
        .await;
    let first = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["email"] == "client+ops@example.com")
        .expect("the first seeded guest is listed");
    hold(&listed, first, "list_guests data[]");
    let sent_keys: BTreeSet<String> = first["stats"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(sent_keys, stats_keys);
    let sent = p
        .json(
            "get_guest",
            &["jane.doe@acme.example"],
            "?with=stats",
            None,
            201,
        )
        .await;
    hold(
        &shape(&corpus("get_guest.201.json")["data"]),
        &sent["data"],
        "get_guest data",
    );
    let change = json!({"associated_members": [1001, 1002]});
    let sent = p
        .json(
            "update_guest",
            &["partner+billing@globex.example"],
            "",
            Some(change),
            201,
        )
        .await;
    hold(
        &shape(&corpus("update_guest.201.json")["data"]),
        &sent["data"],
        "update_guest data",
    );
    let create = json!({"email": "external.partner@partnerco.com", "first_name": "External",
        "last_name": "Partner", "company_name": "Partner Co"});
    let sent = p.json("create_guest", &[], "", Some(create), 201).await;
    hold(
        &shape(&corpus("create_guest.201.json")["data"]),
        &sent["data"],
        "create_guest data",
    );

    // Groups.
    let listed = shape(&corpus("list_groups.200.json")["data"][0]);
    let page = p.json("list_groups", &[], "", None, 200).await;
    hold(&listed, &page["data"][0], "list_groups data[]");
    assert_eq!(page["meta"]["pagination"]["links"], json!({}));
    let id = page["data"][0]["id"].as_str().unwrap().to_string();
    let sent = p.json("get_group", &[&id], "", None, 200).await;
    hold(&listed, &sent["data"], "get_group data");
    let create = json!({"name": "Onboarding Specialists", "description": "New clients.",
        "members": [1001, 1002], "guests": ["client+ops@example.com"]});
    let sent = p.json("create_group", &[], "", Some(create), 201).await;
    hold(
        &shape(&corpus("create_group.201.json")["data"]),
        &sent["data"],
        "create_group data",
    );
    let change =
        json!({"description": "Updated team description.", "members": [1001], "guests": []});
    let sent = p.json("update_group", &[&id], "", Some(change), 201).await;
    hold(
        &shape(&corpus("update_group.201.json")["data"]),
        &sent["data"],
        "update_group data",
    );

    // Tags.
    let page = p
        .json("list_tags", &[], "?with=statistics", None, 200)
        .await;
    hold(
        &shape(&corpus("list_tags.200.json")["data"][0]),
        &page["data"][0],
        "list_tags data[]",
    );
    assert!(page["meta"]["pagination"].get("links").is_none());
    let tag = fake.tag_ids()[0].clone();
    let sent = p
        .json("get_tag", &[&tag], "?with=statistics", None, 200)
        .await;
    hold(
        &shape(&corpus("get_tag.200.json")["data"]),
        &sent["data"],
        "get_tag data",
    );
    let sent = p
        .json(
            "create_tag",
            &[],
            "",
            Some(json!({"title": "Python Tag", "color": "#f1c40f"})),
            201,
        )
        .await;
    hold(
        &shape(&corpus("create_tag.201.json")["data"]),
        &sent["data"],
        "create_tag data",
    );
    let sent = p
        .json(
            "update_tag",
            &[&tag],
            "",
            Some(json!({"title": "Python Updated Tag"})),
            200,
        )
        .await;
    hold(
        &shape(&corpus("update_tag.200.json")["data"]),
        &sent["data"],
        "update_tag data",
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
