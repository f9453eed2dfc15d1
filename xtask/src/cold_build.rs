//! `cargo xtask cold-build`: how long a user's first build of the `tallyfy` crate takes,
//! with each TLS backend, in debug and release, each from an empty target directory.

use std::process::Command;
use std::time::Instant;

use anyhow::{Result, bail};

const VARIANTS: &[(&str, &[&str])] = &[
    ("rustls + ring (default)", &[]),
    (
        "rustls + aws-lc-rs",
        &["--no-default-features", "--features", "rustls-aws-lc"],
    ),
];

pub fn run() -> Result<()> {
    let scratch = std::env::temp_dir().join("tallyfy-cold-build");
    println!("| TLS backend | profile | wall time | crates compiled |\n|---|---|---|---|");
    for (name, flags) in VARIANTS {
        for profile in ["dev", "release"] {
            let target = scratch.join(format!(
                "{}-{profile}",
                name.split_whitespace().nth(2).unwrap_or("x")
            ));
            let _ = std::fs::remove_dir_all(&target);
            let started = Instant::now();
            let status = Command::new(env!("CARGO"))
                .args([
                    "build",
                    "--quiet",
                    "--locked",
                    "-p",
                    "tallyfy",
                    "--profile",
                    profile,
                ])
                .args(*flags)
                .env("CARGO_TARGET_DIR", &target)
                .status()?;
            let elapsed = started.elapsed();
            if !status.success() {
                bail!("the {name} {profile} build failed");
            }
            let dir = if profile == "dev" { "debug" } else { "release" };
            let crates = std::fs::read_dir(target.join(dir).join("deps"))?
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "rlib"))
                .count();
            println!(
                "| {name} | {profile} | {:.1} s | {crates} |",
                elapsed.as_secs_f64()
            );
            let _ = std::fs::remove_dir_all(&target);
        }
    }
    Ok(())
}
