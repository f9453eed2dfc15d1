//! Files: what `download_file` and `get_file` answer with, saved to a file or a writer
//! in flat memory, whatever its size.
//!
//! A download is read a chunk at a time and written as it arrives; no cap applies to
//! it, and no limit to how long it takes while it moves (the client's
//! [`transfer_timeout`](crate::ClientBuilder::transfer_timeout) aside), but a read that
//! waits longer than the client's timeout counts as a broken connection. When the
//! connection breaks midway, the rest is asked for with
//! `Range: bytes=N-` and appended, as often as the client's [`RetryPolicy`] resends a
//! GET after a broken connection; a server that answers the whole file again instead
//! (200, not 206) starts a file over, and fails a writer cleanly. A file is written
//! under a temporary name beside the destination (`NAME.part`) and renamed when it is
//! complete: the destination never holds part of a file, and the temporary one is
//! removed on failure.
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
//!     .progress(|p| eprintln!("{} of {:?} bytes", p.saved, p.total))
//!     .to_file("report.pdf")
//!     .await?;
//! println!("{} bytes, resumed {} times", saved.bytes(), saved.resumed());
//! # Ok(()) }
//! ```

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use http::StatusCode;
use tallyfy_api::{Call, Download, Extension, Operation};
use tokio::io::{AsyncSeekExt, AsyncWrite, AsyncWriteExt};

use crate::error::{Error, ErrorKind};
use crate::execute::{Execute, transport_error};
use crate::retry::{Outcome, Verdict};
use crate::transport::Transport;
use crate::watchdog::read_within;

/// Saving the file an operation answers with: implemented for `download_file` and
/// `get_file`, and any operation the spec says answers with a file.
pub trait Save: Call<Output = Download> + Clone + Send + Sync {
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
            fetch: Box::new(move |offset| {
                let call = self.clone();
                Box::pin(async move { call.customize().resume_from(offset).execute().await })
            }),
            progress: None,
        }
    }
}

impl<C: Call<Output = Download> + Clone + Send + Sync> Save for C {}

/// Sends the call again, asking for the file from a byte on.
type Fetch<'a> = Box<
    dyn FnMut(u64) -> Pin<Box<dyn Future<Output = Result<Download, Error>> + Send + 'a>>
        + Send
        + 'a,
>;

/// How far a download has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes saved so far.
    pub saved: u64,
    /// The file's size, when the server said it.
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
#[non_exhaustive]
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

    /// Saves the file at `path`: written as `path.part`, renamed when complete, removed
    /// on failure.
    pub async fn to_file(self, path: impl AsRef<Path>) -> Result<Saved, SaveError> {
        let path = path.as_ref();
        let part = partial(path);
        let write_error = |source| SaveError::Write {
            path: Some(path.to_path_buf()),
            source,
        };
        let mut file = tokio::fs::File::create(&part).await.map_err(write_error)?;
        let result = self
            .copy(Sink::<tokio::fs::File>::File(&mut file), Some(path))
            .await;
        let finished = match result {
            Ok(saved) => match file.sync_all().await {
                Ok(()) => {
                    drop(file);
                    tokio::fs::rename(&part, path)
                        .await
                        .map(|()| saved)
                        .map_err(write_error)
                }
                Err(e) => Err(write_error(e)),
            },
            Err(error) => Err(error),
        };
        if finished.is_err() {
            let _ = tokio::fs::remove_file(&part).await;
        }
        finished
    }

    /// Writes the file to `writer`. A download that breaks is resumed if the server
    /// honours `Range`; one that would have to start over fails, as what was written
    /// cannot be taken back.
    pub async fn to_writer<W>(self, writer: &mut W) -> Result<Saved, SaveError>
    where
        W: AsyncWrite + Unpin + Send,
    {
        self.copy(Sink::Writer(writer), None).await
    }

    async fn copy(
        mut self,
        mut sink: Sink<'_, impl AsyncWrite + Unpin + Send>,
        path: Option<&Path>,
    ) -> Result<Saved, SaveError> {
        let (op, extension) = self.ready?;
        let write_error = |source| SaveError::Write {
            path: path.map(Path::to_path_buf),
            source,
        };
        let transport = extension.get::<Transport>().ok_or_else(|| {
            Error::invalid_input(Some(op), "built by a client that cannot send it")
        })?;
        let mut saved = 0u64;
        let mut resumed = 0u32;
        loop {
            let mut download = (self.fetch)(saved).await?;
            if saved > 0 {
                let rest = download.status() == StatusCode::PARTIAL_CONTENT
                    && range_start(&download) == Some(saved);
                let whole = download.status() == StatusCode::OK;
                if whole && sink.restart().await.map_err(write_error)? {
                    saved = 0;
                } else if !rest {
                    return Err(Error::new(
                        ErrorKind::Interrupted,
                        Some(op),
                        "the download broke, and the server would not send the rest: what was written cannot be taken back",
                    )
                    .into());
                }
            }
            let total = download.content_length().map(|length| length + saved);
            let mut report = |saved| {
                if let Some(progress) = self.progress.as_mut() {
                    progress(Progress { saved, total });
                }
            };
            report(saved);
            let idle = transport.timeout;
            let broken = loop {
                match read_within(Some(idle), download.chunk()).await {
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
            let outcome = Outcome::Failed(error.failure);
            match transport.retry.decide(true, &outcome, resumed) {
                Verdict::Retry { wait, reason } => {
                    tracing::info!(operation = op.id, saved, reason, "resuming the download");
                    (transport.sleep)(wait).await;
                }
                Verdict::Stop => return Err(transport_error(op, error, resumed).into()),
            }
        }
    }
}

/// Where the chunks go.
enum Sink<'a, W> {
    File(&'a mut tokio::fs::File),
    Writer(&'a mut W),
}

impl<W: AsyncWrite + Unpin + Send> Sink<'_, W> {
    async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        match self {
            Sink::File(file) => file.write_all(chunk).await,
            Sink::Writer(writer) => writer.write_all(chunk).await,
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::File(file) => file.flush().await,
            Sink::Writer(writer) => writer.flush().await,
        }
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

/// The first byte a 206 answer holds (`Content-Range: bytes N-M/T`).
fn range_start(download: &Download) -> Option<u64> {
    let range = download
        .headers()
        .get(http::header::CONTENT_RANGE)?
        .to_str()
        .ok()?;
    range
        .strip_prefix("bytes ")?
        .split('-')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// `path` with `.part` added to its name: where a download is written until complete.
fn partial(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_file_sits_beside_its_destination() {
        assert_eq!(
            partial(Path::new("out/report.pdf")),
            Path::new("out/report.pdf.part")
        );
        assert_eq!(partial(Path::new("report")), Path::new("report.part"));
    }
}
