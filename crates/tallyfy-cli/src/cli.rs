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
use tallyfy::{Args, OPERATIONS, Operation, Param};

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
    /// `processes launch --template ID --kickoff LABEL=VALUE ...`.
    Launch(crate::friendly::Launch),
    /// `files upload PATH --process RUN_ID --task TASK_ID`.
    Upload(crate::files::Upload),
    /// `files download FILE_ID -o FILE` (and `files view`).
    Download(crate::files::Download),
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
        for (name, variants) in commands(group) {
            sub = sub.subcommand(operation_command(name, &variants));
        }
        if group == "processes" {
            sub = sub.subcommand(PurgeArgs::augment_args(clap::Command::new("purge").about(
                "Permanently delete every process archived before a date. Irreversible.",
            )));
        }
        root = root.subcommand(crate::friendly::extend(group, sub));
    }
    root.subcommand(
        clap::Command::new("demo")
            .about("Walk the lifecycle of a process against the embedded fake, showing each step."),
    )
}

/// A group's commands, in spec order: each name with its operations, one or more
/// variants that share it (`tasks list` and `tasks list --process RUN_ID`).
fn commands(group: &str) -> Vec<(&'static str, Vec<&'static Operation>)> {
    let mut commands: Vec<(&'static str, Vec<&'static Operation>)> = Vec::new();
    for op in OPERATIONS.iter().filter(|op| op.group == group) {
        match commands.iter_mut().find(|(name, _)| *name == op.command) {
            Some((_, variants)) => variants.push(op),
            None => commands.push((op.command, vec![op])),
        }
    }
    commands
}

/// The path parameters of `op` the command line asks for (the organization is a flag
/// of its own).
fn path_params(op: &'static Operation) -> impl Iterator<Item = &'static Param> {
    op.params
        .iter()
        .filter(|p| p.location == "path" && p.name != "org_id")
}

/// Whether the path parameter `name` of `op` is a flag of its command (it picks a
/// variant) rather than a positional argument.
pub fn is_flag(op: &'static Operation, name: &str) -> bool {
    commands(op.group)
        .into_iter()
        .find(|(command, _)| *command == op.command)
        .is_some_and(|(_, variants)| !common(&variants, name))
}

/// Whether every variant has the path parameter `name`.
fn common(variants: &[&'static Operation], name: &str) -> bool {
    variants
        .iter()
        .all(|op| path_params(op).any(|p| p.name == name))
}

fn group_about(group: &str) -> String {
    match group {
        "processes" => "Processes (runs).".into(),
        "tasks" => "One-off tasks.".into(),
        "tags" => "Tags.".into(),
        "files" => "Uploaded files of form fields.".into(),
        other => format!("The {other} operations."),
    }
}

/// A command, made from the entries of its operations in the operations table: the path
/// parameters every variant has are positional, the others flags that pick a variant;
/// query parameters are flags, a request body `--body FILE`.
fn operation_command(name: &'static str, variants: &[&'static Operation]) -> clap::Command {
    let about = variants
        .iter()
        .map(|op| {
            let mut about = op.summary.to_string();
            if op.irreversible {
                about.push_str(" Irreversible.");
            }
            let flags: Vec<String> = path_params(op)
                .filter(|p| !common(variants, p.name))
                .map(|p| format!("--{}", p.flag))
                .collect();
            if !flags.is_empty() {
                about = format!("{about} (with {})", flags.join(", "));
            }
            about
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut command = clap::Command::new(name).about(about);
    let single = variants.len() == 1;
    let mut seen: Vec<&str> = Vec::new();
    for op in variants {
        for param in op.params.iter().filter(|p| p.name != "org_id") {
            if seen.contains(&param.name) {
                continue;
            }
            seen.push(param.name);
            let arg = Arg::new(param.name).help(param.description);
            command = command.arg(match param.location {
                "path" if common(variants, param.name) => arg.required(true),
                "body" => arg
                    .long("body")
                    .value_name("FILE")
                    .required(single && param.required)
                    .help("The request body as JSON, from FILE or `-` for standard input."),
                _ => arg
                    .long(param.flag.to_owned())
                    .required(single && param.required),
            });
        }
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
                let variants = commands(group)
                    .into_iter()
                    .find(|(command, _)| *command == name)
                    .map(|(_, variants)| variants)
                    .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidSubcommand))?;
                operation(&variants, m)?
            }
            None => return Err(clap::Error::new(clap::error::ErrorKind::MissingSubcommand)),
        },
        None => return Err(clap::Error::new(clap::error::ErrorKind::MissingSubcommand)),
    };
    Ok(Cli { global, invocation })
}

/// The operation a command's arguments pick (the variant whose path parameters are all
/// given, the one with the most of them) and its arguments.
fn operation(variants: &[&'static Operation], m: &ArgMatches) -> Result<Invocation, clap::Error> {
    let given = |name: &str| m.try_get_one::<String>(name).ok().flatten();
    let op = variants
        .iter()
        .filter(|op| path_params(op).all(|p| given(p.name).is_some()))
        .max_by_key(|op| path_params(op).count())
        .copied()
        .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::MissingRequiredArgument))?;
    let mut args = Args::new();
    let mut subject = Vec::new();
    for param in op.params.iter().filter(|p| p.name != "org_id") {
        let Some(value) = given(param.name) else {
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
    if let Some(invocation) = crate::files::read(op, m) {
        return Ok(invocation);
    }
    if let Some(mut launch) = crate::friendly::read(op, m, &mut args) {
        launch.body = args.remove("body");
        return Ok(Invocation::Launch(launch));
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
            let (_, variants) = commands(op.group)
                .into_iter()
                .find(|(name, _)| *name == op.command)
                .unwrap();
            let mut words: Vec<String> = vec!["tallyfy".into(), op.group.into(), op.command.into()];
            let mut subject = Vec::new();
            for param in path_params(op) {
                let value = format!("{}-1", param.name);
                if !common(&variants, param.name) {
                    words.push(format!("--{}", param.flag));
                }
                words.push(value.clone());
                subject.push(value);
            }
            let takes_body = op.params.iter().any(|p| p.location == "body");
            if takes_body {
                words.extend(["--body".to_owned(), body.clone()]);
            }
            if op.streams {
                words.extend(["-o".to_owned(), "saved.bin".to_owned()]);
            }
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            let cli = parse_args(&words).unwrap_or_else(|e| panic!("{}: {e}", op.id));
            if let Invocation::Download(download) = &cli.invocation {
                // A file is saved, not printed: its own invocation.
                assert!(op.streams, "{}", op.id);
                assert_eq!((download.op.id, download.to.as_str()), (op.id, "saved.bin"));
                assert_eq!(vec![download.file_id.clone()], subject);
                continue;
            }
            let Invocation::Operation {
                op: found,
                args,
                subject: got,
            } = cli.invocation
            else {
                panic!("{}: not an operation", op.id);
            };
            assert_eq!(found.id, op.id, "{words:?}");
            assert_eq!(got, subject);
            assert_eq!(
                args.names().count(),
                subject.len() + usize::from(takes_body)
            );
        }
    }

    #[test]
    fn a_flag_picks_the_variant_of_a_command() {
        let one_off = parse_args(&["tallyfy", "tasks", "list"]).unwrap();
        let in_process = parse_args(&["tallyfy", "tasks", "list", "--process", "r1"]).unwrap();
        for (cli, id) in [(one_off, "list_tasks"), (in_process, "list_process_tasks")] {
            let Invocation::Operation { op, .. } = cli.invocation else {
                panic!("not an operation");
            };
            assert_eq!(op.id, id);
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
