//! Files: downloads in flat memory, resumed or failed cleanly; uploads streamed from
//! disk; calls by name that cannot hold a file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tallyfy::{Args, Client, Execute, RetryPolicy, Save, SaveError, Saved};

use crate::support::{ORG, Script, answer, client_with, head, scripted};

/// The bytes of a file of `len` bytes, each its position modulo 251: a misplaced
/// chunk shows.
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// An answer of `status` with `body`, saying it is `length` bytes long (more than it
/// sends, to break off midway).
fn file_answer(status: u16, extra: &[(&str, &str)], body: &[u8], length: usize) -> Script {
    let length = length.to_string();
    let mut headers = vec![
        ("content-type", "application/octet-stream"),
        ("content-disposition", "attachment; filename=\"report.bin\""),
        ("content-length", length.as_str()),
    ];
    headers.extend_from_slice(extra);
    let mut raw = head(status, &headers).into_bytes();
    raw.extend_from_slice(body);
    Script::Raw(raw)
}

/// Saves `download_file` of `f1` at `path`.
async fn download_to(client: &Client, path: &Path) -> Result<Saved, SaveError> {
    client
        .download_file()
        .org_id(ORG)
        .file_id("f1")
        .save()
        .to_file(path)
        .await
}

/// Writes `download_file` of `f1` into `written`.
async fn download_into(client: &Client, written: &mut Vec<u8>) -> Result<Saved, SaveError> {
    client
        .download_file()
        .org_id(ORG)
        .file_id("f1")
        .save()
        .to_writer(written)
        .await
}

/// The API's error a save failed with.
fn api_error(error: SaveError) -> tallyfy::Error {
    match error {
        SaveError::Api(error) => error,
        other => panic!("an API error: {other:?}"),
    }
}

/// The corpus's document, which the upload tests send.
fn document() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tallyfy-docs/requests/document.pdf")
}

/// The form of an upload of `file` to a process's field.
fn upload_form(file: &Path) -> tallyfy::types::builder::UploadFile {
    tallyfy::types::UploadFile::builder()
        .name(tallyfy::LocalFile::from(file))
        .subject_id("run")
        .subject_type(tallyfy::types::UploadFileSubjectType::Run)
        .uploaded_from("capture")
}

fn retrying() -> RetryPolicy {
    RetryPolicy::default().with_max_retries(2)
}

#[tokio::test]
async fn a_download_larger_than_the_body_cap_is_saved_whole() {
    let size = tallyfy::MAX_SUCCESS_BODY + (1 << 20);
    let script = Script::Stream(
        head(
            200,
            &[
                ("content-type", "application/octet-stream"),
                ("content-length", &size.to_string()),
            ],
        ),
        Some(size),
    );
    let (base_url, _) = scripted(vec![script]).await;
    let client = client_with(&base_url, RetryPolicy::none());
    let dir = tempdir();
    let path = dir.join("big.bin");
    let saved = download_to(&client, &path).await.expect("saved");
    assert_eq!(saved.bytes(), size as u64);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size as u64);
    assert!(!dir.join("big.bin.part").exists());
}

#[tokio::test]
async fn a_broken_download_resumes_where_it_stopped() {
    let file = content(100_000);
    let (first, rest) = file.split_at(30_000);
    let range = format!("bytes 30000-99999/{}", file.len());
    let script = vec![
        file_answer(200, &[], first, file.len()),
        file_answer(206, &[("content-range", &range)], rest, rest.len()),
    ];
    let (base_url, heads) = scripted(script).await;
    let client = client_with(&base_url, retrying());
    let dir = tempdir();
    let path = dir.join("report.bin");
    let progress = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = progress.clone();
    let saved = client
        .download_file()
        .org_id(ORG)
        .file_id("f1")
        .save()
        .progress(move |p| seen.lock().unwrap().push((p.bytes, p.total)))
        .to_file(&path)
        .await
        .expect("resumed");
    assert_eq!(std::fs::read(&path).unwrap(), file);
    let progress = progress.lock().unwrap();
    assert!(
        progress.windows(2).all(|w| w[0].0 <= w[1].0),
        "{progress:?}"
    );
    assert_eq!(progress.last(), Some(&(100_000, Some(100_000))));
    assert!(progress.contains(&(30_000, Some(100_000))), "{progress:?}");
    assert_eq!((saved.bytes(), saved.resumed()), (100_000, 1));
    assert_eq!(saved.filename(), Some("report.bin"));
    let heads = heads.lock().unwrap();
    assert!(!heads[0].to_lowercase().contains("range:"), "{}", heads[0]);
    assert!(
        heads[1].to_lowercase().contains("range: bytes=30000-"),
        "{}",
        heads[1]
    );
}

#[tokio::test]
async fn a_download_may_take_longer_than_the_timeout_while_data_flows() {
    let file = content(10_000);
    let pieces: Vec<Vec<u8>> = file.chunks(1_000).map(<[u8]>::to_vec).collect();
    let length = file.len().to_string();
    let trickle = |pieces| {
        Script::Trickle(
            head(200, &[("content-length", &length)]),
            pieces,
            Duration::from_millis(60),
        )
    };
    let (base_url, _) = scripted(vec![trickle(pieces.clone()), trickle(pieces)]).await;
    let client = tallyfy::Client::builder(crate::support::TOKEN)
        .base_url(&base_url)
        .timeout(Duration::from_millis(300))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let mut written = Vec::new();
    let saved = download_into(&client, &mut written)
        .await
        .expect("600 ms in all, 60 ms per read");
    assert_eq!((saved.bytes(), saved.resumed(), written), (10_000, 0, file));

    // The same pace fails a call that is no transfer: its timeout bounds it whole.
    let error = client
        .get_asset()
        .org_id(ORG)
        .asset_id("a1")
        .execute()
        .await
        .expect_err("slower than its timeout");
    assert!(error.is_timeout(), "{error:?}");
}

#[tokio::test]
async fn a_server_that_ignores_range_starts_the_file_over() {
    let file = content(50_000);
    let script = vec![
        file_answer(200, &[], &file[..20_000], file.len()),
        file_answer(200, &[], &file, file.len()),
    ];
    let (base_url, _) = scripted(script).await;
    let client = client_with(&base_url, retrying());
    let dir = tempdir();
    let path = dir.join("again.bin");
    let saved = download_to(&client, &path).await.expect("started over");
    assert_eq!(std::fs::read(&path).unwrap(), file);
    assert_eq!(saved.resumed(), 1);

    // A writer cannot take back what it was given: that fails, saying so.
    let script = vec![
        file_answer(200, &[], &file[..20_000], file.len()),
        file_answer(200, &[], &file, file.len()),
    ];
    let (base_url, _) = scripted(script).await;
    let client = client_with(&base_url, retrying());
    let mut written = Vec::new();
    let error = api_error(
        download_into(&client, &mut written)
            .await
            .expect_err("cannot start a writer over"),
    );
    assert!(error.is_interrupted(), "{error:?}");
    assert!(
        error.explanation().contains("cannot be taken back"),
        "{error:?}"
    );
    assert_eq!(written, &file[..20_000]);
}

#[tokio::test]
async fn a_download_that_keeps_breaking_leaves_no_file() {
    let file = content(10_000);
    let script = (0..3)
        .map(|_| file_answer(200, &[], &file[..1_000], file.len()))
        .collect();
    let (base_url, _) = scripted(script).await;
    let client = client_with(&base_url, retrying());
    let dir = tempdir();
    let path = dir.join("broken.bin");
    let error = api_error(
        download_to(&client, &path)
            .await
            .expect_err("broke three times"),
    );
    assert!(error.is_interrupted(), "{error:?}");
    assert!(!path.exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "no temporary file either"
    );
}

#[tokio::test]
async fn an_error_answer_is_the_api_error_and_leaves_no_file() {
    let body = r#"{"error": true, "message": "Resource not found", "code": "RESOURCE_NOT_FOUND"}"#;
    let (base_url, _) = scripted(vec![answer(404, &[], body)]).await;
    let client = client_with(&base_url, retrying());
    let dir = tempdir();
    let path = dir.join("missing.bin");
    let error = client
        .get_file()
        .org_id(ORG)
        .file_id("nope")
        .save()
        .to_file(&path)
        .await
        .expect_err("404");
    let SaveError::Api(error) = error else {
        panic!("an API error: {error:?}")
    };
    assert!(error.is_not_found());
    assert_eq!(error.code(), Some("RESOURCE_NOT_FOUND"));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[tokio::test]
async fn a_destination_that_cannot_be_written_is_a_write_error_naming_it() {
    let client = client_with("http://127.0.0.1:9", RetryPolicy::none());
    let path = tempdir().join("no/such/dir/file.bin");
    let error = download_to(&client, &path).await.expect_err("no directory");
    let SaveError::Write {
        path: Some(named), ..
    } = &error
    else {
        panic!("a write error: {error:?}")
    };
    assert_eq!(named, &path);
    assert!(error.to_string().contains("file.bin"), "{error}");
}

#[tokio::test]
async fn files_by_name_save_and_json_by_name_refuses_them() {
    let file = content(5_000);
    let (base_url, _) = scripted(vec![file_answer(200, &[], &file, file.len())]).await;
    let client = client_with(&base_url, RetryPolicy::none());
    let args = Args::new().with("org_id", ORG).with("file_id", "f1");
    let mut written = Vec::new();
    let saved = client
        .save("download_file", &args)
        .to_writer(&mut written)
        .await
        .expect("saved by name");
    assert_eq!((saved.bytes(), written), (5_000, file));

    let error = client.call("download_file", &args).await.unwrap_err();
    assert!(error.is_invalid_input());
    assert!(error.explanation().contains("client.save"), "{error:?}");

    let args = Args::new().with("org_id", ORG).with("run_id", "r1");
    let Err(SaveError::Api(error)) = client
        .save("get_process", &args)
        .to_writer(&mut Vec::new())
        .await
    else {
        panic!("not a file")
    };
    assert!(error.is_invalid_input());
    assert_eq!(error.operation(), Some("get_process"));
}

#[tokio::test]
async fn an_upload_of_a_missing_file_sends_nothing() {
    let (base_url, heads) = scripted(vec![]).await;
    let client = client_with(&base_url, RetryPolicy::none());
    let form = upload_form(std::path::Path::new("/no/such/file.pdf"));
    let error = client
        .upload_file()
        .org_id(ORG)
        .body(form)
        .execute()
        .await
        .expect_err("no file");
    assert!(error.is_invalid_input());
    assert!(
        error.explanation().contains("/no/such/file.pdf"),
        "{error:?}"
    );
    assert!(heads.lock().unwrap().is_empty());
}

/// A new empty directory under the target directory.
fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tallyfy-files-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn an_upload_refused_with_429_is_sent_again_whole() {
    let asset = r#"{"data": {"id": "asset_1", "filename": "document.pdf"}}"#;
    let limited = answer(
        429,
        &[("retry-after", "0"), ("content-type", "application/json")],
        r#"{"message": "You've reached the hourly limit", "code": "RATE_LIMIT_EXCEEDED"}"#,
    );
    let ok = answer(200, &[("content-type", "application/json")], asset);
    let (base_url, heads) = scripted(vec![limited, ok]).await;
    let client = client_with(&base_url, retrying());
    let file = document();
    let form = upload_form(&file);
    let answered = client
        .upload_file()
        .org_id(ORG)
        .body(form)
        .execute()
        .await
        .expect("the second attempt lands");
    assert_eq!(answered.data.id, "asset_1");
    let heads = heads.lock().unwrap();
    assert_eq!(heads.len(), 2);
    let length = |head: &str| -> u64 {
        let line = head
            .lines()
            .find(|l| l.to_lowercase().starts_with("content-length:"));
        line.and_then(|l| l[15..].trim().parse().ok()).unwrap_or(0)
    };
    let size = std::fs::metadata(&file).unwrap().len();
    for head in heads.iter() {
        assert!(
            head.starts_with("POST /organizations/org_8f3a/file "),
            "{head}"
        );
        assert!(head.contains("multipart/form-data; boundary="), "{head}");
        assert!(length(head) > size, "the whole file each time: {head}");
    }
    assert_eq!(length(&heads[0]), length(&heads[1]));
}

#[tokio::test]
async fn a_resumed_download_asks_for_the_same_version_and_refuses_another() {
    let file = content(40_000);
    let etag = ("etag", "\"v1\"");
    // The rest, of another size: not the same file.
    let range = "bytes 10000-39999/50000";
    let script = vec![
        file_answer(200, &[etag], &file[..10_000], file.len()),
        file_answer(206, &[("content-range", range)], &file[10_000..], 30_000),
    ];
    let (base_url, heads) = scripted(script).await;
    let client = client_with(&base_url, retrying());
    let dir = tempdir();
    let path = dir.join("changed.bin");
    let error = api_error(
        download_to(&client, &path)
            .await
            .expect_err("a different file"),
    );
    assert!(error.is_interrupted(), "{error:?}");
    assert!(error.explanation().contains("same file"), "{error:?}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    let heads = heads.lock().unwrap();
    let second = heads[1].to_lowercase();
    assert!(second.contains("range: bytes=10000-"), "{second}");
    assert!(second.contains("if-range: \"v1\""), "{second}");
}

#[tokio::test]
async fn an_upload_whose_answer_never_comes_times_out_without_a_resend() {
    let (base_url, heads) = scripted(vec![Script::Stall, Script::Stall]).await;
    let client = tallyfy::Client::builder(crate::support::TOKEN)
        .base_url(&base_url)
        .timeout(Duration::from_millis(300))
        .retry(retrying())
        .sleep_with(|_| async {})
        .build()
        .unwrap();
    let file = document();
    let form = upload_form(&file);
    let started = std::time::Instant::now();
    let error = client
        .upload_file()
        .org_id(ORG)
        .body(form)
        .execute()
        .await
        .expect_err("no answer");
    assert!(error.is_timeout(), "{error:?}");
    assert!(error.may_have_been_applied());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        heads.lock().unwrap().len(),
        1,
        "a POST that may have landed is not resent"
    );
}

#[tokio::test]
async fn breaks_after_progress_start_the_retry_count_again() {
    let file = content(30_000);
    let script = vec![
        file_answer(200, &[], &file[..10_000], 30_000),
        file_answer(
            206,
            &[("content-range", "bytes 10000-29999/30000")],
            &file[10_000..20_000],
            20_000,
        ),
        file_answer(
            206,
            &[("content-range", "bytes 20000-29999/30000")],
            &file[20_000..],
            10_000,
        ),
    ];
    let (base_url, _) = scripted(script).await;
    // One retry allowed: each break got further than the one before.
    let client = client_with(&base_url, RetryPolicy::default().with_max_retries(1));
    let mut written = Vec::new();
    let saved = download_into(&client, &mut written)
        .await
        .expect("resumed twice");
    assert_eq!((saved.resumed(), written), (2, file));
}

#[tokio::test]
async fn an_upload_reports_its_progress_up_to_the_whole_form() {
    let asset = r#"{"data": {"id": "asset_1"}}"#;
    let ok = answer(200, &[("content-type", "application/json")], asset);
    let (base_url, heads) = scripted(vec![ok]).await;
    let client = client_with(&base_url, RetryPolicy::none());
    let file = document();
    let progress = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = progress.clone();
    client
        .upload_file()
        .org_id(ORG)
        .body(upload_form(&file))
        .customize()
        .progress(move |p| seen.lock().unwrap().push((p.bytes, p.total)))
        .execute()
        .await
        .expect("uploaded");
    let head = heads.lock().unwrap()[0].to_lowercase();
    let length: u64 = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("a length");
    let progress = progress.lock().unwrap();
    assert!(progress.len() >= 2, "the form's parts: {progress:?}");
    assert!(progress.windows(2).all(|w| w[0].0 < w[1].0), "{progress:?}");
    assert_eq!(progress.last(), Some(&(length, Some(length))));
}
