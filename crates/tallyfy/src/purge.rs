//! Bulk purge: permanently delete many archived processes, inside the rate limit, with
//! exactly one outcome per process and an optional journal to resume from.
//!
//! - **Sources**: process IDs (a list or a stream), or every process archived before a moment
//!   (streamed with [`Client::processes`], so memory stays flat however many there are).
//! - **Concurrency**: up to N deletes in flight. They share the client, hence its rate
//!   gate: one 429 slows every worker for its `Retry-After`.
//! - **Outcomes**: exactly one per ID: [`PurgeOutcome`], counted by name ([`OutcomeName`])
//!   in a [`PurgeSummary`]. [`Purge::start`] is the one entry point: the counts of earlier
//!   runs of the journal, and a stream of this run's outcomes for progress.
//!   [`Purge::run`] (the stream alone) and [`Purge::summary`] (the counts at the end) are
//!   conveniences over it.
//! - **Journal** (JSON lines, each written whole before the purge goes on; see
//!   [durability](Purge::journal)): `{"id":…,"event":"started"}` before a
//!   delete is sent, `{"id":…,"outcome":…}` after (with `kind`, and for `failed` a
//!   `message`). Rerun with the same journal, a purge skips the IDs that have an outcome
//!   (other than `failed`), deletes again those that were started without one (a 404
//!   then means the earlier run deleted it), and its summary counts the whole job.
//! - **Dry run**: lists what would be deleted; deletes and journals nothing.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, mpsc};
use std::time::SystemTime;

use futures_util::stream::{self, BoxStream};
use futures_util::{Stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Deserializer, Serialize};
use tokio::sync::oneshot;

use tallyfy_api::types::Run;

use crate::pages::ProcessQuery;
use crate::{Client, Error, ErrorKind, Execute};

/// What became of one process.
#[derive(Debug)]
#[non_exhaustive]
pub enum PurgeOutcome {
    /// Deleted by this run.
    Deleted,
    /// Not there any more: deleted by an earlier attempt or run (`already_gone`), or by
    /// someone else (`not_found`). The kind says which.
    AlreadyGone {
        /// [`ErrorKind::AlreadyGone`] or [`ErrorKind::NotFound`].
        kind: ErrorKind,
    },
    /// Not archived (422): left alone.
    NotArchived,
    /// The token may not delete it (403).
    Forbidden,
    /// Any other failure: the process may still exist; a rerun tries it again.
    Failed(Error),
    /// Dry run: it would be deleted.
    WouldDelete,
}

impl PurgeOutcome {
    /// The outcome's stable name, as in the journal and the command line's JSON: the
    /// [`OutcomeName`]'s (`OutcomeName::from(&outcome)` for the typed name).
    pub fn name(&self) -> &'static str {
        OutcomeName::from(self).as_str()
    }

    fn of(result: Result<(), Error>) -> Self {
        match result {
            Ok(()) => PurgeOutcome::Deleted,
            Err(e) if e.is_already_gone() || e.is_not_found() => {
                PurgeOutcome::AlreadyGone { kind: e.kind() }
            }
            Err(e) if e.is_unprocessable() => PurgeOutcome::NotArchived,
            Err(e) if e.is_forbidden() => PurgeOutcome::Forbidden,
            Err(e) => PurgeOutcome::Failed(e),
        }
    }
}

/// The name of a [`PurgeOutcome`], without its details: what a [`PurgeSummary`] counts
/// and the journal records. Serialized as its [`as_str`](Self::as_str) name.
///
/// ```
/// use tallyfy::purge::OutcomeName;
/// use tallyfy::{ErrorKind, PurgeOutcome};
///
/// let outcome = PurgeOutcome::AlreadyGone { kind: ErrorKind::NotFound };
/// assert_eq!(OutcomeName::from(&outcome), OutcomeName::AlreadyGone);
/// assert_eq!(OutcomeName::AlreadyGone.as_str(), outcome.name());
/// assert_eq!(OutcomeName::from_name("already_gone"), Some(OutcomeName::AlreadyGone));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OutcomeName {
    /// [`PurgeOutcome::Deleted`].
    Deleted,
    /// [`PurgeOutcome::AlreadyGone`].
    AlreadyGone,
    /// [`PurgeOutcome::NotArchived`].
    NotArchived,
    /// [`PurgeOutcome::Forbidden`].
    Forbidden,
    /// [`PurgeOutcome::Failed`].
    Failed,
    /// [`PurgeOutcome::WouldDelete`].
    WouldDelete,
}

impl OutcomeName {
    /// Every name.
    pub const ALL: &'static [OutcomeName] = &[
        OutcomeName::Deleted,
        OutcomeName::AlreadyGone,
        OutcomeName::NotArchived,
        OutcomeName::Forbidden,
        OutcomeName::Failed,
        OutcomeName::WouldDelete,
    ];

    /// The stable snake_case name, such as `already_gone`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OutcomeName::Deleted => "deleted",
            OutcomeName::AlreadyGone => "already_gone",
            OutcomeName::NotArchived => "not_archived",
            OutcomeName::Forbidden => "forbidden",
            OutcomeName::Failed => "failed",
            OutcomeName::WouldDelete => "would_delete",
        }
    }

    /// The outcome named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<OutcomeName> {
        OutcomeName::ALL
            .iter()
            .copied()
            .find(|n| n.as_str() == name)
    }
}

impl From<&PurgeOutcome> for OutcomeName {
    fn from(outcome: &PurgeOutcome) -> Self {
        match outcome {
            PurgeOutcome::Deleted => OutcomeName::Deleted,
            PurgeOutcome::AlreadyGone { .. } => OutcomeName::AlreadyGone,
            PurgeOutcome::NotArchived => OutcomeName::NotArchived,
            PurgeOutcome::Forbidden => OutcomeName::Forbidden,
            PurgeOutcome::Failed(_) => OutcomeName::Failed,
            PurgeOutcome::WouldDelete => OutcomeName::WouldDelete,
        }
    }
}

impl std::fmt::Display for OutcomeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One process's outcome.
#[derive(Debug)]
pub struct PurgeEvent {
    /// The process ID.
    pub id: String,
    /// What became of it.
    pub outcome: PurgeOutcome,
}

/// Why a purge stopped before the end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PurgeError {
    /// Listing the processes failed (after retries).
    #[error("listing the processes failed")]
    Listing(#[source] Error),
    /// The journal could not be read or written: stopping is the only safe course.
    #[error("the journal {} could not be read or written", path.display())]
    Journal {
        /// The journal's file.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
}

/// The counts of a whole purge, earlier runs of the same journal included.
///
/// ```
/// use tallyfy::purge::OutcomeName;
/// use tallyfy::{PurgeOutcome, PurgeSummary};
///
/// let mut summary = PurgeSummary::default();
/// summary.add(&PurgeOutcome::Deleted);
/// summary.add(OutcomeName::Forbidden);
/// assert_eq!((summary.deleted, summary.forbidden, summary.total()), (1, 1, 2));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PurgeSummary {
    /// Deleted.
    pub deleted: u64,
    /// Already gone.
    pub already_gone: u64,
    /// Not archived, left alone.
    pub not_archived: u64,
    /// Refused to this token.
    pub forbidden: u64,
    /// Failed: a rerun tries them again.
    pub failed: u64,
    /// Dry run: would be deleted.
    pub would_delete: u64,
    /// Of the counts above, those recorded by earlier runs of the journal.
    pub from_journal: u64,
}

impl PurgeSummary {
    /// Counts one outcome: a [`PurgeOutcome`] (by reference) or its [`OutcomeName`].
    pub fn add(&mut self, outcome: impl Into<OutcomeName>) {
        *self.count_mut(outcome.into()) += 1;
    }

    /// How many outcomes named `name` were counted.
    pub fn count(&self, name: OutcomeName) -> u64 {
        match name {
            OutcomeName::Deleted => self.deleted,
            OutcomeName::AlreadyGone => self.already_gone,
            OutcomeName::NotArchived => self.not_archived,
            OutcomeName::Forbidden => self.forbidden,
            OutcomeName::Failed => self.failed,
            OutcomeName::WouldDelete => self.would_delete,
        }
    }

    fn count_mut(&mut self, name: OutcomeName) -> &mut u64 {
        match name {
            OutcomeName::Deleted => &mut self.deleted,
            OutcomeName::AlreadyGone => &mut self.already_gone,
            OutcomeName::NotArchived => &mut self.not_archived,
            OutcomeName::Forbidden => &mut self.forbidden,
            OutcomeName::Failed => &mut self.failed,
            OutcomeName::WouldDelete => &mut self.would_delete,
        }
    }

    /// Every outcome counted.
    pub fn total(&self) -> u64 {
        OutcomeName::ALL.iter().map(|name| self.count(*name)).sum()
    }
}

type IdStream = Pin<Box<dyn Stream<Item = Result<String, PurgeError>> + Send>>;

/// Which processes a purge deletes.
enum Source {
    /// These IDs.
    Ids(IdStream),
    /// Those listed by the query and archived before the cutoff.
    ArchivedBefore(ProcessQuery, jiff::Timestamp),
}

/// A purge being configured; see the [module docs](self).
pub struct Purge {
    client: Client,
    org_id: String,
    source: Source,
    concurrency: usize,
    journal: Option<PathBuf>,
    dry_run: bool,
}

impl Client {
    /// Purges every process of `org_id` archived before `cutoff`.
    ///
    /// ```no_run
    /// use std::time::{Duration, SystemTime};
    /// use futures_util::StreamExt;
    ///
    /// # async fn demo(client: tallyfy::Client) -> Result<(), tallyfy::PurgeError> {
    /// let a_year_ago = SystemTime::now() - Duration::from_secs(365 * 86_400);
    /// let summary = client
    ///     .purge_archived_before("org", a_year_ago)
    ///     .concurrency(16)
    ///     .journal("purge.jsonl")
    ///     .summary()
    ///     .await?;
    /// println!("{} deleted, {} failed", summary.deleted, summary.failed);
    /// # Ok(()) }
    /// ```
    pub fn purge_archived_before(&self, org_id: impl Into<String>, cutoff: SystemTime) -> Purge {
        let org_id = org_id.into();
        let cutoff = jiff::Timestamp::try_from(cutoff).unwrap_or(jiff::Timestamp::MIN);
        let query = self.processes(org_id.clone()).archived("only");
        Purge::new(self.clone(), org_id, Source::ArchivedBefore(query, cutoff))
    }

    /// Purges the processes `ids` of `org_id` (each ID gets one outcome).
    pub fn purge_ids<I>(&self, org_id: impl Into<String>, ids: I) -> Purge
    where
        I: IntoIterator<Item = String>,
        I::IntoIter: Send + 'static,
    {
        self.purge_id_stream(org_id, stream::iter(ids))
    }

    /// Purges the processes of `org_id` whose IDs `ids` yields, as they come (each ID
    /// gets one outcome): IDs read from a file or a queue, say.
    pub fn purge_id_stream<S>(&self, org_id: impl Into<String>, ids: S) -> Purge
    where
        S: Stream<Item = String> + Send + 'static,
    {
        Purge::new(
            self.clone(),
            org_id.into(),
            Source::Ids(Box::pin(ids.map(Ok))),
        )
    }
}

impl Purge {
    fn new(client: Client, org_id: String, source: Source) -> Self {
        Self {
            client,
            org_id,
            source,
            concurrency: 8,
            journal: None,
            dry_run: false,
        }
    }

    /// Deletes in flight at once (default 8, at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Records every outcome in `path` (JSON lines) and resumes from it.
    ///
    /// **Durability.** Each entry is handed to the operating system whole, in one write,
    /// before the purge goes on (`started` before its delete is sent, the outcome after),
    /// so a killed process (SIGKILL, a crash) loses nothing it wrote. The writes happen on
    /// a thread of the journal's own, not on the async runtime's workers: a delete waits
    /// for the writer's word that its entry is written. It is synced to
    /// disk when the purge ends, not per entry: an operating system crash may lose the
    /// last entries, which is safe (a process whose delete landed is no longer listed; one
    /// whose `started` was lost before its delete is still archived and is deleted by
    /// the rerun). A last line cut off by a crash is removed when the journal is opened
    /// again; in normal operation it holds no blank or unreadable line.
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Self {
        self.journal = Some(path.into());
        self
    }

    /// Lists what would be deleted; deletes and journals nothing.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// A convenience over [`start`](Self::start): this run's outcomes alone, without the
    /// counts of earlier runs.
    pub fn run(self) -> impl Stream<Item = Result<PurgeEvent, PurgeError>> + Send {
        self.start().1
    }

    /// A convenience over [`start`](Self::start): runs the purge to the end and returns
    /// the counts of the whole job, earlier runs of the journal included, or the error
    /// that stopped it.
    pub async fn summary(self) -> Result<PurgeSummary, PurgeError> {
        let (mut summary, mut events) = self.start();
        while let Some(event) = events.next().await {
            summary.add(&event?.outcome);
        }
        Ok(summary)
    }

    /// Starts the purge, the one entry point: returns the counts recorded by earlier runs
    /// of the journal (see [`PurgeSummary::from_journal`]; add this run's outcomes to them
    /// for the whole job) and the stream of this run's outcomes, one per process, in
    /// completion order. The stream ends with the last process, or with an error that
    /// stops the purge (a journal that cannot be opened is its only item). Dropping it
    /// stops the purge; the journal then resumes it.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    ///
    /// # async fn demo(client: tallyfy::Client) -> Result<(), tallyfy::PurgeError> {
    /// let purge = client.purge_ids("org", vec!["run1".to_string(), "run2".to_string()]);
    /// let (mut summary, mut events) = purge.journal("purge.jsonl").start();
    /// while let Some(event) = events.next().await {
    ///     let event = event?;
    ///     println!("{}: {}", event.id, event.outcome.name());
    ///     summary.add(&event.outcome);
    /// }
    /// println!("{} of {} deleted", summary.deleted, summary.total());
    /// # Ok(()) }
    /// ```
    pub fn start(
        self,
    ) -> (
        PurgeSummary,
        BoxStream<'static, Result<PurgeEvent, PurgeError>>,
    ) {
        let Purge {
            client,
            org_id,
            source,
            concurrency,
            journal,
            dry_run,
        } = self;
        let (journal, earlier) = match journal.filter(|_| !dry_run).map(Journal::open).transpose() {
            Ok(Some((journal, earlier))) => (Some(Arc::new(journal)), earlier),
            Ok(None) => (None, Earlier::default()),
            Err(e) => {
                return (
                    PurgeSummary::default(),
                    stream::once(async { Err(e) }).boxed(),
                );
            }
        };
        // Started or failed without a final outcome: tried again first, once. Finished:
        // skipped.
        let mut known = earlier.finished;
        known.extend(earlier.unfinished.iter().cloned());
        let ids = stream::iter(earlier.unfinished.into_iter().map(Ok)).chain(
            source
                .ids(concurrency)
                .try_filter(move |id| std::future::ready(!known.contains(id))),
        );
        let started = journal.clone();
        let deletes = ids.map_ok(move |id| {
            let (client, org_id, journal) = (client.clone(), org_id.clone(), started.clone());
            async move {
                if dry_run {
                    return Ok(PurgeEvent {
                        id,
                        outcome: PurgeOutcome::WouldDelete,
                    });
                }
                if let Some(journal) = &journal {
                    journal.write(Entry::started(&id)).await?;
                }
                let result = client
                    .permanently_delete_process()
                    .org_id(org_id.as_str())
                    .run_id(&id)
                    .execute()
                    .await;
                Ok(PurgeEvent {
                    id,
                    outcome: PurgeOutcome::of(result),
                })
            }
        });
        // Each outcome is journaled as it is handed out, one at a time: the journal holds
        // the outcomes the caller was given (and, if the stream is dropped while one is
        // being written, that one), not those of deletes that ended unseen.
        let events = deletes
            .try_buffer_unordered(concurrency)
            .and_then(move |event| {
                let journal = journal.clone();
                async move {
                    if let Some(journal) = &journal {
                        journal
                            .write(Entry::finished(&event.id, &event.outcome))
                            .await?;
                    }
                    Ok(event)
                }
            });
        let mut counts = earlier.counts;
        counts.from_journal = counts.total();
        (counts, events.boxed())
    }
}

impl Source {
    fn ids(self, concurrency: usize) -> IdStream {
        match self {
            Source::Ids(ids) => ids,
            Source::ArchivedBefore(query, cutoff) => read_ahead(query, cutoff, concurrency),
        }
    }
}

/// Lists ahead of the deletes, in a task of its own, so that they never wait for a
/// page. It keeps only a few IDs queued (half the concurrency): reading further ahead
/// would find the list barely changed since the last read.
fn read_ahead(query: ProcessQuery, cutoff: jiff::Timestamp, concurrency: usize) -> IdStream {
    let (sender, receiver) = tokio::sync::mpsc::channel((concurrency / 2).max(1));
    tokio::spawn(async move {
        let mut batches = Box::pin(query.batches_from_front());
        while let Some(batch) = batches.next().await {
            let ids: Vec<Result<String, PurgeError>> = match batch {
                Err(error) => vec![Err(PurgeError::Listing(error))],
                Ok(batch) => batch
                    .into_iter()
                    .filter(|run| archived_before(run, cutoff))
                    .map(|run| Ok(run.id))
                    .collect(),
            };
            for id in ids {
                // The purge was dropped: stop listing.
                if sender.send(id).await.is_err() {
                    return;
                }
            }
        }
    });
    Box::pin(stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    }))
}

fn archived_before(run: &Run, cutoff: jiff::Timestamp) -> bool {
    let archived_at = run
        .archived_at
        .as_deref()
        .and_then(|at| at.parse::<jiff::Timestamp>().ok());
    archived_at.is_some_and(|at| at < cutoff)
}

/// One line of the journal.
///
/// Serialized exactly as the journal has always been written (keys in this order):
/// `{"event":"started","id":…}` and `{"id":…,"kind":…,"message":…,"outcome":…}`, `kind`
/// and `message` only when there is one. Read back, unknown keys are ignored, and so is
/// a `kind` this version does not know; a line that is not one of these is skipped.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum Entry {
    /// An outcome: the last word on the ID (unless `failed`).
    Finished {
        id: String,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "known_kind"
        )]
        kind: Option<ErrorKind>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        outcome: OutcomeName,
    },
    /// A delete about to be sent.
    Started { event: Event, id: String },
}

/// The `event` of a journal line without an outcome.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Event {
    Started,
}

impl Entry {
    fn started(id: &str) -> Self {
        Entry::Started {
            event: Event::Started,
            id: id.to_owned(),
        }
    }

    /// The record of an outcome: with the error's kind and explanation if it failed, the
    /// kind of 404 if it was already gone.
    fn finished(id: &str, outcome: &PurgeOutcome) -> Self {
        let (kind, message) = match outcome {
            PurgeOutcome::Failed(e) => (Some(e.kind()), Some(e.explanation().to_owned())),
            PurgeOutcome::AlreadyGone { kind } => (Some(*kind), None),
            _ => (None, None),
        };
        Entry::Finished {
            id: id.to_owned(),
            kind,
            message,
            outcome: outcome.into(),
        }
    }
}

/// An error kind, or none if absent, null or unknown (written by a later version).
fn known_kind<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<ErrorKind>, D::Error> {
    let name = Option::<String>::deserialize(deserializer)?;
    Ok(name.as_deref().and_then(ErrorKind::from_name))
}

/// What a journal says of earlier runs.
#[derive(Default)]
struct Earlier {
    /// IDs with an outcome other than `failed`.
    finished: HashSet<String>,
    /// IDs started without an outcome, and failed ones: to be tried again.
    unfinished: BTreeSet<String>,
    /// The outcomes of `finished`.
    counts: PurgeSummary,
}

/// An entry for the writer, and where to say how writing it went.
type Request = (Entry, oneshot::Sender<std::io::Result<()>>);

/// The append-only journal; see [`Purge::journal`] for what it promises. Entries go to a
/// thread of its own, which writes each in one `write` and acknowledges it; dropping the
/// journal ends the thread, which syncs the file to disk, and waits for it.
struct Journal {
    path: PathBuf,
    requests: Option<mpsc::Sender<Request>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Journal {
    fn open(path: PathBuf) -> Result<(Self, Earlier), PurgeError> {
        let failed = |source| PurgeError::Journal {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(failed)?;
        let (earlier, complete) = Self::read(&file).map_err(failed)?;
        // A torn last line: cut it, so that the next entry starts a line of its own.
        if file.metadata().map_err(failed)?.len() > complete {
            file.set_len(complete).map_err(failed)?;
        }
        let (requests, received) = mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("tallyfy-journal".into())
            .spawn(move || Self::writer(file, received))
            .map_err(failed)?;
        Ok((
            Self {
                path,
                requests: Some(requests),
                writer: Some(writer),
            },
            earlier,
        ))
    }

    /// Reads a journal, and how many of its bytes are whole lines: a torn last line is
    /// left out of both.
    fn read(file: &File) -> std::io::Result<(Earlier, u64)> {
        let mut started = Vec::new();
        let mut outcomes = HashMap::new();
        let mut reader = BufReader::new(file);
        let (mut line, mut complete) = (Vec::new(), 0u64);
        loop {
            line.clear();
            let read = reader.read_until(b'\n', &mut line)?;
            if read == 0 || line.last() != Some(&b'\n') {
                break;
            }
            complete += read as u64;
            match serde_json::from_slice::<Entry>(&line) {
                Ok(Entry::Finished { id, outcome, .. }) => {
                    outcomes.insert(id, outcome);
                }
                Ok(Entry::Started { id, .. }) => started.push(id),
                // Unreadable: skipped.
                Err(_) => {}
            }
        }
        let mut earlier = Earlier::default();
        for (id, outcome) in outcomes {
            if outcome == OutcomeName::Failed {
                earlier.unfinished.insert(id);
            } else {
                earlier.counts.add(outcome);
                earlier.finished.insert(id);
            }
        }
        let finished = &earlier.finished;
        let interrupted: Vec<String> = started
            .into_iter()
            .filter(|id| !finished.contains(id))
            .collect();
        earlier.unfinished.extend(interrupted);
        Ok((earlier, complete))
    }

    /// The writer thread: appends each entry, whole, in one write, and says how it went;
    /// syncs the file when every sender is gone.
    fn writer(mut file: File, requests: mpsc::Receiver<Request>) {
        for (entry, written) in requests {
            let result = serde_json::to_vec(&entry)
                .map_err(std::io::Error::other)
                .and_then(|mut line| {
                    line.push(b'\n');
                    file.write_all(&line)
                });
            // The purge may have been dropped meanwhile: nobody to tell.
            let _ = written.send(result);
        }
        let _ = file.sync_data();
    }

    /// Appends one entry, whole, in one write (on the writer thread), and returns once
    /// it is written.
    async fn write(&self, entry: Entry) -> Result<(), PurgeError> {
        let (written, acknowledged) = oneshot::channel();
        let stopped = || std::io::Error::other("the journal's writer thread stopped");
        let sent = self
            .requests
            .as_ref()
            .is_some_and(|requests| requests.send((entry, written)).is_ok());
        let result = if sent {
            acknowledged.await.unwrap_or_else(|_| Err(stopped()))
        } else {
            Err(stopped())
        };
        result.map_err(|source| PurgeError::Journal {
            path: self.path.clone(),
            source,
        })
    }
}

impl Drop for Journal {
    /// Ends the writer thread, which syncs the file, and waits for it: when the purge is
    /// dropped, its journal is on disk.
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// How the journal was written before it was typed.
    fn untyped_line(id: &str, outcome: &PurgeOutcome) -> serde_json::Value {
        let mut line = json!({"id": id, "outcome": outcome.name()});
        match outcome {
            PurgeOutcome::Failed(e) => {
                line["kind"] = json!(e.kind());
                line["message"] = json!(e.explanation());
            }
            PurgeOutcome::AlreadyGone { kind } => line["kind"] = json!(kind),
            _ => {}
        }
        line
    }

    fn every_outcome() -> Vec<PurgeOutcome> {
        vec![
            PurgeOutcome::Deleted,
            PurgeOutcome::AlreadyGone {
                kind: ErrorKind::AlreadyGone,
            },
            PurgeOutcome::AlreadyGone {
                kind: ErrorKind::NotFound,
            },
            PurgeOutcome::NotArchived,
            PurgeOutcome::Forbidden,
            PurgeOutcome::Failed(Error::new(
                ErrorKind::ServerError,
                None,
                "the server failed \"badly\"",
            )),
            PurgeOutcome::WouldDelete,
        ]
    }

    fn temp_journal(name: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("tallyfy-{name}-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        path
    }

    #[test]
    fn typed_entries_are_written_byte_for_byte_as_before() {
        let id = "3f2a";
        assert_eq!(
            serde_json::to_string(&Entry::started(id)).unwrap(),
            json!({"id": id, "event": "started"}).to_string()
        );
        for outcome in every_outcome() {
            assert_eq!(
                serde_json::to_string(&Entry::finished(id, &outcome)).unwrap(),
                untyped_line(id, &outcome).to_string(),
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn typed_entries_read_back_what_they_wrote_and_what_was_written_before() {
        for outcome in every_outcome() {
            let entry = Entry::finished("a", &outcome);
            let written = serde_json::to_vec(&entry).unwrap();
            assert_eq!(serde_json::from_slice::<Entry>(&written).unwrap(), entry);
            let untyped = untyped_line("a", &outcome).to_string();
            assert_eq!(serde_json::from_str::<Entry>(&untyped).unwrap(), entry);
        }
        let started = Entry::started("a");
        for line in [
            r#"{"id":"a","event":"started"}"#,
            r#"{"event":"started","id":"a"}"#,
            r#"{"event":"started","id":"a","at":"2025-01-01"}"#,
        ] {
            assert_eq!(
                serde_json::from_str::<Entry>(line).unwrap(),
                started,
                "{line}"
            );
        }
        // Any key order, unknown keys, and a kind this version does not know.
        let finished = |kind, message: Option<&str>, outcome| Entry::Finished {
            id: "a".into(),
            kind,
            message: message.map(str::to_owned),
            outcome,
        };
        for (line, entry) in [
            (
                r#"{"outcome":"deleted","id":"a"}"#,
                finished(None, None, OutcomeName::Deleted),
            ),
            (
                r#"{"outcome":"failed","kind":"teapot","message":"m","id":"a","x":1}"#,
                finished(None, Some("m"), OutcomeName::Failed),
            ),
            (
                r#"{"id":"a","kind":null,"outcome":"forbidden"}"#,
                finished(None, None, OutcomeName::Forbidden),
            ),
            (
                r#"{"id":"a","kind":"not_found","outcome":"already_gone"}"#,
                finished(Some(ErrorKind::NotFound), None, OutcomeName::AlreadyGone),
            ),
        ] {
            assert_eq!(
                serde_json::from_str::<Entry>(line).unwrap(),
                entry,
                "{line}"
            );
        }
        // Not an entry: skipped by the reader.
        for line in [
            r#"{"id":"a","outcome":"exploded"}"#,
            r#"{"id":"a"}"#,
            r#"{"id":"a","event":"finished"}"#,
            r#"{"outcome":"deleted"}"#,
            r#"{"id":7,"outcome":"deleted"}"#,
            "[]",
            "not json",
        ] {
            assert!(serde_json::from_str::<Entry>(line).is_err(), "{line}");
        }
    }

    #[test]
    fn a_journal_in_the_untyped_format_resumes() {
        let path = temp_journal("untyped");
        let failed = PurgeOutcome::Failed(Error::new(ErrorKind::Timeout, None, "no answer"));
        let mut text = String::new();
        for line in [
            json!({"id": "done", "event": "started"}),
            untyped_line("done", &PurgeOutcome::Deleted),
            json!({"id": "gone", "event": "started"}),
            untyped_line(
                "gone",
                &PurgeOutcome::AlreadyGone {
                    kind: ErrorKind::AlreadyGone,
                },
            ),
            untyped_line("kept", &PurgeOutcome::NotArchived),
            untyped_line("refused", &PurgeOutcome::Forbidden),
            json!({"id": "interrupted", "event": "started"}),
            json!({"id": "retry", "event": "started"}),
            untyped_line("retry", &failed),
        ] {
            text.push_str(&line.to_string());
            text.push('\n');
        }
        text.push_str("garbage\n");
        let whole = text.len() as u64;
        text.push_str(r#"{"id":"torn","outc"#);
        std::fs::write(&path, &text).unwrap();

        let (journal, earlier) = Journal::open(path.clone()).unwrap();
        drop(journal);
        let mut expected = PurgeSummary::default();
        for name in [
            OutcomeName::Deleted,
            OutcomeName::AlreadyGone,
            OutcomeName::NotArchived,
            OutcomeName::Forbidden,
        ] {
            expected.add(name);
        }
        assert_eq!(earlier.counts, expected);
        let finished: BTreeSet<&str> = earlier.finished.iter().map(String::as_str).collect();
        assert_eq!(
            finished,
            BTreeSet::from(["done", "gone", "kept", "refused"])
        );
        assert_eq!(
            earlier.unfinished,
            BTreeSet::from(["interrupted".to_string(), "retry".to_string()])
        );
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            whole,
            "the torn last line is cut"
        );
        let _ = std::fs::remove_file(&path);
    }

    #[tokio::test]
    async fn the_writer_thread_writes_whole_lines_that_read_back() {
        let path = temp_journal("writer");
        let (journal, earlier) = Journal::open(path.clone()).unwrap();
        assert_eq!(earlier.counts.total(), 0);
        let journal = Arc::new(journal);
        let writes = (0..50).map(|n| {
            let journal = journal.clone();
            async move {
                let id = format!("p{n}");
                journal.write(Entry::started(&id)).await?;
                let outcome = if n % 10 == 0 {
                    PurgeOutcome::Failed(Error::new(ErrorKind::Interrupted, None, "cut"))
                } else {
                    PurgeOutcome::Deleted
                };
                journal.write(Entry::finished(&id, &outcome)).await
            }
        });
        for result in futures_util::future::join_all(writes).await {
            result.unwrap();
        }
        journal.write(Entry::started("last")).await.unwrap();
        // Dropping the last handle ends the writer, which syncs: nothing is pending.
        drop(journal);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 101);
        assert!(text.ends_with('\n'));
        for line in text.lines() {
            serde_json::from_str::<Entry>(line).unwrap();
        }
        let (journal, earlier) = Journal::open(path.clone()).unwrap();
        drop(journal);
        assert_eq!(earlier.counts.deleted, 45);
        assert_eq!(earlier.counts.total(), 45);
        assert_eq!(earlier.unfinished.len(), 6, "5 failed, 1 interrupted");
        assert!(earlier.unfinished.contains("last"));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_summary_counts_outcomes_by_name() {
        let mut summary = PurgeSummary::default();
        for outcome in every_outcome() {
            summary.add(&outcome);
        }
        summary.add(OutcomeName::Deleted);
        assert_eq!(
            summary,
            PurgeSummary {
                deleted: 2,
                already_gone: 2,
                not_archived: 1,
                forbidden: 1,
                failed: 1,
                would_delete: 1,
                from_journal: 0,
            }
        );
        assert_eq!(summary.total(), 8);
        for name in OutcomeName::ALL {
            assert_eq!(OutcomeName::from_name(name.as_str()), Some(*name));
            assert_eq!(json!(name), json!(name.as_str()));
            assert_eq!(
                summary.count(*name),
                json!(summary)[name.as_str()].as_u64().unwrap(),
                "the summary's JSON names its counts by outcome name"
            );
        }
        assert_eq!(OutcomeName::from_name("exploded"), None);
        for outcome in every_outcome() {
            assert_eq!(OutcomeName::from(&outcome).as_str(), outcome.name());
        }
    }
}
