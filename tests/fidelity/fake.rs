//! The fake cannot drift from the spec or from what Tallyfy sends:
//!
//! - every answer it gives, in every scenario below, has a status the spec documents for
//!   that operation and a body that validates against the documented schema;
//! - its process object has the keys, with the JSON types, of the corpus's process
//!   objects (`tests/fixtures/tallyfy-docs/`), and its error bodies are the corpus's;
//! - it lets in any named `X-Tallyfy-Client`, as Tallyfy does.

use std::path::Path;

use serde_json::{Map, Value, json};
use tallyfy::reqwest::{self, Method};
use tallyfy_fake::{FakeServer, Faults};

use crate::schema::{check, spec};

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
        let op = tallyfy::Operation::find(id).unwrap();
        let mut path = op.path.replace("{org_id}", &self.org);
        for value in ids {
            let start = path.find('{').unwrap();
            let end = path[start..].find('}').unwrap() + start;
            path.replace_range(start..=end, value);
        }
        let method = Method::from_bytes(op.method.as_bytes()).unwrap();
        let path = format!("{path}{query}");
        self.request(method, &path, Some("APIClient"), token).await
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
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("accept", "application/json");
        if let Some(client) = client {
            request = request.header("x-tallyfy-client", client);
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
}

/// The corpus's example answer in `file`.
fn corpus(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/tallyfy-docs")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn every_answer_of_the_fake_matches_the_spec() {
    let spec = spec();
    let fake = FakeServer::builder().processes(40).start().await.unwrap();
    let p = Probe::new(&fake);
    let admin = p.token.clone();
    let member = fake.member_token().to_string();
    let archived = fake.archived_process_ids();
    let active = fake.active_process_ids();
    let one_off: Vec<String> = fake
        .tasks()
        .into_iter()
        .filter(|t| t.run_id.is_none())
        .map(|t| t.id)
        .collect();
    let tag = fake.tag_ids()[0].clone();

    let scenarios: Vec<(&str, Vec<&str>, &str, &str, u16)> = vec![
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
    let mut problems = Vec::new();
    for (id, ids, query, token, expected) in scenarios {
        let (status, body) = p.send(id, &ids, query, token).await;
        if status != expected {
            problems.push(format!(
                "{id} {ids:?} {query}: expected {expected}, got {status}: {body}"
            ));
        }
        problems.extend(check(&spec, id, status, &body));
    }

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
/// answers of all four operations that send one.
///
/// Which corpus object each answer is held to:
/// - list: `list_processes.200.json`'s first item, exactly;
/// - get, archive, activate: every field of that item or of `get_process.200.json` (less
///   the relationships `checklist`, `tasks`, `tags`, sent only on request with `with=`),
///   with the type either shows. Tallyfy's get, archive and activate examples are visibly
///   cut short (archive and activate show 7 to 10 fields, `{ }` placeholders, `"user_id"`
///   for an integer); the list item and the get example are the two full ones, and they
///   agree where they overlap. The fake sends one process object for all four.
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
        (Method::POST, format!("/organizations/{org}/runs")),
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
