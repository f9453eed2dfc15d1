//! `tallyfy processes purge`: progress on a terminal, JSON lines for machines, a summary.

use std::io::IsTerminal;
use std::time::SystemTime;

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tallyfy::{PurgeOutcome, PurgeSummary};

use crate::cli::{Output, PurgeArgs};
use crate::report::{Failure, Report};
use crate::session::Session;

/// Purges, printing each outcome as it comes (JSON lines, or failures on stderr), and
/// returns the summary. Exit code: 1 if any delete failed, 3 if any was forbidden.
pub async fn run(session: &Session, args: &PurgeArgs, output: Output) -> Result<Report, Failure> {
    let since_epoch =
        std::time::Duration::from_nanos(args.archived_before.as_nanosecond().max(0) as u64);
    let cutoff = SystemTime::UNIX_EPOCH + since_epoch;
    let mut purge = session
        .client
        .purge_archived_before(session.org.as_str(), cutoff)
        .concurrency(args.concurrency)
        .dry_run(args.dry_run);
    if let Some(journal) = &args.journal {
        purge = purge.journal(journal);
    }
    let bar = progress_bar(output);
    let (mut summary, mut events) = purge.start();
    while let Some(event) = events.next().await {
        let event = match event {
            Ok(event) => event,
            Err(tallyfy::PurgeError::Listing(error)) => return Err(Failure::Api(error)),
            // The journal: the message names the file, the source says what went wrong.
            Err(error) => {
                let cause = std::error::Error::source(&error)
                    .map(|cause| format!(": {cause}"))
                    .unwrap_or_default();
                return Err(Failure::Journal(format!("{error}{cause}")));
            }
        };
        summary.add(&event.outcome);
        match output {
            Output::Json => {
                let mut line = json!({"id": event.id, "outcome": event.outcome.name()});
                if let PurgeOutcome::Failed(error) = &event.outcome {
                    line["error"] = crate::report::error_json(error);
                }
                crate::report::out(line.to_string());
            }
            Output::Human => {
                if let PurgeOutcome::Failed(error) = &event.outcome {
                    bar.suspend(|| {
                        eprintln!("failed: {}: {}", event.id, crate::report::describe(error))
                    });
                }
                bar.set_message(counts(&summary));
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    let exit = if summary.failed > 0 {
        1
    } else if summary.forbidden > 0 {
        3
    } else {
        0
    };
    let mut human = format!(
        "Purge {}: {}.",
        if args.dry_run { "(dry run)" } else { "done" },
        counts(&summary)
    );
    if summary.failed > 0 {
        human.push_str(if args.journal.is_some() {
            " Run it again with the same --journal to retry the failed ones."
        } else {
            " Run it again to retry the failed ones."
        });
    }
    Ok(Report {
        exit,
        ..Report::ok(human, json!({"summary": summary}))
    })
}

fn counts(s: &PurgeSummary) -> String {
    let mut parts = vec![];
    if s.would_delete > 0 {
        parts.push(format!("{} would be deleted", s.would_delete));
    }
    parts.push(format!("{} deleted", s.deleted));
    parts.push(format!("{} already gone", s.already_gone));
    parts.push(format!("{} not archived", s.not_archived));
    parts.push(format!("{} forbidden", s.forbidden));
    parts.push(format!("{} failed", s.failed));
    if s.from_journal > 0 {
        parts.push(format!("{} of them from the journal", s.from_journal));
    }
    parts.join(", ")
}

/// A spinner with counts on a terminal; nothing elsewhere.
fn progress_bar(output: Output) -> ProgressBar {
    if output != Output::Human || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} processes ({per_sec}) {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
