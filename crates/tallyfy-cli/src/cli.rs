//! The command line's shape: `tallyfy [GLOBAL FLAGS] <group> <command> [IDS] [FLAGS]`.
//!
//! Every operation of the spec is a command, made from its entry in the operations
//! table: its tag is the group, `x-tallyfy-command` (or its `operationId`) the command,
//! its path parameters (but the organization, a global flag) positional arguments in
//! path order, its query parameters flags, and a request body `--body FILE` (`-` for
//! standard input). What is not per operation is written here: the global flags,
//! `processes purge` and `demo`.

use std::io::Read;

use clap::{Arg, ArgMatches, Args as _, FromArgMatches, Parser, ValueEnum};
use tallyfy::{Args, OPERATIONS, Operation};

/// What the command line asked for.
pub struct Cli {
    pub global: Global,
    pub invocation: Invocation,
}

/// The command to run.
pub enum Invocation {
    /// One operation of the spec, with its arguments (the organization added later).
    Operation {
        op: &'static Operation,
        args: Args,
        /// The positional arguments, as typed: what the command names.
        subject: Vec<String>,
    },
    /// `processes purge`.
    Purge(PurgeArgs),
    /// `demo`.
    Demo,
}

const ABOUT: &str = "Manage Tallyfy processes, one-off tasks and tags.";
const EXIT_CODES: &str = "Exit codes: 0 success (also a delete that finds the item already gone), 1 other failure, 2 usage or invalid input, 3 unauthorized or forbidden, 5 not found, 6 rate limited, 7 unprocessable or other client error.";

/// The command tree: the global flags, a command per operation, `purge` and `demo`.
pub fn command() -> clap::Command {
    let mut root = Global::augment_args(
        clap::Command::new("tallyfy")
            .version(env!("CARGO_PKG_VERSION"))
            .about(ABOUT)
            .after_help(EXIT_CODES)
            .subcommand_required(true),
    );
    let mut groups: Vec<&str> = Vec::new();
    for op in OPERATIONS {
        if !groups.contains(&op.group) {
            groups.push(op.group);
        }
    }
    for group in groups {
        let mut sub = clap::Command::new(group)
            .about(group_about(group))
            .subcommand_required(true);
        for op in OPERATIONS.iter().filter(|op| op.group == group) {
            sub = sub.subcommand(operation_command(op));
        }
        if group == "processes" {
            sub = sub.subcommand(PurgeArgs::augment_args(clap::Command::new("purge").about(
                "Permanently delete every process archived before a date. Irreversible.",
            )));
        }
        root = root.subcommand(sub);
    }
    root.subcommand(
        clap::Command::new("demo")
            .about("Walk the lifecycle of a process against the embedded fake, showing each step."),
    )
}

fn group_about(group: &str) -> String {
    match group {
        "processes" => "Processes (runs).".into(),
        "tasks" => "One-off tasks.".into(),
        "tags" => "Tags.".into(),
        other => format!("The {other} operations."),
    }
}

/// An operation's command, made from its entry in the operations table.
fn operation_command(op: &'static Operation) -> clap::Command {
    let mut about = op.summary.to_string();
    if op.irreversible {
        about.push_str(" Irreversible.");
    }
    let mut command = clap::Command::new(op.command).about(about);
    for param in op.params.iter().filter(|p| p.name != "org_id") {
        let arg = Arg::new(param.name).help(param.description);
        command = command.arg(match param.location {
            "path" => arg.required(true),
            "body" => arg
                .long("body")
                .value_name("FILE")
                .required(param.required)
                .help("The request body as JSON, from FILE or `-` for standard input."),
            _ => arg
                .long(param.name.replace('_', "-"))
                .required(param.required),
        });
    }
    command
}

/// Reads the command line; exits with clap's message and code 2 on a usage error.
pub fn parse() -> Cli {
    let matches = command().get_matches();
    match from_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    }
}

fn from_matches(matches: &ArgMatches) -> Result<Cli, clap::Error> {
    let global = Global::from_arg_matches(matches)?;
    let invocation = match matches.subcommand() {
        Some(("demo", _)) => Invocation::Demo,
        Some((group, sub)) => match sub.subcommand() {
            Some(("purge", m)) if group == "processes" => {
                Invocation::Purge(PurgeArgs::from_arg_matches(m)?)
            }
            Some((name, m)) => {
                let op = OPERATIONS
                    .iter()
                    .find(|op| op.group == group && op.command == name)
                    .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidSubcommand))?;
                operation(op, m)?
            }
            None => return Err(clap::Error::new(clap::error::ErrorKind::MissingSubcommand)),
        },
        None => return Err(clap::Error::new(clap::error::ErrorKind::MissingSubcommand)),
    };
    Ok(Cli { global, invocation })
}

/// The arguments of an operation's command.
fn operation(op: &'static Operation, m: &ArgMatches) -> Result<Invocation, clap::Error> {
    let mut args = Args::new();
    let mut subject = Vec::new();
    for param in op.params.iter().filter(|p| p.name != "org_id") {
        let Some(value) = m.get_one::<String>(param.name) else {
            continue;
        };
        match param.location {
            "body" => args.insert("body", read_body(value)?),
            location => {
                if location == "path" {
                    subject.push(value.clone());
                }
                args.insert(param.name, value.as_str());
            }
        }
    }
    Ok(Invocation::Operation { op, args, subject })
}

/// A request body from a file, or standard input for `-`, as JSON.
fn read_body(source: &str) -> Result<serde_json::Value, clap::Error> {
    let mut text = String::new();
    let read = if source == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(source).map(|t| text = t)
    };
    let invalid = |why: String| {
        clap::Error::raw(
            clap::error::ErrorKind::ValueValidation,
            format!("--body {source}: {why}\n"),
        )
    };
    read.map_err(|e| invalid(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| invalid(format!("not JSON: {e}")))
}

/// Flags accepted before or after the subcommand.
#[derive(Parser, Debug, Clone)]
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

#[derive(Parser, Debug)]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_args(words: &[&str]) -> Result<Cli, clap::Error> {
        let matches = command().try_get_matches_from(words)?;
        from_matches(&matches)
    }

    #[test]
    fn the_command_tree_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn every_operation_of_the_spec_is_a_command() {
        let body =
            std::env::temp_dir().join(format!("tallyfy-cli-body-{}.json", std::process::id()));
        std::fs::write(&body, r#"{"title": "x"}"#).unwrap();
        let body = body.to_str().unwrap().to_owned();
        for op in OPERATIONS {
            let mut words = vec!["tallyfy", op.group, op.command];
            let required: Vec<String> = op
                .params
                .iter()
                .filter(|p| p.name != "org_id" && p.location == "path")
                .map(|p| format!("{}-1", p.name))
                .collect();
            words.extend(required.iter().map(String::as_str));
            let takes_body = op.params.iter().any(|p| p.location == "body");
            if takes_body {
                words.extend(["--body", body.as_str()]);
            }
            let cli = parse_args(&words).unwrap_or_else(|e| panic!("{}: {e}", op.id));
            let Invocation::Operation {
                op: found,
                args,
                subject,
            } = cli.invocation
            else {
                panic!("{}: not an operation", op.id);
            };
            assert_eq!(found.id, op.id);
            assert_eq!(subject, required);
            assert_eq!(
                args.names().count(),
                required.len() + usize::from(takes_body)
            );
        }
    }

    #[test]
    fn query_parameters_are_flags_and_the_global_flags_go_anywhere() {
        let cli = parse_args(&[
            "tallyfy",
            "processes",
            "list",
            "--per-page",
            "5",
            "--q",
            "on boarding",
            "--output",
            "json",
        ])
        .unwrap();
        let Invocation::Operation { op, args, .. } = cli.invocation else {
            panic!("not an operation");
        };
        assert_eq!(op.id, "list_processes");
        assert_eq!(
            args,
            Args::new().with("per_page", "5").with("q", "on boarding")
        );
        assert_eq!(cli.global.output, Output::Json);
    }

    #[test]
    fn purge_and_demo_are_their_own() {
        let cli = parse_args(&[
            "tallyfy",
            "processes",
            "purge",
            "--archived-before",
            "2025-01-31",
        ])
        .unwrap();
        assert!(matches!(cli.invocation, Invocation::Purge(_)));
        assert!(matches!(
            parse_args(&["tallyfy", "demo"]).unwrap().invocation,
            Invocation::Demo
        ));
        assert!(
            parse_args(&["tallyfy", "processes", "get"]).is_err(),
            "the run ID is required"
        );
    }
}
