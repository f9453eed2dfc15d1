//! Form bodies (`multipart/form-data`): the typed body a form operation's builder takes,
//! encoded as a form when it is built, its files streamed from disk.
//!
//! The generator turns a form's schema into a JSON body whose file fields are
//! [`LocalFile`]s; [`encode`] turns that body into the form: every file field a file part
//! read as it is sent, every other field a text part.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use reqwest::multipart::{Form, Part};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A file on disk, sent as a file part of a form (its content streamed, its name the
/// file's name).
///
/// ```
/// let file = tallyfy_api::LocalFile::from("reports/q1.pdf");
/// assert_eq!(file.path(), std::path::Path::new("reports/q1.pdf"));
/// assert_eq!(file.to_string(), "reports/q1.pdf");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LocalFile(PathBuf);

impl LocalFile {
    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl<P: Into<PathBuf>> From<P> for LocalFile {
    fn from(path: P) -> Self {
        Self(path.into())
    }
}

impl fmt::Display for LocalFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.display().fmt(f)
    }
}

impl FromStr for LocalFile {
    type Err = std::convert::Infallible;

    fn from_str(path: &str) -> Result<Self, Self::Err> {
        Ok(Self(path.into()))
    }
}

/// Re-encodes `request`, whose body is the JSON of a form's typed body, as the form:
/// the fields named in `files` are paths whose files are streamed, the others text.
/// Opens each file now, so that a missing one is refused before anything is sent.
pub(crate) fn encode(
    client: &reqwest::Client,
    mut request: reqwest::Request,
    files: &[&str],
) -> Result<reqwest::Request, String> {
    let fields: serde_json::Map<String, Value> = match request.body().and_then(|b| b.as_bytes()) {
        Some(json) => serde_json::from_slice(json)
            .map_err(|e| format!("the form's fields are not a JSON object: {e}"))?,
        None => serde_json::Map::new(),
    };
    // Text first, files last: a server reading the form as it arrives knows what a file
    // is for before it comes.
    let (files_fields, texts): (Vec<_>, Vec<_>) = fields
        .into_iter()
        .filter(|(_, value)| !value.is_null())
        .partition(|(name, value)| value.is_string() && files.contains(&name.as_str()));
    let mut form = Form::new();
    for (name, value) in texts {
        form = match value {
            Value::String(text) => form.text(name, text),
            other => form.text(name, other.to_string()),
        };
    }
    for (name, value) in files_fields {
        let path = value.as_str().unwrap_or_default().to_owned();
        form = form.part(name, file_part(Path::new(&path))?);
    }
    // The form's type and length replace the JSON body's.
    request.headers_mut().remove(reqwest::header::CONTENT_TYPE);
    request
        .headers_mut()
        .remove(reqwest::header::CONTENT_LENGTH);
    reqwest::RequestBuilder::from_parts(client.clone(), request)
        .multipart(form)
        .build()
        .map_err(|e| format!("the form could not be encoded: {e}"))
}

/// A file part that reads `path` as it is sent; its length is known up front.
fn file_part(path: &Path) -> Result<Part, String> {
    let refuse = |e: std::io::Error| format!("cannot read the file {}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(refuse)?;
    let metadata = file.metadata().map_err(refuse)?;
    if !metadata.is_file() {
        return Err(format!("{} is not a file", path.display()));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    Part::stream_with_length(reqwest::Body::wrap_stream(stream), metadata.len())
        .file_name(name)
        .mime_str(mime.essence_str())
        .map_err(|e| format!("cannot send {}: {e}", path.display()))
}
