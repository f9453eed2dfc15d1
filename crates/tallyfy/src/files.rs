//! Files: what `download_file` and `get_file` answer with, saved to a file or a writer
//! in flat memory, whatever its size.
//!
//! A download is read a chunk at a time and written as it arrives; no cap applies to
//! it, and no limit to how long it takes while it moves (the client's
//! [`transfer_timeout`](crate::ClientBuilder::transfer_timeout) aside), but a read that
//! waits longer than the client's timeout counts as a broken connection. When the
//! connection breaks midway, the rest is asked for with
//! `Range: bytes=N-` (with `If-Range`, the file's `ETag` or `Last-Modified`, so that
//! a changed file is sent whole) and appended, as often as the client's
//! [`RetryPolicy`] resends a GET after a broken connection (breaks after progress start
//! the count again); a server that answers the whole file again instead (200, not 206)
//! starts a file over, and fails a writer cleanly. A file is written under a temporary
//! name beside the destination and renamed when it is complete: the destination never
//! holds part of a file, and the temporary one is removed on failure or cancellation.
//!
//! Uploads need nothing of their own: `upload_file` takes a form whose file field is a
//! [`LocalFile`](tallyfy_api::LocalFile), streamed from disk when it is sent, and
//! follows the retry rules of any POST: sent again (the file reopened) after a 429 or
//! when it was not delivered, never after it may have landed.
//!
//! ```no_run
//! use tallyfy::prelude::*;
//!
//! # async fn demo(client: Client) -> Result<(), tallyfy::SaveError> {
//! let saved = client
//!     .download_file()
//!     .org_id("org")
//!     .file_id("asset")
//!     .save()
//!     .progress(|p| eprintln!("{} of {:?} bytes", p.bytes, p.total))
//!     .to_file("report.pdf")
//!     .await?;
//! println!("{} bytes, resumed {} times", saved.bytes(), saved.resumed());
//! # Ok(()) }
//! ```

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use http::{HeaderValue, StatusCode};
use tallyfy_api::{Call, Download, Extension, Operation};
use tokio::io::{AsyncSeekExt, AsyncWrite, AsyncWriteExt};

use crate::error::{Error, ErrorKind};
use crate::execute::{Execute, Resume, transport_error};
use crate::retry::{Outcome, RetryPolicy, Verdict};
use crate::transport::{Sleeper, Transport};
use crate::watchdog::read_within;

/// Saving the file an operation answers with: implemented for `download_file` and
/// `get_file`, and any operation the spec says answers with a file.
pub trait Save: Call<Output = Download> + Send + Sync + sealed::Sealed {
    /// Starts saving; finish with [`Saving::to_file`] or [`Saving::to_writer`].
    fn save<'a>(self) -> Saving<'a>
    where
        Self: 'a,
    {
        let op = Self::OPERATION;
        let ready = self
            .clone()
            .build()
            .map(|(extension, _)| (op, extension))
            .map_err(|reason| Error::invalid_input(Some(op), reason));
        Saving {
            ready,
            fetch: Box::new(move |resume| {
                let call = self.clone();
                Box::pin(async move { call.customize().resume(resume).execute().await })
            }),
            progress: None,
        }
    }
}

impl<C: Call<Output = Download> + Send + Sync> Save for C {}

mod sealed {
    /// Only the operations that answer with a file save.
    pub trait Sealed {}
    impl<C: tallyfy_api::Call<Output = tallyfy_api::Download>> Sealed for C {}
}

/// Sends the call again, asking for the rest of the file when resuming.
type Fetch<'a> = Box<
    dyn FnMut(Option<Resume>) -> Pin<Box<dyn Future<Output = Result<Download, Error>> + Send + 'a>>
        + Send
        + 'a,
>;

/// How far a transfer has come: a download being saved, or an upload being sent
/// ([`Customized::progress`](crate::Customized::progress)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes saved (or sent) so far.
    pub bytes: u64,
    /// The file's (or the form's) size, when it is known.
    pub total: Option<u64>,
}

/// A download being set up, whatever its operation; see [`Save::save`] and
/// [`Client::save`](crate::Client::save).
pub struct Saving<'a> {
    /// The operation and the client's extension, holding its transport; or why the
    /// call could not be built.
    ready: Result<(&'static Operation, Extension), Error>,
    fetch: Fetch<'a>,
    progress: Option<Box<dyn FnMut(Progress) + Send + 'a>>,
}

impl std::fmt::Debug for Saving<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Saving")
            .field("operation", &self.ready.as_ref().ok().map(|(op, _)| op.id))
            .finish_non_exhaustive()
    }
}

/// A saved file: how many bytes, and what the server said of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Saved {
    bytes: u64,
    resumed: u32,
    content_type: Option<String>,
    filename: Option<String>,
}

impl Saved {
    /// The file's size in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// How many times a broken download was resumed (or started over).
    pub fn resumed(&self) -> u32 {
        self.resumed
    }

    /// The file's MIME type, as the server said it.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The file's name, as the server said it (`Content-Disposition`), without
    /// directories.
    pub fn filename(&self) -> Option<&str> {
        self.filename.as_deref()
    }
}

/// Why a file could not be saved: the API's answer, or the local file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaveError {
    /// The request failed, or the download broke and could not be resumed.
    #[error(transparent)]
    Api(#[from] Error),
    /// The destination could not be written.
    #[error("{} could not be written", path.as_deref().map_or("the writer".into(), |p| p.display().to_string()))]
    Write {
        /// The file, or `None` for a writer.
        path: Option<PathBuf>,
        /// What the file system (or the writer) said.
        #[source]
        source: io::Error,
    },
}

impl<'a> Saving<'a> {
    /// A download that fails with `error` when it is finished.
    pub(crate) fn failed(error: Error) -> Self {
        Saving {
            ready: Err(error),
            // Never called: finishing it returns the error first.
            fetch: Box::new(|_| Box::pin(std::future::pending())),
            progress: None,
        }
    }

    /// Calls `progress` after each chunk is written.
    pub fn progress(mut self, progress: impl FnMut(Progress) + Send + 'a) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// Saves the file at `path`: written under a temporary name beside it
    /// (`.NAME.<random>.part`), renamed to `path` when complete, removed on failure or
    /// when the future is dropped.
    pub async fn to_file(self, path: impl AsRef<Path>) -> Result<Saved, SaveError> {
        let path = path.as_ref();
        let write_error = |source| SaveError::Write {
            path: Some(path.to_path_buf()),
            source,
        };
        let copying = self.start()?;
        let (part, mut file) = Partial::create(path).await.map_err(write_error)?;
        let saved = copying.copy(Sink::File(&mut file), Some(path)).await?;
        file.sync_all().await.map_err(write_error)?;
        drop(file);
        part.persist(path).await.map_err(write_error)?;
        Ok(saved)
    }

    /// Writes the file to `writer`. A download that breaks is resumed if the server
    /// honours `Range`; one that would have to start over fails, as what was written
    /// cannot be taken back.
    pub async fn to_writer<W>(self, writer: &mut W) -> Result<Saved, SaveError>
    where
        W: AsyncWrite + Unpin + Send,
    {
        self.start()?.copy(Sink::Writer(writer), None).await
    }

    /// The download, or why it cannot start.
    fn start(self) -> Result<Copying<'a>, Error> {
        let (op, extension) = self.ready?;
        let transport = extension.get::<Transport>().ok_or_else(|| {
            Error::invalid_input(Some(op), "built by a client that cannot send it")
        })?;
        Ok(Copying {
            op,
            idle: transport.timeout,
            retry: transport.retry.clone(),
            sleep: transport.sleep.clone(),
            fetch: self.fetch,
            progress: self.progress,
        })
    }
}

/// A download under way: the operation, the client's settings it resumes by, and how to
/// ask for (the rest of) the file.
struct Copying<'a> {
    op: &'static Operation,
    idle: Duration,
    retry: RetryPolicy,
    sleep: Sleeper,
    fetch: Fetch<'a>,
    progress: Option<Box<dyn FnMut(Progress) + Send + 'a>>,
}

impl Copying<'_> {
    /// Copies the file into `sink`, resuming after each break that the retry policy
    /// would resend a GET after; breaks in a row that get no further than before count
    /// as attempts, a break after new progress starts the count again.
    async fn copy(mut self, mut sink: Sink<'_>, path: Option<&Path>) -> Result<Saved, SaveError> {
        let op = self.op;
        let write_error = |source| SaveError::Write {
            path: path.map(Path::to_path_buf),
            source,
        };
        let (mut saved, mut resumed, mut fruitless) = (0u64, 0u32, 0u32);
        // The most ever saved: a break that got no further counts against the budget.
        let mut furthest = 0u64;
        // What the first answer said of the file: its size and its version.
        let mut first: Option<(Option<u64>, Option<HeaderValue>)> = None;
        loop {
            let resume = first
                .as_ref()
                .filter(|_| saved > 0)
                .map(|(_, version)| Resume {
                    from: saved,
                    if_range: version.clone(),
                });
            let mut download = (self.fetch)(resume).await?;
            let whole = download.status() != StatusCode::PARTIAL_CONTENT;
            if saved > 0 {
                let size = first.as_ref().and_then(|(size, _)| *size);
                let rest = !whole && content_range(&download) == Some((saved, size));
                if whole && sink.restart().await.map_err(write_error)? {
                    // A new version, or a server that ignores `Range`: from the top.
                    saved = 0;
                    first = None;
                } else if !rest {
                    return Err(Error::new(
                        ErrorKind::Interrupted,
                        Some(op),
                        "the download broke, and the server would not send the rest of the same file: what was written cannot be taken back",
                    )
                    .into());
                }
            }
            let size = match whole {
                true => download.content_length(),
                false => content_range(&download).and_then(|(_, size)| size),
            };
            first.get_or_insert_with(|| (size, version(&download)));
            let mut report = |saved| {
                if let Some(progress) = self.progress.as_mut() {
                    progress(Progress {
                        bytes: saved,
                        total: size,
                    });
                }
            };
            report(saved);
            let broken = loop {
                match read_within(Some(self.idle), download.chunk()).await {
                    Ok(Some(chunk)) => {
                        sink.write(&chunk).await.map_err(write_error)?;
                        saved += chunk.len() as u64;
                        report(saved);
                    }
                    Ok(None) => break None,
                    Err(broken) => break Some(broken),
                }
            };
            let Some(error) = broken else {
                sink.flush().await.map_err(write_error)?;
                return Ok(Saved {
                    bytes: saved,
                    resumed,
                    content_type: download.content_type().map(str::to_owned),
                    filename: download.filename(),
                });
            };
            resumed += 1;
            fruitless = if saved > furthest { 1 } else { fruitless + 1 };
            furthest = furthest.max(saved);
            let outcome = Outcome::Failed(error.failure);
            match self.retry.decide(true, &outcome, fruitless) {
                Verdict::Retry { wait, reason } => {
                    tracing::info!(operation = op.id, saved, reason, "resuming the download");
                    (self.sleep)(wait).await;
                }
                Verdict::Stop => return Err(transport_error(op, error, resumed).into()),
            }
        }
    }
}

/// Where the chunks go: a file can be started over, a writer cannot.
enum Sink<'a> {
    File(&'a mut tokio::fs::File),
    Writer(&'a mut (dyn AsyncWrite + Unpin + Send)),
}

impl Sink<'_> {
    fn writer(&mut self) -> &mut (dyn AsyncWrite + Unpin + Send) {
        match self {
            Sink::File(file) => *file,
            Sink::Writer(writer) => *writer,
        }
    }

    async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.writer().write_all(chunk).await
    }

    async fn flush(&mut self) -> io::Result<()> {
        self.writer().flush().await
    }

    /// Empties what was written, if it can be: `false` for a writer.
    async fn restart(&mut self) -> io::Result<bool> {
        match self {
            Sink::File(file) => {
                file.set_len(0).await?;
                file.rewind().await?;
                Ok(true)
            }
            Sink::Writer(_) => Ok(false),
        }
    }
}

/// The first byte a 206 answer holds and the file's size, if it says it
/// (`Content-Range: bytes N-M/T`, `T` may be `*`).
fn content_range(download: &Download) -> Option<(u64, Option<u64>)> {
    let range = download
        .headers()
        .get(http::header::CONTENT_RANGE)?
        .to_str()
        .ok()?;
    let (span, size) = range.strip_prefix("bytes ")?.split_once('/')?;
    let start = span.split('-').next()?.trim().parse().ok()?;
    Some((start, size.trim().parse().ok()))
}

/// The file's version, for `If-Range`: its strong `ETag`, else its `Last-Modified`.
fn version(download: &Download) -> Option<HeaderValue> {
    let headers = download.headers();
    headers
        .get(http::header::ETAG)
        .filter(|tag| !tag.as_bytes().starts_with(b"W/"))
        .or_else(|| headers.get(http::header::LAST_MODIFIED))
        .cloned()
}

/// A temporary file beside a download's destination, removed unless it is persisted.
struct Partial(Option<PathBuf>);

impl Partial {
    /// Creates `.NAME.<random>.part` beside `path`, never an existing file.
    async fn create(path: &Path) -> io::Result<(Self, tokio::fs::File)> {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let mut tries = 0;
        loop {
            let nonce = RandomState::new().hash_one((path, tries)) & 0xff_ffff;
            let part = path.with_file_name(format!(".{name}.{nonce:06x}.part"));
            match tokio::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&part)
                .await
            {
                Ok(file) => return Ok((Self(Some(part)), file)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 8 => tries += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Renames it to `path`.
    async fn persist(mut self, path: &Path) -> io::Result<()> {
        if let Some(part) = self.0.take()
            && let Err(error) = tokio::fs::rename(&part, path).await
        {
            self.0 = Some(part);
            return Err(error);
        }
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(part) = self.0.take() {
            let _ = std::fs::remove_file(part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_partial_file_sits_beside_its_destination_and_goes_unless_persisted() {
        let dir = std::env::temp_dir().join(format!("tallyfy-partial-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("report.pdf");
        let (part, _file) = Partial::create(&path).await.unwrap();
        let temporary = part.0.clone().unwrap();
        assert_eq!(temporary.parent(), Some(dir.as_path()));
        let name = temporary
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(".report.pdf.") && name.ends_with(".part"),
            "{name}"
        );
        let (other, _) = Partial::create(&path).await.unwrap();
        assert_ne!(other.0, part.0, "two saves to one path do not share a file");
        drop(part);
        assert!(!temporary.exists());
        other.persist(&path).await.unwrap();
        assert!(path.exists());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
