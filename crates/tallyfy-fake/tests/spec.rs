//! The fake cannot drift from the spec: every answer it gives, in every scenario below,
//! has a status the spec documents for that operation and a body that validates against
//! the documented schema.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, StatusCode, Type};
use serde_json::Value;
use tallyfy::reqwest;
use tallyfy_fake::{FakeServer, Faults};

fn spec() -> OpenAPI {
    let text = include_str!("../../../openapi/tallyfy.yaml");
    serde_yaml::from_str(text).expect("the spec parses")
}

/// Checks `value` against `schema`; every mismatch is pushed to `errors` with its path.
fn validate(
    spec: &OpenAPI,
    schema: &ReferenceOr<Schema>,
    value: &Value,
    at: &str,
    errors: &mut Vec<String>,
) {
    let schema = match schema {
        ReferenceOr::Item(schema) => schema,
        ReferenceOr::Reference { reference } => {
            let name = reference.trim_start_matches("#/components/schemas/");
            let components = spec.components.as_ref().expect("components");
            return validate(spec, &components.schemas[name], value, at, errors);
        }
    };
    if value.is_null() {
        if !schema.schema_data.nullable && !matches!(schema.schema_kind, SchemaKind::Any(_)) {
            errors.push(format!("{at}: null where the spec does not allow it"));
        }
        return;
    }
    let mut mismatch =
        |expected: &str| errors.push(format!("{at}: expected {expected}, got {value}"));
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(_)) if !value.is_string() => mismatch("a string"),
        SchemaKind::Type(Type::Integer(_)) if !(value.is_i64() || value.is_u64()) => {
            mismatch("an integer")
        }
        SchemaKind::Type(Type::Number(_)) if !value.is_number() => mismatch("a number"),
        SchemaKind::Type(Type::Boolean(_)) if !value.is_boolean() => mismatch("a boolean"),
        SchemaKind::Type(Type::Object(object)) => {
            let Some(map) = value.as_object() else {
                return mismatch("an object");
            };
            for required in &object.required {
                if !map.contains_key(required) {
                    errors.push(format!("{at}.{required}: required but missing"));
                }
            }
            for (key, item) in map {
                match (object.properties.get(key), &object.additional_properties) {
                    (Some(property), _) => validate(
                        spec,
                        &property.clone().unbox(),
                        item,
                        &format!("{at}.{key}"),
                        errors,
                    ),
                    (None, Some(openapiv3::AdditionalProperties::Schema(extra))) => {
                        validate(spec, extra, item, &format!("{at}.{key}"), errors)
                    }
                    // Unknown fields are allowed: clients must ignore them.
                    (None, _) => {}
                }
            }
        }
        SchemaKind::Type(Type::Array(array)) => {
            let Some(items) = value.as_array() else {
                return mismatch("an array");
            };
            if array.max_items.is_some_and(|max| items.len() > max) {
                mismatch("fewer items");
            }
            if let Some(schema) = &array.items {
                for (n, item) in items.iter().enumerate() {
                    validate(
                        spec,
                        &schema.clone().unbox(),
                        item,
                        &format!("{at}[{n}]"),
                        errors,
                    );
                }
            }
        }
        SchemaKind::OneOf { one_of } => {
            let matching = one_of
                .iter()
                .filter(|option| {
                    let mut sub = Vec::new();
                    validate(spec, option, value, at, &mut sub);
                    sub.is_empty()
                })
                .count();
            if matching != 1 {
                mismatch(&format!(
                    "exactly one of {} shapes ({matching} match)",
                    one_of.len()
                ));
            }
        }
        SchemaKind::Any(_) | SchemaKind::Type(_) => {}
        other => errors.push(format!("{at}: the validator does not know {other:?}")),
    }
}

/// Validates an answer of `operation_id` against the spec; returns the problems.
fn check(spec: &OpenAPI, operation_id: &str, status: u16, body: &str) -> Vec<String> {
    let op = tallyfy::Operation::find(operation_id).unwrap();
    let item = spec.paths.paths[op.path].as_item().unwrap();
    let operation = item
        .iter()
        .find(|(_, o)| o.operation_id.as_deref() == Some(operation_id))
        .unwrap()
        .1;
    let responses = &operation.responses.responses;
    let Some(response) = responses
        .get(&StatusCode::Code(status))
        .or_else(|| responses.get(&StatusCode::Range(status / 100)))
    else {
        return vec![format!("{operation_id}: status {status} is not documented")];
    };
    let response = match response {
        ReferenceOr::Item(r) => r,
        ReferenceOr::Reference { reference } => {
            let name = reference.trim_start_matches("#/components/responses/");
            spec.components.as_ref().unwrap().responses[name]
                .as_item()
                .unwrap()
        }
    };
    let mut errors = Vec::new();
    match response
        .content
        .get("application/json")
        .and_then(|m| m.schema.as_ref())
    {
        None if body.is_empty() => {}
        None => errors.push(format!(
            "{operation_id} {status}: a body where none is documented: {body}"
        )),
        Some(schema) => match serde_json::from_str::<Value>(body) {
            Ok(value) => validate(
                spec,
                schema,
                &value,
                &format!("{operation_id} {status} body"),
                &mut errors,
            ),
            Err(e) => errors.push(format!("{operation_id} {status}: not JSON ({e}): {body}")),
        },
    }
    errors
}

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
        let method = reqwest::Method::from_bytes(op.method.as_bytes()).unwrap();
        let response = self
            .http
            .request(method, format!("{}{path}{query}", self.base))
            .bearer_auth(token)
            .header("x-tallyfy-client", "APIClient")
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
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
