//! `CHANGELOG.md`, as [Keep a Changelog](https://keepachangelog.com/en/1.1.0/) lays it
//! out: the changes of a regeneration go under `## [Unreleased]`, in `### Added`,
//! `### Changed` and `### Removed`, each entry once.

use crate::changes::Change;

/// The start of a new changelog.
const HEADER: &str = "# Changelog

All notable changes to the `tallyfy` crates. The format is
[Keep a Changelog](https://keepachangelog.com/en/1.1.0/); the crates follow
[Semantic Versioning](https://semver.org/spec/v2.0.0.html).
";

/// Keep a Changelog's groups, in its order.
const ORDER: [&str; 6] = [
    "Added",
    "Changed",
    "Deprecated",
    "Removed",
    "Fixed",
    "Security",
];

/// `text` (a changelog, or nothing) with `changes` added under `## [Unreleased]`; each
/// entry that is already there is left alone, and with nothing new `text` is returned as
/// it is.
pub fn add(text: &str, changes: &[Change]) -> String {
    let text = if text.trim().is_empty() { HEADER } else { text };
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let start = match lines.iter().position(|l| is_unreleased(l)) {
        Some(start) => start,
        None => {
            let at = lines
                .iter()
                .position(|l| l.starts_with("## "))
                .unwrap_or(lines.len());
            let mut heading = vec!["## [Unreleased]".to_owned(), String::new()];
            if at > 0 && !lines[at - 1].trim().is_empty() {
                heading.insert(0, String::new());
            }
            lines.splice(at..at, heading.clone());
            at + heading.len() - 2
        }
    };
    let end = (start + 1..lines.len())
        .find(|&i| lines[i].starts_with("## "))
        .unwrap_or(lines.len());

    let mut section = Section::parse(&lines[start + 1..end]);
    let mut added = false;
    for change in changes {
        let entry = change.entry();
        let items = section.group(change.group.name());
        if !items.contains(&entry) {
            items.push(entry);
            added = true;
        }
    }
    if !added {
        return text.to_owned();
    }
    let mut rendered = vec![lines[start].clone(), String::new()];
    rendered.extend(section.render());
    lines.splice(start..end, rendered);
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Whether `line` is the heading of the Unreleased section.
fn is_unreleased(line: &str) -> bool {
    line.to_ascii_lowercase().starts_with("## [unreleased]")
}

/// The body of the Unreleased section: text before its groups, and its groups.
struct Section {
    /// The lines before the first group.
    preamble: Vec<String>,
    /// Each group's name (`Added`) and lines.
    groups: Vec<(String, Vec<String>)>,
}

impl Section {
    /// Reads the lines between the section's heading and the next.
    fn parse(lines: &[String]) -> Self {
        let mut section = Section {
            preamble: Vec::new(),
            groups: Vec::new(),
        };
        for line in lines {
            if let Some(name) = line.strip_prefix("### ") {
                section.groups.push((name.trim().to_owned(), Vec::new()));
            } else if let Some((_, items)) = section.groups.last_mut() {
                items.push(line.clone());
            } else {
                section.preamble.push(line.clone());
            }
        }
        section
    }

    /// The entries of group `name`, the group made if it is not there.
    fn group(&mut self, name: &str) -> &mut Vec<String> {
        let at = match self.groups.iter().position(|(n, _)| n == name) {
            Some(at) => at,
            None => {
                self.groups.push((name.to_owned(), Vec::new()));
                self.groups.len() - 1
            }
        };
        let items = &mut self.groups[at].1;
        while items.last().is_some_and(|l| l.trim().is_empty()) {
            items.pop();
        }
        items
    }

    /// The lines: the preamble, then the groups in Keep a Changelog's order, each
    /// followed by a blank line.
    fn render(mut self) -> Vec<String> {
        let rank = |name: &str| ORDER.iter().position(|o| *o == name).unwrap_or(ORDER.len());
        self.groups.sort_by_key(|(name, _)| rank(name));
        let mut lines = Vec::new();
        let preamble = trimmed(&self.preamble);
        if !preamble.is_empty() {
            lines.extend(preamble.iter().cloned());
            lines.push(String::new());
        }
        for (name, items) in &self.groups {
            lines.push(format!("### {name}"));
            lines.push(String::new());
            lines.extend(trimmed(items).iter().cloned());
            lines.push(String::new());
        }
        lines
    }
}

/// `lines` without the blank lines at either end.
fn trimmed(lines: &[String]) -> &[String] {
    let blank = |l: &String| l.trim().is_empty();
    let start = lines.iter().position(|l| !blank(l)).unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !blank(l))
        .map_or(start, |e| e + 1);
    &lines[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::Group;

    fn change(operation: &str, group: Group, breaking: bool, what: &str) -> Change {
        Change {
            operation: operation.into(),
            group,
            breaking,
            what: what.into(),
        }
    }

    #[test]
    fn a_new_changelog_gets_an_unreleased_section_in_group_order() {
        let changes = [
            change(
                "get_process",
                Group::Removed,
                true,
                "response field `data.name` removed",
            ),
            change(
                "list_folders",
                Group::Added,
                false,
                "new operation `GET /folders`",
            ),
        ];
        let text = add("", &changes);
        assert_eq!(
            text,
            format!(
                "{HEADER}\n## [Unreleased]\n\n### Added\n\n- `list_folders`: new operation `GET /folders`.\n\n\
                 ### Removed\n\n- **Breaking:** `get_process`: response field `data.name` removed.\n"
            )
        );
        assert_eq!(add(&text, &changes), text, "each entry once");
    }

    #[test]
    fn entries_join_their_group_and_releases_are_left_alone() {
        let text = "# Changelog\n\nIntro.\n\n## [Unreleased]\n\nNotes first.\n\n### Removed\n\n\
                    - old entry.\n\n## [0.1.0] - 2025-01-01\n\n### Added\n\n- first release.\n";
        let changes = [
            change("a", Group::Removed, true, "gone"),
            change("b", Group::Changed, false, "is now optional"),
        ];
        assert_eq!(
            add(text, &changes),
            "# Changelog\n\nIntro.\n\n## [Unreleased]\n\nNotes first.\n\n### Changed\n\n\
             - `b`: is now optional.\n\n### Removed\n\n- old entry.\n- **Breaking:** `a`: gone.\n\n\
             ## [0.1.0] - 2025-01-01\n\n### Added\n\n- first release.\n"
        );
    }

    #[test]
    fn a_changelog_without_unreleased_gets_one_above_the_releases() {
        let text = "# Changelog\n\n## [0.1.0] - 2025-01-01\n\n- first.\n";
        let out = add(text, &[change("a", Group::Added, false, "new")]);
        assert_eq!(
            out,
            "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- `a`: new.\n\n## [0.1.0] - 2025-01-01\n\n- first.\n"
        );
    }

    #[test]
    fn nothing_to_add_changes_nothing() {
        let text = "# Changelog\n\n## [Unreleased]\n\n  odd   spacing\n\n\n";
        assert_eq!(add(text, &[]), text);
    }
}
