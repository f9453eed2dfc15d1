//! The command line's shape: `tallyfy [GLOBAL FLAGS] <noun> <verb> [ID]`.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Manage Tallyfy processes, one-off tasks and tags.
///
/// Exit codes: 0 success (also a delete that finds the item already gone), 1 other
/// failure, 2 usage or invalid input, 3 unauthorized or forbidden, 5 not found,
/// 6 rate limited, 7 unprocessable or other client error.
#[derive(Parser, Debug)]
#[command(name = "tallyfy", version)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted before or after the subcommand.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// The API's base URL.
    #[arg(long, env = "TALLYFY_BASE_URL", global = true, default_value = tallyfy::DEFAULT_BASE_URL)]
    pub base_url: String,
    /// The access token (prefer the environment variable: flags show in process lists).
    #[arg(long, env = "TALLYFY_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// The organization ID.
    #[arg(long, env = "TALLYFY_ORG", global = true)]
    pub org: Option<String>,
    /// How to print results and errors.
    #[arg(long, value_enum, global = true, default_value_t = Output::Human)]
    pub output: Output,
    /// Retries after a failed attempt.
    #[arg(long, global = true, default_value_t = 3)]
    pub max_retries: u32,
    /// Seconds one attempt may take.
    #[arg(long, global = true, default_value_t = 30.0)]
    pub timeout: f64,
    /// Confirm an irreversible delete without asking.
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// Run against an embedded fake Tallyfy (no account or network needed).
    #[arg(long, global = true)]
    pub fake: bool,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Short lines for people; errors on stderr.
    Human,
    /// JSON on stdout, errors included.
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Processes (runs).
    #[command(subcommand)]
    Processes(Processes),
    /// One-off tasks.
    #[command(subcommand)]
    Tasks(Tasks),
    /// Tags.
    #[command(subcommand)]
    Tags(Tags),
    /// Walk the lifecycle of a process against the embedded fake, showing each step.
    Demo,
}

#[derive(Subcommand, Debug)]
pub enum Processes {
    /// List processes, a page at a time.
    List(ListArgs),
    /// Show one process.
    Get { run_id: String },
    /// Archive a process (restorable).
    Archive { run_id: String },
    /// Restore an archived process.
    Activate { run_id: String },
    /// Permanently delete an archived process. Irreversible.
    Delete { run_id: String },
    /// Permanently delete every process archived before a date. Irreversible.
    Purge(PurgeArgs),
}

#[derive(Args, Debug)]
pub struct PurgeArgs {
    /// Delete processes archived before this moment: `YYYY-MM-DD` (midnight UTC) or an
    /// RFC 3339 timestamp.
    #[arg(long, value_parser = parse_cutoff)]
    pub archived_before: jiff::Timestamp,
    /// Deletes in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Record every outcome here (JSON lines) and resume from it after a crash.
    #[arg(long)]
    pub journal: Option<std::path::PathBuf>,
    /// List what would be deleted; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_cutoff(value: &str) -> Result<jiff::Timestamp, String> {
    value
        .parse::<jiff::Timestamp>()
        .or_else(|_| format!("{value}T00:00:00Z").parse::<jiff::Timestamp>())
        .map_err(|_| {
            format!(
                "{value:?} is neither a date (2025-01-31) nor a timestamp (2025-01-31T12:00:00Z)"
            )
        })
}

#[derive(Args, Debug, Default)]
pub struct ListArgs {
    /// `only` for archived processes alone, `true` for archived and active together.
    #[arg(long)]
    pub archived: Option<String>,
    /// Filter by status (`active`, `complete`, `problem`, ...); for archived processes
    /// use `--archived only` (`--status archived` is unreliable).
    #[arg(long)]
    pub status: Option<String>,
    /// Search the names.
    #[arg(long)]
    pub q: Option<String>,
    /// Sort field, `-` first for descending (for example `-created_at`).
    #[arg(long)]
    pub sort: Option<String>,
    /// The page, from 1.
    #[arg(long)]
    pub page: Option<std::num::NonZeroU32>,
    /// Items per page (the server caps it at 100).
    #[arg(long)]
    pub per_page: Option<std::num::NonZeroU32>,
}

#[derive(Subcommand, Debug)]
pub enum Tasks {
    /// Archive a one-off task.
    Archive { task_id: String },
    /// Restore an archived one-off task.
    Restore { task_id: String },
    /// Permanently delete a one-off task. Irreversible.
    Delete { task_id: String },
}

#[derive(Subcommand, Debug)]
pub enum Tags {
    /// Delete a tag and all its associations. Irreversible.
    Delete { tag_id: String },
}
