//! Answers that are files: read as they arrive, never held whole in memory.

use bytes::Bytes;
use percent_encoding::percent_decode_str;
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

    /// The bare file name a `Content-Disposition` value names, if any: `filename*`
    /// (RFC 5987, UTF-8) before `filename`, directories dropped.
    ///
    /// ```
    /// use tallyfy_api::Download;
    /// assert_eq!(Download::filename_in("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf; filename=\"resume.pdf\""), Some("résumé.pdf".into()));
    /// assert_eq!(Download::filename_in("attachment; FILENAME=\"a;b.txt\""), Some("a;b.txt".into()));
    /// ```
    pub fn filename_in(disposition: &str) -> Option<String> {
        let params = parameters(disposition);
        let extended = params
            .iter()
            .find(|(k, _)| k == "filename*")
            .and_then(|(_, v)| {
                let (charset, rest) = v.split_once('\'')?;
                let (_, encoded) = rest.split_once('\'')?;
                let utf8 = charset.eq_ignore_ascii_case("utf-8");
                let decoded = percent_decode_str(encoded).decode_utf8().ok()?;
                utf8.then(|| decoded.into_owned())
            });
        let plain = || {
            params
                .iter()
                .find(|(k, _)| k == "filename")
                .map(|(_, v)| v.clone())
        };
        let value = extended.or_else(plain)?;
        let name = value.rsplit(['/', '\\']).next()?.trim();
        (!name.is_empty() && name != "." && name != "..").then(|| name.to_owned())
    }

    /// The next chunk of the body, or `None` at its end. Read this way, only the
    /// request's total timeout bounds the wait; `tallyfy`'s `Save` also gives up on a
    /// read that stands still for the client's timeout, and resumes.
    pub async fn chunk(&mut self) -> reqwest::Result<Option<Bytes>> {
        self.answer.chunk().await
    }
}

/// The `name=value` parameters of a header value, names lower-cased, quoted values
/// unquoted (a `;` inside quotes is part of the value).
fn parameters(value: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = value;
    while let Some(at) = rest.find(';') {
        rest = rest[at + 1..].trim_start();
        let Some((name, after)) = rest.split_once('=') else {
            break;
        };
        let name = name.trim().to_ascii_lowercase();
        let (value, tail) = match after.strip_prefix('"') {
            Some(quoted) => match quoted.find('"') {
                Some(end) => (quoted[..end].to_owned(), &quoted[end + 1..]),
                None => (quoted.to_owned(), ""),
            },
            None => match after.find(';') {
                Some(end) => (after[..end].trim().to_owned(), &after[end..]),
                None => (after.trim().to_owned(), ""),
            },
        };
        params.push((name, value));
        rest = tail;
    }
    params
}
