//! Project tasks, run as `cargo xtask <task>`.
//!
//! - `generate`: regenerate the generated crates from `openapi/tallyfy.yaml`.
//! - `generate --check`: fail with a diff when the committed code is stale.
//! - `cold-build`: time a user's first build of the `tallyfy` crate.
//! - `spec-diff OLD NEW [--output json]`: what a spec change does to users, classified.
//! - `spec-gate [--base REF]`: fail when a breaking spec change lacks its version bump.

mod calls;
mod changelog;
mod changes;
mod cold_build;
mod gate;
mod generate;
mod rewrite;
mod spec;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask generate [--check] | cargo xtask cold-build \
                     | cargo xtask spec-diff OLD NEW [--output json] | cargo xtask spec-gate [--base REF]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["generate"] => generate::run(generate::Mode::Write),
        ["generate", "--check"] => generate::run(generate::Mode::Check),
        ["cold-build"] => cold_build::run(),
        ["spec-diff", rest @ ..] => gate::spec_diff(rest),
        ["spec-gate", rest @ ..] => gate::spec_gate(rest),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
