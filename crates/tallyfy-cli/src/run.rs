//! Running one operation: the confirmation, the call and its report.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::json;
use tallyfy::{Args, Operation};

use crate::report::{Failure, Report};
use crate::session::Session;

/// Irreversible operations need `--yes`, or a "yes" typed at a terminal.
pub fn confirm(op: &Operation, subject: &str, yes: bool) -> Result<(), Failure> {
    if !op.irreversible || yes {
        return Ok(());
    }
    let what = format!("{} ({subject})", op.summary.trim_end_matches('.'));
    let refused = |why: &str| Failure::Usage(format!("{what}: {why}; nothing was sent"));
    if !std::io::stdin().is_terminal() {
        return Err(refused(
            "irreversible, so it needs --yes when not run from a terminal",
        ));
    }
    eprint!("{what}. This cannot be undone. Type 'yes' to go on: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(refused("not confirmed"))
    }
}

/// Calls `op` with `args` in the session's organization and describes the answer. An
/// irreversible delete that finds its item already gone is a success, said as such.
pub async fn execute(
    session: &Session,
    op: &'static Operation,
    mut args: Args,
    subject: &str,
) -> Result<Report, Failure> {
    args.insert("org_id", session.org.as_str());
    match session.client.call(op.id, &args).await {
        Ok(answer) if op.returns_body => {
            // People see what the server sent, nulls included.
            let sent =
                serde_json::from_slice(answer.body()).unwrap_or_else(|_| answer.value().clone());
            Ok(Report::payload(
                crate::human::describe(op, &sent),
                answer.body(),
            ))
        }
        Ok(answer) => Ok(Report::ok(
            format!("{}: done ({subject}).", op.summary.trim_end_matches('.')),
            json!({"outcome": "done", "operation": op.id, "subject": subject, "request_id": answer.request_id()}),
        )),
        Err(e) if e.is_already_gone() => Ok(Report::ok(
            format!("{subject} was already gone: an earlier attempt deleted it."),
            json!({"outcome": "already_gone", "operation": op.id, "subject": subject, "request_id": e.request_id()}),
        )),
        Err(e) => Err(e.into()),
    }
}
