//! Benchmarks against the fake server on loopback: `cargo bench -p tallyfy-tests`.
//!
//! 1. SDK overhead: permanent deletes through the SDK vs a bare reqwest client with the
//!    same connection settings, sequential and 32 in flight.
//! 2. Purge against a rate limit: wall time vs the floor N/R.
//! 3. Purge unthrottled: throughput at concurrency 1, 8, 32, 128.
//! 4. Memory: peak RSS of purges of 10,000 and 100,000 IDs, each in its own process.
//!
//! Prints Markdown tables for BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use futures_util::{StreamExt, TryStreamExt, stream};
use tallyfy::reqwest;
use tallyfy::{Client, Execute};
use tallyfy_fake::{FakeServer, Faults};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Some(n) = args
        .iter()
        .position(|a| a == "--memory-child")
        .and_then(|i| args.get(i + 1))
    {
        runtime.block_on(memory_child(n.parse().unwrap()));
        return;
    }
    let filter = args
        .iter()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .cloned()
        .unwrap_or_default();
    println!("# tallyfy-rs benchmarks\n");
    if "overhead".contains(&filter) {
        runtime.block_on(overhead());
    }
    if "rate_limited".contains(&filter) {
        runtime.block_on(rate_limited());
    }
    if "unthrottled".contains(&filter) {
        runtime.block_on(unthrottled());
    }
    if "memory".contains(&filter) {
        memory();
    }
}

fn sdk_client(fake: &FakeServer) -> Client {
    Client::builder(fake.admin_token())
        .base_url(fake.base_url())
        .build()
        .unwrap()
}

/// `n` archived processes of a fresh fake (seeded: every call gives the same ones).
async fn fake_with_archived(n: usize, faults: Faults) -> (FakeServer, Vec<String>) {
    let fake = FakeServer::builder()
        .processes(n * 3)
        .seed(42)
        .faults(faults)
        .start()
        .await
        .unwrap();
    let ids: Vec<String> = fake.archived_process_ids().into_iter().take(n).collect();
    assert_eq!(ids.len(), n, "the fake has enough archived processes");
    (fake, ids)
}

/// Deletes `ids` through the SDK, `in_flight` at a time.
async fn delete_all_sdk(client: &Client, org: &str, ids: &[String], in_flight: usize) -> Duration {
    let started = Instant::now();
    stream::iter(ids)
        .map(|id| async move {
            client
                .permanently_delete_process()
                .org_id(org)
                .run_id(id)
                .execute()
                .await
                .unwrap()
        })
        .buffer_unordered(in_flight)
        .collect::<Vec<()>>()
        .await;
    started.elapsed()
}

/// Sends the same requests through a bare reqwest client with the same connection
/// settings (TLS backend, redirects off, timeouts) and the same headers.
async fn delete_all_bare(
    http: &reqwest::Client,
    fake: &FakeServer,
    ids: &[String],
    in_flight: usize,
) -> Duration {
    let (base, org, token) = (fake.base_url(), fake.org_id(), fake.admin_token());
    let started = Instant::now();
    stream::iter(ids)
        .map(|id| {
            let request = http
                .delete(format!("{base}/organizations/{org}/runs/{id}/delete"))
                .bearer_auth(token)
                .header("accept", "application/json")
                .header("x-tallyfy-client", "APIClient")
                .header("user-agent", "bare-reqwest")
                .timeout(tallyfy::DEFAULT_TIMEOUT);
            async move {
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 200);
                response.bytes().await.unwrap();
            }
        })
        .buffer_unordered(in_flight)
        .collect::<Vec<()>>()
        .await;
    started.elapsed()
}

async fn overhead() {
    const N: usize = 10_000;
    const CHUNK: usize = 500;
    println!("## 1. SDK overhead: {N} permanent deletes each, side by side\n");
    println!(
        "Both clients serve one fake, alternating every {CHUNK} deletes, so that both meet the same"
    );
    println!("server, machine load and warm connection pools.\n");
    println!("CPU is the whole process's (client and fake), per request.\n");
    println!(
        "| in flight | bare reqwest (req/s) | SDK (req/s) | SDK / bare | bare CPU (µs/req) | SDK CPU (µs/req) |"
    );
    println!("|---|---|---|---|---|---|");
    for in_flight in [1, 32] {
        let (fake, ids) = fake_with_archived(2 * N, Faults::default()).await;
        let sdk = sdk_client(&fake);
        let bare = tallyfy::http_client_builder()
            .connect_timeout(tallyfy::DEFAULT_CONNECT_TIMEOUT)
            .build()
            .unwrap();
        let (mut sdk_time, mut bare_time) = (Duration::ZERO, Duration::ZERO);
        let (mut sdk_cpu, mut bare_cpu) = (Duration::ZERO, Duration::ZERO);
        for (n, pair) in ids.chunks(2 * CHUNK).enumerate() {
            let (first, second) = pair.split_at(CHUNK);
            // Alternate which goes first within each pair of chunks.
            let (sdk_ids, bare_ids) = if n % 2 == 0 {
                (first, second)
            } else {
                (second, first)
            };
            for sdk_turn in [n % 2 == 0, n % 2 != 0] {
                let cpu = cpu_time();
                if sdk_turn {
                    sdk_time += delete_all_sdk(&sdk, fake.org_id(), sdk_ids, in_flight).await;
                    sdk_cpu += cpu_time() - cpu;
                } else {
                    bare_time += delete_all_bare(&bare, &fake, bare_ids, in_flight).await;
                    bare_cpu += cpu_time() - cpu;
                }
            }
        }
        let (sdk, bare) = (
            N as f64 / sdk_time.as_secs_f64(),
            N as f64 / bare_time.as_secs_f64(),
        );
        let per_request = |cpu: Duration| cpu.as_secs_f64() * 1e6 / N as f64;
        println!(
            "| {in_flight} | {bare:.0} | {sdk:.0} | {:.3} | {:.1} | {:.1} |",
            sdk / bare,
            per_request(bare_cpu),
            per_request(sdk_cpu)
        );
    }
    println!();
}

/// The CPU time the whole process has used so far.
fn cpu_time() -> Duration {
    cpu_time::ProcessTime::now().as_duration()
}

async fn purge(fake: &FakeServer, concurrency: usize) -> (Duration, BTreeSet<String>, usize) {
    let client = sdk_client(fake);
    let far_future = SystemTime::now() + Duration::from_secs(86_400);
    let started = Instant::now();
    let events: Vec<_> = client
        .purge_archived_before(fake.org_id(), far_future)
        .concurrency(concurrency)
        .run()
        .try_collect()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let deleted: BTreeSet<String> = events
        .iter()
        .filter(|e| e.outcome.name() == "deleted")
        .map(|e| e.id.clone())
        .collect();
    (elapsed, deleted, events.len())
}

async fn rate_limited() {
    const N: usize = 10_000;
    const R: u32 = 500;
    println!(
        "## 2. Purge against a rate limit: {N} archived processes, the fake limited to {R} requests/s\n"
    );
    let faults = Faults {
        rate_limit: Some(R),
        ..Faults::default()
    };
    let fake = FakeServer::builder()
        .processes(N * 5 / 2)
        .seed(42)
        .faults(faults)
        .start()
        .await
        .unwrap();
    let archived: BTreeSet<String> = fake.archived_process_ids().into_iter().collect();
    let n = archived.len();
    let requests_before = fake.requests();
    let (elapsed, deleted, events) = purge(&fake, 32).await;
    let floor = n as f64 / f64::from(R);
    println!(
        "| archived | floor N/R | wall time | wall / floor | outcomes | lost | duplicated | requests sent |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {n} | {floor:.1} s | {:.1} s | {:.3} | {events} | {} | {} | {} |\n",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() / floor,
        archived.difference(&deleted).count(),
        events - deleted.len(),
        fake.requests() - requests_before,
    );
}

async fn unthrottled() {
    const N: usize = 4_000;
    println!("## 3. Purge unthrottled: {N} archived processes\n");
    println!("| concurrency | wall time | deletes/s |\n|---|---|---|");
    for concurrency in [1, 8, 32, 128] {
        let (fake, ids) = fake_with_archived(N, Faults::default()).await;
        // Keep exactly N archived: restore the rest so that the purge meets N.
        let client = sdk_client(&fake);
        for id in fake
            .archived_process_ids()
            .into_iter()
            .filter(|id| !ids.contains(id))
        {
            client
                .activate_process()
                .org_id(fake.org_id())
                .run_id(&id)
                .execute()
                .await
                .unwrap();
        }
        let (elapsed, deleted, _) = purge(&fake, concurrency).await;
        assert_eq!(deleted.len(), N);
        println!(
            "| {concurrency} | {:.2} s | {:.0} |",
            elapsed.as_secs_f64(),
            N as f64 / elapsed.as_secs_f64()
        );
    }
    println!();
}

fn memory() {
    println!("## 4. Memory: peak RSS of a purge of N IDs (each run in its own process)\n");
    println!("| IDs purged | peak RSS | outcomes |\n|---|---|---|");
    for n in [1_000usize, 10_000, 100_000] {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--memory-child", &n.to_string()])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        println!("{}", text.trim());
    }
    println!();
}

/// Purges `n` IDs (generated lazily; the fake answers 404, counted `already_gone`) and
/// prints the process's peak RSS.
async fn memory_child(n: usize) {
    let fake = FakeServer::builder().processes(10).start().await.unwrap();
    let client = sdk_client(&fake);
    let ids = (0..n).map(|i| format!("{i:032x}"));
    let summary = client
        .purge_ids(fake.org_id(), ids)
        .concurrency(32)
        .summary()
        .await
        .unwrap();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: ? kB");
    let kib: f64 = peak
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    println!("| {n} | {:.1} MiB | {} |", kib / 1024.0, summary.total());
}
