//! Bulk purge: permanently delete many archived processes, inside the rate limit, with
//! exactly one outcome per process and an optional journal to resume from.
//!
//! - **Sources**: process IDs (a list or a stream), or every process archived before a moment
//!   (streamed with [`Client::processes`], so memory stays flat however many there are).
//! - **Concurrency**: up to N deletes in flight. They share the client, hence its rate
//!   gate: one 429 slows every worker for its `Retry-After`.
//! - **Outcomes**: exactly one per ID: [`PurgeOutcome`]. As a stream ([`Purge::run`]) for
//!   progress, or as counts ([`Purge::summary`]).
//! - **Journal** (JSON lines, each written whole before the purge goes on; see
//!   [durability](Purge::journal)): `{"id":…,"event":"started"}` before a
//!   delete is sent, `{"id":…,"outcome":…}` after. Rerun with the same journal, a purge
//!   skips the IDs that have an outcome (other than `failed`), deletes again those that
//!   were started without one (a 404 then means the earlier run deleted it), and its
//!   summary counts the whole job.
//! - **Dry run**: lists what would be deleted; deletes and journals nothing.

use std::collections::{BTreeSet, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use futures_util::stream::{self, BoxStream};
use futures_util::{Stream, StreamExt, TryStreamExt};
use serde_json::json;

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
    /// The outcome's stable name, as in the journal and the command line's JSON.
    pub fn name(&self) -> &'static str {
        match self {
            PurgeOutcome::Deleted => "deleted",
            PurgeOutcome::AlreadyGone { .. } => "already_gone",
            PurgeOutcome::NotArchived => "not_archived",
            PurgeOutcome::Forbidden => "forbidden",
            PurgeOutcome::Failed(_) => "failed",
            PurgeOutcome::WouldDelete => "would_delete",
        }
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
    /// Counts one outcome.
    pub fn add(&mut self, outcome: &str) {
        match outcome {
            "deleted" => self.deleted += 1,
            "already_gone" => self.already_gone += 1,
            "not_archived" => self.not_archived += 1,
            "forbidden" => self.forbidden += 1,
            "would_delete" => self.would_delete += 1,
            _ => self.failed += 1,
        }
    }

    /// Every outcome counted.
    pub fn total(&self) -> u64 {
        self.deleted
            + self.already_gone
            + self.not_archived
            + self.forbidden
            + self.failed
            + self.would_delete
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
    /// so a killed process (SIGKILL, a crash) loses nothing it wrote. It is synced to
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

    /// Runs the purge as a stream of outcomes, one per process, in completion order. It
    /// ends with the last process, or with an error that stops the purge. Dropping it
    /// stops the purge; the journal then resumes it.
    pub fn run(self) -> impl Stream<Item = Result<PurgeEvent, PurgeError>> + Send {
        self.start().1
    }

    /// Runs the purge to the end and counts the outcomes, earlier runs of the journal
    /// included.
    pub async fn summary(self) -> Result<PurgeSummary, PurgeError> {
        let (mut summary, mut events) = self.start();
        while let Some(event) = events.next().await {
            summary.add(event?.outcome.name());
        }
        Ok(summary)
    }

    /// Starts the purge: the counts recorded by earlier runs of the journal (see
    /// [`PurgeSummary::from_journal`]), and the stream of this run's outcomes.
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
        let deletes = ids.map_ok(move |id| {
            let (client, org_id, journal) = (client.clone(), org_id.clone(), journal.clone());
            async move {
                if dry_run {
                    return Ok(PurgeEvent {
                        id,
                        outcome: PurgeOutcome::WouldDelete,
                    });
                }
                if let Some(journal) = &journal {
                    journal.write(json!({"id": id, "event": "started"}))?;
                }
                let result = client
                    .permanently_delete_process()
                    .org_id(org_id.as_str())
                    .run_id(&id)
                    .execute()
                    .await;
                let outcome = PurgeOutcome::of(result);
                if let Some(journal) = &journal {
                    journal.write(journal_line(&id, &outcome))?;
                }
                Ok(PurgeEvent { id, outcome })
            }
        });
        let mut counts = earlier.counts;
        counts.from_journal = counts.total();
        (counts, deletes.try_buffer_unordered(concurrency).boxed())
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

/// The journal's record of an outcome.
fn journal_line(id: &str, outcome: &PurgeOutcome) -> serde_json::Value {
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

/// The append-only journal; see [`Purge::journal`] for what it promises.
struct Journal {
    file: Mutex<File>,
    path: PathBuf,
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
        Ok((
            Self {
                file: Mutex::new(file),
                path,
            },
            earlier,
        ))
    }

    /// Reads a journal, and how many of its bytes are whole lines: a torn last line is
    /// left out of both.
    fn read(file: &File) -> std::io::Result<(Earlier, u64)> {
        let mut started = Vec::new();
        let mut outcomes = std::collections::HashMap::new();
        let mut reader = BufReader::new(file);
        let (mut line, mut complete) = (Vec::new(), 0u64);
        loop {
            line.clear();
            let read = reader.read_until(b'\n', &mut line)?;
            if read == 0 || line.last() != Some(&b'\n') {
                break;
            }
            complete += read as u64;
            let Ok(entry) = serde_json::from_slice::<serde_json::Value>(&line) else {
                continue;
            };
            let Some(id) = entry["id"].as_str() else {
                continue;
            };
            match entry["outcome"].as_str() {
                Some(outcome) => {
                    outcomes.insert(id.to_string(), outcome.to_string());
                }
                None => started.push(id.to_string()),
            }
        }
        let mut earlier = Earlier::default();
        for (id, outcome) in outcomes {
            if outcome == "failed" {
                earlier.unfinished.insert(id);
            } else {
                earlier.counts.add(&outcome);
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

    /// Appends one entry, whole, in one write.
    fn write(&self, entry: serde_json::Value) -> Result<(), PurgeError> {
        let mut line = entry.to_string().into_bytes();
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        file.write_all(&line).map_err(|source| PurgeError::Journal {
            path: self.path.clone(),
            source,
        })
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        let file = self.file.get_mut().unwrap_or_else(PoisonError::into_inner);
        let _ = file.sync_data();
    }
}
