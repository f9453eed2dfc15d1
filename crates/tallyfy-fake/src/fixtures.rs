//! Deterministic, realistic data: the same seed gives the same organization.

use jiff::{SignedDuration, Timestamp};
use serde_json::Map;
use tallyfy_api::UserId;
use tallyfy_api::types::{Progress, ProgressCounts, Run};

use crate::store::{Store, Task};

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

/// How much data to make, and from which seed.
#[derive(Clone, Copy, Debug)]
pub struct Fixtures {
    /// Processes to create (10 to 100,000 is the intended range).
    pub processes: usize,
    /// The seed: the same seed gives the same data.
    pub seed: u64,
}

/// The earliest creation date in the fixtures.
fn epoch() -> Timestamp {
    Timestamp::from_second(1_735_689_600).unwrap_or(Timestamp::UNIX_EPOCH) // 2025-01-01T00:00:00Z
}

fn iso(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S.%3fZ").to_string()
}

impl Fixtures {
    /// Makes the organization: processes (about 40% archived, each with up to four
    /// tasks), one-off tasks (one per five processes, some archived) and twenty tags.
    pub fn build(self) -> Store {
        let mut rng = fastrand::Rng::with_seed(self.seed);
        let mut store = Store::default();
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
            let total = rng.i64(3..12);
            let complete = rng.i64(0..=total);
            let progress = ProgressCounts {
                complete: Some(complete),
                total: Some(total),
                percent: Some((complete as f64 * 1000.0 / total as f64).round() / 10.0),
                extra: Map::new(),
            };
            // Drawn in this order since the first fixtures, so a seed keeps its IDs.
            let subject = SUBJECTS[rng.usize(..SUBJECTS.len())];
            let started_by = user_id(rng.u32(1..40));
            let owner_id = user_id(rng.u32(1..40));
            let starred = rng.u8(0..10) == 0;
            let due = created + SignedDuration::from_secs(14 * 86_400);
            let run = Run {
                id: id.clone(),
                increment_id: Some(1000 + n as i64),
                checklist_id: Some(format!("{:032x}", template as u128 * 0x9e37_79b9_7f4a_7c15)),
                checklist_title: Some(TEMPLATES[template].into()),
                name: Some(format!("{}: {subject}", TEMPLATES[template])),
                summary: Some(String::new()),
                status: Some(if archived { "archived" } else { status }.into()),
                progress: Some(Progress::ProgressCounts(progress.clone())),
                whole_progress: Some(Progress::ProgressCounts(progress)),
                started_by: Some(started_by),
                owner_id: Some(owner_id),
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
            for t in 0..rng.usize(1..5) {
                let task_id = format!("{}t{t}", &id[..16]);
                store
                    .run_tasks
                    .entry(id.clone())
                    .or_default()
                    .push(task_id.clone());
                store.tasks.insert(
                    task_id.clone(),
                    Task {
                        id: task_id,
                        title: format!("Step {}", t + 1),
                        run_id: Some(id.clone()),
                        archived_at: None,
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
            store.tasks.insert(
                id.clone(),
                Task {
                    id,
                    title,
                    run_id: None,
                    archived_at,
                },
            );
        }
        for n in 0..20 {
            store
                .tags
                .insert(format!("tag{n:02}{:06x}", rng.u32(..1 << 24)));
        }
        store
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
        assert_ne!(a.runs, c.runs);
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
}
