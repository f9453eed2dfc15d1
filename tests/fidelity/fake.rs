//! The fake cannot drift from the spec: every answer it gives, in every scenario below,
//! has a status the spec documents for that operation and a body that validates against
//! the documented schema.

use tallyfy::reqwest;
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
