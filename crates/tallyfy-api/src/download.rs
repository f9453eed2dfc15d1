//! Answers that are files: read as they arrive, never held whole in memory.

use bytes::Bytes;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};

/// The content of a file an operation answers with (`download_file`, `get_file`), its
/// body not read yet: take it a chunk at a time.
///
/// The `tallyfy` crate saves it to a file or a writer, resuming after a broken
/// connection; this type is what any wrapper gets.
#[derive(Debug)]
pub struct Download {
    answer: reqwest::Response,
}

impl Download {
    /// Wraps a success answer whose body is a file.
    pub fn new(answer: reqwest::Response) -> Self {
        Self { answer }
    }

    /// The answer's status: 200, or 206 for part of the file.
    pub fn status(&self) -> reqwest::StatusCode {
        self.answer.status()
    }

    /// The answer's headers.
    pub fn headers(&self) -> &reqwest::header::HeaderMap {
        self.answer.headers()
    }

    /// The body's length in bytes, when the server said it.
    pub fn content_length(&self) -> Option<u64> {
        self.answer.content_length()
    }

    /// The file's MIME type, as the server said it.
    pub fn content_type(&self) -> Option<&str> {
        self.answer.headers().get(CONTENT_TYPE)?.to_str().ok()
    }

    /// The file's name from `Content-Disposition`, reduced to a bare name (no
    /// directories), if the server sent one.
    ///
    /// ```
    /// assert_eq!(tallyfy_api::Download::filename_in("attachment; filename=\"q1 report.pdf\""), Some("q1 report.pdf".into()));
    /// assert_eq!(tallyfy_api::Download::filename_in("attachment; filename=../../etc/passwd"), Some("passwd".into()));
    /// assert_eq!(tallyfy_api::Download::filename_in("inline"), None);
    /// ```
    pub fn filename(&self) -> Option<String> {
        Self::filename_in(
            self.answer
                .headers()
                .get(CONTENT_DISPOSITION)?
                .to_str()
                .ok()?,
        )
    }

    /// The bare file name a `Content-Disposition` value names, if any.
    pub fn filename_in(disposition: &str) -> Option<String> {
        let value = disposition
            .split(';')
            .map(str::trim)
            .find_map(|part| part.strip_prefix("filename="))?
            .trim_matches('"');
        let name = value.rsplit(['/', '\\']).next()?.trim();
        (!name.is_empty() && name != "." && name != "..").then(|| name.to_owned())
    }

    /// The next chunk of the body, or `None` at its end.
    pub async fn chunk(&mut self) -> reqwest::Result<Option<Bytes>> {
        self.answer.chunk().await
    }
}
