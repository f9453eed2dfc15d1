//! Bulk purge against the fake server: exact streams, one outcome per ID, faults,
//! journals and resumption.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use futures_util::{StreamExt, TryStreamExt};
use tallyfy::purge::OutcomeName;
use tallyfy::{Client, Execute, PurgeOutcome, PurgeSummary, RetryPolicy};
use tallyfy_fake::{FakeServer, Faults};

fn client(fake: &FakeServer, token: &str) -> Client {
    Client::builder(token)
        .base_url(fake.base_url())
        .timeout(Duration::from_secs(5))
        .retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .unwrap()
}

fn far_future() -> SystemTime {
    SystemTime::now() + Duration::from_secs(86_400)
}

#[tokio::test]
async fn the_stream_never_skips_or_repeats_while_the_set_shrinks() {
    // Delete every item as it comes, every other one, or in lagging batches.
    for (name, keep_every, batch) in [
        ("all", 1, 1),
        ("every other", 2, 1),
        ("batches of 17", 1, 17),
    ] {
        let fake = FakeServer::builder()
            .processes(300)
            .seed(4)
            .start()
            .await
            .unwrap();
        let client = client(&fake, fake.admin_token());
        let expected: BTreeSet<String> = fake.archived_process_ids().into_iter().collect();
        let mut seen = Vec::new();
        let mut pending = Vec::new();
        let mut stream = Box::pin(
            client
                .processes(fake.org_id())
                .archived("only")
                .per_page(10)
                .stream(),
        );
        while let Some(run) = stream.next().await {
            let run = run.unwrap();
            if seen.len() % keep_every == 0 {
                pending.push(run.id.clone());
            }
            seen.push(run.id);
            if pending.len() >= batch {
                for id in pending.drain(..) {
                    client
                        .permanently_delete_process()
                        .org_id(fake.org_id())
                        .run_id(&id)
                        .execute()
                        .await
                        .unwrap();
                }
            }
        }
        let unique: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "{name}: an item was repeated");
        assert_eq!(
            unique, expected,
            "{name}: the stream skipped or invented items"
        );
    }
}

#[tokio::test]
async fn the_stream_reads_about_two_pages_per_page_deleted() {
    let fake = FakeServer::builder()
        .processes(500)
        .seed(2)
        .start()
        .await
        .unwrap();
    let client = client(&fake, fake.admin_token());
    let archived = fake.archived_process_ids().len() as u64;
    let before = fake.requests();
    let summary = client
        .purge_archived_before(fake.org_id(), far_future())
        .concurrency(4)
        .summary()
        .await
        .unwrap();
    assert_eq!(summary.deleted, archived);
    let listing = fake.requests() - before - archived;
    assert!(
        listing <= 2 * archived.div_ceil(100) + 4,
        "{listing} list requests for {archived} deletes"
    );
}

/// Reads a journal: every line must be whole JSON with an ID; returns the final outcome
/// of each ID and how many final outcomes each has.
fn journal_outcomes(path: &std::path::Path) -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut outcomes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines() {
        let entry: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("an unreadable journal line {line:?}: {e}"));
        let id = entry["id"]
            .as_str()
            .expect("every entry names its ID")
            .to_owned();
        if let Some(outcome) = entry["outcome"].as_str() {
            outcomes.entry(id).or_default().push(outcome.to_owned());
        }
    }
    outcomes
}

#[tokio::test]
async fn a_purge_under_faults_finishes_in_one_run_with_every_process_once() {
    // Server errors (some after deleting), resets, stalls and a rate limit, all at once.
    let faults = Faults {
        server_errors: 0.1,
        resets: 0.05,
        stalls: 0.01,
        rate_limit: Some(400),
        seed: 11,
        ..Faults::default()
    };
    let fake = FakeServer::builder()
        .processes(500)
        .seed(8)
        .faults(faults)
        .start()
        .await
        .unwrap();
    let client = Client::builder(fake.admin_token())
        .base_url(fake.base_url())
        .timeout(Duration::from_millis(500))
        .retry(
            RetryPolicy::default()
                .with_max_retries(8)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let archived: BTreeSet<String> = fake.archived_process_ids().into_iter().collect();
    assert!(archived.len() > 150, "a few hundred: {}", archived.len());
    let dir = std::env::temp_dir().join(format!("tallyfy-purge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("faults.jsonl");
    let _ = std::fs::remove_file(&journal);

    let events: Vec<_> = client
        .purge_archived_before(fake.org_id(), far_future())
        .concurrency(16)
        .journal(&journal)
        .run()
        .try_collect()
        .await
        .unwrap();

    let mut outcomes = BTreeMap::new();
    for event in &events {
        let earlier = outcomes.insert(event.id.clone(), event.outcome.name());
        assert!(earlier.is_none(), "two outcomes for {}", event.id);
    }
    assert_eq!(
        outcomes.keys().cloned().collect::<BTreeSet<_>>(),
        archived,
        "every archived process, once"
    );
    for (id, outcome) in &outcomes {
        assert!(
            matches!(*outcome, "deleted" | "already_gone"),
            "{id}: {outcome} in one run under faults"
        );
        assert!(fake.process(id).is_none(), "{id} is {outcome} but exists");
    }
    assert!(fake.archived_process_ids().is_empty());
    assert!(
        outcomes.values().any(|o| *o == "already_gone"),
        "a 504 after deleting was retried and found the process gone"
    );

    // The journal says the same: one final outcome per ID, every line whole.
    let recorded = journal_outcomes(&journal);
    assert_eq!(recorded.len(), outcomes.len());
    for (id, outcome) in &outcomes {
        assert_eq!(recorded[id], [*outcome], "{id}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_journal_cut_off_mid_line_resumes_and_is_whole_again() {
    let fake = FakeServer::builder()
        .processes(60)
        .seed(5)
        .start()
        .await
        .unwrap();
    let client = client(&fake, fake.admin_token());
    let archived: BTreeSet<String> = fake.archived_process_ids().into_iter().collect();
    let dir = std::env::temp_dir().join(format!("tallyfy-torn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("torn.jsonl");
    let _ = std::fs::remove_file(&journal);

    // A first run that deletes a few, as if killed while writing its last entry.
    let first: Vec<String> = archived.iter().take(5).cloned().collect();
    let done = client
        .purge_ids(fake.org_id(), first.clone())
        .journal(&journal)
        .summary()
        .await
        .unwrap();
    assert_eq!(done.deleted, 5);
    let whole = std::fs::read_to_string(&journal).unwrap();
    let torn = &whole[..whole.len() - 9];
    std::fs::write(&journal, torn).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(torn.lines().last().unwrap()).is_err());

    let summary = client
        .purge_archived_before(fake.org_id(), far_future())
        .journal(&journal)
        .summary()
        .await
        .unwrap();
    // The torn entry was the last outcome: that process is deleted already, so the rerun
    // either skips it (its delete was journaled as started) or finds it gone.
    assert_eq!(summary.failed, 0, "{summary:?}");
    assert!(fake.archived_process_ids().is_empty());
    let recorded = journal_outcomes(&journal);
    assert_eq!(
        recorded.keys().cloned().collect::<BTreeSet<_>>(),
        archived,
        "every process has an outcome in the mended journal"
    );
    assert!(recorded.values().all(|o| o.len() == 1), "{recorded:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_journal_written_before_it_was_typed_resumes_and_counts_the_whole_job() {
    let fake = FakeServer::builder()
        .processes(60)
        .seed(9)
        .start()
        .await
        .unwrap();
    let client = client(&fake, fake.admin_token());
    let archived: BTreeSet<String> = fake.archived_process_ids().into_iter().collect();
    let ids: Vec<String> = archived.iter().take(6).cloned().collect();
    // An earlier run deleted four (the fourth found gone), was cut off after starting the
    // fifth, and failed the sixth.
    for id in &ids[..4] {
        client
            .permanently_delete_process()
            .org_id(fake.org_id())
            .run_id(id)
            .execute()
            .await
            .unwrap();
    }
    // Its journal, as `serde_json::json!` wrote it before the journal was typed, with
    // keys in either order, an unknown key and a line that is not an entry.
    let lines = [
        format!(r#"{{"event":"started","id":"{}"}}"#, ids[0]),
        format!(r#"{{"id":"{}","outcome":"deleted"}}"#, ids[0]),
        format!(r#"{{"id":"{}","event":"started"}}"#, ids[1]),
        format!(r#"{{"outcome":"deleted","id":"{}","host":"a"}}"#, ids[1]),
        format!(r#"{{"id":"{}","outcome":"deleted"}}"#, ids[2]),
        format!(
            r#"{{"id":"{}","kind":"already_gone","outcome":"already_gone"}}"#,
            ids[3]
        ),
        format!(r#"{{"event":"started","id":"{}"}}"#, ids[4]),
        "# not an entry".to_string(),
        format!(r#"{{"event":"started","id":"{}"}}"#, ids[5]),
        format!(
            r#"{{"id":"{}","kind":"server_error","message":"Internal Server Error","outcome":"failed"}}"#,
            ids[5]
        ),
    ];
    let journal =
        std::env::temp_dir().join(format!("tallyfy-untyped-{}.jsonl", std::process::id()));
    std::fs::write(&journal, lines.join("\n") + "\n").unwrap();

    let (earlier, events) = client
        .purge_archived_before(fake.org_id(), far_future())
        .journal(&journal)
        .start();
    let mut expected = PurgeSummary::default();
    for name in [OutcomeName::Deleted; 3] {
        expected.add(name);
    }
    expected.add(OutcomeName::AlreadyGone);
    assert_eq!(
        (earlier.deleted, earlier.already_gone, earlier.failed),
        (3, 1, 0),
        "{earlier:?}"
    );
    assert_eq!(earlier.total(), expected.total());
    assert_eq!(earlier.from_journal, 4);

    let events: Vec<_> = events.try_collect().await.unwrap();
    let mut summary = earlier;
    let mut this_run = BTreeSet::new();
    for event in &events {
        summary.add(&event.outcome);
        assert!(this_run.insert(event.id.clone()), "twice: {}", event.id);
        assert!(
            matches!(event.outcome, PurgeOutcome::Deleted),
            "{}: {:?}",
            event.id,
            event.outcome
        );
    }
    assert!(this_run.contains(&ids[4]), "the interrupted one is deleted");
    assert!(this_run.contains(&ids[5]), "the failed one is tried again");
    assert!(
        this_run.iter().all(|id| !ids[..4].contains(id)),
        "finished ones are skipped"
    );
    assert!(fake.archived_process_ids().is_empty());
    assert_eq!(summary.total(), archived.len() as u64, "{summary:?}");
    assert_eq!(summary.deleted, archived.len() as u64 - 1);
    assert_eq!(summary.count(OutcomeName::AlreadyGone), 1);

    // The journal goes on in the same format: every process's last outcome is final.
    let recorded = journal_outcomes_tolerant(&journal);
    assert_eq!(recorded.keys().cloned().collect::<BTreeSet<_>>(), archived);
    for (id, outcomes) in &recorded {
        let last = outcomes.last().map(String::as_str);
        assert!(
            matches!(last, Some("deleted" | "already_gone")),
            "{id}: {outcomes:?}"
        );
    }
    assert_eq!(recorded[&ids[5]], ["failed", "deleted"]);
    let _ = std::fs::remove_file(&journal);
}

/// The outcomes each ID has in a journal, in order, skipping lines that are not JSON.
fn journal_outcomes_tolerant(path: &std::path::Path) -> BTreeMap<String, Vec<String>> {
    let mut outcomes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let (Some(id), Some(outcome)) = (v["id"].as_str(), v["outcome"].as_str()) {
            outcomes
                .entry(id.to_owned())
                .or_default()
                .push(outcome.to_owned());
        }
    }
    outcomes
}

#[tokio::test]
async fn summary_and_run_agree_with_start() {
    // `summary()` is `start()` with every outcome added to the earlier counts.
    let fake = FakeServer::builder()
        .processes(40)
        .seed(3)
        .start()
        .await
        .unwrap();
    let archived = fake.archived_process_ids();
    let active = fake.active_process_ids();
    let ids = vec![archived[0].clone(), "0".repeat(32), active[0].clone()];
    let client = client(&fake, fake.admin_token());
    let (mut by_hand, events) = client
        .purge_ids(fake.org_id(), ids.clone())
        .dry_run(true)
        .start();
    let events: Vec<_> = events.try_collect().await.unwrap();
    for event in &events {
        by_hand.add(&event.outcome);
    }
    let summary = client
        .purge_ids(fake.org_id(), ids.clone())
        .dry_run(true)
        .summary()
        .await
        .unwrap();
    assert_eq!(summary, by_hand);
    assert_eq!(summary.would_delete, 3);

    let summary = client
        .purge_ids(fake.org_id(), ids)
        .summary()
        .await
        .unwrap();
    let mut expected = PurgeSummary::default();
    for name in [
        OutcomeName::Deleted,
        OutcomeName::AlreadyGone,
        OutcomeName::NotArchived,
    ] {
        expected.add(name);
    }
    assert_eq!(summary, expected);
}

#[tokio::test]
async fn a_purge_killed_midway_resumes_from_its_journal_and_deletes_each_process_once() {
    let fake = FakeServer::builder()
        .processes(250)
        .seed(5)
        .start()
        .await
        .unwrap();
    let client = client(&fake, fake.admin_token());
    let archived: BTreeSet<String> = fake.archived_process_ids().into_iter().collect();
    let journal = std::env::temp_dir().join(format!("tallyfy-resume-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&journal);

    // "Kill" it after 30 outcomes: the stream is dropped with deletes in flight.
    let first: Vec<_> = client
        .purge_archived_before(fake.org_id(), far_future())
        .concurrency(8)
        .journal(&journal)
        .run()
        .take(30)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(first.len(), 30);
    assert!(fake.archived_process_ids().len() < archived.len());

    let summary = client
        .purge_archived_before(fake.org_id(), far_future())
        .concurrency(8)
        .journal(&journal)
        .summary()
        .await
        .unwrap();
    assert!(
        fake.archived_process_ids().is_empty(),
        "everything is deleted after the rerun"
    );
    assert_eq!(
        summary.total(),
        archived.len() as u64,
        "the whole job is reported: {summary:?}"
    );
    assert_eq!(summary.from_journal, 30);
    assert_eq!(summary.failed, 0);

    // Each process has exactly one final outcome in the journal, and at most one delete
    // succeeded for it.
    let mut finals: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in std::fs::read_to_string(&journal).unwrap().lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let (Some(id), Some(outcome)) = (v["id"].as_str(), v["outcome"].as_str()) {
            finals
                .entry(id.to_string())
                .or_default()
                .push(outcome.to_string());
        }
    }
    assert_eq!(finals.keys().cloned().collect::<BTreeSet<_>>(), archived);
    for (id, outcomes) in &finals {
        assert_eq!(outcomes.len(), 1, "{id}: {outcomes:?}");
    }
    let _ = std::fs::remove_file(&journal);
}

#[tokio::test]
async fn a_dry_run_deletes_nothing() {
    let fake = FakeServer::builder().processes(60).start().await.unwrap();
    let client = client(&fake, fake.admin_token());
    let archived = fake.archived_process_ids();
    let summary = client
        .purge_archived_before(fake.org_id(), far_future())
        .dry_run(true)
        .summary()
        .await
        .unwrap();
    assert_eq!(summary.would_delete, archived.len() as u64);
    assert_eq!(fake.archived_process_ids(), archived);
}

#[tokio::test]
async fn the_cutoff_spares_later_archives() {
    let fake = FakeServer::builder().processes(60).start().await.unwrap();
    let client = client(&fake, fake.admin_token());
    let old = fake.archived_process_ids();
    let fresh = fake.active_process_ids()[0].clone();
    client
        .archive_process()
        .org_id(fake.org_id())
        .run_id(&fresh)
        .execute()
        .await
        .unwrap();
    let cutoff = SystemTime::now() - Duration::from_secs(60);
    let summary = client
        .purge_archived_before(fake.org_id(), cutoff)
        .summary()
        .await
        .unwrap();
    assert_eq!(
        fake.archived_process_ids(),
        [fresh],
        "the one archived a moment ago stays"
    );
    assert_eq!(summary.deleted as usize, old.len());
}

#[tokio::test]
async fn every_outcome_from_a_list_of_ids() {
    let fake = FakeServer::builder().processes(40).start().await.unwrap();
    let archived = fake.archived_process_ids();
    let active = fake.active_process_ids();
    let ids = vec![archived[0].clone(), "0".repeat(32), active[0].clone()];
    let admin = client(&fake, fake.admin_token());
    let mut outcomes: Vec<(String, &str)> = admin
        .purge_ids(fake.org_id(), ids)
        .run()
        .map_ok(|e| (e.id, e.outcome.name()))
        .try_collect()
        .await
        .unwrap();
    outcomes.sort();
    let mut expected = vec![
        (archived[0].clone(), "deleted"),
        ("0".repeat(32), "already_gone"),
        (active[0].clone(), "not_archived"),
    ];
    expected.sort();
    assert_eq!(outcomes, expected);

    let member = client(&fake, fake.member_token());
    let event = member
        .purge_ids(fake.org_id(), vec![archived[1].clone()])
        .run()
        .next()
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(event.outcome, PurgeOutcome::Forbidden));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_with_more_deletes_in_flight_than_a_page_holds_misses_nothing() {
    for seed in 1..=3 {
        let fake = FakeServer::builder()
            .processes(1_500)
            .seed(seed)
            .start()
            .await
            .unwrap();
        let client = client(&fake, fake.admin_token());
        let archived = fake.archived_process_ids().len() as u64;
        let summary = client
            .purge_archived_before(fake.org_id(), far_future())
            .concurrency(128)
            .summary()
            .await
            .unwrap();
        assert_eq!(summary.deleted, archived, "seed {seed}: {summary:?}");
        assert!(fake.archived_process_ids().is_empty(), "seed {seed}");
    }
}

#[tokio::test]
async fn a_purge_lists_archived_processes_with_archived_only_never_status_archived() {
    let server = httpmock::MockServer::start_async().await;
    let list = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/organizations/org/runs")
                .query_param("archived", "only")
                .query_param_missing("status");
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"data": [], "meta": {"pagination": {"total": 0, "count": 0, "per_page": 100, "current_page": 1, "total_pages": 1, "links": []}}}"#);
        })
        .await;
    let client = crate::support::client(&server);
    let events: Vec<_> = client
        .purge_archived_before("org", far_future())
        .run()
        .collect()
        .await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    assert!(
        list.calls_async().await >= 1,
        "the purge listed as Tallyfy's SDKs do"
    );
}
