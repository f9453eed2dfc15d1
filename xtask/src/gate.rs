//! A spec change as a reviewed, versioned event.
//!
//! - `cargo xtask generate` reports what changed since the committed code was generated
//!   (from the copy of the spec beside it, [`SPEC_COPY`]), adds it to `CHANGELOG.md` and
//!   says what the version must be ([`since_generated`], [`record`]).
//! - `cargo xtask spec-diff OLD NEW [--output json]` reports on any two spec files.
//! - `cargo xtask spec-gate [--base REF]` fails when the spec changed in a breaking way
//!   since `REF` and `[workspace.package] version` was not bumped past `REF`'s (0.x: the
//!   minor version; from 1.0: the major). `REF` is by default `HEAD` when the spec or
//!   `Cargo.toml` has uncommitted changes (a maintainer before committing), else `HEAD~1`
//!   (CI, on the commit it checks). Without that commit (a shallow clone, the first
//!   commit) it says so and passes.
//!
//! The rules that classify a change are in [`crate::changes`].

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};
use openapiv3::OpenAPI;

use crate::changes::{self, Change};
use crate::{changelog, spec};

/// The spec, from the workspace root.
pub const SPEC: &str = "openapi/tallyfy.yaml";
/// A verbatim copy of the spec the committed code was generated from, beside that code:
/// `cargo xtask generate` writes it and `--check` compares it.
pub const SPEC_COPY: &str = "crates/tallyfy-api/spec.yaml";
const CHANGELOG: &str = "CHANGELOG.md";
const MANIFEST: &str = "Cargo.toml";

/// `cargo xtask spec-diff OLD NEW [--output human|json]`.
pub fn spec_diff(args: &[&str]) -> Result<()> {
    const USAGE: &str = "usage: cargo xtask spec-diff OLD NEW [--output human|json]";
    let (mut files, mut json) = (Vec::new(), false);
    let mut args = args.iter();
    while let Some(&arg) = args.next() {
        match arg {
            "--output" => match args.next() {
                Some(&"json") => json = true,
                Some(&"human") => json = false,
                _ => bail!("{USAGE}"),
            },
            file => files.push(file),
        }
    }
    let [old, new] = files[..] else {
        bail!("{USAGE}")
    };
    let changes = changes::diff(&spec::load(Path::new(old))?, &spec::load(Path::new(new))?);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&changes::render_json(&changes))?
        );
    } else {
        println!("{}", changes::render(&changes));
    }
    Ok(())
}

/// `cargo xtask spec-gate [--base REF]`.
pub fn spec_gate(args: &[&str]) -> Result<()> {
    let base = match args {
        [] => None,
        ["--base", base] => Some(*base),
        _ => bail!("usage: cargo xtask spec-gate [--base REF]"),
    };
    println!("{}", gate(&workspace_root(), base)?);
    Ok(())
}

/// The gate in the checkout at `root`: what it found, or an error saying what is breaking
/// and what to bump.
fn gate(root: &Path, base: Option<&str>) -> Result<String> {
    let base = base.map_or_else(|| default_base(root), str::to_owned);
    let skipped = |why: &str| {
        Ok(format!(
            "spec-gate skipped: {why}. It compares {SPEC} and the version with a commit \
             (`--base REF`); a clone with its history (`git fetch --unshallow`) has one."
        ))
    };
    if let Err(error) = git(
        root,
        &["rev-parse", "--verify", &format!("{base}^{{commit}}")],
    ) {
        return skipped(&format!("no commit `{base}` here ({error})"));
    }
    let Ok(old_text) = git(root, &["show", &format!("{base}:{SPEC}")]) else {
        return skipped(&format!("`{base}` has no {SPEC}"));
    };
    let old_manifest = git(root, &["show", &format!("{base}:{MANIFEST}")])?;
    let before = Version::of_workspace(&old_manifest)
        .with_context(|| format!("no [workspace.package] version in {MANIFEST} at `{base}`"))?;
    let now = workspace_version(root)?;
    let old = parse(&old_text).with_context(|| format!("{SPEC} at `{base}`"))?;
    let new = spec::load(&root.join(SPEC))?;
    let changes = changes::diff(&old, &new);
    let report = format!("{SPEC} against `{base}`: {}", changes::render(&changes));
    match verdict(&changes, before, now) {
        Ok(fine) => Ok(format!("{report}\n{fine}")),
        Err(bump) => {
            let breaking: Vec<String> = changes
                .iter()
                .filter(|c| c.breaking)
                .map(|c| format!("  `{}`: {}", c.operation, c.what))
                .collect();
            Err(anyhow!(
                "{report}\n\nthe spec changed in a way that breaks users of the `tallyfy` \
                 crate:\n{}\n{bump}; `cargo xtask generate` records the changes in {CHANGELOG}",
                breaking.join("\n")
            ))
        }
    }
}

/// `HEAD` when the spec or the manifest has uncommitted changes, else `HEAD~1`.
fn default_base(root: &Path) -> String {
    let clean = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["diff", "--quiet", "HEAD", "--", SPEC, MANIFEST])
        .status()
        .is_ok_and(|s| s.code() == Some(0));
    if clean { "HEAD~1" } else { "HEAD" }.to_owned()
}

/// Whether `now` is a version the changes allow, coming from `before`: `Ok` with a line
/// for the report, or `Err` saying what to bump the version to.
pub fn verdict(changes: &[Change], before: Version, now: Version) -> Result<String, String> {
    let breaking = changes.iter().filter(|c| c.breaking).count();
    if breaking == 0 {
        return Ok(format!("no breaking change: version {now} needs no bump"));
    }
    let needed = before.after_breaking();
    if now >= needed {
        return Ok(format!(
            "{breaking} breaking change(s), and the version is {now}, past {before}: fine"
        ));
    }
    let rule = if before.major == 0 {
        "before 1.0 a breaking change bumps the minor version"
    } else {
        "a breaking change bumps the major version"
    };
    let was = if now == before {
        format!("it is still {now}")
    } else {
        format!("it is {now}, and was {before}")
    };
    Err(format!(
        "{breaking} breaking change(s): bump `version` in [workspace.package] of {MANIFEST}, \
         and the workspace crates' in [workspace.dependencies], to {needed} ({was}; {rule})"
    ))
}

/// Before `cargo xtask generate` writes or checks: the changes from the spec the committed
/// code was generated from to the spec, or `None` when no copy of it is kept yet.
pub fn since_generated(root: &Path) -> Result<Option<Vec<Change>>> {
    let copy = root.join(SPEC_COPY);
    if !copy.exists() {
        return Ok(None);
    }
    let old = spec::load(&copy)?;
    let new = spec::load(&root.join(SPEC))?;
    Ok(Some(changes::diff(&old, &new)))
}

/// After `cargo xtask generate` wrote the code: prints the report, adds the changes to
/// `CHANGELOG.md` under "Unreleased", and says what the version must be (against the
/// version committed at `HEAD`, or the workspace's without git). Writes nothing when
/// nothing changed.
pub fn record(root: &Path, changes: Option<&[Change]>) -> Result<()> {
    let Some(changes) = changes else {
        println!(
            "{SPEC_COPY} now holds the spec the code was generated from; the next change is reported against it"
        );
        return Ok(());
    };
    println!("{}", changes::render(changes));
    if changes.is_empty() {
        return Ok(());
    }
    let path = root.join(CHANGELOG);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let updated = changelog::add(&text, changes);
    if updated != text {
        std::fs::write(&path, updated).with_context(|| format!("writing {}", path.display()))?;
        println!("added to {CHANGELOG} under Unreleased");
    }
    let now = workspace_version(root)?;
    let before = git(root, &["show", &format!("HEAD:{MANIFEST}")])
        .ok()
        .and_then(|m| Version::of_workspace(&m))
        .unwrap_or(now);
    match verdict(changes, before, now) {
        Ok(line) | Err(line) => println!("{line}"),
    }
    Ok(())
}

/// In `cargo xtask generate --check`, when the code is stale: what the spec change does.
pub fn print_pending(changes: Option<&[Change]>) {
    match changes {
        None => {
            eprintln!("{SPEC_COPY} is missing: the spec the code was generated from is unknown")
        }
        Some([]) => {}
        Some(changes) => eprintln!("since the code was generated, {}", changes::render(changes)),
    }
}

/// A crate version, `major.minor.patch` (a pre-release or build suffix is ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// The major version.
    pub major: u64,
    /// The minor version.
    pub minor: u64,
    /// The patch version.
    pub patch: u64,
}

impl Version {
    /// Reads `1.2.3`.
    pub fn parse(text: &str) -> Option<Self> {
        let core = text.trim().split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|p| p.parse().ok());
        let version = Version {
            major: parts.next()??,
            minor: parts.next()??,
            patch: parts.next()??,
        };
        parts.next().is_none().then_some(version)
    }

    /// The `version` of `[workspace.package]` in the text of a `Cargo.toml`.
    pub fn of_workspace(manifest: &str) -> Option<Self> {
        let section = manifest
            .split("\n[")
            .find(|s| s.trim_start_matches('[').starts_with("workspace.package]"))?;
        section.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == "version")
                .then(|| Version::parse(value.trim().trim_matches('"')))
                .flatten()
        })
    }

    /// The smallest version a breaking change needs after this one.
    pub fn after_breaking(self) -> Self {
        let (major, minor) = match self.major {
            0 => (0, self.minor + 1),
            major => (major + 1, 0),
        };
        Version {
            major,
            minor,
            patch: 0,
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The `[workspace.package] version` of the checkout at `root`.
fn workspace_version(root: &Path) -> Result<Version> {
    let path = root.join(MANIFEST);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Version::of_workspace(&text)
        .with_context(|| format!("no [workspace.package] version in {}", path.display()))
}

/// Parses the text of a spec.
fn parse(text: &str) -> Result<OpenAPI> {
    serde_yaml::from_str(text).context("parsing as OpenAPI 3.0")
}

/// Runs git in `root`: its output, or an error with what it said.
fn git(root: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .context("running git")?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let said = String::from_utf8_lossy(&output.stderr);
        bail!("git {}: {}", args.join(" "), said.trim())
    }
}

/// The workspace's root directory: xtask's parent.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory of this test's own, empty.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("openapi")).expect("scratch directory");
        std::fs::create_dir_all(dir.join("crates/tallyfy-api")).expect("scratch directory");
        dir
    }

    fn real_spec() -> String {
        std::fs::read_to_string(workspace_root().join(SPEC)).expect("the spec reads")
    }

    fn write(root: &Path, path: &str, text: &str) {
        std::fs::write(root.join(path), text).expect("writes");
    }

    fn read(root: &Path, path: &str) -> String {
        std::fs::read_to_string(root.join(path)).expect("reads")
    }

    fn manifest(version: &str) -> String {
        format!(
            "[workspace]\nmembers = []\n\n[workspace.package]\nversion = \"{version}\"\nedition = \"2024\"\n"
        )
    }

    /// The real spec without the operation `get_process`: a breaking change.
    fn without_get_process() -> String {
        let mut spec: serde_yaml::Value = serde_yaml::from_str(&real_spec()).expect("YAML");
        let item = spec["paths"]["/organizations/{org_id}/runs/{run_id}"]
            .as_mapping_mut()
            .expect("the path");
        item.remove("get");
        serde_yaml::to_string(&spec).expect("YAML")
    }

    /// Regenerating an unchanged spec reports nothing and changes nothing: not the
    /// changelog, not the copy of the spec.
    #[test]
    fn an_unchanged_spec_reports_nothing_and_changes_nothing() {
        let root = scratch("round-trip");
        let changelog = "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- `x`: something.\n";
        write(&root, SPEC, &real_spec());
        write(&root, SPEC_COPY, &real_spec());
        write(&root, CHANGELOG, changelog);
        write(&root, MANIFEST, &manifest("0.1.0"));
        let changes = since_generated(&root).expect("compares");
        assert_eq!(changes.as_deref(), Some(&[][..]));
        record(&root, changes.as_deref()).expect("records");
        assert_eq!(read(&root, CHANGELOG), changelog);
        assert_eq!(read(&root, SPEC_COPY), real_spec());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_change_since_generation_goes_to_the_changelog() {
        let root = scratch("record");
        write(&root, SPEC, &without_get_process());
        write(&root, SPEC_COPY, &real_spec());
        write(&root, MANIFEST, &manifest("0.1.0"));
        let changes = since_generated(&root).expect("compares");
        record(&root, changes.as_deref()).expect("records");
        let changelog = read(&root, CHANGELOG);
        assert!(
            changelog.contains(
                "## [Unreleased]\n\n### Removed\n\n- **Breaking:** `get_process`: operation removed"
            ),
            "{changelog}"
        );
        record(&root, changes.as_deref()).expect("records again");
        assert_eq!(read(&root, CHANGELOG), changelog, "each entry once");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn no_copy_yet_is_no_report() {
        let root = scratch("no-copy");
        write(&root, SPEC, &real_spec());
        assert!(since_generated(&root).expect("reads").is_none());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn versions_read_and_bump() {
        let v = |text| Version::parse(text).expect("a version");
        assert_eq!(Version::of_workspace(&manifest("0.1.0")), Some(v("0.1.0")));
        let real = std::fs::read_to_string(workspace_root().join(MANIFEST)).expect("reads");
        assert!(
            Version::of_workspace(&real).is_some(),
            "the workspace's own"
        );
        assert_eq!(Version::parse("1.2"), None);
        assert_eq!(v("0.1.7").after_breaking(), v("0.2.0"));
        assert_eq!(v("1.4.2").after_breaking(), v("2.0.0"));
        assert!(
            v("0.2.0-rc.1") >= v("0.2.0"),
            "a pre-release of the bump counts"
        );
    }

    #[test]
    fn a_breaking_change_needs_the_bump_its_version_calls_for() {
        let breaking = [Change {
            operation: "get_process".into(),
            group: crate::changes::Group::Removed,
            breaking: true,
            what: "operation removed".into(),
        }];
        let v = |text| Version::parse(text).expect("a version");
        let error = verdict(&breaking, v("0.1.0"), v("0.1.1")).expect_err("a patch is not enough");
        assert_eq!(
            error,
            "1 breaking change(s): bump `version` in [workspace.package] of Cargo.toml, and the \
             workspace crates' in [workspace.dependencies], to 0.2.0 (it is 0.1.1, and was 0.1.0; \
             before 1.0 a breaking change bumps the minor version)"
        );
        assert!(verdict(&breaking, v("0.1.0"), v("0.2.0")).is_ok());
        let error = verdict(&breaking, v("1.3.0"), v("1.4.0")).expect_err("a minor is not enough");
        assert!(
            error.contains("to 2.0.0") && error.contains("major"),
            "{error}"
        );
        assert!(verdict(&breaking[..0], v("0.1.0"), v("0.1.0")).is_ok());
    }

    /// The gate on a git checkout: before committing it compares with `HEAD`, after
    /// with the commit before; without a commit to compare with it passes, saying so.
    #[test]
    fn the_gate_compares_with_the_commit_before() {
        let root = scratch("gate");
        let run = |args: &[&str]| {
            let status = Command::new("git")
                .arg("-C")
                .arg(&root)
                .args([
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@t",
                    "-c",
                    "commit.gpgsign=false",
                ])
                .args(args)
                .output()
                .expect("git runs");
            assert!(status.status.success(), "git {args:?}: {status:?}");
        };
        run(&["init", "--quiet"]);
        write(&root, SPEC, &real_spec());
        write(&root, MANIFEST, &manifest("0.1.0"));
        run(&["add", "."]);
        run(&["commit", "--quiet", "-m", "first"]);
        let skipped = gate(&root, None).expect("passes");
        assert!(
            skipped.starts_with("spec-gate skipped: no commit `HEAD~1`"),
            "{skipped}"
        );

        write(&root, SPEC, &without_get_process());
        let error = gate(&root, None)
            .expect_err("a breaking change without a bump")
            .to_string();
        assert!(error.contains("against `HEAD`"), "{error}");
        assert!(
            error.contains(
                "breaks users of the `tallyfy` crate:\n  `get_process`: operation removed"
            ),
            "{error}"
        );
        assert!(error.contains("to 0.2.0 (it is still 0.1.0"), "{error}");

        write(&root, MANIFEST, &manifest("0.2.0"));
        gate(&root, None).expect("bumped");
        run(&["commit", "--quiet", "-am", "second"]);
        let fine = gate(&root, None).expect("bumped in the same commit");
        assert!(
            fine.contains("against `HEAD~1`") && fine.contains("past 0.1.0"),
            "{fine}"
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
