//! Files on the fake: uploaded as multipart forms (as `requests/upload_file.md` lists
//! their fields), kept whole, viewed and downloaded whole or from a byte on, their asset
//! read and archived, deleted for good. Every answer is held to the spec; the asset to
//! the corpus's shape.

use serde_json::{Value, json};
use tallyfy::reqwest::header::{self, HeaderMap};
use tallyfy::reqwest::multipart::{Form, Part};
use tallyfy_fake::FakeServer;

use super::{Exercise, Probe, corpus, differences, shape};

/// The upload limit of the fakes that refuse a file too large: small, so that passing it
/// is cheap.
const LIMIT: u64 = 64 * 1024;

/// The capture (timeline) ID, step ID and template ID of `requests/upload_file.md`.
const CAPTURE_ID: &str = "021136480280ee5369cb093e110d1918";
const STEP_ID: &str = "efe67f3a1e8163ac856a2565f87ac74d";
const CHECKLIST_ID: &str = "23613282a1140bbc0fd789ee6950d21f";

/// An answer as it came.
struct Answer {
    status: u16,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    /// Header `name`, or `""`.
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl Probe {
    /// Sends operation `id` with `ids` for its path parameters, `Range: range` if any and
    /// `form` as its multipart body if any.
    async fn file_call(
        &self,
        id: &str,
        ids: &[&str],
        token: &str,
        range: Option<&str>,
        form: Option<Form>,
    ) -> Answer {
        let (method, path) = self.route(id, ids);
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("accept", "application/json")
            .header("x-tallyfy-client", "APIClient");
        if let Some(range) = range {
            request = request.header(header::RANGE, range);
        }
        if let Some(form) = form {
            request = request.multipart(form);
        }
        let response = request.send().await.unwrap();
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            bytes: response.bytes().await.unwrap().to_vec(),
        }
    }
}

impl Exercise<'_> {
    /// [`Probe::file_call`]; the answer must be `expected` and match the spec.
    async fn file(
        &mut self,
        id: &str,
        ids: &[&str],
        token: &str,
        range: Option<&str>,
        form: Option<Form>,
        expected: u16,
    ) -> Answer {
        let answer = self.probe.file_call(id, ids, token, range, form).await;
        let what = format!("{id} {ids:?} range {range:?}");
        self.record(id, &what, expected, answer.status, &answer.text());
        answer
    }
}

/// `len` bytes that are not all alike.
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 251) as u8).collect()
}

/// The file part, `name`, as a browser or an SDK sends it.
fn file_part(filename: &str, bytes: Vec<u8>) -> Part {
    Part::bytes(bytes).file_name(filename.to_string())
}

/// A task field's upload (`upload_file.md`, first column): the file first, as the
/// documented samples append it, then the text fields.
fn task_form(run: &str, filename: &str, bytes: Vec<u8>) -> Form {
    Form::new()
        .part("name", file_part(filename, bytes))
        .text("subject_id", run.to_string())
        .text("subject_type", "Run")
        .text("uploaded_from", CAPTURE_ID)
        .text("source", "local")
        .text("step_id", STEP_ID)
        .text("checklist_id", CHECKLIST_ID)
}

/// A kick-off field's upload (`upload_file.md`, second column): the text fields first.
fn kickoff_form(template: &str, filename: &str, bytes: Vec<u8>) -> Form {
    Form::new()
        .text("subject_id", template.to_string())
        .text("subject_type", "Checklist")
        .text("uploaded_from", "ko_field")
        .text("source", "local")
        .part("name", file_part(filename, bytes))
}

/// The six file operations: each success and its refusals, as an administrator and as a
/// member (who uploads, reads and archives, but does not delete for good).
pub(super) async fn exercise_files(x: &mut Exercise<'_>, fake: &FakeServer, member: &str) {
    let admin = x.probe.token.clone();
    let run = fake.active_process_ids()[0].clone();
    let template = fake.active_template_ids()[0].clone();

    // The seeded file: read with no upload first.
    let seeded = fake.file_ids()[0].clone();
    x.file("get_asset", &[&seeded], &admin, None, None, 200)
        .await;
    x.file("get_file", &[&seeded], member, None, None, 200)
        .await;

    // Uploads: a task's field as the administrator, a kick-off field as a member.
    let form = task_form(&run, "document.pdf", content(3000));
    let uploaded = x
        .file("upload_file", &[], &admin, None, Some(form), 200)
        .await
        .json();
    let asset = uploaded["data"]["id"]
        .as_str()
        .unwrap_or("missing")
        .to_string();
    let asset = asset.as_str();
    let form = kickoff_form(&template, "contract.docx", content(10));
    x.file("upload_file", &[], member, None, Some(form), 200)
        .await;
    // Refusals: no fields but the file, an unknown subject, an extension Tallyfy does not
    // take, no form at all, another organization, a file past the limit.
    let only_file = Form::new().part("name", file_part("a.pdf", content(5)));
    x.file("upload_file", &[], &admin, None, Some(only_file), 422)
        .await;
    let unknown = task_form("0000", "a.pdf", content(5));
    x.file("upload_file", &[], &admin, None, Some(unknown), 422)
        .await;
    let program = task_form(&run, "tool.exe", content(5));
    x.file("upload_file", &[], &admin, None, Some(program), 422)
        .await;
    let json_body = json!({"subject_id": run, "subject_type": "Run", "uploaded_from": "ko_field"});
    x.admin("upload_file", &[], "", Some(json_body), 422).await;
    let elsewhere = Probe {
        org: "someone-else".into(),
        ..Probe::new(fake)
    };
    let form = task_form(&run, "a.pdf", content(5));
    let answer = elsewhere
        .file_call("upload_file", &[], &admin, None, Some(form))
        .await;
    x.record(
        "upload_file",
        "upload_file in another organization",
        403,
        answer.status,
        &answer.text(),
    );
    let small = FakeServer::builder()
        .processes(10)
        .upload_limit(LIMIT)
        .start()
        .await
        .unwrap();
    let sp = Probe::new(&small);
    let run_there = small.active_process_ids()[0].clone();
    let form = task_form(&run_there, "big.pdf", content(LIMIT as usize + 1));
    let answer = sp
        .file_call("upload_file", &[], &sp.token, None, Some(form))
        .await;
    x.record(
        "upload_file",
        "upload_file past the limit",
        413,
        answer.status,
        &answer.text(),
    );

    // The asset.
    x.file("get_asset", &[asset], member, None, None, 200).await;
    x.file("get_asset", &["0000"], &admin, None, None, 404)
        .await;

    // View and download: whole, from a byte on, past the end, unknown.
    for id in ["get_file", "download_file"] {
        x.file(id, &[asset], &admin, None, None, 200).await;
        x.file(id, &[asset], member, Some("bytes=1000-"), None, 206)
            .await;
        x.file(id, &[asset], &admin, Some("bytes=3000-"), None, 416)
            .await;
        x.file(id, &["0000"], &admin, None, None, 404).await;
    }

    // Archive the record: the file stays until it is deleted.
    x.file("archive_asset", &[asset], member, None, None, 200)
        .await;
    x.file("archive_asset", &[asset], &admin, None, None, 404)
        .await;
    x.file("get_asset", &[asset], &admin, None, None, 404).await;
    x.file("get_file", &[asset], &admin, None, None, 200).await;
    x.file("download_file", &[asset], &admin, None, None, 200)
        .await;

    // Delete for good: administrators only; then nothing of it is left.
    x.file("delete_file", &[asset], member, None, None, 403)
        .await;
    x.file("delete_file", &[asset], &admin, None, None, 200)
        .await;
    x.file("delete_file", &[asset], &admin, None, None, 404)
        .await;
    for id in ["get_file", "download_file", "get_asset"] {
        x.file(id, &[asset], &admin, None, None, 404).await;
    }
}

/// What is uploaded is what is viewed and downloaded, byte for byte, with the headers a
/// client saves it by; a range is the rest of the file from its first byte.
#[tokio::test]
async fn the_fake_keeps_a_file_whole_and_serves_it_by_range() {
    let fake = FakeServer::builder()
        .processes(10)
        .upload_limit(LIMIT)
        .start()
        .await
        .unwrap();
    let p = Probe::new(&fake);
    let admin = p.token.clone();
    let run = fake.active_process_ids()[0].clone();
    let sent = content(40_000);
    let form = task_form(&run, "Q1 report.pdf", sent.clone());
    let uploaded = p
        .file_call("upload_file", &[], &admin, None, Some(form))
        .await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.text());
    let data = uploaded.json()["data"].take();
    let id = data["id"].as_str().unwrap();
    assert_eq!(data["filename"], "Q1 report.pdf");
    assert_eq!(data["subject"], json!({"id": run, "type": "Run"}));
    assert_eq!(data["uploaded_from"], CAPTURE_ID);
    assert_eq!(data["step_id"], STEP_ID);
    assert_eq!(fake.file(id).unwrap().content, sent);

    let viewed = p.file_call("get_file", &[id], &admin, None, None).await;
    assert_eq!(viewed.status, 200);
    assert_eq!(viewed.bytes, sent);
    assert_eq!(viewed.header(header::CONTENT_TYPE), "application/pdf");
    assert_eq!(viewed.header(header::CONTENT_LENGTH), "40000");
    assert_eq!(
        viewed.header(header::CONTENT_DISPOSITION),
        "inline; filename=\"Q1 report.pdf\""
    );
    assert_eq!(viewed.header(header::ACCEPT_RANGES), "bytes");

    let downloaded = p
        .file_call("download_file", &[id], &admin, None, None)
        .await;
    assert_eq!(downloaded.status, 200);
    assert_eq!(downloaded.bytes, sent);
    assert_eq!(
        downloaded.header(header::CONTENT_TYPE),
        "application/octet-stream"
    );
    assert_eq!(
        downloaded.header(header::CONTENT_DISPOSITION),
        "attachment; filename=\"Q1 report.pdf\""
    );

    for resume_at in [0, 1, 12_345, 39_999] {
        let range = format!("bytes={resume_at}-");
        let rest = p
            .file_call("download_file", &[id], &admin, Some(&range), None)
            .await;
        assert_eq!(rest.status, 206, "{range}");
        assert_eq!(rest.bytes, sent[resume_at..], "{range}");
        assert_eq!(
            rest.header(header::CONTENT_RANGE),
            format!("bytes {resume_at}-39999/40000")
        );
        assert_eq!(
            rest.header(header::CONTENT_LENGTH),
            (40_000 - resume_at).to_string()
        );
    }
    let past = p
        .file_call("get_file", &[id], &admin, Some("bytes=40000-"), None)
        .await;
    assert_eq!(past.status, 416);
    assert_eq!(past.header(header::CONTENT_RANGE), "bytes */40000");
    assert_eq!(past.json()["code"], "RANGE_NOT_SATISFIABLE");
}

/// A file of exactly the limit is taken; one byte more is refused with 413 in Tallyfy's
/// words, however much more the client goes on sending, and nothing of it is kept.
#[tokio::test]
async fn a_file_past_the_upload_limit_is_refused_with_413() {
    let fake = FakeServer::builder()
        .processes(10)
        .upload_limit(LIMIT)
        .start()
        .await
        .unwrap();
    assert_eq!(fake.upload_limit(), LIMIT);
    let p = Probe::new(&fake);
    let admin = p.token.clone();
    let run = fake.active_process_ids()[0].clone();
    let before = fake.file_ids();

    let at_limit = task_form(&run, "full.pdf", content(LIMIT as usize));
    let taken = p
        .file_call("upload_file", &[], &admin, None, Some(at_limit))
        .await;
    assert_eq!(taken.status, 200, "{}", taken.text());
    let kept = taken.json()["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(fake.file(&kept).unwrap().content.len() as u64, LIMIT);

    let expected = json!({"error": true, "code": "FILE_TOO_LARGE",
        "message": "File too large - Tallyfy's upload limit is 64KB"});
    // One byte past, and sixty-four times the limit: the second is refused long before
    // it is all sent, and the client still reads the refusal.
    for len in [LIMIT as usize + 1, 64 * LIMIT as usize] {
        let form = task_form(&run, "big.pdf", content(len));
        let refused = p
            .file_call("upload_file", &[], &admin, None, Some(form))
            .await;
        assert_eq!(
            (refused.status, refused.json()),
            (413, expected.clone()),
            "{len}"
        );
    }
    let mut after = before;
    after.push(kept);
    after.sort();
    assert_eq!(fake.file_ids(), after, "nothing of a refused file is kept");
    // The fake goes on answering.
    let (status, _) = p.send("list_processes", &[], "", &admin).await;
    assert_eq!(status, 200);
}

/// The asset the fake sends has the keys, with the JSON types, of the documented upload
/// and get examples.
#[tokio::test]
async fn the_fake_asset_has_the_corpus_keys_and_types() {
    let fake = FakeServer::builder().processes(10).start().await.unwrap();
    let p = Probe::new(&fake);
    let admin = p.token.clone();
    let run = fake.active_process_ids()[0].clone();
    let form = task_form(&run, "document.pdf", content(100));
    let uploaded = p
        .file_call("upload_file", &[], &admin, None, Some(form))
        .await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.text());
    let uploaded = uploaded.json();
    let mut problems = differences(
        &shape(&corpus("upload_file.200.json")),
        &shape(&uploaded),
        "upload_file",
    );
    let id = uploaded["data"]["id"].as_str().unwrap();
    let got = p.file_call("get_asset", &[id], &admin, None, None).await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.json(), uploaded, "get_asset answers the uploaded asset");
    problems.extend(differences(
        &shape(&corpus("get_asset.200.json")),
        &shape(&got.json()),
        "get_asset",
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A client that sends its whole form before it reads anything (as Python's
/// `http.client` does) still reads the 413: the fake reads the rest of a refused upload
/// and throws it away, rather than closing on it (a broken pipe for that client).
#[tokio::test]
async fn a_client_that_sends_all_before_reading_still_reads_the_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let fake = FakeServer::builder()
        .processes(10)
        .upload_limit(LIMIT)
        .start()
        .await
        .unwrap();
    let boundary = "fidelity-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"; filename=\"big.pdf\"\r\n\r\n"
    )
    .into_bytes();
    body.extend(content(4 * 1024 * 1024));
    body.extend(
        format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"subject_type\"\r\n\r\nRun\r\n--{boundary}--\r\n")
            .into_bytes(),
    );
    let head = format!(
        "POST /organizations/{}/file HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         X-Tallyfy-Client: APIClient\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        fake.org_id(),
        fake.address(),
        fake.admin_token(),
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(fake.address())
        .await
        .unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(&body)
        .await
        .expect("the whole form is taken");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.ends_with(r#""message":"File too large - Tallyfy's upload limit is 64KB"}"#),
        "{answer}"
    );
}
