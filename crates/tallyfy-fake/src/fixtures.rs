//! Deterministic, realistic data: the same seed gives the same organization.

use jiff::{SignedDuration, Timestamp};
use serde_json::Map;
use tallyfy_api::UserId;
use tallyfy_api::types::{Progress, ProgressCounts, Run};

use crate::store::{ADMIN_USER_ID, Increments, KickoffField, Owners, Step, Store, Task, Template};

const TEMPLATES: &[&str] = &[
    "Employee onboarding",
    "Client onboarding",
    "Vendor due diligence",
    "Month-end close",
    "Purchase approval",
    "Content review",
    "IT access request",
    "Contract renewal",
    "Incident postmortem",
    "Expense reimbursement",
];

const SUBJECTS: &[&str] = &[
    "Ada Lovelace",
    "Grace Hopper",
    "Acme Corp",
    "Globex",
    "Initech",
    "Q3 2025",
    "Katherine Johnson",
    "Umbrella Ltd",
    "Hooli",
    "Alan Turing",
    "Stark Industries",
    "Margaret Hamilton",
];

const STATUSES: &[&str] = &["active", "active", "active", "complete", "problem"];

/// Step titles; a template takes two to five in a row (wrapping around).
const STEP_TITLES: &[&str] = &[
    "Collect the details",
    "Review the request",
    "Approve",
    "Set up accounts",
    "Schedule the kick-off call",
    "Sign the paperwork",
    "Notify the team",
    "File the records",
];

/// Kick-off fields: label and type; a template takes up to three in a row.
const KICKOFF_FIELDS: &[(&str, &str)] = &[
    ("Customer name", "text"),
    ("Start date", "date"),
    ("Priority", "dropdown"),
    ("Notes", "text"),
    ("Department", "dropdown"),
    ("Due by", "date"),
];

const ICONS: &[&str] = &["fa-users", "fa-briefcase", "fa-check-square", "fa-file-alt"];

/// How much data to make, and from which seed.
#[derive(Clone, Copy, Debug)]
pub struct Fixtures {
    /// Processes to create (10 to 100,000 is the intended range).
    pub processes: usize,
    /// The seed: the same seed gives the same data.
    pub seed: u64,
}

/// The earliest creation date of the processes in the fixtures.
fn epoch() -> Timestamp {
    Timestamp::from_second(1_735_689_600).unwrap_or(Timestamp::UNIX_EPOCH) // 2025-01-01T00:00:00Z
}

/// `at` as the API formats timestamps: `2025-01-15T10:30:00.000Z`.
pub(crate) fn iso(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S.%3fZ").to_string()
}

/// `days` days after `at`.
pub(crate) fn later(at: Timestamp, days: i64) -> Timestamp {
    at + SignedDuration::from_secs(days * 86_400)
}

/// `title` in snake case, as Tallyfy makes aliases.
pub(crate) fn alias(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.join("_")
}

/// A template's ID: the seeded processes of template `n` point at it.
fn template_id(n: usize) -> String {
    format!("{:032x}", n as u128 * 0x9e37_79b9_7f4a_7c15)
}

/// 32 hexadecimal characters.
fn hex_id(rng: &mut fastrand::Rng) -> String {
    format!("{:016x}{:016x}", rng.u64(..), rng.u64(..))
}

/// A different seed for a different stream of draws from the same fixtures' seed.
fn derived(seed: u64, salt: u64) -> u64 {
    seed.rotate_left(17) ^ salt
}

impl Fixtures {
    /// Makes the organization: ten templates (each with two to five steps and up to
    /// three kick-off fields; the first has a required one; the last is archived),
    /// processes launched from them (about 40% archived, one task per step of their
    /// template, their progress counting the completed ones), one-off tasks (one per
    /// five processes, some archived), twenty tags, six members (the tokens' users among
    /// them), four guests, three groups and one uploaded file (`welcome.txt`, on the
    /// first template's kick-off form).
    pub fn build(self) -> Store {
        // Templates come from draws of their own, so that adding them kept the IDs of
        // everything else a seed made before.
        let mut template_rng = fastrand::Rng::with_seed(derived(self.seed, 0x7465_6d70_6c61_7465));
        let templates: Vec<Template> = (0..TEMPLATES.len())
            .map(|n| seeded_template(n, &mut template_rng))
            .collect();

        let mut rng = fastrand::Rng::with_seed(self.seed);
        let mut store = Store::default();
        let mut task_increment = 0;
        for n in 0..self.processes {
            let id = format!("{:016x}{:016x}", rng.u64(..), rng.u64(..));
            let created = epoch() + SignedDuration::from_secs(rng.i64(0..300 * 86_400));
            let updated = created + SignedDuration::from_secs(rng.i64(0..30 * 86_400));
            let archived = rng.u8(0..10) < 4;
            let status = STATUSES[rng.usize(..STATUSES.len())];
            if archived {
                store
                    .status_before_archive
                    .insert(id.clone(), status.to_string());
            }
            let template = rng.usize(..TEMPLATES.len());
            let drawn_total = rng.i64(3..12);
            let drawn_complete = rng.i64(0..=drawn_total);
            // Drawn in this order since the first fixtures, so a seed keeps its IDs.
            let subject = SUBJECTS[rng.usize(..SUBJECTS.len())];
            let started_by = rng.u32(1..40);
            let owner_id = rng.u32(1..40);
            let starred = rng.u8(0..10) == 0;
            // Once the number of tasks; now each step of the template makes one.
            let _ = rng.usize(1..5);

            let steps = &templates[template].steps;
            let total = steps.len() as i64;
            let complete = if status == "complete" {
                total
            } else {
                (drawn_complete * total / drawn_total).min(total - 1)
            };
            let progress = ProgressCounts {
                complete: Some(complete),
                total: Some(total),
                percent: Some(percent(complete, total)),
                extra: Map::new(),
            };
            let due = created + SignedDuration::from_secs(14 * 86_400);
            let run = Run {
                id: id.clone(),
                increment_id: Some(1000 + n as i64),
                checklist_id: Some(template_id(template)),
                checklist_title: Some(TEMPLATES[template].into()),
                name: Some(format!("{}: {subject}", TEMPLATES[template])),
                summary: Some(String::new()),
                status: Some(if archived { "archived" } else { status }.into()),
                progress: Some(Progress::ProgressCounts(progress.clone())),
                whole_progress: Some(Progress::ProgressCounts(progress)),
                started_by: Some(user_id(started_by)),
                owner_id: Some(user_id(owner_id)),
                prerun: Some(Map::new()),
                prerun_status: Some("complete".into()),
                created_at: Some(iso(created)),
                started_at: Some(iso(created)),
                last_updated: Some(iso(updated)),
                archived_at: archived.then(|| iso(updated)),
                completed_at: (status == "complete").then(|| iso(updated)),
                due_date: Some(iso(due)),
                due_date_passed: Some(due < updated),
                due_soon: Some(false),
                late_tasks: Some(0),
                starred: Some(starred),
                is_public: Some(false),
                can_add_oot: Some(true),
                type_: Some("procedure".into()),
                parent_id: None,
                users: Some(Vec::new()),
                groups: Some(Vec::new()),
                collaborators: Some(Vec::new()),
                extra: Map::new(),
            };
            for (t, step) in steps.iter().enumerate() {
                let task_id = format!("{}t{t}", &id[..16]);
                let done = (t as i64) < complete;
                task_increment += 1;
                store
                    .run_tasks
                    .entry(id.clone())
                    .or_default()
                    .push(task_id.clone());
                store.tasks.insert(
                    task_id.clone(),
                    Task {
                        id: task_id,
                        title: step.title.clone(),
                        run_id: Some(id.clone()),
                        archived_at: None,
                        status: if done { "completed" } else { "active" },
                        completed_at: done.then(|| iso(updated)),
                        step_id: Some(step.id.clone()),
                        position: t as i64 + 1,
                        increment_id: task_increment,
                        owners: Owners {
                            users: vec![1000 + u64::from(owner_id)],
                            ..Owners::default()
                        },
                        deadline: later(created, t as i64 + 1),
                        started_at: Some(created),
                        created_at: created,
                        last_updated: updated,
                        is_approved: Some(false),
                        starter_id: 1000 + u64::from(started_by),
                        completer_id: done.then_some(1000 + u64::from(owner_id)),
                        ..Task::blank()
                    },
                );
            }
            store.runs.insert(id, run);
        }
        for n in 0..self.processes.div_ceil(5) {
            let id = format!("oneoff{:010x}", rng.u64(..1 << 40));
            let archived = rng.u8(0..4) == 0;
            let title = format!("Follow up with {}", SUBJECTS[n % SUBJECTS.len()]);
            let archived_at = archived.then(|| iso(epoch()));
            task_increment += 1;
            store.tasks.insert(
                id.clone(),
                Task {
                    id,
                    title,
                    archived_at,
                    increment_id: task_increment,
                    deadline: later(epoch(), 7),
                    created_at: epoch(),
                    last_updated: epoch(),
                    ..Task::blank()
                },
            );
        }
        for n in 0..20 {
            let id = format!("tag{n:02}{:06x}", rng.u32(..1 << 24));
            store
                .tags
                .insert(id.clone(), crate::people::seeded_tag(id, n));
        }
        store.templates = templates.into_iter().map(|t| (t.id.clone(), t)).collect();
        store.last_increment = Increments {
            run: 999 + self.processes as i64,
            task: task_increment,
            template: TEMPLATES.len() as i64,
        };
        store.rng = fastrand::Rng::with_seed(derived(self.seed, 0x7265_7175_6573_7473));
        // Members, guests and groups draw from a stream of their own too.
        let people = fastrand::Rng::with_seed(derived(self.seed, 0x7065_6f70_6c65));
        crate::people::seed(&mut store, people);
        // So does the seeded file, on the first template.
        let files = fastrand::Rng::with_seed(derived(self.seed, 0x0066_696c_6573));
        crate::files::seed(&mut store, &template_id(0), files);
        store
    }
}

/// Seeded template `n`: the first has a required kick-off field, the last is archived.
fn seeded_template(n: usize, rng: &mut fastrand::Rng) -> Template {
    let id = template_id(n);
    let title = TEMPLATES[n];
    let first_step = rng.usize(..STEP_TITLES.len());
    let steps = (0..rng.usize(2..=5))
        .map(|k| {
            let title = STEP_TITLES[(first_step + k) % STEP_TITLES.len()];
            Step {
                id: hex_id(rng),
                alias: alias(title),
                title: title.into(),
            }
        })
        .collect();
    let first_field = rng.usize(..KICKOFF_FIELDS.len());
    let fields = rng.usize(0..=3).max(usize::from(n == 0));
    let prerun = (0..fields)
        .map(|k| {
            let (label, field_type) = KICKOFF_FIELDS[(first_field + k) % KICKOFF_FIELDS.len()];
            let required = rng.bool() || (n == 0 && k == 0);
            KickoffField {
                id: hex_id(rng),
                alias: alias(label),
                label: label.into(),
                field_type: field_type.into(),
                required,
                options: if field_type == "dropdown" {
                    vec!["Low".into(), "Normal".into(), "High".into()]
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let created = epoch() - SignedDuration::from_secs((60 - n as i64) * 86_400);
    let updated = created + SignedDuration::from_secs(rng.i64(0..30 * 86_400));
    let owner = 1000 + u64::from(rng.u32(1..40));
    let archived = n + 1 == TEMPLATES.len();
    let last_updated = if archived {
        iso(updated + SignedDuration::from_secs(86_400))
    } else {
        iso(updated)
    };
    Template {
        alias: alias(title).replace('_', "-"),
        title: title.into(),
        archived_at: archived.then(|| last_updated.clone()),
        steps,
        prerun,
        increment_id: n as i64 + 1,
        summary: format!("How we run {}.", title.to_lowercase()),
        type_: "procedure".into(),
        starred: rng.u8(0..5) == 0,
        owner_id: owner,
        created_by: owner,
        last_updated_by: owner,
        guidance: Some("Work through the steps in order.".into()),
        icon: Some(ICONS[n % ICONS.len()].into()),
        webhook: None,
        folder_id: None,
        explanation_video: None,
        default_process_name_format: None,
        is_public: false,
        is_public_kickoff: false,
        created_at: iso(created),
        last_updated,
        id,
    }
}

/// `complete` of `total` as a percentage with one decimal (0 for no tasks).
pub(crate) fn percent(complete: i64, total: i64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (complete as f64 * 1000.0 / total as f64).round() / 10.0
    }
}

impl Task {
    /// A one-off task with nothing set: not started, assigned to the administrator,
    /// every flag off; the fixtures and the store fill in the rest.
    pub(crate) fn blank() -> Self {
        Task {
            id: String::new(),
            title: String::new(),
            run_id: None,
            archived_at: None,
            status: "not-started",
            completed_at: None,
            step_id: None,
            position: 1,
            increment_id: 0,
            task_type: "task",
            owners: Owners {
                users: vec![ADMIN_USER_ID],
                ..Owners::default()
            },
            deadline: Timestamp::UNIX_EPOCH,
            started_at: None,
            created_at: Timestamp::UNIX_EPOCH,
            last_updated: Timestamp::UNIX_EPOCH,
            is_approved: Some(false),
            starter_id: ADMIN_USER_ID,
            completer_id: None,
            everyone_must_complete: false,
            can_complete_only_assignees: false,
            prevent_guest_comment: false,
            top_secret: false,
            max_assignable: 0,
            webhook: None,
            summary: None,
            taskdata: Map::new(),
            form_fields: Vec::new(),
        }
    }
}

/// A member's ID as Tallyfy sends it: an integer, such as `1002`.
fn user_id(n: u32) -> UserId {
    UserId::from(1000 + u64::from(n))
}

/// Now, as the API formats timestamps.
pub(crate) fn now() -> String {
    iso(Timestamp::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_data() {
        let a = Fixtures {
            processes: 50,
            seed: 9,
        }
        .build();
        let b = Fixtures {
            processes: 50,
            seed: 9,
        }
        .build();
        let c = Fixtures {
            processes: 50,
            seed: 10,
        }
        .build();
        assert_eq!(a.runs, b.runs);
        assert_eq!(a.tasks, b.tasks);
        assert_eq!(a.templates, b.templates);
        assert_ne!(a.runs, c.runs);
        assert_ne!(a.templates, c.templates);
    }

    #[test]
    fn adding_templates_kept_the_ids_a_seed_made() {
        // As seed 1 made them before templates existed (the CLI's snapshots show them).
        let first = Fixtures {
            processes: 25,
            seed: 1,
        }
        .build();
        let one_off: Vec<&str> = first
            .tasks
            .values()
            .filter(|t| t.run_id.is_none())
            .map(|t| t.id.as_str())
            .collect();
        assert!(one_off.contains(&"oneoff118ef7ff52"), "{one_off:?}");
        assert!(first.tags.keys().any(|t| t == "tag0022b8d2"));
    }

    #[test]
    fn templates_have_steps_kickoff_fields_and_their_processes_one_task_per_step() {
        let store = Fixtures {
            processes: 200,
            seed: 1,
        }
        .build();
        assert_eq!(store.templates.len(), TEMPLATES.len());
        let hex = |id: &str| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
        for template in store.templates.values() {
            assert!(
                (2..=5).contains(&template.steps.len()),
                "{}",
                template.title
            );
            assert!(template.prerun.len() <= 3);
            assert!(hex(&template.id));
            assert!(template.steps.iter().all(|s| hex(&s.id)));
            assert!(template.prerun.iter().all(|f| hex(&f.id)));
        }
        assert!(store.templates[&template_id(0)].prerun[0].required);
        assert_eq!(
            store
                .templates
                .values()
                .filter(|t| t.archived_at.is_some())
                .count(),
            1
        );
        for run in store.runs.values() {
            let template = &store.templates[run.checklist_id.as_deref().unwrap()];
            let tasks = &store.run_tasks[&run.id];
            assert_eq!(tasks.len(), template.steps.len());
            let done = tasks
                .iter()
                .filter(|t| store.tasks[*t].is_completed())
                .count();
            let Some(Progress::ProgressCounts(progress)) = &run.progress else {
                panic!("progress is counted");
            };
            assert_eq!(progress.complete, Some(done as i64));
            assert_eq!(progress.total, Some(tasks.len() as i64));
            let complete = run.completed_at.is_some();
            assert_eq!(complete, done == tasks.len(), "{}", run.id);
        }
    }

    #[test]
    fn the_data_is_mixed_and_well_formed() {
        let store = Fixtures {
            processes: 1000,
            seed: 1,
        }
        .build();
        assert_eq!(store.runs.len(), 1000);
        let archived = store
            .runs
            .values()
            .filter(|r| r.archived_at.is_some())
            .count();
        assert!((300..500).contains(&archived), "{archived} archived");
        assert!(
            store
                .runs
                .keys()
                .all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        );
        assert!(
            store
                .tasks
                .values()
                .any(|t| t.run_id.is_none() && t.archived_at.is_some())
        );
        assert_eq!(store.tags.len(), 20);
        let created = store
            .runs
            .values()
            .next()
            .and_then(|r| r.created_at.clone())
            .unwrap();
        assert!(created.parse::<Timestamp>().is_ok(), "{created}");
        assert!(created.ends_with('Z') && created.contains('.'), "{created}");
    }

    #[test]
    fn aliases_are_snake_case() {
        assert_eq!(
            alias("Schedule the kick-off call"),
            "schedule_the_kick_off_call"
        );
        assert_eq!(iso(later(epoch(), 2)), "2025-01-03T00:00:00.000Z");
    }
}
