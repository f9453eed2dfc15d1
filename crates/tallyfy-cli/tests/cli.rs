//! The `tallyfy` binary, run as a subprocess against the fake server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};

use tallyfy_fake::{FakeServer, Fault};

/// Runs `tallyfy args` with these environment variables (`None`: unset); returns the
/// exit code, stdout and stderr.
fn run(args: &[&str], env: &[(&str, Option<&str>)]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tallyfy"));
    command.args(args).stdin(Stdio::null());
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let output = command.output().expect("the binary runs");
    let text = |b: Vec<u8>| String::from_utf8(b).expect("UTF-8 output");
    (
        output.status.code().unwrap_or(-1),
        text(output.stdout),
        text(output.stderr),
    )
}

/// Runs `tallyfy args` against `fake` with `token`.
fn tallyfy(fake: &FakeServer, token: &str, args: &[&str]) -> (i32, String, String) {
    let env = [
        ("TALLYFY_BASE_URL", Some(fake.base_url())),
        ("TALLYFY_TOKEN", Some(token)),
        ("TALLYFY_ORG", Some(fake.org_id())),
    ];
    run(args, &env)
}

/// `processes purge` of everything archived (before 2030), to which a test adds flags.
fn purge_all<'a>(flags: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["processes", "purge", "--archived-before", "2030-01-01"];
    args.extend_from_slice(flags);
    args
}

/// The ID of a task of the fake that belongs to no process.
fn standalone_task(fake: &FakeServer) -> String {
    fake.tasks()
        .into_iter()
        .find(|t| t.run_id.is_none())
        .expect("the fake has a standalone task")
        .id
}

/// A transcript of `tallyfy args` for a snapshot, with volatile values redacted.
fn transcript(fake: &FakeServer, args: &[&str]) -> (i32, String) {
    let (code, stdout, stderr) = tallyfy(fake, fake.admin_token(), args);
    (
        code,
        format!(
            "$ tallyfy {}\nexit: {code}\n--- stdout\n{stdout}--- stderr\n{stderr}",
            args.join(" ")
        ),
    )
}

macro_rules! snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({
            filters => vec![
                (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[time]"),
                (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
            ],
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lifecycle_of_a_process() {
    let fake = FakeServer::start().await.unwrap();
    let active = fake.active_process_ids()[0].clone();
    let mut all = String::new();
    let steps: Vec<(Vec<&str>, i32)> = vec![
        (vec!["processes", "list", "--per-page", "4"], 0),
        (vec!["processes", "get", &active], 0),
        (vec!["processes", "delete", &active, "--yes"], 7),
        (vec!["processes", "archive", &active], 0),
        (vec!["processes", "activate", &active], 0),
        (vec!["processes", "archive", &active], 0),
        (vec!["processes", "delete", &active, "--yes"], 0),
        (vec!["processes", "delete", &active, "--yes"], 5),
        (vec!["--output", "json", "processes", "get", &active], 5),
    ];
    for (args, expected) in steps {
        let (code, text) = transcript(&fake, &args);
        assert_eq!(code, expected, "{text}");
        all.push_str(&text);
        all.push('\n');
    }
    assert!(fake.process(&active).is_none());
    snapshot!("lifecycle", all);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_output_and_flags_after_the_subcommand() {
    let fake = FakeServer::start().await.unwrap();
    let (code, stdout, _) = tallyfy(
        &fake,
        fake.admin_token(),
        &[
            "processes",
            "list",
            "--archived",
            "only",
            "--output",
            "json",
            "--per-page",
            "2",
        ],
    );
    assert_eq!(code, 0);
    let page: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    assert!(
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|run| run["archived_at"].is_string())
    );
    assert_eq!(page["meta"]["pagination"]["per_page"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn irreversible_deletes_need_yes_off_a_terminal() {
    let fake = FakeServer::start().await.unwrap();
    let archived = fake.archived_process_ids()[0].clone();
    let tag = fake.tag_ids()[0].clone();
    let task = standalone_task(&fake);
    let before = fake.requests();
    let mut all = String::new();
    for args in [
        vec!["processes", "delete", archived.as_str()],
        vec!["tasks", "delete", &task],
        vec!["tags", "delete", &tag],
        purge_all(&[]),
    ] {
        let (code, text) = transcript(&fake, &args);
        assert_eq!(code, 2, "{text}");
        all.push_str(&text);
    }
    assert_eq!(fake.requests(), before, "nothing was sent");
    assert!(fake.process(&archived).is_some());
    snapshot!("refused_without_yes", all);
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_and_tags() {
    let fake = FakeServer::start().await.unwrap();
    let task = standalone_task(&fake);
    let tag = fake.tag_ids()[0].clone();
    let mut all = String::new();
    for (args, expected) in [
        (vec!["tasks", "archive", task.as_str()], 0),
        (vec!["tasks", "restore", &task], 0),
        (vec!["tasks", "delete", &task, "--yes"], 0),
        (vec!["tasks", "archive", &task], 5),
        (vec!["tags", "delete", &tag, "--yes", "--output", "json"], 0),
        (vec!["tags", "delete", &tag, "--yes"], 0),
    ] {
        let (code, text) = transcript(&fake, &args);
        assert_eq!(code, expected, "{text}");
        all.push_str(&text);
    }
    assert!(fake.task(&task).is_none());
    assert!(!fake.tag_ids().contains(&tag));
    snapshot!("tasks_and_tags", all);
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_by_kind() {
    let fake = FakeServer::start().await.unwrap();
    let archived = fake.archived_process_ids()[0].clone();
    let cases: Vec<(&str, Vec<&str>, i32, &str)> = vec![
        ("wrong-token", vec!["processes", "list"], 3, "unauthorized"),
        (
            fake.member_token(),
            vec!["processes", "delete", &archived, "--yes"],
            3,
            "forbidden",
        ),
        (
            fake.admin_token(),
            vec!["processes", "get", " "],
            2,
            "invalid_input",
        ),
        (
            fake.admin_token(),
            vec!["processes", "list", "--sort", "colour"],
            7,
            "unprocessable",
        ),
    ];
    for (token, mut args, expected, kind) in cases {
        args.extend(["--output", "json"]);
        let (code, stdout, _) = tallyfy(&fake, token, &args);
        assert_eq!(code, expected, "{args:?}: {stdout}");
        let error: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(error["kind"], kind);
        assert!(
            error.get("status").is_some()
                && error.get("request_id").is_some()
                && error["message"].is_string()
        );
    }

    fake.inject(Fault::RateLimited {
        retry_after_secs: 3600,
    });
    let (code, stdout, _) = tallyfy(
        &fake,
        fake.admin_token(),
        &["processes", "list", "--output", "json"],
    );
    assert_eq!(code, 6, "{stdout}");
    let error: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(error["retry_after_seconds"], 3600);

    let (code, _, stderr) = run(
        &["processes", "list"],
        &[("TALLYFY_TOKEN", None), ("TALLYFY_ORG", Some("x"))],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("missing --token"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_that_finds_its_earlier_attempt_landed_is_already_gone() {
    let fake = FakeServer::start().await.unwrap();
    let archived = fake.archived_process_ids()[0].clone();
    fake.inject(Fault::ServerError {
        status: 504,
        after_applying: true,
    });
    let (code, text) = transcript(
        &fake,
        &[
            "processes",
            "delete",
            &archived,
            "--yes",
            "--output",
            "json",
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(r#""outcome":"already_gone""#), "{text}");
    fake.inject(Fault::ServerError {
        status: 504,
        after_applying: true,
    });
    let other = fake.archived_process_ids()[0].clone();
    let (code, human) = transcript(&fake, &["processes", "delete", &other, "--yes"]);
    assert_eq!(code, 0, "{human}");
    snapshot!("already_gone", format!("{text}\n{human}"));
}

#[test]
fn the_demo_walks_the_lifecycle() {
    let (code, stdout, _) = run(&["demo"], &[]);
    assert_eq!(code, 0);
    for needle in [
        "unprocessable",
        "processes launch --template",
        "tasks complete",
        "status        complete",
        "Permanently delete an archived process: done",
        "not_found",
        "exit code 7",
        "exit code 5",
    ] {
        assert!(stdout.contains(needle), "{needle} missing:\n{stdout}");
    }
    snapshot!("demo", stdout);
}

#[test]
fn fake_runs_any_command_without_setup() {
    let args = ["processes", "list", "--fake", "--per-page", "2"];
    let (code, stdout, stderr) = run(&args, &[("TALLYFY_TOKEN", None), ("TALLYFY_ORG", None)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Page 1 of"));
}

#[tokio::test(flavor = "multi_thread")]
async fn purge_prints_one_json_line_per_process_and_resumes_from_its_journal() {
    let fake = FakeServer::builder().processes(120).start().await.unwrap();
    let archived: std::collections::BTreeSet<String> =
        fake.archived_process_ids().into_iter().collect();
    let journal =
        std::env::temp_dir().join(format!("tallyfy-cli-purge-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&journal);
    let journal_arg = journal.to_str().unwrap();

    let (code, dry, _) = tallyfy(&fake, fake.admin_token(), &purge_all(&["--dry-run"]));
    assert_eq!(code, 0);
    assert_eq!(
        fake.archived_process_ids().len(),
        archived.len(),
        "a dry run deletes nothing"
    );
    assert!(
        dry.contains(&format!("{} would be deleted", archived.len())),
        "{dry}"
    );

    let args = purge_all(&[
        "--yes",
        "--journal",
        journal_arg,
        "--output",
        "json",
        "--concurrency",
        "4",
    ]);
    let (code, stdout, stderr) = tallyfy(&fake, fake.admin_token(), &args);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (summary, outcomes) = lines.split_last().unwrap();
    let ids: std::collections::BTreeSet<String> = outcomes
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, archived);
    assert_eq!(outcomes.len(), archived.len(), "one line per process");
    assert!(outcomes.iter().all(|l| l["outcome"] == "deleted"));
    assert_eq!(summary["summary"]["deleted"], archived.len());
    assert!(fake.archived_process_ids().is_empty());

    // Again with the journal: nothing left to do, the whole job reported.
    let (code, human, _) = tallyfy(
        &fake,
        fake.admin_token(),
        &purge_all(&["--yes", "--journal", journal_arg]),
    );
    assert_eq!(code, 0);
    assert!(
        human.contains(&format!("{n} deleted", n = archived.len()))
            && human.contains("from the journal"),
        "{human}"
    );
    let _ = std::fs::remove_file(&journal);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_purge_killed_midway_resumes_from_its_journal() {
    let faults = tallyfy_fake::Faults {
        latency: std::time::Duration::from_millis(20),
        ..Default::default()
    };
    let fake = FakeServer::builder()
        .processes(200)
        .faults(faults)
        .start()
        .await
        .unwrap();
    let archived: std::collections::BTreeSet<String> =
        fake.archived_process_ids().into_iter().collect();
    let journal =
        std::env::temp_dir().join(format!("tallyfy-cli-kill-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&journal);
    let journal_arg = journal.to_str().unwrap().to_string();
    let args = purge_all(&["--yes", "--concurrency", "4", "--journal", &journal_arg]);

    // Kill -9 once a few outcomes are journaled, deletes in flight.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tallyfy"))
        .args(&args)
        .env("TALLYFY_BASE_URL", fake.base_url())
        .env("TALLYFY_TOKEN", fake.admin_token())
        .env("TALLYFY_ORG", fake.org_id())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let outcomes = |text: &str| text.lines().filter(|l| l.contains("\"outcome\"")).count();
    for _ in 0..500 {
        if outcomes(&std::fs::read_to_string(&journal).unwrap_or_default()) >= 10 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // What a SIGKILL leaves: whole lines only (each entry is one write).
    let killed = std::fs::read_to_string(&journal).unwrap();
    assert!(killed.ends_with('\n'), "a torn last line");
    for line in killed.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "{line:?}"
        );
    }
    let left = fake.archived_process_ids().len();
    assert!(
        left > 0 && left < archived.len(),
        "killed midway: {left} of {} left",
        archived.len()
    );

    let (code, human, stderr) = tallyfy(&fake, fake.admin_token(), &args);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        fake.archived_process_ids().is_empty(),
        "the rerun finished the job"
    );
    assert!(
        human.contains(&format!(
            "{} deleted",
            archived.len() - count_outcome(&journal, "already_gone")
        )),
        "{human}"
    );

    // One final outcome per process across both runs.
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for line in std::fs::read_to_string(&journal).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("no blank or torn line");
        if let (Some(id), Some(_)) = (v["id"].as_str(), v["outcome"].as_str()) {
            *seen.entry(id.to_string()).or_default() += 1;
        }
    }
    assert_eq!(
        seen.keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        archived
    );
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
    let _ = std::fs::remove_file(&journal);
}

fn count_outcome(journal: &std::path::Path, outcome: &str) -> usize {
    let needle = format!("\"outcome\":\"{outcome}\"");
    std::fs::read_to_string(journal)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&needle))
        .count()
}

/// The documented example answers of Tallyfy's API docs (the response corpus): the
/// commands read them, and `--output json` passes them on exactly as they came.
#[test]
fn documented_answers_are_read_and_passed_on_as_they_came() {
    let corpus =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tallyfy-docs");
    let server = httpmock::MockServer::start();
    let cases = [
        (
            "GET",
            "/organizations/org/runs",
            "list_processes.200.json",
            vec!["processes", "list"],
        ),
        (
            "GET",
            "/organizations/org/runs/r1",
            "get_process.200.json",
            vec!["processes", "get", "r1"],
        ),
        (
            "DELETE",
            "/organizations/org/runs/r1",
            "archive_process.200.json",
            vec!["processes", "archive", "r1"],
        ),
        (
            "PUT",
            "/organizations/org/runs/r1/activate",
            "activate_process.200.json",
            vec!["processes", "activate", "r1"],
        ),
    ];
    for (method, path, file, args) in cases {
        let body = std::fs::read_to_string(corpus.join(file)).unwrap();
        // A field no spec names yet must come through too.
        let body = body.replacen('{', "{\"added_later\": {\"x\": [1, null]},", 1);
        let mut mock = server.mock(|when, then| {
            when.method(method).path(path);
            then.status(200)
                .header("content-type", "application/json")
                .body(&body);
        });
        let env = [
            ("TALLYFY_BASE_URL", Some(server.base_url())),
            ("TALLYFY_TOKEN", Some("t0ken".to_string())),
            ("TALLYFY_ORG", Some("org".to_string())),
        ];
        let env: Vec<(&str, Option<&str>)> = env.iter().map(|(k, v)| (*k, v.as_deref())).collect();

        let (code, stdout, stderr) = run(&args, &env);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(!stdout.trim().is_empty());

        let mut json_args = args.clone();
        json_args.extend(["--output", "json"]);
        let (code, stdout, stderr) = run(&json_args, &env);
        assert_eq!(code, 0, "{json_args:?}: {stderr}");
        assert_eq!(
            stdout.trim(),
            body.trim(),
            "{json_args:?}: the payload changed on the way"
        );
        mock.delete();
    }
}

/// `tallyfy processes list --per-page 100 | head -1`: the reader goes away before the
/// output is written; the command ends quietly instead of panicking.
#[tokio::test(flavor = "multi_thread")]
async fn output_into_a_closed_pipe_ends_quietly() {
    let fake = FakeServer::builder().processes(1000).start().await.unwrap();
    for output in ["human", "json"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tallyfy"))
            .args(["processes", "list", "--per-page", "100", "--output", output])
            .env("TALLYFY_BASE_URL", fake.base_url())
            .env("TALLYFY_TOKEN", fake.admin_token())
            .env("TALLYFY_ORG", fake.org_id())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end at once, as `head` does once it has its line.
        drop(child.stdout.take());
        let result = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(0), "{output}: {stderr}");
        assert!(stderr.is_empty(), "{output}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_journal_that_cannot_be_written_exits_1_naming_the_file() {
    let fake = FakeServer::builder().processes(20).start().await.unwrap();
    let journal = std::env::temp_dir()
        .join(format!("tallyfy-no-such-dir-{}", std::process::id()))
        .join("j.jsonl");
    let journal = journal.to_str().unwrap();
    let (code, _, stderr) = tallyfy(
        &fake,
        fake.admin_token(),
        &purge_all(&["--yes", "--journal", journal]),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(journal), "{stderr}");
    assert!(
        !fake.archived_process_ids().is_empty(),
        "nothing was deleted"
    );
}

/// The common path by hand: launch from a template with kick-off values by label, list
/// the process's tasks, complete one.
#[tokio::test(flavor = "multi_thread")]
async fn launch_by_label_list_the_tasks_and_complete_one() {
    let fake = FakeServer::builder().processes(10).start().await.unwrap();
    let template = fake
        .active_template_ids()
        .iter()
        .filter_map(|id| fake.template(id))
        .find(|t| !t.prerun.is_empty())
        .expect("a template with a kick-off form");
    let id = template.id.clone();
    let mut args = vec![
        "processes".to_string(),
        "launch".into(),
        "--template".into(),
        id.clone(),
    ];
    for field in &template.prerun {
        args.extend(["--kickoff".into(), format!("{}=Acme", field.label)]);
    }
    args.extend(["--output".into(), "json".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = tallyfy(&fake, fake.admin_token(), &args);
    assert_eq!(code, 0, "{stderr}");
    let launched: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let run = launched["data"]["id"].as_str().unwrap().to_owned();
    for field in &template.prerun {
        assert_eq!(
            launched["data"]["prerun"][&field.id], "Acme",
            "keyed by timeline ID"
        );
    }

    let (code, stdout, stderr) = tallyfy(
        &fake,
        fake.admin_token(),
        &["tasks", "list", "--process", &run],
    );
    assert_eq!(code, 0, "{stderr}");
    let tasks = fake.process_tasks(&run);
    assert_eq!(stdout.lines().count(), tasks.len() + 1, "{stdout}");
    let first = tasks[0].id.clone();
    let (code, stdout, stderr) = tallyfy(
        &fake,
        fake.admin_token(),
        &["tasks", "complete", &first, "--process", &run],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("completed"), "{stdout}");

    let (code, _, stderr) = tallyfy(
        &fake,
        fake.admin_token(),
        &[
            "processes",
            "launch",
            "--template",
            &id,
            "--kickoff",
            "No such field=1",
        ],
    );
    assert_eq!(code, 2, "an unknown label is refused before sending");
    assert!(stderr.contains("no such kick-off field"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn files_upload_download_view_and_delete() {
    let fake = FakeServer::builder()
        .upload_limit(64 * 1024)
        .start()
        .await
        .unwrap();
    let run_id = fake.active_process_ids()[0].clone();
    let task = fake.process_tasks(&run_id)[0].id.clone();
    let dir = std::env::temp_dir().join(format!("tallyfy-cli-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let notes = dir.join("notes.txt");
    let content: String = (0..2_000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&notes, &content).unwrap();
    let admin = fake.admin_token();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    // `files upload FILE --process .. --task ..`, then `more` flags.
    let upload = |file: &str, more: &[&str]| {
        let mut args = vec![
            "files",
            "upload",
            file,
            "--process",
            &run_id,
            "--task",
            &task,
        ];
        args.extend_from_slice(more);
        tallyfy(&fake, admin, &args)
    };
    let to_field = ["--field", "capture_1"];

    // The fake's tasks list no form fields: the field is named by its ID.
    let (code, _, stderr) = upload(&path("notes.txt"), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--field"), "{stderr}");

    let (code, stdout, stderr) = upload(
        &path("notes.txt"),
        &["--field", "capture_1", "--output", "json"],
    );
    assert_eq!(code, 0, "{stderr}");
    let uploaded: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(uploaded["outcome"], "uploaded");
    assert_eq!(uploaded["asset"]["filename"], "notes.txt");
    assert_eq!(uploaded["asset"]["subject"]["id"], run_id.as_str());
    let asset = uploaded["asset"]["id"].as_str().unwrap().to_owned();

    // Attached to the field, beside what it held: a second upload keeps the first.
    let (code, _, stderr) = upload(&path("notes.txt"), &to_field);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = tallyfy(
        &fake,
        admin,
        &[
            "--output",
            "json",
            "tasks",
            "get",
            &task,
            "--process",
            &run_id,
        ],
    );
    assert_eq!(code, 0);
    let read: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let attached = read["data"]["taskdata"]["capture_1"].as_array().unwrap();
    assert_eq!(attached.len(), 2, "{attached:?}");
    assert_eq!(attached[0]["id"], asset.as_str());

    let (code, stdout, stderr) = tallyfy(
        &fake,
        admin,
        &["files", "download", &asset, "-o", &path("back.txt")],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("Saved {} bytes", content.len())),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(path("back.txt")).unwrap(), content);

    let (code, stdout, stderr) = tallyfy(&fake, admin, &["files", "view", &asset, "-o", "-"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, content, "standard output holds the file alone");
    assert!(stderr.contains("Saved"), "{stderr}");

    let (code, stdout, _) = tallyfy(&fake, admin, &["files", "info", &asset]);
    assert_eq!(code, 0);
    assert!(stdout.contains("notes.txt"), "{stdout}");

    let (code, _, stderr) = tallyfy(&fake, admin, &["files", "delete", &asset, "--yes"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, _) = tallyfy(
        &fake,
        admin,
        &["files", "download", &asset, "-o", &path("gone.txt")],
    );
    assert_eq!(code, 5);
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("gone.txt"))
        .collect();
    assert!(
        left.is_empty(),
        "nothing of a failed download is left: {left:?}"
    );

    // Beyond the fake's limit: 413, a client error.
    std::fs::write(path("big.txt"), vec![b'x'; 65 * 1024]).unwrap();
    let (code, _, stderr) = upload(&path("big.txt"), &to_field);
    assert_eq!(code, 7, "{stderr}");
    assert!(stderr.contains("413"), "{stderr}");

    // A file that is not there: nothing is sent.
    let (code, _, stderr) = upload(&path("missing.pdf"), &to_field);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("missing.pdf"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
