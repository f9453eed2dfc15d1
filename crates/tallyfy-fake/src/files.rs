//! Uploaded files and their asset records: the form of an upload read as it arrives,
//! the files kept in memory, each served whole or from a byte on.
//!
//! - **Upload** (`upload_file`): a `multipart/form-data` form whose `name` part is the
//!   file, every other field a text part. The file is read chunk by chunk and refused
//!   (413) as soon as it passes the upload limit, before more than the limit is held;
//!   the rest of the request is then read and thrown away in the background for a
//!   while, so that the client reads the 413 rather than a reset connection. The text
//!   fields are validated as Tallyfy (Laravel) does, every field at fault named at once
//!   (422): `name` (a file, of one of the documented extensions), `subject_id`,
//!   `subject_type` (`Run` or `Checklist`) and `uploaded_from` are required, `source`
//!   is `local` or `url`; the subject must exist (a process for `Run`, a template for
//!   `Checklist`), or `subject_id` is refused with 422, as Laravel's `exists` rule does.
//!   The text fields may hold 1 MiB together (413 `FIELDS_TOO_LARGE` past it); a body
//!   that is not a form has no fields (422 for the required ones), one that says it is a
//!   form but cannot be read as one is refused with 400 `BAD_REQUEST`.
//! - **Asset** (`get_asset`): the record with the documented example's keys.
//! - **View and download** (`get_file`, `download_file`): the stored bytes, not copied,
//!   with `Content-Length`, `Accept-Ranges: bytes` and `Content-Disposition` (`inline`
//!   to view, `attachment` to download); the type guessed from the name to view,
//!   `application/octet-stream` to download. `Range: bytes=N-` (and `N-M`, `-N`) is
//!   answered 206 with `Content-Range`, 416 when it starts at or past the end; a range
//!   header the fake cannot read, or several ranges, is ignored (200, the whole file),
//!   as HTTP allows.
//! - **Archive** (`archive_asset`): the record only. An archived asset is no longer
//!   served by `get_asset` nor archived again (404, as a soft-deleted record), but its
//!   file stays: it is still viewed and downloaded, and `delete_file` still deletes it.
//! - **Delete** (`delete_file`): the record and the file, for good; administrators only
//!   (403 for a member), as every irreversible delete. Then every file operation on it
//!   answers 404. A process or template deleted for good takes its files along.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Multipart, OptionalFromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use serde_json::{Map, Value, json};

use crate::store::{Ctx, Refusal, Store};
use crate::validate::Body as Fields;

/// Tallyfy's documented upload limit, 100 MB (100 MiB): the fake's default.
pub const DEFAULT_UPLOAD_LIMIT: u64 = 100 * 1024 * 1024;

/// The most the text fields of an upload form may hold together, in bytes.
const MAX_FIELD_BYTES: usize = 1024 * 1024;

/// How long the rest of a refused upload is read (and thrown away) after its 413.
const DRAIN_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// The extensions Tallyfy's upload page allows.
const EXTENSIONS: [&str; 27] = [
    "xlsx", "xls", "pptx", "docx", "ppt", "doc", "rtf", "pdf", "txt", "mpga", "mov", "qt", "mp4",
    "webm", "jpg", "jpeg", "gif", "png", "ai", "psd", "zip", "xml", "xps", "dwg", "csv", "tif",
    "bmp",
];

/// The text fields of an upload form.
const TEXT_FIELDS: [&str; 7] = [
    "subject_id",
    "subject_type",
    "uploaded_from",
    "source",
    "step_id",
    "checklist_id",
    "system",
];

/// An uploaded file and its asset record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFile {
    /// The asset ID, which is also the file's ID (`file_id`), 32 hexadecimal characters.
    pub id: String,
    /// The file's name, as the upload gave it (without any folder).
    pub filename: String,
    /// Its content.
    pub content: Bytes,
    /// What it was uploaded for: a process ID (`Run`) or a template ID (`Checklist`).
    pub subject_id: String,
    /// `Run` (a task's field) or `Checklist` (a kick-off field).
    pub subject_type: String,
    /// When its asset record was archived; `None` unless it was.
    pub archived_at: Option<String>,
    pub(crate) uploaded_from: String,
    pub(crate) uploaded_at: String,
    pub(crate) step_id: Option<String>,
    pub(crate) source: String,
    pub(crate) system: Option<String>,
}

impl StoredFile {
    /// The asset record as the API sends it: the documented example's keys.
    fn asset(&self) -> Value {
        json!({
            "id": self.id,
            "filename": self.filename,
            "version": 1,
            "uploaded_from": self.uploaded_from,
            "uploaded_at": self.uploaded_at,
            "step_id": self.step_id,
            "source": self.source,
            "system": self.system,
            "uploaded_to_s3": true,
            "subject": {"id": self.subject_id, "type": self.subject_type},
        })
    }
}

/// An upload form as it came: its text fields and its file, not yet validated.
#[derive(Debug, Default)]
pub(crate) struct Upload {
    fields: Map<String, Value>,
    /// The `name` part's file name and content, when it was a file.
    file: Option<(String, Bytes)>,
    /// Whether `name` came as a text part rather than a file.
    name_is_text: bool,
}

/// `413` for a file larger than `limit` bytes, in Tallyfy's words.
pub(crate) fn too_large(limit: u64) -> Refusal {
    Refusal::new(
        413,
        &format!("File too large - Tallyfy's upload limit is {}", size(limit)),
        "FILE_TOO_LARGE",
    )
}

/// `bytes` as Tallyfy writes its limit: `100MB` for 100 MiB.
fn size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{}MB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{}KB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// 400 for a body that says it is a form but is not a readable one.
fn unreadable() -> Refusal {
    Refusal::new(
        400,
        "The request body is not a valid multipart form.",
        "BAD_REQUEST",
    )
}

/// Reads the upload form `request` carries, holding at most `limit` bytes of its file.
/// A body that is not `multipart/form-data` has no fields (so the required ones are
/// refused); one that says it is, without a boundary, is refused with 400.
pub(crate) async fn read_upload(request: Request, limit: u64) -> Result<Upload, Refusal> {
    let mut upload = Upload::default();
    let form = <Multipart as OptionalFromRequest<()>>::from_request(request, &()).await;
    let Some(mut form) = form.map_err(|_| unreadable())? else {
        return Ok(upload);
    };
    let mut field_bytes = 0;
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Ok(upload),
            Err(_) => return Err(unreadable()),
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        match file_name {
            Some(file_name) if name == "name" && upload.file.is_none() => {
                let mut chunks: Vec<Bytes> = Vec::new();
                let mut held: u64 = 0;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            held = held.saturating_add(chunk.len() as u64);
                            if held > limit {
                                drop(field);
                                tokio::spawn(drain(form));
                                return Err(too_large(limit));
                            }
                            chunks.push(chunk);
                        }
                        Ok(None) => break,
                        Err(_) => return Err(unreadable()),
                    }
                }
                upload.file = Some((base_name(&file_name), join(chunks)));
            }
            _ => {
                // A text part, or a part the form does not know: read, counted, and
                // kept only when it is a text field of the form.
                let mut text = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            field_bytes += chunk.len();
                            if field_bytes > MAX_FIELD_BYTES {
                                drop(field);
                                tokio::spawn(drain(form));
                                return Err(Refusal::new(
                                    413,
                                    "The form's fields are too large.",
                                    "FIELDS_TOO_LARGE",
                                ));
                            }
                            text.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(_) => return Err(unreadable()),
                    }
                }
                if name == "name" && upload.file.is_none() {
                    upload.name_is_text = true;
                } else if TEXT_FIELDS.contains(&name.as_str()) && !upload.fields.contains_key(&name)
                {
                    // Not UTF-8: kept as a value that is not a string, refused as such.
                    let value = String::from_utf8(text).map_or(Value::Bool(false), Value::String);
                    upload.fields.insert(name, value);
                }
            }
        }
    }
}

/// The chunks of a file as one `Bytes`: the chunk itself when there is one, else one
/// copy into a buffer of the exact size.
fn join(chunks: Vec<Bytes>) -> Bytes {
    if chunks.len() == 1 {
        return chunks.into_iter().next().unwrap_or_default();
    }
    let mut whole = BytesMut::with_capacity(chunks.iter().map(Bytes::len).sum());
    for chunk in chunks {
        whole.extend_from_slice(&chunk);
    }
    whole.freeze()
}

/// Reads the rest of a refused form, and throws it away, for at most [`DRAIN_FOR`]: the
/// connection stays open while the client sends, so that it reads the refusal.
async fn drain(mut form: Multipart) {
    let _ = tokio::time::timeout(DRAIN_FOR, async move {
        while let Ok(Some(mut field)) = form.next_field().await {
            while let Ok(Some(_)) = field.chunk().await {}
        }
    })
    .await;
}

/// A file name without the folders a browser may send (`C:\Users\me\a.pdf` → `a.pdf`).
fn base_name(name: &str) -> String {
    name.rsplit(['/', '\\']).next().unwrap_or(name).to_string()
}

/// The extension of `filename`, lower case, if it has one.
fn extension(filename: &str) -> Option<String> {
    let (stem, extension) = filename.rsplit_once('.')?;
    (!stem.is_empty() && !extension.is_empty()).then(|| extension.to_ascii_lowercase())
}

impl Store {
    /// `POST /file`: validates the form, keeps the file, answers its asset.
    pub(crate) fn upload_file(&mut self, upload: Upload, ctx: &Ctx<'_>) -> Result<Value, Refusal> {
        let mut form = Fields::new(&upload.fields);
        match &upload.file {
            None if upload.name_is_text => form.fail("name", "The name must be a file.".into()),
            None => {
                form.require("name");
            }
            Some((filename, _)) => {
                let allowed = extension(filename).is_some_and(|e| EXTENSIONS.contains(&e.as_str()));
                if !allowed {
                    let message = format!(
                        "The name must be a file of type: {}.",
                        EXTENSIONS.join(", ")
                    );
                    form.fail("name", message);
                }
            }
        }
        let subject_id = form.required_string("subject_id", 255);
        let subject_type = form.required_string("subject_type", 255);
        let uploaded_from = form.required_string("uploaded_from", 255);
        let source = form.string("source", 255);
        let step_id = form.string("step_id", 255);
        form.string("checklist_id", 255);
        let system = form.string("system", 255);
        if let Some(kind) = &subject_type {
            if !["Run", "Checklist"].contains(&kind.as_str()) {
                form.fail(
                    "subject_type",
                    "The selected subject type is invalid.".into(),
                );
            } else if let Some(id) = &subject_id {
                let exists = match kind.as_str() {
                    "Run" => self.runs.contains_key(id),
                    _ => self.templates.contains_key(id),
                };
                if !exists {
                    form.fail("subject_id", "The selected subject id is invalid.".into());
                }
            }
        }
        if source
            .as_deref()
            .is_some_and(|s| !["local", "url"].contains(&s))
        {
            form.fail("source", "The selected source is invalid.".into());
        }
        form.finish()?;
        let (Some((filename, content)), Some(subject_id), Some(subject_type), Some(uploaded_from)) =
            (upload.file, subject_id, subject_type, uploaded_from)
        else {
            return Err(Refusal::server_error(500));
        };
        let file = StoredFile {
            id: self.new_id(),
            filename,
            content,
            subject_id,
            subject_type,
            archived_at: None,
            uploaded_from,
            uploaded_at: ctx.now.to_string(),
            step_id,
            source: source.unwrap_or_else(|| "local".into()),
            system,
        };
        let answer = json!({"data": file.asset()});
        self.files.insert(file.id.clone(), file);
        Ok(answer)
    }

    /// A stored file, archived or not, or 404.
    pub(crate) fn file(&self, file_id: &str) -> Result<&StoredFile, Refusal> {
        self.files.get(file_id).ok_or_else(Refusal::not_found)
    }

    /// `GET /assets/{id}`: the record, unless it is archived (404).
    pub(crate) fn get_asset(&self, asset_id: &str) -> Result<Value, Refusal> {
        let file = self.file(asset_id)?;
        if file.archived_at.is_some() {
            return Err(Refusal::not_found());
        }
        Ok(json!({"data": file.asset()}))
    }

    /// `DELETE /assets/{id}`: archives the record; the file stays.
    pub(crate) fn archive_asset(&mut self, asset_id: &str, ctx: &Ctx<'_>) -> Result<(), Refusal> {
        let file = self
            .files
            .get_mut(asset_id)
            .filter(|f| f.archived_at.is_none())
            .ok_or_else(Refusal::not_found)?;
        file.archived_at = Some(ctx.now.to_string());
        Ok(())
    }

    /// `DELETE /file/{id}`: the record and the file, for good.
    pub(crate) fn delete_file(&mut self, file_id: &str) -> Result<(), Refusal> {
        self.files
            .remove(file_id)
            .map(|_| ())
            .ok_or_else(Refusal::not_found)
    }

    /// Forgets the files uploaded for `subject_id` (of `subject_type`), deleted for good.
    pub(crate) fn forget_files_of(&mut self, subject_type: &str, subject_id: &str) {
        self.files
            .retain(|_, f| !(f.subject_type == subject_type && f.subject_id == subject_id));
    }
}

/// The seeded file: a short text file on the first template's kick-off form, from a
/// stream of draws of its own (so the rest of what a seed makes is unchanged).
pub(crate) fn seed(store: &mut Store, template_id: &str, mut rng: fastrand::Rng) {
    let id = format!("{:016x}{:016x}", rng.u64(..), rng.u64(..));
    let file = StoredFile {
        id: id.clone(),
        filename: "welcome.txt".into(),
        content: Bytes::from_static(b"Welcome to the fake Tallyfy: this file was seeded.\n"),
        subject_id: template_id.to_string(),
        subject_type: "Checklist".into(),
        archived_at: None,
        uploaded_from: "ko_field".into(),
        uploaded_at: "2025-01-02T09:00:00.000Z".into(),
        step_id: None,
        source: "local".into(),
        system: None,
    };
    store.files = BTreeMap::from([(id, file)]);
}

/// How a file is served: to be shown, or saved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// `get_file`: its own type, `inline`.
    Inline,
    /// `download_file`: `application/octet-stream`, `attachment`.
    Attachment,
}

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    /// The whole file: no range, or one the fake does not read.
    Whole,
    /// Bytes `first..=last`.
    Part(u64, u64),
    /// A range that starts at or past the end.
    Unsatisfiable,
}

/// Reads `Range: bytes=N-`, `bytes=N-M` or `bytes=-N` (one range only).
fn wanted(range: Option<&HeaderValue>, len: u64) -> Wanted {
    let Some(spec) = range
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return Wanted::Whole;
    };
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let number = |s: &str| s.trim().parse::<u64>().ok();
    match (first.trim().is_empty(), number(first), number(last)) {
        // `-N`: the last N bytes.
        (true, _, Some(suffix)) => {
            if suffix == 0 || len == 0 {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(len.saturating_sub(suffix), len - 1)
            }
        }
        (false, Some(first), None) if last.trim().is_empty() => {
            if first >= len {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(first, len - 1)
            }
        }
        (false, Some(first), Some(last)) if first <= last => {
            if first >= len {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(first, last.min(len - 1))
            }
        }
        _ => Wanted::Whole,
    }
}

/// `Content-Disposition` for `filename`: an ASCII `filename` (what is not plain ASCII
/// replaced by `_`) and, when the name is not plain ASCII, `filename*` in UTF-8.
fn content_disposition(disposition: Disposition, filename: &str) -> HeaderValue {
    let kind = match disposition {
        Disposition::Inline => "inline",
        Disposition::Attachment => "attachment",
    };
    let plain = |c: char| c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ';
    let ascii: String = filename
        .chars()
        .map(|c| if plain(c) { c } else { '_' })
        .collect();
    let mut value = format!("{kind}; filename=\"{ascii}\"");
    if !filename.chars().all(plain) {
        value.push_str("; filename*=UTF-8''");
        for byte in filename.bytes() {
            let attr_char = byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte);
            if attr_char {
                value.push(char::from(byte));
            } else {
                value.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// The answer serving `file` (or the part of it `range` asks for), without copying it.
pub(crate) fn serve(
    filename: &str,
    content: &Bytes,
    disposition: Disposition,
    range: Option<&HeaderValue>,
) -> Response {
    let len = content.len() as u64;
    let (body, part) = match wanted(range, len) {
        Wanted::Whole => (content.clone(), None),
        // `first <= last < len`, and `len` is a `usize`.
        Wanted::Part(first, last) => (
            content.slice(first as usize..=last as usize),
            Some(format!("bytes {first}-{last}/{len}")),
        ),
        Wanted::Unsatisfiable => {
            let refusal = Refusal::new(
                416,
                "The requested range is not satisfiable.",
                "RANGE_NOT_SATISFIABLE",
            );
            let mut response =
                (StatusCode::RANGE_NOT_SATISFIABLE, axum::Json(refusal.body)).into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return response;
        }
    };
    let content_type = match disposition {
        Disposition::Inline => mime_guess::from_path(filename)
            .first_or_octet_stream()
            .to_string(),
        Disposition::Attachment => "application/octet-stream".to_string(),
    };
    let served = body.len() as u64;
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(served));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(disposition, filename),
    );
    if let Some(range) = part.and_then(|r| HeaderValue::from_str(&r).ok()) {
        headers.insert(header::CONTENT_RANGE, range);
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::Fixtures;

    use crate::testing::{NOW, ctx};

    fn store() -> Store {
        crate::testing::store(10, 5)
    }

    fn form(fields: &[(&str, &str)], file: Option<(&str, &'static [u8])>) -> Upload {
        Upload {
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_string(), Value::String((*v).to_string())))
                .collect(),
            file: file.map(|(name, bytes)| (name.to_string(), Bytes::from_static(bytes))),
            name_is_text: false,
        }
    }

    fn range(value: &str, len: u64) -> Wanted {
        wanted(Some(&HeaderValue::from_str(value).unwrap()), len)
    }

    #[test]
    fn ranges_are_read_as_http_says() {
        assert_eq!(wanted(None, 10), Wanted::Whole);
        assert_eq!(range("bytes=4-", 10), Wanted::Part(4, 9));
        assert_eq!(range("bytes=0-", 10), Wanted::Part(0, 9));
        assert_eq!(range("bytes=9-", 10), Wanted::Part(9, 9));
        assert_eq!(range("bytes=10-", 10), Wanted::Unsatisfiable);
        assert_eq!(range("bytes=2-5", 10), Wanted::Part(2, 5));
        assert_eq!(range("bytes=2-500", 10), Wanted::Part(2, 9));
        assert_eq!(range("bytes=-3", 10), Wanted::Part(7, 9));
        assert_eq!(range("bytes=-30", 10), Wanted::Part(0, 9));
        assert_eq!(range("bytes=-0", 10), Wanted::Unsatisfiable);
        assert_eq!(range("bytes=0-", 0), Wanted::Unsatisfiable);
        // What the fake does not read is ignored: the whole file.
        for ignored in [
            "bytes=5-2",
            "bytes=0-1,4-5",
            "items=0-",
            "bytes=x-",
            "bytes=4",
        ] {
            assert_eq!(range(ignored, 10), Wanted::Whole, "{ignored}");
        }
    }

    #[test]
    fn a_range_is_served_from_the_stored_bytes() {
        let content = Bytes::from_static(b"0123456789");
        let header = HeaderValue::from_static("bytes=4-");
        let response = serve("a.txt", &content, Disposition::Attachment, Some(&header));
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_RANGE], "bytes 4-9/10");
        assert_eq!(headers[header::CONTENT_LENGTH], "6");
        assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
        assert_eq!(
            headers[header::CONTENT_DISPOSITION],
            "attachment; filename=\"a.txt\""
        );
        let whole = serve("report q1.pdf", &content, Disposition::Inline, None);
        assert_eq!(whole.status(), StatusCode::OK);
        assert_eq!(whole.headers()[header::CONTENT_TYPE], "application/pdf");
        assert_eq!(whole.headers()[header::CONTENT_LENGTH], "10");
        assert_eq!(whole.headers()[header::ACCEPT_RANGES], "bytes");
        assert_eq!(
            whole.headers()[header::CONTENT_DISPOSITION],
            "inline; filename=\"report q1.pdf\""
        );
        let past = HeaderValue::from_static("bytes=10-");
        let refused = serve("a.txt", &content, Disposition::Inline, Some(&past));
        assert_eq!(refused.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(refused.headers()[header::CONTENT_RANGE], "bytes */10");
    }

    #[test]
    fn a_name_that_is_not_plain_ascii_is_also_sent_in_utf_8() {
        let value = content_disposition(Disposition::Attachment, "Relevé \"mai\".pdf");
        assert_eq!(
            value,
            "attachment; filename=\"Relev_ _mai_.pdf\"; filename*=UTF-8''Relev%C3%A9%20%22mai%22.pdf"
        );
        assert_eq!(base_name("C:\\Users\\me\\a.pdf"), "a.pdf");
        assert_eq!(base_name("/tmp/b.png"), "b.png");
    }

    #[test]
    fn the_limit_is_named_as_tallyfy_names_it() {
        let refusal = too_large(DEFAULT_UPLOAD_LIMIT);
        assert_eq!(refusal.status, 413);
        assert_eq!(
            refusal.body,
            json!({"error": true, "message": "File too large - Tallyfy's upload limit is 100MB", "code": "FILE_TOO_LARGE"})
        );
        assert_eq!(size(64 * 1024), "64KB");
        assert_eq!(size(1000), "1000 bytes");
    }

    #[test]
    fn every_missing_or_wrong_field_is_named_at_once() {
        let mut store = store();
        let refusal = store.upload_file(form(&[], None), &ctx()).unwrap_err();
        assert_eq!(
            refusal.body,
            json!({"error": true, "errors": {
                "name": ["The name field is required."],
                "subject_id": ["The subject id field is required."],
                "subject_type": ["The subject type field is required."],
                "uploaded_from": ["The uploaded from field is required."],
            }})
        );
        let wrong = form(
            &[
                ("subject_id", "0000"),
                ("subject_type", "Run"),
                ("uploaded_from", "ko_field"),
                ("source", "ftp"),
            ],
            Some(("tool.exe", b"MZ")),
        );
        let errors = store.upload_file(wrong, &ctx()).unwrap_err().body["errors"].take();
        let fields: Vec<&String> = errors.as_object().unwrap().keys().collect();
        assert_eq!(fields, ["name", "source", "subject_id"]);
        assert_eq!(
            errors["subject_id"],
            json!(["The selected subject id is invalid."])
        );
        assert!(
            errors["name"][0]
                .as_str()
                .unwrap()
                .starts_with("The name must be a file of type: xlsx")
        );
        let text_name = Upload {
            name_is_text: true,
            ..form(&[("subject_type", "Process")], None)
        };
        let errors = store.upload_file(text_name, &ctx()).unwrap_err().body["errors"].take();
        assert_eq!(errors["name"], json!(["The name must be a file."]));
        assert_eq!(
            errors["subject_type"],
            json!(["The selected subject type is invalid."])
        );
        assert!(store.files.len() == 1, "only the seeded file");
    }

    #[test]
    fn a_file_is_kept_archived_then_deleted_for_good() {
        let mut store = store();
        let run = store.runs.keys().next().cloned().unwrap();
        let upload = form(
            &[
                ("subject_id", &run),
                ("subject_type", "Run"),
                ("uploaded_from", "021136480280ee5369cb093e110d1918"),
                ("step_id", "efe67f3a1e8163ac856a2565f87ac74d"),
                ("source", "local"),
            ],
            Some(("Document.PDF", b"%PDF-1.4")),
        );
        let answer = store.upload_file(upload, &ctx()).unwrap();
        let id = answer["data"]["id"].as_str().unwrap().to_string();
        assert_eq!(
            answer,
            json!({"data": {
                "id": id, "filename": "Document.PDF", "version": 1,
                "uploaded_from": "021136480280ee5369cb093e110d1918", "uploaded_at": NOW,
                "step_id": "efe67f3a1e8163ac856a2565f87ac74d", "source": "local",
                "system": null, "uploaded_to_s3": true,
                "subject": {"id": run, "type": "Run"},
            }})
        );
        assert_eq!(store.get_asset(&id).unwrap(), answer);
        assert_eq!(&store.file(&id).unwrap().content[..], b"%PDF-1.4");

        store.archive_asset(&id, &ctx()).unwrap();
        assert_eq!(store.get_asset(&id).unwrap_err(), Refusal::not_found());
        assert_eq!(
            store.archive_asset(&id, &ctx()).unwrap_err(),
            Refusal::not_found()
        );
        assert_eq!(
            store.file(&id).unwrap().archived_at.as_deref(),
            Some(NOW),
            "the file stays"
        );

        store.delete_file(&id).unwrap();
        assert_eq!(store.file(&id).unwrap_err(), Refusal::not_found());
        assert_eq!(store.delete_file(&id).unwrap_err(), Refusal::not_found());
    }

    #[test]
    fn a_template_deleted_for_good_takes_its_files_along() {
        let mut store = store();
        let seeded = store.files.values().next().cloned().unwrap();
        assert_eq!(seeded.subject_type, "Checklist");
        assert!(store.templates.contains_key(&seeded.subject_id));
        let template = seeded.subject_id.clone();
        store.archive_template(&template, &ctx()).unwrap();
        store
            .delete_template_permanently(&template, &ctx())
            .unwrap();
        assert!(store.files.is_empty());
    }

    #[test]
    fn the_seeded_file_keeps_the_rest_of_the_seed() {
        let a = store();
        let b = store();
        assert_eq!(a.files, b.files);
        assert_eq!(a.files.len(), 1);
        let other = Fixtures {
            processes: 10,
            seed: 6,
        }
        .build();
        assert_ne!(a.files.keys().next(), other.files.keys().next());
    }
}
