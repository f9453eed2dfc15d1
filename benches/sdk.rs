//! Benchmarks against the fake server on loopback: `cargo bench -p tallyfy-benches`.
//!
//! 1. SDK overhead: permanent deletes through the SDK vs a bare reqwest client with the
//!    same connection settings, sequential and 32 in flight.
//! 2. Purge against a rate limit: wall time vs the floor N/R.
//! 3. Purge unthrottled: throughput at concurrency 1, 8, 32, 128.
//! 4. Memory: peak RSS of purges of 10,000 and 100,000 IDs, each in its own process.
//! 5. Instructions per request, SDK vs bare, counted by valgrind's callgrind (skipped
//!    where valgrind is not installed): the overhead without the machine's noise.
//! 6. Purge under faults (`-- faults`).
//! 7. Files: peak RSS of uploading and downloading a 1 MiB and a 200 MiB file through
//!    the fake, each transfer in its own process (the fake, which holds the files, runs
//!    in this one).
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
    if let Some(i) = args.iter().position(|a| a == "--transfer-child") {
        runtime.block_on(transfer_child(&args[i + 1..]));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--instructions-child") {
        instructions_child(&args[i + 1..]);
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
    if "faults".contains(&filter) {
        runtime.block_on(under_faults());
    }
    if "unthrottled".contains(&filter) {
        runtime.block_on(unthrottled());
    }
    if "memory".contains(&filter) {
        memory();
    }
    if "instructions".contains(&filter) {
        runtime.block_on(instructions());
    }
    if "files".contains(&filter) {
        runtime.block_on(files());
    }
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

/// Where the requests go: the fake's base URL, organization and admin token.
struct Target {
    base: String,
    org: String,
    token: String,
}

impl Target {
    fn of(fake: &FakeServer) -> Self {
        Self {
            base: fake.base_url().to_owned(),
            org: fake.org_id().to_owned(),
            token: fake.admin_token().to_owned(),
        }
    }

    fn sdk_client(&self) -> Client {
        Client::builder(self.token.as_str())
            .base_url(&self.base)
            .build()
            .unwrap()
    }
}

/// A bare reqwest client with the SDK's connection settings (TLS backend, redirects
/// off, connect timeout).
fn bare_client() -> reqwest::Client {
    tallyfy::http_client_builder()
        .connect_timeout(tallyfy::DEFAULT_CONNECT_TIMEOUT)
        .build()
        .unwrap()
}

/// Sends the same requests through a bare reqwest client, with the same headers and
/// request timeout as the SDK's.
async fn delete_all_bare(
    http: &reqwest::Client,
    target: &Target,
    ids: &[String],
    in_flight: usize,
) -> Duration {
    let Target { base, org, token } = target;
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
    const TRIALS: usize = 11;
    const N: usize = 2_000;
    const CHUNK: usize = 100;
    println!(
        "## 1. SDK overhead: permanent deletes, {TRIALS} trials of {N} per client, side by side\n"
    );
    println!(
        "Within a trial both clients serve one fake, alternating every {CHUNK} deletes, so that"
    );
    println!("both meet the same server, machine load and warm connection pools. The fake runs on");
    println!("a tokio runtime of its own. The ratio is the median trial's.\n");
    println!(
        "| in flight | bare reqwest (req/s) | SDK (req/s) | SDK / bare, median | lowest | highest |"
    );
    println!("|---|---|---|---|---|---|");
    for in_flight in [1, 32] {
        // The fake runs on a runtime of its own, as a server would: sharing the clients'
        // scheduler tied their latencies to how its tasks happened to interleave.
        let server_runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let (fake, ids) = server_runtime
            .spawn(fake_with_archived(
                2 * (TRIALS * N + in_flight),
                Faults::default(),
            ))
            .await
            .unwrap();
        let target = Target::of(&fake);
        let (sdk, bare) = (target.sdk_client(), bare_client());
        // Untimed, so that neither pays for opening its connections in a trial: whoever
        // went first after the fake started had its first connections stall ~0.4 s.
        let (warm_up, ids) = ids.split_at(2 * in_flight);
        let (sdk_warm_up, bare_warm_up) = warm_up.split_at(in_flight);
        delete_all_sdk(&sdk, &target.org, sdk_warm_up, in_flight).await;
        delete_all_bare(&bare, &target, bare_warm_up, in_flight).await;
        let (mut sdk_total, mut bare_total) = (Duration::ZERO, Duration::ZERO);
        let mut ratios = Vec::new();
        for trial in ids.chunks(2 * N) {
            let (mut sdk_time, mut bare_time) = (Duration::ZERO, Duration::ZERO);
            for (n, pair) in trial.chunks(2 * CHUNK).enumerate() {
                let (first, second) = pair.split_at(CHUNK);
                // Alternate which goes first within each pair of chunks.
                let (sdk_ids, bare_ids) = if n % 2 == 0 {
                    (first, second)
                } else {
                    (second, first)
                };
                for sdk_turn in [n % 2 == 0, n % 2 != 0] {
                    if sdk_turn {
                        sdk_time += delete_all_sdk(&sdk, &target.org, sdk_ids, in_flight).await;
                    } else {
                        bare_time += delete_all_bare(&bare, &target, bare_ids, in_flight).await;
                    }
                }
            }
            ratios.push(bare_time.as_secs_f64() / sdk_time.as_secs_f64());
            sdk_total += sdk_time;
            bare_total += bare_time;
        }
        ratios.sort_by(f64::total_cmp);
        let rate = |time: Duration| (TRIALS * N) as f64 / time.as_secs_f64();
        println!(
            "| {in_flight} | {:.0} | {:.0} | {:.3} | {:.3} | {:.3} |",
            rate(bare_total),
            rate(sdk_total),
            ratios[TRIALS / 2],
            ratios[0],
            ratios[TRIALS - 1]
        );
        drop(fake);
        tokio::task::spawn_blocking(move || drop(server_runtime))
            .await
            .unwrap();
    }
    println!();
}

async fn purge(fake: &FakeServer, concurrency: usize) -> (Duration, BTreeSet<String>, usize) {
    let client = Target::of(fake).sdk_client();
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

/// A nightly purge under every fault at once: one run must resolve every process.
async fn under_faults() {
    const N: usize = 10_000;
    const R: u32 = 400;
    println!(
        "## 6. Purge under faults: {N} archived processes; 10% server errors, 5% resets, 1% stalls, {R} requests/s\n"
    );
    println!(
        "The client as `tallyfy processes purge --timeout 2 --max-retries 5 --concurrency C` sets it up.\n"
    );
    println!(
        "| concurrency | archived | floor N/R | wall time | wall / floor | deleted | already gone | failed | left archived | requests sent | requests per process |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for concurrency in [16, 64] {
        let faults = Faults {
            rate_limit: Some(R),
            server_errors: 0.1,
            resets: 0.05,
            stalls: 0.01,
            seed: 15,
            ..Faults::default()
        };
        let fake = FakeServer::builder()
            .processes(N * 5 / 2)
            .seed(42)
            .faults(faults)
            .start()
            .await
            .unwrap();
        let n = fake.archived_process_ids().len();
        let client = Client::builder(fake.admin_token())
            .base_url(fake.base_url())
            .timeout(Duration::from_secs(2))
            .retry(tallyfy::RetryPolicy::default().with_max_retries(5))
            .build()
            .unwrap();
        let requests_before = fake.requests();
        let started = Instant::now();
        let events: Vec<_> = client
            .purge_archived_before(
                fake.org_id(),
                SystemTime::now() + Duration::from_secs(86_400),
            )
            .concurrency(concurrency)
            .run()
            .try_collect()
            .await
            .unwrap();
        let elapsed = started.elapsed().as_secs_f64();
        let count = |name: &str| events.iter().filter(|e| e.outcome.name() == name).count();
        let requests = fake.requests() - requests_before;
        let floor = n as f64 / f64::from(R);
        println!(
            "| {concurrency} | {n} | {floor:.1} s | {elapsed:.1} s | {:.3} | {} | {} | {} | {} | {requests} | {:.2} |",
            elapsed / floor,
            count("deleted"),
            count("already_gone"),
            count("failed"),
            fake.archived_process_ids().len(),
            requests as f64 / n as f64,
        );
    }
    println!();
}

async fn unthrottled() {
    const N: usize = 4_000;
    println!("## 3. Purge unthrottled: {N} archived processes\n");
    println!("| concurrency | wall time | deletes/s |\n|---|---|---|");
    for concurrency in [1, 8, 32, 128] {
        let (fake, ids) = fake_with_archived(N, Faults::default()).await;
        // Keep exactly N archived: restore the rest so that the purge meets N.
        let client = Target::of(&fake).sdk_client();
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
    let client = Target::of(&fake).sdk_client();
    let ids = (0..n).map(|i| format!("{i:032x}"));
    let summary = client
        .purge_ids(fake.org_id(), ids)
        .concurrency(32)
        .summary()
        .await
        .unwrap();
    println!("| {n} | {:.1} MiB | {} |", peak_rss_mib(), summary.total());
}

/// Counts the instructions of `n` sequential deletes in a child process run by
/// callgrind, for each client and two sizes: the difference per request leaves out
/// start-up, listing and connecting. The fake runs here, outside the count.
async fn instructions() {
    const SIZES: [usize; 2] = [500, 1_500];
    println!("## 5. Instructions per request, sequential, counted by callgrind\n");
    let valgrind = std::process::Command::new("valgrind")
        .arg("--version")
        .output();
    if !valgrind.is_ok_and(|out| out.status.success()) {
        println!("Skipped: valgrind is not installed.\n");
        return;
    }
    let (fake, ids) = fake_with_archived(2 * SIZES.iter().sum::<usize>(), Faults::default()).await;
    let target = Target::of(&fake);
    let dir = std::env::temp_dir().join(format!("tallyfy-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ids = ids.into_iter();
    let mut per_request = Vec::new();
    for client in ["bare", "sdk"] {
        let mut counts = Vec::new();
        for n in SIZES {
            let file = dir.join(format!("{client}-{n}.ids"));
            std::fs::write(&file, ids.by_ref().take(n).collect::<Vec<_>>().join("\n")).unwrap();
            // Set TALLYFY_BENCH_PROFILES to a directory to keep the profiles there
            // (`callgrind_annotate` reads them).
            let profile = match std::env::var_os("TALLYFY_BENCH_PROFILES") {
                Some(keep) => std::path::PathBuf::from(keep).join(format!("{client}-{n}.out")),
                None => "/dev/null".into(),
            };
            let child = tokio::process::Command::new("valgrind")
                .arg("--tool=callgrind")
                .arg(format!("--callgrind-out-file={}", profile.display()))
                .arg(std::env::current_exe().unwrap())
                .args([
                    "--instructions-child",
                    client,
                    &target.base,
                    &target.org,
                    &target.token,
                ])
                .arg(&file)
                .output()
                .await
                .unwrap();
            let log = String::from_utf8_lossy(&child.stderr);
            let collected = log
                .lines()
                .find_map(|l| l.split("Collected : ").nth(1))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or_else(|| panic!("no instruction count from callgrind:\n{log}"));
            counts.push(collected);
        }
        per_request.push((counts[1] - counts[0]) as f64 / (SIZES[1] - SIZES[0]) as f64);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let (bare, sdk) = (per_request[0], per_request[1]);
    println!(
        "| bare reqwest (instructions/req) | SDK (instructions/req) | SDK added | SDK / bare |"
    );
    println!("|---|---|---|---|");
    println!(
        "| {bare:.0} | {sdk:.0} | {:.0} | {:.3} |\n",
        sdk - bare,
        sdk / bare
    );
}

/// One child of [`instructions`]: deletes the IDs in a file, one at a time, on a
/// single-threaded runtime (so that idle worker threads add nothing to the count).
fn instructions_child(args: &[String]) {
    let [client, base, org, token, file] = args else {
        panic!("--instructions-child CLIENT BASE ORG TOKEN FILE");
    };
    let target = Target {
        base: base.clone(),
        org: org.clone(),
        token: token.clone(),
    };
    let ids: Vec<String> = std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        match client.as_str() {
            "sdk" => delete_all_sdk(&target.sdk_client(), org, &ids, 1).await,
            _ => delete_all_bare(&bare_client(), &target, &ids, 1).await,
        };
    });
}

/// The process's peak resident set, in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Uploads a small and a large file to the fake and downloads each back, every
/// transfer in a child process that reports its peak RSS.
async fn files() {
    const MIB: u64 = 1 << 20;
    println!("## 7. Files: peak RSS of one transfer (each in its own process)\n");
    let fake = FakeServer::builder()
        .processes(10)
        .upload_limit(256 * MIB)
        .start()
        .await
        .unwrap();
    let target = Target::of(&fake);
    let run = fake.process_ids().into_iter().next().unwrap();
    let dir = std::env::temp_dir().join(format!("tallyfy-bench-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let child = |args: &[&str]| {
        let exe = std::env::current_exe().unwrap();
        let mut all = vec!["--transfer-child", &target.base, &target.token, &target.org];
        all.extend_from_slice(args);
        let args: Vec<String> = all.iter().map(|a| a.to_string()).collect();
        async move {
            let output = tokio::process::Command::new(exe)
                .args(args)
                .output()
                .await
                .unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8_lossy(&output.stdout).trim().to_owned()
        }
    };
    println!("| transfer | file | bytes | peak RSS | peak RSS minus the 1 MiB transfer's |");
    println!("|---|---|---|---|---|");
    let mut small = [0.0f64; 2];
    for (n, size) in [MIB, 200 * MIB].into_iter().enumerate() {
        let name = format!("{}.zip", size / MIB);
        let path = dir.join(&name);
        write_file(&path, size);
        // upload: prints "<peak MiB> <asset id>"
        let line = child(&["upload", path.to_str().unwrap(), &run]).await;
        let (peak, asset) = line.split_once(' ').unwrap();
        let peak: f64 = peak.parse().unwrap();
        let back = dir.join(format!("back-{name}"));
        let down: f64 = child(&["download", asset, back.to_str().unwrap()])
            .await
            .parse()
            .unwrap();
        assert_eq!(std::fs::metadata(&back).unwrap().len(), size);
        for (i, (what, rss)) in [("upload", peak), ("download", down)]
            .into_iter()
            .enumerate()
        {
            if n == 0 {
                small[i] = rss;
            }
            println!(
                "| {what} | {} MiB | {size} | {rss:.1} MiB | {:+.1} MiB |",
                size / MIB,
                rss - small[i]
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!();
}

/// A file of `size` bytes, written a MiB at a time.
fn write_file(path: &std::path::Path, size: u64) {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let chunk: Vec<u8> = (0..1usize << 20).map(|i| (i % 251) as u8).collect();
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    file.flush().unwrap();
}

/// One transfer: `BASE TOKEN ORG upload PATH RUN_ID` (prints the peak RSS and the
/// asset) or `BASE TOKEN ORG download FILE_ID PATH` (prints the peak RSS).
async fn transfer_child(args: &[String]) {
    use tallyfy::Save;
    use tallyfy::types::{UploadFile, UploadFileSubjectType};
    let [base, token, org, what, a, b] = args else {
        panic!("transfer child arguments: {args:?}")
    };
    let client = Client::builder(token.as_str())
        .base_url(base)
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    match what.as_str() {
        "upload" => {
            let form = UploadFile::builder()
                .name(tallyfy::LocalFile::from(a.as_str()))
                .subject_id(b.clone())
                .subject_type(UploadFileSubjectType::Run)
                .uploaded_from("bench");
            let asset = client
                .upload_file()
                .org_id(org)
                .body(form)
                .execute()
                .await
                .unwrap();
            println!("{:.1} {}", peak_rss_mib(), asset.data.id);
        }
        _ => {
            client
                .download_file()
                .org_id(org)
                .file_id(a)
                .save()
                .to_file(b)
                .await
                .unwrap();
            println!("{:.1}", peak_rss_mib());
        }
    }
}
